//! Pub/Sub commands: SUBSCRIBE and friends, PUBLISH, SPUBLISH, PUBSUB.

use std::sync::atomic::Ordering;

use ferrokey_resp::Frame;

use super::help_reply;
use crate::client::Client;
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::pubsub::{publish, Kind};
use crate::server::Server;

const SUB_FLAGS: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;
const NOT_KEY: &[KeySpec] = &[KeySpec::new(&["NOT_KEY"], 1, -1, 1)];

/// The Pub/Sub family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("subscribe", -2, SUB_FLAGS, subscribe).doc(
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels.",
    ),
    CommandSpec::new("unsubscribe", -1, SUB_FLAGS, unsubscribe).doc(
        "pubsub",
        "2.0.0",
        "Stops listening to messages posted to channels.",
    ),
    CommandSpec::new("psubscribe", -2, SUB_FLAGS, psubscribe).doc(
        "pubsub",
        "2.0.0",
        "Listens for messages published to channels that match one or more patterns.",
    ),
    CommandSpec::new("punsubscribe", -1, SUB_FLAGS, punsubscribe).doc(
        "pubsub",
        "2.0.0",
        "Stops listening to messages published to channels that match one or more patterns.",
    ),
    CommandSpec::new(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        publish_cmd,
    )
    .doc("pubsub", "2.0.0", "Posts a message to a channel."),
    CommandSpec::new("ssubscribe", -2, SUB_FLAGS, ssubscribe)
        .keys(1, -1, 1)
        .specs(NOT_KEY)
        .doc(
            "pubsub",
            "7.0.0",
            "Listens for messages published to shard channels.",
        ),
    CommandSpec::new("sunsubscribe", -1, SUB_FLAGS, sunsubscribe)
        .keys(1, -1, 1)
        .specs(NOT_KEY)
        .doc(
            "pubsub",
            "7.0.0",
            "Stops listening to messages posted to shard channels.",
        ),
    CommandSpec::new(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        spublish,
    )
    .keys(1, 1, 1)
    .specs(&[KeySpec::new(&["NOT_KEY"], 1, 0, 1)])
    .doc("pubsub", "7.0.0", "Post a message to a shard channel"),
    CommandSpec::new("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, monitor).doc(
        "server",
        "1.0.0",
        "Listens for all requests received by the server in real-time.",
    ),
    CommandSpec::new("pubsub", -2, 0, super::keys::container)
        .doc("pubsub", "2.8.0", "A container for Pub/Sub commands.")
        .subs(PUBSUB_SUBS),
];

static PUBSUB_SUBS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, PUBSUB | LOADING | STALE, pubsub_channels).doc(
        "pubsub",
        "2.8.0",
        "Returns the active channels.",
    ),
    CommandSpec::new("numsub", -2, PUBSUB | LOADING | STALE, pubsub_numsub).doc(
        "pubsub",
        "2.8.0",
        "Returns a count of subscribers to channels.",
    ),
    CommandSpec::new("numpat", 2, PUBSUB | LOADING | STALE, pubsub_numpat).doc(
        "pubsub",
        "2.8.0",
        "Returns a count of unique pattern subscriptions.",
    ),
    CommandSpec::new(
        "shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_shardchannels,
    )
    .doc("pubsub", "7.0.0", "Returns the active shard channels."),
    CommandSpec::new(
        "shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_shardnumsub,
    )
    .doc(
        "pubsub",
        "7.0.0",
        "Returns the count of subscribers of shard channels.",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, pubsub_help).doc(
        "pubsub",
        "6.2.0",
        "Returns helpful text about the different subcommands.",
    ),
];

/// The confirmation Redis sends per channel: `[word, name, count]`.
fn confirmation(word: &'static str, name: Option<&[u8]>, count: usize) -> Frame {
    Frame::Push(vec![
        Frame::bulk(word.as_bytes()),
        name.map_or(Frame::Null, Frame::bulk),
        Frame::Integer(count as i64),
    ])
}

/// Keeps INFO's count of Pub/Sub clients right across a change of
/// subscriptions.
fn track_active(server: &Server, client: &Client, was_active: bool) {
    let now_active = client.pubsub.active();
    let counts = &client.handle.sub_counts;
    counts[0].store(client.pubsub.channels.len(), Ordering::Relaxed);
    counts[1].store(client.pubsub.patterns.len(), Ordering::Relaxed);
    counts[2].store(client.pubsub.shard.len(), Ordering::Relaxed);
    match (was_active, now_active) {
        (false, true) => {
            server.pubsub.clients.fetch_add(1, Ordering::Relaxed);
        }
        (true, false) => {
            server.pubsub.clients.fetch_sub(1, Ordering::Relaxed);
        }
        _ => {}
    }
}

fn deny_in_script(ctx: &Ctx<'_>, name: &str, in_multi_ok: bool) -> Result<(), CmdError> {
    // EXEC sets deny_blocking; SUBSCRIBE and PSUBSCRIBE stay allowed inside
    // a transaction for compatibility, SSUBSCRIBE does not.
    if ctx.client.deny_blocking && !(in_multi_ok && ctx.client.in_exec) {
        return Err(CmdError::owned(format!(
            "ERR {name} isn't allowed for a DENY BLOCKING client"
        )));
    }
    Ok(())
}

fn subscribe_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], kind: Kind) -> CmdResult {
    let was = ctx.client.pubsub.active();
    let mut out = Vec::with_capacity(args.len() - 1);
    for name in &args[1..] {
        let set = match kind {
            Kind::Channel => &mut ctx.client.pubsub.channels,
            Kind::Pattern => &mut ctx.client.pubsub.patterns,
            Kind::Shard => &mut ctx.client.pubsub.shard,
        };
        if set.insert((*name).into()) {
            ctx.server.pubsub.add(kind, name, &ctx.client.handle);
        }
        let (word, count) = match kind {
            Kind::Channel => ("subscribe", ctx.client.pubsub.count()),
            Kind::Pattern => ("psubscribe", ctx.client.pubsub.count()),
            Kind::Shard => ("ssubscribe", ctx.client.pubsub.shard.len()),
        };
        out.push(confirmation(word, Some(name), count));
    }
    track_active(ctx.server, ctx.client, was);
    Ok(Frame::Many(out))
}

fn unsubscribe_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], kind: Kind) -> CmdResult {
    let was = ctx.client.pubsub.active();
    let names: Vec<Box<[u8]>> = if args.len() > 1 {
        args[1..].iter().map(|n| Box::from(*n)).collect()
    } else {
        let set = match kind {
            Kind::Channel => &ctx.client.pubsub.channels,
            Kind::Pattern => &ctx.client.pubsub.patterns,
            Kind::Shard => &ctx.client.pubsub.shard,
        };
        set.iter().cloned().collect()
    };
    let word = match kind {
        Kind::Channel => "unsubscribe",
        Kind::Pattern => "punsubscribe",
        Kind::Shard => "sunsubscribe",
    };
    let mut out = Vec::with_capacity(names.len().max(1));
    for name in &names {
        let set = match kind {
            Kind::Channel => &mut ctx.client.pubsub.channels,
            Kind::Pattern => &mut ctx.client.pubsub.patterns,
            Kind::Shard => &mut ctx.client.pubsub.shard,
        };
        if set.remove(name) {
            ctx.server.pubsub.remove(kind, name, &ctx.client.handle);
        }
        let count = match kind {
            Kind::Shard => ctx.client.pubsub.shard.len(),
            _ => ctx.client.pubsub.count(),
        };
        out.push(confirmation(word, Some(name), count));
    }
    if names.is_empty() {
        let count = match kind {
            Kind::Shard => ctx.client.pubsub.shard.len(),
            _ => ctx.client.pubsub.count(),
        };
        out.push(confirmation(word, None, count));
    }
    track_active(ctx.server, ctx.client, was);
    Ok(Frame::Many(out))
}

/// Drops every subscription of the client (RESET, disconnect).
pub fn unsubscribe_all(server: &Server, client: &mut Client) {
    let was = client.pubsub.active();
    let subs = std::mem::take(&mut client.pubsub);
    for (kind, set) in [
        (Kind::Channel, subs.channels),
        (Kind::Pattern, subs.patterns),
        (Kind::Shard, subs.shard),
    ] {
        for name in set {
            server.pubsub.remove(kind, &name, &client.handle);
        }
    }
    track_active(server, client, was);
}

fn subscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    deny_in_script(ctx, "SUBSCRIBE", true)?;
    subscribe_generic(ctx, args, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    deny_in_script(ctx, "PSUBSCRIBE", true)?;
    subscribe_generic(ctx, args, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    deny_in_script(ctx, "SSUBSCRIBE", false)?;
    subscribe_generic(ctx, args, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, args, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, args, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, args, Kind::Shard)
}

fn monitor(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    if ctx.client.deny_blocking {
        return Err(CmdError::msg(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    // Asking again changes nothing (and replies nothing, as in Redis).
    if ctx.client.handle.monitor.swap(true, Ordering::AcqRel) {
        return Ok(Frame::Many(Vec::new()));
    }
    ctx.server.pubsub.add_monitor(&ctx.client.handle);
    Ok(Frame::ok())
}

/// Leaves MONITOR mode (RESET, disconnect).
pub fn stop_monitor(server: &Server, client: &Client) {
    if client.handle.monitor.swap(false, Ordering::AcqRel) {
        server.pubsub.remove_monitor(&client.handle);
    }
}

fn publish_cmd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = publish(ctx.server, Kind::Channel, args[1], args[2], ctx.now_ms);
    // Replicas deliver it to their own subscribers; the AOF skips it.
    crate::propagate::force(true);
    Ok(Frame::Integer(n as i64))
}

fn spublish(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = publish(ctx.server, Kind::Shard, args[1], args[2], ctx.now_ms);
    crate::propagate::force(true);
    Ok(Frame::Integer(n as i64))
}

fn channels_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], kind: Kind) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::owned(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(args[1])
        )));
    }
    let names = ctx.server.pubsub.names(kind, args.get(2).copied());
    Ok(Frame::Array(names.iter().map(Frame::bulk).collect()))
}

fn numsub_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], kind: Kind) -> CmdResult {
    // A flat array of name, count pairs, in RESP3 too.
    let mut out = Vec::with_capacity(2 * (args.len() - 2));
    for name in &args[2..] {
        out.push(Frame::bulk(name));
        out.push(Frame::Integer(ctx.server.pubsub.count(kind, name) as i64));
    }
    Ok(Frame::Array(out))
}

fn pubsub_channels(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    channels_generic(ctx, args, Kind::Channel)
}

fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    channels_generic(ctx, args, Kind::Shard)
}

fn pubsub_numsub(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    numsub_generic(ctx, args, Kind::Channel)
}

fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    numsub_generic(ctx, args, Kind::Shard)
}

fn pubsub_numpat(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Ok(Frame::Integer(ctx.server.pubsub.pattern_count() as i64))
}

fn pubsub_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    )
}
