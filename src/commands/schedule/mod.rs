//! `schedule`: the rotation job (`schedule run`, what the timer starts) and the installers
//! that run it on control-plane nodes (systemd units: `render`, `install`, `status`,
//! `uninstall`; or an in-cluster CronJob with `--cronjob`).
//!
//! Parts: this file holds the flags and the dispatch; [`config`] turns the config file into
//! flags; [`rotation`] runs one rotation (Lease, plan, create, publish, prune) on the pure plan
//! of [`crate::rotate`], or with `--service-account` one renewal of that account's published
//! token ([`crate::sa_token::renew`]); [`install`] renders and installs the units and the
//! CronJob.

mod config;
mod install;
mod rotation;

pub use config::{config_path, config_to_args};
pub use install::render;

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;

use crate::cli::{GlobalArgs, TokenFlags};
use crate::publish::{PublishValue, SinkArgs, SinkKind};
use crate::{Result, duration};

/// Default config file of `schedule run`.
pub const DEFAULT_CONFIG: &str = "/etc/kubectl-jointoken/config.yaml";

/// Install, inspect or remove the systemd timer that rotates and publishes join tokens on
/// control-plane nodes, or run one rotation.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// The schedule actions.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Run one rotation now (what the timer starts): ensure a published token with at least
    /// --min-remaining validity exists, else create, publish, and prune superseded ones.
    Run(Box<RunArgs>),
    /// Print the service, timer and config file `install` would write.
    Render(InstallArgs),
    /// Write the units and config, then daemon-reload and enable --now the timer.
    Install(InstallArgs),
    /// Show the timer's last and next run and the last result (systemctl show).
    Status(RootArgs),
    /// Disable the timer and remove units and config (tokens are kept).
    Uninstall(RootArgs),
}

/// Flags of one rotation; the config file holds the same keys (long flag names).
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Config file: a YAML map of these flags' long names to values; flags on the command line
    /// win. Default /etc/kubectl-jointoken/config.yaml when it exists.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// How often rotation runs (sets the default --min-remaining).
    #[arg(long, default_value = "8h", value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub every: Duration,
    /// Rotate when the current token has less validity left than this (default: ttl − every
    /// + 1h, so each timer tick rotates and tokens overlap).
    #[arg(long, value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub min_remaining: Option<Duration>,
    /// How many superseded (still valid, published) tokens to keep for nodes mid-join.
    #[arg(long, default_value_t = 1)]
    pub keep_previous: usize,
    /// Name of this rotation: its tokens carry the label jointoken.kubectl.io/rotation=NAME
    /// and only those are reused or pruned.
    #[arg(long, default_value = "default")]
    pub instance: String,
    /// Lease in kube-system that makes exactly one node rotate (default:
    /// kubectl-jointoken-rotate-<instance>).
    #[arg(long)]
    pub lease_name: Option<String>,
    /// Lease duration in seconds (a crashed holder's lease expires after this).
    #[arg(long, default_value_t = 300)]
    pub lease_seconds: i32,
    /// This node's identity in the lease (default: hostname).
    #[arg(long)]
    pub identity: Option<String>,
    /// Token properties.
    #[command(flatten)]
    pub token: TokenFlags,
    /// Join endpoint.
    #[command(flatten)]
    pub endpoint: crate::cli::EndpointArgs,
    /// Where to publish (comma-separated): vault, file, secret.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub publish: Vec<SinkKind>,
    /// Sink settings.
    #[command(flatten)]
    pub sinks: SinkArgs,
    /// Longest wait for the bootstrap signer's signature of the new token: every new token is
    /// verified as a joining node would see it before it is published, and one that fails is
    /// deleted and never published.
    #[arg(long, default_value = "30s", value_parser = duration::parse_go)]
    pub signature_wait: Duration,
    /// Renew this service account's published token instead of rotating bootstrap tokens
    /// (namespace from -n, else the context's): a new token is requested and published when a
    /// sink's record has less than --min-remaining left (default: duration − every + 1h).
    /// The bootstrap-token flags (--ttl, --usages, --keep-previous, …) do not apply.
    #[arg(long, value_name = "NAME", help_heading = "Service account")]
    pub service_account: Option<String>,
    // No clap `requires` on these three: --service-account may come from the config file,
    // which is merged after the command line is parsed; `run` checks the pairing instead.
    /// Lifetime of each service-account token (default 24h; at least --every + 1h).
    #[arg(long, value_parser = duration::parse_go, help_heading = "Service account")]
    pub duration: Option<Duration>,
    /// Audience of the service-account token (repeatable; default: the apiserver's).
    #[arg(long, help_heading = "Service account")]
    pub audience: Vec<String>,
    /// What the published record holds: the kubeconfig (the default) or the bare token.
    #[arg(
        long,
        value_enum,
        requires = "service_account",
        help_heading = "Service account"
    )]
    pub publish_value: Option<PublishValue>,
}

/// Flags of `install`/`render`.
#[derive(clap::Args, Debug, Clone)]
pub struct InstallArgs {
    /// Timer interval: divides a day (1h … 24h) or an hour (1m … 30m).
    #[arg(long, default_value = "8h", value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub every: Duration,
    /// Spread of the per-node fixed random delay.
    #[arg(long, default_value = "5m", value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub randomized_delay: Duration,
    /// Longest a run may take.
    #[arg(long, default_value = "5m", value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub timeout: Duration,
    /// The binary the service runs.
    #[arg(long, default_value = "/usr/bin/kubectl-jointoken")]
    pub exec: String,
    /// Admin kubeconfig, loaded as a systemd credential.
    #[arg(long, default_value = "/etc/kubernetes/admin.conf")]
    pub kubeconfig_credential: String,
    /// Vault token file (e.g. a Vault Agent sink), loaded as a systemd credential.
    #[arg(long)]
    pub vault_token_credential: Option<String>,
    /// Install into this root instead of / (packaging, tests); implies --no-enable.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// Do not daemon-reload or enable the timer.
    #[arg(long)]
    pub no_enable: bool,
    /// Replace existing units and config.
    #[arg(long)]
    pub force: bool,
    /// Instead of systemd units, render (render) or apply (install) the in-cluster equivalent:
    /// a CronJob in kube-system with its ServiceAccount and a least-privilege Role.
    #[arg(long)]
    pub cronjob: bool,
    /// Container image with kubectl-jointoken on its PATH, for --cronjob.
    #[arg(long, requires = "cronjob")]
    pub image: Option<String>,
    /// Rotation instance to install: several live side by side, each with its own units
    /// (`kubectl-jointoken-rotate@NAME.service|timer`), config (/etc/kubectl-jointoken/NAME.yaml),
    /// Lease, token label and CronJob name. `default` keeps the plain names.
    #[arg(long, default_value = "default", value_parser = parse_instance)]
    pub instance: String,
    /// Flags for `schedule run`, stored in the config file (after `--`), e.g.
    /// `-- --publish vault --vault-addr https://vault:8200 --path secret/k8s/join`.
    #[arg(last = true, value_name = "RUN FLAGS")]
    pub run_flags: Vec<String>,
}

/// `--instance`: a label value that is also safe in unit and object names.
fn parse_instance(s: &str) -> std::result::Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err("expected 1-40 of [a-z0-9-], not starting or ending with '-'".into())
    }
}

/// The config file of rotation `instance`.
pub fn config_file(instance: &str) -> String {
    if instance == "default" {
        DEFAULT_CONFIG.to_string()
    } else {
        format!("/etc/kubectl-jointoken/{instance}.yaml")
    }
}

/// Flags of `status`/`uninstall`.
#[derive(clap::Args, Debug, Clone)]
pub struct RootArgs {
    /// The rotation instance (see `install --instance`).
    #[arg(long, default_value = "default", value_parser = parse_instance)]
    pub instance: String,
    /// The in-cluster CronJob instead of systemd units.
    #[arg(long)]
    pub cronjob: bool,
    /// The root the units were installed into.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
}

/// Runs `schedule`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<crate::output::Document> {
    let text = match &a.action {
        Action::Run(r) => rotation::rotate_once(g, r).await?,
        Action::Render(i) if i.cronjob => install::cronjob_yaml(i)?,
        Action::Install(i) if i.cronjob => {
            install::apply_cronjob(g, i).await?;
            crate::reporter::note(format!(
                "applied the CronJob {} and its RBAC in kube-system",
                crate::cronjob::name(&i.instance)
            ));
            String::new()
        }
        Action::Render(i) => {
            let files = render(i)?;
            files
                .iter()
                .map(|(p, body)| format!("# {p}\n{body}\n"))
                .collect::<Vec<_>>()
                .join("")
        }
        Action::Install(i) => install::install(i)?,
        Action::Status(r) if r.cronjob => install::cronjob_status(g, r).await?,
        Action::Uninstall(r) if r.cronjob => install::cronjob_uninstall(g, r).await?,
        Action::Status(r) => install::status(r)?,
        Action::Uninstall(r) => install::uninstall(r)?,
    };
    Ok(crate::output::Document::new("schedule", text))
}
