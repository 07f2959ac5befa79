//! The profile read's `suggestions` (contract sections 5 and 6, v2): for each
//! configured text question with `suggest: "emailDomain"` whose field the profile
//! does not hold yet, the company guessed from the user's stored work email.
//!
//! The whole Public Suffix List is far too big for the widget's wasm; the collector
//! has no such limit, so it finds the registrable domain with the full list (crate
//! `psl`) and decodes punycode labels (`xn--mller-kva.de` gives "Müller"), and the
//! widget offers what it returns. The rest of the decision (free mail, the display
//! name, which question takes a guess and how long it may be) is
//! `trickle_core::suggest`, shared with the widget.

use std::collections::BTreeMap;

use serde_json::{Map, Value as JsonValue};
use trickle_core::config::{Config, User};
use trickle_core::rules::{is_present, profile_value};
use trickle_core::suggest::{
    company_from_domain_with, company_from_email_with, known_email, offer,
};

/// The registrable domain of `domain` (lower-case, as in an email) by the whole
/// Public Suffix List, in Unicode: `mail.northwind.co.uk` gives `northwind.co.uk`,
/// `xn--mller-kva.de` gives `müller.de`. `None` when `domain` is a public suffix
/// itself or not a domain name.
pub fn registrable_domain(domain: &str) -> Option<String> {
    let (unicode, result) = idna::domain_to_unicode(domain);
    if result.is_err() {
        return None;
    }
    psl::domain_str(&unicode).map(str::to_owned)
}

/// The company guessed from `email` with the whole Public Suffix List.
pub fn company_from_email(email: &str) -> Option<String> {
    company_from_email_with(email, registrable_domain)
}

/// The company guessed from an email's `domain` with the whole Public Suffix List.
pub fn company_from_domain(domain: &str) -> Option<String> {
    company_from_domain_with(domain, registrable_domain)
}

/// The `suggestions` of a profile read: field -> guessed value, for the questions
/// of `config` that take a suggestion and whose field `profile` does not hold.
/// The guess comes from the stored email, or else from `domain_hint` (the
/// read's `emailDomain`: the domain of an email the host knows).
pub fn suggestions(
    config: &Config,
    profile: &Map<String, JsonValue>,
    domain_hint: Option<&str>,
) -> BTreeMap<String, String> {
    let user = User {
        id: String::new(),
        logins_count: 0,
        profile: JsonValue::Object(profile.clone()),
        user_hash: None,
        consent: Default::default(),
    };
    let guess = match known_email(config, &user) {
        Some(email) => company_from_email(email),
        None => domain_hint.and_then(company_from_domain),
    };
    let Some(guess) = guess else {
        return BTreeMap::new();
    };
    config
        .questions()
        .filter(|(_, q)| !profile_value(&user.profile, &q.field).is_some_and(is_present))
        .filter_map(|(_, q)| Some((q.field.clone(), offer(q, &guess)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_full_list_finds_suffixes_the_compact_rule_does_not_know() {
        let table = [
            ("grace@northwind.example", Some("Northwind")),
            ("grace@mail.northwind.co.uk", Some("Northwind")),
            // Multi-part suffixes a rule of common second-level labels would miss.
            ("k@fabrikam.tokyo.jp", Some("Fabrikam")),
            // A wildcard rule: every name under kawasaki.jp is a suffix itself.
            ("k@fabrikam.kawasaki.jp", None),
            ("k@contoso.eng.br", Some("Contoso")),
            ("k@tailspin.gouv.fr", Some("Tailspin")),
            // Punycode is decoded for display (the widget cannot).
            ("jan@xn--mller-kva.de", Some("Müller")),
            ("jan@müller.de", Some("Müller")),
            ("someone@gmail.com", None),
            ("someone@yahoo.co.jp", None),
            ("k@co.uk", None),
            ("not an email", None),
        ];
        for (email, want) in table {
            assert_eq!(company_from_email(email).as_deref(), want, "{email}");
        }
    }

    fn config() -> Config {
        Config::from_value(json!({
            "endpoint": "/v1/answers",
            "stages": [{ "id": "s", "questions": [
                { "id": "email", "field": "email", "kind": "email", "prompt": "Email?" },
                { "id": "company", "field": "company.name", "kind": "text", "prompt": "Company?",
                  "suggest": "emailDomain" },
                { "id": "city", "field": "city", "kind": "text", "prompt": "City?" }
            ]}]
        }))
        .unwrap()
    }

    fn profile(value: JsonValue) -> Map<String, JsonValue> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_stored_work_email_suggests_the_company_for_fields_not_yet_known() {
        let config = config();
        assert_eq!(
            suggestions(
                &config,
                &profile(json!({ "email": "grace@mail.northwind.co.uk" })),
                None
            ),
            BTreeMap::from([("company.name".to_owned(), "Northwind".to_owned())])
        );
        assert!(
            suggestions(
                &config,
                &profile(
                    json!({ "email": "grace@northwind.example", "company": { "name": "NW" } })
                ),
                None
            )
            .is_empty(),
            "the field is known"
        );
        assert!(suggestions(&config, &profile(json!({ "email": "g@gmail.com" })), None).is_empty());
        assert!(suggestions(&config, &profile(json!({})), None).is_empty());
    }

    #[test]
    fn without_a_stored_email_the_read_s_domain_hint_is_used() {
        let config = config();
        let guess = |p: JsonValue, hint: &str| suggestions(&config, &profile(p), Some(hint));
        assert_eq!(
            guess(json!({}), "mail.northwind.co.uk"),
            BTreeMap::from([("company.name".to_owned(), "Northwind".to_owned())])
        );
        assert_eq!(
            guess(
                json!({ "email": "grace@contoso.example" }),
                "northwind.example"
            )["company.name"],
            "Contoso",
            "the stored email wins over the hint"
        );
        assert!(guess(json!({}), "gmail.com").is_empty(), "free mail");
        assert!(guess(json!({}), "co.uk").is_empty(), "a public suffix");
    }
}
