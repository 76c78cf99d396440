//! RESP2/RESP3 values, their encoder and a decoder for whole frames.
//!
//! The encoder writes one [`Frame`] for either protocol version: RESP3-only
//! types are lowered to their RESP2 shapes the way Redis lowers them (a map
//! becomes a flat array, a double a bulk string, a boolean an integer).

use crate::dtoa::format_double;
use std::borrow::Cow;

use crate::request::parse_i64;

/// Nesting deeper than this is refused by the decoder, so hostile input
/// cannot exhaust the stack.
pub const DEPTH_MAX: usize = 128;

/// A reply value.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+OK`
    Simple(Cow<'static, str>),
    /// `-ERR ...`; the text includes its code (`ERR`, `WRONGTYPE`, ...).
    Error(Cow<'static, str>),
    /// `:1`
    Integer(i64),
    /// `$3\r\nabc`
    Bulk(Vec<u8>),
    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    Null,
    /// A missing array: `*-1` in RESP2, `_` in RESP3.
    NullArray,
    /// `*N`
    Array(Vec<Frame>),
    /// `*N` of bulk strings, kept in one buffer (LRANGE's reply): the same
    /// bytes on the wire as an `Array` of `Bulk`s, without an allocation
    /// per element.
    Bulks(Bulks),
    /// `%N` in RESP3; a flat array of 2N elements in RESP2.
    Map(Vec<(Frame, Frame)>),
    /// `~N` in RESP3; an array in RESP2.
    Set(Vec<Frame>),
    /// `,1.5` in RESP3; a bulk string in RESP2.
    Double(f64),
    /// A double already formatted (Redis's "human" long double form, as
    /// GEOPOS sends it): `,text` in RESP3, a bulk string in RESP2.
    DoubleText(String),
    /// `#t` in RESP3; `:1`/`:0` in RESP2.
    Boolean(bool),
    /// `(123...` in RESP3; a bulk string in RESP2.
    BigNumber(String),
    /// `=15\r\ntxt:...` in RESP3; a bulk string in RESP2.
    Verbatim(Vec<u8>),
    /// `>N` in RESP3; an array in RESP2 (pub/sub messages).
    Push(Vec<Frame>),
    /// `|N` attributes followed by the reply they describe; RESP2 clients
    /// see only the reply.
    Attribute(Vec<(Frame, Frame)>, Box<Frame>),
    /// Several replies written back to back, for commands that answer more
    /// than once (SUBSCRIBE to several channels). Not a wire type.
    Many(Vec<Frame>),
}

/// Bulk strings back to back in one buffer, with where each ends.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bulks {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Bulks {
    /// Room for `n` strings of `bytes` bytes in all.
    pub fn with_capacity(n: usize, bytes: usize) -> Bulks {
        Bulks {
            data: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(n),
        }
    }

    /// Appends a string.
    pub fn push(&mut self, b: &[u8]) {
        self.data.extend_from_slice(b);
        self.ends.push(self.data.len());
    }

    /// Appends a double as text, as a RESP2 reply gives it.
    pub fn push_double(&mut self, d: f64) {
        crate::dtoa::format_double(d, &mut self.data);
        self.ends.push(self.data.len());
    }

    /// Appends an integer as decimal text.
    pub fn push_int(&mut self, v: i64) {
        write_int(&mut self.data, v);
        self.ends.push(self.data.len());
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The strings, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(move |i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.data[start..self.ends[i]]
        })
    }
}

impl Bulks {
    /// The strings `items()` yields, sized by a first pass over them so the
    /// buffer is allocated once (for iterators that are cheap to run twice).
    pub fn sized<I, T>(items: impl Fn() -> I) -> Bulks
    where
        I: Iterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let (n, bytes) = items().fold((0, 0), |(n, b), it| (n + 1, b + it.as_ref().len()));
        let mut b = Bulks::with_capacity(n, bytes);
        for it in items() {
            b.push(it.as_ref());
        }
        b
    }
}

impl Frame {
    /// `+OK`, the most common reply.
    pub const fn ok() -> Frame {
        Frame::Simple(Cow::Borrowed("OK"))
    }

    /// A simple string from a static text.
    pub const fn simple(s: &'static str) -> Frame {
        Frame::Simple(Cow::Borrowed(s))
    }

    /// A bulk string copied from bytes.
    pub fn bulk(b: impl AsRef<[u8]>) -> Frame {
        Frame::Bulk(b.as_ref().to_vec())
    }

    /// An error from a static text (which includes the code).
    pub const fn error(s: &'static str) -> Frame {
        Frame::Error(Cow::Borrowed(s))
    }

    /// Whether this is an error reply (or ends with one).
    pub fn is_error(&self) -> bool {
        match self {
            Frame::Error(_) => true,
            Frame::Attribute(_, r) => r.is_error(),
            Frame::Many(v) => v.last().is_some_and(Frame::is_error),
            _ => false,
        }
    }
}

fn write_len(out: &mut Vec<u8>, prefix: u8, n: usize) {
    out.push(prefix);
    write_int(out, n as i64);
    out.extend_from_slice(b"\r\n");
}

/// Appends the decimal text of `v`.
pub fn write_int(out: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends a bulk string header and payload.
pub fn write_bulk(out: &mut Vec<u8>, b: &[u8]) {
    write_len(out, b'$', b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Encodes `frame` for protocol version `resp` (2 or 3).
pub fn encode(frame: &Frame, resp: u8, out: &mut Vec<u8>) {
    let v3 = resp >= 3;
    match frame {
        Frame::Simple(s) => {
            out.push(b'+');
            out.extend_from_slice(s.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        Frame::Error(s) => {
            out.push(b'-');
            // An error line cannot hold a newline; Redis replaces them.
            out.extend(
                s.bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.extend_from_slice(b"\r\n");
        }
        Frame::Integer(i) => {
            out.push(b':');
            write_int(out, *i);
            out.extend_from_slice(b"\r\n");
        }
        Frame::Bulk(b) => write_bulk(out, b),
        Frame::Null if v3 => out.extend_from_slice(b"_\r\n"),
        Frame::Null => out.extend_from_slice(b"$-1\r\n"),
        Frame::NullArray if v3 => out.extend_from_slice(b"_\r\n"),
        Frame::NullArray => out.extend_from_slice(b"*-1\r\n"),
        Frame::Array(items) => {
            write_len(out, b'*', items.len());
            for it in items {
                encode(it, resp, out);
            }
        }
        Frame::Bulks(b) => {
            write_len(out, b'*', b.len());
            for it in b.iter() {
                write_bulk(out, it);
            }
        }
        Frame::Map(pairs) => {
            if v3 {
                write_len(out, b'%', pairs.len());
            } else {
                write_len(out, b'*', pairs.len() * 2);
            }
            for (k, v) in pairs {
                encode(k, resp, out);
                encode(v, resp, out);
            }
        }
        Frame::Set(items) => {
            write_len(out, if v3 { b'~' } else { b'*' }, items.len());
            for it in items {
                encode(it, resp, out);
            }
        }
        Frame::Push(items) => {
            write_len(out, if v3 { b'>' } else { b'*' }, items.len());
            for it in items {
                encode(it, resp, out);
            }
        }
        Frame::Double(d) => {
            let mut text = Vec::with_capacity(24);
            format_double(*d, &mut text);
            if v3 {
                out.push(b',');
                out.extend_from_slice(&text);
                out.extend_from_slice(b"\r\n");
            } else {
                write_bulk(out, &text);
            }
        }
        Frame::DoubleText(text) => {
            if v3 {
                out.push(b',');
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(b"\r\n");
            } else {
                write_bulk(out, text.as_bytes());
            }
        }
        Frame::Boolean(b) => {
            if v3 {
                out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
            } else {
                out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" });
            }
        }
        Frame::BigNumber(n) => {
            if v3 {
                out.push(b'(');
                out.extend_from_slice(n.as_bytes());
                out.extend_from_slice(b"\r\n");
            } else {
                write_bulk(out, n.as_bytes());
            }
        }
        Frame::Attribute(attrs, reply) => {
            if v3 {
                write_len(out, b'|', attrs.len());
                for (k, v) in attrs {
                    encode(k, resp, out);
                    encode(v, resp, out);
                }
            }
            encode(reply, resp, out);
        }
        Frame::Many(frames) => {
            for f in frames {
                encode(f, resp, out);
            }
        }
        Frame::Verbatim(text) => {
            if v3 {
                write_len(out, b'=', text.len() + 4);
                out.extend_from_slice(b"txt:");
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            } else {
                write_bulk(out, text);
            }
        }
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// More bytes are needed.
    Incomplete,
    /// The bytes are not RESP.
    Invalid(&'static str),
}

/// Decodes one frame from the start of `buf`, returning it and the number of
/// bytes it took. Reads what [`encode`] writes for RESP3 (and RESP2, whose
/// frames are a subset); `Verbatim` comes back with its `txt:` prefix
/// removed.
pub fn decode(buf: &[u8]) -> Result<(Frame, usize), DecodeError> {
    decode_at(buf, 0, 0)
}

fn line(buf: &[u8], from: usize) -> Result<(&[u8], usize), DecodeError> {
    let rest = buf.get(from..).ok_or(DecodeError::Incomplete)?;
    let cr = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or(DecodeError::Incomplete)?;
    Ok((&rest[..cr], from + cr + 2))
}

fn int_of(s: &[u8]) -> Result<i64, DecodeError> {
    parse_i64(s).ok_or(DecodeError::Invalid("bad integer"))
}

fn text_of(s: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(s.to_vec()).map_err(|_| DecodeError::Invalid("bad text"))
}

fn decode_at(buf: &[u8], pos: usize, depth: usize) -> Result<(Frame, usize), DecodeError> {
    if depth > DEPTH_MAX {
        return Err(DecodeError::Invalid("nesting too deep"));
    }
    let kind = *buf.get(pos).ok_or(DecodeError::Incomplete)?;
    let (l, next) = line(buf, pos + 1)?;
    match kind {
        b'+' => Ok((Frame::Simple(Cow::Owned(text_of(l)?)), next)),
        b'-' => Ok((Frame::Error(Cow::Owned(text_of(l)?)), next)),
        b':' => Ok((Frame::Integer(int_of(l)?), next)),
        b'_' if l.is_empty() => Ok((Frame::Null, next)),
        b'#' => match l {
            b"t" => Ok((Frame::Boolean(true), next)),
            b"f" => Ok((Frame::Boolean(false), next)),
            _ => Err(DecodeError::Invalid("bad boolean")),
        },
        b',' => {
            let t = text_of(l)?;
            let d = match t.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => t.parse().map_err(|_| DecodeError::Invalid("bad double"))?,
            };
            Ok((Frame::Double(d), next))
        }
        b'(' => Ok((Frame::BigNumber(text_of(l)?), next)),
        b'$' | b'=' => {
            let n = int_of(l)?;
            if n == -1 && kind == b'$' {
                return Ok((Frame::Null, next));
            }
            let n = usize::try_from(n).map_err(|_| DecodeError::Invalid("bad length"))?;
            let end = next
                .checked_add(n)
                .ok_or(DecodeError::Invalid("bad length"))?;
            if buf.len() < end + 2 {
                return Err(DecodeError::Incomplete);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(DecodeError::Invalid("missing CRLF"));
            }
            let payload = buf[next..end].to_vec();
            if kind == b'=' {
                if payload.len() < 4 || payload[3] != b':' {
                    return Err(DecodeError::Invalid("bad verbatim"));
                }
                return Ok((Frame::Verbatim(payload[4..].to_vec()), end + 2));
            }
            Ok((Frame::Bulk(payload), end + 2))
        }
        b'|' => {
            let n = usize::try_from(int_of(l)?).map_err(|_| DecodeError::Invalid("bad length"))?;
            let mut attrs = Vec::with_capacity(n.min(buf.len() / 6 + 1));
            let mut at = next;
            for _ in 0..n {
                let (k, after) = decode_at(buf, at, depth + 1)?;
                let (v, after) = decode_at(buf, after, depth + 1)?;
                attrs.push((k, v));
                at = after;
            }
            let (reply, after) = decode_at(buf, at, depth + 1)?;
            Ok((Frame::Attribute(attrs, Box::new(reply)), after))
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = int_of(l)?;
            if n == -1 && kind == b'*' {
                return Ok((Frame::NullArray, next));
            }
            let n = usize::try_from(n).map_err(|_| DecodeError::Invalid("bad length"))?;
            let count = if kind == b'%' {
                n.checked_mul(2)
            } else {
                Some(n)
            }
            .ok_or(DecodeError::Invalid("bad length"))?;
            // Every element takes at least three bytes; a count the buffer
            // cannot hold is only incomplete, but must not allocate.
            let mut items = Vec::with_capacity(count.min(buf.len() / 3 + 1));
            let mut at = next;
            for _ in 0..count {
                let (f, after) = decode_at(buf, at, depth + 1)?;
                items.push(f);
                at = after;
            }
            let frame = match kind {
                b'*' => Frame::Array(items),
                b'~' => Frame::Set(items),
                b'>' => Frame::Push(items),
                _ => {
                    let mut pairs = Vec::with_capacity(n);
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Frame::Map(pairs)
                }
            };
            Ok((frame, at))
        }
        _ => Err(DecodeError::Invalid("unknown type byte")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(f: &Frame, v: u8) -> String {
        let mut out = Vec::new();
        encode(f, v, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn resp2_lowering() {
        let m = Frame::Map(vec![(Frame::bulk("a"), Frame::Integer(1))]);
        assert_eq!(enc(&m, 2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, 3), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Frame::Null, 2), "$-1\r\n");
        assert_eq!(enc(&Frame::NullArray, 2), "*-1\r\n");
        assert_eq!(enc(&Frame::Null, 3), "_\r\n");
        assert_eq!(enc(&Frame::Double(1.5), 2), "$3\r\n1.5\r\n");
        assert_eq!(enc(&Frame::Double(1.5), 3), ",1.5\r\n");
        assert_eq!(enc(&Frame::Boolean(true), 2), ":1\r\n");
    }

    proptest! {
        #[test]
        fn bulks_encode_as_an_array_of_bulks(
            items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..12),
            v in 2u8..=3,
        ) {
            let b = Bulks::sized(|| items.iter());
            prop_assert_eq!(b.len(), items.len());
            let frames: Vec<Frame> = items.iter().map(Frame::bulk).collect();
            prop_assert_eq!(b.iter().map(Frame::bulk).collect::<Vec<_>>(), frames.clone());
            let array = Frame::Array(frames);
            let (mut x, mut y) = (Vec::new(), Vec::new());
            encode(&Frame::Bulks(b), v, &mut x);
            encode(&array, v, &mut y);
            prop_assert_eq!(x, y);
        }

        #[test]
        fn pushed_numbers_encode_as_their_text(
            pairs in proptest::collection::vec(("[a-z]{0,8}", any::<f64>()), 0..8),
        ) {
            let mut b = Bulks::default();
            let mut frames = Vec::new();
            for (m, d) in &pairs {
                b.push(m.as_bytes());
                b.push_double(*d);
                b.push_int(*d as i64);
                frames.push(Frame::bulk(m));
                frames.push(Frame::Double(*d));
                frames.push(Frame::bulk((*d as i64).to_string()));
            }
            let (mut x, mut y) = (Vec::new(), Vec::new());
            encode(&Frame::Bulks(b), 2, &mut x);
            encode(&Frame::Array(frames), 2, &mut y);
            prop_assert_eq!(x, y);
        }
    }

    fn arb_frame() -> impl Strategy<Value = Frame> {
        let leaf = prop_oneof![
            "[a-zA-Z0-9 ]{0,12}".prop_map(|s| Frame::Simple(Cow::Owned(s))),
            "ERR [a-z ]{0,12}".prop_map(|s| Frame::Error(Cow::Owned(s))),
            any::<i64>().prop_map(Frame::Integer),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Frame::Bulk),
            Just(Frame::Null),
            any::<bool>().prop_map(Frame::Boolean),
            any::<f64>()
                .prop_filter("nan is not equal to itself", |d| !d.is_nan())
                .prop_map(Frame::Double),
            "-?[1-9][0-9]{0,30}".prop_map(Frame::BigNumber),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Frame::Verbatim),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Array),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Set),
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Frame::Push),
                proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Frame::Map),
            ]
        })
    }

    proptest! {
        #[test]
        fn what_the_writer_writes_the_reader_reads(f in arb_frame()) {
            let mut out = Vec::new();
            encode(&f, 3, &mut out);
            let (back, used) = decode(&out).unwrap();
            prop_assert_eq!(used, out.len());
            prop_assert_eq!(back, f);
        }

        #[test]
        fn truncated_frames_are_incomplete(f in arb_frame()) {
            let mut out = Vec::new();
            encode(&f, 3, &mut out);
            for cut in 0..out.len() {
                prop_assert_eq!(decode(&out[..cut]).unwrap_err(), DecodeError::Incomplete);
            }
        }

        #[test]
        fn requests_round_trip(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..30), 1..8)) {
            let frame = Frame::Array(args.iter().map(|a| Frame::Bulk(a.clone())).collect());
            let mut out = Vec::new();
            encode(&frame, 2, &mut out);
            let mut d = crate::RequestDecoder::new();
            let req = d.decode(&out, &crate::Limits::default()).unwrap().unwrap();
            match req {
                crate::Request::Args { args: ranges, consumed } => {
                    prop_assert_eq!(consumed, out.len());
                    let got: Vec<Vec<u8>> = ranges.into_iter().map(|r| out[r].to_vec()).collect();
                    prop_assert_eq!(got, args);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        #[test]
        fn request_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut d = crate::RequestDecoder::new();
            let lim = crate::Limits::default();
            let mut pos = 0;
            while pos < bytes.len() {
                match d.decode(&bytes[pos..], &lim) {
                    Ok(Some(r)) => pos += r.consumed(),
                    _ => break,
                }
            }
        }
    }
}
