//! Where commands that run a script (EVAL, FCALL, an EXEC that queued one)
//! run: on their connection's worker thread, but on a stack of their own (a
//! coroutine), so that a script past the busy threshold can step aside.
//!
//! A script that ends within the busy threshold runs straight through, as
//! any command does: no handoff to another thread, no wakeups. Past the
//! threshold, the Lua hook (every 100,000 instructions) suspends the
//! coroutine; the connection's task yields to the worker's loop, whose other
//! connections then get BUSY (or bring SCRIPT KILL / SHUTDOWN NOSAVE), and
//! the script resumes on its next turn. Workers other than the script's
//! answer BUSY as they always did, waiting on the gate the script holds.
//!
//! While a script is suspended, the command state its thread keeps in
//! thread-locals (propagation unit, tracking context) is set aside, and the
//! engine knows not to wait for the gate on that thread
//! (`script::suspended_here`).

use std::cell::Cell;
use std::sync::{Arc, OnceLock};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use ferrokey_engine::client::Client;
use ferrokey_engine::script::ThreadState;
use ferrokey_engine::Server;
use ferrokey_resp::Frame;

use crate::clock::now_us;

/// The most commands one batch carries.
pub const BATCH_MAX: usize = 64;

/// Deep Lua values (1000 levels of nesting, as Redis allows) recurse in
/// the reply conversion and the libraries. Reserved address space; pages
/// are touched only as deep as a script goes.
const STACK_BYTES: usize = 64 * 1024 * 1024;

static SERVER: OnceLock<Arc<Server>> = OnceLock::new();

thread_local! {
    /// A finished coroutine's stack, kept for the next script.
    static STACK: Cell<Option<DefaultStack>> = const { Cell::new(None) };
    /// The yielder of the coroutine running on this thread; null while
    /// none runs (a suspended one clears it before it suspends).
    static YIELDER: Cell<*const Yielder<(), ()>> = const { Cell::new(std::ptr::null()) };
}

/// Remembers the server and tells the engine how this process suspends a
/// busy script. Each worker thread calls [`enable_pause`] too.
pub fn start(server: Arc<Server>) {
    let _ = SERVER.set(server);
}

/// Lets scripts run by this thread's connections step aside when busy.
pub fn enable_pause() {
    ferrokey_engine::script::set_pause(Some(pause));
}

/// Suspends the script running on this thread's coroutine, if any.
#[allow(unsafe_code)]
fn pause() {
    let y = YIELDER.with(|c| c.replace(std::ptr::null()));
    if y.is_null() {
        return;
    }
    // SAFETY: a non-null YIELDER is the yielder of the coroutine running
    // right now on this thread (set when it starts or resumes, cleared
    // before it suspends or ends), and we are on that coroutine's stack.
    unsafe { (*y).suspend(()) };
    YIELDER.with(|c| c.set(y));
}

/// Pipelined script commands, as read: one copy of their bytes, every
/// argument's range in it, and where each command's arguments end.
#[derive(Debug)]
pub struct Batch {
    pub data: Vec<u8>,
    pub args: Vec<std::ops::Range<usize>>,
    pub ends: Vec<usize>,
}

/// Runs one command, surviving a panic in it.
fn execute(server: &Server, client: &mut Client, refs: &[&[u8]]) -> Frame {
    // A bug in one command must not unwind through the coroutine.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ferrokey_engine::execute(server, client, refs, now_us())
    }))
    .unwrap_or_else(|_| Frame::Error("ERR internal error running the script".into()))
}

type Script<R> = Coroutine<(), (), R>;

/// A coroutine being driven, with the thread state of its command while it
/// is suspended. Dropped unfinished (its connection's task torn down), it
/// runs the script to its end first: a coroutine's stack must not be
/// unwound through Lua's C frames.
struct Driven<R> {
    co: Option<Script<R>>,
    saved: Option<ThreadState>,
}

impl<R> Driven<R> {
    /// Resumes the script: `Some` once it has ended.
    fn step(&mut self) -> Option<R> {
        if let Some(s) = self.saved.take() {
            ferrokey_engine::script::resume_thread_state(s);
        }
        let co = self.co.as_mut()?;
        match co.resume(()) {
            CoroutineResult::Yield(()) => {
                self.saved = Some(ferrokey_engine::script::suspend_thread_state());
                None
            }
            CoroutineResult::Return(r) => {
                if let Some(done) = self.co.take() {
                    STACK.with(|s| s.set(Some(done.into_stack())));
                }
                Some(r)
            }
        }
    }
}

impl<R> Drop for Driven<R> {
    fn drop(&mut self) {
        while self.co.is_some() {
            let _ = self.step();
        }
    }
}

/// Runs `f` on a coroutine, yielding to the worker's other tasks whenever
/// the script in it steps aside.
async fn drive<R: 'static>(f: impl FnOnce(&Server) -> R + 'static) -> R {
    let server = SERVER.get().expect("scripts::start ran").clone();
    let stack = STACK.with(Cell::take).unwrap_or_else(|| {
        DefaultStack::new(STACK_BYTES)
            .unwrap_or_else(|e| crate::fatal(&format!("allocating a script stack: {e}")))
    });
    let co = Coroutine::with_stack(stack, move |y: &Yielder<(), ()>, ()| {
        YIELDER.with(|c| c.set(y));
        let r = f(&server);
        YIELDER.with(|c| c.set(std::ptr::null()));
        r
    });
    let mut driven = Driven {
        co: Some(co),
        saved: None,
    };
    loop {
        if let Some(r) = driven.step() {
            return r;
        }
        tokio::task::yield_now().await;
    }
}

/// The connection's client, reached from its script's coroutine.
///
/// The coroutine's closure must be `'static`, so it holds the client by
/// address rather than by borrow (moving the client out and back cost a
/// stand-in client and several copies of it per script command).
struct ClientPtr(*mut Client);

impl ClientPtr {
    /// The client.
    ///
    /// # Safety
    /// Only while the coroutine runs: it runs only inside [`drive`], whose
    /// caller holds the `&mut Client` the pointer came from for as long as
    /// `drive`'s future lives, and a dropped `drive` future finishes the
    /// coroutine in its drop, still inside that borrow. Nothing else
    /// reaches the client meanwhile.
    #[allow(unsafe_code)]
    unsafe fn get<'a>(self) -> &'a mut Client {
        &mut *self.0
    }
}

/// Runs `argv` for `client`, a command that runs a script.
pub async fn run(client: &mut Client, argv: &[&[u8]]) -> Frame {
    let ptr = ClientPtr(client);
    let args: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    drive(move |server| {
        // SAFETY: see `ClientPtr::get`.
        #[allow(unsafe_code)]
        let client = unsafe { ptr.get() };
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        execute(server, client, &refs)
    })
    .await
}

/// Runs pipelined script commands for a plain connection (replies on, not
/// in MULTI) on one coroutine; appends their replies to `out` (the
/// connection's output buffer, handed over and back) and returns it.
pub async fn run_batch(client: &mut Client, batch: Batch, mut out: Vec<u8>) -> Vec<u8> {
    let ptr = ClientPtr(client);
    drive(move |server| {
        // SAFETY: see `ClientPtr::get`.
        #[allow(unsafe_code)]
        let client = unsafe { ptr.get() };
        let mut refs: Vec<&[u8]> = Vec::new();
        let mut start = 0;
        for &end in &batch.ends {
            refs.clear();
            refs.extend(
                batch.args[start..end]
                    .iter()
                    .map(|r| &batch.data[r.clone()]),
            );
            start = end;
            let reply = execute(server, client, &refs);
            // As the connection writes one reply: messages queued before
            // it, the reply, then what the command sent to its own
            // connection.
            let handle = &client.handle;
            if !handle.outbox.is_empty() {
                handle.outbox.drain_into(&mut out);
            }
            ferrokey_resp::encode(&reply, client.resp, &mut out);
            if !handle.late.is_empty() {
                handle.late.drain_into(&mut out);
            }
        }
        out
    })
    .await
}
