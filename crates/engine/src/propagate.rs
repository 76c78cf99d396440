//! Command propagation: the stream of writes that replicas and the AOF
//! receive.
//!
//! A command that changed the dataset is propagated as it was typed, or as
//! its handler rewrote it (absolute TTLs, the ID XADD picked, LPOP for a
//! served BLPOP, ...). What one top-level command, transaction or script
//! propagates is one *unit*; a unit of more than one command is wrapped in
//! MULTI/EXEC, as Redis 7.2 wraps its execution units.
//!
//! **Order.** Commands on different shards run in parallel, yet the
//! stream must replay to the same state. A unit takes a ticket the first
//! time it changes a key, while it holds that key's shard lock, so two
//! units that change the same key hold tickets in the order they ran.
//! Units are submitted when they end, before their command releases the
//! gate, and emitted strictly in ticket order: a unit that finishes early
//! waits in `pending` until every lower ticket has been submitted. Every
//! ticket taken is submitted (possibly empty), so the stream never stalls.
//!
//! The unit being built lives in a thread-local: a command runs on one
//! thread from start to end, nested commands (EXEC, scripts) included.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::client::ClientHandle;
use crate::server::Server;

/// One command's arguments.
pub type Argv = Vec<Vec<u8>>;

/// One propagated command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The database it applies to; `None` for database-neutral commands
    /// (MULTI, EXEC, PING), which never cause a SELECT.
    pub db: Option<usize>,
    /// Its arguments.
    pub argv: Argv,
    /// Whether the AOF records it (PUBLISH goes to replicas only).
    pub aof: bool,
}

/// Where the stream goes besides replicas: the append-only file.
pub trait LogSink: Send + Sync + std::fmt::Debug {
    /// Appends one emitted unit.
    fn append(&mut self, ops: &[Op]);
}

/// The server's propagation state.
#[derive(Debug)]
pub struct Propagation {
    /// Whether anyone consumes the stream (a replica or the AOF); when not,
    /// commands skip every step below.
    active: AtomicBool,
    /// The next ticket.
    tickets: Arc<AtomicU64>,
    emitter: Mutex<Emitter>,
    /// Signalled whenever units are emitted (for [`wait_emitted`]).
    emitted: parking_lot::Condvar,
}

#[derive(Debug)]
struct Emitter {
    /// The ticket whose unit is emitted next.
    next: u64,
    /// Units submitted ahead of a lower ticket.
    pending: BTreeMap<u64, Vec<Op>>,
    /// Attached replicas, fed the same bytes.
    replicas: Vec<Arc<ClientHandle>>,
    /// The database the replication stream last selected.
    repl_db: Option<usize>,
    /// Bytes sent down the replication stream (master_repl_offset).
    offset: u64,
    /// The AOF, when enabled.
    log: Option<Box<dyn LogSink>>,
}

impl Default for Propagation {
    fn default() -> Self {
        Propagation {
            active: AtomicBool::new(false),
            tickets: Arc::new(AtomicU64::new(1)),
            emitter: Mutex::new(Emitter {
                next: 1,
                pending: BTreeMap::new(),
                replicas: Vec::new(),
                repl_db: None,
                offset: 0,
                log: None,
            }),
            emitted: parking_lot::Condvar::new(),
        }
    }
}

impl Propagation {
    /// Whether commands must record what they propagate.
    #[inline]
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    fn refresh(&self, em: &Emitter) {
        self.active.store(
            !em.replicas.is_empty() || em.log.is_some(),
            Ordering::Release,
        );
    }

    /// Adds a replica to the stream; returns the stream offset it starts
    /// at. The caller holds the gate exclusively, so no unit is in flight
    /// and the snapshot it sent matches this point of the stream.
    pub fn attach(&self, h: &Arc<ClientHandle>) -> u64 {
        let mut em = self.emitter.lock();
        em.replicas.retain(|r| r.id != h.id);
        em.replicas.push(h.clone());
        // The next command selects its database explicitly.
        em.repl_db = None;
        self.refresh(&em);
        em.offset
    }

    /// Removes a replica (disconnected or killed).
    pub fn detach(&self, id: u64) {
        let mut em = self.emitter.lock();
        let before = em.replicas.len();
        em.replicas.retain(|r| r.id != id);
        if em.replicas.len() != before {
            self.refresh(&em);
        }
    }

    /// Attached replicas.
    pub fn replicas(&self) -> Vec<Arc<ClientHandle>> {
        self.emitter.lock().replicas.clone()
    }

    /// Whether writes may go ahead under `min-replicas-to-write` (`to_write`
    /// replicas that acknowledged within `max_lag` seconds; either 0 turns
    /// the check off), as Redis's `checkGoodReplicasStatus`.
    pub fn enough_good_replicas(&self, to_write: u64, max_lag: u64, now_ms: u64) -> bool {
        if to_write == 0 || max_lag == 0 {
            return true;
        }
        let good = self
            .emitter
            .lock()
            .replicas
            .iter()
            .filter(|r| {
                let ack = r.repl_ack_ms.load(Ordering::Relaxed);
                ack != 0 && now_ms.saturating_sub(ack) / 1000 <= max_lag
            })
            .count();
        good as u64 >= to_write
    }

    /// How many replicas acknowledged the stream up to `offset`.
    pub fn acked(&self, offset: u64) -> usize {
        self.emitter
            .lock()
            .replicas
            .iter()
            .filter(|r| r.repl_ack.load(Ordering::Acquire) >= offset)
            .count()
    }

    /// Asks every replica for an acknowledgement now (`REPLCONF GETACK *`,
    /// outside any database).
    pub fn getack(&self, server: &Server, now_ms: u64) {
        let op = Op {
            db: None,
            argv: vec![b"REPLCONF".to_vec(), b"GETACK".to_vec(), b"*".to_vec()],
            aof: false,
        };
        self.submit_now(server, vec![op], now_ms);
    }

    /// Propagates the removal of a key outside any command (active expiry,
    /// eviction); called under the key's shard lock, so it is in order
    /// with the commands that touched the key.
    pub fn deleted_now(&self, server: &Server, db: usize, key: &[u8], lazy: bool, now_ms: u64) {
        let op = Op {
            db: Some(db),
            argv: vec![del_cmd(lazy).to_vec(), key.to_vec()],
            aof: true,
        };
        self.submit_now(server, vec![op], now_ms);
    }

    /// The replication offset (bytes fed to replicas so far).
    pub fn offset(&self) -> u64 {
        self.emitter.lock().offset
    }

    /// Installs or removes the AOF sink. The caller holds the gate
    /// exclusively.
    pub fn set_log(&self, log: Option<Box<dyn LogSink>>) -> Option<Box<dyn LogSink>> {
        let mut em = self.emitter.lock();
        let old = std::mem::replace(&mut em.log, log);
        self.refresh(&em);
        old
    }

    /// Feeds a unit taken outside any command (active expiry, the
    /// replication PING) straight to the stream, under a fresh ticket.
    /// Returns the ticket it took.
    pub fn submit_now(&self, server: &Server, ops: Vec<Op>, now_ms: u64) -> u64 {
        let t = self.tickets.fetch_add(1, Ordering::AcqRel);
        self.submit(server, t, ops, now_ms);
        t
    }

    fn submit(&self, server: &Server, ticket: u64, ops: Vec<Op>, now_ms: u64) {
        let mut em = self.emitter.lock();
        if ticket != em.next {
            em.pending.insert(ticket, ops);
            return;
        }
        em.emit(server, &ops, now_ms);
        em.next += 1;
        while let Some(ops) = {
            let n = em.next;
            em.pending.remove(&n)
        } {
            em.emit(server, &ops, now_ms);
            em.next += 1;
        }
        self.emitted.notify_all();
    }

    /// Waits until the unit holding `ticket` has been emitted (written to
    /// the AOF): a unit that finished before a lower ticket's waits in
    /// the reorder buffer, and its reply must not leave before it is in
    /// the file.
    fn wait_for(&self, ticket: u64) {
        let mut em = self.emitter.lock();
        while em.next <= ticket {
            self.emitted.wait(&mut em);
        }
    }
}

impl Emitter {
    fn emit(&mut self, server: &Server, ops: &[Op], now_ms: u64) {
        if ops.is_empty() {
            return;
        }
        if !self.replicas.is_empty() {
            let mut buf = Vec::new();
            for op in ops {
                encode_op(&mut buf, &mut self.repl_db, op);
            }
            self.offset += buf.len() as u64;
            let limit = server.tunables.obuf.lock()[1];
            for r in &self.replicas {
                crate::pubsub::deliver(server, r, &buf, &limit, now_ms);
            }
        }
        if let Some(log) = self.log.as_mut() {
            log.append(ops);
        }
    }
}

/// Appends `op` in RESP, preceded by a SELECT when it applies to another
/// database than the stream's current one.
pub fn encode_op(out: &mut Vec<u8>, selected: &mut Option<usize>, op: &Op) {
    if let Some(db) = op.db {
        if *selected != Some(db) {
            let n = db.to_string();
            encode_argv(out, &[b"SELECT", n.as_bytes()]);
            *selected = Some(db);
        }
    }
    encode_argv(out, &op.argv);
}

/// Appends a command as a RESP array of bulk strings.
pub fn encode_argv<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    out.push(b'*');
    out.extend_from_slice(argv.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The unit being built on this thread.
#[derive(Default)]
struct Unit {
    /// Ticket counter of the server whose unit is open; `None` when closed.
    tickets: Option<Arc<AtomicU64>>,
    /// This unit's ticket (0: none taken yet).
    ticket: u64,
    /// Commands propagated so far.
    ops: Vec<Op>,
    /// The running call's choices.
    call: CallFlags,
    /// `lazyfree-lazy-expire`, read when the unit opened (expiries are
    /// noted under shard locks, where the config lock is not taken).
    lazy_expire: bool,
    /// `lazyfree-lazy-server-del`, likewise.
    lazy_server_del: bool,
}

/// What the running command decided about its own propagation.
#[derive(Default)]
struct CallFlags {
    /// Propagate these instead of the command as typed.
    rewrite: Option<Vec<Argv>>,
    /// Propagate even if nothing changed (FLUSHALL on an empty server).
    force: bool,
    /// Propagate to replicas only (PUBLISH).
    repl_only: bool,
    /// Do not propagate the command itself (what it added with [`also`]
    /// still goes).
    prevent: bool,
}

thread_local! {
    static UNIT: RefCell<Unit> = RefCell::default();
    /// Whether a unit is open on this thread: a plain flag, checked before
    /// anything else so that commands pay next to nothing while nobody
    /// consumes the stream.
    static OPEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The ticket of the last unit this thread submitted and has not yet
    /// waited for (0: none).
    static SUBMITTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Changes made by the running command (`server.dirty` per thread).
    static DIRTY: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A command's propagation state, set aside while its script is suspended
/// (see `script::suspend_thread_state`).
#[derive(Default)]
pub(crate) struct ThreadState {
    unit: Unit,
    open: bool,
    submitted: u64,
    dirty: u64,
}

/// Takes this thread's propagation state, leaving it as between commands.
pub(crate) fn take_thread_state() -> ThreadState {
    ThreadState {
        unit: UNIT.with(|u| std::mem::take(&mut *u.borrow_mut())),
        open: OPEN.with(|o| o.replace(false)),
        submitted: SUBMITTED.with(|s| s.replace(0)),
        dirty: DIRTY.with(|d| d.replace(0)),
    }
}

/// Puts back what [`take_thread_state`] took.
pub(crate) fn restore_thread_state(s: ThreadState) {
    UNIT.with(|u| *u.borrow_mut() = s.unit);
    OPEN.with(|o| o.set(s.open));
    SUBMITTED.with(|x| x.set(s.submitted));
    DIRTY.with(|d| d.set(s.dirty));
}

/// Counts changes to the dataset made by the running command.
#[inline]
pub fn note_dirty(n: u64) {
    DIRTY.with(|d| d.set(d.get() + n));
}

/// Takes the open unit's ticket if it has none yet. Called under the lock
/// of every shard holding a key about to change.
#[inline]
pub fn order() {
    if !OPEN.with(std::cell::Cell::get) {
        return;
    }
    UNIT.with(|u| {
        if let Ok(mut u) = u.try_borrow_mut() {
            if u.ticket == 0 {
                if let Some(t) = &u.tickets {
                    u.ticket = t.fetch_add(1, Ordering::AcqRel);
                }
            }
        }
    });
}

/// Runs `f` with nothing recorded for propagation and no change counted
/// (loading: DEBUG LOADAOF and DEBUG RELOAD replay what the stream
/// already holds; as in Redis, nothing loaded is propagated again).
pub fn suspended<T>(f: impl FnOnce() -> T) -> T {
    let open = OPEN.with(|o| o.replace(false));
    let dirty = DIRTY.with(std::cell::Cell::get);
    let r = f();
    DIRTY.with(|d| d.set(dirty));
    OPEN.with(|o| o.set(open));
    r
}

/// Whether this thread records a unit (so rewrites are worth building).
#[inline]
pub fn recording() -> bool {
    OPEN.with(std::cell::Cell::get)
}

/// Opens a unit for a top-level command; false when propagation is off
/// or a unit is already open.
pub fn open_unit(server: &Server) -> bool {
    if !server.repl.active() {
        return false;
    }
    UNIT.with(|u| {
        let mut u = u.borrow_mut();
        if u.tickets.is_some() {
            return false;
        }
        u.tickets = Some(server.repl.tickets.clone());
        OPEN.with(|o| o.set(true));
        u.ticket = 0;
        u.ops.clear();
        u.call = CallFlags::default();
        let c = server.config.read();
        u.lazy_expire = c.lazyfree_lazy_expire();
        u.lazy_server_del = c.lazyfree_lazy_server_del();
        true
    })
}

/// Closes the unit opened by [`open_unit`] and submits it, wrapped in
/// MULTI/EXEC when it holds several commands (unless `arbitrary`: SCAN and
/// RANDOMKEY expire what they meet one key at a time, as active expiry
/// does).
pub fn close_unit(server: &Server, arbitrary: bool, now_ms: u64) {
    let Some((ticket, mut ops)) = UNIT.with(|u| {
        let mut u = u.try_borrow_mut().ok()?;
        u.tickets = None;
        OPEN.with(|o| o.set(false));
        u.call = CallFlags::default();
        Some((std::mem::take(&mut u.ticket), std::mem::take(&mut u.ops)))
    }) else {
        return;
    };
    if ticket == 0 && ops.is_empty() {
        return;
    }
    if ops.len() > 1 && !arbitrary {
        let aof = ops.iter().any(|o| o.aof);
        ops.insert(0, neutral(&[b"MULTI"], aof));
        ops.push(neutral(&[b"EXEC"], aof));
    }
    let ticket = if ticket == 0 {
        server.repl.submit_now(server, ops, now_ms)
    } else {
        server.repl.submit(server, ticket, ops, now_ms);
        ticket
    };
    SUBMITTED.with(|s| s.set(s.get().max(ticket)));
}

/// Waits until every unit this thread submitted has been emitted; the
/// connection calls it (through `aof::before_reply`) before it sends
/// replies, so that no write is acknowledged before it is in the AOF.
pub fn wait_emitted(server: &Server) {
    let t = SUBMITTED.with(|s| s.replace(0));
    if t != 0 {
        server.repl.wait_for(t);
    }
}

/// Closes the open unit when dropped (see [`close_unit`]).
#[derive(Debug)]
pub struct UnitGuard<'a> {
    /// The server the unit belongs to.
    pub server: &'a Server,
    /// See [`close_unit`].
    pub arbitrary: bool,
    /// The command's time.
    pub now_ms: u64,
}

impl Drop for UnitGuard<'_> {
    fn drop(&mut self) {
        close_unit(self.server, self.arbitrary, self.now_ms);
    }
}

fn neutral(argv: &[&[u8]], aof: bool) -> Op {
    Op {
        db: None,
        argv: argv.iter().map(|a| a.to_vec()).collect(),
        aof,
    }
}

/// A call's saved state, restored by [`end_call`].
pub struct Call {
    saved: CallFlags,
    dirty: u64,
}

/// Starts recording one command (top-level or nested): its own choices
/// start blank, the caller's are kept for [`end_call`].
pub fn begin_call() -> Call {
    let saved = UNIT.with(|u| std::mem::take(&mut u.borrow_mut().call));
    Call {
        saved,
        dirty: DIRTY.with(std::cell::Cell::get),
    }
}

/// Ends one command: records it (as typed or rewritten) when it changed
/// the dataset or forced propagation, then restores the caller's state.
/// `own` is false for commands that never propagate themselves (EXEC,
/// scripts: their inner commands do).
pub fn end_call(call: Call, db: usize, args: &[&[u8]], own: bool) {
    let changed = DIRTY.with(std::cell::Cell::get) != call.dirty;
    UNIT.with(|u| {
        let mut u = u.borrow_mut();
        let flags = std::mem::replace(&mut u.call, call.saved);
        if !own || flags.prevent || !(changed || flags.force) {
            return;
        }
        let aof = !flags.repl_only;
        match flags.rewrite {
            Some(cmds) => {
                for argv in cmds {
                    u.ops.push(Op {
                        db: Some(db),
                        argv,
                        aof,
                    });
                }
            }
            None => u.ops.push(Op {
                db: Some(db),
                argv: args.iter().map(|a| a.to_vec()).collect(),
                aof,
            }),
        }
    });
}

/// Propagates the running command as `cmds` instead of as typed.
pub fn rewrite(cmds: Vec<Argv>) {
    UNIT.with(|u| {
        let mut u = u.borrow_mut();
        if u.tickets.is_some() {
            u.call.rewrite = Some(cmds);
        }
    });
}

/// [`rewrite`] with one command given as slices.
pub fn rewrite_as(argv: &[&[u8]]) {
    if recording() {
        rewrite(vec![argv.iter().map(|a| a.to_vec()).collect()]);
    }
}

/// Propagates the running command even if it changed nothing; to replicas
/// only when `repl_only`.
pub fn force(repl_only: bool) {
    if !recording() {
        return;
    }
    UNIT.with(|u| {
        let mut u = u.borrow_mut();
        u.call.force = true;
        u.call.repl_only = repl_only;
    });
}

/// Keeps the running command itself out of the stream.
pub fn prevent() {
    if !recording() {
        return;
    }
    UNIT.with(|u| u.borrow_mut().call.prevent = true);
}

/// Adds a command to the open unit now, ahead of the running command's
/// own (the DEL of a key that expired on access, SPOP's SREMs).
pub fn also(db: usize, argv: &[&[u8]]) {
    UNIT.with(|u| {
        let mut u = u.borrow_mut();
        if u.tickets.is_some() {
            u.ops.push(Op {
                db: Some(db),
                argv: argv.iter().map(|a| a.to_vec()).collect(),
                aof: true,
            });
        }
    });
}

/// The command a deletion caused by a deadline propagates as: DEL, or
/// UNLINK under `lazyfree-lazy-expire`.
pub fn expiry_del() -> &'static [u8] {
    del_cmd(UNIT.with(|u| u.borrow().lazy_expire))
}

/// DEL, or UNLINK when the matching `lazyfree-lazy-*` setting is on.
fn del_cmd(lazy: bool) -> &'static [u8] {
    if lazy {
        b"UNLINK"
    } else {
        b"DEL"
    }
}

/// The command a deletion the server decided on (SPOP of the whole set)
/// propagates as: DEL, or UNLINK under `lazyfree-lazy-server-del`.
pub fn server_del() -> &'static [u8] {
    del_cmd(UNIT.with(|u| u.borrow().lazy_server_del))
}

/// [`rewrite_as`] with the arguments of the running command kept but for
/// those `keep` refuses (SET ... GET propagates without GET).
pub fn rewrite_filtered(args: &[&[u8]], keep: impl Fn(usize, &[u8]) -> bool) {
    if recording() {
        rewrite(vec![args
            .iter()
            .enumerate()
            .filter(|(i, a)| keep(*i, a))
            .map(|(_, a)| a.to_vec())
            .collect()]);
    }
}

/// What a deleted-by-expiry key propagates as: DEL, or UNLINK under
/// `lazyfree-lazy-expire`.
pub fn expired(db: usize, key: &[u8]) {
    if !recording() {
        return;
    }
    let Some(lazy) = UNIT.with(|u| {
        let u = u.borrow();
        u.tickets.is_some().then_some(u.lazy_expire)
    }) else {
        return;
    };
    order();
    also(db, &[del_cmd(lazy), key]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_selects_only_on_change() {
        let mut out = Vec::new();
        let mut sel = None;
        let op = |db, a: &[&str]| Op {
            db,
            argv: a.iter().map(|s| s.as_bytes().to_vec()).collect(),
            aof: true,
        };
        encode_op(&mut out, &mut sel, &op(Some(9), &["set", "a", "1"]));
        encode_op(&mut out, &mut sel, &op(None, &["MULTI"]));
        encode_op(&mut out, &mut sel, &op(Some(9), &["del", "a"]));
        encode_op(&mut out, &mut sel, &op(Some(0), &["del", "b"]));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n9\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n\
             *1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\ndel\r\n$1\r\na\r\n\
             *2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*2\r\n$3\r\ndel\r\n$1\r\nb\r\n"
        );
    }
}
