//! End-to-end proofs of `approve` against the real control plane: CSRs made with openssl and
//! submitted as the node or bootstrap identity (impersonation), Nodes made with kubectl, the
//! certificate issued by the real csrsigning controller, every hostile case refused with its
//! rule and never approved, and two controllers racing on the same CSRs approving each once.
//! Checked with kubectl and openssl, not only our own output.
//!
//! The tests share one cluster-wide resource (every pending CSR), so they run one at a time.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use common::{Harness, Out, harness, our_bin, unique, wait_for};
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

const SERVING: &str = "kubernetes.io/kubelet-serving";
const CLIENT: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// A group allowed to create CSRs (bound below), so non-node requesters can submit some.
const CREATORS: &str = "kjt-e2e:csr-creators";
/// The extra group of our bootstrap tokens: not kubeadm's default group, which the
/// controller-manager's csrapproving controller would auto-approve before we could look.
const BOOT_GROUP: &str = "system:bootstrappers:kjt-e2e-approve";

/// A CSR to make.
struct Spec<'a> {
    name: String,
    signer: &'a str,
    subject: String,
    sans: Option<String>,
    /// `ec` (P-256) or `rsa<bits>`.
    key: &'a str,
    usages: &'a [&'a str],
    expiration: Option<i64>,
    user: String,
    groups: Vec<String>,
}

impl<'a> Spec<'a> {
    /// What a kubelet on `node` sends for its serving certificate.
    fn serving(node: &str, sans: &str) -> Self {
        Spec {
            name: unique("e2e-serving-"),
            signer: SERVING,
            subject: format!("/O=system:nodes/CN=system:node:{node}"),
            sans: Some(sans.to_string()),
            key: "ec",
            usages: &["digital signature", "server auth"],
            expiration: None,
            user: format!("system:node:{node}"),
            groups: vec!["system:nodes".into(), "system:authenticated".into()],
        }
    }
}

fn dir(h: &Harness) -> PathBuf {
    let d = h.dir.join("approve-e2e");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sh(program: &str, args: &[&str]) -> std::process::Output {
    let o = Command::new(program).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A key and PKCS#10 request made by openssl; returns the PEM request.
fn openssl_csr(h: &Harness, s: &Spec) -> Vec<u8> {
    let d = dir(h);
    let key = d.join(format!("{}.key", s.name));
    let req = d.join(format!("{}.csr", s.name));
    let key_s = key.to_str().unwrap();
    if s.key == "ec" {
        sh(
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                key_s,
            ],
        );
    } else {
        let bits = format!("rsa_keygen_bits:{}", &s.key[3..]);
        sh(
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                &bits,
                "-out",
                key_s,
            ],
        );
    }
    let mut args = vec![
        "req",
        "-new",
        "-key",
        key_s,
        "-subj",
        &s.subject,
        "-out",
        req.to_str().unwrap(),
    ];
    let san;
    if let Some(sans) = &s.sans {
        san = format!("subjectAltName={sans}");
        args.extend(["-addext", &san]);
    }
    sh("openssl", &args);
    std::fs::read(&req).unwrap()
}

/// The CSR object's YAML for `s` with `request` (PEM).
fn csr_yaml(s: &Spec, request: &[u8]) -> String {
    use base64::Engine;
    let mut spec = serde_json::json!({
        "signerName": s.signer,
        "usages": s.usages,
        "request": base64::engine::general_purpose::STANDARD.encode(request),
    });
    if let Some(e) = s.expiration {
        spec["expirationSeconds"] = e.into();
    }
    serde_json::json!({
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": s.name},
        "spec": spec,
    })
    .to_string()
}

/// `kubectl create -f` as the spec's requester (impersonated).
fn submit_yaml(h: &Harness, s: &Spec, yaml: &str) {
    let f = dir(h).join(format!("{}.json", s.name));
    std::fs::write(&f, yaml).unwrap();
    let mut args: Vec<String> = vec!["create".into(), "-f".into(), f.display().to_string()];
    args.extend(["--as".into(), s.user.clone()]);
    for g in &s.groups {
        args.extend(["--as-group".into(), g.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    h.kubectl(&args).ok();
}

/// Makes and submits the CSR; returns its PEM request.
fn submit(h: &Harness, s: &Spec) -> Vec<u8> {
    let req = openssl_csr(h, s);
    submit_yaml(h, s, &csr_yaml(s, &req));
    req
}

/// The condition types of a CSR, in order (`Approved`, `Denied`, …).
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

/// Objects the suite needs once: a group that may create CSRs, and the bootstrap group bound
/// to kubelet bootstrapping (not to auto-approval).
fn rbac(h: &Harness) {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        let _ = h.kubectl(&["delete", "clusterrolebinding", "kjt-e2e-approve-creators"]);
        h.kubectl(&[
            "create",
            "clusterrolebinding",
            "kjt-e2e-approve-creators",
            "--clusterrole=system:node-bootstrapper",
            &format!("--group={CREATORS}"),
            &format!("--group={BOOT_GROUP}"),
        ])
        .ok();
    });
}

fn approve(h: &Harness, args: &[&str]) -> Out {
    let mut a = vec!["approve"];
    a.extend_from_slice(args);
    h.ours(&a)
}

fn items(out: &Out) -> Vec<Value> {
    let v: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    v["items"].as_array().unwrap().clone()
}

#[test]
fn a_valid_serving_csr_is_approved_and_issued_with_the_sans_asked() {
    let Some(h) = harness() else { return };
    let _l = lock();
    let n = unique("node-ok-");
    h.node(&n, &[("InternalIP", "192.0.2.10"), ("Hostname", &n)]);
    let s = Spec::serving(&n, &format!("DNS:{n},IP:192.0.2.10"));
    submit(&h, &s);
    let out = approve(&h, &[&s.name, "-o", "json"]).ok();
    let it = items(&out);
    assert_eq!(it.len(), 1);
    assert_eq!(it[0]["action"], "approved", "{out:?}");
    assert!(
        it[0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["passed"] == true)
    );
    // Issued by the real signer, for exactly what was asked.
    let cert = wait_for(30, || {
        h.csr(&s.name)["status"]["certificate"]
            .as_str()
            .map(String::from)
    })
    .expect("the csrsigning controller issued no certificate");
    use base64::Engine;
    let pem = base64::engine::general_purpose::STANDARD
        .decode(cert)
        .unwrap();
    let f = dir(&h).join(format!("{}.crt", s.name));
    std::fs::write(&f, pem).unwrap();
    let text = String::from_utf8(
        sh(
            "openssl",
            &[
                "x509",
                "-in",
                f.to_str().unwrap(),
                "-noout",
                "-ext",
                "subjectAltName,extendedKeyUsage",
                "-subject",
            ],
        )
        .stdout,
    )
    .unwrap();
    assert!(
        text.contains(&format!("DNS:{n}, IP Address:192.0.2.10")),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(text.contains(&format!("CN = system:node:{n}")), "{text}");
    let cond = &h.csr(&s.name)["status"]["conditions"][0];
    assert_eq!(cond["reason"], "KubectlJointokenApprove");
    // Approving again does nothing: it is no longer pending.
    let again = approve(&h, &[&s.name, "-o", "json"]);
    assert_eq!(items(&again)[0]["reason"], "already approved");
    assert_eq!(conditions(&h, &s.name), ["Approved"]);
}

#[test]
fn hostile_csrs_are_refused_with_the_reason_and_never_approved() {
    let Some(h) = harness() else { return };
    let _l = lock();
    rbac(&h);
    let n = unique("node-h-");
    let other = unique("node-o-");
    h.node(&n, &[("InternalIP", "192.0.2.20"), ("Hostname", &n)]);
    h.node(
        &other,
        &[("InternalIP", "192.0.2.21"), ("Hostname", &other)],
    );
    let ok_sans = format!("DNS:{n},IP:192.0.2.20");
    let ghost = unique("ghost-");
    let mut cases: Vec<(Spec, &str)> = Vec::new();
    let mut c = Spec::serving(&n, &format!("{ok_sans},IP:10.9.9.9"));
    c.name = unique("e2e-ip-off-node-");
    cases.push((c, "ip-sans: IP 10.9.9.9 is not an address of the Node"));
    let mut c = Spec::serving(&n, &format!("{ok_sans},DNS:{other}"));
    c.name = unique("e2e-other-dns-");
    cases.push((c, "dns-sans: DNS name"));
    let mut c = Spec::serving(&n, &format!("{ok_sans},DNS:{n}.evil.example.com"));
    c.name = unique("e2e-prefix-dns-");
    cases.push((c, "evil.example.com"));
    let mut c = Spec::serving(&n, &ok_sans);
    c.name = unique("e2e-cn-other-");
    c.subject = format!("/O=system:nodes/CN=system:node:{other}");
    cases.push((c, "subject: CN"));
    let mut c = Spec::serving(&n, &ok_sans);
    c.name = unique("e2e-not-a-node-");
    c.user = "alice".into();
    c.groups = vec![CREATORS.into(), "system:authenticated".into()];
    cases.push((c, "requester: \"alice\" is not a node"));
    let mut c = Spec::serving(&n, &ok_sans);
    c.name = unique("e2e-no-node-group-");
    c.groups = vec![CREATORS.into(), "system:authenticated".into()];
    cases.push((c, "groups: "));
    let mut c = Spec::serving(&n, &ok_sans);
    c.name = unique("e2e-too-long-");
    c.expiration = Some(100_000_000);
    cases.push((c, "expiration: expirationSeconds 100000000"));
    let mut c = Spec::serving(&ghost, &format!("DNS:{ghost}"));
    c.name = unique("e2e-no-node-");
    cases.push((c, "node: Node"));
    let mut c = Spec::serving(&n, &ok_sans);
    c.name = unique("e2e-rsa1024-");
    c.key = "rsa1024";
    c.usages = &["digital signature", "key encipherment", "server auth"];
    cases.push((c, "key: RSA 1024 is not allowed"));
    // Another signer: an admin client certificate (kube-apiserver-client) is never touched.
    let masters = Spec {
        name: unique("e2e-masters-"),
        signer: "kubernetes.io/kube-apiserver-client",
        // The apiserver itself refuses this signer for O=system:masters; any other group is
        // what an attacker would try next.
        subject: "/O=kjt-e2e:admins/CN=admin".into(),
        sans: None,
        key: "ec",
        usages: &["digital signature", "client auth"],
        expiration: None,
        user: "alice".into(),
        groups: vec![CREATORS.into()],
    };
    for (s, _) in &cases {
        submit(&h, s);
    }
    submit(&h, &masters);
    let names: Vec<&str> = cases.iter().map(|(s, _)| s.name.as_str()).collect();

    // --explain names the rule for each, writes nothing.
    let mut args = names.clone();
    args.extend(["--explain", "-o", "json"]);
    let out = approve(&h, &args);
    assert_eq!(out.code, 1, "named CSRs were not approved: {}", out.stderr);
    let it = items(&out);
    for (s, want) in &cases {
        let i = it.iter().find(|i| i["name"] == s.name.as_str()).unwrap();
        assert_eq!(i["action"], "pending", "{i}");
        let reason = i["reason"].as_str().unwrap();
        assert!(reason.contains(want), "{}: {reason} !~ {want}", s.name);
    }

    // A real run: each stays pending, its reason on stderr; the other signer is skipped.
    let mut args = names.clone();
    args.push(&masters.name);
    let out = approve(&h, &args);
    assert_eq!(out.code, 1, "{}", out.stderr);
    for (s, want) in &cases {
        let line = out
            .stderr
            .lines()
            .find(|l| l.contains(&format!("left pending: csr/{} ", s.name)))
            .unwrap_or_else(|| panic!("no reason for {} in:\n{}", s.name, out.stderr));
        assert!(line.contains(want), "{line}");
        assert!(conditions(&h, &s.name).is_empty(), "{} was touched", s.name);
    }
    let json = approve(&h, &[&masters.name, "-o", "json"]);
    let m = &items(&json)[0];
    assert_eq!(m["action"], "skipped", "{m}");
    assert!(
        m["reason"]
            .as_str()
            .unwrap()
            .contains("not a kubelet signer: not touched"),
        "{m}"
    );
    assert!(conditions(&h, &masters.name).is_empty());

    // An unnamed run leaves them all alone too (and exits 0: refusals are normal).
    approve(&h, &[]).ok();
    // --deny: a Denied condition carrying the rule; the other signer is still untouched.
    let mut args = names.clone();
    args.extend(["--deny", &masters.name]);
    approve(&h, &args);
    for (s, want) in &cases {
        let v = h.csr(&s.name);
        let conds = v["status"]["conditions"].as_array().unwrap();
        assert_eq!(conds.len(), 1, "{}", s.name);
        assert_eq!(conds[0]["type"], "Denied");
        assert_eq!(conds[0]["reason"], "KubectlJointokenDeny");
        assert!(
            conds[0]["message"].as_str().unwrap().contains(want),
            "{}",
            conds[0]
        );
    }
    assert!(conditions(&h, &masters.name).is_empty());
}

#[test]
fn a_denied_csr_asked_again_is_not_approved() {
    let Some(h) = harness() else { return };
    let _l = lock();
    let n = unique("node-d-");
    h.node(&n, &[("InternalIP", "192.0.2.30"), ("Hostname", &n)]);
    let s = Spec::serving(&n, &format!("DNS:{n}"));
    let req = submit(&h, &s);
    h.kubectl(&["certificate", "deny", &s.name]).ok();
    // The same request (same key) under a new name: refused while the denial stands.
    let again = Spec {
        name: unique("e2e-again-"),
        ..Spec::serving(&n, "")
    };
    submit_yaml(&h, &again, &csr_yaml(&again, &req));
    let out = approve(&h, &[&again.name, "-o", "json"]);
    assert_eq!(out.code, 1);
    let reason = items(&out)[0]["reason"].as_str().unwrap().to_string();
    assert!(
        reason.starts_with("denied-before: CSR ") && reason.contains(&s.name),
        "{reason}"
    );
    assert!(conditions(&h, &again.name).is_empty());
    // A hostile CSR we denied, deleted and recreated with the same name and content is
    // refused and denied again.
    let mut bad = Spec::serving(&n, "IP:10.9.9.9");
    bad.name = unique("e2e-redo-");
    let bad_req = submit(&h, &bad);
    approve(&h, &[&bad.name, "--deny"]);
    assert_eq!(conditions(&h, &bad.name), ["Denied"]);
    h.kubectl(&["delete", "csr", &bad.name]).ok();
    submit_yaml(&h, &bad, &csr_yaml(&bad, &bad_req));
    let out = approve(&h, &[&bad.name, "--deny", "-o", "json"]);
    assert_eq!(items(&out)[0]["action"], "denied");
    assert_eq!(conditions(&h, &bad.name), ["Denied"]);
}

/// Spawns `approve --watch` as a child.
fn spawn_watch(h: &Harness, lease: &str, id: &str) -> std::process::Child {
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
        .env("KUBECONFIG", &h.kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn sigterm(child: &std::process::Child) {
    sh("kill", &["-TERM", &child.id().to_string()]);
}

/// `count` serving CSRs for `node`, created with one `kubectl create`.
fn batch(h: &Harness, node: &str, ip: &str, count: usize, prefix: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut names = Vec::new();
    let mut last = None;
    for _ in 0..count {
        let s = Spec {
            name: unique(prefix),
            ..Spec::serving(node, &format!("DNS:{node},IP:{ip}"))
        };
        docs.push(csr_yaml(&s, &openssl_csr(h, &s)));
        names.push(s.name.clone());
        last = Some(s);
    }
    let s = last.unwrap();
    let list = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}}",
        docs.join(",")
    );
    submit_yaml(
        h,
        &Spec {
            name: unique("batch-"),
            ..s
        },
        &list,
    );
    names
}

fn approved_once(h: &Harness, names: &[String]) -> bool {
    names
        .iter()
        .all(|n| conditions(h, n).iter().filter(|c| *c == "Approved").count() == 1)
}

#[test]
fn two_controllers_racing_approve_each_csr_exactly_once_and_fail_over() {
    let Some(h) = harness() else { return };
    let _l = lock();
    let n = unique("node-w-");
    h.node(&n, &[("InternalIP", "192.0.2.40"), ("Hostname", &n)]);
    let lease = unique("e2e-approve-");
    let a = spawn_watch(&h, &lease, "replica-a");
    let b = spawn_watch(&h, &lease, "replica-b");
    let names = batch(&h, &n, "192.0.2.40", 50, "e2e-race-");
    assert!(
        wait_for(60, || approved_once(&h, &names).then_some(())).is_some(),
        "not every CSR was approved"
    );
    // Give a straggling replica time to do something wrong, then look again.
    std::thread::sleep(std::time::Duration::from_secs(3));
    for name in &names {
        assert_eq!(conditions(&h, name), ["Approved"], "{name}");
    }
    // Stop the leader: it releases the Lease, the other takes over and approves new CSRs.
    let holder = h
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "lease",
            &lease,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])
        .ok()
        .stdout;
    let (leader, follower) = if holder.starts_with("replica-a/") {
        (a, b)
    } else {
        (b, a)
    };
    sigterm(&leader);
    let out = leader.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("stopped by SIGTERM, lease released"),
        "{stderr}"
    );
    assert!(stderr.contains("approved csr/"), "{stderr}");
    let more = batch(&h, &n, "192.0.2.40", 5, "e2e-failover-");
    assert!(
        wait_for(30, || approved_once(&h, &more).then_some(())).is_some(),
        "the follower did not take over"
    );
    sigterm(&follower);
    let out = follower.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn two_one_shot_runs_at_once_approve_each_csr_exactly_once() {
    let Some(h) = harness() else { return };
    let _l = lock();
    let n = unique("node-r-");
    h.node(&n, &[("InternalIP", "192.0.2.50"), ("Hostname", &n)]);
    let names = batch(&h, &n, "192.0.2.50", 30, "e2e-oneshot-");
    let kids: Vec<_> = (0..2)
        .map(|_| {
            Command::new(our_bin("kubectl-jointoken"))
                .args(["approve", "--concurrency", "4", "-o", "json"])
                .env("KUBECONFIG", &h.kubeconfig)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut approved = 0;
    for k in kids {
        let o = k.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        approved += v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| {
                i["action"] == "approved"
                    && names.contains(&i["name"].as_str().unwrap().to_string())
            })
            .count();
    }
    assert_eq!(approved, names.len(), "each approved by exactly one run");
    for name in &names {
        assert_eq!(conditions(&h, name), ["Approved"], "{name}");
    }
}

#[test]
fn bootstrap_client_csrs_need_a_live_token_and_a_new_node_name() {
    let Some(h) = harness() else { return };
    let _l = lock();
    rbac(&h);
    let create = |ttl: &str| -> String {
        let out = h
            .ours(&["create", "-o", "json", "--ttl", ttl, "--groups", BOOT_GROUP])
            .ok();
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        v["id"].as_str().unwrap().to_string()
    };
    let client = |id: &str, node: &str| Spec {
        name: unique("e2e-client-"),
        signer: CLIENT,
        subject: format!("/O=system:nodes/CN=system:node:{node}"),
        sans: None,
        key: "ec",
        usages: &["digital signature", "client auth"],
        expiration: None,
        user: format!("system:bootstrap:{id}"),
        groups: vec![
            "system:bootstrappers".into(),
            BOOT_GROUP.into(),
            "system:authenticated".into(),
        ],
    };
    // A live token, a new node: approved and issued.
    let id = create("1h");
    let good = client(&id, &unique("new-node-"));
    submit(&h, &good);
    let out = approve(&h, &[&good.name, "-o", "json"]).ok();
    assert_eq!(items(&out)[0]["action"], "approved", "{}", out.stdout);
    assert!(
        wait_for(30, || h.csr(&good.name)["status"]["certificate"]
            .as_str()
            .map(|_| ()))
        .is_some()
    );
    // The token deleted after the CSR was made: refused.
    let gone = create("1h");
    let late = client(&gone, &unique("new-node-"));
    submit(&h, &late);
    h.kubectl(&[
        "-n",
        "kube-system",
        "delete",
        "secret",
        &format!("bootstrap-token-{gone}"),
    ])
    .ok();
    let out = approve(&h, &[&late.name, "-o", "json"]);
    assert_eq!(out.code, 1);
    let reason = items(&out)[0]["reason"].as_str().unwrap().to_string();
    assert_eq!(
        reason,
        format!(
            "token: bootstrap token {gone} does not exist in kube-system (deleted, or cleaned up after expiry)"
        )
    );
    // A token whose expiry has passed (tokencleaner has not removed it yet): refused.
    let old = create("1h");
    h.kubectl(&[
        "-n",
        "kube-system",
        "patch",
        "secret",
        &format!("bootstrap-token-{old}"),
        "--type=merge",
        "-p",
        "{\"stringData\":{\"expiration\":\"2020-01-01T00:00:00Z\"}}",
    ])
    .ok();
    let expired = client(&old, &unique("new-node-"));
    submit(&h, &expired);
    let out = approve(&h, &[&expired.name, "-o", "json"]);
    let reason = items(&out)[0]["reason"].as_str().unwrap().to_string();
    // The controller-manager's tokencleaner deletes an expired token as soon as it sees it,
    // so either refusal may come; the expired-but-present case is unit-tested.
    assert!(
        reason.starts_with(&format!("token: bootstrap token {old} expired"))
            || reason.starts_with(&format!("token: bootstrap token {old} does not exist")),
        "{reason}"
    );
    // A token that may not authenticate (signing only): refused.
    let out = h
        .ours(&[
            "create", "-o", "json", "--usages", "signing", "--groups", "",
        ])
        .ok();
    let signing: Value = serde_json::from_str(&out.stdout).unwrap();
    let signing = signing["id"].as_str().unwrap().to_string();
    let s = client(&signing, &unique("new-node-"));
    submit(&h, &s);
    let out = approve(&h, &[&s.name, "-o", "json"]);
    let reason = items(&out)[0]["reason"].as_str().unwrap().to_string();
    assert_eq!(
        reason,
        format!("token: bootstrap token {signing} does not have usage-bootstrap-authentication")
    );
    // A live token asking for a registered node's identity: refused unless --allow-rejoin.
    let taken = unique("taken-");
    h.node(&taken, &[("InternalIP", "192.0.2.60")]);
    let rejoin = client(&id, &taken);
    submit(&h, &rejoin);
    let out = approve(&h, &[&rejoin.name, "-o", "json"]);
    assert!(
        items(&out)[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("rejoin: Node "),
        "{}",
        out.stdout
    );
    let out = approve(&h, &[&rejoin.name, "--allow-rejoin", "-o", "json"]).ok();
    assert_eq!(items(&out)[0]["action"], "approved");
    for s in [&late, &expired, &s] {
        assert!(conditions(&h, &s.name).is_empty(), "{}", s.name);
    }
}

#[test]
fn the_in_cluster_approver_is_valid_and_least_privilege() {
    let Some(h) = harness() else { return };
    let _l = lock();
    let args = |action: &'static str| {
        vec![
            "approve",
            action,
            "--in-cluster",
            "--image",
            "registry.example/kubectl-jointoken:0.1.0",
            "--dns-pattern",
            "{node}.nodes.example.com",
        ]
    };
    let rendered = h.ours(&args("render")).ok().stdout;
    let f = dir(&h).join("approver.yaml");
    std::fs::write(&f, &rendered).unwrap();
    let dry = h
        .kubectl(&["apply", "--dry-run=server", "-f", f.to_str().unwrap()])
        .ok();
    assert_eq!(dry.stdout.lines().count(), 6, "{}", dry.stdout);
    h.ours(&args("install")).ok();
    let d: Value = serde_json::from_str(
        &h.kubectl(&[
            "-n",
            "kube-system",
            "get",
            "deployment",
            "kubectl-jointoken-approve",
            "-o",
            "json",
        ])
        .ok()
        .stdout,
    )
    .unwrap();
    assert_eq!(d["spec"]["replicas"], 2);
    let argv = d["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(
        argv.contains("--dns-pattern={node}.nodes.example.com"),
        "{argv}"
    );
    let sa = "system:serviceaccount:kube-system:kubectl-jointoken-approve";
    let can = |a: &[&str]| {
        let mut v = vec!["auth", "can-i", "--as", sa];
        v.extend_from_slice(a);
        h.kubectl(&v).stdout.trim().to_string()
    };
    let yes: &[&[&str]] = &[
        &["list", "certificatesigningrequests"],
        &["watch", "certificatesigningrequests"],
        &[
            "update",
            "certificatesigningrequests",
            "--subresource=approval",
        ],
        &["get", "nodes"],
        &["-n", "kube-system", "get", "secrets"],
        &["-n", "kube-system", "create", "leases"],
        &[
            "-n",
            "kube-system",
            "update",
            "leases/kubectl-jointoken-approve",
        ],
    ];
    let no: &[&[&str]] = &[
        &["create", "certificatesigningrequests"],
        &["delete", "certificatesigningrequests"],
        &[
            "update",
            "certificatesigningrequests",
            "--subresource=status",
        ],
        &["delete", "nodes"],
        &["-n", "kube-system", "list", "secrets"],
        &["-n", "default", "get", "secrets"],
        &[
            "-n",
            "kube-system",
            "update",
            "leases/kube-controller-manager",
        ],
    ];
    // `kubectl auth can-i` cannot name a signer (not a discoverable resource, and its name
    // has a slash): ask the apiserver with a SubjectAccessReview for the service account.
    let may_approve = |signer: &str| {
        let sar = serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": sa,
                "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
                "resourceAttributes": {"group": "certificates.k8s.io", "resource": "signers", "verb": "approve", "name": signer},
            },
        });
        let f = dir(&h).join("sar.json");
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
    };
    assert!(may_approve("kubernetes.io/kubelet-serving"));
    assert!(may_approve("kubernetes.io/kube-apiserver-client-kubelet"));
    assert!(!may_approve("kubernetes.io/kube-apiserver-client"));
    assert!(!may_approve("kubernetes.io/legacy-unknown"));
    assert!(!may_approve("example.com/anything"));
    for a in yes {
        assert_eq!(can(a), "yes", "{a:?}");
    }
    for a in no {
        assert_eq!(can(a), "no", "{a:?}");
    }
    // And it is enough: the service account itself approves a valid CSR.
    let n = unique("node-sa-");
    h.node(&n, &[("InternalIP", "192.0.2.70"), ("Hostname", &n)]);
    let s = Spec::serving(&n, &format!("DNS:{n},IP:192.0.2.70"));
    submit(&h, &s);
    let out = h.ours(&["approve", &s.name, "--as", sa, "-o", "json"]).ok();
    assert_eq!(items(&out)[0]["action"], "approved");
    assert_eq!(conditions(&h, &s.name), ["Approved"]);
}

/// Tokens bound to a node (`create --for-node`): `approve` approves a client CSR from one only
/// for its node's name, and consumes it in the same step: with `--max-joins 1` the token is
/// deleted right after the approval and no longer authenticates; with `--max-joins 2` the
/// first join is counted and the second deletes it.
#[test]
fn bound_tokens_are_approved_only_for_their_node_and_consumed() {
    let Some(h) = harness() else { return };
    let _l = lock();
    // The node group of bound tokens may create CSRs (as `setup --no-auto-approve` grants).
    let crb = unique("kjt-e2e-bound-");
    h.kubectl(&[
        "create",
        "clusterrolebinding",
        &crb,
        "--clusterrole=system:node-bootstrapper",
        "--group=system:bootstrappers:jointoken:node",
    ])
    .ok();
    let bound = |node: &str, max: &str| -> (String, String) {
        let out = h
            .ours(&[
                "create",
                "--for-node",
                node,
                "--max-joins",
                max,
                "-o",
                "json",
            ])
            .ok();
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        let first = if v["items"].is_array() {
            v["items"][0].clone()
        } else {
            v
        };
        (
            first["id"].as_str().unwrap().to_string(),
            first["token"].as_str().unwrap().to_string(),
        )
    };
    let client = |id: &str, node: &str| Spec {
        name: unique("e2e-bound-"),
        signer: CLIENT,
        subject: format!("/O=system:nodes/CN=system:node:{node}"),
        sans: None,
        key: "ec",
        usages: &["digital signature", "client auth"],
        expiration: None,
        user: format!("system:bootstrap:{id}"),
        groups: vec![
            "system:bootstrappers".into(),
            "system:bootstrappers:jointoken:node".into(),
            "system:authenticated".into(),
        ],
    };
    let node_a = unique("bound-a-");
    let (id, token) = bound(&node_a, "1");
    assert_eq!(
        h.whoami_with_token(&token).code,
        0,
        "the bound token authenticates"
    );
    // Another node's name from this token: refused, the token untouched.
    let wrong = client(&id, &unique("bound-other-"));
    submit(&h, &wrong);
    let out = approve(&h, &[&wrong.name, "-o", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(items(&out)[0]["action"], "pending", "{}", out.stdout);
    let why = items(&out)[0]["reason"].as_str().unwrap().to_string();
    assert!(why.contains(&node_a), "{why}");
    // Its own node: approved, and the single-use token is deleted in the same step.
    let right = client(&id, &node_a);
    submit(&h, &right);
    let out = approve(&h, &[&right.name, "-o", "json"]).ok();
    assert_eq!(items(&out)[0]["action"], "approved", "{}", out.stdout);
    let why = items(&out)[0]["reason"].as_str().unwrap().to_string();
    assert!(why.contains("used up") && why.contains("deleted"), "{why}");
    assert_ne!(
        h.kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secret",
            &format!("bootstrap-token-{id}")
        ])
        .code,
        0,
        "consumed"
    );
    assert!(
        wait_for(30, || (h.whoami_with_token(&token).code != 0).then_some(())).is_some(),
        "a consumed token no longer authenticates"
    );
    // --max-joins 3: four nodes ask while the token is live; counted at each approval, the
    // token deleted at the third, and the fourth join refused (its token is gone).
    let node_b = unique("bound-b-");
    let (id2, token2) = bound(&node_b, "3");
    let joins: Vec<Spec> = (0..4).map(|_| client(&id2, &node_b)).collect();
    for c in &joins {
        submit(&h, c);
    }
    for (c, want) in joins
        .iter()
        .zip(["1 of 3 joins used", "2 of 3 joins used", "used up"])
    {
        let out = approve(&h, &[&c.name, "-o", "json", "--allow-rejoin"]).ok();
        assert_eq!(
            items(&out)[0]["action"],
            "approved",
            "{want}: {}",
            out.stdout
        );
        let why = items(&out)[0]["reason"].as_str().unwrap().to_string();
        assert!(why.contains(want), "{why}");
    }
    let fourth = &joins[3];
    let out = approve(&h, &[&fourth.name, "-o", "json", "--allow-rejoin"]);
    assert_eq!(
        out.code, 1,
        "the fourth join was not refused: {}",
        out.stdout
    );
    assert_eq!(items(&out)[0]["action"], "pending", "{}", out.stdout);
    let why = items(&out)[0]["reason"].as_str().unwrap().to_string();
    assert!(
        why.contains(&format!("bootstrap token {id2} does not exist")),
        "{why}"
    );
    assert!(
        conditions(&h, &fourth.name).is_empty(),
        "the fourth join's CSR changed state"
    );
    assert!(
        wait_for(30, || (h.whoami_with_token(&token2).code != 0)
            .then_some(()))
        .is_some(),
        "the used-up token still authenticates"
    );
    h.kubectl(&["delete", "clusterrolebinding", &crb]).ok();
}
