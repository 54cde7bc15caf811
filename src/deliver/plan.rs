//! What one delivery pass does, as a pure function of what the provider reports (the group's
//! instances and their tags), the tokens earlier passes made, the Nodes that exist and a
//! fixed clock — so every rule is unit-tested without a cloud or a cluster.
//!
//! Per instance in the group:
//! - its node name is unusable (missing, not a DNS-1123 name of ≤ 63 characters): skip it;
//! - a Node of that name exists: it has joined, nothing to deliver;
//! - a live token of ours is bound to it (unexpired, joins left): if its tag holds exactly that
//!   token's record, nothing to do; if the tag is gone, the node has fetched it and is joining
//!   (nothing to do); any other tag value is replaced by the live token's record;
//! - otherwise: a new bound token, written to its tag.
//!
//! Tokens of ours that are dead (expired, used up) or whose instance left the group are
//! deleted, as are extra live tokens of one instance (the newest stays). A pass over a group
//! where everything is in place plans no write at all.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use crate::token::{Token, TokenId};

/// An instance of the group, as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Provider id (`i-0123…`).
    pub id: String,
    /// The node name it will register as, if the provider could tell one.
    pub node_name: Option<String>,
    /// Our tag's current value, if set.
    pub tag: Option<String>,
}

/// A token an earlier pass made (label `deliver=<name>`), as read back.
#[derive(Clone, Debug)]
pub struct Delivered {
    /// Token id.
    pub id: TokenId,
    /// Secret UID (delete precondition).
    pub uid: String,
    /// The instance it was made for.
    pub instance: String,
    /// The node it is bound to.
    pub node: String,
    /// The token, when its Secret is well-formed.
    pub token: Option<Token>,
    /// Expiry (`None` = never).
    pub expires: Option<Timestamp>,
    /// Whether it is expired, used up or malformed.
    pub dead: bool,
    /// Creation time, to keep the newest of several.
    pub created: Option<Timestamp>,
}

/// One write of a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Make a token bound to `node` and write it to the instance's tag.
    Create {
        /// Instance id.
        instance: String,
        /// Node name.
        node: String,
    },
    /// Write the live token `id` to the instance's tag (its tag holds something else).
    Retag {
        /// Instance id.
        instance: String,
        /// The live token.
        id: TokenId,
    },
    /// Delete a token of ours.
    Delete {
        /// Token id.
        id: TokenId,
        /// Its UID.
        uid: String,
        /// The instance it was for.
        instance: String,
        /// Why.
        reason: &'static str,
    },
}

/// An instance left alone, and why (shown in the report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    /// Instance id.
    pub instance: String,
    /// Node name, when known.
    pub node: Option<String>,
    /// Why nothing is written for it.
    pub reason: String,
}

/// The plan of a pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Writes, in order: deletes first (so a replaced token is gone before its successor).
    pub actions: Vec<Action>,
    /// Instances that need nothing.
    pub skipped: Vec<Skip>,
}

/// Plans a pass. `expected(token)` is the tag value a live token's record encodes to.
pub fn plan(
    instances: &[Instance],
    tokens: &[Delivered],
    nodes: &BTreeSet<String>,
    expected: impl Fn(&Delivered) -> Option<String>,
) -> Plan {
    let mut p = Plan::default();
    let members: BTreeMap<&str, &Instance> = instances.iter().map(|i| (i.id.as_str(), i)).collect();
    // The live token per instance (newest), and everything else of ours to delete.
    let mut live: BTreeMap<&str, &Delivered> = BTreeMap::new();
    let mut by_age: Vec<&Delivered> = tokens.iter().collect();
    by_age.sort_by_key(|t| std::cmp::Reverse(t.created));
    for t in by_age {
        let reason = if !members.contains_key(t.instance.as_str()) {
            Some("its instance left the group")
        } else if t.dead {
            Some("expired or used up")
        } else if live.contains_key(t.instance.as_str()) {
            Some("a newer token is bound to the same instance")
        } else {
            live.insert(&t.instance, t);
            None
        };
        if let Some(reason) = reason {
            p.actions.push(Action::Delete {
                id: t.id.clone(),
                uid: t.uid.clone(),
                instance: t.instance.clone(),
                reason,
            });
        }
    }
    for i in instances {
        let skip = |reason: String| Skip {
            instance: i.id.clone(),
            node: i.node_name.clone(),
            reason,
        };
        let Some(node) = i.node_name.as_deref() else {
            p.skipped
                .push(skip("no usable node name (see --node-name)".into()));
            continue;
        };
        if let Err(e) = crate::binding::validate_node_name(node) {
            p.skipped.push(skip(e));
            continue;
        }
        if nodes.contains(node) {
            p.skipped.push(skip("joined (its Node exists)".into()));
            continue;
        }
        match live.get(i.id.as_str()) {
            Some(t) if t.node != node => {
                // The instance's name changed under us (e.g. --node-name switched): the old
                // binding is useless; replace it.
                p.actions.push(Action::Delete {
                    id: t.id.clone(),
                    uid: t.uid.clone(),
                    instance: i.id.clone(),
                    reason: "bound to another node name",
                });
                p.actions.push(Action::Create {
                    instance: i.id.clone(),
                    node: node.into(),
                });
            }
            Some(t) => match (&i.tag, expected(t)) {
                (None, _) => p.skipped.push(skip(format!(
                    "token {} fetched; waiting for the join",
                    t.id
                ))),
                (Some(have), Some(want)) if *have == want => {
                    p.skipped.push(skip(format!("token {} delivered", t.id)))
                }
                _ => p.actions.push(Action::Retag {
                    instance: i.id.clone(),
                    id: t.id.clone(),
                }),
            },
            None => p.actions.push(Action::Create {
                instance: i.id.clone(),
                node: node.into(),
            }),
        }
    }
    // Deletes first: a delete never depends on a create, and a retag or create never needs a
    // token that is about to go.
    p.actions
        .sort_by_key(|a| !matches!(a, Action::Delete { .. }));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(id: &str, node: Option<&str>, tag: Option<&str>) -> Instance {
        Instance {
            id: id.into(),
            node_name: node.map(String::from),
            tag: tag.map(String::from),
        }
    }

    fn tok(id: &str, instance: &str, node: &str, dead: bool, created: i64) -> Delivered {
        Delivered {
            id: TokenId::parse(id).unwrap(),
            uid: format!("uid-{id}"),
            instance: instance.into(),
            node: node.into(),
            token: Some(format!("{id}.0123456789abcdef").parse().unwrap()),
            expires: None,
            dead,
            created: Some(Timestamp::from_second(created).unwrap()),
        }
    }

    fn expected(t: &Delivered) -> Option<String> {
        Some(format!("record-of-{}", t.id))
    }

    fn creates(p: &Plan) -> Vec<&str> {
        p.actions
            .iter()
            .filter_map(|a| match a {
                Action::Create { instance, .. } => Some(instance.as_str()),
                _ => None,
            })
            .collect()
    }

    fn deletes(p: &Plan) -> Vec<&str> {
        p.actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_new_instance_gets_a_token_and_a_second_pass_writes_nothing() {
        let group = [
            inst("i-1", Some("node-1"), None),
            inst("i-2", Some("node-2"), None),
        ];
        let p = plan(&group, &[], &BTreeSet::new(), expected);
        assert_eq!(creates(&p), ["i-1", "i-2"]);
        // After the pass: tokens exist and tags hold their records.
        let toks = [
            tok("aaaaaa", "i-1", "node-1", false, 1),
            tok("bbbbbb", "i-2", "node-2", false, 1),
        ];
        let group = [
            inst("i-1", Some("node-1"), Some("record-of-aaaaaa")),
            inst("i-2", Some("node-2"), Some("record-of-bbbbbb")),
        ];
        let p = plan(&group, &toks, &BTreeSet::new(), expected);
        assert!(p.actions.is_empty(), "{p:?}");
        assert_eq!(p.skipped.len(), 2);
    }

    #[test]
    fn fetched_joined_and_departed() {
        let toks = [
            tok("aaaaaa", "i-1", "node-1", false, 1),
            tok("cccccc", "i-gone", "node-x", false, 1),
        ];
        let group = [
            inst("i-1", Some("node-1"), None),
            inst("i-3", Some("node-3"), None),
        ];
        let nodes = BTreeSet::from(["node-3".to_string()]);
        let p = plan(&group, &toks, &nodes, expected);
        assert_eq!(deletes(&p), ["cccccc"]);
        assert!(creates(&p).is_empty(), "{p:?}");
        assert!(p.skipped.iter().any(|s| s.reason.contains("fetched")));
        assert!(p.skipped.iter().any(|s| s.reason.contains("joined")));
    }

    #[test]
    fn dead_tokens_are_replaced_and_wrong_tags_rewritten() {
        let toks = [
            tok("aaaaaa", "i-1", "node-1", true, 1),
            tok("bbbbbb", "i-2", "node-2", false, 1),
        ];
        let group = [
            inst("i-1", Some("node-1"), Some("record-of-aaaaaa")),
            inst("i-2", Some("node-2"), Some("garbage")),
        ];
        let p = plan(&group, &toks, &BTreeSet::new(), expected);
        assert_eq!(deletes(&p), ["aaaaaa"]);
        assert_eq!(creates(&p), ["i-1"]);
        assert!(p.actions.contains(&Action::Retag {
            instance: "i-2".into(),
            id: TokenId::parse("bbbbbb").unwrap()
        }));
        assert!(matches!(p.actions[0], Action::Delete { .. }));
    }

    #[test]
    fn duplicates_keep_the_newest_and_renamed_nodes_get_a_new_binding() {
        let toks = [
            tok("aaaaaa", "i-1", "node-1", false, 1),
            tok("bbbbbb", "i-1", "node-1", false, 2),
            tok("cccccc", "i-2", "old-name", false, 1),
        ];
        let group = [
            inst("i-1", Some("node-1"), Some("record-of-bbbbbb")),
            inst("i-2", Some("new-name"), None),
        ];
        let p = plan(&group, &toks, &BTreeSet::new(), expected);
        assert_eq!(deletes(&p), ["aaaaaa", "cccccc"]);
        assert_eq!(creates(&p), ["i-2"]);
    }

    #[test]
    fn unusable_names_are_skipped() {
        let group = [inst("i-1", None, None), inst("i-2", Some("Bad_Name"), None)];
        let p = plan(&group, &[], &BTreeSet::new(), expected);
        assert!(p.actions.is_empty());
        assert_eq!(p.skipped.len(), 2);
    }
}
