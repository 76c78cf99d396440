//! The list value type.
//!
//! Elements are packed back to back in chunks of up to 8 KiB
//! ([`Chunked`]): about the bytes of a listpack per element, O(1) push and
//! pop at both ends, O(chunks) to reach an index.
//! What OBJECT ENCODING reports follows Redis's own bookkeeping: a list is a
//! `listpack` while its listpack byte size stays under
//! `list-max-listpack-size`, then a `quicklist`, whose node layout (element
//! count and listpack bytes per node) is modelled here so that the way back
//! to `listpack` on shrinking happens exactly when Redis does it (one node
//! left, at most half the node limit).

use std::collections::VecDeque;

use super::chunked::Chunked;
use super::{lp_entry_len, LP_EMPTY};

/// Listpack byte budgets for negative `list-max-listpack-size` values.
const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Largest node size a count-limited quicklist node may reach.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Redis's per-insert overestimate of the bytes an entry adds.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

/// One modelled quicklist node.
#[derive(Debug, Clone, Copy)]
struct Node {
    count: usize,
    bytes: usize,
}

/// (size limit, count limit) of a quicklist node for a fill value.
fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, (fill as usize).max(1))
    } else {
        let off = ((-fill - 1) as usize).min(LEVELS.len() - 1);
        (LEVELS[off], usize::MAX)
    }
}

fn exceeds(fill: i64, sz: usize, count: usize) -> bool {
    let (sl, cl) = node_limit(fill);
    if sl != usize::MAX {
        sz > sl
    } else {
        sz > SIZE_SAFETY_LIMIT || count > cl
    }
}

fn allow_insert(fill: i64, n: &Node, sz: usize) -> bool {
    !exceeds(fill, n.bytes + sz + SIZE_ESTIMATE_OVERHEAD, n.count + 1)
}

/// A list value.
#[derive(Debug, Clone, Default)]
pub struct List {
    items: Chunked,
    /// Bytes of the elements as one listpack.
    lp_bytes: usize,
    /// The quicklist node layout; `None` while listpack-encoded.
    /// Boxed: a small list's value stays one size class smaller, and a
    /// list only has nodes past the listpack limits.
    #[allow(clippy::box_collection)]
    nodes: Option<Box<VecDeque<Node>>>,
}

impl List {
    /// An empty listpack-encoded list.
    pub fn new() -> List {
        List {
            items: Chunked::default(),
            lp_bytes: LP_EMPTY,
            nodes: None,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Nodes of Redis's layout for this list (1 while listpack-encoded).
    pub fn node_count(&self) -> usize {
        self.nodes.as_ref().map_or(1, |n| n.len())
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        if self.nodes.is_some() {
            "quicklist"
        } else {
            "listpack"
        }
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        use crate::value::alloc_size;
        self.items.heap_bytes()
            + self.nodes.as_ref().map_or(0, |n| {
                alloc_size(std::mem::size_of::<VecDeque<Node>>()) + alloc_size(n.capacity() * 16)
            })
    }

    /// Element `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.items.get(i)
    }

    /// Elements in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter()
    }

    /// Elements `start..=end` (already clamped by the caller).
    pub fn range(&self, start: usize, end: usize) -> impl DoubleEndedIterator<Item = &[u8]> {
        self.items.range(start, end)
    }

    /// Before adding elements totalling `add_bytes` raw bytes: converts a
    /// listpack that would grow past the node limit into a quicklist
    /// (Redis's `listTypeTryConversionAppend`).
    pub fn grow(&mut self, fill: i64, add_bytes: usize, add_len: usize) {
        if self.nodes.is_none() && exceeds(fill, self.lp_bytes + add_bytes, self.len() + add_len) {
            let mut nodes = VecDeque::new();
            if !self.is_empty() {
                nodes.push_back(Node {
                    count: self.len(),
                    bytes: self.lp_bytes,
                });
            }
            self.nodes = Some(Box::new(nodes));
        }
    }

    /// After removing elements: converts a quicklist left with a single
    /// node of at most half the limit back to a listpack.
    pub fn shrink(&mut self, fill: i64) {
        let Some(nodes) = &self.nodes else { return };
        if nodes.len() != 1 {
            return;
        }
        let (sl, cl) = node_limit(fill);
        let (sl, cl) = (sl / 2, cl / 2);
        if nodes[0].bytes <= sl && nodes[0].count <= cl {
            self.nodes = None;
        }
    }

    /// Pushes at the head or the tail (after `grow`).
    pub fn push(&mut self, fill: i64, v: &[u8], head: bool) {
        let entry = lp_entry_len(v);
        self.lp_bytes += entry;
        if let Some(nodes) = &mut self.nodes {
            let end = if head {
                nodes.front_mut()
            } else {
                nodes.back_mut()
            };
            match end {
                Some(n) if allow_insert(fill, n, v.len()) => {
                    n.count += 1;
                    n.bytes += entry;
                }
                _ => {
                    let n = Node {
                        count: 1,
                        bytes: LP_EMPTY + entry,
                    };
                    if head {
                        nodes.push_front(n)
                    } else {
                        nodes.push_back(n)
                    }
                }
            }
        }
        self.items.push(v, head);
    }

    /// Pops from the head or the tail.
    pub fn pop(&mut self, head: bool) -> Option<Box<[u8]>> {
        let v = self.items.pop(head)?;
        self.account_removed(if head { 0 } else { usize::MAX }, lp_entry_len(&v));
        Some(v)
    }

    /// Bookkeeping for a removed element at index `i` (`usize::MAX`: the
    /// last node) that took `entry` bytes in a listpack.
    fn account_removed(&mut self, i: usize, entry: usize) {
        self.lp_bytes -= entry;
        if let Some(nodes) = &mut self.nodes {
            let ni = if i == usize::MAX {
                nodes.len().saturating_sub(1)
            } else {
                locate(nodes, i).0
            };
            if let Some(n) = nodes.get_mut(ni) {
                n.count -= 1;
                n.bytes -= entry;
                if n.count == 0 {
                    nodes.remove(ni);
                }
            }
        }
    }

    /// Replaces element `i` (which exists).
    pub fn set(&mut self, i: usize, v: &[u8]) {
        let old = self.items.get(i).map_or(0, lp_entry_len);
        let new = lp_entry_len(v);
        self.lp_bytes = self.lp_bytes + new - old;
        if let Some(nodes) = &mut self.nodes {
            let (ni, _) = locate(nodes, i);
            nodes[ni].bytes = nodes[ni].bytes + new - old;
        }
        self.items.set(i, v);
    }

    /// Inserts `v` next to the element at `pivot` (after it or before it).
    pub fn insert(&mut self, fill: i64, pivot: usize, after: bool, v: &[u8]) {
        let entry = lp_entry_len(v);
        let at = if after { pivot + 1 } else { pivot };
        if let Some(nodes) = &mut self.nodes {
            let (ni, off) = locate(nodes, pivot);
            let node = nodes[ni];
            let full = !allow_insert(fill, &node, v.len());
            let at_tail = after && off + 1 == node.count;
            let at_head = !after && off == 0;
            let avail_next = at_tail
                && nodes
                    .get(ni + 1)
                    .is_some_and(|n| allow_insert(fill, n, v.len()));
            let avail_prev = at_head && ni > 0 && allow_insert(fill, &nodes[ni - 1], v.len());
            let target = if !full {
                Some(ni)
            } else if avail_next {
                Some(ni + 1)
            } else if avail_prev {
                Some(ni - 1)
            } else {
                None
            };
            match target {
                Some(t) => {
                    nodes[t].count += 1;
                    nodes[t].bytes += entry;
                }
                None if at_tail || at_head => {
                    let n = Node {
                        count: 1,
                        bytes: LP_EMPTY + entry,
                    };
                    nodes.insert(if at_tail { ni + 1 } else { ni }, n);
                }
                None => {
                    // Split the node at the pivot; the new element joins
                    // the half that is cut off, then neighbours merge if
                    // they fit.
                    let start = pivot - off;
                    let items = &self.items;
                    let bytes_of = |r: std::ops::Range<usize>| {
                        LP_EMPTY
                            + if r.is_empty() {
                                0
                            } else {
                                items.range(r.start, r.end - 1).map(lp_entry_len).sum()
                            }
                    };
                    let (left, right) = if after {
                        let l = Node {
                            count: off + 1,
                            bytes: bytes_of(start..pivot + 1),
                        };
                        let r = Node {
                            count: node.count - off - 1 + 1,
                            bytes: bytes_of(pivot + 1..start + node.count) + entry,
                        };
                        (l, r)
                    } else {
                        let l = Node {
                            count: off + 1,
                            bytes: bytes_of(start..pivot) + entry,
                        };
                        let r = Node {
                            count: node.count - off,
                            bytes: bytes_of(pivot..start + node.count),
                        };
                        (l, r)
                    };
                    nodes[ni] = left;
                    nodes.insert(ni + 1, right);
                    merge_around(fill, nodes, ni);
                }
            }
        }
        self.lp_bytes += entry;
        self.items.insert(at, v);
    }

    /// Removes the elements at the given ascending indexes.
    pub fn remove_sorted(&mut self, idx: &[usize]) {
        let (Some(&first), Some(&last)) = (idx.first(), idx.last()) else {
            return;
        };
        // One walk over the span the indexes cover, for their sizes.
        let mut sizes = Vec::with_capacity(idx.len());
        for (j, v) in self.items.range(first, last).enumerate() {
            if sizes.len() < idx.len() && idx[sizes.len()] == first + j {
                sizes.push(lp_entry_len(v));
            }
        }
        for (&i, &size) in idx.iter().zip(&sizes).rev() {
            self.account_removed(i, size);
        }
        self.items.remove_sorted(idx);
    }
}

/// The node holding element `i` and the offset in it.
fn locate(nodes: &VecDeque<Node>, mut i: usize) -> (usize, usize) {
    for (ni, n) in nodes.iter().enumerate() {
        if i < n.count {
            return (ni, i);
        }
        i -= n.count;
    }
    (nodes.len().saturating_sub(1), 0)
}

fn allow_merge(fill: i64, a: &Node, b: &Node) -> bool {
    !exceeds(fill, a.bytes + b.bytes - LP_EMPTY, a.count + b.count)
}

/// Redis's `_quicklistMergeNodes` around the node at `c` and the one
/// right after it (the two halves of a split).
fn merge_around(fill: i64, nodes: &mut VecDeque<Node>, c: usize) {
    let try_merge = |nodes: &mut VecDeque<Node>, a: usize| -> bool {
        if a + 1 < nodes.len() && allow_merge(fill, &nodes[a], &nodes[a + 1]) {
            let b = nodes.remove(a + 1).unwrap_or(Node {
                count: 0,
                bytes: LP_EMPTY,
            });
            nodes[a].count += b.count;
            nodes[a].bytes += b.bytes - LP_EMPTY;
            true
        } else {
            false
        }
    };
    // The left half with its previous node, the right half with its next.
    let mut c = c;
    if c > 0 && try_merge(nodes, c - 1) {
        c -= 1;
    }
    try_merge(nodes, c + 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        let mut l = List::new();
        for _ in 0..10 {
            l.grow(-2, 5, 1);
            l.push(-2, b"hello", false);
        }
        assert_eq!(l.encoding(), "listpack");
        let big = vec![b'x'; 8192];
        l.grow(-2, big.len(), 1);
        l.push(-2, &big, false);
        assert_eq!(l.encoding(), "quicklist");
        l.pop(false);
        l.shrink(-2);
        assert_eq!(l.encoding(), "listpack");
        // Count-limited nodes: [a b c] [d] -> pop 3 from the tail.
        let mut l = List::new();
        for e in [b"a", b"b", b"c", b"d"] {
            l.grow(3, 1, 1);
            l.push(3, e, false);
        }
        assert_eq!(l.encoding(), "quicklist");
        l.pop(false);
        l.pop(false);
        l.shrink(3);
        assert_eq!(l.encoding(), "quicklist");
        l.pop(false);
        l.shrink(3);
        assert_eq!(l.encoding(), "listpack");
    }
}
