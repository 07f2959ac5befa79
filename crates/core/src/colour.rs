//! Hex colours and the text colour drawn on an accent.
//!
//! One parser for the config check (`theme.accent`) and the widget, which only
//! ever hands `style.setProperty` a colour this module re-serialized, never the
//! host's raw string. A host may pick any accent, light or dark, so the text on
//! accent-filled controls is chosen by luminance: whichever of white and black
//! contrasts more (WCAG 2 relative luminance).

/// The default accent, `#2A5383` (white text on it contrasts 7.9:1).
pub const DEFAULT_ACCENT: [u8; 3] = [0x2a, 0x53, 0x83];
/// Text on a dark accent.
const LIGHT_TEXT: [u8; 3] = [0xff, 0xff, 0xff];
/// Text on a light accent. Pure black: with it, the better of the two always
/// reaches at least 4.58:1, whatever the accent.
const DARK_TEXT: [u8; 3] = [0, 0, 0];

/// Parses `#rgb` or `#rrggbb` (hex digits in either case) into red, green, blue;
/// anything else (no `#`, other lengths, spaces, names like `red`) is `None`.
///
/// Only hex colours are allowed because the accent ends up in a CSS custom
/// property inside the shadow root: a config can never smuggle other CSS in.
pub fn parse_hex_colour(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#')?.as_bytes();
    // The digits gathered into one number, without indexing (each index was a
    // bounds check and a panic path): a digit of `#rgb` stands for two (`a` is `aa`).
    let short = match hex.len() {
        3 => true,
        6 => false,
        _ => return None,
    };
    let mut rgb = 0u32;
    for &b in hex {
        let d = char::from(b).to_digit(16)?;
        rgb = if short {
            (rgb << 8) | (d * 17)
        } else {
            (rgb << 4) | d
        };
    }
    let [_, r, g, b] = rgb.to_be_bytes();
    Some([r, g, b])
}

/// `#rrggbb`, lower case.
pub fn to_hex(rgb: [u8; 3]) -> String {
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
pub fn luminance(rgb: [u8; 3]) -> f64 {
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
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The text colour for controls filled with `accent`: the one of white and
/// black that contrasts more with it.
pub fn text_on(accent: [u8; 3]) -> [u8; 3] {
    if contrast(LIGHT_TEXT, accent) >= contrast(DARK_TEXT, accent) {
        LIGHT_TEXT
    } else {
        DARK_TEXT
    }
}

/// The accent and its text colour as `#rrggbb` strings; an unparsable accent falls
/// back to the default (the config validation refuses one already).
pub fn accent_pair(accent: &str) -> (String, String) {
    let rgb = parse_hex_colour(accent).unwrap_or(DEFAULT_ACCENT);
    (to_hex(rgb), to_hex(text_on(rgb)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_short_colour_is_its_long_form() {
        for v in 0..0x1000u32 {
            let short = format!("#{v:03x}");
            let long: String = short[1..].chars().flat_map(|c| [c, c]).collect();
            let rgb = parse_hex_colour(&short).expect("a #rgb colour");
            assert_eq!(to_hex(rgb), format!("#{long}"), "{short}");
            assert_eq!(parse_hex_colour(&short.to_uppercase()), Some(rgb));
        }
    }

    #[test]
    fn parses_short_and_long_hex_and_refuses_the_rest() {
        assert_eq!(parse_hex_colour("#2A5383"), Some([0x2a, 0x53, 0x83]));
        assert_eq!(parse_hex_colour("#fA0"), Some([0xff, 0xaa, 0x00]));
        assert_eq!(parse_hex_colour("#000"), Some([0, 0, 0]));
        for bad in [
            "2a5383",
            "#2a538",
            "#2a53833",
            "#ggg",
            "#",
            "",
            "red",
            " #2a5383",
            "#2a5383 ",
            "#ff0000;color:red",
            "#+1a",
            "#\u{e9}\u{e9}",
        ] {
            assert_eq!(parse_hex_colour(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_colour_round_trips_through_hex() {
        for v in 0..=255u8 {
            for rgb in [[v, 0, 0], [0, v, 0], [0, 0, v], [v, 255 - v, v / 2]] {
                assert_eq!(parse_hex_colour(&to_hex(rgb)), Some(rgb));
            }
        }
    }

    #[test]
    fn pow_2_4_matches_powf() {
        for c in 11..=255u8 {
            let x = (f64::from(c) / 255.0 + 0.055) / 1.055;
            let (ours, std) = (pow_2_4(x), x.powf(2.4));
            assert!(
                (ours - std).abs() <= 4.0 * f64::EPSILON * std,
                "{c}: {ours} {std}"
            );
        }
    }

    #[test]
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
        assert!(contrast(text_on(DEFAULT_ACCENT), DEFAULT_ACCENT) >= 4.5);
    }

    #[test]
    fn default_accent_gets_white_text_and_a_light_accent_dark_text() {
        assert_eq!(
            accent_pair("#2A5383"),
            ("#2a5383".to_owned(), "#ffffff".to_owned())
        );
        assert_eq!(accent_pair("#ffe066").1, "#000000");
        assert_eq!(accent_pair("not a colour").0, "#2a5383");
    }
}
