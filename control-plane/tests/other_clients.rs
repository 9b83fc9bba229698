//! Clients of other languages, unmodified but for the endpoint: boto3 and
//! the AWS CLI (scripts in `tests/smoke/`). `scripts/test.sh` installs them
//! when missing.

mod common;

use std::process::Command;

use common::{Server, temp_dir};

fn run(program: &str, script: &str, endpoint: &str) {
    run_env(program, script, endpoint, &[]);
}

fn run_env(program: &str, script: &str, endpoint: &str, env: &[(&str, &str)]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smoke").join(script);
    let out = Command::new(program)
        .arg(&path)
        .arg(endpoint)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{script} failed:\n{text}");
}

#[test]
fn boto3() {
    let server = Server::start(&temp_dir("boto3"));
    run("python3", "boto3_smoke.py", &server.endpoint);
}

/// Map Runs and redrive of only what failed (`map_runs_boto3.py`).
#[test]
fn boto3_map_runs() {
    let server = Server::start(&temp_dir("boto3-map-runs"));
    run("python3", "map_runs_boto3.py", &server.endpoint);
}

#[test]
fn aws_cli() {
    let server = Server::start(&temp_dir("awscli"));
    run("bash", "cli_smoke.sh", &server.endpoint);
}

/// The server's key pair, as the clients' settings.
const KEY: (&str, &str) = ("AKIASTEPWISETEST0001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSTEPWISE01");

fn sigv4_server(name: &str) -> Server {
    let creds = format!("{}:{}", KEY.0, KEY.1);
    Server::start_env(&temp_dir(name), &["--auth", "sigv4"], &[("STEPWISE_CREDENTIALS", &creds)])
}

const CLIENT_KEY: [(&str, &str); 2] =
    [("STEPWISE_TEST_ACCESS_KEY_ID", KEY.0), ("STEPWISE_TEST_SECRET_ACCESS_KEY", KEY.1)];

#[test]
fn boto3_signs_and_the_server_checks() {
    let server = sigv4_server("boto3-sigv4");
    run_env("python3", "boto3_smoke.py", &server.endpoint, &CLIENT_KEY);
}

#[test]
fn aws_cli_signs_and_the_server_checks() {
    let server = sigv4_server("awscli-sigv4");
    run_env("bash", "cli_smoke.sh", &server.endpoint, &CLIENT_KEY);
    // The wrong secret: the CLI fails with Step Functions' error type.
    let out = Command::new("aws")
        .args(["--endpoint-url", &server.endpoint, "stepfunctions", "list-state-machines"])
        .env("AWS_ACCESS_KEY_ID", KEY.0)
        .env("AWS_SECRET_ACCESS_KEY", "x".repeat(40))
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .expect("aws runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("InvalidSignatureException"), "{err}");
}
