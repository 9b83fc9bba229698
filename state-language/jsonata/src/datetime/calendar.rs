//! The proleptic Gregorian calendar in UTC, as JavaScript's `Date` sees it,
//! without a clock: milliseconds since the epoch to fields and back.

pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number: (year, month 1-12, day 1-31).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `Date.UTC`: fields may overflow (month 12 is next January); years 0-99 mean 1900-1999.
pub fn utc(year: f64, month: f64, day: f64, h: f64, mi: f64, s: f64, ms: f64) -> f64 {
    if [year, month, day, h, mi, s, ms].iter().any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let mut year = year.trunc() as i64;
    if (0..=99).contains(&year) {
        year += 1900;
    }
    let month = month.trunc() as i64;
    let y = year + month.div_euclid(12);
    let m = month.rem_euclid(12) + 1;
    let days = days_from_civil(y, m, 1) + day.trunc() as i64 - 1;
    let t = days as f64 * MILLIS_PER_DAY as f64
        + h.trunc() * 3_600_000.0
        + mi.trunc() * 60_000.0
        + s.trunc() * 1000.0
        + ms.trunc();
    if t.abs() > 8.64e15 { f64::NAN } else { t }
}

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub year: i64,
    /// 0-11, as in JavaScript.
    pub month: i64,
    pub day: i64,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
    pub millis: i64,
    /// 0 is Sunday.
    pub weekday: i64,
    pub time: i64,
}

pub fn fields(millis: i64) -> Fields {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let in_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Fields {
        year,
        month: month - 1,
        day,
        hours: in_day / 3_600_000,
        minutes: in_day / 60_000 % 60,
        seconds: in_day / 1000 % 60,
        millis: in_day % 1000,
        weekday: (days + 4).rem_euclid(7),
        time: millis,
    }
}
