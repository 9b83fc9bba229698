//! EventBridge's `cron(minutes hours day-of-month month day-of-week year)`:
//! parsed into sets, and matched against local calendar days and times.
//! Pure: no clock, no time-zone database (the caller resolves local times).

use chrono::{Datelike, NaiveDate, Weekday};

/// EventBridge's year range.
pub const YEAR_MIN: i32 = 1970;
pub const YEAR_MAX: i32 = 2199;

/// A set of values of one field, as a bit set (every field fits in 64 bits
/// except the year, which is kept as a range list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits(u64);

impl Bits {
    pub fn has(&self, v: u32) -> bool {
        v < 64 && self.0 & (1 << v) != 0
    }
    pub fn values(&self) -> impl Iterator<Item = u32> + '_ {
        (0..64).filter(|v| self.has(*v))
    }
}

/// The day-of-month field: values, or EventBridge's `?`, `L` (last day,
/// with an optional offset `L-3`), `W` (nearest weekday) and `LW`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayOfMonth {
    Any,
    Days(Bits),
    Last { offset: u32 },
    NearestWeekday(u32),
    LastWeekday,
}

/// The day-of-week field (1 = Sunday … 7 = Saturday): values, `?`, `nL`
/// (the last such weekday of the month) and `n#k` (the k-th such weekday).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayOfWeek {
    Any,
    Days(Bits),
    Last(u32),
    Nth { day: u32, nth: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    pub minutes: Bits,
    pub hours: Bits,
    pub day_of_month: DayOfMonth,
    pub months: Bits,
    pub day_of_week: DayOfWeek,
    /// Inclusive year ranges with a step: (from, to, step).
    pub years: Vec<(i32, i32, i32)>,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
/// Comma-separated items one field may have, at most (bounds the parse).
const FIELD_ITEMS_MAX: usize = 64;

fn number(s: &str, names: &[&str], offset: u32) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u32 + offset);
    }
    s.parse::<u32>().map_err(|_| format!("'{s}' is not a number"))
}

/// A field of `,`-separated items, each `*`, `v`, `a-b`, with an optional `/step`.
fn bits(field: &str, min: u32, max: u32, names: &[&str], name_offset: u32) -> Result<Bits, String> {
    let mut set = 0u64;
    let items: Vec<&str> = field.split(',').collect();
    if items.len() > FIELD_ITEMS_MAX {
        return Err(format!("'{field}' has too many items"));
    }
    for item in items {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| format!("'{s}' is not a step"))?),
            None => (item, 0),
        };
        let (from, to) = match range {
            "*" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a, names, name_offset)?, number(b, names, name_offset)?),
                None => {
                    let v = number(r, names, name_offset)?;
                    // `5/10`: from 5 to the field's end, every 10.
                    (v, if step > 0 { max } else { v })
                }
            },
        };
        if from < min || to > max || from > to {
            return Err(format!("'{item}' is outside {min}-{max}"));
        }
        if item.contains('/') && step == 0 {
            return Err(format!("'{item}' has a step of 0"));
        }
        let step = step.max(1);
        let mut v = from;
        while v <= to {
            set |= 1 << v;
            v += step;
        }
    }
    Ok(Bits(set))
}

fn day_of_month(field: &str) -> Result<DayOfMonth, String> {
    match field {
        "?" => return Ok(DayOfMonth::Any),
        "L" => return Ok(DayOfMonth::Last { offset: 0 }),
        "LW" => return Ok(DayOfMonth::LastWeekday),
        _ => {}
    }
    if let Some(off) = field.strip_prefix("L-") {
        let offset = off.parse::<u32>().map_err(|_| format!("'{field}' is not a day of month"))?;
        if offset > 30 {
            return Err(format!("'{field}' is not a day of month"));
        }
        return Ok(DayOfMonth::Last { offset });
    }
    if let Some(d) = field.strip_suffix('W') {
        let d = d.parse::<u32>().map_err(|_| format!("'{field}' is not a day of month"))?;
        if !(1..=31).contains(&d) {
            return Err(format!("'{field}' is not a day of month"));
        }
        return Ok(DayOfMonth::NearestWeekday(d));
    }
    Ok(DayOfMonth::Days(bits(field, 1, 31, &[], 0)?))
}

fn day_of_week(field: &str) -> Result<DayOfWeek, String> {
    if field == "?" {
        return Ok(DayOfWeek::Any);
    }
    if field == "L" {
        return Ok(DayOfWeek::Days(Bits(1 << 7)));
    }
    if let Some(d) = field.strip_suffix('L') {
        return Ok(DayOfWeek::Last(
            number(d, &WEEKDAYS, 1)
                .ok()
                .filter(|d| (1..=7).contains(d))
                .ok_or_else(|| format!("'{field}' is not a day of week"))?,
        ));
    }
    if let Some((d, n)) = field.split_once('#') {
        let day = number(d, &WEEKDAYS, 1)?;
        let nth = n.parse::<u32>().map_err(|_| format!("'{field}' is not a day of week"))?;
        if !(1..=7).contains(&day) || !(1..=5).contains(&nth) {
            return Err(format!("'{field}' is not a day of week"));
        }
        return Ok(DayOfWeek::Nth { day, nth });
    }
    Ok(DayOfWeek::Days(bits(field, 1, 7, &WEEKDAYS, 1)?))
}

fn years(field: &str) -> Result<Vec<(i32, i32, i32)>, String> {
    let items: Vec<&str> = field.split(',').collect();
    if items.len() > FIELD_ITEMS_MAX {
        return Err(format!("'{field}' has too many items"));
    }
    items
        .into_iter()
        .map(|item| {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => {
                    (r, s.parse::<i32>().ok().filter(|s| *s > 0).ok_or(format!("'{item}' has a bad step"))?)
                }
                None => (item, 1),
            };
            let parse = |s: &str| s.parse::<i32>().map_err(|_| format!("'{s}' is not a year"));
            let (from, to) = match range {
                "*" => (YEAR_MIN, YEAR_MAX),
                r => match r.split_once('-') {
                    Some((a, b)) => (parse(a)?, parse(b)?),
                    None if item.contains('/') => (parse(r)?, YEAR_MAX),
                    None => (parse(r)?, parse(r)?),
                },
            };
            if from < YEAR_MIN || to > YEAR_MAX || from > to {
                return Err(format!("'{item}' is outside {YEAR_MIN}-{YEAR_MAX}"));
            }
            Ok((from, to, step))
        })
        .collect()
}

impl Cron {
    /// Parses the six fields inside `cron(…)`.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let f: Vec<&str> = text.split_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = f[..] else {
            return Err(format!("a cron expression has 6 fields, not {}", f.len()));
        };
        let cron = Cron {
            minutes: bits(minutes, 0, 59, &[], 0)?,
            hours: bits(hours, 0, 23, &[], 0)?,
            day_of_month: day_of_month(dom)?,
            months: bits(month, 1, 12, &MONTHS, 1)?,
            day_of_week: day_of_week(dow)?,
            years: years(year)?,
        };
        // EventBridge: one of the day fields must be `?`, not both.
        match (&cron.day_of_month, &cron.day_of_week) {
            (DayOfMonth::Any, DayOfWeek::Any) => Err("day-of-month and day-of-week cannot both be '?'".into()),
            (DayOfMonth::Any, _) | (_, DayOfWeek::Any) => Ok(cron),
            _ => Err("one of day-of-month and day-of-week must be '?'".into()),
        }
    }

    pub fn year_matches(&self, year: i32) -> bool {
        self.years.iter().any(|(from, to, step)| (*from..=*to).contains(&year) && (year - from) % step == 0)
    }

    /// Whether the schedule fires on this local calendar day (at some time).
    pub fn day_matches(&self, d: NaiveDate) -> bool {
        if !self.year_matches(d.year()) || !self.months.has(d.month()) {
            return false;
        }
        let last = last_day(d);
        let dom = match &self.day_of_month {
            DayOfMonth::Any => true,
            DayOfMonth::Days(b) => b.has(d.day()),
            DayOfMonth::Last { offset } => last.day().checked_sub(*offset) == Some(d.day()),
            DayOfMonth::NearestWeekday(n) => nearest_weekday(d, (*n).min(last.day())) == d.day(),
            DayOfMonth::LastWeekday => nearest_weekday(d, last.day()) == d.day(),
        };
        let weekday = d.weekday().num_days_from_sunday() + 1;
        let dow = match &self.day_of_week {
            DayOfWeek::Any => true,
            DayOfWeek::Days(b) => b.has(weekday),
            DayOfWeek::Last(w) => *w == weekday && d.day() + 7 > last.day(),
            DayOfWeek::Nth { day, nth } => *day == weekday && (d.day() - 1) / 7 + 1 == *nth,
        };
        dom && dow
    }
}

/// The last day of `d`'s month.
fn last_day(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).and_then(|n| n.pred_opt()).expect("the day before the 1st of a month exists")
}

/// The weekday nearest to day `n` of `d`'s month, within the month (`nW`).
fn nearest_weekday(d: NaiveDate, n: u32) -> u32 {
    let target = d.with_day(n).expect("n is within the month");
    let last = last_day(d).day();
    match target.weekday() {
        Weekday::Sat if n == 1 => 3,
        Weekday::Sat => n - 1,
        Weekday::Sun if n == last => n - 2,
        Weekday::Sun => n + 1,
        _ => n,
    }
}
