//! The library's one error type, and the one place that maps errors to exit codes.
//!
//! Every message is a one-line lowercase fragment that names what went wrong and, where the user
//! can act, what to do. Secrets never reach this type: callers pass ids, never tokens.

use std::fmt;

/// Exit codes of every binary (documented in docs/CLI.md).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A runtime failure: the cluster, Vault or the file system said no.
    pub const RUNTIME: u8 = 1;
    /// The command line was wrong; nothing was attempted.
    pub const USAGE: u8 = 2;
    /// Interrupted by SIGINT (128 + 2); whatever was half done was rolled back.
    pub const SIGINT: u8 = 130;
    /// Terminated by SIGTERM (128 + 15); whatever was half done was rolled back.
    pub const SIGTERM: u8 = 143;
}

/// Everything that can make a command fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments, found before anything was changed.
    #[error("{0}")]
    Usage(String),
    /// The kubeconfig (or in-cluster config) could not be resolved.
    #[error("{0}")]
    Config(String),
    /// The apiserver could not be reached or refused the request.
    #[error("{action}: {detail}")]
    Kube {
        /// What we tried to do, e.g. "create bootstrap token abcdef".
        action: String,
        /// The cause, rendered with the hint that fits it.
        detail: String,
    },
    /// A bootstrap token with this id already exists.
    #[error(
        "bootstrap token {0} already exists: choose another id or omit --token to generate one"
    )]
    AlreadyExists(String),
    /// A local file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we tried to do.
        action: &'static str,
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A subcommand whose issue has not landed yet.
    #[error("`kubectl jointoken {0}` is not yet available in this version")]
    NotYetAvailable(&'static str),
    /// Anything else at runtime, already phrased for the user.
    #[error("{0}")]
    Runtime(String),
    /// SIGINT or SIGTERM arrived mid-operation; `detail` says what was rolled back.
    #[error("interrupted by {signal}: {detail}")]
    Interrupted {
        /// `SIGINT` or `SIGTERM`.
        signal: &'static str,
        /// What the interrupted command did about it.
        detail: String,
    },
}

/// Results of library calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The exit code this error ends the process with.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            // The shell convention: 128 + the signal number.
            Error::Interrupted {
                signal: "SIGINT", ..
            } => exit::SIGINT,
            Error::Interrupted { .. } => exit::SIGTERM,
            _ => exit::RUNTIME,
        }
    }

    /// A usage error from anything printable.
    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }

    /// A runtime error from anything printable.
    pub fn runtime(msg: impl fmt::Display) -> Self {
        Error::Runtime(msg.to_string())
    }
}

/// Joins an error and its sources into one line, dropping repeated fragments (client libraries
/// often wrap "connection refused" three times).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_joins_sources_without_repeats() {
        let e = Outer(std::io::Error::other("connection refused"));
        assert_eq!(error_chain(&e), "outer: connection refused");
    }

    #[test]
    fn usage_errors_exit_2_and_others_1() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::runtime("x").exit_code(), 1);
        assert_eq!(Error::NotYetAvailable("publish").exit_code(), 1);
    }
}
