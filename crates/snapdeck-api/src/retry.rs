//! When to try a request again, and after how long — as a pure function, so the
//! rules are unit-tested and the runtime (browser, worker, tokio) does the sleeping.

use std::time::Duration;

use crate::error::{TransportError, is_retryable_status};
use crate::http::HttpResponse;

/// The outcome of one attempt, as seen by the retry policy.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// The server answered (any status).
    Response(&'a HttpResponse),
    /// No answer.
    Failed(&'a TransportError),
}

/// Retry rules, close to the official Runloop SDKs with two deliberate differences.
///
/// Retried: connection errors and timeouts, 408, 429 and 5xx — or whatever the server
/// marks with `x-should-retry: true`; `x-should-retry: false` always wins and stops.
///
/// Differences from the SDKs:
/// * **409 is not retried.** The SDKs retry it, but Runloop uses 409 for deliberate
///   refusals (shutting down a devbox while a snapshot is in progress, deleting a
///   snapshot that is not complete). Retrying those only delays the message the
///   person needs by ~30 s; snapdeck shows it at once.
/// * **Shorter, bounded backoff**: `min(base · 2^n, max)` with `base` = 0.5 s,
///   `max` = 8 s, n = retries already made, times a jitter factor in `[0.75, 1.0]`;
///   3 retries by default (≈ 0.5, 1, 2 s). A dashboard should fail visibly rather than
///   hang for half a minute.
///
/// The server's own wish wins over the backoff: `retry-after-ms` (milliseconds) or
/// `Retry-After` (seconds, fractions allowed) is honoured when it is in
/// `(0, max_retry_after]`. An HTTP-date `Retry-After`, a non-positive or too large
/// value is treated as absent (backoff applies), like the Python SDK.
///
/// Non-GET requests are retried too, which is safe only because the client sends the
/// same `x-request-id` on every attempt and the server deduplicates by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// Backoff before the first retry, before jitter.
    pub base_delay: Duration,
    /// Cap of the exponential backoff.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry (used for long polls, whose 408 means "not yet").
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How long to wait before the next attempt, or `None` to give up and return
    /// this outcome.
    ///
    /// `retries_done` counts retries already made (0 after the first attempt);
    /// `jitter` is a random number in `[0, 1)` supplied by the caller (values outside are
    /// clamped), so this function stays deterministic.
    pub fn retry_delay(
        &self,
        retries_done: u32,
        outcome: Attempt<'_>,
        jitter: f64,
    ) -> Option<Duration> {
        if retries_done >= self.max_retries {
            return None;
        }
        match outcome {
            Attempt::Failed(e) => e.is_retryable().then(|| self.backoff(retries_done, jitter)),
            Attempt::Response(resp) => {
                if resp.is_success() || !should_retry(resp) {
                    return None;
                }
                Some(
                    self.server_delay(resp)
                        .unwrap_or_else(|| self.backoff(retries_done, jitter)),
                )
            }
        }
    }

    /// `min(base · 2^n, max) · (1 − 0.25 · jitter)`.
    pub fn backoff(&self, retries_done: u32, jitter: f64) -> Duration {
        let factor = 2f64.powi(retries_done.min(30) as i32);
        let raw = (self.base_delay.as_secs_f64() * factor).min(self.max_delay.as_secs_f64());
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Duration::from_secs_f64(raw * (1.0 - 0.25 * jitter))
    }

    /// The delay the server asked for, if it is usable.
    fn server_delay(&self, resp: &HttpResponse) -> Option<Duration> {
        let asked = resp
            .header("retry-after-ms")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|ms| ms / 1000.0)
            .or_else(|| {
                resp.header("retry-after")
                    .and_then(|v| v.trim().parse::<f64>().ok())
            })?;
        (asked.is_finite() && asked > 0.0 && asked <= self.max_retry_after.as_secs_f64())
            .then(|| Duration::from_secs_f64(asked))
    }
}

/// `x-should-retry` first, then the status.
fn should_retry(resp: &HttpResponse) -> bool {
    match resp.header("x-should-retry").map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        _ => is_retryable_status(resp.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16) -> HttpResponse {
        HttpResponse::new(status, "")
    }

    fn delay(p: &RetryPolicy, n: u32, r: &HttpResponse) -> Option<Duration> {
        p.retry_delay(n, Attempt::Response(r), 0.0)
    }

    #[test]
    fn retries_rate_limits_timeouts_and_server_errors() {
        let p = RetryPolicy::default();
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(
                delay(&p, 0, &resp(s)),
                Some(Duration::from_millis(500)),
                "{s}"
            );
        }
    }

    #[test]
    fn does_not_retry_conflicts_client_errors_or_success() {
        let p = RetryPolicy::default();
        for s in [200, 204, 400, 401, 403, 404, 409, 422] {
            assert_eq!(delay(&p, 0, &resp(s)), None, "{s}");
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 10,
            ..RetryPolicy::default()
        };
        let ms: Vec<u128> = (0..6).map(|n| p.backoff(n, 0.0).as_millis()).collect();
        assert_eq!(ms, [500, 1000, 2000, 4000, 8000, 8000]);
        assert_eq!(p.backoff(40, 0.0), Duration::from_secs(8));
    }

    #[test]
    fn jitter_shortens_by_at_most_a_quarter() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(750));
        assert_eq!(p.backoff(1, 0.5), Duration::from_millis(875));
        // Out-of-range jitter is clamped rather than producing odd delays.
        assert_eq!(p.backoff(1, 7.0), Duration::from_millis(750));
        assert_eq!(p.backoff(1, f64::NAN), Duration::from_millis(1000));
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy::default();
        assert!(delay(&p, 2, &resp(503)).is_some());
        assert_eq!(delay(&p, 3, &resp(503)), None);
        assert_eq!(delay(&RetryPolicy::none(), 0, &resp(503)), None);
    }

    #[test]
    fn retry_after_seconds_and_fractions_are_honoured() {
        let p = RetryPolicy::default();
        let r = resp(429).with_header("Retry-After", "3");
        assert_eq!(delay(&p, 0, &r), Some(Duration::from_secs(3)));
        let r = resp(429).with_header("retry-after", "1.5");
        assert_eq!(delay(&p, 0, &r), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        let p = RetryPolicy::default();
        let r = resp(429)
            .with_header("retry-after-ms", "250")
            .with_header("Retry-After", "9");
        assert_eq!(delay(&p, 0, &r), Some(Duration::from_millis(250)));
    }

    #[test]
    fn unusable_retry_after_falls_back_to_backoff() {
        let p = RetryPolicy::default();
        for v in ["Wed, 21 Oct 2015 07:28:00 GMT", "0", "-1", "120", "soon"] {
            let r = resp(503).with_header("Retry-After", v);
            assert_eq!(delay(&p, 1, &r), Some(Duration::from_secs(1)), "{v}");
        }
    }

    #[test]
    fn should_retry_header_overrides_status() {
        let p = RetryPolicy::default();
        let r = resp(409).with_header("x-should-retry", "true");
        assert!(delay(&p, 0, &r).is_some());
        let r = resp(503).with_header("X-Should-Retry", "false");
        assert_eq!(delay(&p, 0, &r), None);
        // Even a server-requested retry respects the attempt bound.
        let r = resp(400).with_header("x-should-retry", "true");
        assert_eq!(delay(&p, 3, &r), None);
    }

    #[test]
    fn network_errors_retry_but_aborts_do_not() {
        let p = RetryPolicy::default();
        let net = TransportError::Network("refused".into());
        assert_eq!(
            p.retry_delay(1, Attempt::Failed(&net), 0.0),
            Some(Duration::from_secs(1))
        );
        assert!(
            p.retry_delay(0, Attempt::Failed(&TransportError::Timeout), 0.0)
                .is_some()
        );
        assert_eq!(
            p.retry_delay(0, Attempt::Failed(&TransportError::Aborted), 0.0),
            None
        );
    }
}
