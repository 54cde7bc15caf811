//! kubectl's plugin-completion protocol: the binary answering as `kubectl_complete-jointoken`
//! with cobra's wire format, candidates from the clap tree and live token ids from the cluster.

use super::links::verbs;
use super::*;

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
        // A control character (a newline in a token description) would break the protocol's
        // one-candidate-per-line format: each becomes a space.
        let clean = |t: &str| -> String {
            t.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        for c in &self.candidates {
            s.push_str(&clean(&c.value));
            if !c.help.is_empty() {
                s.push('\t');
                s.push_str(&clean(&c.help));
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
    /// Names for kubectl's flags (`context`, `cluster`, `user` from the merged kubeconfig;
    /// `namespace`, `service_account` live), given the argument id and the global flag words.
    pub kube_names: &'a dyn Fn(&str, &[String]) -> Vec<Candidate>,
}

/// Argument ids whose values are names from the kubeconfig or the cluster.
const KUBE_NAME_ARGS: &[&str] = &["context", "cluster", "user", "namespace", "service_account"];

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
        kube_names: &kube_names,
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

/// Names for `--context`, `--cluster`, `--user` (from the merged kubeconfig, offline) and `-n`,
/// `--service-account` (live, bounded by [`DYNAMIC_TIMEOUT`]); silently none on any error.
fn kube_names(id: &str, global_words: &[String]) -> Vec<Candidate> {
    let mut argv = vec![BIN.to_string()];
    argv.extend(global_words.iter().cloned());
    argv.push("list".into());
    let Ok(cli) = crate::commands::parse(argv) else {
        return Vec::new();
    };
    let g = cli.global;
    let named = |names: Vec<String>, help: &str| -> Vec<Candidate> {
        names
            .into_iter()
            .map(|value| Candidate {
                value,
                help: help.to_string(),
            })
            .collect()
    };
    match id {
        "context" | "cluster" | "user" => {
            let Ok(Some(kc)) = crate::cluster::load_kubeconfig(&g) else {
                return Vec::new();
            };
            match id {
                "context" => named(
                    kc.contexts.into_iter().map(|c| c.name).collect(),
                    "kubeconfig context",
                ),
                "cluster" => named(
                    kc.clusters.into_iter().map(|c| c.name).collect(),
                    "kubeconfig cluster",
                ),
                _ => named(
                    kc.auth_infos.into_iter().map(|a| a.name).collect(),
                    "kubeconfig user",
                ),
            }
        }
        "namespace" | "service_account" => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return Vec::new();
            };
            let found = rt.block_on(async {
                tokio::time::timeout(DYNAMIC_TIMEOUT, async {
                    use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
                    use kube::api::{Api, ListParams};
                    let c = crate::cluster::connect(&g).await?;
                    let names: Vec<String> = if id == "namespace" {
                        Api::<Namespace>::all(c.client.clone())
                            .list_metadata(&ListParams::default())
                            .await
                            .map_err(|e| Error::runtime(e.to_string()))?
                            .items
                            .into_iter()
                            .filter_map(|n| n.metadata.name)
                            .collect()
                    } else {
                        let ns = g
                            .namespace
                            .clone()
                            .unwrap_or_else(|| c.target.default_namespace.clone());
                        Api::<ServiceAccount>::namespaced(c.client.clone(), &ns)
                            .list_metadata(&ListParams::default())
                            .await
                            .map_err(|e| Error::runtime(e.to_string()))?
                            .items
                            .into_iter()
                            .filter_map(|n| n.metadata.name)
                            .collect()
                    };
                    Ok::<_, Error>(names)
                })
                .await
            });
            rt.shutdown_background();
            match found {
                Ok(Ok(names)) => named(
                    names,
                    if id == "namespace" {
                        "namespace"
                    } else {
                        "service account"
                    },
                ),
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// Token ids from the cluster the typed global flags select; best effort, bounded by
/// [`DYNAMIC_TIMEOUT`], and silently none on any error (a TAB must not print errors).
fn cluster_token_ids(global_words: &[String]) -> Vec<Candidate> {
    let mut argv = vec![BIN.to_string()];
    argv.extend(global_words.iter().cloned());
    argv.push("list".into());
    let Ok(cli) = crate::commands::parse(argv) else {
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
    let mut root = crate::commands::command();
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
        // The flag whose value is being completed has none yet: leave it out of the words
        // that select the cluster (`--context <TAB>` must not parse the verb as a context).
        if arg.is_global_set() {
            global_words.pop();
        }
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
    if KUBE_NAME_ARGS.contains(&arg.get_id().as_str()) {
        for c in (sources.kube_names)(arg.get_id().as_str(), global_words) {
            push(&c.value, c.help);
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
pub(super) fn one_line(s: Option<String>) -> String {
    s.unwrap_or_default()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('.')
        .to_string()
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
                kube_names: &names,
            },
        )
    }

    fn names(id: &str, _: &[String]) -> Vec<Candidate> {
        vec![Candidate {
            value: format!("{id}-a"),
            help: "test".into(),
        }]
    }

    #[test]
    fn kubeconfig_and_cluster_names_for_kubectl_flags() {
        assert_eq!(values_of(&run(&["list", "--context", ""])), ["context-a"]);
        assert_eq!(
            values_of(&run(&["list", "--context=c"])),
            ["--context=context-a"]
        );
        assert_eq!(values_of(&run(&["list", "--user", ""])), ["user-a"]);
        assert_eq!(values_of(&run(&["list", "--cluster", ""])), ["cluster-a"]);
        assert_eq!(values_of(&run(&["list", "-n", ""])), ["namespace-a"]);
        assert_eq!(
            values_of(&run(&["kubeconfig", "--service-account", ""])),
            ["service_account-a"]
        );
    }

    #[test]
    fn control_characters_never_reach_the_wire() {
        let c = Completion {
            candidates: vec![Candidate {
                value: "abcdef".into(),
                help: "line one\nline two\u{1b}[31m".into(),
            }],
            directive: 4,
        };
        assert_eq!(c.to_wire(), "abcdef\tline one line two [31m\n:4\n");
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
                kube_names: &names,
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
        assert_eq!(values_of(&run(&["list", "-oj"])), ["-ojson", "-ojsonpath="]);
        assert_eq!(values_of(&run(&["list", "-o", "c"])), ["custom-columns="]);
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
}
