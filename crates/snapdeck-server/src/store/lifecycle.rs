//! Lifecycle timers of running devboxes: `keep_alive_time_seconds` (shut down that long
//! after reaching `running`, or after the last `keep_alive`) and `after_idle` (shut down
//! or suspend after that long without activity: a command, a file operation, a
//! `keep_alive`), on an emulator clock that tests can speed up or move forward
//! (`--lifecycle-speed`, `POST /_emulator/clock`). Only devboxes created with one of
//! those fields have a timer: the real API's default of an hour is not applied, so a
//! long-running emulator keeps its devboxes.

use serde::{Deserialize, Serialize};
use snapdeck_api::{DevboxStatus, LaunchParameters, ShutdownReason};

use super::{DevboxRec, Step, Store};
use crate::error::{Error, Result};

/// The lifecycle clock: emulated milliseconds, running `speed` times as fast as the
/// wall clock, plus whatever `advance` added. It starts equal to the wall clock, so
/// deadlines stored before a restart (at speed 1) still mean the same instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifeClock {
    base_l: f64,
    base_wall: i64,
    speed: f64,
}

impl LifeClock {
    /// A clock equal to the wall clock at `now`, running at `speed`.
    pub fn new(now: i64, speed: f64) -> Self {
        Self {
            base_l: now as f64,
            base_wall: now,
            speed,
        }
    }

    /// Lifecycle time at wall time `wall`.
    pub fn at(&self, wall: i64) -> f64 {
        self.base_l + (wall - self.base_wall) as f64 * self.speed
    }

    /// Wall time at which the lifecycle clock reads `l` (rounded up).
    pub fn wall_at(&self, l: f64) -> i64 {
        let wall = self.base_wall as f64 + (l - self.base_l) / self.speed;
        // Deadlines are far inside i64's range; the cast saturates anyway.
        wall.ceil() as i64
    }

    /// How fast it runs.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    fn rebase(&mut self, now: i64) {
        self.base_l = self.at(now);
        self.base_wall = now;
    }
}

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerAction {
    /// Shut down with `keep_alive_timeout`.
    KeepAliveShutdown,
    /// Shut down with `idle`.
    IdleShutdown,
    /// Suspend (`on_idle: suspend`).
    IdleSuspend,
}

/// A running devbox's armed timer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LifeTimer {
    /// When it fires, in lifecycle ms.
    pub deadline_l: f64,
    /// Seconds it runs from each reset.
    pub seconds: f64,
    pub action: TimerAction,
}

/// The timer a devbox's launch parameters ask for: `after_idle` (also under
/// `lifecycle`) wins over `keep_alive_time_seconds`, as the API documents.
pub fn policy(lp: &LaunchParameters) -> Option<(f64, TimerAction)> {
    let after_idle = lp
        .extra
        .get("lifecycle")
        .and_then(|l| l.get("after_idle"))
        .or_else(|| lp.extra.get("after_idle"))
        .filter(|v| !v.is_null());
    if let Some(idle) = after_idle {
        let seconds = idle.get("idle_time_seconds").and_then(|v| v.as_f64())?;
        let action = match idle.get("on_idle").and_then(|v| v.as_str()) {
            Some("suspend") => TimerAction::IdleSuspend,
            _ => TimerAction::IdleShutdown,
        };
        return Some((seconds, action));
    }
    lp.keep_alive_time_seconds
        .map(|s| (s as f64, TimerAction::KeepAliveShutdown))
}

impl DevboxRec {
    /// Arms the devbox's timer from `at_wall` (it just reached `running`).
    pub(super) fn arm_timer(&mut self, at_wall: i64, clock: &LifeClock) {
        self.life.timer = policy(&self.view.launch_parameters).map(|(seconds, action)| LifeTimer {
            deadline_l: clock.at(at_wall) + seconds * 1000.0,
            seconds,
            action,
        });
    }

    /// When the timer fires, in wall ms (only while running).
    pub(super) fn timer_due(&self, clock: &LifeClock) -> Option<i64> {
        (self.view.status == DevboxStatus::Running)
            .then_some(self.life.timer)
            .flatten()
            .map(|t| clock.wall_at(t.deadline_l))
    }

    /// Fires the timer if it is due at `now`; true when something changed. The
    /// transition is dated at the timer's due time, like every other one.
    pub(super) fn fire_timer(&mut self, now: i64, clock: &LifeClock, suspend_ms: i64) -> bool {
        let Some(due) = self.timer_due(clock).filter(|due| *due <= now) else {
            return false;
        };
        let Some(timer) = self.life.timer.take() else {
            return false;
        };
        match timer.action {
            TimerAction::KeepAliveShutdown | TimerAction::IdleShutdown => {
                self.steps.clear();
                self.enter(DevboxStatus::Shutdown, due);
                self.view.end_time_ms = Some(due);
                self.view.shutdown_reason = Some(if timer.action == TimerAction::IdleShutdown {
                    ShutdownReason::Idle
                } else {
                    ShutdownReason::KeepAliveTimeout
                });
            }
            TimerAction::IdleSuspend => {
                self.enter(DevboxStatus::Suspending, due);
                self.steps.push_back(Step {
                    status: DevboxStatus::Suspended,
                    due_ms: due + suspend_ms,
                });
            }
        }
        true
    }
}

impl Store {
    /// The lifecycle clock.
    pub fn clock(&self) -> LifeClock {
        self.clock
    }

    /// Runs the lifecycle clock `speed` times as fast as the wall clock from `now` on.
    pub fn set_lifecycle_speed(&mut self, speed: f64, now: i64) -> Result<()> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(Error::BadRequest(format!(
                "lifecycle_speed must be a positive number, got {speed}"
            )));
        }
        self.clock.rebase(now);
        self.clock.speed = speed;
        self.recompute_next_due();
        Ok(())
    }

    /// Moves the lifecycle clock `seconds` forward: timers that fall due fire on the
    /// next access (dated at their due time as seen from the clock before the jump).
    pub fn advance_lifecycle(&mut self, seconds: f64, now: i64) -> Result<()> {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(Error::BadRequest(format!(
                "advance_seconds must be a non-negative number, got {seconds}"
            )));
        }
        self.clock.rebase(now);
        self.clock.base_l += seconds * 1000.0;
        self.recompute_next_due();
        Ok(())
    }

    /// Activity on a devbox (a command, a file operation): an idle timer starts over.
    /// `keep_alive` also restarts a keep-alive timer.
    pub fn touch(&mut self, id: &str, keep_alive: bool, now: i64) -> Result<()> {
        let clock = self.clock;
        let Some(rec) = self.devboxes.get(id) else {
            return Ok(());
        };
        let Some(timer) = rec.life.timer else {
            return Ok(());
        };
        if timer.action == TimerAction::KeepAliveShutdown && !keep_alive {
            return Ok(());
        }
        let mut rec = rec.clone();
        rec.life.timer = Some(LifeTimer {
            deadline_l: clock.at(now) + timer.seconds * 1000.0,
            ..timer
        });
        self.update_devbox_rec(rec)?;
        // The old deadline may have been the earliest: look again.
        self.recompute_next_due();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_runs_at_its_speed_and_maps_back_to_wall_time() {
        let mut clock = LifeClock::new(1_000, 1.0);
        assert_eq!(clock.at(1_500), 1_500.0);
        clock.rebase(2_000);
        clock.speed = 100.0;
        assert_eq!(clock.at(2_010), 3_000.0);
        assert_eq!(clock.wall_at(3_000.0), 2_010);
        clock.rebase(2_010);
        clock.base_l += 60_000.0;
        assert_eq!(clock.wall_at(63_000.0), 2_010);
    }

    #[test]
    fn after_idle_wins_over_keep_alive_and_defaults_to_shutdown() {
        let lp: LaunchParameters = serde_json::from_str(
            r#"{"keep_alive_time_seconds": 60, "after_idle": {"idle_time_seconds": 5}}"#,
        )
        .expect("lp");
        assert_eq!(policy(&lp), Some((5.0, TimerAction::IdleShutdown)));
        let lp: LaunchParameters = serde_json::from_str(
            r#"{"lifecycle": {"after_idle": {"idle_time_seconds": 7, "on_idle": "suspend"}}}"#,
        )
        .expect("lp");
        assert_eq!(policy(&lp), Some((7.0, TimerAction::IdleSuspend)));
        let lp: LaunchParameters =
            serde_json::from_str(r#"{"keep_alive_time_seconds": 60}"#).expect("lp");
        assert_eq!(policy(&lp), Some((60.0, TimerAction::KeepAliveShutdown)));
        assert_eq!(policy(&LaunchParameters::default()), None);
    }
}
