//! Answers and the envelope posted to the endpoint (contract section 3).

use serde::{Deserialize, Serialize};

use crate::config::{parse_value, Config, ConfigError, Kind, Question};
use crate::i18n::Strings;

/// What `POST {endpoint}` carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// The host's user id.
    pub user_id: String,
    /// Hex HMAC-SHA256(secret, userId), when the host provides one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
    /// One or more answers of this user.
    pub answers: Vec<Answer>,
    /// Where and by what the answers were given.
    pub context: Context,
}

/// One answer, decline or snooze. `id` is the idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Answer {
    /// A random UUID made when the user answered; never changes across retries.
    pub id: String,
    /// The question answered.
    pub question_id: String,
    /// The stage the question belongs to.
    pub stage: String,
    /// The profile field (dot path) the answer fills.
    pub field: String,
    /// Answered, declined or snoozed.
    pub status: Status,
    /// The value; present only when answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The value is free text typed under "Other".
    #[serde(default)]
    pub other: bool,
    /// When the user answered, RFC 3339 UTC (`2026-11-30T15:00:00.000Z`).
    pub answered_at: String,
    /// The user's loginsCount when they answered.
    pub logins_count: u32,
}

/// What the user did with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Gave a value.
    Answered,
    /// Chose "Prefer not to say"; the field is never asked again.
    Declined,
    /// Chose "Not now" (or Close / Escape).
    Snoozed,
}

/// An answered value: a string (text kinds, choice, ISO date), a number, or a list
/// of strings (multichoice).
///
/// Serialized by hand so that a whole number goes out as `42`, not `42.0`, and
/// deserialized by hand so that a wrong shape says what was expected.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text kinds, choice, and dates as `YYYY-MM-DD`.
    Text(String),
    /// Kind number.
    Number(f64),
    /// Kind multichoice.
    Many(Vec<String>),
}

/// Where and by what an envelope was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Context {
    /// The page URL.
    pub url: String,
    /// The widget's locale.
    pub locale: String,
    /// `trickle/<version>`.
    pub widget: String,
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(s) => serializer.serialize_str(s),
            // Whole numbers within f64's exact integer range go out without ".0",
            // so `42` round-trips as `42` for receivers that compare JSON.
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => {
                serializer.serialize_i64(*n as i64)
            }
            Value::Number(n) => serializer.serialize_f64(*n),
            Value::Many(items) => items.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl<'de> serde::de::Visitor<'de> for ValueVisitor {
            type Value = Value;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, a number or an array of strings")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Text(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::Text(v))
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Number(v))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Number(v as f64))
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Number(v as f64))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(Value::Many(items))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Why a value was refused. Each variant maps to one UI string
/// ([`ValueError::message`]); `Display` is an English sentence for logs and the
/// collector's 422 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Nothing was given (empty or only spaces, or no option picked).
    #[error("an answer is required")]
    Required,
    /// Not an email address.
    #[error("not a valid email address")]
    InvalidEmail,
    /// Not a phone number.
    #[error("not a valid phone number")]
    InvalidTel,
    /// Not an http(s) web address.
    #[error("not a valid web address")]
    InvalidUrl,
    /// Not a finite number.
    #[error("not a number")]
    InvalidNumber,
    /// Not a calendar-valid `YYYY-MM-DD` date.
    #[error("not a valid date (YYYY-MM-DD)")]
    InvalidDate,
    /// Longer than the question's `maxLength`, counted in characters.
    #[error("longer than {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: u32,
    },
    /// Not one of the question's option values.
    #[error("\"{value}\" is not one of the options")]
    NotAnOption {
        /// The offending value.
        value: String,
    },
    /// `other: true` on a question without `allowOther`, or more than one free-text
    /// value in a multichoice answer, or none although `other` is set.
    #[error("{0}")]
    Other(&'static str),
    /// A value of the wrong shape for the kind (e.g. a list for a text question).
    #[error("expected {expected}")]
    WrongType {
        /// What the kind takes.
        expected: &'static str,
    },
}

impl ValueError {
    /// The name of the [`Strings`] field that explains this error to the user
    /// (`"invalid_email"`, `"too_long"`, ...).
    pub fn message_key(&self) -> &'static str {
        match self {
            ValueError::Required => "required",
            ValueError::InvalidEmail => "invalid_email",
            ValueError::InvalidTel => "invalid_tel",
            ValueError::InvalidUrl => "invalid_url",
            ValueError::InvalidNumber => "invalid_number",
            ValueError::InvalidDate => "invalid_date",
            ValueError::TooLong { .. } => "too_long",
            ValueError::NotAnOption { .. } => "invalid_choice",
            ValueError::Other(_) | ValueError::WrongType { .. } => "invalid_value",
        }
    }

    /// The user-facing message in the given language.
    pub fn message(&self, strings: &Strings) -> &'static str {
        match self {
            ValueError::Required => strings.required,
            ValueError::InvalidEmail => strings.invalid_email,
            ValueError::InvalidTel => strings.invalid_tel,
            ValueError::InvalidUrl => strings.invalid_url,
            ValueError::InvalidNumber => strings.invalid_number,
            ValueError::InvalidDate => strings.invalid_date,
            ValueError::TooLong { .. } => strings.too_long,
            ValueError::NotAnOption { .. } => strings.invalid_choice,
            ValueError::Other(_) | ValueError::WrongType { .. } => strings.invalid_value,
        }
    }
}

/// Checks an answer to `question` and returns it normalized (trimmed; a number
/// typed as text becomes a number; a URL without scheme gets `https://`;
/// repeated multichoice values are dropped). `other` says the value is free text
/// typed under "Other" (choice kinds with `allowOther` only).
///
/// Shared by the popup (refuses in place) and the collector (422), so both accept
/// exactly the same answers.
pub fn check_value(question: &Question, value: &Value, other: bool) -> Result<Value, ValueError> {
    if other && !(question.kind.is_choice() && question.allow_other) {
        return Err(ValueError::Other("this question has no \"Other\" answer"));
    }
    let max = question.max_chars();
    match question.kind {
        Kind::Text | Kind::Email | Kind::Tel | Kind::Url | Kind::Date => {
            let Value::Text(raw) = value else {
                return Err(ValueError::WrongType {
                    expected: "a string",
                });
            };
            let s = required_text(raw)?;
            match question.kind {
                Kind::Date => {
                    if !is_date(s) {
                        return Err(ValueError::InvalidDate);
                    }
                    Ok(Value::Text(s.to_owned()))
                }
                Kind::Url => {
                    let url = normalize_url(s).ok_or(ValueError::InvalidUrl)?;
                    check_len(&url, max)?;
                    Ok(Value::Text(url))
                }
                kind => {
                    check_len(s, max)?;
                    let ok = match kind {
                        Kind::Email => is_email(s),
                        Kind::Tel => is_tel(s),
                        _ => true,
                    };
                    match (ok, kind) {
                        (true, _) => Ok(Value::Text(s.to_owned())),
                        (false, Kind::Email) => Err(ValueError::InvalidEmail),
                        (false, _) => Err(ValueError::InvalidTel),
                    }
                }
            }
        }
        Kind::Number => match value {
            Value::Number(n) if n.is_finite() => Ok(Value::Number(*n)),
            Value::Number(_) => Err(ValueError::InvalidNumber),
            Value::Text(raw) => parse_number(required_text(raw)?)
                .map(Value::Number)
                .ok_or(ValueError::InvalidNumber),
            Value::Many(_) => Err(ValueError::WrongType {
                expected: "a number",
            }),
        },
        Kind::Choice => {
            let Value::Text(raw) = value else {
                return Err(ValueError::WrongType {
                    expected: "a string",
                });
            };
            if other {
                let s = required_text(raw)?;
                check_len(s, max)?;
                Ok(Value::Text(s.to_owned()))
            } else if question.option(raw).is_some() {
                Ok(Value::Text(raw.clone()))
            } else if raw.trim().is_empty() {
                Err(ValueError::Required)
            } else {
                Err(ValueError::NotAnOption { value: raw.clone() })
            }
        }
        Kind::Multichoice => {
            let Value::Many(items) = value else {
                return Err(ValueError::WrongType {
                    expected: "an array of strings",
                });
            };
            let mut out: Vec<String> = Vec::with_capacity(items.len());
            let mut free_text = 0;
            for item in items {
                let normalized = if question.option(item).is_some() {
                    item.clone()
                } else if other {
                    let s = required_text(item)?;
                    check_len(s, max)?;
                    free_text += 1;
                    s.to_owned()
                } else {
                    return Err(ValueError::NotAnOption {
                        value: item.clone(),
                    });
                };
                if !out.contains(&normalized) {
                    out.push(normalized);
                }
            }
            if out.is_empty() {
                return Err(ValueError::Required);
            }
            match (other, free_text) {
                (true, 0) => Err(ValueError::Other(
                    "\"other\" is set but no free-text value was given",
                )),
                (true, 2..) => Err(ValueError::Other("at most one free-text \"Other\" value")),
                _ => Ok(Value::Many(out)),
            }
        }
    }
}

fn required_text(raw: &str) -> Result<&str, ValueError> {
    let s = raw.trim();
    if s.is_empty() {
        Err(ValueError::Required)
    } else {
        Ok(s)
    }
}

/// maxLength counts characters (Unicode scalar values), not bytes: "Zoë" is 3.
fn check_len(s: &str, max: u32) -> Result<(), ValueError> {
    if s.chars().count() > max as usize {
        Err(ValueError::TooLong { max })
    } else {
        Ok(())
    }
}

/// A plain decimal number (`42`, `-3.5`, `1e3`, and what else Rust's `f64`
/// grammar takes: `+5`, `.5`, `5.`, `007`); not `inf`, `NaN` or hex, which a user
/// never means. Correctly rounded, like `str::parse::<f64>`, which is not used
/// because it brings a 10 KB table of powers of five into the wasm: see
/// [`decimal_to_f64`].
fn parse_number(s: &str) -> Option<f64> {
    fn digits(b: &[u8], i: &mut usize) -> usize {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    }
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int_start = i;
    let int_len = digits(b, &mut i);
    let mut frac = &b[i..i];
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        digits(b, &mut i);
        frac = &b[start..i];
    }
    if int_len == 0 && frac.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative = b.get(i) == Some(&b'-');
        i += usize::from(matches!(b.get(i), Some(b'-' | b'+')));
        let start = i;
        if digits(b, &mut i) == 0 {
            return None;
        }
        for &d in &b[start..i] {
            // Far beyond any finite or non-zero f64; saturating keeps it exact.
            exp = (exp * 10 + i64::from(d - b'0')).min(1 << 40);
        }
        if negative {
            exp = -exp;
        }
    }
    if i != b.len() {
        return None;
    }
    let mut all: Vec<u8> = b[int_start..int_start + int_len].to_vec();
    all.extend_from_slice(frac);
    let n = decimal_to_f64(&all, exp - frac.len() as i64);
    let n = if b[0] == b'-' { -n } else { n };
    n.is_finite().then_some(n)
}

/// The f64 nearest to `digits` (ASCII) × 10^`exp10` (ties to even; infinity when
/// too large), with exact big-integer arithmetic: short and slow, and slow does
/// not matter for one typed answer.
fn decimal_to_f64(digits: &[u8], mut exp10: i64) -> f64 {
    // Little-endian base-2^32 numbers.
    fn mul_add(n: &mut Vec<u32>, m: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in n.iter_mut() {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            n.push(carry as u32);
        }
    }
    fn bits(n: &[u32]) -> u64 {
        n.iter()
            .rposition(|&l| l != 0)
            .map_or(0, |i| i as u64 * 32 + 32 - u64::from(n[i].leading_zeros()))
    }
    fn bit(n: &[u32], i: u64) -> bool {
        n.get((i / 32) as usize)
            .is_some_and(|l| l >> (i % 32) & 1 == 1)
    }
    fn pow10(e: i64) -> Vec<u32> {
        let mut n = vec![1];
        for _ in 0..e {
            mul_add(&mut n, 10, 0);
        }
        n
    }

    let digits = {
        let start = digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len());
        &digits[start..]
    };
    if digits.is_empty() {
        return 0.0;
    }
    // Beyond these the value is infinite, or rounds to zero.
    let magnitude = digits.len() as i64 + exp10;
    if magnitude > 310 {
        return f64::INFINITY;
    }
    if magnitude < -324 {
        return 0.0;
    }
    // Digits past the 800th can only break a tie, and no tie between two f64s
    // needs more than 767 digits: keep 800 and a 1 for any non-zero rest.
    let (kept, rest) = digits.split_at(digits.len().min(800));
    let mut n = vec![0];
    for &d in kept {
        mul_add(&mut n, 10, u32::from(d - b'0'));
    }
    exp10 += rest.len() as i64;
    if rest.iter().any(|&d| d != b'0') {
        mul_add(&mut n, 10, 1);
        exp10 -= 1;
    }

    // 66 or 67 leading bits of the value as `q` × 2^`shift`, and whether anything
    // non-zero lies below them.
    let (mut q, mut shift, sticky): (u128, i64, bool) = if exp10 >= 0 {
        for _ in 0..exp10 {
            mul_add(&mut n, 10, 0);
        }
        let len = bits(&n);
        let drop = len.saturating_sub(66);
        let q = (drop..len)
            .rev()
            .fold(0u128, |q, i| q << 1 | u128::from(bit(&n, i)));
        (q, drop as i64, (0..drop).any(|i| bit(&n, i)))
    } else {
        // q = n × 2^k / 10^-exp10 by long division, k making q 2^65 or more (a
        // negative k shifts the divisor instead).
        let mut den = pow10(-exp10);
        let shift = bits(&n) as i64 - bits(&den) as i64 - 66;
        for _ in 0..shift {
            mul_add(&mut den, 2, 0);
        }
        let k = (-shift).max(0) as u64;
        let len = bits(&n) + k;
        let mut r: Vec<u32> = vec![0; den.len() + 1];
        let mut q = 0u128;
        for i in (0..len).rev() {
            // r = r * 2 + the next bit of n × 2^k
            let mut carry = u32::from(i >= k && bit(&n, i - k));
            for limb in r.iter_mut() {
                let next = *limb >> 31;
                *limb = *limb << 1 | carry;
                carry = next;
            }
            q <<= 1;
            let ge = r.len() < den.len()
                || (0..r.len())
                    .rev()
                    .map(|j| (r[j], den.get(j).copied().unwrap_or(0)))
                    .find(|(a, b)| a != b)
                    .is_none_or(|(a, b)| a > b);
            if ge {
                let mut borrow = 0i64;
                for (j, limb) in r.iter_mut().enumerate() {
                    let v = i64::from(*limb) - i64::from(den.get(j).copied().unwrap_or(0)) - borrow;
                    *limb = v as u32;
                    borrow = i64::from(v < 0);
                }
                q |= 1;
            }
        }
        (q, shift, r.iter().any(|&l| l != 0))
    };

    // Round to 53 bits, or fewer where the result is subnormal (down to 2^-1074).
    let len = i64::from(128 - q.leading_zeros());
    let drop = (len - 53).max(-1074 - shift);
    if drop > len {
        return 0.0;
    }
    if drop > 0 {
        let rem = q & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        q >>= drop;
        shift += drop;
        if rem > half || (rem == half && (sticky || q & 1 == 1)) {
            q += 1;
        }
    }
    if q == 0 {
        return 0.0;
    }
    if shift > 1023 {
        return f64::INFINITY;
    }
    // 2^shift is exact for -1074 <= shift <= 1023, and so is the product.
    let pow2 = if shift >= -1022 {
        f64::from_bits(((shift + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (shift + 1074))
    };
    q as f64 * pow2
}

// The validators below are hand-rolled on purpose: a regex or email/url crate
// would cost tens of KB in a widget whose whole wasm budget is 64 KB brotli, and
// the rules needed are short.

/// A calendar-valid `YYYY-MM-DD` date, years 0001-9999 (leap years respected).
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if !s.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    y >= 1 && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `local@domain` with a dotted domain: the common shape of RFC 5321 addresses
/// (no quoted locals, no IP literals), internationalized letters allowed.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_alphanumeric()
                || "!#$%&'*+/=?^_`{|}~.-".contains(c)
                || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
        });
    local_ok && is_domain(domain)
}

/// A dotted DNS name whose last label is not all digits.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// A phone number as people type it: digits with spaces, `-`, `.`, `/`,
/// parentheses, an optional leading `+`; 5 to 15 digits (E.164's maximum).
pub fn is_tel(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    (5..=15).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || " -./()".contains(c))
}

/// An http(s) URL with a dotted host (or localhost), returned with `https://`
/// prepended when the user typed no scheme (`acme.com` -> `https://acme.com`).
pub fn normalize_url(s: &str) -> Option<String> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let (url, rest_at) = if lower.starts_with("https://") {
        (s.to_owned(), 8)
    } else if lower.starts_with("http://") {
        (s.to_owned(), 7)
    } else if s.contains("://") {
        return None;
    } else {
        (format!("https://{s}"), 8)
    };
    let authority = url[rest_at..].split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return None;
    }
    let host = crate::config::host_of(authority)?;
    let is_ipv4 = host.split('.').count() == 4
        && host
            .split('.')
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    let ok = host.eq_ignore_ascii_case("localhost")
        || host.starts_with('[')
        || is_ipv4
        || is_domain(host);
    ok.then_some(url)
}

/// An RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z` or
/// `+HH:MM`/`-HH:MM`.
pub fn is_timestamp(s: &str) -> bool {
    if s.len() < 20 || !s.is_char_boundary(10) || !is_date(&s[..10]) {
        return false;
    }
    let b = s.as_bytes();
    let two = |i: usize, max: u32| -> bool {
        b.get(i..i + 2).is_some_and(|p| {
            p.iter().all(u8::is_ascii_digit)
                && (u32::from(p[0] - b'0') * 10 + u32::from(p[1] - b'0')) <= max
        })
    };
    if !matches!(b[10], b'T' | b't')
        || !two(11, 23)
        || b[13] != b':'
        || !two(14, 59)
        || b[16] != b':'
        || !two(17, 60)
    {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len() && two(i + 1, 23) && b[i + 3] == b':' && two(i + 4, 59)
        }
        _ => false,
    }
}

/// Most answers one envelope may carry (the widget sends far fewer per batch).
pub const MAX_ANSWERS_PER_ENVELOPE: usize = 100;

impl Envelope {
    /// Parses an envelope from JSON text; errors name the path (`answers[0].status`).
    /// Does not check it against a config: see [`check_envelope`].
    pub fn from_json(json: &str) -> Result<Envelope, ConfigError> {
        let value = crate::config::json_value(json)?;
        if !value.is_object() {
            return Err(ConfigError::new("", "the body must be a JSON object"));
        }
        parse_value(value)
    }
}

/// Checks a posted envelope against the config: the questions exist, stage and
/// field match, statuses fit, every answered value passes [`check_value`]. Errors
/// name the path (`answers[1].field: ...`), for the collector's 422.
pub fn check_envelope(config: &Config, env: &Envelope) -> Result<(), ConfigError> {
    normalize_envelope(config, env).map(|_| ())
}

/// [`check_envelope`], returning the envelope with every value normalized as
/// [`check_value`] does (what a receiver should store).
pub fn normalize_envelope(config: &Config, env: &Envelope) -> Result<Envelope, ConfigError> {
    if env.user_id.trim().is_empty() {
        return Err(ConfigError::new("userId", "must not be empty"));
    }
    // userHash is not checked here: a receiver with a secret verifies it as an
    // HMAC (401), one without ignores it.
    if env.answers.is_empty() {
        return Err(ConfigError::new("answers", "must not be empty"));
    }
    if env.answers.len() > MAX_ANSWERS_PER_ENVELOPE {
        return Err(ConfigError::new(
            "answers",
            format!("at most {MAX_ANSWERS_PER_ENVELOPE} answers per request"),
        ));
    }
    let mut out = env.clone();
    for (i, answer) in out.answers.iter_mut().enumerate() {
        let at = |key: &str| format!("answers[{i}].{key}");
        if answer.id.is_empty()
            || answer.id.len() > 100
            || answer
                .id
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError::new(
                at("id"),
                "must be a non-empty id without spaces, at most 100 characters",
            ));
        }
        let Some((stage, question)) = config.question(&answer.question_id) else {
            return Err(ConfigError::new(
                at("questionId"),
                format!("unknown question \"{}\"", answer.question_id),
            ));
        };
        if answer.stage != stage.id {
            return Err(ConfigError::new(
                at("stage"),
                format!(
                    "question \"{}\" is in stage \"{}\", not \"{}\"",
                    question.id, stage.id, answer.stage
                ),
            ));
        }
        if answer.field != question.field {
            return Err(ConfigError::new(
                at("field"),
                format!(
                    "question \"{}\" fills \"{}\", not \"{}\"",
                    question.id, question.field, answer.field
                ),
            ));
        }
        if !is_timestamp(&answer.answered_at) {
            return Err(ConfigError::new(
                at("answeredAt"),
                "must be an RFC 3339 timestamp like 2026-11-30T15:00:00.000Z",
            ));
        }
        match answer.status {
            Status::Answered => {
                let Some(value) = &answer.value else {
                    return Err(ConfigError::new(
                        at("value"),
                        "is required when status is answered",
                    ));
                };
                let checked = check_value(question, value, answer.other).map_err(|e| {
                    let key = if matches!(e, ValueError::Other(_)) {
                        "other"
                    } else {
                        "value"
                    };
                    ConfigError::new(at(key), e.to_string())
                })?;
                answer.value = Some(checked);
            }
            status => {
                if answer.value.is_some() {
                    return Err(ConfigError::new(
                        at("value"),
                        "only answered answers carry a value",
                    ));
                }
                if answer.other {
                    return Err(ConfigError::new(
                        at("other"),
                        "only answered answers can be \"Other\" text",
                    ));
                }
                if status == Status::Declined && !question.declinable {
                    return Err(ConfigError::new(
                        at("status"),
                        format!("question \"{}\" is not declinable", question.id),
                    ));
                }
            }
        }
    }
    Ok(out)
}
