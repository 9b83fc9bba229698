//! The tokenizer: one token at a time, because whether `/` starts a regex
//! or divides depends on where the parser is (as in the reference).

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Operator(&'static str),
    Name(String),
    Variable(String),
    Str(String),
    Number(f64),
    True,
    False,
    Null,
    Regex { pattern: String, flags: String },
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    /// Character offset of the token's end, as the reference reports positions.
    pub position: usize,
}

/// Single-character operators, and the characters that end a name.
const OPERATOR_CHARS: &str = ".[]{}(),@#;:?+-*/%|=<>^&!~";
const DOUBLE_OPERATORS: [&str; 7] = ["..", ":=", "!=", ">=", "<=", "**", "~>"];
const WHITESPACE: &str = " \t\n\r\u{0B}";

pub struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    pub fn new(source: &str) -> Lexer {
        Lexer { chars: source.chars().collect(), pos: 0 }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn token(&self, tok: Tok) -> Option<Token> {
        Some(Token { tok, position: self.pos })
    }

    /// The next token; `infix` means an operator is expected, so `/` divides.
    pub fn next(&mut self, infix: bool) -> Result<Option<Token>> {
        // Whitespace and comments, in any order and number.
        loop {
            while self.at(self.pos).is_some_and(|c| WHITESPACE.contains(c)) {
                self.pos += 1;
            }
            if self.at(self.pos) == Some('/') && self.at(self.pos + 1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    match (self.at(self.pos), self.at(self.pos + 1)) {
                        (Some('*'), Some('/')) => break,
                        (None, _) => return Err(Error::new("S0106").at(start)),
                        _ => self.pos += 1,
                    }
                }
                self.pos += 2;
                continue;
            }
            break;
        }
        let Some(c) = self.at(self.pos) else { return Ok(None) };
        if !infix && c == '/' {
            self.pos += 1;
            let (pattern, flags) = self.scan_regex()?;
            return Ok(self.token(Tok::Regex { pattern, flags }));
        }
        if let Some(next) = self.at(self.pos + 1) {
            let pair: String = [c, next].iter().collect();
            if let Some(op) = DOUBLE_OPERATORS.iter().find(|o| **o == pair) {
                self.pos += 2;
                return Ok(self.token(Tok::Operator(op)));
            }
        }
        if let Some(i) = OPERATOR_CHARS.find(c) {
            self.pos += 1;
            return Ok(self.token(Tok::Operator(&OPERATOR_CHARS[i..i + c.len_utf8()])));
        }
        if c == '"' || c == '\'' {
            return self.string(c).map(|s| self.token(Tok::Str(s)));
        }
        if let Some(n) = self.number()? {
            return Ok(self.token(Tok::Number(n)));
        }
        if c == '`' {
            self.pos += 1;
            let rest = &self.chars[self.pos..];
            return match rest.iter().position(|&ch| ch == '`') {
                Some(end) => {
                    let name: String = rest[..end].iter().collect();
                    self.pos += end + 1;
                    Ok(self.token(Tok::Name(name)))
                }
                None => {
                    self.pos = self.chars.len();
                    Err(Error::new("S0105").at(self.pos))
                }
            };
        }
        let start = self.pos;
        let mut i = start;
        while let Some(ch) = self.at(i) {
            if WHITESPACE.contains(ch) || OPERATOR_CHARS.contains(ch) {
                break;
            }
            i += 1;
        }
        self.pos = i;
        if c == '$' {
            let name: String = self.chars[start + 1..i].iter().collect();
            return Ok(self.token(Tok::Variable(name)));
        }
        let name: String = self.chars[start..i].iter().collect();
        Ok(match name.as_str() {
            "or" => self.token(Tok::Operator("or")),
            "in" => self.token(Tok::Operator("in")),
            "and" => self.token(Tok::Operator("and")),
            "true" => self.token(Tok::True),
            "false" => self.token(Tok::False),
            "null" => self.token(Tok::Null),
            "" if i == self.chars.len() => None,
            _ => self.token(Tok::Name(name)),
        })
    }

    fn string(&mut self, quote: char) -> Result<String> {
        self.pos += 1;
        let mut out = String::new();
        // UTF-16 units from \u escapes, so surrogate pairs combine.
        let mut units: Vec<u16> = Vec::new();
        let flush = |units: &mut Vec<u16>, out: &mut String| {
            out.extend(char::decode_utf16(units.drain(..)).map(|r| r.unwrap_or('\u{FFFD}')));
        };
        while let Some(c) = self.at(self.pos) {
            if c == '\\' {
                self.pos += 1;
                let e = self.at(self.pos).unwrap_or('\0');
                let simple = match e {
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '/' => Some('/'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    _ => None,
                };
                if let Some(s) = simple {
                    flush(&mut units, &mut out);
                    out.push(s);
                } else if e == 'u' {
                    let hex: String = self.chars.iter().skip(self.pos + 1).take(4).collect();
                    match u16::from_str_radix(&hex, 16) {
                        Ok(unit) if hex.len() == 4 => {
                            units.push(unit);
                            self.pos += 4;
                        }
                        _ => return Err(Error::new("S0104").at(self.pos)),
                    }
                } else {
                    return Err(Error::new("S0103").at(self.pos).token(e.to_string()));
                }
            } else if c == quote {
                flush(&mut units, &mut out);
                self.pos += 1;
                return Ok(out);
            } else {
                flush(&mut units, &mut out);
                out.push(c);
            }
            self.pos += 1;
        }
        Err(Error::new("S0101").at(self.pos))
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?` at the current position.
    fn number(&mut self) -> Result<Option<f64>> {
        let s = &self.chars[self.pos..];
        let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
        let mut i = usize::from(s.first() == Some(&'-'));
        match s.get(i) {
            Some('0') => i += 1,
            Some(c) if c.is_ascii_digit() => i += digits(i),
            _ => return Ok(None),
        }
        if s.get(i) == Some(&'.') && s.get(i + 1).is_some_and(char::is_ascii_digit) {
            i += 1 + digits(i + 1);
        }
        if matches!(s.get(i), Some('e' | 'E')) {
            let sign = usize::from(matches!(s.get(i + 1), Some('+' | '-')));
            let n = digits(i + 1 + sign);
            if n > 0 {
                i += 1 + sign + n;
            }
        }
        let text: String = s[..i].iter().collect();
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => {
                self.pos += i;
                Ok(Some(n))
            }
            _ => Err(Error::new("S0102").at(self.pos).token(text)),
        }
    }

    /// After the opening `/`: the pattern up to an unescaped `/` outside
    /// brackets, then the flags `i` and `m`.
    fn scan_regex(&mut self) -> Result<(String, String)> {
        let start = self.pos;
        let mut depth: i32 = 0;
        while let Some(c) = self.at(self.pos) {
            if c == '/' && depth == 0 {
                let mut backslashes = 0;
                while self.pos > backslashes && self.at(self.pos - backslashes - 1) == Some('\\') {
                    backslashes += 1;
                }
                if backslashes % 2 == 0 {
                    let pattern: String = self.chars[start..self.pos].iter().collect();
                    if pattern.is_empty() {
                        return Err(Error::new("S0301").at(self.pos));
                    }
                    self.pos += 1;
                    let flags_start = self.pos;
                    while matches!(self.at(self.pos), Some('i' | 'm')) {
                        self.pos += 1;
                    }
                    let flags: String = self.chars[flags_start..self.pos].iter().collect();
                    return Ok((pattern, flags));
                }
            }
            let escaped = self.pos > 0 && self.at(self.pos - 1) == Some('\\');
            if matches!(c, '(' | '[' | '{') && !escaped {
                depth += 1;
            }
            if matches!(c, ')' | ']' | '}') && !escaped {
                depth -= 1;
            }
            self.pos += 1;
        }
        Err(Error::new("S0302").at(self.pos))
    }
}
