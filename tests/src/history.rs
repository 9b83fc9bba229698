//! Compares our history with AWS's recorded one (`history.events`, tokenised).

use serde_json::{Map, Value};

/// The strings LocalStack put in place of non-deterministic values: generic
/// tokens (`<uuid:1>`, `timestamp`, …) and the test's own replacement words,
/// which the case lists as placeholders of its expected outcome.
pub struct Tokens(Vec<String>);

impl Tokens {
    pub fn of(case: &Value) -> Tokens {
        let expected = &case["expected"];
        let mut words = Vec::new();
        for p in expected["placeholders"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let Ok(path) = state_language::path::Path::parse(p.trim_end_matches("#key")) else { continue };
            if let Ok(Value::String(s)) = path.read(expected) {
                words.push(s);
            }
        }
        Tokens(words)
    }

    /// True when part of the value was replaced by a token.
    pub fn tokenised(&self, v: &Value) -> bool {
        match v {
            Value::String(s) => {
                (s.contains('<') && s.contains('>'))
                    || matches!(s.as_str(), "timestamp" | "date" | "datetime" | "snf_role_arn")
                    || s.contains("arn:")
                    || self.0.iter().any(|w| s == w)
            }
            Value::Array(a) => a.iter().any(|x| self.tokenised(x)),
            Value::Object(m) => m.iter().any(|(k, x)| self.tokenised(&Value::String(k.clone())) || self.tokenised(x)),
            _ => false,
        }
    }
}

/// Equal as AWS records it: payloads may be JSON text or parsed JSON.
pub fn payload_equal(ours: &Value, recorded: &Value) -> bool {
    if state_language::json::equal(ours, recorded) {
        return true;
    }
    match recorded {
        Value::String(s) => serde_json::from_str::<Value>(s).is_ok_and(|p| state_language::json::equal(ours, &p)),
        Value::Object(r) => match ours {
            Value::Object(o) => {
                r.len() == o.len() && r.iter().all(|(k, v)| o.get(k).is_some_and(|x| payload_equal(x, v)))
            }
            Value::String(s) => serde_json::from_str::<Value>(s).is_ok_and(|p| payload_equal(&p, recorded)),
            _ => false,
        },
        _ => match ours {
            Value::String(s) => {
                serde_json::from_str::<Value>(s).is_ok_and(|p| state_language::json::equal(&p, recorded))
            }
            _ => false,
        },
    }
}

fn details(e: &Value) -> Option<(&String, &Map<String, Value>)> {
    e.as_object()?.iter().find(|(k, _)| k.ends_with("EventDetails")).and_then(|(k, v)| Some((k, v.as_object()?)))
}

/// Differences between one of our events and the recorded one (ids excluded).
pub fn event_diff(ours: &Value, recorded: &Value, tokens: &Tokens) -> Vec<String> {
    let mut out = Vec::new();
    if ours["type"] != recorded["type"] {
        out.push(format!("type {} vs {}", ours["type"], recorded["type"]));
        return out;
    }
    match (details(ours), details(recorded)) {
        (None, None) => {}
        (Some((k, _)), None) => out.push(format!("{}: we add {k}", recorded["type"])),
        (None, Some((k, _))) => out.push(format!("{}: we lack {k}", recorded["type"])),
        (Some((ko, o)), Some((kr, r))) => {
            if ko != kr {
                out.push(format!("{}: details key {ko} vs {kr}", recorded["type"]));
            }
            let mut ok: Vec<&String> = o.keys().collect();
            let mut rk: Vec<&String> = r.keys().collect();
            ok.sort();
            rk.sort();
            if ok != rk {
                out.push(format!("{}: detail fields {ok:?} vs {rk:?}", recorded["type"]));
            }
            for (k, rv) in r {
                if let Some(ov) = o.get(k) {
                    // LocalStack also replaces some values by the field's snake_case name.
                    let named = rv.as_str() == Some(snake_case(k).as_str());
                    if !named && !tokens.tokenised(rv) && !payload_equal(ov, rv) {
                        out.push(format!("{}.{k}: {ov} vs {rv}", recorded["type"]));
                    }
                }
            }
        }
    }
    out
}

fn snake_case(k: &str) -> String {
    let mut out = String::new();
    for c in k.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
