//! Bootstrap tokens: the `id.secret` value, its CSPRNG generation, validation, and the
//! `kube-system/bootstrap-token-<id>` Secret exactly as kubeadm writes and reads it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Namespace every bootstrap token lives in.
pub const NAMESPACE: &str = "kube-system";
/// Secret type of bootstrap tokens.
pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
/// Name prefix of bootstrap-token Secrets.
pub const SECRET_PREFIX: &str = "bootstrap-token-";
/// kubeadm's default extra group.
pub const DEFAULT_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";
/// Usages kubeadm knows, in its order.
pub const KNOWN_USAGES: [&str; 2] = ["signing", "authentication"];

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const ID_LEN: usize = 6;
const SECRET_LEN: usize = 16;

/// The public half of a token: 6 characters of `[a-z0-9]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenId(String);

impl TokenId {
    /// Validates an id.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() == ID_LEN && s.bytes().all(is_token_char) {
            Ok(TokenId(s.to_owned()))
        } else {
            Err(format!(
                "invalid token id {s:?}: expected 6 characters of [a-z0-9]"
            ))
        }
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Name of the Secret that holds this token.
    pub fn secret_name(&self) -> String {
        format!("{SECRET_PREFIX}{}", self.0)
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The private half of a token. Its Debug output is redacted so it never lands in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

impl TokenSecret {
    /// The secret as text: call only where the secret must be written out.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(****************)")
    }
}

/// A full bootstrap token `id.secret`. No Display: use [`Token::expose`] or [`Token::masked`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// Public id.
    pub id: TokenId,
    /// Private secret.
    pub secret: TokenSecret,
}

impl Token {
    /// A fresh token from the OS CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        Ok(Token {
            id: TokenId(random_string(ID_LEN)?),
            secret: TokenSecret(random_string(SECRET_LEN)?),
        })
    }
    /// `id.secret`, the value kubeadm and kubelets use.
    pub fn expose(&self) -> String {
        format!("{}.{}", self.id, self.secret.0)
    }
    /// `id.****************`, for tables and logs.
    pub fn masked(&self) -> String {
        masked(&self.id)
    }
}

/// The masked form of a token with this id.
pub fn masked(id: &TokenId) -> String {
    format!("{id}.{}", "*".repeat(SECRET_LEN))
}

impl FromStr for Token {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let err = || {
            "invalid token: expected the form abcdef.0123456789abcdef (6 + 16 characters of [a-z0-9])"
                .to_string()
        };
        let (id, secret) = s.split_once('.').ok_or_else(err)?;
        if id.len() != ID_LEN
            || secret.len() != SECRET_LEN
            || !id.bytes().all(is_token_char)
            || !secret.bytes().all(is_token_char)
        {
            return Err(err());
        }
        Ok(Token {
            id: TokenId(id.into()),
            secret: TokenSecret(secret.into()),
        })
    }
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_lowercase()
}

/// `len` characters from the alphabet, uniformly: bytes ≥ 252 (= 7 × 36) are rejected so the
/// modulo introduces no bias.
fn random_string(len: usize) -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 32];
    while out.len() < len {
        getrandom::fill(&mut buf)?;
        for &b in &buf {
            if out.len() == len {
                break;
            }
            if b < 252 {
                out.push(ALPHABET[(b % 36) as usize] as char);
            }
        }
    }
    Ok(out)
}

/// Checks an extra group as the apiserver's authenticator does.
pub fn validate_group(g: &str) -> Result<(), String> {
    let rest = g.strip_prefix("system:bootstrappers:");
    let ok = match rest {
        Some(r) => {
            !r.is_empty()
                && r.len() <= 256
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b':' || b == b'-')
                && r.bytes()
                    .last()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid extra group {g:?}: groups must match system:bootstrappers:[a-z0-9:-]{{0,255}}[a-z0-9]"
        ))
    }
}

/// Checks a Kubernetes label value (≤ 63 of [A-Za-z0-9._-], alphanumeric at both ends).
pub fn validate_label_value(v: &str) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 63
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && v.as_bytes()[0].is_ascii_alphanumeric()
        && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid name {v:?}: use up to 63 letters, digits, '.', '_' or '-', starting and ending alphanumeric"
        ))
    }
}

/// Checks a usage name.
pub fn validate_usage(u: &str) -> Result<(), String> {
    if KNOWN_USAGES.contains(&u) {
        Ok(())
    } else {
        Err(format!(
            "invalid usage {u:?}: valid usages are signing, authentication"
        ))
    }
}

/// What `create` asks for: everything a bootstrap-token Secret holds.
#[derive(Clone, Debug)]
pub struct TokenSpec {
    /// The token.
    pub token: Token,
    /// Human description.
    pub description: Option<String>,
    /// Absolute expiry; `None` = never.
    pub expires: Option<Timestamp>,
    /// Usages, e.g. `signing`, `authentication`.
    pub usages: Vec<String>,
    /// Extra groups.
    pub groups: Vec<String>,
    /// Labels to set on the Secret (kubeadm sets none; rotation marks its own tokens).
    pub labels: BTreeMap<String, String>,
    /// The token was generated in this run (CSPRNG), not given (`--token`): a Secret that
    /// holds its secret can only be this run's (how a create whose answer was lost is
    /// settled, `store`).
    pub fresh: bool,
}

impl TokenSpec {
    /// Validates usages and groups together, as kubeadm does.
    pub fn validate(&self) -> Result<(), String> {
        for u in &self.usages {
            validate_usage(u)?;
        }
        for g in &self.groups {
            validate_group(g)?;
        }
        if !self.groups.is_empty() && !self.usages.iter().any(|u| u == "authentication") {
            return Err(
                "--groups needs the authentication usage: add it to --usages or drop --groups"
                    .into(),
            );
        }
        Ok(())
    }

    /// The Secret kubeadm's `token create` would write for this spec.
    pub fn to_secret(&self) -> Secret {
        let mut data = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            data.insert(k.to_string(), ByteString(v.as_bytes().to_vec()));
        };
        put("token-id", self.token.id.as_str());
        put("token-secret", self.token.secret.expose());
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            put("description", d);
        }
        if let Some(e) = self.expires {
            put("expiration", &format_expiration(e));
        }
        for u in &self.usages {
            put(&format!("usage-bootstrap-{u}"), "true");
        }
        if !self.groups.is_empty() {
            put("auth-extra-groups", &self.groups.join(","));
        }
        Secret {
            metadata: ObjectMeta {
                name: Some(self.token.id.secret_name()),
                namespace: Some(NAMESPACE.into()),
                labels: (!self.labels.is_empty()).then(|| self.labels.clone()),
                ..Default::default()
            },
            type_: Some(SECRET_TYPE.into()),
            data: Some(data),
            ..Default::default()
        }
    }
}

/// RFC 3339 UTC with whole seconds, e.g. `2026-11-23T08:00:00Z`.
pub fn format_expiration(t: Timestamp) -> String {
    // strftime's result, written directly: `list` formats one per row, and parsing the format
    // string each time was a fifth of a 10,000-token table (docs/PERFORMANCE.md).
    let dt = jiff::tz::Offset::UTC.to_datetime(t);
    let year = dt.year();
    if !(0..=9999).contains(&year) {
        return t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    let mut b = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, v: i32, width: usize| {
        let mut v = v;
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, i32::from(year), 4);
    put(5, i32::from(dt.month()), 2);
    put(8, i32::from(dt.day()), 2);
    put(11, i32::from(dt.hour()), 2);
    put(14, i32::from(dt.minute()), 2);
    put(17, i32::from(dt.second()), 2);
    String::from_utf8(b.to_vec()).expect("ASCII digits")
}

/// When a token expires, as read from a Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// No `expiration` key: valid forever, and tokencleaner never deletes it.
    Never,
    /// A parseable expiry.
    At(Timestamp),
    /// Unparseable: the apiserver treats it as expired.
    Unparseable(String),
}

impl Expiry {
    /// Whether the token is expired at `now` (unparseable counts as expired, as upstream).
    /// The apiserver's bootstrap authenticator rejects a token when `time.Now().After(exp)`:
    /// at the expiry instant itself the token is still valid.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        match self {
            Expiry::Never => false,
            Expiry::At(t) => now > *t,
            Expiry::Unparseable(_) => true,
        }
    }
}

/// Parses an `expiration` value exactly as the apiserver does (Go's
/// `time.Parse(time.RFC3339, …)`): `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z` or
/// `±hh:mm`; uppercase `T` and `Z` only; no leap second. Anything else is `None`, which the
/// apiserver treats as expired, so we never show such a token as valid.
pub fn parse_expiration(raw: &str) -> Option<Timestamp> {
    let b = raw.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| raw[r].parse::<u32>().unwrap_or(99);
    if num(11..13) > 23 || num(14..16) > 59 || num(17..19) > 59 {
        return None;
    }
    let mut rest = &raw[19..];
    if let Some(f) = rest.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &f[n..];
    }
    let zone_ok = rest == "Z"
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest[1..3].bytes().all(|c| c.is_ascii_digit())
            && rest[4..6].bytes().all(|c| c.is_ascii_digit())
            && rest[1..3].parse::<u32>().ok()? < 24
            && rest[4..6].parse::<u32>().ok()? < 60);
    if !zone_ok {
        return None;
    }
    raw.parse::<Timestamp>().ok()
}

/// A bootstrap-token Secret as read back, tolerant of anything a cluster may hold.
#[derive(Clone, Debug)]
pub struct TokenRecord {
    /// Secret name.
    pub name: String,
    /// Secret UID, for delete preconditions.
    pub uid: Option<String>,
    /// The id, when valid.
    pub id: Option<TokenId>,
    /// The token, when id and secret are valid.
    pub token: Option<Token>,
    /// Expiry.
    pub expires: Expiry,
    /// Usages whose value is exactly `"true"`, sorted as kubeadm lists them.
    pub usages: Vec<String>,
    /// Extra groups.
    pub groups: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// Creation time of the Secret.
    pub created: Option<Timestamp>,
    /// Labels on the Secret.
    pub labels: BTreeMap<String, String>,
    /// Why the apiserver would not accept this token, if it would not (one entry per reason).
    pub problems: Vec<String>,
}

impl TokenRecord {
    /// Decodes a Secret of the bootstrap-token type. Never fails: problems are recorded.
    pub fn from_secret(secret: &Secret) -> Self {
        let data: Vec<(&str, &[u8])> = secret
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.0.as_slice()))
            .collect();
        Self::from_parts(
            secret.metadata.name.clone().unwrap_or_default(),
            secret.metadata.uid.clone(),
            secret.metadata.creation_timestamp.as_ref().map(|t| t.0),
            secret.metadata.labels.clone().unwrap_or_default(),
            &data,
        )
    }

    /// Decodes a bootstrap-token Secret given as its parts: the data entries as raw bytes, in
    /// any order (a LIST decoded in place hands them over without building a Secret). A key
    /// given twice counts once, the last one, as a map would keep it.
    pub fn from_parts(
        name: String,
        uid: Option<String>,
        created: Option<Timestamp>,
        labels: BTreeMap<String, String>,
        data: &[(&str, &[u8])],
    ) -> Self {
        // Later entries replace earlier ones (protobuf map semantics); one small node for the
        // usual eight keys, and no quadratic scan however many a hostile Secret carries.
        let data: BTreeMap<&str, &[u8]> = data.iter().copied().collect();
        let get = |k: &str| data.get(k).map(|v| String::from_utf8_lossy(v).into_owned());
        let mut problems = Vec::new();
        let id = match get("token-id") {
            Some(raw) => match TokenId::parse(&raw) {
                Ok(id) => Some(id),
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
            None => {
                problems.push("missing token-id".into());
                None
            }
        };
        if let Some(id) = &id
            && name != id.secret_name()
        {
            problems.push(format!(
                "token-id {id} does not match the Secret name {name}"
            ));
        }
        let token = match (&id, get("token-secret")) {
            (Some(id), Some(s)) => match format!("{id}.{s}").parse::<Token>() {
                Ok(t) => Some(t),
                Err(_) => {
                    problems.push("token-secret is not 16 characters of [a-z0-9]".into());
                    None
                }
            },
            (_, None) => {
                problems.push("missing token-secret".into());
                None
            }
            _ => None,
        };
        let expires = match get("expiration") {
            None => Expiry::Never,
            Some(raw) => match parse_expiration(&raw) {
                Some(t) => Expiry::At(t),
                None => {
                    problems.push(format!("unparseable expiration {raw:?}"));
                    Expiry::Unparseable(raw)
                }
            },
        };
        let mut usages: Vec<String> = data
            .iter()
            .filter_map(|(k, v)| {
                let u = k.strip_prefix("usage-bootstrap-")?;
                (*v == b"true").then(|| u.to_string())
            })
            .collect();
        usages.sort();
        let groups: Vec<String> = get("auth-extra-groups")
            .map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        for g in &groups {
            if let Err(e) = validate_group(g) {
                problems.push(e);
            }
        }
        TokenRecord {
            name,
            uid,
            id,
            token,
            expires,
            usages,
            groups,
            description: get("description").filter(|d| !d.is_empty()),
            created,
            labels,
            problems,
        }
    }

    /// The token column: masked unless `show_secret`; the Secret name when the token is invalid.
    pub fn display_token(&self, show_secret: bool) -> String {
        match (&self.token, &self.id) {
            (Some(t), _) if show_secret => t.expose(),
            (_, Some(id)) => masked(id),
            _ => format!("<invalid:{}>", self.name),
        }
    }
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "token_props.rs"]
mod props;
