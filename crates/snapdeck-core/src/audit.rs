//! The audit trail: one record of every destructive or creating action snapdeck
//! performed, written alike by every runner — the app in a browser, snapdeck-server's
//! jobs, the edge worker's cron — so one page can read, filter and export them all.
//!
//! Storing the entries is each runner's business (IndexedDB, SQLite, a Durable Object);
//! here are the record, the filter the audit page and the server's endpoint apply, the
//! entry of a settled bulk-run item, input checks for entries that arrive over the wire,
//! and the CSV export; and the wire of `/_snapdeck/audit` ([`ListAudit`],
//! [`RecordAudit`]), served by snapdeck-server. No I/O: ids and times are passed in.

use serde::{Deserialize, Serialize};
use snapdeck_api::endpoints::decode_json;
use snapdeck_api::http::Query;
use snapdeck_api::{ApiError, Endpoint, FromResponse, HttpResponse, Request};

use crate::bulk::{BulkItem, ItemState, SkipReason};

/// Where a snapdeck server keeps its audit trail.
pub const AUDIT_PATH: &str = "/_snapdeck/audit";
/// Entries one answer holds when the request names no `limit`.
pub const DEFAULT_LIMIT: usize = 1_000;
/// Most entries one answer holds.
pub const MAX_LIMIT: usize = 10_000;
/// Most entries one record request may carry.
pub const MAX_RECORD: usize = 1_000;

/// What an entry of a hand-picked run (no retention policy) says in its `policy`.
pub const HAND_PICKED: &str = "Hand-picked: never the last complete snapshot of a devbox \
                               unless typed as an override.";

/// Longest text a field of an entry may hold (a reason, a policy summary).
pub const MAX_TEXT: usize = 2_000;
/// Longest id an entry may hold (its own, a target's, a devbox's, a job's).
pub const MAX_ID: usize = 256;

/// One action snapdeck performed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unique per entry; a runner that writes the same entry twice uses the same id.
    pub id: String,
    /// When the action settled, ms since the epoch (UTC).
    pub at_ms: i64,
    pub actor: Actor,
    pub action: Action,
    /// What was acted on (a snapshot or devbox id).
    pub target_id: String,
    #[serde(default)]
    pub target_name: Option<String>,
    /// The devbox the target belongs to (a snapshot's source devbox).
    #[serde(default)]
    pub devbox_id: Option<String>,
    /// The job that did it, when a job did.
    #[serde(default)]
    pub job_id: Option<String>,
    /// The retention policy the action followed, in words
    /// ([`RetentionPolicy::describe`](crate::retention::RetentionPolicy::describe)), or
    /// [`HAND_PICKED`].
    #[serde(default)]
    pub policy: Option<String>,
    pub outcome: Outcome,
    /// Why it ended so, as a sentence a person understands.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A closed set of names that travel as snake_case strings (JSON, query strings, CSV)
/// and read as words on the page.
pub trait Named: Copy + Eq + 'static {
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// The wire name (what serde writes).
    fn as_str(self) -> &'static str;
    /// What a person reads.
    fn label(self) -> &'static str;
    /// The value whose wire name is `s`.
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// Who performed the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The app, in the browser whose store holds the entry (or that sent it).
    ThisBrowser,
    /// The edge worker's scheduled retention.
    EdgeCron,
    /// snapdeck-server's jobs.
    Server,
    /// The edge worker's jobs that a person started (through its jobs API), as opposed
    /// to the cron's ([`Actor::EdgeCron`]).
    Edge,
}

impl Named for Actor {
    const ALL: &'static [Self] = &[Self::ThisBrowser, Self::EdgeCron, Self::Server, Self::Edge];
    fn as_str(self) -> &'static str {
        match self {
            Self::ThisBrowser => "this_browser",
            Self::EdgeCron => "edge_cron",
            Self::Server => "server",
            Self::Edge => "edge",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Self::ThisBrowser => "this browser",
            Self::EdgeCron => "edge cron",
            Self::Server => "snapdeck-server",
            Self::Edge => "edge worker",
        }
    }
}

/// What was done. New actions are new variants (and a name and label each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    DeleteSnapshot,
    CreateSnapshot,
    CreateDevbox,
    Pin,
    Unpin,
}

impl Named for Action {
    const ALL: &'static [Self] = &[
        Self::DeleteSnapshot,
        Self::CreateSnapshot,
        Self::CreateDevbox,
        Self::Pin,
        Self::Unpin,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Self::DeleteSnapshot => "delete_snapshot",
            Self::CreateSnapshot => "create_snapshot",
            Self::CreateDevbox => "create_devbox",
            Self::Pin => "pin",
            Self::Unpin => "unpin",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Self::DeleteSnapshot => "delete snapshot",
            Self::CreateSnapshot => "create snapshot",
            Self::CreateDevbox => "create devbox",
            Self::Pin => "pin",
            Self::Unpin => "unpin",
        }
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Done,
    Failed,
    /// Not attempted: the re-check found a reason not to (see `reason`).
    Skipped,
    /// Not attempted: the person (or a cancel request) stopped the run first.
    Cancelled,
}

impl Named for Outcome {
    const ALL: &'static [Self] = &[Self::Done, Self::Failed, Self::Skipped, Self::Cancelled];
    fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }
    fn label(self) -> &'static str {
        self.as_str()
    }
}

impl Outcome {
    /// The outcome of a settled bulk-run item and its reason in words; `None` while
    /// the item is still pending or running.
    pub fn of_item(state: &ItemState) -> Option<(Self, Option<String>)> {
        match state {
            ItemState::Done { already_gone } => Some((
                Self::Done,
                already_gone.then(|| {
                    "It was already gone when checked again after an interrupted attempt of \
                     this run, which deleted it."
                        .to_owned()
                }),
            )),
            ItemState::Failed { message, .. } => Some((Self::Failed, Some(message.clone()))),
            ItemState::Skipped {
                reason: SkipReason::Cancelled,
            } => Some((Self::Cancelled, Some(SkipReason::Cancelled.to_string()))),
            ItemState::Skipped { reason } => Some((Self::Skipped, Some(reason.to_string()))),
            ItemState::Pending { .. } | ItemState::Running { .. } => None,
        }
    }
}

impl AuditEntry {
    /// The field names, in the order of the CSV columns (`at_utc` follows `at_ms` there).
    pub const FIELDS: [&'static str; 11] = [
        "id",
        "at_ms",
        "actor",
        "action",
        "target_id",
        "target_name",
        "devbox_id",
        "job_id",
        "policy",
        "outcome",
        "reason",
    ];

    /// The entry of one settled snapshot delete of a bulk run (`None` while the item is
    /// not settled). `policy` is the run's policy in words.
    pub fn of_delete(
        item: &BulkItem,
        id: String,
        at_ms: i64,
        actor: Actor,
        job_id: Option<String>,
        policy: Option<String>,
    ) -> Option<Self> {
        let (outcome, reason) = Outcome::of_item(&item.state)?;
        Some(Self {
            id,
            at_ms,
            actor,
            action: Action::DeleteSnapshot,
            target_id: item.confirmed.snapshot_id.clone(),
            target_name: item.confirmed.name.clone(),
            devbox_id: Some(item.confirmed.source_devbox_id.clone()),
            job_id,
            policy,
            outcome,
            reason,
        })
    }

    /// Checks an entry that arrived from elsewhere (a browser sending what it did):
    /// ids present, short and printable; texts within [`MAX_TEXT`]; a time after 2000.
    /// The error names the field and says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        check_id("id", &self.id)?;
        check_id("target_id", &self.target_id)?;
        for (name, value) in [("devbox_id", &self.devbox_id), ("job_id", &self.job_id)] {
            if let Some(value) = value {
                check_id(name, value)?;
            }
        }
        for (name, value) in [
            ("target_name", &self.target_name),
            ("policy", &self.policy),
            ("reason", &self.reason),
        ] {
            if let Some(value) = value
                && value.chars().count() > MAX_TEXT
            {
                return Err(format!("{name} is longer than {MAX_TEXT} characters"));
            }
        }
        // 2000-01-01T00:00:00Z: anything earlier is a unit mistake (seconds for ms).
        if self.at_ms < 946_684_800_000 {
            return Err(format!(
                "at_ms must be milliseconds since the epoch (after 2000), got {}",
                self.at_ms
            ));
        }
        Ok(())
    }

    /// The texts the free-text filter searches.
    fn texts(&self) -> impl Iterator<Item = &str> {
        [self.id.as_str(), self.target_id.as_str()]
            .into_iter()
            .chain(
                [
                    &self.target_name,
                    &self.devbox_id,
                    &self.job_id,
                    &self.policy,
                    &self.reason,
                ]
                .into_iter()
                .filter_map(|v| v.as_deref()),
            )
    }
}

fn check_id(name: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{name} is required"));
    }
    if value.len() > MAX_ID {
        return Err(format!("{name} is longer than {MAX_ID} bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{name} must not contain control characters"));
    }
    Ok(())
}

/// Which entries to show: every given condition must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub actor: Option<Actor>,
    #[serde(default)]
    pub action: Option<Action>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Free text, matched ignoring case in the ids, the target's name, the policy and
    /// the reason; empty matches everything.
    #[serde(default)]
    pub text: String,
    /// Entries at or after this time.
    #[serde(default)]
    pub since_ms: Option<i64>,
    /// Entries before this time (so `since` of one range and `until` of the one before
    /// can be the same instant without an entry showing twice).
    #[serde(default)]
    pub until_ms: Option<i64>,
}

impl AuditFilter {
    pub fn matches(&self, e: &AuditEntry) -> bool {
        let text = self.text.trim().to_lowercase();
        self.actor.is_none_or(|a| a == e.actor)
            && self.action.is_none_or(|a| a == e.action)
            && self.outcome.is_none_or(|o| o == e.outcome)
            && self.since_ms.is_none_or(|t| e.at_ms >= t)
            && self.until_ms.is_none_or(|t| e.at_ms < t)
            && (text.is_empty() || e.texts().any(|f| f.to_lowercase().contains(&text)))
    }
}

impl AuditFilter {
    /// The filter as the query of `GET /_snapdeck/audit`: `actor`, `action`, `outcome`
    /// (wire names), `q` (the text), `since` and `until` (ms since the epoch).
    pub fn push_query(&self, q: &mut Query) {
        q.push_opt("actor", self.actor.map(Named::as_str));
        q.push_opt("action", self.action.map(Named::as_str));
        q.push_opt("outcome", self.outcome.map(Named::as_str));
        q.push_opt(
            "q",
            Some(self.text.as_str()).filter(|t| !t.trim().is_empty()),
        );
        q.push_opt("since", self.since_ms);
        q.push_opt("until", self.until_ms);
    }

    /// The filter from those query parameters (`get` reads one by name; an empty value
    /// is no condition). The error names the parameter and what it takes.
    pub fn from_query<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, String> {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        Ok(Self {
            actor: named(get("actor"), "actor")?,
            action: named(get("action"), "action")?,
            outcome: named(get("outcome"), "outcome")?,
            text: get("q").unwrap_or_default().to_owned(),
            since_ms: time(get("since"), "since")?,
            until_ms: time(get("until"), "until")?,
        })
    }
}

fn named<T: Named>(value: Option<&str>, name: &str) -> Result<Option<T>, String> {
    value
        .map(|v| {
            T::parse(v).ok_or_else(|| {
                let known: Vec<&str> = T::ALL.iter().map(|t| t.as_str()).collect();
                format!("{name} must be one of {}, got {v:?}", known.join(", "))
            })
        })
        .transpose()
}

fn time(value: Option<&str>, name: &str) -> Result<Option<i64>, String> {
    value
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                format!("{name} must be a time in milliseconds since the epoch, got {v:?}")
            })
        })
        .transpose()
}

/// `GET /_snapdeck/audit` as JSON: the newest entries first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
    /// More entries match than `limit` let through (the oldest were left out).
    pub has_more: bool,
}

/// What `POST /_snapdeck/audit` answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// Entries stored by this request.
    pub recorded: usize,
    /// Entries whose id was stored before (a retried request), left as they were.
    pub already_recorded: usize,
}

impl FromResponse for AuditList {
    fn from_response(resp: HttpResponse) -> Result<Self, ApiError> {
        decode_json(&resp)
    }
}

impl FromResponse for Recorded {
    fn from_response(resp: HttpResponse) -> Result<Self, ApiError> {
        decode_json(&resp)
    }
}

/// `GET /_snapdeck/audit?…&limit=N` → the newest matching entries (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListAudit {
    pub filter: AuditFilter,
    pub limit: Option<u32>,
}

impl Endpoint for ListAudit {
    type Output = AuditList;
    fn request(&self) -> Result<Request, ApiError> {
        let mut q = Query::new();
        self.filter.push_query(&mut q);
        q.push_opt("limit", self.limit);
        Ok(Request::get(AUDIT_PATH, &q))
    }
}

/// `POST /_snapdeck/audit` with `{"entries": [...]}`: what the app did itself
/// (actor `this_browser`), kept by the server beside what its jobs did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordAudit {
    pub entries: Vec<AuditEntry>,
}

impl Endpoint for RecordAudit {
    type Output = Recorded;
    fn request(&self) -> Result<Request, ApiError> {
        Request::post_json(AUDIT_PATH, self)
    }
}

/// The entries as CSV (RFC 4180: a header row, CRLF line ends, fields quoted when they
/// hold a comma, a quote or a line break, quotes doubled). The columns are
/// [`AuditEntry::FIELDS`] with `at_utc` (ISO 8601) after `at_ms`; actor, action and
/// outcome are their wire names.
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::new();
    let header: Vec<&str> = AuditEntry::FIELDS
        .iter()
        .flat_map(|&f| {
            if f == "at_ms" {
                vec![f, "at_utc"]
            } else {
                vec![f]
            }
        })
        .collect();
    push_row(&mut out, header.iter().copied());
    for e in entries {
        let at_ms = e.at_ms.to_string();
        let at_utc = iso_utc(e.at_ms);
        push_row(
            &mut out,
            [
                e.id.as_str(),
                &at_ms,
                &at_utc,
                e.actor.as_str(),
                e.action.as_str(),
                &e.target_id,
                opt(&e.target_name),
                opt(&e.devbox_id),
                opt(&e.job_id),
                opt(&e.policy),
                e.outcome.as_str(),
                opt(&e.reason),
            ],
        );
    }
    out
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

fn push_row<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (n, field) in fields.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// `ms` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, UTC).
pub fn iso_utc(ms: i64) -> String {
    let c = crate::format::Civil::of_ms(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::Confirmed;

    /// 2026-12-04T14:02:00Z.
    const AT: i64 = 1_796_392_920_000;

    fn entry(id: &str) -> AuditEntry {
        AuditEntry {
            id: id.into(),
            at_ms: AT,
            actor: Actor::Server,
            action: Action::DeleteSnapshot,
            target_id: "snp_1".into(),
            target_name: Some("nightly-1".into()),
            devbox_id: Some("dbx_1".into()),
            job_id: Some("job_1".into()),
            policy: Some("For devbox dbx_1: keep the newest complete snapshot.".into()),
            outcome: Outcome::Done,
            reason: None,
        }
    }

    #[test]
    fn names_are_what_serde_writes_and_parse_back() {
        fn check<T: Named + Serialize + std::fmt::Debug>() {
            for &v in T::ALL {
                assert_eq!(
                    serde_json::to_value(v).expect("json"),
                    serde_json::Value::String(v.as_str().into())
                );
                assert_eq!(T::parse(v.as_str()), Some(v));
            }
            assert_eq!(T::parse("nonsense"), None);
        }
        check::<Actor>();
        check::<Action>();
        check::<Outcome>();
    }

    #[test]
    fn actors_read_as_people_say_them() {
        assert_eq!(Actor::ThisBrowser.label(), "this browser");
        assert_eq!(Actor::EdgeCron.label(), "edge cron");
        assert_eq!(Actor::Server.label(), "snapdeck-server");
        assert_eq!(Actor::Edge.label(), "edge worker");
        assert_eq!(Action::DeleteSnapshot.label(), "delete snapshot");
    }

    #[test]
    fn the_edge_workers_own_jobs_are_an_actor_apart_from_its_cron() {
        assert_eq!(Actor::parse("edge"), Some(Actor::Edge));
        assert_ne!(Actor::Edge, Actor::EdgeCron);
        assert_eq!(
            AuditFilter::from_query(|n| (n == "actor").then_some("robot")),
            Err("actor must be one of this_browser, edge_cron, server, edge, got \"robot\"".into())
        );
    }

    #[test]
    fn an_entry_round_trips_through_json_with_snake_case_names() {
        let e = entry("a1");
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["actor"], "server");
        assert_eq!(json["action"], "delete_snapshot");
        assert_eq!(json["outcome"], "done");
        let keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields = AuditEntry::FIELDS.to_vec();
        fields.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, fields, "FIELDS names every field");
        assert_eq!(serde_json::from_value::<AuditEntry>(json).expect("back"), e);
    }

    #[test]
    fn the_filter_needs_every_condition_it_names() {
        let e = entry("a1");
        assert!(AuditFilter::default().matches(&e));
        let only = |f: AuditFilter| f.matches(&e);
        assert!(only(AuditFilter {
            actor: Some(Actor::Server),
            action: Some(Action::DeleteSnapshot),
            outcome: Some(Outcome::Done),
            ..AuditFilter::default()
        }));
        assert!(!only(AuditFilter {
            actor: Some(Actor::ThisBrowser),
            ..AuditFilter::default()
        }));
        assert!(!only(AuditFilter {
            action: Some(Action::Pin),
            ..AuditFilter::default()
        }));
        assert!(!only(AuditFilter {
            outcome: Some(Outcome::Skipped),
            ..AuditFilter::default()
        }));
        assert!(!only(AuditFilter {
            actor: Some(Actor::Server),
            outcome: Some(Outcome::Failed),
            ..AuditFilter::default()
        }));
    }

    #[test]
    fn the_time_range_includes_since_and_excludes_until() {
        let e = entry("a1");
        let range = |since_ms, until_ms| {
            AuditFilter {
                since_ms,
                until_ms,
                ..AuditFilter::default()
            }
            .matches(&e)
        };
        assert!(range(Some(AT), None));
        assert!(!range(Some(AT + 1), None));
        assert!(range(None, Some(AT + 1)));
        assert!(!range(None, Some(AT)));
        assert!(range(Some(AT), Some(AT + 1)));
    }

    #[test]
    fn text_matches_ids_names_policy_and_reason_ignoring_case() {
        let mut e = entry("a1");
        e.reason = Some("Kept now: nightly-5, which this plan kept, was deleted elsewhere.".into());
        let text = |t: &str| {
            AuditFilter {
                text: t.into(),
                ..AuditFilter::default()
            }
            .matches(&e)
        };
        for hit in [
            "SNP_1",
            "Nightly-1",
            "dbx_1",
            "job_1",
            "newest complete",
            "ELSEWHERE",
            "  ",
        ] {
            assert!(text(hit), "{hit:?}");
        }
        assert!(!text("nightly-9"));
    }

    #[test]
    fn csv_has_a_header_and_quotes_commas_quotes_and_line_breaks() {
        let mut e = entry("a1");
        e.target_name = None;
        e.outcome = Outcome::Skipped;
        e.reason = Some("Kept now: \"nightly-5\", which this plan kept,\nwas deleted.".into());
        e.policy = Some("keep newest 1\r\nand errored".into());
        let csv = to_csv(&[e]);
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next(),
            Some(
                "id,at_ms,at_utc,actor,action,target_id,target_name,devbox_id,job_id,policy,\
                 outcome,reason"
            )
        );
        assert_eq!(
            csv.split_once("\r\n").map(|(_, rows)| rows),
            Some(
                "a1,1796392920000,2026-12-04T14:02:00.000Z,server,delete_snapshot,snp_1,,dbx_1,\
                 job_1,\"keep newest 1\r\nand errored\",skipped,\
                 \"Kept now: \"\"nightly-5\"\", which this plan kept,\nwas deleted.\"\r\n"
            )
        );
    }

    #[test]
    fn csv_of_no_entries_is_the_header_alone() {
        assert_eq!(to_csv(&[]).matches("\r\n").count(), 1);
    }

    #[test]
    fn iso_times_are_utc_calendar_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_utc(AT), "2026-12-04T14:02:00.000Z");
        // A leap day and the last millisecond of a year.
        assert_eq!(iso_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_utc(1_704_067_199_999), "2023-12-31T23:59:59.999Z");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn a_settled_item_becomes_an_entry_with_its_reason() {
        let item = |state| BulkItem {
            confirmed: Confirmed {
                snapshot_id: "snp_1".into(),
                source_devbox_id: "dbx_1".into(),
                name: Some("nightly-1".into()),
                size_bytes: None,
                status: None,
            },
            state,
            attempts: 1,
        };
        let of = |state| {
            AuditEntry::of_delete(&item(state), "a".into(), AT, Actor::Server, None, None)
                .map(|e| (e.outcome, e.reason))
        };
        assert_eq!(
            of(ItemState::Done {
                already_gone: false
            }),
            Some((Outcome::Done, None))
        );
        assert_eq!(
            of(ItemState::Failed {
                message: "HTTP 500: boom".into(),
                retryable: true
            }),
            Some((Outcome::Failed, Some("HTTP 500: boom".into())))
        );
        assert_eq!(
            of(ItemState::Skipped {
                reason: SkipReason::PinnedSince
            }),
            Some((
                Outcome::Skipped,
                Some("It was pinned after you confirmed.".into())
            ))
        );
        assert!(matches!(
            of(ItemState::Skipped {
                reason: SkipReason::Cancelled
            }),
            Some((Outcome::Cancelled, Some(_)))
        ));
        assert_eq!(
            of(ItemState::Pending {
                may_have_run: false,
                not_before_ms: 0
            }),
            None
        );
        let e = AuditEntry::of_delete(
            &item(ItemState::Done { already_gone: true }),
            "a".into(),
            AT,
            Actor::Server,
            Some("job_1".into()),
            Some(HAND_PICKED.into()),
        )
        .expect("settled");
        assert_eq!(e.target_name.as_deref(), Some("nightly-1"));
        assert_eq!(e.devbox_id.as_deref(), Some("dbx_1"));
        assert_eq!(e.job_id.as_deref(), Some("job_1"));
        assert!(e.reason.is_some_and(|r| r.contains("already gone")));
    }

    #[test]
    fn a_filter_survives_its_query_string_and_bad_values_are_named() {
        let filter = AuditFilter {
            actor: Some(Actor::EdgeCron),
            action: Some(Action::Unpin),
            outcome: Some(Outcome::Cancelled),
            text: "nightly 5".into(),
            since_ms: Some(AT),
            until_ms: Some(AT + 1),
        };
        let req = ListAudit {
            filter: filter.clone(),
            limit: Some(10),
        }
        .request()
        .expect("request");
        assert_eq!(
            req.path_and_query,
            format!(
                "/_snapdeck/audit?actor=edge_cron&action=unpin&outcome=cancelled&q=nightly%205\
                 &since={AT}&until={}&limit=10",
                AT + 1
            )
        );
        let (since, until) = (AT.to_string(), (AT + 1).to_string());
        let pairs = [
            ("actor", "edge_cron"),
            ("action", "unpin"),
            ("outcome", "cancelled"),
            ("q", "nightly 5"),
            ("since", since.as_str()),
            ("until", until.as_str()),
        ];
        let get = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        assert_eq!(AuditFilter::from_query(get), Ok(filter));
        assert_eq!(
            AuditFilter::from_query(|_| None),
            Ok(AuditFilter::default())
        );
        assert_eq!(
            AuditFilter::from_query(|n| (n == "outcome").then_some("gone")),
            Err("outcome must be one of done, failed, skipped, cancelled, got \"gone\"".into())
        );
        assert!(
            AuditFilter::from_query(|n| (n == "since").then_some("yesterday"))
                .is_err_and(|e| e.starts_with("since must be a time in milliseconds"))
        );
    }

    #[test]
    fn validation_names_the_field_that_is_wrong() {
        assert_eq!(entry("a1").validate(), Ok(()));
        let bad = |f: fn(&mut AuditEntry)| {
            let mut e = entry("a1");
            f(&mut e);
            e.validate().expect_err("invalid")
        };
        assert!(bad(|e| e.id = " ".into()).starts_with("id is required"));
        assert!(bad(|e| e.target_id = "x".repeat(300)).starts_with("target_id is longer"));
        assert!(bad(|e| e.job_id = Some("a\nb".into())).starts_with("job_id must not"));
        assert!(bad(|e| e.reason = Some("x".repeat(MAX_TEXT + 1))).starts_with("reason is longer"));
        assert!(bad(|e| e.at_ms = 1_796_392_920).starts_with("at_ms must be milliseconds"));
    }
}
