//! What `stepwise server` prints on stdout once it listens: where it is,
//! where its data is, who may call it, and what to type next.

use std::net::SocketAddr;

use crate::server::{Backend, EngineConfig};

pub fn print(listen: SocketAddr, engine: &EngineConfig) {
    let endpoint = format!("http://{listen}");
    let data = match &engine.backend {
        Backend::Embedded { data_dir } => format!("{} (embedded)", data_dir.display()),
        Backend::Aws { table, .. } => format!("DynamoDB table {table}"),
    };
    let (auth, keys, console) = match engine.auth {
        crate::auth::Auth::None => (
            "none: the API is open to anyone who reaches this address",
            "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test",
            "open: no sign-in, like the API",
        ),
        crate::auth::Auth::SigV4(_) => (
            "sigv4: requests must be signed with a key pair of STEPWISE_CREDENTIALS",
            "AWS_ACCESS_KEY_ID=<its key id> AWS_SECRET_ACCESS_KEY=<its secret>",
            "asks for one of those key pairs and signs every call in the browser",
        ),
    };
    println!(
        "\
Stepwise {version} is serving the AWS Step Functions API
  console   {endpoint}/   ({console})
  endpoint  {endpoint}
  health    {endpoint}/healthz  {endpoint}/readyz  metrics {endpoint}/metrics
  data      {data}
  auth      {auth}

Point the AWS CLI and SDKs at it:
  export AWS_ENDPOINT_URL={endpoint}
  export {keys} AWS_DEFAULT_REGION={region}
Then try:
  aws stepfunctions list-state-machines
",
        version = env!("CARGO_PKG_VERSION"),
        region = engine.scope.region,
    );
}
