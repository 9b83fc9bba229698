//! `stepwise`: validate and run Amazon States Language definitions.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use state_language::Status;
use stepwise_control_plane::local;

#[derive(Parser)]
#[command(name = "stepwise", version, about = "AWS Step Functions that you run yourself")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate definitions; exits non-zero when any has an error.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print AWS ValidateStateMachineDefinition-shaped JSON, one object per file.
        #[arg(long)]
        json: bool,
        /// Validate as an EXPRESS state machine.
        #[arg(long)]
        express: bool,
    },
    /// Run a definition in-process to completion.
    Run {
        file: PathBuf,
        /// The execution input: JSON text, or @path to read it from a file.
        #[arg(long, default_value = "{}")]
        input: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// Also print the event history.
        #[arg(long)]
        history: bool,
        /// Fire Wait timers and retry backoffs at once instead of in real time.
        #[arg(long)]
        no_wait: bool,
        /// The execution name.
        #[arg(long, default_value = "local")]
        name: String,
    },
    /// Load-test a fresh embedded server through the API and print a JSON report.
    Bench {
        #[arg(long, default_value_t = 20_000)]
        executions: usize,
        /// Client connections, each running one execution at a time.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Scratch data dir (deleted first).
        #[arg(long, default_value = "./.stepwise-bench")]
        data_dir: PathBuf,
    },
    /// Serve the AWS Step Functions API on an embedded store.
    Server(Box<ServerArgs>),
}

#[derive(clap::Args)]
struct ServerArgs {
    /// Address to listen on (8083 is Step Functions Local's port).
    #[arg(long, default_value = "127.0.0.1:8083")]
    listen: std::net::SocketAddr,
    /// Where the database lives.
    #[arg(long, default_value = "./.stepwise")]
    data_dir: PathBuf,
    /// Log filter (tracing's EnvFilter syntax); RUST_LOG wins when set.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
    /// The region ARNs name.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// The account ARNs name.
    #[arg(long, default_value = "123456789012")]
    account_id: String,
    /// Endpoint for the SQS and DynamoDB task integrations (e.g. LocalStack);
    /// otherwise the AWS SDK's settings apply (AWS_ENDPOINT_URL, region, credentials).
    #[arg(long)]
    aws_endpoint: Option<String>,
    /// Endpoint for Lambda task integrations (defaults to --aws-endpoint).
    #[arg(long)]
    lambda_endpoint: Option<String>,
    /// Keep executions in a DynamoDB table (with SQS queues) instead of the
    /// embedded store; the table has string keys `pk` and `sk`.
    #[arg(long)]
    dynamodb_table: Option<String>,
    /// Prefix of the SQS queue names the AWS backend uses.
    #[arg(long, default_value = "stepwise-")]
    queue_prefix: String,
    /// With --dynamodb-table: the S3 bucket that holds payloads of 64 KiB and
    /// more (the claim check); without it they are split over DynamoDB items.
    #[arg(long, requires = "dynamodb_table")]
    payload_bucket: Option<String>,
    /// With --dynamodb-table: days a closed execution is kept before the
    /// table's TTL (attribute `expires_at`) deletes it.
    #[arg(long, default_value_t = stepwise_control_plane::engine::RETENTION_DAYS_DEFAULT,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    retention_days: i64,
    /// How requests are authenticated: `none`, or `sigv4`, where every request
    /// must be signed (AWS Signature Version 4, service `states`, this region)
    /// with a key pair of STEPWISE_CREDENTIALS=AKID:SECRET[,AKID:SECRET...].
    #[arg(long, env = "STEPWISE_AUTH", default_value = "none", value_parser = ["none", "sigv4"])]
    auth: String,
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stepwise: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Validate { files, json, express } => validate(&files, json, express),
        Command::Run { file, input, json, history, no_wait, name } => run(&file, &input, json, history, no_wait, &name),
        Command::Bench { executions, concurrency, data_dir } => {
            let server_binary = std::env::current_exe()?;
            let opts = stepwise_control_plane::bench::Options { executions, concurrency, data_dir, server_binary };
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let report = rt.block_on(stepwise_control_plane::bench::run(opts))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Server(args) => {
            let ServerArgs {
                listen,
                data_dir,
                log_level,
                log_json,
                region,
                account_id,
                aws_endpoint,
                lambda_endpoint,
                dynamodb_table,
                queue_prefix,
                payload_bucket,
                retention_days,
                auth,
            } = *args;
            use stepwise_control_plane::server::Backend;
            let backend = match dynamodb_table {
                Some(table) => Backend::Aws { table, queue_prefix, payload_bucket, retention_days },
                None => Backend::Embedded { data_dir },
            };
            let credentials = std::env::var("STEPWISE_CREDENTIALS").ok();
            let auth = stepwise_control_plane::api::auth::Auth::parse(&auth, credentials.as_deref(), &region)?;
            let scope = stepwise_control_plane::arn::Scope { region, account: account_id };
            let engine =
                stepwise_control_plane::server::EngineConfig { backend, scope, aws_endpoint, lambda_endpoint, auth };
            let opts = stepwise_control_plane::server::Options { listen, engine };
            server(opts, &log_level, log_json)
        }
    }
}

fn validate(files: &[PathBuf], as_json: bool, express: bool) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for file in files {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let report = state_language::validate_text(&text, state_language::Options { express });
        failed |= !report.is_ok();
        if as_json {
            let out = json!({
                "file": file.display().to_string(),
                "result": if report.is_ok() { "OK" } else { "FAIL" },
                "diagnostics": report.diagnostics,
                "truncated": false,
            });
            println!("{out}");
        } else if report.diagnostics.is_empty() {
            println!("{}: OK", file.display());
        } else {
            let verdict = if report.is_ok() { "OK" } else { "FAIL" };
            println!("{}: {verdict}", file.display());
            for line in local::render_diagnostics(&report).lines() {
                println!("  {line}");
            }
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn run(
    file: &PathBuf,
    input: &str,
    as_json: bool,
    history: bool,
    no_wait: bool,
    name: &str,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let input_text = match input.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read input file {path}"))?,
        None => input.to_string(),
    };
    let input: Value = serde_json::from_str(&input_text).context("--input is not valid JSON")?;
    let outcome = local::run(&text, input, name, !no_wait)?;
    let status = serde_json::to_value(outcome.status)?;
    if as_json {
        let mut out = json!({ "status": status });
        if let Some(o) = &outcome.output {
            out["output"] = o.clone();
        }
        if let Some(e) = &outcome.error {
            out["error"] = json!(e);
        }
        if let Some(c) = &outcome.cause {
            out["cause"] = json!(c);
        }
        if history {
            out["history"] = serde_json::to_value(&outcome.history)?;
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if history {
            for e in &outcome.history {
                println!("{:>4} {:?} {}", e.id, e.event_type, serde_json::to_string(&e.details)?);
            }
        }
        println!("Status: {}", status.as_str().unwrap_or_default());
        if let Some(o) = &outcome.output {
            println!("Output: {}", serde_json::to_string_pretty(o)?);
        }
        if let Some(e) = &outcome.error {
            println!("Error: {e}");
        }
        if let Some(c) = &outcome.cause {
            println!("Cause: {c}");
        }
    }
    Ok(if outcome.status == Status::Succeeded { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn server(opts: stepwise_control_plane::server::Options, log_level: &str, log_json: bool) -> anyhow::Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(log_level))
        .context("--log-level is not a valid filter")?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(stepwise_control_plane::server::serve(opts))?;
    Ok(ExitCode::SUCCESS)
}
