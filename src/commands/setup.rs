//! `setup`: makes a cluster ready for bootstrap tokens, creating idempotently (server-side
//! apply) what `kubeadm init` leaves for joining nodes: the bootstrapper RBAC, CSR
//! auto-approval and the anonymously readable cluster-info. The objects themselves are built in
//! [`crate::bootstrap_rbac`]; this module compares them with the live ones and applies.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use crate::bootstrap_rbac::{self, Desired, Options, Plan};
use crate::cli::{DryRun, DryRunArgs, EndpointArgs, GlobalArgs, OutputArgs};
use crate::cluster::{self, Cluster, kube_error};
use crate::output::Report;
use crate::store::FIELD_MANAGER;
use crate::{Error, Result, cluster_info, join, reporter, token};

/// Create what bootstrap tokens need, with kubeadm's names and contents: the
/// ClusterRoleBindings kubeadm:kubelet-bootstrap, kubeadm:get-nodes (with its ClusterRole),
/// kubeadm:node-autoapprove-bootstrap and kubeadm:node-autoapprove-certificate-rotation, the
/// ConfigMap kube-public/cluster-info (when absent) and the Role and RoleBinding
/// kubeadm:bootstrap-signer-clusterinfo that let anonymous users read it.
///
/// Idempotent: objects with the right content are left untouched (whoever manages them),
/// others are server-side applied with field manager kubectl-jointoken. An object another
/// manager owns with different content is reported as a conflict and left alone unless
/// --force-conflicts. Bindings keep subjects others added.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Bootstrapper groups to bind besides system:bootstrappers:kubeadm:default-node-token
    /// (comma-separated; the groups your tokens carry with create --groups).
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
    /// Leave out kubeadm:node-autoapprove-bootstrap: bootstrap CSRs then wait for approval
    /// (kubectl certificate approve, or an approver).
    #[arg(long)]
    pub no_auto_approve: bool,
    /// Take over objects other field managers own with different content.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Print the objects as multi-document YAML (for GitOps) instead of applying them; reads
    /// only the kubeconfig, never the cluster.
    #[arg(long, conflicts_with_all = ["force_conflicts", "dry_run"])]
    pub print: bool,
    /// Join endpoint (the server cluster-info names when setup creates it).
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// Dry run.
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What happened to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It did not exist and was created.
    Created,
    /// It already had this content; nothing was sent.
    Unchanged,
    /// It was changed.
    Updated,
    /// Another manager owns it with different content; left alone.
    Conflict,
    /// The apiserver refused the change.
    Error,
}

/// One object's line.
#[derive(Clone, Debug)]
pub struct Line {
    /// `clusterrolebinding.rbac.authorization.k8s.io` and so on.
    pub kind: String,
    /// Namespace, for namespaced objects.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Outcome.
    pub outcome: Outcome,
    /// Why / what differs.
    pub detail: String,
}

/// What `setup` did.
#[derive(Debug)]
pub struct SetupReport {
    /// One line per object.
    pub lines: Vec<Line>,
    /// The dry-run mode used.
    pub dry_run: DryRun,
}

impl SetupReport {
    /// The error to exit with when some object conflicts or failed (after printing).
    pub fn failure(&self) -> Option<Error> {
        let bad: Vec<String> = self
            .lines
            .iter()
            .filter(|l| matches!(l.outcome, Outcome::Conflict | Outcome::Error))
            .map(|l| l.name.clone())
            .collect();
        let conflicts = self.lines.iter().any(|l| l.outcome == Outcome::Conflict);
        (!bad.is_empty()).then(|| {
            Error::runtime(format!(
                "setup left {} object(s) as they are: {}{}",
                bad.len(),
                bad.join(", "),
                if conflicts {
                    ": check them, then rerun with --force-conflicts to take them over"
                } else {
                    ""
                }
            ))
        })
    }
}

/// Rejects a bad `--groups` before anything is read or written.
fn check_groups(a: &Args) -> Result<()> {
    a.groups
        .iter()
        .try_for_each(|g| token::validate_group(g).map_err(Error::usage))
}

fn desired_options(a: &Args, server: String, ca_der: Vec<Vec<u8>>) -> Result<Options> {
    if ca_der.is_empty() {
        return Err(Error::Config(format!(
            "the kubeconfig has no CA certificate for {server}, so cluster-info would carry none: \
             use a kubeconfig with certificate-authority-data"
        )));
    }
    Ok(Options {
        groups: a.groups.clone(),
        auto_approve: !a.no_auto_approve,
        server,
        ca_der,
    })
}

/// `setup --print`: the objects as multi-document YAML, from the kubeconfig alone.
pub async fn print(g: &GlobalArgs, a: &Args) -> Result<String> {
    check_groups(a)?;
    let (_, target) = cluster::resolve(g).await?;
    let endpoint = a
        .endpoint
        .endpoint
        .clone()
        .unwrap_or_else(|| join::endpoint(&target.server));
    join::warn_if_loopback(&endpoint);
    let o = desired_options(a, format!("https://{endpoint}"), target.ca_certs.clone())?;
    let mut out = String::new();
    for d in bootstrap_rbac::objects(&o) {
        out.push_str("---\n");
        out.push_str(&crate::output::to_yaml(&d.body)?);
    }
    Ok(out)
}

/// Runs `setup`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<SetupReport> {
    check_groups(a)?;
    let c = cluster::connect(g).await?;
    // cluster-info's server only matters when setup creates it; an existing one is kept.
    let existing = cluster_info::read(&c.client)
        .await
        .map_err(|e| kube_error("cannot read kube-public/cluster-info", e, &c.target))?;
    let endpoint = a
        .endpoint
        .endpoint
        .clone()
        .unwrap_or_else(|| join::endpoint(&c.target.server));
    if existing.is_none() {
        join::warn_if_loopback(&endpoint);
    }
    let o = desired_options(a, format!("https://{endpoint}"), c.target.ca_certs.clone())?;
    let mut lines = Vec::new();
    for d in bootstrap_rbac::objects(&o) {
        lines.push(apply_one(&c, &d, a).await?);
    }
    if a.dry_run.dry_run != DryRun::None {
        reporter::note("dry run: nothing was changed");
    }
    Ok(SetupReport {
        lines,
        dry_run: a.dry_run.dry_run,
    })
}

fn api(c: &Cluster, d: &Desired) -> Api<DynamicObject> {
    match &d.namespace {
        Some(ns) => Api::namespaced_with(c.client.clone(), ns, &d.resource),
        None => Api::all_with(c.client.clone(), &d.resource),
    }
}

async fn apply_one(c: &Cluster, d: &Desired, a: &Args) -> Result<Line> {
    let api = api(c, d);
    let what = format!(
        "{} {}",
        d.resource.kind,
        d.namespace
            .as_ref()
            .map_or(d.name.clone(), |ns| format!("{ns}/{}", d.name))
    );
    let live = api
        .get_opt(&d.name)
        .await
        .map_err(|e| kube_error(format!("cannot read {what}"), e, &c.target))?
        .map(|o| serde_json::to_value(o).expect("objects serialize"));
    let line = |outcome, detail: String| Line {
        kind: d.kind_name(),
        namespace: d.namespace.clone(),
        name: d.name.clone(),
        outcome,
        detail,
    };
    let (body, outcome, why) = match bootstrap_rbac::plan(d, live.as_ref()) {
        Plan::Unchanged(why) => return Ok(line(Outcome::Unchanged, why)),
        Plan::Create(body) => (body, Outcome::Created, "absent".to_string()),
        Plan::Update(body, why) => (body, Outcome::Updated, why),
    };
    let others = live
        .as_ref()
        .map(|l| bootstrap_rbac::other_managers(l, FIELD_MANAGER))
        .unwrap_or_default();
    match a.dry_run.dry_run {
        // No request: a change to fields others manage is what the apiserver would refuse.
        DryRun::Client
            if outcome == Outcome::Updated && !others.is_empty() && !a.force_conflicts =>
        {
            Ok(line(Outcome::Conflict, conflict_detail(&why, &others)))
        }
        DryRun::Client => Ok(line(outcome, why)),
        _ => {
            let mut pp = PatchParams::apply(FIELD_MANAGER);
            pp.force = a.force_conflicts;
            pp.dry_run = a.dry_run.dry_run == DryRun::Server;
            match api.patch(&d.name, &pp, &Patch::Apply(&body)).await {
                Ok(_) => Ok(line(outcome, why)),
                Err(kube::Error::Api(e)) if e.code == 409 => {
                    Ok(line(Outcome::Conflict, conflict_detail(&why, &others)))
                }
                // roleRef is immutable: only deleting the binding can change it.
                Err(kube::Error::Api(e)) if e.code == 422 => Ok(line(
                    Outcome::Error,
                    format!(
                        "{why}: the apiserver refused it ({}): delete {what} and rerun setup",
                        e.message.trim_end_matches('.')
                    ),
                )),
                Err(e) => Err(kube_error(format!("cannot apply {what}"), e, &c.target)),
            }
        }
    }
}

fn conflict_detail(why: &str, others: &[String]) -> String {
    format!(
        "{why}; managed by {}: left alone (--force-conflicts takes it over)",
        if others.is_empty() {
            "another field manager".to_string()
        } else {
            others.join(", ")
        }
    )
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Created => "created",
        Outcome::Unchanged => "unchanged",
        Outcome::Updated => "updated",
        Outcome::Conflict => "conflict",
        Outcome::Error => "error",
    }
}

impl Report for SetupReport {
    fn headers(&self, wide: bool) -> Vec<&'static str> {
        if wide {
            vec!["KIND", "NAMESPACE", "NAME", "RESULT", "DETAIL"]
        } else {
            vec!["KIND", "NAME", "RESULT", "DETAIL"]
        }
    }

    fn rows(&self, wide: bool) -> Vec<Vec<String>> {
        self.lines
            .iter()
            .map(|l| {
                let kind = l.kind.split('.').next().unwrap_or(&l.kind).to_string();
                let name = match (&l.namespace, wide) {
                    (Some(ns), false) => format!("{ns}/{}", l.name),
                    _ => l.name.clone(),
                };
                let mut row = vec![kind];
                if wide {
                    row.push(l.namespace.clone().unwrap_or_default());
                }
                row.extend([name, outcome_word(l.outcome).into(), l.detail.clone()]);
                row
            })
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.lines
            .iter()
            .map(|l| format!("{}/{}", l.kind, l.name))
            .collect()
    }

    fn document(&self) -> Value {
        let objects: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                json!({
                    "kind": l.kind,
                    "namespace": l.namespace,
                    "name": l.name,
                    "result": l.outcome,
                    "detail": l.detail,
                })
            })
            .collect();
        let mut v = json!({ "objects": objects });
        if self.dry_run != DryRun::None {
            v["dryRun"] = json!(match self.dry_run {
                DryRun::Client => "client",
                _ => "server",
            });
        }
        v
    }
}
