//! Choice rules: exactly one comparator, literal and `…Path` forms, And/Or/Not.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::build::Builder;
use super::code;
use crate::definition::{Branch, CmpOp, Kind, Operand, QueryLanguage, Rule, StateId};

/// Nesting of And/Or/Not inside one rule.
const RULE_NESTING_DEPTH_MAX: usize = 32;

impl Builder {
    pub(super) fn choice(
        &mut self,
        s: &Map<String, Value>,
        at: &str,
        names: &HashMap<&str, StateId>,
        lang: QueryLanguage,
    ) -> Kind {
        let mut rules = Vec::new();
        for (i, r) in s.get("Choices").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let rat = format!("{at}/Choices/{i}");
            let Some(r) = r.as_object() else { continue };
            let next = match r.get("Next").and_then(Value::as_str) {
                Some(n) => self.target(names, n, &format!("{rat}/Next")),
                None => {
                    self.err(code::SCHEMA, &rat, "These fields are required: [Next]");
                    0
                }
            };
            let (mut assign, mut assign_jsonata, mut output) = (None, None, None);
            let rule = if lang == QueryLanguage::JSONata {
                assign_jsonata = self.jt(r.get("Assign"), &format!("{rat}/Assign"));
                output = self.jt(r.get("Output"), &format!("{rat}/Output"));
                match r.get("Condition") {
                    Some(c) => self.jt(Some(c), &format!("{rat}/Condition")).map(Rule::Condition),
                    None => {
                        self.err(code::SCHEMA, &rat, "These fields are required: [Condition]");
                        None
                    }
                }
            } else {
                assign = self.template(r.get("Assign"), &format!("{rat}/Assign"));
                self.rule(r, &rat, 0)
            };
            if let Some(rule) = rule {
                rules.push(Branch { rule, next, assign, assign_jsonata, output });
            }
        }
        let default = s.get("Default").and_then(Value::as_str).map(|d| self.target(names, d, &format!("{at}/Default")));
        Kind::Choice { rules, default }
    }

    fn rule(&mut self, r: &Map<String, Value>, at: &str, depth: usize) -> Option<Rule> {
        if depth > RULE_NESTING_DEPTH_MAX {
            self.err(code::SCHEMA, at, "Choice rules nested too deeply");
            return None;
        }
        if depth > 0 && r.contains_key("Next") {
            self.err(code::SCHEMA, &format!("{at}/Next"), "Nested Choice rules may not have 'Next'");
        }
        let mut found: Vec<(&str, &Value)> = Vec::new();
        for (k, v) in r {
            if matches!(k.as_str(), "And" | "Or" | "Not") || CmpOp::parse(k).is_some() {
                found.push((k.as_str(), v));
            } else if !matches!(k.as_str(), "Variable" | "Next" | "Comment" | "Assign" | "Output") {
                self.err(code::SCHEMA, &format!("{at}/{k}"), format!("Field '{k}' is not supported in a Choice rule"));
            }
        }
        if found.len() != 1 {
            self.err(
                code::SCHEMA,
                at,
                format!("A Choice rule needs exactly one comparison operator, found {}", found.len()),
            );
            return None;
        }
        let (op, val) = found[0];
        let oat = format!("{at}/{op}");
        match op {
            "And" | "Or" => {
                let Some(items) = val.as_array().filter(|a| !a.is_empty()) else {
                    self.err(code::SCHEMA, &oat, format!("'{op}' needs a non-empty array of rules"));
                    return None;
                };
                let mut subs = Vec::new();
                for (i, x) in items.iter().enumerate() {
                    let Some(o) = x.as_object() else {
                        self.err(code::SCHEMA, &format!("{oat}/{i}"), "A Choice rule must be an object");
                        continue;
                    };
                    subs.extend(self.rule(o, &format!("{oat}/{i}"), depth + 1));
                }
                Some(if op == "And" { Rule::And(subs) } else { Rule::Or(subs) })
            }
            "Not" => {
                let Some(o) = val.as_object() else {
                    self.err(code::SCHEMA, &oat, "'Not' needs a rule object");
                    return None;
                };
                Some(Rule::Not(Box::new(self.rule(o, &oat, depth + 1)?)))
            }
            _ => {
                let (cmp, is_path) = CmpOp::parse(op)?;
                let variable = match r.get("Variable").and_then(Value::as_str) {
                    Some(_) => self.path(r.get("Variable"), &format!("{at}/Variable"), false).flatten()?,
                    None => {
                        self.err(code::SCHEMA, at, "These fields are required: [Variable]");
                        return None;
                    }
                };
                let operand = if is_path {
                    Operand::Path(self.path(Some(val), &oat, false).flatten()?)
                } else {
                    let want = cmp.operand_kind();
                    let ok = match want {
                        "string" => val.is_string(),
                        "number" => val.is_number(),
                        _ => val.is_boolean(),
                    };
                    if !ok {
                        self.err(code::SCHEMA, &oat, format!("The value of '{op}' must be a {want}"));
                        return None;
                    }
                    if op.starts_with("Timestamp") && val.as_str().and_then(crate::time::parse_timestamp).is_none() {
                        self.err(code::SCHEMA, &oat, "String does not match RFC3339 timestamp");
                    }
                    Operand::Literal(val.clone())
                };
                Some(Rule::Compare { variable, op: cmp, operand })
            }
        }
    }
}
