//! Quantities in learners' answers: reading a number with a unit out of free
//! text ("43m 12s", "0.1%", "1.2M series", "720/min", "1.5 GiB"), comparing
//! it with an expected value under a tolerance, and printing a value back for
//! feedback. This module owns the answer syntax of the "number with a unit"
//! question kind; it knows nothing of questions or runs.
//!
//! # What is accepted
//!
//! An answer is an optional prefix (`≈`, `~`, `=`, `about`, `around`,
//! `approx`, `approximately`, `roughly`, `circa`, `ca.`), a number, a unit
//! and optionally a few trailing words ("240 series", "43.2 min of
//! downtime"), and an optional full stop. Numbers may use thousands
//! separators (`50,000`, `50 000`, `50_000`, `50'000`, with a no-break or
//! thin space too), a decimal point and an exponent (`1.2e6`). A comma is
//! never a decimal separator: `43,2` is refused with a message rather than
//! guessed at, because `1,500` would be ambiguous.
//!
//! - Time ([`Dimension::Time`]): a unit is required (`ns`, `us`/`µs`, `ms`, `s`,
//!   `sec`, `second`, `m`, `min`, `minute`, `h`, `hr`, `hour`, `d`, `day`,
//!   `w`, `week`, plurals too), and terms add up: `43m 12s`, `43m12s`,
//!   `1 hour and 5 minutes`, `3d 4h`. A bare number is refused: seconds or
//!   minutes would be a guess.
//! - Ratio ([`Dimension::Ratio`]): `0.1%`, `0.1 %`, `0.1 percent`, or a bare fraction
//!   `0.001`. A bare number above 1 is refused with a hint to add `%`.
//! - Count ([`Dimension::Count`]): a bare number, with an optional multiplier (`k`,
//!   `thousand`, `M`/`m`, `million`, `B`/`bn`, `billion`, `trillion`) and
//!   words naming what is counted (`12,000,000 series`, `50k requests`).
//! - Rate ([`Dimension::Rate`]): per second in the base unit: `12 req/s`, `12/s`,
//!   `720/min`, `12 requests per second`, `12 rps` (also `qps`, `tps`, `hz`,
//!   `rpm`), with an optional multiplier (`1.2k req/s`). A bare number is
//!   refused.
//! - Bytes ([`Dimension::Bytes`]): SI (`kB`, `MB`, `GB`, `TB`, `PB`, powers of 1000)
//!   and IEC (`KiB`, `MiB`, `GiB`, `TiB`, `PiB`, and Kubernetes' `Ki`, `Mi`,
//!   `Gi`, `Ti`, powers of 1024) units, case-insensitive, and `B`/`bytes`. A
//!   bare number is refused. Bits and byte rates are not supported.
//!
//! Unit letters are matched case-insensitively and resolved by the dimension
//! the question expects: `m` is minutes for a duration and millions for a
//! count, `b` is bytes for a size and billions for a count.
//!
//! Negative values, NaN and infinity (which are not numbers in this syntax),
//! values above 10¹⁸ in the base unit, and anything unreadable give an
//! [`AnswerError`] with the byte range it is about; no input panics.

use std::fmt;
use std::ops::Range;

use super::AnswerError;

/// What a quantity measures, and so its base unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// A duration; base unit the second.
    Time,
    /// A fraction in `0..=1` (`0.001` for 0.1 %); percent input is accepted.
    Ratio,
    /// A number of things (series, requests, spans).
    Count,
    /// Events per second.
    Rate,
    /// A size; base unit the byte.
    Bytes,
}

impl Dimension {
    pub const ALL: [Dimension; 5] =
        [Dimension::Time, Dimension::Ratio, Dimension::Count, Dimension::Rate, Dimension::Bytes];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Time => "time",
            Dimension::Ratio => "ratio",
            Dimension::Count => "count",
            Dimension::Rate => "rate",
            Dimension::Bytes => "bytes",
        }
    }

    /// What an answer of this dimension looks like, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Dimension::Time => "a duration with a unit, e.g. 43.2 min, 2592 s or 0.72 h",
            Dimension::Ratio => "a ratio, e.g. 0.1%, 99.9% or 0.001",
            Dimension::Count => "a count, e.g. 50,000, 50k or 1.2M",
            Dimension::Rate => "a rate, e.g. 12 req/s, 12/s or 720/min",
            Dimension::Bytes => "a size, e.g. 1.5 GB, 1.5 GiB or 300 MB",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Dimension::Time => "a duration",
            Dimension::Ratio => "a ratio",
            Dimension::Count => "a count",
            Dimension::Rate => "a rate",
            Dimension::Bytes => "a size",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value in the base unit of its dimension: seconds, a fraction, a count,
/// events per second or bytes. `value` is finite, not negative and at most
/// 10¹⁸ when it comes from [`parse_quantity`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub dim: Dimension,
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_quantity(self.value, self.dim))
    }
}

/// How far an answer may be from the expected value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// A fraction of the expected value: `Relative(0.05)` is ±5 %.
    Relative(f64),
    /// A distance in the base unit of the dimension (seconds, bytes, ...).
    Absolute(f64),
}

/// The largest value [`parse_quantity`] accepts, in base units: beyond it an
/// answer is a typo or a stress test, not an estimate.
pub const MAX_VALUE: f64 = 1e18;

/// Whether `answer` is within `tol` of `expected`. A few ulps of slack absorb
/// unit conversion (43.2 min is not exactly 2592 s in binary floating point).
/// Non-finite values, and a negative or NaN tolerance (read as zero), never
/// widen the comparison; `Relative` of an expected 0 accepts only 0.
pub fn within(answer: f64, expected: f64, tol: Tolerance) -> bool {
    if !answer.is_finite() || !expected.is_finite() {
        return false;
    }
    let allowed = match tol {
        Tolerance::Relative(r) => non_negative(r) * expected.abs(),
        Tolerance::Absolute(a) => non_negative(a),
    };
    let slack = 1e-9 * answer.abs().max(expected.abs());
    (answer - expected).abs() <= allowed + slack
}

fn non_negative(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// A value for feedback, in the unit a person would use, with thousands
/// separators and at most four significant digits after the point:
/// `43.2 min (2,592 s)`, `0.1 %`, `50,000`, `12.5 req/s`, `1.5 MiB`.
/// Non-finite values print as `—`.
pub fn format_quantity(value: f64, dim: Dimension) -> String {
    if !value.is_finite() {
        return "—".to_string();
    }
    let a = value.abs();
    match dim {
        Dimension::Time => {
            if a == 0.0 {
                "0 s".to_string()
            } else if a < 1.0 {
                format!("{} ms", fmt_num(value * 1e3, 4))
            } else if a < 60.0 {
                format!("{} s", fmt_num(value, 4))
            } else if a < 3600.0 {
                format!("{} min ({} s)", fmt_num(value / 60.0, 4), fmt_num(value, 4))
            } else if a < 2.0 * 86400.0 {
                format!("{} h ({} min)", fmt_num(value / 3600.0, 4), fmt_num(value / 60.0, 4))
            } else {
                format!("{} days ({} h)", fmt_num(value / 86400.0, 4), fmt_num(value / 3600.0, 4))
            }
        }
        // Five digits so that SLO targets such as 99.995 % survive.
        Dimension::Ratio => format!("{} %", fmt_num(value * 100.0, 5)),
        Dimension::Count => fmt_num(value, 4),
        Dimension::Rate => {
            if a > 0.0 && a < 1.0 {
                format!("{} req/s ({} req/min)", fmt_num(value, 4), fmt_num(value * 60.0, 4))
            } else {
                format!("{} req/s", fmt_num(value, 4))
            }
        }
        Dimension::Bytes => {
            const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
            if a < 1024.0 {
                return format!("{} B", fmt_num(value, 4));
            }
            let mut scaled = value / 1024.0;
            let mut unit = 0;
            while scaled.abs() >= 1024.0 && unit + 1 < UNITS.len() {
                scaled /= 1024.0;
                unit += 1;
            }
            format!("{} {}", fmt_num(scaled, 4), UNITS[unit])
        }
    }
}

/// `x` with `sig` significant digits (never rounding the integer part),
/// trailing zeros trimmed and the integer part grouped with commas.
fn fmt_num(x: f64, sig: i32) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    let a = x.abs();
    // The decimal exponent read from Rust's exact formatting, so that native
    // and wasm builds choose the same number of digits.
    let exp: i32 = if a == 0.0 {
        0
    } else {
        let e = format!("{a:e}");
        e.rsplit('e').next().and_then(|s| s.parse().ok()).unwrap_or(0)
    };
    let decimals = (sig - 1 - exp).clamp(0, 9) as usize;
    let text = format!("{a:.decimals$}");
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f.trim_end_matches('0')),
        None => (text.as_str(), ""),
    };
    let mut out = String::new();
    if x < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    let digits = int.as_bytes();
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(*d as char);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Reads a quantity of dimension `expected` from a learner's answer. See the
/// module documentation for the accepted syntax. Errors carry the byte range
/// of `input` they are about and say what was expected, with examples.
pub fn parse_quantity(input: &str, expected: Dimension) -> Result<Quantity, AnswerError> {
    let toks = lex(input, expected)?;
    let mut start = 0;
    while let Some(t) = toks.get(start) {
        match &t.tok {
            Tok::Approx | Tok::Equals => start += 1,
            Tok::Word(w) if is_prefix_word(w) => {
                start += 1;
                if matches!(toks.get(start).map(|t| &t.tok), Some(Tok::Dot)) {
                    start += 1;
                }
            }
            _ => break,
        }
    }
    let mut end = toks.len();
    if end > start && toks[end - 1].tok == Tok::Dot {
        end -= 1;
    }
    let body = &toks[start..end];
    let (Some(first), Some(last)) = (body.first(), body.last()) else {
        let span = trimmed_span(input);
        let message = if input.trim().is_empty() {
            format!("enter {}", expected.describe())
        } else {
            format!("a number is missing: enter {}", expected.describe())
        };
        return Err(AnswerError::new(span, message));
    };
    let whole = first.span.start..last.span.end;

    let terms = split_terms(input, body, expected)?;
    let mut total = 0.0;
    for (i, term) in terms.iter().enumerate() {
        if i > 0 && expected != Dimension::Time {
            let extra = term.num_span.start..whole.end;
            return Err(AnswerError::new(
                extra.clone(),
                format!(
                    "one value expected; “{}” is extra. Enter {}",
                    &input[extra],
                    expected.describe()
                ),
            ));
        }
        let Some(conv) = interpret(term.unit, expected) else {
            return Err(unit_error(input, term, expected));
        };
        total += term.value * conv.mul / conv.div;
    }

    if !total.is_finite() || total > MAX_VALUE {
        return Err(AnswerError::new(
            whole,
            format!("that is too large to be an answer here; enter {}", expected.describe()),
        ));
    }
    // A share can pass 100% (an error budget consumed 1.3 times over), but
    // a bare number above 1 is most likely a percentage without its sign.
    if expected == Dimension::Ratio && total > 1.0 && terms.first().is_some_and(|t| t.unit.is_empty()) {
        let n = &input[whole.clone()];
        return Err(AnswerError::new(whole, format!("a bare number is read as a fraction from 0 to 1; for a percentage write {n}%")));
    }
    Ok(Quantity { value: total, dim: expected })
}

fn trimmed_span(input: &str) -> Range<usize> {
    let start = input.len() - input.trim_start().len();
    let end = input.trim_end().len();
    if start >= end { 0..input.len() } else { start..end }
}

fn is_prefix_word(w: &str) -> bool {
    matches!(
        w.to_lowercase().as_str(),
        "about" | "around" | "approx" | "approximately" | "roughly" | "circa" | "ca"
    )
}

#[derive(Clone, Debug, PartialEq)]
enum Tok<'a> {
    /// A number with its separators removed: ASCII digits, `.`, `e`, sign.
    Num(String),
    Word(&'a str),
    Slash,
    Percent,
    Comma,
    Dot,
    Minus,
    Plus,
    Approx,
    Equals,
}

#[derive(Clone, Debug)]
struct Token<'a> {
    tok: Tok<'a>,
    span: Range<usize>,
}

fn lex(input: &str, expected: Dimension) -> Result<Vec<Token<'_>>, AnswerError> {
    let b = input.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(c) = input[i..].chars().next() {
        let len = c.len_utf8();
        let starts_number =
            c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        if c.is_whitespace() {
            i += len;
        } else if starts_number {
            let (text, end) = lex_number(input, i)?;
            toks.push(Token { tok: Tok::Num(text), span: i..end });
            i = end;
        } else if c.is_alphabetic() {
            let end = input[i..]
                .char_indices()
                .find(|&(_, ch)| !ch.is_alphabetic())
                .map_or(input.len(), |(j, _)| i + j);
            toks.push(Token { tok: Tok::Word(&input[i..end]), span: i..end });
            i = end;
        } else {
            let tok = match c {
                '/' => Tok::Slash,
                '%' => Tok::Percent,
                ',' => Tok::Comma,
                '.' => Tok::Dot,
                '-' | '−' | '–' => Tok::Minus,
                '+' => Tok::Plus,
                '~' | '≈' | '∼' => Tok::Approx,
                '=' => Tok::Equals,
                _ => {
                    return Err(AnswerError::new(
                        i..i + len,
                        format!("unexpected “{c}”: enter {}", expected.describe()),
                    ));
                }
            };
            toks.push(Token { tok, span: i..i + len });
            i += len;
        }
    }
    Ok(toks)
}

/// Thousands separators: a comma, an underscore, an apostrophe, a space, a
/// no-break space or a (narrow) thin space.
fn separator_at(input: &str, i: usize) -> Option<(usize, bool)> {
    let c = input[i..].chars().next()?;
    match c {
        ',' => Some((1, true)),
        '_' | '\'' | ' ' | '\u{a0}' | '\u{2009}' | '\u{202f}' => Some((c.len_utf8(), false)),
        _ => None,
    }
}

fn digits_from(b: &[u8], i: usize) -> usize {
    b.get(i..).map_or(0, |rest| rest.iter().take_while(|d| d.is_ascii_digit()).count())
}

/// A number starting at byte `start` (a digit, or a point before a digit):
/// its text without separators, and the byte where it ends.
fn lex_number(input: &str, start: usize) -> Result<(String, usize), AnswerError> {
    let b = input.as_bytes();
    let mut out = String::new();
    let mut i = start;
    let int_len = digits_from(b, i);
    out.push_str(&input[i..i + int_len]);
    i += int_len;
    while let Some((sep_len, is_comma)) = separator_at(input, i) {
        let group = digits_from(b, i + sep_len);
        if group == 0 {
            break;
        }
        let groups_ok = group == 3 && (1..=3).contains(&int_len);
        if !groups_ok {
            if is_comma {
                let message = if group == 3 {
                    "misplaced thousands separator: write 50,000 or 50000"
                } else {
                    "write decimals with a point (43.2); a comma only separates thousands (50,000)"
                };
                return Err(AnswerError::new(i..i + 1, message));
            }
            break;
        }
        // Later groups must also be exactly three digits: checked by the
        // next turn of the loop, which sees int_len still in 1..=3.
        out.push_str(&input[i + sep_len..i + sep_len + 3]);
        i += sep_len + 3;
    }
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        let frac = digits_from(b, i + 1);
        out.push_str(&input[i..i + 1 + frac]);
        i += 1 + frac;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let signed = matches!(b.get(i + 1), Some(b'+' | b'-'));
        let digits_at = if signed { i + 2 } else { i + 1 };
        let exp = digits_from(b, digits_at);
        if exp > 0 {
            out.push('e');
            out.push_str(&input[i + 1..digits_at + exp]);
            i = digits_at + exp;
        }
    }
    if out.starts_with('.') {
        out.insert(0, '0');
    }
    Ok((out, i))
}

/// One number and the unit words after it.
struct Term<'t, 'a> {
    value: f64,
    num_span: Range<usize>,
    unit: &'t [Token<'a>],
}

fn split_terms<'t, 'a>(
    input: &str,
    body: &'t [Token<'a>],
    expected: Dimension,
) -> Result<Vec<Term<'t, 'a>>, AnswerError> {
    let mut terms = Vec::new();
    let mut k = 0;
    while k < body.len() {
        let sign = match body[k].tok {
            Tok::Minus | Tok::Plus => {
                k += 1;
                Some(&body[k - 1])
            }
            _ => None,
        };
        let Some(Token { tok: Tok::Num(text), span }) = body.get(k) else {
            // `body` is not empty, so either token k or the sign before it exists.
            let at = body.get(k).or(sign).map_or(0..0, |t| t.span.clone());
            let message = if terms.is_empty() {
                format!("“{}” is not a number: enter {}", &input[at.clone()], expected.describe())
            } else {
                format!("unexpected “{}”: enter {}", &input[at.clone()], expected.describe())
            };
            return Err(AnswerError::new(at, message));
        };
        if let Some(s) = sign.filter(|s| s.tok == Tok::Minus) {
            let range_from = terms.last().filter(|t: &&Term<'_, '_>| t.unit.is_empty());
            let (at, message) = match range_from {
                Some(prev) => (
                    prev.num_span.start..span.end,
                    format!("give one value, not a range: enter {}", expected.describe()),
                ),
                None => (s.span.start..span.end, format!("{} cannot be negative", expected.noun())),
            };
            return Err(AnswerError::new(at, message));
        }
        let value = match crate::float::parse(text) {
            Ok(v) if v.is_finite() => v,
            _ => {
                return Err(AnswerError::new(
                    span.clone(),
                    format!("“{}” is too large a number here", &input[span.clone()]),
                ));
            }
        };
        k += 1;
        let unit_start = k;
        let is_unit = |t: &Token<'_>| {
            matches!(t.tok, Tok::Word(_) | Tok::Slash | Tok::Percent | Tok::Comma)
        };
        while body.get(k).is_some_and(is_unit) {
            k += 1;
        }
        let mut unit = &body[unit_start..k];
        if k < body.len() {
            // "1 hour and 5 minutes", "1h, 5m": separators between terms.
            while let Some((last, rest)) = unit.split_last() {
                let is_sep = match last.tok {
                    Tok::Comma => true,
                    Tok::Word(w) => w.eq_ignore_ascii_case("and"),
                    _ => false,
                };
                if !is_sep {
                    break;
                }
                unit = rest;
            }
        }
        terms.push(Term { value, num_span: span.clone(), unit });
    }
    Ok(terms)
}

/// How to turn a number into base units: `value * mul / div` (a division
/// keeps `720/min` and `99.9%` exact). `unit_word` says whether a real unit or
/// multiplier was read, rather than nothing or only words naming things.
#[derive(Clone, Copy, Debug)]
struct Conv {
    mul: f64,
    div: f64,
    unit_word: bool,
}

const fn conv(mul: f64, div: f64) -> Conv {
    Conv { mul, div, unit_word: true }
}

fn seconds_of(w: &str) -> Option<f64> {
    Some(match w {
        "ns" | "nsec" | "nanosecond" | "nanoseconds" => 1e-9,
        "us" | "µs" | "μs" | "usec" | "microsecond" | "microseconds" => 1e-6,
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 1e-3,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        "w" | "wk" | "wks" | "week" | "weeks" => 604800.0,
        _ => return None,
    })
}

fn bytes_of(w: &str) -> Option<f64> {
    const KI: f64 = 1024.0;
    Some(match w {
        "b" | "byte" | "bytes" => 1.0,
        "kb" | "kilobyte" | "kilobytes" => 1e3,
        "mb" | "megabyte" | "megabytes" => 1e6,
        "gb" | "gigabyte" | "gigabytes" => 1e9,
        "tb" | "terabyte" | "terabytes" => 1e12,
        "pb" | "petabyte" | "petabytes" => 1e15,
        "kib" | "ki" | "kibibyte" | "kibibytes" => KI,
        "mib" | "mi" | "mebibyte" | "mebibytes" => KI * KI,
        "gib" | "gi" | "gibibyte" | "gibibytes" => KI * KI * KI,
        "tib" | "ti" | "tebibyte" | "tebibytes" => KI * KI * KI * KI,
        "pib" | "pi" | "pebibyte" | "pebibytes" => KI * KI * KI * KI * KI,
        _ => return None,
    })
}

fn multiplier_of(w: &str) -> Option<f64> {
    Some(match w {
        "k" | "thousand" | "thousands" => 1e3,
        "m" | "mn" | "mio" | "million" | "millions" => 1e6,
        "b" | "bn" | "billion" | "billions" => 1e9,
        "trillion" | "trillions" => 1e12,
        _ => return None,
    })
}

/// Single words meaning "per second" (or per minute).
fn per_second_of(w: &str) -> Option<f64> {
    Some(match w {
        "rps" | "qps" | "tps" | "hz" => 1.0,
        "rpm" | "qpm" => 1.0 / 60.0,
        _ => return None,
    })
}

fn is_reserved(w: &str) -> bool {
    seconds_of(w).is_some()
        || bytes_of(w).is_some()
        || multiplier_of(w).is_some()
        || per_second_of(w).is_some()
        || matches!(w, "per" | "percent" | "pct")
}

/// At most this many words may name what is counted ("active time series").
const MAX_NOUNS: usize = 4;

fn lower_word(t: &Token<'_>) -> Option<String> {
    match t.tok {
        Tok::Word(w) => Some(w.to_lowercase()),
        _ => None,
    }
}

/// Words that only name things: "series", "requests", "of downtime". A single
/// letter is not a name ("1e" is a broken exponent, not one "e").
fn only_nouns(toks: &[Token<'_>]) -> bool {
    toks.len() <= MAX_NOUNS
        && toks.iter().all(|t| {
            lower_word(t).is_some_and(|w| w.chars().nth(1).is_some() && !is_reserved(&w))
        })
}

/// The unit words of a term read as `dim`, or `None` when they do not fit.
fn interpret(unit: &[Token<'_>], dim: Dimension) -> Option<Conv> {
    let first = unit.first().and_then(lower_word);
    let plain = Conv { mul: 1.0, div: 1.0, unit_word: false };
    match dim {
        Dimension::Time => {
            let s = seconds_of(first.as_deref()?)?;
            only_nouns(&unit[1..]).then_some(conv(s, 1.0))
        }
        Dimension::Bytes => {
            let n = bytes_of(first.as_deref()?)?;
            only_nouns(&unit[1..]).then_some(conv(n, 1.0))
        }
        Dimension::Ratio => {
            let percent_len = match unit.first().map(|t| &t.tok) {
                Some(Tok::Percent) => 1,
                _ => match first.as_deref() {
                    Some("percent" | "pct") => 1,
                    Some("per") if unit.get(1).and_then(lower_word).as_deref() == Some("cent") => 2,
                    _ => 0,
                },
            };
            if percent_len > 0 {
                only_nouns(&unit[percent_len..]).then_some(conv(1.0, 100.0))
            } else {
                only_nouns(unit).then_some(plain)
            }
        }
        Dimension::Count => match first.as_deref().and_then(multiplier_of) {
            Some(m) => only_nouns(&unit[1..]).then_some(conv(m, 1.0)),
            None => only_nouns(unit).then_some(plain),
        },
        Dimension::Rate => {
            let (mul, rest) = match first.as_deref().and_then(multiplier_of) {
                Some(m) => (m, &unit[1..]),
                None => (1.0, unit),
            };
            if let Some(per_s) = rest.first().and_then(lower_word).as_deref().and_then(per_second_of) {
                return only_nouns(&rest[1..]).then_some(conv(mul * per_s, 1.0));
            }
            let is_per = |t: &Token<'_>| {
                t.tok == Tok::Slash || lower_word(t).as_deref() == Some("per")
            };
            let p = rest.iter().position(is_per)?;
            let [denominator] = &rest[p + 1..] else { return None };
            let secs = seconds_of(&lower_word(denominator)?)?;
            only_nouns(&rest[..p]).then_some(conv(mul, secs))
        }
    }
}

fn unit_error(input: &str, term: &Term<'_, '_>, expected: Dimension) -> AnswerError {
    let Some((first, last)) = term.unit.first().zip(term.unit.last()) else {
        let n = &input[term.num_span.clone()];
        let message = match expected {
            Dimension::Time => format!("add a unit: e.g. {n} s, {n} min or {n} h"),
            Dimension::Rate => format!("add a unit: e.g. {n}/s or {n}/min"),
            Dimension::Bytes => format!("add a unit: e.g. {n} B, {n} MB or {n} GiB"),
            // A bare number always fits a count or a ratio.
            _ => format!("enter {}", expected.describe()),
        };
        return AnswerError::new(term.num_span.clone(), message);
    };
    let span = first.span.start..last.span.end;
    let text = &input[span.clone()];
    let other = Dimension::ALL
        .into_iter()
        .filter(|&d| d != expected)
        .find(|&d| interpret(term.unit, d).is_some_and(|c| c.unit_word));
    let message = match other {
        Some(d) => format!(
            "“{text}” makes this {}, but the question asks for {}",
            d.noun(),
            expected.describe()
        ),
        None => {
            format!("“{text}” is not a unit this answer understands: enter {}", expected.describe())
        }
    };
    AnswerError::new(span, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(input: &str, dim: Dimension) -> f64 {
        match parse_quantity(input, dim) {
            Ok(q) => {
                assert_eq!(q.dim, dim);
                q.value
            }
            Err(e) => panic!("{input:?} as {dim}: {e}"),
        }
    }

    fn err(input: &str, dim: Dimension) -> AnswerError {
        match parse_quantity(input, dim) {
            Ok(q) => panic!("{input:?} as {dim} should fail, got {q:?}"),
            Err(e) => {
                assert!(e.span.start <= e.span.end && e.span.end <= input.len(), "{e:?}");
                assert!(input.is_char_boundary(e.span.start) && input.is_char_boundary(e.span.end));
                e
            }
        }
    }

    fn close(a: f64, b: f64) -> bool {
        within(a, b, Tolerance::Relative(1e-12))
    }

    macro_rules! accepts {
        ($($name:ident: $input:expr, $dim:ident => $value:expr;)*) => {$(
            #[test]
            fn $name() {
                let got = q($input, Dimension::$dim);
                assert!(close(got, $value), "{:?}: got {got}, want {}", $input, $value);
            }
        )*};
    }

    accepts! {
        time_minutes_spaced: "43.2 min", Time => 2592.0;
        time_minutes_joined: "43.2min", Time => 2592.0;
        time_compound_spaced: "43m 12s", Time => 2592.0;
        time_compound_joined: "43m12s", Time => 2592.0;
        time_hours_fraction: "0.72 h", Time => 2592.0;
        time_seconds: "2592 s", Time => 2592.0;
        time_hour_minutes: "1h 5m", Time => 3900.0;
        time_hours_word: "1.5 hours", Time => 5400.0;
        time_seconds_word: "90 seconds", Time => 90.0;
        time_millis: "250ms", Time => 0.25;
        time_days: "2 days", Time => 172800.0;
        time_days_hours: "3d 4h", Time => 3.0 * 86400.0 + 4.0 * 3600.0;
        time_words_and: "1 hour and 5 minutes", Time => 3900.0;
        time_comma_between_terms: "1h, 5m", Time => 3900.0;
        time_micro_sign: "1500 µs", Time => 0.0015;
        time_capital_units: "43.2 MIN", Time => 2592.0;
        time_trailing_words: "43.2 min of downtime", Time => 2592.0;
        time_grouped_millis: "1,500 ms", Time => 1.5;
        ratio_percent: "0.1%", Ratio => 0.001;
        ratio_percent_spaced: "0.1 %", Ratio => 0.001;
        ratio_fraction: "0.001", Ratio => 0.001;
        ratio_nines: "99.9%", Ratio => 0.999;
        ratio_percent_word: "0.1 percent", Ratio => 0.001;
        ratio_per_cent: "0.1 per cent", Ratio => 0.001;
        ratio_hundred: "100%", Ratio => 1.0;
        ratio_with_noun: "0.5% errors", Ratio => 0.005;
        count_commas: "50,000", Count => 50_000.0;
        count_spaces: "50 000", Count => 50_000.0;
        count_k: "50k", Count => 50_000.0;
        count_mega: "1.2M", Count => 1_200_000.0;
        count_exponent: "1.2e6", Count => 1_200_000.0;
        count_series_grouped: "12,000,000 series", Count => 12_000_000.0;
        count_series: "240 series", Count => 240.0;
        count_requests: "50000 requests", Count => 50_000.0;
        count_million_word: "1.2 million series", Count => 1_200_000.0;
        count_lower_m: "50m", Count => 50_000_000.0;
        count_billion: "1.5bn", Count => 1.5e9;
        count_underscores: "50_000", Count => 50_000.0;
        count_nbsp: "50\u{a0}000", Count => 50_000.0;
        count_thin_space: "12\u{202f}000\u{202f}000", Count => 12_000_000.0;
        count_leading_point: ".5k", Count => 500.0;
        count_plus: "+240", Count => 240.0;
        count_several_nouns: "240 active time series", Count => 240.0;
        rate_req_per_s: "12 req/s", Rate => 12.0;
        rate_per_s: "12/s", Rate => 12.0;
        rate_per_min: "720/min", Rate => 12.0;
        rate_rps: "12 rps", Rate => 12.0;
        rate_words: "12 requests per second", Rate => 12.0;
        rate_k: "1.2k req/s", Rate => 1200.0;
        rate_rpm: "720 rpm", Rate => 12.0;
        rate_spans_per_minute: "720 spans/min", Rate => 12.0;
        bytes_gb: "1.5 GB", Bytes => 1.5e9;
        bytes_gib: "1.5 GiB", Bytes => 1.5 * 1024.0 * 1024.0 * 1024.0;
        bytes_mb: "300 MB", Bytes => 300e6;
        bytes_lower: "300mb", Bytes => 300e6;
        bytes_kubernetes: "512Mi", Bytes => 512.0 * 1024.0 * 1024.0;
        bytes_b: "1024 B", Bytes => 1024.0;
        bytes_word: "2 gigabytes", Bytes => 2e9;
        prefix_approx_sign: "≈ 43.2 min", Time => 2592.0;
        prefix_tilde: "~50k", Count => 50_000.0;
        prefix_about: "about 12 req/s", Rate => 12.0;
        prefix_approx_dot: "approx. 1.5 GB", Bytes => 1.5e9;
        prefix_capital: "Roughly 240 series", Count => 240.0;
        surrounding_space: "   43.2 min \n", Time => 2592.0;
        full_stop: "43.2 min.", Time => 2592.0;
        exponent_signed: "2.592e+3 s", Time => 2592.0;
    }

    #[test]
    fn bare_time_asks_for_a_unit() {
        let e = err("2592", Dimension::Time);
        assert_eq!(e.span, 0..4);
        assert!(e.message.contains("add a unit"), "{}", e.message);
        assert!(e.message.contains("2592 s") && e.message.contains("2592 min"), "{}", e.message);
        // Also a bare term after a unit one.
        let e = err("43m 12", Dimension::Time);
        assert_eq!(e.span, 4..6);
    }

    #[test]
    fn bare_rate_and_size_ask_for_a_unit() {
        assert!(err("12", Dimension::Rate).message.contains("12/s"));
        assert!(err("300", Dimension::Bytes).message.contains("300 MB"));
    }

    #[test]
    fn wrong_dimension_names_what_was_expected() {
        let e = err("43 min", Dimension::Count);
        assert_eq!(e.span, 3..6);
        assert!(e.message.contains("a duration"), "{}", e.message);
        assert!(e.message.contains("a count, e.g. 50,000"), "{}", e.message);

        let e = err("12 req/s", Dimension::Count);
        assert!(e.message.contains("makes this a rate"), "{}", e.message);
        let e = err("0.1%", Dimension::Time);
        assert!(e.message.contains("makes this a ratio"), "{}", e.message);
        assert!(e.message.contains("43.2 min"), "{}", e.message);
        let e = err("50k", Dimension::Time);
        assert!(e.message.contains("makes this a count"), "{}", e.message);
        let e = err("1.5 GB", Dimension::Rate);
        assert!(e.message.contains("makes this a size"), "{}", e.message);
        let e = err("12 s", Dimension::Bytes);
        assert!(e.message.contains("makes this a duration"), "{}", e.message);
    }

    #[test]
    fn unknown_units_are_named() {
        let e = err("2 months", Dimension::Time);
        assert_eq!(e.span, 2..8);
        assert!(e.message.contains("“months” is not a unit"), "{}", e.message);
        let e = err("12 MB/s", Dimension::Rate);
        assert!(e.message.contains("“MB/s”"), "{}", e.message);
    }

    #[test]
    fn empty_and_garbage() {
        let e = err("", Dimension::Count);
        assert_eq!(e.span, 0..0);
        assert!(e.message.starts_with("enter a count"));
        let e = err("   ", Dimension::Time);
        assert_eq!(e.span, 0..3);
        let e = err("about", Dimension::Count);
        assert!(e.message.contains("missing"), "{}", e.message);
        let e = err("lots", Dimension::Count);
        assert_eq!(e.span, 0..4);
        assert!(e.message.contains("not a number"), "{}", e.message);
        let e = err("12 (s)", Dimension::Time);
        assert_eq!(e.span, 3..4);
        let e = err("%", Dimension::Ratio);
        assert_eq!(e.span, 0..1);
        err("12 req/", Dimension::Rate);
        err("/s", Dimension::Rate);
        err("1e", Dimension::Count);
        err("12 12", Dimension::Count);
        let e = err("43-45 min", Dimension::Time);
        assert_eq!(e.span, 0..5);
        assert!(e.message.contains("not a range"), "{}", e.message);
        err("£50", Dimension::Count);
    }

    #[test]
    fn nan_and_infinity_are_not_numbers() {
        for s in ["NaN", "nan", "inf", "-inf", "infinity", "∞"] {
            for dim in Dimension::ALL {
                err(s, dim);
            }
        }
    }

    #[test]
    fn negative_values_are_refused() {
        let e = err("-5 min", Dimension::Time);
        assert_eq!(e.span, 0..2);
        assert!(e.message.contains("cannot be negative"));
        err("−0.1%", Dimension::Ratio);
        err("1h -5m", Dimension::Time);
    }

    #[test]
    fn huge_values_are_refused() {
        let e = err("1e400", Dimension::Count);
        assert_eq!(e.span, 0..5);
        err("1e308 days", Dimension::Time);
        err("1e17 k", Dimension::Count);
        err("9e99999999999999999999", Dimension::Count);
        err(&"9".repeat(500), Dimension::Count);
        // Tiny exponents underflow harmlessly to zero.
        assert_eq!(q("1e-400", Dimension::Count), 0.0);
    }

    #[test]
    fn ratio_bounds() {
        let e = err("99.9", Dimension::Ratio);
        assert!(e.message.contains("99.9%"), "{}", e.message);
        // Over 100% is a valid share (a budget consumed 1.5 times over).
        assert_eq!(q("150%", Dimension::Ratio), 1.5);
    }

    #[test]
    fn comma_decimals_are_refused_not_guessed() {
        let e = err("43,2 min", Dimension::Time);
        assert_eq!(e.span, 2..3);
        assert!(e.message.contains("43.2"));
        err("1,5 GB", Dimension::Bytes);
        err("50,0000", Dimension::Count);
        err("5000,000", Dimension::Count);
        err("50,000,00", Dimension::Count);
    }

    #[test]
    fn extra_values_are_named() {
        let e = err("240 series 12 spans", Dimension::Count);
        assert_eq!(e.span, 11..19);
        assert!(e.message.contains("extra"));
    }

    #[test]
    fn within_tolerances() {
        assert!(within(2592.0, 2592.0, Tolerance::Relative(0.0)));
        assert!(within(43.2 * 60.0, 2592.0, Tolerance::Relative(0.0)));
        assert!(within(2600.0, 2592.0, Tolerance::Relative(0.01)));
        assert!(!within(2700.0, 2592.0, Tolerance::Relative(0.01)));
        assert!(within(2650.0, 2592.0, Tolerance::Absolute(60.0)));
        assert!(!within(2660.0, 2592.0, Tolerance::Absolute(60.0)));
        assert!(within(0.0, 0.0, Tolerance::Relative(0.1)));
        assert!(!within(1e-6, 0.0, Tolerance::Relative(0.1)));
        assert!(!within(f64::NAN, 1.0, Tolerance::Absolute(1e9)));
        assert!(!within(1.0, f64::INFINITY, Tolerance::Absolute(1e9)));
        assert!(!within(1.5, 1.0, Tolerance::Absolute(f64::NAN)));
        assert!(!within(1.5, 1.0, Tolerance::Relative(-1.0)));
        assert!(!within(1.5, 1.0, Tolerance::Absolute(f64::INFINITY)));
    }

    #[test]
    fn formats_for_feedback() {
        use Dimension::*;
        assert_eq!(format_quantity(2592.0, Time), "43.2 min (2,592 s)");
        assert_eq!(format_quantity(0.25, Time), "250 ms");
        assert_eq!(format_quantity(12.5, Time), "12.5 s");
        assert_eq!(format_quantity(3900.0, Time), "1.083 h (65 min)");
        assert_eq!(format_quantity(3.0 * 86400.0, Time), "3 days (72 h)");
        assert_eq!(format_quantity(0.0, Time), "0 s");
        assert_eq!(format_quantity(0.001, Ratio), "0.1 %");
        assert_eq!(format_quantity(0.99995, Ratio), "99.995 %");
        assert_eq!(format_quantity(50_000.0, Count), "50,000");
        assert_eq!(format_quantity(12_000_000.0, Count), "12,000,000");
        assert_eq!(format_quantity(2.5, Count), "2.5");
        assert_eq!(format_quantity(12.5, Rate), "12.5 req/s");
        assert_eq!(format_quantity(0.2, Rate), "0.2 req/s (12 req/min)");
        assert_eq!(format_quantity(1.5 * 1024.0 * 1024.0, Bytes), "1.5 MiB");
        assert_eq!(format_quantity(512.0, Bytes), "512 B");
        assert_eq!(format_quantity(-1234.6, Count), "-1,235");
        assert_eq!(format_quantity(f64::NAN, Count), "—");
        assert_eq!(format_quantity(f64::INFINITY, Bytes), "—");
        assert_eq!(format_quantity(1e300, Bytes), format_quantity(1e300, Bytes));
        assert_eq!(Quantity { value: 90.0, dim: Time }.to_string(), "1.5 min (90 s)");
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,40}", d in 0usize..5) {
            check_no_panic(&s, Dimension::ALL[d]);
        }

        #[test]
        fn answer_like_text_never_panics(
            s in "[0-9 .,_'eE+\\-−%/~≈a-zA-Zµ\u{a0}\u{202f}]{0,24}",
            d in 0usize..5,
        ) {
            check_no_panic(&s, Dimension::ALL[d]);
        }

        #[test]
        fn formatted_counts_read_back(v in 0.0f64..1e15) {
            let text = format_quantity(v, Dimension::Count);
            let back = parse_quantity(&text, Dimension::Count).map(|q| q.value);
            prop_assert!(back.is_ok(), "{} did not parse: {:?}", text, back);
            prop_assert!(within(back.unwrap_or(0.0), v, Tolerance::Absolute(0.5 + v * 1e-3)));
        }

        #[test]
        fn formatting_never_panics(v in any::<f64>(), d in 0usize..5) {
            let _ = format_quantity(v, Dimension::ALL[d]);
        }
    }

    fn check_no_panic(s: &str, dim: Dimension) {
        match parse_quantity(s, dim) {
            Ok(q) => {
                assert!(q.value.is_finite() && q.value >= 0.0 && q.value <= MAX_VALUE, "{s:?}: {q:?}");
            }
            Err(e) => {
                assert!(e.span.start <= e.span.end && e.span.end <= s.len(), "{s:?}: {e:?}");
                assert!(s.is_char_boundary(e.span.start) && s.is_char_boundary(e.span.end));
                assert!(!e.message.is_empty());
            }
        }
    }
}
