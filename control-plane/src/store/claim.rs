//! The claim check of the AWS backend: an item body of at least
//! [`CLAIM_BYTES_MIN`] bytes is kept in S3 and the item holds only the
//! object's key (attribute `c` instead of `b`). Reads fetch it back, so the
//! engine never sees the difference.
//!
//! Why: DynamoDB bills writes per KB (twice inside a transaction), so a
//! 256 KiB payload costs 512 write units per step, and items stop at 400 KB;
//! an S3 PUT costs the same whatever the size. Objects are named by the
//! SHA-256 of their bytes: writing one twice (a retried commit) is harmless,
//! and a commit that then fails leaves only an unreferenced object, which the
//! bucket's lifecycle rule removes (`infra/terraform`, longer than an
//! execution may live plus the retention period).

use aws_sdk_s3::primitives::ByteStream;

use crate::Error;
use crate::store::sha256_hex;

/// Bodies this big or bigger go to S3.
pub const CLAIM_BYTES_MIN: usize = 64 * 1024;
/// Where the objects live in the bucket.
const KEY_PREFIX: &str = "payloads/";

pub struct Claims {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

fn s3_err(e: impl std::error::Error) -> Error {
    Error::Store(format!("S3: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))
}

impl Claims {
    pub fn new(conf: &aws_config::SdkConfig, bucket: String) -> Claims {
        // Path-style addressing: LocalStack (and any custom endpoint) has no per-bucket host names.
        let s3_conf = aws_sdk_s3::config::Builder::from(conf).force_path_style(true).build();
        Claims { s3: aws_sdk_s3::Client::from_conf(s3_conf), bucket }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Stores `body`; gives the key the item keeps.
    pub async fn put(&self, body: &[u8]) -> Result<String, Error> {
        let key = format!("{KEY_PREFIX}{}", sha256_hex(body));
        let req = self.s3.put_object().bucket(&self.bucket).key(&key).body(ByteStream::from(body.to_vec()));
        req.send().await.map_err(s3_err)?;
        Ok(key)
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>, Error> {
        let r = self.s3.get_object().bucket(&self.bucket).key(key).send().await.map_err(s3_err)?;
        let bytes = r.body.collect().await.map_err(|e| Error::Store(format!("S3 object {key}: {e}")))?;
        let bytes = bytes.into_bytes().to_vec();
        // The name is the content's hash, so a damaged or swapped object is caught here.
        if key.strip_prefix(KEY_PREFIX) != Some(sha256_hex(&bytes).as_str()) {
            return Err(Error::Corrupt(format!("S3 object {key} does not match its hash")));
        }
        Ok(bytes)
    }
}
