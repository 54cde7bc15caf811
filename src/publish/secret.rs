//! The Secret sink: the join record as an Opaque Kubernetes Secret, in a namespace and
//! kubeconfig context of the user's choice (for in-cluster consumers such as a machine
//! controller). Written with server-side apply, so re-publishing updates it in place.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};

use super::{Decision, Existing, JoinRecord, Outcome, Sink, decide, field};
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

    async fn existing(&self) -> Result<Option<Existing>> {
        let s = self.api().get_opt(&self.name).await.map_err(|e| {
            crate::cluster::kube_error(
                format!("cannot read Secret {}/{}", self.namespace, self.name),
                e,
                &self.cluster.target,
            )
        })?;
        Ok(s.and_then(|s| {
            let d = s.data?;
            let get = |k: &str| d.get(k).map(|v| String::from_utf8_lossy(&v.0).into_owned());
            Some(Existing {
                token_id: get(field::TOKEN_ID)?,
                expiration: get(field::EXPIRATION).unwrap_or_default(),
            })
        }))
    }

    /// The Secret for `rec`.
    pub fn object(&self, rec: &JoinRecord) -> Secret {
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

impl Sink for SecretSink {
    fn name(&self) -> String {
        format!("secret {}/{}", self.namespace, self.name)
    }

    fn publish<'a>(&'a self, rec: &'a JoinRecord) -> BoxFuture<'a, Result<Outcome>> {
        Box::pin(async move {
            let place = format!("{}/{}", self.namespace, self.name);
            if let Some(ex) = self.existing().await? {
                match decide(Some(&ex), rec) {
                    Decision::KeepNewer if !self.replace_newer => {
                        return Ok(Outcome::KeptNewer(format!(
                            "{place} holds token {} that expires later; pass --replace-newer to overwrite",
                            ex.token_id
                        )));
                    }
                    _ => {}
                }
            }
            let pp = PatchParams::apply("kubectl-jointoken").force();
            self.api()
                .patch(&self.name, &pp, &Patch::Apply(self.object(rec)))
                .await
                .map_err(|e| {
                    crate::cluster::kube_error(
                        format!("cannot write Secret {place}"),
                        e,
                        &self.cluster.target,
                    )
                })?;
            Ok(Outcome::Written(place))
        })
    }
}
