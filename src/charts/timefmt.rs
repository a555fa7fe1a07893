//! Time axis ticks and labels in UTC: round steps (1 minute to 7 days)
//! chosen for the span and the room available, and labels that say as
//! much as the step needs (`09:15`, `Feb 3`, `Feb 3 12:00`).

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Steps a time axis may use, in milliseconds.
const STEPS: [i64; 16] = [
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    3 * DAY,
    7 * DAY,
    14 * DAY,
];

/// Tick positions (Unix ms) over `[from, to]` at a round step giving at
/// most `max_ticks` ticks, and that step.
pub fn ticks(from: i64, to: i64, max_ticks: usize) -> (Vec<i64>, i64) {
    let span = (to - from).max(1);
    let max_ticks = max_ticks.max(1) as i64;
    let step = STEPS.iter().copied().find(|&s| span / s < max_ticks).unwrap_or(STEPS[STEPS.len() - 1]);
    // Day steps start at the first midnight, shorter ones at a multiple of the step.
    let align = step.min(DAY);
    let first = from.div_euclid(align) * align + if from.rem_euclid(align) == 0 { 0 } else { align };
    let mut out = Vec::new();
    let mut t = first;
    while t <= to {
        out.push(t);
        t += step;
    }
    (out, step)
}

/// A tick label for a step: the time of day below a day, the date from a
/// day up, and both at midnight-crossing hour steps.
pub fn label(t_ms: i64, step: i64) -> String {
    let (_, month, day, hour, minute) = civil(t_ms);
    let mon = MONTHS[(month - 1) as usize];
    if step >= DAY || (step >= HOUR && hour == 0 && minute == 0) {
        format!("{mon} {day}")
    } else {
        format!("{hour:02}:{minute:02}")
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// (year, month 1–12, day 1–31, hour, minute) in UTC of Unix milliseconds
/// (Howard Hinnant's days-to-civil algorithm).
pub fn civil(t_ms: i64) -> (i64, u32, u32, u32, u32) {
    let days = t_ms.div_euclid(DAY);
    let in_day = t_ms.rem_euclid(DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, (in_day / HOUR) as u32, ((in_day % HOUR) / MINUTE) as u32)
}

/// `2026-03-02 09:15:30 UTC`: an instant to the second.
pub fn instant(t_ms: i64) -> String {
    let (y, mo, d, h, mi) = civil(t_ms);
    let sec = t_ms.rem_euclid(MINUTE) / 1000;
    format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{sec:02} UTC")
}

/// `09:15:30`, the time of day to the second (UTC).
pub fn clock(t_ms: i64) -> String {
    let (_, _, _, h, mi) = civil(t_ms);
    format!("{h:02}:{mi:02}:{:02}", t_ms.rem_euclid(MINUTE) / 1000)
}

/// A span of simulated time for people: `45s`, `12m`, `1h 30m`, `30d`.
pub fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "m"), (sec, "s")]
        .iter()
        .filter(|(v, _)| *v > 0)
        .map(|(v, u)| format!("{v}{u}"))
        .collect();
    match parts.len() {
        0 => "0s".to_string(),
        _ => parts.into_iter().take(2).collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0));
        // 2026-03-02T09:15:00Z
        assert_eq!(civil(1_772_442_900_000), (2026, 3, 2, 9, 15));
        // 2024-02-29T23:59:00Z, a leap day.
        assert_eq!(civil(1_709_251_140_000), (2024, 2, 29, 23, 59));
        assert_eq!(civil(-60_000), (1969, 12, 31, 23, 59));
        assert_eq!(instant(1_772_442_930_500), "2026-03-02 09:15:30 UTC");
        assert_eq!(clock(1_772_442_930_500), "09:15:30");
    }

    #[test]
    fn ticks_are_round_and_bounded() {
        let start = 1_772_442_000_000; // 09:00
        let (t, step) = ticks(start, start + HOUR, 8);
        assert_eq!(step, 10 * MINUTE);
        assert_eq!(t.len(), 7);
        assert_eq!(label(t[1], step), "09:10");
        let month = 30 * DAY;
        let (t, step) = ticks(start, start + month, 8);
        assert!(t.len() <= 8 && step >= DAY);
        assert_eq!(label(t[0], step), "Mar 3");
        assert!(t.iter().all(|x| x % DAY == 0));
    }

    #[test]
    fn spans() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(45_000), "45s");
        assert_eq!(span(HOUR + 30 * MINUTE), "1h 30m");
        assert_eq!(span(30 * DAY), "30d");
    }
}
