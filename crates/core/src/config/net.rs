//! Endpoint URLs and request headers.

// Hand-rolled instead of the `url` crate: that crate (with idna) adds tens of KB
// to the wasm, and the rule here is only "https, a path, or local http".
pub(super) fn validate_endpoint(endpoint: &str) -> Result<(), String> {
    if endpoint.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must not contain spaces".into());
    }
    if endpoint.starts_with("//") {
        return Err("must be an https:// URL or a path starting with /".into());
    }
    if endpoint.starts_with('/') {
        return Ok(());
    }
    let lower = endpoint.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("must be an https:// URL or a path starting with /".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("must not contain credentials".into());
    }
    let host = host_of(authority).ok_or_else(|| "has no valid host".to_owned())?;
    if !secure && !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return Err("http:// is only allowed for localhost and 127.0.0.1; use https://".into());
    }
    Ok(())
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
