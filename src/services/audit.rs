//! The audit trail this browser keeps: every destructive or creating action the app
//! performed itself (deletes run in the tab, snapshots taken, devboxes created, pins),
//! as snapdeck-core's [`AuditEntry`], in localStorage (the newest [`KEEP`]). Deletes a
//! server or edge job ran are recorded there, by the job; the audit page reads both.

use leptos::prelude::*;
use snapdeck_core::RunRule;
use snapdeck_core::audit::{Action, Actor, AuditEntry, HAND_PICKED, Outcome};

use crate::hooks::use_now::now_ms;
use crate::services::bulk_runs::random_id;
use crate::services::run_events::{RunEvent, RunEvents};
use crate::storage::{self, Area};

const STORAGE_KEY: &str = "snapdeck.audit";
/// Entries kept in this browser (the oldest go first).
pub const KEEP: usize = 5_000;

/// This browser's audit trail.
#[derive(Clone, Copy)]
pub struct AuditLog {
    /// Oldest first.
    entries: RwSignal<Vec<AuditEntry>>,
}

/// Installs the trail (app root), restored from localStorage.
pub fn provide_audit() -> AuditLog {
    let entries: Vec<AuditEntry> = storage::get_json(Area::Local, STORAGE_KEY).unwrap_or_default();
    let log = AuditLog {
        entries: RwSignal::new(entries),
    };
    provide_context(log);
    log
}

/// This browser's audit trail.
pub fn use_audit() -> AuditLog {
    expect_context::<AuditLog>()
}

impl AuditLog {
    /// Every entry, oldest first (tracked).
    pub fn entries(&self) -> Signal<Vec<AuditEntry>> {
        self.entries.into()
    }

    /// Records entries (the oldest beyond [`KEEP`] are dropped) and saves.
    pub fn record(&self, new: impl IntoIterator<Item = AuditEntry>) {
        if self.entries.is_disposed() {
            return;
        }
        self.entries.update(|l| {
            l.extend(new);
            let over = l.len().saturating_sub(KEEP);
            l.drain(..over);
        });
        self.entries
            .with_untracked(|l| storage::set_json(Area::Local, STORAGE_KEY, l));
    }

    /// Records one action this browser performed directly against the API.
    pub fn record_action(
        &self,
        action: Action,
        target_id: &str,
        target_name: Option<String>,
        devbox_id: Option<String>,
        outcome: Outcome,
        reason: Option<String>,
    ) {
        self.record([AuditEntry {
            id: random_id("aud"),
            at_ms: now_ms(),
            actor: Actor::ThisBrowser,
            action,
            target_id: target_id.to_owned(),
            target_name,
            devbox_id,
            job_id: None,
            policy: None,
            outcome,
            reason,
        }]);
    }

    /// Records every delete the tab settles itself (a job's are the server's to keep).
    pub fn follow_runs(&self, events: RunEvents) {
        let this = *self;
        events.subscribe(move |e| {
            let RunEvent::Settled {
                items,
                run,
                job_id: None,
                ..
            } = *e
            else {
                return;
            };
            let policy = policy_words(&run.rule);
            let at = now_ms();
            this.record(items.iter().filter_map(|item| {
                AuditEntry::of_delete(
                    item,
                    random_id("aud"),
                    at,
                    Actor::ThisBrowser,
                    None,
                    Some(policy.clone()),
                )
            }));
        });
    }
}

/// The rule a run followed, in words.
fn policy_words(rule: &RunRule) -> String {
    match rule {
        RunRule::Policy { policies } => policies
            .iter()
            .map(|p| p.describe())
            .collect::<Vec<_>>()
            .join("; "),
        RunRule::Floor { .. } => HAND_PICKED.to_owned(),
    }
}
