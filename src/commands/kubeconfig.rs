//! `kubeconfig`: a bootstrap kubeconfig for kubelets (`--bootstrap-kubeconfig`) and Krustlet
//! (`--bootstrap-file`), or a short-lived service-account kubeconfig via the TokenRequest API.
//!
//! A service account's credential can also be published (`--publish`, the same sinks and
//! sink flags as `create --publish`) as a [`crate::publish::SaRecord`] holding the kubeconfig
//! or the bare token (`--publish-value`), and printed in the CI formats (`--format`). Renewal
//! is this same command run by any scheduler with `--renew-before` (or `schedule run
//! --service-account` under the rotation timer's Lease): both go through
//! [`sa_token::renew`], which reads what the sinks hold (validated as hostile input) and
//! requests a new token only when a record is missing, invalid, or expires within the margin.
//! Vault's check-and-set with the "never replaced by one that expires earlier" rule keeps two
//! overlapping runs safe.

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::authentication::v1::BoundObjectReference;

use crate::cli::TokenFlags;
use crate::cli::{DryRun, DryRunArgs, GlobalArgs};
use crate::cluster::{self, Cluster};
use crate::kubeconfig::{self as kc, BOOTSTRAP_USER};
use crate::output::{Document, Report};
use crate::publish::sa;
use crate::publish::{self, PublishReport, PublishValue, SinkArgs, SinkKind, ci, file};
use crate::reporter;
use crate::sa_token::{self, Renewed};
use crate::signals::Armed;
use crate::store::TokenStore;
use crate::{Error, Result, duration, pki};

/// Write a bootstrap kubeconfig (user tls-bootstrap-token-user, CA embedded) for kubelet
/// --bootstrap-kubeconfig or Krustlet --bootstrap-file, or with --service-account a
/// kubeconfig holding a short-lived service-account token from the TokenRequest API.
///
/// Printed to stdout, or written atomically with mode 0600 to --output-file.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Use this existing bootstrap token (id.secret).
    #[arg(long, conflicts_with_all = ["create", "service_account"])]
    pub token: Option<String>,
    /// Create a fresh bootstrap token for the kubeconfig (takes create's --ttl, --usages,
    /// --groups, --description).
    #[arg(long, conflicts_with = "service_account")]
    pub create: bool,
    /// Token properties for --create.
    #[command(flatten)]
    pub flags: TokenFlags,
    /// Make a service-account kubeconfig for this service account (namespace from -n, else
    /// the context's).
    #[arg(long, value_name = "NAME")]
    pub service_account: Option<String>,
    /// Lifetime of the service-account token (Go duration; the apiserver's minimum is 10m).
    #[arg(long, default_value = "1h", value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub duration: Duration,
    /// Audience of the service-account token (repeatable; default: the apiserver's).
    #[arg(long)]
    pub audience: Vec<String>,
    /// Bind the service-account token to an object of this kind (Pod, Secret, Node).
    #[arg(long, value_name = "KIND", requires = "bound_object_name")]
    pub bound_object_kind: Option<String>,
    /// Name of the bound object.
    #[arg(long, value_name = "NAME", requires = "bound_object_kind")]
    pub bound_object_name: Option<String>,
    /// UID of the bound object.
    #[arg(long, value_name = "UID", requires = "bound_object_kind")]
    pub bound_object_uid: Option<String>,
    /// API server URL to put in the kubeconfig (default: https:// + the join endpoint).
    #[arg(long, value_name = "URL", conflicts_with = "endpoint")]
    pub server: Option<String>,
    /// Do not check that --token exists in the cluster and is valid (for a kubeconfig meant for
    /// another cluster; the check is also skipped when --server names another server).
    #[arg(long, requires = "token")]
    pub no_check: bool,
    /// Join endpoint (the kubeconfig's server is https://HOST:PORT).
    #[command(flatten)]
    pub endpoint: crate::cli::EndpointArgs,
    /// PEM CA bundle to embed (default: the current context's CA).
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Write to this file (atomically, mode 0600) instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
    /// Replace --output-file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Dry run (for --create).
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    /// Publish the service account's credential: vault, file, secret (comma-separated; the
    /// sink flags are create --publish's). Stdout then shows one line per sink, not the secret.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "SINKS",
        requires = "service_account",
        conflicts_with = "output_file",
        help_heading = "Publishing"
    )]
    pub publish: Vec<SinkKind>,
    /// What the published record holds besides its description: the kubeconfig (the
    /// default) or the bare token.
    #[arg(
        long,
        value_enum,
        requires = "service_account",
        help_heading = "Publishing"
    )]
    pub publish_value: Option<PublishValue>,
    /// Print the service account's record in a CI format: github-actions (::add-mask:: first,
    /// outputs to $GITHUB_OUTPUT) or gitlab-dotenv (needs --publish-value token).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        requires = "service_account",
        conflicts_with = "output_file",
        help_heading = "Publishing"
    )]
    pub format: Option<CiFormat>,
    /// Renew only when due: request and publish a new token only if a sink lacks a valid
    /// record of this service account that outlives this margin (for a timer or CronJob;
    /// must be shorter than --duration).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse_go, requires = "publish", help_heading = "Publishing")]
    pub renew_before: Option<Duration>,
    /// Sink settings for --publish.
    #[command(flatten)]
    pub sinks: SinkArgs,
}

/// The CI formats `--format` prints.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiFormat {
    /// GitHub Actions: ::add-mask:: for the token first, outputs to $GITHUB_OUTPUT.
    GithubActions,
    /// A GitLab artifacts:reports:dotenv file (KJT_TOKEN=…).
    GitlabDotenv,
}

impl Args {
    /// Whether the service-account credential goes somewhere other than a plain kubeconfig.
    fn publishing(&self) -> bool {
        !self.publish.is_empty() || self.format.is_some()
    }

    /// `--publish-value`, defaulted.
    fn value(&self) -> PublishValue {
        self.publish_value.unwrap_or_default()
    }

    /// Flag combinations for publishing, checked before any request.
    fn check_publishing(&self) -> Result<()> {
        if !self.publishing() {
            return Ok(());
        }
        if self.dry_run.dry_run != DryRun::None {
            return Err(Error::usage(
                "--dry-run applies to --create: a service-account token cannot be requested \
                 without being issued; drop --dry-run",
            ));
        }
        let kc = self.value() == PublishValue::Kubeconfig;
        if kc && self.format == Some(CiFormat::GitlabDotenv) {
            return Err(Error::usage(
                "GitLab dotenv cannot hold a multi-line kubeconfig: add --publish-value token",
            ));
        }
        // Checked now, not when the outputs are written: a token requested for nothing is
        // a credential issued for no one.
        if kc
            && self.format == Some(CiFormat::GithubActions)
            && std::env::var_os("GITHUB_OUTPUT").is_none_or(|p| p.is_empty())
        {
            return Err(Error::usage(
                "the kubeconfig is a multi-line output, which needs $GITHUB_OUTPUT: run inside \
                 GitHub Actions, or add --publish-value token",
            ));
        }
        if kc
            && self.publish.contains(&SinkKind::File)
            && self.sinks.file.file_format == file::FileFormat::Env
        {
            return Err(Error::usage(
                "--file-format env cannot hold a multi-line kubeconfig: use --file-format join \
                 or json, or --publish-value token",
            ));
        }
        if self.renew_before.is_some()
            && self.publish.contains(&SinkKind::File)
            && self.sinks.file.file_format != file::FileFormat::Json
        {
            return Err(Error::usage(
                "--renew-before reads the file sink back, which only --file-format json can \
                 answer: add --file-format json",
            ));
        }
        if let Some(a) = self.audience.iter().find(|a| !sa::valid_audience(a)) {
            return Err(Error::usage(format!(
                "--audience {a:?} has characters outside [A-Za-z0-9:/._~%@+=-]: a published \
                 record cannot carry it safely"
            )));
        }
        if let Some(m) = self.renew_before
            && self.duration <= m
        {
            return Err(Error::usage(format!(
                "--duration {} is not longer than --renew-before {}: every run would renew; \
                 raise --duration",
                duration::format_go(self.duration),
                duration::format_go(m)
            )));
        }
        Ok(())
    }
}

/// `--server`: an https URL with a host (what a kubelet can connect to), without path,
/// query or credentials.
fn parse_server(s: &str) -> std::result::Result<String, String> {
    let u = reqwest::Url::parse(s)
        .map_err(|e| format!("not a URL ({e}): expected https://HOST:PORT"))?;
    if u.scheme() != "https" || u.host_str().is_none_or(str::is_empty) {
        return Err("expected https://HOST[:PORT]".into());
    }
    if !u.username().is_empty() || u.password().is_some() || u.query().is_some() || u.path() != "/"
    {
        return Err("expected https://HOST[:PORT] without credentials, path or query".into());
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// Runs `kubeconfig`; returns what goes to stdout.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<Document> {
    if a.token.is_none() && !a.create && a.service_account.is_none() {
        return Err(Error::usage(
            "say which credential to embed: --token ID.SECRET, --create, or --service-account NAME",
        ));
    }
    if a.service_account.is_none() {
        // clap waives `requires` when a conflicting flag (--token, --create) is present.
        if a.publishing() || a.publish_value.is_some() {
            return Err(Error::usage(
                "--publish, --format and --publish-value publish a service account's token: add \
                 --service-account NAME (bootstrap tokens: kubectl jointoken create --publish)",
            ));
        }
        g.require_token_namespace()?;
    }
    let token = crate::cli::parse_token(a.token.as_deref())?;
    let server_flag = a
        .server
        .as_deref()
        .map(parse_server)
        .transpose()
        .map_err(|e| Error::usage(format!("invalid --server: {e}")))?;
    if let Some(p) = &a.output_file {
        kc::check_writable(p, a.force)?;
    }
    if let Some(sa) = &a.service_account {
        if a.duration < sa_token::MIN_DURATION {
            return Err(Error::usage(format!(
                "--duration {} is below the apiserver's minimum of 10m for service account {sa}",
                duration::format_go(a.duration)
            )));
        }
        if !sa::valid_name(sa) {
            return Err(Error::usage(format!(
                "--service-account {sa:?} is not a Kubernetes name (lowercase letters, digits, \
                 '-' and '.')"
            )));
        }
        a.check_publishing()?;
    }
    let spec = if a.create {
        Some(a.flags.spec(None, Timestamp::now())?)
    } else {
        None
    };
    let ca_override = match &a.ca_file {
        Some(p) => {
            let pem = std::fs::read(p).map_err(|source| Error::Io {
                action: "cannot read",
                path: p.display().to_string(),
                source,
            })?;
            Some(
                pki::pem_bundle_to_der(&pem)
                    .map_err(|e| Error::usage(format!("--ca-file {}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    let c = cluster::connect(g).await?;
    let server = match server_flag {
        Some(s) => s,
        None => format!(
            "https://{}",
            crate::join::resolve_endpoint(&c, a.endpoint.endpoint.as_deref()).await
        ),
    };
    let ca = ca_override.unwrap_or_else(|| c.target.ca_certs.clone());
    if ca.is_empty() {
        return Err(Error::Config(format!(
            "no CA certificate for {server}: pass --ca-file with the cluster CA"
        )));
    }

    if let Some(sa) = &a.service_account {
        let ns = g
            .namespace
            .clone()
            .unwrap_or_else(|| c.target.default_namespace.clone());
        let r = sa_request(a, &ns, sa);
        if a.publishing() {
            return publish_sa(&c, g, a, &r, &server, &ca).await;
        }
        let (tok, expires) = sa_token::request(&c, &r).await?;
        reporter::note(format!(
            "service-account token for {ns}/{sa} expires at {}",
            crate::token::format_expiration(expires)
        ));
        let doc = sa_token::kubeconfig(&c, &r, &server, &ca, &tok);
        return emit(&doc, a).map(|t| Document::new("kubeconfig", t));
    }

    let store = TokenStore::new(&c);
    if let Some(t) = &token
        && !a.no_check
        && server == c.target.server
    {
        check_token(&store, t).await?;
    }
    // Armed before the token exists: an interrupt before the kubeconfig is written rolls the
    // token back instead of leaving it behind.
    let mut armed = spec.is_some().then(Armed::new);
    let (token, created) = match (token, spec) {
        (Some(t), _) => (t, None),
        (None, Some(spec)) => {
            let uid = store.create(&spec, a.dry_run.dry_run).await?;
            if uid.is_some() {
                reporter::note(format!("created bootstrap token {}", spec.token.id));
            }
            (spec.token, uid)
        }
        (None, None) => unreachable!("checked above"),
    };
    let doc = kc::token_kubeconfig(
        &c.target.cluster_name,
        &server,
        &ca,
        BOOTSTRAP_USER,
        &token.expose(),
        None,
    );
    let emitted = emit(&doc, a);
    let interrupted = armed
        .as_mut()
        .and_then(|s| futures::FutureExt::now_or_never(s.recv()));
    let Some(uid) = created else {
        return emitted.map(|t| Document::new("kubeconfig", t));
    };
    let failure = match (emitted, interrupted) {
        (Ok(s), None) => return Ok(Document::new("kubeconfig", s)),
        (Ok(_), Some(sig)) => {
            if let Some(p) = &a.output_file {
                let _ = std::fs::remove_file(p);
            }
            Err(sig)
        }
        (Err(e), _) => Ok(e),
    };
    // Leave no orphaned token behind a kubeconfig that was never (or not fully) delivered.
    let state = match store.delete(&token.id, &uid, DryRun::None).await {
        Ok(_) => format!("bootstrap token {} was deleted again", token.id),
        Err(del) => format!(
            "rolling back bootstrap token {} failed too: {del}",
            token.id
        ),
    };
    Err(match failure {
        Ok(e) => Error::runtime(format!("{e}; {state}")),
        Err(signal) => Error::Interrupted {
            signal,
            detail: format!("the kubeconfig was not delivered; {state}"),
        },
    })
}

/// A kubeconfig for a token the cluster does not know (or will not accept) only fails later,
/// on the node: check it now. The secret is compared, never printed.
async fn check_token(store: &TokenStore, t: &crate::token::Token) -> Result<()> {
    let id = &t.id;
    let Some(found) = store.get(id).await? else {
        return Err(Error::runtime(format!(
            "bootstrap token {id} does not exist in kube-system: create it first, or pass \
             --no-check for a kubeconfig meant for another cluster"
        )));
    };
    let r = &found.record;
    let problem = if r.token.as_ref().map(|x| x.expose()) != Some(t.expose()) {
        Some("its secret does not match the token given".to_string())
    } else if !r.problems.is_empty() {
        Some(r.problems.join("; "))
    } else if r.expires.is_expired(jiff::Timestamp::now()) {
        Some("it has expired".to_string())
    } else if !r.usages.iter().any(|u| u == "authentication") {
        Some("it lacks the authentication usage".to_string())
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(p) => Err(Error::runtime(format!(
            "bootstrap token {id} cannot authenticate a kubelet: {p}: create a fresh one \
             (kubectl jointoken kubeconfig --create)"
        ))),
    }
}

fn emit(doc: &kc::Doc, a: &Args) -> Result<String> {
    let yaml = crate::output::to_yaml(doc)?;
    match &a.output_file {
        Some(p) => {
            kc::write_secret_file(p, yaml.as_bytes(), a.force)?;
            crate::reporter::note(format!("wrote {} (mode 0600)", p.display()));
            Ok(String::new())
        }
        None => Ok(yaml),
    }
}

/// The TokenRequest the flags ask for.
fn sa_request(a: &Args, ns: &str, sa_name: &str) -> sa_token::Request {
    sa_token::Request {
        namespace: ns.to_string(),
        service_account: sa_name.to_string(),
        duration: a.duration,
        audiences: a.audience.clone(),
        bound: a
            .bound_object_kind
            .as_ref()
            .map(|kind| BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some(kind.clone()),
                name: a.bound_object_name.clone(),
                uid: a.bound_object_uid.clone(),
            }),
    }
}

/// `--publish` / `--format` for a service account: the renewal unit of [`sa_token::renew`],
/// then the CI text. Stdout: the CI text, else one line per sink.
async fn publish_sa(
    c: &Cluster,
    g: &GlobalArgs,
    a: &Args,
    r: &sa_token::Request,
    server: &str,
    ca: &[Vec<u8>],
) -> Result<Document> {
    let sinks = publish::build_sinks(&a.publish, &a.sinks, g, &c.target.cluster_name).await?;
    let renewed = sa_token::renew(c, &sinks, r, a.value(), server, ca, a.renew_before).await?;
    let (rec, report) = match renewed {
        Renewed::NotDue { due, .. } => {
            let due = crate::token::format_expiration(due);
            let table = SinkTable(
                sinks
                    .iter()
                    .map(|s| [s.name(), "not-due".into(), format!("renewal due at {due}")])
                    .collect(),
            );
            return Ok(Document::new("sinks", render_table(&table)?));
        }
        Renewed::Published { record, report } => (record, report),
    };
    let text = match a.format {
        Some(CiFormat::GithubActions) => {
            let out = std::env::var_os("GITHUB_OUTPUT")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from);
            ci::github_actions(rec.as_ref(), out.as_deref())?
        }
        Some(CiFormat::GitlabDotenv) => ci::gitlab_dotenv(rec.as_ref()),
        None => render_table(&SinkTable::of(&report))?,
    };
    Ok(Document::new("sinks", text))
}

/// One row per sink: SINK, RESULT, DETAIL (never the secret).
struct SinkTable(Vec<[String; 3]>);

impl SinkTable {
    fn of(r: &PublishReport) -> Self {
        SinkTable(
            r.results
                .iter()
                .map(|r| match &r.result {
                    Ok(o) => [r.sink.clone(), o.word().into(), o.detail().into()],
                    Err(e) => [r.sink.clone(), "failed".into(), e.to_string()],
                })
                .collect(),
        )
    }
}

impl Report for SinkTable {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        vec!["SINK", "RESULT", "DETAIL"]
    }
    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        self.0.iter().map(|r| r.to_vec()).collect()
    }
    fn names(&self) -> Vec<String> {
        self.0.iter().map(|r| r[0].clone()).collect()
    }
    fn document(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.0
                .iter()
                .map(|r| serde_json::json!({"sink": r[0], "result": r[1], "detail": r[2]}))
                .collect(),
        )
    }
}

fn render_table(t: &SinkTable) -> Result<String> {
    if t.0.is_empty() {
        return Ok(String::new());
    }
    crate::output::render(t, &Default::default())
}
