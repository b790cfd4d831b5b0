//! The one driver of a snapdeck-core [`BulkRun`], for every runner: the app (in the
//! tab), the edge worker's cron, the bench and the server's jobs. Each used to carry its
//! own copy of the loop; now they all go through this one, so every delete they send
//! has passed the same re-check ([`snapdeck_core::recheck`]: the plan must still hold
//! at the moment of each delete).
//!
//! It is runtime-agnostic: all I/O goes through [`RunApi`] (list, status, delete, and
//! the runtime's `sleep` and clock), so it builds for wasm32 (browser, Workers) and
//! native (tokio, tests) alike, and an [`Observer`] sees every change before the
//! requests it leads to are sent (the server writes the run down there, the app
//! publishes progress) and can ask for a cancel. [`ClientApi`] implements [`RunApi`] over
//! snapdeck-api's [`Client`].
//!
//! The loop is the one of `snapdeck_core::bulk`'s documentation: at most one re-check
//! listing (with the few `/status` calls its judgment needs) and `run.max_concurrency`
//! deletes in flight; every decision is the state machine's.

pub mod fanout;

use std::time::Duration;

use futures::future::{self, Either, LocalBoxFuture};
use futures::stream::{self, FuturesUnordered};
use futures::{FutureExt, StreamExt, TryStreamExt};
use snapdeck_api::endpoints::ListSnapshots;
use snapdeck_api::{ApiError, Client, Snapshot, SnapshotStatus, Transport};
use snapdeck_core::bulk::{BulkRun, Listing, Wave};

/// Snapshots per page of a re-check listing: the API's largest, so a devbox's listing
/// is one request as a rule.
pub const RECHECK_PAGE_SIZE: u32 = 5000;
/// Longest wait with nothing due (a stalled API, a cancel to notice).
const MAX_WAIT_MS: i64 = 60_000;

/// What a run needs from the API and the runtime.
pub trait RunApi {
    /// Every snapshot of the listing (all pages).
    fn list(&self, listing: &Listing) -> impl Future<Output = Result<Vec<Snapshot>, ApiError>>;
    /// One snapshot's status (`GET .../status`).
    fn status(&self, id: &str) -> impl Future<Output = Result<SnapshotStatus, ApiError>>;
    /// Deletes one snapshot.
    fn delete(&self, id: &str) -> impl Future<Output = Result<(), ApiError>>;
    /// Waits `ms` (or less: returning early only makes the driver look again).
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;
    /// Unix ms now.
    fn now_ms(&self) -> i64;
}

/// Told about the run as it goes.
pub trait Observer {
    /// The run changed (a wave started or was judged, deletes were marked sent, a
    /// result came back), or `quiet_ms` passed. Called before any request the change
    /// leads to is sent.
    fn changed(&mut self, _run: &BulkRun) {}
    /// Whether the person asked to stop (checked at every turn).
    fn cancel_requested(&self) -> bool {
        false
    }
    /// The longest the driver may go without calling [`changed`](Self::changed) (for
    /// observers that throttle what they publish).
    fn quiet_ms(&self) -> Option<u64> {
        None
    }
}

/// No observer.
impl Observer for () {}

/// How to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The account's number of snapshots, when known: a wave over many devboxes then
    /// lists the account instead when that takes fewer requests ([`Wave::listing`]).
    pub account_snapshots: Option<usize>,
    /// Page size of re-check listings (for that choice).
    pub page_size: usize,
    /// `/status` calls in flight at once for a wave's unknown statuses.
    pub status_concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            account_snapshots: None,
            page_size: RECHECK_PAGE_SIZE as usize,
            status_concurrency: 4,
        }
    }
}

/// What the drive took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Re-check listings.
    pub waves: usize,
    /// `/status` calls for statuses a wave needed.
    pub status_calls: usize,
    /// It stopped with items unsettled and nothing to wait for (a state machine bug;
    /// the run's items show what did not finish).
    pub stalled: bool,
}

enum Event {
    Listed(Wave, Result<Vec<Snapshot>, ApiError>),
    Statuses(
        Wave,
        Vec<Snapshot>,
        Vec<(String, Result<SnapshotStatus, ApiError>)>,
    ),
    Deleted(String, Result<(), ApiError>),
}

/// Drives `run` until every item is settled (or a cancel has settled them).
pub async fn drive<A: RunApi>(
    api: &A,
    run: &mut BulkRun,
    options: &Options,
    observer: &mut impl Observer,
) -> Report {
    let mut report = Report::default();
    let mut in_flight: FuturesUnordered<LocalBoxFuture<'_, Event>> = FuturesUnordered::new();
    let mut cancelled = false;
    loop {
        if !cancelled && observer.cancel_requested() {
            cancelled = true;
            run.cancel();
        }
        if let Some(wave) = run.next_wave(api.now_ms()) {
            report.waves += 1;
            let listing = wave.listing(options.account_snapshots, options.page_size);
            in_flight.push(
                async move {
                    let result = api.list(&listing).await;
                    Event::Listed(wave, result)
                }
                .boxed_local(),
            );
        }
        let deletes = run.next_deletes();
        // Written down (server) or published (app) before the deletes are first
        // polled, i.e. sent.
        observer.changed(run);
        for id in deletes {
            in_flight.push(
                async move {
                    let result = api.delete(&id).await;
                    Event::Deleted(id, result)
                }
                .boxed_local(),
            );
        }
        if run.is_finished() {
            return report;
        }
        if in_flight.is_empty() && run.next_wake_at().is_none() {
            report.stalled = true;
            return report;
        }
        let mut wait = run.next_wake_at().map_or(MAX_WAIT_MS, |at| {
            at.saturating_sub(api.now_ms()).clamp(5, MAX_WAIT_MS)
        });
        if let Some(quiet) = observer.quiet_ms() {
            wait = wait.min(i64::try_from(quiet).unwrap_or(i64::MAX));
        }
        let sleep = api.sleep(wait.unsigned_abs());
        let event = if in_flight.is_empty() {
            sleep.await;
            None
        } else {
            match future::select(in_flight.next(), std::pin::pin!(sleep)).await {
                Either::Left((event, _)) => event,
                Either::Right(((), _)) => None,
            }
        };
        let now = api.now_ms();
        match event {
            Some(Event::Listed(wave, Ok(listed))) => {
                let ids = run.statuses_to_fetch(&wave, &listed);
                if ids.is_empty() {
                    run.on_listing(&wave, &listed, now);
                } else {
                    // The wave stays in its re-check (no other listing starts) until
                    // these are back.
                    report.status_calls += ids.len();
                    let concurrency = options.status_concurrency.max(1);
                    in_flight.push(
                        async move {
                            let results = stream::iter(ids)
                                .map(|id| async move {
                                    let status = api.status(&id).await;
                                    (id, status)
                                })
                                .buffer_unordered(concurrency)
                                .collect()
                                .await;
                            Event::Statuses(wave, listed, results)
                        }
                        .boxed_local(),
                    );
                }
            }
            Some(Event::Listed(wave, Err(e))) => run.on_listing_error(&wave, &e, now),
            Some(Event::Statuses(wave, listed, results)) => {
                // A status that could not be fetched stays unknown, which only ever
                // keeps more.
                for (id, status) in results {
                    if let (Ok(status), Some(s)) = (status, listed.iter().find(|s| s.id == id)) {
                        run.learn_status(s, status);
                    }
                }
                run.on_listing(&wave, &listed, now);
            }
            Some(Event::Deleted(id, result)) => run.on_result(&id, result, now),
            None => {}
        }
    }
}

/// [`RunApi`] over snapdeck-api's client: listings by devbox (one after the other) or
/// of the account, in pages of [`RECHECK_PAGE_SIZE`]; the transport's sleep; the clock
/// given.
pub struct ClientApi<'a, T, N> {
    client: &'a Client<T>,
    now: N,
}

impl<'a, T: Transport, N: Fn() -> i64> ClientApi<'a, T, N> {
    /// Over `client`, with `now` as the clock.
    pub fn new(client: &'a Client<T>, now: N) -> Self {
        Self { client, now }
    }
}

fn recheck_query(devbox_id: Option<String>) -> ListSnapshots {
    ListSnapshots {
        devbox_id,
        limit: Some(RECHECK_PAGE_SIZE),
        include_total_count: Some(false),
        ..ListSnapshots::default()
    }
}

impl<T: Transport, N: Fn() -> i64> RunApi for ClientApi<'_, T, N> {
    async fn list(&self, listing: &Listing) -> Result<Vec<Snapshot>, ApiError> {
        match listing {
            Listing::Account => {
                self.client
                    .snapshots(recheck_query(None))
                    .try_collect()
                    .await
            }
            Listing::Devboxes(ids) => {
                let mut all = Vec::new();
                for id in ids {
                    let page: Vec<Snapshot> = self
                        .client
                        .snapshots(recheck_query(Some(id.clone())))
                        .try_collect()
                        .await?;
                    all.extend(page);
                }
                Ok(all)
            }
        }
    }

    async fn status(&self, id: &str) -> Result<SnapshotStatus, ApiError> {
        self.client.snapshot_status(id).await.map(|v| v.status)
    }

    async fn delete(&self, id: &str) -> Result<(), ApiError> {
        self.client.delete_snapshot(id).await
    }

    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        self.client.transport().sleep(Duration::from_millis(ms))
    }

    fn now_ms(&self) -> i64 {
        (self.now)()
    }
}
