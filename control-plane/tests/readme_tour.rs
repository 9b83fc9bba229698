//! The README's tour, run as written (`scripts/readme-tour.sh` extracts its
//! tested blocks) against this build's binary, with the AWS CLI.

use std::path::Path;
use std::process::Command;

#[test]
fn the_readme_tour_runs_as_written() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/readme-tour.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_stepwise"))
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("bash runs the tour");
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the README's tour failed:\n{text}");
    // The activity part really moved the execution on.
    assert!(text.contains("SUCCEEDED"), "{text}");
    assert!(text.contains("approved"), "{text}");
}
