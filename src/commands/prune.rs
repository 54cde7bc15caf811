//! `prune`: deletes expired (or, when asked, old and superseded) bootstrap tokens, never one
//! that owns other objects unless forced, each with a UID precondition so a token re-created
//! under the same id in the meantime is left alone.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::cli::{DryRun, DryRunArgs, GlobalArgs, OutputArgs};
use crate::cluster;
use crate::output::Report;
use crate::prune::{self, Candidate, Policy, Verdict};
use crate::store::{Deleted, TokenStore};
use crate::token::{self, TokenRecord};
use crate::{Error, Result, duration};

/// Delete expired bootstrap tokens, and on request old or superseded ones.
///
/// Tokens that never expire are kept unless --include-never-expiring; tokens that own other
/// objects (e.g. kubeadm's "Proxy for managing TTL for the kubeadm-certs secret") are kept
/// unless --force. Every delete carries a UID precondition.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Prune exactly these tokens, by id (`abcdef`) or name (`bootstrap-token-abcdef`,
    /// `secret/bootstrap-token-abcdef` as `list -o name` prints), whether or not they have
    /// expired, like `kubeadm token delete`; tokens that own other objects still need --force.
    /// Every id must exist, or nothing is deleted.
    // Checked in `run`, not by clap: clap's error would echo the value, which may be a secret.
    #[arg(value_name = "TOKEN_ID")]
    pub ids: Vec<String>,
    /// Also prune valid tokens created longer ago than this Go duration (e.g. 48h).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse_go, allow_hyphen_values = true)]
    pub older_than: Option<Duration>,
    /// Keep the newest N of the matched tokens; with --keep every token in scope is matched.
    #[arg(long, value_name = "N", value_parser = crate::cli::parse_count, allow_hyphen_values = true)]
    pub keep: Option<usize>,
    /// Only tokens whose description starts with this prefix.
    #[arg(long, value_name = "PREFIX")]
    pub description_prefix: Option<String>,
    /// Only tokens whose Secret matches this label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Allow pruning tokens that never expire.
    #[arg(long)]
    pub include_never_expiring: bool,
    /// Also delete tokens that own other objects (they will be garbage-collected).
    #[arg(long)]
    pub force: bool,
    /// Prune tokens bound to a node whose joins are used up (what an approver that died
    /// between counting the last join and deleting the token leaves behind).
    #[arg(long, conflicts_with_all = ["ids", "older_than", "keep"])]
    pub consumed: bool,
    /// How many deletes run at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Dry run.
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A token id from the command line, in any of the forms `list` prints; never the secret.
fn parse_id_arg(raw: &str) -> Result<String> {
    let id = raw.strip_prefix("secret/").unwrap_or(raw);
    let id = id.strip_prefix("bootstrap-token-").unwrap_or(id);
    if id.contains('.') {
        return Err(Error::usage(
            "prune takes token ids (the 6 characters before the dot), not the whole token: \
             the secret would end up in your shell history",
        ));
    }
    token::TokenId::parse(id)
        .map(|t| t.as_str().to_string())
        .map_err(|e| Error::usage(format!("prune: {e}")))
}

/// The outcome for one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Deleted.
    Deleted,
    /// Would be deleted (dry run).
    WouldDelete,
    /// Kept on purpose.
    Kept,
    /// Gone before we got to it, or re-created (UID changed): left alone.
    Skipped,
    /// The delete failed.
    Failed,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Deleted => "deleted",
            Action::WouldDelete => "would-delete",
            Action::Kept => "kept",
            Action::Skipped => "skipped",
            Action::Failed => "failed",
        }
    }
}

/// One token's line in the report.
#[derive(Debug, Clone)]
pub struct Item {
    /// Secret name.
    pub name: String,
    /// The masked token or name.
    pub token: String,
    /// What happened.
    pub action: Action,
    /// Why.
    pub reason: String,
}

/// What `prune` did.
#[derive(Debug)]
pub struct PruneReport {
    /// Matched tokens and their outcome.
    pub items: Vec<Item>,
    /// Dry-run mode.
    pub dry_run: DryRun,
    /// Whether the tokens were named on the command line (then keeping one is a failure).
    pub named: bool,
}

impl PruneReport {
    fn count(&self, a: Action) -> usize {
        self.items.iter().filter(|i| i.action == a).count()
    }

    /// The summary line on stderr.
    pub fn summarize(&self) {
        let verb = if self.dry_run == DryRun::None {
            format!("pruned {}", self.count(Action::Deleted))
        } else {
            format!("would prune {}", self.count(Action::WouldDelete))
        };
        crate::reporter::note(format!(
            "{verb} bootstrap token(s); kept {}, skipped {}, failed {}",
            self.count(Action::Kept),
            self.count(Action::Skipped),
            self.count(Action::Failed)
        ));
    }

    /// An error when any delete failed.
    pub fn failure(&self) -> Option<Error> {
        // A token named on the command line that was kept (it owns other objects) is not what
        // the operator asked for: fail, and say how to override.
        let kept: Vec<&Item> = self
            .items
            .iter()
            .filter(|i| self.named && i.action == Action::Kept)
            .collect();
        if let Some(first) = kept.first() {
            return Some(Error::runtime(format!(
                "{} named token(s) kept, first {}: {}",
                kept.len(),
                first.name,
                first.reason
            )));
        }
        let failed: Vec<&Item> = self
            .items
            .iter()
            .filter(|i| i.action == Action::Failed)
            .collect();
        let first = failed.first()?;
        Some(Error::runtime(format!(
            "{} delete(s) failed, first {}: {}",
            failed.len(),
            first.name,
            first.reason
        )))
    }
}

/// Runs `prune`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<PruneReport> {
    g.require_token_namespace()?;
    a.dry_run
        .check_detached(&a.ids.iter().map(String::as_str).collect::<Vec<_>>())?;
    let ids = a
        .ids
        .iter()
        .map(|raw| parse_id_arg(raw))
        .collect::<Result<Vec<String>>>()?;
    let older_than = a
        .older_than
        .map(SignedDuration::try_from)
        .transpose()
        .map_err(|_| Error::usage("--older-than is too large"))?;
    let c = cluster::connect(g).await?;
    let store = TokenStore::new(&c);
    // Metadata-only lists for the owner scan; token data only for bootstrap-token Secrets.
    let owners = store.owners().await?;
    let stored = store.list_stored(a.selector.as_deref()).await?;
    // --consumed: the used-up bound tokens are the scope, as if named (whatever their expiry).
    let consumed: Option<std::collections::BTreeSet<String>> = a.consumed.then(|| {
        stored
            .iter()
            .filter(|s| {
                crate::binding::Binding::from_meta(&s.record.labels, &s.annotations)
                    .is_some_and(|b| b.consumed())
            })
            .filter_map(|s| s.record.id.as_ref().map(|i| i.as_str().to_string()))
            .collect()
    });
    let tokens: Vec<TokenRecord> = stored.into_iter().map(|s| s.record).collect();
    crate::reporter::malformed_tokens(&tokens);
    let cands: Vec<Candidate> = tokens
        .into_iter()
        .map(|record| {
            let dependents = record
                .uid
                .as_ref()
                .and_then(|u| owners.get(u).cloned())
                .unwrap_or_default();
            Candidate { record, dependents }
        })
        .collect();
    let policy = Policy {
        now: Timestamp::now(),
        older_than,
        keep: a.keep,
        description_prefix: a.description_prefix.clone(),
        include_never_expiring: a.include_never_expiring,
        force: a.force,
        ids: consumed
            .clone()
            .or_else(|| (!ids.is_empty()).then(|| ids.iter().cloned().collect())),
    };
    // Named tokens must all exist before anything is deleted: a typo deletes nothing.
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| {
            !cands.iter().any(|c| {
                c.record
                    .id
                    .as_ref()
                    .is_some_and(|t| t.as_str() == id.as_str())
            })
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::runtime(format!(
            "no bootstrap token {} in kube-system (nothing was deleted): `kubectl jointoken list` shows the ids",
            missing.join(", ")
        )));
    }
    let plan = prune::plan(&cands, &policy);
    let mode = a.dry_run.dry_run;
    let deletes: Vec<&prune::Decision> = plan
        .iter()
        .filter(|d| d.verdict == Verdict::Delete)
        .collect();
    // A progress bar only where someone watches a long run; indicatif draws on stderr.
    let bar = if mode == DryRun::Client {
        indicatif::ProgressBar::hidden()
    } else {
        crate::reporter::progress(deletes.len())
    };
    let results: HashMap<usize, (Action, String)> = futures::stream::iter(deletes)
        .map(|d| {
            let store = store.clone();
            let rec = &cands[d.index].record;
            let bar = bar.clone();
            async move {
                let outcome = delete_one(&store, rec, mode, &d.reason).await;
                bar.inc(1);
                (d.index, outcome)
            }
        })
        .buffer_unordered(a.concurrency as usize)
        .collect()
        .await;
    bar.finish_and_clear();
    let items = plan
        .iter()
        .map(|d| {
            let rec = &cands[d.index].record;
            let (action, mut reason) = match results.get(&d.index) {
                Some((a, r)) => (*a, r.clone()),
                None => (Action::Kept, d.reason.clone()),
            };
            if consumed.is_some() && reason == "named on the command line" {
                reason = "consumed: every allowed join was used".into();
            }
            Item {
                name: rec.name.clone(),
                token: rec.display_token(false),
                action,
                reason,
            }
        })
        .collect();
    Ok(PruneReport {
        items,
        dry_run: mode,
        named: !ids.is_empty(),
    })
}

async fn delete_one(
    store: &TokenStore,
    rec: &TokenRecord,
    mode: DryRun,
    reason: &str,
) -> (Action, String) {
    if mode == DryRun::Client {
        return (Action::WouldDelete, reason.to_string());
    }
    let Some(uid) = rec.uid.as_deref() else {
        return (
            Action::Failed,
            "the Secret has no UID to guard the delete".into(),
        );
    };
    match store.delete_named(&rec.name, uid, mode).await {
        Ok(Deleted::Yes) if mode == DryRun::Server => (Action::WouldDelete, reason.to_string()),
        Ok(Deleted::Yes) => (Action::Deleted, reason.to_string()),
        Ok(Deleted::Gone) => (Action::Skipped, "already gone".into()),
        Ok(Deleted::Replaced) => (
            Action::Skipped,
            "re-created since it was listed (UID changed); left alone".into(),
        ),
        Err(e) => (Action::Failed, crate::error::error_chain(&e)),
    }
}

impl Report for PruneReport {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        vec!["TOKEN", "ACTION", "REASON"]
    }

    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        self.items
            .iter()
            .map(|i| vec![i.token.clone(), i.action.as_str().into(), i.reason.clone()])
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| matches!(i.action, Action::Deleted | Action::WouldDelete))
            .map(|i| format!("secret/{}", i.name))
            .collect()
    }

    fn document(&self) -> serde_json::Value {
        let items: Vec<_> = self
            .items
            .iter()
            .map(|i| json!({"name": i.name, "token": i.token, "action": i.action.as_str(), "reason": i.reason}))
            .collect();
        json!({"dryRun": self.dry_run != DryRun::None, "items": items})
    }
}
