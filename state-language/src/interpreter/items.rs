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
