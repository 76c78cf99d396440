//! Set commands.

use ferrokey_resp::{Bulks, Frame};

use super::hash::scan_reply;
use super::keys::parse_cursor;
use super::{dirty, lookup_read, lookup_write, parse_int};
use super::{notify, NOTIFY_GENERIC, NOTIFY_SET};
use crate::command::{flags::*, CommandSpec, Ctx};
use crate::config::glob_match;
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked, Slot};
use crate::types::set::Set;
use crate::types::{as_int, parse_rand_count, parse_scan_opts, Limits};
use crate::value::Value;

const SET: &[&str] = &["@set"];

/// The set family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, sadd)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist."),
    CommandSpec::new("srem", -3, WRITE | FAST, srem)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed."),
    CommandSpec::new("smembers", 2, READONLY, smembers)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Returns all members of a set."),
    CommandSpec::new("sismember", 3, READONLY | FAST, sismember)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Determines whether a member belongs to a set."),
    CommandSpec::new("smismember", -3, READONLY | FAST, smismember)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "6.2.0", "Determines whether multiple members belong to a set."),
    CommandSpec::new("scard", 2, READONLY | FAST, scard)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Returns the number of members in a set."),
    CommandSpec::new("spop", -2, WRITE | FAST, spop)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    CommandSpec::new("srandmember", -2, READONLY, srandmember)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Get one or multiple random members from a set"),
    CommandSpec::new("smove", 4, WRITE | FAST, smove)
        .keys(1, 2, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Moves a member from one set to another."),
    CommandSpec::new("sinter", -2, READONLY, sinter)
        .keys(1, -1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Returns the intersect of multiple sets."),
    CommandSpec::new("sintercard", -3, READONLY | MOVABLEKEYS, sintercard)
        .acl(SET)
        .doc("set", "7.0.0", "Returns the number of members of the intersect of multiple sets."),
    CommandSpec::new("sinterstore", -3, WRITE | DENYOOM, sinterstore)
        .keys(1, -1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Stores the intersect of multiple sets in a key."),
    CommandSpec::new("sunion", -2, READONLY, sunion)
        .keys(1, -1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Returns the union of multiple sets."),
    CommandSpec::new("sunionstore", -3, WRITE | DENYOOM, sunionstore)
        .keys(1, -1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Stores the union of multiple sets in a key."),
    CommandSpec::new("sdiff", -2, READONLY, sdiff)
        .keys(1, -1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Returns the difference of multiple sets."),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, sdiffstore)
        .keys(1, -1, 1)
        .acl(SET)
        .doc("set", "1.0.0", "Stores the difference of multiple sets in a key."),
    CommandSpec::new("sscan", -3, READONLY, sscan)
        .keys(1, 1, 1)
        .acl(SET)
        .doc("set", "2.0.0", "Iterates over members of a set."),
];

fn as_set(e: &Slot) -> Result<&Set, CmdError> {
    match e.value() {
        Value::Set(v) => Ok(v),
        _ => Err(CmdError::WrongType),
    }
}

fn as_set_mut(e: &mut Slot) -> Result<&mut Set, CmdError> {
    match e.value_mut() {
        Value::Set(v) => Ok(v),
        _ => Err(CmdError::WrongType),
    }
}

fn sadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let lim = Limits::of(ctx);
    let (key, members) = (args[1], &args[2..]);
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let added = match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            let set = as_set_mut(e)?;
            set.reserve(members.len(), &lim);
            members.iter().filter(|m| set.add(m, &lim)).count()
        }
        None => {
            let mut set = Set::for_first(members[0], members.len(), &lim);
            let n = members.iter().filter(|m| set.add(m, &lim)).count();
            super::insert_key(
                ctx,
                &mut shard,
                ctx.client.db,
                h,
                key,
                Value::Set(Box::new(set)),
                0,
                ctx.new_stamp(),
            );
            n
        }
    };
    if added > 0 {
        notify(ctx, NOTIFY_SET, "sadd", key);
    }
    dirty(ctx, added as u64);
    Ok(Frame::Integer(added as i64))
}

fn srem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let set = as_set_mut(e)?;
    let mut n = 0;
    for m in &args[2..] {
        if set.remove(m) {
            n += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let empty = set.is_empty();
    if n > 0 {
        notify(ctx, NOTIFY_SET, "srem", key);
    }
    if empty {
        shard.remove(h, key);
        notify(ctx, NOTIFY_GENERIC, "del", key);
    }
    dirty(ctx, n);
    Ok(Frame::Integer(n as i64))
}

fn read_set(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    missing: Frame,
    f: impl FnOnce(&Set) -> CmdResult,
) -> CmdResult {
    super::read_entry(ctx, key, missing, |e| f(as_set(e)?))
}

fn smembers(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let resp3 = ctx.client.resp >= 3;
    read_set(ctx, args[1], Frame::Set(Vec::new()), |set| {
        Ok(if resp3 {
            Frame::Set(set.iter().map(|m| Frame::Bulk(m.into_owned())).collect())
        } else {
            // RESP2 sends a set as an array.
            Frame::Bulks(match set {
                Set::Int(v) => {
                    let mut b = Bulks::with_capacity(v.len(), v.len() * 4);
                    v.iter().for_each(|&i| b.push_int(i));
                    b
                }
                _ => Bulks::sized(|| set.iter()),
            })
        })
    })
}

fn sismember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_set(ctx, args[1], Frame::Integer(0), |set| {
        Ok(Frame::Integer(i64::from(set.contains(args[2]))))
    })
}

fn smismember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let ms = &args[2..];
    read_set(
        ctx,
        args[1],
        Frame::Array(vec![Frame::Integer(0); ms.len()]),
        |set| {
            Ok(Frame::Array(
                ms.iter()
                    .map(|m| Frame::Integer(i64::from(set.contains(m))))
                    .collect(),
            ))
        },
    )
}

fn scard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_set(ctx, args[1], Frame::Integer(0), |set| {
        Ok(Frame::Integer(set.len() as i64))
    })
}

/// SPOP with a count keeps the survivors in a new set once at most one in
/// this many members remains.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

fn spop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let count = match args.len() {
        2 => None,
        3 => match parse_int(args[2]) {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => return Err(CmdError::msg("ERR value is out of range, must be positive")),
        },
        _ => return Err(CmdError::Syntax),
    };
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(if count.is_some() {
            Frame::Set(Vec::new())
        } else {
            Frame::Null
        });
    };
    let set = as_set_mut(e)?;
    let mut rng = rand::thread_rng();
    let reply = match count {
        Some(0) => return Ok(Frame::Set(Vec::new())),
        None => {
            let m = set.random(1, true, &mut rng).pop().unwrap_or_default();
            set.remove(&m);
            dirty(ctx, 1);
            crate::propagate::rewrite_as(&[b"SREM", key, &m]);
            Frame::Bulk(m)
        }
        Some(n) if n >= set.len() => {
            let all: Vec<Frame> = set.iter().map(|m| Frame::Bulk(m.into_owned())).collect();
            dirty(ctx, all.len() as u64);
            shard.remove(h, key);
            notify(ctx, NOTIFY_SET, "spop", key);
            notify(ctx, NOTIFY_GENERIC, "del", key);
            crate::propagate::rewrite_as(&[crate::propagate::server_del(), key]);
            return Ok(Frame::Set(all));
        }
        Some(n) => {
            let picked = set.random(n, true, &mut rng);
            for m in &picked {
                set.remove(m);
            }
            // When few members remain, Redis moves them into a new set
            // instead: a listpack (an intset for an intset), which a
            // hashtable's few survivors then stay in.
            if set.len() * SPOP_MOVE_STRATEGY_MUL <= n && matches!(set, Set::Table(_)) {
                let lim = Limits::of(ctx);
                let mut rest = set.random(set.len(), true, &mut rng);
                if !rest.is_empty() {
                    let mut fresh = Set::Pack(Vec::new());
                    for m in rest.drain(..) {
                        fresh.add(&m, &lim);
                    }
                    *set = fresh;
                }
            }
            dirty(ctx, n as u64);
            // Replicas remove the same members, in SREMs of up to 1024.
            if crate::propagate::recording() {
                for batch in picked.chunks(1024) {
                    let mut argv: Vec<&[u8]> = vec![b"SREM", key];
                    argv.extend(batch.iter().map(Vec::as_slice));
                    crate::propagate::also(ctx.client.db, &argv);
                }
                crate::propagate::prevent();
            }
            Frame::Set(picked.into_iter().map(Frame::Bulk).collect())
        }
    };
    let empty = set.is_empty();
    notify(ctx, NOTIFY_SET, "spop", key);
    if empty {
        shard.remove(h, key);
        notify(ctx, NOTIFY_GENERIC, "del", key);
    }
    Ok(reply)
}

fn srandmember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    match args.len() {
        2 => read_set(ctx, args[1], Frame::Null, |set| {
            let mut rng = rand::thread_rng();
            Ok(set
                .random(1, true, &mut rng)
                .pop()
                .map_or(Frame::Null, Frame::Bulk))
        }),
        3 => {
            let (count, distinct) = parse_rand_count(args[2], false)?;
            read_set(ctx, args[1], Frame::Array(Vec::new()), |set| {
                let mut rng = rand::thread_rng();
                Ok(Frame::Array(
                    set.random(count, distinct, &mut rng)
                        .into_iter()
                        .map(Frame::Bulk)
                        .collect(),
                ))
            })
        }
        _ => Err(CmdError::Syntax),
    }
}

fn smove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let lim = Limits::of(ctx);
    let (src, dst, m) = (args[1], args[2], args[3]);
    let (hs, hd) = (ctx.hash(src), ctx.hash(dst));
    let mut locked = Locked::new(ctx.db(), [hs, hd].into_iter());
    // Both keys are looked up before either is checked, as in Redis: an
    // expired destination goes (`expired`) even when the source is missing.
    let present =
        lookup_write(ctx, locked.shard(hs), hs, src).map(|e| as_set(e).map(|s| s.contains(m)));
    // The destination counts as modified only if the member is added to
    // it (WATCH), so it is looked up without the write-path touch.
    let dst_type = {
        let (l, e) = locked.shard(hd).lookup(hd, dst, ctx.now_ms);
        super::note_lookup(ctx, l, dst);
        e.map(|e| as_set(e).map(|_| ()))
    };
    let Some(present) = present else {
        return Ok(Frame::Integer(0));
    };
    let present = present?;
    dst_type.transpose()?;
    if src == dst || !present {
        return Ok(Frame::Integer(i64::from(present)));
    }
    let sshard = locked.shard(hs);
    if let Some(Value::Set(set)) = sshard.lookup(hs, src, ctx.now_ms).1.map(|e| e.value_mut()) {
        set.remove(m);
        let empty = set.is_empty();
        notify(ctx, NOTIFY_SET, "srem", src);
        if empty {
            sshard.remove(hs, src);
            notify(ctx, NOTIFY_GENERIC, "del", src);
        }
    }
    let dshard = locked.shard(hd);
    let added = match dshard.lookup(hd, dst, ctx.now_ms).1 {
        Some(e) => {
            let added = as_set_mut(e)?.add(m, &lim);
            if added {
                dshard.touch(dst);
            }
            added
        }
        None => {
            let mut set = Set::for_first(m, 1, &lim);
            set.add(m, &lim);
            super::insert_key(
                ctx,
                &mut *dshard,
                ctx.client.db,
                hd,
                dst,
                Value::Set(Box::new(set)),
                0,
                ctx.new_stamp(),
            );
            true
        }
    };
    if added {
        notify(ctx, NOTIFY_SET, "sadd", dst);
    }
    dirty(ctx, 1);
    Ok(Frame::Integer(1))
}

/// The sets of `keys` (None for a missing key), looked up under the locks
/// in `locked`. With `stop_at_missing`, a missing key makes the whole
/// result None (an intersection with nothing), but every key is still
/// type-checked, as SINTER does. Every key is read as a read command
/// reads it, the STORE forms' sources too (a miss counts and is
/// announced, `keymiss`).
fn collect(
    ctx: &Ctx<'_>,
    locked: &mut Locked<'_>,
    keys: &[&[u8]],
    stop_at_missing: bool,
) -> Result<Option<Vec<Option<Set>>>, CmdError> {
    let mut out = Vec::with_capacity(keys.len());
    let mut missing = false;
    for k in keys {
        let h = ctx.hash(k);
        let shard = locked.shard(h);
        match lookup_read(ctx, shard, h, k) {
            None if stop_at_missing => missing = true,
            None => out.push(None),
            Some(e) => {
                let set = as_set(e)?;
                // A copy keeps the borrow checker simple across shards;
                // the set operations are linear in the sets' sizes anyway.
                if !missing {
                    out.push(Some(set.clone()));
                }
            }
        }
    }
    Ok(if missing { None } else { Some(out) })
}

/// The intersection of `sets`, in the order of the smallest; stops after
/// `limit` members when given.
fn intersect(mut sets: Vec<Set>, limit: usize) -> Vec<Vec<u8>> {
    sets.sort_by_key(Set::len);
    let Some((first, rest)) = sets.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in first.iter() {
        if out.len() >= limit {
            break;
        }
        if rest.iter().all(|s| s.contains(&m)) {
            out.push(m.into_owned());
        }
    }
    out
}

/// Builds the set Redis would store for these members (starting from an
/// intset and converting as members are added).
fn build(members: impl IntoIterator<Item = Vec<u8>>, lim: &Limits) -> Set {
    let mut set = Set::Int(Vec::new());
    for m in members {
        set.add(&m, lim);
    }
    set
}

/// Stores `set` at `dst` (deleting `dst` when empty); returns its size.
fn store(ctx: &Ctx<'_>, locked: &mut Locked<'_>, dst: &[u8], set: Set, event: &str) -> i64 {
    let h = ctx.hash(dst);
    let shard = locked.shard(h);
    let n = set.len();
    if n == 0 {
        if super::remove_deleted(ctx, shard, h, dst) {
            notify(ctx, NOTIFY_GENERIC, "del", dst);
            dirty(ctx, 1);
        }
    } else {
        super::insert_key(
            ctx,
            &mut *shard,
            ctx.client.db,
            h,
            dst,
            Value::Set(Box::new(set)),
            0,
            ctx.new_stamp(),
        );
        notify(ctx, NOTIFY_SET, event, dst);
        dirty(ctx, 1);
    }
    n as i64
}

fn lock_keys<'a>(ctx: &Ctx<'a>, keys: &[&[u8]]) -> Locked<'a> {
    let hs: Vec<u64> = keys.iter().map(|k| ctx.hash(k)).collect();
    Locked::new(ctx.db(), hs.into_iter())
}

fn set_frame(members: impl IntoIterator<Item = Vec<u8>>) -> Frame {
    Frame::Set(members.into_iter().map(Frame::Bulk).collect())
}

fn sinter(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let keys = &args[1..];
    let mut locked = lock_keys(ctx, keys);
    Ok(match collect(ctx, &mut locked, keys, true)? {
        None => Frame::Set(Vec::new()),
        Some(sets) => set_frame(intersect(sets.into_iter().flatten().collect(), usize::MAX)),
    })
}

fn sinterstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let lim = Limits::of(ctx);
    let mut locked = lock_keys(ctx, &args[1..]);
    let result = match collect(ctx, &mut locked, &args[2..], true)? {
        None => Set::Int(Vec::new()),
        Some(sets) => intersection_set(sets.into_iter().flatten().collect(), &lim),
    };
    Ok(Frame::Integer(store(
        ctx,
        &mut locked,
        args[1],
        result,
        "sinterstore",
    )))
}

/// The set SINTERSTORE stores, in Redis's encoding: it starts as an intset
/// when the smallest input is one and as a listpack otherwise, grows as
/// members are added, and ends as an intset if every member is an integer
/// and there are few enough.
fn intersection_set(mut sets: Vec<Set>, lim: &Limits) -> Set {
    sets.sort_by_key(Set::len);
    let mut out = match sets.first() {
        Some(Set::Int(_)) | None => Set::Int(Vec::new()),
        Some(_) => Set::Pack(Vec::new()),
    };
    let mut only_ints = true;
    for m in intersect(sets, usize::MAX) {
        only_ints &= as_int(&m).is_some();
        out.add(&m, lim);
    }
    if only_ints
        && !matches!(out, Set::Int(_))
        && out.len() <= lim.set_max_intset_entries.min(1 << 30)
    {
        let mut ints: Vec<i64> = out.iter().filter_map(|m| as_int(&m)).collect();
        ints.sort_unstable();
        out = Set::Int(ints);
    }
    out
}

fn sintercard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (keys, limit) = super::parse_intercard(args)?;
    let keys = &keys[..];
    let mut locked = lock_keys(ctx, keys);
    Ok(Frame::Integer(
        match collect(ctx, &mut locked, keys, true)? {
            None => 0,
            Some(sets) => intersect(sets.into_iter().flatten().collect(), limit).len() as i64,
        },
    ))
}

fn union_of(sets: Vec<Option<Set>>, lim: &Limits) -> Set {
    let mut out = Set::Int(Vec::new());
    for s in sets.into_iter().flatten() {
        for m in s.iter() {
            out.add(&m, lim);
        }
    }
    out
}

fn diff_of(sets: Vec<Option<Set>>, lim: &Limits) -> Set {
    let mut it = sets.into_iter();
    let Some(Some(first)) = it.next() else {
        return Set::Int(Vec::new());
    };
    let rest: Vec<Set> = it.flatten().collect();
    // Redis picks one of two algorithms by their expected work. The second
    // adds the whole first set, then removes the others' members; removing
    // never converts back, so its result keeps the encoding the whole
    // first set needed.
    let one = (1 + rest.len()) * first.len() / 2;
    let two = first.len() + rest.iter().map(Set::len).sum::<usize>();
    if one > two {
        let mut out = build(first.iter().map(|m| m.into_owned()), lim);
        for s in &rest {
            for m in s.iter() {
                out.remove(&m);
            }
        }
        return out;
    }
    build(
        first
            .iter()
            .filter(|m| !rest.iter().any(|s| s.contains(m)))
            .map(|m| m.into_owned()),
        lim,
    )
}

fn sunion_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], diff: bool, store_to: bool) -> CmdResult {
    let lim = Limits::of(ctx);
    let mut locked = lock_keys(ctx, &args[1..]);
    let keys = if store_to { &args[2..] } else { &args[1..] };
    let sets = collect(ctx, &mut locked, keys, false)?.unwrap_or_default();
    let result = if diff {
        diff_of(sets, &lim)
    } else {
        union_of(sets, &lim)
    };
    if store_to {
        let event = if diff { "sdiffstore" } else { "sunionstore" };
        return Ok(Frame::Integer(store(
            ctx,
            &mut locked,
            args[1],
            result,
            event,
        )));
    }
    Ok(set_frame(result.iter().map(|m| m.into_owned())))
}

fn sunion(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sunion_generic(ctx, args, false, false)
}

fn sunionstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sunion_generic(ctx, args, false, true)
}

fn sdiff(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sunion_generic(ctx, args, true, false)
}

fn sdiffstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sunion_generic(ctx, args, true, true)
}

fn sscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2])?;
    read_set(ctx, args[1], scan_reply(0, Vec::new()), |set| {
        let (pattern, count, _) = parse_scan_opts(&args[3..], false)?;
        let (next, members) = set.scan(cursor, count);
        Ok(scan_reply(
            next,
            members
                .into_iter()
                .filter(|m| pattern.is_none_or(|p| glob_match(p, m, false)))
                .map(Frame::Bulk)
                .collect(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::super::list::tests::{s, H};
    use ferrokey_resp::Frame;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn basics() {
        let mut h = H::new();
        assert_eq!(h.int("sadd s 3 1 2 1"), 3);
        assert_eq!(h.enc("s"), "intset");
        assert_eq!(h.strs("smembers s"), s(&["1", "2", "3"]));
        // A set in RESP3, an array in RESP2.
        assert!(matches!(h.run("smembers s"), Frame::Bulks(_)));
        h.client.resp = 3;
        assert!(matches!(h.run("smembers s"), Frame::Set(_)));
        h.client.resp = 2;
        assert_eq!(h.int("sismember s 2"), 1);
        assert_eq!(h.strs("smismember s 1 9 3"), s(&["1", "0", "1"]));
        assert_eq!(h.strs("smismember nokey 1"), s(&["0"]));
        assert_eq!(h.int("sadd s a"), 1);
        assert_eq!(h.enc("s"), "listpack");
        assert_eq!(h.strs("smembers s"), s(&["1", "2", "3", "a"]));
        assert_eq!(h.int("scard s"), 4);
        assert_eq!(h.int("srem s 1 2 3 x"), 3);
        assert_eq!(h.int("srem s a"), 1);
        assert_eq!(h.int("exists s"), 0);
        h.run("set str x");
        assert_eq!(h.err("sadd str a"), WRONGTYPE);
        assert_eq!(h.err("smembers str"), WRONGTYPE);
        assert_eq!(h.err("scard str"), WRONGTYPE);
    }

    #[test]
    fn random_pop_move() {
        let mut h = H::new();
        h.run("sadd s a b c d e");
        assert_eq!(h.strs("srandmember s 10").len(), 5);
        assert_eq!(h.strs("srandmember s -10").len(), 10);
        assert_eq!(h.strs("srandmember s 0"), s(&[]));
        assert_eq!(h.run("srandmember nokey"), Frame::Null);
        assert_eq!(h.err("srandmember s 1 2"), "ERR syntax error");
        assert_eq!(h.strs("spop s 2").len(), 2);
        assert_eq!(h.int("scard s"), 3);
        assert_eq!(h.strs("spop s").len(), 1);
        assert_eq!(h.strs("spop s 10").len(), 2);
        assert_eq!(h.int("exists s"), 0);
        assert_eq!(
            h.err("spop s -1"),
            "ERR value is out of range, must be positive"
        );
        assert_eq!(h.run("spop s 1"), Frame::Set(vec![]));
        h.run("sadd a 1 2");
        assert_eq!(h.int("smove a b 1"), 1);
        assert_eq!(h.int("smove a b 9"), 0);
        assert_eq!(h.int("smove a a 2"), 1);
        assert_eq!(h.int("smove nokey b 1"), 0);
        h.run("set str x");
        assert_eq!(h.err("smove a str 2"), WRONGTYPE);
        assert_eq!(h.int("smove a b 2"), 1);
        assert_eq!(h.int("exists a"), 0);
        assert_eq!(h.strs("smembers b"), s(&["1", "2"]));
        // Uniformity, roughly.
        h.run("sadd u 0 1 2 3 4 5 6 7 8 9");
        let mut counts = [0usize; 10];
        for _ in 0..5000 {
            let v: usize = h.strs("srandmember u")[0].parse().unwrap_or(0);
            counts[v] += 1;
        }
        assert!(counts.iter().all(|&c| c > 350), "{counts:?}");
    }

    #[test]
    fn algebra() {
        let mut h = H::new();
        h.run("sadd a 1 2 3 4");
        h.run("sadd b 3 4 5");
        h.run("sadd c x 4");
        assert_eq!(h.strs("sinter a b"), s(&["3", "4"]));
        assert_eq!(h.strs("sinter a b c"), s(&["4"]));
        assert_eq!(h.strs("sinter a nokey"), s(&[]));
        assert_eq!(h.strs("sunion a b"), s(&["1", "2", "3", "4", "5"]));
        assert_eq!(sorted(h.strs("sunion a c")), s(&["1", "2", "3", "4", "x"]));
        assert_eq!(h.strs("sdiff a b"), s(&["1", "2"]));
        assert_eq!(h.strs("sdiff nokey a"), s(&[]));
        assert_eq!(h.int("sinterstore d a b"), 2);
        assert_eq!(h.enc("d"), "intset");
        assert_eq!(h.int("sunionstore d a c"), 5);
        assert_eq!(h.enc("d"), "listpack");
        assert_eq!(h.int("sdiffstore d a a"), 0);
        assert_eq!(h.int("exists d"), 0);
        assert_eq!(h.int("sintercard 2 a b"), 2);
        assert_eq!(h.int("sintercard 2 a b limit 1"), 1);
        assert_eq!(
            h.err("sintercard 3 a b"),
            "ERR Number of keys can't be greater than number of args"
        );
        assert_eq!(
            h.err("sintercard 0 a"),
            "ERR numkeys should be greater than 0"
        );
        assert_eq!(
            h.err("sintercard 1 a limit -1"),
            "ERR LIMIT can't be negative"
        );
        h.run("set str x");
        assert_eq!(h.err("sunion a str"), WRONGTYPE);
        assert_eq!(h.err("sinter nokey str"), WRONGTYPE);
        assert_eq!(h.err("sinter str nokey"), WRONGTYPE);
        assert_eq!(h.int("sunionstore str a"), 4);
        assert_eq!(h.strs("type str"), s(&["set"]));
    }

    #[test]
    fn encodings_and_scan() {
        let mut h = H::new();
        for i in 0..512 {
            h.run(&format!("sadd i {i}"));
        }
        assert_eq!(h.enc("i"), "intset");
        h.run("sadd i 512");
        assert_eq!(h.enc("i"), "hashtable");
        for i in 0..128 {
            h.run(&format!("sadd p m{i}"));
        }
        assert_eq!(h.enc("p"), "listpack");
        h.run("sadd p m128");
        assert_eq!(h.enc("p"), "hashtable");
        h.run(&format!("sadd l {}", "x".repeat(65)));
        assert_eq!(h.enc("l"), "hashtable");
        let args: Vec<String> = (0..200).map(|i| format!("e{i}")).collect();
        h.run(&format!("sadd big {}", args.join(" ")));
        assert_eq!(h.enc("big"), "hashtable");
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let r = h.strs(&format!("sscan big {cursor} count 10"));
            cursor = r[0].clone();
            seen.extend(r[1..].iter().cloned());
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 200);
        h.run("sadd small a b c");
        assert_eq!(h.strs("sscan small 0 match b"), s(&["0", "b"]));
    }
}
