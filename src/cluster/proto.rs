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

#[cfg(test)]
#[path = "proto_tests.rs"]
mod tests;
#[cfg(test)]
pub(crate) use tests::test_secret_list;
