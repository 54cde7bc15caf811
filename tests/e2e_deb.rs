//! The Debian package under a real systemd: a Debian bookworm root file system (built once and
//! cached by `scripts/debian-rootfs`) booted with `systemd-nspawn --boot` (systemd 252 as PID 1,
//! the host's network, so the harness's apiserver and OpenBao on 127.0.0.1 are reachable), in
//! which the .deb that `scripts/dist-deb` builds from the test's binaries is installed with
//! `dpkg -i` and set up exactly as README.Debian says: the shipped example config with the
//! Vault address and path filled in, the admin kubeconfig, and AppRole credentials in
//! /etc/credstore. The timer is enabled, the service started; the join command is read back
//! with the bao CLI and its token checked with kubectl and kubeadm, and a second run does
//! nothing. `apt-get purge` must then leave nothing of the package behind.
//!
//! Needs root, debootstrap, systemd-nspawn (Debian's systemd-container), nsenter, zstd and
//! cargo-deb (`scripts/install-test-deps` installs them); a missing one fails with how to
//! install it. Only `KJT_SKIP_E2E=1` skips this test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, Out, harness, unique, wait_for};

const SERVICE: &str = "kubectl-jointoken-rotate.service";
const TIMER: &str = "kubectl-jointoken-rotate.timer";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a prepared command (stdin from `input`); never panics on a non-zero exit.
fn run_with(cmd: &mut Command, input: Option<&[u8]>) -> Out {
    use std::io::Write;
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if let Some(data) = input {
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(cmd: &mut Command) -> Out {
    run_with(cmd, None)
}

/// A tool on PATH (or in /usr/sbin, /sbin), or a failure that says how to install it.
fn need(tool: &str, install: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/sbin"].map(PathBuf::from));
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{tool} is missing: {install} (scripts/install-test-deps installs it; KJT_SKIP_E2E=1 \
                 skips e2e tests explicitly)"
            )
        })
}

/// A Debian booted with systemd-nspawn from a fresh copy of the cached rootfs. Dropping it
/// (also on a panic) powers it off, waits for systemd-nspawn to exit (SIGKILL after 60 s) and
/// removes the copy.
struct Container {
    nspawn: Child,
    /// PID (host namespace) of the container's systemd.
    init: u32,
    root: PathBuf,
    log: PathBuf,
    machine: String,
    // Last: removed after the container is down.
    _dir: tempfile::TempDir,
}

impl Container {
    fn boot(tarball: &Path) -> Container {
        let dir = tempfile::Builder::new()
            .prefix("kjt-deb-")
            .tempdir()
            .unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let t = Instant::now();
        let x = run(Command::new("tar")
            .args([
                "--numeric-owner",
                "--xattrs",
                "--xattrs-include=*",
                "--zstd",
                "-xpf",
            ])
            .arg(tarball)
            .arg("-C")
            .arg(&root));
        assert_eq!(x.code, 0, "unpacking {}: {}", tarball.display(), x.stderr);
        eprintln!("rootfs unpacked in {:.1?}", t.elapsed());
        // systemd-nspawn wants this for its mount propagation when the host's PID 1 is not
        // systemd (it is not in CI containers).
        std::fs::create_dir_all("/run/systemd/nspawn/propagate").unwrap();
        let log = dir.path().join("nspawn.log");
        let machine = unique("kjt-deb-");
        let logf = std::fs::File::create(&log).unwrap();
        let nspawn = Command::new("systemd-nspawn")
            .arg("-D")
            .arg(&root)
            .args([
                "--boot",
                "--register=no",
                "--keep-unit",
                "--console=passive",
            ])
            .arg(format!("--machine={machine}"))
            .stdin(Stdio::null())
            .stdout(logf.try_clone().unwrap())
            .stderr(logf)
            .spawn()
            .expect("cannot start systemd-nspawn");
        let mut c = Container {
            nspawn,
            init: 0,
            root,
            log,
            machine,
            _dir: dir,
        };
        let t = Instant::now();
        // Its child is the container's PID 1 (systemd).
        c.init = wait_for(60, || {
            let o = run(Command::new("pgrep")
                .args(["-P", &c.nspawn.id().to_string()])
                .arg("-x")
                .arg("systemd"));
            o.stdout.trim().lines().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("the container's systemd did not start:\n{}", c.log_tail()));
        // Its bus comes up a moment after the process: until then systemctl prints nothing.
        let mut state = c.sh("true");
        wait_for(90, || {
            state = c.sh("systemctl is-system-running --wait");
            (!state.stdout.trim().is_empty()).then_some(())
        });
        assert!(
            state.stdout.trim() == "running",
            "boot ended {:?}: {}\nfailed units: {}\n{}",
            state.stdout.trim(),
            state.stderr,
            c.sh("systemctl --failed --no-legend").stdout,
            c.log_tail()
        );
        eprintln!(
            "container booted (systemd pid {}) in {:.1?}",
            c.init,
            t.elapsed()
        );
        c
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// `sh -c script` inside every namespace of the container (as root there).
    fn sh_in(&self, script: &str, input: Option<&[u8]>) -> Out {
        run_with(
            Command::new("nsenter")
                .args(["-t", &self.init.to_string(), "-a", "--"])
                .args([
                    "/usr/bin/env",
                    "-i",
                    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                    "LANG=C.UTF-8",
                ])
                .args(["/bin/sh", "-c", script]),
            input,
        )
    }

    fn sh(&self, script: &str) -> Out {
        self.sh_in(script, None)
    }

    /// `install -m MODE /dev/stdin PATH` inside: a file written as an admin would, created
    /// with its mode (never briefly world-readable).
    fn write(&self, path: &str, mode: &str, data: &[u8]) {
        self.sh_in(
            &format!("install -D -m {mode} /dev/stdin {path}"),
            Some(data),
        )
        .ok();
    }

    /// The lines the service printed in one invocation (journald may lag a little behind
    /// `systemctl start` returning, so wait until `done` accepts them).
    fn journal_of(&self, invocation: &str, done: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        wait_for(15, || {
            last = self
                .sh(&format!(
                    "journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID={invocation}"
                ))
                .stdout;
            done(&last).then_some(())
        });
        last
    }

    /// Starts the oneshot service, waits for it, and returns its invocation id.
    fn start_service(&self) -> String {
        let s = self.sh(&format!("systemctl start {SERVICE}"));
        let show = self
            .sh(&format!(
                "systemctl show -p Result -p ExecMainStatus -p InvocationID {SERVICE}"
            ))
            .ok()
            .stdout;
        let prop = |k: &str| {
            show.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap_or_default()
                .to_string()
        };
        let id = prop("InvocationID");
        assert!(
            s.code == 0 && prop("Result") == "success" && prop("ExecMainStatus") == "0",
            "{SERVICE} failed ({show}): {}\njournal:\n{}",
            s.stderr,
            self.sh(&format!("journalctl --no-pager -u {SERVICE} -n 40"))
                .stdout
        );
        id
    }

    /// Processes on the host whose root directory is inside the container.
    fn processes_inside(&self) -> Vec<String> {
        let mut found = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Ok(r) = std::fs::read_link(e.path().join("root"))
                && r.starts_with(&self.root)
            {
                let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
                found.push(format!("{name} {}", comm.trim()));
            }
        }
        found
    }

    /// Powers the container off and waits for systemd-nspawn: its exit status, and how long
    /// the shutdown took. SIGKILL after 60 s.
    fn power_off(&mut self) -> (Option<i32>, Duration) {
        let t = Instant::now();
        if let Ok(None) = self.nspawn.try_wait() {
            // SIGTERM makes systemd-nspawn ask the container's systemd for a clean poweroff
            // too: the way out when its bus is not (yet, or any more) there.
            if self.init == 0 || self.sh("systemctl poweroff").code != 0 {
                let _ = Command::new("kill")
                    .args(["-TERM", &self.nspawn.id().to_string()])
                    .status();
            }
        }
        let done = wait_for(60, || self.nspawn.try_wait().ok().flatten());
        let status = match done {
            Some(s) => s.code(),
            None => {
                let _ = self.nspawn.kill();
                self.nspawn.wait().ok().and_then(|s| s.code())
            }
        };
        // systemd-nspawn removes its (empty) propagation folder and its image lock itself,
        // unless it was killed.
        let _ = std::fs::remove_dir(Path::new("/run/systemd/nspawn/propagate").join(&self.machine));
        if let Ok(m) = std::fs::metadata(&self.root) {
            use std::os::unix::fs::MetadataExt;
            let lock = format!("/run/systemd/nspawn/locks/inode-{}:{}", m.dev(), m.ino());
            let _ = std::fs::remove_file(lock);
        }
        (status, t.elapsed())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Ok(None) = self.nspawn.try_wait() {
            self.power_off();
        }
    }
}

/// Builds the .deb from the binaries `cargo test` built (as tests/dist.rs does).
fn build_deb(out: &Path) -> PathBuf {
    let b = run(Command::new(repo().join("scripts/dist-deb"))
        .args(["--profile", "dev", "--no-build", "--out"])
        .arg(out));
    assert_eq!(b.code, 0, "scripts/dist-deb: {}", b.stderr);
    PathBuf::from(b.stdout.trim())
}

/// Every file and link the .deb ships (not the directories it shares with others).
fn deb_paths(deb: &Path) -> Vec<String> {
    let c = run(Command::new("dpkg-deb").arg("-c").arg(deb)).ok();
    c.stdout
        .lines()
        .filter(|l| !l.starts_with('d'))
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').to_string())
        .collect()
}

/// An AppRole that may write (and read back) one KV v2 path; returns (role-id, secret-id).
fn approle(h: &Harness, name: &str, path: &str) -> (String, String) {
    h.approle(
        name,
        &format!(
            "path \"secret/data/{path}\" {{ capabilities = [\"create\", \"update\", \"read\"] }}\n\
             path \"secret/metadata/{path}\" {{ capabilities = [\"read\", \"update\"] }}\n"
        ),
    )
}

/// Removes what one run left on the shared harness (its tokens, Lease and Vault path), also
/// when the test fails half-way.
struct HarnessCleanup<'a> {
    h: &'a Harness,
    instance: String,
    kv: String,
}

impl Drop for HarnessCleanup<'_> {
    fn drop(&mut self) {
        let _ = self.h.kubectl(&[
            "-n",
            "kube-system",
            "delete",
            "secret",
            "-l",
            &format!("jointoken.kubectl.io/rotation={}", self.instance),
        ]);
        let _ = self.h.kubectl(&[
            "-n",
            "kube-system",
            "delete",
            "lease",
            "--ignore-not-found",
            &format!("kubectl-jointoken-rotate-{}", self.instance),
        ]);
        let _ = self.h.bao(&["kv", "metadata", "delete", &self.kv]);
    }
}

#[test]
fn deb_under_systemd_rotates_to_vault_with_approle_credentials_and_purges_clean() {
    let Some(h) = harness() else { return };
    let t_all = Instant::now();
    need("debootstrap", "apt-get install debootstrap");
    need("systemd-nspawn", "apt-get install systemd-container");
    need("nsenter", "apt-get install util-linux");
    need("zstd", "apt-get install zstd");
    need("dpkg-deb", "apt-get install dpkg");
    need(
        "cargo-deb",
        "cargo install --locked cargo-deb --version 3.8.0",
    );
    let uid = run(Command::new("id").arg("-u")).ok().stdout;
    assert_eq!(
        uid.trim(),
        "0",
        "debootstrap and systemd-nspawn need root (CI runs as root), or set KJT_SKIP_E2E=1"
    );

    // The rootfs: cached tarball (scripts/debian-rootfs builds it on a cold cache, ~1.5 min).
    let t = Instant::now();
    let r = run(&mut Command::new(repo().join("scripts/debian-rootfs")));
    assert_eq!(r.code, 0, "scripts/debian-rootfs: {}", r.stderr);
    let tarball = PathBuf::from(r.stdout.trim());
    eprintln!("rootfs {} ready in {:.1?}", tarball.display(), t.elapsed());
    let debs = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let deb = build_deb(debs.path());
    eprintln!("{} built in {:.1?}", deb.display(), t.elapsed());
    let shipped = deb_paths(&deb);
    assert!(shipped.contains(&format!("/usr/lib/systemd/system/{SERVICE}")));

    let mut c = Container::boot(&tarball);
    let systemd = c.sh("systemctl --version").ok().stdout;
    eprintln!("{}", systemd.lines().next().unwrap_or_default());

    // dpkg -i: installed, units known to systemd but disabled and inactive.
    std::fs::copy(&deb, c.root.join("root/kubectl-jointoken.deb")).unwrap();
    let i = c.sh("dpkg -i /root/kubectl-jointoken.deb && rm /root/kubectl-jointoken.deb");
    assert_eq!(i.code, 0, "dpkg -i: {}{}", i.stdout, i.stderr);
    assert!(
        i.stdout.contains("Setting up kubectl-jointoken"),
        "{}",
        i.stdout
    );
    let state = c.sh(&format!(
        "systemctl is-enabled {TIMER}; systemctl is-active {TIMER} {SERVICE}"
    ));
    assert_eq!(
        state.stdout.split_whitespace().collect::<Vec<_>>(),
        ["disabled", "inactive", "inactive"],
        "{}",
        state.stderr
    );

    // Set up as README.Debian says. The instance (a config key) keeps this run's tokens and
    // Lease apart from any earlier run on the same harness.
    let instance = unique("e2e-deb-");
    let path = format!("kjt/{instance}");
    let kv = format!("secret/{path}");
    let _cleanup = HarnessCleanup {
        h: &h,
        instance: instance.clone(),
        kv: kv.clone(),
    };
    let config = c
        .sh(&format!(
            "sed -e 's|^vault-addr: .*|vault-addr: {addr}|' -e 's|^path: .*|path: {path}|' \
             /usr/share/doc/kubectl-jointoken/examples/config.yaml",
            addr = h.vault_addr
        ))
        .ok()
        .stdout;
    assert!(config.contains(&format!("\npath: {path}\n")), "{config}");
    assert!(config.contains("\nvault-auth: approle\n"), "{config}");
    let config = format!("{config}instance: {instance}\n");
    c.write(
        "/etc/kubectl-jointoken/config.yaml",
        "0644",
        config.as_bytes(),
    );
    // The harness's admin kubeconfig, with its certificates inlined (kubectl flattens it).
    let admin = h
        .kubectl(&["config", "view", "--raw", "--flatten"])
        .ok()
        .stdout;
    c.write("/etc/kubernetes/admin.conf", "0600", admin.as_bytes());
    let (role_id, secret_id) = approle(&h, &instance, &path);
    c.sh("install -d -m 0700 /etc/credstore").ok();
    c.write(
        "/etc/credstore/kubectl-jointoken-rotate.vault-role-id",
        "0600",
        role_id.as_bytes(),
    );
    c.write(
        "/etc/credstore/kubectl-jointoken-rotate.vault-secret-id",
        "0600",
        secret_id.as_bytes(),
    );

    let en = c.sh(&format!("systemctl enable --now {TIMER}"));
    assert_eq!(en.code, 0, "{}", en.stderr);
    let state = c.sh(&format!(
        "systemctl is-enabled {TIMER}; systemctl is-active {TIMER}"
    ));
    assert_eq!(
        state.stdout.split_whitespace().collect::<Vec<_>>(),
        ["enabled", "active"]
    );
    let next = c
        .sh(&format!("systemctl show -p NextElapseUSecRealtime {TIMER}"))
        .ok()
        .stdout;
    eprintln!("timer: {}", next.trim());

    // First run: creates and publishes a token.
    let t = Instant::now();
    let first = c.start_service();
    eprintln!("first run took {:.1?}", t.elapsed());
    let log1 = c.journal_of(&first, |j| j.contains("rotated: published"));
    assert!(log1.contains("rotated: published"), "journal:\n{log1}");

    // Read back with the bao CLI on the host, and the token checked with kubectl and kubeadm.
    let join = h
        .bao(&["kv", "get", "-field=join_command", &kv])
        .ok()
        .stdout;
    let token = join
        .split("--token ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no --token in {join:?}"))
        .to_string();
    let id = token.split('.').next().unwrap().to_string();
    assert!(
        join.contains("--discovery-token-ca-cert-hash sha256:"),
        "{join}"
    );
    assert!(
        log1.contains(&format!("{id}.")),
        "journal names the token id: {log1}"
    );
    let secret = h
        .kubectl(&[
            "-n",
            "kube-system",
            "get",
            "secret",
            &format!("bootstrap-token-{id}"),
            "-o",
            "jsonpath={.metadata.labels.jointoken\\.kubectl\\.io/rotation}",
        ])
        .ok()
        .stdout;
    assert_eq!(secret, instance);
    let listed = h.kubeadm(&["token", "list"]).ok().stdout;
    assert!(
        listed.lines().any(|l| l.starts_with(&format!("{id}."))),
        "{listed}"
    );
    let who = h.whoami_with_token(&token).ok().stdout;
    assert!(who.contains(&format!("system:bootstrap:{id}")), "{who}");

    // Second run: nothing to do, Vault untouched.
    let version = |h: &Harness| {
        let m = h
            .bao(&["kv", "metadata", "get", "-format=json", &kv])
            .ok()
            .stdout;
        serde_json::from_str::<serde_json::Value>(&m).unwrap()["data"]["current_version"].clone()
    };
    let v1 = version(&h);
    let second = c.start_service();
    assert_ne!(first, second);
    let log2 = c.journal_of(&second, |j| j.contains("nothing to do"));
    assert!(log2.contains("nothing to do"), "journal:\n{log2}");
    assert_eq!(version(&h), v1);

    // The secret never reaches the journal; the hardening holds under this systemd.
    let all = c.sh("journalctl --no-pager -o cat").ok().stdout;
    assert!(
        !all.contains(token.split('.').nth(1).unwrap()),
        "token secret in the journal"
    );
    let sec = c.sh(&format!("systemd-analyze security --no-pager {SERVICE}"));
    let exposure = sec
        .stdout
        .lines()
        .find_map(|l| l.split("Overall exposure level for ").nth(1))
        .unwrap_or_else(|| panic!("{}{}", sec.stdout, sec.stderr))
        .to_string();
    eprintln!("systemd-analyze security: {exposure}");
    let score: f64 = exposure
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(99.0);
    assert!(score <= 2.0, "{exposure}");

    // apt-get purge: nothing of the package is left, the admin's kubeconfig is.
    let p = c.sh("apt-get purge -y kubectl-jointoken");
    assert_eq!(p.code, 0, "apt-get purge: {}{}", p.stdout, p.stderr);
    c.sh("systemctl daemon-reload").ok();
    let st = c.sh("dpkg-query -W -f='${db:Status-Status}' kubectl-jointoken");
    assert!(
        st.code != 0 || st.stdout.trim() == "not-installed",
        "{}",
        st.stdout
    );
    for f in &shipped {
        assert!(
            c.root
                .join(f.trim_start_matches('/'))
                .symlink_metadata()
                .is_err(),
            "{f} left after purge"
        );
    }
    let leftovers = c
        .sh("find / -xdev \\( -path /proc -o -path /sys \\) -prune -o \
             -name '*kubectl-jointoken*' -print; \
             find /run -name '*kubectl-jointoken*' -print")
        .stdout;
    assert_eq!(leftovers, "", "left after purge:\n{leftovers}");
    assert!(!c.root.join("etc/kubectl-jointoken").exists());
    assert!(
        c.root.join("etc/kubernetes/admin.conf").exists(),
        "purge removed kubeadm's admin.conf"
    );
    let units = c
        .sh(&format!(
            "systemctl show -p LoadState -p ActiveState {TIMER} {SERVICE}"
        ))
        .ok()
        .stdout;
    assert_eq!(
        units.lines().filter(|l| !l.is_empty()).collect::<Vec<_>>(),
        [
            "LoadState=not-found",
            "ActiveState=inactive",
            "LoadState=not-found",
            "ActiveState=inactive"
        ],
        "{units}"
    );
    let enabled = c
        .sh("systemctl list-unit-files --no-legend 'kubectl-jointoken*'")
        .stdout;
    assert_eq!(enabled.trim(), "", "{enabled}");

    // Power off: systemd-nspawn exits cleanly and no process of the container remains.
    let (status, took) = c.power_off();
    assert_eq!(status, Some(0), "nspawn:\n{}", c.log_tail());
    assert_eq!(c.processes_inside(), Vec::<String>::new());
    eprintln!(
        "container powered off in {took:.1?}; test wall time {:.1?}",
        t_all.elapsed()
    );
}
