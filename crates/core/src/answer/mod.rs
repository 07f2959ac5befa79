//! Answers and the envelope posted to the endpoint (contract section 3).
//!
//! - The posted [`Envelope`], its [`Answer`]s, and the check of
//!   an envelope against a config ([`normalize_envelope`]).
//! - [`Value`] and [`check_value`]: one answer's value and its per-kind rules.
//! - The text formats a value may take ([`is_date`], [`is_email`], [`is_tel`],
//!   [`normalize_url`], [`is_timestamp`]) and [`parse_number`], the number parser
//!   behind kind number.

mod envelope;
pub(crate) mod formats;
mod number;
mod value;

pub use envelope::*;
pub use formats::*;
pub use number::parse_number;
pub use value::*;
