//! Regular expression literals (`/ab+c/i`): JavaScript syntax translated for
//! `fancy-regex`, which runs look-around and back-references by backtracking
//! (bounded: a match that needs more steps fails with D1004's sibling, S0303
//! at run time) and hands the rest to the `regex` crate's automata.

use std::rc::Rc;

use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::value::{Function, Object, Value};

#[derive(Debug)]
pub struct Pattern {
    pub source: String,
    pub regex: fancy_regex::Regex,
    /// Look-around or back-references: matched by backtracking, whose work
    /// can grow with the cube of the text, so its texts are bounded.
    backtracking: bool,
}

/// Compiled patterns' size limit: a hostile expression cannot make a huge automaton.
const REGEX_BYTES_MAX: usize = 1 << 20;
/// Backtracking steps one match may take (look-around, back-references):
/// a catastrophic pattern fails instead of hanging. Each start position tried
/// is one step, so this is a few times the longest text such a pattern takes.
const REGEX_BACKTRACK_STEPS_MAX: usize = 20_000;
/// The longest text (from where the search starts) a backtracking pattern
/// searches. fancy-regex has no limit on forward steps, and a look-ahead
/// inside a repetition rescans the rest of the text at every step, so one
/// search may take the text's length squared or cubed in steps.
pub const REGEX_BACKTRACKING_TEXT_BYTES_MAX: usize = 4096;
/// A linear-time search is charged one evaluation step per this many bytes it
/// may scan: `$match` over every position of a long text is quadratic.
const REGEX_SCAN_BYTES_PER_STEP: u64 = 64;
/// A backtracking search is charged the square of the text it may scan, over
/// this: its worst case at the text limit is about a million steps.
const REGEX_BACKTRACKING_BYTES_SQUARED_PER_STEP: u64 = 16;

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
        // The `regex` crate refuses exactly what needs backtracking.
        let backtracking = regex::RegexBuilder::new(&translated).size_limit(REGEX_BYTES_MAX).build().is_err();
        Ok(Pattern { source: source.to_string(), regex, backtracking })
    }

    /// Evaluation steps a search from byte `from` of `s` may take, or S0303
    /// when the text is too long for a backtracking pattern.
    fn cost(&self, s: &str, from: usize) -> Result<u64> {
        let scanned = (s.len() - from) as u64;
        if !self.backtracking {
            return Ok(1 + scanned / REGEX_SCAN_BYTES_PER_STEP);
        }
        if scanned > REGEX_BACKTRACKING_TEXT_BYTES_MAX as u64 {
            let detail = format!(
                "/{}/ uses look-around or back-references, which search at most {} bytes of text; this search has {}",
                self.source, REGEX_BACKTRACKING_TEXT_BYTES_MAX, scanned
            );
            return Err(Error::new("S0303").detail(detail));
        }
        Ok(1 + scanned * scanned / REGEX_BACKTRACKING_BYTES_SQUARED_PER_STEP)
    }

    /// The first match at or after byte `from`: (start, end, groups), its
    /// work charged to the evaluation.
    pub fn find_at(&self, ev: &mut Evaluator, s: &str, from: usize) -> Result<Option<(usize, usize, Vec<Value>)>> {
        if from > s.len() {
            return Ok(None);
        }
        ev.charge_steps(self.cost(s, from)?)?;
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

/// Escaped letters with a meaning in JavaScript's regexes (`\k<name>` is a
/// named back-reference); `\d`, `\w` and `\u` are translated apart.
const JS_LETTER_ESCAPES: &str = "sSbBtnvfr0xck";

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
                    // Escapes JavaScript gives a meaning, which the `regex` crate reads alike.
                    c if JS_LETTER_ESCAPES.contains(c) => {
                        out.push('\\');
                        out.push(c);
                    }
                    // JavaScript (without the `u` flag) reads any other escaped
                    // letter as itself; fancy-regex would not (`\g1` calls a group).
                    c if c.is_ascii_alphanumeric() => out.push(c),
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
pub fn match_object(ev: &mut Evaluator, p: &std::sync::Arc<Pattern>, s: &Rc<str>, from: usize) -> Result<Value> {
    let Some((start, end, groups)) = p.find_at(ev, s, from)? else { return Ok(Value::Undefined) };
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
