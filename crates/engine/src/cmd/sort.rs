//! SORT and SORT_RO, following Redis's `sortCommandGeneric`.
//!
//! BY and GET patterns name keys derived from the elements being sorted,
//! so both commands run with the gate held exclusively and lock one shard
//! at a time: the source key while its elements are copied out, then each
//! pattern-derived key, then the STORE destination.

use std::cmp::Ordering;

use ferrokey_resp::Frame;

use super::{dirty, is, lookup_read, parse_int};
use super::{notify, NOTIFY_GENERIC, NOTIFY_LIST};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::shard_of;
use crate::types::list::List;
use crate::types::Limits;
use crate::value::Value;

const SORT_ACL: &[&str] = &["@set", "@sortedset", "@list", "@dangerous"];

/// The sorted key is only read (STORE's destination and the pattern keys
/// are found by the handler; Redis declares them as "unknown" specs).
const SORT_KEYS: &[KeySpec] = &[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)];

/// The sort family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sort", -2, WRITE | DENYOOM | MOVABLEKEYS | EXCLUSIVE, sort)
        .keys(1, 1, 1)
        .specs(SORT_KEYS)
        .acl(SORT_ACL)
        .doc(
            "generic",
            "1.0.0",
            "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
        ),
    CommandSpec::new("sort_ro", -2, READONLY | MOVABLEKEYS | EXCLUSIVE, sort_ro)
        .keys(1, 1, 1)
        .specs(SORT_KEYS)
        .acl(SORT_ACL)
        .doc(
            "generic",
            "7.0.0",
            "Returns the sorted elements of a list, a set, or a sorted set.",
        ),
];

/// Key positions of a SORT call, as Redis's `sortGetKeys` finds them: the
/// sorted key, then the destination of the last STORE option (options are
/// skipped with the argument count Redis assumes for them).
pub fn sort_get_keys(args: &[&[u8]]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if is(a, "limit") {
            i += 2;
        } else if is(a, "get") || is(a, "by") {
            i += 1;
        } else if is(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

fn sort(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, args, true)
}

/// The parsed options.
#[derive(Debug, Default)]
struct Opts<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// Set by any BY pattern without `*`, and never reset (as in Redis).
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

fn parse_opts<'a>(args: &[&'a [u8]], readonly: bool) -> Result<Opts<'a>, CmdError> {
    let mut o = Opts {
        limit_count: -1,
        ..Opts::default()
    };
    let mut j = 2;
    while j < args.len() {
        let a = args[j];
        let left = args.len() - j - 1;
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            o.limit_start = parse_int(args[j + 1])?;
            o.limit_count = parse_int(args[j + 2])?;
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            o.store = Some(args[j + 1]);
            j += 1;
        } else if is(a, "by") && left >= 1 {
            o.by = Some(args[j + 1]);
            if !args[j + 1].contains(&b'*') {
                o.dontsort = true;
            }
            j += 1;
        } else if is(a, "get") && left >= 1 {
            o.gets.push(args[j + 1]);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// The value a pattern names for element `subst`, as Redis's
/// `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*`
/// is replaced by the element and the key read as a string, or, with
/// `->field` after the `*`, the field of the hash at that key. A pattern
/// without `*` names nothing.
fn lookup_pattern(ctx: &Ctx<'_>, pat: &[u8], subst: &[u8]) -> Option<Vec<u8>> {
    if pat == b"#" {
        return Some(subst.to_vec());
    }
    let star = pat.iter().position(|&c| c == b'*')?;
    let rest = &pat[star + 1..];
    let (post, field) = match rest.windows(2).position(|w| w == b"->") {
        Some(i) if i + 2 < rest.len() => (&rest[..i], Some(&rest[i + 2..])),
        _ => (rest, None),
    };
    let mut key = Vec::with_capacity(star + subst.len() + post.len());
    key.extend_from_slice(&pat[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(post);
    let h = ctx.hash(&key);
    let mut shard = ctx.db().lock(shard_of(h));
    let e = lookup_read(ctx, &mut shard, h, &key)?;
    match (e.value(), field) {
        (Value::Hash(hash), Some(f)) => hash.get(f).map(<[u8]>::to_vec),
        (Value::Str(s), None) => Some(s.to_vec()),
        _ => None,
    }
}

/// One element to sort with its weight.
struct Item {
    elem: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

/// Where the elements come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], readonly: bool) -> CmdResult {
    let mut o = parse_opts(args, readonly)?;

    // Load the elements under the source key's lock.
    let key = args[1];
    let h = ctx.hash(key);
    let lim = Limits::of(ctx);
    let (elems, start, end) = {
        let mut shard = ctx.db().lock(shard_of(h));
        let entry = lookup_read(ctx, &mut shard, h, key);
        let kind = match entry.as_ref().map(|e| e.value()) {
            None | Some(Value::List(_)) => Kind::List,
            Some(Value::Set(_)) => Kind::Set,
            Some(Value::ZSet(_)) => Kind::ZSet,
            Some(_) => return Err(CmdError::WrongType),
        };
        // A set has no native order: with nothing to sort by and the
        // result stored, or asked for by a script, Redis sorts it ALPHA so
        // replicas agree.
        if o.dontsort && kind == Kind::Set && (o.store.is_some() || ctx.client.in_script) {
            o.dontsort = false;
            o.alpha = true;
            o.by = None;
        }
        let mut entry = entry;
        let len = match entry.as_deref_mut().map(|e| e.value_mut()) {
            None => 0,
            Some(Value::List(l)) => l.len(),
            Some(Value::Set(s)) => s.len(),
            Some(Value::ZSet(z)) => {
                // Redis converts a sorted set to a skiplist for SORT.
                z.reserve(usize::MAX, usize::MAX, &lim);
                z.len()
            }
            Some(_) => 0,
        } as i64;
        // LIMIT, clamped as Redis does.
        let mut start = o.limit_start.clamp(0, len);
        let count = o.limit_count.clamp(-1, len);
        let mut end = if count < 0 {
            len - 1
        } else {
            start + count - 1
        };
        if start >= len {
            start = len - 1;
            end = len - 2;
        }
        if end >= len {
            end = len - 1;
        }
        let value = entry.map(|e| e.value());
        let elems: Vec<Vec<u8>> = match value {
            // Lists and sorted sets keep their order when not sorting; only
            // the selected range is loaded, walking from the tail for DESC.
            Some(Value::List(l)) if o.dontsort => {
                if end >= start {
                    let (s, e) = (start as usize, end as usize);
                    let v: Vec<Vec<u8>> = if o.desc {
                        l.iter()
                            .rev()
                            .skip(s)
                            .take(e - s + 1)
                            .map(<[u8]>::to_vec)
                            .collect()
                    } else {
                        l.range(s, e).map(<[u8]>::to_vec).collect()
                    };
                    end -= start;
                    start = 0;
                    v
                } else {
                    Vec::new()
                }
            }
            Some(Value::ZSet(z)) if o.dontsort => {
                let n = z.len();
                let (s, e) = (start.max(0) as usize, (end + 1).max(0) as usize);
                let v = if o.desc {
                    z.range(n.saturating_sub(e), n.saturating_sub(s))
                        .into_iter()
                        .rev()
                        .map(|(_, m)| m.to_vec())
                        .collect()
                } else {
                    z.range(s, e).into_iter().map(|(_, m)| m.to_vec()).collect()
                };
                end -= start;
                start = 0;
                v
            }
            Some(Value::List(l)) => l.iter().map(<[u8]>::to_vec).collect(),
            Some(Value::Set(s)) => s.iter().map(|m| m.into_owned()).collect(),
            Some(Value::ZSet(z)) => z
                .range(0, z.len())
                .into_iter()
                .map(|(_, m)| m.to_vec())
                .collect(),
            _ => Vec::new(),
        };
        (elems, start, end)
    };

    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();

    // Weights, then the sort.
    let mut bad_double = false;
    if !o.dontsort {
        for it in &mut items {
            let byval = match o.by {
                Some(p) => match lookup_pattern(ctx, p, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => {
                    if o.alpha {
                        continue;
                    }
                    it.elem.clone()
                }
            };
            if o.alpha {
                it.cmp = Some(byval);
            } else {
                match crate::cfloat::sort_weight(&byval) {
                    Some(v) => it.score = v,
                    None => bad_double = true,
                }
            }
        }
        if !bad_double {
            let by = o.by.is_some();
            let (alpha, desc) = (o.alpha, o.desc);
            items.sort_by(|a, b| {
                let c = if !alpha {
                    a.score
                        .partial_cmp(&b.score)
                        .unwrap_or(Ordering::Equal)
                        .then_with(|| a.elem.cmp(&b.elem))
                } else if by {
                    a.cmp.cmp(&b.cmp)
                } else {
                    a.elem.cmp(&b.elem)
                };
                if desc {
                    c.reverse()
                } else {
                    c
                }
            });
        }
    }
    if bad_double {
        return Err(CmdError::msg(
            "ERR One or more scores can't be converted into double",
        ));
    }

    let range = if end >= start && start >= 0 {
        &items[start as usize..=end as usize]
    } else {
        &items[..0]
    };

    let Some(dst) = o.store else {
        let mut out = Vec::with_capacity(range.len() * o.gets.len().max(1));
        for it in range {
            if o.gets.is_empty() {
                out.push(Frame::Bulk(it.elem.clone()));
            }
            for g in &o.gets {
                out.push(lookup_pattern(ctx, g, &it.elem).map_or(Frame::Null, Frame::Bulk));
            }
        }
        return Ok(Frame::Array(out));
    };

    let mut vals: Vec<Vec<u8>> = Vec::with_capacity(range.len() * o.gets.len().max(1));
    for it in range {
        if o.gets.is_empty() {
            vals.push(it.elem.clone());
        }
        for g in &o.gets {
            vals.push(lookup_pattern(ctx, g, &it.elem).unwrap_or_default());
        }
    }
    let n = vals.len();
    let hd = ctx.hash(dst);
    let mut shard = ctx.db().lock(shard_of(hd));
    if n > 0 {
        let fill = lim.list_max_listpack_size;
        let mut l = List::new();
        l.grow(fill, vals.iter().map(Vec::len).sum(), n);
        for v in &vals {
            l.push(fill, v, false);
        }
        super::insert_key(
            ctx,
            &mut shard,
            ctx.client.db,
            hd,
            dst,
            Value::List(Box::new(l)),
            0,
            ctx.new_stamp(),
        );
        notify(ctx, NOTIFY_LIST, "sortstore", dst);
        dirty(ctx, n as u64);
    } else if super::remove_deleted(ctx, &mut shard, hd, dst) {
        notify(ctx, NOTIFY_GENERIC, "del", dst);
        dirty(ctx, 1);
    }
    Ok(Frame::Integer(n as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::list::tests::{s, H};

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn numeric_alpha_desc_limit() {
        let mut h = H::new();
        h.run("rpush l 3 1.5 -2 10 1e1 inf -inf");
        assert_eq!(
            h.strs("sort l"),
            s(&["-inf", "-2", "1.5", "3", "10", "1e1", "inf"])
        );
        assert_eq!(
            h.strs("sort l desc"),
            s(&["inf", "1e1", "10", "3", "1.5", "-2", "-inf"])
        );
        assert_eq!(h.strs("sort l limit 1 2"), s(&["-2", "1.5"]));
        assert_eq!(h.strs("sort l limit -5 2"), s(&["-inf", "-2"]));
        assert_eq!(h.strs("sort l limit 6 100"), s(&["inf"]));
        assert_eq!(h.strs("sort l limit 7 1"), s(&[]));
        assert_eq!(h.strs("sort l limit 0 0"), s(&[]));
        assert_eq!(h.strs("sort l limit 5 -1"), s(&["1e1", "inf"]));
        h.run("rpush a 2 1 3 10");
        assert_eq!(h.strs("sort a alpha"), s(&["1", "10", "2", "3"]));
        assert_eq!(h.strs("sort a ALPHA DESC"), s(&["3", "2", "10", "1"]));
        assert_eq!(h.strs("sort nokey"), s(&[]));
    }

    #[test]
    fn errors() {
        let mut h = H::new();
        h.run("sadd s 1 2 x");
        assert_eq!(
            h.err("sort s"),
            "ERR One or more scores can't be converted into double"
        );
        h.run("set str v");
        assert_eq!(h.err("sort str"), WRONGTYPE);
        assert_eq!(h.err("sort str bogus"), "ERR syntax error");
        assert_eq!(h.err("sort s limit 1"), "ERR syntax error");
        assert_eq!(
            h.err("sort s limit a 1"),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(h.err("sort_ro s store d"), "ERR syntax error");
        assert_eq!(
            h.err("sort"),
            "ERR wrong number of arguments for 'sort' command"
        );
        h.run("rpush bad 1 nan");
        assert!(h.err("sort bad").contains("double"));
        h.run("rpush big 1 1e400");
        assert!(h.err("sort big").contains("double"));
    }

    #[test]
    fn by_and_get_patterns() {
        let mut h = H::new();
        h.run("rpush l a b c d");
        h.run("mset w_a 3 w_b 1 w_c 2");
        h.run("hset o_a f 30");
        h.run("hset o_b f 10");
        h.run("hset o_c f 20");
        h.run("hset o_d f 40");
        // Missing weights count as 0; ties fall back to the element.
        assert_eq!(h.strs("sort l by w_*"), s(&["d", "b", "c", "a"]));
        assert_eq!(h.strs("sort l by o_*->f"), s(&["b", "c", "a", "d"]));
        assert_eq!(h.strs("sort l by o_*->f desc limit 0 2"), s(&["d", "a"]));
        assert_eq!(
            h.strs("sort l by w_* get # get w_* get o_*->f"),
            s(&["d", "(nil)", "40", "b", "1", "10", "c", "2", "20", "a", "3", "30"])
        );
        assert_eq!(
            h.strs("sort_ro l by nosort get nokey"),
            s(&["(nil)", "(nil)", "(nil)", "(nil)"])
        );
        // ALPHA with BY: missing weights first.
        h.run("mset x_a zz x_b aa");
        assert_eq!(h.strs("sort l by x_* alpha"), s(&["c", "d", "b", "a"]));
        // `->` at the end is part of the key name.
        h.run("set k:a-> 100");
        assert_eq!(h.strs("sort l by nosort get k:*-> limit 0 1"), s(&["100"]));
        // Wrong types behind patterns read as missing.
        h.run("set o_a str");
        assert_eq!(
            h.strs("sort l by nosort get o_*->f get w_*"),
            s(&["(nil)", "3", "10", "1", "20", "2", "40", "(nil)"])
        );
    }

    #[test]
    fn nosort_keeps_native_order() {
        let mut h = H::new();
        h.run("lpush l 2 1 4 3 5");
        assert_eq!(h.strs("sort l by nosort"), s(&["5", "3", "4", "1", "2"]));
        assert_eq!(
            h.strs("sort l by nosort desc"),
            s(&["2", "1", "4", "3", "5"])
        );
        assert_eq!(h.strs("sort l by nosort limit 1 2"), s(&["3", "4"]));
        assert_eq!(h.strs("sort l by nosort desc limit 1 2"), s(&["1", "4"]));
        h.run("zadd z 1 a 5 b 2 c 10 d 3 e");
        assert_eq!(h.strs("sort z by nosort"), s(&["a", "c", "e", "b", "d"]));
        assert_eq!(
            h.strs("sort z by nosort desc"),
            s(&["d", "b", "e", "c", "a"])
        );
        assert_eq!(h.strs("sort z by nosort desc limit 0 2"), s(&["d", "b"]));
        assert_eq!(h.strs("sort z by nosort limit 5 10"), s(&[]));
        assert_eq!(
            h.strs("sort z by nosort limit -10 100"),
            s(&["a", "c", "e", "b", "d"])
        );
        assert_eq!(h.strs("sort z alpha desc"), s(&["e", "d", "c", "b", "a"]));
        assert_eq!(h.enc("z"), "skiplist");
        // A set stored without sorting is sorted ALPHA.
        h.run("sadd st c a b");
        assert_eq!(h.int("sort st by nosort store out"), 3);
        assert_eq!(h.strs("lrange out 0 -1"), s(&["a", "b", "c"]));
    }

    #[test]
    fn store() {
        let mut h = H::new();
        h.run("rpush l 3 1 2");
        h.run("set dst x");
        h.run("expire dst 100");
        assert_eq!(h.int("sort l store dst"), 3);
        assert_eq!(h.strs("lrange dst 0 -1"), s(&["1", "2", "3"]));
        assert_eq!(h.int("ttl dst"), -1);
        assert_eq!(h.enc("dst"), "listpack");
        assert_eq!(h.int("sort l get nokey_* store dst"), 3);
        assert_eq!(h.strs("lrange dst 0 -1"), s(&["", "", ""]));
        assert_eq!(h.int("sort l limit 10 10 store dst"), 0);
        assert_eq!(h.int("exists dst"), 0);
        assert_eq!(h.int("sort nokey store l"), 0);
        assert_eq!(h.int("exists l"), 0);
        h.run("rpush l 1");
        assert_eq!(h.int("sort l store a store b"), 1);
        assert_eq!(h.int("exists a"), 0);
        assert_eq!(h.int("exists b"), 1);
    }

    #[test]
    fn get_keys() {
        let a = |l: &str| {
            let w: Vec<&[u8]> = l.split_whitespace().map(str::as_bytes).collect();
            sort_get_keys(&w)
        };
        assert_eq!(a("sort abc store def"), vec![1, 3]);
        assert_eq!(
            a("sort abc store invalid store stillbad store def"),
            vec![1, 7]
        );
        assert_eq!(a("sort abc get store x"), vec![1]);
        assert_eq!(a("sort abc"), vec![1]);
    }
}
