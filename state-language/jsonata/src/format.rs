//! `$formatNumber`: XPath's `format-number` picture strings, ported from
//! the reference.

use crate::error::{Error, Result};
use crate::value::{Object, Value};

struct Props {
    decimal: char,
    grouping: char,
    exponent: char,
    minus: String,
    percent: char,
    per_mille: char,
    zero: char,
    digit: char,
    pattern: char,
}

struct Parts {
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fractional: Vec<char>,
    picture: Vec<char>,
}

struct Pic {
    integer_grouping: Vec<usize>,
    regular_grouping: usize,
    min_integer: usize,
    scaling: usize,
    prefix: String,
    fractional_grouping: Vec<usize>,
    min_fraction: usize,
    max_fraction: usize,
    min_exponent: usize,
    suffix: String,
    picture: Vec<char>,
}

fn prop(options: Option<&Object>, key: &str, default: &str) -> String {
    options.and_then(|o| o.get(key)).and_then(Value::as_str).unwrap_or(default).to_string()
}

fn first(s: &str) -> char {
    s.chars().next().unwrap_or('\0')
}

fn index_of(hay: &[char], c: char) -> Option<usize> {
    hay.iter().position(|x| *x == c)
}

fn last_index_of(hay: &[char], c: char) -> Option<usize> {
    hay.iter().rposition(|x| *x == c)
}

pub fn format_number(value: f64, picture: &str, options: Option<&Object>) -> Result<String> {
    let p = Props {
        decimal: first(&prop(options, "decimal-separator", ".")),
        grouping: first(&prop(options, "grouping-separator", ",")),
        exponent: first(&prop(options, "exponent-separator", "e")),
        minus: prop(options, "minus-sign", "-"),
        percent: first(&prop(options, "percent", "%")),
        per_mille: first(&prop(options, "per-mille", "\u{2030}")),
        zero: first(&prop(options, "zero-digit", "0")),
        digit: first(&prop(options, "digit", "#")),
        pattern: first(&prop(options, "pattern-separator", ";")),
    };
    let family: Vec<char> = (0..10).filter_map(|i| char::from_u32(p.zero as u32 + i)).collect();
    let is_digit = |c: char| family.contains(&c);
    let active: Vec<char> =
        family.iter().copied().chain([p.decimal, p.exponent, p.grouping, p.digit, p.pattern]).collect();
    let is_active = |c: char| active.contains(&c);
    let sub_pictures: Vec<Vec<char>> = picture.split(p.pattern).map(|s| s.chars().collect()).collect();
    if sub_pictures.len() > 2 {
        return Err(Error::new("D3080"));
    }
    let split_parts = |sub: &Vec<char>| -> Parts {
        let prefix_len = sub.iter().position(|c| is_active(*c) && *c != p.exponent).unwrap_or(sub.len());
        let suffix_start = sub.iter().rposition(|c| is_active(*c) && *c != p.exponent).map_or(sub.len(), |i| i + 1);
        let prefix = sub[..prefix_len].to_vec();
        let suffix = sub[suffix_start.max(prefix_len)..].to_vec();
        let active_part = sub[prefix_len..sub.len() - suffix.len()].to_vec();
        let exp_pos = sub.iter().skip(prefix_len).position(|c| *c == p.exponent).map(|i| i + prefix_len);
        let (mantissa, exponent) = match exp_pos {
            Some(e) if e <= sub.len() - suffix.len() => {
                let rel = e - prefix_len;
                (
                    active_part[..rel.min(active_part.len())].to_vec(),
                    Some(active_part[(rel + 1).min(active_part.len())..].to_vec()),
                )
            }
            _ => (active_part.clone(), None),
        };
        let (integer, fractional) = match index_of(&mantissa, p.decimal) {
            None => (mantissa.clone(), suffix.clone()),
            Some(d) => (mantissa[..d].to_vec(), mantissa[d + 1..].to_vec()),
        };
        Parts { prefix, suffix, active: active_part, mantissa, exponent, integer, fractional, picture: sub.clone() }
    };
    let parts: Vec<Parts> = sub_pictures.iter().map(split_parts).collect();
    for parts in &parts {
        validate(parts, &p, &is_digit, &is_active)?;
    }
    let mut pics: Vec<Pic> = parts.iter().map(|x| analyse(x, &p, &is_digit)).collect();
    if pics.len() == 1 {
        let mut neg = analyse(&parts[0], &p, &is_digit);
        neg.prefix = format!("{}{}", p.minus, neg.prefix);
        pics.push(neg);
    }
    let pic = if value >= 0.0 { &pics[0] } else { &pics[1] };
    let adjusted = if pic.picture.contains(&p.percent) {
        value * 100.0
    } else if pic.picture.contains(&p.per_mille) {
        value * 1000.0
    } else {
        value
    };
    let (mantissa, exponent) = if pic.min_exponent == 0 {
        (adjusted, None)
    } else {
        let max_m = 10f64.powi(pic.scaling as i32);
        let min_m = 10f64.powi(pic.scaling as i32 - 1);
        let (mut m, mut e) = (adjusted, 0i32);
        // Bounded: each step moves the value a decade towards [min, max].
        while m < min_m && m != 0.0 && e > -400 {
            m *= 10.0;
            e -= 1;
        }
        while m > max_m && e < 400 {
            m /= 10.0;
            e += 1;
        }
        (m, Some(e))
    };
    let rounded = crate::functions::round_to(mantissa, pic.max_fraction as i64);
    let to_family = |s: String| -> String {
        s.chars().map(|c| if c.is_ascii_digit() { family[(c as u8 - b'0') as usize] } else { c }).collect()
    };
    let make = |v: f64, dp: usize| to_family(format!("{:.*}", dp, v.abs()));
    let mut sv: Vec<char> = make(rounded, pic.max_fraction).chars().collect();
    match index_of(&sv, '.') {
        None => sv.push(p.decimal),
        Some(i) => sv[i] = p.decimal,
    }
    while sv.first() == Some(&p.zero) {
        sv.remove(0);
    }
    while sv.last() == Some(&p.zero) {
        sv.pop();
    }
    let dp = index_of(&sv, p.decimal).unwrap_or(0);
    let pad_left = pic.min_integer as i64 - dp as i64;
    let pad_right = pic.min_fraction as i64 - (sv.len() as i64 - dp as i64 - 1);
    if pad_left > 0 {
        let mut v = vec![p.zero; pad_left as usize];
        v.extend(sv);
        sv = v;
    }
    if pad_right > 0 {
        sv.extend(std::iter::repeat_n(p.zero, pad_right as usize));
    }
    let mut dp = index_of(&sv, p.decimal).unwrap_or(0);
    if let Some(groups) = dp.saturating_sub(1).checked_div(pic.regular_grouping) {
        for g in 1..=groups {
            let at = dp - g * pic.regular_grouping;
            sv.insert(at, p.grouping);
        }
    } else {
        for pos in &pic.integer_grouping {
            if *pos <= dp {
                sv.insert(dp - pos, p.grouping);
                dp += 1;
            }
        }
    }
    let dp = index_of(&sv, p.decimal).unwrap_or(0);
    for pos in &pic.fractional_grouping {
        let at = pos + dp + 1;
        if at <= sv.len() {
            sv.insert(at, p.grouping);
        }
    }
    let dp = index_of(&sv, p.decimal);
    if !pic.picture.contains(&p.decimal) || dp == Some(sv.len().saturating_sub(1)) {
        sv.pop();
    }
    let mut out: String = sv.into_iter().collect();
    if let Some(e) = exponent {
        let mut se = make(e as f64, 0);
        let pad = pic.min_exponent as i64 - se.chars().count() as i64;
        if pad > 0 {
            se = format!("{}{se}", p.zero.to_string().repeat(pad as usize));
        }
        out = format!("{out}{}{}{se}", p.exponent, if e < 0 { p.minus.as_str() } else { "" });
    }
    Ok(format!("{}{out}{}", pic.prefix, pic.suffix))
}

fn validate(parts: &Parts, p: &Props, is_digit: &dyn Fn(char) -> bool, is_active: &dyn Fn(char) -> bool) -> Result<()> {
    let sub = &parts.picture;
    let mut error = None;
    let once = |c: char| index_of(sub, c) == last_index_of(sub, c);
    if !once(p.decimal) {
        error = Some("D3081");
    }
    if !once(p.percent) {
        error = Some("D3082");
    }
    if !once(p.per_mille) {
        error = Some("D3083");
    }
    if sub.contains(&p.percent) && sub.contains(&p.per_mille) {
        error = Some("D3084");
    }
    if !parts.mantissa.iter().any(|c| is_digit(*c) || *c == p.digit) {
        error = Some("D3085");
    }
    if parts.active.iter().any(|c| !is_active(*c)) {
        error = Some("D3086");
    }
    match index_of(sub, p.decimal) {
        Some(d) => {
            let before = d.checked_sub(1).and_then(|i| sub.get(i));
            if before == Some(&p.grouping) || sub.get(d + 1) == Some(&p.grouping) {
                error = Some("D3087");
            }
        }
        None => {
            if parts.integer.last() == Some(&p.grouping) {
                error = Some("D3088");
            }
        }
    }
    if sub.windows(2).any(|w| w[0] == p.grouping && w[1] == p.grouping) {
        error = Some("D3089");
    }
    if let Some(od) = index_of(&parts.integer, p.digit)
        && parts.integer[..od].iter().any(|c| is_digit(*c))
    {
        error = Some("D3090");
    }
    if let Some(od) = last_index_of(&parts.fractional, p.digit)
        && parts.fractional[od..].iter().any(|c| is_digit(*c))
    {
        error = Some("D3091");
    }
    if let Some(e) = &parts.exponent {
        if !e.is_empty() && (sub.contains(&p.percent) || sub.contains(&p.per_mille)) {
            error = Some("D3092");
        }
        if e.is_empty() || e.iter().any(|c| !is_digit(*c)) {
            error = Some("D3093");
        }
    }
    match error {
        Some(code) => Err(Error::new(code)),
        None => Ok(()),
    }
}

fn analyse(parts: &Parts, p: &Props, is_digit: &dyn Fn(char) -> bool) -> Pic {
    let grouping_positions = |part: &[char], to_left: bool| -> Vec<usize> {
        let mut positions = Vec::new();
        let mut at = index_of(part, p.grouping);
        while let Some(g) = at {
            let side: &[char] = if to_left { &part[..g] } else { &part[g..] };
            positions.push(side.iter().filter(|c| is_digit(**c) || **c == p.digit).count());
            at = parts.integer.iter().skip(g + 1).position(|c| *c == p.grouping).map(|i| i + g + 1);
            if at.is_some_and(|i| i >= part.len()) {
                break;
            }
        }
        positions
    };
    let integer_grouping = grouping_positions(&parts.integer, false);
    let regular = |idx: &[usize]| -> usize {
        if idx.is_empty() {
            return 0;
        }
        fn gcd(a: usize, b: usize) -> usize {
            if b == 0 { a } else { gcd(b, a % b) }
        }
        let factor = idx.iter().copied().reduce(gcd).unwrap_or(0);
        for i in 1..=idx.len() {
            if !idx.contains(&(i * factor)) {
                return 0;
            }
        }
        factor
    };
    let regular_grouping = regular(&integer_grouping);
    let fractional_grouping = grouping_positions(&parts.fractional, true);
    let mut min_integer = parts.integer.iter().filter(|c| is_digit(**c)).count();
    let scaling = min_integer;
    let mut min_fraction = parts.fractional.iter().filter(|c| is_digit(**c)).count();
    let mut max_fraction = parts.fractional.iter().filter(|c| is_digit(**c) || **c == p.digit).count();
    let exponent_present = parts.exponent.is_some();
    if min_integer == 0 && max_fraction == 0 {
        if exponent_present {
            min_fraction = 1;
            max_fraction = 1;
        } else {
            min_integer = 1;
        }
    }
    if exponent_present && min_integer == 0 && parts.integer.contains(&p.digit) {
        min_integer = 1;
    }
    if min_integer == 0 && min_fraction == 0 {
        min_fraction = 1;
    }
    let min_exponent = parts.exponent.as_ref().map_or(0, |e| e.iter().filter(|c| is_digit(**c)).count());
    Pic {
        integer_grouping,
        regular_grouping,
        min_integer,
        scaling,
        prefix: parts.prefix.iter().collect(),
        fractional_grouping,
        min_fraction,
        max_fraction,
        min_exponent,
        suffix: parts.suffix.iter().collect(),
        picture: parts.picture.clone(),
    }
}
