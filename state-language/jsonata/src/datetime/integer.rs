//! `$formatInteger`/`$parseInteger` pictures: decimal digit patterns with
//! grouping, letters, roman numerals and words (XPath's `format-integer`).

use crate::error::{Error, Result};

const FEW: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const ORDINALS: [&str; 20] = [
    "Zeroth",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
    "Thirteenth",
    "Fourteenth",
    "Fifteenth",
    "Sixteenth",
    "Seventeenth",
    "Eighteenth",
    "Nineteenth",
];
const DECADES: [&str; 9] = ["Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];

/// The zero of each Unicode decimal digit family.
const DECIMAL_GROUPS: [u32; 37] = [
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6,
    0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Primary {
    Decimal,
    Letters,
    Roman,
    Words,
    Sequence,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Case {
    Upper,
    Lower,
    Title,
}

#[derive(Debug, Clone)]
pub struct Separator {
    pub position: usize,
    pub character: char,
}

#[derive(Debug, Clone)]
pub struct IntegerFormat {
    pub primary: Primary,
    pub case: Case,
    pub ordinal: bool,
    pub zero: u32,
    pub mandatory_digits: usize,
    pub optional_digits: usize,
    /// `Some(every)` when separators repeat regularly.
    pub regular: Option<(usize, char)>,
    pub separators: Vec<Separator>,
    pub token: String,
    /// Digits a date component has at most (`[Y,2]`), for parsing.
    pub n: i64,
}

/// In floating point, as the reference computes it: 1e37 is words too.
fn number_to_words(value: f64, ordinal: bool) -> String {
    fn lookup(num: f64, prev: bool, ord: bool) -> String {
        let lead = |sep: &str| if prev { sep.to_string() } else { String::new() };
        if num <= 19.0 {
            let w = if ord { ORDINALS[num as usize] } else { FEW[num as usize] };
            format!("{}{w}", lead(" and "))
        } else if num < 100.0 {
            let (tens, rem) = ((num / 10.0).floor(), num % 10.0);
            let mut words = format!("{}{}", lead(" and "), DECADES[tens as usize - 2]);
            if rem > 0.0 {
                words = format!("{words}-{}", lookup(rem, false, ord));
            } else if ord {
                words.pop();
                words.push_str("ieth");
            }
            words
        } else if num < 1000.0 {
            let (hundreds, rem) = ((num / 100.0).floor(), num % 100.0);
            let mut words = format!("{}{} Hundred", lead(", "), FEW[hundreds as usize]);
            if rem > 0.0 {
                words.push_str(&lookup(rem, true, ord));
            } else if ord {
                words.push_str("th");
            }
            words
        } else {
            let mag = ((num.log10() / 3.0).floor() as usize).min(MAGNITUDES.len());
            let factor = 10f64.powi(mag as i32 * 3);
            let mant = (num / factor).floor();
            let rem = num - mant * factor;
            let mut words = format!("{}{} {}", lead(", "), lookup(mant, false, false), MAGNITUDES[mag - 1]);
            if rem > 0.0 {
                words.push_str(&lookup(rem, true, ord));
            } else if ord {
                words.push_str("th");
            }
            words
        }
    }
    lookup(value, false, ordinal)
}

fn word_value(word: &str) -> Option<u64> {
    if let Some(i) = FEW.iter().position(|w| w.eq_ignore_ascii_case(word)) {
        return Some(i as u64);
    }
    if let Some(i) = ORDINALS.iter().position(|w| w.eq_ignore_ascii_case(word)) {
        return Some(i as u64);
    }
    for (i, d) in DECADES.iter().enumerate() {
        let ieth = format!("{}ieth", &d[..d.len() - 1]);
        if d.eq_ignore_ascii_case(word) || ieth.eq_ignore_ascii_case(word) {
            return Some((i as u64 + 2) * 10);
        }
    }
    if word.eq_ignore_ascii_case("hundredth") {
        return Some(100);
    }
    for (i, m) in MAGNITUDES.iter().enumerate() {
        if m.eq_ignore_ascii_case(word) || format!("{m}th").eq_ignore_ascii_case(word) {
            return Some(10u64.pow((i as u32 + 1) * 3));
        }
    }
    None
}

fn words_to_number(text: &str) -> f64 {
    let normalized = text.replace(", ", " ").replace(" and ", " ").replace('-', " ");
    let mut segs: Vec<f64> = vec![0.0];
    for part in normalized.split(' ') {
        let value = word_value(part).map_or(f64::NAN, |v| v as f64);
        if value < 100.0 || value.is_nan() {
            let mut top = segs.pop().unwrap_or(0.0);
            if top >= 1000.0 {
                segs.push(top);
                top = 0.0;
            }
            segs.push(top + value);
        } else {
            let top = segs.pop().unwrap_or(0.0);
            segs.push(top * value);
        }
    }
    segs.iter().sum()
}

const ROMAN: [(u64, &str); 13] = [
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
];

fn to_roman(mut value: u64) -> String {
    let mut out = String::new();
    // Bounded: each round subtracts at least one.
    'outer: while value > 0 {
        for (n, s) in ROMAN {
            if value >= n {
                out.push_str(s);
                value -= n;
                continue 'outer;
            }
        }
    }
    out
}

fn from_roman(roman: &str) -> f64 {
    let (mut decimal, mut max) = (0i64, 1i64);
    for c in roman.chars().rev() {
        let v = match c.to_ascii_uppercase() {
            'M' => 1000,
            'D' => 500,
            'C' => 100,
            'L' => 50,
            'X' => 10,
            'V' => 5,
            'I' => 1,
            _ => return f64::NAN,
        };
        if v < max {
            decimal -= v;
        } else {
            max = v;
            decimal += v;
        }
    }
    decimal as f64
}

fn to_letters(mut value: u64, a: char) -> String {
    let mut letters = Vec::new();
    while value > 0 {
        letters.push(char::from_u32(((value - 1) % 26) as u32 + a as u32).unwrap_or('?'));
        value = (value - 1) / 26;
    }
    letters.iter().rev().collect()
}

fn from_letters(letters: &str, a: char) -> f64 {
    letters
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| (c as u32 as f64 - a as u32 as f64 + 1.0) * 26f64.powi(i as i32))
        .sum()
}

pub fn analyse(picture: &str) -> Result<IntegerFormat> {
    let mut f = IntegerFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero: 0x30,
        mandatory_digits: 0,
        optional_digits: 0,
        regular: None,
        separators: Vec::new(),
        token: String::new(),
        n: -1,
    };
    let primary = match picture.rfind(';') {
        None => picture,
        Some(i) => {
            if picture[i + 1..].starts_with('o') {
                f.ordinal = true;
            }
            &picture[..i]
        }
    };
    match primary {
        "A" | "a" => {
            f.primary = Primary::Letters;
            f.case = if primary == "A" { Case::Upper } else { Case::Lower };
        }
        "I" | "i" => {
            f.primary = Primary::Roman;
            f.case = if primary == "I" { Case::Upper } else { Case::Lower };
        }
        "W" => (f.primary, f.case) = (Primary::Words, Case::Upper),
        "Ww" => (f.primary, f.case) = (Primary::Words, Case::Title),
        "w" => f.primary = Primary::Words,
        _ => {
            let mut zero: Option<u32> = None;
            let mut position = 0;
            let mut separators = Vec::new();
            for c in primary.chars().rev() {
                let code = c as u32;
                match DECIMAL_GROUPS.iter().find(|g| code >= **g && code <= **g + 9) {
                    Some(g) => {
                        f.mandatory_digits += 1;
                        position += 1;
                        match zero {
                            None => zero = Some(*g),
                            Some(z) if z != *g => return Err(Error::new("D3131")),
                            _ => {}
                        }
                    }
                    None if c == '#' => {
                        position += 1;
                        f.optional_digits += 1;
                    }
                    None => separators.push(Separator { position, character: c }),
                }
            }
            if f.mandatory_digits > 0 {
                f.zero = zero.unwrap_or(0x30);
                f.regular = regular(&separators);
                f.separators = separators;
            } else {
                f.primary = Primary::Sequence;
                f.token = primary.to_string();
            }
        }
    }
    Ok(f)
}

fn regular(separators: &[Separator]) -> Option<(usize, char)> {
    let first = separators.first()?;
    if separators.iter().any(|s| s.character != first.character) {
        return None;
    }
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let positions: Vec<usize> = separators.iter().map(|s| s.position).collect();
    let factor = positions.iter().copied().reduce(gcd)?;
    (1..=positions.len()).all(|i| positions.contains(&(i * factor))).then_some((factor, first.character))
}

/// Digits a picture may ask for (`[Y,100000000]` would be a string bomb).
pub const PICTURE_DIGITS_MAX: usize = 1024;

pub fn format(value: f64, f: &IntegerFormat) -> Result<String> {
    if f.mandatory_digits > PICTURE_DIGITS_MAX {
        return Err(Error::new("U1003").detail(format!("A picture asks for more than {PICTURE_DIGITS_MAX} digits")));
    }
    let negative = value < 0.0;
    let v = value.abs() as u64;
    let fv = value.abs();
    let mut out = match f.primary {
        Primary::Letters => to_letters(v, if f.case == Case::Upper { 'A' } else { 'a' }),
        Primary::Roman => {
            let r = to_roman(v);
            if f.case == Case::Upper { r.to_uppercase() } else { r }
        }
        Primary::Words => {
            let w = number_to_words(fv, f.ordinal);
            match f.case {
                Case::Upper => w.to_uppercase(),
                Case::Lower => w.to_lowercase(),
                Case::Title => w,
            }
        }
        Primary::Decimal => {
            let mut s = v.to_string();
            if f.mandatory_digits > s.len() {
                s = format!("{}{s}", "0".repeat(f.mandatory_digits - s.len()));
            }
            let mut chars: Vec<char> =
                s.chars().map(|c| char::from_u32(c as u32 + f.zero - 0x30).unwrap_or(c)).collect();
            match f.regular {
                Some((every, sep)) => {
                    let n = (chars.len().saturating_sub(1)) / every;
                    for i in (1..=n).rev() {
                        let pos = chars.len() - i * every;
                        chars.insert(pos, sep);
                    }
                }
                None => {
                    for s in f.separators.iter().rev() {
                        let pos = chars.len().saturating_sub(s.position);
                        chars.insert(pos, s.character);
                    }
                }
            }
            let mut s: String = chars.into_iter().collect();
            if f.ordinal {
                let last = s.chars().last();
                let tens = s.chars().rev().nth(1);
                let suffix = match last {
                    Some('1') => "st",
                    Some('2') => "nd",
                    Some('3') => "rd",
                    _ => "th",
                };
                s.push_str(if tens == Some('1') { "th" } else { suffix });
            }
            s
        }
        Primary::Sequence => {
            return Err(Error::new("D3130").value(serde_json::Value::String(f.token.clone()).to_string()));
        }
    };
    if negative {
        out = format!("-{out}");
    }
    Ok(out)
}

/// The regular expression (for `regex`) that reads this format, and how to turn a match into a number.
pub fn matcher(f: &IntegerFormat) -> Result<String> {
    let occurrences = if f.n > 0 {
        if f.optional_digits == 0 {
            format!("{{{}}}", f.n)
        } else {
            format!("{{{},{}}}", f.n - f.optional_digits as i64, f.n)
        }
    } else {
        "+".to_string()
    };
    let upper = f.case == Case::Upper;
    Ok(match f.primary {
        Primary::Letters => (if upper { "[A-Z]+" } else { "[a-z]+" }).to_string(),
        Primary::Roman => (if upper { "[MDCLXVI]+" } else { "[mdclxvi]+" }).to_string(),
        Primary::Words => {
            let mut words: Vec<String> = FEW.iter().chain(ORDINALS.iter()).map(|w| w.to_lowercase()).collect();
            for d in DECADES {
                words.push(d.to_lowercase());
                words.push(format!("{}ieth", &d[..d.len() - 1].to_lowercase()));
            }
            words.push("hundredth".into());
            for m in MAGNITUDES {
                words.push(m.to_lowercase());
                words.push(format!("{}th", m.to_lowercase()));
            }
            words.push("and".into());
            words.push("[\\-, ]".into());
            format!("(?:{})+", words.join("|"))
        }
        Primary::Decimal => {
            let mut r = format!("[0-9]{occurrences}");
            if f.ordinal {
                r.push_str("(?:th|st|nd|rd)");
            }
            r
        }
        Primary::Sequence => {
            return Err(Error::new("D3130").value(serde_json::Value::String(f.token.clone()).to_string()));
        }
    })
}

pub fn parse(text: &str, f: &IntegerFormat) -> f64 {
    match f.primary {
        Primary::Letters => from_letters(text, if f.case == Case::Upper { 'A' } else { 'a' }),
        Primary::Roman => from_roman(text),
        Primary::Words => words_to_number(&text.to_lowercase()),
        Primary::Decimal | Primary::Sequence => {
            let mut digits = text.to_string();
            if f.ordinal && digits.len() >= 2 {
                digits.truncate(digits.len() - 2);
            }
            match f.regular {
                Some(_) => digits = digits.replace(',', ""),
                None => {
                    for s in &f.separators {
                        digits = digits.replace(s.character, "");
                    }
                }
            }
            let digits: String =
                digits.chars().map(|c| char::from_u32((c as u32).wrapping_sub(f.zero) + 0x30).unwrap_or(c)).collect();
            let lead: String = digits.chars().take_while(|c| c.is_ascii_digit()).collect();
            lead.parse::<f64>().unwrap_or(f64::NAN)
        }
    }
}

/// `$parseInteger`: reads the whole string with the picture.
pub fn parse_integer(text: &str, picture: &str) -> Result<f64> {
    let f = analyse(picture)?;
    matcher(&f)?;
    Ok(parse(text, &f))
}
