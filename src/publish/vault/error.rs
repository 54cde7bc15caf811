//! The Vault client's typed errors. Every failure is classified once, where it happens, from
//! the status code, the response structure or the transport error's type — never by matching
//! message text — so callers can act on a kind (tolerate a 403, retry a check-and-set
//! conflict, read back after a timeout). At the module's boundary each becomes a
//! [`crate::Error`] with a one-line message; none carries a token or a record's secret.

/// What went wrong talking to Vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Vault answered 503 and `sys/seal-status` says it is sealed.
    #[error("vault at {addr} is sealed: unseal it (vault operator unseal) and retry")]
    Sealed {
        /// Vault's address.
        addr: String,
    },
    /// 403 on a request. Where the token was checked ([`super::Vault::explain`]) it is
    /// valid and only its policies fall short; elsewhere it may be either.
    #[error(
        "permission denied (403) on {path}: the Vault token is invalid or its policies do not \
         grant {capability} on {path}: grant it or use a token whose policy does"
    )]
    Forbidden {
        /// API path.
        path: String,
        /// The capability the request needs.
        capability: &'static str,
    },
    /// 403, and `auth/token/lookup-self` refuses the token too: the token is wrong, expired
    /// or revoked, not merely short of a policy.
    #[error(
        "{token} was refused (403) by {addr}: it is wrong, expired or revoked: set a valid \
         token (or log in again)"
    )]
    TokenRefused {
        /// Names where the token came from (`VAULT_TOKEN`, a file), never its value.
        token: String,
        /// Vault's address.
        addr: String,
    },
    /// A KV v2 check-and-set write named a version that is no longer current.
    #[error("check-and-set conflict on {path}: another writer changed it")]
    CasMismatch {
        /// API path.
        path: String,
    },
    /// Vault answered a redirect to another origin, which is not followed: the request
    /// carries the Vault token (header) and the join record (body).
    #[error(
        "vault at {addr} redirected {method} {path} to {location}: not followed, as it would \
         carry the Vault token to another server: set VAULT_ADDR to the server that answers"
    )]
    Redirect {
        /// Vault's address.
        addr: String,
        /// Request method.
        method: String,
        /// API path.
        path: String,
        /// The redirect target's origin (scheme://host:port; no path, query or user).
        location: String,
    },
    /// Any other unexpected status.
    #[error("vault at {addr} answered {status} on {method} {path}{why}")]
    Status {
        /// Vault's address.
        addr: String,
        /// HTTP status.
        status: u16,
        /// Request method.
        method: String,
        /// API path.
        path: String,
        /// `": "` + Vault's `errors`, or empty.
        why: String,
    },
    /// No answer within the client timeout.
    #[error(
        "vault at {addr} did not answer within {timeout}: {chain}: check the server, or raise \
         --vault-timeout (VAULT_CLIENT_TIMEOUT)"
    )]
    Timeout {
        /// Vault's address.
        addr: String,
        /// The timeout, as a Go duration.
        timeout: String,
        /// The transport error's chain.
        chain: String,
        /// Whether the request may have reached Vault (the connection was up).
        sent: bool,
    },
    /// The server at an `https://` address does not speak TLS.
    #[error(
        "TLS with vault at {addr} failed: the server does not speak TLS ({chain}): use http:// \
         in VAULT_ADDR if the server really listens without TLS"
    )]
    NotTls {
        /// Vault's address.
        addr: String,
        /// The transport error's chain.
        chain: String,
    },
    /// Any other TLS failure (untrusted or mismatched certificate, refused handshake).
    #[error(
        "TLS with vault at {addr} failed: {chain}: set VAULT_CACERT to the CA that signed \
         Vault's certificate (or VAULT_TLS_SERVER_NAME to the name in it)"
    )]
    Tls {
        /// Vault's address.
        addr: String,
        /// The transport error's chain.
        chain: String,
    },
    /// No connection could be made.
    #[error("cannot reach vault at {addr}: {chain}: check VAULT_ADDR and that Vault is running")]
    Connect {
        /// Vault's address.
        addr: String,
        /// The transport error's chain.
        chain: String,
    },
    /// The connection failed after it was made (reset, closed mid-answer).
    #[error("request to vault at {addr} failed: {chain}")]
    Transport {
        /// Vault's address.
        addr: String,
        /// The transport error's chain.
        chain: String,
        /// Whether the request may have reached Vault.
        sent: bool,
    },
    /// A local problem found while talking to Vault (a file, a header value).
    #[error(transparent)]
    Local(#[from] crate::Error),
}

impl VaultError {
    /// Whether a write that failed this way may still have been applied: the request was
    /// sent and no answer came back. Such a write is read back before anything is reported.
    pub fn is_ambiguous(&self) -> bool {
        matches!(
            self,
            VaultError::Timeout { sent: true, .. } | VaultError::Transport { sent: true, .. }
        )
    }

    /// A few words on an ambiguous failure, for the read-back report.
    pub fn ambiguity(&self) -> &'static str {
        match self {
            VaultError::Timeout { .. } => "a timeout",
            _ => "a lost connection",
        }
    }
}

impl From<VaultError> for crate::Error {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::Local(e) => e,
            other => crate::Error::runtime(other),
        }
    }
}

/// Results of the Vault client.
pub type VaultResult<T> = std::result::Result<T, VaultError>;
