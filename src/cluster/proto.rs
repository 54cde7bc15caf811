//! Protobuf decoding of the LISTs that can carry thousands of objects: bootstrap-token Secrets
//! (`list`, `prune`, `publish`, `schedule`) and the ConfigMaps `prune` scans for owner
//! references.
//!
//! Why: with 10,000 tokens a JSON LIST is dominated by the apiserver encoding ~9 MB of JSON and
//! the client building a JSON tree per object (including `managedFields`, the bulk of each
//! one). The apiserver encodes protobuf several times faster, the data values arrive as raw
//! bytes (no base64), and this decoder skips `managedFields` unread, so a page costs a fraction
//! of the time and memory (figures in docs/PERFORMANCE.md). kube-rs speaks only JSON and the
//! generated protobuf crates are large, so this reads exactly the fields the commands use.
//!
//! Wire format: the body is `k8s\0` followed by a `runtime.Unknown` whose `raw` (field 2) is the
//! List message. Field numbers are those of `k8s.io/api/core/v1/generated.proto` and
//! `k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto` (stable: protobuf field numbers of
//! served API versions never change).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

/// The media type to ask for and to recognise in `Content-Type`.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

/// A malformed protobuf body (names what was wrong; never contains data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed protobuf response: {}", self.0)
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

/// One field's value; fixed-width values are skipped (none of the fields read here has one).
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Iterates over the fields of one message.
struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(DecodeError("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        let n = usize::try_from(n).map_err(|_| DecodeError("length out of range"))?;
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(DecodeError("field runs past the end of its message"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next (field number, value), or `None` at the end of the message.
    fn next_field(&mut self) -> Result<Option<(u64, Value<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let v = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let n = self.varint()?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            _ => return Err(DecodeError("unsupported wire type")),
        };
        Ok(Some((key >> 3, v)))
    }
}

fn string(b: &[u8]) -> Result<String> {
    String::from_utf8(b.to_vec()).map_err(|_| DecodeError("string field is not UTF-8"))
}

/// A `map<string, V>` entry: (key, raw value).
fn entry(b: &[u8]) -> Result<(String, &[u8])> {
    let (k, v) = entry_ref(b)?;
    Ok((k.to_string(), v))
}

fn string_map(into: &mut Option<BTreeMap<String, String>>, b: &[u8]) -> Result<()> {
    let (k, v) = entry(b)?;
    into.get_or_insert_with(BTreeMap::new).insert(k, string(v)?);
    Ok(())
}

/// `meta.v1.Time`: seconds (1) and nanos (2) since the epoch.
fn time(b: &[u8]) -> Result<Time> {
    let (mut secs, mut nanos) = (0i64, 0i32);
    let mut f = Fields::new(b);
    while let Some((n, v)) = f.next_field()? {
        match (n, v) {
            // int64/int32 are sent as two's complement varints.
            (1, Value::Varint(x)) => secs = x as i64,
            (2, Value::Varint(x)) => nanos = x as i32,
            _ => {}
        }
    }
    k8s_openapi::jiff::Timestamp::new(secs, nanos)
        .map(Time)
        .map_err(|_| DecodeError("timestamp out of range"))
}

fn owner_reference(b: &[u8]) -> Result<OwnerReference> {
    let mut o = OwnerReference::default();
    let mut f = Fields::new(b);
    while let Some((n, v)) = f.next_field()? {
        match (n, v) {
            (1, Value::Bytes(x)) => o.kind = string(x)?,
            (3, Value::Bytes(x)) => o.name = string(x)?,
            (4, Value::Bytes(x)) => o.uid = string(x)?,
            (5, Value::Bytes(x)) => o.api_version = string(x)?,
            (6, Value::Varint(x)) => o.controller = Some(x != 0),
            (7, Value::Varint(x)) => o.block_owner_deletion = Some(x != 0),
            _ => {}
        }
    }
    Ok(o)
}

/// `ObjectMeta` without `managedFields` (17) and the other fields no command reads.
fn object_meta(b: &[u8]) -> Result<ObjectMeta> {
    let mut m = ObjectMeta::default();
    let mut f = Fields::new(b);
    while let Some((n, v)) = f.next_field()? {
        match (n, v) {
            (1, Value::Bytes(x)) => m.name = Some(string(x)?),
            (3, Value::Bytes(x)) => m.namespace = Some(string(x)?),
            (5, Value::Bytes(x)) => m.uid = Some(string(x)?),
            (6, Value::Bytes(x)) => m.resource_version = Some(string(x)?),
            (8, Value::Bytes(x)) => m.creation_timestamp = Some(time(x)?),
            (9, Value::Bytes(x)) => m.deletion_timestamp = Some(time(x)?),
            (11, Value::Bytes(x)) => string_map(&mut m.labels, x)?,
            (12, Value::Bytes(x)) => string_map(&mut m.annotations, x)?,
            (13, Value::Bytes(x)) => m
                .owner_references
                .get_or_insert_with(Vec::new)
                .push(owner_reference(x)?),
            (14, Value::Bytes(x)) => m.finalizers.get_or_insert_with(Vec::new).push(string(x)?),
            _ => {}
        }
    }
    Ok(m)
}

/// A `v1.Secret`: metadata (1), data (2), type (3), immutable (5).
pub fn secret(b: &[u8]) -> Result<Secret> {
    let mut s = Secret::default();
    let mut f = Fields::new(b);
    while let Some((n, v)) = f.next_field()? {
        match (n, v) {
            (1, Value::Bytes(x)) => s.metadata = object_meta(x)?,
            (2, Value::Bytes(x)) => {
                let (k, v) = entry(x)?;
                s.data
                    .get_or_insert_with(BTreeMap::new)
                    .insert(k, ByteString(v.to_vec()));
            }
            (3, Value::Bytes(x)) => s.type_ = Some(string(x)?),
            (5, Value::Varint(x)) => s.immutable = Some(x != 0),
            _ => {}
        }
    }
    Ok(s)
}

/// A `v1.ConfigMap`'s metadata only: `prune` reads nothing else, so the data is not copied.
pub fn config_map_metadata(b: &[u8]) -> Result<ConfigMap> {
    let mut c = ConfigMap::default();
    let mut f = Fields::new(b);
    while let Some((n, v)) = f.next_field()? {
        if let (1, Value::Bytes(x)) = (n, v) {
            c.metadata = object_meta(x)?;
        }
    }
    Ok(c)
}

/// One item of a metadata-only list (`PartialObjectMetadata`: metadata is field 1, as in
/// every object), so the owner scan never receives Secret data.
pub fn partial_metadata<K>(b: &[u8]) -> Result<kube::core::PartialObjectMeta<K>> {
    use kube::core::PartialObjectMetaExt;
    let mut meta = ObjectMeta::default();
    let mut f = Fields::new(b);
    while let Some((n, v)) = f.next_field()? {
        if let (1, Value::Bytes(x)) = (n, v) {
            meta = object_meta(x)?;
        }
    }
    Ok(meta.into_response_partial::<K>())
}

/// The message inside the `k8s\0` envelope.
fn unwrap(body: &[u8]) -> Result<&[u8]> {
    let inner = body
        .strip_prefix(MAGIC)
        .ok_or(DecodeError("missing the k8s protobuf prefix"))?;
    let mut f = Fields::new(inner);
    while let Some((n, v)) = f.next_field()? {
        if let (2, Value::Bytes(raw)) = (n, v) {
            return Ok(raw);
        }
    }
    Err(DecodeError("envelope without an object"))
}

/// Decodes a whole List body: each item (field 2) through `item`; returns the continue token
/// of its `ListMeta` (field 1), if any. The streamed decoder ([`ListDecoder`]) fed at once:
/// the reference the chunked decodes are compared with in tests.
#[cfg(test)]
pub fn list<T>(
    body: &[u8],
    item: impl Fn(&[u8]) -> Result<T>,
    out: &mut Vec<T>,
) -> Result<Option<String>> {
    let mut d = ListDecoder::new();
    d.feed(body, item, out)?;
    d.finish()
}

/// A Secret read in place: every string and value borrows the response body, so a LIST of
/// thousands of tokens allocates only what the caller keeps (see `store`, which turns each
/// into a token record). Fields no command reads are skipped, `managedFields` included.
#[derive(Debug, Default)]
pub struct SecretView<'a> {
    /// `metadata.name`.
    pub name: &'a str,
    /// `metadata.uid`.
    pub uid: Option<&'a str>,
    /// `metadata.resourceVersion`.
    pub resource_version: Option<&'a str>,
    /// `metadata.creationTimestamp`.
    pub created: Option<k8s_openapi::jiff::Timestamp>,
    /// `metadata.labels`, in wire order.
    pub labels: Vec<(&'a str, &'a str)>,
    /// `metadata.annotations`, in wire order.
    pub annotations: Vec<(&'a str, &'a str)>,
    /// `data`, raw values, in wire order.
    pub data: Vec<(&'a str, &'a [u8])>,
}

fn str_ref(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b).map_err(|_| DecodeError("string field is not UTF-8"))
}

/// A `map<string, V>` entry, borrowed: (key, raw value).
fn entry_ref(b: &[u8]) -> Result<(&str, &[u8])> {
    let (mut k, mut v) = ("", &b[..0]);
    let mut f = Fields::new(b);
    while let Some((n, val)) = f.next_field()? {
        match (n, val) {
            (1, Value::Bytes(x)) => k = str_ref(x)?,
            (2, Value::Bytes(x)) => v = x,
            _ => {}
        }
    }
    Ok((k, v))
}

/// A `v1.Secret` as a [`SecretView`] (same fields and rules as [`secret`]).
pub fn secret_view(b: &[u8]) -> Result<SecretView<'_>> {
    let mut s = SecretView::default();
    let mut f = Fields::new(b);
    while let Some((n, v)) = f.next_field()? {
        match (n, v) {
            (1, Value::Bytes(meta)) => {
                let mut m = Fields::new(meta);
                while let Some((k, v)) = m.next_field()? {
                    match (k, v) {
                        (1, Value::Bytes(x)) => s.name = str_ref(x)?,
                        (5, Value::Bytes(x)) => s.uid = Some(str_ref(x)?),
                        (6, Value::Bytes(x)) => s.resource_version = Some(str_ref(x)?),
                        (8, Value::Bytes(x)) => s.created = Some(time(x)?.0),
                        (11, Value::Bytes(x)) => {
                            let (k, v) = entry_ref(x)?;
                            s.labels.push((k, str_ref(v)?));
                        }
                        (12, Value::Bytes(x)) => {
                            let (k, v) = entry_ref(x)?;
                            s.annotations.push((k, str_ref(v)?));
                        }
                        _ => {}
                    }
                }
            }
            (2, Value::Bytes(x)) => s.data.push(entry_ref(x)?),
            _ => {}
        }
    }
    Ok(s)
}

/// The largest single field a streamed List may carry. The apiserver stores objects of at most
/// ~1.5 MiB (etcd's request limit); anything claiming more is refused instead of buffered.
const MAX_FIELD: usize = 16 << 20;

/// Where a [`ListDecoder`] is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before the `k8s\0` prefix.
    Magic,
    /// In the `runtime.Unknown` envelope, before its `raw` field.
    Envelope,
    /// In the List message (`raw`), with this many of its bytes not yet consumed.
    List(usize),
    /// After the List: the envelope's remaining fields.
    Trailer,
}

/// A varint at the start of `b`: `Ok(None)` when `b` ends before it does.
fn peek_varint(b: &[u8]) -> Result<Option<(u64, usize)>> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(Some((v, i + 1)));
        }
    }
    if b.len() >= 10 {
        Err(DecodeError("varint longer than 10 bytes"))
    } else {
        Ok(None)
    }
}

/// One whole field at the start of `b`: (number, value, bytes it spans), or `Ok(None)` when
/// `b` does not hold all of it yet.
fn peek_field(b: &[u8]) -> Result<Option<(u64, Value<'_>, usize)>> {
    let Some((key, k)) = peek_varint(b)? else {
        return Ok(None);
    };
    let rest = &b[k..];
    let (v, n) = match key & 7 {
        0 => match peek_varint(rest)? {
            Some((x, n)) => (Value::Varint(x), n),
            None => return Ok(None),
        },
        1 | 5 => {
            let n = if key & 7 == 1 { 8 } else { 4 };
            if rest.len() < n {
                return Ok(None);
            }
            (Value::Fixed, n)
        }
        2 => {
            let Some((len, h)) = peek_varint(rest)? else {
                return Ok(None);
            };
            let len = usize::try_from(len)
                .ok()
                .filter(|&l| l <= MAX_FIELD)
                .ok_or(DecodeError("a field larger than 16 MiB"))?;
            if rest.len() - h < len {
                return Ok(None);
            }
            (Value::Bytes(&rest[h..h + len]), h + len)
        }
        _ => return Err(DecodeError("unsupported wire type")),
    };
    Ok(Some((key >> 3, v, k + n)))
}

/// Decodes a protobuf List body while it arrives, chunk by chunk: each item is decoded as soon
/// as its bytes are complete, so decoding overlaps the transfer (the apiserver streams large
/// lists) and the body is never held whole — only the item in progress is buffered. The
/// List's metadata (with the continue token) precedes the items on the wire.
#[derive(Debug)]
pub struct ListDecoder {
    stage: Stage,
    /// Bytes of an incomplete field carried over to the next chunk.
    carry: Vec<u8>,
    cont: Option<String>,
}

impl Default for ListDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ListDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        ListDecoder {
            stage: Stage::Magic,
            carry: Vec::new(),
            cont: None,
        }
    }

    /// The List's continue token, once its metadata has been read (it precedes the items).
    pub fn continue_token(&self) -> Option<&str> {
        self.cont.as_deref()
    }

    /// Feeds the next chunk of the body; items completed by it go through `item` into `out`.
    pub fn feed<T>(
        &mut self,
        chunk: &[u8],
        item: impl Fn(&[u8]) -> Result<T>,
        out: &mut Vec<T>,
    ) -> Result<()> {
        if self.carry.is_empty() {
            // The common case: parse straight from the chunk, keep only its incomplete tail.
            let used = self.consume(chunk, &item, out)?;
            self.carry.extend_from_slice(&chunk[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(chunk);
            let used = self.consume(&buf, &item, out)?;
            buf.drain(..used);
            self.carry = buf;
        }
        Ok(())
    }

    /// Ends the body: an error when it stopped inside the List or a field.
    pub fn finish(self) -> Result<Option<String>> {
        match self.stage {
            Stage::Trailer if self.carry.is_empty() => Ok(self.cont),
            Stage::Magic | Stage::Envelope => Err(DecodeError("envelope without an object")),
            _ => Err(DecodeError("the body ends inside the list")),
        }
    }

    /// Consumes every whole field at the start of `b`; returns how many bytes it used.
    fn consume<T>(
        &mut self,
        b: &[u8],
        item: &impl Fn(&[u8]) -> Result<T>,
        out: &mut Vec<T>,
    ) -> Result<usize> {
        let mut pos = 0;
        loop {
            match self.stage {
                Stage::Magic => {
                    let have = &b[pos..];
                    if have.len() < MAGIC.len() {
                        if !MAGIC.starts_with(have) {
                            return Err(DecodeError("missing the k8s protobuf prefix"));
                        }
                        return Ok(pos);
                    }
                    if &have[..MAGIC.len()] != MAGIC {
                        return Err(DecodeError("missing the k8s protobuf prefix"));
                    }
                    pos += MAGIC.len();
                    self.stage = Stage::Envelope;
                }
                Stage::Envelope => {
                    let have = &b[pos..];
                    let Some((key, k)) = peek_varint(have)? else {
                        return Ok(pos);
                    };
                    if key == (2 << 3 | 2) {
                        // `raw`: enter the List without waiting for all of it.
                        let Some((len, h)) = peek_varint(&have[k..])? else {
                            return Ok(pos);
                        };
                        let len =
                            usize::try_from(len).map_err(|_| DecodeError("length out of range"))?;
                        pos += k + h;
                        self.stage = if len == 0 {
                            Stage::Trailer
                        } else {
                            Stage::List(len)
                        };
                        continue;
                    }
                    match peek_field(have)? {
                        Some((_, _, n)) => pos += n,
                        None => return Ok(pos),
                    }
                }
                Stage::List(left) => {
                    let have = &b[pos..];
                    let window = &have[..have.len().min(left)];
                    let Some((n, v, used)) = peek_field(window)? else {
                        if have.len() >= left {
                            // All of the List is here and its last field is cut short.
                            return Err(DecodeError("field runs past the end of its message"));
                        }
                        return Ok(pos);
                    };
                    match (n, v) {
                        (1, Value::Bytes(meta)) => {
                            let mut m = Fields::new(meta);
                            while let Some((k, v)) = m.next_field()? {
                                if let (3, Value::Bytes(c)) = (k, v)
                                    && !c.is_empty()
                                {
                                    self.cont = Some(string(c)?);
                                }
                            }
                        }
                        (2, Value::Bytes(x)) => out.push(item(x)?),
                        _ => {}
                    }
                    pos += used;
                    self.stage = if used == left {
                        Stage::Trailer
                    } else {
                        Stage::List(left - used)
                    };
                }
                Stage::Trailer => match peek_field(&b[pos..])? {
                    Some((_, _, n)) => pos += n,
                    None => return Ok(pos),
                },
            }
        }
    }
}

/// A `meta.v1.Status` error body: (code, reason, message).
pub fn status(body: &[u8]) -> Result<(u16, String, String)> {
    let (mut code, mut reason, mut message) = (0u16, String::new(), String::new());
    let mut f = Fields::new(unwrap(body)?);
    while let Some((n, v)) = f.next_field()? {
        match (n, v) {
            (3, Value::Bytes(x)) => message = string(x)?,
            (4, Value::Bytes(x)) => reason = string(x)?,
            (6, Value::Varint(x)) => code = u16::try_from(x).unwrap_or(0),
            _ => {}
        }
    }
    Ok((code, reason, message))
}

/// A protobuf SecretList body for tests elsewhere in the crate: Secrets named `names` (with a
/// `managedFields` block each, so items are a few hundred bytes), and `cont` as continue token.
#[cfg(test)]
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

#[cfg(test)]
mod tests {
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

#[cfg(test)]
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
