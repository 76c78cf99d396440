//! The append-only file, in Redis 7's multi-part layout.
//!
//! `<dir>/<appenddirname>/` holds a base file (an RDB image, or commands
//! for an old-style base), incremental files of commands in RESP, and a
//! manifest naming them in order:
//!
//! ```text
//! file appendonly.aof.1.base.rdb seq 1 type b
//! file appendonly.aof.1.incr.aof seq 1 type i
//! ```
//!
//! Writes reach the incremental file through the propagation stream
//! (`crate::propagate`), in the order that replays to the same state; the
//! write(2) happens before the command's reply is sent, and under
//! `appendfsync always` so does the fsync (the connection calls
//! [`sync_pending`] before it writes its replies, one fsync covering every
//! command written so far). `everysec` syncs from a background thread.
//!
//! A rewrite (BGREWRITEAOF, `appendonly yes` at runtime, the automatic
//! rewrite, startup without a base) switches writes to a new incremental
//! file at the instant of a snapshot, under the exclusive gate, then
//! writes the snapshot as the new base off the request path and commits
//! the new manifest by rename. Until then the old manifest (plus the new
//! incremental file, recorded at the switch) still replays everything.
//!
//! Unlike the rest of the engine this module does file I/O itself.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::propagate::{encode_op, LogSink, Op};
use crate::server::Server;

/// AOF state shared by the sink, the connections and INFO.
#[derive(Debug, Default)]
pub struct Aof {
    /// Whether the AOF is on (the sink is installed).
    pub enabled: AtomicBool,
    /// Bytes written to incremental files since startup.
    written: AtomicU64,
    /// Bytes known to be on disk (fsynced).
    synced: AtomicU64,
    /// A handle on the current incremental file, for fsync.
    sync_file: Mutex<Option<File>>,
    /// `appendfsync always`.
    always: AtomicBool,
    /// The last write error, while writes fail (MISCONF).
    pub write_error: Mutex<Option<String>>,
    /// A rewrite is running.
    pub rewriting: AtomicBool,
    /// Completed rewrites.
    pub rewrites: AtomicU64,
    /// Whether the last rewrite failed.
    pub last_rewrite_failed: AtomicBool,
    /// Seconds the last rewrite took (-1: none yet).
    pub last_rewrite_secs: AtomicU64,
    /// Size of the base file.
    pub base_size: AtomicU64,
    /// Size of base plus incremental files.
    pub current_size: AtomicU64,
    /// The manifest in force.
    manifest: Mutex<Manifest>,
    /// Serializes rewrites and enabling/disabling.
    control: Mutex<()>,
}

/// The files of one AOF, as the manifest lists them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The base file and its sequence number.
    pub base: Option<(String, u64)>,
    /// Incremental files in order, with their sequence numbers.
    pub incrs: Vec<(String, u64)>,
}

impl Manifest {
    /// Parses a manifest file's text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut name = None;
            let mut seq = None;
            let mut kind = None;
            for kv in words.chunks(2) {
                match kv {
                    ["file", v] => name = Some(v.trim_matches('"').to_string()),
                    ["seq", v] => seq = v.parse::<u64>().ok(),
                    ["type", v] => kind = Some(*v),
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(format!(
                    "Invalid AOF manifest file format at line {}",
                    n + 1
                ));
            };
            match kind {
                "b" => m.base = Some((name, seq)),
                "i" => m.incrs.push((name, seq)),
                "h" => {}
                _ => return Err(format!("Unknown AOF file type at line {}", n + 1)),
            }
        }
        Ok(m)
    }

    /// The manifest's text.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some((name, seq)) = &self.base {
            s.push_str(&format!("file {name} seq {seq} type b\n"));
        }
        for (name, seq) in &self.incrs {
            s.push_str(&format!("file {name} seq {seq} type i\n"));
        }
        s
    }

    fn next_base_seq(&self) -> u64 {
        self.base.as_ref().map_or(0, |b| b.1) + 1
    }

    fn next_incr_seq(&self) -> u64 {
        self.incrs.iter().map(|i| i.1).max().unwrap_or(0) + 1
    }
}

/// Paths of the AOF directory and manifest, from the configuration.
struct Names {
    dir: PathBuf,
    file: String,
    manifest: PathBuf,
}

fn names(server: &Server) -> Names {
    let c = server.config.read();
    let dir = PathBuf::from(c.appenddirname());
    let file = c.appendfilename();
    let manifest = dir.join(format!("{file}.manifest"));
    Names {
        dir,
        file,
        manifest,
    }
}

fn io<T>(what: &str, path: &Path, r: std::io::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("{what} {}: {e}", path.display()))
}

/// Writes `bytes` to `path` through a temp file, fsynced and renamed, so a
/// crash leaves the old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        "temp-{}-{}",
        std::process::id(),
        path.file_name().and_then(|n| n.to_str()).unwrap_or("aof")
    ));
    let mut f = io("Can't create", &tmp, File::create(&tmp))?;
    io("Can't write", &tmp, f.write_all(bytes))?;
    io("Can't fsync", &tmp, f.sync_all())?;
    drop(f);
    io("Can't rename", path, std::fs::rename(&tmp, path))?;
    sync_dir(dir);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The propagation sink writing the current incremental file.
#[derive(Debug)]
struct Sink {
    file: File,
    /// The database the file last selected.
    selected: Option<usize>,
    /// Bytes a failed write left behind, written first next time.
    pending: Vec<u8>,
    /// `aof-timestamp-enabled`: the second of the last annotation.
    timestamps: bool,
    last_ts: u64,
    server: Arc<Server>,
}

impl LogSink for Sink {
    fn append(&mut self, ops: &[Op]) {
        let start = self.pending.len();
        if self.timestamps {
            let now = unix_secs();
            if now != self.last_ts {
                self.last_ts = now;
                self.pending
                    .extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
            }
        }
        for op in ops.iter().filter(|o| o.aof) {
            encode_op(&mut self.pending, &mut self.selected, op);
        }
        if self.pending.len() == start && start == 0 {
            return;
        }
        let aof = &self.server.aof;
        match self.file.write_all(&self.pending) {
            Ok(()) => {
                let n = self.pending.len() as u64;
                self.pending.clear();
                aof.written.fetch_add(n, Ordering::AcqRel);
                aof.current_size.fetch_add(n, Ordering::Relaxed);
                if aof.write_error.lock().take().is_some() {
                    self.server.host.log(
                        "warning",
                        "AOF write error looks solved, Redis can write again.",
                    );
                }
            }
            Err(e) => {
                let mut err = aof.write_error.lock();
                if err.is_none() {
                    self.server
                        .host
                        .log("warning", &format!("Error writing to the AOF file: {e}"));
                }
                *err = Some(e.to_string());
            }
        }
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Under `appendfsync always`, fsyncs what has been written and not yet
/// synced; one call covers every command written before it. The
/// connection calls it before writing replies, so a reply is never sent
/// for a write that is not on disk.
pub fn sync_pending(server: &Server) {
    let aof = &server.aof;
    if !aof.enabled.load(Ordering::Relaxed) {
        return;
    }
    // Under every policy the write(2) precedes the reply; under `always`
    // so does the fsync.
    crate::propagate::wait_emitted(server);
    if aof.always.load(Ordering::Relaxed) {
        sync_now(server);
    }
}

/// Fsyncs the current incremental file if anything is unsynced.
pub fn sync_now(server: &Server) {
    let aof = &server.aof;
    let want = aof.written.load(Ordering::Acquire);
    if aof.synced.load(Ordering::Acquire) >= want {
        return;
    }
    let f = aof.sync_file.lock();
    if aof.synced.load(Ordering::Acquire) >= want {
        return;
    }
    if let Some(f) = f.as_ref() {
        match f.sync_data() {
            Ok(()) => {
                aof.synced.fetch_max(want, Ordering::AcqRel);
            }
            Err(e) => *aof.write_error.lock() = Some(e.to_string()),
        }
    }
}

/// Whether writes must be refused: the AOF cannot be written.
pub fn misconf(server: &Server) -> Option<String> {
    if !server.aof.enabled.load(Ordering::Relaxed) {
        return None;
    }
    server
        .aof
        .write_error
        .lock()
        .as_ref()
        .map(|e| format!("MISCONF Errors writing to the AOF file: {e}"))
}

/// Opens `name` in the AOF directory for appending and installs it as the
/// sink, with a fresh SELECT state. The caller holds the gate exclusively.
fn install_sink(server: &Arc<Server>, dir: &Path, name: &str) -> Result<(), String> {
    let path = dir.join(name);
    let file = io(
        "Can't open the append-only file",
        &path,
        OpenOptions::new().create(true).append(true).open(&path),
    )?;
    let sync = io("Can't open", &path, file.try_clone())?;
    let timestamps = server.config.read().aof_timestamp_enabled();
    *server.aof.sync_file.lock() = Some(sync);
    server.aof.always.store(
        server.config.read().appendfsync() == "always",
        Ordering::Relaxed,
    );
    server.repl.set_log(Some(Box::new(Sink {
        file,
        selected: None,
        pending: Vec::new(),
        timestamps,
        last_ts: 0,
        server: server.clone(),
    })));
    server.aof.enabled.store(true, Ordering::Release);
    Ok(())
}

/// Applies `appendfsync` after a CONFIG SET.
pub fn fsync_policy_changed(server: &Server) {
    server.aof.always.store(
        server.config.read().appendfsync() == "always",
        Ordering::Relaxed,
    );
}

/// Loads the AOF at startup when `appendonly yes`, then starts writing
/// it; with no AOF yet, one is created from the (empty) dataset. Errors
/// are fatal to startup and name the file and offset.
pub fn boot(server: &Arc<Server>, now_ms: u64) -> Result<Option<usize>, String> {
    if !server.config.read().appendonly() {
        return Ok(None);
    }
    let n = names(server);
    let loaded = if n.manifest.exists() {
        let text = io(
            "Can't read",
            &n.manifest,
            std::fs::read_to_string(&n.manifest),
        )?;
        let m = Manifest::parse(&text)?;
        let _gate = server.gate.write();
        let keys = load_files(server, &n.dir, &m, now_ms)?;
        *server.aof.manifest.lock() = m;
        Some(keys)
    } else {
        None
    };
    let _ctl = server.aof.control.lock();
    let m = server.aof.manifest.lock().clone();
    match (&m.base, m.incrs.last()) {
        (Some(_), Some((last, _))) => {
            let _gate = server.gate.write();
            install_sink(server, &n.dir, last)?;
            refresh_sizes(server, &n.dir, &m);
        }
        (Some(_), None) => {
            // A base alone (written while the AOF was off): append to a
            // new incremental file after it.
            let _gate = server.gate.write();
            switch_incr(server, &n, &m)?;
            refresh_sizes(server, &n.dir, &m);
        }
        _ => {
            // No AOF (or one without a base): write one from what is in
            // memory now, before any client is served.
            io("Can't create", &n.dir, std::fs::create_dir_all(&n.dir))?;
            let _gate = server.gate.write();
            let image = crate::rdb::snapshot(server, now_ms);
            rotate_and_commit(server, &n, m, image)?;
        }
    }
    Ok(loaded)
}

/// A new base: bytes already serialized, or a snapshot begun and written
/// off the request path.
enum Base {
    Bytes(Vec<u8>),
    Job(crate::snapshot::Job),
}

/// Starts a new incremental file, writes `image` as the new base, and
/// commits the manifest; the caller holds the gate exclusively and the
/// control lock.
fn rotate_and_commit(
    server: &Arc<Server>,
    n: &Names,
    old: Manifest,
    image: Vec<u8>,
) -> Result<(), String> {
    let incr = switch_incr(server, n, &old)?;
    commit_base(server, n, old, Some(incr), Base::Bytes(image))
}

/// Switches writes to a new incremental file and records it in the
/// manifest next to the old files (a crash now replays old and new).
/// Returns the new file's name and sequence.
fn switch_incr(server: &Arc<Server>, n: &Names, old: &Manifest) -> Result<(String, u64), String> {
    let seq = old.next_incr_seq();
    let name = format!("{}.{seq}.incr.aof", n.file);
    install_sink(server, &n.dir, &name)?;
    let mut interim = old.clone();
    interim.incrs.push((name.clone(), seq));
    if interim.base.is_some() {
        write_atomically(&n.manifest, interim.render().as_bytes())?;
    }
    *server.aof.manifest.lock() = interim;
    Ok((name, seq))
}

/// Writes the base file and the manifest that names only it and `incr`,
/// then removes the files the old manifest named.
fn commit_base(
    server: &Server,
    n: &Names,
    old: Manifest,
    incr: Option<(String, u64)>,
    image: Base,
) -> Result<(), String> {
    let seq = old.next_base_seq();
    let base = format!("{}.{seq}.base.rdb", n.file);
    match image {
        Base::Bytes(b) => write_atomically(&n.dir.join(&base), &b)?,
        Base::Job(job) => crate::snapshot::write_file(job, server, &n.dir.join(&base))?,
    }
    let m = Manifest {
        base: Some((base, seq)),
        incrs: incr.iter().cloned().collect(),
    };
    write_atomically(&n.manifest, m.render().as_bytes())?;
    for (f, _) in old.base.iter().chain(old.incrs.iter()) {
        if incr.as_ref().is_none_or(|i| *f != i.0) {
            let _ = std::fs::remove_file(n.dir.join(f));
        }
    }
    refresh_sizes(server, &n.dir, &m);
    *server.aof.manifest.lock() = m;
    Ok(())
}

fn refresh_sizes(server: &Server, dir: &Path, m: &Manifest) {
    let size = |f: &str| std::fs::metadata(dir.join(f)).map_or(0, |md| md.len());
    let base = m.base.as_ref().map_or(0, |b| size(&b.0));
    let incr: u64 = m.incrs.iter().map(|i| size(&i.0)).sum();
    server.aof.base_size.store(base, Ordering::Relaxed);
    server
        .aof
        .current_size
        .store(base + incr, Ordering::Relaxed);
}

/// BGREWRITEAOF: called with the gate held exclusively. Switches to a new
/// incremental file and takes the snapshot now; the base is written on
/// another thread. Err when a rewrite is already running.
pub fn start_rewrite(server: &Arc<Server>, now_ms: u64) -> Result<(), String> {
    if server.aof.rewriting.swap(true, Ordering::AcqRel) {
        return Err("Background append only file rewriting already in progress".into());
    }
    let ctl = server.aof.control.lock();
    let n = names(server);
    if let Err(e) = std::fs::create_dir_all(&n.dir) {
        server.aof.rewriting.store(false, Ordering::Release);
        return Err(e.to_string());
    }
    let on = server.aof.enabled.load(Ordering::Acquire);
    let old = if on {
        server.aof.manifest.lock().clone()
    } else {
        // With the AOF off only a base is written (as Redis does), after
        // whatever an earlier AOF left.
        std::fs::read_to_string(&n.manifest)
            .ok()
            .and_then(|t| Manifest::parse(&t).ok())
            .unwrap_or_default()
    };
    // The base's instant is now: copy-on-write starts with the switch to
    // the new incremental file. A BGSAVE still writing finishes first (it
    // never needs the gate).
    crate::snapshot::wait_idle(server);
    let Some(job) = crate::snapshot::begin(server, now_ms) else {
        server.aof.rewriting.store(false, Ordering::Release);
        return Err("Background save already in progress".into());
    };
    let image = Base::Job(job);
    let incr = if on {
        match switch_incr(server, &n, &old) {
            Ok(i) => Some(i),
            Err(e) => {
                server.aof.rewriting.store(false, Ordering::Release);
                // End the copy-on-write the snapshot began.
                if let Base::Job(job) = image {
                    let _ = job.write(server, &mut std::io::sink());
                }
                return Err(e);
            }
        }
    } else {
        None
    };
    drop(ctl);
    let server = server.clone();
    std::thread::Builder::new()
        .name("ferrokey-aofrw".into())
        .spawn(move || {
            server.host.lower_thread_priority();
            let start = std::time::Instant::now();
            let _ctl = server.aof.control.lock();
            let old = match &incr {
                Some(incr) => {
                    let mut m = server.aof.manifest.lock().clone();
                    m.incrs.retain(|i| i != incr);
                    m
                }
                None => old,
            };
            match commit_base(&server, &n, old, incr, image) {
                Ok(()) => {
                    server
                        .aof
                        .last_rewrite_failed
                        .store(false, Ordering::Relaxed);
                    server.aof.rewrites.fetch_add(1, Ordering::Relaxed);
                    server
                        .host
                        .log("notice", "Background AOF rewrite finished successfully");
                }
                Err(e) => {
                    server
                        .aof
                        .last_rewrite_failed
                        .store(true, Ordering::Relaxed);
                    server
                        .host
                        .log("warning", &format!("Background AOF rewrite failed: {e}"));
                }
            }
            server
                .aof
                .last_rewrite_secs
                .store(start.elapsed().as_secs(), Ordering::Relaxed);
            server.aof.rewriting.store(false, Ordering::Release);
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Once a second (from the cron): `appendfsync everysec`, and the
/// automatic rewrite when the AOF has grown past
/// `auto-aof-rewrite-percentage` of its base and
/// `auto-aof-rewrite-min-size`.
pub fn every_second(server: &Server, now_ms: u64) {
    if !server.aof.enabled.load(Ordering::Acquire) {
        return;
    }
    let (policy, (pct, min)) = {
        let c = server.config.read();
        (c.appendfsync(), c.auto_aof_rewrite())
    };
    if policy == "everysec" {
        sync_now(server);
    }
    auto_rewrite(server, now_ms, pct, min);
}

fn auto_rewrite(server: &Server, now_ms: u64, pct: u64, min: u64) {
    let size = server.aof.current_size.load(Ordering::Relaxed);
    let base = server.aof.base_size.load(Ordering::Relaxed).max(1);
    if pct > 0
        && size >= min
        && (size - base.min(size)) * 100 / base >= pct
        && !server.aof.rewriting.load(Ordering::Acquire)
    {
        server.host.log(
            "notice",
            &format!(
                "Starting automatic rewriting of AOF on {}% growth",
                (size - base.min(size)) * 100 / base
            ),
        );
        background(server, now_ms, true);
    }
}

/// Runs a rewrite (or, with `enable` false and the AOF off, turns it on)
/// from a thread of its own, which waits for the exclusive gate.
pub fn background(server: &Server, now_ms: u64, rewrite: bool) {
    let Some(server) = server.arc() else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("ferrokey-aof".into())
        .spawn(move || {
            let _gate = server.gate.write();
            let r = if rewrite {
                start_rewrite(&server, now_ms)
            } else {
                enable(&server, now_ms)
            };
            if let Err(e) = r {
                server.host.log("warning", &e);
            }
        });
}

/// `appendonly yes` at runtime: writes a base from the dataset and starts
/// appending; the caller holds the gate exclusively.
fn enable(server: &Arc<Server>, now_ms: u64) -> Result<(), String> {
    if server.aof.enabled.load(Ordering::Acquire) {
        return Ok(());
    }
    let _ctl = server.aof.control.lock();
    let n = names(server);
    io("Can't create", &n.dir, std::fs::create_dir_all(&n.dir))?;
    let old = if n.manifest.exists() {
        Manifest::parse(&io(
            "Can't read",
            &n.manifest,
            std::fs::read_to_string(&n.manifest),
        )?)?
    } else {
        Manifest::default()
    };
    let image = crate::rdb::snapshot(server, now_ms);
    server.aof.rewriting.store(true, Ordering::Release);
    let r = rotate_and_commit(server, &n, old, image);
    server.aof.rewriting.store(false, Ordering::Release);
    if r.is_ok() {
        server.aof.rewrites.fetch_add(1, Ordering::Relaxed);
    }
    r
}

/// `appendonly no` at runtime: stops writing (the files stay).
pub fn disable(server: &Server) {
    let _ctl = server.aof.control.lock();
    server.repl.set_log(None);
    sync_now(server);
    server.aof.enabled.store(false, Ordering::Release);
    *server.aof.sync_file.lock() = None;
}

/// Loads every file of `m` into the keyspace (the caller holds the gate
/// exclusively); returns how many commands and keys were loaded.
fn load_files(server: &Server, dir: &Path, m: &Manifest, now_ms: u64) -> Result<usize, String> {
    let mut n = 0;
    let files: Vec<&String> = m
        .base
        .iter()
        .map(|b| &b.0)
        .chain(m.incrs.iter().map(|i| &i.0))
        .collect();
    let truncated_ok = server.config.read().aof_load_truncated();
    for (i, f) in files.iter().enumerate() {
        let path = dir.join(f);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && i + 1 == files.len() && i > 0 => {
                continue;
            }
            Err(e) => {
                return Err(format!(
                    "The AOF file {} can't be read: {e}",
                    path.display()
                ))
            }
        };
        let last = i + 1 == files.len();
        n += load_one(server, &path, &data, now_ms, last && truncated_ok)?;
    }
    Ok(n)
}

/// Loads one AOF file: an RDB image (base, or old-style preamble) and/or
/// commands. A file cut short may be truncated to its last complete
/// command when `may_truncate`.
fn load_one(
    server: &Server,
    path: &Path,
    data: &[u8],
    now_ms: u64,
    may_truncate: bool,
) -> Result<usize, String> {
    if data.starts_with(b"REDIS") {
        // A base file is a whole RDB image.
        return crate::rdb::load_into(server, data, now_ms, true).map_err(|e| {
            format!(
                "Error reading the RDB base file {}, AOF loading aborted: {}",
                path.display(),
                e.0
            )
        });
    }
    let mut client = loading_client(server);
    let mut pos = 0;
    let mut n = 0;
    let mut multi: Option<(usize, Vec<Vec<Vec<u8>>>)> = None;
    loop {
        if pos == data.len() {
            break;
        }
        if data[pos] == b'#' {
            // An annotation (#TS:...): skip the line.
            match data[pos..].iter().position(|&c| c == b'\n') {
                Some(e) => {
                    pos += e + 1;
                    continue;
                }
                None => break,
            }
        }
        let (argv, used) = match parse_command(&data[pos..]) {
            Ok(Some(x)) => x,
            Ok(None) => {
                // Cut short: back to this command, or to the MULTI of an
                // unfinished transaction.
                let at = multi.as_ref().map_or(pos, |(start, _)| *start);
                return truncated(server, path, at, may_truncate, n);
            }
            Err(why) => {
                return Err(format!(
                    "Bad file format reading the append only file {}: {why} at offset {pos}",
                    path.display()
                ))
            }
        };
        let start = pos;
        pos += used;
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        match (&mut multi, name.as_str()) {
            (None, "multi") => multi = Some((start, Vec::new())),
            (Some(_), "exec") => {
                let (_, queued) = multi.take().expect("inside MULTI");
                for cmd in queued {
                    run_loaded(server, &mut client, &cmd, path, now_ms)?;
                    n += 1;
                }
            }
            (Some((_, q)), _) => q.push(argv),
            (None, _) => {
                run_loaded(server, &mut client, &argv, path, now_ms)?;
                n += 1;
            }
        }
    }
    if let Some((start, _)) = multi {
        return truncated(server, path, start, may_truncate, n);
    }
    Ok(n)
}

/// A file that ends in the middle of a command (or transaction).
fn truncated(
    server: &Server,
    path: &Path,
    valid: usize,
    may_truncate: bool,
    n: usize,
) -> Result<usize, String> {
    if !may_truncate {
        return Err(format!(
            "Unexpected end of file reading the append only file {} (last valid command ends at offset {valid}). You can: 1) Make a backup of your AOF file, then use ./ferrokey-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
            path.display()
        ));
    }
    server.host.log(
        "warning",
        &format!(
            "!!! Warning: short read while loading the AOF file {}!!!\n!!! Truncating the AOF {} at offset {valid} !!!",
            path.display(),
            path.display()
        ),
    );
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("Error truncating the AOF file {}: {e}", path.display()))?;
    f.set_len(valid as u64)
        .map_err(|e| format!("Error truncating the AOF file {}: {e}", path.display()))?;
    let _ = f.sync_all();
    server.host.log(
        "warning",
        &format!(
            "AOF {} loaded anyway because aof-load-truncated is enabled",
            path.display()
        ),
    );
    Ok(n)
}

/// A client that replays loaded commands: authenticated, not listed.
fn loading_client(server: &Server) -> crate::client::Client {
    let h = crate::cmd::connection::new_handle(server, String::new(), String::new(), -1, 0);
    server.clients.remove(h.id);
    let mut c = crate::client::Client::new(h, true);
    c.deny_blocking = true;
    c.obey = true;
    c
}

fn run_loaded(
    server: &Server,
    client: &mut crate::client::Client,
    argv: &[Vec<u8>],
    path: &Path,
    now_ms: u64,
) -> Result<(), String> {
    let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    if crate::command::table().lookup(args[0]).is_none() {
        return Err(format!(
            "Unknown command '{}' reading the append only file {}",
            String::from_utf8_lossy(args[0]),
            path.display()
        ));
    }
    crate::command::execute_inner(server, client, &args, now_ms * 1000, true);
    Ok(())
}

/// Parses one `*N` command of bulk strings; `Ok(None)` when the data ends
/// before it does.
pub fn parse_command(d: &[u8]) -> Result<Option<(crate::propagate::Argv, usize)>, String> {
    fn line(d: &[u8], at: usize) -> Option<(&[u8], usize)> {
        let rel = d.get(at..)?.windows(2).position(|w| w == b"\r\n")?;
        Some((&d[at..at + rel], at + rel + 2))
    }
    let Some((head, mut at)) = line(d, 0) else {
        return Ok(None);
    };
    if head.first() != Some(&b'*') {
        return Err("expected '*'".into());
    }
    let n: usize = std::str::from_utf8(&head[1..])
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n >= 1)
        .ok_or("bad argument count")?;
    let mut argv = Vec::with_capacity(n);
    for _ in 0..n {
        let Some((h, next)) = line(d, at) else {
            return Ok(None);
        };
        if h.first() != Some(&b'$') {
            return Err("expected '$'".into());
        }
        let len: usize = std::str::from_utf8(&h[1..])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("bad bulk length")?;
        if d.len() < next + len + 2 {
            return Ok(None);
        }
        argv.push(d[next..next + len].to_vec());
        at = next + len + 2;
    }
    Ok(Some((argv, at)))
}

/// DEBUG LOADAOF: syncs the AOF, empties the keyspace and loads the files
/// again (the caller holds the gate exclusively).
pub fn reload(server: &Server, now_ms: u64) -> Result<usize, String> {
    sync_now(server);
    let n = names(server);
    let m = server.aof.manifest.lock().clone();
    for db in server.dbs.iter() {
        db.clear(&server.hasher, now_ms, None);
    }
    load_files(server, &n.dir, &m, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base, Some(("appendonly.aof.1.base.rdb".into(), 1)));
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.render(), text);
        assert_eq!(m.next_incr_seq(), 3);
        assert!(Manifest::parse("file x seq\n").is_err());
    }

    #[test]
    fn commands_parse_or_ask_for_more() {
        let d = b"*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*1\r\n$4\r\nPI";
        let (argv, used) = parse_command(d).unwrap().unwrap();
        assert_eq!(argv, vec![b"DEL".to_vec(), b"k".to_vec()]);
        assert_eq!(parse_command(&d[used..]).unwrap(), None);
        assert!(parse_command(b"+OK\r\n").is_err());
    }
}
