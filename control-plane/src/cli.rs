//! `stepwise server`'s command line: its flags, and how they become
//! [`crate::server::Options`]. In the library so that tests check parsing.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::Error;
use crate::server::{Backend, EngineConfig, Options};

/// The address `--listen` names when it gives only a port.
const LISTEN_HOST_DEFAULT: &str = "127.0.0.1";

#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// Address to listen on: HOST:PORT (a name such as localhost is resolved)
    /// or just PORT (on 127.0.0.1). 8083 is Step Functions Local's port.
    #[arg(long, default_value = "127.0.0.1:8083", value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Where the database lives. One server at a time may use it.
    #[arg(long, default_value = "./.stepwise")]
    pub data_dir: PathBuf,
    /// Log filter (tracing's EnvFilter syntax); RUST_LOG wins when set.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    pub log_json: bool,
    /// The region ARNs name.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// The account ARNs name.
    #[arg(long, default_value = "123456789012")]
    pub account_id: String,
    /// Endpoint for the SQS and DynamoDB task integrations (e.g. LocalStack);
    /// otherwise the AWS SDK's settings apply (AWS_ENDPOINT_URL, region, credentials).
    #[arg(long)]
    pub aws_endpoint: Option<String>,
    /// Endpoint for Lambda task integrations (defaults to --aws-endpoint).
    #[arg(long)]
    pub lambda_endpoint: Option<String>,
    /// Keep executions in a DynamoDB table (with SQS queues) instead of the
    /// embedded store; the table has string keys `pk` and `sk`.
    #[arg(long)]
    pub dynamodb_table: Option<String>,
    /// Prefix of the SQS queue names the AWS backend uses.
    #[arg(long, default_value = "stepwise-")]
    pub queue_prefix: String,
    /// With --dynamodb-table: the S3 bucket that holds payloads of 64 KiB and
    /// more (the claim check); without it they are split over DynamoDB items.
    #[arg(long, requires = "dynamodb_table")]
    pub payload_bucket: Option<String>,
    /// With --dynamodb-table: days a closed execution is kept before the
    /// table's TTL (attribute `expires_at`) deletes it.
    #[arg(long, default_value_t = crate::engine::RETENTION_DAYS_DEFAULT,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub retention_days: i64,
    /// How requests are authenticated: `none`, or `sigv4`, where every request
    /// must be signed (AWS Signature Version 4, service `states`, this region)
    /// with a key pair of STEPWISE_CREDENTIALS=AKID:SECRET[,AKID:SECRET...].
    #[arg(long, env = "STEPWISE_AUTH", default_value = "none", value_parser = ["none", "sigv4"])]
    pub auth: String,
    /// At most this many of a distributed Map's children, STANDARD or EXPRESS,
    /// run at once (below its MaxConcurrency, whose 0 means AWS's 10,000).
    #[arg(long, default_value_t = crate::engine::MAP_CHILDREN_RUNNING_MAX_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub map_children_running_max: u64,
    /// Seconds a connection has to send a whole request head, after it opens
    /// or after its previous response (idle keep-alive connections close then).
    #[arg(long, default_value_t = crate::listener::HEADER_TIMEOUT_S_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub header_timeout: u64,
    /// Seconds a request has to send its whole body.
    #[arg(long, default_value_t = crate::listener::BODY_TIMEOUT_S_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub body_timeout: u64,
    /// Open connections at most; past it new connections are closed at once.
    #[arg(long, default_value_t = crate::listener::CONNECTIONS_MAX_DEFAULT,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=65_536))]
    pub connections_max: usize,
    /// Bytes of one request body at most (at most 4 MiB, the default); a
    /// declared length over it is refused before the body is read.
    #[arg(long, default_value_t = crate::api::http::REQUEST_BYTES_MAX,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=4_194_304))]
    pub body_bytes_max: usize,
    /// Interpreter steps and TestState evaluations at once (default: one per core).
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    pub eval_threads: Option<usize>,
    /// Evaluations that may wait for a thread; past it requests get ThrottlingException.
    #[arg(long, default_value_t = crate::engine::compute::COMPUTE_QUEUE_MAX_DEFAULT,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=65_536))]
    pub eval_queue_max: usize,
}

/// `HOST:PORT`, `[V6]:PORT` or `PORT`; host names resolve (IPv4 first).
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    let hint = format!("use HOST:PORT or PORT, e.g. {LISTEN_HOST_DEFAULT}:8083 or 8083");
    if !text.contains(':') {
        return Err(format!("'{text}' has no port: {hint}"));
    }
    let addrs: Vec<SocketAddr> =
        text.to_socket_addrs().map_err(|e| format!("cannot resolve '{text}': {e}; {hint}"))?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("'{text}' resolves to no address; {hint}"))
}

impl ServerArgs {
    /// The server's options; `credentials` is STEPWISE_CREDENTIALS.
    pub fn into_options(self, credentials: Option<&str>) -> Result<Options, Error> {
        let backend = match self.dynamodb_table {
            Some(table) => Backend::Aws {
                table,
                queue_prefix: self.queue_prefix,
                payload_bucket: self.payload_bucket,
                retention_days: self.retention_days,
            },
            None => Backend::Embedded { data_dir: self.data_dir },
        };
        let auth = crate::auth::Auth::parse(&self.auth, credentials, &self.region)?;
        let scope = crate::arn::Scope { region: self.region, account: self.account_id };
        let engine = EngineConfig {
            backend,
            scope,
            aws_endpoint: self.aws_endpoint,
            lambda_endpoint: self.lambda_endpoint,
            auth,
            eval_threads: self.eval_threads,
            eval_queue_max: self.eval_queue_max,
            map_children_running_max: self.map_children_running_max,
        };
        let http = crate::listener::Limits {
            header_timeout: Duration::from_secs(self.header_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            connections_max: self.connections_max,
            body_bytes_max: self.body_bytes_max,
        };
        Ok(Options { listen: self.listen, engine, http })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_listen;

    #[test]
    fn listen_addresses() {
        let ok = |s: &str| parse_listen(s).expect(s).to_string();
        assert_eq!(ok("8084"), "127.0.0.1:8084");
        assert_eq!(ok("localhost:8084"), "127.0.0.1:8084");
        assert_eq!(ok("0.0.0.0:9000"), "0.0.0.0:9000");
        assert_eq!(ok("[::1]:9000"), "[::1]:9000");
        for bad in ["", "localhost", "nohost.invalid:80", "1.2.3.4:99999", "70000"] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
    }
}
