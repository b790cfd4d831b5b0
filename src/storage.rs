//! Web Storage helpers that never panic: a missing window, disabled storage or a
//! full quota only lose persistence, never the page.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Which Web Storage area to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Survives restarts of the browser.
    Local,
    /// Lives as long as the tab.
    Session,
}

fn area(area: Area) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    match area {
        Area::Local => window.local_storage().ok().flatten(),
        Area::Session => window.session_storage().ok().flatten(),
    }
}

/// Reads a string.
pub fn get(which: Area, key: &str) -> Option<String> {
    area(which)?.get_item(key).ok().flatten()
}

/// Writes a string (errors such as a full quota are ignored on purpose).
pub fn set(which: Area, key: &str, value: &str) {
    if let Some(s) = area(which) {
        let _ = s.set_item(key, value);
    }
}

/// Removes a key.
pub fn remove(which: Area, key: &str) {
    if let Some(s) = area(which) {
        let _ = s.remove_item(key);
    }
}

/// Reads and decodes JSON; anything unreadable counts as absent.
pub fn get_json<T: DeserializeOwned>(which: Area, key: &str) -> Option<T> {
    serde_json::from_str(&get(which, key)?).ok()
}

/// Encodes and writes JSON.
pub fn set_json<T: Serialize>(which: Area, key: &str, value: &T) {
    if let Ok(s) = serde_json::to_string(value) {
        set(which, key, &s);
    }
}
