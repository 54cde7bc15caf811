//! The node side of tag delivery: who am I (IMDSv2: a session token by PUT, then the instance
//! id and region), read my own delivery tag (DescribeTags filtered to my instance and the key),
//! and remove it once used (DeleteTags with the value read, so a newer value written in
//! between is left alone). IMDS answers are validated before they name anything.

use aws_config::imds;
use aws_config::provider_config::ProviderConfig;
use aws_sdk_ec2::types::{Filter, Tag};
use aws_smithy_http_client::tls;

use super::sdk_error;
use crate::deliver::select::valid_instance_id;
use crate::{Error, Result};

/// This instance, as IMDS says, with an EC2 client for its region.
pub struct Me {
    /// Instance id.
    pub instance: String,
    /// Region.
    pub region: String,
    ec2: aws_sdk_ec2::Client,
    imds: imds::Client,
}

/// A region name as AWS makes them (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
pub fn valid_region(r: &str) -> bool {
    r.len() <= 32
        && r.split('-').count() >= 3
        && r.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && r.bytes().next_back().is_some_and(|b| b.is_ascii_digit())
}

async fn imds_get(c: &imds::Client, path: &str) -> Result<String> {
    c.get(path)
        .await
        .map(|v| v.as_ref().trim().to_string())
        .map_err(|e| {
            Error::runtime(format!(
                "cannot read {path} from the instance metadata service (IMDSv2): {}: is this an \
                 EC2 instance with the metadata service enabled?",
                crate::error::error_chain(&e)
            ))
        })
}

impl Me {
    /// Asks IMDSv2 who this instance is (AWS_EC2_METADATA_SERVICE_ENDPOINT overrides where).
    pub async fn discover() -> Result<Me> {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let imds = imds::Client::builder()
            .configure(&ProviderConfig::without_region().with_http_client(http))
            .build();
        let instance = imds_get(&imds, "/latest/meta-data/instance-id").await?;
        if !valid_instance_id(&instance) {
            return Err(Error::runtime(
                "the instance metadata service answered an instance id that is not one (i- and \
                 8 or 17 hex digits)",
            ));
        }
        let region = imds_get(&imds, "/latest/meta-data/placement/region").await?;
        if !valid_region(&region) {
            return Err(Error::runtime(
                "the instance metadata service answered a region that is not one",
            ));
        }
        let config = super::sdk_config(Some(region.clone())).await;
        Ok(Me {
            ec2: aws_sdk_ec2::Client::new(&config),
            instance,
            region,
            imds,
        })
    }

    /// The value of this instance's tag `key`, if set: from instance metadata when the launch
    /// template exposes tags there (only this instance can read that, and no IAM permission is
    /// needed), else from DescribeTags filtered to this instance.
    pub async fn tag(&self, key: &str) -> Result<Option<String>> {
        // A key with '/' can never be in IMDS (EC2 refuses such keys there); don't ask.
        if !key.contains('/')
            && let Ok(v) = self
                .imds
                .get(format!("/latest/meta-data/tags/instance/{key}"))
                .await
        {
            return Ok(Some(v.as_ref().to_string()));
        }
        self.tag_from_api(key).await
    }

    async fn tag_from_api(&self, key: &str) -> Result<Option<String>> {
        let out = self
            .ec2
            .describe_tags()
            .filters(
                Filter::builder()
                    .name("resource-id")
                    .values(&self.instance)
                    .build(),
            )
            .filters(Filter::builder().name("key").values(key).build())
            .send()
            .await
            .map_err(|e| {
                Error::runtime(format!(
                    "cannot read tag {key} of {}: {}",
                    self.instance,
                    sdk_error(&e)
                ))
            })?;
        // The filter is the server's; check that what came back is really ours.
        Ok(out
            .tags()
            .iter()
            .find(|t| t.resource_id() == Some(self.instance.as_str()) && t.key() == Some(key))
            .and_then(|t| t.value())
            .map(String::from))
    }

    /// Removes tag `key` if it still holds `value`.
    pub async fn remove_tag(&self, key: &str, value: &str) -> Result<()> {
        self.ec2
            .delete_tags()
            .resources(&self.instance)
            .tags(Tag::builder().key(key).value(value).build())
            .send()
            .await
            .map(drop)
            .map_err(|e| {
                Error::runtime(format!(
                    "cannot remove tag {key} from {}: {}",
                    self.instance,
                    sdk_error(&e).replace(value, "<tag value>")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-4",
        ] {
            assert!(valid_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "US-east-1",
            "us-east-1/",
            "us--1",
            "../x-1-1",
        ] {
            assert!(!valid_region(bad), "{bad}");
        }
    }
}
