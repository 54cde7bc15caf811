//! `fetch`: the node side. Reads a published join record from Vault on a machine that is not
//! in the cluster yet (no kubeconfig needed), refuses an expired token, and prints the join
//! command, the record as JSON, or writes a bootstrap kubeconfig (0600).

use std::path::PathBuf;

use jiff::Timestamp;

use crate::cli::GlobalArgs;
use crate::kubeconfig::{self as kc, BOOTSTRAP_USER};
use crate::publish::{JoinRecord, vault};
use crate::{Error, Result, pki};

/// Where records are fetched from.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Source {
    /// Vault or OpenBao KV (v1 or v2).
    #[default]
    Vault,
    /// This EC2 instance's own tag, written by `deliver aws` (IMDSv2 tells the instance id and
    /// region); the tag is removed once the kubeconfig is written.
    AwsTag,
}

/// What `fetch` prints.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FetchFormat {
    /// The join command (the control-plane one with --control-plane).
    #[default]
    Join,
    /// The record as JSON.
    Json,
}

/// Fetch a published join command (or a bootstrap kubeconfig) from Vault on a node that is not
/// in the cluster yet. Log in with AppRole (--vault-auth approle), a TLS certificate
/// (--vault-auth cert) or a token; no kubeconfig is needed.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the record is published.
    #[arg(long, value_enum, default_value_t = Source::Vault)]
    pub from: Source,
    /// Vault connection, login and location.
    #[command(flatten)]
    pub vault: vault::VaultArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = FetchFormat::Join)]
    pub output: FetchFormat,
    /// Print the control-plane join command (published with --certificate-key).
    #[arg(long)]
    pub control_plane: bool,
    /// Write a bootstrap kubeconfig (kubelet --bootstrap-kubeconfig) here, mode 0600,
    /// instead of printing.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Replace --kubeconfig-out if it exists.
    #[arg(long)]
    pub force: bool,
    /// The instance tag to read with --from aws-tag.
    #[arg(long, value_name = "KEY", default_value = super::deliver::DEFAULT_TAG_KEY)]
    pub tag_key: String,
}

/// Refuses a record whose token has expired at `now`.
pub fn check_fresh(rec: &JoinRecord, now: Timestamp, place: &str) -> Result<()> {
    match rec.expiration {
        Some(e) if e <= now => Err(Error::runtime(format!(
            "the token published at {place} ({}) expired at {}: publish a fresh one on the \
             control plane (kubectl jointoken create --publish vault) and fetch again",
            rec.token.id,
            crate::token::format_expiration(e)
        ))),
        _ => Ok(()),
    }
}

/// The bootstrap kubeconfig for `rec`, after checking its CA bundle against its own pins.
pub fn bootstrap_kubeconfig(rec: &JoinRecord) -> Result<String> {
    if rec.ca_cert.is_empty() {
        return Err(Error::runtime(
            "the published record has no ca_cert, so no kubeconfig can be written: republish \
             it with this version of kubectl-jointoken",
        ));
    }
    let ders = pki::pem_bundle_to_der(rec.ca_cert.as_bytes())
        .map_err(|e| Error::runtime(format!("the published ca_cert is unusable: {e}")))?;
    let hashes = pki::ca_cert_hashes(&ders)
        .map_err(|e| Error::runtime(format!("the published ca_cert is unusable: {e}")))?;
    // The pins are what kubeadm trusts; a CA that does not match them is not the cluster's.
    if !hashes.iter().all(|h| rec.ca_cert_hashes.contains(h)) {
        return Err(Error::runtime(
            "the published ca_cert does not match the published ca_cert_hashes: republish the record",
        ));
    }
    let doc = kc::token_kubeconfig(
        "kubernetes",
        &format!("https://{}", rec.api_server_endpoint),
        &ders,
        BOOTSTRAP_USER,
        &rec.token.expose(),
        None,
    );
    crate::output::to_yaml(&doc)
}

/// Runs `fetch`; returns what goes to stdout.
pub async fn run(_g: &GlobalArgs, a: &Args) -> Result<String> {
    if let Some(p) = &a.kubeconfig_out {
        kc::check_writable(p, a.force)?;
    }
    if a.from == Source::AwsTag {
        return aws_tag(a).await;
    }
    let (v, loc) = vault::open(&a.vault).await?;
    let place = format!("vault {}", loc.display());
    let read = match v.read(&loc, None).await {
        Ok(r) => r,
        Err(e) => return Err(v.explain(e).await.into()),
    };
    let (fields, _) = read.ok_or_else(|| {
        Error::runtime(format!(
            "nothing is published at {place}: check --mount/--path, or publish first \
             (kubectl jointoken publish --to vault)"
        ))
    })?;
    // Every field is validated and the printed command is rebuilt from the validated parts:
    // a stored command string never reaches stdout (a node may pipe it into a shell).
    let rec = JoinRecord::from_fields(&fields, &place)?;
    check_fresh(&rec, Timestamp::now(), &place)?;
    if let Some(p) = &a.kubeconfig_out {
        let text = bootstrap_kubeconfig(&rec)?;
        kc::write_secret_file(p, text.as_bytes(), a.force)?;
        eprintln!(
            "wrote bootstrap kubeconfig {} (token {})",
            p.display(),
            rec.token.id
        );
        return Ok(String::new());
    }
    match a.output {
        FetchFormat::Json => crate::output::to_json(&rec.to_json()),
        FetchFormat::Join => {
            let cmd = if a.control_plane {
                rec.control_plane_join_command().ok_or_else(|| {
                    Error::runtime(format!(
                        "{place} has no control_plane_join_command: publish with --certificate-key"
                    ))
                })?
            } else {
                rec.join_command()
            };
            Ok(format!("{cmd}\n"))
        }
    }
}

/// Writes `rec` as asked (kubeconfig file or stdout).
#[cfg(feature = "aws")]
fn deliver_record(a: &Args, rec: &JoinRecord, place: &str) -> Result<String> {
    if let Some(p) = &a.kubeconfig_out {
        let text = bootstrap_kubeconfig(rec)?;
        kc::write_secret_file(p, text.as_bytes(), a.force)?;
        crate::reporter::note(format!(
            "wrote bootstrap kubeconfig {} (token {})",
            p.display(),
            rec.token.id
        ));
        return Ok(String::new());
    }
    match a.output {
        FetchFormat::Json => crate::output::to_json(&rec.to_json()),
        FetchFormat::Join if a.control_plane => Err(Error::usage(format!(
            "{place} carries no control-plane join command: drop --control-plane"
        ))),
        FetchFormat::Join => Ok(format!("{}\n", rec.join_command())),
    }
}

#[cfg(not(feature = "aws"))]
async fn aws_tag(_a: &Args) -> Result<String> {
    Err(Error::usage(
        "this build of kubectl-jointoken has no AWS support: install a release build, or build \
         with `cargo build --features aws`",
    ))
}

/// `--from aws-tag`: IMDSv2 identity, own tag, validated record, the CA from cluster-info
/// checked against the record's pins, the kubeconfig (or join command), then the tag removed.
#[cfg(feature = "aws")]
async fn aws_tag(a: &Args) -> Result<String> {
    let me = crate::aws::node::Me::discover().await?;
    let place = format!("tag {} of instance {}", a.tag_key, me.instance);
    let value = me.tag(&a.tag_key).await?.ok_or_else(|| {
        Error::runtime(format!(
            "instance {} ({}) has no tag {}: `deliver aws` has not served it yet, or it was \
             fetched already",
            me.instance, me.region, a.tag_key
        ))
    })?;
    let mut rec = crate::deliver::tag::parse(&value, &place)?;
    check_fresh(&rec, Timestamp::now(), &place)?;
    if a.kubeconfig_out.is_some() || a.output == FetchFormat::Json {
        // The CA itself does not fit a tag: read it from cluster-info, trusting only the pins.
        rec.ca_cert = pki::der_to_pem_bundle(&crate::discovery::pinned_ca(&rec).await?);
    }
    let out = deliver_record(a, &rec, &place)?;
    // Used: take it off the instance, so nothing else on it reads the token later.
    me.remove_tag(&a.tag_key, &value).await.map_err(|e| {
        Error::runtime(format!(
            "{e} (the token was read{}): allow ec2:DeleteTags on this instance",
            a.kubeconfig_out
                .as_ref()
                .map(|p| format!(" and {} written", p.display()))
                .unwrap_or_default()
        ))
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::record;

    #[test]
    fn expired_tokens_are_refused() {
        let now: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        let e =
            check_fresh(&record(Some("2026-11-23T07:59:59Z")), now, "vault secret/x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the token published at vault secret/x (abcdef) expired at 2026-11-23T07:59:59Z: \
             publish a fresh one on the control plane (kubectl jointoken create --publish vault) \
             and fetch again"
        );
        assert!(check_fresh(&record(Some("2026-11-23T08:00:01Z")), now, "x").is_ok());
        assert!(check_fresh(&record(None), now, "x").is_ok());
    }

    #[test]
    fn kubeconfig_checks_the_ca_against_the_pins() {
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ca1.pem"
        ))
        .unwrap();
        let pin = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/ca1.sha256"
        ))
        .unwrap();
        let mut r = record(None);
        r.ca_cert = pem;
        r.ca_cert_hashes = vec![format!("sha256:{}", pin.split_whitespace().next().unwrap())];
        let y = bootstrap_kubeconfig(&r).unwrap();
        assert!(y.contains("server: https://10.0.0.1:6443"), "{y}");
        assert!(y.contains("token: abcdef.0123456789abcdef"));
        r.ca_cert_hashes = vec!["sha256:00".into()];
        assert!(bootstrap_kubeconfig(&r).is_err());
        r.ca_cert.clear();
        assert!(bootstrap_kubeconfig(&r).is_err());
    }
}
