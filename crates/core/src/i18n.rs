//! UI strings (contract section 5) in English, German and Arabic, locale fallback,
//! and the text direction of a locale.

use crate::text::{decimal, fill};

/// The control labels and messages of the popup, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strings {
    /// The language tag these strings are in (`en`, `de`, `ar`).
    pub lang: &'static str,
    /// The snooze button ("Not now").
    pub not_now: &'static str,
    /// The close button's accessible name ("Close").
    pub close: &'static str,
    /// The decline button ("Prefer not to say").
    pub prefer_not_to_say: &'static str,
    /// Submits typed input ("Save").
    pub save: &'static str,
    /// The choice that reveals a free-text box ("Other").
    pub other: &'static str,
    /// The accessible name of the "Other" text box.
    pub other_label: &'static str,
    /// The disclosure that shows a question's `why` ("Why we ask").
    pub why_we_ask: &'static str,
    /// The short thank-you after the last question of a login.
    pub thanks: &'static str,
    /// The dialog's fallback accessible name.
    pub dialog_label: &'static str,
    /// Refusal of a malformed email address.
    pub invalid_email: &'static str,
    /// Refusal of a malformed phone number.
    pub invalid_tel: &'static str,
    /// Refusal of a malformed web address.
    pub invalid_url: &'static str,
    /// Refusal of something that is not a number.
    pub invalid_number: &'static str,
    /// Refusal of something that is not a calendar date.
    pub invalid_date: &'static str,
    /// Refusal of an answer longer than `maxLength`.
    pub too_long: &'static str,
    /// Refusal of an empty answer.
    pub required: &'static str,
    /// Refusal of a value that is not one of the options.
    pub invalid_choice: &'static str,
    /// Refusal of a value of the wrong shape (not expected from the popup's own
    /// controls; here so every `ValueError` has a message).
    pub invalid_value: &'static str,
    /// Progress template; `{n}` and `{total}` are replaced.
    pub progress_template: &'static str,
    /// (v2) Confirm instead of ask: the question for a suggested company;
    /// `{name}` is replaced ("Do you work at {name}?").
    pub confirm_template: &'static str,
    /// (v2) Confirms the suggestion ("Yes").
    pub yes: &'static str,
    /// (v2) Refuses the suggestion and reveals the text box ("No").
    pub no: &'static str,
}

impl Strings {
    /// The progress hint, e.g. "2 of 3".
    pub fn progress(&self, n: u32, total: u32) -> String {
        let (n, total) = (decimal(u64::from(n)), decimal(u64::from(total)));
        fill(self.progress_template, &[("{n}", &n), ("{total}", &total)])
    }

    /// The confirm question for a suggested company, e.g. "Do you work at
    /// Northwind?".
    pub fn confirm(&self, name: &str) -> String {
        fill(self.confirm_template, &[("{name}", name)])
    }
}

/// English (the fallback).
pub static EN: Strings = Strings {
    lang: "en",
    not_now: "Not now",
    close: "Close",
    prefer_not_to_say: "Prefer not to say",
    save: "Save",
    other: "Other",
    other_label: "Your answer",
    why_we_ask: "Why we ask",
    thanks: "Thank you!",
    dialog_label: "A quick question",
    invalid_email: "Please enter a valid email address.",
    invalid_tel: "Please enter a valid phone number.",
    invalid_url: "Please enter a valid web address.",
    invalid_number: "Please enter a number.",
    invalid_date: "Please enter a valid date.",
    too_long: "That answer is too long.",
    required: "Please enter an answer.",
    invalid_choice: "Please choose one of the options.",
    invalid_value: "That answer is not valid.",
    progress_template: "{n} of {total}",
    confirm_template: "Do you work at {name}?",
    yes: "Yes",
    no: "No",
};

/// German.
pub static DE: Strings = Strings {
    lang: "de",
    not_now: "Nicht jetzt",
    close: "Schließen",
    prefer_not_to_say: "Keine Angabe",
    save: "Speichern",
    other: "Sonstiges",
    other_label: "Ihre Antwort",
    why_we_ask: "Warum wir fragen",
    thanks: "Vielen Dank!",
    dialog_label: "Eine kurze Frage",
    invalid_email: "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
    invalid_tel: "Bitte geben Sie eine gültige Telefonnummer ein.",
    invalid_url: "Bitte geben Sie eine gültige Webadresse ein.",
    invalid_number: "Bitte geben Sie eine Zahl ein.",
    invalid_date: "Bitte geben Sie ein gültiges Datum ein.",
    too_long: "Diese Antwort ist zu lang.",
    required: "Bitte geben Sie eine Antwort ein.",
    invalid_choice: "Bitte wählen Sie eine der Optionen.",
    invalid_value: "Diese Antwort ist ungültig.",
    progress_template: "{n} von {total}",
    confirm_template: "Arbeiten Sie bei {name}?",
    yes: "Ja",
    no: "Nein",
};

/// Arabic.
pub static AR: Strings = Strings {
    lang: "ar",
    not_now: "ليس الآن",
    close: "إغلاق",
    prefer_not_to_say: "أفضّل عدم الإجابة",
    save: "حفظ",
    other: "أخرى",
    other_label: "إجابتك",
    why_we_ask: "لماذا نسأل",
    thanks: "شكرًا لك!",
    dialog_label: "سؤال سريع",
    invalid_email: "يرجى إدخال عنوان بريد إلكتروني صالح.",
    invalid_tel: "يرجى إدخال رقم هاتف صالح.",
    invalid_url: "يرجى إدخال عنوان ويب صالح.",
    invalid_number: "يرجى إدخال رقم.",
    invalid_date: "يرجى إدخال تاريخ صالح.",
    too_long: "هذه الإجابة طويلة جدًا.",
    required: "يرجى إدخال إجابة.",
    invalid_choice: "يرجى اختيار أحد الخيارات.",
    invalid_value: "هذه الإجابة غير صالحة.",
    progress_template: "{n} من {total}",
    confirm_template: "هل تعمل في {name}؟",
    yes: "نعم",
    no: "لا",
};

/// The strings for `locale`: the locale's language if translated (`de-AT` -> German),
/// otherwise English.
pub fn strings(locale: &str) -> &'static Strings {
    // What `pick` chooses among `en`, `de` and `ar`: these are bare languages, so
    // an exact or prefix match is one of the same language, and that is decided
    // by the first subtag alone. Said directly: through `pick`, generic over its
    // tags, this was a second copy of that code in the wasm (the tests hold the
    // two to the same answer).
    match normalize(locale).split('-').next() {
        Some("de") => &DE,
        Some("ar") => &AR,
        _ => &EN,
    }
}

/// Text direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left.
    Rtl,
}

impl Direction {
    /// The HTML `dir` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
        }
    }
}

/// Languages written right to left by default.
const RTL_LANGS: &[&str] = &[
    "ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku", "ps", "sd", "ug", "ur", "yi",
];
/// Scripts written right to left.
const RTL_SCRIPTS: &[&str] = &[
    "arab", "hebr", "thaa", "syrc", "nkoo", "adlm", "rohg", "mand", "samr",
];

/// The text direction of `locale`: a script subtag decides (`az-Arab` is rtl,
/// `ku-Latn` is ltr), otherwise the language does.
pub fn direction(locale: &str) -> Direction {
    let norm = normalize(locale);
    let mut parts = norm.split('-');
    let lang = parts.next().unwrap_or("");
    if let Some(script) = parts
        .next()
        .filter(|s| s.len() == 4 && s.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return if RTL_SCRIPTS.contains(&script) {
            Direction::Rtl
        } else {
            Direction::Ltr
        };
    }
    if RTL_LANGS.contains(&lang) {
        Direction::Rtl
    } else {
        Direction::Ltr
    }
}

/// Lower-cases a tag and turns `_` into `-` (browsers and hosts spell both).
pub(crate) fn normalize(tag: &str) -> String {
    tag.trim().replace('_', "-").to_ascii_lowercase()
}

/// Whether `tag` is shaped like a BCP 47 language tag: a 2-3 letter
/// language, then subtags of 1-8 letters or digits. (Hand-rolled: a full registry
/// check would need the subtag registry, far too big for the wasm.)
pub fn is_valid_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang = parts.next().unwrap_or("");
    let lang_ok = matches!(lang.len(), 2 | 3) && lang.bytes().all(|b| b.is_ascii_alphabetic());
    lang_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Picks the best of `available` for `wanted`: exact match, then ever shorter
/// prefixes of `wanted`, then any tag of the same language, then `en`, then the
/// first. Matching ignores case and `_`/`-`. `None` only when nothing is available.
pub(crate) fn pick<'a>(wanted: &str, available: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let want = normalize(wanted);
    let lang = want.split('-').next().unwrap_or("");
    // One pass that ranks each tag as the rules above order them, the first of
    // the best winning; not a pass per rule and per prefix, which compiled a
    // search loop for each into the wasm. A prefix of `wanted` is `wanted` cut
    // before one of its `-`, and a longer one ranks higher.
    let mut best: Option<(usize, &str)> = None;
    for tag in available {
        let norm = normalize(tag);
        let rank = match want.strip_prefix(norm.as_str()) {
            Some(rest) if rest.is_empty() || rest.starts_with('-') => 3 + norm.len(),
            _ if !lang.is_empty() && norm.split('-').next() == Some(lang) => 2,
            _ if norm == "en" => 1,
            _ => 0,
        };
        if best.is_none_or(|(held, _)| rank > held) {
            best = Some((rank, tag));
        }
    }
    best.map(|(_, tag)| tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules of [`pick`] applied one after another, as it was written
    /// before it ranked the tags in one pass: the oracle it is held to.
    fn pick_in_passes<'a>(wanted: &str, available: &[&'a str]) -> Option<&'a str> {
        let want = normalize(wanted);
        let mut prefix = want.as_str();
        loop {
            if let Some(hit) = available.iter().find(|a| normalize(a) == prefix) {
                return Some(hit);
            }
            match prefix.rsplit_once('-') {
                Some((shorter, _)) => prefix = shorter,
                None => break,
            }
        }
        let lang = want.split('-').next().unwrap_or("");
        if let Some(hit) = available
            .iter()
            .find(|a| !lang.is_empty() && normalize(a).split('-').next() == Some(lang))
        {
            return Some(hit);
        }
        if let Some(hit) = available.iter().find(|a| normalize(a) == "en") {
            return Some(hit);
        }
        available.first().copied()
    }

    #[test]
    fn pick_chooses_as_its_rules_applied_one_after_another() {
        let tags = [
            "de",
            "de-AT",
            "de_at",
            "DE-at-1901",
            "en",
            "en-GB",
            "pt-BR",
            "pt",
            "fr",
            "",
            "-",
            "de-",
            "-de",
            "zh-Hant-TW",
            "zh",
        ];
        let wanted = [
            "",
            "de",
            "de-AT",
            "de-at-1901",
            "de-CH",
            "en-US",
            "pt",
            "pt-PT",
            "fr-CA",
            "ja",
            "-",
            "-de",
            "de-",
            "de--x",
            "zh-Hant-HK",
            "ZH_hant",
            "x-de",
        ];
        // Every ordered pair and triple of tags, and the whole list.
        let mut lists: Vec<Vec<&str>> = vec![Vec::new(), tags.to_vec()];
        for a in tags {
            for b in tags {
                lists.push(vec![a, b]);
                for c in ["en", "pt", "de-AT"] {
                    lists.push(vec![a, b, c]);
                }
            }
        }
        for list in &lists {
            for want in wanted {
                assert_eq!(
                    pick(want, list.iter().copied()),
                    pick_in_passes(want, list),
                    "{want:?} among {list:?}"
                );
            }
        }
    }

    #[test]
    fn strings_are_what_pick_chooses_among_the_three_languages() {
        let all = [&EN, &DE, &AR];
        for locale in [
            "",
            "en",
            "de",
            "ar",
            "de-AT",
            "de_CH",
            " DE ",
            "ar-EG",
            "AR_eg",
            "fr-FR",
            "fr",
            "EN-gb",
            "de-",
            "-de",
            "d",
            "deu",
            "de-Latn-AT",
            "zh-Hant",
            "ar-",
            "x-de",
        ] {
            let picked = pick(locale, all.iter().map(|s| s.lang)).unwrap_or("en");
            assert_eq!(strings(locale).lang, picked, "{locale:?}");
        }
    }
}
