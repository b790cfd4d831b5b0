//! Loading skeletons, empty states and the one error fallback.

use leptos::prelude::*;

use crate::api::{ApiError, needs_settings};
use crate::hooks::use_devboxes::use_devboxes;
use crate::routes::Page;

/// The shape of a loaded list, without its data. Pages switch views on this (through a
/// `Memo`), so a refetch that brings new data updates rows in place instead of
/// rebuilding the page, which would close open dialogs and lose focus.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadPhase {
    Loading,
    Failed(ApiError),
    Empty,
    Ready,
}

impl LoadPhase {
    /// The phase of a list resource's current value.
    pub fn of_list<T>(r: Option<&Result<Vec<T>, ApiError>>) -> Self {
        match r {
            None => LoadPhase::Loading,
            Some(Err(e)) => LoadPhase::Failed(e.clone()),
            Some(Ok(l)) if l.is_empty() => LoadPhase::Empty,
            Some(Ok(_)) => LoadPhase::Ready,
        }
    }
}

/// Grey placeholder rows shaped like the table that will replace them.
#[component]
pub fn SkeletonRows(
    /// Number of columns.
    cols: usize,
    /// Number of rows.
    #[prop(default = 6)]
    rows: usize,
) -> impl IntoView {
    (0..rows)
        .map(|r| {
            view! {
                <tr class="sd-skeleton-row" aria-hidden="true">
                    {(0..cols)
                        .map(|c| {
                            let w = 40 + ((r * 7 + c * 13) % 5) * 10;
                            view! {
                                <td>
                                    <span class="sd-skeleton" style=format!("width:{w}%")></span>
                                </td>
                            }
                        })
                        .collect_view()}
                </tr>
            }
        })
        .collect_view()
}

/// An empty state that says what to do next.
#[component]
pub fn EmptyState(
    /// One line: what is (not) here.
    #[prop(into)]
    title: String,
    /// What to do next, and any links.
    children: Children,
) -> impl IntoView {
    view! {
        <div class="sd-empty" role="status">
            <p class="sd-empty__title">{title}</p>
            <div class="sd-empty__body">{children()}</div>
        </div>
    }
}

/// The error fallback: what went wrong, a retry button, and a link to Settings when
/// the key or the URL is the problem.
#[component]
pub fn ErrorState(
    /// The failure.
    error: ApiError,
    /// Called by the retry button.
    #[prop(into)]
    on_retry: Callback<()>,
) -> impl IntoView {
    let config = needs_settings(&error);
    view! {
        <div class="sd-error" role="alert">
            <p class="sd-error__title">"Could not load this page"</p>
            <p class="sd-error__msg">{error.to_string()}</p>
            <div class="sd-row">
                <button type="button" class="sd-btn" on:click=move |_| on_retry.run(())>
                    "Retry"
                </button>
                {config
                    .then(|| {
                        view! {
                            <a class="sd-btn sd-btn--ghost" href=Page::Settings.href()>
                                "Open settings"
                            </a>
                        }
                    })}
            </div>
        </div>
    }
}

/// Says, above a page that still works, that the devbox list could not be loaded: names
/// fall back to ids, and a delete whose risks depend on which devboxes were started
/// from a snapshot waits until the list loads.
#[component]
pub fn DevboxesUnavailable() -> impl IntoView {
    let devboxes = use_devboxes();
    move || {
        devboxes.error().get().map(|e| {
            view! {
                <div class="sd-callout sd-callout--warn sd-row" role="alert" data-testid="devboxes-error">
                    <span>
                        "Could not load the devboxes (" {e.to_string()}
                        "): devboxes show by id, and a delete that must know which devboxes a snapshot started waits until the list loads."
                    </span>
                    <button type="button" class="sd-btn sd-btn--sm" on:click=move |_| devboxes.refetch()>
                        "Retry"
                    </button>
                </div>
            }
        })
    }
}
