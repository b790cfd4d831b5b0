//! The command palette (`Ctrl-K` / `⌘-K`): jump to any page, devbox, snapshot,
//! blueprint or fan-out by name or id, and run the actions of what is focused —
//! "Snapshot ci-warm-cache…", "Restore nightly-5…", "Clean up …", "Fan out from …".
//!
//! Matching and order are snapdeck-core's ([`snapdeck_core::palette`]); the actions
//! open the app's existing dialogs (snapshot, restore, fan-out) or the cleanup page
//! scoped to the devbox, so no rule is written twice. The snapshot and blueprint lists
//! load when the palette opens (all pages, through the API client), the devboxes are
//! the shared list. An ARIA combobox: the input owns a listbox of options, the active
//! one is `aria-activedescendant`, and a live region says how many results there are.

mod data;
pub mod list_keys;

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use snapdeck_api::{Blueprint, Devbox, Snapshot, SnapshotStatus};
use snapdeck_core::keys::{self, Does};
use snapdeck_core::palette::{Entry, Hit, Kind, Recents, Verb, search};

use crate::api::{Api, ApiError, api_message, use_api};
use crate::components::shortcuts::KeyCaps;
use crate::components::{RestoreDialog, SnapshotDialog};
use crate::hooks::use_devboxes::{Devboxes, use_devboxes};
use crate::hooks::use_nav::{Nav, use_nav};
use crate::hooks::use_statuses::{Statuses, use_statuses};
use crate::hooks::use_toasts::{Toasts, Tone, use_toasts};
use crate::lineage::snapshot_label;
use crate::pages::fanout::dialog::FanoutDialog;
use crate::routes::Page;

/// How many results are shown (the best ones; typing narrows them).
const SHOWN: usize = 50;

/// A dialog an action opened.
#[derive(Debug, Clone)]
enum Dialog {
    Snapshot(Box<Devbox>),
    Restore(Box<Snapshot>, Box<Devbox>),
    Fanout(Box<Snapshot>),
}

type Loaded<T> = Option<Result<Vec<T>, ApiError>>;

/// The palette's state, shared with the list keys (`.` repeats the last action).
#[derive(Clone, Copy)]
pub struct Palette {
    open: RwSignal<bool>,
    /// The last action run from the palette (`.` repeats it on a list's row).
    last: RwSignal<Option<Verb>>,
    dialog: RwSignal<Option<Dialog>>,
    recents: RwSignal<Recents>,
    snapshots: RwSignal<Loaded<Snapshot>>,
    blueprints: RwSignal<Loaded<Blueprint>>,
    loading: RwSignal<bool>,
    // The app's handles, taken once: actions run in event handlers and tasks, where
    // there is no owner to read context from.
    api: Api,
    nav: Nav,
    toasts: Toasts,
    devboxes: Devboxes,
    statuses: Statuses,
}

/// The palette, when the app has one (an embed does not: its keys are the host's).
pub fn use_palette() -> Option<Palette> {
    use_context::<Palette>()
}

impl Palette {
    fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            last: RwSignal::new(None),
            dialog: RwSignal::new(None),
            recents: RwSignal::new(data::load_recents()),
            snapshots: RwSignal::new(None),
            blueprints: RwSignal::new(None),
            loading: RwSignal::new(false),
            api: use_api(),
            nav: use_nav(),
            toasts: use_toasts(),
            devboxes: use_devboxes(),
            statuses: use_statuses(),
        }
    }

    /// An item was opened (from the palette or anywhere else): it becomes recent.
    fn touch(&self, kind: Kind, id: &str) {
        self.recents.update(|r| r.touch(kind, id));
        self.recents.with_untracked(data::save_recents);
    }

    /// Loads the snapshots and blueprints (all pages), keeping what was there while
    /// the new lists come in.
    fn load(&self) {
        if self.loading.get_untracked() {
            return;
        }
        self.loading.set(true);
        let api = self.api;
        let me = *self;
        spawn_local(async move {
            let filter = crate::api::SnapshotFilter::default();
            let (snaps, bps) = futures::join!(api.list_snapshots(&filter), api.list_blueprints());
            me.snapshots.set(Some(snaps));
            me.blueprints.set(Some(bps));
            me.loading.set(false);
        });
    }

    /// The action of the last palette run, on a list's row (`.`).
    pub fn repeat(&self, kind: Kind, id: &str) -> Result<(), String> {
        let Some(verb) = self.last.get_untracked() else {
            return Err(
                "Nothing to repeat yet: run an action from the palette (Ctrl+K) first.".into(),
            );
        };
        if !Verb::of(kind).contains(&verb) {
            return Err(format!(
                "“{}” does not apply to a {}.",
                verb.label("").trim_end_matches('…').trim(),
                kind.as_str()
            ));
        }
        self.run(kind, id.to_owned(), verb);
        Ok(())
    }

    /// Runs an action: opens the page, or the dialog the rest of the app uses for it.
    fn run(&self, kind: Kind, id: String, verb: Verb) {
        let (nav, toasts) = (self.nav, self.toasts);
        if verb != Verb::Open {
            self.last.set(Some(verb));
        }
        // Opened or acted on: either way it is what the person works with now.
        self.touch(kind, &id);
        match verb {
            Verb::Open => {
                if let Some(page) = data::page_of(kind, &id) {
                    nav.go(&page);
                }
            }
            Verb::CleanUp => nav.go(&Page::cleanup_of(id)),
            Verb::Snapshot => {
                let me = *self;
                spawn_local(async move {
                    match me.devbox(&id).await {
                        Ok(d) => me.dialog.set(Some(Dialog::Snapshot(Box::new(d)))),
                        Err(e) => toasts.push(Tone::Err, e),
                    }
                });
            }
            Verb::Restore | Verb::FanOut => {
                let me = *self;
                spawn_local(async move {
                    match me.complete_snapshot(&id).await {
                        Ok(s) if verb == Verb::FanOut => {
                            me.dialog.set(Some(Dialog::Fanout(Box::new(s))));
                        }
                        Ok(s) => match me.devbox(&s.source_devbox_id).await {
                            Ok(d) => me
                                .dialog
                                .set(Some(Dialog::Restore(Box::new(s), Box::new(d)))),
                            Err(e) => toasts.push(Tone::Err, e),
                        },
                        Err(e) => toasts.push(Tone::Err, e),
                    }
                });
            }
        }
    }

    /// A devbox from the shared list, or asked for when the list does not have it.
    async fn devbox(&self, id: &str) -> Result<Devbox, String> {
        let listed = untrack(|| {
            self.devboxes
                .list()
                .with(|l| l.iter().find(|d| d.id == id).cloned())
        });
        match listed {
            Some(d) => Ok(d),
            None => self
                .api
                .get_devbox(id)
                .await
                .map_err(|e| format!("Could not read devbox {id}: {}", api_message(&e))),
        }
    }

    /// A snapshot with its current status; only a complete one can start devboxes
    /// (the same condition the snapshot page's buttons have).
    async fn complete_snapshot(&self, id: &str) -> Result<Snapshot, String> {
        let statuses = self.statuses;
        let view = self
            .api
            .snapshot_status(id)
            .await
            .map_err(|e| format!("Could not read snapshot {id}: {}", api_message(&e)))?;
        statuses.record(id, view.status, view.error_message.clone());
        let snapshot = view
            .snapshot
            .or_else(|| {
                self.snapshots.with_untracked(|l| {
                    l.as_ref()
                        .and_then(|r| r.as_ref().ok())
                        .and_then(|l| l.iter().find(|s| s.id == id).cloned())
                })
            })
            .ok_or_else(|| format!("Snapshot {id} was not found."))?;
        if view.status != SnapshotStatus::Complete {
            return Err(format!(
                "“{}” is {}: only a complete snapshot can start devboxes.",
                snapshot_label(&snapshot),
                view.status.as_str()
            ));
        }
        Ok(snapshot)
    }
}

/// Installs the palette: the `Ctrl-K` / `⌘-K` key, the palette itself, the dialogs its
/// actions open, and the recents kept as pages are opened.
#[component]
pub fn PaletteHost() -> impl IntoView {
    let palette = Palette::new();
    provide_context(palette);
    let nav = use_nav();
    // Opening an item's page anywhere makes it recent.
    Effect::new(move |_| {
        if let Some((kind, id)) = nav.page().get().as_ref().and_then(data::subject_of) {
            palette.touch(kind, &id);
        }
    });
    let handle = window_event_listener(ev::keydown, move |e| {
        let k = e.key();
        if (e.ctrl_key() || e.meta_key()) && !e.alt_key() && k.eq_ignore_ascii_case("k") {
            e.prevent_default();
            let opening = !palette.open.get_untracked();
            if opening {
                palette.dialog.set(None);
                palette.load();
            }
            palette.open.set(opening);
        }
    });
    on_cleanup(move || handle.remove());
    let close_dialog = Callback::new(move |()| palette.dialog.set(None));
    view! {
        <Show when=move || palette.open.get()>
            <PaletteBox palette=palette />
        </Show>
        {move || {
            palette
                .dialog
                .get()
                .map(|d| match d {
                    Dialog::Snapshot(d) => {
                        view! { <SnapshotDialog devbox=*d on_close=close_dialog /> }.into_any()
                    }
                    Dialog::Restore(s, d) => {
                        view! { <RestoreDialog snapshot=*s devbox=*d on_close=close_dialog /> }
                            .into_any()
                    }
                    Dialog::Fanout(s) => {
                        view! { <FanoutDialog snapshot=*s on_close=close_dialog /> }.into_any()
                    }
                })
        }}
        <list_keys::ListKeys />
    }
}

/// The group a row is shown under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// Recently opened or acted on (an empty query lists these first).
    Recent,
    Kind(Kind),
    /// The other actions of the focused item.
    Actions,
}

impl Group {
    fn heading(self) -> &'static str {
        match self {
            Group::Recent => "Recent",
            Group::Kind(k) => k.group(),
            Group::Actions => "Actions",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Group::Recent => "recent",
            Group::Kind(k) => k.as_str(),
            Group::Actions => "actions",
        }
    }
}

/// One row of the list: a hit, and the group it is shown under.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    hit: Hit,
    group: Group,
}

/// The rows for a query: for an empty query the recents (in their order) then the
/// pages; otherwise the hits grouped by kind (groups in a fixed order, hits in score
/// order inside each); then the other actions of the focused item.
fn rows_of(
    entries: &[Entry],
    hits: &[Hit],
    recents: &Recents,
    empty_query: bool,
    target: Option<usize>,
) -> Vec<Row> {
    let verb_query = hits.first().is_some_and(|h| h.verb != Verb::Open);
    let mut rows: Vec<Row> = Vec::with_capacity(hits.len() + 3);
    let recent = |h: &Hit| {
        let e = &entries[h.entry];
        empty_query && recents.rank(&e.kind, &e.id).is_some()
    };
    rows.extend(hits.iter().filter(|h| recent(h)).map(|h| Row {
        hit: *h,
        group: Group::Recent,
    }));
    for kind in Kind::ALL {
        rows.extend(
            hits.iter()
                .filter(|h| entries[h.entry].kind == kind && !recent(h))
                .map(|h| Row {
                    hit: *h,
                    group: Group::Kind(kind),
                }),
        );
    }
    if !verb_query && let Some(t) = target.filter(|t| *t < entries.len()) {
        rows.extend(
            Verb::of(entries[t].kind)
                .iter()
                .filter(|v| **v != Verb::Open)
                .map(|verb| Row {
                    hit: Hit {
                        entry: t,
                        verb: *verb,
                    },
                    group: Group::Actions,
                }),
        );
    }
    rows
}

/// The palette: input, results, hints.
#[component]
fn PaletteBox(palette: Palette) -> impl IntoView {
    let devboxes = use_devboxes();
    let nav = use_nav();
    let query = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let input = NodeRef::<leptos::html::Input>::new();
    let opener = StoredValue::new_local(
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element()),
    );
    on_cleanup(move || {
        use wasm_bindgen::JsCast;
        if let Some(Some(el)) = opener.try_get_value()
            && let Ok(el) = el.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = el.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });

    let entries = Memo::new(move |_| {
        fn ok<T>(l: &Loaded<T>) -> &[T] {
            l.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map_or(&[], Vec::as_slice)
        }
        palette.snapshots.with(|s| {
            palette
                .blueprints
                .with(|b| devboxes.list().with(|d| data::entries(d, ok(s), ok(b))))
        })
    });
    let hits = Memo::new(move |_| {
        let q = query.get();
        entries.with(|e| palette.recents.with(|r| search(e, &q, r, SHOWN)))
    });
    // The item whose actions are offered: the one last moved to, at first the item
    // of the page the person is on.
    let here = untrack(|| nav.page().get().as_ref().and_then(data::subject_of));
    let target = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        if target.get_untracked().is_none()
            && let Some((kind, id)) = &here
        {
            let found = entries.with(|e| e.iter().position(|x| x.kind == *kind && x.id == *id));
            if found.is_some() {
                target.set(found);
            }
        }
    });
    let rows = Memo::new(move |_| {
        let empty = query.with(|q| q.trim().is_empty());
        entries.with(|e| {
            hits.with(|h| {
                palette
                    .recents
                    .with(|r| rows_of(e, h, r, empty, target.get()))
            })
        })
    });
    // Typing starts again at the top.
    Effect::new(move |_| {
        query.track();
        active.set(0);
    });
    // Moving onto an item makes its actions the ones offered.
    Effect::new(move |_| {
        let i = active.get();
        let r = rows.with(|r| r.get(i).copied());
        if let Some(Row { hit, group }) = r
            && group != Group::Actions
            && target.get_untracked() != Some(hit.entry)
        {
            target.set(Some(hit.entry));
        }
    });

    let close = move || palette.open.set(false);
    let choose = move |i: usize| {
        let Some(row) = rows.with_untracked(|r| r.get(i).copied()) else {
            return;
        };
        let (kind, id) = entries.with_untracked(|e| {
            let x = &e[row.hit.entry];
            (x.kind, x.id.clone())
        });
        close();
        palette.run(kind, id, row.hit.verb);
    };
    let on_keydown = move |e: web_sys::KeyboardEvent| {
        let n = rows.with_untracked(Vec::len);
        match e.key().as_str() {
            "ArrowDown" => {
                e.prevent_default();
                if n > 0 {
                    active.update(|a| *a = (*a + 1) % n);
                }
            }
            "ArrowUp" => {
                e.prevent_default();
                if n > 0 {
                    active.update(|a| *a = (*a + n - 1) % n);
                }
            }
            "Home" if n > 0 => {
                e.prevent_default();
                active.set(0);
            }
            "End" if n > 0 => {
                e.prevent_default();
                active.set(n - 1);
            }
            "Enter" => {
                e.prevent_default();
                choose(active.get_untracked());
            }
            "Escape" => {
                e.prevent_default();
                e.stop_propagation();
                close();
            }
            // The palette has one field: Tab stays in it.
            "Tab" => e.prevent_default(),
            _ => {}
        }
    };
    let option_id = |i: usize| format!("sd-palette-opt-{i}");
    let activedescendant =
        move || (active.get() < rows.with(Vec::len)).then(|| option_id(active.get()));
    let count = move || {
        let n = rows.with(Vec::len);
        let more = if palette.loading.get() {
            " (still loading snapshots)"
        } else {
            ""
        };
        match n {
            0 => format!("No results{more}"),
            1 => format!("1 result{more}"),
            n => format!("{n} results{more}"),
        }
    };

    view! {
        <div
            class="sd-modal-backdrop sd-palette-backdrop"
            on:mousedown=move |ev| {
                if ev.target() == ev.current_target() {
                    close();
                }
            }
        >
            <div class="sd-palette" role="dialog" aria-modal="true" aria-label="Command palette" on:keydown=on_keydown>
                <label class="sd-visually-hidden" for="sd-palette-input">
                    "Jump to a page, devbox, snapshot, blueprint or fan-out, or type an action"
                </label>
                <input
                    id="sd-palette-input"
                    class="sd-palette__input"
                    node_ref=input
                    type="text"
                    role="combobox"
                    aria-expanded="true"
                    aria-controls="sd-palette-list"
                    aria-autocomplete="list"
                    aria-activedescendant=activedescendant
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="Name or id… or “restore nightly”, “snapshot ci”"
                    prop:value=move || query.get()
                    on:input=move |e| query.set(event_target_value(&e))
                />
                <p class="sd-visually-hidden" role="status" aria-live="polite" data-testid="palette-count">{count}</p>
                <LoadNote palette=palette />
                <Results rows=rows entries=entries active=active choose=Callback::new(choose) />
                <PaletteHints />
            </div>
        </div>
    }
}

/// What could not be loaded (the rest stays searchable).
#[component]
fn LoadNote(palette: Palette) -> impl IntoView {
    let failed = move || {
        let s = palette
            .snapshots
            .with(|l| l.as_ref().and_then(|r| r.as_ref().err()).map(api_message));
        let b = palette
            .blueprints
            .with(|l| l.as_ref().and_then(|r| r.as_ref().err()).map(api_message));
        match (s, b) {
            (None, None) => None,
            (Some(e), _) => Some(format!(
                "Snapshots could not be loaded ({e}); devboxes and pages are still listed."
            )),
            (None, Some(e)) => Some(format!("Blueprints could not be loaded ({e}).")),
        }
    };
    view! {
        {move || failed().map(|m| view! { <p class="sd-palette__note" role="alert">{m}</p> })}
        <Show when=move || palette.loading.get() && palette.snapshots.with(Option::is_none)>
            <p class="sd-palette__note sd-muted">"Loading snapshots and blueprints…"</p>
        </Show>
    }
}

/// The listbox: one group per kind, then the focused item's actions.
#[component]
fn Results(
    rows: Memo<Vec<Row>>,
    entries: Memo<Vec<Entry>>,
    active: RwSignal<usize>,
    choose: Callback<usize>,
) -> impl IntoView {
    // Keep the active option in view as the arrows move it.
    Effect::new(move |_| {
        let i = active.get();
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&format!("sd-palette-opt-{i}")))
        {
            let opts = web_sys::ScrollIntoViewOptions::new();
            opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
            el.scroll_into_view_with_scroll_into_view_options(&opts);
        }
    });
    let body = move || {
        let rows = rows.get();
        let mut groups: Vec<(Group, Vec<(usize, Row)>)> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            match groups.last_mut() {
                Some((g, list)) if *g == r.group => list.push((i, *r)),
                _ => groups.push((r.group, vec![(i, *r)])),
            }
        }
        groups
            .into_iter()
            .map(|(group, list)| {
                let heading = group.heading();
                let gid = format!("sd-palette-g-{}", group.key());
                let labelled_by = gid.clone();
                view! {
                    <div role="group" aria-labelledby=labelled_by class="sd-palette__group">
                        <div role="presentation" id=gid class="sd-palette__head">{heading}</div>
                        {list
                            .into_iter()
                            .map(|(i, row)| view! { <ResultOption i=i row=row entries=entries active=active choose=choose /> })
                            .collect_view()}
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <div id="sd-palette-list" class="sd-palette__list" role="listbox" aria-label="Results">
            {body}
        </div>
    }
}

/// One option: label, detail, and the keys or kind on the right.
#[component]
fn ResultOption(
    i: usize,
    row: Row,
    entries: Memo<Vec<Entry>>,
    active: RwSignal<usize>,
    choose: Callback<usize>,
) -> impl IntoView {
    let (label, detail, kind, name) = entries.with_untracked(|e| {
        let x = &e[row.hit.entry];
        let label = match (row.group, row.hit.verb) {
            (Group::Actions, verb)
            | (_, verb @ (Verb::Snapshot | Verb::Restore | Verb::CleanUp | Verb::FanOut)) => {
                verb.label(x.label())
            }
            (_, Verb::Open) => x.label().to_owned(),
        };
        (label, x.detail.clone(), x.kind, x.name.clone())
    });
    let id = entries.with_untracked(|e| e[row.hit.entry].id.clone());
    // A page's "g x" keys come from the one shortcut table.
    let keys = (kind == Kind::Page && row.hit.verb == Verb::Open)
        .then(|| keys::go_keys(&name))
        .flatten();
    let show_id = kind != Kind::Page && !name.trim().is_empty();
    let selected = move || (active.get() == i).to_string();
    view! {
        <div
            role="option"
            id=format!("sd-palette-opt-{i}")
            class="sd-palette__opt"
            aria-selected=selected
            data-kind=kind.as_str()
            data-verb=row.hit.verb.as_str()
            data-id=id.clone()
            on:mousemove=move |_| if active.get_untracked() != i { active.set(i) }
            on:mousedown=move |e| e.prevent_default()
            on:click=move |_| choose.run(i)
        >
            <span class="sd-palette__label">{label}</span>
            {show_id.then(|| view! { <span class="sd-palette__id sd-mono">{crate::fmt::middle_truncate(&id)}</span> })}
            <span class="sd-palette__detail">{detail}</span>
            {keys.map(|k| view! {
                <span class="sd-palette__keys" aria-hidden="true">
                    <KeyCaps keys=k />
                </span>
            })}
        </div>
    }
}

/// The palette's own keys, from the shortcut table.
#[component]
fn PaletteHints() -> impl IntoView {
    let hints: Vec<_> = keys::SHORTCUTS
        .iter()
        .filter(|s| s.area == keys::Area::Palette || s.does == Does::Close)
        .map(|s| {
            view! {
                <span class="sd-palette__hint">
                    <KeyCaps keys=s.keys />
                    {s.what}
                </span>
            }
        })
        .collect();
    view! { <div class="sd-palette__foot" aria-hidden="true">{hints}</div> }
}
