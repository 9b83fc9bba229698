//! TestState's view of a Map: its items and limits, and the failure that
//! `mapIterationFailureCount` failed iterations cause.

use serde_json::Value;

use super::{Mock, Tester, at};
use crate::interpreter::amount::Number;
use crate::interpreter::io::{self, Raised, with_scope};

impl Tester<'_, '_> {
    /// A Map's item list (through ItemsPath) and limits.
    pub(super) fn map_stages(&mut self, spec: &crate::definition::MapSpec, effective: &Value) -> Result<(), Raised> {
        let (f, st) = (self.f, self.state);
        let at = at(st, self.req);
        let items =
            with_scope(self.rt.exec, f, effective, at, |s| io::select(s, spec.items_path.as_ref(), &st.name, 0))?;
        if !items.is_array() {
            let text = spec.items_path.as_ref().map_or("$".to_string(), |p| p.text.replacen("$$", "$", 1));
            return Err(Raised::new("States.Runtime", format!("Reference path \"{text}\" must point to array.")));
        }
        self.note("afterItemsPath", &items);
        self.map_limits(spec, effective, &items)
    }

    /// A Map's MaxConcurrency and tolerated failures, and the failure its
    /// iterations cause when `mapIterationFailureCount` exceeds what it tolerates.
    pub(super) fn map_limits(
        &mut self,
        spec: &crate::definition::MapSpec,
        effective: &Value,
        items: &Value,
    ) -> Result<(), Raised> {
        let (f, st) = (self.f, self.state);
        let read = |t: &mut Self, a: &Option<crate::definition::Amount>, field: &str, kind| match a {
            None => Ok(None),
            Some(a) => t.rt.number(f, st, a, field, effective, 0, kind).map(Some).map_err(|e| match e {
                Ok(r) => r,
                Err(e) => Raised::new("States.Runtime", e.to_string()),
            }),
        };
        let max = read(self, &spec.max_concurrency, "MaxConcurrency", Number::Integer)?;
        self.note("maxConcurrency", &Value::from(max.unwrap_or(0.0) as u64));
        let count = read(self, &spec.tolerated_failure_count, "ToleratedFailureCount", Number::Integer)?;
        if let Some(c) = count {
            self.note("toleratedFailureCount", &Value::from(c as u64));
        }
        let pct = read(self, &spec.tolerated_failure_percentage, "ToleratedFailurePercentage", Number::Float)?;
        if let Some(p) = pct {
            self.note("toleratedFailurePercentage", &serde_json::json!(p));
        }
        let failures = self.req.map_iteration_failure_count;
        let total = items.as_array().map_or(0, Vec::len) as f64;
        let tolerated = failures as f64 <= count.unwrap_or(0.0)
            || pct.is_some_and(|p| total > 0.0 && 100.0 * failures as f64 / total <= p);
        // Without a tolerance field, failed iterations are not counted (as AWS's recordings show).
        let counted = count.is_some() || pct.is_some();
        if failures > 0 && counted && !tolerated && self.req.mock.as_ref().is_some_and(|m| matches!(m, Mock::Result(_)))
        {
            return Err(Raised::new(
                "States.ExceedToleratedFailureThreshold",
                "The specified tolerated failure threshold was exceeded",
            ));
        }
        Ok(())
    }
}
