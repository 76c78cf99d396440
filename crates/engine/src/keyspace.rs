//! The sharded keyspace: databases split into shards, each behind its own
//! lock, with per-key expiry.
//!
//! A key's 64-bit hash chooses its shard (the top bits) and orders SCAN (the
//! whole hash is the cursor), so a cursor stays meaningful however shards
//! grow, shrink or rehash.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;
use parking_lot::{Mutex, MutexGuard};

use crate::blocking::{BlockState, Waiter};
use crate::client::Registry;
use crate::tracking::Tracking;
use crate::value::Value;

/// Shards per database, a power of two well above any thread count.
pub const SHARD_BITS: u32 = 8;
/// See [`SHARD_BITS`].
pub const SHARDS: usize = 1 << SHARD_BITS;

/// A key's value and metadata handed out by value when the key is
/// removed. In the table the same facts sit in a [`Slot`].
#[derive(Debug)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 when the key does not expire.
    expire_ms: u64,
    /// The access stamp: the LRU clock at the last access, or under an LFU
    /// policy the minute of the last access and a counter (`evict`).
    pub lru: u32,
}

impl Entry {
    /// An entry for a value with a deadline (0: none) and access stamp.
    pub fn new(value: Value, expire_ms: u64, lru: u32) -> Entry {
        Entry {
            value,
            expire_ms,
            lru,
        }
    }

    /// Absolute expiry in Unix milliseconds, if any.
    pub fn expire_ms(&self) -> Option<u64> {
        (self.expire_ms != 0).then_some(self.expire_ms)
    }
}

pub use crate::slot::Slot;

/// The hasher shared by every shard, seeded once per process.
#[derive(Debug, Clone)]
pub struct KeyHasher(foldhash::quality::FixedState);

impl KeyHasher {
    /// Creates a hasher with a random seed.
    pub fn new() -> Self {
        KeyHasher(foldhash::quality::FixedState::with_seed(rand::random()))
    }

    /// Hashes a key.
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.0.hash_one(key)
    }
}

impl Default for KeyHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// The hash a shard's table files a key under. The table takes its bucket
/// from a hash's low bits and a one-byte tag from its top 7 bits, which
/// are the shard's own number (the same for every key in the shard) and
/// so would tell no key apart: rotating brings varied bits to the top.
#[inline]
fn tab(h: u64) -> u64 {
    h.rotate_right(7)
}

/// The shard a hash belongs to.
#[inline]
pub fn shard_of(hash: u64) -> usize {
    (hash >> (64 - SHARD_BITS)) as usize
}

/// One shard: a hash table of entries plus the list of keys with a TTL.
///
/// The table holds slots (entry and key in one allocation): a bucket is
/// one pointer, so the empty half of a hash table costs 9 bytes a bucket
/// instead of a whole entry.
#[derive(Debug, Default)]
pub struct Shard {
    table: HashTable<Slot>,
    /// The keys with a TTL.
    ttl: TtlList,
    /// The keys clients WATCH or wait on; `None` while there are none, so
    /// that writes pay one check, and an idle shard stays small (a server
    /// has 16 x 256 shards before it holds a key).
    waits: Option<Box<Waits>>,
    /// Where changes to keys are reported (blocked clients, client-side
    /// caching); `None` in stand-alone shards (unit tests).
    signals: Option<Arc<DbHooks>>,
    /// While a snapshot has not yet written this shard: the version, as of
    /// the snapshot's instant, of every key changed since (`None`: the
    /// key did not exist). See `crate::snapshot`.
    cow: Option<Box<Kept>>,
}

/// The keys of a shard that clients watch or wait on. Like the rest of a
/// shard's bookkeeping they belong to the database index and stay put on
/// SWAPDB.
#[derive(Debug, Default)]
struct Waits {
    /// Keys some client WATCHes: how many watchers, and an epoch bumped on
    /// every change to the key, which EXEC compares with the epoch seen at
    /// WATCH time.
    watched: HashMap<Box<[u8]>, Watched>,
    /// Clients blocked on keys, per key in the order they blocked.
    blocked: HashMap<Box<[u8]>, VecDeque<Arc<Waiter>>>,
}

/// The keys of a shard that have a TTL: the hash of each, in no order. A
/// key's slot holds its position here, so removal is a swap with the last
/// one, and the hash with the position finds the slot again (two keys may
/// share a hash, never a position). The active expiry cycle walks the
/// list with a cursor and eviction samples it, as Redis walks and samples
/// its `expires` dict; a key with a TTL costs 8 bytes here.
#[derive(Debug, Default)]
struct TtlList {
    hashes: Vec<u64>,
    /// Where the active expiry cycle goes on.
    cursor: usize,
    /// Sum of the deadlines, for INFO's avg_ttl: a `u128` kept as two
    /// halves, low first, so that it does not make every shard 16-aligned.
    deadline_sum: [u64; 2],
}

impl TtlList {
    /// Sum of the deadlines.
    fn deadline_sum(&self) -> u128 {
        u128::from(self.deadline_sum[0]) | (u128::from(self.deadline_sum[1]) << 64)
    }

    /// Changes the sum of the deadlines: one deadline in, another out.
    fn adjust_sum(&mut self, added: u64, removed: u64) {
        let sum = self.deadline_sum() + u128::from(added) - u128::from(removed);
        self.deadline_sum = [sum as u64, (sum >> 64) as u64];
    }

    /// Adds a key with hash `h` (deadline 0: none); returns the deadline
    /// and position its slot records.
    fn add(&mut self, deadline: u64, h: u64) -> Option<(u64, u32)> {
        if deadline == 0 {
            return None;
        }
        let pos = u32::try_from(self.hashes.len()).unwrap_or_else(|_| panic!("too many keys"));
        self.hashes.push(h);
        self.adjust_sum(deadline, 0);
        Some((deadline, pos))
    }

    /// Takes a slot that has left `table` off the list.
    fn remove_slot(&mut self, table: &mut HashTable<Slot>, slot: &Slot) {
        if let Some(pos) = slot.pos() {
            self.remove_at(table, pos, slot.expire_ms().unwrap_or(0));
        }
    }

    /// Empties position `pos` (its key's deadline was `deadline`): the
    /// last key moves there, and its slot in `table` learns so.
    fn remove_at(&mut self, table: &mut HashTable<Slot>, pos: u32, deadline: u64) {
        let p = pos as usize;
        let last = self.hashes.len() - 1;
        self.adjust_sum(0, deadline);
        self.hashes.swap_remove(p);
        if p != last {
            let moved = self.hashes[p];
            match table.find_mut(tab(moved), |e| e.pos() == Some(last as u32)) {
                Some(e) => e.set_pos(pos),
                None => debug_assert!(false, "TTL list names a missing key"),
            }
        }
    }

    /// The slot at position `pos`.
    fn get<'t>(&self, table: &'t HashTable<Slot>, pos: usize) -> Option<&'t Slot> {
        let h = *self.hashes.get(pos)?;
        table.find(tab(h), |e| e.pos() == Some(pos as u32))
    }
}

/// Versions kept for a snapshot in progress, by key (`None`: the key did
/// not exist at the snapshot's instant).
pub type Kept = HashMap<Box<[u8]>, Option<Saved>>;

/// A key's value and deadline kept for a snapshot in progress.
#[derive(Debug)]
pub struct Saved {
    /// The value.
    pub value: Value,
    /// Absolute expiry in Unix ms; 0 when none.
    pub expire_ms: u64,
}

/// What a shard tells about changed keys: clients blocked on them and
/// clients caching them.
#[derive(Debug, Clone)]
pub struct Hooks {
    /// Blocked clients.
    pub blocking: Arc<BlockState>,
    /// CLIENT TRACKING tables.
    pub tracking: Arc<Tracking>,
    /// Connected clients (to find tracking clients by id).
    pub clients: Arc<Registry>,
}

/// A database's [`Hooks`] and its index, shared by its shards.
#[derive(Debug)]
struct DbHooks {
    hooks: Hooks,
    db: usize,
}

/// Watch bookkeeping for one key.
#[derive(Debug, Default, Clone, Copy)]
pub struct Watched {
    /// Clients watching the key.
    pub watchers: u32,
    /// Bumped on every modification.
    pub epoch: u64,
}

/// What happened to a key on access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Not there.
    Missing,
    /// It was there but had expired; it is gone now.
    Expired,
    /// Present.
    Found,
}

impl Shard {
    /// Number of keys, including expired keys not yet removed.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Bytes of the table itself: a pointer and a control byte per bucket.
    pub fn table_bytes(&self) -> usize {
        self.table.num_buckets() * (std::mem::size_of::<Slot>() + 1)
    }

    /// Whether the shard holds no key.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Whether some key has a TTL.
    #[inline]
    pub fn has_volatile(&self) -> bool {
        !self.ttl.hashes.is_empty()
    }

    /// Number of keys with a TTL.
    pub fn volatile_len(&self) -> usize {
        self.ttl.hashes.len()
    }

    fn find_mut(&mut self, h: u64, key: &[u8]) -> Option<&mut Slot> {
        self.preserve(h, key);
        self.table.find_mut(tab(h), |e| e.key() == key)
    }

    /// Keeps the current version of `key` for the snapshot in progress,
    /// before anything may change it (copy-on-write at value
    /// granularity); only the first change since the snapshot began
    /// copies.
    #[inline]
    fn preserve(&mut self, h: u64, key: &[u8]) {
        let Some(cow) = self.cow.as_mut() else {
            return;
        };
        if cow.contains_key(key) {
            return;
        }
        // A key that is not there needs nothing kept until it is created
        // (`insert` records its absence).
        if let Some(e) = self.table.find(tab(h), |e| e.key() == key) {
            let saved = Saved {
                value: e.value().clone(),
                expire_ms: e.expire_ms().unwrap_or(0),
            };
            cow.insert(key.into(), Some(saved));
        }
    }

    /// Starts copy-on-write for a snapshot taken now.
    pub fn cow_begin(&mut self) {
        self.cow = Some(Box::default());
    }

    /// Ends copy-on-write: returns the kept versions, for the snapshot to
    /// write instead of the current ones.
    pub fn cow_take(&mut self) -> Kept {
        self.cow.take().map(|b| *b).unwrap_or_default()
    }

    /// Looks a key up, removing it first if it has expired at `now_ms`.
    pub fn lookup(&mut self, h: u64, key: &[u8], now_ms: u64) -> (Lookup, Option<&mut Slot>) {
        // One probe: the occupied entry either hands out the value or is
        // removed in place when its deadline has passed.
        self.preserve(h, key);
        let Ok(found) = self.table.find_entry(tab(h), |e| e.key() == key) else {
            return (Lookup::Missing, None);
        };
        if !found.get().expired(now_ms) {
            return (Lookup::Found, Some(found.into_mut()));
        }
        // An expired key is already gone for every client: removing it is
        // no modification for WATCH (EXEC checks liveness separately).
        let (slot, vacant) = found.remove();
        self.ttl.remove_slot(vacant.into_table(), &slot);
        invalidate_in(&self.signals, slot.key());
        crate::lazyfree::expired(slot.into_entry().value);
        (Lookup::Expired, None)
    }

    /// Finds a key's entry whatever its deadline: an expired key not yet
    /// removed is found too (MEMORY USAGE sees it, as Redis's does).
    pub fn find(&self, h: u64, key: &[u8]) -> Option<&Slot> {
        self.table.find(tab(h), |e| e.key() == key)
    }

    /// Looks a key up without removing it even if it is expired; expired
    /// keys read as absent.
    pub fn peek(&self, h: u64, key: &[u8], now_ms: u64) -> Option<&Slot> {
        self.table
            .find(tab(h), |e| e.key() == key)
            .filter(|e| !e.expired(now_ms))
    }

    /// Stores `value` under `key`, replacing any old value; the TTL becomes
    /// `expire_ms` (0: none). Returns the old entry.
    pub fn insert(
        &mut self,
        hasher: &KeyHasher,
        h: u64,
        key: &[u8],
        value: Value,
        expire_ms: u64,
        lru: u32,
    ) -> Option<Entry> {
        let old = self.remove(h, key);
        if let Some(cow) = self.cow.as_mut() {
            // Created after the snapshot's instant: not in the snapshot.
            if !cow.contains_key(key) {
                cow.insert(key.into(), None);
            }
        }
        self.touch(key);
        let expiry = self.ttl.add(expire_ms, h);
        self.table
            .insert_unique(tab(h), Slot::new(key, value, lru, expiry), |e| {
                tab(hasher.hash(e.key()))
            });
        old
    }

    /// Replaces the value of an existing live key, keeping its TTL unless
    /// `expire_ms` says otherwise. Returns false when the key is missing.
    pub fn replace_value(&mut self, h: u64, key: &[u8], value: Value) -> bool {
        match self.find_mut(h, key) {
            Some(e) => {
                *e.value_mut() = value;
                true
            }
            None => false,
        }
    }

    /// Removes a key, returning its entry.
    pub fn remove(&mut self, h: u64, key: &[u8]) -> Option<Entry> {
        self.preserve(h, key);
        let slot = self
            .table
            .find_entry(tab(h), |e| e.key() == key)
            .ok()?
            .remove()
            .0;
        self.touch(key);
        self.ttl.remove_slot(&mut self.table, &slot);
        Some(slot.into_entry())
    }

    /// Sets or clears (0) the TTL of an existing key. Returns false when the
    /// key is missing.
    pub fn set_expire(&mut self, h: u64, key: &[u8], expire_ms: u64) -> bool {
        self.preserve(h, key);
        let Some(e) = self.table.find_mut(tab(h), |e| e.key() == key) else {
            return false;
        };
        let old = e.expire_ms();
        match (e.pos(), expire_ms) {
            (Some(pos), 0) => {
                e.set_expiry(None);
                self.ttl.remove_at(&mut self.table, pos, old.unwrap_or(0));
            }
            (Some(pos), d) => {
                e.set_expiry(Some((d, pos)));
                self.ttl.adjust_sum(d, old.unwrap_or(0));
            }
            (None, 0) => {}
            (None, d) => {
                e.set_expiry(self.ttl.add(d, h));
            }
        }
        self.touch(key);
        true
    }

    /// One step of active expiry: looks at up to `budget` keys with a TTL
    /// from where the last step stopped, removing those whose deadline is
    /// at or before `now_ms` and calling `on_expired` with each. Returns
    /// how many keys it looked at and how many it removed.
    pub fn expire_scan(
        &mut self,
        now_ms: u64,
        budget: usize,
        on_expired: &mut dyn FnMut(&[u8], Value),
    ) -> (usize, usize) {
        let (mut seen, mut removed) = (0, 0);
        let budget = budget.min(self.ttl.hashes.len());
        while seen < budget && !self.ttl.hashes.is_empty() {
            if self.ttl.cursor >= self.ttl.hashes.len() {
                self.ttl.cursor = 0;
            }
            let pos = self.ttl.cursor;
            seen += 1;
            let key = match self.ttl.get(&self.table, pos) {
                Some(e) if e.expired(now_ms) => Box::<[u8]>::from(e.key()),
                Some(_) => {
                    self.ttl.cursor += 1;
                    continue;
                }
                None => {
                    // The list and the table disagree: a programming error.
                    debug_assert!(false, "TTL list names a missing key");
                    self.ttl.cursor += 1;
                    continue;
                }
            };
            // Not a modification for WATCH, as for lazy expiry.
            let h = self.ttl.hashes[pos];
            self.preserve(h, &key);
            if let Ok(o) = self
                .table
                .find_entry(tab(h), |e| e.pos() == Some(pos as u32))
            {
                let (slot, vacant) = o.remove();
                // The last key moves to `pos`: the cursor stays to see it.
                self.ttl.remove_slot(vacant.into_table(), &slot);
                self.invalidate(&key);
                // The value goes to the caller, which frees it in the
                // background under lazyfree-lazy-expire.
                on_expired(&key, slot.into_entry().value);
                removed += 1;
            }
        }
        (seen, removed)
    }

    /// A random entry, live or expired; `r` is a random number. Probes
    /// from a random bucket to the next occupied one, so a key's chance
    /// depends a little on the empty buckets before it, as with Redis's
    /// `dictGetRandomKey`.
    pub fn random_entry(&self, r: u64) -> Option<&Slot> {
        if self.table.is_empty() {
            return None;
        }
        let n = self.table.num_buckets();
        let start = (r % n as u64) as usize;
        (0..n).find_map(|i| self.table.get_bucket((start + i) % n))
    }

    /// A random key with a TTL, each equally likely; `r` is a random number.
    pub fn random_volatile(&self, r: u64) -> Option<&Slot> {
        if self.ttl.hashes.is_empty() {
            return None;
        }
        self.ttl
            .get(&self.table, (r % self.ttl.hashes.len() as u64) as usize)
    }

    /// Iterates over live and expired entries alike.
    pub fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.table.iter()
    }

    /// Removes every key (FLUSHDB). A watched key counts as modified only
    /// if it held a live value: flushing a missing or already expired key
    /// changes nothing a client could see.
    /// Returns the old table, for the caller to free outside the lock (or
    /// in the background, FLUSHALL ASYNC).
    pub fn clear(&mut self, hasher: &KeyHasher, now_ms: u64) -> Detached {
        self.touch_live_watched(hasher, now_ms, None);
        if let Some(cow) = self.cow.as_mut() {
            // A snapshot still to write this shard keeps what it held: the
            // entries move into the kept versions (no copy).
            for e in self.table.drain() {
                let key = Box::<[u8]>::from(e.key());
                let e = e.into_entry();
                cow.entry(key).or_insert(Some(Saved {
                    expire_ms: e.expire_ms,
                    value: e.value,
                }));
            }
        }
        let old = std::mem::take(&mut self.table);
        self.ttl = TtlList::default();
        // XREADGROUP waiters learn that their stream is gone.
        self.signal_blocked();
        Detached(old)
    }

    /// Bumps the epoch of every watched key that is live here or, when
    /// given, in `other` (the data about to replace this shard's).
    fn touch_live_watched(&mut self, hasher: &KeyHasher, now_ms: u64, other: Option<&Shard>) {
        let Some(waits) = &self.waits else {
            return;
        };
        let live: Vec<Box<[u8]>> = waits
            .watched
            .keys()
            .filter(|k| {
                let h = hasher.hash(k);
                self.peek(h, k, now_ms).is_some()
                    || other.is_some_and(|o| o.peek(h, k, now_ms).is_some())
            })
            .cloned()
            .collect();
        for k in live {
            self.touch(&k);
        }
    }

    /// Whether some client WATCHes `key`.
    #[inline]
    pub fn is_watched(&self, key: &[u8]) -> bool {
        self.waits
            .as_ref()
            .is_some_and(|w| w.watched.contains_key(key))
    }

    /// Records a modification of `key` for WATCH, and marks it ready for
    /// clients blocked on it.
    #[inline]
    pub fn touch(&mut self, key: &[u8]) {
        crate::propagate::order();
        if let Some(waits) = self.waits.as_mut() {
            if let Some(w) = waits.watched.get_mut(key) {
                w.epoch += 1;
            }
            if waits.blocked.contains_key(key) {
                self.signal(key);
            }
        }
        self.invalidate(key);
    }

    fn signal(&self, key: &[u8]) {
        if let Some(s) = &self.signals {
            s.hooks.blocking.signal(s.db, key);
        }
    }

    /// Marks every key that clients wait on as ready.
    fn signal_blocked(&self) {
        if let Some(waits) = &self.waits {
            for k in waits.blocked.keys() {
                self.signal(k);
            }
        }
    }

    /// The watch and wait tables, made when first needed.
    fn waits_mut(&mut self) -> &mut Waits {
        self.waits.get_or_insert_with(Box::default)
    }

    /// Drops the watch and wait tables once both are empty.
    fn tidy_waits(&mut self) {
        if self
            .waits
            .as_ref()
            .is_some_and(|w| w.watched.is_empty() && w.blocked.is_empty())
        {
            self.waits = None;
        }
    }

    /// Tells clients caching `key` that it changed.
    #[inline]
    fn invalidate(&self, key: &[u8]) {
        invalidate_in(&self.signals, key);
    }

    /// Whether a change to `key` must be reported before it happens (a
    /// watcher, or clients that may cache it).
    #[inline]
    pub fn observed(&self, key: &[u8]) -> bool {
        self.is_watched(key)
            || self
                .signals
                .as_ref()
                .is_some_and(|s| s.hooks.tracking.active())
    }

    /// Queues a waiter on `key`; returns whether it is the key's first
    /// waiter, and its first waiter that wakes when the key is deleted.
    pub fn block(&mut self, key: &[u8], w: Arc<Waiter>) -> (bool, bool) {
        let q = self.waits_mut().blocked.entry(key.into()).or_default();
        let first_nokey = w.on_nokey() && !q.iter().any(|x| x.on_nokey());
        q.push_back(w);
        (q.len() == 1, first_nokey)
    }

    /// Removes a waiter from `key`'s queue; returns whether the queue
    /// became empty, and whether its last waiter that wakes when the key
    /// is deleted left.
    pub fn unblock(&mut self, key: &[u8], w: &Arc<Waiter>) -> (bool, bool) {
        let Some(waits) = self.waits.as_mut() else {
            return (false, false);
        };
        let Some(q) = waits.blocked.get_mut(key) else {
            return (false, false);
        };
        let before = q.len();
        q.retain(|x| !Arc::ptr_eq(x, w));
        let last_nokey = q.len() < before && w.on_nokey() && !q.iter().any(|x| x.on_nokey());
        if q.is_empty() {
            waits.blocked.remove(key);
            self.tidy_waits();
            return (true, last_nokey);
        }
        (false, last_nokey)
    }

    /// The waiters on `key` that are still waiting, in the order they
    /// blocked.
    pub fn waiters(&self, key: &[u8]) -> Vec<Arc<Waiter>> {
        let q = self.waits.as_ref().and_then(|w| w.blocked.get(key));
        q.map_or_else(Vec::new, |q| {
            q.iter().filter(|w| !w.is_done()).cloned().collect()
        })
    }

    /// Starts watching `key`; returns its current epoch.
    pub fn watch(&mut self, key: &[u8]) -> u64 {
        let w = self.waits_mut().watched.entry(key.into()).or_default();
        w.watchers += 1;
        w.epoch
    }

    /// Stops one watcher of `key`.
    pub fn unwatch(&mut self, key: &[u8]) {
        let Some(waits) = self.waits.as_mut() else {
            return;
        };
        if let Some(w) = waits.watched.get_mut(key) {
            w.watchers -= 1;
            if w.watchers == 0 {
                waits.watched.remove(key);
                self.tidy_waits();
            }
        }
    }

    /// The current epoch of a watched key.
    pub fn watch_epoch(&self, key: &[u8]) -> u64 {
        self.waits
            .as_ref()
            .and_then(|w| w.watched.get(key))
            .map_or(0, |w| w.epoch)
    }

    /// Swaps the data (not the watch table, which belongs to the database
    /// index) with another shard (SWAPDB). A watched key counts as modified
    /// when it is live on either side of the swap.
    pub fn swap_data(&mut self, other: &mut Shard, hasher: &KeyHasher, now_ms: u64) {
        self.touch_live_watched(hasher, now_ms, Some(other));
        other.touch_live_watched(hasher, now_ms, Some(self));
        std::mem::swap(&mut self.table, &mut other.table);
        std::mem::swap(&mut self.ttl, &mut other.ttl);
        // Clients blocked on a key that changed may be served (or, for
        // XREADGROUP, told that their stream is gone).
        self.signal_blocked();
        other.signal_blocked();
    }

    /// Sum of the TTLs left on volatile keys and their count, for INFO's
    /// avg_ttl.
    pub fn ttl_sum(&self, now_ms: u64) -> (u128, usize) {
        let n = self.ttl.hashes.len();
        let now = u128::from(now_ms) * n as u128;
        (self.ttl.deadline_sum().saturating_sub(now), n)
    }

    /// Picks the `n`-th entry in table order.
    pub fn nth(&self, n: usize) -> Option<&Slot> {
        self.table.iter().nth(n)
    }
}

/// Tells clients caching `key` that it changed; a function on the field so
/// that it can run while the table is borrowed.
#[inline]
fn invalidate_in(signals: &Option<Arc<DbHooks>>, key: &[u8]) {
    if let Some(s) = signals {
        if s.hooks.tracking.active() {
            s.hooks.tracking.invalidate(&s.hooks.clients, key);
        }
    }
}

/// The keys a shard held when it was cleared, freed when dropped.
#[derive(Debug)]
pub struct Detached(HashTable<Slot>);

impl Detached {
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One logical database (`SELECT n`).
#[derive(Debug)]
pub struct Db {
    shards: Box<[Mutex<Shard>]>,
}

impl Default for Db {
    fn default() -> Self {
        Db {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }
}

impl Db {
    /// Database `index`, whose shards report changed keys to `hooks`.
    pub fn new(index: usize, hooks: &Hooks) -> Self {
        let signals = Arc::new(DbHooks {
            hooks: hooks.clone(),
            db: index,
        });
        Db {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        signals: Some(signals.clone()),
                        ..Shard::default()
                    })
                })
                .collect(),
        }
    }

    /// Locks shard `i`.
    #[inline]
    pub fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].lock()
    }

    /// Number of keys, counting expired keys not yet removed.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// Whether the database holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of keys with a TTL.
    pub fn volatile_len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().volatile_len()).sum()
    }

    /// Removes every key; returns how many there were.
    /// Frees the keys in place, or in the background when `lazy` is given
    /// (FLUSHDB ASYNC).
    pub fn clear(
        &self,
        hasher: &KeyHasher,
        now_ms: u64,
        lazy: Option<&crate::lazyfree::LazyFree>,
    ) -> usize {
        let mut n = 0;
        for s in self.shards.iter() {
            let mut g = s.lock();
            n += g.len();
            let old = g.clear(hasher, now_ms);
            drop(g);
            match lazy {
                Some(lf) if !old.is_empty() => {
                    let count = old.len() as u64;
                    lf.hand_over(Box::new(old), count);
                }
                _ => drop(old),
            }
        }
        n
    }
}

/// A database plus the locks a command holds on it.
#[derive(Debug)]
pub struct Locked<'a> {
    guards: Vec<(usize, MutexGuard<'a, Shard>)>,
}

impl<'a> Locked<'a> {
    /// Locks the shards of `hashes` in ascending shard order, each once.
    pub fn new(db: &'a Db, hashes: impl Iterator<Item = u64>) -> Self {
        let mut idx: Vec<usize> = hashes.map(shard_of).collect();
        idx.sort_unstable();
        idx.dedup();
        Locked {
            guards: idx.into_iter().map(|i| (i, db.lock(i))).collect(),
        }
    }

    /// The locked shard holding the key with hash `h`.
    ///
    /// # Panics
    /// If the shard was not locked: a programming error in the caller.
    pub fn shard(&mut self, h: u64) -> &mut Shard {
        let i = shard_of(h);
        let pos = self
            .guards
            .binary_search_by_key(&i, |(j, _)| *j)
            .unwrap_or_else(|_| panic!("shard {i} used without being locked"));
        &mut self.guards[pos].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Str;

    #[test]
    fn an_idle_shard_stays_small() {
        // A server holds 16 x 256 shards before its first key; what each
        // costs shows in every `used_memory`.
        assert!(std::mem::size_of::<Mutex<Shard>>() <= 112);
    }

    fn v(s: &str) -> Value {
        Value::Str(Str::from_bytes(s.as_bytes()))
    }

    #[test]
    fn expiry_is_lazy_and_active() {
        let hs = KeyHasher::new();
        let mut s = Shard::default();
        let (a, b) = (hs.hash(b"a"), hs.hash(b"b"));
        s.insert(&hs, a, b"a", v("1"), 100, 0);
        s.insert(&hs, b, b"b", v("2"), 200, 0);
        assert_eq!(s.lookup(a, b"a", 99).0, Lookup::Found);
        assert_eq!(s.lookup(a, b"a", 100).0, Lookup::Expired);
        assert_eq!(s.len(), 1);
        let mut gone = Vec::new();
        assert_eq!(
            s.expire_scan(250, 10, &mut |k, _| gone.push(k.to_vec())),
            (1, 1)
        );
        assert_eq!(gone, vec![b"b".to_vec()]);
        assert!(s.is_empty());
        assert_eq!(s.volatile_len(), 0);
    }

    #[test]
    fn keys_sharing_a_deadline_all_expire() {
        // Many keys with one deadline: the index finds each by its full
        // hash, never a neighbour whose table tag happens to match.
        let hs = KeyHasher::new();
        let mut s = Shard::default();
        for i in 0..5000 {
            let k = format!("k{i}");
            s.insert(&hs, hs.hash(k.as_bytes()), k.as_bytes(), v("1"), 100, 0);
        }
        let mut gone = 0;
        assert_eq!(
            s.expire_scan(100, 10_000, &mut |_, _| gone += 1),
            (5000, 5000)
        );
        assert_eq!(gone, 5000);
        assert!(s.is_empty());
        assert!(!s.has_volatile());
    }

    #[test]
    fn random_picks_reach_every_key() {
        let hs = KeyHasher::new();
        let mut s = Shard::default();
        for i in 0..50 {
            let k = format!("k{i}");
            let ttl = if i % 2 == 0 { 1000 + i } else { 0 };
            s.insert(&hs, hs.hash(k.as_bytes()), k.as_bytes(), v("1"), ttl, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut volatile = std::collections::HashSet::new();
        for r in 0..20_000u64 {
            let r = r.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            seen.insert(s.random_entry(r).unwrap().key().to_vec());
            let e = s.random_volatile(r).unwrap();
            assert!(e.expire_ms().is_some());
            volatile.insert(e.key().to_vec());
        }
        assert_eq!(seen.len(), 50);
        assert_eq!(volatile.len(), 25);
    }

    /// Every slot with a TTL sits at its own position of the list, and the
    /// list holds nothing else.
    fn check_ttl_list(s: &Shard, hs: &KeyHasher) {
        let mut seen = vec![false; s.ttl.hashes.len()];
        let mut sum = 0u128;
        for e in s.table.iter() {
            assert_eq!(e.pos().is_some(), e.expire_ms().is_some());
            if let Some(p) = e.pos() {
                let p = p as usize;
                assert_eq!(s.ttl.hashes[p], hs.hash(e.key()));
                assert!(!std::mem::replace(&mut seen[p], true));
                sum += u128::from(e.expire_ms().unwrap());
            }
        }
        assert!(seen.iter().all(|&x| x));
        assert_eq!(s.ttl.deadline_sum(), sum);
    }

    #[test]
    fn ttl_list_follows_random_changes() {
        let hs = KeyHasher::new();
        let mut s = Shard::default();
        let mut model: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for step in 0..40_000u64 {
            let r = next();
            let k = format!("k{}", r % 300).into_bytes();
            let h = hs.hash(&k);
            let deadline = if r % 3 == 0 {
                0
            } else {
                1000 + (r >> 20) % 5000
            };
            match (r >> 8) % 5 {
                0 | 1 => {
                    s.insert(&hs, h, &k, v("x"), deadline, 0);
                    model.insert(k, deadline);
                }
                2 => {
                    assert_eq!(s.remove(h, &k).is_some(), model.remove(&k).is_some());
                }
                3 => {
                    let present = s.set_expire(h, &k, deadline);
                    assert_eq!(present, model.contains_key(&k));
                    if present {
                        model.insert(k, deadline);
                    }
                }
                _ => {
                    let now = 1000 + step % 6000;
                    s.expire_scan(now, 20, &mut |k, _| {
                        let d = model.remove(k).unwrap();
                        assert!(d != 0 && d <= now);
                    });
                }
            }
            if step % 500 == 0 {
                check_ttl_list(&s, &hs);
            }
        }
        check_ttl_list(&s, &hs);
        assert_eq!(s.len(), model.len());
        assert_eq!(
            s.volatile_len(),
            model.values().filter(|&&d| d != 0).count()
        );
    }

    #[test]
    fn overwrite_clears_old_ttl() {
        let hs = KeyHasher::new();
        let mut s = Shard::default();
        let a = hs.hash(b"a");
        s.insert(&hs, a, b"a", v("1"), 100, 0);
        s.insert(&hs, a, b"a", v("2"), 0, 0);
        assert_eq!(s.volatile_len(), 0);
        assert!(s.set_expire(a, b"a", 50));
        assert!(s.set_expire(a, b"a", 0));
        assert_eq!(s.volatile_len(), 0);
    }
}
