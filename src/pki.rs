//! CA certificates: PEM bundle parsing, PEM re-encoding, and the public-key pins kubeadm's
//! `--discovery-token-ca-cert-hash` expects (SHA-256 over the DER SubjectPublicKeyInfo).

use base64::Engine;
use sha2::{Digest, Sha256};

/// Splits a PEM bundle into the DER bytes of its CERTIFICATE blocks.
pub fn pem_bundle_to_der(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for item in x509_parser::pem::Pem::iter_from_buffer(pem) {
        let p = item.map_err(|e| format!("invalid PEM: {e}"))?;
        if p.label == "CERTIFICATE" {
            out.push(p.contents);
        }
    }
    if out.is_empty() {
        return Err("no CERTIFICATE block found".into());
    }
    Ok(out)
}

/// Encodes DER certificates as one PEM bundle.
pub fn der_to_pem_bundle(certs: &[Vec<u8>]) -> String {
    let mut out = String::new();
    for der in certs {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

/// `sha256:<hex>` of one certificate's SubjectPublicKeyInfo.
pub fn ca_cert_hash(der: &[u8]) -> Result<String, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("invalid CA certificate: {e}"))?;
    let spki = cert.tbs_certificate.subject_pki.raw;
    Ok(format!("sha256:{}", hex(&Sha256::digest(spki))))
}

/// One pin per certificate in the bundle, in bundle order.
pub fn ca_cert_hashes(certs: &[Vec<u8>]) -> Result<Vec<String>, String> {
    certs.iter().map(|c| ca_cert_hash(c)).collect()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two CA certificates and their pins, produced once with openssl (kept as fixtures so the
    // pins are computed by a tool independent of ours):
    //   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    //     -subj /CN=kjt-test-ca-N -days 36500 -out caN.pem
    //   openssl x509 -in caN.pem -pubkey -noout | openssl pkey -pubin -outform der | sha256sum
    const CA1: &str = include_str!("../tests/fixtures/ca1.pem");
    const CA2: &str = include_str!("../tests/fixtures/ca2.pem");
    const PIN1: &str = include_str!("../tests/fixtures/ca1.sha256");
    const PIN2: &str = include_str!("../tests/fixtures/ca2.sha256");

    #[test]
    fn pin_matches_openssl() {
        let der = pem_bundle_to_der(CA1.as_bytes()).unwrap();
        assert_eq!(der.len(), 1);
        assert_eq!(
            ca_cert_hash(&der[0]).unwrap(),
            format!("sha256:{}", PIN1.split_whitespace().next().unwrap())
        );
    }

    #[test]
    fn a_bundle_of_two_gives_two_pins() {
        let bundle = format!("{CA1}{CA2}");
        let der = pem_bundle_to_der(bundle.as_bytes()).unwrap();
        let pins = ca_cert_hashes(&der).unwrap();
        let want: Vec<String> = [PIN1, PIN2]
            .iter()
            .map(|p| format!("sha256:{}", p.split_whitespace().next().unwrap()))
            .collect();
        assert_eq!(pins, want);
    }

    #[test]
    fn pem_round_trip() {
        let der = pem_bundle_to_der(format!("{CA1}{CA2}").as_bytes()).unwrap();
        let again = pem_bundle_to_der(der_to_pem_bundle(&der).as_bytes()).unwrap();
        assert_eq!(der, again);
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(pem_bundle_to_der(b"hello").is_err());
        assert!(ca_cert_hash(b"\x30\x03\x02\x01\x00").is_err());
    }
}

#[cfg(test)]
mod props {
    use super::*;

    proptest::proptest! {
        #[test]
        fn ca_bundles_from_anywhere_never_panic(s in "(-----BEGIN CERTIFICATE-----\\n)?[A-Za-z0-9+/=\\n]{0,200}(-----END CERTIFICATE-----\\n)?") {
            if let Ok(ders) = pem_bundle_to_der(s.as_bytes()) {
                let _ = ca_cert_hashes(&ders);
            }
        }

        #[test]
        fn der_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = ca_cert_hash(&b);
        }
    }
}
