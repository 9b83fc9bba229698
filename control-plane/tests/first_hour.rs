//! The first hour, as a new user has it: clear start-up errors, the address
//! forms people type, one server per data dir, logs without escape codes in
//! files, and `stepwise run … | head` ending quietly.

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::{Server, temp_dir};

fn stepwise() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stepwise"))
}

/// Runs a server that is expected to refuse to start; gives its exit status and stderr.
fn refused(args: &[&str]) -> (std::process::ExitStatus, String) {
    let out = stepwise().arg("server").args(args).stdin(Stdio::null()).output().expect("the binary runs");
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_second_server_on_the_same_data_dir_refuses_to_start() {
    let dir = temp_dir("one-per-dir");
    let first = Server::start(&dir);
    let (status, err) = refused(&["--listen", "127.0.0.1:0", "--data-dir", &dir.display().to_string()]);
    assert!(!status.success(), "a second server started on a data dir in use");
    assert!(err.contains(&dir.display().to_string()), "the message names the data dir: {err}");
    assert!(err.contains(&format!("process {}", first.pid())), "the message names the holder: {err}");
    // A crash releases the lock: a new server starts on the same dir.
    let dir = first.kill9();
    let again = Server::start(&dir);
    assert!(again.pid() > 0);
}

#[test]
fn an_address_in_use_is_reported_once_with_a_hint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = temp_dir("addr-in-use");
    let (status, err) = refused(&["--listen", &addr, "--data-dir", &dir.display().to_string()]);
    assert!(!status.success());
    assert_eq!(err.matches("Address already in use").count(), 1, "said once: {err}");
    assert!(err.contains("--listen"), "a hint names --listen: {err}");
}

#[test]
fn listen_takes_a_port_or_a_host_name() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("addr").port();
    let s = Server::start_with(&temp_dir("listen-port"), &["--listen", &port.to_string()]);
    assert_eq!(s.endpoint, format!("http://127.0.0.1:{port}"));
    let s = Server::start_with(&temp_dir("listen-localhost"), &["--listen", "localhost:0"]);
    assert!(s.endpoint.starts_with("http://127.0.0.1:"), "{}", s.endpoint);
    let (status, err) = refused(&["--listen", "localhost"]);
    assert!(!status.success() && err.contains("no port"), "{err}");
}

#[test]
fn logs_written_to_a_file_carry_no_colour_codes() {
    let dir = temp_dir("no-ansi");
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).expect("a log file");
    let mut child = stepwise()
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .stderr(log)
        .stdout(Stdio::null())
        .spawn()
        .expect("the server starts");
    let start = std::time::Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if text.contains("stepwise server ready") {
            break text;
        }
        assert!(start.elapsed() < common::WAIT_MAX, "the server never said it was ready: {text}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(!text.contains('\u{1b}'), "escape codes in a log file: {text:?}");
}

#[test]
fn a_closed_stdout_ends_run_quietly() {
    let example = format!("{}/../examples/hello.asl.json", env!("CARGO_MANIFEST_DIR"));
    let mut child = stepwise()
        .args(["run", &example, "--no-wait", "--history", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stepwise run starts");
    // The reader goes away before anything is written, as `| head -0` would.
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr is readable");
    let status = child.wait().expect("it ends");
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(status.code(), Some(101), "a panic's exit code: {err}");
}

/// `./localstack/stack up` on a machine without cargo-lambda stops at once,
/// saying what is missing and how to get it, and prints no endpoint.
#[test]
fn stack_up_without_cargo_lambda_says_what_is_missing() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../localstack/stack");
    let home = std::env::var("HOME").expect("HOME");
    // cargo and the system's tools, but not pip's bin dirs where cargo-lambda lives.
    let path = format!("{home}/.cargo/bin:/usr/bin:/bin");
    let dir = temp_dir("stack-no-cargo-lambda");
    let out = Command::new("bash")
        .arg(script)
        .arg("up")
        .env("PATH", path)
        .env("STEPWISE_NO_INSTALL", "1")
        .env("STEPWISE_STACK_DIR", &dir)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs the stack script");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "stack up succeeded without cargo-lambda: {stdout}");
    assert!(stderr.contains("pip install cargo-lambda"), "{stderr}");
    assert!(!stdout.contains("API_ENDPOINT="), "an endpoint that does not serve was printed: {stdout}");
}

/// A data dir that cannot be made is named in the error, with the flag to change it.
#[test]
fn a_data_dir_that_cannot_be_made_is_named() {
    let dir = temp_dir("bad-data-dir");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").expect("a file");
    let inside = file.join("data");
    let (status, err) = refused(&["--listen", "127.0.0.1:0", "--data-dir", &inside.display().to_string()]);
    assert!(!status.success());
    assert!(err.contains(&inside.display().to_string()) && err.contains("--data-dir"), "{err}");
}
