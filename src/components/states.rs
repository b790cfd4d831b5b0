//! Loading skeletons, empty states and the one error fallback.

use leptos::prelude::*;

use crate::api::{ApiError, needs_settings};
use crate::routes::Page;

/// The shape of a loaded list, without its data. Pages switch views on this (through a
/// `Memo`), so a refetch that brings new data updates rows in place instead of
/// rebuilding the page, which would close open dialogs and lose focus.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Loading,
    Failed(ApiError),
    Empty,
    Ready,
}

impl Phase {
    /// The phase of a list resource's current value.
    pub fn of_list<T>(r: Option<&Result<Vec<T>, ApiError>>) -> Self {
        match r {
            None => Phase::Loading,
            Some(Err(e)) => Phase::Failed(e.clone()),
            Some(Ok(l)) if l.is_empty() => Phase::Empty,
            Some(Ok(_)) => Phase::Ready,
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
