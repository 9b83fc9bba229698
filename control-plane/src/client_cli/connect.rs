//! Where the client commands send their calls, and how they sign them.

use stepwise_wire::{Signer, Wire};

/// The endpoint when none is given: `stepwise server`'s default.
pub const ENDPOINT_DEFAULT: &str = "http://127.0.0.1:8083";

#[derive(clap::Args, Debug, Clone)]
pub struct Connection {
    /// The Stepwise API (default: STEPWISE_ENDPOINT, else AWS_ENDPOINT_URL, else http://127.0.0.1:8083).
    #[arg(long, global = true)]
    pub endpoint: Option<String>,
    /// The region signatures are scoped to (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1).
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

    /// `--region`, else `AWS_REGION`/`AWS_DEFAULT_REGION`, else the profile's, else us-east-1.
    async fn region(&self) -> String {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(r) = self.region.clone().or_else(|| env("AWS_REGION")).or_else(|| env("AWS_DEFAULT_REGION")) {
            return r;
        }
        use aws_config::meta::region::ProvideRegion as _;
        let profile = aws_config::profile::ProfileFileRegionProvider::builder().build().region().await;
        profile.map_or_else(|| "us-east-1".into(), |r| r.to_string())
    }

    /// The wire, signed with the usual AWS credentials when there are some:
    /// the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`), else the shared files (`~/.aws/credentials` and
    /// `~/.aws/config`, profile `AWS_PROFILE` or `default`). A server with
    /// `--auth none` ignores the signature, one with `--auth sigv4` needs it.
    /// (No instance metadata or SSO is asked: a laptop has none, and the CLI
    /// must not wait on a network it is not on.)
    pub async fn wire(&self) -> Wire {
        let wire = Wire::new(&self.endpoint());
        use aws_credential_types::provider::ProvideCredentials as _;
        let environment = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
        let credentials = match environment.provide_credentials().await {
            Ok(c) => Some(c),
            Err(_) => profile_credentials().await,
        };
        match credentials {
            Some(c) => wire.signed(Signer {
                region: self.region().await,
                access_key_id: c.access_key_id().to_string(),
                secret_access_key: c.secret_access_key().to_string(),
                session_token: c.session_token().map(str::to_string),
            }),
            None => wire,
        }
    }
}

/// Static keys of the selected profile (`AWS_PROFILE`, else `default`) in the
/// shared files (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`, else
/// `~/.aws/credentials` and `~/.aws/config`), read as the AWS SDKs read them.
/// (The SDK's profile provider also builds instance-metadata and SSO clients,
/// which this CLI does not use.)
async fn profile_credentials() -> Option<aws_credential_types::Credentials> {
    use aws_types::os_shim_internal::{Env, Fs};
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let profiles = aws_config::profile::load(&Fs::real(), &Env::real(), &files, None).await.ok()?;
    let profile = profiles.get_profile(profiles.selected_profile())?;
    let key = profile.get("aws_access_key_id")?;
    let secret = profile.get("aws_secret_access_key")?;
    let token = profile.get("aws_session_token").map(str::to_string);
    Some(aws_credential_types::Credentials::new(key, secret, token, None, "shared-files"))
}
