//! Property tests of [`super`]: token grammar, hostile Secrets, written specs read back.
use super::*;
use k8s_openapi::ByteString;

proptest::proptest! {
    #[test]
    fn token_parsing_never_panics(s in "\\PC{0,40}") {
        let _ = s.parse::<Token>();
    }

    #[test]
    fn valid_tokens_round_trip(id in "[a-z0-9]{6}", secret in "[a-z0-9]{16}") {
        let t: Token = format!("{id}.{secret}").parse().unwrap();
        proptest::prop_assert_eq!(t.expose(), format!("{id}.{secret}"));
    }

    /// A Secret anyone could have written: decoding reports problems, never panics, and
    /// never yields a token whose parts are not the token grammar.
    #[test]
    fn hostile_secrets_decode_without_panic(
        entries in proptest::collection::btree_map("[a-z-]{1,20}", proptest::collection::vec(proptest::num::u8::ANY, 0..40), 0..8),
        id in proptest::option::of("\\PC{0,10}"),
        secret in proptest::option::of("\\PC{0,20}"),
        exp in proptest::option::of("\\PC{0,30}"),
    ) {
        let mut data: BTreeMap<String, ByteString> =
            entries.into_iter().map(|(k, v)| (k, ByteString(v))).collect();
        if let Some(i) = id { data.insert("token-id".into(), ByteString(i.into_bytes())); }
        if let Some(s) = secret { data.insert("token-secret".into(), ByteString(s.into_bytes())); }
        if let Some(e) = exp { data.insert("expiration".into(), ByteString(e.into_bytes())); }
        let s = Secret { data: Some(data), type_: Some(SECRET_TYPE.into()), ..Default::default() };
        let r = TokenRecord::from_secret(&s);
        if let Some(t) = &r.token {
            proptest::prop_assert!(t.expose().parse::<Token>().is_ok());
        }
    }

    #[test]
    fn written_specs_read_back(id in "[a-z0-9]{6}", secret in "[a-z0-9]{16}", secs in 0i64..4_000_000_000, desc in proptest::option::of("\\PC{0,50}")) {
        let spec = TokenSpec {
            token: format!("{id}.{secret}").parse().unwrap(),
            fresh: false,
            description: desc,
            expires: Some(Timestamp::from_second(secs).unwrap()),
            usages: vec!["signing".into(), "authentication".into()],
            groups: vec![DEFAULT_GROUP.into()],
            labels: BTreeMap::new(),
        };
        let r = TokenRecord::from_secret(&spec.to_secret());
        proptest::prop_assert!(r.problems.is_empty(), "{:?}", r.problems);
        proptest::prop_assert_eq!(r.token.map(|t| t.expose()), Some(spec.token.expose()));
        proptest::prop_assert_eq!(r.expires, Expiry::At(spec.expires.unwrap()));
        // An empty description is not written, as kubeadm omits it.
        proptest::prop_assert_eq!(r.description, spec.description.filter(|d| !d.is_empty()));
    }
}

proptest::proptest! {
    /// The hand-written formatter writes exactly what strftime writes, over every year it
    /// handles and past both ends.
    #[test]
    fn expiration_formatting_matches_strftime(secs in -62_167_219_200i64..253_402_300_800) {
        let t = Timestamp::from_second(secs).unwrap();
        proptest::prop_assert_eq!(format_expiration(t), t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
}
