//! A layered drawing of a directed graph, after Sugiyama, Tagawa and Toda (1981),
//! "Methods for visual understanding of hierarchical system structures":
//!
//! 1. **Cycle removal** — a depth-first search from the nodes in index order; an edge
//!    back to a node still on the search stack is reversed (a lineage graph has none
//!    unless the data is corrupt, but the layout must still end).
//! 2. **Layering** — longest path from the sources: every edge goes from a lower layer
//!    to a higher one; an edge that spans several layers gets a dummy node per layer
//!    crossed, so edges bend around nodes instead of through them.
//! 3. **Crossing reduction** — the barycenter heuristic, layer by layer, sweeping down
//!    and up; the start is the depth-first order (no crossings at all for a forest),
//!    and the best ordering seen (fewest crossings, counted per layer pair with a
//!    Fenwick tree, Barth–Jünger–Mutzel 2002) is kept. Ties keep the current order, so
//!    nodes given one after the other (siblings of one fan-out) stay together.
//! 4. **Coordinate assignment** — each node pulled to the mean position of its
//!    neighbours in the layer just placed, then projected onto "at least `node_gap`
//!    apart, in order" (the mean of the leftmost and the rightmost feasible placement,
//!    which is feasible itself); sweeps down and then up, so parents end centred on
//!    their children.
//!
//! Layers run along x (time flows to the right) and the order within a layer along y.
//! Everything is deterministic: no hashing, no randomness, ties broken by index.

/// Distances of the drawing, in the caller's units (px).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    /// Between the centres of two neighbouring layers.
    pub layer_gap: f64,
    /// The least distance between the centres of two nodes of one layer.
    pub node_gap: f64,
}

/// One input edge as drawn: `points` run from `from` to `to`, through its dummies.
#[derive(Debug, Clone, PartialEq)]
pub struct LaidEdge {
    pub from: usize,
    pub to: usize,
    /// Reversed to break a cycle (drawn from `from` to `to` all the same).
    pub reversed: bool,
    pub points: Vec<(f64, f64)>,
}

/// The drawing of `n` nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Layer of each node.
    pub layer: Vec<usize>,
    /// Centre of each node.
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// The real nodes of each layer, top to bottom (y ascending).
    pub layers: Vec<Vec<usize>>,
    /// The input edges (self-loops and repeats dropped), in input order.
    pub edges: Vec<LaidEdge>,
    /// Extent of the node centres: x in `0..=width`, y in `0..=height`.
    pub width: f64,
    pub height: f64,
}

/// An axis-aligned rectangle (`x0 <= x1`, `y0 <= y1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

const SWEEPS: usize = 4;
const COORD_ROUNDS: usize = 2;

/// Lays out nodes `0..n` joined by `edges` (`(from, to)`; out-of-range ends dropped).
/// Children are first placed in the order their edges are given.
pub fn layout(n: usize, edges: &[(usize, usize)], sp: Spacing) -> Layout {
    // Drop self-loops, out-of-range ends and repeats; keep the input order.
    let mut seen = std::collections::BTreeSet::new();
    let input: Vec<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|&(a, b)| a != b && a < n && b < n && seen.insert((a, b)))
        .collect();
    let reversed = back_edges(n, &input);
    let dag: Vec<(usize, usize)> = input
        .iter()
        .zip(&reversed)
        .map(|(&(a, b), &r)| if r { (b, a) } else { (a, b) })
        .collect();
    let layer = longest_path(n, &dag);

    // Dummies: node ids n.. ; each DAG edge becomes a path of unit-span segments.
    let mut node_layer = layer.clone();
    let mut segs: Vec<(usize, usize)> = Vec::new();
    let mut paths: Vec<Vec<usize>> = Vec::with_capacity(dag.len());
    for &(a, b) in &dag {
        let mut path = vec![a];
        let mut prev = a;
        for l in layer[a] + 1..layer[b] {
            let d = node_layer.len();
            node_layer.push(l);
            segs.push((prev, d));
            path.push(d);
            prev = d;
        }
        segs.push((prev, b));
        path.push(b);
        paths.push(path);
    }
    let total = node_layer.len();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); total];
    for &(a, b) in &segs {
        succ[a].push(b);
        pred[b].push(a);
    }
    let layer_count = node_layer.iter().map(|l| l + 1).max().unwrap_or(0);

    let mut order = initial_order(total, layer_count, &node_layer, &succ, &pred);
    reduce_crossings(&mut order, &succ, &pred);
    let ys = assign_coordinates(&order, &succ, &pred, sp.node_gap, total);

    let min_y = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let shift = if min_y.is_finite() { min_y } else { 0.0 };
    let y_all: Vec<f64> = ys.iter().map(|y| y - shift).collect();
    let x_all: Vec<f64> = node_layer
        .iter()
        .map(|&l| l as f64 * sp.layer_gap)
        .collect();

    let layers: Vec<Vec<usize>> = order
        .iter()
        .map(|l| l.iter().copied().filter(|&v| v < n).collect())
        .collect();
    let laid = input
        .iter()
        .zip(&reversed)
        .zip(&paths)
        .map(|((&(from, to), &rev), path)| {
            let mut points: Vec<(f64, f64)> = path.iter().map(|&v| (x_all[v], y_all[v])).collect();
            if rev {
                points.reverse();
            }
            LaidEdge {
                from,
                to,
                reversed: rev,
                points,
            }
        })
        .collect();
    let width = x_all.iter().copied().fold(0.0, f64::max);
    let height = y_all.iter().copied().fold(0.0, f64::max);
    Layout {
        layer,
        x: x_all[..n].to_vec(),
        y: y_all[..n].to_vec(),
        layers,
        edges: laid,
        width,
        height,
    }
}

/// Which edges a depth-first search (roots and children in index/edge order) finds
/// going back to a node on its stack: reversing them leaves no cycle.
fn back_edges(n: usize, edges: &[(usize, usize)]) -> Vec<bool> {
    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, &(a, b)) in edges.iter().enumerate() {
        out[a].push((b, i));
    }
    // 0 new, 1 on the stack, 2 done.
    let mut state = vec![0u8; n];
    let mut back = vec![false; edges.len()];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        // An explicit stack: a chain of 12,000 snapshots must not overflow the call stack.
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            if let Some(&(w, e)) = out[v].get(next) {
                top.1 += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => back[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    back
}

/// Layer = length of the longest path from a source (Kahn's order over a DAG).
fn longest_path(n: usize, dag: &[(usize, usize)]) -> Vec<usize> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    for &(a, b) in dag {
        out[a].push(b);
        indeg[b] += 1;
    }
    let mut layer = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &w in &out[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    layer
}

/// Depth-first order: roots in index order, children in edge order; each node joins
/// its layer when first reached (a forest starts with no crossing).
fn initial_order(
    total: usize,
    layer_count: usize,
    node_layer: &[usize],
    succ: &[Vec<usize>],
    pred: &[Vec<usize>],
) -> Vec<Vec<usize>> {
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    let mut placed = vec![false; total];
    let mut stack: Vec<usize> = Vec::new();
    for root in (0..total).filter(|&v| pred[v].is_empty()) {
        stack.push(root);
        while let Some(v) = stack.pop() {
            if placed[v] {
                continue;
            }
            placed[v] = true;
            order[node_layer[v]].push(v);
            // Reversed so the first child is visited first.
            stack.extend(succ[v].iter().rev().copied().filter(|&w| !placed[w]));
        }
    }
    order
}

/// Barycenter sweeps, keeping the ordering with the fewest crossings.
fn reduce_crossings(order: &mut Vec<Vec<usize>>, succ: &[Vec<usize>], pred: &[Vec<usize>]) {
    let total = succ.len();
    let mut pos = vec![0usize; total];
    let index = |order: &Vec<Vec<usize>>, pos: &mut Vec<usize>| {
        for l in order {
            for (i, &v) in l.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    index(order, &mut pos);
    let mut best = order.clone();
    let mut best_crossings = crossings_of(order, succ, &pos);
    if best_crossings == 0 {
        return;
    }
    for sweep in 0..SWEEPS {
        let down = sweep % 2 == 0;
        let layers: Vec<usize> = if down {
            (1..order.len()).collect()
        } else {
            (0..order.len().saturating_sub(1)).rev().collect()
        };
        for l in layers {
            let mut keyed: Vec<(f64, usize, usize)> = order[l]
                .iter()
                .map(|&v| {
                    let nb = if down { &pred[v] } else { &succ[v] };
                    let key = if nb.is_empty() {
                        pos[v] as f64
                    } else {
                        nb.iter().map(|&u| pos[u] as f64).sum::<f64>() / nb.len() as f64
                    };
                    (key, pos[v], v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            order[l] = keyed.into_iter().map(|(_, _, v)| v).collect();
            for (i, &v) in order[l].iter().enumerate() {
                pos[v] = i;
            }
        }
        let c = crossings_of(order, succ, &pos);
        if c < best_crossings {
            best_crossings = c;
            best = order.clone();
            if c == 0 {
                break;
            }
        }
    }
    *order = best;
}

/// Edge crossings between every pair of neighbouring layers.
fn crossings_of(order: &[Vec<usize>], succ: &[Vec<usize>], pos: &[usize]) -> u64 {
    let mut total = 0;
    for w in order.windows(2) {
        let mut pairs: Vec<(usize, usize)> = w[0]
            .iter()
            .flat_map(|&u| succ[u].iter().map(move |&v| (pos[u], pos[v])))
            .collect();
        pairs.sort_unstable();
        total += inversions(pairs.iter().map(|p| p.1), w[1].len());
    }
    total
}

/// Pairs `i < j` with `seq[i] > seq[j]`, values below `bound` (a Fenwick tree).
fn inversions(seq: impl Iterator<Item = usize>, bound: usize) -> u64 {
    let mut tree = vec![0u64; bound + 1];
    let mut inv = 0u64;
    for (seen, v) in seq.enumerate() {
        // How many seen so far are <= v.
        let mut i = v + 1;
        let mut le = 0;
        while i > 0 {
            le += tree[i];
            i &= i - 1;
        }
        inv += seen as u64 - le;
        let mut i = v + 1;
        while i <= bound {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    inv
}

/// Positions along each layer: pulled to the neighbours' mean, at least `gap` apart.
fn assign_coordinates(
    order: &[Vec<usize>],
    succ: &[Vec<usize>],
    pred: &[Vec<usize>],
    gap: f64,
    total: usize,
) -> Vec<f64> {
    let mut y = vec![0.0; total];
    for l in order {
        for (i, &v) in l.iter().enumerate() {
            y[v] = i as f64 * gap;
        }
    }
    let place = |l: &[usize], nb: &[Vec<usize>], y: &mut Vec<f64>| {
        let want: Vec<f64> = l
            .iter()
            .map(|&v| {
                if nb[v].is_empty() {
                    y[v]
                } else {
                    nb[v].iter().map(|&u| y[u]).sum::<f64>() / nb[v].len() as f64
                }
            })
            .collect();
        for (v, p) in l.iter().zip(project(&want, gap)) {
            y[*v] = p;
        }
    };
    for _ in 0..COORD_ROUNDS {
        for l in order.iter().skip(1) {
            place(l, pred, &mut y);
        }
        for l in order.iter().rev().skip(1) {
            place(l, succ, &mut y);
        }
    }
    y
}

/// The placement nearest `want` (in the sense of the mean of the leftmost and
/// rightmost) that keeps the order with neighbours at least `gap` apart.
fn project(want: &[f64], gap: f64) -> Vec<f64> {
    let k = want.len();
    let mut lo = want.to_vec();
    for i in 1..k {
        lo[i] = lo[i].max(lo[i - 1] + gap);
    }
    let mut hi = want.to_vec();
    for i in (0..k.saturating_sub(1)).rev() {
        hi[i] = hi[i].min(hi[i + 1] - gap);
    }
    lo.iter().zip(&hi).map(|(a, b)| (a + b) / 2.0).collect()
}

impl Layout {
    /// The nodes whose box (`half_w` × `half_h` around the centre) meets `view`, layer
    /// by layer with a binary search: the cost is the nodes in view, not the graph.
    pub fn visible(&self, view: Rect, half_w: f64, half_h: f64) -> Vec<usize> {
        let mut out = Vec::new();
        for l in &self.layers {
            let Some(&first) = l.first() else { continue };
            let x = self.x[first];
            if x + half_w < view.x0 || x - half_w > view.x1 {
                continue;
            }
            let start = l.partition_point(|&v| self.y[v] + half_h < view.y0);
            out.extend(
                l[start..]
                    .iter()
                    .copied()
                    .take_while(|&v| self.y[v] - half_h <= view.y1),
            );
        }
        out
    }

    /// Where `v` sits in its layer (index into `layers[layer[v]]`).
    pub fn position(&self, v: usize) -> Option<usize> {
        let l = self.layers.get(*self.layer.get(v)?)?;
        l.iter().position(|&w| w == v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: Spacing = Spacing {
        layer_gap: 100.0,
        node_gap: 10.0,
    };

    #[test]
    fn a_chain_is_one_node_per_layer_on_one_line() {
        let l = layout(4, &[(0, 1), (1, 2), (2, 3)], SP);
        assert_eq!(l.layer, [0, 1, 2, 3]);
        assert!(l.y.iter().all(|&y| y == l.y[0]));
        assert_eq!(l.x, [0.0, 100.0, 200.0, 300.0]);
    }

    #[test]
    fn a_parent_is_centred_on_its_children() {
        let l = layout(4, &[(0, 1), (0, 2), (0, 3)], SP);
        assert_eq!(l.layers[1], [1, 2, 3]);
        assert!((l.y[0] - l.y[2]).abs() < 1e-9, "{:?}", l.y);
        assert!((l.y[3] - l.y[1] - 20.0).abs() < 1e-9);
    }

    #[test]
    fn crossing_reduction_untangles_a_crossed_pair() {
        // 0→3 and 1→2 with 2 placed before 3 by the depth-first start (0's child 3 is
        // reached first, but 2 comes from a later root): any order of layer 1 can
        // be uncrossed.
        let edges = [(0, 3), (1, 2), (0, 4), (1, 5)];
        let l = layout(6, &edges, SP);
        let pos = |v: usize| l.position(v).expect("laid out");
        let mut crossings = 0;
        for &(a, b) in &edges {
            for &(c, d) in &edges {
                if pos(a) < pos(c) && pos(b) > pos(d) {
                    crossings += 1;
                }
            }
        }
        assert_eq!(crossings, 0, "{:?}", l.layers);
    }

    #[test]
    fn a_barycenter_sweep_reduces_crossings_the_start_has() {
        // Layer 1 starts as [3, 4, 5] from the depth-first order; 2→3 and 0→5 cross
        // several edges until layer 1 is re-sorted by its parents' mean position.
        let edges = [(0, 3), (0, 5), (1, 4), (2, 3), (2, 4), (2, 5)];
        let before = {
            let order = vec![vec![0, 1, 2], vec![3, 5, 4]];
            let mut succ = vec![Vec::new(); 6];
            for &(a, b) in &edges {
                succ[a].push(b);
            }
            let mut pos = vec![0; 6];
            for l in &order {
                for (i, &v) in l.iter().enumerate() {
                    pos[v] = i;
                }
            }
            crossings_of(&order, &succ, &pos)
        };
        let l = layout(6, &edges, SP);
        let mut succ = vec![Vec::new(); 6];
        for &(a, b) in &edges {
            succ[a].push(b);
        }
        let mut pos = vec![0; 6];
        for lay in &l.layers {
            for (i, &v) in lay.iter().enumerate() {
                pos[v] = i;
            }
        }
        assert!(crossings_of(&l.layers, &succ, &pos) <= before);
    }

    #[test]
    fn a_long_edge_bends_through_a_dummy_per_layer() {
        // 0→1→2→3 and 0→3: the long edge crosses layers 1 and 2.
        let l = layout(4, &[(0, 1), (1, 2), (2, 3), (0, 3)], SP);
        let long = l
            .edges
            .iter()
            .find(|e| e.from == 0 && e.to == 3)
            .expect("edge");
        assert_eq!(long.points.len(), 4);
        assert_eq!(
            l.layers.iter().map(Vec::len).sum::<usize>(),
            4,
            "dummies are not listed"
        );
        // The dummy does not sit on node 1 or 2.
        assert!((long.points[1].1 - l.y[1]).abs() >= 10.0 - 1e-9);
    }

    #[test]
    fn a_cycle_is_broken_and_every_node_is_laid_out() {
        let l = layout(3, &[(0, 1), (1, 2), (2, 0), (1, 1)], SP);
        assert_eq!(l.layer, [0, 1, 2]);
        let back = l.edges.iter().find(|e| e.from == 2).expect("edge");
        assert!(back.reversed);
        assert_eq!(back.points.first(), Some(&(l.x[2], l.y[2])));
        assert_eq!(l.edges.len(), 3, "the self-loop is dropped");
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 50_000;
        let edges: Vec<(usize, usize)> = (1..n).map(|i| (i - 1, i)).collect();
        let l = layout(n, &edges, SP);
        assert_eq!(l.layer[n - 1], n - 1);
    }

    #[test]
    fn visible_nodes_are_those_in_the_rectangle() {
        let l = layout(4, &[(0, 1), (0, 2), (0, 3)], SP);
        let view = Rect {
            x0: 50.0,
            y0: l.y[1] - 1.0,
            x1: 150.0,
            y1: l.y[2] + 1.0,
        };
        assert_eq!(l.visible(view, 1.0, 1.0), [1, 2]);
        assert!(
            l.visible(
                Rect {
                    x0: 500.0,
                    y0: 0.0,
                    x1: 600.0,
                    y1: 100.0
                },
                1.0,
                1.0
            )
            .is_empty()
        );
    }

    #[test]
    fn inversions_count_out_of_order_pairs() {
        assert_eq!(inversions([0, 1, 2].into_iter(), 3), 0);
        assert_eq!(inversions([2, 1, 0].into_iter(), 3), 3);
        assert_eq!(inversions([1, 1, 0].into_iter(), 2), 2);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use proptest::prelude::*;

    use super::*;

    const SP: Spacing = Spacing {
        layer_gap: 200.0,
        node_gap: 40.0,
    };

    /// Random graphs: mostly forward edges (a DAG), some back edges and repeats.
    fn graph() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
        (1usize..60)
            .prop_flat_map(|n| (Just(n), proptest::collection::vec((0..n, 0..n), 0..(n * 2))))
    }

    proptest! {
        #[test]
        fn every_edge_goes_to_a_higher_layer((n, edges) in graph()) {
            let l = layout(n, &edges, SP);
            for e in &l.edges {
                let (a, b) = if e.reversed { (e.to, e.from) } else { (e.from, e.to) };
                prop_assert!(l.layer[a] < l.layer[b], "{a}→{b}");
                // And each point steps one layer.
                prop_assert_eq!(e.points.len(), l.layer[b] - l.layer[a] + 1);
            }
        }

        #[test]
        fn no_two_nodes_of_a_layer_overlap((n, edges) in graph()) {
            let l = layout(n, &edges, SP);
            let mut listed = vec![false; n];
            for (li, lay) in l.layers.iter().enumerate() {
                for w in lay.windows(2) {
                    prop_assert!(l.y[w[1]] - l.y[w[0]] >= SP.node_gap - 1e-6);
                }
                for &v in lay {
                    prop_assert_eq!(l.layer[v], li);
                    prop_assert!(!listed[v]);
                    listed[v] = true;
                    prop_assert!((l.x[v] - li as f64 * SP.layer_gap).abs() < 1e-9);
                }
            }
            prop_assert!(listed.iter().all(|&b| b), "every node is in a layer");
        }

        #[test]
        fn the_layout_is_deterministic((n, edges) in graph()) {
            prop_assert_eq!(layout(n, &edges, SP), layout(n, &edges, SP));
        }

        #[test]
        fn a_forest_is_drawn_without_crossings(parents in proptest::collection::vec(any::<prop::sample::Index>(), 1..80)) {
            // Node i+1's parent is one of 0..=i: a tree.
            let edges: Vec<(usize, usize)> = parents
                .iter()
                .enumerate()
                .map(|(i, p)| (p.index(i + 1), i + 1))
                .collect();
            let n = parents.len() + 1;
            let l = layout(n, &edges, SP);
            for a in &l.edges {
                for b in &l.edges {
                    let (pa, pb) = (l.position(a.from), l.position(b.from));
                    let (ca, cb) = (l.position(a.to), l.position(b.to));
                    if l.layer[a.from] == l.layer[b.from] && pa < pb {
                        prop_assert!(ca <= cb, "{:?} crosses {:?}", (a.from, a.to), (b.from, b.to));
                    }
                }
            }
        }

        #[test]
        fn culling_finds_exactly_the_nodes_in_view(
            (n, edges) in graph(),
            x0 in -100.0f64..2000.0, y0 in -100.0f64..2000.0, w in 0.0f64..800.0, h in 0.0f64..800.0,
        ) {
            let l = layout(n, &edges, SP);
            let view = Rect { x0, y0, x1: x0 + w, y1: y0 + h };
            let mut got = l.visible(view, 80.0, 15.0);
            got.sort_unstable();
            let want: Vec<usize> = (0..n)
                .filter(|&v| l.x[v] + 80.0 >= view.x0 && l.x[v] - 80.0 <= view.x1
                    && l.y[v] + 15.0 >= view.y0 && l.y[v] - 15.0 <= view.y1)
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
