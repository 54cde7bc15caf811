//! `approve --watch`: the controller. Leader election, watching and deciding are separate:
//!
//! - leader election reuses [`crate::lease`] (a Lease in kube-system, one holder per process,
//!   renewed in the background); followers retry every third of the lease duration, and a
//!   leader that finds someone else holding the Lease steps down and becomes a follower;
//! - the leader watches CSRs with kube-runtime's watcher (bookmarks, reconnect with backoff)
//!   and decides each pending one through [`super::reconcile::process`]; a periodic resync
//!   re-lists and re-decides every pending CSR, which is how a CSR refused because its Node
//!   did not exist yet gets approved once the Node registers;
//! - SIGTERM (or SIGINT) stops the loop between two decisions, releases the Lease so a
//!   replica takes over at once, and ends with exit 0.
//!
//! A decision is safe without leadership too: every write carries the resourceVersion it was
//! made on, so two replicas that both believe they lead still approve each CSR once.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};

use crate::approval::Policy;
use crate::certificates::Certificates;
use crate::cli::{DryRun, GlobalArgs};
use crate::lease::{self, Attempt, Renewing};
use crate::reporter::{note, warn};
use crate::signals::Armed;
use crate::{Result, cluster};

use super::Args;
use super::reconcile::{self, Ctx};
use super::report::{Item, Outcome};

/// Why leading ended.
enum Stop {
    /// SIGTERM/SIGINT: release and exit.
    Signal(&'static str),
    /// Someone else holds the Lease now.
    Lost(String),
}

/// Runs the controller until SIGTERM/SIGINT.
pub async fn run(g: &GlobalArgs, a: &Args, policy: Policy) -> Result<()> {
    let mut signals = Armed::new();
    let c = cluster::connect(g).await?;
    let cfg = &a.controller;
    let who = cfg
        .identity
        .clone()
        .or_else(|| std::env::var("POD_NAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "approver".into());
    let me = lease::identity(&who, Timestamp::now());
    let ctx = Ctx {
        certs: Certificates::new(&c),
        policy,
        deny: a.policy.deny,
        mode: DryRun::None,
    };
    let retry = Duration::from_secs((cfg.lease_seconds / 3).max(1) as u64);
    note(format!(
        "approve controller {me}: waiting for lease kube-system/{}",
        cfg.lease_name
    ));
    loop {
        // Follower: try until we hold the Lease or are told to stop.
        let held = loop {
            match lease::try_acquire(&c, &cfg.lease_name, &me, cfg.lease_seconds).await {
                Ok(Attempt::Held(l)) => break *l,
                Ok(Attempt::Busy(_)) => {}
                // A flaky apiserver is no reason for a controller to exit: retry.
                Err(e) => warn(format!("{e}; retrying in {}s", retry.as_secs())),
            }
            tokio::select! {
                s = signals.recv() => {
                    note(format!("approve controller {me}: stopped by {s} (was not leading)"));
                    return Ok(());
                }
                _ = tokio::time::sleep(retry) => {}
            }
        };
        note(format!("approve controller {me}: leading"));
        let renewing = Renewing::start(&c, held);
        let stop = lead(&ctx, &c, a, &me, &mut signals).await;
        let (latest, problem) = renewing.stop().await;
        if let Some(p) = problem {
            tracing::info!("{p}");
        }
        match stop {
            Stop::Signal(s) => {
                if let Some(l) = latest
                    && let Err(e) = lease::release(&c, l).await
                {
                    warn(e);
                }
                note(format!(
                    "approve controller {me}: stopped by {s}, lease released"
                ));
                return Ok(());
            }
            Stop::Lost(holder) => note(format!(
                "approve controller {me}: lost the lease to {holder}; following"
            )),
        }
    }
}

/// The leader's loop: watch events, periodic resyncs, lease checks, signals.
async fn lead(ctx: &Ctx, c: &cluster::Cluster, a: &Args, me: &str, signals: &mut Armed) -> Stop {
    let cfg = &a.controller;
    let leases: Api<Lease> = Api::namespaced(c.client.clone(), crate::token::NAMESPACE);
    let mut denied: HashMap<String, String> = HashMap::new();
    // The last reason logged per CSR, so a refused CSR is reported once, not on every resync.
    let mut logged: HashMap<String, String> = HashMap::new();
    let mut resync = tokio::time::interval(cfg.resync.max(Duration::from_secs(1)));
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut check =
        tokio::time::interval(Duration::from_secs((cfg.lease_seconds / 3).max(1) as u64));
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick of an interval fires at once: the watcher's initial list covers that.
    resync.tick().await;
    check.tick().await;
    loop {
        let stream = watcher(ctx.certs.api().clone(), watcher::Config::default()).default_backoff();
        let mut stream = std::pin::pin!(stream);
        loop {
            tokio::select! {
                s = signals.recv() => return Stop::Signal(s),
                ev = stream.next() => match ev {
                    Some(Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o))) => {
                        handle(ctx, o, &mut denied, &mut logged).await;
                    }
                    Some(Ok(watcher::Event::Delete(o))) => {
                        logged.remove(o.metadata.name.as_deref().unwrap_or_default());
                    }
                    Some(Ok(_)) => {}
                    // The backoff wrapper retries; say why once per failure.
                    Some(Err(e)) => warn(format!("watching certificatesigningrequests: {e}")),
                    None => break,
                },
                _ = resync.tick() => match ctx.certs.list().await {
                    Ok(all) => {
                        for o in all {
                            handle(ctx, o, &mut denied, &mut logged).await;
                        }
                    }
                    Err(e) => warn(format!("resync: {e}")),
                },
                _ = check.tick() => match leases.get_opt(&cfg.lease_name).await {
                    Ok(l) => {
                        let holder = l
                            .and_then(|l| l.spec)
                            .and_then(|s| s.holder_identity)
                            .unwrap_or_default();
                        if holder != me {
                            return Stop::Lost(if holder.is_empty() { "nobody".into() } else { holder });
                        }
                    }
                    Err(e) => warn(format!("cannot read lease kube-system/{}: {e}", cfg.lease_name)),
                },
            }
        }
    }
}

/// Decides one CSR from an event or a resync and reports what changed.
async fn handle(
    ctx: &Ctx,
    o: CertificateSigningRequest,
    denied: &mut HashMap<String, String>,
    logged: &mut HashMap<String, String>,
) {
    reconcile::remember_denied(denied, &o);
    let csr = crate::approval::request::from_object(&o);
    if !matches!(
        crate::approval::triage(&csr),
        crate::approval::Triage::Evaluate(_)
    ) {
        return;
    }
    let item: Item = reconcile::process(ctx, o, denied).await;
    let line = match item.outcome {
        Outcome::Approved => format!(
            "approved csr/{} ({}): {}",
            item.name, item.requester, item.reason
        ),
        Outcome::Denied => format!(
            "denied csr/{} ({}): {}",
            item.name, item.requester, item.reason
        ),
        Outcome::Pending => format!(
            "left pending: csr/{} ({}): {}",
            item.name, item.requester, item.reason
        ),
        Outcome::Failed => format!("failed csr/{}: {}", item.name, item.reason),
        _ => return,
    };
    if logged.get(&item.name) != Some(&line) {
        note(crate::output::cell(&line, usize::MAX));
        logged.insert(item.name, line);
    }
}
