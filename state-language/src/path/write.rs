//! Writing through a reference path (ResultPath and friends).

use serde_json::{Map, Value};

use super::{Path, Segment, Selector};

/// Why a reference path cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unable to apply ResultPath '{path}' to input: {reason}")]
pub struct WriteError {
    pub path: String,
    pub reason: String,
}

impl Path {
    /// Returns `doc` with `value` stored at this reference path, creating
    /// missing objects on the way. `$` replaces the whole document.
    pub fn write(&self, doc: Value, value: Value) -> Result<Value, WriteError> {
        let mut doc = doc;
        let err = |reason: String| WriteError { path: self.text.clone(), reason };
        let mut slot = &mut doc;
        for seg in &self.segments {
            match seg {
                Segment::Child(Selector::Name(n)) => {
                    if !slot.is_object() {
                        if slot.is_null() {
                            *slot = Value::Object(Map::new());
                        } else {
                            return Err(err(format!("cannot set field '{n}' on a {}", crate::json::type_name(slot))));
                        }
                    }
                    let Value::Object(m) = slot else { unreachable!("made an object above") };
                    slot = m.entry(n.clone()).or_insert(Value::Null);
                }
                Segment::Child(Selector::Index(i)) => {
                    let Value::Array(a) = slot else {
                        return Err(err(format!("cannot index a {}", crate::json::type_name(slot))));
                    };
                    let len = a.len() as i64;
                    let j = if *i < 0 { len + i } else { *i };
                    if !(0..len).contains(&j) {
                        return Err(err(format!("index {i} is out of bounds")));
                    }
                    slot = &mut a[j as usize];
                }
                _ => return Err(err("not a reference path".into())),
            }
        }
        *slot = value;
        Ok(doc)
    }
}
