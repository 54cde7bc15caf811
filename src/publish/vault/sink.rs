//! The Vault sink: publishes a join record with the "newer token wins" rule (KV v2 with
//! check-and-set, retried when another writer wins a race), reads it back, settles an
//! ambiguous write (timeout or lost connection after sending) by reading the path before
//! reporting, and rolls a write back (KV v2 restores the previous version).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use super::args::{KvVersion, VaultArgs};
use super::error::{VaultError, VaultResult};
use super::http::Vault;
use super::kv::{CasWrite, Current, existing_from_fields, previous_live_version};
use super::location::Location;
use crate::publish::{Decision, Existing, Outcome, Record, Sink, decide, field, other_kind};
use crate::{Error, Result};

/// How often a check-and-set write is retried after losing a race.
const CAS_ATTEMPTS: u32 = 5;

/// Sink options that are not connection settings.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Read back after writing.
    pub verify: bool,
    /// Replace even a newer token.
    pub replace_newer: bool,
    /// Cluster name for custom_metadata.
    pub cluster: String,
}

/// The Vault sink, connected and located before anything is published.
pub struct VaultSink {
    vault: Vault,
    loc: Location,
    opts: WriteOptions,
    /// Whether this sink sent a write: rollback touches nothing otherwise (a record that
    /// was already there, or kept as newer, is not this run's to undo).
    wrote: AtomicBool,
    /// KV v2's current version and record, read while preparing (which `create --publish`
    /// runs concurrently with the apiserver write). Safe to use later: the write names this
    /// version with check-and-set, so a change in between is a conflict that re-reads.
    prefetched: std::sync::Mutex<Option<Current>>,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

fn local(msg: String) -> VaultError {
    VaultError::Local(Error::runtime(msg))
}

fn names(f: &BTreeMap<String, String>, id: &str) -> bool {
    existing_from_fields(f).is_some_and(|e| e.token_id == id)
}

impl VaultSink {
    /// Logs in and finds the mount (a preflight: failures here leave nothing behind).
    pub async fn prepare(a: &VaultArgs, opts: WriteOptions) -> Result<Self> {
        let (vault, loc) = super::open(a).await?;
        let prefetched = match loc.kv {
            // Best effort: publishing reads again if this failed.
            KvVersion::V2 => vault.current_v2(&loc, true).await.ok(),
            _ => None,
        };
        Ok(VaultSink {
            vault,
            loc,
            opts,
            wrote: AtomicBool::new(false),
            prefetched: std::sync::Mutex::new(prefetched),
        })
    }

    fn fields_map(rec: &dyn Record) -> serde_json::Map<String, Value> {
        rec.fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect()
    }

    fn same_fields(a: &BTreeMap<String, String>, rec: &dyn Record) -> bool {
        let want: BTreeMap<String, String> = rec
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        *a == want
    }

    async fn verify(&self, rec: &dyn Record, version: Option<u64>) -> VaultResult<()> {
        if !self.opts.verify {
            return Ok(());
        }
        let path = self.loc.data_path();
        match self.vault.read(&self.loc, version).await {
            Ok(Some((f, _))) if Self::same_fields(&f, rec) => Ok(()),
            Ok(_) => Err(local(format!(
                "read-back of {path} does not match what was written (another writer replaced \
                 it?): publish again"
            ))),
            Err(VaultError::Forbidden { .. }) => Err(local(format!(
                "wrote {path} but cannot read it back (403): pass --no-verify for a write-only \
                 policy, or grant read on {path}"
            ))),
            Err(e) => Err(e),
        }
    }

    fn kept(&self, ex: &Existing) -> Outcome {
        Outcome::KeptNewer(format!(
            "{} holds token {} expiring {}, newer than ours; pass --replace-newer to overwrite",
            self.loc.display(),
            ex.token_id,
            if ex.expiration.is_empty() {
                "never"
            } else {
                &ex.expiration
            }
        ))
    }

    /// A write that may or may not have landed: the path decides. Reporting failure for a
    /// write that landed would make a caller roll back a token nodes can already read;
    /// reporting success for one that did not would leave nodes with the old token.
    async fn settle(&self, rec: &dyn Record, cause: VaultError) -> VaultResult<Outcome> {
        let place = self.loc.display();
        let id = &rec.id();
        let how = cause.ambiguity();
        match self.vault.read(&self.loc, None).await {
            Ok(Some((f, ver))) if names(&f, id) => {
                let what = match ver {
                    Some(v) => {
                        self.write_metadata(rec, v).await;
                        format!("version {v}")
                    }
                    None => "kv v1".into(),
                };
                Ok(Outcome::Written(format!(
                    "{place} ({what}, confirmed by read-back after {how})"
                )))
            }
            Ok(_) => Err(local(format!(
                "the write to {place} is unconfirmed ({cause}) and {place} does not name token \
                 {id}: publish again"
            ))),
            Err(e) => Err(local(format!(
                "the write to {place} is unconfirmed ({cause}) and reading it back failed too \
                 ({e}): check it with `vault kv get {place}`, then publish again"
            ))),
        }
    }

    async fn publish_v1(&self, rec: &dyn Record) -> VaultResult<Outcome> {
        // A write-only policy cannot read: then the newer-token check is skipped (KV v1 has
        // no metadata to consult), which docs/VAULT.md states.
        let existing = match self.vault.read(&self.loc, None).await {
            Ok(Some((f, _))) => Some(f),
            Ok(None) | Err(VaultError::Forbidden { .. }) => None,
            Err(e) => return Err(e),
        };
        if let Some(f) = &existing
            && let Some(ex) = existing_from_fields(f)
        {
            match decide(Some(&ex), rec) {
                Decision::Same if Self::same_fields(f, rec) => {
                    return Ok(Outcome::Unchanged(self.loc.display()));
                }
                Decision::KeepNewer if !self.opts.replace_newer => return Ok(self.kept(&ex)),
                Decision::OtherKind => {
                    return Err(VaultError::Local(other_kind(&self.loc.display(), &ex, rec)));
                }
                _ => {}
            }
        }
        self.wrote.store(true, Ordering::SeqCst);
        match self.vault.write_v1(&self.loc, &Self::fields_map(rec)).await {
            Ok(()) => {}
            Err(e) if e.is_ambiguous() => return self.settle(rec, e).await,
            Err(e) => return Err(e),
        }
        self.verify(rec, None).await?;
        Ok(Outcome::Written(format!("{} (kv v1)", self.loc.display())))
    }

    async fn publish_v2(&self, rec: &dyn Record) -> VaultResult<Outcome> {
        let data = Self::fields_map(rec);
        let prefetched = self
            .prefetched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let mut cur = match prefetched {
            Some(c) => c,
            None => self.vault.current_v2(&self.loc, true).await?,
        };
        for attempt in 1..=CAS_ATTEMPTS {
            if let Some(ex) = &cur.existing {
                match decide(Some(ex), rec) {
                    Decision::Same
                        if cur
                            .fields
                            .as_ref()
                            .is_some_and(|f| Self::same_fields(f, rec)) =>
                    {
                        return Ok(Outcome::Unchanged(format!(
                            "{} (version {})",
                            self.loc.display(),
                            cur.version
                        )));
                    }
                    Decision::KeepNewer if !self.opts.replace_newer => return Ok(self.kept(ex)),
                    Decision::OtherKind => {
                        return Err(VaultError::Local(other_kind(&self.loc.display(), ex, rec)));
                    }
                    _ => {}
                }
            }
            self.wrote.store(true, Ordering::SeqCst);
            let written = match self.vault.write_v2(&self.loc, cur.version, &data).await {
                Ok(w) => w,
                Err(e) if e.is_ambiguous() => return self.settle(rec, e).await,
                Err(e) => return Err(e),
            };
            match written {
                CasWrite::Conflict(now) => {
                    tracing::warn!(
                        path = self.loc.data_path(),
                        attempt,
                        "check-and-set conflict: another writer changed the secret; re-reading"
                    );
                    cur = now;
                }
                CasWrite::Written(version) => {
                    // Independent requests: the metadata write and the read-back of the
                    // version just written go out together.
                    let ((), verified) = tokio::join!(
                        self.write_metadata(rec, version),
                        self.verify(rec, Some(version))
                    );
                    verified?;
                    return Ok(Outcome::Written(format!(
                        "{} (version {version})",
                        self.loc.display()
                    )));
                }
            }
        }
        Err(local(format!(
            "check-and-set conflict on {}: another writer changed it {CAS_ATTEMPTS} times in a \
             row: retry later",
            self.loc.data_path()
        )))
    }

    /// custom_metadata: who published which token id until when. Never the secret. Failure
    /// is a warning: the data is already written and correct.
    async fn write_metadata(&self, rec: &dyn Record, version: u64) {
        self.put_metadata(&rec.id(), &rec.expiration_text(), version)
            .await;
    }

    async fn put_metadata(&self, token_id: &str, expiration: &str, version: u64) {
        let mp = self.loc.metadata_path();
        let body = json!({"custom_metadata": {
            "token_id": token_id,
            "expiration": expiration,
            "cluster": self.opts.cluster,
            "writer": format!("kubectl-jointoken@{}", hostname()),
            "data_version": version.to_string(),
            "published_at": crate::token::format_expiration(jiff::Timestamp::now()),
        }});
        if let Err(e) = self.vault.expect_ok(Method::POST, &mp, Some(&body)).await {
            tracing::warn!(
                "wrote {} but not its custom_metadata: {e}",
                self.loc.display()
            );
        }
    }

    async fn rollback_v1(&self, rec: &dyn Record) -> VaultResult<String> {
        let place = self.loc.display();
        let id = &rec.id();
        match self.vault.read(&self.loc, None).await? {
            Some((f, _)) if names(&f, id) => Ok(format!(
                "{place} still names deleted token {id}; KV v1 keeps no history"
            )),
            _ => Ok(format!(
                "{place} left as it is: it does not name token {id}"
            )),
        }
    }

    /// Restores the version before ours, with check-and-set on ours so a newer writer is
    /// never overwritten; without an earlier version the path goes back to not existing.
    async fn rollback_v2(&self, rec: &dyn Record) -> VaultResult<String> {
        let place = self.loc.display();
        let id = &rec.id();
        let Some(md) = self.vault.metadata(&self.loc).await? else {
            return Ok(format!("{place} left as it is: it does not exist"));
        };
        let current = md["current_version"].as_u64().unwrap_or(0);
        let holds_ours = self
            .vault
            .read(&self.loc, Some(current))
            .await?
            .is_some_and(|(f, _)| names(&f, id));
        if !holds_ours {
            return Ok(format!(
                "{place} left as it is: its version {current} does not name token {id}"
            ));
        }
        let Some(prev) = previous_live_version(&md, current) else {
            if current <= 1 {
                // Ours is the only version there ever was: remove the path entirely.
                self.vault
                    .expect_ok(Method::DELETE, &self.loc.metadata_path(), None)
                    .await?;
                return Ok(format!("{place} removed: it held only token {id}"));
            }
            self.vault
                .expect_ok(Method::DELETE, &self.loc.data_path(), None)
                .await?;
            // The metadata must no longer vouch for the deleted token (a write-only writer
            // trusts it for the newer-token rule).
            self.put_metadata("", "", 0).await;
            return Ok(format!(
                "{place}: deleted version {current} (token {id}); no earlier version holds data"
            ));
        };
        let Some((fields, _)) = self.vault.read(&self.loc, Some(prev)).await? else {
            return Err(local(format!(
                "{place}: version {prev} disappeared during the rollback; left version {current} \
                 (token {id}) in place"
            )));
        };
        let data: serde_json::Map<String, Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        match self.vault.write_v2(&self.loc, current, &data).await? {
            CasWrite::Written(v) => {
                let restored = fields.get(field::TOKEN_ID).map_or("none", String::as_str);
                let exp = fields.get(field::EXPIRATION).map_or("", String::as_str);
                self.put_metadata(restored, exp, v).await;
                Ok(format!(
                    "{place}: restored version {prev} (token {restored}) as version {v}"
                ))
            }
            CasWrite::Conflict(_) => Err(local(format!(
                "{place} changed during the rollback: left as another writer made it"
            ))),
        }
    }

    /// Turns an internal error into the crate's, naming a refused token as such.
    async fn finish<T>(&self, r: VaultResult<T>) -> Result<T> {
        match r {
            Ok(v) => Ok(v),
            Err(e) => Err(self.vault.explain(e).await.into()),
        }
    }
}

impl Sink for VaultSink {
    fn name(&self) -> String {
        format!("vault {}", self.loc.display())
    }

    fn publish<'a>(&'a self, rec: &'a dyn Record) -> BoxFuture<'a, Result<Outcome>> {
        Box::pin(async move {
            let r = match self.loc.kv {
                KvVersion::V1 => self.publish_v1(rec).await,
                KvVersion::V2 => self.publish_v2(rec).await,
            };
            self.finish(r).await
        })
    }

    fn current(&self) -> BoxFuture<'_, Result<Option<BTreeMap<String, String>>>> {
        Box::pin(async move {
            let r = match self.vault.read(&self.loc, None).await {
                Ok(o) => Ok(o.map(|(f, _)| f)),
                // A write-only policy cannot read back: this sink vouches for nothing, so a
                // renewal is due (custom_metadata is not proof: it is not validated data).
                Err(VaultError::Forbidden { .. }) => Ok(None),
                Err(e) => Err(e),
            };
            self.finish(r).await
        })
    }

    fn rollback<'a>(&'a self, rec: &'a dyn Record) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            if !self.wrote.load(Ordering::SeqCst) {
                return Ok(format!(
                    "{} left as it is: this run wrote nothing there",
                    self.loc.display()
                ));
            }
            let r = match self.loc.kv {
                KvVersion::V1 => self.rollback_v1(rec).await,
                KvVersion::V2 => self.rollback_v2(rec).await,
            };
            self.finish(r).await
        })
    }
}
