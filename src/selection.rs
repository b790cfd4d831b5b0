//! Multi-select over a list in a given order: click toggles one row, shift-click
//! selects the range from the last clicked row (the anchor), "select all matching"
//! takes every id of the filtered list. A plain type with no reactivity, so the rules
//! are tested natively; pages keep it in a signal and call these methods.

use std::collections::BTreeSet;

/// The selected ids plus the anchor for shift-click ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    ids: BTreeSet<String>,
    anchor: Option<String>,
}

impl Selection {
    /// Nothing selected.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `id` is selected.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// How many are selected.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Nothing selected.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The selected ids in `order` (ids not in `order` are left out).
    pub fn in_order<'a>(&self, order: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        order
            .into_iter()
            .filter(|id| self.ids.contains(*id))
            .map(str::to_owned)
            .collect()
    }

    /// A click on the checkbox of `id`. Without shift it toggles `id` and makes it the
    /// anchor. With shift (and an anchor that is still in `order`) it sets every row
    /// from the anchor to `id` to the state the anchor has — the way file managers and
    /// mail clients do it — and keeps the anchor.
    pub fn click(&mut self, id: &str, shift: bool, order: &[&str]) {
        let anchor_pos = self
            .anchor
            .as_deref()
            .and_then(|a| order.iter().position(|o| *o == a));
        let pos = order.iter().position(|o| *o == id);
        match (shift, anchor_pos, pos) {
            (true, Some(a), Some(p)) => {
                let select = self.anchor.as_deref().is_some_and(|a| self.ids.contains(a));
                let (from, to) = if a <= p { (a, p) } else { (p, a) };
                for other in &order[from..=to] {
                    if select {
                        self.ids.insert((*other).to_owned());
                    } else {
                        self.ids.remove(*other);
                    }
                }
            }
            _ => {
                if !self.ids.remove(id) {
                    self.ids.insert(id.to_owned());
                }
                self.anchor = Some(id.to_owned());
            }
        }
    }

    /// Selects every id given (e.g. all rows matching the filters).
    pub fn select_all<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        self.ids.extend(ids.into_iter().map(str::to_owned));
    }

    /// Unselects every id given (e.g. the rows of one page), keeping the rest.
    pub fn deselect_all<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            self.ids.remove(id);
        }
    }

    /// Selects nothing.
    pub fn clear(&mut self) {
        self.ids.clear();
        self.anchor = None;
    }

    /// Drops ids that are no longer listed (filters changed, rows deleted), so a
    /// selection never reaches rows the person cannot see.
    pub fn retain_listed<'a>(&mut self, listed: impl IntoIterator<Item = &'a str>) {
        let listed: BTreeSet<&str> = listed.into_iter().collect();
        self.ids.retain(|id| listed.contains(id.as_str()));
        if self.anchor.as_deref().is_some_and(|a| !listed.contains(a)) {
            self.anchor = None;
        }
    }

    /// Whether every id given is selected (and there is at least one).
    pub fn has_all<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> bool {
        let mut any = false;
        for id in ids {
            if !self.ids.contains(id) {
                return false;
            }
            any = true;
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::Selection;

    const ORDER: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

    #[test]
    fn a_click_toggles_one_row() {
        let mut s = Selection::new();
        s.click("b", false, &ORDER);
        assert!(s.contains("b"));
        s.click("b", false, &ORDER);
        assert!(s.is_empty());
    }

    #[test]
    fn shift_click_selects_the_range_from_the_anchor_in_either_direction() {
        let mut s = Selection::new();
        s.click("b", false, &ORDER);
        s.click("d", true, &ORDER);
        assert_eq!(s.in_order(ORDER), ["b", "c", "d"]);
        let mut s = Selection::new();
        s.click("e", false, &ORDER);
        s.click("c", true, &ORDER);
        assert_eq!(s.in_order(ORDER), ["c", "d", "e"]);
    }

    #[test]
    fn shift_click_from_an_unticked_anchor_clears_the_range() {
        let mut s = Selection::new();
        s.select_all(ORDER);
        s.click("b", false, &ORDER); // untick b: b is the anchor, unticked
        s.click("d", true, &ORDER);
        assert_eq!(s.in_order(ORDER), ["a", "e", "f"]);
    }

    #[test]
    fn shift_click_without_an_anchor_is_a_plain_click() {
        let mut s = Selection::new();
        s.click("c", true, &ORDER);
        assert_eq!(s.in_order(ORDER), ["c"]);
    }

    #[test]
    fn rows_that_leave_the_list_leave_the_selection() {
        let mut s = Selection::new();
        s.select_all(ORDER);
        s.retain_listed(["a", "c"]);
        assert_eq!(s.in_order(ORDER), ["a", "c"]);
        assert!(s.has_all(["a", "c"]));
        assert!(!s.has_all(["a", "b"]));
        assert!(!s.has_all([]));
    }

    #[test]
    fn unselecting_a_page_keeps_the_other_pages() {
        let mut s = Selection::new();
        s.select_all(ORDER);
        s.deselect_all(["a", "b"]);
        assert_eq!(s.in_order(ORDER), ["c", "d", "e", "f"]);
    }
}
