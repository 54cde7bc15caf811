//! Service-account tokens: the TokenRequest call, and the renewal unit that
//! `kubeconfig --service-account --publish` and `schedule run --service-account` share —
//! ask the sinks whether a renewal is due ([`crate::publish::sa::renewal`]), request a token,
//! build the [`SaRecord`] and publish it everywhere.
//!
//! Nothing is rolled back when a sink fails: a TokenRequest token cannot be revoked (unless
//! bound to an object), and a record already written is valid and newer than what it
//! replaced; the error names which sinks hold it.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};

use crate::cluster::Cluster;
use crate::publish::sa::{self, Renewal};
use crate::publish::{self, PublishReport, PublishValue, SaRecord, Sink};
use crate::{Error, Result, reporter};

/// The apiserver's minimum token lifetime.
pub const MIN_DURATION: Duration = Duration::from_secs(600);

/// What to request.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Namespace of the service account.
    pub namespace: String,
    /// Its name.
    pub service_account: String,
    /// Lifetime asked for.
    pub duration: Duration,
    /// Audiences (empty: the apiserver's).
    pub audiences: Vec<String>,
    /// An object the token is bound to.
    pub bound: Option<BoundObjectReference>,
}

impl Request {
    /// `system:serviceaccount:NS:NAME`.
    pub fn username(&self) -> String {
        format!(
            "{}{}:{}",
            sa::USER_PREFIX,
            self.namespace,
            self.service_account
        )
    }
}

/// Requests a token (TokenRequest API); returns it with its expiry.
pub async fn request(c: &Cluster, r: &Request) -> Result<(String, Timestamp)> {
    let (ns, name) = (&r.namespace, &r.service_account);
    let api: Api<ServiceAccount> = Api::namespaced(c.client.clone(), ns);
    let req = TokenRequest {
        spec: Some(TokenRequestSpec {
            audiences: (!r.audiences.is_empty()).then(|| r.audiences.clone()),
            expiration_seconds: Some(r.duration.as_secs() as i64),
            bound_object_ref: r.bound.clone(),
        }),
        ..Default::default()
    };
    let resp = api
        .create_token_request(name, &PostParams::default(), &req)
        .await
        .map_err(|e| {
            crate::cluster::kube_error(
                format!("cannot request a token for service account {ns}/{name}"),
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
    // The expiry is what the renewal rule and "never replaced by one that expires earlier"
    // stand on: an answer without one is refused rather than guessed.
    let expires = status.expiration_timestamp.map(|t| t.0).ok_or_else(|| {
        Error::runtime("the apiserver returned a TokenRequest without an expiration")
    })?;
    Ok((token, expires))
}

/// The kubeconfig for a service-account token: context namespace set, user `NS-NAME`.
pub fn kubeconfig(
    c: &Cluster,
    r: &Request,
    server: &str,
    ca: &[Vec<u8>],
    token: &str,
) -> crate::kubeconfig::Doc {
    let user = format!("{}-{}", r.namespace, r.service_account);
    crate::kubeconfig::token_kubeconfig(
        &c.target.cluster_name,
        server,
        ca,
        &user,
        token,
        Some(&r.namespace),
    )
}

/// How one renewal run ended.
#[derive(Debug)]
pub enum Renewed {
    /// Not due: what the earliest-expiring sink holds.
    NotDue {
        /// That sink.
        sink: String,
        /// Its expiry.
        expiration: Timestamp,
        /// When a renewal becomes due.
        due: Timestamp,
    },
    /// A new token was requested and every sink holds it.
    Published {
        /// The record published (holds the secret: never print its Debug as a value).
        record: Box<SaRecord>,
        /// Per sink.
        report: PublishReport,
    },
}

/// Requests a token for `r` and publishes it to `sinks` as `value`; with `renew_before`, only
/// when a sink's record is missing, invalid, or expires within that margin. Fails when any
/// sink did not take the new record (one that kept a newer one counts as not taking it).
pub async fn renew(
    c: &Cluster,
    sinks: &[Box<dyn Sink>],
    r: &Request,
    value: PublishValue,
    server: &str,
    ca: &[Vec<u8>],
    renew_before: Option<Duration>,
) -> Result<Renewed> {
    let username = r.username();
    if let Some(margin) = renew_before {
        let mut current = Vec::with_capacity(sinks.len());
        for s in sinks {
            current.push((s.name(), s.current().await?));
        }
        match sa::renewal(&current, &username, margin, Timestamp::now()) {
            Renewal::NotDue {
                sink,
                expiration,
                due,
            } => {
                reporter::note(format!(
                    "nothing to do: {sink} holds a token for {username} expiring at {}; renewal \
                     is due at {}",
                    crate::token::format_expiration(expiration),
                    crate::token::format_expiration(due)
                ));
                return Ok(Renewed::NotDue {
                    sink,
                    expiration,
                    due,
                });
            }
            Renewal::Due(why) => reporter::note(format!("renewal due: {why}")),
        }
    }
    let (token, expires) = request(c, r).await?;
    let kubeconfig = match value {
        PublishValue::Kubeconfig => Some(crate::output::to_yaml(&kubeconfig(
            c, r, server, ca, &token,
        ))?),
        PublishValue::Token => None,
    };
    let record = SaRecord {
        namespace: r.namespace.clone(),
        service_account: r.service_account.clone(),
        expiration: expires,
        audiences: r.audiences.clone(),
        server: server.to_string(),
        token,
        kubeconfig,
    };
    reporter::note(format!(
        "service-account token for {username} expires at {}",
        crate::token::format_expiration(expires)
    ));
    let report = publish::publish_all(sinks, &record).await;
    if let crate::rollout::Verdict::NotPublished { failed, holding } =
        crate::rollout::verdict(&report)
    {
        let mut msg = format!(
            "the token for {username} was not published: {}",
            failed.join("; ")
        );
        if !holding.is_empty() {
            msg.push_str(&format!(" (published to {})", holding.join(", ")));
        }
        return Err(Error::runtime(msg));
    }
    Ok(Renewed::Published {
        record: Box::new(record),
        report,
    })
}
