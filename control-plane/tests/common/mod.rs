//! A real `stepwise server` process and a real aws-sdk-sfn client for tests.

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]
#![allow(dead_code)]

pub mod console;
pub mod corpus;
pub mod host_prefix;
pub mod otlp;
pub mod raw;

#[allow(unused_imports)]
pub use raw::raw_post;

pub use host_prefix::NoHostPrefix;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};

pub const ROLE: &str = "arn:aws:iam::123456789012:role/test";

/// How long a test waits for a condition before failing.
pub const WAIT_MAX: Duration = Duration::from_secs(30);

pub struct Server {
    child: Child,
    pub endpoint: String,
    pub dir: PathBuf,
}

impl Server {
    /// Starts a server on a fresh port over `dir` and waits until it listens.
    pub fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[])
    }

    pub fn start_with(dir: &Path, extra: &[&str]) -> Server {
        Server::start_env(dir, extra, &[])
    }

    pub fn start_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        // A test that restarts a server on its old address gives `--listen` itself.
        let listen: &[&str] = if extra.contains(&"--listen") { &[] } else { &["--listen", "127.0.0.1:0"] };
        let mut child = Command::new(env!("CARGO_BIN_EXE_stepwise"))
            .arg("server")
            .args(listen)
            .args(["--log-json", "--log-level", "info", "--data-dir"])
            .arg(dir)
            .args(extra)
            // Integrations sign their calls; tests only ever reach LocalStack.
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the stepwise binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let mut endpoint = None;
        for line in lines.by_ref() {
            let line = line.expect("stderr is readable");
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && v["fields"]["message"] == "stepwise server ready"
            {
                endpoint = v["fields"]["listen"].as_str().map(|a| format!("http://{a}"));
                break;
            }
        }
        let endpoint = endpoint.expect("the server said it was ready");
        // Keep draining the log so the server never blocks on a full pipe; keep
        // it beside the data for a failing test to show.
        let log_path = dir.join("server.log");
        std::thread::spawn(move || {
            use std::io::Write;
            let mut log = std::fs::OpenOptions::new().create(true).append(true).open(log_path).ok();
            for line in lines.map_while(Result::ok) {
                if let Some(f) = log.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
            }
        });
        Server { child, endpoint, dir: dir.to_path_buf() }
    }

    pub fn client(&self) -> Client {
        client(&self.endpoint)
    }

    /// `kill -9`: no shutdown, no flush.
    pub fn kill9(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.dir.clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits (bounded) for the process to exit; gives its status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait on the server") {
                return status;
            }
            assert!(start.elapsed() < WAIT_MAX, "the server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client(endpoint: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(http)
        .interceptor(NoHostPrefix)
        .build();
    Client::from_conf(conf)
}

/// The AWS CLI against `endpoint` (test credentials, us-east-1): its output, trimmed.
pub fn aws_cli(endpoint: &str, args: &[&str]) -> String {
    aws_cli_as(endpoint, ("test", "test"), args)
}

/// The AWS CLI signing with `key` (an access key ID and its secret).
pub fn aws_cli_as(endpoint: &str, key: (&str, &str), args: &[&str]) -> String {
    let out = Command::new("aws")
        .args(["--endpoint-url", endpoint])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_PAGER", "")
        .output()
        .expect("aws runs");
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("stepwise-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temp dir");
    d
}

/// Polls `f` until it gives `Some`, failing the test after [`WAIT_MAX`].
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < WAIT_MAX, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn create_machine(c: &Client, name: &str, definition: &str) -> String {
    c.create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn
}

/// Waits for an execution to leave RUNNING and describes it.
pub async fn finished(c: &Client, arn: &str) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    eventually(&format!("{arn} to finish"), || async {
        let d = c.describe_execution().execution_arn(arn).send().await.expect("DescribeExecution");
        (d.status != aws_sdk_sfn::types::ExecutionStatus::Running).then_some(d)
    })
    .await
}

/// The service error type of a failed call (`__type`).
pub fn error_code<E, R>(e: &aws_sdk_sfn::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sfn::error::ProvideErrorMetadata,
{
    e.as_service_error().and_then(|s| s.code()).unwrap_or("not a service error").to_string()
}

/// A fresh LocalStack (host mode, `localstack/start.sh`) for one test binary.
pub struct LocalStack {
    pub endpoint: String,
    dir: PathBuf,
}

impl LocalStack {
    pub fn start(name: &str) -> LocalStack {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let dir = temp_dir(&format!("localstack-{name}"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../localstack/start.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg(port.to_string())
            .env("STEPWISE_LOCALSTACK_DIR", &dir)
            .output()
            .expect("start.sh runs");
        assert!(out.status.success(), "LocalStack did not start:\n{}", String::from_utf8_lossy(&out.stderr));
        let endpoint = String::from_utf8_lossy(&out.stdout).trim().to_string();
        LocalStack { endpoint, dir }
    }

    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .endpoint_url(&self.endpoint)
            .load()
            .await
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../localstack/stop.sh");
        let _ = Command::new("bash").arg(script).arg(&self.dir).status();
    }
}

/// A local Lambda: cargo-lambda's emulator of the Lambda Invoke and Runtime
/// APIs (`cargo lambda watch --only-lambda-apis`), with the real
/// `examples/echo-lambda` function (built on lambda_runtime) registered as `_`.
pub struct LocalLambda {
    pub endpoint: String,
    watch: Child,
    function: Child,
}

impl LocalLambda {
    pub fn start() -> LocalLambda {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let watch = Command::new("cargo")
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo-lambda is installed (scripts/test.sh installs it from PyPI)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < WAIT_MAX, "cargo lambda watch did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        // cargo builds examples beside the test binaries: target/<profile>/examples.
        let exe = std::env::current_exe().expect("test exe");
        let bin = exe.parent().and_then(Path::parent).expect("target dir").join("examples/echo-lambda");
        let function = Command::new(&bin)
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} runs: {e}", bin.display()));
        LocalLambda { endpoint: format!("http://127.0.0.1:{port}"), watch, function }
    }
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        for c in [&mut self.function, &mut self.watch] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
