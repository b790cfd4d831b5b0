//! The one table of keyboard shortcuts. The `?` help dialog lists it, the command
//! palette shows each action's keys from it, and the key handlers are tested against it
//! (every binding they act on is listed here), so the help never drifts from the keys.

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Does {
    Help,
    Palette,
    Search,
    /// Go to a page (its name in the palette's page list).
    Go(&'static str),
    NewDevbox,
    ListDown,
    ListUp,
    ListSelect,
    ListExtend,
    ListOpen,
    ListRepeat,
    PaletteMove,
    PaletteRun,
    Submit,
    Close,
}

/// Where a shortcut works: the help dialog's groups, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Anywhere,
    Lists,
    Palette,
    Dialogs,
}

impl Area {
    pub const ALL: [Area; 4] = [Area::Anywhere, Area::Lists, Area::Palette, Area::Dialogs];

    pub fn heading(self) -> &'static str {
        match self {
            Area::Anywhere => "Anywhere",
            Area::Lists => "Lists (Devboxes, Snapshots)",
            Area::Palette => "Command palette",
            Area::Dialogs => "Dialogs",
        }
    }
}

/// One shortcut: the keys (space-separated keys are pressed one after the other; `+`
/// joins keys held together; `/` separates alternatives), what it does in words, and
/// what it does as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortcut {
    pub keys: &'static str,
    pub what: &'static str,
    pub does: Does,
    pub area: Area,
}

const fn s(keys: &'static str, what: &'static str, does: Does, area: Area) -> Shortcut {
    Shortcut {
        keys,
        what,
        does,
        area,
    }
}

/// Every shortcut of the dashboard.
pub const SHORTCUTS: &[Shortcut] = &[
    s("?", "Show these shortcuts", Does::Help, Area::Anywhere),
    s(
        "Ctrl+K / ⌘+K",
        "Open the command palette",
        Does::Palette,
        Area::Anywhere,
    ),
    s("/", "Search the list", Does::Search, Area::Anywhere),
    s(
        "g d",
        "Go to Devboxes",
        Does::Go("Devboxes"),
        Area::Anywhere,
    ),
    s(
        "g s",
        "Go to Snapshots",
        Does::Go("Snapshots"),
        Area::Anywhere,
    ),
    s(
        "g b",
        "Go to Blueprints",
        Does::Go("Blueprints"),
        Area::Anywhere,
    ),
    s("g c", "Go to Cleanup", Does::Go("Cleanup"), Area::Anywhere),
    s(
        "n",
        "New devbox (Devboxes, a blueprint)",
        Does::NewDevbox,
        Area::Anywhere,
    ),
    s("j", "Move to the next row", Does::ListDown, Area::Lists),
    s("k", "Move to the previous row", Does::ListUp, Area::Lists),
    // A selection is what the list's bar acts on: Snapshot selected (Devboxes),
    // Delete selected (Snapshots).
    s(
        "x",
        "Select the row (to snapshot or delete the selected)",
        Does::ListSelect,
        Area::Lists,
    ),
    s(
        "Shift+X",
        "Extend the selection from the last selected row to the row",
        Does::ListExtend,
        Area::Lists,
    ),
    s("Enter", "Open the row", Does::ListOpen, Area::Lists),
    s(
        ".",
        "Repeat the last palette action on the row",
        Does::ListRepeat,
        Area::Lists,
    ),
    s(
        "↑ / ↓",
        "Move through the results",
        Does::PaletteMove,
        Area::Palette,
    ),
    s(
        "Enter",
        "Open or run the result",
        Does::PaletteRun,
        Area::Palette,
    ),
    s("Enter", "Submit a dialog", Does::Submit, Area::Dialogs),
    s(
        "Esc",
        "Close a dialog or the palette",
        Does::Close,
        Area::Dialogs,
    ),
];

/// The keys of the first shortcut that does `does` (for a hint beside an action).
pub fn keys_of(does: Does) -> Option<&'static str> {
    SHORTCUTS.iter().find(|s| s.does == does).map(|s| s.keys)
}

/// The keys that go to the page named `page` (`"Snapshots"` → `"g s"`).
pub fn go_keys(page: &str) -> Option<&'static str> {
    SHORTCUTS
        .iter()
        .find(|s| matches!(s.does, Does::Go(p) if p == page))
        .map(|s| s.keys)
}

/// The keys of a sequence or chord, one by one, for `<kbd>` rendering:
/// `"g d"` → `["g", "d"]`, `"Ctrl+K / ⌘+K"` → `["Ctrl+K", "/", "⌘+K"]`.
pub fn parts(keys: &str) -> Vec<&str> {
    keys.split(' ').filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_area_has_shortcuts_and_each_action_is_listed_once_per_area() {
        for area in Area::ALL {
            let mine: Vec<&Shortcut> = SHORTCUTS.iter().filter(|s| s.area == area).collect();
            assert!(!mine.is_empty(), "{area:?} is empty");
            for (i, a) in mine.iter().enumerate() {
                assert!(
                    mine[i + 1..].iter().all(|b| b.does != a.does),
                    "{:?} twice",
                    a.does
                );
            }
        }
    }

    #[test]
    fn the_list_keys_are_in_the_table() {
        for does in [
            Does::ListDown,
            Does::ListUp,
            Does::ListSelect,
            Does::ListExtend,
            Does::ListOpen,
            Does::ListRepeat,
            Does::Palette,
        ] {
            assert!(keys_of(does).is_some(), "{does:?}");
        }
        assert_eq!(keys_of(Does::Go("Snapshots")), Some("g s"));
        // Both lists with a selection read these rows; there is no table per page.
        for list in ["Devboxes", "Snapshots"] {
            assert!(Area::Lists.heading().contains(list), "{list}");
        }
        assert_eq!(keys_of(Does::ListSelect), Some("x"));
        assert_eq!(keys_of(Does::ListExtend), Some("Shift+X"));
        assert_eq!(go_keys("Snapshots"), Some("g s"));
        assert_eq!(go_keys("Settings"), None);
        assert_eq!(parts("Ctrl+K / ⌘+K"), ["Ctrl+K", "/", "⌘+K"]);
    }
}
