//! The API's request and response shapes, typed at the boundary.
//!
//! A request is parsed once, into the operation's struct, before any handler
//! sees it. Type errors are AWS's `SerializationException` naming the field;
//! a missing (or null) required member is AWS's `ValidationException`
//! ("Value null at '…'"). Unknown members are ignored, as AWS's JSON 1.0
//! services ignore them. Responses are structs too, serialized in one place,
//! so a field's name and type are written once.

pub(crate) mod requests;
pub(crate) mod responses;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::{AwsError, Error};

/// Parses a request body into `T`, with AWS's error types.
pub(crate) fn parse<T: DeserializeOwned>(request: Value) -> Result<T, Error> {
    // serde would take an array as a struct's members in order; AWS takes only an object.
    if !request.is_object() {
        return Err(Error::api(AwsError::SerializationException, "The request body must be a JSON object"));
    }
    serde_path_to_error::deserialize(request).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        if let Some(field) = missing_field(&inner) {
            return null_member(&join(&path, field));
        }
        if inner.starts_with("invalid type: null") {
            return null_member(&path);
        }
        Error::api(AwsError::SerializationException, format!("'{path}': {inner}"))
    })
}

/// serde's "missing field `x`" message: the field's name.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

fn join(parent: &str, field: &str) -> String {
    if parent == "." || parent.is_empty() { field.to_string() } else { format!("{parent}.{field}") }
}

/// AWS's answer for a required member that is absent.
pub(crate) fn null_member(field: &str) -> Error {
    Error::validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

/// AWS's answer for a member over its length.
pub(crate) fn too_long(field: &str, max: usize) -> Error {
    Error::validation(format!(
        "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
    ))
}

/// A string member of at most `max` characters.
pub(crate) fn bounded<'a>(field: &str, value: Option<&'a str>, max: usize) -> Result<Option<&'a str>, Error> {
    match value {
        Some(s) if s.chars().count() > max => Err(too_long(field, max)),
        other => Ok(other),
    }
}

/// A required string member of at most `max` characters.
pub(crate) fn bounded_required<'a>(field: &str, value: Option<&'a str>, max: usize) -> Result<&'a str, Error> {
    bounded(field, value, max)?.ok_or_else(|| null_member(field))
}

/// `maxResults`: 0 or absent means the default; AWS's range is 0–1000.
pub(crate) fn max_results(value: Option<u64>, default: usize) -> Result<usize, Error> {
    match value {
        None | Some(0) => Ok(default),
        Some(n) if n <= 1000 => Ok(n as usize),
        Some(_) => Err(Error::validation(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
        )),
    }
}

/// A member that must be one of an enumeration's values.
pub(crate) fn one_of<'a>(field: &str, value: &'a str, allowed: &[&str]) -> Result<&'a str, Error> {
    if allowed.contains(&value) {
        return Ok(value);
    }
    Err(Error::validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    )))
}

/// A timestamp in milliseconds since the epoch, rendered as AWS JSON 1.0
/// renders timestamps: seconds, as a number with a fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ts(pub i64);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0 as f64 / 1000.0)
    }
}

/// A request that pages: its token, and the fields its token is bound to
/// (every field but those that only shape a page).
pub(crate) trait Paged: Serialize {
    fn next_token(&self) -> Option<&str>;
}

/// Serializes a response; the shapes are plain data, so this cannot fail.
pub(crate) fn reply<T: Serialize>(response: T) -> Value {
    serde_json::to_value(response).expect("a response shape serializes to JSON")
}

#[cfg(test)]
mod tests;
