//! What a selection on the Devboxes list does: the bar above the table ("3 selected ·
//! Select all · Clear · Snapshot selected…") and the confirmation that lists each
//! selected devbox with what will happen to it. Each snapshot then runs as its own
//! operation in the tray, exactly as the devbox page's Snapshot button starts one.

use leptos::prelude::*;
use snapdeck_api::{Devbox, DevboxStatus, SnapshotParams};

use crate::components::snapshot_dialog::default_snapshot_name;
use crate::components::{ConfirmDialog, Icon, IconKind};
use crate::hooks::use_now::{now_ms, tz_offset_min};
use crate::lineage::devbox_label;
use crate::selection::Selection;
use crate::services::ops::use_ops;

/// What "Snapshot selected" does to each selected devbox, in list order.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SnapshotPlan {
    /// Running: a snapshot of each, named `<devbox>-<yyyymmdd-hhmm>`.
    pub take: Vec<(Devbox, String)>,
    /// Not running (the API snapshots only a running devbox), with its status.
    pub skip: Vec<(Devbox, DevboxStatus)>,
}

/// The plan for the `selection` among `listed` (the list's order), named at `now_ms`.
pub(super) fn snapshot_plan(
    selection: &Selection,
    listed: &[Devbox],
    now_ms: i64,
    tz_offset_min: i64,
) -> SnapshotPlan {
    let mut plan = SnapshotPlan {
        take: Vec::new(),
        skip: Vec::new(),
    };
    for d in listed.iter().filter(|d| selection.contains(&d.id)) {
        if d.status == DevboxStatus::Running {
            let name = default_snapshot_name(d, now_ms, tz_offset_min);
            plan.take.push((d.clone(), name));
        } else {
            plan.skip.push((d.clone(), d.status));
        }
    }
    plan
}

/// The bar over a selection of devboxes (hidden when nothing is selected).
#[component]
pub(super) fn DevboxSelectionBar(
    /// The selection.
    selection: RwSignal<Selection>,
    /// Every devbox matching the filters, in the list's order.
    filtered: Memo<Vec<Devbox>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let n = move || selection.with(Selection::len);
    let total = move || filtered.with(Vec::len);
    let all =
        move || selection.with(|s| filtered.with(|f| s.has_all(f.iter().map(|x| x.id.as_str()))));
    let running = move || {
        selection.with(|s| {
            filtered.with(|f| {
                f.iter()
                    .filter(|d| s.contains(&d.id) && d.status == DevboxStatus::Running)
                    .count()
            })
        })
    };
    view! {
        <Show when=move || { n() > 0 }>
            <div class="sd-selbar" role="region" aria-label="Selection" data-testid="devbox-selection-bar">
                <strong aria-live="polite">{move || format!("{} selected", n())}</strong>
                <Show when=move || !all()>
                    <button
                        type="button"
                        class="sd-btn sd-btn--ghost sd-btn--sm"
                        on:click=move |_| {
                            filtered.with_untracked(|f| {
                                selection.update(|s| s.select_all(f.iter().map(|x| x.id.as_str())))
                            })
                        }
                    >
                        {move || format!("Select all {} matching", total())}
                    </button>
                </Show>
                <button
                    type="button"
                    class="sd-btn sd-btn--ghost sd-btn--sm"
                    on:click=move |_| selection.update(Selection::clear)
                >
                    "Clear"
                </button>
                <span class="sd-grow"></span>
                <button
                    type="button"
                    class="sd-btn sd-btn--primary sd-btn--sm"
                    disabled=move || running() == 0
                    title=move || (running() == 0).then_some("Only a running devbox can be snapshotted")
                    on:click=move |_| confirming.set(true)
                >
                    <Icon kind=IconKind::Camera />
                    "Snapshot selected…"
                </button>
            </div>
        </Show>
        <Show when=move || confirming.get()>
            <SnapshotSelectedDialog
                selection=selection
                filtered=filtered
                on_close=Callback::new(move |_| confirming.set(false))
            />
        </Show>
    }
}

/// "Snapshot N devboxes?": each selected devbox with the snapshot it gets, or why it is
/// skipped. Confirming starts one tray operation per snapshot and clears the selection.
#[component]
fn SnapshotSelectedDialog(
    /// The selection.
    selection: RwSignal<Selection>,
    /// Every devbox matching the filters, in the list's order.
    filtered: Memo<Vec<Devbox>>,
    /// Closes the dialog.
    on_close: Callback<()>,
) -> impl IntoView {
    let ops = use_ops();
    // Named once, when the dialog opens: what is listed is what is taken.
    let plan = StoredValue::new(selection.with_untracked(|s| {
        filtered.with_untracked(|f| snapshot_plan(s, f, now_ms(), tz_offset_min()))
    }));
    let n = plan.with_value(|p| p.take.len());
    let title = if n == 1 {
        "Snapshot 1 devbox?".to_string()
    } else {
        format!("Snapshot {n} devboxes?")
    };
    let confirm_label = if n == 1 {
        "Take 1 snapshot".to_string()
    } else {
        format!("Take {n} snapshots")
    };
    let confirm = move |_| {
        for (d, name) in plan.get_value().take {
            let params = SnapshotParams {
                name: Some(name),
                commit_message: None,
                metadata: None,
            };
            ops.start_snapshot(d.id.clone(), devbox_label(&d), params);
        }
        selection.update(Selection::clear);
        on_close.run(());
    };
    let take = plan.with_value(|p| {
        p.take
            .iter()
            .map(|(d, name)| {
                view! {
                    <li data-testid="bulk-snapshot-take" data-id=d.id.clone()>
                        <strong>{devbox_label(d)}</strong>
                        " → "
                        <span class="sd-mono">{name.clone()}</span>
                    </li>
                }
            })
            .collect_view()
    });
    let skip = plan.with_value(|p| {
        p.skip
            .iter()
            .map(|(d, status)| {
                view! {
                    <li data-testid="bulk-snapshot-skip" data-id=d.id.clone()>
                        <strong>{devbox_label(d)}</strong>
                        {format!(" is {status}: skipped")}
                    </li>
                }
            })
            .collect_view()
    });
    let skipped = plan.with_value(|p| p.skip.len());
    view! {
        <ConfirmDialog
            title=title
            confirm_label=Signal::stored(confirm_label)
            danger=false
            on_confirm=Callback::new(confirm)
            on_close=on_close
        >
            <p>"Each snapshot runs in the operations tray; the devboxes keep running."</p>
            <ul class="sd-bulksnap" data-testid="bulk-snapshot-list">{take}</ul>
            {(skipped > 0).then(|| view! {
                <p class="sd-muted">"Only a running devbox can be snapshotted:"</p>
                <ul class="sd-bulksnap sd-muted">{skip}</ul>
            })}
        </ConfirmDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devbox(id: &str, name: &str, status: &str) -> Devbox {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": name, "status": status, "create_time_ms": 0,
        }))
        .expect("a devbox")
    }

    #[test]
    fn the_plan_snapshots_the_selected_running_devboxes_in_list_order_and_names_the_rest() {
        let listed = [
            devbox("dbx_1", "api", "running"),
            devbox("dbx_2", "web", "suspended"),
            devbox("dbx_3", "", "running"),
            devbox("dbx_4", "not-selected", "running"),
        ];
        let order: Vec<&str> = listed.iter().map(|d| d.id.as_str()).collect();
        let mut sel = Selection::new();
        for id in ["dbx_3", "dbx_2", "dbx_1"] {
            sel.click(id, false, &order);
        }
        // 2026-01-02 03:04 UTC.
        let at = 1_767_323_040_000;
        let plan = snapshot_plan(&sel, &listed, at, 0);
        let take: Vec<(&str, &str)> = plan
            .take
            .iter()
            .map(|(d, n)| (d.id.as_str(), n.as_str()))
            .collect();
        assert_eq!(
            take,
            [
                ("dbx_1", "api-20260102-0304"),
                ("dbx_3", "dbx_3-20260102-0304")
            ],
            "list order; an unnamed devbox is named by its id"
        );
        let skip: Vec<(&str, DevboxStatus)> =
            plan.skip.iter().map(|(d, s)| (d.id.as_str(), *s)).collect();
        assert_eq!(skip, [("dbx_2", DevboxStatus::Suspended)]);
        assert_eq!(
            snapshot_plan(&Selection::new(), &listed, at, 0),
            SnapshotPlan {
                take: vec![],
                skip: vec![]
            }
        );
    }
}
