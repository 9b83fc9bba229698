//! Pratt's top-down operator precedence parser, with the reference's binding
//! powers, then [`crate::process`] for paths.

use std::sync::Arc;

use crate::ast::{Kind, Lambda, Node, SortTerm};
use crate::error::{Error, Result};
use crate::lexer::{Lexer, Tok};

/// Nesting the parser follows before it refuses an expression (its own
/// recursion is on the host's stack).
pub const PARSE_DEPTH_MAX: usize = 500;

#[derive(Clone, Debug)]
struct Cur {
    /// The symbol: an operator, or `(name)`, `(literal)`, `(regex)`, `(end)`.
    id: &'static str,
    tok: Option<Tok>,
    position: usize,
}

impl Cur {
    /// The token's text, for messages.
    fn text(&self) -> String {
        match &self.tok {
            Some(Tok::Operator(o)) => (*o).to_string(),
            Some(Tok::Name(n)) | Some(Tok::Variable(n)) | Some(Tok::Str(n)) => n.clone(),
            Some(Tok::Number(n)) => crate::number::js_string(*n),
            Some(Tok::True) => "true".into(),
            Some(Tok::False) => "false".into(),
            Some(Tok::Null) => "null".into(),
            Some(Tok::Regex { pattern, .. }) => pattern.clone(),
            None => "(end)".into(),
        }
    }
}

/// Left binding powers; 0 for symbols that only end expressions.
fn lbp(id: &str) -> u8 {
    match id {
        "." => 75,
        "[" | "(" | "@" | "#" => 80,
        "{" => 70,
        "*" | "/" | "%" => 60,
        "+" | "-" | "&" => 50,
        "=" | "<" | ">" | "!=" | "<=" | ">=" | "~>" | "in" | "^" => 40,
        "and" => 30,
        "or" => 25,
        "?" => 20,
        ":=" => 10,
        _ => 0,
    }
}

/// Operators the parser knows (others, like `!` and `~`, are refused).
const KNOWN: &[&str] = &[
    ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%", "|", "=", "<", ">", "^",
    "**", "..", ":=", "!=", "<=", ">=", "~>", "and", "or", "in", "&",
];

pub struct Parser {
    lexer: Lexer,
    cur: Cur,
    depth: usize,
}

/// Parses and post-processes an expression.
pub fn parse(source: &str) -> Result<Node> {
    let mut p = Parser { lexer: Lexer::new(source), cur: Cur { id: "(end)", tok: None, position: 0 }, depth: 0 };
    p.advance(None, false)?;
    let expr = p.expression(0)?;
    if p.cur.id != "(end)" {
        return Err(Error::new("S0201").at(p.cur.position).token(p.cur.text()));
    }
    crate::process::process_root(expr)
}

impl Parser {
    fn advance(&mut self, expected: Option<&str>, infix: bool) -> Result<()> {
        if let Some(id) = expected
            && self.cur.id != id
        {
            let code = if self.cur.id == "(end)" { "S0203" } else { "S0202" };
            let value = serde_json::Value::String(id.to_string()).to_string();
            return Err(Error::new(code).at(self.cur.position).token(self.cur.text()).value(value));
        }
        let Some(t) = self.lexer.next(infix)? else {
            self.cur = Cur { id: "(end)", tok: None, position: self.lexer.len() };
            return Ok(());
        };
        let id = match &t.tok {
            Tok::Name(_) | Tok::Variable(_) => "(name)",
            Tok::Operator(o) => match KNOWN.iter().find(|k| *k == o) {
                Some(k) => k,
                None => return Err(Error::new("S0204").at(t.position).token(*o)),
            },
            Tok::Regex { .. } => "(regex)",
            _ => "(literal)",
        };
        self.cur = Cur { id, tok: Some(t.tok), position: t.position };
        Ok(())
    }

    fn expression(&mut self, rbp: u8) -> Result<Node> {
        self.depth += 1;
        if self.depth > PARSE_DEPTH_MAX {
            return Err(Error::new("U1001").at(self.cur.position));
        }
        let t = self.cur.clone();
        self.advance(None, true)?;
        let mut left = self.nud(t)?;
        while rbp < lbp(self.cur.id) {
            let t = self.cur.clone();
            self.advance(None, false)?;
            left = self.led(t, left)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn nud(&mut self, t: Cur) -> Result<Node> {
        let pos = t.position;
        let node = |k| Ok(Node::new(k, pos));
        match (t.id, t.tok) {
            ("(name)", Some(Tok::Name(n))) => node(Kind::Name(n)),
            ("(name)", Some(Tok::Variable(n))) => node(Kind::Variable(n)),
            ("(literal)", Some(Tok::Str(s))) => node(Kind::Str(s.into())),
            ("(literal)", Some(Tok::Number(n))) => node(Kind::Number(n)),
            ("(literal)", Some(Tok::True)) => node(Kind::True),
            ("(literal)", Some(Tok::False)) => node(Kind::False),
            ("(literal)", Some(Tok::Null)) => node(Kind::Null),
            ("(regex)", Some(Tok::Regex { pattern, flags })) => {
                let re = crate::regex::Pattern::new(&pattern, &flags).map_err(|e| e.at(pos))?;
                node(Kind::Regex(Arc::new(re)))
            }
            // The keywords are names where an operand is expected.
            ("and" | "or" | "in", _) => node(Kind::Name(t.id.to_string())),
            ("-", _) => Ok(Node::new(Kind::Negate(Box::new(self.expression(70)?)), pos)),
            ("*", _) => node(Kind::Wildcard),
            ("**", _) => node(Kind::Descendant),
            ("%", _) => node(Kind::Parent(Default::default())),
            ("(", _) => {
                let mut exprs = Vec::new();
                while self.cur.id != ")" {
                    exprs.push(self.expression(0)?);
                    if self.cur.id != ";" {
                        break;
                    }
                    self.advance(Some(";"), false)?;
                }
                self.advance(Some(")"), true)?;
                node(Kind::Block(exprs))
            }
            ("[", _) => {
                let mut items = Vec::new();
                if self.cur.id != "]" {
                    loop {
                        let mut item = self.expression(0)?;
                        if self.cur.id == ".." {
                            let p = self.cur.position;
                            self.advance(Some(".."), false)?;
                            let rhs = self.expression(0)?;
                            item = Node::new(Kind::Binary { op: "..", lhs: Box::new(item), rhs: Box::new(rhs) }, p);
                        }
                        items.push(item);
                        if self.cur.id != "," {
                            break;
                        }
                        self.advance(Some(","), false)?;
                    }
                }
                self.advance(Some("]"), true)?;
                node(Kind::Array(items))
            }
            ("{", _) => {
                let pairs = self.object_pairs()?;
                node(Kind::Object(pairs))
            }
            ("|", _) => {
                let pattern = self.expression(0)?;
                self.advance(Some("|"), false)?;
                let update = self.expression(0)?;
                let mut delete = None;
                if self.cur.id == "," {
                    self.advance(Some(","), false)?;
                    delete = Some(self.expression(0)?);
                }
                self.advance(Some("|"), false)?;
                node(Kind::Transform(Arc::new(crate::ast::Transform { pattern, update, delete })))
            }
            ("(end)", _) => node(Kind::End),
            _ => Err(Error::new("S0211").at(pos).token(t.id)),
        }
    }

    fn object_pairs(&mut self) -> Result<Vec<(Node, Node)>> {
        let mut pairs = Vec::new();
        if self.cur.id != "}" {
            loop {
                let k = self.expression(0)?;
                self.advance(Some(":"), false)?;
                let v = self.expression(0)?;
                pairs.push((k, v));
                if self.cur.id != "," {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("}"), true)?;
        Ok(pairs)
    }

    fn led(&mut self, t: Cur, left: Node) -> Result<Node> {
        let pos = t.position;
        let b = Box::new;
        match t.id {
            "(" => self.call(pos, left),
            "[" => {
                if self.cur.id == "]" {
                    // `[]`: keep singleton arrays on the step it follows.
                    let mut left = left;
                    mark_keep_array(&mut left);
                    self.advance(Some("]"), false)?;
                    return Ok(left);
                }
                let rhs = self.expression(lbp("]"))?;
                self.advance(Some("]"), true)?;
                Ok(Node::new(Kind::Predicate(b(left), b(rhs)), pos))
            }
            "^" => {
                self.advance(Some("("), false)?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if self.cur.id == "<" {
                        self.advance(Some("<"), false)?;
                    } else if self.cur.id == ">" {
                        descending = true;
                        self.advance(Some(">"), false)?;
                    }
                    terms.push(SortTerm { descending, expression: self.expression(0)? });
                    if self.cur.id != "," {
                        break;
                    }
                    self.advance(Some(","), false)?;
                }
                self.advance(Some(")"), false)?;
                Ok(Node::new(Kind::OrderBy(b(left), terms), pos))
            }
            "{" => {
                let pairs = self.object_pairs()?;
                Ok(Node::new(Kind::GroupBy(b(left), pairs), pos))
            }
            ":=" => {
                let Kind::Variable(name) = &left.kind else {
                    return Err(Error::new("S0212").at(left.position).token(left.token_text()));
                };
                let name = name.clone();
                let rhs = self.expression(lbp(":=") - 1)?;
                Ok(Node::new(Kind::Bind { name, value: b(rhs) }, pos))
            }
            "@" | "#" => {
                let rhs = self.expression(lbp(t.id))?;
                let Kind::Variable(name) = rhs.kind else {
                    return Err(Error::new("S0214").at(rhs.position).token(t.id));
                };
                let kind = if t.id == "@" { Kind::FocusBind(b(left), name) } else { Kind::IndexBind(b(left), name) };
                Ok(Node::new(kind, pos))
            }
            "?" => {
                let then = self.expression(0)?;
                let mut otherwise = None;
                if self.cur.id == ":" {
                    self.advance(Some(":"), false)?;
                    otherwise = Some(b(self.expression(0)?));
                }
                Ok(Node::new(Kind::Condition { condition: b(left), then: b(then), otherwise }, pos))
            }
            "." => {
                let rhs = self.expression(lbp("."))?;
                Ok(Node::new(Kind::Dot(b(left), b(rhs)), pos))
            }
            op => {
                let rhs = self.expression(lbp(op))?;
                Ok(Node::new(Kind::Binary { op, lhs: b(left), rhs: b(rhs) }, pos))
            }
        }
    }

    /// `f(args)`, `f(?, x)` and `function($a, $b)<sig>{ body }`.
    fn call(&mut self, pos: usize, procedure: Node) -> Result<Node> {
        let mut args = Vec::new();
        let mut partial = false;
        if self.cur.id != ")" {
            loop {
                if self.cur.id == "?" {
                    partial = true;
                    args.push(Node::new(Kind::Placeholder, self.cur.position));
                    self.advance(Some("?"), false)?;
                } else {
                    args.push(self.expression(0)?);
                }
                if self.cur.id != "," {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some(")"), true)?;
        let is_lambda = matches!(&procedure.kind, Kind::Name(n) if n == "function" || n == "\u{3BB}");
        if !is_lambda {
            let procedure = Box::new(procedure);
            let kind = if partial { Kind::Partial { procedure, args } } else { Kind::Function { procedure, args } };
            return Ok(Node::new(kind, pos));
        }
        let mut params = Vec::new();
        for (i, a) in args.iter().enumerate() {
            match &a.kind {
                Kind::Variable(v) => params.push(v.clone()),
                _ => {
                    return Err(Error::new("S0208").at(a.position).token(a.token_text()).value((i + 1).to_string()));
                }
            }
        }
        let mut signature = None;
        if self.cur.id == "<" {
            let sig_pos = self.cur.position;
            let mut depth = 1;
            let mut text = String::from("<");
            while depth > 0 && self.cur.id != "{" && self.cur.id != "(end)" {
                self.advance(None, false)?;
                match self.cur.id {
                    ">" => depth -= 1,
                    "<" => depth += 1,
                    _ => {}
                }
                text.push_str(&self.cur.text());
            }
            self.advance(Some(">"), false)?;
            signature = Some(Arc::new(crate::signature::Signature::parse(&text).map_err(|e| e.at(sig_pos))?));
        }
        self.advance(Some("{"), false)?;
        let body = self.expression(0)?;
        self.advance(Some("}"), false)?;
        let lambda = Lambda { params, signature, body: Arc::new(body), thunk: false };
        Ok(Node::new(Kind::Lambda(Arc::new(lambda)), pos))
    }
}

/// `[]` marks the innermost step under any predicates.
fn mark_keep_array(node: &mut Node) {
    match &mut node.kind {
        Kind::Predicate(lhs, _) => mark_keep_array(lhs),
        _ => node.keep_array = true,
    }
}
