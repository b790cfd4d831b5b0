//! `/audit?actor=&action=&outcome=&q=`: every destructive or creating action snapdeck
//! performed — this browser's own (kept here) and, with a snapdeck server in between,
//! what its jobs did — newest first, filtered, and exported as JSON or CSV.

use leptos::prelude::*;
use snapdeck_core::audit::{
    Action, Actor, AuditEntry, AuditFilter, Named, Outcome, iso_utc, to_csv,
};
use wasm_bindgen::JsCast;

use crate::api::{ApiError, use_page_api};
use crate::components::{EmptyState, RelTime};
use crate::fmt::middle_truncate;
use crate::hooks::use_nav::{use_nav, use_route};
use crate::hooks::use_title::use_title;
use crate::routes::{AuditQuery, Page};
use crate::services::audit::use_audit;
use crate::tone::Tone;

/// Rows drawn at most (the export has them all).
const ROWS_SHOWN: usize = 300;

/// The audit trail.
#[component]
pub fn AuditPage() -> impl IntoView {
    use_title(|| "Audit".into());
    let nav = use_nav();
    let query = use_route(|p| match p {
        Page::Audit(q) => Some(q.clone()),
        _ => None,
    });
    let go = Callback::new(move |q: AuditQuery| nav.replace(&Page::Audit(q)));
    let api = use_page_api();
    let local = use_audit().entries();
    let server = LocalResource::new(move || {
        let filter = query.with(|q| q.filter.clone());
        let _config = api.track();
        async move {
            if !api.jobs_available().await {
                return Ok(Vec::new());
            }
            api.list_audit(&filter).await.map(|l| l.entries)
        }
    });
    // Both trails, filtered alike, newest first; an entry both hold shows once.
    let shown = Memo::new(move |_| {
        let filter = query.with(|q| q.filter.clone());
        let mut all: Vec<AuditEntry> =
            local.with(|l| l.iter().filter(|e| filter.matches(e)).cloned().collect());
        if let Some(Ok(remote)) = server.get() {
            all.extend(remote.into_iter().filter(|e| filter.matches(e)));
        }
        all.sort_by(|a, b| b.at_ms.cmp(&a.at_ms).then_with(|| b.id.cmp(&a.id)));
        all.dedup_by(|a, b| a.id == b.id);
        all
    });
    let server_error = Signal::derive(move || match server.get() {
        Some(Err(e)) => Some(e),
        _ => None,
    });
    view! {
        <section class="sd-page">
            <div class="sd-pagehead">
                <h1 class="sd-h1">"Audit"</h1>
                <ExportButtons shown=shown />
            </div>
            <AuditFilters query=query go=go />
            <ServerTrailError error=server_error on_retry=Callback::new(move |_| server.refetch()) />
            <AuditTable shown=shown />
        </section>
    }
}

/// Who, what, how it ended, and a text search; every change lands in the URL.
#[component]
fn AuditFilters(
    /// Current filters.
    query: Memo<AuditQuery>,
    /// Navigates to new filters.
    go: Callback<AuditQuery>,
) -> impl IntoView {
    let edit = move |f: &dyn Fn(&mut AuditFilter)| {
        let mut q = query.get_untracked();
        f(&mut q.filter);
        go.run(q);
    };
    view! {
        <div class="sd-filters" role="search" aria-label="Filter the audit trail">
            <NamedSelect
                id="sd-audit-actor"
                label="Who"
                any="Anyone"
                current=Signal::derive(move || query.with(|q| q.filter.actor))
                on_pick=Callback::new(move |v: Option<Actor>| edit(&|f| f.actor = v))
            />
            <NamedSelect
                id="sd-audit-action"
                label="What"
                any="Any action"
                current=Signal::derive(move || query.with(|q| q.filter.action))
                on_pick=Callback::new(move |v: Option<Action>| edit(&|f| f.action = v))
            />
            <NamedSelect
                id="sd-audit-outcome"
                label="Outcome"
                any="Any outcome"
                current=Signal::derive(move || query.with(|q| q.filter.outcome))
                on_pick=Callback::new(move |v: Option<Outcome>| edit(&|f| f.outcome = v))
            />
            <div class="sd-filters__field">
                <label for="sd-audit-q" class="sd-filters__label">"Search"</label>
                <input
                    id="sd-audit-q"
                    class="sd-input"
                    type="search"
                    placeholder="name, id, policy or reason"
                    autocomplete="off"
                    data-testid="audit-search"
                    prop:value=move || query.with(|q| q.filter.text.clone())
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        edit(&|f| f.text = text.clone());
                    }
                />
            </div>
        </div>
    }
}

/// A select over one of the audit's closed sets (actor, action, outcome).
#[component]
fn NamedSelect<T: Named + Send + Sync>(
    id: &'static str,
    label: &'static str,
    /// The "no filter" option's text.
    any: &'static str,
    current: Signal<Option<T>>,
    on_pick: Callback<Option<T>>,
) -> impl IntoView {
    view! {
        <div class="sd-filters__field">
            <label for=id class="sd-filters__label">{label}</label>
            <select
                id=id
                class="sd-select"
                data-testid=id
                on:change=move |ev| on_pick.run(T::parse(&event_target_value(&ev)))
            >
                <option value="" selected=move || current.get().is_none()>{any}</option>
                {T::ALL
                    .iter()
                    .map(|&v| {
                        view! {
                            <option value=v.as_str() selected=move || current.get() == Some(v)>
                                {v.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// Says the server's trail could not be read (this browser's entries still show).
#[component]
fn ServerTrailError(error: Signal<Option<ApiError>>, on_retry: Callback<()>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <div class="sd-callout sd-callout--warn sd-row" role="alert">
                    <span>
                        "Could not read the server's audit trail (" {e.to_string()}
                        "); showing this browser's entries only."
                    </span>
                    <button type="button" class="sd-btn sd-btn--sm" on:click=move |_| on_retry.run(())>
                        "Retry"
                    </button>
                </div>
            }
        })
    }
}

/// The entries, newest first.
#[component]
fn AuditTable(shown: Memo<Vec<AuditEntry>>) -> impl IntoView {
    let empty = move || {
        view! {
            <EmptyState title="Nothing recorded yet for these filters.">
                <p>"Deletes, snapshots, restores and pins snapdeck performs are listed here."</p>
            </EmptyState>
        }
    };
    view! {
        <Show when=move || shown.with(|s| !s.is_empty()) fallback=empty>
            <table class="sd-table" data-testid="audit-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Why / policy"</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || shown.get().into_iter().take(ROWS_SHOWN)
                        key=|e| e.id.clone()
                        children=|e| view! { <AuditRow entry=e /> }
                    />
                </tbody>
            </table>
            <Show when=move || shown.with(|s| s.len() > ROWS_SHOWN)>
                <p class="sd-muted">
                    {move || format!(
                        "… and {} more (narrow the filters, or export them all).",
                        shown.with(Vec::len) - ROWS_SHOWN,
                    )}
                </p>
            </Show>
        </Show>
    }
}

/// One entry.
#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let tone = match entry.outcome {
        Outcome::Done => Tone::Ok,
        Outcome::Failed => Tone::Err,
        Outcome::Skipped => Tone::Warn,
        Outcome::Cancelled => Tone::Muted,
    };
    let target = entry
        .target_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| middle_truncate(&entry.target_id));
    // Snapshot actions open the snapshot's page; a created devbox opens the devbox.
    let target_href = match entry.action {
        Action::CreateDevbox => Page::devbox(&entry.target_id).href(),
        _ => Page::snapshot(&entry.target_id).href(),
    };
    let why = [entry.reason.clone(), entry.policy.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <tr
            data-testid="audit-row"
            data-target=entry.target_id.clone()
            data-outcome=entry.outcome.as_str()
            data-actor=entry.actor.as_str()
        >
            <td title=iso_utc(entry.at_ms)><RelTime ms=entry.at_ms /></td>
            <td>{entry.actor.label()}</td>
            <td>{entry.action.label()}</td>
            <td>
                <a href=target_href>{target}</a>
                " "
                <code class="sd-muted" title=entry.target_id.clone()>{middle_truncate(&entry.target_id)}</code>
            </td>
            <td><span class=format!("sd-badge sd-badge--{tone}")>{entry.outcome.label()}</span></td>
            <td class="sd-muted">{why}</td>
        </tr>
    }
}

/// Export what the filters show, as JSON or CSV (RFC 4180, one row per entry).
#[component]
fn ExportButtons(shown: Memo<Vec<AuditEntry>>) -> impl IntoView {
    let json = move |_| {
        let body = shown.with_untracked(|s| serde_json::to_string_pretty(s).unwrap_or_default());
        download("snapdeck-audit.json", "application/json", &body);
    };
    let csv = move |_| {
        let body = shown.with_untracked(|s| to_csv(s));
        download("snapdeck-audit.csv", "text/csv", &body);
    };
    view! {
        <span class="sd-row">
            <button type="button" class="sd-btn sd-btn--sm" data-testid="audit-export-json" on:click=json>
                "Export JSON"
            </button>
            <button type="button" class="sd-btn sd-btn--sm" data-testid="audit-export-csv" on:click=csv>
                "Export CSV"
            </button>
        </span>
    }
}

/// Offers `body` as a file download named `name`.
fn download(name: &str, mime: &str, body: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(body));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let link = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(a) = link {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
