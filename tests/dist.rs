//! Distribution, proven with the real tools: the krew manifest passes krew's own validator
//! (validate-krew-manifest, what the krew-index CI runs) and installs with a real krew; the
//! binaries answer kubectl's plugin completion through a real kubectl (with a token id from
//! the live cluster); the Debian package builds with cargo-deb, passes lintian, and installs
//! with a real `dpkg --root` into a throwaway root with its rotation units disabled. Both
//! carry one multi-call binary, and the per-verb names run their verb through links, by name
//! and through kubectl. Its copyright file is what cargo-about derives from Cargo.lock. The
//! container image (scripts/dist-image) is reproducible, minimal, runs under `chroot` as its
//! non-root user and survives a round trip through a real registry (`crane registry serve`).
//!
//! Tools come from `scripts/build-dist-tools` (krew, validate-krew-manifest, crane), cargo-deb,
//! cargo-about and Debian's lintian/dpkg-dev (`scripts/install-test-deps` installs all of
//! them). A missing tool fails the test with the command that installs it; only
//! `KJT_SKIP_E2E=1` skips these tests, explicitly.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Harness, Out, harness, our_bin, unique};
use serde_json::Value;

/// The platforms krew/jointoken.yaml promises (issue 6).
const PLATFORMS: &[(&str, &str)] = &[
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];

const TIMER: &str = "kubectl-jointoken-rotate.timer";
const SERVICE: &str = "kubectl-jointoken-rotate.service";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn skipped() -> bool {
    if std::env::var("KJT_SKIP_E2E").as_deref() == Ok("1") {
        eprintln!("distribution test skipped: KJT_SKIP_E2E=1");
        return true;
    }
    false
}

/// Runs a prepared command; never panics on a non-zero exit (callers assert).
fn run(cmd: &mut Command) -> Out {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A tool from PATH (or ~/.cargo/bin for cargo subcommands), or a failure naming its install.
fn need(tool: &str, install: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo").into_os_string()))
    {
        dirs.push(Path::new(&home).join("bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{tool} is missing: {install} (scripts/install-test-deps installs it; KJT_SKIP_E2E=1 skips \
                 distribution tests explicitly)"
            )
        })
}

/// The bin dir of krew and validate-krew-manifest (built by scripts/build-dist-tools).
fn dist_tools() -> PathBuf {
    let out = run(Command::new(repo().join("scripts/build-dist-tools")).arg("--check"));
    assert_eq!(
        out.code, 0,
        "krew is not built: run scripts/build-dist-tools (scripts/install-test-deps does; KJT_SKIP_E2E=1 skips \
         distribution tests explicitly)\n{}",
        out.stderr
    );
    PathBuf::from(out.stdout.trim())
}

/// The binaries this package builds (src/bin/*.rs), which every distribution must carry.
fn binaries() -> BTreeSet<String> {
    std::fs::read_dir(repo().join("src/bin"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// PATH for a command: the given dirs, then the system's.
fn path_of(dirs: &[&Path]) -> String {
    let mut p: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    p.push("/usr/local/bin:/usr/bin:/bin".into());
    p.join(":")
}

/// PATH of exactly these dirs (no system dirs: nothing else there can shadow a plugin).
fn path_of_only(dirs: &[&Path]) -> String {
    let p: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    p.join(":")
}

/// Candidate values (first column) of a `kubectl __complete` answer; asserts cobra's trailer.
fn candidates(out: &Out) -> Vec<(String, String)> {
    let lines: Vec<&str> = out.stdout.lines().collect();
    let (last, body) = lines.split_last().expect("empty completion answer");
    assert!(
        last.starts_with(':'),
        "no directive line in {:?} (stderr: {})",
        out.stdout,
        out.stderr
    );
    body.iter()
        .map(|l| match l.split_once('\t') {
            Some((v, h)) => (v.to_string(), h.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

fn values(c: &[(String, String)]) -> Vec<&str> {
    c.iter().map(|(v, _)| v.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// krew

#[test]
fn krew_manifest_template_follows_krews_rules() {
    let path = repo().join("krew/jointoken.yaml");
    let m = yaml(&path);
    assert_eq!(
        m["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m["kind"], "Plugin");
    assert_eq!(m["metadata"]["name"], "jointoken", "= the file name");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(m["spec"]["version"], version.as_str(), "= Cargo.toml");
    let short = m["spec"]["shortDescription"].as_str().unwrap();
    assert!(!short.contains('\n') && short.len() <= 60, "{short:?}");
    for k in ["description", "caveats", "homepage"] {
        assert!(
            !m["spec"][k].as_str().unwrap_or_default().trim().is_empty(),
            "{k}"
        );
    }
    assert!(
        m["spec"]["caveats"]
            .as_str()
            .unwrap()
            .contains("completion kubectl --install")
    );
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    let mut seen = BTreeSet::new();
    for p in platforms {
        let labels = p["selector"]["matchLabels"].as_object().unwrap();
        assert_eq!(
            p["selector"].as_object().unwrap().len(),
            1,
            "matchLabels only"
        );
        let keys: BTreeSet<&str> = labels.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["arch", "os"]),
            "krew selects on os/arch only"
        );
        let (os, arch) = (
            labels["os"].as_str().unwrap(),
            labels["arch"].as_str().unwrap(),
        );
        seen.insert((os.to_string(), arch.to_string()));
        let uri = p["uri"].as_str().unwrap();
        assert!(
            uri.ends_with(&format!(
                "/{version}/kubectl-jointoken_{version}_{os}_{arch}.tar.gz"
            )),
            "{uri}: the archive scripts/dist-krew writes"
        );
        assert_eq!(p["sha256"], format!("@SHA256_{os}_{arch}@").as_str());
        let exe = if os == "windows" { ".exe" } else { "" };
        assert_eq!(p["bin"], format!("kubectl-jointoken{exe}").as_str());
        let froms: Vec<&str> = p["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["from"].as_str().unwrap())
            .collect();
        assert!(froms.contains(&"LICENSE"), "krew requires a license file");
    }
    let want: BTreeSet<(String, String)> = PLATFORMS
        .iter()
        .map(|(o, a)| (o.to_string(), a.to_string()))
        .collect();
    assert_eq!(seen, want);

    if skipped() {
        return;
    }
    // krew's own validator on all five platforms: placeholders become well-formed hashes (the
    // archives for other platforms are built elsewhere), installs are skipped (their URIs are
    // not published yet; the host platform's real install is the next test).
    let tools = dist_tools();
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (os, arch) in PLATFORMS {
        text = text.replace(&format!("@SHA256_{os}_{arch}@"), &"0".repeat(64));
    }
    let filled = dir.path().join("jointoken.yaml");
    std::fs::write(&filled, text).unwrap();
    let v = run(Command::new(tools.join("validate-krew-manifest"))
        .arg("-manifest")
        .arg(&filled)
        .arg("-skip-install"));
    let all = format!("{}{}", v.stdout, v.stderr);
    assert_eq!(v.code, 0, "{all}");
    for step in [
        "structural validation OK",
        "all spec.platform[] items are used",
        "no overlapping spec.platform[].selector",
    ] {
        assert!(all.contains(step), "{all}");
    }
}

/// Serves one file over HTTP on 127.0.0.1 (krew's validator downloads the manifest's uri).
fn serve(file: PathBuf) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let body = std::fs::read(&file).unwrap();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        }
    });
    format!("http://{addr}")
}

/// Whether `name` matches a krew `from` pattern (Go filepath.Match; `*` is all this uses).
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        Some((pre, post)) => {
            name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
        }
        None => pattern == name,
    }
}

/// Runs `--help` of every per-verb name (each a link in `dir` to the one binary) through
/// `help` and checks that each answers as its verb: the binary dispatches on its name.
fn assert_verbs_run_through_links(dir: &Path, help: impl Fn(&str) -> Out) {
    let verbs: Vec<String> = binaries()
        .into_iter()
        .filter(|b| b != "kubectl-jointoken")
        .collect();
    assert!(verbs.len() >= 6, "{verbs:?}");
    for b in verbs {
        let path = dir.join(&b);
        assert!(path.is_symlink(), "{} is not a link", path.display());
        let verb = b.strip_prefix("kubectl-jointoken-").unwrap();
        let out = help(&b).ok();
        assert!(
            out.stdout
                .contains(&format!("Usage: kubectl jointoken {verb} ")),
            "{b} --help:\n{}",
            out.stdout
        );
    }
}

#[test]
fn krew_archive_validates_installs_and_completes_through_kubectl() {
    let Some(h) = harness() else { return };
    let tools = dist_tools();
    let out = tempfile::tempdir().unwrap();
    // The host platform's archive from the debug build (stripped): what a release ships,
    // minus a release build's minutes.
    let bin_dir = our_bin("kubectl-jointoken").parent().unwrap().to_path_buf();
    let d = run(Command::new(repo().join("scripts/dist-krew"))
        .arg("--out")
        .arg(out.path())
        .arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--strip"))
    .ok();
    let mut lines = d.stdout.lines();
    let archive = PathBuf::from(lines.next().unwrap());
    let manifest = PathBuf::from(lines.next().unwrap());

    // (b) the archive holds what the manifest's bin and files name, and every binary.
    let listing = run(Command::new("tar").arg("tzf").arg(&archive)).ok();
    let entries: BTreeSet<String> = listing
        .stdout
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let m = yaml(&manifest);
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 1, "only the host's archive exists: {m}");
    let p = &platforms[0];
    assert_eq!(p["selector"]["matchLabels"]["os"], std::env::consts::OS);
    let sha = p["sha256"].as_str().unwrap();
    let real = run(Command::new("sha256sum").arg(&archive)).ok().stdout;
    assert!(real.starts_with(sha), "manifest {sha} vs {real}");
    let mut placed = BTreeSet::new();
    for f in p["files"].as_array().unwrap() {
        let from = f["from"].as_str().unwrap();
        let hits: Vec<&String> = entries.iter().filter(|e| glob(from, e)).collect();
        assert!(
            !hits.is_empty(),
            "files.from {from} matches nothing in {entries:?}"
        );
        assert_eq!(f["to"], ".");
        placed.extend(hits.into_iter().cloned());
    }
    assert!(placed.contains(p["bin"].as_str().unwrap()), "{placed:?}");
    assert!(placed.contains("LICENSE"));
    // One multi-call binary and its licence, nothing else (issue 15: it used to carry seven
    // identical binaries of which krew linked one).
    let files: BTreeSet<&str> = entries
        .iter()
        .map(String::as_str)
        .filter(|e| *e != ".")
        .collect();
    assert_eq!(
        files,
        BTreeSet::from(["kubectl-jointoken", "LICENSE"]),
        "{listing:?}"
    );
    eprintln!(
        "krew archive (debug build, stripped): {} bytes",
        std::fs::metadata(&archive).unwrap().len()
    );

    // (a) krew's validator, installs included: the archive is served on loopback.
    let base = serve(archive.clone());
    let served = out.path().join("validate").join("jointoken.yaml");
    std::fs::create_dir_all(served.parent().unwrap()).unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap();
    let uri = p["uri"].as_str().unwrap();
    std::fs::write(
        &served,
        text.replace(uri, &format!("{base}/archive.tar.gz")),
    )
    .unwrap();
    // It runs `kubectl krew install`: the real kubectl finds krew as a plugin.
    let krew_plugin = out.path().join("krew-plugin");
    std::fs::create_dir_all(&krew_plugin).unwrap();
    std::os::unix::fs::symlink(tools.join("krew"), krew_plugin.join("kubectl-krew")).unwrap();
    let v = run(Command::new(tools.join("validate-krew-manifest"))
        .arg("-manifest")
        .arg(&served)
        .env("PATH", path_of(&[&krew_plugin, &h.bin]))
        .env("KREW_NO_UPGRADE_CHECK", "1"));
    let all = format!("{}{}", v.stdout, v.stderr);
    assert_eq!(v.code, 0, "{all}");
    assert!(all.contains("all 1 spec.platforms installed fine"), "{all}");

    // (c) a real krew install from the archive, as the krew caveats tell users.
    let root = out.path().join("krew-root");
    let home = out.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let krew_env = |c: &mut Command| {
        c.env_clear()
            .env("HOME", &home)
            .env("KREW_ROOT", &root)
            .env("KREW_NO_UPGRADE_CHECK", "1")
            .env("KUBECONFIG", &h.kubeconfig)
            .env("PATH", path_of(&[&root.join("bin"), &h.bin]));
    };
    let mut c = Command::new(tools.join("krew"));
    krew_env(&mut c);
    let i = run(c
        .arg("install")
        .arg(format!("--manifest={}", manifest.display()))
        .arg(format!("--archive={}", archive.display())));
    assert_eq!(i.code, 0, "{}{}", i.stdout, i.stderr);
    assert!(
        i.stderr.contains("Installed plugin: jointoken"),
        "{}",
        i.stderr
    );
    let kubectl = |args: &[&str]| {
        let mut c = Command::new(h.bin.join("kubectl"));
        krew_env(&mut c);
        run(c.args(args))
    };
    let list = kubectl(&["plugin", "list"]).ok();
    assert!(
        list.stdout
            .contains(&root.join("bin/kubectl-jointoken").display().to_string()),
        "{}",
        list.stdout
    );
    assert!(!list.stderr.contains("warning"), "{}", list.stderr);
    let help = kubectl(&["jointoken", "--help"]).ok();
    assert!(
        help.stdout.contains("Usage: kubectl jointoken"),
        "{}",
        help.stdout
    );
    // Only the dispatcher is linked into krew's bin: `create` resolves through it.
    let help = kubectl(&["jointoken", "create", "--help"]).ok();
    assert!(
        help.stdout.contains("Usage: kubectl jointoken create"),
        "{}",
        help.stdout
    );
    // krew's store holds the one binary and the licence.
    let store = root
        .join("store/jointoken")
        .join(m["spec"]["version"].as_str().unwrap());
    let stored: BTreeSet<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        stored,
        BTreeSet::from(["LICENSE".to_string(), "kubectl-jointoken".to_string()])
    );
    eprintln!(
        "krew install (debug build, stripped): {} bytes",
        std::fs::metadata(store.join("kubectl-jointoken"))
            .unwrap()
            .len()
    );
    // Per-verb names are links to krew's link (docs/INSTALL.md): each runs its verb, by
    // name and through kubectl, and kubectl's plugin lookup has nothing to warn about.
    let links = out.path().join("links");
    std::fs::create_dir_all(&links).unwrap();
    for b in binaries().iter().filter(|b| *b != "kubectl-jointoken") {
        std::os::unix::fs::symlink(root.join("bin/kubectl-jointoken"), links.join(b)).unwrap();
    }
    let linked = |program: &Path, args: &[&str]| {
        let mut c = Command::new(program);
        krew_env(&mut c);
        c.env("PATH", path_of(&[&root.join("bin"), &links, &h.bin]));
        run(c.args(args))
    };
    assert_verbs_run_through_links(&links, |b| linked(&links.join(b), &["--help"]));
    let help = linked(&h.bin.join("kubectl"), &["jointoken", "list", "--help"]).ok();
    assert!(
        help.stdout.contains("Usage: kubectl jointoken list"),
        "{}",
        help.stdout
    );
    let list = linked(&h.bin.join("kubectl"), &["plugin", "list"]).ok();
    assert!(
        list.stdout
            .contains(&links.join("kubectl-jointoken-list").display().to_string()),
        "{}",
        list.stdout
    );
    assert!(!list.stderr.contains("warning"), "{}", list.stderr);
    std::fs::remove_dir_all(&links).unwrap();

    // `completion kubectl --install` puts the completion link into $KREW_ROOT/bin (not the
    // versioned store dir krew replaces on upgrade), pointing at krew's own link.
    let inst = kubectl(&["jointoken", "completion", "kubectl", "--install"]).ok();
    let link = root.join("bin/kubectl_complete-jointoken");
    assert_eq!(inst.stdout.trim(), link.display().to_string());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("kubectl-jointoken")
    );
    let list = kubectl(&["plugin", "list"]).ok();
    assert!(!list.stderr.contains("warning"), "{}", list.stderr);

    // kubectl now completes through it: with only the dispatcher on PATH every verb comes
    // from us, with its description.
    let top = candidates(&kubectl(&["__complete", "jointoken", ""]).ok());
    for (verb, help) in [
        (
            "create",
            "Create a bootstrap token and print its join command",
        ),
        (
            "prune",
            "Delete expired or superseded bootstrap tokens, safely",
        ),
        ("completion", "Print shell completion scripts"),
    ] {
        assert!(
            top.iter().any(|(v, h)| v == verb && h.starts_with(help)),
            "{verb}: {top:?}"
        );
    }
    let id = live_token(&h);
    let ids = candidates(&kubectl(&["__complete", "jointoken", "publish", ""]).ok());
    assert!(values(&ids).contains(&id.as_str()), "{id} not in {ids:?}");
}

/// Creates a token in the live cluster and returns its id.
fn live_token(h: &Harness) -> String {
    let desc = unique("dist-completion-");
    let r = h
        .ours(&[
            "create",
            "-o",
            "json",
            "--ttl",
            "10m",
            "--description",
            &desc,
        ])
        .ok();
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["id"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// kubectl plugin completion, every binary installed (cargo install, the .deb)

#[test]
fn kubectl_completes_every_installed_binary() {
    let Some(h) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    for b in binaries() {
        std::os::unix::fs::symlink(our_bin(&b), dir.path().join(&b)).unwrap();
    }
    let run_in = |program: &Path, args: &[&str]| {
        h.run(
            program,
            args,
            &[("PATH", &path_of(&[&h.bin, dir.path()])), ("KREW_ROOT", "")],
        )
    };
    // Without --install it prints what it would do; with it, a link per binary, beside them.
    let dry = run_in(
        &dir.path().join("kubectl-jointoken"),
        &["completion", "kubectl"],
    )
    .ok();
    assert!(dry.stdout.contains("ln -sf kubectl-jointoken-create "));
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("kubectl_complete")
    }));
    run_in(
        &dir.path().join("kubectl-jointoken"),
        &["completion", "kubectl", "--install"],
    )
    .ok();
    for b in binaries() {
        let link = dir.path().join(b.replace("kubectl-", "kubectl_complete-"));
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new(&b));
    }
    let kubectl = |args: &[&str]| {
        let mut all = vec!["__complete", "jointoken"];
        all.extend_from_slice(args);
        candidates(&run_in(&h.bin.join("kubectl"), &all).ok())
    };

    // Each verb exactly once: kubectl lists the per-verb plugins, we add the rest.
    let top = kubectl(&[""]);
    let verbs = values(&top);
    for v in [
        "create",
        "list",
        "prune",
        "kubeconfig",
        "publish",
        "fetch",
        "completion",
        "schedule",
    ] {
        assert_eq!(verbs.iter().filter(|x| **x == v).count(), 1, "{v}: {top:?}");
    }
    assert!(!verbs.contains(&"generate-docs"), "hidden: {top:?}");

    // Output formats, in every spelling, through kubectl_complete-jointoken-list.
    let o = kubectl(&["list", "-o", ""]);
    for f in ["table", "wide", "json", "yaml", "name"] {
        assert!(values(&o).contains(&f), "{o:?}");
    }
    assert_eq!(
        values(&kubectl(&["list", "--output=j"])),
        ["--output=json", "--output=jsonpath="]
    );
    assert_eq!(values(&kubectl(&["create", "-oy"])), ["-oyaml"]);
    // Dry-run values with their meaning.
    let dry = kubectl(&["create", "--dry-run="]);
    assert_eq!(
        values(&dry),
        ["--dry-run=none", "--dry-run=client", "--dry-run=server"]
    );
    assert!(dry.iter().all(|(_, h)| !h.is_empty()), "{dry:?}");
    assert_eq!(
        values(&kubectl(&["prune", "--dry-run=s"])),
        ["--dry-run=server"]
    );
    // Flags of the verb, with help.
    let flags = kubectl(&["prune", "--"]);
    assert!(
        flags
            .iter()
            .any(|(v, h)| v == "--older-than" && !h.is_empty()),
        "{flags:?}"
    );

    // A real token id from the live cluster, with its description, for the id argument;
    // through the dispatcher too (`kubectl jointoken publish` runs kubectl-jointoken-publish).
    let id = live_token(&h);
    for words in [
        &["publish", ""][..],
        &["publish", &id[..3]][..],
        &["prune", ""][..],
        &["prune", &id[..3]][..],
    ] {
        let c = kubectl(words);
        let hit = c.iter().find(|(v, _)| *v == id);
        let (_, help) = hit.unwrap_or_else(|| panic!("{id} not offered for {words:?}: {c:?}"));
        assert!(help.contains("dist-completion-"), "{help}");
    }
    let direct = run_in(
        &dir.path().join("kubectl_complete-jointoken"),
        &["publish", ""],
    )
    .ok();
    assert!(
        direct.stdout.contains(&format!("{id}\t")),
        "{}",
        direct.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Debian package

#[test]
fn packaged_units_match_schedule_render() {
    let out = run(Command::new(repo().join("scripts/dist-deb"))
        .arg("--check-units")
        .env("KJT_BIN", our_bin("kubectl-jointoken")));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn debian_copyright_lists_every_linked_crate_and_matches_cargo_about() {
    if skipped() {
        return;
    }
    need(
        "cargo-about",
        "cargo install --locked cargo-about --version 0.9.3 --features cli",
    );
    // Regenerated by cargo-about from Cargo.lock: no drift, and no crate under a licence
    // packaging/debian/about.toml does not accept.
    let check = run(Command::new(repo().join("scripts/dist-deb")).arg("--check-copyright"));
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);

    // Independently: cargo's own view of what the Linux binary links (normal dependencies, no
    // build or dev ones) is exactly the crates listed, each with a licence paragraph.
    let tree = run(Command::new("cargo")
        .current_dir(repo())
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--features",
            "aws",
            "--prefix",
            "none",
        ])
        .args(["--target", "x86_64-unknown-linux-gnu"])
        .args(["--target", "aarch64-unknown-linux-gnu"])
        .args(["-f", "{p}"]))
    .ok();
    let linked: BTreeSet<String> = tree
        .stdout
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some(format!("{}-{}", w.next()?, w.next()?.strip_prefix('v')?))
        })
        .filter(|c| *c != format!("kubectl-jointoken-{}", env!("CARGO_PKG_VERSION")))
        .collect();
    assert!(linked.len() > 100, "{}", tree.stdout);
    let text = std::fs::read_to_string(repo().join("packaging/debian/copyright")).unwrap();
    let paragraphs: Vec<&str> = text.split("\n\n").collect();
    let listed: BTreeSet<String> = paragraphs
        .iter()
        .filter_map(|p| p.strip_prefix("Files: crates.io/"))
        .map(|p| p.split_once("/*").unwrap().0.to_string())
        .collect();
    assert_eq!(listed, linked, "copyright vs cargo tree");
    let defined: BTreeSet<&str> = paragraphs
        .iter()
        .filter_map(|p| p.strip_prefix("License: "))
        .map(|p| p.lines().next().unwrap())
        .collect();
    for p in paragraphs.iter().filter(|p| p.starts_with("Files: ")) {
        let licence = p
            .lines()
            .find_map(|l| l.strip_prefix("License: "))
            .unwrap_or_else(|| panic!("no License in {p}"));
        for id in licence.split(" and ") {
            assert!(defined.contains(id), "{id} has no License paragraph ({p})");
        }
    }
    // Spot checks against what the crates declare.
    for (krate, licence) in [("ring-", "Apache-2.0 and ISC"), ("tokio-1", "MIT")] {
        let p = paragraphs
            .iter()
            .find(|p| p.starts_with(&format!("Files: crates.io/{krate}")))
            .unwrap_or_else(|| panic!("{krate} not listed"));
        assert!(p.contains(&format!("\nLicense: {licence}\n")), "{p}");
    }
}

#[test]
fn release_placeholders_are_all_listed_in_release_md() {
    // example.invalid stands for the project's future public home; packaging/RELEASE.md must
    // name every release file that carries it, so the first release replaces them all.
    let notes = std::fs::read_to_string(repo().join("packaging/RELEASE.md")).unwrap();
    let files = run(Command::new("git")
        .current_dir(repo())
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .args(["Cargo.toml", "krew", "packaging", "scripts"]))
    .ok();
    let mut carriers = Vec::new();
    for f in files
        .stdout
        .lines()
        .filter(|f| *f != "packaging/RELEASE.md")
    {
        let text = std::fs::read(repo().join(f)).unwrap_or_default();
        if String::from_utf8_lossy(&text).contains("example.invalid") {
            carriers.push(f);
            assert!(
                notes.contains(&format!("`{f}`")),
                "{f} mentions example.invalid but packaging/RELEASE.md does not list it"
            );
        }
    }
    assert!(
        carriers.contains(&"krew/jointoken.yaml"),
        "{carriers:?}: update this test and RELEASE.md once the placeholders are gone"
    );
}

/// Every file the package must ship, relative to /.
fn expected_deb_paths() -> BTreeSet<String> {
    let mut want = BTreeSet::new();
    for b in binaries() {
        want.insert(format!("usr/bin/{b}"));
        let link = b.replace("kubectl-", "kubectl_complete-");
        want.insert(format!("usr/bin/{link}"));
        want.insert(format!("usr/share/man/man1/{link}.1.gz"));
    }
    for e in std::fs::read_dir(repo().join("docs/man")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        want.insert(format!("usr/share/man/man1/{name}.gz"));
    }
    for f in [
        "usr/share/bash-completion/completions/kubectl-jointoken",
        "usr/share/zsh/vendor-completions/_kubectl-jointoken",
        "usr/share/fish/vendor_completions.d/kubectl-jointoken.fish",
        "usr/lib/systemd/system/kubectl-jointoken-rotate.service",
        "usr/lib/systemd/system/kubectl-jointoken-rotate.timer",
        "usr/share/doc/kubectl-jointoken/copyright",
        "usr/share/doc/kubectl-jointoken/changelog.Debian.gz",
        "usr/share/doc/kubectl-jointoken/examples/config.yaml",
    ] {
        want.insert(f.to_string());
    }
    want
}

/// A dir of stand-ins for `systemctl` and `deb-systemd-invoke`, first on the maintainer
/// scripts' PATH, that only record their calls in `log`: whatever the host runs, installing
/// into the throwaway root must not reach the host's systemd, and the record shows that
/// nothing asked to start anything.
fn systemd_stubs(dir: &Path, log: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for tool in ["systemctl", "deb-systemd-invoke"] {
        let stub = dir.join(tool);
        std::fs::write(
            &stub,
            format!("#!/bin/sh\necho \"{tool} $*\" >> '{}'\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn deb_builds_lints_clean_and_installs_with_units_disabled() {
    // The cluster is not used; its kubectl runs the installed plugins.
    let Some(h) = harness() else { return };
    need(
        "cargo-deb",
        "cargo install --locked cargo-deb --version 3.8.0",
    );
    let lintian = need("lintian", "apt-get install lintian");
    need("dpkg-deb", "apt-get install dpkg");
    need("dpkg-shlibdeps", "apt-get install dpkg-dev");
    need("deb-systemd-helper", "apt-get install init-system-helpers");
    need("systemctl", "apt-get install systemd");
    // dpkg installs files with their owners, which needs root.
    let uid = run(Command::new("id").arg("-u")).ok().stdout;
    assert_eq!(
        uid.trim(),
        "0",
        "dpkg --root installs with file ownership: run as root (CI does), or set KJT_SKIP_E2E=1"
    );

    let out = tempfile::tempdir().unwrap();
    // The debug binaries `cargo test` just built, stripped: a release build would add minutes
    // and test nothing more about the packaging (scripts/dist-deb --profile dev).
    let b = run(Command::new(repo().join("scripts/dist-deb"))
        .args(["--profile", "dev", "--no-build", "--out"])
        .arg(out.path()));
    assert_eq!(b.code, 0, "{}", b.stderr);
    let deb = PathBuf::from(b.stdout.trim());
    assert!(
        deb.ends_with(format!(
            "kubectl-jointoken_{}-1_amd64.deb",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        deb.display()
    );

    // lintian: no errors and no warnings (the one inapplicable warning, the ITP bug of an
    // upload to Debian, is overridden in packaging/debian/lintian-overrides with its reason).
    let l = run(Command::new(&lintian)
        .args(["--fail-on", "error,warning", "--display-info"])
        .arg(&deb));
    eprintln!("lintian:\n{}{}", l.stdout, l.stderr);
    assert_eq!(l.code, 0, "{}", l.stdout);
    assert!(
        !l.stdout
            .lines()
            .any(|x| x.starts_with("E:") || x.starts_with("W:")),
        "{}",
        l.stdout
    );

    // dpkg-deb -c: exactly the expected files and links, nothing else in /usr/bin.
    let c = run(Command::new("dpkg-deb").arg("-c").arg(&deb)).ok();
    let listed: BTreeSet<String> = c
        .stdout
        .lines()
        .filter(|l| !l.starts_with('d'))
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches("./").to_string())
        .collect();
    for want in expected_deb_paths() {
        assert!(listed.contains(&want), "{want} missing from:\n{}", c.stdout);
    }
    for l in c
        .stdout
        .lines()
        .filter(|l| l.contains(" ./usr/bin/kubectl_complete-"))
    {
        assert!(l.starts_with('l'), "completion entries are links: {l}");
    }
    // One binary in /usr/bin; every other command there is a link (issue 15).
    let regular: Vec<&str> = c
        .stdout
        .lines()
        .filter(|l| l.starts_with('-') && l.contains(" ./usr/bin/"))
        .collect();
    assert_eq!(regular.len(), 1, "{regular:?}");
    assert!(
        regular[0].ends_with(" ./usr/bin/kubectl-jointoken"),
        "{regular:?}"
    );
    let info = run(Command::new("dpkg-deb").arg("-f").arg(&deb))
        .ok()
        .stdout;
    assert!(info.contains("Package: kubectl-jointoken\n"), "{info}");
    assert!(info.contains("Depends: libc6"), "{info}");

    // dpkg --root into a throwaway root with a minimal admindir. The maintainer scripts run
    // chrootless (--force-script-chrootless: dpkg exports DPKG_ROOT=<root>) so that the
    // host's real deb-systemd-helper records and would create any enablement inside the root,
    // exactly as on a real system; systemctl and deb-systemd-invoke are recording stand-ins.
    // `--force-depends`: that root's database has no libc6 (the binaries use the host's).
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for d in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::write(r.join("var/lib/dpkg/status"), "").unwrap();
    let stubs = tempfile::tempdir().unwrap();
    let log = stubs.path().join("calls.log");
    systemd_stubs(&stubs.path().join("bin"), &log);
    let host_path = std::env::var("PATH").unwrap_or_default();
    let dpkg = |args: &[&str]| {
        run(Command::new("dpkg")
            .arg(format!("--root={}", r.display()))
            .args(["--force-script-chrootless", "--force-depends"])
            .args(args)
            .env(
                "PATH",
                format!(
                    "{}:{host_path}:/usr/sbin:/sbin",
                    stubs.path().join("bin").display()
                ),
            ))
    };
    let i = dpkg(&["-i", deb.to_str().unwrap()]);
    assert_eq!(i.code, 0, "{}{}", i.stdout, i.stderr);
    assert!(
        i.stdout.contains("Setting up kubectl-jointoken"),
        "{}",
        i.stdout
    );
    let s = dpkg(&["-s", "kubectl-jointoken"]).ok();
    assert!(
        s.stdout.contains("Status: install ok installed"),
        "{}",
        s.stdout
    );
    for want in expected_deb_paths() {
        let p = r.join(&want);
        assert!(p.exists(), "{want} not installed");
    }
    for b in binaries() {
        let link = r
            .join("usr/bin")
            .join(b.replace("kubectl-", "kubectl_complete-"));
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new(&b));
        if b != "kubectl-jointoken" {
            assert_eq!(
                std::fs::read_link(r.join("usr/bin").join(&b)).unwrap(),
                Path::new("kubectl-jointoken"),
                "{b}"
            );
        }
    }
    let usr_bin = r.join("usr/bin");
    let installed: u64 = std::fs::read_dir(&usr_bin)
        .unwrap()
        .map(|e| e.unwrap().path().symlink_metadata().unwrap().len())
        .sum();
    eprintln!("/usr/bin as installed by the .deb (debug build, stripped): {installed} bytes");
    // Every per-verb command runs its verb through its link, by name and through a real
    // kubectl, whose plugin lookup has nothing to warn about.
    let in_usr_bin = |program: &Path, args: &[&str]| {
        run(Command::new(program)
            .args(args)
            .env_clear()
            .env("HOME", r)
            .env("PATH", path_of_only(&[&usr_bin, &h.bin])))
    };
    assert_verbs_run_through_links(&usr_bin, |b| in_usr_bin(&usr_bin.join(b), &["--help"]));
    let kubectl = h.bin.join("kubectl");
    let help = in_usr_bin(&kubectl, &["jointoken", "create", "--help"]).ok();
    assert!(
        help.stdout.contains("Usage: kubectl jointoken create"),
        "{}",
        help.stdout
    );
    let plugins = in_usr_bin(&kubectl, &["plugin", "list"]).ok();
    for b in binaries() {
        assert!(
            plugins
                .stdout
                .lines()
                .any(|l| l == usr_bin.join(&b).display().to_string()),
            "{b}: {}",
            plugins.stdout
        );
    }
    assert!(!plugins.stderr.contains("warning"), "{}", plugins.stderr);
    // The installed binary runs, and answers as kubectl's completion helper through its link.
    let v = run(Command::new(r.join("usr/bin/kubectl-jointoken")).arg("--version")).ok();
    assert_eq!(
        v.stdout.trim(),
        format!("kubectl-jointoken {}", env!("CARGO_PKG_VERSION"))
    );
    let comp =
        run(Command::new(r.join("usr/bin/kubectl_complete-jointoken-create")).arg("--dry-run="))
            .ok();
    assert!(
        comp.stdout.contains("--dry-run=client\t"),
        "{}",
        comp.stdout
    );
    // The shipped units are the packaging copies (which track `schedule render`).
    for u in [SERVICE, TIMER] {
        assert_eq!(
            std::fs::read_to_string(r.join("usr/lib/systemd/system").join(u)).unwrap(),
            std::fs::read_to_string(repo().join("packaging/debian").join(u)).unwrap()
        );
    }

    // Installed DISABLED and NOT started: deb-systemd-helper knows the timer (its postinst
    // fragment ran) but created no enablement link, and nothing asked systemd for anything.
    assert!(
        r.join("var/lib/systemd/deb-systemd-helper-enabled")
            .join(format!("{TIMER}.dsh-also"))
            .exists(),
        "the postinst systemd fragment did not run"
    );
    let links = run(Command::new("find").arg(r).args(["-path", "*.wants*"])).ok();
    assert_eq!(links.stdout, "", "enablement links: {}", links.stdout);
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !calls
            .lines()
            .any(|l| l.contains(" start") || l.contains(" enable")),
        "installing started or enabled something: {calls}"
    );
    assert!(
        !r.join("etc/kubectl-jointoken").exists(),
        "no config written"
    );

    // An admin's enable (offline, `systemctl --root`) survives an upgrade (reinstall): the
    // real deb-systemd-helper honours it, proving the fragments are wired to it.
    let enable = run(Command::new("systemctl")
        .arg(format!("--root={}", r.display()))
        .args(["enable", TIMER]))
    .ok();
    let wants = r.join("etc/systemd/system/timers.target.wants").join(TIMER);
    assert!(wants.is_symlink(), "{}", enable.stderr);
    let again = dpkg(&["-i", deb.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(wants.is_symlink(), "an upgrade dropped the admin's enable");
    // Remove and purge run their scripts too: files go, removal masks the timer (so an enabled
    // timer cannot fire a missing binary), purge forgets its state.
    let rm = dpkg(&["-r", "kubectl-jointoken"]);
    assert_eq!(rm.code, 0, "{}{}", rm.stdout, rm.stderr);
    assert!(!r.join("usr/bin/kubectl-jointoken").exists());
    assert!(!r.join("usr/lib/systemd/system").join(TIMER).exists());
    let mask = r.join("etc/systemd/system").join(TIMER);
    assert_eq!(
        std::fs::read_link(&mask).ok().as_deref(),
        Some(Path::new("/dev/null")),
        "removal did not mask the timer"
    );
    // What README.Debian has the admin write, and files that are not the packaged units'
    // configuration: purge removes the former only (tests/e2e_deb.rs purges a real install).
    let ours = [
        "etc/kubectl-jointoken/config.yaml",
        "etc/credstore/kubectl-jointoken-rotate.vault-token",
        "etc/credstore/kubectl-jointoken-rotate.vault-role-id",
        "etc/credstore/kubectl-jointoken-rotate.vault-secret-id",
        "var/lib/systemd/timers/stamp-kubectl-jointoken-rotate.timer",
    ];
    let kept = [
        "etc/kubernetes/admin.conf",
        "etc/kubectl-jointoken/edge.yaml",
        "etc/credstore/kubectl-jointoken-rotate@edge.vault-token",
        "etc/credstore/other-service.vault-token",
    ];
    for f in ours.iter().chain(&kept) {
        std::fs::create_dir_all(r.join(f).parent().unwrap()).unwrap();
        std::fs::write(r.join(f), "x").unwrap();
    }
    let purge = dpkg(&["-P", "kubectl-jointoken"]);
    assert_eq!(purge.code, 0, "{}{}", purge.stdout, purge.stderr);
    assert!(
        !mask.exists() && !wants.exists(),
        "purge left unit state behind"
    );
    for f in ours {
        assert!(!r.join(f).exists(), "purge left {f}");
    }
    for f in kept {
        assert!(r.join(f).exists(), "purge removed {f}");
    }
    // Once only the admin's own files are gone, the folder goes too.
    std::fs::remove_file(r.join("etc/kubectl-jointoken/edge.yaml")).unwrap();
    let again = dpkg(&["-i", deb.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    std::fs::write(r.join("etc/kubectl-jointoken/config.yaml"), "x").unwrap();
    let purge = dpkg(&["-P", "kubectl-jointoken"]);
    assert_eq!(purge.code, 0, "{}{}", purge.stdout, purge.stderr);
    assert!(!r.join("etc/kubectl-jointoken").exists());
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    eprintln!("systemctl/deb-systemd-invoke calls: {calls:?}");
    assert!(!calls.lines().any(|l| l.contains(" start")), "{calls}");
}

// ---------------------------------------------------------------------------------------------
// Container image (scripts/dist-image), checked without a container runtime

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A blob of an OCI layout, checked against the descriptor that names it.
fn oci_blob(layout: &Path, descriptor: &Value) -> Vec<u8> {
    let digest = descriptor["digest"].as_str().unwrap();
    let hex = digest.strip_prefix("sha256:").unwrap();
    let data = std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap();
    assert_eq!(
        sha256_hex(&data),
        hex,
        "blob content does not match its digest"
    );
    assert_eq!(
        descriptor["size"].as_u64(),
        Some(data.len() as u64),
        "{digest}"
    );
    data
}

/// `crane registry serve` on a free loopback port; killed on drop.
struct Registry {
    child: std::process::Child,
    addr: String,
}

impl Registry {
    fn start(crane: &Path) -> Registry {
        use std::io::BufRead;
        let mut child = Command::new(crane)
            .args(["registry", "serve", "--address", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let port = lines
            .by_ref()
            .map_while(|l| l.ok())
            .find_map(|l| {
                l.split_once("serving on port ")
                    .map(|(_, p)| p.trim().to_string())
            })
            .expect("crane registry serve did not report its port");
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Registry {
            child,
            addr: format!("127.0.0.1:{port}"),
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn image_is_reproducible_minimal_runs_as_nonroot_and_round_trips_a_registry() {
    let Some(h) = harness() else { return };
    let uid = run(Command::new("id").arg("-u")).ok().stdout;
    assert_eq!(
        uid.trim(),
        "0",
        "unpacking the image with its owners and chroot need root (CI runs as root), or set KJT_SKIP_E2E=1"
    );
    let crane = dist_tools().join("crane");
    assert!(
        crane.is_file(),
        "crane is not built: run scripts/build-dist-tools"
    );
    need("ldd", "apt-get install libc-bin");
    let chroot = need("chroot", "apt-get install coreutils");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();

    // Built twice from the debug binary, stripped (as the krew test does): same bytes, same
    // digest. A release build adds minutes and tests nothing more about the image.
    let build = |out: &str| {
        let b = run(Command::new(repo().join("scripts/dist-image"))
            .arg("--out")
            .arg(w.join(out))
            .arg("--bin")
            .arg(our_bin("kubectl-jointoken"))
            .arg("--strip"))
        .ok();
        let mut lines = b.stdout.lines();
        let tarball = PathBuf::from(lines.next().unwrap());
        let digest = lines.next().unwrap().to_string();
        (tarball, digest)
    };
    let (tarball, digest) = build("a");
    let (again, digest2) = build("b");
    assert_eq!(digest, digest2, "not reproducible");
    assert_eq!(
        std::fs::read(&tarball).unwrap(),
        std::fs::read(&again).unwrap(),
        "not reproducible"
    );
    assert!(
        tarball.ends_with(format!(
            "kubectl-jointoken_v{}_linux_amd64.oci.tar",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        tarball.display()
    );
    eprintln!(
        "image (debug build, stripped): {} bytes",
        std::fs::metadata(&tarball).unwrap().len()
    );

    // The layout: oci-layout → index.json → manifest → config and layer, every digest and
    // size matching its blob, and nothing else in the tarball.
    let layout = w.join("layout");
    std::fs::create_dir_all(&layout).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&tarball)
        .arg("-C")
        .arg(&layout))
    .ok();
    let oci: Value =
        serde_json::from_slice(&std::fs::read(layout.join("oci-layout")).unwrap()).unwrap();
    assert_eq!(oci["imageLayoutVersion"], "1.0.0");
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1, "{index}");
    let md = &manifests[0];
    assert_eq!(md["digest"], digest.as_str());
    assert_eq!(
        md["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(md["platform"]["os"], "linux");
    let manifest: Value = serde_json::from_slice(&oci_blob(&layout, md)).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let config: Value = serde_json::from_slice(&oci_blob(&layout, &manifest["config"])).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let gz = w.join("layer.tar.gz");
    std::fs::write(&gz, oci_blob(&layout, &layers[0])).unwrap();
    let layer_tar = w.join("layer.tar");
    run(Command::new("sh")
        .arg("-c")
        .arg("gzip -dc \"$1\" > \"$2\"")
        .arg("sh")
        .arg(&gz)
        .arg(&layer_tar))
    .ok();
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        format!("sha256:{}", sha256_hex(&std::fs::read(&layer_tar).unwrap())).as_str(),
        "diff_id is not the uncompressed layer's digest"
    );
    let blobs: BTreeSet<String> = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let named: BTreeSet<String> = [
        digest.as_str(),
        manifest["config"]["digest"].as_str().unwrap(),
        layers[0]["digest"].as_str().unwrap(),
    ]
    .iter()
    .map(|d| d.trim_start_matches("sha256:").to_string())
    .collect();
    assert_eq!(blobs, named, "blobs nothing names");

    // The config: non-root numeric user (kubelet's runAsNonRoot needs a number), the binary as
    // entrypoint, OCI labels.
    let c = &config["config"];
    assert_eq!(c["User"], "65532:65532");
    assert_eq!(
        c["Entrypoint"],
        serde_json::json!(["/usr/bin/kubectl-jointoken"])
    );
    assert!(c["Cmd"].is_null(), "{c}");
    let labels = &c["Labels"];
    assert_eq!(
        labels["org.opencontainers.image.version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(
        labels["org.opencontainers.image.source"],
        env!("CARGO_PKG_REPOSITORY")
    );
    assert!(
        labels["org.opencontainers.image.licenses"]
            .as_str()
            .unwrap()
            .starts_with(env!("CARGO_PKG_LICENSE")),
        "{labels}"
    );

    // Exactly these files: the binary, what ldd says it loads, certificates, user database,
    // copyright files. No shell, nothing setuid, every entry owned by root and dated 0 but
    // the user's home.
    let listing = run(Command::new("tar")
        .args(["--numeric-owner", "--full-time", "-tvf"])
        .arg(&layer_tar))
    .ok();
    let mut files = BTreeSet::new();
    for l in listing.stdout.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (mode, owner, date, path) = (f[0], f[1], f[3], f[5]);
        assert_eq!(date, "1970-01-01", "{l}");
        assert!(!mode.contains('s'), "setuid/setgid: {l}");
        if path == "home/nonroot/" {
            assert_eq!(owner, "65532/65532", "{l}");
        } else {
            assert_eq!(owner, "0/0", "{l}");
        }
        if mode.starts_with('-') {
            files.insert(path.to_string());
        } else {
            assert!(mode.starts_with('d'), "only files and dirs: {l}");
        }
    }
    let ldd = run(Command::new("ldd").arg(our_bin("kubectl-jointoken"))).ok();
    let mut want: BTreeSet<String> = ldd
        .stdout
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            match l.split_once(" => ") {
                Some((_, rest)) => rest.split_whitespace().next(),
                None => l.split_whitespace().next().filter(|p| p.starts_with('/')),
            }
        })
        .map(|p| p.trim_start_matches('/').to_string())
        .collect();
    assert!(want.iter().any(|p| p.contains("libc.so")), "{}", ldd.stdout);
    for f in [
        "usr/bin/kubectl-jointoken",
        "etc/passwd",
        "etc/group",
        "etc/nsswitch.conf",
        "etc/ssl/certs/ca-certificates.crt",
        "usr/share/doc/kubectl-jointoken/copyright",
        "usr/share/doc/ca-certificates/copyright",
        "usr/share/doc/libc6/copyright",
    ] {
        want.insert(f.to_string());
    }
    let extra: Vec<&String> = files
        .difference(&want)
        .filter(|f| !(f.starts_with("usr/share/doc/") && f.ends_with("/copyright")))
        .collect();
    assert!(extra.is_empty(), "unexpected files in the image: {extra:?}");
    let missing: Vec<&String> = want.difference(&files).collect();
    assert!(missing.is_empty(), "missing from the image: {missing:?}");

    // Run it: unpacked with its owners, entrypoint and user taken from the config.
    let rootfs = w.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    run(Command::new("tar")
        .args(["--numeric-owner", "-xf"])
        .arg(&layer_tar)
        .arg("-C")
        .arg(&rootfs))
    .ok();
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    assert!(
        passwd.contains("nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
        "{passwd}"
    );
    let entrypoint = c["Entrypoint"][0].as_str().unwrap();
    let in_image = |args: &[&str]| {
        run(Command::new(&chroot)
            .arg(format!("--userspec={}", c["User"].as_str().unwrap()))
            .arg(&rootfs)
            .arg(entrypoint)
            .args(args)
            .env_clear()
            .envs(
                c["Env"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap().split_once('=').unwrap()),
            ))
    };
    let v = in_image(&["--version"]).ok();
    assert_eq!(
        v.stdout.trim(),
        format!("kubectl-jointoken {}", env!("CARGO_PKG_VERSION"))
    );
    // Its TLS stack and libraries work there: a real call to the cluster as user 65532.
    let kc = rootfs.join("home/nonroot/kubeconfig");
    std::fs::copy(&h.kubeconfig, &kc).unwrap();
    std::os::unix::fs::chown(&kc, Some(65532), Some(65532)).unwrap();
    let list = in_image(&[
        "list",
        "--kubeconfig",
        "/home/nonroot/kubeconfig",
        "-o",
        "json",
    ]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let id = live_token(&h);
    let list = in_image(&[
        "list",
        "--kubeconfig",
        "/home/nonroot/kubeconfig",
        "-o",
        "name",
    ])
    .ok();
    assert!(
        list.stdout.contains(&format!("bootstrap-token-{id}")),
        "{}",
        list.stdout
    );
    let sh = run(Command::new("chroot")
        .arg(&rootfs)
        .args(["/bin/sh", "-c", "true"]));
    assert_ne!(sh.code, 0, "the image has a shell");

    // Push to a real registry and pull back by digest: crane checks it on the way.
    let registry = Registry::start(&crane);
    let repo_ref = format!("{}/kubectl-jointoken", registry.addr);
    let push = run(Command::new(&crane)
        .arg("push")
        .arg(&layout)
        .arg(format!("{repo_ref}:v{}", env!("CARGO_PKG_VERSION"))))
    .ok();
    assert_eq!(push.stdout.trim(), format!("{repo_ref}@{digest}"));
    let by_digest = format!("{repo_ref}@{digest}");
    let valid = run(Command::new(&crane)
        .args(["validate", "--remote"])
        .arg(&by_digest))
    .ok();
    assert!(valid.stdout.starts_with("PASS"), "{}", valid.stdout);
    let pulled = w.join("pulled");
    run(Command::new(&crane)
        .args(["pull", "--format=oci"])
        .arg(&by_digest)
        .arg(&pulled))
    .ok();
    for b in &blobs {
        assert_eq!(
            std::fs::read(pulled.join("blobs/sha256").join(b)).unwrap(),
            std::fs::read(layout.join("blobs/sha256").join(b)).unwrap(),
            "{b}"
        );
    }
    let remote_config = run(Command::new(&crane).arg("config").arg(&by_digest)).ok();
    let remote_config: Value = serde_json::from_str(&remote_config.stdout).unwrap();
    assert_eq!(remote_config, config);
}
