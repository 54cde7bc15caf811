//! End-to-end proof of `approve` on the serving certificate of a real kubelet running on a real
//! containerd (issue #13), against the kubeadm-mode harness of `scripts/e2e up`: there the
//! controller-manager's csrapproving controller approves the client CSR of kubeadm's default
//! bootstrap group, so the kubelet gets its client certificate by itself and the serving CSR
//! is the only thing left to approve, exactly as on a kubeadm cluster.
//!
//! A bootstrap kubeconfig from our `create` + `kubeconfig`; containerd and the kubelet as root
//! (own dirs, ports and socket; the node IP a TEST-NET-2 address on `lo`, removed afterwards);
//! the kubelet registers its Node and asks for its serving certificate, which stays Pending
//! (and the kubelet serves no certificate) until `approve` approves it. Hostile variants of the
//! same CSR, made by openssl and submitted with the kubelet's own client certificate, are each
//! refused by the rule they break and stay unapproved. The approved CSR is issued by the real
//! csrsigning controller and the kubelet then serves exactly that certificate (compared byte
//! for byte over TLS with openssl s_client). Checked with kubectl and openssl.
//!
//! Needs root (containerd, an address on `lo`, the kubelet's sysctls and bind mount): without
//! it the test fails, as it does without the harness; only `KJT_SKIP_E2E=1` skips it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::kubelet::Proc;
use common::{Harness, harness, unique, wait_for};
use serde_json::Value;

const SERVING: &str = "kubernetes.io/kubelet-serving";

/// The kernel settings a kubelet without `protectKernelDefaults` rewrites on start
/// (pkg/kubelet/cm setupKernelTunables): put back afterwards, so the host is left as found.
const KUBELET_SYSCTLS: &[&str] = &[
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
];

/// A directory the kubelet creates at a fixed path (not under --root-dir).
const CONTAINER_LOGS: &str = "/var/log/containers";

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Runs a host tool; its output, whatever the exit code.
fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

/// Runs a host tool that must succeed; its stdout.
fn sh(program: &str, args: &[&str]) -> Vec<u8> {
    let o = run(program, args);
    assert!(
        o.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Fails (never skips) unless we are root: containerd and the node address need it.
fn require_root() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("?")
        .to_string();
    assert_eq!(
        euid, "0",
        "e2e_serving must run as root (containerd, an address on lo, the kubelet's sysctls and \
         mounts); run it as root or set KJT_SKIP_E2E=1 to skip e2e tests explicitly"
    );
}

/// A /32 address on `lo` for the node (a kubelet's node IP may not be loopback), removed on
/// drop, also when the test panics. From TEST-NET-2 (RFC 5737), random per run so concurrent
/// runs do not share one; a leftover of a crashed run is taken over and removed.
struct LoAddress(String);

impl LoAddress {
    fn add() -> LoAddress {
        let mut b = [0u8; 1];
        getrandom::fill(&mut b).unwrap();
        let ip = format!("198.51.100.{}", 10 + b[0] % 240);
        let o = run("ip", &["addr", "add", &format!("{ip}/32"), "dev", "lo"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() || err.contains("exists") || err.contains("already assigned"),
            "ip addr add {ip}/32 dev lo: {err}"
        );
        LoAddress(ip)
    }
}

impl Drop for LoAddress {
    fn drop(&mut self) {
        let _ = run(
            "ip",
            &["addr", "del", &format!("{}/32", self.0), "dev", "lo"],
        );
    }
}

/// Host state the node side changes, put back on drop: the kubelet's sysctls, its fixed log
/// dir when it did not exist before.
struct HostState {
    sysctls: Vec<(PathBuf, String)>,
    container_logs_existed: bool,
}

impl HostState {
    fn save() -> HostState {
        HostState {
            sysctls: KUBELET_SYSCTLS
                .iter()
                .map(|k| Path::new("/proc/sys").join(k))
                .filter_map(|p| std::fs::read_to_string(&p).ok().map(|v| (p, v)))
                .collect(),
            container_logs_existed: Path::new(CONTAINER_LOGS).exists(),
        }
    }
}

impl Drop for HostState {
    fn drop(&mut self) {
        for (p, v) in &self.sysctls {
            if std::fs::read_to_string(p).ok().as_deref() != Some(v.as_str()) {
                let _ = std::fs::write(p, v);
            }
        }
        if !self.container_logs_existed {
            // Only when empty: never anything someone else put there.
            let _ = std::fs::remove_dir(CONTAINER_LOGS);
        }
    }
}

/// containerd and a kubelet on it, as node `name` with IP `ip`. Dropped in order: the kubelet,
/// its bind mount of --root-dir, containerd.
struct NodeSide {
    name: String,
    ip: String,
    port: u16,
    kubeconfig: PathBuf,
    cert_dir: PathBuf,
    root_dir: PathBuf,
    kubelet: Option<Proc>,
    containerd: Proc,
}

impl NodeSide {
    fn start(h: &Harness, dir: &Path, boot: &Path, name: &str, ip: &str) -> NodeSide {
        let containerd_bin = h.bin.join("containerd");
        assert!(
            containerd_bin.exists(),
            "{} is missing: `scripts/e2e up` builds it (scripts/build-components containerd)",
            containerd_bin.display()
        );
        // Only root, state and the sockets (E2E.md's config, in the current version-4 form,
        // where the sockets are settings of the server plugins), all under our dir. NRI and the
        // /opt plugin are off: they would create /var/run/nri and /opt/containerd on the host.
        let (root, state) = (dir.join("containerd/root"), dir.join("containerd/state"));
        let sock = state.join("containerd.sock");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&state).unwrap();
        let config = dir.join("containerd/config.toml");
        std::fs::write(
            &config,
            format!(
                "version = 4\nroot = {root:?}\nstate = {state:?}\nimports = []\n\
                 disabled_plugins = [\"io.containerd.nri.v1.nri\", \"io.containerd.internal.v1.opt\"]\n\
                 [plugins.\"io.containerd.server.v1.grpc\"]\n  address = {sock:?}\n\
                 [plugins.\"io.containerd.server.v1.ttrpc\"]\n  address = {ttrpc:?}\n",
                ttrpc = state.join("containerd.sock.ttrpc"),
            ),
        )
        .unwrap();
        let mut containerd = Proc::spawn(
            Command::new(&containerd_bin).args(["--config", path(&config)]),
            dir.join("containerd.log"),
        );
        wait_for(30, || {
            assert!(
                containerd.running(),
                "containerd exited:\n{}",
                containerd.tail()
            );
            sock.exists().then_some(())
        })
        .unwrap_or_else(|| panic!("containerd made no socket in 30s:\n{}", containerd.tail()));

        let port = common::free_port();
        let (kubeconfig, cert_dir, root_dir) = (
            dir.join("kubelet.conf"),
            dir.join("pki"),
            dir.join("kubelet-root"),
        );
        let config = dir.join("kubelet-config.yaml");
        std::fs::write(
            &config,
            serde_json::json!({
                "apiVersion": "kubelet.config.k8s.io/v1beta1",
                "kind": "KubeletConfiguration",
                "serverTLSBootstrap": true,
                "rotateCertificates": true,
                "cgroupDriver": "cgroupfs",
                "failSwapOn": false,
                "failCgroupV1": false,
                "cgroupsPerQOS": false,
                "enforceNodeAllocatable": [],
                "address": "127.0.0.1",
                "port": port,
                "readOnlyPort": 0,
                "healthzPort": 0,
                "containerRuntimeEndpoint": format!("unix://{}", sock.display()),
                "podLogsDir": dir.join("pod-logs"),
            })
            .to_string(),
        )
        .unwrap();
        let kubelet = Proc::spawn(
            Command::new(h.bin.join("kubelet"))
                .args([
                    &format!("--config={}", config.display()),
                    &format!("--bootstrap-kubeconfig={}", boot.display()),
                    &format!("--kubeconfig={}", kubeconfig.display()),
                    &format!("--cert-dir={}", cert_dir.display()),
                    &format!("--root-dir={}", root_dir.display()),
                    &format!("--hostname-override={name}"),
                    &format!("--node-ip={ip}"),
                ])
                .current_dir(dir),
            dir.join("kubelet.log"),
        );
        NodeSide {
            name: name.into(),
            ip: ip.into(),
            port,
            kubeconfig,
            cert_dir,
            root_dir,
            kubelet: Some(kubelet),
            containerd,
        }
    }

    fn logs(&self) -> String {
        format!(
            "kubelet:\n{}\ncontainerd:\n{}",
            self.kubelet.as_ref().map(Proc::tail).unwrap_or_default(),
            self.containerd.tail()
        )
    }

    /// The certificate the kubelet presents on its port (PEM), or why there is none.
    fn served(&self) -> Result<String, String> {
        let o = run(
            "timeout",
            &[
                "10",
                "openssl",
                "s_client",
                "-connect",
                &format!("127.0.0.1:{}", self.port),
            ],
        );
        let out = String::from_utf8_lossy(&o.stdout);
        let begin = out.find("-----BEGIN CERTIFICATE-----");
        let end = out.find("-----END CERTIFICATE-----");
        match (begin, end) {
            (Some(b), Some(e)) => Ok(out[b..e + "-----END CERTIFICATE-----".len()].to_string()),
            _ => Err(format!("{out}{}", String::from_utf8_lossy(&o.stderr))),
        }
    }
}

impl Drop for NodeSide {
    fn drop(&mut self) {
        drop(self.kubelet.take());
        // The kubelet bind-mounts --root-dir onto itself (to make it rshared) and leaves it.
        for _ in 0..5 {
            let mounted = std::fs::read_to_string("/proc/self/mountinfo")
                .unwrap_or_default()
                .contains(&format!(" {} ", self.root_dir.display()));
            if !mounted {
                break;
            }
            let _ = run("umount", &["-R", path(&self.root_dir)]);
        }
        self.containerd.stop();
    }
}

/// Deletes what the test made in the cluster (nodes, CSRs, the token), also on a failed
/// assert, so the other e2e binaries sharing the harness find no stray NotReady Node, pending
/// CSR or extra token.
struct ClusterObjects<'a> {
    h: &'a Harness,
    nodes: Vec<String>,
    csrs: Vec<String>,
    token_id: Option<String>,
}

impl Drop for ClusterObjects<'_> {
    fn drop(&mut self) {
        for n in &self.nodes {
            let _ = self
                .h
                .kubectl(&["delete", "node", n, "--ignore-not-found", "--wait=false"]);
        }
        if !self.csrs.is_empty() {
            let mut args = vec!["delete", "csr", "--ignore-not-found", "--wait=false"];
            args.extend(self.csrs.iter().map(String::as_str));
            let _ = self.h.kubectl(&args);
        }
        if let Some(id) = &self.token_id {
            let _ = self.h.kubectl(&[
                "-n",
                "kube-system",
                "delete",
                "secret",
                &format!("bootstrap-token-{id}"),
                "--ignore-not-found",
            ]);
        }
    }
}

/// `kubectl get csr NAME`'s CONDITION column (`Pending`, `Approved,Issued`, …).
fn condition_column(h: &Harness, name: &str) -> String {
    let out = h.kubectl(&["get", "csr", name, "--no-headers"]).ok().stdout;
    out.split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn untouched(v: &Value) -> bool {
    v["status"]["conditions"].is_null() && v["status"]["certificate"].is_null()
}

/// DER bytes of a PEM certificate, by openssl.
fn der(dir: &Path, pem: &str, tag: &str) -> Vec<u8> {
    let f = dir.join(format!("{tag}.pem"));
    std::fs::write(&f, pem).unwrap();
    sh("openssl", &["x509", "-in", path(&f), "-outform", "DER"])
}

/// One hostile variant of the kubelet's serving CSR.
struct Variant {
    /// Object name.
    name: String,
    /// subjectAltName as openssl writes it.
    sans: String,
    /// `ec` (P-256, what the kubelet uses) or `rsa1024`.
    key: &'static str,
    expiration: Option<i64>,
    /// The rule that must refuse it, and text the reason must contain.
    rule: &'static str,
    want: String,
}

/// Makes the variant's key and request with openssl and submits it with the kubelet's own
/// kubeconfig (its client certificate), so the apiserver records the node as the requester.
fn submit_as_node(h: &Harness, node: &NodeSide, dir: &Path, v: &Variant) {
    let key = dir.join(format!("{}.key", v.name));
    let req = dir.join(format!("{}.csr", v.name));
    let mut keygen = vec!["genpkey", "-out", path(&key)];
    keygen.extend(match v.key {
        "ec" => ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "rsa1024" => ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        k => panic!("unknown key {k}"),
    });
    sh("openssl", &keygen);
    let subject = format!("/O=system:nodes/CN=system:node:{}", node.name);
    let san = format!("subjectAltName={}", v.sans);
    sh(
        "openssl",
        &[
            "req",
            "-new",
            "-key",
            path(&key),
            "-subj",
            &subject,
            "-addext",
            &san,
            "-out",
            path(&req),
        ],
    );
    use base64::Engine;
    // What client-go sends for the key kind: key encipherment only for RSA.
    let usages: &[&str] = if v.key == "ec" {
        &["digital signature", "server auth"]
    } else {
        &["digital signature", "key encipherment", "server auth"]
    };
    let mut spec = serde_json::json!({
        "signerName": SERVING,
        "usages": usages,
        "request": base64::engine::general_purpose::STANDARD.encode(std::fs::read(&req).unwrap()),
    });
    if let Some(e) = v.expiration {
        spec["expirationSeconds"] = e.into();
    }
    let obj = serde_json::json!({
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": v.name},
        "spec": spec,
    });
    let f = dir.join(format!("{}.json", v.name));
    std::fs::write(&f, obj.to_string()).unwrap();
    h.kubectl(&[
        "--kubeconfig",
        path(&node.kubeconfig),
        "create",
        "-f",
        path(&f),
    ])
    .ok();
}

#[test]
fn a_real_kubelet_on_containerd_gets_its_serving_certificate_from_approve_only() {
    let Some(h) = harness() else { return };
    require_root();
    let start = Instant::now();
    // kubeadm mode: its auto-approval binding is what issues the kubelet's client certificate.
    let mode = h.kubectl(&[
        "get",
        "clusterrolebinding",
        "kubeadm:node-autoapprove-bootstrap",
        "-o",
        "name",
    ]);
    assert_eq!(
        mode.code, 0,
        "e2e_serving needs the kubeadm-mode harness (`scripts/e2e up`, not --bare): {}",
        mode.stderr
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let name = unique("kjt-e2e-serving-");
    let other = unique("kjt-e2e-serving-other-");
    let mut objects = ClusterObjects {
        h: &h,
        nodes: vec![name.clone()],
        csrs: Vec::new(),
        token_id: None,
    };

    // Our token (kubeadm's default group) and our bootstrap kubeconfig.
    let token = json(
        &h.ours(&["create", "-o", "json", "--ttl", "30m"])
            .ok()
            .stdout,
    );
    let secret = token["token"].as_str().unwrap().to_string();
    let id = token["id"].as_str().unwrap().to_string();
    objects.token_id = Some(id.clone());
    let boot = dir.join("bootstrap-kubelet.conf");
    h.ours(&[
        "kubeconfig",
        "--token",
        &secret,
        "--output-file",
        path(&boot),
    ])
    .ok();

    let _host = HostState::save();
    let addr = LoAddress::add();
    let node = NodeSide::start(&h, dir, &boot, &name, &addr.0);
    let ip = node.ip.clone();

    // The kubelet registers its Node with the node IP, and asks for its serving certificate.
    let registered = wait_for(120, || {
        let out = h.kubectl(&["get", "node", &name, "-o", "json"]);
        (out.code == 0).then(|| json(&out.stdout))
    })
    .unwrap_or_else(|| panic!("node/{name} not registered in 120s:\n{}", node.logs()));
    let addresses = registered["status"]["addresses"].to_string();
    assert!(
        addresses.contains(&format!("{{\"address\":\"{ip}\",\"type\":\"InternalIP\"}}")),
        "{addresses}"
    );
    let csr = wait_for(60, || {
        let all = json(&h.kubectl(&["get", "csr", "-o", "json"]).ok().stdout);
        all["items"].as_array().unwrap().iter().find_map(|c| {
            (c["spec"]["signerName"] == SERVING
                && c["spec"]["username"] == format!("system:node:{name}").as_str())
            .then(|| c.clone())
        })
    })
    .unwrap_or_else(|| panic!("no serving CSR from node {name} in 60s:\n{}", node.logs()));
    let real = csr["metadata"]["name"].as_str().unwrap().to_string();
    objects.csrs.push(real.clone());
    // Its client CSR, approved by the controller-manager (kubeadm's auto-approval binding).
    let all = json(&h.kubectl(&["get", "csr", "-o", "json"]).ok().stdout);
    let client: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["spec"]["username"] == format!("system:bootstrap:{id}").as_str())
        .collect();
    assert_eq!(client.len(), 1, "client CSRs of token {id}: {client:?}");
    objects
        .csrs
        .push(client[0]["metadata"]["name"].as_str().unwrap().to_string());
    assert_eq!(
        client[0]["status"]["conditions"][0]["reason"], "AutoApproved",
        "{}",
        client[0]["status"]
    );
    let groups = csr["spec"]["groups"].to_string();
    assert!(groups.contains("\"system:nodes\""), "{groups}");
    let usages = csr["spec"]["usages"].to_string();
    assert_eq!(usages, r#"["digital signature","server auth"]"#);
    // Its request, read by openssl: the node's identity and its two addresses.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let req = dir.join("real.csr");
    std::fs::write(
        &req,
        b64.decode(csr["spec"]["request"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let text = String::from_utf8(sh(
        "openssl",
        &["req", "-in", path(&req), "-noout", "-subject", "-text"],
    ))
    .unwrap();
    assert!(
        text.contains(&format!("O = system:nodes, CN = system:node:{name}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("DNS:{name}, IP Address:{ip}")),
        "{text}"
    );

    // Nothing else approves it: still Pending a while later, and the kubelet serves nothing.
    std::thread::sleep(Duration::from_secs(6));
    assert!(untouched(&h.csr(&real)), "csr/{real} was touched");
    assert_eq!(condition_column(&h, &real), "Pending");
    let before = node.served();
    assert!(
        before
            .as_ref()
            .is_err_and(|e| e.contains("no peer certificate")),
        "the kubelet serves a certificate before any approval: {before:?}"
    );
    assert!(
        !node.cert_dir.join("kubelet-server-current.pem").exists(),
        "the kubelet has a serving certificate before any approval"
    );

    // Hostile variants of the same CSR, made by openssl, sent with the node's own certificate.
    h.node(
        &other,
        &[
            ("InternalIP", "198.51.100.254"),
            ("Hostname", other.as_str()),
        ],
    );
    objects.nodes.push(other.clone());
    let ok = format!("DNS:{name},IP:{ip}");
    let mut b = [0u8; 1];
    getrandom::fill(&mut b).unwrap();
    let stranger = format!("203.0.113.{}", 1 + b[0] % 250);
    let variant = |tag: &str, sans: String, rule, want: String| Variant {
        name: unique(&format!("kjt-e2e-serving-{tag}-")),
        sans,
        key: "ec",
        expiration: None,
        rule,
        want,
    };
    let mut variants = vec![
        variant(
            "ip",
            format!("{ok},IP:{stranger}"),
            "ip-sans",
            format!("IP {stranger} is not an address of the Node"),
        ),
        variant(
            "other-dns",
            format!("{ok},DNS:{other}"),
            "dns-sans",
            format!(
                "DNS name \"{other}\" is not a Hostname/InternalDNS/ExternalDNS address of Node {name}"
            ),
        ),
        variant(
            "prefix-dns",
            format!("{ok},DNS:{name}.evil.example.com"),
            "dns-sans",
            format!("DNS name \"{name}.evil.example.com\" is not"),
        ),
        variant(
            "prefix-label",
            format!("{ok},DNS:{name}x"),
            "dns-sans",
            format!("DNS name \"{name}x\" is not"),
        ),
    ];
    let mut long = variant(
        "expiration",
        ok.clone(),
        "expiration",
        "expirationSeconds 100000000 is over --max-expiration (31536000s)".into(),
    );
    long.expiration = Some(100_000_000);
    variants.push(long);
    let mut weak = variant(
        "rsa1024",
        ok.clone(),
        "key",
        "RSA 1024 is not allowed".into(),
    );
    weak.key = "rsa1024";
    variants.push(weak);
    for v in &variants {
        submit_as_node(&h, &node, dir, v);
        objects.csrs.push(v.name.clone());
        let spec = &h.csr(&v.name)["spec"];
        assert_eq!(
            spec["username"],
            format!("system:node:{name}").as_str(),
            "{spec}"
        );
    }

    // One-shot approve of them all: each refused by its rule alone, naming the value.
    let mut args = vec!["approve"];
    args.extend(variants.iter().map(|v| v.name.as_str()));
    args.extend(["-o", "json"]);
    let out = h.ours(&args);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let items = json(&out.stdout)["items"].as_array().unwrap().clone();
    for v in &variants {
        let it = items
            .iter()
            .find(|i| i["name"] == v.name.as_str())
            .unwrap_or_else(|| panic!("no item for {} in {}", v.name, out.stdout));
        assert_eq!(it["action"], "pending", "{it}");
        let reason = it["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&format!("{}: ", v.rule)) && reason.contains(&v.want),
            "{}: {reason:?} is not {}: …{}…",
            v.name,
            v.rule,
            v.want
        );
        // Only that rule failed: every variant is the kubelet's request but for one thing.
        let failed: Vec<&str> = it["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["passed"] == false)
            .map(|c| c["rule"].as_str().unwrap())
            .collect();
        assert_eq!(failed, [v.rule], "{}: {it}", v.name);
        assert!(untouched(&h.csr(&v.name)), "{} was touched", v.name);
        assert_eq!(condition_column(&h, &v.name), "Pending");
    }

    // approve approves the kubelet's own CSR; the real signer issues it; the kubelet serves it.
    let out = h.ours(&["approve", &real, "-o", "json"]).ok();
    let it = &json(&out.stdout)["items"][0];
    assert_eq!(it["action"], "approved", "{it}");
    let issued = wait_for(60, || {
        h.csr(&real)["status"]["certificate"]
            .as_str()
            .map(String::from)
    })
    .unwrap_or_else(|| panic!("csr/{real} was not issued in 60s"));
    let issued = String::from_utf8(b64.decode(issued).unwrap()).unwrap();
    let v = h.csr(&real);
    assert_eq!(
        v["status"]["conditions"][0]["reason"], "KubectlJointokenApprove",
        "{}",
        v["status"]
    );
    assert_eq!(condition_column(&h, &real), "Approved,Issued");
    let served = wait_for(60, || node.served().ok()).unwrap_or_else(|| {
        panic!(
            "the kubelet serves no certificate 60s after csr/{real} was issued: {:?}\n{}",
            node.served(),
            node.logs()
        )
    });
    assert_eq!(
        der(dir, &served, "served"),
        der(dir, &issued, "issued"),
        "the kubelet serves another certificate than csr/{real}'s"
    );
    let f = dir.join("served.pem");
    let text = String::from_utf8(sh(
        "openssl",
        &[
            "x509",
            "-in",
            path(&f),
            "-noout",
            "-subject",
            "-ext",
            "subjectAltName,extendedKeyUsage",
        ],
    ))
    .unwrap();
    assert!(
        text.contains(&format!("DNS:{name}, IP Address:{ip}\n")),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(text.contains(&format!("CN = system:node:{name}")), "{text}");
    // Chained to the cluster CA, for the node's address, as a TLS server.
    sh(
        "openssl",
        &[
            "verify",
            "-CAfile",
            path(&h.ca),
            "-purpose",
            "sslserver",
            "-verify_ip",
            &ip,
            path(&f),
        ],
    );

    // The hostile variants stayed unapproved throughout.
    for v in &variants {
        assert!(untouched(&h.csr(&v.name)), "{} was touched", v.name);
    }
    drop(node);
    drop(addr);
    drop(objects);
    eprintln!("serving proof took {:?}", start.elapsed());
}
