//! Service integrations the server performs itself, from the tasks queue:
//! nested executions (`states:startExecution`, plain, `.sync`, `.sync:2`
//! and `.waitForTaskToken`). Other resources fail with a clear error.

use crate::AwsError;
use crate::model::ExecutionStatus;
use serde_json::{Map, Value, json};

use super::{Engine, StartRequest, workers};
use crate::Error;
use crate::model::{ExecutionRecord, InboxEntry, ParentLink, TokenRecord};

use state_language::interpreter::children::MAP_CHILD_RESOURCE;

const START_EXECUTION: &str = "arn:aws:states:::states:startExecution";
/// The error of a task the host could not perform on any delivery: AWS's
/// name for a task that failed, which `States.ALL` and `States.TaskFailed` catch.
pub const TASK_GAVE_UP_ERROR: &str = "States.TaskFailed";

/// Milliseconds since the epoch, as AWS's integrations render dates.
fn date(ms: i64) -> Value {
    json!(ms)
}

/// The DescribeExecution-shaped result a `.sync` parent receives.
pub fn describe_for_parent(rec: &ExecutionRecord, as_json: bool, now: i64) -> Value {
    let text_or_json = |s: &str| {
        if as_json { serde_json::from_str(s).unwrap_or(Value::String(s.into())) } else { Value::String(s.into()) }
    };
    let mut m = Map::new();
    if rec.status != ExecutionStatus::Succeeded {
        if let Some(c) = &rec.cause {
            m.insert("Cause".into(), json!(c));
        }
        if let Some(e) = &rec.error {
            m.insert("Error".into(), json!(e));
        }
    }
    m.insert("ExecutionArn".into(), json!(rec.arn));
    m.insert("Input".into(), text_or_json(&rec.input));
    m.insert("InputDetails".into(), json!({"Included": true}));
    m.insert("Name".into(), json!(rec.name));
    if let Some(o) = &rec.output {
        m.insert("Output".into(), text_or_json(o));
        m.insert("OutputDetails".into(), json!({"Included": true}));
    }
    m.insert("RedriveCount".into(), json!(rec.redrive_count));
    match rec.redrivable(now) {
        Ok(()) => m.insert("RedriveStatus".into(), json!("REDRIVABLE")),
        Err(why) => {
            m.insert("RedriveStatus".into(), json!("NOT_REDRIVABLE"));
            m.insert("RedriveStatusReason".into(), json!(why))
        }
    };
    m.insert("StartDate".into(), date(rec.start_ms));
    m.insert("StateMachineArn".into(), json!(rec.machine_arn));
    m.insert("Status".into(), json!(rec.status));
    if let Some(s) = rec.stop_ms {
        m.insert("StopDate".into(), date(s));
    }
    Value::Object(m)
}

impl Engine {
    /// Performs one integration task. Its result, if any, goes through the
    /// token like any callback, so a redelivered message applies once.
    pub async fn perform(&self, hash: &str) -> Result<(), Error> {
        let Some(task) = self.open_task(hash).await? else { return Ok(()) };
        let entry_of = |outcome| match outcome {
            Ok(Some(output)) => Some(InboxEntry::Succeeded { output }),
            Ok(None) => None,
            Err((error, cause)) => Some(InboxEntry::Failed { error, cause }),
        };
        let entry = match task.resource.strip_prefix(START_EXECUTION) {
            // A store error is not the child's answer: the message comes back and the start is tried again.
            Some(suffix) => entry_of(self.nested(&task, suffix).await?),
            None if task.resource == MAP_CHILD_RESOURCE => self.map_child(&task).await?,
            None => entry_of(self.service_call(&task).await),
        };
        // A Map Run child's start records no event: reporting it would only cost
        // the parent a step (and a commit of its whole join) per child.
        let started = match task.resource == MAP_CHILD_RESOURCE {
            true => Ok(()),
            false => self.report_hashed(hash, InboxEntry::Started { worker_name: None, at_ms: None }).await,
        };
        if let Err(e) = started {
            return ignore_closed(e);
        }
        match entry {
            Some(e) => self.report_hashed(hash, e).await.or_else(ignore_closed),
            None => Ok(()),
        }
    }

    /// Performs one delivery of an integration task message. On the last
    /// delivery the queue allows, an error no longer leaves the message to come
    /// back (it would be dropped, and its execution wait for ever): the task
    /// fails instead, with an error a Retry or Catch can handle.
    pub async fn perform_delivery(&self, hash: &str, receive_count: u32) -> Result<(), Error> {
        let Err(e) = self.perform(hash).await else { return Ok(()) };
        if receive_count < workers::RECEIVES_MAX {
            return Err(e);
        }
        tracing::error!(error = %e, token_hash = hash, "a task failed on every delivery; it fails");
        let cause = format!(
            "Stepwise could not perform this task: it failed on each of its {} deliveries. The last error: {e}",
            workers::RECEIVES_MAX
        );
        let failed = InboxEntry::Failed { error: TASK_GAVE_UP_ERROR.into(), cause };
        self.report_hashed(hash, failed).await.or_else(ignore_closed)
    }

    /// Lambda, SQS and DynamoDB through the AWS SDK; anything else fails clearly.
    async fn service_call(&self, task: &TokenRecord) -> Result<Option<Value>, (String, String)> {
        let wait = task.resource.ends_with(".waitForTaskToken");
        match self.call_service(&task.resource, &task.input, task.traceparent.as_deref()).await {
            None => Err((
                "Stepwise.IntegrationNotSupported".to_string(),
                format!("This Stepwise server cannot perform the resource '{}'", task.resource),
            )),
            Some(Ok(_)) if wait => Ok(None),
            Some(r) => r.map(Some),
        }
    }

    /// Calls the AWS service a Task resource names with its parameters;
    /// `None` if this server cannot perform the resource.
    pub async fn call_service(
        &self,
        resource: &str,
        input: &Value,
        traceparent: Option<&str>,
    ) -> Option<Result<Value, (String, String)>> {
        let aws = self.aws.as_ref()?;
        if resource.contains(":lambda:") && resource.contains(":function:") {
            return Some(aws.invoke_lambda(resource, input, false, traceparent).await);
        }
        let (service, action, _, optimized) = parse_resource(resource)?;
        if service == "lambda" && action == "invoke" {
            return Some(aws.invoke_lambda(resource, input, optimized, traceparent).await);
        }
        aws.call(service, action, input, optimized).await
    }

    /// Starts a child execution. A refusal (the API's error) is the task's
    /// failure; anything else (the store failing) is the outer error, so the
    /// task message is delivered again.
    async fn nested(&self, task: &TokenRecord, suffix: &str) -> Result<Result<Option<Value>, (String, String)>, Error> {
        let (sync, as_json) = match suffix {
            "" | ".waitForTaskToken" => (false, false),
            ".sync" => (true, false),
            ".sync:2" => (true, true),
            _ => return Ok(Err(("States.Runtime".into(), format!("Unsupported resource '{}'", task.resource)))),
        };
        let p = task.input.as_object().cloned().unwrap_or_default();
        let machine = p.get("StateMachineArn").and_then(Value::as_str).unwrap_or_default().to_string();
        let input = match p.get("Input") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => state_language::json::to_string(v),
        };
        // A redelivered message must not start a second child: the default
        // name is derived from the task's token.
        let name = match p.get("Name").and_then(Value::as_str) {
            Some(n) => n.to_string(),
            None => uuid_like(&super::hash_token(&task.token)),
        };
        if serde_json::from_str::<Value>(&input).is_err() {
            return refused(Error::api(
                AwsError::InvalidExecutionInput,
                "Invalid State Machine Execution Input: 'Input is not valid JSON'",
            ));
        }
        let target = match self.resolve_for_start(&machine).await {
            Ok(t) => t,
            Err(e) => return refused(e),
        };
        let parent = sync.then(|| ParentLink {
            execution_arn: task.execution_arn.clone(),
            task_id: task.task_id,
            output_as_json: as_json,
            map_run_arn: None,
            item_count: None,
        });
        // The child's trace hangs from its parent's execution span (traces.rs).
        let trace_header = self
            .execution(&task.execution_arn)
            .await?
            .map(|(parent_rec, _)| crate::telemetry::traces::ExecutionIds::of(&parent_rec).traceparent());
        let req = StartRequest { name: String::new(), input: input.clone(), trace_header, parent, ..target };
        let arn = self.scope.execution(&req.machine_name, &name, req.express);
        let started = match self.start(StartRequest { name, ..req }).await {
            // A redelivered task message after the child it started has closed:
            // the same child (same name, same input), not a clash.
            Err(Error::Api { kind: AwsError::ExecutionAlreadyExists, .. }) => match self.execution(&arn).await? {
                Some((existing, _)) if existing.input == input => Ok((existing, false)),
                _ => Err(Error::api(AwsError::ExecutionAlreadyExists, format!("Execution Already Exists: '{arn}'"))),
            },
            other => other,
        };
        let rec = match started {
            Ok((rec, _)) => rec,
            Err(e) => return refused(e),
        };
        if sync || suffix == ".waitForTaskToken" {
            return Ok(Ok(None));
        }
        // The optimized integration adds the Java SDK's metadata of the StartExecution response.
        let body = json!({"executionArn": rec.arn, "startDate": rec.start_ms as f64 / 1000.0});
        let length = state_language::json::to_string(&body).len().to_string();
        let out = json!({"ExecutionArn": rec.arn, "StartDate": date(rec.start_ms)});
        Ok(Ok(Some(super::aws::with_sdk_metadata(out, &length))))
    }
}

/// The API's refusal of a child's start, as the SDK integration reports it;
/// any other error stays an error (to be retried).
fn refused(e: Error) -> Result<Result<Option<Value>, (String, String)>, Error> {
    match e {
        Error::Api { kind, message } => Ok(Err((
            format!("StepFunctions.{kind}Exception"),
            format!(
                "{message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {kind}; Request ID: {}; Proxy: null)",
                uuid_like(&super::sha256_hex(message.as_bytes()))
            ),
        ))),
        other => Err(other),
    }
}

/// `arn:<partition>:states:::<service>:<action>[.waitForTaskToken]` or
/// `…:::aws-sdk:<service>:<action>`: (service, action, waits for a token, optimized).
fn parse_resource(resource: &str) -> Option<(&str, &str, bool, bool)> {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let [_, _, "states", "", "", rest] = parts.as_slice() else { return None };
    let (sdk, rest) = match rest.strip_prefix("aws-sdk:") {
        Some(r) => (true, r),
        None => (false, *rest),
    };
    let (service, action) = rest.split_once(':')?;
    let (action, wait) = match action.strip_suffix(".waitForTaskToken") {
        Some(a) => (a, true),
        None => (action, false),
    };
    Some((service, action, wait, !sdk))
}

fn ignore_closed(e: Error) -> Result<(), Error> {
    match e {
        Error::Api { kind: AwsError::TaskTimedOut | AwsError::InvalidToken, .. } => Ok(()),
        other => Err(other),
    }
}

/// A UUID-shaped name from hex digits.
pub fn uuid_like(hex: &str) -> String {
    let h: String = hex.chars().chain(std::iter::repeat('0')).take(32).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}
