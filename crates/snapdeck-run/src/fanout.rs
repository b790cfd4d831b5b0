//! The one launcher of a fan-out's children, for the tab (direct mode) and the server's
//! fan-out jobs alike. Each child's step is idempotent, so a launch cut short (a reload,
//! a server restart) is simply run again: create the child unless the batch already has
//! one with its label, wait until it runs, write its task file unless the file already
//! holds that text. At most `cap` children are in flight at once. A failed listing is
//! never read as "no child exists yet" (that would start every child a second time).

use std::time::Duration;

use futures::StreamExt;
use futures::TryStreamExt;
use futures::stream;
use snapdeck_api::endpoints::ListDevboxes;
use snapdeck_api::{ApiError, Client, CreateDevbox, Devbox, DevboxStatus, Transport};
use snapdeck_core::fanout::{ChildNote, ChildSpec, newest_with_label};
use snapdeck_core::jobs::FanoutSpec;

/// Statuses that end the wait for a child to come up.
const SETTLED: [DevboxStatus; 4] = [
    DevboxStatus::Running,
    DevboxStatus::Failure,
    DevboxStatus::Shutdown,
    DevboxStatus::Suspended,
];
/// Long polls per child before giving up (each holds up to 20 s).
const MAX_WAITS: u32 = 60;
/// Listing attempts before the launch gives up for now.
const LIST_ATTEMPTS: u32 = 4;

/// Launches (or resumes) every child of `spec`; `note` hears each step of each child
/// (label, note). Returns the listing error when the batch could not be listed at all
/// (nothing was created then).
pub async fn launch<T: Transport>(
    client: &Client<T>,
    spec: &FanoutSpec,
    note: &dyn Fn(&str, ChildNote),
) -> Result<(), ApiError> {
    let listed = if spec.fresh {
        Vec::new()
    } else {
        list_with_retries(client).await?
    };
    let steps = spec.children.iter().map(|child| {
        let existing = (!spec.fresh)
            .then(|| newest_with_label(&listed, &spec.batch_id, &child.label).cloned())
            .flatten();
        async move {
            let _ = ensure_child(client, spec, child, existing, note).await;
        }
    });
    stream::iter(steps)
        .buffer_unordered(spec.cap.max(1))
        .collect::<Vec<()>>()
        .await;
    Ok(())
}

async fn list_with_retries<T: Transport>(client: &Client<T>) -> Result<Vec<Devbox>, ApiError> {
    let mut attempt = 0;
    loop {
        let r = client
            .devboxes(ListDevboxes {
                limit: Some(100),
                ..ListDevboxes::default()
            })
            .try_collect()
            .await;
        match r {
            Ok(list) => return Ok(list),
            Err(e) if attempt + 1 >= LIST_ATTEMPTS || !retryable(&e) => return Err(e),
            Err(_) => {
                client
                    .transport()
                    .sleep(Duration::from_millis(500 << attempt))
                    .await;
                attempt += 1;
            }
        }
    }
}

fn retryable(e: &ApiError) -> bool {
    !matches!(e.status(), Some(400..=499))
}

/// One child: create it (unless `existing`), wait until it runs, write its task.
/// `note` hears every step; the child's devbox at the end, if one exists.
pub async fn ensure_child<T: Transport>(
    client: &Client<T>,
    spec: &FanoutSpec,
    child: &ChildSpec,
    existing: Option<Devbox>,
    note: &dyn Fn(&str, ChildNote),
) -> Result<Devbox, ApiError> {
    let label = child.label.as_str();
    let fail = |e: &ApiError| note(label, ChildNote::Failed(message(e)));
    let devbox = match existing {
        Some(d) => d,
        None => {
            note(label, ChildNote::Creating);
            let body = CreateDevbox {
                name: Some(child.name.clone()),
                metadata: Some(child.metadata.clone()),
                snapshot_id: Some(spec.snapshot_id.clone()),
                launch_parameters: spec.idle.launch_parameters(),
                ..CreateDevbox::default()
            };
            client.create_devbox(&body).await.inspect_err(fail)?
        }
    };
    note(label, ChildNote::Booting(devbox.id.clone()));
    let mut now = devbox;
    let mut waits = 0;
    while !SETTLED.contains(&now.status) && waits < MAX_WAITS {
        waits += 1;
        match client.wait_for_status(&now.id, &SETTLED, Some(20.0)).await {
            Ok(Some(d)) => now = d,
            Ok(None) => {}
            Err(e) if e.is_not_found() => return Err(e).inspect_err(fail),
            Err(_) => client.transport().sleep(Duration::from_secs(1)).await,
        }
    }
    if now.status != DevboxStatus::Running {
        let why = match now.status {
            DevboxStatus::Failure => "it failed to boot".to_owned(),
            s if SETTLED.contains(&s) => format!("it is {s}"),
            s => format!("it was still {s} after {MAX_WAITS} waits"),
        };
        note(label, ChildNote::Failed(format!("Not running: {why}.")));
        return Ok(now);
    }
    match &child.task {
        None => note(label, ChildNote::Running),
        Some((path, text)) => {
            let already = client.read_file_contents(&now.id, path).await.ok();
            if already.as_deref() != Some(text.as_str()) {
                note(label, ChildNote::WritingTask(path.clone()));
                client
                    .write_file_contents(&now.id, path, text)
                    .await
                    .inspect_err(fail)?;
            }
            note(label, ChildNote::TaskWritten(path.clone()));
        }
    }
    Ok(now)
}

fn message(e: &ApiError) -> String {
    match e {
        ApiError::Api { message, .. } if !message.is_empty() => message.clone(),
        other => other.to_string(),
    }
}
