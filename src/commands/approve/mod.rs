//! `approve`: approves kubelet certificate signing requests that pass the policy of
//! [`crate::approval`], replacing the manual `kubectl certificate approve`. One-shot (pending
//! CSRs, or the named ones), as a controller (`--watch`, leader-elected on a Lease), or
//! installed in the cluster as a Deployment (`install --in-cluster`, `render`).
//!
//! Parts: this file holds the flags and the one-shot run; [`reconcile`] decides and writes one
//! CSR (shared by both modes); [`report`] is the typed report; [`watch`] is the controller;
//! [`install`] renders and applies the in-cluster objects of [`crate::approver`].

mod install;
mod reconcile;
mod report;
mod watch;

pub use report::{ApproveReport, Item, Outcome};

use std::time::Duration;

use clap::Subcommand;
use futures::StreamExt;

use crate::approval::{self, DnsPattern, Policy};
use crate::certificates::Certificates;
use crate::cli::{DryRun, DryRunArgs, GlobalArgs, OutputArgs};
use crate::{Error, Result, cluster, duration};

/// Approve kubelet certificate signing requests that pass every check.
///
/// Serving CSRs (kubernetes.io/kubelet-serving) must come from system:node:<name> in
/// system:nodes, for a Node that exists, with every SAN one of that Node's own addresses (or an
/// anchored --dns-pattern). Client CSRs (kubernetes.io/kube-apiserver-client-kubelet) must come
/// from a bootstrap token that exists and is valid now, or be a node renewing its own. CSRs for
/// any other signer, and CSRs already approved or denied, are never touched. Every refusal
/// names the rule and the value that broke it.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// Render or install the in-cluster approver instead.
    #[command(subcommand)]
    pub action: Option<Action>,
    /// CSRs to evaluate (default: every pending CSR of the two kubelet signers). Exit code 1
    /// when any named CSR is not approved.
    #[arg(value_name = "CSR_NAME")]
    pub names: Vec<String>,
    /// The policy.
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print every check of every CSR, and change nothing.
    #[arg(long)]
    pub explain: bool,
    /// Dry run.
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    /// Keep running as a controller: watch CSRs and decide each as it arrives (leader-elected
    /// on a Lease in kube-system, so several replicas are safe); stops cleanly on SIGTERM.
    #[arg(long, conflicts_with_all = ["names", "explain"])]
    pub watch: bool,
    /// The controller.
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// How many CSRs are decided at once (one-shot).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `approve render` / `approve install`.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Print the Deployment, ServiceAccount and least-privilege RBAC of the in-cluster
    /// approver (what `install --in-cluster` applies).
    Render(InstallArgs),
    /// Apply the in-cluster approver (server-side apply).
    Install(InstallArgs),
}

/// Flags of `render` and `install`.
#[derive(clap::Args, Debug, Clone)]
pub struct InstallArgs {
    /// Install into the cluster (a Deployment running `approve --watch`); the only target, and
    /// required by `install`.
    #[arg(long)]
    pub in_cluster: bool,
    /// Image with kubectl-jointoken on its PATH.
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    /// Replicas of the Deployment (one leads, the others wait on the Lease).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i32).range(1..=10))]
    pub replicas: i32,
    /// The policy the controller applies.
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The controller.
    #[command(flatten)]
    pub controller: ControllerArgs,
}

/// Flags that tune the policy (shared with `install`, which passes them to the controller).
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Approval policy")]
pub struct PolicyArgs {
    /// Also require every IP SAN to lie in one of these CIDRs (comma-separated or repeated);
    /// the IP must still be one of the Node's addresses.
    #[arg(long, value_name = "CIDR", value_delimiter = ',', value_parser = parse_cidr)]
    pub allowed_cidrs: Vec<ipnet::IpNet>,
    /// Also accept DNS SANs matching this pattern (repeatable): `{node}` stands for the node's
    /// name and a `*` label for any one label; matched whole, e.g. {node}.nodes.example.com.
    #[arg(long, value_name = "PATTERN", value_parser = parse_pattern)]
    pub dns_pattern: Vec<DnsPattern>,
    /// Longest certificate lifetime a CSR may ask for (spec.expirationSeconds), as a Go
    /// duration.
    #[arg(long, value_name = "DURATION", default_value = "8760h", value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub max_expiration: Duration,
    /// Let a bootstrap token get a client certificate for a node name a Node already has (a
    /// rebuilt node).
    #[arg(long)]
    pub allow_rejoin: bool,
    /// Deny CSRs that fail a check (a Denied condition carrying the reason) instead of leaving
    /// them pending.
    #[arg(long)]
    pub deny: bool,
}

/// Flags of the controller (`--watch`).
#[derive(clap::Args, Debug, Clone)]
#[command(next_help_heading = "Controller (--watch)")]
pub struct ControllerArgs {
    /// Lease in kube-system that elects the one active replica.
    #[arg(long, default_value = "kubectl-jointoken-approve")]
    pub lease_name: String,
    /// Lease duration in seconds: a crashed leader is replaced after this.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(i32).range(3..=3600))]
    pub lease_seconds: i32,
    /// Re-evaluate every pending CSR this often (a Node registered since, a token deleted).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration::parse_go)]
    pub resync: Duration,
    /// This replica's name in the Lease (default: $POD_NAME, else $HOSTNAME).
    #[arg(long)]
    pub identity: Option<String>,
}

fn parse_cidr(s: &str) -> std::result::Result<ipnet::IpNet, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a CIDR such as 192.0.2.0/24 or 2001:db8::/64"))
}

fn parse_pattern(s: &str) -> std::result::Result<DnsPattern, String> {
    DnsPattern::parse(s)
}

impl PolicyArgs {
    /// The policy these flags describe.
    pub fn policy(&self) -> Result<Policy> {
        if self.max_expiration < Duration::from_secs(600) {
            return Err(Error::usage(
                "--max-expiration is under 10m, the shortest certificate the apiserver allows",
            ));
        }
        Ok(Policy {
            allowed_cidrs: self.allowed_cidrs.clone(),
            dns_patterns: self.dns_pattern.clone(),
            max_expiration_seconds: Some(
                i64::try_from(self.max_expiration.as_secs()).unwrap_or(i64::MAX),
            ),
            allow_rejoin: self.allow_rejoin,
        })
    }

    /// The same flags as command-line arguments (for the in-cluster controller).
    pub fn to_flags(&self) -> Vec<String> {
        let mut f = Vec::new();
        if !self.allowed_cidrs.is_empty() {
            let c: Vec<String> = self.allowed_cidrs.iter().map(ToString::to_string).collect();
            f.push(format!("--allowed-cidrs={}", c.join(",")));
        }
        for p in &self.dns_pattern {
            f.push(format!("--dns-pattern={p}"));
        }
        f.push(format!(
            "--max-expiration={}",
            duration::format_go(self.max_expiration)
        ));
        if self.allow_rejoin {
            f.push("--allow-rejoin".into());
        }
        if self.deny {
            f.push("--deny".into());
        }
        f
    }
}

/// What `approve` returns to the dispatcher.
pub enum Ran {
    /// A one-shot run's report.
    Report(ApproveReport),
    /// Text printed as is (rendered manifests; nothing after a watch).
    Text(String),
}

/// Runs `approve`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<Ran> {
    match &a.action {
        Some(Action::Render(i)) => return install::render(i).map(Ran::Text),
        Some(Action::Install(i)) => return install::install(g, i).await.map(Ran::Text),
        None => {}
    }
    let names: Vec<&str> = a.names.iter().map(String::as_str).collect();
    a.dry_run.check_detached(&names)?;
    let policy = a.policy.policy()?;
    if a.watch {
        if a.dry_run.dry_run != DryRun::None {
            return Err(Error::usage(
                "--watch with --dry-run would decide nothing: use `approve --explain` to see \
                 what would be approved",
            ));
        }
        watch::run(g, a, policy).await?;
        return Ok(Ran::Text(String::new()));
    }
    one_shot(g, a, policy).await.map(Ran::Report)
}

async fn one_shot(g: &GlobalArgs, a: &Args, policy: Policy) -> Result<ApproveReport> {
    let c = cluster::connect(g).await?;
    let certs = Certificates::new(&c);
    let all = certs.list().await?;
    let denied = reconcile::denied_keys(&all);
    // --explain never writes; --dry-run=server sends the writes with dryRun=All.
    let mode = if a.explain {
        DryRun::Client
    } else {
        a.dry_run.dry_run
    };
    let ctx = reconcile::Ctx {
        certs,
        policy,
        deny: a.policy.deny,
        mode,
    };
    let mut missing = Vec::new();
    let chosen: Vec<_> = if a.names.is_empty() {
        all.into_iter()
            .filter(|o| {
                matches!(
                    approval::triage(&approval::request::from_object(o)),
                    approval::Triage::Evaluate(_)
                )
            })
            .collect()
    } else {
        let mut by_name: std::collections::HashMap<String, _> = all
            .into_iter()
            .map(|o| (o.metadata.name.clone().unwrap_or_default(), o))
            .collect();
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for n in a.names.iter().filter(|n| seen.insert(n.as_str())) {
            match by_name.remove(n) {
                Some(o) => out.push(o),
                None => missing.push(n.clone()),
            }
        }
        out
    };
    let bar = crate::reporter::progress(chosen.len());
    let mut items: Vec<Item> = futures::stream::iter(chosen)
        .map(|o| {
            let (ctx, denied, bar) = (&ctx, &denied, bar.clone());
            async move {
                let item = reconcile::process(ctx, o, denied).await;
                bar.inc(1);
                item
            }
        })
        .buffer_unordered(a.concurrency as usize)
        .collect()
        .await;
    bar.finish_and_clear();
    items.extend(missing.into_iter().map(Item::missing));
    items.sort_by(|x, y| x.name.cmp(&y.name));
    Ok(ApproveReport {
        items,
        explain: a.explain,
        dry_run: mode != DryRun::None,
        named: !a.names.is_empty(),
    })
}
