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
//!
//! The wasm's global allocator is `lol_alloc`'s free list (single-threaded, as the
//! wasm is): about 1 KB of code where the standard dlmalloc is about 7 KB.

#![warn(missing_docs)]

pub mod api;
// Safety (AssumeSingleThreaded): wasm32-unknown-unknown without threads has one thread.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
pub mod platform;
pub mod runtime;
pub mod ui;
