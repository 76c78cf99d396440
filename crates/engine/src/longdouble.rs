//! INCRBYFLOAT arithmetic in x87 80-bit extended precision, as Redis does it
//! with C's `long double` on x86-64, so that results print the same
//! (`0.1 + 0.2` gives `0.3`, not `0.30000000000000004`).

use rustc_apfloat::ieee::X87DoubleExtended as Ld;
use rustc_apfloat::{Float, Round};

/// An 80-bit extended-precision value.
#[derive(Debug, Clone, Copy)]
pub struct LongDouble(Ld);

/// Longest text accepted as a number, as Redis's `MAX_LONG_DOUBLE_CHARS`.
const TEXT_LEN_MAX: usize = 5 * 1024;

impl LongDouble {
    /// Parses text as Redis's `string2ld` does (C's `strtold` on the whole
    /// argument): no leading space, nothing left over, NaN and values that
    /// overflow or underflow refused.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() > TEXT_LEN_MAX || s[0].is_ascii_whitespace() {
            return None;
        }
        let text = std::str::from_utf8(s).ok()?;
        let (neg, body) = match text.as_bytes()[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let lower = body.to_ascii_lowercase();
        let v = if lower == "inf" || lower == "infinity" {
            Ld::INFINITY
        } else {
            let ok = !body.is_empty()
                && !body.starts_with(['+', '-'])
                && body.bytes().all(|c| {
                    c.is_ascii_hexdigit()
                        || matches!(
                            c,
                            b'.' | b'e' | b'E' | b'x' | b'X' | b'p' | b'P' | b'+' | b'-'
                        )
                });
            if !ok || lower.contains("nan") {
                return None;
            }
            // C accepts hex floats without a binary exponent; APFloat wants one.
            let owned;
            let body = if lower.starts_with("0x") && !lower.contains('p') {
                owned = format!("{body}p0");
                owned.as_str()
            } else {
                body
            };
            let r = Ld::from_str_r(body, Round::NearestTiesToEven).ok()?;
            // strtold reports ERANGE for overflow to infinity and for
            // underflow to zero; Redis refuses both.
            if r.value.is_infinite() || (r.value.is_zero() && body_has_nonzero_digit(body)) {
                return None;
            }
            r.value
        };
        Some(LongDouble(if neg { -v } else { v }))
    }

    /// Converts from a 64-bit integer exactly.
    pub fn from_i64(v: i64) -> LongDouble {
        LongDouble(Ld::from_i128(i128::from(v)).value)
    }

    /// Converts from a double exactly (every double is a long double).
    pub fn from_f64(v: f64) -> LongDouble {
        use rustc_apfloat::FloatConvert;
        let d = rustc_apfloat::ieee::Double::from_bits(u128::from(v.to_bits()));
        let mut loses_info = false;
        LongDouble(d.convert(&mut loses_info).value)
    }

    /// The rounded sum.
    pub fn plus(self, other: LongDouble) -> LongDouble {
        LongDouble((self.0 + other.0).value)
    }

    /// Whether the value is NaN or infinite.
    pub fn is_nan_or_inf(self) -> bool {
        self.0.is_nan() || self.0.is_infinite()
    }

    /// Formats as Redis's "human" mode: `%.17Lf`, then trailing zeros and
    /// a trailing dot removed; `-0` prints as `0`.
    pub fn to_human(self) -> String {
        let bits = self.0.to_bits();
        let neg = (bits >> 79) & 1 == 1;
        let exp_field = ((bits >> 64) & 0x7fff) as i64;
        let sig = bits as u64;
        // value = sig * 2^(exp_field - 16383 - 63); denormals use 1 - 16383.
        let e = if exp_field == 0 {
            1 - 16383 - 63
        } else {
            exp_field - 16383 - 63
        };
        let (int_digits, frac) = fixed_17(sig, e);
        let mut s = String::new();
        let is_zero = int_digits == "0" && frac.bytes().all(|c| c == b'0');
        if neg && !is_zero {
            s.push('-');
        }
        s.push_str(&int_digits);
        let frac = frac.trim_end_matches('0');
        if !frac.is_empty() {
            s.push('.');
            s.push_str(frac);
        }
        s
    }
}

fn body_has_nonzero_digit(body: &str) -> bool {
    // Only the mantissa matters: stop at the exponent marker.
    let lower = body.to_ascii_lowercase();
    let (hex, rest) = match lower.strip_prefix("0x") {
        Some(r) => (true, r.to_string()),
        None => (false, lower.clone()),
    };
    let mant = rest.split(if hex { 'p' } else { 'e' }).next().unwrap_or("");
    mant.bytes().any(|c| {
        if hex {
            c.is_ascii_hexdigit() && c != b'0'
        } else {
            (b'1'..=b'9').contains(&c)
        }
    })
}

/// Decimal digits of a big unsigned integer kept as little-endian base-1e9
/// limbs.
fn big_to_string(limbs: &[u32]) -> String {
    let mut s = String::new();
    let mut first = true;
    for &l in limbs.iter().rev() {
        if first {
            if l == 0 && limbs.len() > 1 {
                continue;
            }
            s.push_str(&l.to_string());
            first = false;
        } else {
            s.push_str(&format!("{l:09}"));
        }
    }
    if s.is_empty() {
        s.push('0');
    }
    s
}

/// `sig * 2^e` printed with exactly 17 fraction digits, rounded half to
/// even on the exact value (as glibc's printf does): returns the integer
/// digits and the 17 fraction digits.
fn fixed_17(sig: u64, e: i64) -> (String, String) {
    const SCALE: u128 = 100_000_000_000_000_000; // 10^17
    if sig == 0 {
        return ("0".into(), "0".repeat(17));
    }
    if e >= 0 {
        // An integer: sig << e, in base 1e9.
        let mut limbs: Vec<u32> = vec![
            (sig % 1_000_000_000) as u32,
            ((sig / 1_000_000_000) % 1_000_000_000) as u32,
            (sig / 1_000_000_000_000_000_000) as u32,
        ];
        for _ in 0..e {
            let mut carry = 0u64;
            for l in limbs.iter_mut() {
                let v = u64::from(*l) * 2 + carry;
                *l = (v % 1_000_000_000) as u32;
                carry = v / 1_000_000_000;
            }
            if carry > 0 {
                limbs.push(carry as u32);
            }
        }
        return (big_to_string(&limbs), "0".repeat(17));
    }
    let shift = (-e) as u32;
    let n = u128::from(sig) * SCALE; // < 2^121
    let scaled = if shift >= 128 {
        // n < 2^121 <= half of 2^shift: rounds to zero.
        0
    } else {
        let q = n >> shift;
        let rem = n & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    let int_part = scaled / SCALE;
    let frac_part = scaled % SCALE;
    (int_part.to_string(), format!("{frac_part:017}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> String {
        let x = LongDouble::parse(a.as_bytes()).unwrap();
        let y = LongDouble::parse(b.as_bytes()).unwrap();
        x.plus(y).to_human()
    }

    #[test]
    fn matches_redis_long_double_output() {
        assert_eq!(sum("0.1", "0.2"), "0.3");
        assert_eq!(sum("10.5", "0.1"), "10.6");
        assert_eq!(sum("1", "-1.1"), "-0.1");
        assert_eq!(sum("17179869184", "1.5"), "17179869185.5");
        assert_eq!(sum("5.0e3", "2.0e2"), "5200");
        assert_eq!(sum("0.024390243902439025", "-0.024390243902439025"), "0");
        assert_eq!(sum("1e20", "0"), "100000000000000000000");
        assert_eq!(sum("3", "0.00000000000000001"), "3.00000000000000001");
    }

    #[test]
    fn parse_like_strtold() {
        for bad in ["", " 1", "1 ", "abc", "nan", "1e99999", "1e-99999", "--1"] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad}");
        }
        for good in ["1", "+1.5", "-0", ".5", "5.", "1e5", "inf", "-inf", "0x10"] {
            assert!(LongDouble::parse(good.as_bytes()).is_some(), "{good}");
        }
    }
}
