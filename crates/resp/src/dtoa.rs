//! Doubles printed as Redis 7.2 prints them in replies (`d2string`):
//! `nan`, `inf`, `-inf`, `0`/`-0`, integers up to 2^62 in full, and
//! otherwise the digits of the Grisu2 algorithm (Loitsch, "Printing
//! Floating-Point Numbers Quickly and Accurately with Integers", 2010) laid
//! out by the rules of the `fpconv` library Redis bundles. Grisu2 usually
//! finds the shortest digits that read back to the same double but not
//! always (about one double in 200 gets 17 digits where 16 would do), so a
//! generic shortest-digits printer does not match Redis byte for byte.

/// A number `f * 2^e` with a 64-bit significand.
#[derive(Clone, Copy, Debug)]
struct Fp {
    f: u64,
    e: i32,
}

const HIDDEN: u64 = 1 << 52;
const FRAC_MASK: u64 = HIDDEN - 1;

/// Normalised 64-bit approximations (rounded to nearest) of 10^k for
/// k = -348, -340, ..., 340; `cached_pow10_table_is_exact` recomputes
/// them.
const CACHED_POW10: [(u64, i32); 87] = [
    (0xfa8fd5a0081c0288, -1220),
    (0xbaaee17fa23ebf76, -1193),
    (0x8b16fb203055ac76, -1166),
    (0xcf42894a5dce35ea, -1140),
    (0x9a6bb0aa55653b2d, -1113),
    (0xe61acf033d1a45df, -1087),
    (0xab70fe17c79ac6ca, -1060),
    (0xff77b1fcbebcdc4f, -1034),
    (0xbe5691ef416bd60c, -1007),
    (0x8dd01fad907ffc3c, -980),
    (0xd3515c2831559a83, -954),
    (0x9d71ac8fada6c9b5, -927),
    (0xea9c227723ee8bcb, -901),
    (0xaecc49914078536d, -874),
    (0x823c12795db6ce57, -847),
    (0xc21094364dfb5637, -821),
    (0x9096ea6f3848984f, -794),
    (0xd77485cb25823ac7, -768),
    (0xa086cfcd97bf97f4, -741),
    (0xef340a98172aace5, -715),
    (0xb23867fb2a35b28e, -688),
    (0x84c8d4dfd2c63f3b, -661),
    (0xc5dd44271ad3cdba, -635),
    (0x936b9fcebb25c996, -608),
    (0xdbac6c247d62a584, -582),
    (0xa3ab66580d5fdaf6, -555),
    (0xf3e2f893dec3f126, -529),
    (0xb5b5ada8aaff80b8, -502),
    (0x87625f056c7c4a8b, -475),
    (0xc9bcff6034c13053, -449),
    (0x964e858c91ba2655, -422),
    (0xdff9772470297ebd, -396),
    (0xa6dfbd9fb8e5b88f, -369),
    (0xf8a95fcf88747d94, -343),
    (0xb94470938fa89bcf, -316),
    (0x8a08f0f8bf0f156b, -289),
    (0xcdb02555653131b6, -263),
    (0x993fe2c6d07b7fac, -236),
    (0xe45c10c42a2b3b06, -210),
    (0xaa242499697392d3, -183),
    (0xfd87b5f28300ca0e, -157),
    (0xbce5086492111aeb, -130),
    (0x8cbccc096f5088cc, -103),
    (0xd1b71758e219652c, -77),
    (0x9c40000000000000, -50),
    (0xe8d4a51000000000, -24),
    (0xad78ebc5ac620000, 3),
    (0x813f3978f8940984, 30),
    (0xc097ce7bc90715b3, 56),
    (0x8f7e32ce7bea5c70, 83),
    (0xd5d238a4abe98068, 109),
    (0x9f4f2726179a2245, 136),
    (0xed63a231d4c4fb27, 162),
    (0xb0de65388cc8ada8, 189),
    (0x83c7088e1aab65db, 216),
    (0xc45d1df942711d9a, 242),
    (0x924d692ca61be758, 269),
    (0xda01ee641a708dea, 295),
    (0xa26da3999aef774a, 322),
    (0xf209787bb47d6b85, 348),
    (0xb454e4a179dd1877, 375),
    (0x865b86925b9bc5c2, 402),
    (0xc83553c5c8965d3d, 428),
    (0x952ab45cfa97a0b3, 455),
    (0xde469fbd99a05fe3, 481),
    (0xa59bc234db398c25, 508),
    (0xf6c69a72a3989f5c, 534),
    (0xb7dcbf5354e9bece, 561),
    (0x88fcf317f22241e2, 588),
    (0xcc20ce9bd35c78a5, 614),
    (0x98165af37b2153df, 641),
    (0xe2a0b5dc971f303a, 667),
    (0xa8d9d1535ce3b396, 694),
    (0xfb9b7cd9a4a7443c, 720),
    (0xbb764c4ca7a44410, 747),
    (0x8bab8eefb6409c1a, 774),
    (0xd01fef10a657842c, 800),
    (0x9b10a4e5e9913129, 827),
    (0xe7109bfba19c0c9d, 853),
    (0xac2820d9623bf429, 880),
    (0x80444b5e7aa7cf85, 907),
    (0xbf21e44003acdd2d, 933),
    (0x8e679c2f5e44ff8f, 960),
    (0xd433179d9c8cb841, 986),
    (0x9e19db92b4e31ba9, 1013),
    (0xeb96bf6ebadf77d9, 1039),
    (0xaf87023b9bf0ee6b, 1066),
];
const CACHED_FIRST_K: i32 = -348;
const CACHED_STEP_K: i32 = 8;

/// `a * b` keeping the high 64 bits, rounded half up.
fn mul(a: Fp, b: Fp) -> Fp {
    let p = u128::from(a.f) * u128::from(b.f) + (1u128 << 63);
    Fp {
        f: (p >> 64) as u64,
        e: a.e + b.e + 64,
    }
}

/// The cached power of ten that brings a number with binary exponent `e`
/// into the window where the digit loop works (product exponent in
/// -60..=-32), and its decimal exponent k.
fn cached_pow10(e: i32) -> (Fp, i32) {
    // log10(2), truncated toward zero as a C cast does.
    let approx = (-f64::from(e + 87) * 0.301_029_995_663_981_14) as i32;
    let mut i = ((approx - CACHED_FIRST_K) / CACHED_STEP_K) as usize;
    loop {
        let (f, pe) = CACHED_POW10[i];
        let window = e + pe + 64;
        if window < -60 {
            i += 1;
        } else if window > -32 {
            i -= 1;
        } else {
            return (Fp { f, e: pe }, CACHED_FIRST_K + i as i32 * CACHED_STEP_K);
        }
    }
}

/// Moves the last digit down while that brings the digits closer to the
/// exact value and stays inside the rounding interval.
fn weed(digits: &mut [u8], delta: u64, mut rest: u64, ten_kappa: u64, dist: u64) {
    let Some(last) = digits.last_mut() else {
        return;
    };
    while rest < dist
        && delta.wrapping_sub(rest) >= ten_kappa
        && (rest.wrapping_add(ten_kappa) < dist
            || dist.wrapping_sub(rest) > rest.wrapping_add(ten_kappa).wrapping_sub(dist))
    {
        *last -= 1;
        rest = rest.wrapping_add(ten_kappa);
    }
}

/// Grisu2 digits of a finite, non-zero, positive `d`: (digits, count,
/// decimal exponent of the last digit).
fn grisu2(d: f64) -> ([u8; 24], usize, i32) {
    let bits = d.to_bits();
    let (mut f, mut e) = match ((bits >> 52) & 0x7ff) as i32 {
        0 => (bits & FRAC_MASK, -1074),
        be => ((bits & FRAC_MASK) | HIDDEN, be - 1075),
    };
    // The boundaries m+ and m- halfway to the neighbouring doubles, on a
    // common exponent. The lower gap is halved at powers of two (fpconv
    // does this for the smallest normal exponent too).
    let mut hi = Fp {
        f: (f << 1) + 1,
        e: e - 1,
    };
    while hi.f & (HIDDEN << 1) == 0 {
        hi.f <<= 1;
        hi.e -= 1;
    }
    hi.f <<= 10;
    hi.e -= 10;
    let lo_shift = if f == HIDDEN { 2 } else { 1 };
    let lo_e = e - lo_shift;
    let mut lo = Fp {
        f: ((f << lo_shift) - 1) << (lo_e - hi.e),
        e: hi.e,
    };
    while f & HIDDEN == 0 {
        f <<= 1;
        e -= 1;
    }
    let w = Fp {
        f: f << 11,
        e: e - 11,
    };

    let (c, k) = cached_pow10(hi.e);
    let w = mul(w, c);
    let mut hi = mul(hi, c);
    lo = mul(lo, c);
    lo.f += 1;
    hi.f -= 1;

    let mut out = [0u8; 24];
    let mut n = 0;
    let mut exp10 = -k;
    let dist = hi.f - w.f;
    let mut delta = hi.f - lo.f;
    let shift = (-hi.e) as u32;
    let one = 1u64 << shift;
    let mut int_part = hi.f >> shift;
    let mut frac_part = hi.f & (one - 1);

    // Integer digits, from 10^9 down.
    let mut div: u64 = 1_000_000_000;
    let mut kappa = 10;
    while kappa > 0 {
        let digit = int_part / div;
        if digit != 0 || n != 0 {
            out[n] = b'0' + digit as u8;
            n += 1;
        }
        int_part -= digit * div;
        kappa -= 1;
        let rest = (int_part << shift) + frac_part;
        if rest <= delta {
            exp10 += kappa;
            weed(&mut out[..n], delta, rest, div << shift, dist);
            return (out, n, exp10);
        }
        div /= 10;
    }
    // Fraction digits.
    let mut unit: u64 = 10;
    loop {
        frac_part = frac_part.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        kappa -= 1;
        let digit = frac_part >> shift;
        if digit != 0 || n != 0 {
            out[n] = b'0' + digit as u8;
            n += 1;
        }
        frac_part &= one - 1;
        if frac_part < delta {
            exp10 += kappa;
            weed(
                &mut out[..n],
                delta,
                frac_part,
                one,
                dist.wrapping_mul(unit),
            );
            return (out, n, exp10);
        }
        unit = unit.wrapping_mul(10);
    }
}

/// Lays the digits out as fpconv does: plain integers and plain decimals
/// while they stay short, scientific notation (`1.5e-7`, `1e+22`) after.
fn emit(digits: &[u8], k: i32, neg: bool, out: &mut Vec<u8>) {
    let nd = digits.len() as i32;
    let exp = (k + nd - 1).abs();
    if k >= 0 && exp < nd + 7 {
        out.extend_from_slice(digits);
        out.resize(out.len() + k as usize, b'0');
        return;
    }
    if k < 0 && (k > -7 || exp < 4) {
        let int_len = nd + k;
        if int_len <= 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-int_len) as usize, b'0');
            out.extend_from_slice(digits);
        } else {
            out.extend_from_slice(&digits[..int_len as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len as usize..]);
        }
        return;
    }
    let nd = digits.len().min(18 - usize::from(neg));
    out.push(digits[0]);
    if nd > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..nd]);
    }
    out.push(b'e');
    out.push(if k + nd as i32 - 1 < 0 { b'-' } else { b'+' });
    // No zero padding: 1e-7, 1e+22, 1e+300, 5e-324 (a hundreds digit is
    // followed by two more).
    let mut rest = exp;
    let hundreds = rest / 100;
    if hundreds > 0 {
        out.push(b'0' + hundreds as u8);
        rest -= hundreds * 100;
    }
    if rest > 9 {
        out.push(b'0' + (rest / 10) as u8);
        rest %= 10;
    } else if hundreds > 0 {
        out.push(b'0');
    }
    out.push(b'0' + rest as u8);
}

/// Appends `d` as Redis 7.2's `d2string` prints it.
pub fn format_double(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Integral values within ±2^62 print in full as integers.
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if (-LIMIT..=LIMIT).contains(&d) && d.trunc() == d {
        out.extend_from_slice((d as i64).to_string().as_bytes());
        return;
    }
    let neg = d < 0.0;
    if neg {
        out.push(b'-');
    }
    let (digits, n, k) = grisu2(d.abs());
    emit(&digits[..n], k, neg, out);
}

/// Appends `d` as C's `printf("%.17g")` prints it (Redis's `ld2string` in
/// its automatic mode, used where a score is printed as text rather than
/// as a reply double: ZSCAN of a skiplist): 17 significant digits, trailing
/// zeros dropped, an exponent of at least two digits when below 1e-4 or
/// from 1e17 up.
pub fn format_double_g17(d: f64, out: &mut Vec<u8>) {
    if d.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if d == 0.0 {
        out.extend_from_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Rust rounds the exact binary value to 17 digits as glibc does.
    let sci = format!("{:.16e}", d.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mant.bytes().filter(|c| *c != b'.').collect();
    if d < 0.0 {
        out.push(b'-');
    }
    let trim = |v: &[u8]| -> usize { v.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1) };
    if (-4..17).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            out.extend_from_slice(&digits[..int_len]);
            let frac = &digits[int_len..];
            let n = trim(frac);
            if n > 0 {
                out.push(b'.');
                out.extend_from_slice(&frac[..n]);
            }
        } else {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-exp - 1) as usize, b'0');
            out.extend_from_slice(&digits[..trim(&digits)]);
        }
    } else {
        out.push(digits[0]);
        let frac = &digits[1..];
        let n = trim(frac);
        if n > 0 {
            out.push(b'.');
            out.extend_from_slice(&frac[..n]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(a.to_string().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(d: f64) -> String {
        let mut o = Vec::new();
        format_double(d, &mut o);
        String::from_utf8(o).unwrap()
    }

    /// Each expectation is what redis-server 7.2 replied to ZSCORE.
    #[test]
    fn like_redis_72() {
        assert_eq!(f(1.1), "1.1");
        assert_eq!(f(3.0), "3");
        assert_eq!(f(-0.5), "-0.5");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(-1e-6), "-0.000001");
        assert_eq!(f(0.000_123_456_78), "1.2345678e-4");
        assert_eq!(f(123.456), "123.456");
        assert_eq!(f(1e19), "1e+19");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e22), "1e+22");
        assert_eq!(f(1e300), "1e+300");
        assert_eq!(f(-1e-300), "-1e-300");
        assert_eq!(f(f64::from_bits(1)), "5e-324");
        assert_eq!(f(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(f(12_345_678_901_234_567_890.0), "12345678901234567000");
        assert_eq!(f(123_456_789_012_345_678.0), "123456789012345680");
        assert_eq!(f(1.234_567_8e17), "123456780000000000");
        assert_eq!(f(123_456_789_012.0), "123456789012");
        assert_eq!(f(f64::INFINITY), "inf");
        assert_eq!(f(f64::NEG_INFINITY), "-inf");
        // Where Grisu2 is not shortest.
        assert_eq!(f(-1.651484200947297e116), "-1.6514842009472968e+116");
        assert_eq!(f(9.7223e20), "972230000000000100000");
        assert_eq!(f(-7000614.5233), "-7.0006145232999995e+6");
        assert_eq!(f(-7.087677428366449e-292), "-7.0876774283664486e-292");
    }

    /// Each expectation is what glibc's printf("%.17g") prints.
    #[test]
    fn like_printf_g17() {
        let g = |d: f64| {
            let mut o = Vec::new();
            format_double_g17(d, &mut o);
            String::from_utf8(o).unwrap()
        };
        assert_eq!(g(0.1), "0.10000000000000001");
        assert_eq!(g(1e18), "1e+18");
        assert_eq!(g(1e16), "10000000000000000");
        assert_eq!(g(1e17), "1e+17");
        assert_eq!(g(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(g(1e-7), "9.9999999999999995e-08");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1.0000000000000001e-05");
        assert_eq!(g(-2.5), "-2.5");
        assert_eq!(g(3.0), "3");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(g(f64::from_bits(1)), "4.9406564584124654e-324");
        assert_eq!(g(1e300), "1.0000000000000001e+300");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
    }

    /// Recomputes every cached power with exact integer arithmetic.
    #[test]
    fn cached_pow10_table_is_exact() {
        // Little-endian base-2^32 big integers, enough for 10^348 * 2^64.
        fn mul_small(a: &mut Vec<u64>, m: u64) {
            let mut carry = 0;
            for x in a.iter_mut() {
                let v = *x * m + carry;
                *x = v & 0xffff_ffff;
                carry = v >> 32;
            }
            while carry > 0 {
                a.push(carry & 0xffff_ffff);
                carry >>= 32;
            }
        }
        fn bits(a: &[u64]) -> u32 {
            let top = a.iter().rposition(|&x| x != 0).unwrap();
            top as u32 * 32 + (64 - a[top].leading_zeros())
        }
        fn shl(a: &[u64], s: u32) -> Vec<u64> {
            let mut out = vec![0u64; a.len() + (s / 32) as usize + 1];
            for (i, &x) in a.iter().enumerate() {
                let v = x << (s % 32);
                out[i + (s / 32) as usize] |= v & 0xffff_ffff;
                out[i + (s / 32) as usize + 1] |= v >> 32;
            }
            out
        }
        fn cmp(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
            let n = a.len().max(b.len());
            for i in (0..n).rev() {
                let (x, y) = (
                    a.get(i).copied().unwrap_or(0),
                    b.get(i).copied().unwrap_or(0),
                );
                if x != y {
                    return x.cmp(&y);
                }
            }
            std::cmp::Ordering::Equal
        }
        fn sub(a: &mut [u64], b: &[u64]) {
            let mut borrow = 0i64;
            for (i, x) in a.iter_mut().enumerate() {
                let v = *x as i64 - b.get(i).copied().unwrap_or(0) as i64 - borrow;
                borrow = i64::from(v < 0);
                *x = (v + (borrow << 32)) as u64;
            }
        }
        for (i, &(f, e)) in CACHED_POW10.iter().enumerate() {
            let k = CACHED_FIRST_K + i as i32 * CACHED_STEP_K;
            let mut p = vec![1u64];
            for _ in 0..k.unsigned_abs() {
                mul_small(&mut p, 10);
            }
            // Numerator / denominator of 10^k / 2^e; the quotient must be
            // f after rounding to nearest.
            let (mut num, den) = if k >= 0 {
                if e >= 0 {
                    (p, shl(&[1], e as u32))
                } else {
                    (shl(&p, (-e) as u32), vec![1])
                }
            } else {
                (shl(&[1], (-e) as u32), p)
            };
            // Long division one bit at a time (the quotient has 64 bits).
            let mut q: u64 = 0;
            let nb = bits(&num);
            let db = bits(&den);
            assert!(nb >= db);
            for bit in (0..=(nb - db)).rev() {
                let d = shl(&den, bit);
                if cmp(&num, &d) != std::cmp::Ordering::Less {
                    sub(&mut num, &d);
                    q |= 1 << bit;
                }
            }
            let twice = shl(&num, 1);
            let round_up = match cmp(&twice, &den) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Equal => q & 1 == 1,
                std::cmp::Ordering::Less => false,
            };
            assert_eq!(q + u64::from(round_up), f, "10^{k}");
            assert!(f >> 63 == 1, "10^{k} normalised");
        }
    }
}
