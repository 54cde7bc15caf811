//! The KV engine: finding a path's mount and KV version (always asked of Vault, so a wrong
//! `--kv-version` is refused before anything is written), reading a record (latest or a given
//! KV v2 version), the state a check-and-set write starts from, the check-and-set write
//! itself, and the metadata calls that rollback needs.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use super::args::KvVersion;
use super::error::{VaultError, VaultResult};
use super::http::Vault;
use super::location::{Location, Wanted, split_at_mount};
use crate::publish::Existing;
use crate::{Error, Result};

/// What `sys/internal/ui/mounts/<path>` says about a path's mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountInfo {
    /// The mount's path, e.g. `secret/`.
    pub path: String,
    /// The engine type, e.g. `kv`.
    pub kind: String,
    /// KV version (`options.version`; absent means v1, as for a `generic` mount).
    pub kv: KvVersion,
}

impl MountInfo {
    /// Reads the answer's `data`.
    pub fn from_body(body: &Value) -> Self {
        let d = &body["data"];
        MountInfo {
            path: d["path"].as_str().unwrap_or("").to_string(),
            kind: d["type"].as_str().unwrap_or("").to_string(),
            kv: match d["options"]["version"].as_str() {
                Some("2") => KvVersion::V2,
                _ => KvVersion::V1,
            },
        }
    }
}

/// Vault data as strings (non-string values as their JSON text).
pub fn to_string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let s = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), s)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The record fields and KV v2 version in a `200` answer to a data read; `None` when the
/// answer holds no data (a deleted KV v2 version answers with `data: null`).
pub fn fields_of(kv: KvVersion, body: &Value) -> Option<(BTreeMap<String, String>, Option<u64>)> {
    let (data, ver) = match kv {
        KvVersion::V1 => (&body["data"], None),
        KvVersion::V2 => (
            &body["data"]["data"],
            body["data"]["metadata"]["version"].as_u64(),
        ),
    };
    data.is_object().then(|| (to_string_map(data), ver))
}

/// The id and expiry a record's fields name, for the "newer token wins" rule (either kind).
pub fn existing_from_fields(f: &BTreeMap<String, String>) -> Option<Existing> {
    crate::publish::existing_from_fields(f)
}

/// What a KV v2 path holds before a write.
#[derive(Default, Debug)]
pub struct Current {
    /// Version a check-and-set must name (0 = absent).
    pub version: u64,
    /// What is published, when known.
    pub existing: Option<Existing>,
    /// The published fields, when readable.
    pub fields: Option<BTreeMap<String, String>>,
}

/// How a check-and-set write ended.
#[derive(Debug)]
pub enum CasWrite {
    /// Written as this version.
    Written(u64),
    /// Another writer got there first; this is the state now.
    Conflict(Current),
}

impl Vault {
    /// Finds the mount and its KV version (`GET sys/internal/ui/mounts/<path>`, as `vault kv`
    /// does) and refuses a `--mount` or `--kv-version` that contradicts it: a KV v2 write to a
    /// v1 mount would land on a stray `data/…` path and look like success.
    pub async fn locate(&self, w: &Wanted, kv: Option<KvVersion>) -> Result<Location> {
        let full = w.full();
        let path = format!("sys/internal/ui/mounts/{full}");
        let r = self.send(Method::GET, &path, None).await?;
        if r.status == 403 {
            let e = self
                .explain(self.status_error(&r, &Method::GET, &path))
                .await;
            if let (VaultError::Forbidden { .. }, Some(m), Some(kv)) = (&e, &w.mount, kv) {
                // Vault lets a token look up a mount when it may use any path in it; this
                // one may not, so every write will be refused too, with the path named.
                tracing::debug!(path, "mount lookup refused; using --mount and --kv-version");
                return Ok(Location {
                    mount: m.clone(),
                    rel: w.path.clone(),
                    kv,
                });
            }
            if let VaultError::TokenRefused { .. } = e {
                return Err(e.into());
            }
            return Err(Error::runtime(format!(
                "permission denied (403) on {path}: the Vault token may not use any path in the \
                 mount of {full}: grant it access there"
            )));
        }
        if r.status != 200 {
            return Err(Error::runtime(format!(
                "cannot find the KV mount of {full} ({} on {path}{}): check --mount/--path",
                r.status,
                match r.errors() {
                    e if e.is_empty() => String::new(),
                    e => format!(": {e}"),
                }
            )));
        }
        let info = MountInfo::from_body(&r.body);
        if !matches!(info.kind.as_str(), "kv" | "generic") {
            return Err(Error::usage(format!(
                "{full} is in a {:?} mount ({}), not a KV mount: point --path at KV",
                info.kind, info.path
            )));
        }
        if let Some(k) = kv
            && k != info.kv
        {
            return Err(Error::usage(format!(
                "wrong KV version: mount {} is KV v{} but --kv-version {} was given: drop \
                 --kv-version",
                info.path,
                info.kv.number(),
                k.number()
            )));
        }
        let (mount, rel) = split_at_mount(&full, &info.path).ok_or_else(|| {
            Error::usage(format!(
                "{full} names the mount {} itself: add the secret's path inside it",
                info.path
            ))
        })?;
        if let Some(m) = &w.mount
            && *m != mount
        {
            return Err(Error::usage(format!(
                "--mount {m} is not a mount; {full} lives in mount {mount}/: use --mount {mount}"
            )));
        }
        Ok(Location {
            mount,
            rel,
            kv: info.kv,
        })
    }

    /// Reads the record fields at `loc` (`version` for KV v2; latest when `None`); `None`
    /// when nothing is there. Returns the KV v2 version read, if any.
    pub async fn read(
        &self,
        loc: &Location,
        version: Option<u64>,
    ) -> VaultResult<Option<(BTreeMap<String, String>, Option<u64>)>> {
        let mut path = loc.data_path();
        if let Some(v) = version {
            path.push_str(&format!("?version={v}"));
        }
        let r = self.send(Method::GET, &path, None).await?;
        match r.status {
            200 => Ok(fields_of(loc.kv, &r.body)),
            404 => Ok(None),
            _ => Err(self.status_error(&r, &Method::GET, &loc.data_path())),
        }
    }

    /// The KV v2 state a check-and-set write starts from. `first_attempt`: a plain 404 is
    /// taken as "nothing there" (version 0) without reading the metadata; see below.
    pub async fn current_v2(&self, loc: &Location, first_attempt: bool) -> VaultResult<Current> {
        let r = self.send(Method::GET, &loc.data_path(), None).await?;
        match r.status {
            // A 404 for a deleted or destroyed latest version still carries that version's
            // metadata, and a 404 without it means no version exists (at most metadata alone,
            // whose current version is 0). Either way the version is known without a second
            // round trip. Should it be wrong after all, the check-and-set write fails, and the
            // retry reads the metadata (first_attempt = false).
            404 if first_attempt => Ok(Current {
                version: r.body["data"]["metadata"]["version"].as_u64().unwrap_or(0),
                existing: None,
                fields: None,
            }),
            200 => {
                let version = r.body["data"]["metadata"]["version"].as_u64().unwrap_or(0);
                let fields = fields_of(KvVersion::V2, &r.body).map(|(f, _)| f);
                Ok(Current {
                    version,
                    existing: fields.as_ref().and_then(existing_from_fields),
                    fields,
                })
            }
            // 404 (nothing, or the latest version deleted) and 403 (a write-only policy):
            // the metadata says which version a check-and-set must name.
            404 | 403 => {
                let mp = loc.metadata_path();
                let m = self.send(Method::GET, &mp, None).await?;
                match m.status {
                    200 => {
                        let version = m.body["data"]["current_version"].as_u64().unwrap_or(0);
                        let cm = &m.body["data"]["custom_metadata"];
                        // custom_metadata is written after the data: trust it only when it
                        // describes the current version.
                        let existing = (r.status == 403
                            && cm["data_version"].as_str() == Some(&version.to_string()))
                        .then(|| Existing {
                            token_id: cm["token_id"].as_str().unwrap_or("").to_string(),
                            expiration: cm["expiration"].as_str().unwrap_or("").to_string(),
                        });
                        Ok(Current {
                            version,
                            existing,
                            fields: None,
                        })
                    }
                    404 => Ok(Current::default()),
                    403 => match self.explain(self.status_error(&m, &Method::GET, &mp)).await {
                        e @ VaultError::TokenRefused { .. } => Err(e),
                        _ => Err(VaultError::Local(Error::runtime(format!(
                            "permission denied (403) on {mp}: publishing with check-and-set \
                             needs read on {mp} (and on {}): grant it in the writer's policy",
                            loc.data_path()
                        )))),
                    },
                    _ => Err(self.status_error(&m, &Method::GET, &mp)),
                }
            }
            _ => Err(self.status_error(&r, &Method::GET, &loc.data_path())),
        }
    }

    /// Writes `data` with check-and-set `cas` (0 = only if absent). Vault answers a lost race
    /// with a 400 whose only signal is prose, so the version itself decides: when the current
    /// version is no longer `cas`, the write lost a race (and the caller gets the state to
    /// decide on again); otherwise the 400 had another cause and is an error.
    pub async fn write_v2(
        &self,
        loc: &Location,
        cas: u64,
        data: &serde_json::Map<String, Value>,
    ) -> VaultResult<CasWrite> {
        let path = loc.data_path();
        let body = json!({"options": {"cas": cas}, "data": data});
        let r = self.send(Method::POST, &path, Some(&body)).await?;
        match r.status {
            200 => Ok(CasWrite::Written(
                r.body["data"]["version"].as_u64().unwrap_or(0),
            )),
            400 => {
                let now = self.current_v2(loc, false).await?;
                if now.version != cas {
                    Ok(CasWrite::Conflict(now))
                } else {
                    Err(self.status_error(&r, &Method::POST, &path))
                }
            }
            _ => Err(self.status_error(&r, &Method::POST, &path)),
        }
    }

    /// Writes `data` to a KV v1 path.
    pub async fn write_v1(
        &self,
        loc: &Location,
        data: &serde_json::Map<String, Value>,
    ) -> VaultResult<()> {
        let path = loc.data_path();
        let body = Value::Object(data.clone());
        let r = self.send(Method::POST, &path, Some(&body)).await?;
        if (200..300).contains(&r.status) {
            Ok(())
        } else {
            Err(self.status_error(&r, &Method::POST, &path))
        }
    }

    /// The KV v2 metadata (`data` of `GET <mount>/metadata/<path>`); `None` when absent.
    pub async fn metadata(&self, loc: &Location) -> VaultResult<Option<Value>> {
        let mp = loc.metadata_path();
        let r = self.send(Method::GET, &mp, None).await?;
        match r.status {
            200 => Ok(Some(r.body["data"].clone())),
            404 => Ok(None),
            _ => Err(self.status_error(&r, &Method::GET, &mp)),
        }
    }

    /// Sends a request that must succeed with any 2xx status.
    pub async fn expect_ok(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> VaultResult<()> {
        let r = self.send(method.clone(), path, body).await?;
        if (200..300).contains(&r.status) {
            Ok(())
        } else {
            Err(self.status_error(&r, &method, path))
        }
    }
}

/// The newest KV v2 version below `current` that still holds data (not deleted, not
/// destroyed), from the metadata's `versions` map.
pub fn previous_live_version(metadata: &Value, current: u64) -> Option<u64> {
    metadata["versions"]
        .as_object()?
        .iter()
        .filter_map(|(k, v)| {
            let n = k.parse::<u64>().ok()?;
            let deleted = v["deletion_time"].as_str().is_some_and(|t| !t.is_empty());
            let destroyed = v["destroyed"].as_bool().unwrap_or(false);
            (n < current && !deleted && !destroyed).then_some(n)
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mount_answers() {
        let m = MountInfo::from_body(&json!({"data": {"path": "secret/", "type": "kv",
            "options": {"version": "2"}}}));
        assert_eq!(
            m,
            MountInfo {
                path: "secret/".into(),
                kind: "kv".into(),
                kv: KvVersion::V2
            }
        );
        let g = MountInfo::from_body(&json!({"data": {"path": "kv1/", "type": "generic",
            "options": null}}));
        assert_eq!(g.kv, KvVersion::V1);
    }

    #[test]
    fn data_answers() {
        let v2 = json!({"data": {"data": {"token_id": "abcdef", "n": 1},
            "metadata": {"version": 3}}});
        let (f, ver) = fields_of(KvVersion::V2, &v2).unwrap();
        assert_eq!(ver, Some(3));
        assert_eq!(f["n"], "1");
        assert_eq!(existing_from_fields(&f).unwrap().token_id, "abcdef");
        // A deleted latest version answers with data: null.
        let deleted = json!({"data": {"data": null, "metadata": {"version": 4}}});
        assert_eq!(fields_of(KvVersion::V2, &deleted), None);
        let v1 = json!({"data": {"token": "x"}});
        assert_eq!(fields_of(KvVersion::V1, &v1).unwrap().0["token"], "x");
    }

    #[test]
    fn previous_live_version_skips_deleted_and_destroyed() {
        let md = json!({"current_version": 5, "versions": {
            "1": {"deletion_time": "", "destroyed": false},
            "2": {"deletion_time": "", "destroyed": true},
            "3": {"deletion_time": "2026-01-01T00:00:00Z", "destroyed": false},
            "4": {"deletion_time": "", "destroyed": false},
            "5": {"deletion_time": "", "destroyed": false}}});
        assert_eq!(previous_live_version(&md, 5), Some(4));
        assert_eq!(previous_live_version(&md, 4), Some(1));
        assert_eq!(previous_live_version(&md, 1), None);
        assert_eq!(previous_live_version(&json!({}), 3), None);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("data".to_string()),
                        Just("metadata".to_string()),
                        Just("version".to_string()),
                        Just("versions".to_string()),
                        Just("options".to_string()),
                        "[a-z_]{1,8}"
                    ],
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// No answer shape panics the parsers, and whatever fields come back are exactly the
        /// answer's string-valued entries (others as JSON text).
        #[test]
        fn vault_answers_never_panic(body in arb_json(), cur in 0u64..8) {
            let _ = MountInfo::from_body(&body);
            let _ = previous_live_version(&body, cur);
            for kv in [KvVersion::V1, KvVersion::V2] {
                if let Some((f, _)) = fields_of(kv, &body) {
                    let data = match kv {
                        KvVersion::V1 => &body["data"],
                        KvVersion::V2 => &body["data"]["data"],
                    };
                    prop_assert_eq!(f.len(), data.as_object().unwrap().len());
                    let _ = existing_from_fields(&f);
                }
            }
        }

        /// Arbitrary bytes as a body never panic and are JSON or Null.
        #[test]
        fn response_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let r = super::super::http::Resp::new(200, &bytes);
            let _ = r.errors();
        }
    }
}
