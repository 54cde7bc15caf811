//! End-to-end proof that `approve --watch` is what gives a real kubelet its first client
//! certificate (issue #13), on the bare control plane of `scripts/e2e up --bare` (named by
//! `KJT_E2E_BARE_DIR`): `setup --no-auto-approve` with a dedicated bootstrapper group, so the
//! controller-manager's csrapproving controller may not approve the kubelet's CSR; a real
//! kubelet bootstrapping with `kubectl jointoken kubeconfig`'s file; its CSR pending until two
//! `approve --watch` replicas start; approved once, issued by the real csrsigning controller,
//! written by the kubelet; and a second real kubelet with the same token claiming the name of
//! a registered Node refused with the rejoin rule. Checked with kubectl and openssl.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::kubelet::{Kubelet, Proc};
use common::{Harness, Out, bare, our_bin, scan_for_secrets, unique, wait_for};
use serde_json::Value;

/// The tests share the bare cluster's pending CSRs and its bootstrap RBAC.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

const CLIENT: &str = "kubernetes.io/kube-apiserver-client-kubelet";

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// An `approve --watch` replica against the bare cluster, its stderr in a file.
fn replica(h: &Harness, dir: &Path, lease: &str, id: &str) -> Proc {
    Proc::spawn(
        Command::new(our_bin("kubectl-jointoken"))
            .args([
                "approve",
                "--watch",
                "--lease-name",
                lease,
                "--lease-seconds",
                "6",
                "--resync",
                "2s",
                "--identity",
                id,
            ])
            .env("KUBECONFIG", &h.kubeconfig),
        dir.join(format!("{id}.log")),
    )
}

/// Stops a replica with SIGTERM: it must exit 0 with nothing secret on stderr; returns its
/// stderr.
fn stop(r: &mut Proc) -> String {
    let code = r.terminate();
    let stderr = r.text();
    assert_eq!(
        code,
        Some(0),
        "the replica did not exit 0 on SIGTERM:\n{stderr}"
    );
    let out = Out {
        code: 0,
        stdout: String::new(),
        stderr: stderr.clone(),
    };
    scan_for_secrets(&our_bin("kubectl-jointoken"), &["approve", "--watch"], &out);
    stderr
}

/// The client CSRs of bootstrap token `id`.
fn csrs_of(h: &Harness, id: &str) -> Vec<Value> {
    let all = json(&h.kubectl(&["get", "csr", "-o", "json"]).ok().stdout);
    let user = format!("system:bootstrap:{id}");
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["spec"]["username"] == user.as_str())
        .cloned()
        .collect()
}

/// The condition types of a CSR, in order.
fn conditions(h: &Harness, name: &str) -> Vec<String> {
    h.csr(name)["status"]["conditions"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["type"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits for the one CSR of token `id` that is not in `known`.
fn new_csr(h: &Harness, id: &str, known: &[String], k: &Kubelet) -> Value {
    wait_for(60, || {
        csrs_of(h, id)
            .into_iter()
            .find(|c| !known.contains(&c["metadata"]["name"].as_str().unwrap().to_string()))
    })
    .unwrap_or_else(|| {
        panic!(
            "the kubelet made no CSR as system:bootstrap:{id} in 60s; its log:\n{}",
            k.proc.tail()
        )
    })
}

/// May this identity have its client CSRs approved by the controller-manager's csrapproving
/// controller (create on certificatesigningrequests/nodeclient)?
fn may_nodeclient(h: &Harness, dir: &Path, user: &str, groups: &[&str]) -> bool {
    let sar = serde_json::json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "groups": groups,
            "resourceAttributes": {
                "group": "certificates.k8s.io",
                "resource": "certificatesigningrequests",
                "subresource": "nodeclient",
                "verb": "create",
            },
        },
    });
    let f = dir.join("sar.json");
    std::fs::write(&f, sar.to_string()).unwrap();
    let out = h
        .kubectl(&[
            "create",
            "-f",
            f.to_str().unwrap(),
            "-o",
            "jsonpath={.status.allowed}",
        ])
        .ok();
    out.stdout.trim() == "true"
}

#[test]
fn a_real_kubelet_waits_for_approve_watch_and_a_taken_name_is_refused() {
    let Some(h) = bare() else { return };
    let _l = lock();
    let start = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    // Bootstrap RBAC for a dedicated group, without the nodeclient auto-approval binding.
    let group = unique("system:bootstrappers:kjt-e2e-kubelet-");
    let out = h
        .ours(&[
            "setup",
            "-o",
            "json",
            "--no-auto-approve",
            "--groups",
            &group,
        ])
        .ok();
    let objects = json(&out.stdout)["objects"].to_string();
    assert!(
        !objects.contains("kubeadm:node-autoapprove-bootstrap"),
        "{objects}"
    );
    let token = json(
        &h.ours(&["create", "-o", "json", "--ttl", "30m", "--groups", &group])
            .ok()
            .stdout,
    );
    let (id, secret) = (
        token["id"].as_str().unwrap().to_string(),
        token["token"].as_str().unwrap().to_string(),
    );
    let user = format!("system:bootstrap:{id}");
    let groups = [
        "system:bootstrappers",
        group.as_str(),
        "system:authenticated",
    ];
    // Hence the csrapproving controller leaves this token's CSRs alone.
    assert!(
        !may_nodeclient(&h, dir, &user, &groups),
        "{user} may create certificatesigningrequests/nodeclient: the controller-manager would \
         approve its CSR itself"
    );
    let boot = dir.join("bootstrap-kubelet.conf");
    h.ours(&[
        "kubeconfig",
        "--token",
        &secret,
        "--output-file",
        boot.to_str().unwrap(),
    ])
    .ok();

    // A real kubelet asks for its client certificate, and nothing approves it.
    let node = unique("kjt-e2e-kubelet-");
    let first = Kubelet::start(&h, &dir.join("kubelet-1"), &boot, &node);
    let csr = new_csr(&h, &id, &[], &first);
    let name = csr["metadata"]["name"].as_str().unwrap().to_string();
    assert_eq!(csr["spec"]["signerName"], CLIENT, "{csr}");
    let asked_groups = csr["spec"]["groups"].to_string();
    assert!(
        asked_groups.contains(&format!("\"{group}\"")),
        "{asked_groups}"
    );
    std::thread::sleep(Duration::from_secs(5));
    let v = h.csr(&name);
    assert!(
        v["status"]["conditions"].is_null() && v["status"]["certificate"].is_null(),
        "csr/{name} did not stay pending without an approver: {}",
        v["status"]
    );
    assert!(
        !first.has_certificate(),
        "the kubelet has a certificate before any approval:\n{}",
        first.proc.tail()
    );

    // Two approve --watch replicas: the leader approves it once, the real signer issues it,
    // the kubelet writes it.
    let lease = unique("kjt-e2e-kubelet-");
    let mut a = replica(&h, dir, &lease, "replica-a");
    let mut b = replica(&h, dir, &lease, "replica-b");
    let logs = |a: &Proc, b: &Proc| format!("replica-a:\n{}\nreplica-b:\n{}", a.tail(), b.tail());
    let cert = wait_for(60, || {
        h.csr(&name)["status"]["certificate"]
            .as_str()
            .map(String::from)
    })
    .unwrap_or_else(|| {
        panic!(
            "csr/{name} was not approved and issued in 60s: {}\n{}",
            h.csr(&name)["status"],
            logs(&a, &b)
        )
    });
    wait_for(60, || first.has_certificate().then_some(())).unwrap_or_else(|| {
        panic!(
            "the kubelet wrote no client certificate in 60s after csr/{name} was issued:\n{}",
            first.proc.tail()
        )
    });
    // Give a straggling replica time to do something wrong, then look again.
    std::thread::sleep(Duration::from_secs(3));
    let v = h.csr(&name);
    let conds = v["status"]["conditions"].as_array().unwrap();
    assert_eq!(conds.len(), 1, "{}", v["status"]);
    assert_eq!(conds[0]["type"], "Approved");
    assert_eq!(conds[0]["reason"], "KubectlJointokenApprove");
    // What the kubelet wrote is what the signer issued, for system:node:<node>.
    use base64::Engine;
    let issued = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&cert)
            .unwrap(),
    )
    .unwrap();
    let written = std::fs::read_to_string(&first.cert).unwrap();
    assert!(
        written.contains(issued.trim()),
        "the kubelet's certificate is not the issued one"
    );
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(&first.cert)
        .output()
        .unwrap();
    let subject = String::from_utf8_lossy(&subject.stdout);
    assert!(
        subject.contains(&format!("CN = system:node:{node}"))
            && subject.contains("O = system:nodes"),
        "{subject}"
    );

    // Without a container runtime the kubelet exits before registering its Node; a Node of
    // that name is what a running node would have made.
    let exited = wait_for(30, || {
        std::fs::read_to_string(&first.proc.log)
            .unwrap_or_default()
            .contains("validate service connection")
            .then_some(())
    });
    drop(first);
    let registered = !h
        .kubectl(&["get", "node", &node, "--ignore-not-found", "-o", "name"])
        .ok()
        .stdout
        .trim()
        .is_empty();
    if !registered {
        eprintln!(
            "the kubelet registered no Node (exited on the missing runtime: {}): creating node/{node}",
            exited.is_some()
        );
        h.node(&node, &[]);
    }

    // A second real kubelet, same token, the registered node's name: refused by the rule.
    let second = Kubelet::start(&h, &dir.join("kubelet-2"), &boot, &node);
    let csr2 = new_csr(&h, &id, std::slice::from_ref(&name), &second);
    let name2 = csr2["metadata"]["name"].as_str().unwrap().to_string();
    let want =
        format!("left pending: csr/{name2} ({user}): rejoin: Node {node} is already registered");
    wait_for(30, || {
        format!("{}{}", a.text(), b.text())
            .contains(&want)
            .then_some(())
    })
    .unwrap_or_else(|| panic!("no replica logged {want:?}:\n{}", logs(&a, &b)));
    let out = h.ours(&["approve", &name2, "-o", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let item = &json(&out.stdout)["items"][0];
    assert_eq!(item["action"], "pending", "{item}");
    assert!(
        item["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("rejoin: Node {node} is already registered")),
        "{item}"
    );
    let v = h.csr(&name2);
    assert!(
        v["status"]["conditions"].is_null() && v["status"]["certificate"].is_null(),
        "csr/{name2} was touched: {}",
        v["status"]
    );
    assert!(!second.has_certificate(), "{}", second.proc.tail());

    // SIGTERM: both exit 0, the leader releases the Lease; one approval of csr/<name> in all.
    let (sa, sb) = (stop(&mut a), stop(&mut b));
    let both = format!("{sa}{sb}");
    assert_eq!(
        both.matches(&format!("approved csr/{name} ")).count(),
        1,
        "{both}"
    );
    // Both stop on SIGTERM; the leader releases the Lease. (The follower may take the Lease
    // over in the moment between the two signals and then release it too: either is right.)
    assert_eq!(both.matches("stopped by SIGTERM").count(), 2, "{both}");
    assert!(
        both.contains("stopped by SIGTERM, lease released"),
        "{both}"
    );

    // The refusal was the rejoin rule alone: --allow-rejoin lets the rebuilt node in.
    let out = h
        .ours(&["approve", &name2, "--allow-rejoin", "-o", "json"])
        .ok();
    assert_eq!(json(&out.stdout)["items"][0]["action"], "approved");
    wait_for(60, || second.has_certificate().then_some(())).unwrap_or_else(|| {
        panic!(
            "the second kubelet wrote no certificate after --allow-rejoin:\n{}",
            second.proc.tail()
        )
    });
    assert_eq!(conditions(&h, &name2), ["Approved"]);
    eprintln!("kubelet approval proof took {:?}", start.elapsed());
}
