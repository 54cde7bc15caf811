//! kubectl-jointoken: create, list, prune, publish and rotate Kubernetes bootstrap (join)
//! tokens, exactly as kubeadm writes them.
//!
//! Module map:
//! - [`cli`]: kubectl's global flags, output and dry-run flags, shared by every command.
//! - [`commands`]: one module per verb: its clap `Args` (doc comments are the help) and `run`,
//!   which returns a typed report.
//! - [`output`]: renders reports as columns, JSON, YAML or names; the only writer of stdout data.
//! - [`token`]: the token codec and the bootstrap-token Secret; [`duration`]: Go durations;
//!   [`pki`]: CA bundles and pins; [`jws`]: cluster-info signatures; [`join`]: join commands;
//!   [`prune`]: which tokens a prune removes; [`kubeconfig`]: kubeconfig documents and atomic
//!   0600 files; [`cluster`]: kubeconfig resolution and the client.
//! - [`bootstrap_rbac`]: kubeadm's bootstrapper RBAC and cluster-info objects (for `setup`);
//!   [`cluster_info`]: the cluster-info kubeconfig; [`verify`]: the checks `verify` runs.
//! - [`approval`]: the pure approval policy for kubelet CSRs; [`certificates`]: every CSR read
//!   and decision write; [`approver`]: the in-cluster approver's Deployment and RBAC.
//! - [`binding`]: tokens bound to one node and consumed on use (the join counter);
//!   [`deliver`]: per-node tokens handed to cloud instances through their tags (provider
//!   trait, pure pass plan, tag record); `aws` (feature `aws`): the AWS SDK provider and the
//!   node side; [`discovery`]: the pinned CA from cluster-info for a node holding only pins.
//! - [`error`]: the typed error and the exit-code mapping.
//!
//! Every binary is a three-line `main` that calls [`main`] with the [`Tool`] it is, so
//! `kubectl-jointoken create` and `kubectl-jointoken-create` behave identically. The
//! dispatcher also reads its program name, so packages ship one binary and the per-verb
//! names as links to it.

pub mod approval;
pub mod approver;
#[cfg(feature = "aws")]
pub mod aws;
pub mod binding;
pub mod bootstrap_rbac;
pub mod certificates;
pub mod cli;
pub mod cluster;
pub mod cluster_info;
pub mod commands;
pub mod cronjob;
pub mod deliver;
pub mod discovery;
pub mod duration;
pub mod error;
pub mod incluster;
pub mod join;
pub mod jsonpath;
pub mod jws;
pub mod kubeconfig;
pub mod lease;
pub mod output;
pub mod pki;
pub mod prune;
pub mod publish;
pub mod reporter;
pub mod rollout;
pub mod rotate;
pub mod sa_token;
pub mod signals;
pub mod store;
pub mod systemd;
pub mod token;
pub mod verify;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

pub use error::{Error, Result};

/// Which binary is running: the dispatcher or one of the per-verb plugins kubectl may find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `kubectl-jointoken`: takes the verb as its first argument.
    Dispatcher,
    /// `kubectl-jointoken-create`.
    Create,
    /// `kubectl-jointoken-publish`.
    Publish,
    /// `kubectl-jointoken-list`.
    List,
    /// `kubectl-jointoken-prune`.
    Prune,
    /// `kubectl-jointoken-kubeconfig`.
    Kubeconfig,
    /// `kubectl-jointoken-schedule`.
    Schedule,
}

impl Tool {
    /// Every per-verb tool (all but the dispatcher).
    const VERBS: [Tool; 6] = [
        Tool::Create,
        Tool::Publish,
        Tool::List,
        Tool::Prune,
        Tool::Kubeconfig,
        Tool::Schedule,
    ];

    /// The tool a program name stands for: `kubectl-jointoken-list` (or `…-list.exe`) is
    /// [`Tool::List`], so the per-verb names can be links to the one `kubectl-jointoken`
    /// binary (a multi-call binary, like busybox). Any other name is the dispatcher.
    pub fn from_program_name(name: &str) -> Tool {
        let name = name.strip_suffix(".exe").unwrap_or(name);
        name.strip_prefix("kubectl-jointoken-")
            .and_then(|verb| Tool::VERBS.into_iter().find(|t| t.verb() == Some(verb)))
            .unwrap_or(Tool::Dispatcher)
    }

    /// The verb a per-verb binary stands for.
    fn verb(self) -> Option<&'static str> {
        match self {
            Tool::Dispatcher => None,
            Tool::Create => Some("create"),
            Tool::Publish => Some("publish"),
            Tool::List => Some("list"),
            Tool::Prune => Some("prune"),
            Tool::Kubeconfig => Some("kubeconfig"),
            Tool::Schedule => Some("schedule"),
        }
    }
}

// mimalloc: a 10,000-token `list` allocates and frees ~300,000 small objects (records, table
// cells); glibc's malloc spent a fifth of the run consolidating and freeing. Measured
// alternately on the same harness (docs/PERFORMANCE.md): list 10,000 ~100 → ~93 ms median
// (limit ~80), peak RSS 33 MiB either way (bound 64); start-up 2.0 → 2.1 ms. Built without
// transparent huge pages (Cargo.toml), which otherwise doubled the start-up RSS.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Entry point of every binary.
pub fn main(tool: Tool) -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.is_empty() {
        args.push("kubectl-jointoken".into());
    }
    // kubectl ≥ 1.26 completes `kubectl jointoken <TAB>` by running `kubectl_complete-jointoken`
    // (a link to this binary) with the words typed so far.
    let argv0 = std::path::Path::new(&args[0])
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if argv0.starts_with("kubectl_complete-jointoken") {
        return ExitCode::from(commands::completion::kubectl_complete(args));
    }
    // The dispatcher binary run under a per-verb name (a link) is that verb's plugin.
    let tool = match tool {
        Tool::Dispatcher => Tool::from_program_name(&argv0),
        verb => verb,
    };
    if let Some(verb) = tool.verb() {
        // A per-verb binary is the dispatcher with its verb already typed.
        args.insert(1, verb.into());
    }
    ExitCode::from(run_args(args))
}

/// Parses `args` (argv, program name first), runs the command, prints, and returns the exit code.
pub fn run_args(args: Vec<OsString>) -> u8 {
    let args = match expand_config(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    let cli = match commands::parse(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit 0; real usage errors to stderr with 2.
            let code = if e.use_stderr() {
                error::exit::USAGE
            } else {
                error::exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    init_tracing(cli.global.verbosity);
    // One TLS provider (ring) for the kube and Vault clients alike; ignore "already installed".
    let _ = rustls::crypto::ring::default_provider().install_default();
    // `list` reads one streamed response and decodes it as it arrives: on one thread the
    // connection's frames (thousands of small chunks) are decoded where they are read instead of
    // crossing to another thread each (measured faster, docs/PERFORMANCE.md). `create` is a
    // handful of requests whose answers each wake the next step: one thread does that with less
    // CPU and fewer cross-thread wake-ups (create + publish 15.7 → 13.8 ms, measured).
    // Everything else keeps two workers (prune's concurrent deletes, approve, the watchers).
    let mut builder = if matches!(
        cli.command,
        commands::Command::List(_) | commands::Command::Create(_)
    ) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    };
    builder.enable_all();
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return error::exit::RUNTIME;
        }
    };
    let result = runtime.block_on(commands::dispatch(cli));
    // Do not wait for lingering connection tasks at exit.
    runtime.shutdown_background();
    match result {
        Ok(text) => write_stdout(&text),
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// `schedule run` reads its flags from a config file too: the file's `key: value` pairs become
/// `--key=value` right after `run`, so flags typed on the command line (later) win.
fn expand_config(mut args: Vec<OsString>) -> Result<Vec<OsString>> {
    use commands::{Command, schedule};
    // Only `schedule run` reads a config file: every other command line is parsed once, not
    // twice (a parse of the whole command tree is a measurable part of a create's start-up).
    if !args.iter().any(|a| a == "run") {
        return Ok(args);
    }
    let Ok(cli) = commands::parse(args.iter().cloned()) else {
        return Ok(args);
    };
    let Command::Schedule(schedule::Args {
        action: schedule::Action::Run(run),
    }) = &cli.command
    else {
        return Ok(args);
    };
    let Some(path) = schedule::config_path(run) else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        action: "cannot read config file",
        path: path.display().to_string(),
        source,
    })?;
    let extra = schedule::config_to_args(&text, &path)?;
    let at = args
        .iter()
        .position(|a| a == "run")
        .map_or(args.len(), |i| i + 1);
    args.splice(at..at, extra.into_iter().map(OsString::from));
    Ok(args)
}

/// Writes data to stdout; a closed pipe (`| head`) is success, as in ripgrep.
fn write_stdout(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => error::exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => error::exit::OK,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            error::exit::RUNTIME
        }
    }
}

/// Logs go to stderr. Our crate follows `-v`; HTTP and TLS crates stay at warnings whatever the
/// level, so no header or body (which could carry a token) is ever logged.
fn init_tracing(verbosity: u8) {
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let ours = match verbosity {
        0 | 1 => LevelFilter::WARN,
        2 | 3 => LevelFilter::INFO,
        4 | 5 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    // kube-client logs every failed request at ERROR; our own error line already says it.
    let kube = if verbosity >= 4 {
        LevelFilter::DEBUG
    } else {
        LevelFilter::OFF
    };
    let filter = Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("kubectl_jointoken", ours)
        .with_target("kube_client", kube)
        // Logs TLS root-store details at info; noise for a CLI, never useful to an operator.
        .with_target("rustls_platform_verifier", LevelFilter::OFF);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .without_time(),
        )
        .with(filter)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::Tool;

    #[test]
    fn program_names_pick_the_tool() {
        for (name, tool) in [
            ("kubectl-jointoken", Tool::Dispatcher),
            ("kubectl-jointoken.exe", Tool::Dispatcher),
            ("kubectl-jointoken-create", Tool::Create),
            ("kubectl-jointoken-list.exe", Tool::List),
            ("kubectl-jointoken-schedule", Tool::Schedule),
            ("kubectl-jointoken-kubeconfig", Tool::Kubeconfig),
            // Not a per-verb plugin: the dispatcher, which reports the verb as unknown.
            ("kubectl-jointoken-bogus", Tool::Dispatcher),
            ("kubectl-jointoken-", Tool::Dispatcher),
            ("jointoken-create", Tool::Dispatcher),
            ("", Tool::Dispatcher),
        ] {
            assert_eq!(Tool::from_program_name(name), tool, "{name:?}");
        }
        for tool in Tool::VERBS {
            let name = format!("kubectl-jointoken-{}", tool.verb().unwrap());
            assert_eq!(Tool::from_program_name(&name), tool);
        }
    }
}
