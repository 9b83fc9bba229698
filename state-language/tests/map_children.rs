//! A STANDARD distributed Map's iterations as child executions, on the pure
//! interpreter: with the host's offer (`StartContext::map_children_running_max`) each item
//! is a start task naming its child, the child's answer ends the iteration, a
//! crossed threshold aborts the children still running, and a redrive starts
//! only the children that did not succeed, under the same names.

use serde_json::{Value, json};
use state_language::interpreter::children::{MAP_CHILD_RESOURCE, child_execution_arn, express_child_execution_arn};
use state_language::interpreter::{Command, Execution, ExpressChild, Input, StartContext, Status, step};

/// The host's cap in these tests: three items start at once, a fourth waits.
const CHILDREN_RUNNING_MAX: u64 = 3;

fn definition(execution_type: &str) -> Value {
    json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "Label": "fan", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
            "StartAt": "W", "States": {"W": {"Type": "Pass", "End": true}}}}}})
}

struct Run {
    def: state_language::definition::Definition,
    exec: Execution,
    now: i64,
    /// Child starts asked for and not yet answered: (task id, payload).
    starts: Vec<(u64, Value)>,
    aborted: Vec<String>,
    /// EXPRESS children the host is to list, as they closed.
    express: Vec<ExpressChild>,
    /// Timers started and not yet fired.
    timers: Vec<u64>,
}

impl Run {
    fn start(execution_type: &str, items: Value, offered: bool) -> Run {
        Run::start_with(definition(execution_type), items, offered)
    }

    fn start_with(definition: Value, items: Value, offered: bool) -> Run {
        let def = state_language::validate(&definition, Default::default());
        let def = def.definition.expect("valid definition");
        let offered = if offered { CHILDREN_RUNNING_MAX } else { 0 };
        let context = StartContext { map_children_running_max: offered, ..StartContext::sample(3) };
        let mut run = Run {
            def,
            exec: Execution::new(),
            now: 1_000,
            starts: Vec::new(),
            aborted: Vec::new(),
            express: Vec::new(),
            timers: Vec::new(),
        };
        run.apply(Input::Start { input: items, context });
        run
    }

    fn apply(&mut self, input: Input) {
        self.now += 1;
        let out = step(&self.def, &mut self.exec, input, self.now).expect("the step applies");
        for c in out.commands {
            match c {
                Command::RunTask(t) => {
                    assert_eq!(t.resource, MAP_CHILD_RESOURCE, "only child starts are tasks here");
                    self.starts.push((t.task_id, t.payload));
                }
                Command::CancelTask { task_id } => self.starts.retain(|(id, _)| *id != task_id),
                Command::AbortChild { execution_arn, .. } => self.aborted.push(execution_arn),
                Command::ListExpressChild(c) => self.express.push(c),
                Command::StartTimer { timer_id, .. } => self.timers.push(timer_id),
                _ => {}
            }
        }
    }

    /// Answers the start of item `x` as its child's close would.
    fn close(&mut self, x: i64, ok: bool) {
        let i = self.starts.iter().position(|(_, p)| p["Input"] == json!(x)).expect("that child started");
        let (task_id, _) = self.starts.remove(i);
        self.apply(match ok {
            true => Input::TaskSucceeded { task_id, output: json!({"x": x}) },
            false => Input::TaskFailed { task_id, error: "Boom".into(), cause: format!("item {x}") },
        });
    }

    fn map_run(&self) -> String {
        self.exec.map_runs[0].arn.clone()
    }
}

#[test]
fn each_item_is_a_child_start_and_its_answer_ends_the_iteration() {
    let mut run = Run::start("STANDARD", json!([10, 11, 12]), true);
    assert_eq!(run.starts.len(), 3, "every item starts at once");
    let arn = run.map_run();
    for (i, (_, p)) in run.starts.iter().enumerate() {
        assert_eq!(p["ExecutionArn"], json!(child_execution_arn(&arn, i as u64)));
        assert_eq!((p["MapRunArn"].as_str(), p["ItemCount"].as_u64()), (Some(arn.as_str()), Some(1)));
    }
    for x in [12, 10, 11] {
        run.close(x, true);
    }
    assert_eq!(run.exec.status, Status::Succeeded);
    assert_eq!(run.exec.output, Some(json!([{"x": 10}, {"x": 11}, {"x": 12}])), "in item order");
}

#[test]
fn a_crossed_threshold_aborts_the_running_children_and_a_redrive_starts_only_those() {
    let mut run = Run::start("STANDARD", json!([1, 2, 3]), true);
    let arn = run.map_run();
    run.close(1, true);
    run.close(2, false);
    assert_eq!(run.exec.status, Status::Failed);
    assert_eq!(run.aborted, vec![child_execution_arn(&arn, 2)], "the running child is aborted");
    run.apply(Input::Redrive);
    let again: Vec<Value> = run.starts.iter().map(|(_, p)| p["ExecutionArn"].clone()).collect();
    let expected = [json!(child_execution_arn(&arn, 1)), json!(child_execution_arn(&arn, 2))];
    assert_eq!(again, expected, "the failed and the aborted child, under their names; not the succeeded one");
    run.close(2, true);
    run.close(3, true);
    assert_eq!(run.exec.status, Status::Succeeded);
    assert_eq!(run.exec.output, Some(json!([{"x": 1}, {"x": 2}, {"x": 3}])));
}

#[test]
fn express_children_and_a_host_that_offers_none_run_inline() {
    for (execution_type, offered) in [("EXPRESS", true), ("STANDARD", false)] {
        let run = Run::start(execution_type, json!([1, 2]), offered);
        assert!(run.starts.is_empty(), "{execution_type}, offered {offered}: no child starts");
        assert_eq!(run.exec.status, Status::Succeeded);
        assert_eq!(run.exec.output, Some(json!([1, 2])));
    }
}

#[test]
fn the_host_bounds_the_children_running_at_once() {
    let mut run = Run::start("STANDARD", json!([1, 2, 3, 4]), true);
    assert_eq!(run.starts.len() as u64, CHILDREN_RUNNING_MAX, "MaxConcurrency 0, but the host's cap holds");
    run.close(2, true);
    assert_eq!(run.starts.len() as u64, CHILDREN_RUNNING_MAX, "a slot freed: the fourth starts");
    assert!(run.starts.iter().any(|(_, p)| p["Input"] == json!(4)));
    for x in [1, 3, 4] {
        run.close(x, true);
    }
    assert_eq!(run.exec.status, Status::Succeeded);
}

/// EXPRESS children: item 0 fails, item 9 waits and is aborted when the Map Run fails, the rest succeed.
fn express_definition() -> Value {
    json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "Label": "fan", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "C", "States": {
                "C": {"Type": "Choice", "Default": "W", "Choices": [
                    {"Variable": "$", "NumericEquals": 0, "Next": "Boom"},
                    {"Variable": "$", "NumericEquals": 9, "Next": "Sleep"}]},
                "Boom": {"Type": "Fail", "Error": "Boom"},
                "Sleep": {"Type": "Wait", "Seconds": 100, "Next": "W"},
                "W": {"Type": "Pass", "End": true}}}}}})
}

#[test]
fn express_children_are_listed_under_their_map_run_as_they_start_and_close() {
    let run = Run::start_with(express_definition(), json!([1, 2]), true);
    assert_eq!(run.exec.status, Status::Succeeded);
    let map_run = run.map_run();
    let listed: Vec<(String, Status, u64)> =
        run.express.iter().map(|c| (c.execution_arn.clone(), c.status, c.item_count)).collect();
    let arn = |i| express_child_execution_arn(&map_run, i);
    let expected = vec![
        (arn(0), Status::Running, 1),
        (arn(1), Status::Running, 1),
        (arn(0), Status::Succeeded, 1),
        (arn(1), Status::Succeeded, 1),
    ];
    assert_eq!(listed, expected, "each child as it starts and closes, under a name that holds its index");
    assert!(run.express.iter().all(|c| c.stop_ms.is_some() == (c.status != Status::Running)));
    let started = run.exec.map_run(&map_run).expect("the Map Run's record").start_ms;
    assert!(run.express.iter().all(|c| c.listed_ms == started && c.map_run_arn == map_run));

    // A failure past the threshold fails the Map Run: the waiting child is listed aborted.
    let run = Run::start_with(express_definition(), json!([9, 0]), true);
    assert_eq!(run.exec.status, Status::Failed);
    let closed: Vec<&ExpressChild> = run.express.iter().filter(|c| c.status != Status::Running).collect();
    let statuses: Vec<Status> = closed.iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![Status::Failed, Status::Aborted]);
    assert_eq!(
        (closed[0].error.as_deref(), closed[1].error.as_deref()),
        (Some("Boom"), None),
        "a failure keeps its error"
    );
    assert_eq!(closed[1].execution_arn, express_child_execution_arn(&run.map_run(), 0), "item 9 is index 0");

    // Stopping the parent aborts the child that waits.
    let mut run = Run::start_with(express_definition(), json!([9]), true);
    run.apply(Input::Stop { error: None, cause: None });
    assert_eq!(run.exec.status, Status::Aborted);
    let statuses: Vec<Status> = run.express.iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![Status::Running, Status::Aborted], "listed running while it waited");
}

/// EXPRESS children that each wait 100 s.
fn express_waits() -> Value {
    json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "Label": "fan", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 100, "End": true}}}}}})
}

#[test]
fn the_host_bounds_the_express_children_waiting_at_once_too() {
    let mut run = Run::start_with(express_waits(), json!([1, 2, 3, 4]), true);
    let running = |r: &Run| r.express.iter().filter(|c| c.status == Status::Running).count() as u64;
    assert_eq!(running(&run), CHILDREN_RUNNING_MAX, "MaxConcurrency 0, but the host's cap holds");
    assert_eq!(run.timers.len() as u64, CHILDREN_RUNNING_MAX);
    let first = run.timers.remove(0);
    run.apply(Input::TimerFired { timer_id: first });
    assert_eq!(running(&run), CHILDREN_RUNNING_MAX + 1, "a slot freed: the fourth starts");
    for timer_id in std::mem::take(&mut run.timers) {
        run.apply(Input::TimerFired { timer_id });
    }
    assert_eq!(run.exec.status, Status::Succeeded);
    assert_eq!(run.exec.output, Some(json!([1, 2, 3, 4])));

    // Without the host's offer (the local runner, TestState), all four wait at once.
    let run = Run::start_with(express_waits(), json!([1, 2, 3, 4]), false);
    assert_eq!(run.timers.len(), 4);
}

/// Two children at a time, and up to two failures tolerated.
fn narrow_definition() -> Value {
    json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "Label": "fan", "End": true,
        "MaxConcurrency": 2, "ToleratedFailureCount": 2,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W", "States": {"W": {"Type": "Pass", "End": true}}}}}})
}

#[test]
fn a_redrive_counts_the_unsuccessful_children_waiting_to_start_again() {
    let mut run = Run::start_with(narrow_definition(), json!([1, 2, 3, 4, 5]), true);
    let arn = run.map_run();
    for x in [1, 2, 3] {
        run.close(x, false);
    }
    assert_eq!(run.exec.status, Status::Failed, "the third failure crosses the threshold");
    let (executions, _) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!((executions.failed, executions.aborted, executions.pending_redrive), (3, 1, 0));

    run.apply(Input::Redrive);
    let (executions, items) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!(run.starts.len(), 2, "two start again at once");
    assert_eq!((executions.running, executions.pending, executions.pending_redrive), (2, 3, 2));
    assert_eq!(items.pending_redrive, 2);
    run.close(1, true);
    let (executions, _) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!(executions.pending_redrive, 1, "the next unsuccessful child started");
    for x in [2, 3, 4, 5] {
        run.close(x, true);
    }
    assert_eq!(run.exec.status, Status::Succeeded);
    let (executions, _) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!((executions.succeeded, executions.pending_redrive), (5, 0));
}

#[test]
fn a_child_that_cannot_be_redriven_fails_its_item_and_is_counted() {
    let mut run = Run::start_with(narrow_definition(), json!([1, 2]), true);
    let arn = run.map_run();
    let (task_id, _) = run.starts.remove(0);
    run.apply(Input::ChildNotRedrivable { task_id, error: "States.Runtime".into(), cause: "full".into() });
    run.close(2, true);
    assert_eq!(run.exec.status, Status::Succeeded, "one failure is tolerated");
    let (executions, items) = run.exec.map_run_counts(&arn).expect("counts");
    assert_eq!((executions.failed, executions.failures_not_redrivable, items.failures_not_redrivable), (1, 1, 1));
    assert_eq!(run.exec.output.as_ref().expect("output")[0]["Error"], json!("States.Runtime"));
}
