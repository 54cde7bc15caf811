//! Publishing a credential record: the [`Record`] trait every sink writes, its two kinds (a
//! bootstrap token's [`JoinRecord`] and a service account's [`SaRecord`]), the [`Sink`] trait,
//! the "newer token wins" rule, and [`publish_all`], which runs several sinks and reports each
//! one's result (a partial publish is visible per sink).
//!
//! Sinks: [`vault`] (KV v1/v2 with check-and-set and read-back), [`file`] (atomic 0600 files),
//! [`secret`] (a Kubernetes Secret), and the CI stdout formats in [`ci`].
//!
//! Why one trait and not a second set of sinks: Vault check-and-set, read-back, rollback, the
//! 0600 atomic file and the GitHub masking rules are the hard parts, and a service-account
//! token needs exactly the same. A record only says what its fields are, which of them are
//! secret, who it names ([`Record::id`]) and until when; the sinks never look further.

pub mod ci;
pub mod file;
mod record;
pub mod sa;
pub mod secret;
mod validate;
pub mod vault;

use futures::future::BoxFuture;
use jiff::Timestamp;

pub use record::{JoinRecord, field};
pub use sa::{PublishValue, SaRecord};

use crate::cli::GlobalArgs;
use crate::{Error, Result};

/// What a sink publishes: a record of string fields, some of them secret. Debug output must
/// be redacted by every implementation.
pub trait Record: Send + Sync + std::fmt::Debug {
    /// Who the record names, for the "newer wins" rule and in messages (never secret): a
    /// bootstrap token's id, or a service account's user name
    /// (`system:serviceaccount:NS:NAME`).
    fn id(&self) -> String;
    /// The record's kind, for messages (`bootstrap token`, `service account`).
    fn kind(&self) -> &'static str;
    /// The expiry as written: RFC 3339 UTC, or empty for "never".
    fn expiration_text(&self) -> String;
    /// The fields, in their documented order; every value is a string.
    fn fields(&self) -> Vec<(&'static str, String)>;
    /// Fields that span several lines (env and dotenv formats cannot hold them).
    fn multi_line_fields(&self) -> &'static [&'static str];
    /// Every secret value in the record, for GitHub's `::add-mask::` (longest first is not
    /// needed: each is masked on its own).
    fn secrets(&self) -> Vec<String>;
    /// What the file sink's default format writes: the join command, or the service
    /// account's kubeconfig or token.
    fn primary_text(&self) -> String;
}

/// The kind of record an id names: service-account ids are user names, which no bootstrap
/// token id (6 characters of `[a-z0-9]`) can be.
fn is_service_account_id(id: &str) -> bool {
    id.starts_with(sa::USER_PREFIX)
}

/// What a sink already holds, as far as the "newer token wins" rule needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Existing {
    /// The record's [`Record::id`] already published (a token id, or a service account's
    /// user name).
    pub token_id: String,
    /// Its expiry text as published (`""` = never).
    pub expiration: String,
}

/// The rule that keeps an older token from replacing a newer one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Write ours.
    Replace,
    /// The published record is this very token: nothing to change.
    Same,
    /// The published token expires later than ours: keep it.
    KeepNewer,
    /// The place holds the other kind of record (a join record where a service account's
    /// would go, or the reverse): never overwritten, even with --replace-newer.
    OtherKind,
}

/// The fields that name a record: a join record's `token_id`, or a service-account record's
/// `username` (with `kind` saying so), each with its `expiration`.
pub fn existing_from_fields(f: &std::collections::BTreeMap<String, String>) -> Option<Existing> {
    let expiration = f.get(field::EXPIRATION).cloned().unwrap_or_default();
    if let Some(id) = f.get(field::TOKEN_ID) {
        return Some(Existing {
            token_id: id.clone(),
            expiration,
        });
    }
    // A service account's record counts only when it passes validation: its token must agree
    // with the expiry it claims, so a forged far-future expiry cannot keep a real renewal
    // out. An invalid one is garbage that the next valid record replaces.
    if f.get(sa::field::KIND).map(String::as_str) == Some(sa::KIND) {
        let rec = SaRecord::from_fields(f, "the published record").ok()?;
        return Some(Existing {
            token_id: rec.username(),
            expiration,
        });
    }
    None
}

/// The message for [`Decision::OtherKind`].
pub fn other_kind(place: &str, ex: &Existing, ours: &dyn Record) -> Error {
    let theirs = if is_service_account_id(&ex.token_id) {
        "a service-account record"
    } else {
        "a join record"
    };
    Error::runtime(format!(
        "{place} holds {theirs} ({}), not a {} record: publish to another path or name",
        ex.token_id,
        ours.kind()
    ))
}

/// Decides whether `ours` may replace `existing`. A token that never expires counts as the
/// newest; an unreadable expiry loses (it is invalid for the apiserver too). The same rule
/// holds for service-account records: one is never replaced by one that expires earlier.
pub fn decide(existing: Option<&Existing>, ours: &dyn Record) -> Decision {
    let Some(ex) = existing else {
        return Decision::Replace;
    };
    if is_service_account_id(&ex.token_id) != is_service_account_id(&ours.id()) {
        return Decision::OtherKind;
    }
    if ex.token_id == ours.id() && ex.expiration == ours.expiration_text() {
        return Decision::Same;
    }
    // Ordering key: (never expires, instant); `None` for an unparseable expiry.
    let key = |e: &str| -> Option<(bool, Option<Timestamp>)> {
        if e.is_empty() {
            Some((true, None))
        } else {
            crate::token::parse_expiration(e).map(|t| (false, Some(t)))
        }
    };
    match (key(&ex.expiration), key(&ours.expiration_text())) {
        (Some(theirs), Some(mine)) if theirs > mine => Decision::KeepNewer,
        _ => Decision::Replace,
    }
}

/// How one sink ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written (and read back unless disabled); the detail says where.
    Written(String),
    /// Already held exactly this token.
    Unchanged(String),
    /// Holds a token that expires later; ours was not written.
    KeptNewer(String),
}

impl Outcome {
    /// The short result word.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Written(_) => "published",
            Outcome::Unchanged(_) => "unchanged",
            Outcome::KeptNewer(_) => "kept-newer",
        }
    }

    /// The detail.
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Written(d) | Outcome::Unchanged(d) | Outcome::KeptNewer(d) => d,
        }
    }

    /// Whether the sink now holds our token.
    pub fn holds_ours(&self) -> bool {
        !matches!(self, Outcome::KeptNewer(_))
    }
}

/// A place a record is published to. Object-safe so one run can hold several kinds.
pub trait Sink: Send + Sync {
    /// The sink's name in reports, e.g. `vault secret/kjt/join`.
    fn name(&self) -> String;
    /// Publishes `rec`.
    fn publish<'a>(&'a self, rec: &'a dyn Record) -> BoxFuture<'a, Result<Outcome>>;
    /// Undoes this sink's publish of `rec` (its token is being deleted): restores what was
    /// there before when the sink can, and touches nothing that no longer holds `rec`. Returns
    /// one sentence saying what was restored or why nothing was.
    fn rollback<'a>(&'a self, rec: &'a dyn Record) -> BoxFuture<'a, Result<String>>;
    /// The fields published there now, for a renewal's "is it due?" question; `None` when
    /// nothing is there or the sink cannot be read back (then it never vouches for a record).
    fn current(&self) -> BoxFuture<'_, Result<Option<std::collections::BTreeMap<String, String>>>> {
        Box::pin(async { Ok(None) })
    }
}

/// One sink's result.
#[derive(Debug)]
pub struct SinkResult {
    /// The sink's name.
    pub sink: String,
    /// What happened.
    pub result: Result<Outcome>,
}

/// The results of one publish run, per sink.
#[derive(Debug, Default)]
pub struct PublishReport {
    /// In the order the sinks ran.
    pub results: Vec<SinkResult>,
}

impl PublishReport {
    /// Whether every sink succeeded.
    pub fn all_ok(&self) -> bool {
        self.results.iter().all(|r| r.result.is_ok())
    }

    /// Whether every sink succeeded and holds our token.
    pub fn all_hold_ours(&self) -> bool {
        self.results
            .iter()
            .all(|r| matches!(&r.result, Ok(o) if o.holds_ours()))
    }

    /// One line per sink: `<sink>: <result>: <detail>`.
    pub fn lines(&self) -> Vec<String> {
        self.results
            .iter()
            .map(|r| match &r.result {
                Ok(o) => format!("{}: {}: {}", r.sink, o.word(), o.detail()),
                Err(e) => format!("{}: failed: {e}", r.sink),
            })
            .collect()
    }

    /// Writes [`lines`](Self::lines) to stderr (progress, never data: stdout stays clean).
    pub fn eprint(&self) {
        for l in self.lines() {
            crate::reporter::note(l);
        }
    }

    /// `(sink, result word, detail)` of every sink that succeeded.
    pub fn successes(&self) -> Vec<(String, String, String)> {
        self.results
            .iter()
            .filter_map(|r| {
                let o = r.result.as_ref().ok()?;
                Some((r.sink.clone(), o.word().to_string(), o.detail().to_string()))
            })
            .collect()
    }

    /// The error for a run where some sink failed: names the failed sinks and what the others
    /// did, so the state left behind is clear.
    pub fn failure(&self) -> Option<Error> {
        if self.all_ok() {
            return None;
        }
        let failed: Vec<String> = self
            .results
            .iter()
            .filter_map(|r| r.result.as_ref().err().map(|e| format!("{}: {e}", r.sink)))
            .collect();
        let done: Vec<String> = self
            .results
            .iter()
            .filter_map(|r| {
                r.result
                    .as_ref()
                    .ok()
                    .map(|o| format!("{} {}", r.sink, o.word()))
            })
            .collect();
        let mut msg = format!("publish failed: {}", failed.join("; "));
        if !done.is_empty() {
            msg.push_str(&format!(" (succeeded: {})", done.join(", ")));
        }
        Some(Error::runtime(msg))
    }
}

/// Runs every sink in order (each one even after another failed, so the report says exactly
/// which sinks hold the token).
pub async fn publish_all(sinks: &[Box<dyn Sink>], rec: &dyn Record) -> PublishReport {
    let mut results = Vec::with_capacity(sinks.len());
    for s in sinks {
        let sink = s.name();
        let result = s.publish(rec).await;
        match &result {
            Ok(o) => tracing::info!(sink, result = o.word(), "publish"),
            // Said once by the caller's error; a log line here would repeat it.
            Err(e) => tracing::debug!(sink, "publish failed: {e}"),
        }
        results.push(SinkResult { sink, result });
    }
    PublishReport { results }
}

/// The sink kinds `--to`/`--publish` accept.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkKind {
    /// Vault (or OpenBao) KV, v1 or v2.
    Vault,
    /// A local file (atomic, mode 0600).
    File,
    /// A Kubernetes Secret.
    Secret,
}

/// Flags of every sink, shared by `publish` and `create --publish`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SinkArgs {
    /// Vault connection, authentication and location.
    #[command(flatten)]
    pub vault: vault::VaultArgs,
    /// The file sink.
    #[command(flatten)]
    pub file: file::FileArgs,
    /// The Secret sink.
    #[command(flatten)]
    pub secret: secret::SecretArgs,
    /// Do not read back what was written (for write-only Vault policies).
    #[arg(long, help_heading = "Publishing")]
    pub no_verify: bool,
    /// Replace a published token even when it expires later than ours.
    #[arg(long, help_heading = "Publishing")]
    pub replace_newer: bool,
}

/// Builds the sinks and checks each one before anything is published (Vault: log in and find
/// the mount; file: the folder exists; secret: the cluster is reachable), so `create --publish`
/// fails before it creates a token whenever it can.
pub async fn build_sinks(
    kinds: &[SinkKind],
    a: &SinkArgs,
    g: &GlobalArgs,
    cluster_name: &str,
) -> Result<Vec<Box<dyn Sink>>> {
    let mut seen = Vec::new();
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    for k in kinds {
        if seen.contains(k) {
            continue;
        }
        seen.push(*k);
        match k {
            SinkKind::Vault => {
                let opts = vault::WriteOptions {
                    verify: !a.no_verify,
                    replace_newer: a.replace_newer,
                    cluster: cluster_name.to_string(),
                };
                sinks.push(Box::new(vault::VaultSink::prepare(&a.vault, opts).await?));
            }
            SinkKind::File => sinks.push(Box::new(file::FileSink::prepare(&a.file)?)),
            SinkKind::Secret => sinks.push(Box::new(
                secret::SecretSink::prepare(&a.secret, g)
                    .await?
                    .replace_newer(a.replace_newer),
            )),
        }
    }
    Ok(sinks)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn record(exp: Option<&str>) -> JoinRecord {
        JoinRecord {
            token: "abcdef.0123456789abcdef".parse().unwrap(),
            expiration: exp.map(|e| e.parse().unwrap()),
            api_server_endpoint: "10.0.0.1:6443".into(),
            ca_cert_hashes: vec!["sha256:aa".into(), "sha256:bb".into()],
            ca_cert: "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n".into(),
            certificate_key: None,
        }
    }

    #[test]
    fn newer_token_wins() {
        let ours = record(Some("2026-11-24T08:00:00Z"));
        let ex = |id: &str, e: &str| Existing {
            token_id: id.into(),
            expiration: e.into(),
        };
        assert_eq!(decide(None, &ours), Decision::Replace);
        assert_eq!(
            decide(Some(&ex("abcdef", "2026-11-24T08:00:00Z")), &ours),
            Decision::Same
        );
        assert_eq!(
            decide(Some(&ex("zzzzzz", "2026-11-25T08:00:00Z")), &ours),
            Decision::KeepNewer
        );
        assert_eq!(
            decide(Some(&ex("zzzzzz", "2026-11-23T08:00:00Z")), &ours),
            Decision::Replace
        );
        // Same expiry, another token: the later writer wins (rotation at the same second).
        assert_eq!(
            decide(Some(&ex("zzzzzz", "2026-11-24T08:00:00Z")), &ours),
            Decision::Replace
        );
        // Never-expiring tokens are the newest; garbage expiry loses.
        assert_eq!(decide(Some(&ex("zzzzzz", "")), &ours), Decision::KeepNewer);
        assert_eq!(
            decide(Some(&ex("zzzzzz", "soon")), &ours),
            Decision::Replace
        );
        assert_eq!(
            decide(Some(&ex("zzzzzz", "2030-01-01T00:00:00Z")), &record(None)),
            Decision::Replace
        );
        // A service account's record never replaces a join record, nor the reverse.
        assert_eq!(
            decide(
                Some(&ex(
                    "system:serviceaccount:ci:scanner",
                    "2020-01-01T00:00:00Z"
                )),
                &ours
            ),
            Decision::OtherKind
        );
    }

    #[test]
    fn failure_names_failed_and_succeeded_sinks() {
        let rep = PublishReport {
            results: vec![
                SinkResult {
                    sink: "file /x".into(),
                    result: Ok(Outcome::Written("/x".into())),
                },
                SinkResult {
                    sink: "vault secret/a".into(),
                    result: Err(Error::runtime("vault at http://v is sealed")),
                },
            ],
        };
        assert!(!rep.all_ok());
        let e = rep.failure().unwrap().to_string();
        assert_eq!(
            e,
            "publish failed: vault secret/a: vault at http://v is sealed (succeeded: file /x published)"
        );
        assert_eq!(rep.lines()[0], "file /x: published: /x");
    }
}
