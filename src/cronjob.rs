//! The in-cluster alternative to the systemd timer, for fleets: a CronJob in kube-system that
//! runs `schedule run` with its own ServiceAccount and a least-privilege Role (bootstrap-token
//! Secrets and the rotation Lease, nothing else).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding, RoleRef, Subject};
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

/// The objects, in apply order.
pub struct Objects {
    /// Identity of the job.
    pub service_account: ServiceAccount,
    /// What it may do.
    pub role: Role,
    /// Grants the role.
    pub role_binding: RoleBinding,
    /// The schedule.
    pub cron_job: CronJob,
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(NAMESPACE.into()),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/name".to_string(),
            "kubectl-jointoken".to_string(),
        )])),
        ..Default::default()
    }
}

/// Builds the objects named `name` for `schedule` (a cron expression), `image`, the lease name
/// and the arguments after `kubectl-jointoken schedule run`.
pub fn objects(
    name: &str,
    schedule: &str,
    image: &str,
    lease: &str,
    run_flags: &[String],
) -> Objects {
    let mut args = vec!["schedule".to_string(), "run".to_string()];
    args.extend(run_flags.iter().cloned());
    let role = Role {
        metadata: meta(name),
        rules: Some(vec![
            // create cannot be limited by name; list/delete/patch are needed for reuse and prune.
            rule(
                &[""],
                &["secrets"],
                &["list", "create", "delete", "patch"],
                &[],
            ),
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
        metadata: meta(name),
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
    let container = Container {
        name: "rotate".into(),
        image: Some(image.into()),
        command: Some(vec!["kubectl-jointoken".into()]),
        args: Some(args),
        security_context: Some(crate::incluster::hardened()),
        ..Default::default()
    };
    let cron_job = CronJob {
        metadata: meta(name),
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
        role,
        role_binding,
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
    Ok([
        doc(&o.service_account)?,
        doc(&o.role)?,
        doc(&o.role_binding)?,
        doc(&o.cron_job)?,
    ]
    .join("---\n"))
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
        );
        let rules = o.role.rules.unwrap();
        assert!(rules.iter().all(|r| !r.verbs.contains(&"*".to_string())));
        assert!(
            rules
                .iter()
                .all(|r| !r.resources.as_ref().unwrap().contains(&"*".to_string()))
        );
        assert_eq!(
            rules[2].resource_names.as_deref(),
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
}
