//! An absolute time range as a learner types it (the time bar's "Custom"
//! form): `2026-03-02 09:45`, `2026-03-02T09:45:30Z`, an RFC 3339 time with
//! an offset, or a bare time of day (`09:45`, `09:45:30`) on the day of the
//! run that puts it inside the run. All times are UTC unless an offset is
//! written. Errors carry the byte range of the bad part and a sentence, so
//! the form can put a caret under it like a query error.

use super::timefmt;
use crate::query::diag::QueryError;
use crate::scenario::model::days_from_civil;

const SECOND: i64 = 1000;
const DAY: i64 = 86_400 * SECOND;

/// Which of the two fields an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeField {
    From,
    To,
}

impl RangeField {
    pub fn name(self) -> &'static str {
        match self {
            RangeField::From => "From",
            RangeField::To => "To",
        }
    }
}

/// A bad range: the field, and the error about its text (the span is in
/// that field's text; an empty span means the field as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeInputError {
    pub field: RangeField,
    pub error: QueryError,
}

/// The text a field starts with for an instant: `2026-03-02 09:45:30`.
pub fn format_input(t_ms: i64) -> String {
    timefmt::instant(t_ms).trim_end_matches(" UTC").to_string()
}

/// Parses `from` and `to` into Unix milliseconds within `bounds` (the run,
/// or up to now during a replay), `from` before `to` by at least `min_ms`.
pub fn parse_range(from: &str, to: &str, bounds: (i64, i64), min_ms: i64) -> Result<(i64, i64), RangeInputError> {
    let at = |field| move |error| RangeInputError { field, error };
    let a = parse_instant(from, bounds).map_err(at(RangeField::From))?;
    let b = parse_instant(to, bounds).map_err(at(RangeField::To))?;
    if b <= a {
        return Err(at(RangeField::To)(QueryError::parse(0..0, format!("{} is not after {}: the range must end after it starts.", format_input(b), format_input(a)))));
    }
    if b - a < min_ms {
        return Err(at(RangeField::To)(QueryError::parse(0..0, format!("The range is {}; the shortest a chart can show is {}.", timefmt::span(b - a), timefmt::span(min_ms)))));
    }
    Ok((a, b))
}

/// One instant within `bounds`; see the module docs for what is accepted.
pub fn parse_instant(text: &str, (lo, hi): (i64, i64)) -> Result<i64, QueryError> {
    let lead = text.len() - text.trim_start().len();
    let s = text.trim();
    if s.is_empty() {
        return Err(QueryError::parse(0..text.len(), format!("Write a time such as {} or {}.", format_input(lo), timefmt::clock(lo))));
    }
    let mut p = Parser { s: s.as_bytes(), pos: 0, base: lead };
    let t = if s.len() > 5 && s.as_bytes()[4] == b'-' {
        let y = p.number(4, "a four-digit year", 0..=9999)?;
        p.expect(b'-')?;
        let mo = p.number(2, "a month 01–12", 1..=12)?;
        p.expect(b'-')?;
        let d = p.number(2, "a day 01–31", 1..=31)?;
        let days_in_month = days_from_civil(if mo == 12 { y + 1 } else { y }, if mo == 12 { 1 } else { mo + 1 }, 1) - days_from_civil(y, mo, 1);
        if d > days_in_month {
            return Err(p.error_back(2, format!("{y}-{mo:02} has {days_in_month} days.")));
        }
        if !p.eat(b'T') && !p.eat(b't') && !p.eat(b' ') {
            return Err(p.error_here("Expected a space or T between the date and the time of day."));
        }
        let tod = p.time_of_day()?;
        let offset = p.offset()?;
        days_from_civil(y, mo, d) * DAY + tod - offset
    } else {
        let tod = p.time_of_day()?;
        let offset = p.offset()?;
        // The first day of the run on which this time of day falls inside it.
        let first = lo.div_euclid(DAY) * DAY;
        (0..=((hi - first) / DAY + 1))
            .map(|k| first + k * DAY + tod - offset)
            .find(|t| (lo..=hi).contains(t))
            .unwrap_or(first + tod - offset)
    };
    if p.pos < s.len() {
        return Err(QueryError::parse(lead + p.pos..text.len(), "Unexpected text after the time."));
    }
    if !(lo..=hi).contains(&t) {
        let whole = lead..lead + s.len();
        return Err(QueryError::parse(
            whole,
            format!("{} UTC is outside the data: it runs from {} to {} UTC.", format_input(t), format_input(lo), format_input(hi)),
        ));
    }
    Ok(t)
}

/// A cursor over the trimmed text; `base` maps its positions back to the
/// field's text for error spans.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    base: usize,
}

impl Parser<'_> {
    fn error_here(&self, message: &str) -> QueryError {
        let end = (self.pos + 1).min(self.s.len()).max(self.pos);
        QueryError::parse(self.base + self.pos..self.base + end, message)
    }

    fn error_back(&self, len: usize, message: String) -> QueryError {
        QueryError::parse(self.base + self.pos - len..self.base + self.pos, message)
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.s.get(self.pos) == Some(&b);
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, b: u8) -> Result<(), QueryError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error_here(&format!("Expected '{}' here.", b as char)))
        }
    }

    /// Exactly `digits` digits, within `range`.
    fn number(&mut self, digits: usize, what: &str, range: std::ops::RangeInclusive<i64>) -> Result<i64, QueryError> {
        let start = self.pos;
        let n = self.s[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n != digits {
            let end = start + n.max(1).min(self.s.len() - start);
            return Err(QueryError::parse(self.base + start..self.base + end, format!("Expected {what} ({digits} digits) here.")));
        }
        self.pos += n;
        let v = self.s[start..self.pos].iter().fold(0_i64, |v, c| v * 10 + i64::from(c - b'0'));
        if !range.contains(&v) {
            return Err(QueryError::parse(self.base + start..self.base + self.pos, format!("Expected {what} here, not {v}.")));
        }
        Ok(v)
    }

    /// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, in milliseconds.
    fn time_of_day(&mut self) -> Result<i64, QueryError> {
        let h = self.number(2, "an hour 00–23", 0..=23)?;
        self.expect(b':')?;
        let m = self.number(2, "minutes 00–59", 0..=59)?;
        let mut ms = (h * 3600 + m * 60) * SECOND;
        if self.eat(b':') {
            ms += self.number(2, "seconds 00–59", 0..=59)? * SECOND;
            if self.eat(b'.') {
                let start = self.pos;
                let n = self.s[start..].iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 {
                    return Err(self.error_here("Expected digits after the decimal point."));
                }
                self.pos += n;
                // Milliseconds: the first three digits, padded.
                ms += self.s[start..start + n.min(3)].iter().chain(std::iter::repeat_n(&b'0', 3 - n.min(3))).fold(0_i64, |v, c| v * 10 + i64::from(c - b'0'));
            }
        }
        Ok(ms)
    }

    /// An optional ` UTC`, `Z`, or `+HH:MM` / `-HH:MM`, in milliseconds.
    fn offset(&mut self) -> Result<i64, QueryError> {
        let rest = &self.s[self.pos..];
        if rest.eq_ignore_ascii_case(b" utc") || rest.eq_ignore_ascii_case(b"utc") {
            self.pos = self.s.len();
            return Ok(0);
        }
        if self.eat(b'Z') || self.eat(b'z') {
            return Ok(0);
        }
        let sign = match self.s.get(self.pos) {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Ok(0),
        };
        self.pos += 1;
        let h = self.number(2, "offset hours 00–23", 0..=23)?;
        self.expect(b':')?;
        let m = self.number(2, "offset minutes 00–59", 0..=59)?;
        Ok(sign * (h * 60 + m) * 60 * SECOND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The run: 2026-03-02 09:00 to 10:00 UTC.
    const LO: i64 = 1_772_442_000_000;
    const HI: i64 = LO + 3_600_000;
    const RUN: (i64, i64) = (LO, HI);

    #[test]
    fn accepts_the_usual_spellings() {
        let t = LO + 45 * 60_000;
        for s in ["2026-03-02 09:45", "2026-03-02 09:45:00", "2026-03-02T09:45:00Z", "2026-03-02T10:45:00+01:00", "09:45", " 09:45:00 UTC ", "2026-03-02 09:45:00 UTC", "08:45-01:00"] {
            assert_eq!(parse_instant(s, RUN), Ok(t), "{s}");
        }
        assert_eq!(parse_instant("09:45:30.25", RUN), Ok(t + 30_250));
        // What the form starts with reads back.
        assert_eq!(parse_instant(&format_input(t + 1000), RUN), Ok(t + 1000));
    }

    #[test]
    fn a_time_of_day_lands_on_the_day_that_puts_it_in_the_run() {
        // A run over midnight: 23:30 on Mar 2 to 00:30 on Mar 3.
        let lo = LO + 14 * 3_600_000 + 30 * 60_000;
        let run = (lo, lo + 3_600_000);
        assert_eq!(parse_instant("23:45", run), Ok(lo + 15 * 60_000));
        assert_eq!(parse_instant("00:15", run), Ok(lo + 45 * 60_000));
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let e = parse_instant("2026-03-02 09:75", RUN).unwrap_err();
        assert_eq!((e.span.clone(), e.message.as_str()), (14..16, "Expected minutes 00–59 here, not 75."));
        let e = parse_instant("2026-02-30 09:00", RUN).unwrap_err();
        assert_eq!((e.span.clone(), e.message.as_str()), (8..10, "2026-02 has 28 days."));
        let e = parse_instant("  9:45", RUN).unwrap_err();
        assert_eq!(e.span, 2..3);
        let e = parse_instant("09:45 tomorrow", RUN).unwrap_err();
        assert_eq!(e.span, 5..14);
        let e = parse_instant("11:00", RUN).unwrap_err();
        assert!(e.message.contains("outside the data: it runs from 2026-03-02 09:00:00 to 2026-03-02 10:00:00 UTC"), "{}", e.message);
        assert!(parse_instant("", RUN).unwrap_err().message.starts_with("Write a time such as 2026-03-02 09:00:00"));
        let e = parse_instant("2026-03-02x09:00", RUN).unwrap_err();
        assert_eq!(e.span, 10..11);
    }

    #[test]
    fn a_range_must_run_forward_and_be_long_enough() {
        assert_eq!(parse_range("09:10", "09:20", RUN, 30_000), Ok((LO + 600_000, LO + 1_200_000)));
        let e = parse_range("09:20", "09:10", RUN, 30_000).unwrap_err();
        assert_eq!(e.field, RangeField::To);
        assert!(e.error.message.contains("must end after it starts"));
        let e = parse_range("09:20:00", "09:20:10", RUN, 30_000).unwrap_err();
        assert_eq!(e.error.message, "The range is 10s; the shortest a chart can show is 30s.");
        let e = parse_range("9", "09:20", RUN, 30_000).unwrap_err();
        assert_eq!(e.field, RangeField::From);
    }

    #[test]
    fn no_text_panics() {
        for s in ["", " ", "2", "2026-", "2026-03-02", "2026-03-02 ", "12:", "12:3", "12:30:", "12:30:5", "12:30:00.", "12:30+", "12:30+01", "12:30+01:", "é", "2026-03-02 12:30:00.9999999999", "99999-01-01 00:00", "0000-01-01 00:00"] {
            let _ = parse_instant(s, RUN);
        }
    }
}
