//! A sequence of byte strings packed back to back in chunks of up to
//! [`CHUNK_MAX`] bytes: the storage of lists.
//!
//! An entry is its length as a LEB128 varint, its bytes, then the same
//! varint's bytes in reverse order, so a chunk reads from either end (as a
//! listpack does with its back-lengths). A 7-byte element costs 9 bytes.
//! Each chunk keeps its live bytes at `start..end` of its buffer and may
//! have room on both sides, so pushes and pops at either end of the list
//! are O(1) amortized; an insertion or removal in the middle rewrites one
//! chunk, as Redis rewrites one listpack of its quicklist. Locating an
//! index walks chunk counts from the nearer end of the list, then entries
//! from the nearer end of the chunk.

use std::collections::VecDeque;

use crate::value::alloc_size;

/// Bytes a chunk grows to before the next element starts a new chunk.
pub const CHUNK_MAX: usize = 8192;

/// One buffer of packed entries.
#[derive(Debug, Clone, Default)]
struct Chunk {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    count: usize,
}

impl Chunk {
    fn live(&self) -> usize {
        self.end - self.start
    }

    /// A chunk holding `entries` (already encoded), with `room` spare
    /// bytes before them (`front`) or after them.
    fn with(entries: &[u8], count: usize, room: usize, front: bool) -> Chunk {
        let cap = alloc_size(entries.len() + room).max(entries.len());
        let mut buf = vec![0u8; cap].into_boxed_slice();
        let at = if front { cap - entries.len() } else { 0 };
        buf[at..at + entries.len()].copy_from_slice(entries);
        Chunk {
            buf,
            start: at,
            end: at + entries.len(),
            count,
        }
    }
}

/// Bytes of the LEB128 varint of `n`.
fn varint_len(n: usize) -> usize {
    1 + (usize::BITS - 1 - (n | 1).leading_zeros()) as usize / 7
}

/// Bytes the entry for `v` takes.
fn entry_size(v: &[u8]) -> usize {
    2 * varint_len(v.len()) + v.len()
}

/// The LEB128 varint of `n`: its bytes and how many there are.
fn varint(mut n: usize) -> ([u8; 10], usize) {
    let mut head = [0u8; 10];
    let mut k = 0;
    loop {
        let more = n >= 0x80;
        head[k] = (n & 0x7f) as u8 | if more { 0x80 } else { 0 };
        k += 1;
        n >>= 7;
        if !more {
            return (head, k);
        }
    }
}

/// Writes the entry for `v` into `dst`, which is exactly its size.
fn encode_into(v: &[u8], dst: &mut [u8]) {
    let (head, k) = varint(v.len());
    dst[..k].copy_from_slice(&head[..k]);
    dst[k..k + v.len()].copy_from_slice(v);
    for (d, s) in dst[k + v.len()..].iter_mut().zip(head[..k].iter().rev()) {
        *d = *s;
    }
}

/// Appends the entry for `v` to `out`.
fn encode(v: &[u8], out: &mut Vec<u8>) {
    let at = out.len();
    out.resize(at + entry_size(v), 0);
    encode_into(v, &mut out[at..]);
}

/// The entry starting at `pos`: its payload range and where the next
/// entry starts.
fn read_fwd(buf: &[u8], mut pos: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut k = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        k += 1;
        n |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    (pos, pos + n, pos + n + k)
}

/// The entry ending at `end`: its payload range and where it starts.
fn read_back(buf: &[u8], mut end: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut k = 0;
    loop {
        end -= 1;
        let b = buf[end];
        k += 1;
        n |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    (end - n, end, end - n - k)
}

/// Elements packed in chunks.
#[derive(Debug, Clone, Default)]
pub struct Chunked {
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl Chunked {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        let table = if self.chunks.capacity() == 0 {
            0
        } else {
            alloc_size(self.chunks.capacity() * std::mem::size_of::<Chunk>())
        };
        table
            + self
                .chunks
                .iter()
                .map(|c| alloc_size(c.buf.len()))
                .sum::<usize>()
    }

    /// Adds `v` at the front or the back.
    pub fn push(&mut self, v: &[u8], front: bool) {
        let sz = entry_size(v);
        self.len += 1;
        let end = if front {
            self.chunks.front_mut()
        } else {
            self.chunks.back_mut()
        };
        if let Some(c) = end {
            let live = c.live();
            if live + sz <= CHUNK_MAX {
                let room = if front { c.start } else { c.buf.len() - c.end };
                if room < sz {
                    // Grow (or recentre within) the buffer, leaving the
                    // spare room on the side that grows.
                    let want = live + sz;
                    let cap = if want >= CHUNK_MAX / 2 {
                        want.max(CHUNK_MAX)
                    } else {
                        want + want / 2
                    };
                    let mut entries = Vec::with_capacity(live);
                    entries.extend_from_slice(&c.buf[c.start..c.end]);
                    let count = c.count;
                    *c = Chunk::with(&entries, count, cap - live, front);
                }
                if front {
                    let at = c.start - sz;
                    encode_into(v, &mut c.buf[at..at + sz]);
                    c.start = at;
                } else {
                    let at = c.end;
                    encode_into(v, &mut c.buf[at..at + sz]);
                    c.end = at + sz;
                }
                c.count += 1;
                return;
            }
        }
        // A new chunk; a list already past one chunk will fill it.
        let mut e = Vec::with_capacity(sz);
        encode(v, &mut e);
        let room = if self.chunks.is_empty() {
            sz / 2
        } else {
            CHUNK_MAX.saturating_sub(sz)
        };
        let c = Chunk::with(&e, 1, room, front);
        if self.chunks.capacity() == 0 {
            // Most lists stay one chunk: room for one, not the usual four.
            self.chunks.reserve_exact(1);
        }
        if front {
            self.chunks.push_front(c);
        } else {
            self.chunks.push_back(c);
        }
    }

    /// Removes and returns the element at the front or the back.
    pub fn pop(&mut self, front: bool) -> Option<Box<[u8]>> {
        let ci = if front {
            0
        } else {
            self.chunks.len().checked_sub(1)?
        };
        let c = self.chunks.get_mut(ci)?;
        let v: Box<[u8]> = if front {
            let (a, b, next) = read_fwd(&c.buf, c.start);
            let v = c.buf[a..b].into();
            c.start = next;
            v
        } else {
            let (a, b, prev) = read_back(&c.buf, c.end);
            let v = c.buf[a..b].into();
            c.end = prev;
            v
        };
        c.count -= 1;
        self.len -= 1;
        self.after_shrink(ci);
        Some(v)
    }

    /// Drops an emptied chunk, or gives back most of a chunk's buffer once
    /// it is under a quarter full.
    fn after_shrink(&mut self, ci: usize) {
        let c = &mut self.chunks[ci];
        if c.count == 0 {
            self.chunks.remove(ci);
            if self.chunks.capacity() > 4 * self.chunks.len().max(2) {
                self.chunks.shrink_to_fit();
            }
            return;
        }
        let live = c.live();
        if c.buf.len() > 64 && live * 4 < c.buf.len() {
            let entries = c.buf[c.start..c.end].to_vec();
            let count = c.count;
            *c = Chunk::with(&entries, count, live / 2, c.start > 0);
        }
    }

    /// The chunk holding element `i` (< len) and `i`'s rank in it.
    fn locate(&self, i: usize) -> (usize, usize) {
        if i < self.len / 2 {
            let mut i = i;
            for (ci, c) in self.chunks.iter().enumerate() {
                if i < c.count {
                    return (ci, i);
                }
                i -= c.count;
            }
        } else {
            let mut back = self.len - 1 - i;
            for (ci, c) in self.chunks.iter().enumerate().rev() {
                if back < c.count {
                    return (ci, c.count - 1 - back);
                }
                back -= c.count;
            }
        }
        unreachable!("index {i} out of {} elements", self.len)
    }

    /// Element `i` (< len): its chunk, where its entry starts and ends, and
    /// its payload range.
    fn seek(&self, i: usize) -> (usize, usize, usize, (usize, usize)) {
        let (ci, r) = self.locate(i);
        let c = &self.chunks[ci];
        if r < c.count / 2 {
            let mut pos = c.start;
            for _ in 0..r {
                pos = read_fwd(&c.buf, pos).2;
            }
            let (a, b, next) = read_fwd(&c.buf, pos);
            (ci, pos, next, (a, b))
        } else {
            let mut end = c.end;
            for _ in 0..c.count - 1 - r {
                end = read_back(&c.buf, end).2;
            }
            let (a, b, start) = read_back(&c.buf, end);
            (ci, start, end, (a, b))
        }
    }

    /// Element `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let (ci, _, _, (a, b)) = self.seek(i);
        Some(&self.chunks[ci].buf[a..b])
    }

    /// Elements in order.
    pub fn iter(&self) -> Iter<'_> {
        let back_chunk = self.chunks.len().saturating_sub(1);
        Iter {
            chunks: &self.chunks,
            front: (0, self.chunks.front().map_or(0, |c| c.start)),
            back: (back_chunk, self.chunks.back().map_or(0, |c| c.end)),
            left: self.len,
        }
    }

    /// Elements `start..=end` (both < len, start <= end).
    pub fn range(&self, start: usize, end: usize) -> Iter<'_> {
        let (fc, fpos, _, _) = self.seek(start);
        let (bc, _, bpos, _) = self.seek(end);
        Iter {
            chunks: &self.chunks,
            front: (fc, fpos),
            back: (bc, bpos),
            left: end - start + 1,
        }
    }

    /// Replaces chunk `ci`'s bytes `from..to` (buffer positions) with
    /// `with` (encoded entries), its count changing by `added - removed`;
    /// splits the chunk in two if it outgrows [`CHUNK_MAX`].
    fn splice(
        &mut self,
        ci: usize,
        from: usize,
        to: usize,
        with: &[u8],
        added: usize,
        removed: usize,
    ) {
        let c = &self.chunks[ci];
        let mut bytes = Vec::with_capacity(c.live() - (to - from) + with.len());
        bytes.extend_from_slice(&c.buf[c.start..from]);
        bytes.extend_from_slice(with);
        bytes.extend_from_slice(&c.buf[to..c.end]);
        let count = c.count + added - removed;
        self.len = self.len + added - removed;
        if count == 0 {
            self.chunks.remove(ci);
            return;
        }
        if bytes.len() <= CHUNK_MAX || count == 1 {
            self.chunks[ci] = Chunk::with(&bytes, count, 0, false);
            return;
        }
        // Split at the first entry boundary past the middle.
        let (mut pos, mut k) = (0, 0);
        while pos < bytes.len() / 2 {
            pos = read_fwd(&bytes, pos).2;
            k += 1;
        }
        if pos == bytes.len() {
            // One huge entry at the end: it goes alone.
            pos = read_back(&bytes, bytes.len()).2;
            k = count - 1;
        }
        self.chunks[ci] = Chunk::with(&bytes[..pos], k, 0, false);
        self.chunks
            .insert(ci + 1, Chunk::with(&bytes[pos..], count - k, 0, false));
    }

    /// Replaces element `i` (< len).
    pub fn set(&mut self, i: usize, v: &[u8]) {
        let (ci, from, to, _) = self.seek(i);
        let mut e = Vec::with_capacity(entry_size(v));
        encode(v, &mut e);
        self.splice(ci, from, to, &e, 1, 1);
    }

    /// Inserts `v` so that it becomes element `at` (<= len).
    pub fn insert(&mut self, at: usize, v: &[u8]) {
        if at == 0 {
            return self.push(v, true);
        }
        if at == self.len {
            return self.push(v, false);
        }
        let (ci, from, _, _) = self.seek(at);
        let mut e = Vec::with_capacity(entry_size(v));
        encode(v, &mut e);
        self.splice(ci, from, from, &e, 1, 0);
    }

    /// Removes the elements at the given ascending indexes (each < len).
    pub fn remove_sorted(&mut self, idx: &[usize]) {
        let mut k = 0;
        let mut base = 0;
        let mut ci = 0;
        while k < idx.len() && ci < self.chunks.len() {
            let c = &self.chunks[ci];
            let n = c.count;
            if idx[k] >= base + n {
                base += n;
                ci += 1;
                continue;
            }
            // Rebuild this chunk without the indexes that fall in it.
            let mut kept = Vec::with_capacity(c.live());
            let (mut pos, mut removed) = (c.start, 0);
            for r in 0..n {
                let next = read_fwd(&c.buf, pos).2;
                if k < idx.len() && idx[k] == base + r {
                    k += 1;
                    removed += 1;
                } else {
                    kept.extend_from_slice(&c.buf[pos..next]);
                }
                pos = next;
            }
            self.len -= removed;
            base += n;
            if removed == n {
                self.chunks.remove(ci);
            } else {
                self.chunks[ci] = Chunk::with(&kept, n - removed, 0, false);
                ci += 1;
            }
        }
    }
}

/// Iterator over a [`Chunked`]'s elements (or a range of them).
pub struct Iter<'a> {
    chunks: &'a VecDeque<Chunk>,
    /// Chunk and buffer position of the next element from the front.
    front: (usize, usize),
    /// Chunk and buffer position just past the next element from the back.
    back: (usize, usize),
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let (mut ci, mut pos) = self.front;
        while pos >= self.chunks[ci].end {
            ci += 1;
            pos = self.chunks[ci].start;
        }
        let c = &self.chunks[ci];
        let (a, b, next) = read_fwd(&c.buf, pos);
        self.front = (ci, next);
        self.left -= 1;
        Some(&c.buf[a..b])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let (mut ci, mut end) = self.back;
        while end <= self.chunks[ci].start {
            ci -= 1;
            end = self.chunks[ci].end;
        }
        let c = &self.chunks[ci];
        let (a, b, start) = read_back(&c.buf, end);
        self.back = (ci, start);
        self.left -= 1;
        Some(&c.buf[a..b])
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random operations against a `VecDeque` model.
    #[test]
    fn behaves_as_a_deque() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        let mut c = Chunked::default();
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for step in 0..60_000 {
            let len = [0, 1, 5, 100, 127, 128, 300, 5000][rnd(8)];
            let v: Vec<u8> = (0..len).map(|j| (j + step) as u8).collect();
            match rnd(10) {
                0..=2 => {
                    let front = rnd(2) == 0;
                    c.push(&v, front);
                    if front {
                        m.push_front(v)
                    } else {
                        m.push_back(v)
                    }
                }
                3 | 4 => {
                    let front = rnd(2) == 0;
                    let want = if front { m.pop_front() } else { m.pop_back() };
                    assert_eq!(c.pop(front).map(|b| b.to_vec()), want);
                }
                5 if !m.is_empty() => {
                    let i = rnd(m.len());
                    c.set(i, &v);
                    m[i] = v;
                }
                6 => {
                    let i = rnd(m.len() + 1);
                    c.insert(i, &v);
                    m.insert(i, v);
                }
                7 if !m.is_empty() => {
                    let mut idx: Vec<usize> = (0..rnd(4) + 1).map(|_| rnd(m.len())).collect();
                    idx.sort_unstable();
                    idx.dedup();
                    c.remove_sorted(&idx);
                    for &i in idx.iter().rev() {
                        m.remove(i);
                    }
                }
                _ if !m.is_empty() => {
                    let i = rnd(m.len());
                    assert_eq!(c.get(i), Some(&m[i][..]));
                    let j = i + rnd(m.len() - i);
                    let got: Vec<&[u8]> = c.range(i, j).collect();
                    let want: Vec<&[u8]> = m.range(i..=j).map(|v| &v[..]).collect();
                    assert_eq!(got, want);
                    let back: Vec<&[u8]> = c.range(i, j).rev().collect();
                    assert_eq!(back, want.into_iter().rev().collect::<Vec<_>>());
                }
                _ => {}
            }
            assert_eq!(c.len(), m.len());
            if step % 5000 == 0 {
                assert!(c.iter().eq(m.iter().map(|v| &v[..])));
                assert!(c.iter().rev().eq(m.iter().rev().map(|v| &v[..])));
                assert!(c.chunks.iter().all(|k| k.count > 0));
            }
        }
    }

    #[test]
    fn packs_small_elements_tightly() {
        let mut c = Chunked::default();
        for i in 0..100_000 {
            c.push(format!("e{i}").as_bytes(), false);
        }
        // "eNNNNN" is at most 6 bytes: 8 with its lengths.
        assert!(
            c.heap_bytes() < 100_000 * 8 + 100_000 / 10,
            "{}",
            c.heap_bytes()
        );
    }
}
