//! One rotation (`schedule run`): take the Lease, read the managed tokens, follow the pure
//! plan of [`crate::rotate`], create and publish a new token as one unit
//! ([`crate::rollout`]), and only then mark it published and prune what it superseded.
//!
//! States a run can leave: nothing changed (busy lease, or a valid published token exists);
//! a new token published everywhere and older ones pruned; or, when publishing fails or is
//! interrupted, the new token deleted again and every sink restored or named.

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
}

/// Validates the run's flags (config included) fully, before anything talks to a server.
fn check(a: &RunArgs) -> Result<Checked> {
    token::validate_label_value(&a.instance)
        .map_err(|e| Error::usage(format!("--instance: {e}")))?;
    if a.publish.is_empty() {
        return Err(Error::usage(
            "say where to publish: --publish vault[,file,secret] or `publish:` in the config file",
        ));
    }
    let ttl = a.token.ttl();
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
            "--ttl {} is shorter than --every {} plus the 1h renewal margin: nodes would find no \
             valid token between runs; raise --ttl to at least {}",
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
            "--min-remaining {} is not below --ttl {}: every run would rotate; raise --ttl",
            duration::format_go(min_remaining),
            duration::format_go(ttl)
        )));
    }
    let min_remaining = SignedDuration::try_from(min_remaining)
        .map_err(|_| Error::usage("--min-remaining is too large"))?;
    Ok(Checked { min_remaining })
}

/// Runs one rotation; returns what goes to stdout (the new token, masked, or nothing).
pub async fn rotate_once(g: &GlobalArgs, a: &RunArgs) -> Result<String> {
    g.require_token_namespace()?;
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
    let result = rotate_locked(
        &store,
        a,
        &join,
        &sinks,
        checked.min_remaining,
        started,
        &mut armed,
    )
    .await;
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
