//! Endpoint URLs and request headers.

// Hand-rolled instead of the `url` crate: that crate (with idna) adds tens of KB
// to the wasm, and the rule here is only "https, a path, or local http".
// The error is a fixed message, not a `String`: no allocation at each refusal.
pub(super) fn validate_endpoint(endpoint: &str) -> Result<(), &'static str> {
    if super::validate::is_blank(endpoint) {
        return Err("must not be empty");
    }
    if has_space(endpoint) {
        return Err("must not contain spaces");
    }
    if endpoint.starts_with("//") {
        return Err("must be an https:// URL or a path starting with /");
    }
    if endpoint.starts_with('/') {
        return Ok(());
    }
    // The scheme and the host compared without case, in place: no lowercased copy.
    let (secure, rest) = if let Some(rest) = strip_prefix_ci(endpoint, "https://") {
        (true, rest)
    } else if let Some(rest) = strip_prefix_ci(endpoint, "http://") {
        (false, rest)
    } else {
        return Err("must be an https:// URL or a path starting with /");
    };
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    // `get`: the position is of an ASCII byte, so always a boundary (see host_of).
    let authority = rest.get(..end).unwrap_or("");
    if authority.bytes().any(|b| b == b'@') {
        return Err("must not contain credentials");
    }
    let host = host_of(authority).ok_or("has no valid host")?;
    let local = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|l| host.eq_ignore_ascii_case(l));
    if !secure && !local {
        return Err("http:// is only allowed for localhost and 127.0.0.1; use https://");
    }
    Ok(())
}

/// `s` without `prefix`, which is matched without ASCII case.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Whether `s` has whitespace or a control character (an endpoint's and a field
/// path's "must not contain spaces").
pub(super) fn has_space(s: &str) -> bool {
    s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The host of `host[:port]`, if both parts are well formed.
pub(crate) fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if authority.starts_with('[') {
        // `get`, not indexing or `split_at`: those panic on a bad char boundary and
        // bring the panic's formatting (`slice_error_fail`, 1.3 KB) into the wasm.
        let end = authority.find(']')?;
        let inner = authority.as_bytes().get(1..end)?;
        if !inner
            .iter()
            .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        (
            authority.get(..=end)?,
            authority.get(end + 1..)?.strip_prefix(':'),
        )
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    if host.is_empty() {
        return None;
    }
    if !host.starts_with('[') {
        let ok_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| {
                    c.is_ascii_alphanumeric() || c == '-' || crate::answer::formats::is_wide(c)
                })
        };
        if !host.split('.').all(ok_label) {
            return None;
        }
    }
    Some(host)
}

/// RFC 9110 token characters.
pub(super) fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a browser can send `value` as a header value, so that `Headers.set`
/// neither throws nor is refused by the server: only code points up to U+00FF
/// (a header value is a byte string; `fetch` throws on anything above), and no
/// control characters (Fetch forbids NUL, CR and LF; RFC 9110 allows no other
/// control character in a field value either) except the tab, which both allow.
pub fn is_sendable_header_value(value: &str) -> bool {
    value
        .chars()
        .all(|c| c == '\t' || (u32::from(c) <= 0xff && !c.is_control()))
}
