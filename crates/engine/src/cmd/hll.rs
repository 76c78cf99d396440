//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//! The representation (Redis's, byte for byte) is in `types::hll`.

use ferrokey_resp::Frame;

use super::{as_str_mut, dirty, is, lookup_read, lookup_write, notify, NOTIFY_STRING};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked, Slot};
use crate::types::hll;
use crate::value::{Str, Value};

const HLL: &[&str] = &["@hyperloglog"];

/// The HyperLogLog family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("pfadd", -2, WRITE | DENYOOM | FAST, pfadd)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "INSERT"], 1, 0, 1)])
        .acl(HLL)
        .doc("hyperloglog", "2.8.9", "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist."),
    CommandSpec::new("pfcount", -2, READONLY | MAY_REPLICATE, pfcount)
        .keys(1, -1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS"], 1, -1, 1)
            .notes("RW because it may change the internal representation of the key, and propagate to replicas")])
        .acl(HLL)
        .doc("hyperloglog", "2.8.9", "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s)."),
    CommandSpec::new("pfmerge", -2, WRITE | DENYOOM, pfmerge)
        .keys(1, -1, 1)
        .specs(&[
            KeySpec::new(&["RW", "ACCESS", "INSERT"], 1, 0, 1),
            KeySpec::new(&["RO", "ACCESS"], 2, -1, 1),
        ])
        .acl(HLL)
        .doc("hyperloglog", "2.8.9", "Merges one or more HyperLogLog values into a single key."),
    CommandSpec::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, pfdebug)
        .keys(2, 2, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS"], 2, 0, 1)])
        .acl(HLL)
        .doc("hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values."),
    CommandSpec::new("pfselftest", 1, ADMIN, pfselftest)
        .acl(HLL)
        .doc("hyperloglog", "2.8.9", "An internal command for testing HyperLogLog values."),
];

fn sparse_max(ctx: &Ctx<'_>) -> usize {
    ctx.server.config.read().hll_sparse_max_bytes() as usize
}

/// The HyperLogLog bytes of an entry, or Redis's errors: WRONGTYPE for
/// another type, the "not a valid HyperLogLog" WRONGTYPE for a string
/// that is not one.
fn hll_of(e: &mut Slot) -> Result<&mut Vec<u8>, CmdError> {
    let raw = as_str_mut(e)?.make_raw();
    if !hll::is_hll(raw) {
        return Err(CmdError::msg(hll::NOT_HLL));
    }
    Ok(raw)
}

fn pfadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let max = sparse_max(ctx);
    let mut shard = ctx.db().lock(shard_of(h));
    let mut updated = 0;
    if lookup_write(ctx, &mut shard, h, key).is_none() {
        super::insert_key(
            ctx,
            &mut shard,
            ctx.client.db,
            h,
            key,
            Value::Str(Str::from_vec(hll::new_sparse())),
            0,
            ctx.new_stamp(),
        );
        updated += 1;
    }
    let e = lookup_write(ctx, &mut shard, h, key).expect("present");
    let v = hll_of(e)?;
    for ele in &args[2..] {
        let (idx, count) = hll::pattern(ele);
        match hll::set(v, idx, count, max) {
            1 => updated += 1,
            -1 => return Err(CmdError::msg(hll::CORRUPTED)),
            _ => {}
        }
    }
    if updated > 0 {
        hll::invalidate(v);
        shard.touch(key);
        notify(ctx, NOTIFY_STRING, "pfadd", key);
        dirty(ctx, updated);
    }
    Ok(Frame::Integer(i64::from(updated > 0)))
}

fn pfcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() > 2 {
        // The union's cardinality, from the registers' maxima.
        let hashes: Vec<u64> = args[1..].iter().map(|k| ctx.hash(k)).collect();
        let mut locked = Locked::new(ctx.db(), hashes.iter().copied());
        let mut max = vec![0u8; hll::REGISTERS];
        for (k, &h) in args[1..].iter().zip(&hashes) {
            let Some(e) = lookup_read(ctx, locked.shard(h), h, k) else {
                continue;
            };
            let v = hll_of(e)?;
            let regs = hll::registers(v).ok_or(CmdError::msg(hll::CORRUPTED))?;
            for (m, r) in max.iter_mut().zip(regs) {
                *m = (*m).max(r);
            }
        }
        return Ok(Frame::Integer(hll::count(&max) as i64));
    }
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let v = hll_of(e)?;
    if let Some(card) = hll::cached(v) {
        return Ok(Frame::Integer(card as i64));
    }
    let regs = hll::registers(v).ok_or(CmdError::msg(hll::CORRUPTED))?;
    let card = hll::count(&regs);
    // Caching the count changes the value: a modification for WATCH.
    hll::cache(v, card);
    shard.touch(key);
    dirty(ctx, 1);
    Ok(Frame::Integer(card as i64))
}

fn pfmerge(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let hashes: Vec<u64> = args[1..].iter().map(|k| ctx.hash(k)).collect();
    let sparse_limit = sparse_max(ctx);
    let mut locked = Locked::new(ctx.db(), hashes.iter().copied());
    let mut max = vec![0u8; hll::REGISTERS];
    let mut use_dense = false;
    for (k, &h) in args[1..].iter().zip(&hashes) {
        let Some(e) = lookup_read(ctx, locked.shard(h), h, k) else {
            continue;
        };
        let v = hll_of(e)?;
        use_dense |= v[4] == hll::DENSE;
        let regs = hll::registers(v).ok_or(CmdError::msg(hll::CORRUPTED))?;
        for (m, r) in max.iter_mut().zip(regs) {
            *m = (*m).max(r);
        }
    }
    let (dst, h) = (args[1], hashes[0]);
    let shard = locked.shard(h);
    if lookup_write(ctx, shard, h, dst).is_none() {
        super::insert_key(
            ctx,
            &mut *shard,
            ctx.client.db,
            h,
            dst,
            Value::Str(Str::from_vec(hll::new_sparse())),
            0,
            ctx.new_stamp(),
        );
    }
    let e = lookup_write(ctx, shard, h, dst).expect("present");
    let v = hll_of(e)?;
    if use_dense && !hll::to_dense(v) {
        return Err(CmdError::msg(hll::CORRUPTED));
    }
    for (i, &m) in max.iter().enumerate() {
        if m != 0 && hll::set(v, i, m, sparse_limit) < 0 {
            return Err(CmdError::msg(hll::CORRUPTED));
        }
    }
    hll::invalidate(v);
    shard.touch(dst);
    // Redis announces a merge as a PFADD.
    notify(ctx, NOTIFY_STRING, "pfadd", dst);
    dirty(ctx, 1);
    Ok(Frame::ok())
}

fn pfdebug(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    let key = args[2];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_write(ctx, &mut shard, h, key) else {
        return Err(CmdError::msg("ERR The specified key does not exist"));
    };
    let v = hll_of(e)?;
    if is(sub, "getreg") {
        if v[4] == hll::SPARSE {
            if !hll::to_dense(v) {
                return Err(CmdError::msg(hll::CORRUPTED));
            }
            dirty(ctx, 1);
        }
        let regs = hll::registers(v).ok_or(CmdError::msg(hll::CORRUPTED))?;
        return Ok(Frame::Array(
            regs.into_iter()
                .map(|r| Frame::Integer(i64::from(r)))
                .collect(),
        ));
    }
    if is(sub, "decode") {
        if v[4] != hll::SPARSE {
            return Err(CmdError::msg("ERR HLL encoding is not sparse"));
        }
        return Ok(Frame::Bulk(hll::decode_sparse(v).into_bytes()));
    }
    if is(sub, "encoding") {
        return Ok(Frame::simple(if v[4] == hll::DENSE {
            "dense"
        } else {
            "sparse"
        }));
    }
    if is(sub, "todense") {
        let conv = v[4] == hll::SPARSE;
        if conv {
            if !hll::to_dense(v) {
                return Err(CmdError::msg(hll::CORRUPTED));
            }
            dirty(ctx, 1);
        }
        return Ok(Frame::Integer(i64::from(conv)));
    }
    Err(CmdError::owned(format!(
        "ERR Unknown PFDEBUG subcommand '{}'",
        String::from_utf8_lossy(sub)
    )))
}

/// PFSELFTEST: checks this implementation's registers and estimator, as
/// Redis's checks its own.
fn pfselftest(_ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CmdResult {
    hll::self_test().map_err(CmdError::owned)?;
    Ok(Frame::ok())
}
