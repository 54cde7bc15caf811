//! The in-cluster approver, as objects: a Deployment running `approve --watch` (two replicas,
//! leader-elected), its ServiceAccount, and least-privilege RBAC: reading CSRs and Nodes
//! cluster-wide, updating `certificatesigningrequests/approval`, `approve` on exactly the two
//! kubelet signers (never `kubernetes.io/kube-apiserver-client`, which would mint admin
//! certificates), and in kube-system only the Lease and reading Secrets (bootstrap tokens;
//! RBAC cannot narrow `get` to a name prefix).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, ObjectFieldSelector, PodSecurityContext, PodSpec,
    PodTemplateSpec, SeccompProfile, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::approval::{CLIENT_SIGNER, SERVING_SIGNER};
use crate::incluster::rule;
use crate::token::NAMESPACE;

/// Name of every object.
pub const NAME: &str = "kubectl-jointoken-approve";

/// The objects, in apply order.
pub struct Objects {
    /// Identity of the controller.
    pub service_account: ServiceAccount,
    /// Cluster-wide permissions (CSRs, signers, Nodes).
    pub cluster_role: ClusterRole,
    /// Grants them.
    pub cluster_role_binding: ClusterRoleBinding,
    /// kube-system permissions (Lease, bootstrap-token Secrets).
    pub role: Role,
    /// Grants them.
    pub role_binding: RoleBinding,
    /// The controller.
    pub deployment: Deployment,
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/name".to_string(),
            "kubectl-jointoken".to_string(),
        ),
        (
            "app.kubernetes.io/component".to_string(),
            "approve".to_string(),
        ),
    ])
}

fn meta(namespaced: bool) -> ObjectMeta {
    ObjectMeta {
        name: Some(NAME.into()),
        namespace: namespaced.then(|| NAMESPACE.into()),
        labels: Some(labels()),
        ..Default::default()
    }
}

fn subject() -> Vec<Subject> {
    vec![Subject {
        kind: "ServiceAccount".into(),
        name: NAME.into(),
        namespace: Some(NAMESPACE.into()),
        ..Default::default()
    }]
}

/// Builds the objects for `image`, `replicas`, the lease name and the flags after
/// `kubectl-jointoken approve --watch`.
pub fn objects(image: &str, replicas: i32, lease: &str, flags: &[String]) -> Objects {
    let cluster_role = ClusterRole {
        metadata: meta(false),
        rules: Some(vec![
            rule(
                &["certificates.k8s.io"],
                &["certificatesigningrequests"],
                &["get", "list", "watch"],
                &[],
            ),
            rule(
                &["certificates.k8s.io"],
                &["certificatesigningrequests/approval"],
                &["update"],
                &[],
            ),
            // The apiserver checks `approve` on the signer for every approval: only these two.
            rule(
                &["certificates.k8s.io"],
                &["signers"],
                &["approve"],
                &[SERVING_SIGNER, CLIENT_SIGNER],
            ),
            rule(&[""], &["nodes"], &["get", "list", "watch"], &[]),
        ]),
        ..Default::default()
    };
    let role = Role {
        metadata: meta(true),
        rules: Some(vec![
            // create cannot be limited by name; the rest can.
            rule(&["coordination.k8s.io"], &["leases"], &["create"], &[]),
            rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["get", "update"],
                &[lease],
            ),
            rule(&[""], &["secrets"], &["get"], &[]),
        ]),
    };
    let role_ref = |kind: &str| RoleRef {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: kind.into(),
        name: NAME.into(),
    };
    let mut args = vec!["approve".to_string(), "--watch".to_string()];
    args.push(format!("--lease-name={lease}"));
    // Kubernetes expands $(POD_NAME) from the env below: each replica has its own identity.
    args.push("--identity=$(POD_NAME)".into());
    args.extend(flags.iter().cloned());
    let container = Container {
        name: "approve".into(),
        image: Some(image.into()),
        command: Some(vec!["kubectl-jointoken".into()]),
        args: Some(args),
        env: Some(vec![EnvVar {
            name: "POD_NAME".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.name".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        security_context: Some(crate::incluster::hardened()),
        ..Default::default()
    };
    let deployment = Deployment {
        metadata: meta(true),
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels()),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(NAME.into()),
                    containers: vec![container],
                    // Serving CSRs wait for it; run where nodes cannot yet be.
                    priority_class_name: Some("system-cluster-critical".into()),
                    // The controller stops between two decisions and releases the Lease.
                    termination_grace_period_seconds: Some(30),
                    security_context: Some(PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(65532),
                        seccomp_profile: Some(SeccompProfile {
                            type_: "RuntimeDefault".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    };
    Objects {
        service_account: ServiceAccount {
            metadata: meta(true),
            ..Default::default()
        },
        cluster_role,
        cluster_role_binding: ClusterRoleBinding {
            metadata: meta(false),
            role_ref: role_ref("ClusterRole"),
            subjects: Some(subject()),
        },
        role,
        role_binding: RoleBinding {
            metadata: meta(true),
            role_ref: role_ref("Role"),
            subjects: Some(subject()),
        },
        deployment,
    }
}

/// `v` as a JSON object with its apiVersion and kind (what YAML and server-side apply need).
pub fn with_kind<T: serde::Serialize + k8s_openapi::Resource>(v: &T) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    j["apiVersion"] = T::API_VERSION.into();
    j["kind"] = T::KIND.into();
    j
}

/// Multi-document YAML of the objects.
pub fn to_yaml(o: &Objects) -> Result<String, String> {
    let docs = [
        with_kind(&o.service_account),
        with_kind(&o.cluster_role),
        with_kind(&o.cluster_role_binding),
        with_kind(&o.role),
        with_kind(&o.role_binding),
        with_kind(&o.deployment),
    ];
    let mut out = Vec::new();
    for d in &docs {
        out.push(crate::output::to_yaml(d).map_err(|e| e.to_string())?);
    }
    Ok(out.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_privilege() {
        let o = objects("img:1", 2, "lease-x", &["--deny".into()]);
        let rules = o.cluster_role.rules.unwrap();
        for r in &rules {
            assert!(!r.verbs.contains(&"*".to_string()));
            assert!(!r.resources.as_ref().unwrap().contains(&"*".to_string()));
            assert!(!r.verbs.iter().any(|v| v == "delete" || v == "create"));
        }
        let signers = rules
            .iter()
            .find(|r| r.resources.as_deref() == Some(&["signers".to_string()][..]))
            .unwrap();
        assert_eq!(
            signers.resource_names.as_deref().unwrap(),
            [SERVING_SIGNER, CLIENT_SIGNER]
        );
        let role = o.role.rules.unwrap();
        assert_eq!(role[1].resource_names.as_deref().unwrap(), ["lease-x"]);
        assert_eq!(role[2].verbs, ["get"]);
        let spec = o.deployment.spec.unwrap();
        assert_eq!(spec.replicas, Some(2));
        let c = &spec.template.spec.unwrap().containers[0];
        let args = c.args.as_ref().unwrap();
        assert_eq!(&args[..2], ["approve", "--watch"]);
        assert!(args.contains(&"--lease-name=lease-x".to_string()));
        assert!(args.contains(&"--deny".to_string()));
    }

    #[test]
    fn yaml_has_six_documents_with_kinds() {
        let y = to_yaml(&objects("img:1", 2, "l", &[])).unwrap();
        assert_eq!(
            y.matches("\nkind: ").count() + usize::from(y.starts_with("kind: ")),
            6,
            "{y}"
        );
        for k in [
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment",
        ] {
            assert!(y.contains(&format!("kind: {k}\n")), "{k}");
        }
    }
}
