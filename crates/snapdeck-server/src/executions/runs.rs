//! [`Runs`]: the live side of the commands running now — output so far, kill switches,
//! stdin, named shells. Shared by the handlers and the command tasks through the
//! state's `runs()`; it knows nothing of the state that holds it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bashkit::ShellState;
use tokio::sync::watch;

/// A command while it runs: output so far, kill switch, stdin.
struct Live {
    stdout: String,
    stderr: String,
    cancel: Arc<AtomicBool>,
    /// With `attach_stdin`: what was sent so far, and whether EOF came (the command
    /// starts then, with all of it as its stdin).
    stdin: Option<(String, bool)>,
}

/// One named shell of one devbox: its commands queue on the lock and pass the state on.
type NamedShell = Arc<tokio::sync::Mutex<Option<ShellState>>>;

#[derive(Default)]
struct RunsInner {
    live: HashMap<String, Live>,
    shells: HashMap<(String, String), NamedShell>,
}

/// The commands running now, shared by the handlers and the command tasks.
pub struct Runs {
    inner: Mutex<RunsInner>,
    /// Bumped on new output, stdin and every end, so streams and waits wake.
    changes: watch::Sender<u64>,
}

impl Default for Runs {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            changes: watch::channel(0).0,
        }
    }
}

impl Runs {
    fn lock(&self) -> std::sync::MutexGuard<'_, RunsInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver that wakes on new output, stdin and every end.
    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn bump(&self) {
        self.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(super) fn register(&self, id: &str, attach_stdin: bool) -> Arc<AtomicBool> {
        let cancel = Arc::new(AtomicBool::new(false));
        self.lock().live.insert(
            id.to_owned(),
            Live {
                stdout: String::new(),
                stderr: String::new(),
                cancel: cancel.clone(),
                stdin: attach_stdin.then(|| (String::new(), false)),
            },
        );
        cancel
    }

    pub(super) fn append(&self, id: &str, out: &str, err: &str) {
        if out.is_empty() && err.is_empty() {
            return;
        }
        if let Some(live) = self.lock().live.get_mut(id) {
            live.stdout.push_str(out);
            live.stderr.push_str(err);
        }
        self.bump();
    }

    pub(super) fn output(&self, id: &str) -> Option<(String, String)> {
        self.lock()
            .live
            .get(id)
            .map(|l| (l.stdout.clone(), l.stderr.clone()))
    }

    pub(super) fn finish(&self, id: &str) {
        self.lock().live.remove(id);
        self.bump();
    }

    /// Asks a running command to stop; false when it is not running here.
    pub fn kill(&self, id: &str) -> bool {
        let found = self.lock().live.get(id).map(|l| l.cancel.clone());
        if let Some(cancel) = &found {
            cancel.store(true, Ordering::Relaxed);
            self.bump();
        }
        found.is_some()
    }

    pub(super) fn shell(&self, devbox_id: &str, name: &str) -> NamedShell {
        self.lock()
            .shells
            .entry((devbox_id.to_owned(), name.to_owned()))
            .or_default()
            .clone()
    }

    /// Forgets a devbox's named shells (it is gone).
    pub fn forget_devbox(&self, devbox_id: &str) {
        self.lock().shells.retain(|(d, _), _| d != devbox_id);
    }

    /// Sends text or EOF to a command started with `attach_stdin`; false when it does
    /// not take stdin (any more).
    pub(super) fn send_stdin(&self, id: &str, text: Option<&str>, eof: bool) -> bool {
        let mut inner = self.lock();
        let Some((buffer, closed)) = inner.live.get_mut(id).and_then(|l| l.stdin.as_mut()) else {
            return false;
        };
        if *closed {
            return false;
        }
        if let Some(text) = text {
            buffer.push_str(text);
        }
        *closed |= eof;
        drop(inner);
        self.bump();
        true
    }

    /// The stdin once EOF came, or `None` if the command was killed first.
    pub(super) async fn stdin_at_eof(&self, id: &str, cancel: &AtomicBool) -> Option<String> {
        let mut changes = self.changes.subscribe();
        loop {
            changes.borrow_and_update();
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            if let Some((text, true)) = self.lock().live.get(id).and_then(|l| l.stdin.clone()) {
                return Some(text);
            }
            if changes.changed().await.is_err() {
                return None;
            }
        }
    }
}
