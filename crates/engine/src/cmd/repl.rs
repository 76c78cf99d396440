//! The master side of replication: SYNC, PSYNC and REPLCONF; and the
//! replica side's commands: REPLICAOF (SLAVEOF) and ROLE (the link itself
//! is the server crate's, see `crate::replica`).
//!
//! A replica (or a tool such as `redis-cli --replica`, or Redis's test
//! suite reading the replication stream) asks for a full synchronization:
//! it gets a snapshot in RDB format, then every write propagated after
//! that point (see `crate::propagate`). Partial resynchronization is not
//! offered: PSYNC always answers FULLRESYNC.

use std::sync::atomic::Ordering;

use ferrokey_resp::Frame;

use super::{is, parse_int};
use crate::command::{flags::*, CommandSpec, Ctx};
use crate::error::{CmdError, CmdResult};

const REPL_ACL: &[&str] = &["@admin", "@slow", "@dangerous"];

/// The replication commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI | EXCLUSIVE,
        sync,
    )
    .acl(REPL_ACL)
    .doc(
        "server",
        "1.0.0",
        "An internal command used in replication.",
    ),
    CommandSpec::new(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI | EXCLUSIVE,
        psync,
    )
    .acl(REPL_ACL)
    .doc(
        "server",
        "2.8.0",
        "An internal command used in replication.",
    ),
    CommandSpec::new(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        replconf,
    )
    .acl(REPL_ACL)
    .doc(
        "server",
        "3.0.0",
        "An internal command for configuring the replication stream.",
    ),
    CommandSpec::new(
        "replicaof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        replicaof,
    )
    .doc(
        "server",
        "5.0.0",
        "Configures a server as replica of another, or promotes it to a master.",
    ),
    CommandSpec::new(
        "slaveof",
        3,
        ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING,
        replicaof,
    )
    .doc(
        "server",
        "1.0.0",
        "Sets a Redis server as a replica of another, or promotes it to being a master.",
    ),
    CommandSpec::new("role", 1, NOSCRIPT | LOADING | STALE | FAST, role)
        .acl(&["@admin", "@dangerous"])
        .doc("server", "2.8.12", "Returns the replication role."),
];

fn replicaof(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let who = crate::cmd::connection::client_line(&ctx.client.handle, ctx.now_ms);
    if is(args[1], "no") && is(args[2], "one") {
        if ctx.server.upstream.set_target(None) {
            ctx.server.host.log(
                "notice",
                &format!("MASTER MODE enabled (user request from '{who}')"),
            );
        }
        return Ok(Frame::ok());
    }
    if ctx.client.handle.replica.load(Ordering::Acquire) {
        return Err(CmdError::msg(
            "ERR Command is not valid when client is a replica.",
        ));
    }
    let port = parse_int(args[2])
        .ok()
        .filter(|p| (0..=65535).contains(p))
        .ok_or(CmdError::msg("ERR Invalid master port"))?;
    let host = String::from_utf8_lossy(args[1]).into_owned();
    if !ctx
        .server
        .upstream
        .set_target(Some((host.clone(), port as u16)))
    {
        ctx.server.host.log("notice", "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
        return Ok(Frame::simple("OK Already connected to specified master"));
    }
    ctx.server.host.log(
        "notice",
        &format!("REPLICAOF {host}:{port} enabled (user request from '{who}')"),
    );
    Ok(Frame::ok())
}

/// ROLE: `master`, its offset and replicas; or `slave`, its master and
/// the link's state and offset.
fn role(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let up = &ctx.server.upstream;
    if let Some((host, port)) = up.target() {
        let offset = if up.link_up() {
            up.offset.load(Ordering::Relaxed) as i64
        } else {
            -1
        };
        return Ok(Frame::Array(vec![
            Frame::bulk("slave"),
            Frame::Bulk(host.into_bytes()),
            Frame::Integer(i64::from(port)),
            Frame::bulk(up.state().name()),
            Frame::Integer(offset),
        ]));
    }
    let replicas = ctx
        .server
        .repl
        .replicas()
        .iter()
        .map(|r| {
            let ip = r
                .addr
                .rsplit_once(':')
                .map_or(r.addr.as_str(), |(ip, _)| ip);
            Frame::Array(vec![
                Frame::Bulk(ip.as_bytes().to_vec()),
                Frame::Bulk(r.repl_port.load(Ordering::Relaxed).to_string().into_bytes()),
                Frame::Bulk(r.repl_ack.load(Ordering::Relaxed).to_string().into_bytes()),
            ])
        })
        .collect();
    Ok(Frame::Array(vec![
        Frame::bulk("master"),
        Frame::Integer(ctx.server.repl.offset() as i64),
        Frame::Array(replicas),
    ]))
}

fn sync(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    full_sync(ctx, false)
}

fn psync(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    full_sync(ctx, true)
}

/// Sends the snapshot and attaches the client to the stream. The gate is
/// held exclusively: the image and the start of the stream are the same
/// instant.
fn full_sync(ctx: &mut Ctx<'_>, psync: bool) -> CmdResult {
    let h = &ctx.client.handle;
    if h.replica.load(Ordering::Acquire) {
        // Already a replica: Redis ignores a second SYNC.
        return Ok(Frame::Many(Vec::new()));
    }
    let image = crate::rdb::snapshot(ctx.server, ctx.now_ms);
    let offset = ctx.server.repl.attach(h);
    h.replica.store(true, Ordering::Release);
    let mut out = Vec::with_capacity(image.len() + 64);
    if psync {
        out.extend_from_slice(
            format!("+FULLRESYNC {} {}\r\n", ctx.server.run_id, offset).as_bytes(),
        );
    }
    // The payload is a bulk length and the bytes, with no trailing CRLF.
    out.extend_from_slice(format!("${}\r\n", image.len()).as_bytes());
    out.extend_from_slice(&image);
    h.outbox.push_bytes(&out);
    h.wake();
    ctx.server.host.log(
        "notice",
        &format!(
            "Replica {} asks for synchronization; sent a {} byte snapshot",
            h.addr,
            image.len()
        ),
    );
    Ok(Frame::Many(Vec::new()))
}

fn replconf(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    for pair in args[1..].chunks(2) {
        let (opt, val) = (pair[0], pair[1]);
        if is(opt, "listening-port") {
            let port = parse_int(val)?;
            ctx.client
                .handle
                .repl_port
                .store(port.clamp(0, 65535) as u64, Ordering::Relaxed);
        } else if is(opt, "ip-address") {
            if val.len() >= 46 {
                return Err(CmdError::owned(format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    val.len()
                )));
            }
        } else if is(opt, "capa") {
            // Capabilities this master does not know are ignored.
        } else if is(opt, "ack") {
            if !ctx.client.handle.replica.load(Ordering::Acquire) {
                return Ok(Frame::Many(Vec::new()));
            }
            let off = parse_int(val).unwrap_or(0);
            ctx.client
                .handle
                .repl_ack
                .fetch_max(off.max(0) as u64, Ordering::AcqRel);
            ctx.client
                .handle
                .repl_ack_ms
                .store(ctx.now_ms, Ordering::Relaxed);
            // Clients in WAIT may have their replicas now.
            let waiting = ctx.server.blocking.clients.load(Ordering::Relaxed) > 0;
            for db in (0..ctx.server.dbs.len()).filter(|_| waiting) {
                ctx.server.blocking.signal(db, crate::blocking::WAIT_KEY);
            }
            // ACK is answered with nothing.
            return Ok(Frame::Many(Vec::new()));
        } else if is(opt, "getack") {
            return Ok(Frame::Many(Vec::new()));
        } else if is(opt, "rdb-only") {
            match parse_int(val) {
                Ok(0 | 1) => {}
                _ => {
                    return Err(CmdError::msg(
                        "ERR value is out of range, must be between 0 and 1",
                    ))
                }
            }
        } else if is(opt, "rdb-filter-only") {
            for f in String::from_utf8_lossy(val).split_whitespace() {
                if !f.eq_ignore_ascii_case("functions") {
                    return Err(CmdError::owned(format!(
                        "ERR Unsupported rdb-filter-only option: {f}"
                    )));
                }
            }
        } else {
            return Err(CmdError::owned(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    Ok(Frame::ok())
}
