//! The in-cluster alternative to the systemd timer, for fleets: a CronJob in kube-system that
//! runs `schedule run` with its own ServiceAccount and least-privilege Roles: the rotation
//! Lease, plus what the run works on — bootstrap-token Secrets, or in service-account mode
//! `serviceaccounts/token` of exactly that account — and the Secret sink's one Secret (plus
//! `create` in its namespace, which RBAC cannot limit by name). A Role
//! lives in the namespace it grants; the ones outside kube-system are listed in an annotation
//! on the CronJob so that `uninstall` finds them again.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::incluster::rule;
use crate::token::NAMESPACE;

/// Name of every object of the default instance.
pub const NAME: &str = "kubectl-jointoken-rotate";

/// Name of every object of rotation `instance` (the default instance keeps [`NAME`]).
pub fn name(instance: &str) -> String {
    if instance == "default" {
        NAME.to_string()
    } else {
        format!("{NAME}-{instance}")
    }
}

/// The CronJob annotation listing the namespaces besides kube-system that hold a Role and
/// RoleBinding of this rotation (comma-separated).
pub const GRANT_NAMESPACES: &str = "jointoken.kubectl.io/grant-namespaces";

/// What the scheduled run touches besides its Lease, hence what its ServiceAccount may do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Service-account mode: the token of this account (namespace, name) instead of join
    /// tokens.
    pub service_account: Option<(String, String)>,
    /// The Secret sink's Secret (namespace, name).
    pub secret_sink: Option<(String, String)>,
}

/// The objects, in apply order.
pub struct Objects {
    /// Identity of the job.
    pub service_account: ServiceAccount,
    /// What it may do: one Role and its RoleBinding per namespace, kube-system first.
    pub roles: Vec<(Role, RoleBinding)>,
    /// The schedule.
    pub cron_job: CronJob,
}

fn meta(name: &str) -> ObjectMeta {
    meta_in(name, NAMESPACE)
}

fn meta_in(name: &str, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(namespace.into()),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/name".to_string(),
            "kubectl-jointoken".to_string(),
        )])),
        ..Default::default()
    }
}

/// The rules of each namespace, kube-system first (the Lease lives there).
fn rules(lease: &str, grants: &Grants) -> BTreeMap<String, Vec<PolicyRule>> {
    let mut by_ns: BTreeMap<String, Vec<PolicyRule>> = BTreeMap::new();
    let system = by_ns.entry(NAMESPACE.to_string()).or_default();
    system.push(rule(
        &["coordination.k8s.io"],
        &["leases"],
        &["create"],
        &[],
    ));
    system.push(rule(
        &["coordination.k8s.io"],
        &["leases"],
        &["get", "update"],
        &[lease],
    ));
    match &grants.service_account {
        // create cannot be limited by name; list/delete/patch are needed for reuse and prune.
        None => system.push(rule(
            &[""],
            &["secrets"],
            &["list", "create", "delete", "patch"],
            &[],
        )),
        Some((ns, account)) => by_ns.entry(ns.clone()).or_default().push(rule(
            &[""],
            &["serviceaccounts/token"],
            &["create"],
            &[account],
        )),
    }
    if let Some((ns, secret)) = &grants.secret_sink {
        // get reads it back, patch (server-side apply) writes it, delete restores it. A first
        // write by server-side apply is a create, which RBAC checks as `create` and cannot
        // limit by name (checked against the apiserver in tests/e2e_sa_publish.rs).
        let rules = by_ns.entry(ns.clone()).or_default();
        rules.push(rule(
            &[""],
            &["secrets"],
            &["get", "patch", "delete"],
            &[secret],
        ));
        if grants.service_account.is_some() || ns != NAMESPACE {
            rules.push(rule(&[""], &["secrets"], &["create"], &[]));
        }
    }
    by_ns
}

/// Builds the objects named `name` for `schedule` (a cron expression), `image`, the lease name
/// and the arguments after `kubectl-jointoken schedule run`.
pub fn objects(
    name: &str,
    schedule: &str,
    image: &str,
    lease: &str,
    run_flags: &[String],
    grants: &Grants,
) -> Objects {
    let mut args = vec!["schedule".to_string(), "run".to_string()];
    args.extend(run_flags.iter().cloned());
    let mut roles = Vec::new();
    for (ns, rules) in rules(lease, grants) {
        let role = Role {
            metadata: meta_in(name, &ns),
            rules: Some(rules),
        };
        let role_binding = RoleBinding {
            metadata: meta_in(name, &ns),
            role_ref: RoleRef {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: "Role".into(),
                name: name.into(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: name.into(),
                namespace: Some(NAMESPACE.into()),
                ..Default::default()
            }]),
        };
        if ns == NAMESPACE {
            roles.insert(0, (role, role_binding));
        } else {
            roles.push((role, role_binding));
        }
    }
    let elsewhere: Vec<String> = roles
        .iter()
        .filter_map(|(r, _)| r.metadata.namespace.clone())
        .filter(|ns| ns != NAMESPACE)
        .collect();
    let container = Container {
        name: "rotate".into(),
        image: Some(image.into()),
        command: Some(vec!["kubectl-jointoken".into()]),
        args: Some(args),
        security_context: Some(crate::incluster::hardened()),
        ..Default::default()
    };
    let mut cron_meta = meta(name);
    if !elsewhere.is_empty() {
        cron_meta.annotations = Some(BTreeMap::from([(
            GRANT_NAMESPACES.to_string(),
            elsewhere.join(","),
        )]));
    }
    let cron_job = CronJob {
        metadata: cron_meta,
        spec: CronJobSpec {
            schedule: schedule.into(),
            // The timer's cadence is UTC wall clock too.
            time_zone: Some("Etc/UTC".into()),
            // Never two rotations at once; the Lease guards against other rotators too.
            concurrency_policy: Some("Forbid".into()),
            starting_deadline_seconds: Some(600),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(2),
                    template: PodTemplateSpec {
                        metadata: None,
                        spec: Some(PodSpec {
                            service_account_name: Some(name.into()),
                            restart_policy: Some("Never".into()),
                            containers: vec![container],
                            ..Default::default()
                        }),
                    },
                    ..Default::default()
                }),
            },
            ..Default::default()
        },
        status: None,
    };
    Objects {
        service_account: ServiceAccount {
            metadata: meta(name),
            ..Default::default()
        },
        roles,
        cron_job,
    }
}

/// A cron expression for an interval that divides a day or an hour (UTC wall clock, matching
/// the systemd timer's cadence).
pub fn cron_expr(every: std::time::Duration) -> Result<String, String> {
    let cal = crate::systemd::on_calendar(every)?;
    let mins = every.as_secs() / 60;
    Ok(if cal == "*-*-* 00:00:00" {
        "0 0 * * *".into()
    } else if mins.is_multiple_of(60) {
        format!("0 */{} * * *", mins / 60)
    } else {
        format!("*/{mins} * * * *")
    })
}

/// Multi-document YAML of the objects, with kinds and apiVersions set.
pub fn to_yaml(o: &Objects) -> Result<String, String> {
    use k8s_openapi::Resource;
    fn doc<T: serde::Serialize + Resource>(v: &T) -> Result<String, String> {
        let mut j = serde_json::to_value(v).map_err(|e| e.to_string())?;
        j["apiVersion"] = T::API_VERSION.into();
        j["kind"] = T::KIND.into();
        serde_saphyr::to_string(&j).map_err(|e| e.to_string())
    }
    let mut docs = vec![doc(&o.service_account)?];
    for (role, binding) in &o.roles {
        docs.push(doc(role)?);
        docs.push(doc(binding)?);
    }
    docs.push(doc(&o.cron_job)?);
    Ok(docs.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn cron_matches_the_timer_cadence() {
        assert_eq!(
            cron_expr(Duration::from_secs(8 * 3600)).unwrap(),
            "0 */8 * * *"
        );
        assert_eq!(
            cron_expr(Duration::from_secs(24 * 3600)).unwrap(),
            "0 0 * * *"
        );
        assert_eq!(
            cron_expr(Duration::from_secs(15 * 60)).unwrap(),
            "*/15 * * * *"
        );
        assert!(cron_expr(Duration::from_secs(5 * 3600)).is_err());
    }

    #[test]
    fn least_privilege_and_forbid() {
        let o = objects(
            NAME,
            "0 */8 * * *",
            "img:1",
            "lease-x",
            &["--publish=vault".into()],
            &Grants::default(),
        );
        assert_eq!(o.roles.len(), 1);
        assert!(o.cron_job.metadata.annotations.is_none());
        let rules = o.roles[0].0.rules.clone().unwrap();
        assert!(rules.iter().all(|r| !r.verbs.contains(&"*".to_string())));
        assert!(
            rules
                .iter()
                .all(|r| !r.resources.as_ref().unwrap().contains(&"*".to_string()))
        );
        assert_eq!(
            rules[1].resource_names.as_deref(),
            Some(&["lease-x".to_string()][..])
        );
        let spec = o.cron_job.spec;
        assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
        let c = &spec
            .job_template
            .spec
            .unwrap()
            .template
            .spec
            .unwrap()
            .containers[0];
        assert_eq!(
            c.args.as_ref().unwrap(),
            &["schedule", "run", "--publish=vault"]
        );
    }

    /// Join-token mode with a Secret sink: the job may also read back (get) exactly that
    /// Secret, which the unscoped bootstrap-token rule does not allow (it once could not).
    #[test]
    fn a_secret_sink_in_join_mode_may_be_read_back() {
        let g = Grants {
            service_account: None,
            secret_sink: Some(("kube-system".into(), "join-record".into())),
        };
        let o = objects(NAME, "0 */8 * * *", "img:1", "lease-x", &[], &g);
        assert_eq!(o.roles.len(), 1);
        let rules = o.roles[0].0.rules.clone().unwrap();
        let sink = rules
            .iter()
            .find(|r| r.resource_names.as_deref() == Some(&["join-record".to_string()][..]))
            .expect("a rule for the sink's Secret");
        assert!(sink.verbs.contains(&"get".to_string()), "{sink:?}");
        // The bootstrap-token rule already allows create there: no second, broader one.
        let creates = rules
            .iter()
            .filter(|r| {
                r.verbs.contains(&"create".to_string())
                    && r.resources.as_deref() == Some(&["secrets".to_string()][..])
            })
            .count();
        assert_eq!(creates, 1);
    }

    /// Service-account mode: no bootstrap-token Secrets at all; the token of exactly that
    /// account and the sink's one Secret, each in its namespace, listed on the CronJob.
    #[test]
    fn service_account_mode_grants_only_that_account_and_that_secret() {
        let g = Grants {
            service_account: Some(("ci".into(), "scanner".into())),
            secret_sink: Some(("ci".into(), "scanner-kubeconfig".into())),
        };
        let o = objects(NAME, "0 */8 * * *", "img:1", "lease-x", &[], &g);
        assert_eq!(o.roles.len(), 2);
        let (system, _) = &o.roles[0];
        assert_eq!(system.metadata.namespace.as_deref(), Some("kube-system"));
        let sys_rules = serde_json::to_string(&system.rules).unwrap();
        assert!(!sys_rules.contains("secrets"), "{sys_rules}");
        let (ci, binding) = &o.roles[1];
        assert_eq!(ci.metadata.namespace.as_deref(), Some("ci"));
        let rules = ci.rules.clone().unwrap();
        assert_eq!(
            rules[0].resources.as_deref(),
            Some(&["serviceaccounts/token".to_string()][..])
        );
        assert_eq!(
            rules[0].resource_names.as_deref(),
            Some(&["scanner".to_string()][..])
        );
        assert_eq!(
            rules[1].resource_names.as_deref(),
            Some(&["scanner-kubeconfig".to_string()][..])
        );
        let subject = &binding.subjects.as_ref().unwrap()[0];
        assert_eq!(subject.namespace.as_deref(), Some("kube-system"));
        assert_eq!(
            o.cron_job.metadata.annotations.unwrap()[GRANT_NAMESPACES],
            "ci"
        );
    }
}
