//! `create`: writes a bootstrap-token Secret exactly as `kubeadm token create` does and
//! reports the token with its join command.

use jiff::Timestamp;
use serde_json::json;

use crate::cli::TokenFlags;
use crate::cli::{DryRun, DryRunArgs, Format, GlobalArgs, OutputArgs};
use crate::cluster;
use crate::cluster::transport::Protocol;
use crate::join::JoinInfo;
use crate::output::Report;
use crate::publish::{self, SinkArgs, SinkKind};
use crate::reporter;
use crate::rollout::{self, OnFailure};
use crate::signals::Armed;
use crate::store::TokenStore;
use crate::token::{self, TokenSpec};
use crate::{Error, Result, join};

mod nodes;
pub use nodes::{NodeTokens, run_for_nodes};

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
    /// Join endpoint.
    #[command(flatten)]
    pub endpoint: crate::cli::EndpointArgs,
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
    /// Before publishing, verify the new token as a joining node would (endpoint, pins,
    /// cluster-info signature, authentication, CSR rights); a token that fails is deleted
    /// and never published.
    #[arg(long, requires = "publish")]
    pub verify: bool,
    /// Longest wait for the bootstrap signer's signature of the new token with --verify.
    #[arg(long, default_value = "20s", value_parser = crate::duration::parse_go, requires = "verify")]
    pub signature_wait: std::time::Duration,
    /// Sink settings for --publish.
    #[command(flatten)]
    pub sinks: SinkArgs,
    /// Create one token bound to this node (repeatable): labelled
    /// jointoken.kubectl.io/node=NAME, in group system:bootstrappers:jointoken:node instead of
    /// kubeadm's auto-approved default group, TTL 1h unless --ttl. `approve` then approves its
    /// client CSR only for CN=system:node:NAME, and deletes the token after --max-joins joins.
    #[arg(long = "for-node", value_name = "NAME")]
    pub for_node: Vec<String>,
    /// As --for-node, for every node name in FILE (one per line; blank lines and # comments
    /// are skipped).
    #[arg(long, value_name = "FILE")]
    pub for_nodes_from: Option<std::path::PathBuf>,
    /// How many joins (approved client CSRs) a bound token allows before it is deleted
    /// (default 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_joins: Option<u32>,
}

impl Args {
    /// Whether tokens bound to nodes are asked for (`--for-node`, `--for-nodes-from`).
    pub fn for_nodes(&self) -> bool {
        !self.for_node.is_empty() || self.for_nodes_from.is_some()
    }
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

/// Runs `create`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<CreateReport> {
    g.require_token_namespace()?;
    if a.max_joins.is_some() {
        return Err(Error::usage(
            "--max-joins limits tokens bound to nodes: add --for-node NAME",
        ));
    }
    a.dry_run
        .check_detached(&a.token_arg.iter().map(String::as_str).collect::<Vec<_>>())?;
    if let Some(k) = &a.certificate_key {
        join::validate_certificate_key(k).map_err(Error::usage)?;
        if !a.print_join_command {
            return Err(Error::usage(
                "--certificate-key needs the join command: drop --print-join-command=false",
            ));
        }
    }
    let token = crate::cli::parse_token(a.token.as_deref().or(a.token_arg.as_deref()))?;
    let spec = a.flags.spec(token, Timestamp::now())?;
    if !a.publish.is_empty() && a.dry_run.dry_run != DryRun::None {
        return Err(Error::usage(
            "--publish would publish a token that --dry-run does not create: drop one of them",
        ));
    }
    let c = cluster::connect_offering(g, cluster::Offer::Http2).await?;
    // The pins come from the kubeconfig (no request): a kubeconfig without a CA fails here,
    // before any token exists.
    let mut join = JoinInfo::from_target(&c.target, a.certificate_key.clone())?;
    let store = TokenStore::new(&c);
    // Armed before the token exists: an interrupt from here on rolls it back.
    let mut armed = (!a.publish.is_empty()).then(Armed::new);
    // Three independent steps at once: the apiserver write, the endpoint (cluster-info) and
    // the sinks' preflight (Vault login, mount, current version; folder; cluster access). A
    // sink that fails its preflight after the token was written rolls the token back.
    // cluster-info's GET shares the POST's connection: beside it on HTTP/2, after it on
    // HTTP/1.1 (a second connection would cost a second TLS handshake on both ends, which on a
    // busy control plane takes longer than waiting; docs/PERFORMANCE.md).
    let posted = tokio::sync::Notify::new();
    let (created, endpoint, sinks) = tokio::join!(
        async {
            let created = store.create(&spec, a.dry_run.dry_run).await;
            posted.notify_one();
            created
        },
        async {
            if a.endpoint.endpoint.is_none() {
                tokio::select! {
                    p = c.first_connection.protocol() => {
                        if p != Some(Protocol::Http2) {
                            posted.notified().await;
                        }
                    }
                    () = posted.notified() => {}
                }
            }
            crate::join::resolve_endpoint(&c, a.endpoint.endpoint.as_deref()).await
        },
        publish::build_sinks(&a.publish, &a.sinks, g, &c.target.cluster_name),
    );
    join.endpoint = endpoint;
    let uid = created?;
    let sinks = match sinks {
        Ok(s) => s,
        Err(e) => {
            let state = match uid.as_deref() {
                None => format!("bootstrap token {} was not created", spec.token.id),
                Some(uid) => match store.delete(&spec.token.id, uid, DryRun::None).await {
                    Ok(_) => format!("bootstrap token {} was deleted again", spec.token.id),
                    Err(d) => format!(
                        "deleting bootstrap token {} failed too ({d}): delete it with \
                         `kubectl jointoken prune {}`",
                        spec.token.id, spec.token.id
                    ),
                },
            };
            return Err(match e {
                Error::Usage(m) => Error::Usage(format!("{m} ({state})")),
                other => Error::runtime(format!("{other}; {state}")),
            });
        }
    };
    if a.dry_run.dry_run != DryRun::None {
        reporter::note(format!(
            "dry run: bootstrap token {} was not created",
            spec.token.id
        ));
    }
    let published = match armed.as_mut() {
        None => Vec::new(),
        Some(armed) => {
            let on_failure = if a.keep_on_failure {
                OnFailure::Keep
            } else {
                OnFailure::Delete
            };
            let t = rollout::NewToken {
                store: &store,
                spec: &spec,
                uid: uid.as_deref(),
                join: &join,
            };
            let opts = rollout::Options {
                on_failure,
                verify: a.verify.then_some(a.signature_wait),
            };
            let report = rollout::publish_new(&t, &sinks, opts, armed).await?;
            report.successes()
        }
    };
    Ok(CreateReport {
        spec,
        join,
        print_join_command: a.print_join_command,
        dry_run: a.dry_run.dry_run,
        published,
    })
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
        // The one token shape (output::bootstrap_token), as list prints it; the join data as a
        // block of its own.
        let mut v = crate::output::bootstrap_token(
            s.token.expose(),
            Some(s.token.id.as_str()),
            s.description.as_deref(),
            s.expires,
            &s.usages,
            &s.groups,
        );
        let mut join = json!({
            "apiServerEndpoint": self.join.endpoint,
            "caCertHashes": self.join.ca_cert_hashes,
            "joinCommand": self.join.command(&s.token),
        });
        if let Some(cp) = self.join.control_plane_command(&s.token) {
            join["controlPlaneJoinCommand"] = json!(cp);
        }
        v["join"] = join;
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
