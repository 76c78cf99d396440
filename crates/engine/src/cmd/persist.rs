//! Commands that move values in Redis's serialized form: DUMP, RESTORE and
//! MIGRATE.

use ferrokey_resp::Frame;

use super::{dirty, is, lookup_read, lookup_write, notify, parse_int, NOTIFY_GENERIC};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::shard_of;
use crate::rdb;
use crate::types::Limits;

const KS: &[&str] = &["@keyspace"];

/// The DUMP / RESTORE / MIGRATE commands.
pub static COMMANDS: &[CommandSpec] = &[
    // Exclusive, as Redis's MIGRATE blocks the server for its exchange:
    // the keys cannot change between being sent and being deleted.
    CommandSpec::new("migrate", -6, WRITE | MOVABLEKEYS | EXCLUSIVE, migrate)
        .keys(3, 3, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "DELETE"], 3, 0, 1)])
        .tips(&["NONDETERMINISTIC_OUTPUT"])
        .acl(&["@keyspace", "@dangerous"])
        .doc(
            "generic",
            "2.6.0",
            "Atomically transfers a key from one Redis instance to another.",
        ),
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

/// The key positions of a MIGRATE command line: the key argument, or
/// those after KEYS when the key argument is empty.
pub fn migrate_get_keys(args: &[&[u8]]) -> Vec<usize> {
    let mut j = 6;
    while j < args.len() {
        if is(args[j], "auth") {
            j += 1;
        } else if is(args[j], "auth2") {
            j += 2;
        } else if is(args[j], "keys") {
            if args[3].is_empty() {
                return (j + 1..args.len()).collect();
            }
            break;
        }
        j += 1;
    }
    if args.len() > 3 && !args[3].is_empty() {
        vec![3]
    } else {
        Vec::new()
    }
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password | AUTH2 username password] [KEYS key [key ...]]: sends
/// each key that exists as a RESTORE to the other server, and deletes the
/// ones it accepted unless COPY is given.
fn migrate(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<&[u8]>, &[u8])> = None;
    let mut keys: Vec<&[u8]> = vec![args[3]];
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(args[j], "copy") {
            copy = true;
        } else if is(args[j], "replace") {
            replace = true;
        } else if is(args[j], "auth") {
            if more < 1 {
                return Err(CmdError::Syntax);
            }
            auth = Some((None, args[j + 1]));
            j += 1;
        } else if is(args[j], "auth2") {
            if more < 2 {
                return Err(CmdError::Syntax);
            }
            auth = Some((Some(args[j + 1]), args[j + 2]));
            j += 2;
        } else if is(args[j], "keys") {
            if !args[3].is_empty() {
                return Err(CmdError::msg("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"));
            }
            keys = args[j + 1..].to_vec();
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let timeout = parse_int(args[5])?;
    let dbid = parse_int(args[4])?;
    let timeout = if timeout <= 0 { 1000 } else { timeout as u64 };
    // The keys that exist, with their TTL and serialized value.
    let mut found: Vec<(&[u8], u64, Vec<u8>)> = Vec::new();
    for &k in &keys {
        let h = ctx.hash(k);
        let mut shard = ctx.db().lock(shard_of(h));
        if let Some(e) = lookup_read(ctx, &mut shard, h, k) {
            let ttl = e
                .expire_ms()
                .map_or(0, |t| t.saturating_sub(ctx.now_ms).max(1));
            found.push((k, ttl, rdb::dump(e.value())));
        }
    }
    if found.is_empty() {
        return Ok(Frame::simple("NOKEY"));
    }
    let mut request = Vec::new();
    if let Some((user, pass)) = auth {
        match user {
            Some(u) => crate::propagate::encode_argv(&mut request, &[b"AUTH", u, pass]),
            None => crate::propagate::encode_argv(&mut request, &[b"AUTH", pass]),
        }
    }
    crate::propagate::encode_argv(&mut request, &[b"SELECT", dbid.to_string().as_bytes()]);
    for (k, ttl, payload) in &found {
        let ttl = ttl.to_string();
        let mut parts: Vec<&[u8]> = vec![b"RESTORE", k, ttl.as_bytes(), payload];
        if replace {
            parts.push(b"REPLACE");
        }
        crate::propagate::encode_argv(&mut request, &parts);
    }
    let header = usize::from(auth.is_some()) + 1;
    let connect_err = || CmdError::msg("IOERR error or timeout connecting to the client");
    let port = std::str::from_utf8(args[2])
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or_else(connect_err)?;
    let host = String::from_utf8_lossy(args[1]);
    use crate::host::ExchangeError;
    let (lines, read_failed) =
        match ctx
            .server
            .host
            .exchange(&host, port, timeout, &request, header + found.len())
        {
            Ok(l) => (l, false),
            Err(ExchangeError::Connect) => return Err(connect_err()),
            Err(ExchangeError::Write) => {
                return Err(CmdError::msg(
                    "IOERR error or timeout writing to target instance",
                ))
            }
            Err(ExchangeError::Read(l)) => (l, true),
        };
    let reading = CmdError::msg("IOERR error or timeout reading to target instance");
    if lines.len() < header {
        return Err(reading);
    }
    let mut error = lines[..header]
        .iter()
        .find(|l| l.starts_with(b"-"))
        .cloned();
    let mut deleted: Vec<&[u8]> = Vec::new();
    for ((k, _, _), line) in found.iter().zip(&lines[header..]) {
        if error.is_some() || line.starts_with(b"-") {
            error.get_or_insert_with(|| line.clone());
        } else if !copy {
            let h = ctx.hash(k);
            let mut shard = ctx.db().lock(shard_of(h));
            if super::remove_deleted(ctx, &mut shard, h, k) {
                drop(shard);
                notify(ctx, NOTIFY_GENERIC, "del", k);
                dirty(ctx, 1);
                deleted.push(k);
            }
        }
    }
    if !deleted.is_empty() {
        // Down the replication stream as the DEL it amounts to here.
        let mut argv: Vec<&[u8]> = vec![b"DEL"];
        argv.extend(deleted);
        crate::propagate::rewrite_as(&argv);
    }
    if let Some(e) = error {
        return Err(CmdError::owned(format!(
            "ERR Target instance replied with error: {}",
            String::from_utf8_lossy(&e[1..])
        )));
    }
    if read_failed {
        return Err(reading);
    }
    Ok(Frame::ok())
}
