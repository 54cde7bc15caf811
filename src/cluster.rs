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
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// Reads one request's head (no body: the stand-ins only get GETs); its request line.
    fn request_line(s: &std::net::TcpStream) -> Option<String> {
        let mut r = BufReader::new(s.try_clone().ok()?);
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                return Some(line);
            }
        }
    }

    /// A fault-injecting apiserver stand-in (plain HTTP, JSON): page one of a Secret list with
    /// a continue token, then 410 Gone for that token (the snapshot was compacted), then, on
    /// the restarted list, both Secrets in one page. Records what was asked.
    fn gone_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            let mut lists = 0;
            for s in l.incoming().flatten() {
                let Some(line) = request_line(&s) else {
                    continue;
                };
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push(path.clone());
                let secret = |n: &str| {
                    format!(
                        r#"{{"metadata":{{"name":"{n}","uid":"u-{n}"}},"type":"bootstrap.kubernetes.io/token"}}"#
                    )
                };
                let (code, body) = if path.contains("continue=c1") {
                    (410, r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"The provided continue parameter is too old","reason":"Expired","code":410}"#.to_string())
                } else if lists == 0 {
                    lists += 1;
                    (
                        200,
                        format!(
                            r#"{{"kind":"SecretList","apiVersion":"v1","metadata":{{"continue":"c1"}},"items":[{}]}}"#,
                            secret("a")
                        ),
                    )
                } else {
                    (
                        200,
                        format!(
                            r#"{{"kind":"SecretList","apiVersion":"v1","metadata":{{}},"items":[{},{}]}}"#,
                            secret("a"),
                            secret("b")
                        ),
                    )
                };
                let mut s = s;
                let _ = write!(
                    s,
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (addr, seen)
    }

    /// A protobuf apiserver stand-in that streams each List body in small chunks
    /// (`Transfer-Encoding: chunked`, 97 bytes each, flushed one by one): page one (a, b) with
    /// continue token `c1`, then page two (c). With `cut`, page two's connection closes after
    /// that many bytes of its body, as a dying apiserver or proxy would.
    fn streaming_server(cut: Option<usize>) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                std::thread::spawn(move || {
                    let Some(line) = request_line(&s) else {
                        return;
                    };
                    let second = line.contains("continue=c1");
                    let body = if second {
                        proto::test_secret_list(&["c"], None)
                    } else {
                        proto::test_secret_list(&["a", "b"], Some("c1"))
                    };
                    let send = match cut {
                        Some(n) if second => &body[..n],
                        _ => &body[..],
                    };
                    let mut s = s;
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.kubernetes.protobuf\r\n\
                         Transfer-Encoding: chunked\r\n\r\n"
                    );
                    for c in send.chunks(97) {
                        let _ = write!(s, "{:x}\r\n", c.len());
                        let _ = s.write_all(c);
                        let _ = s.write_all(b"\r\n");
                        let _ = s.flush();
                    }
                    if cut.is_none() || !second {
                        let _ = s.write_all(b"0\r\n\r\n");
                    }
                    // Dropping the socket closes it: mid-body when cut.
                });
            }
        });
        addr
    }

    fn plain_cluster(addr: &str) -> Cluster {
        let config = kube::Config::new(addr.parse().unwrap());
        Cluster {
            client: kube::Client::try_from(config).unwrap(),
            first_connection: transport::FirstConnection::unknown(),
            target: Target {
                server: addr.to_string(),
                cluster_name: "t".into(),
                user: "t".into(),
                ca_certs: vec![],
                default_namespace: "default".into(),
            },
        }
    }

    #[tokio::test]
    async fn a_streamed_protobuf_list_is_read_page_by_page_in_small_chunks() {
        let c = plain_cluster(&streaming_server(None));
        let mut names: Vec<String> = Vec::new();
        list_pages(
            &c,
            "kube-system",
            ListParams::default().limit(2),
            proto::secret,
            std::convert::identity,
            "listing",
            |p: Page<k8s_openapi::api::core::v1::Secret>| {
                if let Page::Items(items) = p {
                    names.extend(items.into_iter().filter_map(|s| s.metadata.name))
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(names, ["a", "b", "c"]);
    }

    /// A body that stops inside the List (connection closed mid-stream) fails the whole list:
    /// never a shorter list that looks complete (prune would then miss tokens).
    #[tokio::test]
    async fn a_list_cut_off_mid_stream_is_an_error_not_a_shorter_list() {
        let whole = proto::test_secret_list(&["c"], None).len();
        for cut in [5, whole / 2, whole - 5] {
            let c = plain_cluster(&streaming_server(Some(cut)));
            let mut got = 0;
            let e = list_pages(
                &c,
                "kube-system",
                ListParams::default().limit(2),
                proto::secret,
                std::convert::identity,
                "cannot list bootstrap tokens",
                |p: Page<k8s_openapi::api::core::v1::Secret>| {
                    if let Page::Items(items) = p {
                        got += items.len();
                    }
                },
            )
            .await
            .expect_err("a cut-off body must fail the list");
            let text = e.to_string();
            assert!(text.contains("cannot list bootstrap tokens"), "{text}");
            assert!(got <= 2, "cut at {cut}: {got} items");
        }
    }

    /// A 403 names what the apiserver refused and as whom, and does not guess another
    /// permission (it once always said "secrets in kube-system").
    #[test]
    fn a_forbidden_answer_keeps_the_servers_words_and_guesses_nothing() {
        let target = Target {
            server: "https://127.0.0.1:6443".into(),
            cluster_name: "kubernetes".into(),
            user: "system:serviceaccount:kube-system:x".into(),
            ca_certs: Vec::new(),
            default_namespace: "default".into(),
        };
        let status = kube::core::Status::failure(
            "secrets \"s\" is forbidden: User \"x\" cannot get resource \"secrets\" in the namespace \"ci\"",
            "Forbidden",
        )
        .with_code(403);
        let text = describe_kube_error(&kube::Error::Api(status.boxed()), &target);
        assert!(text.contains("in the namespace \"ci\""), "{text}");
        assert!(
            text.contains("running as system:serviceaccount:kube-system:x"),
            "{text}"
        );
        assert!(!text.contains("kube-system, or"), "{text}");
        assert!(text.ends_with("ask a cluster admin for that permission, or use --as/--context with a privileged identity"), "{text}");
    }

    #[tokio::test]
    async fn an_expired_continue_token_restarts_the_list_once_without_duplicates() {
        let (addr, seen) = gone_server();
        let c = plain_cluster(&addr);
        let mut names: Vec<String> = Vec::new();
        let mut restarts = 0;
        list_pages(
            &c,
            "kube-system",
            ListParams::default().limit(1),
            proto::secret,
            std::convert::identity,
            "listing",
            |p: Page<k8s_openapi::api::core::v1::Secret>| match p {
                Page::Items(items) => {
                    names.extend(items.into_iter().filter_map(|s| s.metadata.name))
                }
                Page::Restart => {
                    restarts += 1;
                    names.clear();
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(restarts, 1);
        assert_eq!(names, ["a", "b"], "no Secret twice, none lost");
        let asked = seen.lock().unwrap().clone();
        assert_eq!(asked.len(), 3, "{asked:?}");
        assert!(
            asked[1].contains("continue=c1") && !asked[2].contains("continue"),
            "{asked:?}"
        );
    }
}
