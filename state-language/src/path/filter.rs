//! Filter expressions: `[?(@.price < 10 && @.tag =~ /a.*/i)]`.

use serde_json::Value;

use super::parse::Parser;
use super::{ParseError, Root, Segment};
use crate::json;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A lone operand: true when the path exists (or the literal is truthy).
    Exists(Operand),
    Compare(Operand, Op, Operand),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `@…` (current item) or `$…` (document root).
    Path {
        current: bool,
        segments: Vec<Segment>,
    },
    Literal(Value),
    Regex(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Matches,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Size,
    Empty,
}

const OPS: &[(&str, Op)] = &[
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("<", Op::Lt),
    (">", Op::Gt),
    ("=~", Op::Matches),
    (" in ", Op::In),
    (" nin ", Op::Nin),
    (" subsetof ", Op::SubsetOf),
    (" anyof ", Op::AnyOf),
    (" noneof ", Op::NoneOf),
    (" size ", Op::Size),
    (" empty ", Op::Empty),
];

impl Parser<'_> {
    pub(crate) fn parse_filter_or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.parse_filter_and()?;
        loop {
            self.skip_ws();
            if !self.eat("||") {
                return Ok(left);
            }
            let right = self.parse_filter_and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
    }

    fn parse_filter_and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.parse_filter_unary()?;
        loop {
            self.skip_ws();
            if !self.eat("&&") {
                return Ok(left);
            }
            let right = self.parse_filter_unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn parse_filter_unary(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        self.depth += 1;
        if self.depth > crate::limits::FILTER_NESTING_DEPTH_MAX {
            return Err(self.err("filter nested too deeply"));
        }
        let out = if self.eat("!") {
            Expr::Not(Box::new(self.parse_filter_unary()?))
        } else if self.eat("(") {
            let e = self.parse_filter_or()?;
            self.skip_ws();
            if !self.eat(")") {
                return Err(self.err("expected ')' in filter"));
            }
            e
        } else {
            let left = self.parse_operand()?;
            self.skip_ws();
            let op = OPS.iter().find_map(|(text, op)| {
                let t = text.trim_start();
                if self.rest().starts_with(t) { Some((t.len(), *op)) } else { None }
            });
            match op {
                Some((len, op)) => {
                    self.pos += len;
                    self.skip_ws();
                    Expr::Compare(left, op, self.parse_operand()?)
                }
                None => Expr::Exists(left),
            }
        };
        self.depth -= 1;
        Ok(out)
    }

    fn parse_operand(&mut self) -> Result<Operand, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some('@') => {
                self.bump();
                Ok(Operand::Path { current: true, segments: self.parse_segments(true)? })
            }
            Some('$') => {
                self.bump();
                Ok(Operand::Path { current: false, segments: self.parse_segments(true)? })
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.parse_quoted()?))),
            Some('/') => {
                self.bump();
                let start = self.pos;
                while let Some(c) = self.bump() {
                    if c == '\\' {
                        self.bump();
                    } else if c == '/' {
                        let body = self.src[start..self.pos - 1].to_string();
                        let fstart = self.pos;
                        while matches!(self.peek(), Some(c) if c.is_ascii_alphabetic()) {
                            self.bump();
                        }
                        let flags = &self.src[fstart..self.pos];
                        let re = if flags.contains('i') { format!("(?i){body}") } else { body };
                        return Ok(Operand::Regex(re));
                    }
                }
                Err(self.err("unterminated regex"))
            }
            Some('[') => {
                let start = self.pos;
                let mut depth = 0usize;
                while let Some(c) = self.bump() {
                    match c {
                        '[' => depth += 1,
                        ']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let text = self.src[start..self.pos].replace('\'', "\"");
                serde_json::from_str(&text)
                    .map(Operand::Literal)
                    .map_err(|_| self.err(format!("bad array literal {text}")))
            }
            _ => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || "+-.eE".contains(c)) {
                    self.bump();
                }
                let text = &self.src[start..self.pos];
                serde_json::from_str(text)
                    .map(Operand::Literal)
                    .map_err(|_| self.err(format!("bad literal '{text}' in filter")))
            }
        }
    }
}

/// Evaluates a filter against one candidate `item`; `root` is the document.
pub(crate) fn test(expr: &Expr, item: &Value, root: &Value) -> bool {
    match expr {
        Expr::Or(a, b) => test(a, item, root) || test(b, item, root),
        Expr::And(a, b) => test(a, item, root) && test(b, item, root),
        Expr::Not(e) => !test(e, item, root),
        Expr::Exists(op) => match op {
            Operand::Path { .. } => resolve(op, item, root).is_some(),
            Operand::Literal(v) => !matches!(v, Value::Bool(false) | Value::Null),
            Operand::Regex(_) => false,
        },
        Expr::Compare(l, op, r) => {
            let (Some(lv), rv) = (resolve(l, item, root), resolve(r, item, root)) else {
                return matches!(op, Op::Ne | Op::Nin | Op::NoneOf);
            };
            if let (Op::Matches, Operand::Regex(re)) = (op, r) {
                return match (&lv, regex_lite::Regex::new(re)) {
                    (Value::String(s), Ok(re)) => re.is_match(s),
                    _ => false,
                };
            }
            let Some(rv) = rv else { return matches!(op, Op::Ne) };
            compare(&lv, *op, &rv)
        }
    }
}

fn resolve(op: &Operand, item: &Value, root: &Value) -> Option<Value> {
    match op {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Regex(r) => Some(Value::String(r.clone())),
        Operand::Path { current, segments } => {
            let base = if *current { item } else { root };
            let path = super::Path { root: Root::Input, segments: segments.clone(), text: String::new() };
            path.read(base).ok()
        }
    }
}

fn compare(l: &Value, op: Op, r: &Value) -> bool {
    use std::cmp::Ordering::*;
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    let contains = |arr: &Value, v: &Value| arr.as_array().is_some_and(|a| a.iter().any(|x| json::equal(x, v)));
    match op {
        Op::Eq => json::equal(l, r),
        Op::Ne => !json::equal(l, r),
        Op::Lt => ord == Some(Less),
        Op::Le => matches!(ord, Some(Less | Equal)),
        Op::Gt => ord == Some(Greater),
        Op::Ge => matches!(ord, Some(Greater | Equal)),
        Op::Matches => false,
        Op::In => contains(r, l),
        Op::Nin => !contains(r, l),
        Op::SubsetOf => l.as_array().is_some_and(|a| a.iter().all(|x| contains(r, x))),
        Op::AnyOf => l.as_array().is_some_and(|a| a.iter().any(|x| contains(r, x))),
        Op::NoneOf => l.as_array().is_some_and(|a| !a.iter().any(|x| contains(r, x))),
        Op::Size => {
            let n = match l {
                Value::Array(a) => a.len(),
                Value::String(s) => s.chars().count(),
                Value::Object(o) => o.len(),
                _ => return false,
            };
            r.as_u64() == Some(n as u64)
        }
        Op::Empty => {
            let empty = match l {
                Value::Array(a) => a.is_empty(),
                Value::String(s) => s.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => return false,
            };
            r.as_bool() == Some(empty)
        }
    }
}
