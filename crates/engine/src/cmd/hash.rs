//! Hash commands.

use ferrokey_resp::{Bulks, Frame};

use super::keys::parse_cursor;
use super::{dirty, is, lookup_write, parse_int};
use super::{notify, NOTIFY_GENERIC, NOTIFY_HASH};
use crate::command::{flags::*, CommandSpec, Ctx};
use crate::config::glob_match;
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Slot};
use crate::longdouble::LongDouble;
use crate::types::hash::Hash;
use crate::types::{parse_rand_count, parse_scan_opts, random_indexes, Limits};
use crate::value::Value;

const HASH: &[&str] = &["@hash"];

/// The hash family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, WRITE | DENYOOM | FAST, hset)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Creates or modifies the value of a field in a hash."),
    CommandSpec::new("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist."),
    CommandSpec::new("hmset", -4, WRITE | DENYOOM | FAST, hmset)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Sets the values of multiple fields."),
    CommandSpec::new("hget", 3, READONLY | FAST, hget)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Returns the value of a field in a hash."),
    CommandSpec::new("hmget", -3, READONLY | FAST, hmget)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Returns the values of all fields in a hash."),
    CommandSpec::new("hgetall", 2, READONLY, hgetall)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Returns all fields and values in a hash."),
    CommandSpec::new("hdel", -3, WRITE | FAST, hdel)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
    CommandSpec::new("hlen", 2, READONLY | FAST, hlen)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Returns the number of fields in a hash."),
    CommandSpec::new("hexists", 3, READONLY | FAST, hexists)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Determines whether a field exists in a hash."),
    CommandSpec::new("hkeys", 2, READONLY, hkeys)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Returns all fields in a hash."),
    CommandSpec::new("hvals", 2, READONLY, hvals)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Returns all values in a hash."),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, hstrlen)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "3.2.0", "Returns the length of the value of a field."),
    CommandSpec::new("hincrby", 4, WRITE | DENYOOM | FAST, hincrby)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."),
    CommandSpec::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."),
    CommandSpec::new("hrandfield", -2, READONLY, hrandfield)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "6.2.0", "Returns one or more random fields from a hash."),
    CommandSpec::new("hscan", -3, READONLY, hscan)
        .keys(1, 1, 1)
        .acl(HASH)
        .doc("hash", "2.8.0", "Iterates over fields and values of a hash."),
];

fn as_hash(e: &Slot) -> Result<&Hash, CmdError> {
    match e.value() {
        Value::Hash(v) => Ok(v),
        _ => Err(CmdError::WrongType),
    }
}

fn as_hash_mut(e: &mut Slot) -> Result<&mut Hash, CmdError> {
    match e.value_mut() {
        Value::Hash(v) => Ok(v),
        _ => Err(CmdError::WrongType),
    }
}

/// Runs `f` on the key's hash, creating an empty one when the key is
/// missing; removes the key again if the hash ends up empty.
fn with_hash_write<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut Hash) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let created = match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            as_hash(e)?;
            false
        }
        None => {
            super::insert_key(
                ctx,
                &mut shard,
                ctx.client.db,
                h,
                key,
                Value::Hash(Default::default()),
                0,
                ctx.new_stamp(),
            );
            true
        }
    };
    let (r, empty) = {
        let (_, e) = shard.lookup(h, key, ctx.now_ms);
        let hash = match e.map(|e| e.value_mut()) {
            Some(Value::Hash(v)) => v,
            _ => return Err(CmdError::WrongType),
        };
        let r = f(hash);
        (r, hash.is_empty())
    };
    if empty && (created || r.is_ok()) {
        shard.remove(h, key);
    }
    r
}

fn hset_generic(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> Result<i64, CmdError> {
    if args.len() % 2 == 1 {
        return Err(ctx.arity_error());
    }
    let lim = Limits::of(ctx);
    let pairs = &args[2..];
    let added = with_hash_write(ctx, args[1], |hash| {
        hash.prepare(pairs, &lim);
        Ok(pairs
            .chunks(2)
            .filter(|p| hash.set(p[0], p[1], &lim))
            .count() as i64)
    })?;
    notify(ctx, NOTIFY_HASH, "hset", args[1]);
    dirty(ctx, (pairs.len() / 2) as u64);
    Ok(added)
}

fn hset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    hset_generic(ctx, args).map(Frame::Integer)
}

fn hmset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    hset_generic(ctx, args).map(|_| Frame::ok())
}

fn hsetnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let lim = Limits::of(ctx);
    let set = with_hash_write(ctx, args[1], |hash| {
        if hash.get(args[2]).is_some() {
            return Ok(false);
        }
        hash.prepare(&args[2..4], &lim);
        hash.set(args[2], args[3], &lim);
        Ok(true)
    })?;
    if set {
        notify(ctx, NOTIFY_HASH, "hset", args[1]);
        dirty(ctx, 1);
    }
    Ok(Frame::Integer(i64::from(set)))
}

/// Runs `f` on the key's hash for reading; `missing` when there is none.
fn read_hash(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    missing: Frame,
    f: impl FnOnce(&Hash) -> CmdResult,
) -> CmdResult {
    super::read_entry(ctx, key, missing, |e| f(as_hash(e)?))
}

fn hget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_hash(ctx, args[1], Frame::Null, |hash| {
        Ok(hash.get(args[2]).map_or(Frame::Null, Frame::bulk))
    })
}

fn hmget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let fields = &args[2..];
    read_hash(
        ctx,
        args[1],
        Frame::Array(vec![Frame::Null; fields.len()]),
        |hash| {
            Ok(Frame::Array(
                fields
                    .iter()
                    .map(|f| hash.get(f).map_or(Frame::Null, Frame::bulk))
                    .collect(),
            ))
        },
    )
}

fn hgetall(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let resp3 = ctx.client.resp >= 3;
    read_hash(ctx, args[1], Frame::Map(Vec::new()), |hash| {
        Ok(if resp3 {
            Frame::Map(
                hash.iter()
                    .map(|(f, v)| (Frame::bulk(f), Frame::bulk(v)))
                    .collect(),
            )
        } else {
            // RESP2 sends a map as its fields and values in turn.
            Frame::Bulks(Bulks::sized(|| hash.iter().flat_map(|(f, v)| [f, v])))
        })
    })
}

fn hkeys(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_hash(ctx, args[1], Frame::Array(Vec::new()), |hash| {
        Ok(Frame::Bulks(Bulks::sized(|| hash.iter().map(|(f, _)| f))))
    })
}

fn hvals(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_hash(ctx, args[1], Frame::Array(Vec::new()), |hash| {
        Ok(Frame::Bulks(Bulks::sized(|| hash.iter().map(|(_, v)| v))))
    })
}

fn hlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_hash(ctx, args[1], Frame::Integer(0), |hash| {
        Ok(Frame::Integer(hash.len() as i64))
    })
}

fn hexists(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_hash(ctx, args[1], Frame::Integer(0), |hash| {
        Ok(Frame::Integer(i64::from(hash.get(args[2]).is_some())))
    })
}

fn hstrlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_hash(ctx, args[1], Frame::Integer(0), |hash| {
        Ok(Frame::Integer(
            hash.get(args[2]).map_or(0, |v| v.len() as i64),
        ))
    })
}

fn hdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let hash = as_hash_mut(e)?;
    let mut n = 0;
    for f in &args[2..] {
        if hash.remove(f) {
            n += 1;
            if hash.is_empty() {
                break;
            }
        }
    }
    let empty = hash.is_empty();
    if n > 0 {
        notify(ctx, NOTIFY_HASH, "hdel", key);
    }
    if empty {
        shard.remove(h, key);
        notify(ctx, NOTIFY_GENERIC, "del", key);
    }
    dirty(ctx, n);
    Ok(Frame::Integer(n as i64))
}

fn hincrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let by = parse_int(args[3])?;
    let lim = Limits::of(ctx);
    let v = with_hash_write(ctx, args[1], |hash| {
        let cur = match hash.get(args[2]) {
            None => 0,
            Some(v) => ferrokey_resp::parse_i64(v)
                .ok_or(CmdError::msg("ERR hash value is not an integer"))?,
        };
        let new = cur.checked_add(by).ok_or(CmdError::Overflow)?;
        hash.set(args[2], new.to_string().as_bytes(), &lim);
        Ok(new)
    })?;
    notify(ctx, NOTIFY_HASH, "hincrby", args[1]);
    dirty(ctx, 1);
    Ok(Frame::Integer(v))
}

fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let by = LongDouble::parse(args[3]).ok_or(CmdError::NotFloat)?;
    if by.is_nan_or_inf() {
        return Err(CmdError::msg("ERR value is NaN or Infinity"));
    }
    let lim = Limits::of(ctx);
    let text = with_hash_write(ctx, args[1], |hash| {
        let cur = match hash.get(args[2]) {
            None => LongDouble::from_i64(0),
            Some(v) => {
                LongDouble::parse(v).ok_or(CmdError::msg("ERR hash value is not a float"))?
            }
        };
        let new = cur.plus(by);
        if new.is_nan_or_inf() {
            return Err(CmdError::msg("ERR increment would produce NaN or Infinity"));
        }
        let text = new.to_human().into_bytes();
        hash.set(args[2], &text, &lim);
        Ok(text)
    })?;
    notify(ctx, NOTIFY_HASH, "hincrbyfloat", args[1]);
    dirty(ctx, 1);
    // Replicas and the AOF get the result, not the arithmetic.
    crate::propagate::rewrite_as(&[b"HSET", args[1], args[2], &text]);
    Ok(Frame::Bulk(text))
}

/// A field/value pair in the shape Redis uses for WITHVALUES replies:
/// nested pairs for RESP3, flat for RESP2.
pub fn push_pair(out: &mut Vec<Frame>, resp3: bool, a: Frame, b: Frame) {
    if resp3 {
        out.push(Frame::Array(vec![a, b]));
    } else {
        out.push(a);
        out.push(b);
    }
}

fn hrandfield(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let resp3 = ctx.client.resp >= 3;
    if args.len() == 2 {
        return read_hash(ctx, args[1], Frame::Null, |hash| {
            let mut rng = rand::thread_rng();
            Ok(hash
                .random(&mut rng)
                .map_or(Frame::Null, |(f, _)| Frame::bulk(f)))
        });
    }
    let with_values = match args.len() {
        3 => false,
        4 if is(args[3], "withvalues") => true,
        _ => return Err(CmdError::Syntax),
    };
    let (count, distinct) = parse_rand_count(args[2], with_values)?;
    read_hash(ctx, args[1], Frame::Array(Vec::new()), |hash| {
        let mut rng = rand::thread_rng();
        let mut out = Vec::new();
        let mut emit = |f: &[u8], v: &[u8]| {
            if with_values {
                push_pair(&mut out, resp3, Frame::bulk(f), Frame::bulk(v));
            } else {
                out.push(Frame::bulk(f));
            }
        };
        if count == 0 {
            return Ok(Frame::Array(Vec::new()));
        }
        match hash {
            Hash::Pack(v) => {
                let pairs: Vec<(&[u8], &[u8])> = v.iter().collect();
                for i in random_indexes(pairs.len(), count, distinct, &mut rng) {
                    emit(pairs[i].0, pairs[i].1);
                }
            }
            Hash::Table(d) => {
                for i in d.random_slots(count, distinct, &mut rng) {
                    if let Some((f, v)) = d.slot(i) {
                        emit(f, v);
                    }
                }
            }
        }
        Ok(Frame::Array(out))
    })
}

/// The reply of every SCAN-family command: the cursor and the items.
pub fn scan_reply(cursor: u64, items: Vec<Frame>) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(cursor.to_string().into_bytes()),
        Frame::Array(items),
    ])
}

fn hscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2])?;
    read_hash(ctx, args[1], scan_reply(0, Vec::new()), |hash| {
        let (pattern, count, novalues) = parse_scan_opts(&args[3..], true)?;
        let (next, pairs) = hash.scan(cursor, count);
        let mut out = Vec::new();
        for (f, v) in pairs {
            if pattern.is_some_and(|p| !glob_match(p, f, false)) {
                continue;
            }
            out.push(Frame::bulk(f));
            if !novalues {
                out.push(Frame::bulk(v));
            }
        }
        Ok(scan_reply(next, out))
    })
}

#[cfg(test)]
mod tests {
    use super::super::list::tests::{s, H};
    use ferrokey_resp::Frame;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn basics() {
        let mut h = H::new();
        assert_eq!(h.int("hset h a 1 b 2"), 2);
        assert_eq!(h.int("hset h a 3 c 4"), 1);
        assert_eq!(
            h.err("hset h a"),
            "ERR wrong number of arguments for 'hset' command"
        );
        assert_eq!(
            h.err("hset h a 1 b"),
            "ERR wrong number of arguments for 'hset' command"
        );
        assert_eq!(h.run("hmset h d 5"), Frame::ok());
        assert_eq!(
            h.strs("hgetall h"),
            s(&["a", "3", "b", "2", "c", "4", "d", "5"])
        );
        // A map in RESP3; its fields and values in turn in RESP2.
        assert!(matches!(h.run("hgetall h"), Frame::Bulks(_)));
        h.client.resp = 3;
        assert!(matches!(h.run("hgetall h"), Frame::Map(_)));
        h.client.resp = 2;
        assert_eq!(h.strs("hmget h a zz d"), s(&["3", "(nil)", "5"]));
        assert_eq!(h.strs("hmget nokey a b"), s(&["(nil)", "(nil)"]));
        assert_eq!(h.int("hsetnx h a 9"), 0);
        assert_eq!(h.int("hsetnx h e 9"), 1);
        assert_eq!(h.int("hlen h"), 5);
        assert_eq!(h.int("hexists h e"), 1);
        assert_eq!(h.int("hstrlen h e"), 1);
        assert_eq!(h.strs("hkeys h"), s(&["a", "b", "c", "d", "e"]));
        assert_eq!(h.strs("hvals h"), s(&["3", "2", "4", "5", "9"]));
        assert_eq!(h.int("hdel h a b zz"), 2);
        assert_eq!(h.int("hdel h c d e"), 3);
        assert_eq!(h.int("exists h"), 0);
        h.run("set str x");
        assert_eq!(h.err("hget str a"), WRONGTYPE);
        assert_eq!(h.err("hset str a b"), WRONGTYPE);
        assert_eq!(h.err("hgetall str"), WRONGTYPE);
        assert_eq!(h.run("hget nokey a"), Frame::Null);
    }

    #[test]
    fn counters() {
        let mut h = H::new();
        assert_eq!(h.int("hincrby h n 5"), 5);
        assert_eq!(h.int("hincrby h n -7"), -2);
        h.run("hset h s abc f 1.5");
        assert_eq!(h.err("hincrby h s 1"), "ERR hash value is not an integer");
        assert_eq!(
            h.err("hincrby h n x"),
            "ERR value is not an integer or out of range"
        );
        h.run("hset h big 9223372036854775807");
        assert_eq!(
            h.err("hincrby h big 1"),
            "ERR increment or decrement would overflow"
        );
        assert_eq!(h.strs("hincrbyfloat h f 0.1"), s(&["1.6"]));
        assert_eq!(h.strs("hincrbyfloat h new 3"), s(&["3"]));
        assert_eq!(h.err("hincrbyfloat h s 1"), "ERR hash value is not a float");
        assert_eq!(
            h.err("hincrbyfloat h f x"),
            "ERR value is not a valid float"
        );
        assert_eq!(
            h.err("hincrbyfloat h f inf"),
            "ERR value is NaN or Infinity"
        );
        assert_eq!(
            h.err("hincrby nokey2 f x"),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(h.int("exists nokey2"), 0);
        assert_eq!(
            h.err("hincrbyfloat nokey3 f x"),
            "ERR value is not a valid float"
        );
        assert_eq!(h.int("exists nokey3"), 0);
    }

    #[test]
    fn random_and_scan() {
        let mut h = H::new();
        h.run("hset h a 1 b 2 c 3");
        assert_eq!(h.strs("hrandfield h 10").len(), 3);
        assert_eq!(h.strs("hrandfield h -10").len(), 10);
        assert_eq!(h.strs("hrandfield h 2 withvalues").len(), 4);
        assert_eq!(h.run("hrandfield h 0"), Frame::Array(vec![]));
        assert_eq!(h.run("hrandfield nokey"), Frame::Null);
        assert_eq!(h.run("hrandfield nokey 3"), Frame::Array(vec![]));
        assert_eq!(h.err("hrandfield h 1 bogus"), "ERR syntax error");
        assert_eq!(h.strs("hscan h 0"), s(&["0", "a", "1", "b", "2", "c", "3"]));
        assert_eq!(h.strs("hscan h 0 match b novalues"), s(&["0", "b"]));
        assert_eq!(h.err("hscan h x"), "ERR invalid cursor");
        assert_eq!(h.err("hscan h 0 count 0"), "ERR syntax error");
        assert_eq!(h.strs("hscan nokey 0"), s(&["0"]));
        // Hashtable-encoded: iterate to the end.
        for i in 0..600 {
            h.run(&format!("hset big f{i} v{i}"));
        }
        assert_eq!(h.enc("big"), "hashtable");
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let r = h.strs(&format!("hscan big {cursor} count 7"));
            cursor = r[0].clone();
            for pair in r[1..].chunks(2) {
                seen.insert(pair[0].clone());
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 600);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..6000 {
            *counts.entry(h.strs("hrandfield big").join("")).or_insert(0) += 1;
        }
        assert!(counts.len() > 500);
    }

    #[test]
    fn encodings() {
        let mut h = H::new();
        h.run("hset h a 1");
        assert_eq!(h.enc("h"), "listpack");
        h.run(&format!("hset h long {}", "x".repeat(65)));
        assert_eq!(h.enc("h"), "hashtable");
        // hash-max-listpack-entries is 512 (redis.conf and the built-in
        // default agree).
        for i in 0..512 {
            h.run(&format!("hset h2 f{i} v"));
        }
        assert_eq!(h.enc("h2"), "listpack");
        h.run("hset h2 one more");
        assert_eq!(h.enc("h2"), "hashtable");
        h.run(&format!("hset h3 {} 1", "k".repeat(64)));
        assert_eq!(h.enc("h3"), "listpack");
        h.run("hset h4 n 1");
        h.run(&format!("hincrbyfloat h4 n {}", "1".repeat(60)));
        assert_eq!(h.enc("h4"), "listpack");
    }
}
