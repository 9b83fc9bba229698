//! The context object (`$$`) and the scope that paths and intrinsics read.

use serde_json::{Map, Value, json};

use super::StartContext;
use crate::entropy::Entropy;
use crate::intrinsics::{Env, EvalError};
use crate::path::{Path, Root};

/// The parts of `$$` that depend on where evaluation happens.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Where<'a> {
    pub state_name: &'a str,
    pub entered_ms: i64,
    /// `State.RetryCount`: only Task states have it on AWS.
    pub retry_count: Option<u64>,
    pub task_token: Option<&'a str>,
    pub map_item: Option<(u64, &'a Value)>,
}

/// Everything a path or intrinsic may read while a state runs.
pub(super) struct Scope<'a> {
    pub input: &'a Value,
    pub vars: &'a Map<String, Value>,
    pub exec_input: &'a Value,
    pub start: Option<&'a StartContext>,
    pub start_ms: i64,
    pub at: Where<'a>,
    pub entropy: &'a mut Entropy,
    pub context_override: Option<&'a Value>,
}

impl Scope<'_> {
    /// Builds `$$` on demand: only paths that start with `$$` pay for it.
    pub fn context(&self) -> Value {
        if let Some(c) = self.context_override {
            return c.clone();
        }
        let sc = self.start;
        let s = |f: fn(&StartContext) -> &String| sc.map(|c| f(c).clone()).unwrap_or_default();
        let mut ctx = json!({
            "Execution": {
                "Id": s(|c| &c.execution_arn),
                "Input": self.exec_input,
                "Name": s(|c| &c.execution_name),
                "RoleArn": s(|c| &c.role_arn),
                "StartTime": crate::time::format_millis(self.start_ms),
                "RedriveCount": sc.map(|c| c.redrive_count).unwrap_or(0),
            },
            "State": {
                "EnteredTime": crate::time::format_millis(self.at.entered_ms),
                "Name": self.at.state_name,
            },
            "StateMachine": {
                "Id": s(|c| &c.state_machine_arn),
                "Name": s(|c| &c.state_machine_name),
            },
        });
        if !sc.is_none_or(|c| c.redrive_count_in_context)
            && let Some(e) = ctx.get_mut("Execution").and_then(Value::as_object_mut)
        {
            e.remove("RedriveCount");
        }
        if let (Some(n), Some(state)) = (self.at.retry_count, ctx.get_mut("State").and_then(Value::as_object_mut)) {
            state.insert("RetryCount".into(), n.into());
        }
        if let (Some(t), Value::Object(m)) = (self.at.task_token, &mut ctx) {
            m.insert("Task".into(), json!({ "Token": t }));
        }
        if let (Some((i, v)), Value::Object(m)) = (self.at.map_item, &mut ctx) {
            m.insert("Map".into(), json!({ "Item": { "Index": i, "Value": v } }));
        }
        ctx
    }
}

impl Env for Scope<'_> {
    fn read(&self, path: &Path) -> Result<Value, EvalError> {
        match &path.root {
            Root::Input => Ok(path.read(self.input)?),
            Root::Context => Ok(path.read(&self.context())?),
            Root::Variable(name) => match self.vars.get(name) {
                Some(v) => Ok(path.read(v)?),
                None => Err(EvalError::Variable(format!("Undefined variable '{name}'"))),
            },
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.entropy.next_u64()
    }
}
