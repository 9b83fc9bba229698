//! An EXPRESS distributed Map's children run inline in the parent: at least
//! once, with no history of their own. AWS still keeps each one's status and
//! lists it under its Map Run (`ListExecutions(mapRunArn)`), so each one's
//! close becomes a [`Command::ExpressChildClosed`] that the host lists.

use serde::{Deserialize, Serialize};

use super::Command;
use super::children::child_execution_arn;
use super::frame::{Join, Status, Wait};
use super::run::Runtime;

/// An EXPRESS Map Run child that closed, as ListExecutions lists it.
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
    pub stop_ms: i64,
    pub status: Status,
    pub item_count: u64,
}

impl Runtime<'_> {
    /// Item `index` of the join in frame `f` starts inline: when, if it is a Map Run's child.
    pub(super) fn express_child_started(&mut self, f: u64, index: u64) {
        let now = self.now_ms;
        if let Some(Wait::Join(j)) = self.exec.frames.get_mut(&f).map(|fr| &mut fr.wait)
            && !j.map_run_arn.is_empty()
        {
            j.express_started.insert(index, now);
        }
    }

    /// Inline children of the join in frame `f` closed, or are being aborted.
    pub(super) fn express_children_closed(&mut self, f: u64, closed: &[(u64, Status)]) {
        let Some(Wait::Join(j)) = self.exec.frames.get(&f).map(|fr| &fr.wait) else { return };
        let commands = self.express_closed(j, closed);
        if let Some(Wait::Join(j)) = self.exec.frames.get_mut(&f).map(|fr| &mut fr.wait) {
            for (index, _) in closed {
                j.express_started.remove(index);
            }
        }
        self.out.commands.extend(commands);
    }

    /// The listings of `closed` children of `j` that ran inline in a recorded Map Run.
    pub(super) fn express_closed(&self, j: &Join, closed: &[(u64, Status)]) -> Vec<Command> {
        // A Map Run inside a child execution has no record here, and lists nothing.
        let Some(run) = self.exec.map_run(&j.map_run_arn) else { return Vec::new() };
        closed
            .iter()
            .filter_map(|(index, status)| {
                let start_ms = *j.express_started.get(index)?;
                Some(Command::ExpressChildClosed(ExpressChild {
                    map_run_arn: j.map_run_arn.clone(),
                    execution_arn: child_execution_arn(&j.map_run_arn, *index),
                    listed_ms: run.start_ms,
                    index: *index,
                    start_ms,
                    stop_ms: self.now_ms,
                    status: *status,
                    item_count: j.items_in(*index),
                }))
            })
            .collect()
    }
}
