//! The typed report of a one-shot `approve`: one item per CSR with its outcome, its reason
//! and (for `--explain` and `-o json|yaml`) every check.

use serde_json::json;

use crate::Error;
use crate::approval::{Check, Csr, Evaluation, Kind};
use crate::output::{Report, cell};

/// What happened to one CSR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Approved.
    Approved,
    /// Would be approved (dry run, explain).
    WouldApprove,
    /// Denied (`--deny`).
    Denied,
    /// Would be denied.
    WouldDeny,
    /// Refused and left pending.
    Pending,
    /// Not ours to touch (another signer, already decided, gone).
    Skipped,
    /// Could not be decided or written.
    Failed,
}

impl Outcome {
    /// The report's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::WouldApprove => "would-approve",
            Outcome::Denied => "denied",
            Outcome::WouldDeny => "would-deny",
            Outcome::Pending => "pending",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// One CSR's line.
#[derive(Clone, Debug)]
pub struct Item {
    /// CSR name.
    pub name: String,
    /// spec.signerName.
    pub signer: String,
    /// spec.username.
    pub requester: String,
    /// Which of our kinds, when evaluated.
    pub kind: Option<Kind>,
    /// What happened.
    pub outcome: Outcome,
    /// Why: the failed rule and value, or a summary.
    pub reason: String,
    /// Every check (empty when not evaluated).
    pub checks: Vec<Check>,
}

impl Item {
    /// An item for `csr`, not yet decided.
    pub fn of(csr: &Csr) -> Self {
        Item {
            name: csr.name.clone(),
            signer: csr.signer.clone(),
            requester: csr.username.clone(),
            kind: None,
            outcome: Outcome::Skipped,
            reason: String::new(),
            checks: Vec::new(),
        }
    }

    /// A named CSR that does not exist.
    pub fn missing(name: String) -> Self {
        Item {
            name,
            signer: String::new(),
            requester: String::new(),
            kind: None,
            outcome: Outcome::Failed,
            reason: "no such certificatesigningrequest".into(),
            checks: Vec::new(),
        }
    }

    /// With the evaluation's kind and checks.
    pub fn evaluated(mut self, kind: Kind, ev: Evaluation) -> Self {
        self.kind = Some(kind);
        self.checks = ev.checks;
        self
    }

    /// With its outcome and reason.
    pub fn with(mut self, outcome: Outcome, reason: String) -> Self {
        self.outcome = outcome;
        self.reason = reason;
        self
    }
}

/// What a one-shot `approve` did.
#[derive(Debug)]
pub struct ApproveReport {
    /// One per CSR considered, by name.
    pub items: Vec<Item>,
    /// `--explain`: the table lists every check.
    pub explain: bool,
    /// Nothing was written.
    pub dry_run: bool,
    /// CSRs were named on the command line (each must end approved).
    pub named: bool,
}

impl ApproveReport {
    fn count(&self, o: Outcome) -> usize {
        self.items.iter().filter(|i| i.outcome == o).count()
    }

    /// Notes on stderr: why each refused CSR was left pending, then one summary line.
    pub fn summarize(&self) {
        for i in self.items.iter().filter(|i| i.outcome == Outcome::Pending) {
            // The reason quotes what the requester wrote: escape it before the terminal.
            crate::reporter::note(format!(
                "left pending: csr/{} ({}): {}",
                i.name,
                i.requester,
                cell(&i.reason, usize::MAX)
            ));
        }
        let (a, d) = if self.dry_run {
            ("would approve", "would deny")
        } else {
            ("approved", "denied")
        };
        crate::reporter::note(format!(
            "{a} {}, {d} {}, left pending {}, skipped {}, failed {}",
            self.count(Outcome::Approved) + self.count(Outcome::WouldApprove),
            self.count(Outcome::Denied) + self.count(Outcome::WouldDeny),
            self.count(Outcome::Pending),
            self.count(Outcome::Skipped),
            self.count(Outcome::Failed)
        ));
    }

    /// The error to exit with: any failure, or a named CSR that did not end approved.
    pub fn failure(&self) -> Option<Error> {
        let bad = |i: &&Item| {
            i.outcome == Outcome::Failed
                || (self.named && !matches!(i.outcome, Outcome::Approved | Outcome::WouldApprove))
        };
        let failed: Vec<&Item> = self.items.iter().filter(bad).collect();
        let first = failed.first()?;
        Some(Error::runtime(format!(
            "{} certificatesigningrequest(s) not approved, first {}: {}: {}",
            failed.len(),
            first.name,
            first.outcome.as_str(),
            cell(&first.reason, usize::MAX)
        )))
    }
}

fn short_signer(s: &str) -> &str {
    s.strip_prefix("kubernetes.io/").unwrap_or(s)
}

impl Report for ApproveReport {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        if self.explain {
            vec!["NAME", "CHECK", "RESULT", "DETAIL"]
        } else {
            vec!["NAME", "SIGNER", "REQUESTOR", "ACTION", "REASON"]
        }
    }

    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        if self.explain {
            let mut rows = Vec::new();
            for i in &self.items {
                if i.checks.is_empty() {
                    rows.push(vec![
                        i.name.clone(),
                        "-".into(),
                        i.outcome.as_str().into(),
                        i.reason.clone(),
                    ]);
                }
                for c in &i.checks {
                    rows.push(vec![
                        i.name.clone(),
                        c.rule.into(),
                        if c.passed { "pass" } else { "FAIL" }.into(),
                        c.detail.clone(),
                    ]);
                }
            }
            return rows;
        }
        self.items
            .iter()
            .map(|i| {
                vec![
                    i.name.clone(),
                    short_signer(&i.signer).to_string(),
                    i.requester.clone(),
                    i.outcome.as_str().into(),
                    i.reason.clone(),
                ]
            })
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| matches!(i.outcome, Outcome::Approved | Outcome::WouldApprove))
            .map(|i| format!("certificatesigningrequest.certificates.k8s.io/{}", i.name))
            .collect()
    }

    fn document(&self) -> serde_json::Value {
        let items: Vec<_> = self
            .items
            .iter()
            .map(|i| {
                let checks: Vec<_> = i
                    .checks
                    .iter()
                    .map(|c| json!({"rule": c.rule, "passed": c.passed, "detail": c.detail}))
                    .collect();
                json!({
                    "name": i.name,
                    "signer": i.signer,
                    "requester": i.requester,
                    "action": i.outcome.as_str(),
                    "reason": i.reason,
                    "checks": checks,
                })
            })
            .collect();
        json!({"dryRun": self.dry_run, "items": items})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::Kind;

    fn item(name: &str, o: Outcome) -> Item {
        Item {
            name: name.into(),
            signer: "kubernetes.io/kubelet-serving".into(),
            requester: "system:node:a".into(),
            kind: Some(Kind::Serving),
            outcome: o,
            reason: "r".into(),
            checks: vec![Check {
                rule: "node",
                passed: o == Outcome::Approved,
                detail: "d".into(),
            }],
        }
    }

    #[test]
    fn named_csrs_must_end_approved_unnamed_refusals_are_normal() {
        let r = ApproveReport {
            items: vec![item("a", Outcome::Approved), item("b", Outcome::Pending)],
            explain: false,
            dry_run: false,
            named: false,
        };
        assert!(r.failure().is_none());
        let r = ApproveReport { named: true, ..r };
        let e = r.failure().unwrap().to_string();
        assert!(e.contains("first b: pending"), "{e}");
        let r = ApproveReport {
            items: vec![item("c", Outcome::Failed)],
            explain: false,
            dry_run: false,
            named: false,
        };
        assert!(r.failure().is_some());
    }

    #[test]
    fn explain_lists_every_check_and_names_only_approvals() {
        let r = ApproveReport {
            items: vec![item("a", Outcome::Approved), item("b", Outcome::Pending)],
            explain: true,
            dry_run: true,
            named: false,
        };
        assert_eq!(r.headers(false), ["NAME", "CHECK", "RESULT", "DETAIL"]);
        let rows = r.rows(false);
        assert_eq!(rows[1], ["b", "node", "FAIL", "d"]);
        assert_eq!(
            r.names(),
            ["certificatesigningrequest.certificates.k8s.io/a"]
        );
        assert_eq!(r.document()["items"][1]["checks"][0]["passed"], false);
    }
}
