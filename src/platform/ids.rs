//! Random v4 UUIDs: the idempotency key of every answer.

use wasm_bindgen::JsValue;

/// A random v4 UUID from `crypto.randomUUID()`. That call exists only in secure
/// contexts, so elsewhere the id is built from `crypto.getRandomValues()` (and, should
/// `crypto` be missing entirely, from `Math.random()`).
pub fn uuid() -> String {
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if let Some(crypto) = &crypto {
        // Look before calling: a missing method would throw a TypeError into wasm.
        let has_random_uuid = js_sys::Reflect::get(crypto, &JsValue::from_str("randomUUID"))
            .map(|f| f.is_function())
            .unwrap_or(false);
        if has_random_uuid {
            return crypto.random_uuid();
        }
    }
    let mut bytes = [0u8; 16];
    let filled = crypto
        .as_ref()
        .map(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok())
        .unwrap_or(false);
    if !filled {
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    uuid_from_bytes(bytes)
}

/// Formats 16 random bytes as a v4 UUID (sets the version and variant bits).
pub fn uuid_from_bytes(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    out
}
