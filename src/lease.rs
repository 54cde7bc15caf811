//! A `coordination.k8s.io/v1` Lease in kube-system as a mutex between rotation runs, on one
//! node or several: whoever creates (or takes over an expired or released) lease rotates,
//! everyone else skips. Writes carry the lease's resourceVersion, so two takers can never both
//! win. Each process holds the lease under its own identity ([`identity`]: host, pid and start
//! time), so a timer run and a manual run on the same host exclude each other too; a live
//! lease is busy whoever holds it. While held, a background task renews it every third of its
//! duration, so a long run never outlives its lease.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

use crate::Result;
use crate::cluster::Cluster;

/// Result of an attempt.
#[derive(Debug)]
pub enum Attempt {
    /// We hold it; release it when done.
    Held(Box<Lease>),
    /// Someone else does (their identity).
    Busy(String),
}

/// This process's holder identity: `<node>/<pid>/<start>`, unique per process even on one
/// host (a pid can be reused, not together with the same start second).
pub fn identity(node: &str, started: Timestamp) -> String {
    format!("{node}/{}/{}", std::process::id(), started.as_second())
}

/// Whether a lease with this spec is free at `now`: unheld (released) or expired. A live lease
/// is busy whoever holds it, our own host included.
pub fn is_free(spec: Option<&LeaseSpec>, now: Timestamp) -> bool {
    let Some(s) = spec else { return true };
    let holder = s.holder_identity.as_deref().unwrap_or("");
    if holder.is_empty() {
        return true;
    }
    let renewed = s
        .renew_time
        .as_ref()
        .or(s.acquire_time.as_ref())
        .map(|t| t.0);
    let dur = SignedDuration::from_secs(s.lease_duration_seconds.unwrap_or(0) as i64);
    match renewed {
        Some(t) => t + dur <= now,
        None => true,
    }
}

fn spec(me: &str, secs: i32, now: Timestamp, transitions: i32) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(me.to_string()),
        lease_duration_seconds: Some(secs),
        acquire_time: Some(MicroTime(now)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..Default::default()
    }
}

/// Tries once to take the lease `name` for `secs` seconds as `me`.
pub async fn try_acquire(c: &Cluster, name: &str, me: &str, secs: i32) -> Result<Attempt> {
    let api: Api<Lease> = Api::namespaced(c.client.clone(), crate::token::NAMESPACE);
    let now = Timestamp::now();
    let fail = |e| {
        crate::cluster::kube_error(
            format!("cannot take lease kube-system/{name}"),
            e,
            &c.target,
        )
    };
    let pp = PostParams::default();
    match api.get_opt(name).await.map_err(fail)? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.into()),
                    namespace: Some(crate::token::NAMESPACE.into()),
                    ..Default::default()
                },
                spec: Some(spec(me, secs, now, 0)),
            };
            match api.create(&pp, &lease).await {
                Ok(l) => Ok(Attempt::Held(Box::new(l))),
                Err(kube::Error::Api(e)) if e.code == 409 => {
                    Ok(Attempt::Busy("another node".into()))
                }
                Err(e) => Err(fail(e)),
            }
        }
        Some(mut lease) => {
            if !is_free(lease.spec.as_ref(), now) {
                let holder = lease
                    .spec
                    .and_then(|s| s.holder_identity)
                    .unwrap_or_default();
                return Ok(Attempt::Busy(holder));
            }
            let transitions = lease
                .spec
                .as_ref()
                .and_then(|s| s.lease_transitions)
                .unwrap_or(0)
                + 1;
            lease.spec = Some(spec(me, secs, now, transitions));
            // replace() sends our resourceVersion: a concurrent taker gets 409.
            match api.replace(name, &pp, &lease).await {
                Ok(l) => Ok(Attempt::Held(Box::new(l))),
                Err(kube::Error::Api(e)) if e.code == 409 => {
                    Ok(Attempt::Busy("another node".into()))
                }
                Err(e) => Err(fail(e)),
            }
        }
    }
}

/// A held lease, renewed in the background until [`Renewing::stop`].
pub struct Renewing {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<(Lease, Option<String>)>,
}

impl Renewing {
    /// Starts renewing `lease` every third of its duration.
    pub fn start(c: &Cluster, lease: Lease) -> Self {
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let api: Api<Lease> = Api::namespaced(c.client.clone(), crate::token::NAMESPACE);
        let task = tokio::spawn(async move {
            let mut lease = lease;
            let mut problem = None;
            let secs = lease
                .spec
                .as_ref()
                .and_then(|s| s.lease_duration_seconds)
                .unwrap_or(60)
                .max(3);
            let every = std::time::Duration::from_secs((secs / 3) as u64);
            loop {
                tokio::select! {
                    _ = &mut stopped => return (lease, problem),
                    _ = tokio::time::sleep(every) => {}
                }
                let name = lease.metadata.name.clone().unwrap_or_default();
                let mut next = lease.clone();
                if let Some(s) = next.spec.as_mut() {
                    s.renew_time = Some(MicroTime(Timestamp::now()));
                }
                match api.replace(&name, &PostParams::default(), &next).await {
                    Ok(l) => lease = l,
                    Err(e) => {
                        let msg = crate::error::error_chain(&e);
                        tracing::warn!("cannot renew lease kube-system/{name}: {msg}");
                        problem = Some(format!("renewing lease kube-system/{name} failed: {msg}"));
                    }
                }
            }
        });
        Renewing { stop, task }
    }

    /// Stops renewing; returns the latest lease and, if a renewal failed, what went wrong.
    pub async fn stop(self) -> (Option<Lease>, Option<String>) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok((l, p)) => (Some(l), p),
            Err(e) => (None, Some(format!("the lease renewal task failed: {e}"))),
        }
    }
}

/// Gives the lease up (clears the holder), so the next run need not wait for expiry.
pub async fn release(c: &Cluster, mut lease: Lease) -> Result<()> {
    let api: Api<Lease> = Api::namespaced(c.client.clone(), crate::token::NAMESPACE);
    let name = lease.metadata.name.clone().unwrap_or_default();
    if let Some(s) = lease.spec.as_mut() {
        s.holder_identity = None;
    }
    match api.replace(&name, &PostParams::default(), &lease).await {
        Ok(_) => Ok(()),
        // Someone took it over after it expired: nothing to release.
        Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => Ok(()),
        Err(e) => Err(crate::cluster::kube_error(
            format!("cannot release lease kube-system/{name}"),
            e,
            &c.target,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freedom_rules() {
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        assert!(is_free(None, now));
        let held = |who: &str, ago: i64| spec(who, 60, now - SignedDuration::from_secs(ago), 0);
        let me = identity("node-a", now);
        assert!(
            !is_free(Some(&held(&me, 10)), now),
            "a live lease is busy even when this host holds it"
        );
        assert!(!is_free(Some(&held("b", 10)), now), "held by b, fresh");
        assert!(is_free(Some(&held("b", 61)), now), "b's lease expired");
        assert!(
            !is_free(Some(&held("b", 59)), now),
            "b's lease one second from expiry"
        );
        let mut released = held("b", 1);
        released.holder_identity = None;
        assert!(is_free(Some(&released), now));
    }

    #[test]
    fn identities_differ_per_process_start() {
        let t: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let a = identity("node-a", t);
        assert!(
            a.starts_with(&format!("node-a/{}/", std::process::id())),
            "{a}"
        );
        assert_ne!(a, identity("node-a", t + SignedDuration::from_secs(1)));
    }
}
