//! What load balancers and scrapers GET, beside the API's POSTs: `/healthz`
//! (the process runs), `/readyz` (the store is open and the scheduler runs;
//! 503 while starting or draining) and `/metrics` (Prometheus text, where
//! this process serves it). They need no signature: a probe cannot sign, and
//! they disclose only the version, readiness and aggregate metrics.

use serde_json::json;

use super::http::Reply;
use crate::engine::Engine;
use crate::telemetry::ProcessGauges;

/// Prometheus' text exposition format.
const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";
const JSON_CONTENT_TYPE: &str = "application/json";

/// The answer to a GET of `path`, or `None` when nothing is served there.
pub async fn get(engine: &Engine, path: &str) -> Option<Reply> {
    let version = env!("CARGO_PKG_VERSION");
    match path {
        // The region and auth mode are what a client needs to sign (the console asks here).
        "/healthz" => {
            let auth = match engine.auth {
                crate::auth::Auth::None => "none",
                crate::auth::Auth::SigV4(_) => "sigv4",
            };
            let region = &engine.scope.region;
            Some(json_reply(200, json!({"status": "ok", "version": version, "region": region, "auth": auth})))
        }
        "/readyz" => {
            let ready = engine.telemetry.ready();
            let status = if ready { 200 } else { 503 };
            let word = if ready { "ready" } else { "not ready" };
            Some(json_reply(status, json!({"status": word, "version": version})))
        }
        "/metrics" => {
            let gauges = ProcessGauges {
                uptime_s: engine.started.elapsed().as_secs_f64(),
                rss_bytes: resident_bytes(),
                database_bytes: engine.database_bytes(),
            };
            // A scrape must answer even when the store cannot: the backlog is then left out.
            if let Ok(Some(b)) = engine.backlog().await {
                crate::telemetry::queue_backlog(b.messages, b.oldest_due_age_ms);
            }
            let text = engine.telemetry.render(&gauges)?;
            Some(Reply {
                status: 200,
                error_type: None,
                body: text.into_bytes(),
                content_type: PROMETHEUS_CONTENT_TYPE,
                headers: &[],
            })
        }
        _ => None,
    }
}

fn json_reply(status: u16, body: serde_json::Value) -> Reply {
    Reply {
        status,
        error_type: None,
        body: body.to_string().into_bytes(),
        content_type: JSON_CONTENT_TYPE,
        headers: &[],
    }
}

/// This process's resident memory (Linux), for the scrape.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}
