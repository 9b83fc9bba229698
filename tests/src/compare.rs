//! Compares an outcome with a case's `expected`, skipping placeholder paths.

use serde_json::Value;
use state_language::json;
use state_language::path::{Path, Segment, Selector};

/// Removes the node a placeholder path names (relative to `expected`).
/// A `#key` suffix means the key itself was tokenised: the parent goes.
pub fn remove(doc: &mut Value, placeholder: &str) {
    let (text, whole_parent) = match placeholder.strip_suffix("#key") {
        Some(t) => (t, true),
        None => (placeholder, false),
    };
    let Ok(p) = Path::parse(text) else { return };
    let mut segs: Vec<&Segment> = p.segments.iter().collect();
    if whole_parent {
        segs.pop();
    }
    let Some(last) = segs.pop() else { return };
    let mut node = doc;
    for s in segs {
        let next = match (s, node) {
            (Segment::Child(Selector::Name(n)), Value::Object(m)) => m.get_mut(n),
            (Segment::Child(Selector::Index(i)), Value::Array(a)) => a.get_mut(*i as usize),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    match (last, node) {
        (Segment::Child(Selector::Name(n)), Value::Object(m)) => {
            m.shift_remove(n);
        }
        (Segment::Child(Selector::Index(i)), Value::Array(a)) if (*i as usize) < a.len() => {
            a[*i as usize] = Value::Null;
        }
        _ => {}
    }
}

/// What was observed, in the shape of `expected`.
pub struct Observed {
    pub status: String,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// `Ok(())` when equal modulo placeholders, else a short description.
pub fn compare(expected: &Value, got: &Observed) -> Result<(), String> {
    let placeholders: Vec<String> = expected
        .get("placeholders")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let regexes = expected.get("placeholder_regex").and_then(Value::as_object);
    let status = expected.get("status").and_then(Value::as_str).unwrap_or_default();
    if status != got.status {
        return Err(format!("status {} (error {:?}, cause {:?}), expected {status}", got.status, got.error, got.cause));
    }
    for (field, value) in [("error", &got.error), ("cause", &got.cause)] {
        let Some(want) = expected.get(field).and_then(Value::as_str) else { continue };
        let key = format!("$.{field}");
        if placeholders.contains(&key) {
            let re = regexes.and_then(|r| r.get(&key)).and_then(Value::as_str);
            if let (Some(re), Some(v)) = (re.and_then(|r| regex_lite::Regex::new(r).ok()), value)
                && !re.is_match(v)
            {
                return Err(format!("{field} {v:?} does not match {re}"));
            }
            continue;
        }
        if value.as_deref() != Some(want) {
            return Err(format!("{field} {value:?}, expected {want:?}"));
        }
    }
    if let Some(want) = expected.get("output") {
        let mut want = want.clone();
        let mut have = got.output.clone().unwrap_or(Value::Null);
        let mut wrapped_want = serde_json::json!({ "output": want });
        let mut wrapped_have = serde_json::json!({ "output": have });
        for p in placeholders.iter().filter(|p| p.starts_with("$.output")) {
            remove(&mut wrapped_want, p);
            remove(&mut wrapped_have, p);
        }
        want = wrapped_want["output"].take();
        have = wrapped_have["output"].take();
        if !json::equal(&want, &have) {
            return Err(format!("output {}, expected {}", json::to_string(&have), json::to_string(&want)));
        }
    }
    Ok(())
}
