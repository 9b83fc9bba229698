//! Clients of other languages, unmodified but for the endpoint: boto3 and
//! the AWS CLI (scripts in `tests/smoke/`). `scripts/test.sh` installs them
//! when missing.

mod common;

use std::process::Command;

use common::{Server, temp_dir};

fn run(program: &str, script: &str, endpoint: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smoke").join(script);
    let out = Command::new(program).arg(&path).arg(endpoint).output().unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{script} failed:\n{text}");
}

#[test]
fn boto3() {
    let server = Server::start(&temp_dir("boto3"));
    run("python3", "boto3_smoke.py", &server.endpoint);
}

#[test]
fn aws_cli() {
    let server = Server::start(&temp_dir("awscli"));
    run("bash", "cli_smoke.sh", &server.endpoint);
}
