//! RFC 3339 timestamps: the one parser behind `answeredAt` in the envelope check
//! ([`crate::answer::is_timestamp`]) and the collector's canonical UTC form.
//!
//! Hand-rolled instead of the `time` crate, which the wasm cannot afford; the tests
//! use that crate as an oracle. Instants are milliseconds since the Unix epoch
//! (1970-01-01T00:00:00Z), UTC, leap seconds not counted (as in POSIX time).

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// Parses an RFC 3339 timestamp (`2026-11-30T15:00:00.000Z`,
/// `2026-12-01T01:30:00+02:00`) into milliseconds since the Unix epoch.
///
/// The grammar: `YYYY-MM-DD`, `T` (or `t`), `HH:MM:SS`, an optional fraction of any
/// length (truncated to milliseconds), then `Z` (or `z`) or `+HH:MM` / `-HH:MM`
/// (offset hours up to 23). The local date is a calendar date of years 0000 to
/// 9999, so the instant may fall just outside those years in UTC;
/// [`format_rfc3339_millis`] refuses such instants.
///
/// A leap second (`:60`) is accepted only where one can occur, at 23:59:60 UTC on
/// the last day of a month, and counts as the last millisecond before it
/// (`23:59:59.999`), whatever fraction it carries: the same rule as the `time`
/// crate's RFC 3339 parser.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // Fixed positions need ASCII; a multi-byte character anywhere fails below.
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let lit = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));

    let year = num(0, 4)?;
    let month = num(5, 2)?;
    let day = num(8, 2)?;
    if !(lit(4, b"-") && lit(7, b"-") && lit(10, b"Tt") && lit(13, b":") && lit(16, b":")) {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }

    let mut i = 19;
    let mut millis = 0;
    if lit(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            // Only the first three digits count: truncation, not rounding.
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        match i - start {
            0 => return None,
            1 => millis *= 100,
            2 => millis *= 10,
            _ => {}
        }
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && lit(i + 3, b":") => {
            let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };

    let leap = second == 60;
    let (second, millis) = if leap { (59, 999) } else { (second, millis) };
    let local = days_from_civil(year, month, day) * DAY_MS
        + ((hour * 60 + minute) * 60 + second) * 1000
        + millis;
    let utc = local - offset_minutes * 60_000;
    if leap {
        // Only 23:59:59.999 UTC on a month's last day stands in for a leap second.
        let (y, m, d) = civil_from_days(utc.div_euclid(DAY_MS));
        if utc.rem_euclid(DAY_MS) != DAY_MS - 1 || d != days_in_month(y, m) {
            return None;
        }
    }
    Some(utc)
}

/// The instant `millis` (milliseconds since the Unix epoch) as canonical UTC text,
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, or `None` outside the years 0001 to 9999. All such
/// strings have the same length, so their text order is time order.
pub fn format_rfc3339_millis(millis: i64) -> Option<String> {
    let (year, month, day) = civil_from_days(millis.div_euclid(DAY_MS));
    if !(1..=9999).contains(&year) {
        return None;
    }
    let ms = millis.rem_euclid(DAY_MS);
    let mut out = String::with_capacity(24);
    // Written digit by digit: `format!("{:02}")` would be as short to read but
    // pulls in padding code the widget does not otherwise need.
    for (value, width, suffix) in [
        (year, 4, '-'),
        (month, 2, '-'),
        (day, 2, 'T'),
        (ms / 3_600_000, 2, ':'),
        (ms / 60_000 % 60, 2, ':'),
        (ms / 1000 % 60, 2, '.'),
        (ms % 1000, 3, 'Z'),
    ] {
        for place in (0..width).rev() {
            let digit = value / 10i64.pow(place) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
        out.push(suffix);
    }
    Some(out)
}

/// An RFC 3339 timestamp as canonical UTC text (`2026-11-30T15:00:00.000Z`,
/// milliseconds truncated), or `None` when it is not RFC 3339 or its instant falls
/// outside the years 0001 to 9999 in UTC: what the collector stores, so that
/// stored timestamps compare as strings.
pub fn canonical_utc(ts: &str) -> Option<String> {
    parse_rfc3339(ts).and_then(format_rfc3339_millis)
}

/// Days in `month` (1 to 12) of `year`, proleptic Gregorian (year 0 is a leap year).
pub(crate) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`: eras of 400 years, years starting in March).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01, as (year, month, day): the inverse of
/// [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip_over_the_supported_years() {
        let first = days_from_civil(-1, 1, 1);
        let last = days_from_civil(10_000, 12, 31);
        for days in (first..=last).step_by(1) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
