//! Tokens bound to one node and consumed on use: the label that binds a token to a node name,
//! the extra group that keeps kubeadm's auto-approval away from it, the join counter kept in
//! annotations, and [`consume`], which the CSR approver calls after approving a client
//! certificate made with such a token (count one join; delete the token when the last allowed
//! join is used).
//!
//! Why annotations and optimistic concurrency: several approvers may run (replicas, a manual
//! `approve` next to a `--watch` one). Each increment is a merge patch carrying the
//! resourceVersion it read, so two approvers can never both count the same value; the loser
//! re-reads and tries again. The delete carries the UID, so a token re-created under the same
//! id is never removed. If an approver dies between counting the last join and deleting,
//! `prune --consumed` removes what it left ([`Binding::consumed`]).
//!
//! Everything read back from a Secret is treated as hostile: an unreadable max is taken as 1,
//! an unreadable count as "used up" — a garbled binding can only make a token less usable.

use std::collections::BTreeMap;

use crate::store::{Cas, Deleted, TokenStore};
use crate::token::{TokenId, TokenSpec};
use crate::{Error, Result};

/// Label binding a token to a node name: a client CSR made with the token is approved only for
/// `CN=system:node:<name>` (checked by `approve`).
pub const NODE_LABEL: &str = "jointoken.kubectl.io/node";
/// Annotation: how many joins (approved client CSRs) the token allows.
pub const MAX_JOINS: &str = "jointoken.kubectl.io/max-joins";
/// Annotation: how many joins were approved so far (absent = 0).
pub const JOINS: &str = "jointoken.kubectl.io/joins";
/// The extra group of bound tokens, instead of kubeadm's default-node-token group: kubeadm's
/// `kubeadm:node-autoapprove-bootstrap` binding names that group, so a bound token's CSR is
/// left to `approve`, which checks the binding.
pub const NODE_GROUP: &str = "system:bootstrappers:jointoken:node";
/// Default TTL of a bound token (`create --for-node`, `deliver`): it is for one imminent join.
pub const DEFAULT_TTL: std::time::Duration = std::time::Duration::from_secs(3600);
/// How many times [`consume`] re-reads after losing a race before giving up.
const ATTEMPTS: usize = 8;

/// Checks a node name for a binding: a DNS-1123 subdomain (what the apiserver accepts as a Node
/// name) that also fits a label value (at most 63 characters), since the binding is a label.
pub fn validate_node_name(name: &str) -> std::result::Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() > 63 {
        return Err(format!(
            "node name {:?}… is longer than 63 characters, the most a label value (the binding) \
             can hold: use a shorter node name",
            &name[..name.char_indices().nth(20).map_or(name.len(), |(i, _)| i)]
        ));
    }
    if name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!(
            "invalid node name {name:?}: use lowercase letters, digits, '-' and '.' (a DNS-1123 \
             subdomain), starting and ending alphanumeric"
        ))
    }
}

/// Node names from a file, one per line; blank lines and `#` comments are skipped. Every name
/// is validated; the first bad line is named.
pub fn parse_node_list(text: &str, source: &str) -> std::result::Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let name = line.trim();
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        validate_node_name(name).map_err(|e| format!("{source} line {}: {e}", n + 1))?;
        out.push(name.to_string());
    }
    Ok(out)
}

/// Makes `spec` a token bound to `node`: the binding label, and the node group in place of
/// kubeadm's default group (whose auto-approval would bypass the binding). Other extra groups
/// are kept.
pub fn bind(spec: &mut TokenSpec, node: &str) {
    spec.groups
        .retain(|g| g != crate::token::DEFAULT_GROUP && g != NODE_GROUP);
    spec.groups.insert(0, NODE_GROUP.to_string());
    spec.labels.insert(NODE_LABEL.to_string(), node.to_string());
}

/// The annotations a new bound token starts with.
pub fn initial_annotations(max_joins: u32) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MAX_JOINS.to_string(), max_joins.to_string()),
        (JOINS.to_string(), "0".to_string()),
    ])
}

/// A token's binding as read back from its Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The node it is bound to.
    pub node: String,
    /// Joins allowed (≥ 1).
    pub max: u32,
    /// Joins approved so far.
    pub joins: u32,
}

impl Binding {
    /// The binding of a Secret with these labels and annotations; `None` when it is not bound.
    /// Hostile values fail safe: an unreadable max counts as 1, an unreadable count as used up.
    pub fn from_meta(
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> Option<Binding> {
        let node = labels.get(NODE_LABEL)?.clone();
        let max = annotations
            .get(MAX_JOINS)
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|m| *m >= 1)
            .unwrap_or(1);
        let joins = match annotations.get(JOINS) {
            None => 0,
            Some(v) => v.parse::<u32>().unwrap_or(max),
        };
        Some(Binding { node, max, joins })
    }

    /// Whether every allowed join was used (what `prune --consumed` deletes).
    pub fn consumed(&self) -> bool {
        self.joins >= self.max
    }

    /// `used/max`, as `list` shows it.
    pub fn usage(&self) -> String {
        format!("{}/{}", self.joins, self.max)
    }

    /// What one more approved join does.
    pub fn step(&self) -> Step {
        if self.consumed() {
            // Counted up already (an approver died before deleting): only the delete is left.
            Step::Delete
        } else if self.joins + 1 >= self.max {
            Step::CountAndDelete(self.joins + 1)
        } else {
            Step::Count(self.joins + 1)
        }
    }
}

/// The next write of [`consume`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Store this count; joins remain.
    Count(u32),
    /// Store this count (the last allowed join), then delete the token.
    CountAndDelete(u32),
    /// Already used up: delete.
    Delete,
}

/// What [`consume`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consumed {
    /// Counted; the token stays for `max - joins` more joins.
    Counted {
        /// Joins now used.
        joins: u32,
        /// Joins allowed.
        max: u32,
    },
    /// The last allowed join was counted and the token deleted (it authenticates no more).
    Deleted {
        /// Joins used.
        joins: u32,
    },
    /// The token carries no binding: nothing to count.
    NotBound,
    /// The token does not exist (any more).
    Gone,
}

/// Counts one approved join on the bound token `id`, and deletes the token (UID precondition)
/// once its count reaches its max. Called by the CSR approver after approving a client CSR
/// requested by `system:bootstrap:<id>`. Safe against concurrent callers: the count is written
/// with the resourceVersion it was read at, and a lost race is re-read and retried.
pub async fn consume(store: &TokenStore, id: &TokenId) -> Result<Consumed> {
    for _ in 0..ATTEMPTS {
        let Some(s) = store.get(id).await? else {
            return Ok(Consumed::Gone);
        };
        let Some(b) = Binding::from_meta(&s.record.labels, &s.annotations) else {
            return Ok(Consumed::NotBound);
        };
        let (Some(uid), Some(rv)) = (s.record.uid.as_deref(), s.resource_version.as_deref()) else {
            return Err(Error::runtime(format!(
                "bootstrap token {id} has no UID or resourceVersion to guard the count"
            )));
        };
        let joins = match b.step() {
            Step::Delete => b.joins,
            Step::Count(n) | Step::CountAndDelete(n) => {
                let counted = BTreeMap::from([(JOINS.to_string(), n.to_string())]);
                match store.annotate_at(id, uid, rv, &counted).await? {
                    Cas::Applied => n,
                    // Someone else wrote in between (or the token was replaced): read again.
                    Cas::Conflict => continue,
                    Cas::Gone => return Ok(Consumed::Gone),
                }
            }
        };
        if joins < b.max {
            return Ok(Consumed::Counted { joins, max: b.max });
        }
        return match store.delete(id, uid, crate::cli::DryRun::None).await? {
            Deleted::Yes | Deleted::Gone => Ok(Consumed::Deleted { joins }),
            // A new token took the name after our count: ours is gone, which is the point.
            Deleted::Replaced => Ok(Consumed::Deleted { joins }),
        };
    }
    Err(Error::runtime(format!(
        "bootstrap token {id} kept changing while its join was counted ({ATTEMPTS} attempts): \
         run `kubectl jointoken prune --consumed` if it is used up"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn node_names() {
        for ok in [
            "node-a",
            "ip-10-0-0-1.ec2.internal",
            "i-0123456789abcdef0",
            "a",
        ] {
            assert_eq!(validate_node_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "Node-A", "-a", "a-", "a..b", "a_b", "a b", "a;reboot", ".a", "a.",
        ] {
            assert!(validate_node_name(bad).is_err(), "{bad:?}");
        }
        let long = "a".repeat(64);
        let e = validate_node_name(&long).unwrap_err();
        assert!(e.contains("longer than 63"), "{e}");
    }

    #[test]
    fn node_lists_skip_blanks_and_comments_and_name_the_bad_line() {
        let got = parse_node_list("# nodes\nnode-a\n\n  node-b  \n", "f").unwrap();
        assert_eq!(got, ["node-a", "node-b"]);
        let e = parse_node_list("node-a\nBAD\n", "nodes.txt").unwrap_err();
        assert!(e.starts_with("nodes.txt line 2: invalid node name"), "{e}");
    }

    #[test]
    fn binding_replaces_the_auto_approved_group() {
        let mut spec = TokenSpec {
            token: "abcdef.0123456789abcdef".parse().unwrap(),
            fresh: false,
            description: None,
            expires: None,
            usages: vec!["signing".into(), "authentication".into()],
            groups: vec![
                crate::token::DEFAULT_GROUP.into(),
                "system:bootstrappers:extra".into(),
            ],
            labels: BTreeMap::new(),
        };
        bind(&mut spec, "node-a");
        assert_eq!(spec.groups, [NODE_GROUP, "system:bootstrappers:extra"]);
        assert_eq!(spec.labels[NODE_LABEL], "node-a");
        assert!(spec.validate().is_ok());
    }

    #[test]
    fn reading_a_binding_fails_safe() {
        let labels = meta(&[(NODE_LABEL, "node-a")]);
        assert_eq!(Binding::from_meta(&meta(&[]), &meta(&[])), None);
        let b = |ann: &[(&str, &str)]| Binding::from_meta(&labels, &meta(ann)).unwrap();
        assert_eq!(
            b(&[]),
            Binding {
                node: "node-a".into(),
                max: 1,
                joins: 0
            }
        );
        assert_eq!(b(&[(MAX_JOINS, "3"), (JOINS, "1")]).usage(), "1/3");
        // Garbage max: the most restrictive reading.
        assert_eq!(b(&[(MAX_JOINS, "lots")]).max, 1);
        assert_eq!(b(&[(MAX_JOINS, "0")]).max, 1);
        assert_eq!(b(&[(MAX_JOINS, "-5")]).max, 1);
        // Garbage count: used up.
        assert!(b(&[(MAX_JOINS, "3"), (JOINS, "x")]).consumed());
        assert!(b(&[(MAX_JOINS, "3"), (JOINS, "3")]).consumed());
        assert!(!b(&[(MAX_JOINS, "3"), (JOINS, "2")]).consumed());
    }

    #[test]
    fn steps() {
        let b = |joins, max| Binding {
            node: "n".into(),
            max,
            joins,
        };
        assert_eq!(b(0, 1).step(), Step::CountAndDelete(1));
        assert_eq!(b(0, 3).step(), Step::Count(1));
        assert_eq!(b(1, 3).step(), Step::Count(2));
        assert_eq!(b(2, 3).step(), Step::CountAndDelete(3));
        assert_eq!(b(3, 3).step(), Step::Delete);
        assert_eq!(b(7, 3).step(), Step::Delete);
        assert_eq!(
            b(u32::MAX - 1, u32::MAX).step(),
            Step::CountAndDelete(u32::MAX)
        );
    }

    #[test]
    fn initial_annotations_read_back_unused() {
        let b = Binding::from_meta(&meta(&[(NODE_LABEL, "n")]), &initial_annotations(2)).unwrap();
        assert_eq!((b.joins, b.max), (0, 2));
    }
}
