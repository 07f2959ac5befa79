//! The accent colour and the text colour drawn on it.
//!
//! A host may pick any accent, light or dark, so the text on accent-filled controls
//! is chosen by luminance: whichever of white and near-black contrasts more
//! (WCAG 2 relative luminance). Only a colour this module has re-serialized ever
//! reaches `style.setProperty`, never the host's raw string.

/// The default accent (white text on it contrasts 7.9:1).
pub(crate) const DEFAULT_ACCENT: [u8; 3] = [0x2a, 0x53, 0x83];
/// Text on a dark accent.
const LIGHT_TEXT: [u8; 3] = [0xff, 0xff, 0xff];
/// Text on a light accent. Pure black: with it, the better of the two always
/// reaches at least 4.58:1, whatever the accent.
const DARK_TEXT: [u8; 3] = [0, 0, 0];

/// Parses `#rgb` or `#rrggbb` (case-insensitive); anything else is `None`.
pub(crate) fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let hex = s.trim().strip_prefix('#')?;
    let digits: Vec<u8> = hex
        .bytes()
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    match digits.as_slice() {
        [r, g, b] => Some([r * 17, g * 17, b * 17]),
        [r1, r2, g1, g2, b1, b2] => Some([r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2]),
        _ => None,
    }
}

/// `#rrggbb`, lower case.
pub(crate) fn to_hex(rgb: [u8; 3]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(7);
    out.push('#');
    for c in rgb {
        out.push(DIGITS[usize::from(c >> 4)] as char);
        out.push(DIGITS[usize::from(c & 15)] as char);
    }
    out
}

/// WCAG 2 relative luminance, 0 (black) to 1 (white).
pub(crate) fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            pow_2_4((c + 0.055) / 1.055)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

/// `x.powf(2.4)` for `0 < x <= 1`, as x² times the fifth root of x² by Newton's
/// method (from above, so it settles well within 40 steps): `powf` is not a wasm
/// instruction and libm's `pow` costs 1.4 KB. Within 2 ulp of `powf`; over all
/// 16.7M accents `text_on` picks the same colour as with `powf`.
fn pow_2_4(x: f64) -> f64 {
    let x2 = x * x;
    let mut y = 1.0f64;
    for _ in 0..40 {
        let y2 = y * y;
        y = (4.0 * y + x2 / (y2 * y2)) / 5.0;
    }
    x2 * y
}

/// WCAG 2 contrast ratio of two colours, 1 to 21.
pub(crate) fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The text colour for controls filled with `accent`: the one of white and
/// near-black that contrasts more with it.
pub(crate) fn text_on(accent: [u8; 3]) -> [u8; 3] {
    if contrast(LIGHT_TEXT, accent) >= contrast(DARK_TEXT, accent) {
        LIGHT_TEXT
    } else {
        DARK_TEXT
    }
}

/// The accent and its text colour as `#rrggbb` strings; an unparsable accent falls
/// back to the default (the config validation should have refused it already).
pub(crate) fn accent_pair(accent: &str) -> (String, String) {
    let rgb = parse_hex(accent).unwrap_or(DEFAULT_ACCENT);
    (to_hex(rgb), to_hex(text_on(rgb)))
}

#[cfg(test)]
mod tests {
    // Run natively (`cargo test`) and in wasm (`--target wasm32-unknown-unknown`,
    // where a plain #[test] would be skipped).
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test(unsupported = test)]
    fn parses_short_and_long_hex_and_refuses_the_rest() {
        assert_eq!(parse_hex("#2A5383"), Some([0x2a, 0x53, 0x83]));
        assert_eq!(parse_hex("#fA0"), Some([0xff, 0xaa, 0x00]));
        assert_eq!(parse_hex("2a5383"), None);
        assert_eq!(parse_hex("#2a538"), None);
        assert_eq!(parse_hex("#ggg"), None);
        assert_eq!(parse_hex("red"), None);
        assert_eq!(parse_hex("#ff0000;color:red"), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn text_on_any_accent_meets_aa_for_normal_text() {
        // Every grey and a spread of hues: the chosen text colour reaches 4.5:1.
        for v in (0..=255u8).step_by(5) {
            for accent in [
                [v, v, v],
                [v, 0, 0],
                [0, v, 0],
                [0, 0, v],
                [255, v, 0],
                [0, v, 255],
            ] {
                let ratio = contrast(text_on(accent), accent);
                assert!(ratio >= 4.5, "{accent:?}: {ratio}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn default_accent_gets_white_text_and_a_light_accent_dark_text() {
        assert_eq!(
            accent_pair("#2A5383"),
            ("#2a5383".to_owned(), "#ffffff".to_owned())
        );
        assert_eq!(accent_pair("#ffe066").1, "#000000");
        assert_eq!(accent_pair("not a colour").0, "#2a5383");
    }

    /// The `#rrggbb` value of custom property `name` in the first rule starting
    /// with `selector` in the shipped stylesheet.
    fn css_var(selector: &str, name: &str) -> [u8; 3] {
        let css = super::super::STYLESHEET;
        let rule = &css[css.find(selector).unwrap_or_else(|| panic!("{selector}"))..];
        let rule = &rule[..rule.find('}').unwrap()];
        let at = rule
            .find(name)
            .unwrap_or_else(|| panic!("{selector} {name}"))
            + name.len()
            + 1;
        let value = &rule[at..];
        parse_hex(&value[..value.find(';').unwrap()]).unwrap()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_stylesheet_colour_pairs_meet_aa_in_both_schemes() {
        // Text 4.5:1 (WCAG 1.4.3), input borders 3:1 (1.4.11), read from the CSS itself.
        for scheme in [".t{", ".dark{", ".auto{"] {
            let bg = css_var(scheme, "--bg");
            for (name, min) in [("--fg", 4.5), ("--mu", 4.5), ("--er", 4.5), ("--bd", 3.0)] {
                let ratio = contrast(css_var(scheme, name), bg);
                assert!(ratio >= min, "{scheme} {name}: {ratio:.2}");
            }
        }
        assert!(contrast(text_on(DEFAULT_ACCENT), DEFAULT_ACCENT) >= 4.5);
    }
}
