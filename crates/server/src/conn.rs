//! One client connection: read, decode, execute, reply.
//!
//! Requests are decoded from the read buffer in place and executed in
//! order; the replies to everything decoded from one read are written with
//! one write, which is what makes pipelining cheap.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};

/// Largest read buffer an idle connection keeps.
const QUERY_BUF_KEEP: usize = 64 * 1024;
use ferrokey_engine::client::{
    Client, ClientHandle, ReplyMode, Waker, UNBLOCK_ERROR, UNBLOCK_TIMEOUT,
};
use ferrokey_engine::cmd::connection::paused_until;
use ferrokey_engine::Server;
use ferrokey_resp::{encode, Frame, Limits, Request, RequestDecoder};
use std::pin::Pin;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use crate::clock::now_us;

/// A request's arguments: most requests have few, and need no allocation.
type Argv<'a> = smallvec::SmallVec<[&'a [u8]; 8]>;

/// Bytes read per syscall at least.
const READ_CHUNK: usize = 16 * 1024;

/// Redis's text for a client refused by protected mode.
const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Why a connection ended; only for the log.
#[derive(Debug)]
enum End {
    Closed,
    Protocol,
    Killed,
    Timeout,
    QueryBufferLimit,
    Io,
    Quit,
}

/// Serves one accepted connection until it closes.
pub async fn serve(server: Arc<Server>, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let keepalive_s = server.config.read().tcp_keepalive_s();
    if keepalive_s > 0 {
        let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive_s));
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&ka);
    }
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let local = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let peer_is_local = stream.peer_addr().is_ok_and(|a| a.ip().is_loopback());
    server
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    let maxclients = server.tunables.maxclients.load(Ordering::Relaxed);
    if server.clients.len() as u64 >= maxclients {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let denied = {
        let cfg = server.config.read();
        cfg.protected_mode() && cfg.requirepass().is_none() && !peer_is_local
    };
    if denied {
        let _ = stream.write_all(DENIED.as_bytes()).await;
        return;
    }
    let fd = raw_fd(&stream);
    let handle = ferrokey_engine::cmd::connection::new_handle(
        &server,
        peer.clone(),
        local,
        fd,
        now_us() / 1000,
    );
    let notify = Arc::new(Notify::new());
    {
        let n = notify.clone();
        *handle.waker.lock() = Some(Waker(Arc::new(move || n.notify_one())));
    }
    let auth_required = server.tunables.auth_required.load(Ordering::Relaxed);
    let mut client = Client::new(handle.clone(), !auth_required);
    let end = run(&server, &mut stream, &mut client, &handle, &notify).await;
    crate::verbose!("Client id={} addr={} closed ({:?})", handle.id, peer, end);
    *handle.waker.lock() = None;
    ferrokey_engine::blocking::finish(&server, &mut client);
    ferrokey_engine::cmd::pubsub::unsubscribe_all(&server, &mut client);
    ferrokey_engine::cmd::pubsub::stop_monitor(&server, &client);
    server.repl.detach(handle.id);
    ferrokey_engine::cmd::connection::disable_tracking(&server, &handle);
    client.unwatch_all(&server);
    server.clients.remove(handle.id);
}

#[cfg(unix)]
fn raw_fd(s: &TcpStream) -> i64 {
    use std::os::fd::AsRawFd;
    i64::from(s.as_raw_fd())
}

#[cfg(not(unix))]
fn raw_fd(_s: &TcpStream) -> i64 {
    -1
}

async fn run(
    server: &Arc<Server>,
    stream: &mut TcpStream,
    client: &mut Client,
    handle: &Arc<ClientHandle>,
    notify: &Notify,
) -> End {
    // The wake-up from other clients (a kill, a message, an unblock) is
    // one future kept across the loop and renewed only when it fires:
    // making one per read would queue and unqueue a waiter every turn.
    let mut woken = std::pin::pin!(notify.notified());
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut decoder = RequestDecoder::new();
    // The last read filled all the room it had: more is likely waiting.
    let mut read_full = false;
    loop {
        // Run every complete request in the buffer; stop early when one
        // blocks, leaving the rest for after the wait.
        let mut end = None;
        let mut blocked = None;
        loop {
            let limits = Limits {
                bulk_len_max: server.tunables.proto_max_bulk_len.load(Ordering::Relaxed),
                unauthenticated: !client.authenticated,
            };
            let req = match decoder.decode(&buf, &limits) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    out.extend_from_slice(format!("-ERR {e}\r\n").as_bytes());
                    crate::verbose!("Protocol error ({}) from client id={}", e, handle.id);
                    end = Some(End::Protocol);
                    break;
                }
            };
            let consumed = req.consumed();
            let send = match &req {
                Request::Empty { .. } => false,
                Request::Args { args, .. } => {
                    // CLIENT LIST shows the running command in qbuf, as
                    // Redis's query buffer still holds it.
                    handle.qbuf.store(buf.len(), Ordering::Relaxed);
                    let argv: Argv<'_> = args.iter().map(|r| &buf[r.clone()]).collect();
                    let script = ferrokey_engine::script::runs_script(client, &argv);
                    if script && plain(client) {
                        wait_pause(server, &argv).await;
                        drop(argv);
                        let (batch, total) = script_batch(&buf, consumed, args, client, &limits);
                        out = crate::scripts::run_batch(client, batch, std::mem::take(&mut out))
                            .await;
                        buf.advance(total);
                        continue;
                    }
                    run_command(server, client, &argv, &mut out, script).await
                }
                Request::Inline { args, .. } => {
                    let argv: Argv<'_> = args.iter().map(|a| a.as_slice()).collect();
                    let script = ferrokey_engine::script::runs_script(client, &argv);
                    run_command(server, client, &argv, &mut out, script).await
                }
            };
            if let Request::Args { args, .. } = req {
                decoder.recycle(args);
            }
            buf.advance(consumed);
            if client.blocked.is_some() {
                blocked = Some(send);
                break;
            }
            if client.close_after_reply || client.shutdown.is_some() {
                end = Some(End::Quit);
                break;
            }
        }
        handle.qbuf.store(buf.len(), Ordering::Relaxed);
        // Client eviction, checked when this client has grown enough to be
        // a candidate (others are checked by the cron).
        if server.tunables.client_mem_limit.load(Ordering::Relaxed) != 0
            && handle.tot_mem() >= ferrokey_engine::evict::CLIENT_EVICT_MIN
        {
            ferrokey_engine::evict::evict_clients(server, crate::clock::now_us() / 1000);
            if handle.is_killed() {
                ferrokey_engine::blocking::finish(server, client);
                return End::Killed;
            }
        }
        let limit = server.tunables.query_buffer_limit.load(Ordering::Relaxed);
        if end.is_none() && buf.len() as u64 > limit {
            crate::warning!(
                "Closing client that reached max query buffer length: id={} addr={}",
                handle.id,
                handle.addr
            );
            return End::QueryBufferLimit;
        }
        if !out.is_empty() {
            // The worker's other ready connections run their requests
            // before this reply is written, so replies leave in one burst
            // per turn of the loop, as Redis writes all its replies just
            // before it sleeps. A client that reads many connections (a
            // pool, a benchmark) is then woken once per burst rather than
            // once per reply: written one by one, replies woke
            // redis-benchmark twelve times as often as Redis's did.
            requeue().await;
        }
        if !handle.outbox.is_empty() {
            handle.outbox.drain_into(&mut out);
        }
        if !out.is_empty() {
            // Under `appendfsync always` no reply leaves before the writes
            // it acknowledges are on disk.
            ferrokey_engine::aof::sync_pending(server);
            server
                .stats
                .net_output_bytes
                .fetch_add(out.len() as u64, Ordering::Relaxed);
            server.stats.total_writes.fetch_add(1, Ordering::Relaxed);
            // Replies on their way count as output buffer memory (CLIENT
            // LIST omem, client eviction) until written.
            handle.omem.store(out.len(), Ordering::Relaxed);
            let written = write_out(stream, &out, handle, notify, woken.as_mut()).await;
            handle.omem.store(0, Ordering::Relaxed);
            if let Err(e) = written {
                ferrokey_engine::blocking::finish(server, client);
                return e;
            }
            out.clear();
            if out.capacity() > 1024 * 1024 {
                out.shrink_to(READ_CHUNK);
            }
            // Messages that arrived during the write go out before the
            // next read.
            if blocked.is_none() && end.is_none() && !handle.outbox.is_empty() {
                continue;
            }
        }
        if let Some(s) = client.shutdown {
            crate::shutdown::request(server, s);
        }
        if let Some(e) = end {
            return e;
        }
        if handle.is_killed() {
            ferrokey_engine::blocking::finish(server, client);
            return End::Killed;
        }
        if let Some(send) = blocked {
            let waited = wait_unblocked(
                server,
                stream,
                &mut buf,
                client,
                handle,
                notify,
                woken.as_mut(),
            )
            .await;
            ferrokey_engine::blocking::finish(server, client);
            match waited {
                Ok(reply) => {
                    if send {
                        encode(&reply, client.resp, &mut out);
                    }
                    // Requests that arrived during the wait run now.
                    continue;
                }
                Err(e) => return e,
            }
        }
        // A buffer grown for one big request is given back once it is
        // consumed, so an idle client holds no more than a read chunk (as
        // Redis resizes idle query buffers).
        if buf.is_empty() && buf.capacity() > QUERY_BUF_KEEP {
            buf = BytesMut::with_capacity(READ_CHUNK);
        }
        // Make room for the next read: a pending big bulk gets its whole
        // size at once rather than many small grows.
        let want = match decoder.pending_bulk() {
            Some((at, len)) => (at + len).saturating_sub(buf.len()).max(READ_CHUNK),
            None => READ_CHUNK,
        };
        buf.reserve(want);
        if read_full {
            // A client streaming a long pipeline takes turns with the
            // worker's other connections, one read at a time, as Redis
            // serves one read per client per event loop turn; otherwise it
            // could keep the worker until the socket runs dry.
            tokio::task::yield_now().await;
        }
        let room = buf.capacity() - buf.len();
        let timeout_s = server.tunables.timeout_s.load(Ordering::Relaxed);
        let read = async {
            if timeout_s == 0 {
                Some(stream.read_buf(&mut buf).await)
            } else {
                tokio::time::timeout(Duration::from_secs(timeout_s), stream.read_buf(&mut buf))
                    .await
                    .ok()
            }
        };
        let n = tokio::select! {
            r = read => match r {
                None => return End::Timeout,
                Some(Ok(0)) => return End::Closed,
                Some(Ok(n)) => n,
                Some(Err(_)) => return End::Io,
            },
            _ = woken.as_mut() => {
                woken.set(notify.notified());
                if handle.is_killed() {
                    return End::Killed;
                }
                continue;
            }
        };
        read_full = n >= room;
        count_read(server, n);
    }
}

/// Writes `out` to the socket, giving up when the client is killed
/// meanwhile (a subscriber over its output buffer limit that stopped
/// reading would otherwise hold its task in the write forever).
async fn write_out<'n>(
    stream: &mut TcpStream,
    out: &[u8],
    handle: &ClientHandle,
    notify: &'n Notify,
    mut woken: Pin<&mut Notified<'n>>,
) -> Result<(), End> {
    // Most replies fit the socket's buffer: written at once, they need no
    // wait for readiness.
    let mut pos = match stream.try_write(out) {
        Ok(0) => return Err(End::Io),
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(_) => return Err(End::Io),
    };
    while pos < out.len() {
        tokio::select! {
            r = stream.write(&out[pos..]) => match r {
                Ok(0) | Err(_) => return Err(End::Io),
                Ok(n) => pos += n,
            },
            _ = woken.as_mut() => {
                woken.set(notify.notified());
                if handle.is_killed() {
                    return Err(End::Killed);
                }
            }
        }
    }
    Ok(())
}

fn count_read(server: &Server, n: usize) {
    server
        .stats
        .net_input_bytes
        .fetch_add(n as u64, Ordering::Relaxed);
    server.stats.total_reads.fetch_add(1, Ordering::Relaxed);
}

/// Waits until the client's blocking command is served, times out, is
/// unblocked by CLIENT UNBLOCK, or the connection ends. Bytes that arrive
/// meanwhile are kept in `buf` for later.
async fn wait_unblocked<'n>(
    server: &Arc<Server>,
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    client: &mut Client,
    handle: &Arc<ClientHandle>,
    notify: &'n Notify,
    mut woken: Pin<&mut Notified<'n>>,
) -> Result<Frame, End> {
    let Some(w) = client.blocked.clone() else {
        return Ok(Frame::Null);
    };
    loop {
        if let Some(reply) = w.take_reply() {
            return Ok(reply);
        }
        if handle.is_killed() {
            return Err(End::Killed);
        }
        match handle.unblock.swap(0, Ordering::AcqRel) {
            UNBLOCK_TIMEOUT => return Ok(w.cancel().unwrap_or_else(|| w.op.timeout_reply(server))),
            UNBLOCK_ERROR => {
                return Ok(w.cancel().unwrap_or_else(|| {
                    Frame::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
                }))
            }
            _ => {}
        }
        let now = now_us() / 1000;
        if w.deadline_ms != 0 && now >= w.deadline_ms {
            return Ok(w.cancel().unwrap_or_else(|| w.op.timeout_reply(server)));
        }
        let sleep = async {
            if w.deadline_ms == 0 {
                std::future::pending::<()>().await;
            } else {
                tokio::time::sleep(Duration::from_millis(w.deadline_ms - now)).await;
            }
        };
        buf.reserve(READ_CHUNK);
        tokio::select! {
            _ = woken.as_mut() => woken.set(notify.notified()),
            _ = sleep => {}
            r = stream.read_buf(buf) => match r {
                Ok(0) => return Err(End::Closed),
                Ok(n) => count_read(server, n),
                Err(_) => return Err(End::Io),
            },
        }
    }
}

/// Puts the task at the back of its worker's queue: it runs again once
/// every task ready before it has had its turn. Unlike
/// `tokio::task::yield_now`, which waits for the worker's next poll of its
/// sockets, this does not let connections that became readable meanwhile
/// run first, so a turn's replies leave together, right after the turn's
/// requests ran, rather than interleaved with the next requests.
async fn requeue() {
    let mut queued = false;
    std::future::poll_fn(|cx| {
        if queued {
            return std::task::Poll::Ready(());
        }
        queued = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

/// Whether the connection is plain enough for its pipelined scripts to run
/// together on one coroutine (replies on, not in MULTI, not subscribed).
fn plain(client: &Client) -> bool {
    client.multi.is_none() && client.reply_mode == ReplyMode::On && !client.pubsub.active()
}

/// The script command `first` (which took `consumed` bytes of `buf`) and
/// the script commands right behind it already in the buffer, up to
/// [`crate::scripts::BATCH_MAX`]; with the bytes they take. A separate
/// decoder looks ahead, so the connection's own decoder is untouched.
fn script_batch(
    buf: &[u8],
    consumed: usize,
    first: &[std::ops::Range<usize>],
    client: &Client,
    limits: &Limits,
) -> (crate::scripts::Batch, usize) {
    let mut args: Vec<std::ops::Range<usize>> = first.to_vec();
    let mut ends = vec![args.len()];
    let mut total = consumed;
    let mut ahead = RequestDecoder::new();
    while ends.len() < crate::scripts::BATCH_MAX {
        let rest = &buf[total..];
        let next = match ahead.decode(rest, limits) {
            Ok(Some(r)) => r,
            _ => break,
        };
        let Request::Args {
            args: next_args, ..
        } = &next
        else {
            break;
        };
        let argv: Vec<&[u8]> = next_args.iter().map(|r| &rest[r.clone()]).collect();
        if !ferrokey_engine::script::runs_script(client, &argv) {
            break;
        }
        args.extend(next_args.iter().map(|r| r.start + total..r.end + total));
        ends.push(args.len());
        total += next.consumed();
        ahead = RequestDecoder::new();
    }
    let batch = crate::scripts::Batch {
        data: buf[..total].to_vec(),
        args,
        ends,
    };
    (batch, total)
}

/// Waits out CLIENT PAUSE for `argv`; returns the time it may run at,
/// in microseconds (one clock read when nothing is paused).
async fn wait_pause(server: &Arc<Server>, argv: &[&[u8]]) -> u64 {
    loop {
        let now = now_us();
        let Some(until) = paused_until(server, argv, now / 1000) else {
            return now;
        };
        let wait = until.saturating_sub(now / 1000).max(1);
        tokio::time::sleep(Duration::from_millis(wait.min(100))).await;
    }
}

/// Executes one command, waiting out CLIENT PAUSE first, and appends the
/// reply unless CLIENT REPLY says otherwise. Returns whether the reply is
/// to be sent: a command that blocked sends its reply when the wait ends.
/// `script`: the command runs a script, on a coroutine (`scripts`).
async fn run_command(
    server: &Arc<Server>,
    client: &mut Client,
    argv: &[&[u8]],
    out: &mut Vec<u8>,
    script: bool,
) -> bool {
    let now = wait_pause(server, argv).await;
    let before = client.reply_mode;
    let reply = if script {
        crate::scripts::run(client, argv).await
    } else {
        ferrokey_engine::execute(server, client, argv, now)
    };
    let send = match (before, client.reply_mode) {
        (_, ReplyMode::Off) => false,
        (_, ReplyMode::SkipNext) => {
            client.reply_mode = ReplyMode::Skip;
            false
        }
        (ReplyMode::Skip, ReplyMode::Skip) => {
            client.reply_mode = ReplyMode::On;
            false
        }
        _ => true,
    };
    // A successful SHUTDOWN closes the connection without a reply.
    // Pub/Sub confirmations are pushed past CLIENT REPLY OFF|SKIP, as
    // Redis does with everything it pushes.
    let pushed = match &reply {
        Frame::Push(_) => true,
        Frame::Many(v) => v.iter().all(|f| matches!(f, Frame::Push(_))),
        _ => false,
    };
    let send = (send || pushed) && client.shutdown.is_none();
    // Messages other clients delivered up to now go out before the reply.
    if !client.handle.outbox.is_empty() {
        client.handle.outbox.drain_into(out);
    }
    if send && client.blocked.is_none() {
        encode(&reply, client.resp, out);
    }
    // What this command sent to its own connection (messages it published
    // to a channel it listens to, its own keyspace events, invalidations)
    // follows its reply, as in Redis 7.2.
    if !client.handle.late.is_empty() {
        client.handle.late.drain_into(out);
    }
    send
}
