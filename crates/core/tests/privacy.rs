//! Ask less (contract v2, sections 1, 2, 3 and 5): confirm instead of ask (the
//! company guessed from a work email), and privacy (marketing questions, consent,
//! Global Privacy Control) in the rule, the session, the outbox and the envelope.

use std::cell::RefCell;
use std::collections::BTreeMap;

use trickle_core::sorted::Set;

use serde_json::{json, Value as Json};
use trickle_core::answer::{check_envelope, Answer, Consent, Context, Envelope, Status, Value};
use trickle_core::config::{Config, User};
use trickle_core::outbox::Batch;
use trickle_core::rules::{explain, next_question, PromptState, Reason};
use trickle_core::session::{Input, Output, Response, Screen, Session, Storage};
use trickle_core::suggest::{
    company_from_email_with, company_name, email_domain, from_profile_read, is_free_mail,
    known_email, offer,
};

// --- the email-domain decision --------------------------------------------------

/// A stand-in for the Public Suffix List with the suffixes the table uses (the
/// collector's tests run the same shapes through the real list): the registrable
/// domain is the longest known suffix plus one label.
fn registrable(domain: &str) -> Option<String> {
    const SUFFIXES: &[&str] = &[
        "co.uk", "com.au", "co.jp", "ne.jp", "org.br", "example", "com", "io", "de", "fr", "jp",
        "me", "uk", "456",
    ];
    let suffix = SUFFIXES
        .iter()
        .filter(|s| domain.ends_with(&format!(".{s}")) || domain == **s)
        .max_by_key(|s| s.len())?;
    let owner = domain.strip_suffix(suffix)?.strip_suffix('.')?;
    let label = owner.rsplit('.').next()?;
    Some(format!("{label}.{suffix}"))
}

#[test]
fn the_company_is_guessed_from_the_registrable_domain_of_a_work_email() {
    let table: &[(&str, Option<&str>, &str)] = &[
        // company domains
        ("grace@northwind.example", Some("Northwind"), "company"),
        ("ada@acme.com", Some("Acme"), "company"),
        (
            "GRACE@Northwind.Example",
            Some("Northwind"),
            "case is ignored",
        ),
        (
            "x@blue-yonder.io",
            Some("Blue Yonder"),
            "hyphens split words",
        ),
        // subdomains
        (
            "grace@mail.northwind.example",
            Some("Northwind"),
            "subdomain",
        ),
        (
            "g@eu.mail.northwind.com",
            Some("Northwind"),
            "deeper subdomain",
        ),
        // multi-part public suffixes
        ("grace@mail.northwind.co.uk", Some("Northwind"), "co.uk"),
        ("k@contoso.com.au", Some("Contoso"), "com.au"),
        ("k@fabrikam.co.jp", Some("Fabrikam"), "co.jp"),
        ("k@tailspin.ne.jp", Some("Tailspin"), "ne.jp"),
        ("k@wingtip.org.br", Some("Wingtip"), "org.br"),
        ("k@co.uk", None, "a bare suffix is nobody's domain"),
        // free mail, on any country code
        ("someone@gmail.com", None, "gmail"),
        ("someone@googlemail.com", None, "googlemail"),
        ("someone@outlook.com", None, "outlook"),
        ("someone@yahoo.com", None, "yahoo"),
        ("someone@yahoo.co.uk", None, "yahoo under co.uk"),
        ("someone@hotmail.fr", None, "hotmail under fr"),
        ("someone@icloud.com", None, "icloud"),
        ("someone@gmx.de", None, "gmx"),
        ("someone@proton.me", None, "proton"),
        ("someone@web.de", None, "web.de"),
        ("someone@live.com", None, "live.com"),
        // IDN
        (
            "jan@müller.de",
            Some("Müller"),
            "Unicode IDN, Latin-1 upper-cased",
        ),
        (
            "jan@bücher-haus.de",
            Some("Bücher Haus"),
            "Unicode IDN with a hyphen",
        ),
        (
            "jan@xn--mller-kva.de",
            None,
            "punycode cannot be shown as a name",
        ),
        (
            "jan@東京.jp",
            Some("東京"),
            "a script without case stays as written",
        ),
        // no email, malformed email
        ("", None, "empty"),
        ("northwind.example", None, "no @"),
        ("grace@", None, "no domain"),
        ("@northwind.example", None, "no local part"),
        ("grace@localhost", None, "an undotted domain"),
        ("grace@northwind..example", None, "an empty label"),
        ("grace@123.456", None, "a numeric top-level label"),
        ("grace@@northwind.example", None, "two @"),
        ("grace@123.com", None, "a label without a letter is no name"),
    ];
    for (email, want, why) in table {
        assert_eq!(
            company_from_email_with(email, registrable).as_deref(),
            *want,
            "{email:?} ({why})"
        );
    }
}

#[test]
fn a_guess_with_a_full_suffix_list_goes_through_the_same_checks() {
    // A registrable domain from the full list (which knows `city.kawasaki.jp`
    // style rules the compact one does not) still skips free mail and shows a name.
    assert_eq!(
        company_from_email_with("g@x.northwind.city.example", |_| Some(
            "northwind.city.example".into()
        ))
        .as_deref(),
        Some("Northwind")
    );
    assert_eq!(
        company_from_email_with("g@gmail.com", |_| Some("gmail.com".into())),
        None
    );
    assert_eq!(
        company_from_email_with("g@co.uk", |_| None),
        None,
        "no registrable domain, no guess"
    );
    assert_eq!(
        company_from_email_with("not an email", |_| panic!("never asked")),
        None
    );
}

#[test]
fn free_mail_is_recognised_by_domain_or_by_provider_name() {
    assert!(is_free_mail("gmail.com"));
    assert!(is_free_mail("yahoo.co.jp"));
    assert!(is_free_mail("t-online.de"));
    assert!(!is_free_mail("northwind.example"));
    // `live` alone is not a provider name: only live.com is listed.
    assert!(!is_free_mail("live.nation.example"));
    assert_eq!(
        email_domain(" Grace@Northwind.Example "),
        Some("northwind.example".into())
    );
    assert_eq!(company_name("xn--bcher-kva.de"), None);
}

// --- the decision per question ---------------------------------------------------

fn config(extra: Json) -> Config {
    let mut base = json!({
        "endpoint": "/v1/answers",
        "stages": [
            { "id": "basics", "minLogins": 1, "questions": [
                { "id": "company", "field": "company.name", "kind": "text",
                  "prompt": "Which company do you work for?", "suggest": "emailDomain" },
                { "id": "news", "field": "newsletter", "kind": "choice", "purpose": "marketing",
                  "prompt": "Which newsletter would you like?",
                  "options": [{ "value": "weekly", "label": "Weekly" }, { "value": "none", "label": "None" }] },
                { "id": "city", "field": "city", "kind": "text", "prompt": "Your city?" }
            ]}
        ]
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    Config::from_value(base).unwrap()
}

fn user(profile: Json, consent: Option<bool>) -> User {
    User {
        id: "u1".into(),
        logins_count: 1,
        profile,
        user_hash: None,
        consent: Consent { marketing: consent },
    }
}

#[test]
fn a_guess_is_offered_only_on_a_text_question_that_asks_for_one() {
    let config = config(json!({}));
    let (_, company) = config.question("company").unwrap();
    let (_, city) = config.question("city").unwrap();
    let (_, news) = config.question("news").unwrap();
    assert_eq!(offer(company, " Northwind ").as_deref(), Some("Northwind"));
    assert_eq!(offer(city, "Northwind"), None, "no suggest key");
    assert_eq!(offer(news, "Northwind"), None, "not a text question");
    assert_eq!(offer(company, "  "), None, "nothing to confirm");
}

#[test]
fn a_guess_longer_than_the_questions_max_length_is_not_offered() {
    let config = config(json!({ "stages": [{ "id": "s", "questions": [
        { "id": "company", "field": "company.name", "kind": "text", "prompt": "Company?",
          "suggest": "emailDomain", "maxLength": 5 }
    ]}]}));
    let (_, company) = config.question("company").unwrap();
    assert_eq!(offer(company, "Northwind"), None);
    assert_eq!(offer(company, "Acme").as_deref(), Some("Acme"));
    assert_eq!(
        offer(company, "Müllr").as_deref(),
        Some("Müllr"),
        "counted in characters"
    );
}

#[test]
fn the_email_is_read_from_the_configs_email_question_first() {
    let config = config(json!({ "stages": [{ "id": "s", "questions": [
        { "id": "work", "field": "work.email", "kind": "email", "prompt": "Work email?" },
        { "id": "company", "field": "company.name", "kind": "text", "prompt": "Company?",
          "suggest": "emailDomain" }
    ]}]}));
    let both = user(
        json!({ "email": "me@gmail.com", "work": { "email": "me@fabrikam.com" } }),
        None,
    );
    assert_eq!(known_email(&config, &both), Some("me@fabrikam.com"));
    let only_top = user(json!({ "email": "me@contoso.com" }), None);
    assert_eq!(
        known_email(&config, &only_top),
        Some("me@contoso.com"),
        "falls back to profile.email"
    );
    assert_eq!(
        known_email(&config, &user(json!({ "email": 42 }), None)),
        None
    );
    assert_eq!(known_email(&config, &user(json!({}), None)), None);
}

#[test]
fn only_suggestions_for_fields_that_take_one_are_kept_from_a_profile_read() {
    let config = config(json!({}));
    let body = json!({ "suggestions": { "company.name": "Northwind", "city": "Oslo", "x": "y",
        "newsletter": "weekly" } });
    assert_eq!(
        from_profile_read(&config, &body),
        vec![("company.name".to_owned(), "Northwind".to_owned())]
    );
    assert!(from_profile_read(&config, &json!({ "suggestions": ["Northwind"] })).is_empty());
    assert!(from_profile_read(&config, &json!({})).is_empty());
    assert!(
        from_profile_read(&config, &json!({ "suggestions": { "company.name": 3 } })).is_empty()
    );
}

#[test]
fn suggest_and_purpose_are_checked_at_init() {
    let bad = |question: Json| {
        Config::from_value(
            json!({ "endpoint": "/a", "stages": [{ "id": "s", "questions": [question] }] }),
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        bad(
            json!({ "id": "e", "field": "e", "kind": "email", "prompt": "E?", "suggest": "emailDomain" })
        ),
        "stages[0].questions[0].suggest: only text questions take a suggestion, this is email"
    );
    assert_eq!(
        bad(json!({ "id": "t", "field": "t", "kind": "text", "prompt": "T?", "suggest": "x" })),
        "stages[0].questions[0].suggest: unknown variant `x`, expected `emailDomain`"
    );
    assert_eq!(
        bad(json!({ "id": "t", "field": "t", "kind": "text", "prompt": "T?", "purpose": "x" })),
        "stages[0].questions[0].purpose: unknown variant `x`, expected `profile` or `marketing`"
    );
    assert_eq!(
        bad(json!({ "id": "t", "field": "t", "kind": "text", "prompt": "T?", "purpose": 3 })),
        "stages[0].questions[0].purpose: invalid type: integer `3`, expected a string"
    );
    let in_config = Config::from_value(json!({ "endpoint": "/a",
        "user": { "id": "u", "consent": { "marketing": "yes" } },
        "stages": [{ "id": "s", "questions": [{ "id": "t", "field": "t", "kind": "text", "prompt": "T?" }] }] }))
    .unwrap_err()
    .to_string();
    assert_eq!(
        in_config,
        "user.consent.marketing: invalid type: string \"yes\", expected a boolean"
    );
    let not_object = User::from_value(json!({ "id": "u", "consent": false }))
        .unwrap_err()
        .to_string();
    assert_eq!(
        not_object,
        "consent: invalid type: boolean `false`, expected an object like { \"marketing\": false }"
    );
    let user_err = User::from_value(json!({ "id": "u", "consent": { "marketing": "yes" } }))
        .unwrap_err()
        .to_string();
    assert_eq!(
        user_err,
        "consent.marketing: invalid type: string \"yes\", expected a boolean"
    );
    let typo = User::from_value(json!({ "id": "u", "consent": { "marketting": false } }))
        .unwrap_err()
        .to_string();
    assert_eq!(
        typo,
        "consent.marketting: unknown key (expected `marketing`)"
    );
}

// --- privacy in the stage rule ------------------------------------------------------

fn reasons(config: &Config, user: &User, gpc: bool) -> BTreeMap<String, Option<Reason>> {
    let mut state = PromptState::new();
    state.begin_login(user.logins_count);
    explain(config, Some(user), &state, &Set::new(), gpc)
        .into_iter()
        .map(|e| (e.question_id, e.reason))
        .collect()
}

#[test]
fn a_marketing_question_is_closed_without_consent_or_under_gpc() {
    let config = config(json!({}));
    let table = [
        (None, false, None),
        (Some(true), false, None),
        (Some(false), false, Some(Reason::NoConsent)),
        (None, true, Some(Reason::PrivacySignal)),
        (Some(true), true, Some(Reason::PrivacySignal)),
        // Both: the user's own no is the reason given.
        (Some(false), true, Some(Reason::NoConsent)),
    ];
    for (consent, gpc, want) in table {
        let r = reasons(&config, &user(json!({}), consent), gpc);
        assert_eq!(r["news"], want, "consent {consent:?}, gpc {gpc}");
        assert_eq!(r["company"], None, "a profile question stays open");
        assert_eq!(r["city"], None, "a profile question stays open");
    }
    assert_eq!(Reason::NoConsent.as_str(), "no-consent");
    assert_eq!(Reason::PrivacySignal.as_str(), "privacy-signal");
    assert_eq!(
        serde_json::to_value(Reason::PrivacySignal).unwrap(),
        json!("privacy-signal")
    );
}

#[test]
fn a_known_marketing_field_stays_known_and_a_closed_one_is_skipped_for_the_next() {
    let config = config(json!({}));
    let known = user(json!({ "newsletter": "weekly" }), Some(false));
    assert_eq!(reasons(&config, &known, true)["news"], Some(Reason::Known));
    let mut state = PromptState::new();
    state.begin_login(1);
    state.record_answered("company.name");
    let u = user(json!({}), Some(false));
    let due = next_question(&config, &u, &state, &Set::new(), false).unwrap();
    assert_eq!(due.question_id, "city", "the marketing question is skipped");
    assert_eq!(due.total, 1, "and not counted in the progress hint");
}

// --- the session: confirm, and what is queued ---------------------------------------

#[derive(Default)]
struct Mem(RefCell<BTreeMap<String, String>>);

impl Storage for Mem {
    fn get(&self, key: &str) -> Option<String> {
        self.0.borrow().get(key).cloned()
    }
    fn set(&self, key: &str, value: &str) {
        self.0.borrow_mut().insert(key.to_owned(), value.to_owned());
    }
}

fn run(session: &mut Session, store: &Mem, input: Input) -> Vec<Output> {
    let mut out = session.on(store, input, 1_000);
    if out
        .iter()
        .any(|o| matches!(o, Output::Show(Screen::Question(_))))
    {
        out.extend(session.on(store, Input::Displayed(true), 1_000));
    }
    out
}

fn on_screen(out: &[Output]) -> Option<(String, Option<String>)> {
    out.iter().find_map(|o| match o {
        Output::Show(Screen::Question(due)) => {
            Some((due.question_id.clone(), due.suggestion.clone()))
        }
        _ => None,
    })
}

fn respond(session: &mut Session, store: &Mem, response: Response, id: &str) -> Vec<Output> {
    run(
        session,
        store,
        Input::Respond {
            response,
            id: id.into(),
            at: "2026-12-01T10:00:00.000Z".into(),
        },
    )
}

fn queued(out: &[Output]) -> Vec<Answer> {
    out.iter()
        .filter_map(|o| match o {
            Output::Queue { answer, .. } => Some(answer.clone()),
            _ => None,
        })
        .collect()
}

/// A session whose profile read suggests `guess` for `company.name`, with the
/// company question on screen.
fn suggesting(store: &Mem, guess: Option<&str>) -> (Session, Vec<Output>) {
    let config = config(json!({ "profileUrl": "/v1/profiles/{userId}" }));
    let grace = user(json!({ "email": "grace@mail.northwind.co.uk" }), None);
    let mut s = Session::new(config, Some(grace), Set::new());
    let out = run(&mut s, store, Input::Start);
    assert_eq!(on_screen(&out), None, "waits for the read");
    let suggestions = guess.map_or(json!({}), |g| json!({ "company.name": g }));
    let body = json!({ "userId": "u1", "profile": {}, "promptState": { "declined": [], "snoozed": [] },
        "suggestions": suggestions });
    let out = run(
        &mut s,
        store,
        Input::ProfileArrived {
            seq: 1,
            body: Ok(body),
        },
    );
    (s, out)
}

#[test]
fn yes_answers_the_suggestion_with_suggested_true() {
    let store = Mem::default();
    let (mut s, out) = suggesting(&store, Some("Northwind"));
    assert_eq!(
        on_screen(&out),
        Some(("company".into(), Some("Northwind".into())))
    );
    let out = respond(&mut s, &store, Response::Confirm, "a1");
    let q = queued(&out);
    assert_eq!(q.len(), 1);
    let answer = &q[0];
    assert_eq!(answer.status, Status::Answered);
    assert_eq!(answer.value, Some(Value::Text("Northwind".into())));
    assert!(answer.suggested && !answer.other);
    let posted = serde_json::to_value(answer).unwrap();
    assert_eq!(posted["suggested"], json!(true));
}

#[test]
fn no_then_typing_answers_without_suggested() {
    let store = Mem::default();
    let (mut s, _) = suggesting(&store, Some("Northwind"));
    // "No" is the popup's own business (it reveals the text box); what reaches
    // the session is the typed answer.
    let out = respond(
        &mut s,
        &store,
        Response::Answer {
            value: Value::Text("Contoso".into()),
            other: false,
        },
        "a1",
    );
    let answer = &queued(&out)[0];
    assert_eq!(answer.value, Some(Value::Text("Contoso".into())));
    assert!(!answer.suggested);
    assert!(
        !serde_json::to_string(answer).unwrap().contains("suggested"),
        "left out when false"
    );
}

#[test]
fn without_a_suggestion_from_the_profile_read_the_question_is_asked_as_usual() {
    let store = Mem::default();
    // The host knows a work email, but the widget does not guess by itself.
    let (_, out) = suggesting(&store, None);
    assert_eq!(on_screen(&out), Some(("company".into(), None)));
}

#[test]
fn a_confirm_without_a_suggestion_on_screen_answers_nothing() {
    let store = Mem::default();
    let nobody = user(json!({}), None);
    let mut s = Session::new(config(json!({})), Some(nobody), Set::new());
    let out = run(&mut s, &store, Input::Start);
    assert_eq!(on_screen(&out), Some(("company".into(), None)));
    assert!(queued(&respond(&mut s, &store, Response::Confirm, "a1")).is_empty());
    // The question is still on screen and can be answered.
    let out = respond(
        &mut s,
        &store,
        Response::Answer {
            value: Value::Text("Acme".into()),
            other: false,
        },
        "a2",
    );
    assert_eq!(queued(&out).len(), 1);
}

#[test]
fn under_gpc_the_marketing_question_is_skipped_and_requests_carry_the_flags() {
    let store = Mem::default();
    let u = user(json!({}), Some(true));
    let mut s = Session::new(config(json!({})), Some(u), Set::new()).with_privacy_signal(true);
    let out = run(&mut s, &store, Input::Start);
    assert_eq!(on_screen(&out).map(|(q, _)| q), Some("company".into()));
    let out = respond(
        &mut s,
        &store,
        Response::Answer {
            value: Value::Text("Acme".into()),
            other: false,
        },
        "a1",
    );
    assert_eq!(queued(&out).len(), 1);
    // The marketing question was skipped: city came next.
    assert_eq!(on_screen(&out).map(|(q, _)| q), Some("city".into()));
    let why: BTreeMap<_, _> = s
        .explain(&store)
        .into_iter()
        .map(|e| (e.question_id, e.reason))
        .collect();
    assert_eq!(why["news"], Some(Reason::PrivacySignal));
    assert_eq!(
        s.privacy_for("u1"),
        (
            true,
            Some(Consent {
                marketing: Some(true)
            })
        )
    );
}

#[test]
fn a_request_for_someone_no_longer_signed_in_is_marked_without_marketing_consent() {
    let store = Mem::default();
    let consenting = user(json!({}), Some(true));
    let mut s = Session::new(config(json!({})), Some(consenting), Set::new());
    run(&mut s, &store, Input::Start);
    assert_eq!(
        s.privacy_for("u1"),
        (
            false,
            Some(Consent {
                marketing: Some(true)
            })
        )
    );
    // Answers queued before a sign-out, sent after it: their consent is not known
    // here any more, so no marketing tool may get them.
    let refused = Some(Consent {
        marketing: Some(false),
    });
    assert_eq!(s.privacy_for("someone-else"), (false, refused.clone()));
    run(&mut s, &store, Input::SignOut);
    assert_eq!(s.privacy_for("u1"), (false, refused));
    // A user without a consent at all: nothing is claimed.
    let silent = user(json!({}), None);
    let mut s = Session::new(config(json!({})), Some(silent), Set::new());
    run(&mut s, &store, Input::Start);
    assert_eq!(s.privacy_for("u1"), (false, None));
}

// --- the envelope --------------------------------------------------------------

#[test]
fn the_envelope_carries_gpc_and_consent_only_when_set() {
    let batch = Batch {
        user_id: "u1".into(),
        user_hash: None,
        answers: vec![],
        ids: vec![],
    };
    let context = |gpc, consent| Context {
        url: "https://app.example/".into(),
        locale: "en".into(),
        widget: "trickle/test".into(),
        gpc,
        consent,
    };
    let flagged = serde_json::to_value(batch.envelope(context(
        true,
        Some(Consent {
            marketing: Some(false),
        }),
    )))
    .unwrap();
    assert_eq!(flagged["context"]["gpc"], json!(true));
    assert_eq!(flagged["context"]["consent"], json!({ "marketing": false }));
    let plain = serde_json::to_value(batch.envelope(context(false, None))).unwrap();
    assert!(plain["context"].get("gpc").is_none() && plain["context"].get("consent").is_none());
}

#[test]
fn a_receiver_accepts_suggested_answers_and_refuses_a_suggested_decline() {
    let config = config(json!({}));
    let mut body = json!({
        "userId": "u1",
        "answers": [{ "id": "a1", "questionId": "company", "stage": "basics", "field": "company.name",
            "status": "answered", "value": "Northwind", "suggested": true,
            "answeredAt": "2026-12-01T10:00:00.000Z", "loginsCount": 1 }],
        "context": { "url": "https://app.example/", "locale": "en", "widget": "trickle/0.1.0",
            "gpc": true, "consent": { "marketing": false } }
    });
    let env = Envelope::from_json(&body.to_string()).unwrap();
    assert!(env.answers[0].suggested && env.context.gpc);
    check_envelope(&config, &env).unwrap();
    body["answers"][0]["status"] = json!("snoozed");
    body["answers"][0].as_object_mut().unwrap().remove("value");
    let env = Envelope::from_json(&body.to_string()).unwrap();
    assert_eq!(
        check_envelope(&config, &env).unwrap_err().to_string(),
        "answers[0].suggested: only answered answers can be suggested"
    );
}

fn read_url(config: Config, profile: Json) -> String {
    let mut s = Session::new(config, Some(user(profile, None)), Set::new());
    let out = s.on(&Mem::default(), Input::Start, 1_000);
    out.iter()
        .find_map(|o| match o {
            Output::ReadProfile { url, .. } => Some(url.clone()),
            _ => None,
        })
        .expect("a profile read")
}

#[test]
fn the_profile_read_sends_the_known_email_s_domain_only_when_a_question_takes_a_guess() {
    let reads = json!({ "profileUrl": "/v1/profiles/{userId}" });
    assert_eq!(
        read_url(
            config(reads.clone()),
            json!({ "email": "grace@Mail.Northwind.co.uk" })
        ),
        "/v1/profiles/u1?emailDomain=mail.northwind.co.uk",
        "the domain, never the address"
    );
    let with_query = json!({ "profileUrl": "/v1/profiles/{userId}?v=2" });
    assert_eq!(
        read_url(
            config(with_query),
            json!({ "email": "grace@northwind.example" })
        ),
        "/v1/profiles/u1?v=2&emailDomain=northwind.example"
    );
    assert_eq!(
        read_url(config(reads.clone()), json!({})),
        "/v1/profiles/u1",
        "no email"
    );
    assert_eq!(
        read_url(config(reads.clone()), json!({ "email": "not an email" })),
        "/v1/profiles/u1"
    );
    let mut no_guess = config(reads);
    no_guess.stages[0].questions[0].suggest = Default::default();
    assert_eq!(
        read_url(no_guess, json!({ "email": "grace@northwind.example" })),
        "/v1/profiles/u1",
        "no question takes a guess: nothing about the email leaves the page"
    );
}
