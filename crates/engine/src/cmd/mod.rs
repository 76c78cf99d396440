//! Command families and the argument helpers they share.

pub mod acl;
pub mod admin;
pub mod bitmap;
pub mod cluster;
pub mod connection;
pub mod docs;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
#[cfg(test)]
mod model_tests;
pub mod multi;
pub mod persist;
pub mod pubsub;
pub mod repl;
pub mod scripting;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod zset;

use std::sync::atomic::Ordering;

use crate::command::Ctx;
pub use crate::config::{
    NOTIFY_EXPIRED, NOTIFY_GENERIC, NOTIFY_HASH, NOTIFY_KEY_MISS, NOTIFY_LIST, NOTIFY_NEW,
    NOTIFY_SET, NOTIFY_STRING, NOTIFY_ZSET,
};
use crate::error::CmdError;
use crate::keyspace::{Lookup, Shard, Slot};
use crate::value::{Str, Value};

/// Case-insensitive comparison of an argument with an option name.
#[inline]
pub fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// Parses an integer argument as Redis's `getLongLongFromObject` does.
pub fn parse_int(arg: &[u8]) -> Result<i64, CmdError> {
    ferrokey_resp::parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// Parses a non-negative integer that must fit in `i64`, for counts and
/// indexes where Redis says "value is out of range, must be positive".
pub fn parse_positive(arg: &[u8]) -> Result<i64, CmdError> {
    match parse_int(arg)? {
        n if n < 0 => Err(CmdError::msg("ERR value is out of range, must be positive")),
        n => Ok(n),
    }
}

/// Parses a float as Redis's `string2ld`/`string2d`: no leading space, the
/// whole argument consumed, NaN refused.
pub fn parse_float(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg[0].is_ascii_whitespace() || arg.len() > 5120 {
        return None;
    }
    let s = std::str::from_utf8(arg).ok()?;
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        lower => {
            // Rust accepts "nan"/"inf" spellings C also accepts; anything
            // with trailing garbage or space fails as strtold's end check.
            if lower.contains("nan") {
                return None;
            }
            lower.parse().ok()?
        }
    };
    Some(v)
}

/// Parses a database index for SELECT, MOVE, COPY DB, SWAPDB.
pub fn parse_db(ctx: &Ctx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    let n =
        parse_int(arg).map_err(|_| CmdError::msg("ERR value is not an integer or out of range"))?;
    if n < 0 || n as usize >= ctx.server.dbs.len() {
        return Err(CmdError::DbIndex);
    }
    Ok(n as usize)
}

/// Counts a lazy expiry in the statistics and announces it (`expired`).
pub fn note_lookup(ctx: &Ctx<'_>, l: Lookup, key: &[u8]) {
    note_lookup_in(ctx, ctx.client.db, l, key);
}

/// As [`note_lookup`], for a key of database `db` (MOVE and COPY look
/// into a second database).
pub fn note_lookup_in(ctx: &Ctx<'_>, db: usize, l: Lookup, key: &[u8]) {
    if l == Lookup::Expired {
        ctx.server
            .stats
            .expired_keys
            .fetch_add(1, Ordering::Relaxed);
        crate::pubsub::notify_keyspace(ctx.server, NOTIFY_EXPIRED, "expired", key, db, ctx.now_ms);
        crate::propagate::expired(db, key);
    }
}

/// Stores `value` under `key` in database `db` (as `Shard::insert`),
/// announcing a key that did not exist (`new`), as Redis's `dbAdd` does.
/// An old copy whose deadline has passed counts as a lazy expiry
/// (`expired`, then `new`), which is what Redis's write lookup before the
/// add would have reported. The old value is freed as a server deletion
/// (`lazyfree-lazy-server-del`).
#[allow(clippy::too_many_arguments)]
pub fn insert_key(
    ctx: &Ctx<'_>,
    shard: &mut Shard,
    db: usize,
    h: u64,
    key: &[u8],
    value: Value,
    expire_ms: u64,
    lru: u32,
) {
    let old = shard.insert(&ctx.server.hasher, h, key, value, expire_ms, lru);
    let now = ctx.now_ms;
    match &old {
        Some(e) if e.expire_ms().is_none_or(|t| t > now) => {}
        stale => {
            if stale.is_some() {
                ctx.server
                    .stats
                    .expired_keys
                    .fetch_add(1, Ordering::Relaxed);
                crate::pubsub::notify_keyspace(ctx.server, NOTIFY_EXPIRED, "expired", key, db, now);
                crate::propagate::expired(db, key);
            }
            crate::pubsub::notify_keyspace(ctx.server, NOTIFY_NEW, "new", key, db, now);
        }
    }
    if let Some(old) = old {
        free_deleted(ctx, old.value);
    }
}

/// Removes a key as a server deletion (a destination a command empties or
/// replaces, an EXPIRE in the past): its value is freed as
/// [`free_deleted`] frees it. Returns whether the key was there.
pub fn remove_deleted(ctx: &Ctx<'_>, shard: &mut Shard, h: u64, key: &[u8]) -> bool {
    match shard.remove(h, key) {
        Some(e) => {
            free_deleted(ctx, e.value);
            true
        }
        None => false,
    }
}

/// Frees a value the server deleted or overwrote (not a client's DEL), in
/// the background under `lazyfree-lazy-server-del` when it is big.
pub fn free_deleted(ctx: &Ctx<'_>, value: Value) {
    let lazy = ctx.server.tunables.memory.lazy_server_del();
    ctx.server.lazyfree.free(value, lazy);
}

/// Publishes a keyspace event about `key` in the client's database, when
/// `notify-keyspace-events` asks for its class.
#[inline]
pub fn notify(ctx: &Ctx<'_>, class: u32, event: &str, key: &[u8]) {
    crate::pubsub::notify_keyspace(ctx.server, class, event, key, ctx.client.db, ctx.now_ms);
}

/// Looks a key up for a read command: expires it if due and counts a
/// keyspace hit or miss.
pub fn lookup_read<'s>(
    ctx: &Ctx<'_>,
    shard: &'s mut Shard,
    h: u64,
    key: &[u8],
) -> Option<&'s mut Slot> {
    let (l, e) = shard.lookup(h, key, ctx.now_ms);
    note_lookup(ctx, l, key);
    let stats = &ctx.server.stats;
    match e {
        Some(e) => {
            stats.keyspace_hits.fetch_add(1, Ordering::Relaxed);
            record_access(ctx, e);
            Some(e)
        }
        None => {
            stats.keyspace_misses.fetch_add(1, Ordering::Relaxed);
            notify(ctx, NOTIFY_KEY_MISS, "keymiss", key);
            None
        }
    }
}

/// Looks a key up for a write command: expires it if due; no hit/miss.
pub fn lookup_write<'s>(
    ctx: &Ctx<'_>,
    shard: &'s mut Shard,
    h: u64,
    key: &[u8],
) -> Option<&'s mut Slot> {
    lookup_write_in(ctx, ctx.client.db, shard, h, key)
}

/// As [`lookup_write`], for a key of database `db`.
pub fn lookup_write_in<'s>(
    ctx: &Ctx<'_>,
    db: usize,
    shard: &'s mut Shard,
    h: u64,
    key: &[u8],
) -> Option<&'s mut Slot> {
    // A write-path lookup of a live key counts as a modification for
    // WATCH: the command is about to change it (or, rarely, decides not
    // to). A missing or expired key is not touched here; creating it goes
    // through `Shard::insert`, which touches it.
    if shard.observed(key) && shard.peek(h, key, ctx.now_ms).is_some() {
        shard.touch(key);
    }
    crate::propagate::order();
    let (l, e) = shard.lookup(h, key, ctx.now_ms);
    note_lookup_in(ctx, db, l, key);
    e.map(|e| {
        record_access(ctx, e);
        &mut *e
    })
}

/// Stamps an access on a key for LRU/LFU eviction, unless the client is
/// in CLIENT NO-TOUCH mode (TOUCH itself always counts) or the command
/// only looks at the key's existence, type or TTL (as Redis's do).
#[inline]
fn record_access(ctx: &Ctx<'_>, e: &mut Slot) {
    let name = ctx.full_name;
    if matches!(
        name,
        "exists" | "type" | "ttl" | "pttl" | "expiretime" | "pexpiretime"
    ) {
        return;
    }
    if !ctx.client.handle.no_touch.load(Ordering::Relaxed) || name == "touch" {
        ctx.server.tunables.memory.touch(e.lru_mut(), ctx.now_ms);
    }
}

/// The string in an entry, or WRONGTYPE.
pub fn as_str(e: &Slot) -> Result<&Str, CmdError> {
    match e.value() {
        Value::Str(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

/// The string in an entry, mutable, or WRONGTYPE.
pub fn as_str_mut(e: &mut Slot) -> Result<&mut Str, CmdError> {
    match e.value_mut() {
        Value::Str(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

/// Records `n` changes to the dataset (for save points and INFO).
pub fn dirty(ctx: &Ctx<'_>, n: u64) {
    ctx.server.stats.dirty.fetch_add(n, Ordering::Relaxed);
    crate::propagate::note_dirty(n);
}

/// A HELP reply as Redis's `addReplyHelp` builds it: a header naming the
/// command as typed (upper-cased), the lines, and the HELP footer.
pub fn help_reply(args: &[&[u8]], lines: &[&'static str]) -> crate::error::CmdResult {
    let cmd = String::from_utf8_lossy(args[0]).to_ascii_uppercase();
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(ferrokey_resp::Frame::Simple(
        format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into(),
    ));
    out.extend(lines.iter().map(|l| ferrokey_resp::Frame::simple(l)));
    out.push(ferrokey_resp::Frame::simple("HELP"));
    out.push(ferrokey_resp::Frame::simple("    Print this help."));
    Ok(ferrokey_resp::Frame::Array(out))
}

/// Parses `numkeys key [key ...] [LIMIT limit]` for SINTERCARD and
/// ZINTERCARD: returns the keys and the limit (`usize::MAX` for none).
pub fn parse_intercard<'a>(args: &[&'a [u8]]) -> Result<(Vec<&'a [u8]>, usize), CmdError> {
    let numkeys = list::parse_numkeys(args, 1, "ERR numkeys should be greater than 0")?;
    if numkeys > args.len() - 2 {
        return Err(CmdError::msg(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let keys = args[2..2 + numkeys].to_vec();
    let mut limit = usize::MAX;
    let mut j = 2 + numkeys;
    while j < args.len() {
        if is(args[j], "limit") && j + 1 < args.len() {
            match parse_int(args[j + 1]) {
                Ok(n) if n >= 0 => limit = if n == 0 { usize::MAX } else { n as usize },
                _ => return Err(CmdError::msg("ERR LIMIT can't be negative")),
            }
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((keys, limit))
}

/// Parses `numkeys key [key ...] <first|second> [COUNT count]` for LMPOP and
/// ZMPOP: returns the keys, whether the first end word (`first`, e.g. LEFT
/// or MIN) was given, and the count (1 by default).
pub fn parse_mpop<'a>(
    args: &[&'a [u8]],
    first: &str,
    second: &str,
) -> Result<(Vec<&'a [u8]>, bool, usize), CmdError> {
    let numkeys = list::parse_numkeys(args, 1, "ERR numkeys should be greater than 0")?;
    let where_idx = numkeys
        .checked_add(2)
        .filter(|&w| w < args.len())
        .ok_or(CmdError::Syntax)?;
    let at_first = if is(args[where_idx], first) {
        true
    } else if is(args[where_idx], second) {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && is(args[j], "count") && j + 1 < args.len() {
            j += 1;
            match parse_int(args[j]) {
                Ok(n) if n > 0 => count = Some(n as usize),
                _ => return Err(CmdError::msg("ERR count should be greater than 0")),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((args[2..where_idx].to_vec(), at_first, count.unwrap_or(1)))
}

/// Runs `f` on a key's entry for a read command (hit/miss counted, lazy
/// expiry applied), or replies `missing` when the key does not exist.
pub fn read_entry(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    missing: ferrokey_resp::Frame,
    f: impl FnOnce(&Slot) -> crate::error::CmdResult,
) -> crate::error::CmdResult {
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(crate::keyspace::shard_of(h));
    match lookup_read(ctx, &mut shard, h, key) {
        None => Ok(missing),
        Some(e) => f(e),
    }
}
