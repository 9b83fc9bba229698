//! Whole-machine checks: every state reachable, some state terminal.

use super::build::Builder;
use super::code;
use crate::definition::{Kind, State, StateId};

pub(super) fn check(b: &mut Builder, states: &[State], start: StateId, at: &str) {
    if states.is_empty() {
        return;
    }
    let mut seen = vec![false; states.len()];
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        if i >= states.len() || std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let s = &states[i];
        stack.extend(s.next);
        stack.extend(s.catch.iter().map(|c| c.next));
        if let Kind::Choice { rules, default } = &s.kind {
            stack.extend(rules.iter().map(|b| b.next));
            stack.extend(*default);
        }
    }
    for (i, s) in states.iter().enumerate() {
        if !seen[i] {
            let loc = format!("{at}/States/{}", super::escape_pointer(&s.name));
            b.err(code::UNREACHABLE, &loc, format!("State '{}' is not reachable", s.name));
        }
    }
    let terminal = states.iter().any(|s| s.next.is_none() && !matches!(s.kind, Kind::Choice { .. }));
    if !terminal {
        b.err(code::NO_TERMINAL, at, "No terminal state: the machine has no state with 'End', Succeed or Fail");
    }
}
