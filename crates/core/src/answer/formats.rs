//! The text formats an answer may take: dates, emails, phone numbers, URLs, and
//! the RFC 3339 timestamps of `answeredAt`.

// The validators below are hand-rolled on purpose: a regex or email/url crate
// would cost tens of KB in a widget whose whole wasm budget is 64 KB brotli, and
// the rules needed are short.

/// A calendar-valid `YYYY-MM-DD` date, years 0001-9999 (leap years respected).
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if !s.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    // Digits by hand: `str::parse` and the slicing it needs bring their generic
    // parser and panic paths for four bytes.
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    y >= 1
        && (1..=12).contains(&m)
        && d >= 1
        && i64::from(d) <= crate::time::days_in_month(i64::from(y), i64::from(m))
}

/// `local@domain` with a dotted domain: the common shape of RFC 5321 addresses
/// (no quoted locals, no IP literals), internationalized letters allowed.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = crate::text::rsplit_once(s, b'@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && crate::text::find(local, "..").is_none()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || in_set(c, b"!#$%&'*+/=?^_`{|}~.-") || is_wide(c));
    local_ok && is_domain(domain)
}

/// Whether `c` is one of the ASCII bytes of `set`. Not `str::contains(char)`: its
/// path for a char outside ASCII searches for the char's UTF-8 bytes with the
/// two-way string searcher, about 1.7 KB of the wasm for sets that are all ASCII.
fn in_set(c: char, set: &[u8]) -> bool {
    c.is_ascii() && set.contains(&(c as u8))
}

/// A character outside ASCII that could be part of an internationalised address:
/// anything but whitespace and control characters. Letters and digits of every
/// script pass, as IDNA would have them; so do the few symbols IDNA would refuse,
/// because telling those apart takes Unicode's letter tables (about 2 KB of the
/// wasm) and a typo check does not need them: the mail server decides.
pub(crate) fn is_wide(c: char) -> bool {
    !c.is_ascii() && !c.is_whitespace() && !c.is_control()
}

/// A dotted DNS name whose last label is not all digits.
fn is_domain(domain: &str) -> bool {
    // One pass over the labels, without collecting them into a Vec.
    let (mut labels, mut tld) = (0, "");
    for l in domain.split('.') {
        let ok = !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || is_wide(c));
        if !ok {
            return false;
        }
        labels += 1;
        tld = l;
    }
    labels >= 2 && tld.chars().count() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit())
}

/// A phone number as people type it: digits with spaces, `-`, `.`, `/`,
/// parentheses, an optional leading `+`; 5 to 15 digits (E.164's maximum).
pub fn is_tel(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    (5..=15).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || in_set(c, b" -./()"))
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
    } else if crate::text::find(s, "://").is_some() {
        return None;
    } else {
        (crate::text::concat(&["https://", s]), 8)
    };
    // Byte scans, not `contains(&str)`, `format!` and a char-set `split`: each is
    // generic code of its own in the wasm.
    let rest = url.get(rest_at..).unwrap_or("");
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or("");
    if authority.as_bytes().contains(&b'@') {
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

/// An RFC 3339 timestamp (`2026-11-30T15:00:00.000Z`, `...+02:00`): what
/// [`crate::time::parse_rfc3339`] accepts.
pub fn is_timestamp(s: &str) -> bool {
    crate::time::parse_rfc3339(s).is_some()
}
