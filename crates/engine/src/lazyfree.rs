//! Freeing large values off the request path: UNLINK, FLUSHALL/FLUSHDB
//! ASYNC, and deletions under the `lazyfree-lazy-*` settings.
//!
//! As in Redis, only values whose freeing takes work (collections of more
//! than [`EFFORT_MAX`] elements, or whole databases) go to the background
//! thread; anything smaller is freed at once, which costs less than the
//! hand-over.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::value::Value;

/// Elements a value may have and still be freed in place.
pub const EFFORT_MAX: usize = 64;

thread_local! {
    /// Whether a command runs on this thread (commands nest in scripts).
    static IN_COMMAND: Cell<bool> = const { Cell::new(false) };
    /// Big values the running command's lookups found expired, kept for
    /// the end of the command: the shard that removed them has no way to
    /// the server's freeing thread, and freeing after the command also
    /// keeps the work out of the shard lock.
    static EXPIRED: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// A value a lookup found expired: kept for [`end_command`] when it is big
/// and a command runs on this thread; otherwise freed now.
pub fn expired(value: Value) {
    if value.free_effort() <= EFFORT_MAX || !IN_COMMAND.get() {
        return;
    }
    EXPIRED.with(|e| e.borrow_mut().push(value));
}

/// Starts collecting expired values for this thread's command; returns
/// whether an outer command already was (commands nest in scripts).
pub fn begin_command() -> bool {
    IN_COMMAND.replace(true)
}

/// Frees what the command collected: in the background under
/// `lazyfree-lazy-expire` (`lazy`), else here, outside any shard lock.
pub fn end_command(lf: &LazyFree, lazy: bool) {
    IN_COMMAND.set(false);
    let list = EXPIRED.with(|e| {
        let mut e = e.borrow_mut();
        (!e.is_empty()).then(|| std::mem::take(&mut *e))
    });
    for v in list.into_iter().flatten() {
        lf.free(v, lazy);
    }
}

/// Counts shared with the freeing thread.
#[derive(Debug, Default)]
struct Counts {
    /// Objects handed over and not yet freed.
    pending: AtomicU64,
    /// Objects freed by the thread so far.
    freed: AtomicU64,
}

type Job = (Box<dyn Any + Send>, u64);

/// The background freeing thread, started on first use.
#[derive(Debug, Default)]
pub struct LazyFree {
    tx: Mutex<Option<Sender<Job>>>,
    counts: Arc<Counts>,
}

impl LazyFree {
    /// Frees `value`: in the background when `lazy` and it is large.
    pub fn free(&self, value: Value, lazy: bool) {
        if lazy && value.free_effort() > EFFORT_MAX {
            self.hand_over(Box::new(value), 1);
        }
    }

    /// Frees anything in the background; `objects` is how many values it
    /// holds, for INFO's counters.
    pub fn hand_over(&self, what: Box<dyn Any + Send>, objects: u64) {
        self.counts.pending.fetch_add(objects, Ordering::Relaxed);
        let mut tx = self.tx.lock();
        let sender = tx.get_or_insert_with(|| {
            let (tx, rx) = channel::<Job>();
            let counts = self.counts.clone();
            let spawned = std::thread::Builder::new()
                .name("lazyfree".into())
                .spawn(move || {
                    while let Ok((job, n)) = rx.recv() {
                        drop(job);
                        counts.pending.fetch_sub(n, Ordering::Relaxed);
                        counts.freed.fetch_add(n, Ordering::Relaxed);
                    }
                });
            if spawned.is_err() {
                // No thread: the receiver is gone, so sends fail and the
                // caller frees in place below.
            }
            tx
        });
        if let Err(e) = sender.send((what, objects)) {
            *tx = None;
            drop(tx);
            drop(e);
            self.counts.pending.fetch_sub(objects, Ordering::Relaxed);
            self.counts.freed.fetch_add(objects, Ordering::Relaxed);
        }
    }

    /// Objects waiting to be freed (INFO `lazyfree_pending_objects`).
    pub fn pending(&self) -> u64 {
        self.counts.pending.load(Ordering::Relaxed)
    }

    /// Objects freed in the background so far (INFO `lazyfreed_objects`).
    pub fn freed(&self) -> u64 {
        self.counts.freed.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT: the freed count starts again from zero.
    pub fn reset_stats(&self) {
        self.counts.freed.store(0, Ordering::Relaxed);
    }

    /// Waits until everything handed over has been freed (tests, DEBUG).
    pub fn drain(&self) {
        while self.pending() > 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_values_go_to_the_thread() {
        let lf = LazyFree::default();
        lf.free(Value::Str(crate::value::Str::from_bytes(b"x")), true);
        assert_eq!(lf.freed(), 0);
        let mut set = crate::types::set::Set::default();
        let lim = crate::types::Limits::default();
        for i in 0..1000 {
            set.add(format!("m{i}").as_bytes(), &lim);
        }
        lf.free(Value::Set(Box::new(set)), true);
        lf.drain();
        assert_eq!(lf.freed(), 1);
        assert_eq!(lf.pending(), 0);
    }
}
