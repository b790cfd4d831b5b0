//! Display formatting. Relative times, sizes, stopwatch durations and shortened ids
//! come from snapdeck-core; what is here needs the browser's local time zone (passed
//! in, so these stay pure) or is URL plumbing.

pub use snapdeck_core::format::{
    bytes, bytes_opt, elapsed, relative_time, short_id as middle_truncate,
};

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
    use super::{encode_component, exact_time, stamp};

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
