//! End-to-end proofs against the real control plane of `scripts/e2e` (kube-apiserver, etcd,
//! kube-controller-manager built from the Kubernetes sources) with independent peers: the
//! version-matched kubectl and kubeadm. Each test makes its own tokens, so tests run in
//! parallel on one cluster without stepping on each other.

mod common;

use common::{Harness, harness, unique, wait_for};
use kubectl_jointoken::jws;
use serde_json::Value;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Creates a token through our CLI with `args` and returns its JSON report.
fn create(h: &Harness, args: &[&str]) -> Value {
    let mut all = vec!["create", "-o", "json"];
    all.extend_from_slice(args);
    json(&h.ours(&all).ok().stdout)
}

fn secret_exists(h: &Harness, id: &str) -> bool {
    h.kubectl(&[
        "-n",
        "kube-system",
        "get",
        "secret",
        &format!("bootstrap-token-{id}"),
    ])
    .code
        == 0
}

#[test]
fn created_token_authenticates_as_system_bootstrap() {
    let Some(h) = harness() else { return };
    let r = create(&h, &["--description", "e2e whoami"]);
    let (token, id) = (r["token"].as_str().unwrap(), r["id"].as_str().unwrap());
    let who = json(&h.whoami_with_token(token).ok().stdout);
    assert_eq!(
        who["status"]["userInfo"]["username"],
        format!("system:bootstrap:{id}")
    );
    let groups: Vec<&str> = who["status"]["userInfo"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    assert!(groups.contains(&"system:bootstrappers"), "{groups:?}");
    assert!(
        groups.contains(&"system:bootstrappers:kubeadm:default-node-token"),
        "{groups:?}"
    );
}

#[test]
fn token_without_authentication_usage_or_expired_is_refused() {
    let Some(h) = harness() else { return };
    let r = create(&h, &["--usages", "signing", "--groups", ""]);
    let w = h.whoami_with_token(r["token"].as_str().unwrap());
    assert_ne!(w.code, 0);
    assert!(w.stderr.contains("Unauthorized"), "{}", w.stderr);

    let r = create(&h, &["--ttl", "2s"]);
    std::thread::sleep(std::time::Duration::from_secs(4));
    let w = h.whoami_with_token(r["token"].as_str().unwrap());
    assert_ne!(w.code, 0, "an expired token must not authenticate");
    assert!(w.stderr.contains("Unauthorized"), "{}", w.stderr);
}

#[test]
fn kubeadm_lists_our_token_identically() {
    let Some(h) = harness() else { return };
    let desc = unique("e2e-kubeadm-list-");
    let r = create(&h, &["--description", &desc, "--ttl", "2h"]);
    let id = r["id"].as_str().unwrap();
    let out = h.kubeadm(&["token", "list", "-o", "json"]).ok().stdout;
    // kubeadm prints one JSON object per token, concatenated.
    let objs: Vec<Value> = serde_json::Deserializer::from_str(&out)
        .into_iter::<Value>()
        .map(|v| v.unwrap())
        .collect();
    let theirs = objs
        .iter()
        .find(|o| {
            o["token"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("{id}."))
        })
        .unwrap_or_else(|| panic!("kubeadm does not list {id}: {out}"));
    assert_eq!(theirs["token"], r["token"]);
    assert_eq!(theirs["description"], desc.as_str());
    assert_eq!(
        theirs["usages"],
        serde_json::json!(["authentication", "signing"])
    );
    assert_eq!(
        theirs["groups"],
        serde_json::json!(["system:bootstrappers:kubeadm:default-node-token"])
    );
    let expires: jiff::Timestamp = theirs["expires"].as_str().unwrap().parse().unwrap();
    let ours: jiff::Timestamp = r["expires"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, ours);
    // And the table: kubeadm's TTL column agrees with ours for this token.
    let table = h.kubeadm(&["token", "list"]).ok().stdout;
    let row = table.lines().find(|l| l.starts_with(id)).unwrap();
    assert!(
        row.split_whitespace().nth(1) == Some("1h") || row.split_whitespace().nth(1) == Some("2h"),
        "{row}"
    );
    let ours = h.ours(&["list"]).ok().stdout;
    let our_row = ours.lines().find(|l| l.starts_with(id)).unwrap();
    assert!(
        our_row.starts_with(&format!("{id}.****************")),
        "{our_row}"
    );
    assert_eq!(
        row.split_whitespace().nth(1),
        our_row.split_whitespace().nth(1)
    );

    // kubeadm can delete ours.
    h.kubeadm(&["token", "delete", id]).ok();
    assert!(!secret_exists(&h, id));
}

#[test]
fn prune_by_id_deletes_exactly_the_named_valid_tokens() {
    let Some(h) = harness() else { return };
    let desc = unique("e2e-named-");
    let a = create(&h, &["--ttl", "1h", "--description", &desc]);
    let b = create(&h, &["--ttl", "0", "--description", &desc]);
    let keep = create(&h, &["--ttl", "1h", "--description", &desc]);
    let (a, b, keep) = (
        a["id"].as_str().unwrap().to_string(),
        b["id"].as_str().unwrap().to_string(),
        keep["id"].as_str().unwrap().to_string(),
    );
    // One unknown id among them: an error naming it, and nothing deleted.
    let typo = h.ours(&["prune", &a, "zzzzzz"]);
    assert_eq!(typo.code, 1, "{}", typo.stderr);
    assert!(
        typo.stderr.contains("no bootstrap token zzzzzz"),
        "{}",
        typo.stderr
    );
    assert!(secret_exists(&h, &a));
    // Both name forms `list -o name` and kubectl use; valid and never-expiring alike.
    let out = h
        .ours(&[
            "prune",
            &format!("secret/bootstrap-token-{a}"),
            &b,
            "-o",
            "name",
        ])
        .ok();
    let mut got: Vec<&str> = out.stdout.lines().collect();
    got.sort();
    let mut want = vec![
        format!("secret/bootstrap-token-{a}"),
        format!("secret/bootstrap-token-{b}"),
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(!secret_exists(&h, &a) && !secret_exists(&h, &b));
    assert!(secret_exists(&h, &keep), "an unnamed token was deleted");
    h.ours(&["prune", &keep]).ok();
    assert!(!secret_exists(&h, &keep));
}

#[test]
fn kubeadm_token_is_listed_and_pruned_by_us() {
    let Some(h) = harness() else { return };
    let desc = unique("e2e-kubeadm-made-");
    let token = h
        .kubeadm(&["token", "create", "--ttl", "1h", "--description", &desc])
        .ok()
        .stdout
        .trim()
        .to_string();
    let id = token.split('.').next().unwrap().to_string();
    let list = json(&h.ours(&["list", "-o", "json", "--show-secret"]).ok().stdout);
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["token"] == token.as_str())
        .unwrap_or_else(|| panic!("{token} not in our list"));
    assert_eq!(item["apiVersion"], "output.kubeadm.k8s.io/v1alpha3");
    assert_eq!(item["description"], desc.as_str());
    // A dry run names it and deletes nothing.
    let dry = h
        .ours(&[
            "prune",
            "--older-than",
            "0s",
            "--description-prefix",
            &desc,
            "--dry-run=server",
            "-o",
            "name",
        ])
        .ok();
    assert_eq!(dry.stdout, format!("secret/bootstrap-token-{id}\n"));
    assert!(secret_exists(&h, &id));
    let done = h
        .ours(&[
            "prune",
            "--older-than",
            "0s",
            "--description-prefix",
            &desc,
            "-o",
            "json",
        ])
        .ok();
    let rep = json(&done.stdout);
    assert_eq!(rep["items"][0]["action"], "deleted");
    assert!(
        done.stderr.contains("pruned 1 bootstrap token(s)"),
        "{}",
        done.stderr
    );
    assert!(!secret_exists(&h, &id));
}

#[test]
fn prune_keeps_never_expiring_and_owner_referenced_tokens() {
    let Some(h) = harness() else { return };
    let desc = unique("e2e-prune-keep-");
    let forever = create(&h, &["--ttl", "0", "--description", &desc]);
    let owner = create(&h, &["--ttl", "1h", "--description", &desc]);
    let plain = create(&h, &["--ttl", "1h", "--description", &desc]);
    let owner_id = owner["id"].as_str().unwrap();
    // A dependent Secret whose ownerReference points at the token, as kubeadm-certs does.
    let uid = h
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secret",
            &format!("bootstrap-token-{owner_id}"),
            "-o",
            "jsonpath={.metadata.uid}",
        ])
        .ok()
        .stdout;
    let dep = unique("e2e-dependent-");
    let manifest = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": dep, "namespace": "kube-system", "ownerReferences": [{
            "apiVersion": "v1", "kind": "Secret", "name": format!("bootstrap-token-{owner_id}"), "uid": uid
        }]},
        "stringData": {"k": "v"}
    });
    let f = h.dir.join(format!("{dep}.json"));
    std::fs::write(&f, manifest.to_string()).unwrap();
    h.kubectl(&["apply", "-f", f.to_str().unwrap()]).ok();

    let out = h
        .ours(&[
            "prune",
            "--older-than",
            "0s",
            "--description-prefix",
            &desc,
            "-o",
            "json",
        ])
        .ok();
    let rep = json(&out.stdout);
    let action = |id: &Value| {
        rep["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == format!("bootstrap-token-{}", id.as_str().unwrap()))
            .map(|i| {
                (
                    i["action"].as_str().unwrap().to_string(),
                    i["reason"].as_str().unwrap().to_string(),
                )
            })
            .unwrap()
    };
    assert_eq!(action(&forever["id"]).0, "kept");
    let (a, reason) = action(&owner["id"]);
    assert_eq!(a, "kept");
    assert!(reason.contains(&dep), "{reason}");
    assert_eq!(action(&plain["id"]).0, "deleted");
    assert!(secret_exists(&h, forever["id"].as_str().unwrap()));
    assert!(secret_exists(&h, owner_id));
    assert!(!secret_exists(&h, plain["id"].as_str().unwrap()));
    // With --force the owner goes, and the garbage collector takes its dependent.
    h.ours(&[
        "prune",
        "--older-than",
        "0s",
        "--description-prefix",
        &desc,
        "--force",
    ])
    .ok();
    assert!(!secret_exists(&h, owner_id));
    let gone = wait_for(60, || {
        (h.kubectl(&["-n", "kube-system", "get", "secret", &dep])
            .code
            != 0)
            .then_some(())
    });
    assert!(
        gone.is_some(),
        "garbage collector did not remove the dependent"
    );
    h.ours(&[
        "prune",
        "--older-than",
        "0s",
        "--description-prefix",
        &desc,
        "--include-never-expiring",
    ])
    .ok();
    assert!(!secret_exists(&h, forever["id"].as_str().unwrap()));
}

#[test]
fn bootstrapsigner_signs_cluster_info_for_our_token() {
    let Some(h) = harness() else { return };
    let r = create(&h, &[]);
    let (id, token) = (
        r["id"].as_str().unwrap().to_string(),
        r["token"].as_str().unwrap(),
    );
    let secret = token.split('.').nth(1).unwrap();
    let key = format!("{}{id}", jws::SIGNATURE_KEY_PREFIX);
    let cm = wait_for(30, || {
        let cm = json(
            &h.kubectl(&[
                "-n",
                "kube-public",
                "get",
                "cm",
                "cluster-info",
                "-o",
                "json",
            ])
            .ok()
            .stdout,
        );
        cm["data"].get(&key).is_some().then_some(cm)
    })
    .unwrap_or_else(|| panic!("bootstrapsigner never signed cluster-info for {id}"));
    let payload = cm["data"]["kubeconfig"].as_str().unwrap();
    let sig = cm["data"][&key].as_str().unwrap();
    assert!(
        jws::verify_detached(payload, sig, &id, secret),
        "signature does not verify"
    );
    assert_eq!(
        jws::compute_detached(payload, &id, secret),
        sig,
        "our signer disagrees"
    );
}

#[test]
fn tokencleaner_removes_our_expired_token() {
    let Some(h) = harness() else { return };
    let r = create(&h, &["--ttl", "3s"]);
    let id = r["id"].as_str().unwrap();
    let gone = wait_for(90, || (!secret_exists(&h, id)).then_some(()));
    assert!(gone.is_some(), "tokencleaner did not delete {id}");
}

#[test]
fn join_command_pins_the_cluster_ca() {
    let Some(h) = harness() else { return };
    let r = create(&h, &[]);
    let cmd = r["join"]["joinCommand"].as_str().unwrap();
    // The pin we print equals openssl's hash of the harness CA's public key.
    let pem = std::fs::read(&h.ca).unwrap();
    let der = kubectl_jointoken::pki::pem_bundle_to_der(&pem).unwrap();
    let pin = kubectl_jointoken::pki::ca_cert_hash(&der[0]).unwrap();
    let openssl = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl x509 -in {} -pubkey -noout | openssl pkey -pubin -outform der | sha256sum",
            h.ca.display()
        ))
        .output()
        .unwrap();
    let hex = String::from_utf8(openssl.stdout).unwrap();
    assert_eq!(
        pin,
        format!("sha256:{}", hex.split_whitespace().next().unwrap())
    );
    let endpoint = h.apiserver.trim_start_matches("https://");
    assert_eq!(
        cmd,
        format!(
            "kubeadm join {endpoint} --token {} --discovery-token-ca-cert-hash {pin}",
            r["token"].as_str().unwrap()
        )
    );
    assert_eq!(r["join"]["caCertHashes"], serde_json::json!([pin]));
    // Plain output is exactly the join command (what people paste).
    let plain = h.ours(&["create", "--ttl", "10m"]).ok().stdout;
    assert!(
        plain.starts_with(&format!("kubeadm join {endpoint} --token ")),
        "{plain}"
    );
    assert_eq!(plain.lines().count(), 1);
}

#[test]
fn existing_id_is_refused_and_dry_runs_write_nothing() {
    let Some(h) = harness() else { return };
    let r = create(&h, &[]);
    let token = r["token"].as_str().unwrap();
    let again = h.ours(&["create", "--token", token]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    for mode in ["--dry-run=server", "--dry-run=client"] {
        let d = create(&h, &[mode]);
        assert!(
            !secret_exists(&h, d["id"].as_str().unwrap()),
            "{mode} wrote a token"
        );
    }
}

#[test]
fn forbidden_names_the_user() {
    let Some(h) = harness() else { return };
    let r = h.ours(&["list", "--as", "e2e-nobody"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("403 Forbidden"), "{}", r.stderr);
    assert!(r.stderr.contains("e2e-nobody"), "{}", r.stderr);
    // create's own transport (HTTP/2) carries the impersonation headers too.
    let r = h.ours(&[
        "create",
        "--as",
        "e2e-nobody",
        "--description",
        "e2e forbidden",
    ]);
    assert_eq!(r.code, 1);
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("403 Forbidden") && last.contains("e2e-nobody"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn bootstrap_kubeconfig_works_with_kubectl() {
    let Some(h) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bootstrap-kubelet.conf");
    let f = file.to_str().unwrap();
    let out = h
        .ours(&["kubeconfig", "--create", "--ttl", "1h", "--output-file", f])
        .ok();
    assert!(out.stdout.is_empty(), "kubeconfig went to stdout too");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
    let who = json(
        &h.run(
            &h.bin.join("kubectl"),
            &["--kubeconfig", f, "auth", "whoami", "-o", "json"],
            &[("KUBECONFIG", "")],
        )
        .ok()
        .stdout,
    );
    let user = who["status"]["userInfo"]["username"].as_str().unwrap();
    assert!(user.starts_with("system:bootstrap:"), "{user}");
    let cfg = h
        .run(
            &h.bin.join("kubectl"),
            &["--kubeconfig", f, "config", "view", "-o", "json"],
            &[("KUBECONFIG", "")],
        )
        .ok()
        .stdout;
    let cfg = json(&cfg);
    assert_eq!(cfg["users"][0]["name"], "tls-bootstrap-token-user");
    assert_eq!(
        cfg["current-context"],
        format!(
            "tls-bootstrap-token-user@{}",
            cfg["clusters"][0]["name"].as_str().unwrap()
        )
    );
}

#[test]
fn service_account_kubeconfig_works_and_expires() {
    let Some(h) = harness() else { return };
    let sa = unique("e2e-scanner-");
    h.kubectl(&["-n", "default", "create", "serviceaccount", &sa])
        .ok();
    let out = h
        .ours(&[
            "kubeconfig",
            "--service-account",
            &sa,
            "-n",
            "default",
            "--duration",
            "10m",
        ])
        .ok();
    assert!(out.stderr.contains("expires at"), "{}", out.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sa.kubeconfig");
    std::fs::write(&file, &out.stdout).unwrap();
    let f = file.to_str().unwrap();
    let who = json(
        &h.run(
            &h.bin.join("kubectl"),
            &["--kubeconfig", f, "auth", "whoami", "-o", "json"],
            &[("KUBECONFIG", "")],
        )
        .ok()
        .stdout,
    );
    assert_eq!(
        who["status"]["userInfo"]["username"],
        format!("system:serviceaccount:default:{sa}")
    );
    // The token is short-lived: its exp claim is 10 minutes after iat.
    let cfg = json(
        &h.run(
            &h.bin.join("kubectl"),
            &["--kubeconfig", f, "config", "view", "--raw", "-o", "json"],
            &[("KUBECONFIG", "")],
        )
        .ok()
        .stdout,
    );
    let jwt = cfg["users"][0]["user"]["token"].as_str().unwrap();
    use base64::Engine;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jwt.split('.').nth(1).unwrap())
        .unwrap();
    let claims = json(std::str::from_utf8(&claims).unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
}

#[test]
fn plugin_lookup_through_real_kubectl() {
    let Some(h) = harness() else { return };
    let list = h.kubectl(&["plugin", "list"]);
    for b in [
        "kubectl-jointoken",
        "kubectl-jointoken-create",
        "kubectl-jointoken-list",
        "kubectl-jointoken-prune",
        "kubectl-jointoken-kubeconfig",
    ] {
        assert!(
            list.stdout.contains(b),
            "{b} missing from `kubectl plugin list`: {}",
            list.stdout
        );
    }
    assert!(!list.stderr.contains("warning"), "{}", list.stderr);
    let help = h.kubectl(&["jointoken", "create", "--help"]).ok();
    assert!(
        help.stdout.contains("Usage: kubectl jointoken create"),
        "{}",
        help.stdout
    );
    let r = json(
        &h.kubectl(&["jointoken", "create", "-o", "json", "--ttl", "10m"])
            .ok()
            .stdout,
    );
    assert!(secret_exists(&h, r["id"].as_str().unwrap()));
    let l = h.kubectl(&["jointoken", "list", "-o", "name"]).ok();
    assert!(l.stdout.contains(&format!(
        "secret/bootstrap-token-{}",
        r["id"].as_str().unwrap()
    )));
}

#[test]
fn kubeadm_join_discovery_accepts_our_join_command() {
    let Some(h) = harness() else { return };
    let r = create(&h, &["--ttl", "10m"]);
    let cmd = r["join"]["joinCommand"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let dry = dir.path().to_str().unwrap();
    let join = |command: &str| {
        // Our command verbatim (minus the leading "kubeadm"), plus what a dry run needs on a
        // machine that is not a node.
        let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
        args.extend(["--dry-run", "--ignore-preflight-errors=all", "--v=5"]);
        h.run(
            &h.bin.join("kubeadm"),
            &args,
            &[("KUBEADM_JOIN_DRYRUN_DIR", dry)],
        )
    };
    let ok = join(&cmd);
    let all = format!("{}{}", ok.stdout, ok.stderr);
    assert_eq!(ok.code, 0, "{all}");
    assert!(
        all.contains("Cluster info signature and contents are valid and TLS certificate validates against pinned roots"),
        "{all}"
    );
    assert!(all.contains("This node has joined the cluster"), "{all}");

    // A wrong pin is rejected by kubeadm's discovery.
    let pin = r["join"]["caCertHashes"][0].as_str().unwrap();
    let bad = cmd.replace(pin, &format!("sha256:{}", "0".repeat(64)));
    let no = join(&bad);
    assert_eq!(no.code, 1);
    assert!(
        format!("{}{}", no.stdout, no.stderr).contains("none of the public keys"),
        "{}",
        no.stderr
    );

    // A wrong secret for a real id fails the JWS check.
    let token = r["token"].as_str().unwrap();
    let (id, _) = token.split_once('.').unwrap();
    let forged = cmd.replace(token, &format!("{id}.{}", "0".repeat(16)));
    let no = join(&forged);
    assert_eq!(no.code, 1);
    assert!(
        format!("{}{}", no.stdout, no.stderr).contains("failed to verify JWS signature"),
        "{}",
        no.stderr
    );
}

/// `-o jsonpath` and `-o custom-columns` in kubectl's syntax select the same tokens kubectl's
/// own JSONPath selects from the Secrets; an empty result says so on stderr, as kubectl does.
#[test]
fn jsonpath_and_custom_columns_match_kubectl() {
    let Some(h) = harness() else { return };
    let desc = unique("jp-");
    let a = create(&h, &["--description", &desc]);
    let b = create(&h, &["--description", &desc]);
    let mut ids = vec![
        a["id"].as_str().unwrap().to_string(),
        b["id"].as_str().unwrap().to_string(),
    ];
    ids.sort();
    let tpl = format!(
        "jsonpath={{range .items[?(@.description==\"{desc}\")]}}{{.token}}{{\"\\n\"}}{{end}}"
    );
    let ours = h.ours(&["list", "-o", &tpl]).ok().stdout;
    let mut got: Vec<String> = ours
        .lines()
        .map(|l| l.split('.').next().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, ids, "{ours}");
    // kubectl's JSONPath over the Secrets themselves names the same ids.
    let theirs = h
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secrets",
            "--field-selector",
            "type=bootstrap.kubernetes.io/token",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}",
        ])
        .ok()
        .stdout;
    for id in &ids {
        assert!(
            theirs.contains(&format!("bootstrap-token-{id}")),
            "{theirs}"
        );
    }
    let cols = h
        .ours(&[
            "list",
            "-o",
            "custom-columns=TOKEN:.token,DESCRIPTION:.description",
        ])
        .ok()
        .stdout;
    assert!(cols.starts_with("TOKEN"), "{cols}");
    for id in &ids {
        assert!(
            cols.lines()
                .any(|l| l.starts_with(&format!("{id}.****************")) && l.ends_with(&desc)),
            "{cols}"
        );
    }
    let empty = h.ours(&["list", "-l", &format!("nothing-has={desc}")]).ok();
    assert_eq!(empty.stdout, "");
    assert_eq!(
        empty.stderr.trim(),
        "No resources found in kube-system namespace."
    );
    h.ours(&["prune", &ids[0], &ids[1]]).ok();
}

/// kubectl's completion protocol, answered by our binary under its `kubectl_complete-jointoken`
/// name: context/cluster/user names from the kubeconfig, namespaces and service accounts live.
#[test]
fn completion_offers_kubeconfig_and_live_names() {
    let Some(h) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kubectl_complete-jointoken");
    std::os::unix::fs::symlink(common::our_bin("kubectl-jointoken"), &link).unwrap();
    let values = |args: &[&str]| -> Vec<String> {
        let out = h.run(&link, args, &[]).ok().stdout;
        out.lines()
            .filter(|l| !l.starts_with(':'))
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    let kc = h
        .kubectl(&["config", "view", "-o", "jsonpath={.current-context} {.contexts[0].context.cluster} {.contexts[0].context.user}"])
        .ok()
        .stdout;
    let want: Vec<&str> = kc.split(' ').collect();
    assert!(
        values(&["list", "--context", ""]).contains(&want[0].to_string()),
        "{kc}"
    );
    assert!(
        values(&["list", "--cluster", ""]).contains(&want[1].to_string()),
        "{kc}"
    );
    assert!(
        values(&["list", "--user", ""]).contains(&want[2].to_string()),
        "{kc}"
    );
    let ns = values(&["list", "-n", "kube-"]);
    assert!(
        ns.contains(&"kube-system".to_string()) && ns.iter().all(|n| n.starts_with("kube-")),
        "{ns:?}"
    );
    let sa = values(&["kubeconfig", "-n", "kube-system", "--service-account", ""]);
    assert!(sa.contains(&"default".to_string()), "{sa:?}");
}

/// `--publish file` into a folder that does not exist yet under /run (a runtime directory,
/// empty after a reboot) creates it 0700; elsewhere a missing folder is refused before any
/// token is created.
#[test]
fn publish_file_creates_its_runtime_folder_0700() {
    let Some(h) = harness() else { return };
    use std::os::unix::fs::PermissionsExt;
    let dir = std::path::PathBuf::from(format!("/run/{}", unique("kjt-")));
    let file = dir.join("join.env");
    let desc = unique("runfile-");
    let r = h.ours(&[
        "create",
        "--description",
        &desc,
        "--publish",
        "file",
        "--file",
        file.to_str().unwrap(),
        "--file-format",
        "env",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&file), 0o600);
    let id = json(&r.stdout)["id"].as_str().unwrap().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    h.ours(&["prune", &id]).ok();
    // Not under a runtime directory: exit 2 naming the fix, and no token was created.
    let elsewhere = tempfile::tempdir().unwrap();
    let bad = elsewhere.path().join("missing/join.env");
    let r = h.ours(&[
        "create",
        "--description",
        &desc,
        "--publish",
        "file",
        "--file",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("mkdir -m 0700"), "{}", r.stderr);
    let left = h
        .ours(&[
            "list",
            "-o",
            &format!("jsonpath={{.items[?(@.description==\"{desc}\")].id}}"),
        ])
        .ok();
    assert_eq!(left.stdout, "", "no token was created");
}

/// `create --publish … --verify` checks the new token as a joining node would before it
/// publishes it: a good token is published; one that cannot join (no signing usage, so no
/// cluster-info signature) is deleted again and nothing is written.
#[test]
fn create_publish_verify_publishes_only_a_joinable_token() {
    let Some(h) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.env");
    let r = h.ours(&[
        "create",
        "--publish",
        "file",
        "--file",
        good.to_str().unwrap(),
        "--verify",
        "-o",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(good.exists());
    let id = json(&r.stdout)["id"].as_str().unwrap().to_string();
    h.ours(&["prune", &id]).ok();
    let bad = dir.path().join("bad.env");
    let desc = unique("noverify-");
    let r = h.ours(&[
        "create",
        "--usages",
        "authentication",
        "--description",
        &desc,
        "--publish",
        "file",
        "--file",
        bad.to_str().unwrap(),
        "--verify",
        "--signature-wait",
        "2s",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("failed verification")
            && last.contains("signature")
            && last.contains("deleted again"),
        "{last}"
    );
    assert!(!bad.exists(), "nothing was published");
    let left = h
        .ours(&[
            "list",
            "-o",
            &format!("jsonpath={{.items[?(@.description==\"{desc}\")].id}}"),
        ])
        .ok();
    assert_eq!(left.stdout, "");
}

/// A TCP relay to `upstream` (`host:port`) that counts the connections made through it.
fn counting_relay(upstream: &str) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let n = std::sync::Arc::new(AtomicUsize::new(0));
    let (count, up) = (n.clone(), upstream.to_string());
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            let Ok(u) = TcpStream::connect(&up) else {
                continue;
            };
            let (mut c2, mut u2) = (c.try_clone().unwrap(), u.try_clone().unwrap());
            let (mut c, mut u) = (c, u);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut u2);
                let _ = u2.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut u, &mut c);
                let _ = c.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (port, n)
}

#[test]
fn create_sends_its_requests_over_one_connection() {
    let Some(h) = harness() else { return };
    // The admin kubeconfig, pointed (by kubectl) at a relay that counts TCP connections; the
    // apiserver's certificate names 127.0.0.1, so TLS verifies through it as it does directly.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("relayed.kubeconfig");
    std::fs::copy(&h.kubeconfig, &kc).unwrap();
    let (port, conns) = counting_relay(h.apiserver.trim_start_matches("https://"));
    let kc_s = kc.to_str().unwrap();
    let cluster = h
        .kubectl(&[
            "--kubeconfig",
            kc_s,
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].name}",
        ])
        .ok()
        .stdout;
    h.kubectl(&[
        "--kubeconfig",
        kc_s,
        "config",
        "set-cluster",
        &cluster,
        &format!("--server=https://127.0.0.1:{port}"),
    ])
    .ok();
    let desc = unique("e2e one connection");
    let out = h
        .run(
            &common::our_bin("kubectl-jointoken"),
            &["create", "-o", "json", "--description", &desc, "-v", "4"],
            &[("KUBECONFIG", kc_s)],
        )
        .ok();
    let r = json(&out.stdout);
    // The POST and cluster-info's GET (the endpoint is cluster-info's server, not the relay)
    // shared one connection: HTTP/2, negotiated by ALPN with the real apiserver.
    let info = h
        .kubectl(&[
            "-n",
            "kube-public",
            "get",
            "configmap",
            "cluster-info",
            "-o",
            "jsonpath={.data.kubeconfig}",
        ])
        .ok()
        .stdout;
    let server = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: https://"))
        .unwrap()
        .to_string();
    assert_eq!(r["join"]["apiServerEndpoint"], server.as_str());
    assert_ne!(server, format!("127.0.0.1:{port}"));
    assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 1);
    // HTTP/2, and cluster-info's GET went out before the POST was answered (beside it, not
    // after it as on HTTP/1.1); -v 4 logs each request and answer.
    let log: Vec<&str> = out.stderr.lines().collect();
    assert!(
        log.iter()
            .any(|l| l.contains("connected to the apiserver protocol=Http2")),
        "{}",
        out.stderr
    );
    let get = log
        .iter()
        .position(|l| l.contains("method=GET") && l.contains("cluster-info"));
    let posted = log.iter().position(|l| l.contains("status=201"));
    assert!(get.unwrap() < posted.unwrap(), "{}", out.stderr);
    assert!(secret_exists(&h, r["id"].as_str().unwrap()));
    h.ours(&["prune", r["id"].as_str().unwrap()]).ok();
}
