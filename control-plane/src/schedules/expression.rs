//! Schedule expressions: `at(…)`, `rate(…)` and `cron(…)`, and their fire
//! times in an IANA time zone. Pure: the time is an argument, and the time
//! zone database is compiled in (chrono-tz).

use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;

use super::cron::{Cron, YEAR_MAX};

/// EventBridge's bound on an expression, in characters.
pub const EXPRESSION_CHARS_MAX: usize = 256;
/// EventBridge's bound on a time zone name, in characters.
pub const TIMEZONE_CHARS_MAX: usize = 50;
/// Minutes a skipped local time may be from the end of its gap (a DST gap
/// is at most a few hours; Lord Howe's is 30 minutes).
const GAP_MINUTES_MAX: u32 = 24 * 60;
/// Local days one search for the next cron fire looks at, at most: past
/// that the expression has no further fire (its years are over).
const SEARCH_DAYS_MAX: i64 = 366 * (YEAR_MAX as i64 - 1970 + 1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// A one-time schedule, at a local time.
    At(NaiveDateTime),
    /// Every `every_ms`, from the start date (or the creation time).
    Rate {
        every_ms: i64,
    },
    Cron(Box<Cron>),
}

fn invalid(text: &str, why: &str) -> String {
    format!("Invalid Schedule Expression {text}: {why}")
}

impl Expression {
    pub fn parse(text: &str) -> Result<Expression, String> {
        let inner = |prefix: &str| text.strip_prefix(prefix).and_then(|t| t.strip_suffix(')'));
        if let Some(at) = inner("at(") {
            let t = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S")
                .map_err(|_| invalid(text, "an at() expression is at(yyyy-mm-ddThh:mm:ss)"))?;
            return Ok(Expression::At(t));
        }
        if let Some(rate) = inner("rate(") {
            let mut parts = rate.split(' ');
            let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(invalid(text, "a rate() expression is rate(value unit)"));
            };
            let value: i64 = value
                .parse()
                .ok()
                .filter(|v| *v > 0 && *v <= 1_000_000)
                .ok_or_else(|| invalid(text, "the value of a rate() expression is a positive whole number"))?;
            let unit_ms = match unit {
                "minute" | "minutes" => 60_000,
                "hour" | "hours" => 3_600_000,
                "day" | "days" => 86_400_000,
                _ => return Err(invalid(text, "the unit of a rate() expression is minutes, hours or days")),
            };
            // EventBridge: 1 takes the singular unit, other values the plural.
            if (value == 1) == unit.ends_with('s') {
                return Err(invalid(text, "use the singular unit for a value of 1 and the plural otherwise"));
            }
            return Ok(Expression::Rate { every_ms: value * unit_ms });
        }
        if let Some(cron) = inner("cron(") {
            return Ok(Expression::Cron(Box::new(Cron::parse(cron).map_err(|why| invalid(text, &why))?)));
        }
        Err(invalid(text, "an expression is at(…), rate(…) or cron(…)"))
    }

    /// The first fire strictly after `after_ms`; `anchor_ms` is a rate's
    /// first fire (the start date, or the creation time). `None`: no more.
    pub fn next_after(&self, tz: Tz, after_ms: i64, anchor_ms: i64) -> Option<i64> {
        match self {
            Expression::At(local) => resolve(tz, *local).filter(|t| *t > after_ms),
            Expression::Rate { every_ms } => {
                if after_ms < anchor_ms {
                    return Some(anchor_ms);
                }
                // A rate is a fixed duration (a day is 24 hours, DST or not).
                Some(anchor_ms + ((after_ms - anchor_ms) / every_ms + 1) * every_ms)
            }
            Expression::Cron(c) => next_cron(c, tz, after_ms),
        }
    }
}

/// A local time as an instant. A time repeated when the clocks go back
/// fires once, at its first occurrence; a time skipped when they go forward
/// fires at the first valid time after the gap.
pub fn resolve(tz: Tz, local: NaiveDateTime) -> Option<i64> {
    for minutes in 0..=GAP_MINUTES_MAX {
        let t = local + Duration::minutes(i64::from(minutes));
        // Past the gap, the first valid local time is a whole minute.
        let t = if minutes == 0 { t } else { t.with_second(0).expect("0 is a second") };
        match tz.from_local_datetime(&t) {
            LocalResult::Single(x) => return Some(x.timestamp_millis()),
            LocalResult::Ambiguous(first, _) => return Some(first.timestamp_millis()),
            LocalResult::None => continue,
        }
    }
    None
}

fn next_cron(c: &Cron, tz: Tz, after_ms: i64) -> Option<i64> {
    let after = tz.timestamp_millis_opt(after_ms).single()?.naive_local();
    // Start the day before: a time skipped at the end of a day may resolve past midnight.
    let mut day = after.date().pred_opt()?;
    for _ in 0..SEARCH_DAYS_MAX {
        if day.year() > YEAR_MAX {
            return None;
        }
        if !c.year_matches(day.year()) {
            day = NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)?;
            continue;
        }
        if !c.months.has(day.month()) {
            day = first_of_next_month(day)?;
            continue;
        }
        if c.day_matches(day) {
            for h in c.hours.values() {
                for m in c.minutes.values() {
                    let local = day.and_time(NaiveTime::from_hms_opt(h, m, 0)?);
                    if let Some(t) = resolve(tz, local).filter(|t| *t > after_ms) {
                        return Some(t);
                    }
                }
            }
        }
        day = day.succ_opt()?;
    }
    None
}

fn first_of_next_month(d: NaiveDate) -> Option<NaiveDate> {
    if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    }
}

/// An IANA time zone by name (EventBridge's default is UTC).
pub fn timezone(name: Option<&str>) -> Result<Tz, String> {
    match name {
        None => Ok(Tz::UTC),
        Some(n) => {
            n.parse::<Tz>().map_err(|_| format!("Invalid ScheduleExpressionTimezone {n}: not an IANA time zone"))
        }
    }
}
