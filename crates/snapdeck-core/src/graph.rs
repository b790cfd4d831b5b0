//! The account's history as one directed graph — blueprint → devbox → snapshot →
//! devbox → … — for the lineage view: built from the three lists the API gives,
//! narrowed by a filter, long chains collapsed, then laid out by [`crate::layered`].
//!
//! Edges, all from the API's own fields:
//! * blueprint → devbox: the devbox's `blueprint_id` (when it was not started from a
//!   snapshot); blueprint → blueprint: a build's `base_blueprint_id`;
//! * devbox → its oldest snapshot → its next snapshot → …: a devbox's snapshots
//!   (`source_devbox_id`) in time order, each the disk of the one before plus what
//!   changed since — so a devbox snapshotted nightly is one line, not a fan;
//! * snapshot → devbox: the devbox's `snapshot_id`.
//!
//! A devbox started from a snapshot that is no longer listed (deleted) hangs from a
//! **ghost** of that snapshot; a devbox only a snapshot names (gone from the list) is
//! drawn as not known. Devboxes started from one snapshot are a sibling group (the
//! fan-out batch from `snapdeck.fanout` when they carry one), kept next to each other.

use std::collections::{BTreeMap, BTreeSet};

use snapdeck_api::{Blueprint, BlueprintStatus, Devbox, DevboxStatus, Snapshot};

use crate::fanout::BATCH_KEY;
use crate::layered::{self, Layout, Spacing};
use crate::retention::is_pinned;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Blueprint,
    Devbox,
    Snapshot,
    /// A snapshot no longer listed that a devbox was started from.
    Ghost,
    /// Several snapshots in a row with nothing else attached, collapsed into one.
    Chain,
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The API id; a chain's is `chain:` + its first snapshot's id.
    pub id: String,
    pub kind: NodeKind,
    /// Name, or id when unnamed.
    pub label: String,
    pub time_ms: i64,
    pub devbox_status: Option<DevboxStatus>,
    pub blueprint_status: Option<BlueprintStatus>,
    pub pinned: bool,
    /// False for a devbox only a snapshot names (no longer in the devbox list).
    pub known: bool,
    /// Sibling group (devboxes started from one snapshot): the fan-out batch id, or
    /// `from:<snapshot id>`.
    pub group: Option<String>,
    /// A chain's snapshots, oldest first (empty for every other kind).
    pub hidden: Vec<String>,
}

/// Why two nodes are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// blueprint → blueprint built on it, or blueprint → devbox started from it.
    Built,
    /// devbox → its first snapshot, or snapshot → the devbox's next snapshot.
    Took,
    /// snapshot → a devbox started from it.
    Started,
}

/// The graph: nodes in time order (ties by kind, then id), edges by parent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<(usize, usize, EdgeKind)>,
    index: BTreeMap<String, usize>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

/// What to keep of the graph (all `None`: everything).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// One node's family: its ancestors and everything descended from it.
    pub family: Option<String>,
    /// One blueprint and what descends from it.
    pub blueprint: Option<String>,
    /// Only nodes created at or after this time.
    pub since_ms: Option<i64>,
}

/// Layout sizes of the lineage view, in px.
pub const NODE_W: f64 = 208.0;
pub const NODE_H: f64 = 30.0;
pub const SPACING: Spacing = Spacing {
    layer_gap: 256.0,
    node_gap: 42.0,
};

/// Collapse runs of at least this many plain snapshots.
pub const MIN_CHAIN: usize = 6;

fn label_or_id(name: Option<&str>, id: &str) -> String {
    name.filter(|n| !n.trim().is_empty())
        .unwrap_or(id)
        .to_owned()
}

impl Graph {
    /// The whole history from the three lists.
    pub fn build(devboxes: &[Devbox], snapshots: &[Snapshot], blueprints: &[Blueprint]) -> Self {
        let mut nodes: Vec<Node> = Vec::new();
        let base = |id: &str, kind, label: String, time_ms| Node {
            id: id.to_owned(),
            kind,
            label,
            time_ms,
            devbox_status: None,
            blueprint_status: None,
            pinned: false,
            known: true,
            group: None,
            hidden: Vec::new(),
        };
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for b in blueprints {
            if seen.insert(&b.id) {
                nodes.push(Node {
                    blueprint_status: Some(b.status),
                    ..base(
                        &b.id,
                        NodeKind::Blueprint,
                        label_or_id(Some(&b.name), &b.id),
                        b.create_time_ms,
                    )
                });
            }
        }
        let listed: BTreeSet<&str> = snapshots.iter().map(|s| s.id.as_str()).collect();
        // Sibling groups: devboxes per source snapshot.
        let mut started: BTreeMap<&str, Vec<&Devbox>> = BTreeMap::new();
        for d in devboxes {
            if let Some(sid) = d.snapshot_id.as_deref() {
                started.entry(sid).or_default().push(d);
            }
        }
        for d in devboxes {
            if !seen.insert(&d.id) {
                continue;
            }
            let group = d.snapshot_id.as_deref().and_then(|sid| {
                let sibs = started.get(sid)?;
                if let Some(batch) = d.metadata.get(BATCH_KEY) {
                    return Some(batch.clone());
                }
                (sibs.len() > 1).then(|| format!("from:{sid}"))
            });
            nodes.push(Node {
                devbox_status: Some(d.status),
                group,
                ..base(
                    &d.id,
                    NodeKind::Devbox,
                    label_or_id(d.name.as_deref(), &d.id),
                    d.create_time_ms,
                )
            });
        }
        for s in snapshots {
            if seen.insert(&s.id) {
                nodes.push(Node {
                    pinned: is_pinned(s),
                    ..base(
                        &s.id,
                        NodeKind::Snapshot,
                        label_or_id(s.name.as_deref(), &s.id),
                        s.create_time_ms,
                    )
                });
            }
        }
        // Devboxes named by snapshots only; ghosts of deleted source snapshots.
        for s in snapshots {
            if seen.insert(&s.source_devbox_id) {
                let t = s.create_time_ms;
                nodes.push(Node {
                    known: false,
                    ..base(
                        &s.source_devbox_id,
                        NodeKind::Devbox,
                        s.source_devbox_id.clone(),
                        t,
                    )
                });
            }
        }
        for (sid, kids) in &started {
            if !listed.contains(sid) && seen.insert(sid) {
                let t = kids.iter().map(|d| d.create_time_ms).min().unwrap_or(0);
                nodes.push(base(sid, NodeKind::Ghost, (*sid).to_owned(), t));
            }
        }
        nodes.sort_by(|a, b| {
            a.time_ms
                .cmp(&b.time_ms)
                .then(a.kind.cmp(&b.kind))
                .then(a.id.cmp(&b.id))
        });
        let index: BTreeMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let at = |id: &str| index.get(id).copied();

        let mut edges: Vec<(usize, usize, EdgeKind)> = Vec::new();
        for b in blueprints {
            if let (Some(p), Some(c)) = (b.base_blueprint_id.as_deref().and_then(at), at(&b.id)) {
                edges.push((p, c, EdgeKind::Built));
            }
        }
        for d in devboxes {
            let Some(c) = at(&d.id) else { continue };
            match (d.snapshot_id.as_deref(), d.blueprint_id.as_deref()) {
                (Some(sid), _) => {
                    if let Some(p) = at(sid) {
                        edges.push((p, c, EdgeKind::Started));
                    }
                }
                (None, Some(bid)) => {
                    if let Some(p) = at(bid) {
                        edges.push((p, c, EdgeKind::Built));
                    }
                }
                (None, None) => {}
            }
        }
        // Each devbox's snapshots in time order (node order is time order).
        let mut chains: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for s in snapshots {
            if let Some(i) = at(&s.id) {
                chains
                    .entry(s.source_devbox_id.as_str())
                    .or_default()
                    .push(i);
            }
        }
        for (dbx, mut line) in chains {
            line.sort_unstable();
            line.dedup();
            let Some(mut prev) = at(dbx) else { continue };
            for i in line {
                edges.push((prev, i, EdgeKind::Took));
                prev = i;
            }
        }
        Self::from_parts(nodes, edges)
    }

    /// Indexes nodes and edges; edges sorted by parent, then the next snapshot first,
    /// then started devboxes by group and time (the order the layout places children).
    fn from_parts(nodes: Vec<Node>, mut edges: Vec<(usize, usize, EdgeKind)>) -> Self {
        edges.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let (na, nb) = (&nodes[a.1], &nodes[b.1]);
                let took = |k| k == EdgeKind::Took;
                took(b.2)
                    .cmp(&took(a.2))
                    .then(na.group.cmp(&nb.group))
                    .then(a.1.cmp(&b.1))
            })
        });
        edges.dedup();
        let index = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let mut parents = vec![Vec::new(); nodes.len()];
        let mut children = vec![Vec::new(); nodes.len()];
        for &(a, b, _) in &edges {
            parents[b].push(a);
            children[a].push(b);
        }
        Self {
            nodes,
            edges,
            index,
            parents,
            children,
        }
    }

    /// The node with this API id (a collapsed snapshot: its chain).
    pub fn find(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied().or_else(|| {
            self.nodes
                .iter()
                .position(|n| n.kind == NodeKind::Chain && n.hidden.iter().any(|h| h == id))
        })
    }

    pub fn parents(&self, v: usize) -> &[usize] {
        self.parents.get(v).map_or(&[], Vec::as_slice)
    }

    pub fn children(&self, v: usize) -> &[usize] {
        self.children.get(v).map_or(&[], Vec::as_slice)
    }

    fn walk(&self, start: usize, next: impl Fn(usize) -> Vec<usize>) -> BTreeSet<usize> {
        let mut seen = BTreeSet::from([start]);
        let mut todo = vec![start];
        while let Some(v) = todo.pop() {
            for w in next(v) {
                if seen.insert(w) {
                    todo.push(w);
                }
            }
        }
        seen
    }

    /// `v` and everything descended from it.
    pub fn descendants(&self, v: usize) -> BTreeSet<usize> {
        self.walk(v, |w| self.children(w).to_vec())
    }

    /// `v` and everything it descends from.
    pub fn ancestors(&self, v: usize) -> BTreeSet<usize> {
        self.walk(v, |w| self.parents(w).to_vec())
    }

    /// The part of the graph `f` keeps (an id no node has keeps nothing). Edges
    /// between kept nodes stay; a node whose parent went becomes a root.
    pub fn filter(&self, f: &Filter) -> Self {
        let mut keep: Vec<bool> = vec![true; self.nodes.len()];
        let mut narrow = |set: Option<BTreeSet<usize>>| {
            for (i, k) in keep.iter_mut().enumerate() {
                *k &= set.as_ref().is_some_and(|s| s.contains(&i));
            }
        };
        if let Some(id) = &f.family {
            narrow(self.find(id).map(|v| {
                let mut s = self.descendants(v);
                s.extend(self.ancestors(v));
                s
            }));
        }
        if let Some(id) = &f.blueprint {
            narrow(
                self.find(id)
                    .filter(|&v| self.nodes[v].kind == NodeKind::Blueprint)
                    .map(|v| self.descendants(v)),
            );
        }
        if let Some(t) = f.since_ms {
            for (k, n) in keep.iter_mut().zip(&self.nodes) {
                *k &= n.time_ms >= t;
            }
        }
        self.subgraph(&keep)
    }

    fn subgraph(&self, keep: &[bool]) -> Self {
        let mut new_index = vec![usize::MAX; self.nodes.len()];
        let mut nodes = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if keep[i] {
                new_index[i] = nodes.len();
                nodes.push(n.clone());
            }
        }
        let edges = self
            .edges
            .iter()
            .filter(|e| keep[e.0] && keep[e.1])
            .map(|&(a, b, k)| (new_index[a], new_index[b], k))
            .collect();
        Self::from_parts(nodes, edges)
    }

    /// Runs of at least `min_run` plain snapshots (one parent, at most one child — the
    /// next snapshot —, not pinned, not `keep`) each become one [`NodeKind::Chain`]
    /// node, unless `keep` holds the chain's id (expanded) or one of its snapshots.
    pub fn collapse(&self, min_run: usize, keep: &dyn Fn(&str) -> bool) -> Self {
        let plain = |v: usize| {
            let n = &self.nodes[v];
            n.kind == NodeKind::Snapshot
                && !n.pinned
                && !keep(&n.id)
                && self.parents(v).len() == 1
                && self.children(v).len() <= 1
                && self.edges_from(v).all(|(_, k)| k == EdgeKind::Took)
        };
        // A plain snapshot's only out-edge is to its next snapshot.
        let took_parent = |v: usize| self.parents(v).first().is_some_and(|&p| plain(p));
        let mut run_of: Vec<Option<usize>> = vec![None; self.nodes.len()];
        let mut runs: Vec<Vec<usize>> = Vec::new();
        for v in 0..self.nodes.len() {
            // A run starts at a plain snapshot whose parent is not a plain snapshot.
            if !plain(v) || took_parent(v) {
                continue;
            }
            let mut run = vec![v];
            let mut cur = v;
            while let Some(&next) = self.children(cur).first() {
                if !plain(next) {
                    break;
                }
                run.push(next);
                cur = next;
            }
            let id = format!("chain:{}", self.nodes[v].id);
            if run.len() >= min_run && !keep(&id) {
                for &r in &run {
                    run_of[r] = Some(runs.len());
                }
                runs.push(run);
            }
        }
        if runs.is_empty() {
            return self.clone();
        }
        // Rebuild: a run's first node becomes the chain, the rest go.
        let mut nodes: Vec<Node> = Vec::new();
        let mut new_index = vec![usize::MAX; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            match run_of[i] {
                Some(r) if runs[r][0] == i => {
                    let run = &runs[r];
                    let first = &self.nodes[run[0]];
                    let last = &self.nodes[run[run.len() - 1]];
                    new_index[i] = nodes.len();
                    nodes.push(Node {
                        id: format!("chain:{}", first.id),
                        kind: NodeKind::Chain,
                        label: format!("{} snapshots", run.len()),
                        time_ms: last.time_ms,
                        devbox_status: None,
                        blueprint_status: None,
                        pinned: false,
                        known: true,
                        group: None,
                        hidden: run.iter().map(|&v| self.nodes[v].id.clone()).collect(),
                    });
                }
                Some(_) => {}
                None => {
                    new_index[i] = nodes.len();
                    nodes.push(n.clone());
                }
            }
        }
        for (i, r) in run_of.iter().enumerate() {
            if let Some(r) = r {
                new_index[i] = new_index[runs[*r][0]];
            }
        }
        let edges = self
            .edges
            .iter()
            .map(|&(a, b, k)| (new_index[a], new_index[b], k))
            .filter(|(a, b, _)| a != b)
            .collect();
        Self::from_parts(nodes, edges)
    }

    fn edges_from(&self, v: usize) -> impl Iterator<Item = (usize, EdgeKind)> + '_ {
        let start = self.edges.partition_point(|e| e.0 < v);
        self.edges[start..]
            .iter()
            .take_while(move |e| e.0 == v)
            .map(|&(_, b, k)| (b, k))
    }

    /// The layered drawing (see [`crate::layered`]).
    pub fn layout(&self) -> Layout {
        let edges: Vec<(usize, usize)> = self.edges.iter().map(|&(a, b, _)| (a, b)).collect();
        layered::layout(self.nodes.len(), &edges, SPACING)
    }

    /// The sibling groups with at least two members drawn: (group key, its nodes).
    pub fn groups(&self) -> Vec<(String, Vec<usize>)> {
        let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if let Some(g) = &n.group {
                by.entry(g).or_default().push(i);
            }
        }
        by.into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }
}

/// A move of the keyboard cursor along the drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// To the first parent (left).
    Parent,
    /// To the child drawn nearest (right).
    Child,
    /// The node above in the same layer.
    Up,
    /// The node below in the same layer.
    Down,
}

/// Where the cursor goes from `v` (`None`: nowhere that way).
pub fn step(g: &Graph, l: &Layout, v: usize, dir: Step) -> Option<usize> {
    match dir {
        Step::Parent => g.parents(v).first().copied(),
        Step::Child => {
            let y = *l.y.get(v)?;
            g.children(v).iter().copied().min_by(|&a, &b| {
                (l.y[a] - y)
                    .abs()
                    .total_cmp(&(l.y[b] - y).abs())
                    .then(a.cmp(&b))
            })
        }
        Step::Up | Step::Down => {
            let layer = l.layers.get(*l.layer.get(v)?)?;
            let p = l.position(v)?;
            match dir {
                Step::Up => p.checked_sub(1).map(|q| layer[q]),
                _ => layer.get(p + 1).copied(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use snapdeck_api::{Metadata, PINNED_KEY};

    use super::*;

    fn devbox(id: &str, t: i64, snap: Option<&str>, bp: Option<&str>) -> Devbox {
        let mut d: Devbox = serde_json::from_value(serde_json::json!({
            "id": id, "status": "running", "create_time_ms": t,
        }))
        .expect("a devbox");
        d.name = Some(id.to_uppercase());
        d.snapshot_id = snap.map(str::to_owned);
        d.blueprint_id = bp.map(str::to_owned);
        d
    }

    fn snap(id: &str, dbx: &str, t: i64) -> Snapshot {
        Snapshot {
            id: id.into(),
            create_time_ms: t,
            metadata: Metadata::default(),
            source_devbox_id: dbx.into(),
            name: Some(id.into()),
            commit_message: None,
            size_bytes: None,
            source_blueprint_id: None,
        }
    }

    fn bp(id: &str, t: i64) -> Blueprint {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": id, "status": "build_complete", "create_time_ms": t,
        }))
        .expect("a blueprint")
    }

    /// bp → a → s1 → s2 ; s1 → b, s1 → c (siblings); s2 → r (replica); ghost g → x.
    fn sample() -> Graph {
        let devboxes = [
            devbox("a", 10, None, Some("bp")),
            devbox("b", 30, Some("s1"), None),
            devbox("c", 31, Some("s1"), None),
            devbox("r", 50, Some("s2"), None),
            devbox("x", 60, Some("gone"), None),
        ];
        let mut s1 = snap("s1", "a", 20);
        s1.metadata.insert(PINNED_KEY.into(), "true".into());
        let snapshots = [s1, snap("s2", "a", 40)];
        Graph::build(&devboxes, &snapshots, &[bp("bp", 0)])
    }

    fn edge(g: &Graph, a: &str, b: &str) -> Option<EdgeKind> {
        let (a, b) = (g.find(a)?, g.find(b)?);
        g.edges.iter().find(|e| e.0 == a && e.1 == b).map(|e| e.2)
    }

    #[test]
    fn the_history_is_blueprint_devbox_snapshot_devbox() {
        let g = sample();
        assert_eq!(edge(&g, "bp", "a"), Some(EdgeKind::Built));
        assert_eq!(edge(&g, "a", "s1"), Some(EdgeKind::Took));
        assert_eq!(edge(&g, "s1", "s2"), Some(EdgeKind::Took));
        assert_eq!(
            edge(&g, "a", "s2"),
            None,
            "snapshots form the devbox's line"
        );
        assert_eq!(edge(&g, "s1", "b"), Some(EdgeKind::Started));
        assert_eq!(edge(&g, "s2", "r"), Some(EdgeKind::Started));
        assert!(g.nodes[g.find("s1").expect("s1")].pinned);
        assert_eq!(g.nodes[g.find("a").expect("a")].label, "A");
    }

    #[test]
    fn a_deleted_source_snapshot_is_a_ghost_with_its_devbox() {
        let g = sample();
        let ghost = g.find("gone").expect("a ghost");
        assert_eq!(g.nodes[ghost].kind, NodeKind::Ghost);
        assert_eq!(edge(&g, "gone", "x"), Some(EdgeKind::Started));
        // No ghost for a snapshot that is still listed.
        assert_eq!(
            g.nodes.iter().filter(|n| n.kind == NodeKind::Ghost).count(),
            1
        );
    }

    #[test]
    fn devboxes_started_from_one_snapshot_are_grouped_and_adjacent() {
        let g = sample();
        let groups = g.groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].0, "from:s1");
        let l = g.layout();
        let pos: Vec<usize> = groups[0]
            .1
            .iter()
            .map(|&v| l.position(v).expect("laid"))
            .collect();
        assert_eq!(pos[1].abs_diff(pos[0]), 1, "siblings sit together");
        assert_eq!(l.layer[groups[0].1[0]], l.layer[groups[0].1[1]]);
    }

    #[test]
    fn a_fanout_batch_names_its_group() {
        let mut b = devbox("b", 30, Some("s1"), None);
        b.metadata.insert(BATCH_KEY.into(), "fo_1".into());
        let g = Graph::build(&[devbox("a", 1, None, None), b], &[snap("s1", "a", 2)], &[]);
        assert_eq!(
            g.nodes[g.find("b").expect("b")].group.as_deref(),
            Some("fo_1")
        );
    }

    #[test]
    fn a_devbox_named_only_by_a_snapshot_is_not_known() {
        let g = Graph::build(&[], &[snap("s", "old", 5)], &[]);
        let d = &g.nodes[g.find("old").expect("devbox")];
        assert_eq!((d.kind, d.known), (NodeKind::Devbox, false));
        assert_eq!(edge(&g, "old", "s"), Some(EdgeKind::Took));
    }

    #[test]
    fn a_family_is_the_ancestors_and_descendants() {
        let g = sample().filter(&Filter {
            family: Some("b".into()),
            ..Filter::default()
        });
        let ids: BTreeSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, BTreeSet::from(["bp", "a", "s1", "b"]));
        let g = sample().filter(&Filter {
            family: Some("s1".into()),
            ..Filter::default()
        });
        assert_eq!(g.nodes.len(), 7, "bp a s1 b c s2 r");
    }

    #[test]
    fn a_blueprint_filter_keeps_what_descends_from_it() {
        let g = sample().filter(&Filter {
            blueprint: Some("bp".into()),
            ..Filter::default()
        });
        assert!(g.find("r").is_some());
        assert!(
            g.find("x").is_none(),
            "the ghost's devbox does not descend from bp"
        );
        let none = sample().filter(&Filter {
            blueprint: Some("a".into()),
            ..Filter::default()
        });
        assert!(none.nodes.is_empty(), "a devbox id is not a blueprint");
    }

    #[test]
    fn a_time_window_drops_older_nodes_and_their_edges() {
        let g = sample().filter(&Filter {
            since_ms: Some(31),
            ..Filter::default()
        });
        let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["c", "s2", "r", "x", "gone"]);
        assert_eq!(edge(&g, "s2", "r"), Some(EdgeKind::Started));
        assert!(g.parents(g.find("s2").expect("s2")).is_empty());
    }

    fn nightly(n: usize, child_at: Option<usize>) -> Graph {
        let mut devboxes = vec![devbox("d", 0, None, None)];
        let snapshots: Vec<Snapshot> = (0..n)
            .map(|i| snap(&format!("n{i:02}"), "d", 1 + i as i64))
            .collect();
        if let Some(k) = child_at {
            devboxes.push(devbox("rep", 100, Some(&format!("n{k:02}")), None));
        }
        Graph::build(&devboxes, &snapshots, &[])
    }

    #[test]
    fn a_long_line_of_snapshots_collapses_and_expands() {
        let g = nightly(20, Some(9));
        let c = g.collapse(6, &|_| false);
        // n00..n08 (9) and n10..n19 (10) collapse; n09 has a child and stays.
        let chains: Vec<&Node> = c
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Chain)
            .collect();
        assert_eq!(chains.len(), 2);
        assert_eq!(chains[0].hidden.len(), 9);
        assert_eq!(chains[0].label, "9 snapshots");
        assert_eq!(chains[1].hidden.len(), 10);
        assert_eq!(c.nodes.len(), 1 + 2 + 1 + 1);
        assert_eq!(edge(&c, "d", "chain:n00"), Some(EdgeKind::Took));
        assert_eq!(edge(&c, "chain:n00", "n09"), Some(EdgeKind::Took));
        assert_eq!(edge(&c, "n09", "rep"), Some(EdgeKind::Started));
        assert_eq!(
            c.find("n03"),
            c.find("chain:n00"),
            "a hidden snapshot finds its chain"
        );
        // Expanded: as before.
        let e = g.collapse(6, &|id| id == "chain:n00");
        assert_eq!(
            e.nodes.iter().filter(|n| n.kind == NodeKind::Chain).count(),
            1
        );
        assert!(
            e.find("n03")
                .is_some_and(|v| e.nodes[v].kind == NodeKind::Snapshot)
        );
        // A focused snapshot splits the run it is in.
        let f = g.collapse(6, &|id| id == "n14");
        assert!(
            f.find("n14")
                .is_some_and(|v| f.nodes[v].kind == NodeKind::Snapshot)
        );
    }

    #[test]
    fn short_lines_and_pinned_snapshots_stay() {
        let g = nightly(5, None);
        assert_eq!(g.collapse(6, &|_| false), g);
    }

    #[test]
    fn the_cursor_moves_along_edges_and_layers() {
        let g = sample();
        let l = g.layout();
        let at = |id: &str| g.find(id).expect("node");
        assert_eq!(step(&g, &l, at("s1"), Step::Parent), Some(at("a")));
        assert_eq!(step(&g, &l, at("bp"), Step::Parent), None);
        let child = step(&g, &l, at("s1"), Step::Child).expect("a child");
        assert!(g.children(at("s1")).contains(&child));
        let (b, c) = (at("b"), at("c"));
        let down = step(&g, &l, b, Step::Down).or_else(|| step(&g, &l, b, Step::Up));
        assert!(down.is_some());
        assert!(step(&g, &l, c, Step::Up).is_some() || step(&g, &l, c, Step::Down).is_some());
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use proptest::prelude::*;
    use snapdeck_api::Metadata;

    use super::*;

    /// A random account: devboxes each started from an earlier snapshot, a blueprint
    /// or nothing; snapshots of earlier devboxes; some source snapshots deleted.
    fn account() -> impl Strategy<Value = (Vec<Devbox>, Vec<Snapshot>)> {
        proptest::collection::vec(
            (any::<prop::sample::Index>(), 0u8..4, any::<bool>()),
            1..120,
        )
        .prop_map(|steps| {
            let mut devboxes: Vec<Devbox> = Vec::new();
            let mut snapshots: Vec<Snapshot> = Vec::new();
            for (t, (pick, what, drop)) in steps.into_iter().enumerate() {
                let t = t as i64;
                if what == 0 || devboxes.is_empty() {
                    let mut d: Devbox = serde_json::from_value(serde_json::json!({
                        "id": format!("d{t}"), "status": "running", "create_time_ms": t,
                    }))
                    .expect("devbox");
                    if !snapshots.is_empty() {
                        let s: &Snapshot = &snapshots[pick.index(snapshots.len())];
                        d.snapshot_id = Some(if drop {
                            format!("gone{t}")
                        } else {
                            s.id.clone()
                        });
                    }
                    devboxes.push(d);
                } else {
                    let d = &devboxes[pick.index(devboxes.len())];
                    snapshots.push(Snapshot {
                        id: format!("s{t}"),
                        create_time_ms: t,
                        metadata: Metadata::default(),
                        source_devbox_id: d.id.clone(),
                        name: None,
                        commit_message: None,
                        size_bytes: None,
                        source_blueprint_id: None,
                    });
                }
            }
            (devboxes, snapshots)
        })
    }

    proptest! {
        #[test]
        fn the_laid_out_history_is_layered_and_every_item_is_drawn((devboxes, snapshots) in account()) {
            let g = Graph::build(&devboxes, &snapshots, &[]);
            for d in &devboxes { prop_assert!(g.find(&d.id).is_some()); }
            for s in &snapshots { prop_assert!(g.find(&s.id).is_some()); }
            let l = g.layout();
            for &(a, b, _) in &g.edges {
                prop_assert!(l.layer[a] < l.layer[b]);
                prop_assert!(g.nodes[a].time_ms <= g.nodes[b].time_ms || g.nodes[b].kind == NodeKind::Devbox);
            }
            // Every node has at most one parent: the history is a forest.
            for v in 0..g.nodes.len() { prop_assert!(g.parents(v).len() <= 1); }
        }

        #[test]
        fn collapsing_keeps_every_snapshot_findable_and_the_edges_between_what_is_left((devboxes, snapshots) in account(), min_run in 2usize..8) {
            let g = Graph::build(&devboxes, &snapshots, &[]);
            let c = g.collapse(min_run, &|_| false);
            for s in &snapshots { prop_assert!(c.find(&s.id).is_some()); }
            let hidden: usize = c.nodes.iter().map(|n| n.hidden.len().saturating_sub(1)).sum();
            prop_assert_eq!(c.nodes.len() + hidden, g.nodes.len());
            prop_assert_eq!(c.edges.len() + hidden, g.edges.len());
            for n in c.nodes.iter().filter(|n| n.kind == NodeKind::Chain) {
                prop_assert!(n.hidden.len() >= min_run);
            }
        }

        #[test]
        fn a_family_holds_the_node_and_is_closed_under_the_relation((devboxes, snapshots) in account(), pick in any::<prop::sample::Index>()) {
            let g = Graph::build(&devboxes, &snapshots, &[]);
            let id = g.nodes[pick.index(g.nodes.len())].id.clone();
            let f = g.filter(&Filter { family: Some(id.clone()), ..Filter::default() });
            let v = f.find(&id).expect("the node itself");
            prop_assert_eq!(f.ancestors(v).len() + f.descendants(v).len() - 1, f.nodes.len());
        }
    }
}
