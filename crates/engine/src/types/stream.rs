//! Streams: entries keyed by a 128-bit ID, stored in nodes of up to
//! `stream-node-max-entries` entries / `stream-node-max-bytes` bytes, each
//! node keyed in a B-tree by the ID of the first entry ever added to it and
//! holding its entries back to back in one buffer, IDs delta-encoded from
//! the node's key. Entries whose field names equal the node's first
//! entry's store only their values (Redis's "same fields" flag), so a
//! stream of uniform events keeps one copy of its field names per node. Consumer groups keep their
//! pending entries lists in B-trees keyed by ID.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A stream entry ID: milliseconds and sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// The smallest ID.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID from its parts.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// Whether it is 0-0.
    pub fn is_zero(&self) -> bool {
        *self == StreamId::MIN
    }

    /// The next ID, or `None` past the largest.
    pub fn next(&self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            (self.ms != u64::MAX).then(|| StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID, or `None` before 0-0.
    pub fn prev(&self) -> Option<StreamId> {
        if self.seq == 0 {
            (self.ms != 0).then(|| StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// The `<ms>-<seq>` text.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!("{}-{}", self.ms, self.seq).into_bytes()
    }

    /// The 16-byte big-endian form RDB files use as node keys and PEL IDs.
    pub fn to_be_bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// Parses the 16-byte big-endian form.
    pub fn from_be_bytes(b: &[u8]) -> Option<StreamId> {
        if b.len() != 16 {
            return None;
        }
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        Some(StreamId::new(
            u64::from_be_bytes(ms),
            u64::from_be_bytes(seq),
        ))
    }
}

/// `entries_read` when a group's read counter is unknown.
pub const ENTRIES_READ_INVALID: i64 = -1;

/// The largest bytes of field data an entry may carry (Redis's listpack
/// limit).
pub const ENTRY_MAX_BYTES: usize = 1 << 30;

use super::{get_prefixed as get_str, get_varint, put_varint};

/// A node: entries in ID order, back to back in one buffer, with the
/// field names of the node's first entry.
///
/// An entry is: the ms part of its ID minus the node key's (varint), its
/// sequence (varint), a flag byte (0: the values of the master fields
/// follow; 1: a field count and field/value pairs follow), then
/// length-prefixed strings.
#[derive(Debug, Clone)]
struct Node {
    key: StreamId,
    master: Box<[Box<[u8]>]>,
    buf: Vec<u8>,
    /// Entries present.
    count: usize,
    /// Entries removed from the node (they still count towards its size,
    /// as Redis's deleted-flagged listpack entries do).
    deleted: usize,
    /// The size Redis's listpack for this node would have.
    lp_bytes: usize,
    /// The last entry's ID.
    last: StreamId,
}

/// Where an entry lies in its node's buffer.
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: StreamId,
    start: usize,
    fields: usize,
    end: usize,
}

impl Node {
    fn slot_at(&self, pos: usize) -> Slot {
        let b = &self.buf;
        let mut p = pos;
        let ms = self.key.ms + get_varint(b, &mut p);
        let seq = get_varint(b, &mut p);
        let fields = p;
        let flag = b[p];
        p += 1;
        if flag == 0 {
            for _ in 0..self.master.len() {
                get_str(b, &mut p);
            }
        } else {
            let n = get_varint(b, &mut p);
            for _ in 0..n * 2 {
                get_str(b, &mut p);
            }
        }
        Slot {
            id: StreamId::new(ms, seq),
            start: pos,
            fields,
            end: p,
        }
    }

    /// The entries' positions, in order.
    fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let s = self.slot_at(pos);
            pos = s.end;
            Some(s)
        })
    }

    fn entry(&self, s: Slot) -> EntryRef<'_> {
        EntryRef {
            id: s.id,
            node: self,
            data: &self.buf[s.fields..s.end],
        }
    }

    /// The entries, in order.
    fn iter(&self) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.slots().map(move |s| self.entry(s))
    }

    fn heap_bytes(&self) -> usize {
        self.master.iter().map(|f| f.len() + 16).sum::<usize>() + self.buf.capacity()
    }
}

/// The field/value pairs of an entry.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    node: &'a Node,
    data: &'a [u8],
    pos: usize,
    i: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.data[0] == 0 {
            if self.i >= self.node.master.len() {
                return None;
            }
            let f = &*self.node.master[self.i];
            self.i += 1;
            Some((f, get_str(self.data, &mut self.pos)))
        } else {
            if self.i == 0 {
                let mut p = 1;
                let n = get_varint(self.data, &mut p) as usize;
                self.pos = p;
                self.i = n + 1;
            }
            if self.i == 1 {
                return None;
            }
            self.i -= 1;
            let f = get_str(self.data, &mut self.pos);
            let v = get_str(self.data, &mut self.pos);
            Some((f, v))
        }
    }
}

/// An entry seen through an iterator: its ID and fields.
#[derive(Debug, Clone)]
pub struct EntryRef<'a> {
    /// The ID.
    pub id: StreamId,
    node: &'a Node,
    data: &'a [u8],
}

impl<'a> EntryRef<'a> {
    /// The field/value pairs.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            node: self.node,
            data: self.data,
            pos: 1,
            i: 0,
        }
    }

    /// Number of fields.
    pub fn field_count(&self) -> usize {
        if self.data[0] == 0 {
            self.node.master.len()
        } else {
            let mut p = 1;
            get_varint(self.data, &mut p) as usize
        }
    }
}

/// A pending entry: delivered to a consumer and not yet acknowledged.
#[derive(Debug, Clone)]
pub struct Nack {
    /// The consumer that owns it.
    pub consumer: Arc<[u8]>,
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    /// Times delivered.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// Its name.
    pub name: Arc<[u8]>,
    /// Unix ms of the last attempted interaction.
    pub seen_time: u64,
    /// Unix ms of the last successful interaction; -1 for never.
    pub active_time: i64,
    /// IDs of its pending entries.
    pub pel: BTreeSet<StreamId>,
}

impl Consumer {
    /// A consumer created at `now_ms`.
    pub fn new(name: &[u8], now_ms: u64) -> Consumer {
        Consumer {
            name: Arc::from(name),
            seen_time: now_ms,
            active_time: -1,
            pel: BTreeSet::new(),
        }
    }
}

/// A consumer group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Last entry delivered to the group.
    pub last_id: StreamId,
    /// Entries the group has read, or [`ENTRIES_READ_INVALID`].
    pub entries_read: i64,
    /// Pending entries of every consumer.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Consumers by name.
    pub consumers: BTreeMap<Arc<[u8]>, Consumer>,
}

impl Group {
    /// A group that starts after `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Removes a pending entry from the group and its consumer.
    pub fn ack(&mut self, id: &StreamId) -> bool {
        match self.pel.remove(id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(id);
                }
                true
            }
            None => false,
        }
    }
}

/// Node size limits (`stream-node-max-bytes`, `stream-node-max-entries`).
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    /// Bytes per node (0: no limit beyond Redis's 1 GB).
    pub max_bytes: usize,
    /// Entries per node, deleted ones included (0: no limit).
    pub max_entries: usize,
}

/// How to trim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Drop entries below this ID.
    MinId(StreamId),
}

/// A stream.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    /// Number of entries.
    pub length: u64,
    /// The last ID generated (not necessarily still present).
    pub last_id: StreamId,
    /// The first entry's ID (0-0 when empty).
    pub first_id: StreamId,
    /// The largest ID ever deleted.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

fn lp_str_len(b: &[u8]) -> usize {
    super::lp_entry_len(b)
}

fn lp_int_len(v: u64) -> usize {
    match i64::try_from(v) {
        Ok(v) => super::lp_entry_len(v.to_string().as_bytes()),
        Err(_) => 10,
    }
}

impl Stream {
    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Appends an entry with `id` (already checked to be greater than
    /// `last_id`).
    pub fn append(&mut self, id: StreamId, fields: &[(&[u8], &[u8])], lim: NodeLimits) {
        let data_len: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let max_bytes = if lim.max_bytes == 0 || lim.max_bytes > ENTRY_MAX_BYTES {
            ENTRY_MAX_BYTES
        } else {
            lim.max_bytes
        };
        let need_new = match self.nodes.last_key_value() {
            None => true,
            Some((_, n)) => {
                n.lp_bytes + data_len >= max_bytes
                    || (lim.max_entries != 0 && n.count + n.deleted >= lim.max_entries)
            }
        };
        if need_new {
            // The full node keeps no spare capacity.
            if let Some((_, n)) = self.nodes.iter_mut().next_back() {
                n.buf.shrink_to_fit();
            }
            let master: Vec<&[u8]> = fields.iter().map(|(f, _)| *f).collect();
            self.start_node(id, &master);
        }
        let (&key, node) = self.nodes.iter_mut().next_back().expect("a node exists");
        let same = node.master.len() == fields.len()
            && node.master.iter().zip(fields).all(|(m, (f, _))| **m == **f);
        let buf = &mut node.buf;
        put_varint(buf, id.ms - key.ms);
        put_varint(buf, id.seq);
        let mut lp = 1 + lp_int_len(id.ms - key.ms) + lp_int_len(id.seq.wrapping_sub(key.seq));
        if same {
            buf.push(0);
            for (_, v) in fields {
                put_varint(buf, v.len() as u64);
                buf.extend_from_slice(v);
                lp += lp_str_len(v);
            }
            lp += lp_int_len(fields.len() as u64 + 3);
        } else {
            buf.push(1);
            put_varint(buf, fields.len() as u64);
            lp += lp_int_len(fields.len() as u64);
            for (f, v) in fields {
                put_varint(buf, f.len() as u64);
                buf.extend_from_slice(f);
                put_varint(buf, v.len() as u64);
                buf.extend_from_slice(v);
                lp += lp_str_len(f) + lp_str_len(v);
            }
            lp += lp_int_len(fields.len() as u64 * 2 + 4);
        }
        node.lp_bytes += lp;
        node.count += 1;
        node.last = id;
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Opens a new, empty node keyed by `key` (no greater than the IDs
    /// that will go in it) whose master field names are `master`. RDB
    /// loading uses it to keep a file's nodes as they were.
    pub fn start_node(&mut self, key: StreamId, master: &[&[u8]]) {
        let master: Box<[Box<[u8]>]> = master.iter().map(|f| Box::from(*f)).collect();
        // Listpack header and end, and the master entry: count, deleted,
        // field count, the fields, the terminator.
        let lp_bytes = 7
            + 2
            + 2
            + lp_int_len(master.len() as u64)
            + master.iter().map(|f| lp_str_len(f)).sum::<usize>()
            + 2;
        self.nodes.insert(
            key,
            Node {
                key,
                master,
                buf: Vec::new(),
                count: 0,
                deleted: 0,
                lp_bytes,
                last: key,
            },
        );
    }

    /// The key of the node that holds `id` if it is present.
    fn node_key_for(&self, id: StreamId) -> Option<StreamId> {
        self.nodes.range(..=id).next_back().map(|(k, _)| *k)
    }

    /// Entries with IDs in `[start, end]`, in order (or reversed).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = EntryRef<'_>> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        if rev {
            Box::new(
                self.nodes
                    .range(..=end)
                    .rev()
                    .flat_map(|(_, n)| n.iter().collect::<Vec<_>>().into_iter().rev())
                    .skip_while(move |e| e.id > end)
                    .take_while(move |e| e.id >= start),
            )
        } else {
            let from = self.node_key_for(start).unwrap_or(start);
            Box::new(
                self.nodes
                    .range(from..)
                    .flat_map(|(_, n)| n.iter())
                    .skip_while(move |e| e.id < start)
                    .take_while(move |e| e.id <= end),
            )
        }
    }

    /// The entry with `id`, if present.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        let k = self.node_key_for(id)?;
        let n = &self.nodes[&k];
        if id > n.last {
            return None;
        }
        n.iter().find(|e| e.id >= id).filter(|e| e.id == id)
    }

    /// Whether an entry with `id` is present.
    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The first entry, or the last.
    pub fn edge(&self, last: bool) -> Option<EntryRef<'_>> {
        self.range(StreamId::MIN, StreamId::MAX, last).next()
    }

    /// The last present entry's ID, 0-0 when empty.
    pub fn last_valid_id(&self) -> StreamId {
        // Nodes are never empty; each knows its last entry.
        self.nodes
            .last_key_value()
            .map_or(StreamId::MIN, |(_, n)| n.last)
    }

    fn refresh_first(&mut self) {
        self.first_id = self.edge(false).map_or(StreamId::MIN, |e| e.id);
    }

    /// Deletes the entry with `id`; returns whether it was present.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some(k) = self.node_key_for(id) else {
            return false;
        };
        let n = self.nodes.get_mut(&k).expect("node found above");
        let Some(slot) = n.slots().find(|s| s.id >= id).filter(|s| s.id == id) else {
            return false;
        };
        n.buf.drain(slot.start..slot.end);
        n.count -= 1;
        n.deleted += 1;
        if n.count == 0 {
            self.nodes.remove(&k);
        } else if id == n.last {
            n.last = n.slots().last().map_or(n.key, |s| s.id);
        }
        self.length -= 1;
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if id == self.first_id {
            self.refresh_first();
        }
        true
    }

    /// Trims as Redis's `streamTrim`: whole nodes first; with `approx`
    /// only whole nodes; at most `limit` entries (0: no limit). Returns the
    /// number of entries removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let Some((&k, n)) = self.nodes.first_key_value() else {
                break;
            };
            let entries = n.count as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => n.last < min,
            };
            if remove_node {
                self.nodes.remove(&k);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let n = self.nodes.get_mut(&k).expect("first node");
            let (cut, upto) = {
                let want = match how {
                    Trim::MaxLen(max) => (self.length - max) as usize,
                    Trim::MinId(_) => usize::MAX,
                };
                let mut cut = 0;
                let mut upto = 0;
                for s in n.slots() {
                    let stop = match how {
                        Trim::MaxLen(_) => cut >= want,
                        Trim::MinId(min) => s.id >= min,
                    };
                    if stop {
                        break;
                    }
                    cut += 1;
                    upto = s.end;
                }
                (cut, upto)
            };
            n.buf.drain(..upto);
            n.count -= cut;
            n.deleted += cut;
            self.length -= cut as u64;
            deleted += cut as u64;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.refresh_first();
        }
        deleted
    }

    /// Whether an XDEL tombstone lies in `[start, end]` (`end` None: to
    /// the end).
    pub fn range_has_tombstones(&self, start: StreamId, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end.unwrap_or(StreamId::MAX)
    }

    /// The logical position of `id` counted from the first entry ever
    /// added, when it can be known.
    pub fn distance_from_first_ever(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        let added = self.entries_added as i64;
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return ENTRIES_READ_INVALID;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return added - self.length as i64;
            }
            if id == self.first_id {
                return added - self.length as i64 + 1;
            }
        }
        ENTRIES_READ_INVALID
    }

    /// A group's lag, when it can be known.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != ENTRIES_READ_INVALID && !self.range_has_tombstones(g.last_id, None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.distance_from_first_ever(g.last_id);
        (read != ENTRIES_READ_INVALID).then(|| self.entries_added as i64 - read)
    }

    /// Records that a group has been delivered entry `id` (past its last
    /// ID): advances its last ID and read counter.
    pub fn advance_group(&self, g: &mut Group, id: StreamId) {
        if g.entries_read != ENTRIES_READ_INVALID && !self.range_has_tombstones(id, None) {
            g.entries_read += 1;
        } else if self.entries_added != 0 {
            g.entries_read = self.distance_from_first_ever(id);
        }
        g.last_id = id;
    }

    /// The work freeing the stream takes, as Redis counts it: one per
    /// node, and per group one plus its pending entries (the first
    /// group's count standing for all).
    pub fn free_effort(&self) -> usize {
        let pel = self.groups.values().next().map_or(0, |g| g.pel.len());
        self.nodes.len() + self.groups.len() * (1 + pel)
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        use crate::value::alloc_size;
        // The nodes sit in B-tree leaves of 11 (ID, node) slots, about
        // two-thirds full; a one-node stream still has a whole leaf.
        let slot = std::mem::size_of::<StreamId>() + std::mem::size_of::<Node>();
        let leaves = self.nodes.len().div_ceil(7).max(1);
        let tree = leaves * alloc_size(11 * slot + 16);
        let nodes: usize = tree
            + self
                .nodes
                .values()
                .map(|n| alloc_size(n.heap_bytes()))
                .sum::<usize>();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| {
                name.len()
                    + std::mem::size_of::<Group>()
                    + g.pel.len() * (std::mem::size_of::<(StreamId, Nack)>() + 8)
                    + g.consumers
                        .values()
                        .map(|c| c.name.len() + 64 + c.pel.len() * 24)
                        .sum::<usize>()
            })
            .sum();
        nodes + groups
    }

    /// Every node as (master ID, master fields, entries) for the RDB
    /// writer: each entry's ID and field/value pairs.
    #[allow(clippy::type_complexity)]
    pub fn nodes_for_rdb(&self) -> Vec<(StreamId, &[Box<[u8]>], Vec<EntryRef<'_>>)> {
        self.nodes
            .iter()
            .map(|(k, n)| (*k, &*n.master, n.iter().collect()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: NodeLimits = NodeLimits {
        max_bytes: 4096,
        max_entries: 100,
    };

    fn add(s: &mut Stream, ms: u64, f: &[(&str, &str)]) {
        let fields: Vec<(&[u8], &[u8])> = f
            .iter()
            .map(|(a, b)| (a.as_bytes(), b.as_bytes()))
            .collect();
        s.append(StreamId::new(ms, 0), &fields, LIM);
    }

    #[test]
    fn entries_round_trip_and_share_field_names() {
        let mut s = Stream::default();
        for i in 1..=250u64 {
            if i % 2 == 0 {
                add(&mut s, i, &[("a", "1"), ("b", "two")]);
            } else {
                add(&mut s, i, &[("x", "y")]);
            }
        }
        assert_eq!(s.length, 250);
        assert_eq!(s.node_count(), 3);
        let e = s.get(StreamId::new(4, 0)).unwrap();
        let f: Vec<_> = e.fields().collect();
        assert_eq!(f, vec![(&b"a"[..], &b"1"[..]), (&b"b"[..], &b"two"[..])]);
        let e = s.get(StreamId::new(101, 0)).unwrap();
        assert_eq!(e.fields().collect::<Vec<_>>(), vec![(&b"x"[..], &b"y"[..])]);
        let ids: Vec<u64> = s
            .range(StreamId::new(98, 0), StreamId::new(103, 0), false)
            .map(|e| e.id.ms)
            .collect();
        assert_eq!(ids, vec![98, 99, 100, 101, 102, 103]);
        let ids: Vec<u64> = s
            .range(StreamId::new(98, 0), StreamId::new(103, 0), true)
            .map(|e| e.id.ms)
            .collect();
        assert_eq!(ids, vec![103, 102, 101, 100, 99, 98]);
    }

    #[test]
    fn trimming_follows_nodes() {
        let mut s = Stream::default();
        for i in 1..=1000u64 {
            add(&mut s, i, &[("f", "v")]);
        }
        assert_eq!(s.trim(Trim::MaxLen(555), true, 10_000), 400);
        assert_eq!(s.length, 600);
        assert_eq!(s.trim(Trim::MaxLen(555), false, 0), 45);
        assert_eq!(s.first_id, StreamId::new(446, 0));
        assert_eq!(s.trim(Trim::MinId(StreamId::new(900, 0)), false, 0), 454);
        assert_eq!(s.length, 101);
        assert!(s.delete(StreamId::new(950, 0)));
        assert!(!s.delete(StreamId::new(950, 0)));
        assert_eq!(s.max_deleted_id, StreamId::new(950, 0));
        assert!(s.delete(StreamId::new(1000, 0)));
        assert_eq!(s.last_valid_id(), StreamId::new(999, 0));
        assert!(s.get(StreamId::new(950, 0)).is_none());
        assert_eq!(s.get(StreamId::new(951, 0)).map(|e| e.id.ms), Some(951));
        assert_eq!(
            s.range(StreamId::new(948, 0), StreamId::new(952, 0), true)
                .count(),
            4
        );
    }
}
