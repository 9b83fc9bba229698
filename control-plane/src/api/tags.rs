//! Tags on state machines and activities.

use crate::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Req;
use crate::Error;
use crate::arn::Arn;
use crate::engine::{Engine, encode};
use crate::model::keys;
use crate::store::{Condition, Write};

/// AWS's limit on tags per resource.
pub const TAGS_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

pub(super) fn parse(v: &Value) -> Result<Vec<Tag>, Error> {
    let tags: Vec<Tag> = serde_json::from_value(v.clone())
        .map_err(|e| Error::api(AwsError::SerializationException, format!("tags: {e}")))?;
    if tags.len() > TAGS_MAX {
        return Err(Error::api(AwsError::TooManyTags, format!("Too many tags: the limit is {TAGS_MAX}")));
    }
    if tags.iter().any(|t| t.key.is_empty() || t.key.chars().count() > 128 || t.value.chars().count() > 256) {
        return Err(Error::validation("Tag keys must be 1–128 characters and values at most 256"));
    }
    Ok(tags)
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

pub(super) async fn tag(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("resourceArn")?;
    let new = parse(r.get("tags").unwrap_or(&Value::Array(Vec::new())))?;
    let mut tags = current(engine, arn).await?;
    for t in new {
        match tags.iter_mut().find(|x| x.key == t.key) {
            Some(x) => x.value = t.value,
            None => tags.push(t),
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(Error::api(AwsError::TooManyTags, format!("Too many tags: the limit is {TAGS_MAX}")));
    }
    save(engine, arn, &tags).await?;
    Ok(json!({}))
}

pub(super) async fn untag(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let arn = r.str("resourceArn")?;
    let keys: Vec<String> = serde_json::from_value(r.get("tagKeys").cloned().unwrap_or(json!([])))
        .map_err(|e| Error::api(AwsError::SerializationException, format!("tagKeys: {e}")))?;
    let mut tags = current(engine, arn).await?;
    tags.retain(|t| !keys.contains(&t.key));
    save(engine, arn, &tags).await?;
    Ok(json!({}))
}

pub(super) async fn list(engine: &Engine, r: Req<'_>) -> Result<Value, Error> {
    let tags = current(engine, r.str("resourceArn")?).await?;
    Ok(json!({"tags": tags}))
}
