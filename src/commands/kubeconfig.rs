//! `kubeconfig`: a bootstrap kubeconfig for kubelets (`--bootstrap-kubeconfig`) and Krustlet
//! (`--bootstrap-file`), or a short-lived service-account kubeconfig via the TokenRequest API.

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};

use crate::cli::TokenFlags;
use crate::cli::{DryRun, DryRunArgs, GlobalArgs};
use crate::cluster::{self, Cluster};
use crate::kubeconfig::{self as kc, BOOTSTRAP_USER};
use crate::output::Document;
use crate::reporter;
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
    if let Some(sa) = &a.service_account
        && a.duration < Duration::from_secs(600)
    {
        return Err(Error::usage(format!(
            "--duration {} is below the apiserver's minimum of 10m for service account {sa}",
            duration::format_go(a.duration)
        )));
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
        let (tok, expires) = request_sa_token(&c, &ns, sa, a).await?;
        reporter::note(format!(
            "service-account token for {ns}/{sa} expires at {expires}"
        ));
        let user = format!("{ns}-{sa}");
        let doc =
            kc::token_kubeconfig(&c.target.cluster_name, &server, &ca, &user, &tok, Some(&ns));
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

async fn request_sa_token(c: &Cluster, ns: &str, sa: &str, a: &Args) -> Result<(String, String)> {
    let api: Api<ServiceAccount> = Api::namespaced(c.client.clone(), ns);
    let req = TokenRequest {
        spec: Some(TokenRequestSpec {
            audiences: (!a.audience.is_empty()).then(|| a.audience.clone()),
            expiration_seconds: Some(a.duration.as_secs() as i64),
            bound_object_ref: a
                .bound_object_kind
                .as_ref()
                .map(|kind| BoundObjectReference {
                    api_version: Some("v1".into()),
                    kind: Some(kind.clone()),
                    name: a.bound_object_name.clone(),
                    uid: a.bound_object_uid.clone(),
                }),
        }),
        ..Default::default()
    };
    let resp = api
        .create_token_request(sa, &PostParams::default(), &req)
        .await
        .map_err(|e| {
            crate::cluster::kube_error(
                format!("cannot request a token for service account {ns}/{sa}"),
                e,
                &c.target,
            )
        })?;
    let status = resp
        .status
        .ok_or_else(|| Error::runtime("the apiserver returned a TokenRequest without status"))?;
    let token = status
        .token
        .ok_or_else(|| Error::runtime("the apiserver returned a TokenRequest without a token"))?;
    let expires = status
        .expiration_timestamp
        .map(|t| crate::token::format_expiration(t.0))
        .unwrap_or_else(|| "<unknown>".into());
    Ok((token, expires))
}
