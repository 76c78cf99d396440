//! Stored values. Strings keep integers and short texts inline so that the
//! common small value needs no allocation of its own.

/// Longest string kept inside the value itself.
pub const INLINE_LEN_MAX: usize = 22;
/// Redis reports strings up to this length as `embstr` when created whole.
pub const EMBSTR_LEN_MAX: usize = 44;
/// Largest string a command may build (`proto-max-bulk-len` default).
pub const STRING_LEN_MAX: usize = 512 * 1024 * 1024;

/// The bytes the allocator really hands out for a request of `n` bytes:
/// jemalloc's size classes (8, then steps of 16 up to 128, then four
/// classes per doubling). MEMORY USAGE adds these up, so that it reports
/// what a key holds rather than what it asked for; the server's counting
/// allocator uses it on every allocation.
#[inline]
pub fn alloc_size(n: usize) -> usize {
    match n {
        0 => 0,
        1..=8 => 8,
        9..=128 => n.div_ceil(16) * 16,
        _ => {
            let k = usize::BITS - 1 - (n - 1).leading_zeros();
            let step = 1usize << (k - 2);
            n.div_ceil(step) * step
        }
    }
}

/// A string value in one of its encodings.
#[derive(Debug, Clone)]
pub enum Str {
    /// An integer that prints back to the same text (Redis's `int`).
    Int(i64),
    /// A short string stored in place.
    Inline { len: u8, buf: [u8; INLINE_LEN_MAX] },
    /// A string created whole (`embstr` up to 44 bytes, `raw` past that).
    Boxed(Box<[u8]>),
    /// A string that was modified in place (APPEND, SETRANGE): `raw`, with
    /// spare capacity for the next append.
    Raw(Vec<u8>),
}

/// Whether `b` is the canonical text of an i64 that Redis would store as
/// `int` (at most 20 characters, no leading zeros or plus sign).
fn as_int(b: &[u8]) -> Option<i64> {
    if b.len() > 20 {
        return None;
    }
    ferrokey_resp::parse_i64(b)
}

impl Str {
    /// Stores `b` in the most compact encoding.
    pub fn from_bytes(b: &[u8]) -> Str {
        if let Some(i) = as_int(b) {
            return Str::Int(i);
        }
        if b.len() <= INLINE_LEN_MAX {
            let mut buf = [0u8; INLINE_LEN_MAX];
            buf[..b.len()].copy_from_slice(b);
            return Str::Inline {
                len: b.len() as u8,
                buf,
            };
        }
        Str::Boxed(b.into())
    }

    /// Stores bytes that a command built, taking ownership.
    pub fn from_vec(v: Vec<u8>) -> Str {
        if v.len() <= INLINE_LEN_MAX || as_int(&v).is_some() {
            return Str::from_bytes(&v);
        }
        Str::Boxed(v.into_boxed_slice())
    }

    /// The string's bytes; integers are formatted into `scratch`.
    pub fn bytes<'a>(&'a self, scratch: &'a mut [u8; 20]) -> &'a [u8] {
        match self {
            Str::Int(i) => {
                let mut v = Vec::with_capacity(20);
                ferrokey_resp::write_int(&mut v, *i);
                scratch[..v.len()].copy_from_slice(&v);
                &scratch[..v.len()]
            }
            Str::Inline { len, buf } => &buf[..*len as usize],
            Str::Boxed(b) => b,
            Str::Raw(v) => v,
        }
    }

    /// The string's bytes as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut s = [0u8; 20];
        self.bytes(&mut s).to_vec()
    }

    /// Appends the string's bytes to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Str::Int(i) => ferrokey_resp::write_int(out, *i),
            Str::Inline { len, buf } => out.extend_from_slice(&buf[..*len as usize]),
            Str::Boxed(b) => out.extend_from_slice(b),
            Str::Raw(v) => out.extend_from_slice(v),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Str::Int(i) => {
                let mut v = Vec::with_capacity(20);
                ferrokey_resp::write_int(&mut v, *i);
                v.len()
            }
            Str::Inline { len, .. } => *len as usize,
            Str::Boxed(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Converts to the mutable `raw` encoding and returns its buffer.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            *self = Str::Raw(self.to_vec());
        }
        match self {
            Str::Raw(v) => v,
            _ => unreachable!("converted to raw above"),
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Inline { .. } => "embstr",
            Str::Boxed(b) if b.len() <= EMBSTR_LEN_MAX => "embstr",
            Str::Boxed(_) | Str::Raw(_) => "raw",
        }
    }

    /// Heap bytes this value owns beyond its inline size.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Str::Int(_) | Str::Inline { .. } => 0,
            Str::Boxed(b) => alloc_size(b.len()),
            Str::Raw(v) => alloc_size(v.capacity()),
        }
    }
}

/// A value of any type.
#[derive(Debug, Clone)]
pub enum Value {
    /// A string (also counters, bitmaps and HyperLogLogs).
    Str(Str),
    /// A list.
    List(Box<crate::types::list::List>),
    /// A hash.
    Hash(crate::types::hash::Hash),
    /// A set.
    Set(Box<crate::types::set::Set>),
    /// A sorted set.
    ZSet(crate::types::zset::ZSet),
    /// A stream.
    Stream(Box<crate::types::stream::Stream>),
}

// Hashes and sorted sets sit in the value itself while they are small
// enough to (their small encodings are one boxed buffer); a value bigger
// than this would grow every key's slot.
const _: () = assert!(std::mem::size_of::<Value>() == 32);

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(v) => v.encoding(),
            Value::Hash(v) => v.encoding(),
            Value::Set(v) => v.encoding(),
            Value::ZSet(v) => v.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// How much work freeing the value takes, counted as Redis's
    /// `lazyfreeGetFreeEffort` counts it (so that which values go to the
    /// background, and INFO's lazyfree counters, match): 1 for strings and
    /// compact encodings, the node count for lists and streams, the
    /// element count for hash tables.
    pub fn free_effort(&self) -> usize {
        let compact = |enc: &str| matches!(enc, "listpack" | "intset");
        match self {
            Value::Str(_) => 1,
            Value::List(v) => v.node_count(),
            Value::Hash(v) if compact(v.encoding()) => 1,
            Value::Hash(v) => v.len(),
            Value::Set(v) if compact(v.encoding()) => 1,
            Value::Set(v) => v.len(),
            Value::ZSet(v) if compact(v.encoding()) => 1,
            Value::ZSet(v) => v.len(),
            Value::Stream(v) => v.free_effort(),
        }
    }

    /// Approximate bytes the value occupies, for MEMORY USAGE and accounting.
    pub fn mem_bytes(&self) -> usize {
        std::mem::size_of::<Value>() + self.heap_bytes()
    }

    /// Bytes the value owns outside itself (its boxes and buffers).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_bytes(),
            Value::List(v) => alloc_size(std::mem::size_of_val(&**v)) + v.heap_bytes(),
            Value::Hash(v) => v.heap_bytes(),
            Value::Set(v) => alloc_size(std::mem::size_of_val(&**v)) + v.heap_bytes(),
            Value::ZSet(v) => v.heap_bytes(),
            Value::Stream(v) => alloc_size(std::mem::size_of_val(&**v)) + v.heap_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Str::from_bytes(b"123").encoding(), "int");
        assert_eq!(Str::from_bytes(b"0123").encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'a'; 45]).encoding(), "raw");
        let mut s = Str::from_bytes(b"x");
        s.make_raw().push(b'y');
        assert_eq!(s.encoding(), "raw");
        assert_eq!(s.to_vec(), b"xy");
        assert_eq!(Str::from_bytes(b"-42").to_vec(), b"-42");
        assert!(std::mem::size_of::<Value>() <= 32);
    }

    #[test]
    fn allocation_sizes_follow_jemalloc_classes() {
        let classes = [
            (1, 8),
            (8, 8),
            (9, 16),
            (17, 32),
            (100, 112),
            (129, 160),
            (200, 224),
        ];
        for (n, want) in classes {
            assert_eq!(alloc_size(n), want, "{n}");
        }
        assert_eq!(alloc_size(1000), 1024);
        assert_eq!(alloc_size(1025), 1280);
        assert_eq!(alloc_size(5000), 5120);
    }
}
