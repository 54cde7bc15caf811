//! Deciding one CSR, for the one-shot run and the controller alike: triage, look up the facts
//! the policy needs, evaluate, write the decision guarded by the resourceVersion it was made
//! on, and on a conflict re-read and decide again (the CSR may have been approved by a replica
//! meanwhile, which is then left alone).

use std::collections::HashMap;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;

use crate::approval::{self, Policy, State, Triage, request};
use crate::certificates::{Certificates, Written};
use crate::cli::DryRun;

use super::report::{Item, Outcome};

/// How many times a CSR that keeps changing under us is re-read before giving up on it.
const ATTEMPTS: usize = 5;

/// What deciding needs besides the CSR.
pub struct Ctx {
    /// The cluster's CSRs, Nodes, tokens.
    pub certs: Certificates,
    /// The policy.
    pub policy: Policy,
    /// Deny refused CSRs instead of leaving them pending.
    pub deny: bool,
    /// `Client`: write nothing; `Server`: writes with dryRun=All; `None`: write.
    pub mode: DryRun,
}

/// Public-key id → name of a Denied CSR with that key, from a list of CSRs.
pub fn denied_keys(all: &[CertificateSigningRequest]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for o in all {
        remember_denied(&mut out, o);
    }
    out
}

/// Records `o` in `denied` when it is a Denied CSR (the controller calls this per event).
pub fn remember_denied(denied: &mut HashMap<String, String>, o: &CertificateSigningRequest) {
    let c = request::from_object(o);
    if c.state == State::Denied
        && let Ok(r) = &c.request
    {
        denied.insert(r.key_id.clone(), c.name);
    }
}

/// Decides `obj` and writes the decision (as `ctx.mode` allows).
pub async fn process(
    ctx: &Ctx,
    obj: CertificateSigningRequest,
    denied: &HashMap<String, String>,
) -> Item {
    let mut obj = obj;
    for _ in 0..ATTEMPTS {
        let csr = request::from_object(&obj);
        let item = Item::of(&csr);
        let kind = match approval::triage(&csr) {
            Triage::OtherSigner => {
                return item.with(
                    Outcome::Skipped,
                    format!("signer {} is not a kubelet signer: not touched", csr.signer),
                );
            }
            Triage::Decided(s) => {
                return item.with(Outcome::Skipped, format!("already {}", s.as_str()));
            }
            Triage::Evaluate(k) => k,
        };
        let same_key = csr
            .request
            .as_ref()
            .ok()
            .and_then(|r| denied.get(&r.key_id))
            .filter(|n| **n != csr.name)
            .cloned();
        let facts = match ctx.certs.facts(&approval::needs(&csr), same_key).await {
            Ok(f) => f,
            Err(e) => return item.with(Outcome::Failed, e.to_string()),
        };
        let ev = approval::evaluate(kind, &csr, &facts, &ctx.policy);
        let approve = ev.approved();
        let reason = ev.reason();
        let item = item.evaluated(kind, ev);
        if !approve && !ctx.deny {
            return item.with(Outcome::Pending, reason);
        }
        if ctx.mode == DryRun::Client {
            let o = if approve {
                Outcome::WouldApprove
            } else {
                Outcome::WouldDeny
            };
            return item.with(o, reason);
        }
        let message = format!("kubectl-jointoken approve: {reason}");
        match ctx.certs.decide(&obj, approve, &message, ctx.mode).await {
            Ok(Written::Done) => {
                let o = match (approve, ctx.mode) {
                    (true, DryRun::None) => Outcome::Approved,
                    (true, _) => Outcome::WouldApprove,
                    (false, DryRun::None) => Outcome::Denied,
                    (false, _) => Outcome::WouldDeny,
                };
                // A token bound to one node is consumed in the same step: its join is counted,
                // and at its max it is deleted (UID precondition), so it authenticates no more.
                let reason = match (o, kind) {
                    (Outcome::Approved, approval::Kind::Client) => {
                        consume_bound(ctx, &csr.username, reason).await
                    }
                    _ => reason,
                };
                return item.with(o, reason);
            }
            Ok(Written::Gone) => {
                return item.with(Outcome::Skipped, "deleted while being decided".into());
            }
            Ok(Written::Conflict) => match ctx.certs.get(&csr.name).await {
                // Changed under us: decide again on what it is now.
                Ok(Some(o)) => obj = o,
                Ok(None) => {
                    return item.with(Outcome::Skipped, "deleted while being decided".into());
                }
                Err(e) => return item.with(Outcome::Failed, e.to_string()),
            },
            Err(e) => return item.with(Outcome::Failed, e.to_string()),
        }
    }
    Item::of(&request::from_object(&obj)).with(
        Outcome::Failed,
        format!("it changed {ATTEMPTS} times while being decided; try again"),
    )
}

/// After approving a client CSR from `system:bootstrap:<id>`: counts the join on that token if
/// it is bound to a node (see [`crate::binding`]); the reason says what happened to the token.
async fn consume_bound(ctx: &Ctx, username: &str, reason: String) -> String {
    let Some(id) = username
        .strip_prefix("system:bootstrap:")
        .and_then(|i| crate::token::TokenId::parse(i).ok())
    else {
        return reason;
    };
    match crate::binding::consume(ctx.certs.store(), &id).await {
        Ok(crate::binding::Consumed::Deleted { joins }) => {
            format!("{reason}; bound token {id} used up ({joins} join(s)) and deleted")
        }
        Ok(crate::binding::Consumed::Counted { joins, max }) => {
            format!("{reason}; bound token {id}: {joins} of {max} joins used")
        }
        Ok(_) => reason,
        Err(e) => {
            crate::reporter::warn(format!(
                "approved, but counting the join on bound token {id} failed: {e} (`kubectl jointoken prune --consumed` cleans up)"
            ));
            reason
        }
    }
}
