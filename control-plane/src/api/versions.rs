//! Versions and aliases.

use super::machines::{no_machine, publish_writes};
use super::shapes::responses::{
    AliasCreated, DescribeAlias, Empty, ListAliases, ListVersions, Published, Updated, VersionItem,
};
use super::shapes::{Ts, bounded, max_results, requests as rq};
use super::{decode_token, encode_token};
use crate::AwsError;
use crate::Error;
use crate::arn::Arn;
use crate::engine::{COMMIT_ATTEMPTS_MAX, Engine, decode, encode};
use crate::model::{AliasRecord, Route, keys};
use crate::store::{Condition, Query, Write, blob};

/// AWS allows an alias to route to one or two versions.
const ROUTES_MAX: usize = 2;
/// AWS's bound on a version's or an alias's description, in characters.
const DESCRIPTION_CHARS_MAX: usize = 256;

pub(super) async fn publish(engine: &Engine, r: rq::PublishStateMachineVersion) -> Result<Published, Error> {
    let arn = r.state_machine_arn.as_str();
    Arn::state_machine(arn)?;
    let description = bounded("description", r.description.as_deref(), DESCRIPTION_CHARS_MAX)?.unwrap_or("");
    for _ in 0..COMMIT_ATTEMPTS_MAX {
        let (mut m, b) = engine.machine(arn).await?.ok_or_else(|| no_machine(arn))?;
        if let Some(rev) = &r.revision_id
            && *rev != m.revision_id
        {
            return Err(Error::api(
                AwsError::ConflictException,
                format!(
                    "Failed to publish the State Machine version for revision {rev}. The current State Machine revision is {}.",
                    m.revision_id
                ),
            ));
        }
        if let Some(n) = m.published
            && let Some(v) = engine.version(arn, n).await?
        {
            return Ok(Published { creation_date: Ts(v.creation_ms), state_machine_version_arn: v.arn });
        }
        let now = engine.now_ms();
        let mut writes = Vec::new();
        let v = publish_writes(&mut m, description, now, &mut writes)?;
        let (pk, sk) = keys::machine(arn);
        writes.extend(blob::puts(&pk, &sk, &encode(&m), Condition::Version(b.version), b.parts)?);
        match engine.write_catalog(writes).await {
            Ok(()) => return Ok(Published { creation_date: Ts(now), state_machine_version_arn: v }),
            Err(Error::ConditionFailed(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::api(AwsError::ConflictException, "The state machine changed too often to publish; retry"))
}

pub(super) async fn list(engine: &Engine, r: rq::MachinePage) -> Result<ListVersions, Error> {
    let arn = r.state_machine_arn.as_str();
    Arn::state_machine(arn)?;
    engine.machine(arn).await?.ok_or_else(|| no_machine(arn))?;
    let (pk, _) = keys::machine(arn);
    let q = Query {
        pk,
        sk_prefix: "V#".into(),
        after: decode_token(engine, &r, "ListStateMachineVersions").await?,
        limit: max_results(r.max_results, 100)?,
        descending: true,
    };
    let page = engine.read_page(q).await?;
    let mut out = Vec::new();
    for i in page.items.into_iter().filter(|i| !i.sk.contains('~')) {
        // A version deleted since the page was read is not listed.
        let Some(b) = engine.assemble(i).await? else { continue };
        let v: crate::model::VersionRecord = decode(&b.bytes)?;
        out.push(VersionItem { state_machine_version_arn: v.arn, creation_date: Ts(v.creation_ms) });
    }
    let next_token = match page.last {
        Some(last) => Some(encode_token(engine, &r, "ListStateMachineVersions", &last).await?),
        None => None,
    };
    Ok(ListVersions { state_machine_versions: out, next_token })
}

async fn aliases_of(engine: &Engine, machine_arn: &str) -> Result<Vec<AliasRecord>, Error> {
    let (pk, _) = keys::machine(machine_arn);
    let q = Query { pk, sk_prefix: "A#".into(), after: None, limit: 100, descending: false };
    engine.read_page(q).await?.items.iter().map(|i| decode(&i.body)).collect()
}

pub(super) async fn delete(engine: &Engine, r: rq::StateMachineVersionArn) -> Result<Empty, Error> {
    let arn = r.state_machine_version_arn.as_str();
    let Arn::Version { machine, version } = Arn::parse(arn)? else {
        return Err(Error::api(
            AwsError::InvalidArn,
            format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
        ));
    };
    let machine_arn = engine.scope.state_machine(&machine);
    if aliases_of(engine, &machine_arn)
        .await?
        .iter()
        .any(|a| a.routing.iter().any(|x| x.state_machine_version_arn == arn))
    {
        return Err(Error::api(
            AwsError::ConflictException,
            format!(
                "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: {arn}"
            ),
        ));
    }
    let (pk, sk) = keys::version(&machine_arn, version);
    if let Some(b) = engine.get_blob(&(pk.clone(), sk.clone())).await? {
        engine.write_catalog(blob::deletes(&pk, &sk, b.parts)).await?;
    }
    Ok(Empty {})
}

fn alias_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.chars().any(|c| !c.is_ascii_digit());
    if ok { Ok(()) } else { Err(Error::api(AwsError::InvalidName, format!("Invalid Name: '{name}'"))) }
}

/// Parses and checks a routing configuration: one or two versions of one machine, weights summing to 100.
async fn routing(engine: &Engine, routes: Vec<Route>) -> Result<(String, Vec<Route>), Error> {
    if routes.is_empty() || routes.len() > ROUTES_MAX {
        return Err(Error::validation("Routing configuration must contain one or two versions"));
    }
    if routes.iter().map(|r| r.weight).sum::<u64>() != 100 {
        return Err(Error::validation("Sum of routing configuration weights must equal 100"));
    }
    let mut machine = None;
    for route in &routes {
        let Arn::Version { machine: m, version } = Arn::parse(&route.state_machine_version_arn)? else {
            return Err(Error::validation(format!(
                "Routing configuration must contain state machine version ARNs: {}",
                route.state_machine_version_arn
            )));
        };
        if machine.as_ref().is_some_and(|x| x != &m) {
            return Err(Error::validation("Routing configuration versions must belong to the same state machine"));
        }
        let machine_arn = engine.scope.state_machine(&m);
        engine.version(&machine_arn, version).await?.ok_or_else(|| {
            Error::api(AwsError::ResourceNotFound, format!("Resource not found: '{}'", route.state_machine_version_arn))
        })?;
        machine = Some(m);
    }
    let machine = machine.expect("a routing configuration of one or two versions names a machine");
    Ok((engine.scope.state_machine(&machine), routes))
}

pub(super) async fn create_alias(engine: &Engine, r: rq::CreateStateMachineAlias) -> Result<AliasCreated, Error> {
    let name = r.name.as_str();
    alias_name(name)?;
    let description =
        bounded("description", r.description.as_deref(), DESCRIPTION_CHARS_MAX)?.unwrap_or("").to_string();
    let (machine_arn, routes) = routing(engine, r.routing_configuration).await?;
    let arn = format!("{machine_arn}:{name}");
    let now = engine.now_ms();
    if let Some(existing) = engine.alias(&machine_arn, name).await? {
        if existing.routing == routes && existing.description == description {
            return Ok(AliasCreated { state_machine_alias_arn: arn, creation_date: Ts(existing.creation_ms) });
        }
        return Err(Error::api(AwsError::ConflictException, format!("Alias already exists: '{arn}'")));
    }
    let rec = AliasRecord {
        arn: arn.clone(),
        name: name.into(),
        description,
        routing: routes,
        creation_ms: now,
        update_ms: now,
    };
    let w = Write::put(keys::alias(&machine_arn, name), encode(&rec), Condition::NotExists);
    match engine.write_catalog(vec![w]).await {
        Err(Error::ConditionFailed(_)) => {
            Err(Error::api(AwsError::ConflictException, format!("Alias already exists: '{arn}'")))
        }
        other => other.map(|()| AliasCreated { state_machine_alias_arn: arn, creation_date: Ts(now) }),
    }
}

async fn load_alias(engine: &Engine, arn: &str) -> Result<(String, AliasRecord), Error> {
    let Arn::Alias { machine, alias } = Arn::parse(arn)? else {
        return Err(Error::api(
            AwsError::InvalidArn,
            format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
        ));
    };
    let machine_arn = engine.scope.state_machine(&machine);
    let rec = engine
        .alias(&machine_arn, &alias)
        .await?
        .ok_or_else(|| Error::api(AwsError::ResourceNotFound, format!("Resource not found: '{arn}'")))?;
    Ok((machine_arn, rec))
}

pub(super) async fn describe_alias(engine: &Engine, r: rq::StateMachineAliasArn) -> Result<DescribeAlias, Error> {
    let (_, a) = load_alias(engine, &r.state_machine_alias_arn).await?;
    Ok(DescribeAlias {
        state_machine_alias_arn: a.arn,
        name: a.name,
        routing_configuration: a.routing,
        creation_date: Ts(a.creation_ms),
        update_date: Ts(a.update_ms),
        description: Some(a.description).filter(|d| !d.is_empty()),
    })
}

pub(super) async fn update_alias(engine: &Engine, r: rq::UpdateStateMachineAlias) -> Result<Updated, Error> {
    let (machine_arn, mut a) = load_alias(engine, &r.state_machine_alias_arn).await?;
    let description = bounded("description", r.description.as_deref(), DESCRIPTION_CHARS_MAX)?;
    if let Some(routes) = r.routing_configuration {
        let (m, routes) = routing(engine, routes).await?;
        if m != machine_arn {
            return Err(Error::validation("Routing configuration versions must belong to the alias's state machine"));
        }
        a.routing = routes;
    }
    if let Some(d) = description {
        a.description = d.into();
    }
    a.update_ms = engine.now_ms();
    engine.write_catalog(vec![Write::put(keys::alias(&machine_arn, &a.name), encode(&a), Condition::Exists)]).await?;
    Ok(Updated { update_date: Ts(a.update_ms) })
}

pub(super) async fn delete_alias(engine: &Engine, r: rq::StateMachineAliasArn) -> Result<Empty, Error> {
    let arn = r.state_machine_alias_arn.as_str();
    let Arn::Alias { machine, alias } = Arn::parse(arn)? else {
        return Err(Error::api(
            AwsError::InvalidArn,
            format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
        ));
    };
    let machine_arn = engine.scope.state_machine(&machine);
    engine.write_catalog(vec![Write::delete(keys::alias(&machine_arn, &alias))]).await?;
    Ok(Empty {})
}

pub(super) async fn list_aliases(engine: &Engine, r: rq::MachinePage) -> Result<ListAliases, Error> {
    let arn = r.state_machine_arn.as_str();
    Arn::state_machine(arn)?;
    engine.machine(arn).await?.ok_or_else(|| no_machine(arn))?;
    let aliases = aliases_of(engine, arn)
        .await?
        .into_iter()
        .map(|a| AliasCreated { state_machine_alias_arn: a.arn, creation_date: Ts(a.creation_ms) })
        .collect();
    Ok(ListAliases { state_machine_aliases: aliases })
}
