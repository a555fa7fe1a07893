//! Fast line access over the log store. A record's line is the template's
//! text with the record's values spliced in, so each (template, resource,
//! severity, has-trace) group gets a [`Shape`]: constant pieces and the
//! slots the record fills. Lines are rendered into a reused buffer only
//! when needed; substring filters run a KMP automaton over the shape
//! instead of the line:
//!
//! - constant pieces' transitions are precomputed per group, and steps
//!   whose outcome is the same for every record are folded away (a
//!   timestamp or id the needle cannot advance in, constant text entered
//!   in a known state);
//! - variable pieces drawn from a small alphabet (timestamps, hex ids,
//!   numbers) are skipped when the needle shares no byte with it, or
//!   cannot lie inside it and what follows resets the automaton;
//! - string fields are decided once per query for every distinct string
//!   of the store (from each entry state the group needs), then looked up
//!   by address; a field whose kinds (per template, kept by the store) and
//!   outcomes are the same for every record is folded away, as is a JSON
//!   value the message body already showed from the same state;
//! - needles of digits meet numbers and milliseconds through 1000-entry
//!   tables;
//! - a timestamp costs its milliseconds (the rest is kept per second),
//!   hex ids are searched nibble-wise without printing them, floats print
//!   without `fmt` when they are milliunit values, and a field's outcome
//!   is reused for its second appearance on a JSON line.
//!
//! Every shortcut answers exactly what rendering the line and
//! `str::contains` answer (property tests below and in `super::tests`).

use crate::scenario::model::format_rfc3339_ms;
use crate::store::logs::{round_milli, FieldKinds};
use crate::telemetry::log::{LogFormat, LogRecord, LogTemplate, LogValue, Severity};
use crate::telemetry::resource::Resource;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::fmt::Write;
use std::sync::Arc;

/// One piece of a rendered line.
#[derive(Clone, Debug)]
pub(crate) enum Piece {
    Const(Box<str>),
    /// The RFC 3339 timestamp with milliseconds (24 bytes).
    Ts,
    /// A field inside the message body (JSON-escaped in JSON lines);
    /// `{name}` literally when the record lacks it.
    MsgField { idx: usize, name: Arc<str>, escape: bool },
    /// `,"name":value` in a JSON line; nothing when the record lacks it.
    JsonField { idx: usize, prefix: Box<str> },
    TraceId,
    SpanId,
}

#[derive(Clone, Debug)]
pub(crate) struct Shape {
    pub pieces: Vec<Piece>,
}

fn push_json(out: &mut String, v: &str) {
    crate::json::push_str(out, v);
}

/// Escapes a JSON string body (without quotes).
fn escape_into(out: &mut String, v: &str) {
    let mut s = String::new();
    push_json(&mut s, v);
    out.push_str(&s[1..s.len() - 1]);
}

/// Splits a template body the way `render_body` reads it: literal text and
/// `{name}` placeholders resolved against the template's field names.
fn body_parts(t: &LogTemplate) -> Vec<Result<String, (usize, Arc<str>)>> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest: &str = &t.body;
    while let Some(open) = rest.find('{') {
        lit.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match t.fields.iter().position(|f| &**f == name) {
                    Some(i) => {
                        if !lit.is_empty() {
                            out.push(Ok(std::mem::take(&mut lit)));
                        }
                        out.push(Err((i, t.fields[i].clone())));
                    }
                    None => {
                        lit.push('{');
                        lit.push_str(name);
                        lit.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                lit.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Ok(lit));
    }
    out
}

impl Shape {
    /// The shape of lines of one group, mirroring `LogStore::format_line`.
    pub fn build(t: &LogTemplate, res: &Resource, sev: Severity, has_trace: bool, format: LogFormat) -> Shape {
        let mut pieces = Vec::new();
        let mut cur = String::new();
        let flush = |cur: &mut String, pieces: &mut Vec<Piece>| {
            if !cur.is_empty() {
                pieces.push(Piece::Const(std::mem::take(cur).into_boxed_str()));
            }
        };
        match format {
            LogFormat::Plain => {
                pieces.push(Piece::Ts);
                let _ = write!(cur, " {:<5} [{}] ", sev.as_str(), t.logger);
                for p in body_parts(t) {
                    match p {
                        Ok(s) => cur.push_str(&s),
                        Err((idx, name)) => {
                            flush(&mut cur, &mut pieces);
                            pieces.push(Piece::MsgField { idx, name, escape: false });
                        }
                    }
                }
                if has_trace {
                    cur.push_str(" trace_id=");
                    flush(&mut cur, &mut pieces);
                    pieces.push(Piece::TraceId);
                    cur.push_str(" span_id=");
                    flush(&mut cur, &mut pieces);
                    pieces.push(Piece::SpanId);
                }
            }
            LogFormat::Json => {
                cur.push_str("{\"ts\":\"");
                flush(&mut cur, &mut pieces);
                pieces.push(Piece::Ts);
                cur.push_str("\",\"level\":\"");
                cur.push_str(sev.level());
                cur.push_str("\",\"logger\":");
                push_json(&mut cur, &t.logger);
                cur.push_str(",\"msg\":\"");
                for p in body_parts(t) {
                    match p {
                        Ok(s) => escape_into(&mut cur, &s),
                        Err((idx, name)) => {
                            flush(&mut cur, &mut pieces);
                            pieces.push(Piece::MsgField { idx, name, escape: true });
                        }
                    }
                }
                cur.push('"');
                flush(&mut cur, &mut pieces);
                for (idx, name) in t.fields.iter().enumerate() {
                    let mut prefix = String::from(",");
                    push_json(&mut prefix, name);
                    prefix.push(':');
                    pieces.push(Piece::JsonField { idx, prefix: prefix.into_boxed_str() });
                }
                cur.push_str(",\"pod\":");
                push_json(&mut cur, &res.pod);
                if has_trace {
                    cur.push_str(",\"trace_id\":\"");
                    flush(&mut cur, &mut pieces);
                    pieces.push(Piece::TraceId);
                    cur.push_str("\",\"span_id\":\"");
                    flush(&mut cur, &mut pieces);
                    pieces.push(Piece::SpanId);
                    cur.push('"');
                }
                cur.push('}');
            }
        }
        flush(&mut cur, &mut pieces);
        Shape { pieces }
    }

    /// Appends the record's line to `out`.
    pub fn render(&self, r: &LogRecord, ts: &mut TsCache, unix_ms: i64, out: &mut String) {
        for p in &self.pieces {
            match p {
                Piece::Const(s) => out.push_str(s),
                Piece::Ts => out.push_str(ts.get(unix_ms)),
                Piece::MsgField { idx, name, escape } => match r.fields.get(*idx) {
                    Some(v) => {
                        let mut tmp = [0u8; 48];
                        match v {
                            LogValue::Str(s) if *escape => escape_into(out, s),
                            LogValue::Str(s) => out.push_str(s),
                            LogValue::Int(i) => out.push_str(itoa(*i, &mut tmp)),
                            LogValue::Float(_) => {
                                let s = v.to_string();
                                if *escape {
                                    escape_into(out, &s)
                                } else {
                                    out.push_str(&s)
                                }
                            }
                        }
                    }
                    None => {
                        let lit = format!("{{{name}}}");
                        if *escape {
                            escape_into(out, &lit)
                        } else {
                            out.push_str(&lit)
                        }
                    }
                },
                Piece::JsonField { idx, prefix } => {
                    if let Some(v) = r.fields.get(*idx) {
                        out.push_str(prefix);
                        json_value(v, out);
                    }
                }
                Piece::TraceId => {
                    let _ = write!(out, "{}", r.trace_id);
                }
                Piece::SpanId => {
                    let _ = write!(out, "{}", r.span_id);
                }
            }
        }
    }
}

fn json_value(v: &LogValue, out: &mut String) {
    match v {
        LogValue::Int(i) => {
            let mut tmp = [0u8; 48];
            out.push_str(itoa(*i, &mut tmp));
        }
        LogValue::Float(x) if x.is_finite() => {
            let _ = write!(out, "{x}");
        }
        LogValue::Float(_) => out.push_str("null"),
        LogValue::Str(s) => push_json(out, s),
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `u`'s decimal digits to the end of `buf`; returns where they
/// start. Values that fit 32 bits divide in 32 bits (wasm has no cheap
/// 64-bit division by a constant).
#[inline]
fn digits(mut u: u64, buf: &mut [u8]) -> usize {
    let mut i = buf.len();
    while u > u32::MAX as u64 {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
    }
    let mut u = u as u32;
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            return i;
        }
    }
}

/// Formats an integer into `buf` without allocating.
pub(crate) fn itoa(v: i64, buf: &mut [u8; 48]) -> &str {
    let neg = v < 0;
    let mut i = digits(v.unsigned_abs(), buf);
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// Formats timestamps, re-deriving the date part only when the second changes.
#[derive(Default)]
pub(crate) struct TsCache {
    sec: i64,
    text: String,
}

impl TsCache {
    pub fn get(&mut self, unix_ms: i64) -> &str {
        let sec = unix_ms.div_euclid(1000);
        if self.text.is_empty() || sec != self.sec {
            self.sec = sec;
            self.text = format_rfc3339_ms(sec * 1000);
        }
        let ms = unix_ms.rem_euclid(1000) as u32;
        // `YYYY-MM-DDTHH:MM:SS.mmmZ`: patch the three millisecond digits.
        let n = self.text.len();
        if n >= 5 {
            // SAFETY-free: the bytes replaced are ASCII digits.
            let mut bytes = std::mem::take(&mut self.text).into_bytes();
            bytes[n - 4] = b'0' + (ms / 100) as u8;
            bytes[n - 3] = b'0' + (ms / 10 % 10) as u8;
            bytes[n - 2] = b'0' + (ms % 10) as u8;
            self.text = String::from_utf8(bytes).unwrap_or_default();
        }
        &self.text
    }
}

// ------------------------------------------------------------ substring automaton

/// Needles longer than this are matched on rendered lines instead.
pub(crate) const MAX_DFA_NEEDLE: usize = 255;

const TS_BYTES: &[u8] = b"0123456789-:.TZ";
const HEX_BYTES: &[u8] = b"0123456789abcdef";
const INT_BYTES: &[u8] = b"0123456789-";
/// Finite floats print without exponents (Rust's `Display`); the
/// non-finite ones (`inf`, `NaN`, `null`) are fed as text.
const FLOAT_BYTES: &[u8] = b"0123456789-.";

/// How a needle meets a variable piece whose bytes all come from one
/// alphabet (a timestamp, a hex id, a number).
#[derive(Clone, Copy, Debug)]
struct Class {
    /// Some needle byte is in the alphabet.
    shares: bool,
    /// The needle's first byte is in the alphabet.
    first: bool,
    /// Every needle byte is in the alphabet: the needle can lie inside.
    holds: bool,
}

impl Class {
    fn new(needle: &[u8], alphabet: &[u8]) -> Class {
        Class { shares: needle.iter().any(|b| alphabet.contains(b)), first: alphabet.contains(&needle[0]), holds: needle.iter().all(|b| alphabet.contains(b)) }
    }

    /// Whether a piece of this alphabet entered at state `s` can be
    /// skipped when the state after it does not matter (the next constant
    /// text sends every state to the same one): it can neither finish a
    /// match begun before it nor hold one.
    #[inline]
    fn skippable(self, s: u16) -> bool {
        self.inert(s) || (s == 0 && !self.holds)
    }

    /// Whether a non-empty piece of this alphabet entered at state `s`
    /// surely leaves the automaton at 0 without a match: every byte the
    /// needle lacks sends any state to 0, and from 0 only the needle's
    /// first byte moves on.
    #[inline]
    fn inert(self, s: u16) -> bool {
        !self.shares || (s == 0 && !self.first)
    }
}

/// A KMP automaton for one needle: `next[state * 256 + byte]`, where
/// reaching `len` means found; plus what the variable pieces' alphabets
/// allow it to skip.
pub(crate) struct Needle {
    len: u16,
    next: Vec<u16>,
    first: u8,
    ts: Class,
    hex: Class,
    int: Class,
    float: Class,
    /// The needle as nibbles when it is all lowercase hex (then it can lie
    /// inside a trace or span id).
    nibbles: Option<Box<[u8]>>,
    /// `hex_prefix[k - 1]`: the needle's first `k` bytes as a number, for
    /// every `k < len` whose prefix is all hex (and `k ≤ 31`): the states a
    /// hex id can leave the automaton in.
    hex_prefix: Box<[u128]>,
    /// The last timestamp second seen: `(the record time in µs where that
    /// second starts, entry state, state after its first 20 bytes
    /// "YYYY-MM-DDTHH:MM:SS.")`. Lines come in time order, so only the
    /// milliseconds and `Z` are fed per line, found without a 64-bit
    /// division.
    ts_memo: Cell<(i64, u16, u16)>,
    strings: ValueCache,
    /// Outcomes of every distinct string of the store per `(entry state,
    /// escaped)`, made when a group first needs them.
    outcomes: RefCell<Vec<(OutcomesKey, Rc<StrOutcomes>)>>,
    /// For a needle of ASCII digits: whether it lies inside the text of
    /// `k` (`[k]`), of the fraction digits `.fff` shows for `k` thousandths
    /// (`[1000 + k]`, trailing zeros dropped) and of the zero-padded
    /// milliseconds `kkk` (`[2000 + k]`), for `k < 1000`.
    digit_hits: Option<Box<[bool]>>,
    /// The last number fed per field index: `(bits, state << 2 | how it
    /// shows, outcome)`.
    numbers: [Cell<(u64, u32, u16)>; 8],
}

/// `(entry state, escaped, only found or not)`.
type OutcomesKey = (u16, bool, bool);

/// Nibble value of a lowercase hex digit.
fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

const NIB_LO: u64 = u64::MAX / 0xf * 0x7;
const NIB_HI: u64 = u64::MAX / 0xf * 0x8;
const NIB_ONES: u64 = u64::MAX / 0xf;

/// Bit 3 of each nibble of the result is set where `v`'s nibble equals
/// `d` (no carries cross nibbles, so the test is exact).
#[inline]
fn nib_eq(v: u128, d: u8) -> u128 {
    // Per 64-bit half: no carry leaves a nibble, and wasm has no 128-bit
    // multiply or add.
    (nib_eq64((v >> 64) as u64, d) as u128) << 64 | nib_eq64(v as u64, d) as u128
}

/// [`nib_eq`] on 64 bits (a span id), native width in wasm.
#[inline]
fn nib_eq64(v: u64, d: u8) -> u64 {
    let x = v ^ (NIB_ONES * d as u64);
    !(((x & NIB_LO) + NIB_LO) | x) & NIB_HI
}

/// Whether the `width`-nibble hex text of `v` contains the nibble string
/// `pat` (`pat.len() <= width`).
#[inline]
fn hex_contains(v: u128, width: u32, pat: &[u8]) -> bool {
    if width == 16 {
        return hex_contains64(v as u64, pat);
    }
    let valid = if width >= 32 { u128::MAX } else { (1u128 << (4 * width)) - 1 };
    // Nibble `i` (0 = first printed) sits at bits `4 * (width - 1 - i)`.
    // `acc` marks where a match of the needle's first `j` bytes ends; the
    // next printed nibble sits 4 bits further right (a constant shift,
    // cheap on the 64-bit halves wasm works in).
    let mut acc = nib_eq(v, pat[0]) & valid;
    for &d in &pat[1..] {
        if acc == 0 {
            return false;
        }
        acc = (acc >> 4) & nib_eq(v, d);
    }
    acc != 0
}

/// [`hex_contains`] for a 16-digit id.
#[inline]
fn hex_contains64(v: u64, pat: &[u8]) -> bool {
    let mut acc = nib_eq64(v, pat[0]);
    for &d in &pat[1..] {
        if acc == 0 {
            return false;
        }
        acc = (acc >> 4) & nib_eq64(v, d);
    }
    acc != 0
}

/// The text `Display` gives the double nearest `r / 1000` (`|r| < 1e15`,
/// `neg` its sign, for `-0`): such a decimal has at most 15 significant
/// digits, so it is the shortest text that reads back as that double,
/// which is what `Display` prints (never with an exponent).
fn milli_text(r: i64, neg: bool, buf: &mut [u8; 24]) -> &[u8] {
    let u = r.unsigned_abs();
    let (int, mut frac) = (u / 1000, (u % 1000) as u32);
    let mut i = buf.len();
    if frac != 0 {
        let mut digits = 3;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        for _ in 0..digits {
            i -= 1;
            buf[i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        i -= 1;
        buf[i] = b'.';
    }
    i = digits(int, &mut buf[..i]);
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// A float field's text: as the message body shows it (`LogValue`'s
/// `Display`, rounded to milliunits) or as a JSON value (`null` when not
/// finite). Fast for milliunit values (the simulator's durations); other
/// values go through `fmt` into `scratch`.
fn float_text<'a>(x: f64, json: bool, buf: &'a mut [u8; 24], scratch: &'a mut String) -> &'a [u8] {
    if json {
        if x == 0.0 {
            return if x.is_sign_negative() { b"-0" } else { b"0" };
        }
        if let Some(r) = round_milli(x) {
            if r as f64 / 1000.0 == x {
                return milli_text(r, r < 0, buf);
            }
        }
        scratch.clear();
        if x.is_finite() {
            let _ = write!(scratch, "{x}");
        } else {
            scratch.push_str("null");
        }
        scratch.as_bytes()
    } else {
        if let Some(r) = round_milli(x) {
            // `round` keeps the sign of zero: -0.0001 shows as `-0`.
            return milli_text(r, r < 0 || (r == 0 && x.is_sign_negative()), buf);
        }
        scratch.clear();
        let _ = write!(scratch, "{}", LogValue::Float(x));
        scratch.as_bytes()
    }
}

/// Whether a JSON string body needs escaping at this byte.
#[inline]
fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

impl Needle {
    /// `None` when the needle is empty or too long for an automaton.
    pub fn new(text: &str) -> Option<Needle> {
        let p = text.as_bytes();
        let m = p.len();
        if m == 0 || m > MAX_DFA_NEEDLE {
            return None;
        }
        let mut next = vec![0u16; m * 256];
        next[p[0] as usize] = 1;
        let mut x = 0usize;
        for j in 1..m {
            for c in 0..256 {
                next[j * 256 + c] = next[x * 256 + c];
            }
            next[j * 256 + p[j] as usize] = (j + 1) as u16;
            x = next[x * 256 + p[j] as usize] as usize;
        }
        let nibbles: Option<Box<[u8]>> = if m <= 32 { p.iter().map(|&b| nibble(b)).collect() } else { None };
        let mut hex_prefix = Vec::new();
        let mut acc = 0u128;
        for &b in p.iter().take((m - 1).min(31)) {
            let Some(d) = nibble(b) else { break };
            acc = acc << 4 | d as u128;
            hex_prefix.push(acc);
        }
        Some(Needle {
            len: m as u16,
            next,
            first: p[0],
            ts: Class::new(p, TS_BYTES),
            hex: Class::new(p, HEX_BYTES),
            int: Class::new(p, INT_BYTES),
            float: Class::new(p, FLOAT_BYTES),
            nibbles,
            hex_prefix: hex_prefix.into_boxed_slice(),
            ts_memo: Cell::new((i64::MIN, 0, 0)),
            strings: ValueCache::new(),
            outcomes: RefCell::new(Vec::new()),
            digit_hits: None,
            numbers: std::array::from_fn(|_| Cell::new((0, EMPTY, 0))),
        })
        .map(|mut n| {
            if p.iter().all(u8::is_ascii_digit) {
                let mut hits = vec![false; 3000];
                let (mut b, mut m) = ([0u8; 48], [0u8; 24]);
                for k in 0..1000u32 {
                    hits[k as usize] = n.feed(0, itoa(k as i64, &mut b).as_bytes()) == n.len;
                    // `0.fff`, trailing zeros dropped: the digits after the point.
                    hits[1000 + k as usize] = k != 0 && n.feed(0, &milli_text(k as i64, false, &mut m)[2..]) == n.len;
                    let ms = [b'0' + (k / 100) as u8, b'0' + (k / 10 % 10) as u8, b'0' + (k % 10) as u8];
                    hits[2000 + k as usize] = n.feed(0, &ms) == n.len;
                }
                n.digit_hits = Some(hits.into_boxed_slice());
            }
            n
        })
    }

    /// The outcomes of feeding every distinct string of the store (`strings`)
    /// from state `entry`, escaped or not; with `exit_free` only whether
    /// the needle was found (0 stands for every other state). `None` when
    /// there are too many strings to decide up front, or too many entry
    /// states asked for.
    fn outcomes(&self, strings: &[&str], entry: u16, escape: bool, exit_free: bool) -> Option<Rc<StrOutcomes>> {
        if strings.len() > MAX_STRINGS_UP_FRONT {
            return None;
        }
        let mut all = self.outcomes.borrow_mut();
        if let Some((_, o)) = all.iter().find(|(k, _)| *k == (entry, escape, exit_free)) {
            return Some(o.clone());
        }
        if all.len() >= 16 {
            return None;
        }
        let o = Rc::new(StrOutcomes::new(strings.iter().map(|s| {
            let out = self.feed_str(entry, s, escape);
            (s.as_ptr() as usize, if exit_free && out != self.len { 0 } else { out })
        })));
        all.push(((entry, escape, exit_free), o.clone()));
        Some(o)
    }

    /// For a needle of digits: whether the digits of `u` hold it.
    #[inline]
    fn digits_hold(&self, hits: &[bool], u: u64) -> bool {
        if u < 1000 {
            return hits[u as usize];
        }
        let mut buf = [0u8; 20];
        let i = digits(u, &mut buf);
        self.feed(0, &buf[i..]) == self.len
    }

    /// For a needle of digits, entered at state 0 with the state after not
    /// needed: whether a number's text holds it (`None`: not decided here).
    #[inline]
    fn number_holds(&self, hits: &[bool], v: &LogValue, json: bool) -> Option<bool> {
        match v {
            // The sign is no digit.
            LogValue::Int(i) => Some(self.digits_hold(hits, i.unsigned_abs())),
            LogValue::Float(x) => {
                // Shown as `[-]int[.fff]` (see `float_text`) when it rounds
                // to milliunits, and in JSON when it is one.
                let r = round_milli(*x)?;
                if json && r as f64 / 1000.0 != *x {
                    return None;
                }
                let u = r.unsigned_abs();
                let (int, frac) = if u <= u32::MAX as u64 { ((u as u32 / 1000) as u64, u as u32 % 1000) } else { (u / 1000, (u % 1000) as u32) };
                Some(hits[1000 + frac as usize] || self.digits_hold(hits, int))
            }
            LogValue::Str(_) => None,
        }
    }

    #[inline]
    fn feed(&self, mut s: u16, bytes: &[u8]) -> u16 {
        let mut i = 0;
        while i < bytes.len() {
            if s == 0 {
                // At the start state only the needle's first byte moves on.
                match bytes[i..].iter().position(|&b| b == self.first) {
                    Some(k) => i += k,
                    None => return 0,
                }
            }
            s = self.next[s as usize * 256 + bytes[i] as usize];
            if s == self.len {
                return s;
            }
            i += 1;
        }
        s
    }

    /// Feeds a string as it appears JSON-escaped (or raw), in one pass.
    fn feed_str(&self, mut s: u16, v: &str, escape: bool) -> u16 {
        if !escape {
            return self.feed(s, v.as_bytes());
        }
        let bytes = v.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if s == 0 {
                match bytes[i..].iter().position(|&b| b == self.first || needs_escape(b)) {
                    Some(k) => i += k,
                    None => return 0,
                }
            }
            let b = bytes[i];
            s = if needs_escape(b) {
                let mut tmp = String::with_capacity(8);
                push_json(&mut tmp, &v[i..i + 1]);
                self.feed(s, &tmp.as_bytes()[1..tmp.len() - 1])
            } else {
                self.next[s as usize * 256 + b as usize]
            };
            if s == self.len {
                return s;
            }
            i += 1;
        }
        s
    }

    /// Feeds the RFC 3339 timestamp of a record at `time_us` (the store's
    /// µs) in a store starting at Unix ms `base_ms`.
    #[inline]
    fn feed_ts(&self, s: u16, time_us: i64, base_ms: i64) -> u16 {
        if self.ts.inert(s) {
            return 0;
        }
        let (lo, memo_in, memo_out) = self.ts_memo.get();
        let d = time_us.wrapping_sub(lo);
        let (mid, ms) = if memo_in == s && lo != i64::MIN && (0..1_000_000).contains(&d) {
            (memo_out, d as u32 / 1000)
        } else {
            let unix_ms = base_ms + time_us.div_euclid(1000);
            let sec = unix_ms.div_euclid(1000);
            let text = format_rfc3339_ms(sec * 1000);
            // Everything but the trailing `mmmZ`.
            let out = self.feed(s, &text.as_bytes()[..text.len() - 4]);
            // The µs where this second starts: `time_us` less its µs and ms
            // into the second.
            let start = time_us - time_us.rem_euclid(1000) - (unix_ms - sec * 1000) * 1000;
            self.ts_memo.set((start, s, out));
            (out, (unix_ms - sec * 1000) as u32)
        };
        if mid == self.len {
            return mid;
        }
        if let (Some(hits), 0) = (&self.digit_hits, mid) {
            // Digits end at the `Z`.
            return if hits[2000 + ms as usize] { self.len } else { 0 };
        }
        self.feed(mid, &[b'0' + (ms / 100) as u8, b'0' + (ms / 10 % 10) as u8, b'0' + (ms % 10) as u8, b'Z'])
    }

    /// Feeds a `width`-digit lowercase hex id (32: trace, 16: span);
    /// with `exit_free` the state after it is not needed (any non-match
    /// may be returned).
    #[inline]
    fn feed_hex(&self, s: u16, v: u128, width: u32, exit_free: bool) -> u16 {
        if self.hex.inert(s) {
            return 0;
        }
        let render = |buf: &mut [u8; 32]| -> usize {
            for (i, b) in buf[..width as usize].iter_mut().enumerate() {
                *b = HEX[((v >> (4 * (width as usize - 1 - i))) & 0xf) as usize];
            }
            width as usize
        };
        let m = self.len as usize;
        let mut buf = [0u8; 32];
        if m > width as usize {
            let n = render(&mut buf);
            return self.feed(s, &buf[..n]);
        }
        // A match begun before the id ends within its first `m - 1` digits.
        if s != 0 {
            render(&mut buf);
            if self.feed(s, &buf[..m - 1]) == self.len {
                return self.len;
            }
        }
        if let Some(pat) = &self.nibbles {
            if hex_contains(v, width, pat) {
                return self.len;
            }
        }
        if exit_free {
            return 0;
        }
        // The id is at least `m - 1` long, so the state after it is the
        // longest needle prefix its digits end with (all hex, `< m`).
        let last = (v & 0xf) as u8;
        for k in (1..=self.hex_prefix.len()).rev() {
            if (self.hex_prefix[k - 1] & 0xf) as u8 == last && v & ((1u128 << (4 * k)) - 1) == self.hex_prefix[k - 1] {
                return k as u16;
            }
        }
        0
    }

    /// Feeds a field's value as the line shows it: in the message body
    /// (`json` false, JSON-escaped when `escape`) or as a JSON value
    /// (strings quoted by the caller). The outcome only depends on the
    /// entry state and the value's text: a string's is kept in the
    /// needle's [`ValueCache`] for the rest of the query, a number's per field
    /// index for its next appearance (a JSON line shows each field twice). With
    /// `exit_free` the state after the value is not needed.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn feed_value(&self, s: u16, v: &LogValue, idx: usize, json: bool, escape: bool, exit_free: bool, scratch: &mut String) -> u16 {
        let (key, how) = match v {
            LogValue::Str(x) => {
                let (key, tag) = (x.as_ptr() as usize as u64, (s as u32) << 1 | escape as u32);
                if let Some(out) = self.strings.get(key, tag) {
                    return out;
                }
                let out = self.feed_str(s, x, escape);
                self.strings.put(key, tag, out);
                return out;
            }
            LogValue::Int(i) => {
                if self.int.inert(s) || (exit_free && self.int.skippable(s)) {
                    return 0;
                }
                if let (Some(hits), true, 0) = (&self.digit_hits, exit_free, s) {
                    return if self.digits_hold(hits, i.unsigned_abs()) { self.len } else { 0 };
                }
                (*i as u64, 0)
            }
            LogValue::Float(x) => {
                // Shown finite: digits, `-` and `.` only.
                let finite = if json { x.is_finite() } else { (x * 1000.0).is_finite() };
                if finite && (self.float.inert(s) || (exit_free && self.float.skippable(s))) {
                    return 0;
                }
                if let (Some(hits), true, 0) = (&self.digit_hits, exit_free, s)
                    && let Some(hit) = self.number_holds(hits, v, json)
                {
                    return if hit { self.len } else { 0 };
                }
                // JSON shows `x`, the message `x` rounded: the same text
                // when `x` is a milliunit value; otherwise kept apart.
                let apart = json && !round_milli(*x).is_some_and(|r| r as f64 / 1000.0 == *x);
                (x.to_bits(), 2 + apart as u32)
            }
        };
        let tag = (s as u32) << 2 | how;
        let memo = &self.numbers[idx % self.numbers.len()];
        let (k, t, out) = memo.get();
        if k == key && t == tag {
            return out;
        }
        let out = match v {
            LogValue::Float(x) => {
                let mut buf = [0u8; 24];
                self.feed(s, float_text(*x, json, &mut buf, scratch))
            }
            _ => {
                let mut buf = [0u8; 48];
                self.feed(s, itoa(key as i64, &mut buf).as_bytes())
            }
        };
        memo.set((key, tag, out));
        out
    }

    /// Transition of a constant text for every entry state.
    fn table(&self, text: &str) -> Box<[u16]> {
        (0..self.len).map(|s| self.feed(s, text.as_bytes())).collect()
    }
}

/// Above this many distinct strings in the store, string outcomes are
/// found per line (through [`ValueCache`]) instead of all up front.
pub(crate) const MAX_STRINGS_UP_FRONT: usize = 1 << 16;

/// The state each distinct string of the store leads to from one entry
/// state: the most common outcome, and the strings that differ from it in
/// an open-addressing table keyed by address. A needle most strings lack
/// has no exceptions at all, so the lookup costs nothing.
#[derive(Debug)]
pub(crate) struct StrOutcomes {
    common: u16,
    /// Addresses (0: empty slot) and their outcomes; a power of two long.
    keys: Box<[usize]>,
    outs: Box<[u16]>,
}

impl StrOutcomes {
    fn new(all: impl Iterator<Item = (usize, u16)>) -> StrOutcomes {
        let all: Vec<(usize, u16)> = all.collect();
        let mut counts: Vec<(u16, usize)> = Vec::new();
        for &(_, o) in &all {
            match counts.iter_mut().find(|(x, _)| *x == o) {
                Some(c) => c.1 += 1,
                None => counts.push((o, 1)),
            }
        }
        let common = counts.iter().max_by_key(|c| c.1).map_or(0, |c| c.0);
        let odd: Vec<(usize, u16)> = all.into_iter().filter(|&(_, o)| o != common).collect();
        let size = if odd.is_empty() { 0 } else { (odd.len() * 2).next_power_of_two() };
        let mut keys = vec![0usize; size].into_boxed_slice();
        let mut outs = vec![0u16; size].into_boxed_slice();
        for (k, o) in odd {
            let mut i = Self::slot(k, size);
            while keys[i] != 0 {
                i = (i + 1) & (size - 1);
            }
            keys[i] = k;
            outs[i] = o;
        }
        StrOutcomes { common, keys, outs }
    }
    #[inline]
    fn slot(key: usize, size: usize) -> usize {
        ((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & (size - 1)
    }
    /// The outcome for the string at address `key` (one of the store's).
    #[inline]
    fn get(&self, key: usize) -> u16 {
        if self.keys.is_empty() {
            return self.common;
        }
        let mask = self.keys.len() - 1;
        let mut i = Self::slot(key, self.keys.len());
        loop {
            let k = self.keys[i];
            if k == key {
                return self.outs[i];
            }
            if k == 0 {
                return self.common;
            }
            i = (i + 1) & mask;
        }
    }
}

/// Outcomes of feeding string field values, kept for one needle over a
/// whole query: a direct-mapped table keyed by the string's address (the
/// log store interns strings, so each distinct text has one, and an
/// address names one text while the store is borrowed), whether it is
/// escaped, and the entry state. Lines repeat the same few methods,
/// routes and names, so most string fields cost one lookup instead of a
/// walk over their text. Small enough to stay in the L1 cache.
struct ValueCache {
    slots: Box<[Cell<(u64, u32, u16)>]>,
}

const CACHE_BITS: u32 = 10;
/// A tag no entry uses (states are below `u16::MAX`).
const EMPTY: u32 = u32::MAX;

impl ValueCache {
    fn new() -> ValueCache {
        ValueCache { slots: (0..1 << CACHE_BITS).map(|_| Cell::new((0, EMPTY, 0))).collect() }
    }
    #[inline]
    fn slot(&self, key: u64, tag: u32) -> &Cell<(u64, u32, u16)> {
        &self.slots[((key ^ (tag as u64) << 40).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - CACHE_BITS)) as usize]
    }
    #[inline]
    fn get(&self, key: u64, tag: u32) -> Option<u16> {
        let (k, t, out) = self.slot(key, tag).get();
        (k == key && t == tag).then_some(out)
    }
    #[inline]
    fn put(&self, key: u64, tag: u32, out: u16) {
        self.slot(key, tag).set((key, tag, out));
    }
}

/// What one step of a needle's walk over a group's line reads.
#[derive(Debug)]
enum OpKind {
    /// Constant text: the state it leads to from each state.
    Const(Box<[u16]>),
    Ts,
    TraceId,
    SpanId,
    /// A field in the message body; `strs`: the outcome of each of the
    /// store's strings from the step's entry state, when it is known.
    MsgField { idx: usize, name: Arc<str>, escape: bool, strs: Option<Rc<StrOutcomes>> },
    /// A JSON field (`,"name":value`), absent when the record lacks it.
    /// `strs`: string outcomes from the state after `,"name":"`, when that
    /// state is the same for every record. `dup`: the message body showed this
    /// field from the same state with the state after it unread, as here,
    /// so a number that prints the same text here cannot match.
    JsonField { idx: usize, prefix: Box<[u16]>, strs: Option<Rc<StrOutcomes>>, dup: bool },
}

/// A step of the walk. Steps whose outcome is the same for every record
/// (constant text entered in a known state, a timestamp or id the needle
/// cannot advance in) are folded away when the group is prepared.
#[derive(Debug)]
struct Op {
    /// The state every record is in before this step, when they all agree
    /// ([`KEEP`] otherwise).
    enter: u16,
    /// The state after this step does not matter: the constant text after
    /// it sends every state to the same one (or the line ends).
    exit_free: bool,
    kind: OpKind,
}

const KEEP: u16 = u16::MAX;

/// A needle prepared for one group's shape.
pub(crate) struct GroupNeedle {
    /// Every line of the group matches (some constant text holds the needle).
    always: bool,
    ops: Box<[Op]>,
    /// The answer for records whose fields are all numbers when no number,
    /// timestamp or id can advance the automaton; `None` otherwise.
    numeric_answer: Option<bool>,
    fields_in_template: usize,
}

impl GroupNeedle {
    /// Prepares `n` for lines of `shape`. `strings`: every distinct string
    /// value of the store the records come from (`LogStore::strings`), so
    /// string fields entered in a known state are decided up front; `None`
    /// decides them per line.
    /// `kinds`: what the group's template's fields hold (`LogStore::field_kinds`),
    /// so fields that cannot advance the needle are left out.
    pub fn new(n: &Needle, shape: &Shape, fields_in_template: usize, strings: Option<&[&str]>, kinds: Option<&FieldKinds>) -> GroupNeedle {
        // Transitions of constant text and of JSON field prefixes.
        let tables: Vec<Option<Box<[u16]>>> = shape
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Const(text) => Some(n.table(text)),
                Piece::JsonField { prefix, .. } => Some(n.table(prefix)),
                _ => None,
            })
            .collect();
        // A constant that sends every state to one (non-final) state.
        let resets = |t: &[u16]| t.iter().all(|&x| x == t[0]) && t[0] != n.len;
        // Whether the state after piece `i` is never read: what follows
        // resets the automaton. JSON fields may be absent, so a run of them
        // must all reset, and so must the text after the run.
        let exit_free_after = |i: usize| {
            for (p, t) in shape.pieces.iter().zip(&tables).skip(i + 1) {
                match (p, t) {
                    (Piece::Const(_), Some(t)) => return resets(t),
                    (Piece::JsonField { .. }, Some(t)) if resets(t) => continue,
                    _ => return false,
                }
            }
            true
        };
        let mut always = false;
        let mut ops: Vec<Op> = Vec::new();
        // `(field, entry state)` of message fields whose exit is not read.
        let mut in_msg: Vec<(usize, u16, bool)> = Vec::new();
        // The state every record is in at this point, if they all agree.
        let mut known: Option<u16> = Some(0);
        for (i, p) in shape.pieces.iter().enumerate() {
            let exit_free = exit_free_after(i);
            let kind = match p {
                Piece::Const(_) => {
                    let t = tables[i].as_ref().expect("constant pieces have tables");
                    match known {
                        Some(c) => known = Some(t[c as usize]),
                        None if resets(t) => known = Some(t[0]),
                        None if t.iter().all(|&x| x == n.len) => known = Some(n.len),
                        None => ops.push(Op { enter: KEEP, exit_free: false, kind: OpKind::Const(t.clone()) }),
                    }
                    if known == Some(n.len) {
                        always = true;
                        break;
                    }
                    continue;
                }
                Piece::Ts | Piece::TraceId | Piece::SpanId => {
                    let class = if matches!(p, Piece::Ts) { n.ts } else { n.hex };
                    if let Some(c) = known {
                        if class.inert(c) || (exit_free && class.skippable(c)) {
                            // Leaves state 0 or a state nothing reads.
                            known = Some(0);
                            continue;
                        }
                    }
                    match p {
                        Piece::Ts => OpKind::Ts,
                        Piece::TraceId => OpKind::TraceId,
                        _ => OpKind::SpanId,
                    }
                }
                Piece::MsgField { idx, name, escape } => {
                    let strs = known.zip(strings).and_then(|(c, st)| n.outcomes(st, c, *escape, exit_free));
                    if let Some(c) = known {
                        if exit_free {
                            in_msg.push((*idx, c, *escape));
                        }
                        if let Some(out) = kinds.and_then(|k| static_outcome(n, k, *idx, c, exit_free, false, false, strs.as_deref())) {
                            known = Some(out);
                            if out == n.len {
                                always = true;
                                break;
                            }
                            continue;
                        }
                    }
                    OpKind::MsgField { idx: *idx, name: name.clone(), escape: *escape, strs }
                }
                Piece::JsonField { idx, .. } => {
                    let prefix = tables[i].clone().expect("JSON fields have prefix tables");
                    let (mut strs, mut dup, mut str_dup) = (None, false, false);
                    // The state the value is entered in, when every record
                    // agrees on it.
                    let entry = match known {
                        Some(c) => Some(prefix[c as usize]),
                        None => resets(&prefix).then(|| prefix[0]),
                    };
                    if let Some(v) = entry
                        && v != n.len
                    {
                        dup = exit_free && in_msg.iter().any(|&(i, c, _)| (i, c) == (*idx, v));
                        let q = n.next[v as usize * 256 + b'"' as usize];
                        if q != n.len {
                            // The state after the value is read only
                            // through its closing quote and what follows.
                            let quote = |s: u16| n.next[s as usize * 256 + b'"' as usize];
                            let unread = exit_free && (0..n.len).all(|s| quote(s) == quote(0)) && quote(0) != n.len;
                            strs = strings.and_then(|st| n.outcomes(st, q, true, unread));
                            // The message showed the same string, escaped,
                            // from the same state, its exit unread too.
                            str_dup = unread && in_msg.contains(&(*idx, q, true));
                        }
                        // Every record has the field and what it shows
                        // is decided for the whole group.
                        if let Some(out) = kinds.and_then(|k| static_outcome(n, k, *idx, v, exit_free, dup, str_dup, strs.as_deref())) {
                            let closed = out != n.len && kinds.is_some_and(|k| k.only(*idx, FieldKinds::STR));
                            let out = if closed { n.next[out as usize * 256 + b'"' as usize] } else { out };
                            known = Some(out);
                            if out == n.len {
                                always = true;
                                break;
                            }
                            continue;
                        }
                    }
                    OpKind::JsonField { idx: *idx, prefix, strs, dup }
                }
            };
            ops.push(Op { enter: known.take().unwrap_or(KEEP), exit_free, kind });
        }
        let mut numeric_answer = None;
        if !always && !n.ts.shares && !n.hex.shares && !n.int.shares && !n.float.shares {
            // Every variable piece resets the automaton, so the answer only
            // depends on the constant pieces around them.
            let mut s = 0u16;
            let mut hit = false;
            for p in &shape.pieces {
                match p {
                    Piece::Const(text) => s = n.feed(s, text.as_bytes()),
                    Piece::JsonField { prefix, .. } => {
                        if n.feed(s, prefix.as_bytes()) == n.len {
                            hit = true;
                        }
                        s = 0;
                    }
                    _ => s = 0,
                }
                if s == n.len {
                    hit = true;
                }
                if hit {
                    break;
                }
            }
            numeric_answer = Some(hit);
        }
        GroupNeedle { always, ops: ops.into_boxed_slice(), numeric_answer, fields_in_template }
    }

    /// Whether the record's line contains the needle.
    /// `base_ms`: the Unix ms of the store's time 0.
    pub fn matches(&self, n: &Needle, r: &LogRecord, base_ms: i64, scratch: &mut String) -> bool {
        if self.always {
            return true;
        }
        if let Some(a) = self.numeric_answer {
            // Floats too large to round to milliunits show as `inf`.
            if r.fields.len() >= self.fields_in_template && r.fields.iter().all(|f| matches!(f, LogValue::Int(_)) || matches!(f, LogValue::Float(x) if (x * 1000.0).is_finite())) {
                return a;
            }
        }
        let mut s = 0u16;
        for op in self.ops.iter() {
            if op.enter != KEEP {
                s = op.enter;
            }
            s = match &op.kind {
                OpKind::Const(t) => t[s as usize],
                OpKind::Ts => n.feed_ts(s, r.time.0, base_ms),
                OpKind::TraceId => n.feed_hex(s, r.trace_id.0, 32, op.exit_free),
                OpKind::SpanId => n.feed_hex(s, r.span_id.0 as u128, 16, op.exit_free),
                OpKind::MsgField { idx, name, escape, strs } => match (r.fields.get(*idx), strs) {
                    // `strs` is only made when `op.enter` is known, so `s` is it.
                    (Some(LogValue::Str(x)), Some(o)) => o.get(x.as_ptr() as usize),
                    (Some(v), _) => n.feed_value(s, v, *idx, false, *escape, op.exit_free, scratch),
                    (None, _) => n.feed_str(s, &format!("{{{name}}}"), *escape),
                },
                OpKind::JsonField { idx, prefix, strs, dup } => match r.fields.get(*idx) {
                    None => s,
                    Some(v) => {
                        let t = prefix[s as usize];
                        if t == n.len {
                            return true;
                        }
                        match v {
                            LogValue::Str(x) => {
                                let t = n.next[t as usize * 256 + b'"' as usize];
                                if t == n.len {
                                    return true;
                                }
                                let t = match strs {
                                    Some(o) => o.get(x.as_ptr() as usize),
                                    None => n.feed_value(t, v, *idx, true, true, false, scratch),
                                };
                                if t == n.len {
                                    return true;
                                }
                                n.next[t as usize * 256 + b'"' as usize]
                            }
                            // Searched already in the message: the same text
                            // from the same state, and no state is read after.
                            LogValue::Int(_) if *dup => 0,
                            LogValue::Float(x) if *dup && round_milli(*x).is_some_and(|m| m as f64 / 1000.0 == *x) => 0,
                            _ => n.feed_value(t, v, *idx, true, false, op.exit_free, scratch),
                        }
                    }
                },
            };
            if s == n.len {
                return true;
            }
        }
        false
    }
}

/// The state after field `idx` for every record of a template, when its
/// kinds decide it: entered at `entry` (for a JSON string value, after its
/// opening quote; the closing one is the caller's), the state after unread
/// when `exit_free` (then 0 stands for it), `dup` when a number shows the
/// same text in the message from the same state with no state read after,
/// `str_dup` the same for a string. Mirrors [`Needle::feed_value`]'s own
/// shortcuts.
#[allow(clippy::too_many_arguments)]
fn static_outcome(n: &Needle, k: &FieldKinds, idx: usize, entry: u16, exit_free: bool, dup: bool, str_dup: bool, strs: Option<&StrOutcomes>) -> Option<u16> {
    if k.only(idx, FieldKinds::STR) {
        if str_dup {
            return Some(0);
        }
        return strs.filter(|o| o.keys.is_empty()).map(|o| o.common);
    }
    let int_skips = dup || n.int.inert(entry) || (exit_free && n.int.skippable(entry));
    let milli_skips = dup || n.float.inert(entry) || (exit_free && n.float.skippable(entry));
    let skips = (k.only(idx, FieldKinds::INT) && int_skips) || (k.only(idx, FieldKinds::MILLI) && milli_skips) || (k.only(idx, FieldKinds::INT | FieldKinds::MILLI) && int_skips && milli_skips);
    skips.then_some(0)
}

/// Renders one record's line with the store's own formatter (for checks).
#[cfg(test)]
pub(crate) fn reference_line(store: &crate::store::LogStore, r: &LogRecord, res: &Resource, unix_ms: i64, format: LogFormat) -> String {
    store.format_line(r, res, &format_rfc3339_ms(unix_ms), format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::ids::{SpanId, TraceId};
    use crate::store::LogStore;
    use crate::telemetry::log::TemplateId;
    use crate::telemetry::resource::ResourceId;
    use crate::sim::time::SimTime;

    fn res() -> Resource {
        Resource { service_name: "cart".into(), service_namespace: "shop".into(), service_version: "1".into(), instance_id: "cart-1".into(), pod: "cart-1".into(), node: "n1".into() }
    }

    fn sample() -> (LogStore, Vec<LogRecord>) {
        let mut st = LogStore::new();
        let t0 = st.add_template(LogTemplate { logger: "http".into(), body: "{method} {path} {status} {ms}ms {nope} {x".into(), fields: vec!["method".into(), "path".into(), "status".into(), "ms".into()] });
        let t1 = st.add_template(LogTemplate { logger: "gc".into(), body: "pause {p} ms \"quoted\"".into(), fields: vec!["p".into()] });
        let recs = vec![
            LogRecord { time: SimTime(1_234_567), severity: Severity::Info, resource: ResourceId(0), trace_id: TraceId(0xabc), span_id: SpanId(0xdef), template: t0, fields: vec![LogValue::Str("GET".into()), LogValue::Str("/a\"b".into()), LogValue::Int(200), LogValue::Float(12.3456)].into() },
            LogRecord { time: SimTime(9_000_001), severity: Severity::Warn, resource: ResourceId(0), trace_id: TraceId(0), span_id: SpanId(0), template: t1, fields: vec![LogValue::Int(-42)].into() },
            LogRecord { time: SimTime(9_000_001), severity: Severity::Warn, resource: ResourceId(0), trace_id: TraceId(0), span_id: SpanId(0), template: t0, fields: vec![LogValue::Str("PUT".into())].into() },
            LogRecord { time: SimTime(9_000_001), severity: Severity::Warn, resource: ResourceId(0), trace_id: TraceId(0x6f), span_id: SpanId(1), template: t0, fields: vec![LogValue::Float(f64::INFINITY), LogValue::Float(f64::NAN), LogValue::Int(5), LogValue::Float(5.1234)].into() },
        ];
        let _ = TemplateId(0);
        (st, recs)
    }

    #[test]
    fn shapes_render_exactly_like_the_store() {
        let (st, recs) = sample();
        let mut ts = TsCache::default();
        for fmt in [LogFormat::Json, LogFormat::Plain] {
            for r in &recs {
                let ms = 1_772_441_999_000 + r.time.0 / 1000;
                let shape = Shape::build(st.template(r.template), &res(), r.severity, r.trace_id.is_valid(), fmt);
                let mut out = String::new();
                shape.render(r, &mut ts, ms, &mut out);
                assert_eq!(out, reference_line(&st, r, &res(), ms, fmt));
            }
        }
    }

    #[test]
    fn automaton_agrees_with_contains() {
        let (mut st, recs) = sample();
        // Through the store, so string values are its interned ones.
        for r in recs {
            st.push(r);
        }
        let recs = st.records().to_vec();
        let strings: Vec<&str> = st.strings().map(|s| &**s).collect();
        let mut ts = TsCache::default();
        let needles = ["GET", "200", "inf", "null", "\"ms\":null", "tnull", "e", "d", "6f", "abc\",", "4.3", "5.123", "12.346", "\"status\":200", "a\\\"b", "ms {nope}", "INFO", "-42", "pause", "0abc", "000000000abc", "2026", "}", "{\"ts", "PUT", "zzz", ":09", "span_id", "\"level\":\"warn\"", "5", "42", "12", "346", "001", "123", "0000000", "1234"];
        for fmt in [LogFormat::Json, LogFormat::Plain] {
            for r in &recs {
                let ms = 1_772_441_999_000 + r.time.0 / 1000;
                let tpl = st.template(r.template);
                let shape = Shape::build(tpl, &res(), r.severity, r.trace_id.is_valid(), fmt);
                let mut line = String::new();
                shape.render(r, &mut ts, ms, &mut line);
                for n in needles {
                    for up_front in [None, Some(&strings[..])] {
                        let nd = Needle::new(n).unwrap();
                        let g = GroupNeedle::new(&nd, &shape, tpl.fields.len(), up_front, up_front.and(st.field_kinds(r.template)));
                        assert_eq!(g.matches(&nd, r, 1_772_441_999_000, &mut String::new()), line.contains(n), "{n:?} in {line}");
                    }
                }
            }
        }
    }

    #[test]
    fn hex_ids_and_timestamps_agree_with_their_text() {
        let v: u128 = 0x0123456789abcdef_fedcba9876543210;
        for (a, b) in [(0usize, 3usize), (5, 13), (14, 20), (29, 32), (0, 32), (16, 17)] {
            let hex = format!("{v:032x}");
            let pat: Vec<u8> = hex.as_bytes()[a..b].iter().map(|&c| nibble(c).unwrap()).collect();
            assert!(hex_contains(v, 32, &pat), "{}", &hex[a..b]);
        }
        assert!(!hex_contains(v, 32, &[0xa, 0xa]));
        // A span id is 16 digits: the zero nibbles above it are not text.
        assert!(!hex_contains(0xabc, 16, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        assert!(hex_contains(0xabc, 16, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa]));
    }

    #[test]
    fn milliunit_floats_print_like_display() {
        for x in [0.0, -0.0, 0.001, -0.001, 1.5, 10.255, 9.8, 100.0, 123456789.012, -7.25, 1e-4, -1e-4, 0.0005, -0.0005, 2.5e11, 1e15, 1e300, f64::MAX, f64::MIN_POSITIVE, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.1 + 0.2] {
            let (mut b, mut sc) = ([0u8; 24], String::new());
            let json = if x.is_finite() { format!("{x}") } else { "null".into() };
            assert_eq!(std::str::from_utf8(float_text(x, true, &mut b, &mut sc)).unwrap(), json, "{x:?} as JSON");
            assert_eq!(std::str::from_utf8(float_text(x, false, &mut b, &mut sc)).unwrap(), LogValue::Float(x).to_string(), "{x:?} in a message");
        }
    }

    use proptest::prelude::*;

    /// Bytes that make needles interesting here: the alphabets of
    /// timestamps, ids and numbers, JSON punctuation, escapes, letters.
    const NEEDLE_ALPHABET: &[char] = &['0', '1', '2', '5', '9', 'a', 'f', 'e', '-', ':', '.', 'T', 'Z', '"', '\\', ',', '{', '}', ' ', 'n', 'i', 'N', 'x', '=', '_', 'é'];

    fn value() -> impl Strategy<Value = LogValue> {
        prop_oneof![
            any::<i64>().prop_map(LogValue::Int),
            (-100_000i64..100_000).prop_map(LogValue::Int),
            (-10_000_000i64..10_000_000).prop_map(|n| LogValue::Float(n as f64 / 1000.0)),
            any::<f64>().prop_map(LogValue::Float),
            prop::sample::select(vec![0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -2.5e-7, 0.1 + 0.2]).prop_map(LogValue::Float),
            prop::collection::vec(prop::sample::select(NEEDLE_ALPHABET.iter().copied().chain(['\n', '\u{1}', '/', 'G', 'E', 'T']).collect::<Vec<_>>()), 0..12).prop_map(|c| LogValue::Str(c.into_iter().collect::<String>().into())),
        ]
    }

    fn record() -> impl Strategy<Value = (LogRecord, usize, bool)> {
        (
            0i64..5_000_000,
            prop::sample::select(vec![Severity::Info, Severity::Warn, Severity::Error]),
            prop_oneof![Just(0u128), any::<u128>(), (0u128..0x1000)],
            any::<u64>(),
            prop::collection::vec(value(), 0..5),
            0usize..3,
            any::<bool>(),
        )
            .prop_map(|(t, sev, tid, sid, fields, tpl, plain)| {
                let r = LogRecord { time: SimTime(t * 997), severity: sev, resource: ResourceId(0), trace_id: TraceId(tid), span_id: SpanId(sid), template: TemplateId(tpl as u16), fields: fields.into() };
                (r, tpl, plain)
            })
    }

    fn store3() -> LogStore {
        let mut st = LogStore::new();
        st.add_template(LogTemplate { logger: "http.access".into(), body: "{method} {path} {status} {duration_ms}ms".into(), fields: vec!["method".into(), "path".into(), "status".into(), "duration_ms".into()] });
        st.add_template(LogTemplate { logger: "pool".into(), body: "waited {ms}ms {nope} for {pool}: \"{x\\".into(), fields: vec!["pool".into(), "ms".into(), "q\"uote".into()] });
        st.add_template(LogTemplate { logger: "gc".into(), body: "{a}{b}-{c}".into(), fields: vec!["a".into(), "b".into(), "c".into(), "d".into()] });
        st
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// The automaton over shapes answers exactly what rendering the
        /// line and `str::contains` answer, for needles cut from the line
        /// (so they straddle constant text and fields), cut and mutated,
        /// and made of digits, hex, `-`, `:` and punctuation.
        #[test]
        fn fast_substring_agrees_with_rendering(
            recs in prop::collection::vec(record(), 1..6),
            cuts in prop::collection::vec((0usize..400, 1usize..40, 0usize..40, prop::sample::select(NEEDLE_ALPHABET.to_vec())), 4),
            free in prop::collection::vec(prop::collection::vec(prop::sample::select(NEEDLE_ALPHABET.to_vec()), 1..7), 4),
            digits in prop::collection::vec("[0-9]{1,5}", 2),
            up_front in any::<bool>(),
            kinds in any::<bool>(),
            typed in prop::option::of(prop::collection::vec((0usize..6, 0usize..6, -2000i64..2000, -2_000_000i64..2_000_000), 6)),
        ) {
            let mut st = store3();
            // Through the store, so string values are its interned ones.
            // `typed`: every record has the same kinds in the same slots (as
            // the simulator's do), so whole fields are decided per group.
            let pool = ["GET", "/product/500", "/a\"b", "zebra", "", "e 5"];
            for (k, (r, _, _)) in recs.iter().enumerate() {
                let mut r = r.clone();
                if let Some(t) = &typed {
                    let (a, b, i, m) = t[k];
                    r.fields = vec![LogValue::Str(pool[a].into()), LogValue::Str(pool[b].into()), LogValue::Int(i), LogValue::Float(m as f64 / 1000.0)].into();
                }
                st.push(r);
            }
            let strings: Vec<&str> = st.strings().map(|s| &**s).collect();
            let recs: Vec<(LogRecord, usize, bool)> = st.records().iter().zip(&recs).map(|(r, (_, t, p))| (r.clone(), *t, *p)).collect();
            let mut ts = TsCache::default();
            let mut lines = Vec::new();
            for (r, tpl, plain) in &recs {
                let fmt = if *plain { LogFormat::Plain } else { LogFormat::Json };
                let t = st.template(TemplateId(*tpl as u16));
                let shape = Shape::build(t, &res(), r.severity, r.trace_id.is_valid(), fmt);
                let ms = 1_772_441_999_000 + r.time.0 / 1000;
                let mut line = String::new();
                shape.render(r, &mut ts, ms, &mut line);
                prop_assert_eq!(&line, &reference_line(&st, r, &res(), ms, fmt));
                lines.push((shape, t.fields.len(), ms, line));
            }
            let mut needles: Vec<String> = free.iter().map(|c| c.iter().collect()).chain(digits).collect();
            for (i, (at, len, edit, ch)) in cuts.iter().enumerate() {
                let line: Vec<char> = lines[i % lines.len()].3.chars().collect();
                let a = at % line.len();
                let mut cut: Vec<char> = line[a..(a + len).min(line.len())].to_vec();
                needles.push(cut.iter().collect());
                let e = edit % cut.len();
                cut[e] = *ch;
                needles.push(cut.into_iter().collect());
            }
            for needle in &needles {
                let nd = Needle::new(needle).unwrap();
                for ((r, _, _), (shape, nfields, ms, line)) in recs.iter().zip(&lines) {
                    let g = GroupNeedle::new(&nd, shape, *nfields, up_front.then_some(&strings[..]), st.field_kinds(r.template).filter(|_| kinds));
                    let _ = ms;
                    prop_assert_eq!(g.matches(&nd, r, 1_772_441_999_000, &mut String::new()), line.contains(needle.as_str()), "{:?} in {}", needle, line);
                }
            }
        }

        #[test]
        fn float_text_is_display(x in prop_oneof![any::<f64>(), (-1_000_000_000i64..1_000_000_000).prop_map(|n| n as f64 / 1000.0), (-1e6f64..1e6)]) {
            let (mut b, mut sc) = ([0u8; 24], String::new());
            let json = if x.is_finite() { format!("{x}") } else { "null".into() };
            prop_assert_eq!(std::str::from_utf8(float_text(x, true, &mut b, &mut sc)).unwrap(), json);
            prop_assert_eq!(std::str::from_utf8(float_text(x, false, &mut b, &mut sc)).unwrap(), LogValue::Float(x).to_string());
        }

        #[test]
        fn hex_contains_is_str_contains(v in any::<u128>(), span in any::<bool>(), a in 0usize..32, len in 1usize..8) {
            let (v, width) = if span { (v as u64 as u128, 16) } else { (v, 32) };
            let hex = if span { format!("{v:016x}") } else { format!("{v:032x}") };
            // A needle cut from this id, and the same from another.
            let a = a % width;
            let cut = &hex[a..(a + len).min(width)];
            let other = format!("{:032x}", v.rotate_left(7));
            for needle in [cut, &other[a..a + len.min(32 - a)]] {
                let pat: Vec<u8> = needle.bytes().map(|c| nibble(c).unwrap()).collect();
                prop_assert_eq!(hex_contains(v, width as u32, &pat), hex.contains(needle), "{} in {}", needle, hex);
            }
        }
    }
}
