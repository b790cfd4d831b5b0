//! The lineage graph as SVG: the account's history (snapdeck-core's [`Graph`]) laid
//! out in layers ([`snapdeck_core::layered`]), with zoom and pan (wheel, drag, the
//! buttons, `+`/`−`/`0` and Shift+arrows), a keyboard cursor that moves along edges
//! (← parent, → child, ↑/↓ the next node of the layer, Enter opens), "you are here" on
//! the focused node, and long lines of snapshots collapsed into one node (click or
//! Enter expands).
//!
//! Only what is in view is in the DOM: the visible rectangle, snapped outward to tiles
//! so most pan frames change one `transform` and nothing else, is looked up layer by
//! layer ([`Layout::visible`]); edges are one `<path>` per kind.

use std::collections::BTreeSet;
use std::sync::Arc;

use leptos::prelude::*;
use snapdeck_api::{Blueprint, Snapshot};
use snapdeck_core::graph::{self, Filter, Graph, MIN_CHAIN, NODE_H, NODE_W, NodeKind, Step};
use snapdeck_core::layered::{Layout, Rect};
use wasm_bindgen::JsCast;

use crate::api::{ApiError, SnapshotFilter, use_page_api};
use crate::components::ErrorState;
use crate::hooks::use_devboxes::use_devboxes;
use crate::hooks::use_nav::use_nav;
use crate::hooks::use_now::now_ms;
use crate::hooks::use_refresh::use_refresh;
use crate::hooks::use_statuses::use_visible_statuses;
use crate::routes::{LineageQuery, Page};
use crate::tone::Tone;

const MIN_ZOOM: f64 = 0.3;
const MAX_ZOOM: f64 = 2.0;
/// Below this the whole graph is not fitted on first show (labels would be unreadable).
const FIT_AT_LEAST: f64 = 0.7;
/// Statuses fetched for at most this many snapshots in view.
const STATUS_IN_VIEW: usize = 40;
const LABEL_CHARS: usize = 27;
const DAY_MS: i64 = 86_400_000;

/// The full graph, shared without copying (compared by pointer).
struct Shared<T>(Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// One drawing: the graph as shown (filtered, collapsed) and its layout.
struct Drawn {
    graph: Graph,
    layout: Layout,
    /// Bumped for every new drawing: node views are keyed by it.
    generation: u64,
    focus: Option<usize>,
    /// Per node, the layout edges that end / start there.
    in_edges: Vec<Vec<usize>>,
    out_edges: Vec<Vec<usize>>,
    groups: Vec<(String, Vec<usize>)>,
    /// How many nodes were collapsed into chains.
    collapsed: usize,
}

/// The camera: `(x, y)` is the world point at the top-left corner, `k` the zoom.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cam {
    x: f64,
    y: f64,
    k: f64,
}

impl Cam {
    fn zoom_at(self, k: f64, sx: f64, sy: f64) -> Self {
        let k = k.clamp(MIN_ZOOM, MAX_ZOOM);
        let (wx, wy) = (self.x + sx / self.k, self.y + sy / self.k);
        Cam {
            x: wx - sx / k,
            y: wy - sy / k,
            k,
        }
    }

    fn centred(wx: f64, wy: f64, k: f64, size: (f64, f64)) -> Self {
        Cam {
            x: wx - size.0 / 2.0 / k,
            y: wy - size.1 / 2.0 / k,
            k,
        }
    }
}

/// The three lists the graph is built from, loaded for the page (every snapshot page
/// by page, the devbox list shared with the rest of the app), as one graph.
/// The full graph once all three lists are in (`None` before).
type FullGraph = Memo<Option<Result<Shared<Graph>, ApiError>>>;

fn use_full_graph() -> (FullGraph, Callback<()>) {
    let api = use_page_api();
    let version = use_refresh();
    let devboxes = use_devboxes();
    let snapshots = LocalResource::new(move || {
        let _ = (api.track(), version.track());
        async move { api.list_snapshots(&SnapshotFilter::default()).await }
    });
    let blueprints = LocalResource::new(move || {
        let _ = (api.track(), version.track());
        async move { api.list_blueprints().await }
    });
    let full = Memo::new(move |_| {
        let s = snapshots.get()?;
        let b = blueprints.get()?;
        devboxes.with(|d| {
            let d = d?;
            Some(build(d, &s, &b))
        })
    });
    let retry = Callback::new(move |_| {
        snapshots.refetch();
        blueprints.refetch();
        devboxes.refetch();
    });
    (full, retry)
}

fn build(
    d: &Result<Vec<snapdeck_api::Devbox>, ApiError>,
    s: &Result<Vec<Snapshot>, ApiError>,
    b: &Result<Vec<Blueprint>, ApiError>,
) -> Result<Shared<Graph>, ApiError> {
    let (d, s, b) = (d.as_ref(), s.as_ref(), b.as_ref());
    let (d, s, b) = (
        d.map_err(Clone::clone)?,
        s.map_err(Clone::clone)?,
        b.map_err(Clone::clone)?,
    );
    Ok(Shared(Arc::new(Graph::build(d, s, b))))
}

fn draw(full: &Graph, q: &LineageQuery, expanded: &BTreeSet<String>, generation: u64) -> Drawn {
    let filter = Filter {
        family: q.family.clone(),
        blueprint: q.blueprint.clone(),
        since_ms: q.days.map(|d| now_ms() - i64::from(d) * DAY_MS),
    };
    let focus_id = q.focus.clone();
    let keep = |id: &str| expanded.contains(id) || focus_id.as_deref() == Some(id);
    let before = if q.is_filtered() {
        full.filter(&filter)
    } else {
        full.clone()
    };
    let graph = before.collapse(MIN_CHAIN, &keep);
    let collapsed = before.nodes.len() - graph.nodes.len();
    let layout = graph.layout();
    let n = graph.nodes.len();
    let mut in_edges = vec![Vec::new(); n];
    let mut out_edges = vec![Vec::new(); n];
    for (i, e) in layout.edges.iter().enumerate() {
        out_edges[e.from].push(i);
        in_edges[e.to].push(i);
    }
    let focus = q.focus.as_deref().and_then(|id| graph.find(id));
    let groups = graph.groups();
    Drawn {
        graph,
        layout,
        generation,
        focus,
        in_edges,
        out_edges,
        groups,
        collapsed,
    }
}

/// Where a node leads: its page (`None` for a ghost or a chain).
fn node_href(n: &graph::Node) -> Option<String> {
    match n.kind {
        NodeKind::Blueprint => Some(Page::blueprint(&n.id).href()),
        NodeKind::Devbox => Some(Page::devbox(&n.id).href()),
        NodeKind::Snapshot => Some(Page::snapshot(&n.id).href()),
        NodeKind::Ghost | NodeKind::Chain => None,
    }
}

fn kind_word(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Blueprint => "blueprint",
        NodeKind::Devbox => "devbox",
        NodeKind::Snapshot => "snapshot",
        NodeKind::Ghost => "deleted snapshot",
        NodeKind::Chain => "collapsed snapshots",
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= LABEL_CHARS {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(LABEL_CHARS - 1).collect();
    out.push('…');
    out
}

/// The tone of a node whose colour does not depend on a fetched status.
fn fixed_tone(n: &graph::Node) -> Option<Tone> {
    match n.kind {
        NodeKind::Blueprint => n.blueprint_status.map(Tone::of_blueprint),
        NodeKind::Devbox if !n.known => Some(Tone::Muted),
        NodeKind::Devbox => n.devbox_status.map(Tone::of_devbox),
        NodeKind::Ghost => Some(Tone::Muted),
        NodeKind::Chain => Some(Tone::Info),
        NodeKind::Snapshot => None,
    }
}

/// A sentence for the cursor's node (read out by screen readers).
fn describe(d: &Drawn, v: usize) -> String {
    let n = &d.graph.nodes[v];
    let mut parts = vec![format!("{} {}", kind_word(n.kind), n.label)];
    if let Some(s) = n.devbox_status {
        parts.push(s.as_str().to_owned());
    }
    if let Some(s) = n.blueprint_status {
        parts.push(s.as_str().to_owned());
    }
    if !n.known {
        parts.push("no longer listed".into());
    }
    if n.pinned {
        parts.push("pinned".into());
    }
    if let Some(g) = &n.group {
        let size = d
            .groups
            .iter()
            .find(|(k, _)| k == g)
            .map_or(1, |(_, m)| m.len());
        if size > 1 {
            parts.push(match g.strip_prefix("from:") {
                Some(_) => format!("one of {size} started from the same snapshot"),
                None => format!("one of {size} in fan-out {g}"),
            });
        }
    }
    if n.kind == NodeKind::Chain {
        parts.push("Enter expands".into());
    }
    let kids = d.graph.children(v).len();
    if kids > 0 {
        parts.push(format!("{kids} below it"));
    }
    if d.focus == Some(v) {
        parts.push("you are here".into());
    }
    parts.join(", ")
}

/// The lineage graph, filtered by `query` (family, blueprint, time window) with its
/// focus marked.
#[component]
pub fn LineageGraph(
    /// What to show and which node is "you are here".
    #[prop(into)]
    query: Signal<LineageQuery>,
    /// A short graph for a section of another page.
    #[prop(optional)]
    compact: bool,
) -> impl IntoView {
    let (full, retry) = use_full_graph();
    let expanded = RwSignal::new(BTreeSet::<String>::new());
    let generation = StoredValue::new(0u64);
    let drawn: Memo<Option<Result<Shared<Drawn>, ApiError>>> = Memo::new(move |_| {
        let full = full.get()?;
        let q = query.get();
        Some(full.map(|g| {
            let n = generation.get_value() + 1;
            generation.set_value(n);
            expanded.with(|e| Shared(Arc::new(draw(&g.0, &q, e, n))))
        }))
    });
    // The view switches on the phase only: a new drawing (an expanded chain, a new
    // filter) keeps the canvas, its camera and its cursor.
    let phase = Memo::new(move |_| match drawn.get() {
        None => 0u8,
        Some(Err(_)) => 1,
        Some(Ok(d)) if d.0.graph.nodes.is_empty() => 2,
        Some(Ok(_)) => 3,
    });
    view! {
        <div class="sd-lg" class:sd-lg--compact=compact data-testid="lineage">
            {move || match phase.get() {
                0 => view! { <p class="sd-muted sd-lg__loading" aria-busy="true">"Loading the lineage…"</p> }.into_any(),
                1 => match drawn.get_untracked() {
                    Some(Err(e)) => view! { <ErrorState error=e on_retry=move |_| retry.run(()) /> }.into_any(),
                    _ => ().into_any(),
                },
                2 => view! {
                    <p class="sd-muted sd-lg__empty" data-testid="lineage-empty">
                        {if query.with_untracked(LineageQuery::is_filtered) { "Nothing matches this filter." } else { "No devboxes, snapshots or blueprints yet." }}
                    </p>
                }.into_any(),
                _ => view! { <Canvas drawn=drawn expanded=expanded compact=compact /> }.into_any(),
            }}
        </div>
    }
}

/// The SVG with its toolbar and the cursor's description.
#[component]
fn Canvas(
    drawn: Memo<Option<Result<Shared<Drawn>, ApiError>>>,
    expanded: RwSignal<BTreeSet<String>>,
    compact: bool,
) -> impl IntoView {
    let nav = use_nav();
    let current = Memo::new(move |_| drawn.get().and_then(Result::ok));
    let with_d = move |f: &dyn Fn(&Drawn)| {
        if let Some(d) = current.get_untracked() {
            f(&d.0);
        }
    };
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let size = RwSignal::new((0.0f64, 0.0f64));
    let cam = RwSignal::new(Cam {
        x: 0.0,
        y: 0.0,
        k: 1.0,
    });
    // The cursor, by id so it survives a new drawing (an expanded chain).
    let cursor = RwSignal::new(None::<String>);
    let placed_gen = StoredValue::new(0u64);

    let measure = move || {
        if let Some(svg) = svg_ref.get_untracked() {
            let el: &web_sys::Element = svg.unchecked_ref();
            size.set((f64::from(el.client_width()), f64::from(el.client_height())));
        }
    };
    Effect::new(move |_| {
        if svg_ref.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let fit = move |d: &Drawn, size: (f64, f64)| {
        let (w, h) = (
            d.layout.width + NODE_W + 48.0,
            d.layout.height + NODE_H + 72.0,
        );
        let k = (size.0 / w).min(size.1 / h).clamp(MIN_ZOOM, 1.0);
        Cam::centred(d.layout.width / 2.0, d.layout.height / 2.0, k, size)
    };
    // Place the camera once per drawing: on the focus, else the whole graph when it
    // fits readably, else its start.
    Effect::new(move |_| {
        let (Some(d), s) = (current.get(), size.get()) else {
            return;
        };
        if s.0 <= 0.0 || placed_gen.get_value() == d.0.generation {
            return;
        }
        let first = placed_gen.get_value() == 0;
        placed_gen.set_value(d.0.generation);
        let d = &d.0;
        let target = cursor
            .get_untracked()
            .and_then(|id| d.graph.find(&id))
            .or(d.focus);
        if let Some(v) = target {
            let k = if first { 1.0 } else { cam.get_untracked().k };
            cam.set(Cam::centred(d.layout.x[v], d.layout.y[v], k, s));
            if cursor.get_untracked().is_none() {
                cursor.set(Some(d.graph.nodes[v].id.clone()));
            }
            return;
        }
        let f = fit(d, s);
        // Not readable whole: the topmost root at the left edge (layers are centred on
        // their subtrees, so the world's top-left corner may be empty).
        let top = d
            .layout
            .layers
            .first()
            .and_then(|l| l.first())
            .map_or(0.0, |&v| d.layout.y[v]);
        cam.set(if f.k >= FIT_AT_LEAST {
            f
        } else {
            Cam {
                x: -NODE_W / 2.0 - 24.0,
                y: top - NODE_H - 24.0,
                k: 1.0,
            }
        });
    });

    // What is in view, snapped outward to tiles of 512 screen px.
    let visible = Memo::new(move |_| {
        let Some(d) = current.get() else {
            return (0, Vec::new());
        };
        let (c, s) = (cam.get(), size.get());
        let tile = 512.0 / c.k;
        let snap_lo = |v: f64| (v / tile).floor() * tile;
        let snap_hi = |v: f64| (v / tile).ceil() * tile;
        let view = Rect {
            x0: snap_lo(c.x),
            y0: snap_lo(c.y),
            x1: snap_hi(c.x + s.0.max(1.0) / c.k),
            y1: snap_hi(c.y + s.1.max(1.0) / c.k),
        };
        (
            d.0.generation,
            d.0.layout.visible(view, NODE_W / 2.0, NODE_H / 2.0 + 20.0),
        )
    });
    let status_ids = Signal::derive(move || {
        let Some(d) = current.get() else {
            return Vec::new();
        };
        visible.with(|(_, vis)| {
            vis.iter()
                .filter(|&&v| d.0.graph.nodes[v].kind == NodeKind::Snapshot)
                .take(STATUS_IN_VIEW)
                .map(|&v| d.0.graph.nodes[v].id.clone())
                .collect()
        })
    });
    let statuses = use_visible_statuses(status_ids);

    let open = move |v: usize| {
        with_d(&|d| {
            let n = &d.graph.nodes[v];
            cursor.set(Some(n.id.clone()));
            if n.kind == NodeKind::Chain {
                let id = n.id.clone();
                // Keep the cursor on the chain's first snapshot once it is drawn.
                cursor.set(n.hidden.first().cloned());
                expanded.update(|e| {
                    e.insert(id);
                });
            } else if let Some(href) = node_href(n) {
                nav.go_href(&href);
            }
        })
    };
    let cursor_index = move || {
        let d = current.get()?;
        let id = cursor.get()?;
        d.0.graph.find(&id)
    };
    let bring_into_view = move |v: usize| {
        with_d(&|d| {
            let (c, s) = (cam.get_untracked(), size.get_untracked());
            let (sx, sy) = ((d.layout.x[v] - c.x) * c.k, (d.layout.y[v] - c.y) * c.k);
            let (mx, my) = (NODE_W * c.k, NODE_H * 2.0 * c.k);
            if sx < mx || sy < my || sx > s.0 - mx || sy > s.1 - my {
                cam.set(Cam::centred(d.layout.x[v], d.layout.y[v], c.k, s));
            }
        })
    };
    let zoom_by = move |f: f64| {
        let (c, s) = (cam.get_untracked(), size.get_untracked());
        cam.set(c.zoom_at(c.k * f, s.0 / 2.0, s.1 / 2.0));
    };
    let fit_now = move || with_d(&|d| cam.set(fit(d, size.get_untracked())));
    let to_focus = move || {
        with_d(&|d| {
            if let Some(v) = d.focus {
                cursor.set(Some(d.graph.nodes[v].id.clone()));
                cam.set(Cam::centred(
                    d.layout.x[v],
                    d.layout.y[v],
                    cam.get_untracked().k,
                    size.get_untracked(),
                ));
            }
        })
    };

    let on_key = move |e: web_sys::KeyboardEvent| {
        if e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        let pan = |dx: f64, dy: f64| {
            cam.update(|c| {
                c.x += dx / c.k;
                c.y += dy / c.k;
            })
        };
        let dir = match e.key().as_str() {
            "ArrowLeft" if e.shift_key() => {
                return {
                    e.prevent_default();
                    pan(-120.0, 0.0)
                };
            }
            "ArrowRight" if e.shift_key() => {
                return {
                    e.prevent_default();
                    pan(120.0, 0.0)
                };
            }
            "ArrowUp" if e.shift_key() => {
                return {
                    e.prevent_default();
                    pan(0.0, -120.0)
                };
            }
            "ArrowDown" if e.shift_key() => {
                return {
                    e.prevent_default();
                    pan(0.0, 120.0)
                };
            }
            "ArrowLeft" => Step::Parent,
            "ArrowRight" => Step::Child,
            "ArrowUp" => Step::Up,
            "ArrowDown" => Step::Down,
            "Enter" => {
                e.prevent_default();
                if let Some(v) = cursor_index() {
                    open(v);
                }
                return;
            }
            "+" | "=" => {
                return {
                    e.prevent_default();
                    zoom_by(1.25)
                };
            }
            "-" | "_" => {
                return {
                    e.prevent_default();
                    zoom_by(0.8)
                };
            }
            "0" => {
                return {
                    e.prevent_default();
                    fit_now()
                };
            }
            "Home" => {
                return {
                    e.prevent_default();
                    to_focus()
                };
            }
            _ => return,
        };
        e.prevent_default();
        with_d(&|d| {
            let from = cursor
                .get_untracked()
                .and_then(|id| d.graph.find(&id))
                .or(d.focus)
                .or_else(|| {
                    // The node nearest the middle of the view.
                    let (c, s) = (cam.get_untracked(), size.get_untracked());
                    let (mx, my) = (c.x + s.0 / 2.0 / c.k, c.y + s.1 / 2.0 / c.k);
                    (0..d.graph.nodes.len()).min_by(|&a, &b| {
                        let da = (d.layout.x[a] - mx).powi(2) + (d.layout.y[a] - my).powi(2);
                        let db = (d.layout.x[b] - mx).powi(2) + (d.layout.y[b] - my).powi(2);
                        da.total_cmp(&db)
                    })
                });
            let Some(from) = from else { return };
            let to = if cursor.get_untracked().is_none() {
                Some(from)
            } else {
                graph::step(&d.graph, &d.layout, from, dir)
            };
            if let Some(to) = to {
                cursor.set(Some(d.graph.nodes[to].id.clone()));
                bring_into_view(to);
            }
        });
    };

    // Pointer: drag pans; a press that barely moved is a click on whatever is under it.
    let drag = StoredValue::new(None::<(f64, f64, Cam, bool)>);
    let on_down = move |e: web_sys::PointerEvent| {
        if e.button() != 0 {
            return;
        }
        drag.set_value(Some((
            f64::from(e.client_x()),
            f64::from(e.client_y()),
            cam.get_untracked(),
            false,
        )));
    };
    let on_move = move |e: web_sys::PointerEvent| {
        let Some((x0, y0, c0, moved)) = drag.get_value() else {
            return;
        };
        let (dx, dy) = (f64::from(e.client_x()) - x0, f64::from(e.client_y()) - y0);
        if !moved && dx.abs() + dy.abs() < 4.0 {
            return;
        }
        if !moved && let Some(svg) = svg_ref.get_untracked() {
            let el: &web_sys::Element = svg.unchecked_ref();
            let _ = el.set_pointer_capture(e.pointer_id());
        }
        drag.set_value(Some((x0, y0, c0, true)));
        cam.set(Cam {
            x: c0.x - dx / c0.k,
            y: c0.y - dy / c0.k,
            k: c0.k,
        });
    };
    let suppress_click = StoredValue::new(false);
    let on_up = move |_: web_sys::PointerEvent| {
        let moved = drag.get_value().is_some_and(|d| d.3);
        suppress_click.set_value(moved);
        drag.set_value(None);
    };
    let on_click = move |e: web_sys::MouseEvent| {
        if suppress_click.get_value() {
            suppress_click.set_value(false);
            e.prevent_default();
            return;
        }
        let hit = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("[data-index]").ok().flatten())
            .and_then(|el| el.get_attribute("data-index"))
            .and_then(|s| s.parse::<usize>().ok());
        if let Some(v) = hit {
            // Modified clicks keep the browser's meaning (new tab, new window).
            if e.ctrl_key() || e.meta_key() || e.shift_key() || e.button() != 0 {
                return;
            }
            e.prevent_default();
            open(v);
        }
    };
    let on_wheel = move |e: web_sys::WheelEvent| {
        e.prevent_default();
        let Some(svg) = svg_ref.get_untracked() else {
            return;
        };
        let el: &web_sys::Element = svg.unchecked_ref();
        let r = el.get_bounding_client_rect();
        let (sx, sy) = (
            f64::from(e.client_x()) - r.left(),
            f64::from(e.client_y()) - r.top(),
        );
        let c = cam.get_untracked();
        cam.set(c.zoom_at(c.k * (-e.delta_y() * 0.0015).exp(), sx, sy));
    };

    let transform = move || {
        let c = cam.get();
        format!(
            "translate({:.1} {:.1}) scale({:.4})",
            -c.x * c.k,
            -c.y * c.k,
            c.k
        )
    };
    let edge_paths = Memo::new(move |_| {
        let Some(d) = current.get() else {
            return [String::new(), String::new(), String::new()];
        };
        let d = &d.0;
        let mut out = [String::new(), String::new(), String::new()];
        visible.with(|(_, vis)| {
            let shown: BTreeSet<usize> = vis.iter().copied().collect();
            for &v in vis {
                let mine = d.in_edges[v].iter().copied().chain(
                    d.out_edges[v]
                        .iter()
                        .copied()
                        .filter(|&e| !shown.contains(&d.layout.edges[e].to)),
                );
                for ei in mine {
                    let e = &d.layout.edges[ei];
                    // The layout keeps the graph's edges in their order.
                    let kind = d
                        .graph
                        .edges
                        .get(ei)
                        .filter(|g| g.0 == e.from && g.1 == e.to)
                        .map_or(0, |g| match g.2 {
                            graph::EdgeKind::Took => 0,
                            graph::EdgeKind::Started => 1,
                            graph::EdgeKind::Built => 2,
                        });
                    push_edge(&mut out[kind], &e.points);
                }
            }
        });
        out
    });

    let summary = move || {
        current.get().map(|d| {
            let d = &d.0;
            let mut s = format!("{} nodes", d.graph.nodes.len());
            if d.collapsed > 0 {
                s.push_str(&format!(" ({} snapshots folded into lines)", d.collapsed));
            }
            s
        })
    };
    let described = move || {
        let d = current.get()?;
        let v = cursor_index()?;
        Some((
            describe(&d.0, v),
            node_href(&d.0.graph.nodes[v]),
            d.0.graph.nodes[v].id.clone(),
        ))
    };
    let total = move || current.get().map_or(0, |d| d.0.graph.nodes.len());
    let cursor_ring = move || {
        let d = current.get()?;
        let v = cursor_index()?;
        let (x, y) = (d.0.layout.x[v], d.0.layout.y[v]);
        Some(view! {
            <rect class="sd-lg__cursor" x=x - NODE_W / 2.0 - 4.0 y=y - NODE_H / 2.0 - 4.0
                width=NODE_W + 8.0 height=NODE_H + 8.0 rx="9" aria-hidden="true"></rect>
        })
    };
    let here = move || {
        let d = current.get()?;
        let v = d.0.focus?;
        let (x, y) = (d.0.layout.x[v], d.0.layout.y[v]);
        Some(view! {
            <g class="sd-lg__here" transform=format!("translate({:.1} {:.1})", x - NODE_W / 2.0, y - NODE_H / 2.0 - 20.0) aria-hidden="true">
                <rect width="84" height="17" rx="8.5"></rect>
                <text x="42" y="12.5" text-anchor="middle">"You are here"</text>
            </g>
        })
    };
    let group_boxes = move || {
        let d = current.get()?;
        let d = d.0.clone();
        let shown: BTreeSet<usize> = visible.with(|(_, v)| v.iter().copied().collect());
        Some(
            d.groups
                .iter()
                .filter(|(_, m)| m.iter().any(|v| shown.contains(v)))
                .map(|(key, m)| {
                    let x = d.layout.x[m[0]] - NODE_W / 2.0 - 8.0;
                    let y0 = m
                        .iter()
                        .map(|&v| d.layout.y[v])
                        .fold(f64::INFINITY, f64::min)
                        - NODE_H / 2.0
                        - 5.0;
                    let y1 = m
                        .iter()
                        .map(|&v| d.layout.y[v])
                        .fold(f64::NEG_INFINITY, f64::max)
                        + NODE_H / 2.0
                        + 5.0;
                    let label = match key.strip_prefix("from:") {
                        Some(_) => format!("{} started from one snapshot", m.len()),
                        None => format!("fan-out {key} · {}", m.len()),
                    };
                    view! {
                        <g class="sd-lg__group" data-testid="lineage-group" data-group=key.clone()>
                            <rect x=x y=y0 width=NODE_W + 16.0 height=y1 - y0 rx="10"></rect>
                            <title>{label}</title>
                        </g>
                    }
                })
                .collect_view(),
        )
    };

    view! {
        <div class="sd-lg__bar">
            <div class="sd-lg__zoom" role="group" aria-label="Zoom">
                <button type="button" class="sd-btn sd-btn--sm" aria-label="Zoom out" on:click=move |_| zoom_by(0.8)>"−"</button>
                <button type="button" class="sd-btn sd-btn--sm" aria-label="Zoom in" on:click=move |_| zoom_by(1.25)>"+"</button>
                <button type="button" class="sd-btn sd-btn--sm" data-testid="lineage-fit" on:click=move |_| fit_now()>"Fit"</button>
                <Show when=move || current.get().is_some_and(|d| d.0.focus.is_some())>
                    <button type="button" class="sd-btn sd-btn--sm" on:click=move |_| to_focus()>"You are here"</button>
                </Show>
            </div>
            <span class="sd-muted sd-lg__count" data-testid="lineage-count">{summary}</span>
        </div>
        <svg
            node_ref=svg_ref
            class="sd-lg__svg"
            class:sd-lg__svg--compact=compact
            tabindex="0"
            role="group"
            aria-roledescription="graph"
            aria-label=move || format!("Lineage graph, {} nodes. Arrow keys move along the edges, Enter opens, + and − zoom, 0 fits, Shift and arrows pan.", total())
            aria-describedby="sd-lg-cursor"
            data-total=total
            data-zoom=move || format!("{:.3}", cam.get().k)
            on:keydown=on_key
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_up
            on:click=on_click
            on:wheel=on_wheel
        >
            <g transform=transform>
                {group_boxes}
                <path class="sd-lg__edges sd-lg__edges--took" d=move || edge_paths.with(|p| p[0].clone())></path>
                <path class="sd-lg__edges sd-lg__edges--started" d=move || edge_paths.with(|p| p[1].clone())></path>
                <path class="sd-lg__edges sd-lg__edges--built" d=move || edge_paths.with(|p| p[2].clone())></path>
                <For
                    each=move || { let (g, v) = visible.get(); v.into_iter().map(move |i| (g, i)) }
                    key=|k| *k
                    children=move |(_, i)| {
                        current.get_untracked().map(|d| node_view(&d.0, i, statuses, cursor))
                    }
                />
                {cursor_ring}
                {here}
            </g>
        </svg>
        <p class="sd-lg__cursorline" id="sd-lg-cursor" aria-live="polite" data-testid="lineage-cursor">
            {move || match described() {
                None => view! { <span class="sd-muted">"Select a node (click it, or focus the graph and use the arrow keys)."</span> }.into_any(),
                Some((text, href, id)) => view! {
                    <span>{text}</span>
                    {href.map(|h| view! { " · "<a href=h>"Open"</a> })}
                    " · "<a href=Page::Lineage(LineageQuery::scoped(&id)).href()>"Its family"</a>
                }.into_any(),
            }}
        </p>
    }
}

fn push_edge(d: &mut String, points: &[(f64, f64)]) {
    use std::fmt::Write;
    let Some(&(x0, y0)) = points.first() else {
        return;
    };
    let _ = write!(d, "M{:.1} {:.1}", x0 + NODE_W / 2.0, y0);
    for w in points.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        let (ax, bx) = (ax + NODE_W / 2.0, bx - NODE_W / 2.0);
        let mid = (ax + bx) / 2.0;
        let _ = write!(d, "C{mid:.1} {ay:.1} {mid:.1} {by:.1} {bx:.1} {by:.1}");
    }
}

/// One node: a box with its status colour, a kind mark and its label; the focus and
/// pins marked.
fn node_view(
    d: &Drawn,
    i: usize,
    statuses: crate::hooks::use_statuses::Statuses,
    cursor: RwSignal<Option<String>>,
) -> AnyView {
    let n = &d.graph.nodes[i];
    let (x, y) = (d.layout.x[i] - NODE_W / 2.0, d.layout.y[i] - NODE_H / 2.0);
    let kind = kind_word(n.kind).replace(' ', "-");
    let fixed = fixed_tone(n);
    let id = n.id.clone();
    let tone = move || {
        fixed
            .unwrap_or_else(|| Tone::of_snapshot(statuses.status(&id)))
            .as_str()
    };
    let class = {
        let kind = kind.clone();
        move || format!("sd-lg__node sd-lg__node--{kind} sd-lg-tone--{}", tone())
    };
    let mark = match n.kind {
        NodeKind::Blueprint => "▣",
        NodeKind::Devbox => "●",
        NodeKind::Snapshot => "◆",
        NodeKind::Ghost => "◇",
        NodeKind::Chain => "⋯",
    };
    let label = if n.pinned {
        let mut t: String = n.label.chars().take(LABEL_CHARS - 7).collect();
        if t.chars().count() < n.label.chars().count() {
            t.push('…');
        }
        t
    } else {
        truncate(&n.label)
    };
    let pin = n.pinned.then(|| view! { <text class="sd-lg__pin" x=NODE_W - 8.0 y="19" text-anchor="end" aria-hidden="true">"pinned"</text> });
    let focused = d.focus == Some(i);
    let aria = describe(d, i);
    let id = n.id.clone();
    let selected = {
        let id = id.clone();
        move || cursor.with(|c| c.as_deref() == Some(id.as_str()))
    };
    let title = n.label.clone();
    let transform = format!("translate({x:.1} {y:.1})");
    let kind_attr = kind_word(n.kind);
    let group = n.group.clone();
    let focused_attr = focused.then_some("true");
    let selected_attr = move || selected().then_some("true");
    match node_href(n) {
        Some(href) => view! {
            <g class=class transform=transform data-index=i data-id=id data-kind=kind_attr
                data-group=group data-testid="lineage-node" data-focused=focused_attr
                data-selected=selected_attr>
                <a href=href tabindex="-1" aria-label=aria aria-current=focused.then_some("location")>
                    <rect width=NODE_W height=NODE_H rx="7"></rect>
                    <text class="sd-lg__mark" x="10" y="19.5" aria-hidden="true">{mark}</text>
                    <text class="sd-lg__label" x="26" y="19.5">{label}</text>
                    {pin}
                    <title>{title}</title>
                </a>
            </g>
        }
        .into_any(),
        None => {
            let chain = n.kind == NodeKind::Chain;
            view! {
                <g class=class transform=transform data-index=i data-id=id data-kind=kind_attr
                    data-testid="lineage-node" data-focused=focused_attr data-selected=selected_attr
                    role=if chain { "button" } else { "img" }
                    tabindex=chain.then_some("-1")
                    aria-expanded=chain.then_some("false")
                    aria-label=aria>
                    <rect width=NODE_W height=NODE_H rx="7"></rect>
                    <text class="sd-lg__mark" x="10" y="19.5" aria-hidden="true">{mark}</text>
                    <text class="sd-lg__label" x="26" y="19.5">{label}</text>
                    {pin}
                    <title>{title}</title>
                </g>
            }
            .into_any()
        }
    }
}

/// A section for another page: the graph scoped on one node (its family, the node
/// marked), with a link to the full graph there.
#[component]
pub fn LineageSection(
    /// The node: a devbox, snapshot, blueprint or fan-out source snapshot id.
    #[prop(into)]
    focus: Signal<String>,
) -> impl IntoView {
    let query = Signal::derive(move || LineageQuery::scoped(&focus.get()));
    view! {
        <section class="sd-section sd-lg-section" aria-labelledby="sd-lg-section-h" data-testid="lineage-section">
            <header class="sd-lg-section__head">
                <h2 class="sd-h2" id="sd-lg-section-h">"Lineage"</h2>
                <a href=move || Page::Lineage(query.get()).href()>"Open in the lineage graph"</a>
            </header>
            <LineageGraph query=query compact=true />
        </section>
    }
}
