//! HyperLogLog in Redis's exact byte format, so a value written by Redis
//! (RDB, DUMP, GET/SET) counts the same here and the other way round.
//!
//! A value is a plain string: the 16-byte header (`HYLL`, encoding, three
//! zero bytes, cached cardinality little endian with bit 63 meaning
//! "stale"), then either 16384 6-bit registers packed LSB first (dense,
//! 12288 bytes) or a run-length encoding of them (sparse: ZERO `00xxxxxx`
//! for up to 64 empty registers, XZERO `01xxxxxx yyyyyyyy` for up to
//! 16384, VAL `1vvvvvxx` for up to 4 registers of value 1 to 32). New
//! values start sparse and turn dense when a register exceeds 32 or the
//! encoding would pass `hll-sparse-max-bytes`. Elements are hashed with
//! MurmurHash64A (seed 0xadc83b19); the count uses Ertl's estimator, as
//! Redis 7 does.

/// Header bytes.
pub const HDR: usize = 16;
/// log2 of the number of registers.
const P: u32 = 14;
/// Registers.
pub const REGISTERS: usize = 1 << P;
/// Bits of the hash left after the register index.
const Q: u32 = 64 - P;
/// Bits per dense register.
const BITS: usize = 6;
/// Largest register value.
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Bytes of a dense value.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
/// Encoding byte of a dense value.
pub const DENSE: u8 = 0;
/// Encoding byte of a sparse value.
pub const SPARSE: u8 = 1;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;

/// Redis's error for a value that is not a HyperLogLog.
pub const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// Redis's error for a damaged HyperLogLog.
pub const CORRUPTED: &str = "INVALIDOBJ Corrupted HLL object detected";

/// MurmurHash64A, as Redis's copy computes it on little-endian machines.
pub fn murmur64a(key: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h: u64 = u64::from(seed) ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in chunks.by_ref() {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, &b) in rest.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the length of its "000..1" run.
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Whether `v` is a HyperLogLog Redis would accept.
pub fn is_hll(v: &[u8]) -> bool {
    v.len() >= HDR
        && &v[..4] == b"HYLL"
        && v[4] <= SPARSE
        && (v[4] != DENSE || v.len() == DENSE_SIZE)
}

/// A new, empty (sparse) HyperLogLog.
pub fn new_sparse() -> Vec<u8> {
    let mut v = vec![0u8; HDR];
    v[..4].copy_from_slice(b"HYLL");
    v[4] = SPARSE;
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(XZERO_MAX_LEN);
        push_xzero(&mut v, n);
        left -= n;
    }
    v
}

fn push_xzero(v: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    v.push(((l >> 8) as u8) | 0x40);
    v.push((l & 0xff) as u8);
}

fn push_zero_run(v: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        push_xzero(v, len);
    } else {
        v.push((len - 1) as u8);
    }
}

fn val_op(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len - 1) as u8
}

/// One sparse opcode: (registers covered, value, bytes taken).
fn sparse_op(p: &[u8], i: usize) -> (usize, u8, usize) {
    let b = p[i];
    if b & 0xc0 == 0 {
        (usize::from(b & 0x3f) + 1, 0, 1)
    } else if b & 0xc0 == 0x40 {
        let hi = usize::from(b & 0x3f) << 8;
        let lo = p.get(i + 1).copied().map_or(0, usize::from);
        ((hi | lo) + 1, 0, 2)
    } else {
        (usize::from(b & 0x3) + 1, ((b >> 2) & 0x1f) + 1, 1)
    }
}

/// Reads dense register `i`.
pub fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u16::from(regs[byte]);
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u16::from(REGISTER_MAX)) as u8
}

/// Writes dense register `i`.
pub fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u16::from(val);
    let m = u16::from(REGISTER_MAX);
    regs[byte] &= !((m << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if byte + 1 < regs.len() {
        regs[byte + 1] &= !((m >> (8 - fb)) as u8);
        regs[byte + 1] |= (v >> (8 - fb)) as u8;
    }
}

/// Every register's value, from either encoding; None when the sparse
/// encoding does not cover exactly 16384 registers.
pub fn registers(v: &[u8]) -> Option<Vec<u8>> {
    let body = &v[HDR..];
    if v[4] == DENSE {
        return Some((0..REGISTERS).map(|i| dense_get(body, i)).collect());
    }
    let mut out = Vec::with_capacity(REGISTERS);
    let mut i = 0;
    while i < body.len() {
        let (span, val, len) = sparse_op(body, i);
        if out.len() + span > REGISTERS {
            return None;
        }
        out.extend(std::iter::repeat_n(val, span));
        i += len;
    }
    (out.len() == REGISTERS).then_some(out)
}

/// Turns a sparse value dense (no-op when dense); false when corrupted.
pub fn to_dense(v: &mut Vec<u8>) -> bool {
    if v[4] == DENSE {
        return true;
    }
    let Some(regs) = registers(v) else {
        return false;
    };
    let mut d = vec![0u8; DENSE_SIZE];
    // The header (magic, cached cardinality) carries over.
    d[..HDR].copy_from_slice(&v[..HDR]);
    d[4] = DENSE;
    for (i, &r) in regs.iter().enumerate() {
        if r != 0 {
            dense_set(&mut d[HDR..], i, r);
        }
    }
    *v = d;
    true
}

/// Sets register `index` to `count` if larger. Returns 1 when it changed,
/// 0 when not, -1 when the value is corrupted. May turn the value dense.
pub fn set(v: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> i32 {
    if v[4] == DENSE {
        let regs = &mut v[HDR..];
        if count > dense_get(regs, index) {
            dense_set(regs, index, count);
            return 1;
        }
        return 0;
    }
    if count > VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Find the opcode covering `index`.
    let mut i = HDR;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let (span, val, oplen) = loop {
        if i >= v.len() {
            return -1;
        }
        let (span, val, oplen) = sparse_op(v, i);
        if index < first + span {
            break (span, val, oplen);
        }
        prev = Some(i);
        first += span;
        i += oplen;
    };
    let is_val = v[i] & 0x80 != 0;
    if is_val {
        if val >= count {
            return 0;
        }
        if span == 1 {
            v[i] = val_op(count, 1);
            merge_vals(v, prev.unwrap_or(HDR));
            invalidate(v);
            return 1;
        }
    } else if oplen == 1 && span == 1 {
        v[i] = val_op(count, 1);
        merge_vals(v, prev.unwrap_or(HDR));
        invalidate(v);
        return 1;
    }
    // Split the opcode around the register.
    let last = first + span - 1;
    let mut seq = Vec::with_capacity(5);
    if is_val {
        if index != first {
            seq.push(val_op(val, index - first));
        }
        seq.push(val_op(count, 1));
        if index != last {
            seq.push(val_op(val, last - index));
        }
    } else {
        if index != first {
            push_zero_run(&mut seq, index - first);
        }
        seq.push(val_op(count, 1));
        if index != last {
            push_zero_run(&mut seq, last - index);
        }
    }
    let grows = seq.len() > oplen;
    if grows && v.len() - oplen + seq.len() > sparse_max {
        return promote(v, index, count);
    }
    v.splice(i..i + oplen, seq);
    merge_vals(v, prev.unwrap_or(HDR));
    invalidate(v);
    1
}

fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> i32 {
    if !to_dense(v) {
        return -1;
    }
    dense_set(&mut v[HDR..], index, count);
    1
}

/// Merges adjacent VAL opcodes of equal value, scanning up to five
/// opcodes from `from`, as Redis does after an update.
fn merge_vals(v: &mut Vec<u8>, from: usize) {
    let mut p = from;
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        let b = v[p];
        if b & 0xc0 == 0x40 {
            p += 2;
            continue;
        }
        if b & 0xc0 == 0 {
            p += 1;
            continue;
        }
        if p + 1 < v.len() && v[p + 1] & 0x80 != 0 {
            let (l1, v1, _) = sparse_op(v, p);
            let (l2, v2, _) = sparse_op(v, p + 1);
            if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                v[p + 1] = val_op(v1, l1 + l2);
                v.remove(p);
                continue;
            }
        }
        p += 1;
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate(v: &mut [u8]) {
    v[15] |= 0x80;
}

/// The cached cardinality, when valid.
pub fn cached(v: &[u8]) -> Option<u64> {
    (v[15] & 0x80 == 0).then(|| u64::from_le_bytes(v[8..16].try_into().expect("8 bytes")))
}

/// Stores the cached cardinality.
pub fn cache(v: &mut [u8], card: u64) {
    v[8..16].copy_from_slice(&card.to_le_bytes());
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The estimated cardinality of a register set (Ertl's estimator).
pub fn count(regs: &[u8]) -> u64 {
    let m = REGISTERS as f64;
    let mut histo = [0u32; 64];
    for &r in regs {
        histo[usize::from(r & 63)] += 1;
    }
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(histo[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(histo[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    // 0.5/ln(2): HLL_ALPHA_INF; llroundl rounds halves away from zero.
    let alpha = 0.721_347_520_444_481_7_f64;
    (alpha * m * m / z).round() as u64
}

/// PFDEBUG DECODE's text for a sparse value: `z:N`, `Z:N`, `v:V,N`.
pub fn decode_sparse(v: &[u8]) -> String {
    let body = &v[HDR..];
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let (span, val, len) = sparse_op(body, i);
        out.push(match (body[i] & 0xc0, val) {
            (0, _) => format!("z:{span}"),
            (0x40, _) => format!("Z:{span}"),
            _ => format!("v:{val},{span}"),
        });
        i += len;
    }
    out.join(" ")
}

/// PFSELFTEST: dense registers read back what was written, sparse and
/// dense values built from the same elements hold the same registers,
/// and estimates stay within the expected error as the set grows.
pub fn self_test() -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let want: Vec<u8> = (0..REGISTERS).map(|_| (next() % 64) as u8).collect();
    for (i, &w) in want.iter().enumerate() {
        dense_set(&mut regs, i, w);
    }
    for (i, &w) in want.iter().enumerate() {
        if dense_get(&regs, i) != w {
            return Err(format!("ERR TESTFAILED Register error at index {i}"));
        }
    }
    let mut sparse = new_sparse();
    let mut dense = new_sparse();
    if !to_dense(&mut dense) {
        return Err("ERR TESTFAILED Sparse to dense conversion".into());
    }
    let m = REGISTERS as f64;
    let relerr = 1.04 / m.sqrt();
    let mut checkpoint = 1u64;
    // The sparse copy follows the dense one up to 3,000 elements (past
    // that it would be dense anyway); the estimate is checked to 50,000.
    for j in 1..=50_000u64 {
        let ele = next().to_le_bytes();
        let (idx, c) = pattern(&ele);
        if j <= 3_000 {
            set(&mut sparse, idx, c, usize::MAX);
        }
        set(&mut dense, idx, c, usize::MAX);
        if j == checkpoint {
            let b = registers(&dense).ok_or("ERR TESTFAILED Dense encoding broken")?;
            if j <= 3_000 {
                let a = registers(&sparse).ok_or("ERR TESTFAILED Sparse encoding broken")?;
                if a != b {
                    return Err("ERR TESTFAILED Sparse and dense registers differ".into());
                }
            }
            let est = count(&b) as f64;
            let err = (est - j as f64).abs() / j as f64;
            // Five standard errors, and exact-ish for tiny sets.
            let allowed = if j < 10 {
                1.0 / j as f64 + 1e-9
            } else {
                relerr * 5.0
            };
            if err > allowed {
                return Err(format!(
                    "ERR TESTFAILED Too big error. card:{j} abserr:{}",
                    (est - j as f64).abs()
                ));
            }
            checkpoint *= 10;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8);
        }
    }

    #[test]
    fn sparse_grows_then_turns_dense() {
        let mut v = new_sparse();
        assert_eq!(v.len(), HDR + 2);
        let mut changed = 0;
        for i in 0..2000u32 {
            let (idx, c) = pattern(&i.to_le_bytes());
            changed += set(&mut v, idx, c, 3000);
        }
        assert!(changed > 1000);
        assert_eq!(v[4], DENSE);
        let regs = registers(&v).expect("valid");
        let n = count(&regs);
        assert!((1900..=2100).contains(&n), "{n}");
    }

    #[test]
    fn sparse_encoding_covers_every_register() {
        let mut v = new_sparse();
        for i in 0..100u32 {
            let (idx, c) = pattern(format!("e{i}").as_bytes());
            assert!(set(&mut v, idx, c.min(32), 30000) >= 0);
            assert_eq!(registers(&v).expect("covers 16384").len(), REGISTERS);
        }
        assert_eq!(v[4], SPARSE);
    }
}
