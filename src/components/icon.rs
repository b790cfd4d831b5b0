//! Inline SVG icons (no icon font: the glyphs must render in any host page).

use leptos::prelude::*;

/// Which icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconKind {
    Copy,
    Gear,
    Contrast,
    Pin,
    Check,
    Cross,
    Spinner,
    ChevronDown,
    ChevronUp,
    Camera,
    Restore,
    Trash,
}

impl IconKind {
    fn paths(self) -> &'static [&'static str] {
        match self {
            IconKind::Copy => &["M5.5 5.5h7v7h-7z", "M3.5 10.5v-7h7"],
            IconKind::Gear => &[
                "M8 10.2a2.2 2.2 0 1 0 0-4.4 2.2 2.2 0 0 0 0 4.4z",
                "M8 1.8v1.7M8 12.5v1.7M14.2 8h-1.7M3.5 8H1.8M12.4 3.6l-1.2 1.2M4.8 11.2l-1.2 1.2M12.4 12.4l-1.2-1.2M4.8 4.8 3.6 3.6",
            ],
            IconKind::Contrast => &[
                "M8 2.2a5.8 5.8 0 1 0 0 11.6z",
                "M8 2.2a5.8 5.8 0 1 1 0 11.6",
            ],
            IconKind::Pin => &["M6 2.5h4l-.6 4 2.1 2.2h-7l2.1-2.2z", "M8 8.7v4.8"],
            IconKind::Check => &["M3 8.5l3.2 3L13 4.5"],
            IconKind::Cross => &["M4 4l8 8M12 4l-8 8"],
            IconKind::Spinner => &["M8 2a6 6 0 1 1-6 6"],
            IconKind::ChevronDown => &["M4 6l4 4 4-4"],
            IconKind::ChevronUp => &["M4 10l4-4 4 4"],
            IconKind::Camera => &[
                "M2.5 5h2.2L6 3.3h4L11.3 5h2.2v7.5h-11z",
                "M8 10.6a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
            ],
            IconKind::Restore => &["M3 8a5 5 0 1 0 1.5-3.6", "M3 2.5v2.5h2.5"],
            IconKind::Trash => &["M3 4.5h10M6.5 4.5V3h3v1.5M4.5 4.5l.6 8.5h5.8l.6-8.5"],
        }
    }
}

/// A 16×16 stroke icon in the current text colour; decorative (the button that holds
/// it carries the label).
#[component]
pub fn Icon(
    /// Which icon.
    kind: IconKind,
) -> impl IntoView {
    let spin = kind == IconKind::Spinner;
    view! {
        <svg
            class="sd-icon"
            class:sd-icon--spin=spin
            viewBox="0 0 16 16"
            width="14"
            height="14"
            aria-hidden="true"
            fill="none"
            stroke="currentColor"
            stroke-width="1.5"
            stroke-linecap="round"
            stroke-linejoin="round"
        >
            {kind.paths().iter().map(|d| view! { <path d=*d /> }).collect_view()}
        </svg>
    }
}
