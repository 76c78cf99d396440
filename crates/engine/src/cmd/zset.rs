//! Sorted set commands. (ZMPOP and the blocking BZPOP* come later.)

use ferrokey_resp::{Bulks, Frame};

use super::hash::{push_pair, scan_reply};
use super::keys::parse_cursor;
use super::list::clamp_range;
use super::{dirty, is, lookup_read, lookup_write, parse_int};
use super::{notify, NOTIFY_GENERIC, NOTIFY_ZSET};
use crate::blocking::{self, block_or_run, parse_timeout};
use crate::cfloat::{range_bound, string2d};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::config::glob_match;
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked, Shard, Slot};
use crate::types::set::Set;
use crate::types::zset::{cmp_entry, ZSet};
use crate::types::{parse_rand_count, parse_scan_opts, Limits};
use crate::value::Value;

const ZS: &[&str] = &["@sortedset"];

macro_rules! z {
    ($name:expr, $arity:expr, $flags:expr, $h:expr, $since:expr, $sum:expr) => {
        CommandSpec::new($name, $arity, $flags, $h)
            .keys(1, 1, 1)
            .acl(ZS)
            .doc("sorted-set", $since, $sum)
    };
}

/// The sorted set family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    z!("zadd", -4, WRITE | DENYOOM | FAST, zadd, "1.2.0", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."),
    z!("zincrby", 4, WRITE | DENYOOM | FAST, zincrby, "1.2.0", "Increments the score of a member in a sorted set."),
    z!("zrem", -3, WRITE | FAST, zrem, "1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."),
    z!("zcard", 2, READONLY | FAST, zcard, "1.2.0", "Returns the number of members in a sorted set."),
    z!("zcount", 4, READONLY | FAST, zcount, "2.0.0", "Returns the count of members in a sorted set that have scores within a range."),
    z!("zlexcount", 4, READONLY | FAST, zlexcount, "2.8.9", "Returns the number of members in a sorted set within a lexicographical range."),
    z!("zscore", 3, READONLY | FAST, zscore, "1.2.0", "Returns the score of a member in a sorted set."),
    z!("zmscore", -3, READONLY | FAST, zmscore, "6.2.0", "Returns the score of one or more members in a sorted set."),
    z!("zrank", -3, READONLY | FAST, zrank, "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores."),
    z!("zrevrank", -3, READONLY | FAST, zrevrank, "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores."),
    z!("zrange", -4, READONLY, zrange, "1.2.0", "Returns members in a sorted set within a range of indexes."),
    z!("zrevrange", -4, READONLY, zrevrange, "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order."),
    z!("zrangebyscore", -4, READONLY, zrangebyscore, "1.0.5", "Returns members in a sorted set within a range of scores."),
    z!("zrevrangebyscore", -4, READONLY, zrevrangebyscore, "2.2.0", "Returns members in a sorted set within a range of scores in reverse order."),
    z!("zrangebylex", -4, READONLY, zrangebylex, "2.8.9", "Returns members in a sorted set within a lexicographical range."),
    z!("zrevrangebylex", -4, READONLY, zrevrangebylex, "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order."),
    CommandSpec::new("zrangestore", -5, WRITE | DENYOOM, zrangestore)
        .keys(1, 2, 1)
        .acl(ZS)
        .doc("sorted-set", "6.2.0", "Stores a range of members from sorted set in a key."),
    z!("zremrangebyrank", 4, WRITE, zremrangebyrank, "2.0.0", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."),
    z!("zremrangebyscore", 4, WRITE, zremrangebyscore, "1.2.0", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."),
    z!("zremrangebylex", 4, WRITE, zremrangebylex, "2.8.9", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."),
    z!("zpopmin", -2, WRITE | FAST, zpopmin, "5.0.0", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
    z!("zpopmax", -2, WRITE | FAST, zpopmax, "5.0.0", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
    CommandSpec::new("zmpop", -4, WRITE | MOVABLEKEYS, zmpop)
        .keys(2, 2, 1)
        .acl(ZS)
        .doc("sorted-set", "7.0.0", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped."),
    CommandSpec::new("bzpopmin", -3, WRITE | FAST | BLOCKING, bzpopmin)
        .keys(1, -2, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "DELETE"], 1, -2, 1)])
        .acl(ZS)
        .doc("sorted-set", "5.0.0", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    CommandSpec::new("bzpopmax", -3, WRITE | FAST | BLOCKING, bzpopmax)
        .keys(1, -2, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "DELETE"], 1, -2, 1)])
        .acl(ZS)
        .doc("sorted-set", "5.0.0", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped."),
    // As ZMPOP: the keys follow numkeys; the first key's position is given.
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, bzmpop)
        .keys(3, 3, 1)
        .acl(ZS)
        .doc("sorted-set", "7.0.0", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    z!("zrandmember", -2, READONLY, zrandmember, "6.2.0", "Returns one or more random members from a sorted set."),
    z!("zscan", -3, READONLY, zscan, "2.8.0", "Iterates over members and scores of a sorted set."),
    CommandSpec::new("zunion", -3, READONLY | MOVABLEKEYS, zunion)
        .acl(ZS)
        .doc("sorted-set", "6.2.0", "Returns the union of multiple sorted sets."),
    CommandSpec::new("zinter", -3, READONLY | MOVABLEKEYS, zinter)
        .acl(ZS)
        .doc("sorted-set", "6.2.0", "Returns the intersect of multiple sorted sets."),
    CommandSpec::new("zdiff", -3, READONLY | MOVABLEKEYS, zdiff)
        .acl(ZS)
        .doc("sorted-set", "6.2.0", "Returns the difference between multiple sorted sets."),
    CommandSpec::new("zintercard", -3, READONLY | MOVABLEKEYS, zintercard)
        .acl(ZS)
        .doc("sorted-set", "7.0.0", "Returns the number of members of the intersect of multiple sorted sets."),
    CommandSpec::new("zunionstore", -4, WRITE | DENYOOM | MOVABLEKEYS, zunionstore)
        .keys(1, 1, 1)
        .acl(ZS)
        .doc("sorted-set", "2.0.0", "Stores the union of multiple sorted sets in a key."),
    CommandSpec::new("zinterstore", -4, WRITE | DENYOOM | MOVABLEKEYS, zinterstore)
        .keys(1, 1, 1)
        .acl(ZS)
        .doc("sorted-set", "2.0.0", "Stores the intersect of multiple sorted sets in a key."),
    CommandSpec::new("zdiffstore", -4, WRITE | DENYOOM | MOVABLEKEYS, zdiffstore)
        .keys(1, 1, 1)
        .acl(ZS)
        .doc("sorted-set", "6.2.0", "Stores the difference of multiple sorted sets in a key."),
];

const NAN_ERR: CmdError = CmdError::msg("ERR resulting score is not a number (NaN)");
const SCORE_RANGE_ERR: CmdError = CmdError::msg("ERR min or max is not a float");
const LEX_RANGE_ERR: CmdError = CmdError::msg("ERR min or max not valid string range item");

pub(crate) fn as_zset(e: &Slot) -> Result<&ZSet, CmdError> {
    match e.value() {
        Value::ZSet(v) => Ok(v),
        _ => Err(CmdError::WrongType),
    }
}

fn as_zset_mut(e: &mut Slot) -> Result<&mut ZSet, CmdError> {
    match e.value_mut() {
        Value::ZSet(v) => Ok(v),
        _ => Err(CmdError::WrongType),
    }
}

pub(crate) fn read_zset(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    missing: Frame,
    f: impl FnOnce(&ZSet) -> CmdResult,
) -> CmdResult {
    super::read_entry(ctx, key, missing, |e| f(as_zset(e)?))
}

/// Removes the key when its sorted set is empty.
fn drop_if_empty(shard: &mut Shard, h: u64, key: &[u8], now_ms: u64) -> bool {
    if matches!(shard.peek(h, key, now_ms).map(|e| e.value()), Some(Value::ZSet(z)) if z.is_empty())
    {
        shard.remove(h, key);
        return true;
    }
    false
}

/// After removing `n` members: announces `event` (when something went),
/// then deletes an emptied key, announcing `del`.
fn after_removal(ctx: &Ctx<'_>, shard: &mut Shard, h: u64, key: &[u8], n: usize, event: &str) {
    if n > 0 {
        notify(ctx, NOTIFY_ZSET, event, key);
    }
    if drop_if_empty(shard, h, key, ctx.now_ms) {
        notify(ctx, NOTIFY_GENERIC, "del", key);
    }
}

fn parse_score(a: &[u8]) -> Result<f64, CmdError> {
    string2d(a).ok_or(CmdError::NotFloat)
}

// ---- ZADD / ZINCRBY ------------------------------------------------------

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

fn zadd_generic(ctx: &mut Ctx<'_>, key: &[u8], f: AddFlags, pairs: &[(f64, &[u8])]) -> CmdResult {
    let lim = Limits::of(ctx);
    // Redis sizes a new set by the pair count and the first member's
    // length, and converts an existing listpack up front by the count only;
    // a long member converts it when (and only if) it is inserted.
    let first_len = pairs.first().map_or(0, |p| p.1.len());
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let mut fresh: Option<ZSet> = None;
    let (mut added, mut updated, mut processed, mut last) = (0u64, 0u64, false, 0.0);
    {
        let z: &mut ZSet = match lookup_write(ctx, &mut shard, h, key) {
            Some(e) => {
                let z = as_zset_mut(e)?;
                z.reserve(pairs.len(), 0, &lim);
                z
            }
            None if f.xx => {
                return Ok(if f.incr {
                    Frame::Null
                } else {
                    Frame::Integer(0)
                });
            }
            None => fresh.insert(ZSet::create(pairs.len(), first_len, &lim)),
        };
        for &(score, m) in pairs {
            match z.score(m) {
                Some(cur) => {
                    if f.nx {
                        continue;
                    }
                    let new = if f.incr { cur + score } else { score };
                    if new.is_nan() {
                        return Err(NAN_ERR);
                    }
                    if (f.gt && new <= cur) || (f.lt && new >= cur) {
                        continue;
                    }
                    if new != cur {
                        z.insert(m, new, &lim);
                        updated += 1;
                    }
                    processed = true;
                    last = new;
                }
                None => {
                    if f.xx {
                        continue;
                    }
                    z.insert(m, score, &lim);
                    added += 1;
                    processed = true;
                    last = score;
                }
            }
        }
    }
    if let Some(z) = fresh {
        if !z.is_empty() {
            super::insert_key(
                ctx,
                &mut shard,
                ctx.client.db,
                h,
                key,
                Value::ZSet(z),
                0,
                ctx.new_stamp(),
            );
        }
    }
    if added + updated > 0 {
        notify(ctx, NOTIFY_ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    dirty(ctx, added + updated);
    Ok(if f.incr {
        if processed {
            Frame::Double(last)
        } else {
            Frame::Null
        }
    } else {
        Frame::Integer((added + if f.ch { updated } else { 0 }) as i64)
    })
}

fn zadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "ch") {
            f.ch = true;
        } else if is(a, "incr") {
            f.incr = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || rest.len() % 2 == 1 {
        return Err(CmdError::Syntax);
    }
    if f.xx && f.nx {
        return Err(CmdError::msg(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(CmdError::msg(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && rest.len() > 2 {
        return Err(CmdError::msg(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let pairs = rest
        .chunks(2)
        .map(|c| Ok((parse_score(c[0])?, c[1])))
        .collect::<Result<Vec<_>, CmdError>>()?;
    zadd_generic(ctx, args[1], f, &pairs)
}

/// ZADD as GEOADD calls it: scores already computed, NX/XX/CH parsed.
pub(crate) fn add_scores(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    nx: bool,
    xx: bool,
    ch: bool,
    pairs: &[(f64, &[u8])],
) -> CmdResult {
    let f = AddFlags {
        nx,
        xx,
        ch,
        ..AddFlags::default()
    };
    zadd_generic(ctx, key, f, pairs)
}

fn zincrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let by = parse_score(args[2])?;
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(ctx, args[1], f, &[(by, args[3])])
}

fn zrem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let z = as_zset_mut(e)?;
    let n = args[2..].iter().filter(|m| z.remove(m).is_some()).count();
    after_removal(ctx, &mut shard, h, key, n, "zrem");
    dirty(ctx, n as u64);
    Ok(Frame::Integer(n as i64))
}

fn zcard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_zset(ctx, args[1], Frame::Integer(0), |z| {
        Ok(Frame::Integer(z.len() as i64))
    })
}

fn zscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    read_zset(ctx, args[1], Frame::Null, |z| {
        Ok(z.score(args[2]).map_or(Frame::Null, Frame::Double))
    })
}

fn zmscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let ms = &args[2..];
    read_zset(
        ctx,
        args[1],
        Frame::Array(vec![Frame::Null; ms.len()]),
        |z| {
            Ok(Frame::Array(
                ms.iter()
                    .map(|m| z.score(m).map_or(Frame::Null, Frame::Double))
                    .collect(),
            ))
        },
    )
}

fn zrank_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], rev: bool) -> CmdResult {
    if args.len() > 4 {
        return Err(ctx.arity_error());
    }
    let with_score = match args.get(3) {
        None => false,
        Some(a) if is(a, "withscore") => true,
        Some(_) => return Err(CmdError::Syntax),
    };
    let missing = if with_score {
        Frame::NullArray
    } else {
        Frame::Null
    };
    read_zset(ctx, args[1], missing.clone(), |z| {
        let Some(r) = z.rank(args[2]) else {
            return Ok(missing);
        };
        let r = if rev { z.len() - 1 - r } else { r };
        if with_score {
            let s = z.score(args[2]).unwrap_or(0.0);
            Ok(Frame::Array(vec![
                Frame::Integer(r as i64),
                Frame::Double(s),
            ]))
        } else {
            Ok(Frame::Integer(r as i64))
        }
    })
}

fn zrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrank_generic(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrank_generic(ctx, args, true)
}

// ---- ranges ---------------------------------------------------------------

/// A score interval.
#[derive(Debug, Clone, Copy)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

fn parse_score_bound(a: &[u8]) -> Option<(f64, bool)> {
    match a.strip_prefix(b"(") {
        Some(rest) => range_bound(rest).map(|v| (v, true)),
        None => range_bound(a).map(|v| (v, false)),
    }
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let (min, minex) = parse_score_bound(min).ok_or(SCORE_RANGE_ERR)?;
        let (max, maxex) = parse_score_bound(max).ok_or(SCORE_RANGE_ERR)?;
        Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        })
    }

    /// Ranks `start..end` of the entries inside the interval.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        if self.min > self.max || (self.min == self.max && (self.minex || self.maxex)) {
            return (0, 0);
        }
        let r = *self;
        let start = z.partition_point(&|s, _| if r.minex { s <= r.min } else { s < r.min });
        let end = z.partition_point(&|s, _| if r.maxex { s < r.max } else { s <= r.max });
        (start, end.max(start))
    }
}

/// One end of a lexicographic interval.
#[derive(Debug, Clone)]
enum Lex {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn parse_lex(a: &[u8]) -> Result<Lex, CmdError> {
    match a.first() {
        Some(b'-') if a.len() == 1 => Ok(Lex::NegInf),
        Some(b'+') if a.len() == 1 => Ok(Lex::PosInf),
        Some(b'[') => Ok(Lex::Incl(a[1..].to_vec())),
        Some(b'(') => Ok(Lex::Excl(a[1..].to_vec())),
        _ => Err(LEX_RANGE_ERR),
    }
}

#[derive(Debug, Clone)]
struct LexRange {
    min: Lex,
    max: Lex,
}

impl LexRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
        Ok(LexRange {
            min: parse_lex(min)?,
            max: parse_lex(max)?,
        })
    }

    fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            Lex::NegInf => true,
            Lex::PosInf => false,
            Lex::Incl(x) => m >= &x[..],
            Lex::Excl(x) => m > &x[..],
        }
    }

    fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            Lex::NegInf => false,
            Lex::PosInf => true,
            Lex::Incl(x) => m <= &x[..],
            Lex::Excl(x) => m < &x[..],
        }
    }

    /// Redis's test for a range that can hold nothing: min above max, or
    /// equal with either end open (`-` and `+` count as open).
    fn always_empty(&self) -> bool {
        use std::cmp::Ordering::*;
        let cmp = match (&self.min, &self.max) {
            (Lex::NegInf, Lex::NegInf) | (Lex::PosInf, Lex::PosInf) => Equal,
            (Lex::NegInf, _) | (_, Lex::PosInf) => Less,
            (Lex::PosInf, _) | (_, Lex::NegInf) => Greater,
            (Lex::Incl(a) | Lex::Excl(a), Lex::Incl(b) | Lex::Excl(b)) => a.cmp(b),
        };
        let open = |l: &Lex| !matches!(l, Lex::Incl(_));
        cmp == Greater || (cmp == Equal && (open(&self.min) || open(&self.max)))
    }

    /// The ranks a lex query visits in a listpack, walked as Redis walks
    /// it: from the first member at or above min (the last at or below max
    /// when `rev`), `offset` members skipped unchecked, then members while
    /// they stay within the far bound, at most `limit` (negative: no
    /// limit). With one score throughout this is the contiguous range
    /// [`LexRange::ranks`] finds; with mixed scores (where the order is not
    /// lexicographic) only this walk gives Redis's answer. A skiplist's
    /// answer then depends on its random levels, so it keeps the search.
    fn pack_walk(&self, z: &ZSet, rev: bool, offset: i64, limit: i64) -> Vec<usize> {
        // A listpack is walked, not indexed: read it once.
        let all = z.range(0, z.len());
        let n = all.len();
        let m = |i: usize| all[i].1;
        if offset < 0
            || n == 0
            || self.always_empty()
            || !self.gte_min(m(n - 1))
            || !self.lte_max(m(0))
        {
            return Vec::new();
        }
        let start = if rev {
            (0..n).rev().find(|&i| self.lte_max(m(i)))
        } else {
            (0..n).find(|&i| self.gte_min(m(i)))
        };
        let Some(start) = start else {
            return Vec::new();
        };
        let in_far_bound = |i: usize| {
            if rev {
                self.gte_min(m(i))
            } else {
                self.lte_max(m(i))
            }
        };
        if !in_far_bound(start) {
            return Vec::new();
        }
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut i = if rev {
            start.checked_sub(offset)
        } else {
            start.checked_add(offset).filter(|&i| i < n)
        };
        while let Some(at) = i {
            if (limit >= 0 && out.len() as i64 >= limit) || !in_far_bound(at) {
                break;
            }
            out.push(at);
            i = if rev {
                at.checked_sub(1)
            } else {
                Some(at + 1).filter(|&i| i < n)
            };
        }
        out
    }

    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let below_min = |m: &[u8]| match &self.min {
            Lex::NegInf => false,
            Lex::PosInf => true,
            Lex::Incl(x) => m < &x[..],
            Lex::Excl(x) => m <= &x[..],
        };
        let upto_max = |m: &[u8]| match &self.max {
            Lex::NegInf => false,
            Lex::PosInf => true,
            Lex::Incl(x) => m <= &x[..],
            Lex::Excl(x) => m < &x[..],
        };
        // Redis first rules out ranges that are empty by their bounds or
        // past either end of the set; with mixed scores (members out of
        // lexicographic order) that check alone decides some answers.
        let n = z.len();
        let m = |i: usize| z.at(i).map_or(&[][..], |e| e.1);
        if n == 0 || self.always_empty() || !self.gte_min(m(n - 1)) || !self.lte_max(m(0)) {
            return (0, 0);
        }
        let start = z.partition_point(&|_, m| below_min(m));
        let end = z.partition_point(&|_, m| upto_max(m));
        (start, end.max(start))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// Entries from `start..end` in order (or reversed), after skipping
/// `offset` and taking `limit` (negative: all), as ZRANGE's LIMIT does.
fn window(
    z: &ZSet,
    start: usize,
    end: usize,
    rev: bool,
    offset: i64,
    limit: i64,
) -> Vec<(f64, &[u8])> {
    if offset < 0 || start >= end {
        return Vec::new();
    }
    let n = end - start;
    let off = (offset as usize).min(n);
    let take = if limit < 0 {
        n - off
    } else {
        (limit as usize).min(n - off)
    };
    let (a, b) = if rev {
        (end - off - take, end - off)
    } else {
        (start + off, start + off + take)
    };
    let mut v = z.range(a, b);
    if rev {
        v.reverse();
    }
    v
}

/// Replies with members, and scores when asked: strings in one buffer
/// (scores as text, as RESP2 sends them), or member and double pairs in
/// RESP3.
fn reply_entries<M>(resp3: bool, v: Vec<(f64, M)>, with_scores: bool) -> Frame
where
    M: AsRef<[u8]> + Into<Vec<u8>>,
{
    if with_scores && resp3 {
        let pairs = v
            .into_iter()
            .map(|(s, m)| Frame::Array(vec![Frame::Bulk(m.into()), Frame::Double(s)]));
        return Frame::Array(pairs.collect());
    }
    let members: usize = v.iter().map(|(_, m)| m.as_ref().len()).sum();
    let mut out = if with_scores {
        // A score's text is rarely longer than 8 bytes.
        Bulks::with_capacity(v.len() * 2, members + v.len() * 8)
    } else {
        Bulks::with_capacity(v.len(), members)
    };
    for (s, m) in &v {
        out.push(m.as_ref());
        if with_scores {
            out.push_double(*s);
        }
    }
    Frame::Bulks(out)
}

/// Stores entries at `dst` (deleting it when empty); returns the count.
fn store_entries(
    ctx: &Ctx<'_>,
    shard: &mut Shard,
    h: u64,
    dst: &[u8],
    v: Vec<(f64, Vec<u8>)>,
    event: &str,
) -> i64 {
    let n = v.len();
    if n == 0 {
        if super::remove_deleted(ctx, shard, h, dst) {
            notify(ctx, NOTIFY_GENERIC, "del", dst);
            dirty(ctx, 1);
        }
    } else {
        let z = ZSet::from_entries(v, &Limits::of(ctx));
        super::insert_key(
            ctx,
            &mut *shard,
            ctx.client.db,
            h,
            dst,
            Value::ZSet(z),
            0,
            ctx.new_stamp(),
        );
        notify(ctx, NOTIFY_ZSET, event, dst);
        dirty(ctx, 1);
    }
    n as i64
}

/// ZRANGE and its older forms. `src` is the index of the source key;
/// `store` the destination key for ZRANGESTORE; `by`/`rev` are preset by
/// the older commands.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    src: usize,
    store: Option<&[u8]>,
    by: Option<By>,
    rev: Option<bool>,
) -> CmdResult {
    let (mut by_opt, mut rev_opt) = (by, rev);
    let mut with_scores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut j = src + 3;
    while j < args.len() {
        let a = args[j];
        let left = args.len() - j - 1;
        if is(a, "withscores") && store.is_none() {
            with_scores = true;
        } else if is(a, "limit") && left >= 2 {
            limit = Some((parse_int(args[j + 1])?, parse_int(args[j + 2])?));
            j += 2;
        } else if rev.is_none() && is(a, "rev") {
            rev_opt = Some(true);
        } else if by.is_none() && by_opt.is_none() && is(a, "bylex") {
            by_opt = Some(By::Lex);
        } else if by.is_none() && by_opt.is_none() && is(a, "byscore") {
            by_opt = Some(By::Score);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let by = by_opt.unwrap_or(By::Rank);
    let rev = rev_opt.unwrap_or(false);
    if limit.is_some() && by == By::Rank {
        return Err(CmdError::msg(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if with_scores && by == By::Lex {
        return Err(CmdError::msg(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (args[src + 1], args[src + 2]);
    if rev && by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    enum R {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let range = match by {
        By::Rank => R::Rank(parse_int(lo)?, parse_int(hi)?),
        By::Score => R::Score(ScoreRange::parse(lo, hi)?),
        By::Lex => R::Lex(LexRange::parse(lo, hi)?),
    };
    let (offset, count) = limit.unwrap_or((0, -1));
    let key = args[src];
    /// The entries the range selects.
    fn entries<'z>(
        z: &'z ZSet,
        range: &R,
        rev: bool,
        offset: i64,
        count: i64,
    ) -> Vec<(f64, &'z [u8])> {
        match range {
            R::Rank(s, e) => match clamp_range(*s, *e, z.len()) {
                None => Vec::new(),
                Some((s, e)) => {
                    let len = z.len();
                    if rev {
                        window(z, len - 1 - e, len - s, true, 0, -1)
                    } else {
                        window(z, s, e + 1, false, 0, -1)
                    }
                }
            },
            R::Score(r) => {
                let (a, b) = r.ranks(z);
                window(z, a, b, rev, offset, count)
            }
            R::Lex(r) if matches!(z, ZSet::Pack(_)) => {
                let all = z.range(0, z.len());
                r.pack_walk(z, rev, offset, count)
                    .into_iter()
                    .filter_map(|i| all.get(i).copied())
                    .collect()
            }
            R::Lex(r) => {
                let (a, b) = r.ranks(z);
                window(z, a, b, rev, offset, count)
            }
        }
    }
    match store {
        None => {
            let resp3 = ctx.client.resp >= 3;
            read_zset(ctx, key, Frame::Array(Vec::new()), |z| {
                Ok(reply_entries(
                    resp3,
                    entries(z, &range, rev, offset, count),
                    with_scores,
                ))
            })
        }
        Some(dst) => {
            let (hs, hd) = (ctx.hash(key), ctx.hash(dst));
            let mut locked = Locked::new(ctx.db(), [hs, hd].into_iter());
            // The source is read as ZRANGE reads it (a miss is announced).
            let v = match lookup_read(ctx, locked.shard(hs), hs, key) {
                None => Vec::new(),
                Some(e) => entries(as_zset(e)?, &range, rev, offset, count)
                    .into_iter()
                    .map(|(s, m)| (s, m.to_vec()))
                    .collect(),
            };
            Ok(Frame::Integer(store_entries(
                ctx,
                locked.shard(hd),
                hd,
                dst,
                v,
                "zrangestore",
            )))
        }
    }
}

fn zrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, None, None)
}

fn zrevrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Some(By::Rank), Some(true))
}

fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Some(By::Score), Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Some(By::Score), Some(true))
}

fn zrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Some(By::Lex), Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, Some(By::Lex), Some(true))
}

fn zrangestore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 2, Some(args[1]), None, None)
}

fn zcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let r = ScoreRange::parse(args[2], args[3])?;
    read_zset(ctx, args[1], Frame::Integer(0), |z| {
        let (a, b) = r.ranks(z);
        Ok(Frame::Integer((b - a) as i64))
    })
}

fn zlexcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let r = LexRange::parse(args[2], args[3])?;
    read_zset(ctx, args[1], Frame::Integer(0), |z| {
        if matches!(z, ZSet::Pack(_)) {
            return Ok(Frame::Integer(r.pack_walk(z, false, 0, -1).len() as i64));
        }
        let (a, b) = r.ranks(z);
        Ok(Frame::Integer((b - a) as i64))
    })
}

fn zremrange_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], by: By) -> CmdResult {
    enum R {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let range = match by {
        By::Rank => R::Rank(parse_int(args[2])?, parse_int(args[3])?),
        By::Score => R::Score(ScoreRange::parse(args[2], args[3])?),
        By::Lex => R::Lex(LexRange::parse(args[2], args[3])?),
    };
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let z = as_zset_mut(e)?;
    let (a, b) = match &range {
        R::Rank(s, e) => clamp_range(*s, *e, z.len()).map_or((0, 0), |(s, e)| (s, e + 1)),
        R::Score(r) => r.ranks(z),
        R::Lex(r) if matches!(z, ZSet::Pack(_)) => {
            let walk = r.pack_walk(z, false, 0, -1);
            // The walk is contiguous and ascending.
            walk.first().map_or((0, 0), |&a| (a, a + walk.len()))
        }
        R::Lex(r) => r.ranks(z),
    };
    let victims: Vec<Vec<u8>> = z.range(a, b).into_iter().map(|(_, m)| m.to_vec()).collect();
    for m in &victims {
        z.remove(m);
    }
    let event = match by {
        By::Rank => "zremrangebyrank",
        By::Score => "zremrangebyscore",
        By::Lex => "zremrangebylex",
    };
    after_removal(ctx, &mut shard, h, key, victims.len(), event);
    dirty(ctx, victims.len() as u64);
    Ok(Frame::Integer(victims.len() as i64))
}

fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, By::Rank)
}

fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, By::Score)
}

fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, By::Lex)
}

fn zpop_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], max: bool) -> CmdResult {
    let count = match args.len() {
        2 => None,
        3 => match parse_int(args[2]) {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => return Err(CmdError::msg("ERR value is out of range, must be positive")),
        },
        _ => return Err(CmdError::Syntax),
    };
    let resp3 = ctx.client.resp >= 3;
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Ok(Frame::Array(Vec::new()));
    };
    let z = as_zset_mut(e)?;
    let n = count.unwrap_or(1).min(z.len());
    let mut out = Vec::new();
    for _ in 0..n {
        let r = if max { z.len() - 1 } else { 0 };
        let Some((s, m)) = z.at(r).map(|(s, m)| (s, m.to_vec())) else {
            break;
        };
        z.remove(&m);
        push_pair(
            &mut out,
            resp3 && count.is_some(),
            Frame::Bulk(m),
            Frame::Double(s),
        );
    }
    after_removal(
        ctx,
        &mut shard,
        h,
        key,
        n,
        if max { "zpopmax" } else { "zpopmin" },
    );
    dirty(ctx, n as u64);
    Ok(Frame::Array(out))
}

/// Pops from the first non-empty sorted set of `keys` under `locked`: one
/// member as `[key, member, score]` without a count (BZPOPMIN/MAX), else
/// `[key, [[member, score], ...]]`; `None` when every set is empty.
pub fn pop_first(
    ctx: &mut Ctx<'_>,
    locked: &mut Locked<'_>,
    keys: &[&[u8]],
    max: bool,
    count: Option<usize>,
) -> Result<Option<Frame>, CmdError> {
    for k in keys {
        let h = ctx.hash(k);
        let shard = locked.shard(h);
        let Some(e) = lookup_write(ctx, shard, h, k) else {
            continue;
        };
        let z = as_zset_mut(e)?;
        if z.is_empty() {
            continue;
        }
        let n = count.unwrap_or(1).min(z.len());
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let r = if max { z.len() - 1 } else { 0 };
            let Some((sc, m)) = z.at(r).map(|(sc, m)| (sc, m.to_vec())) else {
                break;
            };
            z.remove(&m);
            out.push((m, sc));
        }
        after_removal(ctx, shard, h, k, n, if max { "zpopmax" } else { "zpopmin" });
        dirty(ctx, n as u64);
        // Propagated as the plain pop it came to (BZPOPMIN, ZMPOP...).
        let cmd: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
        match count {
            Some(_) => crate::propagate::rewrite_as(&[cmd, k, n.to_string().as_bytes()]),
            None => crate::propagate::rewrite_as(&[cmd, k]),
        }
        let reply = match count {
            Some(_) => vec![
                Frame::bulk(k),
                Frame::Array(
                    out.into_iter()
                        .map(|(m, sc)| Frame::Array(vec![Frame::Bulk(m), Frame::Double(sc)]))
                        .collect(),
                ),
            ],
            None => {
                let mut v = vec![Frame::bulk(k)];
                for (m, sc) in out {
                    v.push(Frame::Bulk(m));
                    v.push(Frame::Double(sc));
                }
                v
            }
        };
        return Ok(Some(Frame::Array(reply)));
    }
    Ok(None)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops from the first
/// non-empty sorted set; replies `[key, [[member, score], ...]]` or null.
fn zmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (keys, min, count) = super::parse_mpop(args, "min", "max")?;
    let mut locked = Locked::new(ctx.db(), keys.iter().map(|k| ctx.hash(k)));
    Ok(pop_first(ctx, &mut locked, &keys, !min, Some(count))?.unwrap_or(Frame::NullArray))
}

/// BZPOPMIN / BZPOPMAX key [key ...] timeout.
fn bzpop_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], max: bool) -> CmdResult {
    let deadline = parse_timeout(args[args.len() - 1], ctx.now_ms)?;
    block_or_run(
        ctx,
        &args[1..args.len() - 1],
        blocking::Op::ZPop { max },
        deadline,
    )
}

fn bzpopmin(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bzpop_generic(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bzpop_generic(ctx, args, true)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count].
fn bzmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let deadline = parse_timeout(args[1], ctx.now_ms)?;
    let (keys, min, count) = super::parse_mpop(&args[1..], "min", "max")?;
    block_or_run(
        ctx,
        &keys,
        blocking::Op::ZMPop { max: !min, count },
        deadline,
    )
}

fn zpopmin(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zpop_generic(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zpop_generic(ctx, args, true)
}

fn zrandmember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() == 2 {
        return read_zset(ctx, args[1], Frame::Null, |z| {
            let mut rng = rand::thread_rng();
            Ok(z.random(1, true, &mut rng)
                .pop()
                .map_or(Frame::Null, |(_, m)| Frame::Bulk(m)))
        });
    }
    let with_scores = match args.len() {
        3 => false,
        4 if is(args[3], "withscores") => true,
        _ => return Err(CmdError::Syntax),
    };
    let (count, distinct) = parse_rand_count(args[2], with_scores)?;
    let resp3 = ctx.client.resp >= 3;
    read_zset(ctx, args[1], Frame::Array(Vec::new()), |z| {
        let mut rng = rand::thread_rng();
        let picked = if count == 0 {
            Vec::new()
        } else {
            z.random(count, distinct, &mut rng)
        };
        Ok(reply_entries(resp3, picked, with_scores))
    })
}

fn zscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2])?;
    read_zset(ctx, args[1], scan_reply(0, Vec::new()), |z| {
        let (pattern, count, _) = parse_scan_opts(&args[3..], false)?;
        let (next, entries) = z.scan(cursor, count);
        // Redis copies a listpack's score text as stored (what a reply
        // double prints) but formats a skiplist's with `%.17g`.
        let skiplist = matches!(z, ZSet::Skip { .. });
        let mut out = Vec::new();
        for (s, m) in entries {
            if pattern.is_some_and(|p| !glob_match(p, &m, false)) {
                continue;
            }
            let mut t = Vec::new();
            if skiplist {
                ferrokey_resp::format_double_g17(s, &mut t);
            } else {
                ferrokey_resp::format_double(s, &mut t);
            }
            out.push(Frame::Bulk(m));
            out.push(Frame::Bulk(t));
        }
        Ok(scan_reply(next, out))
    })
}

// ---- ZUNION / ZINTER / ZDIFF ------------------------------------------------

/// A source of a set operation: sorted sets, or plain sets (score 1).
enum Input {
    Empty,
    Z(ZSet),
    S(Set),
}

impl Input {
    fn len(&self) -> usize {
        match self {
            Input::Empty => 0,
            Input::Z(z) => z.len(),
            Input::S(s) => s.len(),
        }
    }

    fn entries(&self) -> Vec<(f64, Vec<u8>)> {
        match self {
            Input::Empty => Vec::new(),
            Input::Z(z) => z
                .range(0, z.len())
                .into_iter()
                .map(|(s, m)| (s, m.to_vec()))
                .collect(),
            Input::S(s) => s.iter().map(|m| (1.0, m.into_owned())).collect(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Input::Empty => None,
            Input::Z(z) => z.score(m),
            Input::S(s) => s.contains(m).then_some(1.0),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// Folds `b` into the running score `a` as Redis does: a NaN sum
/// (inf + -inf, or a NaN `b`) becomes 0; MIN and MAX keep `a` unless `b`
/// compares strictly lower (higher), so a NaN `b` or a -0/0 tie leaves it.
fn aggregate(agg: Agg, a: f64, b: f64) -> f64 {
    match agg {
        Agg::Sum => {
            let s = a + b;
            if s.is_nan() {
                0.0
            } else {
                s
            }
        }
        Agg::Min => {
            if b < a {
                b
            } else {
                a
            }
        }
        Agg::Max => {
            if b > a {
                b
            } else {
                a
            }
        }
    }
}

fn weighted(w: f64, s: f64) -> f64 {
    let v = w * s;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The inputs of a set operation, each read as a read command reads it,
/// the STORE forms' sources too (a miss counts and is announced).
fn load_inputs(
    ctx: &Ctx<'_>,
    locked: &mut Locked<'_>,
    keys: &[&[u8]],
) -> Result<Vec<Input>, CmdError> {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let h = ctx.hash(k);
        let shard = locked.shard(h);
        out.push(match lookup_read(ctx, shard, h, k).map(|e| e.value()) {
            None => Input::Empty,
            Some(Value::ZSet(z)) => Input::Z(z.clone()),
            Some(Value::Set(s)) => Input::S((**s).clone()),
            Some(_) => return Err(CmdError::WrongType),
        });
    }
    Ok(out)
}

fn combine(
    inputs: &[Input],
    weights: &[f64],
    op: Op,
    agg: Agg,
    limit: usize,
) -> Vec<(f64, Vec<u8>)> {
    let mut out: Vec<(f64, Vec<u8>)> = Vec::new();
    match op {
        Op::Union => {
            let mut acc: std::collections::HashMap<Vec<u8>, f64> = std::collections::HashMap::new();
            let mut order: Vec<Vec<u8>> = Vec::new();
            for (inp, &w) in inputs.iter().zip(weights) {
                for (s, m) in inp.entries() {
                    let v = weighted(w, s);
                    match acc.get_mut(&m) {
                        Some(cur) => *cur = aggregate(agg, *cur, v),
                        None => {
                            acc.insert(m.clone(), v);
                            order.push(m);
                        }
                    }
                }
            }
            out = order
                .into_iter()
                .map(|m| (acc.get(&m).copied().unwrap_or(0.0), m))
                .collect();
        }
        Op::Inter => {
            let mut idx: Vec<usize> = (0..inputs.len()).collect();
            idx.sort_by_key(|&i| inputs[i].len());
            let Some((&first, rest)) = idx.split_first() else {
                return out;
            };
            for (s, m) in inputs[first].entries() {
                if out.len() >= limit {
                    break;
                }
                let mut v = weighted(weights[first], s);
                let mut all = true;
                for &j in rest {
                    // Unlike the first input's, these products are not
                    // cleared of NaN (0 * inf) before aggregating.
                    match inputs[j].score(&m) {
                        Some(sj) => v = aggregate(agg, v, weights[j] * sj),
                        None => {
                            all = false;
                            break;
                        }
                    }
                }
                if all {
                    out.push((v, m));
                }
            }
        }
        Op::Diff => {
            if let Some((first, rest)) = inputs.split_first() {
                out = first
                    .entries()
                    .into_iter()
                    .filter(|(_, m)| !rest.iter().any(|r| r.score(m).is_some()))
                    .collect();
            }
        }
    }
    out.sort_by(|a, b| cmp_entry((a.0, &a.1), (b.0, &b.1)));
    out
}

/// ZUNION/ZINTER/ZDIFF and their STORE forms. `nk` is the index of
/// numkeys; `dst` the destination for the STORE forms.
fn setop_generic(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    nk: usize,
    dst: Option<&[u8]>,
    op: Op,
) -> CmdResult {
    let n = parse_int(args[nk])?;
    if n < 1 {
        return Err(CmdError::owned(format!(
            "ERR at least 1 input key is needed for '{}' command",
            ctx.full_name
        )));
    }
    let n = n as usize;
    if n > args.len() - nk - 1 {
        return Err(CmdError::Syntax);
    }
    let keys = &args[nk + 1..nk + 1 + n];
    let mut all_keys: Vec<&[u8]> = keys.to_vec();
    if let Some(d) = dst {
        all_keys.push(d);
    }
    let hs: Vec<u64> = all_keys.iter().map(|k| ctx.hash(k)).collect();
    let mut locked = Locked::new(ctx.db(), hs.into_iter());
    let inputs = load_inputs(ctx, &mut locked, keys)?;
    let mut weights = vec![1.0; n];
    let mut agg = Agg::Sum;
    let mut with_scores = false;
    let mut j = nk + 1 + n;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args[j];
        if op != Op::Diff && remaining > n && is(a, "weights") {
            for (i, w) in weights.iter_mut().enumerate() {
                *w = string2d(args[j + 1 + i])
                    .ok_or(CmdError::msg("ERR weight value is not a float"))?;
            }
            j += 1 + n;
        } else if op != Op::Diff && remaining >= 2 && is(a, "aggregate") {
            let v = args[j + 1];
            agg = if is(v, "sum") {
                Agg::Sum
            } else if is(v, "min") {
                Agg::Min
            } else if is(v, "max") {
                Agg::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if dst.is_none() && is(a, "withscores") {
            with_scores = true;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let result = combine(&inputs, &weights, op, agg, usize::MAX);
    match dst {
        None => Ok(reply_entries(ctx.client.resp >= 3, result, with_scores)),
        Some(d) => {
            let h = ctx.hash(d);
            let event = match op {
                Op::Union => "zunionstore",
                Op::Inter => "zinterstore",
                Op::Diff => "zdiffstore",
            };
            Ok(Frame::Integer(store_entries(
                ctx,
                locked.shard(h),
                h,
                d,
                result,
                event,
            )))
        }
    }
}

fn zunion(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, 1, None, Op::Union)
}

fn zinter(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, 1, None, Op::Inter)
}

fn zdiff(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, 1, None, Op::Diff)
}

fn zunionstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, 2, Some(args[1]), Op::Union)
}

fn zinterstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, 2, Some(args[1]), Op::Inter)
}

fn zdiffstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, 2, Some(args[1]), Op::Diff)
}

/// ZINTERCARD shares ZINTER's argument handling, not SINTERCARD's: its own
/// numkeys errors, and the keys are type-checked before LIMIT is read.
fn zintercard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let numkeys = parse_int(args[1])?;
    if numkeys < 1 {
        return Err(CmdError::msg(
            "ERR at least 1 input key is needed for 'zintercard' command",
        ));
    }
    if numkeys > (args.len() - 2) as i64 {
        return Err(CmdError::Syntax);
    }
    let keys = &args[2..2 + numkeys as usize];
    let hs: Vec<u64> = keys.iter().map(|k| ctx.hash(k)).collect();
    let mut locked = Locked::new(ctx.db(), hs.into_iter());
    let inputs = load_inputs(ctx, &mut locked, keys)?;
    let mut limit = usize::MAX;
    let mut j = 2 + keys.len();
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
    let weights = vec![1.0; keys.len()];
    Ok(Frame::Integer(
        combine(&inputs, &weights, Op::Inter, Agg::Sum, limit).len() as i64,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::list::tests::{s, H};
    use ferrokey_resp::Frame;

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

    #[test]
    fn zadd_flags() {
        let mut h = H::new();
        assert_eq!(h.int("zadd z 1 a 2 b 3 c"), 3);
        assert_eq!(h.int("zadd z ch 5 a 2 b 4 d"), 2);
        assert_eq!(h.int("zadd z nx 9 a 9 e"), 1);
        assert_eq!(h.int("zadd z xx ch 9 a 9 f"), 1);
        assert_eq!(h.int("zadd z gt ch 1 a"), 0);
        assert_eq!(h.int("zadd z lt ch 1 a"), 1);
        assert_eq!(h.strs("zadd z incr 2.5 a"), s(&["3.5"]));
        assert_eq!(h.run("zadd z nx incr 1 a"), Frame::Null);
        assert_eq!(h.run("zadd nokey xx incr 1 a"), Frame::Null);
        assert_eq!(h.int("exists nokey"), 0);
        assert_eq!(h.strs("zincrby z 1 a"), s(&["4.5"]));
        assert!(matches!(h.run("zincrby z 1 a"), Frame::Double(_)));
        assert_eq!(
            h.err("zadd z xx nx 1 a"),
            "ERR XX and NX options at the same time are not compatible"
        );
        assert_eq!(
            h.err("zadd z gt lt 1 a"),
            "ERR GT, LT, and/or NX options at the same time are not compatible"
        );
        assert_eq!(
            h.err("zadd z incr 1 a 2 b"),
            "ERR INCR option supports a single increment-element pair"
        );
        assert_eq!(h.err("zadd z 1 a 2"), "ERR syntax error");
        assert_eq!(h.err("zadd z nan a"), "ERR value is not a valid float");
        assert_eq!(h.err("zincrby z x a"), "ERR value is not a valid float");
        h.run("zadd i 0 x");
        h.run("zadd i incr inf x");
        assert_eq!(
            h.err("zadd i incr -inf x"),
            "ERR resulting score is not a number (NaN)"
        );
        h.run("set str x");
        assert_eq!(h.err("zadd str 1 a"), WRONGTYPE);
        assert_eq!(h.err("zrange str 0 1"), WRONGTYPE);
    }

    #[test]
    fn reads() {
        let mut h = H::new();
        h.run("zadd z 1 a 2 b 3 c 3 d");
        assert_eq!(h.int("zcard z"), 4);
        assert_eq!(h.strs("zscore z c"), s(&["3"]));
        assert_eq!(h.strs("zmscore z a x"), s(&["1", "(nil)"]));
        assert_eq!(h.int("zrank z c"), 2);
        assert_eq!(h.int("zrevrank z c"), 1);
        assert_eq!(h.strs("zrank z d withscore"), s(&["3", "3"]));
        assert_eq!(h.run("zrank z x withscore"), Frame::NullArray);
        assert_eq!(h.int("zcount z (1 3"), 3);
        assert_eq!(h.int("zcount z -inf +inf"), 4);
        assert_eq!(h.err("zcount z x 1"), "ERR min or max is not a float");
        assert_eq!(h.strs("zrange z 0 -1"), s(&["a", "b", "c", "d"]));
        assert_eq!(h.strs("zrange z 0 1 withscores"), s(&["a", "1", "b", "2"]));
        assert_eq!(h.strs("zrange z 0 1 rev"), s(&["d", "c"]));
        assert_eq!(h.strs("zrevrange z 1 2"), s(&["c", "b"]));
        assert_eq!(h.strs("zrange z (1 3 byscore limit 1 1"), s(&["c"]));
        assert_eq!(h.strs("zrange z 3 (1 byscore rev"), s(&["d", "c", "b"]));
        assert_eq!(h.strs("zrangebyscore z -inf +inf limit -1 2"), s(&[]));
        assert_eq!(
            h.strs("zrangebyscore z -inf +inf limit 1 -1"),
            s(&["b", "c", "d"])
        );
        assert_eq!(
            h.strs("zrevrangebyscore z 2 -inf withscores"),
            s(&["b", "2", "a", "1"])
        );
        assert_eq!(
            h.err("zrange z 0 1 limit 0 1"),
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        );
        assert_eq!(
            h.err("zrange z - + bylex withscores"),
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
        );
        assert_eq!(h.err("zrangebyscore z 0 1 byscore"), "ERR syntax error");
        h.run("zadd l 0 a 0 b 0 c 0 d 0 e");
        assert_eq!(h.strs("zrangebylex l [b (d"), s(&["b", "c"]));
        assert_eq!(h.strs("zrevrangebylex l + (c"), s(&["e", "d"]));
        assert_eq!(h.strs("zrange l - + bylex limit 1 2"), s(&["b", "c"]));
        assert_eq!(h.int("zlexcount l - +"), 5);
        assert_eq!(
            h.err("zlexcount l a b"),
            "ERR min or max not valid string range item"
        );
        assert_eq!(h.int("zrangestore dst l [b +  bylex"), 4);
        assert_eq!(h.strs("zrange dst 0 -1"), s(&["b", "c", "d", "e"]));
        assert_eq!(h.int("zrangestore dst nokey 0 -1"), 0);
        assert_eq!(h.int("exists dst"), 0);
        assert_eq!(
            h.strs("zscan z 0"),
            s(&["0", "a", "1", "b", "2", "c", "3", "d", "3"])
        );
    }

    #[test]
    fn removals_and_pops() {
        let mut h = H::new();
        h.run("zadd z 1 a 2 b 3 c 4 d 5 e");
        assert_eq!(h.int("zrem z a x"), 1);
        assert_eq!(h.int("zremrangebyrank z 0 0"), 1);
        assert_eq!(h.int("zremrangebyscore z (3 4"), 1);
        assert_eq!(h.strs("zrange z 0 -1"), s(&["c", "e"]));
        assert_eq!(h.strs("zpopmin z"), s(&["c", "3"]));
        assert_eq!(h.strs("zpopmax z 5"), s(&["e", "5"]));
        assert_eq!(h.int("exists z"), 0);
        assert_eq!(h.run("zpopmin z"), Frame::Array(vec![]));
        assert_eq!(
            h.err("zpopmin z -1"),
            "ERR value is out of range, must be positive"
        );
        h.run("zadd l 0 a 0 b 0 c");
        assert_eq!(h.int("zremrangebylex l - [b"), 2);
        assert_eq!(h.strs("zrandmember l"), s(&["c"]));
        h.run("zadd r 1 a 2 b 3 c");
        assert_eq!(h.strs("zrandmember r 5").len(), 3);
        assert_eq!(h.strs("zrandmember r -5 withscores").len(), 10);
        // RESP3 shapes.
        h.client.resp = 3;
        match h.run("zrange r 0 0 withscores") {
            Frame::Array(v) => assert_eq!(
                v,
                vec![Frame::Array(vec![Frame::bulk("a"), Frame::Double(1.0)])]
            ),
            other => panic!("{other:?}"),
        }
        match h.run("zpopmin r") {
            Frame::Array(v) => assert_eq!(v, vec![Frame::bulk("a"), Frame::Double(1.0)]),
            other => panic!("{other:?}"),
        }
        match h.run("zpopmin r 1") {
            Frame::Array(v) => assert_eq!(
                v,
                vec![Frame::Array(vec![Frame::bulk("b"), Frame::Double(2.0)])]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn algebra() {
        let mut h = H::new();
        h.run("zadd a 1 x 2 y 3 z");
        h.run("zadd b 10 y 20 z 30 w");
        h.run("sadd s z q");
        assert_eq!(
            h.strs("zunion 2 a b withscores"),
            s(&["x", "1", "y", "12", "z", "23", "w", "30"])
        );
        assert_eq!(
            h.strs("zinter 2 a b withscores aggregate max"),
            s(&["y", "10", "z", "20"])
        );
        assert_eq!(
            h.strs("zinter 2 a b weights 2 0.5 withscores"),
            s(&["y", "9", "z", "16"])
        );
        assert_eq!(h.strs("zinter 2 a s withscores"), s(&["z", "4"]));
        assert_eq!(h.strs("zdiff 2 a b"), s(&["x"]));
        assert_eq!(h.int("zunionstore d 2 a b"), 4);
        assert_eq!(h.enc("d"), "listpack");
        assert_eq!(h.int("zinterstore d 2 a nokey"), 0);
        assert_eq!(h.int("exists d"), 0);
        assert_eq!(h.int("zdiffstore d 1 a"), 3);
        assert_eq!(h.int("zintercard 2 a b"), 2);
        assert_eq!(h.int("zintercard 2 a b limit 1"), 1);
        assert_eq!(
            h.err("zunion 0 a"),
            "ERR at least 1 input key is needed for 'zunion' command"
        );
        assert_eq!(
            h.err("zunionstore d 0 a"),
            "ERR at least 1 input key is needed for 'zunionstore' command"
        );
        assert_eq!(h.err("zunion 3 a b"), "ERR syntax error");
        assert_eq!(
            h.err("zunion 1 a weights x"),
            "ERR weight value is not a float"
        );
        assert_eq!(h.err("zunion 1 a aggregate foo"), "ERR syntax error");
        assert_eq!(h.err("zdiff 1 a weights 1"), "ERR syntax error");
        h.run("set str x");
        assert_eq!(h.err("zunion 2 a str"), WRONGTYPE);
    }

    #[test]
    fn encodings() {
        let mut h = H::new();
        for i in 0..128 {
            h.run(&format!("zadd z {i} m{i}"));
        }
        assert_eq!(h.enc("z"), "listpack");
        h.run("zadd z 1000 one-more");
        assert_eq!(h.enc("z"), "skiplist");
        assert_eq!(h.int("zrank z one-more"), 128);
        assert_eq!(h.strs("zrange z 5 6"), s(&["m5", "m6"]));
        assert_eq!(h.int("zcount z 10 (20"), 10);
        h.run(&format!("zadd long 1 {}", "x".repeat(65)));
        assert_eq!(h.enc("long"), "skiplist");
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let r = h.strs(&format!("zscan z {cursor} count 9"));
            cursor = r[0].clone();
            for p in r[1..].chunks(2) {
                seen.insert(p[0].clone());
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 129);
    }
}
