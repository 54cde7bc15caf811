//! End-to-end tests of the Vault client's hardening against the harness's real OpenBao dev
//! server (`scripts/e2e up`): records built to fool a shell, ambiguous writes, rollback, a
//! wrong `--kv-version`, redirects, `--vault-timeout 0`, refused tokens and bad addresses,
//! and the check-and-set race. Faults come from a small HTTP proxy in this file that forwards
//! to the real OpenBao and delays, holds or swallows chosen requests; what Vault holds
//! afterwards is always read with the bao CLI, an independent client.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{Harness, Out, our_bin, unique};
use kubectl_jointoken::publish::vault::{DEFAULT_JWT_FILE, VaultArgs, VaultSink, WriteOptions};
use kubectl_jointoken::publish::{JoinRecord, Outcome, Sink};

// ---------------------------------------------------------------------------------------------
// helpers

fn ours(h: &Harness, args: &[&str], env: &[(&str, &str)]) -> Out {
    h.run(&our_bin("kubectl-jointoken"), args, env)
}

/// A fresh bootstrap token made by kubeadm: `id.secret`.
fn kubeadm_token(h: &Harness, ttl: &str) -> String {
    h.kubeadm(&["token", "create", "--ttl", ttl])
        .ok()
        .stdout
        .trim()
        .to_string()
}

fn id(token: &str) -> &str {
    token.split('.').next().unwrap()
}

fn delete_token(h: &Harness, token: &str) {
    let _ = h.kubectl(&[
        "-n",
        "kube-system",
        "delete",
        "secret",
        &format!("bootstrap-token-{}", id(token)),
        "--ignore-not-found",
    ]);
}

fn bao_field(h: &Harness, field: &str, path: &str) -> String {
    h.bao(&["kv", "get", &format!("-field={field}"), path])
        .ok()
        .stdout
}

fn bao_json(h: &Harness, args: &[&str]) -> serde_json::Value {
    let out = h.bao(args).ok();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("bao {args:?}: {e}"))
}

fn ca_hash() -> String {
    std::env::var("KJT_E2E_CA_HASH").expect("KJT_E2E_CA_HASH from scripts/e2e env")
}

/// A random token-shaped value (for records that never need a real token).
fn fake_token() -> String {
    let hex = unique("");
    format!("{}.{}{}", &hex[..6], hex, hex)
        .chars()
        .take(23)
        .collect()
}

/// What the proxy does with one request, chosen by its request line (`POST /v1/… HTTP/1.1`).
#[derive(Clone)]
enum Act {
    /// Forward it and relay the answer.
    Forward,
    /// Wait, then forward it.
    DelayRequest(Duration),
    /// Forward it, then hold the answer this long before relaying it.
    HoldResponse(Duration),
    /// Never forward it; keep the connection open this long, then close it.
    Swallow(Duration),
    /// Answer with these raw bytes (status line, headers, body).
    Respond(String),
}

/// Reads one request: its line and the raw bytes to forward (headers with `Connection: close`
/// so the upstream ends the answer by closing, and the body).
fn read_request(conn: &TcpStream) -> Option<(String, Vec<u8>)> {
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    if line.is_empty() {
        return None;
    }
    let mut raw = line.clone().into_bytes();
    let mut len = 0usize;
    loop {
        let mut hdr = String::new();
        if r.read_line(&mut hdr).ok()? == 0 || hdr == "\r\n" {
            break;
        }
        let lower = hdr.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            raw.extend_from_slice(hdr.as_bytes());
        }
    }
    raw.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    raw.extend_from_slice(&body);
    Some((line.trim_end().to_string(), raw))
}

/// A one-request-per-connection HTTP proxy to `upstream` (host:port); returns its URL.
fn proxy(upstream: &str, rule: impl Fn(&str) -> Act + Send + Sync + 'static) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    let upstream = upstream.to_string();
    let rule = Arc::new(rule);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (rule, upstream) = (rule.clone(), upstream.clone());
            std::thread::spawn(move || {
                let Some((line, raw)) = read_request(&conn) else {
                    return;
                };
                let forward = || {
                    let mut up = TcpStream::connect(&upstream).unwrap();
                    up.write_all(&raw).unwrap();
                    let mut answer = Vec::new();
                    up.read_to_end(&mut answer).unwrap();
                    answer
                };
                let answer = match rule(&line) {
                    Act::Forward => forward(),
                    Act::DelayRequest(d) => {
                        std::thread::sleep(d);
                        forward()
                    }
                    Act::HoldResponse(d) => {
                        let a = forward();
                        std::thread::sleep(d);
                        a
                    }
                    Act::Swallow(d) => {
                        std::thread::sleep(d);
                        return;
                    }
                    Act::Respond(s) => s.into_bytes(),
                };
                let _ = conn.write_all(&answer);
            });
        }
    });
    addr
}

/// The harness's OpenBao as host:port.
fn upstream(h: &Harness) -> String {
    h.vault_addr.trim_start_matches("http://").to_string()
}

fn json_answer(status: &str, json: &str) -> Act {
    Act::Respond(format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{json}",
        json.len()
    ))
}

// ---------------------------------------------------------------------------------------------
// 1. records built for a shell

#[test]
fn fetch_refuses_records_built_for_a_shell_and_prints_only_rebuilt_commands() {
    let Some(h) = common::harness() else { return };
    let path = format!("secret/kjt/{}", unique("inject-"));
    let tok = fake_token();
    let pin = ca_hash();
    let good_join =
        format!("kubeadm join 10.0.0.1:6443 --token {tok} --discovery-token-ca-cert-hash {pin}");
    // `bao kv put` with the default fields, each `key=value` in `over` replacing its key.
    let put = |over: &[String]| {
        let mut fields = vec![
            format!("token={tok}"),
            format!("token_id={}", id(&tok)),
            "api_server_endpoint=10.0.0.1:6443".into(),
            format!("ca_cert_hashes={pin}"),
        ];
        for o in over {
            let key = o.split('=').next().unwrap();
            fields.retain(|f| f.split('=').next() != Some(key));
            fields.push(o.clone());
        }
        let mut a = vec!["kv", "put", path.as_str()];
        a.extend(fields.iter().map(String::as_str));
        h.bao(&a).ok();
    };
    let fetch = || ours(&h, &["fetch", "--path", &path], &[]);

    // A well-formed record written by another tool is printed, rebuilt from its parts.
    put(&[]);
    let out = fetch().ok();
    assert_eq!(out.stdout, format!("{good_join}\n"));

    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["api_server_endpoint=10.0.0.1:6443; curl x | sh #".into()],
            "field api_server_endpoint \"10.0.0.1:6443; curl x | sh #\" is not host:port",
        ),
        (
            vec![format!("ca_cert_hashes={pin},sha256:$(reboot)")],
            "field ca_cert_hashes holds an entry that is not sha256:<64 lowercase hex>",
        ),
        (
            vec![format!("ca_cert_hashes={pin}`reboot`")],
            "field ca_cert_hashes holds an entry that is not sha256:<64 lowercase hex>",
        ),
        (
            vec![format!("ca_cert_hashes={pin}\nreboot")],
            "field ca_cert_hashes holds an entry that is not sha256:<64 lowercase hex>",
        ),
        (
            vec![format!(
                "control_plane_join_command={good_join} --control-plane --certificate-key $(reboot)"
            )],
            "field control_plane_join_command has no valid --certificate-key",
        ),
        (
            vec![format!("join_command={good_join}; reboot")],
            "field join_command does not match the record's token, endpoint and pins",
        ),
    ];
    for (fields, want) in cases {
        put(&fields);
        for extra in [&[][..], &["--control-plane"][..], &["-o", "json"][..]] {
            let mut a = vec!["fetch", "--path", &path];
            a.extend(extra);
            let out = ours(&h, &a, &[]);
            assert_eq!(out.code, 1, "{fields:?}: {}", out.stderr);
            assert!(out.stdout.is_empty(), "printed: {}", out.stdout);
            assert!(
                out.stderr
                    .contains(&format!("vault {path} is not a join record: {want}")),
                "{}",
                out.stderr
            );
            assert!(!out.stderr.contains(&tok), "secret in: {}", out.stderr);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. ambiguous writes

#[test]
fn a_write_without_answer_is_settled_by_reading_the_path_back() {
    let Some(h) = common::harness() else { return };
    let first = kubeadm_token(&h, "1h");
    let second = kubeadm_token(&h, "2h");
    let third = kubeadm_token(&h, "3h");
    let rel = format!("kjt/{}", unique("ambig-"));
    let path = format!("secret/{rel}");
    let data_line = format!("POST /v1/secret/data/{rel} ");
    ours(
        &h,
        &["publish", id(&first), "--to", "vault", "--path", &path],
        &[],
    )
    .ok();

    // The write reaches OpenBao but its answer comes after the client gave up.
    let dl = data_line.clone();
    let holding = proxy(&upstream(&h), move |line| {
        if line.starts_with(&dl) {
            Act::HoldResponse(Duration::from_secs(5))
        } else {
            Act::Forward
        }
    });
    let publish = |addr: &str, token: &str| {
        ours(
            &h,
            &[
                "publish",
                id(token),
                "--to",
                "vault",
                "--path",
                &path,
                "--vault-addr",
                addr,
                "--vault-timeout",
                "2s",
            ],
            &[],
        )
    };
    let out = publish(&holding, &second).ok();
    assert!(
        out.stdout.contains(&format!(
            "{path} (version 2, confirmed by read-back after a timeout)"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(bao_field(&h, "token", &path), second);

    // The write never reaches OpenBao: unconfirmed, and the path is named as not ours.
    let dl = data_line.clone();
    let swallowing = proxy(&upstream(&h), move |line| {
        if line.starts_with(&dl) {
            Act::Swallow(Duration::from_secs(5))
        } else {
            Act::Forward
        }
    });
    let out = publish(&swallowing, &third);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("the write to {path} is unconfirmed (vault at ")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "and {path} does not name token {}: publish again",
            id(&third)
        )),
        "{}",
        out.stderr
    );
    assert_eq!(bao_field(&h, "token", &path), second, "nothing changed");
    for t in [&first, &second, &third] {
        delete_token(&h, t);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. rollback, through the library (create's rollback path calls the same method)

fn record(token: &str, exp: &str) -> JoinRecord {
    JoinRecord {
        token: token.parse().unwrap(),
        expiration: Some(exp.parse().unwrap()),
        api_server_endpoint: "10.0.0.1:6443".into(),
        ca_cert_hashes: vec![ca_hash()],
        ca_cert: String::new(),
        certificate_key: None,
    }
}

async fn sink(path: &str) -> VaultSink {
    let a = VaultArgs {
        path: Some(path.into()),
        vault_jwt_file: DEFAULT_JWT_FILE.into(),
        ..Default::default()
    };
    let opts = WriteOptions {
        verify: true,
        replace_newer: false,
        cluster: "e2e".into(),
    };
    VaultSink::prepare(&a, opts).await.unwrap()
}

#[tokio::test]
async fn rollback_restores_the_previous_kv_v2_version_or_removes_the_path() {
    let Some(h) = common::harness() else { return };
    let (a, b) = (fake_token(), fake_token());
    let rel = format!("kjt/{}", unique("rb-"));
    let path = format!("secret/{rel}");
    let ra = record(&a, "2030-01-01T00:00:00Z");
    let rb = record(&b, "2030-01-02T00:00:00Z");
    assert!(matches!(
        sink(&path).await.publish(&ra).await.unwrap(),
        Outcome::Written(_)
    ));
    let sb = sink(&path).await;
    sb.publish(&rb).await.unwrap();
    assert_eq!(bao_field(&h, "token", &path), b);
    assert_eq!(
        sb.rollback(&rb).await.unwrap(),
        format!("{path}: restored version 1 (token {}) as version 3", id(&a))
    );
    assert_eq!(bao_field(&h, "token", &path), a);
    let meta = bao_json(&h, &["kv", "metadata", "get", "-format=json", &path]);
    assert_eq!(meta["data"]["current_version"], 3);
    assert_eq!(meta["data"]["custom_metadata"]["token_id"], id(&a));
    assert_eq!(meta["data"]["custom_metadata"]["data_version"], "3");
    // Rolling back again touches nothing: the path no longer names b.
    assert_eq!(
        sb.rollback(&rb).await.unwrap(),
        format!(
            "{path} left as it is: its version 3 does not name token {}",
            id(&b)
        )
    );
    // A sink that wrote nothing (a's record already there) rolls nothing back.
    let sa = sink(&path).await;
    assert!(matches!(
        sa.publish(&ra).await.unwrap(),
        Outcome::Unchanged(_)
    ));
    assert_eq!(
        sa.rollback(&ra).await.unwrap(),
        format!("{path} left as it is: this run wrote nothing there")
    );
    assert_eq!(bao_field(&h, "token", &path), a);

    // A path this run created goes away entirely.
    let fresh = format!("secret/kjt/{}", unique("rb-new-"));
    let s = sink(&fresh).await;
    s.publish(&rb).await.unwrap();
    assert_eq!(
        s.rollback(&rb).await.unwrap(),
        format!("{fresh} removed: it held only token {}", id(&b))
    );
    let gone = h.bao(&["kv", "metadata", "get", &fresh]);
    assert_eq!(gone.code, 2, "{}", gone.stdout);

    // KV v1 cannot restore and says so; the record stays.
    let v1 = format!("kv1/kjt/{}", unique("rb-v1-"));
    let s = sink(&v1).await;
    s.publish(&rb).await.unwrap();
    assert_eq!(
        s.rollback(&rb).await.unwrap(),
        format!(
            "{v1} still names deleted token {}; KV v1 keeps no history",
            id(&b)
        )
    );
    assert_eq!(bao_field(&h, "token", &v1), b);
}

// ---------------------------------------------------------------------------------------------
// 4. a wrong --kv-version

#[test]
fn a_contradicting_kv_version_is_refused_before_any_write() {
    let Some(h) = common::harness() else { return };
    let token = kubeadm_token(&h, "1h");
    let rel = format!("kjt/{}", unique("kvv-"));
    for (mount, flag, found) in [("kv1", "2", "1"), ("secret", "1", "2")] {
        let out = ours(
            &h,
            &[
                "publish",
                id(&token),
                "--to",
                "vault",
                "--mount",
                mount,
                "--path",
                &rel,
                "--kv-version",
                flag,
            ],
            &[],
        );
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "wrong KV version: mount {mount}/ is KV v{found} but --kv-version {flag} was \
                 given: drop --kv-version"
            )),
            "{}",
            out.stderr
        );
    }
    // Nothing was written anywhere: not at the intended paths, not at the stray ones.
    for p in [format!("kv1/{rel}"), format!("kv1/data/{rel}")] {
        assert_eq!(h.bao(&["read", &p]).code, 2, "{p} exists");
    }
    assert_eq!(
        h.bao(&["kv", "metadata", "get", &format!("secret/{rel}")])
            .code,
        2
    );
    delete_token(&h, &token);
}

// ---------------------------------------------------------------------------------------------
// 5. redirects

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let Some(h) = common::harness() else { return };
    let token = kubeadm_token(&h, "1h");
    // Where the redirect points: counts every connection it gets.
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let target_addr = format!("http://{}", target.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for c in target.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(c);
        }
    });
    // A "Vault" that finds the mount, has nothing there, and redirects the write.
    let to = format!("{target_addr}/v1/secret/data/x?token=query-secret");
    let redirector = proxy("", move |line| {
        if line.contains("/v1/sys/internal/ui/mounts/") {
            json_answer(
                "200 OK",
                r#"{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}"#,
            )
        } else if line.starts_with("GET ") {
            json_answer("404 Not Found", r#"{"errors":[]}"#)
        } else {
            Act::Respond(format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            ))
        }
    });
    let out = ours(
        &h,
        &[
            "publish",
            id(&token),
            "--to",
            "vault",
            "--path",
            "secret/kjt/redirected",
            "--vault-addr",
            &redirector,
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "vault at {redirector} redirected POST secret/data/kjt/redirected to {target_addr}: \
             not followed"
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("query-secret"), "{}", out.stderr);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the redirect was followed");
    delete_token(&h, &token);
}

// ---------------------------------------------------------------------------------------------
// 8. --vault-timeout 0

#[test]
fn a_zero_timeout_means_no_timeout() {
    let Some(h) = common::harness() else { return };
    let token = kubeadm_token(&h, "1h");
    let path = format!("secret/kjt/{}", unique("t0-"));
    // Every answer 3 s late: more than any short timeout a zero could turn into.
    let slow = proxy(&upstream(&h), |_| Act::HoldResponse(Duration::from_secs(3)));
    let out = ours(
        &h,
        &[
            "publish",
            id(&token),
            "--to",
            "vault",
            "--path",
            &path,
            "--vault-timeout",
            "0",
        ],
        &[],
    )
    .ok();
    assert!(out.stdout.contains("published"), "{}", out.stdout);
    let out = ours(
        &h,
        &["fetch", "--path", &path, "--vault-addr", &slow],
        &[("VAULT_CLIENT_TIMEOUT", "0")],
    )
    .ok();
    assert!(
        out.stdout.contains(&token),
        "fetch printed the join command"
    );
    delete_token(&h, &token);
}

// ---------------------------------------------------------------------------------------------
// 9. errors that name the real cause

#[test]
fn a_refused_token_and_bad_addresses_are_named_as_such() {
    let Some(h) = common::harness() else { return };
    let token = kubeadm_token(&h, "1h");
    let publish = |env: &[(&str, &str)], extra: &[&str]| {
        let mut a = vec![
            "publish",
            id(&token),
            "--to",
            "vault",
            "--path",
            "secret/kjt/x",
        ];
        a.extend(extra);
        ours(&h, &a, env)
    };
    let out = publish(&[("VAULT_TOKEN", "s.wrongwrongwrong")], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "VAULT_TOKEN was refused (403) by {}: it is wrong, expired or revoked",
            h.vault_addr
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("--mount"), "{}", out.stderr);
    assert!(!out.stderr.contains("wrongwrong"), "{}", out.stderr);
    // Also with the mount given (no mount lookup to fail first) and from a token file.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("token");
    std::fs::write(&f, "s.wrongwrongwrong\n").unwrap();
    let fs = f.to_str().unwrap();
    let out = publish(
        &[],
        &[
            "--vault-token-file",
            fs,
            "--mount",
            "secret",
            "--kv-version",
            "2",
            "--path",
            "kjt/x",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("the Vault token in {fs} was refused (403)")),
        "{}",
        out.stderr
    );

    let out = publish(
        &[("VAULT_ADDR", &format!("{}/v1/secret", h.vault_addr))],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("VAULT_ADDR must be scheme://host:port without a path"),
        "{}",
        out.stderr
    );
    let with_user = h.vault_addr.replace("http://", "http://admin:hunter2@");
    let out = publish(&[("VAULT_ADDR", &with_user)], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("VAULT_ADDR must not hold a user name or password"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    // https:// to a server without TLS is told apart from an untrusted certificate (by the
    // TLS error's type).
    let https = h.vault_addr.replace("http://", "https://");
    let out = publish(&[("VAULT_ADDR", &https)], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "TLS with vault at {https} failed: the server does not speak TLS"
        )),
        "{}",
        out.stderr
    );
    delete_token(&h, &token);
}

// ---------------------------------------------------------------------------------------------
// the check-and-set race, made deterministic by the proxy (no hook in the product)

/// Two publishers to one path: `slow` goes through a proxy that holds its first data write
/// 3 s (after it read the current version); `fast` writes directly in between.
fn race(h: &Harness, slow_id: &str, fast_id: &str, path: &str) -> (Out, Out) {
    let rel = path.trim_start_matches("secret/");
    let line = format!("POST /v1/secret/data/{rel} ");
    let first = AtomicBool::new(true);
    let delaying = proxy(&upstream(h), move |l| {
        if l.starts_with(&line) && first.swap(false, Ordering::SeqCst) {
            Act::DelayRequest(Duration::from_secs(3))
        } else {
            Act::Forward
        }
    });
    std::thread::scope(|s| {
        let slow = s.spawn(|| {
            ours(
                h,
                &[
                    "publish",
                    slow_id,
                    "--to",
                    "vault",
                    "--path",
                    path,
                    "--vault-addr",
                    &delaying,
                ],
                &[],
            )
        });
        std::thread::sleep(Duration::from_millis(1500));
        let fast = ours(
            h,
            &["publish", fast_id, "--to", "vault", "--path", path],
            &[],
        );
        (slow.join().unwrap(), fast)
    })
}

#[test]
fn cas_conflict_between_two_publishers_keeps_the_newer_token() {
    let Some(h) = common::harness() else { return };
    let older = kubeadm_token(&h, "1h");
    let newer = kubeadm_token(&h, "3h");

    // Round 1: the older token's publisher reads first, then loses the race to the newer.
    let path = format!("secret/kjt/{}", unique("cas1-"));
    let (slow, fast) = race(&h, id(&older), id(&newer), &path);
    let fast = fast.ok();
    // Kept-newer means our token is not published: exit 1 (the one publish verdict).
    assert_eq!(slow.code, 1, "{}", slow.stderr);
    assert!(fast.stdout.contains("published"), "{}", fast.stdout);
    assert!(
        slow.stderr.contains("check-and-set conflict"),
        "{}",
        slow.stderr
    );
    assert!(slow.stdout.contains("kept-newer"), "{}", slow.stdout);
    assert_eq!(bao_field(&h, "token", &path), newer);

    // Round 2: the newer token's publisher reads first; the older one's write in between
    // makes its check-and-set fail, and it writes again on top.
    let path = format!("secret/kjt/{}", unique("cas2-"));
    let (slow, fast) = race(&h, id(&newer), id(&older), &path);
    let (slow, _fast) = (slow.ok(), fast.ok());
    assert!(
        slow.stderr.contains("check-and-set conflict"),
        "{}",
        slow.stderr
    );
    assert!(slow.stdout.contains("published"), "{}", slow.stdout);
    assert_eq!(bao_field(&h, "token", &path), newer);
    let meta = bao_json(&h, &["kv", "metadata", "get", "-format=json", &path]);
    assert_eq!(meta["data"]["current_version"], 2);
    assert_eq!(meta["data"]["custom_metadata"]["token_id"], id(&newer));
    delete_token(&h, &older);
    delete_token(&h, &newer);
}

#[tokio::test]
async fn secret_sink_rollback_restores_the_previous_data_or_deletes_what_it_created() {
    use kubectl_jointoken::cli::GlobalArgs;
    use kubectl_jointoken::publish::secret::{SecretArgs, SecretSink};
    let Some(h) = common::harness() else { return };
    let name = unique("kjt-rb-");
    let args = SecretArgs {
        secret_name: Some(name.clone()),
        secret_namespace: Some("default".into()),
        secret_context: None,
    };
    let g = GlobalArgs::default();
    let (a, b) = (fake_token(), fake_token());
    let ra = record(&a, "2030-01-01T00:00:00Z");
    let rb = record(&b, "2030-01-02T00:00:00Z");
    let token_id = || {
        let out = h.kubectl(&[
            "-n",
            "default",
            "get",
            "secret",
            &name,
            "-o",
            "jsonpath={.data.token_id}",
        ]);
        (out.code == 0).then(|| {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(out.stdout.trim())
                .unwrap();
            String::from_utf8(raw).unwrap()
        })
    };
    let first = SecretSink::prepare(&args, &g).await.unwrap();
    first.publish(&ra).await.unwrap();
    let second = SecretSink::prepare(&args, &g).await.unwrap();
    second.publish(&rb).await.unwrap();
    assert_eq!(token_id().as_deref(), Some(id(&b)));
    assert_eq!(
        second.rollback(&rb).await.unwrap(),
        format!(
            "secret default/{name}: restored its previous data (token {})",
            id(&a)
        )
    );
    assert_eq!(token_id().as_deref(), Some(id(&a)));
    // The first publish created the Secret: its rollback deletes exactly that object.
    assert_eq!(
        first.rollback(&ra).await.unwrap(),
        format!("secret default/{name} deleted: this run created it")
    );
    assert_eq!(token_id(), None, "the Secret is gone");
}
