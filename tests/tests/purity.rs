//! The pure cores, `state-language` (with its JSONata engine),
//! `workflow-core` (code workflows' server side) and the control plane's
//! `model` and `schedules` (source check only: the crate itself does I/O), do no I/O and read no
//! clock, randomness or environment. Two checks: their sources use none of
//! std's effectful APIs, and their dependency closures hold no async
//! runtime, network or AWS crate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates that would let effects in. `getrandom` is reachable only through
/// `ahash` inside `jsonschema` (hash-table seeds while compiling the schema),
/// which never reaches an execution's events or state.
const FORBIDDEN_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "async-std",
    "hyper",
    "reqwest",
    "socket2",
    "rand",
    "rand_core",
    "aws-config",
    "aws-sdk-sfn",
    "aws-sdk-dynamodb",
    "aws-sdk-sqs",
    "aws-smithy-runtime",
    "rusqlite",
    "chrono",
    "uuid",
];

/// Effectful std APIs the source must not name.
const FORBIDDEN_APIS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::env",
    "std::process",
    "std::thread",
    "SystemTime",
    "Instant::now",
    "std::io::stdin",
    "println!",
    "eprintln!",
    "OffsetDateTime::now",
    "Utc::now",
    "Local::now",
    "getrandom",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn source_uses_no_effectful_api() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../state-language/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // The JSONata engine is part of the pure core too.
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../state-language/jsonata/src"), &mut files);
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflow-core/src"), &mut files);
    // The control plane's pure modules: its records and keys, and schedules' rules.
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../control-plane/src/schedules"), &mut files);
    files.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../control-plane/src/model.rs"));
    assert!(files.len() > 10, "expected the engine's sources under {}", src.display());
    let mut hits = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for api in FORBIDDEN_APIS {
                if code.contains(api) {
                    hits.push(format!("{}:{}: {api}", f.display(), n + 1));
                }
            }
        }
    }
    assert!(hits.is_empty(), "effectful APIs in state-language:\n{}", hits.join("\n"));
}

#[test]
fn dependency_closure_has_no_effectful_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for krate in ["stepwise-state-language", "stepwise-workflow-core"] {
        let out = Command::new(&cargo)
            .args(["tree", "-p", krate, "-e", "normal", "--prefix", "none", "--offline"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo tree");
        assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
        let tree = String::from_utf8_lossy(&out.stdout);
        let names: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
        assert!(names.contains(&"serde_json"), "unexpected cargo tree output:\n{tree}");
        let bad: Vec<&&str> = names.iter().filter(|n| FORBIDDEN_CRATES.contains(n)).collect();
        assert!(bad.is_empty(), "{krate} depends on effectful crates: {bad:?}");
    }
}
