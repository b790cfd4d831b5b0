//! The colour families of the dashboard (UX.md), as one type: badges, chips, toasts,
//! tray rows and run outcomes all take a [`Tone`], and only [`Tone::as_str`] knows the
//! CSS modifier it becomes (`sd-badge--ok`, `sd-toast--err`, …).

use snapdeck_api::{BlueprintStatus, DevboxStatus, SnapshotStatus};

/// A colour family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    /// Green: running, complete, deleted as asked.
    Ok,
    /// Neutral news.
    Info,
    /// Blue, pulsing: something is moving.
    Busy,
    /// Grey: suspended.
    Idle,
    /// Amber: skipped, needs a look.
    Warn,
    /// Red: failed.
    Err,
    /// Faded: gone, waiting, unknown.
    Muted,
    /// Not known yet (a status being fetched).
    Loading,
}

impl Tone {
    /// The CSS modifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Ok => "ok",
            Tone::Info => "info",
            Tone::Busy => "busy",
            Tone::Idle => "idle",
            Tone::Warn => "warn",
            Tone::Err => "err",
            Tone::Muted => "muted",
            Tone::Loading => "loading",
        }
    }

    /// A devbox status's family: running green, moving blue, suspended grey, failure
    /// red, shutdown muted.
    pub fn of_devbox(s: DevboxStatus) -> Self {
        match s {
            DevboxStatus::Running => Tone::Ok,
            DevboxStatus::Suspended => Tone::Idle,
            DevboxStatus::Failure => Tone::Err,
            DevboxStatus::Shutdown | DevboxStatus::Unknown => Tone::Muted,
            _ => Tone::Busy,
        }
    }

    /// A blueprint build's family: complete green, building blue, failed red.
    pub fn of_blueprint(s: BlueprintStatus) -> Self {
        match s {
            BlueprintStatus::BuildComplete => Tone::Ok,
            BlueprintStatus::Failed => Tone::Err,
            BlueprintStatus::AwaitingUpload => Tone::Warn,
            BlueprintStatus::Unknown => Tone::Muted,
            _ => Tone::Busy,
        }
    }

    /// A snapshot status's family; `None` (not fetched yet) is loading.
    pub fn of_snapshot(s: Option<SnapshotStatus>) -> Self {
        match s {
            Some(SnapshotStatus::Complete) => Tone::Ok,
            Some(SnapshotStatus::InProgress) => Tone::Busy,
            Some(SnapshotStatus::Error) => Tone::Err,
            Some(SnapshotStatus::Deleted | SnapshotStatus::Unknown) => Tone::Muted,
            None => Tone::Loading,
        }
    }
}

impl std::fmt::Display for Tone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_their_families() {
        assert_eq!(Tone::of_devbox(DevboxStatus::Running), Tone::Ok);
        assert_eq!(Tone::of_devbox(DevboxStatus::Provisioning), Tone::Busy);
        assert_eq!(Tone::of_devbox(DevboxStatus::Suspended), Tone::Idle);
        assert_eq!(Tone::of_devbox(DevboxStatus::Failure), Tone::Err);
        assert_eq!(Tone::of_snapshot(Some(SnapshotStatus::Complete)), Tone::Ok);
        assert_eq!(
            Tone::of_snapshot(Some(SnapshotStatus::Deleted)),
            Tone::Muted
        );
        assert_eq!(Tone::of_snapshot(None), Tone::Loading);
        assert_eq!(Tone::of_blueprint(BlueprintStatus::Building), Tone::Busy);
        assert_eq!(Tone::of_blueprint(BlueprintStatus::Failed), Tone::Err);
        assert_eq!(format!("sd-badge--{}", Tone::Warn), "sd-badge--warn");
    }
}
