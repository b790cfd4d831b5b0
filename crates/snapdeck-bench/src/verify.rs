//! `snapset` and `verify`: proof that a cleanup deleted exactly what it should.
//!
//! `snapset` writes every listed snapshot (all devboxes) to a file. `verify` compares a
//! before and an after set with the expectation computed independently of the tool
//! under test: per devbox, everything but its newest `keep` snapshots (by creation time)
//! is gone, and nothing else is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::{Api, Res, all_snapshots};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub source_devbox_id: String,
    pub create_time_ms: i64,
}

pub async fn snapset(api: &Api, out: &Path) -> Res<Value> {
    let all: Vec<Entry> = all_snapshots(api, None)
        .await?
        .into_iter()
        .map(|s| Entry {
            id: s.id,
            source_devbox_id: s.source_devbox_id,
            create_time_ms: s.create_time_ms,
        })
        .collect();
    std::fs::write(out, serde_json::to_vec(&all).map_err(|e| e.to_string())?)
        .map_err(|e| format!("writing {}: {e}", out.display()))?;
    Ok(json!({ "snapshots": all.len(), "file": out.display().to_string() }))
}

fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Res<T> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("parsing {}: {e}", path.display()))
}

pub fn verify(
    before: &Path,
    after: &Path,
    devbox_id: &str,
    keep: usize,
    plan: Option<&Path>,
    kept: Option<&str>,
) -> Res<Value> {
    let before: Vec<Entry> = read(before)?;
    let after: Vec<Entry> = read(after)?;
    let after_ids: BTreeSet<&str> = after.iter().map(|e| e.id.as_str()).collect();
    let deleted: BTreeSet<&str> = before
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| !after_ids.contains(id))
        .collect();

    let mut of_devbox: Vec<&Entry> = before
        .iter()
        .filter(|e| e.source_devbox_id == devbox_id)
        .collect();
    of_devbox.sort_by(|a, b| {
        b.create_time_ms
            .cmp(&a.create_time_ms)
            .then_with(|| b.id.cmp(&a.id))
    });
    // The newest kept must be unambiguous, or "expected" would be a guess.
    let ambiguous = of_devbox.len() > keep
        && keep > 0
        && of_devbox.get(keep - 1).map(|e| e.create_time_ms)
            == of_devbox.get(keep).map(|e| e.create_time_ms);
    let expected: BTreeSet<&str> = of_devbox.iter().skip(keep).map(|e| e.id.as_str()).collect();

    let unexpected: Vec<&str> = deleted.difference(&expected).copied().collect();
    let missed: Vec<&str> = expected.difference(&deleted).copied().collect();
    let mut per_devbox: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &before {
        if deleted.contains(e.id.as_str()) {
            *per_devbox.entry(e.source_devbox_id.as_str()).or_default() += 1;
        }
    }
    let plan_matches = match plan {
        Some(p) => {
            let planned: Vec<String> = read(p)?;
            let planned: BTreeSet<&str> = planned.iter().map(String::as_str).collect();
            Some(planned == expected)
        }
        None => None,
    };
    let kept_present = kept.map(|k| after_ids.contains(k));
    Ok(json!({
        "kept": kept,
        "kept_present": kept_present,
        "before": before.len(),
        "after": after.len(),
        "deleted": deleted.len(),
        "expected_deleted": expected.len(),
        "deleted_outside_plan": unexpected.len(),
        "planned_but_not_deleted": missed.len(),
        "exact": unexpected.is_empty()
            && missed.is_empty()
            && !ambiguous
            && kept_present != Some(false),
        "ambiguous_newest": ambiguous,
        "plan_matches_expectation": plan_matches,
        "deleted_per_devbox": per_devbox,
        "examples_outside_plan": unexpected.iter().take(5).collect::<Vec<_>>(),
    }))
}
