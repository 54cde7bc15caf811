//! Pieces every in-cluster object set shares (the rotation CronJob, the approver and the
//! deliverer Deployments): RBAC rules and the hardened container security context, so the
//! three renderers cannot drift apart on what "least privilege" means.

use k8s_openapi::api::core::v1::{Capabilities, SecurityContext};
use k8s_openapi::api::rbac::v1::PolicyRule;

/// One RBAC rule; `names` empty = any name.
pub fn rule(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]) -> PolicyRule {
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(v(groups)),
        resources: Some(v(resources)),
        verbs: v(verbs),
        resource_names: (!names.is_empty()).then(|| v(names)),
        ..Default::default()
    }
}

/// Non-root, read-only root filesystem, no privilege escalation, every capability dropped.
pub fn hardened() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}
