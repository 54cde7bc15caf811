//! Which bootstrap tokens a prune removes, as a pure function of the tokens, what they own and
//! a fixed clock, so the rules are tested without a cluster.
//!
//! Rules: only tokens in scope (ids named on the command line, description prefix; label
//! selectors are applied by the LIST) are considered. A named token always matches and may be
//! never-expiring: naming it is the operator's explicit choice, as with `kubeadm token delete`. A token *matches* when it is expired, or older than `--older-than`, or
//! when `--keep` is given alone (then every token in scope competes for the N places). With
//! both, `--keep N --older-than X` means "among those older than X (or expired), keep the
//! newest N": younger tokens are not touched. Tokens that
//! never expire are kept unless `--include-never-expiring`. Of the matches, the newest `keep`
//! stay. A token that owns other objects (their ownerReferences point at it, like kubeadm's
//! `kubeadm-certs` Secret) is never deleted without `--force`, because deleting it would
//! garbage-collect them.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::token::{Expiry, TokenRecord};

/// The description kubeadm gives the token that owns the `kubeadm-certs` Secret.
pub const KUBEADM_CERTS_PROXY: &str = "Proxy for managing TTL for the kubeadm-certs secret";

/// What to prune.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The clock.
    pub now: Timestamp,
    /// Also match tokens created longer ago than this.
    pub older_than: Option<SignedDuration>,
    /// Keep the newest N matches.
    pub keep: Option<usize>,
    /// Only tokens whose description starts with this.
    pub description_prefix: Option<String>,
    /// Allow deleting tokens without an expiration.
    pub include_never_expiring: bool,
    /// Allow deleting tokens that own other objects.
    pub force: bool,
    /// Tokens named on the command line: only these are in scope, and each matches whatever
    /// its expiry or age (the operator chose it), but ownership protection still applies.
    pub ids: Option<std::collections::BTreeSet<String>>,
}

/// A token and the objects that name it as owner.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The token.
    pub record: TokenRecord,
    /// `Kind namespace/name` of each dependent.
    pub dependents: Vec<String>,
}

/// The verdict on one matched token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Delete it.
    Delete,
    /// Keep it, for the reason given.
    Keep,
}

/// One line of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    /// Index into the candidates.
    #[serde(skip)]
    pub index: usize,
    /// Delete or keep.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
}

/// Decides, for every candidate that matches, whether to delete or keep it. Candidates that do
/// not match are left out of the plan.
pub fn plan(cands: &[Candidate], p: &Policy) -> Vec<Decision> {
    let mut matched: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for (i, c) in cands.iter().enumerate() {
        let r = &c.record;
        if let Some(prefix) = &p.description_prefix
            && !r
                .description
                .as_deref()
                .unwrap_or("")
                .starts_with(prefix.as_str())
        {
            continue;
        }
        let named = match &p.ids {
            Some(ids) => {
                if !r.id.as_ref().is_some_and(|t| ids.contains(t.as_str())) {
                    continue;
                }
                true
            }
            None => false,
        };
        let expired = r.expires.is_expired(p.now);
        let old = match (p.older_than, r.created) {
            (Some(age), Some(created)) => p.now.duration_since(created) >= age,
            _ => false,
        };
        let keep_scope = p.keep.is_some() && p.older_than.is_none();
        if !(named || expired || old || keep_scope) {
            continue;
        }
        if r.expires == Expiry::Never && !p.include_never_expiring && !named {
            out.push(Decision {
                index: i,
                verdict: Verdict::Keep,
                reason: "never expires (pass --include-never-expiring to prune it)".into(),
            });
            continue;
        }
        let reason = if named {
            "named on the command line".into()
        } else if expired {
            match &r.expires {
                Expiry::At(t) => format!("expired at {}", crate::token::format_expiration(*t)),
                _ => "expiration unparseable (treated as expired)".into(),
            }
        } else if old {
            "older than --older-than".into()
        } else {
            "beyond the newest --keep".into()
        };
        matched.push((i, reason));
    }
    // Newest first, so the first `keep` matches survive.
    matched.sort_by(|a, b| cands[b.0].record.created.cmp(&cands[a.0].record.created));
    for (rank, (i, reason)) in matched.into_iter().enumerate() {
        let r = &cands[i].record;
        let protected_by_description = r.description.as_deref() == Some(KUBEADM_CERTS_PROXY);
        let (verdict, reason) = if p.keep.is_some_and(|k| rank < k) {
            (
                Verdict::Keep,
                format!("among the newest {}", p.keep.unwrap_or(0)),
            )
        } else if (!cands[i].dependents.is_empty() || protected_by_description) && !p.force {
            let what = if cands[i].dependents.is_empty() {
                "the kubeadm-certs Secret".to_string()
            } else {
                cands[i].dependents.join(", ")
            };
            (
                Verdict::Keep,
                format!("owns {what} (deleting it would garbage-collect them; --force overrides)"),
            )
        } else {
            (Verdict::Delete, reason)
        };
        out.push(Decision {
            index: i,
            verdict,
            reason,
        });
    }
    out.sort_by_key(|d| d.index);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenId;
    use std::collections::BTreeMap;

    fn now() -> Timestamp {
        "2026-11-23T12:00:00Z".parse().unwrap()
    }

    fn rec(id: &str, created_h_ago: i64, expires: Expiry, desc: Option<&str>) -> Candidate {
        Candidate {
            record: TokenRecord {
                name: format!("bootstrap-token-{id}"),
                uid: Some(format!("uid-{id}")),
                id: Some(TokenId::parse(id).unwrap()),
                token: None,
                expires,
                usages: vec![],
                groups: vec![],
                description: desc.map(String::from),
                created: Some(now() - SignedDuration::from_hours(created_h_ago)),
                labels: BTreeMap::new(),
                problems: vec![],
            },
            dependents: vec![],
        }
    }

    fn at(h: i64) -> Expiry {
        Expiry::At(now() + SignedDuration::from_hours(h))
    }

    fn policy() -> Policy {
        Policy {
            now: now(),
            older_than: None,
            keep: None,
            description_prefix: None,
            include_never_expiring: false,
            force: false,
            ids: None,
        }
    }

    fn verdicts(c: &[Candidate], p: &Policy) -> Vec<(String, Verdict)> {
        plan(c, p)
            .into_iter()
            .map(|d| (c[d.index].record.id.clone().unwrap().to_string(), d.verdict))
            .collect()
    }

    #[test]
    fn default_deletes_only_expired() {
        let c = vec![
            rec("aaaaaa", 30, at(-6), None),
            rec("bbbbbb", 1, at(23), None),
            rec("cccccc", 100, Expiry::Never, None),
            rec("dddddd", 30, Expiry::Unparseable("x".into()), None),
        ];
        assert_eq!(
            verdicts(&c, &policy()),
            vec![
                ("aaaaaa".into(), Verdict::Delete),
                ("dddddd".into(), Verdict::Delete)
            ]
        );
    }

    #[test]
    fn never_expiring_kept_unless_included() {
        let c = vec![rec("cccccc", 100, Expiry::Never, None)];
        let mut p = policy();
        p.older_than = Some(SignedDuration::from_hours(48));
        assert_eq!(verdicts(&c, &p), vec![("cccccc".into(), Verdict::Keep)]);
        p.include_never_expiring = true;
        assert_eq!(verdicts(&c, &p), vec![("cccccc".into(), Verdict::Delete)]);
    }

    #[test]
    fn owner_referenced_tokens_need_force() {
        let mut owner = rec("eeeeee", 30, at(-1), None);
        owner.dependents = vec!["Secret kube-system/kubeadm-certs".into()];
        let proxy = rec("ffffff", 30, at(-1), Some(KUBEADM_CERTS_PROXY));
        let c = vec![owner, proxy];
        let d = plan(&c, &policy());
        assert!(d.iter().all(|d| d.verdict == Verdict::Keep));
        assert!(d[0].reason.contains("kubeadm-certs"));
        let mut p = policy();
        p.force = true;
        assert!(plan(&c, &p).iter().all(|d| d.verdict == Verdict::Delete));
    }

    #[test]
    fn named_tokens_match_whatever_their_expiry_but_ownership_still_protects() {
        let mut owner = rec("eeeeee", 30, at(5), None);
        owner.dependents = vec!["Secret kube-system/kubeadm-certs".into()];
        let c = vec![
            rec("aaaaaa", 1, at(23), None),
            rec("bbbbbb", 100, Expiry::Never, None),
            rec("cccccc", 30, at(-6), None),
            owner,
        ];
        let mut p = policy();
        p.ids = Some(["aaaaaa", "bbbbbb", "eeeeee"].map(String::from).into());
        let d = plan(&c, &p);
        assert_eq!(
            verdicts(&c, &p),
            vec![
                ("aaaaaa".into(), Verdict::Delete),
                ("bbbbbb".into(), Verdict::Delete),
                ("eeeeee".into(), Verdict::Keep),
            ],
            "the expired but unnamed cccccc is out of scope"
        );
        assert_eq!(d[0].reason, "named on the command line");
        p.force = true;
        assert!(plan(&c, &p).iter().all(|d| d.verdict == Verdict::Delete));
    }

    #[test]
    fn keep_n_keeps_the_newest_in_scope() {
        let c = vec![
            rec("aaaaaa", 20, at(4), Some("rotate: x")),
            rec("bbbbbb", 12, at(12), Some("rotate: x")),
            rec("cccccc", 4, at(20), Some("rotate: x")),
            rec("dddddd", 1, at(23), Some("other")),
        ];
        let mut p = policy();
        p.keep = Some(2);
        p.description_prefix = Some("rotate:".into());
        assert_eq!(
            verdicts(&c, &p),
            vec![
                ("aaaaaa".into(), Verdict::Delete),
                ("bbbbbb".into(), Verdict::Keep),
                ("cccccc".into(), Verdict::Keep),
            ]
        );
    }

    #[test]
    fn older_than_matches_valid_tokens_by_creation_time() {
        let c = vec![
            rec("aaaaaa", 50, at(10), None),
            rec("bbbbbb", 10, at(10), None),
        ];
        let mut p = policy();
        p.older_than = Some(SignedDuration::from_hours(48));
        assert_eq!(verdicts(&c, &p), vec![("aaaaaa".into(), Verdict::Delete)]);
    }

    /// docs/workflows: "`prune --older-than 36h --keep 1`: among the tokens older than 36 hours,
    /// keep the newest one". Tokens younger than 36 h are not even considered.
    #[test]
    fn keep_with_older_than_keeps_the_newest_among_the_old_ones() {
        let c = vec![
            rec("aaaaaa", 1, at(23), None),
            rec("bbbbbb", 48, at(100), None),
            rec("cccccc", 72, at(100), None),
            rec("dddddd", 96, at(100), None),
        ];
        let mut p = policy();
        p.older_than = Some(SignedDuration::from_hours(36));
        p.keep = Some(1);
        let d = plan(&c, &p);
        let v = |i: usize| d.iter().find(|x| x.index == i).map(|x| x.verdict.clone());
        assert_eq!(
            v(0),
            None,
            "a token seconds old is never listed for deletion"
        );
        assert_eq!(v(1), Some(Verdict::Keep));
        assert_eq!(v(2), Some(Verdict::Delete));
        assert_eq!(v(3), Some(Verdict::Delete));
        // --keep alone still makes every token compete.
        p.older_than = None;
        let d = plan(&c, &p);
        assert_eq!(d.iter().filter(|x| x.verdict == Verdict::Delete).count(), 3);
    }
}
