//! RFC 3339 timestamps as ASL uses them. Pure: parsing and formatting only.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Nanoseconds since the Unix epoch, from an RFC 3339 string.
pub fn parse_timestamp(s: &str) -> Option<i128> {
    // AWS requires an uppercase 'T' separator and a zone designator.
    if !s.contains('T') {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| t.unix_timestamp_nanos())
}

/// Formats milliseconds since the epoch as AWS prints them (`2024-01-01T00:00:00.000Z`).
pub fn format_millis(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&fmt).unwrap_or_default()
}
