//! Fault injection: latency, 5xx, 429 with `Retry-After`, dropped connections, failed
//! snapshots and failed boots. All off by default; set by flags at start and by `/_emulator/faults` while
//! running. They apply to `/v1` only, never to `/healthz` or `/_emulator`.

use serde::{Deserialize, Serialize};
use snapdeck_api::FailureReason;

/// The fault knobs. Field names match the command-line flags (`--fault-5xx-rate` is
/// `fault_5xx_rate`), so a test can read one and set the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Extra delay before every `/v1` request is handled.
    pub fault_latency_ms: u64,
    /// Share of `/v1` requests answered 503 (0.0–1.0).
    pub fault_5xx_rate: f64,
    /// Share of `/v1` requests answered 429 with `Retry-After`.
    pub fault_429_rate: f64,
    /// The `Retry-After` of injected 429s, in seconds.
    pub fault_retry_after_s: u64,
    /// Share of `/v1` requests whose connection is closed without an answer.
    pub fault_drop_rate: f64,
    /// Share of new snapshots that end in `error`.
    pub snapshot_failure_rate: f64,
    /// The next N snapshots end in `error`, whatever the rate.
    pub fail_next_snapshots: u32,
    /// The next N devboxes created end their boot in `failure` instead of `running`.
    pub fail_next_boots: u32,
    /// The `failure_reason` of those boots.
    pub boot_failure_reason: FailureReason,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            fault_latency_ms: 0,
            fault_5xx_rate: 0.0,
            fault_429_rate: 0.0,
            fault_retry_after_s: 1,
            fault_drop_rate: 0.0,
            snapshot_failure_rate: 0.0,
            fail_next_snapshots: 0,
            fail_next_boots: 0,
            boot_failure_reason: FailureReason::HealthCheckFailed,
        }
    }
}

/// A partial update from `POST /_emulator/faults`: given fields change, others stay.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    pub fault_latency_ms: Option<u64>,
    pub fault_5xx_rate: Option<f64>,
    pub fault_429_rate: Option<f64>,
    pub fault_retry_after_s: Option<u64>,
    pub fault_drop_rate: Option<f64>,
    pub snapshot_failure_rate: Option<f64>,
    pub fail_next_snapshots: Option<u32>,
    pub fail_next_boots: Option<u32>,
    pub boot_failure_reason: Option<FailureReason>,
}

/// What the fault layer decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    ServerError,
    RateLimited,
}

impl Faults {
    /// Checks that every rate is a probability.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("fault_5xx_rate", self.fault_5xx_rate),
            ("fault_429_rate", self.fault_429_rate),
            ("fault_drop_rate", self.fault_drop_rate),
            ("snapshot_failure_rate", self.snapshot_failure_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if self.boot_failure_reason == FailureReason::Unknown {
            return Err(
                "boot_failure_reason must be out_of_memory, out_of_disk, execution_failed \
                 or health_check_failed"
                    .into(),
            );
        }
        Ok(())
    }

    /// Applies a patch, validating the result; on error nothing changes.
    pub fn apply(&mut self, patch: FaultsPatch) -> Result<(), String> {
        let mut next = self.clone();
        macro_rules! set {
            ($($field:ident),*) => {$(if let Some(v) = patch.$field { next.$field = v; })*};
        }
        set!(
            fault_latency_ms,
            fault_5xx_rate,
            fault_429_rate,
            fault_retry_after_s,
            fault_drop_rate,
            snapshot_failure_rate,
            fail_next_snapshots,
            fail_next_boots,
            boot_failure_reason
        );
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// Whether any knob touches requests themselves (the snapshot ones do not).
    pub fn affects_requests(&self) -> bool {
        self.fault_latency_ms > 0
            || self.fault_5xx_rate > 0.0
            || self.fault_429_rate > 0.0
            || self.fault_drop_rate > 0.0
    }

    /// Rolls the dice for one request (after the latency).
    pub fn verdict(&self) -> Verdict {
        if self.fault_5xx_rate > 0.0 && fastrand::f64() < self.fault_5xx_rate {
            Verdict::ServerError
        } else if self.fault_429_rate > 0.0 && fastrand::f64() < self.fault_429_rate {
            Verdict::RateLimited
        } else {
            Verdict::Pass
        }
    }

    /// Whether to drop this connection.
    pub fn drop_connection(&self) -> bool {
        self.fault_drop_rate > 0.0 && fastrand::f64() < self.fault_drop_rate
    }

    /// Whether the next boot fails (and why); consumes one forced failure.
    pub fn take_boot_failure(&mut self) -> Option<FailureReason> {
        (self.fail_next_boots > 0).then(|| {
            self.fail_next_boots -= 1;
            self.boot_failure_reason
        })
    }

    /// Whether the next snapshot fails; consumes one forced failure.
    pub fn take_snapshot_failure(&mut self) -> Option<String> {
        let fail = if self.fail_next_snapshots > 0 {
            self.fail_next_snapshots -= 1;
            true
        } else {
            self.snapshot_failure_rate > 0.0 && fastrand::f64() < self.snapshot_failure_rate
        };
        fail.then(|| "disk snapshot failed: I/O error while copying the disk (emulated)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_changes_only_the_given_knobs_and_a_bad_rate_changes_nothing() {
        let mut faults = Faults::default();
        faults
            .apply(FaultsPatch {
                fault_5xx_rate: Some(0.5),
                ..FaultsPatch::default()
            })
            .expect("valid");
        assert_eq!(faults.fault_5xx_rate, 0.5);
        assert_eq!(faults.fault_retry_after_s, 1);
        let before = faults.clone();
        assert!(
            faults
                .apply(FaultsPatch {
                    fault_latency_ms: Some(5),
                    fault_429_rate: Some(1.5),
                    ..FaultsPatch::default()
                })
                .is_err()
        );
        assert_eq!(faults, before);
    }

    #[test]
    fn forced_snapshot_failures_are_used_up_one_by_one() {
        let mut faults = Faults {
            fail_next_snapshots: 2,
            ..Faults::default()
        };
        assert!(faults.take_snapshot_failure().is_some());
        assert!(faults.take_snapshot_failure().is_some());
        assert!(faults.take_snapshot_failure().is_none());
        assert_eq!(faults.verdict(), Verdict::Pass);
        assert!(!faults.drop_connection());
    }
}
