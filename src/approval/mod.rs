//! The approval policy for kubelet certificate signing requests: given one CSR ([`Csr`], read by
//! [`request`]) and what the cluster says about the Node and the bootstrap token it names
//! ([`Facts`]), approve it or refuse it, naming the rule that failed and the value that broke
//! it. Pure: no I/O and no clock, so every rule is unit-tested here; the command looks the facts
//! up (see [`needs`]) and acts on the [`Evaluation`].
//!
//! Two signers are handled, nothing else is ever touched:
//! - `kubernetes.io/kubelet-serving`: the kubelet's TLS serving certificate. Unlike
//!   kubelet-csr-approver (DNS names by regex, IPs by CIDR, no look at the Node), every SAN must
//!   be an address the Node object itself reports, or match an anchored `--dns-pattern`.
//! - `kubernetes.io/kube-apiserver-client-kubelet`: the kubelet's client certificate, from a
//!   bootstrap token (the token must exist and be valid now, not only when it authenticated)
//!   or a renewal by the node itself.

pub mod names;
pub mod request;

#[cfg(test)]
mod tests;

use std::net::IpAddr;

pub use names::{DnsPattern, valid_node_name};
pub use request::{Csr, Key, Request, State};

/// Signer of kubelet serving certificates.
pub const SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";
/// Signer of kubelet client certificates.
pub const CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The group every node (and the O of its certificates) is in.
pub const NODES_GROUP: &str = "system:nodes";
/// The group every bootstrap token authenticates into.
pub const BOOTSTRAPPERS_GROUP: &str = "system:bootstrappers";
/// Username prefix of nodes.
pub const NODE_USER_PREFIX: &str = "system:node:";
/// Username prefix of bootstrap tokens.
pub const BOOTSTRAP_USER_PREFIX: &str = "system:bootstrap:";
/// The label naming the one node a bound token may join as (owned by [`crate::binding`]).
pub use crate::binding::NODE_LABEL;

/// Which of our two kinds of CSR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `kubernetes.io/kubelet-serving`.
    Serving,
    /// `kubernetes.io/kube-apiserver-client-kubelet`.
    Client,
}

impl Kind {
    /// The kind a signer name stands for; `None` for every other signer.
    pub fn of(signer: &str) -> Option<Kind> {
        match signer {
            SERVING_SIGNER => Some(Kind::Serving),
            CLIENT_SIGNER => Some(Kind::Client),
            _ => None,
        }
    }
}

/// The flags that tune the policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// When non-empty, every IP SAN must also be inside one of these.
    pub allowed_cidrs: Vec<ipnet::IpNet>,
    /// DNS SANs matching one of these (for the requesting node) pass without being a Node
    /// address.
    pub dns_patterns: Vec<DnsPattern>,
    /// Longest `spec.expirationSeconds` approved.
    pub max_expiration_seconds: Option<i64>,
    /// Let a bootstrap token get a client certificate for a node name that a Node already has.
    pub allow_rejoin: bool,
}

/// The Node a CSR names, as the apiserver has it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeFacts {
    /// metadata.name.
    pub name: String,
    /// status.addresses as (type, address).
    pub addresses: Vec<(String, String)>,
}

/// The bootstrap token a `system:bootstrap:<id>` requester authenticated with, as it is now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenFacts {
    /// Why the apiserver would not accept it (malformed Secret), if it would not.
    pub problems: Vec<String>,
    /// When it expired, if it has (or `unparseable …`).
    pub expired: Option<String>,
    /// Whether `usage-bootstrap-authentication` is `"true"`.
    pub authentication: bool,
    /// The node it is bound to ([`NODE_LABEL`]), if any.
    pub bound_node: Option<String>,
}

/// What the command looked up for one CSR (see [`needs`]).
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The Node named by [`Needs::node`], when it exists.
    pub node: Option<NodeFacts>,
    /// The token named by [`Needs::token`], when its Secret exists.
    pub token: Option<TokenFacts>,
    /// A Denied CSR for the same public key, if one exists (its name).
    pub denied_same_key: Option<String>,
}

/// What to look up before [`evaluate`] can decide.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// A Node name (already checked to be a valid name, safe to put in a URL).
    pub node: Option<String>,
    /// A bootstrap token id (already checked).
    pub token: Option<String>,
}

/// Whether a CSR is ours to evaluate at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Triage {
    /// A pending CSR for one of our signers.
    Evaluate(Kind),
    /// Another signer: never touched.
    OtherSigner,
    /// Already approved, denied or failed: never touched.
    Decided(State),
}

/// Whether `csr` is a pending CSR of ours.
pub fn triage(csr: &Csr) -> Triage {
    match (Kind::of(&csr.signer), csr.state) {
        (None, _) => Triage::OtherSigner,
        (Some(k), State::Pending) => Triage::Evaluate(k),
        (Some(_), s) => Triage::Decided(s),
    }
}

/// The node name in `system:node:<name>`, when it is one and the name is valid.
pub fn node_of_user(username: &str) -> Option<&str> {
    username
        .strip_prefix(NODE_USER_PREFIX)
        .filter(|n| valid_node_name(n))
}

/// The token id in `system:bootstrap:<id>`, when it is one and the id is valid.
pub fn token_of_user(username: &str) -> Option<&str> {
    username
        .strip_prefix(BOOTSTRAP_USER_PREFIX)
        .filter(|id| crate::token::TokenId::parse(id).is_ok())
}

/// The facts [`evaluate`] will read for `csr`.
pub fn needs(csr: &Csr) -> Needs {
    match Kind::of(&csr.signer) {
        Some(Kind::Serving) => Needs {
            node: node_of_user(&csr.username).map(String::from),
            token: None,
        },
        Some(Kind::Client) => match token_of_user(&csr.username) {
            // Only a bootstrap requester needs the Node (the rejoin rule) and the token.
            Some(id) => Needs {
                node: csr
                    .request
                    .as_ref()
                    .ok()
                    .and_then(|r| match &r.common_names[..] {
                        [cn] => node_of_user(cn).map(String::from),
                        _ => None,
                    }),
                token: Some(id.to_string()),
            },
            None => Needs::default(),
        },
        None => Needs::default(),
    }
}

/// One rule applied to one CSR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The rule's name (docs/workflows/approve-node-certificates.md lists them).
    pub rule: &'static str,
    /// Whether it held.
    pub passed: bool,
    /// What was seen: the value that broke the rule, or what satisfied it.
    pub detail: String,
}

/// Every check of one CSR, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// Which kind of CSR.
    pub kind: Kind,
    /// The checks; the first failed one is the reason.
    pub checks: Vec<Check>,
}

impl Evaluation {
    /// Whether every check passed.
    pub fn approved(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The first failed check, if any.
    pub fn refusal(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.passed)
    }

    /// One line: `rule: detail` of the first failed check, or a summary when all passed.
    pub fn reason(&self) -> String {
        match self.refusal() {
            Some(c) => format!("{}: {}", c.rule, c.detail),
            None => format!("all {} checks passed", self.checks.len()),
        }
    }
}

struct Checks(Vec<Check>);

impl Checks {
    fn add(&mut self, rule: &'static str, result: Result<String, String>) {
        let (passed, detail) = match result {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        self.0.push(Check {
            rule,
            passed,
            detail,
        });
    }
}

/// Applies every rule of `kind` to `csr` (which [`triage`] said to evaluate).
pub fn evaluate(kind: Kind, csr: &Csr, facts: &Facts, policy: &Policy) -> Evaluation {
    let mut c = Checks(Vec::new());
    let bootstrap = kind == Kind::Client && csr.username.starts_with(BOOTSTRAP_USER_PREFIX);
    c.add("requester", requester(kind, &csr.username));
    c.add("groups", groups(kind, bootstrap, &csr.groups));
    if bootstrap {
        c.add("token", token(&csr.username, facts.token.as_ref()));
    }
    let r = match &csr.request {
        Ok(r) => {
            c.add("request", Ok("a PKCS#10 request".into()));
            r
        }
        Err(e) => {
            c.add("request", Err(e.clone()));
            return Evaluation { kind, checks: c.0 };
        }
    };
    c.add("subject", subject(kind, bootstrap, &csr.username, r));
    c.add("usages", usages(kind, r.key.as_ref(), &csr.usages));
    c.add("key", key(r.key.as_ref()));
    match kind {
        Kind::Serving => {
            let node = node_of_user(&csr.username).unwrap_or_default();
            c.add("sans", serving_sans(r));
            c.add("node", node_exists(node, facts.node.as_ref()));
            let addrs = facts.node.as_ref().map(|n| n.addresses.as_slice());
            c.add(
                "ip-sans",
                ip_sans(&r.ips, addrs.unwrap_or_default(), policy),
            );
            c.add(
                "dns-sans",
                dns_sans(node, &r.dns, addrs.unwrap_or_default(), policy),
            );
        }
        Kind::Client => {
            c.add("sans", client_sans(r));
            if bootstrap {
                let cn_node = match &r.common_names[..] {
                    [cn] => node_of_user(cn),
                    _ => None,
                };
                c.add("bound-node", bound_node(cn_node, facts.token.as_ref()));
                c.add(
                    "rejoin",
                    rejoin(cn_node, facts.node.as_ref(), policy.allow_rejoin),
                );
            }
        }
    }
    c.add(
        "expiration",
        expiration(csr.expiration_seconds, policy.max_expiration_seconds),
    );
    c.add(
        "denied-before",
        match &facts.denied_same_key {
            Some(name) => Err(format!(
                "CSR {name} for the same public key was denied; a denial is not undone by \
                 asking again"
            )),
            None => Ok("no denied CSR for this public key".into()),
        },
    );
    Evaluation { kind, checks: c.0 }
}

fn requester(kind: Kind, user: &str) -> Result<String, String> {
    if node_of_user(user).is_some() {
        return Ok(format!("{user} is a node"));
    }
    if kind == Kind::Client && token_of_user(user).is_some() {
        return Ok(format!("{user} is a bootstrap token"));
    }
    if let Some(n) = user.strip_prefix(NODE_USER_PREFIX) {
        return Err(format!("{n:?} in {user:?} is not a valid node name"));
    }
    Err(match kind {
        Kind::Serving => format!("{user:?} is not a node (system:node:<name>)"),
        Kind::Client => format!(
            "{user:?} is neither a bootstrap token (system:bootstrap:<id>) nor a node \
             (system:node:<name>)"
        ),
    })
}

fn groups(kind: Kind, bootstrap: bool, groups: &[String]) -> Result<String, String> {
    let want = if kind == Kind::Client && bootstrap {
        BOOTSTRAPPERS_GROUP
    } else {
        NODES_GROUP
    };
    if groups.iter().any(|g| g == want) {
        Ok(format!("in group {want}"))
    } else {
        Err(format!(
            "the requester's groups [{}] do not include {want}",
            groups.join(", ")
        ))
    }
}

fn token(user: &str, t: Option<&TokenFacts>) -> Result<String, String> {
    let id = token_of_user(user).unwrap_or_default();
    let Some(t) = t else {
        return Err(format!(
            "bootstrap token {id} does not exist in kube-system (deleted, or cleaned up after \
             expiry)"
        ));
    };
    if !t.problems.is_empty() {
        return Err(format!(
            "bootstrap token {id} is not valid: {}",
            t.problems.join("; ")
        ));
    }
    if let Some(when) = &t.expired {
        return Err(format!("bootstrap token {id} expired ({when})"));
    }
    if !t.authentication {
        return Err(format!(
            "bootstrap token {id} does not have usage-bootstrap-authentication"
        ));
    }
    Ok(format!("bootstrap token {id} exists and is valid"))
}

fn subject(kind: Kind, bootstrap: bool, user: &str, r: &Request) -> Result<String, String> {
    let cn = match &r.common_names[..] {
        [cn] => cn,
        [] => return Err("the subject has no CN".into()),
        many => {
            return Err(format!(
                "the subject has {} CNs ({}); exactly one",
                many.len(),
                many.join(", ")
            ));
        }
    };
    if r.organizations != [NODES_GROUP] {
        return Err(format!(
            "the subject's O is [{}], not exactly [{NODES_GROUP}]",
            r.organizations.join(", ")
        ));
    }
    if !r.other_attributes.is_empty() {
        return Err(format!(
            "the subject has attributes besides CN and O: {}",
            r.other_attributes.join(", ")
        ));
    }
    if kind == Kind::Client && bootstrap {
        return match node_of_user(cn) {
            Some(_) => Ok(format!("CN={cn}, O={NODES_GROUP}")),
            None => Err(format!("CN {cn:?} is not system:node:<valid node name>")),
        };
    }
    if cn != user {
        return Err(format!("CN {cn:?} is not the requester {user:?}"));
    }
    Ok(format!("CN={cn}, O={NODES_GROUP}"))
}

fn usages(kind: Kind, key: Option<&Key>, got: &[String]) -> Result<String, String> {
    let mut want = vec![
        "digital signature",
        match kind {
            Kind::Serving => "server auth",
            Kind::Client => "client auth",
        },
    ];
    // client-go's certificate manager adds key encipherment for RSA keys only.
    if matches!(key, Some(Key::Rsa(_))) {
        want.push("key encipherment");
    }
    want.sort_unstable();
    let mut have: Vec<&str> = got.iter().map(String::as_str).collect();
    have.sort_unstable();
    if have == want {
        Ok(have.join(", "))
    } else {
        Err(format!(
            "usages [{}] are not exactly [{}] (what a kubelet with this key sends)",
            got.join(", "),
            want.join(", ")
        ))
    }
}

fn key(k: Option<&Key>) -> Result<String, String> {
    match k {
        Some(Key::Rsa(bits)) if *bits >= 2048 => Ok(format!("RSA {bits}")),
        Some(Key::Ec(c)) if matches!(c.as_str(), "P-256" | "P-384" | "P-521") => {
            Ok(format!("ECDSA {c}"))
        }
        Some(k) => Err(format!(
            "{k} is not allowed: RSA of at least 2048 bits or ECDSA P-256, P-384, P-521"
        )),
        None => Err("no public key".into()),
    }
}

fn serving_sans(r: &Request) -> Result<String, String> {
    let mut bad: Vec<String> = r.emails.iter().map(|e| format!("email {e}")).collect();
    bad.extend(r.uris.iter().map(|u| format!("URI {u}")));
    bad.extend(r.other_sans.iter().cloned());
    if !bad.is_empty() {
        return Err(format!(
            "only DNS and IP SANs are allowed, found {}",
            bad.join(", ")
        ));
    }
    if r.dns.is_empty() && r.ips.is_empty() {
        return Err("no DNS or IP SAN: a serving certificate needs at least one".into());
    }
    Ok(format!("{} DNS, {} IP", r.dns.len(), r.ips.len()))
}

fn client_sans(r: &Request) -> Result<String, String> {
    let n = r.dns.len() + r.ips.len() + r.emails.len() + r.uris.len() + r.other_sans.len();
    if n == 0 {
        Ok("none".into())
    } else {
        Err(format!(
            "a kubelet client certificate has no SANs, the request has {n}"
        ))
    }
}

fn node_exists(name: &str, node: Option<&NodeFacts>) -> Result<String, String> {
    match node {
        Some(n) if n.name == name => Ok(format!("Node {name} exists")),
        _ => Err(format!(
            "Node {name:?} does not exist: a serving certificate is issued only for a \
             registered Node"
        )),
    }
}

fn node_addresses(addrs: &[(String, String)]) -> String {
    if addrs.is_empty() {
        return "none".into();
    }
    addrs
        .iter()
        .map(|(t, a)| format!("{t} {a}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ip_sans(ips: &[IpAddr], addrs: &[(String, String)], policy: &Policy) -> Result<String, String> {
    for ip in ips {
        let on_node = addrs
            .iter()
            .any(|(_, a)| a.parse::<IpAddr>().is_ok_and(|a| a == *ip));
        if !on_node {
            return Err(format!(
                "IP {ip} is not an address of the Node (it has: {})",
                node_addresses(addrs)
            ));
        }
        if !policy.allowed_cidrs.is_empty() && !policy.allowed_cidrs.iter().any(|n| n.contains(ip))
        {
            return Err(format!(
                "IP {ip} is outside --allowed-cidrs {}",
                policy
                    .allowed_cidrs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
    }
    Ok(if ips.is_empty() {
        "none requested".into()
    } else {
        format!(
            "{} on the Node",
            ips.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn dns_sans(
    node: &str,
    dns: &[String],
    addrs: &[(String, String)],
    policy: &Policy,
) -> Result<String, String> {
    for d in dns {
        let lower = d.to_ascii_lowercase();
        let on_node = addrs.iter().any(|(t, a)| {
            matches!(t.as_str(), "Hostname" | "InternalDNS" | "ExternalDNS")
                && a.to_ascii_lowercase() == lower
        });
        let by_pattern = policy.dns_patterns.iter().any(|p| p.matches(node, d));
        if !on_node && !by_pattern {
            let patterns = if policy.dns_patterns.is_empty() {
                String::new()
            } else {
                format!(
                    " and matches no --dns-pattern ({})",
                    policy
                        .dns_patterns
                        .iter()
                        .map(DnsPattern::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(format!(
                "DNS name {d:?} is not a Hostname/InternalDNS/ExternalDNS address of Node \
                 {node} (it has: {}){patterns}",
                node_addresses(addrs)
            ));
        }
    }
    Ok(if dns.is_empty() {
        "none requested".into()
    } else {
        dns.join(", ")
    })
}

fn bound_node(cn_node: Option<&str>, t: Option<&TokenFacts>) -> Result<String, String> {
    match t.and_then(|t| t.bound_node.as_deref()) {
        None => Ok("the token is not bound to a node".into()),
        Some(bound) if Some(bound) == cn_node => Ok(format!("the token is bound to {bound}")),
        Some(bound) => Err(format!(
            "the token is bound to node {bound:?} ({NODE_LABEL}), the CSR asks for {:?}",
            cn_node.unwrap_or("<no node>")
        )),
    }
}

fn rejoin(cn_node: Option<&str>, node: Option<&NodeFacts>, allow: bool) -> Result<String, String> {
    let name = cn_node.unwrap_or("<no node>");
    match node {
        None => Ok(format!("no Node {name} yet: a new node")),
        Some(_) if allow => Ok(format!("Node {name} exists; --allow-rejoin")),
        Some(_) => Err(format!(
            "Node {name} is already registered: a bootstrap token may not take over its \
             identity (pass --allow-rejoin for a node being rebuilt)"
        )),
    }
}

fn expiration(asked: Option<i64>, max: Option<i64>) -> Result<String, String> {
    match (asked, max) {
        (Some(a), Some(m)) if a > m => Err(format!(
            "expirationSeconds {a} is over --max-expiration ({m}s)"
        )),
        (Some(a), _) => Ok(format!("{a}s")),
        (None, _) => Ok("the signer's default duration".into()),
    }
}
