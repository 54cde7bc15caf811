//! SIGINT/SIGTERM caught for the few stretches where a half-done operation must be rolled back
//! before the process ends (a token created but not yet published). Arm before the first
//! write: a signal that arrives while the token is being created is queued and seen by the
//! rollback path. Elsewhere the default disposition (die at once) is right: nothing is half
//! done, so handlers are never installed for the whole process.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Installed SIGINT/SIGTERM handlers.
pub struct Armed {
    int: Option<Signal>,
    term: Option<Signal>,
}

impl Armed {
    /// Installs the handlers (must run inside the runtime). If they cannot be installed the
    /// default disposition still ends the process, and [`recv`](Self::recv) never resolves.
    pub fn new() -> Self {
        Armed {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Resolves with the signal's name when SIGINT or SIGTERM arrives.
    pub async fn recv(&mut self) -> &'static str {
        let int = async {
            match self.int.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let term = async {
            match self.term.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = int => "SIGINT",
            _ = term => "SIGTERM",
        }
    }
}

impl Default for Armed {
    fn default() -> Self {
        Self::new()
    }
}
