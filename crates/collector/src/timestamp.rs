//! Timestamps as the collector keeps them: canonical UTC text
//! `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0001 to 9999), so that text order is time
//! order and two timestamps compare with `<` on their strings.

use time::format_description::well_known::Rfc3339;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// The canonical form, milliseconds truncated.
const CANONICAL: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// An RFC 3339 timestamp as canonical UTC with milliseconds (truncated, so
/// `.123456` becomes `.123`), or `None` when it is not RFC 3339 or its instant in
/// UTC falls outside the years 0001 to 9999. A leap second (`23:59:60` at the end
/// of a month, UTC) counts as the last millisecond before it.
pub fn canonical_utc(ts: &str) -> Option<String> {
    let parsed = OffsetDateTime::parse(ts, &Rfc3339).ok()?;
    format(parsed.checked_to_offset(UtcOffset::UTC)?)
}

/// Now, in canonical UTC.
pub fn now_utc() -> String {
    // The clock is within 0001..=9999; the fallback only keeps this total.
    format(OffsetDateTime::now_utc()).unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

fn format(utc: OffsetDateTime) -> Option<String> {
    if !(1..=9999).contains(&utc.year()) {
        return None;
    }
    utc.format(CANONICAL).ok()
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
    use super::*;

    #[test]
    fn timestamps_become_canonical_utc_with_milliseconds() {
        for (given, canonical) in [
            ("2026-11-30T15:00:00.000Z", "2026-11-30T15:00:00.000Z"),
            ("2026-11-30T15:00:00Z", "2026-11-30T15:00:00.000Z"),
            ("2026-11-30t15:00:00z", "2026-11-30T15:00:00.000Z"),
            ("2026-11-30T15:00:00.5Z", "2026-11-30T15:00:00.500Z"),
            ("2026-11-30T15:00:00.123456Z", "2026-11-30T15:00:00.123Z"),
            (
                "2026-11-30T15:00:00.999999999999Z",
                "2026-11-30T15:00:00.999Z",
            ),
            ("2026-12-01T01:30:00+02:00", "2026-11-30T23:30:00.000Z"),
            ("2024-02-28T23:00:00-01:00", "2024-02-29T00:00:00.000Z"),
            ("0000-12-31T23:30:00-01:00", "0001-01-01T00:30:00.000Z"),
            ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
            ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999Z"),
        ] {
            assert_eq!(canonical_utc(given).as_deref(), Some(canonical), "{given}");
        }
    }

    #[test]
    fn instants_outside_years_1_to_9999_in_utc_and_non_rfc_3339_text_are_refused() {
        for given in [
            "0001-01-01T00:00:00+01:00",
            "0000-06-01T00:00:00Z",
            "9999-12-31T23:30:00-01:00",
            "garbage",
            "2026-11-30",
            "2026-11-30T15:00:00",
            "2026-02-30T15:00:00Z",
            "2026-11-30T15:00:00Z trailing",
            "2026-11-30T15:00:60Z",
        ] {
            assert_eq!(canonical_utc(given), None, "{given}");
        }
    }

    #[test]
    fn now_is_canonical() {
        let now = now_utc();
        assert_eq!(canonical_utc(&now).as_deref(), Some(now.as_str()));
        assert_eq!(now.len(), "2026-11-30T15:00:00.000Z".len());
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
