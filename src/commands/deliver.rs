//! `deliver`: hands every new instance of a cloud group its own bound token through the
//! instance's metadata (AWS: an EC2 tag), once or in a loop, and renders the in-cluster
//! Deployment that runs the loop. The pass itself is [`crate::deliver::run_pass`].

use std::time::Duration;

use serde_json::json;

use crate::cli::{DryRunArgs, EndpointArgs, GlobalArgs, OutputArgs};
use crate::deliver::select::{NodeNaming, parse_group_filter};
use crate::deliver::{self, PassReport};
use crate::output::Report;
use crate::{Error, Result, duration};

/// The tag `deliver aws` writes and `fetch --from aws-tag` reads, unless --tag-key. Only
/// characters EC2 allows in tags exposed through instance metadata (no '/').
pub const DEFAULT_TAG_KEY: &str = "kubectl-jointoken:join";

/// Deliver per-node tokens to cloud instances through their metadata.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to deliver.
    #[command(subcommand)]
    pub action: Action,
}

/// The deliver subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Tag every InService instance of Auto Scaling groups with a token bound to its node.
    Aws(Box<AwsArgs>),
    /// Print the in-cluster Deployment (with its RBAC) that runs `deliver aws --watch`.
    Install(InstallArgs),
}

/// `deliver aws`: for each InService instance without a valid token tag, create a token bound
/// to its node name (1h, one join) and write it to the instance's tag as `kjt1 TOKEN
/// HOST:PORT EXPIRY PINS` (see docs/workflows/autoscaling-groups.md); delete the tokens of
/// instances that left. A pass with nothing to do writes nothing. AWS endpoint, region and
/// credentials come from the standard AWS chain (AWS_REGION, AWS_ENDPOINT_URL, profiles, roles).
#[derive(clap::Args, Debug, Clone)]
pub struct AwsArgs {
    /// Auto Scaling group names (repeatable or comma-separated).
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        required_unless_present = "asg_filter"
    )]
    pub asg: Vec<String>,
    /// Select groups by tag instead: tag:KEY=VALUE (repeatable; all must match).
    #[arg(long, value_name = "tag:KEY=VALUE", value_parser = parse_group_filter, conflicts_with = "asg")]
    pub asg_filter: Vec<(String, String)>,
    /// The instance tag holding the token record.
    #[arg(long, value_name = "KEY", default_value = DEFAULT_TAG_KEY)]
    pub tag_key: String,
    /// What the node registers as: private-dns-name, instance-id or tag:KEY (e.g. tag:Name).
    #[arg(long, value_name = "RULE", default_value = "private-dns-name")]
    pub node_name: NodeNaming,
    /// One pass, then exit (the default).
    #[arg(long, conflicts_with = "watch")]
    pub once: bool,
    /// Pass again every --interval, holding a Lease so only one of several replicas delivers.
    #[arg(long)]
    pub watch: bool,
    /// Time between passes with --watch (Go duration).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration::parse_go)]
    pub interval: Duration,
    /// The delivery's name: its tokens are labelled jointoken.kubectl.io/deliver=NAME, and a pass
    /// only deletes tokens of its own name.
    #[arg(long, value_name = "NAME", default_value = "aws")]
    pub name: String,
    /// Lifetime of each token (Go duration).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = duration::parse_go)]
    pub ttl: Duration,
    /// Joins each token allows before `approve` deletes it.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_joins: u32,
    /// AWS region (default: the standard chain: AWS_REGION, profile, instance metadata).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Lease name for --watch (kube-system).
    #[arg(long, value_name = "NAME", default_value = "kubectl-jointoken-deliver")]
    pub lease_name: String,
    /// Join endpoint.
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Dry run.
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `deliver install --in-cluster`: prints the objects (apply them with `kubectl apply -f -`).
#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Render the in-cluster form (a Deployment in kube-system); the only form today.
    #[arg(long, required = true)]
    pub in_cluster: bool,
    /// An image with kubectl-jointoken (built with the aws feature) on its PATH.
    #[arg(long, value_name = "IMAGE")]
    pub image: String,
    /// Replicas (one delivers at a time; the others take over through the Lease).
    #[arg(long, default_value_t = 2)]
    pub replicas: i32,
    /// `deliver aws` flags for the loop, after `--` (e.g. -- --asg workers --node-name
    /// instance-id); --watch is added.
    #[arg(last = true, value_name = "DELIVER-FLAGS")]
    pub deliver_flags: Vec<String>,
}

/// What `deliver` did.
#[derive(Debug)]
pub struct DeliverReport {
    /// The (last) pass.
    pub pass: PassReport,
    /// Rendered manifest (install).
    pub manifest: Option<String>,
}

impl DeliverReport {
    /// The error to exit with after printing, when an instance was not served.
    pub fn failure(&self) -> Option<Error> {
        self.pass.failure()
    }
}

fn validate(a: &AwsArgs) -> Result<()> {
    crate::token::validate_label_value(&a.name)
        .map_err(|e| Error::usage(format!("--name: {e}")))?;
    if a.tag_key.is_empty() || a.tag_key.len() > 128 || a.tag_key.starts_with("aws:") {
        return Err(Error::usage(
            "--tag-key must be 1-128 characters and not start with aws:",
        ));
    }
    if a.interval < Duration::from_secs(5) && a.watch {
        return Err(Error::usage("--interval must be at least 5s"));
    }
    Ok(())
}

/// Runs `deliver`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<DeliverReport> {
    match &a.action {
        Action::Install(i) => install(i),
        Action::Aws(x) => {
            g.require_token_namespace()?;
            validate(x)?;
            aws(g, x).await
        }
    }
}

fn install(i: &InstallArgs) -> Result<DeliverReport> {
    let mut flags: Vec<String> = i.deliver_flags.clone();
    // The flags must be valid `deliver aws` flags: parse them now, not in a crash-looping pod.
    let mut argv = vec!["kubectl-jointoken", "deliver", "aws", "--watch"];
    argv.extend(flags.iter().map(String::as_str));
    let parsed = <crate::commands::Cli as clap::Parser>::try_parse_from(&argv).map_err(|e| {
        Error::usage(format!(
            "the flags after -- are not valid for deliver aws: {}",
            e.kind()
        ))
    })?;
    let lease = match parsed.command {
        crate::commands::Command::Deliver(Args {
            action: Action::Aws(x),
        }) => {
            validate(&x)?;
            x.lease_name
        }
        _ => {
            return Err(Error::usage(
                "the flags after -- are not valid for deliver aws",
            ));
        }
    };
    flags.insert(0, "--watch".into());
    let objects = deliver::deployment::objects(&i.image, &lease, i.replicas, &flags);
    let yaml = deliver::deployment::to_yaml(&objects)
        .map_err(|e| Error::runtime(format!("cannot render YAML: {e}")))?;
    Ok(DeliverReport {
        pass: PassReport::default(),
        manifest: Some(yaml),
    })
}

#[cfg(not(feature = "aws"))]
async fn aws(_g: &GlobalArgs, _a: &AwsArgs) -> Result<DeliverReport> {
    Err(Error::usage(
        "this build of kubectl-jointoken has no AWS support: install a release build, or build \
         with `cargo build --features aws`",
    ))
}

#[cfg(feature = "aws")]
async fn aws(g: &GlobalArgs, a: &AwsArgs) -> Result<DeliverReport> {
    use crate::aws::Aws;
    use crate::deliver::select::Groups;
    let c = crate::cluster::connect(g).await?;
    let join = crate::join::JoinInfo::for_cluster(&c, a.endpoint.endpoint.as_deref(), None).await?;
    let config = crate::aws::sdk_config(a.region.clone()).await;
    let groups = if a.asg.is_empty() {
        Groups::Tags(a.asg_filter.clone())
    } else {
        Groups::Names(a.asg.clone())
    };
    let provider = Aws::new(&config, groups, a.tag_key.clone(), a.node_name.clone());
    let settings = deliver::Settings {
        name: a.name.clone(),
        ttl: a.ttl,
        max_joins: a.max_joins,
        join,
        dry_run: a.dry_run.dry_run,
    };
    if !a.watch {
        let pass = deliver::run_pass(&c, &provider, &settings).await?;
        return Ok(DeliverReport {
            pass,
            manifest: None,
        });
    }
    watch(&c, &provider, &settings, a).await
}

/// The `--watch` loop: take the Lease (or wait for it), then a pass every interval while it is
/// renewed; SIGINT/SIGTERM end it and release the Lease.
#[cfg(feature = "aws")]
async fn watch(
    c: &crate::cluster::Cluster,
    p: &dyn deliver::Provider,
    s: &deliver::Settings,
    a: &AwsArgs,
) -> Result<DeliverReport> {
    use crate::lease::{self, Attempt, Renewing};
    use crate::reporter;
    let me = lease::identity(
        &std::env::var("HOSTNAME").unwrap_or_else(|_| "deliver".into()),
        jiff::Timestamp::now(),
    );
    let secs = i32::try_from((a.interval.as_secs() * 3).max(30)).unwrap_or(i32::MAX);
    // Registered now, not on first poll: a TERM during the first pass must end the loop
    // cleanly (Lease released), not kill the process.
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            return Err(Error::runtime(format!("cannot handle signals: {e}")));
        }
    };
    let stop = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    };
    tokio::pin!(stop);
    let mut last = PassReport::default();
    let held = loop {
        match lease::try_acquire(c, &a.lease_name, &me, secs).await? {
            Attempt::Held(l) => break *l,
            Attempt::Busy(holder) => {
                reporter::note(format!(
                    "lease kube-system/{} is held by {holder}; waiting",
                    a.lease_name
                ));
                tokio::select! {
                    _ = &mut stop => return Ok(DeliverReport { pass: last, manifest: None }),
                    _ = tokio::time::sleep(a.interval) => {}
                }
            }
        }
    };
    let renewing = Renewing::start(c, held);
    loop {
        match deliver::run_pass(c, p, s).await {
            Ok(r) => {
                reporter::note(format!(
                    "{}: pass done, {} write(s), {} instance(s)",
                    p.describe(),
                    r.writes,
                    r.items.len()
                ));
                last = r;
            }
            Err(e) => reporter::warn(format!("pass failed: {e}")),
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(a.interval) => {}
        }
    }
    let (lease, problem) = renewing.stop().await;
    if let Some(l) = lease {
        lease::release(c, l).await?;
    }
    if let Some(pr) = problem {
        reporter::warn(pr);
    }
    Ok(DeliverReport {
        pass: last,
        manifest: None,
    })
}

impl Report for DeliverReport {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        vec!["INSTANCE", "NODE", "ACTION", "DETAIL"]
    }

    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        self.pass
            .items
            .iter()
            .map(|i| {
                vec![
                    i.instance.clone(),
                    if i.node.is_empty() {
                        "<none>".into()
                    } else {
                        crate::output::cell(&i.node, crate::output::MAX_CELL)
                    },
                    i.action.clone(),
                    crate::output::cell(&i.detail, crate::output::MAX_CELL * 2),
                ]
            })
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.pass.items.iter().map(|i| i.instance.clone()).collect()
    }

    fn document(&self) -> serde_json::Value {
        let items: Vec<_> = self
            .pass
            .items
            .iter()
            .map(|i| json!({"instance": i.instance, "node": i.node, "action": i.action, "detail": i.detail}))
            .collect();
        let calls: serde_json::Map<String, serde_json::Value> = self
            .pass
            .calls
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({"items": items, "writes": self.pass.writes, "calls": calls})
    }

    fn raw(&self) -> Option<String> {
        self.manifest.clone()
    }
}
