//! End-to-end proofs of `setup` and `verify` against two real control planes of `scripts/e2e`:
//! the kubeadm-made one (`scripts/e2e up`, whose joiner objects kubeadm's own phase created)
//! and a bare one (`scripts/e2e up --bare`, the "hard way": bootstrap-token auth and the
//! controllers, but no RBAC for bootstrappers and no cluster-info), named by
//! `KJT_E2E_BARE_DIR`. The peers are the real kubeadm (join discovery) and a real kubelet
//! (TLS bootstrap).

mod common;

use std::process::Command;
use std::sync::Mutex;

use common::kubelet::Kubelet;
use common::{Harness, bare, harness, unique, wait_for};
use serde_json::Value;

/// Tests that break and repair the kubeadm cluster's shared objects run one at a time.
static SHARED_OBJECTS: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    SHARED_OBJECTS.lock().unwrap_or_else(|e| e.into_inner())
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn create(h: &Harness, args: &[&str]) -> Value {
    let mut all = vec!["create", "-o", "json"];
    all.extend_from_slice(args);
    json(&h.ours(&all).ok().stdout)
}

/// `verify <args> -o json`: the exit code and each check as (name, status, detail).
fn verify(h: &Harness, args: &[&str]) -> (i32, Vec<(String, String, String)>) {
    let mut all = vec!["verify", "-o", "json"];
    all.extend_from_slice(args);
    let out = h.ours(&all);
    let doc = json(&out.stdout);
    let checks = doc["tokens"][0]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {} {}", out.stdout, out.stderr))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(doc["ok"], out.code == 0, "{}", out.stderr);
    (out.code, checks)
}

fn check<'a>(checks: &'a [(String, String, String)], name: &str) -> (&'a str, &'a str) {
    let c = checks
        .iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no {name} check in {checks:?}"));
    (&c.1, &c.2)
}

fn all_pass(checks: &[(String, String, String)], node_side: bool) {
    for (n, s, d) in checks {
        let want = if node_side && n == "secret" {
            "skip"
        } else {
            "pass"
        };
        assert_eq!(s, want, "{n}: {d}");
    }
}

/// `setup -o json <args>`: each object as (name, result).
fn setup(h: &Harness, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["setup", "-o", "json"];
    all.extend_from_slice(args);
    let out = h.ours(&all).ok();
    json(&out.stdout)["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["name"].as_str().unwrap()
                ),
                o["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const OBJECTS: [(&str, &str, &str); 8] = [
    ("", "clusterrolebinding", "kubeadm:kubelet-bootstrap"),
    ("", "clusterrole", "kubeadm:get-nodes"),
    ("", "clusterrolebinding", "kubeadm:get-nodes"),
    (
        "",
        "clusterrolebinding",
        "kubeadm:node-autoapprove-bootstrap",
    ),
    (
        "",
        "clusterrolebinding",
        "kubeadm:node-autoapprove-certificate-rotation",
    ),
    (
        "kube-public",
        "role",
        "kubeadm:bootstrap-signer-clusterinfo",
    ),
    (
        "kube-public",
        "rolebinding",
        "kubeadm:bootstrap-signer-clusterinfo",
    ),
    ("kube-public", "configmap", "cluster-info"),
];

/// resourceVersion of each RBAC object (cluster-info changes whenever the signer re-signs it).
fn rbac_versions(h: &Harness) -> Vec<String> {
    OBJECTS
        .iter()
        .filter(|(_, k, _)| *k != "configmap")
        .map(|(ns, kind, name)| {
            let mut args = vec![
                "get",
                kind,
                name,
                "-o",
                "jsonpath={.metadata.resourceVersion}",
            ];
            if !ns.is_empty() {
                args.extend(["-n", ns]);
            }
            h.kubectl(&args).ok().stdout
        })
        .collect()
}

#[test]
fn setup_on_the_kubeadm_cluster_finds_everything_unchanged() {
    let Some(h) = harness() else { return };
    let _g = lock();
    let before = rbac_versions(&h);
    for args in [&["--dry-run=server"][..], &[][..]] {
        let objs = setup(&h, args);
        assert_eq!(objs.len(), OBJECTS.len(), "{objs:?}");
        for (name, result) in &objs {
            assert_eq!(result, "unchanged", "{name} ({args:?})");
        }
    }
    assert_eq!(rbac_versions(&h), before, "setup must not write anything");
    // --print is the same set of objects as YAML documents, ready for kubectl apply.
    let printed = h.ours(&["setup", "--print"]).ok().stdout;
    assert_eq!(printed.matches("---\n").count(), OBJECTS.len());
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("setup.yaml");
    std::fs::write(&f, &printed).unwrap();
    let applied = h
        .kubectl(&["apply", "--dry-run=server", "-f", f.to_str().unwrap()])
        .ok();
    assert_eq!(
        applied.stdout.lines().count(),
        OBJECTS.len(),
        "{}",
        applied.stdout
    );
}

#[test]
fn verify_catches_each_broken_piece() {
    let Some(h) = harness() else { return };
    let _g = lock();

    // A good token passes from both sides.
    let good = create(&h, &["--ttl", "30m"]);
    let (id, cmd) = (
        good["id"].as_str().unwrap(),
        good["join"]["joinCommand"].as_str().unwrap(),
    );
    let (code, checks) = verify(&h, &[id]);
    assert_eq!(code, 0, "{checks:?}");
    all_pass(&checks, false);
    let (code, checks) = verify(&h, &["--join-command", cmd]);
    assert_eq!(code, 0, "{checks:?}");
    all_pass(&checks, true);

    // No signing usage: the signer never signs cluster-info for it.
    let r = create(&h, &["--usages", "authentication", "--ttl", "30m"]);
    let (code, checks) = verify(&h, &[r["id"].as_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        check(&checks, "secret")
            .1
            .contains("lacks the signing usage")
    );
    let (s, d) = check(&checks, "signature");
    assert_eq!(s, "fail");
    assert!(d.contains("lacks the signing usage"), "{d}");

    // Expired: the Secret check says so (or that the tokencleaner already removed it), and a
    // node is refused.
    let r = create(&h, &["--ttl", "2s"]);
    std::thread::sleep(std::time::Duration::from_secs(4));
    let (code, checks) = verify(&h, &[r["id"].as_str().unwrap()]);
    assert_eq!(code, 1);
    let (s, d) = check(&checks, "secret");
    assert_eq!(s, "fail");
    assert!(
        d.starts_with("expired at") || d.contains("does not exist"),
        "{d}"
    );
    let node_cmd = r["join"]["joinCommand"].as_str().unwrap();
    let (code, checks) = verify(&h, &["--join-command", node_cmd, "--signature-wait", "0s"]);
    assert_eq!(code, 1);
    let (s, d) = check(&checks, "authentication");
    assert_eq!(s, "fail");
    assert!(d.contains("401"), "{d}");

    // A pin of another CA: the endpoint does not verify, and the token is never sent.
    let pin = good["join"]["caCertHashes"][0].as_str().unwrap();
    let other = std::fs::read_to_string("tests/fixtures/ca2.sha256").unwrap();
    let other = format!("sha256:{}", other.split_whitespace().next().unwrap());
    let (code, checks) = verify(&h, &["--join-command", &cmd.replace(pin, &other)]);
    assert_eq!(code, 1);
    let (s, d) = check(&checks, "endpoint");
    assert_eq!(s, "fail");
    assert!(d.contains("no CA certificate matching the pins"), "{d}");
    assert!(check(&checks, "ca").1.contains("matches none of the pins"));
    assert_eq!(check(&checks, "authentication").0, "skip");

    // A group no binding covers: CSRs cannot be created, and setup --groups is the fix.
    let group = unique("system:bootstrappers:kjt-e2e-");
    let r = create(&h, &["--groups", &group, "--ttl", "30m"]);
    let (code, checks) = verify(&h, &[r["id"].as_str().unwrap()]);
    assert_eq!(code, 1);
    let (s, d) = check(&checks, "csr");
    assert_eq!(s, "fail");
    assert!(d.contains(&format!("setup --groups {group}")), "{d}");

    // The anonymous RoleBinding deleted: discovery breaks; setup puts it back.
    h.kubectl(&[
        "-n",
        "kube-public",
        "delete",
        "rolebinding",
        "kubeadm:bootstrap-signer-clusterinfo",
    ])
    .ok();
    let (code, checks) = verify(&h, &[id]);
    assert_eq!(code, 1);
    let (s, d) = check(&checks, "cluster-info");
    assert_eq!(s, "fail");
    assert!(d.contains("kubeadm:bootstrap-signer-clusterinfo"), "{d}");
    let objs = setup(&h, &[]);
    for (name, result) in &objs {
        let want = if name.starts_with("rolebinding") {
            "created"
        } else {
            "unchanged"
        };
        assert_eq!(result, want, "{name}");
    }
    let (code, checks) = verify(&h, &[id]);
    assert_eq!(code, 0, "{checks:?}");
}

/// A node's whole path on a cluster without kubeadm's objects: verify names what is missing,
/// setup adds it, and then the real kubeadm discovery and a real kubelet's TLS bootstrap work.
#[test]
fn bare_cluster_from_setup_to_a_kubelet_certificate() {
    let Some(h) = bare() else { return };
    // Back to bare, so the test can run again on the same harness.
    for (ns, kind, name) in OBJECTS {
        let mut args = vec!["delete", kind, name, "--ignore-not-found"];
        if !ns.is_empty() {
            args.extend(["-n", ns]);
        }
        h.kubectl(&args).ok();
    }
    let r = create(&h, &["--ttl", "30m"]);
    let (id, token, cmd) = (
        r["id"].as_str().unwrap(),
        r["token"].as_str().unwrap(),
        r["join"]["joinCommand"].as_str().unwrap(),
    );

    let (code, checks) = verify(&h, &[id]);
    assert_eq!(code, 1);
    let (s, d) = check(&checks, "cluster-info");
    assert_eq!(s, "fail");
    assert!(d.contains("does not exist") && d.contains("setup"), "{d}");
    let (s, d) = check(&checks, "csr");
    assert_eq!(s, "fail");
    assert!(d.contains("system:node-bootstrapper"), "{d}");
    assert_eq!(check(&checks, "authentication").0, "pass");

    let objs = setup(&h, &[]);
    assert_eq!(objs.len(), OBJECTS.len());
    for (name, result) in &objs {
        assert_eq!(result, "created", "{name}");
    }
    let (code, checks) = verify(&h, &[id]);
    assert_eq!(code, 0, "{checks:?}");
    all_pass(&checks, false);
    let (code, checks) = verify(&h, &["--join-command", cmd]);
    assert_eq!(code, 0, "{checks:?}");

    // The real kubeadm's discovery accepts the join command.
    let dir = tempfile::tempdir().unwrap();
    let dry = dir.path().join("kubeadm-dry-run");
    std::fs::create_dir(&dry).unwrap();
    let mut args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    args.extend(["--dry-run", "--ignore-preflight-errors=all", "--v=5"]);
    let join = h.run(
        &h.bin.join("kubeadm"),
        &args,
        &[("KUBEADM_JOIN_DRYRUN_DIR", dry.to_str().unwrap())],
    );
    let all = format!("{}{}", join.stdout, join.stderr);
    assert_eq!(join.code, 0, "{all}");
    assert!(
        all.contains("Cluster info signature and contents are valid and TLS certificate validates against pinned roots"),
        "{all}"
    );

    // A real kubelet bootstraps with our bootstrap kubeconfig and gets its client certificate.
    let boot = dir.path().join("bootstrap-kubelet.conf");
    h.ours(&[
        "kubeconfig",
        "--token",
        token,
        "--output-file",
        boot.to_str().unwrap(),
    ])
    .ok();
    let node = unique("kjt-e2e-node-");
    let kubelet = Kubelet::start(&h, dir.path(), &boot, &node);
    let got = wait_for(120, || kubelet.has_certificate().then_some(()));
    assert!(
        got.is_some(),
        "the kubelet got no certificate:\n{}",
        kubelet.proc.tail()
    );
    let cert = &kubelet.cert;
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in", cert.to_str().unwrap()])
        .output()
        .unwrap();
    let subject = String::from_utf8_lossy(&subject.stdout);
    assert!(
        subject.contains(&format!("CN = system:node:{node}"))
            && subject.contains("O = system:nodes"),
        "{subject}"
    );
    let csrs = json(&h.kubectl(&["get", "csr", "-o", "json"]).ok().stdout);
    let mine = csrs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["spec"]["username"] == format!("system:bootstrap:{id}").as_str())
        .unwrap_or_else(|| panic!("no CSR from system:bootstrap:{id}"));
    let conditions = mine["status"]["conditions"].to_string();
    assert!(conditions.contains("Approved"), "{conditions}");
    assert!(mine["status"]["certificate"].is_string());

    // With the controller-manager frozen (SIGSTOP), a new token is never signed: verify blames
    // the bootstrap signer, not the token.
    let pid = std::fs::read_to_string(h.dir.join("run/kube-controller-manager.pid")).unwrap();
    let frozen = Frozen(pid.trim().to_string());
    signal(&frozen.0, "-STOP");
    let r = create(&h, &["--ttl", "30m"]);
    let (code, checks) = verify(&h, &[r["id"].as_str().unwrap(), "--signature-wait", "3s"]);
    drop(frozen);
    assert_eq!(code, 1);
    let (s, d) = check(&checks, "signature");
    assert_eq!(s, "fail");
    assert!(d.contains("bootstrap signer is not running"), "{d}");

    // The join endpoint comes from cluster-info before the kubeconfig: a cluster-info made
    // with --endpoint localhost:<port> (a SAN of the test apiserver) makes create use it.
    let port = h.apiserver.rsplit_once(':').unwrap().1;
    let named = format!("localhost:{port}");
    h.kubectl(&["-n", "kube-public", "delete", "configmap", "cluster-info"])
        .ok();
    let objs = setup(&h, &["--endpoint", &named]);
    assert!(
        objs.contains(&("configmap/cluster-info".into(), "created".into())),
        "{objs:?}"
    );
    let r = create(&h, &["--ttl", "30m"]);
    assert_eq!(r["join"]["apiServerEndpoint"], named.as_str());
    let (code, checks) = verify(
        &h,
        &["--join-command", r["join"]["joinCommand"].as_str().unwrap()],
    );
    assert_eq!(code, 0, "{checks:?}");
    all_pass(&checks, true);
}

#[test]
fn endpoint_flag_wins_and_loopback_is_warned_about() {
    let Some(h) = harness() else { return };
    let out = h
        .ours(&[
            "create",
            "-o",
            "json",
            "--ttl",
            "10m",
            "--endpoint",
            "192.0.2.7:6443",
        ])
        .ok();
    let r = json(&out.stdout);
    assert_eq!(r["join"]["apiServerEndpoint"], "192.0.2.7:6443");
    assert!(
        r["join"]["joinCommand"]
            .as_str()
            .unwrap()
            .starts_with("kubeadm join 192.0.2.7:6443 --token ")
    );
    assert!(!out.stderr.contains("loopback"), "{}", out.stderr);
    // Default: cluster-info's server, which on the harness is loopback, hence the warning.
    let out = h.ours(&["create", "-o", "json", "--ttl", "10m"]).ok();
    assert!(
        out.stderr.contains("is a loopback address"),
        "{}",
        out.stderr
    );
    let kc = h
        .ours(&[
            "kubeconfig",
            "--token",
            json(&out.stdout)["token"].as_str().unwrap(),
            "--endpoint",
            "192.0.2.7:6443",
        ])
        .ok();
    assert!(
        kc.stdout.contains("server: https://192.0.2.7:6443\n"),
        "{}",
        kc.stdout
    );
    let bad = h.ours(&["create", "--endpoint", "no-port"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

fn signal(pid: &str, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid} failed");
}

/// The harness's controller-manager, stopped until this is dropped (also on a failed assert).
struct Frozen(String);

impl Drop for Frozen {
    fn drop(&mut self) {
        signal(&self.0, "-CONT");
    }
}

/// A `jws-kubeconfig-<id>` signature that does not verify (edited while the controller-manager
/// is frozen, so the bootstrap signer cannot repair it) is named as such; once the signer runs
/// again it re-signs and verify passes.
#[test]
fn verify_names_a_signature_that_does_not_verify() {
    let Some(h) = harness() else { return };
    let _g = lock();
    let r = create(&h, &["--ttl", "30m"]);
    let id = r["id"].as_str().unwrap().to_string();
    let key = format!("jws-kubeconfig-{id}");
    // Wait for the real signer's signature first.
    let signed = common::wait_for(20, || {
        let out = h.kubectl(&[
            "-n",
            "kube-public",
            "get",
            "configmap",
            "cluster-info",
            "-o",
            &format!("jsonpath={{.data.{key}}}"),
        ]);
        (out.code == 0 && !out.stdout.is_empty()).then_some(out.stdout)
    });
    let good_sig = signed.expect("the bootstrap signer signed cluster-info");
    let pid = std::fs::read_to_string(h.dir.join("run/kube-controller-manager.pid")).unwrap();
    let frozen = Frozen(pid.trim().to_string());
    signal(&frozen.0, "-STOP");
    // Same header, another payload's signature: well-formed, but not for this cluster-info.
    let (head, _) = good_sig.split_once("..").unwrap();
    let forged = format!("{head}..{}", "A".repeat(43));
    let patch = format!("{{\"data\":{{\"{key}\":\"{forged}\"}}}}");
    h.kubectl(&[
        "-n",
        "kube-public",
        "patch",
        "configmap",
        "cluster-info",
        "--type",
        "merge",
        "-p",
        &patch,
    ])
    .ok();
    let (code, checks) = verify(&h, &[&id, "--signature-wait", "2s"]);
    drop(frozen);
    assert_eq!(code, 1, "{checks:?}");
    let (s, d) = check(&checks, "signature");
    assert_eq!(s, "fail");
    assert!(d.contains("does not verify"), "{d}");
    // The signer, running again, replaces the bad signature; verify passes.
    let healed = common::wait_for(30, || {
        let (code, _) = verify(&h, &[&id, "--signature-wait", "2s"]);
        (code == 0).then_some(())
    });
    assert!(healed.is_some(), "the signer did not re-sign cluster-info");
    h.ours(&["prune", &id]).ok();
}
