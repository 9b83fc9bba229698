//! Values bigger than one item: a head item and continuation parts.
//!
//! The head carries the part count and the first part, and owns the version
//! (conditions apply to it alone). Continuations sit at `{sk}~{i:04}`, so a
//! value of up to [`BLOB_BYTES_MAX`] is read with one get and one query.

use super::{Condition, Item, Query, Store, Write};
use crate::Error;

/// Body bytes per part: under the item limit with room for keys.
pub const PART_BYTES: usize = 350 * 1024;
/// Parts one value may use; with the head, one transaction still fits.
pub const PARTS_MAX: usize = 64;
pub const BLOB_BYTES_MAX: usize = PART_BYTES * PARTS_MAX;

/// The writes that store `bytes` under `(pk, sk)`; `old_parts` is the part
/// count of the value being replaced (0 if none), whose extra parts go.
pub fn puts(pk: &str, sk: &str, bytes: &[u8], condition: Condition, old_parts: usize) -> Result<Vec<Write>, Error> {
    if bytes.len() > BLOB_BYTES_MAX {
        return Err(Error::Limit(format!("a value of {} bytes; the limit is {BLOB_BYTES_MAX}", bytes.len())));
    }
    let chunks: Vec<&[u8]> = if bytes.is_empty() { vec![&[][..]] } else { bytes.chunks(PART_BYTES).collect() };
    let parts = chunks.len();
    let mut writes = Vec::with_capacity(parts.max(old_parts));
    let mut head = (parts as u32).to_be_bytes().to_vec();
    head.extend_from_slice(chunks[0]);
    writes.push(Write::Put { pk: pk.into(), sk: sk.into(), body: head, condition, expires_s: None });
    for (i, c) in chunks.iter().enumerate().skip(1) {
        let part = Write::Put {
            pk: pk.into(),
            sk: part_key(sk, i),
            body: c.to_vec(),
            condition: Condition::None,
            expires_s: None,
        };
        writes.push(part);
    }
    for i in parts..old_parts {
        writes.push(Write::Delete { pk: pk.into(), sk: part_key(sk, i), condition: Condition::None });
    }
    Ok(writes)
}

/// The deletes that remove a value of `parts` parts.
pub fn deletes(pk: &str, sk: &str, parts: usize) -> Vec<Write> {
    let mut w = vec![Write::Delete { pk: pk.into(), sk: sk.into(), condition: Condition::None }];
    w.extend((1..parts).map(|i| Write::Delete { pk: pk.into(), sk: part_key(sk, i), condition: Condition::None }));
    w
}

fn part_key(sk: &str, i: usize) -> String {
    format!("{sk}~{i:04}")
}

/// A stored value: its bytes, the head's version and its part count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub version: u64,
    pub parts: usize,
}

pub async fn get(store: &dyn Store, pk: &str, sk: &str) -> Result<Option<Blob>, Error> {
    let Some(head) = store.get(pk, sk).await? else { return Ok(None) };
    assemble(store, head).await
}

/// Reads of a value that a concurrent rewrite tore apart, before it is corrupt.
const TORN_READS_MAX: usize = 8;

/// Completes a head item read some other way. A value of several parts is
/// read with a get and a query, which no transaction joins: a rewrite that
/// commits between them (a record that grew or shrank) leaves parts of
/// another version. Every rewrite bumps the head's version with its parts,
/// so the head read again at the same version vouches for the parts read
/// before it; otherwise the read starts over from the new head. `None` if
/// the value was deleted meanwhile: a read that began before the delete.
pub async fn assemble(store: &dyn Store, head: Item) -> Result<Option<Blob>, Error> {
    let mut head = head;
    for _ in 0..TORN_READS_MAX {
        let (count, _) = split_head(&head.body)?;
        if count == 1 {
            return whole(&head, Vec::new()).map(Some);
        }
        let parts = parts_of(store, &head, count - 1).await?;
        let Some(again) = store.get(&head.pk, &head.sk).await? else { return Ok(None) };
        if again.version == head.version {
            return whole(&head, parts).map(Some);
        }
        head = again;
    }
    Err(Error::Corrupt(format!("{} {}: rewritten during each of {TORN_READS_MAX} reads", head.pk, head.sk)))
}

/// Up to `wanted` continuation parts, in pages: DynamoDB ends a page at 1 MB,
/// which three parts kept in their items fill.
async fn parts_of(store: &dyn Store, head: &Item, wanted: usize) -> Result<Vec<Item>, Error> {
    let mut parts = Vec::with_capacity(wanted);
    let mut after = None;
    // Each page brings at least one part, or ends the read.
    for _ in 0..wanted {
        let query = Query {
            pk: head.pk.clone(),
            sk_prefix: format!("{}~", head.sk),
            after: after.take(),
            limit: wanted - parts.len(),
            descending: false,
        };
        let page = store.query(query).await?;
        parts.extend(page.items);
        match page.last {
            Some(last) if parts.len() < wanted => after = Some(last),
            _ => break,
        }
    }
    Ok(parts)
}

/// A value from its head and its continuation parts, read at the head's version.
fn whole(head: &Item, parts: Vec<Item>) -> Result<Blob, Error> {
    let (count, first) = split_head(&head.body)?;
    if parts.len() != count - 1 {
        return Err(Error::Corrupt(format!("{} {}: {} of {count} parts", head.pk, head.sk, parts.len() + 1)));
    }
    let mut bytes = first.to_vec();
    for it in parts {
        bytes.extend_from_slice(&it.body);
    }
    Ok(Blob { bytes, version: head.version, parts: count })
}

fn split_head(body: &[u8]) -> Result<(usize, &[u8]), Error> {
    if body.len() < 4 {
        return Err(Error::Corrupt("a value head shorter than its header".into()));
    }
    let count = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
    if count == 0 || count > PARTS_MAX {
        return Err(Error::Corrupt(format!("a value of {count} parts")));
    }
    Ok((count, &body[4..]))
}
