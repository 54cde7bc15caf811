//! Unit tests of the verify judgements: each failure names its cause and its fix.

use std::collections::BTreeMap;

use super::*;
use crate::token::TokenSpec;

const CA1: &str = include_str!("../../tests/fixtures/ca1.pem");
const CA2: &str = include_str!("../../tests/fixtures/ca2.pem");

fn der(pem: &str) -> Vec<Vec<u8>> {
    pki::pem_bundle_to_der(pem.as_bytes()).unwrap()
}

fn token() -> Token {
    "abcdef.0123456789abcdef".parse().unwrap()
}

fn record(usages: &[&str], expires: Option<Timestamp>) -> TokenRecord {
    let spec = TokenSpec {
        token: token(),
        fresh: false,
        description: None,
        expires,
        usages: usages.iter().map(|s| s.to_string()).collect(),
        groups: vec![],
        labels: BTreeMap::new(),
    };
    TokenRecord::from_secret(&spec.to_secret())
}

fn signed_cluster_info(server: &str, ca: &[Vec<u8>], signer: Option<&Token>) -> Fetched {
    let kc = cluster_info::render(server, ca);
    let mut d = BTreeMap::new();
    if let Some(t) = signer {
        d.insert(
            format!("jws-kubeconfig-{}", t.id),
            jws::compute_detached(&kc, t.id.as_str(), t.secret.expose()),
        );
    }
    d.insert("kubeconfig".to_string(), kc);
    Fetched::Data(d)
}

#[test]
fn join_commands_kubeconfigs_and_bare_tokens_are_read() {
    let pin = format!("sha256:{}", "a".repeat(64));
    let v = node_view(
        &format!("kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash {pin}"),
        None,
        &[],
    )
    .unwrap();
    assert_eq!(v.endpoint, "10.0.0.1:6443");
    assert_eq!(v.pins, std::slice::from_ref(&pin));
    assert_eq!(v.token, token());
    let v = node_view(
        &format!("kubeadm join --token=abcdef.0123456789abcdef h:1 --discovery-token-ca-cert-hash={pin} --control-plane"),
        Some("other:2"),
        &[],
    )
    .unwrap();
    assert_eq!(v.endpoint, "other:2");
    assert!(
        node_view(
            "kubeadm join h:1 --token abcdef.0123456789abcdef",
            None,
            &[]
        )
        .is_err()
    );
    assert!(node_view("abcdef.0123456789abcdef", None, &[]).is_err());
    let v = node_view("abcdef.0123456789abcdef\n", Some("h:1"), &[pin]).unwrap();
    assert_eq!(v.endpoint, "h:1");

    let kc = crate::kubeconfig::token_kubeconfig(
        "c",
        "https://10.0.0.2:6443",
        &der(CA1),
        "tls-bootstrap-token-user",
        "abcdef.0123456789abcdef",
        None,
    );
    let v = node_view(&crate::output::to_yaml(&kc).unwrap(), None, &[]).unwrap();
    assert_eq!(v.endpoint, "10.0.0.2:6443");
    assert_eq!(v.pins, pki::ca_cert_hashes(&der(CA1)).unwrap());
    assert_eq!(v.ca_der, der(CA1));
}

#[test]
fn the_secret_check_names_each_problem() {
    let now = Timestamp::now();
    let later = Some(Timestamp::from_second(now.as_second() + 7200).unwrap());
    let ok = secret_check(
        "abcdef",
        Some(&record(&["signing", "authentication"], later)),
        now,
    );
    assert_eq!(ok.status, Status::Pass, "{}", ok.detail);
    let no_sign = secret_check("abcdef", Some(&record(&["authentication"], later)), now);
    assert_eq!(no_sign.status, Status::Fail);
    assert!(
        no_sign.detail.contains("lacks the signing usage"),
        "{}",
        no_sign.detail
    );
    let past = Some(Timestamp::from_second(now.as_second() - 10).unwrap());
    let expired = secret_check(
        "abcdef",
        Some(&record(&["signing", "authentication"], past)),
        now,
    );
    assert!(
        expired.detail.starts_with("expired at"),
        "{}",
        expired.detail
    );
    let missing = secret_check("abcdef", None, now);
    assert!(missing.detail.contains("does not exist"));
}

#[test]
fn pins_select_the_ca() {
    let all: Vec<Vec<u8>> = der(CA1).into_iter().chain(der(CA2)).collect();
    let pin2 = pki::ca_cert_hash(&der(CA2)[0]).unwrap();
    let p = pinned(&all, &[pin2.to_uppercase().replace("SHA256:", "sha256:")]);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, der(CA2)[0]);
    assert!(pinned(&der(CA1), &[pin2]).is_empty());
}

#[test]
fn cluster_info_problems_name_the_missing_piece() {
    let denied = cluster_info_check(&Fetched::Denied(403), None);
    assert!(
        denied
            .detail
            .contains("kubeadm:bootstrap-signer-clusterinfo")
    );
    let both = cluster_info_check(&Fetched::Denied(403), Some(false));
    assert!(both.detail.contains("does not exist"), "{}", both.detail);
    assert!(
        cluster_info_check(&Fetched::Missing, None)
            .detail
            .contains("setup")
    );
    let ok = signed_cluster_info("https://h:1", &der(CA1), None);
    assert_eq!(cluster_info_check(&ok, None).status, Status::Pass);
}

#[test]
fn signatures_verify_or_say_why_not() {
    let t = token();
    let signed = signed_cluster_info("https://h:1", &der(CA1), Some(&t));
    assert_eq!(
        signature_check(&signed, &t, Some(true)).status,
        Status::Pass
    );
    let other: Token = "abcdef.zzzzzzzzzzzzzzzz".parse().unwrap();
    let bad = signature_check(&signed, &other, None);
    assert!(bad.detail.contains("does not verify"), "{}", bad.detail);
    let unsigned = signed_cluster_info("https://h:1", &der(CA1), None);
    assert!(
        signature_check(&unsigned, &t, Some(false))
            .detail
            .contains("lacks the signing usage")
    );
    assert!(
        signature_check(&unsigned, &t, Some(true))
            .detail
            .contains("bootstrap signer is not running")
    );
    assert_eq!(
        signature_check(&Fetched::Missing, &t, None).status,
        Status::Skip
    );
}

#[test]
fn the_ca_must_match_a_pin_and_the_server_should_match() {
    let f = signed_cluster_info("https://10.0.0.1:6443", &der(CA1), None);
    let pin1 = pki::ca_cert_hashes(&der(CA1)).unwrap();
    let pin2 = pki::ca_cert_hashes(&der(CA2)).unwrap();
    assert_eq!(ca_check(&f, &pin1, "10.0.0.1:6443").status, Status::Pass);
    assert_eq!(ca_check(&f, &pin1, "lb:6443").status, Status::Warn);
    let c = ca_check(&f, &pin2, "10.0.0.1:6443");
    assert_eq!(c.status, Status::Fail);
    assert!(c.detail.contains("matches none of the pins"));
}

#[test]
fn authentication_failures_name_the_apiserver_flag() {
    let t = token();
    let ok = Ok((
        "system:bootstrap:abcdef".to_string(),
        vec!["system:bootstrappers".to_string()],
    ));
    assert_eq!(auth_check(&t, &ok, None).status, Status::Pass);
    let c = auth_check(&t, &Err(AuthError::Unauthorized), Some(true));
    assert!(c.detail.contains("--enable-bootstrap-token-auth=true"));
    let c = auth_check(&t, &Err(AuthError::Unauthorized), Some(false));
    assert!(c.detail.contains("secret check"));
}

#[test]
fn csr_rights_and_auto_approval() {
    let groups = vec![
        "system:bootstrappers".to_string(),
        "system:bootstrappers:ci".to_string(),
    ];
    assert_eq!(csr_check(&groups, true, true).status, Status::Pass);
    let w = csr_check(&groups, true, false);
    assert_eq!(w.status, Status::Warn);
    assert!(
        w.detail.contains("kubectl jointoken approve"),
        "{}",
        w.detail
    );
    let f = csr_check(&groups, false, false);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.detail.contains("setup --groups system:bootstrappers:ci"),
        "{}",
        f.detail
    );
}
