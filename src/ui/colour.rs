//! The accent colour and the text colour drawn on it. The parser and the WCAG math
//! are `trickle_core::colour` (one hex parser for the config check and the popup,
//! tested natively there); what stays here is the check of the colour pairs in
//! the widget's own stylesheet, which only this crate can read.

pub(crate) use trickle_core::colour::accent_pair;

#[cfg(test)]
mod tests {
    // Run natively (`cargo test`) and in wasm (`--target wasm32-unknown-unknown`,
    // where a plain #[test] would be skipped).
    use trickle_core::colour::{contrast, parse_hex_colour, text_on, DEFAULT_ACCENT};
    use wasm_bindgen_test::wasm_bindgen_test;

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
        parse_hex_colour(value[..value.find(';').unwrap()].trim()).unwrap()
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

    #[wasm_bindgen_test(unsupported = test)]
    fn the_popup_gets_the_core_accent_pair() {
        assert_eq!(
            super::accent_pair("#2A5383"),
            ("#2a5383".to_owned(), "#ffffff".to_owned())
        );
    }
}
