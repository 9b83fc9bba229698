//! Any text as an intrinsic call, evaluated against a fixed input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use state_language::entropy::Entropy;
use state_language::intrinsics::{Call, Env, EvalError};
use state_language::path::Path;

struct Fixed(Value, Entropy);

impl Env for Fixed {
    fn read(&self, path: &Path) -> Result<Value, EvalError> {
        Ok(path.read(&self.0)?)
    }
    fn next_u64(&mut self) -> u64 {
        self.1.next_u64()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(call) = Call::parse(text) else { return };
    let mut env = Fixed(serde_json::json!({"s": "a,b", "n": 3, "arr": [1, 2, 2], "o": {"k": "v"}}), Entropy::new(1));
    let _ = call.eval(&mut env);
});
