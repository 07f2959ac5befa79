//! Confirm instead of ask (contract section 5, v2): the company a user probably
//! works at, guessed from their work email (`grace@northwind.example` gives
//! "Northwind"), for a text question with `suggest: "emailDomain"`.
//!
//! The guess is made from the email's *registrable domain* (the public suffix plus
//! one label: `mail.northwind.co.uk` gives `northwind.co.uk`), and never from a
//! free-mail provider, where the domain says nothing about an employer.
//!
//! Where it is made: finding the public suffix takes the whole Public Suffix List
//! (about 10,000 rules). The collector, which has no size limit, makes the guess
//! with it ([`company_from_email_with`], given the list's answer) and returns it in
//! the profile read's `suggestions`; the widget only offers what it got there
//! ([`offer`]). A compact rule in the widget (the common multi-part suffixes and
//! free-mail providers) was built and measured: 668 B brotli, which the widget's
//! size ceiling could not take together with the rest of these features. So
//! without a profile read that knows the user's email, the question is asked as
//! usual.

use crate::config::{Config, Kind, Question, Suggest, User};
use crate::rules::profile_value;

/// Free-mail providers, by registrable domain. A domain here says nothing about
/// where its user works, so nothing is guessed from it.
///
/// Source: the providers with the most users among those in `data/free.txt` of
/// <https://github.com/willwhite/freemail> (itself collected from HubSpot's list of
/// free email domains), plus those named in contract section 5.
const FREE_MAIL: &[&str] = &[
    "126.com",
    "163.com",
    "aim.com",
    "aol.com",
    "att.net",
    "bigpond.com",
    "bk.ru",
    "btinternet.com",
    "comcast.net",
    "cox.net",
    "daum.net",
    "earthlink.net",
    "fastmail.com",
    "free.fr",
    "freenet.de",
    "hanmail.net",
    "hey.com",
    "inbox.ru",
    "juno.com",
    "laposte.net",
    "libero.it",
    "list.ru",
    "live.com",
    "mac.com",
    "mail.com",
    "mail.ru",
    "mailbox.org",
    "me.com",
    "msn.com",
    "naver.com",
    "o2.pl",
    "onet.pl",
    "orange.fr",
    "pm.me",
    "posteo.de",
    "qq.com",
    "rediffmail.com",
    "rocketmail.com",
    "sbcglobal.net",
    "seznam.cz",
    "sfr.fr",
    "shaw.ca",
    "sina.com",
    "sky.com",
    "t-online.de",
    "tuta.io",
    "tutanota.com",
    "verizon.net",
    "virgilio.it",
    "wanadoo.fr",
    "web.de",
    "wp.pl",
    "ymail.com",
];

/// Providers that are free mail under every public suffix (`yahoo.co.uk`,
/// `hotmail.fr`, `gmx.at`): matched by the label left of the suffix.
const FREE_MAIL_NAMES: &[&str] = &[
    "gmail",
    "googlemail",
    "gmx",
    "hotmail",
    "icloud",
    "outlook",
    "proton",
    "protonmail",
    "yahoo",
    "yandex",
];

/// The domain of an email address, lower-cased: `None` when `email` is not one.
pub fn email_domain(email: &str) -> Option<String> {
    let email = email.trim();
    if !crate::answer::is_email(email) {
        return None;
    }
    let (_, domain) = crate::text::rsplit_once(email, b'@')?;
    Some(domain.to_lowercase())
}

/// Whether `registrable` (a registrable domain, lower case) is a free-mail
/// provider's.
pub fn is_free_mail(registrable: &str) -> bool {
    let name = registrable.split('.').next().unwrap_or("");
    FREE_MAIL.contains(&registrable) || FREE_MAIL_NAMES.contains(&name)
}

/// The company name shown for a registrable domain: its first label, words split
/// at hyphens, each word's first letter upper-cased (`blue-yonder.com` gives
/// "Blue Yonder", `müller.de` gives "Müller"). `None` for a label that cannot be
/// shown as a name: punycode (`xn--...`; decode it first) or one without a letter
/// (`123.com`).
pub fn company_name(registrable: &str) -> Option<String> {
    let label = registrable.split('.').next()?;
    // A letter: ASCII, or any character beyond ASCII (see `formats::is_wide` for
    // why not Unicode's letter tables).
    if label.starts_with("xn--")
        || !label
            .chars()
            .any(|c| c.is_ascii_alphabetic() || crate::answer::formats::is_wide(c))
    {
        return None;
    }
    let mut name = String::with_capacity(label.len());
    for word in label.split('-').filter(|w| !w.is_empty()) {
        if !name.is_empty() {
            name.push(' ');
        }
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    Some(name)
}

/// The company guessed from `email`, with its registrable domain found by
/// `registrable` (given the email's lower-cased domain; `None` when that domain
/// is a public suffix itself): "Northwind" for `grace@mail.northwind.co.uk`;
/// `None` for a free-mail address or a malformed one.
pub fn company_from_email_with(
    email: &str,
    registrable: impl FnOnce(&str) -> Option<String>,
) -> Option<String> {
    company_from_domain_with(&email_domain(email)?, registrable)
}

/// The company guessed from an email's `domain` (lower case), as
/// [`company_from_email_with`] does from the whole address.
pub fn company_from_domain_with(
    domain: &str,
    registrable: impl FnOnce(&str) -> Option<String>,
) -> Option<String> {
    let registrable = registrable(domain)?;
    if is_free_mail(&registrable) {
        return None;
    }
    company_name(&registrable)
}

/// The domain the profile read sends as its `emailDomain` hint (contract section
/// 6), so the collector can guess the company from an email the host knows but
/// the collector has not stored: the domain of the user's known email, when the
/// config has a question that takes a suggestion. Only the domain leaves the
/// page, never the address.
pub fn domain_hint(config: &Config, user: &User) -> Option<String> {
    config.first_question(&|q| q.suggest == Suggest::EmailDomain)?;
    let email = known_email(config, user)?.trim();
    if !crate::answer::is_email(email) {
        return None;
    }
    // ASCII case only (the collector folds the rest): Unicode case mapping would
    // bring its tables into the wasm (measured +5 KB brotli).
    let (_, domain) = crate::text::rsplit_once(email, b'@')?;
    Some(domain.to_ascii_lowercase())
}

/// The user's known email: the profile's value at the field of the config's first
/// `kind: "email"` question, or else at `email` (where Auth0 and most identity
/// providers keep it).
pub fn known_email<'a>(config: &Config, user: &'a User) -> Option<&'a str> {
    let field = config
        .first_question(&|q| q.kind == Kind::Email)
        .map_or("email", |(_, q)| q.field.as_str());
    profile_value(&user.profile, field)
        .or_else(|| user.profile.get("email"))
        .and_then(serde_json::Value::as_str)
}

/// What `question` offers to confirm, given a `guess` (contract section 5): the
/// guess, trimmed, for a text question with `suggest: "emailDomain"`; nothing for
/// any other question, or for a guess the question would refuse as an answer
/// (empty, or longer than its `maxLength`): "Yes" must always post a valid answer.
pub fn offer(question: &Question, guess: &str) -> Option<String> {
    if question.kind != Kind::Text || question.suggest != Suggest::EmailDomain {
        return None;
    }
    let guess = guess.trim();
    let chars = guess.chars().count();
    (chars > 0 && chars <= question.max_chars() as usize).then(|| guess.to_owned())
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
