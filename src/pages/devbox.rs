//! `/devboxes/:id?page=`: facts, actions (Snapshot, Suspend/Resume, Shutdown) and the
//! snapshot timeline with its lineage.

use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Devbox, DevboxStatus, Snapshot, SnapshotStatus};

use crate::api::{ApiError, api_message, use_api};
use crate::components::icon::{Icon, IconKind};
use crate::components::modal::ConfirmDialog;
use crate::components::timeline::after_paint;
use crate::components::{
    EmptyState, ErrorState, IdCell, Pager, Phase, RelTime, SnapshotDialog, StatusBadge, Timeline,
};
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_nav::use_route;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::lineage::{TimelineList, children_by_snapshot, devbox_label, snapshot_label};
use crate::pages::devboxes::SourceCell;
use crate::routes::{PAGE_SIZE, Page, SnapshotsQuery};

/// One devbox.
#[component]
pub fn DevboxPage() -> impl IntoView {
    let route = use_route(|p| match p {
        Page::Devbox { id, page } => Some((id.clone(), *page)),
        _ => None,
    });
    let id = Memo::new(move |_| route.with(|(id, _)| id.clone()));
    let page = Memo::new(move |_| route.with(|(_, page)| (*page).max(1)));
    let api = use_api();
    let version = use_refresh();

    let devbox = LocalResource::new(move || {
        let id = id.get();
        let _ = (api.track(), version.track());
        async move { api.get_devbox(&id).await }
    });
    // Started here, beside the devbox's own fetch, not when the timeline mounts.
    let snapshots = use_snapshot_list(id, page);
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

/// The most snapshots one list request may ask for (the API's cap).
const LIST_MAX: usize = 5000;

/// A devbox's snapshots as they load, newest first: the timeline shows a page as soon
/// as the list pages that decide it are in, while the rest loads in the background.
#[derive(Debug, Clone, Copy)]
struct SnapshotList {
    list: RwSignal<TimelineList>,
    /// Why the last load stopped early.
    error: RwSignal<Option<ApiError>>,
    /// Bumped to load again.
    retry: RwSignal<u32>,
}

/// Loads the snapshots of devbox `id` list page after list page, and again when the id,
/// the API settings or the data version change. The first request asks for just enough
/// to show the page in the URL (page 1: 100 snapshots, ~20 KB), the rest comes in the
/// largest pages the API allows. A reload keeps the old list on screen until the new
/// one can show the current page, so a pin or a delete does not flash a skeleton.
fn use_snapshot_list(id: Memo<String>, page: Memo<usize>) -> SnapshotList {
    let api = use_api();
    let version = use_refresh();
    let this = SnapshotList {
        list: RwSignal::new(TimelineList::new()),
        error: RwSignal::new(None),
        retry: RwSignal::new(0),
    };
    // Each load has a number; one that is no longer the latest stops at its next step.
    let latest = StoredValue::new(0u64);
    Effect::new(move |prev: Option<String>| {
        let id = id.get();
        let _ = (api.track(), version.track(), this.retry.get());
        if prev.as_ref() != Some(&id) {
            this.list.set(TimelineList::new());
        }
        this.error.set(None);
        let run = latest.get_value() + 1;
        latest.set_value(run);
        let first = ((page.get_untracked() + 1) * PAGE_SIZE).min(LIST_MAX);
        let devbox_id = id.clone();
        spawn_local(async move {
            let mut pending = Some(TimelineList::new());
            let (mut cursor, mut limit) = (None, first);
            loop {
                let r = api
                    .snapshot_page(&devbox_id, cursor.clone(), limit as u32)
                    .await;
                if latest.try_get_value() != Some(run) {
                    return;
                }
                let got = match r {
                    Ok(got) => got,
                    Err(e) => {
                        this.error.set(Some(e));
                        return;
                    }
                };
                let last = got.items.last().map(|s| s.id.clone());
                // Defensive, as `Client::paginate`: stop when the cursor would not move.
                let more = got.has_more && last.is_some() && last != cursor;
                if let Some(next) = pending.as_mut() {
                    next.push_page(got.items, more, got.total_count);
                    let ready = |l: &mut TimelineList| {
                        !more || l.page(page.get_untracked(), PAGE_SIZE).is_some()
                    };
                    if let Some(next) = pending.take_if(ready) {
                        this.list.set(next);
                        // Let the page paint before the next (large) list page can
                        // arrive and be decoded.
                        let (painted, wait) = futures::channel::oneshot::channel();
                        after_paint(Box::new(move || {
                            let _ = painted.send(());
                        }));
                        let _ = wait.await;
                    }
                } else {
                    this.list
                        .update(|l| l.push_page(got.items, more, got.total_count));
                }
                if !more {
                    return;
                }
                (cursor, limit) = (last, LIST_MAX);
            }
        });
        id
    });
    this
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
    /// Its snapshots, as they load.
    snapshots: SnapshotList,
    /// All devboxes (lineage).
    devboxes: LocalResource<Result<Vec<Devbox>, ApiError>>,
    /// Page of the timeline.
    page: Signal<usize>,
) -> impl IntoView {
    let SnapshotList { list, error, retry } = snapshots;
    let total = Memo::new(move |_| list.with(TimelineList::total));
    let pages = move || total.get().map(|t| t.div_ceil(PAGE_SIZE).max(1));
    // As the pager shows it: a page past the end is the last page.
    let page = Memo::new(move |_| pages().map_or(page.get(), |n| page.get().min(n)));
    // Only the page on screen is copied out of the (possibly 10 000-long) list; `None`
    // while the list pages that decide it are still loading.
    let visible =
        Memo::new(move |_| list.with(|l| l.page(page.get(), PAGE_SIZE).map(<[Snapshot]>::to_vec)));
    let children = Memo::new(move |_| {
        devboxes.with(|r| match r {
            Some(Ok(all)) => {
                visible.with(|v| children_by_snapshot(all, v.as_deref().unwrap_or_default()))
            }
            _ => Default::default(),
        })
    });
    let phase = Memo::new(
        move |_| match (visible.with(Option::is_some), error.get()) {
            (true, _) if total.get() == Some(0) => Phase::Empty,
            (true, _) => Phase::Ready,
            (false, Some(e)) => Phase::Failed(e),
            (false, None) => Phase::Loading,
        },
    );
    let reload = move |_| retry.update(|n| *n += 1);
    let id = move || devbox.with(|d| d.id.clone());
    let page_href = Callback::new(move |p: usize| Page::Devbox { id: id(), page: p }.href());
    let last_page = move || pages().is_some_and(|n| page.get() >= n);
    let summary = move || match total.get() {
        Some(t) => format!("{t} total, newest first"),
        None => "newest first".to_string(),
    };
    // While the rest of the list loads (page 1 is already on screen).
    let progress = move || {
        let (loaded, done) = list.with(|l| (l.loaded(), l.is_complete()));
        (loaded > 0 && !done && error.with(Option::is_none)).then(|| {
            let of = total
                .get()
                .map_or_else(|| "…".to_string(), |t| format!(" of {t}…"));
            view! {
                <span class="sd-muted" role="status" data-testid="timeline-loading">
                    <Icon kind=IconKind::Spinner />
                    {format!(" loading {loaded}{of}")}
                </span>
            }
        })
    };

    view! {
        <div class="sd-section-head">
            <h2 class="sd-h2">"Snapshots"</h2>
            <span class="sd-muted">{summary}</span>
            {progress}
        </div>
        {move || match phase.get() {
            Phase::Loading => view! { <div class="sd-skeleton" style="width:100%;height:120px"></div> }.into_any(),
            Phase::Failed(e) => view! { <ErrorState error=e on_retry=reload /> }.into_any(),
            Phase::Empty => {
                view! {
                    <EmptyState title="No snapshots yet.">
                        <p>"Take one with the Snapshot button above; it shows up here while it runs."</p>
                    </EmptyState>
                }
                    .into_any()
            }
            Phase::Ready => {
                let shown = Signal::derive(move || visible.get().unwrap_or_default());
                let total = Signal::derive(move || total.get().unwrap_or_else(|| list.with(TimelineList::loaded)));
                view! {
                    <Timeline devbox=devbox snapshots=shown children=children />
                    <Pager page=page per_page=PAGE_SIZE total=total href=page_href noun="snapshots" />
                    // The page is on screen but the rest of the list did not load.
                    {move || error.get().map(|e| view! { <ErrorState error=e on_retry=reload /> })}
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
