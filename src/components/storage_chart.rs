//! The storage chart: a devbox's snapshots as bars on a time axis (left scale: each
//! snapshot's size) and the running total kept (right scale, a step line), with what a
//! cleanup plan would free in a second tone and the total after it drawn beside the
//! total now. Every number is snapdeck-core's (`storage`); this only draws.
//!
//! The plot is one SVG stretched to the width (`preserveAspectRatio="none"`, strokes
//! that do not scale), its labels HTML placed by percent, so the text stays 12 px and
//! readable from 360 px up.

use leptos::prelude::*;
use snapdeck_core::storage::{Column, Series, Ticks, ticks};

use crate::fmt::{bytes, bytes_exact, day_month, exact_time};
use crate::hooks::use_now::tz_offset_min;

/// Time slots across the axis: bars stay apart however close two snapshots are.
const SLOTS: usize = 48;
/// The SVG's own coordinates (stretched to the box).
const W: f64 = 1000.0;
const H: f64 = 200.0;
/// Room above the top tick for the pin marks.
const TOP: f64 = 12.0;

fn y(v: u64, scale: &Ticks) -> f64 {
    H - (v as f64 / scale.top as f64) * (H - TOP)
}

/// Percent up from the bottom, for HTML labels beside the SVG.
fn pct_up(v: u64, scale: &Ticks) -> String {
    format!(
        "{:.2}%",
        (v as f64 / scale.top as f64) * (H - TOP) / H * 100.0
    )
}

fn local_date(ms: i64) -> String {
    day_month(ms - tz_offset_min() * 60_000)
}

/// The step path of a running total (`pick`: now or after the cleanup).
fn step_path(cols: &[Column], scale: &Ticks, pick: impl Fn(&Column) -> u64) -> String {
    let mut d = format!("M0 {H:.1}");
    let mut last = 0;
    for c in cols {
        let x = c.x() * W;
        d.push_str(&format!(" H{x:.1} V{:.1}", y(pick(c), scale)));
        last = pick(c);
    }
    d.push_str(&format!(" H{W:.1} V{:.1}", y(last, scale)));
    d
}

/// What a column is, in words: its accessible name and the tooltip's first lines.
fn describe(c: &Column, series: &Series, overlay: bool) -> (String, Vec<String>) {
    let tz = tz_offset_min();
    let bars = c.bars(series);
    match bars {
        [b] => {
            let mut flags = Vec::new();
            if b.pinned {
                flags.push("pinned");
            }
            if b.errored {
                flags.push("errored");
            } else if !b.size_known {
                flags.push("size not known yet");
            }
            if overlay && b.freed {
                flags.push("the cleanup deletes it");
            }
            let size = format!("{} ({})", bytes(b.bytes), bytes_exact(b.bytes));
            let when = exact_time(b.at_ms, tz);
            let flags = flags.join(", ");
            let name = [b.label.as_str(), &size, &when, &flags]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            let mut lines = vec![size, when];
            if !flags.is_empty() {
                lines.push(flags);
            }
            (name, lines)
        }
        _ => {
            let head = format!(
                "{} snapshots, {} – {}",
                c.len,
                local_date(c.start_ms),
                local_date(c.end_ms)
            );
            let size = format!("{} ({})", bytes(c.bytes), bytes_exact(c.bytes));
            let mut lines = vec![size.clone()];
            let mut extra = Vec::new();
            if c.pinned > 0 {
                extra.push(format!("{} pinned", c.pinned));
            }
            if c.errored > 0 {
                extra.push(format!("{} errored", c.errored));
            }
            if overlay && c.freed_bytes > 0 {
                extra.push(format!("the cleanup frees {}", bytes(c.freed_bytes)));
            }
            if !extra.is_empty() {
                lines.push(extra.join(", "));
            }
            (format!("{head}, {size}"), lines)
        }
    }
}

/// The chart of one devbox's storage over time.
#[component]
pub fn StorageChart(
    /// The bars and totals (snapdeck-core's `storage::series`).
    #[prop(into)]
    series: Signal<Series>,
    /// Whether a cleanup plan is overlaid (what it frees, the total after it).
    #[prop(optional)]
    overlay: bool,
) -> impl IntoView {
    let active = RwSignal::new(None::<usize>);
    let cols = Memo::new(move |_| series.with(|s| s.columns(SLOTS)));
    let bar_scale = Memo::new(move |_| series.with(|s| ticks(s.max_bar(), 4)));
    let total_scale = Memo::new(move |_| series.with(|s| ticks(s.total, 4)));
    let total = move || series.with(|s| s.total);
    let after = move || series.with(Series::after);
    let count = move || series.with(|s| s.bars.len());

    let head = move || {
        let n = count();
        let noun = if n == 1 { "snapshot" } else { "snapshots" };
        view! {
            <span>
                "Stored: "
                <strong class="sd-mono" data-testid="storage-total" title=move || bytes_exact(total())>
                    {move || bytes(total())}
                </strong>
                {format!(" in {n} {noun}")}
            </span>
            {overlay.then(|| view! {
                <span>
                    "The cleanup frees "
                    <strong
                        class="sd-mono sd-storage__frees"
                        data-testid="storage-frees"
                        data-bytes=move || series.with(|s| s.freed).to_string()
                        title=move || series.with(|s| bytes_exact(s.freed))
                    >
                        {move || series.with(|s| bytes(s.freed))}
                    </strong>
                    " — "
                    <span class="sd-mono" data-testid="storage-after">{move || bytes(after())}</span>
                    " kept after it"
                </span>
            })}
        }
    };

    let bars = move || {
        let (bs, cs) = (bar_scale.get(), cols.get());
        let slot_w = W / SLOTS as f64;
        let bar_w = slot_w * 0.7;
        series.with(|s| {
            cs.iter()
                .enumerate()
                .map(|(i, c)| {
                    let (name, _) = describe(c, s, overlay);
                    let x = c.x() * W - bar_w / 2.0;
                    let kept = c.bytes - if overlay { c.freed_bytes } else { 0 };
                    let y_kept = y(kept, &bs);
                    let y_all = y(c.bytes, &bs);
                    let all = c.bars(s);
                    let errored = c.errored > 0 && c.bytes == 0;
                    let pending = !errored && c.bytes == 0;
                    let pinned = c.pinned > 0;
                    let freed = overlay && c.freed_bytes > 0;
                    let single = all.len() == 1;
                    let id = single.then(|| all[0].id.clone());
                    view! {
                        <g
                            class="sd-storage__col"
                            class:sd-storage__col--active=move || active.get() == Some(i)
                            tabindex="0"
                            role="img"
                            aria-label=name
                            data-testid="storage-bar"
                            data-id=id
                            data-bytes=c.bytes.to_string()
                            data-freed=freed.to_string()
                            on:mouseenter=move |_| active.set(Some(i))
                            on:focus=move |_| active.set(Some(i))
                            on:mouseleave=move |_| active.set(None)
                            on:blur=move |_| active.set(None)
                        >
                            // A hit area the whole slot tall, so thin bars are easy to hover.
                            <rect class="sd-storage__hit" x=format!("{:.1}", c.x() * W - slot_w / 2.0) y="0" width=format!("{slot_w:.1}") height=format!("{H}") />
                            <rect class="sd-storage__bar" x=format!("{x:.1}") y=format!("{y_kept:.1}") width=format!("{bar_w:.1}") height=format!("{:.1}", (H - y_kept).max(0.0)) />
                            {freed.then(|| view! {
                                <rect class="sd-storage__bar sd-storage__bar--freed" x=format!("{x:.1}") y=format!("{y_all:.1}") width=format!("{bar_w:.1}") height=format!("{:.1}", (y_kept - y_all).max(0.0)) />
                            })}
                            {errored.then(|| view! {
                                <rect class="sd-storage__err" x=format!("{x:.1}") y=format!("{:.1}", H - 8.0) width=format!("{bar_w:.1}") height="8" />
                            })}
                            {pending.then(|| view! {
                                <rect class="sd-storage__pending" x=format!("{x:.1}") y=format!("{:.1}", H - 8.0) width=format!("{bar_w:.1}") height="8" />
                            })}
                            {pinned.then(|| view! {
                                <rect class="sd-storage__pin" x=format!("{x:.1}") y=format!("{:.1}", (y_all - 9.0).max(0.0)) width=format!("{bar_w:.1}") height="5" />
                            })}
                        </g>
                    }
                })
                .collect_view()
        })
    };

    let grid = move || {
        let bs = bar_scale.get();
        bs.values
            .iter()
            .map(|v| {
                let yy = format!("{:.1}", y(*v, &bs));
                view! { <line class="sd-storage__grid" x1="0" x2=format!("{W}") y1=yy.clone() y2=yy /> }
            })
            .collect_view()
    };
    let lines = move || {
        let (ts, cs) = (total_scale.get(), cols.get());
        let now = step_path(&cs, &ts, |c| c.total_now);
        let after_path = overlay.then(|| step_path(&cs, &ts, |c| c.total_after));
        view! {
            <path class="sd-storage__line" d=now />
            {after_path.map(|d| view! { <path class="sd-storage__line sd-storage__line--after" d=d /> })}
        }
    };

    let y_labels = move |scale: Memo<Ticks>| {
        move || {
            let s = scale.get();
            s.values
                .iter()
                .map(|v| view! { <span style=format!("bottom:{}", pct_up(*v, &s))>{bytes(*v)}</span> })
                .collect_view()
        }
    };
    let x_labels = move || {
        let cs = cols.get();
        let Some((first, last)) = cs.first().zip(cs.last()) else {
            return Vec::new();
        };
        let mut out = vec![(first.x(), local_date(first.start_ms))];
        if cs.len() > 1 {
            out.push((last.x(), local_date(last.end_ms)));
        }
        if cs.len() > 2 {
            let mid = &cs[cs.len() / 2];
            if mid.x() > 0.3 && mid.x() < 0.7 {
                out.push((mid.x(), local_date(mid.start_ms)));
            }
        }
        out.into_iter()
            .map(
                |(x, label)| view! { <span style=format!("left:{:.2}%", x * 100.0)>{label}</span> },
            )
            .collect::<Vec<_>>()
    };

    let tooltip = move || {
        let i = active.get()?;
        let c = cols.with(|cs| cs.get(i).cloned())?;
        let (title, lines) = series.with(|s| {
            let (_, lines) = describe(&c, s, overlay);
            let title = match c.bars(s) {
                [b] => b.label.clone(),
                _ => format!(
                    "{} snapshots, {} – {}",
                    c.len,
                    local_date(c.start_ms),
                    local_date(c.end_ms)
                ),
            };
            (title, lines)
        });
        let mut kept = format!("Stored by then: {}", bytes(c.total_now));
        if overlay {
            kept.push_str(&format!(", after the cleanup {}", bytes(c.total_after)));
        }
        let x = c.x();
        let side = if x < 0.3 {
            format!("left:{:.2}%", x * 100.0)
        } else if x > 0.7 {
            format!("right:{:.2}%", (1.0 - x) * 100.0)
        } else {
            format!("left:{:.2}%;transform:translate(-50%,-100%)", x * 100.0)
        };
        Some(view! {
            <div class="sd-storage__tip" style=side data-testid="storage-tip" aria-hidden="true">
                <strong>{title}</strong>
                {lines.into_iter().map(|l| view! { <div class="sd-mono">{l}</div> }).collect_view()}
                <div class="sd-muted">{kept}</div>
            </div>
        })
    };

    view! {
        <figure
            class="sd-storage"
            data-testid="storage-chart"
            data-total-bytes=move || total().to_string()
            data-after-bytes=move || after().to_string()
        >
            <figcaption class="sd-storage__head">{head}</figcaption>
            <Show
                when=move || { count() > 0 }
                fallback=|| view! {
                    <p class="sd-muted" data-testid="storage-empty">
                        "No snapshots, so nothing is stored yet. Sizes show here once snapshots complete."
                    </p>
                }
            >
                <Legend overlay=overlay />
                <div class="sd-storage__plot">
                    <div class="sd-storage__y" aria-hidden="true">{y_labels(bar_scale)}</div>
                    <div class="sd-storage__area">
                        <svg
                            class="sd-storage__svg"
                            viewBox=format!("0 0 {W} {H}")
                            preserveAspectRatio="none"
                            aria-label="Snapshot sizes over time"
                            role="group"
                        >
                            {grid}
                            {bars}
                            {lines}
                        </svg>
                        {tooltip}
                    </div>
                    <div class="sd-storage__y sd-storage__y--right" aria-hidden="true">{y_labels(total_scale)}</div>
                </div>
                <div class="sd-storage__x" aria-hidden="true">{x_labels}</div>
            </Show>
        </figure>
    }
}

/// What each mark means.
#[component]
fn Legend(
    /// Whether the plan's marks are shown.
    overlay: bool,
) -> impl IntoView {
    view! {
        <ul class="sd-storage__legend">
            <li><span class="sd-swatch sd-swatch--bar"></span>"size (left)"</li>
            {overlay.then(|| view! { <li><span class="sd-swatch sd-swatch--freed"></span>"the cleanup frees"</li> })}
            <li><span class="sd-swatch sd-swatch--line"></span>"stored in total (right)"</li>
            {overlay.then(|| view! { <li><span class="sd-swatch sd-swatch--after"></span>"after the cleanup"</li> })}
            <li><span class="sd-swatch sd-swatch--pin"></span>"pinned"</li>
            <li><span class="sd-swatch sd-swatch--err"></span>"errored"</li>
        </ul>
    }
}
