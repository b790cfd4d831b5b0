//! The devbox's facts.

use leptos::prelude::*;
use snapdeck_api::Devbox;

use crate::components::{RelTime, StatusBadge};
use crate::pages::devboxes::SourceCell;
use crate::routes::Page;

/// The facts column.
#[component]
pub(super) fn Facts(
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
