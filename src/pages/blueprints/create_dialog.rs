//! "New blueprint": name, a Dockerfile or a base blueprint, setup commands, metadata.
//! On create it opens the new blueprint's page, where the build shows live.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::CreateBlueprint;
use snapdeck_core::launch::Source;
use snapdeck_core::validate;

use crate::api::{api_message, use_api};
use crate::components::modal::Modal;
use crate::components::snapshot_dialog::{MetaRow, MetadataRows, metadata_of};
use crate::hooks::use_nav::use_nav;
use crate::hooks::use_refresh::use_refresh;
use crate::routes::Page;

/// The create dialog.
#[component]
pub(super) fn CreateBlueprintDialog(
    /// Called when the dialog closes.
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let api = use_api();
    let nav = use_nav();
    let version = use_refresh();
    let name = RwSignal::new(String::new());
    let on_base = RwSignal::new(false);
    let dockerfile = RwSignal::new(String::new());
    let base = RwSignal::new(String::new());
    let commands = RwSignal::new(String::new());
    let rows = RwSignal::new(vec![MetaRow::new(0)]);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let on_submit = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = (|| {
            let Some(name) = validate::name(&name.get_untracked())? else {
                return Ok(Err("A blueprint needs a name."));
            };
            let metadata = metadata_of(rows)?;
            let system_setup_commands: Vec<String> = commands
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let mut body = CreateBlueprint {
                name,
                system_setup_commands: (!system_setup_commands.is_empty())
                    .then_some(system_setup_commands),
                metadata: (!metadata.is_empty()).then_some(metadata),
                ..Default::default()
            };
            if on_base.get_untracked() {
                // The same rule as a devbox's blueprint: an id when it looks like one.
                match Source::blueprint(&base.get_untracked()) {
                    Some(Source::BlueprintId(id)) => body.base_blueprint_id = Some(id),
                    Some(Source::BlueprintName(n)) => body.base_blueprint_name = Some(n),
                    _ => return Ok(Err("Give the base blueprint's name or id.")),
                }
            } else {
                let d = dockerfile.get_untracked();
                body.dockerfile = (!d.trim().is_empty()).then_some(d);
            }
            Ok::<_, snapdeck_core::ValidationError>(Ok(body))
        })();
        let body = match body {
            Ok(Ok(b)) => b,
            Ok(Err(msg)) => return error.set(Some(msg.into())),
            Err(e) => return error.set(Some(e.to_string())),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api.create_blueprint(&body).await {
                Ok(bp) => {
                    version.bump();
                    on_close.run(());
                    nav.go(&Page::blueprint(&bp.id));
                }
                Err(e) if !busy.is_disposed() => {
                    busy.set(false);
                    error.set(Some(api_message(&e)));
                }
                Err(_) => {}
            }
        });
    };

    view! {
        <Modal title="New blueprint" on_close=on_close class="sd-modal--wide">
            <form class="sd-form" on:submit=on_submit data-testid="new-blueprint">
                <div class="sd-modal__body sd-form">
                    <div class="sd-field">
                        <label for="sd-bp-name">"Name"</label>
                        <input id="sd-bp-name" class="sd-input" autofocus autocomplete="off" placeholder="e.g. node-20"
                            prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e)) />
                    </div>
                    <fieldset class="sd-fieldset sd-fieldset--plain">
                        <legend>"Build from"</legend>
                        <div class="sd-tabs" role="radiogroup" aria-label="Build from">
                            <label class="sd-tab" class:sd-tab--active=move || !on_base.get()>
                                <input type="radio" name="sd-bp-from" class="sd-visually-hidden" prop:checked=move || !on_base.get() on:change=move |_| on_base.set(false) />
                                "Dockerfile"
                            </label>
                            <label class="sd-tab" class:sd-tab--active=move || on_base.get()>
                                <input type="radio" name="sd-bp-from" class="sd-visually-hidden" prop:checked=move || on_base.get() on:change=move |_| on_base.set(true) />
                                "Base blueprint"
                            </label>
                        </div>
                        {move || if on_base.get() {
                            view! {
                                <div class="sd-field">
                                    <label for="sd-bp-base">"Base blueprint name or id"</label>
                                    <input id="sd-bp-base" class="sd-input sd-mono" autocomplete="off" placeholder="node-20 (latest successful build) or bpt_…"
                                        prop:value=move || base.get() on:input=move |e| base.set(event_target_value(&e)) />
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <div class="sd-field">
                                    <label for="sd-bp-dockerfile">"Dockerfile (optional: empty builds on the default image)"</label>
                                    <textarea id="sd-bp-dockerfile" class="sd-textarea sd-mono" rows="4" placeholder="FROM runloop/universal-ubuntu-24.04\nRUN apt-get install -y jq"
                                        prop:value=move || dockerfile.get() on:input=move |e| dockerfile.set(event_target_value(&e))></textarea>
                                </div>
                            }.into_any()
                        }}
                    </fieldset>
                    <div class="sd-field">
                        <label for="sd-bp-commands">"System setup commands (one per line)"</label>
                        <textarea id="sd-bp-commands" class="sd-textarea sd-mono" rows="3" placeholder="npm i -g pnpm"
                            prop:value=move || commands.get() on:input=move |e| commands.set(event_target_value(&e))></textarea>
                    </div>
                    <MetadataRows rows=rows />
                    <p class="sd-help sd-summary">"Starts a build; the blueprint's page shows each phase and the build log until it is ready."</p>
                    {move || error.get().map(|e| view! { <p class="sd-formerror" role="alert">{e}</p> })}
                </div>
                <div class="sd-modal__foot">
                    <button type="button" class="sd-btn sd-btn--ghost" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="sd-btn sd-btn--primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Creating…" } else { "Create and build" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
