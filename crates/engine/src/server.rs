//! The shared state of one server: keyspace, configuration, statistics and
//! the client registry. Everything here is reached through `&Server` from any
//! worker thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};

use crate::client::Registry;
use crate::config::Config;
use crate::keyspace::{Db, KeyHasher};

/// Server-wide counters reported by INFO.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub total_connections_received: AtomicU64,
    /// Commands executed.
    pub total_commands_processed: AtomicU64,
    /// Connections refused because of maxclients.
    pub rejected_connections: AtomicU64,
    /// Keys removed because their TTL passed.
    pub expired_keys: AtomicU64,
    /// Keys removed to bring memory under `maxmemory`.
    pub evicted_keys: AtomicU64,
    /// Clients disconnected by `maxmemory-clients`.
    pub evicted_clients: AtomicU64,
    /// Lookups that found their key.
    pub keyspace_hits: AtomicU64,
    /// Lookups that did not.
    pub keyspace_misses: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
    /// Socket reads that returned data.
    pub total_reads: AtomicU64,
    /// Socket writes of replies.
    pub total_writes: AtomicU64,
    /// Error replies sent.
    pub total_error_replies: AtomicU64,
    /// Commands that failed before running (unknown, arity, auth...).
    pub rejected_calls: AtomicU64,
    /// Writes since the last save.
    pub dirty: AtomicU64,
    /// Successful SAVEs.
    pub rdb_saves: AtomicU64,
    /// Keys loaded from the RDB file at startup.
    pub rdb_loaded_keys: AtomicU64,
    /// Error replies by their code (`ERR`, `WRONGTYPE`...).
    pub errors: Mutex<HashMap<String, u64>>,
    /// Unix ms of the last successful save (start time until one happens).
    pub lastsave_ms: AtomicU64,
    /// Samples of (ms, commands) for instantaneous_ops_per_sec.
    pub ops_samples: Mutex<OpsSampler>,
}

/// A ring of recent (time, count) samples, as Redis's trackInstantaneousMetric.
#[derive(Debug, Default)]
pub struct OpsSampler {
    samples: [u64; 16],
    idx: usize,
    last_ms: u64,
    last_count: u64,
}

impl OpsSampler {
    /// Records the counter at `now_ms`.
    pub fn sample(&mut self, now_ms: u64, count: u64) {
        if self.last_ms != 0 && now_ms > self.last_ms {
            let dt = now_ms - self.last_ms;
            let ops = (count - self.last_count.min(count)) * 1000 / dt;
            self.samples[self.idx] = ops;
            self.idx = (self.idx + 1) % self.samples.len();
        }
        self.last_ms = now_ms;
        self.last_count = count;
    }

    /// The mean of the samples.
    pub fn per_sec(&self) -> u64 {
        self.samples.iter().sum::<u64>() / self.samples.len() as u64
    }
}

/// Everything the commands share.
#[derive(Debug)]
pub struct Server {
    /// Databases, fixed in number at startup.
    pub dbs: Box<[Db]>,
    /// ACL users.
    pub acl: crate::acl::Acl,
    /// The master this server replicates, if any.
    pub upstream: crate::replica::Upstream,
    /// The `requirepass` last carried over to the default user.
    requirepass_applied: Mutex<Option<Option<Vec<u8>>>>,
    /// The key hasher all shards use.
    pub hasher: KeyHasher,
    /// Atomic blocks (MULTI/EXEC, scripts, whole-keyspace commands) hold it
    /// exclusively; every other command holds it shared. See ARCHITECTURE.md.
    pub gate: RwLock<()>,
    /// Current configuration.
    pub config: RwLock<Config>,
    /// Path of the config file, for CONFIG REWRITE.
    pub config_file: Option<String>,
    /// Copies of hot settings, so the request path reads no lock.
    pub tunables: Tunables,
    /// Counters.
    pub stats: Stats,
    /// Per-command counters, indexed like the command table.
    pub counters: Box<[crate::command::Counters]>,
    /// Connected clients.
    pub clients: std::sync::Arc<Registry>,
    /// Process start, Unix ms.
    pub start_ms: u64,
    /// Random 40-hex-digit run id.
    pub run_id: String,
    /// TCP port actually bound.
    pub port: AtomicU64,
    /// Active expiry enabled (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: AtomicBool,
    /// The (database, shard) the active expiry cycle visits next.
    expire_next: AtomicUsize,
    /// DEBUG PAUSE-CRON: the periodic work (expiry, eviction, tracking
    /// table limit, statistics) stops until cleared.
    pub cron_paused: AtomicBool,
    /// Worker threads running.
    pub threads: AtomicUsize,
    /// CLIENT PAUSE: until (Unix ms) and whether only writes pause.
    pub pause: Mutex<Option<(u64, bool)>>,
    /// Peak of the allocated-bytes counter.
    pub peak_memory: AtomicU64,
    /// Set when shutdown starts.
    pub shutting_down: AtomicBool,
    /// Set while the dataset is being loaded at startup: commands not
    /// flagged `loading` get -LOADING.
    pub loading: AtomicBool,
    /// The process around the engine.
    pub host: Box<dyn crate::host::Host>,
    /// Clients blocked on keys and the keys made ready for them.
    pub blocking: std::sync::Arc<crate::blocking::BlockState>,
    /// Pub/Sub subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// CLIENT TRACKING tables.
    pub tracking: std::sync::Arc<crate::tracking::Tracking>,
    /// Lua scripting: the EVAL engine and the running script.
    pub scripting: crate::script::Scripting,
    /// SLOWLOG entries, newest first.
    pub slowlog: Mutex<SlowLog>,
    /// The write stream to replicas and the AOF.
    pub repl: crate::propagate::Propagation,
    /// The append-only file.
    pub aof: crate::aof::Aof,
    /// Background snapshots (BGSAVE, AOF rewrite bases).
    pub snapshots: crate::snapshot::Snapshots,
    /// maxmemory eviction state.
    pub evictor: crate::evict::Evictor,
    /// The background freeing thread.
    pub lazyfree: crate::lazyfree::LazyFree,
    /// This server's own `Arc`, for work handed to other threads (AOF
    /// rewrites); set by whoever wraps the server in an `Arc`.
    pub this: std::sync::OnceLock<std::sync::Weak<Server>>,
}

/// The slow log: commands that took at least `slowlog-log-slower-than`.
#[derive(Debug, Default)]
pub struct SlowLog {
    /// Newest first.
    pub entries: std::collections::VecDeque<SlowEntry>,
    /// The id the next entry gets.
    pub next_id: u64,
}

/// One SLOWLOG entry.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// Unique, increasing id.
    pub id: u64,
    /// Unix time in seconds.
    pub time_s: u64,
    /// Microseconds the command took.
    pub duration_us: u64,
    /// Arguments, cut as Redis cuts them (32 at most, 128 bytes each).
    pub args: Vec<Vec<u8>>,
    /// Client address.
    pub peer: String,
    /// Client name.
    pub name: String,
}

impl Server {
    /// Bytes in use (`used_memory`): the allocator's running count, or
    /// jemalloc's statistics where the host keeps no count.
    #[inline]
    pub fn used_memory(&self) -> u64 {
        match self.host.used_memory() {
            0 => self.host.stats().allocated,
            n => n,
        }
    }

    /// After the server removed a key on its own (active expiry, eviction),
    /// under the key's shard lock: sends DEL (UNLINK when `lazy`) down the
    /// write stream and publishes the keyspace event.
    pub fn removed_by_server(
        &self,
        db: usize,
        key: &[u8],
        lazy: bool,
        class: u32,
        event: &str,
        now_ms: u64,
    ) {
        if self.repl.active() {
            self.repl.deleted_now(self, db, key, lazy, now_ms);
        }
        crate::pubsub::notify_keyspace(self, class, event, key, db, now_ms);
    }

    /// This server's `Arc` (see [`Server::this`]).
    pub fn arc(&self) -> Option<std::sync::Arc<Server>> {
        self.this.get().and_then(std::sync::Weak::upgrade)
    }

    /// Records a command in the slow log when it took long enough.
    pub fn slowlog_push(
        &self,
        client: &crate::client::Client,
        args: &[&[u8]],
        duration_us: u64,
        now_ms: u64,
    ) {
        let threshold = self.tunables.slowlog_slower_than.load(Ordering::Relaxed);
        let max_len = self.tunables.slowlog_max_len.load(Ordering::Relaxed) as usize;
        if threshold < 0 || max_len == 0 || duration_us < threshold as u64 {
            return;
        }
        const MAX_ARGC: usize = 32;
        const MAX_STRING: usize = 128;
        let argc = args.len().min(MAX_ARGC);
        let mut out = Vec::with_capacity(argc);
        for (j, a) in args.iter().take(argc).enumerate() {
            if argc != args.len() && j == argc - 1 {
                out.push(format!("... ({} more arguments)", args.len() - argc + 1).into_bytes());
            } else if crate::pubsub::is_redacted(args, j) {
                out.push(b"(redacted)".to_vec());
            } else if a.len() > MAX_STRING {
                let mut v = a[..MAX_STRING].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes(),
                );
                out.push(v);
            } else {
                out.push(a.to_vec());
            }
        }
        let (peer, name) = if client.in_script {
            (String::new(), String::new())
        } else {
            (
                client.handle.addr.clone(),
                client.handle.names.lock().name.clone(),
            )
        };
        let mut log = self.slowlog.lock();
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(SlowEntry {
            id,
            time_s: now_ms / 1000,
            duration_us,
            args: out,
            peer,
            name,
        });
        log.entries.truncate(max_len);
    }
}

/// Settings read on every request, mirrored from [`Config`].
#[derive(Debug, Default)]
pub struct Tunables {
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: AtomicI64,
    /// `client-query-buffer-limit`.
    pub query_buffer_limit: AtomicU64,
    /// Whether `requirepass` is set.
    pub auth_required: AtomicBool,
    /// `maxclients`.
    pub maxclients: AtomicU64,
    /// `timeout` in seconds.
    pub timeout_s: AtomicU64,
    /// `hz`.
    pub hz: AtomicU64,
    /// Collection encoding thresholds.
    pub limits: crate::types::AtomicLimits,
    /// `tracking-table-max-keys`.
    pub tracking_max_keys: AtomicU64,
    /// DEBUG QUICKLIST-PACKED-THRESHOLD (no effect on Ferrokey's lists).
    pub packed_threshold: AtomicU64,
    /// `notify-keyspace-events` as NOTIFY_* bits.
    pub notify: std::sync::atomic::AtomicU32,
    /// `slowlog-log-slower-than` in microseconds (negative: off).
    pub slowlog_slower_than: AtomicI64,
    /// `slowlog-max-len`.
    pub slowlog_max_len: AtomicU64,
    /// `client-output-buffer-limit` per class (normal, replica, pubsub).
    pub obuf: Mutex<[crate::config::ObufLimit; 3]>,
    /// maxmemory and its policy.
    pub memory: crate::evict::Settings,
    /// `min-replicas-to-write` and `min-replicas-max-lag`.
    pub min_replicas: (AtomicU64, AtomicU64),
    /// `lazyfree-lazy-expire`.
    pub lazy_expire: AtomicBool,
    /// Bytes all normal and Pub/Sub clients may hold before the biggest
    /// are disconnected (`maxmemory-clients` resolved; 0: no limit).
    pub client_mem_limit: AtomicU64,
    /// `replica-read-only`.
    pub replica_read_only: AtomicBool,
    /// `replica-serve-stale-data`.
    pub replica_serve_stale: AtomicBool,
}

impl Tunables {
    /// Copies the hot settings out of `c`.
    pub fn refresh(&self, c: &Config) {
        self.proto_max_bulk_len
            .store(c.proto_max_bulk_len(), Ordering::Relaxed);
        self.query_buffer_limit
            .store(c.client_query_buffer_limit(), Ordering::Relaxed);
        self.client_mem_limit
            .store(crate::evict::client_mem_limit(c), Ordering::Relaxed);
        self.replica_read_only
            .store(c.replica_read_only(), Ordering::Relaxed);
        self.replica_serve_stale
            .store(c.replica_serve_stale_data(), Ordering::Relaxed);
        self.maxclients.store(c.maxclients(), Ordering::Relaxed);
        self.timeout_s.store(c.timeout_s(), Ordering::Relaxed);
        self.hz.store(u64::from(c.hz()), Ordering::Relaxed);
        self.limits.store(crate::types::Limits::from_config(c));
        self.notify
            .store(c.notify_keyspace_events(), Ordering::Relaxed);
        *self.obuf.lock() = c.client_output_buffer_limits();
        self.slowlog_slower_than
            .store(c.slowlog_log_slower_than(), Ordering::Relaxed);
        self.slowlog_max_len
            .store(c.slowlog_max_len(), Ordering::Relaxed);
        self.tracking_max_keys
            .store(c.tracking_table_max_keys(), Ordering::Relaxed);
        self.memory.refresh(c);
        let (to_write, max_lag) = c.min_replicas();
        self.min_replicas.0.store(to_write, Ordering::Relaxed);
        self.min_replicas.1.store(max_lag, Ordering::Relaxed);
        self.lazy_expire
            .store(c.lazyfree_lazy_expire(), Ordering::Relaxed);
    }
}

impl Server {
    /// Whether writes may go ahead under `min-replicas-to-write`.
    pub fn enough_good_replicas(&self, now_ms: u64) -> bool {
        let to_write = self.tunables.min_replicas.0.load(Ordering::Relaxed);
        if to_write == 0 {
            return true;
        }
        let max_lag = self.tunables.min_replicas.1.load(Ordering::Relaxed);
        self.repl.enough_good_replicas(to_write, max_lag, now_ms)
    }
}

impl Server {
    /// Builds a server from its configuration; `now_ms` is the start time.
    pub fn new(
        config: Config,
        config_file: Option<String>,
        host: Box<dyn crate::host::Host>,
        now_ms: u64,
    ) -> Server {
        let tunables = Tunables::default();
        tunables.refresh(&config);
        let run_id: String = (0..40)
            .map(|_| char::from(b"0123456789abcdef"[rand::random::<usize>() % 16]))
            .collect();
        let stats = Stats::default();
        stats.lastsave_ms.store(now_ms, Ordering::Relaxed);
        let blocking = std::sync::Arc::new(crate::blocking::BlockState::default());
        let tracking = std::sync::Arc::new(crate::tracking::Tracking::default());
        let clients = std::sync::Arc::new(Registry::default());
        let hooks = crate::keyspace::Hooks {
            blocking: blocking.clone(),
            tracking: tracking.clone(),
            clients: clients.clone(),
        };
        let server = Server {
            dbs: (0..config.databases())
                .map(|i| Db::new(i, &hooks))
                .collect(),
            blocking,
            tracking,
            scripting: Default::default(),
            slowlog: Mutex::new(SlowLog::default()),
            repl: crate::propagate::Propagation::default(),
            aof: crate::aof::Aof::default(),
            snapshots: crate::snapshot::Snapshots::default(),
            evictor: crate::evict::Evictor::default(),
            lazyfree: crate::lazyfree::LazyFree::default(),
            this: std::sync::OnceLock::new(),
            pubsub: Default::default(),
            hasher: KeyHasher::new(),
            gate: RwLock::new(()),
            port: AtomicU64::new(u64::from(config.port())),
            config: RwLock::new(config),
            config_file,
            tunables,
            stats,
            counters: crate::command::new_counters(),
            clients,
            start_ms: now_ms,
            run_id,
            active_expire: AtomicBool::new(true),
            expire_next: AtomicUsize::new(0),
            cron_paused: AtomicBool::new(false),
            threads: AtomicUsize::new(1),
            pause: Mutex::new(None),
            peak_memory: AtomicU64::new(0),
            shutting_down: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            host,
            acl: crate::acl::Acl::default(),
            upstream: crate::replica::Upstream::default(),
            requirepass_applied: Mutex::new(None),
        };
        server.upstream.set_target(server.config.read().replicaof());
        let config = server.config.read().clone();
        server.sync_requirepass(&config);
        server
    }

    /// Carries a changed `requirepass` over to the default user (as Redis
    /// does: the directive sets that user's only password), and updates
    /// whether new connections must authenticate.
    pub fn sync_requirepass(&self, c: &Config) {
        let pass = c.requirepass();
        let mut last = self.requirepass_applied.lock();
        if last.as_ref() != Some(&pass) {
            self.acl.set_default_password(pass.as_deref());
            *last = Some(pass);
        }
        drop(last);
        self.acl_changed();
    }

    /// After any ACL change: whether new connections start authenticated.
    pub fn acl_changed(&self) {
        self.tunables
            .auth_required
            .store(self.acl.auth_required(), Ordering::Relaxed);
    }

    /// One step of the active expiry cycle: visits the shards of every
    /// database in turn, from where the last step stopped, looking at the
    /// keys with a TTL and removing those that are due, until it has looked
    /// at `budget` keys or come round to its start. In each shard it looks
    /// at a few keys and goes on while more than a tenth of them had
    /// expired, as Redis's cycle goes on sampling a database while more
    /// than 10% of its samples were stale. Returns how many keys it looked
    /// at and how many it removed; the caller runs it `hz` times a second,
    /// and again at once while it used its whole budget on mostly stale
    /// keys.
    pub fn active_expire_cycle(&self, now_ms: u64, budget: usize) -> (usize, usize) {
        /// Keys looked at per shard before deciding whether to go on.
        const BATCH: usize = 8;
        if !self.active_expire.load(Ordering::Relaxed) {
            return (0, 0);
        }
        let _gate = self.gate.read();
        let lazy = self.config.read().lazyfree_lazy_expire();
        let (mut seen, mut removed) = (0, 0);
        let total = self.dbs.len() * crate::keyspace::SHARDS;
        let start = self.expire_next.load(Ordering::Relaxed) % total;
        let mut visited = 0;
        while visited < total && seen < budget {
            let at = (start + visited) % total;
            visited += 1;
            let dbi = at / crate::keyspace::SHARDS;
            let mut s = self.dbs[dbi].lock(at % crate::keyspace::SHARDS);
            while s.has_volatile() && seen < budget {
                let (n, gone) = s.expire_scan(now_ms, BATCH.min(budget - seen), &mut |k, value| {
                    let class = crate::config::NOTIFY_EXPIRED;
                    self.removed_by_server(dbi, k, lazy, class, "expired", now_ms);
                    self.lazyfree.free(value, lazy);
                });
                seen += n;
                removed += gone;
                if gone * 10 <= n {
                    break;
                }
            }
        }
        self.expire_next
            .store((start + visited) % total, Ordering::Relaxed);
        self.stats
            .expired_keys
            .fetch_add(removed as u64, Ordering::Relaxed);
        self.tracking.flush_broadcasts(&self.clients);
        (seen, removed)
    }
}
