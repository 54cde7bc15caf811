//! The `kubeadm join` command line, exactly as `kubeadm token create --print-join-command`
//! prints it (one `--discovery-token-ca-cert-hash` per CA certificate), and the endpoint it
//! names: `--endpoint`, else the server cluster-info tells joining nodes, else the
//! kubeconfig's.

use crate::cluster::{Cluster, Target};
use crate::token::Token;
use crate::{Error, Result, cluster_info, pki, reporter};

/// Everything a joining node needs besides the token.
#[derive(Debug, Clone)]
pub struct JoinInfo {
    /// `host:port`.
    pub endpoint: String,
    /// `sha256:<hex>` per CA certificate.
    pub ca_cert_hashes: Vec<String>,
    /// Control-plane certificate key.
    pub certificate_key: Option<String>,
}

impl JoinInfo {
    /// From the target's server and CA bundle; fails when there is no CA to pin.
    pub fn from_target(t: &Target, certificate_key: Option<String>) -> Result<Self> {
        if t.ca_certs.is_empty() {
            return Err(Error::Config(format!(
                "the kubeconfig has no CA certificate for {} (insecure-skip-tls-verify?), so \
                 there is nothing to pin in the join command: use a kubeconfig with \
                 certificate-authority-data",
                t.server
            )));
        }
        let ca_cert_hashes = pki::ca_cert_hashes(&t.ca_certs)
            .map_err(|e| Error::Config(format!("cannot read the kubeconfig's CA: {e}")))?;
        Ok(JoinInfo {
            endpoint: endpoint(&t.server),
            ca_cert_hashes,
            certificate_key,
        })
    }

    /// As [`from_target`](Self::from_target), with the endpoint resolved by
    /// [`resolve_endpoint`] (`flag` is `--endpoint`).
    pub async fn for_cluster(
        c: &Cluster,
        flag: Option<&str>,
        certificate_key: Option<String>,
    ) -> Result<Self> {
        let mut j = Self::from_target(&c.target, certificate_key)?;
        j.endpoint = resolve_endpoint(c, flag).await;
        Ok(j)
    }

    /// The worker join command for `token`.
    pub fn command(&self, token: &Token) -> String {
        command(&self.endpoint, &token.expose(), &self.ca_cert_hashes, None)
    }

    /// The control-plane join command, when a certificate key was given.
    pub fn control_plane_command(&self, token: &Token) -> Option<String> {
        self.certificate_key.as_deref().map(|k| {
            command(
                &self.endpoint,
                &token.expose(),
                &self.ca_cert_hashes,
                Some(k),
            )
        })
    }
}

/// The endpoint kubeadm puts in join commands: the server URL without `https://` or a
/// trailing slash.
pub fn endpoint(server: &str) -> String {
    server
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string()
}

/// The endpoint joining nodes use: `flag` (`--endpoint`), else the server in
/// `kube-public/cluster-info` (what kubeadm's discovery hands nodes, and often the only
/// address valid from outside, e.g. when the kubeconfig points at a local tunnel), else the
/// kubeconfig's server. Warns when the result is a loopback address, which no other machine
/// can reach.
pub async fn resolve_endpoint(c: &Cluster, flag: Option<&str>) -> String {
    let e = match flag {
        Some(e) => e.to_string(),
        None => match cluster_info_server(c).await {
            Some(s) => endpoint(&s),
            None => endpoint(&c.target.server),
        },
    };
    warn_if_loopback(&e);
    e
}

/// The server in cluster-info, when it exists and is readable (anything else: `None`).
async fn cluster_info_server(c: &Cluster) -> Option<String> {
    match cluster_info::read_cached(&c.client).await {
        Ok(Some(cm)) => {
            let parsed = cluster_info::kubeconfig_of(&cm).map(cluster_info::parse);
            match parsed {
                Some(Ok(p)) => Some(p.server),
                _ => {
                    tracing::info!(
                        "cluster-info has no readable kubeconfig; using the kubeconfig's server"
                    );
                    None
                }
            }
        }
        Ok(None) => None,
        Err(e) => {
            tracing::info!("cannot read cluster-info ({e}); using the kubeconfig's server");
            None
        }
    }
}

/// Warns (once per call) that a loopback endpoint only works on this machine.
pub fn warn_if_loopback(endpoint: &str) {
    if is_loopback(endpoint) {
        reporter::warn(format!(
            "the join endpoint {endpoint} is a loopback address, which nodes on other machines \
             cannot reach: pass --endpoint HOST:PORT with an address they can"
        ));
    }
}

/// Whether `host:port`'s host is loopback (127.0.0.0/8, ::1, localhost).
pub fn is_loopback(endpoint: &str) -> bool {
    let host = endpoint
        .rsplit_once(':')
        .map_or(endpoint, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `kubeadm join <endpoint> --token <token> --discovery-token-ca-cert-hash <pin>...`, with
/// `--control-plane --certificate-key <key>` when a certificate key is given.
pub fn command(
    endpoint: &str,
    token: &str,
    pins: &[String],
    certificate_key: Option<&str>,
) -> String {
    let mut s = format!("kubeadm join {endpoint} --token {token}");
    for p in pins {
        s.push_str(" --discovery-token-ca-cert-hash ");
        s.push_str(p);
    }
    if let Some(k) = certificate_key {
        s.push_str(" --control-plane --certificate-key ");
        s.push_str(k);
    }
    s
}

/// Checks a `--certificate-key`: the hex AES-256 key kubeadm's `upload-certs` prints.
pub fn validate_certificate_key(k: &str) -> Result<(), String> {
    if k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("invalid --certificate-key: expected 64 hex characters (from `kubeadm init phase upload-certs --upload-certs`)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_and_control_plane_commands() {
        let pins = vec!["sha256:aa".to_string(), "sha256:bb".to_string()];
        assert_eq!(endpoint("https://10.0.0.1:6443/"), "10.0.0.1:6443");
        assert_eq!(
            command("10.0.0.1:6443", "abcdef.0123456789abcdef", &pins, None),
            "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef \
             --discovery-token-ca-cert-hash sha256:aa --discovery-token-ca-cert-hash sha256:bb"
        );
        let k = "0".repeat(64);
        assert!(
            command("h:1", "t", &pins[..1], Some(&k))
                .ends_with(&format!("sha256:aa --control-plane --certificate-key {k}"))
        );
    }

    #[test]
    fn loopback_endpoints() {
        assert!(is_loopback("127.0.0.1:6443"));
        assert!(is_loopback("127.1.2.3:6443"));
        assert!(is_loopback("[::1]:6443"));
        assert!(is_loopback("localhost:6443"));
        assert!(!is_loopback("10.0.0.1:6443"));
        assert!(!is_loopback("[fd00::1]:6443"));
        assert!(!is_loopback("cp.example:6443"));
    }

    #[test]
    fn certificate_keys_are_checked() {
        assert!(validate_certificate_key(&"ab".repeat(32)).is_ok());
        assert!(validate_certificate_key("abc").is_err());
        assert!(validate_certificate_key(&"zz".repeat(32)).is_err());
    }
}
