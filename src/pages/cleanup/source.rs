//! Where the Cleanup page's plan comes from, behind one [`PlanSource`]:
//!
//! - **A plan job** when a snapdeck server or the edge is in between (`/healthz` says
//!   jobs are there): the server lists the scope, learns every status at server speed
//!   (terminal ones from its cache) and computes the plan; the tab polls the job.
//! - **In the tab** otherwise (direct mode): every snapshot in scope is listed, its
//!   status fetched (final ones from the cache, four at a time), and snapdeck-core's
//!   retention planner runs over them as statuses arrive.
//!
//! Either way the plan is snapdeck-core's; the page cannot tell which one it read.

use std::collections::BTreeMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Snapshot, SnapshotStatus};
use snapdeck_core::jobs::{Job, JobSpec, NewJob};
use snapdeck_core::retention::{self, CleanupPlan, RetentionPolicy, Scope};

use crate::api::{ApiConfig, ApiError, JobEvent, SnapshotFilter, use_page_api};
use crate::components::LoadPhase;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_now::now_ms;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_statuses::use_visible_statuses;
use crate::services::bulk_runs::{client_id, random_id};

/// A plan, and how far it is.
#[derive(Clone, Copy)]
pub(super) struct PlanSource {
    /// Loading, failed, empty (nothing in scope) or ready.
    pub phase: Memo<LoadPhase>,
    /// Snapshots in scope.
    pub total: Signal<usize>,
    /// The policy applied to them (unknown statuses kept). Only a `current` plan may be
    /// confirmed.
    pub plan: Memo<CleanupPlan>,
    /// Whether `plan` is the current policy's, with every status known.
    pub current: Signal<bool>,
    /// Statuses still being learned.
    pub unknown: Signal<usize>,
    /// Loads again (the error's Retry).
    pub retry: Callback<()>,
    /// The server's plan job behind `plan` (a run confirmed from it is held to it
    /// there); `None` for the tab's own plan.
    pub plan_job: Signal<Option<String>>,
}

/// The plan of `policy` over its scope: a plan job when the server has jobs, the tab's
/// own otherwise.
pub(super) fn use_plan_source(policy: Memo<RetentionPolicy>) -> PlanSource {
    let api = use_page_api();
    let mode = LocalResource::new(move || {
        let _config = api.track();
        async move { api.jobs_available().await }
    });
    let on_server = Signal::derive(move || mode.get() == Some(true));
    let in_tab = Signal::derive(move || mode.get() == Some(false));
    let scope = Memo::new(move |_| policy.with(|p| p.scope.clone()));
    let tab = use_tab_plan(policy, scope, in_tab);
    let job = use_job_plan(policy, on_server);
    let pick = move || if on_server.get() { job } else { tab };
    PlanSource {
        phase: Memo::new(move |_| match mode.get() {
            None => LoadPhase::Loading,
            Some(_) => pick().phase.get(),
        }),
        total: Signal::derive(move || pick().total.get()),
        plan: Memo::new(move |_| pick().plan.get()),
        current: Signal::derive(move || mode.get().is_some() && pick().current.get()),
        unknown: Signal::derive(move || pick().unknown.get()),
        retry: Callback::new(move |_| pick().retry.run(())),
        plan_job: Signal::derive(move || pick().plan_job.get()),
    }
}

/// The tab's own plan (only while `enabled`).
fn use_tab_plan(
    policy: Memo<RetentionPolicy>,
    scope: Memo<Scope>,
    enabled: Signal<bool>,
) -> PlanSource {
    let api = use_page_api();
    let version = use_refresh();
    // Each answer says which scope it lists (`None`: not this page's source yet, so
    // nothing was listed). A resource shows its last answer while the next one loads:
    // only an answer for the scope asked now is the list, never an earlier one's.
    let snapshots = LocalResource::new(move || {
        let _config = api.track();
        let _v = version.track();
        let on = enabled.get();
        let scope = scope.get();
        let filter = SnapshotFilter {
            devbox_id: scope.devbox().map(str::to_owned),
            blueprint_id: scope.blueprint().map(str::to_owned),
            ..Default::default()
        };
        async move {
            if !on {
                return (None, Ok(Vec::new()));
            }
            (Some(scope), api.list_snapshots(&filter).await)
        }
    });
    let answer = move || {
        let now = Some(scope.get());
        snapshots.with(|r| match r {
            Some((scope, list)) if *scope == now => Some(list.clone()),
            _ => None,
        })
    };
    let listed: Memo<Option<Result<Vec<Snapshot>, ApiError>>> = Memo::new(move |_| answer());
    let all: Memo<Vec<Snapshot>> = Memo::new(move |_| {
        listed.with(|r| match r {
            Some(Ok(l)) => l.clone(),
            _ => Vec::new(),
        })
    });
    // Every snapshot in scope needs its status for the plan (final ones are cached).
    let ids =
        Signal::derive(move || all.with(|l| l.iter().map(|s| s.id.clone()).collect::<Vec<_>>()));
    let statuses = use_visible_statuses(ids);
    // The statuses the plan uses. Sampled (on a new list, then a few times a second)
    // rather than tracked: with thousands of snapshots arriving one status at a time,
    // replanning and redrawing on each would cost more than the fetching.
    let status_map = RwSignal::new(BTreeMap::<String, SnapshotStatus>::new());
    let sample = move || {
        let m = untrack(|| {
            all.with(|l| {
                l.iter()
                    .filter_map(|s| statuses.status(&s.id).map(|st| (s.id.clone(), st)))
                    .collect::<BTreeMap<_, _>>()
            })
        });
        if status_map.with_untracked(|cur| *cur != m) {
            status_map.set(m);
        }
    };
    Effect::new(move |_| {
        all.track();
        sample();
    });
    use_interval(300, sample);
    let unknown = Signal::derive(move || {
        all.with(Vec::len)
            .saturating_sub(status_map.with(BTreeMap::len))
    });
    let plan = Memo::new(move |_| {
        let p = policy.get();
        all.with(|l| status_map.with(|m| retention::plan(&p, l, m, now_ms())))
    });
    PlanSource {
        phase: Memo::new(move |_| listed.with(|r| LoadPhase::of_list(r.as_ref()))),
        total: Signal::derive(move || all.with(Vec::len)),
        plan,
        current: Signal::derive(move || {
            listed.with(|r| matches!(r, Some(Ok(_)))) && unknown.get() == 0
        }),
        unknown,
        retry: Callback::new(move |_| snapshots.refetch()),
        plan_job: Signal::derive(|| None),
    }
}

/// How often a plan job is read while it runs (ms), and how long a policy edit settles
/// before it is planned (a number typed digit by digit plans once).
const PLAN_POLL_MS: u64 = 100;
const PLAN_SETTLE_MS: u64 = 200;

/// The plan as a job on the server (only while `enabled`): created for each policy,
/// followed until it has its plan. The last plan stays on screen while the next one
/// computes, marked not current (so it cannot be confirmed).
fn use_job_plan(policy: Memo<RetentionPolicy>, enabled: Signal<bool>) -> PlanSource {
    let api = use_page_api();
    let version = use_refresh();
    let job = RwSignal::new(None::<Job>);
    let error = RwSignal::new(None::<ApiError>);
    let again = RwSignal::new(0u32);
    let generation = StoredValue::new(0u64);
    // What the last job was created for: the same inputs again (an effect re-run by a
    // signal that did not change them) plan nothing new, so the server does not compute
    // the same plan twice at once.
    let asked = StoredValue::new(None::<(RetentionPolicy, u64, u32, ApiConfig)>);
    Effect::new(move |_| {
        let (p, on) = (policy.get(), enabled.get());
        let inputs = (p.clone(), version.track(), again.get(), api.track());
        if !on || asked.with_value(|a| a.as_ref() == Some(&inputs)) {
            return;
        }
        asked.set_value(Some(inputs));
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let stale = move || generation.try_get_value() != Some(mine);
        // The first plan goes at once; later ones wait for an edit to settle.
        let settle = job.with_untracked(Option::is_some) || error.with_untracked(Option::is_some);
        spawn_local(async move {
            if settle {
                gloo_timers::future::sleep(Duration::from_millis(PLAN_SETTLE_MS)).await;
            }
            if stale() {
                return;
            }
            let new = NewJob {
                request_id: random_id("plan"),
                client_id: Some(client_id()),
                spec: JobSpec::Plan { policy: p },
            };
            let mut answer = api.create_job(new).await;
            // Followed live where the server streams events; read every
            // PLAN_POLL_MS otherwise, or once the stream is over.
            let mut followed = false;
            // A plan superseded by a newer one is of no use: the server stops it.
            let drop_stale = move |id: String| {
                spawn_local(async move {
                    let _ = api.cancel_job(&id).await;
                });
            };
            loop {
                if stale() {
                    if let Ok(j) = &answer
                        && !j.summary.status.is_terminal()
                    {
                        drop_stale(j.summary.id.clone());
                    }
                    return;
                }
                match answer {
                    Err(e) => {
                        error.set(Some(e));
                        return;
                    }
                    Ok(j) => {
                        let id = j.summary.id.clone();
                        let over = j.summary.status.is_terminal();
                        // A job that failed says why in its summary (the server's words).
                        let failed = j.summary.error.clone().filter(|_| j.plan.is_none());
                        error.set(failed.map(|message| ApiError::Api {
                            status: 500,
                            message: format!("the plan job failed: {message}"),
                        }));
                        job.set(Some(j));
                        if over {
                            return;
                        }
                        if !std::mem::replace(&mut followed, true)
                            && let Some(mut follow) = api.follow_job(&id).await
                        {
                            while let Some(event) = follow.next().await {
                                if stale() {
                                    drop_stale(id);
                                    return;
                                }
                                if let JobEvent::Summary(s) = event {
                                    let over = s.status.is_terminal();
                                    job.update(|j| {
                                        if let Some(j) = j {
                                            j.summary = s;
                                        }
                                    });
                                    if over {
                                        break;
                                    }
                                }
                            }
                        } else {
                            gloo_timers::future::sleep(Duration::from_millis(PLAN_POLL_MS)).await;
                        }
                        answer = api.get_job(&id).await;
                    }
                }
            }
        });
    });
    let plan = Memo::new(move |_| {
        job.with(|j| j.as_ref().and_then(|j| j.plan.clone()))
            .unwrap_or_else(|| retention::plan(&policy.get(), &[], &BTreeMap::new(), now_ms()))
    });
    let current = Signal::derive(move || {
        job.with(|j| {
            j.as_ref().is_some_and(|j| {
                j.summary.status.is_terminal()
                    && j.plan
                        .as_ref()
                        .is_some_and(|p| policy.with(|now| p.policy == *now))
            })
        })
    });
    PlanSource {
        phase: Memo::new(move |_| {
            match (
                error.get(),
                job.with(|j| {
                    j.as_ref()
                        .map(|j| j.plan.as_ref().map(|p| p.items.is_empty()))
                }),
            ) {
                (Some(e), _) => LoadPhase::Failed(e),
                (None, None | Some(None)) => LoadPhase::Loading,
                (None, Some(Some(true))) => LoadPhase::Empty,
                (None, Some(Some(false))) => LoadPhase::Ready,
            }
        }),
        total: Signal::derive(move || {
            job.with(|j| match j {
                Some(j) => j
                    .plan
                    .as_ref()
                    .map_or(j.summary.progress.total, |p| p.items.len()),
                None => 0,
            })
        }),
        plan,
        current,
        unknown: Signal::derive(move || {
            job.with(|j| match j {
                Some(j) if j.plan.is_none() => {
                    let p = &j.summary.progress;
                    p.total.saturating_sub(p.done + p.cached)
                }
                _ => 0,
            })
        }),
        retry: Callback::new(move |_| again.update(|n| *n += 1)),
        plan_job: Signal::derive(move || {
            job.with(|j| {
                j.as_ref()
                    .filter(|j| j.plan.is_some())
                    .map(|j| j.summary.id.clone())
            })
        }),
    }
}
