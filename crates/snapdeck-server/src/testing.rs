//! In-process test transport (filled in once the snapdeck-api client lands).
