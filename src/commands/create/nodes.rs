//! `create --for-node`: one token per named node, each bound to its node (see
//! [`crate::binding`]), created as one unit — if any create fails, the tokens this run already
//! made are deleted again (UID-guarded), so a half-done batch never lingers.

use jiff::Timestamp;
use serde_json::json;

use super::Args;
use crate::binding;
use crate::cli::{DryRun, Format, GlobalArgs};
use crate::cluster;
use crate::join::JoinInfo;
use crate::output::Report;
use crate::reporter;
use crate::store::TokenStore;
use crate::token::{self, TokenSpec};
use crate::{Error, Result};

/// One bound token this run made.
#[derive(Debug)]
pub struct NodeToken {
    /// The node it is bound to.
    pub node: String,
    /// What was written.
    pub spec: TokenSpec,
}

/// What `create --for-node` did.
#[derive(Debug)]
pub struct NodeTokens {
    /// Per node, in the order named.
    pub tokens: Vec<NodeToken>,
    /// Joins each token allows.
    pub max_joins: u32,
    /// Join details (endpoint, pins).
    pub join: JoinInfo,
    /// The dry-run mode used.
    pub dry_run: DryRun,
}

/// The node names of `--for-node` and `--for-nodes-from`, validated, each once.
fn node_names(a: &Args) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for n in &a.for_node {
        binding::validate_node_name(n).map_err(|e| Error::usage(format!("--for-node: {e}")))?;
        names.push(n.clone());
    }
    if let Some(p) = &a.for_nodes_from {
        let text = std::fs::read_to_string(p).map_err(|source| Error::Io {
            action: "cannot read node list",
            path: p.display().to_string(),
            source,
        })?;
        names.extend(
            binding::parse_node_list(&text, &p.display().to_string()).map_err(Error::usage)?,
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(Error::usage(format!(
            "node {dup} is named twice: each node gets exactly one token"
        )));
    }
    if names.is_empty() {
        return Err(Error::usage("--for-nodes-from names no node"));
    }
    Ok(names)
}

/// Runs `create --for-node`.
pub async fn run_for_nodes(g: &GlobalArgs, a: &Args) -> Result<NodeTokens> {
    g.require_token_namespace()?;
    if a.token.is_some() || a.token_arg.is_some() {
        return Err(Error::usage(
            "--for-node makes one fresh token per node: drop the TOKEN argument",
        ));
    }
    if !a.publish.is_empty() || a.certificate_key.is_some() {
        return Err(Error::usage(
            "--for-node tokens are handed to one node each (deliver, or by hand): drop \
             --publish and --certificate-key",
        ));
    }
    let names = node_names(a)?;
    let max_joins = a.max_joins.unwrap_or(1);
    let now = Timestamp::now();
    let tokens = names
        .into_iter()
        .map(|node| {
            let mut spec = a
                .flags
                .spec_with_default_ttl(None, now, binding::DEFAULT_TTL)?;
            binding::bind(&mut spec, &node);
            spec.validate().map_err(Error::usage)?;
            Ok(NodeToken { node, spec })
        })
        .collect::<Result<Vec<_>>>()?;
    let c = cluster::connect(g).await?;
    let join = JoinInfo::for_cluster(&c, a.endpoint.endpoint.as_deref(), None).await?;
    let store = TokenStore::new(&c);
    let mode = a.dry_run.dry_run;
    let annotations = binding::initial_annotations(max_joins);
    let mut made: Vec<(&NodeToken, String)> = Vec::new();
    for t in &tokens {
        match store.create_annotated(&t.spec, &annotations, mode).await {
            Ok(uid) => made.extend(uid.map(|u| (t, u))),
            Err(e) => {
                // One unit: undo what this run created before reporting the failure.
                for (done, uid) in &made {
                    if let Err(undo) = store.delete(&done.spec.token.id, uid, mode).await {
                        reporter::warn(format!(
                            "could not delete token {} (node {}) again: {undo}",
                            done.spec.token.id, done.node
                        ));
                    }
                }
                return Err(Error::runtime(format!(
                    "{e}; the {} token(s) this run had created were deleted again",
                    made.len()
                )));
            }
        }
    }
    if mode != DryRun::None {
        reporter::note(format!(
            "dry run: {} bootstrap token(s) were not created",
            tokens.len()
        ));
    }
    Ok(NodeTokens {
        tokens,
        max_joins,
        join,
        dry_run: mode,
    })
}

impl Report for NodeTokens {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        vec!["NODE", "TOKEN", "EXPIRES", "MAX JOINS"]
    }

    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        self.tokens
            .iter()
            .map(|t| {
                vec![
                    t.node.clone(),
                    t.spec.token.expose(),
                    t.spec
                        .expires
                        .map(token::format_expiration)
                        .unwrap_or_else(|| "<never>".into()),
                    self.max_joins.to_string(),
                ]
            })
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.tokens
            .iter()
            .map(|t| format!("secret/{}", t.spec.token.id.secret_name()))
            .collect()
    }

    fn document(&self) -> serde_json::Value {
        let items: Vec<_> = self
            .tokens
            .iter()
            .map(|t| {
                let s = &t.spec;
                json!({
                    "node": t.node,
                    "token": s.token.expose(),
                    "id": s.token.id.as_str(),
                    "expiration": s.expires.map(token::format_expiration),
                    "usages": s.usages,
                    "groups": s.groups,
                    "maxJoins": self.max_joins,
                    "apiServerEndpoint": self.join.endpoint,
                    "caCertHashes": self.join.ca_cert_hashes,
                    "joinCommand": self.join.command(&s.token),
                })
            })
            .collect();
        let mut v = json!({"kind": "List", "items": items});
        if self.dry_run != DryRun::None {
            v["dryRun"] = json!(true);
        }
        v
    }

    fn supports(&self, f: Format) -> bool {
        f != Format::Wide
    }
}
