//! Helpers for a real `snapdeck-api` client over any transport: in process
//! ([`snapdeck_server::jobs::Loopback`]) or the real binary on a socket.

use snapdeck_api::{Client, CreateDevbox, Devbox, DevboxStatus, Transport};

/// Creates a devbox from `create` and waits (up to 10 s) until it runs; the create's
/// answer.
pub async fn boot<T: Transport>(client: &Client<T>, create: &CreateDevbox) -> Devbox {
    let dbx = client.create_devbox(create).await.expect("create");
    let up = client
        .wait_for_status(&dbx.id, &[DevboxStatus::Running], Some(10.0))
        .await
        .expect("wait")
        .expect("running within the hold");
    assert_eq!(up.status, DevboxStatus::Running);
    dbx
}

/// [`boot`] of a devbox named `name`.
pub async fn boot_named<T: Transport>(client: &Client<T>, name: &str) -> Devbox {
    boot(
        client,
        &CreateDevbox {
            name: Some(name.into()),
            ..CreateDevbox::default()
        },
    )
    .await
}
