//! The post-parse stage: `.` chains become paths of steps; predicates,
//! groupings, sorts and `@`/`#` bindings attach to their steps; `%` (parent)
//! references find the step they name; tail calls become thunks.

use std::sync::{Arc, Mutex};

use crate::ast::{Group, Kind, Lambda, Node, Slot, SlotData, SortTerm, Stage, lock};
use crate::error::{Error, Result};

#[derive(Default)]
struct State {
    labels: usize,
    /// Every parent slot, by index.
    ancestry: Vec<Slot>,
}

pub fn process_root(expr: Node) -> Result<Node> {
    let mut st = State::default();
    let e = st.process(expr)?;
    if matches!(e.kind, Kind::Parent(_)) || !e.seeking_parent.is_empty() {
        return Err(Error::new("S0217").at(e.position).token(e.type_name()));
    }
    Ok(e)
}

fn push_ancestry(result: &mut Node, value: &Node) {
    result.seeking_parent.extend(value.seeking_parent.iter().cloned());
    if let Kind::Parent(slot) = &value.kind {
        result.seeking_parent.push(slot.clone());
    }
}

impl State {
    fn seek_parent(&mut self, node: &mut Node, slot: Slot) -> Result<Slot> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                let level = {
                    let mut s = lock(&slot);
                    s.level -= 1;
                    s.level
                };
                if level == 0 {
                    if let Some(existing) = &node.ancestor {
                        let label = lock(existing).label.clone();
                        let index = lock(&slot).index;
                        if let Some(a) = self.ancestry.get(index) {
                            lock(a).label = label;
                        }
                    }
                    node.ancestor = Some(slot.clone());
                    node.tuple = true;
                }
                Ok(slot)
            }
            Kind::Parent(_) => {
                lock(&slot).level += 1;
                Ok(slot)
            }
            Kind::Block(exprs) => {
                if let Some(last) = exprs.last_mut() {
                    node.tuple = true;
                    return self.seek_parent(last, slot);
                }
                Ok(slot)
            }
            Kind::Path(steps) => {
                node.tuple = true;
                let mut index = steps.len() as isize - 1;
                let mut slot = self.seek_parent(&mut steps[index as usize], slot)?;
                index -= 1;
                while lock(&slot).level > 0 && index >= 0 {
                    slot = self.seek_parent(&mut steps[index as usize], slot)?;
                    index -= 1;
                }
                Ok(slot)
            }
            _ => Err(Error::new("S0217").at(node.position).token(node.type_name())),
        }
    }

    fn resolve_ancestry(&mut self, path: &mut Node) -> Result<()> {
        let Kind::Path(steps) = &mut path.kind else { return Ok(()) };
        let last = steps.len() - 1;
        let mut slots: Vec<Slot> = steps[last].seeking_parent.clone();
        if let Kind::Parent(s) = &steps[last].kind {
            slots.push(s.clone());
        }
        let mut escaping = Vec::new();
        for mut slot in slots {
            let mut index = last as isize - 1;
            while lock(&slot).level > 0 {
                if index < 0 {
                    escaping.push(slot.clone());
                    break;
                }
                let mut i = index as usize;
                index -= 1;
                // Contiguous steps that bind the focus are skipped together.
                while index >= 0 && steps[i].focus.is_some() && steps[index as usize].focus.is_some() {
                    i = index as usize;
                    index -= 1;
                }
                slot = self.seek_parent(&mut steps[i], slot)?;
            }
        }
        path.seeking_parent.extend(escaping);
        Ok(())
    }

    fn process(&mut self, expr: Node) -> Result<Node> {
        let keep_array = expr.keep_array;
        let position = expr.position;
        let mut result = match expr.kind {
            Kind::Dot(lhs, rhs) => self.dot(*lhs, *rhs)?,
            Kind::Predicate(lhs, rhs) => {
                let mut result = self.process(*lhs)?;
                let predicate = self.process(*rhs)?;
                let is_path = matches!(result.kind, Kind::Path(_));
                let step = last_step(&mut result);
                if step.group.is_some() {
                    return Err(Error::new("S0209").at(position));
                }
                if !predicate.seeking_parent.is_empty() {
                    for slot in predicate.seeking_parent.clone() {
                        if lock(&slot).level == 1 {
                            self.seek_parent(step, slot)?;
                        } else {
                            lock(&slot).level -= 1;
                        }
                    }
                    push_ancestry(step, &predicate);
                }
                if is_path {
                    step.stages.push(Stage::Filter(predicate));
                } else {
                    step.predicate.push(Stage::Filter(predicate));
                }
                result
            }
            Kind::GroupBy(lhs, pairs) => {
                let mut result = self.process(*lhs)?;
                if result.group.is_some() {
                    return Err(Error::new("S0210").at(position));
                }
                let pairs = self.pairs(pairs, None)?;
                result.group = Some(Box::new(Group { pairs, position }));
                result
            }
            Kind::OrderBy(lhs, terms) => {
                let mut result = self.process(*lhs)?;
                if !matches!(result.kind, Kind::Path(_)) {
                    result = Node::new(Kind::Path(vec![result]), position);
                }
                let mut sort = Node::new(Kind::Sort(Vec::new()), position);
                let mut processed = Vec::new();
                for t in terms {
                    let e = self.process(t.expression)?;
                    push_ancestry(&mut sort, &e);
                    processed.push(SortTerm { descending: t.descending, expression: e });
                }
                sort.kind = Kind::Sort(processed);
                if let Kind::Path(steps) = &mut result.kind {
                    steps.push(sort);
                }
                self.resolve_ancestry(&mut result)?;
                result
            }
            Kind::Bind { name, value } => {
                let value = self.process(*value)?;
                let mut n = Node::new(Kind::Null, position);
                push_ancestry(&mut n, &value);
                n.kind = Kind::Bind { name, value: Box::new(value) };
                n
            }
            Kind::FocusBind(lhs, name) => {
                let mut result = self.process(*lhs)?;
                let step = last_step(&mut result);
                if !step.stages.is_empty() || !step.predicate.is_empty() {
                    return Err(Error::new("S0215").at(position));
                }
                if matches!(step.kind, Kind::Sort(_)) {
                    return Err(Error::new("S0216").at(position));
                }
                if keep_array {
                    step.keep_array = true;
                }
                step.focus = Some(name);
                step.tuple = true;
                result
            }
            Kind::IndexBind(lhs, name) => {
                let mut result = self.process(*lhs)?;
                if !matches!(result.kind, Kind::Path(_)) {
                    let mut step = result;
                    if !step.predicate.is_empty() {
                        step.stages = std::mem::take(&mut step.predicate);
                    }
                    result = Node::new(Kind::Path(vec![step]), position);
                }
                let step = last_step(&mut result);
                if step.stages.is_empty() {
                    step.index = Some(name);
                } else {
                    step.stages.push(Stage::Index(name));
                }
                step.tuple = true;
                result
            }
            Kind::Apply { lhs, rhs } => {
                let lhs = self.process(*lhs)?;
                let rhs = self.process(*rhs)?;
                let keep = lhs.keep_array || rhs.keep_array;
                let mut n = Node::new(Kind::Apply { lhs: Box::new(lhs), rhs: Box::new(rhs) }, position);
                n.keep_array = keep;
                n
            }
            Kind::Binary { op: "~>", lhs, rhs } => {
                return self.process(Node {
                    kind: Kind::Apply { lhs, rhs },
                    keep_array,
                    ..Node::new(Kind::Null, position)
                });
            }
            Kind::Binary { op, lhs, rhs } => {
                let lhs = self.process(*lhs)?;
                let rhs = self.process(*rhs)?;
                let mut n = Node::new(Kind::Null, position);
                push_ancestry(&mut n, &lhs);
                push_ancestry(&mut n, &rhs);
                n.kind = Kind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) };
                n
            }
            Kind::Array(items) => {
                let mut n = Node::new(Kind::Null, position);
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    let v = self.process(i)?;
                    push_ancestry(&mut n, &v);
                    out.push(v);
                }
                n.kind = Kind::Array(out);
                n
            }
            Kind::Object(pairs) => {
                let mut n = Node::new(Kind::Null, position);
                let pairs = self.pairs(pairs, Some(&mut n))?;
                n.kind = Kind::Object(pairs);
                n
            }
            Kind::Negate(e) => {
                let inner = self.process(*e)?;
                if let Kind::Number(v) = inner.kind {
                    Node::new(Kind::Number(-v), inner.position)
                } else {
                    let mut n = Node::new(Kind::Null, position);
                    push_ancestry(&mut n, &inner);
                    n.kind = Kind::Negate(Box::new(inner));
                    n
                }
            }
            Kind::Function { procedure, args } => {
                let (procedure, args, n) = self.call(*procedure, args, position)?;
                Node { kind: Kind::Function { procedure: Box::new(procedure), args }, ..n }
            }
            Kind::Partial { procedure, args } => {
                let (procedure, args, n) = self.call(*procedure, args, position)?;
                Node { kind: Kind::Partial { procedure: Box::new(procedure), args }, ..n }
            }
            Kind::Lambda(l) => {
                let l = Arc::try_unwrap(l).unwrap_or_else(|rc| (*rc).clone());
                let body = Arc::try_unwrap(l.body).unwrap_or_else(|rc| (*rc).clone());
                let body = tail_call_optimize(self.process(body)?);
                let lambda = Lambda { params: l.params, signature: l.signature, body: Arc::new(body), thunk: false };
                Node::new(Kind::Lambda(Arc::new(lambda)), position)
            }
            Kind::Condition { condition, then, otherwise } => {
                let mut n = Node::new(Kind::Null, position);
                let c = self.process(*condition)?;
                push_ancestry(&mut n, &c);
                let t = self.process(*then)?;
                push_ancestry(&mut n, &t);
                let o = match otherwise {
                    Some(o) => {
                        let o = self.process(*o)?;
                        push_ancestry(&mut n, &o);
                        Some(Box::new(o))
                    }
                    None => None,
                };
                n.kind = Kind::Condition { condition: Box::new(c), then: Box::new(t), otherwise: o };
                n
            }
            Kind::Transform(t) => {
                let t = Arc::try_unwrap(t).unwrap_or_else(|rc| (*rc).clone());
                let pattern = self.process(t.pattern)?;
                let update = self.process(t.update)?;
                let delete = match t.delete {
                    Some(d) => Some(self.process(d)?),
                    None => None,
                };
                Node::new(Kind::Transform(Arc::new(crate::ast::Transform { pattern, update, delete })), position)
            }
            Kind::Block(exprs) => {
                let mut n = Node::new(Kind::Null, position);
                let mut out = Vec::with_capacity(exprs.len());
                for e in exprs {
                    let part = self.process(e)?;
                    push_ancestry(&mut n, &part);
                    let first_cons = matches!(&part.kind, Kind::Path(s) if s.first().is_some_and(|f| f.cons_array));
                    if part.cons_array || first_cons {
                        n.cons_array = true;
                    }
                    out.push(part);
                }
                n.kind = Kind::Block(out);
                n
            }
            Kind::Name(name) => {
                let mut step = Node::new(Kind::Name(name), position);
                step.keep_array = keep_array;
                let mut path = Node::new(Kind::Path(vec![step]), position);
                path.keep_singleton_array = keep_array;
                path
            }
            Kind::End => return Err(Error::new("S0207").at(position)),
            Kind::Parent(_) => {
                let slot = Arc::new(Mutex::new(SlotData {
                    label: format!("!{}", self.labels),
                    level: 1,
                    index: self.ancestry.len(),
                }));
                self.labels += 1;
                self.ancestry.push(slot.clone());
                Node::new(Kind::Parent(slot), position)
            }
            other => Node::new(other, position),
        };
        if keep_array {
            result.keep_array = true;
        }
        Ok(result)
    }

    fn dot(&mut self, lhs: Node, rhs: Node) -> Result<Node> {
        let position = lhs.position;
        let lstep = self.process(lhs)?;
        let lparent = match &lstep.kind {
            Kind::Parent(s) => Some(s.clone()),
            _ => None,
        };
        let mut result =
            if matches!(lstep.kind, Kind::Path(_)) { lstep } else { Node::new(Kind::Path(vec![lstep]), position) };
        if let Some(s) = lparent {
            result.seeking_parent = vec![s];
        }
        let mut rest = self.process(rhs)?;
        let Kind::Path(steps) = &mut result.kind else { unreachable_path() };
        match rest.kind {
            Kind::Path(more) => steps.extend(more),
            _ => {
                if !rest.predicate.is_empty() {
                    rest.stages = std::mem::take(&mut rest.predicate);
                }
                steps.push(rest);
            }
        }
        for step in steps.iter_mut() {
            match &step.kind {
                Kind::Number(_) | Kind::True | Kind::False | Kind::Null => {
                    return Err(Error::new("S0213").at(step.position).value(step.token_text()));
                }
                Kind::Str(s) => step.kind = Kind::Name(s.to_string()),
                _ => {}
            }
        }
        if steps.iter().any(|s| s.keep_array) {
            result.keep_singleton_array = true;
        }
        if let Some(first) = steps.first_mut()
            && matches!(first.kind, Kind::Array(_))
        {
            first.cons_array = true;
        }
        if let Some(last) = steps.last_mut()
            && matches!(last.kind, Kind::Array(_))
        {
            last.cons_array = true;
        }
        self.resolve_ancestry(&mut result)?;
        Ok(result)
    }

    fn pairs(&mut self, pairs: Vec<(Node, Node)>, mut ancestry: Option<&mut Node>) -> Result<Vec<(Node, Node)>> {
        let mut out = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let k = self.process(k)?;
            if let Some(n) = ancestry.as_deref_mut() {
                push_ancestry(n, &k);
            }
            let v = self.process(v)?;
            if let Some(n) = ancestry.as_deref_mut() {
                push_ancestry(n, &v);
            }
            out.push((k, v));
        }
        Ok(out)
    }

    fn call(&mut self, procedure: Node, args: Vec<Node>, position: usize) -> Result<(Node, Vec<Node>, Node)> {
        let mut n = Node::new(Kind::Null, position);
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            let a = self.process(a)?;
            push_ancestry(&mut n, &a);
            out.push(a);
        }
        let procedure = self.process(procedure)?;
        Ok((procedure, out, n))
    }
}

/// The step a predicate or binding applies to: the last of a path, or the node itself.
fn last_step(node: &mut Node) -> &mut Node {
    if matches!(node.kind, Kind::Path(_)) {
        if let Kind::Path(steps) = &mut node.kind
            && let Some(last) = steps.last_mut()
        {
            return last;
        }
        unreachable_path()
    }
    node
}

fn unreachable_path() -> ! {
    // A path always has a step: every constructor above gives it one.
    panic!("a path without steps")
}

/// A function call in tail position becomes a thunk the trampoline unwinds,
/// so tail-recursive functions run in constant stack.
fn tail_call_optimize(mut expr: Node) -> Node {
    if matches!(expr.kind, Kind::Function { .. }) && expr.predicate.is_empty() {
        let position = expr.position;
        let lambda = Lambda { params: Vec::new(), signature: None, body: Arc::new(expr), thunk: true };
        return Node::new(Kind::Lambda(Arc::new(lambda)), position);
    }
    expr.kind = match std::mem::replace(&mut expr.kind, Kind::Null) {
        Kind::Condition { condition, then, otherwise } => Kind::Condition {
            condition,
            then: Box::new(tail_call_optimize(*then)),
            otherwise: otherwise.map(|o| Box::new(tail_call_optimize(*o))),
        },
        Kind::Block(mut exprs) => {
            if let Some(last) = exprs.pop() {
                exprs.push(tail_call_optimize(last));
            }
            Kind::Block(exprs)
        }
        other => other,
    };
    expr
}
