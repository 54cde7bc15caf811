//! A `coordination.k8s.io/v1` Lease in kube-system as a mutex between control-plane nodes that
//! run the rotation timer: whoever creates (or takes over an expired) lease rotates, everyone
//! else skips. Writes carry the lease's resourceVersion, so two takers can never both win.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

use crate::cluster::Cluster;
use crate::{Error, Result};

/// Result of an attempt.
#[derive(Debug)]
pub enum Attempt {
    /// We hold it; release it when done.
    Held(Box<Lease>),
    /// Someone else does (their identity).
    Busy(String),
}

/// Whether a lease with this spec is free for `me` at `now`: unheld, ours, or expired.
pub fn is_free(spec: Option<&LeaseSpec>, me: &str, now: Timestamp) -> bool {
    let Some(s) = spec else { return true };
    let holder = s.holder_identity.as_deref().unwrap_or("");
    if holder.is_empty() || holder == me {
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
        Error::kube(
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
            if !is_free(lease.spec.as_ref(), me, now) {
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

/// Gives the lease up (clears the holder), so the next node's run need not wait for expiry.
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
        Err(e) => Err(Error::kube(
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
        assert!(is_free(None, "a", now));
        let held = |who: &str, ago: i64| spec(who, 60, now - SignedDuration::from_secs(ago), 0);
        assert!(is_free(Some(&held("a", 10)), "a", now), "our own lease");
        assert!(!is_free(Some(&held("b", 10)), "a", now), "held by b, fresh");
        assert!(is_free(Some(&held("b", 61)), "a", now), "b's lease expired");
        let mut released = held("b", 1);
        released.holder_identity = None;
        assert!(is_free(Some(&released), "a", now));
    }
}
