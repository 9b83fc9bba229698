//! What an `ItemReader` read, turned into items: the object's body parsed
//! as JSON, JSON Lines or CSV, or an S3 listing, cut to `MaxItems`; and
//! items grouped by an `ItemBatcher`. Pure, so replay yields the same items.

use serde_json::{Map, Value};

use crate::definition::{CsvHeaders, InputType, ItemReader};
use crate::limits;

/// AWS's ceiling on `MaxItems`; larger values read everything.
pub const MAX_ITEMS_CEILING: i64 = 100_000_000;

/// The items of a reader's result, or the cause of `States.ItemReaderFailed`.
pub(super) fn parse(reader: &ItemReader, read: &Value) -> Result<Vec<Value>, String> {
    let items = match (reader.input_type, read) {
        (InputType::Listing, Value::Array(objects)) => objects.clone(),
        (InputType::Listing, _) => return Err("The object listing is not a list.".into()),
        (_, Value::String(body)) => {
            if body.len() > limits::ITEM_READER_BYTES_MAX {
                return Err(format!(
                    "The object has {} bytes; Stepwise reads objects of at most {} bytes.",
                    body.len(),
                    limits::ITEM_READER_BYTES_MAX
                ));
            }
            match reader.input_type {
                InputType::Csv => csv(body, &reader.csv_headers, reader.csv_delimiter)?,
                InputType::JsonLines => json_lines(body)?,
                _ => json(body)?,
            }
        }
        _ => return Err("The object's body is not text.".into()),
    };
    if items.len() > limits::MAP_ITEMS_MAX {
        return Err(format!("The reader found {} items; the limit is {}.", items.len(), limits::MAP_ITEMS_MAX));
    }
    Ok(items)
}

/// `MaxItems` as AWS reads it: negative is an error, 0 means no limit.
pub(super) fn max_items(n: f64) -> Result<Option<usize>, String> {
    if n < 0.0 {
        return Err("field MaxItems must be positive".into());
    }
    let n = n as i64;
    Ok((n > 0 && n < MAX_ITEMS_CEILING).then_some(n as usize))
}

fn json(body: &str) -> Result<Vec<Value>, String> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err("Attempting to map over non-iterable node.".into()),
        Err(e) => Err(format!("The object is not valid JSON: {e}")),
    }
}

fn json_lines(body: &str) -> Result<Vec<Value>, String> {
    let lines = body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    lines.map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("Line {} is not valid JSON: {e}", i + 1))).collect()
}

fn csv(body: &str, headers: &CsvHeaders, delimiter: u8) -> Result<Vec<Value>, String> {
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(body.as_bytes());
    let mut records = rdr.records();
    let bad = |e: csv::Error| format!("The object is not valid CSV: {e}");
    let names: Vec<String> = match headers {
        CsvHeaders::Given(h) => h.clone(),
        CsvHeaders::FirstRow => match records.next() {
            Some(r) => r.map_err(bad)?.iter().map(str::to_string).collect(),
            None => Vec::new(),
        },
    };
    let mut seen = std::collections::BTreeSet::new();
    if !names.iter().all(|n| seen.insert(n.as_str())) {
        return Err("CSV headers cannot contain duplicates.".into());
    }
    let mut items = Vec::new();
    for r in records {
        let r = r.map_err(bad)?;
        // Missing fields are empty; extra fields are dropped, as on AWS.
        let item: Map<String, Value> =
            names.iter().enumerate().map(|(i, n)| (n.clone(), Value::from(r.get(i).unwrap_or_default()))).collect();
        items.push(Value::Object(item));
        if items.len() > limits::MAP_ITEMS_MAX {
            break;
        }
    }
    Ok(items)
}

/// Groups items into batches of at most `max_items` items and about
/// `max_bytes` bytes of serialized items, each `{"BatchInput"?, "Items"}`.
pub(super) fn batches(
    items: Vec<Value>,
    max_items: Option<usize>,
    max_bytes: Option<usize>,
    batch_input: Option<&Value>,
) -> Vec<Value> {
    let max_items = max_items.filter(|n| *n > 0).unwrap_or(usize::MAX);
    let max_bytes = max_bytes.filter(|n| *n > 0).unwrap_or(limits::PAYLOAD_BYTES_MAX);
    let mut out = Vec::new();
    let mut batch: Vec<Value> = Vec::new();
    let mut bytes = 0;
    let close = |batch: Vec<Value>, out: &mut Vec<Value>| {
        let mut m = Map::new();
        if let Some(b) = batch_input {
            m.insert("BatchInput".into(), b.clone());
        }
        m.insert("Items".into(), Value::Array(batch));
        out.push(Value::Object(m));
    };
    for item in items {
        let size = crate::json::size_bytes(&item);
        // An item larger than the byte limit still travels alone rather than being lost.
        if !batch.is_empty() && (batch.len() >= max_items || bytes + size > max_bytes) {
            close(std::mem::take(&mut batch), &mut out);
            bytes = 0;
        }
        bytes += size;
        batch.push(item);
    }
    if !batch.is_empty() {
        close(batch, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reader(input_type: InputType, csv_headers: CsvHeaders, csv_delimiter: u8) -> ItemReader {
        ItemReader {
            resource: String::new(),
            parameters: None,
            arguments: None,
            input_type,
            csv_headers,
            csv_delimiter,
            max_items: None,
        }
    }

    #[test]
    fn bodies_become_items_or_a_clear_cause() {
        let first = CsvHeaders::FirstRow;
        let cases: Vec<(ItemReader, Value, Result<Value, &str>)> = vec![
            (reader(InputType::Json, first.clone(), b','), json!("[1,{\"a\":2}]"), Ok(json!([1, {"a": 2}]))),
            (reader(InputType::Json, first.clone(), b','), json!("{\"a\":1}"), Err("non-iterable")),
            (reader(InputType::Json, first.clone(), b','), json!("[1,"), Err("not valid JSON")),
            (reader(InputType::JsonLines, first.clone(), b','), json!("{\"a\":1}\n\n2\n"), Ok(json!([{"a": 1}, 2]))),
            (reader(InputType::JsonLines, first.clone(), b','), json!("1\nnope\n"), Err("Line 2")),
            (
                reader(InputType::Csv, first.clone(), b';'),
                json!("a;b\n1;2\n3\n"),
                Ok(json!([{"a":"1","b":"2"},{"a":"3","b":""}])),
            ),
            (reader(InputType::Csv, first.clone(), b','), json!("a,a\n1,2\n"), Err("duplicates")),
            (reader(InputType::Csv, CsvHeaders::Given(vec!["x".into()]), b','), json!("1,2\n"), Ok(json!([{"x":"1"}]))),
            (
                reader(InputType::Csv, first.clone(), b','),
                json!("a,\"b\nc\"\n\"1,5\",2\n"),
                Ok(json!([{"a":"1,5","b\nc":"2"}])),
            ),
            (reader(InputType::Listing, first.clone(), b','), json!([{"Key": "k"}]), Ok(json!([{"Key": "k"}]))),
            (reader(InputType::Json, first, b','), json!(7), Err("not text")),
        ];
        for (r, body, want) in cases {
            match (parse(&r, &body), want) {
                (Ok(items), Ok(w)) => assert_eq!(Value::Array(items), w, "{body}"),
                (Err(cause), Err(w)) => assert!(cause.contains(w), "{body}: {cause}"),
                (got, want) => panic!("{body}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn max_items_and_batches() {
        assert_eq!(max_items(0.0), Ok(None));
        assert_eq!(max_items(2.0), Ok(Some(2)));
        assert_eq!(max_items(1e9), Ok(None));
        assert!(max_items(-1.0).is_err());
        let items = vec![json!("aaa"), json!("bbb"), json!("c"), json!("dd")];
        let by_count = batches(items.clone(), Some(3), None, Some(&json!({"k": 1})));
        assert_eq!(
            by_count,
            [
                json!({"BatchInput": {"k": 1}, "Items": ["aaa", "bbb", "c"]}),
                json!({"BatchInput": {"k": 1}, "Items": ["dd"]})
            ]
        );
        // "aaa" is 5 bytes serialized: a second string would pass 8.
        let by_bytes = batches(items, None, Some(8), None);
        assert_eq!(by_bytes, [json!({"Items": ["aaa"]}), json!({"Items": ["bbb", "c"]}), json!({"Items": ["dd"]})]);
    }
}
