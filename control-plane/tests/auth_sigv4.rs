//! `stepwise server --auth sigv4`: requests signed by unmodified aws-sdk-sfn
//! clients with a configured key pair are served; everything else is refused
//! with the error type Step Functions gives. boto3 and the AWS CLI are in
//! `other_clients.rs`.

// Tests are hosts: they wait on the real clock.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_sfn::error::ProvideErrorMetadata;
use common::{NoHostPrefix, Server, temp_dir};

pub const KEY_1: (&str, &str) = ("AKIASTEPWISETEST0001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSTEPWISE01");
pub const KEY_2: (&str, &str) = ("AKIASTEPWISETEST0002", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbSTEPWISE02");

fn server(name: &str) -> Server {
    let creds = format!("{}:{},{}:{}", KEY_1.0, KEY_1.1, KEY_2.0, KEY_2.1);
    Server::start_env(&temp_dir(name), &["--auth", "sigv4"], &[("STEPWISE_CREDENTIALS", &creds)])
}

fn signed(endpoint: &str, key: (&str, &str), region: &str) -> aws_sdk_sfn::config::Builder {
    aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(key.0, key.1, None, None, "tests"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .interceptor(NoHostPrefix)
}

fn client(endpoint: &str, key: (&str, &str)) -> Client {
    Client::from_conf(signed(endpoint, key, "us-east-1").build())
}

/// The error code a refused ListStateMachines call gives.
async fn refusal(c: &Client) -> String {
    let e = c.list_state_machines().send().await.expect_err("the request is refused");
    e.code().unwrap_or_default().to_string()
}

#[tokio::test]
async fn signed_requests_run_workflows_with_either_key() {
    let s = server("sigv4-ok");
    for key in [KEY_1, KEY_2] {
        let c = client(&s.endpoint, key);
        let name = format!("hello-{}", &key.0[16..]);
        let def = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}}"#;
        let arn = common::create_machine(&c, &name, def).await;
        let exec = c.start_execution().state_machine_arn(&arn).send().await.expect("StartExecution");
        let d = common::eventually("the execution succeeds", || {
            let (c, arn) = (c.clone(), exec.execution_arn.clone());
            async move {
                let d = c.describe_execution().execution_arn(arn).send().await.ok()?;
                (d.status != aws_sdk_sfn::types::ExecutionStatus::Running).then_some(d)
            }
        })
        .await;
        assert_eq!(d.output.as_deref(), Some(r#"{"ok":true}"#));
    }
}

#[tokio::test]
async fn unknown_keys_wrong_secrets_and_wrong_regions_are_refused() {
    let s = server("sigv4-refused");
    let unknown = client(&s.endpoint, ("AKIANOBODYKNOWSTHIS1", KEY_1.1));
    assert_eq!(refusal(&unknown).await, "UnrecognizedClientException");
    let wrong_secret = client(&s.endpoint, (KEY_1.0, KEY_2.1));
    assert_eq!(refusal(&wrong_secret).await, "InvalidSignatureException");
    let elsewhere = Client::from_conf(signed(&s.endpoint, KEY_1, "eu-west-1").build());
    assert!(!refusal(&elsewhere).await.is_empty(), "a signature scoped to another region is refused");
}

/// A signature made an hour ago (a replayed request) is refused: AWS allows
/// 15 minutes. Like AWS, the answer carries the server's `Date`, from which
/// the SDK corrects its clock skew when it may retry.
#[tokio::test]
async fn stale_signatures_are_refused_and_the_sdk_corrects_its_skew() {
    let s = server("sigv4-stale");
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let past = || aws_smithy_async::time::StaticTimeSource::new(hour_ago);
    let once = signed(&s.endpoint, KEY_1, "us-east-1")
        .time_source(past())
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
        .build();
    assert_eq!(refusal(&Client::from_conf(once)).await, "InvalidSignatureException");
    let retrying = signed(&s.endpoint, KEY_1, "us-east-1").time_source(past()).build();
    Client::from_conf(retrying).list_state_machines().send().await.expect("the retry is signed with the server's time");
}

/// Changes the operation after the request was signed, as a man in the middle would.
#[derive(Debug)]
struct Tamper;

impl Intercept for Tamper {
    fn name(&self) -> &'static str {
        "Tamper"
    }
    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        ctx.request_mut().headers_mut().insert("x-amz-target", "AWSStepFunctions.ListActivities");
        Ok(())
    }
}

#[tokio::test]
async fn requests_changed_after_signing_are_refused() {
    let s = server("sigv4-tamper");
    let c = Client::from_conf(signed(&s.endpoint, KEY_1, "us-east-1").interceptor(Tamper).build());
    assert_eq!(refusal(&c).await, "InvalidSignatureException");
}

#[test]
fn unsigned_requests_are_refused() {
    let s = server("sigv4-unsigned");
    let addr = s.endpoint.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
    let body = "{}";
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).expect("send");
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).expect("read");
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("MissingAuthenticationTokenException"), "{resp}");
}

/// A raw request signed over only `host` and `x-amz-date`, with other
/// headers added after signing; gives the status and the body.
fn signed_over_host_and_date(endpoint: &str, target: &str, add_content_type: bool, body: &str) -> (u16, String) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let addr = endpoint.trim_start_matches("http://");
    let identity = aws_credential_types::Credentials::new(KEY_1.0, KEY_1.1, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("states")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let uri = format!("http://{addr}/");
    let signable =
        SignableRequest::new("POST", &uri, [("host", addr)].into_iter(), SignableBody::Bytes(body.as_bytes()))
            .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut head = format!("POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: {target}\r\n");
    for (name, value) in instructions.headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if add_content_type {
        head.push_str("Content-Type: application/x-amz-json-1.0\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()));
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
    tcp.write_all(head.as_bytes()).expect("send");
    let mut resp = String::new();
    tcp.read_to_string(&mut resp).expect("read");
    let status = resp.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
    (status, resp)
}

/// A signature must cover the header that chooses the operation: a signed
/// Describe replayed as a Delete is refused, and the machine stays.
#[tokio::test]
async fn signatures_must_cover_the_target_and_content_type() {
    let s = server("sigv4-signed-headers");
    let c = client(&s.endpoint, KEY_1);
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let arn = common::create_machine(&c, "keep-me", def).await;
    let body = serde_json::json!({"stateMachineArn": arn}).to_string();
    let endpoint = s.endpoint.clone();
    let replayed = tokio::task::spawn_blocking(move || {
        let delete = signed_over_host_and_date(&endpoint, "AWSStepFunctions.DeleteStateMachine", true, &body);
        let describe = signed_over_host_and_date(&endpoint, "AWSStepFunctions.DescribeStateMachine", false, &body);
        (delete, describe)
    })
    .await
    .expect("the raw requests");
    for (status, resp) in [replayed.0, replayed.1] {
        assert_eq!(status, 400, "{resp}");
        assert!(resp.contains("IncompleteSignatureException"), "{resp}");
    }
    assert!(c.describe_state_machine().state_machine_arn(&arn).send().await.is_ok(), "the machine was deleted");
}

/// Bad configuration stops the server at once with a clear message.
#[test]
fn bad_credentials_are_refused_at_start() {
    for (creds, says) in [
        (None, "needs STEPWISE_CREDENTIALS"),
        (Some("AKIASTEPWISETEST0001:short"), "SigV4 secrets are 40"),
        (Some("no-colon-here"), "not AKID:SECRET"),
    ] {
        let mut cmd = assert_cmd::Command::cargo_bin("stepwise").expect("the binary");
        cmd.args(["server", "--listen", "127.0.0.1:0", "--auth", "sigv4", "--data-dir"])
            .arg(temp_dir("sigv4-bad"))
            .env_remove("STEPWISE_CREDENTIALS");
        if let Some(c) = creds {
            cmd.env("STEPWISE_CREDENTIALS", c);
        }
        cmd.assert().code(2).stderr(predicates::str::contains(says));
    }
}

/// The client commands sign with a profile of the shared AWS files, as the AWS CLI does.
#[test]
fn the_cli_signs_with_a_profile_of_the_shared_files() {
    let s = server("sigv4-cli-profile");
    let dir = temp_dir("sigv4-cli-profile-files");
    std::fs::create_dir_all(&dir).expect("a dir");
    let credentials = dir.join("credentials");
    let config = dir.join("config");
    std::fs::write(
        &credentials,
        format!("[work]\naws_access_key_id = {}\naws_secret_access_key = {}\n", KEY_2.0, KEY_2.1),
    )
    .expect("write");
    std::fs::write(&config, "[profile work]\nregion = us-east-1\n").expect("write");
    let run = |profile: &str| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"));
        cmd.args(["machines", "list", "--endpoint", &s.endpoint]);
        for k in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL",
            "STEPWISE_ENDPOINT",
        ] {
            cmd.env_remove(k);
        }
        cmd.env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_PROFILE", profile);
        cmd.output().expect("the binary runs")
    };
    let out = run("work");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // A profile the files do not have: no credentials, so the server refuses the call.
    let out = run("nobody");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("MissingAuthenticationToken"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
