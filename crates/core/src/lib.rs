//! Trickle's pure core: every product decision, with no browser crate in sight.
//!
//! The widget (`trickle`, compiled to wasm) and the reference collector
//! (`trickle-collector`) both depend on this crate, so the browser and the server
//! validate with one code. Time, randomness and ids are inputs, never read here, so
//! every function is deterministic and tested natively.
//!
//! Modules:
//! - [`config`]: the config of contract section 1, parsed and validated.
//! - [`answer`]: answers, their per-kind value validation, the posted envelope.
//! - [`i18n`]: UI strings (en, de, ar), locale fallback, text direction.
//! - [`colour`]: the accent's hex parser and the text colour drawn on it.
//! - [`rules`]: the stage rule (which question is due, and why not) and the
//!   per-user prompt state it reads; [`profile`]: how received answers combine
//!   into a user's profile on the server side.
//! - [`outbox`]: answers waiting for delivery, dead letters; [`retry`]: backoff.
//! - [`suggest`]: confirm instead of ask: the company guessed from a work email.
//! - [`json`]: JSON values and text written by hand (event details, stored and
//!   posted documents) instead of through serde's derived serializers.
//! - [`text`]: messages and templates joined without `format!` or `str::replace`.
//! - [`time`]: RFC 3339 timestamps, parsed to and formatted from epoch milliseconds.
//! - [`delivery`]: the delivery state machine: every sending decision, as events
//!   in and effects out; [`session`]: the prompt flow (who is signed in, what is on
//!   screen, what a response does, the profile read's wait) in the same style.
//!
//! Feature `schema` derives JSON Schema for the config types
//! (`config::json_schema`); it is off by default so the wasm build leaves
//! schemars out. `cargo test -p trickle-core --features schema` also checks the
//! committed `config.schema.json`.

#![warn(missing_docs)]

pub mod answer;
pub mod colour;
pub mod config;
mod de;
pub mod delivery;
pub mod i18n;
pub mod json;
pub mod outbox;
pub mod profile;
mod read;
pub mod retry;
pub mod rules;
pub mod session;
pub mod sorted;
pub mod suggest;
pub mod text;
pub mod time;
