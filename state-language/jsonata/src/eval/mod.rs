//! The evaluator: a port of the reference's `evaluate` over our values.
//! Frames live in an arena that dies with the evaluation, so closures that
//! refer to themselves (recursive functions) leak nothing.

mod apply;
mod ops;
mod path;

use std::rc::Rc;

use crate::ast::{Kind, Node, Stage};
use crate::error::{Error, Result};
use crate::value::{FrameId, Function, Object, Value};

/// Stack kept free before the evaluator grows its stack, and the size of
/// each new segment: deep user recursion must not overflow the host's thread.
const STACK_RED_ZONE_BYTES: usize = 256 * 1024;
const STACK_SEGMENT_BYTES: usize = 4 * 1024 * 1024;
/// Evaluation levels between two stack checks.
const STACK_CHECK_EVERY: usize = 8;
/// Frames one evaluation may create (each function call makes one).
pub const FRAMES_MAX: usize = 4_000_000;

/// What an evaluation may use, and what it is given instead of reading the
/// clock or a random source.
#[derive(Debug, Clone)]
pub struct Options {
    /// Nested evaluations (non-tail recursion) before U1001.
    pub depth_max: usize,
    /// Evaluation steps before U1001: bounds loops that never end.
    pub evaluations_max: u64,
    /// `$now()` and `$millis()`, in milliseconds since the epoch.
    pub now_millis: i64,
    /// Seeds `$random()` and `$shuffle()`.
    pub random_seed: u64,
    /// Items the evaluation may build in all (array members, object keys,
    /// 16-byte units of string): an expression bomb ends in U1003, not in
    /// exhausted memory.
    pub cells_max: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            depth_max: 10_000,
            evaluations_max: 50_000_000,
            now_millis: 0,
            random_seed: 0,
            cells_max: 100_000_000,
        }
    }
}

pub(crate) struct Frame {
    vars: Vec<(Rc<str>, Value)>,
    parent: Option<FrameId>,
}

/// What the accounting charges, in 16-byte cells, for allocations measured
/// with the `jsonata_memory` test in `control-plane/tests/hardening`: the
/// cost of one value is its length in cells plus its own allocation.
/// A function frame with a few bindings (its struct, variable list, names).
pub const FRAME_CELLS: usize = 12;
/// An array's own allocation (the `Rc`, flags, and the vector's spare capacity on average).
pub const ARRAY_CELLS: usize = 4;
/// A string's own allocation.
pub const STRING_CELLS: usize = 2;
/// An object's own allocation (the `Rc` and the index map's tables).
pub const OBJECT_CELLS: usize = 6;
/// One object entry: its hash, key string (with its heap part), value and index slot.
pub const OBJECT_ENTRY_CELLS: usize = 8;

/// The cells an object of `entries` entries is charged.
pub fn object_cells(entries: usize) -> usize {
    OBJECT_CELLS + entries.saturating_mul(OBJECT_ENTRY_CELLS)
}

pub struct Evaluator {
    frames: Vec<Frame>,
    depth: usize,
    evaluations: u64,
    cells: u64,
    pub options: Options,
    rng: u64,
}

impl Evaluator {
    pub fn new(options: Options) -> Evaluator {
        let rng = options.random_seed;
        let mut frames = Vec::with_capacity(16);
        frames.push(Frame { vars: Vec::new(), parent: None });
        Evaluator { frames, depth: 0, evaluations: 0, cells: 0, options, rng }
    }

    /// The root frame: bindings given to the evaluation live here.
    pub fn root(&self) -> FrameId {
        0
    }

    pub fn new_frame(&mut self, parent: FrameId) -> Result<FrameId> {
        if self.frames.len() >= FRAMES_MAX {
            return Err(Error::new("U1001").detail("The expression created too many function frames"));
        }
        // Frames live until the evaluation ends: a recursion's memory is theirs.
        self.charge(FRAME_CELLS)?;
        self.frames.push(Frame { vars: Vec::new(), parent: Some(parent) });
        Ok(self.frames.len() - 1)
    }

    /// Counts what a result built against [`Options::cells_max`].
    pub fn charge(&mut self, cells: usize) -> Result<()> {
        self.cells += cells as u64;
        if self.cells > self.options.cells_max {
            let msg = format!("The expression built results larger than its limit of {} items", self.options.cells_max);
            return Err(Error::new("U1003").detail(msg));
        }
        Ok(())
    }

    /// Counts work done outside `evaluate` (a regex scan) as evaluation
    /// steps, against the same [`Options::evaluations_max`].
    pub fn charge_steps(&mut self, steps: u64) -> Result<()> {
        self.evaluations = self.evaluations.saturating_add(steps);
        if self.evaluations > self.options.evaluations_max {
            return Err(Error::new("U1001").detail("The expression took too many evaluation steps"));
        }
        Ok(())
    }

    /// Charges a value just built (one level): what its allocation holds, in cells.
    pub fn charge_value(&mut self, v: &Value) -> Result<()> {
        match v {
            Value::Array(a) => self.charge(ARRAY_CELLS + a.items.len()),
            Value::Object(o) => self.charge(object_cells(o.len())),
            Value::String(s) => self.charge(STRING_CELLS + s.len() / 16),
            _ => Ok(()),
        }
    }

    pub fn bind(&mut self, env: FrameId, name: &str, value: Value) {
        let vars = &mut self.frames[env].vars;
        match vars.iter_mut().find(|(k, _)| &**k == name) {
            Some(slot) => slot.1 = value,
            None => {
                vars.push((Rc::from(name), value));
                // Bindings are small and each frame's are bounded by its parameters;
                // their cost is counted when the frame is (FRAME_CELLS).
            }
        }
    }

    pub fn lookup(&self, env: FrameId, name: &str) -> Value {
        let mut at = Some(env);
        while let Some(f) = at {
            let frame = &self.frames[f];
            if let Some((_, v)) = frame.vars.iter().find(|(k, _)| &**k == name) {
                return v.clone();
            }
            at = frame.parent;
        }
        match crate::functions::lookup(name) {
            Some(b) => Value::Function(Rc::new(Function::Builtin(b))),
            None => Value::Undefined,
        }
    }

    fn frame_from_tuple(&mut self, env: FrameId, tuple: &Value) -> Result<FrameId> {
        let f = self.new_frame(env)?;
        if let Value::Object(o) = tuple {
            for (k, v) in o.iter() {
                self.bind(f, k, v.clone());
            }
        }
        Ok(f)
    }

    /// SplitMix64 from the given seed: the evaluation's only randomness.
    pub fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `$random()`'s numbers in [0, 1).
    pub fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn evaluate(&mut self, node: &Node, input: &Value, env: FrameId) -> Result<Value> {
        self.depth += 1;
        let charged = self.charge_steps(1);
        if self.depth > self.options.depth_max {
            self.depth -= 1;
            return Err(Error::new("U1001").at(node.position));
        }
        if let Err(e) = charged {
            self.depth -= 1;
            return Err(e.at(node.position));
        }
        // Asking for the stack's size costs a little: every few levels is
        // enough, since the red zone is far larger than a few levels use.
        let r = if self.depth.is_multiple_of(STACK_CHECK_EVERY) {
            stacker::maybe_grow(STACK_RED_ZONE_BYTES, STACK_SEGMENT_BYTES, || self.evaluate_node(node, input, env))
        } else {
            self.evaluate_node(node, input, env)
        };
        self.depth -= 1;
        let mut result = r?;
        for stage in &node.predicate {
            if let Stage::Filter(p) = stage {
                result = self.filter(p, result, env)?;
            }
        }
        if !matches!(node.kind, Kind::Path(_))
            && let Some(g) = &node.group
        {
            result = self.group(&g.pairs, g.position, result, env)?;
        }
        if let Value::Array(a) = &result
            && a.sequence
            && !a.tuple_stream
        {
            if node.keep_array {
                result = result.with_flags(|a| a.keep_singleton = true);
            }
            let a = result.as_array().map(|a| (a.items.len(), a.keep_singleton));
            match a {
                Some((0, _)) => return Ok(Value::Undefined),
                Some((1, false)) => return Ok(result.as_array().map(|a| a.items[0].clone()).unwrap_or_default()),
                _ => {}
            }
        }
        Ok(result)
    }

    fn evaluate_node(&mut self, node: &Node, input: &Value, env: FrameId) -> Result<Value> {
        match &node.kind {
            Kind::Path(steps) => self.path(node, steps, input, env),
            Kind::Binary { op, lhs, rhs } => self.binary(node, op, lhs, rhs, input, env),
            Kind::Negate(e) => {
                let v = self.evaluate(e, input, env)?;
                match v {
                    Value::Undefined => Ok(Value::Undefined),
                    v => match v.as_number()? {
                        Some(n) => Ok(Value::Number(-n)),
                        None => Err(Error::new("D1002")
                            .at(node.position)
                            .token("-")
                            .value(crate::number::stringify(&v, false))),
                    },
                }
            }
            Kind::Array(items) => self.array_constructor(node, items, input, env),
            Kind::Object(pairs) => self.group(pairs, node.position, input.clone(), env),
            Kind::Name(name) => Ok(lookup_field(input, name)),
            Kind::Str(s) => Ok(Value::string(s)),
            Kind::Number(n) => Ok(Value::Number(*n)),
            Kind::True => Ok(Value::Bool(true)),
            Kind::False => Ok(Value::Bool(false)),
            Kind::Null => Ok(Value::Null),
            Kind::Wildcard => Ok(wildcard(input)),
            Kind::Descendant => Ok(descendants(input)),
            Kind::Parent(slot) => {
                let label = crate::ast::lock(slot).label.clone();
                Ok(self.lookup(env, &label))
            }
            Kind::Condition { condition, then, otherwise } => {
                let c = self.evaluate(condition, input, env)?;
                if crate::functions::boolean(&c)? == Some(true) {
                    self.evaluate(then, input, env)
                } else if let Some(o) = otherwise {
                    self.evaluate(o, input, env)
                } else {
                    Ok(Value::Undefined)
                }
            }
            Kind::Block(exprs) => {
                let frame = self.new_frame(env)?;
                let mut result = Value::Undefined;
                for e in exprs {
                    result = self.evaluate(e, input, frame)?;
                }
                Ok(result)
            }
            Kind::Bind { name, value } => {
                let v = self.evaluate(value, input, env)?;
                self.bind(env, name, v.clone());
                Ok(v)
            }
            Kind::Regex(p) => Ok(Value::Function(Rc::new(Function::Regex(p.clone())))),
            Kind::Function { procedure, args } => self.call(node, procedure, args, input, env, None),
            Kind::Partial { procedure, args } => self.partial(node, procedure, args, input, env),
            Kind::Variable(name) if name.is_empty() => Ok(match input {
                Value::Array(a) if a.outer_wrapper => a.items.first().cloned().unwrap_or_default(),
                v => v.clone(),
            }),
            Kind::Variable(name) => Ok(self.lookup(env, name)),
            Kind::Lambda(def) => {
                Ok(Value::Function(Rc::new(Function::Lambda { def: def.clone(), input: input.clone(), env })))
            }
            Kind::Apply { lhs, rhs } => self.apply_expression(node, lhs, rhs, input, env),
            Kind::Transform(def) => Ok(Value::Function(Rc::new(Function::Transform { def: def.clone(), env }))),
            Kind::Placeholder | Kind::Sort(_) | Kind::End => Ok(Value::Undefined),
            // Folded away by processing.
            Kind::Dot(..)
            | Kind::Predicate(..)
            | Kind::GroupBy(..)
            | Kind::OrderBy(..)
            | Kind::FocusBind(..)
            | Kind::IndexBind(..) => Err(Error::new("S0206").at(node.position)),
        }
    }

    fn array_constructor(&mut self, node: &Node, items: &[Node], input: &Value, env: FrameId) -> Result<Value> {
        let mut out: Vec<Value> = Vec::new();
        for item in items {
            let v = self.evaluate(item, input, env)?;
            match v {
                Value::Undefined => {}
                v if matches!(item.kind, Kind::Array(_)) => out.push(v),
                Value::Array(a) => out.extend(a.items.iter().cloned()),
                v => out.push(v),
            }
        }
        let cons = node.cons_array;
        self.charge(out.len())?;
        Ok(Value::Array(Rc::new(crate::value::Array { items: out, cons, ..Default::default() })))
    }
}

/// `fn.lookup`: a field of an object, or of each object in an array (flattened).
pub fn lookup_field(input: &Value, key: &str) -> Value {
    match input {
        Value::Array(a) => {
            let mut out = Vec::new();
            for item in &a.items {
                match lookup_field(item, key) {
                    Value::Undefined => {}
                    Value::Array(r) => out.extend(r.items.iter().cloned()),
                    v => out.push(v),
                }
            }
            Value::sequence(out)
        }
        Value::Object(o) => o.get(key).cloned().unwrap_or_default(),
        _ => Value::Undefined,
    }
}

fn flatten_into(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(a) => a.items.iter().for_each(|i| flatten_into(i, out)),
        v => out.push(v.clone()),
    }
}

fn wildcard(input: &Value) -> Value {
    let input = match input {
        Value::Array(a) if a.outer_wrapper && !a.items.is_empty() => &a.items[0],
        v => v,
    };
    let mut out = Vec::new();
    // An array value makes the result a plain array, as `fn.append` does.
    let mut sequence = true;
    // An array is an object whose keys are its indices.
    let values: Vec<&Value> = match input {
        Value::Object(o) => o.values().collect(),
        Value::Array(a) => a.items.iter().collect(),
        _ => Vec::new(),
    };
    for v in values {
        if v.is_array() {
            flatten_into(v, &mut out);
            sequence = false;
        } else {
            out.push(v.clone());
        }
    }
    if sequence { Value::sequence(out) } else { Value::array(out) }
}

fn descendants(input: &Value) -> Value {
    if input.is_undefined() {
        return Value::Undefined;
    }
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(a) => a.items.iter().for_each(|i| walk(i, out)),
            Value::Object(o) => {
                out.push(v.clone());
                o.values().for_each(|i| walk(i, out));
            }
            v => out.push(v.clone()),
        }
    }
    walk(input, &mut out);
    if out.len() == 1 { out.pop().unwrap_or_default() } else { Value::sequence(out) }
}

/// A tuple's `@` (its context value).
fn tuple_focus(t: &Value) -> Value {
    match t {
        Value::Object(o) => o.get("@").cloned().unwrap_or_default(),
        _ => Value::Undefined,
    }
}

fn tuple_with(t: &Value, f: impl FnOnce(&mut Object)) -> Value {
    let mut o = match t {
        Value::Object(o) => (**o).clone(),
        _ => Object::new(),
    };
    f(&mut o);
    Value::object(o)
}
