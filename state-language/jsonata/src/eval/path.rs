//! Paths: steps over sequences, tuple streams for `@`/`#`/`%` bindings,
//! predicates, sorting and grouping.

use std::rc::Rc;

use indexmap::IndexMap;

use super::{Evaluator, tuple_focus, tuple_with};
use crate::ast::{Kind, Node, SortTerm, Stage};
use crate::error::{Error, Result};
use crate::value::{Array, FrameId, Object, Value, append};

fn tuple_stream(items: Vec<Value>) -> Value {
    Value::Array(Rc::new(Array { items, sequence: true, tuple_stream: true, ..Array::default() }))
}

impl Evaluator {
    pub(super) fn path(&mut self, node: &Node, steps: &[Node], input: &Value, env: FrameId) -> Result<Value> {
        let first_is_variable = steps.first().is_some_and(|s| matches!(s.kind, Kind::Variable(_)));
        let mut input_seq = match input {
            Value::Array(_) if !first_is_variable => input.clone(),
            v => Value::sequence(vec![v.clone()]),
        };
        let mut result_seq = Value::Undefined;
        let mut is_tuple = false;
        let mut tuples: Option<Value> = None;
        for (i, step) in steps.iter().enumerate() {
            if step.tuple {
                is_tuple = true;
            }
            if i == 0 && step.cons_array {
                result_seq = self.evaluate(step, &input_seq, env)?;
            } else if is_tuple {
                tuples = Some(self.tuple_step(step, &input_seq, tuples, env)?);
            } else {
                result_seq = self.step(step, &input_seq, env, i == steps.len() - 1)?;
            }
            let empty = match &result_seq {
                Value::Undefined => true,
                Value::Array(a) => a.items.is_empty(),
                _ => false,
            };
            if !is_tuple && empty {
                break;
            }
            if step.focus.is_none() {
                input_seq = result_seq.clone();
            }
        }
        if is_tuple {
            let t = tuples.clone().unwrap_or_else(|| tuple_stream(Vec::new()));
            result_seq = if node.tuple { t } else { Value::sequence(t.members().iter().map(tuple_focus).collect()) };
        }
        if node.keep_singleton_array {
            if let Value::Array(a) = &result_seq
                && a.cons
                && !a.sequence
            {
                result_seq = Value::sequence(vec![result_seq.clone()]);
            }
            result_seq = result_seq.with_flags(|a| a.keep_singleton = true);
        }
        if let Some(g) = &node.group {
            let on = if is_tuple { tuples.unwrap_or_else(|| tuple_stream(Vec::new())) } else { result_seq };
            result_seq = self.group(&g.pairs, g.position, on, env)?;
        }
        Ok(result_seq)
    }

    fn step(&mut self, step: &Node, input: &Value, env: FrameId, last: bool) -> Result<Value> {
        if let Kind::Sort(terms) = &step.kind {
            let sorted = self.sort(step, terms, input.clone(), env)?;
            return self.stages(&step.stages, sorted, env);
        }
        let mut results = Vec::new();
        let items = match input {
            Value::Array(a) => a.items.as_slice(),
            Value::Undefined => &[],
            v => std::slice::from_ref(v),
        };
        for item in items {
            let mut res = self.evaluate(step, item, env)?;
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    res = self.filter(p, res, env)?;
                }
            }
            if !res.is_undefined() {
                results.push(res);
            }
        }
        if last && results.len() == 1 && matches!(&results[0], Value::Array(a) if !a.sequence) {
            return Ok(results.pop().unwrap_or_default());
        }
        // Nothing to flatten (the common case): the results are the sequence.
        if !results.iter().any(|r| matches!(r, Value::Array(a) if !a.cons)) {
            self.charge(results.len())?;
            return Ok(Value::sequence(results));
        }
        let mut out = Vec::with_capacity(results.len());
        for res in results {
            match res {
                Value::Array(a) if !a.cons => out.extend(a.items.iter().cloned()),
                v => out.push(v),
            }
        }
        self.charge(out.len())?;
        Ok(Value::sequence(out))
    }

    fn stages(&mut self, stages: &[Stage], input: Value, env: FrameId) -> Result<Value> {
        let mut result = input;
        for stage in stages {
            match stage {
                Stage::Filter(p) => result = self.filter(p, result, env)?,
                Stage::Index(name) => {
                    let items: Vec<Value> = result
                        .members()
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            tuple_with(t, |o| {
                                o.insert(name.clone(), Value::Number(i as f64));
                            })
                        })
                        .collect();
                    let stream = result.as_array().is_some_and(|a| a.tuple_stream);
                    result = if stream { tuple_stream(items) } else { Value::sequence(items) };
                }
            }
        }
        Ok(result)
    }

    fn tuple_step(&mut self, step: &Node, input: &Value, tuples: Option<Value>, env: FrameId) -> Result<Value> {
        if let Kind::Sort(terms) = &step.kind {
            let result = match tuples {
                Some(t) => self.sort(step, terms, t, env)?,
                None => {
                    let sorted = self.sort(step, terms, input.clone(), env)?;
                    let items = sorted
                        .members()
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let mut o = Object::new();
                            o.insert("@".into(), v);
                            if let Some(name) = &step.index {
                                o.insert(name.clone(), Value::Number(i as f64));
                            }
                            Value::object(o)
                        })
                        .collect();
                    tuple_stream(items)
                }
            };
            return self.stages(&step.stages, result, env);
        }
        let tuples = match tuples {
            Some(t) => t.members(),
            None => input
                .members()
                .into_iter()
                .map(|v| {
                    let mut o = Object::new();
                    o.insert("@".into(), v);
                    Value::object(o)
                })
                .collect(),
        };
        let mut out = Vec::new();
        for tuple in &tuples {
            let step_env = self.frame_from_tuple(env, tuple)?;
            let focus = tuple_focus(tuple);
            let res = self.evaluate(step, &focus, step_env)?;
            if res.is_undefined() {
                continue;
            }
            let res_is_stream = res.as_array().is_some_and(|a| a.tuple_stream);
            for (bb, r) in res.members().into_iter().enumerate() {
                let t = tuple_with(tuple, |o| {
                    if res_is_stream {
                        if let Value::Object(ro) = &r {
                            for (k, v) in ro.iter() {
                                o.insert(k.clone(), v.clone());
                            }
                        }
                        return;
                    }
                    match &step.focus {
                        Some(f) => {
                            o.insert(f.clone(), r.clone());
                            o.insert("@".into(), focus.clone());
                        }
                        None => {
                            o.insert("@".into(), r.clone());
                        }
                    }
                    if let Some(i) = &step.index {
                        o.insert(i.clone(), Value::Number(bb as f64));
                    }
                    if let Some(a) = &step.ancestor {
                        o.insert(crate::ast::lock(a).label.clone(), focus.clone());
                    }
                });
                out.push(t);
            }
        }
        self.stages(&step.stages, tuple_stream(out), env)
    }

    pub(super) fn filter(&mut self, predicate: &Node, input: Value, env: FrameId) -> Result<Value> {
        let stream = input.as_array().is_some_and(|a| a.tuple_stream);
        let items = match &input {
            Value::Array(a) => a.items.clone(),
            v => vec![v.clone()],
        };
        let mut out = Vec::new();
        if let Kind::Number(n) = predicate.kind {
            let len = items.len() as f64;
            let mut index = n.floor();
            if index < 0.0 {
                index += len;
            }
            if index >= 0.0
                && let Some(item) = items.get(index as usize).filter(|i| !i.is_undefined())
            {
                if item.is_array() {
                    return Ok(item.clone());
                }
                out.push(item.clone());
            }
        } else {
            let len = items.len() as f64;
            for (index, item) in items.iter().enumerate() {
                let (context, item_env) =
                    if stream { (tuple_focus(item), self.frame_from_tuple(env, item)?) } else { (item.clone(), env) };
                let res = self.evaluate(predicate, &context, item_env)?;
                let numbers: Option<Vec<f64>> = match &res {
                    Value::Number(_) => res.as_number()?.map(|n| vec![n]),
                    Value::Array(a) => {
                        let mut ns = Vec::with_capacity(a.items.len());
                        for v in &a.items {
                            match v.as_number()? {
                                Some(n) => ns.push(n),
                                None => break,
                            }
                        }
                        (ns.len() == a.items.len()).then_some(ns)
                    }
                    _ => None,
                };
                match numbers {
                    Some(ns) => {
                        for n in ns {
                            let mut ii = n.floor();
                            if ii < 0.0 {
                                ii += len;
                            }
                            if ii == index as f64 {
                                out.push(item.clone());
                            }
                        }
                    }
                    None => {
                        if crate::functions::boolean(&res)? == Some(true) && !item.is_undefined() {
                            out.push(item.clone());
                        }
                    }
                }
            }
        }
        Ok(if stream { tuple_stream(out) } else { Value::sequence(out) })
    }

    pub(super) fn group(
        &mut self,
        pairs: &[(Node, Node)],
        position: usize,
        input: Value,
        env: FrameId,
    ) -> Result<Value> {
        let reduce = input.as_array().is_some_and(|a| a.tuple_stream);
        let mut items = match &input {
            Value::Array(a) => a.items.clone(),
            v => vec![v.clone()],
        };
        if items.is_empty() {
            items.push(Value::Undefined);
        }
        let mut groups: IndexMap<String, (Value, usize)> = IndexMap::new();
        for item in &items {
            let item_env = if reduce { self.frame_from_tuple(env, item)? } else { env };
            let context = if reduce { tuple_focus(item) } else { item.clone() };
            for (pi, (key_expr, _)) in pairs.iter().enumerate() {
                let key = self.evaluate(key_expr, &context, item_env)?;
                let key = match key {
                    Value::Undefined => continue,
                    Value::String(s) => s.to_string(),
                    other => {
                        return Err(Error::new("T1003").at(position).value(crate::number::stringify(&other, false)));
                    }
                };
                match groups.get_mut(&key) {
                    Some((data, index)) => {
                        if *index != pi {
                            return Err(Error::new("D1009")
                                .at(position)
                                .value(crate::number::stringify(&Value::string(&key), false)));
                        }
                        *data = append(std::mem::take(data), item.clone());
                    }
                    None => {
                        groups.insert(key, (item.clone(), pi));
                    }
                }
            }
        }
        let mut result = Object::new();
        for (key, (data, pi)) in groups {
            let (context, value_env) = if reduce {
                let tuple = reduce_tuples(&data);
                let context = tuple_focus(&tuple);
                let bindings = tuple_with(&tuple, |o| {
                    o.shift_remove("@");
                });
                (context, self.frame_from_tuple(env, &bindings)?)
            } else {
                (data, env)
            };
            let v = self.evaluate(&pairs[pi].1, &context, value_env)?;
            if !v.is_undefined() {
                result.insert(key, v);
            }
        }
        self.charge(super::object_cells(result.len()))?;
        Ok(Value::object(result))
    }

    pub(super) fn sort(&mut self, node: &Node, terms: &[SortTerm], input: Value, env: FrameId) -> Result<Value> {
        let items = match &input {
            Value::Undefined => return Ok(Value::Undefined),
            Value::Array(a) => a.items.clone(),
            v => return Ok(v.clone()),
        };
        if items.len() <= 1 {
            return Ok(input);
        }
        let stream = input.as_array().is_some_and(|a| a.tuple_stream);
        // Each item's sort keys, computed once (the reference computes them per comparison, to the same effect).
        let mut keyed = Vec::with_capacity(items.len());
        for item in items {
            let (context, item_env) =
                if stream { (tuple_focus(&item), self.frame_from_tuple(env, &item)?) } else { (item.clone(), env) };
            let mut keys = Vec::with_capacity(terms.len());
            for t in terms {
                keys.push(self.evaluate(&t.expression, &context, item_env)?);
            }
            keyed.push((keys, item));
        }
        let mut error = None;
        let sorted = crate::functions::merge_sort(keyed, &mut |a, b| {
            if error.is_some() {
                return false;
            }
            match compare_keys(node, terms, &a.0, &b.0) {
                Ok(swap) => swap,
                Err(e) => {
                    error = Some(e);
                    false
                }
            }
        });
        if let Some(e) = error {
            return Err(e);
        }
        let items = sorted.into_iter().map(|(_, v)| v).collect();
        Ok(if stream { tuple_stream(items) } else { Value::array(items) })
    }
}

/// The order-by comparator: true when `a` sorts after `b`.
fn compare_keys(node: &Node, terms: &[SortTerm], a: &[Value], b: &[Value]) -> Result<bool> {
    let mut comp = 0;
    for (i, term) in terms.iter().enumerate() {
        if comp != 0 {
            break;
        }
        let (aa, bb) = (&a[i], &b[i]);
        if aa.is_undefined() {
            comp = if bb.is_undefined() { 0 } else { 1 };
            continue;
        }
        if bb.is_undefined() {
            comp = -1;
            continue;
        }
        let comparable = |v: &Value| matches!(v, Value::String(_) | Value::Number(_));
        if !comparable(aa) || !comparable(bb) {
            let bad = if comparable(aa) { bb } else { aa };
            return Err(Error::new("T2008").at(node.position).value(crate::number::stringify(bad, false)));
        }
        let ord = match (aa, bb) {
            (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
            (Value::String(x), Value::String(y)) => Some(crate::functions::js_compare(x, y)),
            _ => {
                return Err(Error::new("T2007")
                    .at(node.position)
                    .value(crate::number::stringify(aa, false))
                    .value2(crate::number::stringify(bb, false)));
            }
        };
        comp = match ord {
            Some(std::cmp::Ordering::Less) => -1,
            Some(std::cmp::Ordering::Greater) => 1,
            _ => 0,
        };
        if term.descending {
            comp = -comp;
        }
    }
    Ok(comp == 1)
}

/// Merges a group's tuples: each binding collects every tuple's value.
fn reduce_tuples(data: &Value) -> Value {
    let Value::Array(a) = data else { return data.clone() };
    let mut result = match a.items.first() {
        Some(Value::Object(o)) => (**o).clone(),
        _ => Object::new(),
    };
    for t in a.items.iter().skip(1) {
        if let Value::Object(o) = t {
            for (k, v) in o.iter() {
                match result.get_mut(k) {
                    Some(slot) => *slot = append(std::mem::take(slot), v.clone()),
                    None => {
                        result.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    Value::object(result)
}
