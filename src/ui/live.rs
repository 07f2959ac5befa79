//! The polite live region that announces the popup to screen readers.
//!
//! A live region only announces changes made after assistive technology has seen
//! it, so it is created empty at mount, outside Yew's tree (a re-render can never
//! replace it), and text lands in it a moment later. Each message first empties the
//! region, so the same text said twice (the same error again) is announced again.

use std::cell::Cell;
use std::fmt;

use gloo_timers::callback::Timeout;
use web_sys::Element;

/// How long after emptying the region the text lands, in ms: long enough for
/// screen readers to register the empty region, short enough to feel immediate.
const DELAY_MS: u32 = 150;

/// The live region element and the pending announcement.
pub(crate) struct Live {
    el: Element,
    /// Dropping the handle cancels the timer (on `say`, `clear` and unmount). A
    /// `Cell`, not a `RefCell`: it is only ever swapped whole, and a `Cell` cannot
    /// panic on a borrow, so no borrow check or panic location stays in the wasm.
    pending: Cell<Option<Timeout>>,
}

impl fmt::Debug for Live {
    // By hand: `Cell`'s Debug needs a `Copy` value, and a timer handle is not one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("el", &self.el)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Live {
    // Identity: props holding the one region compare equal.
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Live {
    /// Wraps an element already in the shadow root with `role=status`.
    pub(crate) fn new(el: Element) -> Self {
        Self {
            el,
            pending: Cell::new(None),
        }
    }

    /// Announces `text` politely (as text, never markup).
    pub(crate) fn say(&self, text: String) {
        self.el.set_text_content(None);
        let el = self.el.clone();
        let timer = Timeout::new(DELAY_MS, move || el.set_text_content(Some(&text)));
        self.pending.set(Some(timer));
    }

    /// Empties the region and cancels a pending announcement.
    pub(crate) fn clear(&self) {
        self.pending.set(None);
        self.el.set_text_content(None);
    }
}
