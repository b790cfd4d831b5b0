//! A small async semaphore: at most [`ROW_FETCHES`] per-row fetches (snapshot
//! statuses, counts) run at once, so a page of 50 rows does not fire 50 requests
//! together. Single-threaded (wasm), so a thread-local is the whole state.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;

use futures::channel::oneshot;

/// Concurrent per-row requests allowed.
pub const ROW_FETCHES: usize = 4;

struct Slots {
    active: Cell<usize>,
    waiters: RefCell<VecDeque<oneshot::Sender<()>>>,
}

thread_local! {
    static SLOTS: Slots = const {
        Slots {
            active: Cell::new(0),
            waiters: RefCell::new(VecDeque::new()),
        }
    };
}

/// Holds a slot; dropping it hands the slot to the next waiter.
struct Permit;

impl Drop for Permit {
    fn drop(&mut self) {
        SLOTS.with(|s| {
            // Hand the slot over directly; skip waiters that gave up.
            while let Some(tx) = s.waiters.borrow_mut().pop_front() {
                if tx.send(()).is_ok() {
                    return;
                }
            }
            s.active.set(s.active.get().saturating_sub(1));
        });
    }
}

async fn acquire() -> Permit {
    let rx = SLOTS.with(|s| {
        if s.active.get() < ROW_FETCHES {
            s.active.set(s.active.get() + 1);
            None
        } else {
            let (tx, rx) = oneshot::channel();
            s.waiters.borrow_mut().push_back(tx);
            Some(rx)
        }
    });
    if let Some(rx) = rx {
        // A dropped sender cannot happen (senders are only dropped after `send`), but
        // if it did, going ahead is safer than hanging.
        let _ = rx.await;
    }
    Permit
}

/// Runs `f` once a slot is free.
pub async fn limited<F: Future>(f: F) -> F::Output {
    let _permit = acquire().await;
    f.await
}
