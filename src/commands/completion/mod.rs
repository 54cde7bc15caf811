//! Everything the binary generates about itself for distribution, all derived from the one
//! clap tree [`crate::commands::Cli`] so it cannot disagree with `--help`:
//! - this file: `completion <shell>` (static scripts, clap_complete) and the shared constants;
//! - [`protocol`]: kubectl's plugin-completion protocol (the binary answering as
//!   `kubectl_complete-jointoken`) and its candidates, live token ids included;
//! - [`links`]: the `kubectl_complete-*` links that make kubectl find that answer;
//! - [`docs`]: the man pages and CLI reference (`generate-docs`).

mod docs;
mod links;
mod protocol;

use links::kubectl_links;

pub use docs::{cli_markdown, generate, generate_to, man_pages};
pub use protocol::{Candidate, Completion, Sources, complete, kubectl_complete};

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{Arg, Command, ValueEnum, ValueHint};

use crate::cli::GlobalArgs;
use crate::commands::Cli;
use crate::{Error, Result};

/// The dispatcher binary; static scripts complete this name.
pub const BIN: &str = "kubectl-jointoken";

/// What kubectl (≥ 1.26) looks up on PATH to complete `kubectl jointoken …`; a per-verb plugin
/// `kubectl-jointoken-<verb>` is completed through `kubectl_complete-jointoken-<verb>`.
pub const COMPLETE_BIN: &str = "kubectl_complete-jointoken";

/// Upper bound for dynamic candidates: a TAB must never hang on an unreachable cluster.
const DYNAMIC_TIMEOUT: Duration = Duration::from_secs(2);

/// Width of help text in generated docs; fixed so the output never depends on the terminal.
const DOC_WIDTH: usize = 100;

/// Argument ids that name an existing bootstrap token id (dynamic candidates from the cluster).
const TOKEN_ID_ARGS: &[&str] = &["id", "ids", "token_id", "token_ids"];

/// cobra's `ShellCompDirectiveDefault`: let the shell complete file names.
const DIRECTIVE_FILES: u32 = 0;
/// cobra's `ShellCompDirectiveNoFileComp`.
const DIRECTIVE_NO_FILES: u32 = 4;
/// cobra's `ShellCompDirectiveFilterDirs`.
const DIRECTIVE_DIRS: u32 = 16;

/// Which completion to print.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    /// bash script: `source <(kubectl-jointoken completion bash)`.
    Bash,
    /// zsh script: save as `_kubectl-jointoken` in a directory on $fpath.
    Zsh,
    /// fish script: save as ~/.config/fish/completions/kubectl-jointoken.fish.
    Fish,
    /// PowerShell script: `kubectl-jointoken completion powershell | Out-String | Invoke-Expression`.
    Powershell,
    /// `kubectl jointoken <TAB>` (kubectl ≥ 1.26): the kubectl_complete-jointoken links.
    Kubectl,
}

/// Print a shell completion script for kubectl-jointoken, or set up `kubectl jointoken <TAB>`.
///
/// bash, zsh, fish and powershell print a static script for the kubectl-jointoken binary.
///
/// kubectl (1.26 or newer) completes a plugin by running `kubectl_complete-jointoken` from PATH.
/// `completion kubectl` prints the commands that create that link (and one per installed
/// kubectl-jointoken-<verb>) next to the installed binary; `completion kubectl --install` creates
/// them. When installed by krew the links go to krew's bin directory ($KREW_ROOT/bin, default
/// ~/.krew/bin), where they survive plugin upgrades.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// bash, zsh, fish, powershell, or kubectl (kubectl's plugin completion links).
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
    /// With `kubectl`: create the links instead of printing the commands that would.
    #[arg(long)]
    pub install: bool,
    /// With `kubectl`: the directory for the links (default: the installed binary's directory,
    /// or krew's bin directory).
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

/// Write the man pages (docs/man/*.1), the CLI reference (docs/CLI.md) and the completion
/// scripts (completions/) under a directory; scripts/check-generated diffs them with the repo.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Root to write under: <DIR>/docs/man/, <DIR>/docs/CLI.md and <DIR>/completions/.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out_dir: PathBuf,
}

/// Runs `completion`.
pub async fn run(_g: &GlobalArgs, a: &Args) -> Result<crate::output::Document> {
    let shell = match a.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
        Shell::Kubectl => {
            return kubectl_links(a).map(|t| crate::output::Document::new("completion", t));
        }
    };
    if a.install || a.dir.is_some() {
        return Err(Error::usage(
            "--install and --dir apply only to `completion kubectl`: shell scripts go to stdout",
        ));
    }
    Ok(crate::output::Document::new("completion", script(shell)))
}

/// The static completion script of the dispatcher for `shell`.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    // The unbuilt derive tree: clap_complete builds it itself (with its own bin name).
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        BIN,
        &mut buf,
    );
    String::from_utf8(buf).expect("clap_complete writes UTF-8")
}
