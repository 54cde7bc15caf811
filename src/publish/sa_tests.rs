//! Unit tests of [`super`]: the record's fields and round trip, hostile records refused
//! naming the field and never the token, the "never replaced by one that expires earlier"
//! rule, and when a renewal is due.

use super::*;
use crate::publish::{Decision, Existing, Record, decide, existing_from_fields};

/// A JWT-shaped token with these claims (unsigned: the record never checks signatures).
pub fn jwt(sub: &str, exp: i64, aud: &[&str]) -> String {
    let e = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2ln",
        e(r#"{"alg":"RS256"}"#.into()),
        e(serde_json::json!({"sub": sub, "exp": exp, "aud": aud}).to_string())
    )
}

pub fn sa_record(exp: &str, value: PublishValue) -> SaRecord {
    let expiration: Timestamp = exp.parse().unwrap();
    let token = jwt(
        "system:serviceaccount:ci:scanner",
        expiration.as_second(),
        &["https://kubernetes.default.svc"],
    );
    let kubeconfig = (value == PublishValue::Kubeconfig).then(|| {
        let doc = crate::kubeconfig::token_kubeconfig(
            "kind",
            "https://10.0.0.1:6443",
            &[vec![1, 2, 3]],
            "ci-scanner",
            &token,
            Some("ci"),
        );
        crate::output::to_yaml(&doc).unwrap()
    });
    SaRecord {
        namespace: "ci".into(),
        service_account: "scanner".into(),
        expiration,
        audiences: vec![],
        server: "https://10.0.0.1:6443".into(),
        token,
        kubeconfig,
    }
}

fn map(r: &SaRecord) -> BTreeMap<String, String> {
    r.fields().into_iter().map(|(k, v)| (k.into(), v)).collect()
}

#[test]
fn fields_round_trip_for_both_values() {
    for v in [PublishValue::Kubeconfig, PublishValue::Token] {
        let r = sa_record("2026-12-02T10:00:00Z", v);
        let back = SaRecord::from_fields(&map(&r), "vault kv/x").unwrap();
        assert_eq!(back, r);
        assert_eq!(back.value(), v);
    }
    let names: Vec<_> = sa_record("2026-12-02T10:00:00Z", PublishValue::Token)
        .fields()
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(
        names,
        [
            "kind",
            "username",
            "namespace",
            "service_account",
            "expiration",
            "audiences",
            "server",
            "token"
        ]
    );
}

#[test]
fn hostile_records_are_refused_naming_the_field_never_the_token() {
    let r = sa_record("2026-12-02T10:00:00Z", PublishValue::Token);
    let good = map(&r);
    let with = |k: &str, v: &str| {
        let mut m = good.clone();
        m.insert(k.into(), v.into());
        m
    };
    let refused = |m: &BTreeMap<String, String>| {
        let e = SaRecord::from_fields(m, "vault kv/x")
            .unwrap_err()
            .to_string();
        assert!(!e.contains(&r.token), "{e}");
        assert!(
            e.starts_with("vault kv/x is not a service-account record: "),
            "{e}"
        );
        e
    };
    // A record claiming a later expiry than its token has would stop renewals.
    let e = refused(&with("expiration", "2030-01-01T00:00:00Z"));
    assert!(
        e.contains("expires at another time than field expiration"),
        "{e}"
    );
    let e = refused(&with("namespace", "ci; reboot"));
    assert!(e.contains("field namespace"), "{e}");
    let e = refused(&with(
        "username",
        "system:serviceaccount:kube-system:default",
    ));
    assert!(e.contains("field username"), "{e}");
    let e = refused(&with("token", "not-a-jwt; rm -rf /"));
    assert!(e.contains("not a JWT"), "{e}");
    let other = jwt(
        "system:serviceaccount:kube-system:admin",
        r.expiration.as_second(),
        &[],
    );
    let e = refused(&with("token", &other));
    assert!(e.contains("subject"), "{e}");
    let e = refused(&with("server", "https://h:6443/$(reboot)"));
    assert!(e.contains("field server"), "{e}");
    let e = refused(&with("audiences", "a b"));
    assert!(e.contains("field audiences"), "{e}");
    let e = refused(&with("kind", "join"));
    assert!(e.contains("field kind"), "{e}");
    let mut both = with("kubeconfig", "x: y");
    both.insert("token".into(), r.token.clone());
    assert!(refused(&both).contains("exactly one of"));
    // A kubeconfig that points elsewhere, or that is not YAML, is refused too.
    let kc = sa_record("2026-12-02T10:00:00Z", PublishValue::Kubeconfig);
    let mut m = map(&kc);
    m.insert("server".into(), "https://evil.example:443".into());
    let e = SaRecord::from_fields(&m, "x").unwrap_err().to_string();
    assert!(e.contains("another server"), "{e}");
    m.insert("kubeconfig".into(), format!("{}: [", kc.token));
    let e = SaRecord::from_fields(&m, "x").unwrap_err().to_string();
    assert!(e.contains("is not YAML") && !e.contains(&kc.token), "{e}");
}

#[test]
fn audiences_must_match_the_token() {
    let mut r = sa_record("2026-12-02T10:00:00Z", PublishValue::Token);
    r.audiences = vec!["https://kubernetes.default.svc".into()];
    assert!(SaRecord::from_fields(&map(&r), "x").is_ok());
    r.audiences = vec!["vault".into()];
    let e = SaRecord::from_fields(&map(&r), "x")
        .unwrap_err()
        .to_string();
    assert!(e.contains("audiences differ"), "{e}");
}

#[test]
fn debug_and_names_never_show_the_token() {
    let r = sa_record("2026-12-02T10:00:00Z", PublishValue::Kubeconfig);
    let d = format!("{r:?}");
    assert!(!d.contains(&r.token), "{d}");
    assert_eq!(r.id(), "system:serviceaccount:ci:scanner");
    assert_eq!(r.secrets(), vec![r.token.clone()]);
}

#[test]
fn never_replaced_by_one_that_expires_earlier() {
    let ours = sa_record("2026-12-02T10:00:00Z", PublishValue::Kubeconfig);
    let ex = |e: &str| Existing {
        token_id: "system:serviceaccount:ci:scanner".into(),
        expiration: e.into(),
    };
    assert_eq!(
        decide(Some(&ex("2026-12-02T11:00:00Z")), &ours),
        Decision::KeepNewer
    );
    assert_eq!(
        decide(Some(&ex("2026-12-02T09:00:00Z")), &ours),
        Decision::Replace
    );
    assert_eq!(
        decide(Some(&ex("2026-12-02T10:00:00Z")), &ours),
        Decision::Same
    );
    // A join record at the same place is another kind.
    let join = Existing {
        token_id: "abcdef".into(),
        expiration: "2020-01-01T00:00:00Z".into(),
    };
    assert_eq!(decide(Some(&join), &ours), Decision::OtherKind);
    // The fields name the record for the rule.
    assert_eq!(
        existing_from_fields(&map(&ours)),
        Some(ex("2026-12-02T10:00:00Z"))
    );
}

#[test]
fn renewal_is_due_unless_every_readable_sink_holds_a_fresh_valid_record() {
    let user = "system:serviceaccount:ci:scanner";
    let m = std::time::Duration::from_secs(600);
    let now: Timestamp = "2026-12-02T09:00:00Z".parse().unwrap();
    let at = |e: &str| Some(map(&sa_record(e, PublishValue::Token)));
    let s = |n: &str, f| (n.to_string(), f);
    let fresh = renewal(
        &[
            s("vault a", at("2026-12-02T10:00:00Z")),
            s("vault b", at("2026-12-02T09:30:00Z")),
        ],
        user,
        m,
        now,
    );
    assert_eq!(
        fresh,
        Renewal::NotDue {
            sink: "vault b".into(),
            expiration: "2026-12-02T09:30:00Z".parse().unwrap(),
            due: "2026-12-02T09:20:00Z".parse().unwrap(),
        }
    );
    // Inside the margin, missing, another account's, or invalid: due.
    let inside = renewal(&[s("vault a", at("2026-12-02T09:05:00Z"))], user, m, now);
    assert!(
        matches!(inside, Renewal::Due(ref w) if w.contains("expiring at 2026-12-02T09:05:00Z")),
        "{inside:?}"
    );
    assert!(matches!(
        renewal(&[s("vault a", None)], user, m, now),
        Renewal::Due(_)
    ));
    assert!(matches!(renewal(&[], user, m, now), Renewal::Due(_)));
    let other = renewal(
        &[s("vault a", at("2026-12-02T10:00:00Z"))],
        "system:serviceaccount:x:y",
        m,
        now,
    );
    assert!(
        matches!(other, Renewal::Due(ref w) if w.contains("holds a record of system:serviceaccount:ci:scanner")),
        "{other:?}"
    );
    let mut forged = at("2026-12-02T10:00:00Z").unwrap();
    forged.insert("expiration".into(), "2099-01-01T00:00:00Z".into());
    let r = renewal(&[s("vault a", Some(forged))], user, m, now);
    assert!(
        matches!(r, Renewal::Due(ref w) if w.contains("not a service-account record")),
        "{r:?}"
    );
}

proptest::proptest! {
    /// A record is outside input: no edit of a valid one panics the parser, and whatever
    /// it accepts still has a token that agrees with its user name and expiry.
    #[test]
    fn arbitrary_edits_never_panic_and_accepted_records_agree(
        value in proptest::prop_oneof![
            proptest::strategy::Just(PublishValue::Kubeconfig),
            proptest::strategy::Just(PublishValue::Token),
        ],
        edits in proptest::collection::btree_map(
            proptest::sample::select(vec![
                field::KIND, field::USERNAME, field::NAMESPACE, field::SERVICE_ACCOUNT,
                field::EXPIRATION, field::AUDIENCES, field::SERVER, field::KUBECONFIG,
                field::TOKEN, "other",
            ]),
            proptest::option::of(".{0,60}"),
            0..4,
        ),
    ) {
        let mut m = map(&sa_record("2026-12-02T10:00:00Z", value));
        for (k, v) in edits {
            match v {
                Some(v) => m.insert(k.to_string(), v),
                None => m.remove(k),
            };
        }
        if let Ok(r) = SaRecord::from_fields(&m, "x") {
            let claims = jwt_claims(&r.token).unwrap();
            let user = r.username();
            proptest::prop_assert_eq!(claims["sub"].as_str(), Some(user.as_str()));
            proptest::prop_assert_eq!(claims["exp"].as_i64(), Some(r.expiration.as_second()));
        }
    }
}

#[test]
fn names_and_due_time() {
    assert!(valid_name("ci") && valid_name("a.b-c") && !valid_name("A") && !valid_name(""));
    assert!(!valid_name("-a") && !valid_name("a..b") && !valid_name("a b"));
    let t: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
    assert_eq!(
        due_at(t, std::time::Duration::from_secs(600)).to_string(),
        "2026-12-02T09:50:00Z"
    );
}
