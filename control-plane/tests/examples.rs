//! The examples a new user learns from, run as their READMEs say, each
//! against a fresh server (boto3 drives them, as users' code would).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Server, temp_dir};

fn run_example(name: &str) {
    let s = Server::start(&temp_dir(&format!("example-{name}")));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{name}/run.py"));
    let out = Command::new("python3")
        .arg(&script)
        .env("STEPWISE_ENDPOINT", &s.endpoint)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("python3 runs the example");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "examples/{name} failed:\n{text}");
    println!("examples/{name}:\n{text}");
}

#[test]
fn the_order_example_with_a_python_worker() {
    run_example("order");
}

#[test]
fn the_jsonata_example() {
    run_example("jsonata");
}

#[test]
fn the_callback_example() {
    run_example("callback");
}
