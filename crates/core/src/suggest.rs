//! Confirm instead of ask (contract section 5, v2): the company a user probably
//! works at, guessed from their work email (`grace@northwind.example` gives
//! "Northwind"), for a text question with `suggest: "emailDomain"`.
//!
//! The guess is made from the email's *registrable domain* (the public suffix plus
//! one label: `mail.northwind.co.uk` gives `northwind.co.uk`), and never from a
//! free-mail provider, where the domain says nothing about an employer.
//!
//! Finding the public suffix exactly takes the whole Public Suffix List, about
//! 10,000 rules: far too big for the widget, whose wasm is measured in brotli
//! bytes. So there are two ways in:
//! - [`company_from_email`] uses a compact rule ([`registrable_domain`]) that gets
//!   the common cases right; the widget uses it when the server has no guess.
//! - [`company_from_email_with`] takes the registrable domain from a caller that has
//!   the full list (the collector, which has no size limit, returns its guess in
//!   the profile read's `suggestions`, and the widget prefers that one).
//!
//! Both end in the same free-mail check and the same display name.

use crate::answer::is_email;
use crate::config::{Config, Kind, Question, Suggest, User};
use crate::rules::profile_value;

// The three lists below are single space-separated strings rather than arrays
// of `&str`: in the wasm an array costs a pointer and a length per entry besides
// the text, and compresses worse.

/// Second-level labels that, under a two-letter country code, are part of the
/// public suffix: `co.uk`, `com.au`, `org.br`, `ac.jp`, `ne.jp`, `go.kr`, ...
///
/// Source: the generic second-level labels that recur under most country codes in
/// the ICANN section of the Public Suffix List
/// (<https://publicsuffix.org/list/public_suffix_list.dat>). A rule instead of a
/// table: a country code that does not use such a label (`com.de` is not a
/// suffix) costs a missed guess for a company called "Com", never a wrong one.
const SECOND_LEVEL: &str = "ac co com edu go gob gov gv ltd ne net or org plc";

/// Free-mail providers, by registrable domain. A domain here says nothing about
/// where its user works, so nothing is guessed from it.
///
/// Source: the providers with the most users among those in `data/free.txt` of
/// <https://github.com/willwhite/freemail> (itself collected from HubSpot's list
/// of free email domains), plus those named in contract section 5. Kept short on
/// purpose: every name costs the wasm, and a provider missing here costs a wrong
/// guess the user answers with "No", never a wrong answer.
const FREE_MAIL: &str = "126.com 163.com aol.com comcast.net free.fr libero.it live.com \
    mac.com mail.com mail.ru me.com msn.com naver.com orange.fr pm.me qq.com t-online.de \
    web.de ymail.com";

/// Providers that are free mail under every country code (`yahoo.co.uk`,
/// `hotmail.fr`, `gmx.at`): matched by the label left of the public suffix.
const FREE_MAIL_NAMES: &str =
    "gmail googlemail gmx hotmail icloud outlook proton protonmail yahoo yandex";

/// Whether `word` is one of the space-separated words of `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split(' ').any(|w| w == word)
}

/// The domain of an email address, lower-cased: `None` when `email` is not one.
pub fn email_domain(email: &str) -> Option<String> {
    let email = email.trim();
    if !is_email(email) {
        return None;
    }
    let (_, domain) = email.rsplit_once('@')?;
    Some(domain.to_ascii_lowercase())
}

/// The registrable domain of `domain` by the compact rule: the last two labels,
/// or three when the second-to-last is a generic second level under a country
/// code (see [`SECOND_LEVEL`]). `None` when `domain` is itself a suffix.
pub fn registrable_domain(domain: &str) -> Option<&str> {
    // Where each of the last three labels starts (0 when the domain begins there).
    let mut starts = [0usize; 3];
    let mut rest = domain;
    for start in &mut starts {
        let Some(dot) = rest.rfind('.') else {
            break;
        };
        *start = dot + 1;
        rest = &domain[..dot];
    }
    if starts[0] == 0 {
        // One label: a top-level domain, not something anyone registered.
        return None;
    }
    let (tld, second) = (&domain[starts[0]..], &domain[starts[1]..starts[0] - 1]);
    if !(tld.len() == 2 && listed(SECOND_LEVEL, second)) {
        return Some(&domain[starts[1]..]);
    }
    // `co.uk` alone is a suffix too.
    (starts[1] != 0).then(|| &domain[starts[2]..])
}

/// Whether `registrable` (a registrable domain, lower case) is a free-mail
/// provider's.
pub fn is_free_mail(registrable: &str) -> bool {
    let name = registrable.split('.').next().unwrap_or("");
    listed(FREE_MAIL, registrable) || listed(FREE_MAIL_NAMES, name)
}

/// The company name shown for a registrable domain: its first label, words split
/// at hyphens, each word's first letter upper-cased (`blue-yonder.com` gives
/// "Blue Yonder"). `None` for a label that cannot be shown as a name: punycode
/// (`xn--...`, which only a full IDNA decoder turns back into letters) or one
/// without a letter (`123.com`).
pub fn company_name(registrable: &str) -> Option<String> {
    let label = registrable.split('.').next()?;
    // (Not `char::is_alphabetic`: its Unicode table costs the wasm more than a
    // label of digits and hyphens, the only letterless kind a domain has, costs
    // this test.)
    if label.starts_with("xn--") || label.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let mut name = String::with_capacity(label.len());
    for word in label.split('-').filter(|w| !w.is_empty()) {
        if !name.is_empty() {
            name.push(' ');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(upper(first));
            name.push_str(chars.as_str());
        }
    }
    Some(name)
}

/// Upper case for ASCII and the Latin-1 letters (`ü` to `Ü`, `é` to `É`), which
/// cover the IDN domains of most European companies; other letters stay as they
/// are. (`char::to_uppercase` would bring the whole Unicode case table into the
/// wasm for one letter.)
fn upper(c: char) -> char {
    match c {
        'a'..='z' => c.to_ascii_uppercase(),
        'à'..='þ' if c != '÷' => char::from_u32(c as u32 - 0x20).unwrap_or(c),
        _ => c,
    }
}

/// The company guessed from `email` with the compact suffix rule: "Northwind" for
/// `grace@mail.northwind.co.uk`; `None` for a free-mail address, a malformed one,
/// or a domain that is a public suffix itself.
pub fn company_from_email(email: &str) -> Option<String> {
    company_from_email_with(email, |domain| {
        registrable_domain(domain).map(str::to_owned)
    })
}

/// [`company_from_email`] with the registrable domain found by `registrable`
/// (given the email's lower-cased domain): for a caller that has the full Public
/// Suffix List.
pub fn company_from_email_with(
    email: &str,
    registrable: impl FnOnce(&str) -> Option<String>,
) -> Option<String> {
    let domain = email_domain(email)?;
    let registrable = registrable(&domain)?;
    if is_free_mail(&registrable) {
        return None;
    }
    company_name(&registrable)
}

/// The user's known email: the profile's value at the field of the config's first
/// `kind: "email"` question, or else at `email` (where Auth0 and most identity
/// providers keep it).
pub fn known_email<'a>(config: &Config, user: &'a User) -> Option<&'a str> {
    // Plain loops, not `config.questions()`: its flattening iterator is compiled
    // anew for every closure it meets, which the wasm pays for.
    let mut field = "email";
    'find: for stage in &config.stages {
        for q in &stage.questions {
            if q.kind == Kind::Email {
                field = &q.field;
                break 'find;
            }
        }
    }
    profile_value(&user.profile, field)
        .or_else(|| user.profile.get("email"))
        .and_then(serde_json::Value::as_str)
}

/// What `question` offers to confirm for `user`, if anything (contract section 5):
/// for a text question with `suggest: "emailDomain"`, the server's guess
/// (`server`, from the profile read's `suggestions`, made with the full Public
/// Suffix List) or else the compact rule's guess from the user's known email.
/// A guess the question would refuse as an answer (too long for its `maxLength`)
/// is not offered: "Yes" must always post a valid answer.
pub fn suggestion(
    config: &Config,
    question: &Question,
    user: &User,
    server: Option<&str>,
) -> Option<String> {
    if question.kind != Kind::Text || question.suggest != Suggest::EmailDomain {
        return None;
    }
    let guess = match server {
        Some(guess) => guess.trim().to_owned(),
        None => company_from_email(known_email(config, user)?)?,
    };
    // What `check_value` would refuse of a text answer: empty, or too long.
    let chars = guess.chars().count();
    (chars > 0 && chars <= question.max_chars() as usize).then_some(guess)
}

/// The `suggestions` of a profile read (contract section 6: an object mapping a
/// field to a guessed value), kept only for configured questions that take a
/// suggestion: `(field, guess)`. Anything else in it is ignored.
pub fn from_profile_read(config: &Config, body: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(suggestions) = body.get("suggestions").and_then(|s| s.as_object()) else {
        return out;
    };
    for stage in &config.stages {
        for q in &stage.questions {
            let guess = suggestions.get(&q.field).and_then(|g| g.as_str());
            if let (false, Some(guess)) = (q.suggest.is_off(), guess) {
                out.push((q.field.clone(), guess.to_owned()));
            }
        }
    }
    out
}
