//! The hash value type: fields and values packed in one buffer in
//! insertion order while small (Redis's `listpack`), a [`Dict`] past
//! `hash-max-listpack-*` (`hashtable`). Conversion is one-way, as in Redis.

use rand::Rng;

use super::{Dict, Limits};

/// A field and its value.
pub type Pair = (Box<[u8]>, Box<[u8]>);

/// A borrowed field and value.
pub type PairRef<'a> = (&'a [u8], &'a [u8]);

/// Borrowed pairs, as iteration yields them.
pub type PairIter<'a> = Box<dyn Iterator<Item = (&'a [u8], &'a [u8])> + 'a>;

/// The small encoding: fields and values back to back in one buffer,
/// each prefixed by its length as a varint, in insertion order (Redis's
/// listpack, one allocation for the whole hash).
#[derive(Debug, Clone, Default)]
pub struct Packed {
    /// Exactly as long as its pairs (a box, not a `Vec`: with no capacity
    /// to remember, a hash's value fits in a `Value` without a box).
    buf: Box<[u8]>,
    pairs: u32,
}

/// Reads one length-prefixed string at `pos`: its bytes and the position
/// after it.
fn get_str(buf: &[u8], pos: usize) -> (&[u8], usize) {
    let mut p = pos;
    let s = super::get_prefixed(buf, &mut p);
    (s, p)
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    super::put_varint(out, n as u64);
}

/// Where a pair lies: its start, where its value starts, its end.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    value: usize,
    end: usize,
}

impl Packed {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs as usize
    }

    /// Whether it holds no pair.
    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// Edits the buffer as a `Vec`, then stores it back to the byte, as a
    /// listpack is reallocated (jemalloc resizes in place within a size
    /// class).
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let mut v = std::mem::take(&mut self.buf).into_vec();
        let r = f(&mut v);
        self.buf = v.into_boxed_slice();
        r
    }

    fn spans(&self) -> impl Iterator<Item = (Span, &[u8], &[u8])> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let start = pos;
            let (f, value) = get_str(&self.buf, pos);
            let (v, end) = get_str(&self.buf, value);
            pos = end;
            Some((Span { start, value, end }, f, v))
        })
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = PairRef<'_>> + '_ {
        self.spans().map(|(_, f, v)| (f, v))
    }

    fn find(&self, field: &[u8]) -> Option<Span> {
        self.spans()
            .find(|(_, f, _)| *f == field)
            .map(|(s, _, _)| s)
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(f, _)| *f == field).map(|(_, v)| v)
    }

    /// Sets a field; returns true when it is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let mut enc = Vec::with_capacity(value.len() + 2);
        put_len(&mut enc, value.len());
        enc.extend_from_slice(value);
        match self.find(field) {
            Some(s) => {
                self.edit(|b| {
                    b.splice(s.value..s.end, enc);
                });
                false
            }
            None => {
                self.edit(|b| {
                    b.reserve_exact(field.len() + 5 + enc.len());
                    put_len(b, field.len());
                    b.extend_from_slice(field);
                    b.extend_from_slice(&enc);
                });
                self.pairs += 1;
                true
            }
        }
    }

    /// Removes a field; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(s) => {
                self.edit(|b| {
                    b.drain(s.start..s.end);
                });
                self.pairs -= 1;
                true
            }
            None => false,
        }
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        crate::value::alloc_size(self.buf.len())
    }
}

/// A hash value.
#[derive(Debug, Clone)]
pub enum Hash {
    /// Field/value pairs in insertion order.
    Pack(Packed),
    /// The big encoding (boxed, so that a small hash stays small).
    Table(Box<Dict<Box<[u8]>>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Packed::default())
    }
}

impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Pack(v) => v.len(),
            Hash::Table(d) => d.len(),
        }
    }

    /// Whether it holds no field.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Pack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Hash::Pack(v) => v.heap_bytes(),
            Hash::Table(d) => {
                crate::value::alloc_size(std::mem::size_of::<Dict<Box<[u8]>>>())
                    + d.heap_bytes()
                    + d.iter()
                        .map(|(_, v)| crate::value::alloc_size(v.len()))
                        .sum::<usize>()
            }
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(v) => v.get(field),
            Hash::Table(d) => d.get(field).map(|x| &**x),
        }
    }

    fn convert_to_table(&mut self, extra: usize) {
        if let Hash::Pack(v) = self {
            let mut d = Dict::with_capacity(v.len() + extra);
            for (f, x) in v.iter() {
                d.insert(f, Box::from(x));
            }
            *self = Hash::Table(Box::new(d));
        }
    }

    /// Before setting the field/value pairs in `args`: converts to the big
    /// encoding when they could not stay small (Redis's
    /// `hashTypeTryConversion`).
    pub fn prepare(&mut self, args: &[&[u8]], lim: &Limits) {
        if let Hash::Pack(_) = self {
            let new_fields = args.len() / 2;
            if new_fields > lim.hash_max_listpack_entries
                || args.iter().any(|a| a.len() > lim.hash_max_listpack_value)
            {
                self.convert_to_table(new_fields);
            }
        }
    }

    /// Sets a field; returns true when it is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: &Limits) -> bool {
        if let Hash::Pack(_) = self {
            if field.len() > lim.hash_max_listpack_value
                || value.len() > lim.hash_max_listpack_value
            {
                self.convert_to_table(1);
            }
        }
        match self {
            Hash::Pack(v) => {
                if !v.set(field, value) {
                    return false;
                }
                if v.len() > lim.hash_max_listpack_entries {
                    self.convert_to_table(0);
                }
                true
            }
            Hash::Table(d) => d.insert(field, value.into()).is_none(),
        }
    }

    /// Removes a field; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(v) => v.remove(field),
            Hash::Table(d) => d.remove(field).is_some(),
        }
    }

    /// Fields and values in storage order.
    pub fn iter(&self) -> PairIter<'_> {
        match self {
            Hash::Pack(v) => Box::new(v.iter()),
            Hash::Table(d) => Box::new(d.iter().map(|(f, x)| (f, &**x))),
        }
    }

    /// A uniformly random pair.
    pub fn random(&self, rng: &mut impl Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Pack(v) if v.is_empty() => None,
            Hash::Pack(v) => v.iter().nth(rng.gen_range(0..v.len())),
            Hash::Table(d) => d.random(rng).map(|(f, x)| (f, &**x)),
        }
    }

    /// One SCAN step from `cursor` over about `count` fields: the next
    /// cursor (0 at the end) and the pairs seen. Small hashes are returned
    /// whole, as Redis does for listpacks.
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<PairRef<'_>>) {
        match self {
            Hash::Pack(_) => (0, self.iter().collect()),
            Hash::Table(d) => {
                let mut out = Vec::new();
                let mut i = cursor as usize;
                while i < d.slot_count() && out.len() < count {
                    if let Some((f, x)) = d.slot(i) {
                        out.push((f, &**x));
                    }
                    i += 1;
                }
                (if i >= d.slot_count() { 0 } else { i as u64 }, out)
            }
        }
    }
}
