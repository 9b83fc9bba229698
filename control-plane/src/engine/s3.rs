//! S3 calls: a distributed Map's reader (`arn:aws:states:::s3:getObject`,
//! `…:s3:listObjectsV2`) and writer (`…:s3:putObject`), whose results the
//! interpreter parses or composes, and the AWS SDK tasks
//! `arn:aws:states:::aws-sdk:s3:getObject` / `putObject`.

use aws_sdk_s3::primitives::ByteStream;
use serde_json::{Map, Value, json};
use state_language::limits::{ITEM_READER_BYTES_MAX, ITEM_SLICE_BYTES_MAX, MAP_ITEMS_MAX};

use super::aws::{AwsClients, Failure, sdk_failure};

/// Keys a listing reader asks S3 for per page (S3's own maximum).
const LIST_PAGE_KEYS_MAX: i32 = 1000;

impl AwsClients {
    /// `s3:<action>`; `None` if it is not one of ours.
    pub(super) async fn s3(&self, action: &str, p: &Value, sdk: bool) -> Option<Result<Value, Failure>> {
        Some(match (action, sdk) {
            ("getObject", false) => self.read_object(p).await,
            ("listObjectsV2", false) => self.list_objects(p).await,
            ("putObject", false) => self.write_files(p).await,
            ("getObject", true) => self.get_object(p).await,
            ("putObject", true) => self.put_object(p).await,
            ("listObjects" | "listObjectsV2", true) => self.list_page(p, action == "listObjectsV2").await,
            _ => return None,
        })
    }

    /// The reader's view of an object: its body as text, bounded; or, for a
    /// streamed reader, a slice of it.
    async fn read_object(&self, p: &Value) -> Result<Value, Failure> {
        if let Some(slice) = p.get("StepwiseSlice") {
            return self.read_slice(p, slice).await;
        }
        let r = self.s3.get_object().set_bucket(text(p, "Bucket")).set_key(text(p, "Key")).send().await;
        let r = r.map_err(|e| sdk_failure("S3", "S3", &e))?;
        let length = r.content_length().unwrap_or_default().max(0) as usize;
        if length > ITEM_READER_BYTES_MAX {
            let cause = format!(
                "The object has {length} bytes; Stepwise reads objects of at most {ITEM_READER_BYTES_MAX} bytes."
            );
            return Err(("States.ItemReaderFailed".into(), cause));
        }
        let bytes = r.body.collect().await.map_err(|e| ("S3.SdkClientException".to_string(), e.to_string()))?;
        Ok(Value::String(String::from_utf8_lossy(&bytes.into_bytes()).into_owned()))
    }

    /// A slice of a JSON Lines object: the whole lines in the bytes from
    /// `Offset`, at most `Bytes` of them, with how many bytes that is and
    /// whether the object ends there. The interpreter parses the lines.
    async fn read_slice(&self, p: &Value, slice: &Value) -> Result<Value, Failure> {
        let offset = slice.get("Offset").and_then(Value::as_u64).unwrap_or_default();
        let bytes =
            slice.get("Bytes").and_then(Value::as_u64).unwrap_or(ITEM_SLICE_BYTES_MAX).min(ITEM_SLICE_BYTES_MAX);
        let r = self
            .s3
            .get_object()
            .set_bucket(text(p, "Bucket"))
            .set_key(text(p, "Key"))
            .set_version_id(text(p, "VersionId"))
            .set_if_match(text(slice, "IfMatch"))
            .range(format!("bytes={offset}-{}", offset + bytes - 1))
            .send()
            .await;
        let r = match r {
            Ok(r) => r,
            // At or past the end (an empty object, or one that ends on a slice's edge).
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => {
                return Ok(json!({"Body": "", "Consumed": 0, "End": true}));
            }
            // The object was replaced between two slices: its lines no longer line up.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => {
                let cause = "The object changed while the Map Run was reading it.".to_string();
                return Err(("States.ItemReaderFailed".into(), cause));
            }
            Err(e) => return Err(sdk_failure("S3", "S3", &e)),
        };
        let total = object_size(r.content_range(), r.content_length());
        let body = r.body.collect().await.map_err(|e| ("S3.SdkClientException".to_string(), e.to_string()))?;
        let body = body.into_bytes();
        let end = offset + body.len() as u64 >= total;
        // A slice ends after its last whole line; the rest is read with the next.
        let consumed = match (end, body.iter().rposition(|b| *b == b'\n')) {
            (true, _) => body.len(),
            (false, Some(i)) => i + 1,
            (false, None) => 0,
        };
        let text = String::from_utf8_lossy(&body[..consumed]).into_owned();
        Ok(json!({"Body": text, "Consumed": consumed, "End": end, "ETag": r.e_tag}))
    }

    /// The reader's view of a prefix: one item per object, as AWS lists them.
    async fn list_objects(&self, p: &Value) -> Result<Value, Failure> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        // Bounded: stops one past the item limit, which the interpreter reports.
        while items.len() <= MAP_ITEMS_MAX {
            let r = self
                .s3
                .list_objects_v2()
                .set_bucket(text(p, "Bucket"))
                .set_prefix(text(p, "Prefix"))
                .max_keys(LIST_PAGE_KEYS_MAX)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_failure("S3", "S3", &e))?;
            for o in r.contents() {
                items.push(json!({
                    "Etag": o.e_tag(),
                    "Key": o.key(),
                    "LastModified": o.last_modified().map(|d| d.secs()),
                    "Size": o.size(),
                    "StorageClass": o.storage_class().map(|c| c.as_str()),
                }));
            }
            match r.next_continuation_token() {
                Some(t) if r.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(Value::Array(items))
    }

    /// The writer: the files the interpreter composed, manifest last.
    async fn write_files(&self, p: &Value) -> Result<Value, Failure> {
        for file in p.get("Files").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
            let body = file.get("Body").and_then(Value::as_str).unwrap_or_default().as_bytes().to_vec();
            self.s3
                .put_object()
                .set_bucket(text(p, "Bucket"))
                .set_key(text(file, "Key"))
                .content_type("application/json")
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| sdk_failure("S3", "S3", &e))?;
        }
        Ok(Value::Object(Map::new()))
    }

    async fn get_object(&self, p: &Value) -> Result<Value, Failure> {
        let r = self.s3.get_object().set_bucket(text(p, "Bucket")).set_key(text(p, "Key")).send().await;
        let r = r.map_err(|e| sdk_failure("S3", "S3", &e))?;
        let mut out = Map::new();
        put(&mut out, "AcceptRanges", r.accept_ranges().map(Value::from));
        put(&mut out, "ContentLength", r.content_length().map(Value::from));
        put(&mut out, "ContentType", r.content_type().map(Value::from));
        put(&mut out, "ETag", r.e_tag().map(Value::from));
        put(&mut out, "LastModified", r.last_modified().map(|d| Value::from(d.to_string())));
        let metadata: Map<String, Value> =
            r.metadata().into_iter().flatten().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
        out.insert("Metadata".into(), Value::Object(metadata));
        put(&mut out, "ServerSideEncryption", r.server_side_encryption().map(|s| Value::from(s.as_str())));
        put(&mut out, "VersionId", r.version_id().map(Value::from));
        if r.content_length().unwrap_or_default().max(0) as usize > state_language::limits::PAYLOAD_BYTES_MAX {
            let cause = "The object is larger than a state's result may be (256 KiB).".to_string();
            return Err(("States.DataLimitExceeded".into(), cause));
        }
        let bytes = r.body.collect().await.map_err(|e| ("S3.SdkClientException".to_string(), e.to_string()))?;
        out.insert("Body".into(), Value::String(String::from_utf8_lossy(&bytes.into_bytes()).into_owned()));
        Ok(Value::Object(out))
    }

    async fn put_object(&self, p: &Value) -> Result<Value, Failure> {
        // AWS writes the Body as JSON text, a string's quotes included (its recorded ETags show it).
        let body = match p.get("Body") {
            None => Vec::new(),
            Some(v) => state_language::json::to_string(v).into_bytes(),
        };
        let r = self
            .s3
            .put_object()
            .set_bucket(text(p, "Bucket"))
            .set_key(text(p, "Key"))
            .set_content_type(text(p, "ContentType"))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_failure("S3", "S3", &e))?;
        let mut out = Map::new();
        put(&mut out, "ChecksumCRC32", r.checksum_crc32().map(Value::from));
        put(&mut out, "ChecksumType", r.checksum_type().map(|c| Value::from(c.as_str())));
        put(&mut out, "ETag", r.e_tag().map(Value::from));
        put(&mut out, "ServerSideEncryption", r.server_side_encryption().map(|s| Value::from(s.as_str())));
        put(&mut out, "VersionId", r.version_id().map(Value::from));
        Ok(Value::Object(out))
    }
}

impl AwsClients {
    /// One page of a listing, in the SDK's shape (`listObjects` or `listObjectsV2`).
    async fn list_page(&self, p: &Value, v2: bool) -> Result<Value, Failure> {
        let max_keys = p.get("MaxKeys").and_then(Value::as_i64).map(|n| n.clamp(0, LIST_PAGE_KEYS_MAX.into()) as i32);
        let contents = |objects: &[aws_sdk_s3::types::Object]| -> Value {
            let list = objects.iter().map(|o| {
                json!({
                    "ETag": o.e_tag(),
                    "Key": o.key(),
                    "LastModified": o.last_modified().map(|d| d.to_string()),
                    "Size": o.size(),
                    "StorageClass": o.storage_class().map(|c| c.as_str()),
                })
            });
            Value::Array(list.collect())
        };
        let mut out = Map::new();
        if v2 {
            let r = self
                .s3
                .list_objects_v2()
                .set_bucket(text(p, "Bucket"))
                .set_prefix(text(p, "Prefix"))
                .set_max_keys(max_keys)
                .set_continuation_token(text(p, "ContinuationToken"))
                .send()
                .await
                .map_err(|e| sdk_failure("S3", "S3", &e))?;
            out.insert("Contents".into(), contents(r.contents()));
            put(&mut out, "IsTruncated", r.is_truncated().map(Value::from));
            put(&mut out, "KeyCount", r.key_count().map(Value::from));
            put(&mut out, "MaxKeys", r.max_keys().map(Value::from));
            put(&mut out, "Name", r.name().map(Value::from));
            put(&mut out, "NextContinuationToken", r.next_continuation_token().map(Value::from));
            put(&mut out, "Prefix", r.prefix().map(Value::from));
        } else {
            let r = self
                .s3
                .list_objects()
                .set_bucket(text(p, "Bucket"))
                .set_prefix(text(p, "Prefix"))
                .set_max_keys(max_keys)
                .set_marker(text(p, "Marker"))
                .send()
                .await
                .map_err(|e| sdk_failure("S3", "S3", &e))?;
            out.insert("Contents".into(), contents(r.contents()));
            put(&mut out, "IsTruncated", r.is_truncated().map(Value::from));
            put(&mut out, "Marker", r.marker().map(Value::from));
            put(&mut out, "MaxKeys", r.max_keys().map(Value::from));
            put(&mut out, "Name", r.name().map(Value::from));
            put(&mut out, "NextMarker", r.next_marker().map(Value::from));
            put(&mut out, "Prefix", r.prefix().map(Value::from));
        }
        Ok(Value::Object(out))
    }
}

/// An object's size from a ranged answer's `Content-Range` (`bytes a-b/size`);
/// without one, the answer was the whole object.
fn object_size(content_range: Option<&str>, content_length: Option<i64>) -> u64 {
    match content_range.and_then(|r| r.rsplit_once('/')).and_then(|(_, n)| n.parse().ok()) {
        Some(n) => n,
        None => content_length.unwrap_or_default().max(0) as u64,
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn put(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.into(), v);
    }
}
