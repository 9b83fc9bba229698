//! `stepwise schedules`: EventBridge Scheduler schedules (through the
//! Scheduler API) and Temporal's policies (through Stepwise's schedule
//! operations), from a shell.

use serde_json::{Value, json};
use stepwise_wire::Wire;

use super::render::{fields, table, text, time};
use super::{CliError, Connection};
use crate::client_cli::Outcome;

/// Pages one `schedules list` reads at most (100 schedules each).
const LIST_PAGES_MAX: usize = 100;

#[derive(clap::Subcommand, Debug)]
pub enum Schedules {
    /// Schedules, of one group or all.
    List {
        #[arg(long)]
        group: Option<String>,
    },
    /// A schedule: its expression, target and policies, its last fires and its next ones.
    Describe {
        name: String,
        #[arg(long)]
        group: Option<String>,
        /// Upcoming fire times to list.
        #[arg(long, default_value_t = 5)]
        upcoming: u64,
    },
    /// Pauses a schedule: its fires are skipped until it is unpaused.
    Pause {
        name: String,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    Unpause {
        name: String,
        #[arg(long)]
        group: Option<String>,
    },
    /// Starts the schedule's target now.
    Trigger {
        name: String,
        #[arg(long)]
        group: Option<String>,
        /// SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER, TERMINATE_OTHER or ALLOW_ALL.
        #[arg(long)]
        overlap: Option<String>,
    },
    /// Acts on every fire time in [--from, --to) (RFC 3339 times).
    Backfill {
        name: String,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        overlap: Option<String>,
    },
    /// Sets the overlap policy, the catch-up window or the remaining actions.
    Options {
        name: String,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        overlap: Option<String>,
        #[arg(long)]
        catchup_window_seconds: Option<u64>,
        #[arg(long)]
        remaining_actions: Option<u64>,
    },
}

struct Ctx {
    wire: Wire,
    json: bool,
}

impl Ctx {
    fn err(&self, e: stepwise_wire::Error) -> CliError {
        CliError::from_wire(e, self.wire.endpoint())
    }
    async fn rest(&self, method: &str, path: &str) -> Result<Value, CliError> {
        self.wire.rest(method, path, None).await.map_err(|e| self.err(e))
    }
    async fn call(&self, op: &str, body: Value) -> Result<Value, CliError> {
        self.wire.call(op, &body).await.map_err(|e| self.err(e))
    }
    fn done(&self, v: &Value, text: String) -> Outcome {
        let text = if self.json { serde_json::to_string_pretty(v).expect("JSON values print") } else { text };
        Outcome { text, ok: true }
    }
}

fn escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn group_query(group: Option<&str>) -> String {
    group.map(|g| format!("?groupName={}", escape(g))).unwrap_or_default()
}

/// A schedule's ARN, from its name and group.
async fn arn(ctx: &Ctx, name: &str, group: Option<&str>) -> Result<String, CliError> {
    let s = ctx.rest("GET", &format!("/schedules/{}{}", escape(name), group_query(group))).await?;
    Ok(text(&s, "Arn"))
}

fn rfc3339_s(t: &str) -> Result<f64, CliError> {
    let at = chrono::DateTime::parse_from_rfc3339(t)
        .map_err(|e| CliError::Usage(format!("'{t}' is not an RFC 3339 time: {e}")))?;
    Ok(at.timestamp_millis() as f64 / 1000.0)
}

pub async fn run(conn: &Connection, command: Schedules) -> Result<Outcome, CliError> {
    let ctx = Ctx { wire: conn.wire().await, json: conn.json };
    match command {
        Schedules::List { group } => list(&ctx, group.as_deref()).await,
        Schedules::Describe { name, group, upcoming } => describe(&ctx, &name, group.as_deref(), upcoming).await,
        Schedules::Pause { name, group, note } => {
            let a = arn(&ctx, &name, group.as_deref()).await?;
            let v = ctx.call("PauseSchedule", json!({"scheduleArn": a, "note": note})).await?;
            Ok(ctx.done(&v, format!("paused {name}")))
        }
        Schedules::Unpause { name, group } => {
            let a = arn(&ctx, &name, group.as_deref()).await?;
            let v = ctx.call("UnpauseSchedule", json!({"scheduleArn": a})).await?;
            Ok(ctx.done(&v, format!("unpaused {name}")))
        }
        Schedules::Trigger { name, group, overlap } => {
            let a = arn(&ctx, &name, group.as_deref()).await?;
            let v = ctx.call("TriggerSchedule", json!({"scheduleArn": a, "overlapPolicy": overlap})).await?;
            Ok(ctx.done(&v, action_line(&v)))
        }
        Schedules::Backfill { name, group, from, to, overlap } => {
            let a = arn(&ctx, &name, group.as_deref()).await?;
            let req = json!({"scheduleArn": a, "startDate": rfc3339_s(&from)?, "endDate": rfc3339_s(&to)?, "overlapPolicy": overlap});
            let v = ctx.call("BackfillSchedule", req).await?;
            let lines: Vec<String> = v["actions"].as_array().into_iter().flatten().map(action_line).collect();
            Ok(ctx.done(&v, format!("{} fire times\n{}", lines.len(), lines.join("\n"))))
        }
        Schedules::Options { name, group, overlap, catchup_window_seconds, remaining_actions } => {
            let a = arn(&ctx, &name, group.as_deref()).await?;
            let req = json!({"scheduleArn": a, "overlapPolicy": overlap, "catchupWindowSeconds": catchup_window_seconds,
                "remainingActions": remaining_actions});
            let v = ctx.call("UpdateScheduleOptions", req).await?;
            Ok(ctx.done(&v, format!("updated {name}")))
        }
    }
}

async fn list(ctx: &Ctx, group: Option<&str>) -> Result<Outcome, CliError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..LIST_PAGES_MAX {
        let mut q = vec![];
        if let Some(g) = group {
            q.push(format!("ScheduleGroup={}", escape(g)));
        }
        if let Some(t) = &token {
            q.push(format!("NextToken={}", escape(t)));
        }
        let path = if q.is_empty() { "/schedules".to_string() } else { format!("/schedules?{}", q.join("&")) };
        let page = ctx.rest("GET", &path).await?;
        all.extend(page["Schedules"].as_array().cloned().unwrap_or_default());
        token = page["NextToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|s| vec![text(s, "Name"), text(s, "GroupName"), text(s, "State"), text(&s["Target"], "Arn")])
        .collect();
    let v = json!({"Schedules": all});
    Ok(ctx.done(&v, table(&["NAME", "GROUP", "STATE", "TARGET"], &rows)))
}

fn action_line(a: &Value) -> String {
    let what = match (a["executionArn"].as_str(), a["skipped"].as_str(), a["deliveredTo"].as_str()) {
        (Some(e), _, _) => format!("started {e}"),
        (_, Some(why), _) => format!("skipped: {why}"),
        (_, _, Some(t)) => format!("delivered to {t}"),
        _ => String::new(),
    };
    format!("{}  {what}", time(&a["scheduledDate"]))
}

async fn describe(ctx: &Ctx, name: &str, group: Option<&str>, upcoming: u64) -> Result<Outcome, CliError> {
    let s = ctx.rest("GET", &format!("/schedules/{}{}", escape(name), group_query(group))).await?;
    let st = ctx.call("DescribeScheduleState", json!({"scheduleArn": text(&s, "Arn"), "upcoming": upcoming})).await?;
    let paused = match st["note"].as_str() {
        Some(n) => format!("yes: {n}"),
        None => "no".into(),
    };
    let mut out = fields(&[
        ("name", text(&s, "Name")),
        ("group", text(&s, "GroupName")),
        ("expression", text(&s, "ScheduleExpression")),
        ("time zone", text(&s, "ScheduleExpressionTimezone")),
        ("state", text(&s, "State")),
        ("target", text(&s["Target"], "Arn")),
        ("overlap", text(&st, "overlapPolicy")),
        ("catch-up window", format!("{} s", text(&st, "catchupWindowSeconds"))),
        ("remaining actions", text(&st, "remainingActions")),
        ("paused", paused),
    ]);
    let next: Vec<String> = st["upcomingFireDates"].as_array().into_iter().flatten().map(time).collect();
    out.push_str(&format!("\n\nnext fires\n  {}", if next.is_empty() { "none".into() } else { next.join("\n  ") }));
    let recent: Vec<String> = st["recentActions"].as_array().into_iter().flatten().rev().map(action_line).collect();
    out.push_str(&format!(
        "\n\nrecent fires (newest first)\n  {}",
        if recent.is_empty() { "none".into() } else { recent.join("\n  ") }
    ));
    Ok(ctx.done(&json!({"schedule": s, "state": st}), out))
}
