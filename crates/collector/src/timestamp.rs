//! Timestamps as the collector keeps them: canonical UTC text
//! `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0001 to 9999), so that text order is time
//! order and two timestamps compare with `<` on their strings. Parsing and
//! formatting are the core's ([`trickle_core::time`]), the same code that checks
//! `answeredAt` in a posted envelope; reading the clock is the collector's. The
//! clamp that orders answers by these timestamps is `trickle_core::profile::clamp`.

use std::time::{SystemTime, UNIX_EPOCH};

pub use trickle_core::time::canonical_utc;

/// Now, in canonical UTC.
pub fn now_utc() -> String {
    let millis = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        // A clock before 1970: negative milliseconds.
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    };
    // The clock is within 0001..=9999; the fallback only keeps this total.
    trickle_core::time::format_rfc3339_millis(millis)
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

#[cfg(test)]
mod tests {
    // The parsing rules (canonical form, years, leap seconds) are tested in
    // trickle-core's tests/time.rs, against the `time` crate as an oracle.
    use super::*;

    #[test]
    fn timestamps_become_canonical_utc_with_milliseconds() {
        assert_eq!(
            canonical_utc("2026-12-01T01:30:00.123456+02:00").as_deref(),
            Some("2026-11-30T23:30:00.123Z")
        );
        assert_eq!(canonical_utc("0000-06-01T00:00:00Z"), None);
    }

    #[test]
    fn now_is_canonical() {
        let now = now_utc();
        assert_eq!(canonical_utc(&now).as_deref(), Some(now.as_str()));
        assert_eq!(now.len(), "2026-11-30T15:00:00.000Z".len());
        assert!(now.as_str() > "2026-01-01T00:00:00.000Z", "{now}");
    }
}
