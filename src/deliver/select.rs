//! Which instances a delivery serves and what each is called: the group selection
//! (`--asg`, `--asg-filter tag:KEY=VALUE`), the node naming rule (`--node-name`), and the
//! check of instance ids answered by the cloud. Provider-neutral flags; the AWS provider
//! interprets them.

/// Which groups to deliver to.
#[derive(Clone, Debug)]
pub enum Groups {
    /// By name.
    Names(Vec<String>),
    /// By tag filters (`tag:KEY=VALUE`), all of which must match.
    Tags(Vec<(String, String)>),
}

/// How an instance's node name is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeNaming {
    /// `PrivateDnsName` (what the kubelet registers as with the AWS cloud provider).
    PrivateDnsName,
    /// The instance id.
    InstanceId,
    /// The value of a tag (e.g. `tag:Name`).
    Tag(String),
}

impl std::str::FromStr for NodeNaming {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "private-dns-name" => Ok(NodeNaming::PrivateDnsName),
            "instance-id" => Ok(NodeNaming::InstanceId),
            _ => match s.strip_prefix("tag:") {
                Some(k) if !k.is_empty() => Ok(NodeNaming::Tag(k.to_string())),
                _ => Err(format!(
                    "invalid node naming {s:?}: use private-dns-name, instance-id or tag:KEY"
                )),
            },
        }
    }
}

/// `tag:KEY=VALUE` of `--asg-filter`.
pub fn parse_group_filter(s: &str) -> std::result::Result<(String, String), String> {
    s.strip_prefix("tag:")
        .and_then(|kv| kv.split_once('='))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("invalid --asg-filter {s:?}: expected tag:KEY=VALUE"))
}

/// An instance id as EC2 makes them: `i-` and 8 or 17 lowercase hex digits.
pub fn valid_instance_id(id: &str) -> bool {
    id.strip_prefix("i-").is_some_and(|h| {
        (8..=17).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        assert_eq!("instance-id".parse(), Ok(NodeNaming::InstanceId));
        assert_eq!("tag:Name".parse(), Ok(NodeNaming::Tag("Name".into())));
        assert!("tag:".parse::<NodeNaming>().is_err());
        assert!("hostname".parse::<NodeNaming>().is_err());
        assert_eq!(
            parse_group_filter("tag:pool=workers"),
            Ok(("pool".into(), "workers".into()))
        );
        assert!(parse_group_filter("pool=workers").is_err());
        assert!(parse_group_filter("tag:=x").is_err());
    }

    #[test]
    fn instance_ids() {
        assert!(valid_instance_id("i-0123456789abcdef0"));
        assert!(valid_instance_id("i-01234567"));
        assert!(!valid_instance_id("i-0123456"));
        assert!(!valid_instance_id("i-0123456789ABCDEF0"));
        assert!(!valid_instance_id("i-0123456789abcdef0/../x"));
        assert!(!valid_instance_id("0123456789"));
    }
}
