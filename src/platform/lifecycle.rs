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
            let online = on_online.clone();
            listeners.push(EventListener::new(&window, "online", move |_| online()));
            let hide = on_hide.clone();
            listeners.push(EventListener::new(&window, "pagehide", move |_| hide(true)));
            listeners.push(EventListener::new(&window, "storage", move |_| {
                on_storage()
            }));
            if let Some(document) = window.document() {
                let doc = document.clone();
                let hide = on_hide;
                listeners.push(EventListener::new(
                    &document,
                    "visibilitychange",
                    move |_| {
                        if doc.hidden() {
                            hide(false)
                        }
                    },
                ));
            }
        }
        Self {
            _listeners: listeners,
        }
    }
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lifecycle")
    }
}
