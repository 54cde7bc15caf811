//! The Secret sink: the join record as an Opaque Kubernetes Secret, in a namespace and
//! kubeconfig context of the user's choice (for in-cluster consumers such as a machine
//! controller). Written with server-side apply, so re-publishing updates it in place; the
//! sink remembers what it replaced so that a rollback can restore it (or delete the Secret it
//! created).

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::future::BoxFuture;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};

use super::{Decision, Existing, Outcome, Record, Sink, decide, field, other_kind};
use crate::cli::GlobalArgs;
use crate::cluster::{self, Cluster};
use crate::{Error, Result};

/// Label on every Secret this sink writes.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubectl-jointoken");

/// The Secret sink's flags.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Secret sink")]
pub struct SecretArgs {
    /// Name of the Secret the secret sink writes.
    #[arg(long, value_name = "NAME")]
    pub secret_name: Option<String>,
    /// Namespace of that Secret (default: the context's namespace).
    #[arg(long, value_name = "NS")]
    pub secret_namespace: Option<String>,
    /// kubeconfig context for that Secret (default: --context, else the current one).
    #[arg(long, value_name = "NAME")]
    pub secret_context: Option<String>,
}

/// The Secret sink.
pub struct SecretSink {
    cluster: Cluster,
    namespace: String,
    name: String,
    replace_newer: bool,
    /// Set by a publish that wrote: what to put back on rollback.
    undo: Mutex<Option<Undo>>,
}

/// What one publish replaced.
struct Undo {
    /// The Secret's previous data; `None` when this run created it.
    before: Option<BTreeMap<String, ByteString>>,
    /// The uid of the Secret as written, so a rollback deletes exactly that object.
    uid: Option<String>,
}

impl SecretSink {
    /// Connects to the chosen context and checks the Secret can be read.
    pub async fn prepare(a: &SecretArgs, g: &GlobalArgs) -> Result<Self> {
        let name = a.secret_name.clone().ok_or_else(|| {
            Error::usage(
                "the secret sink needs --secret-name NAME (and optionally --secret-namespace)",
            )
        })?;
        let mut g2 = g.clone();
        if a.secret_context.is_some() {
            g2.context = a.secret_context.clone();
            g2.cluster = None;
            g2.user = None;
        }
        g2.namespace = None;
        let cluster = cluster::connect(&g2).await?;
        let namespace = a
            .secret_namespace
            .clone()
            .unwrap_or_else(|| cluster.target.default_namespace.clone());
        let sink = SecretSink {
            cluster,
            namespace,
            name,
            replace_newer: false,
            undo: Mutex::new(None),
        };
        sink.existing().await?;
        Ok(sink)
    }

    /// Replaces even a newer token.
    pub fn replace_newer(mut self, yes: bool) -> Self {
        self.replace_newer = yes;
        self
    }

    fn api(&self) -> Api<Secret> {
        Api::namespaced(self.cluster.client.clone(), &self.namespace)
    }

    async fn get(&self) -> Result<Option<Secret>> {
        self.api().get_opt(&self.name).await.map_err(|e| {
            crate::cluster::kube_error(
                format!("cannot read Secret {}/{}", self.namespace, self.name),
                e,
                &self.cluster.target,
            )
        })
    }

    async fn existing(&self) -> Result<Option<Existing>> {
        Ok(self.get().await?.as_ref().and_then(existing_of))
    }

    /// The Secret for `rec`.
    pub fn object(&self, rec: &dyn Record) -> Secret {
        let data: BTreeMap<String, ByteString> = rec
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), ByteString(v.into_bytes())))
            .collect();
        Secret {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: Some(self.namespace.clone()),
                labels: Some(BTreeMap::from([(MANAGED_BY.0.into(), MANAGED_BY.1.into())])),
                ..Default::default()
            },
            type_: Some("Opaque".into()),
            data: Some(data),
            ..Default::default()
        }
    }
}

/// The record id and expiry a Secret's data names.
fn existing_of(s: &Secret) -> Option<Existing> {
    super::existing_from_fields(&string_data(s)?)
}

/// A Secret's data as strings.
fn string_data(s: &Secret) -> Option<BTreeMap<String, String>> {
    Some(
        s.data
            .as_ref()?
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
            .collect(),
    )
}

impl Sink for SecretSink {
    fn name(&self) -> String {
        format!("secret {}/{}", self.namespace, self.name)
    }

    fn publish<'a>(&'a self, rec: &'a dyn Record) -> BoxFuture<'a, Result<Outcome>> {
        Box::pin(async move {
            let place = format!("{}/{}", self.namespace, self.name);
            let before = self.get().await?;
            if let Some(ex) = before.as_ref().and_then(existing_of) {
                match decide(Some(&ex), rec) {
                    Decision::KeepNewer if !self.replace_newer => {
                        return Ok(Outcome::KeptNewer(format!(
                            "{place} holds token {} that expires later; pass --replace-newer to overwrite",
                            ex.token_id
                        )));
                    }
                    Decision::OtherKind => return Err(other_kind(&place, &ex, rec)),
                    _ => {}
                }
            }
            let written = self.apply(self.object(rec), &place).await?;
            *self.undo.lock().unwrap_or_else(|e| e.into_inner()) = Some(Undo {
                before: before.map(|s| s.data.unwrap_or_default()),
                uid: written.metadata.uid,
            });
            Ok(Outcome::Written(place))
        })
    }

    fn current(&self) -> BoxFuture<'_, Result<Option<BTreeMap<String, String>>>> {
        Box::pin(async move { Ok(self.get().await?.as_ref().and_then(string_data)) })
    }

    fn rollback<'a>(&'a self, rec: &'a dyn Record) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let place = format!("secret {}/{}", self.namespace, self.name);
            let Some(undo) = self.undo.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                return Ok(format!(
                    "{place} left as it is: this run wrote nothing there"
                ));
            };
            let id = &rec.id();
            let now = self.get().await?;
            if now
                .as_ref()
                .and_then(existing_of)
                .map(|e| e.token_id)
                .as_deref()
                != Some(id)
            {
                return Ok(format!(
                    "{place} left as it is: it does not name token {id}"
                ));
            }
            match undo.before {
                Some(data) => {
                    let restored = data
                        .get(field::TOKEN_ID)
                        .map(|v| String::from_utf8_lossy(&v.0).into_owned())
                        .unwrap_or_else(|| "none".into());
                    let mut obj = self.object(rec);
                    obj.data = Some(data);
                    self.apply(obj, &place).await?;
                    Ok(format!(
                        "{place}: restored its previous data (token {restored})"
                    ))
                }
                None => {
                    // Only the very object this run created: a re-created one has another uid.
                    let dp = DeleteParams {
                        preconditions: Some(Preconditions {
                            uid: undo.uid,
                            resource_version: None,
                        }),
                        ..Default::default()
                    };
                    self.api().delete(&self.name, &dp).await.map_err(|e| {
                        crate::cluster::kube_error(
                            format!("cannot delete {place}"),
                            e,
                            &self.cluster.target,
                        )
                    })?;
                    Ok(format!("{place} deleted: this run created it"))
                }
            }
        })
    }
}

impl SecretSink {
    /// Server-side applies `obj` (our field manager owns every data key it writes).
    async fn apply(&self, obj: Secret, place: &str) -> Result<Secret> {
        let pp = PatchParams::apply("kubectl-jointoken").force();
        self.api()
            .patch(&self.name, &pp, &Patch::Apply(obj))
            .await
            .map_err(|e| {
                crate::cluster::kube_error(
                    format!("cannot write Secret {place}"),
                    e,
                    &self.cluster.target,
                )
            })
    }
}
