//! The enriched profile of one user and how a stored answer changes it. The rule
//! (the latest answer per field wins, by `answeredAt` clamped to when it was
//! received; declines and snoozes likewise) lives in `trickle-core` beside the
//! stage rule that reads the same profile, so it is tested natively there; the
//! store loads a [`ProfileDoc`], applies each newly stored answer, saves it.

pub use trickle_core::profile::{clamp, value_to_json, ProfileDoc, Snooze, StoredAnswer};
