//! JavaScript regex features the `regex` crate lacks, through `fancy-regex`:
//! look-around and back-references match as in the reference (the
//! differential test compares them with jsonata 2.0.6); a pattern whose
//! backtracking runs away fails with S0303 instead of hanging.

use jsonata::{Expression, Options};
use serde_json::json;

fn eval(expr: &str) -> Result<Option<serde_json::Value>, String> {
    let e = Expression::parse(expr).map_err(|e| e.code.to_string())?;
    e.evaluate_json(None, &[], Options::default()).map_err(|e| e.code.to_string())
}

#[test]
fn look_around_and_back_references_match() {
    assert_eq!(eval(r#"$match("EUR 12.50", /(?<=EUR )[0-9.]+/).match"#), Ok(Some(json!("12.50"))));
    assert_eq!(eval(r#"$replace("book", /(\w)\1/, "[$1$1]")"#), Ok(Some(json!("b[oo]k"))));
    assert_eq!(eval(r#"$contains("quick fox", /quick(?! fox)/)"#), Ok(Some(json!(false))));
    // An escaped letter JavaScript gives no meaning is the letter: `\g1` is
    // "g1", not fancy-regex's call of group 1 (which recursed the compiler
    // out of memory when the fuzzer found it).
    assert_eq!(eval(r#"$match("xag1", /(a)\g1/).match"#), Ok(Some(json!("ag1"))));
    assert_eq!(eval(r#"$contains("ag1", /(a\g1)+/)"#), Ok(Some(json!(true))));
}

#[test]
fn runaway_backtracking_fails_cleanly() {
    let expr = r#"$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", /^(a|a)*\1c$/)"#;
    assert_eq!(eval(expr), Err("S0303".to_string()));
}

fn eval_with(expr: &str, evaluations_max: u64) -> Result<Option<serde_json::Value>, String> {
    let e = Expression::parse(expr).map_err(|e| e.code.to_string())?;
    let options = Options { evaluations_max, ..Options::default() };
    e.evaluate_json(None, &[], options).map_err(|e| e.code.to_string())
}

/// A text of `n` copies of "a", built by the expression itself.
fn a_times(n: usize) -> String {
    format!(r#"$join($map([1..{n}], function($v){{"a"}}))"#)
}

/// Shapes the fuzzer found or that follow from fancy-regex having no limit on
/// forward steps: each ends at once with a clear error instead of running for
/// minutes (the first took 442 s on 200,000 bytes before the bound).
#[test]
fn backtracking_work_is_bounded_by_the_text_and_the_budget() {
    let cases = [
        // A look-ahead rescanning the rest of the text at every position: too long a text.
        (format!("$replace({}, /(?=(a|aa)*)c/, \"b\")", a_times(5000)), "S0303"),
        // A look-ahead in a repetition: cubic in the text, so the text is charged squared.
        (format!("$replace({}, /(?:(?=a*)a)*b/, \"x\")", a_times(4000)), "U1001"),
        // The same on 1,000 bytes: the backtracking limit ends it.
        (format!("$replace({}, /(?:(?=a*)a)*b/, \"x\")", a_times(1000)), "S0303"),
        // A linear-time pattern searched from every position: quadratic, charged by bytes scanned.
        (format!("$count($match({}, /a.*b|a/))", a_times(100_000)), "U1001"),
    ];
    for (expr, code) in cases {
        assert_eq!(eval_with(&expr, 1_000_000), Err(code.to_string()), "{expr}");
    }
}

#[test]
fn backtracking_patterns_still_work_on_texts_within_the_bound() {
    let text = r#"$join($map([1..100], function($v){"EUR 1.50 "}))"#;
    let expr = format!("$count($match({text}, /(?<=EUR )[0-9.]+/))");
    assert_eq!(eval(&expr), Ok(Some(json!(100))));
}
