//! Segmented filter chips with counts (`all 14 · running 6 · …`), as links so the
//! filter lives in the URL.

use leptos::prelude::*;

use crate::tone::Tone;

/// One chip.
#[derive(Debug, Clone, PartialEq)]
pub struct Chip {
    pub label: String,
    pub count: usize,
    pub href: String,
    pub active: bool,
    /// Colour family for the dot (`ok`, `busy`, …), if any.
    pub tone: Option<Tone>,
}

/// A row of filter chips.
#[component]
pub fn Chips(
    /// Accessible name of the group, e.g. "Filter by status".
    #[prop(into)]
    label: String,
    /// The chips.
    #[prop(into)]
    chips: Signal<Vec<Chip>>,
) -> impl IntoView {
    view! {
        <nav class="sd-chips" class:sd-chips--empty=move || chips.with(Vec::is_empty) aria-label=label>
            <For
                each=move || chips.get()
                // The link is part of the key: it carries the search and sort, which change
                // without changing the label, count or state.
                key=|c| (c.label.clone(), c.count, c.active, c.href.clone())
                children=|c| {
                    let key = c.label.clone();
                    view! {
                        <a
                            class="sd-chip"
                            class:sd-chip--active=c.active
                            href=c.href
                            aria-current=c.active.then_some("true")
                            data-status=key
                        >
                            {c.tone.map(|t| view! { <span class=format!("sd-dot sd-dot--{t}")></span> })}
                            <span class="sd-chip__label">{c.label}</span>
                            <span class="sd-chip__count">{c.count}</span>
                        </a>
                    }
                }
            />
        </nav>
    }
}
