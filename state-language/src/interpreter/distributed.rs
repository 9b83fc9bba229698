//! A distributed Map's Map Run I/O: the host reads the items (`ItemReader`)
//! and writes the results (`ResultWriter`) as S3 calls; the interpreter
//! parses, limits and batches the items and composes the result files, so
//! a replay sees exactly the same iterations.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::amount::Number;
use super::context::Where;
use super::events::{Details, ErrorDetails, EventType};
use super::frame::{Join, PendingTask, Purpose, Wait};
use super::io::{self, Raised, with_scope};
use super::items;
use super::jsonata::StatesVar;
use super::map_run::MapRunStatus;
use super::run::{Flow, Runtime};
use super::stream::{self, Stream};
use super::{Command, TaskCommand};
use crate::Error;
use crate::definition::{ItemReader, Kind, MapSpec, ResultWriter, State, Template};

type Res<T> = Result<T, Result<Raised, Error>>;

impl Runtime<'_> {
    /// Asks the host to read the Map's items. AWS records no events for the read.
    pub(super) fn start_reader(
        &mut self,
        f: u64,
        state: &State,
        reader: &ItemReader,
        join: Join,
        entered: u64,
    ) -> Res<Flow> {
        let payload =
            self.call_payload(f, state, &reader.parameters, &reader.arguments, &join.effective_input, entered)?;
        let Kind::Map(spec) = &state.kind else { return Err(Err(Error::Corrupt("a reader outside a Map".into()))) };
        if stream::streams(spec, reader) {
            return self.start_stream(f, state, spec, reader, join, payload, entered);
        }
        self.map_io(f, state, &reader.resource, payload, Purpose::ItemReader(Box::new(join))).map_err(Err)?;
        Ok(Flow::Blocked)
    }

    /// A JSON Lines reader: the Map waits on its join from the start, and
    /// the items come a slice at a time.
    #[allow(clippy::too_many_arguments)]
    fn start_stream(
        &mut self,
        f: u64,
        state: &State,
        spec: &MapSpec,
        reader: &ItemReader,
        mut join: Join,
        call: Value,
        entered: u64,
    ) -> Res<Flow> {
        let items_max = match &reader.max_items {
            Some(a) => {
                let n = self.number(f, state, a, "MaxItems", &join.effective_input, entered, Number::Integer)?;
                let failed = |cause: String| Ok(Raised::new("States.ItemReaderFailed", cause));
                items::max_items(n).map_err(failed)?.map(|m| m as u64)
            }
            None => None,
        };
        let kept = join.stream.take().map(|s| *s).unwrap_or_default();
        let writer = match &spec.result_writer {
            Some(w) => {
                let (bucket, dir) = self.writer_target(f, state, w, &join)?;
                // A redrive keeps the parts written, and writes what was not.
                let mut writer = kept.writer.map(|w| *w).unwrap_or_default();
                (writer.resource, writer.bucket, writer.dir) = (w.resource.clone(), bucket, dir);
                Some(Box::new(writer))
            }
            None => None,
        };
        join.stream = Some(Box::new(Stream {
            call,
            resource: reader.resource.clone(),
            items_max,
            writer,
            succeeded: kept.succeeded,
            etag: kept.etag,
            ..Stream::default()
        }));
        self.frame_mut(f).map_err(Err)?.wait = Wait::Join(Box::new(join));
        self.stream_more(f).map_err(Err)?;
        Ok(Flow::Blocked)
    }

    /// The items are known: batch them and start the iterations.
    pub(super) fn map_items_ready(
        &mut self,
        f: u64,
        state: &State,
        spec: &MapSpec,
        mut join: Join,
        items: Vec<Value>,
    ) -> Res<Flow> {
        let entered = self.frame(f).map_err(Err)?.entered_event_id;
        let items = self.batch(f, state, spec, items, &join.effective_input, entered)?;
        let n = items.len();
        join.results = vec![Value::Null; n];
        if spec.result_writer.is_some() {
            join.inputs = items.clone();
        }
        if spec.item_batcher.is_some() {
            let size = |b: &Value| b.get("Items").and_then(Value::as_array).map_or(1, |a| a.len() as u64);
            join.batch_sizes = items.iter().map(size).collect();
        }
        let kept = std::mem::take(&mut join.redrive_kept);
        let mut queued = std::collections::VecDeque::with_capacity(n - kept.len().min(n));
        for (i, v) in items.into_iter().enumerate() {
            match kept.get(&(i as u64)) {
                Some(result) => join.results[i] = result.clone(),
                None => queued.push_back((i as u64, v)),
            }
        }
        join.queued = queued;
        self.map_run_sized(&join);
        let nothing_to_run = join.queued.is_empty();
        self.frame_mut(f).map_err(Err)?.wait = Wait::Join(Box::new(join));
        if nothing_to_run {
            self.join_finished(f).map_err(Err)?;
        } else {
            self.fill_map(f, state, spec)?;
        }
        Ok(Flow::Blocked)
    }

    /// Every child of a join has finished: write the results if asked, else complete.
    pub(super) fn join_finished(&mut self, f: u64) -> Result<(), Error> {
        let def = self.def;
        let fr = self.frame_mut(f)?;
        let state = &def.machines[fr.machine].states[fr.state];
        let Wait::Join(join) = std::mem::replace(&mut fr.wait, Wait::Ready) else { return Ok(()) };
        if let Kind::Map(spec) = &state.kind
            && let Some(writer) = &spec.result_writer
        {
            // The writer's call may still fail: a redrive then runs no child
            // again that succeeded, and only writes the results again.
            if fr.parent.is_none() {
                fr.kept = Some(Box::new(join.kept()));
            }
            let arn = join.map_run_arn.clone();
            return match self.start_writer(f, state, writer, *join) {
                Ok(()) => Ok(()),
                Err(Ok(r)) => self.map_run_failed(f, &arn, r.error, r.cause),
                Err(Err(e)) => Err(e),
            };
        }
        if join.distributed {
            self.map_run_closed(&join.map_run_arn, MapRunStatus::Succeeded, false);
            self.emit(Some(f), EventType::MapRunSucceeded, Details::None {});
        }
        let ty = if join.is_map { EventType::MapStateSucceeded } else { EventType::ParallelStateSucceeded };
        self.emit(Some(f), ty, Details::None {});
        self.frame_mut(f)?.wait = Wait::Completed { result: Value::Array(join.results) };
        self.exec.ready.push_back(f);
        Ok(())
    }

    pub(super) fn map_io_succeeded(&mut self, task_id: u64, t: PendingTask, read: Value) -> Result<(), Error> {
        match t.purpose {
            Purpose::ItemReader(join) => {
                let arn = join.map_run_arn.clone();
                match self.items_read(t.frame, *join, read) {
                    Ok(()) => Ok(()),
                    Err(Ok(r)) => self.map_run_failed(t.frame, &arn, r.error, r.cause),
                    Err(Err(e)) => Err(e),
                }
            }
            Purpose::ResultWriter { output } => {
                if let Some(arn) = output.get("MapRunArn").and_then(Value::as_str) {
                    self.map_run_closed(arn, MapRunStatus::Succeeded, true);
                }
                self.emit(Some(t.frame), EventType::MapRunSucceeded, Details::None {});
                self.emit(Some(t.frame), EventType::MapStateSucceeded, Details::None {});
                self.frame_mut(t.frame)?.wait = Wait::Completed { result: output };
                self.exec.ready.push_back(t.frame);
                Ok(())
            }
            Purpose::ItemSlice => self.slice_read(t.frame, task_id, read),
            Purpose::ResultPart(parts) => self.part_written(t.frame, task_id, parts),
            Purpose::MapChild { .. } => self.child_closed(t, Ok(read)),
            Purpose::State => Err(Error::Corrupt("a state's task taken as a Map Run's".into())),
        }
    }

    pub(super) fn map_io_failed(&mut self, t: PendingTask, error: String, cause: String) -> Result<(), Error> {
        let (name, arn) = match &t.purpose {
            Purpose::MapChild { .. } => return self.child_closed(t, Err(Raised::new(&error, cause))),
            Purpose::ResultWriter { output } => {
                let arn = output.get("MapRunArn").and_then(Value::as_str).unwrap_or_default();
                ("States.ResultWriterFailed", arn.to_string())
            }
            Purpose::ItemReader(join) => ("States.ItemReaderFailed", join.map_run_arn.clone()),
            Purpose::ItemSlice | Purpose::ResultPart(_) => {
                let arn = match &self.frame(t.frame)?.wait {
                    Wait::Join(j) => j.map_run_arn.clone(),
                    // The Map stopped before the call's answer came.
                    _ => return Ok(()),
                };
                let failed = if t.purpose == Purpose::ItemSlice {
                    "States.ItemReaderFailed"
                } else {
                    "States.ResultWriterFailed"
                };
                (failed, arn)
            }
            Purpose::State => ("States.ItemReaderFailed", String::new()),
        };
        let cause = if cause.is_empty() { error } else { format!("{error}: {cause}") };
        self.map_run_failed(t.frame, &arn, name.to_string(), cause)
    }

    pub(super) fn map_run_failed(&mut self, f: u64, arn: &str, error: String, cause: String) -> Result<(), Error> {
        self.keep_for_redrive(f)?;
        self.map_run_closed(arn, MapRunStatus::Failed, false);
        self.abort_children(f)?;
        let d = ErrorDetails { error: Some(error.clone()), cause: Some(cause.clone()) };
        self.emit(Some(f), EventType::MapRunFailed, Details::MapRunFailed(d));
        let failed_event = Some(EventType::MapStateFailed);
        self.frame_mut(f)?.wait = Wait::Errored { error, cause, failed_event, from_task: false };
        self.exec.ready.push_back(f);
        Ok(())
    }

    fn items_read(&mut self, f: u64, join: Join, read: Value) -> Res<()> {
        let def = self.def;
        let fr = self.frame(f).map_err(Err)?;
        let state = &def.machines[fr.machine].states[fr.state];
        let entered = fr.entered_event_id;
        let Kind::Map(spec) = &state.kind else {
            return Err(Err(Error::Corrupt("an ItemReader result for a state that is not a Map".into())));
        };
        let Some(reader) = &spec.item_reader else {
            return Err(Err(Error::Corrupt("an ItemReader result for a Map without one".into())));
        };
        let failed = |cause: String| Ok(Raised::new("States.ItemReaderFailed", cause));
        let mut items = items::parse(reader, &read).map_err(failed)?;
        if let Some(a) = &reader.max_items {
            let n = self.number(f, state, a, "MaxItems", &join.effective_input, entered, Number::Integer)?;
            if let Some(max) = items::max_items(n).map_err(failed)? {
                items.truncate(max);
            }
        }
        self.map_items_ready(f, state, spec, join, items).map(|_| ())
    }

    pub(super) fn batch(
        &mut self,
        f: u64,
        state: &State,
        spec: &MapSpec,
        items: Vec<Value>,
        effective: &Value,
        entered: u64,
    ) -> Res<Vec<Value>> {
        let Some(b) = &spec.item_batcher else { return Ok(items) };
        let mut limit = |a: &Option<crate::definition::Amount>, field: &str| -> Res<Option<usize>> {
            match a {
                Some(a) => Ok(Some(self.amount(f, state, a, field, effective, entered)? as usize)),
                None => Ok(None),
            }
        };
        let max_items = limit(&b.max_items, "MaxItemsPerBatch")?;
        let max_bytes = limit(&b.max_bytes, "MaxInputBytesPerBatch")?;
        let batch_input = match (&b.batch_input, &b.batch_input_jsonata) {
            (None, None) => None,
            (t, jt) => Some(self.call_payload(f, state, t, jt, effective, entered)?),
        };
        Ok(items::batches(items, max_items, max_bytes, batch_input.as_ref()))
    }

    /// A reader's or writer's `Parameters` (JSONPath) or `Arguments` (JSONata).
    fn call_payload(
        &mut self,
        f: u64,
        state: &State,
        template: &Option<Template>,
        jt: &Option<crate::definition::Jt>,
        effective: &Value,
        entered: u64,
    ) -> Res<Value> {
        let entered_ms = self.frame(f).map_err(Err)?.entered_ms;
        let at = Where { state_name: &state.name, entered_ms, ..Where::default() };
        match (template, jt) {
            (Some(t), _) => {
                with_scope(self.exec, f, effective, at, |s| io::render(s, t, &state.name, entered)).map_err(Ok)
            }
            (None, Some(jt)) => self.eval_jt(f, state, jt, "Arguments", StatesVar::input(effective), at).map_err(Ok),
            (None, None) => Ok(Value::Object(Map::new())),
        }
    }

    /// The bucket and the directory (prefix and Map Run id) of a ResultWriter's files.
    fn writer_target(&mut self, f: u64, state: &State, writer: &ResultWriter, join: &Join) -> Res<(String, String)> {
        let entered = self.frame(f).map_err(Err)?.entered_event_id;
        let p = self.call_payload(f, state, &writer.parameters, &writer.arguments, &join.effective_input, entered)?;
        let Some(bucket) = p.get("Bucket").and_then(Value::as_str).map(str::to_string) else {
            return Err(Ok(Raised::new("States.ResultWriterFailed", "The ResultWriter needs a Bucket.")));
        };
        let prefix = p.get("Prefix").and_then(Value::as_str).unwrap_or_default().trim_end_matches('/');
        let run_id = join.map_run_arn.rsplit(':').next().unwrap_or_default();
        let dir = if prefix.is_empty() { run_id.to_string() } else { format!("{prefix}/{run_id}") };
        Ok((bucket, dir))
    }

    /// Composes the result files and the manifest, and asks the host to write them.
    fn start_writer(&mut self, f: u64, state: &State, writer: &ResultWriter, mut join: Join) -> Res<()> {
        let (bucket, mut files, listed) = match join.stream.as_deref_mut().and_then(|s| s.writer.as_deref_mut()) {
            Some(w) => {
                // Streamed: what is left goes in last parts, and the manifest lists every part.
                let (files, parts) = stream::compose_parts(w);
                w.parts.extend(parts);
                (w.bucket.clone(), files, listing(&w.dir, &w.parts))
            }
            None => {
                let (bucket, dir) = self.writer_target(f, state, writer, &join)?;
                let start = self.frame(f).map_err(Err)?.entered_ms;
                let (succeeded, failed) = self.result_entries(&join, start);
                let (files, parts) = whole_parts(&dir, succeeded, failed);
                (bucket, files, listing(&dir, &parts))
            }
        };
        let manifest_key = listed.1;
        let manifest = json!({"DestinationBucket": bucket, "MapRunArn": join.map_run_arn, "ResultFiles": listed.0});
        // The manifest goes last, so whoever finds it finds the files it lists.
        files.push(json!({"Key": manifest_key, "Body": crate::json::to_string(&manifest)}));
        let output =
            json!({"MapRunArn": join.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}});
        let payload = json!({"Bucket": bucket, "Files": files});
        self.map_io(f, state, &writer.resource, payload, Purpose::ResultWriter { output }).map_err(Err)
    }

    /// Each iteration as AWS lists its child execution in the result files.
    fn result_entries(&mut self, join: &Join, start_ms: i64) -> (Vec<Value>, Vec<Value>) {
        let failed: BTreeSet<u64> = join.failed_items.iter().copied().collect();
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for (i, result) in join.results.iter().enumerate() {
            let (input, arn, result) = (join.inputs.get(i), join.child_arn(i as u64), result.clone());
            if failed.contains(&(i as u64)) {
                bad.push(self.result_entry(&join.map_run_arn, arn, start_ms, input, &Err(result)));
            } else {
                ok.push(self.result_entry(&join.map_run_arn, arn, start_ms, input, &Ok(result)));
            }
        }
        (ok, bad)
    }

    /// One child execution as AWS lists it in the result files, under its
    /// own ARN (`arn`), whether it ran as one or inline (EXPRESS).
    pub(super) fn result_entry(
        &mut self,
        map_run_arn: &str,
        arn: String,
        start_ms: i64,
        input: Option<&Value>,
        result: &Result<Value, Value>,
    ) -> Value {
        let machine = super::map_run::run_machine_arn(map_run_arn);
        let (start, stop) = (crate::time::format_millis(start_ms), crate::time::format_millis(self.now_ms));
        let name = arn.rsplit(':').next().expect("an ARN has parts").to_string();
        let input = input.map(crate::json::to_string).unwrap_or_default();
        let mut e = json!({
            "ExecutionArn": arn, "Input": input, "InputDetails": {"Included": true}, "Name": name,
            "RedriveCount": 0, "StartDate": start, "StateMachineArn": machine, "StopDate": stop,
        });
        match result {
            Err(error) => {
                e["Status"] = json!("FAILED");
                e["Error"] = error.get("Error").cloned().unwrap_or(Value::Null);
                e["Cause"] = error.get("Cause").cloned().unwrap_or(Value::Null);
            }
            Ok(output) => {
                e["Status"] = json!("SUCCEEDED");
                e["Output"] = json!(crate::json::to_string(output));
                e["OutputDetails"] = json!({"Included": true});
            }
        }
        e
    }

    /// Registers a Map Run's S3 call as a task of the Map's frame, which waits on it.
    fn map_io(&mut self, f: u64, state: &State, resource: &str, payload: Value, purpose: Purpose) -> Result<(), Error> {
        let task_id = self.io_task(f, &state.name, resource, payload, purpose);
        self.frame_mut(f)?.wait = Wait::Task { task_id };
        Ok(())
    }

    /// Registers a Map Run's S3 call as a task of the Map's frame.
    pub(super) fn io_task(
        &mut self,
        f: u64,
        state_name: &str,
        resource: &str,
        payload: Value,
        purpose: Purpose,
    ) -> u64 {
        let task_id = self.exec.fresh_id();
        let (a, b) = (self.exec.entropy.next_u64(), self.exec.entropy.next_u64());
        let key = self.exec.context.as_ref().map_or("", |c| c.token_key.as_str());
        let token = super::task::task_token(task_id, a, b, key);
        let pending = PendingTask {
            frame: f,
            token: token.clone(),
            resource: resource.to_string(),
            started: false,
            timeout_timer: None,
            heartbeat_timer: None,
            heartbeat_seconds: None,
            purpose,
        };
        self.exec.tasks.insert(task_id, pending);
        self.out.commands.push(Command::RunTask(TaskCommand {
            task_id,
            resource: resource.to_string(),
            payload,
            state_name: state_name.to_string(),
            task_token: token,
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
        }));
        task_id
    }
}

/// A whole (unstreamed) Map Run's result files: one per status.
fn whole_parts(dir: &str, succeeded: Vec<Value>, failed: Vec<Value>) -> (Vec<Value>, Vec<stream::Part>) {
    let (mut files, mut parts) = (Vec::new(), Vec::new());
    for (status, entries) in [("SUCCEEDED", succeeded), ("FAILED", failed)] {
        if entries.is_empty() {
            continue;
        }
        let key = format!("{dir}/{status}_0.json");
        let entries_n = entries.len() as u64;
        let body = crate::json::to_string(&Value::Array(entries));
        parts.push(stream::Part {
            status: status.into(),
            key: key.clone(),
            size_bytes: body.len() as u64,
            entries: entries_n,
        });
        files.push(json!({"Key": key, "Body": body}));
    }
    (files, parts)
}

/// The manifest's `ResultFiles` and its key.
fn listing(dir: &str, parts: &[stream::Part]) -> (Value, String) {
    let mut listed = json!({"FAILED": [], "PENDING": [], "SUCCEEDED": []});
    for p in parts {
        let list = listed[p.status.as_str()].as_array_mut().expect("every status is listed");
        list.push(json!({"Key": p.key, "Size": p.size_bytes}));
    }
    (listed, format!("{dir}/manifest.json"))
}
