//! The timeline section: the devbox's snapshots, a page at a time, with lineage.

use leptos::prelude::*;
use snapdeck_api::{Devbox, Snapshot};

use crate::components::icon::{Icon, IconKind};
use crate::components::{EmptyState, ErrorState, LoadPhase, Pager, Timeline};
use crate::hooks::use_devboxes::Devboxes;
use crate::lineage::{TimelineList, children_by_snapshot};
use crate::routes::{PAGE_SIZE, Page};

use super::origin::Origin;
use super::snapshots::SnapshotList;
/// Heading, timeline, pager and the "you are here" anchor.
#[component]
pub(super) fn TimelineSection(
    /// The devbox.
    devbox: Signal<Devbox>,
    /// Its snapshots, as they load.
    snapshots: SnapshotList,
    /// All devboxes (lineage).
    devboxes: Devboxes,
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
            (true, _) if total.get() == Some(0) => LoadPhase::Empty,
            (true, _) => LoadPhase::Ready,
            (false, Some(e)) => LoadPhase::Failed(e),
            (false, None) => LoadPhase::Loading,
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
            LoadPhase::Loading => view! { <div class="sd-skeleton" style="width:100%;height:120px"></div> }.into_any(),
            LoadPhase::Failed(e) => view! { <ErrorState error=e on_retry=reload /> }.into_any(),
            LoadPhase::Empty => {
                view! {
                    <EmptyState title="No snapshots yet.">
                        <p>"Take one with the Snapshot button above; it shows up here while it runs."</p>
                    </EmptyState>
                }
                    .into_any()
            }
            LoadPhase::Ready => {
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
