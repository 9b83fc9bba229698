//! The ASL builder round trip: builder → JSON → validator → run on the engine.

use serde_json::{Value, json};
use state_language::driver::{self, Simulated, TaskOutcome};
use state_language::interpreter::{Limits, StartContext, Status, TaskCommand};
use stepwise_sdk::Error;
use stepwise_sdk::asl::{
    Asl, Catch, Choice, Common, Cond, Fail, Graph, Machine, Map, Op, Parallel, Pass, QueryLanguage, Results, Retry,
    Succeed, Task, Wait, WithErrors,
};

fn context() -> StartContext {
    StartContext {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:built:x".into(),
        execution_name: "x".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:built".into(),
        state_machine_name: "built".into(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        seed: 1,
        redrive_count: 0,
        redrive_count_in_context: true,
        token_key: String::new(),
        map_children_running_max: 0,
    }
}

/// Runs a built machine as CreateStateMachine would take it: from its text.
fn run(asl: &Asl, input: Value, tasks: impl FnMut(&TaskCommand) -> TaskOutcome) -> driver::Outcome {
    let report = state_language::validate_text(&asl.to_text(), state_language::Options::default());
    assert!(report.is_ok(), "{:?}", report.diagnostics);
    let def = report.definition.expect("a definition");
    let mut host = Simulated { now_ms: 1_800_000_000_000, tasks };
    driver::run(&def, input, context(), &mut host, Limits::default(), true).expect("the run ends")
}

#[test]
fn the_hello_example_written_as_code_is_the_same_definition() {
    let double =
        Graph::new("Times2").state("Times2", Pass::new().parameters(json!({"n.$": "States.MathAdd($, $)"})).end());
    let machine = Machine::new("Greet")
        .comment("Greets, retries a flaky step, waits, and picks a branch.")
        .state(
            "Greet",
            Pass::new()
                .parameters(json!({"greeting.$": "States.Format('Hello, {}!', $.name)", "items.$": "States.ArrayRange(1, 3, 1)"}))
                .next("Double"),
        )
        .state("Double", Map::new(double).expect("a processor").items_path("$.items").result_path("$.doubled").next("Pause"))
        .state("Pause", Wait::seconds(1).next("Big?"))
        .state("Big?", Choice::new().when(Cond::numeric_greater_than("$.doubled[2].n", 5), "Done").otherwise("TooSmall"))
        .state("TooSmall", Fail::new().error("TooSmall").cause("the last item was not above 5"))
        .state("Done", Succeed::new());
    let asl = machine.build().expect("valid");
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello.asl.json");
    let from_file: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("the example")).expect("JSON");
    assert_eq!(asl.json(), &from_file);
    let out = run(&asl, json!({"name": "Ada"}), |_| panic!("no tasks"));
    assert_eq!(out.status, Status::Succeeded);
    assert_eq!(out.output.expect("output")["greeting"], "Hello, Ada!");
}

fn order_machine() -> Machine {
    let pack = Graph::new("Pack").state(
        "Pack",
        Task::new("arn:aws:states:::lambda:invoke").result_selector(json!({"packed.$": "$.Payload"})).end(),
    );
    let notify = Graph::new("Notify").state("Notify", Pass::new().result("sent").end());
    Machine::new("Check")
        .timeout_seconds(3600)
        .state(
            "Check",
            Choice::new()
                .when(
                    Cond::and([
                        Cond::is_present("$.items", true),
                        !Cond::compare("$.total", Op::NumericLessThanEquals, 0),
                    ]),
                    "Charge",
                )
                .otherwise("Rejected"),
        )
        .state(
            "Charge",
            Task::new("arn:aws:states:::lambda:invoke")
                .parameters(json!({"FunctionName": "charge", "Payload.$": "$"}))
                .result_selector(json!({"charged.$": "$.Payload.charged"}))
                .result_path("$.payment")
                .retry(Retry::on(["Flaky"]).interval_seconds(2).max_attempts(3).backoff_rate(2.0))
                .catch(Catch::on(["States.ALL"], "Refund").result_path("$.error"))
                .next("Ship"),
        )
        .state(
            "Ship",
            Map::new(pack)
                .expect("a processor")
                .items_path("$.items")
                .max_concurrency(2)
                .result_path("$.packed")
                .next("Finish"),
        )
        .state("Finish", Parallel::new().branch(notify).expect("a branch").result_path("$.notes").end())
        .state("Refund", Pass::new().result("refunded").result_path("$.refund").next("Rejected"))
        .state("Rejected", Fail::new().error("OrderRejected"))
}

#[test]
fn an_order_flow_retries_maps_and_catches() {
    let asl = order_machine().build().expect("valid");
    let mut charges = 0;
    let out = run(&asl, json!({"items": ["a", "b", "c"], "total": 30}), |t| {
        match t.payload.get("FunctionName").and_then(Value::as_str) {
            Some("charge") => {
                charges += 1;
                if charges == 1 {
                    return TaskOutcome::Failed { error: "Flaky".into(), cause: "try again".into() };
                }
                TaskOutcome::Succeeded(json!({"Payload": {"charged": 30}}))
            }
            _ => TaskOutcome::Succeeded(json!({"Payload": t.payload.clone()})),
        }
    });
    assert_eq!(out.status, Status::Succeeded, "{:?} {:?}", out.error, out.cause);
    let o = out.output.expect("output");
    assert_eq!(o["payment"], json!({"charged": 30}));
    assert_eq!(o["packed"].as_array().map(Vec::len), Some(3));
    assert_eq!(o["notes"], json!(["sent"]));
    assert_eq!(charges, 2, "one retry");

    // A charge that keeps failing is caught, refunded and rejected.
    let out = run(&asl, json!({"items": ["a"], "total": 5}), |_| TaskOutcome::Failed {
        error: "Declined".into(),
        cause: "no funds".into(),
    });
    assert_eq!((out.status, out.error.as_deref()), (Status::Failed, Some("OrderRejected")));
    // An empty order never reaches the charge.
    let out = run(&asl, json!({"total": 0}), |_| panic!("no task"));
    assert_eq!(out.error.as_deref(), Some("OrderRejected"));
}

#[test]
fn a_jsonata_machine_round_trips() {
    let asl = Machine::new("Sum")
        .query_language(QueryLanguage::Jsonata)
        .state(
            "Sum",
            Pass::new()
                .output(json!({"total": "{% $sum($states.input.xs) %}"}))
                .assign(json!({"seen": "{% $count($states.input.xs) %}"}))
                .next("Big?"),
        )
        .state("Big?", Choice::new().when(Cond::jsonata("$states.input.total > 10"), "Big").otherwise("Small"))
        .state("Big", Succeed::new().output("{% {'total': $states.input.total, 'count': $seen} %}"))
        .state("Small", Fail::new().error("Small"))
        .build()
        .expect("valid");
    let out = run(&asl, json!({"xs": [4, 5, 6]}), |_| panic!("no tasks"));
    assert_eq!(out.output, Some(json!({"total": 15, "count": 3})));
}

#[test]
fn bad_definitions_are_refused_when_built() {
    let dup = Machine::new("A").state("A", Pass::new().end()).state("A", Succeed::new()).build();
    assert_eq!(dup.unwrap_err(), Error::DuplicateState("A".into()));
    let Err(Error::Invalid(diags)) = Machine::new("A").state("A", Pass::new().next("Nowhere")).build() else {
        panic!("a Next to no state is invalid");
    };
    assert!(diags.iter().any(|d| d.code == "MISSING_TRANSITION_TARGET"), "{diags:?}");
    // A field the state type does not take, caught by the validator.
    let Err(e) = Machine::new("A").state("A", Pass::new().result_selector(json!({})).end()).build() else {
        panic!("Pass takes no ResultSelector");
    };
    assert!(e.to_string().contains("ResultSelector"), "{e}");
    // A duplicate inside a branch is caught too.
    let dup = Graph::new("B").state("B", Pass::new().end()).state("B", Pass::new().end());
    assert_eq!(Parallel::new().branch(dup).unwrap_err(), Error::DuplicateState("B".into()));
}
