//! Raw HTTP/1.1 over TCP, for what an SDK would never send: malformed,
//! partial and slow requests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `host:port` of an endpoint URL.
pub fn addr(endpoint: &str) -> &str {
    endpoint.trim_start_matches("http://")
}

/// One raw HTTP/1.1 request; gives the status and the body.
pub fn raw_post(endpoint: &str, target: Option<&str>, body: &[u8]) -> (u16, Value) {
    try_raw_post(endpoint, target, body).expect("a response")
}

/// [`raw_post`], giving a refused or reset connection as an error.
pub fn try_raw_post(endpoint: &str, target: Option<&str>, body: &[u8]) -> std::io::Result<(u16, Value)> {
    let addr = addr(endpoint);
    let mut s = TcpStream::connect(addr)?;
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(t) = target {
        head.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    let _ = s.write_all(body); // the server may answer (413) before reading it all
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    if out.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed without a response"));
    }
    Ok(parse_response(&out))
}

/// The status and JSON body of a whole response.
pub fn parse_response(out: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(out);
    let status: u16 = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("a status line");
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Reads until the server closes the connection or `deadline` passes; gives
/// what was read and whether the connection was closed.
pub fn read_until_closed(s: &mut TcpStream, deadline: Duration) -> (Vec<u8>, bool) {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            return (out, false);
        }
        s.set_read_timeout(Some(left.min(Duration::from_millis(200)))).expect("read timeout");
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return (out, true), // reset by the server: closed too
        }
    }
}

/// Polls `ok` until it holds, failing the test after [`super::WAIT_MAX`].
pub fn eventually_ok(mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < super::WAIT_MAX, "timed out waiting for a condition");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A raw `GET path`; gives the status, the content type and the body.
pub fn raw_get(endpoint: &str, path: &str) -> (u16, String, String) {
    let addr = addr(endpoint);
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read response");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("a status line");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    (status, content_type, body.to_string())
}
