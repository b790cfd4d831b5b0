//! Display formatting: relative times, sizes in binary units, elapsed clocks, and
//! middle-truncated ids. Pure functions (time is passed in) so native tests reach them.
//!
//! Kept here until snapdeck-core's formatting module lands; then these become thin
//! re-exports.

/// "just now", "42 s ago", "5 min ago", "2 h ago", "3 d ago", "in 5 min" for the future.
pub fn relative_time(then_ms: i64, now_ms: i64) -> String {
    let diff = now_ms - then_ms;
    let (secs, future) = if diff >= 0 {
        (diff / 1000, false)
    } else {
        (-diff / 1000, true)
    };
    let text = match secs {
        0..=4 => return "just now".to_string(),
        5..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h", secs / 3600),
        86_400..=2_591_999 => format!("{} d", secs / 86_400),
        2_592_000..=31_535_999 => format!("{} mo", secs / 2_592_000),
        _ => format!("{} y", secs / 31_536_000),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// Bytes in binary units with one decimal: `0 B`, `512 B`, `1.5 KiB`, `1.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Elapsed time as a clock: `0:07`, `1:42`, `1:02:03`.
pub fn elapsed(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `dbx_3f9a…a21c`: ids longer than 14 characters keep 8 in front and 4 at the end.
pub fn middle_truncate(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 14 {
        return id.to_string();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Exact local time for tooltips, e.g. `2026-11-28 10:42:07`, from Unix ms and the
/// browser's offset in minutes (as `Date.getTimezoneOffset`, positive west of UTC).
pub fn exact_time(ms: i64, tz_offset_min: i64) -> String {
    let local = ms - tz_offset_min * 60_000;
    let (y, mo, d, h, mi, s) = civil(local);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// `yyyymmdd-hhmm` in local time, for default snapshot names.
pub fn stamp(ms: i64, tz_offset_min: i64) -> String {
    let local = ms - tz_offset_min * 60_000;
    let (y, mo, d, h, mi, _) = civil(local);
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}")
}

/// Unix ms to (year, month, day, hour, minute, second), proleptic Gregorian, UTC.
fn civil(ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        ((rem / 60) % 60) as u32,
        (rem % 60) as u32,
    )
}

/// Percent-encodes a query-string component (RFC 3986 unreserved characters stay).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_000_000_000;
        assert_eq!(relative_time(now - 1000, now), "just now");
        assert_eq!(relative_time(now - 42_000, now), "42 s ago");
        assert_eq!(relative_time(now - 2 * 3_600_000, now), "2 h ago");
        assert_eq!(relative_time(now + 300_000, now), "in 5 min");
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(1_288_490_189), "1.2 GiB");
    }

    #[test]
    fn elapsed_is_a_clock() {
        assert_eq!(elapsed(42_000), "0:42");
        assert_eq!(elapsed(3_723_000), "1:02:03");
    }

    #[test]
    fn long_ids_are_truncated_in_the_middle() {
        assert_eq!(middle_truncate("dbx_short"), "dbx_short");
        assert_eq!(middle_truncate("dbx_3f9a8b7c6d5e4a21c"), "dbx_3f9a…a21c");
    }

    #[test]
    fn exact_time_is_calendar_correct() {
        // 2026-11-28T10:42:07Z
        assert_eq!(exact_time(1_795_862_527_000, 0), "2026-11-28 10:42:07");
        assert_eq!(stamp(1_795_862_527_000, -60), "20261128-1142");
    }

    #[test]
    fn query_components_are_encoded() {
        assert_eq!(encode_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
