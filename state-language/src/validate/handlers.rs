//! Retry and Catch: field ranges, `States.ALL` placement and Catch targets.

//! Builds the typed definition, reporting semantic problems as it goes.

use std::collections::HashMap;

use serde_json::Value;

use super::code;
use crate::definition::{Catcher, Jitter, QueryLanguage, Retrier, StateId};
use crate::limits;
use crate::path::Path;

use super::build::Builder;

impl Builder {
    pub(super) fn retriers(&mut self, v: Option<&Value>, at: &str) -> Vec<Retrier> {
        let mut out = Vec::new();
        let items = v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (i, r) in items.iter().enumerate() {
            let rat = format!("{at}/{i}");
            let Some(r) = r.as_object() else { continue };
            let error_equals = self.error_equals(r.get("ErrorEquals"), &rat, i + 1 == items.len());
            let jitter = match r.get("JitterStrategy").and_then(Value::as_str) {
                Some("FULL") => Jitter::Full,
                _ => Jitter::None,
            };
            out.push(Retrier {
                error_equals,
                interval_seconds: r.get("IntervalSeconds").and_then(Value::as_u64).unwrap_or(1),
                max_attempts: r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3).min(limits::RETRY_ATTEMPTS_MAX),
                backoff_rate: r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0),
                max_delay_seconds: r.get("MaxDelaySeconds").and_then(Value::as_u64),
                jitter,
            });
        }
        out
    }

    pub(super) fn catchers(
        &mut self,
        v: Option<&Value>,
        at: &str,
        names: &HashMap<&str, StateId>,
        lang: QueryLanguage,
    ) -> Vec<Catcher> {
        let mut out = Vec::new();
        let items = v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (i, c) in items.iter().enumerate() {
            let cat = format!("{at}/{i}");
            let Some(c) = c.as_object() else { continue };
            let error_equals = self.error_equals(c.get("ErrorEquals"), &cat, i + 1 == items.len());
            let next = match c.get("Next").and_then(Value::as_str) {
                Some(n) => self.target(names, n, &format!("{cat}/Next")),
                None => 0,
            };
            let mut result_path = Path::parse("$").ok();
            if lang == QueryLanguage::JSONPath
                && let Some(p) = self.path(c.get("ResultPath"), &format!("{cat}/ResultPath"), true)
            {
                result_path = p;
            }
            let (mut assign, mut assign_jsonata, mut output) = (None, None, None);
            if lang == QueryLanguage::JSONPath {
                assign = self.template(c.get("Assign"), &format!("{cat}/Assign"));
            } else {
                assign_jsonata = self.jt(c.get("Assign"), &format!("{cat}/Assign"));
                output = self.jt(c.get("Output"), &format!("{cat}/Output"));
            }
            out.push(Catcher { error_equals, next, result_path, assign, output, assign_jsonata });
        }
        out
    }

    pub(super) fn error_equals(&mut self, v: Option<&Value>, at: &str, last: bool) -> Vec<String> {
        let names: Vec<String> =
            v.and_then(Value::as_array).into_iter().flatten().filter_map(|e| e.as_str().map(str::to_string)).collect();
        if names.iter().any(|n| n == "States.ALL") && (names.len() != 1 || !last) {
            self.err(
                code::SCHEMA,
                &format!("{at}/ErrorEquals"),
                "'States.ALL' must appear alone, in the last retrier or catcher",
            );
        }
        names
    }
}
