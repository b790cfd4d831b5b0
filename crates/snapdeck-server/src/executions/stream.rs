//! The stdout/stderr server-sent event streams of an execution.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde_json::json;

use super::ExecIds;
use crate::error::{Error, Params, Result};
use crate::state::AppState;

#[derive(Clone, Copy)]
enum Which {
    Stdout,
    Stderr,
}

pub(super) async fn stream_stdout(
    State(state): State<AppState>,
    ids: ExecIds,
    params: Params,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    stream(state, ids, params, Which::Stdout)
}

pub(super) async fn stream_stderr(
    State(state): State<AppState>,
    ids: ExecIds,
    params: Params,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    stream(state, ids, params, Which::Stderr)
}

/// `GET …/stream_{stdout,stderr}_updates?offset=N`: server-sent events
/// `{"output": "…", "offset": M}` with the stream's text from byte `N` on, as it is
/// written, until the command ends. `offset` is where the chunk ends, so a reconnect
/// with it resumes without repeating anything.
fn stream(
    state: AppState,
    ids: ExecIds,
    params: Params,
    which: Which,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let offset: usize = match params.non_empty("offset") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| Error::BadRequest(format!("offset must be a byte offset, got {v:?}")))?,
    };
    // 404 before the stream starts, as a JSON error.
    state.with(|s, _| s.execution(&ids.devbox_id, &ids.execution_id))?;
    let changes = state.subscribe();
    let runs = state.runs().subscribe();
    let init = (state, ids, offset, changes, runs);
    let events = futures::stream::unfold(
        init,
        move |(state, ids, mut offset, mut changes, mut runs)| async move {
            loop {
                changes.borrow_and_update();
                runs.borrow_and_update();
                let rec = state
                    .with(|s, _| s.execution(&ids.devbox_id, &ids.execution_id))
                    .ok()?;
                let done = rec.is_done();
                let text = if done {
                    match which {
                        Which::Stdout => rec.stdout.clone(),
                        Which::Stderr => rec.stderr.clone(),
                    }
                } else {
                    let (out, err) = state.runs().output(&rec.id).unwrap_or_default();
                    match which {
                        Which::Stdout => out,
                        Which::Stderr => err,
                    }
                };
                if text.len() > offset {
                    let chunk = String::from_utf8_lossy(&text.as_bytes()[offset..]).into_owned();
                    offset = text.len();
                    let event = Event::default()
                        .json_data(json!({"output": chunk, "offset": offset}))
                        .unwrap_or_default();
                    return Some((Ok(event), (state, ids, offset, changes, runs)));
                }
                if done {
                    return None;
                }
                tokio::select! {
                    _ = changes.changed() => {}
                    _ = runs.changed() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
