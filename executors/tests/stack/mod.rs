//! `localstack/stack up` as a test fixture, and the clients that talk to it.

pub mod audit;
pub mod callers;
pub mod code;
#[path = "../../../control-plane/tests/common/corpus.rs"]
#[allow(dead_code)] // the server tests use all of it; these only part
pub mod corpus;
#[path = "../../../control-plane/tests/common/host_prefix.rs"]
mod host_prefix;
pub mod scenarios;
pub mod schedules;
pub mod telemetry;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::ExecutionStatus;

/// How long an execution may take to finish.
pub const WAIT_MAX: Duration = Duration::from_secs(90);
/// The test-only time scale of the stacks that run the long wait: 900 virtual
/// seconds (one SQS hop at most) pass in one real second.
pub const TIME_SCALE: &str = "900";

pub struct Stack {
    child: Child,
    pub dir: PathBuf,
    pub api: String,
    /// The Lambda Invoke API of the local host (for the example `caller`).
    pub lambda: String,
    pub localstack: String,
    /// The key pair the api checks signatures with, when it does.
    pub key: Option<(String, String)>,
}

/// A key pair for stacks whose api checks SigV4 signatures (40-character secrets, as AWS issues).
pub const STACK_KEY: (&str, &str) = ("AKIASTEPWISESTACK001", "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy");

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../localstack/stack")
}

impl Stack {
    pub fn up(tag: &str, env: &[(&str, &str)]) -> Stack {
        let dir = std::env::temp_dir().join(format!("stepwise-stack-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the stack's dir");
        // What `stack up` says of a failure (a LocalStack that did not start) is kept for the panic below.
        let stderr = std::fs::File::create(dir.join("stack-up.log")).expect("the stack's log");
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_api")).parent().expect("bin dir").to_path_buf();
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let mut child = Command::new("bash")
            .arg(script())
            .arg("up")
            .env("STEPWISE_STACK_DIR", &dir)
            .env("STEPWISE_BIN_DIR", &bin_dir)
            .env("LOCALSTACK_PORT", port.to_string())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("stack up runs");
        let out = child.stdout.take().expect("stdout");
        let (mut api, mut lambda, mut localstack) = (None, None, None);
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(e) = line.strip_prefix("API_ENDPOINT=") {
                api = Some(e.to_string());
            } else if let Some(e) = line.strip_prefix("LAMBDA_ENDPOINT=") {
                lambda = Some(e.to_string());
            } else if let Some(e) = line.strip_prefix("LOCALSTACK_ENDPOINT=") {
                localstack = Some(e.to_string());
                break;
            }
        }
        let missing = || {
            let said = std::fs::read_to_string(dir.join("stack-up.log")).unwrap_or_default();
            panic!("stack up printed no endpoints; logs in {}; it said:\n{said}", dir.display())
        };
        let api = api.unwrap_or_else(missing);
        let lambda = lambda.unwrap_or_else(missing);
        let localstack = localstack.unwrap_or_else(missing);
        let key = env.iter().find(|(k, _)| *k == "STEPWISE_CREDENTIALS").map(|(_, v)| {
            let first = v.split(',').next().unwrap_or_default();
            let (id, secret) = first.split_once(':').expect("AKID:SECRET");
            (id.to_string(), secret.to_string())
        });
        Stack { child, dir, api, lambda, localstack, key }
    }

    /// A Lambda's log (`api`, `scheduler`, `sweeper`, `local-host`).
    pub fn log(&self, function: &str) -> String {
        std::fs::read_to_string(self.dir.join("logs").join(format!("{function}.log"))).unwrap_or_default()
    }

    /// aws-sdk-sfn on the api, signing with the stack's key when it has one.
    pub fn sfn(&self) -> Client {
        let creds = match &self.key {
            Some((id, secret)) => Credentials::new(id, secret, None, None, "tests"),
            None => credentials(),
        };
        self.sfn_as(creds)
    }

    pub fn sfn_as(&self, creds: Credentials) -> Client {
        let conf = aws_sdk_sfn::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(&self.api)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .interceptor(host_prefix::NoHostPrefix)
            .build();
        Client::from_conf(conf)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        let conf = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .credentials_provider(credentials())
            .endpoint_url(&self.localstack)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_sqs::Client::from_conf(conf)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(credentials())
            .endpoint_url(&self.localstack)
            .force_path_style(true)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// The Lambda Invoke API, for the example `caller` function.
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new("us-east-1"))
            .credentials_provider(credentials())
            .endpoint_url(&self.lambda)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(credentials())
            .endpoint_url(&self.localstack)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("down").env("STEPWISE_STACK_DIR", &self.dir).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "tests")
}

pub async fn finished(c: &Client, arn: &str) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let start = Instant::now();
    loop {
        let d = c.describe_execution().execution_arn(arn).send().await.expect("DescribeExecution");
        if d.status != ExecutionStatus::Running {
            return d;
        }
        assert!(start.elapsed() < WAIT_MAX, "{arn} did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each state's entered events, to check that nothing ran twice.
pub async fn entered(c: &Client, arn: &str) -> Vec<String> {
    let h = c.get_execution_history().execution_arn(arn).max_results(1000).send().await.expect("history");
    h.events.iter().filter_map(|e| e.state_entered_event_details.as_ref().map(|d| d.name.clone())).collect()
}

/// Waits until `check` gives `Ok`, up to [`WAIT_MAX`]; panics with its last complaint.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return v,
            Err(why) if start.elapsed() > WAIT_MAX => panic!("{what}: {why}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
