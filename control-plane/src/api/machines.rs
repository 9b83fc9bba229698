//! State machine operations.

use crate::AwsError;
use serde_json::{Value, json};

use super::{Req, decode_token, encode_token, ts};
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

pub(super) fn machine_type(r: Req<'_>) -> Result<String, Error> {
    match r.opt_str("type")? {
        None => Ok("STANDARD".into()),
        Some(t @ ("STANDARD" | "EXPRESS")) => Ok(t.into()),
        Some(t) => Err(Error::validation(format!(
            "1 validation error detected: Value '{t}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        ))),
    }
}

fn logging(r: Req<'_>) -> Value {
    r.get("loggingConfiguration").cloned().unwrap_or_else(|| json!({"level": "OFF", "includeExecutionData": false}))
}

fn tracing_config(r: Req<'_>) -> Value {
    r.get("tracingConfiguration").cloned().unwrap_or_else(|| json!({"enabled": false}))
}

pub(super) fn revision(engine: &Engine) -> String {
    engine.uuid()
}

pub(super) async fn create(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let name = r.str("name")?;
    check_name(name)?;
    let definition = r.str("definition")?;
    let role_arn = r.str("roleArn")?;
    let kind = machine_type(r)?;
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
        logging_configuration: logging(r),
        tracing_configuration: tracing_config(r),
        next_version: 1,
        published: None,
    };
    let mut writes = Vec::new();
    let mut out = json!({"stateMachineArn": arn, "creationDate": ts(now)});
    if r.bool("publish")?.unwrap_or(false) {
        let v = publish_writes(&mut m, r.bounded("versionDescription", 256)?.unwrap_or(""), now, &mut writes)?;
        out["stateMachineVersionArn"] = json!(v);
    }
    let (pk, sk) = keys::machine(&arn);
    writes.extend(blob::puts(&pk, &sk, &encode(&m), Condition::NotExists, 0)?);
    let index = json!({"stateMachineArn": arn, "name": name, "type": m.kind, "creationDate": now});
    writes.push(Write::put(keys::machines_index(name), encode(&index), Condition::None));
    if let Some(tags) = r.get("tags") {
        writes.push(Write::put(keys::tags(&arn), encode(&super::tags::parse(tags)?), Condition::None));
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
) -> Result<Option<Result<Value, Error>>, Error> {
    let Some((m, _)) = engine.machine(arn).await? else { return Ok(None) };
    if m.definition == definition && m.role_arn == role_arn && m.kind == kind {
        return Ok(Some(Ok(json!({"stateMachineArn": arn, "creationDate": ts(m.creation_ms)}))));
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

pub(super) async fn describe(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("stateMachineArn")?;
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
    let mut out = json!({
        "stateMachineArn": arn,
        "name": m.name,
        "status": "ACTIVE",
        "definition": m.definition,
        "roleArn": m.role_arn,
        "type": m.kind,
        "creationDate": ts(m.creation_ms),
        "loggingConfiguration": m.logging_configuration,
        "tracingConfiguration": m.tracing_configuration,
        "revisionId": m.revision_id,
    });
    if let Some(n) = version {
        let v = engine.version(&base_arn, n).await?.ok_or_else(|| no_machine(arn))?;
        out["definition"] = json!(v.definition);
        out["roleArn"] = json!(v.role_arn);
        out["revisionId"] = json!(v.revision_id);
        out["creationDate"] = ts(v.creation_ms);
        if !v.description.is_empty() {
            out["description"] = json!(v.description);
        }
    }
    Ok(out)
}

pub(super) async fn update(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("stateMachineArn")?;
    Arn::state_machine(arn)?;
    let definition = r.opt_str("definition")?;
    let role = r.opt_str("roleArn")?;
    let (log, trace) = (r.get("loggingConfiguration"), r.get("tracingConfiguration"));
    let publish = r.bool("publish")?.unwrap_or(false);
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
        let mut out = json!({"updateDate": ts(now), "revisionId": m.revision_id});
        if publish {
            let v = match m.published {
                Some(n) => format!("{}:{n}", m.arn),
                None => publish_writes(&mut m, r.bounded("versionDescription", 256)?.unwrap_or(""), now, &mut writes)?,
            };
            out["stateMachineVersionArn"] = json!(v);
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

pub(super) async fn delete(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("stateMachineArn")?;
    let machine = Arn::state_machine(arn)?;
    let Some((_, b)) = engine.machine(arn).await? else { return Ok(json!({})) };
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
    Ok(json!({}))
}

pub(super) async fn list(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let limit = r.max_results(100)?;
    let q = Query {
        pk: keys::MACHINES_INDEX.into(),
        sk_prefix: String::new(),
        after: decode_token(engine, r, "ListStateMachines").await?,
        limit,
        descending: false,
    };
    let page = engine.read_page(q).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for i in &page.items {
        let v: Value = decode(&i.body)?;
        items.push(json!({
            "stateMachineArn": v["stateMachineArn"],
            "name": v["name"],
            "type": v["type"],
            "creationDate": ts(v["creationDate"].as_i64().unwrap_or(0)),
        }));
    }
    let mut out = json!({"stateMachines": items});
    if let Some(last) = page.last {
        out["nextToken"] = json!(encode_token(engine, r, "ListStateMachines", &last).await?);
    }
    Ok(out)
}

pub(super) async fn for_execution(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("executionArn")?;
    let rec = super::executions::load(engine, arn).await?;
    let (pk, sk) = keys::definition(&rec.definition_hash);
    let def = engine
        .get_blob(&(pk.clone(), sk.clone()))
        .await?
        .ok_or_else(|| Error::Corrupt("a missing definition".into()))?;
    let m = engine.machine(&rec.machine_arn).await?.map(|(m, _)| m);
    let mut out = json!({
        "stateMachineArn": rec.machine_arn,
        "name": rec.machine_name,
        "definition": String::from_utf8_lossy(&def.bytes),
        "roleArn": rec.asl().and_then(|s| s.context.as_ref()).map(|c| c.role_arn.clone()).unwrap_or_default(),
        "updateDate": ts(m.as_ref().map_or(rec.start_ms, |m| m.update_ms)),
        "loggingConfiguration": m.as_ref().map_or(json!({"level": "OFF", "includeExecutionData": false}), |m| m.logging_configuration.clone()),
        "tracingConfiguration": json!({"enabled": false}),
    });
    if let Some(v) = &rec.version_arn {
        out["stateMachineVersionArn"] = json!(v);
    }
    if let Some(a) = &rec.alias_arn {
        out["stateMachineAliasArn"] = json!(a);
    }
    Ok(out)
}

pub(super) fn validate(r: Req<'_>) -> Result<Value, Error> {
    let definition = r.str("definition")?;
    let kind = machine_type(r)?;
    let report = state_language::validate_text(definition, state_language::Options { express: kind == "EXPRESS" });
    let max = r.max_results(100)?;
    let diagnostics: Vec<Value> = report
        .diagnostics
        .iter()
        .take(max)
        .map(|d| json!({"severity": d.severity, "code": d.code, "message": d.message, "location": d.location}))
        .collect();
    Ok(json!({
        "result": if report.is_ok() { "OK" } else { "FAIL" },
        "diagnostics": diagnostics,
        "truncated": report.diagnostics.len() > max,
    }))
}
