//! User-facing text: one string or one per locale, and its validation.

use serde::{Deserialize, Serialize};

use crate::sorted::Map;

use super::parse::{At, Read};

// Deserialized by hand (not `#[serde(untagged)]`) so that a malformed translation
// is reported at its own path (`prompt.de: invalid type: ...`) instead of as
// "data did not match any variant".
/// User-facing text: one string, or one per locale (`{ "en": "...", "de": "..." }`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Text {
    /// The same text for every locale.
    Plain(String),
    /// Text per BCP 47 locale.
    Translated(
        #[cfg_attr(
            feature = "schema",
            schemars(with = "std::collections::BTreeMap<String, String>")
        )]
        Map<String>,
    ),
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> serde::de::Visitor<'de> for TextVisitor {
            type Value = Text;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an object of translations keyed by locale")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::Plain(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text::Plain(v))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                let mut out = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    // next_value goes through the path-tracking wrapper, so a
                    // non-string translation is reported as `prompt.de: ...`.
                    let value: String = map.next_value()?;
                    if out.insert(key.clone(), value).is_some() {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate translation `{key}`"
                        )));
                    }
                }
                Ok(Text::Translated(out))
            }
        }

        deserializer.deserialize_any(TextVisitor)
    }
}

impl Text {
    /// The text for `locale`: the exact locale (case and `_`/`-` insensitive), then
    /// ever shorter prefixes of it (`de-CH-1901` -> `de-CH` -> `de`), then any
    /// translation of the same language, then `en`, then the first translation.
    pub fn resolve(&self, locale: &str) -> &str {
        match self {
            Text::Plain(s) => s,
            Text::Translated(map) => {
                let key = crate::i18n::pick(locale, map.keys().map(String::as_str));
                key.and_then(|k| map.get(k))
                    .map(String::as_str)
                    .unwrap_or("")
            }
        }
    }
}

pub(super) fn validate_text(text: &Text, at: &At) -> Read<()> {
    match text {
        Text::Plain(s) => {
            if super::validate::is_blank(s) {
                return Err(at.fail("must not be empty"));
            }
        }
        Text::Translated(map) => {
            if map.is_empty() {
                return Err(at.fail("needs at least one translation"));
            }
            for (locale, s) in map {
                let at = At::Key(at, locale);
                if !crate::i18n::is_valid_tag(locale) {
                    return Err(at.error(super::validate::not_a_tag(locale)));
                }
                if super::validate::is_blank(s) {
                    return Err(at.fail("must not be empty"));
                }
            }
        }
    }
    Ok(())
}
