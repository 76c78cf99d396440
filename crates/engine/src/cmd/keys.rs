//! Generic key commands: existence, deletion, renaming, copying, iteration,
//! introspection and expiry.

use ferrokey_resp::{Bulks, Frame};
use rand::Rng;

use super::{
    dirty, help_reply, is, lookup_read, lookup_write, lookup_write_in, notify, parse_db, parse_int,
    NOTIFY_GENERIC,
};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::config::glob_match;
use crate::error::{unknown_subcommand, CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked, Shard, Slot, SHARDS, SHARD_BITS};
use crate::value::Str;
use parking_lot::MutexGuard;

const KS: &[&str] = &["@keyspace"];

/// The generic family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, del)
        .keys(1, -1, 1)
        .specs(&[KeySpec::new(&["RM", "DELETE"], 1, -1, 1)])
        .tips(&["REQUEST_POLICY:MULTI_SHARD", "RESPONSE_POLICY:AGG_SUM"])
        .acl(KS)
        .doc("generic", "1.0.0", "Deletes one or more keys."),
    CommandSpec::new("unlink", -2, WRITE | FAST, del)
        .keys(1, -1, 1)
        .specs(&[KeySpec::new(&["RM", "DELETE"], 1, -1, 1)])
        .tips(&["REQUEST_POLICY:MULTI_SHARD", "RESPONSE_POLICY:AGG_SUM"])
        .acl(KS)
        .doc("generic", "4.0.0", "Asynchronously deletes one or more keys."),
    CommandSpec::new("exists", -2, READONLY | FAST, exists)
        .keys(1, -1, 1)
        .specs(&[KeySpec::new(&["RO"], 1, -1, 1)])
        .tips(&["REQUEST_POLICY:MULTI_SHARD", "RESPONSE_POLICY:AGG_SUM"])
        .acl(KS)
        .doc("generic", "1.0.0", "Determines whether one or more keys exist."),
    CommandSpec::new("touch", -2, READONLY | FAST, touch)
        .keys(1, -1, 1)
        .specs(&[KeySpec::new(&["RO"], 1, -1, 1)])
        .tips(&["REQUEST_POLICY:MULTI_SHARD", "RESPONSE_POLICY:AGG_SUM"])
        .acl(KS)
        .doc("generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    CommandSpec::new("type", 2, READONLY | FAST, type_cmd)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO"], 1, 0, 1)])
        .acl(KS)
        .doc("generic", "1.0.0", "Determines the type of value stored at a key."),
    CommandSpec::new("rename", 3, WRITE, rename)
        .keys(1, 2, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "DELETE"], 1, 0, 1), KeySpec::new(&["OW", "UPDATE"], 2, 0, 1)])
        .acl(KS)
        .doc("generic", "1.0.0", "Renames a key and overwrites the destination."),
    CommandSpec::new("renamenx", 3, WRITE | FAST, renamenx)
        .keys(1, 2, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "DELETE"], 1, 0, 1), KeySpec::new(&["OW", "INSERT"], 2, 0, 1)])
        .acl(KS)
        .doc("generic", "1.0.0", "Renames a key only when the target key name doesn't exist."),
    CommandSpec::new("copy", -3, WRITE | DENYOOM, copy)
        .keys(1, 2, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1), KeySpec::new(&["OW", "UPDATE"], 2, 0, 1)])
        .acl(KS)
        .doc("generic", "6.2.0", "Copies the value of a key to a new key."),
    CommandSpec::new("move", 3, WRITE | FAST, move_cmd)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(KS)
        .doc("generic", "1.0.0", "Moves a key to another database."),
    CommandSpec::new("randomkey", 1, READONLY, randomkey)
        .acl(KS)
        .doc("generic", "1.0.0", "Returns a random key name from the database."),
    CommandSpec::new("keys", 2, READONLY, keys)
        .acl(&["@keyspace", "@dangerous"])
        .doc("generic", "1.0.0", "Returns all key names that match a pattern."),
    CommandSpec::new("scan", -2, READONLY, scan)
        .acl(KS)
        .doc("generic", "2.8.0", "Iterates over the key names in the database."),
    CommandSpec::new("object", -2, READONLY, container)
        .acl(KS)
        .doc("generic", "2.2.3", "A container for object introspection commands.")
        .subs(OBJECT_SUBS),
    CommandSpec::new("expire", -3, WRITE | FAST, expire)
        .keys(1, 1, 1)
        .acl(KS)
        .doc("generic", "1.0.0", "Sets the expiration time of a key in seconds."),
    CommandSpec::new("pexpire", -3, WRITE | FAST, pexpire)
        .keys(1, 1, 1)
        .acl(KS)
        .doc("generic", "2.6.0", "Sets the expiration time of a key in milliseconds."),
    CommandSpec::new("expireat", -3, WRITE | FAST, expireat)
        .keys(1, 1, 1)
        .acl(KS)
        .doc("generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp."),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, pexpireat)
        .keys(1, 1, 1)
        .acl(KS)
        .doc("generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
    CommandSpec::new("ttl", 2, READONLY | FAST, ttl)
        .keys(1, 1, 1)
        .tips(&["NONDETERMINISTIC_OUTPUT"])
        .acl(KS)
        .doc("generic", "1.0.0", "Returns the expiration time in seconds of a key."),
    CommandSpec::new("pttl", 2, READONLY | FAST, pttl)
        .keys(1, 1, 1)
        .tips(&["NONDETERMINISTIC_OUTPUT"])
        .acl(KS)
        .doc("generic", "2.6.0", "Returns the expiration time in milliseconds of a key."),
    CommandSpec::new("expiretime", 2, READONLY | FAST, expiretime)
        .keys(1, 1, 1)
        .acl(KS)
        .doc("generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp."),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, pexpiretime)
        .keys(1, 1, 1)
        .acl(KS)
        .doc("generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
    CommandSpec::new("persist", 2, WRITE | FAST, persist)
        .keys(1, 1, 1)
        .acl(KS)
        .doc("generic", "2.2.0", "Removes the expiration time of a key."),
];

static OBJECT_SUBS: &[CommandSpec] = &[
    CommandSpec::new("encoding", 3, READONLY, object_encoding)
        .keys(2, 2, 1)
        .specs(&[KeySpec::new(&["RO"], 2, 0, 1)])
        .tips(&["NONDETERMINISTIC_OUTPUT"])
        .acl(KS)
        .doc(
            "generic",
            "2.2.3",
            "Returns the internal encoding of a Redis object.",
        ),
    CommandSpec::new("freq", 3, READONLY, object_freq)
        .keys(2, 2, 1)
        .specs(&[KeySpec::new(&["RO"], 2, 0, 1)])
        .tips(&["NONDETERMINISTIC_OUTPUT"])
        .acl(KS)
        .doc(
            "generic",
            "4.0.0",
            "Returns the logarithmic access frequency counter of a Redis object.",
        ),
    CommandSpec::new("idletime", 3, READONLY, object_idletime)
        .keys(2, 2, 1)
        .specs(&[KeySpec::new(&["RO"], 2, 0, 1)])
        .tips(&["NONDETERMINISTIC_OUTPUT"])
        .acl(KS)
        .doc(
            "generic",
            "2.2.3",
            "Returns the time since the last access to a Redis object.",
        ),
    CommandSpec::new("refcount", 3, READONLY, object_refcount)
        .keys(2, 2, 1)
        .specs(&[KeySpec::new(&["RO"], 2, 0, 1)])
        .tips(&["NONDETERMINISTIC_OUTPUT"])
        .acl(KS)
        .doc(
            "generic",
            "2.2.3",
            "Returns the reference count of a value of a key.",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, object_help)
        .acl(KS)
        .doc(
            "generic",
            "6.2.0",
            "Returns helpful text about the different subcommands.",
        ),
];

/// The handler of a container command; never reached, because the
/// dispatcher resolves subcommands first.
pub fn container(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    Err(unknown_subcommand(
        &String::from_utf8_lossy(args[0]),
        args.get(1).copied().unwrap_or_default(),
    ))
}

fn hashes(ctx: &Ctx<'_>, keys: &[&[u8]]) -> Vec<u64> {
    keys.iter().map(|k| ctx.hash(k)).collect()
}

fn del(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let keys = &args[1..];
    let hs = hashes(ctx, keys);
    // UNLINK, and DEL under lazyfree-lazy-user-del, free large values in
    // the background.
    let lazy = ctx.full_name == "unlink" || ctx.server.tunables.memory.lazy_user_del();
    let mut locked = Locked::new(ctx.db(), hs.iter().copied());
    let mut n = 0;
    let mut freed = Vec::new();
    for (k, &h) in keys.iter().zip(&hs) {
        let shard = locked.shard(h);
        if lookup_write(ctx, shard, h, k).is_some() {
            let old = shard.remove(h, k);
            if lazy {
                freed.extend(old);
            }
            notify(ctx, NOTIFY_GENERIC, "del", k);
            n += 1;
        }
    }
    drop(locked);
    for e in freed {
        ctx.server.lazyfree.free(e.value, true);
    }
    dirty(ctx, n);
    Ok(Frame::Integer(n as i64))
}

fn exists(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let keys = &args[1..];
    let hs = hashes(ctx, keys);
    let mut locked = Locked::new(ctx.db(), hs.iter().copied());
    let mut n = 0;
    for (k, &h) in keys.iter().zip(&hs) {
        if lookup_read(ctx, locked.shard(h), h, k).is_some() {
            n += 1;
        }
    }
    Ok(Frame::Integer(n))
}

fn touch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    exists(ctx, args)
}

fn type_cmd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let t = match lookup_read(ctx, &mut shard, h, args[1]) {
        None => "none",
        Some(e) => e.value().type_name(),
    };
    Ok(Frame::simple(t))
}

fn rename_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], nx: bool) -> CmdResult {
    let (src, dst) = (args[1], args[2]);
    let (hs, hd) = (ctx.hash(src), ctx.hash(dst));
    let mut locked = Locked::new(ctx.db(), [hs, hd].into_iter());
    if lookup_write(ctx, locked.shard(hs), hs, src).is_none() {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        return Ok(if nx { Frame::Integer(0) } else { Frame::ok() });
    }
    if lookup_write(ctx, locked.shard(hd), hd, dst).is_some() {
        if nx {
            return Ok(Frame::Integer(0));
        }
        super::remove_deleted(ctx, locked.shard(hd), hd, dst);
    }
    let Some(e) = locked.shard(hs).remove(hs, src) else {
        return Err(CmdError::NoSuchKey);
    };
    let expire = e.expire_ms().unwrap_or(0);
    super::insert_key(
        ctx,
        locked.shard(hd),
        ctx.client.db,
        hd,
        dst,
        e.value,
        expire,
        e.lru,
    );
    notify(ctx, NOTIFY_GENERIC, "rename_from", src);
    notify(ctx, NOTIFY_GENERIC, "rename_to", dst);
    dirty(ctx, 1);
    Ok(if nx { Frame::Integer(1) } else { Frame::ok() })
}

fn rename(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// The shards holding a source key and a destination key, possibly in
/// different databases, possibly the same shard.
struct Pair<'a> {
    src: MutexGuard<'a, Shard>,
    dst: Option<MutexGuard<'a, Shard>>,
}

impl Pair<'_> {
    fn src(&mut self) -> &mut Shard {
        &mut self.src
    }

    fn dst(&mut self) -> &mut Shard {
        match &mut self.dst {
            Some(d) => d,
            None => &mut self.src,
        }
    }
}

/// Locks the shard of `hs` in `db_a` and of `hd` in `db_b`, in the global
/// lock order (database, then shard).
fn lock_pair<'a>(ctx: &Ctx<'a>, (db_a, hs): (usize, u64), (db_b, hd): (usize, u64)) -> Pair<'a> {
    let (sa, sb) = (shard_of(hs), shard_of(hd));
    let dbs = &ctx.server.dbs;
    if (db_a, sa) == (db_b, sb) {
        return Pair {
            src: dbs[db_a].lock(sa),
            dst: None,
        };
    }
    if (db_a, sa) < (db_b, sb) {
        let src = dbs[db_a].lock(sa);
        let dst = dbs[db_b].lock(sb);
        Pair {
            src,
            dst: Some(dst),
        }
    } else {
        let dst = dbs[db_b].lock(sb);
        let src = dbs[db_a].lock(sa);
        Pair {
            src,
            dst: Some(dst),
        }
    }
}

fn copy(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (src, dst) = (args[1], args[2]);
    let mut db_b = ctx.client.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if is(args[i], "replace") {
            replace = true;
        } else if is(args[i], "db") && i + 1 < args.len() {
            db_b = parse_db(ctx, args[i + 1])?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let db_a = ctx.client.db;
    if db_a == db_b && src == dst {
        return Err(CmdError::msg(
            "ERR source and destination objects are the same",
        ));
    }
    let (hs, hd) = (ctx.hash(src), ctx.hash(dst));
    let now = ctx.now_ms;
    let mut pair = lock_pair(ctx, (db_a, hs), (db_b, hd));
    // The source is read as a read command reads it (a miss is counted and
    // announced); the destination as a write would see it.
    let Some(e) = lookup_read(ctx, pair.src(), hs, src) else {
        return Ok(Frame::Integer(0));
    };
    let (value, exp) = (e.value().clone(), e.expire_ms().unwrap_or(0));
    if lookup_write_in(ctx, db_b, pair.dst(), hd, dst).is_some() && !replace {
        return Ok(Frame::Integer(0));
    }
    // Redis deletes a replaced destination and adds the copy anew.
    super::remove_deleted(ctx, pair.dst(), hd, dst);
    let lru = ctx.new_stamp();
    super::insert_key(ctx, pair.dst(), db_b, hd, dst, value, exp, lru);
    drop(pair);
    crate::pubsub::notify_keyspace(ctx.server, NOTIFY_GENERIC, "copy_to", dst, db_b, now);
    dirty(ctx, 1);
    Ok(Frame::Integer(1))
}

fn move_cmd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let db_b = parse_db(ctx, args[2])?;
    let db_a = ctx.client.db;
    if db_a == db_b {
        return Err(CmdError::msg(
            "ERR source and destination objects are the same",
        ));
    }
    let h = ctx.hash(key);
    let now = ctx.now_ms;
    let mut pair = lock_pair(ctx, (db_a, h), (db_b, h));
    if lookup_write(ctx, pair.src(), h, key).is_none()
        || lookup_write_in(ctx, db_b, pair.dst(), h, key).is_some()
    {
        return Ok(Frame::Integer(0));
    }
    let Some(e) = pair.src().remove(h, key) else {
        return Ok(Frame::Integer(0));
    };
    let exp = e.expire_ms().unwrap_or(0);
    super::insert_key(ctx, pair.dst(), db_b, h, key, e.value, exp, e.lru);
    drop(pair);
    crate::pubsub::notify_keyspace(ctx.server, NOTIFY_GENERIC, "move_from", key, db_a, now);
    crate::pubsub::notify_keyspace(ctx.server, NOTIFY_GENERIC, "move_to", key, db_b, now);
    dirty(ctx, 1);
    Ok(Frame::Integer(1))
}

fn randomkey(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    let db = ctx.db();
    let mut rng = rand::thread_rng();
    // Try a bounded number of random picks weighted by shard size; expired
    // keys met on the way are removed.
    for _ in 0..100 {
        let sizes: Vec<usize> = (0..SHARDS).map(|i| db.lock(i).len()).collect();
        let total: usize = sizes.iter().sum();
        if total == 0 {
            return Ok(Frame::Null);
        }
        let mut pick = rng.gen_range(0..total);
        let mut shard_idx = 0;
        for (i, &n) in sizes.iter().enumerate() {
            if pick < n {
                shard_idx = i;
                break;
            }
            pick -= n;
        }
        let mut s = db.lock(shard_idx);
        let Some(e) = s.nth(pick.min(s.len().saturating_sub(1))) else {
            continue;
        };
        let key = e.key().to_vec();
        if e.expire_ms().is_some_and(|t| t <= ctx.now_ms) {
            let h = ctx.hash(&key);
            let (l, _) = s.lookup(h, &key, ctx.now_ms);
            super::note_lookup(ctx, l, &key);
            continue;
        }
        return Ok(Frame::Bulk(key.to_vec()));
    }
    Ok(Frame::Null)
}

fn keys(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let pat = args[1];
    let all = pat == b"*";
    let mut out = Bulks::default();
    let db = ctx.db();
    for i in 0..SHARDS {
        let s = db.lock(i);
        for e in s.iter() {
            if e.expire_ms().is_some_and(|t| t <= ctx.now_ms) {
                continue;
            }
            if all || glob_match(pat, e.key(), false) {
                out.push(e.key());
            }
        }
    }
    Ok(Frame::Bulks(out))
}

/// Parses a SCAN cursor as Redis does with `strtoul`: decimal digits with
/// an optional sign (a minus negates modulo 2^64), no spaces, no overflow.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let bad = || CmdError::msg("ERR invalid cursor");
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let v: u64 = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

fn scan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[1])?;
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut typ: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        let Some(&v) = args.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        if is(a, "count") {
            let n = parse_int(v)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = n as usize;
        } else if is(a, "match") {
            pattern = Some(v);
        } else if is(a, "type") {
            typ = Some(v);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let (next, keys) = scan_keys(ctx, cursor, count, pattern, typ);
    Ok(Frame::Array(vec![
        Frame::Bulk(next.to_string().into_bytes()),
        Frame::Array(keys.into_iter().map(Frame::Bulk).collect()),
    ]))
}

/// Walks the database in hash order from `cursor`, examining about `count`
/// keys; returns the next cursor (0 at the end) and the keys that match
/// `pattern` and hold a value of type `typ` (when given). Every key present
/// for the whole iteration is returned at least once, because the order
/// depends only on each key's hash.
pub fn scan_keys(
    ctx: &Ctx<'_>,
    cursor: u64,
    count: usize,
    pattern: Option<&[u8]>,
    typ: Option<&[u8]>,
) -> (u64, Vec<Vec<u8>>) {
    let db = ctx.db();
    let mut out = Vec::new();
    let mut examined = 0usize;
    let mut from = cursor;
    let mut shard = shard_of(cursor);
    while shard < SHARDS {
        let mut s = db.lock(shard);
        let mut cands: Vec<(u64, &crate::keyspace::Slot)> = s
            .iter()
            .map(|e| (ctx.hash(e.key()), e))
            .filter(|(h, _)| *h >= from)
            .collect();
        let want = count - examined;
        let next = if cands.len() > want {
            cands.select_nth_unstable_by_key(want - 1, |c| c.0);
            let limit = cands[want - 1].0;
            // Keep every key sharing the cut-off hash, so none is skipped.
            cands.retain(|c| c.0 <= limit);
            Some(limit.wrapping_add(1))
        } else {
            None
        };
        examined += cands.len();
        // Expired keys that match the pattern are removed (and announced),
        // as Redis's SCAN does before it filters by type; others stay.
        let mut expired = Vec::new();
        for (h, e) in &cands {
            if pattern.is_some_and(|p| p != b"*" && !glob_match(p, e.key(), false)) {
                continue;
            }
            if e.expire_ms().is_some_and(|t| t <= ctx.now_ms) {
                expired.push((*h, e.key().to_vec()));
            } else if typ.is_none_or(|t| t.eq_ignore_ascii_case(e.value().type_name().as_bytes())) {
                out.push(e.key().to_vec());
            }
        }
        for (h, k) in expired {
            let (l, _) = s.lookup(h, &k, ctx.now_ms);
            super::note_lookup(ctx, l, &k);
        }
        if let Some(next) = next {
            return (next, out);
        }
        shard += 1;
        if shard == SHARDS {
            return (0, out);
        }
        from = (shard as u64) << (64 - SHARD_BITS);
        if examined >= count {
            return (from, out);
        }
    }
    (0, out)
}

fn with_entry<R>(ctx: &Ctx<'_>, key: &[u8], f: impl FnOnce(&Slot) -> R) -> Option<R> {
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let (l, e) = shard.lookup(h, key, ctx.now_ms);
    super::note_lookup(ctx, l, key);
    e.map(|e| f(e))
}

fn object_encoding(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    Ok(with_entry(ctx, args[2], |e| Frame::bulk(e.value().encoding())).unwrap_or(Frame::Null))
}

fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    ctx.server.tunables.memory.policy().lfu()
}

fn object_freq(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if !lfu_policy(ctx) {
        return Err(CmdError::msg("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let (now, decay) = (ctx.now_ms, ctx.server.tunables.memory.decay_min());
    Ok(with_entry(ctx, args[2], |e| {
        Frame::Integer(i64::from(crate::evict::lfu_count(e.lru(), now, decay)))
    })
    .unwrap_or(Frame::Null))
}

fn object_idletime(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if lfu_policy(ctx) {
        return Err(CmdError::msg("ERR An LRU maxmemory policy is selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let now = ctx.now_ms;
    Ok(with_entry(ctx, args[2], |e| {
        Frame::Integer((crate::evict::idle_ms(e.lru(), now) / 1000) as i64)
    })
    .unwrap_or(Frame::Null))
}

fn object_refcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    Ok(with_entry(ctx, args[2], |e| {
        let shared =
            matches!(e.value(), crate::value::Value::Str(Str::Int(i)) if (0..10000).contains(i));
        Frame::Integer(if shared { i64::from(i32::MAX) } else { 1 })
    })
    .unwrap_or(Frame::Null))
}

fn object_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    help_reply(
        args,
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cond {
    Always,
    Nx,
    Gt,
    Lt,
}

fn expire_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], seconds: bool, relative: bool) -> CmdResult {
    let mut cond = Cond::Always;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &args[3..] {
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "gt") {
            gt = true;
        } else if is(a, "lt") {
            lt = true;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::msg(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::msg(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    if nx {
        cond = Cond::Nx;
    } else if gt {
        cond = Cond::Gt;
    } else if lt {
        cond = Cond::Lt;
    }
    // XX combines with GT/LT: both must hold.
    let mut when = parse_int(args[2])?;
    let bad = || CmdError::InvalidExpire(ctx.full_name.to_string());
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(bad());
        }
        when *= 1000;
    }
    if relative {
        when = when.checked_add(ctx.now_ms as i64).ok_or_else(bad)?;
    }
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let current = e.expire_ms().map(|t| t as i64);
    if xx && current.is_none() {
        return Ok(Frame::Integer(0));
    }
    let ok = match cond {
        Cond::Always => true,
        Cond::Nx => current.is_none(),
        Cond::Gt => current.is_some_and(|c| when > c),
        Cond::Lt => current.is_none_or(|c| when < c),
    };
    if !ok {
        return Ok(Frame::Integer(0));
    }
    if when <= ctx.now_ms as i64 {
        // Freed as an expiry (`lazyfree-lazy-expire`), as Redis 7.2 does.
        if let Some(e) = shard.remove(h, key) {
            let lazy = ctx
                .server
                .tunables
                .lazy_expire
                .load(std::sync::atomic::Ordering::Relaxed);
            ctx.server.lazyfree.free(e.value, lazy);
        }
        notify(ctx, NOTIFY_GENERIC, "del", key);
        crate::propagate::rewrite_as(&[crate::propagate::expiry_del(), key]);
    } else {
        shard.set_expire(h, key, when as u64);
        notify(ctx, NOTIFY_GENERIC, "expire", key);
        // Always an absolute deadline in milliseconds; options are kept.
        if crate::propagate::recording() {
            let when = when.to_string();
            let mut argv: Vec<&[u8]> = vec![b"PEXPIREAT", key, when.as_bytes()];
            argv.extend_from_slice(&args[3..]);
            crate::propagate::rewrite_as(&argv);
        }
    }
    dirty(ctx, 1);
    Ok(Frame::Integer(1))
}

fn expire(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, true, true)
}

fn pexpire(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, false, true)
}

fn expireat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, true, false)
}

fn pexpireat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, args, false, false)
}

fn ttl_generic(ctx: &mut Ctx<'_>, key: &[u8], ms: bool, absolute: bool) -> CmdResult {
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(-2));
    };
    let Some(t) = e.expire_ms() else {
        return Ok(Frame::Integer(-1));
    };
    let v = if absolute {
        t as i64
    } else {
        (t as i64 - ctx.now_ms as i64).max(0)
    };
    Ok(Frame::Integer(if ms { v } else { (v + 500) / 1000 }))
}

fn ttl(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], false, false)
}

fn pttl(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], true, false)
}

fn expiretime(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], false, true)
}

fn pexpiretime(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    ttl_generic(ctx, args[1], true, true)
}

fn persist(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let has_ttl = match lookup_write(ctx, &mut shard, h, key) {
        None => false,
        Some(e) => e.expire_ms().is_some(),
    };
    if has_ttl {
        shard.set_expire(h, key, 0);
        notify(ctx, NOTIFY_GENERIC, "persist", key);
        dirty(ctx, 1);
    }
    Ok(Frame::Integer(i64::from(has_ttl)))
}
