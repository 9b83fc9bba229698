//! The benchmark's HTTP client: one keep-alive HTTP/1.1 connection speaking
//! AWS JSON 1.0, with no SDK in the measured path.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::Error;

/// Bytes of one response the client reads at most.
const RESPONSE_BYTES_MAX: usize = 1024 * 1024;

/// One keep-alive HTTP/1.1 connection speaking AWS JSON 1.0.
pub struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    pub async fn open(addr: &str) -> Result<Conn, Error> {
        Ok(Conn { stream: BufReader::new(TcpStream::connect(addr).await?), host: addr.to_string() })
    }

    pub async fn call(&mut self, op: &str, body: &Value) -> Result<Value, Error> {
        let body = body.to_string();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: AWSStepFunctions.{op}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let mut len = 0usize;
        let mut status = String::new();
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(Error::Store("the server closed the connection".into()));
            }
            if status.is_empty() {
                status = line.clone();
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        if len > RESPONSE_BYTES_MAX {
            return Err(Error::Limit(format!("a response of {len} bytes")));
        }
        let mut buf = vec![0; len];
        self.stream.read_exact(&mut buf).await?;
        let v: Value = serde_json::from_slice(&buf).map_err(|e| Error::Store(e.to_string()))?;
        if !status.contains(" 200 ") {
            return Err(Error::Store(format!("{op}: {}", v)));
        }
        Ok(v)
    }
}
