//! `publish`: publishes an existing bootstrap token's join record (by id, or the newest valid
//! token matching a description or selector) to Vault KV, files and Secrets, and prints it in
//! CI formats; each sink's result is reported on its own line.

use jiff::Timestamp;
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::cluster;
use crate::join::JoinInfo;
use crate::output::Report;
use crate::publish::{self, JoinRecord, PublishReport, SinkArgs, SinkKind, ci};
use crate::rollout;
use crate::store::TokenStore;
use crate::token::{TokenId, TokenRecord};
use crate::{Error, Result, join};

/// What `publish` prints on stdout.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PublishFormat {
    /// One line per sink: SINK, RESULT, DETAIL (no secret).
    #[default]
    Table,
    /// The per-sink results as JSON (no secret).
    Json,
    /// GitHub Actions: ::add-mask:: lines first, then outputs (to $GITHUB_OUTPUT when set).
    GithubActions,
    /// A GitLab artifacts:reports:dotenv file (KJT_JOIN_COMMAND=…).
    GitlabDotenv,
}

/// Publish an existing bootstrap token's join record to Vault KV (v1 or v2), a file, a
/// Kubernetes Secret, and/or a CI format on stdout.
///
/// The record's fields: join_command, token, token_id, expiration, api_server_endpoint,
/// ca_cert_hashes, ca_cert, and control_plane_join_command with --certificate-key (see
/// docs/VAULT.md). A token already published that expires later is kept unless
/// --replace-newer.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Token id to publish. Without it, -l SELECTOR or --description TEXT must narrow the choice,
    /// and the newest valid token among those is published (and named on stderr).
    pub id: Option<String>,
    /// Where to publish: vault, file, secret (comma-separated; several in one run).
    #[arg(long = "to", value_enum, value_delimiter = ',', value_name = "SINKS")]
    pub to: Vec<SinkKind>,
    /// Pick the newest valid token with exactly this description.
    #[arg(long)]
    pub description: Option<String>,
    /// Pick the newest valid token whose Secret matches this label selector.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Certificate key from `kubeadm init phase upload-certs --upload-certs`: adds
    /// control_plane_join_command.
    #[arg(long, value_name = "HEX")]
    pub certificate_key: Option<String>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = PublishFormat::Table)]
    pub format: PublishFormat,
    /// Join endpoint.
    #[command(flatten)]
    pub endpoint: crate::cli::EndpointArgs,
    /// Sink settings.
    #[command(flatten)]
    pub sinks: SinkArgs,
}

/// Picks the token to publish: `id` if given, else — only when the operator narrowed the
/// choice with a label selector or `--description` — the newest (latest created, then latest
/// expiry) valid, unexpired token among those. Never "the newest token in the cluster": that
/// could be a token made for something else (a kubelet kubeconfig, a CI scanner).
pub fn select<'a>(
    tokens: &'a [TokenRecord],
    id: Option<&TokenId>,
    description: Option<&str>,
    narrowed_by_selector: bool,
    now: Timestamp,
) -> Result<&'a TokenRecord> {
    let usable =
        |t: &TokenRecord| t.problems.is_empty() && t.token.is_some() && !t.expires.is_expired(now);
    if let Some(id) = id {
        let t = tokens
            .iter()
            .find(|t| t.id.as_ref() == Some(id))
            .ok_or_else(|| {
                Error::runtime(format!(
                    "bootstrap token {id} does not exist: list tokens with `kubectl jointoken list`"
                ))
            })?;
        if !usable(t) {
            return Err(Error::runtime(format!(
                "bootstrap token {id} is expired or invalid, so nodes could not join with it: \
                 create a fresh one (kubectl jointoken create --publish …)"
            )));
        }
        return Ok(t);
    }
    if description.is_none() && !narrowed_by_selector {
        return Err(Error::usage(
            "name the token to publish: `kubectl jointoken publish ID` (`kubectl jointoken list` \
             shows ids), or choose among tokens with -l SELECTOR or --description TEXT",
        ));
    }
    tokens
        .iter()
        .filter(|t| usable(t))
        .filter(|t| description.is_none_or(|d| t.description.as_deref() == Some(d)))
        .max_by_key(|t| {
            (
                t.created,
                match &t.expires {
                    crate::token::Expiry::At(e) => Some(*e),
                    _ => None,
                },
            )
        })
        .ok_or_else(|| {
            Error::runtime(
                "no valid bootstrap token matches: create one (kubectl jointoken create) or \
                 name it by id",
            )
        })
}

/// What `publish` did: the token it published and each sink's result.
#[derive(Debug)]
pub struct PublishOutcome {
    /// The token's id.
    pub token_id: String,
    /// Per-sink results.
    pub report: PublishReport,
    /// The CI format's exact text (`--format github-actions|gitlab-dotenv`), printed instead
    /// of the table.
    pub ci_text: Option<String>,
}

impl PublishOutcome {
    /// The output selection `--format` stands for.
    pub fn output_args(f: PublishFormat) -> crate::cli::OutputArgs {
        crate::cli::OutputArgs {
            output: if f == PublishFormat::Json {
                crate::cli::Format::Json
            } else {
                crate::cli::Format::Table
            },
            ..Default::default()
        }
    }

    /// The error when the token is not published everywhere (the one publish verdict: a
    /// sink that kept a newer token counts as not published).
    pub fn failure(&self) -> Option<Error> {
        match rollout::verdict(&self.report) {
            rollout::Verdict::Published => None,
            rollout::Verdict::NotPublished { failed, holding } => {
                let mut msg = format!(
                    "bootstrap token {} was not published: {}",
                    self.token_id,
                    failed.join("; ")
                );
                if !holding.is_empty() {
                    msg.push_str(&format!(" (published to {})", holding.join(", ")));
                }
                Some(Error::runtime(msg))
            }
        }
    }
}

impl Report for PublishOutcome {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        vec!["SINK", "RESULT", "DETAIL"]
    }

    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        self.report
            .results
            .iter()
            .map(|r| match &r.result {
                Ok(o) => vec![r.sink.clone(), o.word().to_string(), o.detail().to_string()],
                Err(e) => vec![r.sink.clone(), "failed".into(), e.to_string()],
            })
            .collect()
    }

    fn names(&self) -> Vec<String> {
        vec![format!(
            "secret/{}{}",
            crate::token::SECRET_PREFIX,
            self.token_id
        )]
    }

    fn document(&self) -> serde_json::Value {
        let results: Vec<_> = self
            .report
            .results
            .iter()
            .map(|r| match &r.result {
                Ok(o) => json!({"sink": r.sink, "result": o.word(), "detail": o.detail()}),
                Err(e) => json!({"sink": r.sink, "result": "failed", "error": e.to_string()}),
            })
            .collect();
        json!({"tokenId": self.token_id, "results": results})
    }
}

/// Runs `publish`; returns what goes to stdout.
pub async fn run(g: &GlobalArgs, a: &Args) -> Result<PublishOutcome> {
    g.require_token_namespace()?;
    let ci_format = matches!(
        a.format,
        PublishFormat::GithubActions | PublishFormat::GitlabDotenv
    );
    if a.to.is_empty() && !ci_format {
        return Err(Error::usage(
            "say where to publish: --to vault,file,secret and/or --format github-actions|gitlab-dotenv",
        ));
    }
    if let Some(k) = &a.certificate_key {
        join::validate_certificate_key(k).map_err(Error::usage)?;
    }
    let id =
        a.id.as_deref()
            .map(|s| TokenId::parse(s.split('.').next().unwrap_or(s)).map_err(Error::usage))
            .transpose()?;
    let c = cluster::connect(g).await?;
    let join = JoinInfo::for_cluster(
        &c,
        a.endpoint.endpoint.as_deref(),
        a.certificate_key.clone(),
    )
    .await?;
    // Sinks are checked (Vault login, mount lookup) before the token is read.
    let sinks = publish::build_sinks(&a.to, &a.sinks, g, &c.target.cluster_name).await?;
    let tokens = TokenStore::new(&c).list(a.selector.as_deref()).await?;
    let chosen = select(
        &tokens,
        id.as_ref(),
        a.description.as_deref(),
        a.selector.is_some(),
        Timestamp::now(),
    )?;
    if id.is_none() {
        crate::reporter::note(format!(
            "publishing {} (the newest valid token matching the selection)",
            chosen.display_token(false)
        ));
    }
    let token = chosen
        .token
        .clone()
        .expect("select returns only tokens with a secret");
    let expiration = match &chosen.expires {
        crate::token::Expiry::At(t) => Some(*t),
        _ => None,
    };
    tracing::info!(id = %token.id, "publishing bootstrap token");
    let rec = JoinRecord::new(token, expiration, &join, &c.target.ca_certs);
    let report = publish::publish_all(&sinks, &rec).await;
    let ci_text = match a.format {
        PublishFormat::Table | PublishFormat::Json => None,
        PublishFormat::GithubActions => {
            report.eprint();
            let out = std::env::var_os("GITHUB_OUTPUT").filter(|v| !v.is_empty());
            Some(ci::github_actions(
                &rec,
                out.as_deref().map(std::path::Path::new),
            )?)
        }
        PublishFormat::GitlabDotenv => {
            report.eprint();
            Some(ci::gitlab_dotenv(&rec))
        }
    };
    Ok(PublishOutcome {
        token_id: rec.token.id.to_string(),
        report,
        ci_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenSpec;
    use std::collections::BTreeMap;

    fn rec(tok: &str, created: &str, exp: Option<&str>, desc: Option<&str>) -> TokenRecord {
        let mut s = TokenSpec {
            token: tok.parse().unwrap(),
            fresh: false,
            description: desc.map(String::from),
            expires: exp.map(|e| e.parse().unwrap()),
            usages: vec!["signing".into(), "authentication".into()],
            groups: vec![],
            labels: BTreeMap::new(),
        }
        .to_secret();
        s.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            created.parse().unwrap(),
        ));
        TokenRecord::from_secret(&s)
    }

    #[test]
    fn newest_valid_token_is_selected() {
        let now: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        let ts = vec![
            rec(
                "aaaaaa.0123456789abcdef",
                "2026-11-20T00:00:00Z",
                Some("2026-11-25T00:00:00Z"),
                Some("rotate"),
            ),
            rec(
                "bbbbbb.0123456789abcdef",
                "2026-11-22T00:00:00Z",
                Some("2026-11-24T00:00:00Z"),
                Some("rotate"),
            ),
            rec(
                "cccccc.0123456789abcdef",
                "2026-11-23T07:00:00Z",
                Some("2026-11-23T07:30:00Z"),
                Some("rotate"),
            ),
            rec(
                "dddddd.0123456789abcdef",
                "2026-11-23T07:00:00Z",
                None,
                Some("other"),
            ),
        ];
        let id = |t: &TokenRecord| t.id.clone().unwrap().to_string();
        assert_eq!(
            id(select(&ts, None, Some("rotate"), false, now).unwrap()),
            "bbbbbb"
        );
        // Without an id or a narrowing flag nothing is guessed.
        let e = select(&ts, None, None, false, now).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("name the token to publish"), "{e}");
        // A label selector (applied by the LIST) narrows the choice.
        assert_eq!(id(select(&ts, None, None, true, now).unwrap()), "dddddd");
        let a = TokenId::parse("aaaaaa").unwrap();
        assert_eq!(
            id(select(&ts, Some(&a), None, false, now).unwrap()),
            "aaaaaa"
        );
        let c = TokenId::parse("cccccc").unwrap();
        assert!(
            select(&ts, Some(&c), None, false, now)
                .unwrap_err()
                .to_string()
                .contains("expired")
        );
        assert!(select(&ts, None, Some("nope"), false, now).is_err());
    }
}
