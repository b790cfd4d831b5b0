//! Reusable pieces. Each is a noun with a doc comment; pages compose them.

pub mod chips;
pub mod icon;
pub mod id_cell;
pub mod pager;
pub mod rel_time;
pub mod states;
pub mod status_badge;
pub mod toasts;
pub mod top_bar;

pub use chips::{Chip, Chips};
pub use icon::{Icon, IconKind};
pub use id_cell::IdCell;
pub use pager::Pager;
pub use rel_time::RelTime;
pub use states::{EmptyState, ErrorState, SkeletonRows};
pub use status_badge::{SnapshotBadge, StatusBadge};
pub use toasts::ToastStack;
pub use top_bar::TopBar;
