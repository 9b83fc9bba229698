//! A typed client of a Stepwise API (`stepwise server`, or the `api`
//! Lambda's URL) for code workflows: register types, start, signal, cancel,
//! query and update executions, wait for results; and the worker's task
//! operations. AWS JSON 1.0 over HTTP/1.1, unsigned (`--auth none`).

use std::time::Duration;

/// One AwaitExecution call waits this long at most (seconds); a longer
/// wait is several calls, so no request outlives proxies' idle timeouts.
const AWAIT_SECONDS_MAX: u64 = 20;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use stepwise_wire::Wire;

use crate::Error;
use crate::workflow::WorkflowError;

pub use stepwise_wire::{CALL_TIMEOUT, RESPONSE_BYTES_MAX};

#[derive(Clone)]
pub struct Client {
    wire: Wire,
}

impl From<stepwise_wire::Error> for Error {
    fn from(e: stepwise_wire::Error) -> Error {
        match e {
            stepwise_wire::Error::Service { kind, message } => Error::Service { kind, message },
            stepwise_wire::Error::Transport(t) => Error::Transport(t),
        }
    }
}

impl Client {
    /// A client of the API at `endpoint` (`http://127.0.0.1:8083`).
    pub fn new(endpoint: &str) -> Client {
        Client { wire: Wire::new(endpoint) }
    }

    /// Signs every request with AWS Signature Version 4 for the service
    /// `states` in `region`, as an API with `--auth sigv4` requires.
    pub fn signed(mut self, region: &str, access_key_id: &str, secret_access_key: &str) -> Client {
        self.wire = self.wire.signed(stepwise_wire::Signer {
            region: region.into(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        });
        self
    }

    /// Calls `operation`; an AWS-typed error becomes [`Error::Service`].
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, Error> {
        Ok(self.wire.call(operation, &body).await?)
    }

    /// Registers (idempotently) the code workflow type `name`, served by the
    /// workers of `task_queue`; gives its state machine ARN.
    pub async fn register_workflow_type(&self, name: &str, task_queue: &str) -> Result<String, Error> {
        let definition = json!({"StepwiseWorkflow": {"TaskQueue": task_queue}}).to_string();
        let body = json!({
            "name": name,
            "definition": definition,
            "roleArn": "arn:aws:iam::123456789012:role/stepwise-code-workflow",
        });
        let out = self.call("CreateStateMachine", body).await?;
        Ok(out["stateMachineArn"].as_str().unwrap_or_default().to_string())
    }

    /// Starts an execution named `name` (StartExecution: a repeat with the
    /// same input while it runs is idempotent); gives its ARN.
    pub async fn start<I: Serialize>(&self, machine_arn: &str, name: &str, input: &I) -> Result<String, Error> {
        let input = serde_json::to_string(input).map_err(|e| Error::History(e.to_string()))?;
        let body = json!({"stateMachineArn": machine_arn, "name": name, "input": input});
        let out = self.call("StartExecution", body).await?;
        Ok(out["executionArn"].as_str().unwrap_or_default().to_string())
    }

    pub async fn signal<T: Serialize>(&self, execution_arn: &str, name: &str, payload: &T) -> Result<(), Error> {
        let input = serde_json::to_string(payload).map_err(|e| Error::History(e.to_string()))?;
        let body = json!({"executionArn": execution_arn, "signalName": name, "input": input});
        self.call("SignalExecution", body).await.map(|_| ())
    }

    /// Asks the execution to stop; its `ctx.cancelled()` resolves.
    pub async fn cancel(&self, execution_arn: &str) -> Result<(), Error> {
        self.call("RequestCancelExecution", json!({"executionArn": execution_arn})).await.map(|_| ())
    }

    /// Stops the execution at once (StopExecution): it ends ABORTED.
    pub async fn terminate(&self, execution_arn: &str, cause: &str) -> Result<(), Error> {
        self.call("StopExecution", json!({"executionArn": execution_arn, "cause": cause})).await.map(|_| ())
    }

    /// Runs the query `name` on a worker against the execution's state.
    pub async fn query<T: DeserializeOwned>(&self, execution_arn: &str, name: &str) -> Result<T, Error> {
        let out = self.call("QueryExecution", json!({"executionArn": execution_arn, "queryName": name})).await?;
        serde_json::from_value(out["output"].clone()).map_err(|e| Error::History(e.to_string()))
    }

    /// Asks the typed query `Q`; its answer decoded as `Q::Output`.
    pub async fn query_as<Q: crate::workflow::QueryType>(&self, execution_arn: &str) -> Result<Q::Output, Error> {
        self.query(execution_arn, Q::NAME).await
    }

    /// Sends the typed update `U`; its answer decoded as `U::Output`.
    pub async fn update_as<U: crate::workflow::UpdateType>(
        &self,
        execution_arn: &str,
        payload: &U::Input,
    ) -> Result<U::Output, Error> {
        self.update(execution_arn, U::NAME, payload).await
    }

    /// Sends an update; gives the workflow's answer, or `UpdateRejected`.
    pub async fn update<I: Serialize, O: DeserializeOwned>(
        &self,
        execution_arn: &str,
        name: &str,
        payload: &I,
    ) -> Result<O, Error> {
        let input = serde_json::to_string(payload).map_err(|e| Error::History(e.to_string()))?;
        let body = json!({"executionArn": execution_arn, "updateName": name, "input": input});
        let out = self.call("UpdateExecution", body).await?;
        serde_json::from_value(out["output"].clone()).map_err(|e| Error::History(e.to_string()))
    }

    /// DescribeExecution.
    pub async fn describe(&self, execution_arn: &str) -> Result<Value, Error> {
        self.call("DescribeExecution", json!({"executionArn": execution_arn})).await
    }

    /// Waits (at most `wait`, in whole seconds) for the execution to close;
    /// gives its output or its error. `None` if it still runs. The server
    /// answers the moment it closes (AwaitExecution, a long poll), so a
    /// result is seen when it is there, not at a polling interval.
    pub async fn result(
        &self,
        execution_arn: &str,
        wait: Duration,
    ) -> Result<Option<Result<Value, WorkflowError>>, Error> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now()).as_secs();
            let body = json!({"executionArn": execution_arn, "waitSeconds": left.min(AWAIT_SECONDS_MAX)});
            let d = self.call("AwaitExecution", body).await?;
            match d["status"].as_str().unwrap_or_default() {
                "RUNNING" => {}
                "SUCCEEDED" => {
                    let output = d["output"].as_str().unwrap_or("null");
                    let v = serde_json::from_str(output).map_err(|e| Error::History(e.to_string()))?;
                    return Ok(Some(Ok(v)));
                }
                other => {
                    let error = d["error"].as_str().unwrap_or(other);
                    return Ok(Some(Err(WorkflowError::new(error, d["cause"].as_str().unwrap_or_default()))));
                }
            }
            if left == 0 {
                return Ok(None);
            }
        }
    }

    /// The execution's history: the code workflow's events, oldest first.
    pub async fn history(&self, execution_arn: &str) -> Result<Vec<crate::workflow::Event>, Error> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..crate::workflow::host::HISTORY_EVENTS_MAX / 1000 + 2 {
            let mut body = json!({"executionArn": execution_arn, "maxResults": 1000});
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            let out = self.call("GetExecutionHistory", body).await?;
            for e in out["events"].as_array().into_iter().flatten() {
                let event = crate::workflow::history::event_from_history(e);
                events.push(event.map_err(|e| Error::History(e.to_string()))?);
            }
            match out["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        Ok(events)
    }
}
