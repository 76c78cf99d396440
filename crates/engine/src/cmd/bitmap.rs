//! Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS,
//! BITOP, BITFIELD and BITFIELD_RO. Counting and the bitwise operations
//! work a machine word at a time.

use ferrokey_resp::Frame;

use super::{as_str, as_str_mut, dirty, is, lookup_read, lookup_write, parse_int};
use super::{notify, NOTIFY_GENERIC, NOTIFY_STRING};
use crate::command::{flags::*, CommandSpec, Ctx, KeySpec};
use crate::error::{CmdError, CmdResult};
use crate::keyspace::{shard_of, Locked};
use crate::value::{Str, Value};

const BM: &[&str] = &["@bitmap"];

/// The bitmap family's commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, WRITE | DENYOOM, setbit)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "ACCESS", "UPDATE"], 1, 0, 1)])
        .acl(BM)
        .doc("bitmap", "2.2.0", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."),
    CommandSpec::new("getbit", 3, READONLY | FAST, getbit)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(BM)
        .doc("bitmap", "2.2.0", "Returns a bit value by offset."),
    CommandSpec::new("bitcount", -2, READONLY, bitcount)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(BM)
        .doc("bitmap", "2.6.0", "Counts the number of set bits (population counting) in a string."),
    CommandSpec::new("bitpos", -3, READONLY, bitpos)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(BM)
        .doc("bitmap", "2.8.7", "Finds the first set (1) or clear (0) bit in a string."),
    CommandSpec::new("bitop", -4, WRITE | DENYOOM, bitop)
        .keys(2, -1, 1)
        .specs(&[
            KeySpec::new(&["OW", "UPDATE"], 2, 0, 1),
            KeySpec::new(&["RO", "ACCESS"], 3, -1, 1),
        ])
        .acl(BM)
        .doc("bitmap", "2.6.0", "Performs bitwise operations on multiple strings, and stores the result."),
    CommandSpec::new("bitfield", -2, WRITE | DENYOOM, bitfield)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RW", "UPDATE", "ACCESS", "VARIABLE_FLAGS"], 1, 0, 1)
            .notes("This command allows both access and modification of the key")])
        .acl(BM)
        .doc("bitmap", "3.2.0", "Performs arbitrary bitfield integer operations on strings."),
    CommandSpec::new("bitfield_ro", -2, READONLY | FAST, bitfield_ro)
        .keys(1, 1, 1)
        .specs(&[KeySpec::new(&["RO", "ACCESS"], 1, 0, 1)])
        .acl(BM)
        .doc("bitmap", "6.0.0", "Performs arbitrary read-only bitfield integer operations on strings."),
];

/// Largest bit offset: a string may hold at most 512 MB.
const BIT_OFFSET_MAX: i64 = 512 * 1024 * 1024 * 8 - 1;

/// Parses a bit offset as Redis's `getBitOffsetFromArgument` does.
fn parse_offset(arg: &[u8]) -> Result<usize, CmdError> {
    match ferrokey_resp::parse_i64(arg) {
        Some(v) if (0..=BIT_OFFSET_MAX).contains(&v) => Ok(v as usize),
        _ => Err(CmdError::msg(
            "ERR bit offset is not an integer or out of range",
        )),
    }
}

fn setbit(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let offset = parse_offset(args[2])?;
    let on = match args[3] {
        b"1" => true,
        b"0" => false,
        _ => return Err(CmdError::msg("ERR bit is not an integer or out of range")),
    };
    let (byte, mask) = (offset >> 3, 0x80u8 >> (offset & 7));
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    // Whether anything changed: a created key, a grown string or a
    // flipped bit. Redis announces (and counts) only a change.
    let (old, changed) = match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            let raw = as_str_mut(e)?.make_raw();
            let grown = raw.len() <= byte;
            if grown {
                raw.resize(byte + 1, 0);
            }
            let old = raw[byte] & mask != 0;
            if on {
                raw[byte] |= mask;
            } else {
                raw[byte] &= !mask;
            }
            (old, grown || old != on)
        }
        None => {
            let mut raw = vec![0u8; byte + 1];
            if on {
                raw[byte] |= mask;
            }
            let mut s = Str::Raw(Vec::new());
            *s.make_raw() = raw;
            super::insert_key(
                ctx,
                &mut shard,
                ctx.client.db,
                h,
                key,
                Value::Str(s),
                0,
                ctx.new_stamp(),
            );
            (false, true)
        }
    };
    if changed {
        notify(ctx, NOTIFY_STRING, "setbit", key);
        dirty(ctx, 1);
    }
    Ok(Frame::Integer(i64::from(old)))
}

fn getbit(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let offset = parse_offset(args[2])?;
    let (byte, mask) = (offset >> 3, 0x80u8 >> (offset & 7));
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let v = as_str(e)?.to_vec();
    Ok(Frame::Integer(i64::from(
        v.get(byte).is_some_and(|b| b & mask != 0),
    )))
}

/// Set bits in `b`: 32 bytes per step in four independent SWAR counts
/// (no POPCNT needed, and the compiler can vectorize the lanes).
fn popcount(b: &[u8]) -> u64 {
    #[inline(always)]
    fn swar(mut x: u64) -> u64 {
        x -= (x >> 1) & 0x5555_5555_5555_5555;
        x = (x & 0x3333_3333_3333_3333) + ((x >> 2) & 0x3333_3333_3333_3333);
        x = (x + (x >> 4)) & 0x0f0f_0f0f_0f0f_0f0f;
        x.wrapping_mul(0x0101_0101_0101_0101) >> 56
    }
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().expect("8 bytes"));
    let mut blocks = b.chunks_exact(32);
    let mut lanes = [0u64; 4];
    for blk in blocks.by_ref() {
        for (i, lane) in lanes.iter_mut().enumerate() {
            *lane += swar(word(&blk[i * 8..i * 8 + 8]));
        }
    }
    let mut n: u64 = lanes.iter().sum();
    let mut words = blocks.remainder().chunks_exact(8);
    n += words.by_ref().map(|c| swar(word(c))).sum::<u64>();
    n += words
        .remainder()
        .iter()
        .map(|x| u64::from(x.count_ones()))
        .sum::<u64>();
    n
}

/// A BITCOUNT / BITPOS range, read as Redis reads it: byte or bit
/// indexes, negative from the end, clamped to the string. Returns the
/// first and last bit (inclusive), or None for an empty range.
fn bit_range(start: i64, end: i64, len_bytes: usize, bits: bool) -> Option<(u64, u64)> {
    let total = if bits {
        (len_bytes as i64) << 3
    } else {
        len_bytes as i64
    };
    let mut s = if start < 0 { total + start } else { start };
    let mut e = if end < 0 { total + end } else { end };
    s = s.max(0);
    e = e.max(0);
    if e >= total {
        e = total - 1;
    }
    if s > e {
        return None;
    }
    if bits {
        Some((s as u64, e as u64))
    } else {
        Some(((s as u64) << 3, ((e as u64) << 3) + 7))
    }
}

/// Set bits of `p` from bit `first` to bit `last`, inclusive.
fn count_bits(p: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut n = popcount(&p[fb..=lb]);
    // Take back the bits of the edge bytes outside the range.
    let head = p[fb] & !(0xffu8 >> (first & 7));
    let tail_mask = if last & 7 == 7 {
        0
    } else {
        0xffu8 >> ((last & 7) + 1)
    };
    let tail = p[lb] & tail_mask;
    n -= u64::from(head.count_ones()) + u64::from(tail.count_ones());
    n
}

fn bit_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

fn bitcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(0));
    };
    let mut scratch = [0u8; 20];
    let p = as_str(e)?.bytes(&mut scratch);
    let range = match args.len() {
        2 => (!p.is_empty()).then(|| (0, (p.len() as u64) * 8 - 1)),
        4 | 5 => {
            let start = parse_int(args[2])?;
            let end = parse_int(args[3])?;
            if start < 0 && end < 0 && start > end {
                return Ok(Frame::Integer(0));
            }
            let bits = match args.get(4) {
                Some(a) => bit_unit(a)?,
                None => false,
            };
            bit_range(start, end, p.len(), bits)
        }
        _ => return Err(CmdError::Syntax),
    };
    Ok(Frame::Integer(
        range.map_or(0, |(f, l)| count_bits(p, f, l)) as i64,
    ))
}

/// The first bit equal to `bit` from `first` to `last` (inclusive).
fn find_bit(p: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let mut i = first;
    // Bit by bit up to a byte boundary, then whole bytes, then bits again.
    while i <= last && i & 7 != 0 {
        if (p[(i >> 3) as usize] & (0x80 >> (i & 7)) != 0) == bit {
            return Some(i);
        }
        i += 1;
    }
    let skip = if bit { 0x00 } else { 0xff };
    while i + 7 <= last && p[(i >> 3) as usize] == skip {
        i += 8;
    }
    while i <= last {
        if (p[(i >> 3) as usize] & (0x80 >> (i & 7)) != 0) == bit {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn bitpos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let bit = match parse_int(args[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::msg("ERR The bit argument must be 1 or 0.")),
    };
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    let Some(e) = lookup_read(ctx, &mut shard, h, key) else {
        return Ok(Frame::Integer(if bit { -1 } else { 0 }));
    };
    let mut scratch = [0u8; 20];
    let p = as_str(e)?.bytes(&mut scratch);
    let (range, end_given) = match args.len() {
        3 => (
            (!p.is_empty()).then(|| (0, (p.len() as u64) * 8 - 1)),
            false,
        ),
        4..=6 => {
            let start = parse_int(args[3])?;
            let bits = match args.get(5) {
                Some(a) => bit_unit(a)?,
                None => false,
            };
            let (end, given) = match args.get(4) {
                Some(a) => (parse_int(a)?, true),
                // The string's end, whatever the unit.
                None => (i64::MAX, false),
            };
            (bit_range(start, end, p.len(), bits), given)
        }
        _ => return Err(CmdError::Syntax),
    };
    let Some((first, last)) = range else {
        return Ok(Frame::Integer(-1));
    };
    Ok(Frame::Integer(match find_bit(p, first, last, bit) {
        Some(i) => i as i64,
        // A clear bit is always found past the string's end, unless the
        // caller fixed the end of the range.
        None if !bit && !end_given => (last + 1) as i64,
        None => -1,
    }))
}

fn bitop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = if is(args[1], "and") {
        Op::And
    } else if is(args[1], "or") {
        Op::Or
    } else if is(args[1], "xor") {
        Op::Xor
    } else if is(args[1], "not") {
        Op::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == Op::Not && args.len() != 4 {
        return Err(CmdError::msg(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let dst = args[2];
    let srcs = &args[3..];
    let hashes: Vec<u64> = args[2..].iter().map(|k| ctx.hash(k)).collect();
    let mut locked = Locked::new(ctx.db(), hashes.iter().copied());
    // First pass: the lookups as Redis does them (hits, misses, types),
    // and the lengths. The second pass reads the bytes in place.
    let mut lens = Vec::with_capacity(srcs.len());
    for (k, &h) in srcs.iter().zip(&hashes[1..]) {
        lens.push(match lookup_read(ctx, locked.shard(h), h, k) {
            Some(e) => as_str(e)?.len(),
            None => 0,
        });
    }
    let maxlen = lens.iter().copied().max().unwrap_or(0);
    let mut res = vec![0u8; maxlen];
    let now = ctx.now_ms;
    for (j, (k, &h)) in srcs.iter().zip(&hashes[1..]).enumerate() {
        let mut scratch = [0u8; 20];
        let shard = locked.shard(h);
        let src: &[u8] = match shard.peek(h, k, now) {
            Some(e) => match e.value() {
                Value::Str(s) => s.bytes(&mut scratch),
                _ => &[],
            },
            None => &[],
        };
        if j == 0 {
            if op == Op::Not {
                for (r, b) in res.iter_mut().zip(src) {
                    *r = !b;
                }
            } else {
                res[..src.len()].copy_from_slice(src);
            }
            continue;
        }
        let n = src.len() / 8 * 8;
        for (r, x) in res[..n].chunks_exact_mut(8).zip(src[..n].chunks_exact(8)) {
            let a = u64::from_ne_bytes((*r).try_into().expect("8 bytes"));
            let b = u64::from_ne_bytes(x.try_into().expect("8 bytes"));
            let c = match op {
                Op::And => a & b,
                Op::Or => a | b,
                _ => a ^ b,
            };
            r.copy_from_slice(&c.to_ne_bytes());
        }
        for (r, x) in res[n..].iter_mut().zip(&src[n..]) {
            *r = match op {
                Op::And => *r & x,
                Op::Or => *r | x,
                _ => *r ^ x,
            };
        }
        // Past a shorter source, AND meets zero bytes.
        if op == Op::And {
            res[src.len()..].fill(0);
        }
    }
    let h = hashes[0];
    let shard = locked.shard(h);
    if maxlen > 0 {
        super::insert_key(
            ctx,
            &mut *shard,
            ctx.client.db,
            h,
            dst,
            Value::Str(Str::from_vec(res)),
            0,
            ctx.new_stamp(),
        );
        notify(ctx, NOTIFY_STRING, "set", dst);
        dirty(ctx, 1);
    } else if super::remove_deleted(ctx, shard, h, dst) {
        notify(ctx, NOTIFY_GENERIC, "del", dst);
        dirty(ctx, 1);
    }
    Ok(Frame::Integer(maxlen as i64))
}

/// What BITFIELD does when a value does not fit.
#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// One BITFIELD operation.
struct FieldOp {
    kind: FieldKind,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

#[derive(PartialEq)]
enum FieldKind {
    Get,
    Set,
    IncrBy,
}

fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || {
        CmdError::msg("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    match ferrokey_resp::parse_i64(&arg[1..]) {
        Some(b) if b >= 1 && b <= if signed { 64 } else { 63 } => Ok((signed, b as u32)),
        _ => Err(err()),
    }
}

fn field_offset(ctx: &Ctx<'_>, arg: &[u8], bits: u32) -> Result<u64, CmdError> {
    let err = || CmdError::msg("ERR bit offset is not an integer or out of range");
    let (hash, digits) = match arg.first() {
        Some(b'#') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let mut off = ferrokey_resp::parse_i64(digits).ok_or_else(err)?;
    if hash {
        off = off.checked_mul(i64::from(bits)).ok_or_else(err)?;
    }
    let max_bytes = ctx
        .server
        .tunables
        .proto_max_bulk_len
        .load(std::sync::atomic::Ordering::Relaxed);
    if off < 0 || (off >> 3) >= max_bytes {
        return Err(err());
    }
    Ok(off as u64)
}

fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v: u64 = 0;
    for i in 0..u64::from(bits) {
        let pos = offset + i;
        let byte = p.get((pos >> 3) as usize).copied().unwrap_or(0);
        let bit = (byte >> (7 - (pos & 7))) & 1;
        v = (v << 1) | u64::from(bit);
    }
    v
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(p, offset, bits);
    if bits == 64 {
        return u as i64;
    }
    // Sign-extend from the field's top bit.
    let shift = 64 - bits;
    ((u << shift) as i64) >> shift
}

fn set_field(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let bit = (value >> (u64::from(bits) - 1 - i)) & 1;
        let pos = offset + i;
        let byte = &mut p[(pos >> 3) as usize];
        let mask = 0x80u8 >> (pos & 7);
        if bit == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: Some(value to store) when
/// `value + incr` leaves the field's range (wrapped or saturated), the
/// flag saying whether it did.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (bool, u64) {
    let max: u64 = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || {
        let mask = if bits == 64 { 0 } else { u64::MAX << bits };
        value.wrapping_add(incr as u64) & !mask
    };
    if value > max || (incr > 0 && incr > maxincr) {
        match ow {
            Overflow::Wrap | Overflow::Fail => (true, wrap()),
            Overflow::Sat => (true, max),
        }
    } else if incr < 0 && incr < minincr {
        match ow {
            Overflow::Wrap | Overflow::Fail => (true, wrap()),
            Overflow::Sat => (true, 0),
        }
    } else {
        (false, 0)
    }
}

/// Redis's `checkSignedBitfieldOverflow`.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (bool, i64) {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = max.wrapping_sub(value);
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let msb = 1u64 << (bits - 1);
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & msb != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        match ow {
            Overflow::Wrap | Overflow::Fail => (true, wrap()),
            Overflow::Sat => (true, max),
        }
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        match ow {
            Overflow::Wrap | Overflow::Fail => (true, wrap()),
            Overflow::Sat => (true, min),
        }
    } else {
        (false, 0)
    }
}

fn parse_field_ops(ctx: &Ctx<'_>, args: &[&[u8]]) -> Result<Vec<FieldOp>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = args[j];
        let kind = if is(sub, "get") && rem >= 2 {
            FieldKind::Get
        } else if is(sub, "set") && rem >= 3 {
            FieldKind::Set
        } else if is(sub, "incrby") && rem >= 3 {
            FieldKind::IncrBy
        } else if is(sub, "overflow") && rem >= 1 {
            let t = args[j + 1];
            overflow = if is(t, "wrap") {
                Overflow::Wrap
            } else if is(t, "sat") {
                Overflow::Sat
            } else if is(t, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::msg("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = field_type(args[j + 1])?;
        let offset = field_offset(ctx, args[j + 2], bits)?;
        let value = if kind == FieldKind::Get {
            0
        } else {
            parse_int(args[j + 3])?
        };
        j += if kind == FieldKind::Get { 3 } else { 4 };
        ops.push(FieldOp {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
    }
    Ok(ops)
}

fn bitfield(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], ro: bool) -> CmdResult {
    let ops = parse_field_ops(ctx, args)?;
    let writes = ops.iter().any(|o| o.kind != FieldKind::Get);
    let key = args[1];
    let h = ctx.hash(key);
    let mut shard = ctx.db().lock(shard_of(h));
    if !writes {
        let p = match lookup_read(ctx, &mut shard, h, key) {
            Some(e) => as_str(e)?.to_vec(),
            None => Vec::new(),
        };
        return Ok(Frame::Array(
            ops.iter()
                .map(|o| {
                    Frame::Integer(if o.signed {
                        get_signed(&p, o.offset, o.bits)
                    } else {
                        get_unsigned(&p, o.offset, o.bits) as i64
                    })
                })
                .collect(),
        ));
    }
    if ro {
        return Err(CmdError::msg(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let highest = ops
        .iter()
        .filter(|o| o.kind != FieldKind::Get)
        .map(|o| o.offset + u64::from(o.bits) - 1)
        .max()
        .unwrap_or(0);
    let need = (highest >> 3) as usize + 1;
    // Make room up to the farthest bit written, creating the key if needed.
    let grown = match lookup_write(ctx, &mut shard, h, key) {
        Some(e) => {
            let raw = as_str_mut(e)?.make_raw();
            let grown = raw.len() < need;
            if grown {
                raw.resize(need, 0);
            }
            grown
        }
        None => {
            super::insert_key(
                ctx,
                &mut shard,
                ctx.client.db,
                h,
                key,
                Value::Str(Str::from_vec(vec![0u8; need])),
                0,
                ctx.new_stamp(),
            );
            true
        }
    };
    let e = lookup_write(ctx, &mut shard, h, key).expect("made above");
    let p = as_str_mut(e)?.make_raw();
    let mut replies = Vec::with_capacity(ops.len());
    let mut changes = 0;
    for o in &ops {
        match o.kind {
            FieldKind::Get => replies.push(Frame::Integer(if o.signed {
                get_signed(p, o.offset, o.bits)
            } else {
                get_unsigned(p, o.offset, o.bits) as i64
            })),
            FieldKind::Set | FieldKind::IncrBy => {
                let incr = o.kind == FieldKind::IncrBy;
                let (overflowed, old, new, reply) = if o.signed {
                    let old = get_signed(p, o.offset, o.bits);
                    let (ov, wrapped) = if incr {
                        signed_overflow(old, o.value, o.bits, o.overflow)
                    } else {
                        signed_overflow(o.value, 0, o.bits, o.overflow)
                    };
                    let new = if ov {
                        wrapped
                    } else if incr {
                        old + o.value
                    } else {
                        o.value
                    };
                    (ov, old as u64, new as u64, if incr { new } else { old })
                } else {
                    let old = get_unsigned(p, o.offset, o.bits);
                    let (ov, wrapped) = if incr {
                        unsigned_overflow(old, o.value, o.bits, o.overflow)
                    } else {
                        unsigned_overflow(o.value as u64, 0, o.bits, o.overflow)
                    };
                    let new = if ov {
                        wrapped
                    } else if incr {
                        old.wrapping_add(o.value as u64)
                    } else {
                        o.value as u64
                    };
                    (ov, old, new, if incr { new as i64 } else { old as i64 })
                };
                if overflowed && o.overflow == Overflow::Fail {
                    replies.push(Frame::Null);
                } else {
                    replies.push(Frame::Integer(reply));
                    set_field(p, o.offset, o.bits, new);
                    if grown || old != new {
                        changes += 1;
                    }
                }
            }
        }
    }
    if changes > 0 {
        notify(ctx, NOTIFY_STRING, "setbit", key);
        dirty(ctx, changes);
    }
    Ok(Frame::Array(replies))
}
