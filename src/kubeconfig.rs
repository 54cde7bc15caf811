//! Kubeconfig documents we hand out (bootstrap and service-account) and the atomic, 0600
//! file writer every command that writes a secret-bearing file uses.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine;
use serde::Serialize;

use crate::{Error, Result};

/// The user kubeadm names in `bootstrap-kubelet.conf`.
pub const BOOTSTRAP_USER: &str = "tls-bootstrap-token-user";

/// A single-cluster, single-user kubeconfig, with keys in client-go's order.
#[derive(Serialize, Debug)]
pub struct Doc {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    clusters: Vec<NamedCluster>,
    contexts: Vec<NamedContext>,
    #[serde(rename = "current-context")]
    current_context: String,
    kind: &'static str,
    preferences: serde_json::Map<String, serde_json::Value>,
    users: Vec<NamedUser>,
}

#[derive(Serialize, Debug)]
struct NamedCluster {
    cluster: ClusterEntry,
    name: String,
}

#[derive(Serialize, Debug)]
struct ClusterEntry {
    #[serde(rename = "certificate-authority-data")]
    certificate_authority_data: String,
    server: String,
}

#[derive(Serialize, Debug)]
struct NamedContext {
    context: ContextEntry,
    name: String,
}

#[derive(Serialize, Debug)]
struct ContextEntry {
    cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    user: String,
}

#[derive(Serialize, Debug)]
struct NamedUser {
    name: String,
    user: UserEntry,
}

#[derive(Serialize)]
struct UserEntry {
    token: String,
}

impl std::fmt::Debug for UserEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserEntry { token: <redacted> }")
    }
}

/// Builds a token kubeconfig: context `<user>@<cluster>`, CA embedded as PEM.
pub fn token_kubeconfig(
    cluster: &str,
    server: &str,
    ca_der: &[Vec<u8>],
    user: &str,
    token: &str,
    namespace: Option<&str>,
) -> Doc {
    let ca_pem = crate::pki::der_to_pem_bundle(ca_der);
    let context = format!("{user}@{cluster}");
    Doc {
        api_version: "v1",
        clusters: vec![NamedCluster {
            cluster: ClusterEntry {
                certificate_authority_data: base64::engine::general_purpose::STANDARD
                    .encode(ca_pem),
                server: server.to_string(),
            },
            name: cluster.to_string(),
        }],
        contexts: vec![NamedContext {
            context: ContextEntry {
                cluster: cluster.to_string(),
                namespace: namespace.map(String::from),
                user: user.to_string(),
            },
            name: context.clone(),
        }],
        current_context: context,
        kind: "Config",
        preferences: Default::default(),
        users: vec![NamedUser {
            name: user.to_string(),
            user: UserEntry {
                token: token.to_string(),
            },
        }],
    }
}

/// Checks before any cluster change that `path` can be written: its folder exists and, unless
/// `force`, the file does not. Keeps a later failure from orphaning a just-created token.
pub fn check_writable(path: &Path, force: bool) -> Result<()> {
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "cannot write {}: folder {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    if !force && path.exists() {
        return Err(Error::usage(format!(
            "{} already exists: pass --force to replace it",
            path.display()
        )));
    }
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `contents` to `path` atomically with mode 0600 (see [`write_file_atomic`]).
pub fn write_secret_file(path: &Path, contents: &[u8], force: bool) -> Result<()> {
    write_file_atomic(path, contents, force, 0o600)
}

/// Writes `contents` to `path` atomically: a temp file created with `mode` in the same folder
/// (never chmod-ed later), synced, then renamed over the target; without `force` the rename
/// refuses an existing file. A failure leaves no partial file behind.
pub fn write_file_atomic(path: &Path, contents: &[u8], force: bool, mode: u32) -> Result<()> {
    let io = |action: &'static str| {
        move |source| Error::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".kubectl-jointoken-")
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(parent(path))
        .map_err(io("cannot create a temporary file next to"))?;
    tmp.write_all(contents).map_err(io("cannot write"))?;
    tmp.as_file().sync_all().map_err(io("cannot sync"))?;
    if force {
        tmp.persist(path)
            .map_err(|e| io("cannot replace")(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::usage(format!(
                    "{} already exists: pass --force to replace it",
                    path.display()
                ))
            } else {
                io("cannot create")(e.error)
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn bootstrap_kubeconfig_shape() {
        let doc = token_kubeconfig(
            "kubernetes",
            "https://10.0.0.1:6443",
            &[vec![1, 2, 3]],
            BOOTSTRAP_USER,
            "abcdef.0123456789abcdef",
            None,
        );
        let v = serde_json::to_value(&doc).unwrap();
        assert_eq!(v["current-context"], "tls-bootstrap-token-user@kubernetes");
        assert_eq!(v["users"][0]["name"], BOOTSTRAP_USER);
        assert_eq!(v["users"][0]["user"]["token"], "abcdef.0123456789abcdef");
        assert_eq!(v["contexts"][0]["context"]["cluster"], "kubernetes");
        let ca = base64::engine::general_purpose::STANDARD
            .decode(
                v["clusters"][0]["cluster"]["certificate-authority-data"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        assert!(
            String::from_utf8(ca)
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----\nAQID\n")
        );
        assert!(!format!("{doc:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn files_are_0600_and_not_clobbered() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kubeconfig");
        write_secret_file(&p, b"one", false).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        let err = write_secret_file(&p, b"two", false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_secret_file(&p, b"two", true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        // No temp files are left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn writability_is_checked_up_front() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_writable(&dir.path().join("missing/x"), false).is_err());
        let p = dir.path().join("x");
        assert!(check_writable(&p, false).is_ok());
        std::fs::write(&p, "").unwrap();
        assert!(check_writable(&p, false).is_err());
        assert!(check_writable(&p, true).is_ok());
    }
}
