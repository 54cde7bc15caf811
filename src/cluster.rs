//! Cluster access: resolves kubectl's flags to a kube client in one function (kubeconfig
//! merging, contexts and in-cluster config are the kube crate's; we never parse kubeconfig by
//! hand), and remembers what commands need besides the client: server, CA bundle, names.

pub mod proto;
pub mod transport;

use kube::api::ListParams;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use kube::core::{NamespaceResourceScope, ObjectList, Status};
use serde::de::DeserializeOwned;

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
    /// The protocol of the client's first connection, once it is up (known only for
    /// [`Offer::Http2`] clients).
    pub first_connection: transport::FirstConnection,
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
    let kubeconfig = load_kubeconfig(g)?;
    let mut insecure = false;
    let (mut config, cluster_name, user) = match kubeconfig {
        Some(kc) => {
            insecure = check_selection(&kc, g)?;
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
    if insecure {
        crate::reporter::warn(format!(
            "the kubeconfig sets insecure-skip-tls-verify for {}: the apiserver's certificate is \
             not verified",
            config.cluster_url
        ));
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

/// The kubeconfig the flags select, merged as kubectl merges it: `--kubeconfig`, else the
/// `KUBECONFIG` list, else `~/.kube/config`; `None` when there is none (in-cluster).
pub fn load_kubeconfig(g: &GlobalArgs) -> Result<Option<Kubeconfig>> {
    let fail = |e: &(dyn std::error::Error + 'static)| {
        Error::Config(format!(
            "cannot load kubeconfig: {}: pass --kubeconfig or set KUBECONFIG",
            crate::error::error_chain(e)
        ))
    };
    let kubeconfig = match &g.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| fail(&e))?),
        None => match kubeconfig_from_env()? {
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
    Ok(kubeconfig)
}

/// `KUBECONFIG` as kubectl reads it: a list of files merged in order, where missing files are
/// skipped (not an error). `None` when the variable is unset or empty.
fn kubeconfig_from_env() -> Result<Option<Kubeconfig>> {
    let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let mut merged: Option<Kubeconfig> = None;
    for p in std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()) {
        if !p.exists() {
            tracing::debug!(path = %p.display(), "KUBECONFIG entry does not exist; skipped");
            continue;
        }
        let kc = Kubeconfig::read_from(&p).map_err(|e| {
            Error::Config(format!(
                "cannot load kubeconfig {} (from KUBECONFIG): {}",
                p.display(),
                crate::error::error_chain(&e)
            ))
        })?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| {
                Error::Config(format!(
                    "cannot merge kubeconfig {}: {}",
                    p.display(),
                    crate::error::error_chain(&e)
                ))
            })?,
        });
    }
    merged.map(Some).ok_or_else(|| {
        Error::Config(
            "none of the files KUBECONFIG lists exists: fix KUBECONFIG or pass --kubeconfig".into(),
        )
    })
}

/// Checks that the selected context, cluster and user exist (naming the missing one, as kubectl
/// does) and that the cluster does not combine insecure-skip-tls-verify with a CA, which
/// kubectl refuses. Returns whether TLS verification is off.
fn check_selection(kc: &Kubeconfig, g: &GlobalArgs) -> Result<bool> {
    let names = |v: Vec<&str>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let ctx_name = g
        .context
        .clone()
        .or_else(|| kc.current_context.clone())
        .filter(|c| !c.is_empty());
    let ctx = match &ctx_name {
        Some(n) => match kc.contexts.iter().find(|c| &c.name == n) {
            Some(c) => c.context.clone(),
            None => {
                return Err(Error::Config(format!(
                    "context {n:?} does not exist in the kubeconfig (contexts: {}): pass an existing --context",
                    names(kc.contexts.iter().map(|c| c.name.as_str()).collect())
                )));
            }
        },
        None => None,
    };
    if let Some(u) = g.user.as_ref()
        && !kc.auth_infos.iter().any(|a| &a.name == u)
    {
        return Err(Error::Config(format!(
            "auth info {u:?} does not exist in the kubeconfig (users: {}): pass an existing --user",
            names(kc.auth_infos.iter().map(|a| a.name.as_str()).collect())
        )));
    }
    let cluster = g
        .cluster
        .clone()
        .or_else(|| ctx.as_ref().map(|c| c.cluster.clone()));
    let Some(cluster) = cluster else {
        return Ok(false);
    };
    let Some(entry) = kc.clusters.iter().find(|c| c.name == cluster) else {
        return Err(Error::Config(format!(
            "cluster {cluster:?} does not exist in the kubeconfig (clusters: {}): pass an existing --cluster",
            names(kc.clusters.iter().map(|c| c.name.as_str()).collect())
        )));
    };
    let Some(c) = entry.cluster.as_ref() else {
        return Ok(false);
    };
    let insecure = c.insecure_skip_tls_verify == Some(true);
    let has_ca = c.certificate_authority.is_some() || c.certificate_authority_data.is_some();
    if insecure && has_ca {
        return Err(Error::Config(format!(
            "cluster {cluster:?} sets both insecure-skip-tls-verify and a certificate authority, \
             which kubectl refuses: remove one of them from the kubeconfig"
        )));
    }
    if let Some(data) = &c.certificate_authority_data {
        use base64::Engine;
        let pem = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| {
                Error::Config(format!(
                    "cluster {cluster:?}: certificate-authority-data is not base64: fix the kubeconfig"
                ))
            })?;
        if crate::pki::pem_bundle_to_der(&pem).map_or(true, |v| v.is_empty()) {
            return Err(Error::Config(format!(
                "cluster {cluster:?}: certificate-authority-data holds no PEM certificate: fix the kubeconfig"
            )));
        }
    }
    Ok(insecure)
}

/// Which HTTP versions a client offers the apiserver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// HTTP/1.1 (the kube crate's client): the default. A long streamed LIST reads faster
    /// over it than over HTTP/2's flow-controlled frames (list of 10,000 tokens: 130 ms
    /// against 182 ms over HTTP/2, same harness, docs/PERFORMANCE.md), and every command but
    /// `create` makes its requests one at a time or over a connection per request in flight.
    Http1,
    /// HTTP/2 by ALPN, HTTP/1.1 when the server does not offer it ([`transport`]): a few
    /// small requests at once over one connection and one TLS handshake (`create`).
    Http2,
}

/// Resolves the flags and builds a client (HTTP/1.1).
pub async fn connect(g: &GlobalArgs) -> Result<Cluster> {
    connect_offering(g, Offer::Http1).await
}

/// Resolves the flags and builds a client that offers `offer`.
pub async fn connect_offering(g: &GlobalArgs, offer: Offer) -> Result<Cluster> {
    let (config, target) = resolve(g).await?;
    tracing::info!(server = %target.server, user = %target.user, "connecting");
    let fail = |e: kube::Error| {
        Error::Config(format!(
            "cannot build a client for {}: {}",
            target.server,
            crate::error::error_chain(&e)
        ))
    };
    // A kubeconfig proxy-url keeps the kube crate's client (its proxy connectors).
    let (client, first_connection) = if offer == Offer::Http1 || config.proxy_url.is_some() {
        (
            kube::Client::try_from(config).map_err(fail)?,
            transport::FirstConnection::unknown(),
        )
    } else {
        transport::client(config).map_err(fail)?
    };
    Ok(Cluster {
        client,
        target,
        first_connection,
    })
}

/// What a paged LIST hands its consumer.
pub enum Page<K> {
    /// The next page of items.
    Items(Vec<K>),
    /// The continue token expired (410 Gone) and the list starts over from a fresh snapshot,
    /// as client-go's pager does: drop everything received so far.
    Restart,
}

/// LISTs `K` in `namespace` page by page (`lp` carries selectors and page size), asking for
/// protobuf and decoding each item with `item` while the body arrives (see [`proto`] for why,
/// and [`proto::ListDecoder`]); `page` receives the items of each chunk, so callers that reduce
/// objects to small records never hold a page, let alone the body, at once. The next page is
/// asked for as soon as the current one's continue token has arrived (it precedes the items),
/// so it is in flight while this one is read. A JSON answer (a proxy or server that does not
/// offer protobuf) is read whole and decoded with serde, each object through `from_json`. For
/// `PartialObjectMeta<_>` the apiserver is asked for a metadata-only list
/// (`as=PartialObjectMetadataList`), so data never crosses the wire. When a continue token has
/// expired (410 Gone between pages) the list restarts once from the beginning
/// ([`Page::Restart`]). `action` starts the error message ("cannot list bootstrap tokens").
pub async fn list_pages<K, T>(
    c: &Cluster,
    namespace: &str,
    lp: ListParams,
    item: fn(&[u8]) -> std::result::Result<T, proto::DecodeError>,
    from_json: fn(K) -> T,
    action: &str,
    mut page: impl FnMut(Page<T>),
) -> Result<()>
where
    K: kube::Resource<DynamicType = (), Scope = NamespaceResourceScope> + Clone + DeserializeOwned,
{
    use http_body_util::BodyExt;

    let url = K::url_path(&(), Some(namespace));
    let fail = |e: kube::Error| kube_error(action, e, &c.target);
    let accept = if K::metadata_api() {
        format!(
            "{m};as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, \
             application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
            m = proto::MEDIA_TYPE
        )
    } else {
        format!("{}, application/json", proto::MEDIA_TYPE)
    };
    // One page's request up to its response headers, as an owned future so the next page can
    // be in flight (on the runtime's other worker) while this one's body is read.
    let fetch = |lp: ListParams| {
        let client = c.client.clone();
        let url = url.clone();
        let accept = accept.clone();
        async move {
            let mut req = kube::core::Request::new(&url)
                .list(&lp)
                .map_err(kube::Error::BuildRequest)?;
            req.headers_mut().insert(
                "accept",
                accept.as_str().try_into().expect("a valid header value"),
            );
            let res = client.send(req.map(kube::client::Body::from)).await?;
            let code = res.status().as_u16();
            let is_proto = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with(proto::MEDIA_TYPE));
            Ok::<_, kube::Error>((lp, code, is_proto, res.into_body()))
        }
    };
    let first = lp.clone();
    let mut restarted = false;
    let mut pending = Some(tokio::spawn(fetch(lp)));
    while let Some(handle) = pending.take() {
        let (lp, code, is_proto, mut body) = handle
            .await
            .map_err(|e| Error::runtime(format!("{action}: {e}")))?
            .map_err(fail)?;
        let bad = |e: &dyn std::fmt::Display| Error::runtime(format!("{action}: {e}"));
        if !(200..300).contains(&code) || !is_proto {
            let body = body.collect_bytes().await.map_err(fail)?;
            if code == 410 && lp.continue_token.is_some() && !restarted {
                // The snapshot behind the continue token was compacted away: start over once.
                tracing::info!("{action}: continue token expired (410 Gone); listing again");
                restarted = true;
                page(Page::Restart);
                pending = Some(tokio::spawn(fetch(first.clone())));
                continue;
            }
            if !(200..300).contains(&code) {
                return Err(fail(kube::Error::Api(
                    error_status(code, is_proto, &body).boxed(),
                )));
            }
            let l: ObjectList<K> = serde_json::from_slice(&body).map_err(|e| bad(&e))?;
            page(Page::Items(l.items.into_iter().map(from_json).collect()));
            if let Some(t) = l.metadata.continue_.filter(|t| !t.is_empty()) {
                pending = Some(tokio::spawn(fetch(lp.continue_token(&t))));
            }
            continue;
        }
        let mut dec = proto::ListDecoder::new();
        let mut items = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(fail)?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            dec.feed(&data, item, &mut items).map_err(|e| bad(&e))?;
            if pending.is_none()
                && let Some(t) = dec.continue_token()
            {
                pending = Some(tokio::spawn(fetch(lp.clone().continue_token(t))));
            }
            if !items.is_empty() {
                page(Page::Items(std::mem::take(&mut items)));
            }
        }
        // A continue token was acted on as soon as it arrived (above).
        dec.finish().map_err(|e| bad(&e))?;
    }
    Ok(())
}

/// The `Status` of an error answer, whichever encoding it came in.
fn error_status(code: u16, is_proto: bool, body: &[u8]) -> Status {
    if is_proto && let Ok((c, reason, message)) = proto::status(body) {
        return Status::failure(&message, &reason).with_code(if c == 0 { code } else { c });
    }
    match serde_json::from_slice::<Status>(body) {
        Ok(s) if s.code != 0 => s,
        _ => Status::failure(String::from_utf8_lossy(body).trim(), "").with_code(code),
    }
}

/// Wraps a kube client error with the action that failed and a hint that fits its cause (the
/// server and user of `ctx` name where and as whom).
pub fn kube_error(action: impl Into<String>, err: kube::Error, ctx: &Target) -> Error {
    Error::Kube {
        action: action.into(),
        detail: describe_kube_error(&err, ctx),
    }
}

/// Turns a kube error into a one-line cause plus what to do about it.
fn describe_kube_error(err: &kube::Error, ctx: &Target) -> String {
    match err {
        kube::Error::Api(status) => {
            let msg = status.message.trim_end_matches('.');
            match status.code {
                401 => format!(
                    "the apiserver at {} rejected the credentials of {} (401 Unauthorized): \
                     check --kubeconfig, --context and --user, or refresh the credentials",
                    ctx.server, ctx.user
                ),
                // The apiserver's message names the verb, resource and namespace refused;
                // the hint must not guess another one (it is not always kube-system Secrets).
                403 => format!(
                    "{msg} (403 Forbidden, running as {}): ask a cluster admin for that \
                     permission, or use --as/--context with a privileged identity",
                    ctx.user
                ),
                404 => format!("{msg} (404 Not Found)"),
                409 => format!("{msg} (409 Conflict)"),
                code => format!("{msg} ({code} {})", status.reason),
            }
        }
        other => {
            let cause = crate::error::error_chain(other);
            format!(
                "cannot reach the apiserver at {}: {cause}: check that the cluster is running \
                 and that --kubeconfig/--context point at it",
                ctx.server
            )
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
