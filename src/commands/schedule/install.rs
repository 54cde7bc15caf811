//! The installers of `schedule`: systemd service + timer + config file (`render`, `install`,
//! `status`, `uninstall`) and the in-cluster CronJob (`--cronjob`).

use std::path::{Path, PathBuf};

use kube::api::{Api, Patch, PatchParams};

use crate::cli::GlobalArgs;
use crate::{Error, Result, cluster, duration, systemd, token};

use super::{InstallArgs, RootArgs, config_file};

/// The files `install` writes, relative to the root, with their contents.
pub fn render(i: &InstallArgs) -> Result<Vec<(String, String)>> {
    let config = config_file(&i.instance);
    // `--instance` before `--` names the units; an instance given only after `--` (as before
    // instances had units of their own) still drives the run's label and Lease.
    if let Some(v) = run_flag_value(&i.run_flags, "instance")
        && i.instance != "default"
        && v != i.instance
    {
        return Err(Error::usage(format!(
            "--instance {v} after -- contradicts --instance {}: give it once, before --",
            i.instance
        )));
    }
    let (service, timer_name) = systemd::unit_names(&i.instance);
    let params = systemd::UnitParams {
        instance: i.instance.clone(),
        exec: i.exec.clone(),
        config: config.clone(),
        every: i.every,
        randomized_delay: i.randomized_delay,
        timeout: i.timeout,
        kubeconfig_credential: i.kubeconfig_credential.clone(),
        vault_token_credential: i.vault_token_credential.clone(),
    };
    let timer = systemd::timer(&params).map_err(Error::usage)?;
    // Validate the stored run flags now, not at 3am on the first tick.
    super::config::check_run_flags(&i.run_flags)
        .map_err(|first| Error::usage(format!("invalid run flags after --: {first}")))?;
    let mut cfg = format!(
        "# kubectl-jointoken schedule run: one key per long flag (see `kubectl jointoken schedule run --help`).\nevery: {}\n",
        duration::format_go(i.every),
    );
    if i.instance != "default" {
        cfg.push_str(&format!("instance: {}\n", i.instance));
    }
    let mut it = i.run_flags.iter().peekable();
    while let Some(f) = it.next() {
        let Some(name) = f.strip_prefix("--") else {
            return Err(Error::usage(format!(
                "invalid run flag {f:?}: expected --name or --name=value"
            )));
        };
        let (k, v) = match name.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => match it.peek() {
                Some(n) if !n.starts_with("--") => (name.to_string(), it.next().cloned()),
                _ => (name.to_string(), None),
            },
        };
        if k == "instance" && i.instance != "default" {
            continue;
        }
        if k == "every" {
            return Err(Error::usage(
                "--every after -- would be ignored: give it before --, as `schedule install --every DURATION` (it sets the timer and the run)",
            ));
        }
        match v {
            Some(v) => cfg.push_str(&format!("{k}: {}\n", serde_json::Value::String(v))),
            None => cfg.push_str(&format!("{k}: true\n")),
        }
    }
    Ok(vec![
        (
            format!("/etc/systemd/system/{service}"),
            systemd::service(&params),
        ),
        (format!("/etc/systemd/system/{timer_name}"), timer),
        (config, cfg),
    ])
}

fn cronjob_objects(i: &InstallArgs) -> Result<crate::cronjob::Objects> {
    let image = i.image.as_deref().ok_or_else(|| {
        Error::usage("--cronjob needs --image: an image with kubectl-jointoken on its PATH")
    })?;
    // Same validation of the stored run flags as for the units.
    render(i)?;
    let schedule = crate::cronjob::cron_expr(i.every).map_err(Error::usage)?;
    let mut flags = vec![format!("--every={}", duration::format_go(i.every))];
    flags.extend(i.run_flags.iter().cloned());
    if i.instance != "default" && run_flag_value(&i.run_flags, "instance").is_none() {
        flags.push(format!("--instance={}", i.instance));
    }
    let run_instance =
        run_flag_value(&i.run_flags, "instance").unwrap_or_else(|| i.instance.clone());
    let lease = run_flag_value(&i.run_flags, "lease-name")
        .unwrap_or_else(|| format!("kubectl-jointoken-rotate-{run_instance}"));
    Ok(crate::cronjob::objects(
        &crate::cronjob::name(&i.instance),
        &schedule,
        image,
        &lease,
        &flags,
        &grants(&i.run_flags)?,
    ))
}

/// What the run flags make the job touch, for its Roles. In the pod the context's namespace
/// is the pod's own (kube-system), so that is where `-n` and the Secret sink default.
fn grants(run_flags: &[String]) -> Result<crate::cronjob::Grants> {
    let cli = super::config::parse_run_flags(run_flags)
        .map_err(|first| Error::usage(format!("invalid run flags after --: {first}")))?;
    let crate::commands::Command::Schedule(s) = cli.command else {
        return Err(Error::usage("invalid run flags after --"));
    };
    let super::Action::Run(r) = s.action else {
        return Err(Error::usage("invalid run flags after --"));
    };
    let ns = cli
        .global
        .namespace
        .clone()
        .unwrap_or_else(|| token::NAMESPACE.to_string());
    let secret_sink = if r.publish.contains(&crate::publish::SinkKind::Secret) {
        let sa = &r.sinks.secret;
        let name = sa.secret_name.clone().ok_or_else(|| {
            Error::usage(
                "--publish secret needs --secret-name after --: the job may write only that Secret",
            )
        })?;
        // The sink's default is the context's namespace (not -n), in the pod its own.
        Some((
            sa.secret_namespace
                .clone()
                .unwrap_or_else(|| token::NAMESPACE.to_string()),
            name,
        ))
    } else {
        None
    };
    Ok(crate::cronjob::Grants {
        service_account: r.service_account.clone().map(|a| (ns, a)),
        secret_sink,
    })
}

/// The value of `--name` in stored run flags (`--name=v` or `--name v`).
fn run_flag_value(flags: &[String], name: &str) -> Option<String> {
    let long = format!("--{name}");
    let mut it = flags.iter();
    while let Some(f) = it.next() {
        if let Some(v) = f.strip_prefix(&format!("{long}=")) {
            return Some(v.to_string());
        }
        if *f == long {
            return it.next().cloned();
        }
    }
    None
}

pub(super) fn cronjob_yaml(i: &InstallArgs) -> Result<String> {
    crate::cronjob::to_yaml(&cronjob_objects(i)?)
        .map_err(|e| Error::runtime(format!("cannot render YAML: {e}")))
}

pub(super) async fn apply_cronjob(g: &GlobalArgs, i: &InstallArgs) -> Result<()> {
    let o = cronjob_objects(i)?;
    let c = cluster::connect(g).await?;
    apply(&c, &o.service_account).await?;
    for (role, binding) in &o.roles {
        apply(&c, role).await?;
        apply(&c, binding).await?;
    }
    apply(&c, &o.cron_job).await
}

/// Server-side apply of one object of the CronJob's set, in its namespace, forcing our fields.
async fn apply<K>(c: &cluster::Cluster, obj: &K) -> Result<()>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + k8s_openapi::Resource
        + Clone
        + std::fmt::Debug
        + serde::Serialize
        + serde::de::DeserializeOwned,
{
    let name = obj.meta().name.clone().unwrap_or_default();
    let name = name.as_str();
    let ns = obj
        .meta()
        .namespace
        .clone()
        .unwrap_or_else(|| token::NAMESPACE.to_string());
    Api::<K>::namespaced(c.client.clone(), &ns)
        .patch(
            name,
            &PatchParams::apply("kubectl-jointoken").force(),
            &Patch::Apply(&with_kind(obj)),
        )
        .await
        .map(drop)
        .map_err(|e| {
            crate::cluster::kube_error(
                format!(
                    "cannot apply {} {ns}/{name}",
                    <K as k8s_openapi::Resource>::KIND
                ),
                e,
                &c.target,
            )
        })
}

/// Server-side apply needs apiVersion and kind in the body.
fn with_kind<T: serde::Serialize + k8s_openapi::Resource>(v: &T) -> serde_json::Value {
    let mut j = serde_json::to_value(v).unwrap_or_default();
    j["apiVersion"] = T::API_VERSION.into();
    j["kind"] = T::KIND.into();
    j
}

fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

fn systemctl(args: &[&str]) -> Result<String> {
    let out = std::process::Command::new("systemctl")
        .args(args)
        .output()
        .map_err(|e| Error::runtime(format!("cannot run systemctl {}: {e}", args.join(" "))))?;
    if !out.status.success() {
        return Err(Error::runtime(format!(
            "systemctl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Creates `dir` and its missing parents with mode 0755 whatever the umask (under `umask 000`
/// `create_dir_all` would leave them 0777, writable by anyone, next to units that run as
/// root). Directories that exist are left as they are. Public data only: no secret is ever
/// written into them, so setting the mode right after creation exposes nothing.
fn create_dirs_0755(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    for d in missing.iter().rev() {
        let io = |source| Error::Io {
            action: "cannot create",
            path: d.display().to_string(),
            source,
        };
        std::fs::create_dir(d).map_err(io)?;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
    }
    Ok(())
}

pub(super) fn install(i: &InstallArgs) -> Result<String> {
    let files = render(i)?;
    for (p, _) in &files {
        let path = under(&i.root, p);
        if path.exists() && !i.force {
            return Err(Error::usage(format!(
                "{} exists: pass --force to replace it",
                path.display()
            )));
        }
    }
    for (p, body) in &files {
        let path = under(&i.root, p);
        if let Some(dir) = path.parent() {
            create_dirs_0755(dir)?;
        }
        // World-readable on purpose: units and config hold no secrets (those come in through
        // LoadCredential=), and the service's dynamic user must read the config.
        crate::kubeconfig::write_file_atomic(&path, body.as_bytes(), true, 0o644)?;
        crate::reporter::note(format!("wrote {}", path.display()));
    }
    if i.root == Path::new("/") && !i.no_enable {
        systemctl(&["daemon-reload"])?;
        let (_, timer) = systemd::unit_names(&i.instance);
        systemctl(&["enable", "--now", &timer])?;
        crate::reporter::note(format!("enabled and started {timer}"));
    }
    Ok(String::new())
}

pub(super) fn status(r: &RootArgs) -> Result<String> {
    let (service, timer) = systemd::unit_names(&r.instance);
    let timer = systemctl(&[
        "show",
        &timer,
        "-p",
        "ActiveState,LastTriggerUSec,NextElapseUSecRealtime",
    ])?;
    let service = systemctl(&[
        "show",
        &service,
        "-p",
        "Result,ExecMainStatus,ExecMainExitTimestamp",
    ])?;
    Ok(format!("{timer}{service}"))
}

pub(super) fn uninstall(r: &RootArgs) -> Result<String> {
    let (service, timer) = systemd::unit_names(&r.instance);
    if r.root == Path::new("/") {
        let _ = systemctl(&["disable", "--now", &timer]);
    }
    for p in [
        format!("/etc/systemd/system/{service}"),
        format!("/etc/systemd/system/{timer}"),
        config_file(&r.instance),
    ] {
        let path = under(&r.root, &p);
        match std::fs::remove_file(&path) {
            Ok(()) => crate::reporter::note(format!("removed {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Io {
                    action: "cannot remove",
                    path: path.display().to_string(),
                    source,
                });
            }
        }
    }
    if r.root == Path::new("/") {
        systemctl(&["daemon-reload"])?;
    }
    Ok(String::new())
}

/// `status --cronjob`: the CronJob's schedule, last schedule and last success, and whether a
/// job is running now, as `key=value` lines like `systemctl show`.
pub(super) async fn cronjob_status(g: &GlobalArgs, r: &RootArgs) -> Result<String> {
    use k8s_openapi::api::batch::v1::CronJob;
    let c = cluster::connect(g).await?;
    let name = crate::cronjob::name(&r.instance);
    let cj = Api::<CronJob>::namespaced(c.client.clone(), token::NAMESPACE)
        .get_opt(&name)
        .await
        .map_err(|e| cluster::kube_error(format!("cannot read CronJob kube-system/{name}"), e, &c.target))?
        .ok_or_else(|| {
            Error::runtime(format!(
                "CronJob kube-system/{name} does not exist: install it with `kubectl jointoken schedule install --cronjob`"
            ))
        })?;
    let st = cj.status.unwrap_or_default();
    let t = |x: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
        x.map(|t| crate::token::format_expiration(t.0))
            .unwrap_or_else(|| "never".into())
    };
    Ok(format!(
        "CronJob=kube-system/{name}\nSchedule={}\nSuspend={}\nLastScheduleTime={}\nLastSuccessfulTime={}\nActiveJobs={}\n",
        cj.spec.schedule,
        cj.spec.suspend.unwrap_or(false),
        t(st.last_schedule_time),
        t(st.last_successful_time),
        st.active.map(|a| a.len()).unwrap_or(0)
    ))
}

/// `uninstall --cronjob`: deletes the CronJob and its RBAC (tokens are kept, as with units).
pub(super) async fn cronjob_uninstall(g: &GlobalArgs, r: &RootArgs) -> Result<String> {
    use k8s_openapi::api::batch::v1::CronJob;
    use k8s_openapi::api::core::v1::ServiceAccount;
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let c = cluster::connect(g).await?;
    let name = crate::cronjob::name(&r.instance);
    // The Roles it has outside kube-system are named on the CronJob: read them first.
    let elsewhere = match Api::<CronJob>::namespaced(c.client.clone(), token::NAMESPACE)
        .get_opt(&name)
        .await
    {
        Ok(cj) => cj
            .and_then(|cj| cj.metadata.annotations)
            .and_then(|a| a.get(crate::cronjob::GRANT_NAMESPACES).cloned())
            .unwrap_or_default(),
        Err(e) => {
            return Err(cluster::kube_error(
                format!("cannot read CronJob kube-system/{name}"),
                e,
                &c.target,
            ));
        }
    };
    delete_named::<CronJob>(&c, token::NAMESPACE, &name).await?;
    for ns in elsewhere.split(',').filter(|ns| !ns.is_empty()) {
        delete_named::<RoleBinding>(&c, ns, &name).await?;
        delete_named::<Role>(&c, ns, &name).await?;
    }
    delete_named::<RoleBinding>(&c, token::NAMESPACE, &name).await?;
    delete_named::<Role>(&c, token::NAMESPACE, &name).await?;
    delete_named::<ServiceAccount>(&c, token::NAMESPACE, &name).await?;
    Ok(String::new())
}

async fn delete_named<K>(c: &cluster::Cluster, ns: &str, name: &str) -> Result<()>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let kind = K::kind(&());
    let dp = kube::api::DeleteParams::background();
    match Api::<K>::namespaced(c.client.clone(), ns)
        .delete(name, &dp)
        .await
    {
        Ok(_) => {
            crate::reporter::note(format!("deleted {kind} {ns}/{name}"));
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(cluster::kube_error(
            format!("cannot delete {kind} {ns}/{name}"),
            e,
            &c.target,
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;

    use crate::commands::{Cli, Command, schedule::Action};
    use crate::publish::SinkKind;
    use crate::publish::vault::{Auth, KvVersion, resolve};

    fn parse(args: &[&str]) -> Cli {
        let mut argv = vec!["kubectl-jointoken", "schedule"];
        argv.extend(args);
        Cli::try_parse_from(argv).unwrap()
    }

    fn install_args(args: &[&str]) -> super::InstallArgs {
        let mut all = vec!["render"];
        all.extend(args);
        match parse(&all).command {
            Command::Schedule(s) => match s.action {
                Action::Render(i) => i,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    fn service(args: &[&str]) -> String {
        let files = super::render(&install_args(args)).unwrap();
        files[0].1.clone()
    }

    /// Every Vault credential is loaded by credential-store name (optional) unless a path is
    /// given for the token; the instance's unit name keeps instances' credentials apart.
    #[test]
    fn vault_credentials_are_optional_credstore_names() {
        let s = service(&[]);
        for c in ["vault-token", "vault-role-id", "vault-secret-id"] {
            assert!(
                s.contains(&format!(
                    "\nLoadCredential={c}:kubectl-jointoken-rotate.{c}\n"
                )),
                "{s}"
            );
        }
        assert!(s.contains("\nLoadCredential=kubeconfig:/etc/kubernetes/admin.conf\n"));
        let s = service(&["--instance", "edge"]);
        assert!(
            s.contains(
                "\nLoadCredential=vault-secret-id:kubectl-jointoken-rotate@edge.vault-secret-id\n"
            ),
            "{s}"
        );
        let s = service(&["--vault-token-credential", "/run/vault-agent/token"]);
        assert!(s.contains("\nLoadCredential=vault-token:/run/vault-agent/token\n"));
        assert_eq!(s.matches("LoadCredential=vault-token:").count(), 1, "{s}");
        assert!(
            s.contains("\nLoadCredential=vault-role-id:kubectl-jointoken-rotate.vault-role-id\n")
        );
    }

    /// The example the Debian package ships (examples/config.yaml) is a Vault publish that
    /// `schedule run` accepts as it would under the packaged unit: the keys are flags, the
    /// values parse, and the AppRole login finds its files in the credentials directory.
    #[test]
    fn packaged_example_config_is_an_approle_vault_publish() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/packaging/debian/config.yaml"
        ));
        let text = std::fs::read_to_string(path).unwrap();
        let flags = super::super::config_to_args(&text, path).unwrap();
        let mut argv = vec!["run"];
        argv.extend(flags.iter().map(String::as_str));
        let run = match parse(&argv).command {
            Command::Schedule(s) => match s.action {
                Action::Run(r) => r,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        assert_eq!(run.publish, vec![SinkKind::Vault]);
        // Equal to the packaged timer's interval, the default of `schedule render`.
        assert_eq!(run.every, install_args(&[]).every);
        let v = &run.sinks.vault;
        assert!(v.vault_addr.as_deref().unwrap().starts_with("https://"));
        assert_eq!(v.mount.as_deref(), Some("secret"));
        assert!(v.path.is_some());
        assert_eq!(v.kv_version, Some(KvVersion::V2));
        let creds = "/run/credentials/kubectl-jointoken-rotate.service";
        let settings =
            resolve(v, &|k| (k == "CREDENTIALS_DIRECTORY").then(|| creds.into())).unwrap();
        assert_eq!(
            settings.auth,
            Auth::AppRole {
                mount: "approle".into(),
                role_id_file: Path::new(creds).join("vault-role-id"),
                secret_id_file: Path::new(creds).join("vault-secret-id"),
            }
        );
    }
}
