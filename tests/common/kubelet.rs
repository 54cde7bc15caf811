//! Real node-side processes for the e2e binaries: a child process logging to a file and killed
//! when dropped ([`Proc`]; containerd and the approve replicas too), and a real kubelet doing TLS bootstrap without a container runtime
//! ([`Kubelet`]; it exits on its own once it has its client certificate).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Harness;

/// A child process with its output in a file, killed when dropped (also on a failed assert).
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(cmd: &mut Command, log: PathBuf) -> Proc {
        let f = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Proc { child, log }
    }

    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of its output, for panic messages.
    pub fn tail(&self) -> String {
        let text = self.text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// SIGTERM (containerd removes its sockets), SIGKILL after 10 s; no exit code asked.
    pub fn stop(&mut self) {
        if self.running() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let _ = super::wait_for(10, || (!self.running()).then_some(()));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then its exit code within 30 s.
    pub fn terminate(&mut self) -> Option<i32> {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM {} failed", self.child.id());
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s.code().unwrap_or(-1));
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real kubelet bootstrapping from `boot` as `node`, in its own dir, with e2e_setup's flags
/// (no container runtime: it exits on its own once it has its client certificate).
pub struct Kubelet {
    pub proc: Proc,
    pub kubeconfig: PathBuf,
    pub cert: PathBuf,
}

impl Kubelet {
    pub fn start(h: &Harness, dir: &Path, boot: &Path, node: &str) -> Kubelet {
        std::fs::create_dir_all(dir).unwrap();
        let kubeconfig = dir.join("kubelet.conf");
        let cert = dir.join("pki/kubelet-client-current.pem");
        let proc = Proc::spawn(
            Command::new(h.bin.join("kubelet"))
                .args([
                    &format!("--bootstrap-kubeconfig={}", boot.display()),
                    &format!("--kubeconfig={}", kubeconfig.display()),
                    &format!("--cert-dir={}", dir.join("pki").display()),
                    &format!("--root-dir={}", dir.join("root").display()),
                    &format!("--hostname-override={node}"),
                    "--container-runtime-endpoint=unix:///nonexistent/kjt-e2e.sock",
                    "--fail-swap-on=false",
                    "--fail-cgroupv1=false",
                    "--cgroups-per-qos=false",
                    "--enforce-node-allocatable=",
                ])
                .current_dir(dir),
            dir.join("kubelet.log"),
        );
        Kubelet {
            proc,
            kubeconfig,
            cert,
        }
    }

    pub fn has_certificate(&self) -> bool {
        self.kubeconfig.exists() && self.cert.exists()
    }
}
