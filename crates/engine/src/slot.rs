//! A stored key: its [`Entry`] and the key's bytes in one allocation.
//!
//! A hash table bucket holds one thin pointer to a slot. Keeping the key
//! in the same allocation as the entry, rather than in a box of its own,
//! saves an allocation per key (16 to 32 bytes with jemalloc's size
//! classes, the key's own size-class rounding included) and a pointer
//! chase on every lookup.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

use crate::keyspace::Entry;

/// Owns an [`Entry`] followed by `entry.klen` key bytes.
pub struct Slot {
    ptr: NonNull<Entry>,
}

// SAFETY: a Slot owns its allocation exclusively, as a Box does; the
// entry it holds is Send and Sync, and so are bytes.
#[allow(unsafe_code)]
unsafe impl Send for Slot {}
// SAFETY: as above; shared access only reads.
#[allow(unsafe_code)]
unsafe impl Sync for Slot {}

/// The allocation's layout for a key of `klen` bytes, and the offset of
/// the key bytes in it.
fn layout(klen: usize) -> (Layout, usize) {
    let (l, offset) = Layout::new::<Entry>()
        .extend(Layout::array::<u8>(klen).unwrap_or_else(|_| panic!("key of {klen} bytes")))
        .unwrap_or_else(|_| panic!("key of {klen} bytes"));
    (l.pad_to_align(), offset)
}

#[allow(unsafe_code)]
impl Slot {
    /// Stores `entry` under `key`.
    pub fn new(key: &[u8], mut entry: Entry) -> Slot {
        entry.klen = u32::try_from(key.len()).unwrap_or_else(|_| panic!("key too long"));
        let (l, offset) = layout(key.len());
        // SAFETY: `l` has a non-zero size (it holds an Entry). The entry
        // is written at the start, which `l` aligns for it, and the key
        // bytes at `offset`, inside the allocation by construction.
        unsafe {
            let p = alloc(l);
            let Some(ptr) = NonNull::new(p.cast::<Entry>()) else {
                handle_alloc_error(l)
            };
            ptr.as_ptr().write(entry);
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(offset), key.len());
            Slot { ptr }
        }
    }

    /// The key's bytes.
    #[inline]
    pub fn key(&self) -> &[u8] {
        let klen = self.klen as usize;
        let (_, offset) = layout(klen);
        // SAFETY: `new` wrote `klen` bytes at `offset` of this allocation,
        // and they live as long as the slot; the pointer comes from the
        // allocation itself, so it covers them.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>().add(offset), klen) }
    }

    /// Frees the slot, handing back its entry.
    pub fn into_entry(self) -> Entry {
        let (l, _) = layout(self.klen as usize);
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: the entry was written by `new` and is read out once; the
        // allocation is then freed with the layout it was made with, and
        // `forget` keeps Drop from touching it again.
        unsafe {
            let entry = ptr.as_ptr().read();
            dealloc(ptr.as_ptr().cast::<u8>(), l);
            entry
        }
    }
}

impl std::ops::Deref for Slot {
    type Target = Entry;
    #[inline]
    #[allow(unsafe_code)]
    fn deref(&self) -> &Entry {
        // SAFETY: the pointer is to a live Entry owned by this slot.
        unsafe { self.ptr.as_ref() }
    }
}

impl std::ops::DerefMut for Slot {
    #[inline]
    #[allow(unsafe_code)]
    fn deref_mut(&mut self) -> &mut Entry {
        // SAFETY: as for Deref; `&mut self` makes the access exclusive.
        unsafe { self.ptr.as_mut() }
    }
}

impl Drop for Slot {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        let (l, _) = layout(self.klen as usize);
        // SAFETY: the entry is live and dropped once here; the allocation
        // is freed with the layout `new` made it with.
        unsafe {
            std::ptr::drop_in_place(self.ptr.as_ptr());
            dealloc(self.ptr.as_ptr().cast::<u8>(), l);
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("entry", &**self)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Str, Value};

    #[test]
    fn keeps_key_and_entry_together() {
        for len in [0usize, 1, 7, 8, 16, 100, 5000] {
            let key: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let v = Value::Str(Str::from_bytes(b"some value"));
            let mut s = Slot::new(&key, Entry::new(v, 42, 7));
            assert_eq!(s.key(), &key[..]);
            assert_eq!(s.expire_ms(), Some(42));
            s.lru = 9;
            let e = s.into_entry();
            assert_eq!(e.lru, 9);
            assert!(matches!(e.value, Value::Str(_)));
        }
        assert!(std::mem::size_of::<Entry>() <= 48);
    }
}
