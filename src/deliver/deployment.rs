//! The in-cluster form of `deliver --watch`: a Deployment in kube-system running the delivery
//! loop with its own ServiceAccount and least-privilege RBAC (bootstrap-token Secrets and the
//! delivery Lease in kube-system, read-only Nodes). Several replicas are safe: one holds the
//! Lease and delivers, the others wait. AWS credentials come from the pod's identity (IRSA or
//! EKS Pod Identity annotations on the ServiceAccount), never from this manifest.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, ServiceAccount};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::incluster::rule;
use crate::token::NAMESPACE;

/// Name of every object.
pub const NAME: &str = "kubectl-jointoken-deliver";

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/name".to_string(), NAME.to_string())])
}

fn meta(namespaced: bool) -> ObjectMeta {
    ObjectMeta {
        name: Some(NAME.into()),
        namespace: namespaced.then(|| NAMESPACE.into()),
        labels: Some(labels()),
        ..Default::default()
    }
}

/// The manifest objects, in apply order.
pub fn objects(image: &str, lease: &str, replicas: i32, args: &[String]) -> Vec<serde_json::Value> {
    let subject = || Subject {
        kind: "ServiceAccount".into(),
        name: NAME.into(),
        namespace: Some(NAMESPACE.into()),
        ..Default::default()
    };
    let role = Role {
        metadata: meta(true),
        rules: Some(vec![
            // create cannot be limited by name; list/delete find and remove our own tokens.
            rule(&[""], &["secrets"], &["list", "create", "delete"], &[]),
            rule(&["coordination.k8s.io"], &["leases"], &["create"], &[]),
            rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["get", "update"],
                &[lease],
            ),
        ]),
    };
    let role_binding = RoleBinding {
        metadata: meta(true),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: NAME.into(),
        },
        subjects: Some(vec![subject()]),
    };
    // Nodes tell which instances have joined already.
    let cluster_role = ClusterRole {
        metadata: meta(false),
        rules: Some(vec![rule(&[""], &["nodes"], &["list"], &[])]),
        ..Default::default()
    };
    let cluster_role_binding = ClusterRoleBinding {
        metadata: meta(false),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "ClusterRole".into(),
            name: NAME.into(),
        },
        subjects: Some(vec![subject()]),
    };
    let mut full_args = vec!["deliver".to_string(), "aws".to_string()];
    full_args.extend(args.iter().cloned());
    let container = Container {
        name: "deliver".into(),
        image: Some(image.into()),
        command: Some(vec!["kubectl-jointoken".into()]),
        args: Some(full_args),
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
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        status: None,
    };
    vec![
        with_kind(&ServiceAccount {
            metadata: meta(true),
            ..Default::default()
        }),
        with_kind(&role),
        with_kind(&role_binding),
        with_kind(&cluster_role),
        with_kind(&cluster_role_binding),
        with_kind(&deployment),
    ]
}

fn with_kind<T: serde::Serialize + k8s_openapi::Resource>(v: &T) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    j["apiVersion"] = T::API_VERSION.into();
    j["kind"] = T::KIND.into();
    j
}

/// Multi-document YAML of the objects.
pub fn to_yaml(objects: &[serde_json::Value]) -> Result<String, String> {
    objects
        .iter()
        .map(|o| serde_saphyr::to_string(o).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map(|docs| docs.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_privilege_and_the_watch_loop() {
        let o = objects(
            "img:1",
            "lease-x",
            2,
            &["--watch".into(), "--asg=web".into()],
        );
        let kinds: Vec<&str> = o.iter().map(|v| v["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "ClusterRole",
                "ClusterRoleBinding",
                "Deployment"
            ]
        );
        for r in o
            .iter()
            .filter(|v| v["kind"].as_str().unwrap().ends_with("Role"))
        {
            for rule in r["rules"].as_array().unwrap() {
                assert!(!rule["verbs"].as_array().unwrap().contains(&"*".into()));
                assert!(
                    !rule["verbs"].as_array().unwrap().contains(&"get".into())
                        || rule["resourceNames"].is_array()
                );
            }
        }
        let d = &o[5];
        assert_eq!(d["spec"]["replicas"], 2);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            c["args"],
            serde_json::json!(["deliver", "aws", "--watch", "--asg=web"])
        );
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        let y = to_yaml(&o).unwrap();
        assert_eq!(y.matches("---\n").count(), 5);
    }
}
