use chrono::{DateTime, Utc};

use super::*;

fn ms(iso: &str) -> i64 {
    iso.parse::<DateTime<Utc>>().expect("an RFC 3339 time").timestamp_millis()
}

fn iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).expect("in range").format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// (expression, time zone, after, the next fires).
const FIRES: &[(&str, &str, &str, &[&str])] = &[
    ("cron(0 10 * * ? *)", "UTC", "2026-12-06T09:00:00Z", &["2026-12-06T10:00:00Z", "2026-12-07T10:00:00Z"]),
    ("cron(0/15 * * * ? *)", "UTC", "2026-12-06T10:07:00Z", &["2026-12-06T10:15:00Z", "2026-12-06T10:30:00Z"]),
    ("cron(0 12 ? * MON-FRI *)", "UTC", "2026-12-05T13:00:00Z", &["2026-12-07T12:00:00Z", "2026-12-08T12:00:00Z"]),
    ("cron(0 9 L * ? *)", "UTC", "2026-12-06T00:00:00Z", &["2026-12-31T09:00:00Z", "2027-01-31T09:00:00Z"]),
    ("cron(0 9 L-1 2 ? *)", "UTC", "2027-01-01T00:00:00Z", &["2027-02-27T09:00:00Z", "2028-02-28T09:00:00Z"]),
    ("cron(0 9 ? * 6L *)", "UTC", "2026-12-01T00:00:00Z", &["2026-12-25T09:00:00Z", "2027-01-29T09:00:00Z"]),
    ("cron(0 9 ? * 2#1 *)", "UTC", "2026-12-06T00:00:00Z", &["2026-12-07T09:00:00Z", "2027-01-04T09:00:00Z"]),
    // The 15th of May 2027 is a Saturday, of August a Sunday.
    ("cron(0 9 15W * ? 2027)", "UTC", "2027-05-01T00:00:00Z", &["2027-05-14T09:00:00Z", "2027-06-15T09:00:00Z"]),
    ("cron(0 9 1W 5 ? *)", "UTC", "2027-01-01T00:00:00Z", &["2027-05-03T09:00:00Z", "2028-05-01T09:00:00Z"]),
    ("cron(0 9 LW * ? *)", "UTC", "2027-07-01T00:00:00Z", &["2027-07-30T09:00:00Z", "2027-08-31T09:00:00Z"]),
    (
        "cron(0 0 1 JAN,JUL ? 2027-2028)",
        "UTC",
        "2026-12-06T00:00:00Z",
        &["2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"],
    ),
    ("cron(0 0 1 1 ? 2027)", "UTC", "2027-06-01T00:00:00Z", &[]),
    // New York springs forward at 2:00 on 14 March 2027: 2:30 is skipped and
    // fires at the first valid time, 3:00 EDT; the day after is 2:30 EDT.
    (
        "cron(30 2 * * ? *)",
        "America/New_York",
        "2027-03-13T12:00:00Z",
        &["2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"],
    ),
    // It falls back at 2:00 on 7 November 2027: 1:30 happens twice and fires once.
    (
        "cron(30 1 * * ? *)",
        "America/New_York",
        "2027-11-06T12:00:00Z",
        &["2027-11-07T05:30:00Z", "2027-11-08T06:30:00Z"],
    ),
    ("cron(0 9 * * ? *)", "Europe/Berlin", "2026-12-06T00:00:00Z", &["2026-12-06T08:00:00Z"]),
    ("at(2026-12-24T18:00:00)", "Europe/Berlin", "2026-12-06T00:00:00Z", &["2026-12-24T17:00:00Z"]),
    ("at(2026-12-01T18:00:00)", "UTC", "2026-12-06T00:00:00Z", &[]),
    ("at(2027-03-14T02:15:30)", "America/New_York", "2027-01-01T00:00:00Z", &["2027-03-14T07:00:00Z"]),
];

#[test]
fn expressions_fire_when_eventbridge_would() {
    for (expr, tz, after, want) in FIRES {
        let e = Expression::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let tz = timezone(Some(tz)).expect("a zone");
        let mut t = ms(after);
        let mut got = Vec::new();
        for _ in 0..want.len().max(1) {
            match e.next_after(tz, t, 0) {
                Some(next) => {
                    got.push(iso(next));
                    t = next;
                }
                None => break,
            }
        }
        let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want, "{expr} in {tz} after {after}");
    }
}

#[test]
fn a_rate_fires_from_its_anchor_every_period_of_fixed_length() {
    let e = Expression::parse("rate(5 minutes)").expect("valid");
    let anchor = ms("2026-12-06T10:00:00Z");
    assert_eq!(e.next_after(chrono_tz::UTC, anchor - 1, anchor), Some(anchor));
    assert_eq!(e.next_after(chrono_tz::UTC, anchor, anchor), Some(anchor + 300_000));
    assert_eq!(e.next_after(chrono_tz::UTC, anchor + 299_999, anchor), Some(anchor + 300_000));
    let day = Expression::parse("rate(1 day)").expect("valid");
    let before_dst = ms("2027-03-13T12:00:00Z");
    let ny = timezone(Some("America/New_York")).expect("a zone");
    assert_eq!(day.next_after(ny, before_dst, before_dst), Some(before_dst + 86_400_000), "24 hours, not a local day");
}

#[test]
fn bad_expressions_and_zones_are_refused() {
    for bad in [
        "rate(0 minutes)",
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(5 weeks)",
        "rate(-5 minutes)",
        "cron(0 10 * * * *)",
        "cron(0 10 ? * ? *)",
        "cron(0 10 * *)",
        "cron(60 10 * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 10 32 * ? *)",
        "cron(0 10 ? * 8 *)",
        "cron(0 10 ? * 2#6 *)",
        "cron(0 10 * * ? 1969)",
        "cron(0/0 10 * * ? *)",
        "at(2026-13-01T00:00:00)",
        "at(2026-12-01 00:00:00)",
        "every 5 minutes",
        "",
    ] {
        assert!(Expression::parse(bad).is_err(), "{bad} was accepted");
    }
    assert!(timezone(Some("Mars/Olympus_Mons")).is_err());
    assert!(timezone(Some("America/Los_Angeles")).is_ok());
}

#[test]
fn execution_names_are_deterministic_valid_and_distinct_per_group() {
    let t = ms("2026-12-06T10:00:00Z");
    assert_eq!(execution_name(DEFAULT_GROUP, "nightly", t), "nightly-20261206T100000Z");
    let other = execution_name("reports", "nightly", t);
    assert_ne!(other, "nightly-20261206T100000Z");
    assert_eq!(other, execution_name("reports", "nightly", t));
    let long = "n".repeat(64);
    for group in [DEFAULT_GROUP, "a-group-with-a-long-name"] {
        let n = execution_name(group, &long, t);
        assert!(n.len() <= 80, "{n} is {} characters", n.len());
        crate::arn::check_name(&n).expect("a valid execution name");
    }
}

#[test]
fn a_flexible_offset_is_stable_and_within_the_window() {
    for t in [0, 60_000, 1_765_000_000_000] {
        let a = flexible_offset_ms("arn:s", t, 15);
        assert_eq!(a, flexible_offset_ms("arn:s", t, 15));
        assert!((0..15 * 60_000).contains(&a));
    }
    assert_eq!(flexible_offset_ms("arn:s", 0, 0), 0);
}

#[test]
fn context_attributes_are_filled_in_for_each_fire() {
    let input = r#"{"schedule":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>","id":"<aws.scheduler.execution-id>","n":"<aws.scheduler.attempt-number>"}"#;
    let got = with_context(input, "arn:s", ms("2026-12-06T10:00:00Z"), "nightly-20261206T100000Z");
    assert_eq!(got, r#"{"schedule":"arn:s","at":"2026-12-06T10:00:00Z","id":"nightly-20261206T100000Z","n":"1"}"#);
    assert_eq!(with_context("{}", "arn:s", 0, "x"), "{}");
}

#[test]
fn a_refused_fire_is_retried_with_backoff_until_its_policy_gives_up() {
    let rec = |policy: serde_json::Value| -> ScheduleRecord {
        serde_json::from_value(serde_json::json!({
            "arn": "arn:s", "name": "n", "group": "default", "expression": "rate(1 hour)", "state": "ENABLED",
            "flexibleTimeWindow": {"Mode": "OFF"}, "creationMs": 0, "modifiedMs": 0, "anchorMs": 0, "generation": 1,
            "target": {"Arn": "arn:t", "RoleArn": "arn:r", "RetryPolicy": policy},
        }))
        .expect("a record")
    };
    let default = rec(serde_json::Value::Null);
    assert_eq!(default.retry_policy(), (185, 86_400_000));
    assert_eq!(default.after_refusal(0, 0, 0), AfterRefusal::Retry { attempt: 1, due_ms: 1_000 });
    assert_eq!(default.after_refusal(0, 3, 10_000), AfterRefusal::Retry { attempt: 4, due_ms: 18_000 });
    assert_eq!(
        default.after_refusal(0, 12, 0),
        AfterRefusal::Retry { attempt: 13, due_ms: 300_000 },
        "at most 5 minutes apart"
    );
    let two = rec(serde_json::json!({"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60}));
    assert_eq!(two.after_refusal(0, 2, 0), AfterRefusal::DeadLetter { condition: "MaximumRetryAttemptsExhausted" });
    assert_eq!(two.after_refusal(0, 1, 59_000), AfterRefusal::DeadLetter { condition: "MaximumEventAgeExhausted" });
    let none = rec(serde_json::json!({"MaximumRetryAttempts": 0}));
    assert_eq!(none.after_refusal(0, 0, 0), AfterRefusal::DeadLetter { condition: "MaximumRetryAttemptsExhausted" });
}
