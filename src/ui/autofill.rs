//! The HTML attributes of a typed answer's text box: `type`, `inputmode` and the
//! `autocomplete` token, so the right keyboard shows and browser autofill can fill
//! what it already knows about the user (their name, email, employer...).

use trickle_core::config::Kind;

/// How one question's text box is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputAttrs {
    /// The `type` attribute.
    pub(crate) kind: &'static str,
    /// The `inputmode` attribute (the on-screen keyboard); none for a date picker.
    pub(crate) inputmode: Option<&'static str>,
    /// The `autocomplete` token; `off` when the field is nothing autofill knows.
    pub(crate) autocomplete: &'static str,
}

/// The text box attributes for a question of `kind` filling profile `field`.
///
/// Numbers use `type=text` with a decimal keyboard: `type=number` reports an empty
/// value for what it cannot parse, so the popup could not tell "empty" from
/// "not a number" and refuse it with the right message.
pub(crate) fn input_attrs(kind: Kind, field: &str) -> InputAttrs {
    let token = token_for_field(field);
    let (ty, mode, default) = match kind {
        Kind::Email => ("email", Some("email"), "email"),
        Kind::Tel => ("tel", Some("tel"), "tel"),
        Kind::Url => ("url", Some("url"), "url"),
        Kind::Number => ("text", Some("decimal"), "off"),
        Kind::Date => ("date", None, "off"),
        Kind::Text | Kind::Choice | Kind::Multichoice => ("text", Some("text"), "off"),
    };
    // A field-derived token wins only where it fits the kind: `bday` on a date,
    // `organization` on text, but never `email` on a phone number.
    let fits = match kind {
        Kind::Text => !matches!(token, Some("bday")),
        Kind::Date => matches!(token, Some("bday")),
        _ => false,
    };
    InputAttrs {
        kind: ty,
        inputmode: mode,
        autocomplete: if fits {
            token.unwrap_or(default)
        } else {
            default
        },
    }
}

/// The parents under which `name` and `title` are the company's, not the person's.
const COMPANY: &str = "company organization organisation employer org job work";

/// Each autocomplete token and the (squashed) last segments of the fields that hold
/// it, as `token=field field;`, searched in order. Text rather than a `match` on
/// strings, which compiled to a comparison call per name (about 70 of them), or
/// a table of slices, whose pointers compress worse than these letters.
const TOKENS: &str = "name=name fullname;\
given-name=givenname firstname forename;\
family-name=familyname lastname surname;\
additional-name=middlename additionalname;\
nickname=nickname displayname;\
username=username login;\
email=email emailaddress mail;\
tel=phone phonenumber tel telephone mobile mobilephone;\
bday=birthday birthdate dateofbirth dob bday;\
street-address=address street streetaddress;\
address-level2=city town locality;\
address-level1=region state province;\
postal-code=postcode postalcode zip zipcode;\
country-name=country countryname;\
organization=company organization organisation employer companyname;\
organization-title=jobtitle role position occupation;\
url=website homepage url;\
language=language locale;\
sex=gender sex";

/// Whether `word` is one of the space-separated `words`.
fn listed(words: &str, word: &str) -> bool {
    words.split(' ').any(|w| w == word)
}

/// The autocomplete token a profile field (a dot path such as `company.name`) most
/// likely holds, judged by its last segment and, for `name`/`title`, its parent.
fn token_for_field(field: &str) -> Option<&'static str> {
    let mut segments = field.rsplit('.');
    let last = squash(segments.next().unwrap_or(""));
    let parent = segments.next().map(squash).unwrap_or_default();
    if listed(COMPANY, &parent) {
        match last.as_str() {
            "name" => return Some("organization"),
            "title" => return Some("organization-title"),
            _ => {}
        }
    }
    TOKENS.split(';').find_map(|entry| {
        let (token, fields) = entry.split_once('=')?;
        listed(fields, &last).then_some(token)
    })
}

/// Lower case, without `_`, `-` and spaces: `first_name`, `firstName` and
/// `first-name` all become `firstname`. ASCII case folding is enough, as every
/// name it is matched against is ASCII (and full Unicode lowercasing would bring
/// an 11 KB table into the wasm).
fn squash(segment: &str) -> String {
    segment
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    // Run natively (`cargo test`) and in wasm (`--target wasm32-unknown-unknown`,
    // where a plain #[test] would be skipped).
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn token(kind: Kind, field: &str) -> &'static str {
        input_attrs(kind, field).autocomplete
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn names_and_company_fields_get_their_autofill_tokens() {
        assert_eq!(token(Kind::Text, "name"), "name");
        assert_eq!(token(Kind::Text, "profile.first_name"), "given-name");
        assert_eq!(token(Kind::Text, "lastName"), "family-name");
        assert_eq!(token(Kind::Text, "company.name"), "organization");
        assert_eq!(token(Kind::Text, "company.title"), "organization-title");
        assert_eq!(token(Kind::Text, "company.role"), "organization-title");
        assert_eq!(token(Kind::Text, "company"), "organization");
        assert_eq!(token(Kind::Text, "address.street"), "street-address");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn field_names_in_any_spelling_find_their_token_and_title_alone_finds_none() {
        for (field, expected) in [
            ("profile.Date_Of_Birth", Some("bday")),
            ("dob", Some("bday")),
            ("address.zip", Some("postal-code")),
            ("mobile-phone", Some("tel")),
            ("countryName", Some("country-name")),
            ("e-mail", Some("email")),
            ("user.login", Some("username")),
            ("gender", Some("sex")),
            ("locale", Some("language")),
            ("homepage", Some("url")),
            ("job.name", Some("organization")),
            ("work.title", Some("organization-title")),
            ("org.website", Some("url")),
            // A title outside a company is no autofill field (a salutation, a book).
            ("title", None),
            ("person.title", None),
            ("company.size", None),
        ] {
            assert_eq!(token_for_field(field), expected, "{field}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn kinds_bring_their_own_token_and_keyboard() {
        assert_eq!(
            input_attrs(Kind::Email, "contact.work"),
            InputAttrs {
                kind: "email",
                inputmode: Some("email"),
                autocomplete: "email"
            }
        );
        assert_eq!(
            input_attrs(Kind::Tel, "phone"),
            InputAttrs {
                kind: "tel",
                inputmode: Some("tel"),
                autocomplete: "tel"
            }
        );
        assert_eq!(
            input_attrs(Kind::Url, "company.website").autocomplete,
            "url"
        );
        assert_eq!(
            input_attrs(Kind::Number, "company.size"),
            InputAttrs {
                kind: "text",
                inputmode: Some("decimal"),
                autocomplete: "off"
            }
        );
        assert_eq!(token(Kind::Date, "birthday"), "bday");
        assert_eq!(input_attrs(Kind::Date, "birthday").kind, "date");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_token_that_does_not_fit_the_kind_or_an_unknown_field_is_not_offered() {
        // A founding date is no birthday, a birthday typed as text gets no `bday`,
        // and a tel question keeps `tel` whatever its field is called.
        assert_eq!(token(Kind::Date, "company.founded"), "off");
        assert_eq!(token(Kind::Text, "birthday"), "off");
        assert_eq!(token(Kind::Text, "goals.main"), "off");
        assert_eq!(token(Kind::Tel, "email"), "tel");
        assert_eq!(token(Kind::Text, "email"), "email");
    }
}
