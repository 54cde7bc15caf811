//! `list`: every bootstrap token in kube-system, in kubeadm's columns, secrets masked.

use jiff::Timestamp;
use serde_json::json;

use crate::binding::Binding;
use crate::cli::{Format, GlobalArgs, OutputArgs};
use crate::cluster;
use crate::output::{self, Report};
use crate::store::TokenStore;
use crate::token::{self, Expiry, TokenRecord};
use crate::{Result, duration};

/// List bootstrap tokens in kube-system with kubeadm's columns. Secrets are masked unless
/// --show-secret; -o json|yaml prints kubeadm's output.kubeadm.k8s.io/v1alpha3 BootstrapToken
/// objects in a List.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show the full token (id.secret) instead of id.****************.
    #[arg(long)]
    pub show_secret: bool,
    /// Only tokens whose Secret matches this label selector (e.g. app=rotate).
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What `list` found.
#[derive(Debug)]
pub struct ListReport {
    /// The tokens, in API order.
    pub tokens: Vec<TokenRecord>,
    /// The clock the TTLs are computed with.
    pub now: Timestamp,
    /// Whether secrets are shown.
    pub show_secret: bool,
    /// Each token's node binding (same order as `tokens`; `None` = not bound).
    pub bindings: Vec<Option<Binding>>,
}

/// Runs `list`.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<ListReport> {
    g.require_token_namespace()?;
    let c = cluster::connect(g).await?;
    let stored = TokenStore::new(&c)
        .list_stored(a.selector.as_deref())
        .await?;
    let bindings = stored
        .iter()
        .map(|s| Binding::from_meta(&s.record.labels, &s.annotations))
        .collect();
    let tokens: Vec<TokenRecord> = stored.into_iter().map(|s| s.record).collect();
    crate::reporter::malformed_tokens(&tokens);
    if tokens.is_empty() && !matches!(a.output.output, Format::Json | Format::Yaml) {
        // kubectl's words for an empty result, on stderr: stdout stays empty for scripts.
        crate::reporter::note(format!(
            "No resources found in {} namespace.",
            token::NAMESPACE
        ));
    }
    Ok(ListReport {
        tokens,
        now: Timestamp::now(),
        show_secret: a.show_secret,
        bindings,
    })
}

fn or_none(v: &[String]) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v.join(",")
    }
}

impl ListReport {
    /// kubeadm's TTL and EXPIRES cells.
    fn ttl_expires(&self, t: &TokenRecord) -> (String, String) {
        match &t.expires {
            Expiry::Never => ("<forever>".into(), "<never>".into()),
            Expiry::At(e) => (
                duration::short_human(e.duration_since(self.now).as_secs()),
                token::format_expiration(*e),
            ),
            Expiry::Unparseable(raw) => ("<invalid>".into(), raw.clone()),
        }
    }
}

impl Report for ListReport {
    fn headers(&self, wide: bool) -> Vec<&'static str> {
        let mut h = vec![
            "TOKEN",
            "TTL",
            "EXPIRES",
            "USAGES",
            "DESCRIPTION",
            "EXTRA GROUPS",
        ];
        if wide {
            h.extend(["NODE", "JOINS", "CREATED", "WARNINGS"]);
        }
        h
    }

    fn rows(&self, wide: bool) -> Vec<Vec<String>> {
        self.tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (ttl, expires) = self.ttl_expires(t);
                let mut row = vec![
                    t.display_token(self.show_secret),
                    ttl,
                    expires,
                    or_none(&t.usages),
                    t.description
                        .as_deref()
                        .map(|d| output::cell(d, output::MAX_CELL))
                        .unwrap_or_else(|| "<none>".into()),
                    output::cell(&or_none(&t.groups), output::MAX_CELL * 2),
                ];
                if wide {
                    let b = self.bindings.get(i).and_then(Option::as_ref);
                    row.push(b.map_or_else(|| "<none>".into(), |b| b.node.clone()));
                    row.push(b.map_or_else(|| "<none>".into(), Binding::usage));
                    row.push(
                        t.created
                            .map(token::format_expiration)
                            .unwrap_or_else(|| "<unknown>".into()),
                    );
                    row.push(if t.problems.is_empty() {
                        "<none>".into()
                    } else {
                        t.problems.join("; ")
                    });
                }
                row
            })
            .collect()
    }

    /// Only valid tokens: `list -o name | xargs kubectl jointoken prune` must not meet a
    /// malformed Secret that prune (rightly) refuses as an id.
    fn names(&self) -> Vec<String> {
        self.tokens
            .iter()
            .filter(|t| t.problems.is_empty() && t.id.is_some())
            .map(|t| format!("secret/{}", t.name))
            .collect()
    }

    fn document(&self) -> serde_json::Value {
        let items: Vec<_> = self
            .tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // The one token shape (output::bootstrap_token), as create prints it.
                let mut o = output::bootstrap_token(
                    t.display_token(self.show_secret),
                    t.id.as_ref().map(|i| i.as_str()),
                    t.description.as_deref(),
                    match &t.expires {
                        Expiry::At(e) => Some(*e),
                        _ => None,
                    },
                    &t.usages,
                    &t.groups,
                );
                if !t.problems.is_empty() {
                    o["warnings"] = json!(t.problems);
                }
                // Ours, only on bound tokens (kubeadm's object has no such fields).
                if let Some(Some(b)) = self.bindings.get(i) {
                    o["node"] = json!(b.node);
                    o["joins"] = json!(b.joins);
                    o["maxJoins"] = json!(b.max);
                }
                o
            })
            .collect();
        json!({"apiVersion": "v1", "kind": "List", "items": items})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Format, OutputArgs};
    use crate::token::TokenSpec;
    use std::collections::BTreeMap;

    fn report() -> ListReport {
        let now: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        let spec = |tok: &str, exp: Option<&str>, desc: Option<&str>| {
            let mut s = TokenSpec {
                token: tok.parse().unwrap(),
                fresh: false,
                description: desc.map(String::from),
                expires: exp.map(|e| e.parse().unwrap()),
                usages: vec!["signing".into(), "authentication".into()],
                groups: vec![token::DEFAULT_GROUP.into()],
                labels: BTreeMap::new(),
            }
            .to_secret();
            s.metadata.creation_timestamp = None;
            TokenRecord::from_secret(&s)
        };
        ListReport {
            tokens: vec![
                spec(
                    "abcdef.0123456789abcdef",
                    Some("2026-11-24T07:59:00Z"),
                    Some("node join"),
                ),
                spec("zyxwvu.0123456789abcdef", None, None),
                spec(
                    "expire.0123456789abcdef",
                    Some("2026-11-23T07:00:00Z"),
                    None,
                ),
            ],
            now,
            show_secret: false,
            bindings: vec![
                Some(Binding {
                    node: "node-a".into(),
                    max: 2,
                    joins: 1,
                }),
                None,
                None,
            ],
        }
    }

    #[test]
    fn table_matches_kubeadm_columns_with_masking() {
        let out = crate::output::render(&report(), &OutputArgs::default()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("TOKEN"));
        assert!(lines[0].ends_with("EXTRA GROUPS"));
        let cells: Vec<&str> = lines[1]
            .split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            vec![
                "abcdef.****************",
                "23h",
                "2026-11-24T07:59:00Z",
                "authentication,signing",
                "node join",
                token::DEFAULT_GROUP
            ]
        );
        assert!(lines[2].contains("<forever>") && lines[2].contains("<never>"));
        assert!(lines[3].contains("<invalid>"));
        assert!(!out.contains("0123456789abcdef"));
    }

    #[test]
    fn json_is_a_list_of_kubeadm_objects() {
        let mut r = report();
        r.show_secret = true;
        let out = crate::output::render(
            &r,
            &OutputArgs {
                output: Format::Json,
                no_headers: false,
            },
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["kind"], "List");
        let first = &v["items"][0];
        assert_eq!(first["apiVersion"], "output.kubeadm.k8s.io/v1alpha3");
        assert_eq!(first["kind"], "BootstrapToken");
        assert_eq!(first["token"], "abcdef.0123456789abcdef");
        assert_eq!(first["usages"], json!(["authentication", "signing"]));
        assert!(v["items"][1].get("expires").is_none());
        assert_eq!(first["node"], "node-a");
        assert_eq!(
            (first["joins"].as_u64(), first["maxJoins"].as_u64()),
            (Some(1), Some(2))
        );
        assert!(v["items"][1].get("node").is_none());
    }

    #[test]
    fn wide_shows_the_binding() {
        let out = crate::output::render(
            &report(),
            &OutputArgs {
                output: Format::Wide,
                no_headers: false,
            },
        )
        .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].contains("NODE") && lines[0].contains("JOINS"),
            "{out}"
        );
        assert!(
            lines[1].contains("node-a") && lines[1].contains("1/2"),
            "{out}"
        );
    }

    #[test]
    fn names_and_yaml() {
        let r = report();
        let names = crate::output::render(
            &r,
            &OutputArgs {
                output: Format::Name,
                no_headers: false,
            },
        )
        .unwrap();
        assert_eq!(names.lines().next(), Some("secret/bootstrap-token-abcdef"));
        let yaml = crate::output::render(
            &r,
            &OutputArgs {
                output: Format::Yaml,
                no_headers: false,
            },
        )
        .unwrap();
        assert!(yaml.contains("kind: List"), "{yaml}");
        assert!(yaml.contains("apiVersion: output.kubeadm.k8s.io/v1alpha3"));
    }
}
