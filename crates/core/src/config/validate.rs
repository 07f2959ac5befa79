//! The validation pass: what the types cannot say (ids, options, ranges).

use super::error::join;
use super::net::{is_header_name, is_sendable_header_value, validate_endpoint};
use super::text::validate_text;
use super::{
    json_value, parse, Config, ConfigError, Kind, Question, User, UserError, MAX_MAX_LENGTH,
};

impl Config {
    /// Parses and validates a config from JSON text.
    pub fn from_json(json: &str) -> Result<Config, ConfigError> {
        Config::from_value(json_value(json)?)
    }

    /// Parses and validates a config from a JSON value (e.g. one converted from a
    /// JavaScript object).
    pub fn from_value(value: serde_json::Value) -> Result<Config, ConfigError> {
        // Named as the whole document, not as `invalid type: ..., expected struct Config`.
        if !value.is_object() {
            return Err(ConfigError::new("", "the config must be a JSON object"));
        }
        let config = parse::config(&value)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks everything the types cannot: ids, options, URLs, ranges. Returns the
    /// first problem in document order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_endpoint(&self.endpoint).map_err(|m| ConfigError::new("endpoint", m))?;
        for (name, value) in &self.headers {
            let path = format!("headers.{name}");
            if !is_header_name(name) {
                return Err(ConfigError::new(path, "not a valid header name"));
            }
            // Caught here, at init, because in the browser `Headers.set` throws on
            // such a value and every send would fail as if the network were down.
            if !is_sendable_header_value(value) {
                return Err(ConfigError::new(
                    path,
                    "must contain only characters a browser can send (no line breaks or \
                     other control characters, nothing above U+00FF)",
                ));
            }
        }
        if let Some(user) = &self.user {
            user.validate_at("user")?;
        }
        if let Some(url) = &self.profile_url {
            validate_endpoint(url).map_err(|m| ConfigError::new("profileUrl", m))?;
        }
        if self.stages.is_empty() {
            return Err(ConfigError::new("stages", "must not be empty"));
        }
        // Vecs, not BTreeMaps keyed by &str: configs are small, and each map type
        // was its own copy of the B-tree code in the wasm. `fields` stays sorted
        // by field, so a conflict is looked for in the same order as before.
        let mut question_ids: Vec<(&str, String)> = Vec::new();
        let mut fields: Vec<(&str, String)> = Vec::new();
        for (si, stage) in self.stages.iter().enumerate() {
            let sp = format!("stages[{si}]");
            if stage.id.trim().is_empty() {
                return Err(ConfigError::new(format!("{sp}.id"), "must not be empty"));
            }
            if let Some(first) = self.stages[..si].iter().position(|s| s.id == stage.id) {
                return Err(ConfigError::new(
                    format!("{sp}.id"),
                    format!(
                        "duplicate stage id \"{}\" (also stages[{first}].id)",
                        stage.id
                    ),
                ));
            }
            for (ei, event) in stage.events.iter().enumerate() {
                let ep = format!("{sp}.events[{ei}]");
                if event.trim().is_empty() {
                    return Err(ConfigError::new(ep, "must not be empty"));
                }
                if stage.events[..ei].contains(event) {
                    return Err(ConfigError::new(ep, format!("duplicate event \"{event}\"")));
                }
            }
            if stage.questions.is_empty() {
                return Err(ConfigError::new(
                    format!("{sp}.questions"),
                    "must not be empty",
                ));
            }
            for (qi, q) in stage.questions.iter().enumerate() {
                let qp = format!("{sp}.questions[{qi}]");
                if q.id.trim().is_empty() {
                    return Err(ConfigError::new(format!("{qp}.id"), "must not be empty"));
                }
                if let Some((_, first)) = question_ids.iter().find(|(id, _)| *id == q.id) {
                    return Err(ConfigError::new(
                        format!("{qp}.id"),
                        format!("duplicate question id \"{}\" (also {first})", q.id),
                    ));
                }
                validate_field_path(&q.field)
                    .map_err(|m| ConfigError::new(format!("{qp}.field"), m))?;
                for (other, other_path) in &fields {
                    if *other == q.field {
                        return Err(ConfigError::new(
                            format!("{qp}.field"),
                            format!("duplicate field \"{}\" (also {other_path})", q.field),
                        ));
                    }
                    if is_path_prefix(other, &q.field) || is_path_prefix(&q.field, other) {
                        return Err(ConfigError::new(
                            format!("{qp}.field"),
                            format!("\"{}\" and \"{other}\" ({other_path}) cannot both be profile fields: one contains the other", q.field),
                        ));
                    }
                }
                question_ids.push((&q.id, format!("{qp}.id")));
                let at = fields.partition_point(|(f, _)| *f < q.field.as_str());
                fields.insert(at, (&q.field, format!("{qp}.field")));
                q.validate_at(&qp)?;
            }
        }
        let c = &self.cadence;
        if c.max_questions_per_login == 0 {
            return Err(ConfigError::new(
                "cadence.maxQuestionsPerLogin",
                "must be at least 1",
            ));
        }
        if c.max_asks == 0 {
            return Err(ConfigError::new("cadence.maxAsks", "must be at least 1"));
        }
        if !crate::i18n::is_valid_tag(&self.locale) {
            return Err(ConfigError::new(
                "locale",
                format!("\"{}\" is not a BCP 47 language tag", self.locale),
            ));
        }
        // Only hex: see crate::colour::parse_hex_colour for why.
        if crate::colour::parse_hex_colour(&self.theme.accent).is_none() {
            return Err(ConfigError::new(
                "theme.accent",
                "must be a colour like #2A5383 or #25A",
            ));
        }
        Ok(())
    }
}

impl User {
    /// Parses and validates a user (as passed to `identify`) from JSON text; error
    /// paths are relative to the user object (`loginsCount: ...`).
    pub fn from_json(json: &str) -> Result<User, UserError> {
        User::from_value(json_value(json).map_err(user_error)?)
    }

    /// Parses and validates a user from a JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<User, UserError> {
        if !value.is_object() {
            return Err(UserError::new("", "the user must be a JSON object"));
        }
        let user = parse::user_at_root(&value).map_err(user_error)?;
        user.validate_at("")?;
        Ok(user)
    }

    pub(super) fn validate_at(&self, at: &str) -> Result<(), UserError> {
        if self.id.trim().is_empty() {
            return Err(UserError::new(join(at, "id"), "must not be empty"));
        }
        if !self.profile.is_object() {
            return Err(UserError::new(join(at, "profile"), "must be an object"));
        }
        if let Some(hash) = &self.user_hash {
            if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(UserError::new(join(at, "userHash"), "must be a hex string"));
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
    fn validate_at(&self, qp: &str) -> Result<(), ConfigError> {
        validate_text(&self.prompt, &format!("{qp}.prompt"))?;
        if let Some(why) = &self.why {
            validate_text(why, &format!("{qp}.why"))?;
        }
        if self.kind.is_choice() {
            if self.options.is_empty() {
                return Err(ConfigError::new(
                    format!("{qp}.options"),
                    "must not be empty",
                ));
            }
            for (oi, opt) in self.options.iter().enumerate() {
                let op = format!("{qp}.options[{oi}]");
                if opt.value.trim().is_empty() {
                    return Err(ConfigError::new(format!("{op}.value"), "must not be empty"));
                }
                if let Some(first) = self.options[..oi].iter().position(|o| o.value == opt.value) {
                    return Err(ConfigError::new(
                        format!("{op}.value"),
                        format!(
                            "duplicate option value \"{}\" (also options[{first}])",
                            opt.value
                        ),
                    ));
                }
                validate_text(&opt.label, &format!("{op}.label"))?;
            }
        } else {
            let kind = kind_name(self.kind);
            if !self.options.is_empty() {
                return Err(ConfigError::new(
                    format!("{qp}.options"),
                    format!("only choice and multichoice questions have options, this is {kind}"),
                ));
            }
            if self.allow_other {
                return Err(ConfigError::new(
                    format!("{qp}.allowOther"),
                    format!(
                        "only choice and multichoice questions allow \"Other\", this is {kind}"
                    ),
                ));
            }
        }
        if !self.suggest.is_off() && self.kind != Kind::Text {
            return Err(ConfigError::new(
                format!("{qp}.suggest"),
                format!(
                    "only text questions take a suggestion, this is {}",
                    kind_name(self.kind)
                ),
            ));
        }
        if let Some(max) = self.max_length {
            let mp = format!("{qp}.maxLength");
            // maxLength limits typed text: text kinds, and the "Other" box of choices.
            if !(self.kind.is_text() || (self.kind.is_choice() && self.allow_other)) {
                return Err(ConfigError::new(
                    mp,
                    format!(
                        "only text kinds and choices with allowOther take maxLength, this is {}",
                        kind_name(self.kind)
                    ),
                ));
            }
            if !(1..=MAX_MAX_LENGTH).contains(&max) {
                return Err(ConfigError::new(
                    mp,
                    format!("must be between 1 and {MAX_MAX_LENGTH}, got {max}"),
                ));
            }
        }
        Ok(())
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "text",
        Kind::Email => "email",
        Kind::Tel => "tel",
        Kind::Url => "url",
        Kind::Number => "number",
        Kind::Date => "date",
        Kind::Choice => "choice",
        Kind::Multichoice => "multichoice",
    }
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
            return Err(format!("\"{field}\" is not a dot path (empty segment)"));
        }
        if seg.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("\"{field}\" must not contain spaces"));
        }
    }
    Ok(())
}
