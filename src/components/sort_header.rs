//! A sortable column header: the title is a link to the same list sorted by this
//! column, so the sort lives in the URL and Enter, middle-click and "copy link" work.

use leptos::prelude::*;

use crate::components::{Icon, IconKind};
use crate::routes::{Sort, SortKey};

/// A `<th>` whose title sorts the list; the active column shows its direction.
///
/// Not generic over the list's column type (the page maps its sort to `direction` and
/// `href`), so both tables share one compiled component. The only reactive part is
/// `aria-sort`: the arrow is always there and the stylesheet shows and turns it from
/// that attribute, which keeps the component small in the wasm.
#[component]
pub fn SortHeader(
    /// The column title.
    label: &'static str,
    /// `None` when the list is sorted by another column, else whether it is descending.
    #[prop(into)]
    direction: Signal<Option<bool>>,
    /// The URL of the list sorted by this column (flipped when it is the active one).
    #[prop(into)]
    href: Signal<String>,
    /// Classes of the `<th>` (responsive hiding, numeric alignment).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    view! {
        <th
            scope="col"
            class=class
            aria-sort=move || match direction.get() {
                Some(true) => "descending",
                Some(false) => "ascending",
                None => "none",
            }
        >
            // A sort is an edit of the view, like the filters: replace the history
            // entry and keep the scroll position (both read by leptos_router).
            <a class="sd-sort" href=href prop:replace=true data-noscroll="">
                {label}
                <span class="sd-sort__arrow" aria-hidden="true">
                    <Icon kind=IconKind::ChevronUp />
                </span>
            </a>
        </th>
    }
}

/// The header of column `key` of a list whose order is `sort`; `href_of` gives the
/// list's URL in another order (back on page 1, other filters kept).
pub fn sort_header<K: SortKey + Send + Sync>(
    label: &'static str,
    key: K,
    class: &'static str,
    sort: Signal<Sort<K>>,
    href_of: impl Fn(Sort<K>) -> String + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <SortHeader
            label=label
            class=class
            direction=Signal::derive(move || sort.get().direction_of(key))
            href=Signal::derive(move || href_of(sort.get().toggled(key)))
        />
    }
}
