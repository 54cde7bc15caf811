//! Unit tests of [`super`]: the codec, the Secret format both ways, expiry maths.
use super::*;
use std::collections::HashSet;

fn spec() -> TokenSpec {
    TokenSpec {
        token: "abcdef.0123456789abcdef".parse().unwrap(),
        fresh: false,
        description: Some("for node-7".into()),
        expires: Some("2026-11-24T08:00:00Z".parse().unwrap()),
        usages: vec!["signing".into(), "authentication".into()],
        groups: vec![DEFAULT_GROUP.into()],
        labels: BTreeMap::new(),
    }
}

#[test]
fn generated_tokens_have_the_right_form_and_do_not_repeat() {
    let mut seen = HashSet::new();
    let mut chars = HashSet::new();
    for _ in 0..20_000 {
        let t = Token::generate().unwrap();
        let s = t.expose();
        assert_eq!(s.len(), 23);
        let reparsed: Token = s.parse().unwrap();
        assert_eq!(reparsed, t);
        chars.extend(s.bytes().filter(|b| *b != b'.'));
        assert!(seen.insert(s), "duplicate token");
    }
    // Every one of the 36 characters shows up in a large sample.
    assert_eq!(chars.len(), 36);
}

#[test]
fn generation_is_roughly_uniform() {
    // 36 buckets over 360k characters: a modulo bias of 256 % 36 would push the first four
    // characters ~14% above the rest; allow 5% around the mean.
    let mut counts = [0usize; 36];
    for _ in 0..(360_000 / 16) {
        for b in random_string(16).unwrap().bytes() {
            let i = ALPHABET.iter().position(|a| *a == b).unwrap();
            counts[i] += 1;
        }
    }
    for c in counts {
        assert!((9500..=10500).contains(&c), "bucket {c}");
    }
}

#[test]
fn parse_rejects_malformed_tokens() {
    for bad in [
        "",
        "abcdef",
        "abcdef.",
        "abcde.0123456789abcdef",
        "abcdef.0123456789abcde",
        "ABCDEF.0123456789abcdef",
        "abcdef:0123456789abcdef",
        "abcdef.0123456789abcdef.",
        "abc-ef.0123456789abcdef",
    ] {
        assert!(bad.parse::<Token>().is_err(), "{bad:?}");
    }
}

#[test]
fn debug_never_shows_the_secret() {
    let t: Token = "abcdef.0123456789abcdef".parse().unwrap();
    assert!(!format!("{t:?}").contains("0123456789abcdef"));
    assert_eq!(t.masked(), "abcdef.****************");
}

#[test]
fn secret_is_written_as_kubeadm_writes_it() {
    let s = spec().to_secret();
    assert_eq!(s.metadata.name.as_deref(), Some("bootstrap-token-abcdef"));
    assert_eq!(s.metadata.namespace.as_deref(), Some("kube-system"));
    assert_eq!(s.type_.as_deref(), Some(SECRET_TYPE));
    let data: BTreeMap<_, _> = s
        .data
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(v.0).unwrap()))
        .collect();
    let want: BTreeMap<String, String> = [
        ("auth-extra-groups", DEFAULT_GROUP),
        ("description", "for node-7"),
        ("expiration", "2026-11-24T08:00:00Z"),
        ("token-id", "abcdef"),
        ("token-secret", "0123456789abcdef"),
        ("usage-bootstrap-authentication", "true"),
        ("usage-bootstrap-signing", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect();
    assert_eq!(data, want);
    assert!(s.metadata.labels.is_none());
}

#[test]
fn never_expiring_tokens_have_no_expiration_key() {
    let mut sp = spec();
    sp.expires = None;
    sp.description = None;
    sp.groups.clear();
    let data = sp.to_secret().data.unwrap();
    assert!(!data.contains_key("expiration"));
    assert!(!data.contains_key("description"));
    assert!(!data.contains_key("auth-extra-groups"));
}

#[test]
fn round_trip_through_the_secret() {
    let sp = spec();
    let mut secret = sp.to_secret();
    secret.metadata.uid = Some("u-1".into());
    let r = TokenRecord::from_secret(&secret);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.token.as_ref().unwrap(), &sp.token);
    assert_eq!(r.expires, Expiry::At(sp.expires.unwrap()));
    assert_eq!(r.usages, vec!["authentication", "signing"]);
    assert_eq!(r.groups, sp.groups);
    assert_eq!(r.description.as_deref(), Some("for node-7"));
    assert_eq!(r.uid.as_deref(), Some("u-1"));
}

#[test]
fn decode_follows_the_authenticators_rules() {
    let mut secret = spec().to_secret();
    let data = secret.data.as_mut().unwrap();
    // Only the exact string "true" counts as a usage.
    data.insert(
        "usage-bootstrap-signing".into(),
        ByteString(b"True".to_vec()),
    );
    data.insert("expiration".into(), ByteString(b"tomorrow".to_vec()));
    data.insert(
        "auth-extra-groups".into(),
        ByteString(b"system:bootstrappers:ok,system:masters".to_vec()),
    );
    let r = TokenRecord::from_secret(&secret);
    assert_eq!(r.usages, vec!["authentication"]);
    assert!(matches!(r.expires, Expiry::Unparseable(_)));
    assert!(r.expires.is_expired(Timestamp::UNIX_EPOCH));
    assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
}

#[test]
fn decode_flags_id_mismatch_and_missing_fields() {
    let mut secret = spec().to_secret();
    secret.metadata.name = Some("bootstrap-token-zzzzzz".into());
    secret.data.as_mut().unwrap().remove("token-secret");
    let r = TokenRecord::from_secret(&secret);
    assert!(r.token.is_none());
    assert!(r.problems.iter().any(|p| p.contains("does not match")));
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("missing token-secret"))
    );
    assert_eq!(r.display_token(true), "abcdef.****************");
}

#[test]
fn groups_and_usages_are_validated() {
    assert!(validate_group("system:bootstrappers:kubeadm:default-node-token").is_ok());
    assert!(validate_group("system:bootstrappers:a").is_ok());
    for bad in [
        "system:bootstrappers:",
        "system:bootstrappers:x-",
        "system:bootstrappers:UPPER",
        "system:masters",
        "system:bootstrappers",
    ] {
        assert!(validate_group(bad).is_err(), "{bad}");
    }
    let mut sp = spec();
    sp.usages = vec!["signing".into()];
    assert!(sp.validate().unwrap_err().contains("authentication"));
    sp.usages = vec!["frobnicate".into()];
    assert!(sp.validate().unwrap_err().contains("invalid usage"));
}

#[test]
fn expiry_maths_with_a_fixed_clock() {
    let now: Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
    assert!(!Expiry::Never.is_expired(now));
    // Go's After: valid at the expiry instant, expired one nanosecond later.
    assert!(!Expiry::At(now).is_expired(now));
    assert!(Expiry::At(now).is_expired(now + jiff::SignedDuration::from_nanos(1)));
    assert!(!Expiry::At("2026-11-23T08:00:01Z".parse().unwrap()).is_expired(now));
    assert_eq!(
        format_expiration("2026-11-23T08:00:00.750+01:00".parse().unwrap()),
        "2026-11-23T07:00:00Z"
    );
}

#[test]
fn expiration_parses_exactly_as_go_rfc3339() {
    for ok in [
        "2026-11-23T08:00:00Z",
        "2026-11-23T08:00:00.5Z",
        "2026-11-23T08:00:00.123456789+01:00",
        "2026-11-23T08:00:00-05:30",
    ] {
        assert!(parse_expiration(ok).is_some(), "{ok}");
    }
    for bad in [
        "2026-11-23T08:00Z",
        "2026-11-23t08:00:00Z",
        "2026-11-23T08:00:00z",
        "2026-11-23 08:00:00Z",
        "2026-11-23T08:00:00",
        "2026-11-23T08:00:60Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T08:00:00.Z",
        "2026-11-23T08:00:00+0100",
        "2026-11-23T08:00:00+01",
        "2026-02-30T08:00:00Z",
        "",
        "soon",
    ] {
        assert!(parse_expiration(bad).is_none(), "{bad}");
    }
    assert_eq!(
        parse_expiration("2026-11-23T08:00:00.750+01:00").map(format_expiration),
        Some("2026-11-23T07:00:00Z".into())
    );
}

proptest::proptest! {
    #[test]
    fn expiration_parsing_never_panics(s in "\\PC{0,40}") {
        let _ = parse_expiration(&s);
    }

    #[test]
    fn formatted_expirations_parse_back(secs in 0i64..4_000_000_000) {
        let t = Timestamp::from_second(secs).unwrap();
        proptest::prop_assert_eq!(parse_expiration(&format_expiration(t)), Some(t));
    }
}

#[test]
fn parts_decode_as_the_secret_does_and_a_repeated_key_counts_once() {
    let s = spec().to_secret();
    let from_secret = TokenRecord::from_secret(&s);
    let mut data: Vec<(&str, &[u8])> = s
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.0.as_slice()))
        .collect();
    // Wire order is not map order.
    data.reverse();
    let parts =
        TokenRecord::from_parts(from_secret.name.clone(), None, None, BTreeMap::new(), &data);
    assert_eq!(format!("{parts:?}"), format!("{from_secret:?}"));
    // A key sent twice (protobuf map entries can repeat): the last one counts, once.
    data.push(("usage-bootstrap-signing", b"false"));
    data.push(("usage-bootstrap-authentication", b"true"));
    let again = TokenRecord::from_parts(parts.name.clone(), None, None, BTreeMap::new(), &data);
    assert_eq!(again.usages, ["authentication"]);
}
