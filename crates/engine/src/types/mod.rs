//! Collection value types, their encodings (Redis's listpack / intset /
//! quicklist / hashtable / skiplist names) and the thresholds that decide
//! them.

pub mod chunked;
pub mod hash;
pub mod hll;
pub mod list;
pub mod set;
pub mod stream;
pub mod zset;

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rand::Rng;

/// The encoding thresholds (`*-max-listpack-*`, `set-max-intset-entries`,
/// `list-max-listpack-size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `list-max-listpack-size` (negative: bytes per node by level).
    pub list_max_listpack_size: i64,
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `set-max-listpack-entries`.
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value`.
    pub set_max_listpack_value: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: usize,
    /// `stream-node-max-bytes`.
    pub stream_node_max_bytes: usize,
    /// `stream-node-max-entries`.
    pub stream_node_max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    /// Redis's defaults.
    pub const DEFAULT: Limits = Limits {
        list_max_listpack_size: -2,
        hash_max_listpack_entries: 512,
        hash_max_listpack_value: 64,
        set_max_intset_entries: 512,
        set_max_listpack_entries: 128,
        set_max_listpack_value: 64,
        zset_max_listpack_entries: 128,
        zset_max_listpack_value: 64,
        stream_node_max_bytes: 4096,
        stream_node_max_entries: 100,
    };

    /// The stream node limits.
    pub fn stream_nodes(&self) -> stream::NodeLimits {
        stream::NodeLimits {
            max_bytes: self.stream_node_max_bytes,
            max_entries: self.stream_node_max_entries,
        }
    }

    /// The thresholds in force for a command.
    pub fn of(ctx: &crate::command::Ctx<'_>) -> Limits {
        ctx.server.tunables.limits.load()
    }

    /// The thresholds a configuration sets.
    pub fn from_config(c: &crate::config::Config) -> Limits {
        let u = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        Limits {
            list_max_listpack_size: c.list_max_listpack_size(),
            hash_max_listpack_entries: u(c.hash_max_listpack_entries()),
            hash_max_listpack_value: u(c.hash_max_listpack_value()),
            set_max_intset_entries: u(c.set_max_intset_entries()),
            set_max_listpack_entries: u(c.set_max_listpack_entries()),
            set_max_listpack_value: u(c.set_max_listpack_value()),
            zset_max_listpack_entries: u(c.zset_max_listpack_entries()),
            zset_max_listpack_value: u(c.zset_max_listpack_value()),
            stream_node_max_bytes: u(c.stream_node_max_bytes()),
            stream_node_max_entries: u(c.stream_node_max_entries()),
        }
    }
}

/// [`Limits`] readable without a lock on every collection command; CONFIG
/// SET stores new values.
#[derive(Debug, Default)]
pub struct AtomicLimits([std::sync::atomic::AtomicI64; 10]);

impl AtomicLimits {
    /// Publishes new thresholds.
    pub fn store(&self, l: Limits) {
        use std::sync::atomic::Ordering::Relaxed;
        let v = [
            l.list_max_listpack_size,
            l.hash_max_listpack_entries as i64,
            l.hash_max_listpack_value as i64,
            l.set_max_intset_entries as i64,
            l.set_max_listpack_entries as i64,
            l.set_max_listpack_value as i64,
            l.zset_max_listpack_entries as i64,
            l.zset_max_listpack_value as i64,
            l.stream_node_max_bytes as i64,
            l.stream_node_max_entries as i64,
        ];
        for (a, x) in self.0.iter().zip(v) {
            a.store(x, Relaxed);
        }
    }

    /// The current thresholds.
    pub fn load(&self) -> Limits {
        use std::sync::atomic::Ordering::Relaxed;
        let g = |i: usize| self.0[i].load(Relaxed);
        let u = |i: usize| usize::try_from(g(i)).unwrap_or(usize::MAX);
        Limits {
            list_max_listpack_size: g(0),
            hash_max_listpack_entries: u(1),
            hash_max_listpack_value: u(2),
            set_max_intset_entries: u(3),
            set_max_listpack_entries: u(4),
            set_max_listpack_value: u(5),
            zset_max_listpack_entries: u(6),
            zset_max_listpack_value: u(7),
            stream_node_max_bytes: u(8),
            stream_node_max_entries: u(9),
        }
    }
}

/// Parses bytes as a listpack/intset integer (Redis's `string2ll`: at most
/// 20 characters, no leading zeros, no plus sign, no "-0").
#[inline]
pub fn as_int(b: &[u8]) -> Option<i64> {
    ferrokey_resp::parse_i64(b)
}

/// Appends `n` as a varint (7 bits a byte, low bits first), the length
/// prefix of Ferrokey's packed encodings.
pub fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Reads a varint written by [`put_varint`] at `*pos`, advancing it.
pub fn get_varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*pos];
        *pos += 1;
        n |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return n;
        }
        shift += 7;
    }
}

/// Reads a varint-length-prefixed string at `*pos`, advancing it.
pub fn get_prefixed<'a>(b: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let n = get_varint(b, pos) as usize;
    let s = &b[*pos..*pos + n];
    *pos += n;
    s
}

/// Bytes of an empty listpack (header and end marker).
pub const LP_EMPTY: usize = 7;

/// Bytes one element takes in a listpack: encoding, data and back-length.
pub fn lp_entry_len(b: &[u8]) -> usize {
    let enc = match as_int(b) {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if (-32768..=32767).contains(&v) => 3,
        Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => 4,
        Some(v) if i32::try_from(v).is_ok() => 5,
        Some(_) => 9,
        None => {
            let l = b.len();
            if l < 64 {
                1 + l
            } else if l < 4096 {
                2 + l
            } else {
                5 + l
            }
        }
    };
    enc + if enc <= 127 {
        1
    } else if enc < 16383 {
        2
    } else if enc < 2_097_151 {
        3
    } else if enc < 268_435_455 {
        4
    } else {
        5
    }
}

/// An insertion-keyed table for the big encodings: entries live in slots
/// that never move while they exist (deleted slots are reused), so a slot
/// index is a stable SCAN cursor and a random slot is a uniform sample.
#[derive(Debug, Clone)]
pub struct Dict<V> {
    slots: Vec<Option<(Box<[u8]>, V)>>,
    free: Vec<usize>,
    /// Per entry its slot (high 32 bits) and the low 32 bits of its key's
    /// hash, from which the table's hash is rebuilt ([`spread`]): growing
    /// the table rehashes without reading a single key (a big set grew in
    /// one stall long enough to show in p99 latency).
    index: HashTable<u64>,
    state: foldhash::fast::FixedState,
}

/// The table's 64-bit hash from a key's 32-bit one (hashbrown takes bucket
/// bits from the bottom and tag bits from the top).
#[inline]
fn spread(h32: u32) -> u64 {
    u64::from(h32).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// An index entry: slot and hash.
#[inline]
fn entry_of(slot: usize, h32: u32) -> u64 {
    ((slot as u64) << 32) | u64::from(h32)
}

#[inline]
fn slot_of(e: u64) -> usize {
    (e >> 32) as usize
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
            state: foldhash::fast::FixedState::with_seed(0x5eed_f00d),
        }
    }
}

impl<V> Dict<V> {
    /// An empty table sized for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        let mut d = Dict::default();
        d.slots.reserve(n);
        d.index.reserve(n, |&e| spread(e as u32));
        d
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    fn h(&self, k: &[u8]) -> u32 {
        self.state.hash_one(k) as u32
    }

    fn find(&self, k: &[u8]) -> Option<usize> {
        let h = self.h(k);
        let slots = &self.slots;
        self.index
            .find(spread(h), |&e| {
                e as u32 == h
                    && slots[slot_of(e)]
                        .as_ref()
                        .is_some_and(|(key, _)| &**key == k)
            })
            .map(|&e| slot_of(e))
    }

    /// The value of `k`.
    pub fn get(&self, k: &[u8]) -> Option<&V> {
        self.find(k)
            .and_then(|i| self.slots[i].as_ref().map(|(_, v)| v))
    }

    /// The value of `k`, mutable.
    pub fn get_mut(&mut self, k: &[u8]) -> Option<&mut V> {
        let i = self.find(k)?;
        self.slots[i].as_mut().map(|(_, v)| v)
    }

    /// Whether `k` is present.
    pub fn contains(&self, k: &[u8]) -> bool {
        self.find(k).is_some()
    }

    /// Sets `k` to `v`; returns the old value.
    pub fn insert(&mut self, k: &[u8], v: V) -> Option<V> {
        if let Some(i) = self.find(k) {
            return self.slots[i]
                .as_mut()
                .map(|e| std::mem::replace(&mut e.1, v));
        }
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some((k.into(), v));
                i
            }
            None => {
                self.slots.push(Some((k.into(), v)));
                self.slots.len() - 1
            }
        };
        let h = self.h(k);
        self.index
            .insert_unique(spread(h), entry_of(slot, h), |&e| spread(e as u32));
        None
    }

    /// Removes `k`, returning its key and value.
    pub fn remove(&mut self, k: &[u8]) -> Option<(Box<[u8]>, V)> {
        let h = self.h(k);
        let slots = &self.slots;
        let i = slot_of(
            self.index
                .find_entry(spread(h), |&e| {
                    e as u32 == h
                        && slots[slot_of(e)]
                            .as_ref()
                            .is_some_and(|(key, _)| &**key == k)
                })
                .ok()?
                .remove()
                .0,
        );
        let e = self.slots[i].take();
        if i + 1 == self.slots.len() {
            self.slots.pop();
            while self.slots.last().is_some_and(Option::is_none) {
                self.slots.pop();
            }
            let n = self.slots.len();
            self.free.retain(|&f| f < n);
        } else {
            self.free.push(i);
        }
        e
    }

    /// Entries in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.slots
            .iter()
            .filter_map(|s| s.as_ref().map(|(k, v)| (&**k, v)))
    }

    /// Mutable values in slot order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.slots
            .iter_mut()
            .filter_map(|s| s.as_mut().map(|(_, v)| v))
    }

    /// Number of slots (the end of the SCAN cursor space).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The entry in slot `i`, if that slot is used.
    pub fn slot(&self, i: usize) -> Option<(&[u8], &V)> {
        self.slots
            .get(i)
            .and_then(|s| s.as_ref().map(|(k, v)| (&**k, v)))
    }

    /// A uniformly random entry.
    pub fn random(&self, rng: &mut impl Rng) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        loop {
            let i = rng.gen_range(0..self.slots.len());
            if let Some(e) = self.slot(i) {
                return Some(e);
            }
        }
    }

    /// Slots of `count` random entries: distinct ones (at most `len`) or,
    /// when `distinct` is false, drawn with replacement.
    pub fn random_slots(&self, count: usize, distinct: bool, rng: &mut impl Rng) -> Vec<usize> {
        let live = || (0..self.slots.len()).filter(|&i| self.slots[i].is_some());
        if self.is_empty() {
            return Vec::new();
        }
        if !distinct {
            return (0..count)
                .map(|_| loop {
                    let i = rng.gen_range(0..self.slots.len());
                    if self.slots[i].is_some() {
                        break i;
                    }
                })
                .collect();
        }
        if count >= self.len() {
            return live().collect();
        }
        if count.saturating_mul(3) > self.len() {
            let all: Vec<usize> = live().collect();
            let mut picked: Vec<usize> = rand::seq::index::sample(rng, all.len(), count)
                .into_iter()
                .map(|j| all[j])
                .collect();
            picked.sort_unstable();
            return picked;
        }
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let i = rng.gen_range(0..self.slots.len());
            if self.slots[i].is_some() && seen.insert(i) {
                out.push(i);
            }
        }
        out
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        use crate::value::alloc_size;
        alloc_size(self.slots.capacity() * std::mem::size_of::<Option<(Box<[u8]>, V)>>())
            + alloc_size(self.index.num_buckets() * (std::mem::size_of::<u64>() + 1))
            + self.iter().map(|(k, _)| alloc_size(k.len())).sum::<usize>()
    }
}

/// Positions of `count` random elements of a vector of `len`: distinct
/// ones in storage order, or drawn with replacement.
pub fn random_indexes(len: usize, count: usize, distinct: bool, rng: &mut impl Rng) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    if !distinct {
        return (0..count).map(|_| rng.gen_range(0..len)).collect();
    }
    if count >= len {
        return (0..len).collect();
    }
    let mut v = rand::seq::index::sample(rng, len, count).into_vec();
    v.sort_unstable();
    v
}

/// Parses the count of HRANDFIELD / SRANDMEMBER / ZRANDMEMBER: returns
/// (count, distinct). `with_values` halves the accepted range.
pub fn parse_rand_count(
    arg: &[u8],
    with_values: bool,
) -> Result<(usize, bool), crate::error::CmdError> {
    use crate::error::CmdError;
    let n = crate::cmd::parse_int(arg)?;
    if n == i64::MIN {
        return Err(CmdError::msg(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    // Ferrokey: a reply of billions of repeated elements would exhaust
    // memory; Redis streams it until the client is dropped.
    if n < -(1 << 32) {
        return Err(CmdError::msg("ERR value is out of range"));
    }
    Ok((n.unsigned_abs() as usize, n >= 0))
}

/// Parses a collection SCAN's options after the cursor: MATCH, COUNT and,
/// when `novalues_ok`, NOVALUES. Returns (pattern, count, novalues).
pub fn parse_scan_opts<'a>(
    args: &[&'a [u8]],
    novalues_ok: bool,
) -> Result<(Option<&'a [u8]>, usize, bool), crate::error::CmdError> {
    use crate::cmd::{is, parse_int};
    use crate::error::CmdError;
    let mut pattern = None;
    let mut count = 10usize;
    let mut novalues = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if novalues_ok && is(a, "novalues") {
            novalues = true;
            i += 1;
            continue;
        }
        let Some(&v) = args.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        if is(a, "count") {
            let n = parse_int(v)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = n as usize;
        } else if is(a, "match") {
            pattern = Some(v).filter(|p| *p != b"*");
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok((pattern, count, novalues))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_entry_sizes() {
        assert_eq!(lp_entry_len(b"1"), 2);
        assert_eq!(lp_entry_len(b"-1"), 3);
        assert_eq!(lp_entry_len(b"hello"), 7);
        assert_eq!(lp_entry_len(&[b'x'; 100]), 103);
        assert_eq!(lp_entry_len(&[b'x'; 8192]), 8197 + 2);
    }

    #[test]
    fn dict_slots_are_stable() {
        let mut d: Dict<u32> = Dict::default();
        for i in 0..100u32 {
            d.insert(i.to_string().as_bytes(), i);
        }
        assert_eq!(d.len(), 100);
        assert!(d.remove(b"5").is_some());
        assert_eq!(d.slot(6).map(|e| *e.1), Some(6));
        d.insert(b"x", 1000);
        assert_eq!(d.slot(5).map(|e| e.0), Some(&b"x"[..]));
        assert_eq!(d.get(b"99"), Some(&99));
        assert!(d.remove(b"99").is_some());
        assert_eq!(d.slot_count(), 99);
    }
}
