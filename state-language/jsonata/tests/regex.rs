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
}

#[test]
fn runaway_backtracking_fails_cleanly() {
    let expr = r#"$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", /^(a|a)*\1c$/)"#;
    assert_eq!(eval(expr), Err("S0303".to_string()));
}
