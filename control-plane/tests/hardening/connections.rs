//! Slow, idle and greedy clients: header and body timeouts, idle keep-alive
//! connections, a connection limit, and body bytes bounded before buffering.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::common::raw::{addr, parse_response, read_until_closed};
use crate::common::{Server, temp_dir};
use crate::memory_kib;

/// Well past the 1 s timeouts these tests configure.
const CLOSE_WAIT_MAX: Duration = Duration::from_secs(10);

fn server(name: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--header-timeout", "1", "--body-timeout", "1"];
    args.extend_from_slice(extra);
    Server::start_with(&temp_dir(name), &args)
}

fn head(endpoint: &str, content_length: usize, keep_alive: bool) -> String {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {content_length}\r\nConnection: {connection}\r\n\r\n",
        addr(endpoint)
    )
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let s = server("header-timeout", &[]);
    let mut c = TcpStream::connect(addr(&s.endpoint)).expect("connect");
    c.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").expect("a partial head");
    let (_, closed) = read_until_closed(&mut c, CLOSE_WAIT_MAX);
    assert!(closed, "a half-sent head holds its connection open");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let s = server("idle-timeout", &[]);
    let mut c = TcpStream::connect(addr(&s.endpoint)).expect("connect");
    c.write_all(format!("{}{{}}", head(&s.endpoint, 2, true)).as_bytes()).expect("a request");
    let (out, closed) = read_until_closed(&mut c, CLOSE_WAIT_MAX);
    assert!(closed, "an idle keep-alive connection stays open");
    assert_eq!(parse_response(&out).0, 200, "the request itself was answered first");
}

#[test]
fn a_body_that_never_arrives_is_refused_with_408() {
    let s = server("body-timeout", &[]);
    let mut c = TcpStream::connect(addr(&s.endpoint)).expect("connect");
    c.write_all(format!("{}{{\"ma", head(&s.endpoint, 100, true)).as_bytes()).expect("part of a body");
    let (out, closed) = read_until_closed(&mut c, CLOSE_WAIT_MAX);
    assert!(closed, "a stalled body holds its connection open");
    let (status, body) = parse_response(&out);
    assert_eq!((status, body["__type"].as_str()), (408, Some("RequestTimeoutException")));
}

#[test]
fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
    let s = server("body-limit", &[]);
    let mut c = TcpStream::connect(addr(&s.endpoint)).expect("connect");
    // Only the head is sent: the answer cannot wait for 5 MB that never come.
    c.write_all(head(&s.endpoint, 5 * 1024 * 1024, true).as_bytes()).expect("a head");
    let (out, _) = read_until_closed(&mut c, CLOSE_WAIT_MAX);
    let (status, body) = parse_response(&out);
    assert_eq!((status, body["__type"].as_str()), (413, Some("RequestEntityTooLargeException")));
    // The bound is a flag: a server that takes 2 KiB refuses 4 KiB, and still serves small requests.
    let small = server("body-limit-flag", &["--body-bytes-max", "2048"]);
    let mut c = TcpStream::connect(addr(&small.endpoint)).expect("connect");
    c.write_all(head(&small.endpoint, 4096, true).as_bytes()).expect("a head");
    let (out, _) = read_until_closed(&mut c, CLOSE_WAIT_MAX);
    assert_eq!(parse_response(&out).0, 413);
    assert_eq!(crate::call(&small.endpoint, "ListStateMachines", serde_json::json!({})).0, 200);
}

#[test]
fn connections_past_the_limit_are_closed_and_others_still_served() {
    let s = Server::start_with(&temp_dir("connection-limit"), &["--connections-max", "4"]);
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr(&s.endpoint)).expect("connect")).collect();
    let mut extra = TcpStream::connect(addr(&s.endpoint)).expect("the kernel accepts");
    let (_, closed) = read_until_closed(&mut extra, CLOSE_WAIT_MAX);
    assert!(closed, "a fifth connection is served past a limit of four");
    drop(held);
    // The held ones are gone: the server serves again (it sees their close at once).
    let target = Some("AWSStepFunctions.ListStateMachines");
    crate::common::raw::eventually_ok(|| {
        crate::common::raw::try_raw_post(&s.endpoint, target, b"{}").is_ok_and(|(status, _)| status == 200)
    });
}

/// Fifty unauthenticated clients each holding most of a 4 MB body: the
/// bodies buffered at once are bounded, so memory barely moves.
#[test]
fn slow_big_bodies_cannot_exhaust_memory() {
    let dir = temp_dir("slow-bodies");
    let creds = "AKIASTEPWISETEST0001:wJalrXUtnFEMI/K7MDENG+bPxRfiCYSTEPWISE01";
    let s = Server::start_env(&dir, &["--auth", "sigv4", "--body-timeout", "30"], &[("STEPWISE_CREDENTIALS", creds)]);
    let (before, _) = memory_kib(s.pid());
    let almost = vec![b' '; 4 * 1024 * 1024 - 1024];
    let mut clients = Vec::new();
    for _ in 0..50 {
        let mut c = TcpStream::connect(addr(&s.endpoint)).expect("connect");
        c.write_all(head(&s.endpoint, 4 * 1024 * 1024, true).as_bytes()).expect("a head");
        c.set_write_timeout(Some(Duration::from_millis(500))).expect("write timeout");
        let _ = c.write_all(&almost); // refused clients stop reading
        clients.push(c);
    }
    let (held, _) = memory_kib(s.pid());
    drop(clients);
    let grown_mib = held.saturating_sub(before) / 1024;
    eprintln!("50 slow 4 MB bodies: RSS {before} -> {held} KiB");
    assert!(grown_mib < 128, "RSS grew {grown_mib} MiB while slow clients held their bodies");
}
