//! The HTTP listener: accepts connections and serves the router on each,
//! with the bounds a server facing unknown clients needs. A client that has
//! not sent a whole request head in `header_timeout` (after connecting, or
//! after its previous response: the keep-alive idle timeout) is disconnected;
//! so is one whose body takes longer than `body_timeout` (the router answers
//! 408 first). Past `connections_max` open connections, new ones are closed
//! at once. Body bytes buffered at once across all requests are bounded
//! (`api::http::BODY_BYTES_IN_FLIGHT_MAX`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Defaults, documented in the README's flag list.
pub const HEADER_TIMEOUT_S_DEFAULT: u64 = 30;
pub const BODY_TIMEOUT_S_DEFAULT: u64 = 30;
/// Below the usual 1,024 open files a process may have, with room for the database and clients.
pub const CONNECTIONS_MAX_DEFAULT: usize = 512;
/// How long a failed accept (out of file descriptors) waits before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The listener's bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub connections_max: usize,
    /// One request body at most (at most `api::http::REQUEST_BYTES_MAX`).
    pub body_bytes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(HEADER_TIMEOUT_S_DEFAULT),
            body_timeout: Duration::from_secs(BODY_TIMEOUT_S_DEFAULT),
            connections_max: CONNECTIONS_MAX_DEFAULT,
            body_bytes_max: crate::api::http::REQUEST_BYTES_MAX,
        }
    }
}

/// Serves `router` until `shutdown` resolves, then lets requests in flight
/// finish for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
    telemetry: Arc<crate::telemetry::Telemetry>,
) {
    let connections = Arc::new(Semaphore::new(limits.connections_max));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(limit = limits.connections_max, "connection limit reached; a new connection was closed");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        let telemetry = telemetry.clone();
        telemetry.connection(1);
        tokio::spawn(async move {
            let _ = connection.await;
            telemetry.connection(-1);
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!(connections = graceful.count(), "draining requests in flight");
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after the grace period; closing anyway");
    }
}
