//! Shell completion: static scripts for bash/zsh/fish/powershell, kubectl's plugin-completion
//! protocol (`kubectl_complete-jointoken`), and generated docs (man pages, CLI reference).
//! (Filled in by the distribution issue; until then it says so and exits 1.)

use std::ffi::OsString;

use crate::cli::GlobalArgs;
use crate::{Error, Result};

/// Print shell completion scripts, or install the kubectl completion shim.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// bash, zsh, fish, powershell or kubectl.
    pub shell: Option<String>,
}

/// Generate man pages and the CLI reference (used by the build scripts).
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {}

/// Runs `completion`.
pub async fn run(_g: &GlobalArgs, _a: &Args) -> Result<String> {
    Err(Error::NotYetAvailable("completion"))
}

/// Runs the hidden `generate-docs`.
pub async fn generate(_a: &GenerateArgs) -> Result<String> {
    Err(Error::NotYetAvailable("generate-docs"))
}

/// Entry point when invoked as `kubectl_complete-jointoken` by kubectl (≥ 1.26): `args` is the
/// full argv; returns the exit code after printing candidates.
pub fn kubectl_complete(_args: Vec<OsString>) -> u8 {
    println!(":4");
    0
}
