//! The functions Step Functions adds to JSONata: `$partition`, `$range`,
//! `$hash`, `$random` (with an optional seed), `$uuid` and `$parse`. `$eval`
//! is not available, as on AWS. Randomness comes from the evaluation's seed,
//! which the interpreter draws from the execution's entropy: replays repeat it.

use std::sync::OnceLock;

use jsonata::{Builtin, Error, Evaluator, FrameId, Value};
use serde_json::Value as Json;

/// The added functions by name.
pub fn function(name: &str) -> Option<Value> {
    static TABLE: OnceLock<Vec<Builtin>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        [
            Builtin::new("partition", "<an:a>", 2, partition),
            Builtin::new("range", "<nnn:a>", 3, range),
            Builtin::new("hash", "<ss:s>", 2, hash),
            Builtin::new("random", "<n?:n>", 1, random),
            Builtin::new("uuid", "<:s>", 0, uuid),
            Builtin::new("parse", "<s-:j>", 1, parse),
        ]
        .into_iter()
        // The signatures are constants of this file: the tests run every one.
        .filter_map(Result::ok)
        .collect()
    });
    if name == "eval" {
        return Some(Value::Undefined);
    }
    table.iter().find(|b| b.name == name).map(Value::builtin)
}

/// Names that are bound by [`function`]: random ones need a seed.
pub const RANDOM: [&str; 3] = ["random", "uuid", "shuffle"];

fn to_json(v: &Value) -> Json {
    v.to_json().unwrap_or(Json::Null)
}

/// An intrinsic's failure, as a JSONata function error.
fn intrinsic(name: &str, args: Vec<Json>) -> Result<Json, Error> {
    let mut none = NoEnv;
    crate::intrinsics::functions::call(name, args, None, &mut none)
        .map_err(|e| Error::new("D3137").detail(e.to_string()))
}

struct NoEnv;

impl crate::intrinsics::Env for NoEnv {
    fn read(&self, _: &crate::path::Path) -> Result<Json, crate::intrinsics::EvalError> {
        Err(crate::intrinsics::EvalError::Variable("no input here".into()))
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
}

fn partition(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> jsonata::Result<Value> {
    let out = intrinsic("States.ArrayPartition", args.iter().map(to_json).collect())?;
    Ok(Value::from_json(&out))
}

fn range(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> jsonata::Result<Value> {
    let out = intrinsic("States.ArrayRange", args.iter().map(to_json).collect())?;
    // A sequence: one number stands for itself, as AWS answers `$range(1, 9, 9)`.
    Ok(Value::sequence(Value::from_json(&out).members()))
}

fn hash(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> jsonata::Result<Value> {
    let out = intrinsic("States.Hash", args.iter().map(to_json).collect())?;
    Ok(Value::from_json(&out))
}

fn random(ev: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> jsonata::Result<Value> {
    match args.first() {
        Some(Value::Number(seed)) => {
            // The same seed gives the same number.
            let mut e = crate::entropy::Entropy::new(seed.to_bits());
            Ok(Value::Number(e.next_f64()))
        }
        _ => Ok(Value::Number(ev.random())),
    }
}

fn uuid(ev: &mut Evaluator, _: &[Value], _: &Value, _: FrameId) -> jsonata::Result<Value> {
    let (a, b) = (ev.next_u64(), ev.next_u64());
    Ok(Value::string(&crate::entropy::uuid_v4(a, b)))
}

fn parse(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> jsonata::Result<Value> {
    let Some(text) = args.first().and_then(Value::as_str) else { return Ok(Value::Undefined) };
    let json: Json =
        serde_json::from_str(text).map_err(|e| Error::new("D3137").detail(format!("$parse: invalid JSON: {e}")))?;
    Ok(Value::from_json(&json))
}

/// Evaluates an expression as a JSONata state does, with the added
/// functions and the given variables (`states` for `$states`): for tools and
/// tests that check the engine against the reference. `None` is undefined.
pub fn evaluate(
    expression: &jsonata::Expression,
    bindings: &serde_json::Map<String, Json>,
    options: jsonata::Options,
) -> jsonata::Result<Option<Json>> {
    let mut values: Vec<(&str, Value)> = Vec::new();
    for name in expression.variables() {
        let v = match (bindings.get(&name), function(&name)) {
            (Some(v), _) => Value::from_json(v),
            (None, Some(f)) => f,
            (None, None) => continue,
        };
        let name: &str =
            bindings.keys().find(|k| **k == name).map(String::as_str).unwrap_or_else(|| static_name(&name));
        values.push((name, v));
    }
    let v = expression.evaluate(Value::Undefined, &values, options)?;
    if let Value::Number(n) = &v
        && !n.is_finite()
    {
        return Err(Error::new("D1001").value(jsonata::js_string(*n)));
    }
    Ok(v.to_json())
}

/// The names [`function`] knows, as `'static` strings.
fn static_name(name: &str) -> &'static str {
    ["partition", "range", "hash", "random", "uuid", "parse", "eval"].into_iter().find(|n| *n == name).unwrap_or("")
}
