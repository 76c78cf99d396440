//! List commands, including the blocking BLPOP family (the waiting itself
//! lives in `crate::blocking`).

use ferrokey_resp::{Bulks, Frame};

use super::{dirty, is, lookup_read, lookup_write, parse_int};
use super::{notify, NOTIFY_GENERIC, NOTIFY_LIST};
use crate::blocking::{block_or_run, parse_timeout, Op};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked, Shard, Slot};
use crate::types::list::List;
use crate::types::{as_int, Limits};
use crate::value::Value;

const LIST: &[&str] = &["@list"];

/// The list family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, lpush)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, rpush)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, lpushx)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "2.2.0", "Prepends one or more elements to a list only when the list exists."),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, rpushx)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "2.2.0", "Appends an element to a list only when the list exists."),
    CommandSpec::new("lpop", -2, WRITE | FAST, lpop)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    CommandSpec::new("rpop", -2, WRITE | FAST, rpop)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    CommandSpec::new("llen", 2, READONLY | FAST, llen)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Returns the length of a list."),
    CommandSpec::new("lrange", 4, READONLY, lrange)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Returns a range of elements from a list."),
    CommandSpec::new("lindex", 3, READONLY, lindex)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Returns an element from a list by its index."),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, lset)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Sets the value of an element in a list by its index."),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, linsert)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "2.2.0", "Inserts an element before or after another element in a list."),
    CommandSpec::new("lrem", 4, WRITE, lrem)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed."),
    CommandSpec::new("ltrim", 4, WRITE, ltrim)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
    CommandSpec::new("lpos", -3, READONLY, lpos)
        .keys(1, 1, 1)
        .acl(LIST)
        .doc("list", "6.0.6", "Returns the index of matching elements in a list."),
    CommandSpec::new("lmove", 5, WRITE | DENYOOM, lmove)
        .keys(1, 2, 1)
        .specs(MOVE_SPECS)
        .acl(LIST)
        .doc("list", "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, rpoplpush)
        .keys(1, 2, 1)
        .specs(MOVE_SPECS)
        .acl(LIST)
        .doc("list", "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
    // Redis declares no first/last key for LMPOP (the keys follow
    // numkeys); the first key's position is given so the table stays tidy.
    CommandSpec::new("lmpop", -4, WRITE | MOVABLEKEYS, lmpop)
        .keys(2, 2, 1)
        .acl(LIST)
        .doc("list", "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."),
    CommandSpec::new("blpop", -3, WRITE | BLOCKING, blpop)
        .keys(1, -2, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "DELETE"], 1, -2, 1)])
        .acl(LIST)
        .doc("list", "2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    CommandSpec::new("brpop", -3, WRITE | BLOCKING, brpop)
        .keys(1, -2, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "DELETE"], 1, -2, 1)])
        .acl(LIST)
        .doc("list", "2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    CommandSpec::new("blmove", 6, WRITE | DENYOOM | BLOCKING, blmove)
        .keys(1, 2, 1)
        .specs(MOVE_SPECS)
        .acl(LIST)
        .doc("list", "6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."),
    CommandSpec::new("brpoplpush", 4, WRITE | DENYOOM | BLOCKING, brpoplpush)
        .keys(1, 2, 1)
        .specs(MOVE_SPECS)
        .acl(LIST)
        .doc("list", "2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."),
    // As LMPOP: the keys follow numkeys; the first key's position is given.
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, blmpop)
        .keys(3, 3, 1)
        .acl(LIST)
        .doc("list", "7.0.0", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
];

/// Key specs of the moving commands: the source is read and emptied, the
/// destination grows.
const MOVE_SPECS: &[KeySpec] = &[
    KeySpec::new(&["RW", "ACCESS", "DELETE"], 1, 0, 1),
    KeySpec::new(&["RW", "INSERT"], 2, 0, 1),
];

/// The list in an entry, or WRONGTYPE.
pub fn as_list(e: &Slot) -> Result<&List, CmdError> {
    match e.value() {
        Value::List(l) => Ok(l),
        _ => Err(CmdError::WrongType),
    }
}

/// The list in an entry, mutable, or WRONGTYPE.
pub fn as_list_mut(e: &mut Slot) -> Result<&mut List, CmdError> {
    match e.value_mut() {
        Value::List(l) => Ok(l),
        _ => Err(CmdError::WrongType),
    }
}

fn fill(ctx: &Ctx<'_>) -> i64 {
    Limits::of(ctx).list_max_listpack_size
}

/// Raw bytes a push of `elems` adds, as Redis counts them before deciding
/// on a conversion.
fn add_bytes(elems: &[&[u8]]) -> usize {
    elems.iter().map(|e| e.len()).sum()
}

fn push_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], head: bool, only_existing: bool) -> CmdResult {
    let key = args[1];
    let elems = &args[2..];
    let fill = fill(ctx);
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let len = match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            let l = as_list_mut(e)?;
            l.grow(fill, add_bytes(elems), elems.len());
            for el in elems {
                l.push(fill, el, head);
            }
            l.len()
        }
        None if only_existing => return Ok(Frame::Integer(0)),
        None => {
            let mut l = List::new();
            l.grow(fill, add_bytes(elems), elems.len());
            for el in elems {
                l.push(fill, el, head);
            }
            let n = l.len();
            super::insert_key(
                ctx,
                &mut shard,
                ctx.client.db,
                h,
                key,
                Value::List(Box::new(l)),
                0,
                ctx.new_stamp(),
            );
            n
        }
    };
    notify(ctx, NOTIFY_LIST, if head { "lpush" } else { "rpush" }, key);
    dirty(ctx, elems.len() as u64);
    Ok(Frame::Integer(len as i64))
}

fn lpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, true, false)
}

fn rpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, false, false)
}

fn lpushx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, true, true)
}

fn rpushx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, args, false, true)
}

/// Announces `event`, then removes the key (announcing `del`) if its list
/// is empty, otherwise lets the encoding shrink back. Call after removing
/// elements.
fn after_removal(ctx: &Ctx<'_>, shard: &mut Shard, h: u64, key: &[u8], event: &str) {
    notify(ctx, NOTIFY_LIST, event, key);
    let fill = fill(ctx);
    let empty = match shard.peek(h, key, ctx.now_ms).map(|e| e.value()) {
        Some(Value::List(l)) => l.is_empty(),
        _ => false,
    };
    if empty {
        shard.remove(h, key);
        notify(ctx, NOTIFY_GENERIC, "del", key);
    } else if let Some((_, Some(e))) = Some(shard.lookup(h, key, ctx.now_ms)) {
        if let Value::List(l) = e.value_mut() {
            l.shrink(fill);
        }
    }
}

/// Pops up to `count` elements from the key's list (which exists).
fn pop_n(
    ctx: &Ctx<'_>,
    shard: &mut Shard,
    h: u64,
    key: &[u8],
    head: bool,
    count: usize,
) -> Vec<Frame> {
    let mut out = Vec::new();
    if let (_, Some(e)) = shard.lookup(h, key, ctx.now_ms) {
        if let Value::List(l) = e.value_mut() {
            for _ in 0..count {
                match l.pop(head) {
                    Some(v) => out.push(Frame::Bulk(v.into_vec())),
                    None => break,
                }
            }
        }
    }
    after_removal(ctx, shard, h, key, if head { "lpop" } else { "rpop" });
    dirty(ctx, out.len() as u64);
    out
}

fn pop_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], head: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(ctx.arity_error());
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_int(a) {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => return Err(CmdError::msg("ERR value is out of range, must be positive")),
        },
    };
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    match lookup_write(ctx, &mut shard, h, key) {
        None => {
            return Ok(if count.is_some() {
                Frame::NullArray
            } else {
                Frame::Null
            })
        }
        Some(e) => {
            as_list(e)?;
        }
    }
    match count {
        Some(0) => Ok(Frame::Array(Vec::new())),
        Some(n) => Ok(Frame::Array(pop_n(ctx, &mut shard, h, key, head, n))),
        None => Ok(pop_n(ctx, &mut shard, h, key, head, 1)
            .pop()
            .unwrap_or(Frame::Null)),
    }
}

fn lpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, args, true)
}

fn rpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, args, false)
}

fn llen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    Ok(Frame::Integer(
        match lookup_read(ctx, &mut shard, h, args[1]) {
            None => 0,
            Some(e) => as_list(e)?.len() as i64,
        },
    ))
}

/// Clamps Redis-style `start`/`end` indexes to `len`; None when empty.
pub fn clamp_range(mut start: i64, mut end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

fn lrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (start, end) = (parse_int(args[2])?, parse_int(args[3])?);
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, args[1]) else {
        return Ok(Frame::Array(Vec::new()));
    };
    let l = as_list(e)?;
    let Some((s, e)) = clamp_range(start, end, l.len()) else {
        return Ok(Frame::Array(Vec::new()));
    };
    // Sized first: one allocation for all the elements' bytes.
    let bytes = l.range(s, e).map(<[u8]>::len).sum();
    let mut reply = Bulks::with_capacity(e - s + 1, bytes);
    l.range(s, e).for_each(|x| reply.push(x));
    Ok(Frame::Bulks(reply))
}

fn lindex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, args[1]) else {
        return Ok(Frame::Null);
    };
    let l = as_list(e)?;
    let mut i = parse_int(args[2])?;
    if i < 0 {
        i += l.len() as i64;
    }
    if i < 0 {
        return Ok(Frame::Null);
    }
    Ok(l.get(i as usize).map_or(Frame::Null, Frame::bulk))
}

fn lset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let fill = fill(ctx);
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, args[1]) else {
        return Err(CmdError::NoSuchKey);
    };
    let l = as_list_mut(e)?;
    // Redis 7.2 parses a 64-bit index but passes it on as a C `int`, so
    // only its low 32 bits count: LSET l 9223372036854775807 x sets the
    // last element (7.0 said "index out of range"). Follow 7.2.
    let mut i = i64::from(parse_int(args[2])? as i32);
    // Redis converts for the new value before it looks at the index, so
    // a big value turns the list into a quicklist even when the index is
    // out of range.
    l.grow(fill, args[3].len(), 1);
    if i < 0 {
        i += l.len() as i64;
    }
    if i < 0 || i as usize >= l.len() {
        return Err(CmdError::msg("ERR index out of range"));
    }
    l.set(i as usize, args[3]);
    l.shrink(fill);
    notify(ctx, NOTIFY_LIST, "lset", args[1]);
    dirty(ctx, 1);
    Ok(Frame::ok())
}

fn linsert(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let after = if is(args[2], "after") {
        true
    } else if is(args[2], "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let fill = fill(ctx);
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, args[1]) else {
        return Ok(Frame::Integer(0));
    };
    let l = as_list_mut(e)?;
    // Converted for the new element before the pivot is searched for, as
    // Redis does: a missing pivot still leaves a quicklist.
    l.grow(fill, args[4].len(), 1);
    let Some(pivot) = l.iter().position(|x| x == args[3]) else {
        return Ok(Frame::Integer(-1));
    };
    l.insert(fill, pivot, after, args[4]);
    let n = l.len();
    notify(ctx, NOTIFY_LIST, "linsert", args[1]);
    dirty(ctx, 1);
    Ok(Frame::Integer(n as i64))
}

fn lrem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let count = parse_int(args[2])?;
    let (key, elem) = (args[1], args[3]);
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let l = as_list_mut(e)?;
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut idx: Vec<usize> = if count < 0 {
        let n = l.len();
        l.iter()
            .rev()
            .enumerate()
            .filter(|(_, x)| *x == elem)
            .take(limit)
            .map(|(i, _)| n - 1 - i)
            .collect()
    } else {
        l.iter()
            .enumerate()
            .filter(|(_, x)| *x == elem)
            .take(limit)
            .map(|(i, _)| i)
            .collect()
    };
    idx.sort_unstable();
    l.remove_sorted(&idx);
    let removed = idx.len();
    if removed > 0 {
        after_removal(ctx, &mut shard, h, key, "lrem");
        dirty(ctx, removed as u64);
    }
    Ok(Frame::Integer(removed as i64))
}

fn ltrim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (start, end) = (parse_int(args[2])?, parse_int(args[3])?);
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::ok());
    };
    let l = as_list_mut(e)?;
    let len = l.len();
    let (ltrim, rtrim) = match clamp_range(start, end, len) {
        None => (len, 0),
        Some((s, e)) => (s, len - e - 1),
    };
    for _ in 0..ltrim {
        l.pop(true);
    }
    for _ in 0..rtrim {
        l.pop(false);
    }
    after_removal(ctx, &mut shard, h, key, "ltrim");
    dirty(ctx, (ltrim + rtrim) as u64);
    Ok(Frame::ok())
}

fn lpos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut i = 3;
    while i < args.len() {
        let a = args[i];
        let more = i + 1 < args.len();
        if is(a, "rank") && more {
            rank = parse_int(args[i + 1])?;
            if rank == i64::MIN {
                return Err(CmdError::msg("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
            }
            if rank == 0 {
                return Err(CmdError::msg("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if is(a, "count") && more {
            match parse_int(args[i + 1]) {
                Ok(n) if n >= 0 => count = Some(n),
                _ => return Err(CmdError::msg("ERR COUNT can't be negative")),
            }
        } else if is(a, "maxlen") && more {
            match parse_int(args[i + 1]) {
                Ok(n) if n >= 0 => maxlen = n,
                _ => return Err(CmdError::msg("ERR MAXLEN can't be negative")),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let h = ctx.hash(args[1]);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, args[1]) else {
        return Ok(if count.is_some() {
            Frame::Array(Vec::new())
        } else {
            Frame::Null
        });
    };
    let l = as_list(e)?;
    let len = l.len();
    let scan = if maxlen == 0 {
        len
    } else {
        (maxlen as usize).min(len)
    };
    let want = match count {
        None => 1,
        Some(0) => usize::MAX,
        Some(n) => n as usize,
    };
    let skip = rank.unsigned_abs() as usize - 1;
    let found: Vec<usize> = if rank > 0 {
        l.iter()
            .take(scan)
            .enumerate()
            .filter(|(_, x)| *x == args[2])
            .map(|(i, _)| i)
            .skip(skip)
            .take(want)
            .collect()
    } else {
        l.iter()
            .rev()
            .take(scan)
            .enumerate()
            .filter(|(_, x)| *x == args[2])
            .map(|(i, _)| len - 1 - i)
            .skip(skip)
            .take(want)
            .collect()
    };
    Ok(match count {
        Some(_) => Frame::Array(
            found
                .into_iter()
                .map(|i| Frame::Integer(i as i64))
                .collect(),
        ),
        None => found
            .first()
            .map_or(Frame::Null, |&i| Frame::Integer(i as i64)),
    })
}

fn parse_where(a: &[u8]) -> Result<bool, CmdError> {
    if is(a, "left") {
        Ok(true)
    } else if is(a, "right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Moves one element from `src` to `dst` under `locked` (which holds both
/// shards): the element, or `None` when `src` is missing.
pub fn move_one(
    ctx: &mut Ctx<'_>,
    locked: &mut Locked<'_>,
    src: &[u8],
    dst: &[u8],
    from_head: bool,
    to_head: bool,
) -> Result<Option<Frame>, CmdError> {
    let fill = fill(ctx);
    let (hs, hd) = (ctx.hash(src), ctx.hash(dst));
    match lookup_write(ctx, locked.shard(hs), hs, src) {
        None => return Ok(None),
        Some(e) => {
            as_list(e)?;
        }
    }
    if src != dst {
        if let Some(e) = lookup_write(ctx, locked.shard(hd), hd, dst) {
            as_list(e)?;
        }
    }
    // The blocking forms propagate as their plain forms.
    if ctx.full_name == "brpoplpush" {
        crate::propagate::rewrite_as(&[b"RPOPLPUSH", src, dst]);
    } else if ctx.full_name == "blmove" {
        let side = |head: bool| -> &'static [u8] {
            if head {
                b"left"
            } else {
                b"right"
            }
        };
        crate::propagate::rewrite_as(&[b"LMOVE", src, dst, side(from_head), side(to_head)]);
    }
    let v = {
        let Some(e) = lookup_write(ctx, locked.shard(hs), hs, src) else {
            return Ok(None);
        };
        let l = as_list_mut(e)?;
        match l.pop(from_head) {
            Some(v) => v,
            None => return Ok(None),
        }
    };
    // Redis counts only non-integer elements' bytes for this check.
    let add = if as_int(&v).is_some() { 0 } else { v.len() };
    let dshard = locked.shard(hd);
    match lookup_write(ctx, dshard, hd, dst) {
        Some(e) => {
            let l = as_list_mut(e)?;
            l.grow(fill, add, 1);
            l.push(fill, &v, to_head);
        }
        None => {
            let mut l = List::new();
            l.grow(fill, add, 1);
            l.push(fill, &v, to_head);
            super::insert_key(
                ctx,
                &mut *dshard,
                ctx.client.db,
                hd,
                dst,
                Value::List(Box::new(l)),
                0,
                ctx.new_stamp(),
            );
        }
    }
    notify(
        ctx,
        NOTIFY_LIST,
        if to_head { "lpush" } else { "rpush" },
        dst,
    );
    let pop = if from_head { "lpop" } else { "rpop" };
    after_removal(ctx, locked.shard(hs), hs, src, pop);
    dirty(ctx, 1);
    Ok(Some(Frame::Bulk(v.into_vec())))
}

fn lmove_generic(
    ctx: &mut Ctx<'_>,
    src: &[u8],
    dst: &[u8],
    from_head: bool,
    to_head: bool,
) -> CmdResult {
    let (hs, hd) = (ctx.hash(src), ctx.hash(dst));
    let mut locked = Locked::new(ctx.db(), [hs, hd].into_iter());
    Ok(move_one(ctx, &mut locked, src, dst, from_head, to_head)?.unwrap_or(Frame::Null))
}

fn lmove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let from = parse_where(args[3])?;
    let to = parse_where(args[4])?;
    lmove_generic(ctx, args[1], args[2], from, to)
}

fn rpoplpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    lmove_generic(ctx, args[1], args[2], false, true)
}

/// Parses `numkeys` as LMPOP/ZMPOP/SINTERCARD do, checking that the keys
/// fit in `args` from `first`; returns the key count.
pub fn parse_numkeys(args: &[&[u8]], at: usize, msg: &'static str) -> Result<usize, CmdError> {
    match parse_int(args[at]) {
        Ok(n) if n > 0 => Ok(n as usize),
        _ => Err(CmdError::msg(msg)),
    }
}

/// Pops from the first non-empty list of `keys` under `locked`: one
/// element as `[key, element]` without a count, else `[key, [elements]]`;
/// `None` when every list is empty.
pub fn pop_first(
    ctx: &mut Ctx<'_>,
    locked: &mut Locked<'_>,
    keys: &[&[u8]],
    head: bool,
    count: Option<usize>,
) -> Result<Option<Frame>, CmdError> {
    for k in keys {
        let h = ctx.hash(k);
        let shard = locked.shard(h);
        let nonempty = match lookup_write(ctx, shard, h, k) {
            None => false,
            Some(e) => !as_list(e)?.is_empty(),
        };
        if nonempty {
            let mut popped = pop_n(ctx, shard, h, k, head, count.unwrap_or(1));
            // Propagated as the plain pop it came to (BLPOP, LMPOP...).
            let cmd: &[u8] = if head { b"LPOP" } else { b"RPOP" };
            match count {
                Some(_) => {
                    crate::propagate::rewrite_as(&[cmd, k, popped.len().to_string().as_bytes()])
                }
                None => crate::propagate::rewrite_as(&[cmd, k]),
            }
            let value = match count {
                Some(_) => Frame::Array(popped),
                None => popped.pop().unwrap_or(Frame::Null),
            };
            return Ok(Some(Frame::Array(vec![Frame::bulk(k), value])));
        }
    }
    Ok(None)
}

fn lmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (keys, head, count) = super::parse_mpop(args, "left", "right")?;
    let mut locked = Locked::new(ctx.db(), keys.iter().map(|k| ctx.hash(k)));
    Ok(pop_first(ctx, &mut locked, &keys, head, Some(count))?.unwrap_or(Frame::NullArray))
}

/// BLPOP / BRPOP key [key ...] timeout.
fn bpop_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], head: bool) -> CmdResult {
    let deadline = parse_timeout(args[args.len() - 1], ctx.now_ms)?;
    block_or_run(ctx, &args[1..args.len() - 1], Op::Pop { head }, deadline)
}

fn blpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bpop_generic(ctx, args, true)
}

fn brpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bpop_generic(ctx, args, false)
}

fn bmove_generic(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    from_head: bool,
    to_head: bool,
    timeout: &[u8],
) -> CmdResult {
    let deadline = parse_timeout(timeout, ctx.now_ms)?;
    let op = Op::Move {
        dst: args[2].into(),
        from_head,
        to_head,
    };
    block_or_run(ctx, &args[1..2], op, deadline)
}

fn blmove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let from = parse_where(args[3])?;
    let to = parse_where(args[4])?;
    bmove_generic(ctx, args, from, to, args[5])
}

fn brpoplpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bmove_generic(ctx, args, false, true, args[3])
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count].
fn blmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let deadline = parse_timeout(args[1], ctx.now_ms)?;
    let (keys, head, count) = super::parse_mpop(&args[1..], "left", "right")?;
    block_or_run(ctx, &keys, Op::MPop { head, count }, deadline)
}

#[cfg(test)]
pub(crate) mod tests {
    use ferrokey_resp::Frame;

    use crate::client::Client;
    use crate::config::Config;
    use crate::server::Server;

    /// A server and one client for command tests.
    pub struct H {
        pub server: Server,
        pub client: Client,
        pub now_us: u64,
    }

    impl H {
        pub fn new() -> H {
            let now_ms = 1_700_000_000_000;
            let server = Server::new(
                Config::default(),
                None,
                Box::new(crate::host::NullHost),
                now_ms,
            );
            let handle = crate::cmd::connection::new_handle(
                &server,
                "127.0.0.1:1".into(),
                "127.0.0.1:2".into(),
                -1,
                now_ms,
            );
            let client = Client::new(handle, true);
            H {
                server,
                client,
                now_us: now_ms * 1000,
            }
        }

        /// Runs a command given as whitespace-separated words.
        pub fn run(&mut self, line: &str) -> Frame {
            let words: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
            self.args(&words)
        }

        /// Runs a command given as arguments.
        pub fn args(&mut self, args: &[&[u8]]) -> Frame {
            crate::command::execute(&self.server, &mut self.client, args, self.now_us)
        }

        /// Expects an integer reply.
        pub fn int(&mut self, line: &str) -> i64 {
            match self.run(line) {
                Frame::Integer(i) => i,
                other => panic!("{line}: expected integer, got {other:?}"),
            }
        }

        /// Expects an error reply and returns its text.
        pub fn err(&mut self, line: &str) -> String {
            match self.run(line) {
                Frame::Error(e) => e.to_string(),
                other => panic!("{line}: expected error, got {other:?}"),
            }
        }

        /// The reply flattened to strings (bulk, simple, integer, double;
        /// nulls as "(nil)"), for compact assertions.
        pub fn strs(&mut self, line: &str) -> Vec<String> {
            let mut out = Vec::new();
            flatten(&self.run(line), &mut out);
            out
        }

        /// OBJECT ENCODING of a key.
        pub fn enc(&mut self, key: &str) -> String {
            self.strs(&format!("object encoding {key}")).join("")
        }
    }

    pub fn flatten(f: &Frame, out: &mut Vec<String>) {
        match f {
            Frame::Bulk(b) => out.push(String::from_utf8_lossy(b).into_owned()),
            Frame::Simple(s) => out.push(s.to_string()),
            Frame::Error(s) => out.push(format!("ERR:{s}")),
            Frame::Integer(i) => out.push(i.to_string()),
            Frame::Double(d) => {
                let mut v = Vec::new();
                ferrokey_resp::format_double(*d, &mut v);
                out.push(String::from_utf8_lossy(&v).into_owned());
            }
            Frame::Null | Frame::NullArray => out.push("(nil)".into()),
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
                v.iter().for_each(|x| flatten(x, out))
            }
            Frame::Bulks(b) => b
                .iter()
                .for_each(|x| out.push(String::from_utf8_lossy(x).into_owned())),
            Frame::Map(m) => m.iter().for_each(|(k, v)| {
                flatten(k, out);
                flatten(v, out);
            }),
            other => out.push(format!("{other:?}")),
        }
    }

    pub fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn push_pop_range() {
        let mut h = H::new();
        assert_eq!(h.int("rpush l a b c"), 3);
        assert_eq!(h.int("lpush l z"), 4);
        assert_eq!(h.strs("lrange l 0 -1"), s(&["z", "a", "b", "c"]));
        assert_eq!(h.strs("lrange l -100 100"), s(&["z", "a", "b", "c"]));
        assert_eq!(h.strs("lrange l 2 1"), s(&[]));
        assert_eq!(h.strs("lpop l"), s(&["z"]));
        assert_eq!(h.strs("rpop l 2"), s(&["c", "b"]));
        assert_eq!(h.run("lpop l 0"), Frame::Array(vec![]));
        assert_eq!(h.run("lpop nokey 0"), Frame::NullArray);
        assert_eq!(h.run("lpop nokey"), Frame::Null);
        assert_eq!(
            h.err("lpop l -1"),
            "ERR value is out of range, must be positive"
        );
        assert_eq!(
            h.err("lpop l 1 2"),
            "ERR wrong number of arguments for 'lpop' command"
        );
        assert_eq!(h.strs("rpop l 10"), s(&["a"]));
        assert_eq!(h.int("exists l"), 0);
        assert_eq!(h.int("lpushx l a"), 0);
        assert_eq!(h.int("rpushx l a"), 0);
        h.run("set s x");
        assert_eq!(h.err("lpush s a"), WRONGTYPE);
        assert_eq!(h.err("lrange s 0 1"), WRONGTYPE);
        assert_eq!(
            h.err("lrange l a 1"),
            "ERR value is not an integer or out of range"
        );
    }

    #[test]
    fn index_set_insert_rem_trim() {
        let mut h = H::new();
        h.run("rpush l a b c a b c");
        assert_eq!(h.strs("lindex l -1"), s(&["c"]));
        assert_eq!(h.strs("lindex l 10"), s(&["(nil)"]));
        assert_eq!(h.run("lset l 1 B"), Frame::ok());
        assert_eq!(h.err("lset l 10 B"), "ERR index out of range");
        assert_eq!(h.err("lset nokey 0 B"), "ERR no such key");
        assert_eq!(h.int("linsert l before c X"), 7);
        assert_eq!(h.int("linsert l after nope X"), -1);
        assert_eq!(h.int("linsert nokey after a X"), 0);
        assert_eq!(h.err("linsert l middle a X"), "ERR syntax error");
        assert_eq!(
            h.strs("lrange l 0 -1"),
            s(&["a", "B", "X", "c", "a", "b", "c"])
        );
        assert_eq!(h.int("lrem l -1 c"), 1);
        assert_eq!(h.strs("lrange l 0 -1"), s(&["a", "B", "X", "c", "a", "b"]));
        assert_eq!(h.int("lrem l 0 a"), 2);
        assert_eq!(h.run("ltrim l 1 -1"), Frame::ok());
        assert_eq!(h.strs("lrange l 0 -1"), s(&["X", "c", "b"]));
        assert_eq!(h.run("ltrim l 5 10"), Frame::ok());
        assert_eq!(h.int("exists l"), 0);
    }

    #[test]
    fn lpos_options() {
        let mut h = H::new();
        h.run("rpush l a b c 1 2 3 c c");
        assert_eq!(h.int("lpos l c"), 2);
        assert_eq!(h.int("lpos l c rank 2"), 6);
        assert_eq!(h.int("lpos l c rank -1"), 7);
        assert_eq!(h.strs("lpos l c count 0"), s(&["2", "6", "7"]));
        assert_eq!(h.strs("lpos l c count 2 rank -1"), s(&["7", "6"]));
        assert_eq!(h.strs("lpos l c count 0 maxlen 7"), s(&["2", "6"]));
        assert_eq!(h.run("lpos l x"), Frame::Null);
        assert_eq!(h.run("lpos nokey x count 1"), Frame::Array(vec![]));
        assert!(h
            .err("lpos l c rank 0")
            .starts_with("ERR RANK can't be zero"));
        assert_eq!(h.err("lpos l c count -1"), "ERR COUNT can't be negative");
        assert_eq!(h.err("lpos l c maxlen -1"), "ERR MAXLEN can't be negative");
        assert_eq!(h.err("lpos l c bogus 1"), "ERR syntax error");
    }

    #[test]
    fn lmove_lmpop() {
        let mut h = H::new();
        h.run("rpush a 1 2 3");
        assert_eq!(h.strs("lmove a b left right"), s(&["1"]));
        assert_eq!(h.strs("rpoplpush a a"), s(&["3"]));
        assert_eq!(h.strs("lrange a 0 -1"), s(&["3", "2"]));
        assert_eq!(h.err("lmove a b up down"), "ERR syntax error");
        assert_eq!(h.run("lmove nokey b left left"), Frame::Null);
        h.run("set str x");
        assert_eq!(h.err("lmove a str left left"), WRONGTYPE);
        assert_eq!(
            h.strs("lmpop 3 nokey a b right count 5"),
            s(&["a", "2", "3"])
        );
        assert_eq!(h.int("exists a"), 0);
        assert_eq!(h.run("lmpop 1 nokey left"), Frame::NullArray);
        assert_eq!(
            h.err("lmpop 0 a left"),
            "ERR numkeys should be greater than 0"
        );
        assert_eq!(h.err("lmpop 5 a left"), "ERR syntax error");
        assert_eq!(
            h.err("lmpop 1 b left count 0"),
            "ERR count should be greater than 0"
        );
        assert_eq!(h.err("lmpop 1 str left"), WRONGTYPE);
        // Inside a transaction a blocking pop never blocks.
        h.run("multi");
        h.run("blpop a 0");
        h.run("blmove a b left left 0");
        assert_eq!(
            h.run("exec"),
            Frame::Array(vec![Frame::NullArray, Frame::Null])
        );
        assert!(h.client.blocked.is_none());
    }

    #[test]
    fn blocked_pop_is_served_by_a_push() {
        let mut h = H::new();
        assert_eq!(h.run("blpop q1 q2 0"), Frame::Null);
        let w = h.client.blocked.clone().expect("blocked");
        assert_eq!(
            h.server
                .blocking
                .keys
                .load(std::sync::atomic::Ordering::Relaxed),
            2
        );
        // Another client pushes; the dispatcher serves the waiter.
        let handle = crate::cmd::connection::new_handle(
            &h.server,
            "127.0.0.1:3".into(),
            "127.0.0.1:2".into(),
            -1,
            0,
        );
        let mut other = Client::new(handle, true);
        let args: Vec<&[u8]> = vec![b"rpush", b"q2", b"x", b"y"];
        crate::command::execute(&h.server, &mut other, &args, h.now_us);
        assert_eq!(
            w.take_reply(),
            Some(Frame::Array(vec![Frame::bulk(b"q2"), Frame::bulk(b"x")]))
        );
        crate::blocking::finish(&h.server, &mut h.client);
        assert_eq!(
            h.server
                .blocking
                .keys
                .load(std::sync::atomic::Ordering::Relaxed),
            0
        );
        assert_eq!(h.strs("lrange q2 0 -1"), vec!["y"]);
    }

    #[test]
    fn encodings() {
        let mut h = H::new();
        h.run("rpush l a b c");
        assert_eq!(h.enc("l"), "listpack");
        let big = "x".repeat(8200);
        h.run(&format!("rpush l {big}"));
        assert_eq!(h.enc("l"), "quicklist");
        h.run("rpop l");
        assert_eq!(h.enc("l"), "listpack");
        h.run(&format!("rpush new {big}"));
        assert_eq!(h.enc("new"), "quicklist");
        for i in 0..1000 {
            h.run(&format!("rpush many element-{i}"));
        }
        assert_eq!(h.enc("many"), "quicklist");
        assert_eq!(h.int("llen many"), 1000);
        assert_eq!(h.strs("lindex many 500"), s(&["element-500"]));
    }
}
