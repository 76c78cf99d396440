//! Per-connection state the engine needs, and the registry of connected
//! clients that CLIENT LIST / KILL and INFO read.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

/// What CLIENT REPLY set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Every reply is sent.
    On,
    /// No reply is sent.
    Off,
    /// The reply to the next command is dropped.
    SkipNext,
    /// The reply to the current command is dropped (SKIP took effect).
    Skip,
}

/// Connection facts that other connections read (CLIENT LIST, KILL, INFO).
/// Hot fields are atomics; rarely changed ones sit behind a mutex.
#[derive(Debug)]
pub struct ClientHandle {
    /// CLIENT ID.
    pub id: u64,
    /// Peer address, `ip:port`.
    pub addr: String,
    /// Local address, `ip:port`.
    pub laddr: String,
    /// The socket's file descriptor number, as CLIENT LIST shows it.
    pub fd: i64,
    /// Creation time, Unix ms.
    pub created_ms: u64,
    /// Last command time, Unix ms.
    pub last_ms: AtomicU64,
    /// Selected database.
    pub db: AtomicUsize,
    /// Protocol version in use.
    pub resp: AtomicU32,
    /// Index in the command table of the last command, plus one (0: none).
    pub last_cmd: AtomicUsize,
    /// Name, library name and version (CLIENT SETNAME / SETINFO).
    pub names: Mutex<ClientNames>,
    /// Set by CLIENT KILL; the connection closes as soon as it sees it.
    pub killed: AtomicBool,
    /// CLIENT NO-EVICT.
    pub no_evict: AtomicBool,
    /// CLIENT NO-TOUCH.
    pub no_touch: AtomicBool,
    /// Bytes waiting in the query buffer, for CLIENT LIST.
    pub qbuf: AtomicUsize,
    /// Bytes of replies being written to the socket, for CLIENT LIST
    /// (Pub/Sub messages not yet taken from `outbox` come on top).
    pub omem: AtomicUsize,
    /// Multi state: -1 outside MULTI, else queued commands.
    pub multi: AtomicU64,
    /// Bytes the queued commands of a transaction hold (CLIENT LIST
    /// `multi-mem`).
    pub multi_mem: AtomicUsize,
    /// Wakes the connection's task (after CLIENT KILL or UNBLOCK).
    pub waker: Mutex<Option<Waker>>,
    /// Whether the client waits in a blocking command.
    pub blocked: AtomicBool,
    /// CLIENT UNBLOCK's request: 0 none, [`UNBLOCK_TIMEOUT`] or
    /// [`UNBLOCK_ERROR`].
    pub unblock: AtomicU32,
    /// In MONITOR mode.
    pub monitor: AtomicBool,
    /// Attached to the replication stream (SYNC / PSYNC).
    pub replica: AtomicBool,
    /// The replication offset the replica last acknowledged.
    pub repl_ack: AtomicU64,
    /// When it last acknowledged (Unix ms).
    pub repl_ack_ms: AtomicU64,
    /// The port it listens on (REPLCONF listening-port).
    pub repl_port: AtomicU64,
    /// CLIENT TRACKING state.
    pub tracking: Mutex<crate::tracking::Mode>,
    /// Invalidations caused by this client's own command, written after
    /// its reply.
    pub late: crate::pubsub::Outbox,
    /// Pub/Sub messages waiting to be written.
    pub outbox: crate::pubsub::Outbox,
    /// Channel, pattern and shard channel subscriptions, for CLIENT LIST.
    pub sub_counts: [AtomicUsize; 3],
}

/// The memory a connected client is counted for beyond its buffers' contents.
pub const CLIENT_BASE_MEM: usize = 16384;

/// CLIENT UNBLOCK ... TIMEOUT (the default).
pub const UNBLOCK_TIMEOUT: u32 = 1;
/// CLIENT UNBLOCK ... ERROR.
pub const UNBLOCK_ERROR: u32 = 2;

/// A callback that wakes a connection's task.
#[derive(Clone)]
pub struct Waker(pub Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Waker")
    }
}

impl Default for ClientNames {
    fn default() -> Self {
        ClientNames {
            name: String::new(),
            lib_name: String::new(),
            lib_ver: String::new(),
            user: "default".into(),
        }
    }
}

/// The names a client gave itself.
#[derive(Debug, Clone)]
pub struct ClientNames {
    /// CLIENT SETNAME.
    pub name: String,
    /// CLIENT SETINFO LIB-NAME.
    pub lib_name: String,
    /// CLIENT SETINFO LIB-VER.
    pub lib_ver: String,
    /// The ACL user it authenticated as.
    pub user: String,
}

impl ClientHandle {
    /// Marks the client killed and wakes its connection.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.wake();
    }

    /// Wakes the connection's task.
    pub fn wake(&self) {
        if let Some(w) = self.waker.lock().clone() {
            (w.0)();
        }
    }

    /// Bytes the client holds, as CLIENT LIST's `tot-mem` shows and
    /// client eviction counts them: what waits in its query and output
    /// buffers plus a fixed share for the connection's own state and
    /// read buffer.
    pub fn tot_mem(&self) -> usize {
        self.qbuf.load(Ordering::Relaxed)
            + self.omem.load(Ordering::Relaxed)
            + self.outbox.len()
            + self.multi_mem.load(Ordering::Relaxed)
            + CLIENT_BASE_MEM
    }

    /// Whether CLIENT KILL hit this client.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
}

/// All connected clients by id.
#[derive(Debug, Default)]
pub struct Registry {
    clients: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
    next_id: AtomicU64,
}

impl Registry {
    /// Allocates the next client id (ids start at 1 and are never reused).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Adds a client.
    pub fn add(&self, h: Arc<ClientHandle>) {
        self.clients.lock().insert(h.id, h);
    }

    /// Removes a client.
    pub fn remove(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of every client, in id order.
    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        self.clients.lock().values().cloned().collect()
    }

    /// One client by id.
    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.clients.lock().get(&id).cloned()
    }
}

/// The engine's view of one connection.
#[derive(Debug)]
pub struct Client {
    /// Shared facts about this connection.
    pub handle: Arc<ClientHandle>,
    /// Selected database.
    pub db: usize,
    /// Protocol version (2 or 3).
    pub resp: u8,
    /// Whether AUTH succeeded (or no password is set).
    pub authenticated: bool,
    /// The ACL user the client runs as.
    pub acl: crate::acl::Session,
    /// CLIENT REPLY state.
    pub reply_mode: ReplyMode,
    /// Set by QUIT (and by errors that end the connection): close after
    /// this reply is written.
    pub close_after_reply: bool,
    /// Set by SHUTDOWN: the server should stop.
    pub shutdown: Option<Shutdown>,
    /// Milliseconds to block the whole server (DEBUG SLEEP), applied by
    /// `execute` once the command (or its transaction) has finished.
    pub sleep_ms: u64,
    /// Commands queued since MULTI, if in a transaction.
    pub multi: Option<Multi>,
    /// Keys this client WATCHes.
    pub watched: Vec<Watch>,
    /// Set while a blocking command may not block (inside EXEC, scripts):
    /// it replies as on timeout instead.
    pub deny_blocking: bool,
    /// Set while EXEC runs the queued commands.
    pub in_exec: bool,
    /// Set while a script runs commands on this client's behalf.
    pub in_script: bool,
    /// Replays the AOF (Redis's "must obey" client): commands rewritten
    /// for propagation are taken as they are (an exact trim keeps LIMIT).
    pub obey: bool,
    /// The link this replica reads its master's stream from: its writes
    /// are applied though the replica is read-only.
    pub master_link: bool,
    /// Whether memory was over `maxmemory` with nothing left to evict when
    /// the running top-level command started: a script may then not run
    /// its first write that could grow memory.
    pub oom_at_start: bool,
    /// The running command's error reply was already counted in the error
    /// statistics (a script failing with the error a command of its own
    /// got, as Redis's `ERR_REPLY_FLAG_NO_STATS_UPDATE`): the command still
    /// counts as failed, the error is not counted twice.
    pub error_counted: bool,
    /// Pub/Sub subscriptions.
    pub pubsub: crate::pubsub::Subscriptions,
    /// CLIENT CACHING YES|NO for the next command (OPTIN / OPTOUT).
    pub caching: bool,
    /// The wait a blocking command left for the connection to finish.
    pub blocked: Option<std::sync::Arc<crate::blocking::Waiter>>,
}

/// A transaction being queued.
#[derive(Debug, Default)]
pub struct Multi {
    /// Queued commands, arguments owned.
    pub queue: Vec<Vec<Vec<u8>>>,
    /// A command failed to queue: EXEC must abort.
    pub failed: bool,
}

/// One WATCHed key.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Database index.
    pub db: usize,
    /// The key.
    pub key: Box<[u8]>,
    /// Its epoch when watched.
    pub epoch: u64,
    /// Whether it existed, unexpired, when watched.
    pub live: bool,
}

/// How SHUTDOWN asked the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    /// SAVE / NOSAVE / default.
    pub save: Option<bool>,
}

impl Client {
    /// A new connection's state.
    pub fn new(handle: Arc<ClientHandle>, authenticated: bool) -> Client {
        Client {
            handle,
            db: 0,
            resp: 2,
            authenticated,
            acl: crate::acl::Session::default(),
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            shutdown: None,
            sleep_ms: 0,
            multi: None,
            watched: Vec::new(),
            deny_blocking: false,
            in_exec: false,
            in_script: false,
            obey: false,
            master_link: false,
            oom_at_start: false,
            error_counted: false,
            pubsub: Default::default(),
            caching: false,
            blocked: None,
        }
    }

    /// The client id.
    pub fn id(&self) -> u64 {
        self.handle.id
    }

    /// Forgets every WATCHed key (EXEC, DISCARD, UNWATCH, RESET, close).
    pub fn unwatch_all(&mut self, server: &crate::Server) {
        for w in self.watched.drain(..) {
            let h = server.hasher.hash(&w.key);
            server.dbs[w.db]
                .lock(crate::keyspace::shard_of(h))
                .unwatch(&w.key);
        }
    }

    /// Leaves MULTI state, updating what CLIENT LIST shows.
    pub fn end_multi(&mut self) {
        self.multi = None;
        self.handle.multi.store(u64::MAX, Ordering::Relaxed);
        self.handle.multi_mem.store(0, Ordering::Relaxed);
    }
}
