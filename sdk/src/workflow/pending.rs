//! What a history waits on: activities, timers and children not yet
//! ended, and whether the code has unseen events to run a task on.

use std::collections::BTreeMap;

use serde_json::Value;

use super::history::{ActivityOptions, Event};

/// What a history is waiting on.
pub(super) struct Pending {
    pub closed: bool,
    pub needs_task: bool,
    pub activities: Vec<(u64, String, Value, ActivityOptions)>,
    pub timers: Vec<(i64, u64)>,
    /// Children started and not ended: (seq, type, id, input).
    pub children: Vec<(u64, String, String, Value)>,
}

impl Pending {
    pub fn of(history: &[Event]) -> Pending {
        let mut p = Pending {
            closed: false,
            needs_task: false,
            activities: Vec::new(),
            timers: Vec::new(),
            children: Vec::new(),
        };
        let mut activities = BTreeMap::new();
        let mut children = BTreeMap::new();
        let mut timers = BTreeMap::new();
        for e in history {
            match e {
                Event::WorkflowStarted { .. } => p.needs_task = true,
                Event::WorkflowTaskStarted { .. } => p.needs_task = false,
                Event::ActivityScheduled { seq, name, input, options } => {
                    activities.insert(*seq, (name.clone(), input.clone(), options.clone()));
                }
                Event::ActivityCancelRequested { seq } => {
                    activities.remove(seq);
                }
                Event::ActivityCompleted { seq, .. }
                | Event::ActivityFailed { seq, .. }
                | Event::ActivityTimedOut { seq, .. } => {
                    activities.remove(seq);
                    p.needs_task = true;
                }
                Event::TimerStarted { seq, fire_at_ms } => {
                    timers.insert(*seq, *fire_at_ms);
                }
                Event::TimerFired { seq } => {
                    timers.remove(seq);
                    p.needs_task = true;
                }
                Event::TimerCancelled { seq } => {
                    timers.remove(seq);
                }
                Event::ChildStarted { seq, workflow_type, id, input } => {
                    children.insert(*seq, (workflow_type.clone(), id.clone(), input.clone()));
                }
                Event::ChildCompleted { seq, .. } | Event::ChildFailed { seq, .. } => {
                    children.remove(seq);
                    p.needs_task = true;
                }
                Event::SignalReceived { .. } | Event::CancelRequested {} | Event::UpdateAccepted { .. } => {
                    p.needs_task = true;
                }
                Event::UpdateCompleted { .. } => {}
                Event::WorkflowCompleted { .. }
                | Event::WorkflowFailed { .. }
                | Event::WorkflowCancelled { .. }
                | Event::WorkflowContinuedAsNew { .. }
                | Event::WorkflowTerminated { .. } => {
                    p.closed = true;
                }
                Event::MarkerRecorded { .. } => {}
                e if e.is_bookkeeping() => {}
                _ => {}
            }
        }
        p.activities = activities.into_iter().map(|(s, (n, i, o))| (s, n, i, o)).collect();
        p.timers = timers.into_iter().map(|(s, at)| (at, s)).collect();
        p.children = children.into_iter().map(|(s, (t, id, i))| (s, t, id, i)).collect();
        p
    }
}
