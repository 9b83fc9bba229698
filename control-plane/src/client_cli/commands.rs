//! The client commands and what each one calls.

use std::time::Duration;

use serde_json::{Value, json};
use stepwise_wire::Wire;

use super::render::{event_line, fields, status, table, text, time};
use super::{CliError, Connection};

/// How often `history --follow` asks for new events: Temporal's CLI polls
/// about as often, and no faster than once a second is asked of us.
const FOLLOW_POLL: Duration = Duration::from_secs(1);
/// Pages a listing reads at most; past it the listing says there is more.
const LIST_PAGES_MAX: usize = 100;
/// The role recorded on machines created from the CLI when none is given.
const ROLE_DEFAULT: &str = "arn:aws:iam::123456789012:role/stepwise";

#[derive(clap::Subcommand, Debug)]
pub enum Machines {
    /// The state machines and code workflow types.
    List,
    /// One machine: its definition, type and dates.
    Describe {
        machine: String,
    },
    /// Creates a machine from a definition file.
    Create {
        #[arg(long)]
        name: String,
        /// A file with the definition (ASL JSON).
        #[arg(long)]
        definition: String,
        #[arg(long, default_value = ROLE_DEFAULT)]
        role_arn: String,
        #[arg(long, default_value = "STANDARD", value_parser = ["STANDARD", "EXPRESS"])]
        r#type: String,
    },
    /// Replaces a machine's definition.
    Update {
        machine: String,
        #[arg(long)]
        definition: String,
    },
    Delete {
        machine: String,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum Executions {
    /// Starts an execution; with --wait, waits for it and exits 0 only on SUCCEEDED.
    Start {
        machine: String,
        #[arg(long)]
        name: Option<String>,
        /// JSON text, or @FILE.
        #[arg(long, default_value = "{}")]
        input: String,
        #[arg(long)]
        wait: bool,
    },
    /// A machine's executions, newest first.
    List {
        #[arg(long)]
        machine: String,
        #[arg(long, value_parser = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"])]
        status: Option<String>,
    },
    Describe {
        execution: String,
    },
    /// The event history as a timeline; --follow prints events as they happen.
    History {
        execution: String,
        #[arg(long)]
        follow: bool,
    },
    Stop {
        execution: String,
        #[arg(long)]
        cause: Option<String>,
    },
    Redrive {
        execution: String,
    },
    /// Sends a signal to a code workflow.
    Signal {
        execution: String,
        name: String,
        #[arg(long, default_value = "null")]
        input: String,
    },
    /// Asks a code workflow a query.
    Query {
        execution: String,
        name: String,
        #[arg(long, default_value = "null")]
        input: String,
    },
    /// Sends an update to a code workflow and prints its answer.
    Update {
        execution: String,
        name: String,
        #[arg(long, default_value = "null")]
        input: String,
    },
    /// Asks a code workflow to cancel (it may clean up).
    Cancel {
        execution: String,
    },
    /// Ends an execution at once.
    Terminate {
        execution: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum Activities {
    List,
    /// Waits (up to 60 s) for a task of an activity; prints its token and input.
    Poll {
        activity: String,
        #[arg(long)]
        worker: Option<String>,
    },
    /// Answers a task with its output (JSON text, or @FILE).
    Succeed {
        token: String,
        #[arg(long, default_value = "{}")]
        output: String,
    },
    /// Fails a task with an error and a cause.
    Fail {
        token: String,
        #[arg(long)]
        error: Option<String>,
        #[arg(long)]
        cause: Option<String>,
    },
}

/// One of the command groups.
pub enum Group {
    Machines(Machines),
    Executions(Executions),
    Activities(Activities),
    Schedules(super::Schedules),
}

/// What a command prints, and whether it succeeded (its exit code: 0 or 1).
pub struct Outcome {
    pub text: String,
    pub ok: bool,
}

struct Ctx {
    wire: Wire,
    json: bool,
}

impl Ctx {
    async fn call(&self, op: &str, body: Value) -> Result<Value, CliError> {
        self.wire.call(op, &body).await.map_err(|e| CliError::from_wire(e, self.wire.endpoint()))
    }

    fn done(&self, v: &Value, text: String) -> Outcome {
        let text = if self.json { serde_json::to_string_pretty(v).expect("JSON values print") } else { text };
        Outcome { text, ok: true }
    }
}

pub async fn run(conn: &Connection, group: Group) -> Result<Outcome, CliError> {
    if let Group::Schedules(s) = group {
        return super::schedules::run(conn, s).await;
    }
    let ctx = Ctx { wire: conn.wire().await, json: conn.json };
    match group {
        Group::Machines(m) => machines(&ctx, m).await,
        Group::Executions(e) => executions(&ctx, e).await,
        Group::Activities(a) => activities(&ctx, a).await,
        Group::Schedules(_) => unreachable!("schedules are run above"),
    }
}

/// JSON text, or the contents of the file after `@`; checked to be JSON.
fn json_text(arg: &str) -> Result<String, CliError> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| CliError::Usage(format!("cannot read {path}: {e}")))?,
        None => arg.to_string(),
    };
    serde_json::from_str::<Value>(&text).map_err(|e| CliError::Usage(format!("not valid JSON ({e}): {text}")))?;
    Ok(text)
}

fn read_file(path: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::Usage(format!("cannot read {path}: {e}")))
}

/// Every page of a listing, up to [`LIST_PAGES_MAX`].
async fn list_all(ctx: &Ctx, op: &str, body: Value, items: &str) -> Result<Vec<Value>, CliError> {
    let mut out = Vec::new();
    let mut body = body;
    for _ in 0..LIST_PAGES_MAX {
        let page = ctx.call(op, body.clone()).await?;
        out.extend(page[items].as_array().cloned().unwrap_or_default());
        match page["nextToken"].as_str() {
            Some(t) => body["nextToken"] = json!(t),
            None => return Ok(out),
        }
    }
    Ok(out)
}

/// A kind of resource the commands take by name or by ARN.
struct Named {
    list: &'static str,
    items: &'static str,
    arn_field: &'static str,
    /// The API's error type when there is none of that name.
    missing: &'static str,
    what: &'static str,
}

const MACHINE: Named = Named {
    list: "ListStateMachines",
    items: "stateMachines",
    arn_field: "stateMachineArn",
    missing: "StateMachineDoesNotExist",
    what: "state machine",
};
const ACTIVITY: Named = Named {
    list: "ListActivities",
    items: "activities",
    arn_field: "activityArn",
    missing: "ActivityDoesNotExist",
    what: "activity",
};

/// The ARN of `name` (an ARN already, or a name to look up).
async fn resolve(ctx: &Ctx, kind: &Named, name: &str) -> Result<String, CliError> {
    if name.starts_with("arn:") {
        return Ok(name.to_string());
    }
    let all = list_all(ctx, kind.list, json!({}), kind.items).await?;
    all.iter().find(|m| m["name"] == name).map(|m| text(m, kind.arn_field)).ok_or_else(|| CliError::Api {
        kind: kind.missing.into(),
        message: format!("no {} is named '{name}'", kind.what),
        hint: super::hint_line(kind.missing),
    })
}

async fn machine_arn(ctx: &Ctx, machine: &str) -> Result<String, CliError> {
    resolve(ctx, &MACHINE, machine).await
}

async fn machines(ctx: &Ctx, m: Machines) -> Result<Outcome, CliError> {
    match m {
        Machines::List => {
            let all = list_all(ctx, "ListStateMachines", json!({}), "stateMachines").await?;
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|m| vec![text(m, "name"), text(m, "type"), time(&m["creationDate"]), text(m, "stateMachineArn")])
                .collect();
            Ok(ctx.done(&json!({"stateMachines": all}), table(&["NAME", "TYPE", "CREATED", "ARN"], &rows)))
        }
        Machines::Describe { machine } => {
            let arn = machine_arn(ctx, &machine).await?;
            let d = ctx.call("DescribeStateMachine", json!({"stateMachineArn": arn})).await?;
            let text = fields(&[
                ("name", text(&d, "name")),
                ("arn", text(&d, "stateMachineArn")),
                ("type", text(&d, "type")),
                ("status", text(&d, "status")),
                ("created", time(&d["creationDate"])),
                ("definition", text(&d, "definition")),
            ]);
            Ok(ctx.done(&d, text))
        }
        Machines::Create { name, definition, role_arn, r#type } => {
            let body =
                json!({"name": name, "definition": read_file(&definition)?, "roleArn": role_arn, "type": r#type});
            let d = ctx.call("CreateStateMachine", body).await?;
            Ok(ctx.done(&d, format!("created {}", text(&d, "stateMachineArn"))))
        }
        Machines::Update { machine, definition } => {
            let arn = machine_arn(ctx, &machine).await?;
            let d = ctx
                .call("UpdateStateMachine", json!({"stateMachineArn": arn, "definition": read_file(&definition)?}))
                .await?;
            Ok(ctx.done(&d, format!("updated {arn}")))
        }
        Machines::Delete { machine } => {
            let arn = machine_arn(ctx, &machine).await?;
            let d = ctx.call("DeleteStateMachine", json!({"stateMachineArn": arn})).await?;
            Ok(ctx.done(&d, format!("deleted {arn}")))
        }
    }
}

fn describe_text(d: &Value) -> String {
    fields(&[
        ("name", text(d, "name")),
        ("arn", text(d, "executionArn")),
        ("machine", text(d, "stateMachineArn")),
        ("status", status(&text(d, "status"))),
        ("started", time(&d["startDate"])),
        ("stopped", time(&d["stopDate"])),
        ("redrives", text(d, "redriveCount")),
        ("input", text(d, "input")),
        ("output", text(d, "output")),
        ("error", text(d, "error")),
        ("cause", text(d, "cause")),
    ])
}

async fn executions(ctx: &Ctx, e: Executions) -> Result<Outcome, CliError> {
    match e {
        Executions::Start { machine, name, input, wait } => {
            let arn = machine_arn(ctx, &machine).await?;
            let mut body = json!({"stateMachineArn": arn, "input": json_text(&input)?});
            if let Some(n) = name {
                body["name"] = json!(n);
            }
            let started = ctx.call("StartExecution", body).await?;
            let exec = text(&started, "executionArn");
            if !wait {
                return Ok(ctx.done(&started, format!("started {exec}")));
            }
            let d = wait_closed(ctx, &exec).await?;
            let mut out = ctx.done(&d, describe_text(&d));
            out.ok = d["status"] == "SUCCEEDED";
            Ok(out)
        }
        Executions::List { machine, status: filter } => {
            let arn = machine_arn(ctx, &machine).await?;
            let mut body = json!({"stateMachineArn": arn});
            if let Some(s) = filter {
                body["statusFilter"] = json!(s);
            }
            let all = list_all(ctx, "ListExecutions", body, "executions").await?;
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|x| {
                    vec![
                        text(x, "name"),
                        status(&text(x, "status")),
                        time(&x["startDate"]),
                        time(&x["stopDate"]),
                        text(x, "executionArn"),
                    ]
                })
                .collect();
            Ok(ctx.done(&json!({"executions": all}), table(&["NAME", "STATUS", "STARTED", "STOPPED", "ARN"], &rows)))
        }
        Executions::Describe { execution } => {
            let d = ctx.call("DescribeExecution", json!({"executionArn": execution})).await?;
            Ok(ctx.done(&d, describe_text(&d)))
        }
        Executions::History { execution, follow } => history(ctx, &execution, follow).await,
        Executions::Stop { execution, cause } => {
            let d = ctx.call("StopExecution", json!({"executionArn": execution, "cause": cause})).await?;
            Ok(ctx.done(&d, format!("stopped {execution}")))
        }
        Executions::Redrive { execution } => {
            let d = ctx.call("RedriveExecution", json!({"executionArn": execution})).await?;
            Ok(ctx.done(&d, format!("redriven {execution}")))
        }
        Executions::Signal { execution, name, input } => {
            let body = json!({"executionArn": execution, "signalName": name, "input": json_text(&input)?});
            let d = ctx.call("SignalExecution", body).await?;
            Ok(ctx.done(&d, format!("signalled {name}")))
        }
        Executions::Query { execution, name, input } => {
            let body = json!({"executionArn": execution, "queryName": name, "input": json_text(&input)?});
            let d = ctx.call("QueryExecution", body).await?;
            Ok(ctx.done(&d, d["output"].to_string()))
        }
        Executions::Update { execution, name, input } => {
            let body = json!({"executionArn": execution, "updateName": name, "input": json_text(&input)?});
            let d = ctx.call("UpdateExecution", body).await?;
            Ok(ctx.done(&d, d["output"].to_string()))
        }
        Executions::Cancel { execution } => {
            let d = ctx.call("RequestCancelExecution", json!({"executionArn": execution})).await?;
            Ok(ctx.done(&d, format!("cancellation requested for {execution}")))
        }
        Executions::Terminate { execution, reason } => {
            let d = ctx.call("StopExecution", json!({"executionArn": execution, "cause": reason})).await?;
            Ok(ctx.done(&d, format!("terminated {execution}")))
        }
    }
}

/// Waits for an execution to close with AwaitExecution, which the server
/// answers at the close (each call waits the server's default, 20 s).
async fn wait_closed(ctx: &Ctx, exec: &str) -> Result<Value, CliError> {
    loop {
        let d = ctx.call("AwaitExecution", json!({"executionArn": exec})).await?;
        if d["status"] != "RUNNING" {
            return Ok(d);
        }
    }
}

/// The history; with `follow`, new events as they come until the execution closes.
async fn history(ctx: &Ctx, exec: &str, follow: bool) -> Result<Outcome, CliError> {
    let mut seen = 0usize;
    let mut first_s = None;
    let mut all = Vec::new();
    loop {
        let events =
            list_all(ctx, "GetExecutionHistory", json!({"executionArn": exec, "maxResults": 1000}), "events").await?;
        let new: Vec<Value> = events.into_iter().skip(seen).collect();
        seen += new.len();
        if follow && !ctx.json {
            for e in &new {
                let first = *first_s.get_or_insert(e["timestamp"].as_f64().unwrap_or_default());
                print_line(&event_line(e, first));
            }
        }
        all.extend(new);
        if !follow {
            break;
        }
        let d = ctx.call("DescribeExecution", json!({"executionArn": exec})).await?;
        if d["status"] != "RUNNING" && seen == all.len() {
            // One more read after the close catches its last events.
            let events =
                list_all(ctx, "GetExecutionHistory", json!({"executionArn": exec, "maxResults": 1000}), "events")
                    .await?;
            for e in events.iter().skip(seen) {
                if !ctx.json {
                    let first = *first_s.get_or_insert(e["timestamp"].as_f64().unwrap_or_default());
                    print_line(&event_line(e, first));
                }
                all.push(e.clone());
            }
            break;
        }
        tokio::time::sleep(FOLLOW_POLL).await;
    }
    let v = json!({"events": all});
    if follow && !ctx.json {
        return Ok(Outcome { text: String::new(), ok: true });
    }
    let first = all.first().and_then(|e| e["timestamp"].as_f64()).unwrap_or_default();
    let text = all.iter().map(|e| event_line(e, first)).collect::<Vec<_>>().join("\n");
    Ok(ctx.done(&v, text))
}

/// Prints one line at once (`--follow` streams); a closed stdout ends the program quietly.
pub fn print_line(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

async fn activities(ctx: &Ctx, a: Activities) -> Result<Outcome, CliError> {
    match a {
        Activities::List => {
            let all = list_all(ctx, "ListActivities", json!({}), "activities").await?;
            let rows: Vec<Vec<String>> =
                all.iter().map(|a| vec![text(a, "name"), time(&a["creationDate"]), text(a, "activityArn")]).collect();
            Ok(ctx.done(&json!({"activities": all}), table(&["NAME", "CREATED", "ARN"], &rows)))
        }
        Activities::Poll { activity, worker } => {
            let arn = resolve(ctx, &ACTIVITY, &activity).await?;
            let d = ctx.call("GetActivityTask", json!({"activityArn": arn, "workerName": worker})).await?;
            let text = match d["taskToken"].as_str() {
                Some(t) => fields(&[("token", t.to_string()), ("input", text(&d, "input"))]),
                None => "no task within 60 s".to_string(),
            };
            let mut out = ctx.done(&d, text);
            out.ok = d["taskToken"].is_string();
            Ok(out)
        }
        Activities::Succeed { token, output } => {
            let d = ctx.call("SendTaskSuccess", json!({"taskToken": token, "output": json_text(&output)?})).await?;
            Ok(ctx.done(&d, "answered".to_string()))
        }
        Activities::Fail { token, error, cause } => {
            let d = ctx.call("SendTaskFailure", json!({"taskToken": token, "error": error, "cause": cause})).await?;
            Ok(ctx.done(&d, "failed".to_string()))
        }
    }
}
