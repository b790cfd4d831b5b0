//! The accept loop: HTTP/1.1 and cleartext HTTP/2 with prior knowledge (h2c) on the same
//! port, through hyper-util's auto builder. The TS SDK speaks h2c to `http://` origins by
//! default, the Python SDK and browsers HTTP/1.1.
//!
//! The dropped-connection fault lives here rather than in a middleware because only the
//! connection can be dropped: the service returns an error, and hyper closes the
//! connection (HTTP/1.1) or resets the stream (HTTP/2) without an answer.

use std::future::Future;

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::state::AppState;

/// The error that makes hyper drop a connection on purpose.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct DroppedConnection;

/// Serves `router` on `listener` until `shutdown` resolves. Connections still open then
/// are abandoned (long polls would otherwise hold the exit for up to 30 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        // Small JSON answers: do not let Nagle hold them back.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let drop = req.uri().path().starts_with("/v1/")
                    && state.request_faults().is_some_and(|f| f.drop_connection());
                let router = router.clone();
                async move {
                    if drop {
                        return Err(DroppedConnection);
                    }
                    router.oneshot(req).await.map_err(|never| match never {})
                }
            });
            if let Err(e) = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}
