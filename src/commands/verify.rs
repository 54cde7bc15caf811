//! `verify`: proves that a bootstrap token would let a node join, check by check, from the
//! admin side (reading the Secret) or from the node side (only a join command, a bootstrap
//! kubeconfig or a token — no admin credentials). The checks live in [`crate::verify`].

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use crate::cli::{EndpointArgs, Format, GlobalArgs, OutputArgs};
use crate::output::Report;
use crate::store::TokenStore;
use crate::token::{TokenId, TokenRecord};
use crate::verify::{self, Admin, Check, NodeView, Status};
use crate::{Error, Result, cluster, cluster_info, duration, join};

/// Check that bootstrap tokens work end to end: (1) the Secret is valid, unexpired and has both
/// usages; (2) the endpoint answers and its certificate chains to a pinned CA; (3) cluster-info
/// is readable anonymously; (4) the token's JWS signature in cluster-info verifies; (5)
/// cluster-info's CA matches the pins and its server the endpoint; (6) the token authenticates
/// as system:bootstrap:<id>; (7) it may create CSRs and they are auto-approved.
///
/// Admin side: name token ids (or --all); the endpoint and pins are those `create` would print.
/// Node side: --join-command or --token-file, using nothing but what a joining node has.
/// Exit 0 only when every check passes (warnings pass).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Token ids (or id.secret) to check with admin credentials.
    #[arg(value_name = "TOKEN_ID")]
    pub ids: Vec<String>,
    /// Check every bootstrap token.
    #[arg(long, conflicts_with = "ids")]
    pub all: bool,
    /// Node side: check this `kubeadm join …` command.
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["ids", "all", "token_file"])]
    pub join_command: Option<String>,
    /// Node side: check the join command, bootstrap kubeconfig or bare id.secret token in this
    /// file (a bare token needs --endpoint and --discovery-token-ca-cert-hash).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["ids", "all"])]
    pub token_file: Option<PathBuf>,
    /// CA pins (sha256:<hex>, repeatable) instead of the kubeconfig's (admin side) or the join
    /// command's.
    #[arg(long = "discovery-token-ca-cert-hash", value_name = "PIN")]
    pub pins: Vec<String>,
    /// Join endpoint.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// How long to wait for the bootstrap signer to sign a fresh token (Go duration).
    #[arg(long, default_value = "10s", value_parser = duration::parse_go)]
    pub signature_wait: Duration,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The checks of one token.
#[derive(Debug)]
pub struct TokenChecks {
    /// The token id (or the Secret name of a malformed one).
    pub id: String,
    /// Its checks, in order.
    pub checks: Vec<Check>,
}

/// What `verify` found.
#[derive(Debug)]
pub struct VerifyReport {
    /// Per token.
    pub tokens: Vec<TokenChecks>,
}

impl VerifyReport {
    fn failed(&self) -> usize {
        self.tokens
            .iter()
            .flat_map(|t| &t.checks)
            .filter(|c| c.status == Status::Fail)
            .count()
    }

    /// The error to exit with when a check failed (after printing).
    pub fn failure(&self) -> Option<Error> {
        let n = self.failed();
        (n > 0).then(|| {
            Error::runtime(format!(
                "{n} check(s) failed: a node could not join with {}; see the lines above",
                if self.tokens.len() == 1 {
                    "this token".to_string()
                } else {
                    "some of these tokens".to_string()
                }
            ))
        })
    }
}

/// Runs `verify`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<VerifyReport> {
    for p in &a.pins {
        check_pin(p)?;
    }
    let node_text = match (&a.join_command, &a.token_file) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(p)) => Some(std::fs::read_to_string(p).map_err(|source| Error::Io {
            action: "cannot read",
            path: p.display().to_string(),
            source,
        })?),
        (None, None) => None,
    };
    if let Some(text) = node_text {
        let view = verify::node_view(&text, a.endpoint.endpoint.as_deref(), &a.pins)
            .map_err(Error::usage)?;
        let checks = verify::check_token(&view, None, a.signature_wait).await;
        return Ok(VerifyReport {
            tokens: vec![TokenChecks {
                id: view.token.id.to_string(),
                checks,
            }],
        });
    }
    if a.ids.is_empty() && !a.all {
        return Err(Error::usage(
            "say what to verify: token ids, --all, --join-command or --token-file",
        ));
    }
    g.require_token_namespace()?;
    let ids = a
        .ids
        .iter()
        .map(|s| TokenId::parse(s.split('.').next().unwrap_or(s)).map_err(Error::usage))
        .collect::<Result<Vec<_>>>()?;
    let c = cluster::connect(g).await?;
    let j = join::JoinInfo::for_cluster(&c, a.endpoint.endpoint.as_deref(), None).await?;
    let pins = if a.pins.is_empty() {
        j.ca_cert_hashes.clone()
    } else {
        a.pins.clone()
    };
    let cluster_info_exists = cluster_info::read(&c.client)
        .await
        .map_err(|e| cluster::kube_error("cannot read kube-public/cluster-info", e, &c.target))?
        .is_some();
    let store = TokenStore::new(&c);
    // (id, the Secret's record when it exists)
    let records: Vec<(String, Option<TokenRecord>)> = if a.all {
        let all = store.list(None).await?;
        if all.is_empty() {
            return Err(Error::runtime(
                "there are no bootstrap tokens to verify: create one (kubectl jointoken create)",
            ));
        }
        all.into_iter()
            .map(|r| {
                (
                    r.id.as_ref().map_or(r.name.clone(), |i| i.to_string()),
                    Some(r),
                )
            })
            .collect()
    } else {
        let mut out = Vec::new();
        for id in &ids {
            out.push((id.to_string(), store.get(id).await?.map(|s| s.record)));
        }
        out
    };
    let now = Timestamp::now();
    let mut tokens = Vec::new();
    for (id, r) in records {
        let secret = verify::secret_check(&id, r.as_ref(), now);
        let Some((r, token)) = r.as_ref().and_then(|r| Some((r, r.token.clone()?))) else {
            let checks = vec![
                secret,
                Check::skip(
                    "endpoint",
                    "the other checks need the token, which no valid Secret holds",
                ),
            ];
            tokens.push(TokenChecks { id, checks });
            continue;
        };
        let admin = Admin {
            secret,
            signing: r.usages.iter().any(|u| u == "signing"),
            cluster_info_exists,
        };
        let view = NodeView {
            endpoint: j.endpoint.clone(),
            pins: pins.clone(),
            token,
            ca_der: c.target.ca_certs.clone(),
        };
        let checks = verify::check_token(&view, Some(&admin), a.signature_wait).await;
        tokens.push(TokenChecks { id, checks });
    }
    Ok(VerifyReport { tokens })
}

fn check_pin(p: &str) -> Result<()> {
    let hex = p.strip_prefix("sha256:").unwrap_or("");
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "invalid --discovery-token-ca-cert-hash {p:?}: expected sha256:<64 hex>"
        )))
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "ok",
        Status::Warn => "warn",
        Status::Fail => "FAIL",
        Status::Skip => "skip",
    }
}

impl Report for VerifyReport {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        vec!["TOKEN", "CHECK", "RESULT", "DETAIL"]
    }

    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        self.tokens
            .iter()
            .flat_map(|t| {
                t.checks.iter().map(|c| {
                    vec![
                        t.id.clone(),
                        c.name.to_string(),
                        status_word(c.status).to_string(),
                        c.detail.clone(),
                    ]
                })
            })
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.tokens
            .iter()
            .map(|t| format!("secret/bootstrap-token-{}", t.id))
            .collect()
    }

    fn document(&self) -> serde_json::Value {
        let tokens: Vec<serde_json::Value> = self
            .tokens
            .iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "ok": t.checks.iter().all(|c| c.status != Status::Fail),
                    "checks": t.checks,
                })
            })
            .collect();
        json!({ "ok": self.failed() == 0, "tokens": tokens })
    }

    fn supports(&self, f: Format) -> bool {
        f != Format::Wide
    }
}

// Keep the pin helper honest against the library's hashing.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki;

    #[test]
    fn pins_are_checked() {
        let der = pki::pem_bundle_to_der(include_str!("../../tests/fixtures/ca1.pem").as_bytes())
            .unwrap();
        assert!(check_pin(&pki::ca_cert_hash(&der[0]).unwrap()).is_ok());
        assert!(check_pin("sha256:abc").is_err());
        assert!(check_pin(&"0".repeat(64)).is_err());
    }
}
