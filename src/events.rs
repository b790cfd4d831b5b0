//! DOM events a host page can listen to, one function per event.
//!
//! They are dispatched on the element the app is mounted in (the host's
//! `[data-snapdeck]` element when embedded, `.sd-root` in the full dashboard), and they
//! bubble and are `composed`, so a listener on `document` hears every embed on the page.
//! `detail` is a plain object with camelCase keys.
//!
//! The ops store and the bulk-run driver stay unaware of them: [`forward_ops`] watches
//! the operations and dispatches on each transition to "finished", and
//! [`forward_runs`] subscribes to the app's run events, so whatever finishes an
//! operation or a bulk run (a click, a resume after reload, any page) is reported once.

use std::collections::BTreeSet;

use leptos::prelude::*;
use serde::Serialize;
use snapdeck_core::{BulkRun, ItemState};
use wasm_bindgen::JsValue;

use crate::services::ops::{OpKind, OpState, Ops};
use crate::services::run_events::{RunEvent, RunEvents};

/// `snapdeck:snapshot-complete`
pub const SNAPSHOT_COMPLETE: &str = "snapdeck:snapshot-complete";
/// `snapdeck:devbox-restored`
pub const DEVBOX_RESTORED: &str = "snapdeck:devbox-restored";
/// `snapdeck:cleanup-finished`
pub const CLEANUP_FINISHED: &str = "snapdeck:cleanup-finished";

/// Where this app's events go: the embed's mount element. Provided by the embed; without
/// it (the full dashboard) events go to `.sd-root`.
#[derive(Clone, Copy)]
pub struct EventHost(StoredValue<web_sys::Element, LocalStorage>);

impl EventHost {
    /// Events of the app under the current owner go to `el`.
    pub fn provide(el: web_sys::Element) {
        provide_context(EventHost(StoredValue::new_local(el)));
    }
}

/// A handle to the current app's event target, taken while the component runs (async
/// tasks that finish operations have no owner to look it up from).
#[derive(Clone, Copy)]
pub struct HostEvents(Option<EventHost>);

/// The event target of the app under the current owner.
pub fn host_events() -> HostEvents {
    HostEvents(use_context::<EventHost>())
}

impl HostEvents {
    fn element(&self) -> Option<web_sys::Element> {
        match self.0 {
            Some(host) => host.0.try_get_value(),
            None => web_sys::window()?
                .document()?
                .query_selector(".sd-root")
                .ok()
                .flatten(),
        }
    }

    fn dispatch<T: Serialize>(&self, name: &str, detail: &T) {
        let Some(el) = self.element() else { return };
        let detail = serde_json::to_string(detail)
            .ok()
            .and_then(|s| js_sys::JSON::parse(&s).ok())
            .unwrap_or(JsValue::NULL);
        let init = web_sys::CustomEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        init.set_detail(&detail);
        if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
            let _ = el.dispatch_event(&ev);
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotComplete<'a> {
    snapshot_id: &'a str,
    devbox_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DevboxRestored<'a> {
    devbox_id: &'a str,
    snapshot_id: &'a str,
    source_devbox_id: &'a str,
}

#[derive(Serialize, Debug, Default, PartialEq)]
struct CleanupFinished {
    deleted: Vec<String>,
    failed: Vec<String>,
    skipped: Vec<String>,
}

/// A snapshot finished successfully.
pub fn snapshot_complete(to: HostEvents, snapshot_id: &str, devbox_id: &str) {
    to.dispatch(
        SNAPSHOT_COMPLETE,
        &SnapshotComplete {
            snapshot_id,
            devbox_id,
        },
    );
}

/// A devbox started from a snapshot is running. `devbox_id` is the new devbox,
/// `source_devbox_id` the one the restore was started from.
pub fn devbox_restored(to: HostEvents, devbox_id: &str, snapshot_id: &str, source_devbox_id: &str) {
    to.dispatch(
        DEVBOX_RESTORED,
        &DevboxRestored {
            devbox_id,
            snapshot_id,
            source_devbox_id,
        },
    );
}

/// A bulk cleanup settled every item.
pub fn cleanup_finished(to: HostEvents, run: &BulkRun) {
    to.dispatch(CLEANUP_FINISHED, &cleanup_outcome(run));
}

fn cleanup_outcome(run: &BulkRun) -> CleanupFinished {
    let mut out = CleanupFinished::default();
    for item in &run.items {
        let id = item.confirmed.snapshot_id.clone();
        match item.state {
            ItemState::Done { .. } => out.deleted.push(id),
            ItemState::Failed { .. } => out.failed.push(id),
            ItemState::Skipped { .. } => out.skipped.push(id),
            ItemState::Pending { .. } | ItemState::Running { .. } => {}
        }
    }
    out
}

/// Dispatches [`snapshot_complete`] and [`devbox_restored`] whenever an operation of
/// `ops` goes from running to done (call once per app, under its owner).
pub fn forward_ops(ops: Ops) {
    let to = host_events();
    let list = ops.list();
    // Ids of operations seen running; an op that is done and was never seen running
    // (an old entry loaded from storage) is not reported.
    let running = StoredValue::new(BTreeSet::<u64>::new());
    Effect::new(move |_| {
        list.with(|l| {
            for op in l {
                if op.is_running() {
                    running.update_value(|r| {
                        r.insert(op.id);
                    });
                    continue;
                }
                let was_running = running.try_update_value(|r| r.remove(&op.id)) == Some(true);
                if !was_running || !matches!(op.state, OpState::Done { .. }) {
                    continue;
                }
                match &op.kind {
                    OpKind::Snapshot {
                        devbox_id,
                        watch: Some(w),
                        ..
                    } => snapshot_complete(to, &w.snapshot_id, devbox_id),
                    OpKind::Restore {
                        snapshot_id,
                        from_devbox_id,
                        new_devbox_id: Some(new_id),
                        ..
                    } => devbox_restored(to, new_id, snapshot_id, from_devbox_id),
                    _ => {}
                }
            }
        });
    });
}

/// Dispatches [`cleanup_finished`] whenever a bulk run of `runs` finishes, whichever page
/// started it (call once per app, under its owner).
pub fn forward_runs(runs: RunEvents) {
    let to = host_events();
    runs.subscribe(move |e| {
        if let RunEvent::Finished { run, .. } = e {
            cleanup_finished(to, run);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdeck_core::bulk::BulkItem;
    use snapdeck_core::{Confirmed, SkipReason};

    fn item(id: &str, state: ItemState) -> BulkItem {
        BulkItem {
            confirmed: Confirmed {
                snapshot_id: id.into(),
                source_devbox_id: "dbx_1".into(),
                name: None,
                size_bytes: None,
                status: Some(snapdeck_api::SnapshotStatus::Complete),
            },
            state,
            attempts: 0,
        }
    }

    #[test]
    fn a_finished_cleanup_reports_each_snapshot_under_its_outcome() {
        let run = BulkRun {
            items: vec![
                item(
                    "a",
                    ItemState::Done {
                        already_gone: false,
                    },
                ),
                item(
                    "b",
                    ItemState::Failed {
                        message: "409".into(),
                        retryable: false,
                    },
                ),
                item(
                    "c",
                    ItemState::Skipped {
                        reason: SkipReason::NoLongerExists,
                    },
                ),
                item("d", ItemState::Done { already_gone: true }),
            ],
            ..BulkRun::new([])
        };
        assert_eq!(
            cleanup_outcome(&run),
            CleanupFinished {
                deleted: vec!["a".into(), "d".into()],
                failed: vec!["b".into()],
                skipped: vec!["c".into()],
            }
        );
    }
}
