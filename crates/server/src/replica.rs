//! The replica's link to its master (REPLICAOF, `replicaof`): connect,
//! handshake (PING, AUTH, REPLCONF, PSYNC), load the master's snapshot,
//! then apply its stream of writes and acknowledge the offset every
//! second. One thread runs it; it starts over after an error (after a
//! second) or at once when the target changes.
//!
//! Partial resynchronization is not asked for: every connection is a full
//! synchronization (`PSYNC ? -1`).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrokey_engine::replica::LinkState;
use ferrokey_engine::Server;
use ferrokey_resp::{Limits, Request, RequestDecoder};

use crate::clock::now_us;

/// How often the link checks for a new target while it waits on reads.
const POLL: Duration = Duration::from_millis(100);
/// How long the link waits before it connects again after a failure.
const RETRY_WAIT: Duration = Duration::from_secs(1);
/// The longest the link sleeps without a master before it looks again.
const IDLE_WAIT: Duration = Duration::from_secs(60);

/// Starts the link thread; `port` is the one this server listens on
/// (REPLCONF listening-port).
pub fn spawn(server: Arc<Server>, port: u16) {
    let spawned = std::thread::Builder::new()
        .name("replica-link".into())
        .spawn(move || run(&server, port));
    if let Err(e) = spawned {
        crate::warning!("Can't start the replication link thread: {e}");
    }
}

fn run(server: &Server, port: u16) {
    loop {
        let generation = server.upstream.generation();
        let Some((host, master_port)) = server.upstream.target() else {
            // Asleep until REPLICAOF (no polling: the thread shares its
            // core with a worker).
            server.upstream.wait_change(generation, IDLE_WAIT);
            continue;
        };
        crate::notice!("Connecting to MASTER {host}:{master_port}");
        let mut link = Link {
            server,
            generation,
            stream: None,
            buf: Vec::new(),
        };
        match link.follow(&host, master_port, port) {
            Ok(()) => {}
            Err(e) => crate::warning!("Replication link with {host}:{master_port}: {e}"),
        }
        if server.upstream.generation() == generation {
            server.upstream.set_state(generation, LinkState::Connect);
            // Retry after a second, unless the target changes meanwhile.
            server.upstream.wait_change(generation, RETRY_WAIT);
        }
    }
}

struct Link<'a> {
    server: &'a Server,
    generation: u64,
    stream: Option<TcpStream>,
    /// Bytes read and not yet used.
    buf: Vec<u8>,
}

impl Link<'_> {
    fn current(&self) -> bool {
        self.server.upstream.generation() == self.generation
    }

    fn stream(&mut self) -> Result<&mut TcpStream, String> {
        self.stream
            .as_mut()
            .ok_or_else(|| "not connected".to_string())
    }

    fn send(&mut self, parts: &[&[u8]]) -> Result<(), String> {
        let mut out = Vec::new();
        ferrokey_engine::propagate::encode_argv(&mut out, parts);
        self.stream()?
            .write_all(&out)
            .map_err(|e| format!("writing to MASTER: {e}"))
    }

    /// Reads more bytes into `buf`; false when the read timed out.
    fn fill(&mut self) -> Result<bool, String> {
        let mut chunk = [0u8; 64 * 1024];
        let stream = self.stream()?;
        match stream.read(&mut chunk) {
            Ok(0) => Err("connection lost".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                self.server
                    .upstream
                    .last_io_ms
                    .store(now_us() / 1000, std::sync::atomic::Ordering::Relaxed);
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(format!("reading from MASTER: {e}")),
        }
    }

    /// Waits for `want` bytes or a line (`want` None), within
    /// `repl-timeout`; gives up when the target changes.
    fn wait_for(&mut self, want: Option<usize>) -> Result<(), String> {
        let timeout = Duration::from_secs(60);
        let start = Instant::now();
        loop {
            let ready = match want {
                Some(n) => self.buf.len() >= n,
                None => self.buf.contains(&b'\n'),
            };
            if ready {
                return Ok(());
            }
            if !self.current() {
                return Err("the master changed".into());
            }
            if start.elapsed() > timeout {
                return Err("timeout waiting for MASTER".into());
            }
            if self.fill()? {
                continue;
            }
        }
    }

    /// One reply line, without its line end.
    fn line(&mut self) -> Result<String, String> {
        self.wait_for(None)?;
        let at = self.buf.iter().position(|&c| c == b'\n').unwrap_or(0);
        let line: Vec<u8> = self.buf.drain(..=at).collect();
        Ok(String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string())
    }

    /// A line that is not one of the empty keepalive lines a master sends
    /// while it prepares the snapshot.
    fn reply_line(&mut self) -> Result<String, String> {
        loop {
            let l = self.line()?;
            if !l.is_empty() {
                return Ok(l);
            }
        }
    }

    fn follow(&mut self, host: &str, master_port: u16, port: u16) -> Result<(), String> {
        let up = &self.server.upstream;
        up.set_state(self.generation, LinkState::Connecting);
        let addr = (host, master_port)
            .to_socket_addrs()
            .map_err(|e| format!("resolving {host}: {e}"))?
            .next()
            .ok_or_else(|| format!("no address for {host}"))?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .map_err(|e| format!("Error condition on socket for SYNC: {e}"))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_read_timeout(Some(POLL))
            .map_err(|e| e.to_string())?;
        self.stream = Some(stream);
        crate::notice!("MASTER <-> REPLICA sync started");
        up.set_state(self.generation, LinkState::Handshake);
        self.send(&[b"PING"])?;
        let pong = self.reply_line()?;
        // A master that wants AUTH says so; AUTH comes next anyway.
        if pong.starts_with('-') && !pong.starts_with("-NOAUTH") && !pong.starts_with("-NOPERM") {
            return Err(format!("Error reply to PING from master: '{pong}'"));
        }
        let (user, pass) = {
            let cfg = self.server.config.read();
            (cfg.get_one("masteruser"), cfg.masterauth())
        };
        if let Some(pass) = pass {
            match user.filter(|u| !u.is_empty()) {
                Some(u) => self.send(&[b"AUTH", u.as_bytes(), &pass])?,
                None => self.send(&[b"AUTH", &pass])?,
            }
            let r = self.reply_line()?;
            if r.starts_with('-') {
                return Err(format!("Unable to AUTH to MASTER: {r}"));
            }
        }
        let port = port.to_string();
        self.send(&[b"REPLCONF", b"listening-port", port.as_bytes()])?;
        self.reply_line()?;
        self.send(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])?;
        self.reply_line()?;
        self.send(&[b"PSYNC", b"?", b"-1"])?;
        let reply = self.reply_line()?;
        let mut words = reply.split_whitespace();
        if words.next() != Some("+FULLRESYNC") {
            return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
        }
        let replid = words.next().unwrap_or_default().to_string();
        let offset: u64 = words.next().and_then(|o| o.parse().ok()).unwrap_or(0);
        crate::notice!("Full resync from master: {replid}:{offset}");
        up.set_state(self.generation, LinkState::Sync);
        let image = self.snapshot()?;
        crate::notice!(
            "MASTER <-> REPLICA sync: receiving {} bytes from master to disk",
            image.len()
        );
        if !self.current() {
            return Err("the master changed".into());
        }
        let keys = ferrokey_engine::replica::load_snapshot(self.server, &image, now_us() / 1000)
            .map_err(|e| format!("loading the master's snapshot: {e}"))?;
        crate::notice!("MASTER <-> REPLICA sync: Finished with success ({keys} keys)");
        *up.master_replid.lock() = replid;
        up.offset
            .store(offset, std::sync::atomic::Ordering::Relaxed);
        up.set_state(self.generation, LinkState::Connected);
        self.stream_writes(host, master_port)
    }

    /// The snapshot after FULLRESYNC: `$<len>` and the bytes, or
    /// `$EOF:<mark>` and bytes up to the 40-byte mark (diskless).
    fn snapshot(&mut self) -> Result<Vec<u8>, String> {
        let head = self.reply_line()?;
        if head.starts_with('-') {
            return Err(format!("MASTER aborted replication with an error: {head}"));
        }
        let Some(spec) = head.strip_prefix('$') else {
            return Err(format!(
                "Bad protocol from MASTER, the first byte is not '$': {head}"
            ));
        };
        if let Some(mark) = spec.strip_prefix("EOF:") {
            let mark = mark.as_bytes().to_vec();
            loop {
                if self.buf.len() >= mark.len() && self.buf.ends_with(&mark) {
                    let n = self.buf.len() - mark.len();
                    let image = self.buf[..n].to_vec();
                    self.buf.clear();
                    return Ok(image);
                }
                if !self.current() {
                    return Err("the master changed".into());
                }
                self.fill()?;
            }
        }
        let len: usize = spec
            .parse()
            .map_err(|_| format!("Bad snapshot length from MASTER: {head}"))?;
        self.wait_for(Some(len))?;
        Ok(self.buf.drain(..len).collect())
    }

    /// Applies the master's stream until the link fails or the target
    /// changes.
    fn stream_writes(&mut self, host: &str, master_port: u16) -> Result<(), String> {
        let server = self.server;
        let now_ms = now_us() / 1000;
        let handle = ferrokey_engine::cmd::connection::new_handle(
            server,
            format!("{host}:{master_port}"),
            String::new(),
            -1,
            now_ms,
        );
        let mut client = ferrokey_engine::client::Client::new(handle.clone(), true);
        client.master_link = true;
        client.deny_blocking = true;
        let result = self.apply(&mut client);
        server.clients.remove(handle.id);
        result
    }

    fn apply(&mut self, client: &mut ferrokey_engine::client::Client) -> Result<(), String> {
        use std::sync::atomic::Ordering;
        let server = self.server;
        let up = &server.upstream;
        let mut decoder = RequestDecoder::new();
        let mut last_ack = Instant::now();
        loop {
            let limits = Limits {
                bulk_len_max: i64::MAX,
                unauthenticated: false,
            };
            let mut used = 0;
            loop {
                // Nothing more is applied once the target has changed
                // (REPLICAOF NO ONE, or another master).
                if !self.current() {
                    return Err("the master changed".into());
                }
                let req = match decoder.decode(&self.buf[used..], &limits) {
                    Ok(Some(r)) => r,
                    Ok(None) => break,
                    Err(e) => return Err(format!("Protocol error from MASTER: {e}")),
                };
                let consumed = req.consumed();
                let argv: Vec<Vec<u8>> = match &req {
                    Request::Empty { .. } => Vec::new(),
                    Request::Args { args, .. } => args
                        .iter()
                        .map(|r| self.buf[used + r.start..used + r.end].to_vec())
                        .collect(),
                    Request::Inline { args, .. } => args.clone(),
                };
                used += consumed;
                if argv.is_empty() {
                    up.offset.fetch_add(consumed as u64, Ordering::Relaxed);
                    continue;
                }
                let getack = argv.len() >= 2
                    && argv[0].eq_ignore_ascii_case(b"replconf")
                    && argv[1].eq_ignore_ascii_case(b"getack");
                if getack {
                    self.ack()?;
                } else {
                    let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
                    let _ = ferrokey_engine::execute(server, client, &refs, now_us());
                }
                up.offset.fetch_add(consumed as u64, Ordering::Relaxed);
            }
            self.buf.drain(..used);
            if !self.current() {
                return Err("the master changed".into());
            }
            if last_ack.elapsed() >= Duration::from_secs(1) {
                self.ack()?;
                last_ack = Instant::now();
            }
            self.fill()?;
        }
    }

    fn ack(&mut self) -> Result<(), String> {
        let offset = self
            .server
            .upstream
            .offset
            .load(std::sync::atomic::Ordering::Relaxed)
            .to_string();
        self.send(&[b"REPLCONF", b"ACK", offset.as_bytes()])
    }
}
