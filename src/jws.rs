//! Detached JWS (HS256) over `cluster-info`'s kubeconfig, byte-compatible with
//! k8s.io/cluster-bootstrap/token/jws: the bootstrap signer writes `jws-kubeconfig-<id>` with
//! it, and `kubeadm join` verifies it with the token secret before trusting the CA.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Key prefix of the signatures in `kube-public/cluster-info`.
pub const SIGNATURE_KEY_PREFIX: &str = "jws-kubeconfig-";

/// The detached signature `header..signature` of `payload` for token `id` with `secret`.
pub fn compute_detached(payload: &str, id: &str, secret: &str) -> String {
    // The header is exactly what go-jose writes for upstream: alg then kid, no spaces.
    let header = format!(r#"{{"alg":"HS256","kid":"{id}"}}"#);
    let h64 = URL_SAFE_NO_PAD.encode(header.as_bytes());
    let signing_input = format!("{h64}.{}", URL_SAFE_NO_PAD.encode(payload.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h64}..{sig}")
}

/// Whether `detached` is a valid signature of `payload` by this token (constant-time compare).
pub fn verify_detached(payload: &str, detached: &str, id: &str, secret: &str) -> bool {
    let Some((h64, sig64)) = detached.split_once("..") else {
        return false;
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig64) else {
        return false;
    };
    let signing_input = format!("{h64}.{}", URL_SAFE_NO_PAD.encode(payload.as_bytes()));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(signing_input.as_bytes());
    // The header must name this token's id, as upstream checks the kid.
    let header_ok = URL_SAFE_NO_PAD
        .decode(h64)
        .ok()
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
        .is_some_and(|h| h["alg"] == "HS256" && h["kid"] == id);
    header_ok && mac.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test vectors of kubernetes/cluster-bootstrap token/jws/jws_test.go: id "joshua",
    // secret "my voice is my passcode"; the expected values are the upstream test's.
    const PAYLOAD: &str = "Hello from the other side. I must have called a thousand times.";
    const WANT: &str =
        "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8";

    #[test]
    fn upstream_test_vector() {
        assert_eq!(
            compute_detached(PAYLOAD, "joshua", "my voice is my passcode"),
            WANT
        );
        assert!(verify_detached(
            PAYLOAD,
            WANT,
            "joshua",
            "my voice is my passcode"
        ));
    }

    #[test]
    fn upstream_edge_vectors() {
        assert_eq!(
            compute_detached("", "joshua", "my voice is my passcode"),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk"
        );
        assert_eq!(
            compute_detached(PAYLOAD, "joshua", ""),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8"
        );
    }

    #[test]
    fn wrong_secret_id_or_payload_fails() {
        assert!(!verify_detached(
            PAYLOAD,
            WANT,
            "joshua",
            "my voice is not my passcode"
        ));
        assert!(!verify_detached(
            PAYLOAD,
            WANT,
            "abcdef",
            "my voice is my passcode"
        ));
        assert!(!verify_detached(
            &format!("{PAYLOAD} "),
            WANT,
            "joshua",
            "my voice is my passcode"
        ));
        assert!(!verify_detached(
            PAYLOAD,
            "garbage",
            "joshua",
            "my voice is my passcode"
        ));
    }
}

#[cfg(test)]
mod props {
    use super::*;

    proptest::proptest! {
        #[test]
        fn signatures_verify_only_with_their_token(payload in "\\PC{0,200}", id in "[a-z0-9]{6}", secret in "[a-z0-9]{16}", other in "[a-z0-9]{16}") {
            let sig = compute_detached(&payload, &id, &secret);
            proptest::prop_assert!(verify_detached(&payload, &sig, &id, &secret));
            if other != secret {
                proptest::prop_assert!(!verify_detached(&payload, &sig, &id, &other));
            }
        }

        #[test]
        fn hostile_signatures_never_panic(payload in "\\PC{0,50}", sig in "\\PC{0,120}") {
            let _ = verify_detached(&payload, &sig, "abcdef", "0123456789abcdef");
        }
    }
}
