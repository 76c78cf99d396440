//! The Redis serialization protocol (RESP2 and RESP3), with no I/O.
//!
//! - [`RequestDecoder`] reads client requests (multibulk or inline)
//!   incrementally and without copying.
//! - [`Frame`] is a reply value; [`encode`] writes it for RESP2 or RESP3.
//! - [`decode`] reads any whole frame back (clients, tests, fuzzing).
//!
//! This crate knows nothing about commands.

// Bytes from the network must never panic the server.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod dtoa;
mod frame;
mod request;

pub use dtoa::{format_double, format_double_g17};
pub use frame::{decode, encode, write_bulk, write_int, Bulks, DecodeError, Frame, DEPTH_MAX};
pub use request::{
    parse_i64, split_args, Limits, ProtocolError, Request, RequestDecoder, INLINE_LEN_MAX,
    MULTIBULK_LEN_MAX, UNAUTH_BULK_LEN_MAX, UNAUTH_MULTIBULK_LEN_MAX,
};
