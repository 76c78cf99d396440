//! Incremental decoding of client requests: RESP multibulk arrays and inline
//! commands, as a Redis server reads them.
//!
//! The decoder never copies argument bytes: it returns ranges into the
//! caller's buffer. It keeps its progress between calls, so a request that
//! arrives in many reads is scanned once, not once per read.

use std::borrow::Cow;
use std::ops::Range;

/// Longest line (inline command, or `*N`/`$N` header) accepted without its
/// terminating newline, as Redis's `PROTO_INLINE_MAX_SIZE`.
pub const INLINE_LEN_MAX: usize = 64 * 1024;

/// Largest multibulk count a client may announce (Redis checks `INT_MAX`).
pub const MULTIBULK_LEN_MAX: i64 = i32::MAX as i64;

/// While a client has not authenticated, Redis refuses bigger requests than
/// these so that an unauthenticated peer cannot make the server allocate.
pub const UNAUTH_MULTIBULK_LEN_MAX: i64 = 10;
/// See [`UNAUTH_MULTIBULK_LEN_MAX`].
pub const UNAUTH_BULK_LEN_MAX: i64 = 16384;

/// The limits a decoder enforces; they mirror Redis's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub bulk_len_max: i64,
    /// Whether the client still has to authenticate.
    pub unauthenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bulk_len_max: 512 * 1024 * 1024,
            unauthenticated: false,
        }
    }
}

/// A protocol violation. The server replies `-ERR Protocol error: <msg>` and
/// closes the connection, as Redis does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub Cow<'static, str>);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

/// One decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Arguments as ranges into the buffer passed to [`RequestDecoder::decode`].
    /// The first `consumed` bytes of that buffer hold the whole request.
    Args {
        args: Vec<Range<usize>>,
        consumed: usize,
    },
    /// An inline command: inline arguments may contain escapes, so they are
    /// owned.
    Inline { args: Vec<Vec<u8>>, consumed: usize },
    /// Bytes that carry no command (an empty line, `*0`, `*-1`): skip them.
    Empty { consumed: usize },
}

impl Request {
    /// How many bytes of the buffer this request took.
    pub fn consumed(&self) -> usize {
        match self {
            Request::Args { consumed, .. }
            | Request::Inline { consumed, .. }
            | Request::Empty { consumed } => *consumed,
        }
    }
}

/// Decoder state kept between reads of one request.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    /// Arguments the current multibulk still expects (0: no request started).
    remaining: i64,
    /// Where scanning resumes in the buffer.
    pos: usize,
    args: Vec<Range<usize>>,
    /// Length of the bulk whose header was read, if its payload is pending.
    bulk_len: Option<usize>,
    /// An argument list handed back by [`RequestDecoder::recycle`], reused
    /// by the next request instead of a new allocation.
    spare: Vec<Range<usize>>,
}

/// Finds the `\n` that ends an inline line beginning at `from`.
fn find_newline(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i)
}

/// Finds the `\r` that ends a `*N` or `$N` header beginning at `from`, as
/// Redis does; the byte after it (the `\n`) must have arrived too.
fn find_header_end(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..]
        .iter()
        .position(|&b| b == b'\r')
        .map(|i| from + i)
        .filter(|&cr| cr + 1 < buf.len())
}

/// Parses a decimal integer the way Redis's `string2ll` does: optional minus,
/// no plus, no leading zeros (except "0"), no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    if digits.len() <= 18 {
        // Eighteen digits cannot overflow: no checked arithmetic (this
        // parses every header of every request).
        let mut v: i64 = 0;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + i64::from(d);
        }
        return match (neg, v) {
            (true, 0) => None,
            (true, v) => Some(-v),
            (false, v) => Some(v),
        };
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = i64::from(c - b'0');
        v = if neg {
            v.checked_mul(10)?.checked_sub(d)?
        } else {
            v.checked_mul(10)?.checked_add(d)?
        };
    }
    if neg && v == 0 {
        // "-0" is not a canonical integer.
        return None;
    }
    Some(v)
}

impl RequestDecoder {
    /// Creates a decoder with no request in progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the next request from `buf`, which starts where the previous
    /// request ended. Returns `Ok(None)` when more bytes are needed; the
    /// caller must then call again with the same bytes plus more.
    pub fn decode(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<Request>, ProtocolError> {
        if buf.is_empty() {
            return Ok(None);
        }
        if self.remaining == 0 && buf[0] != b'*' {
            return decode_inline(buf);
        }
        if self.remaining == 0 {
            let Some(cr) = find_header_end(buf, 0) else {
                if buf.len() > INLINE_LEN_MAX {
                    return Err(ProtocolError(Cow::Borrowed("too big mbulk count string")));
                }
                return Ok(None);
            };
            if cr > INLINE_LEN_MAX {
                return Err(ProtocolError(Cow::Borrowed("too big mbulk count string")));
            }
            let nl = cr + 1;
            let n = parse_i64(&buf[1..cr])
                .ok_or(ProtocolError(Cow::Borrowed("invalid multibulk length")))?;
            if n > MULTIBULK_LEN_MAX {
                return Err(ProtocolError(Cow::Borrowed("invalid multibulk length")));
            }
            if limits.unauthenticated && n > UNAUTH_MULTIBULK_LEN_MAX {
                return Err(ProtocolError(Cow::Borrowed(
                    "unauthenticated multibulk length",
                )));
            }
            if n <= 0 {
                return Ok(Some(Request::Empty { consumed: nl + 1 }));
            }
            self.remaining = n;
            self.pos = nl + 1;
            // Preallocate modestly: the count is untrusted.
            let mut args = std::mem::take(&mut self.spare);
            args.clear();
            args.reserve((n as usize).min(1024));
            self.args = args;
            self.bulk_len = None;
        }
        while self.remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    if self.pos >= buf.len() {
                        return Ok(None);
                    }
                    let Some(cr) = find_header_end(buf, self.pos) else {
                        if buf.len() - self.pos > INLINE_LEN_MAX {
                            self.reset();
                            return Err(ProtocolError(Cow::Borrowed("too big bulk count string")));
                        }
                        return Ok(None);
                    };
                    if cr - self.pos > INLINE_LEN_MAX {
                        self.reset();
                        return Err(ProtocolError(Cow::Borrowed("too big bulk count string")));
                    }
                    if buf[self.pos] != b'$' {
                        let got = buf[self.pos];
                        self.reset();
                        return Err(expected_dollar(got));
                    }
                    let n = parse_i64(&buf[self.pos + 1..cr]);
                    let n = match n {
                        Some(n) if n >= 0 && n <= limits.bulk_len_max => n,
                        _ => {
                            self.reset();
                            return Err(ProtocolError(Cow::Borrowed("invalid bulk length")));
                        }
                    };
                    if limits.unauthenticated && n > UNAUTH_BULK_LEN_MAX {
                        self.reset();
                        return Err(ProtocolError(Cow::Borrowed("unauthenticated bulk length")));
                    }
                    self.pos = cr + 2;
                    self.bulk_len = Some(n as usize);
                    n as usize
                }
            };
            // The payload is followed by "\r\n".
            if buf.len() < self.pos + len + 2 {
                return Ok(None);
            }
            self.args.push(self.pos..self.pos + len);
            self.pos += len + 2;
            self.bulk_len = None;
            self.remaining -= 1;
        }
        let consumed = self.pos;
        let args = std::mem::take(&mut self.args);
        self.reset();
        Ok(Some(Request::Args { args, consumed }))
    }

    /// Hands back the argument list of a request the caller is done with,
    /// so that the next request reuses its allocation.
    pub fn recycle(&mut self, args: Vec<Range<usize>>) {
        if args.capacity() <= 1024 {
            self.spare = args;
        }
    }

    /// How many bytes the request in progress still needs at least, when a
    /// bulk payload is pending; lets the caller size its buffer once.
    pub fn pending_bulk(&self) -> Option<(usize, usize)> {
        self.bulk_len.map(|len| (self.pos, len + 2))
    }

    fn reset(&mut self) {
        self.remaining = 0;
        self.pos = 0;
        self.args.clear();
        self.bulk_len = None;
    }
}

fn expected_dollar(got: u8) -> ProtocolError {
    ProtocolError(Cow::Owned(format!("expected '$', got '{}'", got as char)))
}

fn decode_inline(buf: &[u8]) -> Result<Option<Request>, ProtocolError> {
    let Some(nl) = find_newline(buf, 0) else {
        if buf.len() > INLINE_LEN_MAX {
            return Err(ProtocolError(Cow::Borrowed("too big inline request")));
        }
        return Ok(None);
    };
    if nl > INLINE_LEN_MAX {
        return Err(ProtocolError(Cow::Borrowed("too big inline request")));
    }
    let line = if nl > 0 && buf[nl - 1] == b'\r' {
        &buf[..nl - 1]
    } else {
        &buf[..nl]
    };
    let args =
        split_args(line).ok_or(ProtocolError(Cow::Borrowed("unbalanced quotes in request")))?;
    if args.is_empty() {
        return Ok(Some(Request::Empty { consumed: nl + 1 }));
    }
    Ok(Some(Request::Inline {
        args,
        consumed: nl + 1,
    }))
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments with the quoting rules of redis-cli and of
/// Redis's inline protocol and config files: whitespace separates, "double
/// quotes" take `\n \r \t \b \a \\ \" \xHH` escapes, 'single quotes' take
/// only `\'`, and a closing quote must be followed by whitespace or the end.
/// Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    let hi = hex_val(line[i + 2]).unwrap_or(0);
                    let lo = hex_val(line[i + 3]).unwrap_or(0);
                    cur.push(hi * 16 + lo);
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
                i += 1;
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
                i += 1;
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut d = RequestDecoder::new();
        let mut pos = 0;
        let mut out = Vec::new();
        let lim = Limits::default();
        while let Some(req) = d.decode(&input[pos..], &lim)? {
            match &req {
                Request::Args { args, .. } => out.push(
                    args.iter()
                        .map(|r| input[pos..][r.clone()].to_vec())
                        .collect(),
                ),
                Request::Inline { args, .. } => out.push(args.clone()),
                Request::Empty { .. } => {}
            }
            pos += req.consumed();
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_inline() {
        let got = decode_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n\r\nset a \"b c\"\n").unwrap();
        assert_eq!(
            got,
            vec![
                vec![b"GET".to_vec(), b"k".to_vec()],
                vec![b"PING".to_vec()],
                vec![b"set".to_vec(), b"a".to_vec(), b"b c".to_vec()],
            ]
        );
    }

    #[test]
    fn byte_by_byte_is_the_same_as_whole() {
        let input = b"*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$0\r\n\r\n";
        let mut d = RequestDecoder::new();
        let lim = Limits::default();
        for end in 1..input.len() {
            assert_eq!(d.decode(&input[..end], &lim).unwrap(), None, "at {end}");
        }
        let req = d.decode(input, &lim).unwrap().unwrap();
        assert_eq!(req.consumed(), input.len());
    }

    #[test]
    fn errors_match_redis() {
        let e = |b: &[u8]| decode_all(b).unwrap_err().0;
        assert_eq!(e(b"*abc\r\n"), "invalid multibulk length");
        assert_eq!(e(b"*1\r\n$-1\r\n"), "invalid bulk length");
        assert_eq!(e(b"*1\r\n$600000000\r\n"), "invalid bulk length");
        assert_eq!(e(b"*1\r\nfoo\r\n"), "expected '$', got 'f'");
        assert_eq!(e(b"set \"a\r\n"), "unbalanced quotes in request");
        assert_eq!(decode_all(b"*-5\r\n").unwrap(), Vec::<Vec<Vec<u8>>>::new());
    }

    #[test]
    fn integers_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        // The longest that takes the unchecked path, and the shortest that
        // does not.
        assert_eq!(
            parse_i64(b"999999999999999999"),
            Some(999_999_999_999_999_999)
        );
        assert_eq!(
            parse_i64(b"-999999999999999999"),
            Some(-999_999_999_999_999_999)
        );
        assert_eq!(
            parse_i64(b"1000000000000000000"),
            Some(1_000_000_000_000_000_000)
        );
        for bad in [
            &b""[..],
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"-",
            b"--1",
            b"1/",
            b"1:",
            b"12345678901234567a",
            b"9223372036854775808",
            b"-0",
            b"1a",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn split_args_quotes() {
        assert_eq!(
            split_args(b"a \"\\x41\\n\" 'it\\'s'").unwrap(),
            vec![b"a".to_vec(), b"A\n".to_vec(), b"it's".to_vec()]
        );
        assert!(split_args(b"\"a\"b").is_none());
        assert_eq!(split_args(b"   ").unwrap(), Vec::<Vec<u8>>::new());
    }
}
