//! Redrive of only what failed, and Map Runs, on the pure interpreter: a
//! redriven Parallel or Map runs again only the branches and iterations that
//! failed, were aborted or never finished, keeps the others' results and
//! assembles its output in the original order; a distributed Map's redrive
//! continues its Map Run. A retry still runs the whole state again.

use serde_json::{Value, json};
use state_language::interpreter::{
    Command, EventType, Execution, Input, MapRunStatus, MapRunUpdate, StartContext, Status, Step, step,
};

const ACTIVITY: &str = "arn:aws:states:us-east-1:1:activity:work";

struct Run {
    def: state_language::definition::Definition,
    exec: Execution,
    now: i64,
    /// Tasks handed out and not yet answered: (task id, payload).
    open: Vec<(u64, Value)>,
    events: Vec<EventType>,
}

impl Run {
    fn start(def: Value, input: Value) -> Run {
        let def = state_language::validate(&def, Default::default()).definition.expect("valid definition");
        let context = StartContext::sample(7);
        let mut run = Run { def, exec: Execution::new(), now: 1_000, open: Vec::new(), events: Vec::new() };
        run.apply(Input::Start { input, context });
        run
    }

    fn apply(&mut self, input: Input) -> Step {
        self.now += 1;
        let out = step(&self.def, &mut self.exec, input, self.now).expect("the step applies");
        for c in &out.commands {
            match c {
                Command::RunTask(t) => self.open.push((t.task_id, t.payload.clone())),
                Command::CancelTask { task_id } => self.open.retain(|(id, _)| id != task_id),
                _ => {}
            }
        }
        self.events.extend(out.events.iter().map(|e| e.event_type));
        out
    }

    /// The payloads of the open tasks, in the order they were handed out.
    fn payloads(&self) -> Vec<Value> {
        self.open.iter().map(|(_, p)| p.clone()).collect()
    }

    /// Answers the open task whose payload is `payload`: its result, or a failure.
    fn answer(&mut self, payload: Value, ok: bool) {
        let i = self.open.iter().position(|(_, p)| *p == payload).expect("a task with that payload is open");
        let (task_id, _) = self.open.remove(i);
        let input = if ok {
            Input::TaskSucceeded { task_id, output: json!({"done": payload}) }
        } else {
            Input::TaskFailed { task_id, error: "Flaky".into(), cause: "once".into() }
        };
        self.apply(input);
    }

    fn redrive(&mut self) {
        self.open.clear();
        self.events.clear();
        self.apply(Input::Redrive);
    }

    fn output(&self) -> Value {
        assert_eq!(self.exec.status, Status::Succeeded, "error {:?}: {:?}", self.exec.error, self.exec.cause);
        self.exec.output.clone().expect("an output")
    }

    fn count(&self, ty: EventType) -> usize {
        self.events.iter().filter(|e| **e == ty).count()
    }
}

fn task() -> Value {
    json!({"Type": "Task", "Resource": ACTIVITY, "End": true})
}

/// A machine of one Map state `M`: `map` with the fields of `extra` added.
fn machine(mut map: Value, extra: Value) -> Value {
    let fields = extra.as_object().cloned().expect("extra fields are an object");
    map.as_object_mut().expect("a state is an object").extend(fields);
    json!({"StartAt": "M", "States": {"M": map}})
}

fn inline_map(extra: Value) -> Value {
    machine(json!({"Type": "Map", "ItemProcessor": {"StartAt": "T", "States": {"T": task()}}, "End": true}), extra)
}

fn done(items: &[i64]) -> Value {
    Value::Array(items.iter().map(|i| json!({"done": i})).collect())
}

#[test]
fn an_inline_map_redrives_only_the_failed_and_aborted_iterations() {
    let mut run = Run::start(inline_map(json!({})), json!([0, 1, 2, 3]));
    assert_eq!(run.payloads(), vec![json!(0), json!(1), json!(2), json!(3)]);
    run.answer(json!(0), true);
    run.answer(json!(2), false); // fails the Map; 1 and 3 are aborted
    assert_eq!(run.exec.status, Status::Failed);
    assert!(run.open.is_empty());

    run.redrive();
    assert_eq!(run.payloads(), vec![json!(1), json!(2), json!(3)], "item 0 succeeded and is not run again");
    assert_eq!(run.count(EventType::MapIterationStarted), 3);
    for i in [3, 1, 2] {
        run.answer(json!(i), true);
    }
    assert_eq!(run.output(), done(&[0, 1, 2, 3]), "the output keeps the original order");
}

#[test]
fn a_parallel_redrives_only_the_failed_branches() {
    let branch = |n: i64| {
        let t = json!({"Type": "Task", "Resource": ACTIVITY, "Parameters": {"b": n}, "End": true});
        json!({"StartAt": "T", "States": {"T": t}})
    };
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
        "Branches": [branch(0), branch(1), branch(2)]}}});
    let mut run = Run::start(def, json!({}));
    run.answer(json!({"b": 0}), true);
    run.answer(json!({"b": 1}), false);
    assert_eq!(run.exec.status, Status::Failed);

    run.redrive();
    assert_eq!(run.payloads(), vec![json!({"b": 1}), json!({"b": 2})]);
    run.answer(json!({"b": 2}), true);
    run.answer(json!({"b": 1}), true);
    let out = run.output();
    assert_eq!(out, json!([{"done": {"b": 0}}, {"done": {"b": 1}}, {"done": {"b": 2}}]));
}

#[test]
fn a_stopped_map_redrives_what_had_not_finished() {
    let mut run = Run::start(inline_map(json!({"MaxConcurrency": 2})), json!([0, 1, 2, 3]));
    run.answer(json!(0), true);
    run.apply(Input::Stop { error: None, cause: None });
    assert_eq!(run.exec.status, Status::Aborted);

    run.redrive();
    assert_eq!(run.payloads(), vec![json!(1), json!(2)], "MaxConcurrency still holds; item 0 is kept");
    run.answer(json!(1), true);
    run.answer(json!(2), true);
    run.answer(json!(3), true);
    assert_eq!(run.output(), done(&[0, 1, 2, 3]));
}

#[test]
fn a_retry_still_runs_the_whole_map_again() {
    let retry = json!({"Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}]});
    let mut run = Run::start(inline_map(retry), json!([0, 1]));
    run.answer(json!(0), true);
    run.answer(json!(1), false);
    let timer = run.exec.timers.keys().next().copied().expect("the retry's backoff");
    run.apply(Input::TimerFired { timer_id: timer });
    assert_eq!(run.payloads(), vec![json!(0), json!(1)], "a retry runs every iteration");
    run.answer(json!(0), true);
    run.answer(json!(1), false);
    assert_eq!(run.exec.status, Status::Failed);

    run.redrive();
    assert_eq!(run.payloads(), vec![json!(1)], "the redrive keeps what the last attempt finished");
    run.answer(json!(1), true);
    assert_eq!(run.output(), done(&[0, 1]));
}

fn distributed(extra: Value) -> Value {
    let map = json!({"Type": "Map", "End": true, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "T", "States": {"T": task()}}});
    machine(map, extra)
}

#[test]
fn a_distributed_map_redrive_continues_its_map_run() {
    let mut run = Run::start(distributed(json!({"ToleratedFailureCount": 1})), json!([0, 1, 2, 3, 4]));
    let arn = run.exec.map_runs[0].arn.clone();
    assert!(arn.starts_with("arn:aws:states:us-east-1:1:mapRun:m/M:"), "{arn}");
    run.answer(json!(0), true);
    run.answer(json!(1), false); // tolerated
    run.answer(json!(2), true);
    let (executions, _) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!((executions.succeeded, executions.failed, executions.running, executions.total), (2, 1, 2, 5));
    run.answer(json!(3), false); // the second failure crosses the threshold; 4 is aborted
    assert_eq!(run.exec.status, Status::Failed);
    assert_eq!(run.exec.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
    let record = run.exec.map_run(&arn).expect("the record").clone();
    assert_eq!(record.status, MapRunStatus::Failed);
    let (executions, items) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!((executions.succeeded, executions.failed, executions.aborted, executions.pending), (2, 2, 1, 0));
    assert_eq!(items, executions);

    run.redrive();
    assert_eq!(run.count(EventType::MapRunRedriven), 1);
    assert_eq!(run.count(EventType::MapRunStarted), 0, "the same Map Run continues");
    assert_eq!(run.exec.map_runs.len(), 1);
    assert_eq!(run.payloads(), vec![json!(1), json!(3), json!(4)], "succeeded children are not run again");
    for i in [1, 3, 4] {
        run.answer(json!(i), true);
    }
    assert_eq!(run.output(), done(&[0, 1, 2, 3, 4]));
    let record = run.exec.map_run(&arn).expect("the record");
    assert_eq!((record.status, record.redrive_count), (MapRunStatus::Succeeded, 1));
    let (executions, _) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!((executions.succeeded, executions.failed, executions.total), (5, 0, 5));
}

#[test]
fn a_failed_result_writer_is_redriven_without_running_any_child_again() {
    let writer = json!({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "out"}});
    let mut run = Run::start(distributed(json!({"ResultWriter": writer})), json!([0, 1, 2]));
    for i in 0..3 {
        run.answer(json!(i), true);
    }
    let write = run.payloads().pop().expect("the writer's call");
    assert_eq!(write["Bucket"], "b", "{write}");
    let (task_id, _) = run.open.remove(0);
    run.apply(Input::TaskFailed { task_id, error: "S3.ServiceUnavailable".into(), cause: "slow down".into() });
    assert_eq!(run.exec.status, Status::Failed);
    assert_eq!(run.exec.error.as_deref(), Some("States.ResultWriterFailed"));

    run.redrive();
    let again = run.payloads();
    assert_eq!(again.len(), 1, "only the results are written again; no child runs: {again:?}");
    // The same files, with every kept child's output (a kept child's entry is made anew: its
    // name and dates are not kept, as children are not yet executions of their own).
    assert_eq!(files(&write, "Key"), files(&again[0], "Key"));
    let outputs = |w: &Value| {
        let body: Value = serde_json::from_str(&files(w, "Body")[0]).expect("a JSON part");
        body.as_array().expect("entries").iter().map(|e| e["Output"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(outputs(&write), outputs(&again[0]));
    assert_eq!(run.count(EventType::MapRunRedriven), 1);
    let (task_id, _) = run.open.remove(0);
    run.apply(Input::TaskSucceeded { task_id, output: json!({}) });
    let output = run.output();
    assert!(output["ResultWriterDetails"]["Key"].as_str().is_some_and(|k| k.ends_with("manifest.json")), "{output}");
}

/// One field of each file a writer's call writes.
fn files(write: &Value, field: &str) -> Vec<String> {
    let files = write["Files"].as_array().expect("files");
    files.iter().map(|f| f[field].as_str().expect("a string field").to_string()).collect()
}

#[test]
fn update_map_run_raises_the_concurrency_at_once() {
    let mut run = Run::start(distributed(json!({"MaxConcurrency": 1})), json!([0, 1, 2, 3]));
    let arn = run.exec.map_runs[0].arn.clone();
    assert_eq!(run.payloads().len(), 1);
    let update = MapRunUpdate { max_concurrency: Some(3), ..MapRunUpdate::default() };
    run.apply(Input::UpdateMapRun { map_run_arn: arn.clone(), update });
    assert_eq!(run.payloads(), vec![json!(0), json!(1), json!(2)]);
    assert_eq!(run.exec.map_run(&arn).map(|r| r.max_concurrency), Some(3));
    for i in 0..4 {
        run.answer(json!(i), true);
    }
    run.output();
    let update = MapRunUpdate { max_concurrency: Some(5), ..MapRunUpdate::default() };
    let late = step(&run.def, &mut run.exec, Input::UpdateMapRun { map_run_arn: arn, update }, run.now);
    assert!(late.is_err(), "a closed Map Run cannot be updated");
}

#[test]
fn a_stopped_execution_aborts_its_map_run() {
    let mut run = Run::start(distributed(json!({})), json!([0, 1]));
    let arn = run.exec.map_runs[0].arn.clone();
    run.answer(json!(0), true);
    run.apply(Input::Stop { error: None, cause: None });
    assert_eq!(run.count(EventType::MapRunAborted), 1);
    let (executions, _) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!((executions.succeeded, executions.aborted), (1, 1));
    assert_eq!(run.exec.map_run(&arn).map(|r| r.status), Some(MapRunStatus::Aborted));
}

#[test]
fn a_map_run_is_redriven_at_most_a_thousand_times() {
    let mut run = Run::start(distributed(json!({})), json!([0]));
    run.answer(json!(0), false);
    for _ in 0..state_language::limits::MAP_RUN_REDRIVES_MAX {
        assert_eq!(run.exec.map_run_redrives_exhausted(), None);
        run.redrive();
        run.answer(json!(0), false);
    }
    let arn = run.exec.map_runs[0].arn.clone();
    assert_eq!(run.exec.map_run_redrives_exhausted(), Some(arn.as_str()));
}

/// AWS: `MaxConcurrency` 0 in a distributed Map means up to 10,000 children
/// at once, and no value gives more; inline, 0 means no limit.
#[test]
fn a_distributed_map_runs_at_most_ten_thousand_children_at_once() {
    let items: Vec<Value> = (0..10_005).map(|i| json!(i)).collect();
    for extra in [json!({}), json!({"MaxConcurrency": 0}), json!({"MaxConcurrency": 20_000})] {
        let mut run = Run::start(distributed(extra.clone()), Value::Array(items.clone()));
        assert_eq!(run.payloads().len(), 10_000, "{extra}");
        let arn = run.exec.map_runs[0].arn.clone();
        let (executions, _) = run.exec.map_run_counts(&arn).expect("counts");
        assert_eq!((executions.running, executions.pending), (10_000, 5), "{extra}");
        run.answer(json!(0), true);
        assert_eq!(run.payloads().len(), 10_000, "a finished child makes room for one more");
    }
    let run = Run::start(inline_map(json!({"MaxConcurrency": 0})), json!((0..2_000).collect::<Vec<i64>>()));
    assert_eq!(run.payloads().len(), 2_000, "inline, 0 is no limit");
}
