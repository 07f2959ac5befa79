//! RFC 3339 timestamps (`trickle_core::time`): table tests of the canonical UTC form
//! the collector keeps, and proptests against the `time` crate as an oracle.
//!
//! The default run is a few thousand cases per property; `PROPTEST_CASES=200000
//! cargo test -p trickle-core --test time --release` runs a large one.

use proptest::prelude::*;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use trickle_core::time::{canonical_utc, format_rfc3339_millis, parse_rfc3339};

/// What the collector stores for a posted `answeredAt`.
fn canonical(ts: &str) -> Option<String> {
    let ours = canonical_utc(ts);
    assert_eq!(ours, parse_rfc3339(ts).and_then(format_rfc3339_millis));
    ours
}

#[test]
fn timestamps_become_canonical_utc_with_milliseconds() {
    for (given, canonical_form) in [
        ("2026-11-30T15:00:00.000Z", "2026-11-30T15:00:00.000Z"),
        ("2026-11-30T15:00:00Z", "2026-11-30T15:00:00.000Z"),
        ("2026-11-30t15:00:00z", "2026-11-30T15:00:00.000Z"),
        ("2026-11-30T15:00:00.5Z", "2026-11-30T15:00:00.500Z"),
        ("2026-11-30T15:00:00.12Z", "2026-11-30T15:00:00.120Z"),
        ("2026-11-30T15:00:00.123456Z", "2026-11-30T15:00:00.123Z"),
        (
            "2026-11-30T15:00:00.999999999999Z",
            "2026-11-30T15:00:00.999Z",
        ),
        ("2026-12-01T01:30:00+02:00", "2026-11-30T23:30:00.000Z"),
        ("2024-02-28T23:00:00-01:00", "2024-02-29T00:00:00.000Z"),
        ("2026-11-30T15:00:00-00:00", "2026-11-30T15:00:00.000Z"),
        ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
        ("0000-12-31T23:30:00-01:00", "0001-01-01T00:30:00.000Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999Z"),
        ("2016-12-31T23:59:60.25Z", "2016-12-31T23:59:59.999Z"),
        ("2017-01-01T00:59:60+01:00", "2016-12-31T23:59:59.999Z"),
        ("2016-06-30T23:59:60Z", "2016-06-30T23:59:59.999Z"),
    ] {
        assert_eq!(canonical(given).as_deref(), Some(canonical_form), "{given}");
    }
}

#[test]
fn instants_outside_years_1_to_9999_in_utc_and_non_rfc_3339_text_are_refused() {
    for given in [
        "0001-01-01T00:00:00+01:00",
        "0000-06-01T00:00:00Z",
        "9999-12-31T23:30:00-01:00",
        "garbage",
        "",
        "2026-11-30",
        "2026-11-30T15:00:00",
        "2026-02-30T15:00:00Z",
        "2023-02-29T15:00:00Z",
        "2026-13-01T15:00:00Z",
        "2026-00-01T15:00:00Z",
        "2026-11-00T15:00:00Z",
        "2026-11-30T24:00:00Z",
        "2026-11-30T15:60:00Z",
        "2026-11-30T15:00:00Z trailing",
        "2026-11-30 15:00:00Z",
        "2026-11-30T15:00:00.Z",
        "2026-11-30T15:00:00+0100",
        "2026-11-30T15:00:00+24:00",
        "2026-11-30T15:00:00+01:60",
        "2026-11-30T15:00:60Z",
        "2016-12-31T23:59:60+01:00",
        "2016-12-30T23:59:60Z",
        "+2026-11-30T15:00:00Z",
        "2026-11-30T15:00:00\u{fe0f}Z",
    ] {
        assert_eq!(canonical(given), None, "{given}");
    }
}

#[test]
fn milliseconds_count_from_the_unix_epoch() {
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1500));
    assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999Z"), Some(-1));
    assert_eq!(
        parse_rfc3339("2026-11-30T15:00:00.000Z"),
        Some(1_796_050_800_000)
    );
    assert_eq!(
        format_rfc3339_millis(1_796_050_800_000).as_deref(),
        Some("2026-11-30T15:00:00.000Z")
    );
    assert_eq!(format_rfc3339_millis(i64::MIN), None);
    assert_eq!(format_rfc3339_millis(i64::MAX), None);
}

/// The oracle: the `time` crate's RFC 3339 parser, as milliseconds (nanoseconds
/// floored, which is truncation within a second).
fn oracle(ts: &str) -> Option<i64> {
    let parsed = OffsetDateTime::parse(ts, &Rfc3339).ok()?;
    Some(parsed.unix_timestamp_nanos().div_euclid(1_000_000) as i64)
}

/// The oracle's canonical form, as the collector wrote it before core had one.
fn oracle_canonical(millis: i64) -> Option<String> {
    let format = time::format_description::parse_borrowed::<1>(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z",
    )
    .unwrap();
    let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()?
        .to_offset(UtcOffset::UTC);
    if !(1..=9999).contains(&utc.year()) {
        return None;
    }
    utc.format(&format).ok()
}

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

/// Two digits from 0 up to `max` (a little beyond the valid range, to hit edges).
fn two(max: u32) -> impl Strategy<Value = String> {
    (0..=max).prop_map(|n| format!("{n:02}"))
}

/// Text in RFC 3339's shape, with every field ranging a little past its limits.
fn timestamp_like() -> impl Strategy<Value = String> {
    let date = (0..=9999u32, two(13), two(32));
    let time = (
        prop::sample::select(vec!['T', 't']),
        two(24),
        two(60),
        two(61),
    );
    let fraction = prop_oneof![
        3 => Just(String::new()),
        1 => Just(".".to_owned()),
        6 => "[0-9]{1,12}".prop_map(|d| format!(".{d}")),
    ];
    let offset = prop_oneof![
        Just("Z".to_owned()),
        Just("z".to_owned()),
        (prop::sample::select(vec!['+', '-']), two(24), two(60))
            .prop_map(|(s, h, m)| format!("{s}{h}:{m}")),
    ];
    (date, time, fraction, offset).prop_map(|((y, mo, d), (t, h, mi, s), f, o)| {
        format!("{y:04}-{mo}-{d}{t}{h}:{mi}:{s}{f}{o}")
    })
}

/// Leap seconds near month ends, seen through offsets: valid only where the UTC
/// time is 23:59:60 on the month's last day.
fn leap_second_like() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![1972u32, 2016, 2024, 0, 9999]),
        1..=12u32,
        prop::sample::select(vec![28u32, 29, 30, 31, 1]),
        0..=23u32,
        prop::sample::select(vec![0u32, 29, 30, 59]),
        prop::sample::select(vec!["Z", "+00:00", "+01:00", "-05:30", "+05:30", "-23:59"]),
    )
        .prop_map(|(y, mo, d, h, mi, o)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:60{o}"))
}

proptest! {
    #![proptest_config(cases(20_000))]

    #[test]
    fn parse_equals_the_time_crate_on_rfc_3339_shaped_text(ts in timestamp_like()) {
        prop_assert_eq!(parse_rfc3339(&ts), oracle(&ts), "{}", ts);
    }

    #[test]
    fn leap_seconds_follow_the_time_crate(ts in leap_second_like()) {
        prop_assert_eq!(parse_rfc3339(&ts), oracle(&ts), "{}", ts);
    }

    #[test]
    fn one_changed_character_is_judged_like_the_time_crate(
        ts in timestamp_like(),
        at in any::<prop::sample::Index>(),
        c in prop_oneof![any::<char>(), "[0-9:.+Tt Zz-]".prop_map(|s| s.chars().next().unwrap())],
    ) {
        let mut chars: Vec<char> = ts.chars().collect();
        let i = at.index(chars.len());
        chars[i] = c;
        let ts: String = chars.into_iter().collect();
        let ours = parse_rfc3339(&ts);
        // The time crate takes any byte between date and time (RFC 3339 lets an
        // application pick, say, a space); the contract's grammar takes only T.
        let separator_is_t = matches!(ts.as_bytes().get(10), Some(b'T' | b't'));
        if separator_is_t || ours.is_some() {
            prop_assert_eq!(ours, oracle(&ts), "{}", ts);
        } else {
            prop_assert_eq!(ours, None);
        }
    }

    #[test]
    fn format_equals_the_time_crate_and_parses_back(
        millis in -62_135_596_800_000i64 - 86_400_000..=253_402_300_799_999 + 86_400_000,
    ) {
        let ours = format_rfc3339_millis(millis);
        prop_assert_eq!(&ours, &oracle_canonical(millis));
        if let Some(text) = ours {
            prop_assert_eq!(parse_rfc3339(&text), Some(millis));
        }
    }
}
