//! What the palette searches: the pages of the route table, the shared devbox list,
//! the snapshots and blueprints (loaded when the palette opens) and the fan-out
//! batches found in the devboxes' metadata — turned into snapdeck-core's entries once
//! per change of the data, not per keystroke.

use snapdeck_api::{Blueprint, Devbox, Snapshot};
use snapdeck_core::fanout::batches;
use snapdeck_core::palette::{Entry, Kind, Recents};

use crate::lineage::{devbox_label, snapshot_label};
use crate::routes::Page;
use crate::storage::{self, Area};

/// Where the recently opened items are kept (kinds and ids only).
const RECENTS_KEY: &str = "snapdeck.palette.recent";

/// Every entry the palette can find.
pub fn entries(
    devboxes: &[Devbox],
    snapshots: &[Snapshot],
    blueprints: &[Blueprint],
) -> Vec<Entry> {
    let mut out: Vec<Entry> = Page::named()
        .into_iter()
        .map(|(name, page)| Entry::new(Kind::Page, page.href(), name, "page"))
        .collect();
    out.extend(devboxes.iter().map(|d| {
        Entry::new(
            Kind::Devbox,
            &d.id,
            d.name.clone().unwrap_or_default(),
            d.status.as_str(),
        )
    }));
    out.extend(snapshots.iter().map(|s| {
        let of = devboxes
            .iter()
            .find(|d| d.id == s.source_devbox_id)
            .map_or_else(|| s.source_devbox_id.clone(), devbox_label);
        Entry::new(
            Kind::Snapshot,
            &s.id,
            s.name.clone().unwrap_or_default(),
            format!("of {of}"),
        )
    }));
    out.extend(
        blueprints
            .iter()
            .map(|b| Entry::new(Kind::Blueprint, &b.id, &b.name, b.status.as_str())),
    );
    out.extend(batches(devboxes).into_iter().map(|b| {
        let from = snapshots
            .iter()
            .find(|s| s.id == b.snapshot_id)
            .map_or_else(|| b.snapshot_id.clone(), snapshot_label);
        let n = b.attempts.len();
        let detail = format!("{n} attempt{} from {from}", if n == 1 { "" } else { "s" });
        Entry::new(Kind::Fanout, &b.id, "", detail)
    }));
    out
}

/// The page an entry opens.
pub fn page_of(kind: Kind, id: &str) -> Option<Page> {
    Some(match kind {
        Kind::Page => return Page::parse(id),
        Kind::Devbox => Page::devbox(id),
        Kind::Snapshot => Page::snapshot(id),
        Kind::Blueprint => Page::blueprint(id),
        Kind::Fanout => Page::fanout(id),
    })
}

/// The entry a page is about (a devbox's, snapshot's, blueprint's or batch's page), so
/// opening it counts as recent and its actions are offered first.
pub fn subject_of(page: &Page) -> Option<(Kind, String)> {
    match page {
        Page::Devbox { id, .. } => Some((Kind::Devbox, id.clone())),
        Page::Snapshot { id } => Some((Kind::Snapshot, id.clone())),
        Page::Blueprint { id } => Some((Kind::Blueprint, id.clone())),
        Page::Fanout { id } => Some((Kind::Fanout, id.clone())),
        _ => None,
    }
}

/// The stored recents (empty when absent or unreadable).
pub fn load_recents() -> Recents {
    Recents::from_keys(storage::get_json(Area::Local, RECENTS_KEY).unwrap_or_default())
}

pub fn save_recents(r: &Recents) {
    storage::set_json(Area::Local, RECENTS_KEY, &r.keys());
}
