//! Tests of the protobuf decoder: hand-built messages, every split point and truncation,
//! hostile lengths, and property tests over arbitrary bytes and chunkings.

use super::*;

/// A protobuf SecretList body for tests elsewhere in the crate: Secrets named `names` (with a
/// `managedFields` block each, so items are a few hundred bytes), and `cont` as continue token.
pub(crate) fn test_secret_list(names: &[&str], cont: Option<&str>) -> Vec<u8> {
    fn bytes(field: u64, b: &[u8], out: &mut Vec<u8>) {
        let mut put = |mut v: u64| {
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        };
        put(field << 3 | 2);
        put(b.len() as u64);
        out.extend_from_slice(b);
    }
    let mut lm = Vec::new();
    if let Some(c) = cont {
        bytes(3, c.as_bytes(), &mut lm);
    }
    let mut raw = Vec::new();
    bytes(1, &lm, &mut raw);
    for n in names {
        let mut meta = Vec::new();
        bytes(1, n.as_bytes(), &mut meta);
        bytes(5, format!("u-{n}").as_bytes(), &mut meta);
        bytes(17, &[b'm'; 300], &mut meta);
        let mut s = Vec::new();
        bytes(1, &meta, &mut s);
        bytes(3, b"bootstrap.kubernetes.io/token", &mut s);
        bytes(2, &s, &mut raw);
    }
    let mut u = Vec::new();
    bytes(2, &raw, &mut u);
    bytes(3, b"", &mut u);
    bytes(4, b"", &mut u);
    let mut body = MAGIC.to_vec();
    body.extend(u);
    body
}

mod decoder {
    use super::*;

    /// A minimal encoder, enough to build the messages the apiserver sends.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    fn bytes(field: u64, b: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }
    fn num(field: u64, v: u64, out: &mut Vec<u8>) {
        varint(field << 3, out);
        varint(v, out);
    }
    fn entry(k: &str, v: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        bytes(1, k.as_bytes(), &mut e);
        bytes(2, v, &mut e);
        e
    }
    fn envelope(raw: &[u8]) -> Vec<u8> {
        let mut u = Vec::new();
        let mut tm = Vec::new();
        bytes(1, b"v1", &mut tm);
        bytes(2, b"SecretList", &mut tm);
        bytes(1, &tm, &mut u);
        bytes(2, raw, &mut u);
        bytes(3, b"", &mut u);
        let mut body = MAGIC.to_vec();
        body.extend(u);
        body
    }

    fn secret_message() -> Vec<u8> {
        let mut ts = Vec::new();
        num(1, 1_795_000_000, &mut ts);
        num(2, 0, &mut ts);
        let mut owner = Vec::new();
        bytes(1, b"Secret", &mut owner);
        bytes(3, b"kubeadm-certs", &mut owner);
        bytes(4, b"uid-owner", &mut owner);
        bytes(5, b"v1", &mut owner);
        num(7, 1, &mut owner);
        let mut managed = Vec::new();
        bytes(1, b"kubectl-jointoken", &mut managed);
        let mut meta = Vec::new();
        bytes(1, b"bootstrap-token-abcdef", &mut meta);
        bytes(3, b"kube-system", &mut meta);
        bytes(5, b"uid-1", &mut meta);
        bytes(6, b"42", &mut meta);
        num(7, 0, &mut meta);
        bytes(8, &ts, &mut meta);
        bytes(11, &entry("app", b"rotate"), &mut meta);
        bytes(12, &entry("note", b"x"), &mut meta);
        bytes(13, &owner, &mut meta);
        bytes(17, &managed, &mut meta);
        let mut s = Vec::new();
        bytes(1, &meta, &mut s);
        bytes(2, &entry("token-id", b"abcdef"), &mut s);
        bytes(2, &entry("token-secret", b"0123456789abcdef"), &mut s);
        bytes(3, b"bootstrap.kubernetes.io/token", &mut s);
        s
    }

    #[test]
    fn decodes_a_secret_list_page() {
        let mut lm = Vec::new();
        bytes(2, b"123", &mut lm);
        bytes(3, b"next-page", &mut lm);
        let mut raw = Vec::new();
        bytes(1, &lm, &mut raw);
        bytes(2, &secret_message(), &mut raw);
        bytes(2, &secret_message(), &mut raw);
        let mut out = Vec::new();
        let cont = list(&envelope(&raw), secret, &mut out).unwrap();
        assert_eq!(cont.as_deref(), Some("next-page"));
        assert_eq!(out.len(), 2);
        let s = &out[0];
        assert_eq!(s.metadata.name.as_deref(), Some("bootstrap-token-abcdef"));
        assert_eq!(s.metadata.namespace.as_deref(), Some("kube-system"));
        assert_eq!(s.metadata.uid.as_deref(), Some("uid-1"));
        assert_eq!(s.metadata.resource_version.as_deref(), Some("42"));
        assert_eq!(
            s.metadata
                .creation_timestamp
                .as_ref()
                .unwrap()
                .0
                .as_second(),
            1_795_000_000
        );
        assert_eq!(s.metadata.labels.as_ref().unwrap()["app"], "rotate");
        assert_eq!(s.metadata.annotations.as_ref().unwrap()["note"], "x");
        let o = &s.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (
                o.kind.as_str(),
                o.name.as_str(),
                o.uid.as_str(),
                o.api_version.as_str()
            ),
            ("Secret", "kubeadm-certs", "uid-owner", "v1")
        );
        assert_eq!(o.block_owner_deletion, Some(true));
        assert!(s.metadata.managed_fields.is_none());
        let data = s.data.as_ref().unwrap();
        assert_eq!(data["token-id"].0, b"abcdef");
        assert_eq!(data["token-secret"].0, b"0123456789abcdef");
        assert_eq!(s.type_.as_deref(), Some("bootstrap.kubernetes.io/token"));
    }

    #[test]
    fn last_page_has_no_continue_and_configmaps_keep_metadata_only() {
        let mut raw = Vec::new();
        bytes(1, b"", &mut raw);
        bytes(2, &secret_message(), &mut raw);
        let mut out = Vec::new();
        assert_eq!(
            list(&envelope(&raw), config_map_metadata, &mut out).unwrap(),
            None
        );
        assert_eq!(
            out[0].metadata.owner_references.as_ref().unwrap()[0].uid,
            "uid-owner"
        );
        assert!(out[0].data.is_none());
    }

    /// A List body of `n` Secrets (the second page's continue token in its metadata).
    fn list_body(n: usize) -> Vec<u8> {
        let mut lm = Vec::new();
        bytes(2, b"123", &mut lm);
        bytes(3, b"next-page", &mut lm);
        let mut raw = Vec::new();
        bytes(1, &lm, &mut raw);
        for _ in 0..n {
            bytes(2, &secret_message(), &mut raw);
        }
        envelope(&raw)
    }

    fn names(items: &[Secret]) -> Vec<String> {
        items
            .iter()
            .map(|s| s.metadata.name.clone().unwrap())
            .collect()
    }

    #[test]
    fn a_streamed_body_decodes_the_same_whatever_the_chunks() {
        let body = list_body(3);
        let mut whole = Vec::new();
        assert_eq!(
            list(&body, secret, &mut whole).unwrap().as_deref(),
            Some("next-page")
        );
        assert_eq!(whole.len(), 3);
        // Every split into two chunks, and byte by byte.
        for cut in 0..=body.len() {
            let mut d = ListDecoder::new();
            let mut out = Vec::new();
            d.feed(&body[..cut], secret, &mut out).unwrap();
            d.feed(&body[cut..], secret, &mut out).unwrap();
            assert_eq!(
                d.finish().unwrap().as_deref(),
                Some("next-page"),
                "cut {cut}"
            );
            assert_eq!(names(&out), names(&whole), "cut {cut}");
        }
        let mut d = ListDecoder::new();
        let mut out = Vec::new();
        let mut items_when_token_known = None;
        for b in &body {
            d.feed(std::slice::from_ref(b), secret, &mut out).unwrap();
            if items_when_token_known.is_none() && d.continue_token().is_some() {
                items_when_token_known = Some(out.len());
                assert_eq!(d.continue_token(), Some("next-page"));
            }
        }
        assert_eq!(d.finish().unwrap().as_deref(), Some("next-page"));
        assert_eq!(out.len(), 3);
        // The continue token is known before the first item: the next page can be asked for.
        assert_eq!(items_when_token_known, Some(0));
    }

    #[test]
    fn a_streamed_body_hands_out_items_as_they_complete() {
        let body = list_body(2);
        let one = secret_message().len();
        let mut d = ListDecoder::new();
        let mut out = Vec::new();
        // The envelope ends with an empty contentEncoding (2 bytes) after the List: everything
        // but the List's last byte hands out the first item, not the second.
        let list_end = body.len() - 2;
        d.feed(&body[..list_end - 1], secret, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert!(one > 100, "the second item is still incomplete");
        d.feed(&body[list_end - 1..], secret, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        d.finish().unwrap();
    }

    #[test]
    fn a_streamed_body_cut_short_or_lying_about_sizes_is_an_error() {
        let body = list_body(2);
        // Up to the List's end (the envelope's empty trailing field carries nothing).
        for cut in 0..body.len() - 2 {
            let mut d = ListDecoder::new();
            let mut out = Vec::new();
            let fed = d.feed(&body[..cut], secret, &mut out);
            assert!(
                fed.is_err() || d.finish().is_err(),
                "a body cut at {cut} of {} must not pass as complete",
                body.len()
            );
        }
        // An item claiming 1 GiB is refused, not buffered.
        let mut raw = Vec::new();
        varint(2 << 3 | 2, &mut raw);
        varint(1 << 30, &mut raw);
        let mut env = MAGIC.to_vec();
        varint(2 << 3 | 2, &mut env);
        varint((1 << 30) + 8, &mut env);
        env.extend(&raw);
        let mut d = ListDecoder::new();
        let mut out = Vec::new();
        assert_eq!(
            d.feed(&env, secret, &mut out).unwrap_err(),
            DecodeError("a field larger than 16 MiB")
        );
        // Not protobuf at all.
        let mut d = ListDecoder::new();
        assert!(d.feed(b"{\"kind\"", secret, &mut out).is_err());
    }

    #[test]
    fn secret_views_borrow_what_records_need() {
        let m = secret_message();
        let v = secret_view(&m).unwrap();
        assert_eq!(v.name, "bootstrap-token-abcdef");
        assert_eq!(v.uid, Some("uid-1"));
        assert_eq!(v.resource_version, Some("42"));
        assert_eq!(v.created.unwrap().as_second(), 1_795_000_000);
        assert_eq!(v.labels, [("app", "rotate")]);
        assert_eq!(v.annotations, [("note", "x")]);
        assert_eq!(
            v.data,
            [
                ("token-id", b"abcdef".as_slice()),
                ("token-secret", b"0123456789abcdef".as_slice())
            ]
        );
        // The same fields as the owned decoder.
        let s = secret(&m).unwrap();
        assert_eq!(s.metadata.name.as_deref(), Some(v.name));
        assert_eq!(s.data.unwrap().len(), v.data.len());
    }

    #[test]
    fn decodes_status_errors() {
        let mut st = Vec::new();
        bytes(2, b"Failure", &mut st);
        bytes(3, b"secrets is forbidden: User \"x\" cannot list", &mut st);
        bytes(4, b"Forbidden", &mut st);
        num(6, 403, &mut st);
        let (code, reason, message) = status(&envelope(&st)).unwrap();
        assert_eq!((code, reason.as_str()), (403, "Forbidden"));
        assert!(message.starts_with("secrets is forbidden"));
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        let mut out = Vec::new();
        assert!(list(b"{\"kind\":\"SecretList\"}", secret, &mut out).is_err());
        assert!(list(&envelope(&[0x12, 0xff]), secret, &mut out).is_err());
        assert!(list(&envelope(&[0x12, 0x05, 0x0a]), secret, &mut out).is_err());
        assert!(list(&envelope(&[0x13]), secret, &mut out).is_err());
        let mut long = MAGIC.to_vec();
        long.extend([0xff; 12]);
        assert!(list(&long, secret, &mut out).is_err());
    }
}

mod props {
    use super::*;

    proptest::proptest! {
        /// Whatever bytes a server (or a man in the middle) sends, decoding fails cleanly.
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = secret(&b);
            let _ = config_map_metadata(&b);
            let _ = status(&b);
            let mut out = Vec::new();
            let _ = list(&b, secret, &mut out);
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&b);
            let _ = list(&with_magic, secret, &mut out);
            let _ = status(&with_magic);
            let _ = secret_view(&b);
        }

        /// A valid body split anywhere decodes to the same items as the whole body.
        #[test]
        fn any_chunking_decodes_the_same(cuts in proptest::collection::vec(0usize..2000, 0..6)) {
            let body = test_secret_list(&["a", "b", "c", "d"], None);
            let mut whole = Vec::new();
            list(&body, secret, &mut whole).unwrap();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
            cuts.sort();
            let mut d = ListDecoder::new();
            let mut out = Vec::new();
            let mut at = 0;
            for c in cuts.into_iter().chain([body.len()]) {
                d.feed(&body[at..c], secret, &mut out).unwrap();
                at = c;
            }
            proptest::prop_assert!(d.finish().is_ok());
            proptest::prop_assert_eq!(out.len(), whole.len());
        }
    }
}
