//! The zset value type (being written; see issue 5).

/// A zset value.
#[derive(Debug, Clone, Default)]
pub struct ZSet {}

impl ZSet {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }

    /// Whether it holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Heap bytes owned.
    pub fn heap_bytes(&self) -> usize {
        0
    }
}
