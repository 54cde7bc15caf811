//! Incremental decoding of a protobuf List body as its bytes arrive.
//!
//! Why: with 10,000 tokens a page used to be read whole before its first item was decoded, so
//! the decoding of the last page came after the apiserver had finished (nothing to overlap it
//! with), and the next page could only be asked for once the current one had fully arrived.
//! The List's metadata (with the continue token) precedes its items on the wire, and the
//! apiserver streams large LIST responses, so decoding item by item as frames arrive lets the
//! next page be requested at once and keeps the client's work inside the server's
//! (figures in docs/PERFORMANCE.md).
//!
//! Layout (see [`super::proto`]): `k8s\0`, then a `runtime.Unknown` whose `raw` (field 2) is the
//! List: field 1 the `ListMeta`, field 2 each item. Only the header of `raw` is waited for,
//! never the whole of it; every other field is buffered until complete.

use super::proto::DecodeError;

type Result<T> = std::result::Result<T, DecodeError>;

const MAGIC: &[u8] = b"k8s\0";

/// Where the decoder is in the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the `k8s\0` prefix.
    Magic,
    /// Among the fields of `runtime.Unknown`.
    Outer,
    /// Inside `raw` (the List), with this many of its bytes still to come.
    List { left: usize },
    /// After the List: the rest (content type, encoding) is ignored.
    Done,
}

/// Feeds on the body's bytes; hands out the continue token and the items as they complete.
#[derive(Debug)]
pub struct ListDecoder {
    buf: Vec<u8>,
    pos: usize,
    state: State,
}

/// What one [`ListDecoder::feed`] found.
#[derive(Debug, Default)]
pub struct Fed<T> {
    /// The List's continue token, the one time it is read (`Some("")` on the last page).
    pub continue_token: Option<String>,
    /// The items completed by this chunk, in order.
    pub items: Vec<T>,
}

/// A varint at the start of `b`: `None` while incomplete, its value and length when complete.
fn varint(b: &[u8]) -> Result<Option<(u64, usize)>> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(Some((v, i + 1)));
        }
    }
    if b.len() >= 10 {
        return Err(DecodeError("varint longer than 10 bytes"));
    }
    Ok(None)
}

/// A field's key and extent: (field, wire type, header length, header + payload length), or
/// `None` while the header is incomplete.
fn header(b: &[u8]) -> Result<Option<(u64, u64, usize, usize)>> {
    let Some((key, k)) = varint(b)? else {
        return Ok(None);
    };
    let (len, n) = match key & 7 {
        0 => match varint(&b[k..])? {
            Some((_, n)) => (0, n),
            None => return Ok(None),
        },
        1 => (8, 0),
        5 => (4, 0),
        2 => match varint(&b[k..])? {
            Some((len, n)) => (
                usize::try_from(len).map_err(|_| DecodeError("length out of range"))?,
                n,
            ),
            None => return Ok(None),
        },
        _ => return Err(DecodeError("unsupported wire type")),
    };
    let head = k + n;
    let end = head
        .checked_add(len)
        .ok_or(DecodeError("length out of range"))?;
    Ok(Some((key >> 3, key & 7, head, end)))
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
            buf: Vec::new(),
            pos: 0,
            state: State::Magic,
        }
    }

    /// Takes the next chunk of the body; decodes every item it completes with `item`.
    pub fn feed<T>(&mut self, chunk: &[u8], item: impl Fn(&[u8]) -> Result<T>) -> Result<Fed<T>> {
        // Keep the buffer from growing with the body: drop what was consumed.
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
        let mut fed = Fed {
            continue_token: None,
            items: Vec::new(),
        };
        loop {
            let rest = &self.buf[self.pos..];
            match self.state {
                State::Magic => {
                    if rest.len() < MAGIC.len() {
                        return Ok(fed);
                    }
                    if &rest[..MAGIC.len()] != MAGIC {
                        return Err(DecodeError("missing the k8s protobuf prefix"));
                    }
                    self.pos += MAGIC.len();
                    self.state = State::Outer;
                }
                State::Outer => {
                    let Some((field, wire, head, end)) = header(rest)? else {
                        return Ok(fed);
                    };
                    if field == 2 && wire == 2 {
                        // `raw`: step inside without waiting for all of it.
                        self.pos += head;
                        self.state = State::List { left: end - head };
                        continue;
                    }
                    if rest.len() < end {
                        return Ok(fed);
                    }
                    self.pos += end;
                }
                State::List { left: 0 } => self.state = State::Done,
                State::List { left } => {
                    let Some((field, wire, head, end)) = header(rest)? else {
                        return Ok(fed);
                    };
                    if end > left {
                        return Err(DecodeError("field runs past the end of its message"));
                    }
                    if rest.len() < end {
                        return Ok(fed);
                    }
                    let value = &rest[head..end];
                    match (field, wire) {
                        (1, 2) => fed.continue_token = Some(continue_of(value)?),
                        (2, 2) => fed.items.push(item(value)?),
                        _ => {}
                    }
                    self.pos += end;
                    self.state = State::List { left: left - end };
                }
                State::Done => {
                    self.pos = self.buf.len();
                    return Ok(fed);
                }
            }
        }
    }

    /// At the end of the body: an error unless the whole List arrived.
    pub fn finish(&self) -> Result<()> {
        match self.state {
            State::Done | State::List { left: 0 } => Ok(()),
            State::Magic if self.buf.is_empty() => Err(DecodeError("empty body")),
            _ => Err(DecodeError("the body ended inside the list")),
        }
    }
}

/// The continue token of a `ListMeta` (field 3), `""` when there is none.
fn continue_of(meta: &[u8]) -> Result<String> {
    let mut pos = 0;
    let mut token = String::new();
    while pos < meta.len() {
        let (field, wire, head, end) =
            header(&meta[pos..])?.ok_or(DecodeError("truncated list metadata"))?;
        if meta.len() - pos < end {
            return Err(DecodeError("truncated list metadata"));
        }
        if (field, wire) == (3, 2) {
            token = String::from_utf8(meta[pos + head..pos + end].to_vec())
                .map_err(|_| DecodeError("string field is not UTF-8"))?;
        }
        pos += end;
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::proto;

    fn varint_bytes(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes(field: u64, b: &[u8], out: &mut Vec<u8>) {
        varint_bytes(field << 3 | 2, out);
        varint_bytes(b.len() as u64, out);
        out.extend_from_slice(b);
    }

    fn secret(name: &str) -> Vec<u8> {
        let mut meta = Vec::new();
        bytes(1, name.as_bytes(), &mut meta);
        let mut s = Vec::new();
        bytes(1, &meta, &mut s);
        s
    }

    /// A List body of `n` Secrets with `token` as its continue token.
    fn body(n: usize, token: &str) -> Vec<u8> {
        let mut lm = Vec::new();
        bytes(2, b"123", &mut lm);
        bytes(3, token.as_bytes(), &mut lm);
        let mut raw = Vec::new();
        bytes(1, &lm, &mut raw);
        for i in 0..n {
            bytes(2, &secret(&format!("s{i}")), &mut raw);
        }
        let mut unknown = Vec::new();
        bytes(1, b"\x0a\x02v1\x12\x0aSecretList", &mut unknown);
        bytes(2, &raw, &mut unknown);
        bytes(4, b"application/vnd.kubernetes.protobuf", &mut unknown);
        let mut out = MAGIC.to_vec();
        out.extend(unknown);
        out
    }

    fn names(items: &[k8s_openapi::api::core::v1::Secret]) -> Vec<String> {
        items
            .iter()
            .map(|s| s.metadata.name.clone().unwrap())
            .collect()
    }

    /// Any split of the body into chunks gives the same token and items as the whole-body
    /// decoder, and the token comes with the first chunk that completes the metadata.
    #[test]
    fn every_chunking_decodes_like_the_whole_body() {
        let b = body(40, "next");
        let mut whole = Vec::new();
        let token = proto::list(&b, proto::secret, &mut whole).unwrap();
        for size in [1, 2, 3, 7, 64, 1000, b.len()] {
            let mut d = ListDecoder::new();
            let (mut got, mut tok) = (Vec::new(), None);
            for chunk in b.chunks(size) {
                let fed = d.feed(chunk, proto::secret).unwrap();
                if let Some(t) = fed.continue_token {
                    assert!(tok.is_none(), "one token");
                    assert!(got.is_empty(), "the token precedes every item");
                    tok = Some(t);
                }
                got.extend(fed.items);
            }
            d.finish().unwrap();
            assert_eq!(tok, token, "chunks of {size}");
            assert_eq!(names(&got), names(&whole), "chunks of {size}");
        }
    }

    #[test]
    fn the_last_page_has_an_empty_token_and_truncation_is_an_error() {
        let b = body(3, "");
        let mut d = ListDecoder::new();
        let fed = d.feed(&b, proto::secret).unwrap();
        assert_eq!(fed.continue_token.as_deref(), Some(""));
        assert_eq!(fed.items.len(), 3);
        d.finish().unwrap();
        let mut d = ListDecoder::new();
        d.feed(&b[..b.len() - 60], proto::secret).unwrap();
        assert!(d.finish().is_err());
        let mut d = ListDecoder::new();
        assert!(d.feed(b"{\"kind\":", proto::secret).is_err());
        assert!(ListDecoder::new().finish().is_err());
    }

    proptest::proptest! {
        /// Hostile bytes, in any chunks, never panic.
        #[test]
        fn arbitrary_chunks_never_panic(
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
            size in 1usize..64,
        ) {
            let mut d = ListDecoder::new();
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend(&b);
            for chunk in with_magic.chunks(size) {
                if d.feed(chunk, proto::secret).is_err() {
                    break;
                }
            }
            let _ = d.finish();
        }
    }
}
