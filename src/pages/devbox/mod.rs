//! `/devboxes/:id?page=`: facts, actions (Snapshot, Suspend/Resume, Shutdown) and the
//! snapshot timeline with its lineage.

use leptos::prelude::*;

mod facts;
mod header;
mod origin;
mod skeleton;
mod snapshots;
mod storage;
mod timeline;

use self::facts::Facts;
use self::header::DevboxHeader;
use self::skeleton::DevboxSkeleton;
use self::snapshots::use_snapshot_list;
use self::storage::StorageSection;
use self::timeline::TimelineSection;

use crate::api::use_page_api;
use crate::components::{EmptyState, ErrorState, LoadPhase};
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_interval::use_interval;
use crate::hooks::use_nav::use_route;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::lineage::devbox_label;
use crate::routes::Page;

/// One devbox.
#[component]
pub fn DevboxPage() -> impl IntoView {
    let route = use_route(|p| match p {
        Page::Devbox { id, page } => Some((id.clone(), *page)),
        _ => None,
    });
    let id = Memo::new(move |_| route.with(|(id, _)| id.clone()));
    let page = Memo::new(move |_| route.with(|(_, page)| (*page).max(1)));
    let api = use_page_api();
    let version = use_refresh();

    let devbox = LocalResource::new(move || {
        let id = id.get();
        let _ = (api.track(), version.track());
        async move { api.get_devbox(&id).await }
    });
    // Started here, beside the devbox's own fetch, not when the timeline mounts.
    let snapshots = use_snapshot_list(id, page);
    // Lineage needs every devbox (which ones started from these snapshots).
    let devboxes = use_devboxes();

    // Views switch on the phase only; the devbox itself flows in as a signal, so a
    // refetch updates in place (open dialogs stay open).
    let state = Memo::new(move |_| match devbox.get() {
        None => LoadPhase::Loading,
        Some(Err(e)) => LoadPhase::Failed(e),
        Some(Ok(_)) => LoadPhase::Ready,
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
                LoadPhase::Loading | LoadPhase::Empty => view! { <DevboxSkeleton /> }.into_any(),
                LoadPhase::Failed(e) if e.is_not_found() => {
                    view! {
                        <EmptyState title="This devbox does not exist (or no longer does).">
                            <a class="sd-btn" href=Page::devboxes().href()>"Back to devboxes"</a>
                        </EmptyState>
                    }
                        .into_any()
                }
                LoadPhase::Failed(e) => view! { <ErrorState error=e on_retry=move |_| devbox.refetch() /> }.into_any(),
                LoadPhase::Ready => {
                    let Some(first) = latest.get_untracked() else {
                        return view! { <DevboxSkeleton /> }.into_any();
                    };
                    let d = Signal::derive(move || latest.get().unwrap_or_else(|| first.clone()));
                    view! {
                        <DevboxHeader devbox=d on_changed=Callback::new(move |_| devbox.refetch()) />
                        <div class="sd-devbox">
                            <Facts devbox=d />
                            <div class="sd-devbox__main">
                                <StorageSection devbox_id=id snapshots=snapshots />
                                <TimelineSection
                                    devbox=d
                                    snapshots=snapshots
                                    devboxes=devboxes
                                    page=page.into()
                                />
                                <crate::components::LineageSection focus=id />
                            </div>
                        </div>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
