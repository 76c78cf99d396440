//! String commands: GET/SET and friends, counters, ranges and LCS.

use ferrokey_resp::Frame;

use super::{as_str, as_str_mut, dirty, is, lookup_read, lookup_write, parse_int};
use super::{notify, NOTIFY_GENERIC, NOTIFY_STRING};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked};
use crate::longdouble::LongDouble;
use crate::propagate;
use crate::value::{Str, Value};

const STR: &[&str] = &["@string"];

/// The string family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, get)
        .keys(1, 1, 1)
        .acl(STR)
        .doc("string", "1.0.0", "Returns the string value of a key."),
    CommandSpec::new("set", -3, WRITE | DENYOOM, set)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE", "VARIABLE_FLAGS"], 1, 0, 1).notes("RW and ACCESS due to the optional `GET` argument")])
        .acl(STR)
        .doc("string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
    CommandSpec::new("setnx", 3, WRITE | DENYOOM | FAST, setnx)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["OW", "INSERT"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "1.0.0", "Set the string value of a key only when the key doesn't exist."),
    CommandSpec::new("setex", 4, WRITE | DENYOOM, setex)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["OW", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."),
    CommandSpec::new("psetex", 4, WRITE | DENYOOM, psetex)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["OW", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."),
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, getset)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "1.0.0", "Returns the previous string value of a key after setting it to a new value."),
    CommandSpec::new("getdel", 2, WRITE | FAST, getdel)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "DELETE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "6.2.0", "Returns the string value of a key after deleting the key."),
    CommandSpec::new("getex", -2, WRITE | FAST, getex)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1).notes("RW and UPDATE because it changes the TTL")])
        .acl(STR)
        .doc("string", "6.2.0", "Returns the string value of a key after setting its expiration time."),
    CommandSpec::new("mget", -2, READONLY | FAST, mget)
        .keys(1, -1, 1)
        .tips(&["REQUEST_POLICY:MULTI_SHARD"])
        .acl(STR)
        .doc("string", "1.0.0", "Atomically returns the string values of one or more keys."),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, mset)
        .keys(1, -1, 2)
        .specs(&[KeySpec::new(&["OW", "UPDATE"], 1, -1, 2)])
        .tips(&["REQUEST_POLICY:MULTI_SHARD", "RESPONSE_POLICY:ALL_SUCCEEDED"])
        .acl(STR)
        .doc("string", "1.0.1", "Atomically creates or modifies the string values of one or more keys."),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, msetnx)
        .keys(1, -1, 2)
        .specs(&[KeySpec::new(&["OW", "INSERT"], 1, -1, 2)])
        .acl(STR)
        .doc("string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
    CommandSpec::new("append", 3, WRITE | DENYOOM | FAST, append)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "INSERT"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
    CommandSpec::new("strlen", 2, READONLY | FAST, strlen)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "2.2.0", "Returns the length of a string value."),
    CommandSpec::new("getrange", 4, READONLY, getrange)
        .keys(1, 1, 1)
        .acl(STR)
        .doc("string", "2.4.0", "Returns a substring of the string stored at a key."),
    CommandSpec::new("substr", 4, READONLY, getrange)
        .keys(1, 1, 1)
        .acl(STR)
        .doc("string", "1.0.0", "Returns a substring from a string value."),
    CommandSpec::new("setrange", 4, WRITE | DENYOOM, setrange)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
    CommandSpec::new("incr", 2, WRITE | DENYOOM | FAST, incr)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("decr", 2, WRITE | DENYOOM | FAST, decr)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("incrby", 3, WRITE | DENYOOM | FAST, incrby)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("decrby", 3, WRITE | DENYOOM | FAST, decrby)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, incrbyfloat)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(STR)
        .doc("string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    CommandSpec::new("lcs", -3, READONLY, lcs)
        .keys(1, 2, 1)
        .acl(STR)
        .doc("string", "7.0.0", "Finds the longest common substring."),
];

fn get(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    match lookup_read(ctx, &mut shard, h, key) {
        None => Ok(Frame::Null),
        Some(e) => {
            let s = as_str(e)?;
            let mut out = Vec::with_capacity(s.len());
            s.write_to(&mut out);
            Ok(Frame::Bulk(out))
        }
    }
}

/// When a key's TTL comes from: none, kept, or an absolute deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Clear any TTL.
    Clear,
    /// Keep the current TTL (KEEPTTL).
    Keep,
    /// Expire at this Unix ms.
    At(u64),
}

/// Converts an expire argument to an absolute deadline as Redis's
/// `getExpireMillisecondsOrReply` does: positive, in range after scaling
/// and adding the current time.
pub fn expire_deadline(
    ctx: &Ctx<'_>,
    arg: &[u8],
    seconds: bool,
    relative: bool,
) -> Result<u64, CmdError> {
    let v = parse_int(arg)?;
    let bad = || CmdError::InvalidExpire(ctx.full_name.to_string());
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(bad());
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if relative {
        ms = ms.checked_add(ctx.now_ms as i64).ok_or_else(bad)?;
    }
    if ms <= 0 {
        return Err(bad());
    }
    Ok(ms as u64)
}

/// Stores a string, honouring the TTL choice, and announces `event` (plus
/// `expire` when a deadline was given). A deadline already past is stored
/// as is, as Redis does: the key is there, expired, and goes (`expired`)
/// at its next lookup or in the active cycle.
fn store(
    ctx: &Ctx<'_>,
    shard: &mut crate::keyspace::Shard,
    h: u64,
    key: &[u8],
    value: Str,
    ttl: Ttl,
    event: &'static str,
) {
    let expire = match ttl {
        Ttl::Clear => 0,
        Ttl::At(ms) => ms,
        Ttl::Keep => shard
            .peek(h, key, ctx.now_ms)
            .and_then(|e| e.expire_ms())
            .unwrap_or(0),
    };
    super::insert_key(
        ctx,
        &mut *shard,
        ctx.client.db,
        h,
        key,
        Value::Str(value),
        expire,
        ctx.new_stamp(),
    );
    notify(ctx, NOTIFY_STRING, event, key);
    if matches!(ttl, Ttl::At(_)) {
        notify(ctx, NOTIFY_GENERIC, "expire", key);
    }
    dirty(ctx, 1);
}

/// Options shared by SET and GETEX, parsed as Redis's
/// `parseExtendedStringArgumentsOrReply` does: an option may repeat (the
/// last value wins), conflicting options are a syntax error, and the expire
/// value is validated only after every option was read.
#[derive(Debug, Default)]
struct StrOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// EX, PX, EXAT or PXAT, with its argument.
    expire: Option<(&'static str, &'a [u8])>,
}

fn parse_str_opts<'a>(
    args: &[&'a [u8]],
    from: usize,
    for_set: bool,
) -> Result<StrOpts<'a>, CmdError> {
    let mut o = StrOpts::default();
    let mut j = from;
    while j < args.len() {
        let a = args[j];
        let next = args.get(j + 1).copied();
        let kind = |k: &str| o.expire.is_none_or(|(cur, _)| cur == k);
        if is(a, "nx") && !o.xx && for_set {
            o.nx = true;
        } else if is(a, "xx") && !o.nx && for_set {
            o.xx = true;
        } else if is(a, "get") && for_set {
            o.get = true;
        } else if is(a, "keepttl") && !o.persist && o.expire.is_none() && for_set {
            o.keepttl = true;
        } else if is(a, "persist") && !for_set && o.expire.is_none() && !o.keepttl {
            o.persist = true;
        } else if let Some(k) = ["ex", "px", "exat", "pxat"].into_iter().find(|k| is(a, k)) {
            match next {
                Some(v) if !o.keepttl && !o.persist && kind(k) => {
                    o.expire = Some((k, v));
                    j += 1;
                }
                _ => return Err(CmdError::Syntax),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

impl StrOpts<'_> {
    /// The TTL the options ask for (`None`: leave it as it is).
    fn ttl(&self, ctx: &Ctx<'_>) -> Result<Option<Ttl>, CmdError> {
        if let Some((k, v)) = self.expire {
            let seconds = k == "ex" || k == "exat";
            let relative = k == "ex" || k == "px";
            return Ok(Some(Ttl::At(expire_deadline(ctx, v, seconds, relative)?)));
        }
        if self.keepttl {
            return Ok(Some(Ttl::Keep));
        }
        if self.persist {
            return Ok(Some(Ttl::Clear));
        }
        Ok(None)
    }
}

fn set(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let o = parse_str_opts(args, 3, true)?;
    let ttl = o.ttl(ctx)?.unwrap_or(Ttl::Clear);
    let (nx, xx, want_get) = (o.nx, o.xx, o.get);
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    // With GET the old value is read as GET reads it: a miss counts and
    // is announced (`keymiss`).
    let old = if want_get {
        match lookup_read(ctx, &mut shard, h, key) {
            None => None,
            Some(e) => Some(as_str(e)?.to_vec()),
        }
    } else {
        lookup_write(ctx, &mut shard, h, key).map(|_| Vec::new())
    };
    let exists = old.is_some();
    let reply_old = || {
        if want_get {
            old.clone().map_or(Frame::Null, Frame::Bulk)
        } else {
            Frame::Null
        }
    };
    if (nx && exists) || (xx && !exists) {
        return Ok(reply_old());
    }
    store(
        ctx,
        &mut shard,
        h,
        key,
        Str::from_bytes(args[2]),
        ttl,
        "set",
    );
    // Relative and second TTLs go down the stream as PXAT; GET is dropped.
    match (o.expire, ttl) {
        (Some((k, _)), Ttl::At(ms)) if k != "pxat" => {
            propagate::rewrite_as(&[b"SET", key, args[2], b"PXAT", ms.to_string().as_bytes()]);
        }
        (None, _) if want_get => {
            propagate::rewrite_filtered(args, |i, a| i < 3 || !is(a, "get"));
        }
        _ => {}
    }
    Ok(if want_get { reply_old() } else { Frame::ok() })
}

fn setnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    if lookup_write(ctx, &mut shard, h, args[1]).is_some() {
        return Ok(Frame::Integer(0));
    }
    store(
        ctx,
        &mut shard,
        h,
        args[1],
        Str::from_bytes(args[2]),
        Ttl::Clear,
        "set",
    );
    Ok(Frame::Integer(1))
}

fn setex_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], seconds: bool) -> CmdResult {
    let deadline = expire_deadline(ctx, args[2], seconds, true)?;
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    store(
        ctx,
        &mut shard,
        h,
        args[1],
        Str::from_bytes(args[3]),
        Ttl::At(deadline),
        "set",
    );
    propagate::rewrite_as(&[
        b"SET",
        args[1],
        args[3],
        b"PXAT",
        deadline.to_string().as_bytes(),
    ]);
    Ok(Frame::ok())
}

fn setex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setex_generic(ctx, args, true)
}

fn psetex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setex_generic(ctx, args, false)
}

fn getset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    // The old value is read as GET reads it (a miss is announced).
    let old = match lookup_read(ctx, &mut shard, h, args[1]) {
        None => Frame::Null,
        Some(e) => Frame::Bulk(as_str(e)?.to_vec()),
    };
    store(
        ctx,
        &mut shard,
        h,
        args[1],
        Str::from_bytes(args[2]),
        Ttl::Clear,
        "set",
    );
    propagate::rewrite_as(&[b"SET", args[1], args[2]]);
    Ok(old)
}

fn getdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let v = match lookup_read(ctx, &mut shard, h, args[1]) {
        None => return Ok(Frame::Null),
        Some(e) => as_str(e)?.to_vec(),
    };
    shard.remove(h, args[1]);
    notify(ctx, NOTIFY_GENERIC, "del", args[1]);
    dirty(ctx, 1);
    propagate::rewrite_as(&[b"DEL", args[1]]);
    Ok(Frame::Bulk(v))
}

fn getex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let ttl = parse_str_opts(args, 2, false)?.ttl(ctx)?;
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let v = match lookup_read(ctx, &mut shard, h, args[1]) {
        None => return Ok(Frame::Null),
        Some(e) => as_str(e)?.to_vec(),
    };
    match ttl {
        Some(Ttl::At(ms)) if ms <= ctx.now_ms => {
            shard.remove(h, args[1]);
            notify(ctx, NOTIFY_GENERIC, "del", args[1]);
            dirty(ctx, 1);
            propagate::rewrite_as(&[propagate::expiry_del(), args[1]]);
        }
        Some(Ttl::At(ms)) => {
            shard.set_expire(h, args[1], ms);
            notify(ctx, NOTIFY_GENERIC, "expire", args[1]);
            dirty(ctx, 1);
            propagate::rewrite_as(&[b"PEXPIREAT", args[1], ms.to_string().as_bytes()]);
        }
        Some(Ttl::Clear) => {
            if shard
                .peek(h, args[1], ctx.now_ms)
                .and_then(|e| e.expire_ms())
                .is_some()
            {
                shard.set_expire(h, args[1], 0);
                notify(ctx, NOTIFY_GENERIC, "persist", args[1]);
                dirty(ctx, 1);
                propagate::rewrite_as(&[b"PERSIST", args[1]]);
            }
        }
        Some(Ttl::Keep) | None => {}
    }
    Ok(Frame::Bulk(v))
}

fn mget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let keys = &args[1..];
    let hashes: Vec<u64> = keys.iter().map(|k| ctx.hash(k)).collect();
    let mut locked = Locked::new(ctx.db(), hashes.iter().copied());
    let mut out = Vec::with_capacity(keys.len());
    for (k, &h) in keys.iter().zip(&hashes) {
        let shard = locked.shard(h);
        out.push(match lookup_read(ctx, shard, h, k) {
            Some(e) => match as_str(e) {
                Ok(s) => Frame::Bulk(s.to_vec()),
                Err(_) => Frame::Null,
            },
            None => Frame::Null,
        });
    }
    Ok(Frame::Array(out))
}

fn mset_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], nx: bool) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(ctx.arity_error());
    }
    let pairs: Vec<(&[u8], &[u8], u64)> = args[1..]
        .chunks(2)
        .map(|c| (c[0], c[1], ctx.hash(c[0])))
        .collect();
    let mut locked = Locked::new(ctx.db(), pairs.iter().map(|p| p.2));
    if nx {
        for &(k, _, h) in &pairs {
            if lookup_write(ctx, locked.shard(h), h, k).is_some() {
                return Ok(Frame::Integer(0));
            }
        }
    }
    for &(k, v, h) in &pairs {
        store(
            ctx,
            locked.shard(h),
            h,
            k,
            Str::from_bytes(v),
            Ttl::Clear,
            "set",
        );
    }
    Ok(if nx { Frame::Integer(1) } else { Frame::ok() })
}

fn mset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    mset_generic(ctx, args, true)
}

fn check_len(ctx: &Ctx<'_>, len: u64) -> Result<(), CmdError> {
    let max = ctx
        .server
        .tunables
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed);
    if len > max as u64 {
        return Err(CmdError::StringTooLong);
    }
    Ok(())
}

fn append(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let len = match lookup_write(ctx, &mut shard, h, args[1]) {
        None => {
            let len = args[2].len();
            store(
                ctx,
                &mut shard,
                h,
                args[1],
                Str::from_bytes(args[2]),
                Ttl::Clear,
                "append",
            );
            len
        }
        Some(e) => {
            let s = as_str_mut(e)?;
            check_len(ctx, (s.len() + args[2].len()) as u64)?;
            let raw = s.make_raw();
            raw.extend_from_slice(args[2]);
            let len = raw.len();
            notify(ctx, NOTIFY_STRING, "append", args[1]);
            dirty(ctx, 1);
            len
        }
    };
    Ok(Frame::Integer(len as i64))
}

fn strlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    Ok(Frame::Integer(
        match lookup_read(ctx, &mut shard, h, args[1]) {
            None => 0,
            Some(e) => as_str(e)?.len() as i64,
        },
    ))
}

fn getrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (Ok(mut start), Ok(mut end)) = (parse_int(args[2]), parse_int(args[3])) else {
        return Err(CmdError::NotInteger);
    };
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, args[1]) else {
        return Ok(Frame::Bulk(Vec::new()));
    };
    let v = as_str(e)?.to_vec();
    let len = v.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Ok(Frame::Bulk(Vec::new()));
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Ok(Frame::Bulk(Vec::new()));
    }
    Ok(Frame::Bulk(v[start as usize..=end as usize].to_vec()))
}

fn setrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let offset = parse_int(args[2])?;
    if offset < 0 {
        return Err(CmdError::OffsetRange);
    }
    let val = args[3];
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    match lookup_write(ctx, &mut shard, h, args[1]) {
        None => {
            if val.is_empty() {
                return Ok(Frame::Integer(0));
            }
            check_len(ctx, offset as u64 + val.len() as u64)?;
            let mut buf = vec![0u8; offset as usize];
            buf.extend_from_slice(val);
            let len = buf.len();
            let mut s = Str::Raw(Vec::new());
            *s.make_raw() = buf;
            store(ctx, &mut shard, h, args[1], s, Ttl::Clear, "setrange");
            Ok(Frame::Integer(len as i64))
        }
        Some(e) => {
            let s = as_str_mut(e)?;
            if val.is_empty() {
                return Ok(Frame::Integer(s.len() as i64));
            }
            check_len(ctx, offset as u64 + val.len() as u64)?;
            let raw = s.make_raw();
            let end = offset as usize + val.len();
            if raw.len() < end {
                raw.resize(end, 0);
            }
            raw[offset as usize..end].copy_from_slice(val);
            let len = raw.len();
            notify(ctx, NOTIFY_STRING, "setrange", args[1]);
            dirty(ctx, 1);
            Ok(Frame::Integer(len as i64))
        }
    }
}

fn incr_generic(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> CmdResult {
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    match lookup_write(ctx, &mut shard, h, key) {
        None => {
            store(ctx, &mut shard, h, key, Str::Int(by), Ttl::Clear, "incrby");
            Ok(Frame::Integer(by))
        }
        Some(e) => {
            let s = as_str_mut(e)?;
            let cur = match &*s {
                Str::Int(i) => *i,
                other => {
                    let v = other.to_vec();
                    if v.len() > 20 {
                        return Err(CmdError::NotInteger);
                    }
                    parse_int(&v)?
                }
            };
            let new = cur.checked_add(by).ok_or(CmdError::Overflow)?;
            *s = Str::Int(new);
            notify(ctx, NOTIFY_STRING, "incrby", key);
            dirty(ctx, 1);
            Ok(Frame::Integer(new))
        }
    }
}

fn incr(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    incr_generic(ctx, args[1], 1)
}

fn decr(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    incr_generic(ctx, args[1], -1)
}

fn incrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let by = parse_int(args[2])?;
    incr_generic(ctx, args[1], by)
}

fn decrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let by = parse_int(args[2])?;
    if by == i64::MIN {
        return Err(CmdError::msg("ERR decrement would overflow"));
    }
    incr_generic(ctx, args[1], -by)
}

fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let by = LongDouble::parse(args[2]).ok_or(CmdError::NotFloat)?;
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let cur = match lookup_write(ctx, &mut shard, h, key) {
        None => LongDouble::from_i64(0),
        Some(e) => match as_str(e)? {
            Str::Int(i) => LongDouble::from_i64(*i),
            other => LongDouble::parse(&other.to_vec()).ok_or(CmdError::NotFloat)?,
        },
    };
    let new = cur.plus(by);
    if new.is_nan_or_inf() {
        return Err(CmdError::msg("ERR increment would produce NaN or Infinity"));
    }
    let text = new.to_human().into_bytes();
    let s = Str::from_bytes(&text);
    match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            *e.value_mut() = Value::Str(s);
            notify(ctx, NOTIFY_STRING, "incrbyfloat", key);
            dirty(ctx, 1);
        }
        None => store(ctx, &mut shard, h, key, s, Ttl::Clear, "incrbyfloat"),
    }
    // Replicas and the AOF get the result, not the arithmetic.
    propagate::rewrite_as(&[b"SET", key, &text, b"KEEPTTL"]);
    Ok(Frame::Bulk(text))
}

fn lcs(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (mut get_len, mut get_idx, mut with_len) = (false, false, false);
    let mut min_len: i64 = 0;
    let mut i = 3;
    while i < args.len() {
        let a = args[i];
        if is(a, "idx") {
            get_idx = true;
        } else if is(a, "len") {
            get_len = true;
        } else if is(a, "withmatchlen") {
            with_len = true;
        } else if is(a, "minmatchlen") && i + 1 < args.len() {
            min_len = parse_int(args[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if get_len && get_idx {
        return Err(CmdError::msg(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let (ha, hb) = (ctx.hash(args[1]), ctx.hash(args[2]));
    let (a, b) = {
        let mut locked = Locked::new(ctx.db(), [ha, hb].into_iter());
        let mut len_of = |h: u64, k: &[u8]| -> Result<usize, CmdError> {
            match lookup_read(ctx, locked.shard(h), h, k) {
                None => Ok(0),
                Some(e) => match as_str(e) {
                    Ok(s) => Ok(s.len()),
                    Err(_) => Err(CmdError::msg(
                        "ERR The specified keys must contain string values",
                    )),
                },
            }
        };
        let (la, lb) = (len_of(ha, args[1])?, len_of(hb, args[2])?);
        // Check the DP table's size before copying anything.
        let max = ctx
            .server
            .tunables
            .proto_max_bulk_len
            .load(std::sync::atomic::Ordering::Relaxed) as u128;
        if (la as u128 + 1) * (lb as u128 + 1) * 4 > max {
            return Err(CmdError::msg(
                "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
            ));
        }
        let mut read = |h: u64, k: &[u8]| -> Vec<u8> {
            locked
                .shard(h)
                .peek(h, k, ctx.now_ms)
                .and_then(|e| as_str(e).ok().map(Str::to_vec))
                .unwrap_or_default()
        };
        (read(ha, args[1]), read(hb, args[2]))
    };
    let (n, m) = (a.len(), b.len());
    // dp[i][j]: LCS length of a[..i] and b[..j].
    let w = m + 1;
    let mut dp = vec![0u32; (n + 1) * w];
    for i in 1..=n {
        for j in 1..=m {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[n * w + m] as usize;
    if get_len {
        return Ok(Frame::Integer(total as i64));
    }
    // Walk back from the end, collecting the common string and, for IDX,
    // the ranges of each run of consecutive matches.
    let mut result = vec![0u8; total];
    let mut idx = total;
    let mut matches = Vec::new();
    let (mut i, mut j) = (n, m);
    let mut run: Option<(usize, usize, usize, usize)> = None; // a_start, a_end, b_start, b_end
    let emit = |run: (usize, usize, usize, usize), matches: &mut Vec<Frame>| {
        let (as_, ae, bs, be) = run;
        let len = ae - as_ + 1;
        if len as i64 >= min_len {
            let mut item = vec![
                Frame::Array(vec![Frame::Integer(as_ as i64), Frame::Integer(ae as i64)]),
                Frame::Array(vec![Frame::Integer(bs as i64), Frame::Integer(be as i64)]),
            ];
            if with_len {
                item.push(Frame::Integer(len as i64));
            }
            matches.push(Frame::Array(item));
        }
    };
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            idx -= 1;
            result[idx] = a[i - 1];
            let (ai, bj) = (i - 1, j - 1);
            run = match run {
                Some((as_, ae, bs, be)) if as_ == ai + 1 && bs == bj + 1 => Some((ai, ae, bj, be)),
                Some(r) => {
                    emit(r, &mut matches);
                    Some((ai, ai, bj, bj))
                }
                None => Some((ai, ai, bj, bj)),
            };
            i -= 1;
            j -= 1;
        } else if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    if let Some(r) = run {
        emit(r, &mut matches);
    }
    if get_idx {
        return Ok(Frame::Map(vec![
            (Frame::bulk("matches"), Frame::Array(matches)),
            (Frame::bulk("len"), Frame::Integer(total as i64)),
        ]));
    }
    Ok(Frame::Bulk(result))
}
