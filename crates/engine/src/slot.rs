//! A stored key: its value, access stamp, deadline and the key's bytes in
//! one allocation.
//!
//! A hash table bucket holds one thin pointer to a slot. Keeping the key
//! in the same allocation as the value, rather than in a box of its own,
//! saves an allocation per key and a pointer chase on every lookup.
//!
//! The allocation is laid out by hand so that a key pays only for what it
//! uses:
//!
//! ```text
//! 0    Value (32 bytes)
//! 32   access stamp (u32)
//! 36   meta (u8): bit 7 set when the key has a deadline; bits 0-6 the
//!      key's length, or 127 when the length is stored below
//! 37   deadline (u64, Unix ms) and position in the shard's list of keys
//!      with a TTL (u32), only when bit 7 is set
//! ..   key length (u32), only when the meta byte says 127
//! ..   key bytes
//! ```
//!
//! A key without a TTL and up to 11 bytes long fits jemalloc's 48-byte
//! class; the deadline costs 12 bytes only on keys that have one.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

use crate::keyspace::Entry;
use crate::value::Value;

const VALUE_SIZE: usize = std::mem::size_of::<Value>();
const STAMP_AT: usize = VALUE_SIZE;
const META_AT: usize = STAMP_AT + 4;
const EXTRA_AT: usize = META_AT + 1;
/// Bytes the deadline and the list position take.
const VOLATILE_LEN: usize = 12;
const VOLATILE: u8 = 0x80;
const LONG_KEY: u8 = 0x7F;

// The stamp is read in place as a u32 and the value as a Value: both
// offsets must be aligned for them in an allocation aligned for Value.
const _: () = assert!(STAMP_AT.is_multiple_of(4) && std::mem::align_of::<Value>() <= 8);

/// Owns one slot allocation (see the module's layout).
pub struct Slot {
    ptr: NonNull<u8>,
}

// SAFETY: a Slot owns its allocation exclusively, as a Box does; the value
// it holds is Send and Sync, and the rest is plain bytes.
#[allow(unsafe_code)]
unsafe impl Send for Slot {}
// SAFETY: as above; shared access only reads.
#[allow(unsafe_code)]
unsafe impl Sync for Slot {}

/// Where the key bytes start for a meta byte, and the allocation's layout
/// for a key of `klen` bytes.
fn shape(meta: u8, klen: usize) -> (usize, Layout) {
    let at = key_at(meta);
    let size = at
        .checked_add(klen)
        .unwrap_or_else(|| panic!("key of {klen} bytes"));
    let layout = Layout::from_size_align(size, std::mem::align_of::<Value>())
        .unwrap_or_else(|_| panic!("key of {klen} bytes"))
        .pad_to_align();
    (at, layout)
}

/// Where the key bytes start for a meta byte.
#[inline]
fn key_at(meta: u8) -> usize {
    let volatile = usize::from(meta >> 7) * VOLATILE_LEN;
    let long = usize::from(meta & LONG_KEY == LONG_KEY) * 4;
    EXTRA_AT + volatile + long
}

/// Bytes a slot asks the allocator for, for a key of `klen` bytes with or
/// without a TTL.
pub fn footprint(klen: usize, volatile: bool) -> usize {
    shape(meta_for(klen, volatile), klen).1.size()
}

/// The meta byte for a key of `klen` bytes.
fn meta_for(klen: usize, volatile: bool) -> u8 {
    let len = if klen < usize::from(LONG_KEY) {
        klen as u8
    } else {
        LONG_KEY
    };
    if volatile {
        len | VOLATILE
    } else {
        len
    }
}

#[allow(unsafe_code)]
impl Slot {
    /// Stores `value` under `key`, with an access stamp and, when
    /// `expiry` is given, a deadline and the key's position in its shard's
    /// list of keys with a TTL.
    pub fn new(key: &[u8], value: Value, stamp: u32, expiry: Option<(u64, u32)>) -> Slot {
        let klen = u32::try_from(key.len()).unwrap_or_else(|_| panic!("key too long"));
        let meta = meta_for(key.len(), expiry.is_some());
        let (at, l) = shape(meta, key.len());
        // SAFETY: `l` has a non-zero size (it holds a Value) and Value's
        // alignment. Every write below is inside the allocation: the
        // value at 0, the stamp at its 4-aligned offset, the meta byte,
        // the optional fields (unaligned writes) and the key at `at`,
        // whose end is the size `shape` computed.
        unsafe {
            let p = alloc(l);
            let Some(ptr) = NonNull::new(p) else {
                handle_alloc_error(l)
            };
            p.cast::<Value>().write(value);
            p.add(STAMP_AT).cast::<u32>().write(stamp);
            p.add(META_AT).write(meta);
            let mut extra = p.add(EXTRA_AT);
            if let Some((deadline, pos)) = expiry {
                extra.cast::<u64>().write_unaligned(deadline);
                extra.add(8).cast::<u32>().write_unaligned(pos);
                extra = extra.add(VOLATILE_LEN);
            }
            if meta & LONG_KEY == LONG_KEY {
                extra.cast::<u32>().write_unaligned(klen);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(at), key.len());
            Slot { ptr }
        }
    }

    #[inline]
    fn meta(&self) -> u8 {
        // SAFETY: `new` wrote the meta byte, and it lives as long as the slot.
        unsafe { *self.ptr.as_ptr().add(META_AT) }
    }

    /// The key's length.
    #[inline]
    fn klen(&self) -> usize {
        let meta = self.meta();
        if meta & LONG_KEY != LONG_KEY {
            return usize::from(meta & LONG_KEY);
        }
        let at = if meta & VOLATILE != 0 {
            EXTRA_AT + VOLATILE_LEN
        } else {
            EXTRA_AT
        };
        // SAFETY: a long key's meta byte says the length was written at `at`.
        unsafe { self.ptr.as_ptr().add(at).cast::<u32>().read_unaligned() as usize }
    }

    /// The key's bytes.
    #[inline]
    pub fn key(&self) -> &[u8] {
        let klen = self.klen();
        let at = key_at(self.meta());
        // SAFETY: `new` wrote `klen` bytes at `at` of this allocation, and
        // they live as long as the slot.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(at), klen) }
    }

    /// The value.
    #[inline]
    pub fn value(&self) -> &Value {
        // SAFETY: a live Value sits at the start of the allocation.
        unsafe { &*self.ptr.as_ptr().cast::<Value>() }
    }

    /// The value, to change.
    #[inline]
    pub fn value_mut(&mut self) -> &mut Value {
        // SAFETY: as for `value`; `&mut self` makes the access exclusive.
        unsafe { &mut *self.ptr.as_ptr().cast::<Value>() }
    }

    /// The access stamp (`evict`).
    #[inline]
    pub fn lru(&self) -> u32 {
        // SAFETY: the stamp was written at its aligned offset by `new`.
        unsafe { self.ptr.as_ptr().add(STAMP_AT).cast::<u32>().read() }
    }

    /// The access stamp, to change.
    #[inline]
    pub fn lru_mut(&mut self) -> &mut u32 {
        // SAFETY: as for `lru`; `&mut self` makes the access exclusive.
        unsafe { &mut *self.ptr.as_ptr().add(STAMP_AT).cast::<u32>() }
    }

    /// Absolute expiry in Unix milliseconds, if any.
    #[inline]
    pub fn expire_ms(&self) -> Option<u64> {
        if self.meta() & VOLATILE == 0 {
            return None;
        }
        // SAFETY: a volatile slot's deadline was written at EXTRA_AT.
        Some(unsafe {
            self.ptr
                .as_ptr()
                .add(EXTRA_AT)
                .cast::<u64>()
                .read_unaligned()
        })
    }

    /// Whether the key has a deadline at or before `now_ms`.
    #[inline]
    pub fn expired(&self, now_ms: u64) -> bool {
        self.expire_ms().is_some_and(|t| t <= now_ms)
    }

    /// The key's position in its shard's list of keys with a TTL.
    #[inline]
    pub(crate) fn pos(&self) -> Option<u32> {
        if self.meta() & VOLATILE == 0 {
            return None;
        }
        // SAFETY: a volatile slot's position was written after its deadline.
        Some(unsafe {
            self.ptr
                .as_ptr()
                .add(EXTRA_AT + 8)
                .cast::<u32>()
                .read_unaligned()
        })
    }

    /// Moves a key with a TTL to another position in its shard's list.
    pub(crate) fn set_pos(&mut self, pos: u32) {
        assert!(self.meta() & VOLATILE != 0, "position of a key without TTL");
        // SAFETY: checked volatile, so the position field exists.
        unsafe {
            self.ptr
                .as_ptr()
                .add(EXTRA_AT + 8)
                .cast::<u32>()
                .write_unaligned(pos);
        }
    }

    /// Sets the deadline and list position (`None`: no TTL). A slot that
    /// gains or loses its TTL moves to an allocation of the other shape.
    pub(crate) fn set_expiry(&mut self, expiry: Option<(u64, u32)>) {
        let volatile = self.meta() & VOLATILE != 0;
        match expiry {
            Some((deadline, pos)) if volatile => {
                // SAFETY: volatile, so both fields exist.
                unsafe {
                    let extra = self.ptr.as_ptr().add(EXTRA_AT);
                    extra.cast::<u64>().write_unaligned(deadline);
                    extra.add(8).cast::<u32>().write_unaligned(pos);
                }
            }
            None if !volatile => {}
            _ => {
                let klen = self.klen();
                let old_meta = self.meta();
                let (old_at, old_l) = shape(old_meta, klen);
                let stamp = self.lru();
                // SAFETY: the new slot is built from a bitwise copy of the
                // value, which the old allocation then gives up: it is
                // freed without dropping anything, so the value has
                // exactly one owner throughout. The key bytes are read
                // from the old allocation before it is freed.
                unsafe {
                    let value = self.ptr.as_ptr().cast::<Value>().read();
                    let key = std::slice::from_raw_parts(self.ptr.as_ptr().add(old_at), klen);
                    let fresh = Slot::new(key, value, stamp, expiry);
                    dealloc(self.ptr.as_ptr(), old_l);
                    self.ptr = fresh.ptr;
                    std::mem::forget(fresh);
                }
            }
        }
    }

    /// Frees the slot, handing back its value, deadline and stamp.
    pub fn into_entry(self) -> Entry {
        let (_, l) = shape(self.meta(), self.klen());
        let expire_ms = self.expire_ms().unwrap_or(0);
        let stamp = self.lru();
        let ptr = self.ptr;
        std::mem::forget(self);
        // SAFETY: the value is read out once; the allocation is then freed
        // with the layout it was made with, and `forget` keeps Drop from
        // touching it again.
        unsafe {
            let value = ptr.as_ptr().cast::<Value>().read();
            dealloc(ptr.as_ptr(), l);
            Entry::new(value, expire_ms, stamp)
        }
    }
}

impl Drop for Slot {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        let (_, l) = shape(self.meta(), self.klen());
        // SAFETY: the value is live and dropped once here; the allocation
        // is freed with the layout `new` made it with.
        unsafe {
            std::ptr::drop_in_place(self.ptr.as_ptr().cast::<Value>());
            dealloc(self.ptr.as_ptr(), l);
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", self.value())
            .field("expire_ms", &self.expire_ms())
            .field("lru", &self.lru())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Str;

    #[test]
    fn keeps_key_value_and_deadline_together() {
        for len in [0usize, 1, 7, 11, 12, 100, 126, 127, 128, 5000] {
            let key: Vec<u8> = (0..len).map(|i| i as u8).collect();
            for expiry in [None, Some((42u64, 7u32))] {
                let v = Value::Str(Str::from_bytes(b"some value"));
                let mut s = Slot::new(&key, v, 9, expiry);
                assert_eq!(s.key(), &key[..]);
                assert_eq!(s.expire_ms(), expiry.map(|e| e.0));
                assert_eq!(s.pos(), expiry.map(|e| e.1));
                assert_eq!(s.lru(), 9);
                *s.lru_mut() = 10;
                // Gain, change and lose a TTL: the key and value follow.
                s.set_expiry(Some((u64::MAX - 1, u32::MAX)));
                assert_eq!(s.expire_ms(), Some(u64::MAX - 1));
                assert_eq!(s.pos(), Some(u32::MAX));
                s.set_pos(3);
                assert_eq!(s.pos(), Some(3));
                assert_eq!(s.key(), &key[..]);
                s.set_expiry(None);
                assert_eq!((s.expire_ms(), s.pos()), (None, None));
                assert_eq!(s.key(), &key[..]);
                assert_eq!(s.lru(), 10);
                let e = s.into_entry();
                assert_eq!((e.lru, e.expire_ms()), (10, None));
                assert!(
                    matches!(e.value, Value::Str(ref x) if x.bytes(&mut [0; 20]) == b"some value")
                );
            }
        }
    }

    #[test]
    fn short_keys_without_ttl_fit_48_bytes() {
        assert_eq!(shape(meta_for(11, false), 11).1.size(), 48);
        assert_eq!(shape(meta_for(11, true), 11).1.size(), 64);
    }
}
