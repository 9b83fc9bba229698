//! End to end through the Lambda binaries: `localstack/stack up` runs
//! LocalStack (DynamoDB, SQS), the `api`, `scheduler` and `sweeper` binaries
//! under cargo-lambda's Runtime API and the local host's SQS event source
//! mappings; aws-sdk-sfn talks to the `api` function URL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::ExecutionStatus;

const WAIT_MAX: Duration = Duration::from_secs(60);

struct Stack {
    child: Child,
    dir: PathBuf,
    api: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../localstack/stack")
}

impl Stack {
    fn up(tag: &str, env: &[(&str, &str)]) -> Stack {
        let dir = std::env::temp_dir().join(format!("stepwise-stack-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
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
            .stderr(Stdio::null())
            .spawn()
            .expect("stack up runs");
        let out = child.stdout.take().expect("stdout");
        let mut api = None;
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(e) = line.strip_prefix("API_ENDPOINT=") {
                api = Some(e.to_string());
                break;
            }
        }
        let api = api.unwrap_or_else(|| panic!("stack up printed no API_ENDPOINT; logs in {}", dir.display()));
        Stack { child, dir, api }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("down").env("STEPWISE_STACK_DIR", &self.dir).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(endpoint: &str) -> Client {
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(conf)
}

async fn finished(c: &Client, arn: &str) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
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
async fn entered(c: &Client, arn: &str) -> Vec<String> {
    let h = c.get_execution_history().execution_arn(arn).max_results(1000).send().await.expect("history");
    h.events.iter().filter_map(|e| e.state_entered_event_details.as_ref().map(|d| d.name.clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_through_the_lambda_binaries() {
    workflows(Stack::up("plain", &[])).await;
}

/// Every SQS message delivered twice: no transition happens twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_deliveries_are_harmless() {
    workflows(Stack::up("twice", &[("STEPWISE_DELIVER_TWICE", "1")])).await;
}

/// Every commit "crashes" between the DynamoDB commit and the SQS send: only
/// the sweeper's outbox flush moves executions on, and they all finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_recovers_crashes_after_commit() {
    let fast_sweeper = [("STEPWISE_OUTBOX_GRACE_MS", "0"), ("STEPWISE_SWEEP_SECONDS", "1")];
    let env = [fast_sweeper.as_slice(), &[("STEPWISE_FAULT_INJECTION", "after-commit")]].concat();
    workflows(Stack::up("after-commit", &env)).await;
}

/// Every commit "crashes" after sending but before forgetting its outbox: the
/// sweeper sends everything again, and nothing happens twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_resends_harmlessly_after_send() {
    let fast_sweeper = [("STEPWISE_OUTBOX_GRACE_MS", "0"), ("STEPWISE_SWEEP_SECONDS", "1")];
    let env = [fast_sweeper.as_slice(), &[("STEPWISE_FAULT_INJECTION", "after-send")]].concat();
    workflows(Stack::up("after-send", &env)).await;
}

async fn workflows(stack: Stack) {
    let c = client(&stack.api);
    let role = "arn:aws:iam::123456789012:role/r";
    let act = c.create_activity().name("approve").send().await.expect("CreateActivity").activity_arn;
    let def = format!(
        r#"{{"StartAt":"Prep","States":{{"Prep":{{"Type":"Pass","Result":{{"n":1}},"Next":"Pause"}},
           "Pause":{{"Type":"Wait","Seconds":1,"Next":"Ask"}},
           "Ask":{{"Type":"Task","Resource":"{act}","Next":"Done"}},"Done":{{"Type":"Succeed"}}}}}}"#
    );
    let m = c
        .create_state_machine()
        .name("flow")
        .definition(def)
        .role_arn(role)
        .send()
        .await
        .expect("create")
        .state_machine_arn;
    let s = c.start_execution().state_machine_arn(&m).name("e1").send().await.expect("start");
    let again = c.start_execution().state_machine_arn(&m).name("e1").send().await.expect("start again");
    assert_eq!(again.execution_arn, s.execution_arn, "idempotent start");
    // The Wait fires through SQS and the scheduler Lambda; then the activity is handed out by the api Lambda.
    let task = c.get_activity_task().activity_arn(&act).worker_name("w").send().await.expect("GetActivityTask");
    assert_eq!(task.input.as_deref(), Some(r#"{"n":1}"#));
    c.send_task_success()
        .task_token(task.task_token.expect("a task"))
        .output(r#"{"ok":true}"#)
        .send()
        .await
        .expect("success");
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.status, ExecutionStatus::Succeeded);
    assert_eq!(d.output.as_deref(), Some(r#"{"ok":true}"#));
    assert_eq!(entered(&c, &s.execution_arn).await, ["Prep", "Pause", "Ask", "Done"]);

    // A nested .sync execution: the tasks queue, the scheduler Lambda and the child's closing commit.
    let child = c
        .create_state_machine()
        .name("child")
        .definition(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"from child","End":true}}}"#)
        .role_arn(role)
        .send()
        .await
        .expect("create child")
        .state_machine_arn;
    let parent = format!(
        r#"{{"StartAt":"S","States":{{"S":{{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{{"StateMachineArn":"{child}"}},"OutputPath":"$.Output","End":true}}}}}}"#
    );
    let m = c
        .create_state_machine()
        .name("parent")
        .definition(parent)
        .role_arn(role)
        .send()
        .await
        .expect("create")
        .state_machine_arn;
    let s = c.start_execution().state_machine_arn(&m).send().await.expect("start");
    let d = finished(&c, &s.execution_arn).await;
    assert_eq!(d.output.as_deref(), Some(r#""from child""#));
    assert_eq!(entered(&c, &s.execution_arn).await, ["S"]);
    let children = c.list_executions().state_machine_arn(&child).send().await.expect("list").executions;
    assert_eq!(children.len(), 1, "one child, however often the task message came");
}
