//! What a CertificateSigningRequest says, reduced to the facts the approval policy reads: the
//! API object's requester, signer, usages and state, and the PKCS#10 request inside it
//! (subject, SANs, public key), parsed with x509-parser. Parsing is strict where a lenient
//! reading could hide something from the policy: a second SAN extension (Go's parser, which the
//! signer uses, keeps the last one) or a SAN of a kind we do not list makes the request
//! unreadable rather than silently ignored.

use std::net::IpAddr;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use sha2::{Digest, Sha256};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509CertificationRequest};

/// Where a CSR stands, from its conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No Approved, Denied or Failed condition yet.
    Pending,
    /// Approved (and possibly issued).
    Approved,
    /// Denied.
    Denied,
    /// The signer gave up on it.
    Failed,
}

impl State {
    /// Lowercase name, for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Approved => "approved",
            State::Denied => "denied",
            State::Failed => "failed",
        }
    }
}

/// The public key of the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// RSA with this modulus size in bits.
    Rsa(usize),
    /// ECDSA on this named curve (`P-256`, `P-384`, `P-521`, or the curve's OID).
    Ec(String),
    /// Anything else (Ed25519, DSA, …), by algorithm name or OID.
    Other(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Rsa(bits) => write!(f, "RSA {bits}"),
            Key::Ec(curve) => write!(f, "ECDSA {curve}"),
            Key::Other(alg) => write!(f, "{alg}"),
        }
    }
}

/// The PKCS#10 request, as far as the policy cares.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Request {
    /// Every CN in the subject (a kubelet sends exactly one).
    pub common_names: Vec<String>,
    /// Every O in the subject.
    pub organizations: Vec<String>,
    /// Any other subject attribute, as `OID=value` (a kubelet sends none).
    pub other_attributes: Vec<String>,
    /// DNS SANs.
    pub dns: Vec<String>,
    /// IP SANs.
    pub ips: Vec<IpAddr>,
    /// Email SANs.
    pub emails: Vec<String>,
    /// URI SANs.
    pub uris: Vec<String>,
    /// SANs of any other kind (otherName, directoryName, …), described.
    pub other_sans: Vec<String>,
    /// The public key.
    pub key: Option<Key>,
    /// SHA-256 (hex) of the DER SubjectPublicKeyInfo: the same key in two CSRs has the same id.
    pub key_id: String,
}

/// One CSR object, as the policy reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Csr {
    /// metadata.name.
    pub name: String,
    /// metadata.resourceVersion, which an approval must carry.
    pub resource_version: String,
    /// spec.signerName.
    pub signer: String,
    /// spec.username: who created it, as the apiserver authenticated them.
    pub username: String,
    /// spec.groups.
    pub groups: Vec<String>,
    /// spec.usages, as written.
    pub usages: Vec<String>,
    /// spec.expirationSeconds.
    pub expiration_seconds: Option<i64>,
    /// From status.conditions.
    pub state: State,
    /// The parsed spec.request, or why it could not be read.
    pub request: Result<Request, String>,
}

/// Reads a CSR object.
pub fn from_object(o: &CertificateSigningRequest) -> Csr {
    let conditions = o
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    // A condition whose status is "False" does not count (the API allows it, nobody sets it).
    let has = |t: &str| {
        conditions
            .iter()
            .any(|c| c.type_ == t && c.status != "False")
    };
    let state = if has("Denied") {
        State::Denied
    } else if has("Failed") {
        State::Failed
    } else if has("Approved") {
        State::Approved
    } else {
        State::Pending
    };
    Csr {
        name: o.metadata.name.clone().unwrap_or_default(),
        resource_version: o.metadata.resource_version.clone().unwrap_or_default(),
        signer: o.spec.signer_name.clone(),
        username: o.spec.username.clone().unwrap_or_default(),
        groups: o.spec.groups.clone().unwrap_or_default(),
        usages: o.spec.usages.clone().unwrap_or_default(),
        expiration_seconds: o.spec.expiration_seconds.map(i64::from),
        state,
        request: parse_pem(&o.spec.request.0),
    }
}

/// Parses a PEM `CERTIFICATE REQUEST` (what `spec.request` holds).
pub fn parse_pem(pem: &[u8]) -> Result<Request, String> {
    let (rest, p) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|_| "spec.request is not a PEM block".to_string())?;
    if !matches!(
        p.label.as_str(),
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST"
    ) {
        return Err(format!(
            "spec.request holds a {:?} PEM block, not a CERTIFICATE REQUEST",
            p.label
        ));
    }
    // The apiserver reads the first block only; anything after it would be ignored there and
    // could confuse a reader here, so there must be nothing.
    if !String::from_utf8_lossy(rest).trim().is_empty() {
        return Err("spec.request holds more than one PEM block".into());
    }
    parse_der(&p.contents)
}

/// Parses a DER PKCS#10 request.
pub fn parse_der(der: &[u8]) -> Result<Request, String> {
    let (_, csr) = X509CertificationRequest::from_der(der)
        .map_err(|e| format!("spec.request is not a PKCS#10 request: {e}"))?;
    let info = &csr.certification_request_info;
    let mut r = Request {
        key_id: hex(&Sha256::digest(info.subject_pki.raw)),
        ..Default::default()
    };
    for a in info.subject.iter_attributes() {
        let value = a
            .as_str()
            .map_err(|_| "the subject holds a value that is not a string".to_string())?
            .to_string();
        match a.attr_type().to_id_string().as_str() {
            "2.5.4.3" => r.common_names.push(value),
            "2.5.4.10" => r.organizations.push(value),
            oid => r
                .other_attributes
                .push(format!("{}={value}", attribute_name(oid))),
        }
    }
    let mut san_extensions = 0;
    for ext in csr.requested_extensions().into_iter().flatten() {
        match ext {
            ParsedExtension::SubjectAlternativeName(san) => {
                san_extensions += 1;
                for n in &san.general_names {
                    match n {
                        GeneralName::DNSName(d) => r.dns.push((*d).to_string()),
                        GeneralName::IPAddress(b) => r.ips.push(ip(b)?),
                        GeneralName::RFC822Name(e) => r.emails.push((*e).to_string()),
                        GeneralName::URI(u) => r.uris.push((*u).to_string()),
                        other => r.other_sans.push(format!("{other:?}")),
                    }
                }
            }
            ParsedExtension::ParseError { error } => {
                return Err(format!("an extension of the request is malformed: {error}"));
            }
            _ => {}
        }
    }
    if san_extensions > 1 {
        return Err(format!(
            "the request carries {san_extensions} subjectAltName extensions; one at most"
        ));
    }
    r.key = Some(key(&csr));
    Ok(r)
}

fn key(csr: &X509CertificationRequest) -> Key {
    let spki = &csr.certification_request_info.subject_pki;
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        "1.2.840.113549.1.1.1" => match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(k)) => Key::Rsa(k.key_size()),
            _ => Key::Other("an unreadable RSA key".into()),
        },
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| x509_parser::der_parser::oid::Oid::try_from(p).ok())
                .map(|o| o.to_id_string())
                .unwrap_or_else(|| "no curve".into());
            Key::Ec(
                match curve.as_str() {
                    "1.2.840.10045.3.1.7" => "P-256",
                    "1.3.132.0.34" => "P-384",
                    "1.3.132.0.35" => "P-521",
                    "1.3.132.0.33" => "P-224",
                    other => other,
                }
                .to_string(),
            )
        }
        "1.3.101.112" => Key::Other("Ed25519".into()),
        "1.3.101.113" => Key::Other("Ed448".into()),
        "1.2.840.10040.4.1" => Key::Other("DSA".into()),
        other => Key::Other(format!("key algorithm {other}")),
    }
}

fn ip(b: &[u8]) -> Result<IpAddr, String> {
    match b.len() {
        4 => Ok(IpAddr::from(<[u8; 4]>::try_from(b).expect("4 bytes"))),
        16 => Ok(IpAddr::from(<[u8; 16]>::try_from(b).expect("16 bytes"))),
        n => Err(format!("an IP SAN is {n} bytes long, not 4 or 16")),
    }
}

fn attribute_name(oid: &str) -> &str {
    match oid {
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "1.2.840.113549.1.9.1" => "emailAddress",
        other => other,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Request {
        let path = format!(
            "{}/tests/fixtures/csr/{name}.pem",
            env!("CARGO_MANIFEST_DIR")
        );
        parse_pem(&std::fs::read(&path).unwrap()).unwrap()
    }

    #[test]
    fn a_kubelet_style_serving_request_reads_completely() {
        let r = fixture("serving-ec256");
        assert_eq!(r.common_names, ["system:node:node-b"]);
        assert_eq!(r.organizations, ["system:nodes"]);
        assert!(r.other_attributes.is_empty());
        assert_eq!(r.dns, ["node-b", "node-b.nodes.example.com"]);
        assert_eq!(r.ips, ["192.0.2.10".parse::<IpAddr>().unwrap()]);
        assert_eq!(r.key, Some(Key::Ec("P-256".into())));
        assert_eq!(r.key_id.len(), 64);
    }

    #[test]
    fn keys_are_told_apart() {
        assert_eq!(fixture("serving-rsa1024").key, Some(Key::Rsa(1024)));
        assert_eq!(fixture("serving-rsa2048").key, Some(Key::Rsa(2048)));
        assert_eq!(fixture("serving-ec384").key, Some(Key::Ec("P-384".into())));
        assert_eq!(fixture("serving-ec224").key, Some(Key::Ec("P-224".into())));
        assert_eq!(
            fixture("serving-ed25519").key,
            Some(Key::Other("Ed25519".into()))
        );
        assert_eq!(
            fixture("serving-ec384").ips,
            ["2001:db8::10".parse::<IpAddr>().unwrap()]
        );
    }

    #[test]
    fn emails_uris_and_extra_attributes_are_kept_for_the_policy() {
        let r = fixture("serving-email-uri");
        assert_eq!(r.emails, ["a@b.c"]);
        assert_eq!(r.uris, ["spiffe://x/y"]);
        assert_eq!(r.other_attributes, ["OU=extra"]);
        let two = fixture("two-cn");
        assert_eq!(two.common_names, ["system:node:node-b", "admin"]);
        assert_eq!(two.organizations, ["system:nodes", "system:masters"]);
        assert!(fixture("client-ec256").dns.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_pem(b"").is_err());
        assert!(parse_pem(b"not pem").is_err());
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(
            parse_pem(cert.as_bytes())
                .unwrap_err()
                .contains("CERTIFICATE")
        );
        let csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
        assert!(parse_pem(csr.as_bytes()).is_err());
        let path = format!(
            "{}/tests/fixtures/csr/serving-ec256.pem",
            env!("CARGO_MANIFEST_DIR")
        );
        let one = std::fs::read_to_string(path).unwrap();
        let two = format!("{one}{one}");
        assert!(
            parse_pem(two.as_bytes())
                .unwrap_err()
                .contains("more than one")
        );
        assert!(ip(&[1, 2, 3]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse_der(&b);
            let _ = parse_pem(&b);
        }
    }
}
