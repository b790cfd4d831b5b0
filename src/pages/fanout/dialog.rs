//! The "Fan out" dialog: how many children, their labels, the name template, a task
//! file per child, how many start at once. Submitting keeps the plan and opens the
//! batch's page, which launches it (and resumes it after a reload).

use leptos::prelude::*;
use snapdeck_api::{Metadata, Snapshot};
use snapdeck_core::fanout::{DEFAULT_TEMPLATE, FanoutRequest, MAX_CHILDREN, plan};
use snapdeck_core::launch::IdleAction;
use snapdeck_core::validate;

use super::launch::{StoredPlan, remember, remember_tasks};
use crate::components::IdleFields;
use crate::components::modal::Modal;
use crate::hooks::use_nav::use_nav;
use crate::lineage::snapshot_label;
use crate::routes::Page;

/// A batch id: time and randomness, short enough to read.
fn new_batch_id() -> String {
    let t = js_sys::Date::now() as u64;
    let r = (js_sys::Math::random() * 46_656.0) as u64;
    format!("fo_{}{}", radix36(t), radix36(r))
}

fn radix36(mut n: u64) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The dialog, opened from a complete snapshot.
#[component]
pub fn FanoutDialog(
    /// The snapshot the children start from.
    snapshot: Snapshot,
    /// Closed (cancelled or launched).
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let nav = use_nav();
    let label = snapshot_label(&snapshot);
    let source = snapshot
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "fanout".into());
    let count = RwSignal::new("3".to_string());
    let labels = RwSignal::new(String::new());
    let template = RwSignal::new(DEFAULT_TEMPLATE.to_string());
    let task_path = RwSignal::new("TASK.md".to_string());
    let task_text = RwSignal::new("Attempt {label}: ".to_string());
    let shared = RwSignal::new(String::new());
    let cap = RwSignal::new("5".to_string());
    let idle_kind = RwSignal::new("none".to_string());
    let idle_minutes = RwSignal::new("30".to_string());
    let idle = move || IdleAction::from_choice(&idle_kind.get(), &idle_minutes.get());
    let error = RwSignal::new(None::<String>);
    let snapshot_id = snapshot.id.clone();

    let request = move || -> Result<(FanoutRequest, usize), String> {
        let count: usize = count
            .get()
            .trim()
            .parse()
            .map_err(|_| format!("How many children: a number from 1 to {MAX_CHILDREN}."))?;
        let cap: usize = cap
            .get()
            .trim()
            .parse()
            .ok()
            .filter(|c| *c >= 1)
            .ok_or("At once: a number of 1 or more.")?;
        let pairs: Vec<(String, String)> = shared
            .get()
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => Ok((k.trim().to_owned(), v.trim().to_owned())),
                None => Err(format!(
                    "Shared metadata: write key=value pairs, comma-separated (“{}”).",
                    p.trim()
                )),
            })
            .collect::<Result<_, _>>()?;
        let shared_metadata: Metadata =
            validate::metadata_rows(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map_err(|e| e.to_string())?;
        let path = task_path.get();
        let text = task_text.get();
        let task = (!path.trim().is_empty() || !text.trim().is_empty()).then_some((path, text));
        Ok((
            FanoutRequest {
                batch_id: String::new(),
                snapshot_id: snapshot_id.clone(),
                source_name: source.clone(),
                count,
                labels: labels
                    .get()
                    .split(',')
                    .map(|l| l.trim().to_owned())
                    .collect(),
                template: template.get(),
                shared_metadata,
                task,
            },
            cap,
        ))
    };
    let preview = {
        let request = request.clone();
        move || match request() {
            Ok((r, cap)) => match plan(&r) {
                Ok(children) => {
                    let names: Vec<String> =
                        children.iter().take(4).map(|c| c.name.clone()).collect();
                    let more = children.len().saturating_sub(4);
                    let mut s = format!(
                        "Starts {} devbox{} from this snapshot, {} at a time: {}",
                        children.len(),
                        if children.len() == 1 { "" } else { "es" },
                        cap.min(children.len()),
                        names.join(", ")
                    );
                    if more > 0 {
                        s.push_str(&format!(" and {more} more"));
                    }
                    s.push_str(&idle().phrase().replacen("; ", "; each ", 1));
                    s.push('.');
                    s
                }
                Err(e) => e.to_string(),
            },
            Err(e) => e,
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (mut r, cap) = match request() {
            Ok(x) => x,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        r.batch_id = new_batch_id();
        match plan(&r) {
            Ok(children) => {
                let stored = StoredPlan {
                    batch_id: r.batch_id.clone(),
                    snapshot_id: r.snapshot_id.clone(),
                    cap,
                    children,
                    idle: idle(),
                    fresh: false,
                };
                remember(&stored);
                remember_tasks(&stored);
                on_close.run(());
                nav.go(&Page::fanout(r.batch_id));
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };

    view! {
        <Modal title=format!("Fan out from “{label}”") on_close=on_close class="sd-modal--wide">
            <form class="sd-form" on:submit=submit>
                <div class="sd-modal__body sd-form">
                    <div class="sd-row sd-fanout__nums">
                        <div class="sd-field">
                            <label for="sd-fo-count">"Children"</label>
                            <input id="sd-fo-count" class="sd-input" type="number" min="1" max=MAX_CHILDREN.to_string() autofocus
                                prop:value=move || count.get() on:input=move |e| count.set(event_target_value(&e)) />
                        </div>
                        <div class="sd-field">
                            <label for="sd-fo-cap">"At once"</label>
                            <input id="sd-fo-cap" class="sd-input" type="number" min="1"
                                prop:value=move || cap.get() on:input=move |e| cap.set(event_target_value(&e)) />
                        </div>
                    </div>
                    <div class="sd-field">
                        <label for="sd-fo-labels">"Labels (comma-separated; blank ones are a, b, c…)"</label>
                        <input id="sd-fo-labels" class="sd-input" autocomplete="off" placeholder="e.g. retry-with-backoff, circuit-breaker"
                            prop:value=move || labels.get() on:input=move |e| labels.set(event_target_value(&e)) />
                    </div>
                    <div class="sd-field">
                        <label for="sd-fo-template">"Name template ({source}, {n}, {label})"</label>
                        <input id="sd-fo-template" class="sd-input sd-mono" autocomplete="off"
                            prop:value=move || template.get() on:input=move |e| template.set(event_target_value(&e)) />
                    </div>
                    <div class="sd-field">
                        <label for="sd-fo-shared">"Shared metadata (key=value, comma-separated)"</label>
                        <input id="sd-fo-shared" class="sd-input sd-mono" autocomplete="off" placeholder="e.g. ticket=T-42"
                            prop:value=move || shared.get() on:input=move |e| shared.set(event_target_value(&e)) />
                    </div>
                    <div class="sd-field">
                        <label for="sd-fo-taskpath">"Task file, written into each child once it runs (blank: none)"</label>
                        <input id="sd-fo-taskpath" class="sd-input sd-mono" autocomplete="off"
                            prop:value=move || task_path.get() on:input=move |e| task_path.set(event_target_value(&e)) />
                    </div>
                    <div class="sd-field">
                        <label for="sd-fo-tasktext">"Its text ({label} and {n} are filled in per child)"</label>
                        <textarea id="sd-fo-tasktext" class="sd-input sd-mono" rows="4"
                            prop:value=move || task_text.get() on:input=move |e| task_text.set(event_target_value(&e))></textarea>
                    </div>
                    <IdleFields id="sd-fo-idle" label="Each child, when idle" kind=idle_kind minutes=idle_minutes />
                    <p class="sd-help sd-summary" aria-live="polite" data-testid="fanout-preview">{preview}</p>
                    {move || error.get().map(|e| view! { <p class="sd-formerror" role="alert">{e}</p> })}
                </div>
                <div class="sd-modal__foot">
                    <button type="button" class="sd-btn sd-btn--ghost" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="sd-btn sd-btn--primary">"Fan out"</button>
                </div>
            </form>
        </Modal>
    }
}
