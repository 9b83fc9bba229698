//! Finding what a StartExecution names: a state machine, one of its
//! versions, or an alias that routes between two versions by weight.

use super::{Engine, StartRequest, decode};
use crate::AwsError;
use crate::Error;
use crate::arn::Arn;
use crate::model::{AliasRecord, MachineRecord, VersionRecord, keys};
use crate::store::blob;

fn no_machine(arn: &str) -> Error {
    Error::api(AwsError::StateMachineDoesNotExist, format!("State Machine Does Not Exist: '{arn}'"))
}

impl Engine {
    pub async fn machine(&self, arn: &str) -> Result<Option<(MachineRecord, blob::Blob)>, Error> {
        let (pk, sk) = keys::machine(arn);
        match blob::get(&*self.store, &pk, &sk).await? {
            Some(b) => Ok(Some((decode(&b.bytes)?, b))),
            None => Ok(None),
        }
    }

    pub async fn version(&self, machine_arn: &str, n: u64) -> Result<Option<VersionRecord>, Error> {
        let (pk, sk) = keys::version(machine_arn, n);
        blob::get(&*self.store, &pk, &sk).await?.map(|b| decode(&b.bytes)).transpose()
    }

    pub async fn alias(&self, machine_arn: &str, name: &str) -> Result<Option<AliasRecord>, Error> {
        let (pk, sk) = keys::alias(machine_arn, name);
        self.store.get(&pk, &sk).await?.map(|i| decode(&i.body)).transpose()
    }

    /// The start request for `arn` with an empty name and input.
    pub async fn resolve_for_start(&self, arn: &str) -> Result<StartRequest, Error> {
        let (base, version, alias) = match Arn::parse(arn)? {
            Arn::StateMachine { machine } => (machine, None, None),
            Arn::Version { machine, version } => (machine, Some(version), None),
            Arn::Alias { machine, alias } => (machine, None, Some(alias)),
            _ => {
                return Err(Error::api(
                    AwsError::InvalidArn,
                    format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"),
                ));
            }
        };
        let machine_arn = self.scope.state_machine(&base);
        let (m, _) = self.machine(&machine_arn).await?.ok_or_else(|| no_machine(arn))?;
        let mut req = StartRequest {
            machine_arn: m.arn.clone(),
            machine_name: m.name.clone(),
            version_arn: None,
            alias_arn: None,
            definition: m.definition.clone(),
            role_arn: m.role_arn.clone(),
            express: m.kind == "EXPRESS",
            name: String::new(),
            input: "{}".into(),
            trace_header: None,
            parent: None,
        };
        let version = match alias {
            Some(a) => {
                let rec = self
                    .alias(&machine_arn, &a)
                    .await?
                    .ok_or_else(|| Error::api(AwsError::ResourceNotFound, format!("Resource not found: '{arn}'")))?;
                req.alias_arn = Some(rec.arn.clone());
                Some(pick(&rec, self.random_u64()))
            }
            None => version,
        };
        if let Some(n) = version {
            let v = self.version(&machine_arn, n).await?.ok_or_else(|| no_machine(arn))?;
            req.version_arn = Some(v.arn);
            req.definition = v.definition;
            req.role_arn = v.role_arn;
        }
        Ok(req)
    }
}

/// A version from an alias's routing, drawn by weight.
fn pick(alias: &AliasRecord, random: u64) -> u64 {
    let total: u64 = alias.routing.iter().map(|r| r.weight).sum();
    let mut draw = if total == 0 { 0 } else { random % total };
    for r in &alias.routing {
        if draw < r.weight {
            return version_number(&r.state_machine_version_arn);
        }
        draw -= r.weight;
    }
    alias.routing.first().map_or(0, |r| version_number(&r.state_machine_version_arn))
}

fn version_number(arn: &str) -> u64 {
    arn.rsplit(':').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}
