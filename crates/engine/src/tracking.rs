//! Client-side caching (CLIENT TRACKING): which clients read which keys,
//! and invalidation messages when those keys change.
//!
//! Default mode remembers, per key name (across databases, as Redis does),
//! the ids of the tracking clients that read it; the first change to the
//! key sends each of them an invalidation and forgets the key. BCAST mode
//! remembers nothing per key: every changed key that starts with one of a
//! client's prefixes is sent to it, batched per command. Invalidations go
//! into the receiver's outbox (RESP3 `invalidate` push, or a
//! `__redis__:invalidate` message for a RESP2 redirect target subscribed to
//! it); those caused by the receiving client's own command wait until its
//! reply is written, as Redis sends them after the reply.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ferrokey_resp::{encode, Frame};
use parking_lot::{Mutex, RwLock};

use crate::client::{ClientHandle, Registry};

/// A BCAST prefix and the ids of the clients registered for it.
type Prefix = (Box<[u8]>, Vec<u64>);

/// A client's tracking mode.
#[derive(Debug, Clone, Default)]
pub struct Mode {
    /// Tracking is on.
    pub on: bool,
    /// BCAST.
    pub bcast: bool,
    /// OPTIN.
    pub optin: bool,
    /// OPTOUT.
    pub optout: bool,
    /// NOLOOP.
    pub noloop: bool,
    /// The redirect target's id (0: none).
    pub redirect: u64,
    /// The redirect target disappeared.
    pub broken_redirect: bool,
    /// BCAST prefixes ("" stands for every key).
    pub prefixes: Vec<Box<[u8]>>,
}

const TABLE_SHARDS: usize = 64;

/// Key (or prefix) → ids of the clients interested in it.
type Ids<K> = HashMap<K, Vec<u64>>;

/// The key table, split in shards by key hash.
type KeyTable = Box<[Mutex<Ids<Box<[u8]>>>]>;

/// The server's tracking tables.
#[derive(Debug)]
pub struct Tracking {
    /// Key → ids of the clients that read it, split by key hash.
    table: KeyTable,
    /// BCAST prefix → ids of the clients registered for it.
    prefixes: RwLock<Vec<Prefix>>,
    /// Clients with tracking on (INFO tracking_clients).
    pub clients: AtomicU64,
    /// Keys in the table (INFO tracking_total_keys).
    pub keys: AtomicU64,
    /// (key, client) pairs in the table (INFO tracking_total_items).
    pub items: AtomicU64,
}

impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            table: (0..TABLE_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
            prefixes: RwLock::new(Vec::new()),
            clients: AtomicU64::new(0),
            keys: AtomicU64::new(0),
            items: AtomicU64::new(0),
        }
    }
}

thread_local! {
    /// The client whose command runs on this thread (0: none).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
    /// Keys changed by the running command, for BCAST clients.
    static CHANGED: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// A command's tracking context, set aside while its script is suspended
/// (see `script::suspend_thread_state`).
#[derive(Default)]
pub(crate) struct ThreadState {
    current: u64,
    changed: Vec<Box<[u8]>>,
}

/// Takes this thread's tracking context, leaving it as between commands.
pub(crate) fn take_thread_state() -> ThreadState {
    ThreadState {
        current: CURRENT.with(|c| c.replace(0)),
        changed: CHANGED.with(|c| std::mem::take(&mut *c.borrow_mut())),
    }
}

/// Puts back what [`take_thread_state`] took.
pub(crate) fn restore_thread_state(s: ThreadState) {
    CURRENT.with(|c| c.set(s.current));
    CHANGED.with(|c| *c.borrow_mut() = s.changed);
}

/// Marks `id` as the client whose command runs on this thread (0 after).
pub fn set_current(id: u64) {
    CURRENT.with(|c| c.set(id));
}

/// Runs `f` as the server rather than the running client: invalidations
/// it causes (evictions, trimming the table) are not the client's own
/// changes, so they go out before its reply.
pub fn as_server<R>(f: impl FnOnce() -> R) -> R {
    let me = current();
    set_current(0);
    let r = f();
    set_current(me);
    r
}

/// The client whose command runs on this thread (0: none).
pub fn current() -> u64 {
    CURRENT.with(Cell::get)
}

fn table_shard(key: &[u8]) -> usize {
    // FNV-1a: the table only needs a spread, not resistance to attack
    // (each shard is a hash map of its own).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h as usize) % TABLE_SHARDS
}

impl Tracking {
    /// Whether any client tracks (the check every write makes).
    #[inline]
    pub fn active(&self) -> bool {
        self.clients.load(Ordering::Relaxed) > 0
    }

    /// Remembers that client `id` read `key`.
    pub fn remember(&self, id: u64, key: &[u8]) {
        let mut t = self.table[table_shard(key)].lock();
        let ids = match t.get_mut(key) {
            Some(ids) => ids,
            None => {
                self.keys.fetch_add(1, Ordering::Relaxed);
                t.entry(key.into()).or_default()
            }
        };
        if !ids.contains(&id) {
            ids.push(id);
            self.items.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A key changed: invalidates it for the clients that read it, and
    /// queues it for BCAST clients.
    pub fn invalidate(&self, registry: &Registry, key: &[u8]) {
        if !self.prefixes.read().is_empty() {
            CHANGED.with(|c| c.borrow_mut().push(key.into()));
        }
        let ids = {
            let mut t = self.table[table_shard(key)].lock();
            match t.remove(key) {
                Some(ids) => ids,
                None => return,
            }
        };
        self.keys.fetch_sub(1, Ordering::Relaxed);
        self.items.fetch_sub(ids.len() as u64, Ordering::Relaxed);
        let current = CURRENT.with(Cell::get);
        for id in ids {
            let Some(target) = registry.get(id) else {
                continue;
            };
            let mode = target.tracking.lock().clone();
            if !mode.on || mode.bcast || (mode.noloop && id == current) {
                continue;
            }
            send(registry, &target, &mode, Some(&[key]), id == current);
        }
    }

    /// Sends queued BCAST invalidations (after a command, or a round of
    /// active expiry).
    pub fn flush_broadcasts(&self, registry: &Registry) {
        let mut changed = CHANGED.with(|c| std::mem::take(&mut *c.borrow_mut()));
        if changed.is_empty() {
            return;
        }
        changed.sort();
        changed.dedup();
        let current = CURRENT.with(Cell::get);
        let prefixes = self.prefixes.read().clone();
        for (prefix, ids) in prefixes {
            let keys: Vec<&[u8]> = changed
                .iter()
                .filter(|k| k.starts_with(&prefix))
                .map(|k| &**k)
                .collect();
            if keys.is_empty() {
                continue;
            }
            for id in ids {
                let Some(target) = registry.get(id) else {
                    continue;
                };
                let mode = target.tracking.lock().clone();
                // NOLOOP: a client does not hear about its own changes.
                if mode.noloop && id == current {
                    continue;
                }
                send(registry, &target, &mode, Some(&keys), false);
            }
        }
    }

    /// FLUSHDB / FLUSHALL: every tracking client hears a null invalidation
    /// and the table empties.
    pub fn flush_all(&self, registry: &Registry) {
        // The table empties even with no tracking client left: entries
        // of clients gone since stay in it until then.
        if self.keys.load(Ordering::Relaxed) > 0 {
            for t in self.table.iter() {
                t.lock().clear();
            }
            self.keys.store(0, Ordering::Relaxed);
            self.items.store(0, Ordering::Relaxed);
        }
        if !self.active() {
            return;
        }
        let current = CURRENT.with(Cell::get);
        for h in registry.all() {
            let mode = h.tracking.lock().clone();
            if mode.on {
                send(registry, &h, &mode, None, h.id == current);
            }
        }
    }

    /// Evicts keys while the table holds more than `max` (0: no limit),
    /// invalidating them, as `tracking-table-max-keys` asks.
    pub fn limit(&self, registry: &Registry, max: u64) {
        while max > 0 && self.keys.load(Ordering::Relaxed) > max {
            let victim = self
                .table
                .iter()
                .find_map(|t| t.lock().keys().next().cloned());
            match victim {
                Some(k) => self.invalidate(registry, &k),
                None => break,
            }
        }
    }

    /// Registers client `id` for BCAST `prefixes` ("" when none given).
    pub fn add_prefixes(&self, id: u64, prefixes: &[Box<[u8]>]) {
        let mut p = self.prefixes.write();
        for prefix in prefixes {
            match p.iter_mut().find(|(x, _)| x == prefix) {
                Some((_, ids)) => {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                None => p.push((prefix.clone(), vec![id])),
            }
        }
    }

    /// Unregisters client `id` from every BCAST prefix.
    pub fn remove_prefixes(&self, id: u64) {
        let mut p = self.prefixes.write();
        for (_, ids) in p.iter_mut() {
            ids.retain(|&x| x != id);
        }
        p.retain(|(_, ids)| !ids.is_empty());
    }

    /// Distinct BCAST prefixes (INFO tracking_total_prefixes).
    pub fn prefix_count(&self) -> usize {
        self.prefixes.read().len()
    }
}

/// The keys a read-only command reads, for remembering them.
pub fn read_keys<'a>(spec: &crate::command::CommandSpec, args: &[&'a [u8]]) -> Vec<&'a [u8]> {
    use crate::command::flags::MOVABLEKEYS;
    if let Some(pos) = crate::script::key_positions(args) {
        return pos.into_iter().map(|p| args[p]).collect();
    }
    if spec.has(MOVABLEKEYS) {
        // numkeys key [key ...] ...: ZUNION, ZINTER, ZDIFF, ZINTERCARD,
        // SINTERCARD; SORT_RO reads its first argument.
        if spec.name == "sort_ro" {
            return args.get(1).copied().into_iter().collect();
        }
        let n = args
            .get(1)
            .and_then(|a| ferrokey_resp::parse_i64(a))
            .unwrap_or(0)
            .max(0) as usize;
        return args.iter().skip(2).take(n).copied().collect();
    }
    spec.key_positions(args.len())
        .into_iter()
        .map(|p| args[p])
        .collect()
}

/// Sends one invalidation (of `keys`, or of everything when `None`) to a
/// tracking client, through its redirect target when it has one. `late`
/// holds it back until the client's current reply has been written.
fn send(
    registry: &Registry,
    client: &Arc<ClientHandle>,
    mode: &Mode,
    keys: Option<&[&[u8]]>,
    late: bool,
) {
    let mut to = client.clone();
    let mut redirected = false;
    if mode.redirect != 0 {
        match registry.get(mode.redirect) {
            Some(r) => {
                to = r;
                redirected = true;
            }
            None => {
                client.tracking.lock().broken_redirect = true;
                if client.resp.load(Ordering::Relaxed) >= 3 {
                    let f = Frame::Push(vec![
                        Frame::bulk(b"tracking-redir-broken"),
                        Frame::Integer(mode.redirect as i64),
                    ]);
                    push(client, &f, 3, late);
                }
                return;
            }
        }
    }
    let payload = match keys {
        Some(keys) => Frame::Array(keys.iter().map(Frame::bulk).collect()),
        None => Frame::Null,
    };
    let resp = to.resp.load(Ordering::Relaxed) as u8;
    let subscribed = to.sub_counts.iter().any(|c| c.load(Ordering::Relaxed) > 0);
    let frame = if resp >= 3 {
        Frame::Push(vec![Frame::bulk(b"invalidate"), payload])
    } else if redirected && subscribed {
        Frame::Push(vec![
            Frame::bulk(b"message"),
            Frame::bulk(b"__redis__:invalidate"),
            payload,
        ])
    } else {
        return;
    };
    let late = late && Arc::ptr_eq(&to, client);
    push(&to, &frame, resp, late);
}

fn push(to: &ClientHandle, frame: &Frame, resp: u8, late: bool) {
    let mut bytes = Vec::new();
    encode(frame, resp, &mut bytes);
    if late {
        to.late.push_bytes(&bytes);
    } else {
        to.outbox.push_bytes(&bytes);
    }
    to.wake();
}
