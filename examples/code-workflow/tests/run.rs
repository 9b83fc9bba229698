//! The example as its README runs it: a `stepwise server`, the worker, the client.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The workspace's `stepwise` binary, built beside this test (`cargo test --workspace`).
fn stepwise_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let bin = exe.parent().and_then(|d| d.parent()).expect("target/<profile>").join("stepwise");
    assert!(bin.exists(), "{} is missing: build it with `cargo build -p stepwise-control-plane`", bin.display());
    bin
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_worker_and_the_client_greet() {
    let dir = std::env::temp_dir().join(format!("stepwise-example-greeter-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = Command::new(stepwise_binary())
        .args(["server", "--listen", "127.0.0.1:0", "--log-json", "--data-dir"])
        .arg(&dir)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the server starts");
    let stderr = server.stderr.take().expect("piped");
    let server = Kill(server);
    let mut lines = BufReader::new(stderr).lines();
    let endpoint = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l).ok()?;
            let listen = v["fields"]["listen"].as_str()?;
            (v["fields"]["message"] == "stepwise server ready").then(|| format!("http://{listen}"))
        })
        .expect("the server said where it listens");
    std::thread::spawn(move || lines.for_each(drop));
    let worker = Kill(
        Command::new(env!("CARGO_BIN_EXE_worker")).arg(&endpoint).stdout(Stdio::null()).spawn().expect("the worker"),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_client")).args(["Grace", &endpoint]).output().expect("the client");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    drop((worker, server));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("status: waiting for a name"), "{text}");
    assert!(text.contains("result: \"Hello, Grace!\""), "{text}");
}
