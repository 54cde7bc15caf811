//! End-to-end proofs of `schedule run` (rotation) against the real control plane and OpenBao:
//! concurrent nodes, idempotence, publish-before-prune, and a failed publish that leaves the
//! previous token in place. Checked with kubectl and the bao CLI, not only our own code.

mod common;

use common::{Harness, Out, harness, our_bin, unique};
use serde_json::Value;

/// See [`Rotation::run`].
static SIGNER: std::sync::RwLock<()> = std::sync::RwLock::new(());

struct Rotation<'a> {
    h: &'a Harness,
    instance: String,
    path: String,
}

impl<'a> Rotation<'a> {
    fn new(h: &'a Harness) -> Self {
        let instance = unique("e2e-rot-");
        let path = format!("kjt/{instance}");
        Rotation { h, instance, path }
    }

    fn args(&self, identity: &str, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = [
            "schedule",
            "run",
            "--instance",
            &self.instance,
            "--identity",
            identity,
            "--publish",
            "vault",
            "--mount",
            "secret",
            "--path",
            &self.path,
            "--ttl",
            "24h",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    fn run(&self, identity: &str, extra: &[&str], env: &[(&str, &str)]) -> Out {
        // Shared with every other run; the test that freezes the controller-manager takes it
        // exclusively, so no other rotation waits for a signature that cannot come.
        let _g = SIGNER.read().unwrap_or_else(|e| e.into_inner());
        let args = self.args(identity, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.h.run(&our_bin("kubectl-jointoken"), &args, env)
    }

    /// Managed token ids, via kubectl.
    fn tokens(&self) -> Vec<String> {
        let out = self
            .h
            .kubectl(&[
                "-n",
                "kube-system",
                "get",
                "secrets",
                "-l",
                &format!("jointoken.kubectl.io/rotation={}", self.instance),
                "-o",
                "jsonpath={range .items[*]}{.data.token-id}{\"\\n\"}{end}",
            ])
            .ok()
            .stdout;
        use base64::Engine;
        let mut ids: Vec<String> = out
            .lines()
            .map(|l| {
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(l).unwrap())
                    .unwrap()
            })
            .collect();
        ids.sort();
        ids
    }

    /// KV v2 current version and the published token id, via the bao CLI.
    fn published(&self) -> (i64, String) {
        let p = format!("secret/{}", self.path);
        let meta: Value = serde_json::from_str(
            &self
                .h
                .bao(&["kv", "metadata", "get", "-format=json", &p])
                .ok()
                .stdout,
        )
        .unwrap();
        let id = self
            .h
            .bao(&["kv", "get", "-field=token_id", &p])
            .ok()
            .stdout;
        (
            meta["data"]["current_version"].as_i64().unwrap(),
            id.trim().to_string(),
        )
    }
}

#[test]
fn concurrent_nodes_rotate_exactly_once_and_reruns_do_nothing() {
    let Some(h) = harness() else { return };
    concurrent_runs_rotate_once(&h, &["node-a", "node-b", "node-c"]);
}

/// A timer run and two manual runs on the same host (same --identity): each process holds the
/// Lease under its own identity, so still exactly one rotates.
#[test]
fn concurrent_runs_on_one_host_rotate_exactly_once() {
    let Some(h) = harness() else { return };
    concurrent_runs_rotate_once(&h, &["node-a", "node-a", "node-a"]);
}

fn concurrent_runs_rotate_once(h: &Harness, identities: &[&str]) {
    let r = Rotation::new(h);
    // These runs are spawned directly: hold the signer lock as `Rotation::run` does.
    let signer = SIGNER.read().unwrap_or_else(|e| e.into_inner());
    let kids: Vec<_> = identities
        .iter()
        .map(|id| {
            let args = r.args(id, &[]);
            std::process::Command::new(our_bin("kubectl-jointoken"))
                .args(&args)
                .env("KUBECONFIG", &h.kubeconfig)
                .env("VAULT_ADDR", &h.vault_addr)
                .env("VAULT_TOKEN", &h.vault_token)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = kids
        .into_iter()
        .map(|k| k.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    drop(signer);
    let rotated = outs.iter().filter(|o| !o.stdout.is_empty()).count();
    assert_eq!(rotated, 1, "exactly one node rotates");
    let tokens = r.tokens();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let (version, id) = r.published();
    assert_eq!(
        (version, id.as_str()),
        (1, tokens[0].as_str()),
        "exactly one publish"
    );
    // The published join command is what nodes read, and it names the token.
    let cmd = h
        .bao(&[
            "kv",
            "get",
            "-field=join_command",
            &format!("secret/{}", r.path),
        ])
        .ok()
        .stdout;
    assert!(
        cmd.starts_with("kubeadm join ") && cmd.contains(&format!("--token {id}.")),
        "{cmd}"
    );

    // A second run inside the interval changes nothing.
    let again = r.run("node-a", &[], &[]).ok();
    assert!(again.stdout.is_empty());
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    assert_eq!(r.tokens(), tokens);
    assert_eq!(r.published().0, 1);
}

/// The one publish verdict: a record naming a never-expiring token, written by someone else
/// with `bao kv put`, is newer than anything rotation makes. The run must fail, delete the
/// token it created, mark nothing published, and leave the record alone.
#[test]
fn a_newer_record_in_vault_fails_the_run_and_leaves_no_token() {
    let Some(h) = harness() else { return };
    let r = Rotation::new(&h);
    let theirs = h
        .kubeadm(&["token", "create", "--ttl", "0"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let their_id = theirs.split('.').next().unwrap().to_string();
    h.bao(&[
        "kv",
        "put",
        &format!("secret/{}", r.path),
        &format!("token={theirs}"),
        &format!("token_id={their_id}"),
        "expiration=",
        "api_server_endpoint=127.0.0.1:6443",
    ])
    .ok();
    let out = r.run("node-a", &[], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    let err = out.stderr.lines().last().unwrap_or_default();
    assert!(
        err.contains(&their_id)
            && err.contains("--replace-newer")
            && err.contains("was deleted again"),
        "{err}"
    );
    assert!(
        r.tokens().is_empty(),
        "the new token must not linger: {:?}",
        r.tokens()
    );
    assert_eq!(
        r.published(),
        (1, their_id.clone()),
        "the record is untouched"
    );
    // A second run does the same (never 'nothing to do' while Vault names another token).
    let again = r.run("node-a", &[], &[]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(r.tokens().is_empty());
    h.kubeadm(&["token", "delete", &their_id]).ok();
}

#[test]
fn superseded_tokens_are_pruned_only_after_the_new_one_is_published() {
    let Some(h) = harness() else { return };
    let r = Rotation::new(&h);
    // --min-remaining just under the TTL forces a rotation on every run a few seconds later
    // (expirations are whole seconds).
    let force = ["--min-remaining", "23h59m59s"];
    r.run("node-a", &[], &[]).ok();
    let first = r.tokens();
    std::thread::sleep(std::time::Duration::from_secs(2));
    r.run("node-a", &force, &[]).ok();
    let second = r.tokens();
    assert_eq!(
        second.len(),
        2,
        "the previous token is kept as overlap: {second:?}"
    );
    let (v, published) = r.published();
    assert_eq!(v, 2);
    assert!(!first.contains(&published));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let out = r.run("node-b", &force, &[]).ok();
    assert!(out.stderr.contains("pruned 1 superseded"), "{}", out.stderr);
    let third = r.tokens();
    assert_eq!(third.len(), 2);
    assert!(!third.contains(&first[0]), "the oldest token was pruned");
    let (v, published) = r.published();
    assert_eq!(v, 3);
    assert!(third.contains(&published));
}

#[test]
fn failed_publish_leaves_the_previous_token_in_place() {
    let Some(h) = harness() else { return };
    let r = Rotation::new(&h);
    r.run("node-a", &[], &[]).ok();
    let before = r.tokens();
    let (v0, id0) = r.published();
    // A Vault token that may find the mount and read, but not write: publishing fails after the
    // new bootstrap token was created.
    let policy = unique("kjt-ro-");
    let hcl = format!(
        "path \"sys/internal/ui/mounts/*\" {{ capabilities = [\"read\"] }}\npath \"secret/data/{p}\" {{ capabilities = [\"read\"] }}\npath \"secret/metadata/{p}\" {{ capabilities = [\"read\"] }}\n",
        p = r.path
    );
    let f = h.dir.join(format!("{policy}.hcl"));
    std::fs::write(&f, hcl).unwrap();
    h.bao(&["policy", "write", &policy, f.to_str().unwrap()])
        .ok();
    let ro = h
        .bao(&["token", "create", "-policy", &policy, "-field=token"])
        .ok()
        .stdout;
    std::thread::sleep(std::time::Duration::from_secs(2));
    let out = r.run(
        "node-a",
        &["--min-remaining", "23h59m59s"],
        &[("VAULT_TOKEN", ro.trim())],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("previously published token is unchanged"),
        "{}",
        out.stderr
    );
    assert_eq!(
        r.tokens(),
        before,
        "no new token lingers and the old one stays"
    );
    assert_eq!(r.published(), (v0, id0.clone()));
    // And the old token still authenticates.
    let token = h
        .bao(&["kv", "get", "-field=token", &format!("secret/{}", r.path)])
        .ok()
        .stdout;
    assert!(h.whoami_with_token(token.trim()).code == 0);
}

#[test]
fn cronjob_renders_valid_objects_with_least_privilege() {
    let Some(h) = harness() else { return };
    let instance = unique("e2e-cron-");
    // `render` prints what `install` applies: the same flags for both.
    let cronjob = |action: &'static str| {
        vec![
            "schedule",
            action,
            "--cronjob",
            "--image",
            "registry.example/kubectl-jointoken:0.1.0",
            "--",
            "--publish",
            "vault",
            "--path",
            "secret/k8s/join",
            "--instance",
            instance.as_str(),
        ]
    };
    let rendered = h.ours(&cronjob("render")).ok().stdout;
    // The apiserver itself validates every object.
    let f = h.dir.join(format!("{instance}.yaml"));
    std::fs::write(&f, &rendered).unwrap();
    let dry = h
        .kubectl(&["apply", "--dry-run=server", "-f", f.to_str().unwrap()])
        .ok();
    assert_eq!(dry.stdout.lines().count(), 4, "{}", dry.stdout);
    // Applied for real by us, the service account may do exactly what rotation needs.
    h.ours(&cronjob("install")).ok();
    let cj: Value = serde_json::from_str(
        &h.kubectl(&[
            "-n",
            "kube-system",
            "get",
            "cronjob",
            "kubectl-jointoken-rotate",
            "-o",
            "json",
        ])
        .ok()
        .stdout,
    )
    .unwrap();
    assert_eq!(cj["spec"]["schedule"], "0 */8 * * *");
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Forbid");
    let sa = "system:serviceaccount:kube-system:kubectl-jointoken-rotate";
    let can = |args: &[&str]| {
        let mut a = vec!["auth", "can-i", "--as", sa, "-n", "kube-system"];
        a.extend_from_slice(args);
        h.kubectl(&a).stdout.trim().to_string()
    };
    assert_eq!(can(&["create", "secrets"]), "yes");
    assert_eq!(can(&["delete", "secrets"]), "yes");
    assert_eq!(
        can(&[
            "update",
            "leases/kubectl-jointoken-rotate-".to_string().as_str()
        ]),
        "no"
    );
    assert_eq!(
        can(&[
            "update",
            &format!("leases/kubectl-jointoken-rotate-{instance}")
        ]),
        "yes"
    );
    assert_eq!(can(&["get", "configmaps"]), "no");
    assert_eq!(can(&["delete", "pods"]), "no");
    assert_eq!(can(&["get", "nodes"]), "no");
}

/// `schedule run` verifies every new token before publishing it: with the bootstrap signer
/// frozen (SIGSTOP of the controller-manager) no signature appears, so the run publishes
/// nothing, deletes its token and exits 1 within its bounded wait.
#[test]
fn with_the_signer_paused_schedule_run_publishes_nothing() {
    let Some(h) = harness() else { return };
    let _exclusive = SIGNER.write().unwrap_or_else(|e| e.into_inner());
    let r = Rotation::new(&h);
    let pid = std::fs::read_to_string(h.dir.join("run/kube-controller-manager.pid")).unwrap();
    let pid = pid.trim().to_string();
    struct Thaw(String);
    impl Drop for Thaw {
        fn drop(&mut self) {
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &self.0])
                .status();
        }
    }
    assert!(
        std::process::Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let thaw = Thaw(pid);
    let started = std::time::Instant::now();
    let args = r.args("node-a", &["--signature-wait", "3s"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = h.run(&our_bin("kubectl-jointoken"), &args, &[]);
    let took = started.elapsed();
    drop(thaw);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("failed verification and was not published")
            && last.contains("signature")
            && last.contains("was deleted again"),
        "{last}"
    );
    assert!(
        took < std::time::Duration::from_secs(30),
        "bounded: {took:?}"
    );
    assert!(r.tokens().is_empty(), "{:?}", r.tokens());
    let read = h.bao(&["kv", "get", &format!("secret/{}", r.path)]);
    assert_ne!(read.code, 0, "nothing was published: {}", read.stdout);
    // With the signer back, the same run verifies and publishes (run directly: this test
    // holds the lock `Rotation::run` would take).
    let args = r.args("node-a", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = h.run(&our_bin("kubectl-jointoken"), &args, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(r.tokens().len(), 1);
}

/// A CronJob per instance, and `status`/`uninstall --cronjob` for it: the instance's objects
/// are named after it, status reads them, uninstall removes all four and nothing else.
#[test]
fn cronjob_instances_have_status_and_uninstall() {
    let Some(h) = harness() else { return };
    let inst = unique("ci-");
    let name = format!("kubectl-jointoken-rotate-{inst}");
    h.ours(&[
        "schedule",
        "install",
        "--cronjob",
        "--instance",
        &inst,
        "--image",
        "registry.example/kubectl-jointoken:0.1.0",
        "--",
        "--publish",
        "vault",
        "--path",
        "secret/k8s/join",
    ])
    .ok();
    let get = |kind: &str| {
        h.kubectl(&["-n", "kube-system", "get", kind, &name, "-o", "name"])
            .code
    };
    for kind in ["cronjob", "serviceaccount", "role", "rolebinding"] {
        assert_eq!(get(kind), 0, "{kind} {name}");
    }
    let cj: Value = serde_json::from_str(
        &h.kubectl(&["-n", "kube-system", "get", "cronjob", &name, "-o", "json"])
            .ok()
            .stdout,
    )
    .unwrap();
    let args =
        cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"].to_string();
    assert!(args.contains(&format!("--instance={inst}")), "{args}");
    let st = h
        .ours(&["schedule", "status", "--cronjob", "--instance", &inst])
        .ok()
        .stdout;
    assert!(
        st.contains(&format!("CronJob=kube-system/{name}")) && st.contains("Schedule=0 */8 * * *"),
        "{st}"
    );
    assert!(st.contains("LastScheduleTime=never"), "{st}");
    h.ours(&["schedule", "uninstall", "--cronjob", "--instance", &inst])
        .ok();
    for kind in ["cronjob", "serviceaccount", "role", "rolebinding"] {
        assert_ne!(get(kind), 0, "{kind} {name} is gone");
    }
    let missing = h.ours(&["schedule", "status", "--cronjob", "--instance", &inst]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );
}
