//! What `deliver` writes into an instance tag and `fetch --from aws-tag` reads back: a compact
//! join record that fits a tag value (at most 256 characters) and still lets the node verify
//! the apiserver before it sends the token anywhere.
//!
//! Format (fields separated by one space):
//!
//! ```text
//! kjt1 <id.secret> <host:port> <expiry> <pin>[,<pin>...]
//! ```
//!
//! - `kjt1`: the format's name and version;
//! - the bootstrap token;
//! - the apiserver endpoint nodes join through;
//! - the token's expiry in Unix seconds (`0` = never), so a node refuses a stale tag offline;
//! - the CA pins as bare lowercase hex SHA-256 of each CA's SubjectPublicKeyInfo (kubeadm's
//!   `--discovery-token-ca-cert-hash` without its `sha256:` prefix, to save room).
//!
//! The CA certificate itself does not fit: the node reads it from `kube-public/cluster-info`
//! and accepts only certificates matching the pins ([`crate::discovery`]), as `kubeadm join`
//! does. With one pin the record is 105 characters plus the endpoint; with two, 170 plus.
//!
//! Parsing reuses the join record's validation ([`JoinRecord::from_fields`]): a tag is read from
//! outside and may have been written by anyone allowed to tag the instance.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::publish::{JoinRecord, field};
use crate::token::Token;

/// The format marker.
pub const MAGIC: &str = "kjt1";
/// The most an EC2 (and GCE label-less metadata) tag value holds.
pub const MAX_LEN: usize = 256;

/// Encodes the record for `token` (expiring at `expires`), joining through `endpoint`, pinned
/// by `pins` (`sha256:<hex>`). Fails when it would not fit a tag value.
pub fn encode(
    token: &Token,
    endpoint: &str,
    expires: Option<Timestamp>,
    pins: &[String],
) -> Result<String, String> {
    let hex: Vec<&str> = pins
        .iter()
        .map(|p| p.strip_prefix("sha256:").unwrap_or(p))
        .collect();
    let v = format!(
        "{MAGIC} {} {endpoint} {} {}",
        token.expose(),
        expires.map_or(0, |t| t.as_second()),
        hex.join(",")
    );
    if v.len() > MAX_LEN {
        return Err(format!(
            "the join record for endpoint {endpoint} with {} CA pin(s) is {} characters, more \
             than a tag value holds ({MAX_LEN}): use a shorter --endpoint",
            pins.len(),
            v.len()
        ));
    }
    Ok(v)
}

/// Parses and validates a tag value. Errors never repeat the value (it holds the secret).
pub fn parse(value: &str, what: &str) -> crate::Result<JoinRecord> {
    let bad = |why: &str| crate::Error::runtime(format!("{what} is not a join record: {why}"));
    if value.len() > MAX_LEN {
        return Err(bad("it is longer than a tag value can be"));
    }
    let parts: Vec<&str> = value.split(' ').collect();
    let [magic, token, endpoint, expiry, pins] = parts[..] else {
        return Err(bad(
            "expected 5 space-separated fields: kjt1 TOKEN HOST:PORT EXPIRY PINS",
        ));
    };
    if magic != MAGIC {
        return Err(bad(&format!(
            "it does not start with {MAGIC} (written by another version or tool?)"
        )));
    }
    if expiry.is_empty() || expiry.len() > 12 || !expiry.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("the expiry is not a number of seconds"));
    }
    let expiration = match expiry.parse::<i64>() {
        Ok(0) => String::new(),
        Ok(s) => Timestamp::from_second(s)
            .map(crate::token::format_expiration)
            .map_err(|_| bad("the expiry is out of range"))?,
        Err(_) => return Err(bad("the expiry is not a number of seconds")),
    };
    let pins: Vec<String> = pins.split(',').map(|h| format!("sha256:{h}")).collect();
    let fields: BTreeMap<String, String> = [
        (field::TOKEN, token.to_string()),
        (field::API_SERVER_ENDPOINT, endpoint.to_string()),
        (field::EXPIRATION, expiration),
        (field::CA_CERT_HASHES, pins.join(",")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    JoinRecord::from_fields(&fields, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> Token {
        "abcdef.0123456789abcdef".parse().unwrap()
    }

    fn pin(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn round_trip_and_size() {
        let exp: Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
        let v = encode(&tok(), "10.0.0.1:6443", Some(exp), &[pin('a')]).unwrap();
        assert_eq!(v.len(), 105 + "10.0.0.1:6443".len());
        assert!(v.starts_with("kjt1 abcdef.0123456789abcdef 10.0.0.1:6443 "));
        let r = parse(&v, "tag x").unwrap();
        assert_eq!(r.token, tok());
        assert_eq!(r.api_server_endpoint, "10.0.0.1:6443");
        assert_eq!(r.expiration, Some(exp));
        assert_eq!(r.ca_cert_hashes, [pin('a')]);
        let never = encode(&tok(), "[fd00::1]:6443", None, &[pin('a'), pin('b')]).unwrap();
        let r = parse(&never, "tag x").unwrap();
        assert_eq!(r.expiration, None);
        assert_eq!(r.ca_cert_hashes.len(), 2);
    }

    #[test]
    fn records_that_do_not_fit_are_refused_before_writing() {
        let long = format!(
            "{}.example.com:6443",
            "a".repeat(63) + "." + &"b".repeat(40)
        );
        let e = encode(&tok(), &long, None, &[pin('a'), pin('b')]).unwrap_err();
        assert!(e.contains("more than a tag value holds (256)"), "{e}");
    }

    #[test]
    fn hostile_values_are_refused_without_echoing_them() {
        let good = encode(&tok(), "10.0.0.1:6443", None, &[pin('a')]).unwrap();
        for bad in [
            String::new(),
            "kjt2".to_string() + &good[4..],
            good.replace("10.0.0.1:6443", "10.0.0.1:6443;reboot"),
            good.replace("10.0.0.1:6443", "$(reboot):6443"),
            good.replace(" 0 ", " -1 "),
            good.replace(" 0 ", " 99999999999999 "),
            good.replace(" 0 ", " x "),
            good.clone() + "`id`",
            good.clone() + ",",
            good.replace("abcdef.", "abcdeF."),
            good.replace(' ', "  "),
            good.clone() + " extra",
            "x".repeat(300),
        ] {
            let e = parse(&bad, "tag x of i-1").unwrap_err().to_string();
            assert!(e.starts_with("tag x of i-1 is not a join record"), "{e}");
            assert!(!e.contains("0123456789abcdef"), "{e}");
        }
    }
}
