//! Function signatures (`<s-nn?:s>`): which arguments a function takes,
//! checked and fixed up (context value for `-`, singletons as arrays for `a`)
//! before it runs.

use crate::error::{Error, Result};
use crate::value::Value;

#[derive(Debug, Clone)]
struct Param {
    /// The symbols this parameter accepts (`m` is undefined).
    accepts: String,
    /// `s`, `n`, `a`, `(sf)`…
    kind: String,
    optional: bool,
    one_or_more: bool,
    /// `-`: the context value stands in when the argument is missing.
    context: bool,
    subtype: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Signature {
    params: Vec<Param>,
    pub text: String,
}

impl Signature {
    pub fn parse(text: &str) -> Result<Signature> {
        let chars: Vec<char> = text.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut i = 1;
        let new = |accepts: &str, kind: String| Param {
            accepts: accepts.to_string(),
            kind,
            optional: false,
            one_or_more: false,
            context: false,
            subtype: None,
        };
        while i < chars.len() {
            let c = chars[i];
            match c {
                ':' => break,
                's' | 'n' | 'b' | 'l' | 'o' => params.push(new(&format!("{c}m"), c.to_string())),
                'a' => params.push(new("asnblfom", "a".into())),
                'f' => params.push(new("f", "f".into())),
                'j' => params.push(new("asnblom", "j".into())),
                'x' => params.push(new("asnblfom", "x".into())),
                '-' | '?' | '+' => {
                    if let Some(p) = params.last_mut() {
                        match c {
                            '-' => {
                                p.context = true;
                                p.optional = true;
                            }
                            '?' => p.optional = true,
                            _ => p.one_or_more = true,
                        }
                    }
                }
                '(' => {
                    let end = closing(&chars, i, '(', ')');
                    let choice: String = chars[i + 1..end].iter().collect();
                    if choice.contains('<') {
                        return Err(Error::new("S0402").value(choice).at(i));
                    }
                    params.push(new(&format!("{choice}m"), format!("({choice})")));
                    i = end;
                }
                '<' => {
                    let last = params.last_mut().filter(|p| p.kind == "a" || p.kind == "f");
                    let Some(p) = last else {
                        let kind = params.last().map(|p| p.kind.clone()).unwrap_or_default();
                        return Err(Error::new("S0401").value(kind).at(i));
                    };
                    let end = closing(&chars, i, '<', '>');
                    p.subtype = Some(chars[i + 1..end].iter().collect());
                    i = end;
                }
                _ => {}
            }
            i += 1;
        }
        Ok(Signature { params, text: text.to_string() })
    }

    /// The arguments as the function receives them, or T0410/T0411/T0412.
    pub fn validate(&self, args: &[Value], context: &Value) -> Result<Vec<Value>> {
        let symbols: Vec<char> = args.iter().map(Value::symbol).collect();
        let Some(counts) = self.matches(0, &symbols, 0, true) else {
            return Err(self.mismatch(args, &symbols));
        };
        let mut out = Vec::with_capacity(counts.len());
        let mut arg_index = 0;
        for (param, count) in self.params.iter().zip(counts) {
            if count == 0 {
                if param.context {
                    let accepts = param.accepts.contains(context.symbol()) && param.accepts != "m";
                    if !accepts {
                        return Err(Error::new("T0411")
                            .value(crate::number::stringify(context, false))
                            .index(arg_index + 1));
                    }
                    out.push(context.clone());
                } else {
                    out.push(args.get(arg_index).cloned().unwrap_or_default());
                    arg_index += 1;
                }
                continue;
            }
            for _ in 0..count {
                let arg = args.get(arg_index).cloned().unwrap_or_default();
                if param.kind == "a" && !arg.is_undefined() {
                    check_subtype(param, &arg, count, arg_index)?;
                    out.push(if arg.is_array() { arg } else { Value::array(vec![arg]) });
                } else {
                    out.push(arg);
                }
                arg_index += 1;
            }
        }
        Ok(out)
    }

    /// How many arguments each parameter takes, greedily with backtracking
    /// (as the reference's regular expression matches); `whole` anchors the end.
    fn matches(&self, p: usize, symbols: &[char], at: usize, whole: bool) -> Option<Vec<usize>> {
        let Some(param) = self.params.get(p) else {
            return (!whole || at == symbols.len()).then(Vec::new);
        };
        let fits = |k: usize| symbols[at..at + k].iter().all(|s| param.accepts.contains(*s));
        let available = symbols.len() - at;
        let candidates: Vec<usize> = if param.one_or_more {
            (1..=available).rev().filter(|k| fits(*k)).collect()
        } else if param.optional {
            let mut c = Vec::new();
            if available >= 1 && fits(1) {
                c.push(1);
            }
            c.push(0);
            c
        } else if available >= 1 && fits(1) {
            vec![1]
        } else {
            Vec::new()
        };
        for k in candidates {
            if let Some(mut rest) = self.matches(p + 1, symbols, at + k, whole) {
                rest.insert(0, k);
                return Some(rest);
            }
        }
        None
    }

    /// T0410 naming the first argument no prefix of the signature accepts.
    fn mismatch(&self, args: &[Value], symbols: &[char]) -> Error {
        let mut good_to = 0;
        for n in 1..=self.params.len() {
            let prefix = Signature { params: self.params[..n].to_vec(), text: String::new() };
            match prefix.matches(0, symbols, 0, false) {
                Some(counts) => good_to = counts.iter().sum(),
                None => break,
            }
        }
        let value = args.get(good_to).map(|v| crate::number::stringify(v, false)).unwrap_or_default();
        Error::new("T0410").value(value).index(good_to + 1)
    }
}

fn check_subtype(param: &Param, arg: &Value, count: usize, index: usize) -> Result<()> {
    let Some(sub) = &param.subtype else { return Ok(()) };
    let ok = match arg {
        Value::Array(a) => match a.items.first() {
            None => true,
            Some(first) => {
                let t = first.symbol();
                sub.starts_with(t) && a.items.iter().all(|v| v.symbol() == t)
            }
        },
        v => count == 1 && sub.len() == 1 && sub.starts_with(v.symbol()),
    };
    if ok {
        return Ok(());
    }
    let plural = match sub.chars().next() {
        Some('a') => "arrays",
        Some('b') => "booleans",
        Some('f') => "functions",
        Some('n') => "numbers",
        Some('o') => "objects",
        Some('s') => "strings",
        _ => "",
    };
    Err(Error::new("T0412").value(crate::number::stringify(arg, false)).index(index + 1).detail(plural))
}

fn closing(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 1;
    let mut i = start;
    while i + 1 < chars.len() {
        i += 1;
        if chars[i] == close {
            depth -= 1;
            if depth == 0 {
                break;
            }
        } else if chars[i] == open {
            depth += 1;
        }
    }
    i
}
