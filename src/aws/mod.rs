//! AWS through the official SDK for Rust (feature `aws`): the [`Provider`] that reads Auto
//! Scaling groups and writes EC2 instance tags for `deliver aws`, and the node side of `fetch
//! --from aws-tag` ([`node`]: IMDSv2 identity, its own tag).
//!
//! The SDK's HTTP client is built on rustls with ring, the TLS stack of the rest of the tool,
//! instead of its default aws-lc (no C toolchain needed, one crypto provider). Endpoints,
//! credentials and region come from the SDK's standard chain (AWS_ENDPOINT_URL,
//! AWS_EC2_METADATA_SERVICE_ENDPOINT, profiles, web identity, instance roles), so the tool
//! behaves like the AWS CLI. Everything AWS answers is checked before use: instance ids, node
//! names (by the plan), tag values (by [`crate::deliver::tag::parse`]).

pub mod node;

use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_autoscaling::types::{Filter as AsgFilter, LifecycleState};
use aws_sdk_ec2::types::Tag;
use aws_smithy_http_client::tls;
use futures::StreamExt;
use futures::future::BoxFuture;

use crate::deliver::select::{Groups, NodeNaming, valid_instance_id};
use crate::deliver::{Instance, Provider};
use crate::{Error, Result};

/// The SDK configuration from the standard chain, over rustls + ring.
pub async fn sdk_config(region: Option<String>) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(r) = region {
        loader = loader.region(Region::new(r));
    }
    loader.load().await
}

/// An SDK error as one line: the service's code and message, or the transport's cause chain.
pub fn sdk_error<E, R>(e: &aws_sdk_ec2::error::SdkError<E, R>) -> String
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ec2::error::SdkError;
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            format!(
                "{}: {}",
                err.code().unwrap_or("error"),
                err.message().unwrap_or("(no message)")
            )
        }
        other => aws_sdk_ec2::error::DisplayErrorContext(other).to_string(),
    }
}

/// Auto Scaling groups and EC2 tags, behind [`Provider`].
pub struct Aws {
    ec2: aws_sdk_ec2::Client,
    asg: aws_sdk_autoscaling::Client,
    groups: Groups,
    tag_key: String,
    naming: NodeNaming,
    ec2_calls: AtomicU64,
    asg_calls: AtomicU64,
}

/// Instance ids per DescribeInstances call (the API takes long id lists; this keeps each
/// request and answer moderate).
const DESCRIBE_CHUNK: usize = 200;
/// CreateTags calls in flight at once (each instance's value differs, so one call each).
const TAG_CONCURRENCY: usize = 8;

impl Aws {
    /// A provider over `config`.
    pub fn new(config: &SdkConfig, groups: Groups, tag_key: String, naming: NodeNaming) -> Self {
        Aws {
            ec2: aws_sdk_ec2::Client::new(config),
            asg: aws_sdk_autoscaling::Client::new(config),
            groups,
            tag_key,
            naming,
            ec2_calls: AtomicU64::new(0),
            asg_calls: AtomicU64::new(0),
        }
    }

    /// The InService members of the groups (DescribeAutoScalingGroups, paged).
    async fn members(&self) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        let mut found = 0usize;
        loop {
            let mut req = self
                .asg
                .describe_auto_scaling_groups()
                .set_next_token(next.take());
            match &self.groups {
                Groups::Names(n) => req = req.set_auto_scaling_group_names(Some(n.clone())),
                Groups::Tags(t) => {
                    for (k, v) in t {
                        req = req.filters(
                            AsgFilter::builder()
                                .name(format!("tag:{k}"))
                                .values(v.clone())
                                .build(),
                        );
                    }
                }
            }
            self.asg_calls.fetch_add(1, Ordering::Relaxed);
            let out = req.send().await.map_err(|e| {
                Error::runtime(format!(
                    "cannot describe auto scaling groups: {}",
                    sdk_error(&e)
                ))
            })?;
            for g in out.auto_scaling_groups() {
                found += 1;
                for i in g.instances() {
                    if i.lifecycle_state() == Some(&LifecycleState::InService)
                        && let Some(id) = i.instance_id()
                        && valid_instance_id(id)
                    {
                        ids.push(id.to_string());
                    }
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        if let Groups::Names(n) = &self.groups
            && found < n.len()
        {
            return Err(Error::runtime(format!(
                "not every auto scaling group of --asg {} exists (found {found}): check the names \
                 and the region",
                n.join(",")
            )));
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    fn node_name(&self, i: &aws_sdk_ec2::types::Instance) -> Option<String> {
        let tag = |k: &str| {
            i.tags()
                .iter()
                .find(|t| t.key() == Some(k))
                .and_then(|t| t.value())
                .map(String::from)
        };
        match &self.naming {
            NodeNaming::PrivateDnsName => i
                .private_dns_name()
                .filter(|s| !s.is_empty())
                .map(String::from),
            NodeNaming::InstanceId => i.instance_id().map(String::from),
            NodeNaming::Tag(k) => tag(k),
        }
    }
}

impl Provider for Aws {
    fn describe(&self) -> String {
        match &self.groups {
            Groups::Names(n) => format!("aws: auto scaling groups {}", n.join(", ")),
            Groups::Tags(t) => format!(
                "aws: auto scaling groups tagged {}",
                t.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn instances(&self) -> BoxFuture<'_, Result<Vec<Instance>>> {
        Box::pin(async move {
            let ids = self.members().await?;
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(DESCRIBE_CHUNK) {
                let mut next: Option<String> = None;
                loop {
                    self.ec2_calls.fetch_add(1, Ordering::Relaxed);
                    let page = self
                        .ec2
                        .describe_instances()
                        .set_instance_ids(Some(chunk.to_vec()))
                        .set_next_token(next.take())
                        .send()
                        .await
                        .map_err(|e| {
                            Error::runtime(format!("cannot describe instances: {}", sdk_error(&e)))
                        })?;
                    for r in page.reservations() {
                        for i in r.instances() {
                            let Some(id) = i.instance_id().filter(|id| valid_instance_id(id))
                            else {
                                continue;
                            };
                            let tag = i
                                .tags()
                                .iter()
                                .find(|t| t.key() == Some(self.tag_key.as_str()))
                                .and_then(|t| t.value())
                                .map(String::from);
                            out.push(Instance {
                                id: id.to_string(),
                                node_name: self.node_name(i),
                                tag,
                            });
                        }
                    }
                    match page.next_token() {
                        Some(t) if !t.is_empty() => next = Some(t.to_string()),
                        _ => break,
                    }
                }
            }
            out.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(out)
        })
    }

    fn set_tags(
        &self,
        tags: Vec<(String, String)>,
    ) -> BoxFuture<'_, Vec<(String, std::result::Result<(), String>)>> {
        Box::pin(async move {
            futures::stream::iter(tags)
                .map(|(instance, value)| async move {
                    self.ec2_calls.fetch_add(1, Ordering::Relaxed);
                    let r = self
                        .ec2
                        .create_tags()
                        .resources(instance.clone())
                        .tags(Tag::builder().key(&self.tag_key).value(&value).build())
                        .send()
                        .await
                        .map(drop)
                        // The value is the secret: never let an echo of it through.
                        .map_err(|e| sdk_error(&e).replace(&value, "<tag value>"));
                    (instance, r)
                })
                .buffer_unordered(TAG_CONCURRENCY)
                .collect()
                .await
        })
    }

    fn calls(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("autoscaling", self.asg_calls.load(Ordering::Relaxed)),
            ("ec2", self.ec2_calls.load(Ordering::Relaxed)),
        ]
    }
}
