//! OTLP traces: one trace per execution, a span per state and per task
//! attempt, Parallel and Map states holding their branches' states, and a
//! nested execution under its parent's span. Spans are rebuilt from the
//! history when an execution closes, with ids derived from its ARN, so a
//! crash, a redelivery or another process building them again makes the
//! same spans, and a parent can name its child's parent span before the
//! child runs. On only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the exporter reads the rest
//! of the standard `OTEL_*` variables itself (protocol, headers, timeout).

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{
    Span, SpanBuilder, SpanContext, SpanId, Status, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use serde_json::Value;

use crate::Error;
use crate::model::ExecutionRecord;

/// Executions waiting for their spans to be built; past it, a close is
/// dropped (and logged) rather than holding memory for a slow collector.
pub const CLOSED_QUEUE_MAX: usize = 4096;
/// A trace gets at most this many spans; a longer history is cut (and says so).
pub const SPANS_PER_EXECUTION_MAX: usize = 10_000;

pub struct Traces {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl Traces {
    /// The exporter the environment asks for, or `None` when it asks for none.
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> Result<Option<Traces>, Error> {
        let wanted = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];
        if !wanted.iter().any(|v| vars(v).is_some_and(|s| !s.is_empty())) {
            return Ok(None);
        }
        let protocol = match vars("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
            Some("http/json") => opentelemetry_otlp::Protocol::HttpJson,
            None | Some("http/protobuf") => opentelemetry_otlp::Protocol::HttpBinary,
            Some(other) => {
                return Err(Error::Config(format!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL={other}: Stepwise exports over http/protobuf or http/json"
                )));
            }
        };
        use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(protocol)
            .with_headers(HashMap::new())
            .build()
            .map_err(|e| Error::Config(format!("the OTLP exporter: {e}")))?;
        let resource = opentelemetry_sdk::Resource::builder().with_service_name("stepwise").build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .with_id_generator(PlannedIds)
            .build();
        let tracer = provider.tracer("stepwise");
        Ok(Some(Traces { provider, tracer }))
    }

    /// Sends what is buffered (a Lambda must before it is frozen).
    pub fn flush(&self) {
        if let Err(e) = self.provider.force_flush() {
            tracing::warn!(error = %e, "the trace exporter did not flush");
        }
    }

    pub fn shutdown(&self) {
        let _ = self.provider.shutdown();
    }

    /// Builds and ends the spans of a closed execution from its history.
    pub fn export(&self, rec: &ExecutionRecord, events: &[Value]) {
        let ids = ExecutionIds::of(rec);
        let stop_ms = rec.stop_ms.unwrap_or(rec.start_ms);
        plan_ids(ids.trace, ids.root);
        let mut root = self.tracer.build_with_context(
            SpanBuilder::from_name(format!("execution {}", rec.machine_name))
                .with_start_time(at(rec.start_ms))
                .with_attributes([
                    KeyValue::new("stepwise.execution_arn", rec.arn.clone()),
                    KeyValue::new("stepwise.state_machine_arn", rec.machine_arn.clone()),
                    KeyValue::new("stepwise.status", rec.status.as_str()),
                ]),
            &ids.parent_context(),
        );
        PLANNED.with(|p| p.set(None));
        if rec.status != crate::model::ExecutionStatus::Succeeded {
            root.set_status(Status::error(rec.error.clone().unwrap_or_else(|| rec.status.to_string())));
        }
        let planned = if rec.code().is_some() {
            code_spans_of(&rec.arn, events, stop_ms)
        } else {
            spans_of(&rec.arn, events, stop_ms)
        };
        for s in planned {
            let parent = s.parent.unwrap_or(ids.root);
            let cx = Context::new().with_remote_span_context(span_context(ids.trace, parent));
            plan_ids(ids.trace, s.id);
            let builder = SpanBuilder::from_name(s.name).with_start_time(at(s.start_ms)).with_attributes(s.attributes);
            let mut span = self.tracer.build_with_context(builder, &cx);
            PLANNED.with(|p| p.set(None));
            if let Some(error) = s.error {
                span.set_status(Status::error(error));
            }
            span.end_with_timestamp(at(s.end_ms));
        }
        root.end_with_timestamp(at(stop_ms));
    }
}

thread_local! {
    /// The ids the next span built on this thread takes: the SDK's builder
    /// no longer takes ids, and ours are derived, not random.
    static PLANNED: std::cell::Cell<Option<(TraceId, SpanId)>> = const { std::cell::Cell::new(None) };
}

fn plan_ids(trace: TraceId, span: SpanId) {
    PLANNED.with(|p| p.set(Some((trace, span))));
}

/// Gives the planned ids (once each), else random ones as the SDK would.
#[derive(Debug)]
struct PlannedIds;

impl opentelemetry_sdk::trace::IdGenerator for PlannedIds {
    fn new_trace_id(&self) -> TraceId {
        PLANNED
            .with(|p| p.get())
            .map_or_else(|| opentelemetry_sdk::trace::RandomIdGenerator::default().new_trace_id(), |(t, _)| t)
    }

    fn new_span_id(&self) -> SpanId {
        match PLANNED.with(|p| p.get()) {
            Some((_, s)) => s,
            None => opentelemetry_sdk::trace::RandomIdGenerator::default().new_span_id(),
        }
    }
}

fn at(ms: i64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

fn span_context(trace: TraceId, span: SpanId) -> SpanContext {
    SpanContext::new(trace, span, TraceFlags::SAMPLED, true, TraceState::default())
}

/// An execution's trace id, root span id and the span its root hangs from.
pub struct ExecutionIds {
    pub trace: TraceId,
    pub root: SpanId,
    pub parent: Option<SpanId>,
}

impl ExecutionIds {
    /// From the W3C `traceparent` it was started with (a caller's, or its
    /// parent execution's), else derived from its ARN.
    pub fn of(rec: &ExecutionRecord) -> ExecutionIds {
        let root = SpanId::from_bytes(derive(&rec.arn, "root"));
        match rec.trace_header.as_deref().and_then(parse_traceparent) {
            Some((trace, parent)) => ExecutionIds { trace, root, parent: Some(parent) },
            None => ExecutionIds { trace: TraceId::from_bytes(derive16(&rec.arn)), root, parent: None },
        }
    }

    fn parent_context(&self) -> Context {
        match self.parent {
            Some(p) => Context::new().with_remote_span_context(span_context(self.trace, p)),
            None => Context::new(),
        }
    }

    /// The `traceparent` a task of this execution carries (its root span as parent).
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-01", self.trace, self.root)
    }
}

/// `00-<trace id>-<parent span id>-<flags>`, or `None` if it is not one.
pub fn parse_traceparent(header: &str) -> Option<(TraceId, SpanId)> {
    let parts: Vec<&str> = header.trim().split('-').collect();
    let [version, trace, span, _flags] = parts.as_slice() else { return None };
    if *version != "00" || trace.len() != 32 || span.len() != 16 {
        return None;
    }
    let trace = TraceId::from_hex(trace).ok().filter(|t| *t != TraceId::INVALID)?;
    let span = SpanId::from_hex(span).ok().filter(|s| *s != SpanId::INVALID)?;
    Some((trace, span))
}

fn derive(arn: &str, what: &str) -> [u8; 8] {
    let h = crate::store::sha256_hex(format!("{arn}#{what}").as_bytes());
    let mut out = [0u8; 8];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("sha256_hex gives hex");
    }
    out
}

fn derive16(arn: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&derive(arn, "trace-hi"));
    out[8..].copy_from_slice(&derive(arn, "trace-lo"));
    out
}

mod code_spans;
mod spans;
pub use code_spans::code_spans_of;
pub use spans::{PlannedSpan, spans_of};
