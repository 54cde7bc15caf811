//! The checks `verify` runs for one token, judged from what the probes saw (see [`probe`]).
//! Every check passes or fails with its cause and the fix on one line; each judgement here is
//! a pure function of the observations, so the wording and logic are unit-tested without a
//! cluster. Also: reading what a joining node has (a join command, a bootstrap kubeconfig or a
//! bare token).

pub mod probe;
mod run;

pub use run::{Admin, check_token};

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::bootstrap_rbac::NODECLIENT_ROLE;
use crate::token::{Expiry, Token, TokenRecord};
use crate::{cluster_info, jws, pki};

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Works, but something deserves attention (does not fail `verify`).
    Warn,
    /// Broken: a node could not join with this token.
    Fail,
    /// Not run: it depends on a failed check, or needs what this side does not have.
    Skip,
}

/// One check's line.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// Short name: secret, endpoint, cluster-info, signature, ca, authentication, csr.
    pub name: &'static str,
    /// Verdict.
    pub status: Status,
    /// What was found and, when not passing, what to do.
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Self {
        Check {
            name,
            status,
            detail: detail.into(),
        }
    }
    /// A passing check.
    pub fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Pass, detail)
    }
    /// A failing check.
    pub fn fail(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Fail, detail)
    }
    /// A warning.
    pub fn warn(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Warn, detail)
    }
    /// A skipped check.
    pub fn skip(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Skip, detail)
    }
}

/// What a joining node knows: the endpoint, the CA pins and the token.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// `host:port`.
    pub endpoint: String,
    /// `sha256:<hex>` pins.
    pub pins: Vec<String>,
    /// The token.
    pub token: Token,
    /// CA certificates the node holds (a bootstrap kubeconfig's), besides the pins.
    pub ca_der: Vec<Vec<u8>>,
}

/// Reads what a node has: a `kubeadm join` command line, a bootstrap kubeconfig (server, CA and
/// token), or a bare `id.secret` token (then `endpoint` and `pins` must be given).
pub fn node_view(text: &str, endpoint: Option<&str>, pins: &[String]) -> Result<NodeView, String> {
    let text = text.trim();
    if text.starts_with("kubeadm ") {
        return parse_join_command(text, endpoint, pins);
    }
    if let Ok(token) = text.parse::<Token>() {
        let endpoint = endpoint
            .ok_or("a bare token needs --endpoint HOST:PORT and --discovery-token-ca-cert-hash")?;
        if pins.is_empty() {
            return Err("a bare token needs --discovery-token-ca-cert-hash sha256:<hex>".into());
        }
        return Ok(NodeView {
            endpoint: endpoint.to_string(),
            pins: pins.to_vec(),
            token,
            ca_der: Vec::new(),
        });
    }
    let kc: serde_json::Value = serde_saphyr::from_str(text).map_err(|_| {
        "expected a kubeadm join command, a bootstrap kubeconfig or a token id.secret".to_string()
    })?;
    let token = kc["users"][0]["user"]["token"]
        .as_str()
        .ok_or("the kubeconfig has no user token")?
        .parse::<Token>()
        .map_err(|e| format!("the kubeconfig's token: {e}"))?;
    let cluster = cluster_info::parse(text)?;
    if cluster.ca_der.is_empty() {
        return Err("the kubeconfig has no certificate-authority-data to pin".into());
    }
    let mut all_pins = pki::ca_cert_hashes(&cluster.ca_der)?;
    all_pins.extend(pins.iter().cloned());
    Ok(NodeView {
        endpoint: endpoint.map_or_else(|| crate::join::endpoint(&cluster.server), String::from),
        pins: all_pins,
        token,
        ca_der: cluster.ca_der,
    })
}

/// Parses `kubeadm join ENDPOINT --token T --discovery-token-ca-cert-hash H…` (flags in either
/// `--f v` or `--f=v` form; others ignored). `endpoint`/`pins` given on our command line win.
pub fn parse_join_command(
    cmd: &str,
    endpoint: Option<&str>,
    pins: &[String],
) -> Result<NodeView, String> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    if words.len() < 2 || words[0] != "kubeadm" || words[1] != "join" {
        return Err("the join command must start with `kubeadm join`".into());
    }
    let mut ep = None;
    let mut token = None;
    let mut hashes = Vec::new();
    let mut i = 2;
    while i < words.len() {
        let w = words[i];
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if w.starts_with("--") => (f, Some(v)),
            _ => (w, None),
        };
        let mut value = || {
            inline.map(String::from).or_else(|| {
                i += 1;
                words.get(i).map(|s| s.to_string())
            })
        };
        match flag {
            "--token" | "--discovery-token" => token = value(),
            "--discovery-token-ca-cert-hash" => hashes.extend(value()),
            f if !f.starts_with('-') && ep.is_none() => ep = Some(f.to_string()),
            _ => {}
        }
        i += 1;
    }
    let token = token
        .ok_or("the join command has no --token")?
        .parse::<Token>()?;
    let endpoint = endpoint
        .map(String::from)
        .or(ep)
        .ok_or("the join command names no endpoint")?;
    let pins = if pins.is_empty() {
        hashes
    } else {
        pins.to_vec()
    };
    if pins.is_empty() {
        return Err(
            "the join command has no --discovery-token-ca-cert-hash: without a pin a node cannot \
             trust the cluster"
                .into(),
        );
    }
    Ok(NodeView {
        endpoint,
        pins,
        token,
        ca_der: Vec::new(),
    })
}

/// (1) The Secret: exists, well-formed, not expired, both usages.
pub fn secret_check(id: &str, record: Option<&TokenRecord>, now: Timestamp) -> Check {
    const N: &str = "secret";
    let Some(r) = record else {
        return Check::fail(
            N,
            format!(
                "Secret kube-system/bootstrap-token-{id} does not exist (never created, deleted, \
                 or removed by the tokencleaner after expiry): create a token"
            ),
        );
    };
    if !r.problems.is_empty() {
        return Check::fail(
            N,
            format!(
                "the Secret is not a valid bootstrap token ({}): recreate the token",
                r.problems.join("; ")
            ),
        );
    }
    let left = match &r.expires {
        Expiry::Never => "never expires".to_string(),
        Expiry::At(t) if *t <= now => {
            return Check::fail(
                N,
                format!(
                    "expired at {}: create a fresh token",
                    crate::token::format_expiration(*t)
                ),
            );
        }
        Expiry::At(t) => format!(
            "{} left",
            crate::duration::short_human(t.as_second() - now.as_second())
        ),
        Expiry::Unparseable(_) => unreachable!("recorded as a problem"),
    };
    let missing: Vec<&str> = ["authentication", "signing"]
        .into_iter()
        .filter(|u| !r.usages.iter().any(|x| x == u))
        .collect();
    if !missing.is_empty() {
        return Check::fail(
            N,
            format!(
                "lacks the {} usage ({left}): create tokens with --usages signing,authentication",
                missing.join(" and ")
            ),
        );
    }
    Check::pass(N, format!("valid, {left}, usages signing,authentication"))
}

/// (2) The endpoint's TLS: `chain` is what the probe found (`Ok(pin)` = verified against a
/// pinned CA), or why not.
pub fn endpoint_check(endpoint: &str, chain: &Result<String, String>) -> Check {
    match chain {
        Ok(pin) => Check::pass(
            "endpoint",
            format!("{endpoint} answers; its certificate chains to the CA pinned by {pin}"),
        ),
        Err(e) => Check::fail("endpoint", format!("{endpoint}: {e}")),
    }
}

/// The CA certificates among `candidates` whose SPKI hash is one of `pins` (deduplicated).
pub fn pinned(candidates: &[Vec<u8>], pins: &[String]) -> Vec<(Vec<u8>, String)> {
    let mut out: Vec<(Vec<u8>, String)> = Vec::new();
    for c in candidates {
        if let Ok(h) = pki::ca_cert_hash(c)
            && pins.iter().any(|p| p.eq_ignore_ascii_case(&h))
            && !out.iter().any(|(d, _)| d == c)
        {
            out.push((c.clone(), h));
        }
    }
    out
}

/// What reading cluster-info anonymously gave.
#[derive(Clone, Debug)]
pub enum Fetched {
    /// Its data.
    Data(BTreeMap<String, String>),
    /// 404.
    Missing,
    /// 401/403.
    Denied(u16),
    /// Anything else (network, TLS, 5xx).
    Failed(String),
}

/// (3) cluster-info readable anonymously. `exists` is what the admin side saw with its own
/// credentials (`None` on the node side).
pub fn cluster_info_check(f: &Fetched, exists: Option<bool>) -> Check {
    const N: &str = "cluster-info";
    match f {
        Fetched::Data(d) if d.contains_key(cluster_info::KEY) => {
            Check::pass(N, "kube-public/cluster-info is readable anonymously")
        }
        Fetched::Data(_) => Check::fail(
            N,
            "kube-public/cluster-info has no kubeconfig key: delete it and run `kubectl jointoken setup`",
        ),
        Fetched::Missing => Check::fail(
            N,
            "kube-public/cluster-info does not exist, so nodes cannot discover the cluster: run \
             `kubectl jointoken setup`",
        ),
        Fetched::Denied(_) if exists == Some(false) => Check::fail(
            N,
            "kube-public/cluster-info does not exist, and anonymous users may not read it (no \
             RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo): run `kubectl \
             jointoken setup`",
        ),
        Fetched::Denied(code) => Check::fail(
            N,
            format!(
                "anonymous users may not read kube-public/cluster-info ({code}): the RoleBinding \
                 kube-public/kubeadm:bootstrap-signer-clusterinfo is missing (run `kubectl \
                 jointoken setup`){}",
                if *code == 401 {
                    ", or kube-apiserver runs with --anonymous-auth=false"
                } else {
                    ""
                }
            ),
        ),
        Fetched::Failed(e) => Check::fail(N, format!("cannot read cluster-info: {e}")),
    }
}

/// (4) The token's JWS signature in cluster-info. `signing` is whether the Secret has the
/// signing usage (`None` on the node side, which cannot know).
pub fn signature_check(f: &Fetched, token: &Token, signing: Option<bool>) -> Check {
    const N: &str = "signature";
    let Fetched::Data(d) = f else {
        return Check::skip(
            N,
            "no cluster-info to read the signature from (see cluster-info)",
        );
    };
    let Some(payload) = d.get(cluster_info::KEY) else {
        return Check::skip(N, "cluster-info has no kubeconfig to verify");
    };
    let id = token.id.as_str();
    let key = format!("{}{id}", jws::SIGNATURE_KEY_PREFIX);
    match d.get(&key) {
        Some(sig) if jws::verify_detached(payload, sig, id, token.secret.expose()) => {
            Check::pass(N, format!("{key} verifies with the token"))
        }
        Some(_) => Check::fail(
            N,
            format!(
                "{key} does not verify with this token (wrong secret, or cluster-info changed \
                 since it was signed): kubeadm join will refuse it; check the token"
            ),
        ),
        None => Check::fail(
            N,
            match signing {
                Some(false) => format!(
                    "{key} is missing because the token lacks the signing usage: create tokens \
                     with --usages signing,authentication"
                ),
                Some(true) => format!(
                    "{key} is missing though the token may sign: the bootstrap signer is not \
                     running (kube-controller-manager --controllers=*,bootstrapsigner,tokencleaner)"
                ),
                None => format!(
                    "{key} is missing: the token lacks the signing usage, is invalid, or the \
                     bootstrap signer is not running (kube-controller-manager \
                     --controllers=*,bootstrapsigner)"
                ),
            },
        ),
    }
}

/// (5) cluster-info's CA against the pins, and its server against the endpoint.
pub fn ca_check(f: &Fetched, pins: &[String], endpoint: &str) -> Check {
    const N: &str = "ca";
    let Fetched::Data(d) = f else {
        return Check::skip(N, "no cluster-info to compare (see cluster-info)");
    };
    let parsed = match d.get(cluster_info::KEY).map(|k| cluster_info::parse(k)) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return Check::fail(N, format!("cluster-info's kubeconfig: {e}")),
        None => return Check::skip(N, "cluster-info has no kubeconfig"),
    };
    let hashes = pki::ca_cert_hashes(&parsed.ca_der).unwrap_or_default();
    if !hashes
        .iter()
        .any(|h| pins.iter().any(|p| p.eq_ignore_ascii_case(h)))
    {
        return Check::fail(
            N,
            format!(
                "cluster-info's CA ({}) matches none of the pins ({}): kubeadm join refuses it; \
                 use the join command's pins from this cluster (kubectl jointoken create)",
                if hashes.is_empty() {
                    "none".to_string()
                } else {
                    hashes.join(", ")
                },
                pins.join(", ")
            ),
        );
    }
    let server = crate::join::endpoint(&parsed.server);
    if server != endpoint {
        return Check::warn(
            N,
            format!(
                "CA matches the pins, but cluster-info names server {server}, not {endpoint}: \
                 after discovery nodes talk to {server}"
            ),
        );
    }
    Check::pass(
        N,
        "cluster-info's CA matches the pins and its server the endpoint",
    )
}

/// Why authenticating as the token failed.
#[derive(Clone, Debug)]
pub enum AuthError {
    /// 401.
    Unauthorized,
    /// Anything else.
    Other(String),
}

/// (6) The token authenticates as `system:bootstrap:<id>`. `secret_ok` is whether check 1
/// passed (admin side): then a 401 can only be the apiserver's configuration.
pub fn auth_check(
    token: &Token,
    who: &Result<(String, Vec<String>), AuthError>,
    secret_ok: Option<bool>,
) -> Check {
    const N: &str = "authentication";
    let want = format!("system:bootstrap:{}", token.id);
    match who {
        Ok((user, groups)) if *user == want => Check::pass(
            N,
            format!("authenticates as {user} ({})", groups.join(", ")),
        ),
        Ok((user, _)) => Check::fail(
            N,
            format!("authenticates as {user}, not {want}: the apiserver maps tokens unexpectedly"),
        ),
        Err(AuthError::Unauthorized) => Check::fail(
            N,
            match secret_ok {
                Some(true) => "the apiserver rejects the valid token (401): start kube-apiserver \
                               with --enable-bootstrap-token-auth=true"
                    .to_string(),
                Some(false) => "the apiserver rejects the token (401): see the secret check".into(),
                None => "the apiserver rejects the token (401): it is unknown, expired or lacks \
                         the authentication usage, or kube-apiserver runs without \
                         --enable-bootstrap-token-auth=true"
                    .into(),
            },
        ),
        Err(AuthError::Other(e)) => Check::fail(N, format!("cannot authenticate: {e}")),
    }
}

/// (7) The token's identity may create CSRs, and its CSRs are auto-approved.
pub fn csr_check(groups: &[String], may_create: bool, auto_approved: bool) -> Check {
    const N: &str = "csr";
    let extra: Vec<&str> = groups
        .iter()
        .map(String::as_str)
        .filter(|g| g.starts_with("system:bootstrappers:"))
        .collect();
    let which = if extra.is_empty() {
        "system:bootstrappers".to_string()
    } else {
        extra.join(",")
    };
    // setup always binds kubeadm's default group; name only the others.
    let others: Vec<&str> = extra
        .iter()
        .copied()
        .filter(|g| *g != crate::token::DEFAULT_GROUP)
        .collect();
    let setup = if others.is_empty() {
        "kubectl jointoken setup".to_string()
    } else {
        format!("kubectl jointoken setup --groups {}", others.join(","))
    };
    if !may_create {
        return Check::fail(
            N,
            format!(
                "the token may not create CertificateSigningRequests, so a kubelet cannot ask for \
                 its certificate: no binding of ClusterRole system:node-bootstrapper{} covers \
                 {which}: run `{setup}`",
                if auto_approved {
                    ""
                } else {
                    " (nor of the nodeclient auto-approval role)"
                }
            ),
        );
    }
    if !auto_approved {
        return Check::warn(
            N,
            format!(
                "may create CSRs, but no binding of {NODECLIENT_ROLE} covers {which}: its CSRs are \
                 not auto-approved, so `kubectl jointoken approve` (or an admin) must approve them; \
                 `{setup}` auto-approves them"
            ),
        );
    }
    Check::pass(
        N,
        "may create CSRs, and its node-client CSRs are auto-approved",
    )
}

#[cfg(test)]
mod tests;
