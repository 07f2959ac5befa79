//! Timestamps as the collector keeps them: canonical UTC text
//! `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0001 to 9999), so that text order is time
//! order and two timestamps compare with `<` on their strings. Parsing and
//! formatting are the core's ([`trickle_core::time`]), the same code that checks
//! `answeredAt` in a posted envelope; reading the clock is the collector's.

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

/// When an answer counts as given, for ordering it against others: its
/// `answeredAt`, but never later than when the collector received it, so a client
/// clock in the future cannot pin a value (contract section 6). Both arguments
/// are canonical UTC, so the earlier one is the smaller string.
pub fn clamp<'a>(answered_at: &'a str, received_at: &'a str) -> &'a str {
    if answered_at <= received_at {
        answered_at
    } else {
        received_at
    }
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

    #[test]
    fn an_answer_from_the_future_counts_as_given_when_it_was_received() {
        let received = "2026-12-01T10:00:00.000Z";
        assert_eq!(clamp("9999-12-31T00:00:00.000Z", received), received);
        assert_eq!(
            clamp("2026-11-30T15:00:00.000Z", received),
            "2026-11-30T15:00:00.000Z"
        );
        assert_eq!(clamp(received, received), received);
    }
}
