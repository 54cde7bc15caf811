//! Token discovery on a node that holds only a token, an endpoint and CA pins (a compact
//! record from an instance tag): the cluster CA is read from `kube-public/cluster-info`
//! anonymously and trusted only where it matches a pin, then read again over TLS verified with
//! that CA, and both reads must agree — `kubeadm join`'s discovery, without the wait for the
//! JWS signature (the pins already authenticate the CA). The token is never sent here.

use crate::publish::JoinRecord;
use crate::verify::{pinned, probe};
use crate::{Error, Result, cluster_info};

/// The pinned CA certificates (DER) of the cluster `rec` names.
pub async fn pinned_ca(rec: &JoinRecord) -> Result<Vec<Vec<u8>>> {
    let ep = &rec.api_server_endpoint;
    let fail = |why: String| Error::runtime(format!("cannot discover the cluster at {ep}: {why}"));
    let insecure = probe::client(ep, None, None).map_err(&fail)?;
    let first = read(&insecure).await.map_err(&fail)?;
    let parsed = cluster_info::parse(&first).map_err(|e| fail(format!("cluster-info: {e}")))?;
    let roots: Vec<Vec<u8>> = pinned(&parsed.ca_der, &rec.ca_cert_hashes)
        .into_iter()
        .map(|(der, _)| der)
        .collect();
    if roots.is_empty() {
        return Err(fail(
            "no CA certificate in kube-public/cluster-info matches the pins: the record is for \
             another cluster, or the cluster's CA changed (deliver a fresh record)"
                .into(),
        ));
    }
    // Now over TLS verified with the pinned CA: a server that cannot prove it holds the
    // cluster's key gets nothing further, and the two reads must say the same.
    let verified = probe::client(ep, Some(&roots), None).map_err(&fail)?;
    let second = read(&verified).await.map_err(&fail)?;
    if second != first {
        return Err(fail(
            "cluster-info changed between the anonymous and the verified read: try again".into(),
        ));
    }
    Ok(roots)
}

async fn read(client: &kube::Client) -> std::result::Result<String, String> {
    match probe::fetch_cluster_info(client).await {
        crate::verify::Fetched::Data(d) => d
            .get(cluster_info::KEY)
            .cloned()
            .ok_or_else(|| "kube-public/cluster-info has no kubeconfig key".into()),
        crate::verify::Fetched::Missing => Err(
            "kube-public/cluster-info does not exist: run `kubectl jointoken setup` on the \
             control plane"
                .into(),
        ),
        crate::verify::Fetched::Denied(code) => Err(format!(
            "anonymous users may not read kube-public/cluster-info ({code}): run `kubectl \
             jointoken setup` on the control plane"
        )),
        crate::verify::Fetched::Failed(e) => Err(e),
    }
}
