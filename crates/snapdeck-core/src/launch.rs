//! A new devbox as a person describes it in the "New devbox" dialog — where its disk
//! comes from, its size, architecture and idle action — turned into the one
//! `POST /v1/devboxes` body, and the one line that says what will happen.

use snapdeck_api::{CreateDevbox, LaunchParameters, Metadata};

/// Where a new devbox's disk comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A blueprint by id (`bpt_…`).
    BlueprintId(String),
    /// The latest successful build of the blueprint with this name.
    BlueprintName(String),
    /// A disk snapshot, to continue where one devbox was.
    Snapshot(String),
    /// Runloop's default image.
    DefaultImage,
}

impl Source {
    /// What a person typed in the blueprint field: an id when it looks like one
    /// (`bpt_` or `bp_`, as rl-cli decides), else a name. `None` when blank.
    pub fn blueprint(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.is_empty() {
            None
        } else if t.starts_with("bpt_") || t.starts_with("bp_") {
            Some(Self::BlueprintId(t.to_owned()))
        } else {
            Some(Self::BlueprintName(t.to_owned()))
        }
    }

    /// How the summary names it.
    fn describe(&self) -> String {
        match self {
            Self::BlueprintId(id) => format!("blueprint {id}"),
            Self::BlueprintName(n) => format!("the latest successful build of blueprint “{n}”"),
            Self::Snapshot(id) => format!("snapshot {id}"),
            Self::DefaultImage => "the default image".into(),
        }
    }
}

/// The resource sizes the API offers (`CUSTOM_SIZE` aside), with what each gives.
pub const SIZES: [(&str, &str); 6] = [
    ("X_SMALL", "0.5 CPU · 1 GiB · 4 GiB disk"),
    ("SMALL", "1 CPU · 2 GiB · 4 GiB disk"),
    ("MEDIUM", "2 CPU · 4 GiB · 8 GiB disk"),
    ("LARGE", "2 CPU · 8 GiB · 16 GiB disk"),
    ("X_LARGE", "4 CPU · 16 GiB · 16 GiB disk"),
    ("XX_LARGE", "8 CPU · 32 GiB · 16 GiB disk"),
];

/// The API's default size.
pub const DEFAULT_SIZE: &str = "SMALL";

/// The architectures; the first is the API's default.
pub const ARCHITECTURES: [&str; 2] = ["x86_64", "arm64"];

/// What happens when the devbox sits idle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(
    tag = "on_idle",
    content = "idle_time_seconds",
    rename_all = "snake_case"
)]
pub enum IdleAction {
    /// Nothing: it runs until its keep-alive time ends.
    #[default]
    None,
    /// Shut down after this many idle seconds (the disk is discarded).
    Shutdown(u32),
    /// Suspend after this many idle seconds (the disk is kept; resume later).
    Suspend(u32),
}

impl IdleAction {
    /// Keeps running.
    pub fn is_none(&self) -> bool {
        *self == Self::None
    }

    /// What a dialog's "When idle" choice (`none`, `suspend`, `shutdown`) and minutes
    /// mean; minutes that are not a positive number mean "keep running".
    pub fn from_choice(kind: &str, minutes: &str) -> Self {
        let secs = minutes
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|m| *m > 0)
            .map(|m| m.saturating_mul(60));
        match (kind, secs) {
            ("suspend", Some(s)) => Self::Suspend(s),
            ("shutdown", Some(s)) => Self::Shutdown(s),
            _ => Self::None,
        }
    }

    /// Sets `after_idle` in `lp` (nothing for [`IdleAction::None`]).
    pub fn apply(&self, lp: &mut LaunchParameters) {
        let idle = match *self {
            Self::None => None,
            Self::Shutdown(s) => Some((s, "shutdown")),
            Self::Suspend(s) => Some((s, "suspend")),
        };
        if let Some((secs, on_idle)) = idle {
            lp.extra.insert(
                "after_idle".into(),
                serde_json::json!({"idle_time_seconds": secs, "on_idle": on_idle}),
            );
        }
    }

    /// The idle action a devbox was launched with (its `after_idle`).
    pub fn of_launch(lp: &LaunchParameters) -> Self {
        let Some(idle) = lp.extra.get("after_idle") else {
            return Self::None;
        };
        let secs = idle
            .get("idle_time_seconds")
            .and_then(serde_json::Value::as_u64)
            .and_then(|s| u32::try_from(s).ok());
        match (
            idle.get("on_idle").and_then(serde_json::Value::as_str),
            secs,
        ) {
            (Some("suspend"), Some(s)) => Self::Suspend(s),
            (Some("shutdown"), Some(s)) => Self::Shutdown(s),
            _ => Self::None,
        }
    }

    /// The launch parameters that carry it alone (`None` for keep running).
    pub fn launch_parameters(&self) -> Option<LaunchParameters> {
        let mut lp = LaunchParameters::default();
        self.apply(&mut lp);
        (lp != LaunchParameters::default()).then_some(lp)
    }

    /// "; suspends after 30 min idle" (empty for keep running), for summaries.
    pub fn phrase(&self) -> String {
        match *self {
            Self::None => String::new(),
            Self::Shutdown(s) => format!("; shuts down after {} idle", minutes(s)),
            Self::Suspend(s) => format!("; suspends after {} idle", minutes(s)),
        }
    }
}

/// Everything the dialog asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDevbox {
    pub name: String,
    pub source: Source,
    pub metadata: Metadata,
    /// One of [`SIZES`].
    pub size: String,
    /// One of [`ARCHITECTURES`].
    pub architecture: String,
    pub idle: IdleAction,
}

impl NewDevbox {
    /// The create body. Defaults (size, architecture) are sent only when changed, so
    /// the API's own defaults stay the API's.
    pub fn request(&self) -> CreateDevbox {
        let mut body = CreateDevbox {
            name: Some(self.name.trim().to_owned()).filter(|n| !n.is_empty()),
            metadata: (!self.metadata.is_empty()).then(|| self.metadata.clone()),
            ..Default::default()
        };
        match &self.source {
            Source::BlueprintId(id) => body.blueprint_id = Some(id.clone()),
            Source::BlueprintName(n) => body.blueprint_name = Some(n.clone()),
            Source::Snapshot(id) => body.snapshot_id = Some(id.clone()),
            Source::DefaultImage => {}
        }
        let mut lp = LaunchParameters::default();
        if self.size != DEFAULT_SIZE && !self.size.is_empty() {
            lp.resource_size_request = Some(self.size.clone());
        }
        if self.architecture != ARCHITECTURES[0] && !self.architecture.is_empty() {
            lp.architecture = Some(self.architecture.clone());
        }
        self.idle.apply(&mut lp);
        if lp != LaunchParameters::default() {
            body.launch_parameters = Some(lp);
        }
        body
    }

    /// One line: what creating it will do.
    pub fn summary(&self) -> String {
        let name = match self.name.trim() {
            "" => "an unnamed devbox".to_owned(),
            n => format!("“{n}”"),
        };
        let idle = self.idle.phrase();
        format!(
            "Starts {name} from {} on {} {}{idle}, and shows it booting in Devboxes.",
            self.source.describe(),
            self.size.trim(),
            self.architecture.trim(),
        )
    }
}

fn minutes(secs: u32) -> String {
    match secs {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(source: Source) -> NewDevbox {
        NewDevbox {
            name: " api ".into(),
            source,
            metadata: Metadata::new(),
            size: DEFAULT_SIZE.into(),
            architecture: ARCHITECTURES[0].into(),
            idle: IdleAction::None,
        }
    }

    #[test]
    fn a_blueprint_typed_as_an_id_is_sent_as_an_id_and_anything_else_as_a_name() {
        assert_eq!(
            Source::blueprint(" bpt_12 "),
            Some(Source::BlueprintId("bpt_12".into()))
        );
        assert_eq!(
            Source::blueprint("bp_9"),
            Some(Source::BlueprintId("bp_9".into()))
        );
        assert_eq!(
            Source::blueprint("node-20"),
            Some(Source::BlueprintName("node-20".into()))
        );
        assert_eq!(Source::blueprint("  "), None);
    }

    #[test]
    fn each_source_fills_exactly_one_source_field() {
        let by_name = plain(Source::BlueprintName("py".into())).request();
        assert_eq!(by_name.blueprint_name.as_deref(), Some("py"));
        assert!(by_name.blueprint_id.is_none() && by_name.snapshot_id.is_none());
        let by_id = plain(Source::BlueprintId("bpt_1".into())).request();
        assert_eq!(by_id.blueprint_id.as_deref(), Some("bpt_1"));
        let snap = plain(Source::Snapshot("snp_1".into())).request();
        assert_eq!(snap.snapshot_id.as_deref(), Some("snp_1"));
        let default = plain(Source::DefaultImage).request();
        assert_eq!(
            default,
            CreateDevbox {
                name: Some("api".into()),
                ..Default::default()
            },
            "defaults send nothing but the trimmed name"
        );
    }

    #[test]
    fn size_architecture_and_idle_action_go_into_the_launch_parameters() {
        let mut d = plain(Source::DefaultImage);
        d.size = "LARGE".into();
        d.architecture = "arm64".into();
        d.idle = IdleAction::Suspend(1800);
        d.metadata.insert("team".into(), "ml".into());
        let body = d.request();
        let lp = body.launch_parameters.expect("launch parameters");
        assert_eq!(lp.resource_size_request.as_deref(), Some("LARGE"));
        assert_eq!(lp.architecture.as_deref(), Some("arm64"));
        assert_eq!(
            lp.extra["after_idle"],
            serde_json::json!({"idle_time_seconds": 1800, "on_idle": "suspend"})
        );
        assert_eq!(body.metadata.expect("metadata")["team"], "ml");
        assert_eq!(
            d.summary(),
            "Starts “api” from the default image on LARGE arm64; suspends after 30 min idle, and shows it booting in Devboxes."
        );
    }

    #[test]
    fn the_summary_names_the_blueprint_build_it_will_use() {
        let mut d = plain(Source::BlueprintName("node-20".into()));
        d.name = String::new();
        d.idle = IdleAction::Shutdown(7200);
        assert_eq!(
            d.summary(),
            "Starts an unnamed devbox from the latest successful build of blueprint “node-20” on SMALL x86_64; shuts down after 2 h idle, and shows it booting in Devboxes."
        );
    }

    #[test]
    fn an_idle_choice_reads_minutes_and_rides_alone_in_launch_parameters() {
        assert_eq!(
            IdleAction::from_choice("suspend", " 30 "),
            IdleAction::Suspend(1800)
        );
        assert_eq!(
            IdleAction::from_choice("shutdown", "2"),
            IdleAction::Shutdown(120)
        );
        assert_eq!(IdleAction::from_choice("suspend", "0"), IdleAction::None);
        assert_eq!(IdleAction::from_choice("suspend", "soon"), IdleAction::None);
        assert_eq!(IdleAction::from_choice("none", "30"), IdleAction::None);
        assert_eq!(IdleAction::None.launch_parameters(), None);
        let lp = IdleAction::Shutdown(600)
            .launch_parameters()
            .expect("an idle action is a launch parameter");
        assert_eq!(
            lp.extra["after_idle"],
            serde_json::json!({"idle_time_seconds": 600, "on_idle": "shutdown"})
        );
        // As a job carries it.
        let json = serde_json::to_value(IdleAction::Suspend(60)).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({"on_idle": "suspend", "idle_time_seconds": 60})
        );
        let back: IdleAction = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, IdleAction::Suspend(60));
        // Read back from a devbox's launch parameters (a retry launches the same).
        assert_eq!(IdleAction::of_launch(&lp), IdleAction::Shutdown(600));
        assert_eq!(
            IdleAction::of_launch(&LaunchParameters::default()),
            IdleAction::None
        );
    }
}
