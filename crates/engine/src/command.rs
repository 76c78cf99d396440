//! The command table and the one dispatcher every command goes through.
//!
//! Each family declares its commands as `CommandSpec` constants next to
//! their handlers; [`table`] collects them once. [`execute`] does what
//! Redis's `processCommand` does before a handler runs (lookup, arity, auth)
//! and keeps the per-command statistics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use ferrokey_resp::Frame;

use crate::client::Client;
use crate::error::{error_code, unknown_command, unknown_subcommand, CmdError, CmdResult};
use crate::keyspace::Db;
use crate::server::Server;

/// Command flags, as COMMAND INFO names them.
pub mod flags {
    /// May modify the keyspace.
    pub const WRITE: u32 = 1 << 0;
    /// Only reads.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory: refused under OOM.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/Sub related.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed in scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while loading.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a stale replica.
    pub const STALE: u32 = 1 << 8;
    /// Not shown to MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 9;
    /// Not logged to SLOWLOG.
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    /// O(1) or O(log n).
    pub const FAST: u32 = 1 << 11;
    /// Allowed before authentication.
    pub const NO_AUTH: u32 = 1 << 12;
    /// May replicate even when read-only.
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Keys are optional.
    pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 15;
    /// Key positions depend on arguments.
    pub const MOVABLEKEYS: u32 = 1 << 16;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 17;
    /// Protected (enable-debug-command etc.).
    pub const PROTECTED: u32 = 1 << 18;
    /// Refused while a replica loads its dataset asynchronously.
    pub const NO_ASYNC_LOADING: u32 = 1 << 19;
    /// Ferrokey: runs with the gate held exclusively (whole-keyspace work).
    pub const EXCLUSIVE: u32 = 1 << 24;

    /// Names in COMMAND INFO order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (PROTECTED, "protected"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories in Redis's canonical order.
pub const ACL_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

/// A handler: `args[0]` is the command name as sent.
pub type Handler = fn(&mut Ctx<'_>, &[&[u8]]) -> CmdResult;

/// One command (or subcommand) of the table.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case name (`get`; `get` for `config|get` under its container).
    pub name: &'static str,
    /// Redis arity: exact count when positive, minimum when negative; the
    /// count includes the command name (and the subcommand name).
    pub arity: i32,
    /// See [`flags`].
    pub flags: u32,
    /// ACL categories beyond those the flags imply (`@string`, `@keyspace`).
    pub acl: &'static [&'static str],
    /// First key position (0: no keys).
    pub first_key: i32,
    /// Last key position (negative counts from the end).
    pub last_key: i32,
    /// Step between keys.
    pub step: i32,
    /// The handler (containers dispatch to subcommands before it is used).
    pub handler: Handler,
    /// Subcommands, for containers like CONFIG.
    pub subcommands: &'static [CommandSpec],
    /// COMMAND DOCS group (`string`, `generic`, `connection`, `server`).
    pub group: &'static str,
    /// COMMAND DOCS since.
    pub since: &'static str,
    /// COMMAND DOCS summary.
    pub summary: &'static str,
    /// Key specs, when they say more than first/last/step with the default
    /// flags (RW+UPDATE for writes, RO+ACCESS otherwise).
    pub key_specs: &'static [KeySpec],
    /// Command tips (`request_policy:multi_shard`).
    pub tips: &'static [&'static str],
}

/// One key spec, as COMMAND INFO reports it: keys from `index` to
/// `lastkey` (relative to `index`; negative counts from the end) every
/// `step` arguments, with Redis's access flags.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Access flags, e.g. `["OW", "UPDATE"]`.
    pub flags: &'static [&'static str],
    /// Position of the first key.
    pub index: i32,
    /// Last key, relative to `index` (or from the end when negative).
    pub lastkey: i32,
    /// Distance between keys.
    pub step: i32,
    /// Explanation Redis attaches to some specs ("" for none).
    pub notes: &'static str,
}

impl KeySpec {
    /// A spec without notes.
    pub const fn new(flags: &'static [&'static str], index: i32, lastkey: i32, step: i32) -> Self {
        KeySpec {
            flags,
            index,
            lastkey,
            step,
            notes: "",
        }
    }

    /// The same spec with notes.
    pub const fn notes(mut self, notes: &'static str) -> Self {
        self.notes = notes;
        self
    }

    /// Whether argument `pos` of an `argc`-argument command is one of this
    /// spec's keys.
    pub fn covers(&self, pos: usize, argc: usize) -> bool {
        let first = self.index as i64;
        let last = if self.lastkey < 0 {
            argc as i64 + i64::from(self.lastkey)
        } else {
            first + i64::from(self.lastkey)
        };
        let p = pos as i64;
        p >= first && p <= last && (p - first) % i64::from(self.step.max(1)) == 0
    }
}

impl CommandSpec {
    /// A spec with defaults for everything but name, arity, flags and
    /// handler; use struct update syntax for the rest.
    pub const fn new(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Self {
        CommandSpec {
            name,
            arity,
            flags,
            acl: &[],
            first_key: 0,
            last_key: 0,
            step: 0,
            handler,
            subcommands: &[],
            group: "generic",
            since: "1.0.0",
            summary: "",
            key_specs: &[],
            tips: &[],
        }
    }

    /// Sets explicit key specs.
    pub const fn specs(mut self, specs: &'static [KeySpec]) -> Self {
        self.key_specs = specs;
        self
    }

    /// Sets command tips.
    pub const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }

    /// The key specs: the declared ones, or one derived from first/last/step.
    pub fn effective_key_specs(&self) -> Vec<KeySpec> {
        if !self.key_specs.is_empty() {
            return self.key_specs.to_vec();
        }
        if self.first_key <= 0 {
            return Vec::new();
        }
        let lastkey = if self.last_key < 0 {
            self.last_key
        } else {
            self.last_key - self.first_key
        };
        let flags: &'static [&'static str] = if self.has(flags::WRITE) {
            &["RW", "UPDATE"]
        } else {
            &["RO", "ACCESS"]
        };
        vec![KeySpec::new(flags, self.first_key, lastkey, self.step)]
    }

    /// Sets the key positions.
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.step = step;
        self
    }

    /// Sets the ACL categories.
    pub const fn acl(mut self, acl: &'static [&'static str]) -> Self {
        self.acl = acl;
        self
    }

    /// Sets the documentation fields.
    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self
    }

    /// Sets the subcommands.
    pub const fn subs(mut self, subs: &'static [CommandSpec]) -> Self {
        self.subcommands = subs;
        self
    }

    /// Whether the flag is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// ACL categories (declared and implied by flags), in the order Redis
    /// lists them.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut have: Vec<&'static str> = self.acl.to_vec();
        for (flag, cats) in [
            (flags::WRITE, &["@write"][..]),
            (flags::READONLY, &["@read"][..]),
            (flags::ADMIN, &["@admin", "@dangerous"][..]),
            (flags::PUBSUB, &["@pubsub"][..]),
            (flags::BLOCKING, &["@blocking"][..]),
        ] {
            if self.has(flag) {
                have.extend_from_slice(cats);
            }
        }
        have.push(if self.has(flags::FAST) {
            "@fast"
        } else {
            "@slow"
        });
        ACL_ORDER
            .iter()
            .copied()
            .filter(|c| have.contains(c))
            .collect()
    }

    /// Whether the argument count satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// The positions of the keys in `args`, per first/last/step.
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 || self.step <= 0 {
            return Vec::new();
        }
        let first = self.first_key as usize;
        let last = if self.last_key < 0 {
            let l = argc as i64 + i64::from(self.last_key);
            if l < 0 {
                return Vec::new();
            }
            l as usize
        } else {
            self.last_key as usize
        };
        (first..=last.min(argc.saturating_sub(1)))
            .step_by(self.step as usize)
            .collect()
    }
}

/// What a handler sees: the server, its client and the time.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The shared server.
    pub server: &'a Server,
    /// The calling connection.
    pub client: &'a mut Client,
    /// Unix ms, fixed for the duration of the command (as Redis caches the
    /// time per command, so one command sees one instant).
    pub now_ms: u64,
    /// The same instant in Unix µs.
    pub now_us: u64,
    /// The full name of the running command (`config|get`).
    pub full_name: &'a str,
}

impl<'a> Ctx<'a> {
    /// The selected database.
    #[inline]
    pub fn db(&self) -> &'a Db {
        &self.server.dbs[self.client.db]
    }

    /// A key's hash.
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.server.hasher.hash(key)
    }

    /// The access stamp a key created now gets (see `evict::Settings`).
    #[inline]
    pub fn new_stamp(&self) -> u32 {
        self.server.tunables.memory.new_stamp(self.now_ms)
    }

    /// The arity error for the running command.
    pub fn arity_error(&self) -> CmdError {
        CmdError::Arity(self.full_name.to_string())
    }
}

/// One table entry with its resolved full name.
#[derive(Debug)]
pub struct Entry {
    /// The spec.
    pub spec: &'static CommandSpec,
    /// `get`, or `config|get` for a subcommand.
    pub full_name: String,
    /// Index of the container, for subcommands.
    pub parent: Option<usize>,
}

/// The command table, built once.
#[derive(Debug)]
pub struct Table {
    /// Every command and subcommand; the index is the command's id.
    pub entries: Vec<Entry>,
    /// Top-level commands by name: entry ids in an open-addressing table
    /// a power of two long, at most a quarter full ([`NO_ENTRY`]: free).
    by_name: Vec<u32>,
    subs: HashMap<(usize, &'static [u8]), usize, foldhash::fast::RandomState>,
}

/// Every command family's specs.
fn families() -> Vec<&'static [CommandSpec]> {
    vec![
        crate::cmd::string::COMMANDS,
        crate::cmd::bitmap::COMMANDS,
        crate::cmd::hll::COMMANDS,
        crate::cmd::geo::COMMANDS,
        crate::cmd::list::COMMANDS,
        crate::cmd::hash::COMMANDS,
        crate::cmd::set::COMMANDS,
        crate::cmd::zset::COMMANDS,
        crate::cmd::stream::COMMANDS,
        crate::cmd::sort::COMMANDS,
        crate::cmd::keys::COMMANDS,
        crate::cmd::repl::COMMANDS,
        crate::cmd::multi::COMMANDS,
        crate::cmd::scripting::COMMANDS,
        crate::cmd::persist::COMMANDS,
        crate::cmd::pubsub::COMMANDS,
        crate::cmd::connection::COMMANDS,
        crate::cmd::admin::COMMANDS,
        crate::cmd::cluster::COMMANDS,
        crate::cmd::acl::COMMANDS,
    ]
}

/// A free slot of [`Table::by_name`].
const NO_ENTRY: u32 = u32::MAX;

/// A hash of a command name that ignores ASCII case: every byte is read
/// with its 0x20 bit set, which folds 'A'..'Z' onto 'a'..'z' (other bytes
/// that it merges only cost a comparison). Eight bytes per multiply: the
/// name is looked up once per command.
fn name_hash(name: &[u8]) -> usize {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (name.len() as u64).wrapping_mul(K);
    for chunk in name.chunks(8) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ (u64::from_le_bytes(w) | 0x2020_2020_2020_2020)).wrapping_mul(K);
    }
    (h ^ (h >> 32)) as usize
}

impl Table {
    fn build() -> Table {
        let top: usize = families().iter().map(|f| f.len()).sum();
        let mut t = Table {
            entries: Vec::new(),
            by_name: vec![NO_ENTRY; (top * 4).next_power_of_two()],
            subs: HashMap::default(),
        };
        for fam in families() {
            for spec in fam {
                let id = t.entries.len();
                assert!(
                    t.lookup(spec.name.as_bytes()).is_none(),
                    "command {} declared twice",
                    spec.name
                );
                t.entries.push(Entry {
                    spec,
                    full_name: spec.name.to_string(),
                    parent: None,
                });
                // The probe `lookup` walks, to its first free slot.
                let mask = t.by_name.len() - 1;
                let mut i = name_hash(spec.name.as_bytes()) & mask;
                while t.by_name[i] != NO_ENTRY {
                    i = (i + 1) & mask;
                }
                t.by_name[i] = id as u32;
                for sub in spec.subcommands {
                    let sid = t.entries.len();
                    t.entries.push(Entry {
                        spec: sub,
                        full_name: format!("{}|{}", spec.name, sub.name),
                        parent: Some(id),
                    });
                    t.subs.insert((id, sub.name.as_bytes()), sid);
                }
            }
        }
        t
    }

    /// Finds a top-level command by name, ignoring case.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let mask = self.by_name.len() - 1;
        let mut i = name_hash(name) & mask;
        // The table is at most a quarter full: a free slot ends the probe.
        loop {
            let id = self.by_name[i];
            if id == NO_ENTRY {
                return None;
            }
            let id = id as usize;
            if self.entries[id]
                .spec
                .name
                .as_bytes()
                .eq_ignore_ascii_case(name)
            {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Finds a subcommand of container `parent`, ignoring case.
    pub fn lookup_sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.subs.get(&(parent, &buf[..name.len()])).copied()
    }

    /// The name of command `id`, or of its container for a subcommand.
    pub fn top_name(&self, id: usize) -> &'static str {
        let e = &self.entries[id];
        e.parent.map_or(e.spec.name, |p| self.entries[p].spec.name)
    }

    /// Top-level commands in table order.
    pub fn top_level(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.parent.is_none())
    }

    /// Subcommands of `parent`.
    pub fn children(&self, parent: usize) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.parent == Some(parent))
    }
}

/// The command table.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(Table::build)
}

/// Per-command counters, indexed like [`Table::entries`].
#[derive(Debug)]
pub struct Counters {
    /// Completed calls.
    pub calls: AtomicU64,
    /// Microseconds spent.
    pub usec: AtomicU64,
    /// Refused before running.
    pub rejected: AtomicU64,
    /// Ran and failed.
    pub failed: AtomicU64,
}

/// Counters for every table entry.
pub fn new_counters() -> Box<[Counters]> {
    (0..table().entries.len())
        .map(|_| Counters {
            calls: AtomicU64::new(0),
            usec: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        })
        .collect()
}

/// Resolves `args` to a table entry, or the error Redis gives.
pub fn resolve(args: &[&[u8]]) -> Result<usize, CmdError> {
    let t = table();
    let Some(id) = t.lookup(args[0]) else {
        return Err(unknown_command(args[0], &args[1..]));
    };
    let spec = t.entries[id].spec;
    if spec.subcommands.is_empty() {
        if !spec.arity_ok(args.len()) {
            return Err(CmdError::Arity(t.entries[id].full_name.clone()));
        }
        return Ok(id);
    }
    if args.len() < 2 {
        // A container may run alone (COMMAND); otherwise it needs a
        // subcommand.
        if spec.arity_ok(1) {
            return Ok(id);
        }
        return Err(CmdError::Arity(t.entries[id].full_name.clone()));
    }
    let Some(sid) = t.lookup_sub(id, args[1]) else {
        return Err(unknown_subcommand(
            &String::from_utf8_lossy(args[0]),
            args[1],
        ));
    };
    if !t.entries[sid].spec.arity_ok(args.len()) {
        return Err(CmdError::Arity(t.entries[sid].full_name.clone()));
    }
    Ok(sid)
}

/// Counts an error reply in the error statistics.
pub(crate) fn count_error(server: &Server, reply: &Frame) {
    if let Frame::Error(text) = reply {
        count_error_text(server, text);
    }
}

/// Counts an error reply's text in the error statistics.
fn count_error_text(server: &Server, text: &str) {
    server
        .stats
        .total_error_replies
        .fetch_add(1, Ordering::Relaxed);
    *server
        .stats
        .errors
        .lock()
        .entry(error_code(text).to_string())
        .or_insert(0) += 1;
}

/// Runs one command for `client` and returns its reply.
pub fn execute(server: &Server, client: &mut Client, args: &[&[u8]], now_us: u64) -> Frame {
    let nested = crate::lazyfree::begin_command();
    crate::tracking::set_current(client.id());
    let reply = execute_inner(server, client, args, now_us, false);
    let mut now_us = now_us;
    if client.sleep_ms > 0 {
        // DEBUG SLEEP (alone or in a transaction) stops the whole server,
        // as in Redis: the gate is held exclusively while this thread
        // sleeps, and blocked clients are served only after, at the time
        // the sleep ended (a key that expired meanwhile serves nobody).
        let _gate = server.gate.write();
        std::thread::sleep(std::time::Duration::from_millis(client.sleep_ms));
        now_us += client.sleep_ms * 1000;
        client.sleep_ms = 0;
    }
    // Writes made by this command (or transaction) may serve blocked
    // clients, now that it has finished.
    crate::blocking::serve_ready(server, now_us);
    if server.tracking.active() {
        server.tracking.flush_broadcasts(&server.clients);
    }
    crate::tracking::set_current(0);
    if !nested {
        let lazy = server.tunables.lazy_expire.load(Ordering::Relaxed);
        crate::lazyfree::end_command(&server.lazyfree, lazy);
    }
    reply
}

/// Counts a command a script tried to run and was refused (unknown, wrong
/// arity, not allowed from scripts, a write from a read-only script, OOM):
/// the error in the error statistics and, when the command exists, a
/// rejected call of it, as Redis's `scriptCall` does.
pub(crate) fn count_script_refusal(server: &Server, id: Option<usize>, text: &str) {
    if let Some(id) = id {
        server.counters[id].rejected.fetch_add(1, Ordering::Relaxed);
        server.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
    }
    count_error_text(server, text);
}

/// Replies to a command refused before running, counting it; inside MULTI
/// the refusal also dooms the transaction, as in Redis.
fn reject(server: &Server, client: &mut Client, id: Option<usize>, e: CmdError) -> Frame {
    if let Some(id) = id {
        server.counters[id].rejected.fetch_add(1, Ordering::Relaxed);
    }
    server.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
    if let Some(m) = client.multi.as_mut() {
        m.failed = true;
    }
    let f = e.to_frame();
    count_error(server, &f);
    f
}

/// maxmemory, before a command runs (Redis's `processCommand`): evicts
/// what the policy allows, and refuses a command that may grow memory when
/// memory is still over the limit. Inside MULTI every command but EXEC,
/// DISCARD, QUIT and RESET counts as growing (the queue grows), and EXEC
/// is refused when it queued one that does, which discards the
/// transaction. Remembers the outcome for scripts (`oom_at_start`).
fn check_memory(server: &Server, client: &mut Client, id: usize, now_ms: u64) -> Option<Frame> {
    // Evictions are not the client's own writes (Redis flushes their
    // invalidations before the command runs).
    let outcome = crate::tracking::as_server(|| crate::evict::perform(server, now_ms));
    let oom = outcome == crate::evict::Outcome::Fail;
    client.oom_at_start = oom;
    if !oom {
        return None;
    }
    let t = table();
    let top = t.top_name(id);
    let is_exec = top == "exec" && client.multi.is_some();
    let refuse = t.entries[id].spec.has(flags::DENYOOM)
        || (client.multi.is_some() && !matches!(top, "exec" | "discard" | "quit" | "reset"))
        || (is_exec && queued_any(client, |spec| spec.has(flags::DENYOOM)));
    if !refuse {
        return None;
    }
    Some(refuse_before_run(
        server,
        client,
        id,
        is_exec,
        crate::error::OOM,
    ))
}

/// Whether the transaction `client` is in queued a command `pred` holds for.
fn queued_any(client: &Client, pred: impl Fn(&CommandSpec) -> bool) -> bool {
    let t = table();
    client.multi.as_ref().is_some_and(|m| {
        m.queue.iter().any(|argv| {
            let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            resolve(&argv).is_ok_and(|id| pred(t.entries[id].spec))
        })
    })
}

/// Refuses a command with `text` before it runs; an EXEC gets EXECABORT
/// and its transaction is discarded, as Redis's `execCommandAbort`.
fn refuse_before_run(
    server: &Server,
    client: &mut Client,
    id: usize,
    is_exec: bool,
    text: &str,
) -> Frame {
    let e = if is_exec {
        client.end_multi();
        client.unwatch_all(server);
        CmdError::owned(format!(
            "EXECABORT Transaction discarded because of: {text}"
        ))
    } else {
        CmdError::owned(text.to_string())
    };
    reject(server, client, Some(id), e)
}

/// Too few good replicas for `min-replicas-to-write`: refuses a write
/// command (one queued inside MULTI too), and an EXEC that queued one,
/// which discards the transaction (Redis's `processCommand`).
fn check_replicas(server: &Server, client: &mut Client, id: usize) -> Option<Frame> {
    let t = table();
    let is_exec = t.top_name(id) == "exec" && client.multi.is_some();
    let refuse = t.entries[id].spec.has(flags::WRITE)
        || (is_exec && queued_any(client, |spec| spec.has(flags::WRITE)));
    if !refuse {
        return None;
    }
    Some(refuse_before_run(
        server,
        client,
        id,
        is_exec,
        crate::error::NOREPLICAS,
    ))
}

/// On a replica: MASTERDOWN for commands that may not see stale data while
/// the link is down (under `replica-serve-stale-data no`), READONLY for
/// writes (under `replica-read-only`); EXEC answers for what it queued.
fn check_replica(server: &Server, client: &mut Client, id: usize) -> Option<Frame> {
    let t = table();
    let spec = t.entries[id].spec;
    let is_exec = t.top_name(id) == "exec" && client.multi.is_some();
    let stale_denied =
        !spec.has(flags::STALE) || (is_exec && queued_any(client, |s| !s.has(flags::STALE)));
    if stale_denied
        && !server.upstream.link_up()
        && !server.tunables.replica_serve_stale.load(Ordering::Relaxed)
    {
        return Some(refuse_before_run(
            server,
            client,
            id,
            is_exec,
            crate::error::MASTERDOWN,
        ));
    }
    let write = spec.has(flags::WRITE) || (is_exec && queued_any(client, |s| s.has(flags::WRITE)));
    if write && server.tunables.replica_read_only.load(Ordering::Relaxed) {
        return Some(refuse_before_run(
            server,
            client,
            id,
            is_exec,
            crate::error::READONLY,
        ));
    }
    None
}

/// After a command: remembers the keys a tracking client read, and spends
/// a CLIENT CACHING YES|NO on the command it applied to.
fn track_reads(
    server: &Server,
    client: &mut Client,
    spec: &CommandSpec,
    entry: &Entry,
    args: &[&[u8]],
) {
    let is_caching = entry.full_name == "client|caching";
    let mode = client.handle.tracking.lock().clone();
    // A read-only script's declared keys are not its reads: the commands
    // it runs are tracked one by one.
    if mode.on
        && !mode.bcast
        && spec.has(flags::READONLY)
        && !spec.has(flags::PUBSUB)
        && !crate::script::SCRIPT_COMMANDS.contains(&spec.name)
    {
        let wanted = if mode.optin {
            client.caching
        } else if mode.optout {
            !client.caching
        } else {
            true
        };
        if wanted {
            for key in crate::tracking::read_keys(spec, args) {
                server.tracking.remember(client.id(), key);
            }
            server.tracking.limit(
                &server.clients,
                server.tunables.tracking_max_keys.load(Ordering::Relaxed),
            );
        }
    }
    if !is_caching && client.multi.is_none() && !client.in_exec {
        client.caching = false;
    }
}

/// What a subscribed RESP2 connection may run.
const SUBSCRIBED_OK: &[&str] = &[
    "ping",
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

/// Whether a command's own argv stays out of the write stream: what it
/// runs goes instead (each command of a transaction, each write of a
/// script).
fn not_propagated(name: &str) -> bool {
    name == "exec" || crate::script::SCRIPT_COMMANDS.contains(&name)
}

/// Commands that run at once even inside MULTI.
const NOT_QUEUED: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// How long a command waits for the gate before it looks whether a script
/// has been running past the busy threshold.
const GATE_POLL: std::time::Duration = std::time::Duration::from_millis(5);

/// What waiting for the gate came to.
enum Gate<G> {
    /// The gate, taken.
    Free(G),
    /// A script is busy and the command may run beside it without the gate
    /// (SCRIPT KILL, SHUTDOWN NOSAVE, ...).
    Bypass,
    /// A script is busy: the command gets Redis's BUSY error.
    Busy(CmdError),
}

/// How a command holds the gate while it runs.
enum Held<R, W> {
    /// Not at all: the caller holds it, the loader does, or a busy script
    /// lets the command run beside it.
    Nothing,
    Shared(R),
    Exclusive(W),
}

/// Waits until `try_take` gets the gate, or until a running script passes
/// the busy threshold.
fn wait_gate<G>(server: &Server, spec: &CommandSpec, try_take: impl Fn() -> Option<G>) -> Gate<G> {
    loop {
        // On the thread of a suspended script the gate cannot come free
        // before that script resumes, and the script is busy by then.
        let suspended = crate::script::suspended_here();
        if !suspended {
            if let Some(g) = try_take() {
                return Gate::Free(g);
            }
        }
        let threshold = server.config.read().busy_reply_threshold_ms();
        let busy = if suspended {
            Some(server.scripting.run.busy_reply())
        } else {
            server.scripting.run.busy_error(threshold)
        };
        if let Some(e) = busy {
            return if spec.has(flags::ALLOW_BUSY) {
                Gate::Bypass
            } else {
                Gate::Busy(e)
            };
        }
    }
}

/// The BUSY error when a script is past the busy threshold (or suspended
/// on this thread), else `None`.
fn busy_now(server: &Server) -> Option<CmdError> {
    if crate::script::suspended_here() {
        return Some(server.scripting.run.busy_reply());
    }
    // No script running (the usual case): no need for the config lock.
    if !server.scripting.run.running.load(Ordering::Acquire) {
        return None;
    }
    let threshold = server.config.read().busy_reply_threshold_ms();
    server.scripting.run.busy_error(threshold)
}

/// [`execute`], for callers that already hold the gate exclusively (EXEC,
/// scripts) when `gate_held` is true.
pub fn execute_inner(
    server: &Server,
    client: &mut Client,
    args: &[&[u8]],
    now_us: u64,
    gate_held: bool,
) -> Frame {
    let now_ms = now_us / 1000;
    let t = table();
    let id = match resolve(args) {
        Ok(id) => id,
        Err(e) => {
            let top = t.lookup(args[0]);
            return reject(server, client, top, e);
        }
    };
    let entry = &t.entries[id];
    let spec = entry.spec;
    client.handle.last_cmd.store(id + 1, Ordering::Relaxed);
    client.handle.last_ms.store(now_ms, Ordering::Relaxed);
    if !client.authenticated
        && !spec.has(flags::NO_AUTH)
        && server.tunables.auth_required.load(Ordering::Relaxed)
    {
        return reject(server, client, Some(id), CmdError::NoAuth);
    }
    if !gate_held {
        if let Err(msg) = crate::cmd::acl::check(server, client, id, args) {
            return reject(
                server,
                client,
                Some(id),
                CmdError::owned(format!("NOPERM {msg}")),
            );
        }
    }
    if !gate_held && server.tracking.active() {
        // Keep the tracking table within tracking-table-max-keys (CONFIG
        // SET may have lowered it), as Redis does before each command.
        let max = server.tunables.tracking_max_keys.load(Ordering::Relaxed);
        crate::tracking::as_server(|| server.tracking.limit(&server.clients, max));
    }
    if !gate_held && !client.obey {
        if server.tunables.memory.maxmemory() == 0 {
            client.oom_at_start = false;
        } else if let Some(f) = check_memory(server, client, id, now_ms) {
            return f;
        }
    }
    if !gate_held && !client.obey && !client.master_link && server.upstream.is_replica() {
        if let Some(f) = check_replica(server, client, id) {
            return f;
        }
    }
    if !gate_held && !client.obey && !server.enough_good_replicas(now_ms) {
        if let Some(f) = check_replicas(server, client, id) {
            return f;
        }
    }
    if client.resp == 2
        && !client.in_script
        && client.pubsub.active()
        && !(entry.parent.is_none() && SUBSCRIBED_OK.contains(&spec.name))
    {
        return reject(
            server,
            client,
            Some(id),
            CmdError::owned(format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                entry.full_name
            )),
        );
    }
    let loading = !gate_held && server.loading.load(Ordering::Acquire);
    if loading && !spec.has(flags::LOADING) {
        return reject(
            server,
            client,
            Some(id),
            CmdError::msg("LOADING Redis is loading the dataset in memory"),
        );
    }
    if spec.has(flags::WRITE) && !gate_held {
        // The AOF cannot be written: refuse writes rather than lose them.
        if let Some(e) = crate::aof::misconf(server) {
            return reject(server, client, Some(id), CmdError::owned(e));
        }
        if let Some(e) = crate::snapshot::misconf(server) {
            return reject(server, client, Some(id), CmdError::msg(e));
        }
    }
    if client.multi.is_some() && !gate_held && !spec.has(flags::ALLOW_BUSY) {
        // While a script is busy, a command of a transaction is refused,
        // not queued, and the transaction fails with it; EXEC discards it
        // (Redis's processCommand answers BUSY before it queues or runs).
        if let Some(e) = busy_now(server) {
            if t.top_name(id) == "exec" {
                let text = match e.to_frame() {
                    Frame::Error(t) => t.into_owned(),
                    _ => String::new(),
                };
                return refuse_before_run(server, client, id, true, &text);
            }
            return reject(server, client, Some(id), e);
        }
    }
    if client.multi.is_some() && !gate_held && !NOT_QUEUED.contains(&t.top_name(id)) {
        if spec.has(flags::NO_MULTI) {
            return reject(
                server,
                client,
                Some(id),
                CmdError::msg("ERR Command not allowed inside a transaction"),
            );
        }
        if let Some(m) = client.multi.as_mut() {
            m.queue.push(args.iter().map(|a| a.to_vec()).collect());
            client
                .handle
                .multi
                .store(m.queue.len() as u64, Ordering::Relaxed);
            // The arguments and a pointer each, plus the queue slot, as
            // Redis's multiStateMemOverhead counts them.
            let bytes: usize = args.iter().map(|a| a.len() + 8).sum::<usize>() + 24;
            client.handle.multi_mem.fetch_add(bytes, Ordering::Relaxed);
        }
        return Frame::simple("QUEUED");
    }
    let start = crate::clock::monotonic_us();
    // DEBUG SLEEP sleeps after the command, with the gate held: its time
    // counts as the command's, as Redis's sleeping command takes it.
    let slept_before = client.sleep_ms;
    let reply = {
        let mut ctx = Ctx {
            server,
            client,
            now_ms,
            now_us,
            full_name: &entry.full_name,
        };
        // Runs the handler, recording what it propagates; a top-level
        // command submits its unit before the gate is released, so units
        // that ran under the gate shared are all in the stream before an
        // exclusive command (SYNC's snapshot, BGREWRITEAOF) looks at it.
        let run = |ctx: &mut Ctx<'_>| {
            // Closes (submits) the unit even if the handler panics: a
            // ticket taken is always submitted, or the stream would stall.
            let _unit = (!gate_held && crate::propagate::open_unit(server)).then(|| {
                crate::propagate::UnitGuard {
                    server,
                    arbitrary: spec.name == "scan" || spec.name == "randomkey",
                    now_ms,
                }
            });
            let call = crate::propagate::recording().then(crate::propagate::begin_call);
            let r = (spec.handler)(ctx, args);
            if let Some(call) = call {
                let own = !not_propagated(spec.name);
                crate::propagate::end_call(call, ctx.client.db, args, own);
            }
            r
        };
        // The gate is taken first and the handler has one call site (one
        // copy of it in the code, not one per way of taking the gate).
        let held = if gate_held || loading {
            // While loading, the loader holds the gate: what may run then
            // (INFO, CONFIG, ...) runs beside it.
            Ok(Held::Nothing)
        } else if spec.has(flags::EXCLUSIVE) {
            match wait_gate(server, spec, || server.gate.try_write_for(GATE_POLL)) {
                Gate::Busy(e) => Err(e),
                Gate::Bypass => Ok(Held::Nothing),
                Gate::Free(g) => Ok(Held::Exclusive(g)),
            }
        } else {
            match server.gate.try_read() {
                Some(g) => Ok(Held::Shared(g)),
                None => match wait_gate(server, spec, || server.gate.try_read_for(GATE_POLL)) {
                    Gate::Busy(e) => Err(e),
                    Gate::Bypass => Ok(Held::Nothing),
                    Gate::Free(g) => Ok(Held::Shared(g)),
                },
            }
        };
        let result = match held {
            // The guard, if any, is released once the handler returns.
            Ok(_held) => run(&mut ctx),
            Err(e) => Err(e),
        };
        result.unwrap_or_else(|e| e.to_frame())
    };
    if server.tracking.active() {
        track_reads(server, client, spec, entry, args);
    }
    if server.pubsub.monitored() && !spec.has(flags::ADMIN) && !spec.has(flags::SKIP_MONITOR) {
        // Commands a script runs show as the scripting engine's, as in
        // Redis ("[0 lua]").
        let addr = if client.in_script {
            "lua"
        } else {
            client.handle.addr.as_str()
        };
        crate::pubsub::feed_monitors(server, client.db, addr, args, now_us);
    }
    let c = &server.counters[id];
    let took_us = crate::clock::monotonic_us().saturating_sub(start)
        + client.sleep_ms.saturating_sub(slept_before) * 1000;
    c.calls.fetch_add(1, Ordering::Relaxed);
    c.usec.fetch_add(took_us, Ordering::Relaxed);
    if !spec.has(flags::SKIP_SLOWLOG) {
        match &client.blocked {
            None => server.slowlog_push(client, args, took_us, now_ms),
            Some(w) => *w.argv.lock() = args.iter().map(|a| a.to_vec()).collect(),
        }
    }
    if reply.is_error() {
        c.failed.fetch_add(1, Ordering::Relaxed);
        if !std::mem::take(&mut client.error_counted) {
            count_error(server, &reply);
        }
    }
    server
        .stats
        .total_commands_processed
        .fetch_add(1, Ordering::Relaxed);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_knows_every_name() {
        let t = table();
        for (id, e) in t.top_level() {
            assert_eq!(
                t.lookup(e.spec.name.as_bytes()),
                Some(id),
                "{}",
                e.spec.name
            );
            let upper = e.spec.name.to_ascii_uppercase();
            assert_eq!(t.lookup(upper.as_bytes()), Some(id), "{upper}");
        }
        // Near misses: a trailing NUL or CR, bytes with the high bit set,
        // prefixes and extensions.
        assert!(t.lookup(b"get").is_some());
        for other in [
            &b"gEt\0"[..],
            b"g\xc5t",
            b"",
            b"ge",
            b"gett",
            b"\xc7\xc5\xd4",
            b"get\r",
        ] {
            assert_eq!(t.lookup(other), None, "{other:?}");
        }
        let long = vec![b'a'; 100_000];
        assert_eq!(t.lookup(&long), None);
    }

    #[test]
    fn table_is_tidy() {
        let t = table();
        for e in &t.entries {
            let s = e.spec;
            assert_eq!(s.name, s.name.to_ascii_lowercase(), "{}", s.name);
            assert!(s.arity != 0, "{} has arity 0", e.full_name);
            if s.has(flags::WRITE) {
                assert!(
                    s.first_key > 0
                        || s.has(flags::EXCLUSIVE)
                        || s.has(flags::NO_MANDATORY_KEYS)
                        || s.has(flags::MOVABLEKEYS),
                    "write command {} declares no keys",
                    e.full_name
                );
            }
            if s.first_key > 0 && s.arity > 0 {
                assert!(s.first_key < s.arity, "{} key beyond arity", e.full_name);
            }
            assert!(
                !(s.has(flags::WRITE) && s.has(flags::READONLY)),
                "{} both write and readonly",
                e.full_name
            );
        }
    }

    #[test]
    fn key_positions_follow_first_last_step() {
        let t = table();
        let mset = t.entries[t.lookup(b"MSET").unwrap()].spec;
        assert_eq!(mset.key_positions(5), vec![1, 3]);
        let get = t.entries[t.lookup(b"get").unwrap()].spec;
        assert_eq!(get.key_positions(2), vec![1]);
    }
}
