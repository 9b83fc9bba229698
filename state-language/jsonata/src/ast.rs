//! The syntax tree. The parser builds it with binary `.`/`[`/`{`/`^`/`@`/`#`
//! nodes; `process` then folds those into paths of steps with predicates,
//! groupings, sorts and variable bindings, as the reference's post-parse does.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::signature::Signature;

/// A `%` (parent) reference: which step it resolves to, found while processing.
#[derive(Debug, Clone, Default)]
pub struct SlotData {
    pub label: String,
    pub level: i32,
    pub index: usize,
}

/// Shared between the `%` node and the steps that resolve it; written only
/// while processing (a `Mutex` so parsed expressions can be shared by threads).
pub type Slot = Arc<Mutex<SlotData>>;

/// The slot's data (a poisoned lock still holds good data: nothing panics mid-write).
pub fn lock(slot: &Slot) -> MutexGuard<'_, SlotData> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone)]
pub struct SortTerm {
    pub descending: bool,
    pub expression: Node,
}

#[derive(Debug, Clone)]
pub enum Stage {
    Filter(Node),
    /// `#$var` after a predicate: binds the position in the filtered sequence.
    Index(String),
}

#[derive(Debug, Clone)]
pub struct Group {
    pub pairs: Vec<(Node, Node)>,
    pub position: usize,
}

#[derive(Debug, Clone)]
pub struct Lambda {
    pub params: Vec<String>,
    pub signature: Option<Arc<Signature>>,
    pub body: Arc<Node>,
    /// A tail call wrapped for the trampoline (tail-call optimisation).
    pub thunk: bool,
}

/// `| pattern | update [, delete] |`.
#[derive(Debug, Clone)]
pub struct Transform {
    pub pattern: Node,
    pub update: Node,
    pub delete: Option<Node>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    // Literals and names.
    Str(Arc<str>),
    Number(f64),
    True,
    False,
    Null,
    Name(String),
    Variable(String),
    Regex(Arc<crate::regex::Pattern>),
    Wildcard,
    Descendant,
    Parent(Slot),
    /// `?` in a partial application.
    Placeholder,
    /// The end of the expression where an operand was expected: an error
    /// only if it survives parsing (the reference reports what came first).
    End,
    // Operators.
    Binary {
        op: &'static str,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Negate(Box<Node>),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
    Condition {
        condition: Box<Node>,
        then: Box<Node>,
        otherwise: Option<Box<Node>>,
    },
    Block(Vec<Node>),
    Function {
        procedure: Box<Node>,
        args: Vec<Node>,
    },
    Partial {
        procedure: Box<Node>,
        args: Vec<Node>,
    },
    Lambda(Arc<Lambda>),
    Transform(Arc<Transform>),
    // Only before processing.
    Dot(Box<Node>, Box<Node>),
    Predicate(Box<Node>, Box<Node>),
    GroupBy(Box<Node>, Vec<(Node, Node)>),
    OrderBy(Box<Node>, Vec<SortTerm>),
    FocusBind(Box<Node>, String),
    IndexBind(Box<Node>, String),
    // Only after processing.
    Path(Vec<Node>),
    Bind {
        name: String,
        value: Box<Node>,
    },
    Apply {
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Sort(Vec<SortTerm>),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    pub position: usize,
    /// `[]` after a step: keep singleton arrays.
    pub keep_array: bool,
    /// Predicates on a step of a path (with index stages).
    pub stages: Vec<Stage>,
    /// Predicates on an expression that is not a path step.
    pub predicate: Vec<Stage>,
    pub group: Option<Box<Group>>,
    pub focus: Option<String>,
    pub index: Option<String>,
    /// The step takes part in a tuple stream (focus, index or parent bindings).
    pub tuple: bool,
    pub ancestor: Option<Slot>,
    /// An array constructor at the start or end of a path: it is not flattened.
    pub cons_array: bool,
    pub keep_singleton_array: bool,
    pub seeking_parent: Vec<Slot>,
}

impl Node {
    pub fn new(kind: Kind, position: usize) -> Node {
        Node {
            kind,
            position,
            keep_array: false,
            stages: Vec::new(),
            predicate: Vec::new(),
            group: None,
            focus: None,
            index: None,
            tuple: false,
            ancestor: None,
            cons_array: false,
            keep_singleton_array: false,
            seeking_parent: Vec::new(),
        }
    }

    /// The reference's type name, for error tokens.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Str(_) => "string",
            Kind::Number(_) => "number",
            Kind::True | Kind::False | Kind::Null => "value",
            Kind::Name(_) => "name",
            Kind::Variable(_) => "variable",
            Kind::Regex(_) => "regex",
            Kind::Wildcard => "wildcard",
            Kind::Descendant => "descendant",
            Kind::Parent(_) => "parent",
            Kind::Placeholder => "operator",
            Kind::Condition { .. } => "condition",
            Kind::Block(_) => "block",
            Kind::Function { .. } => "function",
            Kind::Partial { .. } => "partial",
            Kind::Lambda(_) => "lambda",
            Kind::Transform(_) => "transform",
            Kind::Path(_) => "path",
            Kind::Bind { .. } => "bind",
            Kind::Apply { .. } => "apply",
            Kind::Sort(_) => "sort",
            Kind::Negate(_) | Kind::Array(_) | Kind::Object(_) => "unary",
            _ => "binary",
        }
    }

    /// The token an error about this node names.
    pub fn token_text(&self) -> String {
        match &self.kind {
            Kind::Str(s) => s.to_string(),
            Kind::Number(n) => crate::number::js_string(*n),
            Kind::True => "true".into(),
            Kind::False => "false".into(),
            Kind::Null => "null".into(),
            Kind::Name(n) | Kind::Variable(n) => n.clone(),
            Kind::Path(steps) => steps.first().map(Node::token_text).unwrap_or_default(),
            _ => String::new(),
        }
    }
}

/// Collects the names of the variables an expression mentions.
pub fn variables(node: &Node, out: &mut std::collections::BTreeSet<String>) {
    if let Kind::Variable(v) = &node.kind {
        out.insert(v.clone());
    }
    for child in children(node) {
        variables(child, out);
    }
}

/// A node's direct sub-expressions.
fn children(node: &Node) -> Vec<&Node> {
    let mut c: Vec<&Node> = Vec::new();
    match &node.kind {
        Kind::Binary { lhs, rhs, .. } | Kind::Apply { lhs, rhs } | Kind::Dot(lhs, rhs) | Kind::Predicate(lhs, rhs) => {
            c.push(lhs);
            c.push(rhs);
        }
        Kind::Negate(e) | Kind::Bind { value: e, .. } | Kind::FocusBind(e, _) | Kind::IndexBind(e, _) => c.push(e),
        Kind::Array(items) | Kind::Block(items) | Kind::Path(items) => c.extend(items),
        Kind::Object(pairs) | Kind::GroupBy(_, pairs) => pairs.iter().for_each(|(k, v)| c.extend([k, v])),
        Kind::Condition { condition, then, otherwise } => {
            c.extend([&**condition, &**then]);
            c.extend(otherwise.as_deref());
        }
        Kind::Function { procedure, args } | Kind::Partial { procedure, args } => {
            c.push(procedure);
            c.extend(args);
        }
        Kind::Lambda(l) => c.push(&l.body),
        Kind::Transform(t) => {
            c.extend([&t.pattern, &t.update]);
            c.extend(t.delete.as_ref());
        }
        Kind::OrderBy(e, terms) => {
            c.push(e);
            c.extend(terms.iter().map(|t| &t.expression));
        }
        Kind::Sort(terms) => c.extend(terms.iter().map(|t| &t.expression)),
        _ => {}
    }
    if let Kind::GroupBy(e, _) = &node.kind {
        c.push(e);
    }
    for stage in node.stages.iter().chain(&node.predicate) {
        if let Stage::Filter(p) = stage {
            c.push(p);
        }
    }
    if let Some(g) = &node.group {
        g.pairs.iter().for_each(|(k, v)| c.extend([k, v]));
    }
    c
}
