//! TestState: run one state on one input, with a mocked task outcome.

use crate::AwsError;
use serde_json::{Map, Value, json};
use state_language::interpreter::StartContext;
use state_language::interpreter::test_state::{Mock, TestError, TestRequest, test_state};

use super::shapes::requests as rq;
use super::shapes::responses::Tested;
use crate::Error;
use crate::engine::Engine;

/// The name a bare state definition is tested under.
const DEFAULT_STATE_NAME: &str = "TestState";

fn invalid(message: impl Into<String>) -> Error {
    Error::api(AwsError::InvalidDefinition, message)
}

/// Wraps a single state into a machine, with terminal stand-ins for the
/// states it may go to, so the validator sees a whole machine.
fn machine_for(def: &Value, state_name: Option<&str>) -> Result<(Value, String), Error> {
    if def.get("States").is_some() {
        let name = state_name.or(def["StartAt"].as_str()).unwrap_or_default().to_string();
        return Ok((def.clone(), name));
    }
    let name = state_name.unwrap_or(DEFAULT_STATE_NAME).to_string();
    let mut states = Map::new();
    states.insert(name.clone(), def.clone());
    let mut targets: Vec<&str> = Vec::new();
    for key in ["Next", "Default"] {
        targets.extend(def.get(key).and_then(Value::as_str));
    }
    for list in ["Choices", "Catch"] {
        for item in def.get(list).and_then(Value::as_array).into_iter().flatten() {
            targets.extend(item.get("Next").and_then(Value::as_str));
        }
    }
    for t in targets {
        if !states.contains_key(t) {
            states.insert(t.to_string(), json!({"Type": "Succeed"}));
        }
    }
    Ok((json!({"StartAt": name, "States": states}), name))
}

/// A member that carries JSON text.
fn json_field(field: &str, text: Option<&str>) -> Result<Option<Value>, Error> {
    text.map(|s| serde_json::from_str(s).map_err(|e| Error::validation(format!("'{field}' is not valid JSON: {e}"))))
        .transpose()
}

fn mock(m: Option<rq::TestMock>) -> Result<Option<Mock>, Error> {
    let Some(m) = m else { return Ok(None) };
    match (m.result, m.error_output) {
        (Some(res), _) => Ok(Some(Mock::Result(
            serde_json::from_str(&res).map_err(|e| Error::validation(format!("mock.result is not valid JSON: {e}")))?,
        ))),
        (None, Some(e)) => {
            Ok(Some(Mock::Error { error: e.error.unwrap_or_default(), cause: e.cause.unwrap_or_default() }))
        }
        (None, None) => Err(Error::validation("mock needs a result or an errorOutput")),
    }
}

pub(super) async fn test(engine: &Engine, r: rq::TestState) -> Result<Tested, Error> {
    let def: Value =
        serde_json::from_str(&r.definition).map_err(|e| invalid(format!("Invalid State Machine Definition: '{e}'")))?;
    let (machine, name) = machine_for(&def, r.state_name.as_deref())?;
    let report = state_language::validate(&machine, state_language::Options::default());
    let Some(parsed) = report.definition.clone().filter(|_| report.is_ok()) else {
        return Err(invalid(report.aws_message()));
    };
    let state = parsed.machines[0].find(&name).ok_or_else(|| Error::validation(format!("State '{name}' not found")))?;
    let input = json_field("input", r.input.as_deref())?.unwrap_or_else(|| json!({}));
    let variables = match json_field("variables", r.variables.as_deref())? {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(Error::validation("'variables' must be a JSON object")),
    };
    let level = r.inspection_level.as_deref().unwrap_or("INFO");
    if !matches!(level, "INFO" | "DEBUG" | "TRACE") {
        return Err(Error::validation(format!("Invalid inspectionLevel '{level}'")));
    }
    let mock = mock(r.mock.clone())?;
    let kind = &parsed.machines[0].states[state].kind;
    let needs_mock = matches!(
        kind,
        state_language::definition::Kind::Task(_)
            | state_language::definition::Kind::Map(_)
            | state_language::definition::Kind::Parallel { .. }
    );
    let resource = match kind {
        state_language::definition::Kind::Task(t) => Some(t.resource.clone()),
        _ => None,
    };
    let config = r.state_configuration.clone().unwrap_or_default();
    let id = engine.uuid();
    let context = StartContext {
        execution_arn: engine.scope.execution("TestStateMachine", &id, true),
        execution_name: id.clone(),
        state_machine_arn: engine.scope.state_machine("TestStateMachine"),
        state_machine_name: "TestStateMachine".into(),
        role_arn: r.role_arn.clone().unwrap_or_default(),
        seed: engine.random_u64(),
        redrive_count: 0,
        redrive_count_in_context: false,
        token_key: String::new(),
        map_children_running_max: 0,
    };
    let req = TestRequest {
        state,
        input,
        variables,
        context,
        mock,
        retrier_retry_count: config.retrier_retry_count.unwrap_or(0),
        context_override: json_field("context", r.context.as_deref())?,
        map_iteration_failure_count: config.map_iteration_failure_count.unwrap_or(0),
        map_item_reader_data: json_field(
            "stateConfiguration.mapItemReaderData",
            config.map_item_reader_data.as_deref(),
        )?,
        now_ms: engine.now_ms(),
    };
    let fail = |e: TestError| match e {
        TestError::NoState(_) => Error::validation(e.to_string()),
        other => Error::validation(format!("Stepwise cannot test this state: {other}")),
    };
    let mut req = req;
    if needs_mock && req.mock.is_none() {
        // As on AWS, an unmocked Task calls its service: evaluate the
        // parameters first (a dry run with an empty result), call, then
        // evaluate again with the real outcome.
        let unsupported = || {
            Error::validation(
                "Stepwise's TestState calls Lambda, SQS, DynamoDB and S3 tasks; give a 'mock' for any other resource, and for Map and Parallel states",
            )
        };
        let resource = resource.filter(|r| !r.ends_with(".waitForTaskToken")).ok_or_else(unsupported)?;
        let dry_req = TestRequest { mock: Some(Mock::Result(json!({}))), ..req.clone() };
        let dry = run_test(engine, parsed.clone(), dry_req).await?.map_err(fail)?;
        let stages = (dry.inspection.get("afterParameters"), dry.inspection.get("afterArguments"));
        let Some(params) = stages.0.or(stages.1).cloned() else {
            return Ok(reply(&dry, level)); // the input stages failed already
        };
        req.mock = Some(match engine.call_service(&resource, &params, None).await.ok_or_else(unsupported)? {
            Ok(v) => Mock::Result(v),
            Err((error, cause)) => Mock::Error { error, cause },
        });
    }
    let out = run_test(engine, parsed, req).await?.map_err(fail)?;
    Ok(reply(&out, level))
}

/// TestState's evaluation, on the engine's bounded pool (it may be as heavy as any step).
async fn run_test(
    engine: &Engine,
    def: state_language::definition::Definition,
    req: TestRequest,
) -> Result<Result<state_language::interpreter::test_state::TestOutcome, TestError>, Error> {
    engine.compute.run(move || test_state(&def, req)).await
}

/// The TestState response: stages as JSON text except the numeric ones.
fn reply(out: &state_language::interpreter::test_state::TestOutcome, level: &str) -> Tested {
    let inspection_data = (level != "INFO").then(|| {
        out.inspection
            .iter()
            .map(|(k, v)| match k.as_str() {
                // Numbers on the wire; every other stage is JSON text.
                "maxConcurrency" | "toleratedFailureCount" | "toleratedFailurePercentage" | "errorDetails" => {
                    (k.clone(), v.clone())
                }
                _ => (k.clone(), json!(state_language::json::to_string(v))),
            })
            .collect()
    });
    Tested {
        status: out.status,
        output: out.output.as_ref().map(state_language::json::to_string),
        error: out.error.clone(),
        cause: out.cause.clone(),
        next_state: out.next_state.clone(),
        inspection_data,
    }
}
