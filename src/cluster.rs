//! Cluster access: resolves kubectl's flags to a kube client in one function (kubeconfig
//! merging, contexts and in-cluster config are the kube crate's; we never parse kubeconfig by
//! hand), and remembers what commands need besides the client: server, CA bundle, names.

use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use crate::cli::GlobalArgs;
use crate::{Error, Result};

/// Where requests go, as far as messages and rendered artefacts need to know.
#[derive(Clone, Debug)]
pub struct Target {
    /// The apiserver URL, e.g. `https://10.0.0.1:6443`.
    pub server: String,
    /// Cluster name from the kubeconfig (`kubernetes` in-cluster).
    pub cluster_name: String,
    /// Who the requests run as, for 401/403 messages.
    pub user: String,
    /// CA certificates (DER) that verify the apiserver; empty when the kubeconfig has none.
    pub ca_certs: Vec<Vec<u8>>,
    /// The context's default namespace.
    pub default_namespace: String,
}

/// A connected client plus its target.
#[derive(Clone)]
pub struct Cluster {
    /// The client.
    pub client: kube::Client,
    /// What it talks to.
    pub target: Target,
}

/// Resolves the flags to a kube `Config` and target, without touching the network.
pub async fn resolve(g: &GlobalArgs) -> Result<(Config, Target)> {
    let opts = KubeConfigOptions {
        context: g.context.clone(),
        cluster: g.cluster.clone(),
        user: g.user.clone(),
    };
    let fail = |e: &(dyn std::error::Error + 'static)| {
        Error::Config(format!(
            "cannot load kubeconfig: {}: pass --kubeconfig or set KUBECONFIG",
            crate::error::error_chain(e)
        ))
    };
    let kubeconfig = match &g.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| fail(&e))?),
        None => match Kubeconfig::from_env().map_err(|e| fail(&e))? {
            Some(kc) => Some(kc),
            None => {
                let default = std::env::var_os("HOME")
                    .map(|h| std::path::Path::new(&h).join(".kube").join("config"));
                match default.filter(|p| p.exists()) {
                    Some(p) => Some(Kubeconfig::read_from(p).map_err(|e| fail(&e))?),
                    None => None,
                }
            }
        },
    };
    let (mut config, cluster_name, user) = match kubeconfig {
        Some(kc) => {
            let ctx_name = g.context.clone().or_else(|| kc.current_context.clone());
            let ctx = ctx_name.as_ref().and_then(|n| {
                kc.contexts
                    .iter()
                    .find(|c| &c.name == n)
                    .and_then(|c| c.context.clone())
            });
            let cluster_name = g
                .cluster
                .clone()
                .or_else(|| ctx.as_ref().map(|c| c.cluster.clone()))
                .unwrap_or_else(|| "kubernetes".into());
            let user = g
                .user
                .clone()
                .or_else(|| ctx.as_ref().and_then(|c| c.user.clone()))
                .unwrap_or_else(|| "<anonymous>".into());
            let config = Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| fail(&e))?;
            (config, cluster_name, format!("kubeconfig user {user:?}"))
        }
        None => {
            let config = Config::incluster().map_err(|e| {
                Error::Config(format!(
                    "no kubeconfig found (KUBECONFIG unset, no ~/.kube/config) and not running \
                     in a cluster ({}): pass --kubeconfig or set KUBECONFIG",
                    crate::error::error_chain(&e)
                ))
            })?;
            (
                config,
                "kubernetes".into(),
                "the in-cluster service account".into(),
            )
        }
    };
    if let Some(t) = g.request_timeout.filter(|t| !t.is_zero()) {
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
        config.connect_timeout = Some(config.connect_timeout.map_or(t, |c| c.min(t)));
    }
    let mut user = user;
    if let Some(as_user) = &g.as_user {
        config.auth_info.impersonate = Some(as_user.clone());
        user = format!("{as_user:?} (impersonated)");
    }
    if !g.as_group.is_empty() {
        if g.as_user.is_none() {
            return Err(Error::usage(
                "--as-group needs --as: name the user to impersonate too",
            ));
        }
        config.auth_info.impersonate_groups = Some(g.as_group.clone());
    }
    let target = Target {
        server: config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string(),
        cluster_name,
        user,
        ca_certs: config.root_cert.clone().unwrap_or_default(),
        default_namespace: config.default_namespace.clone(),
    };
    Ok((config, target))
}

/// Resolves the flags and builds a client.
pub async fn connect(g: &GlobalArgs) -> Result<Cluster> {
    let (config, target) = resolve(g).await?;
    tracing::info!(server = %target.server, user = %target.user, "connecting");
    let client = kube::Client::try_from(config).map_err(|e| {
        Error::Config(format!(
            "cannot build a client for {}: {}",
            target.server,
            crate::error::error_chain(&e)
        ))
    })?;
    Ok(Cluster { client, target })
}
