//! Collection value types.

pub mod hash;
pub mod list;
pub mod set;
pub mod zset;
