//! A typed client of a Stepwise API (`stepwise server`, or the `api`
//! Lambda's URL) for code workflows: register types, start, signal, cancel,
//! query and update executions, wait for results; and the worker's task
//! operations. AWS JSON 1.0 over HTTP/1.1, unsigned (`--auth none`).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Error;
use crate::workflow::WorkflowError;

/// A response body a client reads at most (a workflow task's history included).
pub const RESPONSE_BYTES_MAX: usize = 64 * 1024 * 1024;
/// How long one call may take: a long poll is 60 s.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(75);

#[derive(Clone)]
pub struct Client {
    endpoint: String,
    http: HttpClient<HttpConnector, Full<Bytes>>,
    signer: Option<Signer>,
}

/// Who signs, and for which region: Step Functions' service name is `states`.
#[derive(Clone)]
struct Signer {
    region: String,
    access_key_id: String,
    secret_access_key: String,
}

impl Client {
    /// A client of the API at `endpoint` (`http://127.0.0.1:8083`).
    pub fn new(endpoint: &str) -> Client {
        let http = HttpClient::builder(TokioExecutor::new()).build_http();
        Client { endpoint: endpoint.trim_end_matches('/').to_string(), http, signer: None }
    }

    /// Signs every request with AWS Signature Version 4 for the service
    /// `states` in `region`, as an API with `--auth sigv4` requires.
    pub fn signed(mut self, region: &str, access_key_id: &str, secret_access_key: &str) -> Client {
        self.signer = Some(Signer {
            region: region.into(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
        });
        self
    }

    /// Adds the request's SigV4 signature headers.
    fn sign(&self, request: &mut hyper::Request<Full<Bytes>>, body: &[u8]) -> Result<(), Error> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let Some(s) = &self.signer else { return Ok(()) };
        let credentials =
            aws_credential_types::Credentials::new(&s.access_key_id, &s.secret_access_key, None, None, "stepwise");
        let identity = credentials.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&s.region)
            .name("states")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::Transport(format!("signing: {e}")))?
            .into();
        let headers: Vec<(&str, &str)> =
            request.headers().iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))).collect();
        let uri = request.uri().to_string();
        let signable = SignableRequest::new("POST", &uri, headers.into_iter(), SignableBody::Bytes(body))
            .map_err(|e| Error::Transport(format!("signing: {e}")))?;
        let (instructions, _) =
            sign(signable, &params).map_err(|e| Error::Transport(format!("signing: {e}")))?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }

    /// Calls `operation`; an AWS-typed error becomes [`Error::Service`].
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, Error> {
        match self.call_once(operation, &body).await {
            // A pooled connection the server closed (it restarted, say): once more, on a new one.
            Err(Error::Transport(_)) => self.call_once(operation, &body).await,
            other => other,
        }
    }

    async fn call_once(&self, operation: &str, body: &Value) -> Result<Value, Error> {
        let uri: hyper::Uri = format!("{}/", self.endpoint).parse().map_err(|e| Error::Transport(format!("{e}")))?;
        let host = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let bytes = Bytes::from(body.to_string());
        let mut request = hyper::Request::post(uri)
            .header("host", host)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AWSStepFunctions.{operation}"))
            .body(Full::new(bytes.clone()))
            .map_err(|e| Error::Transport(e.to_string()))?;
        self.sign(&mut request, &bytes)?;
        let response = tokio::time::timeout(CALL_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| Error::Transport(format!("{operation} took longer than {CALL_TIMEOUT:?}")))?
            .map_err(|e| Error::Transport(e.to_string()))?;
        let status = response.status();
        let limited = http_body_util::Limited::new(response.into_body(), RESPONSE_BYTES_MAX);
        let bytes = limited.collect().await.map_err(|e| Error::Transport(e.to_string()))?.to_bytes();
        let v: Value = if bytes.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&bytes).map_err(|e| Error::Transport(format!("{operation}: {e}")))?
        };
        if !status.is_success() {
            let kind = v["__type"].as_str().unwrap_or("UnknownError");
            let kind = kind.rsplit('#').next().unwrap_or(kind).to_string();
            let message = v["message"].as_str().or(v["Message"].as_str()).unwrap_or_default().to_string();
            return Err(Error::Service { kind, message });
        }
        Ok(v)
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

    /// Waits (at most `wait`) for the execution to close; gives its output or
    /// its error. `None` if it still runs.
    pub async fn result(
        &self,
        execution_arn: &str,
        wait: Duration,
    ) -> Result<Option<Result<Value, WorkflowError>>, Error> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut poll = Duration::from_millis(5);
        loop {
            let d = self.describe(execution_arn).await?;
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
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(poll).await;
            poll = (poll * 2).min(Duration::from_millis(200));
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
                let mut d = e["workflowEventDetails"].clone();
                d["type"] = e["type"].clone();
                events.push(serde_json::from_value(d).map_err(|e| Error::History(e.to_string()))?);
            }
            match out["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        Ok(events)
    }
}
