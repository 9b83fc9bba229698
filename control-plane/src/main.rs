//! `stepwise`: validate and run Amazon States Language definitions.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use state_language::Status;
use stepwise_control_plane::{client_cli, local};

/// Prints a line to stdout. A closed stdout (`stepwise run … | head`) ends
/// the program quietly: the reader has all it wanted.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            return Err(e.into());
        }
    }};
}

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
        /// What the executions run.
        #[arg(long, value_enum, default_value = "map")]
        workload: stepwise_control_plane::bench::Workload,
        /// Activity workers (the activities workload), each long-polling on its own connection.
        #[arg(long, default_value_t = 16)]
        workers: usize,
        /// How a client waits for its execution to close.
        #[arg(long, value_enum, default_value = "await")]
        wait: stepwise_control_plane::bench::Wait,
    },
    /// Run seeded simulations of the engine under injected faults; the last
    /// line is `simulation: N seeds, V violations`, and it exits 0 only when V is 0.
    Simulate {
        /// How many seeds to run.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// The first seed.
        #[arg(long, default_value_t = 0)]
        start_seed: u64,
        /// Which machines the clients start: `mixed`, or one machine's name.
        #[arg(long, default_value = "mixed", value_parser = clap::builder::PossibleValuesParser::new(stepwise_control_plane::sim::workloads()))]
        workload: String,
        /// Print every seed's trace (of its faulty run).
        #[arg(long)]
        trace: bool,
        /// Disable one safety mechanism, to show that the invariants catch it.
        #[arg(long, value_enum)]
        plant: Option<stepwise_control_plane::sim::Plant>,
    },
    /// Serve the AWS Step Functions API on an embedded store.
    Server(Box<stepwise_control_plane::cli::ServerArgs>),
    /// State machines and code workflow types on a Stepwise API.
    Machines {
        #[command(subcommand)]
        command: client_cli::Machines,
        #[command(flatten)]
        connection: client_cli::Connection,
    },
    /// Executions: start, list, follow, steer (signal, query, update, cancel, stop, redrive).
    Executions {
        #[command(subcommand)]
        command: client_cli::Executions,
        #[command(flatten)]
        connection: client_cli::Connection,
    },
    /// Activities, and a worker's steps from a shell (poll, succeed, fail).
    Activities {
        #[command(subcommand)]
        command: client_cli::Activities,
        #[command(flatten)]
        connection: client_cli::Connection,
    },
    /// Schedules: list, describe (last and next fires), pause, trigger, backfill, policies.
    Schedules {
        #[command(subcommand)]
        command: client_cli::Schedules,
        #[command(flatten)]
        connection: client_cli::Connection,
    },
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
        Command::Bench { executions, concurrency, data_dir, workload, workers, wait } => {
            let server_binary = std::env::current_exe()?;
            let opts = stepwise_control_plane::bench::Options {
                executions,
                concurrency,
                data_dir,
                server_binary,
                workload,
                workers,
                wait,
            };
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let report = rt.block_on(stepwise_control_plane::bench::run(opts))?;
            outln!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate { seeds, start_seed, workload, trace, plant } => {
            let opts = stepwise_control_plane::sim::Options { seeds, start_seed, workload, trace, plant };
            let mut out = std::io::stdout().lock();
            let violations = match stepwise_control_plane::sim::simulate(&opts, &mut out) {
                Ok(v) => v,
                // A reader that stopped reading (`| head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
                Err(e) => return Err(e.into()),
            };
            Ok(if violations == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Machines { command, connection } => client(&connection, client_cli::Group::Machines(command)),
        Command::Executions { command, connection } => client(&connection, client_cli::Group::Executions(command)),
        Command::Activities { command, connection } => client(&connection, client_cli::Group::Activities(command)),
        Command::Schedules { command, connection } => client(&connection, client_cli::Group::Schedules(command)),
        Command::Server(args) => {
            let (log_level, log_json) = (args.log_level.clone(), args.log_json);
            let credentials = std::env::var("STEPWISE_CREDENTIALS").ok();
            let opts = args.into_options(credentials.as_deref())?;
            server(opts, &log_level, log_json)
        }
    }
}

/// Runs a client command: its text on stdout, exit 0 (or 1 when it did not
/// succeed: an API error, or `start --wait` that did not end SUCCEEDED).
fn client(connection: &client_cli::Connection, group: client_cli::Group) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match rt.block_on(client_cli::run(connection, group)) {
        Ok(out) => {
            if !out.text.is_empty() {
                outln!("{}", out.text);
            }
            Ok(if out.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Err(e) => {
            eprintln!("stepwise: {e}");
            Ok(ExitCode::from(1))
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
            outln!("{out}");
        } else if report.diagnostics.is_empty() {
            outln!("{}: OK", file.display());
        } else {
            let verdict = if report.is_ok() { "OK" } else { "FAIL" };
            outln!("{}: {verdict}", file.display());
            for line in local::render_diagnostics(&report).lines() {
                outln!("  {line}");
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
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if history {
            for e in &outcome.history {
                outln!("{:>4} {:?} {}", e.id, e.event_type, serde_json::to_string(&e.details)?);
            }
        }
        outln!("Status: {}", status.as_str().unwrap_or_default());
        if let Some(o) = &outcome.output {
            outln!("Output: {}", serde_json::to_string_pretty(o)?);
        }
        if let Some(e) = &outcome.error {
            outln!("Error: {e}");
        }
        if let Some(c) = &outcome.cause {
            outln!("Cause: {c}");
        }
    }
    Ok(if outcome.status == Status::Succeeded { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn server(opts: stepwise_control_plane::server::Options, log_level: &str, log_json: bool) -> anyhow::Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(log_level))
        .context("--log-level is not a valid filter")?;
    // Colour only for a terminal: a log written to a file carries no escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(stepwise_control_plane::server::serve(opts))?;
    Ok(ExitCode::SUCCESS)
}
