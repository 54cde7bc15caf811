//! The command tree and the one dispatch `match`: each verb is a module with its `Args` and a
//! `run` that returns a typed report, rendered here through [`crate::output`].

pub mod approve;
pub mod completion;
pub mod create;
pub mod deliver;
pub mod fetch;
pub mod kubeconfig;
pub mod list;
pub mod prune;
pub mod publish;
pub mod schedule;
pub mod setup;
pub mod verify;

use clap::{Parser, Subcommand};

use crate::Result;
use crate::cli::GlobalArgs;
use crate::output;

/// Create, list, prune, publish and rotate Kubernetes bootstrap (join) tokens.
///
/// Tokens are written exactly as kubeadm writes them, so kubeadm and this tool work on each
/// other's tokens.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl-jointoken",
    bin_name = "kubectl jointoken",
    version,
    propagate_version = true,
    disable_help_subcommand = true,
    // Later flags win, so command-line flags override those a config file expands to.
    args_override_self = true,
    after_help = "Exit codes: 0 success, 1 runtime error, 2 usage error."
)]
pub struct Cli {
    /// kubectl's connection flags.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a bootstrap token and print its join command.
    Create(create::Args),
    /// List bootstrap tokens (kubeadm's columns; secrets masked).
    List(list::Args),
    /// Delete expired or superseded bootstrap tokens, safely.
    Prune(prune::Args),
    /// Write a bootstrap (or service-account) kubeconfig.
    Kubeconfig(kubeconfig::Args),
    /// Publish a token's join command to Vault and other sinks.
    Publish(publish::Args),
    /// Fetch a published join command from Vault on a node that is not in the cluster yet.
    Fetch(fetch::Args),
    /// Deliver per-node tokens to cloud instances through their tags (AWS).
    Deliver(deliver::Args),
    /// Print shell completion scripts, or install kubectl's completion shim.
    Completion(completion::Args),
    /// Generate man pages and the CLI reference.
    #[command(hide = true)]
    GenerateDocs(completion::GenerateArgs),
    /// Install and manage the systemd timer that rotates and publishes tokens.
    Schedule(schedule::Args),
    /// Create the RBAC and cluster-info that bootstrap tokens need, as kubeadm does.
    Setup(setup::Args),
    /// Check, step by step, that a bootstrap token lets a node join.
    Verify(verify::Args),
    /// Approve kubelet certificate signing requests that pass every check.
    Approve(approve::Args),
}

/// The command tree as users see it: the derive's tree, built, with kubectl's connection flags
/// hidden from `fetch` (it runs on a node that has no kubeconfig, and ignores them). Parsing,
/// help, completion and the generated docs all use this one tree.
pub fn command() -> clap::Command {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    cmd.build();
    let connection: Vec<String> =
        <crate::cli::GlobalArgs as clap::Args>::augment_args(clap::Command::new("probe"))
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .filter(|id| id != "verbosity")
            .collect();
    if let Some(fetch) = cmd.find_subcommand_mut("fetch") {
        *fetch = fetch.clone().mut_args(|a| {
            if connection.iter().any(|c| c == a.get_id().as_str()) {
                a.hide(true)
            } else {
                a
            }
        });
    }
    cmd
}

/// Parses `args` (argv, program name first) with [`command`].
pub fn parse<I, T>(args: I) -> std::result::Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let m = command().try_get_matches_from(args)?;
    Cli::from_arg_matches(&m)
}

/// Ends a command whose report may carry a failure: the report's text is printed before the
/// error, so a partial prune, publish, setup, verify or approval is visible on stdout.
fn finish(text: String, failure: Option<crate::Error>) -> Result<String> {
    match failure {
        Some(e) => {
            print!("{text}");
            Err(e)
        }
        None => Ok(text),
    }
}

/// Runs the parsed command and returns what goes to stdout.
pub async fn dispatch(cli: Cli) -> Result<String> {
    let g = &cli.global;
    match cli.command {
        Command::Create(a) if a.for_nodes() => {
            let report = create::run_for_nodes(g, &a).await?;
            output::render(&report, &a.output)
        }
        Command::Create(a) => {
            let report = create::run(g, &a).await?;
            output::render(&report, &a.output)
        }
        Command::List(a) => {
            let report = list::run(g, &a).await?;
            let text = output::render(&report, &a.output);
            // The records are not needed again and the process ends next: freeing 10,000 of
            // them one by one cost ~2 ms of a list's ~80 (nothing in them is zeroised on drop).
            std::mem::forget(report);
            text
        }
        Command::Prune(a) => {
            let report = prune::run(g, &a).await?;
            let text = output::render(&report, &a.output)?;
            report.summarize();
            finish(text, report.failure())
        }
        Command::Kubeconfig(a) => {
            output::render(&kubeconfig::run(g, &a).await?, &Default::default())
        }
        Command::Publish(a) => {
            let report = publish::run(g, &a).await?;
            // The CI formats' text is exact (masks, heredocs): printed as is, not as a table.
            let text = match &report.ci_text {
                Some(t) => t.clone(),
                None => output::render(&report, &publish::PublishOutcome::output_args(a.format))?,
            };
            finish(text, report.failure())
        }
        Command::Completion(a) => {
            output::render(&completion::run(g, &a).await?, &Default::default())
        }
        Command::GenerateDocs(a) => completion::generate(&a).await,
        Command::Fetch(a) => output::render(
            &output::Document::new("join", fetch::run(g, &a).await?),
            &Default::default(),
        ),
        Command::Deliver(a) => {
            let report = deliver::run(g, &a).await?;
            let out = match &a.action {
                deliver::Action::Aws(x) => x.output.clone(),
                deliver::Action::Install(_) => Default::default(),
            };
            let text = output::render(&report, &out)?;
            // Print what every instance got before failing, as prune does.
            finish(text, report.failure())
        }
        Command::Schedule(a) => output::render(&schedule::run(g, &a).await?, &Default::default()),
        Command::Verify(a) => {
            let report = verify::run(g, &a).await?;
            let text = output::render(&report, &a.output)?;
            finish(text, report.failure())
        }
        Command::Setup(a) if a.print => setup::print(g, &a).await,
        Command::Setup(a) => {
            let report = setup::run(g, &a).await?;
            let text = output::render(&report, &a.output)?;
            finish(text, report.failure())
        }
        Command::Approve(a) => match approve::run(g, &a).await? {
            approve::Ran::Text(t) => Ok(t),
            approve::Ran::Report(report) => {
                let text = output::render(&report, &a.output)?;
                report.summarize();
                finish(text, report.failure())
            }
        },
    }
}
