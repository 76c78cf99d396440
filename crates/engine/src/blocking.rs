//! Blocking commands (BLPOP and family): clients parked on keys until a
//! write gives them something to pop.
//!
//! A blocking command first tries to run as its non-blocking form while it
//! holds the locks of every key it names. When nothing is there it leaves a
//! [`Waiter`] in the queue of each key, still under those locks, so that no
//! write can slip between the check and the registration. A write that
//! creates or changes a key with waiters marks it ready in [`BlockState`];
//! once that write's command (or whole transaction) has finished, the
//! dispatcher calls [`serve_ready`], which re-runs each waiter's command in
//! the order the waiters blocked, hands the reply to the first one that gets
//! something, and wakes its connection. Serving is serialized server-wide,
//! so an element goes to exactly one waiter and waiters on a key are served
//! first come, first served.
//!
//! A waiter is finished exactly once: either by a server thread that stores
//! its reply, or by its own connection (timeout, CLIENT UNBLOCK, close),
//! whichever takes the waiter's slot lock first. Lock order: a waiter's slot,
//! then shards.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ferrokey_resp::Frame;
use parking_lot::Mutex;

use crate::client::{Client, ClientHandle};
use crate::command::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked};
use crate::server::Server;
use crate::value::Value;

/// What a waiter does once a key has something for it.
#[derive(Debug, Clone)]
pub enum Op {
    /// BLPOP / BRPOP: one element from the first non-empty list.
    Pop {
        /// From the head (BLPOP) or the tail.
        head: bool,
    },
    /// BLMPOP: up to `count` elements from the first non-empty list.
    MPop {
        /// From the head (LEFT) or the tail.
        head: bool,
        /// Most elements to pop.
        count: usize,
    },
    /// BLMOVE / BRPOPLPUSH: one element moved to `dst`.
    Move {
        /// Destination list.
        dst: Box<[u8]>,
        /// Pop from the source's head.
        from_head: bool,
        /// Push to the destination's head.
        to_head: bool,
    },
    /// BZPOPMIN / BZPOPMAX: one member from the first non-empty sorted set.
    ZPop {
        /// Highest score (BZPOPMAX) or lowest.
        max: bool,
    },
    /// BZMPOP: up to `count` members from the first non-empty sorted set.
    ZMPop {
        /// Highest scores (MAX) or lowest.
        max: bool,
        /// Most members to pop.
        count: usize,
    },
    /// XREAD / XREADGROUP: entries after the given IDs.
    XRead(Box<crate::cmd::stream::ReadOp>),
    /// WAIT: until `numreplicas` replicas acknowledged the stream up to
    /// `offset`. The waiter sits on [`WAIT_KEY`], which REPLCONF ACK
    /// signals; with no replica it ends by timeout or CLIENT UNBLOCK.
    Wait {
        /// Replicas wanted.
        numreplicas: usize,
        /// Stream offset they must have acknowledged.
        offset: u64,
    },
}

/// The key WAIT waiters queue on: no client key can collide with it in
/// practice, and no value is ever stored under it.
pub const WAIT_KEY: &[u8] = b"\0ferrokey-wait-for-replicas\0";

/// The type of value an [`Op`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    List,
    ZSet,
    Stream,
    /// Nothing a key can hold (WAIT).
    None,
}

impl Op {
    fn family(&self) -> Family {
        match self {
            Op::Pop { .. } | Op::MPop { .. } | Op::Move { .. } => Family::List,
            Op::ZPop { .. } | Op::ZMPop { .. } => Family::ZSet,
            Op::XRead(_) => Family::Stream,
            Op::Wait { .. } => Family::None,
        }
    }

    /// The reply when the wait ends without an element (timeout, CLIENT
    /// UNBLOCK TIMEOUT): a null array for every command, as Redis sends.
    pub fn timeout_reply(&self, server: &Server) -> Frame {
        match self {
            // WAIT answers how many replicas got there in time.
            Op::Wait { offset, .. } => Frame::Integer(server.repl.acked(*offset) as i64),
            _ => Frame::NullArray,
        }
    }

    /// The reply when the command finds nothing where it may not block
    /// (inside MULTI): the moving commands answer a null bulk there.
    fn empty_reply(&self) -> Frame {
        match self {
            Op::Move { .. } => Frame::Null,
            Op::Wait { .. } => Frame::Integer(0),
            _ => Frame::NullArray,
        }
    }

    /// Runs the non-blocking form over `keys` (whose shards, and the
    /// destination's, `locked` holds): the reply, or `None` when every key
    /// is empty.
    fn attempt(
        &self,
        ctx: &mut Ctx<'_>,
        locked: &mut Locked<'_>,
        keys: &[&[u8]],
    ) -> Result<Option<Frame>, CmdError> {
        match self {
            Op::Pop { head } => crate::cmd::list::pop_first(ctx, locked, keys, *head, None),
            Op::MPop { head, count } => {
                crate::cmd::list::pop_first(ctx, locked, keys, *head, Some(*count))
            }
            Op::Move {
                dst,
                from_head,
                to_head,
            } => crate::cmd::list::move_one(ctx, locked, keys[0], dst, *from_head, *to_head),
            Op::ZPop { max } => crate::cmd::zset::pop_first(ctx, locked, keys, *max, None),
            Op::ZMPop { max, count } => {
                crate::cmd::zset::pop_first(ctx, locked, keys, *max, Some(*count))
            }
            Op::XRead(r) => crate::cmd::stream::read_streams(ctx, locked, keys, r),
            Op::Wait {
                numreplicas,
                offset,
            } => {
                let n = ctx.server.repl.acked(*offset);
                Ok((n >= *numreplicas).then_some(Frame::Integer(n as i64)))
            }
        }
    }

    /// Whether the waiter is woken by any change to its keys, deletion
    /// and type changes included (XREADGROUP, which then reports NOGROUP
    /// or WRONGTYPE).
    pub fn wakes_on_any_change(&self) -> bool {
        matches!(self, Op::XRead(r) if r.is_group()) || matches!(self, Op::Wait { .. })
    }

    /// Whether the waiter's keys count in INFO's blocking-key figures (a
    /// WAIT's queue is not a key).
    fn counts_keys(&self) -> bool {
        !matches!(self, Op::Wait { .. })
    }

    /// Hashes of every key the operation locks.
    fn hashes(&self, server: &Server, keys: &[&[u8]]) -> Vec<u64> {
        let mut hs: Vec<u64> = keys.iter().map(|k| server.hasher.hash(k)).collect();
        if let Op::Move { dst, .. } = self {
            hs.push(server.hasher.hash(dst));
        }
        hs
    }
}

/// A client parked on one or more keys.
#[derive(Debug)]
pub struct Waiter {
    /// The blocked connection.
    pub handle: Arc<ClientHandle>,
    /// Its database.
    pub db: usize,
    /// Its protocol version.
    pub resp: u8,
    /// The command's full name, for the context it re-runs in.
    pub name: &'static str,
    /// The keys, in the order the command named them, each once.
    pub keys: Vec<Box<[u8]>>,
    /// What to do when served.
    pub op: Op,
    /// Unix ms after which the wait times out; 0 for never.
    pub deadline_ms: u64,
    /// Set once the waiter is served or given up.
    done: AtomicBool,
    /// The reply, once served.
    slot: Mutex<Option<Frame>>,
    /// The command line, for the slow log once the wait ends in a reply
    /// (set by the dispatcher after the command parked).
    pub argv: Mutex<Vec<Vec<u8>>>,
}

impl Waiter {
    /// Whether the waiter was served or gave up.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// The reply, if a server thread served the waiter.
    pub fn take_reply(&self) -> Option<Frame> {
        self.slot.lock().take()
    }

    /// Whether the waiter is woken when its key is deleted (XREADGROUP).
    pub fn on_nokey(&self) -> bool {
        self.op.wakes_on_any_change()
    }

    /// Gives up waiting; returns the reply if the waiter was served first.
    pub fn cancel(&self) -> Option<Frame> {
        let mut slot = self.slot.lock();
        self.done.store(true, Ordering::Release);
        slot.take()
    }
}

/// Server-wide blocking state, shared with every shard (which marks keys
/// ready).
#[derive(Debug, Default)]
pub struct BlockState {
    /// Whether `ready` may be non-empty; read on every command.
    pending: AtomicBool,
    /// (database, key) pairs that changed while someone waits on them, in
    /// the order they were signalled, each once.
    ready: Mutex<Vec<(usize, Box<[u8]>)>>,
    /// Held while serving, so that waiters are served one at a time.
    serving: Mutex<()>,
    /// Clients blocked on keys (INFO blocked_clients).
    pub clients: AtomicU64,
    /// Keys with at least one waiter (INFO total_blocking_keys).
    pub keys: AtomicU64,
    /// Keys with at least one waiter woken by the key's deletion (INFO
    /// total_blocking_keys_on_nokey).
    pub keys_on_nokey: AtomicU64,
}

impl BlockState {
    /// Marks a key ready (called by its shard under the shard's lock).
    pub fn signal(&self, db: usize, key: &[u8]) {
        let mut r = self.ready.lock();
        if !r.iter().any(|(d, k)| *d == db && &**k == key) {
            r.push((db, key.into()));
        }
        self.pending.store(true, Ordering::Release);
    }

    fn take_ready(&self) -> Vec<(usize, Box<[u8]>)> {
        let mut r = self.ready.lock();
        self.pending.store(false, Ordering::Release);
        std::mem::take(&mut *r)
    }
}

/// Parses a blocking command's timeout in seconds (fractions allowed) into
/// an absolute deadline in Unix ms, 0 meaning forever, with Redis's errors.
pub fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<u64, CmdError> {
    // Redis reads the timeout as a long double (strtold): hex floats are
    // fine, and a value too big for a double is still a number, just an
    // out-of-range timeout.
    let not_float = CmdError::msg("ERR timeout is not a float or out of range");
    if arg.is_empty() || crate::cfloat::c_space(arg[0]) {
        return Err(not_float);
    }
    let r = crate::cfloat::strtod(arg);
    if r.end != arg.len() || r.value.is_nan() {
        return Err(not_float);
    }
    let secs = if r.erange && r.value == 0.0 && arg.first() != Some(&b'-') {
        f64::MIN_POSITIVE
    } else {
        r.value
    };
    let ms = secs * 1000.0;
    if ms > i64::MAX as f64 {
        return Err(CmdError::msg("ERR timeout is out of range"));
    }
    let ms = ms.ceil();
    if ms < 0.0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    let ms = ms as u64;
    if ms == 0 {
        return Ok(0);
    }
    if ms > i64::MAX as u64 - now_ms {
        return Err(CmdError::msg("ERR timeout is out of range"));
    }
    Ok(now_ms + ms)
}

/// Runs a blocking command: replies at once when one of `keys` has
/// something (or the client may not block, as inside MULTI), otherwise
/// parks the client on every key and leaves the waiter in
/// `ctx.client.blocked` for the connection to wait on.
pub fn block_or_run(ctx: &mut Ctx<'_>, keys: &[&[u8]], op: Op, deadline_ms: u64) -> CmdResult {
    let hs = op.hashes(ctx.server, keys);
    let mut locked = Locked::new(ctx.db(), hs.iter().copied());
    if let Some(reply) = op.attempt(ctx, &mut locked, keys)? {
        return Ok(reply);
    }
    if ctx.client.deny_blocking {
        return Ok(op.empty_reply());
    }
    let mut op = op;
    if let Op::XRead(r) = &mut op {
        r.freeze(ctx, &mut locked, keys);
    }
    let mut unique: Vec<(&[u8], u64)> = Vec::with_capacity(keys.len());
    for (k, &h) in keys.iter().zip(&hs) {
        if !unique.iter().any(|(u, _)| u == k) {
            unique.push((k, h));
        }
    }
    let name = crate::command::table()
        .lookup(ctx.full_name.as_bytes())
        .map_or("", |id| {
            crate::command::table().entries[id].full_name.as_str()
        });
    let w = Arc::new(Waiter {
        handle: ctx.client.handle.clone(),
        db: ctx.client.db,
        resp: ctx.client.resp,
        name,
        keys: unique.iter().map(|(k, _)| Box::from(*k)).collect(),
        op,
        deadline_ms,
        done: AtomicBool::new(false),
        argv: Mutex::new(Vec::new()),
        slot: Mutex::new(None),
    });
    for (k, h) in &unique {
        let (first, first_nokey) = locked.shard(*h).block(k, w.clone());
        if !w.op.counts_keys() {
            continue;
        }
        if first {
            ctx.server.blocking.keys.fetch_add(1, Ordering::Relaxed);
        }
        if first_nokey {
            ctx.server
                .blocking
                .keys_on_nokey
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    ctx.server.blocking.clients.fetch_add(1, Ordering::Relaxed);
    ctx.client.handle.blocked.store(true, Ordering::Release);
    ctx.client.blocked = Some(w);
    // Not sent: the connection replies when the wait ends.
    Ok(Frame::Null)
}

/// Ends a client's wait (served, timed out, unblocked or closed): removes
/// its waiter from every key queue.
pub fn finish(server: &Server, client: &mut Client) {
    let Some(w) = client.blocked.take() else {
        return;
    };
    w.cancel();
    for k in &w.keys {
        let h = server.hasher.hash(k);
        let (emptied, last_nokey) = server.dbs[w.db].lock(shard_of(h)).unblock(k, &w);
        if !w.op.counts_keys() {
            continue;
        }
        if emptied {
            server.blocking.keys.fetch_sub(1, Ordering::Relaxed);
        }
        if last_nokey {
            server
                .blocking
                .keys_on_nokey
                .fetch_sub(1, Ordering::Relaxed);
        }
    }
    server.blocking.clients.fetch_sub(1, Ordering::Relaxed);
    client.handle.blocked.store(false, Ordering::Release);
}

/// Serves the waiters of every key marked ready. Called by the dispatcher
/// after a command has finished and released the gate.
pub fn serve_ready(server: &Server, now_us: u64) {
    let st = &server.blocking;
    if !st.pending.load(Ordering::Acquire) {
        return;
    }
    if crate::script::suspended_here() {
        // The suspended script holds the gate; its own command serves the
        // waiters once it ends.
        return;
    }
    let _serial = st.serving.lock();
    let _gate = server.gate.read();
    loop {
        let batch = st.take_ready();
        if batch.is_empty() {
            break;
        }
        for (db, key) in batch {
            serve_key(server, db, &key, now_us);
        }
    }
}

/// Serves the waiters of one key in the order they blocked, while the key
/// holds a value of the type they wait for.
fn serve_key(server: &Server, db: usize, key: &[u8], now_us: u64) {
    let now_ms = now_us / 1000;
    let h = server.hasher.hash(key);
    let waiters = server.dbs[db].lock(shard_of(h)).waiters(key);
    for w in waiters {
        let mut slot = w.slot.lock();
        if w.is_done() {
            continue;
        }
        // Redis serves a waiter only while the key holds the type it waits
        // for, and stops once the key is gone; XREADGROUP re-runs on any
        // change.
        let family = server.dbs[db]
            .lock(shard_of(h))
            .peek(h, key, now_ms)
            .map(|e| match e.value() {
                Value::List(_) => Some(Family::List),
                Value::ZSet(_) => Some(Family::ZSet),
                Value::Stream(_) => Some(Family::Stream),
                _ => None,
            });
        match family {
            _ if w.op.wakes_on_any_change() => {}
            None => continue,
            Some(f) if f != Some(w.op.family()) => continue,
            Some(_) => {}
        }
        let mut client = Client::new(w.handle.clone(), true);
        client.db = w.db;
        client.resp = w.resp;
        let mut ctx = Ctx {
            server,
            client: &mut client,
            now_ms,
            now_us,
            full_name: w.name,
        };
        let keys: Vec<&[u8]> = w.keys.iter().map(|k| &**k).collect();
        let hs = w.op.hashes(server, &keys);
        let mut locked = Locked::new(&server.dbs[w.db], hs.iter().copied());
        // Serving is a command of its own for the write stream (propagated
        // as the pop it came to); the serving thread holds the gate.
        let unit = crate::propagate::open_unit(server);
        let call = unit.then(crate::propagate::begin_call);
        let started = std::time::Instant::now();
        let attempt = w.op.attempt(&mut ctx, &mut locked, &keys);
        if let Some(call) = call {
            crate::propagate::end_call(call, w.db, &[w.name.as_bytes()], true);
            crate::propagate::close_unit(server, false, now_ms);
            // The waiter's connection replies as soon as it is woken: the
            // pop must be in the AOF (and on disk under `always`) first.
            crate::aof::sync_pending(server);
        }
        let reply = match attempt {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                let f = e.to_frame();
                crate::command::count_error(server, &f);
                if let Some(id) = crate::command::table().lookup(w.name.as_bytes()) {
                    server.counters[id].failed.fetch_add(1, Ordering::Relaxed);
                }
                f
            }
        };
        drop(locked);
        // A served blocking command reaches the slow log now, as its
        // original command line, as Redis logs it once unblocked.
        let argv = std::mem::take(&mut *w.argv.lock());
        if !argv.is_empty() {
            let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let took = started.elapsed().as_micros() as u64;
            server.slowlog_push(&client, &refs, took, now_ms);
        }
        *slot = Some(reply);
        w.done.store(true, Ordering::Release);
        drop(slot);
        w.handle.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_as_redis() {
        assert_eq!(parse_timeout(b"0", 1000).unwrap(), 0);
        assert_eq!(parse_timeout(b"0.0001", 1000).unwrap(), 1001);
        assert_eq!(parse_timeout(b"1.5", 1000).unwrap(), 2500);
        assert_eq!(parse_timeout(b"0x1p-3", 1000).unwrap(), 1125);
        assert_eq!(
            parse_timeout(b"1e400", 1000).unwrap_err().to_frame(),
            Frame::Error("ERR timeout is out of range".into())
        );
        assert_eq!(
            parse_timeout(b" 1", 1000).unwrap_err().to_frame(),
            Frame::Error("ERR timeout is not a float or out of range".into())
        );
        assert_eq!(
            parse_timeout(b"-1", 1000).unwrap_err().to_frame(),
            Frame::Error("ERR timeout is negative".into())
        );
        assert_eq!(
            parse_timeout(b"abc", 1000).unwrap_err().to_frame(),
            Frame::Error("ERR timeout is not a float or out of range".into())
        );
        assert_eq!(
            parse_timeout(b"1e300", 1000).unwrap_err().to_frame(),
            Frame::Error("ERR timeout is out of range".into())
        );
    }
}
