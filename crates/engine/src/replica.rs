//! The replica side of replication: which master this server follows (set
//! by REPLICAOF or the `replicaof` directive) and how its link is doing.
//! The link itself (socket, handshake, loading the master's snapshot,
//! applying its stream) runs in the server crate and reports here; the
//! engine reads this to refuse writes (READONLY) and stale reads
//! (MASTERDOWN) and to answer ROLE and INFO.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use parking_lot::{Condvar, Mutex};

/// Where the link to the master is, as ROLE names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LinkState {
    /// Not a replica.
    None = 0,
    /// Waiting to connect (or to retry).
    Connect = 1,
    /// Connecting.
    Connecting = 2,
    /// Handshake: PING, AUTH, REPLCONF, PSYNC.
    Handshake = 3,
    /// Receiving the snapshot.
    Sync = 4,
    /// Applying the master's stream.
    Connected = 5,
}

impl LinkState {
    /// The word ROLE uses.
    pub fn name(self) -> &'static str {
        match self {
            LinkState::None => "none",
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }

    fn from_u8(v: u8) -> LinkState {
        match v {
            1 => LinkState::Connect,
            2 => LinkState::Connecting,
            3 => LinkState::Handshake,
            4 => LinkState::Sync,
            5 => LinkState::Connected,
            _ => LinkState::None,
        }
    }
}

/// The master this server replicates, if any.
#[derive(Debug, Default)]
pub struct Upstream {
    target: Mutex<Option<(String, u16)>>,
    /// Cheap check on every command.
    replica: AtomicBool,
    /// Bumped on every change of target, so a link to the old one stops.
    generation: AtomicU64,
    /// Signalled on every change of target, for the idle link to wake.
    changed: Condvar,
    state: AtomicU8,
    /// Bytes of the master's stream applied (the replication offset).
    pub offset: AtomicU64,
    /// When the link last read from the master (Unix ms).
    pub last_io_ms: AtomicU64,
    /// The master's replication ID, from its FULLRESYNC.
    pub master_replid: Mutex<String>,
}

impl Upstream {
    /// Whether this server is a replica.
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.replica.load(Ordering::Acquire)
    }

    /// The master's host and port.
    pub fn target(&self) -> Option<(String, u16)> {
        self.target.lock().clone()
    }

    /// The current target's generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Follows another master (`None`: becomes a master). Returns false
    /// when it already follows that one.
    pub fn set_target(&self, target: Option<(String, u16)>) -> bool {
        let mut t = self.target.lock();
        if *t == target {
            return false;
        }
        self.replica.store(target.is_some(), Ordering::Release);
        let state = if target.is_some() {
            LinkState::Connect
        } else {
            LinkState::None
        };
        *t = target;
        self.state.store(state as u8, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_all();
        true
    }

    /// Waits until the target changes from the one of `generation`, or
    /// `timeout` passes.
    pub fn wait_change(&self, generation: u64, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        let mut t = self.target.lock();
        while self.generation() == generation {
            if self.changed.wait_until(&mut t, deadline).timed_out() {
                break;
            }
        }
    }

    /// The link's state.
    pub fn state(&self) -> LinkState {
        LinkState::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Records the link's progress, if `generation` is still current.
    pub fn set_state(&self, generation: u64, s: LinkState) {
        let _t = self.target.lock();
        if self.generation() == generation {
            self.state.store(s as u8, Ordering::Release);
        }
    }

    /// Whether the link is up (the stream is being applied).
    #[inline]
    pub fn link_up(&self) -> bool {
        self.state() == LinkState::Connected
    }
}

/// Replaces the dataset with the master's snapshot (a full
/// synchronization): every database and function is dropped, then the
/// image is loaded, with nothing else running. Our own replicas are
/// disconnected, to synchronize again from the new data. Returns the
/// number of keys loaded.
pub fn load_snapshot(server: &crate::Server, image: &[u8], now_ms: u64) -> Result<usize, String> {
    let _gate = server.gate.write();
    for db in server.dbs.iter() {
        db.clear(&server.hasher, now_ms, None);
    }
    crate::script::functions::flush_all(server);
    let n = crate::propagate::suspended(|| crate::rdb::load_into(server, image, now_ms, false))
        .map_err(|e| e.0)?;
    for r in server.repl.replicas() {
        r.kill();
    }
    Ok(n)
}
