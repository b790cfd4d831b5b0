//! Reusable pieces. Each is a noun with a doc comment; pages compose them.

pub mod bulk_panel;
pub mod chips;
pub mod devbox_options;
pub mod icon;
pub mod id_cell;
pub mod modal;
pub mod new_devbox_dialog;
pub mod ops_tray;
pub mod pager;
pub mod rel_time;
pub mod restore_dialog;
pub mod shortcuts;
pub mod snapshot_dialog;
pub mod sort_header;
pub mod states;
pub mod status_badge;
pub mod timeline;
pub mod toasts;
pub mod top_bar;

pub use chips::{Chip, Chips};
pub use devbox_options::devbox_options;
pub use icon::{Icon, IconKind};
pub use id_cell::IdCell;
pub use modal::{ConfirmDialog, Modal};
pub use new_devbox_dialog::{NewDevboxDialog, use_new_devbox_key};
pub use ops_tray::OpsTray;
pub use pager::Pager;
pub use rel_time::RelTime;
pub use restore_dialog::RestoreDialog;
pub use shortcuts::Shortcuts;
pub use snapshot_dialog::SnapshotDialog;
pub use states::{DevboxesUnavailable, EmptyState, ErrorState, LoadPhase, SkeletonRows};
pub use status_badge::{BlueprintBadge, SnapshotBadge, StatusBadge};
pub use timeline::Timeline;
pub use toasts::ToastStack;
pub use top_bar::TopBar;
