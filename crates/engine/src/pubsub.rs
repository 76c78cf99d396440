//! Pub/Sub: who listens to which channel or pattern, and delivery of
//! messages into the listeners' outboxes.
//!
//! A message is encoded once per protocol version and appended to each
//! receiving client's [`Outbox`]; the client's connection drains the outbox
//! into its socket. A publisher appends in the order it publishes, so every
//! subscriber sees each publisher's messages in order. The outbox is the
//! client's output buffer as `client-output-buffer-limit` sees it: a
//! subscriber that stops reading fills it, and once over the limit for its
//! class it is disconnected and its outbox dropped, so memory stays bounded.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use ferrokey_resp::{encode, Frame};
use parking_lot::{Mutex, RwLock};

use crate::client::ClientHandle;
use crate::config::{glob_match, ObufLimit};
use crate::server::Server;

/// Bytes waiting to be written to one client outside of its own replies
/// (Pub/Sub messages).
#[derive(Debug, Default)]
pub struct Outbox {
    buf: Mutex<Vec<u8>>,
    len: AtomicUsize,
    /// When the soft limit was first exceeded (Unix ms; 0: not over it).
    soft_since_ms: AtomicU64,
}

impl Outbox {
    /// Appends bytes with no limit check (invalidations).
    pub fn push_bytes(&self, bytes: &[u8]) {
        self.push(bytes);
    }

    /// Appends bytes; returns the new length.
    fn push(&self, bytes: &[u8]) -> usize {
        let mut b = self.buf.lock();
        b.extend_from_slice(bytes);
        self.len.store(b.len(), Ordering::Release);
        b.len()
    }

    /// Whether nothing waits.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// Bytes waiting.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Moves everything waiting to the end of `out`.
    pub fn drain_into(&self, out: &mut Vec<u8>) {
        let mut b = self.buf.lock();
        if out.is_empty() {
            std::mem::swap(out, &mut b);
        } else {
            out.extend_from_slice(&b);
            b.clear();
        }
        self.len.store(0, Ordering::Release);
        self.soft_since_ms.store(0, Ordering::Relaxed);
    }

    fn clear(&self) {
        let mut b = self.buf.lock();
        *b = Vec::new();
        self.len.store(0, Ordering::Release);
    }

    /// Whether `len` bytes break `limit` at `now_ms` (the soft limit only
    /// once exceeded for longer than its seconds).
    fn over_limit(&self, len: usize, limit: &ObufLimit, now_ms: u64) -> bool {
        let len = len as u64;
        if limit.hard > 0 && len >= limit.hard {
            return true;
        }
        if limit.soft > 0 && len >= limit.soft {
            let since = self.soft_since_ms.load(Ordering::Relaxed);
            if since == 0 {
                self.soft_since_ms.store(now_ms, Ordering::Relaxed);
                return false;
            }
            return now_ms.saturating_sub(since) / 1000 > limit.soft_seconds.max(0) as u64;
        }
        self.soft_since_ms.store(0, Ordering::Relaxed);
        false
    }
}

/// One client's subscriptions.
#[derive(Debug, Default)]
pub struct Subscriptions {
    /// SUBSCRIBE channels.
    pub channels: HashSet<Box<[u8]>>,
    /// PSUBSCRIBE patterns.
    pub patterns: HashSet<Box<[u8]>>,
    /// SSUBSCRIBE shard channels.
    pub shard: HashSet<Box<[u8]>>,
}

impl Subscriptions {
    /// Channels plus patterns, the count (P)SUBSCRIBE replies carry.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Whether the client is in Pub/Sub mode (any subscription).
    pub fn active(&self) -> bool {
        self.count() + self.shard.len() > 0
    }
}

type Subscribers = HashMap<Box<[u8]>, Vec<Arc<ClientHandle>>>;

/// The server's subscription tables.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: RwLock<Subscribers>,
    patterns: RwLock<Subscribers>,
    shard: RwLock<Subscribers>,
    /// Clients with at least one subscription (INFO pubsub_clients).
    pub clients: AtomicU64,
    /// Clients closed for exceeding their output buffer limit.
    pub obuf_disconnections: AtomicU64,
    /// Clients in MONITOR mode.
    monitors: RwLock<Vec<Arc<ClientHandle>>>,
    /// How many monitors there are, read on every command.
    monitor_count: AtomicUsize,
}

/// Which table a subscription lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

impl PubSub {
    fn table(&self, kind: Kind) -> &RwLock<Subscribers> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// Adds `h` as a subscriber of `name`.
    pub fn add(&self, kind: Kind, name: &[u8], h: &Arc<ClientHandle>) {
        self.table(kind)
            .write()
            .entry(name.into())
            .or_default()
            .push(h.clone());
    }

    /// Removes `h` from the subscribers of `name`.
    pub fn remove(&self, kind: Kind, name: &[u8], h: &Arc<ClientHandle>) {
        let mut t = self.table(kind).write();
        if let Some(v) = t.get_mut(name) {
            v.retain(|x| !Arc::ptr_eq(x, h));
            if v.is_empty() {
                t.remove(name);
            }
        }
    }

    /// Active channels (or shard channels) matching `pattern`.
    pub fn names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Box<[u8]>> {
        self.table(kind)
            .read()
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of one channel (not counting patterns).
    pub fn count(&self, kind: Kind, name: &[u8]) -> usize {
        self.table(kind).read().get(name).map_or(0, Vec::len)
    }

    /// Distinct patterns subscribed to.
    pub fn pattern_count(&self) -> usize {
        self.patterns.read().len()
    }
}

impl PubSub {
    /// Adds a MONITOR client.
    pub fn add_monitor(&self, h: &Arc<ClientHandle>) {
        let mut m = self.monitors.write();
        m.push(h.clone());
        self.monitor_count.store(m.len(), Ordering::Release);
    }

    /// Removes a MONITOR client (when it closes or resets).
    pub fn remove_monitor(&self, h: &Arc<ClientHandle>) {
        let mut m = self.monitors.write();
        m.retain(|x| !Arc::ptr_eq(x, h));
        self.monitor_count.store(m.len(), Ordering::Release);
    }

    /// Whether anyone monitors.
    #[inline]
    pub fn monitored(&self) -> bool {
        self.monitor_count.load(Ordering::Acquire) > 0
    }
}

/// Arguments whose value MONITOR shows as `(redacted)`: AUTH's, HELLO's
/// AUTH credentials, and the secrets CONFIG SET sets.
/// Whether argument `j` is hidden from MONITOR and SLOWLOG (passwords).
pub fn is_redacted(args: &[&[u8]], j: usize) -> bool {
    redacted(args, j)
}

fn redacted(args: &[&[u8]], j: usize) -> bool {
    let is = |a: &[u8], s: &str| a.eq_ignore_ascii_case(s.as_bytes());
    match args[0] {
        a if is(a, "auth") => j >= 1,
        a if is(a, "hello") => (2..args.len().saturating_sub(1))
            .any(|i| is(args[i], "auth") && (j == i + 1 || j == i + 2)),
        a if is(a, "config") && args.len() > 1 && is(args[1], "set") => {
            j >= 3 && (j - 3).is_multiple_of(2) && {
                let name = args[j - 1];
                is(name, "masterauth") || is(name, "requirepass") || is(name, "masteruser")
            }
        }
        // ACL SETUSER: the user name and every rule (passwords among them).
        a if is(a, "acl") => args.len() > 1 && is(args[1], "setuser") && j >= 2,
        a if is(a, "migrate") => (1..j).any(|i| {
            (is(args[i], "auth") && j == i + 1)
                || (is(args[i], "auth2") && (j == i + 1 || j == i + 2))
        }),
        _ => false,
    }
}

/// Streams one executed command to every monitor, in Redis's line format:
/// `+<secs>.<usecs> [<db> <addr>] "arg" ...`.
pub fn feed_monitors(server: &Server, db: usize, addr: &str, args: &[&[u8]], now_us: u64) {
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now_us / 1_000_000,
        now_us % 1_000_000,
        db,
        addr
    )
    .into_bytes();
    for (j, a) in args.iter().enumerate() {
        line.push(b' ');
        let a: &[u8] = if redacted(args, j) { b"(redacted)" } else { a };
        quote_into(&mut line, a);
    }
    line.extend_from_slice(b"\r\n");
    let limit = server.tunables.obuf.lock()[1];
    let monitors = server.pubsub.monitors.read();
    for h in monitors.iter() {
        deliver(server, h, &line, &limit, now_us / 1000);
    }
}

/// Appends `s` in double quotes with C-style escapes for quotes,
/// backslashes, control characters and bytes outside printable ASCII.
pub fn quote_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Publishes keyspace event `event` about `key` of database `db` on the
/// `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>` channels, as
/// `notify-keyspace-events` selects (`class` is one of the NOTIFY_* bits).
///
/// Every write calls this: with the class off it costs one atomic load,
/// inlined at the call site; channel names are built only past that check.
#[inline]
pub fn notify_keyspace(
    server: &Server,
    class: u32,
    event: &str,
    key: &[u8],
    db: usize,
    now_ms: u64,
) {
    let flags = server.tunables.notify.load(Ordering::Relaxed);
    if flags & class != 0 {
        publish_keyspace(server, flags, event, key, db, now_ms);
    }
}

#[cold]
#[inline(never)]
fn publish_keyspace(server: &Server, flags: u32, event: &str, key: &[u8], db: usize, now_ms: u64) {
    if flags & crate::config::NOTIFY_KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        publish(server, Kind::Channel, &ch, event.as_bytes(), now_ms);
    }
    if flags & crate::config::NOTIFY_KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}");
        publish(server, Kind::Channel, ch.as_bytes(), key, now_ms);
    }
}

/// A message frame (`message` / `smessage` / `pmessage`) encoded for one
/// protocol version.
fn encoded(parts: &[&[u8]], resp: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 16).sum());
    let frame = Frame::Push(parts.iter().map(Frame::bulk).collect());
    encode(&frame, resp, &mut out);
    out
}

/// Publishes `message` on `channel` (a shard channel when `kind` is
/// [`Kind::Shard`]); returns how many subscriptions received it.
pub fn publish(server: &Server, kind: Kind, channel: &[u8], message: &[u8], now_ms: u64) -> usize {
    // Not the config lock: this runs under shard locks (keyspace events).
    // Read only once there is someone to deliver to: most keyspace events
    // have no listener, and this lock is shared by every thread.
    let mut limit: Option<ObufLimit> = None;
    let mut limit = || *limit.get_or_insert_with(|| server.tunables.obuf.lock()[2]);
    let me = crate::tracking::current();
    let mut n = 0;
    {
        let word: &[u8] = if kind == Kind::Shard {
            b"smessage"
        } else {
            b"message"
        };
        let mut cache: [Option<Vec<u8>>; 2] = [None, None];
        let t = server.pubsub.table(kind).read();
        if let Some(subs) = t.get(channel) {
            for h in subs {
                let resp = h.resp.load(Ordering::Relaxed) as u8;
                let bytes = cache[usize::from(resp >= 3)]
                    .get_or_insert_with(|| encoded(&[word, channel, message], resp));
                deliver_message(server, h, me, bytes, &limit(), now_ms);
                n += 1;
            }
        }
    }
    if kind == Kind::Channel {
        let t = server.pubsub.patterns.read();
        for (pat, subs) in t.iter() {
            if !glob_match(pat, channel, false) {
                continue;
            }
            let mut cache: [Option<Vec<u8>>; 2] = [None, None];
            for h in subs {
                let resp = h.resp.load(Ordering::Relaxed) as u8;
                let bytes = cache[usize::from(resp >= 3)]
                    .get_or_insert_with(|| encoded(&[b"pmessage", pat, channel, message], resp));
                deliver_message(server, h, me, bytes, &limit(), now_ms);
                n += 1;
            }
        }
    }
    n
}

/// Delivers a published message. One that reaches the client whose
/// command published it (a RESP3 client subscribed to what it writes, or
/// to its own keyspace events) waits until that command's reply, or the
/// whole EXEC's, has been written, as in Redis 7.2.
fn deliver_message(
    server: &Server,
    h: &ClientHandle,
    me: u64,
    bytes: &[u8],
    limit: &ObufLimit,
    now_ms: u64,
) {
    if me != 0 && h.id == me {
        if !h.is_killed() {
            h.late.push_bytes(bytes);
        }
        return;
    }
    deliver(server, h, bytes, limit, now_ms);
}

/// Appends bytes to a client's outbox and wakes it, or disconnects it when
/// that breaks its output buffer limit.
pub fn deliver(server: &Server, h: &ClientHandle, bytes: &[u8], limit: &ObufLimit, now_ms: u64) {
    if h.is_killed() {
        return;
    }
    let len = h.outbox.push(bytes);
    if h.outbox.over_limit(len, limit, now_ms) {
        h.outbox.clear();
        server
            .pubsub
            .obuf_disconnections
            .fetch_add(1, Ordering::Relaxed);
        server.host.log(
            "warning",
            &format!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                h.id, h.addr
            ),
        );
        h.kill();
        return;
    }
    h.wake();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_needs_time_hard_limit_is_immediate() {
        let o = Outbox::default();
        let l = ObufLimit {
            hard: 100,
            soft: 10,
            soft_seconds: 2,
        };
        assert!(!o.over_limit(5, &l, 1000));
        assert!(!o.over_limit(20, &l, 1000));
        assert!(!o.over_limit(20, &l, 3000));
        assert!(o.over_limit(20, &l, 4000));
        assert!(o.over_limit(100, &l, 0));
        let mut q = Vec::new();
        quote_into(&mut q, b"a\"b\\c\n\x01\xff ok");
        assert_eq!(q, b"\"a\\\"b\\\\c\\n\\x01\\xff ok\"");
        let mut out = Vec::new();
        o.push(b"abc");
        o.drain_into(&mut out);
        assert_eq!(out, b"abc");
        assert!(o.is_empty());
    }
}
