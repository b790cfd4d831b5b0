//! "1–50 of 120" with previous/next links (page number in the URL).

use leptos::prelude::*;

/// Paging controls. `href(page)` builds the link for a 1-based page.
#[component]
pub fn Pager(
    /// Current 1-based page.
    #[prop(into)]
    page: Signal<usize>,
    /// Rows per page.
    per_page: usize,
    /// Total rows.
    #[prop(into)]
    total: Signal<usize>,
    /// Builds a link to a page.
    href: Callback<usize, String>,
    /// What is being counted ("devboxes").
    #[prop(into)]
    noun: String,
) -> impl IntoView {
    let pages = move || total.get().div_ceil(per_page).max(1);
    let cur = move || page.get().min(pages());
    view! {
        <div class="sd-pager">
            <span class="sd-pager__info" aria-live="polite">
                {move || {
                    let t = total.get();
                    if t == 0 {
                        format!("0 {noun}")
                    } else {
                        let from = (cur() - 1) * per_page + 1;
                        let to = (cur() * per_page).min(t);
                        format!("{from}–{to} of {t} {noun}")
                    }
                }}
            </span>
            <Show when=move || { pages() > 1 }>
                <span class="sd-pager__nav">
                    {move || {
                        (cur() > 1)
                            .then(|| {
                                view! {
                                    <a class="sd-btn sd-btn--ghost sd-btn--sm" rel="prev" href=href.run(cur() - 1)>
                                        "← Prev"
                                    </a>
                                }
                            })
                    }}
                    <span class="sd-pager__num">{move || format!("page {} of {}", cur(), pages())}</span>
                    {move || {
                        (cur() < pages())
                            .then(|| {
                                view! {
                                    <a class="sd-btn sd-btn--ghost sd-btn--sm" rel="next" href=href.run(cur() + 1)>
                                        "Next →"
                                    </a>
                                }
                            })
                    }}
                </span>
            </Show>
        </div>
    }
}
