//! End-to-end tests of `kubeconfig --service-account --publish` (issue #15) against the
//! harness's real kube-apiserver and OpenBao dev server: the service account's kubeconfig or
//! token goes to Vault KV v2 and v1 and to `$GITHUB_OUTPUT`; the bao CLI reads each record
//! back, and the built kubectl proves the published credential authenticates as the service
//! account (`auth whoami`). Renewal (`--renew-before`) runs three times: the first writes, the
//! second is not due and writes nothing, the third (a margin longer than what is left) renews
//! with a later expiry. The service-account token must never reach our stderr.

mod common;

use std::path::Path;

use common::{Harness, Out, our_bin, unique};

/// Runs ours and checks its stderr holds no JWT (the service-account token's shape), on top
/// of the bootstrap-token scanner every run gets.
fn ours(h: &Harness, args: &[&str], env: &[(&str, &str)]) -> Out {
    let out = h.run(&our_bin("kubectl-jointoken"), args, env);
    assert!(
        !out.stderr.contains("eyJ"),
        "a JWT on stderr of {args:?}:\n{}",
        out.stderr
    );
    out
}

/// A fresh namespace and service account, made with kubectl (an independent writer).
fn service_account(h: &Harness) -> (String, String) {
    let ns = unique("sa-ns-");
    let sa = unique("scanner-");
    h.kubectl(&["create", "namespace", &ns]).ok();
    h.kubectl(&["-n", &ns, "create", "serviceaccount", &sa])
        .ok();
    (ns, sa)
}

/// `kubectl auth whoami` with only `kubeconfig` (the admin one is not used).
fn whoami_kubeconfig(h: &Harness, kubeconfig: &Path) -> String {
    let kc = kubeconfig.display().to_string();
    let out = h
        .run(
            &h.bin.join("kubectl"),
            &["--kubeconfig", &kc, "auth", "whoami", "-o", "json"],
            &[("KUBECONFIG", "/dev/null")],
        )
        .ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    v["status"]["userInfo"]["username"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `kubeconfig` key of Secret `ns/name`, read with kubectl and decoded.
fn secret_kubeconfig(h: &Harness, ns: &str, name: &str) -> Vec<u8> {
    use base64::Engine;
    let got = h
        .kubectl(&[
            "-n",
            ns,
            "get",
            "secret",
            name,
            "-o",
            "jsonpath={.data.kubeconfig}",
        ])
        .ok();
    base64::engine::general_purpose::STANDARD
        .decode(got.stdout.trim())
        .unwrap()
}

fn bao_json(h: &Harness, args: &[&str]) -> serde_json::Value {
    let out = h.bao(args).ok();
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("bao {args:?}: {e}: {}", out.stdout))
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("expiration {s:?}: {e}"))
}

#[test]
fn publishes_to_vault_v2_v1_and_github_output_and_each_authenticates() {
    let Some(h) = common::harness() else { return };
    let (ns, sa) = service_account(&h);
    let user = format!("system:serviceaccount:{ns}:{sa}");
    let tmp = tempfile::tempdir().unwrap();

    // KV v2, the kubeconfig (the default value).
    let v2 = format!("secret/kjt-sa/{}", unique("v2-"));
    let out = ours(
        &h,
        &[
            "kubeconfig",
            "--service-account",
            &sa,
            "-n",
            &ns,
            "--duration",
            "1h",
            "--publish",
            "vault",
            "--path",
            &v2,
        ],
        &[],
    )
    .ok();
    assert!(
        out.stdout.contains(&format!("vault {v2}")) && out.stdout.contains("published"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("token:"),
        "no secret on stdout: {}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains(&format!("service-account token for {user} expires at "))
    );
    let rec = bao_json(&h, &["kv", "get", "-format=json", &v2]);
    let data = &rec["data"]["data"];
    assert_eq!(data["kind"], "service-account-token");
    assert_eq!(data["username"], user.as_str());
    assert_eq!(data["namespace"], ns.as_str());
    assert_eq!(data["service_account"], sa.as_str());
    assert_eq!(data["server"], h.apiserver.as_str());
    assert!(
        data.get("token").is_none(),
        "the kubeconfig is the value: {data}"
    );
    let exp = ts(data["expiration"].as_str().unwrap());
    let left = exp.duration_since(jiff::Timestamp::now()).as_secs();
    assert!((3300..=3600).contains(&left), "expires in {left}s");
    // custom_metadata names whom, never the secret.
    let md = bao_json(&h, &["kv", "metadata", "get", "-format=json", &v2]);
    assert_eq!(md["data"]["custom_metadata"]["token_id"], user.as_str());
    let kc = h.bao(&["kv", "get", "-field=kubeconfig", &v2]).ok().stdout;
    let kc_path = tmp.path().join("v2.kubeconfig");
    std::fs::write(&kc_path, &kc).unwrap();
    assert_eq!(whoami_kubeconfig(&h, &kc_path), user);

    // An older token never replaces it: a shorter duration is kept out, and the run fails.
    let out = ours(
        &h,
        &[
            "kubeconfig",
            "--service-account",
            &sa,
            "-n",
            &ns,
            "--duration",
            "20m",
            "--publish",
            "vault",
            "--path",
            &v2,
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("was not published") && out.stderr.contains("newer than ours"),
        "{}",
        out.stderr
    );
    let still = bao_json(&h, &["kv", "get", "-format=json", &v2]);
    assert_eq!(still["data"]["metadata"]["version"], 1);

    // KV v1, the bare token.
    let v1 = format!("kv1/kjt-sa/{}", unique("v1-"));
    ours(
        &h,
        &[
            "kubeconfig",
            "--service-account",
            &sa,
            "-n",
            &ns,
            "--publish",
            "vault",
            "--path",
            &v1,
            "--publish-value",
            "token",
            "--audience",
            "https://kubernetes.default.svc.cluster.local",
        ],
        &[],
    )
    .ok();
    let token = h.bao(&["kv", "get", "-field=token", &v1]).ok().stdout;
    let who = h.whoami_with_token(token.trim()).ok();
    let who: serde_json::Value = serde_json::from_str(&who.stdout).unwrap();
    assert_eq!(who["status"]["userInfo"]["username"], user.as_str());
    let aud = h.bao(&["kv", "get", "-field=audiences", &v1]).ok().stdout;
    assert_eq!(aud.trim(), "https://kubernetes.default.svc.cluster.local");

    // GitHub Actions: the mask comes first on stdout; the kubeconfig goes to $GITHUB_OUTPUT
    // as a heredoc, in a file created 0600.
    let gh = tmp.path().join("github_output");
    let gh_s = gh.display().to_string();
    let out = ours(
        &h,
        &[
            "kubeconfig",
            "--service-account",
            &sa,
            "-n",
            &ns,
            "--format",
            "github-actions",
        ],
        &[("GITHUB_OUTPUT", &gh_s)],
    )
    .ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the mask on stdout: {}", out.stdout);
    let masked = lines[0].strip_prefix("::add-mask::").unwrap();
    let file = std::fs::read_to_string(&gh).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&gh).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(file.contains(&format!("\nusername={user}\n")), "{file}");
    let (_, rest) = file.split_once("kubeconfig<<").unwrap();
    let (delim, rest) = rest.split_once('\n').unwrap();
    let (kc, _) = rest.split_once(&format!("\n{delim}\n")).unwrap();
    assert!(
        kc.contains(&format!("token: {masked}")),
        "the mask is the token"
    );
    let gh_kc = tmp.path().join("gh.kubeconfig");
    std::fs::write(&gh_kc, format!("{kc}\n")).unwrap();
    assert_eq!(whoami_kubeconfig(&h, &gh_kc), user);

    // GitLab dotenv, the token: one line each, no quotes.
    let out = ours(
        &h,
        &[
            "kubeconfig",
            "--service-account",
            &sa,
            "-n",
            &ns,
            "--format",
            "gitlab-dotenv",
            "--publish-value",
            "token",
        ],
        &[],
    )
    .ok();
    let t = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("KJT_TOKEN="))
        .unwrap();
    let who = h.whoami_with_token(t).ok();
    assert!(who.stdout.contains(&user), "{}", who.stdout);
    assert!(out.stdout.contains(&format!("KJT_USERNAME={user}\n")));
}

#[test]
fn renewal_writes_then_waits_then_renews_with_a_later_expiry() {
    let Some(h) = common::harness() else { return };
    let (ns, sa) = service_account(&h);
    let user = format!("system:serviceaccount:{ns}:{sa}");
    let path = format!("secret/kjt-sa/{}", unique("rot-"));
    let run = |duration: &str, margin: &str| {
        ours(
            &h,
            &[
                "kubeconfig",
                "--service-account",
                &sa,
                "-n",
                &ns,
                "--duration",
                duration,
                "--publish",
                "vault",
                "--path",
                &path,
                "--renew-before",
                margin,
            ],
            &[],
        )
    };
    let version = || {
        bao_json(&h, &["kv", "metadata", "get", "-format=json", &path])["data"]["current_version"]
            .as_u64()
            .unwrap()
    };
    let expiration = || {
        ts(h.bao(&["kv", "get", "-field=expiration", &path])
            .ok()
            .stdout
            .trim())
    };

    // First run: nothing there, so it is due.
    let first = run("1h", "10m").ok();
    assert!(first.stderr.contains("renewal due: "), "{}", first.stderr);
    assert!(first.stdout.contains("published"), "{}", first.stdout);
    assert_eq!(version(), 1);
    let exp1 = expiration();

    // Second run: the record outlives the margin: no TokenRequest, no write.
    let second = run("1h", "10m").ok();
    assert!(
        second.stderr.contains(&format!(
            "nothing to do: vault {path} holds a token for {user}"
        )),
        "{}",
        second.stderr
    );
    assert!(second.stdout.contains("not-due"), "{}", second.stdout);
    assert_eq!(version(), 1);

    // Third run: a margin longer than what is left makes it due: a later token replaces it.
    let third = run("2h", "65m").ok();
    assert!(third.stderr.contains("expiring at"), "{}", third.stderr);
    assert_eq!(version(), 2);
    let exp2 = expiration();
    assert!(exp2 > exp1, "{exp2} not later than {exp1}");
    let kc = h
        .bao(&["kv", "get", "-field=kubeconfig", &path])
        .ok()
        .stdout;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("renewed.kubeconfig");
    std::fs::write(&p, kc).unwrap();
    assert_eq!(whoami_kubeconfig(&h, &p), user);

    // A forged record (a far-future expiry its token does not have) is hostile input: it does
    // not hold renewals off, and the next run replaces it.
    let fields = bao_json(&h, &["kv", "get", "-format=json", &path])["data"]["data"].clone();
    let mut put: Vec<String> = vec!["kv".into(), "put".into(), path.clone()];
    for (k, v) in fields.as_object().unwrap() {
        let v = if k == "expiration" {
            "2099-01-01T00:00:00Z"
        } else {
            v.as_str().unwrap()
        };
        put.push(format!("{k}={v}"));
    }
    let put: Vec<&str> = put.iter().map(String::as_str).collect();
    h.bao(&put).ok();
    assert_eq!(version(), 3);
    let fourth = run("2h", "65m").ok();
    assert!(
        fourth
            .stderr
            .contains("is not a service-account record: its token expires at another time"),
        "{}",
        fourth.stderr
    );
    assert_eq!(version(), 4);
    assert!(expiration() < ts("2099-01-01T00:00:00Z"));
}

#[test]
fn schedule_run_renews_a_service_account_from_its_config_file() {
    let Some(h) = common::harness() else { return };
    let (ns, sa) = service_account(&h);
    let user = format!("system:serviceaccount:{ns}:{sa}");
    let path = format!("secret/kjt-sa/{}", unique("sched-"));
    let instance = unique("sa-");
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config.yaml");
    // The keys are `schedule run`'s long flags; the service-account ones are kubeconfig's.
    std::fs::write(
        &cfg,
        format!(
            "namespace: {ns}\nservice-account: {sa}\nduration: 1h\nevery: 10m\n\
             min-remaining: 10m\npublish-value: token\npublish: vault\npath: {path}\n\
             instance: {instance}\nidentity: node-a\n"
        ),
    )
    .unwrap();
    let cfg_s = cfg.display().to_string();
    let run = |extra: &[&str]| {
        let mut a = vec!["schedule", "run", "--config", cfg_s.as_str()];
        a.extend_from_slice(extra);
        ours(&h, &a, &[])
    };
    let version = || {
        bao_json(&h, &["kv", "metadata", "get", "-format=json", &path])["data"]["current_version"]
            .as_u64()
            .unwrap()
    };
    let expiration = || {
        ts(h.bao(&["kv", "get", "-field=expiration", &path])
            .ok()
            .stdout
            .trim())
    };

    let first = run(&[]).ok();
    assert_eq!(first.stdout, format!("{user}\n"));
    assert!(
        first
            .stderr
            .contains(&format!("renewed: published a token for {user}")),
        "{}",
        first.stderr
    );
    assert_eq!(version(), 1);
    let exp1 = expiration();
    let token = h.bao(&["kv", "get", "-field=token", &path]).ok().stdout;
    let who = h.whoami_with_token(token.trim()).ok();
    assert!(who.stdout.contains(&user), "{}", who.stdout);

    let second = run(&[]).ok();
    assert_eq!(second.stdout, "", "not due: {}", second.stderr);
    assert!(second.stderr.contains("nothing to do"), "{}", second.stderr);
    assert_eq!(version(), 1);

    // A flag on the command line wins over the file: a margin longer than what is left.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let third = run(&["--min-remaining", "59m59s", "--duration", "2h"]).ok();
    assert_eq!(third.stdout, format!("{user}\n"), "{}", third.stderr);
    assert_eq!(version(), 2);
    assert!(expiration() > exp1);
    // The Lease of this instance was released again.
    let lease = h.kubectl(&[
        "-n",
        "kube-system",
        "get",
        "lease",
        &format!("kubectl-jointoken-rotate-{instance}"),
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert!(lease.code != 0 || lease.stdout.is_empty(), "{lease:?}");
}

#[test]
fn file_and_secret_sinks_and_a_join_record_is_never_overwritten() {
    let Some(h) = common::harness() else { return };
    let (ns, sa) = service_account(&h);
    let user = format!("system:serviceaccount:{ns}:{sa}");
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("sa.json");
    let secret = unique("sa-cred-");
    ours(
        &h,
        &[
            "kubeconfig",
            "--service-account",
            &sa,
            "-n",
            &ns,
            "--publish",
            "file,secret",
            "--file",
            json.to_str().unwrap(),
            "--file-format",
            "json",
            "--secret-name",
            &secret,
            "--secret-namespace",
            &ns,
        ],
        &[],
    )
    .ok();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&json).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(rec["username"], user.as_str());
    let kc = tmp.path().join("from-file.kubeconfig");
    std::fs::write(&kc, rec["kubeconfig"].as_str().unwrap()).unwrap();
    assert_eq!(whoami_kubeconfig(&h, &kc), user);
    // The Secret, read with kubectl: the same record.
    let kc2 = tmp.path().join("from-secret.kubeconfig");
    std::fs::write(&kc2, secret_kubeconfig(&h, &ns, &secret)).unwrap();
    assert_eq!(whoami_kubeconfig(&h, &kc2), user);

    // A path that holds a bootstrap token's join record is not a service account's to take.
    let path = format!("secret/kjt-sa/{}", unique("join-"));
    ours(
        &h,
        &[
            "create",
            "--ttl",
            "10m",
            "--description",
            "e2e-sa-other-kind",
            "--publish",
            "vault",
            "--path",
            &path,
            "-o",
            "name",
        ],
        &[],
    )
    .ok();
    let before = h.bao(&["kv", "get", "-field=token_id", &path]).ok().stdout;
    let out = ours(
        &h,
        &[
            "kubeconfig",
            "--service-account",
            &sa,
            "-n",
            &ns,
            "--publish",
            "vault",
            "--path",
            &path,
            "--replace-newer",
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{path} holds a join record ({}), not a service account record",
            before.trim()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        h.bao(&["kv", "get", "-field=token_id", &path]).ok().stdout,
        before
    );
    h.kubeadm(&["token", "delete", before.trim()]).ok();
}

/// `schedule install --cronjob` in service-account mode: the job's ServiceAccount may request
/// the token of exactly that account and write exactly the sink's Secret, in their namespace,
/// and no bootstrap-token Secret at all; a run as that ServiceAccount does the whole renewal
/// (so the grants are enough); `uninstall --cronjob` removes the Role it has in the other
/// namespace too.
#[test]
fn a_service_account_cronjob_may_renew_exactly_that_token() {
    let Some(h) = common::harness() else { return };
    let (ns, sa) = service_account(&h);
    let instance = unique("sa-cron-");
    let secret = unique("sa-cred-");
    let run_flags = [
        "--service-account",
        sa.as_str(),
        "--namespace",
        ns.as_str(),
        "--publish",
        "secret",
        "--secret-name",
        secret.as_str(),
        "--secret-namespace",
        ns.as_str(),
    ];
    let cronjob = |action: &'static str| {
        let mut a = vec![
            "schedule",
            action,
            "--cronjob",
            "--image",
            "registry.example/kubectl-jointoken:0.1.0",
            "--instance",
            instance.as_str(),
            "--",
        ];
        a.extend_from_slice(&run_flags);
        a
    };
    let rendered = ours(&h, &cronjob("render"), &[]).ok().stdout;
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("cronjob.yaml");
    std::fs::write(&f, &rendered).unwrap();
    let dry = h
        .kubectl(&["apply", "--dry-run=server", "-f", f.to_str().unwrap()])
        .ok();
    // ServiceAccount, Role + RoleBinding in kube-system and in the account's namespace, CronJob.
    assert_eq!(dry.stdout.lines().count(), 6, "{}", dry.stdout);
    ours(&h, &cronjob("install"), &[]).ok();
    let name = format!("kubectl-jointoken-rotate-{instance}");
    let job_sa = format!("system:serviceaccount:kube-system:{name}");
    let can = |args: &[&str]| {
        let mut a = vec!["auth", "can-i", "--as", job_sa.as_str()];
        a.extend_from_slice(args);
        h.kubectl(&a).stdout.trim().to_string()
    };
    let token_of = |who: &str| format!("serviceaccounts/{who}");
    assert_eq!(
        can(&["-n", &ns, "create", &token_of(&sa), "--subresource=token"]),
        "yes"
    );
    assert_eq!(
        can(&[
            "-n",
            &ns,
            "create",
            &token_of("default"),
            "--subresource=token"
        ]),
        "no"
    );
    assert_eq!(
        can(&["-n", &ns, "get", &format!("secrets/{secret}")]),
        "yes"
    );
    assert_eq!(
        can(&["-n", &ns, "patch", &format!("secrets/{secret}")]),
        "yes"
    );
    assert_eq!(can(&["-n", &ns, "get", "secrets/other"]), "no");
    // A first server-side apply is a create: allowed in that namespace only.
    assert_eq!(can(&["-n", &ns, "create", "secrets"]), "yes");
    assert_eq!(can(&["-n", "default", "create", "secrets"]), "no");
    assert_eq!(can(&["-n", &ns, "list", "secrets"]), "no");
    assert_eq!(can(&["-n", "kube-system", "list", "secrets"]), "no");
    assert_eq!(can(&["-n", "kube-system", "create", "secrets"]), "no");
    assert_eq!(
        can(&["-n", "kube-system", "update", &format!("leases/{name}")]),
        "yes"
    );
    // The grants are enough: the job's run, as its ServiceAccount.
    let mut run = vec![
        "schedule",
        "run",
        "--as",
        job_sa.as_str(),
        "--instance",
        &instance,
    ];
    run.extend_from_slice(&run_flags);
    let out = ours(&h, &run, &[]).ok();
    let user = format!("system:serviceaccount:{ns}:{sa}");
    assert_eq!(out.stdout, format!("{user}\n"), "{}", out.stderr);
    let kc = tmp.path().join("renewed.kubeconfig");
    std::fs::write(&kc, secret_kubeconfig(&h, &ns, &secret)).unwrap();
    assert_eq!(whoami_kubeconfig(&h, &kc), user);
    // Uninstall finds the Role in the other namespace through the CronJob's annotation.
    ours(
        &h,
        &[
            "schedule",
            "uninstall",
            "--cronjob",
            "--instance",
            &instance,
        ],
        &[],
    )
    .ok();
    for (kind, where_) in [
        ("cronjob", "kube-system"),
        ("role", "kube-system"),
        ("rolebinding", "kube-system"),
        ("serviceaccount", "kube-system"),
        ("role", ns.as_str()),
        ("rolebinding", ns.as_str()),
    ] {
        let left = h.kubectl(&["-n", where_, "get", kind, &name]);
        assert_ne!(left.code, 0, "{kind} {where_}/{name} left after uninstall");
    }
    h.kubectl(&["delete", "namespace", &ns, "--wait=false"])
        .ok();
}
