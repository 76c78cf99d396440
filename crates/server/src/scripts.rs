//! The script thread: every command that runs a script (EVAL, FCALL, an
//! EXEC that queued one) runs here, one at a time.
//!
//! A connection hands such a command over and awaits the reply, so its
//! worker thread keeps serving its other connections meanwhile: past the
//! busy threshold they answer BUSY, and one of them may bring SCRIPT KILL.
//! One thread is enough, since scripts hold the gate exclusively and so
//! never run side by side anyway; it also keeps the workers from queueing
//! on the gate's write side, which costs more than the handoff.

use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, OnceLock};

use ferrokey_engine::client::Client;
use ferrokey_engine::Server;
use ferrokey_resp::Frame;
use tokio::sync::oneshot;

use crate::clock::now_us;

/// The most commands one batch carries.
pub const BATCH_MAX: usize = 64;

/// Commands for the script thread, with the client they run for.
enum Job {
    /// One command; its reply comes back as a frame for the connection
    /// to handle as any other reply.
    One {
        client: Client,
        args: Vec<Vec<u8>>,
        done: oneshot::Sender<(Client, Frame)>,
    },
    /// Pipelined commands of a plain connection (replies on, not in
    /// MULTI): their replies come back encoded, with the messages that go
    /// around them, as the connection would have written them.
    Batch {
        client: Client,
        commands: Vec<Vec<Vec<u8>>>,
        done: oneshot::Sender<(Client, Vec<u8>)>,
    },
}

/// Runs one command, surviving a panic in it.
fn execute(server: &Server, client: &mut Client, args: &[Vec<u8>]) -> Frame {
    let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    // A bug in one command must not take every later script down with
    // this thread.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ferrokey_engine::execute(server, client, &refs, now_us())
    }))
    .unwrap_or_else(|_| Frame::Error("ERR internal error running the script".into()))
}

/// Deep Lua values (1000 levels of nesting, as Redis allows) recurse in
/// the reply conversion and the libraries.
const STACK_BYTES: usize = 64 * 1024 * 1024;

static JOBS: OnceLock<std::sync::Mutex<Sender<Job>>> = OnceLock::new();

thread_local! {
    /// This worker's copy of the sender, taken once.
    static TX: std::cell::RefCell<Option<Sender<Job>>> = const { std::cell::RefCell::new(None) };
}

/// Starts the script thread.
pub fn start(server: Arc<Server>) {
    let (tx, rx) = channel::<Job>();
    let _ = JOBS.set(std::sync::Mutex::new(tx));
    std::thread::Builder::new()
        .name("ferrokey-lua".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            while let Ok(job) = rx.recv() {
                // The connection may be gone; its client is dropped then.
                match job {
                    Job::One {
                        mut client,
                        args,
                        done,
                    } => {
                        let reply = execute(&server, &mut client, &args);
                        let _ = done.send((client, reply));
                    }
                    Job::Batch {
                        mut client,
                        commands,
                        done,
                    } => {
                        let mut out = Vec::new();
                        for args in &commands {
                            let reply = execute(&server, &mut client, args);
                            // As the connection writes one reply: messages
                            // queued before it, the reply, then what the
                            // command sent to its own connection.
                            let handle = client.handle.clone();
                            if !handle.outbox.is_empty() {
                                handle.outbox.drain_into(&mut out);
                            }
                            ferrokey_resp::encode(&reply, client.resp, &mut out);
                            if !handle.late.is_empty() {
                                handle.late.drain_into(&mut out);
                            }
                        }
                        let _ = done.send((client, out));
                    }
                }
            }
        })
        .unwrap_or_else(|e| crate::fatal(&format!("spawning the script thread: {e}")));
}

/// Runs `argv` for `client` on the script thread.
pub async fn run(client: &mut Client, argv: &[&[u8]]) -> Frame {
    let owned = take(client);
    let (done, wait) = oneshot::channel();
    send(Job::One {
        client: owned,
        args: argv.iter().map(|a| a.to_vec()).collect(),
        done,
    });
    match wait.await {
        Ok((owned, reply)) => {
            *client = owned;
            reply
        }
        Err(_) => crate::fatal("the script thread dropped a command"),
    }
}

/// Runs pipelined script commands for a plain connection (replies on, not
/// in MULTI) on the script thread in one handoff; returns the bytes to
/// write.
pub async fn run_batch(client: &mut Client, commands: Vec<Vec<Vec<u8>>>) -> Vec<u8> {
    let owned = take(client);
    let (done, wait) = oneshot::channel();
    send(Job::Batch {
        client: owned,
        commands,
        done,
    });
    match wait.await {
        Ok((owned, out)) => {
            *client = owned;
            out
        }
        Err(_) => crate::fatal("the script thread dropped a command"),
    }
}

/// Moves the client out for the script thread, leaving a stand-in.
fn take(client: &mut Client) -> Client {
    let placeholder = Client::new(client.handle.clone(), client.authenticated);
    std::mem::replace(client, placeholder)
}

fn send(job: Job) {
    let sent = TX.with(|tx| {
        let mut tx = tx.borrow_mut();
        let sender = tx.get_or_insert_with(|| {
            JOBS.get()
                .expect("script thread started")
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        });
        sender.send(job).is_ok()
    });
    if !sent {
        crate::fatal("the script thread has stopped");
    }
}
