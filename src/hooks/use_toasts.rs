//! Toasts: short-lived notes top-right. Never the only record of an outcome (the
//! operations tray and the page keep that).

use std::time::Duration;

use leptos::prelude::*;

/// Tone of a toast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Ok,
    Info,
    Err,
}

impl Tone {
    /// CSS modifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Ok => "ok",
            Tone::Info => "info",
            Tone::Err => "err",
        }
    }
}

/// One toast.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub tone: Tone,
    pub text: String,
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
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|l| {
            l.push(Toast {
                id,
                tone,
                text: text.into(),
            });
            // Keep the stack short.
            if l.len() > 3 {
                l.remove(0);
            }
        });
        let list = self.list;
        let ms = if tone == Tone::Err { 8000 } else { 4000 };
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
