//! The validation pass: what the types cannot say (ids, options, ranges).

use super::net::{has_space, is_header_name, is_sendable_header_value, validate_endpoint};
use super::parse::{self, At, Read};
use super::text::validate_text;
use crate::text::{concat, decimal};

use super::{json_value, Config, ConfigError, Kind, Question, User, UserError, MAX_MAX_LENGTH};

impl Config {
    /// Parses and validates a config from JSON text.
    pub fn from_json(json: &str) -> Result<Config, ConfigError> {
        Config::from_value(json_value(json)?)
    }

    /// Parses and validates a config from a JSON value (e.g. one converted from a
    /// JavaScript object).
    pub fn from_value(mut value: serde_json::Value) -> Result<Config, ConfigError> {
        // Named as the whole document, not as `invalid type: ..., expected struct Config`.
        if !value.is_object() {
            return Err(ConfigError::new("", "the config must be a JSON object"));
        }
        let config = parse::config(&mut value)
            .and_then(|config| config.check().map(|()| config))
            .map_err(|e| *e)?;
        Ok(config)
    }

    /// Checks everything the types cannot: ids, options, URLs, ranges. Returns the
    /// first problem in document order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check().map_err(|e| *e)
    }

    // Paths are `At`s, written out only for an error: a config that passes builds
    // no path strings, and no call site formats one.
    fn check(&self) -> Read<()> {
        let root = At::Root;
        validate_endpoint(&self.endpoint).map_err(|m| At::Key(&root, "endpoint").fail(m))?;
        let headers = At::Key(&root, "headers");
        for (name, value) in &self.headers {
            let at = At::Key(&headers, name);
            if !is_header_name(name) {
                return Err(at.fail("not a valid header name"));
            }
            // Caught here, at init, because in the browser `Headers.set` throws on
            // such a value and every send would fail as if the network were down.
            if !is_sendable_header_value(value) {
                return Err(at.fail(
                    "must contain only characters a browser can send (no line breaks or \
                     other control characters, nothing above U+00FF)",
                ));
            }
        }
        if let Some(user) = &self.user {
            user.check(&At::Key(&root, "user"))?;
        }
        if let Some(url) = &self.profile_url {
            validate_endpoint(url).map_err(|m| At::Key(&root, "profileUrl").fail(m))?;
        }
        let stages = At::Key(&root, "stages");
        if self.stages.is_empty() {
            return Err(stages.fail(EMPTY));
        }
        // A question's key, for the "(also ...)" of a duplicate.
        let key_path = |si: usize, qi: usize, key: &str| {
            let stage = At::Index(&stages, si);
            let questions = At::Key(&stage, "questions");
            At::Key(&At::Index(&questions, qi), key).path()
        };
        for (si, stage) in self.stages.iter().enumerate() {
            let sp = At::Index(&stages, si);
            let id = At::Key(&sp, "id");
            not_blank(&stage.id, &id)?;
            if let Some(first) = self.stages[..si].iter().position(|s| s.id == stage.id) {
                return Err(id.error(concat(&[
                    "duplicate stage id \"",
                    &stage.id,
                    "\" (also stages[",
                    &decimal(first as u64),
                    "].id)",
                ])));
            }
            let events = At::Key(&sp, "events");
            for (ei, event) in stage.events.iter().enumerate() {
                let ep = At::Index(&events, ei);
                not_blank(event, &ep)?;
                // Earlier items taken with `take`, not a slice index (a bounds
                // check with a panic location in the wasm), here and below.
                if stage.events.iter().take(ei).any(|e| e == event) {
                    return Err(ep.error(concat(&["duplicate event \"", event, "\""])));
                }
            }
            let questions = At::Key(&sp, "questions");
            if stage.questions.is_empty() {
                return Err(questions.fail(EMPTY));
            }
            for (qi, q) in stage.questions.iter().enumerate() {
                let qp = At::Index(&questions, qi);
                let id = At::Key(&qp, "id");
                not_blank(&q.id, &id)?;
                // The first earlier question with this id, in document order.
                let mut earlier = None;
                'stages: for (sj, s) in self.stages.iter().take(si + 1).enumerate() {
                    for (qj, o) in s.questions.iter().enumerate() {
                        if sj == si && qj == qi {
                            break 'stages;
                        }
                        if o.id == q.id {
                            earlier = Some((sj, qj));
                            break 'stages;
                        }
                    }
                }
                if let Some((sj, qj)) = earlier {
                    return Err(id.error(concat(&[
                        "duplicate question id \"",
                        &q.id,
                        "\" (also ",
                        &key_path(sj, qj, "id"),
                        ")",
                    ])));
                }
                let field = At::Key(&qp, "field");
                validate_field_path(&q.field).map_err(|m| field.error(m))?;
                // Of the earlier fields this one clashes with (the same, or one
                // contains the other), the one that sorts first: the one reported
                // when the fields were kept in a sorted list and walked in order.
                // Found by walking the questions, without such a list (its
                // sorted insert was generic code of its own in the wasm). Earlier
                // fields are distinct, or their check would have failed.
                let mut clash: Option<(&str, usize, usize)> = None;
                for (sj, s) in self.stages.iter().take(si + 1).enumerate() {
                    for (qj, o) in s.questions.iter().enumerate() {
                        if sj == si && qj == qi {
                            break;
                        }
                        let other = o.field.as_str();
                        let clashes = other == q.field
                            || is_path_prefix(other, &q.field)
                            || is_path_prefix(&q.field, other);
                        if clashes && clash.is_none_or(|(first, _, _)| other < first) {
                            clash = Some((other, sj, qj));
                        }
                    }
                }
                if let Some((other, sj, qj)) = clash {
                    if other == q.field {
                        return Err(field.error(concat(&[
                            "duplicate field \"",
                            &q.field,
                            "\" (also ",
                            &key_path(sj, qj, "field"),
                            ")",
                        ])));
                    }
                    return Err(field.error(concat(&[
                        "\"",
                        &q.field,
                        "\" and \"",
                        other,
                        "\" (",
                        &key_path(sj, qj, "field"),
                        ") cannot both be profile fields: one contains the other",
                    ])));
                }
                q.check(&qp)?;
            }
        }
        let c = &self.cadence;
        let cadence = At::Key(&root, "cadence");
        if c.max_questions_per_login == 0 {
            return Err(At::Key(&cadence, "maxQuestionsPerLogin").fail(AT_LEAST_1));
        }
        if c.max_asks == 0 {
            return Err(At::Key(&cadence, "maxAsks").fail(AT_LEAST_1));
        }
        if !crate::i18n::is_valid_tag(&self.locale) {
            return Err(At::Key(&root, "locale").error(not_a_tag(&self.locale)));
        }
        // Only hex: see crate::colour::parse_hex_colour for why.
        if crate::colour::parse_hex_colour(&self.theme.accent).is_none() {
            return Err(At::Key(&At::Key(&root, "theme"), "accent")
                .fail("must be a colour like #2A5383 or #25A"));
        }
        Ok(())
    }
}

impl At<'_> {
    /// An error with a fixed message at this path. Out of line: inlined, its
    /// copy of the message was code at each of the checks' twenty-odd refusals.
    #[inline(never)]
    pub(super) fn fail(&self, message: &str) -> Box<ConfigError> {
        self.error(message.to_owned())
    }
}

/// "must not be empty" at `at` when `s` is empty or only whitespace (as
/// `trim().is_empty()`, whose inlined trim each check had a copy of).
fn not_blank(s: &str, at: &At) -> Read<()> {
    if is_blank(s) {
        return Err(at.fail(EMPTY));
    }
    Ok(())
}

/// Whether `s` is empty or only whitespace.
pub(super) fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

const EMPTY: &str = "must not be empty";
const AT_LEAST_1: &str = "must be at least 1";

impl User {
    /// Parses and validates a user (as passed to `identify`) from JSON text; error
    /// paths are relative to the user object (`loginsCount: ...`).
    pub fn from_json(json: &str) -> Result<User, UserError> {
        User::from_value(json_value(json).map_err(user_error)?)
    }

    /// Parses and validates a user from a JSON value.
    pub fn from_value(mut value: serde_json::Value) -> Result<User, UserError> {
        if !value.is_object() {
            return Err(UserError::new("", "the user must be a JSON object"));
        }
        let user = parse::user_at_root(&mut value)
            .and_then(|user| user.check(&At::Root).map(|()| user))
            .map_err(|e| user_error(*e))?;
        Ok(user)
    }

    /// `at` is the root for `identify`, `user` in a config.
    fn check(&self, at: &At) -> Read<()> {
        not_blank(&self.id, &At::Key(at, "id"))?;
        if !self.profile.is_object() {
            return Err(At::Key(at, "profile").fail("must be an object"));
        }
        if let Some(hash) = &self.user_hash {
            if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(At::Key(at, "userHash").fail("must be a hex string"));
            }
        }
        Ok(())
    }
}

fn user_error(e: ConfigError) -> UserError {
    let (path, message) = e.into_parts();
    UserError::new(path, message)
}

impl Question {
    fn check(&self, qp: &At) -> Read<()> {
        validate_text(&self.prompt, &At::Key(qp, "prompt"))?;
        if let Some(why) = &self.why {
            validate_text(why, &At::Key(qp, "why"))?;
        }
        let options = At::Key(qp, "options");
        if self.kind.is_choice() {
            if self.options.is_empty() {
                return Err(options.fail(EMPTY));
            }
            for (oi, opt) in self.options.iter().enumerate() {
                let op = At::Index(&options, oi);
                let value = At::Key(&op, "value");
                not_blank(&opt.value, &value)?;
                if let Some(first) = self.options[..oi].iter().position(|o| o.value == opt.value) {
                    return Err(value.error(concat(&[
                        "duplicate option value \"",
                        &opt.value,
                        "\" (also options[",
                        &decimal(first as u64),
                        "])",
                    ])));
                }
                validate_text(&opt.label, &At::Key(&op, "label"))?;
            }
        } else {
            if !self.options.is_empty() {
                return Err(options.error(
                    self.only("only choice and multichoice questions have options, this is "),
                ));
            }
            if self.allow_other {
                return Err(At::Key(qp, "allowOther").error(
                    self.only("only choice and multichoice questions allow \"Other\", this is "),
                ));
            }
        }
        if !self.suggest.is_off() && self.kind != Kind::Text {
            return Err(At::Key(qp, "suggest")
                .error(self.only("only text questions take a suggestion, this is ")));
        }
        if let Some(max) = self.max_length {
            let mp = At::Key(qp, "maxLength");
            // maxLength limits typed text: text kinds, and the "Other" box of choices.
            if !(self.kind.is_text() || (self.kind.is_choice() && self.allow_other)) {
                return Err(mp.error(self.only(
                    "only text kinds and choices with allowOther take maxLength, this is ",
                )));
            }
            if !(1..=MAX_MAX_LENGTH).contains(&max) {
                return Err(mp.error(concat(&[
                    "must be between 1 and ",
                    &decimal(MAX_MAX_LENGTH.into()),
                    ", got ",
                    &decimal(max.into()),
                ])));
            }
        }
        Ok(())
    }
}

impl Question {
    /// `rule` (which ends in "this is ") followed by this question's kind: one
    /// message builder for the four rules a kind can break.
    fn only(&self, rule: &str) -> String {
        let mut message = rule.to_owned();
        message.push_str(self.kind.name());
        message
    }
}

/// The message for a locale that is not a BCP 47 tag (the config's and a
/// translation's).
pub(super) fn not_a_tag(locale: &str) -> String {
    concat(&["\"", locale, "\" is not a BCP 47 language tag"])
}

/// `a` is a strict dot-path prefix of `b` (`company` of `company.name`).
fn is_path_prefix(a: &str, b: &str) -> bool {
    b.len() > a.len() && b.starts_with(a) && b.as_bytes()[a.len()] == b'.'
}

fn validate_field_path(field: &str) -> Result<(), String> {
    if field.is_empty() {
        return Err("must not be empty".into());
    }
    for seg in field.split('.') {
        if seg.is_empty() {
            return Err(concat(&[
                "\"",
                field,
                "\" is not a dot path (empty segment)",
            ]));
        }
        if has_space(seg) {
            return Err(concat(&["\"", field, "\" must not contain spaces"]));
        }
    }
    Ok(())
}
