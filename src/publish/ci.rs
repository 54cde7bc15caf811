//! CI formats on stdout: GitHub Actions (mask first, then outputs) and a GitLab dotenv report.
//! Both hold the secret, so they are opt-in `--format` values of `publish` and of
//! `kubeconfig --service-account`. The GitLab report goes to stdout (the job redirects it);
//! the one file this module writes, `$GITHUB_OUTPUT`, is created 0600 when it does not exist
//! yet. A multi-line value (a service account's kubeconfig) is written to `$GITHUB_OUTPUT`
//! with GitHub's `name<<DELIMITER` form, the delimiter drawn from the CSPRNG so no value can
//! end it early; GitLab dotenv cannot hold one at all, which the caller refuses up front.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::Record;
use super::file::{env_name, single_line_fields};
use crate::{Error, Result};

/// GitHub Actions: `::add-mask::` for the token, its secret half and any certificate key come
/// before anything else, so no later line can reveal them in the job log. The outputs
/// (`join_command=…`, …) are appended to `$GITHUB_OUTPUT` when `github_output` is set (the
/// runner's mechanism), else printed after the masks.
pub fn github_actions(rec: &dyn Record, github_output: Option<&Path>) -> Result<String> {
    let mut out = String::new();
    for s in rec.secrets() {
        out.push_str(&format!("::add-mask::{s}\n"));
    }
    let mut outputs: String = single_line_fields(rec)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    let multi: Vec<(&str, String)> = rec
        .fields()
        .into_iter()
        .filter(|(k, _)| rec.multi_line_fields().contains(k) && *k != super::field::CA_CERT)
        .collect();
    if !multi.is_empty() {
        // A multi-line value on stdout would be a workflow command per line: only the
        // runner's file can carry it.
        let Some(_) = github_output else {
            return Err(Error::usage(
                "a multi-line output (the kubeconfig) needs $GITHUB_OUTPUT: run inside GitHub \
                 Actions, or pass --publish-value token",
            ));
        };
        for (k, v) in multi {
            let delim = delimiter(&v)?;
            let v = v.strip_suffix('\n').unwrap_or(&v);
            outputs.push_str(&format!("{k}<<{delim}\n{v}\n{delim}\n"));
        }
    }
    match github_output {
        // The mode applies only when the file is created: a runner-made file keeps its own.
        // Created 0600 from the start, never widened and narrowed later, so no other user
        // can open it in between.
        Some(p) => std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(p)
            .and_then(|mut f| f.write_all(outputs.as_bytes()))
            .map_err(|source| Error::Io {
                action: "cannot append outputs to $GITHUB_OUTPUT",
                path: p.display().to_string(),
                source,
            })?,
        None => out.push_str(&outputs),
    }
    Ok(out)
}

/// A heredoc delimiter for `$GITHUB_OUTPUT` that `value` does not contain.
fn delimiter(value: &str) -> Result<String> {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b)
        .map_err(|e| Error::runtime(format!("no randomness from the OS: {e}")))?;
    let d = format!(
        "ghadelimiter_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    );
    if value.contains(&d) {
        return Err(Error::runtime(
            "the value contains its own delimiter: run again",
        ));
    }
    Ok(d)
}

/// GitLab `artifacts:reports:dotenv`: `KJT_…=value` lines, unquoted (GitLab keeps quotes
/// literally), no blank lines and no multi-line values (both rejected by GitLab).
pub fn gitlab_dotenv(rec: &dyn Record) -> String {
    single_line_fields(rec)
        .into_iter()
        .map(|(k, v)| format!("{}={v}\n", env_name(k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::record;

    #[test]
    fn github_masks_come_before_anything_that_holds_the_secret() {
        let mut r = record(Some("2026-11-24T08:00:00Z"));
        r.certificate_key = Some("ab".repeat(32));
        let out = github_actions(&r, None).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "::add-mask::abcdef.0123456789abcdef");
        assert_eq!(lines[1], "::add-mask::0123456789abcdef");
        assert_eq!(lines[2], format!("::add-mask::{}", "ab".repeat(32)));
        let first_secret = lines
            .iter()
            .position(|l| !l.starts_with("::add-mask::") && l.contains("0123456789abcdef"))
            .unwrap();
        assert!(first_secret > 2);
        assert!(lines.contains(&"token_id=abcdef"));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("join_command=kubeadm join "))
        );
    }

    #[test]
    fn github_outputs_go_to_the_output_file_when_set() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        std::fs::write(&p, "earlier=1\n").unwrap();
        let out = github_actions(&record(None), Some(&p)).unwrap();
        assert_eq!(out.lines().count(), 2, "only masks on stdout: {out}");
        let file = std::fs::read_to_string(&p).unwrap();
        assert!(
            file.starts_with("earlier=1\njoin_command=kubeadm join"),
            "{file}"
        );
        assert!(file.contains("\nexpiration=\n"));
    }

    #[test]
    fn service_account_masks_first_and_kubeconfig_only_to_the_output_file() {
        use crate::publish::PublishValue;
        use crate::publish::sa::tests::sa_record;
        let r = sa_record("2026-12-02T10:00:00Z", PublishValue::Kubeconfig);
        let e = github_actions(&r, None).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        let out = github_actions(&r, Some(&p)).unwrap();
        assert_eq!(out, format!("::add-mask::{}\n", r.token));
        let file = std::fs::read_to_string(&p).unwrap();
        assert!(
            file.starts_with(
                "kind=service-account-token\nusername=system:serviceaccount:ci:scanner\n"
            ),
            "{file}"
        );
        let (_, rest) = file.split_once("kubeconfig<<ghadelimiter_").unwrap();
        let (delim, rest) = rest.split_once('\n').unwrap();
        let end = format!("\nghadelimiter_{delim}\n");
        let (kc, after) = rest.split_once(&end).unwrap();
        assert_eq!(format!("{kc}\n"), r.kubeconfig.clone().unwrap());
        assert_eq!(after, "");
        // The token value: one line, masked first.
        let t = sa_record("2026-12-02T10:00:00Z", PublishValue::Token);
        let out = github_actions(&t, None).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("::add-mask::{}", t.token));
        assert!(lines.contains(&format!("token={}", t.token).as_str()));
        let env = gitlab_dotenv(&t);
        assert!(
            env.contains("\nKJT_EXPIRATION=2026-12-02T10:00:00Z\n"),
            "{env}"
        );
        assert!(env.ends_with(&format!("KJT_TOKEN={}\n", t.token)), "{env}");
    }

    #[test]
    fn gitlab_dotenv_is_plain_single_lines() {
        let out = gitlab_dotenv(&record(Some("2026-11-24T08:00:00Z")));
        assert!(out.starts_with("KJT_JOIN_COMMAND=kubeadm join 10.0.0.1:6443 --token abcdef."));
        assert!(out.contains("\nKJT_TOKEN_ID=abcdef\n"));
        assert!(!out.contains('\'') && !out.contains("\n\n") && !out.contains("CERTIFICATE"));
        assert!(
            out.lines().count() < 10,
            "GitLab limits dotenv reports to few variables"
        );
    }

    #[test]
    fn github_output_is_created_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("github_output");
        github_actions(&record(None), Some(&p)).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        // An existing file keeps the runner's mode.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        github_actions(&record(None), Some(&p)).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "{mode:o}");
    }
}
