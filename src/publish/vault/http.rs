//! The one HTTP client every Vault request goes through: it carries the token and namespace
//! headers, follows redirects only within Vault's own origin, and turns every answer into
//! either a [`Resp`] or a typed [`VaultError`] (transport failures by type; sealed, 403 and
//! redirects by status and response structure).

use std::sync::Once;
use std::time::Duration;

use reqwest::{Method, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::config::Settings;
use super::error::{VaultError, VaultResult};
use super::tls::{TlsFailure, tls_config, tls_failure};
use crate::error::error_chain;
use crate::{Error, Result};

/// Redirects followed within Vault's own origin (e.g. a path normalised by a proxy).
const MAX_SAME_ORIGIN_REDIRECTS: usize = 5;
/// Cap on connecting, also when the request timeout is off (`0`): a dead address should fail
/// in seconds, as kubectl's dialer does.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A Vault response.
#[derive(Debug)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// The JSON body (`Null` when empty or not JSON).
    pub body: Value,
}

impl Resp {
    /// Parses a body: anything that is not JSON becomes `Null` (Vault's errors are JSON;
    /// a proxy's HTML error page is not worth failing on twice).
    pub fn new(status: u16, bytes: &[u8]) -> Self {
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(bytes).unwrap_or(Value::Null)
        };
        Resp { status, body }
    }

    /// The `errors` array, joined on one line.
    pub fn errors(&self) -> String {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.replace(['\n', '\r'], " ").trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }
}

/// A logged-in Vault client.
pub struct Vault {
    pub(super) http: reqwest::Client,
    pub(super) settings: Settings,
    pub(super) token: Option<SecretString>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("addr", &self.settings.addr.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The capability a request needs, for 403 messages.
fn capability(m: &Method) -> &'static str {
    match *m {
        Method::GET => "read",
        Method::DELETE => "delete",
        _ => "create/update",
    }
}

/// `scheme://host:port` of a URL: what a redirect error may show (never a path, a query or
/// user information, which may hold credentials).
pub(super) fn origin(u: &Url) -> String {
    u.origin().ascii_serialization()
}

/// Follows a redirect only while it stays on the origin of the first request: reqwest drops
/// the token header on a cross-origin hop, but not the body, which holds the join record.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same && attempt.previous().len() <= MAX_SAME_ORIGIN_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Builds the HTTP client the settings describe.
pub(super) fn client(settings: &Settings) -> Result<reqwest::Client> {
    let tls = tls_config(settings)?;
    let mut b = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(redirect_policy())
        .connect_timeout(
            settings
                .timeout
                .map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT)),
        )
        .user_agent(concat!("kubectl-jointoken/", env!("CARGO_PKG_VERSION")));
    if let Some(t) = settings.timeout {
        b = b.timeout(t);
    }
    b.build().map_err(|e| {
        Error::runtime(format!(
            "cannot build the Vault client: {}",
            error_chain(&e)
        ))
    })
}

/// Warns once per process when the connection cannot tell Vault from an impostor.
fn warn_if_unverified(settings: &Settings) {
    static WARNED: Once = Once::new();
    if let Some(why) = settings.unverified_reason() {
        WARNED.call_once(|| tracing::warn!("{why}"));
    }
}

impl Vault {
    /// Builds the client and logs in.
    pub async fn connect(settings: Settings) -> Result<Self> {
        let http = client(&settings)?;
        warn_if_unverified(&settings);
        let mut v = Vault {
            http,
            settings,
            token: None,
        };
        v.login().await?;
        Ok(v)
    }

    /// The address, for messages.
    pub fn addr(&self) -> &str {
        self.settings.addr.as_str().trim_end_matches('/')
    }

    /// Sends one request and reads the whole answer. Transport failures, redirects that were
    /// not followed and a sealed Vault become errors here; every other status goes back to
    /// the caller.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> VaultResult<Resp> {
        let r = self.send_raw(method.clone(), path, body).await?;
        if r.status == 503 && self.is_sealed().await {
            return Err(VaultError::Sealed {
                addr: self.addr().to_string(),
            });
        }
        Ok(r)
    }

    /// Whether Vault says it is sealed (`sys/seal-status` answers even then, without a token).
    async fn is_sealed(&self) -> bool {
        match self.send_raw(Method::GET, "sys/seal-status", None).await {
            Ok(r) => r.body["sealed"].as_bool() == Some(true),
            Err(_) => false,
        }
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> VaultResult<Resp> {
        let url = format!("{}/v1/{path}", self.addr());
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header("X-Vault-Request", "true");
        if let Some(ns) = &self.settings.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(t) = &self.token {
            let mut v =
                reqwest::header::HeaderValue::from_str(t.expose_secret()).map_err(|_| {
                    Error::usage("the Vault token holds characters a header cannot carry")
                })?;
            v.set_sensitive(true);
            req = req.header("X-Vault-Token", v);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        tracing::debug!(%method, path, "vault request");
        let resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| resp.url().join(l).ok())
                .map(|u| origin(&u))
                .unwrap_or_else(|| "an unreadable Location".into());
            return Err(VaultError::Redirect {
                addr: self.addr().to_string(),
                method: method.to_string(),
                path: path.to_string(),
                location,
            });
        }
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(&e))?;
        tracing::debug!(status = status.as_u16(), path, "vault answered");
        Ok(Resp::new(status.as_u16(), &bytes))
    }

    /// Names the real cause of a failed request, from the error's kind and types.
    fn transport_error(&self, e: &reqwest::Error) -> VaultError {
        let chain = error_chain(e);
        let addr = self.addr().to_string();
        // A failure while connecting means the request never left; anything later may have
        // reached Vault.
        let sent = !e.is_connect();
        if e.is_timeout() {
            return VaultError::Timeout {
                addr,
                // Connecting has its own, shorter limit (the only one when the timeout is 0).
                timeout: crate::duration::format_go(match self.settings.timeout {
                    Some(t) if !e.is_connect() => t,
                    t => t.map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT)),
                }),
                chain,
                sent,
            };
        }
        match tls_failure(e) {
            Some(TlsFailure::NotTls) => return VaultError::NotTls { addr, chain },
            Some(TlsFailure::Other) => return VaultError::Tls { addr, chain },
            None => {}
        }
        if e.is_connect() {
            return VaultError::Connect { addr, chain };
        }
        VaultError::Transport { addr, chain, sent }
    }

    /// The error for an unexpected status.
    pub fn status_error(&self, r: &Resp, method: &Method, path: &str) -> VaultError {
        match r.status {
            403 => VaultError::Forbidden {
                path: path.to_string(),
                capability: capability(method),
            },
            s => VaultError::Status {
                addr: self.addr().to_string(),
                status: s,
                method: method.to_string(),
                path: path.to_string(),
                why: match r.errors() {
                    e if e.is_empty() => String::new(),
                    e => format!(": {e}"),
                },
            },
        }
    }

    /// Tells a refused token from a policy that lacks a path: after a 403, asks Vault about
    /// the token itself (`auth/token/lookup-self`, which every token's default policy
    /// allows). Other errors pass unchanged.
    pub async fn explain(&self, e: VaultError) -> VaultError {
        if !matches!(e, VaultError::Forbidden { .. }) {
            return e;
        }
        match self.send(Method::GET, "auth/token/lookup-self", None).await {
            Ok(r) if r.status == 403 => VaultError::TokenRefused {
                token: self.settings.auth.token_name(),
                addr: self.addr().to_string(),
            },
            _ => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_errors() {
        let r = Resp::new(400, br#"{"errors":["a\nb", "", "c"]}"#);
        assert_eq!(r.errors(), "a b; c");
        assert_eq!(
            Resp::new(502, b"<html>bad gateway</html>").body,
            Value::Null
        );
        assert_eq!(Resp::new(204, b"").body, Value::Null);
        assert_eq!(Resp::new(200, br#"{"errors":"nope"}"#).errors(), "");
    }

    #[test]
    fn origins_never_show_paths_queries_or_users() {
        let u = Url::parse("https://user:pw@evil.example:8443/v1/x?token=abc#f").unwrap();
        assert_eq!(origin(&u), "https://evil.example:8443");
    }

    #[test]
    fn vault_debug_is_redacted() {
        let s =
            crate::publish::vault::resolve(&crate::publish::vault::VaultArgs::default(), &|k| {
                match k {
                    "VAULT_ADDR" => Some("http://127.0.0.1:1".into()),
                    "VAULT_TOKEN" => Some("x".into()),
                    _ => None,
                }
            })
            .unwrap();
        let v = Vault {
            http: client(&s).unwrap(),
            settings: s,
            token: Some(SecretString::from("hvs.supersecret".to_string())),
        };
        assert!(!format!("{v:?}").contains("supersecret"));
    }
}
