//! Recursive-descent parser for the Jayway path dialect.

use super::filter::Expr;
use super::{ParseError, Path, PathFunction, Root, Segment, Selector};

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    pub(crate) pos: usize,
    pub(crate) depth: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Parser { src, pos: 0, depth: 0 }
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> ParseError {
        ParseError { path: self.src.to_string(), reason: reason.into() }
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    pub(crate) fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn expect(&mut self, s: &str) -> Result<(), ParseError> {
        if self.eat(s) { Ok(()) } else { Err(self.err(format!("expected '{s}' at offset {}", self.pos))) }
    }

    pub(crate) fn parse_path(mut self) -> Result<Path, ParseError> {
        let root = self.parse_root()?;
        let segments = self.parse_segments(false)?;
        if self.pos != self.src.len() {
            return Err(self.err(format!("unexpected '{}'", self.rest())));
        }
        Ok(Path { root, segments, text: self.src.to_string() })
    }

    fn parse_root(&mut self) -> Result<Root, ParseError> {
        if self.eat("$$") {
            return Ok(Root::Context);
        }
        if !self.eat("$") {
            return Err(self.err("a path must start with '$'"));
        }
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        if self.pos > start {
            return Ok(Root::Variable(self.src[start..self.pos].to_string()));
        }
        Ok(Root::Input)
    }

    /// Segments up to the end, or (inside a filter) up to a character that
    /// cannot continue a path.
    pub(crate) fn parse_segments(&mut self, in_filter: bool) -> Result<Vec<Segment>, ParseError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some('.') => {
                    if self.eat("..") {
                        let sel = if self.peek() == Some('[') {
                            self.parse_bracket()?
                        } else if self.eat("*") {
                            Selector::Wildcard
                        } else {
                            Selector::Name(self.parse_name(in_filter)?)
                        };
                        segs.push(Segment::Descendant(sel));
                    } else {
                        self.bump();
                        if self.peek() == Some('[') {
                            segs.push(Segment::Child(self.parse_bracket()?));
                        } else if self.eat("*") {
                            segs.push(Segment::Child(Selector::Wildcard));
                        } else {
                            let name = self.parse_name(in_filter)?;
                            if self.eat("()") {
                                segs.push(Segment::Function(
                                    function(&name).ok_or_else(|| self.err(format!("unknown function '{name}()'")))?,
                                ));
                            } else {
                                segs.push(Segment::Child(Selector::Name(name)));
                            }
                        }
                    }
                }
                Some('[') => segs.push(Segment::Child(self.parse_bracket()?)),
                Some(_) if in_filter => break,
                Some(c) => return Err(self.err(format!("unexpected '{c}' at offset {}", self.pos))),
            }
            if segs.len() > crate::limits::PATH_BYTES_MAX {
                return Err(self.err("too many segments"));
            }
        }
        if let Some(i) = segs.iter().position(|s| matches!(s, Segment::Function(_)))
            && i + 1 != segs.len()
        {
            return Err(self.err("a function must be the last step of a path"));
        }
        Ok(segs)
    }

    fn parse_name(&mut self, in_filter: bool) -> Result<String, ParseError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let stop =
                c == '.' || c == '[' || c == '(' || (in_filter && (c.is_whitespace() || "=!<>)&|,]".contains(c)));
            if stop {
                break;
            }
            self.bump();
        }
        if self.pos == start {
            return Err(self.err(format!("expected a field name at offset {}", self.pos)));
        }
        Ok(self.src[start..self.pos].to_string())
    }

    fn parse_bracket(&mut self) -> Result<Selector, ParseError> {
        self.expect("[")?;
        self.skip_ws();
        let sel = if self.eat("*") {
            Selector::Wildcard
        } else if self.eat("?") {
            self.skip_ws();
            self.expect("(")?;
            self.depth += 1;
            if self.depth > crate::limits::FILTER_NESTING_DEPTH_MAX {
                return Err(self.err("filters nested too deeply"));
            }
            let expr: Expr = self.parse_filter_or()?;
            self.depth -= 1;
            self.skip_ws();
            self.expect(")")?;
            Selector::Filter(Box::new(expr))
        } else if matches!(self.peek(), Some('\'' | '"')) {
            let mut names = vec![self.parse_quoted()?];
            self.skip_ws();
            while self.eat(",") {
                self.skip_ws();
                names.push(self.parse_quoted()?);
                self.skip_ws();
            }
            if names.len() == 1 { Selector::Name(names.remove(0)) } else { Selector::Names(names) }
        } else {
            self.parse_index_or_slice()?
        };
        self.skip_ws();
        self.expect("]")?;
        Ok(sel)
    }

    pub(crate) fn parse_quoted(&mut self) -> Result<String, ParseError> {
        let quote = self.bump().ok_or_else(|| self.err("expected a quote"))?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated string")),
                // Jayway unescapes only the quote itself; other backslashes are literal.
                Some('\\') if self.peek() == Some(quote) => {
                    self.bump();
                    out.push(quote);
                }
                Some('\\') if self.peek() == Some('\\') && self.rest()[1..].starts_with(quote) => {
                    self.bump();
                    out.push('\\');
                }
                Some(c) if c == quote => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn parse_int(&mut self) -> Result<Option<i64>, ParseError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == Some('-') {
            self.bump();
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        self.skip_ws();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| self.err(format!("bad index '{text}'")))
    }

    fn parse_index_or_slice(&mut self) -> Result<Selector, ParseError> {
        let first = self.parse_int()?;
        if self.peek() == Some(':') {
            self.bump();
            let end = self.parse_int()?;
            let step = if self.eat(":") { self.parse_int()? } else { None };
            return Ok(Selector::Slice { start: first, end, step });
        }
        let first = first.ok_or_else(|| self.err(format!("bad bracket at offset {}", self.pos)))?;
        if self.peek() != Some(',') {
            return Ok(Selector::Index(first));
        }
        let mut all = vec![first];
        while self.eat(",") {
            all.push(self.parse_int()?.ok_or_else(|| self.err("expected an index"))?);
        }
        Ok(Selector::Indexes(all))
    }
}

fn function(name: &str) -> Option<PathFunction> {
    Some(match name {
        "length" | "size" => PathFunction::Length,
        "min" => PathFunction::Min,
        "max" => PathFunction::Max,
        "avg" => PathFunction::Avg,
        "sum" => PathFunction::Sum,
        "stddev" => PathFunction::Stddev,
        "first" => PathFunction::First,
        "last" => PathFunction::Last,
        "keys" => PathFunction::Keys,
        _ => return None,
    })
}
