//! An EXPRESS distributed Map's children run inline in the parent: at least
//! once, with no history of their own. AWS still keeps each one's status and
//! lists it under its Map Run (`ListExecutions(mapRunArn)`), so each one's
//! start and close become a [`Command::ListExpressChild`] that the host lists
//! (a child that starts and closes in one step, only once).

use serde::{Deserialize, Serialize};

use super::Command;
use super::frame::{Join, Status, Wait};
use super::run::Runtime;

/// An EXPRESS Map Run child, as ListExecutions lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpressChild {
    pub map_run_arn: String,
    /// The same for every run of the item (a redrive, a repeat): AWS's rule.
    pub execution_arn: String,
    /// When its Map Run started, and its item's index: where it is listed, so
    /// a repeat replaces it, and the Map Run's children are listed in order.
    pub listed_ms: i64,
    pub index: u64,
    pub start_ms: i64,
    /// `None` while it runs.
    pub stop_ms: Option<i64>,
    pub status: Status,
    pub item_count: u64,
    /// A failed child's error and cause, for DescribeExecution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl Runtime<'_> {
    /// Item `index` of the join in frame `f` starts inline: listed as running, if it is a Map Run's child.
    pub(super) fn express_child_started(&mut self, f: u64, index: u64) {
        let now = self.now_ms;
        if let Some(Wait::Join(j)) = self.exec.frames.get_mut(&f).map(|fr| &mut fr.wait)
            && !j.map_run_arn.is_empty()
        {
            j.express_started.insert(index, now);
        }
        self.express_children_listed(f, &[(index, Status::Running)], false);
    }

    /// Inline children of the join in frame `f` closed, or are being aborted.
    pub(super) fn express_children_closed(&mut self, f: u64, closed: &[(u64, Status)]) {
        self.express_children_listed(f, closed, true);
    }

    /// An inline child of the join in frame `f` failed with `error` and `cause`.
    pub(super) fn express_child_failed(&mut self, f: u64, index: u64, error: &str, cause: &str) {
        let at = self.out.commands.len();
        self.express_children_listed(f, &[(index, Status::Failed)], true);
        for c in &mut self.out.commands[at..] {
            if let Command::ListExpressChild(child) = c {
                (child.error, child.cause) = (Some(error.to_string()), Some(cause.to_string()));
            }
        }
    }

    fn express_children_listed(&mut self, f: u64, listed: &[(u64, Status)], closed: bool) {
        let Some(Wait::Join(j)) = self.exec.frames.get(&f).map(|fr| &fr.wait) else { return };
        let commands = self.express_listings(j, listed);
        if closed && let Some(Wait::Join(j)) = self.exec.frames.get_mut(&f).map(|fr| &mut fr.wait) {
            for (index, _) in listed {
                j.express_started.remove(index);
            }
        }
        self.out.commands.extend(commands);
    }

    /// The listings of children of `j` that run inline in a recorded Map Run.
    pub(super) fn express_listings(&self, j: &Join, listed: &[(u64, Status)]) -> Vec<Command> {
        // A Map Run inside a child execution has no record here, and lists nothing.
        let Some(run) = self.exec.map_run(&j.map_run_arn) else { return Vec::new() };
        listed
            .iter()
            .filter_map(|(index, status)| {
                let start_ms = *j.express_started.get(index)?;
                Some(Command::ListExpressChild(ExpressChild {
                    map_run_arn: j.map_run_arn.clone(),
                    execution_arn: j.child_arn(*index),
                    listed_ms: run.start_ms,
                    index: *index,
                    start_ms,
                    stop_ms: (*status != Status::Running).then_some(self.now_ms),
                    status: *status,
                    item_count: j.items_in(*index),
                    error: None,
                    cause: None,
                }))
            })
            .collect()
    }
}
