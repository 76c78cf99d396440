//! Ferrokey's engine: the keyspace, the value types and every command, as a
//! state machine with no I/O. The server crate owns sockets, threads and the
//! clock, and hands each parsed request to [`command::execute`].

pub mod acl;
pub mod aof;
pub mod blocking;
pub mod cfloat;
pub mod client;
pub mod clock;
pub mod cmd;
pub mod command;
pub mod config;
pub mod error;
pub mod evict;
pub mod host;
pub mod keyspace;
pub mod lazyfree;
pub mod longdouble;
pub mod propagate;
pub mod pubsub;
pub mod rdb;
pub mod replica;
pub mod script;
pub mod server;
pub mod slot;
pub mod snapshot;
pub mod tracking;
pub mod types;
pub mod value;

pub use command::execute;
pub use server::Server;
