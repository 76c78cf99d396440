//! `maxmemory`: the eviction policies, the access stamp every key carries
//! (an LRU clock reading or an LFU counter), and the eviction loop that
//! runs before commands while memory is over the limit.
//!
//! The loop follows Redis's `performEvictions`: measure how far over the
//! limit the server is (not counting replica output buffers), then pick
//! and delete keys until that much was freed, the time budget set by
//! `maxmemory-eviction-tenacity` runs out, or nothing is left to evict.
//! LRU, LFU and TTL picks go through a pool of the 16 best candidates
//! seen so far, refilled with `maxmemory-samples` random keys of each
//! database per pick, as Redis's eviction pool is.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::config::Config;
use crate::keyspace::{shard_of, Shard, Slot, SHARDS};
use crate::Server;

/// A `maxmemory-policy`, numbered as the config enum numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `volatile-lru`.
    VolatileLru,
    /// `volatile-lfu`.
    VolatileLfu,
    /// `volatile-random`.
    VolatileRandom,
    /// `volatile-ttl`.
    VolatileTtl,
    /// `allkeys-lru`.
    AllkeysLru,
    /// `allkeys-lfu`.
    AllkeysLfu,
    /// `allkeys-random`.
    AllkeysRandom,
    /// `noeviction`.
    NoEviction,
}

impl Policy {
    const ALL: [Policy; 8] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
        Policy::NoEviction,
    ];

    fn from_id(id: u32) -> Policy {
        Policy::ALL
            .get(id as usize)
            .copied()
            .unwrap_or(Policy::NoEviction)
    }

    /// Whether keys count accesses (LFU) rather than stamp the last one.
    pub fn lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    /// Whether only keys with a TTL may be evicted.
    fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

/// One tick of the LRU clock. Redis ticks once a second; a finer tick
/// tells apart keys used within the same second, and a `u32` of 100 ms
/// ticks wraps only after 13 years (idle times are differences, taken
/// modulo the wrap).
pub const LRU_TICK_MS: u64 = 100;
/// The counter a key starts with under an LFU policy, so that a new key
/// is not the first one evicted.
pub const LFU_INIT: u32 = 5;

/// The LRU clock at `now_ms`.
pub fn lru_clock(now_ms: u64) -> u32 {
    (now_ms / LRU_TICK_MS) as u32
}

/// Milliseconds since an LRU stamp.
pub fn idle_ms(stamp: u32, now_ms: u64) -> u64 {
    u64::from(lru_clock(now_ms).wrapping_sub(stamp)) * LRU_TICK_MS
}

/// Minutes, modulo 2^16: the time half of an LFU stamp.
fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// An LFU stamp's counter after the decay since its last access: one
/// less per `decay_min` minutes elapsed.
pub fn lfu_count(stamp: u32, now_ms: u64, decay_min: u32) -> u32 {
    let (then, counter) = (stamp >> 8, stamp & 0xFF);
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= then {
        now - then
    } else {
        65535 - then + now
    };
    let periods = elapsed.checked_div(decay_min).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Counts one access: the counter grows with probability 1 / ((c -
/// LFU_INIT) * factor + 1), so it climbs logarithmically up to 255.
fn lfu_incr(counter: u32, factor: u32) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT));
    let p = 1.0 / (base * f64::from(factor) + 1.0);
    if rand::random::<f64>() < p {
        counter + 1
    } else {
        counter
    }
}

/// The maxmemory settings, mirrored from the configuration so the paths
/// that run on every command read atomics, not the config lock.
#[derive(Debug)]
pub struct Settings {
    maxmemory: AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    tenacity: AtomicU32,
    log_factor: AtomicU32,
    decay_min: AtomicU32,
    lazy: std::sync::atomic::AtomicBool,
    lazy_user_del: std::sync::atomic::AtomicBool,
    lazy_server_del: std::sync::atomic::AtomicBool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            maxmemory: AtomicU64::new(0),
            policy: AtomicU8::new(Policy::NoEviction as u8),
            samples: AtomicU32::new(5),
            tenacity: AtomicU32::new(10),
            log_factor: AtomicU32::new(10),
            decay_min: AtomicU32::new(1),
            lazy: std::sync::atomic::AtomicBool::new(false),
            lazy_user_del: std::sync::atomic::AtomicBool::new(false),
            lazy_server_del: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Settings {
    /// Copies the settings out of `c`.
    pub fn refresh(&self, c: &Config) {
        self.maxmemory.store(c.maxmemory(), Ordering::Relaxed);
        self.policy
            .store(c.maxmemory_policy_id() as u8, Ordering::Relaxed);
        self.samples
            .store(c.maxmemory_samples().max(1), Ordering::Relaxed);
        self.tenacity
            .store(c.maxmemory_eviction_tenacity(), Ordering::Relaxed);
        self.log_factor.store(c.lfu_log_factor(), Ordering::Relaxed);
        self.decay_min.store(c.lfu_decay_time(), Ordering::Relaxed);
        self.lazy
            .store(c.lazyfree_lazy_eviction(), Ordering::Relaxed);
        self.lazy_user_del
            .store(c.lazyfree_lazy_user_del(), Ordering::Relaxed);
        self.lazy_server_del
            .store(c.lazyfree_lazy_server_del(), Ordering::Relaxed);
    }

    /// `lazyfree-lazy-server-del`: values the server itself deletes or
    /// overwrites (SET over a key, RENAME's and the *STORE commands'
    /// destinations) are freed as UNLINK frees them.
    pub fn lazy_server_del(&self) -> bool {
        self.lazy_server_del.load(Ordering::Relaxed)
    }

    /// `lazyfree-lazy-user-del`: DEL frees as UNLINK does.
    pub fn lazy_user_del(&self) -> bool {
        self.lazy_user_del.load(Ordering::Relaxed)
    }

    /// `maxmemory` in bytes (0: no limit).
    #[inline]
    pub fn maxmemory(&self) -> u64 {
        self.maxmemory.load(Ordering::Relaxed)
    }

    /// `maxmemory-policy`.
    #[inline]
    pub fn policy(&self) -> Policy {
        Policy::from_id(u32::from(self.policy.load(Ordering::Relaxed)))
    }

    /// `lfu-decay-time` in minutes.
    pub fn decay_min(&self) -> u32 {
        self.decay_min.load(Ordering::Relaxed)
    }

    /// The stamp a new key gets: the LRU clock, or a fresh LFU counter.
    #[inline]
    pub fn new_stamp(&self, now_ms: u64) -> u32 {
        if self.policy().lfu() {
            lfu_minutes(now_ms) << 8 | LFU_INIT
        } else {
            lru_clock(now_ms)
        }
    }

    /// Records an access to a key (Redis's `updateLFU`, or the LRU clock).
    #[inline]
    pub fn touch(&self, stamp: &mut u32, now_ms: u64) {
        if self.policy().lfu() {
            let c = lfu_count(*stamp, now_ms, self.decay_min());
            let c = lfu_incr(c, self.log_factor.load(Ordering::Relaxed));
            *stamp = lfu_minutes(now_ms) << 8 | c;
        } else {
            *stamp = lru_clock(now_ms);
        }
    }

    /// The stamp of a key restored with an idle time (seconds) or an LFU
    /// counter (RESTORE IDLETIME/FREQ, RDB): each applies only under the
    /// kind of policy it belongs to.
    pub fn restored_stamp(&self, now_ms: u64, idle_s: Option<u64>, freq: Option<u8>) -> u32 {
        match (self.policy().lfu(), idle_s, freq) {
            (true, _, Some(f)) => lfu_minutes(now_ms) << 8 | u32::from(f),
            (false, Some(s), _) => {
                let ticks = s.saturating_mul(1000 / LRU_TICK_MS);
                lru_clock(now_ms).wrapping_sub(ticks.min(u64::from(u32::MAX)) as u32)
            }
            _ => self.new_stamp(now_ms),
        }
    }

    /// How long one eviction run may take, from the tenacity: linear up to
    /// 500 µs at 10, then 15% more per step, unlimited at 100.
    fn time_limit_us(&self) -> u64 {
        let t = self.tenacity.load(Ordering::Relaxed);
        match t {
            0..=10 => 50 * u64::from(t),
            11..=99 => (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
            _ => u64::MAX,
        }
    }
}

/// What an eviction run came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Memory is under the limit (or eviction does not apply now).
    Ok,
    /// Still over, but the run used its time: the next one goes on.
    Running,
    /// Over the limit with nothing left to evict (or `noeviction`).
    Fail,
}

/// Candidates kept between picks.
const POOL_SIZE: usize = 16;

#[derive(Debug)]
struct Candidate {
    /// Higher is evicted first: idle time, 255 - LFU count, or how soon
    /// the key expires.
    score: u64,
    db: usize,
    key: Box<[u8]>,
}

#[derive(Debug, Default)]
struct Pool {
    /// Ascending by score; the best candidate is last.
    best: Vec<Candidate>,
    /// Which databases held keys at `checked_ms`: sampling skips the
    /// others without locking their shards.
    dbs_with_keys: Vec<bool>,
    checked_ms: u64,
    /// The database the next random pick starts from.
    next_db: usize,
}

impl Pool {
    fn offer(&mut self, c: Candidate) {
        if self.best.len() == POOL_SIZE && c.score <= self.best[0].score {
            return;
        }
        if self.best.iter().any(|o| o.db == c.db && o.key == c.key) {
            return;
        }
        let at = self.best.partition_point(|o| o.score <= c.score);
        self.best.insert(at, c);
        if self.best.len() > POOL_SIZE {
            self.best.remove(0);
        }
    }
}

/// Eviction state shared by all threads.
#[derive(Debug, Default)]
pub struct Evictor {
    pool: Mutex<Pool>,
    /// When memory was first found over the limit (µs since `EPOCH`; 0:
    /// not over), and the total time spent over it, for INFO.
    over_since_us: AtomicU64,
    over_total_us: AtomicU64,
}

impl Evictor {
    /// INFO's `total_eviction_exceeded_time` and
    /// `current_eviction_exceeded_time`, in ms.
    pub fn exceeded_ms(&self) -> (u64, u64) {
        let since = self.over_since_us.load(Ordering::Relaxed);
        let current = if since == 0 {
            0
        } else {
            crate::clock::monotonic_us().saturating_sub(since)
        };
        let total = self.over_total_us.load(Ordering::Relaxed) + current;
        (total / 1000, current / 1000)
    }

    fn note(&self, outcome: Outcome) {
        let since = self.over_since_us.load(Ordering::Relaxed);
        if outcome == Outcome::Ok {
            if since != 0 && self.over_since_us.swap(0, Ordering::Relaxed) == since {
                self.over_total_us.fetch_add(
                    crate::clock::monotonic_us().saturating_sub(since),
                    Ordering::Relaxed,
                );
            }
        } else if since == 0 {
            let _ = self.over_since_us.compare_exchange(
                0,
                crate::clock::monotonic_us(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }
}

/// Memory that does not count towards `maxmemory`: what replicas have yet
/// to read (evicting keys to make room for the DELs that eviction itself
/// sends them would never end).
pub fn not_counted(server: &Server) -> u64 {
    if !server.repl.active() {
        return 0;
    }
    server
        .repl
        .replicas()
        .iter()
        .map(|r| r.outbox.len() as u64)
        .sum()
}

/// How many bytes over `maxmemory` the server is (0: not over).
pub fn over_by(server: &Server) -> u64 {
    let limit = server.tunables.memory.maxmemory();
    if limit == 0 {
        return 0;
    }
    let used = server.used_memory();
    if used <= limit {
        return 0;
    }
    used.saturating_sub(not_counted(server))
        .saturating_sub(limit)
}

/// Evicts keys until memory is under `maxmemory`, as Redis does before a
/// command. Takes the gate shared; when it cannot at once (an exclusive
/// command or a script holds it), evicts nothing, as Redis does not evict
/// while a script is busy.
pub fn perform(server: &Server, now_ms: u64) -> Outcome {
    let limit = server.tunables.memory.maxmemory();
    if limit == 0 {
        return Outcome::Ok;
    }
    if server.used_memory() <= limit {
        server.evictor.note(Outcome::Ok);
        return Outcome::Ok;
    }
    if server.loading.load(Ordering::Acquire) || paused(server, now_ms) {
        return Outcome::Ok;
    }
    let Some(_gate) = server.gate.try_read() else {
        return Outcome::Ok;
    };
    perform_locked(server, now_ms)
}

/// CLIENT PAUSE (WRITE or ALL) also pauses eviction.
fn paused(server: &Server, now_ms: u64) -> bool {
    matches!(*server.pause.lock(), Some((until, _)) if until > now_ms)
}

/// [`perform`] for a caller holding the gate (shared or exclusive).
pub fn perform_locked(server: &Server, now_ms: u64) -> Outcome {
    let outcome = run(server, now_ms);
    server.evictor.note(outcome);
    outcome
}

fn run(server: &Server, now_ms: u64) -> Outcome {
    let settings = &server.tunables.memory;
    if over_by(server) == 0 {
        return Outcome::Ok;
    }
    let policy = settings.policy();
    if policy == Policy::NoEviction {
        return Outcome::Fail;
    }
    // One thread evicts at a time; the others find memory under the limit
    // once they get the pool, or help go on.
    let mut pool = server.evictor.pool.lock();
    let to_free = over_by(server);
    if to_free == 0 {
        return Outcome::Ok;
    }
    let lazy = settings.lazy.load(Ordering::Relaxed);
    let start = Instant::now();
    let limit_us = settings.time_limit_us();
    let mut freed = 0i64;
    let mut keys = 0u64;
    while freed < to_free as i64 {
        let Some((db, key)) = pick(server, &mut pool, policy, now_ms) else {
            return if over_by(server) == 0 {
                Outcome::Ok
            } else {
                Outcome::Fail
            };
        };
        let before = server.used_memory() as i64;
        if evict_key(server, db, &key, lazy, now_ms) {
            freed += before - server.used_memory() as i64;
            keys += 1;
            if keys.is_multiple_of(16) {
                // Lazily freed values leave memory a little later than
                // their keys: look at the real figure now and then.
                if lazy && over_by(server) == 0 {
                    break;
                }
                if start.elapsed().as_micros() as u64 > limit_us {
                    return Outcome::Running;
                }
            }
        }
    }
    Outcome::Ok
}

/// Deletes an evicted key: counted, announced (`evicted`), propagated as
/// DEL (UNLINK under `lazyfree-lazy-eviction`), and seen by WATCH, client
/// tracking and blocked clients as any deletion is.
fn evict_key(server: &Server, db: usize, key: &[u8], lazy: bool, now_ms: u64) -> bool {
    let h = server.hasher.hash(key);
    let mut shard = server.dbs[db].lock(shard_of(h));
    let Some(entry) = shard.remove(h, key) else {
        return false;
    };
    server.stats.evicted_keys.fetch_add(1, Ordering::Relaxed);
    let class = crate::config::NOTIFY_EVICTED;
    server.removed_by_server(db, key, lazy, class, "evicted", now_ms);
    drop(shard);
    server.lazyfree.free(entry.value, lazy);
    true
}

/// The next key to evict, or `None` when no key qualifies.
fn pick(
    server: &Server,
    pool: &mut Pool,
    policy: Policy,
    now_ms: u64,
) -> Option<(usize, Box<[u8]>)> {
    if pool.dbs_with_keys.len() != server.dbs.len() || now_ms >= pool.checked_ms + 100 {
        refresh_dbs(server, pool, policy, now_ms);
    }
    let volatile = policy.volatile();
    if matches!(policy, Policy::AllkeysRandom | Policy::VolatileRandom) {
        for _ in 0..2 {
            let n = server.dbs.len();
            for i in 0..n {
                let db = (pool.next_db + 1 + i) % n;
                if !pool.dbs_with_keys[db] {
                    continue;
                }
                if let Some(key) = sample_one(server, db, volatile, |s, r| {
                    let e = if volatile {
                        s.random_volatile(r)
                    } else {
                        s.random_entry(r)
                    };
                    e.map(|e| Box::<[u8]>::from(e.key()))
                }) {
                    pool.next_db = db;
                    return Some((db, key));
                }
            }
            // The hint was stale: look again before giving up.
            refresh_dbs(server, pool, policy, now_ms);
        }
        return None;
    }
    let samples = server.tunables.memory.samples.load(Ordering::Relaxed);
    let decay = server.tunables.memory.decay_min();
    for _ in 0..2 {
        loop {
            let mut sampled = false;
            for db in 0..server.dbs.len() {
                if !pool.dbs_with_keys[db] {
                    continue;
                }
                for _ in 0..samples {
                    let found = sample_one(server, db, volatile, |s, r| {
                        let e = if volatile {
                            s.random_volatile(r)
                        } else {
                            s.random_entry(r)
                        }?;
                        let score = score(policy, e, now_ms, decay);
                        Some(Candidate {
                            score,
                            db,
                            key: e.key().into(),
                        })
                    });
                    if let Some(c) = found {
                        pool.offer(c);
                        sampled = true;
                    }
                }
            }
            if !sampled {
                break;
            }
            // Best first; a candidate deleted or changed since it was
            // sampled is a ghost, skipped.
            while let Some(c) = pool.best.pop() {
                if still_there(server, c.db, &c.key, volatile) {
                    return Some((c.db, c.key));
                }
            }
        }
        refresh_dbs(server, pool, policy, now_ms);
    }
    None
}

/// The eviction score of an entry under `policy`.
fn score(policy: Policy, e: &Slot, now_ms: u64, decay_min: u32) -> u64 {
    match policy {
        Policy::VolatileTtl => u64::MAX - e.expire_ms().unwrap_or(u64::MAX),
        p if p.lfu() => 255 - u64::from(lfu_count(e.lru(), now_ms, decay_min)),
        _ => idle_ms(e.lru(), now_ms),
    }
}

fn still_there(server: &Server, db: usize, key: &[u8], volatile: bool) -> bool {
    let h = server.hasher.hash(key);
    let shard = server.dbs[db].lock(shard_of(h));
    shard
        .find(h, key)
        .is_some_and(|e| !volatile || e.expire_ms().is_some())
}

/// Whether a shard has keys to evict (with a TTL when `volatile`).
fn holds(s: &Shard, volatile: bool) -> bool {
    if volatile {
        s.has_volatile()
    } else {
        !s.is_empty()
    }
}

/// Runs `take` on a random shard of database `db` that holds keys (with a
/// TTL when `volatile`), with a random number for it.
fn sample_one<T>(
    server: &Server,
    db: usize,
    volatile: bool,
    take: impl FnOnce(&Shard, u64) -> Option<T>,
) -> Option<T> {
    let r: u64 = rand::random();
    let start = (r as usize) % SHARDS;
    for i in 0..SHARDS {
        let idx = (start + i) % SHARDS;
        let shard = server.dbs[db].lock(idx);
        if holds(&shard, volatile) {
            return take(&shard, r >> 8);
        }
    }
    None
}

fn refresh_dbs(server: &Server, pool: &mut Pool, policy: Policy, now_ms: u64) {
    let volatile = policy.volatile();
    pool.dbs_with_keys = server
        .dbs
        .iter()
        .map(|db| (0..SHARDS).any(|i| holds(&db.lock(i), volatile)))
        .collect();
    pool.checked_ms = now_ms;
}

/// A connection checks client eviction after a read once it holds this
/// much (Redis's smallest client memory bucket); smaller clients are
/// checked by the cron, and may be evicted too once the bigger ones are
/// gone.
pub const CLIENT_EVICT_MIN: usize = 32 * 1024;

/// `maxmemory-clients` in bytes (a negative setting is a percentage of
/// `maxmemory`, and means no limit without one); never under 128 KiB, so
/// that a bad setting cannot leave every client cut off. 0: no limit.
pub fn client_mem_limit(c: &Config) -> u64 {
    let setting = c.maxmemory_clients();
    let bytes = match setting {
        0 => return 0,
        s if s < 0 => {
            if c.maxmemory() == 0 {
                return 0;
            }
            (c.maxmemory() as f64 * -(s as f64) / 100.0) as u64
        }
        s => s as u64,
    };
    bytes.max(128 * 1024)
}

/// Client eviction (`maxmemory-clients`): while normal and Pub/Sub
/// clients together hold the limit or more, disconnects the biggest of
/// those that may be evicted (not CLIENT NO-EVICT, not a replica), as
/// Redis's `evictClients` does, biggest first (`now_ms` for the log
/// line). Returns how many.
pub fn evict_clients(server: &Server, now_ms: u64) -> usize {
    let limit = server.tunables.client_mem_limit.load(Ordering::Relaxed);
    if limit == 0 {
        return 0;
    }
    let clients = server.clients.all();
    let counted: Vec<(usize, &std::sync::Arc<crate::client::ClientHandle>)> = clients
        .iter()
        .filter(|h| !h.replica.load(Ordering::Relaxed) && !h.is_killed())
        .map(|h| (h.tot_mem(), h))
        .collect();
    let mut total: u64 = counted.iter().map(|(m, _)| *m as u64).sum();
    if total < limit {
        return 0;
    }
    let mut victims: Vec<_> = counted
        .into_iter()
        .filter(|(_, h)| !h.no_evict.load(Ordering::Relaxed))
        .collect();
    victims.sort_by_key(|v| std::cmp::Reverse(v.0));
    let mut n = 0;
    for (mem, h) in victims {
        if total < limit {
            break;
        }
        server.host.log(
            "notice",
            &format!(
                "Evicting client: {}",
                crate::cmd::connection::client_line(h, now_ms)
            ),
        );
        h.kill();
        total -= mem as u64;
        n += 1;
    }
    if total >= limit {
        server.host.log(
            "warning",
            "Over client maxmemory after evicting all evictable clients",
        );
    }
    server
        .stats
        .evicted_clients
        .fetch_add(n as u64, Ordering::Relaxed);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counter_decays_and_grows_slowly() {
        let now = 10 * 60_000;
        let stamp = lfu_minutes(now) << 8 | 20;
        assert_eq!(lfu_count(stamp, now, 1), 20);
        assert_eq!(lfu_count(stamp, now + 5 * 60_000, 1), 15);
        assert_eq!(lfu_count(stamp, now + 5 * 60_000, 0), 20);
        assert_eq!(lfu_count(stamp, now + 50 * 60_000, 1), 0);
        let mut c = LFU_INIT;
        for _ in 0..1000 {
            c = lfu_incr(c, 10);
        }
        // With factor 10, a thousand hits reach about 10 to 20.
        assert!((8..40).contains(&c), "{c}");
    }

    #[test]
    fn lru_idle_survives_the_wrap() {
        let stamp = u32::MAX;
        let now = (u64::from(u32::MAX) + 11) * LRU_TICK_MS;
        assert_eq!(idle_ms(stamp, now), 11 * LRU_TICK_MS);
    }

    #[test]
    fn pool_keeps_the_best() {
        let mut p = Pool::default();
        for i in 0..40u64 {
            p.offer(Candidate {
                score: (i * 7) % 40,
                db: 0,
                key: format!("k{i}").into_bytes().into(),
            });
        }
        assert_eq!(p.best.len(), POOL_SIZE);
        assert_eq!(p.best.last().unwrap().score, 39);
        assert_eq!(p.best[0].score, 24);
    }

    #[test]
    fn tenacity_sets_the_budget() {
        let s = Settings::default();
        assert_eq!(s.time_limit_us(), 500);
        s.tenacity.store(0, Ordering::Relaxed);
        assert_eq!(s.time_limit_us(), 0);
        s.tenacity.store(100, Ordering::Relaxed);
        assert_eq!(s.time_limit_us(), u64::MAX);
    }
}
