//! Structural validation with the project's JSON Schema for ASL.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::{Diagnostic, code, error};

/// Findings from one schema run are capped; the builder adds semantic ones.
const SCHEMA_DIAGNOSTICS_MAX: usize = 100;

static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();

/// The schema text, also published for editors and tools.
pub const ASL_SCHEMA: &str = include_str!("asl.schema.json");

fn validator() -> Option<&'static jsonschema::Validator> {
    VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(ASL_SCHEMA).ok()?;
            jsonschema::validator_for(&schema).ok()
        })
        .as_ref()
}

pub(super) fn check(v: &Value) -> Vec<Diagnostic> {
    let Some(validator) = validator() else {
        return vec![error(code::SCHEMA, "", "internal: the ASL schema failed to compile")];
    };
    let mut out: Vec<Diagnostic> = Vec::new();
    for e in validator.iter_errors(v).take(SCHEMA_DIAGNOSTICS_MAX) {
        let location = e.instance_path().to_string();
        let message = match e.kind() {
            ValidationErrorKind::Required { property } => {
                format!("These fields are required: [{}]", property.as_str().unwrap_or_default())
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                format!("Field '{}' is not supported", unexpected.join("', '"))
            }
            _ => {
                let field = location.rsplit('/').next().unwrap_or_default();
                format!("The value for the field '{field}' is invalid: {e}")
            }
        };
        // Merge several missing fields of one object into AWS's single line.
        if let (Some(prev), true) = (out.last_mut(), message.starts_with("These fields are required: ["))
            && prev.location == location
            && prev.message.starts_with("These fields are required: [")
        {
            let add = message.trim_start_matches("These fields are required: [").trim_end_matches(']');
            prev.message = format!("{}, {add}]", prev.message.trim_end_matches(']'));
            continue;
        }
        out.push(error(code::SCHEMA, location, message));
    }
    out
}
