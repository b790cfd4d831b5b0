//! Where a snapshot came from and what came of it.
//!
//! Ancestry walks up by the API's edges — snapshot → its devbox → the snapshot or
//! blueprint that devbox started from → … — one call per step, at most [`MAX_DEPTH`]
//! steps. Descendants are the devboxes started from this snapshot (the shared devbox
//! list) and the snapshots taken of each.

use leptos::prelude::*;
use snapdeck_api::{Devbox, Snapshot};

use crate::api::{Api, SnapshotFilter, use_page_api};
use crate::components::{IdCell, StatusBadge};
use crate::hooks::use_devboxes::use_devboxes;
use crate::lineage::{devbox_label, snapshot_label};
use crate::routes::Page;

/// Steps walked up before stopping (a longer chain ends with "…").
const MAX_DEPTH: usize = 12;
/// Child devboxes whose snapshots are listed.
const CHILDREN_LISTED: usize = 8;
/// Snapshots named per child devbox (the count covers the rest).
const SNAPSHOTS_NAMED: usize = 5;

/// One step of the ancestry, oldest first.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A blueprint's id, and its name when it could be read.
    Blueprint(String, Option<String>),
    DefaultImage,
    Devbox {
        id: String,
        label: Option<String>,
    },
    Snapshot {
        id: String,
        label: String,
    },
    /// The chain goes on (too deep, or a step could not be read).
    More(String),
}

async fn walk(api: Api, mut devbox_id: String) -> Vec<Step> {
    let mut up = Vec::new();
    for _ in 0..MAX_DEPTH {
        let d = match api.get_devbox(&devbox_id).await {
            Ok(d) => d,
            Err(e) => {
                up.push(Step::Devbox {
                    id: devbox_id.clone(),
                    label: None,
                });
                up.push(Step::More(format!("its origin could not be read ({e})")));
                return finish(up);
            }
        };
        up.push(Step::Devbox {
            id: d.id.clone(),
            label: Some(devbox_label(&d)),
        });
        match (d.snapshot_id.clone(), d.blueprint_id.clone()) {
            (Some(sid), _) => {
                let parent = api
                    .snapshot_status(&sid)
                    .await
                    .ok()
                    .and_then(|v| v.snapshot);
                match parent {
                    Some(p) => {
                        up.push(Step::Snapshot {
                            id: p.id.clone(),
                            label: snapshot_label(&p),
                        });
                        devbox_id = p.source_devbox_id.clone();
                    }
                    None => {
                        up.push(Step::Snapshot {
                            id: sid.clone(),
                            label: sid.clone(),
                        });
                        up.push(Step::More(
                            "that snapshot is gone; its devbox is unknown".into(),
                        ));
                        return finish(up);
                    }
                }
            }
            (None, Some(bp)) => {
                let name = api.get_blueprint(&bp).await.ok().map(|b| b.name);
                up.push(Step::Blueprint(bp, name));
                return finish(up);
            }
            (None, None) => {
                up.push(Step::DefaultImage);
                return finish(up);
            }
        }
    }
    up.push(Step::More("longer than this page follows".into()));
    finish(up)
}

fn finish(mut up: Vec<Step>) -> Vec<Step> {
    up.reverse();
    up
}

/// blueprint → devbox → snapshot → devbox → … → this one.
#[component]
pub(super) fn Ancestry(
    /// This snapshot.
    snapshot: Signal<Snapshot>,
) -> impl IntoView {
    let api = use_page_api();
    // Keyed on the devbox only: live updates of the snapshot do not walk again.
    let devbox_id = Memo::new(move |_| snapshot.with(|s| s.source_devbox_id.clone()));
    let chain = LocalResource::new(move || {
        let d = devbox_id.get();
        async move { walk(api, d).await }
    });
    view! {
        <ol class="sd-chain" aria-label="Ancestry, oldest first" data-testid="ancestry">
            {move || chain.get().map(|steps| steps.into_iter().map(step_view).collect_view())}
            <li class="sd-chain__here" aria-current="page">
                "● " {move || snapshot.with(snapshot_label)} " (here)"
            </li>
        </ol>
    }
}

fn step_view(step: Step) -> impl IntoView {
    let inner = match step {
        Step::Blueprint(bp, name) => {
            let href = Page::blueprint(bp.clone()).href();
            let text = name.unwrap_or_else(|| crate::fmt::middle_truncate(&bp));
            view! { <span class="sd-muted">"blueprint "</span><a href=href title=bp.clone()>{text}</a> }.into_any()
        }
        Step::DefaultImage => view! { <span class="sd-muted">"default image"</span> }.into_any(),
        Step::Devbox { id, label } => view! {
            <span class="sd-muted">"devbox "</span>
            <a href=Page::devbox(&id).href()>{label.unwrap_or_else(|| crate::fmt::middle_truncate(&id))}</a>
        }.into_any(),
        Step::Snapshot { id, label } => view! {
            <span class="sd-muted">"snapshot "</span>
            <a href=Page::snapshot(&id).href()>{label}</a>
        }.into_any(),
        Step::More(why) => view! { <span class="sd-muted">"… " {why}</span> }.into_any(),
    };
    view! { <li class="sd-chain__step">{inner}<span class="sd-chain__arrow" aria-hidden="true">" → "</span></li> }
}

/// The devboxes started from this snapshot, and the snapshots taken of each.
#[component]
pub(super) fn Descendants(
    /// This snapshot.
    snapshot: Signal<Snapshot>,
) -> impl IntoView {
    let devboxes = use_devboxes();
    let kids = Memo::new(move |_| {
        let id = snapshot.with(|s| s.id.clone());
        devboxes.list().with(|l| {
            let mut k: Vec<Devbox> = l
                .iter()
                .filter(|d| d.snapshot_id.as_deref() == Some(id.as_str()))
                .cloned()
                .collect();
            k.sort_by_key(|d| d.create_time_ms);
            k
        })
    });
    view! {
        {move || {
            let k = kids.get();
            if k.is_empty() {
                return view! {
                    <p class="sd-muted" data-testid="descendants-empty">
                        {if devboxes.known() { "No devbox was started from this snapshot yet — Restore or New devbox starts one." } else { "Loading the devboxes…" }}
                    </p>
                }.into_any();
            }
            view! {
                <ul class="sd-branches" aria-label="Devboxes started from this snapshot" data-testid="descendants">
                    {k.into_iter().enumerate().map(|(i, d)| view! { <Child devbox=d list_snapshots=i < CHILDREN_LISTED /> }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

/// One devbox started from the snapshot, with the snapshots taken of it.
#[component]
fn Child(
    /// The devbox.
    devbox: Devbox,
    /// Whether to list its snapshots (the first few children only).
    list_snapshots: bool,
) -> impl IntoView {
    let api = use_page_api();
    let id = devbox.id.clone();
    let snaps = LocalResource::new(move || {
        let id = id.clone();
        async move {
            if !list_snapshots {
                return None;
            }
            let filter = SnapshotFilter {
                devbox_id: Some(id),
                ..Default::default()
            };
            api.list_snapshots(&filter).await.ok()
        }
    });
    let status = devbox.status;
    view! {
        <li class="sd-branch" data-testid="descendant" data-devbox-id=devbox.id.clone()>
            <span class="sd-branch__arrow" aria-hidden="true">"└─▶"</span>
            <a href=Page::devbox(&devbox.id).href()>{devbox_label(&devbox)}</a>
            <IdCell id=devbox.id.clone() />
            <StatusBadge status=Signal::stored(status) />
            {move || snaps.get().flatten().map(|list| {
                let n = list.len();
                let named: Vec<Snapshot> = list.into_iter().take(SNAPSHOTS_NAMED).collect();
                view! {
                    <span class="sd-branch__snaps">
                        " ─▶ " {format!("{n} snapshot{}", if n == 1 { "" } else { "s" })}
                        {named.into_iter().map(|s| view! { " · " <a href=Page::snapshot(&s.id).href()>{snapshot_label(&s)}</a> }).collect_view()}
                        {(n > SNAPSHOTS_NAMED).then_some(" …")}
                    </span>
                }
            })}
        </li>
    }
}
