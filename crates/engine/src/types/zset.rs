//! The sorted set value type.
//!
//! Small sets are one vector sorted by (score, member) (Redis's
//! `listpack`). Past `zset-max-listpack-*` they become a [`Dict`] from
//! member to score plus an order-statistic structure (Redis's `skiplist`):
//! sorted blocks of at most [`BLOCK_MAX`] entries with a Fenwick tree over
//! the block sizes, so rank, select and insert are O(log n) searches plus a
//! bounded shift inside one block.

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

/// A score as a listpack keeps it: Redis stores integral scores as
/// integers there, so -0 comes back as 0 (a skiplist keeps -0).
fn pack_score(s: f64) -> f64 {
    if s == 0.0 {
        0.0
    } else {
        s
    }
}

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

    fn range(&self, start: usize, end: usize) -> Vec<(f64, &[u8])> {
        if start >= end || start >= self.len {
            return Vec::new();
        }
        let (b, o) = self.find(start);
        self.blocks[b..]
            .iter()
            .flatten()
            .skip(o)
            .take(end - start)
            .map(|e| (e.0, &*e.1))
            .collect()
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

/// A sorted set value.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Entries sorted by (score, member).
    Pack(Vec<Item>),
    /// Member → score, plus the order.
    Skip {
        /// Scores by member.
        dict: Dict<f64>,
        /// The order.
        tree: Tree,
    },
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Pack(Vec::new())
    }
}

impl ZSet {
    /// An empty set in the encoding Redis picks for `size_hint` entries
    /// whose longest member is `max_len` bytes (`zsetTypeCreate`).
    pub fn create(size_hint: usize, max_len: usize, lim: &Limits) -> ZSet {
        if size_hint <= lim.zset_max_listpack_entries && max_len <= lim.zset_max_listpack_value {
            ZSet::Pack(Vec::new())
        } else {
            ZSet::Skip {
                dict: Dict::with_capacity(size_hint),
                tree: Tree::default(),
            }
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
                *p = v
                    .into_iter()
                    .map(|(s, m)| (pack_score(s), m.into_boxed_slice()))
                    .collect();
            }
            ZSet::Skip { .. } => {
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
            ZSet::Pack(v) => v.len(),
            ZSet::Skip { dict, .. } => dict.len(),
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
            ZSet::Skip { .. } => "skiplist",
        }
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        match self {
            ZSet::Pack(v) => v.capacity() * 24 + v.iter().map(|e| e.1.len()).sum::<usize>(),
            ZSet::Skip { dict, tree } => {
                dict.heap_bytes()
                    + tree.blocks.iter().map(|b| b.capacity() * 24).sum::<usize>()
                    + dict.iter().map(|(m, _)| m.len()).sum::<usize>()
            }
        }
    }

    /// The score of `m`.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(v) => v.iter().find(|e| &*e.1 == m).map(|e| e.0),
            ZSet::Skip { dict, .. } => dict.get(m).copied(),
        }
    }

    fn convert_to_skip(&mut self) {
        if let ZSet::Pack(v) = self {
            let mut dict = Dict::with_capacity(v.len() + 1);
            let mut tree = Tree::default();
            for (s, m) in v.drain(..) {
                dict.insert(&m, s);
                tree.insert(s, &m);
            }
            *self = ZSet::Skip { dict, tree };
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
        if let ZSet::Pack(v) = self {
            let exists = v.iter().any(|e| &*e.1 == m);
            if !exists
                && (v.len() + 1 > lim.zset_max_listpack_entries
                    || m.len() > lim.zset_max_listpack_value)
            {
                self.convert_to_skip();
            }
        }
        match self {
            ZSet::Pack(v) => {
                let score = pack_score(score);
                let old = v.iter().position(|e| &*e.1 == m).map(|i| v.remove(i).0);
                let p = v.partition_point(|e| cmp_entry((e.0, &e.1), (score, m)) == Ordering::Less);
                v.insert(p, (score, m.into()));
                old
            }
            ZSet::Skip { dict, tree } => {
                let old = dict.insert(m, score);
                if let Some(o) = old {
                    tree.remove(o, m);
                }
                tree.insert(score, m);
                old
            }
        }
    }

    /// Removes `m`, returning its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(v) => {
                let i = v.iter().position(|e| &*e.1 == m)?;
                Some(v.remove(i).0)
            }
            ZSet::Skip { dict, tree } => {
                let (_, s) = dict.remove(m)?;
                tree.remove(s, m);
                Some(s)
            }
        }
    }

    /// The 0-based rank of `m` in ascending order.
    pub fn rank(&self, m: &[u8]) -> Option<usize> {
        match self {
            ZSet::Pack(v) => v.iter().position(|e| &*e.1 == m),
            ZSet::Skip { dict, tree } => tree.rank(*dict.get(m)?, m),
        }
    }

    /// The entry at rank `r`.
    pub fn at(&self, r: usize) -> Option<(f64, &[u8])> {
        match self {
            ZSet::Pack(v) => v.get(r).map(|e| (e.0, &*e.1)),
            ZSet::Skip { tree, .. } => tree.at(r),
        }
    }

    /// Entries with ranks in `start..end`, ascending.
    pub fn range(&self, start: usize, end: usize) -> Vec<(f64, &[u8])> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        match self {
            ZSet::Pack(v) => v[start..end].iter().map(|e| (e.0, &*e.1)).collect(),
            ZSet::Skip { tree, .. } => tree.range(start, end),
        }
    }

    /// Number of leading entries (in order) for which `pred` holds; `pred`
    /// must hold for a prefix of the order and not after it.
    pub fn partition_point(&self, pred: &dyn Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Pack(v) => v.partition_point(|e| pred(e.0, &e.1)),
            ZSet::Skip { tree, .. } => tree.partition_point(pred),
        }
    }

    /// `count` random entries: distinct ones, or with replacement.
    pub fn random(&self, count: usize, distinct: bool, rng: &mut impl Rng) -> Vec<(f64, Vec<u8>)> {
        match self {
            ZSet::Pack(v) => random_indexes(v.len(), count, distinct, rng)
                .into_iter()
                .map(|i| (v[i].0, v[i].1.to_vec()))
                .collect(),
            ZSet::Skip { dict, .. } => dict
                .random_slots(count, distinct, rng)
                .into_iter()
                .filter_map(|i| dict.slot(i).map(|(m, s)| (*s, m.to_vec())))
                .collect(),
        }
    }

    /// One SCAN step (small sets whole, as Redis does).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<(f64, Vec<u8>)>) {
        match self {
            ZSet::Pack(v) => (0, v.iter().map(|e| (e.0, e.1.to_vec())).collect()),
            ZSet::Skip { dict, .. } => {
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
}
