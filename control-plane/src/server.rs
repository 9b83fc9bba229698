//! `stepwise server`: the API, scheduler, timers and task dispatch in one
//! process on the embedded store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::Error;
use crate::arn::Scope;
use crate::engine::{Engine, workers};
use crate::store::sqlite::Sqlite;

/// Scheduler loops: each advances one execution at a time.
pub const SCHEDULER_LOOPS: usize = 4;
/// Loops performing the server's own integrations.
pub const INTEGRATION_LOOPS: usize = 2;
/// How long a shutdown waits for requests in flight (long polls included).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub scope: Scope,
    /// The endpoint for SQS and DynamoDB integrations; the SDK's own settings apply when unset.
    pub aws_endpoint: Option<String>,
    /// The endpoint for Lambda integrations (defaults to `aws_endpoint`).
    pub lambda_endpoint: Option<String>,
}

/// Opens the store and builds the engine on it.
pub async fn open(
    data_dir: &std::path::Path,
    scope: Scope,
    aws_endpoint: Option<String>,
    lambda_endpoint: Option<String>,
) -> Result<(Sqlite, Arc<Engine>), Error> {
    std::fs::create_dir_all(data_dir)?;
    let store = Sqlite::open(&data_dir.join("stepwise.db"))?;
    // One process owns the file: messages hidden by a previous (crashed)
    // process are visible again at once, so timers keep their deadlines.
    store.reset_visibility().await?;
    let aws = crate::engine::aws::AwsClients::new(aws_endpoint, lambda_endpoint, &scope).await;
    let mut engine = Engine::new(Arc::new(store.clone()), Arc::new(store.clone()), scope);
    engine.aws = Some(aws);
    let engine = Arc::new(engine);
    Ok((store, engine))
}

/// Starts the background loops; they end when `stop` turns true.
pub fn spawn_workers(engine: &Arc<Engine>, stop: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    let mut handles = Vec::new();
    for _ in 0..SCHEDULER_LOOPS {
        handles.push(tokio::spawn(workers::scheduler(engine.clone(), stop.clone())));
    }
    for _ in 0..INTEGRATION_LOOPS {
        handles.push(tokio::spawn(workers::integrations(engine.clone(), stop.clone())));
    }
    handles.push(tokio::spawn(workers::sweeper(engine.clone(), stop.clone())));
    handles
}

pub async fn serve(opts: Options) -> Result<(), Error> {
    let (_store, engine) =
        open(&opts.data_dir, opts.scope.clone(), opts.aws_endpoint.clone(), opts.lambda_endpoint.clone()).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let handles = spawn_workers(&engine, &stop_rx);
    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    tracing::info!(listen = %listener.local_addr()?, data_dir = %opts.data_dir.display(), "stepwise server ready");
    let (sig_tx, mut sig_rx) = watch::channel(false);
    let server = axum::serve(listener, crate::api::http::router(engine.clone())).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = sig_tx.send(true);
    });
    let grace = async move {
        let _ = sig_rx.wait_for(|s| *s).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        r = server => r?,
        _ = grace => tracing::warn!("requests still in flight after the grace period; closing anyway"),
    }
    let _ = stop_tx.send(true);
    for h in handles {
        let _ = tokio::time::timeout(Duration::from_secs(5), h).await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
