//! The service-account credential record: what `kubeconfig --service-account --publish`
//! writes through the same sinks as a join record. It is its own kind (never a join record
//! with made-up token fields): `kind`, the service account's user name, namespace and name,
//! expiry, audiences, server, and the value itself — a whole kubeconfig (the default) or the
//! bare token (`--publish-value`).
//!
//! Read back (a renewal asking whether it is due), a record is hostile input: every field is
//! checked, and the token must agree with the fields that describe it (its JWT claims `sub`
//! and `exp`, and `aud` when audiences were asked for), so a record cannot claim a later
//! expiry than its token has and thereby stop renewals. The signature is not checked here:
//! only the apiserver can, and does, whenever the token is used.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use jiff::Timestamp;

use crate::{Error, Result};

/// The `kind` field's value.
pub const KIND: &str = "service-account-token";
/// A service account's user name starts with this; the rest is `NS:NAME`.
pub const USER_PREFIX: &str = "system:serviceaccount:";

/// Record field names, in the order they are written (documented in docs/VAULT.md).
pub mod field {
    /// Always [`super::KIND`].
    pub const KIND: &str = "kind";
    /// `system:serviceaccount:NS:NAME`: whom the token authenticates as.
    pub const USERNAME: &str = "username";
    /// The service account's namespace.
    pub const NAMESPACE: &str = "namespace";
    /// The service account's name.
    pub const SERVICE_ACCOUNT: &str = "service_account";
    /// RFC 3339 UTC expiry of the token.
    pub const EXPIRATION: &str = "expiration";
    /// The token's audiences, comma-separated (empty: the apiserver's default).
    pub const AUDIENCES: &str = "audiences";
    /// The apiserver URL the kubeconfig points at.
    pub const SERVER: &str = "server";
    /// The kubeconfig (with `--publish-value kubeconfig`).
    pub const KUBECONFIG: &str = "kubeconfig";
    /// The bare token (with `--publish-value token`).
    pub const TOKEN: &str = "token";
}

/// What a service-account record carries as its value.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PublishValue {
    /// A kubeconfig (server, CA, token; namespace set): `kubectl --kubeconfig` reads it.
    #[default]
    Kubeconfig,
    /// The bare token, for tools that take a bearer token.
    Token,
}

/// A service account's short-lived token and where it works. Debug is redacted: the token
/// and the kubeconfig carry the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SaRecord {
    /// Namespace of the service account.
    pub namespace: String,
    /// Name of the service account.
    pub service_account: String,
    /// When the token expires (from the TokenRequest answer).
    pub expiration: Timestamp,
    /// Audiences asked for (empty: the apiserver's).
    pub audiences: Vec<String>,
    /// `https://host:port` of the apiserver.
    pub server: String,
    /// The token (a JWT).
    pub token: String,
    /// The kubeconfig text, when it is the published value.
    pub kubeconfig: Option<String>,
}

impl fmt::Debug for SaRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaRecord")
            .field("username", &self.username())
            .field("expiration", &self.expiration)
            .field("audiences", &self.audiences)
            .field("server", &self.server)
            .field("token", &"<redacted>")
            .field(
                "kubeconfig",
                &self.kubeconfig.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Namespace and service-account names: DNS-1123 subdomains (what the apiserver accepts).
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// An audience that every format can carry unquoted and no shell reads as syntax: URL-ish
/// characters only, no comma (the field's separator).
pub fn valid_audience(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b':' | b'/' | b'.' | b'_' | b'-' | b'~' | b'%' | b'@' | b'+' | b'='
                )
        })
}

/// A JWT's shape: three non-empty base64url segments (the header and payload must decode).
fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    let parts: Vec<&str> = token.split('.').collect();
    let b64url = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if parts.len() != 3 || !parts.iter().all(|p| b64url(p)) {
        return None;
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()?;
    serde_json::from_slice(&payload).ok()
}

/// An `https://host[:port]` URL without credentials, path, query or quoting characters.
fn valid_server(s: &str) -> bool {
    !s.bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b"'\"`$\\;".contains(&b))
        && reqwest::Url::parse(s).is_ok_and(|u| {
            u.scheme() == "https"
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none()
                && u.path() == "/"
        })
        && !s.ends_with('/')
}

impl SaRecord {
    /// `system:serviceaccount:NS:NAME`.
    pub fn username(&self) -> String {
        format!("{USER_PREFIX}{}:{}", self.namespace, self.service_account)
    }

    /// Which value the record carries.
    pub fn value(&self) -> PublishValue {
        if self.kubeconfig.is_some() {
            PublishValue::Kubeconfig
        } else {
            PublishValue::Token
        }
    }

    /// Parses a published record back, checking every field and that the token agrees with
    /// them. `what` names the place. Errors name the field, never the token.
    pub fn from_fields(map: &BTreeMap<String, String>, what: &str) -> Result<Self> {
        let get = |k: &str| map.get(k).map(String::as_str);
        let bad =
            |msg: String| Error::runtime(format!("{what} is not a service-account record: {msg}"));
        let need = |k: &str| get(k).ok_or_else(|| bad(format!("field {k} is missing")));
        if need(field::KIND)? != KIND {
            return Err(bad(format!("field {} is not {KIND:?}", field::KIND)));
        }
        let namespace = need(field::NAMESPACE)?;
        let service_account = need(field::SERVICE_ACCOUNT)?;
        for (k, v) in [
            (field::NAMESPACE, namespace),
            (field::SERVICE_ACCOUNT, service_account),
        ] {
            if !valid_name(v) {
                return Err(bad(format!("field {k} {v:?} is not a Kubernetes name")));
            }
        }
        let username = format!("{USER_PREFIX}{namespace}:{service_account}");
        if need(field::USERNAME)? != username {
            return Err(bad(format!(
                "field {} does not match namespace and service_account",
                field::USERNAME
            )));
        }
        let exp_text = need(field::EXPIRATION)?;
        let expiration = crate::token::parse_expiration(exp_text).ok_or_else(|| {
            bad(format!(
                "field {} {exp_text:?} is not an RFC 3339 time",
                field::EXPIRATION
            ))
        })?;
        let audiences: Vec<String> = need(field::AUDIENCES)?
            .split(',')
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect();
        if !audiences.iter().all(|a| valid_audience(a)) {
            return Err(bad(format!(
                "field {} holds an audience with characters outside [A-Za-z0-9:/._~%@+=-]",
                field::AUDIENCES
            )));
        }
        let server = need(field::SERVER)?;
        if !valid_server(server) {
            return Err(bad(format!(
                "field {} {server:?} is not https://HOST[:PORT]",
                field::SERVER
            )));
        }
        let (token, kubeconfig) = match (get(field::KUBECONFIG), get(field::TOKEN)) {
            (Some(kc), None) => (token_of_kubeconfig(kc, server).map_err(bad)?, Some(kc)),
            (None, Some(t)) => (t.to_string(), None),
            _ => {
                return Err(bad(format!(
                    "it must hold exactly one of the fields {} and {}",
                    field::KUBECONFIG,
                    field::TOKEN
                )));
            }
        };
        let claims = jwt_claims(&token).ok_or_else(|| {
            bad("its token is not a JWT (three base64url parts with a JSON payload)".into())
        })?;
        if claims["sub"].as_str() != Some(username.as_str()) {
            return Err(bad(format!(
                "its token's subject is not {username} (field {})",
                field::USERNAME
            )));
        }
        if claims["exp"].as_i64() != Some(expiration.as_second()) {
            return Err(bad(format!(
                "its token expires at another time than field {} says",
                field::EXPIRATION
            )));
        }
        if !audiences.is_empty() {
            let aud: Vec<&str> = match &claims["aud"] {
                serde_json::Value::String(s) => vec![s.as_str()],
                serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
                _ => Vec::new(),
            };
            if !audiences.iter().all(|a| aud.contains(&a.as_str())) {
                return Err(bad(format!(
                    "its token's audiences differ from field {}",
                    field::AUDIENCES
                )));
            }
        }
        Ok(SaRecord {
            namespace: namespace.to_string(),
            service_account: service_account.to_string(),
            expiration,
            audiences,
            server: server.to_string(),
            token,
            kubeconfig: kubeconfig.map(String::from),
        })
    }
}

/// The token in a published kubeconfig, which must point at `server` with one user holding
/// a token. Parse errors are not repeated (the text holds the secret).
fn token_of_kubeconfig(kc: &str, server: &str) -> std::result::Result<String, String> {
    let v: serde_json::Value = serde_saphyr::from_str(kc)
        .map_err(|_| format!("field {} is not YAML", field::KUBECONFIG))?;
    let one = |k: &str| {
        v[k].as_array()
            .filter(|a| a.len() == 1)
            .map(|a| a[0].clone())
            .ok_or_else(|| format!("field {} must hold exactly one of {k}", field::KUBECONFIG))
    };
    let cluster = one("clusters")?;
    if cluster["cluster"]["server"].as_str() != Some(server) {
        return Err(format!(
            "field {} points at another server than field {}",
            field::KUBECONFIG,
            field::SERVER
        ));
    }
    one("users")?["user"]["token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("field {} has no user token", field::KUBECONFIG))
}

impl super::Record for SaRecord {
    fn id(&self) -> String {
        self.username()
    }
    fn kind(&self) -> &'static str {
        "service account"
    }
    fn expiration_text(&self) -> String {
        crate::token::format_expiration(self.expiration)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (field::KIND, KIND.to_string()),
            (field::USERNAME, self.username()),
            (field::NAMESPACE, self.namespace.clone()),
            (field::SERVICE_ACCOUNT, self.service_account.clone()),
            (field::EXPIRATION, self.expiration_text()),
            (field::AUDIENCES, self.audiences.join(",")),
            (field::SERVER, self.server.clone()),
        ];
        match &self.kubeconfig {
            Some(kc) => v.push((field::KUBECONFIG, kc.clone())),
            None => v.push((field::TOKEN, self.token.clone())),
        }
        v
    }
    fn multi_line_fields(&self) -> &'static [&'static str] {
        &[field::KUBECONFIG]
    }
    fn secrets(&self) -> Vec<String> {
        vec![self.token.clone()]
    }
    fn primary_text(&self) -> String {
        match &self.kubeconfig {
            Some(kc) => kc.clone(),
            None => format!("{}\n", self.token),
        }
    }
}

/// When a renewal is due: the published record's expiry minus the margin.
pub fn due_at(expiration: Timestamp, margin: std::time::Duration) -> Timestamp {
    expiration
        .checked_sub(jiff::SignedDuration::try_from(margin).unwrap_or(jiff::SignedDuration::MAX))
        .unwrap_or(Timestamp::MIN)
}

/// What a renewal run found at its sinks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Renewal {
    /// Request and publish a new token; the reason says why (for stderr).
    Due(String),
    /// Every sink that can be read holds a valid record for this service account that is
    /// not yet due; `(sink, expiration, due at)` of the earliest.
    NotDue {
        /// The sink whose record is due first.
        sink: String,
        /// Its expiry.
        expiration: Timestamp,
        /// When it becomes due.
        due: Timestamp,
    },
}

/// Decides whether a renewal is due, from what each sink holds now (`None`: nothing there,
/// or the sink cannot be read back). Due when any readable sink lacks a valid, unexpired
/// record of `username` that stays valid past `now + margin`, or when no sink can be read
/// at all (then nothing vouches for the published token). Records are validated as hostile
/// input first: one whose token disagrees with its fields counts as missing.
pub fn renewal(
    current: &[(String, Option<BTreeMap<String, String>>)],
    username: &str,
    margin: std::time::Duration,
    now: Timestamp,
) -> Renewal {
    let mut earliest: Option<(String, Timestamp)> = None;
    for (sink, fields) in current {
        let Some(f) = fields else {
            return Renewal::Due(format!("{sink} holds no record"));
        };
        let rec = match SaRecord::from_fields(f, sink) {
            Ok(r) => r,
            Err(e) => return Renewal::Due(e.to_string()),
        };
        if rec.username() != username {
            return Renewal::Due(format!("{sink} holds a record of {}", rec.username()));
        }
        if due_at(rec.expiration, margin) <= now {
            return Renewal::Due(format!(
                "{sink} holds a token expiring at {}",
                crate::token::format_expiration(rec.expiration)
            ));
        }
        if earliest.as_ref().is_none_or(|(_, e)| rec.expiration < *e) {
            earliest = Some((sink.clone(), rec.expiration));
        }
    }
    match earliest {
        Some((sink, expiration)) => Renewal::NotDue {
            sink,
            expiration,
            due: due_at(expiration, margin),
        },
        None => Renewal::Due("no sink can be read back".into()),
    }
}

#[cfg(test)]
#[path = "sa_tests.rs"]
pub(crate) mod tests;
