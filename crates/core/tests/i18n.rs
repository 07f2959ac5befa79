//! UI strings (contract section 5): English defaults, German, Arabic, fallback and
//! text direction.

use trickle_core::i18n::{direction, is_valid_tag, strings, Direction};

#[test]
fn english_defaults_match_the_contract_control_names() {
    let s = strings("en");
    assert_eq!(s.not_now, "Not now");
    assert_eq!(s.close, "Close");
    assert_eq!(s.prefer_not_to_say, "Prefer not to say");
    assert_eq!(s.save, "Save");
    assert_eq!(s.other, "Other");
    assert_eq!(s.progress(2, 3), "2 of 3");
}

#[test]
fn german_and_arabic_are_translated() {
    assert_eq!(strings("de").not_now, "Nicht jetzt");
    assert_eq!(strings("de").progress(1, 2), "1 von 2");
    assert_eq!(strings("ar").save, "حفظ");
    assert_eq!(strings("ar").progress(1, 3), "1 من 3");
}

#[test]
fn locale_falls_back_to_language_then_english() {
    assert_eq!(strings("de-AT").lang, "de");
    assert_eq!(strings("de_CH").lang, "de");
    assert_eq!(strings("ar-EG").lang, "ar");
    assert_eq!(strings("fr-FR").lang, "en");
    assert_eq!(strings("").lang, "en");
    assert_eq!(strings("EN-gb").lang, "en");
}

#[test]
fn every_language_fills_every_string() {
    for lang in ["en", "de", "ar"] {
        let s = strings(lang);
        let all = [
            s.not_now,
            s.close,
            s.prefer_not_to_say,
            s.save,
            s.other,
            s.other_label,
            s.why_we_ask,
            s.thanks,
            s.dialog_label,
            s.invalid_email,
            s.invalid_tel,
            s.invalid_url,
            s.invalid_number,
            s.invalid_date,
            s.too_long,
            s.required,
            s.invalid_choice,
            s.invalid_value,
            s.yes,
            s.no,
        ];
        assert!(
            all.iter().all(|t| !t.trim().is_empty()),
            "{lang} has an empty string"
        );
        assert!(s.progress_template.contains("{n}") && s.progress_template.contains("{total}"));
        assert!(s.confirm_template.contains("{name}"), "{lang}");
    }
}

#[test]
fn the_confirm_question_names_the_company_in_every_language() {
    assert_eq!(
        strings("en").confirm("Northwind"),
        "Do you work at Northwind?"
    );
    assert_eq!(
        strings("de").confirm("Northwind"),
        "Arbeiten Sie bei Northwind?"
    );
    assert_eq!(strings("ar").confirm("Northwind"), "هل تعمل في Northwind؟");
    assert_eq!((strings("en").yes, strings("en").no), ("Yes", "No"));
    assert_eq!((strings("de").yes, strings("de").no), ("Ja", "Nein"));
    assert_eq!((strings("ar").yes, strings("ar").no), ("نعم", "لا"));
}

#[test]
fn direction_is_rtl_for_rtl_languages_and_scripts() {
    assert_eq!(direction("ar"), Direction::Rtl);
    assert_eq!(direction("ar-EG"), Direction::Rtl);
    assert_eq!(direction("he"), Direction::Rtl);
    assert_eq!(direction("fa-IR"), Direction::Rtl);
    assert_eq!(direction("ur"), Direction::Rtl);
    assert_eq!(direction("az-Arab"), Direction::Rtl, "script decides");
    assert_eq!(direction("ku-Latn"), Direction::Ltr, "script decides");
    assert_eq!(direction("en"), Direction::Ltr);
    assert_eq!(direction("de-DE"), Direction::Ltr);
    assert_eq!(direction(""), Direction::Ltr);
    assert_eq!(Direction::Rtl.as_str(), "rtl");
}

#[test]
fn every_rtl_language_and_script_is_rtl_and_their_neighbours_are_not() {
    for lang in [
        "ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku", "ps", "sd", "ug", "ur", "yi",
    ] {
        assert_eq!(direction(lang), Direction::Rtl, "{lang}");
    }
    for script in [
        "Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg", "Mand", "Samr",
    ] {
        assert_eq!(
            direction(&format!("en-{script}")),
            Direction::Rtl,
            "{script}"
        );
    }
    // Pieces of the lists that are no language or script of theirs: the lists are
    // matched whole entry by entry, never as substrings.
    for ltr in [
        "a", "r", "rc", "ar a", "en-Bheb", "en-Rabh", "en-Arabh", "ks ku",
    ] {
        assert_eq!(direction(ltr), Direction::Ltr, "{ltr}");
    }
}

#[test]
fn language_tags_are_checked_for_shape() {
    for ok in ["en", "de-AT", "zh-Hant-TW", "es-419", "sr-Latn-RS", "ast"] {
        assert!(is_valid_tag(ok), "{ok}");
    }
    for bad in [
        "",
        "e",
        "english1",
        "de_DE",
        "de-",
        "-de",
        "de-toolongsubtag",
        "12",
    ] {
        assert!(!is_valid_tag(bad), "{bad}");
    }
}
