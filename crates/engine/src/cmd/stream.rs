//! Stream commands: XADD, XRANGE, XREAD, consumer groups and their pending
//! entries lists, XINFO.

use std::sync::Arc;

use ferrokey_resp::Frame;

use super::{dirty, is, lookup_read, lookup_write, notify, parse_int};
use crate::blocking::{block_or_run, Op};
use crate::command::{flags::*, CommandSpec, Ctx};
use crate::config::NOTIFY_STREAM;
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked, Slot};
use crate::types::stream::{
    Consumer, EntryRef, Group, Nack, Stream, StreamId, Trim, ENTRIES_READ_INVALID,
};
use crate::types::Limits;
use crate::value::Value;

const STREAM: &[&str] = &["@stream"];

/// The stream family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xadd", -5, WRITE | DENYOOM | FAST, xadd)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Appends a new message to a stream. Creates the key if it doesn't exist."),
    CommandSpec::new("xrange", -4, READONLY, xrange)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Returns the messages from a stream within a range of IDs."),
    CommandSpec::new("xrevrange", -4, READONLY, xrevrange)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Returns the messages from a stream within a range of IDs in reverse order."),
    CommandSpec::new("xlen", 2, READONLY | FAST, xlen)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Return the number of messages in a stream."),
    CommandSpec::new("xdel", -3, WRITE | FAST, xdel)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Returns the number of messages after removing them from a stream."),
    CommandSpec::new("xtrim", -4, WRITE, xtrim)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Deletes messages from the beginning of a stream."),
    // The keys follow STREAMS; COMMAND GETKEYS finds them.
    CommandSpec::new("xread", -4, READONLY | BLOCKING | MOVABLEKEYS, xread)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise."),
    CommandSpec::new("xreadgroup", -7, WRITE | BLOCKING | MOVABLEKEYS, xreadgroup)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise."),
    CommandSpec::new("xgroup", -2, 0, xgroup_container)
        .subs(XGROUP_SUBS)
        .doc("stream", "5.0.0", "A container for consumer groups commands."),
    CommandSpec::new("xack", -4, WRITE | FAST, xack)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream."),
    CommandSpec::new("xpending", -3, READONLY, xpending)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Returns the information and entries from a stream consumer group's pending entries list."),
    CommandSpec::new("xclaim", -6, WRITE | FAST, xclaim)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member."),
    CommandSpec::new("xautoclaim", -6, WRITE | FAST, xautoclaim)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "6.2.0", "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member."),
    CommandSpec::new("xsetid", -3, WRITE | DENYOOM | FAST, xsetid)
        .keys(1, 1, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "An internal command for replicating stream values."),
    CommandSpec::new("xinfo", -2, 0, xgroup_container)
        .subs(XINFO_SUBS)
        .doc("stream", "5.0.0", "A container for stream introspection commands."),
];

static XGROUP_SUBS: &[CommandSpec] = &[
    CommandSpec::new("create", -5, WRITE | DENYOOM, xgroup_create)
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Creates a consumer group."),
    CommandSpec::new("setid", -5, WRITE, xgroup_setid)
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc(
            "stream",
            "5.0.0",
            "Sets the last-delivered ID of a consumer group.",
        ),
    CommandSpec::new("destroy", 4, WRITE, xgroup_destroy)
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Destroys a consumer group."),
    CommandSpec::new("createconsumer", 5, WRITE | DENYOOM, xgroup_createconsumer)
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("stream", "6.2.0", "Creates a consumer in a consumer group."),
    CommandSpec::new("delconsumer", 5, WRITE, xgroup_delconsumer)
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc(
            "stream",
            "5.0.0",
            "Deletes a consumer from a consumer group.",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, xgroup_help)
        .acl(STREAM)
        .doc(
            "stream",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
        ),
];

static XINFO_SUBS: &[CommandSpec] = &[
    CommandSpec::new("stream", -3, READONLY, xinfo_stream)
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc("stream", "5.0.0", "Returns information about a stream."),
    CommandSpec::new("groups", 3, READONLY, xinfo_groups)
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc(
            "stream",
            "5.0.0",
            "Returns a list of the consumer groups of a stream.",
        ),
    CommandSpec::new("consumers", 4, READONLY, xinfo_consumers)
        .keys(2, 2, 1)
        .acl(STREAM)
        .doc(
            "stream",
            "5.0.0",
            "Returns a list of the consumers in a consumer group.",
        ),
    CommandSpec::new("help", 2, LOADING | STALE, xinfo_help)
        .acl(STREAM)
        .doc(
            "stream",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
        ),
];

fn xgroup_container(_ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    Err(CmdError::Syntax)
}

// ------------------------------------------------------------ arguments

fn invalid_id() -> CmdError {
    CmdError::msg("ERR Invalid stream ID specified as stream command argument")
}

/// Redis's `string2ull`: a canonical non-negative i64, or what `strtoull`
/// accepts whole.
fn parse_u64(b: &[u8]) -> Option<u64> {
    if let Some(v) = ferrokey_resp::parse_i64(b) {
        return u64::try_from(v).ok();
    }
    let s = std::str::from_utf8(b).ok()?;
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, d) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if d.is_empty() || !d.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: u64 = d.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses an ID; a missing sequence becomes `missing_seq`. `strict`
/// refuses `-` and `+`. With `seq_star`, `<ms>-*` is accepted and reported
/// as a missing sequence. Returns the ID and whether the sequence was given.
fn parse_id_full(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_star: bool,
) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    if arg == b"-" || arg == b"+" {
        if strict {
            return Err(invalid_id());
        }
        return Ok((
            if arg == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    // C strings end at a NUL byte.
    let arg = arg.split(|&b| b == 0).next().unwrap_or(&[]);
    let (ms_part, seq_part) = match arg.iter().position(|&b| b == b'-') {
        Some(i) => (&arg[..i], Some(&arg[i + 1..])),
        None => (arg, None),
    };
    let ms = parse_u64(ms_part).ok_or_else(invalid_id)?;
    match seq_part {
        // For XADD a bare `<ms>` is an explicit ID (`<ms>-0`).
        None if seq_star => Ok((StreamId::new(ms, missing_seq), true)),
        None => Ok((StreamId::new(ms, missing_seq), false)),
        Some(b"*") if seq_star => Ok((StreamId::new(ms, 0), false)),
        Some(s) => Ok((
            StreamId::new(ms, parse_u64(s).ok_or_else(invalid_id)?),
            true,
        )),
    }
}

/// A strict ID (no `-` / `+`), missing sequence 0.
fn parse_strict(arg: &[u8]) -> Result<StreamId, CmdError> {
    parse_id_full(arg, 0, true, false).map(|r| r.0)
}

/// A range bound: `(` makes it exclusive (then strict); returns the ID
/// adjusted to inclusive, or the interval error.
fn parse_bound(arg: &[u8], start: bool) -> Result<StreamId, CmdError> {
    let missing = if start { 0 } else { u64::MAX };
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id_full(&arg[1..], missing, true, false)?.0;
        if start {
            id.next()
                .ok_or(CmdError::msg("ERR invalid start ID for the interval"))
        } else {
            id.prev()
                .ok_or(CmdError::msg("ERR invalid end ID for the interval"))
        }
    } else {
        Ok(parse_id_full(arg, missing, false, false)?.0)
    }
}

fn id_frame(id: StreamId) -> Frame {
    Frame::Bulk(id.to_bytes())
}

fn entry_frame(e: &EntryRef<'_>) -> Frame {
    let mut kv = Vec::with_capacity(e.field_count() * 2);
    for (f, v) in e.fields() {
        kv.push(Frame::bulk(f));
        kv.push(Frame::bulk(v));
    }
    Frame::Array(vec![id_frame(e.id), Frame::Array(kv)])
}

fn as_stream(e: &Slot) -> Result<&Stream, CmdError> {
    match e.value() {
        Value::Stream(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

fn as_stream_mut(e: &mut Slot) -> Result<&mut Stream, CmdError> {
    match e.value_mut() {
        Value::Stream(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

/// The stream at `key` in `shard`, created empty first when `create`
/// (announced as a new key).
fn stream_in<'s>(
    ctx: &Ctx<'_>,
    shard: &'s mut crate::keyspace::Shard,
    h: u64,
    key: &[u8],
    create: bool,
) -> Result<&'s mut Stream, CmdError> {
    if create {
        super::insert_key(
            ctx,
            shard,
            ctx.client.db,
            h,
            key,
            Value::Stream(Box::default()),
            0,
            ctx.new_stamp(),
        );
    }
    let (_, e) = shard.lookup(h, key, ctx.now_ms);
    as_stream_mut(e.ok_or(CmdError::NoSuchKey)?)
}

/// Runs `f` on the stream at `key` for XINFO: `ERR no such key` when it
/// is missing.
fn read_existing(ctx: &mut Ctx<'_>, key: &[u8], f: impl FnOnce(&Stream) -> CmdResult) -> CmdResult {
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let e = lookup_read(ctx, &mut shard, h, key).ok_or(CmdError::NoSuchKey)?;
    f(as_stream(e)?)
}

fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn no_group_for_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::owned(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

/// XADD / XTRIM options.
#[derive(Debug, Default)]
struct AddTrim {
    trim: Option<Trim>,
    approx: bool,
    /// Where the `~` is, when given.
    approx_pos: usize,
    limit: u64,
    nomkstream: bool,
    /// The ID and whether its sequence was given.
    id: Option<(StreamId, bool)>,
    /// Where the ID (or `*`) is.
    idpos: usize,
}

fn parse_add_trim(ctx: &Ctx<'_>, args: &[&[u8]], xadd: bool) -> Result<AddTrim, CmdError> {
    let mut a = AddTrim::default();
    let mut limit_given = false;
    let mut limit: i64 = 0;
    let mut i = 2;
    let incompatible = || {
        CmdError::msg(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
        )
    };
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args[i];
        if xadd && opt == b"*" {
            break;
        } else if is(opt, "maxlen") && more > 0 {
            if a.trim.is_some() {
                return Err(incompatible());
            }
            a.approx = false;
            let next = args[i + 1];
            if more >= 2 && next == b"~" {
                a.approx = true;
                a.approx_pos = i + 1;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let n = parse_int(args[i + 1])?;
            if n < 0 {
                return Err(CmdError::msg("ERR The MAXLEN argument must be >= 0."));
            }
            i += 1;
            a.trim = Some(Trim::MaxLen(n as u64));
        } else if is(opt, "minid") && more > 0 {
            if a.trim.is_some() {
                return Err(incompatible());
            }
            a.approx = false;
            let next = args[i + 1];
            if more >= 2 && next == b"~" {
                a.approx = true;
                a.approx_pos = i + 1;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let id = parse_strict(args[i + 1])?;
            i += 1;
            a.trim = Some(Trim::MinId(id));
        } else if is(opt, "limit") && more > 0 {
            limit = parse_int(args[i + 1])?;
            if limit < 0 {
                return Err(CmdError::msg("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            a.id = Some(parse_id_full(opt, 0, true, true)?);
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    a.idpos = i;
    if limit != 0 && a.trim.is_none() {
        return Err(CmdError::msg(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && a.trim.is_none() {
        return Err(CmdError::msg(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if ctx.client.obey {
        // The AOF holds the exact trim point this command came to.
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            return Err(CmdError::msg(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
        a.limit = limit as u64;
    } else if a.approx {
        // At most 100 nodes' worth, as Redis.
        let per_node = Limits::of(ctx).stream_node_max_entries as u64;
        a.limit = if per_node == 0 {
            10_000
        } else {
            per_node.saturating_mul(100).min(1_000_000)
        };
    }
    Ok(a)
}

// ------------------------------------------------------------ XADD & co

fn xadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let a = parse_add_trim(ctx, args, true)?;
    let field_pos = a.idpos + 1;
    let nfields = args.len() as i64 - field_pos as i64;
    if nfields < 2 || nfields % 2 == 1 {
        return Err(ctx.arity_error());
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            return Err(CmdError::msg(
                "ERR The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    let key = args[1];
    let h = ctx.hash(key);
    let lim = Limits::of(ctx).stream_nodes();
    let mut shard = ctx.db().lock(shard_of(h));
    let exists = match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            as_stream(e)?;
            true
        }
        None if a.nomkstream => return Ok(Frame::Null),
        None => false,
    };
    let s = stream_in(ctx, &mut shard, h, key, !exists)?;
    let outcome = add_entry(ctx, s, &a, &args[field_pos..], lim);
    let id = match outcome {
        Ok(id) => id,
        Err(err) => {
            if !exists {
                shard.remove(h, key);
            }
            return Err(err);
        }
    };
    let trimmed = match a.trim {
        Some(t) => s.trim(t, a.approx, a.limit),
        None => 0,
    };
    // The ID chosen here, and the exact trim point `~` came to, go down
    // the stream, so that replicas and the AOF end up with this stream.
    let given = matches!(a.id, Some((_, true)));
    if (!given || a.approx) && crate::propagate::recording() {
        propagate_exact(args, &a, s, (!given).then_some(id));
    }
    shard.touch(key);
    drop(shard);
    notify(ctx, NOTIFY_STREAM, "xadd", key);
    if trimmed > 0 {
        notify(ctx, NOTIFY_STREAM, "xtrim", key);
    }
    dirty(ctx, 1);
    Ok(id_frame(id))
}

/// Rewrites XADD / XTRIM for propagation as Redis does: an approximate
/// trim becomes `= <length>` (MAXLEN) or `= <first ID>` (MINID) of the
/// stream it left, and XADD's `*` or `<ms>-*` the ID it picked.
fn propagate_exact(args: &[&[u8]], a: &AddTrim, s: &Stream, id: Option<StreamId>) {
    let mut argv: Vec<Vec<u8>> = args.iter().map(|x| x.to_vec()).collect();
    if a.approx {
        argv[a.approx_pos] = b"=".to_vec();
        argv[a.approx_pos + 1] = match a.trim {
            Some(Trim::MaxLen(_)) => s.length.to_string().into_bytes(),
            _ => s.edge(false).map_or(StreamId::MIN, |e| e.id).to_bytes(),
        };
    }
    if let Some(id) = id {
        argv[a.idpos] = id.to_bytes();
    }
    crate::propagate::rewrite(vec![argv]);
}

/// Chooses the new entry's ID and appends it.
fn add_entry(
    ctx: &Ctx<'_>,
    s: &mut Stream,
    a: &AddTrim,
    fv: &[&[u8]],
    lim: crate::types::stream::NodeLimits,
) -> Result<StreamId, CmdError> {
    if s.last_id == StreamId::MAX {
        return Err(CmdError::msg(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let smaller = || {
        CmdError::msg(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item",
        )
    };
    let id = match a.id {
        Some((id, true)) => id,
        Some((id, false)) => {
            if s.last_id.ms == id.ms {
                if s.last_id.seq == u64::MAX {
                    return Err(smaller());
                }
                StreamId::new(id.ms, s.last_id.seq + 1)
            } else {
                id
            }
        }
        None => {
            if ctx.now_ms > s.last_id.ms {
                StreamId::new(ctx.now_ms, 0)
            } else {
                s.last_id.next().unwrap_or(StreamId::MIN)
            }
        }
    };
    if id <= s.last_id {
        return Err(smaller());
    }
    let total: usize = fv.iter().map(|x| x.len()).sum();
    if total > crate::types::stream::ENTRY_MAX_BYTES {
        return Err(CmdError::msg("ERR Elements are too large to be stored"));
    }
    let pairs: Vec<(&[u8], &[u8])> = fv.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    s.append(id, &pairs, lim);
    Ok(id)
}

fn xtrim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let a = parse_add_trim(ctx, args, false)?;
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let s = as_stream_mut(e)?;
    let n = s.trim(a.trim.expect("XTRIM has a strategy"), a.approx, a.limit);
    if a.approx && crate::propagate::recording() {
        propagate_exact(args, &a, s, None);
    }
    if n > 0 {
        shard.touch(key);
        drop(shard);
        notify(ctx, NOTIFY_STREAM, "xtrim", key);
        dirty(ctx, n);
    }
    Ok(Frame::Integer(n as i64))
}

fn xdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let s = as_stream_mut(e)?;
    let ids = args[2..]
        .iter()
        .map(|a| parse_strict(a))
        .collect::<Result<Vec<_>, _>>()?;
    let n = ids.into_iter().filter(|id| s.delete(*id)).count();
    if n > 0 {
        shard.touch(key);
        drop(shard);
        notify(ctx, NOTIFY_STREAM, "xdel", key);
        dirty(ctx, n as u64);
    }
    Ok(Frame::Integer(n as i64))
}

fn xlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    super::read_entry(ctx, args[1], Frame::Integer(0), |e| {
        Ok(Frame::Integer(as_stream(e)?.length as i64))
    })
}

fn xrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    range_generic(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    range_generic(ctx, args, true)
}

fn range_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], rev: bool) -> CmdResult {
    let (sa, ea) = if rev {
        (args[3], args[2])
    } else {
        (args[2], args[3])
    };
    let start = parse_bound(sa, true)?;
    let end = parse_bound(ea, false)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(args[j], "count") && j + 1 < args.len() {
            count = parse_int(args[j + 1])?.max(0);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    super::read_entry(ctx, args[1], Frame::Array(vec![]), |e| {
        let s = as_stream(e)?;
        if count == 0 {
            return Ok(Frame::NullArray);
        }
        let take = if count < 0 {
            usize::MAX
        } else {
            count as usize
        };
        Ok(Frame::Array(
            s.range(start, end, rev)
                .take(take)
                .map(|e| entry_frame(&e))
                .collect(),
        ))
    })
}

// ------------------------------------------------------------ XREAD

/// A group read's parameters.
#[derive(Debug, Clone)]
pub struct GroupRead {
    group: Box<[u8]>,
    consumer: Box<[u8]>,
    noack: bool,
}

/// XREAD / XREADGROUP as a blocked client re-runs it.
#[derive(Debug, Clone)]
pub struct ReadOp {
    /// The ID arguments, one per key (`$` replaced by a concrete ID once
    /// the client blocks).
    ids: Vec<Box<[u8]>>,
    /// Most entries per stream (0: all).
    count: usize,
    /// The group, for XREADGROUP.
    group: Option<GroupRead>,
}

impl ReadOp {
    /// Whether this is XREADGROUP, which is woken by any change to its
    /// keys (deletion included) to report NOGROUP or WRONGTYPE.
    pub fn is_group(&self) -> bool {
        self.group.is_some()
    }

    /// Replaces `$` with each stream's current last ID, so that a blocked
    /// XREAD waits for entries added after it blocked.
    pub fn freeze(&mut self, ctx: &Ctx<'_>, locked: &mut Locked<'_>, keys: &[&[u8]]) {
        for (k, id) in keys.iter().zip(self.ids.iter_mut()) {
            if &**id == b"$" {
                let h = ctx.hash(k);
                let last = locked
                    .shard(h)
                    .peek(h, k, ctx.now_ms)
                    .and_then(|e| as_stream(e).ok())
                    .map_or(StreamId::MIN, |s| s.last_id);
                *id = last.to_bytes().into_boxed_slice();
            }
        }
    }
}

fn xread(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_generic(ctx, args, false)
}

fn xreadgroup(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_generic(ctx, args, true)
}

fn read_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], grouped: bool) -> CmdResult {
    let mut timeout: Option<u64> = None;
    let mut count = 0usize;
    let mut streams_arg = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args[i];
        if is(o, "block") && more > 0 {
            if ctx.client.in_script {
                return Err(CmdError::owned(format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(args[0])
                )));
            }
            i += 1;
            timeout = Some(parse_ms_timeout(args[i], ctx.now_ms)?);
        } else if is(o, "count") && more > 0 {
            i += 1;
            count = parse_int(args[i])?.max(0) as usize;
        } else if is(o, "streams") && more > 0 {
            streams_arg = i + 1;
            if !(args.len() - streams_arg).is_multiple_of(2) {
                let (name, sym) = if grouped {
                    ("xreadgroup", '>')
                } else {
                    ("xread", '$')
                };
                return Err(CmdError::owned(format!(
                    "ERR Unbalanced '{name}' list of streams: for each stream key an ID or '{sym}' must be specified."
                )));
            }
            break;
        } else if is(o, "group") && more >= 2 {
            if !grouped {
                return Err(CmdError::msg(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((args[i + 1], args[i + 2]));
            i += 2;
        } else if is(o, "noack") {
            if !grouped {
                return Err(CmdError::msg(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(CmdError::Syntax);
    }
    if grouped && group.is_none() {
        return Err(CmdError::msg("ERR Missing GROUP option for XREADGROUP"));
    }
    let n = (args.len() - streams_arg) / 2;
    let keys: Vec<&[u8]> = args[streams_arg..streams_arg + n].to_vec();
    let op = ReadOp {
        ids: args[streams_arg + n..]
            .iter()
            .map(|a| Box::from(*a))
            .collect(),
        count,
        group: group.map(|(g, c)| GroupRead {
            group: g.into(),
            consumer: c.into(),
            noack,
        }),
    };
    match timeout {
        Some(deadline) => block_or_run(ctx, &keys, Op::XRead(Box::new(op)), deadline),
        None => {
            let hs: Vec<u64> = keys.iter().map(|k| ctx.hash(k)).collect();
            let mut locked = Locked::new(ctx.db(), hs.into_iter());
            Ok(read_streams(ctx, &mut locked, &keys, &op)?.unwrap_or(Frame::NullArray))
        }
    }
}

/// BLOCK's milliseconds into an absolute deadline (0: forever).
fn parse_ms_timeout(arg: &[u8], now_ms: u64) -> Result<u64, CmdError> {
    let ms = parse_int(arg)
        .map_err(|_| CmdError::msg("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    if ms == 0 {
        return Ok(0);
    }
    if ms as u64 > i64::MAX as u64 - now_ms {
        return Err(CmdError::msg("ERR timeout is out of range"));
    }
    Ok(now_ms + ms as u64)
}

/// What one key of a read asks for.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Entries after this ID.
    After(StreamId),
    /// The group's new entries (`>`).
    New,
    /// The consumer's pending entries after this ID.
    History(StreamId),
}

/// Runs XREAD / XREADGROUP over `keys` (locked): the reply, or `None`
/// when no stream has anything to serve.
pub fn read_streams(
    ctx: &mut Ctx<'_>,
    locked: &mut Locked<'_>,
    keys: &[&[u8]],
    op: &ReadOp,
) -> Result<Option<Frame>, CmdError> {
    // Validate every key first, as Redis does before serving any.
    let mut wants = Vec::with_capacity(keys.len());
    for (k, arg) in keys.iter().zip(&op.ids) {
        let h = ctx.hash(k);
        let shard = locked.shard(h);
        let s = match lookup_read(ctx, shard, h, k) {
            Some(e) => Some(as_stream(e)?),
            None => None,
        };
        if let Some(g) = &op.group {
            if !s.is_some_and(|s| s.groups.contains_key(&g.group)) {
                return Err(CmdError::owned(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(&g.group)
                )));
            }
        }
        let want = match &**arg {
            b"$" => {
                if op.group.is_some() {
                    return Err(CmdError::msg("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
                }
                Want::After(s.map_or(StreamId::MIN, |s| s.last_id))
            }
            b">" => {
                if op.group.is_none() {
                    return Err(CmdError::msg("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
                }
                Want::New
            }
            a => {
                let id = parse_strict(a)?;
                if op.group.is_some() {
                    Want::History(id)
                } else {
                    Want::After(id)
                }
            }
        };
        wants.push(want);
    }
    let resp3 = ctx.client.resp >= 3;
    let mut out: Vec<(Frame, Frame)> = Vec::new();
    for (k, want) in keys.iter().zip(wants) {
        let h = ctx.hash(k);
        let shard = locked.shard(h);
        let (_, e) = shard.lookup(h, k, ctx.now_ms);
        let Some(Value::Stream(s)) = e.map(|e| e.value_mut()) else {
            continue;
        };
        let served = match (&op.group, want) {
            (None, Want::After(gt)) => {
                if s.length == 0 || s.last_valid_id() <= gt {
                    None
                } else {
                    let start = gt.next().unwrap_or(StreamId::MIN);
                    let take = if op.count == 0 { usize::MAX } else { op.count };
                    Some(Frame::Array(
                        s.range(start, StreamId::MAX, false)
                            .take(take)
                            .map(|e| entry_frame(&e))
                            .collect(),
                    ))
                }
            }
            (Some(g), want) => {
                let serve = match want {
                    Want::History(_) => true,
                    _ => s.length > 0 && s.last_valid_id() > s.groups[&g.group].last_id,
                };
                let group = s.groups.get_mut(&g.group).expect("group checked");
                let (_, created) = get_consumer(group, &g.consumer, ctx.now_ms);
                // Replicas and the AOF get what the read did, never the
                // read itself (as Redis: XCLAIMs, or the group's new
                // last ID under NOACK).
                crate::propagate::prevent();
                if created {
                    notify_in(ctx, "xgroup-createconsumer", k);
                    dirty(ctx, 1);
                    if g.noack {
                        crate::propagate::also(
                            ctx.client.db,
                            &[b"XGROUP", b"CREATECONSUMER", k, &g.group, &g.consumer],
                        );
                    }
                }
                if serve {
                    let reply = match want {
                        Want::History(id) => read_history(
                            s,
                            g,
                            id.next().unwrap_or(StreamId::MIN),
                            op.count,
                            ctx.now_ms,
                        ),
                        _ => {
                            let (reply, ids) = read_new(s, g, op.count, ctx.now_ms);
                            if crate::propagate::recording() && !ids.is_empty() {
                                propagate_read(ctx, s, k, g, &ids);
                            }
                            reply
                        }
                    };
                    dirty(ctx, 1);
                    Some(reply)
                } else {
                    None
                }
            }
            (None, _) => unreachable!("only groups read history or new entries"),
        };
        if let Some(f) = served {
            out.push((Frame::bulk(k), f));
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(if resp3 {
        Frame::Map(out)
    } else {
        Frame::Array(
            out.into_iter()
                .map(|(k, v)| Frame::Array(vec![k, v]))
                .collect(),
        )
    }))
}

fn notify_in(ctx: &Ctx<'_>, event: &str, key: &[u8]) {
    notify(ctx, NOTIFY_STREAM, event, key);
}

/// What a group read propagates: an XCLAIM per delivered entry (which
/// creates the consumer and moves the group's last ID on the replica), or
/// under NOACK the group's new last ID.
fn propagate_read(ctx: &Ctx<'_>, s: &Stream, key: &[u8], gr: &GroupRead, ids: &[StreamId]) {
    let db = ctx.client.db;
    let g = &s.groups[&gr.group];
    if gr.noack {
        let last = g.last_id.to_bytes();
        let read = g.entries_read.to_string();
        crate::propagate::also(
            db,
            &[
                b"XGROUP",
                b"SETID",
                key,
                &gr.group,
                &last,
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        );
        return;
    }
    let time = ctx.now_ms.to_string();
    for id in ids {
        let id = id.to_bytes();
        crate::propagate::also(
            db,
            &[
                b"XCLAIM",
                key,
                &gr.group,
                &gr.consumer,
                b"0",
                &id,
                b"TIME",
                time.as_bytes(),
                b"RETRYCOUNT",
                b"1",
                b"FORCE",
                b"JUSTID",
                b"LASTID",
                &id,
            ],
        );
    }
}

/// Delivers new entries to a consumer of a group; returns the reply and
/// the IDs delivered.
fn read_new(s: &mut Stream, gr: &GroupRead, count: usize, now_ms: u64) -> (Frame, Vec<StreamId>) {
    let mut g = s.groups.remove(&gr.group).expect("group checked");
    let start = g.last_id.next().unwrap_or(StreamId::MIN);
    let take = if count == 0 { usize::MAX } else { count };
    let mut frames = Vec::new();
    let mut ids = Vec::new();
    for e in s.range(start, StreamId::MAX, false).take(take) {
        frames.push(entry_frame(&e));
        ids.push(e.id);
    }
    for &id in &ids {
        if id > g.last_id {
            s.advance_group(&mut g, id);
        }
    }
    let cname: Arc<[u8]> = g
        .consumers
        .get_key_value(&*gr.consumer)
        .map(|(k, _)| k.clone())
        .expect("consumer created");
    if !gr.noack {
        for &id in &ids {
            deliver(&mut g, id, &cname, now_ms);
        }
        if let Some(c) = g.consumers.get_mut(&*cname) {
            if !ids.is_empty() {
                c.active_time = now_ms as i64;
            }
        }
    }
    s.groups.insert(gr.group.clone(), g);
    (Frame::Array(frames), ids)
}

/// Assigns a pending entry to `consumer` (moving it from another one),
/// delivered now for the first time.
fn deliver(g: &mut Group, id: StreamId, consumer: &Arc<[u8]>, now_ms: u64) {
    if let Some(old) = g.pel.get(&id).map(|n| n.consumer.clone()) {
        if let Some(c) = g.consumers.get_mut(&old) {
            c.pel.remove(&id);
        }
    }
    g.pel.insert(
        id,
        Nack {
            consumer: consumer.clone(),
            delivery_time: now_ms,
            delivery_count: 1,
        },
    );
    if let Some(c) = g.consumers.get_mut(&**consumer) {
        c.pel.insert(id);
    }
}

/// A consumer's pending entries from `start`: deleted entries appear with
/// a null body; the others count as delivered again.
fn read_history(
    s: &mut Stream,
    gr: &GroupRead,
    start: StreamId,
    count: usize,
    now_ms: u64,
) -> Frame {
    let mut g = s.groups.remove(&gr.group).expect("group checked");
    let ids: Vec<StreamId> = g.consumers[&*gr.consumer]
        .pel
        .range(start..)
        .take(if count == 0 { usize::MAX } else { count })
        .copied()
        .collect();
    let mut frames = Vec::with_capacity(ids.len());
    for id in ids {
        match s.get(id) {
            Some(e) => {
                frames.push(entry_frame(&e));
                if let Some(n) = g.pel.get_mut(&id) {
                    n.delivery_time = now_ms;
                    n.delivery_count += 1;
                }
            }
            None => frames.push(Frame::Array(vec![id_frame(id), Frame::NullArray])),
        }
    }
    s.groups.insert(gr.group.clone(), g);
    Frame::Array(frames)
}

// ------------------------------------------------------------ XGROUP

/// Runs `f` on the stream at `args[2]` for a group subcommand, with
/// Redis's missing-key and missing-group errors.
fn with_group_stream(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    need_group: bool,
    f: impl FnOnce(&mut Ctx<'_>, &mut Stream) -> CmdResult,
) -> CmdResult {
    let key = args[2];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Err(CmdError::msg("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
    };
    let s = as_stream_mut(e)?;
    if need_group && !s.groups.contains_key(args[3]) {
        return Err(no_group_for_key(key, args[3]));
    }
    let r = f(ctx, s);
    if r.is_ok() {
        shard.touch(key);
    }
    r
}

/// Parses MKSTREAM / ENTRIESREAD after `XGROUP CREATE|SETID key group id`.
fn parse_group_opts(args: &[&[u8]], create: bool) -> Result<(bool, i64), CmdError> {
    let mut mkstream = false;
    let mut entries_read = ENTRIES_READ_INVALID;
    let mut i = 5;
    while i < args.len() {
        if create && is(args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if is(args[i], "entriesread") && i + 1 < args.len() {
            entries_read = parse_int(args[i + 1])?;
            if entries_read < 0 && entries_read != ENTRIES_READ_INVALID {
                return Err(CmdError::msg(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(subcommand_syntax(args));
        }
    }
    Ok((mkstream, entries_read))
}

fn subcommand_syntax(args: &[&[u8]]) -> CmdError {
    CmdError::owned(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(args[1]),
        String::from_utf8_lossy(args[0]).to_ascii_uppercase()
    ))
}

fn xgroup_create(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (mkstream, entries_read) = parse_group_opts(args, true)?;
    if args.len() > 8 {
        return Err(subcommand_syntax(args));
    }
    let key = args[2];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let exists = match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            as_stream(e)?;
            true
        }
        None if mkstream => false,
        None => return Err(CmdError::msg("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")),
    };
    let last = |s: Option<&Stream>| s.map_or(StreamId::MIN, |s| s.last_id);
    let id = if args[4] == b"$" {
        match shard.peek(h, key, ctx.now_ms) {
            Some(e) => last(as_stream(e).ok()),
            None => StreamId::MIN,
        }
    } else {
        parse_strict(args[4])?
    };
    let s = stream_in(ctx, &mut shard, h, key, !exists)?;
    if s.groups.contains_key(args[3]) {
        return Err(CmdError::msg(
            "BUSYGROUP Consumer Group name already exists",
        ));
    }
    s.groups
        .insert(args[3].into(), Group::new(id, entries_read));
    shard.touch(key);
    drop(shard);
    dirty(ctx, 1);
    notify_in(ctx, "xgroup-create", key);
    Ok(Frame::ok())
}

fn xgroup_setid(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (_, entries_read) = parse_group_opts(args, false)?;
    if args.len() != 5 && args.len() != 7 {
        return Err(subcommand_syntax(args));
    }
    with_group_stream(ctx, args, true, |ctx, s| {
        let id = if args[4] == b"$" {
            s.last_id
        } else {
            parse_id_full(args[4], 0, false, false)?.0
        };
        let g = s.groups.get_mut(args[3]).expect("group checked");
        g.last_id = id;
        g.entries_read = entries_read;
        dirty(ctx, 1);
        notify_in(ctx, "xgroup-setid", args[2]);
        Ok(Frame::ok())
    })
}

fn xgroup_destroy(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    with_group_stream(ctx, args, false, |ctx, s| {
        if s.groups.remove(args[3]).is_some() {
            dirty(ctx, 1);
            notify_in(ctx, "xgroup-destroy", args[2]);
            Ok(Frame::Integer(1))
        } else {
            Ok(Frame::Integer(0))
        }
    })
}

fn xgroup_createconsumer(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    with_group_stream(ctx, args, true, |ctx, s| {
        let g = s.groups.get_mut(args[3]).expect("group checked");
        if g.consumers.contains_key(args[4]) {
            return Ok(Frame::Integer(0));
        }
        let c = Consumer::new(args[4], ctx.now_ms);
        g.consumers.insert(c.name.clone(), c);
        dirty(ctx, 1);
        notify_in(ctx, "xgroup-createconsumer", args[2]);
        Ok(Frame::Integer(1))
    })
}

fn xgroup_delconsumer(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    with_group_stream(ctx, args, true, |ctx, s| {
        let g = s.groups.get_mut(args[3]).expect("group checked");
        let Some(c) = g.consumers.remove(args[4]) else {
            return Ok(Frame::Integer(0));
        };
        for id in &c.pel {
            g.pel.remove(id);
        }
        dirty(ctx, 1);
        notify_in(ctx, "xgroup-delconsumer", args[2]);
        Ok(Frame::Integer(c.pel.len() as i64))
    })
}

fn xgroup_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    super::help_reply(
        args,
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    )
}

fn xsetid(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let id = parse_strict(args[2])?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(args[i], "entriesadded") && more > 0 {
            entries_added = parse_int(args[i + 1])?;
            if entries_added < 0 {
                return Err(CmdError::msg("ERR entries_added must be positive"));
            }
            i += 2;
        } else if is(args[i], "maxdeletedid") && more > 0 {
            max_xdel = parse_strict(args[i + 1])?;
            if id < max_xdel {
                return Err(CmdError::msg("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"));
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Err(CmdError::NoSuchKey);
    };
    let s = as_stream_mut(e)?;
    if id < s.max_deleted_id {
        return Err(CmdError::msg(
            "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id",
        ));
    }
    if s.length > 0 {
        if id < s.last_valid_id() {
            return Err(CmdError::msg(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            return Err(CmdError::msg("ERR The entries_added specified in XSETID is smaller than the target stream length"));
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_id = max_xdel;
    }
    shard.touch(key);
    drop(shard);
    dirty(ctx, 1);
    notify_in(ctx, "xsetid", key);
    Ok(Frame::ok())
}

// ------------------------------------------------------------ PEL commands

fn xack(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    // A read lookup, as Redis's: it counts a keyspace hit or miss.
    let e = lookup_read(ctx, &mut shard, h, key);
    let Some(e) = e else {
        return Ok(Frame::Integer(0));
    };
    let s = as_stream_mut(e)?;
    let Some(g) = s.groups.get_mut(args[2]) else {
        return Ok(Frame::Integer(0));
    };
    let ids = args[3..]
        .iter()
        .map(|a| parse_strict(a))
        .collect::<Result<Vec<_>, _>>()?;
    let n = ids.iter().filter(|id| g.ack(id)).count();
    if n > 0 {
        shard.touch(key);
        drop(shard);
        dirty(ctx, n as u64);
    }
    Ok(Frame::Integer(n as i64))
}

fn xpending(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let justinfo = args.len() == 3;
    if args.len() != 3 && !(6..=9).contains(&args.len()) {
        return Err(CmdError::Syntax);
    }
    let mut range = None;
    let mut consumer: Option<&[u8]> = None;
    let mut minidle = 0i64;
    if args.len() >= 6 {
        let mut si = 3;
        if is(args[3], "idle") {
            minidle = parse_int(args[4])?;
            if args.len() < 8 {
                return Err(CmdError::Syntax);
            }
            si += 2;
        }
        let count = parse_int(args[si + 2])?.max(0) as usize;
        let start = parse_bound(args[si], true)?;
        let end = parse_bound(args[si + 1], false)?;
        if si + 3 < args.len() {
            consumer = Some(args[si + 3]);
        }
        range = Some((start, end, count));
    }
    let key = args[1];
    let now = ctx.now_ms;
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let s = match lookup_read(ctx, &mut shard, h, key) {
        Some(e) => Some(&*as_stream_mut(e)?),
        None => None,
    };
    let Some(g) = s.and_then(|s| s.groups.get(args[2])) else {
        return Err(no_group(key, args[2]));
    };
    if justinfo {
        if g.pel.is_empty() {
            return Ok(Frame::Array(vec![
                Frame::Integer(0),
                Frame::Null,
                Frame::Null,
                Frame::NullArray,
            ]));
        }
        let first = *g.pel.keys().next().expect("non-empty");
        let last = *g.pel.keys().next_back().expect("non-empty");
        let per: Vec<Frame> = g
            .consumers
            .values()
            .filter(|c| !c.pel.is_empty())
            .map(|c| {
                Frame::Array(vec![
                    Frame::bulk(&*c.name),
                    Frame::Bulk(c.pel.len().to_string().into_bytes()),
                ])
            })
            .collect();
        return Ok(Frame::Array(vec![
            Frame::Integer(g.pel.len() as i64),
            id_frame(first),
            id_frame(last),
            Frame::Array(per),
        ]));
    }
    let (start, end, mut count) = range.expect("range given");
    let ids: Box<dyn Iterator<Item = StreamId>> = match consumer {
        Some(name) => match g.consumers.get(name) {
            None => return Ok(Frame::Array(vec![])),
            Some(c) if start <= end => Box::new(c.pel.range(start..=end).copied()),
            Some(_) => Box::new(std::iter::empty()),
        },
        None if start <= end => Box::new(g.pel.range(start..=end).map(|(k, _)| *k)),
        None => Box::new(std::iter::empty()),
    };
    let mut out = Vec::new();
    for id in ids {
        if count == 0 {
            break;
        }
        let n = &g.pel[&id];
        let idle = now as i64 - n.delivery_time as i64;
        if minidle != 0 && idle < minidle {
            continue;
        }
        count -= 1;
        out.push(Frame::Array(vec![
            id_frame(id),
            Frame::bulk(&*n.consumer),
            Frame::Integer(idle.max(0)),
            Frame::Integer(n.delivery_count as i64),
        ]));
    }
    Ok(Frame::Array(out))
}

/// Gives a pending entry (created if missing, for FORCE) to `consumer`.
fn claim_one(
    g: &mut Group,
    id: StreamId,
    consumer: &Arc<[u8]>,
    delivery_time: u64,
    retry: Option<u64>,
    justid: bool,
) {
    let old = g.pel.get(&id).map(|n| n.consumer.clone());
    if let Some(old) = &old {
        if **old != **consumer {
            if let Some(c) = g.consumers.get_mut(old) {
                c.pel.remove(&id);
            }
        }
    }
    let n = g.pel.entry(id).or_insert(Nack {
        consumer: consumer.clone(),
        delivery_time,
        delivery_count: 1,
    });
    n.delivery_time = delivery_time;
    match retry {
        Some(r) => n.delivery_count = r,
        None if !justid => n.delivery_count += 1,
        None => {}
    }
    n.consumer = consumer.clone();
    if let Some(c) = g.consumers.get_mut(&**consumer) {
        c.pel.insert(id);
    }
}

/// The consumer `name`, created if missing, marked seen now: its shared
/// name and whether it was created.
fn get_consumer(g: &mut Group, name: &[u8], now_ms: u64) -> (Arc<[u8]>, bool) {
    match g.consumers.get_mut(name) {
        Some(c) => {
            c.seen_time = now_ms;
            (c.name.clone(), false)
        }
        None => {
            let c = Consumer::new(name, now_ms);
            let n = c.name.clone();
            g.consumers.insert(n.clone(), c);
            (n, true)
        }
    }
}

fn xclaim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms;
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    // A read lookup, as Redis's: it counts a keyspace hit or miss.
    let e = lookup_read(ctx, &mut shard, h, key);
    let s = match e {
        Some(e) => Some(as_stream_mut(e)?),
        None => None,
    };
    let Some(s) = s.filter(|s| s.groups.contains_key(args[2])) else {
        return Err(no_group(key, args[2]));
    };
    let minidle = parse_int(args[4])
        .map_err(|_| CmdError::msg("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict(args[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let mut delivery: i64 = -1;
    let mut retry: Option<u64> = None;
    let mut force = false;
    let mut justid = false;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let o = args[j];
        if is(o, "force") {
            force = true;
        } else if is(o, "justid") {
            justid = true;
        } else if is(o, "idle") && more > 0 {
            j += 1;
            let v = parse_int(args[j])
                .map_err(|_| CmdError::msg("ERR Invalid IDLE option argument for XCLAIM"))?;
            delivery = (now as i64).wrapping_sub(v);
        } else if is(o, "time") && more > 0 {
            j += 1;
            delivery = parse_int(args[j])
                .map_err(|_| CmdError::msg("ERR Invalid TIME option argument for XCLAIM"))?;
        } else if is(o, "retrycount") && more > 0 {
            j += 1;
            let v = parse_int(args[j])
                .map_err(|_| CmdError::msg("ERR Invalid RETRYCOUNT option argument for XCLAIM"))?;
            retry = Some(v as u64);
        } else if is(o, "lastid") && more > 0 {
            j += 1;
            last_id = parse_strict(args[j])?;
        } else {
            return Err(CmdError::owned(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(o)
            )));
        }
        j += 1;
    }
    let mut g = s.groups.remove(args[2]).expect("group checked");
    if last_id > g.last_id {
        g.last_id = last_id;
    }
    let delivery = if delivery == -1 || delivery < 0 || delivery > now as i64 {
        now
    } else {
        delivery as u64
    };
    let (cname, created) = get_consumer(&mut g, args[3], now);
    let mut out = Vec::new();
    let mut changes = 0u64;
    for id in ids {
        let exists = s.contains(id);
        if !exists {
            if g.ack(&id) {
                changes += 1;
            }
            continue;
        }
        let pending = g.pel.get(&id);
        if pending.is_none() && !force {
            continue;
        }
        if let Some(n) = pending {
            if minidle != 0 && (now as i64 - n.delivery_time as i64) < minidle {
                continue;
            }
        }
        claim_one(&mut g, id, &cname, delivery, retry, justid);
        out.push(if justid {
            id_frame(id)
        } else {
            entry_frame(&s.get(id).expect("exists"))
        });
        if let Some(c) = g.consumers.get_mut(&*cname) {
            c.active_time = now as i64;
        }
        changes += 1;
    }
    s.groups.insert(args[2].into(), g);
    shard.touch(key);
    drop(shard);
    if created {
        notify_in(ctx, "xgroup-createconsumer", key);
        changes += 1;
    }
    dirty(ctx, changes.max(1));
    Ok(Frame::Array(out))
}

fn xautoclaim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms;
    let minidle = parse_int(args[4])
        .map_err(|_| CmdError::msg("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = parse_bound(args[5], true)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(args[j], "count") && more > 0 {
            let max = i64::MAX / 16;
            count = match parse_int(args[j + 1]) {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => return Err(CmdError::msg("ERR COUNT must be > 0")),
            };
            j += 1;
        } else if is(args[j], "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    // A read lookup, as Redis's: it counts a keyspace hit or miss.
    let e = lookup_read(ctx, &mut shard, h, key);
    let s = match e {
        Some(e) => Some(as_stream_mut(e)?),
        None => None,
    };
    let Some(s) = s.filter(|s| s.groups.contains_key(args[2])) else {
        return Err(no_group(key, args[2]));
    };
    let mut g = s.groups.remove(args[2]).expect("group checked");
    let (cname, created) = get_consumer(&mut g, args[3], now);
    let mut attempts = count.saturating_mul(10);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut cursor = start;
    let mut next: Option<StreamId> = g.pel.range(cursor..).next().map(|(k, _)| *k);
    while attempts > 0 && count > 0 {
        let Some(id) = next else { break };
        attempts -= 1;
        cursor = id;
        next = g
            .pel
            .range((
                std::ops::Bound::Excluded(cursor),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .map(|(k, _)| *k);
        if !s.contains(id) {
            g.ack(&id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        let n = &g.pel[&id];
        if minidle != 0 && (now as i64 - n.delivery_time as i64) < minidle {
            continue;
        }
        claim_one(&mut g, id, &cname, now, None, justid);
        claimed.push(if justid {
            id_frame(id)
        } else {
            entry_frame(&s.get(id).expect("exists"))
        });
        count -= 1;
        if let Some(c) = g.consumers.get_mut(&*cname) {
            c.active_time = now as i64;
        }
    }
    let changes = (claimed.len() + deleted.len()) as u64;
    s.groups.insert(args[2].into(), g);
    shard.touch(key);
    drop(shard);
    if created {
        notify_in(ctx, "xgroup-createconsumer", key);
    }
    dirty(ctx, changes + u64::from(created));
    Ok(Frame::Array(vec![
        id_frame(next.unwrap_or(StreamId::MIN)),
        Frame::Array(claimed),
        Frame::Array(deleted.into_iter().map(id_frame).collect()),
    ]))
}

// ------------------------------------------------------------ XINFO

fn xinfo_help(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    super::help_reply(
        args,
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    )
}

fn kv(k: &str, v: Frame) -> (Frame, Frame) {
    (Frame::bulk(k), v)
}

fn opt_int(v: Option<i64>) -> Frame {
    v.map_or(Frame::Null, Frame::Integer)
}

fn entries_read_frame(g: &Group) -> Frame {
    opt_int((g.entries_read != ENTRIES_READ_INVALID).then_some(g.entries_read))
}

fn xinfo_stream(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let reply = read_existing(ctx, args[2], |s| {
        let opts = &args[3..];
        let mut full = false;
        let mut count: i64 = 10;
        if !opts.is_empty() {
            if (opts.len() != 1 && opts.len() != 3) || !is(opts[0], "full") {
                return Err(subcommand_syntax(args));
            }
            full = true;
            if opts.len() == 3 {
                if !is(opts[1], "count") {
                    return Err(subcommand_syntax(args));
                }
                count = parse_int(opts[2])?;
                if count < 0 {
                    count = 10;
                }
            }
        }
        let limit = if count == 0 {
            usize::MAX
        } else {
            count as usize
        };
        let mut m = vec![
            kv("length", Frame::Integer(s.length as i64)),
            kv("radix-tree-keys", Frame::Integer(s.node_count() as i64)),
            kv(
                "radix-tree-nodes",
                Frame::Integer(rax_nodes(s.node_count())),
            ),
            kv("last-generated-id", id_frame(s.last_id)),
            kv("max-deleted-entry-id", id_frame(s.max_deleted_id)),
            kv("entries-added", Frame::Integer(s.entries_added as i64)),
            kv("recorded-first-entry-id", id_frame(s.first_id)),
        ];
        if !full {
            m.push(kv("groups", Frame::Integer(s.groups.len() as i64)));
            m.push(kv(
                "first-entry",
                s.edge(false).map_or(Frame::Null, |e| entry_frame(&e)),
            ));
            m.push(kv(
                "last-entry",
                s.edge(true).map_or(Frame::Null, |e| entry_frame(&e)),
            ));
            return Ok(Frame::Map(m));
        }
        m.push(kv(
            "entries",
            Frame::Array(
                s.range(StreamId::MIN, StreamId::MAX, false)
                    .take(limit)
                    .map(|e| entry_frame(&e))
                    .collect(),
            ),
        ));
        let groups = s
            .groups
            .iter()
            .map(|(name, g)| {
                let pending = g
                    .pel
                    .iter()
                    .take(limit)
                    .map(|(id, n)| {
                        Frame::Array(vec![
                            id_frame(*id),
                            Frame::bulk(&*n.consumer),
                            Frame::Integer(n.delivery_time as i64),
                            Frame::Integer(n.delivery_count as i64),
                        ])
                    })
                    .collect();
                let consumers = g
                    .consumers
                    .values()
                    .map(|c| {
                        let cp = c
                            .pel
                            .iter()
                            .take(limit)
                            .map(|id| {
                                let n = &g.pel[id];
                                Frame::Array(vec![
                                    id_frame(*id),
                                    Frame::Integer(n.delivery_time as i64),
                                    Frame::Integer(n.delivery_count as i64),
                                ])
                            })
                            .collect();
                        Frame::Map(vec![
                            kv("name", Frame::bulk(&*c.name)),
                            kv("seen-time", Frame::Integer(c.seen_time as i64)),
                            kv("active-time", Frame::Integer(c.active_time)),
                            kv("pel-count", Frame::Integer(c.pel.len() as i64)),
                            kv("pending", Frame::Array(cp)),
                        ])
                    })
                    .collect();
                Frame::Map(vec![
                    kv("name", Frame::bulk(name)),
                    kv("last-delivered-id", id_frame(g.last_id)),
                    kv("entries-read", entries_read_frame(g)),
                    kv("lag", opt_int(s.lag(g))),
                    kv("pel-count", Frame::Integer(g.pel.len() as i64)),
                    kv("pending", Frame::Array(pending)),
                    kv("consumers", Frame::Array(consumers)),
                ])
            })
            .collect();
        m.push(kv("groups", Frame::Array(groups)));
        Ok(Frame::Map(m))
    })?;
    Ok(reply)
}

/// A node count for XINFO's radix-tree-nodes: Ferrokey keeps nodes in a
/// B-tree, so this reports the nodes a radix tree over the same keys
/// would have at least (the keys plus the root).
fn rax_nodes(keys: usize) -> i64 {
    keys as i64 + 1
}

fn xinfo_groups(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let reply = read_existing(ctx, args[2], |s| {
        Ok(Frame::Array(
            s.groups
                .iter()
                .map(|(name, g)| {
                    Frame::Map(vec![
                        kv("name", Frame::bulk(name)),
                        kv("consumers", Frame::Integer(g.consumers.len() as i64)),
                        kv("pending", Frame::Integer(g.pel.len() as i64)),
                        kv("last-delivered-id", id_frame(g.last_id)),
                        kv("entries-read", entries_read_frame(g)),
                        kv("lag", opt_int(s.lag(g))),
                    ])
                })
                .collect(),
        ))
    })?;
    Ok(reply)
}

fn xinfo_consumers(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms as i64;
    let reply = read_existing(ctx, args[2], |s| {
        let Some(g) = s.groups.get(args[3]) else {
            return Err(no_group_for_key(args[2], args[3]));
        };
        Ok(Frame::Array(
            g.consumers
                .values()
                .map(|c| {
                    let inactive = if c.active_time != -1 {
                        now - c.active_time
                    } else {
                        -1
                    };
                    Frame::Map(vec![
                        kv("name", Frame::bulk(&*c.name)),
                        kv("pending", Frame::Integer(c.pel.len() as i64)),
                        kv("idle", Frame::Integer((now - c.seen_time as i64).max(0))),
                        kv("inactive", Frame::Integer(inactive)),
                    ])
                })
                .collect(),
        ))
    })?;
    Ok(reply)
}

/// Keys of XREAD / XREADGROUP for COMMAND GETKEYS: the first half of the
/// arguments after STREAMS.
pub fn read_get_keys(args: &[&[u8]]) -> Option<Vec<usize>> {
    let grouped = is(args[0], "xreadgroup");
    let mut i = 1;
    while i < args.len() {
        let a = args[i];
        if is(a, "streams") {
            let rest = args.len() - i - 1;
            if rest == 0 || !rest.is_multiple_of(2) {
                return None;
            }
            return Some((i + 1..i + 1 + rest / 2).collect());
        }
        if (is(a, "block") || is(a, "count")) && i + 1 < args.len() {
            i += 2;
        } else if grouped && is(a, "group") {
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}
