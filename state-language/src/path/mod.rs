//! Step Functions' JSONPath dialect (Jayway JsonPath, as AWS runs it).
//!
//! No RFC 9535 crate accepts the dialect (`$.foo-bar`, `.['a b']`, `.length()`,
//! `=~`, `$$` and `$var` roots), and the meaning differs too: a *definite* path
//! yields one value or an error, an *indefinite* one yields an array. So the
//! project owns this layer; see `../shared/notes/dependencies.md`.

mod eval;
mod filter;
mod parse;
mod write;

pub use eval::PathError;

use crate::limits;

/// Where a path starts reading.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$`: the effective input of the field.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Child(Selector),
    Descendant(Selector),
    /// A trailing Jayway function such as `.length()`.
    Function(PathFunction),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Name(String),
    Names(Vec<String>),
    Index(i64),
    Indexes(Vec<i64>),
    Wildcard,
    Slice { start: Option<i64>, end: Option<i64>, step: Option<i64> },
    Filter(Box<filter::Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFunction {
    Length,
    Min,
    Max,
    Avg,
    Sum,
    Stddev,
    First,
    Last,
    Keys,
}

/// A parsed path. Keeps its source text for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub root: Root,
    pub segments: Vec<Segment>,
    pub text: String,
}

/// Why a path string is not a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath '{path}': {reason}")]
pub struct ParseError {
    pub path: String,
    pub reason: String,
}

impl Path {
    /// Parses a path in AWS's dialect.
    pub fn parse(text: &str) -> Result<Path, ParseError> {
        if text.len() > limits::PATH_BYTES_MAX {
            return Err(ParseError {
                path: text.chars().take(64).collect(),
                reason: format!("longer than {} bytes", limits::PATH_BYTES_MAX),
            });
        }
        parse::Parser::new(text).parse_path()
    }

    /// A definite path selects at most one node: only names and single indexes.
    pub fn is_definite(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Child(Selector::Name(_) | Selector::Index(_)) | Segment::Function(_)))
    }

    /// A reference path: definite, no functions (ResultPath, ItemsPath, `…Path` comparators).
    pub fn is_reference(&self) -> bool {
        self.segments.iter().all(|s| matches!(s, Segment::Child(Selector::Name(_) | Selector::Index(_))))
    }

    /// Jayway's normalized form (`$['a'][0]`) used in its error messages.
    pub fn normalized(&self, upto: usize) -> String {
        let mut out = match &self.root {
            Root::Input => "$".to_string(),
            Root::Context => "$$".to_string(),
            Root::Variable(v) => format!("${v}"),
        };
        for seg in self.segments.iter().take(upto) {
            match seg {
                Segment::Child(Selector::Name(n)) => out.push_str(&format!("['{n}']")),
                Segment::Child(Selector::Index(i)) => out.push_str(&format!("[{i}]")),
                Segment::Child(Selector::Wildcard) => out.push_str("[*]"),
                Segment::Descendant(_) => out.push_str(".."),
                _ => {}
            }
        }
        out
    }
}

impl Path {
    /// True for `$` alone, which selects the whole input.
    pub fn is_root_input(&self) -> bool {
        self.root == Root::Input && self.segments.is_empty()
    }
}
