//! Every Rust snippet of the README stands, line for line, in code that is
//! compiled and run: `sdk/tests/readme.rs` or the example project
//! `examples/code-workflow`. So a snippet cannot drift from the API.

use std::path::Path;

/// Where snippets may come from: files the workspace compiles and tests.
const SOURCES: [&str; 4] = [
    "sdk/tests/readme.rs",
    "examples/code-workflow/src/lib.rs",
    "examples/code-workflow/src/bin/client.rs",
    "examples/code-workflow/src/bin/worker.rs",
];

/// Lines without indentation, with runs of blanks folded (rustfmt may align comments).
fn normalized(text: &str) -> Vec<String> {
    text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect()
}

fn snippets(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line) {
            (None, "```rust") => current = Some(String::new()),
            (Some(s), "```") => {
                out.push(std::mem::take(s));
                current = None;
            }
            (Some(s), l) => {
                s.push_str(l);
                s.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn every_readme_snippet_is_compiled_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let sources: Vec<(String, Vec<String>)> =
        SOURCES.iter().map(|p| (p.to_string(), normalized(&std::fs::read_to_string(root.join(p)).expect(p)))).collect();
    let found = snippets(&readme);
    assert!(found.len() >= 4, "the README has its Rust snippets");
    for snippet in found {
        let lines: Vec<String> = normalized(&snippet).into_iter().filter(|l| !l.starts_with("use ")).collect();
        let home = sources.iter().find(|(_, src)| src.windows(lines.len()).any(|w| w == lines.as_slice()));
        assert!(home.is_some(), "this README snippet is in no compiled source ({SOURCES:?}):\n{snippet}");
    }
}
