//! The Vault (and OpenBao) KV sink and the node-side reader: configuration resolved as the
//! Vault CLI resolves it (flags over `VAULT_*` env), TLS, the four login methods, KV mount and
//! version detection, check-and-set writes with the "newer token wins" rule, read-back, and
//! rollback.
//!
//! We speak the HTTP API with reqwest instead of vaultrs: vaultrs has no
//! `sys/internal/ui/mounts`, no `VAULT_TLS_SERVER_NAME`, no `custom_metadata` on writes, and
//! its errors hide the status code we need to tell "sealed" from "403" from "CAS conflict".
//! One [`Settings`] resolution builds the one HTTP client every request uses.
//!
//! Parts: [`args`] (flags), [`config`] (flag/env resolution), [`location`] (mount and paths),
//! [`tls`], [`http`] (client, typed errors from [`error`]), [`login`], [`kv`] (mount lookup,
//! reads, check-and-set), [`sink`] (publish, read-back, rollback). Errors stay typed
//! ([`VaultError`]) inside and become [`crate::Error`] at this module's boundary.

mod args;
mod config;
mod error;
mod http;
mod kv;
mod location;
mod login;
mod sink;
mod tls;

pub use args::{AuthMethod, DEFAULT_ADDR, DEFAULT_JWT_FILE, DEFAULT_TIMEOUT, KvVersion, VaultArgs};
pub use config::{
    Auth, Settings, TokenSource, parse_addr, parse_bool_strict, resolve, settings_from_env,
};
pub use error::VaultError;
pub use http::Vault;
pub use kv::MountInfo;
pub use location::{Location, Wanted, split_at_mount, wanted};
pub use sink::{VaultSink, WriteOptions};

use crate::Result;

/// Connects, logs in and locates the secret: what `fetch` and the sink share.
pub async fn open(a: &VaultArgs) -> Result<(Vault, Location)> {
    let settings = settings_from_env(a)?;
    let w = wanted(a, &|k| std::env::var(k).ok())?;
    let vault = Vault::connect(settings).await?;
    let loc = vault.locate(&w, a.kv_version).await?;
    Ok((vault, loc))
}
