//! Shared plumbing of the end-to-end test binaries: the harness's environment (from
//! `eval "$(scripts/e2e env)"`), and runners for our binaries and the independent peers
//! (the built kubectl, kubeadm and bao).
//!
//! The e2e tests are skipped only when `KJT_SKIP_E2E=1` says so; without a harness and
//! without that variable they fail, so CI can never pass them silently.
#![allow(dead_code)]

pub mod kubelet;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What `scripts/e2e env` exported.
pub struct Harness {
    /// Admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// Dir of the built kubectl, kubeadm, bao.
    pub bin: PathBuf,
    /// Cluster CA certificate (PEM).
    pub ca: PathBuf,
    /// `https://127.0.0.1:<port>`.
    pub apiserver: String,
    /// OpenBao address and root token.
    pub vault_addr: String,
    /// Root token.
    pub vault_token: String,
    /// Harness state dir.
    pub dir: PathBuf,
}

/// Output of a command.
#[derive(Debug)]
pub struct Out {
    /// Exit code.
    pub code: i32,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

impl Out {
    /// Panics with the transcript unless the exit code is 0.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The harness, or `None` when `KJT_SKIP_E2E=1` (the test then returns early).
pub fn harness() -> Option<Harness> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if get("KJT_SKIP_E2E").as_deref() == Some("1") {
        eprintln!("e2e skipped: KJT_SKIP_E2E=1");
        return None;
    }
    let must = |k: &str| {
        get(k).unwrap_or_else(|| {
            panic!(
                "{k} is not set: start the harness with `scripts/e2e up && eval \"$(scripts/e2e env)\"` \
                 (or set KJT_SKIP_E2E=1 to skip e2e tests explicitly)"
            )
        })
    };
    Some(Harness {
        kubeconfig: must("KUBECONFIG").into(),
        bin: must("KJT_E2E_BIN").into(),
        ca: must("KJT_E2E_CA").into(),
        apiserver: must("KJT_E2E_APISERVER"),
        vault_addr: must("VAULT_ADDR"),
        vault_token: must("VAULT_TOKEN"),
        dir: must("KJT_E2E_DIR").into(),
    })
}

/// Path of one of our binaries.
pub fn our_bin(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_kubectl-jointoken"))
        .parent()
        .unwrap()
        .to_path_buf();
    dir.join(name)
}

/// A folder holding only our installed-style binaries (symlinks), as `cargo install` would
/// leave them: target/debug also holds `*.d` files that kubectl's plugin lookup warns about.
pub fn plugin_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("plugins-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = our_bin("kubectl-jointoken");
        let src = src.parent().unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let exe = e.path().is_file() && !name.contains('.');
            if exe && name.starts_with("kubectl-jointoken") {
                let _ = std::os::unix::fs::symlink(e.path(), dir.join(&name));
            }
        }
        dir
    })
    .clone()
}

impl Harness {
    /// Runs a command with the harness env (admin KUBECONFIG, Vault, the built tools first on
    /// PATH, our binaries after them).
    pub fn run(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
        let path = format!(
            "{}:{}:/usr/local/bin:/usr/bin:/bin",
            self.bin.display(),
            plugin_dir().display()
        );
        let out = Command::new(program)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("PATH", path)
            .env("VAULT_ADDR", &self.vault_addr)
            .env("VAULT_TOKEN", &self.vault_token)
            .env("BAO_ADDR", &self.vault_addr)
            .env("BAO_TOKEN", &self.vault_token)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let out = Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        scan_for_secrets(program, args, &out);
        out
    }

    /// `kubectl-jointoken <args>`.
    pub fn ours(&self, args: &[&str]) -> Out {
        self.run(&our_bin("kubectl-jointoken"), args, &[])
    }

    /// The built (version-matched) kubectl.
    pub fn kubectl(&self, args: &[&str]) -> Out {
        self.run(&self.bin.join("kubectl"), args, &[])
    }

    /// The built kubeadm, pointed at the admin kubeconfig.
    pub fn kubeadm(&self, args: &[&str]) -> Out {
        let kc = self.kubeconfig.display().to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--kubeconfig", kc.as_str()]);
        self.run(&self.bin.join("kubeadm"), &all, &[])
    }

    /// The bao CLI.
    pub fn bao(&self, args: &[&str]) -> Out {
        self.run(&self.bin.join("bao"), args, &[])
    }

    /// A Node with these `status.addresses` ((type, address) pairs), made by kubectl and its
    /// status patched, as a kubelet would have it.
    pub fn node(&self, name: &str, addresses: &[(&str, &str)]) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("node.json");
        std::fs::write(
            &f,
            serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
                .to_string(),
        )
        .unwrap();
        self.kubectl(&["create", "-f", f.to_str().unwrap()]).ok();
        let addrs: Vec<serde_json::Value> = addresses
            .iter()
            .map(|(t, a)| serde_json::json!({"type": t, "address": a}))
            .collect();
        let patch = serde_json::json!({"status": {"addresses": addrs}}).to_string();
        self.kubectl(&[
            "patch",
            "node",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch,
        ])
        .ok();
    }

    /// A CSR as kubectl shows it (`-o json`).
    pub fn csr(&self, name: &str) -> serde_json::Value {
        let out = self.kubectl(&["get", "csr", name, "-o", "json"]).ok();
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("csr/{name}: {e}"))
    }

    /// Enables AppRole (once per harness) and makes role `name` with `policy` (HCL), through
    /// the bao CLI; returns its (role-id, secret-id).
    pub fn approle(&self, name: &str, policy: &str) -> (String, String) {
        let _ = self.bao(&["auth", "enable", "approle"]); // "already in use" on later calls
        let dir = tempfile::tempdir().unwrap();
        let pfile = dir.path().join(format!("{name}.hcl"));
        std::fs::write(&pfile, policy).unwrap();
        self.bao(&["policy", "write", name, pfile.to_str().unwrap()])
            .ok();
        self.bao(&[
            "write",
            &format!("auth/approle/role/{name}"),
            &format!("token_policies={name}"),
            "token_ttl=10m",
        ])
        .ok();
        let role_id = self
            .bao(&[
                "read",
                "-field=role_id",
                &format!("auth/approle/role/{name}/role-id"),
            ])
            .ok()
            .stdout;
        let secret_id = self
            .bao(&[
                "write",
                "-f",
                "-field=secret_id",
                &format!("auth/approle/role/{name}/secret-id"),
            ])
            .ok()
            .stdout;
        (role_id.trim().to_string(), secret_id.trim().to_string())
    }

    /// `kubectl auth whoami -o json` with only a bearer token (no admin credentials).
    pub fn whoami_with_token(&self, token: &str) -> Out {
        let ca = self.ca.display().to_string();
        self.run(
            &self.bin.join("kubectl"),
            &[
                "--kubeconfig=/dev/null",
                "--server",
                &self.apiserver,
                "--certificate-authority",
                &ca,
                "--token",
                token,
                "auth",
                "whoami",
                "-o",
                "json",
            ],
            &[],
        )
    }
}

/// A free port on 127.0.0.1 (for a peer started by a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every token secret seen on any stdout in this test binary (ours, kubeadm's, bao's), so the
/// scanner can check our stderr against all of them.
static SEEN_SECRETS: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// The `id.secret` tokens in `s` (`[a-z0-9]{6}\.[a-z0-9]{16}`, not inside a longer word).
pub fn tokens_in(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let tok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut out = Vec::new();
    for (i, _) in s.match_indices('.') {
        if i < 6 || i + 17 > b.len() {
            continue;
        }
        let (id, secret) = (&b[i - 6..i], &b[i + 1..i + 17]);
        let before_ok = i == 6 || !tok(b[i - 7]);
        let after_ok = i + 17 == b.len() || !tok(b[i + 17]);
        if id.iter().all(|&c| tok(c)) && secret.iter().all(|&c| tok(c)) && before_ok && after_ok {
            out.push(s[i - 6..i + 17].to_string());
        }
    }
    out
}

/// The secret scanner: records the secrets any command printed on stdout, and fails the test
/// when one of our binaries prints a token or a recorded secret on stderr.
pub fn scan_for_secrets(program: &Path, args: &[&str], out: &Out) {
    let mut seen = SEEN_SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    for t in tokens_in(&out.stdout) {
        seen.insert(t[7..].to_string());
    }
    // Secrets typed on our command line count as created by the test too.
    for a in args {
        for t in tokens_in(a) {
            seen.insert(t[7..].to_string());
        }
    }
    let ours = program
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl-jointoken"));
    if !ours {
        return;
    }
    let leaked: Vec<&String> = seen
        .iter()
        .filter(|s| out.stderr.contains(s.as_str()))
        .collect();
    assert!(
        leaked.is_empty() && tokens_in(&out.stderr).is_empty(),
        "secret on stderr of {} {:?}:\n{}",
        program.display(),
        args,
        out.stderr
    );
}

/// A short random suffix for names, so parallel tests never collide.
pub fn unique(prefix: &str) -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    format!(
        "{prefix}{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

/// Polls `f` every 250 ms until it returns `Some` or `secs` pass.
pub fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if std::time::Instant::now() > end {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// The bare harness, from the env file its `up --bare` wrote.
pub fn bare() -> Option<Harness> {
    harness()?;
    let dir = std::env::var("KJT_E2E_BARE_DIR").unwrap_or_else(|_| {
        panic!(
            "KJT_E2E_BARE_DIR is not set: start a bare harness with `KJT_E2E_DIR=D scripts/e2e up \
             --bare` and export KJT_E2E_BARE_DIR=D (or set KJT_SKIP_E2E=1)"
        )
    });
    let text = std::fs::read_to_string(Path::new(&dir).join("env"))
        .unwrap_or_else(|e| panic!("{dir}/env: {e}: is the bare harness up?"));
    let get = |k: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix("export "))
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} missing in {dir}/env"))
            .to_string()
    };
    assert_eq!(get("KJT_E2E_MODE"), "bare", "{dir} is not a --bare harness");
    Some(Harness {
        kubeconfig: get("KUBECONFIG").into(),
        bin: get("KJT_E2E_BIN").into(),
        ca: get("KJT_E2E_CA").into(),
        apiserver: get("KJT_E2E_APISERVER"),
        vault_addr: get("VAULT_ADDR"),
        vault_token: get("VAULT_TOKEN"),
        dir: dir.into(),
    })
}
