//! Dates and times: `$now`, `$millis`, `$fromMillis`, `$toMillis` with
//! XPath picture strings, and `$formatInteger`/`$parseInteger`. The current
//! time is [`crate::Options::now_millis`], never the clock.

mod calendar;
pub mod integer;

use calendar::{Fields, MILLIS_PER_DAY, fields, utc};
use integer::{Case, IntegerFormat};

use crate::error::{Error, Result};
use crate::eval::Evaluator;
use crate::functions::{Entry, arg, num};
use crate::value::{FrameId, Value};

pub(crate) const ENTRIES: [Entry; 6] = [
    ("now", "<s?s?:s>", 2, now),
    ("millis", "<:n>", 0, millis),
    ("fromMillis", "<n-s?s?:s>", 3, from_millis),
    ("toMillis", "<s-s?:n>", 2, to_millis),
    ("formatInteger", "<n-s:s>", 2, format_integer),
    ("parseInteger", "<s-s:n>", 2, parse_integer),
];

const DAYS: [&str; 8] = ["", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const ISO_PICTURE: &str = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

#[derive(Debug, Clone)]
struct Marker {
    component: char,
    width: Option<(Option<i64>, Option<i64>)>,
    presentation2: Option<char>,
    names: Option<Case>,
    integer: Option<IntegerFormat>,
    n: i64,
}

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Marker(Marker),
}

fn default_presentation(c: char) -> Option<&'static str> {
    Some(match c {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

fn analyse(picture: &str) -> Result<Vec<Part>> {
    let chars: Vec<char> = picture.chars().collect();
    let mut parts = Vec::new();
    let literal = |parts: &mut Vec<Part>, from: usize, to: usize| {
        if to > from {
            let text: String = chars[from..to].iter().collect();
            parts.push(Part::Literal(text.replace("]]", "]")));
        }
    };
    let (mut start, mut pos) = (0, 0);
    while pos < chars.len() {
        if chars[pos] == '[' {
            if chars.get(pos + 1) == Some(&'[') {
                literal(&mut parts, start, pos);
                parts.push(Part::Literal("[".into()));
                pos += 2;
                start = pos;
                continue;
            }
            literal(&mut parts, start, pos);
            start = pos;
            let close = chars[start..].iter().position(|c| *c == ']').map(|i| i + start);
            let Some(close) = close else { return Err(Error::new("D3135")) };
            pos = close;
            let marker: String = chars[start + 1..pos].iter().filter(|c| !c.is_whitespace()).collect();
            parts.push(Part::Marker(marker_spec(&marker)?));
            start = pos + 1;
        }
        pos += 1;
    }
    literal(&mut parts, start, chars.len());
    Ok(parts)
}

fn marker_spec(marker: &str) -> Result<Marker> {
    let component = marker.chars().next().unwrap_or(' ');
    let rest: &str = &marker[component.len_utf8().min(marker.len())..];
    let (pres, width) = match rest.rfind(',') {
        Some(c) => {
            let w = &rest[c + 1..];
            let parse = |s: &str| if s == "*" || s.is_empty() { None } else { parse_int(s) };
            let width = match w.find('-') {
                None => (parse(w), None),
                Some(d) => (parse(&w[..d]), parse(&w[d + 1..])),
            };
            (&rest[..c], Some(width))
        }
        None => (rest, None),
    };
    let mut m = Marker { component, width, presentation2: None, names: None, integer: None, n: -1 };
    let mut p1 = pres.to_string();
    let count = pres.chars().count();
    if count > 1 {
        let last = pres.chars().last().unwrap_or(' ');
        if "atco".contains(last) {
            m.presentation2 = Some(last);
            p1 = pres[..pres.len() - last.len_utf8()].to_string();
        }
    } else if count == 0 {
        p1 = default_presentation(component)
            .ok_or_else(|| Error::new("D3132").value(serde_json::Value::String(component.to_string()).to_string()))?
            .to_string();
    }
    let mut p1c = p1.chars();
    match (p1c.next(), p1c.next()) {
        (Some('n'), _) => m.names = Some(Case::Lower),
        (Some('N'), Some('n')) => m.names = Some(Case::Title),
        (Some('N'), _) => m.names = Some(Case::Upper),
        _ if "YMDdFWwXxHhmsf".contains(component) => {
            let mut pattern = p1.clone();
            if let Some(p2) = m.presentation2 {
                pattern = format!("{pattern};{p2}");
            }
            let mut f = integer::analyse(&pattern)?;
            if let Some((Some(min), _)) = m.width
                && (f.mandatory_digits as i64) < min
            {
                f.mandatory_digits = min.max(0) as usize;
            }
            if "YMD".contains(component) {
                match m.width {
                    Some((_, Some(max))) => {
                        m.n = max;
                        f.mandatory_digits = max.max(0) as usize;
                    }
                    _ => {
                        let w = f.mandatory_digits + f.optional_digits;
                        if w >= 2 {
                            m.n = w as i64;
                        }
                    }
                }
            }
            m.integer = Some(f);
        }
        _ => {}
    }
    if component == 'Z' || component == 'z' {
        m.integer = Some(integer::analyse(&p1)?);
    }
    Ok(m)
}

/// JavaScript's `parseInt` on a decimal prefix.
fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let lead: String = digits.chars().take_while(char::is_ascii_digit).collect();
    lead.parse::<i64>().ok().map(|n| sign * n)
}

fn start_of_first_week(year: i64, month: i64) -> f64 {
    let first = utc(year as f64, month as f64, 1.0, 0.0, 0.0, 0.0, 0.0);
    let mut day = fields(first as i64).weekday;
    if day == 0 {
        day = 7;
    }
    let d = MILLIS_PER_DAY as f64;
    if day > 4 { first + (8 - day) as f64 * d } else { first - (day - 1) as f64 * d }
}

fn delta_weeks(start: f64, end: f64) -> f64 {
    (end - start) / (MILLIS_PER_DAY as f64 * 7.0) + 1.0
}

enum Fragment {
    Number(f64),
    Text(&'static str),
    None,
}

fn next_month(y: i64, m: i64) -> (i64, i64) {
    if m == 11 { (y + 1, 0) } else { (y, m + 1) }
}

fn previous_month(y: i64, m: i64) -> (i64, i64) {
    if m == 0 { (y - 1, 11) } else { (y, m - 1) }
}

fn fragment(date: &Fields, component: char) -> Fragment {
    let n = |v: i64| Fragment::Number(v as f64);
    let today = || utc(date.year as f64, date.month as f64, date.day as f64, 0.0, 0.0, 0.0, 0.0);
    match component {
        'Y' => n(date.year),
        'M' => n(date.month + 1),
        'D' => n(date.day),
        'd' => {
            let first = utc(date.year as f64, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0);
            Fragment::Number((today() - first) / MILLIS_PER_DAY as f64 + 1.0)
        }
        'F' => n(if date.weekday == 0 { 7 } else { date.weekday }),
        'W' => {
            let start = start_of_first_week(date.year, 0);
            let t = today();
            let mut week = delta_weeks(start, t);
            if week > 52.0 {
                if t >= start_of_first_week(date.year + 1, 0) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(date.year - 1, 0), t);
            }
            Fragment::Number(week.floor())
        }
        'w' => {
            let start = start_of_first_week(date.year, date.month);
            let t = today();
            let mut week = delta_weeks(start, t);
            if week > 4.0 {
                let (ny, nm) = next_month(date.year, date.month);
                if t >= start_of_first_week(ny, nm) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                let (py, pm) = previous_month(date.year, date.month);
                week = delta_weeks(start_of_first_week(py, pm), t);
            }
            Fragment::Number(week.floor())
        }
        'X' => {
            let now = date.time as f64;
            if now < start_of_first_week(date.year, 0) {
                n(date.year - 1)
            } else if now >= start_of_first_week(date.year + 1, 0) {
                n(date.year + 1)
            } else {
                n(date.year)
            }
        }
        'x' => {
            let now = date.time as f64;
            let (ny, nm) = next_month(date.year, date.month);
            if now < start_of_first_week(date.year, date.month) {
                n(previous_month(date.year, date.month).1 + 1)
            } else if now >= start_of_first_week(ny, nm) {
                n(nm + 1)
            } else {
                n(date.month + 1)
            }
        }
        'H' => n(date.hours),
        'h' => n(if date.hours % 12 == 0 { 12 } else { date.hours % 12 }),
        'P' => Fragment::Text(if date.hours >= 12 { "pm" } else { "am" }),
        'm' => n(date.minutes),
        's' => n(date.seconds),
        'f' => n(date.millis),
        'C' | 'E' => Fragment::Text("ISO"),
        _ => Fragment::None,
    }
}

fn format_date_time(millis: f64, picture: Option<&str>, timezone: Option<&str>) -> Result<String> {
    let (mut oh, mut om) = (0i64, 0i64);
    if let Some(tz) = timezone {
        let offset = parse_int(tz).unwrap_or(0);
        // The reference's arithmetic: `Math.floor(offset / 100)` and a signed remainder.
        oh = offset.div_euclid(100);
        om = offset % 100;
    }
    let parts = analyse(picture.unwrap_or(ISO_PICTURE))?;
    let offset_millis = (60 * oh + om) * 60_000;
    let date = fields(millis as i64 + offset_millis);
    let mut out = String::new();
    for part in &parts {
        match part {
            Part::Literal(l) => out.push_str(l),
            Part::Marker(m) => out.push_str(&format_component(&date, m, oh, om)?),
        }
    }
    Ok(out)
}

fn format_component(date: &Fields, m: &Marker, oh: i64, om: i64) -> Result<String> {
    let value = fragment(date, m.component);
    let c = m.component;
    if "YMDdFWwXxHhms".contains(c) {
        let Fragment::Number(mut v) = value else { return Ok(String::new()) };
        if c == 'Y' && m.n != -1 {
            v %= 10f64.powi(m.n as i32);
        }
        if let Some(case) = m.names {
            let name = match c {
                'M' | 'x' => MONTHS.get((v as usize).wrapping_sub(1)).copied().unwrap_or(""),
                'F' => DAYS.get(v as usize).copied().unwrap_or(""),
                _ => return Err(Error::new("D3133").value(serde_json::Value::String(c.to_string()).to_string())),
            };
            let mut name = match case {
                Case::Upper => name.to_uppercase(),
                Case::Lower => name.to_lowercase(),
                Case::Title => name.to_string(),
            };
            if let Some((_, Some(max))) = m.width
                && name.chars().count() as i64 > max
            {
                name = name.chars().take(max.max(0) as usize).collect();
            }
            return Ok(name);
        }
        return m.integer.as_ref().map_or(Ok(String::new()), |f| integer::format(v, f));
    }
    match c {
        'f' => match (value, &m.integer) {
            (Fragment::Number(v), Some(f)) => integer::format(v, f),
            _ => Ok(String::new()),
        },
        'Z' | 'z' => {
            let Some(f) = &m.integer else { return Ok(String::new()) };
            let offset = oh * 100 + om;
            let mut s = if f.regular.is_some() {
                integer::format(offset as f64, f)?
            } else {
                match f.mandatory_digits {
                    1 | 2 => {
                        let mut s = integer::format(oh as f64, f)?;
                        if om != 0 {
                            s = format!("{s}:{}", integer::format(om as f64, &integer::analyse("00")?)?);
                        }
                        s
                    }
                    3 | 4 => integer::format(offset as f64, f)?,
                    n => return Err(Error::new("D3134").value(n.to_string())),
                }
            };
            if offset >= 0 {
                s = format!("+{s}");
            }
            if c == 'z' {
                s = format!("GMT{s}");
            }
            if offset == 0 && m.presentation2 == Some('t') {
                s = "Z".into();
            }
            Ok(s)
        }
        'P' => {
            let Fragment::Text(t) = value else { return Ok(String::new()) };
            Ok(if m.names == Some(Case::Upper) { t.to_uppercase() } else { t.to_string() })
        }
        _ => match value {
            Fragment::Text(t) => Ok(t.to_string()),
            Fragment::Number(v) => Ok(crate::number::js_string(v)),
            Fragment::None => Ok(String::new()),
        },
    }
}

fn now(ev: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let t = ev.options.now_millis as f64;
    let s = format_date_time(t, arg(args, 0).as_str(), arg(args, 1).as_str())?;
    Ok(Value::String(s.into()))
}

fn millis(ev: &mut Evaluator, _: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    Ok(Value::Number(ev.options.now_millis as f64))
}

fn from_millis(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(t) = num(args, 0)? else { return Ok(Value::Undefined) };
    let s = format_date_time(t, arg(args, 1).as_str(), arg(args, 2).as_str())?;
    Ok(Value::String(s.into()))
}

fn to_millis(ev: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(ts) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    match arg(args, 1).as_str() {
        None => {
            let t = parse_iso(ts)
                .ok_or_else(|| Error::new("D3110").value(serde_json::Value::String(ts.to_string()).to_string()))?;
            Ok(Value::Number(t))
        }
        Some(p) => Ok(parse_date_time(ts, p, ev.options.now_millis)?.map(Value::Number).unwrap_or_default()),
    }
}

fn format_integer(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(v) = num(args, 0)? else { return Ok(Value::Undefined) };
    let f = integer::analyse(arg(args, 1).as_str().unwrap_or(""))?;
    Ok(Value::String(integer::format(v.floor(), &f)?.into()))
}

fn parse_integer(_: &mut Evaluator, args: &[Value], _: &Value, _: FrameId) -> Result<Value> {
    let Some(s) = arg(args, 0).as_str() else { return Ok(Value::Undefined) };
    Ok(Value::Number(integer::parse_integer(s, arg(args, 1).as_str().unwrap_or(""))?))
}

mod parse;
use parse::{parse_date_time, parse_iso};
