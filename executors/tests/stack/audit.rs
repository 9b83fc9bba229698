//! The DynamoDB table after a scenario, read raw with aws-sdk-dynamodb (not
//! through Stepwise's own store code), against the invariants of the scheduler
//! protocol: every execution closed, each history event written exactly once,
//! no inbox entry, outbox item, open token or timer left behind, the
//! ListExecutions index in step with the records, every item under
//! DynamoDB's 400 KB and every claim-checked body present in S3.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

/// Scan pages one audit reads at most.
const SCAN_PAGES_MAX: usize = 1_000;
/// How long a closed execution is kept (the default retention: 90 days).
const RETENTION_S: i64 = 90 * 86_400;
/// DynamoDB's item size limit.
const ITEM_BYTES_MAX: usize = 400 * 1024;

/// What the audit found.
pub struct Audit {
    pub executions: usize,
    /// Items whose body is kept in S3.
    pub claimed: usize,
}

type Row = HashMap<String, AttributeValue>;

async fn scan(db: &aws_sdk_dynamodb::Client) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut start = None;
    for _ in 0..SCAN_PAGES_MAX {
        let r = db.scan().table_name("stepwise").set_exclusive_start_key(start).send().await;
        let r = r.map_err(|e| format!("scan: {e:?}"))?;
        rows.extend(r.items.unwrap_or_default());
        start = r.last_evaluated_key;
        if start.is_none() {
            return Ok(rows);
        }
    }
    Err("the table has more scan pages than the audit reads".into())
}

fn text(row: &Row, k: &str) -> String {
    row.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

/// An item's size as DynamoDB counts it: names and values.
fn size(row: &Row) -> usize {
    let value = |v: &AttributeValue| match v {
        AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
        AttributeValue::B(b) => b.as_ref().len(),
        _ => 0,
    };
    row.iter().map(|(k, v)| k.len() + value(v)).sum()
}

/// An item's body: its `b`, or the S3 object its `c` names.
async fn body(row: &Row, s3: &aws_sdk_s3::Client) -> Result<(Vec<u8>, bool), String> {
    if let Some(key) = row.get("c").and_then(|v| v.as_s().ok()) {
        let o = s3.get_object().bucket("stepwise-payloads").key(key).send().await;
        let o = o.map_err(|e| format!("claimed body {key} is not in S3: {e:?}"))?;
        let bytes = o.body.collect().await.map_err(|e| format!("{key}: {e}"))?;
        return Ok((bytes.into_bytes().to_vec(), true));
    }
    Ok((row.get("b").and_then(|v| v.as_b().ok()).map(|b| b.as_ref().to_vec()).unwrap_or_default(), false))
}

/// A multi-part value (control-plane/src/store/blob.rs): the head holds a
/// 4-byte part count and the first part; parts follow at `{sk}~{i:04}`.
fn blob(items: &BTreeMap<String, Vec<u8>>, sk: &str) -> Result<Value, String> {
    let head = items.get(sk).ok_or_else(|| format!("no {sk}"))?;
    let parts = u32::from_be_bytes(head[..4].try_into().map_err(|_| "a short head")?) as usize;
    let mut bytes = head[4..].to_vec();
    for i in 1..parts {
        bytes.extend(items.get(&format!("{sk}~{i:04}")).ok_or_else(|| format!("part {i} of {sk} missing"))?);
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("{sk}: {e}"))
}

/// Checks the table and the payload bucket.
pub async fn check(db: &aws_sdk_dynamodb::Client, s3: &aws_sdk_s3::Client) -> Result<Audit, String> {
    let mut partitions: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    let mut claimed = 0;
    let mut expiry: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in scan(db).await? {
        let (pk, sk) = (text(&row, "pk"), text(&row, "sk"));
        if let Some(x) = row.get("expires_at").and_then(|v| v.as_n().ok()) {
            expiry.insert((pk.clone(), sk.clone()), x.parse().map_err(|_| format!("{pk} {sk}: expires_at {x}"))?);
        }
        if size(&row) > ITEM_BYTES_MAX {
            return Err(format!("item {pk} {sk} has {} bytes", size(&row)));
        }
        let (b, in_s3) = body(&row, s3).await?;
        claimed += usize::from(in_s3);
        partitions.entry(pk).or_default().insert(sk, b);
    }
    if let Some(outbox) = partitions.get("OUTBOX").filter(|p| !p.is_empty()) {
        return Err(format!("{} outbox items were never sent", outbox.len()));
    }
    let mut indexed: BTreeMap<String, String> = BTreeMap::new(); // execution ARN -> status in the index
    for (pk, items) in partitions.iter().filter(|(pk, _)| pk.starts_with("SMX#")) {
        for (sk, b) in items {
            let s: Value = serde_json::from_slice(b).map_err(|e| format!("{pk} {sk}: {e}"))?;
            let arn = s["arn"].as_str().unwrap_or_default().to_string();
            if express_listing(pk, sk) {
                // An EXPRESS child has no record: closed, under a Map Run that exists.
                if s["status"] == "RUNNING" {
                    return Err(format!("EXPRESS child {arn} is still listed RUNNING"));
                }
                if !partitions.contains_key(&format!("MR#{}", &pk[4..])) {
                    return Err(format!("EXPRESS child {arn} is listed under an unknown Map Run"));
                }
                // Its name ends in its item's index: how DescribeExecution finds this entry.
                let index = u64::from_str_radix(&arn[arn.len().saturating_sub(12)..], 16).ok();
                if index != sk.rsplit('#').next().and_then(|i| i.parse().ok()) {
                    return Err(format!("EXPRESS child {arn} is listed under {sk}, not its index"));
                }
                continue;
            }
            if indexed.insert(arn.clone(), s["status"].as_str().unwrap_or_default().into()).is_some() {
                return Err(format!("{arn} is listed twice"));
            }
        }
    }
    // Every Map Run's index item names an execution that exists, and every
    // pointer from EXPRESS children's names a Map Run that exists.
    for (prefix, field, target) in [("MR#", "executionArn", "EX#"), ("MRX#", "mapRunArn", "MR#")] {
        for (pk, items) in partitions.iter().filter(|(pk, _)| pk.starts_with(prefix)) {
            let item: Value = serde_json::from_slice(items.get("META").ok_or_else(|| format!("{pk}: no META"))?)
                .map_err(|e| format!("{pk}: {e}"))?;
            let arn = item[field].as_str().unwrap_or_default();
            if !partitions.contains_key(&format!("{target}{arn}")) {
                return Err(format!("{pk} names {arn}, which does not exist"));
            }
        }
    }
    let mut executions = 0;
    for (pk, items) in partitions.iter().filter(|(pk, _)| pk.starts_with("EX#")) {
        let arn = &pk[3..];
        let rec = blob(items, "META")?;
        executions += 1;
        let status = rec["status"].as_str().unwrap_or_default();
        if status == "RUNNING" {
            return Err(format!("{arn} is still RUNNING"));
        }
        if indexed.remove(arn).as_deref() != Some(status) {
            return Err(format!("{arn} ({status}) is not listed with that status"));
        }
        if let Some(sk) = items.keys().find(|sk| sk.starts_with("I#")) {
            return Err(format!("{arn}: inbox entry {sk} was never applied"));
        }
        // Retention: a closed record goes 90 days after its close, its history no sooner.
        let stop_s = rec["stopMs"].as_i64().ok_or(format!("{arn}: closed without stop_ms"))? / 1000;
        if expiry.get(&(pk.clone(), "META".to_string())) != Some(&(stop_s + RETENTION_S)) {
            return Err(format!("{arn}: the record does not expire {RETENTION_S} s after its close"));
        }
        for sk in items.keys().filter(|sk| sk.starts_with("H#")) {
            if expiry.get(&(pk.clone(), sk.clone())).is_none_or(|x| *x < stop_s + RETENTION_S) {
                return Err(format!("{arn} {sk}: history would expire before its execution's record"));
            }
        }
        // A code workflow's run counts its events itself.
        let last = rec["code"]["events"].as_u64().or(rec["state"]["last_event_id"].as_u64());
        let last = last.ok_or(format!("{arn}: no last event id"))?;
        let mut ids = Vec::new();
        for (sk, page) in items.iter().filter(|(sk, _)| sk.starts_with("H#")) {
            let events: Vec<Value> = serde_json::from_slice(page).map_err(|e| format!("{arn} {sk}: {e}"))?;
            ids.extend(events.iter().filter_map(|e| e["id"].as_u64()));
        }
        // Exactly once: ids 1..=last, each once, in order (a transition applied twice would repeat or skip ids).
        if ids != (1..=last).collect::<Vec<_>>() {
            return Err(format!("{arn}: history event ids {ids:?}, expected 1..={last}"));
        }
    }
    if let Some((arn, _)) = indexed.first_key_value() {
        return Err(format!("{arn} is listed but has no record: a lost execution"));
    }
    // A live schedule's next fire is indexed too (`…#arn:aws:scheduler:…:schedule/group/name#generation`).
    let schedule_of =
        |sk: &str| sk.split_once(":schedule/").and_then(|(_, r)| r.rsplit_once('#')).map(|(s, _)| format!("SCH#{s}"));
    let timers = partitions.iter().filter(|(pk, _)| pk.starts_with("TIMERS#"));
    let stale =
        timers.flat_map(|(_, p)| p.keys()).find(|sk| schedule_of(sk).is_none_or(|s| !partitions.contains_key(&s)));
    if let Some(t) = stale {
        return Err(format!("timer {t} outlived its execution or schedule"));
    }
    for (pk, items) in partitions.iter().filter(|(pk, _)| pk.starts_with("TOK#")) {
        if blob(items, "META")?["closed"] != Value::Bool(true) {
            return Err(format!("task token {pk} is still open"));
        }
    }
    Ok(Audit { executions, claimed })
}

/// A Map Run's EXPRESS child is listed by its item's index (ten digits);
/// every other entry by its execution's name.
fn express_listing(pk: &str, sk: &str) -> bool {
    let by_index = sk.rsplit('#').next().is_some_and(|n| n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()));
    pk.contains(":mapRun:") && by_index
}
