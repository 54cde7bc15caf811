//! `kube-public/cluster-info`: the ConfigMap a joining node reads anonymously to learn the
//! apiserver's address and CA. Renders its kubeconfig byte for byte as kubeadm writes it (so a
//! cluster-info made by `setup` looks like kubeadm's), parses it back, and reads it.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Namespace of cluster-info.
pub const NAMESPACE: &str = "kube-public";
/// Name of the ConfigMap.
pub const NAME: &str = "cluster-info";
/// Data key holding the kubeconfig.
pub const KEY: &str = "kubeconfig";

/// The kubeconfig kubeadm stores in cluster-info: one cluster named `""` with the server and
/// the CA bundle, no users or contexts. Key order and nulls are client-go's serialization.
pub fn render(server: &str, ca_der: &[Vec<u8>]) -> String {
    let ca = STANDARD.encode(crate::pki::der_to_pem_bundle(ca_der));
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    \
         server: {server}\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\n\
         users: null\n"
    )
}

/// What a joining node takes from cluster-info.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The server URL of its (first) cluster.
    pub server: String,
    /// The CA certificates (DER), empty when there is no `certificate-authority-data`.
    pub ca_der: Vec<Vec<u8>>,
}

/// Parses cluster-info's kubeconfig.
pub fn parse(kubeconfig: &str) -> Result<Parsed, String> {
    let v: serde_json::Value =
        serde_saphyr::from_str(kubeconfig).map_err(|e| format!("not a kubeconfig: {e}"))?;
    let cluster = &v["clusters"][0]["cluster"];
    let server = cluster["server"]
        .as_str()
        .ok_or("the kubeconfig has no cluster server")?
        .to_string();
    let ca_der = match cluster["certificate-authority-data"].as_str() {
        None => Vec::new(),
        Some(b64) => {
            let pem = STANDARD
                .decode(b64.trim())
                .map_err(|e| format!("certificate-authority-data is not base64: {e}"))?;
            crate::pki::pem_bundle_to_der(&pem)
                .map_err(|e| format!("certificate-authority-data: {e}"))?
        }
    };
    Ok(Parsed { server, ca_der })
}

/// The kubeconfig text of a cluster-info ConfigMap, if it has one.
pub fn kubeconfig_of(cm: &ConfigMap) -> Option<&str> {
    cm.data.as_ref()?.get(KEY).map(String::as_str)
}

/// Reads cluster-info with `client`; `None` when it does not exist.
pub async fn read(client: &kube::Client) -> Result<Option<ConfigMap>, kube::Error> {
    Api::<ConfigMap>::namespaced(client.clone(), NAMESPACE)
        .get_opt(NAME)
        .await
}

/// Reads cluster-info from the apiserver's watch cache (`resourceVersion=0`): no etcd read,
/// so it answers in well under a millisecond even while the POST of a new token is writing to
/// etcd. For readers that only need its server address (the join endpoint), which changes
/// rarely and never because of the token being made; `setup` and `verify` judge cluster-info
/// itself and use [`read`].
pub async fn read_cached(client: &kube::Client) -> Result<Option<ConfigMap>, kube::Error> {
    match Api::<ConfigMap>::namespaced(client.clone(), NAMESPACE)
        .get_with(NAME, &kube::api::GetParams::any())
        .await
    {
        Ok(cm) => Ok(Some(cm)),
        Err(kube::Error::Api(s)) if s.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA1: &str = include_str!("../tests/fixtures/ca1.pem");

    #[test]
    fn render_matches_kubeadm_and_parses_back() {
        let der = crate::pki::pem_bundle_to_der(CA1.as_bytes()).unwrap();
        let text = render("https://10.0.0.1:6443", &der);
        // The layout kubeadm's cluster-info has (read from a kubeadm-made cluster).
        assert!(text.starts_with(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: LS0t"
        ));
        assert!(text.ends_with(
            "    server: https://10.0.0.1:6443\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\nusers: null\n"
        ));
        let p = parse(&text).unwrap();
        assert_eq!(p.server, "https://10.0.0.1:6443");
        assert_eq!(p.ca_der, der);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse("kind: Config\n").is_err());
        assert!(
            parse("clusters:\n- cluster:\n    server: x\n    certificate-authority-data: '!!'\n")
                .is_err()
        );
    }
}
