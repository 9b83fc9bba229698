//! How the client commands print: aligned tables and key-value blocks, with
//! status colours only on a terminal, and times in UTC.

use std::io::IsTerminal;

use serde_json::Value;

/// A column's widest cell before it is cut: long ARNs stay readable.
const CELL_CHARS_MAX: usize = 90;

/// A timestamp as AWS JSON 1.0 gives it (seconds) in RFC 3339, UTC.
pub fn time(v: &Value) -> String {
    let Some(s) = v.as_f64() else { return String::new() };
    let ms = (s * 1000.0).round() as i64;
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// A status word, coloured on a terminal (green, red, yellow, blue).
pub fn status(s: &str) -> String {
    if !std::io::stdout().is_terminal() {
        return s.to_string();
    }
    let colour = match s {
        "SUCCEEDED" => "32",
        "FAILED" | "TIMED_OUT" => "31",
        "ABORTED" | "PENDING_REDRIVE" => "33",
        "RUNNING" => "34",
        _ => return s.to_string(),
    };
    format!("\u{1b}[{colour}m{s}\u{1b}[0m")
}

fn visible_len(s: &str) -> usize {
    // Colour codes take no room on screen.
    let mut n = 0;
    let mut escaped = false;
    for c in s.chars() {
        match (escaped, c) {
            (_, '\u{1b}') => escaped = true,
            (true, 'm') => escaped = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

fn cut(s: &str) -> String {
    if s.chars().count() <= CELL_CHARS_MAX {
        return s.to_string();
    }
    let kept: String = s.chars().take(CELL_CHARS_MAX - 1).collect();
    format!("{kept}…")
}

/// An aligned table with a header row.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| cut(c)).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(visible_len(c));
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            out.push_str(c);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i] - visible_len(c) + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.into_iter().map(line));
    out.join("\n")
}

/// `key: value` lines for the fields present, in order.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k:width$}  {v}")).collect::<Vec<_>>().join("\n")
}

/// The text of a field, or empty.
pub fn text(v: &Value, field: &str) -> String {
    match &v[field] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One history event as a timeline line: id, time since the first event, type, detail.
pub fn event_line(e: &Value, first_s: f64) -> String {
    let at = e["timestamp"].as_f64().unwrap_or(first_s) - first_s;
    let ty = text(e, "type");
    let details = e
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.ends_with("EventDetails")))
        .map(|(_, d)| summary(d))
        .unwrap_or_default();
    format!("{:>5}  {:>9.3}s  {:<28} {}", text(e, "id"), at, ty, details)
}

fn summary(d: &Value) -> String {
    let mut parts = Vec::new();
    for key in ["name", "resource", "resourceType", "error", "cause", "output", "input"] {
        if let Some(v) = d.get(key).filter(|v| !v.is_null()) {
            let s = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            parts.push(format!("{key}={}", cut(&s)));
        }
    }
    parts.join(" ")
}
