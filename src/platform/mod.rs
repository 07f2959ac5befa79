//! The browser behind small types: storage, transport, clock, ids, randomness,
//! lifecycle listeners, events on `document`, JSON text and the prefixed logger.
//!
//! Everything here is infallible from the caller's side: a browser API that throws
//! or is missing degrades (memory storage, a `Network` delivery, a fallback id)
//! instead of reaching the host page.

pub mod clock;
pub mod dom;
pub mod ids;
pub mod json;
pub mod lifecycle;
pub mod log;
pub mod storage;
pub mod transport;

pub use log::Log;
pub use storage::Store;
