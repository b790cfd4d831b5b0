//! A counter bumped whenever snapdeck changes something (a snapshot started or finished,
//! a delete, a restore). Resources read it so lists refetch after our own changes
//! without each page knowing who changed what.

use leptos::prelude::*;

/// The app-wide data version.
#[derive(Debug, Clone, Copy)]
pub struct DataVersion(RwSignal<u64>);

impl DataVersion {
    /// Reads the version (tracked): call inside a resource's fetcher.
    pub fn track(&self) -> u64 {
        self.0.get()
    }

    /// Says "data changed": every resource that tracks the version refetches.
    pub fn bump(&self) {
        if !self.0.is_disposed() {
            self.0.update(|v| *v += 1);
        }
    }
}

/// Installs the version (app root).
pub fn provide_refresh() -> DataVersion {
    let v = DataVersion(RwSignal::new(0));
    provide_context(v);
    v
}

/// The app-wide data version.
pub fn use_refresh() -> DataVersion {
    expect_context::<DataVersion>()
}
