//! Regular expression literals (`/ab+c/i`): JavaScript syntax translated for
//! the `regex` crate. What it cannot express (look-around, back-references)
//! is refused when the expression is parsed (S0303), never mis-matched.

use std::rc::Rc;

use crate::error::{Error, Result};
use crate::value::{Function, Object, Value};

#[derive(Debug)]
pub struct Pattern {
    pub source: String,
    pub regex: regex::Regex,
}

/// Compiled patterns' size limit: a hostile expression cannot make a huge automaton.
const REGEX_BYTES_MAX: usize = 1 << 20;

impl Pattern {
    pub fn new(source: &str, flags: &str) -> Result<Pattern> {
        let translated = translate(source)?;
        let regex = regex::RegexBuilder::new(&translated)
            .case_insensitive(flags.contains('i'))
            .multi_line(flags.contains('m'))
            .size_limit(REGEX_BYTES_MAX)
            .build()
            .map_err(|e| Error::new("S0303").detail(e.to_string()))?;
        Ok(Pattern { source: source.to_string(), regex })
    }

    /// The first match at or after byte `from`: (start, end, groups).
    pub fn find_at(&self, s: &str, from: usize) -> Option<(usize, usize, Vec<Value>)> {
        if from > s.len() {
            return None;
        }
        let caps = self.regex.captures_at(s, from)?;
        let m = caps.get(0)?;
        let groups = (1..caps.len())
            .map(|i| caps.get(i).map(|g| Value::string(g.as_str())).unwrap_or_else(|| Value::string("")))
            .collect();
        Some((m.start(), m.end(), groups))
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
                    '1'..='9' => {
                        return Err(Error::new("S0303").detail("back-references are not supported"));
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
            '(' if chars.peek() == Some(&'?') => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("?=")
                    || rest.starts_with("?!")
                    || rest.starts_with("?<=")
                    || rest.starts_with("?<!")
                {
                    return Err(Error::new("S0303").detail("look-around is not supported"));
                }
                out.push('(');
            }
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
pub fn match_object(p: &std::sync::Arc<Pattern>, s: &Rc<str>, from: usize) -> Value {
    let Some((start, end, groups)) = p.find_at(s, from) else { return Value::Undefined };
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
    Value::object(o)
}
