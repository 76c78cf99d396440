//! The hash value type (being written; see issue 5).

/// A hash value.
#[derive(Debug, Clone, Default)]
pub struct Hash {}

impl Hash {
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
