//! The devbox list, fetched once for the whole app: every page that names devboxes,
//! offers them in a filter, or weighs which devboxes a delete would strand reads this
//! one list (and a page that polls it, like Devboxes, keeps it fresh for all).
//!
//! It refetches when the settings change and when snapdeck changed something (the data
//! version). A failure is kept as the `ApiError`, not turned into an empty list: a
//! delete's risk check must know that it does not know the devboxes.

use leptos::prelude::*;
use snapdeck_api::Devbox;

use crate::api::{Api, ApiError};
use crate::hooks::use_refresh::DataVersion;

type Loaded = Result<Vec<Devbox>, ApiError>;

/// The shared devbox list.
#[derive(Clone, Copy)]
pub struct Devboxes {
    resource: LocalResource<Loaded>,
    list: Memo<Vec<Devbox>>,
    error: Memo<Option<ApiError>>,
}

/// Installs the list (app root); the first fetch starts now.
pub fn provide_devboxes(api: Api, version: DataVersion) -> Devboxes {
    let resource = LocalResource::new(move || {
        let _ = (api.track(), version.track());
        async move { api.list_devboxes().await }
    });
    let list = Memo::new(move |_| {
        resource.with(|r| match r {
            Some(Ok(l)) => l.clone(),
            _ => Vec::new(),
        })
    });
    let error = Memo::new(move |_| resource.with(|r| r.as_ref().and_then(|r| r.clone().err())));
    let d = Devboxes {
        resource,
        list,
        error,
    };
    provide_context(d);
    d
}

/// The shared devbox list.
pub fn use_devboxes() -> Devboxes {
    expect_context::<Devboxes>()
}

impl Devboxes {
    /// Reads the loaded value (tracked): `None` while the first fetch runs.
    pub fn with<R>(&self, f: impl FnOnce(Option<&Loaded>) -> R) -> R {
        self.resource.with(|r| f(r.as_ref()))
    }

    /// As [`with`](Self::with), untracked.
    pub fn with_untracked<R>(&self, f: impl FnOnce(Option<&Loaded>) -> R) -> R {
        self.resource.with_untracked(|r| f(r.as_ref()))
    }

    /// The devboxes as last loaded (empty while loading or after a failure: check
    /// [`error`](Self::error) or [`known`](Self::known) before relying on absence).
    pub fn list(&self) -> Memo<Vec<Devbox>> {
        self.list
    }

    /// Why the last fetch failed, if it did (tracked).
    pub fn error(&self) -> Memo<Option<ApiError>> {
        self.error
    }

    /// Whether the list is loaded (tracked): a rule that depends on which devboxes
    /// exist must wait for this.
    pub fn known(&self) -> bool {
        self.resource.with(|r| matches!(r, Some(Ok(_))))
    }

    /// Fetches again (a poll, a retry button).
    pub fn refetch(&self) {
        self.resource.refetch();
    }
}
