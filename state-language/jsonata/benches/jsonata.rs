//! JSONata benchmarks (figures in BENCHMARKS.md; `scripts/bench-jsonata.sh`
//! runs them beside jsonata 2.0.6 on Node): a path lookup on a small
//! document, `$sum` over 10,000 prices, and parsing a 1 KB expression.

use criterion::{Criterion, criterion_group, criterion_main};
use jsonata::{Expression, Options, Value};
use serde_json::json;

/// A 1 KB expression: object construction, predicates, functions, a lambda.
pub fn kilobyte_expression() -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while parts.join(", ").len() < 1000 {
        parts.push(format!("'k{i}': $sum(order.items[price > {i}].(price * qty)) + $count(order.items.tags) * {i}"));
        i += 1;
    }
    format!("{{{}}}", parts.join(", "))
}

fn benches(c: &mut Criterion) {
    let small = Value::from_json(&json!({"order": {"id": "A-17", "customer": {"name": "Ada", "tier": "gold"}}}));
    let lookup = Expression::parse("order.customer.name").expect("parses");
    c.bench_function("jsonata/path lookup (small document)", |b| {
        b.iter(|| lookup.evaluate(small.clone(), &[], Options::default()).expect("evaluates"))
    });

    let items: Vec<serde_json::Value> =
        (0..10_000).map(|i| json!({"sku": format!("p{i}"), "price": (i % 97) as f64 + 0.5})).collect();
    let big = Value::from_json(&json!({ "items": items }));
    let sum = Expression::parse("$sum(items.price)").expect("parses");
    c.bench_function("jsonata/$sum(items.price), 10,000 items", |b| {
        b.iter(|| sum.evaluate(big.clone(), &[], Options::default()).expect("evaluates"))
    });

    let text = kilobyte_expression();
    c.bench_function("jsonata/parse a 1 KB expression", |b| b.iter(|| Expression::parse(&text).expect("parses")));
}

criterion_group! {
    name = group;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(group);
