//! Where a devbox came from (blueprint, snapshot).

use leptos::prelude::*;
use snapdeck_api::{Devbox, SnapshotStatus};

use crate::api::use_page_api;
use crate::lineage::snapshot_label;
use crate::routes::Page;

/// "You are here": where this devbox came from.
#[component]
pub(super) fn Origin(
    /// The devbox.
    devbox: Signal<Devbox>,
) -> impl IntoView {
    let api = use_page_api();
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
                                <a href=Page::snapshot(&sid).href()>
                                    "“" {label} "”"
                                </a>
                                {from.map(|f| view! { " of " <a class="sd-mono" href=Page::devbox(&f).href()>{crate::fmt::middle_truncate(&f)}</a> })}
                            }
                                .into_any()
                        }
                        (None, Some(bp)) => view! { "this devbox started from blueprint " <a class="sd-mono" href=Page::blueprint(&bp).href()>{bp.clone()}</a> }.into_any(),
                        (None, None) => view! { "this devbox started from the default image" }.into_any(),
                    }
                }}
            </span>
        </div>
    }
}
