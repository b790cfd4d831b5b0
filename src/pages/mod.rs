//! One file per route (`…Page`).

pub mod cleanup;
pub mod devbox;
pub mod devboxes;
pub mod not_found;
pub mod settings;
pub mod snapshots;

pub use cleanup::CleanupPage;
pub use devbox::DevboxPage;
pub use devboxes::DevboxesPage;
pub use not_found::NotFoundPage;
pub use settings::SettingsPage;
pub use snapshots::SnapshotsPage;
