//! Any text as a JSONata expression, parsed, then evaluated against a fixed
//! document under tight limits: no panic, no hang, no unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(expr) = jsonata::Expression::parse(text) else { return };
    let doc =
        serde_json::json!({"a": [1, 2, {"b": "x", "c": [true, null]}], "d": {"e f": 1.5}, "g": "h", "n": [3, 1, 2]});
    let options = jsonata::Options {
        depth_max: 200,
        evaluations_max: 200_000,
        now_millis: 1_700_000_000_000,
        random_seed: 1,
        cells_max: 200_000,
    };
    let _ = expr.evaluate_json(Some(&doc), &[], options);
});
