//! Delivery of per-node tokens through a cloud provider's instance metadata: for every
//! instance of a group that has no token yet, a token bound to its node name
//! ([`crate::binding`]) is created and written to the instance's tag as a compact record
//! ([`tag`]); tokens of instances that left are deleted. [`run_pass`] is one idempotent pass;
//! [`plan`] is its pure decision.
//!
//! The cloud side is behind the [`Provider`] trait — AWS (EC2 tags, Auto Scaling groups) lives
//! in `crate::aws`; a GCE provider (instance metadata, managed instance groups) would implement
//! the same four calls. Nothing here knows an SDK.

pub mod deployment;
pub mod plan;
pub mod select;
pub mod tag;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use futures::future::BoxFuture;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};

use crate::binding;
use crate::cli::DryRun;
use crate::cluster::{Cluster, kube_error};
use crate::join::JoinInfo;
use crate::store::{Deleted, Stored, TokenStore};
use crate::token::{Expiry, Token, TokenId, TokenSpec};
use crate::{Error, Result};

pub use plan::{Action, Delivered, Instance, Plan};

/// Label naming the delivery (`--name`) that made a token: a pass only ever deletes its own.
pub const DELIVER_LABEL: &str = "jointoken.kubectl.io/deliver";
/// Label naming the instance a delivered token was made for.
pub const INSTANCE_LABEL: &str = "jointoken.kubectl.io/instance";
/// How many token creates and deletes run at once.
const CONCURRENCY: usize = 16;

/// A cloud whose instances can carry a tag a node reads about itself.
pub trait Provider: Send + Sync {
    /// What is being delivered to, for messages (`aws: auto scaling groups a, b`).
    fn describe(&self) -> String;
    /// The group's running members (e.g. InService), each with its node name and the current
    /// value of the delivery tag.
    fn instances(&self) -> BoxFuture<'_, Result<Vec<Instance>>>;
    /// Writes each `(instance, value)` tag; per instance, whether it worked. The values hold
    /// secrets: errors must not repeat them.
    fn set_tags(
        &self,
        tags: Vec<(String, String)>,
    ) -> BoxFuture<'_, Vec<(String, std::result::Result<(), String>)>>;
    /// API calls made so far, per service (for the report and the benchmark).
    fn calls(&self) -> Vec<(&'static str, u64)>;
}

/// What a pass is told.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The delivery's name (value of [`DELIVER_LABEL`]).
    pub name: String,
    /// TTL of new tokens.
    pub ttl: std::time::Duration,
    /// Joins each token allows.
    pub max_joins: u32,
    /// Endpoint and pins written into the tags.
    pub join: JoinInfo,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

/// One instance's (or departed token's) line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Instance id.
    pub instance: String,
    /// Node name, when known.
    pub node: String,
    /// created, retagged, deleted, unchanged, skipped, failed (or would-…).
    pub action: String,
    /// Token id and why.
    pub detail: String,
}

/// What a pass did.
#[derive(Clone, Debug, Default)]
pub struct PassReport {
    /// Per instance or token.
    pub items: Vec<Item>,
    /// Writes made (token creates and deletes, tag writes).
    pub writes: u64,
    /// Calls per service, `apiserver` included.
    pub calls: Vec<(&'static str, u64)>,
}

impl PassReport {
    /// The first failure, if any.
    pub fn failure(&self) -> Option<Error> {
        let failed: Vec<&Item> = self.items.iter().filter(|i| i.action == "failed").collect();
        let first = failed.first()?;
        Some(Error::runtime(format!(
            "{} instance(s) not served, first {}: {}",
            failed.len(),
            first.instance,
            first.detail
        )))
    }
}

/// The selector of one delivery's tokens.
pub fn selector(name: &str) -> String {
    format!("{DELIVER_LABEL}={name}")
}

/// Reads a token of ours back; `None` when it lacks what a delivered token has (then it is not
/// ours to manage, whatever its labels say).
fn delivered(s: &Stored, now: Timestamp) -> Option<Delivered> {
    let r = &s.record;
    let id = r.id.clone()?;
    let b = binding::Binding::from_meta(&r.labels, &s.annotations)?;
    let expired = r.expires.is_expired(now);
    Some(Delivered {
        uid: r.uid.clone()?,
        instance: r.labels.get(INSTANCE_LABEL)?.clone(),
        node: b.node.clone(),
        token: r.token.clone(),
        expires: match r.expires {
            Expiry::At(t) => Some(t),
            _ => None,
        },
        dead: expired || b.consumed() || !r.problems.is_empty() || r.token.is_none(),
        created: r.created,
        id,
    })
}

/// The tag value of `token` for this delivery.
fn record(s: &Settings, token: &Token, expires: Option<Timestamp>) -> Result<String> {
    tag::encode(token, &s.join.endpoint, expires, &s.join.ca_cert_hashes).map_err(Error::usage)
}

/// The names of every Node (metadata-only pages).
async fn node_names(c: &Cluster, requests: &AtomicU64) -> Result<BTreeSet<String>> {
    let api: Api<Node> = Api::all(c.client.clone());
    let mut out = BTreeSet::new();
    let mut lp = ListParams::default().limit(crate::store::PAGE);
    loop {
        requests.fetch_add(1, Ordering::Relaxed);
        let page = api
            .list_metadata(&lp)
            .await
            .map_err(|e| kube_error("cannot list nodes", e, &c.target))?;
        out.extend(page.items.into_iter().filter_map(|m| m.metadata.name));
        match page.metadata.continue_ {
            Some(t) if !t.is_empty() => lp = lp.continue_token(&t),
            _ => return Ok(out),
        }
    }
}

/// A new token bound to `node` for `instance`.
fn new_spec(s: &Settings, instance: &str, node: &str, now: Timestamp) -> Result<TokenSpec> {
    let token = Token::generate()
        .map_err(|e| Error::runtime(format!("cannot read the OS random source: {e}")))?;
    let ttl =
        jiff::SignedDuration::try_from(s.ttl).map_err(|_| Error::usage("--ttl is too large"))?;
    let expires = (!s.ttl.is_zero())
        .then(|| now.checked_add(ttl).ok())
        .flatten()
        .and_then(|t| Timestamp::from_second(t.as_second()).ok());
    let mut spec = TokenSpec {
        token,
        description: Some(format!("kubectl-jointoken deliver {}: {instance}", s.name)),
        expires,
        usages: vec!["signing".into(), "authentication".into()],
        groups: Vec::new(),
        labels: BTreeMap::from([
            (DELIVER_LABEL.to_string(), s.name.clone()),
            (INSTANCE_LABEL.to_string(), instance.to_string()),
        ]),
        fresh: true,
    };
    binding::bind(&mut spec, node);
    spec.validate().map_err(Error::usage)?;
    Ok(spec)
}

/// A created token and its UID (`None` in a client dry run).
type Made = (TokenSpec, Option<String>);

/// One pass: read the group, our tokens and the Nodes; plan; create, tag and delete.
/// Idempotent: with everything in place it reads and writes nothing.
pub async fn run_pass(c: &Cluster, p: &dyn Provider, s: &Settings) -> Result<PassReport> {
    let now = Timestamp::now();
    let store = TokenStore::new(c);
    let requests = AtomicU64::new(0);
    // Refuse before any write if the record cannot fit a tag.
    let probe: Token = "aaaaaa.aaaaaaaaaaaaaaaa".parse().map_err(Error::runtime)?;
    record(s, &probe, Some(now))?;
    let instances = p.instances().await?;
    let stored = store.list_stored(Some(&selector(&s.name))).await?;
    let pages = stored.len() as u64 / u64::from(crate::store::PAGE) + 1;
    requests.fetch_add(pages, Ordering::Relaxed);
    let tokens: Vec<Delivered> = stored.iter().filter_map(|t| delivered(t, now)).collect();
    let nodes = node_names(c, &requests).await?;
    let by_id: BTreeMap<&str, &Delivered> = tokens.iter().map(|t| (t.id.as_str(), t)).collect();
    let plan = plan::plan(&instances, &tokens, &nodes, |t| {
        t.token.as_ref().and_then(|k| record(s, k, t.expires).ok())
    });
    let node_of: BTreeMap<&str, String> = instances
        .iter()
        .map(|i| (i.id.as_str(), i.node_name.clone().unwrap_or_default()))
        .collect();
    let mut report = PassReport::default();
    for k in &plan.skipped {
        report.items.push(Item {
            instance: k.instance.clone(),
            node: k.node.clone().unwrap_or_default(),
            action: if k.reason.contains("delivered") || k.reason.contains("waiting") {
                "unchanged".into()
            } else {
                "skipped".into()
            },
            detail: k.reason.clone(),
        });
    }
    let dry = s.dry_run != DryRun::None;
    // A dry run reports what a pass would do, in prune's words ("would-delete").
    let would = |done: &str, verb: &str| {
        if dry {
            format!("would-{verb}")
        } else {
            done.to_string()
        }
    };
    let written = |id: &TokenId| {
        if dry {
            format!("token {id} would be written to the tag")
        } else {
            format!("token {id} written to the tag")
        }
    };
    // Deletes.
    let deletes: Vec<(&plan::Action, TokenStore)> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Delete { .. }))
        .map(|a| (a, store.clone()))
        .collect();
    let deleted: Vec<Item> = futures::stream::iter(deletes)
        .map(|(a, store)| {
            let (requests, by_id) = (&requests, &by_id);
            async move {
                let Action::Delete {
                    id,
                    uid,
                    instance,
                    reason,
                } = a
                else {
                    unreachable!("filtered to deletes")
                };
                let node = by_id
                    .get(id.as_str())
                    .map(|t| t.node.clone())
                    .unwrap_or_default();
                requests.fetch_add(u64::from(s.dry_run != DryRun::Client), Ordering::Relaxed);
                let (action, detail) = match store.delete(id, uid, s.dry_run).await {
                    Ok(Deleted::Yes) => {
                        (would("deleted", "delete"), format!("token {id}: {reason}"))
                    }
                    Ok(Deleted::Gone | Deleted::Replaced) => {
                        ("unchanged".into(), format!("token {id} already gone"))
                    }
                    Err(e) => ("failed".into(), format!("token {id}: {e}")),
                };
                Item {
                    instance: instance.clone(),
                    node,
                    action,
                    detail,
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    report.writes += deleted.iter().filter(|i| i.action == "deleted").count() as u64;
    report.items.extend(deleted);
    // Creates (token first, tag second) and retags.
    let mut tags: Vec<(String, String)> = Vec::new();
    let mut made: BTreeMap<String, (TokenSpec, String)> = BTreeMap::new();
    let creates: Vec<(String, String)> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Create { instance, node } => Some((instance.clone(), node.clone())),
            _ => None,
        })
        .collect();
    let annotations = binding::initial_annotations(s.max_joins);
    let created: Vec<(String, String, Result<Made>)> = futures::stream::iter(creates)
        .map(|(instance, node)| {
            let (store, annotations, requests) = (store.clone(), &annotations, &requests);
            async move {
                let r = async {
                    let spec = new_spec(s, &instance, &node, now)?;
                    requests.fetch_add(u64::from(s.dry_run != DryRun::Client), Ordering::Relaxed);
                    let uid = store
                        .create_annotated(&spec, annotations, s.dry_run)
                        .await?;
                    Ok((spec, uid))
                }
                .await;
                (instance, node, r)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (instance, node, r) in created {
        match r {
            Ok((spec, uid)) => {
                let value = record(s, &spec.token, spec.expires)?;
                tags.push((instance.clone(), value));
                made.insert(instance, (spec, uid.unwrap_or_default()));
            }
            Err(e) => report.items.push(Item {
                instance,
                node,
                action: "failed".into(),
                detail: e.to_string(),
            }),
        }
    }
    let mut retagged: BTreeMap<String, TokenId> = BTreeMap::new();
    for a in &plan.actions {
        if let Action::Retag { instance, id } = a
            && let Some(t) = by_id.get(id.as_str())
            && let Some(k) = &t.token
        {
            tags.push((instance.clone(), record(s, k, t.expires)?));
            retagged.insert(instance.clone(), id.clone());
        }
    }
    let results = if dry || tags.is_empty() {
        tags.iter().map(|(i, _)| (i.clone(), Ok(()))).collect()
    } else {
        p.set_tags(tags).await
    };
    for (instance, r) in results {
        let node = node_of.get(instance.as_str()).cloned().unwrap_or_default();
        if !dry {
            report.writes += u64::from(r.is_ok());
        }
        if let Some((spec, uid)) = made.get(&instance) {
            let id = &spec.token.id;
            match r {
                Ok(()) => {
                    report.writes += u64::from(!dry);
                    report.items.push(Item {
                        instance,
                        node,
                        action: would("created", "create"),
                        detail: written(id),
                    })
                }
                Err(e) => {
                    report.writes += u64::from(!dry);
                    // No tag, no use: take the token back so the next pass starts clean.
                    if !uid.is_empty() {
                        requests.fetch_add(1, Ordering::Relaxed);
                        let _ = store.delete(id, uid, s.dry_run).await;
                    }
                    report.items.push(Item {
                        instance,
                        node,
                        action: "failed".into(),
                        detail: format!("cannot write the tag ({e}); token {id} deleted again"),
                    })
                }
            }
        } else if let Some(id) = retagged.get(&instance) {
            report.items.push(Item {
                instance,
                node,
                action: match r {
                    Ok(()) => would("retagged", "retag"),
                    Err(_) => "failed".into(),
                },
                detail: match r {
                    Ok(()) => written(id),
                    Err(e) => format!("cannot write the tag: {e}"),
                },
            });
        }
    }
    report.items.sort_by(|a, b| a.instance.cmp(&b.instance));
    report.calls = p.calls();
    report
        .calls
        .push(("apiserver", requests.load(Ordering::Relaxed)));
    Ok(report)
}
