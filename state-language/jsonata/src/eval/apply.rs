//! Calling functions: signatures, lambdas with tail calls trampolined,
//! partial application, `~>`, and transforms.

use std::collections::HashMap;
use std::rc::Rc;

use super::Evaluator;
use crate::ast::{Kind, Lambda, Node, Transform};
use crate::error::{Error, Result};
use crate::value::{FrameId, Function, Object, Value};

impl Evaluator {
    pub(super) fn call(
        &mut self,
        node: &Node,
        procedure: &Node,
        args: &[Node],
        input: &Value,
        env: FrameId,
        applied_to: Option<Value>,
    ) -> Result<Value> {
        let proc = self.evaluate(procedure, input, env)?;
        let name = procedure_name(procedure);
        if proc.is_undefined() && self.forgot_dollar(procedure, env) {
            return Err(Error::new("T1005").at(node.position).token(name));
        }
        let mut values = Vec::with_capacity(args.len() + 1);
        values.extend(applied_to);
        for a in args {
            values.push(self.evaluate(a, input, env)?);
        }
        self.apply(&proc, values, input, env).map_err(|e| e.locate(node.position, &name))
    }

    /// `undefined()` where `name` is a bound function: the `$` was forgotten.
    fn forgot_dollar(&self, procedure: &Node, env: FrameId) -> bool {
        match &procedure.kind {
            Kind::Path(steps) => match steps.first().map(|s| &s.kind) {
                Some(Kind::Name(n)) => !self.lookup(env, n).is_undefined(),
                _ => false,
            },
            _ => false,
        }
    }

    pub fn apply(&mut self, proc: &Value, args: Vec<Value>, input: &Value, env: FrameId) -> Result<Value> {
        let mut result = self.apply_inner(proc, args, input, env)?;
        // The trampoline: a tail call comes back as a thunk to run here.
        while let Value::Function(f) = &result {
            let Function::Lambda { def, input: thunk_input, env: thunk_env } = &**f else { break };
            if !def.thunk {
                break;
            }
            let Kind::Function { procedure, args } = &def.body.kind else { break };
            let (thunk_input, thunk_env) = (thunk_input.clone(), *thunk_env);
            let next = self.evaluate(procedure, &thunk_input, thunk_env)?;
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push(self.evaluate(a, &thunk_input, thunk_env)?);
            }
            let name = procedure_name(procedure);
            let position = procedure.position;
            result = self.apply_inner(&next, values, input, env).map_err(|e| e.locate(position, &name))?;
        }
        Ok(result)
    }

    fn apply_inner(&mut self, proc: &Value, args: Vec<Value>, input: &Value, env: FrameId) -> Result<Value> {
        let Value::Function(f) = proc else { return Err(Error::new("T1006")) };
        match &**f {
            Function::Lambda { def, input: captured, env: closure } => {
                let args = match &def.signature {
                    Some(sig) => sig.validate(&args, input)?,
                    None => args,
                };
                let frame = self.new_frame(*closure)?;
                for (i, p) in def.params.iter().enumerate() {
                    self.bind(frame, p, args.get(i).cloned().unwrap_or_default());
                }
                self.evaluate(&def.body, captured, frame)
            }
            Function::Builtin(b) => {
                let args = b.signature.validate(&args, input)?;
                let result = (b.imp)(self, &args, input, env)?;
                self.charge_value(&result)?;
                Ok(result)
            }
            Function::Partial { function, args: bound } => {
                let mut supplied = args.into_iter();
                let filled: Vec<Value> =
                    bound.iter().map(|b| b.clone().unwrap_or_else(|| supplied.next().unwrap_or_default())).collect();
                self.apply_inner(function, filled, &Value::Undefined, env)
            }
            Function::Regex(p) => {
                let s = args.first().cloned().unwrap_or_default();
                match s {
                    Value::String(s) => crate::regex::match_object(self, p, &s, 0),
                    _ => Ok(Value::Undefined),
                }
            }
            Function::Transform { def, env: closure } => {
                let obj = args.into_iter().next().unwrap_or_default();
                if !matches!(obj, Value::Undefined | Value::Object(_) | Value::Array(_)) {
                    let sig = crate::signature::Signature::parse("<(oa):o>")?;
                    sig.validate(&[obj], input)?;
                    return Ok(Value::Undefined);
                }
                self.transform(def, *closure, obj)
            }
            Function::Chain(g_of, then) => {
                let first = self.apply(g_of, args, input, env)?;
                self.apply(then, vec![first], input, env)
            }
        }
    }

    pub(super) fn partial(
        &mut self,
        node: &Node,
        procedure: &Node,
        args: &[Node],
        input: &Value,
        env: FrameId,
    ) -> Result<Value> {
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(match a.kind {
                Kind::Placeholder => None,
                _ => Some(self.evaluate(a, input, env)?),
            });
        }
        let proc = self.evaluate(procedure, input, env)?;
        let name = procedure_name(procedure);
        if proc.is_undefined() && self.forgot_dollar(procedure, env) {
            return Err(Error::new("T1007").at(node.position).token(name));
        }
        let Value::Function(f) = &proc else {
            return Err(Error::new("T1008").at(node.position).token(name));
        };
        match &**f {
            Function::Lambda { def, input: captured, env: closure } => {
                let frame = self.new_frame(*closure)?;
                let mut unbound = Vec::new();
                for (i, p) in def.params.iter().enumerate() {
                    match values.get(i) {
                        Some(None) => unbound.push(p.clone()),
                        Some(Some(v)) => self.bind(frame, p, v.clone()),
                        None => self.bind(frame, p, Value::Undefined),
                    }
                }
                let def = Lambda { params: unbound, signature: None, body: def.body.clone(), thunk: false };
                Ok(Value::Function(Rc::new(Function::Lambda {
                    def: std::sync::Arc::new(def),
                    input: captured.clone(),
                    env: frame,
                })))
            }
            _ => {
                // A built-in's declared parameters beyond those given stay undefined.
                let arity = crate::functions::arity(&proc).max(values.len());
                values.resize(arity, Some(Value::Undefined));
                Ok(Value::Function(Rc::new(Function::Partial { function: proc.clone(), args: values })))
            }
        }
    }

    pub(super) fn apply_expression(
        &mut self,
        node: &Node,
        lhs: &Node,
        rhs: &Node,
        input: &Value,
        env: FrameId,
    ) -> Result<Value> {
        let l = self.evaluate(lhs, input, env)?;
        if let Kind::Function { procedure, args } = &rhs.kind {
            return self.call(rhs, procedure, args, input, env, Some(l));
        }
        let func = self.evaluate(rhs, input, env)?;
        if !func.is_function() {
            return Err(Error::new("T2006").at(node.position).value(crate::number::stringify(&func, false)));
        }
        if l.is_function() {
            return Ok(Value::Function(Rc::new(Function::Chain(l, func))));
        }
        self.apply(&func, vec![l], &Value::Null, env)
    }

    /// `| pattern | update, delete |` on a copy of `obj`: the matched objects
    /// are found by identity in the copy, then the copy is rebuilt with them changed.
    fn transform(&mut self, def: &Transform, env: FrameId, obj: Value) -> Result<Value> {
        if obj.is_undefined() {
            return Ok(Value::Undefined);
        }
        let clone = self.lookup(env, "clone");
        if !clone.is_function() {
            return Err(Error::new("T2013").at(def.pattern.position));
        }
        let copy = self.apply(&clone, vec![obj], &Value::Null, env)?;
        let matches = self.evaluate(&def.pattern, &copy, env)?;
        let mut changes: HashMap<usize, (Option<Object>, Vec<String>)> = HashMap::new();
        for m in matches.members() {
            let Value::Object(o) = &m else { continue };
            let update = self.evaluate(&def.update, &m, env)?;
            let update = match update {
                Value::Undefined => None,
                Value::Object(u) => Some((*u).clone()),
                other => {
                    return Err(Error::new("T2011")
                        .at(def.update.position)
                        .value(crate::number::stringify(&other, false)));
                }
            };
            let mut deletions = Vec::new();
            if let Some(d) = &def.delete {
                let del = self.evaluate(d, &m, env)?;
                if !del.is_undefined() {
                    for v in del.members() {
                        match v {
                            Value::String(s) => deletions.push(s.to_string()),
                            _ => {
                                return Err(Error::new("T2012")
                                    .at(d.position)
                                    .value(crate::number::stringify(&del, false)));
                            }
                        }
                    }
                }
            }
            let entry = changes.entry(Rc::as_ptr(o) as usize).or_insert((None, Vec::new()));
            if let Some(u) = update {
                entry.0.get_or_insert_with(Object::new).extend(u);
            }
            entry.1.extend(deletions);
        }
        Ok(rebuild(&copy, &changes))
    }
}

fn rebuild(v: &Value, changes: &HashMap<usize, (Option<Object>, Vec<String>)>) -> Value {
    if changes.is_empty() {
        return v.clone();
    }
    match v {
        Value::Object(o) => {
            let mut out: Object = o.iter().map(|(k, v)| (k.clone(), rebuild(v, changes))).collect();
            if let Some((update, deletions)) = changes.get(&(Rc::as_ptr(o) as usize)) {
                if let Some(u) = update {
                    for (k, v) in u {
                        out.insert(k.clone(), v.clone());
                    }
                }
                for d in deletions {
                    out.shift_remove(d);
                }
            }
            Value::object(out)
        }
        Value::Array(a) => {
            let items = a.items.iter().map(|i| rebuild(i, changes)).collect();
            Value::Array(Rc::new(crate::value::Array { items, ..(**a).clone() }))
        }
        v => v.clone(),
    }
}

/// The name errors give a called procedure.
fn procedure_name(procedure: &Node) -> String {
    match &procedure.kind {
        Kind::Path(steps) => steps.first().map(Node::token_text).unwrap_or_default(),
        _ => procedure.token_text(),
    }
}
