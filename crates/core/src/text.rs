//! Small text builders and searches for the messages, debug lines and templates of the
//! runtime's state machines.
//!
//! Why not `format!` and `str::replace`: every `format!` call site compiles its own
//! argument table and formatter calls into the wasm, and `replace` with a string
//! pattern brings in the two-way string searcher; these non-generic functions do
//! the same work once for every caller.

/// The parts, joined. (Not `<[&str]>::concat`: std's generic join measured 340
/// raw bytes more in the wasm.)
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `n` in decimal.
pub fn decimal(n: u64) -> String {
    let mut out = String::new();
    crate::json::write_u64(&mut out, n);
    out
}

/// Where `needle` first occurs in `haystack` (a byte offset; an empty needle is
/// found at 0). A plain byte scan: `str::find` and `str::contains` with a string
/// pattern bring the two-way string searcher into the wasm, which these few short
/// needles do not need.
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    (0..=haystack.len().checked_sub(needle.len())?).find(|&at| {
        haystack
            .get(at..)
            .is_some_and(|rest| rest.starts_with(needle))
    })
}

/// `s` cut at the last `sep` (ASCII), which neither part keeps: the cut of
/// `str::rsplit_once` with a char. A byte search here: the standard one
/// instantiates the reverse char searcher over `str` for its callers.
pub(crate) fn rsplit_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let at = s.bytes().rposition(|b| b == sep)?;
    // An ASCII byte's position is a char boundary on both sides, so these `get`s
    // always succeed; unlike a slice index, they have no panic path.
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// `template` with every occurrence of each key replaced by its value, in one
/// pass from left to right (a value is never searched for keys itself). Keys are
/// matched as they are, e.g. `{name}`; an empty key matches nothing.
pub fn fill(template: &str, keys: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    'scan: while !rest.is_empty() {
        for (key, value) in keys {
            if let Some(after) = rest.strip_prefix(key).filter(|_| !key.is_empty()) {
                out.push_str(value);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_every_key_as_str_replace_does() {
        let cases = [
            ("{n} of {total}", "3", "12"),
            ("{n}/{total} ({n})", "1", "2"),
            ("no keys here", "1", "2"),
            ("{total}{n}{", "ü", "漢"),
            ("{n", "1", "2"),
            ("", "1", "2"),
        ];
        for (template, n, total) in cases {
            assert_eq!(
                fill(template, &[("{n}", n), ("{total}", total)]),
                template.replace("{n}", n).replace("{total}", total),
                "{template}"
            );
        }
    }

    #[test]
    fn a_filled_in_value_is_not_searched_for_keys() {
        assert_eq!(
            fill("Do you work at {name}?", &[("{name}", "{name} Inc")]),
            "Do you work at {name} Inc?"
        );
    }

    #[test]
    fn an_empty_key_matches_nothing() {
        assert_eq!(fill("abc", &[("", "x")]), "abc");
    }

    #[test]
    fn find_gives_the_offset_std_gives() {
        for (haystack, needle) in [
            ("", ""),
            ("abc", ""),
            ("", "a"),
            ("abc", "abc"),
            ("abc", "abcd"),
            ("a..b", ".."),
            ("https://x", "://"),
            ("é\u{fffd}é", "\u{fffd}"),
            ("at x.wasm:wasm-function[3]", ":wasm-function["),
            ("aaab", "ab"),
        ] {
            assert_eq!(
                find(haystack, needle),
                haystack.find(needle),
                "{haystack:?} {needle:?}"
            );
        }
    }

    #[test]
    fn rsplit_once_cuts_at_the_last_separator_as_std_does() {
        for s in ["a@b@c", "@", "no separator", "", "é@ü", "x@", "@y"] {
            assert_eq!(rsplit_once(s, b'@'), s.rsplit_once('@'), "{s}");
        }
    }

    #[test]
    fn decimal_writes_every_digit() {
        for n in [0, 7, 10, 429, 1_000_000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        assert_eq!(concat(&["a", "", "bc"]), "abc");
    }
}
