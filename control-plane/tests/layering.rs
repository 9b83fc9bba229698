//! The control plane's layers import one way: `store` ← `engine` ← `api` ←
//! `server`/`handlers`, with `model`, `clock`, `aws_error` and `telemetry`
//! beneath the engine. Checked on the sources, so a cycle cannot creep back.

use std::path::{Path, PathBuf};

/// (files or folders under `src/`, modules they must not use).
const RULES: [(&[&str], &[&str]); 5] = [
    (&["store"], &["engine", "api", "server", "handlers", "sim", "model", "client_cli"]),
    (
        &["engine", "model.rs", "clock.rs", "aws_error.rs", "telemetry"],
        &["api", "server", "handlers", "sim", "client_cli", "listener", "banner"],
    ),
    (&["api", "auth.rs"], &["server", "handlers", "sim", "client_cli", "banner"]),
    (&["model.rs", "clock.rs", "aws_error.rs", "telemetry"], &["engine"]),
    // Schedules' rules are pure: the engine stores and fires them.
    (&["schedules"], &["engine", "api", "server", "handlers", "sim", "client_cli", "store", "clock"]),
];

fn rust_files(p: &Path) -> Vec<PathBuf> {
    if p.is_file() {
        return vec![p.to_path_buf()];
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).expect("a source folder") {
        let path = e.expect("an entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out
}

#[test]
fn layers_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (places, forbidden) in RULES {
        for file in places.iter().flat_map(|p| rust_files(&src.join(p))) {
            let text = std::fs::read_to_string(&file).expect("readable");
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue; // doc links may point anywhere
                }
                for m in forbidden {
                    if code.contains(&format!("crate::{m}::")) || code.contains(&format!("crate::{m};")) {
                        broken.push(format!("{}:{}: uses crate::{m}", file.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "imports against the layering:\n{}", broken.join("\n"));
}

/// Handlers take a typed request shape (`api/shapes/requests.rs`), never the raw JSON body.
#[test]
fn api_handlers_take_typed_requests() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut untyped = Vec::new();
    for file in rust_files(&api) {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            let is_handler = line.contains("fn ") && line.contains("(engine: &Engine, r: ");
            if is_handler && !line.contains("r: rq::") && !line.contains("r: &impl Paged") {
                untyped.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(untyped.is_empty(), "handlers taking an untyped request:\n{}", untyped.join("\n"));
}
