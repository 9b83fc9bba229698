//! Typed forms of a distributed Map's `ItemReader`, `ItemBatcher` and `ResultWriter`.

use serde_json::{Map, Value};

use super::build::Builder;
use super::code;
use crate::definition::distributed::{READER_GET_OBJECT, READER_LIST_OBJECTS, WRITER_PUT_OBJECT};
use crate::definition::{CsvHeaders, InputType, ItemBatcher, ItemReader, Jt, QueryLanguage, ResultWriter, Template};

impl Builder {
    pub(super) fn item_reader(&mut self, s: &Map<String, Value>, at: &str) -> Option<ItemReader> {
        let r = s.get("ItemReader")?.as_object()?;
        let at = format!("{at}/ItemReader");
        let resource = r.get("Resource").and_then(Value::as_str).unwrap_or_default().to_string();
        if resource != READER_GET_OBJECT && resource != READER_LIST_OBJECTS {
            let msg = format!("The ItemReader resource must be {READER_GET_OBJECT} or {READER_LIST_OBJECTS}");
            self.err(code::SCHEMA, &format!("{at}/Resource"), msg);
        }
        let (parameters, arguments) = self.call_payload(r, &at);
        let empty = Map::new();
        let config = r.get("ReaderConfig").and_then(Value::as_object).unwrap_or(&empty);
        let input_type = match config.get("InputType").and_then(Value::as_str) {
            Some("JSON") => InputType::Json,
            Some("JSONL") => InputType::JsonLines,
            Some("CSV") => InputType::Csv,
            None if resource == READER_LIST_OBJECTS => InputType::Listing,
            other => {
                let msg = match other {
                    Some(t) => format!("InputType {t} is not supported; use JSON, JSONL or CSV"),
                    None => "ReaderConfig.InputType is required to read an object".to_string(),
                };
                self.err(code::SCHEMA, &format!("{at}/ReaderConfig/InputType"), msg);
                InputType::Json
            }
        };
        let csv_headers = match (config.get("CSVHeaderLocation").and_then(Value::as_str), config.get("CSVHeaders")) {
            (Some("GIVEN"), Some(Value::Array(h))) => {
                CsvHeaders::Given(h.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect())
            }
            (Some("GIVEN"), _) => {
                let msg = "CSVHeaders is required when CSVHeaderLocation is GIVEN";
                self.err(code::SCHEMA, &format!("{at}/ReaderConfig"), msg);
                CsvHeaders::FirstRow
            }
            (Some("FIRST_ROW") | None, _) => CsvHeaders::FirstRow,
            (Some(other), _) => {
                let msg = format!("CSVHeaderLocation {other} is not supported; use FIRST_ROW or GIVEN");
                self.err(code::SCHEMA, &format!("{at}/ReaderConfig/CSVHeaderLocation"), msg);
                CsvHeaders::FirstRow
            }
        };
        let csv_delimiter = match config.get("CSVDelimiter").and_then(Value::as_str) {
            None | Some("COMMA") => b',',
            Some("PIPE") => b'|',
            Some("SEMICOLON") => b';',
            Some("SPACE") => b' ',
            Some("TAB") => b'\t',
            Some(other) => {
                let msg = format!("CSVDelimiter {other} is not supported");
                self.err(code::SCHEMA, &format!("{at}/ReaderConfig/CSVDelimiter"), msg);
                b','
            }
        };
        let max_items = self.amount(config, "MaxItems", &format!("{at}/ReaderConfig"));
        Some(ItemReader { resource, parameters, arguments, input_type, csv_headers, csv_delimiter, max_items })
    }

    pub(super) fn item_batcher(&mut self, s: &Map<String, Value>, at: &str) -> Option<ItemBatcher> {
        let b = s.get("ItemBatcher")?.as_object()?;
        let at = format!("{at}/ItemBatcher");
        let max_items = self.amount(b, "MaxItemsPerBatch", &at);
        let max_bytes = self.amount(b, "MaxInputBytesPerBatch", &at);
        if max_items.is_none() && max_bytes.is_none() {
            let msg = "ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch";
            self.err(code::SCHEMA, &at, msg);
        }
        let (mut batch_input, mut batch_input_jsonata) = (None, None);
        match self.lang {
            QueryLanguage::JSONPath => batch_input = self.template(b.get("BatchInput"), &format!("{at}/BatchInput")),
            QueryLanguage::JSONata => batch_input_jsonata = self.jt(b.get("BatchInput"), &format!("{at}/BatchInput")),
        }
        Some(ItemBatcher { max_items, max_bytes, batch_input, batch_input_jsonata })
    }

    pub(super) fn result_writer(&mut self, s: &Map<String, Value>, at: &str) -> Option<ResultWriter> {
        let w = s.get("ResultWriter")?.as_object()?;
        let at = format!("{at}/ResultWriter");
        let resource = w.get("Resource").and_then(Value::as_str).unwrap_or_default().to_string();
        if resource != WRITER_PUT_OBJECT {
            self.err(
                code::SCHEMA,
                &format!("{at}/Resource"),
                format!("The ResultWriter resource must be {WRITER_PUT_OBJECT}"),
            );
        }
        if w.contains_key("WriterConfig") {
            self.err(code::SCHEMA, &format!("{at}/WriterConfig"), "WriterConfig is not supported by Stepwise yet");
        }
        let (parameters, arguments) = self.call_payload(w, &at);
        Some(ResultWriter { resource, parameters, arguments })
    }

    /// `Parameters` (JSONPath) or `Arguments` (JSONata) of a reader or writer.
    fn call_payload(&mut self, m: &Map<String, Value>, at: &str) -> (Option<Template>, Option<Jt>) {
        match self.lang {
            QueryLanguage::JSONPath => (self.template(m.get("Parameters"), &format!("{at}/Parameters")), None),
            QueryLanguage::JSONata => (None, self.jt(m.get("Arguments"), &format!("{at}/Arguments"))),
        }
    }
}
