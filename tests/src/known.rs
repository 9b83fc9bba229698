//! Checked-in lists of known failures. Each line: `name  # reason`.
//! A listed case that passes is an error too, so the lists only shrink.

use std::collections::BTreeMap;
use std::path::Path;

pub fn load(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line
            .split_once('#')
            .ok_or_else(|| anyhow::anyhow!("{}:{}: every known failure needs a '# reason'", path.display(), n + 1))?;
        out.insert(name.trim().to_string(), reason.trim().to_string());
    }
    Ok(out)
}

/// Compares the failures found with the list; returns the complaints.
pub fn check(known: &BTreeMap<String, String>, ran: &[String], failed: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, why) in failed {
        if !known.contains_key(name) {
            problems.push(format!("NEW FAILURE {name}: {why}"));
        }
    }
    for name in ran {
        if known.contains_key(name) && !failed.contains_key(name) {
            problems.push(format!("NOW PASSES (remove it from the known-failures list) {name}"));
        }
    }
    problems
}
