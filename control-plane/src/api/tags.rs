//! Tags on state machines and activities.

use super::shapes::requests as rq;
use super::shapes::responses::{Empty, Tags};
use crate::AwsError;
use crate::Error;
use crate::arn::Arn;
use crate::engine::{Engine, encode};
use crate::model::keys;
use crate::store::{Condition, Write};
use serde::{Deserialize, Serialize};

/// AWS's limit on tags per resource.
pub const TAGS_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Checks tags against AWS's limits.
pub(super) fn check(tags: &[Tag]) -> Result<(), Error> {
    if tags.len() > TAGS_MAX {
        return Err(Error::api(AwsError::TooManyTags, format!("Too many tags: the limit is {TAGS_MAX}")));
    }
    if tags.iter().any(|t| t.key.is_empty() || t.key.chars().count() > 128 || t.value.chars().count() > 256) {
        return Err(Error::validation("Tag keys must be 1–128 characters and values at most 256"));
    }
    Ok(())
}

async fn current(engine: &Engine, arn: &str) -> Result<Vec<Tag>, Error> {
    let exists = match Arn::parse(arn)? {
        Arn::StateMachine { .. } => engine.machine(arn).await?.is_some(),
        Arn::Activity { .. } => engine.get_record::<serde_json::Value>(&keys::activity(arn)).await?.is_some(),
        _ => false,
    };
    if !exists {
        return Err(Error::api(AwsError::ResourceNotFound, format!("Resource not found: '{arn}'")));
    }
    let (pk, sk) = keys::tags(arn);
    Ok(engine.get_record(&(pk, sk)).await?.unwrap_or_default())
}

async fn save(engine: &Engine, arn: &str, tags: &[Tag]) -> Result<(), Error> {
    engine.write_catalog(vec![Write::put(keys::tags(arn), encode(&tags), Condition::None)]).await
}

pub(super) async fn tag(engine: &Engine, r: rq::TagResource) -> Result<Empty, Error> {
    let arn = r.resource_arn.as_str();
    check(&r.tags)?;
    let mut tags = current(engine, arn).await?;
    for t in r.tags {
        match tags.iter_mut().find(|x| x.key == t.key) {
            Some(x) => x.value = t.value,
            None => tags.push(t),
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(Error::api(AwsError::TooManyTags, format!("Too many tags: the limit is {TAGS_MAX}")));
    }
    save(engine, arn, &tags).await?;
    Ok(Empty {})
}

pub(super) async fn untag(engine: &Engine, r: rq::UntagResource) -> Result<Empty, Error> {
    let mut tags = current(engine, &r.resource_arn).await?;
    tags.retain(|t| !r.tag_keys.contains(&t.key));
    save(engine, &r.resource_arn, &tags).await?;
    Ok(Empty {})
}

pub(super) async fn list(engine: &Engine, r: rq::ResourceArn) -> Result<Tags, Error> {
    Ok(Tags { tags: current(engine, &r.resource_arn).await? })
}
