//! The seam between a delete job and the loop that drives its `BulkRun` over a
//! [`Transport`]: the loop of `snapdeck_core::bulk`'s documentation, with the two things a
//! server job adds — every change is handed to an observer *before* anything new is sent
//! (so the database knows a delete may be out before it is), and a cancel wakes it.

use std::time::Duration;

use futures::StreamExt;
use futures::TryStreamExt;
use futures::future::Either;
use futures::stream::FuturesUnordered;
use snapdeck_api::endpoints::ListSnapshots;
use snapdeck_api::{ApiError, Client, Snapshot, Transport};
use snapdeck_core::bulk::{BulkRun, Listing, Wave};
use tokio::sync::Notify;

/// Snapshots per page of a re-check listing: the API's largest, so one devbox's
/// listing is one request as a rule.
pub const RECHECK_PAGE_SIZE: u32 = 5000;

/// Told about the run as it goes.
pub trait Observer {
    /// The run changed (a wave started or was judged, deletes were marked sent, a
    /// result came back). Called before any request the change leads to is sent.
    fn changed(&mut self, run: &BulkRun);
    /// Whether the person asked to stop.
    fn cancel_requested(&self) -> bool;
}

enum Event {
    Listed(Wave, Result<Vec<Snapshot>, ApiError>),
    Deleted(String, Result<(), ApiError>),
}

async fn list<T: Transport>(
    client: &Client<T>,
    listing: Listing,
) -> Result<Vec<Snapshot>, ApiError> {
    let query = |devbox_id| ListSnapshots {
        devbox_id,
        limit: Some(RECHECK_PAGE_SIZE),
        include_total_count: Some(false),
        ..ListSnapshots::default()
    };
    match listing {
        Listing::Account => client.snapshots(query(None)).try_collect().await,
        Listing::Devboxes(ids) => {
            let mut all = Vec::new();
            for id in ids {
                let page: Vec<Snapshot> = client.snapshots(query(Some(id))).try_collect().await?;
                all.extend(page);
            }
            Ok(all)
        }
    }
}

/// Drives `run` until every item is settled. `now_ms` is the clock.
pub async fn drive<T: Transport>(
    client: &Client<T>,
    run: &mut BulkRun,
    cancel: &Notify,
    observer: &mut impl Observer,
    now_ms: impl Fn() -> i64,
) {
    let mut in_flight = FuturesUnordered::new();
    let mut cancelled = false;
    loop {
        if !cancelled && observer.cancel_requested() {
            cancelled = true;
            run.cancel();
        }
        if let Some(wave) = run.next_wave(now_ms()) {
            let listing = wave.listing(None, RECHECK_PAGE_SIZE as usize);
            in_flight.push(Either::Left(async move {
                let result = list(client, listing).await;
                Event::Listed(wave, result)
            }));
        }
        let deletes = run.next_deletes();
        // Written down before the futures below are first polled, i.e. sent.
        observer.changed(run);
        for id in deletes {
            in_flight.push(Either::Right(async move {
                let result = client.delete_snapshot(&id).await;
                Event::Deleted(id, result)
            }));
        }
        if run.is_finished() {
            return;
        }
        if in_flight.is_empty() && run.next_wake_at().is_none() {
            // Nothing out and nothing due later would be a state machine bug: stop
            // rather than spin; the job's items show what did not settle.
            tracing::error!("bulk run stalled with unsettled items");
            return;
        }
        let wait = run
            .next_wake_at()
            .map_or(60_000, |at| at.saturating_sub(now_ms()).clamp(5, 60_000));
        let sleep = tokio::time::sleep(Duration::from_millis(wait.unsigned_abs()));
        let event = tokio::select! {
            event = in_flight.next(), if !in_flight.is_empty() => event,
            () = sleep => None,
            () = cancel.notified() => None,
        };
        match event {
            Some(Event::Listed(wave, Ok(listed))) => run.on_listing(&wave, &listed, now_ms()),
            Some(Event::Listed(wave, Err(e))) => run.on_listing_error(&wave, &e, now_ms()),
            Some(Event::Deleted(id, result)) => run.on_result(&id, result, now_ms()),
            None => {}
        }
    }
}
