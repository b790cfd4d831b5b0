//! The one provider setup. The full dashboard and every embed call
//! [`AppContext::provide`] once, at their root; hooks read what it installed with
//! `expect_context`, so a component mounted without it fails loudly in development
//! instead of showing a page that looks fine and does nothing.

use leptos::prelude::*;

use crate::api::{Api, provide_api};
use crate::events::{self, EventHost};
use crate::hooks::use_devboxes::{Devboxes, provide_devboxes};
use crate::hooks::use_now::provide_now;
use crate::hooks::use_refresh::{DataVersion, provide_refresh};
use crate::hooks::use_settings::SettingsCtx;
use crate::hooks::use_statuses::{Statuses, provide_statuses};
use crate::hooks::use_toasts::{Toasts, provide_toasts};
use crate::services::audit::provide_audit;
use crate::services::bulk_runs;
use crate::services::ops::{Ops, provide_ops};
use crate::services::run_events::{self, RunEvents};
use crate::services::seen::provide_seen;

/// Everything app-wide, installed under one owner.
#[derive(Clone, Copy)]
pub struct AppContext {
    pub settings: SettingsCtx,
    pub api: Api,
    pub toasts: Toasts,
    pub statuses: Statuses,
    pub version: DataVersion,
    pub devboxes: Devboxes,
    pub ops: Ops,
    pub runs: RunEvents,
}

/// How the app is mounted.
pub struct Mount {
    /// Where host-page events go (an embed's element); `None`: the dashboard's root.
    pub events_on: Option<web_sys::Element>,
    /// Picks up snapshots and restores left running by a reload (one app per page
    /// does: every app on the origin shares the stored operations list).
    pub resume_ops: bool,
}

impl AppContext {
    /// Installs settings, the API, the clock, toasts, the status cache, the data
    /// version, the devbox list, the operations list and the bulk runs' event stream (with its
    /// subscribers), and forwards finished operations to the host page as DOM events.
    pub fn provide(settings: SettingsCtx, mount: Mount) -> Self {
        provide_context(settings);
        let api = provide_api(settings);
        provide_now();
        let toasts = provide_toasts();
        let statuses = provide_statuses(api);
        let version = provide_refresh();
        let devboxes = provide_devboxes(api, version);
        let audit = provide_audit();
        let seen = provide_seen();
        let ops = provide_ops(api, statuses, seen, version, toasts, audit);
        crate::pages::fanout::launch::provide_notes();
        if let Some(el) = mount.events_on {
            EventHost::provide(el);
        }
        if mount.resume_ops {
            ops.resume();
        }
        events::forward_ops(ops);
        // Bulk runs report through one stream; each part of the app subscribes once.
        let runs = RunEvents::new();
        provide_context(runs);
        statuses.follow_runs(runs);
        audit.follow_runs(runs);
        ops.follow_runs(runs);
        events::forward_runs(runs);
        run_events::report(runs, toasts, version);
        run_events::notify_when_hidden(runs, settings);
        if mount.resume_ops {
            bulk_runs::resume_all(api, runs);
        }
        let ctx = Self {
            settings,
            api,
            toasts,
            statuses,
            version,
            devboxes,
            ops,
            runs,
        };
        provide_context(ctx);
        ctx
    }
}

/// The app context (see the module doc).
pub fn use_app() -> AppContext {
    expect_context::<AppContext>()
}
