//! The one stderr reporter: progress notes, warnings and progress bars. stdout carries data
//! only (see [`crate::output`]); everything meant for the person at the terminal goes through
//! here, so tests and the secret scanner have one place to reason about, and repeated
//! warnings can be folded into one line per run.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;

/// A progress or result note (`rotated: …`, `dry run: …`).
pub fn note(msg: impl std::fmt::Display) {
    eprintln!("{msg}");
}

/// A warning line, prefixed as kubectl prefixes its own.
pub fn warn(msg: impl std::fmt::Display) {
    eprintln!("Warning: {msg}");
}

static FOLDED: Mutex<BTreeMap<String, (usize, String)>> = Mutex::new(BTreeMap::new());

/// Records a warning of kind `key`; [`flush_folded`] prints each kind once with a count
/// (a list of 500 malformed Secrets says so once, not 500 times).
pub fn warn_folded(key: &str, example: impl std::fmt::Display) {
    let mut m = FOLDED.lock().unwrap_or_else(|e| e.into_inner());
    let e = m
        .entry(key.to_string())
        .or_insert_with(|| (0, example.to_string()));
    e.0 += 1;
}

/// Prints the folded warnings: `Warning: <example> (and N more like it)`.
pub fn flush_folded() {
    let mut m = FOLDED.lock().unwrap_or_else(|e| e.into_inner());
    for (_, (n, example)) in std::mem::take(&mut *m) {
        if n > 1 {
            warn(format!("{example} (and {} more like it)", n - 1));
        } else {
            warn(example);
        }
    }
}

/// A progress bar on stderr for `len` steps, drawn only where someone watches a long run.
pub fn progress(len: usize) -> indicatif::ProgressBar {
    if len >= 100 && std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(len as u64)
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// One warning line per run for Secrets of the bootstrap-token type that are not valid
/// tokens (with a count), not one per Secret.
pub fn malformed_tokens(tokens: &[crate::token::TokenRecord]) {
    for t in tokens.iter().filter(|t| !t.problems.is_empty()) {
        warn_folded(
            "malformed",
            format!(
                "Secret kube-system/{} is not a valid bootstrap token: {}",
                t.name,
                t.problems.join("; ")
            ),
        );
    }
    flush_folded();
}
