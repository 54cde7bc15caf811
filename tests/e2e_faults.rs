//! Faults against the real control plane and OpenBao (issue #11): signals in the middle of a
//! publish, and the secret scanner's own check. A small proxy in front of the real OpenBao
//! holds chosen requests (fault injection only; every result is read back from the real
//! servers with kubectl and the bao CLI).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Harness, Out, harness, our_bin, scan_for_secrets, tokens_in, unique, wait_for};

/// A proxy to `upstream` (`http://127.0.0.1:PORT`) that forwards every request except those
/// `hold` matches (method, path), which it never answers. Returns the proxy's address.
fn holding_proxy(upstream: &str, hold: fn(&str, &str) -> bool) -> String {
    let up = upstream.trim_start_matches("http://").to_string();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            let up = up.clone();
            std::thread::spawn(move || serve(c, &up, hold));
        }
    });
    addr
}

fn serve(mut c: TcpStream, up: &str, hold: fn(&str, &str) -> bool) {
    loop {
        // Read one request: head, then Content-Length bytes of body.
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            match c.read(&mut byte) {
                Ok(1) => buf.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if c.read_exact(&mut body).is_err() {
            return;
        }
        let mut first = head.lines().next().unwrap_or("").split(' ');
        let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
        if hold(method, path) {
            // Never answer: the client times out or is interrupted.
            std::thread::sleep(Duration::from_secs(3600));
            return;
        }
        // One request per upstream connection: ask it to close, then relay until it does.
        let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
        let Ok(mut u) = TcpStream::connect(up) else {
            return;
        };
        if u.write_all(head.as_bytes())
            .and_then(|_| u.write_all(&body))
            .is_err()
        {
            return;
        }
        let mut resp = Vec::new();
        let _ = u.read_to_end(&mut resp);
        // Relay with the connection kept for the client's next request: rewrite nothing but
        // the close (the body length stays exact).
        let text = String::from_utf8_lossy(&resp).into_owned();
        let resp = text.replacen("Connection: close\r\n", "", 1);
        if c.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

fn is_kv_write(method: &str, path: &str) -> bool {
    matches!(method, "POST" | "PUT") && path.starts_with("/v1/secret/data/")
}

fn spawn_ours(h: &Harness, args: &[&str], vault: &str) -> Child {
    Command::new(our_bin("kubectl-jointoken"))
        .args(args)
        .env("KUBECONFIG", &h.kubeconfig)
        .env("VAULT_ADDR", vault)
        .env("VAULT_TOKEN", &h.vault_token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child, args: &[&str]) -> Out {
    let o = child.wait_with_output().unwrap();
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    scan_for_secrets(&our_bin("kubectl-jointoken"), args, &out);
    out
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

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn random_token() -> String {
    let t = unique("");
    // unique() gives 8 hex characters; build a token of the right shape from two of them.
    let s = format!("{}{}", unique(""), unique(""));
    format!("{}.{}", &t[..6], &s[..16])
}

/// SIGTERM (143) and SIGINT (130) while `create --publish vault` waits for Vault's write: the
/// token is deleted again, Vault holds nothing, and the message says what was rolled back.
#[test]
fn a_signal_during_create_publish_rolls_the_token_back() {
    let Some(h) = harness() else { return };
    let proxy = holding_proxy(&h.vault_addr, is_kv_write);
    for (sig, code, name) in [("-TERM", 143, "SIGTERM"), ("-INT", 130, "SIGINT")] {
        let token = random_token();
        let id = token[..6].to_string();
        let path = format!("kjt/{}", unique("sig-"));
        let args = [
            "create",
            &token,
            "--publish",
            "vault",
            "--mount",
            "secret",
            "--path",
            &path,
        ];
        let child = spawn_ours(&h, &args, &proxy);
        assert!(
            wait_for(20, || secret_exists(&h, &id).then_some(())).is_some(),
            "the token is created before the publish"
        );
        signal(&child, sig);
        let out = finish(child, &args);
        assert_eq!(out.code, code, "{}", out.stderr);
        let last = out.stderr.lines().last().unwrap_or_default();
        assert!(
            last.contains(&format!("interrupted by {name}"))
                && last.contains(&format!("bootstrap token {id} was deleted again")),
            "{last}"
        );
        // The write never landed, so no sink claims to name the deleted token.
        assert!(
            !last.contains("names deleted token") && last.contains("left as it is"),
            "{last}"
        );
        assert!(!secret_exists(&h, &id), "no orphaned token");
        let read = h.bao(&["kv", "get", &format!("secret/{path}")]);
        assert_ne!(read.code, 0, "Vault holds nothing: {}", read.stdout);
    }
}

/// SIGTERM during `schedule run`'s publish: exit 143, no managed token left, and the Lease was
/// released, so the next run rotates at once instead of skipping.
#[test]
fn a_signal_during_schedule_run_rolls_back_and_releases_the_lease() {
    let Some(h) = harness() else { return };
    let proxy = holding_proxy(&h.vault_addr, is_kv_write);
    let instance = unique("sig-rot-");
    let path = format!("kjt/{instance}");
    let args = [
        "schedule",
        "run",
        "--instance",
        &instance,
        "--publish",
        "vault",
        "--mount",
        "secret",
        "--path",
        &path,
    ];
    let child = spawn_ours(&h, &args, &proxy);
    let selector = format!("jointoken.kubectl.io/rotation={instance}");
    let managed = || {
        h.kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secrets",
            "-l",
            &selector,
            "-o",
            "name",
        ])
        .ok()
        .stdout
        .lines()
        .count()
    };
    assert!(wait_for(20, || (managed() == 1).then_some(())).is_some());
    signal(&child, "-TERM");
    let out = finish(child, &args);
    assert_eq!(out.code, 143, "{}", out.stderr);
    assert!(
        out.stderr.contains("interrupted by SIGTERM"),
        "{}",
        out.stderr
    );
    assert_eq!(managed(), 0, "the new token was deleted again");
    // The lease is free: a normal run (straight to OpenBao) rotates now.
    let again = h.ours(&args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(!again.stderr.contains("skipped"), "{}", again.stderr);
    assert_eq!(managed(), 1);
    let id = h
        .bao(&["kv", "get", "-field=token_id", &format!("secret/{path}")])
        .ok()
        .stdout;
    assert_eq!(id.trim().len(), 6);
}

/// The scanner itself: finds tokens, and fails a run of ours that prints one on stderr.
#[test]
fn the_secret_scanner_catches_a_leak() {
    assert_eq!(
        tokens_in("x abcdef.0123456789abcdef y"),
        vec!["abcdef.0123456789abcdef".to_string()]
    );
    assert!(tokens_in("xabcdef.0123456789abcdefy").is_empty());
    assert!(tokens_in("kubectl-jointoken.exe").is_empty());
    let leak = Out {
        code: 1,
        stdout: String::new(),
        stderr: "error: token qwerty.0123456789abcdef was refused".into(),
    };
    let r =
        std::panic::catch_unwind(|| scan_for_secrets(&our_bin("kubectl-jointoken"), &[], &leak));
    assert!(r.is_err(), "a token on our stderr must fail the test");
    // A secret seen earlier on stdout is caught even without its id.
    let printed = Out {
        code: 0,
        stdout: "kubeadm join h:1 --token zxcvbn.aaaabbbbccccdddd".into(),
        stderr: String::new(),
    };
    scan_for_secrets(std::path::Path::new("kubeadm"), &[], &printed);
    let leak = Out {
        code: 1,
        stdout: String::new(),
        stderr: "debug: secret aaaabbbbccccdddd".into(),
    };
    let r =
        std::panic::catch_unwind(|| scan_for_secrets(&our_bin("kubectl-jointoken"), &[], &leak));
    assert!(r.is_err());
}
