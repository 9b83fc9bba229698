//! Any text as a path, read against a fixed document, and written through
//! when it is a reference path: no panic, no hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use state_language::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(path) = Path::parse(text) else { return };
    let doc = serde_json::json!({"a": [1, 2, {"b": "x", "c": [true, null]}], "d": {"e f": 1.5}, "g": "h"});
    let _ = path.read(&doc);
    if path.is_reference() {
        let _ = path.write(doc, serde_json::json!(1));
    }
});
