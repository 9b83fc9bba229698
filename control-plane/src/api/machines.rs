//! State machine operations.

use crate::AwsError;
use serde_json::{Value, json};

use super::shapes::responses::{
    Created, DescribeStateMachine, Diagnostic, Empty, ListStateMachines, StateMachineForExecution, StateMachineItem,
    UpdateStateMachine, Validated,
};
use super::shapes::{Ts, bounded, max_results, one_of, requests as rq};
use super::{decode_token, encode_token};
use crate::Error;
use crate::arn::{Arn, check_name};
use crate::engine::{Engine, decode, encode};
use crate::model::{MachineRecord, VersionRecord, keys};
use crate::store::{Condition, Query, Write, blob};

pub(super) fn no_machine(arn: &str) -> Error {
    Error::api(AwsError::StateMachineDoesNotExist, format!("State Machine Does Not Exist: '{arn}'"))
}

/// Validates a definition for `kind`; `InvalidDefinition` with AWS's message otherwise.
pub(super) fn check_definition(text: &str, kind: &str) -> Result<(), Error> {
    // A code workflow type: a task queue that workers of its code poll.
    if let Some(checked) = crate::engine::code::check_definition(text) {
        if kind == "EXPRESS" {
            return Err(Error::api(AwsError::InvalidDefinition, "A code workflow's type must be STANDARD"));
        }
        return checked;
    }
    let report = state_language::validate_text(text, state_language::Options { express: kind == "EXPRESS" });
    if report.is_ok() { Ok(()) } else { Err(Error::api(AwsError::InvalidDefinition, report.aws_message())) }
}

/// A machine's `type`: STANDARD when absent.
pub(super) fn machine_type(t: Option<&str>) -> Result<String, Error> {
    Ok(one_of("type", t.unwrap_or("STANDARD"), &["STANDARD", "EXPRESS"])?.to_string())
}

/// AWS's bound on a version's description, in characters.
const DESCRIPTION_CHARS_MAX: usize = 256;

fn logging_off() -> Value {
    json!({"level": "OFF", "includeExecutionData": false})
}

pub(super) fn revision(engine: &Engine) -> String {
    engine.uuid()
}

pub(super) async fn create(engine: &Engine, r: rq::CreateStateMachine) -> Result<Created, Error> {
    let (name, definition, role_arn) = (r.name.as_str(), r.definition.as_str(), r.role_arn.as_str());
    check_name(name)?;
    let kind = machine_type(r.r#type.as_deref())?;
    check_definition(definition, &kind)?;
    let arn = engine.scope.state_machine(name);
    let now = engine.now_ms();
    if let Some(answer) = identical(engine, &arn, definition, role_arn, &kind).await? {
        return answer;
    }
    let mut m = MachineRecord {
        arn: arn.clone(),
        name: name.into(),
        kind,
        definition: definition.into(),
        role_arn: role_arn.into(),
        creation_ms: now,
        update_ms: now,
        revision_id: revision(engine),
        description: String::new(),
        logging_configuration: r.logging_configuration.clone().unwrap_or_else(logging_off),
        tracing_configuration: r.tracing_configuration.clone().unwrap_or_else(|| json!({"enabled": false})),
        next_version: 1,
        published: None,
    };
    let mut writes = Vec::new();
    let mut out = Created { state_machine_arn: arn.clone(), creation_date: Ts(now), state_machine_version_arn: None };
    if r.publish.unwrap_or(false) {
        let description = bounded("versionDescription", r.version_description.as_deref(), DESCRIPTION_CHARS_MAX)?;
        out.state_machine_version_arn = Some(publish_writes(&mut m, description.unwrap_or(""), now, &mut writes)?);
    }
    let (pk, sk) = keys::machine(&arn);
    writes.extend(blob::puts(&pk, &sk, &encode(&m), Condition::NotExists, 0)?);
    let index = json!({"stateMachineArn": arn, "name": name, "type": m.kind, "creationDate": now});
    writes.push(Write::put(keys::machines_index(name), encode(&index), Condition::None));
    if let Some(tags) = &r.tags {
        super::tags::check(tags)?;
        writes.push(Write::put(keys::tags(&arn), encode(tags), Condition::None));
    }
    match engine.write_catalog(writes).await {
        // Created meanwhile by another request (two workers registering
        // their type at once): the same answer as if it had come first.
        Err(Error::ConditionFailed(_)) => match identical(engine, &arn, definition, role_arn, &m.kind).await? {
            Some(answer) => answer,
            None => Err(already_exists(&arn)),
        },
        other => other.map(|()| out),
    }
}

/// AWS's CreateStateMachine is idempotent for an identical request: the
/// answer to a create of an existing machine (`None` if there is none).
async fn identical(
    engine: &Engine,
    arn: &str,
    definition: &str,
    role_arn: &str,
    kind: &str,
) -> Result<Option<Result<Created, Error>>, Error> {
    let Some((m, _)) = engine.machine(arn).await? else { return Ok(None) };
    if m.definition == definition && m.role_arn == role_arn && m.kind == kind {
        let created = Created {
            state_machine_arn: arn.into(),
            creation_date: Ts(m.creation_ms),
            state_machine_version_arn: None,
        };
        return Ok(Some(Ok(created)));
    }
    Ok(Some(Err(already_exists(arn))))
}

fn already_exists(arn: &str) -> Error {
    Error::api(AwsError::StateMachineAlreadyExists, format!("State Machine Already Exists: '{arn}'"))
}

/// Publishes the machine's current revision as its next version.
pub(super) fn publish_writes(
    m: &mut MachineRecord,
    description: &str,
    now: i64,
    writes: &mut Vec<Write>,
) -> Result<String, Error> {
    let n = m.next_version;
    let v = VersionRecord {
        arn: format!("{}:{n}", m.arn),
        number: n,
        machine_arn: m.arn.clone(),
        definition: m.definition.clone(),
        role_arn: m.role_arn.clone(),
        revision_id: m.revision_id.clone(),
        description: description.into(),
        creation_ms: now,
        kind: m.kind.clone(),
    };
    let (pk, sk) = keys::version(&m.arn, n);
    writes.extend(blob::puts(&pk, &sk, &encode(&v), Condition::NotExists, 0)?);
    m.next_version += 1;
    m.published = Some(n);
    Ok(v.arn)
}

pub(super) async fn describe(engine: &Engine, r: rq::StateMachineArn) -> Result<DescribeStateMachine, Error> {
    let arn = r.state_machine_arn.as_str();
    let (base, version) = match Arn::parse(arn)? {
        Arn::StateMachine { machine } => (machine, None),
        Arn::Version { machine, version } => (machine, Some(version)),
        _ => {
            return Err(Error::api(
                AwsError::InvalidArn,
                format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
            ));
        }
    };
    let base_arn = engine.scope.state_machine(&base);
    let (m, _) = engine.machine(&base_arn).await?.ok_or_else(|| no_machine(arn))?;
    let mut out = DescribeStateMachine {
        state_machine_arn: arn.into(),
        name: m.name,
        status: "ACTIVE",
        definition: m.definition,
        role_arn: m.role_arn,
        r#type: m.kind,
        creation_date: Ts(m.creation_ms),
        logging_configuration: m.logging_configuration,
        tracing_configuration: m.tracing_configuration,
        revision_id: m.revision_id,
        description: None,
    };
    if let Some(n) = version {
        let v = engine.version(&base_arn, n).await?.ok_or_else(|| no_machine(arn))?;
        out.definition = v.definition;
        out.role_arn = v.role_arn;
        out.revision_id = v.revision_id;
        out.creation_date = Ts(v.creation_ms);
        out.description = Some(v.description).filter(|d| !d.is_empty());
    }
    Ok(out)
}

pub(super) async fn update(engine: &Engine, r: rq::UpdateStateMachine) -> Result<UpdateStateMachine, Error> {
    let arn = r.state_machine_arn.as_str();
    Arn::state_machine(arn)?;
    let definition = r.definition.as_deref();
    let role = r.role_arn.as_deref();
    let (log, trace) = (r.logging_configuration.as_ref(), r.tracing_configuration.as_ref());
    let publish = r.publish.unwrap_or(false);
    if definition.is_none() && role.is_none() && log.is_none() && trace.is_none() && !publish {
        return Err(Error::api(
            AwsError::MissingRequiredParameter,
            "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified",
        ));
    }
    for _ in 0..crate::engine::COMMIT_ATTEMPTS_MAX {
        let (mut m, b) = engine.machine(arn).await?.ok_or_else(|| no_machine(arn))?;
        if let Some(d) = definition {
            check_definition(d, &m.kind)?;
        }
        let changed = definition.is_some_and(|d| d != m.definition) || role.is_some_and(|x| x != m.role_arn);
        let now = engine.now_ms();
        if changed {
            m.revision_id = revision(engine);
            m.published = None;
        }
        if let Some(d) = definition {
            m.definition = d.into();
        }
        if let Some(x) = role {
            m.role_arn = x.into();
        }
        if let Some(l) = log {
            m.logging_configuration = l.clone();
        }
        if let Some(t) = trace {
            m.tracing_configuration = t.clone();
        }
        m.update_ms = now;
        let mut writes = Vec::new();
        let mut out = UpdateStateMachine {
            update_date: Ts(now),
            revision_id: m.revision_id.clone(),
            state_machine_version_arn: None,
        };
        if publish {
            let description = bounded("versionDescription", r.version_description.as_deref(), DESCRIPTION_CHARS_MAX)?;
            out.state_machine_version_arn = Some(match m.published {
                Some(n) => format!("{}:{n}", m.arn),
                None => publish_writes(&mut m, description.unwrap_or(""), now, &mut writes)?,
            });
        }
        let (pk, sk) = keys::machine(arn);
        writes.extend(blob::puts(&pk, &sk, &encode(&m), Condition::Version(b.version), b.parts)?);
        match engine.write_catalog(writes).await {
            Ok(()) => return Ok(out),
            Err(Error::ConditionFailed(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::api(AwsError::ConflictException, "The state machine changed too often to update; retry"))
}

pub(super) async fn delete(engine: &Engine, r: rq::StateMachineArn) -> Result<Empty, Error> {
    let arn = r.state_machine_arn.as_str();
    let machine = Arn::state_machine(arn)?;
    let Some((_, b)) = engine.machine(arn).await? else { return Ok(Empty {}) };
    let (pk, sk) = keys::machine(arn);
    // Versions and aliases go with it, page by page; executions keep running
    // on their own copy of the definition.
    loop {
        let q = Query { pk: pk.clone(), sk_prefix: String::new(), after: None, limit: 90, descending: false };
        let page = engine.read_page(q).await?;
        let rest: Vec<Write> = page
            .items
            .iter()
            .filter(|i| i.sk.starts_with("V#") || i.sk.starts_with("A#"))
            .map(|i| Write::delete((i.pk.clone(), i.sk.clone())))
            .collect();
        if rest.is_empty() {
            break;
        }
        engine.write_catalog(rest).await?;
    }
    let mut writes = blob::deletes(&pk, &sk, b.parts);
    writes.push(Write::delete(keys::machines_index(&machine)));
    writes.push(Write::delete(keys::tags(arn)));
    engine.write_catalog(writes).await?;
    Ok(Empty {})
}

pub(super) async fn list(engine: &Engine, r: rq::Page) -> Result<ListStateMachines, Error> {
    let limit = max_results(r.max_results, 100)?;
    let q = Query {
        pk: keys::MACHINES_INDEX.into(),
        sk_prefix: String::new(),
        after: decode_token(engine, &r, "ListStateMachines").await?,
        limit,
        descending: false,
    };
    let page = engine.read_page(q).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for i in &page.items {
        let v: Value = decode(&i.body)?;
        items.push(StateMachineItem {
            creation_date: Ts(v["creationDate"]
                .as_i64()
                .ok_or_else(|| Error::Corrupt("an index entry without a creation date".into()))?),
            state_machine_arn: v["stateMachineArn"].clone(),
            name: v["name"].clone(),
            r#type: v["type"].clone(),
        });
    }
    let next_token = match page.last {
        Some(last) => Some(encode_token(engine, &r, "ListStateMachines", &last).await?),
        None => None,
    };
    Ok(ListStateMachines { state_machines: items, next_token })
}

pub(super) async fn for_execution(engine: &Engine, r: rq::ExecutionArn) -> Result<StateMachineForExecution, Error> {
    let rec = super::executions::load(engine, &r.execution_arn).await?;
    let (pk, sk) = keys::definition(&rec.definition_hash);
    let def = engine
        .get_blob(&(pk.clone(), sk.clone()))
        .await?
        .ok_or_else(|| Error::Corrupt("a missing definition".into()))?;
    let m = engine.machine(&rec.machine_arn).await?.map(|(m, _)| m);
    // A Map Run child's machine is `<machine>/<label>`: AWS gives the Map Run and the label.
    let map_run_arn = rec.map_run_arn().map(str::to_string);
    let label = map_run_arn.as_ref().and_then(|_| rec.machine_name.split_once('/')).map(|(_, l)| l.to_string());
    Ok(StateMachineForExecution {
        map_run_arn,
        label,
        definition: String::from_utf8_lossy(&def.bytes).into_owned(),
        // A code run has no ASL context, and so no role.
        role_arn: rec.asl().and_then(|s| s.context.as_ref()).map(|c| c.role_arn.clone()).unwrap_or_default(),
        update_date: Ts(m.as_ref().map_or(rec.start_ms, |m| m.update_ms)),
        logging_configuration: m.as_ref().map_or_else(logging_off, |m| m.logging_configuration.clone()),
        tracing_configuration: json!({"enabled": false}),
        state_machine_arn: rec.machine_arn,
        name: rec.machine_name,
        state_machine_version_arn: rec.version_arn,
        state_machine_alias_arn: rec.alias_arn,
    })
}

pub(super) fn validate(r: rq::ValidateStateMachineDefinition) -> Result<Validated, Error> {
    let kind = machine_type(r.r#type.as_deref())?;
    let report = state_language::validate_text(&r.definition, state_language::Options { express: kind == "EXPRESS" });
    let max = max_results(r.max_results, 100)?;
    let diagnostics = report
        .diagnostics
        .iter()
        .take(max)
        .map(|d| Diagnostic {
            severity: d.severity,
            code: d.code,
            message: d.message.clone(),
            location: d.location.clone(),
        })
        .collect();
    Ok(Validated {
        result: if report.is_ok() { "OK" } else { "FAIL" },
        diagnostics,
        truncated: report.diagnostics.len() > max,
    })
}
