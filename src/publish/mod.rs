//! Publishing a token's join record: the one record shape every sink writes ([`JoinRecord`]),
//! the [`Sink`] trait, the "newer token wins" rule, and [`publish_all`], which runs several
//! sinks and reports each one's result (a partial publish is visible per sink).
//!
//! Sinks: [`vault`] (KV v1/v2 with check-and-set and read-back), [`file`] (atomic 0600 files),
//! [`secret`] (a Kubernetes Secret), and the CI stdout formats in [`ci`].

pub mod ci;
pub mod file;
pub mod secret;
pub mod vault;

use std::collections::BTreeMap;
use std::fmt;

use futures::future::BoxFuture;
use jiff::Timestamp;

use crate::cli::GlobalArgs;
use crate::join::JoinInfo;
use crate::token::{self, Token};
use crate::{Error, Result};

/// Record field names, in the order they are written (documented in docs/VAULT.md).
pub mod field {
    /// `kubeadm join …` for a worker: what nodes read with `-field=join_command`.
    pub const JOIN_COMMAND: &str = "join_command";
    /// `id.secret`.
    pub const TOKEN: &str = "token";
    /// The public id.
    pub const TOKEN_ID: &str = "token_id";
    /// RFC 3339 UTC expiry; empty when the token never expires.
    pub const EXPIRATION: &str = "expiration";
    /// `host:port` of the apiserver.
    pub const API_SERVER_ENDPOINT: &str = "api_server_endpoint";
    /// `sha256:<hex>` pins, comma-separated.
    pub const CA_CERT_HASHES: &str = "ca_cert_hashes";
    /// The cluster CA bundle (PEM, public), so a node can write a bootstrap kubeconfig.
    pub const CA_CERT: &str = "ca_cert";
    /// The control-plane join command, only when a certificate key was given.
    pub const CONTROL_PLANE_JOIN_COMMAND: &str = "control_plane_join_command";
}

/// Everything a joining node needs, in the one shape every sink writes. Its Debug output is
/// redacted: the token and both join commands carry the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinRecord {
    /// The token.
    pub token: Token,
    /// Expiry; `None` = never.
    pub expiration: Option<Timestamp>,
    /// `host:port`.
    pub api_server_endpoint: String,
    /// `sha256:<hex>` per CA certificate.
    pub ca_cert_hashes: Vec<String>,
    /// PEM bundle of the cluster CA (may be empty when read from an older record).
    pub ca_cert: String,
    /// Certificate key for control-plane joins.
    pub certificate_key: Option<String>,
}

impl fmt::Debug for JoinRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinRecord")
            .field("token", &self.token.masked())
            .field("expiration", &self.expiration)
            .field("api_server_endpoint", &self.api_server_endpoint)
            .field("ca_cert_hashes", &self.ca_cert_hashes)
            .field(
                "certificate_key",
                &self.certificate_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl JoinRecord {
    /// The record for `token` joining the cluster `join` describes.
    pub fn new(
        token: Token,
        expiration: Option<Timestamp>,
        join: &JoinInfo,
        ca_der: &[Vec<u8>],
    ) -> Self {
        JoinRecord {
            token,
            expiration,
            api_server_endpoint: join.endpoint.clone(),
            ca_cert_hashes: join.ca_cert_hashes.clone(),
            ca_cert: crate::pki::der_to_pem_bundle(ca_der),
            certificate_key: join.certificate_key.clone(),
        }
    }

    /// The worker join command.
    pub fn join_command(&self) -> String {
        crate::join::command(
            &self.api_server_endpoint,
            &self.token.expose(),
            &self.ca_cert_hashes,
            None,
        )
    }

    /// The control-plane join command, when a certificate key was given.
    pub fn control_plane_join_command(&self) -> Option<String> {
        self.certificate_key.as_deref().map(|k| {
            crate::join::command(
                &self.api_server_endpoint,
                &self.token.expose(),
                &self.ca_cert_hashes,
                Some(k),
            )
        })
    }

    /// The expiry as written: RFC 3339 UTC, or empty for "never".
    pub fn expiration_text(&self) -> String {
        self.expiration
            .map(token::format_expiration)
            .unwrap_or_default()
    }

    /// The record's fields, in their documented order; every value is a string so that KV
    /// reads (`-field=…`), env files and Secrets all see the same text.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (field::JOIN_COMMAND, self.join_command()),
            (field::TOKEN, self.token.expose()),
            (field::TOKEN_ID, self.token.id.to_string()),
            (field::EXPIRATION, self.expiration_text()),
            (field::API_SERVER_ENDPOINT, self.api_server_endpoint.clone()),
            (field::CA_CERT_HASHES, self.ca_cert_hashes.join(",")),
            (field::CA_CERT, self.ca_cert.clone()),
        ];
        if let Some(cp) = self.control_plane_join_command() {
            v.push((field::CONTROL_PLANE_JOIN_COMMAND, cp));
        }
        v
    }

    /// The fields as a JSON object of strings (Vault data, `-o json`, the json file format).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.fields()
                .into_iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect(),
        )
    }

    /// Parses a published record (from Vault) back; `what` names where it came from.
    pub fn from_fields(map: &BTreeMap<String, String>, what: &str) -> Result<Self> {
        let get = |k: &str| map.get(k).map(String::as_str);
        let bad = |msg: String| Error::runtime(format!("{what} is not a join record: {msg}"));
        let token: Token = get(field::TOKEN)
            .ok_or_else(|| bad(format!("field {} is missing", field::TOKEN)))?
            .parse()
            .map_err(|e: String| bad(e))?;
        let expiration = match get(field::EXPIRATION).unwrap_or("") {
            "" => None,
            s => Some(
                s.parse::<Timestamp>()
                    .map_err(|_| bad(format!("unparseable {} {s:?}", field::EXPIRATION)))?,
            ),
        };
        let api_server_endpoint = get(field::API_SERVER_ENDPOINT)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(format!("field {} is missing", field::API_SERVER_ENDPOINT)))?
            .to_string();
        let ca_cert_hashes: Vec<String> = get(field::CA_CERT_HASHES)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let certificate_key = get(field::CONTROL_PLANE_JOIN_COMMAND).and_then(|c| {
            c.split_once("--certificate-key ")
                .map(|(_, k)| k.split_whitespace().next().unwrap_or("").to_string())
        });
        Ok(JoinRecord {
            token,
            expiration,
            api_server_endpoint,
            ca_cert_hashes,
            ca_cert: get(field::CA_CERT).unwrap_or("").to_string(),
            certificate_key,
        })
    }
}

/// What a sink already holds, as far as the "newer token wins" rule needs to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Existing {
    /// Token id already published.
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
}

/// Decides whether `ours` may replace `existing`. A token that never expires counts as the
/// newest; an unreadable expiry loses (it is invalid for the apiserver too).
pub fn decide(existing: Option<&Existing>, ours: &JoinRecord) -> Decision {
    let Some(ex) = existing else {
        return Decision::Replace;
    };
    if ex.token_id == ours.token.id.as_str() && ex.expiration == ours.expiration_text() {
        return Decision::Same;
    }
    // Ordering key: (never expires, instant); `None` for an unparseable expiry.
    let key = |e: &str| -> Option<(bool, Option<Timestamp>)> {
        if e.is_empty() {
            Some((true, None))
        } else {
            token::parse_expiration(e).map(|t| (false, Some(t)))
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

/// A place a join record is published to. Object-safe so one run can hold several kinds.
pub trait Sink: Send + Sync {
    /// The sink's name in reports, e.g. `vault secret/kjt/join`.
    fn name(&self) -> String;
    /// Publishes `rec`.
    fn publish<'a>(&'a self, rec: &'a JoinRecord) -> BoxFuture<'a, Result<Outcome>>;
    /// Undoes a publish of `rec` whose token is about to be deleted: restores what the sink
    /// held before where it can, and returns a sentence saying what it did.
    fn rollback<'a>(&'a self, rec: &'a JoinRecord) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            Ok(format!(
                "not restored: it names deleted token {}; publish a valid token there",
                rec.token.id
            ))
        })
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
            eprintln!("{l}");
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
pub async fn publish_all(sinks: &[Box<dyn Sink>], rec: &JoinRecord) -> PublishReport {
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
    fn fields_are_strings_in_documented_order() {
        let r = record(Some("2026-11-24T08:00:00Z"));
        let names: Vec<_> = r.fields().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "join_command",
                "token",
                "token_id",
                "expiration",
                "api_server_endpoint",
                "ca_cert_hashes",
                "ca_cert"
            ]
        );
        let j = r.to_json();
        assert_eq!(
            j["join_command"],
            "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef \
             --discovery-token-ca-cert-hash sha256:aa --discovery-token-ca-cert-hash sha256:bb"
        );
        assert_eq!(j["expiration"], "2026-11-24T08:00:00Z");
        assert_eq!(j["ca_cert_hashes"], "sha256:aa,sha256:bb");
        assert!(j.get("control_plane_join_command").is_none());
        assert_eq!(record(None).to_json()["expiration"], "");
    }

    #[test]
    fn control_plane_command_only_with_a_key_and_round_trips() {
        let mut r = record(Some("2026-11-24T08:00:00Z"));
        r.certificate_key = Some("ab".repeat(32));
        let j = r.to_json();
        assert!(
            j["control_plane_join_command"]
                .as_str()
                .unwrap()
                .ends_with(&format!(
                    "--control-plane --certificate-key {}",
                    "ab".repeat(32)
                ))
        );
        let map: BTreeMap<String, String> =
            r.fields().into_iter().map(|(k, v)| (k.into(), v)).collect();
        assert_eq!(JoinRecord::from_fields(&map, "x").unwrap(), r);
    }

    #[test]
    fn parsing_rejects_what_is_not_a_record() {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        map.insert("foo".into(), "bar".into());
        let e = JoinRecord::from_fields(&map, "vault secret/x")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("vault secret/x is not a join record") && e.contains("token"),
            "{e}"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let mut r = record(None);
        r.certificate_key = Some("ab".repeat(32));
        let d = format!("{r:?}");
        assert!(!d.contains("0123456789abcdef"), "{d}");
        assert!(!d.contains(&"ab".repeat(32)), "{d}");
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
