//! Regular expression literals (`/ab+c/i`): JavaScript syntax translated for
//! `fancy-regex`, which runs look-around and back-references by backtracking
//! (bounded: a match that needs more steps fails with D1004's sibling, S0303
//! at run time) and hands the rest to the `regex` crate's automata.

use std::rc::Rc;

use crate::error::{Error, Result};
use crate::value::{Function, Object, Value};

#[derive(Debug)]
pub struct Pattern {
    pub source: String,
    pub regex: fancy_regex::Regex,
}

/// Compiled patterns' size limit: a hostile expression cannot make a huge automaton.
const REGEX_BYTES_MAX: usize = 1 << 20;
/// Backtracking steps one match may take (look-around, back-references):
/// a catastrophic pattern fails instead of hanging.
const REGEX_BACKTRACK_STEPS_MAX: usize = 1_000_000;

impl Pattern {
    pub fn new(source: &str, flags: &str) -> Result<Pattern> {
        let translated = translate(source)?;
        let regex = fancy_regex::RegexBuilder::new(&translated)
            .case_insensitive(flags.contains('i'))
            .multi_line(flags.contains('m'))
            .delegate_size_limit(REGEX_BYTES_MAX)
            .backtrack_limit(REGEX_BACKTRACK_STEPS_MAX)
            .build()
            .map_err(|e| Error::new("S0303").detail(e.to_string()))?;
        Ok(Pattern { source: source.to_string(), regex })
    }

    /// The first match at or after byte `from`: (start, end, groups).
    pub fn find_at(&self, s: &str, from: usize) -> Result<Option<(usize, usize, Vec<Value>)>> {
        if from > s.len() {
            return Ok(None);
        }
        let caps = self
            .regex
            .captures_from_pos(s, from)
            .map_err(|e| Error::new("S0303").detail(format!("/{}/ could not be matched: {e}", self.source)))?;
        let Some(caps) = caps else { return Ok(None) };
        let Some(m) = caps.get(0) else { return Ok(None) };
        let groups = (1..caps.len())
            .map(|i| caps.get(i).map(|g| Value::string(g.as_str())).unwrap_or_else(|| Value::string("")))
            .collect();
        Ok(Some((m.start(), m.end(), groups)))
    }
}

/// JavaScript regex syntax where it differs from the `regex` crate's.
fn translate(src: &str) -> Result<String> {
    let mut out = String::with_capacity(src.len() + 8);
    let mut chars = src.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push_str("\\\\");
                    break;
                };
                match e {
                    // JavaScript's classes are ASCII.
                    'd' => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                    'D' => out.push_str(if in_class { "\\D" } else { "[^0-9]" }),
                    'w' => out.push_str(if in_class { "A-Za-z0-9_" } else { "[A-Za-z0-9_]" }),
                    'W' => out.push_str(if in_class { "\\W" } else { "[^A-Za-z0-9_]" }),
                    d @ '1'..='9' => {
                        out.push('\\');
                        out.push(d);
                    }
                    '/' => out.push('/'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push_str(&format!("\\x{{{hex}}}"));
                    }
                    c if c.is_ascii_alphanumeric() => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => {
                        // Any other escaped character stands for itself.
                        out.push_str(&regex::escape(&c.to_string()));
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            // Look-around (`(?=`, `(?!`, `(?<=`, `(?<!`) and groups pass as they are.
            // Doubled, these are set operations in the `regex` crate's classes.
            c if in_class && matches!(c, '&' | '~') => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// UTF-16 offset of a byte offset: positions are JavaScript string indices.
pub fn utf16_index(s: &str, byte: usize) -> usize {
    s[..byte.min(s.len())].encode_utf16().count()
}

/// The object a regex gives when called as a function: `match`, `start`,
/// `end`, `groups` and `next()`.
pub fn match_object(p: &std::sync::Arc<Pattern>, s: &Rc<str>, from: usize) -> Result<Value> {
    let Some((start, end, groups)) = p.find_at(s, from)? else { return Ok(Value::Undefined) };
    let mut o = Object::new();
    o.insert("match".into(), Value::string(&s[start..end]));
    o.insert("start".into(), Value::Number(utf16_index(s, start) as f64));
    o.insert("end".into(), Value::Number(utf16_index(s, end) as f64));
    o.insert("groups".into(), Value::array(groups));
    let next = Function::Partial {
        function: Value::Function(Rc::new(Function::Builtin(crate::functions::regex_next()))),
        args: vec![
            Some(Value::Function(Rc::new(Function::Regex(p.clone())))),
            Some(Value::String(s.clone())),
            Some(Value::Number(end as f64)),
        ],
    };
    o.insert("next".into(), Value::Function(Rc::new(next)));
    Ok(Value::object(o))
}
