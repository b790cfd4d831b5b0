//! `use_now`: the current time in Unix ms, ticking once a second, shared by every
//! relative time and elapsed clock on screen (one timer for the whole app).

use leptos::prelude::*;

use super::use_interval::use_interval;

/// The app-wide clock.
#[derive(Debug, Clone, Copy)]
pub struct Now(pub RwSignal<i64>);

/// Current time in Unix ms.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The browser's offset from UTC in minutes (positive west), for local display.
pub fn tz_offset_min() -> i64 {
    js_sys::Date::new_0().get_timezone_offset() as i64
}

/// Installs the ticking clock (call once, in the app root).
pub fn provide_now() {
    let now = RwSignal::new(now_ms());
    use_interval(1000, move || now.set(now_ms()));
    provide_context(Now(now));
}

/// The ticking clock.
pub fn use_now() -> Signal<i64> {
    expect_context::<Now>().0.into()
}
