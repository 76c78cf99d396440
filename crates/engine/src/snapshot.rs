//! Point-in-time snapshots without fork (BGSAVE, the AOF rewrite's base).
//!
//! Redis forks and lets the kernel copy pages the parent changes. Ferrokey
//! copies at value granularity instead: [`begin`], with the gate held
//! exclusively, marks every shard; from then on a shard not yet written
//! keeps the old version of a key the first time anything touches it
//! (`Shard::preserve`: a clone for an in-place change, a move for
//! FLUSHALL, "absent" for a key created since). A [`Job`] on its own
//! thread then walks the shards one at a time: under the shard's lock it
//! writes each key's kept version if it has one, else the current one,
//! and ends copy-on-write for that shard. Extra memory is bounded by the
//! values touched in shards the job has not reached yet; clients wait at
//! most one shard's serialization.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};

use crate::keyspace::SHARDS;
use crate::rdb::{Item, Writer};
use crate::server::Server;

/// Snapshot bookkeeping for INFO and for one-at-a-time.
#[derive(Debug)]
pub struct Snapshots {
    /// A job is running (shards may hold kept versions).
    running: Mutex<bool>,
    done: Condvar,
    /// A BGSAVE is running.
    pub bgsave: AtomicBool,
    /// BGSAVE SCHEDULE asked for another one.
    pub scheduled: AtomicBool,
    /// Whether the last BGSAVE failed.
    pub last_failed: AtomicBool,
    /// Unix ms when the running BGSAVE began.
    pub started_ms: AtomicU64,
    /// Seconds the last BGSAVE took (-1 as u64::MAX: none yet).
    pub last_secs: AtomicU64,
    /// Values copied by the last or running snapshot.
    pub cow_values: AtomicU64,
    /// FLUSHALL asked the running BGSAVE to stop (Redis kills its child).
    pub cancel: AtomicBool,
}

impl Default for Snapshots {
    fn default() -> Self {
        Snapshots {
            running: Mutex::new(false),
            done: Condvar::new(),
            bgsave: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
            last_failed: AtomicBool::new(false),
            started_ms: AtomicU64::new(0),
            last_secs: AtomicU64::new(u64::MAX),
            cow_values: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
        }
    }
}

/// A snapshot begun and not yet written.
#[derive(Debug)]
pub struct Job {
    now_ms: u64,
    functions: Vec<Vec<u8>>,
    /// Keys and volatile keys per database at the instant (RESIZEDB hints,
    /// and which databases to write).
    sizes: Vec<(usize, usize)>,
    used_mem: u64,
    compress: bool,
    checksum: bool,
    /// `rdb-key-save-delay`: a pause per key written, in µs.
    key_delay_us: u64,
}

/// Whether a snapshot job is running.
pub fn running(server: &Server) -> bool {
    *server.snapshots.running.lock()
}

/// Waits until no snapshot job runs (SWAPDB cannot move kept versions
/// between databases). Jobs never take the gate, so a caller holding it
/// may wait.
pub fn wait_idle(server: &Server) {
    let mut r = server.snapshots.running.lock();
    while *r {
        server.snapshots.done.wait(&mut r);
    }
}

/// Takes the snapshot's instant: the caller holds the gate exclusively.
/// Returns `None` when a job is already running.
pub fn begin(server: &Server, now_ms: u64) -> Option<Job> {
    {
        let mut r = server.snapshots.running.lock();
        if *r {
            return None;
        }
        *r = true;
    }
    server.snapshots.cow_values.store(0, Ordering::Relaxed);
    server.snapshots.cancel.store(false, Ordering::Relaxed);
    let mut sizes = Vec::with_capacity(server.dbs.len());
    for db in server.dbs.iter() {
        let (mut keys, mut volatile) = (0, 0);
        for i in 0..SHARDS {
            let mut s = db.lock(i);
            keys += s.len();
            volatile += s.volatile_len();
            s.cow_begin();
        }
        sizes.push((keys, volatile));
    }
    let c = server.config.read();
    Some(Job {
        now_ms,
        functions: crate::script::functions::library_codes(&server.scripting),
        sizes,
        used_mem: server.host.stats().allocated,
        compress: c.rdbcompression(),
        checksum: c.rdbchecksum(),
        key_delay_us: u64::try_from(c.rdb_key_save_delay_us()).unwrap_or(0),
    })
}

impl Job {
    /// Writes the snapshot to `out` in RDB format, shard by shard, ending
    /// copy-on-write as it goes. Always ends every shard's copy-on-write,
    /// even when writing fails.
    pub fn write(self, server: &Server, out: &mut dyn Write) -> std::io::Result<()> {
        let r = self.write_inner(server, out);
        if r.is_err() {
            for db in server.dbs.iter() {
                for i in 0..SHARDS {
                    db.lock(i).cow_take();
                }
            }
        }
        let mut running = server.snapshots.running.lock();
        *running = false;
        server.snapshots.done.notify_all();
        r
    }

    fn write_inner(&self, server: &Server, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = Writer::with_compression(self.now_ms, self.used_mem, self.compress);
        if !self.checksum {
            w = w.without_checksum();
        }
        let mut crc = 0;
        for code in &self.functions {
            w.function(code);
        }
        let now = self.now_ms;
        let live = |t: u64| t == 0 || t > now;
        for (i, db) in server.dbs.iter().enumerate() {
            let (keys, volatile) = self.sizes[i];
            if keys == 0 {
                for s in 0..SHARDS {
                    db.lock(s).cow_take();
                }
                continue;
            }
            w.select(i, keys, volatile);
            for s in 0..SHARDS {
                self.pause(server, 0)?;
                let mut written = 0u64;
                let mut g = db.lock(s);
                let kept = g.cow_take();
                server.snapshots.cow_values.fetch_add(
                    kept.values().filter(|v| v.is_some()).count() as u64,
                    Ordering::Relaxed,
                );
                for e in g.iter() {
                    if kept.contains_key(e.key()) {
                        continue;
                    }
                    let t = e.expire_ms().unwrap_or(0);
                    if live(t) {
                        written += 1;
                        w.item(&Item {
                            key: e.key(),
                            value: e.value(),
                            expire_ms: e.expire_ms(),
                        });
                    }
                }
                drop(g);
                for (k, v) in &kept {
                    if let Some(v) = v {
                        if live(v.expire_ms) {
                            written += 1;
                            w.item(&Item {
                                key: k,
                                value: &v.value,
                                expire_ms: (v.expire_ms != 0).then_some(v.expire_ms),
                            });
                        }
                    }
                }
                if w.buffered() >= 1 << 20 {
                    w.drain_to(out, &mut crc)?;
                }
                // The per-key delay is served per shard, outside its lock.
                self.pause(server, written)?;
            }
        }
        w.drain_to(out, &mut crc)?;
        w.finish_to(out, crc)
    }
}

impl Job {
    /// Waits `rdb-key-save-delay` for each of `keys` keys, in slices, and
    /// stops the job with `Interrupted` once FLUSHALL cancelled it.
    fn pause(&self, server: &Server, keys: u64) -> std::io::Result<()> {
        let cancelled = || server.snapshots.cancel.load(Ordering::Relaxed);
        let mut left_us = keys.saturating_mul(self.key_delay_us);
        loop {
            if cancelled() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "snapshot cancelled",
                ));
            }
            if left_us == 0 {
                return Ok(());
            }
            let step = left_us.min(10_000);
            std::thread::sleep(std::time::Duration::from_micros(step));
            left_us -= step;
        }
    }
}

/// Stops a running BGSAVE (FLUSHALL, as Redis kills its saving child);
/// its file is not written and it counts as no failure.
pub fn cancel_bgsave(server: &Server) {
    if server.snapshots.bgsave.load(Ordering::Acquire) {
        server.snapshots.cancel.store(true, Ordering::Relaxed);
    }
}

/// Writes a snapshot to `path` through a temp file in the same
/// directory, fsynced and renamed over `path`.
pub fn write_file(job: Job, server: &Server, path: &std::path::Path) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!("temp-{}-{}.rdb", std::process::id(), job.now_ms));
    let file = std::fs::File::create(&tmp);
    let mut file = match file {
        Ok(f) => f,
        Err(e) => {
            // The job must still end copy-on-write.
            let _ = job.write(server, &mut std::io::sink());
            return Err(format!(
                "Failed opening the temp RDB file {}: {e}",
                tmp.display()
            ));
        }
    };
    let r = {
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, &mut file);
        job.write(server, &mut buf).and_then(|()| buf.flush())
    };
    let r = r
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Write error saving DB on disk: {e}"));
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// BGSAVE: with the gate held exclusively, takes the instant and writes
/// `dbfilename` from a thread of its own. Err with Redis's text when a
/// save is already running.
pub fn bgsave(server: &Server, now_ms: u64) -> Result<(), String> {
    let Some(me) = server.arc() else {
        return Err("ERR Background save is not available".into());
    };
    if server.aof.rewriting.load(Ordering::Acquire) || running(server) {
        return Err("ERR Background save already in progress".into());
    }
    let Some(job) = begin(server, now_ms) else {
        return Err("ERR Background save already in progress".into());
    };
    let st = &server.snapshots;
    st.bgsave.store(true, Ordering::Release);
    st.started_ms.store(now_ms, Ordering::Relaxed);
    let dirty = server.stats.dirty.load(Ordering::Relaxed);
    let path = std::path::PathBuf::from(server.config.read().dbfilename());
    std::thread::Builder::new()
        .name("ferrokey-bgsave".into())
        .spawn(move || {
            // Yield to the threads serving requests: the save takes longer
            // under load, requests do not wait for it.
            me.host.lower_thread_priority();
            let start = std::time::Instant::now();
            let r = write_file(job, &me, &path);
            let st = &me.snapshots;
            st.last_secs
                .store(start.elapsed().as_secs(), Ordering::Relaxed);
            match r {
                Ok(()) => {
                    me.stats.dirty.fetch_sub(
                        dirty.min(me.stats.dirty.load(Ordering::Relaxed)),
                        Ordering::Relaxed,
                    );
                    me.stats.lastsave_ms.store(now_ms, Ordering::Relaxed);
                    me.stats.rdb_saves.fetch_add(1, Ordering::Relaxed);
                    st.last_failed.store(false, Ordering::Relaxed);
                    me.host
                        .log("notice", "Background saving terminated with success");
                }
                Err(_) if st.cancel.swap(false, Ordering::Relaxed) => {
                    me.host
                        .log("warning", "Background saving stopped by FLUSHALL");
                }
                Err(e) => {
                    st.last_failed.store(true, Ordering::Relaxed);
                    me.host.log("warning", &e);
                }
            }
            st.bgsave.store(false, Ordering::Release);
            if st.scheduled.swap(false, Ordering::AcqRel) {
                background_save(&me);
            }
        })
        .map_err(|e| format!("ERR {e}"))?;
    Ok(())
}

/// Starts a BGSAVE from a thread that waits for the exclusive gate (save
/// points, BGSAVE SCHEDULE).
pub fn background_save(server: &Server) {
    let Some(me) = server.arc() else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("ferrokey-bgsave".into())
        .spawn(move || {
            let _gate = me.gate.write();
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            if let Err(e) = bgsave(&me, now_ms) {
                me.host.log("warning", &e);
            }
        });
}

/// Whether writes must be refused because the last save failed
/// (`stop-writes-on-bgsave-error`, with save points configured).
pub fn misconf(server: &Server) -> Option<&'static str> {
    if !server.snapshots.last_failed.load(Ordering::Relaxed) {
        return None;
    }
    let c = server.config.read();
    (c.stop_writes_on_bgsave_error() && !c.save_params().is_empty()).then_some(
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
    )
}

/// Once a second: a save point (`save <seconds> <changes>`) that is due
/// starts a BGSAVE.
pub fn every_second(server: &Server, now_ms: u64) {
    if server.snapshots.bgsave.load(Ordering::Acquire) || running(server) {
        return;
    }
    let points = server.config.read().save_params();
    let dirty = server.stats.dirty.load(Ordering::Relaxed);
    let last = server.stats.lastsave_ms.load(Ordering::Relaxed);
    let due = points
        .iter()
        .any(|&(secs, changes)| dirty >= changes && now_ms.saturating_sub(last) >= secs * 1000);
    if due && dirty > 0 {
        server.host.log(
            "notice",
            &format!("{dirty} changes since the last save. Saving..."),
        );
        background_save(server);
    }
}
