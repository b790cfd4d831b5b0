//! The seam between a delete job and snapdeck-run's driver (the one every runner uses,
//! so a job's deletes pass the same re-check as the app's and the edge's): the API over
//! the job's client, whose sleep a cancel cuts short.

use snapdeck_api::{ApiError, Client, Snapshot, SnapshotStatus};
use snapdeck_core::bulk::{BulkRun, Listing};
use snapdeck_run::{ClientApi, Observer, Options, RunApi};
use tokio::sync::Notify;

use super::transport::Loopback;

pub use snapdeck_run::RECHECK_PAGE_SIZE;

/// [`ClientApi`] whose waits end early on a cancel, so a cancel is noticed at once.
struct JobApi<'a, N> {
    api: ClientApi<'a, Loopback, N>,
    cancel: &'a Notify,
}

impl<N: Fn() -> i64> RunApi for JobApi<'_, N> {
    fn list(&self, listing: &Listing) -> impl Future<Output = Result<Vec<Snapshot>, ApiError>> {
        self.api.list(listing)
    }

    fn status(&self, id: &str) -> impl Future<Output = Result<SnapshotStatus, ApiError>> {
        self.api.status(id)
    }

    fn delete(&self, id: &str) -> impl Future<Output = Result<(), ApiError>> {
        self.api.delete(id)
    }

    async fn sleep(&self, ms: u64) {
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(ms)) => {}
            () = self.cancel.notified() => {}
        }
    }

    fn now_ms(&self) -> i64 {
        self.api.now_ms()
    }
}

/// Drives `run` until every item is settled. The observer is told about every change
/// before any request it leads to is sent. `now_ms` is the clock.
pub async fn drive(
    client: &Client<Loopback>,
    run: &mut BulkRun,
    cancel: &Notify,
    observer: &mut impl Observer,
    now_ms: impl Fn() -> i64,
) {
    let api = JobApi {
        api: ClientApi::new(client, now_ms),
        cancel,
    };
    let report = snapdeck_run::drive(&api, run, &Options::default(), observer).await;
    if report.stalled {
        // Nothing out and nothing due later would be a state machine bug: stop rather
        // than spin; the job's items show what did not settle.
        tracing::error!("bulk run stalled with unsettled items");
    }
}
