//! Where a record lives in Vault: the `--mount`/`--path` the user asked for ([`Wanted`]) and,
//! once the mount and its KV version are known, the API paths of data and metadata
//! ([`Location`]). Pure path logic; the lookup itself is in [`super::kv`].

use super::args::{KvVersion, VaultArgs};
use crate::{Error, Result};

/// The secret's location as given: `mount` and path inside it (both without outer slashes).
/// `None` mount = detect it from the full path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// `--mount`.
    pub mount: Option<String>,
    /// `--path` (or VAULT_SECRET_PATH); mount/path when `mount` is `None`.
    pub path: String,
}

impl Wanted {
    /// The full API path below `/v1/` that mount detection looks up.
    pub fn full(&self) -> String {
        match &self.mount {
            Some(m) => format!("{m}/{}", self.path),
            None => self.path.clone(),
        }
    }
}

fn clean_path(what: &str, p: &str) -> Result<String> {
    let t = p.trim_matches('/');
    if t.is_empty()
        || t.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        || t.contains(['?', '#', ' '])
    {
        return Err(Error::usage(format!(
            "invalid {what} {p:?}: expected segments like kubernetes/prod/join, without empty, \
             . or .. segments"
        )));
    }
    Ok(t.to_string())
}

/// Reads `--mount`/`--path` (VAULT_SECRET_PATH=mount/path when --path is absent).
pub fn wanted(a: &VaultArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Wanted> {
    let path = match (&a.path, env("VAULT_SECRET_PATH").filter(|v| !v.is_empty())) {
        (Some(p), _) => clean_path("--path", p)?,
        (None, Some(e)) => clean_path("VAULT_SECRET_PATH", &e)?,
        (None, None) => {
            return Err(Error::usage(
                "say where in Vault: --path PATH with --mount MOUNT, --path MOUNT/PATH, or \
                 VAULT_SECRET_PATH=MOUNT/PATH",
            ));
        }
    };
    let mount = a
        .mount
        .as_deref()
        .map(|m| clean_path("--mount", m))
        .transpose()?;
    Ok(Wanted { mount, path })
}

/// Where a record lives once the mount is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Mount, e.g. `secret` or `team/kv`.
    pub mount: String,
    /// Path inside the mount.
    pub rel: String,
    /// The mount's KV version.
    pub kv: KvVersion,
}

impl Location {
    /// API path of the data.
    pub fn data_path(&self) -> String {
        match self.kv {
            KvVersion::V1 => format!("{}/{}", self.mount, self.rel),
            KvVersion::V2 => format!("{}/data/{}", self.mount, self.rel),
        }
    }

    /// API path of the metadata (KV v2 only).
    pub fn metadata_path(&self) -> String {
        format!("{}/metadata/{}", self.mount, self.rel)
    }

    /// `mount/path`, as the `vault kv` commands take it.
    pub fn display(&self) -> String {
        format!("{}/{}", self.mount, self.rel)
    }
}

/// Splits `full` at the mount `sys/internal/ui/mounts` reported (`secret/`).
pub fn split_at_mount(full: &str, mount_path: &str) -> Option<(String, String)> {
    let m = mount_path.trim_matches('/');
    let rel = full.strip_prefix(m)?.strip_prefix('/')?;
    (!rel.is_empty()).then(|| (m.to_string(), rel.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn paths_and_mounts() {
        let mut a = VaultArgs::default();
        let e = wanted(&a, &env(&[])).unwrap_err();
        assert!(e.to_string().contains("--path"), "{e}");
        let w = wanted(&a, &env(&[("VAULT_SECRET_PATH", "secret/kjt/join")])).unwrap();
        assert_eq!(
            w,
            Wanted {
                mount: None,
                path: "secret/kjt/join".into()
            }
        );
        a.mount = Some("/secret/".into());
        a.path = Some("kjt/join/".into());
        let w = wanted(&a, &env(&[("VAULT_SECRET_PATH", "other/x")])).unwrap();
        assert_eq!(w.full(), "secret/kjt/join");
        a.path = Some("a/../b".into());
        assert!(wanted(&a, &env(&[])).is_err());
        a.path = Some("a//b".into());
        assert!(wanted(&a, &env(&[])).is_err());

        assert_eq!(
            split_at_mount("secret/kjt/join", "secret/"),
            Some(("secret".into(), "kjt/join".into()))
        );
        assert_eq!(
            split_at_mount("team/kv/prod/join", "team/kv/"),
            Some(("team/kv".into(), "prod/join".into()))
        );
        assert_eq!(split_at_mount("secret", "secret/"), None);
        assert_eq!(split_at_mount("secretive/x", "secret/"), None);

        let l = Location {
            mount: "secret".into(),
            rel: "kjt/join".into(),
            kv: KvVersion::V2,
        };
        assert_eq!(l.data_path(), "secret/data/kjt/join");
        assert_eq!(l.metadata_path(), "secret/metadata/kjt/join");
        let l = Location {
            kv: KvVersion::V1,
            ..l
        };
        assert_eq!(l.data_path(), "secret/kjt/join");
    }
}
