//! Helpers for the project-level tests: locating `../shared`, comparing
//! outcomes with AWS's recorded ones, and known-failure lists that only shrink.

pub mod compare;
pub mod engine;
pub mod history;
pub mod known;
pub mod otlp;

use std::path::PathBuf;

/// `../shared` beside the workspace (override with `STEPWISE_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    if let Ok(d) = std::env::var("STEPWISE_SHARED_DIR") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// JSON files of a folder, sorted by name.
pub fn json_files(dir: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    Ok(out)
}
