//! `$toMillis`: ISO 8601 timestamps, and timestamps read with a picture.

use std::collections::HashMap;

use super::calendar::{fields, utc};
use super::integer;
use super::{DAYS, MONTHS, Marker, Part, analyse, fragment};
use crate::error::{Error, Result};

/// `^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`,
/// then `Date.parse` of it; `None` when the text is not of that shape.
pub fn parse_iso(s: &str) -> Option<f64> {
    let re = regex::Regex::new(
        r"^(\d{4})(?:-([01]\d))?(?:-([0-3]\d))?(?:T([0-2]\d):([0-5]\d):([0-5]\d))?(?:\.(\d+))?(?:([+-])([0-2]\d):?([0-5]\d)|(Z))?$",
    )
    .ok()?;
    let c = re.captures(s)?;
    let get = |i: usize| c.get(i).map(|m| m.as_str());
    let n = |i: usize, d: f64| get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(d);
    let (month, day) = (n(2, 1.0), n(3, 1.0));
    if !(1.0..=12.0).contains(&month) || !(1.0..=31.0).contains(&day) || n(4, 0.0) > 24.0 {
        return Some(f64::NAN);
    }
    let frac = get(7).map(|f| format!("0.{f}").parse::<f64>().unwrap_or(0.0) * 1000.0).unwrap_or(0.0);
    let days = super::calendar::days_from_civil(n(1, 1970.0) as i64, month as i64, day as i64);
    let mut t = days as f64 * super::calendar::MILLIS_PER_DAY as f64
        + n(4, 0.0) * 3_600_000.0
        + n(5, 0.0) * 60_000.0
        + n(6, 0.0) * 1000.0
        + frac.trunc();
    if let (Some(sign), Some(hh), Some(mm)) = (get(8), get(9), get(10)) {
        let offset = hh.parse::<f64>().unwrap_or(0.0) * 60.0 + mm.parse::<f64>().unwrap_or(0.0);
        t -= if sign == "-" { -offset } else { offset } * 60_000.0;
    }
    Some(t)
}

struct MatchPart {
    regex: String,
    component: Option<char>,
    parse: Parser,
}

enum Parser {
    None,
    Integer(integer::IntegerFormat),
    Names(HashMap<String, f64>),
    Offset { separator: Option<char>, gmt: bool },
}

fn escape(literal: &str) -> String {
    regex::escape(literal)
}

fn match_part(part: &Part) -> Result<MatchPart> {
    let m: &Marker = match part {
        Part::Literal(l) => return Ok(MatchPart { regex: escape(l), component: None, parse: Parser::None }),
        Part::Marker(m) => m,
    };
    let c = m.component;
    if c == 'Z' || c == 'z' {
        let f = m.integer.as_ref();
        let separator = f.and_then(|f| f.regular).map(|(_, ch)| ch);
        let mut regex = String::new();
        if c == 'z' {
            regex.push_str("GMT");
        }
        regex.push_str("[-+][0-9]+");
        if let Some(sep) = separator {
            regex.push_str(&escape(&sep.to_string()));
            regex.push_str("[0-9]+");
        }
        return Ok(MatchPart { regex, component: Some(c), parse: Parser::Offset { separator, gmt: c == 'z' } });
    }
    if let Some(f) = &m.integer {
        let mut f = f.clone();
        f.n = m.n;
        let regex = integer::matcher(&f)?;
        return Ok(MatchPart { regex, component: Some(c), parse: Parser::Integer(f) });
    }
    let max = m.width.and_then(|w| w.1);
    let cut = |name: &str| match max {
        Some(n) if n > 0 => name.chars().take(n as usize).collect::<String>(),
        _ => name.to_string(),
    };
    let lookup: HashMap<String, f64> = match c {
        'M' | 'x' => MONTHS.iter().enumerate().map(|(i, n)| (cut(n).to_lowercase(), i as f64 + 1.0)).collect(),
        'F' => DAYS.iter().enumerate().skip(1).map(|(i, n)| (cut(n).to_lowercase(), i as f64)).collect(),
        'P' => [("am", 0.0), ("pm", 1.0)].iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        _ => return Err(Error::new("D3133").value(serde_json::Value::String(c.to_string()).to_string())),
    };
    Ok(MatchPart { regex: "[a-zA-Z]+".into(), component: Some(c), parse: Parser::Names(lookup) })
}

fn parse_value(p: &Parser, text: &str) -> Option<f64> {
    match p {
        Parser::None => None,
        Parser::Integer(f) => Some(integer::parse(text, f)),
        Parser::Names(lookup) => Some(lookup.get(&text.to_lowercase()).copied().unwrap_or(f64::NAN)),
        Parser::Offset { separator, gmt } => {
            let v = if *gmt { text.get(3..).unwrap_or("") } else { text };
            let int = |s: &str| super::parse_int(s).unwrap_or(0) as f64;
            let (h, m) = match separator {
                Some(sep) => match v.split_once(*sep) {
                    Some((a, b)) => (int(a), int(b)),
                    None => (int(v), 0.0),
                },
                None if v.len() <= 3 => (int(v), 0.0),
                None => (int(&v[..3]), int(&v[3..])),
            };
            Some(h * 60.0 + m)
        }
    }
}

/// Reads `timestamp` with `picture`; `None` when it does not match.
pub fn parse_date_time(timestamp: &str, picture: &str, now_millis: i64) -> Result<Option<f64>> {
    let parts = analyse(picture)?;
    let matchers = parts.iter().map(match_part).collect::<Result<Vec<_>>>()?;
    let full = format!("(?i)^{}$", matchers.iter().map(|m| format!("({})", m.regex)).collect::<String>());
    let re = regex::Regex::new(&full).map_err(|e| Error::new("S0303").detail(e.to_string()))?;
    let Some(caps) = re.captures(timestamp) else { return Ok(None) };
    let mut comps: HashMap<char, f64> = HashMap::new();
    for (i, m) in matchers.iter().enumerate() {
        if let (Some(c), Some(v)) = (m.component, caps.get(i + 1).and_then(|g| parse_value(&m.parse, g.as_str()))) {
            comps.insert(c, v);
        }
    }
    if comps.is_empty() {
        return Ok(None);
    }
    let has = |c: char, comps: &HashMap<char, f64>| comps.get(&c).is_some_and(|v| *v != 0.0 && !v.is_nan());
    let mask_of =
        |order: &str, comps: &HashMap<char, f64>| order.chars().fold(0u32, |m, c| (m << 1) | u32::from(has(c, comps)));
    let is_type = |t: u32, mask: u32| (!t & mask) == 0 && (t & mask) != 0;
    let dmask = mask_of("YXMxWwdD", &comps);
    let date_a = is_type(161, dmask);
    let date_b = !date_a && is_type(130, dmask);
    let date_c = is_type(84, dmask);
    let date_d = !date_c && is_type(72, dmask);
    let tmask = mask_of("PHhmsf", &comps);
    let time_a = is_type(23, tmask);
    let time_b = !time_a && is_type(47, tmask);
    let date_comps = if date_b {
        "YD"
    } else if date_c {
        "XxwF"
    } else if date_d {
        "XWF"
    } else {
        "YMD"
    };
    let time_comps = if time_b { "Phmsf" } else { "Hmsf" };
    let now = fields(now_millis);
    let (mut start_specified, mut end_specified) = (false, false);
    for part in date_comps.chars().chain(time_comps.chars()) {
        match comps.entry(part) {
            std::collections::hash_map::Entry::Occupied(_) => {
                start_specified = true;
                if end_specified {
                    return Err(Error::new("D3136"));
                }
            }
            std::collections::hash_map::Entry::Vacant(slot) if start_specified => {
                slot.insert(if "MDd".contains(part) { 1.0 } else { 0.0 });
                end_specified = true;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                // Unspecified leading components come from the current time.
                slot.insert(match fragment(&now, part) {
                    super::Fragment::Number(n) => n,
                    _ => 0.0,
                });
            }
        }
    }
    let get = |c: char| comps.get(&c).copied().unwrap_or(0.0);
    let mut month = if get('M') > 0.0 { get('M') - 1.0 } else { 0.0 };
    let mut day = get('D');
    if date_b {
        let first = utc(get('Y'), 0.0, 1.0, 0.0, 0.0, 0.0, 0.0);
        let derived = fields((first + (get('d') - 1.0) * super::MILLIS_PER_DAY as f64) as i64);
        month = derived.month as f64;
        day = derived.day as f64;
    }
    if date_c || date_d {
        return Err(Error::new("D3136"));
    }
    let mut hours = get('H');
    if time_b {
        hours = if get('h') == 12.0 { 0.0 } else { get('h') };
        if get('P') == 1.0 {
            hours += 12.0;
        }
    }
    let mut millis = utc(get('Y'), month, day, hours, get('m'), get('s'), get('f'));
    let offset = comps.get(&'Z').or_else(|| comps.get(&'z')).copied().unwrap_or(0.0);
    if offset != 0.0 {
        millis -= offset * 60_000.0;
    }
    Ok(Some(millis))
}
