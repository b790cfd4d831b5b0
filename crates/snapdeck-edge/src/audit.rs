//! The edge's audit trail, its pure half: the entries the jobs write for every delete
//! item they settle, who and which policy they name, what `GET /_snapdeck/audit` takes
//! and how it picks what it answers — the same record, filter, JSON and CSV as
//! snapdeck-server's (`snapdeck_core::audit`). The Durable Object keeps the entries in
//! its SQLite, beside the items (`durable/db.rs`, wasm only).

use snapdeck_core::audit::{
    self, Actor, AuditEntry, AuditFilter, DEFAULT_LIMIT, HAND_PICKED, MAX_LIMIT,
};
use snapdeck_core::bulk::BulkItem;
use snapdeck_core::jobs::JobSpec;
use snapdeck_core::retention::RetentionPolicy;

use crate::jobs::EdgeSpec;

/// Who a job's entries name: the cron for its retention runs, the edge worker for jobs
/// a person started through the jobs API.
pub fn actor(spec: &EdgeSpec) -> Actor {
    match spec {
        EdgeSpec::Retention { .. } => Actor::EdgeCron,
        EdgeSpec::Api { .. } => Actor::Edge,
    }
}

/// A job's policy in words, for its entries: the one it is held to (a delete job's plan
/// policy or given policy is `summary_policy`), the cron's policies combined, or
/// [`HAND_PICKED`] for a selection.
pub fn policy(spec: &EdgeSpec, summary_policy: Option<&RetentionPolicy>) -> String {
    match spec {
        EdgeSpec::Retention { policies, .. } => match policies.as_slice() {
            [one] => one.describe(),
            many => {
                let each: Vec<String> = many
                    .iter()
                    .enumerate()
                    .map(|(n, p)| format!("policy {}: {}", n + 1, p.describe()))
                    .collect();
                format!(
                    "{} policies, a snapshot kept by any is kept: {}",
                    many.len(),
                    each.join(" ")
                )
            }
        },
        EdgeSpec::Api {
            spec: JobSpec::Delete(_),
        } => summary_policy.map_or_else(|| HAND_PICKED.to_owned(), RetentionPolicy::describe),
        EdgeSpec::Api {
            spec: JobSpec::Plan { policy },
        } => policy.describe(),
        EdgeSpec::Api {
            spec: JobSpec::Fanout(f),
        } => format!("fan-out {}", f.batch_id),
    }
}

/// Who and under which policy one job's entries are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    pub job_id: String,
    pub actor: Actor,
    pub policy: String,
}

impl Writer {
    pub fn new(job_id: &str, spec: &EdgeSpec, summary_policy: Option<&RetentionPolicy>) -> Self {
        Self {
            job_id: job_id.to_owned(),
            actor: actor(spec),
            policy: policy(spec, summary_policy),
        }
    }

    /// The entry of item `n` once it is settled (`None` before). Its id is fixed by the
    /// job and the item, so the write an alarm retry repeats stores nothing twice.
    pub fn entry(&self, n: usize, item: &BulkItem, at_ms: i64) -> Option<AuditEntry> {
        AuditEntry::of_delete(
            item,
            format!("aud_{}_{n}", self.job_id),
            at_ms,
            self.actor,
            Some(self.job_id.clone()),
            Some(self.policy.clone()),
        )
    }
}

/// How `GET /_snapdeck/audit` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// `GET /_snapdeck/audit?actor=&action=&outcome=&q=&since=&until=&limit=&format=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: AuditFilter,
    pub limit: usize,
    pub format: Format,
}

impl ListQuery {
    /// The query from its parameters (`get` reads one by name; empty is absent). The
    /// error is snapdeck-server's message for the same mistake.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, String> {
        let filter = AuditFilter::from_query(&get)?;
        let limit = match get("limit").filter(|v| !v.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 => n.min(MAX_LIMIT),
                _ => {
                    return Err(format!(
                        "limit must be an integer between 1 and {MAX_LIMIT}, got {v:?}"
                    ));
                }
            },
        };
        let format = match get("format").filter(|v| !v.is_empty()) {
            None | Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some(other) => return Err(format!("format must be json or csv, got {other:?}")),
        };
        Ok(Self {
            filter,
            limit,
            format,
        })
    }
}

/// The first `limit` of `newest_first` that match `filter`, and whether more matched;
/// reads no further than the first match past `limit`, and stops at the first error
/// (an entry that cannot be read).
pub fn select<E>(
    newest_first: impl IntoIterator<Item = Result<AuditEntry, E>>,
    filter: &AuditFilter,
    limit: usize,
) -> Result<(Vec<AuditEntry>, bool), E> {
    let mut out = Vec::new();
    for entry in newest_first {
        let entry = entry?;
        if !filter.matches(&entry) {
            continue;
        }
        if out.len() == limit {
            return Ok((out, true));
        }
        out.push(entry);
    }
    Ok((out, false))
}

/// The CSV export's `Content-Disposition`, dated `now_ms` (as snapdeck-server's).
pub fn csv_disposition(now_ms: i64) -> String {
    let day = audit::iso_utc(now_ms);
    format!(
        "attachment; filename=\"snapdeck-audit-{}.csv\"",
        day.get(..10).unwrap_or(&day)
    )
}

#[cfg(test)]
mod tests {
    use snapdeck_core::audit::{Action, Outcome};
    use snapdeck_core::bulk::{Confirmed, ItemState, SkipReason};
    use snapdeck_core::jobs::DeleteSpec;

    use super::*;

    /// 2026-12-04T14:02:00Z.
    const AT: i64 = 1_796_392_920_000;

    fn item(state: ItemState) -> BulkItem {
        BulkItem {
            confirmed: Confirmed {
                snapshot_id: "snp_1".into(),
                source_devbox_id: "dbx_1".into(),
                name: Some("nightly-1".into()),
                size_bytes: None,
                status: None,
            },
            state,
            attempts: 1,
        }
    }

    fn cron(policies: Vec<RetentionPolicy>) -> EdgeSpec {
        EdgeSpec::Retention {
            policies,
            dry_run: false,
            cron: "17 3 * * *".into(),
        }
    }

    #[test]
    fn the_crons_entries_name_the_cron_and_a_persons_jobs_the_edge_worker() {
        assert_eq!(actor(&cron(vec![])), Actor::EdgeCron);
        let delete = EdgeSpec::Api {
            spec: JobSpec::Delete(DeleteSpec::default()),
        };
        assert_eq!(actor(&delete), Actor::Edge);
    }

    #[test]
    fn the_policy_is_in_words_or_hand_picked() {
        let keep3 = RetentionPolicy {
            keep_newest: 3,
            ..RetentionPolicy::default()
        };
        assert_eq!(policy(&cron(vec![keep3.clone()]), None), keep3.describe());
        let two = policy(&cron(vec![keep3.clone(), RetentionPolicy::default()]), None);
        assert!(two.starts_with("2 policies"), "{two}");
        assert!(
            two.contains(&format!("policy 1: {}", keep3.describe())),
            "{two}"
        );
        let delete = EdgeSpec::Api {
            spec: JobSpec::Delete(DeleteSpec::default()),
        };
        assert_eq!(policy(&delete, None), HAND_PICKED);
        assert_eq!(policy(&delete, Some(&keep3)), keep3.describe());
    }

    #[test]
    fn a_settled_item_has_one_entry_whose_id_a_retry_repeats() {
        let w = Writer::new("job_1", &cron(vec![RetentionPolicy::default()]), None);
        assert_eq!(
            w.entry(
                4,
                &item(ItemState::Pending {
                    may_have_run: false,
                    not_before_ms: 0
                }),
                AT
            ),
            None
        );
        let done = item(ItemState::Done {
            already_gone: false,
        });
        let e = w.entry(4, &done, AT).expect("settled");
        assert_eq!(e.id, "aud_job_1_4");
        assert_eq!(w.entry(4, &done, AT + 5).map(|e| e.id), Some(e.id.clone()));
        assert_eq!(
            (e.actor, e.action, e.outcome),
            (Actor::EdgeCron, Action::DeleteSnapshot, Outcome::Done)
        );
        assert_eq!(e.job_id.as_deref(), Some("job_1"));
        assert_eq!(
            e.policy,
            Some(RetentionPolicy::default().describe()),
            "the policy in words"
        );
        let skipped = w
            .entry(
                5,
                &item(ItemState::Skipped {
                    reason: SkipReason::PinnedSince,
                }),
                AT,
            )
            .expect("settled");
        assert_eq!(skipped.outcome, Outcome::Skipped);
        assert_eq!(
            skipped.reason.as_deref(),
            Some("It was pinned after you confirmed.")
        );
        assert!(skipped.validate().is_ok());
    }

    #[test]
    fn the_query_takes_the_servers_parameters_and_names_a_bad_one() {
        let q = |pairs: &'static [(&'static str, &'static str)]| {
            ListQuery::parse(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
        };
        assert_eq!(
            q(&[]),
            Ok(ListQuery {
                filter: AuditFilter::default(),
                limit: DEFAULT_LIMIT,
                format: Format::Json,
            })
        );
        let full = q(&[
            ("actor", "edge_cron"),
            ("outcome", "done"),
            ("q", "job_1"),
            ("limit", "99999"),
            ("format", "csv"),
        ])
        .expect("valid");
        assert_eq!(full.filter.actor, Some(Actor::EdgeCron));
        assert_eq!(full.filter.outcome, Some(Outcome::Done));
        assert_eq!(full.filter.text, "job_1");
        assert_eq!((full.limit, full.format), (MAX_LIMIT, Format::Csv));
        assert_eq!(
            q(&[("outcome", "gone")]),
            Err("outcome must be one of done, failed, skipped, cancelled, got \"gone\"".into())
        );
        assert_eq!(
            q(&[("limit", "0")]),
            Err("limit must be an integer between 1 and 10000, got \"0\"".into())
        );
        assert_eq!(
            q(&[("format", "xml")]),
            Err("format must be json or csv, got \"xml\"".into())
        );
    }

    #[test]
    fn select_keeps_the_newest_matches_and_says_when_more_matched() {
        let w = Writer::new("job_1", &cron(vec![RetentionPolicy::default()]), None);
        let entries: Vec<AuditEntry> = [
            ItemState::Done {
                already_gone: false,
            },
            ItemState::Skipped {
                reason: SkipReason::Cancelled,
            },
            ItemState::Done {
                already_gone: false,
            },
            ItemState::Done {
                already_gone: false,
            },
        ]
        .into_iter()
        .enumerate()
        .filter_map(|(n, st)| w.entry(n, &item(st), AT - n as i64))
        .collect();
        let done = AuditFilter {
            outcome: Some(Outcome::Done),
            ..AuditFilter::default()
        };
        let (two, more) =
            select(entries.iter().cloned().map(Ok::<_, String>), &done, 2).expect("read");
        let ids: Vec<&str> = two.iter().map(|e| e.id.as_str()).collect();
        assert_eq!((ids, more), (vec!["aud_job_1_0", "aud_job_1_2"], true));
        let (all, more) =
            select(entries.iter().cloned().map(Ok::<_, String>), &done, 3).expect("read");
        assert_eq!((all.len(), more), (3, false));
        // Past the limit nothing more is read: a broken entry there is never reached.
        let broken = entries
            .iter()
            .cloned()
            .map(Ok)
            .chain([Err("unreadable".to_owned())]);
        assert_eq!(
            select(broken.clone(), &done, 2).map(|(_, more)| more),
            Ok(true)
        );
        assert_eq!(select(broken, &done, 3), Err("unreadable".to_owned()));
    }

    #[test]
    fn the_csv_is_named_after_the_day() {
        assert_eq!(
            csv_disposition(AT),
            "attachment; filename=\"snapdeck-audit-2026-12-04.csv\""
        );
    }
}
