//! Parser for intrinsic calls: `States.Name(arg, ...)` where an argument is a
//! quoted string, number, boolean, null, path or nested call.

use serde_json::Value;

use super::{Arg, Call, ParseError, signature};
use crate::limits;
use crate::path::Path;

struct P<'a> {
    s: &'a str,
    pos: usize,
}

pub(super) fn parse(text: &str) -> Result<Call, ParseError> {
    if text.len() > limits::PATH_BYTES_MAX {
        return Err(ParseError { text: text.chars().take(64).collect(), reason: "too long".into() });
    }
    let mut p = P { s: text, pos: 0 };
    p.ws();
    let call = p.call(0)?;
    p.ws();
    if p.pos != text.len() {
        return Err(p.err(format!("unexpected '{}' after the call", &text[p.pos..])));
    }
    Ok(call)
}

impl P<'_> {
    fn err(&self, reason: impl Into<String>) -> ParseError {
        ParseError { text: self.s.to_string(), reason: reason.into() }
    }

    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn call(&mut self, depth: usize) -> Result<Call, ParseError> {
        if depth > limits::INTRINSIC_NESTING_DEPTH_MAX {
            return Err(self.err("intrinsic calls nested too deeply"));
        }
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '.') {
            self.pos += 1;
        }
        let name = self.s[start..self.pos].to_string();
        let Some((min, max)) = signature(&name) else {
            return Err(self.err(format!("unknown function '{name}'")));
        };
        self.ws();
        if self.peek() != Some('(') {
            return Err(self.err("expected '('"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.ws();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                args.push(self.arg(depth)?);
                self.ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.err(format!("expected ',' or ')' at offset {}", self.pos))),
                }
            }
        }
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            let want = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            return Err(self.err(format!("{name} takes {want} arguments, got {}", args.len())));
        }
        Ok(Call { name, args })
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, ParseError> {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => {
                let start = self.pos;
                self.path_end();
                let text = self.s[start..self.pos].trim_end();
                Path::parse(text).map(Arg::Path).map_err(|e| self.err(e.reason))
            }
            Some(c) if c.is_ascii_alphabetic() && self.s[self.pos..].starts_with("States.") => {
                Ok(Arg::Call(self.call(depth + 1)?))
            }
            _ => {
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || "+-.".contains(c)) {
                    self.pos += 1;
                }
                let text = &self.s[start..self.pos];
                match serde_json::from_str::<Value>(text) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                        Ok(Arg::Literal { value: v, template: None })
                    }
                    _ => Err(self.err(format!("bad argument '{text}' at offset {start}"))),
                }
            }
        }
    }

    /// Scans a path argument: up to a top-level ',' or ')', honouring brackets and quotes.
    fn path_end(&mut self) {
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), '\\') => {
                    // Skip the escaped character whole; it may be multi-byte.
                    self.pos += 1;
                    if let Some(e) = self.peek() {
                        self.pos += e.len_utf8();
                    }
                    continue;
                }
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[' | '(') => depth += 1,
                (None, ']') => depth = depth.saturating_sub(1),
                (None, ')') if depth == 0 => return,
                (None, ')') => depth -= 1,
                (None, ',') if depth == 0 => return,
                _ => {}
            }
            self.pos += c.len_utf8();
        }
    }

    fn string(&mut self) -> Result<Arg, ParseError> {
        self.pos += 1;
        let mut text = String::new();
        let mut template = String::new();
        loop {
            let Some(c) = self.peek() else { return Err(self.err("unterminated string literal")) };
            self.pos += c.len_utf8();
            match c {
                '\'' => break,
                '\\' => {
                    let Some(e) = self.peek() else { return Err(self.err("unterminated string literal")) };
                    self.pos += e.len_utf8();
                    match e {
                        '\'' | '\\' => {
                            text.push(e);
                            template.push(e);
                            if e == '\\' {
                                template.push('\\');
                            }
                        }
                        '{' | '}' => {
                            text.push(e);
                            template.push('\\');
                            template.push(e);
                        }
                        other => return Err(self.err(format!("illegal escape '\\{other}' in string literal"))),
                    }
                }
                c => {
                    text.push(c);
                    template.push(c);
                }
            }
        }
        Ok(Arg::Literal { value: Value::String(text), template: Some(template) })
    }
}
