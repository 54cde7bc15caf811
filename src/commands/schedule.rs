//! `schedule`: the rotation job (`schedule run`, what the timer starts) and the systemd units
//! that run it on control-plane nodes (`render`, `install`, `status`, `uninstall`).
//!
//! `schedule run` takes a Lease so that with several control-plane nodes exactly one rotates;
//! it is idempotent (a published token with enough validity left makes it a no-op), publishes
//! a new token before pruning the ones it supersedes, and deletes the new token again when
//! publishing fails, so the previously published token stays valid and in place.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};

use super::create::{self, JoinInfo, TokenFlags};
use crate::cli::{DryRun, GlobalArgs};
use crate::cluster;
use crate::lease::{self, Attempt};
use crate::publish::{self, JoinRecord, SinkArgs, SinkKind};
use crate::rotate::{self, Managed};
use crate::token::{self, TokenRecord};
use crate::{Error, Result, duration, systemd};

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
    #[arg(long, default_value = "8h", value_parser = duration::parse_go)]
    pub every: Duration,
    /// Rotate when the current token has less validity left than this (default: ttl − every
    /// + 1h, so each timer tick rotates and tokens overlap).
    #[arg(long, value_parser = duration::parse_go)]
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
    /// Where to publish (comma-separated): vault, file, secret.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub publish: Vec<SinkKind>,
    /// Sink settings.
    #[command(flatten)]
    pub sinks: SinkArgs,
}

/// Flags of `install`/`render`.
#[derive(clap::Args, Debug, Clone)]
pub struct InstallArgs {
    /// Timer interval: divides a day (1h … 24h) or an hour (1m … 30m).
    #[arg(long, default_value = "8h", value_parser = duration::parse_go)]
    pub every: Duration,
    /// Spread of the per-node fixed random delay.
    #[arg(long, default_value = "5m", value_parser = duration::parse_go)]
    pub randomized_delay: Duration,
    /// Longest a run may take.
    #[arg(long, default_value = "5m", value_parser = duration::parse_go)]
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
    /// Flags for `schedule run`, stored in the config file (after `--`), e.g.
    /// `-- --publish vault --vault-addr https://vault:8200 --path secret/k8s/join`.
    #[arg(last = true, value_name = "RUN FLAGS")]
    pub run_flags: Vec<String>,
}

/// Flags of `status`/`uninstall`.
#[derive(clap::Args, Debug, Clone)]
pub struct RootArgs {
    /// The root the units were installed into.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
}

/// Runs `schedule`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<String> {
    match &a.action {
        Action::Run(r) => rotate_once(g, r).await,
        Action::Render(i) if i.cronjob => cronjob_yaml(i),
        Action::Install(i) if i.cronjob => {
            apply_cronjob(g, i).await?;
            eprintln!(
                "applied the CronJob {} and its RBAC in kube-system",
                crate::cronjob::NAME
            );
            Ok(String::new())
        }
        Action::Render(i) => {
            let files = render(i)?;
            Ok(files
                .iter()
                .map(|(p, body)| format!("# {p}\n{body}\n"))
                .collect::<Vec<_>>()
                .join(""))
        }
        Action::Install(i) => install(i),
        Action::Status(r) => status(r),
        Action::Uninstall(r) => uninstall(r),
    }
}

/// Where `schedule run`'s config comes from: `--config`, else the default file if present.
pub fn config_path(a: &RunArgs) -> Option<PathBuf> {
    a.config
        .clone()
        .or_else(|| Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()))
}

/// Converts a config file (YAML map of long flag names) into `--flag=value` arguments.
pub fn config_to_args(text: &str, path: &Path) -> Result<Vec<String>> {
    let bad = |e: String| Error::usage(format!("config file {}: {e}", path.display()));
    let map: serde_json::Map<String, serde_json::Value> = if text.trim().is_empty() {
        Default::default()
    } else {
        serde_saphyr::from_str(text).map_err(|e| bad(e.to_string().replace('\n', " ")))?
    };
    let mut out = Vec::new();
    for (k, v) in map {
        if k == "config" || k.starts_with('-') {
            return Err(bad(format!("key {k:?} is not allowed")));
        }
        let scalar = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            serde_json::Value::Bool(b) => Ok(b.to_string()),
            _ => Err(bad(format!(
                "key {k:?}: expected a string, number, boolean or list"
            ))),
        };
        match &v {
            serde_json::Value::Bool(true) => out.push(format!("--{k}")),
            serde_json::Value::Bool(false) | serde_json::Value::Null => {}
            serde_json::Value::Array(items) => {
                for i in items {
                    out.push(format!("--{k}={}", scalar(i)?));
                }
            }
            other => out.push(format!("--{k}={}", scalar(other)?)),
        }
    }
    Ok(out)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

async fn rotate_once(g: &GlobalArgs, a: &RunArgs) -> Result<String> {
    g.require_token_namespace()?;
    crate::token::validate_label_value(&a.instance)
        .map_err(|e| Error::usage(format!("--instance: {e}")))?;
    // Under systemd the admin kubeconfig arrives as a credential, never via the environment.
    let mut g = g.clone();
    if g.kubeconfig.is_none()
        && let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY")
    {
        let p = Path::new(&dir).join(systemd::CRED_KUBECONFIG);
        if p.exists() {
            g.kubeconfig = Some(p);
        }
    }
    if a.publish.is_empty() {
        return Err(Error::usage(
            "say where to publish: --publish vault[,file,secret] or `publish:` in the config file",
        ));
    }
    let ttl = a.token.ttl;
    if ttl.is_zero() {
        return Err(Error::usage(
            "rotation needs a finite --ttl (tokens must expire)",
        ));
    }
    let min_remaining = match a.min_remaining {
        Some(m) => m,
        None => (ttl + Duration::from_secs(3600)).saturating_sub(a.every),
    };
    if min_remaining >= ttl {
        return Err(Error::usage(format!(
            "--min-remaining {} is not below --ttl {}: every run would rotate; raise --ttl",
            duration::format_go(min_remaining),
            duration::format_go(ttl)
        )));
    }
    let min_remaining = SignedDuration::try_from(min_remaining)
        .map_err(|_| Error::usage("--min-remaining is too large"))?;
    let me = a.identity.clone().unwrap_or_else(hostname);
    let c = cluster::connect(&g).await?;
    let join = JoinInfo::from_target(&c.target, None)?;
    let sinks = publish::build_sinks(&a.publish, &a.sinks, &g, &c.target.cluster_name).await?;

    let lease_name = a
        .lease_name
        .clone()
        .unwrap_or_else(|| format!("kubectl-jointoken-rotate-{}", a.instance));
    let held = match lease::try_acquire(&c, &lease_name, &me, a.lease_seconds).await? {
        Attempt::Held(l) => *l,
        Attempt::Busy(holder) => {
            eprintln!("skipped: lease kube-system/{lease_name} is held by {holder}");
            return Ok(String::new());
        }
    };
    let result = rotate_locked(&c, a, &join, &sinks, min_remaining).await;
    lease::release(&c, held).await?;
    result
}

async fn managed_tokens(c: &cluster::Cluster, instance: &str) -> Result<Vec<Managed>> {
    let selector = format!("{}={instance}", rotate::MANAGED_LABEL);
    let secrets = super::list::list_secrets(
        c,
        Some(&format!("type={}", token::SECRET_TYPE)),
        Some(&selector),
    )
    .await?;
    Ok(secrets
        .iter()
        .map(|s| Managed {
            record: TokenRecord::from_secret(s),
            published: s
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(rotate::PUBLISHED_ANNOTATION)),
        })
        .collect())
}

async fn rotate_locked(
    c: &cluster::Cluster,
    a: &RunArgs,
    join: &JoinInfo,
    sinks: &[Box<dyn publish::Sink>],
    min_remaining: SignedDuration,
) -> Result<String> {
    let now = Timestamp::now();
    let tokens = managed_tokens(c, &a.instance).await?;
    if let Some(cur) = rotate::current(&tokens, now, min_remaining) {
        let until = match cur.record.expires {
            token::Expiry::At(t) => token::format_expiration(t),
            _ => "<never>".into(),
        };
        eprintln!(
            "nothing to do: {} is published and valid until {until}",
            cur.record.display_token(false)
        );
        return Ok(String::new());
    }
    let mut flags = a.token.clone();
    if flags.description.is_none() {
        flags.description = Some(format!(
            "rotated by kubectl-jointoken every {}",
            duration::format_go(a.every)
        ));
    }
    let mut spec = flags.spec(None, now)?;
    spec.labels
        .insert(rotate::MANAGED_LABEL.into(), a.instance.clone());
    create::write_token(c, &spec, DryRun::None).await?;
    let id = spec.token.id.clone();
    let record = JoinRecord::new(spec.token.clone(), spec.expires, join, &c.target.ca_certs);
    let report = publish::publish_all(sinks, &record).await;
    report.eprint();
    if let Some(e) = report.failure() {
        // The previous token stays published and valid; the new one must not linger unpublished.
        create::delete_token(c, &id).await?;
        return Err(Error::runtime(format!(
            "{e}; the new token {id} was deleted again and the previously published token is unchanged"
        )));
    }
    let api: Api<Secret> = Api::namespaced(c.client.clone(), token::NAMESPACE);
    let patch = serde_json::json!({"metadata": {"annotations": {
        rotate::PUBLISHED_ANNOTATION: token::format_expiration(Timestamp::now())
    }}});
    api.patch(
        &id.secret_name(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map_err(|e| {
        Error::kube(
            format!("cannot mark bootstrap token {id} as published"),
            e,
            &c.target,
        )
    })?;

    // Only now that the new token is published: prune what it supersedes.
    let tokens = managed_tokens(c, &a.instance).await?;
    let mut pruned = Vec::new();
    for i in rotate::superseded(
        &tokens,
        &id.secret_name(),
        a.keep_previous,
        Timestamp::now(),
    ) {
        let r = &tokens[i].record;
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: r.uid.clone(),
                resource_version: None,
            }),
            ..Default::default()
        };
        match api.delete(&r.name, &dp).await {
            Ok(_) => pruned.push(r.display_token(false)),
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
            Err(e) => tracing::warn!(
                "cannot prune superseded {}: {}",
                r.name,
                crate::error::error_chain(&e)
            ),
        }
    }
    eprintln!(
        "rotated: published {} (expires {}); pruned {} superseded token(s)",
        spec.token.masked(),
        record.expiration_text(),
        pruned.len()
    );
    Ok(format!("{}\n", spec.token.masked()))
}

/// The files `install` writes, relative to the root, with their contents.
pub fn render(i: &InstallArgs) -> Result<Vec<(String, String)>> {
    let config = DEFAULT_CONFIG.to_string();
    let params = systemd::UnitParams {
        exec: i.exec.clone(),
        config: config.clone(),
        every: i.every,
        randomized_delay: i.randomized_delay,
        timeout: i.timeout,
        kubeconfig_credential: i.kubeconfig_credential.clone(),
        vault_token_credential: i.vault_token_credential.clone(),
    };
    let timer = systemd::timer(&params).map_err(Error::usage)?;
    // Validate the stored run flags now, not at 3am on the first tick.
    let mut probe = vec![
        "kubectl-jointoken".to_string(),
        "schedule".into(),
        "run".into(),
    ];
    probe.extend(i.run_flags.iter().cloned());
    <super::Cli as clap::Parser>::try_parse_from(&probe)
        .map_err(|e| Error::usage(format!("invalid run flags after --: {}", e.kind())))?;
    let mut cfg = format!(
        "# kubectl-jointoken schedule run: one key per long flag (see `kubectl jointoken schedule run --help`).\nevery: {}\n",
        duration::format_go(i.every)
    );
    let mut it = i.run_flags.iter().peekable();
    while let Some(f) = it.next() {
        let Some(name) = f.strip_prefix("--") else {
            return Err(Error::usage(format!(
                "invalid run flag {f:?}: expected --name or --name=value"
            )));
        };
        let (k, v) = match name.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => match it.peek() {
                Some(n) if !n.starts_with("--") => (name.to_string(), it.next().cloned()),
                _ => (name.to_string(), None),
            },
        };
        if k == "every" {
            continue;
        }
        match v {
            Some(v) => cfg.push_str(&format!("{k}: {}\n", serde_json::Value::String(v))),
            None => cfg.push_str(&format!("{k}: true\n")),
        }
    }
    Ok(vec![
        (
            format!("/etc/systemd/system/{}", systemd::SERVICE),
            systemd::service(&params),
        ),
        (format!("/etc/systemd/system/{}", systemd::TIMER), timer),
        (config, cfg),
    ])
}

fn cronjob_objects(i: &InstallArgs) -> Result<crate::cronjob::Objects> {
    let image = i.image.as_deref().ok_or_else(|| {
        Error::usage("--cronjob needs --image: an image with kubectl-jointoken on its PATH")
    })?;
    // Same validation of the stored run flags as for the units.
    render(i)?;
    let schedule = crate::cronjob::cron_expr(i.every).map_err(Error::usage)?;
    let mut flags = vec![format!("--every={}", duration::format_go(i.every))];
    flags.extend(i.run_flags.iter().cloned());
    let lease = run_flag_value(&i.run_flags, "lease-name").unwrap_or_else(|| {
        format!(
            "kubectl-jointoken-rotate-{}",
            run_flag_value(&i.run_flags, "instance").unwrap_or_else(|| "default".into())
        )
    });
    Ok(crate::cronjob::objects(&schedule, image, &lease, &flags))
}

/// The value of `--name` in stored run flags (`--name=v` or `--name v`).
fn run_flag_value(flags: &[String], name: &str) -> Option<String> {
    let long = format!("--{name}");
    let mut it = flags.iter();
    while let Some(f) = it.next() {
        if let Some(v) = f.strip_prefix(&format!("{long}=")) {
            return Some(v.to_string());
        }
        if *f == long {
            return it.next().cloned();
        }
    }
    None
}

fn cronjob_yaml(i: &InstallArgs) -> Result<String> {
    crate::cronjob::to_yaml(&cronjob_objects(i)?)
        .map_err(|e| Error::runtime(format!("cannot render YAML: {e}")))
}

async fn apply_cronjob(g: &GlobalArgs, i: &InstallArgs) -> Result<()> {
    let o = cronjob_objects(i)?;
    let c = cluster::connect(g).await?;
    apply(&c, &o.service_account).await?;
    apply(&c, &o.role).await?;
    apply(&c, &o.role_binding).await?;
    apply(&c, &o.cron_job).await
}

/// Server-side apply of one kube-system object (named `cronjob::NAME`), forcing our fields.
async fn apply<K>(c: &cluster::Cluster, obj: &K) -> Result<()>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + k8s_openapi::Resource
        + Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let name = crate::cronjob::NAME;
    Api::<K>::namespaced(c.client.clone(), token::NAMESPACE)
        .patch(
            name,
            &PatchParams::apply("kubectl-jointoken").force(),
            &Patch::Apply(&with_kind(obj)),
        )
        .await
        .map(drop)
        .map_err(|e| {
            Error::kube(
                format!(
                    "cannot apply {} kube-system/{name}",
                    <K as k8s_openapi::Resource>::KIND
                ),
                e,
                &c.target,
            )
        })
}

/// Server-side apply needs apiVersion and kind in the body.
fn with_kind<T: serde::Serialize + k8s_openapi::Resource>(v: &T) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    j["apiVersion"] = T::API_VERSION.into();
    j["kind"] = T::KIND.into();
    j
}

fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

fn systemctl(args: &[&str]) -> Result<String> {
    let out = std::process::Command::new("systemctl")
        .args(args)
        .output()
        .map_err(|e| Error::runtime(format!("cannot run systemctl {}: {e}", args.join(" "))))?;
    if !out.status.success() {
        return Err(Error::runtime(format!(
            "systemctl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn install(i: &InstallArgs) -> Result<String> {
    let files = render(i)?;
    for (p, _) in &files {
        let path = under(&i.root, p);
        if path.exists() && !i.force {
            return Err(Error::usage(format!(
                "{} exists: pass --force to replace it",
                path.display()
            )));
        }
    }
    for (p, body) in &files {
        let path = under(&i.root, p);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                action: "cannot create",
                path: dir.display().to_string(),
                source,
            })?;
        }
        // World-readable on purpose: units and config hold no secrets (those come in through
        // LoadCredential=), and the service's dynamic user must read the config.
        crate::kubeconfig::write_file_atomic(&path, body.as_bytes(), true, 0o644)?;
        eprintln!("wrote {}", path.display());
    }
    if i.root == Path::new("/") && !i.no_enable {
        systemctl(&["daemon-reload"])?;
        systemctl(&["enable", "--now", systemd::TIMER])?;
        eprintln!("enabled and started {}", systemd::TIMER);
    }
    Ok(String::new())
}

fn status(r: &RootArgs) -> Result<String> {
    let _ = r;
    let timer = systemctl(&[
        "show",
        systemd::TIMER,
        "-p",
        "ActiveState,LastTriggerUSec,NextElapseUSecRealtime",
    ])?;
    let service = systemctl(&[
        "show",
        systemd::SERVICE,
        "-p",
        "Result,ExecMainStatus,ExecMainExitTimestamp",
    ])?;
    Ok(format!("{timer}{service}"))
}

fn uninstall(r: &RootArgs) -> Result<String> {
    if r.root == Path::new("/") {
        let _ = systemctl(&["disable", "--now", systemd::TIMER]);
    }
    for p in [
        format!("/etc/systemd/system/{}", systemd::SERVICE),
        format!("/etc/systemd/system/{}", systemd::TIMER),
        DEFAULT_CONFIG.to_string(),
    ] {
        let path = under(&r.root, &p);
        match std::fs::remove_file(&path) {
            Ok(()) => eprintln!("removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Io {
                    action: "cannot remove",
                    path: path.display().to_string(),
                    source,
                });
            }
        }
    }
    if r.root == Path::new("/") {
        systemctl(&["daemon-reload"])?;
    }
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_become_flags() {
        let args = config_to_args(
            "every: 8h\npublish: [vault, file]\nno-verify: true\nkeep-previous: 2\nreplace-newer: false\n",
            Path::new("c.yaml"),
        )
        .unwrap();
        assert_eq!(
            args,
            vec![
                // Keys come out sorted (a YAML map has no meaningful order for flags).
                "--every=8h",
                "--keep-previous=2",
                "--no-verify",
                "--publish=vault",
                "--publish=file",
            ]
        );
        assert!(config_to_args("config: x\n", Path::new("c")).is_err());
        assert!(config_to_args("a: {b: c}\n", Path::new("c")).is_err());
        assert!(config_to_args("", Path::new("c")).unwrap().is_empty());
    }
}
