//! Names the approval policy compares: Node names (DNS-1123 subdomains, checked before one is
//! ever put in a URL or a pattern), and `--dns-pattern` templates, matched label by label and
//! always anchored at both ends, so a pattern can never be satisfied by a name that merely
//! contains or starts with the node's name.

/// Whether `s` is a valid Node name (a DNS-1123 subdomain: at most 253 characters, labels of
/// `[a-z0-9-]` that start and end alphanumeric, separated by dots).
pub fn valid_node_name(s: &str) -> bool {
    s.len() <= 253 && !s.is_empty() && s.split('.').all(valid_label)
}

fn valid_label(l: &str) -> bool {
    let b = l.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// The placeholder for the node name in a `--dns-pattern`.
pub const NODE_PLACEHOLDER: &str = "{node}";

/// A `--dns-pattern`: a DNS name in which `{node}` stands for the node's name and a label that
/// is exactly `*` for any one label, e.g. `{node}.nodes.example.com` or
/// `{node}.*.compute.internal`. It must contain `{node}`: a pattern without it would hand the
/// same name to every node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsPattern(String);

impl DnsPattern {
    /// Parses and checks a pattern (lowercased, as DNS is case-insensitive).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let p = raw.trim().to_ascii_lowercase();
        if !p.contains(NODE_PLACEHOLDER) {
            return Err(format!(
                "--dns-pattern {raw:?} does not contain {{node}}: every node would get the same \
                 name; write e.g. {{node}}.nodes.example.com"
            ));
        }
        // Check the shape with a sample node name in place of the placeholder.
        let sample = p.replace(NODE_PLACEHOLDER, "node");
        let ok = sample.len() <= 253 && sample.split('.').all(|l| l == "*" || valid_label(l));
        if !ok {
            return Err(format!(
                "--dns-pattern {raw:?} is not a DNS name with {{node}} and whole-label `*` \
                 wildcards: write e.g. {{node}}.nodes.example.com"
            ));
        }
        Ok(DnsPattern(p))
    }

    /// The pattern as given (lowercased).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` matches this pattern for `node`: the same number of labels, `*` labels
    /// match any one valid label, every other label equal (ignoring ASCII case).
    pub fn matches(&self, node: &str, name: &str) -> bool {
        let want = self.0.replace(NODE_PLACEHOLDER, node);
        let name = name.to_ascii_lowercase();
        let (w, n): (Vec<&str>, Vec<&str>) = (want.split('.').collect(), name.split('.').collect());
        w.len() == n.len()
            && w.iter()
                .zip(&n)
                .all(|(w, n)| if *w == "*" { valid_label(n) } else { w == n })
    }
}

impl std::fmt::Display for DnsPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_are_dns_subdomains() {
        for ok in [
            "a",
            "node-b",
            "ip-10-0-0-1.ec2.internal",
            "x1",
            &"a".repeat(63),
        ] {
            assert!(valid_node_name(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "-a",
            "a-",
            "a..b",
            ".a",
            "a/b",
            "../x",
            "a b",
            "a:b",
            "a_b",
            &"a".repeat(64),
            &format!("{}.a", "a.".repeat(126)),
        ] {
            assert!(!valid_node_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn patterns_are_anchored_and_label_wise() {
        let p = DnsPattern::parse("{node}.nodes.example.com").unwrap();
        assert!(p.matches("a", "a.nodes.example.com"));
        assert!(p.matches("a", "A.Nodes.Example.COM"));
        assert!(!p.matches("a", "b.nodes.example.com"));
        assert!(!p.matches("a", "xa.nodes.example.com"));
        assert!(!p.matches("a", "a.nodes.example.com.evil.ch"));
        assert!(!p.matches("a", "evil.a.nodes.example.com"));
        // The case kubelet-csr-approver's prefix regexes let through.
        let q = DnsPattern::parse("{node}.company.ch").unwrap();
        assert!(!q.matches("a", "auth.company.ch"));
        assert!(q.matches("auth", "auth.company.ch"));
        let w = DnsPattern::parse("{node}.*.compute.internal").unwrap();
        assert!(w.matches("ip-1", "ip-1.eu-west-1.compute.internal"));
        assert!(!w.matches("ip-1", "ip-1.a.b.compute.internal"));
        assert!(!w.matches("ip-1", "ip-1..compute.internal"));
        let bare = DnsPattern::parse("{node}").unwrap();
        assert!(bare.matches("node-b", "node-b"));
        assert!(!bare.matches("node-b", "node-bx"));
        // A dotted node name fills several labels.
        assert!(p.matches("a.b", "a.b.nodes.example.com"));
    }

    #[test]
    fn bad_patterns_are_refused_with_the_fix() {
        for bad in [
            "nodes.example.com",
            "*.example.com",
            "{node}..example.com",
            "{node}.exa mple.com",
            "{node}.ex*.com",
            ".{node}",
            "{node}/x",
        ] {
            let e = DnsPattern::parse(bad).unwrap_err();
            assert!(e.contains("--dns-pattern"), "{bad}: {e}");
        }
    }
}
