//! What a rotation does, as pure functions of the managed tokens and a fixed clock: whether a
//! published token with enough validity left already exists (then the run is a no-op), and
//! which older managed tokens a new one supersedes. Only tokens rotation created (by label)
//! are ever considered.

use jiff::{SignedDuration, Timestamp};

use crate::token::{Expiry, TokenRecord};

/// Label on every token rotation creates, valued with the rotation's instance name (several
/// rotations, e.g. per publish target, can coexist); prune and reuse look only at these.
pub const MANAGED_LABEL: &str = "jointoken.kubectl.io/rotation";
/// Annotation set once every sink holds the token.
pub const PUBLISHED_ANNOTATION: &str = "jointoken.kubectl.io/published-at";

/// A managed token and whether it was published.
#[derive(Clone, Debug)]
pub struct Managed {
    /// The token.
    pub record: TokenRecord,
    /// Published to every sink (the annotation is set).
    pub published: bool,
}

fn remaining(r: &TokenRecord, now: Timestamp) -> Option<SignedDuration> {
    match r.expires {
        Expiry::Never => Some(SignedDuration::MAX),
        Expiry::At(t) => Some(t.duration_since(now)),
        Expiry::Unparseable(_) => None,
    }
}

/// The published, valid token with the most validity left, if it has at least `min_remaining`.
pub fn current(
    tokens: &[Managed],
    now: Timestamp,
    min_remaining: SignedDuration,
) -> Option<&Managed> {
    tokens
        .iter()
        .filter(|m| m.published && m.record.token.is_some() && m.record.problems.is_empty())
        .filter_map(|m| remaining(&m.record, now).map(|r| (r, m)))
        .filter(|(r, _)| *r >= min_remaining)
        .max_by_key(|(r, _)| *r)
        .map(|(_, m)| m)
}

/// What one rotation run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The managed token at this index is published with enough validity left: nothing to do.
    Keep(usize),
    /// Create, publish, then prune what the new token supersedes.
    Rotate,
}

/// The plan for a run at `now` (see [`current`]).
pub fn plan(tokens: &[Managed], now: Timestamp, min_remaining: SignedDuration) -> Plan {
    match current(tokens, now, min_remaining) {
        Some(m) => Plan::Keep(
            tokens
                .iter()
                .position(|t| std::ptr::eq(t, m))
                .expect("current returns an element of tokens"),
        ),
        None => Plan::Rotate,
    }
}

/// Indices of the managed tokens superseded by the new token `new_name`: all others except the
/// newest `keep_previous` published, unexpired ones (nodes that fetched them moments ago can
/// still join), and except any token created at or after `started` (the second this run
/// began): a concurrent run's token is never pruned by this one.
pub fn superseded(
    tokens: &[Managed],
    new_name: &str,
    keep_previous: usize,
    now: Timestamp,
    started: Timestamp,
) -> Vec<usize> {
    let start_second = started.as_second();
    let mut others: Vec<usize> = (0..tokens.len())
        .filter(|&i| tokens[i].record.name != new_name)
        .filter(|&i| {
            tokens[i]
                .record
                .created
                .is_some_and(|c| c.as_second() < start_second)
        })
        .collect();
    others.sort_by(|&a, &b| tokens[b].record.created.cmp(&tokens[a].record.created));
    let mut kept = 0;
    others
        .into_iter()
        .filter(|&i| {
            let m = &tokens[i];
            let usable = m.published && !m.record.expires.is_expired(now);
            if usable && kept < keep_previous {
                kept += 1;
                false
            } else {
                true
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{DEFAULT_GROUP, TokenSpec};
    use std::collections::BTreeMap;

    fn now() -> Timestamp {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    fn managed(tok: &str, created_h_ago: i64, expires_in_h: i64, published: bool) -> Managed {
        let mut s = TokenSpec {
            token: tok.parse().unwrap(),
            fresh: false,
            description: None,
            expires: Some(now() + SignedDuration::from_hours(expires_in_h)),
            usages: vec!["signing".into(), "authentication".into()],
            groups: vec![DEFAULT_GROUP.into()],
            labels: BTreeMap::new(),
        }
        .to_secret();
        s.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            now() - SignedDuration::from_hours(created_h_ago),
        ));
        Managed {
            record: TokenRecord::from_secret(&s),
            published,
        }
    }

    #[test]
    fn a_fresh_published_token_makes_the_run_a_no_op() {
        let t = vec![managed("aaaaaa.0123456789abcdef", 1, 23, true)];
        let min = SignedDuration::from_hours(17);
        assert_eq!(
            current(&t, now(), min).unwrap().record.name,
            "bootstrap-token-aaaaaa"
        );
        // Eight hours later it has 15h left: time to rotate.
        let later = now() + SignedDuration::from_hours(8);
        assert!(current(&t, later, min).is_none());
    }

    #[test]
    fn unpublished_tokens_do_not_count() {
        let t = vec![managed("aaaaaa.0123456789abcdef", 1, 23, false)];
        assert!(current(&t, now(), SignedDuration::from_hours(1)).is_none());
    }

    #[test]
    fn supersede_keeps_the_newest_previous() {
        let t = vec![
            managed("aaaaaa.0123456789abcdef", 16, 8, true),
            managed("bbbbbb.0123456789abcdef", 8, 16, true),
            managed("cccccc.0123456789abcdef", 0, 24, true),
            managed("dddddd.0123456789abcdef", 30, -6, true),
            managed("eeeeee.0123456789abcdef", 4, 20, false),
        ];
        // The run started a minute ago (ccc is its own new token).
        let started = now() - SignedDuration::from_mins(1);
        let mut s = superseded(&t, "bootstrap-token-cccccc", 1, now(), started);
        s.sort();
        // bbbbbb stays as the overlap; the older, expired and unpublished ones go.
        assert_eq!(s, vec![0, 3, 4]);
        assert_eq!(
            superseded(&t, "bootstrap-token-cccccc", 0, now(), started).len(),
            4
        );
    }

    #[test]
    fn a_token_newer_than_the_run_is_never_pruned() {
        // A concurrent run created ffffff after this run started (its publish may be in
        // flight): this run's prune must leave it alone even with keep_previous = 0.
        let t = vec![
            managed("aaaaaa.0123456789abcdef", 16, 8, true),
            managed("ffffff.0123456789abcdef", 0, 24, false),
            managed("cccccc.0123456789abcdef", 0, 24, true),
        ];
        let started = now() - SignedDuration::from_hours(1);
        assert_eq!(
            superseded(&t, "bootstrap-token-cccccc", 0, now(), started),
            vec![0]
        );
    }

    #[test]
    fn the_plan_follows_the_fixed_clock() {
        let t = vec![
            managed("aaaaaa.0123456789abcdef", 9, 15, true),
            managed("bbbbbb.0123456789abcdef", 1, 23, true),
        ];
        let min = SignedDuration::from_hours(17);
        assert_eq!(plan(&t, now(), min), Plan::Keep(1));
        assert_eq!(
            plan(&t, now() + SignedDuration::from_hours(7), min),
            Plan::Rotate
        );
        assert_eq!(plan(&[], now(), min), Plan::Rotate);
        let unpublished = vec![managed("aaaaaa.0123456789abcdef", 0, 24, false)];
        assert_eq!(plan(&unpublished, now(), min), Plan::Rotate);
    }
}
