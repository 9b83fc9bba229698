//! Choice rules and their evaluation.

use serde_json::Value;

use crate::path::Path;

#[derive(Debug, Clone)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare {
        variable: Path,
        op: CmpOp,
        operand: Operand,
    },
    /// A JSONata `Condition`: a boolean, or an expression giving one.
    Condition(super::Jt),
}

#[derive(Debug, Clone)]
pub enum Operand {
    Literal(Value),
    Path(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    StringEquals,
    StringLessThan,
    StringGreaterThan,
    StringLessThanEquals,
    StringGreaterThanEquals,
    StringMatches,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    BooleanEquals,
    TimestampEquals,
    TimestampLessThan,
    TimestampGreaterThan,
    TimestampLessThanEquals,
    TimestampGreaterThanEquals,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

impl CmpOp {
    /// Parses a comparator name, with its `…Path` form. Returns (op, is_path).
    pub fn parse(name: &str) -> Option<(CmpOp, bool)> {
        use CmpOp::*;
        let (base, path) = match name.strip_suffix("Path") {
            Some(b) if !b.starts_with("Is") => (b, true),
            _ => (name, false),
        };
        let op = match base {
            "StringEquals" => StringEquals,
            "StringLessThan" => StringLessThan,
            "StringGreaterThan" => StringGreaterThan,
            "StringLessThanEquals" => StringLessThanEquals,
            "StringGreaterThanEquals" => StringGreaterThanEquals,
            "StringMatches" if !path => StringMatches,
            "NumericEquals" => NumericEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "BooleanEquals" => BooleanEquals,
            "TimestampEquals" => TimestampEquals,
            "TimestampLessThan" => TimestampLessThan,
            "TimestampGreaterThan" => TimestampGreaterThan,
            "TimestampLessThanEquals" => TimestampLessThanEquals,
            "TimestampGreaterThanEquals" => TimestampGreaterThanEquals,
            "IsNull" => IsNull,
            "IsPresent" => IsPresent,
            "IsNumeric" => IsNumeric,
            "IsString" => IsString,
            "IsBoolean" => IsBoolean,
            "IsTimestamp" => IsTimestamp,
            _ => return None,
        };
        Some((op, path))
    }

    /// The JSON type the literal operand must have.
    pub fn operand_kind(self) -> &'static str {
        use CmpOp::*;
        match self {
            StringEquals
            | StringLessThan
            | StringGreaterThan
            | StringLessThanEquals
            | StringGreaterThanEquals
            | StringMatches
            | TimestampEquals
            | TimestampLessThan
            | TimestampGreaterThan
            | TimestampLessThanEquals
            | TimestampGreaterThanEquals => "string",
            NumericEquals | NumericLessThan | NumericGreaterThan | NumericLessThanEquals | NumericGreaterThanEquals => {
                "number"
            }
            _ => "boolean",
        }
    }

    /// Compares a present value with the operand. Type mismatches are false, as on AWS.
    pub fn test(self, v: &Value, operand: &Value) -> bool {
        use CmpOp::*;
        match self {
            IsNull => v.is_null() == truthy(operand),
            IsPresent => truthy(operand),
            IsNumeric => v.is_number() == truthy(operand),
            IsString => v.is_string() == truthy(operand),
            IsBoolean => v.is_boolean() == truthy(operand),
            IsTimestamp => v.as_str().and_then(crate::time::parse_timestamp).is_some() == truthy(operand),
            BooleanEquals => matches!((v, operand), (Value::Bool(a), Value::Bool(b)) if a == b),
            StringMatches => match (v, operand) {
                (Value::String(s), Value::String(p)) => wildcard_match(p, s),
                _ => false,
            },
            StringEquals | StringLessThan | StringGreaterThan | StringLessThanEquals | StringGreaterThanEquals => {
                let (Value::String(a), Value::String(b)) = (v, operand) else { return false };
                ord_test(self, a.cmp(b))
            }
            NumericEquals | NumericLessThan | NumericGreaterThan | NumericLessThanEquals | NumericGreaterThanEquals => {
                let (Some(a), Some(b)) = (v.as_f64().filter(|_| v.is_number()), operand.as_f64()) else {
                    return false;
                };
                a.partial_cmp(&b).is_some_and(|o| ord_test(self, o))
            }
            TimestampEquals
            | TimestampLessThan
            | TimestampGreaterThan
            | TimestampLessThanEquals
            | TimestampGreaterThanEquals => {
                let parse = |x: &Value| x.as_str().and_then(crate::time::parse_timestamp);
                let (Some(a), Some(b)) = (parse(v), parse(operand)) else { return false };
                ord_test(self, a.cmp(&b))
            }
        }
    }
}

fn truthy(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

fn ord_test(op: CmpOp, o: std::cmp::Ordering) -> bool {
    use CmpOp::*;
    use std::cmp::Ordering::*;
    match op {
        StringEquals | NumericEquals | TimestampEquals => o == Equal,
        StringLessThan | NumericLessThan | TimestampLessThan => o == Less,
        StringGreaterThan | NumericGreaterThan | TimestampGreaterThan => o == Greater,
        StringLessThanEquals | NumericLessThanEquals | TimestampLessThanEquals => o != Greater,
        _ => o != Less,
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literal.
pub fn wildcard_match(pattern: &str, s: &str) -> bool {
    #[derive(PartialEq)]
    enum Tok {
        Star,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => toks.push(Tok::Ch(it.next().unwrap_or('\\'))),
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Ch(c)),
        }
    }
    let s: Vec<char> = s.chars().collect();
    // Iterative glob matching with one backtrack point: linear in practice, never exponential.
    let (mut p, mut i) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while i < s.len() {
        if p < toks.len() && toks[p] == Tok::Ch(s[i]) {
            p += 1;
            i += 1;
        } else if p < toks.len() && toks[p] == Tok::Star {
            star = Some(p);
            p += 1;
            mark = i;
        } else if let Some(sp) = star {
            p = sp + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while p < toks.len() && toks[p] == Tok::Star {
        p += 1;
    }
    p == toks.len()
}
