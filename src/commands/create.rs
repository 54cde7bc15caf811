//! `create`: writes a bootstrap-token Secret exactly as `kubeadm token create` does and
//! reports the token with its join command.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use serde_json::json;

use crate::cli::{DryRun, DryRunArgs, Format, GlobalArgs, OutputArgs};
use crate::cluster::{self, Cluster, Target};
use crate::output::Report;
use crate::publish::{self, JoinRecord, SinkArgs, SinkKind};
use crate::token::{self, Token, TokenSpec};
use crate::{Error, Result, duration, join, pki};

/// Token properties shared by `create` and `kubeconfig --create`.
#[derive(clap::Args, Debug, Clone)]
pub struct TokenFlags {
    /// How long the token is valid, as a Go duration (90s, 2h30m); 0 = never expires.
    #[arg(long, default_value = "24h", value_parser = duration::parse_go)]
    pub ttl: std::time::Duration,
    /// What the token may be used for (comma-separated): signing, authentication.
    #[arg(long, value_delimiter = ',', default_value = "signing,authentication")]
    pub usages: Vec<String>,
    /// Extra groups the token authenticates as (comma-separated); each must match
    /// system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9].
    #[arg(long, value_delimiter = ',', default_value = token::DEFAULT_GROUP)]
    pub groups: Vec<String>,
    /// A human-readable description of the token.
    #[arg(long)]
    pub description: Option<String>,
}

/// Create a bootstrap token in kube-system, as `kubeadm token create` does, and print the
/// `kubeadm join` command that uses it.
///
/// The join command's endpoint is the current context's server; it carries one
/// --discovery-token-ca-cert-hash per CA certificate in the kubeconfig's bundle.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The token to create (abcdef.0123456789abcdef); default: a fresh one from the OS CSPRNG.
    #[arg(value_name = "TOKEN", conflicts_with = "token")]
    pub token_arg: Option<String>,
    /// The token to create (same as the positional TOKEN).
    #[arg(long)]
    pub token: Option<String>,
    /// Token properties.
    #[command(flatten)]
    pub flags: TokenFlags,
    /// Print the full join command (the default); --print-join-command=false prints only the
    /// token, as `kubeadm token create` does.
    #[arg(long, num_args = 0..=1, default_value_t = true, default_missing_value = "true", action = clap::ArgAction::Set, require_equals = true)]
    pub print_join_command: bool,
    /// Certificate key from `kubeadm init phase upload-certs --upload-certs`: prints the
    /// control-plane join command (--control-plane --certificate-key ...).
    #[arg(long, value_name = "HEX")]
    pub certificate_key: Option<String>,
    /// Dry run.
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Publish the new token in the same run: vault, file, secret (comma-separated). One
    /// unit: if any sink fails, the token is deleted again (see --keep-on-failure).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SINKS")]
    pub publish: Vec<SinkKind>,
    /// Keep the token when publishing it fails (default: delete it again).
    #[arg(long, requires = "publish")]
    pub keep_on_failure: bool,
    /// Sink settings for --publish.
    #[command(flatten)]
    pub sinks: SinkArgs,
}

/// What `create` did.
#[derive(Debug)]
pub struct CreateReport {
    /// The token spec written.
    pub spec: TokenSpec,
    /// Join details.
    pub join: JoinInfo,
    /// Whether to print the join command in table mode.
    pub print_join_command: bool,
    /// The dry-run mode used.
    pub dry_run: DryRun,
    /// `--publish` results: (sink, result word, detail).
    pub published: Vec<(String, String, String)>,
}

/// Everything a joining node needs besides the token.
#[derive(Debug, Clone)]
pub struct JoinInfo {
    /// `host:port`.
    pub endpoint: String,
    /// `sha256:<hex>` per CA certificate.
    pub ca_cert_hashes: Vec<String>,
    /// Control-plane certificate key.
    pub certificate_key: Option<String>,
}

impl JoinInfo {
    /// From the target's server and CA bundle; fails when there is no CA to pin.
    pub fn from_target(t: &Target, certificate_key: Option<String>) -> Result<Self> {
        if t.ca_certs.is_empty() {
            return Err(Error::Config(format!(
                "the kubeconfig has no CA certificate for {} (insecure-skip-tls-verify?), so \
                 there is nothing to pin in the join command: use a kubeconfig with \
                 certificate-authority-data",
                t.server
            )));
        }
        let ca_cert_hashes = pki::ca_cert_hashes(&t.ca_certs)
            .map_err(|e| Error::Config(format!("cannot read the kubeconfig's CA: {e}")))?;
        Ok(JoinInfo {
            endpoint: join::endpoint(&t.server),
            ca_cert_hashes,
            certificate_key,
        })
    }

    /// The worker join command for `token`.
    pub fn command(&self, token: &Token) -> String {
        join::command(&self.endpoint, &token.expose(), &self.ca_cert_hashes, None)
    }

    /// The control-plane join command, when a certificate key was given.
    pub fn control_plane_command(&self, token: &Token) -> Option<String> {
        self.certificate_key.as_deref().map(|k| {
            join::command(
                &self.endpoint,
                &token.expose(),
                &self.ca_cert_hashes,
                Some(k),
            )
        })
    }
}

impl TokenFlags {
    /// Builds and validates a spec for `token` (generated when `None`) at `now`.
    pub fn spec(&self, token: Option<Token>, now: Timestamp) -> Result<TokenSpec> {
        let token = match token {
            Some(t) => t,
            None => Token::generate()
                .map_err(|e| Error::runtime(format!("cannot read the OS random source: {e}")))?,
        };
        let expires = if self.ttl.is_zero() {
            None
        } else {
            let ttl = jiff::SignedDuration::try_from(self.ttl)
                .map_err(|_| Error::usage("--ttl is too large"))?;
            let t = now
                .checked_add(ttl)
                .map_err(|_| Error::usage("--ttl is too large"))?;
            // Whole seconds, as kubeadm writes RFC 3339 without fractions.
            Some(
                Timestamp::from_second(t.as_second())
                    .map_err(|_| Error::usage("--ttl is too large"))?,
            )
        };
        let spec = TokenSpec {
            token,
            description: self.description.clone(),
            expires,
            usages: self.usages.clone(),
            groups: self
                .groups
                .iter()
                .filter(|g| !g.is_empty())
                .cloned()
                .collect(),
            labels: BTreeMap::new(),
        };
        spec.validate().map_err(Error::usage)?;
        Ok(spec)
    }
}

/// Parses `--token`/positional token.
pub fn parse_token(s: Option<&str>) -> Result<Option<Token>> {
    s.map(|s| s.parse::<Token>().map_err(Error::usage))
        .transpose()
}

/// Writes the token's Secret; `AlreadyExists` when the id is taken.
pub async fn write_token(c: &Cluster, spec: &TokenSpec, dry_run: DryRun) -> Result<()> {
    if dry_run == DryRun::Client {
        return Ok(());
    }
    let api: Api<Secret> = Api::namespaced(c.client.clone(), token::NAMESPACE);
    let pp = PostParams {
        dry_run: dry_run == DryRun::Server,
        field_manager: Some("kubectl-jointoken".into()),
    };
    let id = spec.token.id.to_string();
    match api.create(&pp, &spec.to_secret()).await {
        Ok(s) => {
            tracing::info!(id, uid = ?s.metadata.uid, "created bootstrap token");
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 409 => Err(Error::AlreadyExists(id)),
        Err(e) => Err(Error::kube(
            format!("cannot create bootstrap token {id}"),
            e,
            &c.target,
        )),
    }
}

/// Deletes a token this run created (rollback after a later step failed).
pub async fn delete_token(c: &Cluster, id: &token::TokenId) -> Result<()> {
    let api: Api<Secret> = Api::namespaced(c.client.clone(), token::NAMESPACE);
    let dp = DeleteParams {
        preconditions: None::<Preconditions>,
        ..Default::default()
    };
    match api.delete(&id.secret_name(), &dp).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(Error::kube(
            format!("cannot delete bootstrap token {id}"),
            e,
            &c.target,
        )),
    }
}

/// Runs `create`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<CreateReport> {
    g.require_token_namespace()?;
    if let Some(k) = &a.certificate_key {
        join::validate_certificate_key(k).map_err(Error::usage)?;
        if !a.print_join_command {
            return Err(Error::usage(
                "--certificate-key needs the join command: drop --print-join-command=false",
            ));
        }
    }
    let token = parse_token(a.token.as_deref().or(a.token_arg.as_deref()))?;
    let spec = a.flags.spec(token, Timestamp::now())?;
    let c = cluster::connect(g).await?;
    // Resolve the pins before writing, so a kubeconfig without a CA leaves no token behind.
    let join = JoinInfo::from_target(&c.target, a.certificate_key.clone())?;
    if !a.publish.is_empty() && a.dry_run.dry_run != DryRun::None {
        return Err(Error::usage(
            "--publish would publish a token that --dry-run does not create: drop one of them",
        ));
    }
    // Sinks are checked (Vault login, mount lookup, folder, cluster access) before the token
    // exists, so most failures leave nothing to roll back.
    let sinks = publish::build_sinks(&a.publish, &a.sinks, g, &c.target.cluster_name).await?;
    write_token(&c, &spec, a.dry_run.dry_run).await?;
    if a.dry_run.dry_run != DryRun::None {
        eprintln!("dry run: bootstrap token {} was not created", spec.token.id);
    }
    let published = if sinks.is_empty() {
        Vec::new()
    } else {
        publish_or_roll_back(&c, &spec, &join, &sinks, a.keep_on_failure).await?
    };
    Ok(CreateReport {
        spec,
        join,
        print_join_command: a.print_join_command,
        dry_run: a.dry_run.dry_run,
        published,
    })
}

/// Publishes the token just created; unless every sink now holds it, deletes it again (or
/// keeps it with `keep`) and fails with what failed and what is left.
async fn publish_or_roll_back(
    c: &Cluster,
    spec: &TokenSpec,
    join: &JoinInfo,
    sinks: &[Box<dyn publish::Sink>],
    keep: bool,
) -> Result<Vec<(String, String, String)>> {
    let rec = JoinRecord::new(spec.token.clone(), spec.expires, join, &c.target.ca_certs);
    let report = publish::publish_all(sinks, &rec).await;
    report.eprint();
    if report.all_hold_ours() {
        return Ok(report.successes());
    }
    let id = &spec.token.id;
    // What failed: errors, or sinks that kept a newer token instead of ours.
    let failed: Vec<String> = report
        .results
        .iter()
        .filter_map(|r| match &r.result {
            Err(e) => Some(format!("{}: {e}", r.sink)),
            Ok(o) if !o.holds_ours() => Some(format!("{}: {}", r.sink, o.detail())),
            Ok(_) => None,
        })
        .collect();
    let holding: Vec<String> = report
        .results
        .iter()
        .filter(|r| matches!(&r.result, Ok(o) if o.holds_ours()))
        .map(|r| r.sink.clone())
        .collect();
    let state = if keep {
        format!("bootstrap token {id} was kept (--keep-on-failure)")
    } else {
        match delete_token(c, id).await {
            Ok(()) => format!("bootstrap token {id} was deleted again"),
            Err(e) => format!(
                "deleting bootstrap token {id} failed too ({e}): delete it with \
                 `kubectl -n kube-system delete secret {}`",
                id.secret_name()
            ),
        }
    };
    let mut msg = format!(
        "cannot publish bootstrap token {id}: {}; {state}",
        failed.join("; ")
    );
    if !holding.is_empty() {
        msg.push_str(&format!(
            "; already published to {} (now naming {}): publish a valid token there again",
            holding.join(", "),
            if keep {
                "the kept token"
            } else {
                "a deleted token"
            }
        ));
    }
    Err(Error::runtime(msg))
}

impl Report for CreateReport {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        vec!["TOKEN", "EXPIRES", "USAGES", "EXTRA GROUPS"]
    }

    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        let s = &self.spec;
        vec![vec![
            s.token.expose(),
            s.expires
                .map(token::format_expiration)
                .unwrap_or_else(|| "<never>".into()),
            s.usages.join(","),
            if s.groups.is_empty() {
                "<none>".into()
            } else {
                s.groups.join(",")
            },
        ]]
    }

    fn names(&self) -> Vec<String> {
        vec![format!("secret/{}", self.spec.token.id.secret_name())]
    }

    fn document(&self) -> serde_json::Value {
        let s = &self.spec;
        let mut v = json!({
            "token": s.token.expose(),
            "id": s.token.id.as_str(),
            "expiration": s.expires.map(token::format_expiration),
            "usages": s.usages,
            "groups": s.groups,
            "description": s.description,
            "apiServerEndpoint": self.join.endpoint,
            "caCertHashes": self.join.ca_cert_hashes,
            "joinCommand": self.join.command(&s.token),
        });
        if let Some(cp) = self.join.control_plane_command(&s.token) {
            v["controlPlaneJoinCommand"] = json!(cp);
        }
        if !self.published.is_empty() {
            v["published"] = self
                .published
                .iter()
                .map(|(sink, result, detail)| json!({"sink": sink, "result": result, "detail": detail}))
                .collect();
        }
        if self.dry_run != DryRun::None {
            v["dryRun"] = json!(match self.dry_run {
                DryRun::Client => "client",
                _ => "server",
            });
        }
        v
    }

    fn plain(&self) -> Option<String> {
        let t = &self.spec.token;
        Some(if !self.print_join_command {
            t.expose()
        } else {
            self.join
                .control_plane_command(t)
                .unwrap_or_else(|| self.join.command(t))
        })
    }

    fn supports(&self, f: Format) -> bool {
        f != Format::Wide
    }
}
