//! The sorted set value type.
//!
//! Small sets are one byte buffer of entries sorted by (score, member)
//! ([`Packed`], Redis's `listpack`: one allocation for the whole set).
//! Past `zset-max-listpack-*` they become a [`Dict`] from member to score
//! plus an order-statistic structure (Redis's `skiplist`): sorted blocks of
//! at most [`BLOCK_MAX`] entries with a Fenwick tree over the block sizes,
//! so rank, select and insert are O(log n) searches plus a bounded shift
//! inside one block. Conversion is one-way, as in Redis.

use std::cmp::Ordering;

use rand::Rng;

use super::{random_indexes, Dict, Limits};

/// Largest block before it splits in two.
const BLOCK_MAX: usize = 256;

/// Orders two (score, member) entries as Redis does: by score, then by
/// member bytes.
pub fn cmp_entry(a: (f64, &[u8]), b: (f64, &[u8])) -> Ordering {
    a.0.partial_cmp(&b.0)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.1.cmp(b.1))
}

type Item = (f64, Box<[u8]>);

/// Sorted blocks with a Fenwick tree of their lengths.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    blocks: Vec<Vec<Item>>,
    fen: Vec<usize>,
    len: usize,
}

impl Tree {
    fn rebuild(&mut self) {
        let n = self.blocks.len();
        self.fen = vec![0; n + 1];
        for i in 0..n {
            let mut j = i + 1;
            let l = self.blocks[i].len();
            while j <= n {
                self.fen[j] += l;
                j += j & j.wrapping_neg();
            }
        }
    }

    fn fen_add(&mut self, b: usize, up: bool) {
        let mut j = b + 1;
        while j < self.fen.len() {
            if up {
                self.fen[j] += 1;
            } else {
                self.fen[j] -= 1;
            }
            j += j & j.wrapping_neg();
        }
    }

    /// Number of entries in blocks before `b`.
    fn prefix(&self, b: usize) -> usize {
        let mut j = b;
        let mut s = 0;
        while j > 0 {
            s += self.fen[j];
            j -= j & j.wrapping_neg();
        }
        s
    }

    /// (block, offset) of rank `r` (< len).
    fn find(&self, mut r: usize) -> (usize, usize) {
        let n = self.blocks.len();
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.fen[next] <= r {
                pos = next;
                r -= self.fen[next];
            }
            step /= 2;
        }
        (pos, r)
    }

    /// The block where (score, member) belongs.
    fn block_for(&self, s: f64, m: &[u8]) -> usize {
        let b = self.blocks.partition_point(|blk| {
            blk.last()
                .is_some_and(|l| cmp_entry((l.0, &l.1), (s, m)) == Ordering::Less)
        });
        b.min(self.blocks.len().saturating_sub(1))
    }

    fn insert(&mut self, s: f64, m: &[u8]) {
        if self.blocks.is_empty() {
            self.blocks.push(Vec::new());
            self.rebuild();
        }
        let b = self.block_for(s, m);
        let blk = &mut self.blocks[b];
        let p = blk.partition_point(|e| cmp_entry((e.0, &e.1), (s, m)) == Ordering::Less);
        blk.insert(p, (s, m.into()));
        self.len += 1;
        if blk.len() > BLOCK_MAX {
            let tail = blk.split_off(blk.len() / 2);
            self.blocks.insert(b + 1, tail);
            self.rebuild();
        } else {
            self.fen_add(b, true);
        }
    }

    fn remove(&mut self, s: f64, m: &[u8]) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let b = self.block_for(s, m);
        let blk = &mut self.blocks[b];
        let Ok(p) = blk.binary_search_by(|e| cmp_entry((e.0, &e.1), (s, m))) else {
            return false;
        };
        blk.remove(p);
        self.len -= 1;
        if blk.is_empty() && self.blocks.len() > 1 {
            self.blocks.remove(b);
            self.rebuild();
        } else {
            self.fen_add(b, false);
        }
        true
    }

    fn rank(&self, s: f64, m: &[u8]) -> Option<usize> {
        if self.blocks.is_empty() {
            return None;
        }
        let b = self.block_for(s, m);
        let p = self.blocks[b]
            .binary_search_by(|e| cmp_entry((e.0, &e.1), (s, m)))
            .ok()?;
        Some(self.prefix(b) + p)
    }

    fn at(&self, r: usize) -> Option<(f64, &[u8])> {
        if r >= self.len {
            return None;
        }
        let (b, o) = self.find(r);
        self.blocks.get(b)?.get(o).map(|e| (e.0, &*e.1))
    }

    /// Entries in order from rank `start`.
    fn iter_from(&self, start: usize) -> impl Iterator<Item = (f64, &[u8])> + '_ {
        let (b, o) = if start >= self.len {
            (self.blocks.len(), 0)
        } else {
            self.find(start)
        };
        self.blocks[b..]
            .iter()
            .flatten()
            .skip(o)
            .map(|e| (e.0, &*e.1))
    }

    fn partition_point(&self, pred: &dyn Fn(f64, &[u8]) -> bool) -> usize {
        let b = self
            .blocks
            .partition_point(|blk| blk.last().is_some_and(|l| pred(l.0, &l.1)));
        if b >= self.blocks.len() {
            return self.len;
        }
        self.prefix(b) + self.blocks[b].partition_point(|e| pred(e.0, &e.1))
    }
}

/// Largest integer magnitude a score is stored as an integer up to: every
/// integer up to 2^53 is exact as an f64.
const INT_SCORE_MAX: f64 = 9_007_199_254_740_992.0;

/// Appends a score: an integral score as a varint of its zigzagged value
/// shifted left once (even), anything else as the tag 1 and the f64's 8
/// bytes. Like Redis's listpack, which keeps integral scores as integers,
/// -0 reads back as 0 (a skiplist keeps -0).
fn put_score(out: &mut Vec<u8>, s: f64) {
    if s == s.trunc() && s.abs() <= INT_SCORE_MAX {
        let i = s as i64;
        let zz = ((i << 1) ^ (i >> 63)) as u64;
        super::put_varint(out, zz << 1);
    } else {
        out.push(1);
        out.extend_from_slice(&s.to_le_bytes());
    }
}

/// Reads a score written by [`put_score`] at `*pos`, advancing it.
fn get_score(b: &[u8], pos: &mut usize) -> f64 {
    let code = super::get_varint(b, pos);
    if code & 1 == 0 {
        let zz = code >> 1;
        let i = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        i as f64
    } else {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&b[*pos..*pos + 8]);
        *pos += 8;
        f64::from_le_bytes(raw)
    }
}

/// Appends one entry: its score, then its member length-prefixed.
fn put_entry(out: &mut Vec<u8>, s: f64, m: &[u8]) {
    put_score(out, s);
    super::put_varint(out, m.len() as u64);
    out.extend_from_slice(m);
}

/// One decoded entry and where it lies in the buffer.
#[derive(Debug, Clone, Copy)]
struct Span<'a> {
    start: usize,
    end: usize,
    score: f64,
    member: &'a [u8],
}

/// The entries of a packed buffer from `pos` (just past the count).
fn spans(buf: &[u8], mut pos: usize) -> impl Iterator<Item = Span<'_>> + '_ {
    std::iter::from_fn(move || {
        if pos >= buf.len() {
            return None;
        }
        let start = pos;
        let score = get_score(buf, &mut pos);
        let member = super::get_prefixed(buf, &mut pos);
        Some(Span {
            start,
            end: pos,
            score,
            member,
        })
    })
}

/// The small encoding: the entry count as a varint, then the entries
/// sorted by (score, member), back to back (see [`put_entry`]), in one
/// exactly sized allocation (none while empty). A ten-member set of
/// small integral scores and short members takes a few bytes an entry.
/// Edits rewrite the buffer in place and reallocate it to its new size,
/// as Redis reallocates a listpack; this is meant for sets of at most
/// `zset-max-listpack-entries`, where a linear scan is what Redis does too.
#[derive(Debug, Clone, Default)]
pub struct Packed {
    buf: Box<[u8]>,
}

impl Packed {
    /// Number of entries.
    pub fn len(&self) -> usize {
        if self.buf.is_empty() {
            return 0;
        }
        let mut p = 0;
        super::get_varint(&self.buf, &mut p) as usize
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Where the entries start.
    fn body(&self) -> usize {
        let mut p = 0;
        if !self.buf.is_empty() {
            super::get_varint(&self.buf, &mut p);
        }
        p
    }

    fn spans(&self) -> impl Iterator<Item = Span<'_>> + '_ {
        spans(&self.buf, self.body())
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (f64, &[u8])> + '_ {
        self.spans().map(|e| (e.score, e.member))
    }

    fn find(&self, m: &[u8]) -> Option<(usize, Span<'_>)> {
        self.spans().enumerate().find(|(_, e)| e.member == m)
    }

    /// Builds a buffer from entries already in (score, member) order with
    /// distinct members.
    fn from_sorted<'a>(entries: impl ExactSizeIterator<Item = (f64, &'a [u8])>) -> Packed {
        let n = entries.len();
        if n == 0 {
            return Packed::default();
        }
        let mut v = Vec::new();
        super::put_varint(&mut v, n as u64);
        for (s, m) in entries {
            put_entry(&mut v, s, m);
        }
        Packed {
            buf: v.into_boxed_slice(),
        }
    }

    /// Rewrites the buffer: `edit` gets it (count header and all) as a
    /// vector with room for `extra` more bytes and returns the count
    /// change; the header is rewritten and the allocation resized to fit.
    fn edit(&mut self, extra: usize, edit: impl FnOnce(&mut Vec<u8>, usize) -> isize) {
        let n = self.len();
        let body = self.body();
        let mut v = std::mem::take(&mut self.buf).into_vec();
        let mut head = Vec::new();
        super::put_varint(&mut head, n as u64);
        if v.is_empty() {
            v.reserve_exact(head.len() + extra);
            v.extend_from_slice(&head);
        } else {
            v.reserve_exact(extra);
        }
        let body = if body == 0 { head.len() } else { body };
        let new_n = n.saturating_add_signed(edit(&mut v, body));
        if new_n == 0 {
            return;
        }
        let mut new_head = Vec::new();
        super::put_varint(&mut new_head, new_n as u64);
        if new_head.len() > body {
            v.reserve_exact(new_head.len() - body);
        }
        v.splice(..body, new_head);
        self.buf = v.into_boxed_slice();
    }

    /// Sets the score of `m`, adding it if new; returns the old score.
    pub fn insert(&mut self, m: &[u8], score: f64) -> Option<f64> {
        let mut enc = Vec::with_capacity(m.len() + 11);
        put_entry(&mut enc, score, m);
        // The score as it reads back (-0 as 0), which decides the order.
        let score = get_score(&enc, &mut 0);
        let old = self.find(m).map(|(_, e)| (e.start, e.end, e.score));
        if let Some((_, _, s)) = old {
            if s == score {
                return Some(s);
            }
        }
        self.edit(enc.len(), |v, body| {
            if let Some((start, end, _)) = old {
                v.drain(start..end);
            }
            let at = spans(v, body)
                .find(|e| cmp_entry((e.score, e.member), (score, m)) != Ordering::Less)
                .map_or(v.len(), |e| e.start);
            v.splice(at..at, enc);
            isize::from(old.is_none())
        });
        old.map(|o| o.2)
    }

    /// Removes `m`, returning its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let (_, e) = self.find(m)?;
        let (start, end, score) = (e.start, e.end, e.score);
        self.edit(0, |v, _| {
            v.drain(start..end);
            -1
        });
        Some(score)
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        crate::value::alloc_size(self.buf.len())
    }
}

/// The big encoding: member → score, plus the order.
#[derive(Debug, Clone, Default)]
pub struct Skiplist {
    /// Scores by member.
    dict: Dict<f64>,
    /// The order.
    tree: Tree,
}

/// A sorted set value.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Entries sorted by (score, member), packed.
    Pack(Packed),
    /// The big encoding (boxed, so that a small set stays small).
    Skip(Box<Skiplist>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Pack(Packed::default())
    }
}

impl ZSet {
    /// An empty set in the encoding Redis picks for `size_hint` entries
    /// whose longest member is `max_len` bytes (`zsetTypeCreate`).
    pub fn create(size_hint: usize, max_len: usize, lim: &Limits) -> ZSet {
        if size_hint <= lim.zset_max_listpack_entries && max_len <= lim.zset_max_listpack_value {
            ZSet::Pack(Packed::default())
        } else {
            ZSet::Skip(Box::new(Skiplist {
                dict: Dict::with_capacity(size_hint),
                tree: Tree::default(),
            }))
        }
    }

    /// Builds a set from entries (any order, distinct members), in the
    /// encoding their count and sizes call for.
    pub fn from_entries(mut v: Vec<(f64, Vec<u8>)>, lim: &Limits) -> ZSet {
        let max_len = v.iter().map(|e| e.1.len()).max().unwrap_or(0);
        let mut z = ZSet::create(v.len(), max_len, lim);
        match &mut z {
            ZSet::Pack(p) => {
                v.sort_by(|a, b| cmp_entry((a.0, &a.1), (b.0, &b.1)));
                *p = Packed::from_sorted(v.iter().map(|(s, m)| (*s, &m[..])));
            }
            ZSet::Skip(_) => {
                for (s, m) in v {
                    z.insert(&m, s, lim);
                }
            }
        }
        z
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Pack(p) => p.len(),
            ZSet::Skip(b) => b.dict.len(),
        }
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Pack(_) => "listpack",
            ZSet::Skip(_) => "skiplist",
        }
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        match self {
            ZSet::Pack(p) => p.heap_bytes(),
            ZSet::Skip(b) => {
                crate::value::alloc_size(std::mem::size_of::<Skiplist>())
                    + b.dict.heap_bytes()
                    + b.tree
                        .blocks
                        .iter()
                        .map(|b| b.capacity() * 24)
                        .sum::<usize>()
                    + b.dict.iter().map(|(m, _)| m.len()).sum::<usize>()
            }
        }
    }

    /// The score of `m`.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(p) => p.find(m).map(|(_, e)| e.score),
            ZSet::Skip(b) => b.dict.get(m).copied(),
        }
    }

    fn convert_to_skip(&mut self) {
        if let ZSet::Pack(p) = self {
            let mut dict = Dict::with_capacity(p.len() + 1);
            let mut tree = Tree::default();
            for (s, m) in p.iter() {
                dict.insert(m, s);
                tree.insert(s, m);
            }
            *self = ZSet::Skip(Box::new(Skiplist { dict, tree }));
        }
    }

    /// Before adding `size_hint` entries whose longest member is `max_len`
    /// bytes: converts when the hint passes the limits
    /// (`zsetTypeMaybeConvert`).
    pub fn reserve(&mut self, size_hint: usize, max_len: usize, lim: &Limits) {
        if matches!(self, ZSet::Pack(_))
            && (size_hint > lim.zset_max_listpack_entries || max_len > lim.zset_max_listpack_value)
        {
            self.convert_to_skip();
        }
    }

    /// Sets the score of `m`, adding it if new; returns the old score.
    pub fn insert(&mut self, m: &[u8], score: f64, lim: &Limits) -> Option<f64> {
        if let ZSet::Pack(p) = self {
            if (p.len() + 1 > lim.zset_max_listpack_entries
                || m.len() > lim.zset_max_listpack_value)
                && p.find(m).is_none()
            {
                self.convert_to_skip();
            }
        }
        match self {
            ZSet::Pack(p) => p.insert(m, score),
            ZSet::Skip(b) => {
                let old = b.dict.insert(m, score);
                if let Some(o) = old {
                    b.tree.remove(o, m);
                }
                b.tree.insert(score, m);
                old
            }
        }
    }

    /// Removes `m`, returning its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(p) => p.remove(m),
            ZSet::Skip(b) => {
                let (_, s) = b.dict.remove(m)?;
                b.tree.remove(s, m);
                Some(s)
            }
        }
    }

    /// The 0-based rank of `m` in ascending order.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        match self {
            ZSet::Pack(p) => p.find(m).map(|(i, _)| i),
            ZSet::Skip(b) => b.tree.rank(*b.dict.get(m)?, m),
        }
    }

    /// The entry at rank `r`.
    pub fn at(&self, r: usize) -> Option<(f64, &[u8])> {
        match self {
            ZSet::Pack(p) => p.iter().nth(r),
            ZSet::Skip(b) => b.tree.at(r),
        }
    }

    /// Entries in ascending order from rank `start`. A small set is
    /// scanned from its start, so walk with this rather than calling
    /// [`ZSet::at`] per rank.
    pub fn iter_from(&self, start: usize) -> Box<dyn Iterator<Item = (f64, &[u8])> + '_> {
        match self {
            ZSet::Pack(p) => Box::new(p.iter().skip(start)),
            ZSet::Skip(b) => Box::new(b.tree.iter_from(start)),
        }
    }

    /// Entries with ranks in `start..end`, ascending.
    pub fn range(&self, start: usize, end: usize) -> Vec<(f64, &[u8])> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        self.iter_from(start).take(end - start).collect()
    }

    /// Number of leading entries (in order) for which `pred` holds; `pred`
    /// must hold for a prefix of the order and not after it.
    pub fn partition_point(&self, pred: &dyn Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Pack(p) => p
                .iter()
                .position(|(s, m)| !pred(s, m))
                .unwrap_or_else(|| p.len()),
            ZSet::Skip(b) => b.tree.partition_point(pred),
        }
    }

    /// `count` random entries: distinct ones, or with replacement.
    pub fn random(&self, count: usize, distinct: bool, rng: &mut impl Rng) -> Vec<(f64, Vec<u8>)> {
        match self {
            ZSet::Pack(p) => {
                let all: Vec<(f64, &[u8])> = p.iter().collect();
                random_indexes(all.len(), count, distinct, rng)
                    .into_iter()
                    .map(|i| (all[i].0, all[i].1.to_vec()))
                    .collect()
            }
            ZSet::Skip(b) => b
                .dict
                .random_slots(count, distinct, rng)
                .into_iter()
                .filter_map(|i| b.dict.slot(i).map(|(m, s)| (*s, m.to_vec())))
                .collect(),
        }
    }

    /// One SCAN step (small sets whole, as Redis does).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<(f64, Vec<u8>)>) {
        match self {
            ZSet::Pack(p) => (0, p.iter().map(|(s, m)| (s, m.to_vec())).collect()),
            ZSet::Skip(b) => {
                let dict = &b.dict;
                let mut out = Vec::new();
                let mut i = cursor as usize;
                while i < dict.slot_count() && out.len() < count {
                    if let Some((m, s)) = dict.slot(i) {
                        out.push((*s, m.to_vec()));
                    }
                    i += 1;
                }
                (if i >= dict.slot_count() { 0 } else { i as u64 }, out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_matches_sorted_vec() {
        let lim = Limits {
            zset_max_listpack_entries: 0,
            ..Limits::DEFAULT
        };
        let mut z = ZSet::create(1, 0, &lim);
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut rng = rand::thread_rng();
        for step in 0..5000 {
            let m = format!("m{}", rng.gen_range(0..1500)).into_bytes();
            let s = f64::from(rng.gen_range(0..100));
            if step % 3 == 2 {
                let a = z.remove(&m);
                let b = model
                    .iter()
                    .position(|e| e.1 == m)
                    .map(|i| model.remove(i).0);
                assert_eq!(a, b);
            } else {
                z.insert(&m, s, &lim);
                model.retain(|e| e.1 != m);
                model.push((s, m));
                model.sort_by(|a, b| cmp_entry((a.0, &a.1), (b.0, &b.1)));
            }
        }
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), model.len());
        for (i, e) in model.iter().enumerate() {
            assert_eq!(z.rank(&e.1), Some(i));
            assert_eq!(z.at(i).map(|x| x.1.to_vec()), Some(e.1.clone()));
        }
        let r = z.range(100, 700);
        assert_eq!(r.len(), 600);
        assert_eq!(r[0].1, &model[100].1[..]);
        let below = z.partition_point(&|s, _| s < 50.0);
        assert_eq!(below, model.iter().filter(|e| e.0 < 50.0).count());
    }

    /// Every entry of a small set as owned pairs, via `range` and `at`.
    fn entries(z: &ZSet) -> Vec<(f64, Vec<u8>)> {
        let r: Vec<(f64, Vec<u8>)> = z
            .range(0, z.len())
            .into_iter()
            .map(|(s, m)| (s, m.to_vec()))
            .collect();
        for (i, e) in r.iter().enumerate() {
            assert_eq!(z.at(i).map(|(s, m)| (s, m.to_vec())).as_ref(), Some(e));
        }
        r
    }

    #[test]
    fn packed_scores_round_trip() {
        let scores = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            63.0,
            64.0,
            -64.0,
            -65.0,
            0.5,
            -2.25,
            1e300,
            -1e-300,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_992.0,
            9_007_199_254_740_994.0,
            4_503_599_627_370_495.5,
            i64::MAX as f64,
            f64::MAX,
            f64::MIN,
        ];
        for s in scores {
            let mut b = Vec::new();
            put_score(&mut b, s);
            let mut pos = 0;
            let back = get_score(&b, &mut pos);
            assert_eq!(pos, b.len(), "{s}");
            // -0 reads back as 0, as from Redis's listpack.
            let want = if s == 0.0 { 0.0 } else { s };
            assert_eq!(back.to_bits(), want.to_bits(), "{s}");
        }
        // Small integers take one byte, other scores nine.
        let len = |s: f64| {
            let mut b = Vec::new();
            put_score(&mut b, s);
            b.len()
        };
        assert_eq!((len(0.0), len(31.0), len(-32.0), len(0.5)), (1, 1, 1, 9));
    }

    #[test]
    fn packed_keeps_order_and_converts_where_redis_does() {
        let lim = Limits {
            zset_max_listpack_entries: 200,
            zset_max_listpack_value: 8,
            ..Limits::DEFAULT
        };
        let mut z = ZSet::default();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut rng = rand::thread_rng();
        let pick = [
            -1e9,
            -3.5,
            -1.0,
            -0.0,
            0.0,
            0.25,
            1.0,
            2.0,
            300.0,
            f64::INFINITY,
        ];
        for step in 0..4000 {
            let m = format!("m{}", rng.gen_range(0..150)).into_bytes();
            let s = pick[rng.gen_range(0..pick.len())];
            if step % 3 == 2 {
                let want = model
                    .iter()
                    .position(|e| e.1 == m)
                    .map(|i| model.remove(i).0);
                assert_eq!(z.remove(&m), want);
            } else {
                let s = if s == 0.0 { 0.0 } else { s };
                let want = model.iter().find(|e| e.1 == m).map(|e| e.0);
                assert_eq!(z.insert(&m, s, &lim), want);
                model.retain(|e| e.1 != m);
                model.push((s, m));
                model.sort_by(|a, b| cmp_entry((a.0, &a.1), (b.0, &b.1)));
            }
            assert_eq!(z.encoding(), "listpack");
            assert_eq!(z.len(), model.len());
            assert_eq!(z.is_empty(), model.is_empty());
        }
        assert_eq!(entries(&z), model);
        for (i, e) in model.iter().enumerate() {
            assert_eq!(z.rank(&e.1), Some(i));
            assert_eq!(z.score(&e.1), Some(e.0));
        }
        assert_eq!(
            z.partition_point(&|s, _| s < 1.0),
            model.iter().filter(|e| e.0 < 1.0).count()
        );
        let from = model.len() / 2;
        let tail: Vec<_> = z.iter_from(from).map(|(s, m)| (s, m.to_vec())).collect();
        assert_eq!(tail, model[from..]);
        // Emptied, the buffer is given back.
        let mut w = z.clone();
        for e in &model {
            assert_eq!(w.remove(&e.1), Some(e.0));
        }
        assert!(w.is_empty());
        assert_eq!(w.heap_bytes(), 0);
        // A member past the value limit converts, an existing one does not
        // count as an addition, and the count limit converts on the
        // (limit + 1)th member.
        let mut long = z.clone();
        long.insert(b"123456789", 1.0, &lim);
        assert_eq!(long.encoding(), "skiplist");
        assert_eq!(long.len(), model.len() + 1);
        let small = Limits {
            zset_max_listpack_entries: 3,
            ..lim
        };
        let mut c = ZSet::default();
        for (i, m) in [b"a", b"b", b"c"].iter().enumerate() {
            c.insert(*m, i as f64, &small);
        }
        c.insert(b"a", 9.0, &small);
        assert_eq!(c.encoding(), "listpack");
        assert_eq!(entries(&c)[2], (9.0, b"a".to_vec()));
        c.insert(b"d", -1.0, &small);
        assert_eq!(c.encoding(), "skiplist");
        let got: Vec<_> = c.range(0, 4).into_iter().map(|e| e.1.to_vec()).collect();
        assert_eq!(got, [&b"d"[..], b"b", b"c", b"a"]);
        // Built whole, from unsorted entries.
        let built = ZSet::from_entries(
            vec![
                (2.0, b"x".to_vec()),
                (-0.0, b"y".to_vec()),
                (0.5, b"a".to_vec()),
            ],
            &lim,
        );
        assert_eq!(built.encoding(), "listpack");
        assert_eq!(
            entries(&built),
            [
                (0.0, b"y".to_vec()),
                (0.5, b"a".to_vec()),
                (2.0, b"x".to_vec())
            ]
        );
    }

    #[test]
    fn small_sets_stay_small() {
        assert!(std::mem::size_of::<ZSet>() <= 16);
        let lim = Limits::DEFAULT;
        let mut z = ZSet::default();
        for i in 0..10 {
            z.insert(format!("m{i}").as_bytes(), f64::from(i), &lim);
        }
        // A count byte and four bytes an entry, in one allocation.
        assert_eq!(z.heap_bytes(), crate::value::alloc_size(41));
        // The count's varint grows and shrinks at 128 entries.
        let mut big = ZSet::default();
        for i in 0..130 {
            big.insert(format!("m{i:03}").as_bytes(), f64::from(i), &lim);
            assert_eq!(big.len(), i as usize + 1);
        }
        assert_eq!(big.encoding(), "skiplist");
        let wide = Limits {
            zset_max_listpack_entries: 200,
            ..lim
        };
        let mut p = ZSet::default();
        for i in (0..130).rev() {
            p.insert(format!("m{i:03}").as_bytes(), f64::from(i), &wide);
            assert_eq!(p.len(), 130 - i as usize);
        }
        assert_eq!(p.encoding(), "listpack");
        assert_eq!(p.at(127), Some((127.0, &b"m127"[..])));
        for i in 0..130 {
            assert_eq!(p.remove(format!("m{i:03}").as_bytes()), Some(f64::from(i)));
            assert_eq!(p.len(), 129 - i as usize);
            assert_eq!(p.at(0).map(|e| e.0), (i < 129).then(|| f64::from(i + 1)));
        }
    }
}
