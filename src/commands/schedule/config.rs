//! `schedule run`'s config file: a YAML map of long flag names, turned into `--flag=value`
//! arguments placed right after `run`, so flags typed on the command line (later) win.

use std::path::{Path, PathBuf};

use super::{DEFAULT_CONFIG, RunArgs};
use crate::{Error, Result};

/// Where `schedule run`'s config comes from: `--config`, else the default file if present.
pub fn config_path(a: &RunArgs) -> Option<PathBuf> {
    a.config
        .clone()
        .or_else(|| Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()))
}

/// Converts a config file (YAML map of long flag names) into `--flag=value` arguments.
pub fn config_to_args(text: &str, path: &Path) -> Result<Vec<String>> {
    let bad = |e: String| Error::usage(format!("config file {}: {e}", path.display()));
    let map: serde_json::Map<String, serde_json::Value> = if text.trim().is_empty() {
        Default::default()
    } else {
        serde_saphyr::from_str(text).map_err(|e| bad(e.to_string().replace('\n', " ")))?
    };
    let mut out = Vec::new();
    for (k, v) in map {
        if k.is_empty() || k == "config" || k == "help" || k == "version" || k.starts_with('-') {
            return Err(bad(format!("key {k:?} is not allowed")));
        }
        if !run_flags().iter().any(|f| f == &k) {
            return Err(bad(format!(
                "unknown key {k:?} (there is no flag --{k}): keys are the long flags of `kubectl jointoken schedule run --help`"
            )));
        }
        let scalar = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            serde_json::Value::Bool(b) => Ok(b.to_string()),
            _ => Err(bad(format!(
                "key {k:?}: expected a string, number, boolean or list"
            ))),
        };
        match &v {
            serde_json::Value::Bool(true) => out.push(format!("--{k}")),
            serde_json::Value::Bool(false) | serde_json::Value::Null => {}
            serde_json::Value::Array(items) => {
                for i in items {
                    out.push(format!("--{k}={}", scalar(i)?));
                }
            }
            other => out.push(format!("--{k}={}", scalar(other)?)),
        }
    }
    // Every value is checked now, naming the file, rather than as a bare clap error later.
    check_run_flags(&out).map_err(bad)?;
    Ok(out)
}

/// Parses `flags` as `schedule run` would; the error is clap's first line (naming the flag),
/// without its `error: ` prefix.
pub(super) fn check_run_flags(flags: &[String]) -> std::result::Result<(), String> {
    parse_run_flags(flags).map(drop)
}

/// Parses stored run flags as `kubectl-jointoken schedule run FLAGS…` would; the error is
/// clap's first line without its `error: ` prefix.
pub(super) fn parse_run_flags(
    flags: &[String],
) -> std::result::Result<crate::commands::Cli, String> {
    let mut probe = vec![
        "kubectl-jointoken".to_string(),
        "schedule".into(),
        "run".into(),
    ];
    probe.extend(flags.iter().cloned());
    <crate::commands::Cli as clap::Parser>::try_parse_from(&probe).map_err(|e| {
        let msg = e.to_string();
        msg.lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_string()
    })
}

/// The long flag names `schedule run` takes (what a config key may be).
fn run_flags() -> Vec<String> {
    use clap::CommandFactory;
    let cli = crate::commands::Cli::command();
    let Some(run) = cli
        .find_subcommand("schedule")
        .and_then(|s| s.find_subcommand("run"))
    else {
        return Vec::new();
    };
    run.get_arguments()
        .chain(cli.get_arguments())
        .filter_map(|a| a.get_long().map(String::from))
        .filter(|l| l != "help" && l != "version" && l != "config")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_become_flags() {
        let args = config_to_args(
            "every: 8h\npublish: [vault, file]\nno-verify: true\nkeep-previous: 2\nreplace-newer: false\n",
            Path::new("c.yaml"),
        )
        .unwrap();
        assert_eq!(
            args,
            vec![
                // Keys come out sorted (a YAML map has no meaningful order for flags).
                "--every=8h",
                "--keep-previous=2",
                "--no-verify",
                "--publish=vault",
                "--publish=file",
            ]
        );
        assert!(config_to_args("config: x\n", Path::new("c")).is_err());
        for bad in [
            "help: true\n",
            "version: true\n",
            "\"\": x\n",
            "frobnicate: 1\n",
        ] {
            let e = config_to_args(bad, Path::new("/etc/k/c.yaml"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("config file /etc/k/c.yaml: "), "{bad}: {e}");
        }
        let e = config_to_args("ttl: 1d\n", Path::new("c.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.yaml") && e.contains("--ttl"), "{e}");
        assert!(config_to_args("a: {b: c}\n", Path::new("c")).is_err());
        assert!(config_to_args("", Path::new("c")).unwrap().is_empty());
    }
}

#[cfg(test)]
mod props {
    use super::*;

    proptest::proptest! {
        /// A config file is outside input: any text gives flags or a usage error naming the
        /// file, never a panic.
        #[test]
        fn any_config_text_is_handled(s in "\\PC{0,120}|([a-z-]{1,12}: [a-z0-9\\[\\], ]{0,12}\\n){0,5}") {
            match config_to_args(&s, Path::new("/c.yaml")) {
                Ok(args) => proptest::prop_assert!(args.iter().all(|a| a.starts_with("--"))),
                Err(e) => proptest::prop_assert!(e.to_string().starts_with("config file /c.yaml: ")),
            }
        }
    }
}
