//! `/blueprints/:id`: the build (phase live while it builds, its log), the parameters it
//! was built with, its family, and the actions New devbox (`n`) and Delete.
//!
//! While the build runs the page looks again on snapdeck-core's backoff (1 s growing to
//! 5 s) and stops once the build ends; the log is read with each look.

use std::time::Duration;

use leptos::prelude::*;
use snapdeck_api::{Blueprint, BlueprintLogLine, BlueprintStatus};
use snapdeck_core::blueprints::{build_poll_delay_ms, family};
use snapdeck_core::launch::Source;

use super::delete::{DeleteBlueprint, RefusalPanel};
use super::family::FamilySection;
use crate::api::{ApiError, SnapshotFilter, use_page_api};
use crate::components::{
    BlueprintBadge, EmptyState, ErrorState, IdCell, LoadPhase, NewDevboxDialog, RelTime,
    use_new_devbox_key,
};
use crate::fmt::middle_truncate;
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_nav::use_route;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_title::use_title;
use crate::routes::Page;

/// One blueprint.
#[component]
pub fn BlueprintPage() -> impl IntoView {
    let id = use_route(|p| match p {
        Page::Blueprint { id } => Some(id.clone()),
        _ => None,
    });
    let api = use_page_api();
    let version = use_refresh();
    // Bumped by the build poll: the blueprint and its log are read again.
    let poll = RwSignal::new(0u32);
    let blueprint = LocalResource::new(move || {
        let id = id.get();
        let _ = (api.track(), version.track(), poll.get());
        async move { api.get_blueprint(&id).await }
    });
    let logs = LocalResource::new(move || {
        let id = id.get();
        let _ = (api.track(), poll.get());
        async move { api.blueprint_logs(&id).await }
    });
    let snapshots = LocalResource::new(move || {
        let id = id.get();
        let _ = (api.track(), version.track());
        async move {
            api.list_snapshots(&SnapshotFilter {
                blueprint_id: Some(id),
                ..Default::default()
            })
            .await
        }
    });
    let devboxes = use_devboxes();
    let latest = Memo::new(move |_| blueprint.get().and_then(Result::ok));
    use_build_poll(blueprint, poll);
    use_title(move || latest.get().map(|b| b.name).unwrap_or_else(|| id.get()));

    let state = Memo::new(move |_| match blueprint.get() {
        None => LoadPhase::Loading,
        Some(Err(e)) => LoadPhase::Failed(e),
        Some(Ok(_)) => LoadPhase::Ready,
    });
    let known = Signal::derive(move || snapshots.get().and_then(Result::ok).unwrap_or_default());
    let fam = Signal::derive(move || {
        let snaps = snapshots.get().and_then(Result::ok)?;
        devboxes
            .known()
            .then(|| family(&id.get(), &devboxes.list().get(), &snaps))
    });
    let new_devbox = RwSignal::new(false);
    use_new_devbox_key(new_devbox);
    let refusal = RwSignal::new(None);

    view! {
        <section class="sd-page">
            <a class="sd-back" href=Page::blueprints().href()>"← Blueprints"</a>
            {move || match state.get() {
                LoadPhase::Loading | LoadPhase::Empty => view! { <p class="sd-muted" aria-busy="true">"Loading the blueprint…"</p> }.into_any(),
                LoadPhase::Failed(e) if e.is_not_found() => view! {
                    <EmptyState title="This blueprint does not exist (or was deleted).">
                        <a class="sd-btn" href=Page::blueprints().href()>"Back to blueprints"</a>
                    </EmptyState>
                }.into_any(),
                LoadPhase::Failed(e) => view! { <ErrorState error=e on_retry=move |_| blueprint.refetch() /> }.into_any(),
                LoadPhase::Ready => {
                    let Some(first) = latest.get_untracked() else { return ().into_any() };
                    let b = Signal::derive(move || latest.get().unwrap_or_else(|| first.clone()));
                    view! {
                        <div class="sd-pagehead sd-bphead">
                            <h1 class="sd-h1">{move || b.get().name}</h1>
                            <IdCell id=b.get_untracked().id />
                            <BlueprintBadge status=Signal::derive(move || b.get().status) reason=Signal::derive(move || b.get().failure_reason) />
                            <span class="sd-topbar__spacer"></span>
                            <button
                                type="button"
                                class="sd-btn sd-btn--primary"
                                disabled=move || b.get().status != BlueprintStatus::BuildComplete
                                title="Start a devbox from this blueprint (n)"
                                on:click=move |_| new_devbox.set(true)
                            >
                                "New devbox"
                            </button>
                            <DeleteBlueprint blueprint=b refusal=refusal known=known />
                        </div>
                        {move || refusal.get().map(|r| view! { <RefusalPanel refusal=r blueprint_id=id.get_untracked() known=known.get_untracked() /> })}
                        <BuildFacts blueprint=b />
                        <div class="sd-bpgrid">
                            <section class="sd-card" aria-labelledby="sd-bp-params">
                                <h2 class="sd-h2" id="sd-bp-params">"Parameters"</h2>
                                <Parameters blueprint=b />
                            </section>
                            <section class="sd-card" aria-labelledby="sd-bp-log">
                                <h2 class="sd-h2" id="sd-bp-log">"Build log"</h2>
                                <BuildLog lines=Signal::derive(move || logs.get().map(|r| r.map(|l| l.logs))) building=Signal::derive(move || b.get().status.is_building()) />
                            </section>
                        </div>
                        <section class="sd-card" aria-labelledby="sd-bp-family">
                            <h2 class="sd-h2" id="sd-bp-family">"Family"</h2>
                            <FamilySection family=fam />
                        </section>
                        <crate::components::LineageSection focus=id />
                        <Show when=move || new_devbox.get()>
                            <NewDevboxDialog
                                source=Source::BlueprintId(id.get_untracked())
                                source_label=b.get_untracked().name
                                on_close=move |_| new_devbox.set(false)
                            />
                        </Show>
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// Looks at a build again on the backoff while it runs (and after a failed look that
/// may pass); stops when it ends, and when the page goes away.
fn use_build_poll(blueprint: LocalResource<Result<Blueprint, ApiError>>, poll: RwSignal<u32>) {
    let attempt = StoredValue::new(0u32);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    // Runs after every load, even one equal to the last (the resource notifies each
    // time; a memo of it would not, and the polling would stop mid-build).
    Effect::new(move |_| {
        let again = blueprint.with(|r| match r {
            Some(Ok(b)) => b.status.is_building(),
            Some(Err(e)) => !e.is_not_found(),
            None => false,
        });
        if let Some(t) = timer.get_value() {
            t.clear();
        }
        if !again {
            attempt.set_value(0);
            return;
        }
        let n = attempt.get_value();
        attempt.set_value(n + 1);
        let delay = Duration::from_millis(u64::from(build_poll_delay_ms(n)));
        let handle = set_timeout_with_handle(
            move || {
                if !poll.is_disposed() {
                    poll.update(|p| *p += 1);
                }
            },
            delay,
        )
        .ok();
        timer.set_value(handle);
    });
    on_cleanup(move || {
        if let Some(Some(t)) = timer.try_get_value() {
            t.clear();
        }
    });
}

/// Created, finished (or how long it has been building), base blueprint.
#[component]
fn BuildFacts(blueprint: Signal<Blueprint>) -> impl IntoView {
    move || {
        let b = blueprint.get();
        let took = b
            .build_finish_time_ms
            .map(|end| snapdeck_core::format::elapsed(end - b.create_time_ms));
        view! {
            <dl class="sd-dl sd-dl--inline">
                <dt>"Created"</dt>
                <dd><RelTime ms=b.create_time_ms /></dd>
                {took.map(|t| view! { <dt>"Build took"</dt><dd class="sd-mono">{t}</dd> })}
                <dt>"Base"</dt>
                <dd>
                    {match b.base_blueprint_id.clone() {
                        Some(base) => view! { <a class="sd-mono" href=Page::blueprint(&base).href() title=base.clone()>{middle_truncate(&base)}</a> }.into_any(),
                        None => view! { <span class="sd-muted">"default image"</span> }.into_any(),
                    }}
                </dd>
            </dl>
        }
    }
}

/// The build parameters, in monospace: Dockerfile, setup commands, launch parameters,
/// metadata.
#[component]
fn Parameters(blueprint: Signal<Blueprint>) -> impl IntoView {
    move || {
        let b = blueprint.get();
        let p = &b.parameters;
        let dockerfile = p
            .get("dockerfile")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let commands: Vec<String> = p
            .get("system_setup_commands")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let launch = p
            .get("launch_parameters")
            .filter(|v| !v.is_null())
            .and_then(|v| serde_json::to_string_pretty(v).ok());
        let base_name = p
            .get("base_blueprint_name")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let meta: Vec<(String, String)> = b.metadata.clone().into_iter().collect();
        let none = || view! { <span class="sd-muted">"none"</span> };
        view! {
            <dl class="sd-dl sd-params">
                <dt>"Dockerfile"</dt>
                <dd>{match dockerfile { Some(d) => view! { <pre class="sd-pre">{d}</pre> }.into_any(), None => none().into_any() }}</dd>
                {base_name.map(|n| view! { <dt>"Base blueprint name"</dt><dd class="sd-mono">{n}</dd> })}
                <dt>"System setup commands"</dt>
                <dd>{if commands.is_empty() { none().into_any() } else { view! { <pre class="sd-pre">{commands.join("\n")}</pre> }.into_any() }}</dd>
                <dt>"Launch parameters"</dt>
                <dd>{match launch { Some(l) => view! { <pre class="sd-pre">{l}</pre> }.into_any(), None => none().into_any() }}</dd>
                <dt>"Metadata"</dt>
                <dd>
                    {if meta.is_empty() { none().into_any() } else {
                        view! { <ul class="sd-meta">{meta.into_iter().map(|(k, v)| view! { <li class="sd-meta__chip"><span class="sd-meta__k">{k}</span>"="<span>{v}</span></li> }).collect_view()}</ul> }.into_any()
                    }}
                </dd>
            </dl>
        }
    }
}

/// The build log; follows the newest line while the build runs unless paused.
#[component]
fn BuildLog(
    /// The lines so far (`None` while loading; an error when the API has no logs).
    #[prop(into)]
    lines: Signal<Option<Result<Vec<BlueprintLogLine>, crate::api::ApiError>>>,
    /// Whether the build is still going.
    #[prop(into)]
    building: Signal<bool>,
) -> impl IntoView {
    let follow = RwSignal::new(true);
    let pre = NodeRef::<leptos::html::Pre>::new();
    Effect::new(move |_| {
        let _ = lines.with(|l| l.as_ref().map(|r| r.as_ref().map(Vec::len).ok()));
        if follow.get_untracked()
            && let Some(el) = pre.get()
        {
            el.set_scroll_top(el.scroll_height());
        }
    });
    view! {
        <div class="sd-row sd-row--tight">
            <span class="sd-help" aria-live="polite">
                {move || if building.get() { "Building… the log follows the newest line." } else { "Build finished." }}
            </span>
            <label class="sd-check">
                <input type="checkbox" prop:checked=move || !follow.get() on:change=move |e| follow.set(!event_target_checked(&e)) />
                "Pause scrolling"
            </label>
        </div>
        {move || match lines.get() {
            None => view! { <p class="sd-muted">"Loading the log…"</p> }.into_any(),
            Some(Err(e)) if e.is_not_found() => view! { <p class="sd-muted">"This API keeps no build log for it."</p> }.into_any(),
            Some(Err(e)) => view! { <p class="sd-errtext">{format!("Could not read the log: {e}")}</p> }.into_any(),
            Some(Ok(_)) => ().into_any(),
        }}
        <pre class="sd-pre sd-buildlog" node_ref=pre data-testid="build-log" tabindex="0" aria-label="Build log">
            {move || lines.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|l| {
                let class = if l.level == "error" { "sd-buildlog__line sd-errtext" } else { "sd-buildlog__line" };
                view! { <span class=class>{l.message}"\n"</span> }
            }).collect_view()}
        </pre>
    }
}
