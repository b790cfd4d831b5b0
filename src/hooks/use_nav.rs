//! `use_nav`: where the app is and how it moves, the same for the full dashboard (the
//! browser URL, through leptos_router) and for an embed (its own in-memory URL).
//!
//! Whoever mounts the app provides one [`Nav`]: the dashboard's frame from the
//! router's location, each embed from its own. Pages read their state from
//! [`use_route`] and move with [`Nav::go`] / [`Nav::replace`]; none of them knows which
//! of the two it runs in, and none parses a URL ([`Page::parse`] does, once).

use leptos::prelude::*;

use crate::routes::{Page, PageKind};

/// The current page and the way to change it.
#[derive(Clone, Copy)]
pub struct Nav {
    /// The page shown; `None` for a path no page has.
    page: Memo<Option<Page>>,
    /// Moves to an app URL; `true` replaces the history entry and keeps the scroll.
    to: Callback<(String, bool)>,
    embedded: bool,
}

impl Nav {
    /// Installs the navigation of the app under the current owner.
    pub fn provide(
        page: Memo<Option<Page>>,
        to: impl Fn(String, bool) + Send + Sync + 'static,
        embedded: bool,
    ) -> Self {
        let nav = Self {
            page,
            to: Callback::new(move |(href, replace): (String, bool)| to(href, replace)),
            embedded,
        };
        provide_context(nav);
        nav
    }

    /// The page shown (tracked).
    pub fn page(&self) -> Memo<Option<Page>> {
        self.page
    }

    /// The kind of page shown (tracked): what the frame switches on.
    pub fn kind(&self) -> Option<PageKind> {
        self.page.with(|p| p.as_ref().map(Page::kind))
    }

    /// Opens `page` as a new history entry.
    pub fn go(&self, page: &Page) {
        self.to.run((page.href(), false));
    }

    /// Opens an app URL (`/devboxes/dbx_…`) as a new history entry.
    pub fn go_href(&self, href: &str) {
        self.to.run((href.to_owned(), false));
    }

    /// Replaces the current URL with `page`'s, for filter and paging edits: no history
    /// entry and no scroll jump.
    pub fn replace(&self, page: &Page) {
        self.to.run((page.href(), true));
    }

    /// True under an embedded app (for behaviour that must not reach the host page,
    /// such as window-wide keyboard shortcuts).
    pub fn is_embedded(&self) -> bool {
        self.embedded
    }
}

/// The navigation of this app. A missing provider is a bug in the mount code: it
/// panics here, at the first page, instead of giving pages that do nothing.
pub fn use_nav() -> Nav {
    expect_context::<Nav>()
}

/// A page's own state out of the current page, e.g.
/// `use_route(|p| match p { Page::Devboxes(q) => Some(q.clone()), _ => None })`.
///
/// While the frame swaps one page for another the URL already names the next one; the
/// leaving page keeps its last state for that moment instead of seeing a default.
pub fn use_route<T>(pick: impl Fn(&Page) -> Option<T> + Send + Sync + 'static) -> Memo<T>
where
    T: Clone + PartialEq + Default + Send + Sync + 'static,
{
    let page = use_nav().page();
    Memo::new(move |prev: Option<&T>| {
        page.with(|p| p.as_ref().and_then(&pick))
            .or_else(|| prev.cloned())
            .unwrap_or_default()
    })
}
