//! The Vault command-line flags (shared by `publish`, `create --publish` and `fetch`) and the
//! defaults the Vault CLI uses. Each flag overrides the `VAULT_*` variable of the same
//! meaning; the merging itself lives in [`super::config`].

use std::path::PathBuf;
use std::time::Duration;

/// The Vault CLI's default address.
pub const DEFAULT_ADDR: &str = "https://127.0.0.1:8200";
/// The Vault CLI's default client timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Where Kubernetes mounts a pod's service-account token.
pub const DEFAULT_JWT_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

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

impl KvVersion {
    /// The version number, for messages.
    pub fn number(self) -> u8 {
        match self {
            KvVersion::V1 => 1,
            KvVersion::V2 => 2,
        }
    }
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
    /// Timeout of each Vault request (Go duration or seconds; 0 = none) [env:
    /// VAULT_CLIENT_TIMEOUT; default 60s].
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
