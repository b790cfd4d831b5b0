//! The command palette's rules: what it can find ([`Entry`]), how a query scores against
//! a name or id ([`score`]), the order of the results with recently opened items first
//! ([`search`]), the verbs a query may start with ("restore nightly-5") and which verbs
//! fit which kind of item ([`Verb`]), and the short list of recently opened items
//! ([`Recents`]).
//!
//! The scorer is a subsequence match, in the family of fzf's and Sublime Text's: every
//! character of the query must appear in the text in order (case-insensitively), and a
//! match scores more when its characters are consecutive, start a word (after `-`, `_`,
//! `.`, `/`, a space, or a lower → upper case change) or start the text, and less for
//! each character skipped between them. No crate is used: the few published matchers
//! either pull in threads and Unicode tables that wasm does not need (nucleo) or are
//! unmaintained (fuzzy-matcher); this one is 60 lines, pure, and property-tested.

use std::cmp::Reverse;

/// What kind of thing an entry is; also the palette's result groups, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Page,
    Devbox,
    Snapshot,
    Blueprint,
    Fanout,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Page,
        Kind::Devbox,
        Kind::Snapshot,
        Kind::Blueprint,
        Kind::Fanout,
    ];

    /// The group heading.
    pub fn group(self) -> &'static str {
        match self {
            Kind::Page => "Pages",
            Kind::Devbox => "Devboxes",
            Kind::Snapshot => "Snapshots",
            Kind::Blueprint => "Blueprints",
            Kind::Fanout => "Fan-outs",
        }
    }

    /// A stable short name (stored in the recents list, used in test ids).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::Devbox => "devbox",
            Kind::Snapshot => "snapshot",
            Kind::Blueprint => "blueprint",
            Kind::Fanout => "fanout",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Something the palette can jump to.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: Kind,
    /// The id (for a page, its path).
    pub id: String,
    /// What people call it ("ci-warm-cache"); may be empty.
    pub name: String,
    /// A short line beside it ("running", "of ci-warm-cache").
    pub detail: String,
    /// `name` and `id` lowercased, as chars (the scorer walks chars; lowercasing once
    /// here keeps a keystroke over 12,000 entries allocation-free).
    hay_name: Vec<char>,
    hay_id: Vec<char>,
    /// Which chars of `name` / `id` start a word.
    starts_name: Vec<bool>,
    starts_id: Vec<bool>,
}

impl Entry {
    pub fn new(
        kind: Kind,
        id: impl Into<String>,
        name: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        let (id, name) = (id.into(), name.into());
        let (hay_name, starts_name) = prepare(&name);
        let (hay_id, starts_id) = prepare(&id);
        Self {
            kind,
            id,
            name,
            detail: detail.into(),
            hay_name,
            hay_id,
            starts_name,
            starts_id,
        }
    }

    /// The key it has in the recents list.
    pub fn key(&self) -> String {
        key(self.kind, &self.id)
    }

    /// What to show: the name, or the id when it has none.
    pub fn label(&self) -> &str {
        if self.name.trim().is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    /// The best score of the query against the name or the id (`None`: no match).
    /// Every whitespace-separated word of the query must match; their scores add up.
    pub fn score(&self, query: &str) -> Option<u32> {
        let mut total = 0;
        let mut any = false;
        for word in query.split_whitespace() {
            let q: Vec<char> = word.chars().flat_map(char::to_lowercase).collect();
            let by_name = score_prepared(&q, &self.hay_name, &self.starts_name);
            let by_id = score_prepared(&q, &self.hay_id, &self.starts_id);
            total += by_name.max(by_id)?;
            any = true;
        }
        any.then_some(total)
    }
}

/// The recents-list key of an item.
pub fn key(kind: Kind, id: &str) -> String {
    format!("{}:{id}", kind.as_str())
}

fn prepare(text: &str) -> (Vec<char>, Vec<bool>) {
    let chars: Vec<char> = text.chars().collect();
    let starts = (0..chars.len())
        .map(|i| {
            i == 0 || {
                let (prev, here) = (chars[i - 1], chars[i]);
                matches!(prev, '-' | '_' | '.' | '/' | ' ' | ':')
                    || (prev.is_lowercase() && here.is_uppercase())
                    || (prev.is_alphabetic() && here.is_ascii_digit())
            }
        })
        .collect();
    let lower = chars
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect();
    (lower, starts)
}

/// Points per matched character, and the bonuses and the gap penalty.
const MATCH: u32 = 16;
const CONSECUTIVE: u32 = 12;
const WORD_START: u32 = 10;
const TEXT_START: u32 = 8;
const GAP: u32 = 1;
const MAX_GAP_PENALTY: u32 = 12;

/// How well `query` matches `text` as a subsequence (case-insensitive), `None` when it
/// does not. A longer and tighter match scores more; an exact prefix scores most.
pub fn score(query: &str, text: &str) -> Option<u32> {
    let q: Vec<char> = query.chars().flat_map(char::to_lowercase).collect();
    let (hay, starts) = prepare(text);
    score_prepared(&q, &hay, &starts)
}

/// The scorer proper. It takes, for each query character, the next occurrence in the
/// text (greedy), then walks back from the end of that match to the latest start that
/// still matches (the "tightening" pass fzf uses), so "nt5" in "nightly-5" counts the
/// gap once, not from the first `n` of an earlier word.
fn score_prepared(q: &[char], hay: &[char], starts: &[bool]) -> Option<u32> {
    if q.is_empty() {
        return Some(0);
    }
    // Forward: where does the earliest complete match end?
    let mut qi = 0;
    let mut end = None;
    for (i, c) in hay.iter().enumerate() {
        if *c == q[qi] {
            qi += 1;
            if qi == q.len() {
                end = Some(i);
                break;
            }
        }
    }
    let end = end?;
    // Backward from there: the latest positions that still match, in order.
    let mut pos = vec![0usize; q.len()];
    let mut qi = q.len();
    let mut i = end + 1;
    while qi > 0 {
        i -= 1;
        if hay[i] == q[qi - 1] {
            qi -= 1;
            pos[qi] = i;
        }
    }
    let mut total = 0u32;
    for (k, &p) in pos.iter().enumerate() {
        total += MATCH;
        if starts.get(p).copied().unwrap_or(false) {
            total += WORD_START;
        }
        if p == 0 {
            total += TEXT_START;
        }
        if k > 0 {
            let gap = (p - pos[k - 1] - 1) as u32;
            if gap == 0 {
                total += CONSECUTIVE;
            } else {
                total = total.saturating_sub((gap * GAP).min(MAX_GAP_PENALTY));
            }
        }
    }
    Some(total)
}

/// What a result does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// Open its page.
    Open,
    /// Take a snapshot of a devbox (the snapshot dialog).
    Snapshot,
    /// Start a new devbox from a snapshot (the restore dialog).
    Restore,
    /// The cleanup page scoped to a devbox.
    CleanUp,
    /// Fan out from a snapshot (the fan-out dialog).
    FanOut,
}

impl Verb {
    /// Verbs a query may start with, and what is typed for each.
    const TYPED: [(Verb, &'static str); 5] = [
        (Verb::Snapshot, "snapshot"),
        (Verb::Restore, "restore"),
        (Verb::CleanUp, "clean up"),
        (Verb::CleanUp, "cleanup"),
        (Verb::FanOut, "fan out"),
    ];

    /// The verbs that apply to a kind of item, `Open` first.
    pub fn of(kind: Kind) -> &'static [Verb] {
        match kind {
            Kind::Devbox => &[Verb::Open, Verb::Snapshot, Verb::CleanUp],
            Kind::Snapshot => &[Verb::Open, Verb::Restore, Verb::FanOut],
            Kind::Page | Kind::Blueprint | Kind::Fanout => &[Verb::Open],
        }
    }

    /// The action's label for an item: "Snapshot ci-warm-cache", "Restore nightly-5",
    /// "Clean up ci-warm-cache…" (an ellipsis: it opens a page or dialog that asks
    /// more before anything happens).
    pub fn label(self, item: &str) -> String {
        match self {
            Verb::Open => format!("Open {item}"),
            Verb::Snapshot => format!("Snapshot {item}…"),
            Verb::Restore => format!("Restore {item}…"),
            Verb::CleanUp => format!("Clean up {item}…"),
            Verb::FanOut => format!("Fan out from {item}…"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Open => "open",
            Verb::Snapshot => "snapshot",
            Verb::Restore => "restore",
            Verb::CleanUp => "cleanup",
            Verb::FanOut => "fanout",
        }
    }
}

/// Splits a leading verb off a query: `"restore nightly"` → `(Some(Restore), "nightly")`.
/// A verb counts only when followed by a space, so a search for "snapshot" alone (or
/// "snapshots") still finds things named that way.
pub fn parse_query(query: &str) -> (Option<Verb>, &str) {
    let trimmed = query.trim_start();
    for (verb, word) in Verb::TYPED {
        if let Some(rest) = strip_prefix_ignore_case(trimmed, word)
            && rest.starts_with(' ')
        {
            return (Some(verb), rest.trim());
        }
    }
    (None, query.trim())
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// One result row: an entry (by index) and what choosing it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub entry: usize,
    pub verb: Verb,
}

/// Extra points for an item in the recents list: the newest gets the most. Enough to
/// lift a recent item above an equally good or slightly better match, not enough to
/// put a poor match above an exact one.
fn recent_bonus(rank: Option<usize>) -> u32 {
    rank.map_or(0, |r| 40u32.saturating_sub(2 * r as u32))
}

/// The results for a query, best first, at most `limit`.
///
/// * An empty query: the recently opened items (newest first), then the pages.
/// * A query that starts with a verb: that action over the items it applies to.
/// * Otherwise: every item that matches, opened when chosen.
///
/// Order: score (with the recents bonus), then kind (pages first), then label, then
/// id — a total order, so the same query always lists the same rows.
pub fn search(entries: &[Entry], query: &str, recents: &Recents, limit: usize) -> Vec<Hit> {
    let (verb, rest) = parse_query(query);
    if verb.is_none() && rest.is_empty() {
        let mut hits: Vec<Hit> = recents
            .keys()
            .iter()
            .filter_map(|k| entries.iter().position(|e| e.key() == *k))
            .map(|entry| Hit {
                entry,
                verb: Verb::Open,
            })
            .collect();
        for (i, e) in entries.iter().enumerate() {
            if e.kind == Kind::Page && !hits.iter().any(|h| h.entry == i) {
                hits.push(Hit {
                    entry: i,
                    verb: Verb::Open,
                });
            }
        }
        hits.truncate(limit);
        return hits;
    }
    let verb = verb.unwrap_or(Verb::Open);
    let mut scored: Vec<(u32, usize)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| Verb::of(e.kind).contains(&verb))
        .filter_map(|(i, e)| {
            let s = if rest.is_empty() {
                Some(0)
            } else {
                e.score(rest)
            }?;
            Some((s + recent_bonus(recents.rank(&e.kind, &e.id)), i))
        })
        .collect();
    let order = |a: &(u32, usize), b: &(u32, usize)| {
        let (ea, eb) = (&entries[a.1], &entries[b.1]);
        Reverse(a.0)
            .cmp(&Reverse(b.0))
            .then(ea.kind.cmp(&eb.kind))
            .then_with(|| ea.label().cmp(eb.label()))
            .then_with(|| ea.id.cmp(&eb.id))
    };
    // Only the first `limit` rows are shown: select them, then sort those few.
    if scored.len() > limit && limit > 0 {
        scored.select_nth_unstable_by(limit - 1, order);
        scored.truncate(limit);
    }
    scored.sort_by(order);
    scored.truncate(limit);
    scored
        .into_iter()
        .map(|(_, entry)| Hit { entry, verb })
        .collect()
}

/// How many recently opened items are kept.
pub const RECENTS_MAX: usize = 20;

/// Recently opened items, newest first, as `kind:id` keys (ids and page paths only:
/// nothing secret goes into storage).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recents(Vec<String>);

impl Recents {
    /// From stored keys: unknown kinds and duplicates are dropped, at most
    /// [`RECENTS_MAX`] kept.
    pub fn from_keys(keys: Vec<String>) -> Self {
        let mut out: Vec<String> = Vec::new();
        for k in keys {
            let known = k
                .split_once(':')
                .is_some_and(|(kind, id)| Kind::parse(kind).is_some() && !id.is_empty());
            if known && !out.contains(&k) {
                out.push(k);
            }
        }
        out.truncate(RECENTS_MAX);
        Self(out)
    }

    pub fn keys(&self) -> &[String] {
        &self.0
    }

    /// An item was opened: it moves to the front.
    pub fn touch(&mut self, kind: Kind, id: &str) {
        let k = key(kind, id);
        self.0.retain(|x| *x != k);
        self.0.insert(0, k);
        self.0.truncate(RECENTS_MAX);
    }

    /// Where an item stands (0 = newest), `None` when it is not recent.
    pub fn rank(&self, kind: &Kind, id: &str) -> Option<usize> {
        let k = key(*kind, id);
        self.0.iter().position(|x| *x == k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(kind: Kind, id: &str, name: &str) -> Entry {
        Entry::new(kind, id, name, "")
    }

    #[test]
    fn a_query_matches_only_as_a_subsequence_in_any_case() {
        assert!(score("nt5", "nightly-5").is_some());
        assert!(score("NIGHT", "nightly-5").is_some());
        assert!(score("5n", "nightly-5").is_none());
        assert!(score("nightly-6", "nightly-5").is_none());
    }

    #[test]
    fn a_prefix_beats_a_scattered_match_and_word_starts_beat_the_middle() {
        let prefix = score("ci", "ci-warm-cache").expect("matches");
        let scattered = score("ci", "pick-a-cigar").expect("matches");
        assert!(prefix > scattered);
        let word = score("wc", "ci-warm-cache").expect("matches");
        let middle = score("wc", "awkward-scheme").expect("matches");
        assert!(word > middle);
    }

    #[test]
    fn the_tightening_pass_finds_the_closer_occurrence() {
        // Greedy alone would take the first `a` and count a long gap.
        let tight = score("ab", "xa-----ab").expect("matches");
        let loose = score("ab", "xa------b").expect("matches");
        assert!(tight > loose);
    }

    #[test]
    fn an_entry_is_found_by_a_fragment_of_its_id() {
        let s = e(Kind::Snapshot, "snp_3f9KQx21c", "nightly-5");
        assert!(s.score("kqx2").is_some());
        assert!(
            s.score("nightly kqx").is_some(),
            "each word may match either"
        );
        assert!(s.score("kqz").is_none());
    }

    #[test]
    fn verbs_split_off_only_when_followed_by_a_space() {
        assert_eq!(
            parse_query("Restore nightly"),
            (Some(Verb::Restore), "nightly")
        );
        assert_eq!(parse_query("clean up ci"), (Some(Verb::CleanUp), "ci"));
        assert_eq!(parse_query("snapshots"), (None, "snapshots"));
        assert_eq!(parse_query("snapshot"), (None, "snapshot"));
    }

    fn fleet() -> Vec<Entry> {
        vec![
            e(Kind::Page, "/devboxes", "Devboxes"),
            e(Kind::Page, "/snapshots", "Snapshots"),
            e(Kind::Devbox, "dbx_1", "ci-warm-cache"),
            e(Kind::Devbox, "dbx_2", "ci-warm-cache-replica"),
            e(Kind::Snapshot, "snp_1", "nightly-5"),
            e(Kind::Blueprint, "bpt_1", "node-20"),
        ]
    }

    #[test]
    fn an_empty_query_lists_recents_then_pages() {
        let entries = fleet();
        let mut recents = Recents::default();
        recents.touch(Kind::Snapshot, "snp_1");
        recents.touch(Kind::Devbox, "dbx_2");
        let hits = search(&entries, "  ", &recents, 10);
        let ids: Vec<&str> = hits.iter().map(|h| entries[h.entry].id.as_str()).collect();
        assert_eq!(ids, ["dbx_2", "snp_1", "/devboxes", "/snapshots"]);
    }

    #[test]
    fn a_recent_item_comes_first_among_equal_matches() {
        let entries = fleet();
        let none = search(&entries, "ci-warm", &Recents::default(), 10);
        assert_eq!(entries[none[0].entry].id, "dbx_1", "shorter label first");
        let mut recents = Recents::default();
        recents.touch(Kind::Devbox, "dbx_2");
        let with = search(&entries, "ci-warm", &recents, 10);
        assert_eq!(entries[with[0].entry].id, "dbx_2");
    }

    #[test]
    fn a_verb_lists_its_action_over_the_kinds_it_fits() {
        let entries = fleet();
        let hits = search(&entries, "restore night", &Recents::default(), 10);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].verb, Verb::Restore);
        assert_eq!(entries[hits[0].entry].id, "snp_1");
        // A devbox cannot be restored, whatever its name.
        assert!(search(&entries, "restore ci", &Recents::default(), 10).is_empty());
        let snap = search(&entries, "snapshot ci", &Recents::default(), 10);
        assert!(snap.iter().all(|h| h.verb == Verb::Snapshot));
        assert_eq!(snap.len(), 2);
    }

    #[test]
    fn recents_keep_the_newest_first_without_duplicates_or_unknown_keys() {
        let mut r = Recents::from_keys(vec![
            "devbox:a".into(),
            "devbox:a".into(),
            "secret:x".into(),
            "snapshot:".into(),
            "page:/audit".into(),
        ]);
        assert_eq!(r.keys(), ["devbox:a", "page:/audit"]);
        r.touch(Kind::Page, "/audit");
        assert_eq!(r.keys(), ["page:/audit", "devbox:a"]);
        for i in 0..30 {
            r.touch(Kind::Snapshot, &format!("s{i}"));
        }
        assert_eq!(r.keys().len(), RECENTS_MAX);
        assert_eq!(r.rank(&Kind::Snapshot, "s29"), Some(0));
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn is_subsequence(q: &str, text: &str) -> bool {
        let mut it = text.chars().flat_map(char::to_lowercase);
        q.chars()
            .flat_map(char::to_lowercase)
            .all(|c| it.any(|t| t == c))
    }

    proptest! {
        #[test]
        fn score_is_some_exactly_when_the_query_is_a_subsequence(
            q in "[a-cA-C_-]{0,5}", text in "[a-cA-C_-]{0,12}"
        ) {
            prop_assert_eq!(score(&q, &text).is_some(), is_subsequence(&q, &text));
        }

        #[test]
        fn the_whole_text_matches_itself_best(text in "[a-z][a-z0-9_-]{0,11}", other in "[a-z0-9_-]{1,12}") {
            let own = score(&text, &text).expect("a text matches itself");
            if let Some(s) = score(&text, &other) {
                prop_assert!(own >= s, "{text} in itself {own} < in {other} {s}");
            }
        }

        #[test]
        fn search_returns_only_matches_in_order_without_repeats(
            names in proptest::collection::vec("[a-d-]{1,8}", 0..40),
            q in "[a-d]{1,3}",
            limit in 1usize..20,
        ) {
            let entries: Vec<Entry> = names
                .iter()
                .enumerate()
                .map(|(i, n)| Entry::new(Kind::Devbox, format!("dbx_{i}"), n.clone(), ""))
                .collect();
            let hits = search(&entries, &q, &Recents::default(), limit);
            let expected = entries.iter().filter(|e| e.score(&q).is_some()).count().min(limit);
            prop_assert_eq!(hits.len(), expected);
            let scores: Vec<u32> = hits.iter().map(|h| entries[h.entry].score(&q).expect("a hit matches")).collect();
            prop_assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");
            let mut seen: Vec<usize> = hits.iter().map(|h| h.entry).collect();
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), hits.len());
        }
    }
}
