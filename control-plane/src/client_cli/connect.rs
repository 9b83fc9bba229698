//! Where the client commands send their calls, and how they sign them.

use stepwise_wire::{Signer, Wire};

/// The endpoint when none is given: `stepwise server`'s default.
pub const ENDPOINT_DEFAULT: &str = "http://127.0.0.1:8083";

#[derive(clap::Args, Debug, Clone)]
pub struct Connection {
    /// The Stepwise API (default: STEPWISE_ENDPOINT, else AWS_ENDPOINT_URL, else http://127.0.0.1:8083).
    #[arg(long, global = true)]
    pub endpoint: Option<String>,
    /// The region signatures are scoped to (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Connection {
    pub fn endpoint(&self) -> String {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        self.endpoint
            .clone()
            .or_else(|| env("STEPWISE_ENDPOINT"))
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| ENDPOINT_DEFAULT.to_string())
    }

    fn region(&self) -> String {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        self.region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into())
    }

    /// The wire, signed with the AWS credentials of the environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) when
    /// they are set: a server with `--auth none` ignores the signature, one
    /// with `--auth sigv4` needs it. (No instance metadata is asked: a laptop
    /// has none, and the CLI must not wait on a network it is not on.)
    pub async fn wire(&self) -> Wire {
        let wire = Wire::new(&self.endpoint());
        use aws_credential_types::provider::ProvideCredentials as _;
        let provider = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
        match provider.provide_credentials().await {
            Ok(c) => wire.signed(Signer {
                region: self.region(),
                access_key_id: c.access_key_id().to_string(),
                secret_access_key: c.secret_access_key().to_string(),
                session_token: c.session_token().map(str::to_string),
            }),
            Err(_) => wire,
        }
    }
}
