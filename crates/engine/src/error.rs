//! Every error text a command can reply with, in one place. Clients match on
//! these strings (often on the prefix), so they are Redis's, byte for byte.

use std::borrow::Cow;

use ferrokey_resp::Frame;

/// An error reply. `to_frame` gives the exact wire text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    /// `ERR syntax error`
    Syntax,
    /// `WRONGTYPE Operation against a key holding the wrong kind of value`
    WrongType,
    /// `ERR value is not an integer or out of range`
    NotInteger,
    /// `ERR value is not a valid float`
    NotFloat,
    /// `ERR increment or decrement would overflow`
    Overflow,
    /// `ERR wrong number of arguments for '<cmd>' command`
    Arity(String),
    /// `ERR invalid expire time in '<cmd>' command`
    InvalidExpire(String),
    /// `ERR no such key`
    NoSuchKey,
    /// `ERR DB index is out of range`
    DbIndex,
    /// `NOAUTH Authentication required.`
    NoAuth,
    /// `ERR string exceeds maximum allowed size (proto-max-bulk-len)`
    StringTooLong,
    /// `ERR offset is out of range`
    OffsetRange,
    /// Any other error; the text includes its code.
    Other(Cow<'static, str>),
}

/// What a command that may grow memory gets while memory is over
/// `maxmemory` and nothing more can be evicted.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
/// A write refused under `min-replicas-to-write`.
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";

/// A write on a read-only replica.
pub const READONLY: &str = "READONLY You can't write against a read only replica.";

/// A command that may not see stale data, on a replica whose link is down.
pub const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

/// Shorthand for a command's result.
pub type CmdResult = Result<Frame, CmdError>;

impl CmdError {
    /// An error with a fixed text (including its code).
    pub const fn msg(s: &'static str) -> CmdError {
        CmdError::Other(Cow::Borrowed(s))
    }

    /// An error with a computed text (including its code).
    pub fn owned(s: String) -> CmdError {
        CmdError::Other(Cow::Owned(s))
    }

    /// The reply frame.
    pub fn to_frame(&self) -> Frame {
        match self {
            CmdError::Syntax => Frame::error("ERR syntax error"),
            CmdError::WrongType => {
                Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CmdError::NotInteger => Frame::error("ERR value is not an integer or out of range"),
            CmdError::NotFloat => Frame::error("ERR value is not a valid float"),
            CmdError::Overflow => Frame::error("ERR increment or decrement would overflow"),
            CmdError::Arity(cmd) => Frame::Error(Cow::Owned(format!(
                "ERR wrong number of arguments for '{cmd}' command"
            ))),
            CmdError::InvalidExpire(cmd) => Frame::Error(Cow::Owned(format!(
                "ERR invalid expire time in '{cmd}' command"
            ))),
            CmdError::NoSuchKey => Frame::error("ERR no such key"),
            CmdError::DbIndex => Frame::error("ERR DB index is out of range"),
            CmdError::NoAuth => Frame::error("NOAUTH Authentication required."),
            CmdError::StringTooLong => {
                Frame::error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            CmdError::OffsetRange => Frame::error("ERR offset is out of range"),
            CmdError::Other(s) => Frame::Error(s.clone()),
        }
    }
}

/// The first word of an error text (`ERR`, `WRONGTYPE`, ...), as INFO
/// errorstats groups errors.
pub fn error_code(text: &str) -> &str {
    text.split(' ').next().unwrap_or("ERR")
}

/// Formats Redis's unknown-command error, quoting the first arguments
/// until 128 bytes of them are shown.
pub fn unknown_command(name: &[u8], args: &[&[u8]]) -> CmdError {
    let mut shown: Vec<u8> = Vec::new();
    for a in args {
        if shown.len() >= 128 {
            break;
        }
        let room = 128 - shown.len();
        shown.push(b'\'');
        shown.extend_from_slice(&a[..a.len().min(room)]);
        shown.extend_from_slice(b"' ");
    }
    CmdError::owned(format!(
        "ERR unknown command '{}', with args beginning with: {}",
        sanitize(name, 128),
        sanitize(&shown, usize::MAX)
    ))
}

/// Formats Redis's unknown-subcommand error.
pub fn unknown_subcommand(container: &str, sub: &[u8]) -> CmdError {
    CmdError::owned(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        sanitize(sub, 128),
        container.to_ascii_uppercase()
    ))
}

/// Lossy text of client bytes for an error line, cut at `max` bytes; line
/// breaks become spaces as Redis does.
pub fn sanitize(b: &[u8], max: usize) -> String {
    let cut = &b[..b.len().min(max)];
    String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}
