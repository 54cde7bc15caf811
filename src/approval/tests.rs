//! The policy's rules, one hostile change at a time: start from what a real kubelet sends
//! (REFERENCE.md), change one thing, and expect exactly that rule to refuse it.

use super::*;

fn serving() -> Csr {
    Csr {
        name: "csr-1".into(),
        resource_version: "1".into(),
        signer: SERVING_SIGNER.into(),
        username: "system:node:node-b".into(),
        groups: vec![NODES_GROUP.into(), "system:authenticated".into()],
        usages: vec!["digital signature".into(), "server auth".into()],
        expiration_seconds: None,
        state: State::Pending,
        request: Ok(Request {
            common_names: vec!["system:node:node-b".into()],
            organizations: vec![NODES_GROUP.into()],
            dns: vec!["node-b".into()],
            ips: vec!["192.0.2.10".parse().unwrap()],
            key: Some(Key::Ec("P-256".into())),
            key_id: "k1".into(),
            ..Default::default()
        }),
    }
}

fn node_b() -> NodeFacts {
    NodeFacts {
        name: "node-b".into(),
        addresses: vec![
            ("InternalIP".into(), "192.0.2.10".into()),
            ("Hostname".into(), "node-b".into()),
            ("InternalDNS".into(), "node-b.internal".into()),
        ],
    }
}

fn serving_facts() -> Facts {
    Facts {
        node: Some(node_b()),
        ..Default::default()
    }
}

fn client() -> Csr {
    Csr {
        signer: CLIENT_SIGNER.into(),
        username: "system:bootstrap:abcdef".into(),
        groups: vec![
            BOOTSTRAPPERS_GROUP.into(),
            "system:bootstrappers:kubeadm:default-node-token".into(),
        ],
        usages: vec!["digital signature".into(), "client auth".into()],
        request: Ok(Request {
            common_names: vec!["system:node:node-c".into()],
            organizations: vec![NODES_GROUP.into()],
            key: Some(Key::Ec("P-256".into())),
            key_id: "k2".into(),
            ..Default::default()
        }),
        ..serving()
    }
}

fn valid_token() -> TokenFacts {
    TokenFacts {
        authentication: true,
        ..Default::default()
    }
}

fn client_facts() -> Facts {
    Facts {
        token: Some(valid_token()),
        ..Default::default()
    }
}

fn req(c: &mut Csr) -> &mut Request {
    c.request.as_mut().unwrap()
}

/// The rule that refused, with its detail; panics when the CSR was approved.
fn refused(c: &Csr, f: &Facts, p: &Policy) -> (&'static str, String) {
    let kind = Kind::of(&c.signer).unwrap();
    let e = evaluate(kind, c, f, p);
    let r = e.refusal().unwrap_or_else(|| panic!("approved: {e:#?}"));
    (r.rule, r.detail.clone())
}

fn approved(c: &Csr, f: &Facts, p: &Policy) {
    let e = evaluate(Kind::of(&c.signer).unwrap(), c, f, p);
    assert!(e.approved(), "{}", e.reason());
}

#[test]
fn what_a_kubelet_sends_is_approved() {
    approved(&serving(), &serving_facts(), &Policy::default());
    approved(&client(), &client_facts(), &Policy::default());
    let mut rsa = serving();
    req(&mut rsa).key = Some(Key::Rsa(2048));
    rsa.usages.push("key encipherment".into());
    approved(&rsa, &serving_facts(), &Policy::default());
    let e = evaluate(
        Kind::Serving,
        &serving(),
        &serving_facts(),
        &Policy::default(),
    );
    let rules: Vec<&str> = e.checks.iter().map(|c| c.rule).collect();
    assert_eq!(
        rules,
        [
            "requester",
            "groups",
            "request",
            "subject",
            "usages",
            "key",
            "sans",
            "node",
            "ip-sans",
            "dns-sans",
            "expiration",
            "denied-before"
        ]
    );
    assert!(e.reason().starts_with("all 12 checks passed"));
}

#[test]
fn triage_touches_only_pending_csrs_of_our_signers() {
    assert_eq!(triage(&serving()), Triage::Evaluate(Kind::Serving));
    assert_eq!(triage(&client()), Triage::Evaluate(Kind::Client));
    let mut other = serving();
    other.signer = "kubernetes.io/kube-apiserver-client".into();
    assert_eq!(triage(&other), Triage::OtherSigner);
    other.signer = "example.com/kubelet-serving".into();
    assert_eq!(triage(&other), Triage::OtherSigner);
    for s in [State::Approved, State::Denied, State::Failed] {
        let mut c = serving();
        c.state = s;
        assert_eq!(triage(&c), Triage::Decided(s));
    }
}

#[test]
fn serving_requester_must_be_a_node_in_the_node_group() {
    let p = Policy::default();
    let mut c = serving();
    c.username = "alice".into();
    assert_eq!(refused(&c, &serving_facts(), &p).0, "requester");
    c.username = "system:bootstrap:abcdef".into();
    assert_eq!(refused(&c, &serving_facts(), &p).0, "requester");
    c.username = "system:node:../../secrets".into();
    let (rule, detail) = refused(&c, &serving_facts(), &p);
    assert_eq!(rule, "requester");
    assert!(detail.contains("not a valid node name"), "{detail}");
    c.username = "system:node:".into();
    assert_eq!(refused(&c, &serving_facts(), &p).0, "requester");
    let mut c = serving();
    c.groups = vec!["system:authenticated".into(), "system:masters".into()];
    let (rule, detail) = refused(&c, &serving_facts(), &p);
    assert_eq!(rule, "groups");
    assert!(detail.contains("system:masters"), "{detail}");
}

#[test]
fn subject_must_be_exactly_the_requester_in_system_nodes() {
    let p = Policy::default();
    let f = serving_facts();
    type Change = fn(&mut Request);
    let cases: Vec<(Change, &str)> = vec![
        (
            |r| r.common_names = vec!["system:node:node-a".into()],
            "is not the requester",
        ),
        (|r| r.common_names.clear(), "no CN"),
        (|r| r.common_names.push("admin".into()), "2 CNs"),
        (
            |r| r.organizations = vec!["system:masters".into()],
            "system:masters",
        ),
        (
            |r| r.organizations.push("system:masters".into()),
            "not exactly",
        ),
        (|r| r.organizations.clear(), "not exactly"),
        (|r| r.other_attributes = vec!["OU=x".into()], "OU=x"),
    ];
    for (change, want) in cases {
        let mut c = serving();
        change(req(&mut c));
        let (rule, detail) = refused(&c, &f, &p);
        assert_eq!(rule, "subject", "{detail}");
        assert!(detail.contains(want), "{detail} !~ {want}");
    }
}

#[test]
fn usages_must_be_exactly_what_a_kubelet_sends_for_its_key() {
    let p = Policy::default();
    let f = serving_facts();
    for usages in [
        vec!["digital signature", "server auth", "client auth"],
        vec!["server auth"],
        vec!["digital signature", "server auth", "key encipherment"], // EC key
        vec!["digital signature", "client auth"],
        vec!["digital signature", "server auth", "server auth"],
        vec![],
    ] {
        let mut c = serving();
        c.usages = usages.iter().map(|s| s.to_string()).collect();
        assert_eq!(refused(&c, &f, &p).0, "usages", "{usages:?}");
    }
    // RSA: key encipherment is required, as client-go sends it.
    let mut c = serving();
    req(&mut c).key = Some(Key::Rsa(4096));
    assert_eq!(refused(&c, &f, &p).0, "usages");
    // Order does not matter.
    let mut c = serving();
    c.usages.reverse();
    approved(&c, &f, &p);
    let mut c = client();
    c.usages = vec!["digital signature".into(), "server auth".into()];
    assert_eq!(refused(&c, &client_facts(), &p).0, "usages");
}

#[test]
fn weak_or_unusual_keys_are_refused() {
    let p = Policy::default();
    let f = serving_facts();
    for (k, ok) in [
        (Key::Rsa(1024), false),
        (Key::Rsa(2047), false),
        (Key::Rsa(2048), true),
        (Key::Rsa(3072), true),
        (Key::Ec("P-224".into()), false),
        (Key::Ec("P-256".into()), true),
        (Key::Ec("P-384".into()), true),
        (Key::Ec("P-521".into()), true),
        (Key::Ec("1.3.36.3.3.2.8.1.1.7".into()), false),
        (Key::Other("Ed25519".into()), false),
        (Key::Other("DSA".into()), false),
    ] {
        let mut c = serving();
        if matches!(k, Key::Rsa(_)) {
            c.usages.push("key encipherment".into());
        }
        req(&mut c).key = Some(k.clone());
        if ok {
            approved(&c, &f, &p);
        } else {
            let (rule, detail) = refused(&c, &f, &p);
            assert_eq!(rule, "key", "{k}");
            assert!(detail.contains(&k.to_string()), "{detail}");
        }
    }
}

#[test]
fn serving_sans_must_be_addresses_of_the_node() {
    let p = Policy::default();
    let f = serving_facts();
    let refuse = |change: fn(&mut Request), rule: &str, want: &str| {
        let mut c = serving();
        change(req(&mut c));
        let (r, detail) = refused(&c, &f, &p);
        assert_eq!(r, rule, "{detail}");
        assert!(detail.contains(want), "{detail} !~ {want}");
    };
    refuse(
        |r| r.ips.push("10.9.9.9".parse().unwrap()),
        "ip-sans",
        "10.9.9.9",
    );
    refuse(
        |r| r.ips = vec!["127.0.0.1".parse().unwrap()],
        "ip-sans",
        "127.0.0.1",
    );
    refuse(|r| r.dns.push("node-a".into()), "dns-sans", "node-a");
    refuse(
        |r| r.dns.push("node-b.evil.com".into()),
        "dns-sans",
        "node-b.evil.com",
    );
    refuse(|r| r.dns.push("node-bx".into()), "dns-sans", "node-bx");
    refuse(
        |r| r.dns.push("kubernetes.default.svc".into()),
        "dns-sans",
        "kubernetes",
    );
    // The InternalIP as a DNS name is not a DNS address of the node.
    refuse(
        |r| r.dns.push("192.0.2.10".into()),
        "dns-sans",
        "192.0.2.10",
    );
    refuse(|r| r.emails.push("a@b.c".into()), "sans", "email a@b.c");
    refuse(
        |r| r.uris.push("spiffe://x".into()),
        "sans",
        "URI spiffe://x",
    );
    refuse(
        |r| r.other_sans.push("OtherName".into()),
        "sans",
        "OtherName",
    );
    refuse(
        |r| {
            r.dns.clear();
            r.ips.clear()
        },
        "sans",
        "at least one",
    );
    // Every kind of DNS address counts, case-insensitively; IPs only by value.
    let mut c = serving();
    req(&mut c).dns = vec!["NODE-B".into(), "node-b.internal".into()];
    approved(&c, &f, &p);
    let mut c = serving();
    req(&mut c).ips.clear();
    approved(&c, &f, &p);
}

#[test]
fn ipv6_and_external_addresses_compare_by_value() {
    let mut f = serving_facts();
    f.node.as_mut().unwrap().addresses = vec![
        ("ExternalIP".into(), "2001:db8:0:0::10".into()),
        ("ExternalDNS".into(), "Node-B.Example.com".into()),
    ];
    let mut c = serving();
    req(&mut c).ips = vec!["2001:db8::10".parse().unwrap()];
    req(&mut c).dns = vec!["node-b.example.com".into()];
    approved(&c, &f, &Policy::default());
}

#[test]
fn the_node_must_exist() {
    let mut f = serving_facts();
    f.node = None;
    let (rule, detail) = refused(&serving(), &f, &Policy::default());
    assert_eq!(rule, "node");
    assert!(detail.contains("\"node-b\" does not exist"), "{detail}");
    // Facts about another node never count.
    f.node = Some(NodeFacts {
        name: "node-a".into(),
        ..node_b()
    });
    assert_eq!(refused(&serving(), &f, &Policy::default()).0, "node");
}

#[test]
fn allowed_cidrs_narrow_the_node_addresses() {
    let p = Policy {
        allowed_cidrs: vec!["192.0.2.0/28".parse().unwrap()],
        ..Default::default()
    };
    approved(&serving(), &serving_facts(), &p);
    let p = Policy {
        allowed_cidrs: vec![
            "198.51.100.0/24".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ],
        ..Default::default()
    };
    let (rule, detail) = refused(&serving(), &serving_facts(), &p);
    assert_eq!(rule, "ip-sans");
    assert!(
        detail.contains("outside --allowed-cidrs 198.51.100.0/24,2001:db8::/32"),
        "{detail}"
    );
    // A CIDR never admits an IP the Node does not have.
    let p = Policy {
        allowed_cidrs: vec!["0.0.0.0/0".parse().unwrap()],
        ..Default::default()
    };
    let mut c = serving();
    req(&mut c).ips.push("192.0.2.11".parse().unwrap());
    assert_eq!(refused(&c, &serving_facts(), &p).0, "ip-sans");
}

#[test]
fn dns_patterns_add_names_for_the_requesting_node_only() {
    let p = Policy {
        dns_patterns: vec![DnsPattern::parse("{node}.nodes.example.com").unwrap()],
        ..Default::default()
    };
    let mut c = serving();
    req(&mut c).dns.push("node-b.nodes.example.com".into());
    approved(&c, &serving_facts(), &p);
    for hostile in [
        "node-a.nodes.example.com",
        "node-b.nodes.example.com.evil.ch",
        "x.node-b.nodes.example.com",
        "node-bb.nodes.example.com",
    ] {
        let mut c = serving();
        req(&mut c).dns.push(hostile.into());
        let (rule, detail) = refused(&c, &serving_facts(), &p);
        assert_eq!(rule, "dns-sans", "{hostile}");
        assert!(detail.contains("matches no --dns-pattern"), "{detail}");
    }
    // Node `a` never gets `auth.company.ch`.
    let p = Policy {
        dns_patterns: vec![DnsPattern::parse("{node}.company.ch").unwrap()],
        ..Default::default()
    };
    let mut c = serving();
    c.username = "system:node:a".into();
    req(&mut c).common_names = vec!["system:node:a".into()];
    req(&mut c).ips.clear();
    req(&mut c).dns = vec!["auth.company.ch".into()];
    let f = Facts {
        node: Some(NodeFacts {
            name: "a".into(),
            addresses: vec![],
        }),
        ..Default::default()
    };
    assert_eq!(refused(&c, &f, &p).0, "dns-sans");
    req(&mut c).dns = vec!["a.company.ch".into()];
    approved(&c, &f, &p);
}

#[test]
fn expiration_is_capped() {
    let p = Policy {
        max_expiration_seconds: Some(86400),
        ..Default::default()
    };
    let mut c = serving();
    c.expiration_seconds = Some(86400);
    approved(&c, &serving_facts(), &p);
    c.expiration_seconds = Some(86401);
    let (rule, detail) = refused(&c, &serving_facts(), &p);
    assert_eq!(rule, "expiration");
    assert!(detail.contains("86401"), "{detail}");
    c.expiration_seconds = None;
    approved(&c, &serving_facts(), &p);
    let mut c = client();
    c.expiration_seconds = Some(10 * 86400);
    assert_eq!(refused(&c, &client_facts(), &p).0, "expiration");
}

#[test]
fn a_denied_key_stays_denied() {
    let mut f = serving_facts();
    f.denied_same_key = Some("csr-old".into());
    let (rule, detail) = refused(&serving(), &f, &Policy::default());
    assert_eq!(rule, "denied-before");
    assert!(detail.contains("csr-old"), "{detail}");
}

#[test]
fn unreadable_requests_are_refused_and_stop_there() {
    let mut c = serving();
    c.request = Err("spec.request is not a PEM block".into());
    let e = evaluate(Kind::Serving, &c, &serving_facts(), &Policy::default());
    assert_eq!(e.refusal().unwrap().rule, "request");
    assert_eq!(e.checks.last().unwrap().rule, "request");
}

#[test]
fn bootstrap_client_csrs_need_a_valid_token() {
    let p = Policy::default();
    let mut f = client_facts();
    f.token = None;
    let (rule, detail) = refused(&client(), &f, &p);
    assert_eq!(rule, "token");
    assert!(detail.contains("abcdef does not exist"), "{detail}");
    for (t, want) in [
        (
            TokenFacts {
                expired: Some("2026-01-01T00:00:00Z".into()),
                ..valid_token()
            },
            "expired",
        ),
        (
            TokenFacts {
                problems: vec!["missing token-secret".into()],
                ..valid_token()
            },
            "missing token-secret",
        ),
        (
            TokenFacts {
                authentication: false,
                ..valid_token()
            },
            "usage-bootstrap-authentication",
        ),
    ] {
        let f = Facts {
            token: Some(t),
            ..Default::default()
        };
        let (rule, detail) = refused(&client(), &f, &p);
        assert_eq!(rule, "token");
        assert!(detail.contains(want), "{detail}");
    }
    let mut c = client();
    c.groups = vec!["system:authenticated".into()];
    assert_eq!(refused(&c, &client_facts(), &p).0, "groups");
    let mut c = client();
    c.username = "system:bootstrap:ABCDEF".into();
    assert_eq!(refused(&c, &client_facts(), &p).0, "requester");
    let mut c = client();
    c.username = "system:serviceaccount:kube-system:x".into();
    assert_eq!(refused(&c, &client_facts(), &p).0, "requester");
}

#[test]
fn bootstrap_client_subject_and_sans() {
    let p = Policy::default();
    let f = client_facts();
    let mut c = client();
    req(&mut c).common_names = vec!["admin".into()];
    assert_eq!(refused(&c, &f, &p).0, "subject");
    let mut c = client();
    req(&mut c).common_names = vec!["system:node:Bad_Name".into()];
    assert_eq!(refused(&c, &f, &p).0, "subject");
    let mut c = client();
    req(&mut c).organizations = vec!["system:masters".into()];
    assert_eq!(refused(&c, &f, &p).0, "subject");
    let mut c = client();
    req(&mut c).dns = vec!["node-c".into()];
    assert_eq!(refused(&c, &f, &p).0, "sans");
}

#[test]
fn a_bootstrap_token_cannot_take_over_a_registered_node() {
    let mut f = client_facts();
    f.node = Some(NodeFacts {
        name: "node-c".into(),
        addresses: vec![],
    });
    let (rule, detail) = refused(&client(), &f, &Policy::default());
    assert_eq!(rule, "rejoin");
    assert!(detail.contains("--allow-rejoin"), "{detail}");
    approved(
        &client(),
        &f,
        &Policy {
            allow_rejoin: true,
            ..Default::default()
        },
    );
}

#[test]
fn a_token_bound_to_a_node_serves_only_that_node() {
    let mut f = client_facts();
    f.token.as_mut().unwrap().bound_node = Some("node-c".into());
    approved(&client(), &f, &Policy::default());
    f.token.as_mut().unwrap().bound_node = Some("node-d".into());
    let (rule, detail) = refused(&client(), &f, &Policy::default());
    assert_eq!(rule, "bound-node");
    assert!(detail.contains("node-d"), "{detail}");
    assert!(detail.contains("\"node-c\""), "{detail}");
}

#[test]
fn client_renewals_come_from_the_node_itself() {
    let p = Policy::default();
    let mut c = client();
    c.username = "system:node:node-c".into();
    c.groups = vec![NODES_GROUP.into()];
    approved(&c, &Facts::default(), &p);
    let e = evaluate(Kind::Client, &c, &Facts::default(), &p);
    assert!(
        !e.checks
            .iter()
            .any(|c| c.rule == "token" || c.rule == "rejoin")
    );
    let mut other = c.clone();
    req(&mut other).common_names = vec!["system:node:node-d".into()];
    let (rule, detail) = refused(&other, &Facts::default(), &p);
    assert_eq!(rule, "subject");
    assert!(detail.contains("is not the requester"), "{detail}");
    let mut nogroup = c.clone();
    nogroup.groups = vec![BOOTSTRAPPERS_GROUP.into()];
    assert_eq!(refused(&nogroup, &Facts::default(), &p).0, "groups");
}

#[test]
fn needs_names_only_valid_lookups() {
    assert_eq!(
        needs(&serving()),
        Needs {
            node: Some("node-b".into()),
            token: None
        }
    );
    assert_eq!(
        needs(&client()),
        Needs {
            node: Some("node-c".into()),
            token: Some("abcdef".into())
        }
    );
    let mut c = serving();
    c.username = "system:node:a/b".into();
    assert_eq!(needs(&c), Needs::default());
    let mut c = client();
    c.username = "system:bootstrap:../x".into();
    req(&mut c).common_names = vec!["system:node:a/../b".into()];
    assert_eq!(needs(&c), Needs::default());
    let mut c = client();
    c.username = "system:node:node-c".into();
    assert_eq!(needs(&c), Needs::default());
}

proptest::proptest! {
    /// Whatever a hostile requester writes, a serving CSR is approved only if every SAN is an
    /// address of the Node.
    #[test]
    fn no_san_outside_the_node_is_ever_approved(
        dns in proptest::collection::vec("[a-z0-9.-]{1,30}", 0..4),
        ips in proptest::collection::vec(proptest::num::u32::ANY, 0..3),
    ) {
        let mut c = serving();
        req(&mut c).dns = dns.clone();
        req(&mut c).ips = ips.iter().map(|i| IpAddr::from(std::net::Ipv4Addr::from(*i))).collect();
        let e = evaluate(Kind::Serving, &c, &serving_facts(), &Policy::default());
        if e.approved() {
            let addrs: Vec<String> = node_b().addresses.into_iter().map(|(_, a)| a).collect();
            for d in &dns {
                proptest::prop_assert!(addrs.contains(d));
            }
            for ip in &req(&mut c).ips {
                proptest::prop_assert!(addrs.contains(&ip.to_string()));
            }
        }
    }
}
