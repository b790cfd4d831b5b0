//! The one stream of what bulk runs do, for the whole app.
//!
//! Every bulk delete — from the Snapshots page, Cleanup or a timeline — is driven by
//! [`crate::services::bulk_runs`], and tells what happens through [`RunEvents`] only: a
//! drive started, progress, items settled, the run finished. Whoever must react
//! subscribes once, at the app's root ([`crate::context::AppContext::provide`]): the
//! status cache (our own deletes), the operations tray, the data version (lists
//! refetch), the host page's `snapdeck:cleanup-finished` event and the toasts. So
//! every page that starts a run behaves the same, and a run resumed after a reload is
//! reported like any other.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use snapdeck_core::bulk::BulkItem;
use snapdeck_core::{BulkRun, ItemState, SkipReason};

use crate::hooks::use_now::now_ms;
use crate::hooks::use_refresh::DataVersion;
use crate::hooks::use_settings::SettingsCtx;
use crate::hooks::use_toasts::{ToastAction, Toasts, Tone};
use web_sys::{Notification, NotificationOptions, NotificationPermission};

/// What a bulk run tells the app, in this order: `Started`, then any number of
/// `Progress` and `Settled`, then `Finished` (and `Started` again for a retry).
#[derive(Debug, Clone, Copy)]
pub enum RunEvent<'a> {
    /// A drive began: a new run, one resumed after a reload, or a retry of failures.
    Started {
        key: &'static str,
        label: &'a str,
        run: &'a BulkRun,
        /// The end of its undo window (unix ms), when it has one.
        hold_until_ms: Option<i64>,
    },
    /// The run as it stands (published at most every tick).
    Progress { key: &'static str, run: &'a BulkRun },
    /// Items that settled (deleted, failed, skipped) since the last event; each item is
    /// reported once per drive.
    Settled {
        key: &'static str,
        items: &'a [&'a BulkItem],
        /// The run they belong to (its rule says which policy they followed).
        run: &'a BulkRun,
        /// The server's job that settled them, when the run is a job there (the
        /// server then keeps their audit entries).
        job_id: Option<&'a str>,
    },
    /// Every item settled.
    Finished {
        key: &'static str,
        label: &'a str,
        run: &'a BulkRun,
    },
}

type Subscriber = Rc<dyn Fn(&RunEvent)>;

/// The app's run event stream: cheap to copy, subscribers kept under the app's owner.
#[derive(Clone, Copy)]
pub struct RunEvents(StoredValue<RefCell<Vec<Subscriber>>, LocalStorage>);

impl RunEvents {
    /// An empty stream (one per app, made by the app context).
    pub fn new() -> Self {
        Self(StoredValue::new_local(RefCell::new(Vec::new())))
    }

    /// Calls `f` with every event from now on.
    pub fn subscribe(&self, f: impl Fn(&RunEvent) + 'static) {
        self.0.with_value(|s| s.borrow_mut().push(Rc::new(f)));
    }

    /// Tells every subscriber, in the order they subscribed. (A subscriber may start
    /// work that emits again: the list is copied first, so that is safe.)
    pub fn emit(&self, event: &RunEvent) {
        let subscribers: Vec<Subscriber> = self
            .0
            .try_with_value(|s| s.borrow().clone())
            .unwrap_or_default();
        for s in subscribers {
            s(event);
        }
    }
}

impl Default for RunEvents {
    fn default() -> Self {
        Self::new()
    }
}

/// Says in toasts what the person needs to know: a run in its undo window, with Undo;
/// when a run finishes, lists refetch (the data version), an undone run says nothing
/// was deleted, and a run of one snapshot (a timeline delete, one row) how it ended — a
/// bigger run has its panel.
pub fn report(events: RunEvents, toasts: Toasts, version: DataVersion) {
    events.subscribe(move |e| match *e {
        RunEvent::Started {
            key,
            label,
            hold_until_ms: Some(until),
            ..
        } => {
            let secs = ((until - now_ms()).max(0) + 999) / 1000;
            toasts.push_action(
                Tone::Info,
                format!("{label} in {secs} s."),
                ToastAction::UndoRun(key),
                (until - now_ms()).max(1000) as u64,
            );
        }
        RunEvent::Finished { run, .. } => {
            version.bump();
            finished(run, toasts);
        }
        _ => {}
    });
}

fn finished(run: &BulkRun, toasts: Toasts) {
    let undone = !run.items.is_empty()
        && run.items.iter().all(|i| {
            matches!(
                i.state,
                ItemState::Skipped {
                    reason: SkipReason::Cancelled
                }
            )
        });
    if undone {
        toasts.push(Tone::Ok, "Undone: nothing was deleted.");
        return;
    }
    let [item] = run.items.as_slice() else {
        return;
    };
    let label = item
        .confirmed
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| item.confirmed.snapshot_id.clone());
    match &item.state {
        ItemState::Done { .. } => toasts.push(Tone::Ok, format!("Deleted snapshot “{label}”.")),
        ItemState::Skipped { reason } => {
            toasts.push(Tone::Err, format!("Did not delete “{label}”: {reason}"))
        }
        ItemState::Failed { message, .. } => {
            toasts.push(Tone::Err, format!("Could not delete “{label}”: {message}"))
        }
        ItemState::Pending { .. } | ItemState::Running { .. } => {}
    }
}

/// Raises a browser notification when a run ends while the tab is hidden, if the
/// person turned that on in Settings and the browser allowed it.
pub fn notify_when_hidden(events: RunEvents, settings: SettingsCtx) {
    events.subscribe(move |e| {
        let RunEvent::Finished { label, run, .. } = e else {
            return;
        };
        let wanted = settings.settings.with_untracked(|s| s.notify);
        let hidden = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden);
        if !wanted || !hidden || Notification::permission() != NotificationPermission::Granted {
            return;
        }
        let c = run.counts();
        let options = NotificationOptions::new();
        options.set_body(&format!(
            "{} deleted · {} failed · {} skipped",
            c.done, c.failed, c.skipped
        ));
        options.set_tag("snapdeck-run");
        let _ = Notification::new_with_options(&format!("Finished: {label}"), &options);
    });
}

/// The app's run event stream.
pub fn use_run_events() -> RunEvents {
    expect_context::<RunEvents>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn every_subscriber_hears_every_event_in_order() {
        let owner = Owner::new();
        owner.set();
        let events = RunEvents::new();
        let seen = Rc::new(RefCell::new(Vec::new()));
        for who in ["a", "b"] {
            let seen = seen.clone();
            events.subscribe(move |e| {
                let what = match e {
                    RunEvent::Started { .. } => "started",
                    RunEvent::Progress { .. } => "progress",
                    RunEvent::Settled { .. } => "settled",
                    RunEvent::Finished { .. } => "finished",
                };
                seen.borrow_mut().push(format!("{who}:{what}"));
            });
        }
        let run = BulkRun::new([]);
        events.emit(&RunEvent::Started {
            key: "k",
            label: "l",
            run: &run,
            hold_until_ms: None,
        });
        events.emit(&RunEvent::Finished {
            key: "k",
            label: "l",
            run: &run,
        });
        assert_eq!(
            *seen.borrow(),
            ["a:started", "b:started", "a:finished", "b:finished"]
        );
    }

    #[test]
    fn a_subscriber_may_emit_while_it_is_told() {
        let owner = Owner::new();
        owner.set();
        let events = RunEvents::new();
        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        events.subscribe(move |e| {
            c.set(c.get() + 1);
            if let RunEvent::Started { run, .. } = e {
                events.emit(&RunEvent::Progress { key: "k", run });
            }
        });
        let run = BulkRun::new([]);
        events.emit(&RunEvent::Started {
            key: "k",
            label: "l",
            run: &run,
            hold_until_ms: None,
        });
        assert_eq!(count.get(), 2);
    }
}
