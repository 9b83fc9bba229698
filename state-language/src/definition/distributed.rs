//! The distributed Map's I/O fields: `ItemReader`, `ItemBatcher` and
//! `ResultWriter`. The reader and the writer are S3 calls the host makes;
//! everything else about them (parsing, limits, batching, the manifest) is
//! done by the interpreter, so replay sees the same items.

use super::{Amount, Jt, Template};

/// Where a distributed Map's items come from.
#[derive(Debug, Clone)]
pub struct ItemReader {
    /// `arn:aws:states:::s3:getObject` or `arn:aws:states:::s3:listObjectsV2`.
    pub resource: String,
    pub parameters: Option<Template>,
    pub arguments: Option<Jt>,
    pub input_type: InputType,
    pub csv_headers: CsvHeaders,
    /// `CSVDelimiter`: the byte between fields.
    pub csv_delimiter: u8,
    /// `MaxItems` / `MaxItemsPath`; 0 or absent means every item.
    pub max_items: Option<Amount>,
}

/// `ReaderConfig.InputType`; `Listing` is a `listObjectsV2` reader without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    Json,
    JsonLines,
    Csv,
    Listing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvHeaders {
    FirstRow,
    Given(Vec<String>),
}

/// Groups items into batches, each one child execution's input.
#[derive(Debug, Clone)]
pub struct ItemBatcher {
    pub max_items: Option<Amount>,
    pub max_bytes: Option<Amount>,
    pub batch_input: Option<Template>,
    pub batch_input_jsonata: Option<Jt>,
}

/// Where a distributed Map writes its results instead of returning them.
#[derive(Debug, Clone)]
pub struct ResultWriter {
    /// `arn:aws:states:::s3:putObject`.
    pub resource: String,
    pub parameters: Option<Template>,
    pub arguments: Option<Jt>,
}

/// The resources AWS accepts in these fields.
pub const READER_GET_OBJECT: &str = "arn:aws:states:::s3:getObject";
pub const READER_LIST_OBJECTS: &str = "arn:aws:states:::s3:listObjectsV2";
pub const WRITER_PUT_OBJECT: &str = "arn:aws:states:::s3:putObject";
