//! `approve render` and `approve install --in-cluster`: the objects of [`crate::approver`],
//! printed as YAML or server-side applied (field manager `kubectl-jointoken`, forced, so a
//! re-install converges).

use kube::api::{Api, Patch, PatchParams};

use crate::approver;
use crate::cli::GlobalArgs;
use crate::{Error, Result, cluster};

use super::InstallArgs;

fn objects(i: &InstallArgs, installing: bool) -> Result<approver::Objects> {
    // `render` only prints; `install` must be told where, as there may be other targets later.
    if installing && !i.in_cluster {
        return Err(Error::usage(
            "the approver is installed in the cluster only: pass --in-cluster",
        ));
    }
    if i.image.trim().is_empty() {
        return Err(Error::usage(
            "--image is empty: name an image with kubectl-jointoken on its PATH",
        ));
    }
    // Validate the policy now, not in a crash-looping pod.
    i.policy.policy()?;
    if i.controller.identity.is_some() {
        return Err(Error::usage(
            "--identity is set per pod ($(POD_NAME)): drop it from install",
        ));
    }
    let mut flags = i.policy.to_flags();
    flags.push(format!("--lease-seconds={}", i.controller.lease_seconds));
    flags.push(format!(
        "--resync={}",
        crate::duration::format_go(i.controller.resync)
    ));
    Ok(approver::objects(
        &i.image,
        i.replicas,
        &i.controller.lease_name,
        &flags,
    ))
}

/// The YAML `install` applies.
pub fn render(i: &InstallArgs) -> Result<String> {
    approver::to_yaml(&objects(i, false)?)
        .map_err(|e| Error::runtime(format!("cannot render YAML: {e}")))
}

/// Applies the objects.
pub async fn install(g: &GlobalArgs, i: &InstallArgs) -> Result<String> {
    let o = objects(i, true)?;
    let c = cluster::connect(g).await?;
    let ns = crate::token::NAMESPACE;
    let client = c.client.clone();
    apply(&c, Api::namespaced(client.clone(), ns), &o.service_account).await?;
    apply(&c, Api::all(client.clone()), &o.cluster_role).await?;
    apply(&c, Api::all(client.clone()), &o.cluster_role_binding).await?;
    apply(&c, Api::namespaced(client.clone(), ns), &o.role).await?;
    apply(&c, Api::namespaced(client.clone(), ns), &o.role_binding).await?;
    apply(&c, Api::namespaced(client, ns), &o.deployment).await?;
    crate::reporter::note(format!(
        "applied the approver: deployment kube-system/{} ({} replicas) and its RBAC",
        approver::NAME,
        i.replicas
    ));
    Ok(String::new())
}

async fn apply<K>(c: &cluster::Cluster, api: Api<K>, obj: &K) -> Result<()>
where
    K: kube::Resource<DynamicType = ()>
        + k8s_openapi::Resource
        + Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    api.patch(
        approver::NAME,
        &PatchParams::apply(crate::store::FIELD_MANAGER).force(),
        &Patch::Apply(&approver::with_kind(obj)),
    )
    .await
    .map(drop)
    .map_err(|e| {
        cluster::kube_error(
            format!(
                "cannot apply {} {}",
                <K as k8s_openapi::Resource>::KIND,
                approver::NAME
            ),
            e,
            &c.target,
        )
    })
}
