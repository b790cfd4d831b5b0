//! What every list endpoint shares: newest-first order, cursor paging, substring search
//! and metadata filters, all as typed arguments (the HTTP layer parses the query).

use std::collections::HashMap;

use snapdeck_api::{Metadata, MetadataFilter};

use crate::error::{Error, Result};

/// `limit` when none is given.
pub const DEFAULT_LIMIT: usize = 20;
/// The largest page; larger limits are clamped to it.
pub const MAX_LIMIT: usize = 5000;

/// Which page of a newest-first list to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// At most this many items (1 to [`MAX_LIMIT`]).
    pub limit: usize,
    /// Only items older than this one (an id of the same resource, listed or not).
    pub starting_after: Option<String>,
    /// Whether to count the filtered items.
    pub include_total_count: bool,
}

impl Default for Paging {
    /// The API's defaults: the first [`DEFAULT_LIMIT`] items, counted.
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            starting_after: None,
            include_total_count: true,
        }
    }
}

/// Sort key for "newest first": creation time, then creation order.
pub(super) type OrderKey = (i64, u64);

/// One page of a newest-first list, after `starting_after`.
pub(super) struct Page<'a, T> {
    pub(super) items: Vec<&'a T>,
    pub(super) has_more: bool,
    pub(super) total_count: Option<u64>,
}

/// Pages `items` (already filtered): newest first, strictly after `cursor`, at most
/// `limit`. The cursor is a sort key, not a position in the filtered list, so a page
/// boundary survives the cursor's own record changing or leaving the filter.
fn paginate<T>(
    mut items: Vec<&T>,
    key: impl Fn(&T) -> OrderKey,
    cursor: Option<OrderKey>,
    limit: usize,
    include_total: bool,
) -> Page<'_, T> {
    items.sort_by_key(|item| std::cmp::Reverse(key(item)));
    let total = items.len() as u64;
    if let Some(cursor) = cursor {
        items.retain(|item| key(item) < cursor);
    }
    let has_more = items.len() > limit;
    items.truncate(limit);
    Page {
        items,
        has_more,
        total_count: include_total.then_some(total),
    }
}

/// A stored record that list endpoints page through, newest first.
pub(super) trait Listed {
    fn order_key(&self) -> OrderKey;
}

/// The page of `items` (filtered from `all`) that `paging` asks for. The cursor must name
/// a record of `all` (a `noun`).
pub(super) fn list_page<'a, T: Listed>(
    all: &HashMap<String, T>,
    items: Vec<&'a T>,
    paging: &Paging,
    noun: &str,
) -> Result<Page<'a, T>> {
    let cursor = paging
        .starting_after
        .as_deref()
        .map(|id| {
            all.get(id)
                .map(Listed::order_key)
                .ok_or_else(|| Error::BadRequest(format!("starting_after: unknown {noun} {id}")))
        })
        .transpose()?;
    Ok(paginate(
        items,
        Listed::order_key,
        cursor,
        paging.limit,
        paging.include_total_count,
    ))
}

/// Case-insensitive substring match for the `search`/`name` list filters.
pub(super) fn matches_search(needle: &str, haystacks: &[Option<&str>]) -> bool {
    let needle = needle.to_lowercase();
    haystacks
        .iter()
        .flatten()
        .any(|h| h.to_lowercase().contains(&needle))
}

/// Whether `metadata` passes `filter` (`metadata[k]=v`, `metadata[k][in]=v1,v2`).
pub(super) fn accepts(filter: &MetadataFilter, metadata: &Metadata) -> bool {
    match filter {
        MetadataFilter::Eq { key, value } => metadata.get(key) == Some(value),
        MetadataFilter::In { key, values } => metadata.get(key).is_some_and(|v| values.contains(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_cursor_key_even_when_the_cursor_row_left_the_filter() {
        let rows: Vec<OrderKey> = vec![(10, 1), (30, 3), (20, 2), (20, 4)];
        let page = paginate(rows.iter().collect(), |r| *r, None, 2, true);
        assert_eq!(page.items, [&(30, 3), &(20, 4)]);
        assert!(page.has_more);
        assert_eq!(page.total_count, Some(4));
        // The cursor (20, 4) need not be in the list any more.
        let rest: Vec<OrderKey> = vec![(10, 1), (20, 2), (30, 3)];
        let page = paginate(rest.iter().collect(), |r| *r, Some((20, 4)), 2, false);
        assert_eq!(page.items, [&(20, 2), &(10, 1)]);
        assert!(!page.has_more);
        assert_eq!(page.total_count, None);
    }

    #[test]
    fn metadata_filters_match_equal_values_and_lists() {
        let pinned = MetadataFilter::Eq {
            key: "snapdeck.pinned".into(),
            value: "true".into(),
        };
        let env = MetadataFilter::In {
            key: "env".into(),
            values: vec!["dev".into(), "prod".into()],
        };
        let meta: Metadata = [("env".to_owned(), "prod".to_owned())].into();
        assert!(accepts(&env, &meta));
        assert!(!accepts(&pinned, &meta));
    }
}
