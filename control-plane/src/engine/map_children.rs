//! A Map Run's child executions (issue 18): the host side of
//! `Purpose::MapChild`. The parent's task starts the child, or on a redrive
//! of the parent redrives it in place; the child's closing commit answers the
//! task (`commit.rs::notify_parent`, with [`answer`]). Plan and invariants:
//! `docs/design/map-children.md`.

use serde_json::Value;
use state_language::definition::Kind;
use state_language::interpreter::Input;

use super::run::Direct;
use super::{Engine, StartRequest};
use crate::AwsError;
use crate::Error;
use crate::model::{ExecutionRecord, ExecutionStatus, InboxEntry, ParentLink, TokenRecord};

/// What the parent's task gets when its child closes (or, on a redrive, is
/// found closed): the child's output, or its error and cause as the Map Run's
/// results list them, marked when no redrive can change it.
pub(super) fn answer(child: &ExecutionRecord, now: i64) -> Result<InboxEntry, Error> {
    if child.status == ExecutionStatus::Succeeded {
        let text = child.output.as_deref().unwrap_or("null");
        let output = serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("a child's output: {e}")))?;
        return Ok(InboxEntry::Succeeded { output });
    }
    let error = child.error.clone().unwrap_or_else(|| match child.status {
        ExecutionStatus::TimedOut => "States.Timeout".into(),
        ExecutionStatus::Aborted => "States.Aborted".into(),
        _ => "States.TaskFailed".into(),
    });
    let cause = child.cause.clone().unwrap_or_default();
    Ok(match child.redrivable(now) {
        Ok(()) => InboxEntry::Failed { error, cause },
        Err(_) => InboxEntry::ChildNotRedrivable { error, cause },
    })
}

/// A child start task's payload (`state_language::interpreter::children::child_payload`).
struct ChildStart<'a> {
    map_run_arn: &'a str,
    execution_arn: &'a str,
    at: (usize, usize),
    item_count: u64,
    input: &'a Value,
    /// Of the parent, added by the host when it wrote the task (`commit.rs`).
    definition_hash: &'a str,
    role_arn: &'a str,
}

fn parse(p: &Value) -> Result<ChildStart<'_>, Error> {
    let text = |k: &str| p.get(k).and_then(Value::as_str).ok_or_else(|| Error::Corrupt(format!("a Map child's {k}")));
    let number = |k: &str| {
        p.get(k).and_then(Value::as_u64).map(|n| n as usize).ok_or_else(|| Error::Corrupt(format!("a Map child's {k}")))
    };
    Ok(ChildStart {
        map_run_arn: text("MapRunArn")?,
        execution_arn: text("ExecutionArn")?,
        at: (number("Machine")?, number("State")?),
        item_count: number("ItemCount")? as u64,
        input: p.get("Input").unwrap_or(&Value::Null),
        definition_hash: text("DefinitionHash")?,
        role_arn: text("RoleArn")?,
    })
}

impl Engine {
    /// Performs a child start task: the task's answer now, or `None` when the
    /// child runs and its close answers.
    pub(super) async fn map_child(&self, task: &TokenRecord) -> Result<Option<InboxEntry>, Error> {
        let c = parse(&task.input)?;
        let link = ParentLink {
            execution_arn: task.execution_arn.clone(),
            task_id: task.task_id,
            output_as_json: true,
            map_run_arn: Some(c.map_run_arn.to_string()),
            item_count: Some(c.item_count),
        };
        if let Some((child, _)) = self.execution(c.execution_arn).await? {
            return self.existing_child(child, link).await;
        }
        let req = self.child_request(&c, link, task.traceparent.clone()).await?;
        match self.start(req).await {
            Ok(_) => Ok(None),
            // Another delivery of this message started it first.
            Err(Error::Api { kind: AwsError::ExecutionAlreadyExists, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn child_request(
        &self,
        c: &ChildStart<'_>,
        link: ParentLink,
        trace_header: Option<String>,
    ) -> Result<StartRequest, Error> {
        let def = self.definition(c.definition_hash).await?;
        let state = def.machines.get(c.at.0).and_then(|m| m.states.get(c.at.1));
        let definition = match state.map(|s| &s.kind) {
            Some(Kind::Map(spec)) => spec.child_definition.clone(),
            _ => None,
        }
        .ok_or_else(|| Error::Corrupt(format!("no Map child definition at {:?} of {}", c.at, link.execution_arn)))?;
        let machine_arn = state_language::interpreter::map_run::run_machine_arn(c.map_run_arn);
        let machine_name = machine_arn.rsplit_once(":stateMachine:").map(|(_, n)| n.to_string()).unwrap_or_default();
        let name = c.execution_arn.rsplit(':').next().unwrap_or_default().to_string();
        let req = StartRequest {
            machine_arn,
            machine_name,
            version_arn: None,
            alias_arn: None,
            definition,
            role_arn: c.role_arn.to_string(),
            express: false,
            name,
            input: state_language::json::to_string(c.input),
            trace_header,
            parent: Some(link),
        };
        let arn = self.scope.execution(&req.machine_name, &req.name, false);
        assert_eq!(arn, c.execution_arn, "the interpreter and the host name a child alike");
        Ok(req)
    }

    /// The child exists: a redelivered start, or a redrive of the parent.
    async fn existing_child(&self, child: ExecutionRecord, link: ParentLink) -> Result<Option<InboxEntry>, Error> {
        let ours = child.parent.as_ref().is_some_and(|p| p.task_id == link.task_id);
        match child.status {
            // A redelivery: the child's close answers (or answered) this task.
            _ if ours => Ok(None),
            // It succeeded before the parent took its answer: never run again.
            ExecutionStatus::Succeeded => answer(&child, self.now_ms()).map(Some),
            // Still closing after an abort: the message comes back later.
            ExecutionStatus::Running => Err(Error::Store(format!("child {} still runs", child.arn))),
            _ => self.redrive_child(child, link).await,
        }
    }

    /// Redrives a failed, aborted or timed-out child in place, now answering
    /// `link`; one that cannot be redriven answers with its failure at once.
    async fn redrive_child(&self, child: ExecutionRecord, link: ParentLink) -> Result<Option<InboxEntry>, Error> {
        if let Err(why) = child.redrivable(self.now_ms()) {
            tracing::info!(execution = %child.arn, why, "a Map Run child cannot be redriven; its failure stands");
            return answer(&child, self.now_ms()).map(Some);
        }
        let direct =
            || Some(Direct { entries: Vec::new(), writes: Vec::new(), eager: None, parent: Some(link.clone()) });
        self.advance_with(&child.arn, None, &[Input::Redrive], direct).await?;
        Ok(None)
    }
}
