//! CLI transcripts: each test runs a real binary with a cleared environment (HOME pinned to a
//! temp dir, no KUBECONFIG) and checks stdout, stderr and the exit code together, so a test
//! reads like a terminal session. Nothing here needs a cluster.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Env {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn bin(name: &str) -> PathBuf {
        match name {
            "kubectl-jointoken" => env!("CARGO_BIN_EXE_kubectl-jointoken").into(),
            "kubectl-jointoken-create" => env!("CARGO_BIN_EXE_kubectl-jointoken-create").into(),
            "kubectl-jointoken-list" => env!("CARGO_BIN_EXE_kubectl-jointoken-list").into(),
            "kubectl-jointoken-prune" => env!("CARGO_BIN_EXE_kubectl-jointoken-prune").into(),
            "kubectl-jointoken-publish" => env!("CARGO_BIN_EXE_kubectl-jointoken-publish").into(),
            "kubectl-jointoken-schedule" => env!("CARGO_BIN_EXE_kubectl-jointoken-schedule").into(),
            "kubectl-jointoken-kubeconfig" => {
                env!("CARGO_BIN_EXE_kubectl-jointoken-kubeconfig").into()
            }
            other => panic!("unknown binary {other}"),
        }
    }

    fn run(&self, bin: &str, args: &[&str]) -> Run {
        self.run_env(bin, args, &[])
    }

    fn run_env(&self, bin: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = Command::new(Self::bin(bin))
            .args(args)
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", "/usr/bin:/bin")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// A kubeconfig pointing at a port nothing listens on, with a real CA fixture.
    fn dead_kubeconfig(&self) -> PathBuf {
        let ca =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ca1.pem"))
                .unwrap();
        use base64::Engine;
        let ca64 = base64::engine::general_purpose::STANDARD.encode(ca);
        let p = self.home.path().join("dead.kubeconfig");
        std::fs::write(
            &p,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:9\n    certificate-authority-data: {ca64}\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: u\ncurrent-context: dead\nusers:\n- name: u\n  user:\n    token: not-a-real-token\n"
            ),
        )
        .unwrap();
        p
    }
}

#[test]
fn help_reads_like_kubectl_and_goes_to_stdout() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["--help"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("Usage: kubectl jointoken [OPTIONS] <COMMAND>"),
        "{}",
        r.stdout
    );
    for verb in [
        "create",
        "list",
        "prune",
        "kubeconfig",
        "publish",
        "schedule",
    ] {
        assert!(r.stdout.contains(&format!("  {verb}")), "missing {verb}");
    }
    assert!(r.stdout.contains("--kubeconfig <PATH>"));
    assert!(r.stdout.contains("--as-group <GROUP>"));
    assert!(r.stderr.is_empty());
}

#[test]
fn per_verb_binary_behaves_like_the_dispatcher() {
    let e = Env::new();
    let a = e.run("kubectl-jointoken", &["create", "--help"]);
    let b = e.run("kubectl-jointoken-create", &["--help"]);
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout);
    assert!(
        a.stdout
            .contains("Usage: kubectl jointoken create [OPTIONS] [TOKEN]"),
        "{}",
        a.stdout
    );
    assert!(a.stdout.contains("--ttl <TTL>"));
    assert!(a.stdout.contains("[default: 24h]"));
}

#[test]
fn version_prints_to_stdout() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["--version"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        format!("kubectl-jointoken {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["list", "--frobnicate"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("unexpected argument '--frobnicate'"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_ttl_is_a_usage_error_naming_the_fix() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["create", "--ttl", "1d"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("invalid duration \"1d\": use Go syntax such as 90s, 30m, 2h30m or 0"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn bad_token_is_rejected_before_any_cluster_access() {
    let e = Env::new();
    let r = e.run(
        "kubectl-jointoken-create",
        &["--token", "ABCDEF.0123456789abcdef"],
    );
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert_eq!(
        r.stderr,
        "error: invalid token: expected the form abcdef.0123456789abcdef (6 + 16 characters of [a-z0-9])\n"
    );
}

#[test]
fn groups_need_the_authentication_usage() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["create", "--usages", "signing"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: --groups needs the authentication usage: add it to --usages or drop --groups\n"
    );
    let r = e.run(
        "kubectl-jointoken",
        &["create", "--groups", "system:masters"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid extra group \"system:masters\""),
        "{}",
        r.stderr
    );
    let r = e.run("kubectl-jointoken", &["create", "--usages", "signing,frob"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("invalid usage \"frob\""), "{}", r.stderr);
}

#[test]
fn token_commands_refuse_other_namespaces() {
    let e = Env::new();
    for verb in ["create", "list", "prune"] {
        let r = e.run("kubectl-jointoken", &[verb, "-n", "default"]);
        assert_eq!(r.code, 2, "{verb}");
        assert_eq!(
            r.stderr,
            "error: bootstrap tokens live only in kube-system, not \"default\": drop -n/--namespace\n"
        );
    }
    let r = e.run(
        "kubectl-jointoken",
        &["list", "-n", "kube-system", "--kubeconfig", "/nonexistent"],
    );
    assert_eq!(
        r.code, 1,
        "kube-system is accepted, then the kubeconfig fails"
    );
}

#[test]
fn missing_kubeconfig_is_one_clear_line() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["list"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error: no kubeconfig found"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("pass --kubeconfig or set KUBECONFIG"));

    let r = e.run(
        "kubectl-jointoken",
        &["list", "--kubeconfig", "/nonexistent/config"],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: cannot load kubeconfig:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("/nonexistent/config"));
}

#[test]
fn unreachable_apiserver_names_the_server() {
    let e = Env::new();
    let kc = e.dead_kubeconfig();
    let r = e.run(
        "kubectl-jointoken",
        &[
            "list",
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--request-timeout",
            "5s",
        ],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(
            "error: cannot list bootstrap tokens: cannot reach the apiserver at https://127.0.0.1:9"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn create_against_an_unreachable_server_writes_nothing_and_leaks_no_secret() {
    let e = Env::new();
    let kc = e.dead_kubeconfig();
    let r = e.run_env(
        "kubectl-jointoken",
        &["create", "--token", "abcdef.0123456789abcdef", "-v", "9"],
        &[("KUBECONFIG", kc.to_str().unwrap())],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("cannot create bootstrap token abcdef"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("0123456789abcdef"),
        "secret leaked: {}",
        r.stderr
    );
}

#[test]
fn kubeconfig_needs_a_credential_and_refuses_to_clobber() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["kubeconfig"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--token ID.SECRET, --create, or --service-account NAME")
    );
    let existing = e.home.path().join("bootstrap.conf");
    std::fs::write(&existing, "keep me").unwrap();
    let r = e.run(
        "kubectl-jointoken",
        &[
            "kubeconfig",
            "--token",
            "abcdef.0123456789abcdef",
            "--output-file",
            existing.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("already exists: pass --force to replace it"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    let r = e.run(
        "kubectl-jointoken",
        &[
            "kubeconfig",
            "--service-account",
            "scanner",
            "-n",
            "ci",
            "--duration",
            "5m",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("below the apiserver's minimum of 10m"),
        "{}",
        r.stderr
    );
}

#[test]
fn prune_refuses_a_whole_token_as_id() {
    let e = Env::new();
    let out = e.run("kubectl-jointoken", &["prune", "abcdef.0123456789abcdef"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("not the whole token"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("0123456789abcdef"),
        "the secret was echoed: {}",
        out.stderr
    );
}

#[test]
fn dry_run_values_are_checked() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["create", "--dry-run=maybe"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid value 'maybe' for '--dry-run"),
        "{}",
        r.stderr
    );
}

#[test]
fn output_formats_are_checked() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["list", "-o", "xml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("[possible values: table, wide, json, yaml, name]"),
        "{}",
        r.stderr
    );
}

#[test]
fn schedule_run_needs_a_sink_and_a_finite_ttl() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken-schedule", &["run"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("say where to publish"), "{}", r.stderr);
    let r = e.run(
        "kubectl-jointoken-schedule",
        &["run", "--publish", "vault", "--ttl", "0"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("finite --ttl"), "{}", r.stderr);
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "install", "--every", "5h", "--no-enable"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("divides a day"), "{}", r.stderr);
}

#[test]
fn schedule_run_reads_its_config_file_and_flags_win() {
    let e = Env::new();
    let cfg = e.home.path().join("config.yaml");
    std::fs::write(&cfg, "publish: vault\nttl: \"0\"\n").unwrap();
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "run", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("finite --ttl"),
        "the file's ttl applies: {}",
        r.stderr
    );
    std::fs::write(&cfg, "bogus-key: 1\n").unwrap();
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "run", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--bogus-key"), "{}", r.stderr);
}

/// The rendered units pass systemd's own checks: `verify` prints nothing on stderr (it only
/// warns on misspelled keys), the calendar is every 8 hours, the exposure score is ≤ 2.0.
#[test]
fn schedule_units_pass_systemd_analyze() {
    let e = Env::new();
    let root = e.home.path().join("root");
    let exe = Env::bin("kubectl-jointoken");
    let r = e.run(
        "kubectl-jointoken",
        &[
            "schedule",
            "install",
            "--root",
            root.to_str().unwrap(),
            "--exec",
            exe.to_str().unwrap(),
            "--vault-token-credential",
            "/etc/kubectl-jointoken/vault-token",
            "--",
            "--publish",
            "vault",
            "--path",
            "secret/k8s/join",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let units = root.join("etc/systemd/system");
    let service = units.join("kubectl-jointoken-rotate.service");
    let timer = units.join("kubectl-jointoken-rotate.timer");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&service).unwrap().mode() & 0o777, 0o644);
    let cfg = std::fs::read_to_string(root.join("etc/kubectl-jointoken/config.yaml")).unwrap();
    assert!(
        cfg.contains("publish: \"vault\"") && cfg.contains("path: \"secret/k8s/join\""),
        "{cfg}"
    );

    let sa = |args: &[&str]| {
        let o = Command::new("systemd-analyze")
            .args(args)
            .output()
            .expect("systemd-analyze is installed");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, _, err) = sa(&[
        "verify",
        "--man=no",
        service.to_str().unwrap(),
        timer.to_str().unwrap(),
    ]);
    assert_eq!(
        (code, err.as_str()),
        (Some(0), ""),
        "systemd-analyze verify complained"
    );

    let t = std::fs::read_to_string(&timer).unwrap();
    let cal = t
        .lines()
        .find_map(|l| l.strip_prefix("OnCalendar="))
        .unwrap();
    let (code, out, _) = sa(&[
        "calendar",
        "--iterations=4",
        "--base-time=2026-11-23 01:00:00 UTC",
        cal,
    ]);
    assert_eq!(code, Some(0));
    let next: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("Iter.") || l.contains("Next elapse"))
        .collect();
    assert_eq!(next.len(), 4, "{out}");
    assert!(next[0].contains("2026-11-23 08:00:00"), "{out}");
    assert!(next[1].contains("2026-11-23 16:00:00"), "{out}");
    assert!(next[2].contains("2026-11-24 00:00:00"), "{out}");
    assert!(next[3].contains("2026-11-24 08:00:00"), "{out}");

    let (_, out, err) = sa(&["security", "--offline=true", service.to_str().unwrap()]);
    let all = format!("{out}{err}");
    let score: f64 = all
        .lines()
        .find_map(|l| {
            l.split("exposure level for kubectl-jointoken-rotate.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in: {all}"));
    assert!(score <= 2.0, "exposure {score}");

    // Uninstall removes what install wrote.
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "uninstall", "--root", root.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!service.exists() && !timer.exists());
}

// ---------------------------------------------------------------------------------------------
// The hostile campaign's bad-input cases (issue #11): exact exit code, one line naming the
// cause, and nothing written.

fn one_error_line(r: &Run) -> &str {
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(lines.len(), 1, "exactly one error line: {}", r.stderr);
    lines[0]
}

#[test]
fn negative_durations_and_counts_name_the_flag_not_a_clap_escape() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken", &["create", "--ttl", "-1h"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--ttl") && r.stderr.contains("negative"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("-- -1"), "{}", r.stderr);
    let r = e.run("kubectl-jointoken", &["prune", "--keep", "-1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--keep") && r.stderr.contains("whole number"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("-- -1"), "{}", r.stderr);
}

#[test]
fn a_dry_run_value_after_a_space_is_explained() {
    let e = Env::new();
    let kc = e.dead_kubeconfig();
    for args in [
        &["create", "--dry-run", "server"][..],
        &["prune", "--dry-run", "client"][..],
    ] {
        let mut a = args.to_vec();
        a.extend(["--kubeconfig", kc.to_str().unwrap()]);
        let r = e.run("kubectl-jointoken", &a);
        assert_eq!(r.code, 2, "{}", r.stderr);
        let l = one_error_line(&r);
        assert!(
            l.contains("--dry-run=") && !l.contains("invalid token"),
            "{l}"
        );
    }
}

#[test]
fn kubeconfig_selection_is_checked_as_kubectl_checks_it() {
    let e = Env::new();
    let kc = e.dead_kubeconfig();
    let kcs = kc.to_str().unwrap();
    // A missing file in a KUBECONFIG list is skipped, as kubectl skips it: the command goes
    // on to the (dead) server of the file that exists.
    let list = format!("{}/missing.kubeconfig:{kcs}", e.home.path().display());
    let r = e.run_env(
        "kubectl-jointoken",
        &["list", "--request-timeout", "2s"],
        &[("KUBECONFIG", &list)],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(one_error_line(&r).contains("127.0.0.1:9"), "{}", r.stderr);
    // Unknown user, context and cluster are named.
    for (flag, val, want) in [
        ("--user", "nobody", "auth info \"nobody\" does not exist"),
        ("--context", "nope", "context \"nope\" does not exist"),
        ("--cluster", "nada", "cluster \"nada\" does not exist"),
    ] {
        let r = e.run(
            "kubectl-jointoken",
            &["list", "--kubeconfig", kcs, flag, val],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(one_error_line(&r).contains(want), "{}", r.stderr);
    }
    // insecure-skip-tls-verify together with a CA is refused; garbage CA data is named.
    let text = std::fs::read_to_string(&kc).unwrap();
    let insecure = e.home.path().join("insecure.kubeconfig");
    std::fs::write(
        &insecure,
        text.replace(
            "    certificate-authority-data:",
            "    insecure-skip-tls-verify: true\n    certificate-authority-data:",
        ),
    )
    .unwrap();
    let r = e.run(
        "kubectl-jointoken",
        &["create", "--kubeconfig", insecure.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        one_error_line(&r).contains("insecure-skip-tls-verify and a certificate authority"),
        "{}",
        r.stderr
    );
    let garbage = e.home.path().join("garbage.kubeconfig");
    let start =
        text.find("certificate-authority-data: ").unwrap() + "certificate-authority-data: ".len();
    let end = start + text[start..].find('\n').unwrap();
    std::fs::write(
        &garbage,
        format!("{}{}{}", &text[..start], "aGVsbG8gd29ybGQ=", &text[end..]),
    )
    .unwrap();
    let r = e.run(
        "kubectl-jointoken",
        &["create", "--kubeconfig", garbage.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let l = one_error_line(&r);
    assert!(
        l.contains("holds no PEM certificate") && !l.contains("insecure-skip-tls-verify?"),
        "{l}"
    );
}

#[test]
fn duplicate_groups_are_stored_once_and_short_ttls_warn() {
    let e = Env::new();
    let kc = e.dead_kubeconfig();
    // --dry-run=client never talks to the server: the dead kubeconfig is enough.
    let r = e.run(
        "kubectl-jointoken",
        &[
            "create",
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--dry-run=client",
            "-o",
            "json",
            "--ttl",
            "30s",
            "--groups",
            "system:bootstrappers:a,system:bootstrappers:a,system:bootstrappers:b",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.matches("system:bootstrappers:a").count() == 1,
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("Warning: --ttl 30s is under a minute"),
        "{}",
        r.stderr
    );
}

#[test]
fn kubeconfig_server_must_be_an_https_url() {
    let e = Env::new();
    for bad in [
        "not a url",
        "http://10.0.0.1:6443",
        "https://u:pw@10.0.0.1:6443",
        "https://10.0.0.1:6443/x",
    ] {
        let r = e.run(
            "kubectl-jointoken",
            &[
                "kubeconfig",
                "--token",
                "abcdef.0123456789abcdef",
                "--server",
                bad,
            ],
        );
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(r.stderr.contains("--server"), "{}", r.stderr);
        assert!(!r.stderr.contains("pw@"), "{}", r.stderr);
    }
}

#[test]
fn schedule_config_and_run_flags_are_validated_before_any_network_call() {
    let e = Env::new();
    let cfg = e.home.path().join("config.yaml");
    for (text, want) in [
        ("help: true\n", "key \"help\" is not allowed"),
        ("\"\": x\n", "key \"\" is not allowed"),
        ("ttl: 1d\n", "--ttl"),
        ("instance: \"Not A Label\"\npublish: vault\n", "--instance"),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let r = e.run(
            "kubectl-jointoken",
            &["schedule", "run", "--config", cfg.to_str().unwrap()],
        );
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        let l = one_error_line(&r);
        assert!(l.contains(want), "{text}: {l}");
        assert!(
            !r.stdout.contains("Usage"),
            "help must not run: {}",
            r.stdout
        );
    }
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "render", "--", "--every", "6h"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(one_error_line(&r).contains("before --"), "{}", r.stderr);
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "render", "--", "--bogus-flag"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(one_error_line(&r).contains("--bogus-flag"), "{}", r.stderr);
    // A TTL shorter than the interval plus the margin leaves nodes without a valid token.
    let r = e.run(
        "kubectl-jointoken",
        &[
            "schedule",
            "run",
            "--publish",
            "vault",
            "--ttl",
            "4h",
            "--every",
            "8h",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        one_error_line(&r).contains("is shorter than --every"),
        "{}",
        r.stderr
    );
}

/// `schedule install --root` under `umask 000`: the folders it creates are 0755 (not 0777),
/// the files 0644 (units and config hold no secret; credentials come in through systemd).
#[test]
fn schedule_install_sets_folder_modes_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let e = Env::new();
    let root = e.home.path().join("root");
    let exe = Env::bin("kubectl-jointoken");
    let out = Command::new("sh")
        .args([
            "-c",
            "umask 000; exec \"$0\" schedule install --root \"$1\" -- --publish vault --path secret/k/j",
            exe.to_str().unwrap(),
            root.to_str().unwrap(),
        ])
        .env_clear()
        .env("HOME", e.home.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &str| {
        std::fs::metadata(root.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    for d in [
        "etc",
        "etc/systemd",
        "etc/systemd/system",
        "etc/kubectl-jointoken",
    ] {
        assert_eq!(mode(d), 0o755, "{d}");
    }
    assert_eq!(mode("etc/kubectl-jointoken/config.yaml"), 0o644);
    assert_eq!(
        mode("etc/systemd/system/kubectl-jointoken-rotate.timer"),
        0o644
    );
}

/// Several rotations side by side, as docs/SCHEDULE.md promises: each `--instance` gets its
/// own units and config (which names the instance), and uninstalling one leaves the other.
#[test]
fn schedule_instances_install_side_by_side() {
    let e = Env::new();
    let root = e.home.path().join("root");
    let r = root.to_str().unwrap();
    for inst in ["default", "edge"] {
        let out = e.run(
            "kubectl-jointoken",
            &[
                "schedule",
                "install",
                "--root",
                r,
                "--instance",
                inst,
                "--",
                "--publish",
                "vault",
                "--path",
                "secret/k/j",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let sys = root.join("etc/systemd/system");
    for f in [
        "kubectl-jointoken-rotate.service",
        "kubectl-jointoken-rotate.timer",
        "kubectl-jointoken-rotate@edge.service",
        "kubectl-jointoken-rotate@edge.timer",
    ] {
        assert!(sys.join(f).is_file(), "{f}");
    }
    let edge_service =
        std::fs::read_to_string(sys.join("kubectl-jointoken-rotate@edge.service")).unwrap();
    assert!(
        edge_service.contains("--config /etc/kubectl-jointoken/edge.yaml"),
        "{edge_service}"
    );
    let edge_timer =
        std::fs::read_to_string(sys.join("kubectl-jointoken-rotate@edge.timer")).unwrap();
    assert!(
        edge_timer.contains("Unit=kubectl-jointoken-rotate@edge.service"),
        "{edge_timer}"
    );
    let cfg = std::fs::read_to_string(root.join("etc/kubectl-jointoken/edge.yaml")).unwrap();
    assert!(cfg.contains("\ninstance: edge\n"), "{cfg}");
    // The stored config is what `schedule run` reads: it must parse (the instance key too).
    let run = e.run(
        "kubectl-jointoken",
        &[
            "schedule",
            "run",
            "--config",
            root.join("etc/kubectl-jointoken/edge.yaml")
                .to_str()
                .unwrap(),
            "--kubeconfig",
            "/nonexistent",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("/nonexistent"),
        "got as far as the kubeconfig: {}",
        run.stderr
    );
    // A contradicting --instance after -- is refused.
    let bad = e.run(
        "kubectl-jointoken",
        &[
            "schedule",
            "render",
            "--instance",
            "edge",
            "--",
            "--instance",
            "other",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let out = e.run(
        "kubectl-jointoken",
        &["schedule", "uninstall", "--root", r, "--instance", "edge"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!sys.join("kubectl-jointoken-rotate@edge.timer").exists());
    assert!(
        sys.join("kubectl-jointoken-rotate.timer").is_file(),
        "the default instance stays"
    );
    assert!(root.join("etc/kubectl-jointoken/config.yaml").is_file());
}

/// `fetch` runs on a node without a kubeconfig: its help does not list kubectl's connection
/// flags, which every cluster-side command still shows.
#[test]
fn fetch_help_lists_only_the_flags_it_uses() {
    let e = Env::new();
    let fetch = e.run("kubectl-jointoken", &["fetch", "--help"]);
    assert_eq!(fetch.code, 0);
    for f in [
        "--context",
        "--as-group",
        "--request-timeout",
        "--kubeconfig <",
    ] {
        assert!(
            !fetch.stdout.contains(f),
            "fetch --help lists {f}:\n{}",
            fetch.stdout
        );
    }
    assert!(
        fetch.stdout.contains("--kubeconfig-out"),
        "{}",
        fetch.stdout
    );
    let list = e.run("kubectl-jointoken", &["list", "--help"]);
    assert!(list.stdout.contains("--context") && list.stdout.contains("--as-group"));
}

#[test]
fn service_account_publishing_flags_are_checked_before_any_request() {
    let e = Env::new();
    let kc = e.dead_kubeconfig();
    let kc = kc.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut a = vec!["kubeconfig", "--kubeconfig", kc];
        a.extend_from_slice(extra);
        e.run("kubectl-jointoken", &a)
    };
    let sa = ["--service-account", "scanner", "-n", "ci"];
    let with_sa = |extra: &[&str]| {
        let mut a = sa.to_vec();
        a.extend_from_slice(extra);
        run(&a)
    };
    // Publishing belongs to service accounts; a renewal to publishing.
    for (args, needs) in [
        (
            vec!["--token", "abcdef.0123456789abcdef", "--publish", "vault"],
            "--service-account",
        ),
        (
            vec!["--create", "--format", "github-actions"],
            "--service-account",
        ),
        (
            vec!["--create", "--publish-value", "token"],
            "--service-account",
        ),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needs), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    let r = with_sa(&["--renew-before", "10m"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--publish <SINKS>"), "{}", r.stderr);
    // The secret goes either to stdout as a kubeconfig file or to the sinks, not both.
    let out = e.home.path().join("sa.kubeconfig");
    let r = with_sa(&["--publish", "vault", "--output-file", out.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
    assert!(!out.exists());
    // Formats that cannot hold a multi-line kubeconfig say what to do.
    let r = with_sa(&["--format", "gitlab-dotenv"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: GitLab dotenv cannot hold a multi-line kubeconfig: add --publish-value token\n"
    );
    let r = with_sa(&["--format", "github-actions"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("needs $GITHUB_OUTPUT"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no mask without a token: {}", r.stdout);
    let f = e.home.path().join("sa.env");
    let r = with_sa(&[
        "--publish",
        "file",
        "--file",
        f.to_str().unwrap(),
        "--file-format",
        "env",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--file-format env cannot hold a multi-line kubeconfig"),
        "{}",
        r.stderr
    );
    assert!(!f.exists());
    // A renewal margin as long as the token would renew on every run.
    let r = with_sa(&[
        "--publish",
        "vault",
        "--duration",
        "1h",
        "--renew-before",
        "1h",
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: --duration 1h0m0s is not longer than --renew-before 1h0m0s: every run would \
         renew; raise --duration\n"
    );
    let r = with_sa(&[
        "--publish",
        "file",
        "--file",
        f.to_str().unwrap(),
        "--renew-before",
        "10m",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("add --file-format json"), "{}", r.stderr);
    // What a record carries is checked as well.
    let r = with_sa(&["--publish", "vault", "--audience", "vault'; reboot"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--audience \"vault'; reboot\" has characters outside"),
        "{}",
        r.stderr
    );
    let r = run(&["--service-account", "Scanner;x", "--publish", "vault"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("is not a Kubernetes name"),
        "{}",
        r.stderr
    );
    let r = with_sa(&["--publish", "vault", "--dry-run=client"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--dry-run applies to --create"),
        "{}",
        r.stderr
    );
    let r = with_sa(&["--publish-value", "password"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("[possible values: kubeconfig, token]"),
        "{}",
        r.stderr
    );
}

#[test]
fn kubeconfig_help_names_the_publishing_flags() {
    let e = Env::new();
    let r = e.run("kubectl-jointoken-kubeconfig", &["--help"]);
    assert_eq!(r.code, 0);
    for flag in [
        "--publish <SINKS>",
        "--publish-value <PUBLISH_VALUE>",
        "--format <FORMAT>",
        "--renew-before <DURATION>",
        "--vault-addr <URL>",
        "--file-format <FILE_FORMAT>",
        "--replace-newer",
    ] {
        assert!(r.stdout.contains(flag), "missing {flag}:\n{}", r.stdout);
    }
}

#[test]
fn schedule_run_service_account_mode_keeps_the_margin_rules() {
    let e = Env::new();
    let cfg = e.home.path().join("sa.yaml");
    // Config keys are the long flags, as for bootstrap tokens; -n is a key too.
    std::fs::write(
        &cfg,
        "namespace: ci\nservice-account: scanner\npublish: vault\nevery: 8h\nduration: 8h\n",
    )
    .unwrap();
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "run", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "error: --duration 8h0m0s is shorter than --every 8h0m0s plus the 1h renewal margin: \
         nodes would find no valid token between runs; raise --duration to at least 9h0m0s\n"
    );
    let r = e.run(
        "kubectl-jointoken",
        &[
            "schedule",
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--duration",
            "2h",
            "--min-remaining",
            "2h",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--min-remaining 2h0m0s is not below --duration 2h0m0s"),
        "{}",
        r.stderr
    );
    let r = e.run(
        "kubectl-jointoken",
        &[
            "schedule",
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--duration",
            "5m",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("below the apiserver's minimum of 10m"),
        "{}",
        r.stderr
    );
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "run", "--publish", "vault", "--duration", "24h"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("belong to --service-account NAME"),
        "{}",
        r.stderr
    );
    let r = e.run(
        "kubectl-jointoken",
        &[
            "schedule",
            "run",
            "--service-account",
            "scanner",
            "--publish",
            "file",
            "--file",
            "/tmp/x",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("add --file-format json"), "{}", r.stderr);
    std::fs::write(
        &cfg,
        "service-account: scanner\npublish: vault\npublish-value: password\n",
    )
    .unwrap();
    let r = e.run(
        "kubectl-jointoken",
        &["schedule", "run", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("sa.yaml") && r.stderr.contains("password"),
        "{}",
        r.stderr
    );
}

/// The CronJob's Roles follow its run flags: a Secret sink without a name cannot be granted
/// (exit 2 before anything is rendered), and service-account mode renders a Role in the
/// account's namespace instead of the bootstrap-token Secret rule.
#[test]
fn cronjob_roles_follow_the_run_flags() {
    let e = Env::new();
    let base = [
        "schedule",
        "render",
        "--cronjob",
        "--image",
        "registry.example/kubectl-jointoken:0.1.0",
        "--",
    ];
    let mut args = base.to_vec();
    args.extend([
        "--service-account",
        "scanner",
        "--namespace",
        "ci",
        "--publish",
        "secret",
    ]);
    let r = e.run("kubectl-jointoken", &args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        one_error_line(&r).contains("--publish secret needs --secret-name"),
        "{}",
        r.stderr
    );
    args.extend(["--secret-name", "scanner-kubeconfig"]);
    let r = e.run("kubectl-jointoken", &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let docs: Vec<serde_json::Value> = r
        .stdout
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str(d).unwrap())
        .collect();
    let kinds: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["namespace"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount/kube-system",
            "Role/kube-system",
            "RoleBinding/kube-system",
            "Role/ci",
            "RoleBinding/ci",
            "CronJob/kube-system",
        ]
    );
    // No bootstrap-token rule (list/delete of any Secret); the sink's Secret (in the pod's
    // namespace by default) by name, and create.
    let system_rules = docs[1]["rules"].to_string();
    assert!(!system_rules.contains("\"list\""), "{system_rules}");
    assert!(
        system_rules.contains("\"scanner-kubeconfig\""),
        "{system_rules}"
    );
    let ci_rules = docs[3]["rules"].to_string();
    assert!(
        ci_rules.contains("serviceaccounts/token") && ci_rules.contains("\"scanner\""),
        "{ci_rules}"
    );
    assert_eq!(
        docs[5]["metadata"]["annotations"]["jointoken.kubectl.io/grant-namespaces"],
        "ci"
    );
}
