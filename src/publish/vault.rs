//! The Vault (and OpenBao) KV sink and the node-side reader: configuration resolved as the
//! Vault CLI resolves it (flags over `VAULT_*` env), TLS, the four login methods, KV mount and
//! version detection, check-and-set writes with the "newer token wins" rule, and read-back.
//!
//! We speak the HTTP API with reqwest instead of vaultrs: vaultrs has no
//! `sys/internal/ui/mounts`, no `VAULT_TLS_SERVER_NAME`, no `custom_metadata` on writes, and
//! its errors hide the status code we need to tell "sealed" from "403" from "CAS conflict".
//! One [`Settings`] resolution builds the one HTTP client every request uses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::{Method, Url};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{Decision, Existing, JoinRecord, Outcome, Sink, decide, field};
use crate::error::error_chain;
use crate::{Error, Result};

/// The Vault CLI's default address.
pub const DEFAULT_ADDR: &str = "https://127.0.0.1:8200";
/// The Vault CLI's default client timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Where Kubernetes mounts a pod's service-account token.
pub const DEFAULT_JWT_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// How often a check-and-set write is retried after losing a race.
const CAS_ATTEMPTS: u32 = 5;

/// How to log in to Vault.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// A token: --vault-token-file, VAULT_TOKEN, $CREDENTIALS_DIRECTORY/vault-token, then
    /// ~/.vault-token (a Vault Agent sink file works as --vault-token-file).
    #[default]
    Token,
    /// AppRole: role id and secret id read from files.
    Approle,
    /// Kubernetes: a service-account JWT file.
    Kubernetes,
    /// TLS certificate: --vault-client-cert/--vault-client-key (VAULT_CLIENT_CERT/KEY).
    Cert,
}

/// KV engine versions.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvVersion {
    /// KV v1: one value per path, no versions, no check-and-set.
    #[value(name = "1")]
    V1,
    /// KV v2: versioned, check-and-set, custom_metadata.
    #[value(name = "2")]
    V2,
}

/// Vault flags: each overrides the `VAULT_*` variable the Vault CLI reads.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Vault")]
pub struct VaultArgs {
    /// Vault address [env: VAULT_ADDR; default https://127.0.0.1:8200].
    #[arg(long, value_name = "URL")]
    pub vault_addr: Option<String>,
    /// Read the Vault token from this file (e.g. a Vault Agent sink) [else VAULT_TOKEN,
    /// $CREDENTIALS_DIRECTORY/vault-token, ~/.vault-token].
    #[arg(long, value_name = "PATH")]
    pub vault_token_file: Option<PathBuf>,
    /// Vault Enterprise / OpenBao namespace [env: VAULT_NAMESPACE].
    #[arg(long, value_name = "NS")]
    pub vault_namespace: Option<String>,
    /// PEM CA bundle that verifies Vault's certificate [env: VAULT_CACERT].
    #[arg(long, value_name = "PATH")]
    pub vault_cacert: Option<PathBuf>,
    /// Folder of PEM CA certificates [env: VAULT_CAPATH].
    #[arg(long, value_name = "DIR")]
    pub vault_capath: Option<PathBuf>,
    /// Client certificate (PEM) for TLS [env: VAULT_CLIENT_CERT].
    #[arg(long, value_name = "PATH")]
    pub vault_client_cert: Option<PathBuf>,
    /// Client key (PEM) for TLS [env: VAULT_CLIENT_KEY].
    #[arg(long, value_name = "PATH")]
    pub vault_client_key: Option<PathBuf>,
    /// Do not verify Vault's certificate (true/false) [env: VAULT_SKIP_VERIFY].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub vault_skip_verify: Option<String>,
    /// Name to verify Vault's certificate against [env: VAULT_TLS_SERVER_NAME].
    #[arg(long, value_name = "NAME")]
    pub vault_tls_server_name: Option<String>,
    /// Timeout of each Vault request (Go duration or seconds) [env: VAULT_CLIENT_TIMEOUT;
    /// default 60s].
    #[arg(long, value_name = "DURATION")]
    pub vault_timeout: Option<String>,
    /// How to log in.
    #[arg(long, value_enum, default_value_t = AuthMethod::Token)]
    pub vault_auth: AuthMethod,
    /// Mount path of the auth method (default: approle, kubernetes or cert).
    #[arg(long, value_name = "PATH")]
    pub vault_auth_mount: Option<String>,
    /// AppRole role id file [default: $CREDENTIALS_DIRECTORY/vault-role-id].
    #[arg(long, value_name = "PATH")]
    pub vault_role_id_file: Option<PathBuf>,
    /// AppRole secret id file [default: $CREDENTIALS_DIRECTORY/vault-secret-id].
    #[arg(long, value_name = "PATH")]
    pub vault_secret_id_file: Option<PathBuf>,
    /// Role to log in as (kubernetes: required; cert: optional certificate role name).
    #[arg(long, value_name = "NAME")]
    pub vault_role: Option<String>,
    /// Service-account JWT for kubernetes auth.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_JWT_FILE)]
    pub vault_jwt_file: PathBuf,
    /// KV mount (e.g. secret); default: found from --path through sys/internal/ui/mounts.
    #[arg(long, value_name = "MOUNT")]
    pub mount: Option<String>,
    /// Secret path inside the mount, or mount/path without --mount [env: VAULT_SECRET_PATH].
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// KV version of the mount; default: detected per mount.
    #[arg(long, value_enum, value_name = "1|2")]
    pub kv_version: Option<KvVersion>,
}

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

/// Connection settings after flags and env are merged. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Base address.
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
    /// Per-request timeout.
    pub timeout: Duration,
    /// How to log in.
    pub auth: Auth,
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

fn parse_timeout(name: &str, v: &str) -> Result<Duration> {
    if let Ok(secs) = v.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    crate::duration::parse_go(v).map_err(|e| Error::usage(format!("invalid {name} {v:?}: {e}")))
}

/// Checks a Vault address before anything uses it (a malformed URL must be a usage error,
/// never a panic deep in a client library).
pub fn parse_addr(name: &str, v: &str) -> Result<Url> {
    let bad = || {
        Error::usage(format!(
            "invalid {name} {v:?}: expected a URL such as https://vault.example.com:8200"
        ))
    };
    let url = Url::parse(v).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
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
        (None, None) => DEFAULT_TIMEOUT,
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
    let mount = |default: &str| {
        a.vault_auth_mount
            .clone()
            .unwrap_or_else(|| default.to_string())
            .trim_matches('/')
            .to_string()
    };
    let auth = match a.vault_auth {
        AuthMethod::Token => {
            let src = if let Some(f) = &a.vault_token_file {
                TokenSource::File(f.clone())
            } else if var("VAULT_TOKEN").is_some() {
                TokenSource::Env
            } else if let Some(c) = creds
                .as_ref()
                .map(|c| c.join("vault-token"))
                .filter(|p| p.exists())
            {
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
            let from_creds = |name: &str| creds.as_ref().map(|c| c.join(name));
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
            if client_cert.is_none() {
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
    };
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

/// The secret's location: `mount` and path inside it (both without outer slashes), and
/// the flag-given KV version, if any. `None` mount = detect it from the full path.
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

// ---------------------------------------------------------------------------------------------
// TLS

/// Accepts any certificate (VAULT_SKIP_VERIFY=true) but still checks handshake signatures.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end: &CertificateDer<'_>,
        _inter: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            msg,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            msg,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The verifier for an `http://` address: refuses every certificate (see `tls_config`).
#[derive(Debug)]
struct PlainHttpOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for PlainHttpOnly {
    fn verify_server_cert(
        &self,
        _end: &CertificateDer<'_>,
        _inter: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(
            "VAULT_ADDR is http://, so no certificate is trusted: use an https:// address".into(),
        ))
    }
    fn verify_tls12_signature(
        &self,
        _msg: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "no TLS for an http:// VAULT_ADDR".into(),
        ))
    }
    fn verify_tls13_signature(
        &self,
        _msg: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "no TLS for an http:// VAULT_ADDR".into(),
        ))
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Verifies the certificate against VAULT_TLS_SERVER_NAME instead of the URL's host (SNI
/// still carries the URL's host: reqwest derives it from the URL).
#[derive(Debug)]
struct Renamed {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for Renamed {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        inter: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end, inter, &self.name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(msg, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        msg: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(msg, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn read_file(action: &'static str, p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).map_err(|source| Error::Io {
        action,
        path: p.display().to_string(),
        source,
    })
}

fn pem_certs(what: &str, p: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = read_file("cannot read", p)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::usage(format!(
                "{what} {}: not a PEM certificate file: {e}",
                p.display()
            ))
        })?;
    Ok(certs)
}

/// The rustls configuration the settings ask for.
fn tls_config(s: &Settings) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_err = |e: rustls::Error| Error::usage(format!("cannot set up TLS for Vault: {e}"));
    let mut verifier: Arc<dyn ServerCertVerifier> = if s.skip_verify {
        Arc::new(NoVerify(provider.clone()))
    } else if s.ca_cert.is_some() || s.ca_path.is_some() {
        let mut roots = RootCertStore::empty();
        let mut files = Vec::new();
        if let Some(f) = &s.ca_cert {
            files.push(f.clone());
        }
        if let Some(dir) = &s.ca_path {
            let rd = std::fs::read_dir(dir).map_err(|source| Error::Io {
                action: "cannot read the CA folder",
                path: dir.display().to_string(),
                source,
            })?;
            let mut in_dir: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        }
        for f in &files {
            for c in pem_certs("Vault CA", f)? {
                roots.add(c).map_err(|e| {
                    Error::usage(format!(
                        "Vault CA {}: unusable certificate: {e}",
                        f.display()
                    ))
                })?;
            }
        }
        if roots.is_empty() {
            return Err(Error::usage(
                "VAULT_CACERT/VAULT_CAPATH hold no PEM certificate: point them at Vault's CA",
            ));
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::usage(format!("cannot use the Vault CA: {e}")))?
    } else if s.addr.scheme() == "http" {
        // A plain-HTTP address never verifies a certificate, and loading the system trust
        // store (every file in /etc/ssl/certs) costs more than all the Vault requests of a
        // publish together (docs/PERFORMANCE.md). Should a redirect lead to https after all,
        // the handshake is refused rather than trusted blindly.
        Arc::new(PlainHttpOnly(provider.clone()))
    } else {
        Arc::new(rustls_platform_verifier::Verifier::new(provider.clone()).map_err(tls_err)?)
    };
    if let Some(n) = &s.tls_server_name {
        let name = ServerName::try_from(n.clone()).map_err(|_| {
            Error::usage(format!(
                "invalid VAULT_TLS_SERVER_NAME {n:?}: expected a DNS name or IP"
            ))
        })?;
        verifier = Arc::new(Renamed {
            inner: verifier,
            name,
        });
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match (&s.client_cert, &s.client_key) {
        (Some(c), Some(k)) => {
            let certs = pem_certs("Vault client certificate", c)?;
            let key_pem = read_file("cannot read", k)?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
                Error::usage(format!(
                    "Vault client key {}: not a PEM private key",
                    k.display()
                ))
            })?;
            builder.with_client_auth_cert(certs, key).map_err(tls_err)
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

// ---------------------------------------------------------------------------------------------
// client

/// A Vault response.
struct Resp {
    status: u16,
    body: Value,
}

impl Resp {
    /// The `errors` array, joined.
    fn errors(&self) -> String {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.replace('\n', " ").trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }
}

/// A logged-in Vault client.
pub struct Vault {
    http: reqwest::Client,
    settings: Settings,
    token: Option<SecretString>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("addr", &self.settings.addr.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn read_secret_file(what: &'static str, p: &Path) -> Result<SecretString> {
    let raw = std::fs::read_to_string(p).map_err(|source| Error::Io {
        action: what,
        path: p.display().to_string(),
        source,
    })?;
    let v = raw.trim();
    if v.is_empty() {
        return Err(Error::usage(format!(
            "{} is empty: write the credential into it",
            p.display()
        )));
    }
    Ok(SecretString::from(v.to_string()))
}

/// The capability a request needs, for 403 messages.
fn capability(m: &Method) -> &'static str {
    match *m {
        Method::GET => "read",
        Method::DELETE => "delete",
        _ => "create/update",
    }
}

impl Vault {
    /// Builds the client and logs in.
    pub async fn connect(settings: Settings) -> Result<Self> {
        let tls = tls_config(&settings)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("kubectl-jointoken/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::runtime(format!(
                    "cannot build the Vault client: {}",
                    error_chain(&e)
                ))
            })?;
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

    async fn login(&mut self) -> Result<()> {
        let (mount, body) = match self.settings.auth.clone() {
            Auth::Token(TokenSource::Env) => {
                let t = std::env::var("VAULT_TOKEN").unwrap_or_default();
                self.token = Some(SecretString::from(t.trim().to_string()));
                return Ok(());
            }
            Auth::Token(TokenSource::File(p)) => {
                self.token = Some(read_secret_file("cannot read the Vault token file", &p)?);
                return Ok(());
            }
            Auth::AppRole {
                mount,
                role_id_file,
                secret_id_file,
            } => {
                let role = read_secret_file("cannot read the AppRole role id file", &role_id_file)?;
                let secret =
                    read_secret_file("cannot read the AppRole secret id file", &secret_id_file)?;
                (
                    mount,
                    json!({"role_id": role.expose_secret(), "secret_id": secret.expose_secret()}),
                )
            }
            Auth::Kubernetes {
                mount,
                role,
                jwt_file,
            } => {
                let jwt = read_secret_file("cannot read the service-account token", &jwt_file)?;
                (mount, json!({"role": role, "jwt": jwt.expose_secret()}))
            }
            Auth::Cert { mount, name } => {
                (mount, name.map(|n| json!({"name": n})).unwrap_or(json!({})))
            }
        };
        let path = format!("auth/{mount}/login");
        let r = self.send(Method::POST, &path, Some(&body)).await?;
        if r.status != 200 {
            let why = r.errors();
            return Err(Error::runtime(format!(
                "vault login at {path} failed ({}{}): check the credentials and that the auth \
                 method is enabled at {mount}/",
                r.status,
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            )));
        }
        let token = r.body["auth"]["client_token"].as_str().unwrap_or("");
        if token.is_empty() {
            return Err(Error::runtime(format!(
                "vault login at {path} returned no client token"
            )));
        }
        tracing::info!(path, "logged in to vault");
        self.token = Some(SecretString::from(token.to_string()));
        Ok(())
    }

    /// Sends one request; transport failures and a sealed Vault become errors here, every
    /// other status goes back to the caller.
    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Resp> {
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
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(&e))?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        let r = Resp { status, body };
        if status == 503 && r.errors().to_lowercase().contains("sealed") {
            return Err(Error::runtime(format!(
                "vault at {} is sealed: unseal it (vault operator unseal) and retry",
                self.addr()
            )));
        }
        tracing::debug!(status, path, "vault answered");
        Ok(r)
    }

    /// Names the real cause of a failed request: unreachable, TLS, or timeout.
    fn transport_error(&self, e: &reqwest::Error) -> Error {
        let chain = error_chain(e);
        let lower = chain.to_lowercase();
        let addr = self.addr();
        if e.is_timeout() {
            return Error::runtime(format!(
                "vault at {addr} did not answer within {}: {chain}: check the server, or raise \
                 --vault-timeout (VAULT_CLIENT_TIMEOUT)",
                crate::duration::format_go(self.settings.timeout)
            ));
        }
        if lower.contains("corrupt message") || lower.contains("invalidcontenttype") {
            return Error::runtime(format!(
                "TLS with vault at {addr} failed: the server does not speak TLS ({chain}): use \
                 http:// in VAULT_ADDR if the server really listens without TLS"
            ));
        }
        if ["certificate", "tls", "handshake", "unknownissuer", "ssl"]
            .iter()
            .any(|k| lower.contains(k))
        {
            return Error::runtime(format!(
                "TLS with vault at {addr} failed: {chain}: set VAULT_CACERT to the CA that \
                 signed Vault's certificate (or VAULT_TLS_SERVER_NAME to the name in it)"
            ));
        }
        if e.is_connect() {
            return Error::runtime(format!(
                "cannot reach vault at {addr}: {chain}: check VAULT_ADDR and that Vault is running"
            ));
        }
        Error::runtime(format!("request to vault at {addr} failed: {chain}"))
    }

    /// The error for an unexpected status.
    fn status_error(&self, r: &Resp, method: &Method, path: &str) -> Error {
        let why = r.errors();
        match r.status {
            403 => Error::runtime(format!(
                "permission denied (403) on {path}: the Vault token is invalid or its policies do \
                 not grant {} on {path}: grant it or use a token whose policy does",
                capability(method)
            )),
            s => Error::runtime(format!(
                "vault at {} answered {s} on {method} {path}{}",
                self.addr(),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            )),
        }
    }

    /// Finds the mount and its KV version (`GET sys/internal/ui/mounts/<path>`, as `vault kv`
    /// does), unless both were given.
    pub async fn locate(&self, w: &Wanted, kv: Option<KvVersion>) -> Result<Location> {
        if let (Some(m), Some(kv)) = (&w.mount, kv) {
            return Ok(Location {
                mount: m.clone(),
                rel: w.path.clone(),
                kv,
            });
        }
        let full = w.full();
        let path = format!("sys/internal/ui/mounts/{full}");
        let r = self.send(Method::GET, &path, None).await?;
        if r.status != 200 {
            return Err(Error::runtime(format!(
                "cannot find the KV mount of {full} ({} on {path}{}): check --mount/--path, or \
                 pass --mount and --kv-version when the token may not read the mount table",
                r.status,
                match r.errors() {
                    e if e.is_empty() => String::new(),
                    e => format!(": {e}"),
                }
            )));
        }
        let d = &r.body["data"];
        let mount_path = d["path"].as_str().unwrap_or("");
        let kind = d["type"].as_str().unwrap_or("");
        if !matches!(kind, "kv" | "generic") {
            return Err(Error::usage(format!(
                "{full} is in a {kind:?} mount ({mount_path}), not a KV mount: point --path at KV"
            )));
        }
        let found = match d["options"]["version"].as_str() {
            Some("2") => KvVersion::V2,
            _ => KvVersion::V1,
        };
        if let Some(k) = kv
            && k != found
        {
            return Err(Error::usage(format!(
                "wrong KV version: mount {mount_path} is KV v{} but --kv-version {} was given: \
                 drop --kv-version",
                kv_num(found),
                kv_num(k)
            )));
        }
        let (mount, rel) = split_at_mount(&full, mount_path).ok_or_else(|| {
            Error::usage(format!(
                "{full} names the mount {mount_path} itself: add the secret's path inside it"
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
            kv: found,
        })
    }

    /// Reads the record fields at `loc` (`version` for KV v2; latest when `None`); `None`
    /// when nothing is there. Returns the KV v2 version read, if any.
    pub async fn read(
        &self,
        loc: &Location,
        version: Option<u64>,
    ) -> Result<Option<(BTreeMap<String, String>, Option<u64>)>> {
        let mut path = loc.data_path();
        if let Some(v) = version {
            path.push_str(&format!("?version={v}"));
        }
        let r = self.send(Method::GET, &path, None).await?;
        match r.status {
            200 => {
                let (data, ver) = match loc.kv {
                    KvVersion::V1 => (&r.body["data"], None),
                    KvVersion::V2 => (
                        &r.body["data"]["data"],
                        r.body["data"]["metadata"]["version"].as_u64(),
                    ),
                };
                if data.is_null() {
                    return Ok(None);
                }
                Ok(Some((to_string_map(data), ver)))
            }
            404 => Ok(None),
            _ => Err(self.status_error(&r, &Method::GET, &loc.data_path())),
        }
    }

    /// The KV v2 state a check-and-set write starts from. `first_attempt`: a plain 404 is
    /// taken as "nothing there" (version 0) without reading the metadata; see below.
    async fn current_v2(&self, loc: &Location, first_attempt: bool) -> Result<Current> {
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
                let data = &r.body["data"]["data"];
                let fields = (!data.is_null()).then(|| to_string_map(data));
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
                    403 => Err(Error::runtime(format!(
                        "permission denied (403) on {mp}: publishing with check-and-set needs \
                         read on {mp} (and on {}): grant it in the writer's policy",
                        loc.data_path()
                    ))),
                    _ => Err(self.status_error(&m, &Method::GET, &mp)),
                }
            }
            _ => Err(self.status_error(&r, &Method::GET, &loc.data_path())),
        }
    }
}

fn kv_num(k: KvVersion) -> u8 {
    match k {
        KvVersion::V1 => 1,
        KvVersion::V2 => 2,
    }
}

/// Vault data as strings (non-string values as their JSON text).
fn to_string_map(v: &Value) -> BTreeMap<String, String> {
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

fn existing_from_fields(f: &BTreeMap<String, String>) -> Option<Existing> {
    Some(Existing {
        token_id: f.get(field::TOKEN_ID)?.clone(),
        expiration: f.get(field::EXPIRATION).cloned().unwrap_or_default(),
    })
}

/// What a KV v2 path holds before a write.
#[derive(Default)]
struct Current {
    /// Version a check-and-set must name (0 = absent).
    version: u64,
    /// What is published, when known.
    existing: Option<Existing>,
    /// The published fields, when readable.
    fields: Option<BTreeMap<String, String>>,
}

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
}

/// Resolves settings from the process environment.
pub fn settings_from_env(a: &VaultArgs) -> Result<Settings> {
    resolve(a, &|k| std::env::var(k).ok())
}

/// Connects, logs in and locates the secret: what `fetch` and the sink share.
pub async fn open(a: &VaultArgs) -> Result<(Vault, Location)> {
    let settings = settings_from_env(a)?;
    let w = wanted(a, &|k| std::env::var(k).ok())?;
    let vault = Vault::connect(settings).await?;
    let loc = vault.locate(&w, a.kv_version).await?;
    Ok((vault, loc))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

impl VaultSink {
    /// Logs in and finds the mount (a preflight: failures here leave nothing behind).
    pub async fn prepare(a: &VaultArgs, opts: WriteOptions) -> Result<Self> {
        let (vault, loc) = open(a).await?;
        Ok(VaultSink { vault, loc, opts })
    }

    fn fields_map(rec: &JoinRecord) -> serde_json::Map<String, Value> {
        rec.fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect()
    }

    fn same_fields(a: &BTreeMap<String, String>, rec: &JoinRecord) -> bool {
        let want: BTreeMap<String, String> = rec
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        *a == want
    }

    async fn verify(&self, rec: &JoinRecord, version: Option<u64>) -> Result<()> {
        if !self.opts.verify {
            return Ok(());
        }
        let path = self.loc.data_path();
        match self.vault.read(&self.loc, version).await {
            Ok(Some((f, _))) if Self::same_fields(&f, rec) => Ok(()),
            Ok(_) => Err(Error::runtime(format!(
                "read-back of {path} does not match what was written (another writer replaced \
                 it?): publish again"
            ))),
            Err(e) if e.to_string().contains("(403)") => Err(Error::runtime(format!(
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

    async fn publish_v1(&self, rec: &JoinRecord) -> Result<Outcome> {
        let path = self.loc.data_path();
        // A write-only policy cannot read: then the newer-token check is skipped (KV v1 has
        // no metadata to consult), which docs/VAULT.md states.
        let existing = match self.vault.read(&self.loc, None).await {
            Ok(Some((f, _))) => Some(f),
            Ok(None) => None,
            Err(e) if e.to_string().contains("(403)") => None,
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
                _ => {}
            }
        }
        let body = Value::Object(Self::fields_map(rec));
        let r = self.vault.send(Method::POST, &path, Some(&body)).await?;
        if !(200..300).contains(&r.status) {
            return Err(self.vault.status_error(&r, &Method::POST, &path));
        }
        self.verify(rec, None).await?;
        Ok(Outcome::Written(format!("{} (kv v1)", self.loc.display())))
    }

    async fn publish_v2(&self, rec: &JoinRecord) -> Result<Outcome> {
        let path = self.loc.data_path();
        for attempt in 1..=CAS_ATTEMPTS {
            let cur = self.vault.current_v2(&self.loc, attempt == 1).await?;
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
                    _ => {}
                }
            }
            test_pause();
            let body = json!({"options": {"cas": cur.version}, "data": Self::fields_map(rec)});
            let r = self.vault.send(Method::POST, &path, Some(&body)).await?;
            if r.status == 400 && r.errors().contains("check-and-set") {
                tracing::warn!(
                    path,
                    attempt,
                    "check-and-set conflict: another writer changed the secret; re-reading"
                );
                continue;
            }
            if r.status != 200 {
                return Err(self.vault.status_error(&r, &Method::POST, &path));
            }
            let version = r.body["data"]["version"].as_u64().unwrap_or(0);
            self.write_metadata(rec, version).await;
            self.verify(rec, Some(version)).await?;
            return Ok(Outcome::Written(format!(
                "{} (version {version})",
                self.loc.display()
            )));
        }
        Err(Error::runtime(format!(
            "check-and-set conflict on {path}: another writer changed it {CAS_ATTEMPTS} times in \
             a row: retry later"
        )))
    }

    /// custom_metadata: who published which token id until when. Never the secret. Failure
    /// is a warning: the data is already written and correct.
    async fn write_metadata(&self, rec: &JoinRecord, version: u64) {
        let mp = self.loc.metadata_path();
        let body = json!({"custom_metadata": {
            "token_id": rec.token.id.as_str(),
            "expiration": rec.expiration_text(),
            "cluster": self.opts.cluster,
            "writer": format!("kubectl-jointoken@{}", hostname()),
            "data_version": version.to_string(),
            "published_at": crate::token::format_expiration(jiff::Timestamp::now()),
        }});
        match self.vault.send(Method::POST, &mp, Some(&body)).await {
            Ok(r) if (200..300).contains(&r.status) => {}
            Ok(r) => tracing::warn!(
                "wrote {} but not its custom_metadata: {}",
                self.loc.display(),
                self.vault.status_error(&r, &Method::POST, &mp)
            ),
            Err(e) => tracing::warn!(
                "wrote {} but not its custom_metadata: {e}",
                self.loc.display()
            ),
        }
    }
}

/// Test seam (debug builds only): pause between reading the current version and the
/// check-and-set write, so the e2e tests can make two writers race deterministically.
fn test_pause() {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("KJT_TEST_CAS_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

impl Sink for VaultSink {
    fn name(&self) -> String {
        format!("vault {}", self.loc.display())
    }

    fn publish<'a>(&'a self, rec: &'a JoinRecord) -> BoxFuture<'a, Result<Outcome>> {
        Box::pin(async move {
            match self.loc.kv {
                KvVersion::V1 => self.publish_v1(rec).await,
                KvVersion::V2 => self.publish_v2(rec).await,
            }
        })
    }
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

    fn args() -> VaultArgs {
        VaultArgs {
            vault_jwt_file: DEFAULT_JWT_FILE.into(),
            ..Default::default()
        }
    }

    #[test]
    fn skip_verify_is_a_strict_boolean() {
        for t in ["1", "t", "T", "true", "TRUE", "True"] {
            assert!(parse_bool_strict("X", t).unwrap());
        }
        for f in ["0", "f", "F", "false", "FALSE", "False"] {
            assert!(!parse_bool_strict("X", f).unwrap());
        }
        for bad in ["", "yes", "no", " true", "2", "tRuE"] {
            let e = parse_bool_strict("VAULT_SKIP_VERIFY", bad).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string().starts_with("invalid VAULT_SKIP_VERIFY"),
                "{e}"
            );
        }
        let e = resolve(
            &args(),
            &env(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", "")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("VAULT_SKIP_VERIFY \"\""), "{e}");
        let s = resolve(
            &args(),
            &env(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", "true")]),
        )
        .unwrap();
        assert!(s.skip_verify);
        // The flag overrides the env.
        let mut a = args();
        a.vault_skip_verify = Some("false".into());
        let s = resolve(
            &a,
            &env(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", "junk")]),
        )
        .unwrap();
        assert!(!s.skip_verify);
    }

    #[test]
    fn env_is_resolved_like_the_vault_cli() {
        let s = resolve(
            &args(),
            &env(&[
                ("VAULT_ADDR", "http://127.0.0.1:8200"),
                ("VAULT_TOKEN", "s.x"),
                ("VAULT_NAMESPACE", "team/"),
                ("VAULT_CACERT", "/ca.pem"),
                ("VAULT_TLS_SERVER_NAME", "vault.internal"),
                ("VAULT_CLIENT_TIMEOUT", "5s"),
            ]),
        )
        .unwrap();
        assert_eq!(s.addr.as_str(), "http://127.0.0.1:8200/");
        assert_eq!(s.namespace.as_deref(), Some("team"));
        assert_eq!(s.ca_cert, Some(PathBuf::from("/ca.pem")));
        assert_eq!(s.tls_server_name.as_deref(), Some("vault.internal"));
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.auth, Auth::Token(TokenSource::Env));
        // Defaults as the CLI: https://127.0.0.1:8200, 60s.
        let s = resolve(&args(), &env(&[("VAULT_TOKEN", "x")])).unwrap();
        assert_eq!(s.addr.as_str(), "https://127.0.0.1:8200/");
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        // Flags override env.
        let mut a = args();
        a.vault_addr = Some("https://vault.example:8200".into());
        let s = resolve(
            &a,
            &env(&[("VAULT_ADDR", "http://other:1"), ("VAULT_TOKEN", "x")]),
        )
        .unwrap();
        assert_eq!(s.addr.host_str(), Some("vault.example"));
    }

    #[test]
    fn malformed_addresses_are_usage_errors_not_panics() {
        for bad in ["127.0.0.1:8200", "ftp://x", "http://", "::::", "vault"] {
            let e =
                resolve(&args(), &env(&[("VAULT_ADDR", bad), ("VAULT_TOKEN", "x")])).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().contains("invalid VAULT_ADDR"), "{e}");
        }
    }

    #[test]
    fn token_sources_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let creds = dir.path().join("creds");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&creds).unwrap();
        std::fs::write(home.join(".vault-token"), "h").unwrap();
        let h = home.to_str().unwrap();
        let c = creds.to_str().unwrap();
        let auth = |a: &VaultArgs, e: &[(&str, &str)]| resolve(a, &env(e)).map(|s| s.auth);
        assert_eq!(
            auth(&args(), &[("HOME", h)]).unwrap(),
            Auth::Token(TokenSource::File(home.join(".vault-token")))
        );
        std::fs::write(creds.join("vault-token"), "c").unwrap();
        assert_eq!(
            auth(&args(), &[("HOME", h), ("CREDENTIALS_DIRECTORY", c)]).unwrap(),
            Auth::Token(TokenSource::File(creds.join("vault-token")))
        );
        assert_eq!(
            auth(
                &args(),
                &[
                    ("HOME", h),
                    ("CREDENTIALS_DIRECTORY", c),
                    ("VAULT_TOKEN", "e")
                ]
            )
            .unwrap(),
            Auth::Token(TokenSource::Env)
        );
        let mut a = args();
        a.vault_token_file = Some("/run/agent/token".into());
        assert_eq!(
            auth(&a, &[("VAULT_TOKEN", "e")]).unwrap(),
            Auth::Token(TokenSource::File("/run/agent/token".into()))
        );
        let e = auth(&args(), &[("HOME", "/nonexistent")]).unwrap_err();
        assert!(e.to_string().starts_with("no Vault token"), "{e}");
    }

    #[test]
    fn login_methods_need_their_inputs() {
        let mut a = args();
        a.vault_auth = AuthMethod::Approle;
        assert!(
            resolve(&a, &env(&[]))
                .unwrap_err()
                .to_string()
                .contains("--vault-role-id-file")
        );
        let s = resolve(&a, &env(&[("CREDENTIALS_DIRECTORY", "/run/creds")])).unwrap();
        assert_eq!(
            s.auth,
            Auth::AppRole {
                mount: "approle".into(),
                role_id_file: "/run/creds/vault-role-id".into(),
                secret_id_file: "/run/creds/vault-secret-id".into()
            }
        );
        a.vault_auth = AuthMethod::Kubernetes;
        assert!(resolve(&a, &env(&[])).is_err());
        a.vault_role = Some("joiner".into());
        a.vault_auth_mount = Some("/k8s-prod/".into());
        assert_eq!(
            resolve(&a, &env(&[])).unwrap().auth,
            Auth::Kubernetes {
                mount: "k8s-prod".into(),
                role: "joiner".into(),
                jwt_file: DEFAULT_JWT_FILE.into()
            }
        );
        a.vault_auth = AuthMethod::Cert;
        a.vault_auth_mount = None;
        assert!(
            resolve(&a, &env(&[]))
                .unwrap_err()
                .to_string()
                .contains("client certificate")
        );
        let s = resolve(
            &a,
            &env(&[
                ("VAULT_CLIENT_CERT", "/c.pem"),
                ("VAULT_CLIENT_KEY", "/k.pem"),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::Cert {
                mount: "cert".into(),
                name: Some("joiner".into())
            }
        );
        let e = resolve(
            &args(),
            &env(&[("VAULT_TOKEN", "x"), ("VAULT_CLIENT_CERT", "/c.pem")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("needs its key"), "{e}");
    }

    #[test]
    fn paths_and_mounts() {
        let mut a = args();
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

    #[test]
    fn vault_debug_is_redacted() {
        let s = resolve(
            &args(),
            &env(&[("VAULT_ADDR", "http://127.0.0.1:1"), ("VAULT_TOKEN", "x")]),
        )
        .unwrap();
        let v = Vault {
            http: reqwest::Client::builder()
                .tls_backend_preconfigured(tls_config(&s).unwrap())
                .build()
                .unwrap(),
            settings: s,
            token: Some(SecretString::from("hvs.supersecret".to_string())),
        };
        assert!(!format!("{v:?}").contains("supersecret"));
    }
}
