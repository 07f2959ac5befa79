//! Typed values out of stored JSON, by hand, for the browser-stored documents
//! (prompt state, outbox entries) that are read lossily: anything malformed
//! gives `None` and the caller falls back to a clean value.
//!
//! Why not serde's derived `Deserialize` (which read these before): each derived
//! type compiles its own visitor, field matcher and error text into the wasm; these
//! few non-generic functions do the same work for every type (measured: the
//! prompt state alone cost about 1.4 KB brotli through serde).

use serde_json::{Map as JsonMap, Value};

use crate::sorted::{Map, Set};

/// A whole number that fits `u32`.
pub(crate) fn u32_of(value: &Value) -> Option<u32> {
    value.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// An array of strings.
pub(crate) fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

/// An array of strings, as a set.
pub(crate) fn set(value: &Value) -> Option<Set> {
    strings(value).map(Set::from_iter)
}

/// An object of whole numbers.
pub(crate) fn u32_map(value: &Value) -> Option<Map<u32>> {
    value
        .as_object()?
        .iter()
        .map(|(key, n)| Some((key.clone(), u32_of(n)?)))
        .collect()
}

/// Calls `field` with each member of `value`, which must be an object; `None` as
/// soon as `field` refuses one (an unknown key or a bad value), or when any of
/// `required` is missing.
pub(crate) fn members(
    value: &Value,
    required: &[&str],
    mut field: impl FnMut(&str, &Value) -> Option<()>,
) -> Option<()> {
    let object: &JsonMap<String, Value> = value.as_object()?;
    if required.iter().any(|key| !object.contains_key(*key)) {
        return None;
    }
    for (key, value) in object {
        field(key, value)?;
    }
    Some(())
}
