//! Command-line surface shared by every command: kubectl's global flags (which kubectl does not
//! parse for plugins, so we do), output selection, `--dry-run`, and the token-property flags
//! ([`TokenFlags`]) that every command creating a token shares.

use std::path::PathBuf;
use std::time::Duration;

use std::collections::BTreeMap;

use clap::{Args, ValueEnum};
use jiff::Timestamp;

use crate::token::{self, Token, TokenSpec};
use crate::{Error, duration};

/// kubectl's connection flags, in one flattened struct so every command takes them.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Kubernetes connection (as kubectl)")]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, a list merged as kubectl does, then
    /// ~/.kube/config, then the in-cluster service account).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Timeout for a single server request: 0 (none), a bare number of seconds, or a Go
    /// duration such as 30s or 1m.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_request_timeout)]
    pub request_timeout: Option<Duration>,
    /// Username to impersonate for the operation.
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeatable).
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// Namespace (bootstrap tokens live only in kube-system).
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Log verbosity on stderr: 0 warnings only, 2 info, 4 debug, 6+ trace (never secrets).
    #[arg(
        short = 'v',
        long = "v",
        alias = "verbose",
        global = true,
        value_name = "LEVEL",
        default_value_t = 0
    )]
    pub verbosity: u8,
}

/// `--request-timeout` as kubectl takes it.
fn parse_request_timeout(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    crate::duration::parse_go(s)
}

impl GlobalArgs {
    /// Rejects any namespace but kube-system for token commands, with the reason.
    pub fn require_token_namespace(&self) -> crate::Result<()> {
        match self.namespace.as_deref() {
            None | Some(crate::token::NAMESPACE) => Ok(()),
            Some(ns) => Err(crate::Error::usage(format!(
                "bootstrap tokens live only in kube-system, not {ns:?}: drop -n/--namespace"
            ))),
        }
    }
}

/// Output formats; each command accepts the subset that makes sense for it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Human-readable columns.
    #[default]
    Table,
    /// Columns with extra detail.
    Wide,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// `secret/bootstrap-token-<id>` per object.
    Name,
    /// kubectl's JSONPath template over the JSON document (`jsonpath={.items[*].token}`).
    JsonPath(String),
    /// kubectl's custom columns (`custom-columns=ID:.token,EXPIRES:.expires`).
    CustomColumns(String),
}

/// The fixed `-o` values with their help (also what completion offers).
const FORMATS: &[(&str, &str)] = &[
    ("table", "Human-readable columns"),
    ("wide", "Columns with extra detail"),
    ("json", "JSON"),
    ("yaml", "YAML"),
    ("name", "kind/name per object"),
    (
        "jsonpath=",
        "kubectl's JSONPath template, e.g. jsonpath={.items[*].token}",
    ),
    ("custom-columns=", "HEADER:JSONPATH,… columns"),
];

/// Parses `-o` as kubectl does: a fixed name, or `jsonpath=TEMPLATE` / `custom-columns=SPEC`.
#[derive(Clone, Debug)]
pub struct FormatParser;

impl clap::builder::TypedValueParser for FormatParser {
    type Value = Format;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Format, clap::Error> {
        let v = value.to_string_lossy();
        let bad = |msg: String| clap::Error::raw(clap::error::ErrorKind::InvalidValue, msg + "\n");
        let f = match v.as_ref() {
            "table" => Format::Table,
            "wide" => Format::Wide,
            "json" => Format::Json,
            "yaml" => Format::Yaml,
            "name" => Format::Name,
            other => {
                if let Some(t) = other.strip_prefix("jsonpath=") {
                    crate::jsonpath::Template::parse(t)
                        .map_err(|e| bad(format!("invalid -o jsonpath template: {e}")))?;
                    Format::JsonPath(t.to_string())
                } else if let Some(c) = other.strip_prefix("custom-columns=") {
                    crate::jsonpath::custom_columns(c, &serde_json::Value::Null)
                        .map_err(|e| bad(format!("invalid -o {e}")))?;
                    Format::CustomColumns(c.to_string())
                } else {
                    return Err(bad(format!(
                        "invalid value '{other}' for '--output <OUTPUT>'\n  [possible values: table, wide, json, yaml, name] (or jsonpath=TEMPLATE, custom-columns=HEADER:JSONPATH,…)"
                    )));
                }
            }
        };
        Ok(f)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(FORMATS.iter().map(|(n, h)| {
            clap::builder::PossibleValue::new(*n).help(*h)
        })))
    }
}

/// Output selection shared by commands that print reports.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Output format: table, wide, json, yaml, name, jsonpath=TEMPLATE or
    /// custom-columns=HEADER:JSONPATH,… (kubectl's syntax).
    #[arg(short = 'o', long = "output", value_parser = FormatParser, default_value = "table", hide_possible_values = true)]
    pub output: Format,
    /// Omit the header line of table output.
    #[arg(long)]
    pub no_headers: bool,
}

/// kubectl's `--dry-run` strategies.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DryRun {
    /// Make the change.
    #[default]
    None,
    /// Only compute and print what would change; send nothing that writes.
    Client,
    /// Send the write with dryRun=All: the apiserver validates it and persists nothing.
    Server,
}

/// `--dry-run` as a flattenable arg.
#[derive(Args, Debug, Clone, Default)]
pub struct DryRunArgs {
    /// Must be none, client or server; a bare --dry-run means client.
    #[arg(long = "dry-run", value_enum, default_value_t = DryRun::None, num_args = 0..=1, default_missing_value = "client", require_equals = true)]
    pub dry_run: DryRun,
}

/// The join endpoint, shared by every command that hands out join details (create,
/// kubeconfig, publish, schedule run, setup); resolved by [`crate::join::resolve_endpoint`].
#[derive(Args, Debug, Clone, Default)]
pub struct EndpointArgs {
    /// The apiserver endpoint nodes join through, HOST:PORT (default: the server in
    /// kube-public/cluster-info when readable, else the kubeconfig's server).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_endpoint)]
    pub endpoint: Option<String>,
}

/// `--endpoint`: `host:port` (an `https://` prefix is dropped); IPv6 hosts in brackets.
pub fn parse_endpoint(s: &str) -> Result<String, String> {
    let e = s.trim_start_matches("https://").trim_end_matches('/');
    let bad = || format!("invalid endpoint {s:?}: expected HOST:PORT, e.g. 10.0.0.1:6443");
    let (host, port) = e.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && !host.contains('/')
        && (host.starts_with('[') == host.ends_with(']'))
        && (!host.contains(':') || host.starts_with('['));
    if !host_ok || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad());
    }
    Ok(e.to_string())
}

/// Token properties shared by `create` and `kubeconfig --create`.
#[derive(clap::Args, Debug, Clone)]
pub struct TokenFlags {
    /// How long the token is valid, as a Go duration (90s, 2h30m); 0 = never expires
    /// (1h for tokens bound to a node, `create --for-node`) [default: 24h]
    // An Option, not a clap default, so a bound token can tell "not given" from "24h".
    #[arg(long, value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub ttl: Option<std::time::Duration>,
    /// What the token may be used for (comma-separated): signing, authentication.
    #[arg(long, value_delimiter = ',', default_value = "signing,authentication")]
    pub usages: Vec<String>,
    /// Extra groups the token authenticates as (comma-separated); each must match
    /// system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9].
    #[arg(long, value_delimiter = ',', default_value = token::DEFAULT_GROUP)]
    pub groups: Vec<String>,
    /// A human-readable description of the token.
    #[arg(long)]
    pub description: Option<String>,
}

/// kubeadm's default token TTL.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

impl TokenFlags {
    /// `--ttl`, or kubeadm's 24h.
    pub fn ttl(&self) -> Duration {
        self.ttl.unwrap_or(DEFAULT_TTL)
    }

    /// Builds and validates a spec for `token` (generated when `None`) at `now`.
    pub fn spec(&self, token: Option<Token>, now: Timestamp) -> crate::Result<TokenSpec> {
        self.spec_with_default_ttl(token, now, DEFAULT_TTL)
    }

    /// As [`spec`](Self::spec), with `default_ttl` when `--ttl` was not given.
    pub fn spec_with_default_ttl(
        &self,
        token: Option<Token>,
        now: Timestamp,
        default_ttl: Duration,
    ) -> crate::Result<TokenSpec> {
        let ttl = self.ttl.unwrap_or(default_ttl);
        let fresh = token.is_none();
        let token = match token {
            Some(t) => t,
            None => Token::generate()
                .map_err(|e| Error::runtime(format!("cannot read the OS random source: {e}")))?,
        };
        let expires = if ttl.is_zero() {
            None
        } else {
            let ttl = jiff::SignedDuration::try_from(ttl)
                .map_err(|_| Error::usage("--ttl is too large"))?;
            let t = now
                .checked_add(ttl)
                .map_err(|_| Error::usage("--ttl is too large"))?;
            // Whole seconds, as kubeadm writes RFC 3339 without fractions.
            Some(
                Timestamp::from_second(t.as_second())
                    .map_err(|_| Error::usage("--ttl is too large"))?,
            )
        };
        if !ttl.is_zero() && ttl < std::time::Duration::from_secs(60) {
            crate::reporter::warn(format!(
                "--ttl {} is under a minute: the token expires about as soon as it is printed",
                duration::format_go(ttl)
            ));
        }
        let spec = TokenSpec {
            token,
            description: self.description.clone(),
            expires,
            usages: dedup(&self.usages),
            groups: dedup(&self.groups),
            labels: BTreeMap::new(),
            fresh,
        };
        spec.validate().map_err(Error::usage)?;
        Ok(spec)
    }
}

/// The non-empty values in their first-seen order, each once (`--groups a,a` stores `a` once,
/// as the apiserver would authenticate it once).
fn dedup(v: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for x in v.iter().filter(|x| !x.is_empty()) {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// Parses `--token`/positional token.
pub fn parse_token(s: Option<&str>) -> crate::Result<Option<Token>> {
    s.map(|s| s.parse::<Token>().map_err(Error::usage))
        .transpose()
}

/// A count flag (`--keep N`): a whole number ≥ 0, with an error that says so (clap's own
/// would suggest `-- -1` for a negative value).
pub fn parse_count(s: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .map_err(|_| format!("expected a whole number ≥ 0, got {s:?}"))
}

impl DryRunArgs {
    /// `--dry-run server` (a space instead of `=`) parses as a bare `--dry-run` (client) plus a
    /// positional `server`: refuse that with the fix instead of "invalid token".
    pub fn check_detached(&self, positionals: &[&str]) -> crate::Result<()> {
        if self.dry_run != DryRun::Client {
            return Ok(());
        }
        match positionals
            .iter()
            .find(|p| matches!(**p, "none" | "client" | "server"))
        {
            Some(v) => Err(Error::usage(format!(
                "--dry-run takes its value after '=': write --dry-run={v}"
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(parse_endpoint("10.0.0.1:6443").unwrap(), "10.0.0.1:6443");
        assert_eq!(
            parse_endpoint("https://cp.example:443/").unwrap(),
            "cp.example:443"
        );
        assert_eq!(parse_endpoint("[fd00::1]:6443").unwrap(), "[fd00::1]:6443");
        for bad in ["10.0.0.1", "fd00::1:6443", ":6443", "h:0", "h:x", "a/b:1"] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }
}
