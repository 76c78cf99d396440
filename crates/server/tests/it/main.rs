//! Integration and differential tests for the server foundation: every
//! script runs against Ferrokey and, when installed, Debian's redis-server,
//! and the raw reply bytes are compared.
//!
//! A script line is a command's arguments, optionally led by a marker that
//! says how to compare (see `harness::Mode`): `~type` (RESP type byte
//! only), `~shape` (types and aggregate lengths), `~err` (both errors, same
//! code), `~sorted` / `~pairs` (order-free), `~ignore`, `~noreply` (the
//! command has no reply, CLIENT REPLY OFF|SKIP). No marker: byte for byte.
//! Where Redis 7.2 (the target) changed a text that the 7.0 oracle still
//! prints, `harness::V72_REWRITES` rewrites the oracle's reply first; where
//! 7.0 lacks a command, the test checks Ferrokey against 7.2's source.
//!
//! Without redis-server on PATH the differential checks print a line
//! saying so and only run the Ferrokey side.
#![allow(clippy::unwrap_used)]

mod harness;

mod acl;
mod bad_input;
mod bitmaps;
mod blocking;
mod client;
mod connection;
mod generic_collections;
mod geo;
mod hashes;
mod hll;
mod keys;
mod lists;
mod maxmemory;
mod misc;
mod notifications;
mod persist;
mod pubsub;
mod replication;
mod scripting;
mod server;
mod sets;
mod streams;
mod strings;
mod tracking;
mod zsets;
