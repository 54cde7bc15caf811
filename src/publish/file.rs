//! The file sink and the text formats a record is written in: the join command alone, an
//! env file (shell `source` / systemd `EnvironmentFile=`), or JSON. Files are written through
//! [`crate::kubeconfig::write_secret_file`]: atomic, mode 0600 from creation.

use std::path::PathBuf;

use futures::future::BoxFuture;

use super::{JoinRecord, Outcome, Sink, field};
use crate::{Error, Result};

/// File formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// The worker join command (the control-plane one when --certificate-key was given).
    #[default]
    Join,
    /// KJT_JOIN_COMMAND='…' lines (shell source, systemd EnvironmentFile=).
    Env,
    /// The record as a JSON object of strings.
    Json,
}

/// The file sink's flags.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "File sink")]
pub struct FileArgs {
    /// File to write for the file sink (replaced atomically, mode 0600).
    #[arg(long = "file", value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Format of --file.
    #[arg(long, value_enum, default_value_t = FileFormat::Join)]
    pub file_format: FileFormat,
}

/// The env-style name of a record field: `KJT_` + upper case (`KJT_JOIN_COMMAND`).
pub fn env_name(field: &str) -> String {
    format!("KJT_{}", field.to_ascii_uppercase())
}

/// The fields that fit on one line (everything but the PEM bundle), for env formats.
pub fn single_line_fields(rec: &JoinRecord) -> Vec<(&'static str, String)> {
    rec.fields()
        .into_iter()
        .filter(|(k, _)| *k != field::CA_CERT)
        .collect()
}

/// Renders `rec` in `format`.
pub fn render(rec: &JoinRecord, format: FileFormat) -> Result<String> {
    Ok(match format {
        FileFormat::Join => {
            let cmd = rec
                .control_plane_join_command()
                .unwrap_or_else(|| rec.join_command());
            format!("{cmd}\n")
        }
        FileFormat::Env => single_line_fields(rec)
            .into_iter()
            // Values hold only [a-z0-9:., -]: single quotes need no escaping, and both shells
            // and systemd strip them.
            .map(|(k, v)| format!("{}='{}'\n", env_name(k), v))
            .collect(),
        FileFormat::Json => crate::output::to_json(&rec.to_json())?,
    })
}

/// The file sink.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    format: FileFormat,
}

impl FileSink {
    /// Checks the folder exists before anything is published.
    pub fn prepare(a: &FileArgs) -> Result<Self> {
        let path = a.file.clone().ok_or_else(|| {
            Error::usage("the file sink needs --file PATH: where to write the join record")
        })?;
        crate::kubeconfig::check_writable(&path, true)?;
        Ok(FileSink {
            path,
            format: a.file_format,
        })
    }
}

impl Sink for FileSink {
    fn name(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn publish<'a>(&'a self, rec: &'a JoinRecord) -> BoxFuture<'a, Result<Outcome>> {
        Box::pin(async move {
            let text = render(rec, self.format)?;
            crate::kubeconfig::write_secret_file(&self.path, text.as_bytes(), true)?;
            Ok(Outcome::Written(self.path.display().to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::record;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn formats() {
        let r = record(Some("2026-11-24T08:00:00Z"));
        assert_eq!(
            render(&r, FileFormat::Join).unwrap(),
            format!("{}\n", r.join_command())
        );
        let env = render(&r, FileFormat::Env).unwrap();
        let lines: Vec<&str> = env.lines().collect();
        assert_eq!(lines[0], format!("KJT_JOIN_COMMAND='{}'", r.join_command()));
        assert_eq!(lines[1], "KJT_TOKEN='abcdef.0123456789abcdef'");
        assert!(lines.contains(&"KJT_EXPIRATION='2026-11-24T08:00:00Z'"));
        assert!(
            !env.contains("BEGIN CERTIFICATE"),
            "no multi-line values in env files"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&r, FileFormat::Json).unwrap()).unwrap();
        assert_eq!(json, r.to_json());
        let mut cp = r.clone();
        cp.certificate_key = Some("ab".repeat(32));
        assert!(
            render(&cp, FileFormat::Join)
                .unwrap()
                .contains("--control-plane")
        );
    }

    #[tokio::test]
    async fn sink_writes_0600_atomically_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("join.env");
        let s = FileSink::prepare(&FileArgs {
            file: Some(p.clone()),
            file_format: FileFormat::Env,
        })
        .unwrap();
        let r = record(None);
        assert!(matches!(s.publish(&r).await.unwrap(), Outcome::Written(_)));
        assert!(
            s.publish(&r).await.is_ok(),
            "a second publish replaces the file"
        );
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = FileSink::prepare(&FileArgs {
            file: Some(dir.path().join("nope/x")),
            file_format: FileFormat::Json,
        });
        assert!(missing.is_err());
    }
}
