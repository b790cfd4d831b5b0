//! Display formatting. Relative times, sizes, stopwatch durations and shortened ids
//! come from snapdeck-core; what is here needs the browser's local time zone (passed
//! in, so these stay pure) or is URL plumbing.

use snapdeck_core::format::Civil;
pub use snapdeck_core::format::{
    bytes, bytes_exact, bytes_opt, day_month, elapsed, relative_time, short_id as middle_truncate,
};

/// Exact local time for tooltips, e.g. `2026-11-28 10:42:07`, from Unix ms and the
/// browser's offset in minutes (as `Date.getTimezoneOffset`, positive west of UTC).
pub fn exact_time(ms: i64, tz_offset_min: i64) -> String {
    let c = Civil::of_ms(ms - tz_offset_min * 60_000);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `yyyymmdd-hhmm` in local time, for default snapshot names.
pub fn stamp(ms: i64, tz_offset_min: i64) -> String {
    let c = Civil::of_ms(ms - tz_offset_min * 60_000);
    format!(
        "{:04}{:02}{:02}-{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute
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
