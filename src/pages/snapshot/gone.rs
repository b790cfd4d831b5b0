//! The page of a snapshot that no longer exists: says so, and shows what this browser
//! last saw of it (if it saw it at all).

use leptos::prelude::*;
use snapdeck_api::PINNED_KEY;

use crate::components::{EmptyState, IdCell, RelTime};
use crate::fmt::bytes_opt;
use crate::lineage::snapshot_label;
use crate::routes::Page;
use crate::services::seen::SeenSnapshot;

/// "This snapshot no longer exists", with its last known facts.
#[component]
pub(super) fn GonePage(
    /// The id asked for.
    id: String,
    /// What was last seen of it.
    last: Option<SeenSnapshot>,
) -> impl IntoView {
    let devbox = last
        .as_ref()
        .map(|l| l.devbox_id.clone())
        .filter(|d| !d.is_empty());
    let back = match &devbox {
        Some(d) => {
            view! { <a class="sd-btn" href=Page::devbox(d).href()>"Open its devbox"</a> }.into_any()
        }
        None => view! { <a class="sd-btn" href=Page::snapshots().href()>"Back to snapshots"</a> }
            .into_any(),
    };
    view! {
        <div data-testid="snapshot-gone">
            <EmptyState title="This snapshot no longer exists (it was deleted, or the id is wrong).">
                <p class="sd-row">"Id " <IdCell id=id.clone() /></p>
                {back}
            </EmptyState>
            {match last {
                None => view! { <p class="sd-muted">"This browser never saw it, so nothing more is known."</p> }.into_any(),
                Some(l) => view! { <LastKnown last=l /> }.into_any(),
            }}
        </div>
    }
}

/// The facts of the last sighting.
#[component]
fn LastKnown(
    /// The record.
    last: SeenSnapshot,
) -> impl IntoView {
    let status = last.status.map(|s| s.as_str()).unwrap_or("unknown");
    let s = last.snapshot.clone();
    view! {
        <section class="sd-snap__section" aria-labelledby="sd-snap-last" data-testid="last-known">
            <h2 class="sd-h2" id="sd-snap-last">"Last known facts"</h2>
            <dl class="sd-snap__facts">
                <dt>"Last seen"</dt><dd><RelTime ms=last.seen_at_ms /> " · status then: " {status}</dd>
                {s.map(|s| {
                    let meta: Vec<String> = s.metadata.iter().filter(|(k, _)| k.as_str() != PINNED_KEY).map(|(k, v)| format!("{k}={v}")).collect();
                    view! {
                        <dt>"Name"</dt><dd>{snapshot_label(&s)}</dd>
                        <dt>"Commit message"</dt><dd>{s.commit_message.clone().unwrap_or_else(|| "none".into())}</dd>
                        <dt>"Size"</dt><dd class="sd-mono">{bytes_opt(s.size_bytes)}</dd>
                        <dt>"Created"</dt><dd><RelTime ms=s.create_time_ms /></dd>
                        <dt>"Metadata"</dt><dd class="sd-mono">{if meta.is_empty() { "none".to_owned() } else { meta.join("  ") }}</dd>
                    }
                })}
                <dt>"Devbox"</dt>
                <dd><a href=Page::devbox(&last.devbox_id).href() class="sd-mono">{crate::fmt::middle_truncate(&last.devbox_id)}</a></dd>
            </dl>
        </section>
    }
}
