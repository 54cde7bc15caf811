//! The token store: every apiserver read and write of bootstrap-token Secrets goes through
//! here, so the rules that keep them safe live in one place:
//!
//! - create returns the new object's UID, and every delete (prune, rotation, rollbacks) carries
//!   a UID precondition, so a token re-created under the same name is never deleted by mistake;
//! - lists are read page by page in protobuf (JSON as fallback), reduced to records as they
//!   arrive, and restarted when a continue token expires (410 Gone), as client-go's pager does;
//! - the owner scan (which tokens own other objects) reads metadata-only lists, so no Secret
//!   data but the tokens' own crosses the wire.
//!
//! Commands call this module; it never calls a command.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::core::PartialObjectMeta;

use crate::cli::DryRun;
use crate::cluster::{self, Cluster, Page, kube_error};
use crate::token::{self, TokenId, TokenRecord, TokenSpec};
use crate::{Error, Result};

/// Field manager for every write, as kubectl's `--field-manager`.
pub const FIELD_MANAGER: &str = "kubectl-jointoken";

/// Page size of LIST requests, chosen by measurement (docs/PERFORMANCE.md, 10,000 tokens,
/// release build, items decoded while the body streams in): one request (~91 ms) beats pages of
/// 5,000 (~112 ms: each page pays the apiserver's time to first byte again). Any cluster's
/// tokens fit one page; 50,000 still bounds what one response holds, and memory does not depend
/// on it (only the item being received is buffered).
pub const PAGE: u32 = 50_000;

/// How a UID-guarded delete ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted (or, with `--dry-run=server`, would be).
    Yes,
    /// Already gone.
    Gone,
    /// The name now belongs to another object (UID differs): left alone.
    Replaced,
}

/// A token with its Secret's annotations (what rotation reads besides the record).
#[derive(Clone, Debug)]
pub struct Stored {
    /// The decoded token.
    pub record: TokenRecord,
    /// The Secret's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The Secret's resourceVersion, for writes that must not overwrite a concurrent change.
    pub resource_version: Option<String>,
}

/// How a resourceVersion-guarded write ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cas {
    /// Written.
    Applied,
    /// The object changed since it was read (or its UID differs): read again.
    Conflict,
    /// It no longer exists.
    Gone,
}

/// The bootstrap-token Secrets of one cluster.
#[derive(Clone)]
pub struct TokenStore {
    c: Cluster,
    api: Api<Secret>,
}

impl TokenStore {
    /// The store of the cluster `c` talks to.
    pub fn new(c: &Cluster) -> Self {
        TokenStore {
            api: Api::namespaced(c.client.clone(), token::NAMESPACE),
            c: c.clone(),
        }
    }

    /// The cluster behind the store.
    pub fn cluster(&self) -> &Cluster {
        &self.c
    }

    /// Writes the token's Secret and returns its UID (`None` for a client dry run; a server
    /// dry run's UID is not a real object's). `AlreadyExists` when the id is taken.
    pub async fn create(&self, spec: &TokenSpec, dry_run: DryRun) -> Result<Option<String>> {
        self.create_annotated(spec, &BTreeMap::new(), dry_run).await
    }

    /// As [`create`](Self::create), with annotations on the Secret from the start (so a
    /// binding's join limit exists as soon as the token does).
    pub async fn create_annotated(
        &self,
        spec: &TokenSpec,
        annotations: &BTreeMap<String, String>,
        dry_run: DryRun,
    ) -> Result<Option<String>> {
        if dry_run == DryRun::Client {
            return Ok(None);
        }
        let pp = PostParams {
            dry_run: dry_run == DryRun::Server,
            field_manager: Some(FIELD_MANAGER.into()),
        };
        let id = spec.token.id.to_string();
        let mut secret = spec.to_secret();
        if !annotations.is_empty() {
            secret.metadata.annotations = Some(annotations.clone());
        }
        match self.api.create(&pp, &secret).await {
            Ok(s) if dry_run == DryRun::Server => {
                let _ = s;
                Ok(None)
            }
            Ok(s) => {
                tracing::info!(id, uid = ?s.metadata.uid, "created bootstrap token");
                s.metadata.uid.map(Some).ok_or_else(|| {
                    Error::runtime(format!(
                        "the apiserver created bootstrap token {id} without a UID"
                    ))
                })
            }
            Err(kube::Error::Api(e)) if e.code == 409 => Err(Error::AlreadyExists(id)),
            // Sent, but no answer (timeout, connection reset): the token may exist. Reading it
            // back decides, so a lost answer never leaves a token nobody knows about.
            Err(e) if dry_run == DryRun::None && may_have_landed(&e) => {
                let cause = kube_error(
                    format!("cannot create bootstrap token {id}"),
                    e,
                    &self.c.target,
                );
                self.settle_create(spec, cause).await
            }
            Err(e) => Err(kube_error(
                format!("cannot create bootstrap token {id}"),
                e,
                &self.c.target,
            )),
        }
    }

    /// After a create that was sent but not answered: the UID of the token's Secret when it
    /// holds our freshly generated secret (our POST landed), `cause` when there is no such
    /// Secret (nothing was created). A given token (`--token`) found there may have existed
    /// before, so it is never taken for ours. The secret is compared, never printed.
    async fn settle_create(&self, spec: &TokenSpec, cause: Error) -> Result<Option<String>> {
        let id = spec.token.id.to_string();
        match self.api.get_opt(&spec.token.id.secret_name()).await {
            Ok(Some(s)) if holds_secret(&s, spec) && spec.fresh => {
                let uid = s.metadata.uid.ok_or_else(|| {
                    Error::runtime(format!(
                        "the apiserver holds bootstrap token {id} without a UID"
                    ))
                })?;
                tracing::info!(id, uid, "the create's answer was lost; read back: ours");
                Ok(Some(uid))
            }
            Ok(Some(s)) if holds_secret(&s, spec) => Err(Error::runtime(format!(
                "{cause}; bootstrap token {id} exists now, but it was given (--token), so \
                 whether this run created it is unknown: check it with `kubectl jointoken list`"
            ))),
            Ok(_) => Err(cause),
            Err(e) => Err(Error::runtime(format!(
                "{cause}; whether bootstrap token {id} was created is unknown (reading it back \
                 failed too: {}): check with `kubectl jointoken list`{}",
                crate::error::error_chain(&e),
                if spec.fresh {
                    format!(" and delete it with `kubectl jointoken prune {id}`")
                } else {
                    String::new()
                }
            ))),
        }
    }

    /// The token with this id, if its Secret exists (malformed ones too: see `problems`).
    pub async fn get(&self, id: &TokenId) -> Result<Option<Stored>> {
        match self.api.get_opt(&id.secret_name()).await {
            Ok(Some(s)) if s.type_.as_deref() == Some(token::SECRET_TYPE) => Ok(Some(stored(&s))),
            Ok(_) => Ok(None),
            Err(e) => Err(kube_error(
                format!("cannot read bootstrap token {id}"),
                e,
                &self.c.target,
            )),
        }
    }

    /// Every bootstrap-token Secret (optionally filtered by a label selector), as records.
    /// Each page becomes records as it arrives: 10,000 Secrets are never in memory together.
    pub async fn list(&self, labels: Option<&str>) -> Result<Vec<TokenRecord>> {
        Ok(self
            .list_stored(labels)
            .await?
            .into_iter()
            .map(|s| s.record)
            .collect())
    }

    /// As [`list`](Self::list), keeping each Secret's annotations.
    pub async fn list_stored(&self, labels: Option<&str>) -> Result<Vec<Stored>> {
        let mut out = Vec::new();
        cluster::list_pages(
            &self.c,
            token::NAMESPACE,
            list_params(Some(&format!("type={}", token::SECRET_TYPE)), labels),
            stored_from_proto,
            |s: Secret| stored(&s),
            "cannot list bootstrap tokens",
            |p: Page<Stored>| match p {
                Page::Items(page) => out.extend(page),
                Page::Restart => out.clear(),
            },
        )
        .await?;
        Ok(out)
    }

    /// Deletes the token's Secret only if it is still the object with `uid`.
    pub async fn delete(&self, id: &TokenId, uid: &str, dry_run: DryRun) -> Result<Deleted> {
        self.delete_named(&id.secret_name(), uid, dry_run)
            .await
            .map_err(|e| {
                kube_error(
                    format!("cannot delete bootstrap token {id}"),
                    e,
                    &self.c.target,
                )
            })
    }

    /// Deletes the Secret `name` (a token listed earlier, possibly malformed) only if it is
    /// still the object with `uid`; the kube error is returned for the caller to phrase.
    pub async fn delete_named(
        &self,
        name: &str,
        uid: &str,
        dry_run: DryRun,
    ) -> std::result::Result<Deleted, kube::Error> {
        if dry_run == DryRun::Client {
            return Ok(Deleted::Yes);
        }
        let dp = DeleteParams {
            dry_run: dry_run == DryRun::Server,
            preconditions: Some(Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..Default::default()
        };
        match self.api.delete(name, &dp).await {
            Ok(_) => {
                tracing::info!(name, "deleted");
                Ok(Deleted::Yes)
            }
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(Deleted::Gone),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Deleted::Replaced),
            Err(e) => Err(e),
        }
    }

    /// Sets annotations on the token (merge patch guarded by the UID, so a re-created token
    /// of the same name is never marked).
    pub async fn annotate(
        &self,
        id: &TokenId,
        uid: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.patch_meta(id, uid, "annotations", annotations, "annotate")
            .await
    }

    /// Sets labels on the token (merge patch guarded by the UID).
    pub async fn label(
        &self,
        id: &TokenId,
        uid: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.patch_meta(id, uid, "labels", labels, "label").await
    }

    /// Sets annotations only if the token is still the object with `uid` at `resource_version`
    /// (optimistic concurrency: a merge patch carrying both fails with 409 otherwise).
    pub async fn annotate_at(
        &self,
        id: &TokenId,
        uid: &str,
        resource_version: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<Cas> {
        let patch = serde_json::json!({"metadata": {
            "uid": uid, "resourceVersion": resource_version, "annotations": annotations}});
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        match self
            .api
            .patch(&id.secret_name(), &pp, &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(Cas::Applied),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Cas::Conflict),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(Cas::Gone),
            Err(e) => Err(kube_error(
                format!("cannot annotate bootstrap token {id}"),
                e,
                &self.c.target,
            )),
        }
    }

    async fn patch_meta(
        &self,
        id: &TokenId,
        uid: &str,
        field: &str,
        values: &BTreeMap<String, String>,
        verb: &str,
    ) -> Result<()> {
        // A merge patch carrying metadata.uid fails with 409 unless the UID matches.
        let patch = serde_json::json!({"metadata": {"uid": uid, field: values}});
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        self.api
            .patch(&id.secret_name(), &pp, &Patch::Merge(&patch))
            .await
            .map(|_| ())
            .map_err(|e| {
                kube_error(
                    format!("cannot {verb} bootstrap token {id}"),
                    e,
                    &self.c.target,
                )
            })
    }

    /// Who owns what: for every UID named in an ownerReference of a Secret or ConfigMap in
    /// kube-system, the dependents (`Secret kube-system/kubeadm-certs` is the known case).
    /// Reads metadata-only lists.
    pub async fn owners(&self) -> Result<HashMap<String, Vec<String>>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        let mut metas: Vec<(
            &'static str,
            k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        )> = Vec::new();
        cluster::list_pages(
            &self.c,
            token::NAMESPACE,
            list_params(None, None),
            cluster::proto::partial_metadata::<Secret>,
            std::convert::identity,
            "cannot list secrets in kube-system",
            |p: Page<PartialObjectMeta<Secret>>| match p {
                Page::Items(page) => metas.extend(
                    page.into_iter()
                        .filter(|m| m.metadata.owner_references.is_some())
                        .map(|m| ("Secret", m.metadata)),
                ),
                Page::Restart => metas.retain(|(k, _)| *k != "Secret"),
            },
        )
        .await?;
        cluster::list_pages(
            &self.c,
            token::NAMESPACE,
            list_params(None, None),
            cluster::proto::partial_metadata::<ConfigMap>,
            std::convert::identity,
            "cannot list configmaps in kube-system",
            |p: Page<PartialObjectMeta<ConfigMap>>| match p {
                Page::Items(page) => metas.extend(
                    page.into_iter()
                        .filter(|m| m.metadata.owner_references.is_some())
                        .map(|m| ("ConfigMap", m.metadata)),
                ),
                Page::Restart => metas.retain(|(k, _)| *k != "ConfigMap"),
            },
        )
        .await?;
        for (kind, meta) in &metas {
            for r in meta.owner_references.iter().flatten() {
                out.entry(r.uid.clone()).or_default().push(format!(
                    "{kind} {}/{}",
                    meta.namespace.as_deref().unwrap_or(token::NAMESPACE),
                    meta.name.as_deref().unwrap_or("?")
                ));
            }
        }
        Ok(out)
    }
}

/// A listed Secret straight from the protobuf body to a [`Stored`] record: only what the record
/// keeps is copied out of the response.
fn stored_from_proto(b: &[u8]) -> std::result::Result<Stored, cluster::proto::DecodeError> {
    let v = cluster::proto::secret_view(b)?;
    let own = |m: &[(&str, &str)]| -> BTreeMap<String, String> {
        m.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    };
    Ok(Stored {
        record: TokenRecord::from_parts(
            v.name.to_string(),
            v.uid.map(String::from),
            v.created,
            own(&v.labels),
            &v.data,
        ),
        annotations: own(&v.annotations),
        resource_version: v.resource_version.map(String::from),
    })
}

fn stored(s: &Secret) -> Stored {
    Stored {
        record: TokenRecord::from_secret(s),
        annotations: s.metadata.annotations.clone().unwrap_or_default(),
        resource_version: s.metadata.resource_version.clone(),
    }
}

/// LIST parameters: page size plus optional field and label selectors.
pub fn list_params(fields: Option<&str>, labels: Option<&str>) -> ListParams {
    let mut lp = ListParams::default().limit(PAGE);
    if let Some(f) = fields {
        lp = lp.fields(f);
    }
    if let Some(l) = labels {
        lp = lp.labels(l);
    }
    lp
}

/// Whether a failed request may still have reached the apiserver: anything but an answer
/// (which says what happened) and a connection that was never made.
fn may_have_landed(e: &kube::Error) -> bool {
    if matches!(e, kube::Error::Api(_)) {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper_util::client::legacy::Error>()
            && h.is_connect()
        {
            return false;
        }
        source = err.source();
    }
    true
}

/// Whether `s` is the token Secret `spec` describes (same id and secret).
fn holds_secret(s: &Secret, spec: &TokenSpec) -> bool {
    s.type_.as_deref() == Some(token::SECRET_TYPE)
        && s.data
            .as_ref()
            .and_then(|d| d.get("token-secret"))
            .is_some_and(|v| v.0 == spec.token.secret.expose().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::plain_cluster;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    fn spec() -> TokenSpec {
        TokenSpec {
            token: token::Token::generate().unwrap(),
            fresh: true,
            description: None,
            expires: None,
            usages: vec!["authentication".into()],
            groups: vec![],
            labels: BTreeMap::new(),
        }
    }

    /// How the stand-in answers the POST, and what its Secret holds when read back.
    #[derive(Clone, Copy)]
    enum Post {
        /// Reads the request, then closes the connection without an answer.
        Lost,
        /// 409 AlreadyExists.
        Conflict,
    }

    /// A plain-HTTP apiserver stand-in: the POST as `post` says; a GET answers with a token
    /// Secret holding `secret` (404 when `None`). Returns its address.
    fn standin(post: Post, id: String, secret: Option<String>) -> String {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                let mut len = 0;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                let (status, json) = if line.starts_with("POST") {
                    match post {
                        Post::Lost => continue, // dropped: connection closed, no answer
                        Post::Conflict => (
                            "409 Conflict",
                            serde_json::json!({"kind": "Status", "apiVersion": "v1",
                                "status": "Failure", "reason": "AlreadyExists", "code": 409,
                                "message": "secrets already exists"}),
                        ),
                    }
                } else {
                    match &secret {
                        Some(sec) => (
                            "200 OK",
                            serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                                "type": token::SECRET_TYPE,
                                "metadata": {"name": format!("bootstrap-token-{id}"),
                                    "namespace": "kube-system", "uid": "uid-1"},
                                "data": {"token-id": base64_of(&id),
                                    "token-secret": base64_of(sec)}}),
                        ),
                        None => (
                            "404 Not Found",
                            serde_json::json!({"kind": "Status", "apiVersion": "v1",
                                "status": "Failure", "reason": "NotFound", "code": 404,
                                "message": "not found"}),
                        ),
                    }
                };
                let b = json.to_string();
                let _ = write!(
                    w,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                    b.len()
                );
            }
        });
        addr
    }

    fn base64_of(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    /// The plain failure of a create that did not land: nothing to clean up, nothing unknown.
    fn assert_not_created(e: &Error) {
        assert!(
            e.to_string().contains("cannot create bootstrap token"),
            "{e}"
        );
        assert!(!e.to_string().contains("unknown"), "{e}");
    }

    /// `create` of `s` against the stand-in at `addr`.
    async fn create_at(addr: &str, s: &TokenSpec) -> Result<Option<String>> {
        TokenStore::new(&plain_cluster(addr))
            .create(s, DryRun::None)
            .await
    }

    #[tokio::test]
    async fn a_create_whose_answer_is_lost_is_settled_by_reading_the_token_back() {
        // Landed: the Secret holds our secret, so the token is ours (and its UID known).
        let s = spec();
        let ours = s.token.secret.expose().to_string();
        let uid = create_at(&standin(Post::Lost, s.token.id.to_string(), Some(ours)), &s)
            .await
            .unwrap();
        assert_eq!(uid.as_deref(), Some("uid-1"));
        // Not there: the create failed, and says so (nothing to clean up).
        let e = create_at(&standin(Post::Lost, s.token.id.to_string(), None), &s)
            .await
            .unwrap_err();
        assert_not_created(&e);
    }

    #[tokio::test]
    async fn a_given_token_found_after_a_lost_answer_is_never_taken_for_ours() {
        // `--token`: the Secret may have held it before this run, so a rollback must not
        // delete it as ours; the error says so and points at `list`, not at `prune`.
        let mut s = spec();
        s.fresh = false;
        let given = s.token.secret.expose().to_string();
        let e = create_at(
            &standin(Post::Lost, s.token.id.to_string(), Some(given)),
            &s,
        )
        .await
        .unwrap_err();
        let m = e.to_string();
        assert!(m.contains("exists now, but it was given"), "{m}");
        assert!(!m.contains("prune"), "{m}");
        // A 409 is the token that was there: AlreadyExists, even with the same secret.
        let e = create_at(
            &standin(
                Post::Conflict,
                s.token.id.to_string(),
                Some(s.token.secret.expose().to_string()),
            ),
            &s,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, Error::AlreadyExists(_)), "{e}");
        // A fresh token whose Secret holds another secret is not ours either.
        s.fresh = true;
        let other = standin(
            Post::Lost,
            s.token.id.to_string(),
            Some("0123456789abcdef".into()),
        );
        assert_not_created(&create_at(&other, &s).await.unwrap_err());
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_plain_failure_and_an_unreadable_one_says_so() {
        let s = spec();
        // Never connected: nothing can have landed, no read-back.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        let e = create_at(&addr, &s).await.unwrap_err();
        assert!(!e.to_string().contains("unknown"), "{e}");
        // Sent, no answer, and the read-back fails too: the state is unknown, and the
        // message says how to find and delete the token.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            // The POST is read and dropped; later connections too.
            for s in l.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let _ = (&s).read(&mut buf);
            }
        });
        let e = create_at(&addr, &s).await.unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("is unknown") && m.contains(&format!("prune {}", s.token.id)),
            "{m}"
        );
        assert!(!m.contains(s.token.secret.expose()), "{m}");
    }
}
