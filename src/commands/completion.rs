//! Everything the binary generates about itself for distribution: static shell completion
//! scripts (clap_complete), kubectl's plugin-completion protocol (the binary answering as
//! `kubectl_complete-jointoken`), the links that make kubectl find that answer, and the man
//! pages and CLI reference (`generate-docs`), all derived from the one clap tree
//! [`crate::commands::Cli`] so they cannot disagree with `--help`.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{Arg, Command, CommandFactory, Parser, ValueEnum, ValueHint};

use crate::cli::GlobalArgs;
use crate::commands::Cli;
use crate::{Error, Result};

/// The dispatcher binary; static scripts complete this name.
pub const BIN: &str = "kubectl-jointoken";

/// What kubectl (≥ 1.26) looks up on PATH to complete `kubectl jointoken …`; a per-verb plugin
/// `kubectl-jointoken-<verb>` is completed through `kubectl_complete-jointoken-<verb>`.
pub const COMPLETE_BIN: &str = "kubectl_complete-jointoken";

/// Upper bound for dynamic candidates: a TAB must never hang on an unreachable cluster.
const DYNAMIC_TIMEOUT: Duration = Duration::from_secs(2);

/// Width of help text in generated docs; fixed so the output never depends on the terminal.
const DOC_WIDTH: usize = 100;

/// Argument ids that name an existing bootstrap token id (dynamic candidates from the cluster).
const TOKEN_ID_ARGS: &[&str] = &["id", "ids", "token_id", "token_ids"];

/// cobra's `ShellCompDirectiveDefault`: let the shell complete file names.
const DIRECTIVE_FILES: u32 = 0;
/// cobra's `ShellCompDirectiveNoFileComp`.
const DIRECTIVE_NO_FILES: u32 = 4;
/// cobra's `ShellCompDirectiveFilterDirs`.
const DIRECTIVE_DIRS: u32 = 16;

/// Which completion to print.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    /// bash script: `source <(kubectl-jointoken completion bash)`.
    Bash,
    /// zsh script: save as `_kubectl-jointoken` in a directory on $fpath.
    Zsh,
    /// fish script: save as ~/.config/fish/completions/kubectl-jointoken.fish.
    Fish,
    /// PowerShell script: `kubectl-jointoken completion powershell | Out-String | Invoke-Expression`.
    Powershell,
    /// `kubectl jointoken <TAB>` (kubectl ≥ 1.26): the kubectl_complete-jointoken links.
    Kubectl,
}

/// Print a shell completion script for kubectl-jointoken, or set up `kubectl jointoken <TAB>`.
///
/// bash, zsh, fish and powershell print a static script for the kubectl-jointoken binary.
///
/// kubectl (1.26 or newer) completes a plugin by running `kubectl_complete-jointoken` from PATH.
/// `completion kubectl` prints the commands that create that link (and one per installed
/// kubectl-jointoken-<verb>) next to the installed binary; `completion kubectl --install` creates
/// them. When installed by krew the links go to krew's bin directory ($KREW_ROOT/bin, default
/// ~/.krew/bin), where they survive plugin upgrades.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// bash, zsh, fish, powershell, or kubectl (kubectl's plugin completion links).
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
    /// With `kubectl`: create the links instead of printing the commands that would.
    #[arg(long)]
    pub install: bool,
    /// With `kubectl`: the directory for the links (default: the installed binary's directory,
    /// or krew's bin directory).
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

/// Write the man pages (docs/man/*.1), the CLI reference (docs/CLI.md) and the completion
/// scripts (completions/) under a directory; scripts/check-generated diffs them with the repo.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Root to write under: <DIR>/docs/man/, <DIR>/docs/CLI.md and <DIR>/completions/.
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub out_dir: PathBuf,
}

/// Runs `completion`.
pub async fn run(_g: &GlobalArgs, a: &Args) -> Result<String> {
    let shell = match a.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
        Shell::Kubectl => return kubectl_links(a),
    };
    if a.install || a.dir.is_some() {
        return Err(Error::usage(
            "--install and --dir apply only to `completion kubectl`: shell scripts go to stdout",
        ));
    }
    Ok(script(shell))
}

/// The static completion script of the dispatcher for `shell`.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut buf);
    String::from_utf8(buf).expect("clap_complete writes UTF-8")
}

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
fn kubectl_links(a: &Args) -> Result<String> {
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => default_link_dir()?,
    };
    let exe = std::env::current_exe()
        .map_err(|e| Error::runtime(format!("cannot find the running binary: {e}")))?;
    let links = plan_links(&dir, &exe)?;
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
fn verbs() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

/// One link per plugin binary found in `dir` (the dispatcher and each per-verb binary, since
/// kubectl completes `kubectl jointoken create …` through `kubectl_complete-jointoken-create`
/// when `kubectl-jointoken-create` exists); when `dir` holds none, one link to `exe`.
fn plan_links(dir: &Path, exe: &Path) -> Result<Vec<Link>> {
    let suffix = std::env::consts::EXE_SUFFIX;
    let mut names = vec![String::new()];
    names.extend(verbs().into_iter().map(|v| format!("-{v}")));
    let mut links = Vec::new();
    for n in &names {
        let target = format!("{BIN}{n}{suffix}");
        if dir.join(&target).is_file() {
            links.push(Link {
                path: dir.join(format!("{COMPLETE_BIN}{n}{suffix}")),
                target: PathBuf::from(target),
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

// ---------------------------------------------------------------------------------------------
// kubectl's plugin-completion protocol

/// One completion candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// What the shell inserts.
    pub value: String,
    /// The one-line description shown beside it.
    pub help: String,
}

/// The answer to one completion request, in cobra's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Candidates that start with the word being completed.
    pub candidates: Vec<Candidate>,
    /// cobra's ShellCompDirective bits.
    pub directive: u32,
}

impl Completion {
    /// cobra's wire format: `value\tdescription` per line, then `:<directive>`.
    pub fn to_wire(&self) -> String {
        let mut s = String::new();
        for c in &self.candidates {
            s.push_str(&c.value);
            if !c.help.is_empty() {
                s.push('\t');
                s.push_str(&c.help);
            }
            s.push('\n');
        }
        s.push_str(&format!(":{}\n", self.directive));
        s
    }
}

/// Where the engine gets what the command tree cannot know.
pub struct Sources<'a> {
    /// Existing token ids, given the global flag words typed so far (`--context x` …).
    pub token_ids: &'a dyn Fn(&[String]) -> Vec<Candidate>,
    /// Verbs not to offer at the top level, because kubectl already offers them (it lists every
    /// `kubectl-jointoken-<verb>` on PATH itself; offering them again shows them twice).
    pub skip_verbs: &'a [String],
}

/// Entry point when invoked as `kubectl_complete-jointoken` by kubectl (≥ 1.26): `args` is the
/// full argv; returns the exit code after printing candidates.
pub fn kubectl_complete(args: Vec<OsString>) -> u8 {
    let mut words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // `kubectl_complete-jointoken-create` completes the per-verb plugin: its words come
    // without the verb.
    let argv0 = args
        .first()
        .and_then(|a| {
            Path::new(a)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    if let Some(verb) = argv0
        .strip_prefix(COMPLETE_BIN)
        .and_then(|s| s.strip_prefix('-'))
        .filter(|v| !v.is_empty())
    {
        words.insert(0, verb.to_string());
    }
    let skip: Vec<String> = verbs()
        .into_iter()
        .filter(|v| on_path(&format!("{BIN}-{v}")))
        .collect();
    let sources = Sources {
        token_ids: &cluster_token_ids,
        skip_verbs: &skip,
    };
    let answer = complete(&words, &sources).to_wire();
    let mut out = std::io::stdout().lock();
    // kubectl reads all of stdout; a write failure leaves nothing useful to report.
    let _ = out.write_all(answer.as_bytes()).and_then(|_| out.flush());
    crate::error::exit::OK
}

/// Whether an executable named `name` is on PATH (as kubectl's plugin lookup sees it).
fn on_path(name: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&path).any(|d| d.join(&file).is_file())
}

/// Token ids from the cluster the typed global flags select; best effort, bounded by
/// [`DYNAMIC_TIMEOUT`], and silently none on any error (a TAB must not print errors).
fn cluster_token_ids(global_words: &[String]) -> Vec<Candidate> {
    let mut argv = vec![BIN.to_string()];
    argv.extend(global_words.iter().cloned());
    argv.push("list".into());
    let Ok(cli) = Cli::try_parse_from(argv) else {
        return Vec::new();
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let g = cli.global;
    let found = rt.block_on(async {
        tokio::time::timeout(DYNAMIC_TIMEOUT, async {
            let c = crate::cluster::connect(&g).await?;
            crate::store::TokenStore::new(&c).list(None).await
        })
        .await
    });
    // Do not wait for a hanging connection at exit.
    rt.shutdown_background();
    let Ok(Ok(tokens)) = found else {
        return Vec::new();
    };
    tokens
        .into_iter()
        .filter_map(|t| {
            let id = t.id?.to_string();
            let expires = match &t.expires {
                crate::token::Expiry::Never => "never expires".to_string(),
                crate::token::Expiry::At(e) => {
                    format!("expires {}", crate::token::format_expiration(*e))
                }
                crate::token::Expiry::Unparseable(_) => "invalid expiration".to_string(),
            };
            let help = match t.description.filter(|d| !d.is_empty()) {
                Some(d) => format!("{d} ({expires})"),
                None => expires,
            };
            Some(Candidate { value: id, help })
        })
        .collect()
}

/// Completes the last of `words` (the words after `kubectl jointoken`, the partial word last)
/// by walking the clap tree: subcommands, flags, flag values (value enums with their help,
/// token ids from [`Sources`]) and positionals.
pub fn complete(words: &[String], sources: &Sources<'_>) -> Completion {
    let mut root = Cli::command();
    root.build();
    let (current, done) = match words.split_last() {
        Some((c, d)) => (c.as_str(), d),
        None => ("", &[][..]),
    };
    let mut cmd = &root;
    let mut depth = 0;
    let mut positionals = 0;
    let mut pending: Option<&Arg> = None;
    let mut dashdash = false;
    let mut global_words: Vec<String> = Vec::new();
    for w in done {
        if let Some(arg) = pending.take() {
            if arg.is_global_set() {
                global_words.push(w.clone());
            }
            continue;
        }
        if dashdash || w == "-" || !w.starts_with('-') {
            if w == "--" {
                dashdash = true;
            } else if !dashdash
                && positionals == 0
                && let Some(sub) = cmd.find_subcommand(w)
            {
                cmd = sub;
                depth += 1;
            } else {
                positionals += 1;
            }
            continue;
        }
        let arg = if let Some(long) = w.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            find_long(cmd, name).map(|a| (a, value.is_some()))
        } else {
            // `-o json`, `-ojson`, `-v4`: only a bare `-x` leaves its value for the next word.
            let mut chars = w.chars().skip(1);
            chars
                .next()
                .and_then(|c| cmd.get_arguments().find(|a| a.get_short() == Some(c)))
                .map(|a| (a, w.chars().count() > 2))
        };
        if let Some((arg, inline_value)) = arg {
            if arg.is_global_set() {
                global_words.push(w.clone());
            }
            if !inline_value && takes_separate_value(arg) {
                pending = Some(arg);
            }
        }
    }

    let mut out = Vec::new();
    let mut directive = DIRECTIVE_NO_FILES;
    if let Some(arg) = pending {
        directive = values(arg, current, "", &global_words, sources, &mut out);
    } else if !dashdash && current.starts_with("--") {
        if let Some((name, value)) = current[2..].split_once('=') {
            if let Some(arg) = find_long(cmd, name).filter(|a| a.get_action().takes_values()) {
                let prefix = format!("--{name}=");
                directive = values(arg, value, &prefix, &global_words, sources, &mut out);
            }
        } else {
            flags(cmd, current, false, &mut out);
        }
    } else if !dashdash && current.starts_with('-') {
        let mut chars = current.chars().skip(1);
        let short = chars
            .next()
            .and_then(|c| cmd.get_arguments().find(|a| a.get_short() == Some(c)));
        match short {
            // `-ojs`: values of -o, written glued to the flag.
            Some(arg) if current.chars().count() > 2 && arg.get_action().takes_values() => {
                let prefix: String = current.chars().take(2).collect();
                let partial: String = current.chars().skip(2).collect();
                directive = values(arg, &partial, &prefix, &global_words, sources, &mut out);
            }
            _ => flags(cmd, current, true, &mut out),
        }
    } else {
        if positionals == 0 && !dashdash {
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let name = sub.get_name();
                let kubectl_lists_it = depth == 0 && sources.skip_verbs.iter().any(|v| v == name);
                if name.starts_with(current) && !kubectl_lists_it {
                    out.push(Candidate {
                        value: name.to_string(),
                        help: one_line(sub.get_about().map(|s| s.to_string())),
                    });
                }
            }
        }
        let positional = cmd
            .get_positionals()
            .filter(|a| !a.is_hide_set())
            .nth(positionals)
            .or_else(|| {
                // A trailing multi-value positional keeps taking words.
                cmd.get_positionals()
                    .last()
                    .filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
            });
        if let Some(arg) = positional {
            directive = values(arg, current, "", &global_words, sources, &mut out);
        }
    }
    Completion {
        candidates: out,
        directive,
    }
}

/// The argument with long name (or alias) `name`.
fn find_long<'c>(cmd: &'c Command, name: &str) -> Option<&'c Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
    })
}

/// Whether the word after this flag is its value (not so for `--dry-run[=…]`-style flags).
fn takes_separate_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
        && !arg.is_require_equals_set()
        && arg.get_num_args().is_none_or(|n| n.min_values() > 0)
}

/// Flag candidates starting with `current`; short ones too when asked (`-<TAB>`).
fn flags(cmd: &Command, current: &str, with_short: bool, out: &mut Vec<Candidate>) {
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let help = one_line(arg.get_help().map(|s| s.to_string()));
        if let Some(long) = arg.get_long() {
            let value = format!("--{long}");
            if value.starts_with(current) {
                out.push(Candidate {
                    value,
                    help: help.clone(),
                });
            }
        }
        if with_short && let Some(short) = arg.get_short() {
            let value = format!("-{short}");
            if value.starts_with(current) {
                out.push(Candidate { value, help });
            }
        }
    }
}

/// Value candidates for `arg` that start with `partial`, each written after `prefix`; returns
/// the directive (file completion for path arguments without fixed values).
fn values(
    arg: &Arg,
    partial: &str,
    prefix: &str,
    global_words: &[String],
    sources: &Sources<'_>,
    out: &mut Vec<Candidate>,
) -> u32 {
    let mut push = |value: &str, help: String| {
        if value.starts_with(partial) {
            out.push(Candidate {
                value: format!("{prefix}{value}"),
                help,
            });
        }
    };
    let fixed: Vec<PossibleValue> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .collect();
    if !fixed.is_empty() {
        for v in &fixed {
            push(v.get_name(), one_line(v.get_help().map(|s| s.to_string())));
        }
        return DIRECTIVE_NO_FILES;
    }
    if TOKEN_ID_ARGS.contains(&arg.get_id().as_str()) {
        for c in (sources.token_ids)(global_words) {
            push(&c.value, c.help);
        }
        return DIRECTIVE_NO_FILES;
    }
    match arg.get_value_hint() {
        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::ExecutablePath => DIRECTIVE_FILES,
        ValueHint::DirPath => DIRECTIVE_DIRS,
        _ => DIRECTIVE_NO_FILES,
    }
}

/// The first line of a help text, for a candidate's description.
fn one_line(s: Option<String>) -> String {
    s.unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('.')
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// generate-docs

/// Runs the hidden `generate-docs`; prints the files written.
pub async fn generate(a: &GenerateArgs) -> Result<String> {
    let written = generate_to(&a.out_dir)?;
    Ok(written
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect())
}

/// The command tree as the docs show it: fixed width, and no values of environment variables
/// (the help would otherwise change with the environment of whoever generates it).
fn doc_command() -> Command {
    fn stable(cmd: Command) -> Command {
        let cmd = cmd
            .term_width(DOC_WIDTH)
            .max_term_width(DOC_WIDTH)
            .mut_args(|a| a.hide_env_values(true));
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        names.iter().fold(cmd, |c, n| c.mut_subcommand(n, stable))
    }
    let mut cmd = stable(Cli::command());
    cmd.build();
    cmd
}

/// Writes man pages, the CLI reference and completion scripts under `root`; returns the paths.
/// Stale man pages (of removed commands) are deleted so the output is exactly the tree's.
pub fn generate_to(root: &Path) -> Result<Vec<PathBuf>> {
    let io = |action: &'static str, path: &Path, e: std::io::Error| Error::Io {
        action,
        path: path.display().to_string(),
        source: e,
    };
    let man_dir = root.join("docs").join("man");
    let comp_dir = root.join("completions");
    for d in [&man_dir, &comp_dir] {
        std::fs::create_dir_all(d).map_err(|e| io("cannot create", d, e))?;
    }
    if let Ok(entries) = std::fs::read_dir(&man_dir) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "1") {
                std::fs::remove_file(e.path())
                    .map_err(|err| io("cannot remove", &e.path(), err))?;
            }
        }
    }
    let mut written = Vec::new();
    let mut write = |path: PathBuf, bytes: &[u8]| -> Result<()> {
        std::fs::write(&path, bytes).map_err(|e| io("cannot write", &path, e))?;
        written.push(path);
        Ok(())
    };
    for (name, page) in man_pages()? {
        write(man_dir.join(name), &page)?;
    }
    write(root.join("docs").join("CLI.md"), cli_markdown().as_bytes())?;
    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
        clap_complete::Shell::PowerShell,
    ] {
        use clap_complete::Generator;
        write(
            comp_dir.join(shell.file_name(BIN)),
            script(shell).as_bytes(),
        )?;
    }
    Ok(written)
}

/// `(file name, roff)` per visible command: `kubectl-jointoken.1`, `kubectl-jointoken-create.1`
/// … (the names of the per-verb binaries, so `man kubectl-jointoken-create` works).
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>> {
    fn walk(cmd: &Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let man = clap_mangen::Man::new(cmd.clone()).manual("kubectl-jointoken manual");
        let mut page = Vec::new();
        man.render(&mut page)?;
        out.push((man.get_filename(), page));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(&doc_command(), &mut out)
        .map_err(|e| Error::runtime(format!("cannot render man pages: {e}")))?;
    Ok(out)
}

/// docs/CLI.md: a command table, then every command's full `--help`.
pub fn cli_markdown() -> String {
    let root = doc_command();
    let mut md = String::new();
    md.push_str(
        "# CLI reference\n\n\
         <!-- Generated by `kubectl-jointoken generate-docs` from the clap definitions; do not \
         edit. Regenerate with `scripts/check-generated --write`; CI fails when it drifts. -->\n\n",
    );
    md.push_str(&format!(
        "`kubectl jointoken`: {}\n\n\
         kubectl runs `kubectl-jointoken-<verb>` for `kubectl jointoken <verb>` when it is \
         installed, else `kubectl-jointoken <verb>`; both behave identically. Man pages: \
         `man kubectl-jointoken`, `man kubectl-jointoken-<verb>`.\n\n",
        one_line(root.get_about().map(|s| s.to_string()))
    ));
    md.push_str("| command | what it does |\n|---|---|\n");
    let subs: Vec<&Command> = root
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .collect();
    for sub in &subs {
        md.push_str(&format!(
            "| [`kubectl jointoken {0}`](#kubectl-jointoken-{0}) | {1} |\n",
            sub.get_name(),
            one_line(sub.get_about().map(|s| s.to_string())).replace('|', "\\|")
        ));
    }
    md.push_str(
        "\nExit codes: 0 success, 1 runtime error (cluster, Vault or file system), 2 usage error \
         (nothing was attempted).\n",
    );
    let mut section = |title: &str, cmd: &Command| {
        let help = cmd.clone().render_long_help().to_string();
        let help: String = help
            .lines()
            .map(|l| format!("{}\n", l.trim_end()))
            .collect();
        md.push_str(&format!("\n## {title}\n\n```text\n{}```\n", help));
    };
    section("kubectl jointoken", &root);
    for sub in subs {
        section(&format!("kubectl jointoken {}", sub.get_name()), sub);
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| w.to_string()).collect()
    }

    fn ids(_: &[String]) -> Vec<Candidate> {
        vec![Candidate {
            value: "abcdef".into(),
            help: "test".into(),
        }]
    }

    fn run(w: &[&str]) -> Completion {
        complete(
            &words(w),
            &Sources {
                token_ids: &ids,
                skip_verbs: &[],
            },
        )
    }

    fn values_of(c: &Completion) -> Vec<&str> {
        c.candidates.iter().map(|c| c.value.as_str()).collect()
    }

    #[test]
    fn verbs_at_the_top_hidden_ones_not() {
        let c = run(&[""]);
        let v = values_of(&c);
        for verb in ["create", "list", "prune", "kubeconfig", "completion"] {
            assert!(v.contains(&verb), "{v:?}");
        }
        assert!(!v.contains(&"generate-docs"));
        assert_eq!(c.directive, DIRECTIVE_NO_FILES);
        assert_eq!(values_of(&run(&["pr"])), ["prune"]);
    }

    #[test]
    fn verbs_kubectl_already_lists_are_skipped() {
        let skip = vec!["create".to_string()];
        let c = complete(
            &words(&[""]),
            &Sources {
                token_ids: &ids,
                skip_verbs: &skip,
            },
        );
        assert!(!values_of(&c).contains(&"create"));
        assert!(values_of(&c).contains(&"list"));
    }

    #[test]
    fn output_values_in_every_spelling() {
        assert!(values_of(&run(&["list", "-o", ""])).contains(&"json"));
        assert_eq!(values_of(&run(&["list", "--output", "y"])), ["yaml"]);
        assert_eq!(values_of(&run(&["list", "--output=ya"])), ["--output=yaml"]);
        assert_eq!(values_of(&run(&["list", "-oj"])), ["-ojson"]);
        assert_eq!(
            values_of(&run(&["create", "--dry-run="])),
            ["--dry-run=none", "--dry-run=client", "--dry-run=server"]
        );
    }

    #[test]
    fn flags_of_the_verb_and_globals() {
        let v = run(&["create", "--t"]);
        assert!(values_of(&v).contains(&"--ttl"), "{v:?}");
        assert!(values_of(&run(&["list", "--kube"])).contains(&"--kubeconfig"));
        // A flag's value is not mistaken for a positional or a verb.
        assert!(values_of(&run(&["--context", "x", "li"])).contains(&"list"));
    }

    #[test]
    fn token_ids_for_id_arguments_only() {
        assert_eq!(values_of(&run(&["publish", "ab"])), ["abcdef"]);
        assert!(run(&["list", ""]).candidates.is_empty());
    }

    #[test]
    fn paths_fall_back_to_file_completion() {
        assert_eq!(
            run(&["list", "--kubeconfig", ""]).directive,
            DIRECTIVE_FILES
        );
    }

    #[test]
    fn wire_format() {
        let c = Completion {
            candidates: vec![
                Candidate {
                    value: "a".into(),
                    help: "x".into(),
                },
                Candidate {
                    value: "b".into(),
                    help: String::new(),
                },
            ],
            directive: 4,
        };
        assert_eq!(c.to_wire(), "a\tx\nb\n:4\n");
    }

    #[test]
    fn links_follow_installed_siblings() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("kubectl-jointoken"), "").unwrap();
        std::fs::write(d.path().join("kubectl-jointoken-create"), "").unwrap();
        let links = plan_links(d.path(), Path::new("/nonexistent/kubectl-jointoken")).unwrap();
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
}
