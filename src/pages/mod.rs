//! One module per route (`…Page`); a big page is a folder of its parts. [`page_view`]
//! is the one place a [`PageKind`] becomes a page, for the dashboard and the embeds.

pub mod audit;
pub mod blueprints;
pub mod cleanup;
pub mod devbox;
pub mod devboxes;
pub mod fanout;
pub mod lineage;
pub mod not_found;
pub mod settings;
pub mod snapshot;
pub mod snapshots;

use leptos::prelude::*;

pub use audit::AuditPage;
pub use blueprints::{BlueprintPage, BlueprintsPage};
pub use cleanup::CleanupPage;
pub use devbox::DevboxPage;
pub use devboxes::DevboxesPage;
pub use fanout::{FanoutPage, FanoutsPage};
pub use lineage::LineagePage;
pub use not_found::NotFoundPage;
pub use settings::SettingsPage;
pub use snapshot::SnapshotPage;
pub use snapshots::SnapshotsPage;

use crate::routes::PageKind;

/// The page of `kind`; `None` (a path no page has) is the not-found page.
pub fn page_view(kind: Option<PageKind>) -> AnyView {
    match kind {
        Some(PageKind::Devboxes) => view! { <DevboxesPage /> }.into_any(),
        Some(PageKind::Devbox) => view! { <DevboxPage /> }.into_any(),
        Some(PageKind::Snapshots) => view! { <SnapshotsPage /> }.into_any(),
        Some(PageKind::Snapshot) => view! { <SnapshotPage /> }.into_any(),
        Some(PageKind::Cleanup) => view! { <CleanupPage /> }.into_any(),
        Some(PageKind::Audit) => view! { <AuditPage /> }.into_any(),
        Some(PageKind::Settings) => view! { <SettingsPage /> }.into_any(),
        Some(PageKind::Blueprints) => view! { <BlueprintsPage /> }.into_any(),
        Some(PageKind::Blueprint) => view! { <BlueprintPage /> }.into_any(),
        Some(PageKind::Fanouts) => view! { <FanoutsPage /> }.into_any(),
        Some(PageKind::Fanout) => view! { <FanoutPage /> }.into_any(),
        Some(PageKind::Lineage) => view! { <LineagePage /> }.into_any(),
        None => view! { <NotFoundPage /> }.into_any(),
    }
}
