//! A receiver for OTLP/HTTP JSON traces, in the test process (the server's and the Lambdas' trace tests).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// What reached the receiver: spans, and the headers of Lambda invocations.
#[derive(Default)]
pub struct Received {
    pub spans: Vec<Value>,
    pub invocations: Vec<Vec<String>>,
}

/// An OTLP/HTTP JSON receiver, which also answers Lambda's Invoke (`{}`) so
/// the test sees what Stepwise sends a function: what Lambda then does with
/// it is AWS's (cargo-lambda's local Lambda passes neither header on).
pub fn receiver() -> (String, Arc<Mutex<Received>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let received = Arc::new(Mutex::new(Received::default()));
    let seen = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                headers.push(line.trim_end().to_string());
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            if headers.first().is_some_and(|l| l.contains("/invocations")) {
                seen.lock().expect("the receiver lives").invocations.push(headers);
            }
            let batch: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            for rs in batch["resourceSpans"].as_array().into_iter().flatten() {
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    let spans = ss["spans"].as_array().cloned().unwrap_or_default();
                    seen.lock().expect("the receiver lives").spans.extend(spans);
                }
            }
            let _ = reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        }
    });
    (endpoint, received)
}

/// The span called `name`, or a failure listing what came.
pub fn named<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    spans.iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
}

/// The environment that points a server's traces at `endpoint`.
pub fn env(endpoint: &str) -> [(&str, &str); 3] {
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ]
}
