//! Commands that move values in Redis's serialized form: DUMP and RESTORE.

use ferrokey_resp::Frame;

use super::{dirty, is, lookup_read, lookup_write, notify, parse_int, NOTIFY_GENERIC};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::shard_of;
use crate::rdb;
use crate::types::Limits;

const KS: &[&str] = &["@keyspace"];

/// The DUMP / RESTORE commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("dump", 2, READONLY, dump)
        .keys(1, 1, 1)
        .tips(&["NONDETERMINISTIC_OUTPUT"])
        .acl(KS)
        .doc(
            "generic",
            "2.6.0",
            "Returns a serialized representation of the value stored at a key.",
        ),
    CommandSpec::new("restore", -4, WRITE | DENYOOM, restore)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["OW", "UPDATE"], 1, 0, 1)])
        .acl(&["@keyspace", "@dangerous"])
        .doc(
            "generic",
            "2.6.0",
            "Creates a key from the serialized representation of a value.",
        ),
];

fn dump(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    Ok(match lookup_read(ctx, &mut shard, h, args[1]) {
        None => Frame::Null,
        Some(e) => Frame::Bulk(rdb::dump(e.value())),
    })
}

fn restore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(args[j], "replace") {
            replace = true;
        } else if is(args[j], "absttl") {
            absttl = true;
        } else if is(args[j], "idletime") && more && freq.is_none() {
            let v = parse_int(args[j + 1])?;
            if v < 0 {
                return Err(CmdError::msg("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if is(args[j], "freq") && more && idle.is_none() {
            let v = parse_int(args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::msg(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    if !replace && lookup_write(ctx, &mut shard, h, key).is_some() {
        return Err(CmdError::msg("BUSYKEY Target key name already exists."));
    }
    let ttl = parse_int(args[2])?;
    if ttl < 0 {
        return Err(CmdError::msg("ERR Invalid TTL value, must be >= 0"));
    }
    let value = match rdb::restore(args[3], &Limits::of(ctx)) {
        Ok(v) => v,
        Err(e) if e.0 == "version or checksum" || e.0 == "payload too short" => {
            return Ok(rdb::bad_payload())
        }
        Err(_) => return Err(CmdError::msg("ERR Bad data format")),
    };
    let deleted = replace && super::remove_deleted(ctx, &mut shard, h, key);
    let deadline = match (ttl, absttl) {
        (0, _) => 0,
        (t, true) => t as u64,
        (t, false) => ctx.now_ms.saturating_add(t as u64),
    };
    if deadline != 0 && deadline <= ctx.now_ms {
        // Already expired: nothing is created (an old value is gone).
        if deleted {
            notify(ctx, NOTIFY_GENERIC, "del", key);
            dirty(ctx, 1);
            crate::propagate::rewrite_as(&[crate::propagate::server_del(), key]);
        }
        return Ok(Frame::ok());
    }
    let lru = ctx.server.tunables.memory.restored_stamp(
        ctx.now_ms,
        idle.map(|s| s as u64),
        freq.map(|f| f as u8),
    );
    super::insert_key(ctx, &mut shard, ctx.client.db, h, key, value, deadline, lru);
    if deadline != 0 && !absttl && crate::propagate::recording() {
        // The TTL goes down the stream as an absolute time.
        let at = deadline.to_string();
        let mut argv: Vec<&[u8]> = args.to_vec();
        argv[2] = at.as_bytes();
        argv.push(b"ABSTTL");
        crate::propagate::rewrite_as(&argv);
    }
    notify(ctx, NOTIFY_GENERIC, "restore", key);
    dirty(ctx, 1);
    Ok(Frame::ok())
}
