//! End-to-end tests of `publish`, `create --publish` and `fetch` against the harness's real
//! kube-apiserver and OpenBao dev server (`scripts/e2e up`). Results are checked with
//! independent clients: the bao CLI reads what we wrote, kubectl and kubeadm see the tokens.
//! Fault injection (a tiny std::net HTTP server that answers 500 or hangs) proves the
//! rollback of `create --publish`. The hardening cases (shell-safe records, ambiguous writes,
//! sink rollback, redirects, the check-and-set race) are in `e2e_vault_faults.rs`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Harness, Out, our_bin, unique};

// ---------------------------------------------------------------------------------------------
// helpers

fn ours(h: &Harness, args: &[&str], env: &[(&str, &str)]) -> Out {
    h.run(&our_bin("kubectl-jointoken"), args, env)
}

/// A fresh bootstrap token made by kubeadm (an independent writer): `id.secret`.
fn kubeadm_token(h: &Harness, ttl: &str) -> String {
    let out = h.kubeadm(&["token", "create", "--ttl", ttl]).ok();
    out.stdout.trim().to_string()
}

fn endpoint(h: &Harness) -> String {
    h.apiserver.trim_start_matches("https://").to_string()
}

fn ca_hash() -> String {
    std::env::var("KJT_E2E_CA_HASH").expect("KJT_E2E_CA_HASH from scripts/e2e env")
}

fn expected_join(h: &Harness, token: &str) -> String {
    format!(
        "kubeadm join {} --token {token} --discovery-token-ca-cert-hash {}",
        endpoint(h),
        ca_hash()
    )
}

fn bao_field(h: &Harness, field: &str, path: &str) -> String {
    h.bao(&["kv", "get", &format!("-field={field}"), path])
        .ok()
        .stdout
}

fn bao_json(h: &Harness, args: &[&str]) -> serde_json::Value {
    let out = h.bao(args).ok();
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("bao {args:?}: {e}: {}", out.stdout))
}

/// Names of the bootstrap-token Secrets whose description is `desc` (read with kubectl, so
/// tests running in parallel with their own tokens do not disturb the count).
fn tokens_described(h: &Harness, desc: &str) -> Vec<String> {
    let out = h
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secrets",
            "--field-selector",
            "type=bootstrap.kubernetes.io/token",
            "-o",
            "json",
        ])
        .ok();
    let list: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    use base64::Engine;
    let want = base64::engine::general_purpose::STANDARD.encode(desc);
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["data"]["description"].as_str() == Some(want.as_str()))
        .map(|s| s["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn delete_token(h: &Harness, token: &str) {
    let id = token.split('.').next().unwrap();
    let _ = h.kubectl(&[
        "-n",
        "kube-system",
        "delete",
        "secret",
        &format!("bootstrap-token-{id}"),
        "--ignore-not-found",
    ]);
}

/// True if `s` holds anything shaped like a full bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`).
fn has_token_shape(s: &str) -> bool {
    let b = s.as_bytes();
    let tok = |c: u8| c.is_ascii_digit() || c.is_ascii_lowercase();
    (0..b.len()).any(|i| {
        i + 23 <= b.len()
            && b[i..i + 6].iter().all(|&c| tok(c))
            && b[i + 6] == b'.'
            && b[i + 7..i + 23].iter().all(|&c| tok(c))
            && (i == 0 || !tok(b[i - 1]))
            && (i + 23 == b.len() || !tok(b[i + 23]))
    })
}

/// Enables AppRole once per harness and makes a role with `policy` (HCL); returns the
/// role-id and secret-id files.
fn approle(h: &Harness, dir: &Path, name: &str, policy: &str) -> (PathBuf, PathBuf) {
    let (role_id, secret_id) = h.approle(name, policy);
    let r = dir.join(format!("{name}.role-id"));
    let s = dir.join(format!("{name}.secret-id"));
    std::fs::write(&r, role_id).unwrap();
    std::fs::write(&s, secret_id).unwrap();
    (r, s)
}

/// A local HTTP server that plays Vault just well enough to pass the preflight (mount lookup,
/// empty secret) and then fails every write: with `hang`, by never answering.
fn faulty_vault(hang: bool) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    return;
                }
                let mut len = 0usize;
                loop {
                    let mut hdr = String::new();
                    if r.read_line(&mut hdr).is_err() || hdr == "\r\n" || hdr.is_empty() {
                        break;
                    }
                    if let Some(v) = hdr.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                let (status, json) = if line.contains("/v1/sys/internal/ui/mounts/") {
                    (
                        "200 OK",
                        r#"{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}"#,
                    )
                } else if line.starts_with("GET ") {
                    ("404 Not Found", r#"{"errors":[]}"#)
                } else if hang {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                } else {
                    (
                        "500 Internal Server Error",
                        r#"{"errors":["1 error occurred: storage failure"]}"#,
                    )
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                    json.len()
                );
            });
        }
    });
    addr
}

/// A second, throwaway OpenBao dev server (so sealing it never disturbs other tests).
struct SpareBao {
    child: Child,
    addr: String,
    /// With TLS: the dev server's CA (its cert dir is a temp dir we own).
    ca: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

impl SpareBao {
    fn start(h: &Harness, tls: bool) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let scheme = if tls { "https" } else { "http" };
        let addr = format!("{scheme}://127.0.0.1:{port}");
        let mut args = vec![
            "server".to_string(),
            "-dev".into(),
            "-dev-root-token-id=spare-root".into(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            "-dev-no-store-token".into(),
        ];
        if tls {
            args.push("-dev-tls".into());
            args.push(format!("-dev-tls-cert-dir={}", dir.path().display()));
        }
        let child = Command::new(h.bin.join("bao"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ca = tls.then(|| dir.path().join("vault-ca.pem"));
        let s = SpareBao {
            child,
            addr,
            ca,
            _dir: dir,
        };
        let up = common::wait_for(30, || {
            let o = s.bao(h, &["status"]);
            (o.code == 0).then_some(())
        });
        assert!(up.is_some(), "spare bao did not start");
        s
    }

    fn env(&self) -> Vec<(&str, &str)> {
        let mut e = vec![
            ("BAO_ADDR", self.addr.as_str()),
            ("VAULT_ADDR", self.addr.as_str()),
            ("BAO_TOKEN", "spare-root"),
            ("VAULT_TOKEN", "spare-root"),
        ];
        if let Some(ca) = &self.ca {
            e.push(("BAO_CACERT", ca.to_str().unwrap()));
            e.push(("VAULT_CACERT", ca.to_str().unwrap()));
        }
        e
    }

    fn bao(&self, h: &Harness, args: &[&str]) -> Out {
        h.run(&h.bin.join("bao"), args, &self.env())
    }
}

impl Drop for SpareBao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// tests

#[test]
fn publish_to_kv_v2_is_read_back_exactly_by_the_bao_cli() {
    let Some(h) = common::harness() else { return };
    let token = kubeadm_token(&h, "2h");
    let id = token.split('.').next().unwrap();
    let path = format!("secret/kjt/{}", unique("v2-"));
    let out = ours(&h, &["publish", id, "--to", "vault", "--path", &path], &[]).ok();
    assert!(out.stdout.contains("published"), "{}", out.stdout);
    assert!(!out.stdout.contains(&token) && !out.stderr.contains(&token));

    // The field nodes read, byte for byte.
    assert_eq!(
        bao_field(&h, "join_command", &path),
        expected_join(&h, &token)
    );
    assert_eq!(bao_field(&h, "token", &path), token);
    assert_eq!(bao_field(&h, "token_id", &path), id);
    assert_eq!(bao_field(&h, "api_server_endpoint", &path), endpoint(&h));
    assert_eq!(bao_field(&h, "ca_cert_hashes", &path), ca_hash());
    assert!(bao_field(&h, "expiration", &path).ends_with('Z'));

    // custom_metadata names the token, never its secret.
    let meta = bao_json(&h, &["kv", "metadata", "get", "-format=json", &path]);
    let cm = &meta["data"]["custom_metadata"];
    assert_eq!(cm["token_id"], id);
    assert_eq!(cm["data_version"], "1");
    assert!(
        cm["writer"]
            .as_str()
            .unwrap()
            .starts_with("kubectl-jointoken@")
    );
    assert!(!meta.to_string().contains(token.split('.').nth(1).unwrap()));

    // Publishing the same token again changes nothing.
    let again = ours(&h, &["publish", id, "--to", "vault", "--path", &path], &[]).ok();
    assert!(again.stdout.contains("unchanged"), "{}", again.stdout);
    let meta = bao_json(&h, &["kv", "metadata", "get", "-format=json", &path]);
    assert_eq!(meta["data"]["current_version"], 1);
    delete_token(&h, &token);
}

#[test]
fn publish_to_kv_v1_with_explicit_mount() {
    let Some(h) = common::harness() else { return };
    let token = kubeadm_token(&h, "2h");
    let id = token.split('.').next().unwrap();
    let rel = format!("kjt/{}", unique("v1-"));
    let out = ours(
        &h,
        &[
            "publish", id, "--to", "vault", "--mount", "kv1", "--path", &rel,
        ],
        &[],
    )
    .ok();
    assert!(out.stdout.contains("kv v1"), "{}", out.stdout);
    let path = format!("kv1/{rel}");
    assert_eq!(
        bao_field(&h, "join_command", &path),
        expected_join(&h, &token)
    );
    // VAULT_SECRET_PATH=mount/path works too, and an older token does not replace it.
    let older = kubeadm_token(&h, "1h");
    let out = ours(
        &h,
        &["publish", older.split('.').next().unwrap(), "--to", "vault"],
        &[("VAULT_SECRET_PATH", &path)],
    );
    // Kept-newer means our token is not published: exit 1 (the one publish verdict).
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains("kept-newer"), "{}", out.stdout);
    assert!(out.stderr.contains("--replace-newer"), "{}", out.stderr);
    assert_eq!(bao_field(&h, "token", &path), token);
    // Forcing the wrong KV version is refused with the reason.
    let bad = ours(
        &h,
        &[
            "publish",
            id,
            "--to",
            "vault",
            "--path",
            &path,
            "--kv-version",
            "2",
        ],
        &[],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("wrong KV version: mount kv1/ is KV v1"),
        "{}",
        bad.stderr
    );
    delete_token(&h, &token);
    delete_token(&h, &older);
}

#[test]
fn create_publish_with_write_only_approle_then_fetch_with_read_only_approle() {
    let Some(h) = common::harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sub = unique("ar-");
    let path = format!("secret/kjt/{sub}");
    // Least privilege, as docs/VAULT.md documents it.
    let writer = unique("kjt-writer-");
    let reader = unique("kjt-reader-");
    let (wr, ws) = approle(
        &h,
        dir.path(),
        &writer,
        &format!(
            "path \"secret/data/kjt/{sub}\" {{ capabilities = [\"create\", \"update\"] }}\n\
             path \"secret/metadata/kjt/{sub}\" {{ capabilities = [\"read\", \"update\"] }}\n"
        ),
    );
    let (rr, rs) = approle(
        &h,
        dir.path(),
        &reader,
        &format!("path \"secret/data/kjt/{sub}\" {{ capabilities = [\"read\"] }}\n"),
    );
    let wargs = [
        "--vault-auth",
        "approle",
        "--vault-role-id-file",
        wr.to_str().unwrap(),
        "--vault-secret-id-file",
        ws.to_str().unwrap(),
    ];
    let rargs = [
        "--vault-auth",
        "approle",
        "--vault-role-id-file",
        rr.to_str().unwrap(),
        "--vault-secret-id-file",
        rs.to_str().unwrap(),
    ];

    let mut args = vec![
        "create",
        "--ttl",
        "1h",
        "--publish",
        "vault",
        "--path",
        &path,
        "--no-verify",
    ];
    args.extend(wargs);
    let created = ours(&h, &args, &[("VAULT_TOKEN", "")]).ok();
    let join = created.stdout.trim().to_string();
    let token = join
        .split("--token ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(join, expected_join(&h, &token));
    assert_eq!(bao_field(&h, "join_command", &path), join);

    // The node: no kubeconfig at all, read-only AppRole.
    let no_kc = [
        ("KUBECONFIG", "/nonexistent/kubeconfig"),
        ("VAULT_TOKEN", ""),
    ];
    let mut f = vec!["fetch", "--from", "vault", "--path", &path];
    f.extend(rargs);
    let fetched = ours(&h, &f, &no_kc).ok();
    assert_eq!(fetched.stdout.trim(), join);
    let mut fj = f.clone();
    fj.extend(["-o", "json"]);
    let j: serde_json::Value = serde_json::from_str(&ours(&h, &fj, &no_kc).ok().stdout).unwrap();
    assert_eq!(j["token"], token.as_str());
    // A bootstrap kubeconfig that authenticates as the token (checked by kubectl).
    let kc = dir.path().join("bootstrap.conf");
    let mut fk = f.clone();
    fk.extend(["--kubeconfig-out", kc.to_str().unwrap()]);
    let wrote = ours(&h, &fk, &no_kc).ok();
    assert!(wrote.stdout.is_empty());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&kc).unwrap().mode() & 0o777, 0o600);
    let who = h.run(
        &h.bin.join("kubectl"),
        &[
            "--kubeconfig",
            kc.to_str().unwrap(),
            "auth",
            "whoami",
            "-o",
            "json",
        ],
        &[],
    );
    let who: serde_json::Value = serde_json::from_str(&who.ok().stdout).unwrap();
    let id = token.split('.').next().unwrap();
    assert_eq!(
        who["status"]["userInfo"]["username"],
        format!("system:bootstrap:{id}")
    );

    // The reader cannot publish; the writer cannot read: both name the path.
    let other = kubeadm_token(&h, "3h");
    let mut p = vec![
        "publish",
        other.split('.').next().unwrap(),
        "--to",
        "vault",
        "--path",
        &path,
    ];
    p.extend(rargs);
    let denied = ours(&h, &p, &[("VAULT_TOKEN", "")]);
    assert_eq!(denied.code, 1);
    assert!(
        denied
            .stderr
            .contains(&format!("permission denied (403) on secret/data/kjt/{sub}")),
        "{}",
        denied.stderr
    );
    assert_eq!(
        bao_field(&h, "token", &path),
        token,
        "the reader changed nothing"
    );
    delete_token(&h, &other);
    let mut w = vec!["fetch", "--path", &path];
    w.extend(wargs);
    let denied = ours(&h, &w, &no_kc);
    assert_eq!(denied.code, 1);
    assert!(
        denied
            .stderr
            .contains(&format!("permission denied (403) on secret/data/kjt/{sub}")),
        "{}",
        denied.stderr
    );
    for o in [&created, &fetched, &wrote] {
        assert!(!o.stderr.contains(&token), "secret on stderr: {}", o.stderr);
    }
    delete_token(&h, &token);
}

#[test]
fn failed_create_publish_leaves_no_token_behind() {
    let Some(h) = common::harness() else { return };
    for hang in [false, true] {
        let addr = faulty_vault(hang);
        let desc = unique("rollback-test-");
        let out = ours(
            &h,
            &[
                "create",
                "--description",
                &desc,
                "--publish",
                "vault",
                "--vault-addr",
                &addr,
                "--path",
                "secret/kjt/fault",
                "--vault-timeout",
                "2s",
                "-v",
                "9",
            ],
            &[],
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        let want = if hang {
            "did not answer within 2s"
        } else {
            "answered 500"
        };
        assert!(out.stderr.contains(want), "{}", out.stderr);
        assert!(out.stderr.contains("was deleted again"), "{}", out.stderr);
        assert!(
            !has_token_shape(&out.stderr),
            "secret on stderr: {}",
            out.stderr
        );
        assert_eq!(
            tokens_described(&h, &desc),
            Vec::<String>::new(),
            "a bootstrap token was left behind"
        );
    }
    // --keep-on-failure keeps it and says so.
    let addr = faulty_vault(false);
    let desc = unique("keep-on-failure-");
    let out = ours(
        &h,
        &[
            "create",
            "--description",
            &desc,
            "--publish",
            "vault",
            "--vault-addr",
            &addr,
            "--path",
            "secret/kjt/f",
            "--keep-on-failure",
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("was kept (--keep-on-failure)"),
        "{}",
        out.stderr
    );
    let kept = tokens_described(&h, &desc);
    assert_eq!(kept.len(), 1, "{kept:?}");
    h.kubectl(&["-n", "kube-system", "delete", "secret", &kept[0]])
        .ok();
}

#[test]
fn errors_name_unreachable_sealed_forbidden() {
    let Some(h) = common::harness() else { return };
    let token = kubeadm_token(&h, "1h");
    let id = token.split('.').next().unwrap();
    let publish = |env: &[(&str, &str)], extra: &[&str]| {
        let mut a = vec![
            "publish",
            id,
            "--to",
            "vault",
            "--path",
            "secret/kjt/errors",
        ];
        a.extend(extra);
        ours(&h, &a, env)
    };

    let o = publish(&[("VAULT_ADDR", "http://127.0.0.1:1")], &[]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("cannot reach vault at http://127.0.0.1:1"),
        "{}",
        o.stderr
    );

    let o = publish(&[("VAULT_ADDR", "not a url")], &[]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("invalid VAULT_ADDR"), "{}", o.stderr);

    let o = publish(&[("VAULT_SKIP_VERIFY", "")], &[]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("invalid VAULT_SKIP_VERIFY"),
        "{}",
        o.stderr
    );

    // A token with only the default policy: 403 with the path.
    let weak = h
        .bao(&["token", "create", "-policy=default", "-field=token"])
        .ok()
        .stdout;
    let o = publish(
        &[("VAULT_TOKEN", weak.trim())],
        &[
            "--mount",
            "secret",
            "--kv-version",
            "2",
            "--path",
            "kjt/errors",
        ],
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("permission denied (403) on secret/"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("kjt/errors"), "{}", o.stderr);

    // A sealed server.
    let spare = SpareBao::start(&h, false);
    spare.bao(&h, &["operator", "seal"]).ok();
    let o = publish(
        &[("VAULT_ADDR", &spare.addr), ("VAULT_TOKEN", "spare-root")],
        &[],
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains(&format!("vault at {} is sealed", spare.addr)),
        "{}",
        o.stderr
    );
    drop(spare);
    delete_token(&h, &token);
}

#[test]
fn file_secret_and_ci_sinks_and_no_secret_in_logs() {
    let Some(h) = common::harness() else { return };
    let token = kubeadm_token(&h, "2h");
    let id = token.split('.').next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("join.env");
    let name = unique("kjt-join-");
    let path = format!("secret/kjt/{}", unique("multi-"));
    let out = ours(
        &h,
        &[
            "publish",
            id,
            "--to",
            "vault,file,secret",
            "--path",
            &path,
            "--file",
            file.to_str().unwrap(),
            "--file-format",
            "env",
            "--secret-name",
            &name,
            "--secret-namespace",
            "default",
            "-v",
            "9",
        ],
        &[],
    )
    .ok();
    assert_eq!(out.stdout.lines().count(), 4, "{}", out.stdout);
    assert!(
        !out.stderr.contains(token.split('.').nth(1).unwrap()),
        "secret in logs: {}",
        out.stderr
    );
    assert!(!out.stdout.contains(&token));

    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
    let env = std::fs::read_to_string(&file).unwrap();
    assert!(
        env.contains(&format!("KJT_JOIN_COMMAND='{}'", expected_join(&h, &token))),
        "{env}"
    );

    let got = h
        .kubectl(&[
            "-n",
            "default",
            "get",
            "secret",
            &name,
            "-o",
            "jsonpath={.data.join_command}",
        ])
        .ok()
        .stdout;
    use base64::Engine;
    let got = base64::engine::general_purpose::STANDARD
        .decode(got.trim())
        .unwrap();
    assert_eq!(String::from_utf8(got).unwrap(), expected_join(&h, &token));

    let gha = ours(&h, &["publish", id, "--format", "github-actions"], &[]).ok();
    assert_eq!(
        gha.stdout.lines().next().unwrap(),
        format!("::add-mask::{token}")
    );
    let gl = ours(&h, &["publish", id, "--format", "gitlab-dotenv"], &[]).ok();
    assert!(
        gl.stdout
            .starts_with(&format!("KJT_JOIN_COMMAND={}", expected_join(&h, &token)))
    );

    let _ = h.kubectl(&["-n", "default", "delete", "secret", &name]);
    delete_token(&h, &token);
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cert_login_over_tls_fetches_with_a_client_certificate() {
    let Some(h) = common::harness() else { return };
    let spare = SpareBao::start(&h, true);
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    // A client CA and a node certificate signed by it.
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &p("cca.key"),
        "-out",
        &p("cca.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=kjt-client-ca",
    ]);
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &p("node.key"),
        "-out",
        &p("node.csr"),
        "-subj",
        "/CN=node1",
    ]);
    std::fs::write(p("ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p("node.csr"),
        "-CA",
        &p("cca.pem"),
        "-CAkey",
        &p("cca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        &p("node.pem"),
        "-extfile",
        &p("ext"),
    ]);
    std::fs::write(
        p("r.hcl"),
        "path \"secret/data/kjt/*\" { capabilities = [\"read\"] }\n",
    )
    .unwrap();
    spare
        .bao(&h, &["policy", "write", "kjt-node", &p("r.hcl")])
        .ok();
    spare.bao(&h, &["auth", "enable", "cert"]).ok();
    spare
        .bao(
            &h,
            &[
                "write",
                "auth/cert/certs/node1",
                &format!("certificate=@{}", p("cca.pem")),
                "token_policies=kjt-node",
            ],
        )
        .ok();

    // Publish with the root token over verified TLS (VAULT_CACERT).
    let token = kubeadm_token(&h, "1h");
    let id = token.split('.').next().unwrap();
    let mut env = spare.env();
    ours(
        &h,
        &["publish", id, "--to", "vault", "--path", "secret/kjt/tls"],
        &env,
    )
    .ok();

    // The node logs in with its certificate only.
    env.retain(|(k, _)| !k.ends_with("_TOKEN"));
    env.push(("VAULT_TOKEN", ""));
    env.push(("KUBECONFIG", "/nonexistent"));
    let cert_args = [
        "fetch",
        "--path",
        "secret/kjt/tls",
        "--vault-auth",
        "cert",
        "--vault-client-cert",
    ];
    let mut a: Vec<&str> = cert_args.to_vec();
    let (pem, key) = (p("node.pem"), p("node.key"));
    a.extend([
        pem.as_str(),
        "--vault-client-key",
        key.as_str(),
        "--vault-role",
        "node1",
    ]);
    let out = ours(&h, &a, &env).ok();
    assert_eq!(out.stdout.trim(), expected_join(&h, &token));

    // Without the CA the TLS failure is named.
    env.retain(|(k, _)| !k.ends_with("_CACERT"));
    let out = ours(&h, &a, &env);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("TLS with vault at https://127.0.0.1:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("VAULT_CACERT"), "{}", out.stderr);

    // With VAULT_SKIP_VERIFY it works, and says exactly once that nothing was verified.
    env.push(("VAULT_SKIP_VERIFY", "true"));
    let out = ours(&h, &a, &env).ok();
    assert_eq!(out.stdout.trim(), expected_join(&h, &token));
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("is not verified (VAULT_SKIP_VERIFY)"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(warnings[0].contains("WARN"), "{}", out.stderr);
    delete_token(&h, &token);
}
