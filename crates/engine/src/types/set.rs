//! The set value type: sorted integers (`intset`), members in insertion
//! order (`listpack`), or a [`Dict`] (`hashtable`), converting one way as
//! Redis does.

use std::borrow::Cow;

use rand::Rng;

use super::{as_int, random_indexes, Dict, Limits};

/// A set value.
#[derive(Debug, Clone)]
pub enum Set {
    /// Integers in ascending order.
    Int(Vec<i64>),
    /// Members in insertion order.
    Pack(Vec<Box<[u8]>>),
    /// The big encoding.
    Table(Dict<()>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Int(Vec::new())
    }
}

fn int_text(i: i64) -> Vec<u8> {
    i.to_string().into_bytes()
}

impl Set {
    /// An empty set in the encoding Redis picks for a first member and the
    /// number of members about to be added (`setTypeCreate`).
    pub fn for_first(first: &[u8], size_hint: usize, lim: &Limits) -> Set {
        if as_int(first).is_some() && size_hint <= lim.set_max_intset_entries.min(1 << 30) {
            Set::Int(Vec::new())
        } else if size_hint <= lim.set_max_listpack_entries {
            Set::Pack(Vec::new())
        } else {
            Set::Table(Dict::with_capacity(size_hint))
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Int(v) => v.len(),
            Set::Pack(v) => v.len(),
            Set::Table(d) => d.len(),
        }
    }

    /// Whether it holds no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Int(_) => "intset",
            Set::Pack(_) => "listpack",
            Set::Table(_) => "hashtable",
        }
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        use crate::value::alloc_size;
        match self {
            Set::Int(v) => alloc_size(v.capacity() * 8),
            Set::Pack(v) => {
                alloc_size(v.capacity() * 16) + v.iter().map(|m| alloc_size(m.len())).sum::<usize>()
            }
            Set::Table(d) => d.heap_bytes(),
        }
    }

    /// Whether `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Int(v) => as_int(m).is_some_and(|i| v.binary_search(&i).is_ok()),
            Set::Pack(v) => v.iter().any(|x| &**x == m),
            Set::Table(d) => d.contains(m),
        }
    }

    fn convert_to_table(&mut self, extra: usize) {
        let mut d = Dict::with_capacity(self.len() + extra);
        match self {
            Set::Int(v) => v.iter().for_each(|i| {
                d.insert(&int_text(*i), ());
            }),
            Set::Pack(v) => v.iter().for_each(|m| {
                d.insert(m, ());
            }),
            Set::Table(_) => return,
        }
        *self = Set::Table(d);
    }

    /// Before adding `size_hint` members: converts when the hint alone
    /// passes the current encoding's limit (`setTypeMaybeConvert`).
    pub fn reserve(&mut self, size_hint: usize, lim: &Limits) {
        let over = match self {
            Set::Int(_) => size_hint > lim.set_max_intset_entries.min(1 << 30),
            Set::Pack(_) => size_hint > lim.set_max_listpack_entries,
            Set::Table(_) => false,
        };
        if over {
            self.convert_to_table(size_hint);
        }
    }

    /// Adds a member; returns true when it is new.
    pub fn add(&mut self, m: &[u8], lim: &Limits) -> bool {
        match self {
            Set::Int(v) => {
                if let Some(i) = as_int(m) {
                    return match v.binary_search(&i) {
                        Ok(_) => false,
                        Err(pos) => {
                            v.insert(pos, i);
                            if v.len() > lim.set_max_intset_entries.min(1 << 30) {
                                self.convert_to_table(0);
                            }
                            true
                        }
                    };
                }
                let maxlen = match (v.first(), v.last()) {
                    (Some(a), Some(b)) => int_text(*a).len().max(int_text(*b).len()),
                    _ => 0,
                };
                if v.len() < lim.set_max_listpack_entries
                    && m.len() <= lim.set_max_listpack_value
                    && maxlen <= lim.set_max_listpack_value
                {
                    let mut p: Vec<Box<[u8]>> = v.iter().map(|i| int_text(*i).into()).collect();
                    p.push(m.into());
                    *self = Set::Pack(p);
                } else {
                    self.convert_to_table(1);
                    if let Set::Table(d) = self {
                        d.insert(m, ());
                    }
                }
                true
            }
            Set::Pack(v) => {
                if v.iter().any(|x| &**x == m) {
                    return false;
                }
                if v.len() < lim.set_max_listpack_entries && m.len() <= lim.set_max_listpack_value {
                    v.push(m.into());
                } else {
                    self.convert_to_table(1);
                    if let Set::Table(d) = self {
                        d.insert(m, ());
                    }
                }
                true
            }
            Set::Table(d) => d.insert(m, ()).is_none(),
        }
    }

    /// Removes a member; returns whether it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Int(v) => match as_int(m).map(|i| v.binary_search(&i)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    true
                }
                _ => false,
            },
            Set::Pack(v) => match v.iter().position(|x| &**x == m) {
                Some(pos) => {
                    v.remove(pos);
                    true
                }
                None => false,
            },
            Set::Table(d) => d.remove(m).is_some(),
        }
    }

    /// Members in storage order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        match self {
            Set::Int(v) => Box::new(v.iter().map(|i| Cow::Owned(int_text(*i)))),
            Set::Pack(v) => Box::new(v.iter().map(|m| Cow::Borrowed(&**m))),
            Set::Table(d) => Box::new(d.iter().map(|(m, _)| Cow::Borrowed(m))),
        }
    }

    /// `count` random members: distinct ones, or drawn with replacement.
    pub fn random(&self, count: usize, distinct: bool, rng: &mut impl Rng) -> Vec<Vec<u8>> {
        match self {
            Set::Int(v) => random_indexes(v.len(), count, distinct, rng)
                .into_iter()
                .map(|i| int_text(v[i]))
                .collect(),
            Set::Pack(v) => random_indexes(v.len(), count, distinct, rng)
                .into_iter()
                .map(|i| v[i].to_vec())
                .collect(),
            Set::Table(d) => d
                .random_slots(count, distinct, rng)
                .into_iter()
                .filter_map(|i| d.slot(i).map(|(m, _)| m.to_vec()))
                .collect(),
        }
    }

    /// One SCAN step (small sets whole, as Redis does).
    pub fn scan(&self, cursor: u64, count: usize) -> (u64, Vec<Vec<u8>>) {
        match self {
            Set::Table(d) => {
                let mut out = Vec::new();
                let mut i = cursor as usize;
                while i < d.slot_count() && out.len() < count {
                    if let Some((m, _)) = d.slot(i) {
                        out.push(m.to_vec());
                    }
                    i += 1;
                }
                (if i >= d.slot_count() { 0 } else { i as u64 }, out)
            }
            _ => (0, self.iter().map(Cow::into_owned).collect()),
        }
    }
}
