//! Publishing a token this run just created, as one unit (`create --publish`, `schedule run`,
//! `kubeconfig --create --publish`): publish to every sink, decide with the one publish
//! verdict, and on anything but full success roll back — the sinks that now name our token
//! are restored where they can be, and the token is deleted under its UID precondition.
//! SIGINT/SIGTERM during the publish phase roll back the same way.
//!
//! The verdict (one rule for create, publish and schedule): our token is published only when
//! every sink holds it. A sink that kept a newer token ("kept-newer") means *our token is not
//! published*: the command fails and says which record was kept and how to replace it.

use crate::join::JoinInfo;
use crate::publish::{self, JoinRecord, Outcome, PublishReport, Sink};
use crate::signals::Armed;
use crate::store::{Deleted, TokenStore};
use crate::token::TokenSpec;
use crate::{Error, Result};

/// The publish verdict over a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every sink holds our token.
    Published,
    /// Some sink does not: `failed` lists `<sink>: <why>` (errors and kept-newer records),
    /// `holding` the sinks that do hold our token.
    NotPublished {
        /// Sinks that failed or kept another token, with the reason.
        failed: Vec<String>,
        /// Sinks that hold our token now.
        holding: Vec<String>,
    },
}

/// The one publish verdict.
pub fn verdict(report: &PublishReport) -> Verdict {
    let mut failed = Vec::new();
    let mut holding = Vec::new();
    for r in &report.results {
        match &r.result {
            Err(e) => failed.push(format!("{}: {e}", r.sink)),
            Ok(o @ Outcome::KeptNewer(_)) => failed.push(format!("{}: {}", r.sink, o.detail())),
            Ok(_) => holding.push(r.sink.clone()),
        }
    }
    if failed.is_empty() {
        Verdict::Published
    } else {
        Verdict::NotPublished { failed, holding }
    }
}

/// What a run does with its token when publishing fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Delete it (the default).
    Delete,
    /// Keep it (`--keep-on-failure`).
    Keep,
}

/// The token a run just created, and where it lives.
pub struct NewToken<'a> {
    /// The store it was created in.
    pub store: &'a TokenStore,
    /// What was written.
    pub spec: &'a TokenSpec,
    /// Its UID (`None` when nothing was created, e.g. a dry run).
    pub uid: Option<&'a str>,
    /// How nodes reach the cluster.
    pub join: &'a JoinInfo,
}

/// How a publish unit behaves.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// What happens to the token when publishing fails.
    pub on_failure: OnFailure,
    /// Verify the token (with this longest signature wait) before publishing it.
    pub verify: Option<std::time::Duration>,
}

/// Publishes the token `t` to `sinks`. Unless every sink holds it afterwards, rolls back and
/// fails with the cause first, then what was done about it.
pub async fn publish_new(
    t: &NewToken<'_>,
    sinks: &[Box<dyn Sink>],
    opts: Options,
    armed: &mut Armed,
) -> Result<PublishReport> {
    let (store, spec, uid, join) = (t.store, t.spec, t.uid, t.join);
    let (on_failure, verify) = (opts.on_failure, opts.verify);
    let c = store.cluster();
    let rec = JoinRecord::new(spec.token.clone(), spec.expires, join, &c.target.ca_certs);
    let report = tokio::select! {
        r = async {
            // A token that would not let a node join is never published: verify first (the
            // bounded wait covers the bootstrap signer's signature of a fresh token).
            if let Some(wait) = verify {
                verify_new(store, spec, join, wait).await?;
            }
            Ok::<_, String>(publish::publish_all(sinks, &rec).await)
        } => match r {
            Ok(report) => report,
            Err(failed) => {
                let state = undo(store, spec, uid, &rec, sinks, Some(&PublishReport::default()), on_failure).await;
                return Err(Error::runtime(format!(
                    "bootstrap token {} failed verification and was not published: {failed}; {state}",
                    spec.token.id
                )));
            }
        },
        sig = armed.recv() => {
            let state = undo(store, spec, uid, &rec, sinks, None, OnFailure::Delete).await;
            return Err(Error::Interrupted {
                signal: sig,
                detail: format!("publishing bootstrap token {} was cut short; {state}", spec.token.id),
            });
        }
    };
    // Per-sink progress for the sinks that hold the token; failures are said once, in the
    // error below (not also as a progress line and a log line).
    for r in &report.results {
        if let Ok(o) = &r.result
            && o.holds_ours()
        {
            crate::reporter::note(format!("{}: {}: {}", r.sink, o.word(), o.detail()));
        }
    }
    match verdict(&report) {
        Verdict::Published => Ok(report),
        Verdict::NotPublished { failed, .. } => {
            let state = undo(store, spec, uid, &rec, sinks, Some(&report), on_failure).await;
            Err(Error::runtime(format!(
                "bootstrap token {} was not published: {}; {state}",
                spec.token.id,
                failed.join("; ")
            )))
        }
    }
}

/// Runs `verify`'s checks on the token just created, as a joining node would see it; returns
/// the failed checks (`<check>: <cause>`), or `Ok` when none failed.
async fn verify_new(
    store: &TokenStore,
    spec: &TokenSpec,
    join: &JoinInfo,
    wait: std::time::Duration,
) -> std::result::Result<(), String> {
    use crate::verify::{self, Admin, NodeView, Status};
    let c = store.cluster();
    let record = crate::token::TokenRecord::from_secret(&spec.to_secret());
    let cluster_info_exists = kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(
        c.client.clone(),
        crate::cluster_info::NAMESPACE,
    )
    .get_opt(crate::cluster_info::NAME)
    .await
    .map(|o| o.is_some())
    .unwrap_or(true);
    let admin = Admin {
        secret: verify::secret_check(
            spec.token.id.as_str(),
            Some(&record),
            jiff::Timestamp::now(),
        ),
        signing: spec.usages.iter().any(|u| u == "signing"),
        cluster_info_exists,
    };
    let view = NodeView {
        endpoint: join.endpoint.clone(),
        pins: join.ca_cert_hashes.clone(),
        token: spec.token.clone(),
        ca_der: c.target.ca_certs.clone(),
    };
    let failed: Vec<String> = verify::check_token(&view, Some(&admin), wait)
        .await
        .into_iter()
        .filter(|ch| ch.status == Status::Fail)
        .map(|ch| format!("{}: {}", ch.name, ch.detail))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Rolls back a failed or interrupted publish and says what state it left. `report` is what
/// the sinks said (`None` when interrupted: every sink may have written).
async fn undo(
    store: &TokenStore,
    spec: &TokenSpec,
    uid: Option<&str>,
    rec: &JoinRecord,
    sinks: &[Box<dyn Sink>],
    report: Option<&PublishReport>,
    on_failure: OnFailure,
) -> String {
    let id = &spec.token.id;
    let mut parts = Vec::new();
    let keep = on_failure == OnFailure::Keep;
    // Sinks that (may) name our token: restore what they held before, so none names a token
    // that is about to be deleted.
    for (i, s) in sinks.iter().enumerate() {
        let wrote = match report {
            Some(r) => r
                .results
                .get(i)
                .is_some_and(|x| matches!(&x.result, Ok(o) if o.holds_ours())),
            None => true,
        };
        if !wrote || keep {
            continue;
        }
        match s.rollback(rec).await {
            Ok(what) => parts.push(format!("{}: {what}", s.name())),
            Err(e) => parts.push(format!(
                "{}: could not be restored ({e}); it names deleted token {id}: publish a valid token there",
                s.name()
            )),
        }
    }
    let token_state = if keep {
        format!("bootstrap token {id} was kept (--keep-on-failure)")
    } else {
        match uid {
            None => format!("bootstrap token {id} was not created"),
            Some(uid) => match store.delete(id, uid, crate::cli::DryRun::None).await {
                Ok(Deleted::Yes) | Ok(Deleted::Gone) => {
                    format!("bootstrap token {id} was deleted again")
                }
                Ok(Deleted::Replaced) => format!(
                    "bootstrap token {id} was replaced by another object of the same name, left alone"
                ),
                Err(e) => format!(
                    "deleting bootstrap token {id} failed too ({e}): delete it with \
                     `kubectl jointoken prune {id}`"
                ),
            },
        }
    };
    let mut out = token_state;
    if parts.is_empty() && !keep {
        // True only here: no sink took our token, so each holds what it held before.
        out.push_str("; no sink was changed: the previously published token is unchanged");
    } else if !parts.is_empty() {
        out.push_str("; ");
        out.push_str(&parts.join("; "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::SinkResult;

    fn res(sink: &str, r: Result<Outcome>) -> SinkResult {
        SinkResult {
            sink: sink.into(),
            result: r,
        }
    }

    #[test]
    fn every_sink_holding_ours_is_published() {
        let rep = PublishReport {
            results: vec![
                res("file /x", Ok(Outcome::Written("/x".into()))),
                res("vault kv/a", Ok(Outcome::Unchanged("kv/a".into()))),
            ],
        };
        assert_eq!(verdict(&rep), Verdict::Published);
    }

    #[test]
    fn kept_newer_is_not_published() {
        let rep = PublishReport {
            results: vec![
                res("file /x", Ok(Outcome::Written("/x".into()))),
                res(
                    "vault kv/a",
                    Ok(Outcome::KeptNewer(
                        "kv/a holds token zzzzzz expiring never; pass --replace-newer".into(),
                    )),
                ),
            ],
        };
        assert_eq!(
            verdict(&rep),
            Verdict::NotPublished {
                failed: vec![
                    "vault kv/a: kv/a holds token zzzzzz expiring never; pass --replace-newer"
                        .into()
                ],
                holding: vec!["file /x".into()],
            }
        );
    }

    #[test]
    fn an_error_is_not_published_and_names_the_sink() {
        let rep = PublishReport {
            results: vec![res("vault kv/a", Err(Error::runtime("sealed")))],
        };
        let Verdict::NotPublished { failed, holding } = verdict(&rep) else {
            panic!("published")
        };
        assert_eq!(failed, ["vault kv/a: sealed"]);
        assert!(holding.is_empty());
    }

    #[test]
    fn no_sinks_is_trivially_published() {
        assert_eq!(verdict(&PublishReport::default()), Verdict::Published);
    }
}
