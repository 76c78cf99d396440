//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queueing happens in the dispatcher (`command::execute`), as in Redis's
//! `processCommand`. EXEC runs with the gate held exclusively, so the queued
//! commands see and change the keyspace with nothing interleaved.

use std::sync::atomic::Ordering;

use ferrokey_resp::Frame;

use crate::client::{Multi, Watch};
use crate::command::{execute_inner, flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::shard_of;

const TX: &[&str] = &["@transaction"];

/// The transaction family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        multi,
    )
    .acl(TX)
    .doc("transactions", "1.2.0", "Starts a transaction."),
    CommandSpec::new(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | EXCLUSIVE,
        exec,
    )
    .acl(TX)
    .doc(
        "transactions",
        "1.2.0",
        "Executes all commands in a transaction.",
    ),
    CommandSpec::new(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        discard,
    )
    .acl(TX)
    .doc("transactions", "2.0.0", "Discards a transaction."),
    CommandSpec::new(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        watch,
    )
    .keys(1, -1, 1)
    .specs(&[KeySpec::new(&["RO"], 1, -1, 1)])
    .acl(TX)
    .doc(
        "transactions",
        "2.2.0",
        "Monitors changes to keys to determine the execution of a transaction.",
    ),
    CommandSpec::new(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        unwatch,
    )
    .acl(TX)
    .doc(
        "transactions",
        "2.2.0",
        "Forgets about watched keys of a transaction.",
    ),
];

fn multi(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::msg("ERR MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Multi::default());
    ctx.client.handle.multi.store(0, Ordering::Relaxed);
    Ok(Frame::ok())
}

fn discard(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    if ctx.client.multi.is_none() {
        return Err(CmdError::msg("ERR DISCARD without MULTI"));
    }
    ctx.client.end_multi();
    ctx.client.unwatch_all(ctx.server);
    Ok(Frame::ok())
}

fn watch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::msg("ERR WATCH inside MULTI is not allowed"));
    }
    let db = ctx.client.db;
    for key in &args[1..] {
        if ctx
            .client
            .watched
            .iter()
            .any(|w| w.db == db && &*w.key == *key)
        {
            continue;
        }
        let h = ctx.hash(key);
        let mut shard = ctx.db().lock(shard_of(h));
        let live = shard.peek(h, key, ctx.now_ms).is_some();
        let epoch = shard.watch(key);
        drop(shard);
        ctx.client.watched.push(Watch {
            db,
            key: (*key).into(),
            epoch,
            live,
        });
    }
    Ok(Frame::ok())
}

fn unwatch(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    ctx.client.unwatch_all(ctx.server);
    Ok(Frame::ok())
}

/// Whether any watched key changed (or expired) since WATCH.
fn watched_changed(ctx: &Ctx<'_>) -> bool {
    ctx.client.watched.iter().any(|w| {
        let h = ctx.hash(&w.key);
        let shard = ctx.server.dbs[w.db].lock(shard_of(h));
        shard.watch_epoch(&w.key) != w.epoch
            || (w.live && shard.peek(h, &w.key, ctx.now_ms).is_none())
    })
}

fn exec(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let Some(m) = ctx.client.multi.take() else {
        return Err(CmdError::msg("ERR EXEC without MULTI"));
    };
    ctx.client.end_multi();
    if m.failed {
        ctx.client.unwatch_all(ctx.server);
        return Err(CmdError::msg(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    let aborted = watched_changed(ctx);
    ctx.client.unwatch_all(ctx.server);
    if aborted {
        return Ok(Frame::NullArray);
    }
    // The dispatcher holds the gate exclusively for EXEC: run each queued
    // command without taking it again.
    // Blocking commands do not block inside a transaction.
    let mut replies = Vec::with_capacity(m.queue.len());
    ctx.client.deny_blocking = true;
    ctx.client.in_exec = true;
    for cmd in &m.queue {
        let argv: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
        replies.push(execute_inner(
            ctx.server, ctx.client, &argv, ctx.now_us, true,
        ));
    }
    ctx.client.deny_blocking = false;
    ctx.client.in_exec = false;
    Ok(Frame::Array(replies))
}
