//! Reading decimal numbers into `f64`, correctly rounded, without the
//! standard library's parser.
//!
//! `str::parse::<f64>` is exact and fast, but its Eisel-Lemire algorithm
//! carries a 10 KB table of powers of five that gzip cannot shrink: with its
//! code, about 11 KB of the browser download. [`parse`] gives the same
//! result for every input — the nearest `f64`, ties to even, the same
//! syntax accepted and rejected — with Clinger's fast path for the common
//! short numbers and an exact big-integer division for the rest (long
//! digit strings, huge or tiny exponents), which is slower but rare here.
//!
//! Syntax, as `f64::from_str`: an optional sign, then `inf`, `infinity` or
//! `nan` in any case, or digits with an optional `.` (at least one digit on
//! either side) and an optional exponent `e`/`E`, sign, digits.

use std::fmt;

/// A string that is not a number; displays as `ParseFloatError` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatError {
    empty: bool,
}

impl fmt::Display for FloatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.empty { "cannot parse float from empty string" } else { "invalid float literal" })
    }
}

/// `s.parse::<f64>()`: the same value, or an error, for every `s`.
pub fn parse(s: &str) -> Result<f64, FloatError> {
    let invalid = FloatError { empty: false };
    if s.is_empty() {
        return Err(FloatError { empty: true });
    }
    let b = s.as_bytes();
    let (neg, body) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let sign = |v: f64| if neg { -v } else { v };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Ok(sign(f64::INFINITY));
    }
    if body.eq_ignore_ascii_case(b"nan") {
        return Ok(sign(f64::NAN));
    }

    // Validate; on the way, the significant digits (no leading zeros) in
    // `w` while they fit, their count, and the power of ten that scales
    // them: value = digits × 10^exp10.
    let (mut w, mut count, mut exp10) = (0u64, 0usize, 0i64);
    let mut digit = |d: u8, frac: bool, exp10: &mut i64| {
        if count > 0 || d != b'0' {
            if count < 19 {
                w = w * 10 + u64::from(d - b'0');
            }
            count += 1;
        }
        if frac {
            *exp10 -= 1;
        }
    };
    let mut i = 0;
    while i < body.len() && body[i].is_ascii_digit() {
        digit(body[i], false, &mut exp10);
        i += 1;
    }
    let int_end = i;
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && body[i].is_ascii_digit() {
            digit(body[i], true, &mut exp10);
            i += 1;
        }
    }
    let mantissa_end = i;
    if int_end == 0 && mantissa_end <= 1 {
        return Err(invalid); // no digit on either side of the point
    }
    if i < body.len() && (body[i] == b'e' || body[i] == b'E') {
        i += 1;
        let neg_exp = match body.get(i) {
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
        let start = i;
        let mut e: i64 = 0;
        while i < body.len() && body[i].is_ascii_digit() {
            // Saturates far beyond any exponent that is not 0 or infinity.
            e = (e * 10 + i64::from(body[i] - b'0')).min(1 << 40);
            i += 1;
        }
        if i == start {
            return Err(invalid);
        }
        exp10 += if neg_exp { -e } else { e };
    }
    if i != body.len() {
        return Err(invalid);
    }
    if count == 0 {
        return Ok(sign(0.0));
    }
    if count <= 19 {
        let (mut w, mut count, mut exp10) = (w, count, exp10);
        while w % 10 == 0 {
            w /= 10;
            count -= 1;
            exp10 += 1;
        }
        // Clinger's fast path: both factors exact, so one rounding.
        if count <= 15 && exp10.abs() <= 22 {
            let p = POW10[exp10.unsigned_abs() as usize];
            let w = w as f64;
            return Ok(sign(if exp10 < 0 { w / p } else { w * p }));
        }
    }
    // The rare rest: all the significant digits, exactly.
    let mut digits: Vec<u8> = body[..mantissa_end].iter().filter(|b| b.is_ascii_digit()).map(|b| b - b'0').skip_while(|&d| d == 0).collect();
    while digits.last() == Some(&0) {
        digits.pop();
        exp10 += 1;
    }
    Ok(sign(magnitude(&digits, exp10)))
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The `f64` nearest to `digits × 10^exp10` (`digits` without leading or
/// trailing zeros, not empty).
fn magnitude(digits: &[u8], exp10: i64) -> f64 {
    // value is in [10^(m-1), 10^m).
    let m = digits.len() as i64 + exp10;
    if m > 310 {
        return f64::INFINITY;
    }
    // Below 10^-324, under half the smallest subnormal (4.9e-324).
    if m < -323 {
        return 0.0;
    }
    // Exact: value = num / den with big integers; find q = floor(value ×
    // 2^s) with 54 bits and whether a remainder is left.
    let mut num = Big::from_digits(digits);
    let mut den = Big::one();
    if exp10 >= 0 {
        num.mul_pow10(exp10 as u32);
    } else {
        den.mul_pow10((-exp10) as u32);
    }
    let mut s = 54 - (num.bits() as i64 - den.bits() as i64);
    let (q, rest) = loop {
        let (mut a, mut d) = (num.clone(), den.clone());
        if s >= 0 {
            a.shl(s as u32);
        } else {
            d.shl((-s) as u32);
        }
        let (q, rest) = a.div_small_quotient(&d);
        if q >= 1 << 54 {
            s -= 1;
        } else if q < 1 << 53 {
            s += 1;
        } else {
            break (q, rest);
        }
    };
    // value ≈ q × 2^-s; a 53-bit mantissa keeps q >> 1, or fewer bits
    // below the normal range.
    let mut e = 1 - s;
    let mut shift = 1u32;
    if e < -1074 {
        shift += (-1074 - e).min(60) as u32;
        e = -1074;
    }
    let mut mant = q >> shift;
    let half = (q >> (shift - 1)) & 1 == 1;
    let sticky = rest || q & ((1u64 << (shift - 1)) - 1) != 0;
    if half && (sticky || mant & 1 == 1) {
        mant += 1;
        if mant == 1 << 53 {
            mant >>= 1;
            e += 1;
        }
    }
    if mant < 1 << 52 {
        return f64::from_bits(mant); // subnormal (or zero)
    }
    let biased = e + 1075;
    if biased >= 2047 {
        return f64::INFINITY;
    }
    f64::from_bits(((biased as u64) << 52) | (mant & ((1 << 52) - 1)))
}

/// A non-negative big integer, little-endian 32-bit limbs.
#[derive(Clone)]
struct Big(Vec<u32>);

impl Big {
    fn one() -> Big {
        Big(vec![1])
    }

    fn from_digits(digits: &[u8]) -> Big {
        let mut b = Big(vec![0]);
        for chunk in digits.chunks(9) {
            let v = chunk.iter().fold(0u32, |v, &d| v * 10 + u32::from(d));
            b.mul_add(10u32.pow(chunk.len() as u32), v);
        }
        b
    }

    fn mul_add(&mut self, m: u32, add: u32) {
        let mut carry = u64::from(add);
        for l in &mut self.0 {
            let v = u64::from(*l) * u64::from(m) + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut n: u32) {
        while n > 0 {
            let k = n.min(9);
            self.mul_add(10u32.pow(k), 0);
            n -= k;
        }
    }

    fn bits(&self) -> u32 {
        let top = self.0.iter().rposition(|&l| l != 0).unwrap_or(0);
        top as u32 * 32 + (32 - self.0[top].leading_zeros())
    }

    fn shl(&mut self, n: u32) {
        let (limbs, bits) = ((n / 32) as usize, n % 32);
        if bits > 0 {
            let mut carry = 0;
            for l in &mut self.0 {
                let v = *l;
                *l = (v << bits) | carry;
                carry = v >> (32 - bits);
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, std::iter::repeat_n(0, limbs));
    }

    /// `self.cmp(&(other << n))` for limb-aligned `n`: compares with the
    /// first `skip` limbs of `self` standing for the zeros of the shift.
    fn ge_shifted(&self, other: &Big, skip: usize) -> bool {
        let len = self.0.len().max(other.0.len() + skip);
        for k in (0..len).rev() {
            let a = self.0.get(k).copied().unwrap_or(0);
            let b = if k >= skip { other.0.get(k - skip).copied().unwrap_or(0) } else { 0 };
            if a != b {
                return a > b;
            }
        }
        true
    }

    fn sub_shifted(&mut self, other: &Big, skip: usize) {
        let mut borrow = 0i64;
        for k in skip..self.0.len() {
            let b = other.0.get(k - skip).copied().unwrap_or(0);
            let v = i64::from(self.0[k]) - i64::from(b) - borrow;
            self.0[k] = v as u32;
            borrow = i64::from(v < 0);
        }
    }

    /// `(self / d, self % d != 0)` for a quotient below 2^55: long division
    /// one bit at a time.
    fn div_small_quotient(mut self, d: &Big) -> (u64, bool) {
        let mut q = 0u64;
        for bit in (0..55).rev() {
            let mut t = d.clone();
            t.shl(bit % 32);
            let skip = (bit / 32) as usize;
            if self.ge_shifted(&t, skip) {
                self.sub_shifted(&t, skip);
                q |= 1 << bit;
            }
        }
        (q, self.0.iter().any(|&l| l != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(s: &str) {
        let want = s.parse::<f64>();
        let got = parse(s);
        match (want, got) {
            (Ok(w), Ok(g)) => assert!(w.to_bits() == g.to_bits() || (w.is_nan() && g.is_nan()), "{s}: want {w:e}, got {g:e}"),
            (Err(w), Err(g)) => assert_eq!(w.to_string(), g.to_string(), "{s}"),
            (w, g) => panic!("{s}: want {w:?}, got {g:?}"),
        }
    }

    #[test]
    fn syntax_as_the_standard_parser() {
        for s in [
            "", "+", "-", ".", "e", "e5", "1e", "1e+", "1e-", "1.", ".5", "-.5", "+1.5e3", "1_0", " 1", "1 ", "0x10", "1e5.0", "1..2",
            "inf", "-inf", "+INF", "Infinity", "-infinity", "infinit", "nan", "NaN", "-nan", "+NAN", "nana", "0", "-0", "00.000e-999",
            "1e999999999999999999999", "1e-999999999999999999999", "0e999999999", "١", "1e٣",
        ] {
            same(s);
        }
    }

    #[test]
    fn hard_roundings_as_the_standard_parser() {
        for s in [
            "9007199254740993",
            "9007199254740992.0000000000000000000001",
            "9007199254740995",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
            "2.2250738585072014e-308",
            "4.9406564584124654e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174501888.0",
            "0.1", "0.2", "0.3", "0.30000000000000004", "123456789012345678901234567890", "1e23", "8.98846567431158e307",
            "1e-320", "1e-7", "1e22", "1e-22", "123456789012345e22", "0.000000000000000000000000000001",
        ] {
            same(s);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn every_f64_reads_back(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            for s in [format!("{x}"), format!("{x:e}"), format!("{x:.17e}"), format!("{x:.3e}"), format!("{:.30}", x.abs() % 1e6)] {
                same(&s);
            }
        }

        #[test]
        fn decimal_strings(int in "[0-9]{0,25}", frac in proptest::option::of("[0-9]{0,25}"), exp in proptest::option::of(-400i32..400), sign in "[+-]?") {
            let mut s = format!("{sign}{int}");
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            if let Some(e) = exp {
                s.push_str(&format!("e{e}"));
            }
            same(&s);
        }

        #[test]
        fn any_text(s in "[0-9eE.+\\-infaINFA]{0,12}") {
            same(&s);
        }
    }
}
