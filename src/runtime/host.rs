//! The single runtime of the page and the doors into it: the JS API, the popup's
//! callbacks, timers, lifecycle listeners and finished requests all come through
//! [`with_runtime`], and every `trickle:*` event leaves through [`flush_events`].
//!
//! Why the indirection: a host listener for `trickle:shown` may call
//! `Trickle.explain()` or `Trickle.destroy()` synchronously. Events are therefore
//! queued while the runtime is borrowed and dispatched only after the borrow ends,
//! so a re-entrant call finds the runtime free instead of panicking on a `RefCell`.

use std::cell::{Cell, RefCell};

use trickle_core::sorted::Set;

use std::rc::Rc;

use super::Runtime;
use crate::platform::{dom, Log, Store};

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
    // The runtime `init` validated a config for but has not built yet (see
    // [`defer_build`]).
    static PENDING: RefCell<Option<Build>> = const { RefCell::new(None) };
    // Vecs used as queues (`remove(0)`): they hold a few entries at most, and
    // VecDeque's code would be one more thing in the wasm.
    static EVENTS: RefCell<Vec<(&'static str, String)>> = const { RefCell::new(Vec::new()) };
    static GENERATION: Cell<u32> = const { Cell::new(0) };
    // One store for the page's life: when localStorage is unusable, the memory copy
    // (the queue included) must outlive a destroy() and the next init().
    static STORE: RefCell<Option<Rc<Store>>> = const { RefCell::new(None) };
    // identify()/track() calls that arrive before init(): applied at init.
    static EARLY: RefCell<Early> = RefCell::new(Early::default());
    // API calls that arrived while the runtime was borrowed (a host listener run
    // synchronously by something the runtime did, e.g. a focus change): applied, in
    // order, as soon as the borrow ends.
    static DEFERRED: RefCell<Vec<Deferred>> = const { RefCell::new(Vec::new()) };
}

/// A call to apply to the runtime once it is free.
type Deferred = Box<dyn FnOnce(&mut Runtime)>;

/// Builds a runtime from a config already validated.
pub type Build = Box<dyn FnOnce() -> Runtime>;

/// Calls made before `init`, kept until a runtime starts.
#[derive(Debug, Default)]
pub struct Early {
    /// The last user passed to `identify`.
    pub user: Option<trickle_core::config::User>,
    /// Events passed to `track`.
    pub events: Set,
}

/// The page's storage, opened on first use (`log` decides whether the fallback to
/// memory is announced).
pub fn store(log: Log) -> Rc<Store> {
    STORE
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            Some(
                slot.get_or_insert_with(|| Rc::new(Store::open(log)))
                    .clone(),
            )
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| Rc::new(Store::open(log)))
}

/// Forgets the page's store, so the next use opens `localStorage` afresh (tests use
/// it to undo a simulated storage failure).
pub fn forget_store() {
    let _ = STORE.try_with(|cell| cell.try_borrow_mut().map(|mut slot| slot.take()));
}

/// A fresh id for a new runtime, so late callbacks of a destroyed one can tell.
pub fn next_generation() -> u32 {
    GENERATION.with(|g| {
        let next = g.get().wrapping_add(1);
        g.set(next);
        next
    })
}

/// Runs `f` on the live runtime, then dispatches the events it queued. `None` when
/// there is no runtime or it is busy (a re-entrant call).
pub fn with_runtime<R>(f: impl FnOnce(&mut Runtime) -> R) -> Option<R> {
    let out = RUNTIME
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            slot.as_mut().map(f)
        })
        .ok()
        .flatten();
    run_deferred();
    flush_events();
    out
}

/// Runs `f` on the runtime now, or later: when it is busy (a re-entrant call), as
/// soon as the outermost [`with_runtime`] ends; when it is not built or has not
/// started yet (`init` does both in later tasks), right after it starts. Dropped
/// when there is no runtime.
pub fn with_runtime_or_later(f: impl FnOnce(&mut Runtime) + 'static) {
    let busy = is_pending()
        || RUNTIME
            .try_with(|cell| match cell.try_borrow() {
                Ok(slot) => slot.as_ref().is_some_and(|rt| !rt.is_started()),
                Err(_) => true,
            })
            .unwrap_or(false);
    if busy {
        let _ = DEFERRED.try_with(|q| {
            if let Ok(mut q) = q.try_borrow_mut() {
                q.push(Box::new(f));
            }
        });
    } else {
        with_runtime(f);
    }
}

// Applies the deferred calls, in order, unless the runtime is still borrowed (the
// outermost call applies them when it ends), not built or not started (its start
// does).
fn run_deferred() {
    loop {
        let free = !is_pending()
            && RUNTIME
                .try_with(|cell| {
                    cell.try_borrow_mut()
                        .is_ok_and(|slot| slot.as_ref().is_none_or(Runtime::is_started))
                })
                .unwrap_or(false);
        if !free {
            return;
        }
        let next = DEFERRED
            .try_with(|q| q.try_borrow_mut().ok().and_then(|mut q| pop_front(&mut q)))
            .ok()
            .flatten();
        let Some(call) = next else { return };
        let _ = RUNTIME.try_with(|cell| {
            if let Ok(mut slot) = cell.try_borrow_mut() {
                if let Some(rt) = slot.as_mut() {
                    call(rt);
                }
            }
        });
    }
}

/// Drops the deferred calls (the runtime they were meant for is gone).
pub fn discard_deferred() {
    let _ = DEFERRED.try_with(|q| {
        if let Ok(mut q) = q.try_borrow_mut() {
            q.clear();
        }
    });
}

/// Whether a runtime is installed (busy or not) or waiting to be built.
pub fn is_running() -> bool {
    is_pending()
        || RUNTIME
            .try_with(|cell| cell.try_borrow().map(|r| r.is_some()).unwrap_or(true))
            .unwrap_or(false)
}

/// Keeps `build` to make the runtime later (in a task of its own, or at once when
/// [`build_pending`] is asked first), replacing one still waiting. Until then the
/// API behaves as if that runtime existed and had not started: see
/// [`with_runtime_or_later`].
pub fn defer_build(build: Build) {
    let _ = PENDING.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            *p = Some(build);
        }
    });
}

/// Builds and installs the runtime waiting to be built, if there is one. (The
/// task `init` set for it may so build a newer `init`'s: only earlier.)
pub fn build_pending() {
    let build = PENDING
        .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.take()))
        .ok()
        .flatten();
    if let Some(build) = build {
        // Built outside the borrow: `Runtime::new` may touch the host (the store).
        if let Some(old) = install(build()) {
            // (Only if `init` ran while the runtime was borrowed and could not
            // take it.)
            old.destroy();
        }
    }
}

/// Forgets the runtime waiting to be built; whether there was one.
pub fn cancel_build() -> bool {
    PENDING
        .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.take()).is_some())
        .unwrap_or(false)
}

fn is_pending() -> bool {
    PENDING
        .try_with(|p| p.try_borrow().map(|p| p.is_some()).unwrap_or(true))
        .unwrap_or(false)
}

/// Installs `runtime`, returning the previous one (to be torn down by the caller).
pub fn install(runtime: Runtime) -> Option<Runtime> {
    RUNTIME
        .try_with(|cell| {
            cell.try_borrow_mut()
                .ok()
                .and_then(|mut slot| slot.replace(runtime))
        })
        .ok()
        .flatten()
}

/// Removes and returns the runtime.
pub fn take() -> Option<Runtime> {
    RUNTIME
        .try_with(|cell| cell.try_borrow_mut().ok().and_then(|mut slot| slot.take()))
        .ok()
        .flatten()
}

/// Runs `f` on the calls saved before `init`.
pub fn with_early<R>(f: impl FnOnce(&mut Early) -> R) -> Option<R> {
    EARLY
        .try_with(|e| e.try_borrow_mut().ok().map(|mut e| f(&mut e)))
        .ok()
        .flatten()
}

/// Queues a `trickle:*` event with its detail (the JSON text of an object); it is
/// dispatched once the runtime is free again.
pub fn emit(name: &'static str, detail: String) {
    let _ = EVENTS.try_with(|q| {
        if let Ok(mut q) = q.try_borrow_mut() {
            q.push((name, detail));
        }
    });
}

/// Drops the queued events: after `destroy()` (even one called from a listener of
/// an earlier event) the host hears nothing more from the destroyed widget.
pub fn discard_events() {
    let _ = EVENTS.try_with(|q| {
        if let Ok(mut q) = q.try_borrow_mut() {
            q.clear();
        }
    });
}

/// Dispatches queued events, in order, unless the runtime is still borrowed (the
/// outermost call flushes them when it ends).
pub fn flush_events() {
    let busy = RUNTIME
        .try_with(|cell| cell.try_borrow_mut().is_err())
        .unwrap_or(true);
    if busy {
        return;
    }
    loop {
        let next = EVENTS.try_with(|q| q.try_borrow_mut().ok().and_then(|mut q| pop_front(&mut q)));
        match next {
            Ok(Some((name, detail))) => dom::emit(name, &detail),
            _ => break,
        }
    }
}

/// The oldest entry of a queue kept in a `Vec`.
fn pop_front<T>(queue: &mut Vec<T>) -> Option<T> {
    (!queue.is_empty()).then(|| queue.remove(0))
}
