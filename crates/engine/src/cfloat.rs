//! C's `strtod` as glibc implements it, and the three ways Redis checks its
//! result: `string2d` (scores, weights), the score-range parser of
//! ZRANGEBYSCORE and friends, and SORT's weights. Each accepts a different
//! set of texts, and clients depend on the differences (`ZCOUNT k ( 5` is
//! valid, `ZADD k 1e400 m` is not, `ZADD k 0x10 m` is).

/// What `strtod` made of a byte string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strtod {
    /// The value (0 when nothing was converted).
    pub value: f64,
    /// Bytes consumed, leading white space included; 0 when no number was
    /// recognised (C leaves `endptr` at the start then).
    pub end: usize,
    /// Whether `errno` would be `ERANGE`: the result overflowed to an
    /// infinity or underflowed below the normal range and lost bits.
    pub erange: bool,
}

/// C's `isspace` in the "C" locale.
pub fn c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The text C sees: everything before the first NUL byte.
pub fn c_str(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

fn starts_with_ci(b: &[u8], word: &[u8]) -> bool {
    b.len() >= word.len() && b[..word.len()].eq_ignore_ascii_case(word)
}

/// Converts the longest prefix of `b` that reads as a C floating-point
/// number: optional white space and sign, then `inf`/`infinity`,
/// `nan`/`nan(chars)`, a hexadecimal float (`0x1.8p3`) or a decimal one.
pub fn strtod(b: &[u8]) -> Strtod {
    const NONE: Strtod = Strtod {
        value: 0.0,
        end: 0,
        erange: false,
    };
    let mut i = b.iter().position(|&c| !c_space(c)).unwrap_or(b.len());
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &b[i..];
    if starts_with_ci(rest, b"inf") {
        let n = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return Strtod {
            value: sign(f64::INFINITY),
            end: i + n,
            erange: false,
        };
    }
    if starts_with_ci(rest, b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let chars = rest[4..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if rest.get(4 + chars) == Some(&b')') {
                n = 5 + chars;
            }
        }
        return Strtod {
            value: f64::NAN,
            end: i + n,
            erange: false,
        };
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, n, erange)) = hex(&rest[2..]) {
            return Strtod {
                value: sign(v),
                end: i + 2 + n,
                erange,
            };
        }
        // "0x" without hex digits: only the 0 is a number.
        return Strtod {
            value: sign(0.0),
            end: i + 1,
            erange: false,
        };
    }
    let Some((v, n, erange)) = decimal(rest) else {
        return NONE;
    };
    Strtod {
        value: sign(v),
        end: i + n,
        erange,
    }
}

/// `digits[.digits][e[+-]digits]` with at least one digit: (value, length,
/// erange).
fn decimal(s: &[u8]) -> Option<(f64, usize, bool)> {
    let int = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n = int;
    let mut frac = 0;
    if s.get(n) == Some(&b'.') {
        frac = s[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        n += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    let mantissa = &s[..n];
    if matches!(s.get(n), Some(b'e' | b'E')) {
        let mut j = n + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_digits = s[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits > 0 {
            n = j + exp_digits;
        }
    }
    let text = std::str::from_utf8(&s[..n]).ok()?;
    // Rust's parser is correctly rounded, as glibc's is; it wants a digit
    // on each side of nothing in particular, so "5." and ".5" both parse.
    let v: f64 = text.parse().ok()?;
    let nonzero = mantissa.iter().any(|c| (b'1'..=b'9').contains(c));
    let erange = v.is_infinite() || (nonzero && v < f64::MIN_POSITIVE);
    Some((v, n, erange))
}

/// The part after `0x`: `h[.h][p[+-]d]` with at least one hex digit:
/// (value, length, erange).
fn hex(s: &[u8]) -> Option<(f64, usize, bool)> {
    // Keep the first 60 significant bits exactly and fold the rest into a
    // sticky bit: enough to round to 53 bits correctly.
    let mut mant: u64 = 0;
    let mut sticky = false;
    let mut exp2: i64 = 0;
    let mut digits = 0;
    let mut n = 0;
    let mut dot = false;
    while n < s.len() {
        let c = s[n];
        if c == b'.' && !dot {
            dot = true;
            n += 1;
            continue;
        }
        let Some(d) = char::from(c).to_digit(16) else {
            break;
        };
        digits += 1;
        if mant >> 56 == 0 {
            mant = mant << 4 | u64::from(d);
            if dot {
                exp2 -= 4;
            }
        } else {
            sticky |= d != 0;
            if !dot {
                exp2 += 4;
            }
        }
        n += 1;
    }
    if digits == 0 {
        return None;
    }
    if matches!(s.get(n), Some(b'p' | b'P')) {
        let mut j = n + 1;
        let eneg = match s.get(j) {
            Some(b'-') => {
                j += 1;
                true
            }
            Some(b'+') => {
                j += 1;
                false
            }
            _ => false,
        };
        let len = s[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if len > 0 {
            let e = s[j..j + len]
                .iter()
                .fold(0i64, |acc, c| (acc * 10 + i64::from(c - b'0')).min(1 << 40));
            exp2 += if eneg { -e } else { e };
            n = j + len;
        }
    }
    let (v, inexact) = compose(mant, sticky, exp2);
    let erange = v.is_infinite() || (v < f64::MIN_POSITIVE && inexact);
    Some((v, n, erange))
}

/// `mant * 2^exp2` (plus a little more when `sticky`) rounded to the
/// nearest double, ties to even: (value, whether bits were lost).
fn compose(mant: u64, sticky: bool, exp2: i64) -> (f64, bool) {
    if mant == 0 {
        return (0.0, false);
    }
    // Normalise so bit 63 is the leading one: value = m * 2^(e - 63).
    let lz = mant.leading_zeros();
    let m = mant << lz;
    let e = exp2 + 63 - i64::from(lz);
    if e > 1023 {
        return (f64::INFINITY, true);
    }
    // Bits of precision available: 53 for normal numbers, fewer below.
    let keep: i64 = if e >= -1022 { 53 } else { 53 - (-1022 - e) };
    if keep <= 0 {
        // Below half the smallest subnormal (or exactly half: ties to 0).
        let half = keep == 0 && (m > 1 << 63 || sticky);
        return if half {
            (f64::from_bits(1), true)
        } else {
            (0.0, true)
        };
    }
    let drop = 64 - keep as u32;
    let mut top = m >> drop;
    let rem = m & ((1u64 << drop) - 1);
    let halfway = 1u64 << (drop - 1);
    let inexact = rem != 0 || sticky;
    if rem > halfway || (rem == halfway && (sticky || top & 1 == 1)) {
        top += 1;
    }
    // `top` holds `keep` bits (keep + 1 after a carry), exact as an f64;
    // its last bit weighs 2^k with k in -1074..=971.
    let k = e - keep + 1;
    let unit = if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    };
    // Exact unless it overflows, which is the infinity we want.
    let value = top as f64 * unit;
    (value, inexact || value.is_infinite())
}

/// Redis's `string2d`: the whole argument must be a number with no leading
/// space; NaN, overflow and underflow to zero are refused.
pub fn string2d(b: &[u8]) -> Option<f64> {
    if b.is_empty() || c_space(b[0]) {
        return None;
    }
    let r = strtod(b);
    let out_of_range = r.erange && (r.value.is_infinite() || r.value == 0.0);
    if r.end != b.len() || out_of_range || r.value.is_nan() {
        return None;
    }
    Some(r.value)
}

/// A score-range bound as ZRANGEBYSCORE reads it (after an optional `(`):
/// plain `strtod` on the C string, which must be consumed whole. Leading
/// space, the empty string (0) and overflow to an infinity are accepted;
/// NaN is not.
pub fn range_bound(b: &[u8]) -> Option<f64> {
    let b = c_str(b);
    let r = strtod(b);
    if r.end != b.len() || r.value.is_nan() {
        return None;
    }
    Some(r.value)
}

/// A SORT weight: like [`range_bound`], but any range error is refused.
pub fn sort_weight(b: &[u8]) -> Option<f64> {
    let b = c_str(b);
    let r = strtod(b);
    if r.end != b.len() || r.value.is_nan() || r.erange {
        return None;
    }
    Some(r.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(s: &str) -> (f64, usize, bool) {
        let r = strtod(s.as_bytes());
        (r.value, r.end, r.erange)
    }

    /// Expectations taken from glibc's strtod.
    #[test]
    fn matches_glibc() {
        assert_eq!(st("4.9e-324"), (f64::from_bits(1), 8, true));
        assert_eq!(st("0x1p-1074"), (f64::from_bits(1), 9, false));
        assert_eq!(st("0x1p-1022"), (f64::MIN_POSITIVE, 9, false));
        assert_eq!(
            st("2.2250738585072014e-308"),
            (f64::MIN_POSITIVE, 23, false)
        );
        assert_eq!(st("1e-400"), (0.0, 6, true));
        assert_eq!(st("0e-400"), (0.0, 6, false));
        assert_eq!(st("1e400"), (f64::INFINITY, 5, true));
        assert_eq!(st("0x1p1024"), (f64::INFINITY, 8, true));
        assert_eq!(st("infin"), (f64::INFINITY, 3, false));
        assert_eq!(st("-InFiNiTy"), (f64::NEG_INFINITY, 9, false));
        assert_eq!(st("nan(abc").1, 3);
        assert_eq!(st("nan(abc)").1, 8);
        assert_eq!(st("nan()").1, 5);
        assert_eq!(st("+nan").1, 4);
        assert_eq!(st("0x"), (0.0, 1, false));
        assert_eq!(st("0x.8"), (0.5, 4, false));
        assert_eq!(st("0x.p1"), (0.0, 1, false));
        assert_eq!(st("1e+"), (1.0, 1, false));
        assert_eq!(st(" +.5e-1x"), (0.05, 7, false));
        assert_eq!(st("."), (0.0, 0, false));
        assert_eq!(st("-.e1"), (0.0, 0, false));
        assert_eq!(st("0x1P-2"), (0.25, 6, false));
        assert_eq!(st("0X1.8p1"), (3.0, 7, false));
        assert_eq!(st("  "), (0.0, 0, false));
        assert_eq!(st(""), (0.0, 0, false));
        assert_eq!(st("1_0"), (1.0, 1, false));
        assert_eq!(st("0x1p"), (1.0, 3, false));
        assert!(st("1e-310").2);
        assert_eq!(st("0x1.fffffffffffff8p1023"), (f64::INFINITY, 23, true));
        assert_eq!(
            st("0x123456789abcdef123p0"),
            (0x12_3456_789a_bcde_f123_u128 as f64, 22, false)
        );
        assert_eq!(st("0x1.00000000000008p0").0, 1.0);
        assert_eq!(st("0x1.00000000000018p0").0, 1.0 + 2.0 * f64::EPSILON);
        assert_eq!(st("0x1.000000000000080001p0").0, 1.0 + f64::EPSILON);
    }

    #[test]
    fn redis_checks() {
        assert_eq!(string2d(b"0x10"), Some(16.0));
        assert_eq!(string2d(b"1e400"), None);
        assert_eq!(string2d(b"1e-400"), None);
        assert_eq!(string2d(b"4.9e-324"), Some(f64::from_bits(1)));
        assert_eq!(string2d(b" 1"), None);
        assert_eq!(string2d(b"1 "), None);
        assert_eq!(string2d(b""), None);
        assert_eq!(string2d(b"inf"), Some(f64::INFINITY));
        assert_eq!(string2d(b"nan"), None);
        assert_eq!(string2d(b"1\x00"), None);
        assert_eq!(range_bound(b""), Some(0.0));
        assert_eq!(range_bound(b" 1"), Some(1.0));
        assert_eq!(range_bound(b"  "), None);
        assert_eq!(range_bound(b"1e400"), Some(f64::INFINITY));
        assert_eq!(range_bound(b"1\x00junk"), Some(1.0));
        assert_eq!(range_bound(b"nan"), None);
        assert_eq!(sort_weight(b""), Some(0.0));
        assert_eq!(sort_weight(b"1e400"), None);
        assert_eq!(sort_weight(b"1e-400"), None);
        assert_eq!(sort_weight(b"0e-400"), Some(0.0));
        assert_eq!(sort_weight(b"7\0junk"), Some(7.0));
    }
}
