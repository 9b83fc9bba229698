//! A STANDARD distributed Map's iterations as child executions: each is a
//! task of the parent (`Purpose::MapChild`) that the host performs by
//! starting (or, on a redrive, redriving) an execution of the processor, and
//! answers when that execution closes. The task's frame stands for the child
//! in the join, so concurrency, tolerated failures, UpdateMapRun and aborts
//! work on the join as they do for inline iterations.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Command;
use super::frame::{PendingTask, Purpose, Wait};
use super::io::Raised;
use super::run::Runtime;
use crate::Error;
use crate::definition::{MachineId, StateId};

/// The task resource of a child execution's start; hosts perform it.
pub const MAP_CHILD_RESOURCE: &str = "arn:aws:states:::stepwise:mapRun.startChild";

/// The child execution of a Map Run's item (or batch) `index`:
/// `arn:…:execution:<machine>/<label>:<uuid>`, as AWS names them. The name
/// derives from the Map Run and the index, so a redelivered start and a
/// redrive find the same child.
pub fn child_execution_arn(map_run_arn: &str, index: u64) -> String {
    let (hi, lo) = digest_words(&format!("{map_run_arn}#{index}"));
    child_arn_named(map_run_arn, &crate::entropy::uuid_v4(hi, lo))
}

/// The first 128 bits of sha256 of `text`, as two words.
fn digest_words(text: &str) -> (u64, u64) {
    let digest = Sha256::digest(text.as_bytes());
    let word = |at: usize| u64::from_be_bytes(digest[at..at + 8].try_into().expect("a 32-byte digest"));
    (word(0), word(8))
}

/// A child of `map_run_arn` named `name`: `arn:…:execution:<machine>/<label>:<name>`.
fn child_arn_named(map_run_arn: &str, name: &str) -> String {
    let machine = super::map_run::run_machine_arn(map_run_arn);
    format!("{}:{name}", machine.replacen(":stateMachine:", ":execution:", 1))
}

/// The bits of an EXPRESS child's UUID name that hold its item's index: the
/// last 12 hex digits. AWS caps a Map Run far below 2^48 items.
const EXPRESS_INDEX_MASK: u64 = 0xFFFF_FFFF_FFFF;

/// The child of an EXPRESS Map Run's item `index`. An EXPRESS child has no
/// record of its own, so its name leads back to its listing: the first 23
/// characters are a tag of its Map Run ([`express_child_tag`]) and the last
/// 12 hex digits its index.
pub fn express_child_execution_arn(map_run_arn: &str, index: u64) -> String {
    assert!(index <= EXPRESS_INDEX_MASK, "an item index fits 48 bits");
    let (hi, lo) = digest_words(map_run_arn);
    child_arn_named(map_run_arn, &crate::entropy::uuid_v4(hi, (lo & !EXPRESS_INDEX_MASK) | index))
}

/// The characters of an EXPRESS child's name that name its Map Run.
const EXPRESS_TAG_CHARS: usize = 23;

/// What every EXPRESS child of `map_run_arn` has in its name: hosts keep a
/// pointer from it to the Map Run.
pub fn express_child_tag(map_run_arn: &str) -> String {
    let arn = express_child_execution_arn(map_run_arn, 0);
    let name = arn.rsplit(':').next().expect("an ARN has a name");
    name[..EXPRESS_TAG_CHARS].to_string()
}

/// An EXPRESS child's Map Run tag and item index, from its name; `None` for
/// a name that is not one. The tag alone proves nothing: a caller checks
/// the ARN against [`express_child_execution_arn`] of the Map Run it finds.
pub fn parse_express_child_name(name: &str) -> Option<(&str, u64)> {
    let (tag, index) = (name.get(..EXPRESS_TAG_CHARS)?, name.get(EXPRESS_TAG_CHARS + 1..)?);
    let uuid_shaped = name.len() == 36 && name.as_bytes()[EXPRESS_TAG_CHARS] == b'-' && index.len() == 12;
    if !uuid_shaped || !index.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((tag, u64::from_str_radix(index, 16).ok()?))
}

/// A child's start: which Map Run, the child's ARN, where the host finds its
/// definition (the Map state in the parent's), the items it holds, its input.
pub fn child_payload(
    map_run_arn: &str,
    index: u64,
    execution_arn: &str,
    at: (MachineId, StateId),
    items: u64,
    input: Value,
) -> Value {
    json!({
        "MapRunArn": map_run_arn,
        "Index": index,
        "ExecutionArn": execution_arn,
        "ItemCount": items,
        "Machine": at.0,
        "State": at.1,
        "Input": input,
    })
}

impl Runtime<'_> {
    /// How many of a distributed Map's children the host runs at once; 0
    /// for no bound of the host's. STANDARD children are executions of
    /// their own and EXPRESS ones run inline, but both are held in the
    /// parent's state, which every step of the parent writes: 5,000 EXPRESS
    /// children waiting on activities at once ran 9× slower than STANDARD
    /// ones under the cap (BENCHMARKS.md).
    pub(super) fn children_running_max(&self, distributed: bool) -> u64 {
        let offered = self.exec.context.as_ref().map_or(0, |c| c.map_children_running_max);
        if distributed { offered } else { 0 }
    }

    /// Starts item `index` of the Map in frame `f` as a child execution:
    /// a frame that waits on the start task, and stands for the child.
    pub(super) fn start_child(&mut self, f: u64, parent: super::frame::Parent, input: Value) -> Result<u64, Error> {
        let fr = self.frame(f)?;
        let (machine, state) = (fr.machine, fr.state);
        let Wait::Join(join) = &fr.wait else { return Err(Error::Corrupt("a Map child outside a join".into())) };
        let (map_run_arn, index) = (join.map_run_arn.clone(), parent.index);
        let items = join.items_in(index);
        // The frame is the Map's own state: it holds no variables and runs nothing.
        let frame = self.spawn(machine, state, Value::Null, serde_json::Map::new(), Some(parent), None);
        // The frame never runs a state: it waits on the child.
        let popped = self.exec.ready.pop_back();
        assert_eq!(popped, Some(frame), "spawn queues the frame it made last");
        let execution_arn = child_execution_arn(&map_run_arn, index);
        let payload = child_payload(&map_run_arn, index, &execution_arn, (machine, state), items, input);
        let name = self.def.machines[machine].states[state].name.clone();
        let purpose = Purpose::MapChild { execution_arn };
        let task_id = self.io_task(frame, &name, MAP_CHILD_RESOURCE, payload, purpose);
        let fr = self.frame_mut(frame)?;
        fr.silent = true;
        fr.wait = Wait::Task { task_id };
        Ok(frame)
    }

    /// The child failed, and no redrive can change that (over 14 days closed,
    /// or a full history): its Map Run counts it, and the task fails as any child's.
    pub(super) fn child_not_redrivable(&mut self, task_id: u64, error: String, cause: String) -> Result<(), Error> {
        let t = self.exec.tasks.get(&task_id).ok_or(Error::UnknownTask(task_id))?;
        let parent = self.exec.frames.get(&t.frame).and_then(|fr| fr.parent.clone());
        let join = parent.as_ref().and_then(|p| match self.exec.frames.get(&p.frame).map(|fr| &fr.wait) {
            Some(Wait::Join(j)) => Some((j.map_run_arn.clone(), j.items_in(p.index))),
            _ => None,
        });
        if let Some((arn, items)) = join {
            self.map_run_not_redrivable(&arn, items);
        }
        self.task_failed(task_id, error, cause, false)
    }

    /// The child execution closed: its frame ends with the child's result.
    pub(super) fn child_closed(&mut self, t: PendingTask, result: Result<Value, Raised>) -> Result<(), Error> {
        let Some(fr) = self.exec.frames.remove(&t.frame) else { return Ok(()) };
        let parent = fr.parent.ok_or_else(|| Error::Corrupt("a Map child's frame without a parent".into()))?;
        self.child_done(t.frame, parent, fr.last_event_id, result)
    }

    /// A task no longer waited for: cancelled, and its child aborted if it has one.
    pub(super) fn cancel(&mut self, task_id: u64, t: &PendingTask) {
        self.out.commands.push(Command::CancelTask { task_id });
        if let Purpose::MapChild { execution_arn } = &t.purpose {
            self.out.commands.push(Command::AbortChild { execution_arn: execution_arn.clone(), task_id });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{child_execution_arn, express_child_execution_arn, express_child_tag, parse_express_child_name};

    #[test]
    fn a_child_is_named_by_its_map_run_and_index() {
        let run = "arn:aws:states:us-east-1:1:mapRun:m/Label:0b8a5d1e-8f3e-4b1c-9a4e-3f1f0e2d4c5b";
        let a = child_execution_arn(run, 7);
        assert!(a.starts_with("arn:aws:states:us-east-1:1:execution:m/Label:"), "{a}");
        assert_eq!(a.rsplit(':').next().map(str::len), Some(36), "a UUID name: {a}");
        assert_eq!(a, child_execution_arn(run, 7));
        assert_ne!(a, child_execution_arn(run, 8));
    }

    #[test]
    fn an_express_child_names_its_map_run_and_index() {
        let run = "arn:aws:states:us-east-1:1:mapRun:m/Label:0b8a5d1e-8f3e-4b1c-9a4e-3f1f0e2d4c5b";
        let other = "arn:aws:states:us-east-1:1:mapRun:m/Label:1b8a5d1e-8f3e-4b1c-9a4e-3f1f0e2d4c5b";
        for index in [0, 7, 4_095, 1 << 40] {
            let arn = express_child_execution_arn(run, index);
            let name = arn.rsplit(':').next().expect("a name");
            assert!(uuid_like(name), "{name}");
            assert_eq!(parse_express_child_name(name), Some((express_child_tag(run).as_str(), index)));
            assert_ne!(arn, child_execution_arn(run, index), "STANDARD children keep their names");
        }
        assert_ne!(express_child_tag(run), express_child_tag(other));
        for not_one in ["", "abc", "0b8a5d1e-8f3e-4b1c-9a4e-3f1f0e2d4cZZ", "0b8a5d1e-8f3e-4b1c-9a4e+3f1f0e2d4c5b"] {
            assert_eq!(parse_express_child_name(not_one), None, "{not_one}");
        }
    }

    fn uuid_like(name: &str) -> bool {
        let groups: Vec<usize> = name.split('-').map(str::len).collect();
        groups == [8, 4, 4, 4, 12] && name.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
    }
}
