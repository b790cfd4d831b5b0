//! `/devboxes/:id?page=`: facts, actions (Snapshot, Suspend/Resume, Shutdown) and the
//! snapshot timeline with its lineage.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use snapdeck_api::{Devbox, DevboxStatus, SnapshotStatus};

use crate::api::{ApiError, SnapshotFilter, api_message, use_api};
use crate::components::icon::{Icon, IconKind};
use crate::components::modal::ConfirmDialog;
use crate::components::{
    EmptyState, ErrorState, IdCell, Pager, Phase, RelTime, SnapshotDialog, StatusBadge, Timeline,
};
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::lineage::{children_by_snapshot, devbox_label, newest_first, snapshot_label};
use crate::pages::devboxes::SourceCell;
use crate::routes::{PAGE_SIZE, Page, SnapshotsQuery};

/// One devbox.
#[component]
pub fn DevboxPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let page = Memo::new(move |_| {
        query.with(|q| {
            q.get_str("page")
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1)
        })
    });
    let api = use_api();
    let version = use_refresh();

    let devbox = LocalResource::new(move || {
        let id = id.get();
        let _ = (api.track(), version.track());
        async move { api.get_devbox(&id).await }
    });
    let snapshots = LocalResource::new(move || {
        let id = id.get();
        let _ = (api.track(), version.track());
        async move {
            let filter = SnapshotFilter {
                devbox_id: Some(id),
                ..Default::default()
            };
            api.list_snapshots(&filter).await.map(newest_first)
        }
    });
    // Lineage needs every devbox (which ones started from these snapshots).
    let devboxes = LocalResource::new(move || {
        let _ = (api.track(), version.track());
        async move { api.list_devboxes().await }
    });

    // Views switch on the phase only; the devbox itself flows in as a signal, so a
    // refetch updates in place (open dialogs stay open).
    let state = Memo::new(move |_| match devbox.get() {
        None => Phase::Loading,
        Some(Err(e)) => Phase::Failed(e),
        Some(Ok(_)) => Phase::Ready,
    });
    let latest = Memo::new(move |_| devbox.get().and_then(Result::ok));
    use_title(move || match devbox.get() {
        Some(Ok(d)) => devbox_label(&d),
        _ => id.get(),
    });

    // Follow a devbox that is changing state.
    use_interval(2000, move || {
        let moving =
            devbox.with_untracked(|d| matches!(d, Some(Ok(d)) if d.status.is_transitional()));
        if moving {
            devbox.refetch();
        }
    });

    view! {
        <section class="sd-page">
            <a class="sd-back" href=Page::devboxes().href()>"← Devboxes"</a>
            {move || match state.get() {
                Phase::Loading | Phase::Empty => view! { <DevboxSkeleton /> }.into_any(),
                Phase::Failed(e) if e.is_not_found() => {
                    view! {
                        <EmptyState title="This devbox does not exist (or no longer does).">
                            <a class="sd-btn" href=Page::devboxes().href()>"Back to devboxes"</a>
                        </EmptyState>
                    }
                        .into_any()
                }
                Phase::Failed(e) => view! { <ErrorState error=e on_retry=move |_| devbox.refetch() /> }.into_any(),
                Phase::Ready => {
                    let Some(first) = latest.get_untracked() else {
                        return view! { <DevboxSkeleton /> }.into_any();
                    };
                    let d = Signal::derive(move || latest.get().unwrap_or_else(|| first.clone()));
                    view! {
                        <DevboxHeader devbox=d on_changed=Callback::new(move |_| devbox.refetch()) />
                        <div class="sd-devbox">
                            <Facts devbox=d />
                            <div class="sd-devbox__main">
                                <TimelineSection
                                    devbox=d
                                    snapshots=snapshots
                                    devboxes=devboxes
                                    page=page.into()
                                />
                            </div>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// Placeholder while the devbox loads.
#[component]
fn DevboxSkeleton() -> impl IntoView {
    view! {
        <div class="sd-pagehead" aria-busy="true">
            <span class="sd-skeleton" style="width:240px;height:22px"></span>
        </div>
        <div class="sd-devbox">
            <div class="sd-facts">
                {(0..5).map(|_| view! { <span class="sd-skeleton" style="width:80%;margin:8px 0"></span> }).collect_view()}
            </div>
            <div class="sd-devbox__main">
                {(0..4).map(|_| view! { <div class="sd-skeleton" style="width:100%;height:44px;margin-bottom:12px"></div> }).collect_view()}
            </div>
        </div>
    }
}

/// Name, id, status and the actions.
#[component]
fn DevboxHeader(
    /// The devbox.
    devbox: Signal<Devbox>,
    /// Something changed it (refetch).
    on_changed: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let snapshot_open = RwSignal::new(false);
    let shutdown_open = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let status = Signal::derive(move || devbox.with(|d| d.status));

    let run = move |what: &'static str| {
        let id = devbox.with_untracked(|d| d.id.clone());
        busy.set(true);
        spawn_local(async move {
            let r = match what {
                "suspend" => api.suspend(&id).await,
                _ => api.resume(&id).await,
            };
            busy.set(false);
            match r {
                Ok(_) => toasts.push(Tone::Info, format!("{} requested.", capitalize(what))),
                Err(e) => toasts.push(Tone::Err, format!("Could not {what}: {}", api_message(&e))),
            }
            on_changed.run(());
        });
    };

    view! {
        <div class="sd-pagehead sd-devbox__head">
            <div class="sd-devbox__title">
                <h1 class="sd-h1">{move || devbox.with(devbox_label)}</h1>
                {move || view! { <IdCell id=devbox.with(|d| d.id.clone()) /> }}
                <StatusBadge status=status />
            </div>
            <div class="sd-row sd-devbox__actions">
                <button
                    type="button"
                    class="sd-btn sd-btn--primary"
                    disabled=move || status.get() != DevboxStatus::Running
                    title=move || {
                        if status.get() == DevboxStatus::Running {
                            "Take a disk snapshot".to_string()
                        } else {
                            format!("Only a running devbox can be snapshotted (this one is {})", status.get())
                        }
                    }
                    on:click=move |_| snapshot_open.set(true)
                >
                    <Icon kind=IconKind::Camera />
                    "Snapshot"
                </button>
                {move || match status.get() {
                    DevboxStatus::Running => {
                        view! {
                            <button type="button" class="sd-btn" disabled=move || busy.get() on:click=move |_| run("suspend")>
                                "Suspend"
                            </button>
                        }
                            .into_any()
                    }
                    DevboxStatus::Suspended => {
                        view! {
                            <button type="button" class="sd-btn" disabled=move || busy.get() on:click=move |_| run("resume")>
                                "Resume"
                            </button>
                        }
                            .into_any()
                    }
                    _ => ().into_any(),
                }}
                <button
                    type="button"
                    class="sd-btn sd-btn--ghost sd-btn--dangertext"
                    disabled=move || status.get().is_final()
                    on:click=move |_| shutdown_open.set(true)
                >
                    "Shut down"
                </button>
            </div>
        </div>
        <Show when=move || snapshot_open.get()>
            <SnapshotDialog devbox=devbox.get_untracked() on_close=move |_| snapshot_open.set(false) />
        </Show>
        <Show when=move || shutdown_open.get()>
            <ShutdownDialog
                devbox=devbox.get_untracked()
                on_close=move |_| shutdown_open.set(false)
                on_done=on_changed
            />
        </Show>
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Shutdown confirmation. A 409 (a snapshot still running) is explained, with the
/// option to force.
#[component]
fn ShutdownDialog(
    /// The devbox.
    devbox: Devbox,
    /// Closes the dialog.
    #[prop(into)]
    on_close: Callback<()>,
    /// The shutdown went through.
    on_done: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let conflict = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let label = devbox_label(&devbox);
    let id = devbox.id.clone();
    let confirm = move |_| {
        let force = conflict.get_untracked().is_some();
        busy.set(true);
        let id = id.clone();
        spawn_local(async move {
            match api.shutdown(&id, force).await {
                Ok(_) => {
                    toasts.push(Tone::Ok, "Shutdown requested.");
                    on_done.run(());
                    on_close.run(());
                }
                Err(e) if e.is_conflict() => {
                    busy.set(false);
                    conflict.set(Some(api_message(&e)));
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e.to_string()));
                }
            }
        });
    };
    let confirm_label = Signal::derive(move || {
        if conflict.get().is_some() {
            "Force shutdown".to_string()
        } else {
            "Shut down".to_string()
        }
    });
    view! {
        <ConfirmDialog
            title=format!("Shut down “{label}”?")
            confirm_label=confirm_label
            busy=busy
            on_confirm=confirm
            on_close=on_close
        >
            <p>"The devbox stops for good and its disk is discarded. Its snapshots stay, and you can restore any of them into a new devbox."</p>
            {move || {
                conflict
                    .get()
                    .map(|m| {
                        view! {
                            <div class="sd-callout sd-callout--warn" role="alert" data-testid="shutdown-409">
                                <p>
                                    <strong>"A snapshot of this devbox is still in progress"</strong>
                                    " (the API answered 409: " {m} ")."
                                </p>
                                <p>
                                    "Wait for it to finish (watch it in Operations or the timeline), or force the shutdown — the unfinished snapshot will probably end in error."
                                </p>
                            </div>
                        }
                    })
            }}
            {move || error.get().map(|e| view! { <p class="sd-formerror" role="alert">{e}</p> })}
        </ConfirmDialog>
    }
}

/// The facts column.
#[component]
fn Facts(
    /// The devbox.
    devbox: Signal<Devbox>,
) -> impl IntoView {
    view! {
        <aside class="sd-facts" aria-label="Devbox facts">
            {move || {
                let d = devbox.get();
                let lp = d.launch_parameters.clone();
                let size = lp.resource_size_request.clone().unwrap_or_else(|| "default".into());
                let arch = lp.architecture.clone().unwrap_or_else(|| "x86_64".into());
                let meta: Vec<(String, String)> = d.metadata.clone().into_iter().collect();
                view! {
                    <dl class="sd-dl">
                        <dt>"Status"</dt>
                        <dd><StatusBadge status=Signal::stored(d.status) /></dd>
                        <dt>"Created"</dt>
                        <dd><RelTime ms=d.create_time_ms /></dd>
                        <dt>"Source"</dt>
                        <dd><SourceCell devbox=d.clone() /></dd>
                        <dt>"Launch"</dt>
                        <dd class="sd-mono">{format!("{size} · {arch}")}</dd>
                        {d.end_time_ms.map(|t| view! { <dt>"Ended"</dt><dd><RelTime ms=t /></dd> })}
                        {d.failure_reason.map(|r| view! { <dt>"Failure"</dt><dd class="sd-errtext">{format!("{r:?}")}</dd> })}
                        <dt class="sd-dl__wide">"Metadata"</dt>
                        <dd class="sd-dl__wide">
                            {if meta.is_empty() {
                                view! { <span class="sd-muted">"none"</span> }.into_any()
                            } else {
                                view! {
                                    <ul class="sd-meta">
                                        {meta.into_iter().map(|(k, v)| view! { <li class="sd-meta__chip"><span class="sd-meta__k">{k}</span>"="<span>{v}</span></li> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </dd>
                    </dl>
                    <a class="sd-btn sd-btn--ghost sd-btn--sm" href=Page::Cleanup(crate::routes::CleanupQuery { devbox: Some(d.id.clone()), ..Default::default() }).href()>
                        "Clean up this devbox's snapshots…"
                    </a>
                }
            }}
        </aside>
    }
}

/// Heading, timeline, pager and the "you are here" anchor.
#[component]
fn TimelineSection(
    /// The devbox.
    devbox: Signal<Devbox>,
    /// Its snapshots.
    snapshots: LocalResource<Result<Vec<snapdeck_api::Snapshot>, ApiError>>,
    /// All devboxes (lineage).
    devboxes: LocalResource<Result<Vec<Devbox>, ApiError>>,
    /// Page of the timeline.
    page: Signal<usize>,
) -> impl IntoView {
    let list = Signal::derive(move || snapshots.get().and_then(Result::ok).unwrap_or_default());
    let children = Signal::derive(move || {
        devboxes.with(|r| match r {
            Some(Ok(all)) => children_by_snapshot(all),
            _ => Default::default(),
        })
    });
    let total = Signal::derive(move || list.with(Vec::len));
    let phase = Memo::new(move |_| snapshots.with(|r| Phase::of_list(r.as_ref())));
    let id = move || devbox.with(|d| d.id.clone());
    let page_href = Callback::new(move |p: usize| Page::Devbox { id: id(), page: p }.href());
    let last_page = move || page.get() >= total.get().div_ceil(PAGE_SIZE).max(1);

    view! {
        <div class="sd-section-head">
            <h2 class="sd-h2">"Snapshots"</h2>
            <span class="sd-muted">{move || format!("{} total, newest first", total.get())}</span>
        </div>
        {move || match phase.get() {
            Phase::Loading => view! { <div class="sd-skeleton" style="width:100%;height:120px"></div> }.into_any(),
            Phase::Failed(e) => view! { <ErrorState error=e on_retry=move |_| snapshots.refetch() /> }.into_any(),
            Phase::Empty => {
                view! {
                    <EmptyState title="No snapshots yet.">
                        <p>"Take one with the Snapshot button above; it shows up here while it runs."</p>
                    </EmptyState>
                }
                    .into_any()
            }
            Phase::Ready => {
                view! {
                    <Timeline devbox=devbox snapshots=list children=children page=page />
                    <Pager page=page per_page=PAGE_SIZE total=total href=page_href noun="snapshots" />
                }
                    .into_any()
            }
        }}
        <Show when=last_page>
            <Origin devbox=devbox />
        </Show>
    }
}

/// "You are here": where this devbox came from.
#[component]
fn Origin(
    /// The devbox.
    devbox: Signal<Devbox>,
) -> impl IntoView {
    let api = use_api();
    let source = LocalResource::new(move || {
        let snap = devbox.with(|d| d.snapshot_id.clone());
        async move {
            match snap {
                Some(id) => api.snapshot_status(&id).await.ok().map(|v| (id, v)),
                None => None,
            }
        }
    });
    view! {
        <div class="sd-origin" data-testid="origin">
            <span class="sd-origin__marker" aria-hidden="true">"▲"</span>
            <span>
                <strong>"You are here: "</strong>
                {move || {
                    let d = devbox.get();
                    match (d.snapshot_id.clone(), d.blueprint_id.clone()) {
                        (Some(sid), _) => {
                            let found = source.get().flatten();
                            let (label, from) = match &found {
                                Some((_, v)) => match &v.snapshot {
                                    Some(s) => (snapshot_label(s), Some(s.source_devbox_id.clone())),
                                    None if v.status == SnapshotStatus::Deleted => (format!("{sid} (deleted)"), None),
                                    None => (sid.clone(), None),
                                },
                                None => (sid.clone(), None),
                            };
                            view! {
                                "this devbox started from snapshot "
                                <a href=Page::Snapshots(SnapshotsQuery { q: sid.clone(), page: 1, ..Default::default() }).href()>
                                    "“" {label} "”"
                                </a>
                                {from.map(|f| view! { " of " <a class="sd-mono" href=Page::devbox(&f).href()>{crate::fmt::middle_truncate(&f)}</a> })}
                            }
                                .into_any()
                        }
                        (None, Some(bp)) => view! { "this devbox started from blueprint " <code>{bp}</code> }.into_any(),
                        (None, None) => view! { "this devbox started from the default image" }.into_any(),
                    }
                }}
            </span>
        </div>
    }
}
