//! Trickle: a progressive-profiling widget, compiled to WebAssembly.
//!
//! The widget is a thin shell around `trickle-core`: it reads the browser, asks the
//! core what to do, and renders the result. Module map:
//! - [`api`]: the JavaScript API of contract section 4 (`init`, `identify`, `track`,
//!   `explain`, `destroy`): the wasm exports behind `window.Trickle` and the npm package.
//! - [`ui`]: the shadow-root host and the Yew popup (presentational; no rules).
//! - [`platform`]: the browser behind small types: storage, transport, clock, ids,
//!   lifecycle listeners.
//! - [`runtime`]: the controller: config, user, prompt state and outbox, deciding
//!   through the core, rendering through `ui`, delivering through `platform`.
//! - `heap` (wasm only): the global allocator, smaller than the standard one.

#![warn(missing_docs)]

pub mod api;
#[cfg(target_arch = "wasm32")]
mod heap;
pub mod platform;
pub mod runtime;
pub mod ui;
