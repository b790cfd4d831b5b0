//! Toasts: short-lived notes top-right. Never the only record of an outcome (the
//! operations tray and the page keep that).

use std::time::Duration;

use leptos::prelude::*;

pub use crate::tone::Tone;

/// One toast.
#[derive(Debug, Clone)]
pub struct Toast {
    pub id: u64,
    pub tone: Tone,
    pub text: String,
    /// A button on the toast (Undo), if any; pressing it closes the toast.
    pub action: Option<ToastAction>,
}

/// A toast's button, as data: a toast outlives whatever component pushed it (a dialog
/// that closed), so it names what to do rather than holding a callback owned by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastAction {
    /// Undo the bulk run of this key while it is in its undo window.
    UndoRun(&'static str),
}

impl ToastAction {
    /// The button's text.
    pub fn label(self) -> &'static str {
        match self {
            ToastAction::UndoRun(_) => "Undo",
        }
    }
}

/// The toast list.
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    fn new() -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
            next: StoredValue::new(1),
        }
    }

    /// Shows a toast for a few seconds (errors stay longer).
    pub fn push(&self, tone: Tone, text: impl Into<String>) {
        let ms = if tone == Tone::Err { 8000 } else { 4000 };
        self.show(tone, text.into(), None, ms);
    }

    /// Shows a toast with a button for `ms` (the button's offer lasts as long).
    pub fn push_action(&self, tone: Tone, text: impl Into<String>, action: ToastAction, ms: u64) {
        self.show(tone, text.into(), Some(action), ms);
    }

    fn show(&self, tone: Tone, text: String, action: Option<ToastAction>, ms: u64) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|l| {
            l.push(Toast {
                id,
                tone,
                text,
                action,
            });
            // Keep the stack short (a toast with a button stays while its offer does).
            while l.len() > 3 {
                match l.iter().position(|t| t.action.is_none()) {
                    Some(n) => l.remove(n),
                    None => l.remove(0),
                };
            }
        });
        let list = self.list;
        set_timeout(
            move || {
                if !list.is_disposed() {
                    list.update(|l| l.retain(|t| t.id != id));
                }
            },
            Duration::from_millis(ms),
        );
    }

    /// Closes a toast now.
    pub fn dismiss(&self, id: u64) {
        self.list.update(|l| l.retain(|t| t.id != id));
    }

    /// The current toasts.
    pub fn list(&self) -> Signal<Vec<Toast>> {
        self.list.into()
    }
}

/// Installs the toast list (app root).
pub fn provide_toasts() -> Toasts {
    let t = Toasts::new();
    provide_context(t);
    t
}

/// The toast list from context.
pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}
