//! Text for people: relative times, sizes, durations and shortened ids.
//!
//! All functions are pure; "now" is an argument.

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How long ago `then_ms` was, seen from `now_ms`: "just now", "5 min ago", "2 h ago",
/// "5 d ago", "3 mo ago", "2 y ago". Times up to a minute in the future (clock skew
/// between the API and this machine) read as "just now"; later ones as "in 3 h".
pub fn relative_time(then_ms: i64, now_ms: i64) -> String {
    let diff = now_ms.saturating_sub(then_ms);
    if diff < -MINUTE {
        return format!("in {}", span(diff.saturating_neg()));
    }
    if diff < 45 * SECOND {
        return "just now".to_owned();
    }
    format!("{} ago", span(diff))
}

/// "N unit" for a positive span, rounded down (never claims more time than passed).
fn span(ms: i64) -> String {
    if ms < HOUR {
        format!("{} min", (ms / MINUTE).max(1))
    } else if ms < DAY {
        format!("{} h", ms / HOUR)
    } else if ms < 30 * DAY {
        format!("{} d", ms / DAY)
    } else if ms < 365 * DAY {
        format!("{} mo", ms / (30 * DAY))
    } else {
        format!("{} y", ms / (365 * DAY))
    }
}

/// Binary size: "0 B", "999 B", "1.0 KiB", "1.2 GiB", "512 MiB". One decimal below 100
/// of a unit, none above, so the text stays short and its precision honest.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    // Rounding may carry into the next unit ("1023.96 KiB" would print "1024 KiB").
    if value >= 1023.95 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 99.95 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// The exact size for tooltips: "2,791,728,742 bytes" ("1 byte").
pub fn bytes_exact(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 6);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(if n == 1 { " byte" } else { " bytes" });
    out
}

/// A size that may be unknown (`size_bytes` is nullable): "—" when absent.
pub fn bytes_opt(n: Option<u64>) -> String {
    n.map_or_else(|| "—".to_owned(), bytes)
}

/// Elapsed time like a stopwatch: "0:42", "12:05", "1:02:03". Negative → "0:00".
pub fn elapsed(ms: i64) -> String {
    let total = ms.max(0) / SECOND;
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The time of day of a Unix-ms instant, in UTC: "14:02 UTC". For messages written
/// where no time zone is known (the domain has none; the edge's log is UTC anyway).
pub fn clock_utc(ms: i64) -> String {
    let minutes = ms.div_euclid(MINUTE);
    format!(
        "{:02}:{:02} UTC",
        minutes.div_euclid(60).rem_euclid(24),
        minutes.rem_euclid(60)
    )
}

/// A Unix-ms instant as a calendar date and time of day (proleptic Gregorian, UTC; shift
/// `ms` first for a local time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
}

impl Civil {
    /// The date and time of `ms` (Howard Hinnant's days-to-civil).
    pub fn of_ms(ms: i64) -> Self {
        let days = ms.div_euclid(86_400_000);
        let in_day = ms.rem_euclid(86_400_000);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Self {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: (in_day / 3_600_000) as u32,
            minute: (in_day / 60_000 % 60) as u32,
            second: (in_day / 1_000 % 60) as u32,
            milli: (in_day % 1_000) as u32,
        }
    }
}

/// A short calendar date for axis labels: "28 Nov" (shift `ms` first for local time).
pub fn day_month(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = Civil::of_ms(ms);
    format!("{} {}", c.day, MONTHS[(c.month as usize).clamp(1, 12) - 1])
}

/// Shortens an id in the middle, keeping the type prefix: `dbx_3f9…a21c`.
///
/// Keeps everything up to the first `_` plus 3 characters, an ellipsis, and the last 4
/// characters. Ids that would not get shorter are returned unchanged.
pub fn short_id(id: &str) -> String {
    const HEAD: usize = 3;
    const TAIL: usize = 4;
    let chars: Vec<char> = id.chars().collect();
    let prefix = chars
        .iter()
        .position(|c| *c == '_')
        .map_or(0, |i| i + 1)
        // A long "prefix" is not a type prefix; do not keep it whole.
        .min(8);
    let keep_head = prefix + HEAD;
    if chars.len() <= keep_head + TAIL + 1 {
        return id.to_owned();
    }
    let head: String = chars[..keep_head].iter().collect();
    let tail: String = chars[chars.len() - TAIL..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_utc_is_the_time_of_day_in_utc() {
        // 2027-01-15T14:02:59Z
        assert_eq!(clock_utc(1_800_021_779_000), "14:02 UTC");
        assert_eq!(clock_utc(0), "00:00 UTC");
        assert_eq!(clock_utc(-MINUTE), "23:59 UTC");
    }

    #[test]
    fn relative_time_reads_naturally() {
        let now = 1_000_000_000_000;
        assert_eq!(relative_time(now, now), "just now");
        assert_eq!(relative_time(now - 44 * SECOND, now), "just now");
        assert_eq!(relative_time(now - 50 * SECOND, now), "1 min ago");
        assert_eq!(relative_time(now - 5 * MINUTE, now), "5 min ago");
        assert_eq!(relative_time(now - 2 * HOUR - 59 * MINUTE, now), "2 h ago");
        assert_eq!(relative_time(now - 5 * DAY, now), "5 d ago");
        assert_eq!(relative_time(now - 95 * DAY, now), "3 mo ago");
        assert_eq!(relative_time(now - 800 * DAY, now), "2 y ago");
    }

    #[test]
    fn small_clock_skew_is_just_now_and_the_future_says_in() {
        let now = 10 * DAY;
        assert_eq!(relative_time(now + 30 * SECOND, now), "just now");
        assert_eq!(relative_time(now + 3 * HOUR, now), "in 3 h");
    }

    #[test]
    fn relative_time_survives_extremes() {
        assert_eq!(
            relative_time(i64::MIN, i64::MAX),
            format!("{} y ago", i64::MAX / (365 * DAY))
        );
        assert!(relative_time(i64::MAX, i64::MIN).starts_with("in "));
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(1_288_490_189), "1.2 GiB");
        assert_eq!(bytes(512 * 1024 * 1024), "512 MiB");
        assert_eq!(bytes(1024 * 1024 - 1), "1.0 MiB");
        assert_eq!(bytes(u64::MAX), "16.0 EiB");
        assert_eq!(bytes_opt(None), "—");
        assert_eq!(bytes_exact(2_791_728_742), "2,791,728,742 bytes");
        assert_eq!(bytes_exact(999), "999 bytes");
        assert_eq!(bytes_exact(1000), "1,000 bytes");
        assert_eq!(bytes_exact(1), "1 byte");
        assert_eq!(bytes_exact(0), "0 bytes");
    }

    #[test]
    fn day_month_is_a_short_date() {
        // 2026-11-28T10:42:07Z
        assert_eq!(day_month(1_795_862_527_000), "28 Nov");
        assert_eq!(day_month(0), "1 Jan");
    }

    #[test]
    fn elapsed_is_a_stopwatch() {
        assert_eq!(elapsed(42_000), "0:42");
        assert_eq!(elapsed(42_999), "0:42");
        assert_eq!(elapsed(12 * MINUTE + 5 * SECOND), "12:05");
        assert_eq!(elapsed(HOUR + 2 * MINUTE + 3 * SECOND), "1:02:03");
        assert_eq!(elapsed(-5), "0:00");
    }

    #[test]
    fn ids_are_shortened_in_the_middle() {
        assert_eq!(short_id("dbx_3f9e0c1b2a7d4a21c"), "dbx_3f9…a21c");
        assert_eq!(short_id("dbx_12345678"), "dbx_12345678");
        assert_eq!(short_id("abcdefghijklmnop"), "abc…mnop");
        assert_eq!(short_id(""), "");
        // Multi-byte characters are not split.
        assert_eq!(short_id("snp_ééééééééééé"), "snp_ééé…éééé");
    }
}
