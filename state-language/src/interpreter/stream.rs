//! A distributed Map over a JSON Lines object, streamed. The host reads the
//! object a slice at a time, as the Map Run needs items, and the results go
//! to S3 in parts as they come. A Map Run of any size then holds at most a
//! slice of items, its running children and a part of results, and each
//! commit of the execution stays that small.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::frame::{Join, Purpose, Wait};
use super::run::Runtime;
use crate::Error;
use crate::definition::{InputType, ItemReader, Kind, MapSpec};

type Res<T> = Result<T, Result<super::io::Raised, Error>>;
use crate::limits;

/// Queued items below which the next slice is read: enough to keep children
/// starting while the read is in flight.
const ITEMS_QUEUED_LOW: usize = 1_000;
/// Result entries buffered before a part is written.
const RESULT_PART_BYTES: u64 = 256 * 1024;
/// Buffered result bytes past which no more children start until a part is written.
const RESULT_UNWRITTEN_BYTES_MAX: u64 = 2 * RESULT_PART_BYTES;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    /// The reader's call (Bucket, Key, VersionId), rendered once at the start.
    pub call: Value,
    pub resource: String,
    pub offset_bytes: u64,
    /// Items read so far.
    pub items_read: u64,
    /// Children (items, or batches) formed so far: the next child's index.
    #[serde(default)]
    pub children_formed: u64,
    /// Items read but not yet in a batch: the last batch of a slice waits for the next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carry: Vec<Value>,
    /// The items in each queued or running batch of more or fewer than one item.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub batch_items: BTreeMap<u64, u64>,
    pub items_max: Option<u64>,
    /// The object is read to its end, or to MaxItems.
    pub ended: bool,
    /// The object's ETag at the first slice: later slices must read the same object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The slice read in flight.
    pub reading: Option<u64>,
    /// With a ResultWriter: where the results go, and what waits to be written.
    pub writer: Option<Box<Writer>>,
    /// Indexes of the children that succeeded, as sorted half-open ranges: a redrive skips them.
    pub succeeded: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Writer {
    pub resource: String,
    pub bucket: String,
    pub dir: String,
    pub unwritten: Vec<Value>,
    pub unwritten_bytes: u64,
    /// The part write in flight, and its entries until it is acknowledged:
    /// a Map that fails meanwhile keeps them for its redrive to write again.
    pub writing: Option<u64>,
    pub sending: Vec<Value>,
    pub parts: Vec<Part>,
    /// The running children's inputs, for their result entries.
    pub inputs: BTreeMap<u64, Value>,
}

/// One result file written: `<dir>/<STATUS>_<n>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub status: String,
    pub key: String,
    pub size_bytes: u64,
    pub entries: u64,
}

/// Whether a Map's reader is streamed: a distributed Map's JSON Lines object.
pub(super) fn streams(spec: &MapSpec, reader: &ItemReader) -> bool {
    spec.distributed && reader.input_type == InputType::JsonLines && reader.resource == "arn:aws:states:::s3:getObject"
}

impl Stream {
    /// Nothing is being read or written, and nothing is left to read.
    pub fn is_idle(&self) -> bool {
        self.ended && self.reading.is_none() && self.writer.as_ref().is_none_or(|w| w.writing.is_none())
    }

    /// What a redrive keeps: which children succeeded, and the parts written.
    pub fn kept(&self) -> Stream {
        let writer = self.writer.as_ref().map(|w| {
            let unwritten: Vec<Value> = w.sending.iter().chain(&w.unwritten).cloned().collect();
            let unwritten_bytes = unwritten.iter().map(|e| crate::json::size_bytes(e) as u64).sum();
            Box::new(Writer { parts: w.parts.clone(), unwritten, unwritten_bytes, ..Writer::default() })
        });
        // The same object: a redrive skips indices of what succeeded, which must mean the same items.
        Stream { succeeded: self.succeeded.clone(), writer, etag: self.etag.clone(), ..Stream::default() }
    }

    /// The tasks in flight, to cancel when the Map stops.
    pub(super) fn tasks(&self) -> impl Iterator<Item = u64> {
        self.reading.into_iter().chain(self.writer.as_ref().and_then(|w| w.writing))
    }

    pub(super) fn has_succeeded(&self, index: u64) -> bool {
        let i = self.succeeded.partition_point(|(_, end)| *end <= index);
        self.succeeded.get(i).is_some_and(|(start, _)| *start <= index)
    }

    pub(super) fn mark_succeeded(&mut self, index: u64) {
        if self.has_succeeded(index) {
            return;
        }
        // The first range ending at or after `index`: it ends just before it, or starts after it.
        let i = self.succeeded.partition_point(|(_, end)| *end < index);
        let before = self.succeeded.get(i).is_some_and(|(_, end)| *end == index);
        let next = if before { i + 1 } else { i };
        let after = self.succeeded.get(next).is_some_and(|(start, _)| *start == index + 1);
        match (before, after) {
            (true, true) => {
                self.succeeded[i].1 = self.succeeded[next].1;
                self.succeeded.remove(next);
            }
            (true, false) => self.succeeded[i].1 = index + 1,
            (false, true) => self.succeeded[next].0 = index,
            (false, false) => self.succeeded.insert(i, (index, index + 1)),
        }
    }
}

/// One slice's items: the lines of what the host read.
fn slice_items(read: &Value, first_index: u64) -> Result<(Vec<Value>, u64, bool), String> {
    let (Some(body), Some(consumed), Some(end)) =
        (read["Body"].as_str(), read["Consumed"].as_u64(), read["End"].as_bool())
    else {
        return Err("The reader's slice is malformed.".into());
    };
    if consumed == 0 && !end {
        let max = limits::ITEM_SLICE_BYTES_MAX;
        return Err(format!("A line of the object is longer than {max} bytes."));
    }
    let lines = body.lines().filter(|l| !l.trim().is_empty()).enumerate();
    let items = lines
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| format!("Item {} is not valid JSON: {e}", first_index + i as u64))
        })
        .collect::<Result<Vec<Value>, String>>()?;
    Ok((items, consumed, end))
}

impl Runtime<'_> {
    /// The streamed Map's join, if `f` still waits on one.
    fn stream_join(&mut self, f: u64) -> Option<&mut Join> {
        match &mut self.exec.frames.get_mut(&f)?.wait {
            Wait::Join(j) if j.stream.is_some() => Some(j),
            _ => None,
        }
    }

    /// Reads the next slice when few items are queued, and writes a part
    /// when enough results wait.
    pub(super) fn stream_more(&mut self, f: u64) -> Result<(), Error> {
        // Checked first: this runs after every refill, inline Maps' included.
        if self.stream_join(f).is_none() {
            return Ok(());
        }
        let state_name = {
            let fr = self.frame(f)?;
            self.def.machines[fr.machine].states[fr.state].name.clone()
        };
        let Some(join) = self.stream_join(f) else { return Ok(()) };
        let low = join.queued.len() < ITEMS_QUEUED_LOW;
        let s = join.stream.as_deref_mut().expect("a stream join has a stream");
        if !s.ended && s.reading.is_none() && low {
            let mut payload = s.call.clone();
            payload["StepwiseSlice"] =
                json!({"Offset": s.offset_bytes, "Bytes": limits::ITEM_SLICE_BYTES_MAX, "IfMatch": s.etag});
            let resource = s.resource.clone();
            let id = self.io_task(f, &state_name, &resource, payload, Purpose::ItemSlice);
            let s = self.stream_join(f).and_then(|j| j.stream.as_deref_mut()).expect("still streaming");
            s.reading = Some(id);
        }
        let s = self.stream_join(f).and_then(|j| j.stream.as_deref_mut()).expect("still streaming");
        let Some(w) = s.writer.as_deref_mut() else { return Ok(()) };
        if w.writing.is_some() || w.unwritten_bytes < RESULT_PART_BYTES {
            return Ok(());
        }
        w.sending = w.unwritten.clone();
        let (files, parts) = compose_parts(w);
        let payload = json!({"Bucket": w.bucket, "Files": files});
        let resource = w.resource.clone();
        let id = self.io_task(f, &state_name, &resource, payload, Purpose::ResultPart(parts));
        let s = self.stream_join(f).and_then(|j| j.stream.as_deref_mut()).expect("still streaming");
        s.writer.as_deref_mut().expect("still writing").writing = Some(id);
        Ok(())
    }

    /// No child starts while this many result bytes wait to be written.
    pub(super) fn stream_blocked(join: &Join) -> bool {
        let w = join.stream.as_ref().and_then(|s| s.writer.as_ref());
        w.is_some_and(|w| w.unwritten_bytes >= RESULT_UNWRITTEN_BYTES_MAX)
    }

    /// A slice was read: its items (or batches) join the queue, and the Map
    /// Run's totals grow.
    pub(super) fn slice_read(&mut self, f: u64, task_id: u64, read: Value) -> Result<(), Error> {
        let Some(join) = self.stream_join(f) else { return Ok(()) };
        let s = join.stream.as_deref_mut().expect("a stream join has a stream");
        if s.reading != Some(task_id) {
            return Ok(());
        }
        s.reading = None;
        let (items, consumed, end) = match slice_items(&read, s.items_read) {
            Ok(x) => x,
            Err(cause) => {
                let arn = join.map_run_arn.clone();
                return self.map_run_failed(f, &arn, "States.ItemReaderFailed".into(), cause);
            }
        };
        s.offset_bytes += consumed;
        s.ended = end;
        if s.etag.is_none() {
            s.etag = read["ETag"].as_str().map(str::to_string);
        }
        let mut taken = std::mem::take(&mut s.carry);
        for item in items {
            if s.items_max.is_some_and(|m| s.items_read >= m) {
                s.ended = true;
                break;
            }
            s.items_read += 1;
            taken.push(item);
        }
        let children = match self.slice_children(f, taken) {
            Ok(c) => c,
            Err(Ok(r)) => {
                let arn = self.stream_join(f).map(|j| j.map_run_arn.clone()).unwrap_or_default();
                return self.map_run_failed(f, &arn, r.error, r.cause);
            }
            Err(Err(e)) => return Err(e),
        };
        let join = self.stream_join(f).expect("still streaming");
        let keeps_results = join.stream.as_ref().is_some_and(|s| s.writer.is_none());
        for (child, items_in) in children {
            let s = join.stream.as_deref_mut().expect("a stream join has a stream");
            let i = s.children_formed;
            s.children_formed += 1;
            let done_before = s.has_succeeded(i);
            if items_in != 1 && !done_before {
                s.batch_items.insert(i, items_in);
            }
            if keeps_results {
                let kept = join.redrive_kept.remove(&i);
                if done_before && kept.is_none() {
                    return Err(Error::Corrupt(format!("a succeeded child {i} kept no result")));
                }
                join.results.push(kept.unwrap_or(Value::Null));
            }
            if !done_before {
                join.queued.push_back((i, child));
            }
        }
        let s = join.stream.as_deref().expect("a stream join has a stream");
        let (arn, children, items) = (join.map_run_arn.clone(), s.children_formed, s.items_read);
        if let Some(run) = self.exec.map_runs.iter_mut().find(|r| r.arn == arn) {
            run.executions.total = run.executions.total.max(children);
            run.items.total = run.items.total.max(items);
        }
        self.stream_progressed(f)
    }

    /// The children a slice's items make, with the items in each: one per
    /// item, or the ItemBatcher's batches. Until the object ends, the last
    /// batch waits for the next slice's items, so batches do not break at
    /// slice edges.
    fn slice_children(&mut self, f: u64, items: Vec<Value>) -> Res<Vec<(Value, u64)>> {
        let def = self.def;
        let fr = self.frame(f).map_err(Err)?;
        let (state, entered) = (&def.machines[fr.machine].states[fr.state], fr.entered_event_id);
        let Kind::Map(spec) = &state.kind else { return Err(Err(Error::Corrupt("a stream outside a Map".into()))) };
        if spec.item_batcher.is_none() {
            return Ok(items.into_iter().map(|v| (v, 1)).collect());
        }
        let join = self.stream_join(f).expect("still streaming");
        let effective = join.effective_input.clone();
        let ended = join.stream.as_ref().is_some_and(|s| s.ended);
        let mut batches = self.batch(f, state, spec, items, &effective, entered)?;
        let size = |b: &Value| b.get("Items").and_then(Value::as_array).map_or(1, |a| a.len() as u64);
        if !ended && let Some(mut last) = batches.pop() {
            let carry = match last.get_mut("Items").map(Value::take) {
                Some(Value::Array(items)) => items,
                _ => return Err(Err(Error::Corrupt("a batch without Items".into()))),
            };
            let s = self.stream_join(f).and_then(|j| j.stream.as_deref_mut()).expect("still streaming");
            s.carry = carry;
        }
        Ok(batches
            .into_iter()
            .map(|b| {
                let n = size(&b);
                (b, n)
            })
            .collect())
    }

    /// A part of the results was written.
    pub(super) fn part_written(&mut self, f: u64, task_id: u64, parts: Vec<super::stream::Part>) -> Result<(), Error> {
        let Some(join) = self.stream_join(f) else { return Ok(()) };
        let arn = join.map_run_arn.clone();
        let s = join.stream.as_deref_mut().expect("a stream join has a stream");
        let w = s.writer.as_deref_mut().expect("a written part has a writer");
        if w.writing != Some(task_id) {
            return Ok(());
        }
        w.writing = None;
        w.sending.clear();
        let entries: u64 = parts.iter().map(|p| p.entries).sum();
        w.parts.extend(parts);
        if let Some(run) = self.exec.map_runs.iter_mut().find(|r| r.arn == arn) {
            run.executions.results_written += entries;
            run.items.results_written += entries;
        }
        self.stream_progressed(f)
    }

    /// After a slice or a part: finish when all is done, else start what may start.
    fn stream_progressed(&mut self, f: u64) -> Result<(), Error> {
        let Some(join) = self.stream_join(f) else { return Ok(()) };
        if let Some(r) = super::join::threshold_crossed(join) {
            return self.join_failed(f, r);
        }
        let join = self.stream_join(f).expect("still streaming");
        if join.is_done() { self.join_finished(f) } else { self.refill(f) }
    }

    /// A child of a streamed Map ended: its result entry waits for the next part.
    pub(super) fn stream_result(&mut self, f: u64, index: u64, result: Result<Value, Value>) -> Result<(), Error> {
        let start_ms = self.frame(f)?.entered_ms;
        let Some(join) = self.stream_join(f) else { return Ok(()) };
        let (arn, child) = (join.map_run_arn.clone(), join.child_arn(index));
        let s = join.stream.as_deref_mut().expect("a stream join has a stream");
        let Some(w) = s.writer.as_deref_mut() else { return Ok(()) };
        let input = w.inputs.remove(&index);
        let entry = self.result_entry(&arn, child, start_ms, input.as_ref(), &result);
        let bytes = crate::json::size_bytes(&entry) as u64;
        let w = self.stream_join(f).and_then(|j| j.stream.as_deref_mut()).and_then(|s| s.writer.as_deref_mut());
        let w = w.expect("still writing");
        w.unwritten.push(entry);
        w.unwritten_bytes += bytes;
        Ok(())
    }
}

/// The unwritten entries as one file per status, numbered after the parts
/// written before; the buffer is emptied.
pub(super) fn compose_parts(w: &mut Writer) -> (Vec<Value>, Vec<Part>) {
    let entries = std::mem::take(&mut w.unwritten);
    w.unwritten_bytes = 0;
    let mut by_status: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for e in entries {
        let status = e["Status"].as_str().expect("an entry has a status").to_string();
        by_status.entry(status).or_default().push(e);
    }
    let (mut files, mut parts) = (Vec::new(), Vec::new());
    for (status, entries) in by_status {
        let n = w.parts.iter().filter(|p| p.status == status).count();
        let key = format!("{}/{status}_{n}.json", w.dir);
        let count = entries.len() as u64;
        let body = crate::json::to_string(&Value::Array(entries));
        parts.push(Part { status, key: key.clone(), size_bytes: body.len() as u64, entries: count });
        files.push(json!({"Key": key, "Body": body}));
    }
    (files, parts)
}

#[cfg(test)]
mod tests {
    use super::Stream;

    #[test]
    fn succeeded_indexes_merge_into_sorted_ranges_in_any_order() {
        let orders: [&[u64]; 4] = [&[0, 1, 2, 3], &[3, 2, 1, 0], &[0, 2, 1, 3], &[5, 0, 3, 1, 4, 2, 9]];
        for order in orders {
            let mut s = Stream::default();
            for i in order {
                s.mark_succeeded(*i);
                s.mark_succeeded(*i); // twice is once
            }
            let mut expected: Vec<u64> = order.to_vec();
            expected.sort_unstable();
            let members: Vec<u64> = (0..12).filter(|i| s.has_succeeded(*i)).collect();
            assert_eq!(members, expected, "{order:?}");
            assert!(s.succeeded.windows(2).all(|w| w[0].1 < w[1].0), "sorted and apart: {:?}", s.succeeded);
        }
    }
}
