//! The file sink and the text formats a record is written in: the join command alone, an
//! env file (shell `source` / systemd `EnvironmentFile=`), or JSON. Files are written through
//! [`crate::kubeconfig::write_secret_file`]: atomic, mode 0600 from creation. The sink keeps
//! what the file held before (in memory) so that a rollback can put it back.

use std::path::PathBuf;
use std::sync::Mutex;

use futures::future::BoxFuture;

use super::{Outcome, Record, Sink};
use crate::{Error, Result};

/// File formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// The worker join command (the control-plane one when --certificate-key was given); for
    /// a service account, its kubeconfig or token (--publish-value).
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

/// The fields that fit on one line (everything but the PEM bundle or a kubeconfig), for env
/// formats.
pub fn single_line_fields(rec: &dyn Record) -> Vec<(&'static str, String)> {
    let multi = rec.multi_line_fields();
    rec.fields()
        .into_iter()
        .filter(|(k, _)| !multi.contains(k))
        .collect()
}

/// The record's fields as a JSON object of strings.
pub fn to_json(rec: &dyn Record) -> serde_json::Value {
    serde_json::Value::Object(
        rec.fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
            .collect(),
    )
}

/// Renders `rec` in `format`.
pub fn render(rec: &dyn Record, format: FileFormat) -> Result<String> {
    Ok(match format {
        FileFormat::Join => rec.primary_text(),
        FileFormat::Env => single_line_fields(rec)
            .into_iter()
            // Values hold no single quote (a service account's token and audiences are
            // checked for it), so they need no escaping, and both shells and systemd strip
            // the quotes.
            .map(|(k, v)| format!("{}='{}'\n", env_name(k), v))
            .collect(),
        FileFormat::Json => crate::output::to_json(&to_json(rec))?,
    })
}

/// The file sink.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    format: FileFormat,
    /// The missing parent folder to create (0700) before writing: only a folder directly
    /// under a runtime directory (`/run`, `$XDG_RUNTIME_DIR`), which is empty after a reboot.
    create_parent: Option<PathBuf>,
    /// Set by a publish that wrote: what to put back on rollback.
    undo: Mutex<Option<Undo>>,
}

/// What one publish replaced. Debug is redacted: both hold the record's secret.
struct Undo {
    /// The file's previous content; `None` when there was no file.
    before: Option<Vec<u8>>,
    /// What we wrote, to tell whether the file changed since.
    written: Vec<u8>,
}

impl std::fmt::Debug for Undo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Undo(<redacted>)")
    }
}

/// Reads a file; `None` when it does not exist.
fn read_opt(path: &std::path::Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            action: "cannot read",
            path: path.display().to_string(),
            source,
        }),
    }
}

impl FileSink {
    /// Checks the folder exists before anything is published.
    pub fn prepare(a: &FileArgs) -> Result<Self> {
        let path = a.file.clone().ok_or_else(|| {
            Error::usage("the file sink needs --file PATH: where to write the join record")
        })?;
        let roots = runtime_roots();
        let create_parent = missing_runtime_parent(&path, &roots)?;
        if create_parent.is_none() {
            crate::kubeconfig::check_writable(&path, true)?;
        }
        Ok(FileSink {
            path,
            format: a.file_format,
            create_parent,
            undo: Mutex::new(None),
        })
    }
}

/// The runtime directories a missing parent may be created under.
fn runtime_roots() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from("/run")];
    if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR").filter(|x| !x.is_empty()) {
        roots.push(PathBuf::from(x));
    }
    roots
}

/// `Some(parent)` when `path`'s folder is missing but sits directly in one of `roots` (it is
/// then created at publish time); an error naming the fix when it is missing elsewhere;
/// `None` when it exists.
fn missing_runtime_parent(path: &std::path::Path, roots: &[PathBuf]) -> Result<Option<PathBuf>> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(None);
    };
    if dir.is_dir() {
        return Ok(None);
    }
    let under_runtime = dir
        .parent()
        .is_some_and(|p| p.is_dir() && roots.iter().any(|r| r == p));
    if under_runtime {
        return Ok(Some(dir.to_path_buf()));
    }
    Err(Error::usage(format!(
        "cannot write {}: folder {} does not exist: create it first (mkdir -m 0700 {})",
        path.display(),
        dir.display(),
        dir.display()
    )))
}

impl Sink for FileSink {
    fn name(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn publish<'a>(&'a self, rec: &'a dyn Record) -> BoxFuture<'a, Result<Outcome>> {
        Box::pin(async move {
            let text = render(rec, self.format)?;
            if let Some(dir) = &self.create_parent
                && !dir.is_dir()
            {
                // 0700 from creation: the record inside holds the token.
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .mode(0o700)
                    .create(dir)
                    .map_err(|source| Error::Io {
                        action: "cannot create folder",
                        path: dir.display().to_string(),
                        source,
                    })?;
            }
            let before = read_opt(&self.path)?;
            crate::kubeconfig::write_secret_file(&self.path, text.as_bytes(), true)?;
            *self.undo.lock().unwrap_or_else(|e| e.into_inner()) = Some(Undo {
                before,
                written: text.into_bytes(),
            });
            Ok(Outcome::Written(self.path.display().to_string()))
        })
    }

    /// Only the json format holds the record's fields; the others cannot vouch for one.
    fn current(&self) -> BoxFuture<'_, Result<Option<std::collections::BTreeMap<String, String>>>> {
        Box::pin(async move {
            if self.format != FileFormat::Json {
                return Ok(None);
            }
            let Some(bytes) = read_opt(&self.path)? else {
                return Ok(None);
            };
            // Anything but a JSON object of strings is no record of ours: nothing vouched for.
            Ok(serde_json::from_slice(&bytes).ok())
        })
    }

    fn rollback<'a>(&'a self, _rec: &'a dyn Record) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let p = self.path.display();
            let Some(undo) = self.undo.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                return Ok(format!("{p} left as it is: this run wrote nothing there"));
            };
            if read_opt(&self.path)?.as_deref() != Some(&undo.written[..]) {
                return Ok(format!(
                    "{p} left as it is: it changed since this run wrote it"
                ));
            }
            match undo.before {
                Some(b) => {
                    crate::kubeconfig::write_secret_file(&self.path, &b, true)?;
                    Ok(format!("{p}: restored its previous content"))
                }
                None => {
                    std::fs::remove_file(&self.path).map_err(|source| Error::Io {
                        action: "cannot remove",
                        path: p.to_string(),
                        source,
                    })?;
                    Ok(format!("{p} removed: it did not exist before"))
                }
            }
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

    #[tokio::test]
    async fn rollback_restores_the_previous_content_or_removes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("join");
        let sink = || {
            FileSink::prepare(&FileArgs {
                file: Some(p.clone()),
                file_format: FileFormat::Join,
            })
            .unwrap()
        };
        let r = record(None);
        // Nothing written: nothing touched.
        std::fs::write(&p, "old\n").unwrap();
        let s = sink();
        assert_eq!(
            s.rollback(&r).await.unwrap(),
            format!(
                "{} left as it is: this run wrote nothing there",
                p.display()
            )
        );
        // Replaced content comes back, 0600, atomically (no stray temp file).
        s.publish(&r).await.unwrap();
        assert_eq!(
            s.rollback(&r).await.unwrap(),
            format!("{}: restored its previous content", p.display())
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old\n");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A file this run created is removed.
        std::fs::remove_file(&p).unwrap();
        let s = sink();
        s.publish(&r).await.unwrap();
        assert_eq!(
            s.rollback(&r).await.unwrap(),
            format!("{} removed: it did not exist before", p.display())
        );
        assert!(!p.exists());
        // A file changed by someone else since is left alone.
        let s = sink();
        s.publish(&r).await.unwrap();
        std::fs::write(&p, "theirs\n").unwrap();
        assert!(s.rollback(&r).await.unwrap().contains("changed since"));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "theirs\n");
    }

    #[tokio::test]
    async fn only_the_json_format_is_read_back_for_renewals() {
        use crate::publish::PublishValue;
        use crate::publish::sa::tests::sa_record;
        let dir = tempfile::tempdir().unwrap();
        let sink = |name: &str, f| {
            FileSink::prepare(&FileArgs {
                file: Some(dir.path().join(name)),
                file_format: f,
            })
            .unwrap()
        };
        let r = sa_record("2026-12-02T10:00:00Z", PublishValue::Kubeconfig);
        let json = sink("sa.json", FileFormat::Json);
        assert_eq!(json.current().await.unwrap(), None, "nothing there yet");
        json.publish(&r).await.unwrap();
        let back = json.current().await.unwrap().unwrap();
        assert_eq!(
            crate::publish::sa::SaRecord::from_fields(&back, "f").unwrap(),
            r
        );
        // The default format is the kubeconfig itself: written as is, never read back.
        let kc = sink("sa.kubeconfig", FileFormat::Join);
        kc.publish(&r).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sa.kubeconfig")).unwrap(),
            r.kubeconfig.clone().unwrap()
        );
        assert_eq!(kc.current().await.unwrap(), None);
        std::fs::write(dir.path().join("sa.json"), "not json").unwrap();
        assert_eq!(json.current().await.unwrap(), None);
    }

    #[test]
    fn a_missing_folder_is_created_only_under_a_runtime_dir() {
        let run = tempfile::tempdir().unwrap();
        let roots = vec![run.path().to_path_buf()];
        let p = run.path().join("kjt/join.env");
        assert_eq!(
            missing_runtime_parent(&p, &roots).unwrap(),
            Some(run.path().join("kjt"))
        );
        // Two levels missing, or not under a runtime dir: refused with the fix.
        let deep = run.path().join("a/b/join.env");
        let e = missing_runtime_parent(&deep, &roots)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mkdir -m 0700"), "{e}");
        let other = tempfile::tempdir().unwrap();
        let e = missing_runtime_parent(&other.path().join("x/join.env"), &roots)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert_eq!(
            missing_runtime_parent(&other.path().join("j"), &roots).unwrap(),
            None
        );
    }
}
