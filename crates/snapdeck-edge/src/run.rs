//! The cleanup's I/O, over any [`Transport`]: taking the inventory, and driving
//! snapdeck-core's bulk run to its end through snapdeck-run (the driver every runner
//! shares, so the cron's deletes pass the same re-check as the app's). Generic so native tests drive it through a fake
//! API; the worker uses the fetch-based `BrowserTransport`.

use std::cell::{Cell, RefCell};

use futures::stream;
use futures::{StreamExt, TryStreamExt, future};
use snapdeck_api::{
    ApiError, Client, Snapshot, SnapshotStatus, Transport, endpoints::ListSnapshots,
};
use snapdeck_core::bulk::{BulkRun, ItemState, Listing, Phase};
use snapdeck_run::{ClientApi, Observer, Options, RunApi};

use crate::plan::SnapshotState;

/// Status requests in flight at once while taking the inventory: the API has no batch
/// status call, and a worker invocation has a bounded number of open connections.
const STATUS_CONCURRENCY: usize = 6;
/// Snapshots per list page.
const PAGE_SIZE: u32 = 100;

/// Every snapshot, page after page, each with its current status.
pub async fn inventory<T: Transport>(client: &Client<T>) -> Result<Vec<SnapshotState>, ApiError> {
    let query = ListSnapshots {
        limit: Some(PAGE_SIZE),
        ..ListSnapshots::default()
    };
    let snapshots: Vec<_> = client.snapshots(query).try_collect().await?;
    stream::iter(snapshots)
        .map(|snapshot| async move {
            let view = client.snapshot_status(&snapshot.id).await?;
            Ok::<_, ApiError>(SnapshotState {
                snapshot,
                status: view.status,
            })
        })
        .buffered(STATUS_CONCURRENCY)
        .try_collect()
        .await
}

/// Drives `run` to the end with snapdeck-run's driver, the one every runner uses: each
/// wave of snapshots is re-checked with one listing — still the same snapshots, and
/// still what the policies delete given that listing — then deleted. The machine bounds
/// concurrency (one listing and `run.max_concurrency` deletes in flight) and schedules
/// retries. `account_snapshots` (the inventory's size) lets a wave over many devboxes
/// list the account instead. `now_ms` is the clock (the runtime's, or a test's).
pub async fn drive<T: Transport>(
    client: &Client<T>,
    run: &mut BulkRun,
    account_snapshots: usize,
    now_ms: impl Fn() -> i64,
) {
    let options = Options {
        account_snapshots: Some(account_snapshots),
        ..Options::default()
    };
    snapdeck_run::drive(&ClientApi::new(client, now_ms), run, &options, &mut ()).await;
}

/// How a [`drive_chunk`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEnd {
    /// Every item is settled.
    Finished,
    /// The request budget ran out; the run is paused with every unsettled item pending
    /// again (nothing in flight), ready for the next chunk — the next invocation.
    Paused,
}

/// The requests one invocation may still send, shared by the calls of one chunk.
#[derive(Debug)]
struct Budget {
    left: Cell<usize>,
    /// Sent and not back yet.
    in_flight: Cell<usize>,
    /// A call was refused: the chunk ends once `in_flight` is zero.
    exhausted: Cell<bool>,
    /// Deletes the driver marked as sent that were never sent (refused).
    parked: RefCell<Vec<String>>,
    full: usize,
}

impl Budget {
    fn new(requests: usize) -> Self {
        Self {
            left: Cell::new(requests.max(1)),
            in_flight: Cell::new(0),
            exhausted: Cell::new(false),
            parked: RefCell::new(Vec::new()),
            full: requests.max(1),
        }
    }

    /// Takes `cost` requests, or refuses (and marks the budget exhausted). A call
    /// costing more than the whole budget is let through only as the chunk's first,
    /// so that it cannot block the run forever.
    fn take(&self, cost: usize) -> bool {
        let left = self.left.get();
        if self.exhausted.get() || (cost > left && left != self.full) {
            self.exhausted.set(true);
            return false;
        }
        self.left.set(left.saturating_sub(cost));
        self.in_flight.set(self.in_flight.get() + 1);
        true
    }

    fn back(&self) {
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
    }

    fn spent(&self) -> bool {
        self.exhausted.get() && self.in_flight.get() == 0
    }
}

/// A [`RunApi`] whose calls past the budget are never sent: they wait forever, and the
/// chunk is stopped from outside once what was sent is back.
struct BudgetApi<'a, A> {
    api: &'a A,
    budget: &'a Budget,
    /// Requests an account listing takes.
    account_pages: usize,
}

impl<A: RunApi> RunApi for BudgetApi<'_, A> {
    async fn list(&self, listing: &Listing) -> Result<Vec<Snapshot>, ApiError> {
        let cost = match listing {
            Listing::Account => self.account_pages,
            Listing::Devboxes(ids) => ids.len(),
        };
        if !self.budget.take(cost.max(1)) {
            return future::pending().await;
        }
        let result = self.api.list(listing).await;
        self.budget.back();
        result
    }

    async fn status(&self, id: &str) -> Result<SnapshotStatus, ApiError> {
        if !self.budget.take(1) {
            return future::pending().await;
        }
        let result = self.api.status(id).await;
        self.budget.back();
        result
    }

    async fn delete(&self, id: &str) -> Result<(), ApiError> {
        if !self.budget.take(1) {
            self.budget.parked.borrow_mut().push(id.to_owned());
            return future::pending().await;
        }
        let result = self.api.delete(id).await;
        self.budget.back();
        result
    }

    async fn sleep(&self, ms: u64) {
        // Spent: nothing will come back and nothing more may be sent, so the drive must
        // yield for good and let the chunk's stop win its `select`. (Sleeping on would
        // spin forever under a clock whose sleep is ready at once — a test's fake —
        // because the drive would never return `Pending`.)
        if self.budget.spent() {
            return future::pending().await;
        }
        self.api.sleep(ms).await;
    }

    fn now_ms(&self) -> i64 {
        self.api.now_ms()
    }
}

/// Drives `run` with snapdeck-run's driver — the same loop and re-check as
/// [`drive`] — for at most `requests` requests (a Workers invocation's subrequest
/// budget), then pauses it: deletes already sent come back first, and items the
/// driver had in a re-check or waiting for a slot go back to pending (a delete marked
/// sent but refused by the budget was never sent, so it does not count as "may have
/// run"). Call again (in the next invocation) until [`ChunkEnd::Finished`].
pub async fn drive_chunk<A: RunApi>(
    api: &A,
    run: &mut BulkRun,
    options: &Options,
    requests: usize,
    observer: &mut impl Observer,
) -> ChunkEnd {
    let budget = Budget::new(requests);
    let account_pages = options
        .account_snapshots
        .unwrap_or(0)
        .div_ceil(options.page_size.max(1))
        .max(1);
    let limited = BudgetApi {
        api,
        budget: &budget,
        account_pages,
    };
    let finished = {
        let driving = std::pin::pin!(snapdeck_run::drive(&limited, run, options, observer));
        let stop = std::pin::pin!(async {
            while !budget.spent() {
                api.sleep(5).await;
                // A fake clock's sleep is ready at once: yield, so the drive gets polled.
                yield_now().await;
            }
        });
        matches!(future::select(driving, stop).await, future::Either::Left(_))
    };
    if finished || run.is_finished() {
        return ChunkEnd::Finished;
    }
    pause(run, &budget.parked.borrow());
    ChunkEnd::Paused
}

/// Returns `Pending` once (after waking itself), so other futures of a `select` run.
async fn yield_now() {
    let mut yielded = false;
    future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

/// Puts a stopped run back to rest: refused deletes were never sent, so they return
/// to "verified" before core's `resume_after_interruption` sends every running item
/// back to pending.
fn pause(run: &mut BulkRun, never_sent: &[String]) {
    for item in &mut run.items {
        if let ItemState::Running {
            phase: Phase::Deleting,
            started_at_ms,
            may_have_run,
        } = item.state
            && never_sent.contains(&item.confirmed.snapshot_id)
        {
            item.state = ItemState::Running {
                phase: Phase::Verified,
                started_at_ms,
                may_have_run,
            };
        }
    }
    run.resume_after_interruption();
}

/// Each snapshot's status, `concurrency` calls at a time (a job's status fan-in, one
/// chunk of ids per invocation).
pub async fn statuses<T: Transport>(
    client: &Client<T>,
    ids: &[String],
    concurrency: usize,
) -> Vec<(String, Result<SnapshotStatus, ApiError>)> {
    stream::iter(ids)
        .map(|id| async move {
            (
                id.clone(),
                client.snapshot_status(id).await.map(|v| v.status),
            )
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::{BTreeMap, BTreeSet};
    use std::time::Duration;

    use futures::executor::block_on;
    use snapdeck_api::{
        HttpRequest, HttpResponse, Method, PINNED_KEY, RetryPolicy, Snapshot, SnapshotStatus,
        TransportError,
    };
    use snapdeck_core::bulk::ItemState;
    use snapdeck_core::retention::RetentionPolicy;

    use super::*;
    use crate::plan;

    const NOW: i64 = 1_800_000_000_000;

    /// An in-memory disk-snapshot API: lists in pages of two (so paging is exercised),
    /// by devbox if asked, answers `/status`, deletes only complete snapshots (409
    /// otherwise, like Runloop), and can fail chosen deletes. It logs every request
    /// (method and URL path with query). Its clock moves only when someone sleeps.
    #[derive(Default)]
    struct FakeApi {
        snapshots: RefCell<Vec<(Snapshot, SnapshotStatus)>>,
        requests: RefCell<Vec<String>>,
        /// Statuses to answer to the next deletes of a snapshot, in order.
        delete_failures: RefCell<BTreeMap<String, Vec<u16>>>,
        deleted: RefCell<Vec<String>>,
        clock: Cell<i64>,
    }

    impl FakeApi {
        fn with(snapshots: Vec<(Snapshot, SnapshotStatus)>) -> Self {
            let api = Self::default();
            api.snapshots.replace(snapshots);
            api.clock.set(NOW);
            api
        }

        fn json(status: u16, value: serde_json::Value) -> HttpResponse {
            HttpResponse::new(status, value.to_string())
        }

        fn handle(&self, req: &HttpRequest) -> HttpResponse {
            let (path, query) = req.url.split_once('?').unwrap_or((req.url.as_str(), ""));
            let path = path.trim_start_matches("http://fake");
            self.requests.borrow_mut().push(format!(
                "{:?} {}",
                req.method,
                req.url.trim_start_matches("http://fake")
            ));
            let query: BTreeMap<&str, &str> = query
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let rest = path.strip_prefix("/v1/devboxes/disk_snapshots");
            let mut snapshots = self.snapshots.borrow_mut();
            match (req.method, rest) {
                (Method::Get, Some("")) => {
                    let live: Vec<&Snapshot> = snapshots
                        .iter()
                        .filter(|(_, st)| *st != SnapshotStatus::Deleted)
                        .map(|(s, _)| s)
                        .filter(|s| {
                            query
                                .get("devbox_id")
                                .is_none_or(|d| s.source_devbox_id == *d)
                        })
                        .collect();
                    let start = query.get("starting_after").map_or(0, |after| {
                        live.iter()
                            .position(|s| s.id == *after)
                            .map_or(0, |i| i + 1)
                    });
                    let page: Vec<&&Snapshot> = live.iter().skip(start).take(2).collect();
                    let has_more = start + page.len() < live.len();
                    Self::json(
                        200,
                        serde_json::json!({"snapshots": page, "has_more": has_more}),
                    )
                }
                (Method::Get, Some(rest)) if rest.ends_with("/status") => {
                    let id = rest.trim_start_matches('/').trim_end_matches("/status");
                    match snapshots.iter().find(|(s, _)| s.id == id) {
                        Some((s, st)) => {
                            Self::json(200, serde_json::json!({"status": st, "snapshot": s}))
                        }
                        None => Self::json(404, serde_json::json!({"message": "not found"})),
                    }
                }
                (Method::Post, Some(rest)) if rest.ends_with("/delete") => {
                    let id = rest.trim_start_matches('/').trim_end_matches("/delete");
                    if let Some(status) = self
                        .delete_failures
                        .borrow_mut()
                        .get_mut(id)
                        .and_then(|fails| (!fails.is_empty()).then(|| fails.remove(0)))
                    {
                        return Self::json(status, serde_json::json!({"message": "injected"}));
                    }
                    match snapshots.iter_mut().find(|(s, _)| s.id == id) {
                        Some((_, st)) if *st == SnapshotStatus::Complete => {
                            *st = SnapshotStatus::Deleted;
                            self.deleted.borrow_mut().push(id.to_owned());
                            Self::json(200, serde_json::json!({}))
                        }
                        Some(_) => Self::json(
                            409,
                            serde_json::json!({"message": "Only successfully created snapshots can be deleted."}),
                        ),
                        None => Self::json(404, serde_json::json!({"message": "not found"})),
                    }
                }
                _ => Self::json(404, serde_json::json!({"message": "no route"})),
            }
        }
    }

    impl Transport for FakeApi {
        fn send(
            &self,
            req: HttpRequest,
        ) -> impl Future<Output = Result<HttpResponse, TransportError>> {
            std::future::ready(Ok(self.handle(&req)))
        }

        fn sleep(&self, d: Duration) -> impl Future<Output = ()> {
            self.clock
                .set(self.clock.get() + i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            std::future::ready(())
        }

        fn random_u64(&self) -> u64 {
            4
        }
    }

    fn snap(id: &str, devbox: &str, minutes_ago: i64) -> Snapshot {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "create_time_ms": NOW - minutes_ago * 60_000,
            "metadata": {},
            "source_devbox_id": devbox,
            "size_bytes": 10,
        }))
        .unwrap()
    }

    /// dbx_a: five complete snapshots and an errored one; dbx_b: two complete ones.
    fn history() -> Vec<(Snapshot, SnapshotStatus)> {
        use SnapshotStatus::{Complete, Error};
        vec![
            (snap("a1", "dbx_a", 1), Complete),
            (snap("a2", "dbx_a", 2), Complete),
            (snap("a3", "dbx_a", 3), Complete),
            (snap("a4", "dbx_a", 4), Error),
            (snap("a5", "dbx_a", 5), Complete),
            (snap("a6", "dbx_a", 6), Complete),
            (snap("b1", "dbx_b", 1), Complete),
            (snap("b2", "dbx_b", 2), Complete),
        ]
    }

    /// The client the worker builds, minus its own retries, so the bulk run's show.
    fn client(api: &FakeApi) -> Client<&FakeApi> {
        Client::new(api, "http://fake")
            .with_api_key("key")
            .with_retry_policy(RetryPolicy::none())
            .with_timeout(None)
    }

    /// Plans with `policy` over the fake's inventory and returns the run to drive.
    fn planned_run(api: &FakeApi, policy: RetentionPolicy) -> (Vec<plan::Combined>, BulkRun) {
        let inventory = block_on(inventory(&client(api))).unwrap();
        let combined = plan::combine(std::slice::from_ref(&policy), &inventory, NOW);
        let run = plan::bulk_run(&[policy], &combined);
        (combined, run)
    }

    fn keep_two() -> RetentionPolicy {
        RetentionPolicy {
            keep_newest: 2,
            ..RetentionPolicy::default()
        }
    }

    #[test]
    fn the_inventory_reads_every_page_and_every_status() {
        let api = FakeApi::with(history());
        let got = block_on(inventory(&client(&api))).unwrap();
        let ids: Vec<&str> = got.iter().map(|s| s.snapshot.id.as_str()).collect();
        assert_eq!(ids, ["a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2"]);
        assert_eq!(got[3].status, SnapshotStatus::Error);
    }

    #[test]
    fn the_run_deletes_exactly_the_planned_snapshots() {
        let api = FakeApi::with(history());
        let (_, mut run) = planned_run(&api, keep_two());
        block_on(drive(&client(&api), &mut run, 8, || api.clock.get()));
        let deleted: BTreeSet<String> = api.deleted.borrow().iter().cloned().collect();
        assert_eq!(deleted, ["a3", "a5", "a6"].map(String::from).into());
        assert!(run.is_finished());
        assert_eq!(run.counts().done, 3);
    }

    #[test]
    fn a_transient_failure_is_retried_after_a_backoff() {
        let api = FakeApi::with(history());
        api.delete_failures
            .borrow_mut()
            .insert("a5".into(), vec![503]);
        let (_, mut run) = planned_run(&api, keep_two());
        block_on(drive(&client(&api), &mut run, 8, || api.clock.get()));
        assert!(api.deleted.borrow().contains(&"a5".to_owned()));
        assert_eq!(run.counts().done, 3);
        assert!(api.clock.get() > NOW, "the retry waited");
    }

    #[test]
    fn a_refused_delete_fails_alone_and_the_run_still_ends() {
        let api = FakeApi::with(history());
        api.delete_failures
            .borrow_mut()
            .insert("a3".into(), vec![409]);
        let (_, mut run) = planned_run(&api, keep_two());
        block_on(drive(&client(&api), &mut run, 8, || api.clock.get()));
        assert!(matches!(
            run.item("a3").map(|i| &i.state),
            Some(ItemState::Failed { .. })
        ));
        assert_eq!(run.counts().done, 2);
        assert!(run.is_finished());
    }

    #[test]
    fn a_snapshot_pinned_after_planning_is_not_deleted() {
        let api = FakeApi::with(history());
        let (_, mut run) = planned_run(&api, keep_two());
        if let Some((s, _)) = api
            .snapshots
            .borrow_mut()
            .iter_mut()
            .find(|(s, _)| s.id == "a6")
        {
            s.metadata.insert(PINNED_KEY.into(), "true".into());
        }
        block_on(drive(&client(&api), &mut run, 8, || api.clock.get()));
        assert!(!api.deleted.borrow().contains(&"a6".to_owned()));
        assert!(matches!(
            run.item("a6").map(|i| &i.state),
            Some(ItemState::Skipped { .. })
        ));
    }

    fn requests_since(api: &FakeApi, from: usize) -> Vec<String> {
        api.requests.borrow()[from..].to_vec()
    }

    #[test]
    fn the_run_rechecks_a_wave_with_one_listing_not_a_status_per_snapshot() {
        let api = FakeApi::with(history());
        let (_, mut run) = planned_run(&api, keep_two());
        let from = api.requests.borrow().len();
        block_on(drive(&client(&api), &mut run, 8, || api.clock.get()));
        let sent = requests_since(&api, from);
        assert!(!sent.iter().any(|r| r.contains("/status")), "{sent:?}");
        let lists: Vec<&String> = sent.iter().filter(|r| r.starts_with("Get")).collect();
        assert!(
            lists.iter().all(|r| r.contains("devbox_id=dbx_a")),
            "one devbox in the plan, so its listing: {lists:?}"
        );
        // dbx_a's six snapshots in pages of two, then the three deletes.
        assert_eq!((lists.len(), sent.len()), (3, 6), "{sent:?}");
        assert_eq!(run.counts().done, 3);
    }

    #[test]
    fn a_wave_over_several_devboxes_lists_the_account_when_that_takes_fewer_requests() {
        let api = FakeApi::with(history());
        let keep_one = RetentionPolicy {
            keep_newest: 1,
            ..RetentionPolicy::default()
        };
        let (_, mut run) = planned_run(&api, keep_one);
        let from = api.requests.borrow().len();
        // Eight snapshots make one page of the API's, fewer than two devbox listings.
        block_on(drive(&client(&api), &mut run, 8, || api.clock.get()));
        let sent = requests_since(&api, from);
        let lists: Vec<&String> = sent.iter().filter(|r| r.starts_with("Get")).collect();
        assert!(
            !lists.iter().any(|r| r.contains("devbox_id")),
            "the account's listing: {lists:?}"
        );
        let deleted: BTreeSet<String> = api.deleted.borrow().iter().cloned().collect();
        assert_eq!(
            deleted,
            ["a2", "a3", "a5", "a6", "b2"].map(String::from).into()
        );
    }

    #[test]
    fn the_kept_snapshot_deleted_after_the_inventory_saves_the_rest_of_its_devbox() {
        // Issue 12 on the cron: the plan keeps a1 and a2 of dbx_a; someone deletes a1
        // between the inventory and the deletes. Nothing older of dbx_a goes; dbx_b,
        // untouched, is cleaned as planned.
        let api = FakeApi::with(history());
        let policies = [
            RetentionPolicy::default(),
            RetentionPolicy {
                scope: snapdeck_core::retention::Scope::Devbox("dbx_a".into()),
                ..keep_two()
            },
        ];
        let inventory = block_on(inventory(&client(&api))).unwrap();
        let combined = plan::combine(&policies, &inventory, NOW);
        let mut run = plan::bulk_run(&policies, &combined);
        api.snapshots.borrow_mut().retain(|(s, _)| s.id != "a1");
        let from = api.requests.borrow().len();
        block_on(drive(&client(&api), &mut run, 8, || api.clock.get()));
        assert!(
            !requests_since(&api, from)
                .iter()
                .any(|r| r.contains("/status")),
            "the inventory's statuses were remembered"
        );
        let deleted: BTreeSet<String> = api.deleted.borrow().iter().cloned().collect();
        assert_eq!(deleted, ["b2"].map(String::from).into());
        let lines = plan::report(&policies, &combined, Some(&run));
        let a3 = lines
            .iter()
            .find(|l| l.contains("skipped a3 "))
            .expect("a3 line");
        assert!(
            a3.contains("Kept now: a1, which this plan kept, was deleted elsewhere"),
            "{a3}"
        );
    }

    /// Drives `run` chunk after chunk of `requests` requests, as the jobs' alarms do;
    /// returns how many chunks it took. Between chunks nothing may be left running.
    fn drive_in_chunks(api: &FakeApi, run: &mut BulkRun, requests: usize) -> usize {
        let client = client(api);
        let run_api = ClientApi::new(&client, || api.clock.get());
        let options = Options {
            account_snapshots: Some(8),
            ..Options::default()
        };
        for chunk in 1..=100 {
            let end = block_on(drive_chunk(&run_api, run, &options, requests, &mut ()));
            if end == ChunkEnd::Finished {
                return chunk;
            }
            assert!(
                run.items
                    .iter()
                    .all(|i| !matches!(i.state, ItemState::Running { .. })),
                "a paused run has nothing in flight: {:?}",
                run.items
            );
        }
        panic!("the run did not finish in 100 chunks");
    }

    #[test]
    fn a_run_in_chunks_of_a_few_requests_deletes_exactly_what_one_drive_deletes() {
        let keep_one = RetentionPolicy {
            keep_newest: 1,
            ..RetentionPolicy::default()
        };
        let api = FakeApi::with(history());
        let (_, mut run) = planned_run(&api, keep_one);
        let from = api.requests.borrow().len();
        let chunks = drive_in_chunks(&api, &mut run, 2);
        assert!(chunks > 2, "two requests per chunk take several: {chunks}");
        let deleted: BTreeSet<String> = api.deleted.borrow().iter().cloned().collect();
        assert_eq!(
            deleted,
            ["a2", "a3", "a5", "a6", "b2"].map(String::from).into()
        );
        assert_eq!(run.counts().done, 5);
        let sent = requests_since(&api, from);
        let deletes = sent.iter().filter(|r| r.contains("/delete")).count();
        assert_eq!(deletes, 5, "no delete twice: {sent:?}");
    }

    #[test]
    fn a_chunked_run_still_rechecks_a_snapshot_pinned_between_chunks() {
        let api = FakeApi::with(history());
        let (_, mut run) = planned_run(&api, keep_two());
        let client = client(&api);
        let run_api = ClientApi::new(&client, || api.clock.get());
        let options = Options::default();
        // One request: the first wave's listing, then a pause.
        let end = block_on(drive_chunk(&run_api, &mut run, &options, 1, &mut ()));
        assert_eq!(end, ChunkEnd::Paused);
        assert!(api.deleted.borrow().is_empty());
        if let Some((s, _)) = api
            .snapshots
            .borrow_mut()
            .iter_mut()
            .find(|(s, _)| s.id == "a6")
        {
            s.metadata.insert(PINNED_KEY.into(), "true".into());
        }
        drive_in_chunks(&api, &mut run, 3);
        assert!(!api.deleted.borrow().contains(&"a6".to_owned()));
        assert!(matches!(
            run.item("a6").map(|i| &i.state),
            Some(ItemState::Skipped { .. })
        ));
    }

    /// What a Durable Object would have written when its deletes were marked sent: the
    /// run as the driver showed it to the observer just before sending them.
    #[derive(Default)]
    struct WrittenBeforeSending(Option<BulkRun>);

    impl Observer for WrittenBeforeSending {
        fn changed(&mut self, run: &BulkRun) {
            let sending = run.items.iter().any(|i| {
                matches!(
                    i.state,
                    ItemState::Running {
                        phase: Phase::Deleting,
                        ..
                    }
                )
            });
            if sending && self.0.is_none() {
                self.0 = Some(run.clone());
            }
        }
    }

    #[test]
    fn an_alarm_cut_off_after_its_deletes_went_out_sends_none_of_them_again() {
        // The deletes reach the API, then the invocation dies before their results are
        // written: the retried alarm starts from what was written before they were sent.
        let api = FakeApi::with(history());
        let (_, mut run) = planned_run(&api, keep_two());
        let mut written = WrittenBeforeSending::default();
        let client = client(&api);
        let run_api = ClientApi::new(&client, || api.clock.get());
        block_on(drive_chunk(
            &run_api,
            &mut run,
            &Options::default(),
            100,
            &mut written,
        ));
        assert_eq!(api.deleted.borrow().len(), 3);
        let mut stored = written
            .0
            .expect("the deletes were written before they were sent");
        stored.resume_after_interruption();
        let from = api.requests.borrow().len();
        let chunks = drive_in_chunks(&api, &mut stored, 100);
        assert_eq!(chunks, 1);
        let sent = requests_since(&api, from);
        assert!(!sent.iter().any(|r| r.contains("/delete")), "{sent:?}");
        assert!(
            stored
                .items
                .iter()
                .all(|i| i.state == ItemState::Done { already_gone: true }),
            "gone after a delete of ours counts as done: {:?}",
            stored.items
        );
    }

    struct CancelAfter(Cell<usize>);

    impl Observer for CancelAfter {
        fn cancel_requested(&self) -> bool {
            let n = self.0.get();
            self.0.set(n.saturating_sub(1));
            n == 0
        }
    }

    #[test]
    fn a_cancel_between_chunks_accounts_for_every_item() {
        let api = FakeApi::with(history());
        let (_, mut run) = planned_run(&api, keep_two());
        let client = client(&api);
        let run_api = ClientApi::new(&client, || api.clock.get());
        let options = Options::default();
        let end = block_on(drive_chunk(&run_api, &mut run, &options, 2, &mut ()));
        assert_eq!(end, ChunkEnd::Paused);
        let end = block_on(drive_chunk(
            &run_api,
            &mut run,
            &options,
            10,
            &mut CancelAfter(Cell::new(0)),
        ));
        assert_eq!(end, ChunkEnd::Finished);
        let c = run.counts();
        assert_eq!(c.done + c.skipped + c.failed, c.total);
        assert_eq!(c.done, api.deleted.borrow().len());
    }
}
