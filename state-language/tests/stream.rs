//! A distributed Map over a JSON Lines object, streamed, on the pure
//! interpreter: the items come a slice at a time, the results go out in
//! parts, the execution's state stays small whatever the item count, and a
//! redrive runs only the items that did not succeed. The host here answers
//! slices as `engine/s3.rs` does (whole lines, the bytes taken, the end);
//! the embedded server's path through LocalStack is measured by
//! `scripts/bench-map-run.py`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use state_language::interpreter::{Command, Execution, Input, StartContext, Status, step};
use state_language::limits::ITEM_SLICE_BYTES_MAX;

const ACTIVITY: &str = "arn:aws:states:us-east-1:1:activity:work";
/// The serialized execution a streamed Map may reach at any step: a slice of
/// items, the running children and two parts of results, with room to spare.
const STATE_BYTES_MAX: usize = 6 * 1024 * 1024;

struct Host {
    def: state_language::definition::Definition,
    exec: Execution,
    now: i64,
    object: Vec<u8>,
    /// Activity tasks handed out and not answered: (task id, payload).
    open: Vec<(u64, Value)>,
    /// Everything written to S3, by key.
    files: BTreeMap<String, Value>,
    slices_read: usize,
    /// Whether each step's serialized state is measured (costly with many steps).
    measure: bool,
    state_bytes_max: usize,
}

impl Host {
    fn start(def: Value, lines: &[String]) -> Host {
        let def = state_language::validate(&def, Default::default()).definition.expect("valid definition");
        let context = StartContext::sample(7);
        let object = lines.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes();
        let mut host = Host {
            def,
            exec: Execution::new(),
            now: 1_000,
            object,
            open: Vec::new(),
            files: BTreeMap::new(),
            slices_read: 0,
            measure: lines.len() > 50_000,
            state_bytes_max: 0,
        };
        host.apply(Input::Start { input: json!({}), context });
        host
    }

    /// Applies an input, then answers every S3 call it made, until only
    /// activity tasks (or nothing) are left.
    fn apply(&mut self, input: Input) {
        let mut inputs = vec![input];
        while let Some(input) = inputs.pop() {
            self.now += 1;
            let out = step(&self.def, &mut self.exec, input, self.now).expect("the step applies");
            if self.measure {
                let size = serde_json::to_vec(&self.exec).expect("the state serializes").len();
                self.state_bytes_max = self.state_bytes_max.max(size);
            }
            for c in out.commands {
                match c {
                    Command::RunTask(t) if t.resource == ACTIVITY => self.open.push((t.task_id, t.payload)),
                    Command::RunTask(t) => {
                        inputs.push(Input::TaskSucceeded { task_id: t.task_id, output: self.s3(&t.payload) })
                    }
                    Command::CancelTask { task_id } => self.open.retain(|(id, _)| *id != task_id),
                    _ => {}
                }
            }
        }
    }

    /// A slice read, or files written: what `engine/s3.rs` answers.
    fn s3(&mut self, p: &Value) -> Value {
        if let Some(files) = p["Files"].as_array() {
            for f in files {
                let body = serde_json::from_str(f["Body"].as_str().expect("a body")).expect("a JSON body");
                self.files.insert(f["Key"].as_str().expect("a key").to_string(), body);
            }
            return json!({});
        }
        let offset = p["StepwiseSlice"]["Offset"].as_u64().expect("a streamed read") as usize;
        // The first slice pins the object's ETag; every later one asks for that object.
        let if_match = &p["StepwiseSlice"]["IfMatch"];
        assert_eq!(if_match.is_null(), self.slices_read == 0, "slice {}: {if_match}", self.slices_read);
        assert!(if_match.is_null() || *if_match == json!("\"e1\""));
        self.slices_read += 1;
        let end_at = (offset + ITEM_SLICE_BYTES_MAX as usize).min(self.object.len());
        let body = &self.object[offset.min(end_at)..end_at];
        let end = end_at == self.object.len();
        let consumed = match (end, body.iter().rposition(|b| *b == b'\n')) {
            (true, _) => body.len(),
            (false, Some(i)) => i + 1,
            (false, None) => 0,
        };
        let body = String::from_utf8_lossy(&body[..consumed]);
        json!({"Body": body, "Consumed": consumed, "End": end, "ETag": "\"e1\""})
    }

    fn answer_where(&mut self, ok: impl Fn(&Value) -> bool) {
        let open = std::mem::take(&mut self.open);
        for (task_id, payload) in open {
            if self.exec.status != Status::Running {
                self.open.clear();
                return;
            }
            let input = if ok(&payload) {
                Input::TaskSucceeded { task_id, output: json!({"done": payload["id"]}) }
            } else {
                Input::TaskFailed { task_id, error: "Flaky".into(), cause: "once".into() }
            };
            self.apply(input);
        }
    }

    /// The result entries the manifest lists, by status.
    fn results(&self) -> BTreeMap<String, Vec<Value>> {
        let output = self.exec.output.as_ref().expect("an output");
        let manifest = &self.files[output["ResultWriterDetails"]["Key"].as_str().expect("a manifest key")];
        let mut by_status = BTreeMap::new();
        for status in ["SUCCEEDED", "FAILED"] {
            let parts = manifest["ResultFiles"][status].as_array().expect("a listing");
            let entries: Vec<Value> = parts
                .iter()
                .flat_map(|p| self.files[p["Key"].as_str().expect("a key")].as_array().expect("entries").clone())
                .collect();
            by_status.insert(status.to_string(), entries);
        }
        by_status
    }
}

fn lines(n: usize, pad: usize) -> Vec<String> {
    (0..n).map(|i| json!({"id": i, "pad": "x".repeat(pad)}).to_string()).collect()
}

fn machine(processor_state: Value, extra: Value) -> Value {
    let mut map = json!({
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "b", "Key": "items.jsonl"},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": processor_state},
        },
        "End": true,
    });
    let fields = extra.as_object().cloned().expect("extra fields are an object");
    map.as_object_mut().expect("a state is an object").extend(fields);
    json!({"StartAt": "M", "States": {"M": map}})
}

fn writer() -> Value {
    json!({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "out"}}})
}

fn pass() -> Value {
    json!({"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": true})
}

fn activity() -> Value {
    json!({"Type": "Task", "Resource": ACTIVITY, "End": true})
}

fn ids(entries: &[Value], field: &str) -> Vec<u64> {
    let mut ids: Vec<u64> = entries
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_str(e[field].as_str().expect("a JSON text")).expect("JSON");
            v["id"].as_u64().or_else(|| v["done"].as_u64()).expect("an id")
        })
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn a_large_object_is_read_in_slices_and_its_results_written_in_parts() {
    let n = 60_000;
    let host = Host::start(machine(pass(), writer()), &lines(n, 100));
    assert_eq!(host.exec.status, Status::Succeeded, "{:?} {:?}", host.exec.error, host.exec.cause);
    assert!(host.slices_read > 20, "{} slices for a {}-byte object", host.slices_read, host.object.len());
    assert!(host.state_bytes_max < STATE_BYTES_MAX, "the state reached {} bytes", host.state_bytes_max);
    let results = host.results();
    assert!(results["FAILED"].is_empty());
    assert_eq!(ids(&results["SUCCEEDED"], "Output"), (0..n as u64).collect::<Vec<_>>(), "each item once");
    assert_eq!(ids(&results["SUCCEEDED"], "Input"), (0..n as u64).collect::<Vec<_>>());
    let output = host.exec.output.as_ref().expect("an output");
    let manifest = &host.files[output["ResultWriterDetails"]["Key"].as_str().expect("a key")];
    assert!(manifest["ResultFiles"]["SUCCEEDED"].as_array().expect("parts").len() > 3, "{manifest}");
    let run = &host.exec.map_runs[0];
    assert_eq!((run.items.total, run.items.succeeded, run.items.results_written), (n as u64, n as u64, n as u64));
}

#[test]
fn without_a_writer_the_results_come_in_the_items_order() {
    let n = 5_000;
    let host = Host::start(machine(pass(), json!({})), &lines(n, 100));
    assert!(host.slices_read > 1);
    let expected: Vec<Value> = (0..n).map(|i| json!({"id": i})).collect();
    assert_eq!(host.exec.output, Some(Value::Array(expected)));
}

#[test]
fn max_items_stops_the_read() {
    let reader = json!({"Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSONL", "MaxItems": 5}, "Parameters": {"Bucket": "b", "Key": "k"}});
    let host = Host::start(machine(pass(), json!({"ItemReader": reader})), &lines(5_000, 100));
    assert_eq!(host.exec.output, Some(json!([{"id": 0}, {"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}])));
    assert_eq!(host.exec.map_runs[0].items.total, 5);
}

#[test]
fn a_bad_line_or_a_line_longer_than_a_slice_fails_the_reader() {
    let long = json!({"id": 1, "pad": "x".repeat(ITEM_SLICE_BYTES_MAX as usize)}).to_string();
    let cases = [
        (vec![long], "longer than"),
        (vec![r#"{"id": 0}"#.to_string(), "{not json".to_string()], "Item 1 is not valid JSON"),
    ];
    for (lines, cause) in cases {
        let host = Host::start(machine(pass(), json!({})), &lines);
        assert_eq!(host.exec.status, Status::Failed);
        assert_eq!(host.exec.error.as_deref(), Some("States.ItemReaderFailed"));
        assert!(host.exec.cause.as_deref().is_some_and(|c| c.contains(cause)), "{:?}", host.exec.cause);
    }
}

#[test]
fn a_tolerated_percentage_is_judged_against_the_whole_object() {
    // 100 of 3,000 items fail: 3.3%, within 5%, though more than 5% of the first slice.
    for (failing, status) in [(100, Status::Succeeded), (200, Status::Failed)] {
        let extra = json!({"ToleratedFailurePercentage": 5, "MaxConcurrency": 500});
        let mut host = Host::start(machine(activity(), extra), &lines(3_000, 150));
        while !host.open.is_empty() {
            host.answer_where(|p| p["id"].as_u64().expect("an id") >= failing);
        }
        assert_eq!(host.exec.status, status, "{failing} failing: {:?}", host.exec.cause);
        if status == Status::Failed {
            assert_eq!(host.exec.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
        }
    }
}

#[test]
fn a_redrive_runs_only_the_items_that_did_not_succeed() {
    let n = 4_000;
    let mut extra = writer();
    extra["MaxConcurrency"] = json!(300);
    let mut host = Host::start(machine(activity(), extra), &lines(n, 150));
    let mut handed_out = 0;
    // Items 1,000 and 1,001 fail; the Map fails at the first and aborts what runs.
    while !host.open.is_empty() {
        handed_out += host.open.len();
        host.answer_where(|p| !matches!(p["id"].as_u64(), Some(1_000 | 1_001)));
    }
    assert_eq!(host.exec.status, Status::Failed);
    let succeeded = host.exec.map_runs[0].items.succeeded;
    assert!(succeeded < n as u64 - 1 && succeeded >= 1_000, "{succeeded} succeeded");

    host.apply(Input::Redrive);
    let mut rerun = Vec::new();
    while !host.open.is_empty() {
        rerun.extend(host.open.iter().map(|(_, p)| p["id"].as_u64().expect("an id")));
        host.answer_where(|_| true);
    }
    assert_eq!(host.exec.status, Status::Succeeded, "{:?}", host.exec.cause);
    assert_eq!(rerun.len() as u64, n as u64 - succeeded, "only what had not succeeded runs again");
    assert!(rerun.contains(&1_000) && handed_out > 1_000);
    let results = host.results();
    assert_eq!(ids(&results["SUCCEEDED"], "Output"), (0..n as u64).collect::<Vec<_>>(), "each success listed once");
    assert_eq!(host.exec.map_runs[0].redrive_count, 1);
}

#[test]
fn batches_do_not_break_at_a_slice_edge() {
    // 5,000 items of ~110 bytes make 3 slices; batches of 7 are whole across them.
    let n = 5_000u64;
    let count = json!({"Type": "Pass", "Parameters": {"first.$": "$.Items[0].id", "n.$": "States.ArrayLength($.Items)"}, "End": true});
    let extra = json!({"ItemBatcher": {"MaxItemsPerBatch": 7}});
    let host = Host::start(machine(count, extra), &lines(n as usize, 100));
    assert!(host.slices_read >= 3, "{} slices", host.slices_read);
    let output = host.exec.output.clone().expect("an output");
    let batches = output.as_array().expect("an array");
    let expected: Vec<Value> = (0..n.div_ceil(7)).map(|b| json!({"first": b * 7, "n": (n - b * 7).min(7)})).collect();
    assert_eq!(batches, &expected);
    let run = &host.exec.map_runs[0];
    assert_eq!((run.executions.total, run.executions.succeeded), (n.div_ceil(7), n.div_ceil(7)));
    assert_eq!((run.items.total, run.items.succeeded), (n, n));
}
