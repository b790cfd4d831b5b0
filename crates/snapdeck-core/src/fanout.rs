//! Fan-out: N devboxes started from one snapshot, each an attempt at the same change,
//! compared side by side, and the best one continued.
//!
//! A batch lives in its children's metadata (`snapdeck.fanout=<id>`,
//! `snapdeck.attempt=<label>`, `snapdeck.fanout.source=<snapshot id>`), so it is found
//! again from the devbox list alone ([`batches`]) even if snapdeck's own records are gone.
//! Everything here is pure: the plan of a launch ([`plan`]), what a batch looks like now
//! ([`Batch::of`]), what is still to start after a reload ([`Batch::missing`]), the
//! compare table of result files ([`collate`]) and the "continue with the best" steps
//! ([`continue_steps`]).

use std::collections::BTreeMap;

use snapdeck_api::{Devbox, DevboxStatus, Metadata};

/// Metadata key: the batch id.
pub const BATCH_KEY: &str = "snapdeck.fanout";
/// Metadata key: the attempt's label.
pub const ATTEMPT_KEY: &str = "snapdeck.attempt";
/// Metadata key: the snapshot the batch started from.
pub const SOURCE_KEY: &str = "snapdeck.fanout.source";
/// Most children one batch may have.
pub const MAX_CHILDREN: usize = 50;
/// The default name template.
pub const DEFAULT_TEMPLATE: &str = "{source}-try-{label}";

/// What the person asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct FanoutRequest {
    /// The batch id (made by the caller: no randomness here).
    pub batch_id: String,
    /// The snapshot the children start from.
    pub snapshot_id: String,
    /// A short name for the source, used by the template's `{source}`.
    pub source_name: String,
    /// How many children.
    pub count: usize,
    /// Labels typed by the person, one per child; blank ones become a, b, c….
    pub labels: Vec<String>,
    /// Name template: `{source}`, `{n}` (1-based) and `{label}`.
    pub template: String,
    /// Keys every child carries besides the batch's own.
    pub shared_metadata: Metadata,
    /// A file written into each child once it runs: its path and text (`{label}` and
    /// `{n}` replaced per child).
    pub task: Option<(String, String)>,
}

/// One child to start.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChildSpec {
    pub label: String,
    pub name: String,
    pub metadata: Metadata,
    /// The task file for this child, text already filled in.
    pub task: Option<(String, String)>,
}

/// Where one child's launch is, as its launcher (the tab or a server job) reports it
/// beyond what the devbox list shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum ChildNote {
    /// Its create request is out.
    Creating,
    /// Created (this devbox); waiting for it to run.
    Booting(String),
    /// Running; its task file (this path) is being written.
    WritingTask(String),
    /// Running, and its task file (this path) holds its text.
    TaskWritten(String),
    /// Running; it has no task file.
    Running,
    /// It did not come up: it failed, stopped, or was never created (why).
    Failed(String),
}

impl ChildNote {
    /// Nothing more will happen to the child in this launch.
    pub fn is_settled(&self) -> bool {
        matches!(self, Self::TaskWritten(_) | Self::Running | Self::Failed(_))
    }
}

/// The newest devbox of `batch` labelled `label` (a retried attempt has several).
pub fn newest_with_label<'a>(list: &'a [Devbox], batch: &str, label: &str) -> Option<&'a Devbox> {
    list.iter()
        .filter(|d| {
            d.metadata.get(BATCH_KEY).is_some_and(|b| b == batch)
                && d.metadata.get(ATTEMPT_KEY).is_some_and(|l| l == label)
        })
        .max_by(|a, b| {
            a.create_time_ms
                .cmp(&b.create_time_ms)
                .then(a.id.cmp(&b.id))
        })
}

/// Why a request cannot be launched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FanoutError {
    Count(usize),
    DuplicateLabel(String),
    Template,
    TaskPath,
}

impl std::fmt::Display for FanoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Count(n) => write!(
                f,
                "Start between 1 and {MAX_CHILDREN} children (asked for {n})."
            ),
            Self::DuplicateLabel(l) => {
                write!(f, "Two attempts are labelled “{l}”; labels must differ.")
            }
            Self::Template => write!(
                f,
                "The name template must contain {{n}} or {{label}}, so the children's names differ."
            ),
            Self::TaskPath => write!(f, "The task file needs a path (e.g. TASK.md)."),
        }
    }
}

impl std::error::Error for FanoutError {}

/// The default label of the `i`-th child (0-based): a … z, then aa, ab ….
pub fn default_label(i: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    if i < 26 {
        (letters[i] as char).to_string()
    } else {
        let (hi, lo) = (i / 26 - 1, i % 26);
        format!("{}{}", default_label(hi), letters[lo] as char)
    }
}

fn fill(template: &str, source: &str, n: usize, label: &str) -> String {
    template
        .replace("{source}", source)
        .replace("{n}", &n.to_string())
        .replace("{label}", label)
}

/// A label as it may sit in a name: lower case, runs of anything else as one `-`.
fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The children a request starts, in order; refuses a request whose children would
/// not be told apart (a count out of range, two equal labels, a template without
/// `{n}` or `{label}`, a task without a path).
pub fn plan(req: &FanoutRequest) -> Result<Vec<ChildSpec>, FanoutError> {
    if req.count == 0 || req.count > MAX_CHILDREN {
        return Err(FanoutError::Count(req.count));
    }
    if !(req.template.contains("{n}") || req.template.contains("{label}")) {
        return Err(FanoutError::Template);
    }
    if let Some((path, _)) = &req.task
        && path.trim().is_empty()
    {
        return Err(FanoutError::TaskPath);
    }
    let labels: Vec<String> = (0..req.count)
        .map(|i| {
            req.labels
                .get(i)
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| default_label(i))
        })
        .collect();
    for (i, l) in labels.iter().enumerate() {
        if labels[..i].contains(l) {
            return Err(FanoutError::DuplicateLabel(l.clone()));
        }
    }
    let mut names: Vec<String> = Vec::new();
    Ok(labels
        .into_iter()
        .enumerate()
        .map(|(i, label)| {
            let n = i + 1;
            let mut metadata = req.shared_metadata.clone();
            metadata.insert(BATCH_KEY.into(), req.batch_id.clone());
            metadata.insert(ATTEMPT_KEY.into(), label.clone());
            metadata.insert(SOURCE_KEY.into(), req.snapshot_id.clone());
            let mut name = fill(&req.template, &req.source_name, n, &slug(&label));
            // Two labels may read the same in a name ("a b", "a-b"): the number tells.
            if names.contains(&name) {
                name = format!("{name}-{n}");
            }
            names.push(name.clone());
            let task = req
                .task
                .as_ref()
                .map(|(p, t)| (p.trim().to_owned(), fill(t, &req.source_name, n, &label)));
            ChildSpec {
                label,
                name,
                metadata,
                task,
            }
        })
        .collect())
}

/// One attempt of a batch as the devbox list shows it now.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub label: String,
    /// The newest devbox with this label (a retry replaces a failed one).
    pub devbox: Devbox,
    /// Earlier devboxes with this label (failed boots that were retried).
    pub earlier: Vec<Devbox>,
}

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Starting,
    Running,
    Failed,
    Stopped,
}

impl Attempt {
    pub fn phase(&self) -> Phase {
        match self.devbox.status {
            DevboxStatus::Scheduled
            | DevboxStatus::Queued
            | DevboxStatus::Provisioning
            | DevboxStatus::Initializing
            | DevboxStatus::Resuming => Phase::Starting,
            DevboxStatus::Running => Phase::Running,
            DevboxStatus::Failure => Phase::Failed,
            _ => Phase::Stopped,
        }
    }
}

/// A batch: its id, source and attempts (in label order of their first start).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub id: String,
    pub snapshot_id: String,
    pub attempts: Vec<Attempt>,
    /// When its first child was created.
    pub started_ms: i64,
}

impl Batch {
    /// The batch `id` from a devbox list (`None` when no devbox carries it).
    pub fn of(id: &str, devboxes: &[Devbox]) -> Option<Self> {
        let mut mine: Vec<&Devbox> = devboxes
            .iter()
            .filter(|d| d.metadata.get(BATCH_KEY).is_some_and(|b| b == id))
            .collect();
        if mine.is_empty() {
            return None;
        }
        mine.sort_by(|a, b| {
            a.create_time_ms
                .cmp(&b.create_time_ms)
                .then(a.id.cmp(&b.id))
        });
        let mut attempts: Vec<Attempt> = Vec::new();
        for d in mine.iter().copied() {
            let label = d.metadata.get(ATTEMPT_KEY).cloned().unwrap_or_default();
            match attempts.iter_mut().find(|a| a.label == label) {
                Some(a) => {
                    let old = std::mem::replace(&mut a.devbox, d.clone());
                    a.earlier.push(old);
                }
                None => attempts.push(Attempt {
                    label,
                    devbox: d.clone(),
                    earlier: Vec::new(),
                }),
            }
        }
        Some(Self {
            id: id.to_owned(),
            snapshot_id: mine[0]
                .metadata
                .get(SOURCE_KEY)
                .cloned()
                .unwrap_or_default(),
            started_ms: mine[0].create_time_ms,
            attempts,
        })
    }

    /// The planned children that have no devbox yet (a launch cut short by a reload).
    pub fn missing<'a>(&self, planned: &'a [ChildSpec]) -> Vec<&'a ChildSpec> {
        planned
            .iter()
            .filter(|c| !self.attempts.iter().any(|a| a.label == c.label))
            .collect()
    }

    /// How many attempts are in each phase: (starting, running, failed, stopped).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for a in &self.attempts {
            match a.phase() {
                Phase::Starting => c.0 += 1,
                Phase::Running => c.1 += 1,
                Phase::Failed => c.2 += 1,
                Phase::Stopped => c.3 += 1,
            }
        }
        c
    }
}

/// Every batch the devbox list holds, newest first.
pub fn batches(devboxes: &[Devbox]) -> Vec<Batch> {
    let mut ids: Vec<&str> = devboxes
        .iter()
        .filter_map(|d| d.metadata.get(BATCH_KEY).map(String::as_str))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out: Vec<Batch> = ids
        .iter()
        .filter_map(|id| Batch::of(id, devboxes))
        .collect();
    out.sort_by(|a, b| b.started_ms.cmp(&a.started_ms).then(a.id.cmp(&b.id)));
    out
}

/// One row of the compare table: a key and each attempt's value (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareRow {
    pub key: String,
    pub values: Vec<Option<String>>,
    /// Not every attempt has the same value.
    pub differs: bool,
}

/// One attempt's result file: JSON objects flatten to dotted keys (`a.b`), arrays by
/// index (`a.0`); anything else is its lines (`line 1`, `line 2`, …).
pub fn flatten_result(text: &str) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        let key = |k: &str| {
            if prefix.is_empty() {
                k.to_owned()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match v {
            serde_json::Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    walk(&key(k), v, out);
                }
            }
            serde_json::Value::Array(a) if !a.is_empty() => {
                for (i, v) in a.iter().enumerate() {
                    walk(&key(&i.to_string()), v, out);
                }
            }
            serde_json::Value::String(s) => {
                out.insert(prefix_or_value(prefix), s.clone());
            }
            other => {
                out.insert(prefix_or_value(prefix), other.to_string());
            }
        }
    }
    fn prefix_or_value(prefix: &str) -> String {
        if prefix.is_empty() {
            "value".into()
        } else {
            prefix.to_owned()
        }
    }
    let mut out = BTreeMap::new();
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => walk("", &v, &mut out),
        Err(_) => {
            for (i, line) in text.lines().enumerate() {
                out.insert(format!("line {}", i + 1), line.to_owned());
            }
        }
    }
    out
}

/// The compare table of the attempts' result files (`None`: the file could not be
/// read). Keys in order; a key one attempt lacks differs.
pub fn collate(results: &[Option<String>]) -> Vec<CompareRow> {
    let flat: Vec<Option<BTreeMap<String, String>>> = results
        .iter()
        .map(|r| r.as_deref().map(flatten_result))
        .collect();
    let mut keys: Vec<&String> = flat.iter().flatten().flat_map(|m| m.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let values: Vec<Option<String>> = flat
                .iter()
                .map(|m| m.as_ref().and_then(|m| m.get(k).cloned()))
                .collect();
            let differs = values.windows(2).any(|w| w[0] != w[1]);
            CompareRow {
                key: k.clone(),
                values,
                differs,
            }
        })
        .collect()
}

/// The order of the compare table's columns sorted by the row `key`, best first: numbers
/// from highest, then other values alphabetically, then attempts without the key; ties
/// keep the batch's order. Without such a row, the batch's order.
pub fn column_order(rows: &[CompareRow], key: &str, columns: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..columns).collect();
    let Some(row) = rows.iter().find(|r| r.key == key) else {
        return order;
    };
    let rank = |i: usize| -> (u8, f64, String) {
        match row.values.get(i).cloned().flatten() {
            None => (2, 0.0, String::new()),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => (0, -n, String::new()),
                _ => (1, 0.0, v),
            },
        }
    };
    order.sort_by(|&a, &b| {
        let (ra, rb) = (rank(a), rank(b));
        ra.0.cmp(&rb.0)
            .then(ra.1.total_cmp(&rb.1))
            .then(ra.2.cmp(&rb.2))
            .then(a.cmp(&b))
    });
    order
}

/// What "continue with the best" does to one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Snapshot it (this commit message), then pin that snapshot.
    SnapshotAndPin {
        devbox_id: String,
        commit_message: String,
    },
    /// Shut it down.
    Shutdown { devbox_id: String },
    /// Suspend it.
    Suspend { devbox_id: String },
    /// Nothing: it is no longer running (failed or already stopped).
    Leave { devbox_id: String },
}

/// What happens to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OthersAction {
    Shutdown,
    Suspend,
}

/// The steps of continuing with `chosen` (a label): it is snapshotted and pinned; each
/// other running attempt is shut down (or suspended); one not running is left as is.
pub fn continue_steps(batch: &Batch, chosen: &str, others: OthersAction) -> Vec<(String, Step)> {
    batch
        .attempts
        .iter()
        .map(|a| {
            let devbox_id = a.devbox.id.clone();
            let step = if a.label == chosen {
                Step::SnapshotAndPin {
                    devbox_id,
                    commit_message: format!("fan-out {}: chose attempt {}", batch.id, a.label),
                }
            } else if a.phase() != Phase::Running {
                Step::Leave { devbox_id }
            } else {
                match others {
                    OthersAction::Shutdown => Step::Shutdown { devbox_id },
                    OthersAction::Suspend => Step::Suspend { devbox_id },
                }
            };
            (a.label.clone(), step)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn req(count: usize) -> FanoutRequest {
        FanoutRequest {
            batch_id: "fo_1".into(),
            snapshot_id: "snp_1".into(),
            source_name: "api".into(),
            count,
            labels: Vec::new(),
            template: DEFAULT_TEMPLATE.into(),
            shared_metadata: Metadata::from([("team".into(), "x".into())]),
            task: Some(("TASK.md".into(), "Attempt {label}: do it".into())),
        }
    }

    fn devbox(id: &str, t: i64, label: &str, status: DevboxStatus) -> Devbox {
        serde_json::from_value(serde_json::json!({
            "id": id, "status": status.as_str(), "create_time_ms": t,
            "metadata": {BATCH_KEY: "fo_1", ATTEMPT_KEY: label, SOURCE_KEY: "snp_1"},
        }))
        .expect("a devbox")
    }

    #[test]
    fn a_plan_names_labels_and_tags_each_child() {
        let mut r = req(3);
        r.labels = vec!["".into(), "approach: retry-with-backoff".into()];
        let p = plan(&r).expect("a valid plan");
        let names: Vec<_> = p.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "api-try-a",
                "api-try-approach-retry-with-backoff",
                "api-try-c"
            ]
        );
        assert_eq!(p[1].metadata[ATTEMPT_KEY], "approach: retry-with-backoff");
        assert_eq!(p[2].metadata[BATCH_KEY], "fo_1");
        assert_eq!(p[2].metadata["team"], "x");
        assert_eq!(
            p[0].task,
            Some(("TASK.md".into(), "Attempt a: do it".into()))
        );
    }

    #[test]
    fn a_plan_refuses_what_cannot_be_told_apart() {
        assert_eq!(plan(&req(0)), Err(FanoutError::Count(0)));
        assert_eq!(plan(&req(51)), Err(FanoutError::Count(51)));
        let mut r = req(2);
        r.labels = vec!["b".into(), "b".into()];
        assert_eq!(plan(&r), Err(FanoutError::DuplicateLabel("b".into())));
        let mut r = req(2);
        r.template = "same".into();
        assert_eq!(plan(&r), Err(FanoutError::Template));
        let mut r = req(2);
        r.task = Some((" ".into(), "x".into()));
        assert_eq!(plan(&r), Err(FanoutError::TaskPath));
    }

    #[test]
    fn default_labels_go_past_z() {
        assert_eq!(default_label(0), "a");
        assert_eq!(default_label(25), "z");
        assert_eq!(default_label(26), "aa");
        assert_eq!(default_label(49), "ax");
    }

    #[test]
    fn a_batch_is_found_from_metadata_with_retries_folded_in() {
        let list = vec![
            devbox("d1", 1, "a", DevboxStatus::Running),
            devbox("d2", 2, "b", DevboxStatus::Failure),
            devbox("d3", 5, "b", DevboxStatus::Provisioning),
            devbox("other", 3, "a", DevboxStatus::Running),
        ];
        let mut list = list;
        list[3].metadata.insert(BATCH_KEY.into(), "fo_2".into());
        let b = Batch::of("fo_1", &list).expect("the batch");
        assert_eq!(b.attempts.len(), 2);
        assert_eq!(b.attempts[1].devbox.id, "d3");
        assert_eq!(b.attempts[1].earlier[0].id, "d2");
        assert_eq!(b.counts(), (1, 1, 0, 0));
        assert_eq!(b.snapshot_id, "snp_1");
        let all = batches(&list);
        assert_eq!(
            all.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
            ["fo_2", "fo_1"]
        );
        let planned = plan(&req(3)).expect("a valid plan");
        let missing: Vec<_> = b
            .missing(&planned)
            .iter()
            .map(|c| c.label.clone())
            .collect();
        assert_eq!(missing, ["c"]);
    }

    #[test]
    fn collate_flattens_json_and_marks_differences() {
        let rows = collate(&[
            Some(r#"{"score": 1, "notes": {"ok": true}}"#.into()),
            Some(r#"{"score": 2, "notes": {"ok": true}}"#.into()),
            None,
        ]);
        let r: Vec<_> = rows.iter().map(|r| (r.key.as_str(), r.differs)).collect();
        assert_eq!(r, [("notes.ok", true), ("score", true)]);
        let rows = collate(&[Some("x\ny".into()), Some("x\nz".into())]);
        assert_eq!(rows[0].key, "line 1");
        assert!(!rows[0].differs);
        assert!(rows[1].differs);
    }

    #[test]
    fn continuing_snapshots_the_chosen_and_stops_only_running_others() {
        let list = vec![
            devbox("d1", 1, "a", DevboxStatus::Running),
            devbox("d2", 2, "b", DevboxStatus::Running),
            devbox("d3", 3, "c", DevboxStatus::Failure),
        ];
        let b = Batch::of("fo_1", &list).expect("the batch");
        let steps = continue_steps(&b, "b", OthersAction::Shutdown);
        assert_eq!(
            steps[0].1,
            Step::Shutdown {
                devbox_id: "d1".into()
            }
        );
        assert!(matches!(&steps[1].1, Step::SnapshotAndPin { devbox_id, .. } if devbox_id == "d2"));
        assert_eq!(
            steps[2].1,
            Step::Leave {
                devbox_id: "d3".into()
            }
        );
    }
}

// Property tests run natively (proptest does not build for wasm32).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::tests::req;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever labels are typed, an accepted plan's children have distinct labels
        /// and names and all carry the batch id.
        #[test]
        fn accepted_plans_tell_children_apart(
            count in 1usize..=MAX_CHILDREN,
            labels in proptest::collection::vec("[a-c ]{0,3}", 0..8),
        ) {
            let mut r = req(count);
            r.labels = labels;
            if let Ok(p) = plan(&r) {
                prop_assert_eq!(p.len(), count);
                let mut l: Vec<_> = p.iter().map(|c| c.label.clone()).collect();
                l.sort(); l.dedup();
                prop_assert_eq!(l.len(), count);
                let mut n: Vec<_> = p.iter().map(|c| c.name.clone()).collect();
                n.sort(); n.dedup();
                prop_assert_eq!(n.len(), count);
                for c in &p { prop_assert_eq!(&c.metadata[BATCH_KEY], "fo_1"); }
            }
        }

        /// Each row's `differs` is exactly "not every attempt has the same value".
        #[test]
        fn differs_means_not_all_equal(vals in proptest::collection::vec(proptest::option::of(0u8..3), 1..5)) {
            let results: Vec<Option<String>> =
                vals.iter().map(|v| v.map(|n| format!("{{\"k\": {n}}}"))).collect();
            for row in collate(&results) {
                let first = &row.values[0];
                prop_assert_eq!(row.differs, row.values.iter().any(|v| v != first));
            }
        }
    }

    #[test]
    fn columns_sort_by_a_key_highest_number_first_then_text_then_missing() {
        let rows = collate(&[
            Some(r#"{"score": 61, "note": "ok"}"#.into()),
            Some(r#"{"score": 94}"#.into()),
            None,
            Some(r#"{"score": "n/a"}"#.into()),
            Some(r#"{"score": 72.5}"#.into()),
        ]);
        assert_eq!(column_order(&rows, "score", 5), vec![1, 4, 0, 3, 2]);
        // Ties keep the batch's order; an unknown key changes nothing.
        assert_eq!(column_order(&rows, "note", 5), vec![0, 1, 2, 3, 4]);
        assert_eq!(column_order(&rows, "nope", 5), vec![0, 1, 2, 3, 4]);
    }
}
