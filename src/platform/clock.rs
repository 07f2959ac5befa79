//! Time and randomness, read from the browser so the core can take them as inputs.

/// Milliseconds since the Unix epoch (`Date.now()`).
pub fn now_ms() -> u64 {
    let now = js_sys::Date::now();
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

/// The current time as an ISO 8601 UTC string, e.g. `2026-11-30T15:00:00.000Z`
/// (what `answeredAt` carries).
pub fn iso_now() -> String {
    // `toISOString` throws only for an invalid date, which `new Date()` never is.
    js_sys::Date::new_0().to_iso_string().into()
}

/// A uniformly random number in `0..1` (`Math.random()`), the retry jitter.
pub fn jitter() -> f64 {
    js_sys::Math::random()
}
