//! The hash value type: a vector of pairs in insertion order while small
//! (Redis's `listpack`), a [`Dict`] past `hash-max-listpack-*`
//! (`hashtable`). Conversion is one-way, as in Redis.

use rand::Rng;

use super::{Dict, Limits};

/// A field and its value.
pub type Pair = (Box<[u8]>, Box<[u8]>);

/// A borrowed field and value.
pub type PairRef<'a> = (&'a [u8], &'a [u8]);

/// Borrowed pairs, as iteration yields them.
pub type PairIter<'a> = Box<dyn Iterator<Item = (&'a [u8], &'a [u8])> + 'a>;

/// A hash value.
#[derive(Debug, Clone)]
pub enum Hash {
    /// Field/value pairs in insertion order.
    Pack(Vec<Pair>),
    /// The big encoding.
    Table(Dict<Box<[u8]>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Vec::new())
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
            Hash::Pack(v) => {
                v.capacity() * 32 + v.iter().map(|(f, x)| f.len() + x.len()).sum::<usize>()
            }
            Hash::Table(d) => d.heap_bytes() + d.iter().map(|(_, v)| v.len()).sum::<usize>(),
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(v) => v.iter().find(|(f, _)| &**f == field).map(|(_, x)| &**x),
            Hash::Table(d) => d.get(field).map(|x| &**x),
        }
    }

    fn convert_to_table(&mut self, extra: usize) {
        if let Hash::Pack(v) = self {
            let mut d = Dict::with_capacity(v.len() + extra);
            for (f, x) in v.drain(..) {
                d.insert(&f, x);
            }
            *self = Hash::Table(d);
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
                if let Some(e) = v.iter_mut().find(|(f, _)| &**f == field) {
                    e.1 = value.into();
                    return false;
                }
                v.push((field.into(), value.into()));
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
            Hash::Pack(v) => match v.iter().position(|(f, _)| &**f == field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            Hash::Table(d) => d.remove(field).is_some(),
        }
    }

    /// Fields and values in storage order.
    pub fn iter(&self) -> PairIter<'_> {
        match self {
            Hash::Pack(v) => Box::new(v.iter().map(|(f, x)| (&**f, &**x))),
            Hash::Table(d) => Box::new(d.iter().map(|(f, x)| (f, &**x))),
        }
    }

    /// A uniformly random pair.
    pub fn random(&self, rng: &mut impl Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Pack(v) if v.is_empty() => None,
            Hash::Pack(v) => {
                let (f, x) = &v[rng.gen_range(0..v.len())];
                Some((f, x))
            }
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
