//! One rotation (`schedule run`): take the Lease, read the managed tokens, follow the pure
//! plan of [`crate::rotate`], create and publish a new token as one unit
//! ([`crate::rollout`]), and only then mark it published and prune what it superseded.
//!
//! States a run can leave: nothing changed (busy lease, or a valid published token exists);
//! a new token published everywhere and older ones pruned; or, when publishing fails or is
//! interrupted, the new token deleted again and every sink restored or named.
//!
//! With `--service-account` the same timer, Lease and margin rules renew a service account's
//! published token instead: the sinks are the only state (such tokens cannot be listed or
//! deleted), so the plan is [`crate::publish::sa::renewal`] over what they hold.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::RunArgs;
use crate::cli::{DryRun, GlobalArgs};
use crate::join::JoinInfo;
use crate::lease::{self, Attempt, Renewing};
use crate::rollout::{self, OnFailure};
use crate::rotate::{self, Managed, Plan};
use crate::signals::Armed;
use crate::store::{Deleted, TokenStore};
use crate::{Error, Result, cluster, duration, publish, reporter, systemd, token};

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// What the flags mean once checked, computed before any network call.
struct Checked {
    min_remaining: SignedDuration,
    /// The same, for the service-account renewal.
    margin: Duration,
    /// The token lifetime (--ttl, or --duration for a service account).
    ttl: Duration,
}

/// Default lifetime of a renewed service-account token.
const SA_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Validates the run's flags (config included) fully, before anything talks to a server.
fn check(a: &RunArgs) -> Result<Checked> {
    token::validate_label_value(&a.instance)
        .map_err(|e| Error::usage(format!("--instance: {e}")))?;
    if a.publish.is_empty() {
        return Err(Error::usage(
            "say where to publish: --publish vault[,file,secret] or `publish:` in the config file",
        ));
    }
    // The token's lifetime: --ttl for bootstrap tokens, --duration for a service account;
    // the same margin rules hold for both.
    let (ttl, ttl_flag) = match &a.service_account {
        Some(sa) => {
            if !publish::sa::valid_name(sa) {
                return Err(Error::usage(format!(
                    "--service-account {sa:?} is not a Kubernetes name (lowercase letters, \
                     digits, '-' and '.')"
                )));
            }
            if let Some(bad) = a.audience.iter().find(|x| !publish::sa::valid_audience(x)) {
                return Err(Error::usage(format!(
                    "--audience {bad:?} has characters outside [A-Za-z0-9:/._~%@+=-]"
                )));
            }
            // The file sink must be readable back, or every tick would renew.
            if a.publish.contains(&publish::SinkKind::File)
                && a.sinks.file.file_format != publish::file::FileFormat::Json
            {
                return Err(Error::usage(
                    "a service account's renewal reads the file sink back, which only \
                     --file-format json can answer: add --file-format json",
                ));
            }
            let d = a.duration.unwrap_or(SA_DURATION);
            if d < crate::sa_token::MIN_DURATION {
                return Err(Error::usage(format!(
                    "--duration {} is below the apiserver's minimum of 10m",
                    duration::format_go(d)
                )));
            }
            (d, "--duration")
        }
        None => {
            if a.duration.is_some() || !a.audience.is_empty() || a.publish_value.is_some() {
                return Err(Error::usage(
                    "--duration, --audience and --publish-value belong to --service-account \
                     NAME: add it, or use --ttl for bootstrap tokens",
                ));
            }
            (a.token.ttl(), "--ttl")
        }
    };
    if ttl.is_zero() {
        return Err(Error::usage(
            "rotation needs a finite --ttl (tokens must expire)",
        ));
    }
    // A token must outlive the gap to the next run (plus the timer's jitter), or nodes find
    // only expired tokens part of the time.
    let margin = Duration::from_secs(3600);
    if ttl < a.every + margin && a.min_remaining.is_none() {
        return Err(Error::usage(format!(
            "{ttl_flag} {} is shorter than --every {} plus the 1h renewal margin: nodes would \
             find no valid token between runs; raise {ttl_flag} to at least {}",
            duration::format_go(ttl),
            duration::format_go(a.every),
            duration::format_go(a.every + margin)
        )));
    }
    let min_remaining = match a.min_remaining {
        Some(m) => m,
        None => (ttl + margin).saturating_sub(a.every),
    };
    if min_remaining >= ttl {
        return Err(Error::usage(format!(
            "--min-remaining {} is not below {ttl_flag} {}: every run would rotate; raise \
             {ttl_flag}",
            duration::format_go(min_remaining),
            duration::format_go(ttl)
        )));
    }
    let margin = min_remaining;
    let min_remaining = SignedDuration::try_from(min_remaining)
        .map_err(|_| Error::usage("--min-remaining is too large"))?;
    Ok(Checked {
        min_remaining,
        margin,
        ttl,
    })
}

/// Runs one rotation; returns what goes to stdout (the new token, masked, or nothing).
pub async fn rotate_once(g: &GlobalArgs, a: &RunArgs) -> Result<String> {
    if a.service_account.is_none() {
        g.require_token_namespace()?;
    }
    let checked = check(a)?;
    let started = Timestamp::now();
    // Under systemd the admin kubeconfig arrives as a credential, never via the environment.
    let mut g = g.clone();
    if g.kubeconfig.is_none()
        && let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY")
    {
        let p = Path::new(&dir).join(systemd::CRED_KUBECONFIG);
        if p.exists() {
            g.kubeconfig = Some(p);
        }
    }
    let me = lease::identity(&a.identity.clone().unwrap_or_else(hostname), started);
    let c = cluster::connect(&g).await?;
    let join = JoinInfo::for_cluster(&c, a.endpoint.endpoint.as_deref(), None).await?;
    let sinks = publish::build_sinks(&a.publish, &a.sinks, &g, &c.target.cluster_name).await?;
    // Armed before the token can exist: an interrupt rolls it back.
    let mut armed = Armed::new();

    let lease_name = a
        .lease_name
        .clone()
        .unwrap_or_else(|| format!("kubectl-jointoken-rotate-{}", a.instance));
    let held = match lease::try_acquire(&c, &lease_name, &me, a.lease_seconds).await? {
        Attempt::Held(l) => *l,
        Attempt::Busy(holder) => {
            reporter::note(format!(
                "skipped: lease kube-system/{lease_name} is held by {holder}"
            ));
            return Ok(String::new());
        }
    };
    let renewing = Renewing::start(&c, held);
    let store = TokenStore::new(&c);
    let result = match &a.service_account {
        Some(sa) => renew_sa_locked(&c, &g, a, sa, &join, &sinks, &checked).await,
        None => {
            rotate_locked(
                &store,
                a,
                &join,
                &sinks,
                checked.min_remaining,
                started,
                &mut armed,
            )
            .await
        }
    };
    // The run's own result comes first; lease problems are added, never substituted.
    let (lease, renew_problem) = renewing.stop().await;
    let release = match lease {
        Some(l) => lease::release(&c, l).await.err().map(|e| e.to_string()),
        None => None,
    };
    let extra: Vec<String> = renew_problem.into_iter().chain(release).collect();
    match result {
        Ok(out) => {
            for e in &extra {
                reporter::warn(e);
            }
            Ok(out)
        }
        Err(e) if extra.is_empty() => Err(e),
        Err(Error::Interrupted { signal, detail }) => Err(Error::Interrupted {
            signal,
            detail: format!("{detail}; also: {}", extra.join("; ")),
        }),
        Err(e) => Err(Error::runtime(format!("{e}; also: {}", extra.join("; ")))),
    }
}

/// The service-account renewal under the Lease; stdout names the account when a new token
/// was published, and is empty when none was due.
async fn renew_sa_locked(
    c: &cluster::Cluster,
    g: &GlobalArgs,
    a: &RunArgs,
    sa: &str,
    join: &JoinInfo,
    sinks: &[Box<dyn publish::Sink>],
    checked: &Checked,
) -> Result<String> {
    let r = crate::sa_token::Request {
        namespace: g
            .namespace
            .clone()
            .unwrap_or_else(|| c.target.default_namespace.clone()),
        service_account: sa.to_string(),
        duration: checked.ttl,
        audiences: a.audience.clone(),
        bound: None,
    };
    let server = format!("https://{}", join.endpoint);
    let value = a.publish_value.unwrap_or_default();
    let renewed = crate::sa_token::renew(
        c,
        sinks,
        &r,
        value,
        &server,
        &c.target.ca_certs,
        Some(checked.margin),
    )
    .await?;
    Ok(match renewed {
        crate::sa_token::Renewed::NotDue { .. } => String::new(),
        crate::sa_token::Renewed::Published { record, .. } => {
            reporter::note(format!(
                "renewed: published a token for {} (expires {})",
                r.username(),
                token::format_expiration(record.expiration)
            ));
            format!("{}\n", r.username())
        }
    })
}

async fn managed_tokens(store: &TokenStore, instance: &str) -> Result<Vec<Managed>> {
    let selector = format!("{}={instance}", rotate::MANAGED_LABEL);
    Ok(store
        .list_stored(Some(&selector))
        .await?
        .into_iter()
        .map(|s| Managed {
            published: s.annotations.contains_key(rotate::PUBLISHED_ANNOTATION),
            record: s.record,
        })
        .collect())
}

async fn rotate_locked(
    store: &TokenStore,
    a: &RunArgs,
    join: &JoinInfo,
    sinks: &[Box<dyn publish::Sink>],
    min_remaining: SignedDuration,
    started: Timestamp,
    armed: &mut Armed,
) -> Result<String> {
    let now = Timestamp::now();
    let tokens = managed_tokens(store, &a.instance).await?;
    if let Plan::Keep(i) = rotate::plan(&tokens, now, min_remaining) {
        let cur = &tokens[i];
        let until = match cur.record.expires {
            token::Expiry::At(t) => token::format_expiration(t),
            _ => "<never>".into(),
        };
        reporter::note(format!(
            "nothing to do: {} is published and valid until {until}",
            cur.record.display_token(false)
        ));
        return Ok(String::new());
    }
    let mut flags = a.token.clone();
    if flags.description.is_none() {
        flags.description = Some(format!(
            "rotated by kubectl-jointoken every {}",
            duration::format_go(a.every)
        ));
    }
    let mut spec = flags.spec(None, now)?;
    spec.labels
        .insert(rotate::MANAGED_LABEL.into(), a.instance.clone());
    let uid = store
        .create(&spec, DryRun::None)
        .await?
        .ok_or_else(|| Error::runtime("the apiserver returned no UID for the new token"))?;
    let id = spec.token.id.clone();
    // Kept-newer, a failed sink or an interrupt: the token is deleted again, sinks restored,
    // nothing is marked published and nothing is pruned.
    let t = rollout::NewToken {
        store,
        spec: &spec,
        uid: Some(&uid),
        join,
    };
    let opts = rollout::Options {
        on_failure: OnFailure::Delete,
        verify: Some(a.signature_wait),
    };
    rollout::publish_new(&t, sinks, opts, armed).await?;
    let mark = BTreeMap::from([(
        rotate::PUBLISHED_ANNOTATION.to_string(),
        token::format_expiration(Timestamp::now()),
    )]);
    store.annotate(&id, &uid, &mark).await?;

    // Only now that the new token is published: prune what it supersedes.
    let tokens = managed_tokens(store, &a.instance).await?;
    let mut pruned = Vec::new();
    for i in rotate::superseded(
        &tokens,
        &id.secret_name(),
        a.keep_previous,
        Timestamp::now(),
        started,
    ) {
        let r = &tokens[i].record;
        let Some(uid) = r.uid.as_deref() else {
            continue;
        };
        match store.delete_named(&r.name, uid, DryRun::None).await {
            Ok(Deleted::Yes) => pruned.push(r.display_token(false)),
            Ok(_) => {}
            Err(e) => tracing::warn!(
                "cannot prune superseded {}: {}",
                r.name,
                crate::error::error_chain(&e)
            ),
        }
    }
    reporter::note(format!(
        "rotated: published {} (expires {}); pruned {} superseded token(s)",
        spec.token.masked(),
        spec.expires
            .map(token::format_expiration)
            .unwrap_or_default(),
        pruned.len()
    ));
    Ok(format!("{}\n", spec.token.masked()))
}
