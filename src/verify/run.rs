//! The order of `verify`'s checks for one token, and what each hands the next: the endpoint's
//! chain must verify against a pin before the token is sent anywhere; cluster-info is read
//! anonymously (first unverified, as kubeadm's discovery does, to learn the CA candidates, then
//! over the verified connection); the token's identity is asked only once it authenticates.

use std::time::{Duration, Instant};

use super::probe;
use super::{Check, Fetched, NodeView, Status};
use crate::{cluster_info, jws};

/// What the admin side knows besides the node's view.
#[derive(Clone, Debug)]
pub struct Admin {
    /// Check (1), from the Secret.
    pub secret: Check,
    /// Whether the Secret has the signing usage.
    pub signing: bool,
    /// Whether cluster-info exists (read with admin credentials).
    pub cluster_info_exists: bool,
}

/// Runs every check for `view`; `admin` is `None` on the node side. A missing signature is
/// awaited up to `signature_wait` (the bootstrap signer signs a fresh token within seconds).
pub async fn check_token(
    view: &NodeView,
    admin: Option<&Admin>,
    signature_wait: Duration,
) -> Vec<Check> {
    let mut checks = Vec::new();
    match admin {
        Some(a) => checks.push(a.secret.clone()),
        None => checks.push(Check::skip(
            "secret",
            "node side: reading the Secret needs admin credentials (authentication covers it)",
        )),
    }
    let secret_ok = admin.map(|a| a.secret.status == Status::Pass);
    let ep = view.endpoint.as_str();

    // Anonymous and unverified: only to learn the CA candidates, never to trust anything.
    let unverified = match probe::client(ep, None, None) {
        Ok(c) => probe::fetch_cluster_info(&c).await,
        Err(e) => Fetched::Failed(e),
    };
    let verified = match probe::presented_chain(ep).await {
        Err(e) => Err(e),
        Ok(chain) => {
            let mut candidates = chain.clone();
            candidates.extend(view.ca_der.iter().cloned());
            if let Fetched::Data(d) = &unverified
                && let Some(Ok(p)) = d.get(cluster_info::KEY).map(|k| cluster_info::parse(k))
            {
                candidates.extend(p.ca_der);
            }
            let pinned = super::pinned(&candidates, &view.pins);
            if pinned.is_empty() {
                Err(format!(
                    "no CA certificate matching the pins ({}) is in the server's chain{}",
                    view.pins.join(", "),
                    if matches!(unverified, Fetched::Data(_)) {
                        " or in cluster-info: the pins belong to another cluster's CA"
                    } else {
                        ", and cluster-info (where a joining node gets the CA) is not readable"
                    }
                ))
            } else {
                let roots: Vec<Vec<u8>> = pinned.iter().map(|(d, _)| d.clone()).collect();
                probe::verify_chain(&chain, &roots, ep).map(|_| (roots, pinned[0].1.clone()))
            }
        }
    };
    checks.push(super::endpoint_check(
        ep,
        &verified
            .as_ref()
            .map(|(_, pin)| pin.clone())
            .map_err(Clone::clone),
    ));
    let roots = verified.ok().map(|(r, _)| r);
    let anon = roots
        .as_deref()
        .and_then(|r| probe::client(ep, Some(r), None).ok());
    let mut fetched = match &anon {
        Some(c) => probe::fetch_cluster_info(c).await,
        None => unverified,
    };
    checks.push(super::cluster_info_check(
        &fetched,
        admin.map(|a| a.cluster_info_exists),
    ));
    // A fresh token is signed within seconds by the bootstrap signer: wait for it a little,
    // unless the Secret says it never will be.
    let key = format!("{}{}", jws::SIGNATURE_KEY_PREFIX, view.token.id);
    let deadline = Instant::now() + signature_wait;
    while let (Fetched::Data(d), Some(c)) = (&fetched, &anon) {
        if d.contains_key(&key) || admin.is_some_and(|a| !a.signing) || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        fetched = probe::fetch_cluster_info(c).await;
    }
    checks.push(super::signature_check(
        &fetched,
        &view.token,
        admin.map(|a| a.signing),
    ));
    checks.push(super::ca_check(&fetched, &view.pins, ep));

    let Some(roots) = roots else {
        for n in ["authentication", "csr"] {
            checks.push(Check::skip(
                n,
                "not run: the endpoint is not verified, and the token is never sent to an \
                 unverified server",
            ));
        }
        return checks;
    };
    let as_token = match probe::client(ep, Some(&roots), Some(&view.token)) {
        Ok(c) => c,
        Err(e) => {
            checks.push(Check::fail("authentication", e));
            return checks;
        }
    };
    let who = probe::who_am_i(&as_token).await;
    let auth = super::auth_check(&view.token, &who, secret_ok);
    let authenticated = auth.status == Status::Pass;
    checks.push(auth);
    let groups = match (authenticated, who) {
        (true, Ok((_, g))) => g,
        _ => {
            checks.push(Check::skip(
                "csr",
                "not run: the token does not authenticate",
            ));
            return checks;
        }
    };
    let create = probe::may_create_csr(&as_token, None).await;
    let approve = probe::may_create_csr(&as_token, Some("nodeclient")).await;
    checks.push(match (create, approve) {
        (Ok(c), Ok(a)) => super::csr_check(&groups, c, a),
        (Err(e), _) | (_, Err(e)) => Check::fail("csr", format!("cannot ask the apiserver: {e}")),
    });
    checks
}
