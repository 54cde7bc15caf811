//! Connection settings resolved as the Vault CLI resolves them: flags over `VAULT_*`
//! variables over the CLI's defaults, with strict parsing (a nonsense `VAULT_SKIP_VERIFY` or
//! an address with a path is a usage error, never a silent guess), and the one warning a run
//! prints when it talks to Vault without verifying who answers.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;

use super::args::{AuthMethod, DEFAULT_ADDR, DEFAULT_TIMEOUT, VaultArgs};
use crate::{Error, Result};

/// Where the token for token auth comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// VAULT_TOKEN (the value is read again at login, never stored here).
    Env,
    /// A file: --vault-token-file, a systemd credential or ~/.vault-token.
    File(PathBuf),
}

/// Resolved login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Token auth.
    Token(TokenSource),
    /// AppRole login.
    AppRole {
        /// Auth mount.
        mount: String,
        /// Role id file.
        role_id_file: PathBuf,
        /// Secret id file.
        secret_id_file: PathBuf,
    },
    /// Kubernetes login.
    Kubernetes {
        /// Auth mount.
        mount: String,
        /// Vault role.
        role: String,
        /// JWT file.
        jwt_file: PathBuf,
    },
    /// TLS certificate login.
    Cert {
        /// Auth mount.
        mount: String,
        /// Optional certificate role name.
        name: Option<String>,
    },
}

impl Auth {
    /// Names the token this login uses, for "was refused" messages (never its value).
    pub fn token_name(&self) -> String {
        match self {
            Auth::Token(TokenSource::Env) => "VAULT_TOKEN".into(),
            Auth::Token(TokenSource::File(p)) => format!("the Vault token in {}", p.display()),
            Auth::AppRole { mount, .. }
            | Auth::Kubernetes { mount, .. }
            | Auth::Cert { mount, .. } => {
                format!("the token from the login at auth/{mount}")
            }
        }
    }
}

/// Connection settings after flags and env are merged. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Base address: scheme, host and port only.
    pub addr: Url,
    /// Namespace header.
    pub namespace: Option<String>,
    /// CA bundle file.
    pub ca_cert: Option<PathBuf>,
    /// CA folder.
    pub ca_path: Option<PathBuf>,
    /// Client certificate.
    pub client_cert: Option<PathBuf>,
    /// Client key.
    pub client_key: Option<PathBuf>,
    /// Skip certificate verification.
    pub skip_verify: bool,
    /// Name to verify the certificate against.
    pub tls_server_name: Option<String>,
    /// Per-request timeout; `None` = no limit (`0`, as kubectl's `--request-timeout 0`).
    pub timeout: Option<Duration>,
    /// How to log in.
    pub auth: Auth,
}

impl Settings {
    /// Why this connection cannot tell a real Vault from an impostor, if it cannot: the run
    /// then warns once. Plain HTTP to a loopback address is the dev-server setup and stays
    /// quiet (nothing crosses a network).
    pub fn unverified_reason(&self) -> Option<String> {
        if self.skip_verify && self.addr.scheme() == "https" {
            return Some(
                "Vault's certificate is not verified (VAULT_SKIP_VERIFY): anyone on the path can \
                 read the Vault token and the join record"
                    .into(),
            );
        }
        if self.addr.scheme() == "http" && !is_loopback(&self.addr) {
            return Some(format!(
                "{} is plain http to a host that is not loopback: the Vault token and the join \
                 record travel unencrypted; use https://",
                self.addr.as_str().trim_end_matches('/')
            ));
        }
        None
    }
}

fn is_loopback(u: &Url) -> bool {
    let host = u.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Parses a boolean as Go's `strconv.ParseBool` (what the Vault CLI uses): anything else,
/// including an empty value, is an error rather than a silent "skip verification".
pub fn parse_bool_strict(name: &str, v: &str) -> Result<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(Error::usage(format!(
            "invalid {name} {other:?}: expected true or false (or 1/0)"
        ))),
    }
}

/// A timeout; zero means none, as for kubectl's `--request-timeout` (reqwest would instead
/// fail every request at once).
fn parse_timeout(name: &str, v: &str) -> Result<Option<Duration>> {
    let d = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => crate::duration::parse_go(v)
            .map_err(|e| Error::usage(format!("invalid {name} {v:?}: {e}")))?,
    };
    Ok((!d.is_zero()).then_some(d))
}

/// Checks a Vault address before anything uses it: a malformed URL must be a usage error,
/// never a panic deep in a client library. A path would be silently dropped by every request
/// (they all go to `/v1/…`), and user:password would end up in error messages, so both are
/// refused; the refusal never repeats the value, which may hold that password.
pub fn parse_addr(name: &str, v: &str) -> Result<Url> {
    let bad = || {
        Error::usage(format!(
            "invalid {name}: expected a URL such as https://vault.example.com:8200"
        ))
    };
    let url = Url::parse(v).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::usage(format!(
            "{name} must not hold a user name or password: pass the credential with \
             VAULT_TOKEN or --vault-auth instead"
        )));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::usage(format!(
            "{name} must be scheme://host:port without a path: put the KV mount and path into \
             --mount/--path instead"
        )));
    }
    Ok(url)
}

/// Merges flags over the environment (`env` is `std::env::var` in production, a map in tests).
pub fn resolve(a: &VaultArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
    // The Vault CLI treats an empty variable as unset, except VAULT_SKIP_VERIFY (see below).
    let var = |k: &str| env(k).filter(|v| !v.is_empty());
    let addr = match (&a.vault_addr, var("VAULT_ADDR")) {
        (Some(f), _) => parse_addr("--vault-addr", f)?,
        (None, Some(e)) => parse_addr("VAULT_ADDR", &e)?,
        (None, None) => parse_addr("default address", DEFAULT_ADDR)?,
    };
    let skip_verify = match (&a.vault_skip_verify, env("VAULT_SKIP_VERIFY")) {
        (Some(f), _) => parse_bool_strict("--vault-skip-verify", f)?,
        // Set but empty is a mistake worth reporting: it is not "true".
        (None, Some(e)) => parse_bool_strict("VAULT_SKIP_VERIFY", &e)?,
        (None, None) => false,
    };
    let timeout = match (&a.vault_timeout, var("VAULT_CLIENT_TIMEOUT")) {
        (Some(f), _) => parse_timeout("--vault-timeout", f)?,
        (None, Some(e)) => parse_timeout("VAULT_CLIENT_TIMEOUT", &e)?,
        (None, None) => Some(DEFAULT_TIMEOUT),
    };
    let path = |flag: &Option<PathBuf>, k: &str| flag.clone().or_else(|| var(k).map(PathBuf::from));
    let client_cert = path(&a.vault_client_cert, "VAULT_CLIENT_CERT");
    let client_key = path(&a.vault_client_key, "VAULT_CLIENT_KEY");
    if client_cert.is_some() != client_key.is_some() {
        return Err(Error::usage(
            "a Vault client certificate needs its key and the other way round: set both \
             --vault-client-cert and --vault-client-key (or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)",
        ));
    }
    let creds = var("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    let auth = resolve_auth(a, &var, creds.as_deref(), client_cert.is_some())?;
    Ok(Settings {
        addr,
        namespace: a
            .vault_namespace
            .clone()
            .or_else(|| var("VAULT_NAMESPACE"))
            .map(|n| n.trim_matches('/').to_string()),
        ca_cert: path(&a.vault_cacert, "VAULT_CACERT"),
        ca_path: path(&a.vault_capath, "VAULT_CAPATH"),
        client_cert,
        client_key,
        skip_verify,
        tls_server_name: a
            .vault_tls_server_name
            .clone()
            .or_else(|| var("VAULT_TLS_SERVER_NAME")),
        timeout,
        auth,
    })
}

fn resolve_auth(
    a: &VaultArgs,
    var: &dyn Fn(&str) -> Option<String>,
    creds: Option<&Path>,
    has_client_cert: bool,
) -> Result<Auth> {
    let mount = |default: &str| {
        a.vault_auth_mount
            .clone()
            .unwrap_or_else(|| default.to_string())
            .trim_matches('/')
            .to_string()
    };
    Ok(match a.vault_auth {
        AuthMethod::Token => {
            let src = if let Some(f) = &a.vault_token_file {
                TokenSource::File(f.clone())
            } else if var("VAULT_TOKEN").is_some() {
                TokenSource::Env
            } else if let Some(c) = creds.map(|c| c.join("vault-token")).filter(|p| p.exists()) {
                TokenSource::File(c)
            } else if let Some(h) = var("HOME")
                .map(|h| Path::new(&h).join(".vault-token"))
                .filter(|p| p.exists())
            {
                TokenSource::File(h)
            } else {
                return Err(Error::usage(
                    "no Vault token: set VAULT_TOKEN, pass --vault-token-file, use a systemd \
                     credential named vault-token, run `vault login` (~/.vault-token), or pick \
                     another --vault-auth",
                ));
            };
            Auth::Token(src)
        }
        AuthMethod::Approle => {
            let from_creds = |name: &str| creds.map(|c| c.join(name));
            let role_id_file = a
                .vault_role_id_file
                .clone()
                .or_else(|| from_creds("vault-role-id"));
            let secret_id_file = a
                .vault_secret_id_file
                .clone()
                .or_else(|| from_creds("vault-secret-id"));
            match (role_id_file, secret_id_file) {
                (Some(role_id_file), Some(secret_id_file)) => Auth::AppRole {
                    mount: mount("approle"),
                    role_id_file,
                    secret_id_file,
                },
                _ => {
                    return Err(Error::usage(
                        "--vault-auth approle needs --vault-role-id-file and \
                         --vault-secret-id-file (or systemd credentials vault-role-id and \
                         vault-secret-id)",
                    ));
                }
            }
        }
        AuthMethod::Kubernetes => Auth::Kubernetes {
            mount: mount("kubernetes"),
            role: a.vault_role.clone().ok_or_else(|| {
                Error::usage(
                    "--vault-auth kubernetes needs --vault-role: the Vault role to log in as",
                )
            })?,
            jwt_file: a.vault_jwt_file.clone(),
        },
        AuthMethod::Cert => {
            if !has_client_cert {
                return Err(Error::usage(
                    "--vault-auth cert needs a client certificate: pass --vault-client-cert and \
                     --vault-client-key (or set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY)",
                ));
            }
            Auth::Cert {
                mount: mount("cert"),
                name: a.vault_role.clone(),
            }
        }
    })
}

/// Resolves settings from the process environment.
pub fn settings_from_env(a: &VaultArgs) -> Result<Settings> {
    resolve(a, &|k| std::env::var(k).ok())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
