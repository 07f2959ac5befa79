//! Page lifecycle listeners that unregister when dropped.

use std::rc::Rc;

use gloo_events::EventListener;

/// The `online`, `pagehide`, `visibilitychange` and `storage` listeners of one
/// runtime. Dropping it removes them all.
pub struct Lifecycle {
    _listeners: Vec<EventListener>,
}

impl Lifecycle {
    /// Calls `on_online` when the browser comes back online, `on_hide` when the
    /// page is hidden (`visibilitychange` to hidden: `on_hide(false)`, or `pagehide`:
    /// `on_hide(true)`; the last moments a queue can still be handed to the browser)
    /// and `on_storage` when another tab of the site changed `localStorage`.
    pub fn listen(
        on_online: Rc<dyn Fn()>,
        on_hide: Rc<dyn Fn(bool)>,
        on_storage: Rc<dyn Fn()>,
    ) -> Self {
        let mut listeners = Vec::new();
        if let Some(window) = web_sys::window() {
            let hide = on_hide.clone();
            let on_pagehide: Rc<dyn Fn()> = Rc::new(move || hide(true));
            listeners.push(listen(&window, "online", on_online));
            listeners.push(listen(&window, "pagehide", on_pagehide));
            listeners.push(listen(&window, "storage", on_storage));
            if let Some(document) = window.document() {
                let doc = document.clone();
                let on_hidden: Rc<dyn Fn()> = Rc::new(move || {
                    if doc.hidden() {
                        on_hide(false)
                    }
                });
                listeners.push(listen(&document, "visibilitychange", on_hidden));
            }
        }
        Self {
            _listeners: listeners,
        }
    }
}

// Every listener through this one function, so one closure type and one
// `EventListener::new` instance serve all four, not one each.
fn listen(target: &web_sys::EventTarget, event: &'static str, f: Rc<dyn Fn()>) -> EventListener {
    EventListener::new(target, event, move |_| f())
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lifecycle")
    }
}
