//! The cluster objects that make bootstrap tokens usable, with kubeadm's exact names and
//! contents (`kubeadm init phase bootstrap-token`): the bootstrapper bindings, CSR
//! auto-approval, get-nodes, and the anonymously readable `kube-public/cluster-info`.
//!
//! Pure: builds the desired objects and decides, against a live object, whether it is
//! unchanged, must be created, or must be updated. Talking to the apiserver is `setup`'s job.

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ApiResource;
use serde_json::Value;

use crate::cluster_info;
use crate::token::DEFAULT_GROUP;

/// ClusterRoleBinding: bootstrappers may create CSRs (`system:node-bootstrapper`).
pub const KUBELET_BOOTSTRAP: &str = "kubeadm:kubelet-bootstrap";
/// ClusterRoleBinding: bootstrappers' node-client CSRs are auto-approved.
pub const NODE_AUTOAPPROVE_BOOTSTRAP: &str = "kubeadm:node-autoapprove-bootstrap";
/// ClusterRoleBinding: nodes' renewals of their client certificates are auto-approved.
pub const NODE_AUTOAPPROVE_ROTATION: &str = "kubeadm:node-autoapprove-certificate-rotation";
/// ClusterRole and ClusterRoleBinding: bootstrappers may get nodes (`kubeadm join` checks for
/// a node of the same name).
pub const GET_NODES: &str = "kubeadm:get-nodes";
/// Role and RoleBinding in kube-public: anonymous users may get cluster-info.
pub const CLUSTER_INFO_READER: &str = "kubeadm:bootstrap-signer-clusterinfo";
/// The ClusterRole of CSR creation.
pub const NODE_BOOTSTRAPPER_ROLE: &str = "system:node-bootstrapper";
/// The ClusterRole the csrapproving controller checks for bootstrap CSRs.
pub const NODECLIENT_ROLE: &str =
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient";
/// The ClusterRole the csrapproving controller checks for renewals.
pub const SELFNODECLIENT_ROLE: &str =
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient";
/// The group every node's credentials carry.
pub const NODES_GROUP: &str = "system:nodes";
/// Who reads cluster-info.
pub const ANONYMOUS: &str = "system:anonymous";

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// What `setup` is asked to make.
#[derive(Clone, Debug)]
pub struct Options {
    /// Bootstrapper groups besides kubeadm's default-node-token group.
    pub groups: Vec<String>,
    /// Whether bootstrappers' client CSRs are auto-approved (the nodeclient binding).
    pub auto_approve: bool,
    /// The server cluster-info names (`https://host:port`).
    pub server: String,
    /// The CA certificates cluster-info carries (DER).
    pub ca_der: Vec<Vec<u8>>,
}

/// One desired object.
#[derive(Clone, Debug)]
pub struct Desired {
    /// Its API type.
    pub resource: ApiResource,
    /// Its name.
    pub name: String,
    /// Its namespace (namespaced kinds).
    pub namespace: Option<String>,
    /// The full object (apiVersion, kind, metadata, content).
    pub body: Value,
}

impl Desired {
    fn new<K>(k: &K) -> Self
    where
        K: kube::Resource<DynamicType = ()> + serde::Serialize,
    {
        Desired {
            resource: ApiResource::erase::<K>(&()),
            name: k.meta().name.clone().unwrap_or_default(),
            namespace: k.meta().namespace.clone(),
            body: serde_json::to_value(k).expect("k8s objects serialize"),
        }
    }

    /// `kind` as kubectl prints it in `-o name` (`clusterrolebinding.rbac.authorization.k8s.io`).
    pub fn kind_name(&self) -> String {
        let kind = self.resource.kind.to_lowercase();
        if self.resource.group.is_empty() {
            kind
        } else {
            format!("{kind}.{}", self.resource.group)
        }
    }
}

/// The bootstrapper groups: kubeadm's default group first, then the others once each.
pub fn bootstrapper_groups(extra: &[String]) -> Vec<String> {
    let mut out = vec![DEFAULT_GROUP.to_string()];
    for g in extra {
        if !g.is_empty() && !out.contains(g) {
            out.push(g.clone());
        }
    }
    out
}

/// Every object, in the order they are applied (roles before their bindings).
pub fn objects(o: &Options) -> Vec<Desired> {
    let groups = bootstrapper_groups(&o.groups);
    let mut out = vec![
        Desired::new(&cluster_binding(
            KUBELET_BOOTSTRAP,
            NODE_BOOTSTRAPPER_ROLE,
            &groups,
        )),
        Desired::new(&get_nodes_role()),
        Desired::new(&cluster_binding(GET_NODES, GET_NODES, &groups)),
    ];
    if o.auto_approve {
        out.push(Desired::new(&cluster_binding(
            NODE_AUTOAPPROVE_BOOTSTRAP,
            NODECLIENT_ROLE,
            &groups,
        )));
    }
    out.push(Desired::new(&cluster_binding(
        NODE_AUTOAPPROVE_ROTATION,
        SELFNODECLIENT_ROLE,
        &[NODES_GROUP.to_string()],
    )));
    out.push(Desired::new(&cluster_info_role()));
    out.push(Desired::new(&cluster_info_binding()));
    out.push(Desired::new(&cluster_info_map(&o.server, &o.ca_der)));
    out
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(String::from),
        ..Default::default()
    }
}

fn subject(kind: &str, name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.into()),
        kind: kind.into(),
        name: name.into(),
        namespace: None,
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: Some(RBAC_GROUP.into()),
        kind: kind.into(),
        name: name.into(),
    }
}

fn cluster_binding(name: &str, role: &str, groups: &[String]) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(name, None),
        role_ref: role_ref("ClusterRole", role),
        subjects: Some(groups.iter().map(|g| subject("Group", g)).collect()),
    }
}

fn get_nodes_role() -> ClusterRole {
    ClusterRole {
        metadata: meta(GET_NODES, None),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["nodes".into()]),
            verbs: vec!["get".into()],
            ..Default::default()
        }]),
        ..Default::default()
    }
}

fn cluster_info_role() -> Role {
    Role {
        metadata: meta(CLUSTER_INFO_READER, Some(cluster_info::NAMESPACE)),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["configmaps".into()]),
            resource_names: Some(vec![cluster_info::NAME.into()]),
            verbs: vec!["get".into()],
            ..Default::default()
        }]),
    }
}

fn cluster_info_binding() -> RoleBinding {
    RoleBinding {
        metadata: meta(CLUSTER_INFO_READER, Some(cluster_info::NAMESPACE)),
        role_ref: role_ref("Role", CLUSTER_INFO_READER),
        subjects: Some(vec![subject("User", ANONYMOUS)]),
    }
}

fn cluster_info_map(server: &str, ca_der: &[Vec<u8>]) -> ConfigMap {
    ConfigMap {
        metadata: meta(cluster_info::NAME, Some(cluster_info::NAMESPACE)),
        data: Some(
            [(
                cluster_info::KEY.to_string(),
                cluster_info::render(server, ca_der),
            )]
            .into(),
        ),
        ..Default::default()
    }
}

/// What to do about one object.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// The live object already has this content: nothing is sent.
    Unchanged(String),
    /// Absent: apply this body.
    Create(Value),
    /// Present with other content: apply this body; the string says what differs.
    Update(Value, String),
}

/// Compares `live` (as read, JSON) with the desired object. Content only: who manages the
/// fields does not matter, so kubeadm's own objects are "unchanged". Bindings keep subjects
/// someone else added (the applied list is the union), and cluster-info is never rewritten
/// once it exists (the bootstrap signer adds its signatures to it; a changed endpoint or CA
/// there is a decision for the admin, not for setup).
pub fn plan(d: &Desired, live: Option<&Value>) -> Plan {
    let Some(live) = live else {
        return Plan::Create(d.body.clone());
    };
    match d.resource.kind.as_str() {
        "ConfigMap" => {
            let theirs = live["data"][cluster_info::KEY]
                .as_str()
                .and_then(|k| cluster_info::parse(k).ok());
            let ours = d.body["data"][cluster_info::KEY]
                .as_str()
                .and_then(|k| cluster_info::parse(k).ok());
            let note = match (theirs, ours) {
                (Some(t), Some(o)) if t.server != o.server => format!(
                    "exists with server {} (left as is; setup never rewrites cluster-info)",
                    t.server
                ),
                (Some(t), Some(o)) if t.ca_der != o.ca_der => {
                    "exists with another CA bundle (left as is; setup never rewrites cluster-info)"
                        .into()
                }
                (None, _) => "exists without a readable kubeconfig (left as is)".into(),
                _ => "exists".into(),
            };
            Plan::Unchanged(note)
        }
        "ClusterRole" | "Role" => {
            if same_rules(&live["rules"], &d.body["rules"]) {
                Plan::Unchanged("same rules".into())
            } else {
                Plan::Update(d.body.clone(), "rules differ".into())
            }
        }
        _ => plan_binding(d, live),
    }
}

fn plan_binding(d: &Desired, live: &Value) -> Plan {
    let live_ref: Option<RoleRef> = serde_json::from_value(live["roleRef"].clone()).ok();
    let want_ref: RoleRef = serde_json::from_value(d.body["roleRef"].clone()).expect("built by us");
    let live_subjects: Vec<Subject> =
        serde_json::from_value(live["subjects"].clone()).unwrap_or_default();
    let want: Vec<Subject> =
        serde_json::from_value(d.body["subjects"].clone()).expect("built by us");
    let missing: Vec<&Subject> = want
        .iter()
        .filter(|w| !live_subjects.iter().any(|l| same_subject(l, w)))
        .collect();
    let ref_ok = live_ref.as_ref().is_some_and(|r| same_ref(r, &want_ref));
    if ref_ok && missing.is_empty() {
        return Plan::Unchanged("same roleRef and subjects".into());
    }
    let mut why = Vec::new();
    if !ref_ok {
        why.push(format!(
            "roleRef is {} {}, not {} {}",
            live_ref.as_ref().map_or("?", |r| r.kind.as_str()),
            live_ref.as_ref().map_or("?", |r| r.name.as_str()),
            want_ref.kind,
            want_ref.name
        ));
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|s| format!("{} {}", s.kind, s.name))
            .collect();
        why.push(format!("adds {}", names.join(", ")));
    }
    let mut body = d.body.clone();
    let mut union = live_subjects;
    union.extend(missing.into_iter().cloned());
    body["subjects"] = serde_json::to_value(union).expect("subjects serialize");
    Plan::Update(body, why.join("; "))
}

fn same_ref(a: &RoleRef, b: &RoleRef) -> bool {
    a.kind == b.kind && a.name == b.name && a.api_group == b.api_group
}

/// Subjects are equal when kind, name and namespace match; the apiGroup of users and groups
/// defaults to the RBAC group, as the apiserver defaults it.
fn same_subject(a: &Subject, b: &Subject) -> bool {
    let group = |s: &Subject| match s.api_group.as_deref() {
        None | Some("") if s.kind != "ServiceAccount" => RBAC_GROUP.to_string(),
        g => g.unwrap_or("").to_string(),
    };
    a.kind == b.kind && a.name == b.name && a.namespace == b.namespace && group(a) == group(b)
}

/// Rules are equal as sets (order does not change what they allow).
fn same_rules(a: &Value, b: &Value) -> bool {
    let norm = |v: &Value| {
        let rules: Vec<PolicyRule> = serde_json::from_value(v.clone()).unwrap_or_default();
        let mut s: Vec<String> = rules
            .iter()
            .map(|r| serde_json::to_string(r).expect("rules serialize"))
            .collect();
        s.sort();
        s
    };
    norm(a) == norm(b)
}

/// Field managers of `live` other than `ours` (who an apply would conflict with).
pub fn other_managers(live: &Value, ours: &str) -> Vec<String> {
    let mut out: Vec<String> = live["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["manager"].as_str())
        .filter(|m| *m != ours)
        .map(String::from)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(groups: &[&str], auto_approve: bool) -> Options {
        Options {
            groups: groups.iter().map(|s| s.to_string()).collect(),
            auto_approve,
            server: "https://10.0.0.1:6443".into(),
            ca_der: crate::pki::pem_bundle_to_der(
                include_str!("../tests/fixtures/ca1.pem").as_bytes(),
            )
            .unwrap(),
        }
    }

    fn find<'a>(objs: &'a [Desired], name: &str, kind: &str) -> &'a Desired {
        objs.iter()
            .find(|d| d.name == name && d.resource.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    #[test]
    fn kubeadm_names_and_contents() {
        let objs = objects(&opts(&[], true));
        let b = &find(&objs, KUBELET_BOOTSTRAP, "ClusterRoleBinding").body;
        assert_eq!(b["apiVersion"], "rbac.authorization.k8s.io/v1");
        assert_eq!(b["roleRef"]["name"], "system:node-bootstrapper");
        assert_eq!(
            b["subjects"],
            serde_json::json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                "name": "system:bootstrappers:kubeadm:default-node-token"}])
        );
        let r = &find(&objs, NODE_AUTOAPPROVE_ROTATION, "ClusterRoleBinding").body;
        assert_eq!(r["subjects"][0]["name"], "system:nodes");
        assert_eq!(r["roleRef"]["name"], SELFNODECLIENT_ROLE);
        let role = &find(&objs, CLUSTER_INFO_READER, "Role").body;
        assert_eq!(role["metadata"]["namespace"], "kube-public");
        assert_eq!(
            role["rules"],
            serde_json::json!([{"apiGroups": [""], "resources": ["configmaps"],
                "resourceNames": ["cluster-info"], "verbs": ["get"]}])
        );
        let rb = &find(&objs, CLUSTER_INFO_READER, "RoleBinding").body;
        assert_eq!(rb["subjects"][0]["kind"], "User");
        assert_eq!(rb["subjects"][0]["name"], "system:anonymous");
        let cm = find(&objs, "cluster-info", "ConfigMap");
        assert_eq!(cm.namespace.as_deref(), Some("kube-public"));
        assert!(
            cm.body["data"]["kubeconfig"]
                .as_str()
                .unwrap()
                .contains("server: https://10.0.0.1:6443\n")
        );
    }

    #[test]
    fn groups_and_no_auto_approve() {
        let objs = objects(&opts(&["system:bootstrappers:ci"], false));
        assert!(!objs.iter().any(|d| d.name == NODE_AUTOAPPROVE_BOOTSTRAP));
        let b = &find(&objs, KUBELET_BOOTSTRAP, "ClusterRoleBinding").body;
        assert_eq!(b["subjects"].as_array().unwrap().len(), 2);
        assert_eq!(b["subjects"][1]["name"], "system:bootstrappers:ci");
    }

    #[test]
    fn kubeadm_made_objects_are_unchanged_whoever_manages_them() {
        let objs = objects(&opts(&[], true));
        for d in &objs {
            let mut live = d.body.clone();
            live["metadata"]["managedFields"] =
                serde_json::json!([{"manager": "kubeadm", "operation": "Update"}]);
            live["metadata"]["uid"] = "u".into();
            // The apiserver may return subjects without apiGroup defaults spelled out.
            assert!(
                matches!(plan(d, Some(&live)), Plan::Unchanged(_)),
                "{}",
                d.name
            );
            assert_eq!(other_managers(&live, "kubectl-jointoken"), vec!["kubeadm"]);
        }
    }

    #[test]
    fn missing_subjects_are_added_to_the_live_ones() {
        let objs = objects(&opts(&["system:bootstrappers:ci"], true));
        let d = find(&objs, KUBELET_BOOTSTRAP, "ClusterRoleBinding");
        let mut live = d.body.clone();
        live["subjects"] = serde_json::json!([
            {"kind": "Group", "name": DEFAULT_GROUP},
            {"kind": "Group", "name": "someone-elses", "apiGroup": RBAC_GROUP}
        ]);
        match plan(d, Some(&live)) {
            Plan::Update(body, why) => {
                assert_eq!(why, "adds Group system:bootstrappers:ci");
                let names: Vec<&str> = body["subjects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["name"].as_str().unwrap())
                    .collect();
                assert_eq!(
                    names,
                    [DEFAULT_GROUP, "someone-elses", "system:bootstrappers:ci"]
                );
            }
            p => panic!("{p:?}"),
        }
        assert!(matches!(plan(d, None), Plan::Create(_)));
    }

    #[test]
    fn other_rules_or_role_refs_are_updates_and_cluster_info_is_never_rewritten() {
        let objs = objects(&opts(&[], true));
        let role = find(&objs, CLUSTER_INFO_READER, "Role");
        let mut live = role.body.clone();
        live["rules"][0]["verbs"] = serde_json::json!(["get", "list"]);
        assert!(matches!(plan(role, Some(&live)), Plan::Update(..)));
        let b = find(&objs, GET_NODES, "ClusterRoleBinding");
        let mut live = b.body.clone();
        live["roleRef"]["name"] = "other".into();
        match plan(b, Some(&live)) {
            Plan::Update(_, why) => assert!(why.contains("roleRef is ClusterRole other"), "{why}"),
            p => panic!("{p:?}"),
        }
        let cm = find(&objs, "cluster-info", "ConfigMap");
        let mut live = cm.body.clone();
        live["data"]["kubeconfig"] =
            cluster_info::render("https://elsewhere:6443", &opts(&[], true).ca_der).into();
        match plan(cm, Some(&live)) {
            Plan::Unchanged(n) => assert!(n.contains("https://elsewhere:6443"), "{n}"),
            p => panic!("{p:?}"),
        }
    }
}
