//! JSON values and text built by hand, for what the widget writes: event details,
//! the stored outbox and prompt state, the posted envelope, `explain()`.
//!
//! Why not `json!` and serde's derived `Serialize`: `json!` unwraps a `Result` for
//! every member (which keeps `serde_json::Error`'s `Debug` and the panic text
//! around it in the wasm), and every derived serializer is compiled for
//! `serde_json::Serializer` on its own. These few non-generic functions write the
//! same text for every type; tests hold each writer to the derived `Serialize`,
//! which native code (the collector) keeps using.

use serde_json::{Map, Value};

/// An object of these members, in this order.
pub fn object(members: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (key, value) in members {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// An array of strings.
pub fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}
