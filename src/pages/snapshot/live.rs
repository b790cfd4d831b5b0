//! The page's live status: while the snapshot is in progress, `/status` is polled on
//! snapdeck-core's watch schedule (with the estimate from the devbox's earlier
//! snapshots: sparse at first, dense around the expected end), and the elapsed time,
//! the estimate and a progress line that fills toward it are shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::{Estimate, SnapshotWatch, WatchStep};

use crate::api::Api;
use crate::fmt::elapsed;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_now::{now_ms, use_now};
use crate::hooks::use_statuses::use_statuses;
use crate::services::seen::{Seen, use_seen};

/// How often the page checks whether a poll is due (ms); the schedule decides.
const TICK_MS: u64 = 250;

/// Polls while `status` is in progress, updating `status` (and `snapshot` once complete).
pub(super) fn follow(
    api: Api,
    seen: Seen,
    snapshot: RwSignal<Option<Snapshot>>,
    status: RwSignal<Option<SnapshotStatus>>,
) {
    let statuses = use_statuses();
    let next_at = StoredValue::new(0i64);
    let busy = StoredValue::new(false);
    use_interval(TICK_MS, move || {
        if status.get_untracked() != Some(SnapshotStatus::InProgress) || busy.get_value() {
            return;
        }
        let Some(s) = snapshot.get_untracked() else {
            return;
        };
        let now = now_ms();
        if now < next_at.get_value() {
            return;
        }
        busy.set_value(true);
        let watch = SnapshotWatch::new(
            s.id.clone(),
            Some(s.source_devbox_id.clone()),
            s.create_time_ms,
        )
        .with_estimate(seen.estimate_for(&s.source_devbox_id));
        spawn_local(async move {
            let r = api.snapshot_status(&s.id).await;
            if status.is_disposed() {
                return;
            }
            busy.set_value(false);
            let step = match r {
                Ok(view) => {
                    seen.observe(&s.id, &s.source_devbox_id, s.create_time_ms, view.status);
                    if let Some(fresh) = &view.snapshot {
                        seen.remember(fresh, Some(view.status));
                        snapshot.set(Some(fresh.clone()));
                    }
                    if view.status != SnapshotStatus::InProgress {
                        statuses.record(&s.id, view.status, view.error_message.clone());
                        status.set(Some(view.status));
                    }
                    watch.observe(&view, now_ms())
                }
                Err(e) if e.is_not_found() => {
                    statuses.record(&s.id, SnapshotStatus::Deleted, None);
                    status.set(Some(SnapshotStatus::Deleted));
                    WatchStep::Deleted
                }
                Err(_) => watch.next_poll(now_ms()),
            };
            if let WatchStep::PollIn(ms) = step {
                next_at.set_value(now_ms() + ms);
            }
        });
    });
}

/// "running 0:42 · about 40 s left" and a line that fills toward the estimate.
#[component]
pub(super) fn LiveProgress(
    /// The snapshot (its start time and devbox).
    snapshot: Signal<Snapshot>,
) -> impl IntoView {
    let now = use_now();
    let seen = use_seen();
    let expected: Memo<Option<Estimate>> =
        Memo::new(move |_| snapshot.with(|s| seen.estimate_for(&s.source_devbox_id)));
    let started = move || snapshot.with(|s| s.create_time_ms);
    let line = move || {
        let e = now.get() - started();
        match expected.get() {
            Some(x) => format!("running {} · {}", elapsed(e), x.describe(e)),
            None => format!(
                "running {} · no estimate yet (no earlier snapshot of this devbox seen finishing)",
                elapsed(e)
            ),
        }
    };
    let fill = move || {
        expected
            .get()
            .map(|x| format!("width:{:.1}%", x.fraction(now.get() - started()) * 100.0))
    };
    view! {
        <div class="sd-live" data-testid="snapshot-live">
            <span class="sd-live__text">{line}</span>
            {move || fill().map(|style| view! {
                <span class="sd-live__bar" aria-hidden="true"><span class="sd-live__fill" style=style></span></span>
            })}
        </div>
    }
}
