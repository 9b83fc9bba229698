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
use crate::store::{Queue, Store};

/// Scheduler loops: each advances one execution at a time.
pub const SCHEDULER_LOOPS: usize = 4;
/// Loops performing the server's own integrations.
pub const INTEGRATION_LOOPS: usize = 2;
/// How long a shutdown waits for requests in flight (long polls included).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub engine: EngineConfig,
    /// Timeouts and the connection limit of the HTTP listener.
    pub http: crate::listener::Limits,
}

/// What an engine needs, wherever it runs (this server or a Lambda).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub backend: Backend,
    pub scope: Scope,
    /// The endpoint for SQS and DynamoDB integrations; the SDK's own settings apply when unset.
    pub aws_endpoint: Option<String>,
    /// The endpoint for Lambda integrations (defaults to `aws_endpoint`).
    pub lambda_endpoint: Option<String>,
    /// How API requests are authenticated.
    pub auth: crate::auth::Auth,
    /// Evaluations at once (default: one per core) and how many may wait.
    pub eval_threads: Option<usize>,
    pub eval_queue_max: usize,
    /// A Map Run's child executions at once (`Engine::map_children_running_max`).
    pub map_children_running_max: u64,
}

/// Where executions live.
#[derive(Debug, Clone)]
pub enum Backend {
    /// SQLite in this directory.
    Embedded { data_dir: PathBuf },
    /// A DynamoDB table and SQS queues named `<queue_prefix><queue>`; big
    /// bodies go to `payload_bucket` in S3 when it is set (the claim check);
    /// the table's TTL deletes closed executions after `retention_days`.
    Aws { table: String, queue_prefix: String, payload_bucket: Option<String>, retention_days: i64 },
}

/// Opens the backend and builds the engine on it.
pub async fn open(opts: &EngineConfig) -> Result<Arc<Engine>, Error> {
    open_with(opts, Arc::default()).await
}

/// [`open`], with this process's telemetry (the server's serves /metrics).
pub async fn open_with(opts: &EngineConfig, telemetry: Arc<crate::telemetry::Telemetry>) -> Result<Arc<Engine>, Error> {
    let mut lock = None;
    let (store, queue): (Arc<dyn Store>, Arc<dyn Queue>) = match &opts.backend {
        Backend::Embedded { data_dir } => {
            std::fs::create_dir_all(data_dir).map_err(|e| {
                Error::Config(format!(
                    "cannot create the data dir {}: {e}; choose another with --data-dir",
                    data_dir.display()
                ))
            })?;
            lock = Some(lock_data_dir(data_dir)?);
            let s = Sqlite::open(&data_dir.join("stepwise.db"))?;
            // One process owns the file: messages hidden by a previous (crashed)
            // process are visible again at once, so timers keep their deadlines.
            s.reset_visibility().await?;
            (Arc::new(s.clone()), Arc::new(s))
        }
        Backend::Aws { table, queue_prefix, payload_bucket, .. } => {
            let conf = crate::engine::aws::sdk_config(opts.aws_endpoint.clone(), &opts.scope.region).await;
            let a = crate::store::aws::Aws::new(&conf, table.clone(), queue_prefix.clone(), payload_bucket.clone());
            let a = Arc::new(a);
            (a.clone(), a)
        }
    };
    let aws =
        crate::engine::aws::AwsClients::new(opts.aws_endpoint.clone(), opts.lambda_endpoint.clone(), &opts.scope).await;
    let mut engine = Engine::new(store, queue, opts.scope.clone());
    engine.aws = Some(aws);
    engine.auth = opts.auth.clone();
    if let Some(grace) = std::env::var("STEPWISE_OUTBOX_GRACE_MS").ok().and_then(|v| v.parse().ok()) {
        engine.outbox_grace_ms = grace;
    }
    engine.data_dir_lock = lock;
    engine.telemetry = telemetry;
    if let Backend::Embedded { data_dir } = &opts.backend {
        engine.data_dir = Some(data_dir.clone());
        // Queues per worker cost nothing here; in SQS each would be a queue of its own.
        engine.sticky_wait_ms = crate::engine::STICKY_WAIT_MS_DEFAULT;
    }
    if let Some(threads) = opts.eval_threads {
        engine.compute = crate::engine::compute::Compute::new(threads, opts.eval_queue_max);
    } else {
        engine.compute = crate::engine::compute::Compute::for_this_machine_with_queue(opts.eval_queue_max);
    }
    if let Backend::Aws { retention_days, .. } = &opts.backend {
        engine.retention_days = *retention_days;
    }
    engine.map_children_running_max = opts.map_children_running_max;
    Ok(Arc::new(engine))
}

/// The file whose OS lock says which process serves a data dir.
const LOCK_FILE: &str = "stepwise.lock";

/// Takes the data dir for this process, or says which process holds it.
/// Why a lock: received queue messages are hidden only in the memory of the
/// process that received them, so two servers on one store would hand out
/// the same task. The OS releases the lock when the process ends, crash included.
fn lock_data_dir(data_dir: &std::path::Path) -> Result<std::fs::File, Error> {
    use std::io::{Read, Seek, Write};
    let path = data_dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            writeln!(file, "{}", std::process::id())?;
            file.flush()?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() { "another process".to_string() } else { format!("process {holder}") };
            Err(Error::Config(format!(
                "the data dir {} is in use by {who} (lock {}); stop that server or choose another --data-dir",
                data_dir.display(),
                path.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
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
    let telemetry = Arc::new(crate::telemetry::Telemetry::prometheus()?);
    let engine = open_with(&opts.engine, telemetry.clone()).await?;
    let traces = TraceExporter::install(&engine)?;
    let tracer = traces.clone().map(|t| {
        let engine = engine.clone();
        tokio::spawn(async move { t.run(&engine).await })
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let handles = spawn_workers(&engine, &stop_rx);
    let listener = tokio::net::TcpListener::bind(opts.listen).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => "; another process listens there: stop it, or choose another address with --listen (for example --listen 127.0.0.1:8084)",
            std::io::ErrorKind::PermissionDenied => "; ports below 1024 need privileges: choose another with --listen",
            _ => "",
        };
        Error::Config(format!("cannot listen on {}: {e}{hint}", opts.listen))
    })?;
    let local = listener.local_addr()?;
    tracing::info!(
        backend = ?opts.engine.backend, auth = ?opts.engine.auth, limits = ?opts.http,
        eval_threads = engine.compute.threads(), "configuration"
    );
    telemetry.set_ready(true);
    tracing::info!(listen = %local, "stepwise server ready");
    crate::banner::print(local, &opts.engine);
    let router = crate::api::http::router(engine.clone(), &opts.http);
    let shutdown = async {
        shutdown_signal().await;
        // Load balancers see /readyz fail at once and send no new work.
        telemetry.set_ready(false);
        tracing::info!(
            grace_s = SHUTDOWN_GRACE.as_secs(),
            "shutting down: no new connections; requests in flight may finish"
        );
    };
    crate::listener::serve(listener, router, opts.http, shutdown, SHUTDOWN_GRACE, telemetry.clone()).await;
    let _ = stop_tx.send(true);
    for h in handles {
        let _ = tokio::time::timeout(Duration::from_secs(5), h).await;
    }
    if let (Some(task), Some(t)) = (tracer, traces) {
        task.abort();
        // The exporter's shutdown sends what is buffered.
        t.shutdown().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Builds the trace of each execution that closes, from its history: the
/// server runs it as a task; a Lambda drains it before each invocation returns.
/// A failure to read one is logged and that trace skipped: traces never hold up executions.
pub struct TraceExporter {
    traces: crate::telemetry::traces::Traces,
    closed: tokio::sync::Mutex<tokio::sync::mpsc::Receiver<String>>,
}

impl TraceExporter {
    /// The exporter the environment asks for (`OTEL_*`), wired to the engine's closes.
    pub fn install(engine: &Engine) -> Result<Option<Arc<TraceExporter>>, Error> {
        let Some(traces) = crate::telemetry::traces::Traces::from_env(|k| std::env::var(k).ok())? else {
            return Ok(None);
        };
        let (tx, rx) = tokio::sync::mpsc::channel(crate::telemetry::traces::CLOSED_QUEUE_MAX);
        if engine.closed_for_traces.set(tx).is_err() {
            return Err(Error::Config("traces were set up twice for one engine".into()));
        }
        Ok(Some(Arc::new(TraceExporter { traces, closed: tokio::sync::Mutex::new(rx) })))
    }

    /// Exports every close as it comes, until the engine is dropped.
    pub async fn run(&self, engine: &Engine) {
        while let Some(arn) = self.closed.lock().await.recv().await {
            self.export(engine, &arn).await;
        }
    }

    /// Exports the closes waiting now, and sends them before returning.
    pub async fn drain(self: &Arc<Self>, engine: &Engine) {
        loop {
            let next = self.closed.lock().await.try_recv();
            let Ok(arn) = next else { break };
            self.export(engine, &arn).await;
        }
        let me = self.clone();
        let _ = tokio::task::spawn_blocking(move || me.traces.flush()).await;
    }

    pub async fn shutdown(self: Arc<Self>) {
        let _ = tokio::task::spawn_blocking(move || self.traces.shutdown()).await;
    }

    async fn export(&self, engine: &Engine, arn: &str) {
        let rec = match engine.execution(arn).await {
            Ok(Some((rec, _))) => rec,
            Ok(None) => return,
            Err(e) => return tracing::warn!(execution = %arn, error = %e, "no trace: the record could not be read"),
        };
        match engine.history_events(arn, 1, rec.last_event_id()).await {
            Ok(events) => self.traces.export(&rec, &events),
            Err(e) => tracing::warn!(execution = %arn, error = %e, "no trace: the history could not be read"),
        }
    }
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
