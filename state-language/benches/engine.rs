//! Engine benchmarks: validation, Pass throughput, inline Map, intrinsic-heavy Parameters.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use state_language::driver::{self, Simulated, TaskOutcome};
use state_language::interpreter::{Limits, StartContext, TaskCommand};

fn ctx() -> StartContext {
    StartContext {
        execution_arn: "arn:aws:states:us-east-1:1:execution:bench:x".into(),
        execution_name: "x".into(),
        state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:bench".into(),
        state_machine_name: "bench".into(),
        role_arn: "r".into(),
        seed: 1,
        redrive_count: 0,
        redrive_count_in_context: true,
        token_key: String::new(),
        map_children_running_max: 0,
    }
}

/// A chain of `n` states mixing Pass, Choice and Wait-free transitions.
fn chain(n: usize, pass_only: bool) -> Value {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let next = if i + 1 == n { json!({"End": true}) } else { json!({"Next": format!("S{}", i + 1)}) };
        let mut s = if pass_only || i % 4 != 3 || i + 1 == n {
            json!({"Type": "Pass", "ResultPath": "$.last", "Result": i})
        } else {
            json!({"Type": "Choice", "Choices": [{"Variable": "$.last", "NumericGreaterThanEquals": 0, "Next": format!("S{}", (i + 1).min(n - 1))}], "Default": format!("S{}", (i + 1).min(n - 1))})
        };
        if s["Type"] == "Pass" {
            for (k, v) in next.as_object().into_iter().flatten() {
                s[k] = v.clone();
            }
        }
        states.insert(format!("S{i}"), s);
    }
    json!({"StartAt": "S0", "States": states})
}

fn run(def: &state_language::definition::Definition, input: Value, limits: Limits) -> state_language::Status {
    let mut host = Simulated { now_ms: 0, tasks: |t: &TaskCommand| TaskOutcome::Succeeded(t.payload.clone()) };
    driver::run(def, input, ctx(), &mut host, limits, false).expect("run").status
}

fn benches(c: &mut Criterion) {
    let def200 = chain(200, false);
    let text200 = def200.to_string();
    c.bench_function("validate_200_states", |b| {
        b.iter(|| assert!(state_language::validate_text(&text200, Default::default()).is_ok()))
    });

    // 1,000 executions of 1,000 Pass states: 1,000,000 transitions. Payloads are
    // not copied into events (as with includeExecutionData=false).
    let pass = state_language::validate(&chain(1000, true), Default::default()).definition.expect("valid");
    let lean = Limits { record_payloads: false, ..Limits::default() };
    let mut g = c.benchmark_group("pass");
    g.throughput(Throughput::Elements(1_000_000));
    g.sample_size(10);
    g.bench_function("1m_pass_transitions", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                assert_eq!(run(&pass, json!({"k": "v"}), lean), state_language::Status::Succeeded);
            }
        })
    });
    g.finish();

    let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}}, "End": true}}});
    let map = state_language::validate(&map, Default::default()).definition.expect("valid");
    let items: Vec<Value> = (0..10_000).map(Value::from).collect();
    let big = Limits { history_events_max: 1_000_000, ..lean };
    let mut g = c.benchmark_group("map");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("inline_map_10k_items", |b| {
        b.iter(|| assert_eq!(run(&map, json!({"items": items}), big), state_language::Status::Succeeded))
    });
    g.finish();

    let intrinsic = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "greeting.$": "States.Format('Hello {} from {}', $.name, $.city)",
        "parts.$": "States.StringSplit($.csv, ',')",
        "sum.$": "States.MathAdd($.a, $.b)",
        "hash.$": "States.Hash($.name, 'SHA-256')",
        "range.$": "States.ArrayRange(1, 20, 1)",
        "chunks.$": "States.ArrayPartition(States.ArrayRange(1, 20, 1), 4)",
        "json.$": "States.JsonToString($.obj)",
        "back.$": "States.StringToJson(States.JsonToString($.obj))",
        "b64.$": "States.Base64Encode($.name)",
        "has.$": "States.ArrayContains($.list, 3)",
        "uniq.$": "States.ArrayUnique($.list)",
        "merged.$": "States.JsonMerge($.obj, $.obj2, false)"
    }, "End": true}}});
    let intrinsic = state_language::validate(&intrinsic, Default::default()).definition.expect("valid");
    let input = json!({"name": "Ada", "city": "London", "csv": "a,b,c,d", "a": 1, "b": 2,
        "obj": {"x": 1, "y": [1, 2]}, "obj2": {"z": true}, "list": [1, 2, 3, 3, 4]});
    c.bench_function("intrinsic_heavy_parameters", |b| {
        b.iter(|| assert_eq!(run(&intrinsic, input.clone(), Limits::default()), state_language::Status::Succeeded))
    });
}

/// A JSONata workflow of `n` Pass states, each with an Output and an Assign
/// expression over `$states.input` and the variables.
pub fn jsonata_chain(n: usize) -> Value {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut s = json!({
            "Type": "Pass",
            "Assign": {"total": "{% $sum($states.input.items.(price * qty)) %}", "step": i},
            "Output": {
                "items": "{% $states.input.items %}",
                "label": "{% $uppercase($states.input.customer) & '-' & $string($step) %}",
                "cheap": "{% $count($states.input.items[price < 5]) %}"
            }
        });
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    json!({"QueryLanguage": "JSONata", "StartAt": "S0", "States": states})
}

fn jsonata_bench(c: &mut Criterion) {
    let def = state_language::validate(&jsonata_chain(100), Default::default()).definition.expect("valid");
    let items: Vec<Value> =
        (0..20).map(|i| json!({"sku": format!("p{i}"), "price": i as f64 * 0.75, "qty": i % 4 + 1})).collect();
    let input = json!({"customer": "ada", "items": items});
    let lean = Limits { record_payloads: false, ..Limits::default() };
    let mut g = c.benchmark_group("jsonata");
    g.sample_size(20);
    g.throughput(Throughput::Elements(100));
    g.bench_function("workflow_100_jsonata_states", |b| {
        b.iter(|| assert_eq!(run(&def, input.clone(), lean), state_language::Status::Succeeded))
    });
    g.finish();
}

criterion_group!(engine, benches, jsonata_bench);
criterion_main!(engine);
