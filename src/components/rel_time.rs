//! A relative time ("2 h ago") that keeps itself current, exact time on hover.

use leptos::prelude::*;

use crate::fmt::{exact_time, relative_time};
use crate::hooks::use_now::{tz_offset_min, use_now};

/// `<time>` showing how long ago `ms` was.
#[component]
pub fn RelTime(
    /// Unix ms.
    ms: i64,
) -> impl IntoView {
    let now = use_now();
    let exact = exact_time(ms, tz_offset_min());
    let iso = exact.replace(' ', "T");
    view! {
        <time class="sd-time" datetime=iso title=exact>
            {move || relative_time(ms, now.get())}
        </time>
    }
}
