//! "New devbox": one dialog everywhere (Devboxes, a blueprint's page, a snapshot's
//! page). The source is three tabs — Blueprint · Snapshot · Default image — each with a
//! line on when it fits; then name (prefilled), metadata, size, architecture and idle
//! action, and one line saying what will happen. snapdeck-core's [`NewDevbox`] turns the
//! choices into the create body; the new devbox shows in the shared list at once.
//!
//! Open it with a preselected source: `<NewDevboxDialog source=Source::Snapshot(id) … />`.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_core::audit::{Action, Outcome};
use snapdeck_core::launch::{ARCHITECTURES, DEFAULT_SIZE, IdleAction, NewDevbox, SIZES, Source};
use snapdeck_core::validate;

use crate::api::{api_message, use_api};
use crate::components::modal::Modal;
use crate::components::shortcuts::typing_in_field;
use crate::components::snapshot_dialog::{MetaRow, MetadataRows, metadata_of};
use crate::fmt::stamp;
use crate::hooks::use_nav::use_nav;
use crate::hooks::use_now::{now_ms, tz_offset_min};
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_toasts::{Tone, use_toasts};
use crate::services::audit::use_audit;

/// The tab a source belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Blueprint,
    Snapshot,
    Default,
}

impl Tab {
    const ALL: [(Tab, &'static str, &'static str); 3] = [
        (
            Tab::Blueprint,
            "Blueprint",
            "Caches set-up steps every devbox needs: fast to boot, built once.",
        ),
        (
            Tab::Snapshot,
            "Snapshot",
            "Continues from where one devbox was: quick to take, a bit slower to boot.",
        ),
        (
            Tab::Default,
            "Default image",
            "Runloop's stock image, nothing installed yet.",
        ),
    ];

    fn of(source: &Source) -> Self {
        match source {
            Source::BlueprintId(_) | Source::BlueprintName(_) => Tab::Blueprint,
            Source::Snapshot(_) => Tab::Snapshot,
            Source::DefaultImage => Tab::Default,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Tab::Blueprint => "blueprint",
            Tab::Snapshot => "snapshot",
            Tab::Default => "default",
        }
    }
}

/// `n` opens the dialog (not while typing, not in an embed, where keys are the host's).
pub fn use_new_devbox_key(open: RwSignal<bool>) {
    let nav = use_nav();
    if nav.is_embedded() {
        return;
    }
    let handle = window_event_listener(ev::keydown, move |e| {
        let modified = e.ctrl_key() || e.meta_key() || e.alt_key();
        if e.key() == "n" && !modified && !typing_in_field(&e) && !open.get_untracked() {
            e.prevent_default();
            open.set(true);
        }
    });
    on_cleanup(move || handle.remove());
}

/// The New devbox dialog.
#[component]
pub fn NewDevboxDialog(
    /// The source it opens with (a blueprint's page passes its id, a snapshot's page
    /// its snapshot).
    #[prop(default = Source::DefaultImage)]
    source: Source,
    /// A label for the source, used to prefill the name (e.g. the blueprint's name).
    #[prop(optional, into)]
    source_label: Option<String>,
    /// Called when the dialog closes (after a successful create too).
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let version = use_refresh();
    let toasts = use_toasts();
    let audit = use_audit();

    let tab = RwSignal::new(Tab::of(&source));
    let (bp_text, snap_text) = match &source {
        Source::BlueprintId(s) | Source::BlueprintName(s) => (s.clone(), String::new()),
        Source::Snapshot(s) => (String::new(), s.clone()),
        Source::DefaultImage => (String::new(), String::new()),
    };
    let blueprint = RwSignal::new(bp_text);
    let snapshot = RwSignal::new(snap_text);
    let prefix = source_label
        .filter(|l| !l.trim().is_empty())
        .unwrap_or_else(|| "devbox".into());
    let name = RwSignal::new(format!("{prefix}-{}", stamp(now_ms(), tz_offset_min())));
    let size = RwSignal::new(DEFAULT_SIZE.to_string());
    let arch = RwSignal::new(ARCHITECTURES[0].to_string());
    let idle_kind = RwSignal::new("none".to_string());
    let idle_minutes = RwSignal::new("30".to_string());
    let rows = RwSignal::new(vec![MetaRow::new(0)]);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // The choices as snapdeck-core reads them (metadata is checked on submit only).
    let chosen = move || {
        let source = match tab.get() {
            Tab::Blueprint => Source::blueprint(&blueprint.get()),
            Tab::Snapshot => Some(snapshot.get().trim().to_owned())
                .filter(|s| !s.is_empty())
                .map(Source::Snapshot),
            Tab::Default => Some(Source::DefaultImage),
        };
        let idle = IdleAction::from_choice(&idle_kind.get(), &idle_minutes.get());
        source.map(|source| NewDevbox {
            name: name.get(),
            source,
            metadata: Default::default(),
            size: size.get(),
            architecture: arch.get(),
            idle,
        })
    };
    let summary = move || match chosen() {
        Some(d) => d.summary(),
        None if tab.get() == Tab::Blueprint => "Give a blueprint name or id.".into(),
        None => "Give the snapshot's id.".into(),
    };

    let on_submit = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(mut plan) = untrack(chosen) else {
            error.set(Some(untrack(summary)));
            return;
        };
        let checked = validate::name(&plan.name).and_then(|n| Ok((n, metadata_of(rows)?)));
        let (new_name, metadata) = match checked {
            Ok(v) => v,
            Err(e) => {
                error.set(Some(e.to_string()));
                return;
            }
        };
        plan.name = new_name.unwrap_or_default();
        plan.metadata = metadata;
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api.create_devbox(&plan.request()).await {
                Ok(d) => {
                    let label = d.name.clone().unwrap_or_else(|| d.id.clone());
                    // The shared list refetches: the devbox shows at once, booting.
                    version.bump();
                    audit.record_action(
                        Action::CreateDevbox,
                        &d.id,
                        d.name.clone(),
                        None,
                        Outcome::Done,
                        Some(plan.summary()),
                    );
                    toasts.push(Tone::Ok, format!("Started “{label}”; it is booting."));
                    on_close.run(());
                }
                Err(e) => {
                    // The dialog may have been closed meanwhile.
                    if !busy.is_disposed() {
                        busy.set(false);
                        error.set(Some(api_message(&e)));
                    }
                }
            }
        });
    };

    view! {
        <Modal title="New devbox" on_close=on_close class="sd-modal--wide">
            <form class="sd-form" on:submit=on_submit data-testid="new-devbox">
                <div class="sd-modal__body sd-form">
                    <SourceTabs tab=tab />
                    <SourceField tab=tab blueprint=blueprint snapshot=snapshot />
                    <div class="sd-field">
                        <label for="sd-new-name">"Name"</label>
                        <input
                            id="sd-new-name"
                            class="sd-input"
                            autocomplete="off"
                            prop:value=move || name.get()
                            on:input=move |e| name.set(event_target_value(&e))
                        />
                    </div>
                    <LaunchFields size=size arch=arch idle_kind=idle_kind idle_minutes=idle_minutes />
                    <MetadataRows rows=rows />
                    <p class="sd-help sd-summary" aria-live="polite" data-testid="new-devbox-summary">{summary}</p>
                    {move || error.get().map(|e| view! { <p class="sd-formerror" role="alert">{e}</p> })}
                </div>
                <div class="sd-modal__foot">
                    <button type="button" class="sd-btn sd-btn--ghost" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class="sd-btn sd-btn--primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Starting…" } else { "Start devbox" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// The three source tabs, as a radio group (one choice, arrow keys move), each with
/// its line on when it fits.
#[component]
fn SourceTabs(
    /// The chosen tab.
    tab: RwSignal<Tab>,
) -> impl IntoView {
    view! {
        <fieldset class="sd-fieldset sd-fieldset--plain">
            <legend>"Start from"</legend>
            <div class="sd-tabs" role="radiogroup" aria-label="Start from">
                {Tab::ALL
                    .into_iter()
                    .map(|(t, label, _)| {
                        view! {
                            <label class="sd-tab" class:sd-tab--active=move || tab.get() == t>
                                <input
                                    type="radio"
                                    name="sd-new-source"
                                    class="sd-visually-hidden"
                                    value=t.key()
                                    prop:checked=move || tab.get() == t
                                    on:change=move |_| tab.set(t)
                                />
                                {label}
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <p class="sd-help" data-testid="source-hint">
                {move || Tab::ALL.iter().find(|(t, ..)| *t == tab.get()).map(|(_, _, hint)| *hint)}
            </p>
        </fieldset>
    }
}

/// The field of the chosen tab: a blueprint (name or id, built ones offered) or a
/// snapshot id.
#[component]
fn SourceField(
    tab: RwSignal<Tab>,
    blueprint: RwSignal<String>,
    snapshot: RwSignal<String>,
) -> impl IntoView {
    let api = crate::api::use_page_api();
    // Offer the built blueprints by name (the API takes the latest build of a name).
    let built = LocalResource::new(move || async move { api.list_blueprints().await });
    let options = move || {
        let mut names: Vec<String> = built
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.status == snapdeck_api::BlueprintStatus::BuildComplete)
            .map(|b| b.name)
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|n| view! { <option value=n.clone()></option> })
            .collect_view()
    };
    move || match tab.get() {
        Tab::Blueprint => view! {
            <div class="sd-field">
                <label for="sd-new-blueprint">"Blueprint name or id"</label>
                <input
                    id="sd-new-blueprint"
                    class="sd-input sd-mono"
                    autocomplete="off"
                    list="sd-new-blueprints"
                    placeholder="e.g. node-20 (latest successful build) or bpt_…"
                    prop:value=move || blueprint.get()
                    on:input=move |e| blueprint.set(event_target_value(&e))
                />
                <datalist id="sd-new-blueprints">{options}</datalist>
            </div>
        }
        .into_any(),
        Tab::Snapshot => view! {
            <div class="sd-field">
                <label for="sd-new-snapshot">"Snapshot id"</label>
                <input
                    id="sd-new-snapshot"
                    class="sd-input sd-mono"
                    autocomplete="off"
                    placeholder="snp_…"
                    prop:value=move || snapshot.get()
                    on:input=move |e| snapshot.set(event_target_value(&e))
                />
            </div>
        }
        .into_any(),
        Tab::Default => ().into_any(),
    }
}

/// Size, architecture and idle action.
#[component]
fn LaunchFields(
    size: RwSignal<String>,
    arch: RwSignal<String>,
    idle_kind: RwSignal<String>,
    idle_minutes: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="sd-formgrid">
            <div class="sd-field">
                <label for="sd-new-size">"Resource size"</label>
                <select id="sd-new-size" class="sd-input" on:change=move |e| size.set(event_target_value(&e))>
                    {SIZES
                        .iter()
                        .map(|(s, what)| {
                            view! { <option value={*s} selected={*s == DEFAULT_SIZE}>{format!("{s} — {what}")}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="sd-field">
                <label for="sd-new-arch">"Architecture"</label>
                <select id="sd-new-arch" class="sd-input" on:change=move |e| arch.set(event_target_value(&e))>
                    {ARCHITECTURES.iter().map(|a| view! { <option value={*a}>{*a}</option> }).collect_view()}
                </select>
            </div>
            <IdleFields id="sd-new-idle" label="When idle" kind=idle_kind minutes=idle_minutes />
        </div>
    }
}

/// "When idle": keep running, suspend or shut down after some minutes (read with
/// `IdleAction::from_choice`).
#[component]
pub fn IdleFields(
    /// The select's id.
    id: &'static str,
    /// Its label.
    label: &'static str,
    /// `none`, `suspend` or `shutdown`.
    kind: RwSignal<String>,
    /// Idle minutes, as typed.
    minutes: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="sd-field">
            <label for=id>{label}</label>
            <div class="sd-row sd-row--tight">
                <select id=id class="sd-input" on:change=move |e| kind.set(event_target_value(&e))>
                    <option value="none" selected=move || kind.get() == "none">"keep running"</option>
                    <option value="suspend" selected=move || kind.get() == "suspend">"suspend after"</option>
                    <option value="shutdown" selected=move || kind.get() == "shutdown">"shut down after"</option>
                </select>
                <Show when=move || kind.get() != "none">
                    <input
                        class="sd-input sd-input--num"
                        type="number"
                        min="1"
                        aria-label="Idle minutes"
                        prop:value=move || minutes.get()
                        on:input=move |e| minutes.set(event_target_value(&e))
                    />
                    <span class="sd-help">"min"</span>
                </Show>
            </div>
        </div>
    }
}
