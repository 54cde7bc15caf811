//! Every apiserver read and write of CertificateSigningRequests, and the lookups that feed the
//! approval policy (the Node a CSR names, the bootstrap token its requester used). Decisions
//! are written only through the `approval` subresource, with the resourceVersion the decision
//! was made on: when the CSR changed in between (another approver, a replica of ours), the
//! write fails with 409 and the caller re-reads and decides again, so nothing is ever approved
//! twice or on stale facts.
//!
//! Knows nothing about clap or reports; `commands::approve` drives it.

use jiff::Timestamp;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestStatus,
};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ListParams, PostParams};

use crate::approval::{self, Facts, Needs, NodeFacts, TokenFacts};
use crate::cli::DryRun;
use crate::cluster::{Cluster, kube_error};
use crate::store::TokenStore;
use crate::token::{self, Expiry, TokenId};
use crate::{Error, Result};

/// `reason` of the conditions we write, as `kubectl certificate approve` writes `KubectlApprove`.
pub const APPROVED_REASON: &str = "KubectlJointokenApprove";
/// `reason` of the Denied conditions we write.
pub const DENIED_REASON: &str = "KubectlJointokenDeny";

/// How a decision write ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// The condition was added (or, with `--dry-run=server`, would be).
    Done,
    /// The CSR changed since it was read (409): read it again and decide again.
    Conflict,
    /// The CSR is gone.
    Gone,
}

/// The CSRs, Nodes and tokens of one cluster.
#[derive(Clone)]
pub struct Certificates {
    c: Cluster,
    csrs: Api<CertificateSigningRequest>,
    nodes: Api<Node>,
    store: TokenStore,
}

impl Certificates {
    /// The token store (bound tokens are consumed through it after an approval).
    pub fn store(&self) -> &TokenStore {
        &self.store
    }

    /// For the cluster `c` talks to.
    pub fn new(c: &Cluster) -> Self {
        Certificates {
            csrs: Api::all(c.client.clone()),
            nodes: Api::all(c.client.clone()),
            store: TokenStore::new(c),
            c: c.clone(),
        }
    }

    /// The CSR API, for watchers.
    pub fn api(&self) -> &Api<CertificateSigningRequest> {
        &self.csrs
    }

    /// Every CSR, page by page.
    pub async fn list(&self) -> Result<Vec<CertificateSigningRequest>> {
        let mut out = Vec::new();
        let mut lp = ListParams::default().limit(crate::store::PAGE);
        loop {
            let page = self.csrs.list(&lp).await.map_err(|e| {
                kube_error("cannot list certificatesigningrequests", e, &self.c.target)
            })?;
            out.extend(page.items);
            match page.metadata.continue_.filter(|t| !t.is_empty()) {
                Some(t) => lp = lp.continue_token(&t),
                None => return Ok(out),
            }
        }
    }

    /// One CSR, if it exists.
    pub async fn get(&self, name: &str) -> Result<Option<CertificateSigningRequest>> {
        self.csrs.get_opt(name).await.map_err(|e| {
            kube_error(
                format!("cannot read certificatesigningrequest {name}"),
                e,
                &self.c.target,
            )
        })
    }

    /// The Node `name` (a name [`approval::needs`] validated), if it exists.
    pub async fn node(&self, name: &str) -> Result<Option<NodeFacts>> {
        let node = self
            .nodes
            .get_opt(name)
            .await
            .map_err(|e| kube_error(format!("cannot read node {name}"), e, &self.c.target))?;
        Ok(node.map(|n| NodeFacts {
            name: n.metadata.name.unwrap_or_default(),
            addresses: n
                .status
                .and_then(|s| s.addresses)
                .unwrap_or_default()
                .into_iter()
                .map(|a| (a.type_, a.address))
                .collect(),
        }))
    }

    /// The bootstrap token `id` as it is at `now`, if its Secret exists.
    pub async fn token(&self, id: &str, now: Timestamp) -> Result<Option<TokenFacts>> {
        let id = TokenId::parse(id).map_err(Error::runtime)?;
        let Some(s) = self.store.get(&id).await? else {
            return Ok(None);
        };
        let r = s.record;
        let expired = r.expires.is_expired(now).then(|| match &r.expires {
            Expiry::At(t) => format!("at {}", token::format_expiration(*t)),
            _ => "its expiration is unparseable".to_string(),
        });
        Ok(Some(TokenFacts {
            problems: r.problems.clone(),
            expired,
            authentication: r.usages.iter().any(|u| u == "authentication"),
            bound_node: r.labels.get(approval::NODE_LABEL).cloned(),
        }))
    }

    /// Looks up what `needs` names; `denied_same_key` comes from the caller, who has the list.
    pub async fn facts(&self, needs: &Needs, denied_same_key: Option<String>) -> Result<Facts> {
        let node = match &needs.node {
            Some(n) => self.node(n).await?,
            None => None,
        };
        let token = match &needs.token {
            Some(id) => self.token(id, Timestamp::now()).await?,
            None => None,
        };
        Ok(Facts {
            node,
            token,
            denied_same_key,
        })
    }

    /// Adds an `Approved` (or `Denied`) condition to `csr` through the `approval` subresource,
    /// guarded by the resourceVersion `csr` carries.
    pub async fn decide(
        &self,
        csr: &CertificateSigningRequest,
        approve: bool,
        message: &str,
        dry_run: DryRun,
    ) -> Result<Written> {
        let name = csr.metadata.name.clone().unwrap_or_default();
        if csr
            .metadata
            .resource_version
            .as_deref()
            .unwrap_or("")
            .is_empty()
        {
            // Without it the write would not be guarded: refuse rather than risk a double.
            return Err(Error::runtime(format!(
                "certificatesigningrequest {name} has no resourceVersion to guard the approval"
            )));
        }
        let body = with_condition(csr, approve, message, Timestamp::now());
        let pp = PostParams {
            dry_run: dry_run == DryRun::Server,
            field_manager: Some(crate::store::FIELD_MANAGER.into()),
        };
        match self
            .csrs
            .replace_subresource("approval", &name, &pp, &body)
            .await
        {
            Ok(_) => Ok(Written::Done),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Written::Conflict),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(Written::Gone),
            Err(e) => Err(kube_error(
                format!(
                    "cannot {} certificatesigningrequest {name}",
                    if approve { "approve" } else { "deny" }
                ),
                e,
                &self.c.target,
            )),
        }
    }
}

/// `csr` with one more condition: `Approved` or `Denied`, status True, our reason, `message`.
pub fn with_condition(
    csr: &CertificateSigningRequest,
    approve: bool,
    message: &str,
    now: Timestamp,
) -> CertificateSigningRequest {
    let mut body = csr.clone();
    let status = body
        .status
        .get_or_insert_with(CertificateSigningRequestStatus::default);
    status
        .conditions
        .get_or_insert_with(Vec::new)
        .push(CertificateSigningRequestCondition {
            type_: if approve { "Approved" } else { "Denied" }.into(),
            status: "True".into(),
            reason: Some(
                if approve {
                    APPROVED_REASON
                } else {
                    DENIED_REASON
                }
                .into(),
            ),
            message: Some(message.into()),
            last_update_time: Some(Time(now)),
            last_transition_time: None,
        });
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_appends_one_condition_and_keeps_the_resource_version() {
        let mut csr = CertificateSigningRequest::default();
        csr.metadata.name = Some("csr-1".into());
        csr.metadata.resource_version = Some("42".into());
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let a = with_condition(&csr, true, "all checks passed", now);
        assert_eq!(a.metadata.resource_version.as_deref(), Some("42"));
        let c = &a.status.as_ref().unwrap().conditions.as_ref().unwrap()[..];
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].type_.as_str(), c[0].status.as_str()),
            ("Approved", "True")
        );
        assert_eq!(c[0].reason.as_deref(), Some(APPROVED_REASON));
        let d = with_condition(&a, false, "ip-sans: …", now);
        let c = &d.status.unwrap().conditions.unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].type_, "Denied");
        assert_eq!(c[1].reason.as_deref(), Some(DENIED_REASON));
    }
}
