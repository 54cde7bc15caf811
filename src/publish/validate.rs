//! The checks a join record read back from a sink must pass before any of it is printed
//! ([`super::JoinRecord::from_fields`]): each is a pure function of one field that lets
//! nothing through a shell could read as syntax.

use std::net::{Ipv4Addr, Ipv6Addr};

/// `host:port`: a DNS name, an IPv4 address or a bracketed IPv6 address, and a port
/// 1-65535. Nothing else (no spaces, no shell characters, no path) passes.
pub fn endpoint(s: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest
            .split_once("]:")
            .ok_or("a bracketed IPv6 address needs ]:port")?;
        h.parse::<Ipv6Addr>()
            .map_err(|_| "the bracketed host is not an IPv6 address")?;
        (None, p)
    } else {
        let (h, p) = s.rsplit_once(':').ok_or("the port is missing")?;
        (Some(h), p)
    };
    if port.is_empty()
        || port.len() > 5
        || !port.bytes().all(|b| b.is_ascii_digit())
        || !matches!(port.parse::<u32>(), Ok(1..=65535))
    {
        return Err("the port is not a number from 1 to 65535");
    }
    match host {
        None => Ok(()),
        Some(h) if h.bytes().all(|b| b.is_ascii_digit() || b == b'.') => h
            .parse::<Ipv4Addr>()
            .map(|_| ())
            .map_err(|_| "the host is not an IPv4 address"),
        Some(h) if dns_name(h) => Ok(()),
        Some(_) => Err("the host is not a DNS name, an IPv4 address or [IPv6]"),
    }
}

/// A DNS name: dot-separated labels of letters, digits and inner hyphens.
fn dns_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `sha256:` and 64 lowercase hex digits, as kubeadm prints them.
pub fn pin(p: &str) -> bool {
    p.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Empty, or PEM certificate blocks: marker lines and base64 lines only.
pub fn pem_text(s: &str) -> bool {
    s.lines().all(|l| {
        l.is_empty()
            || l == "-----BEGIN CERTIFICATE-----"
            || l == "-----END CERTIFICATE-----"
            || l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        for ok in [
            "10.0.0.1:6443",
            "k8s.example.com:443",
            "localhost:1",
            "[fd00::1]:6443",
            "cp-1:65535",
        ] {
            assert_eq!(endpoint(ok), Ok(()), "{ok}");
        }
        for bad in [
            "10.0.0.1:6443; curl x | sh #",
            "10.0.0.1",
            "10.0.0.1:0",
            "10.0.0.1:65536",
            "10.0.0.1:+80",
            "999.0.0.1:6443",
            "fd00::1:6443",
            "[fd00::1]6443",
            "[nothex]:6443",
            "-bad.example:6443",
            "a..b:6443",
            "$(reboot):6443",
            "`id`:6443",
            "host\n:6443",
            "host:6443\n",
            "https://host:6443",
            "host:6443/path",
            ":6443",
        ] {
            assert!(endpoint(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pins_and_pem() {
        assert!(pin(&format!("sha256:{}", "ab".repeat(32))));
        assert!(!pin(&format!("sha256:{}", "AB".repeat(32))));
        assert!(!pin(&format!("sha256:{}$(x)", "ab".repeat(31))));
        assert!(!pin(&format!("sha256:{}\n", "ab".repeat(32))));
        assert!(!pin("sha256:aa"));
        assert!(pem_text(""));
        assert!(pem_text(
            "-----BEGIN CERTIFICATE-----\nAQID+/==\n-----END CERTIFICATE-----\n"
        ));
        assert!(!pem_text("-----BEGIN CERTIFICATE-----\n$(reboot)\n"));
    }
}
