//! The links kubectl's completion lookup needs: `kubectl_complete-jointoken[-<verb>]` beside
//! every plugin binary kubectl may resolve, installed idempotently.

use super::*;

// ---------------------------------------------------------------------------------------------
// kubectl_complete-jointoken links

/// One link kubectl's completion lookup needs.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    /// `<dir>/kubectl_complete-jointoken[-verb]`.
    path: PathBuf,
    /// What it points at: a sibling's file name (so the link follows upgrades of that sibling),
    /// or an absolute path when the binary is not in the directory.
    target: PathBuf,
}

/// `completion kubectl [--install] [--dir DIR]`.
pub(super) fn kubectl_links(a: &Args) -> Result<String> {
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => default_link_dir()?,
    };
    let exe = std::env::current_exe()
        .map_err(|e| Error::runtime(format!("cannot find the running binary: {e}")))?;
    let search: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let links = plan_links(&dir, &exe, &search)?;
    let mut out = String::new();
    if !a.install {
        // The commands, so a package script or a cautious user can review and run them.
        for l in &links {
            out.push_str(&format!(
                "ln -sf {} {}\n",
                shell_quote(&l.target.to_string_lossy()),
                shell_quote(&l.path.to_string_lossy())
            ));
        }
        return Ok(out);
    }
    for l in &links {
        create_link(l)?;
        out.push_str(&format!("{}\n", l.path.display()));
    }
    Ok(out)
}

/// Where the links go when --dir is not given: krew's bin directory for a krew install (krew
/// runs the binary from its store, which changes on every upgrade), else the directory the
/// binary was started from, as found on PATH.
fn default_link_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::runtime(format!("cannot find the running binary: {e}")))?;
    let krew_root = std::env::var_os("KREW_ROOT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".krew")));
    if let Some(root) = krew_root {
        let store = root.join("store");
        let store = store.canonicalize().unwrap_or(store);
        if exe.starts_with(&store) {
            return Ok(root.join("bin"));
        }
    }
    // argv[0] is the path kubectl (or the shell) resolved on PATH: a symlinked install (e.g.
    // /usr/local/bin/kubectl-jointoken -> /opt/...) gets its links beside the symlink.
    let argv0 = std::env::args_os().next().map(PathBuf::from);
    if let Some(p) = argv0.filter(|p| p.components().count() > 1)
        && let Some(parent) = p.parent()
    {
        return Ok(parent.to_path_buf());
    }
    if let Some(name) = std::env::args_os().next()
        && let Some(path) = std::env::var_os("PATH")
    {
        for d in std::env::split_paths(&path) {
            if d.join(&name).is_file() {
                return Ok(d);
            }
        }
    }
    Ok(exe.parent().map(Path::to_path_buf).unwrap_or_default())
}

/// The verbs a `kubectl-jointoken-<verb>` binary may stand for.
pub(super) fn verbs() -> Vec<String> {
    crate::commands::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

/// One link per plugin binary kubectl may resolve (the dispatcher and each per-verb binary,
/// since kubectl completes `kubectl jointoken create …` through
/// `kubectl_complete-jointoken-create` when `kubectl-jointoken-create` is what it runs): a
/// relative link for a binary in `dir`, an absolute one for a binary found first on `search`
/// (PATH); when there is none at all, one link to `exe`.
fn plan_links(dir: &Path, exe: &Path, search: &[PathBuf]) -> Result<Vec<Link>> {
    let suffix = std::env::consts::EXE_SUFFIX;
    let mut names = vec![String::new()];
    names.extend(verbs().into_iter().map(|v| format!("-{v}")));
    let mut links = Vec::new();
    for n in &names {
        let target = format!("{BIN}{n}{suffix}");
        let path = dir.join(format!("{COMPLETE_BIN}{n}{suffix}"));
        if dir.join(&target).is_file() {
            links.push(Link {
                path,
                target: PathBuf::from(target),
            });
        } else if let Some(found) = search.iter().map(|d| d.join(&target)).find(|p| p.is_file()) {
            links.push(Link {
                path,
                target: found.canonicalize().unwrap_or(found),
            });
        }
    }
    if links.is_empty() {
        let exe = exe.canonicalize().unwrap_or_else(|_| exe.to_path_buf());
        links.push(Link {
            path: dir.join(format!("{COMPLETE_BIN}{suffix}")),
            target: exe,
        });
    }
    Ok(links)
}

/// Creates (or replaces) one link; a regular file in the way is left alone.
fn create_link(l: &Link) -> Result<()> {
    let io = |action: &'static str, e: std::io::Error| Error::Io {
        action,
        path: l.path.display().to_string(),
        source: e,
    };
    match std::fs::symlink_metadata(&l.path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::remove_file(&l.path).map_err(|e| io("cannot replace", e))?
        }
        Ok(_) => {
            return Err(Error::runtime(format!(
                "{} exists and is not a link: remove it, then run `completion kubectl --install` again",
                l.path.display()
            )));
        }
        Err(_) => {}
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(&l.target, &l.path).map_err(|e| io("cannot create", e))?;
    // Windows symlinks need a privilege most users lack; a copy works the same way.
    #[cfg(not(unix))]
    {
        let src = l
            .path
            .parent()
            .map(|d| d.join(&l.target))
            .unwrap_or_else(|| l.target.clone());
        std::fs::copy(&src, &l.path).map_err(|e| io("cannot create", e))?;
    }
    Ok(())
}

/// Single-quotes a word for POSIX shells.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:=@,".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_installed_siblings() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("kubectl-jointoken"), "").unwrap();
        std::fs::write(d.path().join("kubectl-jointoken-create"), "").unwrap();
        let links = plan_links(d.path(), Path::new("/nonexistent/kubectl-jointoken"), &[]).unwrap();
        assert_eq!(
            links,
            vec![
                Link {
                    path: d.path().join("kubectl_complete-jointoken"),
                    target: "kubectl-jointoken".into()
                },
                Link {
                    path: d.path().join("kubectl_complete-jointoken-create"),
                    target: "kubectl-jointoken-create".into()
                },
            ]
        );
        for l in &links {
            create_link(l).unwrap();
            // Idempotent: a second install replaces its own links.
            create_link(l).unwrap();
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/usr/bin/x"), "/usr/bin/x");
        assert_eq!(shell_quote("a b'c"), r"'a b'\''c'");
    }

    /// `--dir D` away from the binaries: every plugin binary kubectl would resolve on PATH gets
    /// its completion link in D, pointing at the binary's absolute path.
    #[test]
    fn links_in_another_dir_follow_the_binaries_on_path() {
        let bins = tempfile::tempdir().unwrap();
        let shadow = tempfile::tempdir().unwrap();
        let d = tempfile::tempdir().unwrap();
        for b in [
            "kubectl-jointoken",
            "kubectl-jointoken-list",
            "kubectl-jointoken-create",
        ] {
            std::fs::write(bins.path().join(b), "").unwrap();
        }
        // A later PATH entry never wins over an earlier one, as in kubectl's lookup.
        std::fs::write(shadow.path().join("kubectl-jointoken-list"), "").unwrap();
        let search = vec![bins.path().to_path_buf(), shadow.path().to_path_buf()];
        let links = plan_links(d.path(), Path::new("/nonexistent/x"), &search).unwrap();
        let names: Vec<String> = links
            .iter()
            .map(|l| l.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "kubectl_complete-jointoken",
                "kubectl_complete-jointoken-create",
                "kubectl_complete-jointoken-list"
            ]
        );
        let bins_c = bins.path().canonicalize().unwrap();
        assert!(
            links.iter().all(|l| l.target.starts_with(&bins_c)),
            "{links:?}"
        );
    }
}
