//! Unit tests of [`super`]: flags over env over defaults, strict parsing, token sources,
//! the inputs each login needs, and when a run warns about an unverified connection.

use super::*;
use crate::publish::vault::args::DEFAULT_JWT_FILE;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| m.get(k).cloned()
}

fn args() -> VaultArgs {
    VaultArgs {
        vault_jwt_file: DEFAULT_JWT_FILE.into(),
        ..Default::default()
    }
}

#[test]
fn skip_verify_is_a_strict_boolean() {
    for t in ["1", "t", "T", "true", "TRUE", "True"] {
        assert!(parse_bool_strict("X", t).unwrap());
    }
    for f in ["0", "f", "F", "false", "FALSE", "False"] {
        assert!(!parse_bool_strict("X", f).unwrap());
    }
    for bad in ["", "yes", "no", " true", "2", "tRuE"] {
        let e = parse_bool_strict("VAULT_SKIP_VERIFY", bad).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("invalid VAULT_SKIP_VERIFY"),
            "{e}"
        );
    }
    let e = resolve(
        &args(),
        &env(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", "")]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("VAULT_SKIP_VERIFY \"\""), "{e}");
    let s = resolve(
        &args(),
        &env(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", "true")]),
    )
    .unwrap();
    assert!(s.skip_verify);
    // The flag overrides the env.
    let mut a = args();
    a.vault_skip_verify = Some("false".into());
    let s = resolve(
        &a,
        &env(&[("VAULT_TOKEN", "x"), ("VAULT_SKIP_VERIFY", "junk")]),
    )
    .unwrap();
    assert!(!s.skip_verify);
}

#[test]
fn env_is_resolved_like_the_vault_cli() {
    let s = resolve(
        &args(),
        &env(&[
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_TOKEN", "s.x"),
            ("VAULT_NAMESPACE", "team/"),
            ("VAULT_CACERT", "/ca.pem"),
            ("VAULT_TLS_SERVER_NAME", "vault.internal"),
            ("VAULT_CLIENT_TIMEOUT", "5s"),
        ]),
    )
    .unwrap();
    assert_eq!(s.addr.as_str(), "http://127.0.0.1:8200/");
    assert_eq!(s.namespace.as_deref(), Some("team"));
    assert_eq!(s.ca_cert, Some(PathBuf::from("/ca.pem")));
    assert_eq!(s.tls_server_name.as_deref(), Some("vault.internal"));
    assert_eq!(s.timeout, Some(Duration::from_secs(5)));
    assert_eq!(s.auth, Auth::Token(TokenSource::Env));
    // Defaults as the CLI: https://127.0.0.1:8200, 60s.
    let s = resolve(&args(), &env(&[("VAULT_TOKEN", "x")])).unwrap();
    assert_eq!(s.addr.as_str(), "https://127.0.0.1:8200/");
    assert_eq!(s.timeout, Some(DEFAULT_TIMEOUT));
    // Flags override env.
    let mut a = args();
    a.vault_addr = Some("https://vault.example:8200".into());
    let s = resolve(
        &a,
        &env(&[("VAULT_ADDR", "http://other:1"), ("VAULT_TOKEN", "x")]),
    )
    .unwrap();
    assert_eq!(s.addr.host_str(), Some("vault.example"));
}

#[test]
fn malformed_addresses_are_usage_errors_not_panics() {
    for bad in ["127.0.0.1:8200", "ftp://x", "http://", "::::", "vault"] {
        let e = resolve(&args(), &env(&[("VAULT_ADDR", bad), ("VAULT_TOKEN", "x")])).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{bad}");
        assert!(e.to_string().contains("invalid VAULT_ADDR"), "{e}");
    }
}

#[test]
fn token_sources_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let creds = dir.path().join("creds");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&creds).unwrap();
    std::fs::write(home.join(".vault-token"), "h").unwrap();
    let h = home.to_str().unwrap();
    let c = creds.to_str().unwrap();
    let auth = |a: &VaultArgs, e: &[(&str, &str)]| resolve(a, &env(e)).map(|s| s.auth);
    assert_eq!(
        auth(&args(), &[("HOME", h)]).unwrap(),
        Auth::Token(TokenSource::File(home.join(".vault-token")))
    );
    std::fs::write(creds.join("vault-token"), "c").unwrap();
    assert_eq!(
        auth(&args(), &[("HOME", h), ("CREDENTIALS_DIRECTORY", c)]).unwrap(),
        Auth::Token(TokenSource::File(creds.join("vault-token")))
    );
    assert_eq!(
        auth(
            &args(),
            &[
                ("HOME", h),
                ("CREDENTIALS_DIRECTORY", c),
                ("VAULT_TOKEN", "e")
            ]
        )
        .unwrap(),
        Auth::Token(TokenSource::Env)
    );
    let mut a = args();
    a.vault_token_file = Some("/run/agent/token".into());
    assert_eq!(
        auth(&a, &[("VAULT_TOKEN", "e")]).unwrap(),
        Auth::Token(TokenSource::File("/run/agent/token".into()))
    );
    let e = auth(&args(), &[("HOME", "/nonexistent")]).unwrap_err();
    assert!(e.to_string().starts_with("no Vault token"), "{e}");
}

#[test]
fn login_methods_need_their_inputs() {
    let mut a = args();
    a.vault_auth = AuthMethod::Approle;
    assert!(
        resolve(&a, &env(&[]))
            .unwrap_err()
            .to_string()
            .contains("--vault-role-id-file")
    );
    let s = resolve(&a, &env(&[("CREDENTIALS_DIRECTORY", "/run/creds")])).unwrap();
    assert_eq!(
        s.auth,
        Auth::AppRole {
            mount: "approle".into(),
            role_id_file: "/run/creds/vault-role-id".into(),
            secret_id_file: "/run/creds/vault-secret-id".into()
        }
    );
    a.vault_auth = AuthMethod::Kubernetes;
    assert!(resolve(&a, &env(&[])).is_err());
    a.vault_role = Some("joiner".into());
    a.vault_auth_mount = Some("/k8s-prod/".into());
    assert_eq!(
        resolve(&a, &env(&[])).unwrap().auth,
        Auth::Kubernetes {
            mount: "k8s-prod".into(),
            role: "joiner".into(),
            jwt_file: DEFAULT_JWT_FILE.into()
        }
    );
    a.vault_auth = AuthMethod::Cert;
    a.vault_auth_mount = None;
    assert!(
        resolve(&a, &env(&[]))
            .unwrap_err()
            .to_string()
            .contains("client certificate")
    );
    let s = resolve(
        &a,
        &env(&[
            ("VAULT_CLIENT_CERT", "/c.pem"),
            ("VAULT_CLIENT_KEY", "/k.pem"),
        ]),
    )
    .unwrap();
    assert_eq!(
        s.auth,
        Auth::Cert {
            mount: "cert".into(),
            name: Some("joiner".into())
        }
    );
    let e = resolve(
        &args(),
        &env(&[("VAULT_TOKEN", "x"), ("VAULT_CLIENT_CERT", "/c.pem")]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("needs its key"), "{e}");
}

#[test]
fn timeout_zero_means_none() {
    let mut a = args();
    a.vault_timeout = Some("0".into());
    assert_eq!(
        resolve(&a, &env(&[("VAULT_TOKEN", "x")])).unwrap().timeout,
        None
    );
    let s = resolve(
        &args(),
        &env(&[("VAULT_TOKEN", "x"), ("VAULT_CLIENT_TIMEOUT", "0s")]),
    )
    .unwrap();
    assert_eq!(s.timeout, None);
    let s = resolve(
        &args(),
        &env(&[("VAULT_TOKEN", "x"), ("VAULT_CLIENT_TIMEOUT", "90")]),
    )
    .unwrap();
    assert_eq!(s.timeout, Some(Duration::from_secs(90)));
}

#[test]
fn addresses_with_a_path_or_credentials_are_refused_without_echo() {
    let e = resolve(
        &args(),
        &env(&[
            ("VAULT_ADDR", "https://vault:8200/secret"),
            ("VAULT_TOKEN", "x"),
        ]),
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert_eq!(
        e.to_string(),
        "VAULT_ADDR must be scheme://host:port without a path: put the KV mount and path into \
         --mount/--path instead"
    );
    for q in ["https://vault:8200/?x=1", "https://vault:8200/#f"] {
        let e = parse_addr("VAULT_ADDR", q).unwrap_err();
        assert!(e.to_string().contains("without a path"), "{e}");
    }
    let e = parse_addr("--vault-addr", "http://admin:hunter2@vault:8200").unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert_eq!(
        e.to_string(),
        "--vault-addr must not hold a user name or password: pass the credential with \
         VAULT_TOKEN or --vault-auth instead"
    );
    // A malformed address holding a password is not echoed either.
    let e = parse_addr("VAULT_ADDR", "http://admin:hunter2@").unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(parse_addr("VAULT_ADDR", "https://vault:8200/").is_ok());
}

#[test]
fn unverified_connections_are_named() {
    let s = |pairs: &[(&str, &str)]| {
        let mut all = vec![("VAULT_TOKEN", "x")];
        all.extend_from_slice(pairs);
        resolve(&args(), &env(&all)).unwrap().unverified_reason()
    };
    assert_eq!(s(&[("VAULT_ADDR", "https://vault:8200")]), None);
    for local in [
        "http://127.0.0.1:8200",
        "http://localhost:8200",
        "http://[::1]:8200",
    ] {
        assert_eq!(s(&[("VAULT_ADDR", local)]), None, "{local}");
    }
    let why = s(&[("VAULT_ADDR", "http://vault.example:8200")]).unwrap();
    assert!(
        why.starts_with("http://vault.example:8200 is plain http to a host that is not loopback"),
        "{why}"
    );
    let why = s(&[
        ("VAULT_ADDR", "https://vault:8200"),
        ("VAULT_SKIP_VERIFY", "true"),
    ])
    .unwrap();
    assert!(why.contains("VAULT_SKIP_VERIFY"), "{why}");
}
