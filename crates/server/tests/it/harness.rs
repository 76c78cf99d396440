//! Test harness: server guards, a raw RESP client and the differential
//! `Diff` helper that runs one script against Ferrokey and `redis-server`.

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferrokey_resp::{decode, DecodeError, Frame};

/// How long any single read or write may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a server may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Which implementation a server is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ferrokey,
    Redis,
    /// A Redis 7.2 build named by [`REDIS72_ENV`], for 7.2-only checks.
    Redis72,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ferrokey => "ferrokey",
            Kind::Redis => "redis",
            Kind::Redis72 => "redis-7.2",
        }
    }
}

/// Names a redis-server 7.2 binary. The differential oracle is Debian's
/// 7.0, so what 7.2 changed is checked against Ferrokey only (`expect`);
/// with this set, [`targets72`] adds a real 7.2 server and those checks run
/// against it too, which keeps their expectations honest.
pub const REDIS72_ENV: &str = "FERROKEY_IT_REDIS72";

/// Ferrokey, plus a Redis 7.2 server when [`REDIS72_ENV`] is set.
pub fn targets72() -> Vec<Server> {
    let mut v = vec![Server::ferrokey()];
    if std::env::var_os(REDIS72_ENV).is_some() {
        v.push(Server::start(Kind::Redis72, &[]));
    }
    v
}

/// A Redis 7.2 server when [`REDIS72_ENV`] names one.
pub fn redis72() -> Option<Server> {
    std::env::var_os(REDIS72_ENV).map(|_| Server::start(Kind::Redis72, &[]))
}

/// A server process on 127.0.0.1, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub kind: Kind,
    log: PathBuf,
    /// The server's own `dir`, so that files one server writes (DEBUG
    /// RELOAD on redis-server saves) never reach another.
    dir: PathBuf,
}

fn free_port() -> u16 {
    loop {
        if let Ok(l) = TcpListener::bind("127.0.0.1:0") {
            if let Ok(a) = l.local_addr() {
                return a.port();
            }
        }
    }
}

/// Whether `redis-server` is on PATH (checked once).
pub fn redis_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    })
}

pub const SKIP_LINE: &str =
    "redis-server not found: comparing against Ferrokey only is not possible, skipping differential check";

impl Server {
    /// Starts Ferrokey.
    pub fn ferrokey() -> Server {
        Self::start(Kind::Ferrokey, &[])
    }

    /// Starts Ferrokey with extra `--directive value` arguments.
    pub fn ferrokey_with(extra: &[&str]) -> Server {
        Self::start(Kind::Ferrokey, extra)
    }

    /// Starts redis-server, or prints [`SKIP_LINE`] and returns None.
    pub fn redis() -> Option<Server> {
        Self::redis_with(&[])
    }

    /// Starts redis-server with extra `--directive value` arguments.
    pub fn redis_with(extra: &[&str]) -> Option<Server> {
        if !redis_available() {
            println!("{SKIP_LINE}");
            return None;
        }
        Some(Self::start(Kind::Redis, extra))
    }

    fn start(kind: Kind, extra: &[&str]) -> Server {
        let mut last_err = String::new();
        for attempt in 0..8 {
            let port = free_port();
            let log = std::env::temp_dir().join(format!(
                "ferrokey-it-{}-{}-{port}-{attempt}.log",
                kind.name(),
                std::process::id()
            ));
            let dir = log.with_extension("d");
            std::fs::create_dir_all(&dir).expect("create server dir");
            let out = std::fs::File::create(&log).expect("create server log file");
            let err = out.try_clone().expect("clone log file handle");
            let p = port.to_string();
            let mut cmd = match kind {
                Kind::Ferrokey => Command::new(env!("CARGO_BIN_EXE_ferrokey-server")),
                Kind::Redis => Command::new("redis-server"),
                Kind::Redis72 => Command::new(
                    std::env::var_os(REDIS72_ENV).expect("REDIS72_ENV names a redis-server"),
                ),
            };
            cmd.args([
                "--port",
                &p,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]);
            cmd.args(["--enable-debug-command", "yes"]);
            cmd.args([std::ffi::OsStr::new("--dir"), dir.as_os_str()]);
            if kind != Kind::Ferrokey {
                cmd.args(["--daemonize", "no"]);
            }
            cmd.args(extra);
            cmd.stdin(Stdio::null()).stdout(out).stderr(err);
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("spawning {}: {e}", kind.name()));
            let mut server = Server {
                child,
                port,
                kind,
                log,
                dir,
            };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(e) => {
                    last_err = format!("{e}; log:\n{}", server.log_text());
                    // Dropping kills it and removes the log.
                }
            }
        }
        panic!("{} did not start: {last_err}", kind.name());
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited early with {status}"));
            }
            if Instant::now() > deadline {
                return Err("no +PONG within 10 s".into());
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                let mut buf = [0u8; 7];
                if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_ok()
                    && s.read_exact(&mut buf).is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    // Make sure the PONG came from our child, not from
                    // another server that grabbed the port first.
                    std::thread::sleep(Duration::from_millis(20));
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(format!("exited early with {status}"));
                    }
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's stdout and stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn connect(&self) -> Conn {
        Conn::connect(self.port)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One reply: its raw bytes and its decoded frame.
#[derive(Clone, Debug)]
pub struct Reply {
    pub raw: Vec<u8>,
    pub frame: Frame,
}

impl Reply {
    pub fn is_error(&self) -> bool {
        self.raw.first() == Some(&b'-')
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// A raw RESP client with bounded reads.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode_cmd<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Conn {
    pub fn connect(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to 127.0.0.1");
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .expect("write timeout");
        let _ = stream.set_nodelay(true);
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Writes what the server accepts, for a peer that may close the
    /// connection part way (a client being evicted or killed); the error is
    /// for the caller to ignore or check.
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let b = encode_cmd(args);
        self.send_raw(&b);
    }

    /// Reads exactly one reply frame; Err (saying why) on EOF, timeout or
    /// bytes that are not RESP.
    pub fn try_read(&mut self) -> Result<Reply, String> {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match decode(&self.buf) {
                Ok((frame, n)) => {
                    let raw: Vec<u8> = self.buf.drain(..n).collect();
                    return Ok(Reply { raw, frame });
                }
                Err(DecodeError::Invalid(e)) => {
                    return Err(format!("undecodable reply ({e}): {}", escape(&self.buf)))
                }
                Err(DecodeError::Incomplete) => {}
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(format!(
                        "connection closed (pending bytes: {})",
                        escape(&self.buf)
                    ))
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(format!(
                        "read failed: {e} (pending bytes: {})",
                        escape(&self.buf)
                    ))
                }
            }
        }
    }

    pub fn read(&mut self) -> Reply {
        self.try_read()
            .unwrap_or_else(|e| panic!("reading a reply: {e}"))
    }

    /// Sends a command and reads its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.send(args);
        self.read()
    }

    /// Reads whatever arrives until the server closes the connection (or
    /// the read timeout passes). Returns the bytes and whether EOF was seen.
    pub fn read_to_close(&mut self) -> (Vec<u8>, bool) {
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // A reset also means the server closed it.
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return (out, true),
                Err(_) => return (out, false),
            }
        }
    }
}

/// Bytes as a readable string: printable ASCII as is, the rest escaped.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s
}

fn escape_limited(b: &[u8]) -> String {
    const MAX: usize = 600;
    if b.len() <= MAX {
        escape(b)
    } else {
        format!("{}... ({} bytes)", escape(&b[..MAX]), b.len())
    }
}

/// How to compare the two replies to one scripted command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Raw bytes must be identical.
    Exact,
    /// Only the RESP type byte must match.
    Type,
    /// Same type bytes and aggregate lengths, recursively; leaves unchecked.
    Shape,
    /// Both errors, with the same first word (`ERR`, `WRONGTYPE`...).
    ErrPrefix,
    /// Same aggregate type; its elements equal as a multiset.
    Sorted,
    /// A flat array of name/value pairs (CONFIG GET in RESP2) or a map:
    /// equal as a set of pairs.
    Pairs,
    /// Read one reply from each and compare nothing.
    Ignore,
    /// Send only: the command has no reply (CLIENT REPLY OFF / SKIP).
    NoReply,
}

/// A script line's mode marker, given as a first argument starting with `~`.
fn parse_mode(first: &[u8]) -> Option<Mode> {
    Some(match first {
        b"~exact" => Mode::Exact,
        b"~type" => Mode::Type,
        b"~shape" => Mode::Shape,
        b"~err" => Mode::ErrPrefix,
        b"~sorted" => Mode::Sorted,
        b"~pairs" => Mode::Pairs,
        b"~ignore" => Mode::Ignore,
        b"~noreply" => Mode::NoReply,
        _ => return None,
    })
}

fn first_word(raw: &[u8]) -> &[u8] {
    let body = raw.get(1..).unwrap_or_default();
    let end = body
        .iter()
        .position(|&c| c == b' ' || c == b'\r')
        .unwrap_or(body.len());
    &body[..end]
}

fn shape(f: &Frame) -> String {
    fn items(v: &[Frame]) -> String {
        v.iter().map(shape).collect::<Vec<_>>().join(",")
    }
    match f {
        Frame::Simple(_) => "simple".into(),
        Frame::Error(_) => "error".into(),
        Frame::Integer(_) => "int".into(),
        Frame::Bulk(_) => "bulk".into(),
        Frame::Null => "null".into(),
        Frame::NullArray => "nullarray".into(),
        Frame::Array(v) => format!("array[{}]", items(v)),
        Frame::Set(v) => format!("set[{}]", items(v)),
        Frame::Push(v) => format!("push[{}]", items(v)),
        Frame::Map(v) => format!(
            "map[{}]",
            v.iter()
                .map(|(k, v)| format!("{}:{}", shape(k), shape(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Frame::Double(_) => "double".into(),
        Frame::Boolean(_) => "bool".into(),
        Frame::BigNumber(_) => "bignum".into(),
        Frame::Verbatim(_) => "verbatim".into(),
        Frame::Attribute(a, r) => format!("attr{}({})", a.len(), shape(r)),
        #[allow(unreachable_patterns)]
        _ => "other".into(),
    }
}

/// The raw bytes of each element of an aggregate reply (each key/value
/// pair as one unit for a RESP3 map), sliced from the reply itself so that
/// comparisons stay byte for byte.
fn element_raws(raw: &[u8]) -> Option<(u8, Vec<Vec<u8>>)> {
    let kind = *raw.first()?;
    if !matches!(kind, b'*' | b'~' | b'%' | b'>') {
        return None;
    }
    let eol = raw.windows(2).position(|w| w == b"\r\n")?;
    let n: usize = std::str::from_utf8(&raw[1..eol]).ok()?.parse().ok()?;
    let n = if kind == b'%' { n * 2 } else { n };
    let mut at = eol + 2;
    let mut out = Vec::new();
    for _ in 0..n {
        let (_, len) = decode(&raw[at..]).ok()?;
        out.push(raw[at..at + len].to_vec());
        at += len;
    }
    if kind == b'%' {
        // Compare key/value pairs as units.
        let pairs = out.chunks(2).map(|c| c.concat()).collect();
        return Some((kind, pairs));
    }
    Some((kind, out))
}

/// Texts where Redis 7.2 (Ferrokey's target) changed what Debian's Redis
/// 7.0 says; the oracle's reply is rewritten to the 7.2 text before
/// comparing. Each entry: (7.0 bytes, 7.2 bytes).
const V72_REWRITES: &[(&[u8], &[u8])] = &[
    // 7.2 changed every subcommand HELP's last line.
    (b"+    Prints this help.\r\n", b"+    Print this help.\r\n"),
    // 7.2 fixed the count in redis.set_repl()'s arity error.
    (
        b"redis.set_repl() requires two arguments.",
        b"redis.set_repl() requires one argument.",
    ),
];

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// The oracle's reply, rewritten where Redis 7.2 differs from 7.0.
pub fn as_redis72(r: &Reply) -> Reply {
    let mut raw = r.raw.clone();
    for (from, to) in V72_REWRITES {
        raw = replace_all(&raw, from, to);
    }
    if raw == r.raw {
        return r.clone();
    }
    let frame = decode(&raw)
        .map(|(f, _)| f)
        .unwrap_or_else(|_| r.frame.clone());
    Reply { raw, frame }
}

/// Compares two replies under `mode`; Some(reason) when they differ.
pub fn compare(mode: Mode, redis: &Reply, ferrokey: &Reply) -> Option<String> {
    let redis = &as_redis72(redis);
    let same = match mode {
        Mode::Exact => redis.raw == ferrokey.raw,
        Mode::Type => redis.raw.first() == ferrokey.raw.first(),
        Mode::Shape => shape(&redis.frame) == shape(&ferrokey.frame),
        Mode::ErrPrefix => {
            redis.is_error()
                && ferrokey.is_error()
                && first_word(&redis.raw) == first_word(&ferrokey.raw)
        }
        Mode::Sorted | Mode::Pairs => {
            match (element_raws(&redis.raw), element_raws(&ferrokey.raw)) {
                (Some((ka, a)), Some((kb, b))) => {
                    let group = |v: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
                        // RESP2 pairs are flat; RESP3 nests each pair in
                        // an array of two, already one element.
                        let flat = !v.first().is_some_and(|e| e.starts_with(b"*2\r\n"));
                        let mut v = if mode == Mode::Pairs && ka == b'*' && flat {
                            v.chunks(2).map(|c| c.concat()).collect()
                        } else {
                            v
                        };
                        v.sort();
                        v
                    };
                    ka == kb && group(a) == group(b)
                }
                _ => redis.raw == ferrokey.raw,
            }
        }
        Mode::Ignore | Mode::NoReply => true,
    };
    if same {
        return None;
    }
    let mut why = format!(
        "  redis:    {}\n  ferrokey: {}",
        escape_limited(&redis.raw),
        escape_limited(&ferrokey.raw)
    );
    if mode == Mode::Shape {
        let _ = write!(
            why,
            "\n  redis shape:    {}\n  ferrokey shape: {}",
            shape(&redis.frame),
            shape(&ferrokey.frame)
        );
    }
    Some(why)
}

/// A script line: a comparison mode and the command's arguments.
pub type Line = (Mode, Vec<Vec<u8>>);

/// Turns `["~type", "INFO"]`-style lines into [`Line`]s.
pub fn lines<A: AsRef<[u8]>>(script: &[&[A]]) -> Vec<Line> {
    script
        .iter()
        .map(|l| {
            let mut args: Vec<Vec<u8>> = l.iter().map(|a| a.as_ref().to_vec()).collect();
            let mode = args.first().and_then(|a| parse_mode(a));
            match mode {
                Some(m) => {
                    args.remove(0);
                    (m, args)
                }
                None => (Mode::Exact, args),
            }
        })
        .collect()
}

/// A Ferrokey server and, when installed, a redis-server beside it.
pub struct Pair {
    pub ferrokey: Server,
    pub redis: Option<Server>,
}

/// Both connections of one differential session.
pub struct Session {
    pub ferrokey: Conn,
    pub redis: Option<Conn>,
    /// Mismatches so far, reported by [`Session::finish`].
    pub failures: Vec<String>,
    pub label: String,
    /// Commands sent so far (to number script lines in reports).
    pub count: usize,
}

impl Default for Pair {
    fn default() -> Self {
        Self::new()
    }
}

impl Pair {
    pub fn new() -> Pair {
        Pair {
            ferrokey: Server::ferrokey(),
            redis: Server::redis(),
        }
    }

    /// Both servers started with the same extra `--directive value`s.
    pub fn with_args(extra: &[&str]) -> Pair {
        Pair {
            ferrokey: Server::ferrokey_with(extra),
            redis: Server::redis_with(extra),
        }
    }

    /// A fresh connection to each server, after FLUSHALL on both.
    pub fn session(&self, label: &str) -> Session {
        let mut f = self.ferrokey.connect();
        let r = f.cmd(&["FLUSHALL"]);
        assert_eq!(r.raw, b"+OK\r\n", "ferrokey FLUSHALL");
        let redis = self.redis.as_ref().map(|s| {
            let mut c = s.connect();
            let r = c.cmd(&["FLUSHALL"]);
            assert_eq!(r.raw, b"+OK\r\n", "redis FLUSHALL");
            c
        });
        Session {
            ferrokey: f,
            redis,
            failures: Vec::new(),
            label: label.to_string(),
            count: 0,
        }
    }

    /// Runs a script and panics with every mismatch.
    pub fn diff<A: AsRef<[u8]>>(&self, script: &[&[A]]) {
        let mut s = self.session("RESP2");
        s.run(&lines(script));
        s.finish();
    }

    /// Same, after `HELLO 3` on both connections.
    pub fn diff3<A: AsRef<[u8]>>(&self, script: &[&[A]]) {
        let mut s = self.session("RESP3");
        s.line(Mode::Shape, &[b"HELLO".to_vec(), b"3".to_vec()]);
        s.run(&lines(script));
        s.finish();
    }
}

impl Session {
    pub fn run(&mut self, script: &[Line]) {
        for (mode, args) in script {
            self.line(*mode, args);
        }
    }

    /// Sends one command to both and compares the replies.
    pub fn line(&mut self, mode: Mode, args: &[Vec<u8>]) {
        self.count += 1;
        let shown = format!(
            "#{} {}",
            self.count,
            args.iter()
                .map(|a| escape_limited(a))
                .collect::<Vec<_>>()
                .join(" ")
        );
        self.ferrokey.send(args);
        if let Some(r) = self.redis.as_mut() {
            r.send(args);
        }
        if mode == Mode::NoReply {
            return;
        }
        let f = self.ferrokey.try_read();
        let r = self.redis.as_mut().map(|r| {
            r.try_read()
                .unwrap_or_else(|e| panic!("redis-server (the oracle) on {shown}: {e}"))
        });
        let f = match f {
            Ok(f) => f,
            Err(e) => {
                let redis = r.map(|r| escape_limited(&r.raw)).unwrap_or_default();
                self.failures.push(format!(
                    "[{}] {shown}\n  redis:    {redis}\n  ferrokey: <{e}>",
                    self.label
                ));
                // The connection is now unusable: stop the script.
                self.finish();
                return;
            }
        };
        if let Some(r) = r {
            if let Some(why) = compare(mode, &r, &f) {
                self.failures
                    .push(format!("[{}] ({mode:?}) {shown}\n{why}", self.label));
            }
        }
    }

    /// Sends raw bytes to both and compares the next reply.
    pub fn raw(&mut self, mode: Mode, bytes: &[u8]) {
        self.count += 1;
        self.ferrokey.send_raw(bytes);
        if let Some(r) = self.redis.as_mut() {
            r.send_raw(bytes);
        }
        let f = self.ferrokey.try_read();
        let r = self.redis.as_mut().map(|r| {
            r.try_read().unwrap_or_else(|e| {
                panic!(
                    "redis-server (the oracle) on raw {}: {e}",
                    escape_limited(bytes)
                )
            })
        });
        match (f, r) {
            (Err(e), r) => {
                let redis = r.map(|r| escape_limited(&r.raw)).unwrap_or_default();
                self.failures.push(format!(
                    "[{}] #{} raw {}\n  redis:    {redis}\n  ferrokey: <{e}>",
                    self.label,
                    self.count,
                    escape_limited(bytes)
                ));
                self.finish();
            }
            (Ok(f), Some(r)) => {
                if let Some(why) = compare(mode, &r, &f) {
                    self.failures.push(format!(
                        "[{}] #{} raw {}\n{why}",
                        self.label,
                        self.count,
                        escape_limited(bytes)
                    ));
                }
            }
            (Ok(_), None) => {}
        }
    }

    /// Panics with every mismatch seen.
    pub fn finish(&mut self) {
        if !self.failures.is_empty() {
            let all = std::mem::take(&mut self.failures).join("\n");
            panic!("Ferrokey differs from redis-server:\n{all}");
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.failures.is_empty() && !std::thread::panicking() {
            self.finish();
        }
    }
}

/// Ferrokey-only check, for behaviour the 7.0 oracle lacks (7.2 additions):
/// sends `args` and asserts the reply bytes.
pub fn expect<A: AsRef<[u8]>>(c: &mut Conn, args: &[A], want: &[u8]) {
    let got = c.cmd(args);
    let shown = args
        .iter()
        .map(|a| escape(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        escape(&got.raw),
        escape(want),
        "{shown}: Ferrokey's reply differs from Redis 7.2's"
    );
}

/// Runs `check` (a series of [`expect`]s) against each of [`targets72`],
/// naming the server that failed.
pub fn check72(check: impl Fn(&mut Conn)) {
    for s in targets72() {
        let mut c = s.connect();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&mut c)));
        if let Err(e) = r {
            eprintln!("7.2 check failed on {}", s.kind.name());
            std::panic::resume_unwind(e);
        }
    }
}

/// Runs one script against a new server pair.
pub fn diff<A: AsRef<[u8]>>(script: &[&[A]]) {
    Pair::new().diff(script);
}

/// Runs one script against a new server pair after `HELLO 3`.
pub fn diff3<A: AsRef<[u8]>>(script: &[&[A]]) {
    Pair::new().diff3(script);
}

/// Builds one binary-safe argument list.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        [$(AsRef::<[u8]>::as_ref(&$a).to_vec()),*]
    };
}

/// Walks a SCAN-family command (`args` with the cursor at `cursor_at`) to
/// the end and returns what it returned, `group` elements per item (2 for
/// field/value pairs), as readable text, sorted and without duplicates
/// (SCAN may return an element twice).
pub fn scan_all(c: &mut Conn, args: &[&str], cursor_at: usize, group: usize) -> Vec<String> {
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args[cursor_at] = "0".into();
    let mut all = Vec::new();
    loop {
        let r = c.cmd(&args);
        let Frame::Array(parts) = &r.frame else {
            panic!("{}: {}", args.join(" "), r.text());
        };
        let (Some(Frame::Bulk(next)), Some(Frame::Array(items))) = (parts.first(), parts.get(1))
        else {
            panic!("{}: {}", args.join(" "), r.text());
        };
        for item in items.chunks(group) {
            let text: Vec<String> = item
                .iter()
                .map(|f| match f {
                    Frame::Bulk(b) => escape(b),
                    other => format!("{other:?}"),
                })
                .collect();
            all.push(text.join(" "));
        }
        args[cursor_at] = String::from_utf8_lossy(next).into_owned();
        if args[cursor_at] == "0" {
            break;
        }
    }
    all.sort();
    all.dedup();
    all
}

/// Asserts two collections of items are equal, listing what only one has.
pub fn assert_same_items(what: &str, ferrokey: &[String], redis: &[String]) {
    let only_f: Vec<&String> = ferrokey.iter().filter(|x| !redis.contains(x)).collect();
    let only_r: Vec<&String> = redis.iter().filter(|x| !ferrokey.contains(x)).collect();
    assert!(
        only_f.is_empty() && only_r.is_empty(),
        "{what}: only in ferrokey: {only_f:?}\n only in redis: {only_r:?}"
    );
}

/// Ferrokey first, then redis-server when installed.
pub fn servers() -> Vec<Server> {
    let mut v = vec![Server::ferrokey()];
    v.extend(Server::redis());
    v
}

/// Polls INFO until `blocked_clients` is `n` (bounded; panics otherwise).
pub fn wait_blocked(c: &mut Conn, n: u64) {
    let start = Instant::now();
    loop {
        let info = c.cmd(&["INFO", "clients"]).text();
        let have = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse::<u64>().ok());
        if have == Some(n) {
            return;
        }
        assert!(
            start.elapsed() < IO_TIMEOUT,
            "blocked_clients never reached {n} (last {have:?})"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}
