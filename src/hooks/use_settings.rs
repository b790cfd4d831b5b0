//! Settings: API base URL, API key and theme.
//!
//! The key lives in sessionStorage (gone with the tab) unless the person ticks
//! "remember on this device", which moves it to localStorage. The rest is in
//! localStorage as one JSON object.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::storage::{self, Area};

const SETTINGS_KEY: &str = "snapdeck.settings";
const API_KEY_KEY: &str = "snapdeck.api_key";

/// Colour theme choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    /// Value of the root's `data-theme` attribute (`None` = follow the system).
    pub fn attr(self) -> Option<&'static str> {
        match self {
            Theme::System => None,
            Theme::Light => Some("light"),
            Theme::Dark => Some("dark"),
        }
    }

    /// The next theme for the top bar's toggle.
    pub fn next(self) -> Self {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// Everything on the settings page except the key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Empty = same origin.
    pub base_url: String,
    pub theme: Theme,
    /// Keep the key in localStorage instead of sessionStorage.
    pub remember_key: bool,
}

impl Settings {
    /// Reads the stored settings (defaults when absent or unreadable).
    pub fn load() -> Self {
        storage::get_json(Area::Local, SETTINGS_KEY).unwrap_or_default()
    }

    fn save(&self) {
        storage::set_json(Area::Local, SETTINGS_KEY, self);
    }
}

/// Reads the key from whichever storage holds it (session first).
pub fn load_key() -> Option<String> {
    storage::get(Area::Session, API_KEY_KEY)
        .or_else(|| storage::get(Area::Local, API_KEY_KEY))
        .filter(|k| !k.is_empty())
}

/// Takes a proxy's access token from the address (`/?token=…`, the URL snapdeck-server
/// prints at start, as Jupyter does) into this tab's session, and out of the address
/// bar and the history, so it is neither bookmarked nor shared by accident. The token
/// is then sent like a key (`Authorization: Bearer`), which the proxy swaps for its own.
/// Returns whether a token was taken.
pub fn adopt_token_from_address() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(href) = window.location().href() else {
        return false;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return false;
    };
    let params = url.search_params();
    let Some(token) = params.get("token").filter(|t| !t.trim().is_empty()) else {
        return false;
    };
    storage::set(Area::Session, API_KEY_KEY, token.trim());
    params.delete("token");
    url.set_search(&params.to_string().as_string().unwrap_or_default());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
    }
    true
}

fn save_key(key: Option<&str>, remember: bool) {
    storage::remove(Area::Session, API_KEY_KEY);
    storage::remove(Area::Local, API_KEY_KEY);
    if let Some(k) = key.filter(|k| !k.is_empty()) {
        let area = if remember { Area::Local } else { Area::Session };
        storage::set(area, API_KEY_KEY, k);
    }
}

/// The settings as signals. The key is a separate signal so that changing the theme
/// does not make every resource that tracks the API config refetch.
#[derive(Debug, Clone, Copy)]
pub struct SettingsCtx {
    pub settings: RwSignal<Settings>,
    pub api_key: RwSignal<Option<String>>,
}

impl SettingsCtx {
    /// Loads from storage.
    pub fn load() -> Self {
        Self {
            settings: RwSignal::new(Settings::load()),
            api_key: RwSignal::new(load_key()),
        }
    }

    /// Stores and applies new settings and key.
    pub fn save(&self, settings: Settings, key: Option<String>) {
        settings.save();
        save_key(key.as_deref(), settings.remember_key);
        if self.settings.with_untracked(|s| *s != settings) {
            self.settings.set(settings);
        }
        if self.api_key.with_untracked(|k| *k != key) {
            self.api_key.set(key);
        }
    }

    /// Changes only the theme.
    pub fn set_theme(&self, theme: Theme) {
        self.settings.update(|s| s.theme = theme);
        self.settings.with_untracked(Settings::save);
    }
}

/// The settings from context.
pub fn use_settings() -> SettingsCtx {
    expect_context::<SettingsCtx>()
}
