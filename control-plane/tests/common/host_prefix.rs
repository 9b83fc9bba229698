//! The `sync-` host prefix, taken off for tests against `127.0.0.1`.

use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{ConfigBag, Intercept, RuntimeComponents};

/// Removes the `sync-` host prefix the SDK adds for StartSyncExecution and
/// TestState, so a plain `127.0.0.1` endpoint works (the README shows this).
#[derive(Debug)]
pub struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }
    fn modify_before_signing(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let uri = ctx.request().uri().to_string();
        if uri.contains("://sync-") {
            ctx.request_mut().set_uri(uri.replacen("://sync-", "://", 1))?;
        }
        Ok(())
    }
}
