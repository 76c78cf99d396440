//! The sharded keyspace: databases split into shards, each behind its own
//! lock, with per-key expiry.
//!
//! A key's 64-bit hash chooses its shard (the top bits) and orders SCAN (the
//! whole hash is the cursor), so a cursor stays meaningful however shards
//! grow, shrink or rehash.

use std::collections::{BTreeMap, HashMap, VecDeque};
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

/// A stored key's value and metadata. In the table it sits at the start
/// of a [`Slot`], followed by the key's bytes; handed out by value when a
/// key is removed.
#[derive(Debug)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 when the key does not expire.
    expire_ms: u64,
    /// The access stamp: the LRU clock at the last access, or under an LFU
    /// policy the minute of the last access and a counter (`evict`).
    pub lru: u32,
    /// Length of the key bytes that follow in the slot.
    pub(crate) klen: u32,
}

impl Entry {
    /// An entry for a value with a deadline (0: none) and access stamp.
    pub fn new(value: Value, expire_ms: u64, lru: u32) -> Entry {
        Entry {
            value,
            expire_ms,
            lru,
            klen: 0,
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

/// One shard: a hash table of entries plus an index of deadlines.
///
/// The table holds slots (entry and key in one allocation): a bucket is
/// one pointer, so the empty half of a hash table costs 9 bytes a bucket
/// instead of a whole entry.
#[derive(Debug, Default)]
pub struct Shard {
    table: HashTable<Slot>,
    /// (deadline, key) for every key with a TTL, so that the active expiry
    /// cycle finds due keys without scanning.
    /// Keyed by (deadline, key hash) rather than a copy of the key, which
    /// keeps a volatile key's extra cost to one small tree slot; the count
    /// covers two keys sharing both hash and deadline.
    expires: BTreeMap<(u64, u64), u32>,
    /// Keys some client WATCHes: how many watchers, and an epoch bumped on
    /// every change to the key, which EXEC compares with the epoch seen at
    /// WATCH time. Empty unless someone watches, so writes pay one check.
    watched: HashMap<Box<[u8]>, Watched>,
    /// Clients blocked on keys of this shard, per key in the order they
    /// blocked. Like the watch table it belongs to the database index and
    /// stays put on SWAPDB.
    blocked: HashMap<Box<[u8]>, VecDeque<Arc<Waiter>>>,
    /// Where changes to keys are reported (blocked clients, client-side
    /// caching), and this shard's database index; `None` in stand-alone
    /// shards (unit tests).
    signals: Option<(Arc<Hooks>, usize)>,
    /// While a snapshot has not yet written this shard: the version, as of
    /// the snapshot's instant, of every key changed since (`None`: the
    /// key did not exist). See `crate::snapshot`.
    cow: Option<Box<Kept>>,
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
#[derive(Debug)]
pub struct Hooks {
    /// Blocked clients.
    pub blocking: Arc<BlockState>,
    /// CLIENT TRACKING tables.
    pub tracking: Arc<Tracking>,
    /// Connected clients (to find tracking clients by id).
    pub clients: Arc<Registry>,
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
        !self.expires.is_empty()
    }

    /// Number of keys with a TTL.
    pub fn volatile_len(&self) -> usize {
        self.expires.values().map(|&n| n as usize).sum()
    }

    fn find_mut(&mut self, h: u64, key: &[u8]) -> Option<&mut Entry> {
        self.preserve(h, key);
        self.table
            .find_mut(tab(h), |e| e.key() == key)
            .map(|b| &mut **b)
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
                value: e.value.clone(),
                expire_ms: e.expire_ms,
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
    pub fn lookup(&mut self, h: u64, key: &[u8], now_ms: u64) -> (Lookup, Option<&mut Entry>) {
        // One probe: the occupied entry either hands out the value or is
        // removed in place when its deadline has passed.
        self.preserve(h, key);
        let Ok(found) = self.table.find_entry(tab(h), |e| e.key() == key) else {
            return (Lookup::Missing, None);
        };
        let e = found.get();
        if e.expire_ms == 0 || e.expire_ms > now_ms {
            return (Lookup::Found, Some(&mut **found.into_mut()));
        }
        // An expired key is already gone for every client: removing it is
        // no modification for WATCH (EXEC checks liveness separately).
        let slot = found.remove().0;
        unindex_in(&mut self.expires, slot.expire_ms, h);
        invalidate_in(&self.signals, slot.key());
        crate::lazyfree::expired(slot.into_entry().value);
        (Lookup::Expired, None)
    }

    /// Finds a key's entry whatever its deadline: an expired key not yet
    /// removed is found too (MEMORY USAGE sees it, as Redis's does).
    pub fn find(&self, h: u64, key: &[u8]) -> Option<&Entry> {
        self.table.find(tab(h), |e| e.key() == key).map(|b| &**b)
    }

    /// Looks a key up without removing it even if it is expired; expired
    /// keys read as absent.
    pub fn peek(&self, h: u64, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.table
            .find(tab(h), |e| e.key() == key)
            .map(|b| &**b)
            .filter(|e| e.expire_ms == 0 || e.expire_ms > now_ms)
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
        self.index(expire_ms, h);
        self.table.insert_unique(
            tab(h),
            Slot::new(key, Entry::new(value, expire_ms, lru)),
            |e| tab(hasher.hash(e.key())),
        );
        old
    }

    /// Replaces the value of an existing live key, keeping its TTL unless
    /// `expire_ms` says otherwise. Returns false when the key is missing.
    pub fn replace_value(&mut self, h: u64, key: &[u8], value: Value) -> bool {
        match self.find_mut(h, key) {
            Some(e) => {
                e.value = value;
                true
            }
            None => false,
        }
    }

    /// Removes a key, returning its entry.
    pub fn remove(&mut self, h: u64, key: &[u8]) -> Option<Entry> {
        self.preserve(h, key);
        let entry = self
            .table
            .find_entry(tab(h), |e| e.key() == key)
            .ok()?
            .remove()
            .0;
        self.touch(key);
        self.unindex(entry.expire_ms, h);
        Some(entry.into_entry())
    }

    /// Sets or clears (0) the TTL of an existing key. Returns false when the
    /// key is missing.
    pub fn set_expire(&mut self, h: u64, key: &[u8], expire_ms: u64) -> bool {
        self.preserve(h, key);
        let Some(e) = self.table.find_mut(tab(h), |e| e.key() == key) else {
            return false;
        };
        let old = std::mem::replace(&mut e.expire_ms, expire_ms);
        self.touch(key);
        self.unindex(old, h);
        self.index(expire_ms, h);
        true
    }

    /// Adds a deadline to the index (0: none).
    fn index(&mut self, deadline: u64, h: u64) {
        if deadline != 0 {
            *self.expires.entry((deadline, h)).or_insert(0) += 1;
        }
    }

    /// Removes a deadline from the index (0: none).
    fn unindex(&mut self, deadline: u64, h: u64) {
        unindex_in(&mut self.expires, deadline, h);
    }

    /// Removes up to `budget` keys whose deadline is at or before `now_ms`,
    /// calling `on_expired` with each; returns how many were removed.
    pub fn expire_due(
        &mut self,
        hasher: &KeyHasher,
        now_ms: u64,
        budget: usize,
        on_expired: &mut dyn FnMut(&[u8], Value),
    ) -> usize {
        let mut n = 0;
        while n < budget {
            let Some((&(deadline, h), _)) = self.expires.first_key_value() else {
                break;
            };
            if deadline > now_ms {
                break;
            }
            // Not a modification for WATCH, as for lazy expiry.
            match self
                .find_indexed(hasher, h, deadline)
                .map(|e| Box::<[u8]>::from(e.key()))
            {
                Some(k) => {
                    self.preserve(h, &k);
                    if let Ok(o) = self.table.find_entry(tab(h), |e| e.key() == &*k) {
                        let (e, _) = o.remove();
                        self.invalidate(&k);
                        // The value goes to the caller, which frees it in
                        // the background under lazyfree-lazy-expire.
                        on_expired(&k, e.into_entry().value);
                    }
                }
                None => {
                    // The index and the table disagree: a programming error.
                    debug_assert!(false, "expiry index names a missing entry");
                }
            }
            self.unindex(deadline, h);
            n += 1;
        }
        n
    }

    /// The entry an expiry index slot (deadline, hash) names. The full hash
    /// is compared, not only the table's tag: keys created together often
    /// share a deadline.
    fn find_indexed(&self, hasher: &KeyHasher, h: u64, deadline: u64) -> Option<&Slot> {
        self.table.find(tab(h), |e| {
            e.expire_ms == deadline && hasher.hash(e.key()) == h
        })
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

    /// A random key with a TTL: the first deadline at or after a random
    /// instant between the nearest and the farthest one.
    pub fn random_volatile(&self, hasher: &KeyHasher, r: u64) -> Option<&Slot> {
        let first = self.expires.first_key_value()?.0 .0;
        let last = self.expires.last_key_value()?.0 .0;
        let t = first + r % (last - first + 1);
        let (&(d, h), _) = self.expires.range((t, 0)..).next()?;
        self.find_indexed(hasher, h, d)
    }

    /// The key whose deadline is nearest.
    pub fn nearest_deadline(&self, hasher: &KeyHasher) -> Option<&Slot> {
        let (&(d, h), _) = self.expires.first_key_value()?;
        self.find_indexed(hasher, h, d)
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
                    value: e.value,
                    expire_ms: e.expire_ms,
                }));
            }
        }
        let old = std::mem::take(&mut self.table);
        self.expires.clear();
        // XREADGROUP waiters learn that their stream is gone.
        for k in self.blocked.keys() {
            self.signal(k);
        }
        Detached(old)
    }

    /// Bumps the epoch of every watched key that is live here or, when
    /// given, in `other` (the data about to replace this shard's).
    fn touch_live_watched(&mut self, hasher: &KeyHasher, now_ms: u64, other: Option<&Shard>) {
        if self.watched.is_empty() {
            return;
        }
        let live: Vec<Box<[u8]>> = self
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
        !self.watched.is_empty() && self.watched.contains_key(key)
    }

    /// Records a modification of `key` for WATCH, and marks it ready for
    /// clients blocked on it.
    #[inline]
    pub fn touch(&mut self, key: &[u8]) {
        crate::propagate::order();
        if !self.watched.is_empty() {
            if let Some(w) = self.watched.get_mut(key) {
                w.epoch += 1;
            }
        }
        if !self.blocked.is_empty() && self.blocked.contains_key(key) {
            self.signal(key);
        }
        self.invalidate(key);
    }

    fn signal(&self, key: &[u8]) {
        if let Some((hooks, db)) = &self.signals {
            hooks.blocking.signal(*db, key);
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
                .is_some_and(|(hooks, _)| hooks.tracking.active())
    }

    /// Queues a waiter on `key`; returns whether it is the key's first
    /// waiter, and its first waiter that wakes when the key is deleted.
    pub fn block(&mut self, key: &[u8], w: Arc<Waiter>) -> (bool, bool) {
        let q = self.blocked.entry(key.into()).or_default();
        let first_nokey = w.on_nokey() && !q.iter().any(|x| x.on_nokey());
        q.push_back(w);
        (q.len() == 1, first_nokey)
    }

    /// Removes a waiter from `key`'s queue; returns whether the queue
    /// became empty, and whether its last waiter that wakes when the key
    /// is deleted left.
    pub fn unblock(&mut self, key: &[u8], w: &Arc<Waiter>) -> (bool, bool) {
        let Some(q) = self.blocked.get_mut(key) else {
            return (false, false);
        };
        let before = q.len();
        q.retain(|x| !Arc::ptr_eq(x, w));
        let last_nokey = q.len() < before && w.on_nokey() && !q.iter().any(|x| x.on_nokey());
        if q.is_empty() {
            self.blocked.remove(key);
            return (true, last_nokey);
        }
        (false, last_nokey)
    }

    /// The waiters on `key` that are still waiting, in the order they
    /// blocked.
    pub fn waiters(&self, key: &[u8]) -> Vec<Arc<Waiter>> {
        self.blocked.get(key).map_or_else(Vec::new, |q| {
            q.iter().filter(|w| !w.is_done()).cloned().collect()
        })
    }

    /// Starts watching `key`; returns its current epoch.
    pub fn watch(&mut self, key: &[u8]) -> u64 {
        let w = self.watched.entry(key.into()).or_default();
        w.watchers += 1;
        w.epoch
    }

    /// Stops one watcher of `key`.
    pub fn unwatch(&mut self, key: &[u8]) {
        if let Some(w) = self.watched.get_mut(key) {
            w.watchers -= 1;
            if w.watchers == 0 {
                self.watched.remove(key);
            }
        }
    }

    /// The current epoch of a watched key.
    pub fn watch_epoch(&self, key: &[u8]) -> u64 {
        self.watched.get(key).map_or(0, |w| w.epoch)
    }

    /// Swaps the data (not the watch table, which belongs to the database
    /// index) with another shard (SWAPDB). A watched key counts as modified
    /// when it is live on either side of the swap.
    pub fn swap_data(&mut self, other: &mut Shard, hasher: &KeyHasher, now_ms: u64) {
        self.touch_live_watched(hasher, now_ms, Some(other));
        other.touch_live_watched(hasher, now_ms, Some(self));
        std::mem::swap(&mut self.table, &mut other.table);
        std::mem::swap(&mut self.expires, &mut other.expires);
        // Clients blocked on a key that changed may be served (or, for
        // XREADGROUP, told that their stream is gone).
        for s in [&*self, &*other] {
            for k in s.blocked.keys() {
                s.signal(k);
            }
        }
    }

    /// Sum of the TTLs left on volatile keys and their count, for INFO's
    /// avg_ttl.
    pub fn ttl_sum(&self, now_ms: u64) -> (u128, usize) {
        let mut sum = 0u128;
        let mut count = 0;
        for (&(d, _), &k) in &self.expires {
            sum += u128::from(d.saturating_sub(now_ms)) * u128::from(k);
            count += k as usize;
        }
        (sum, count)
    }

    /// Picks the `n`-th entry in table order.
    pub fn nth(&self, n: usize) -> Option<&Slot> {
        self.table.iter().nth(n)
    }
}

/// Tells clients caching `key` that it changed; a function on the field so
/// that it can run while the table is borrowed.
#[inline]
fn invalidate_in(signals: &Option<(Arc<Hooks>, usize)>, key: &[u8]) {
    if let Some((hooks, _)) = signals {
        if hooks.tracking.active() {
            hooks.tracking.invalidate(&hooks.clients, key);
        }
    }
}

/// Removes one (deadline, hash) from an expiry index (0: none); a
/// function on the field so that it can run while the table is borrowed.
fn unindex_in(expires: &mut BTreeMap<(u64, u64), u32>, deadline: u64, h: u64) {
    if deadline == 0 {
        return;
    }
    if let Some(n) = expires.get_mut(&(deadline, h)) {
        *n -= 1;
        if *n == 0 {
            expires.remove(&(deadline, h));
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
    pub fn new(index: usize, hooks: &Arc<Hooks>) -> Self {
        Db {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        signals: Some((hooks.clone(), index)),
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
            s.expire_due(&hs, 250, 10, &mut |k, _| gone.push(k.to_vec())),
            1
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
        assert_eq!(s.expire_due(&hs, 100, 10_000, &mut |_, _| gone += 1), 5000);
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
            let e = s.random_volatile(&hs, r).unwrap();
            assert!(e.expire_ms().is_some());
            volatile.insert(e.key().to_vec());
        }
        assert_eq!(seen.len(), 50);
        assert_eq!(volatile.len(), 25);
        assert_eq!(s.nearest_deadline(&hs).unwrap().key(), b"k0");
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
