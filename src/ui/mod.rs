//! The shadow-root host and the Yew popup (contract section 5).
//!
//! Presentational only: the runtime decides which [`Screen`] shows and handles the
//! [`UiEvent`]s. [`Popup::mount`] adds one `<div data-trickle-host>` to the body with
//! an open shadow root holding an adopted stylesheet, an empty polite live region
//! and the Yew root; [`Popup::destroy`] (or dropping the handle) removes it all.
//!
//! Theming: the host element carries `--trickle-accent` and `--trickle-on-accent`
//! (set with `style.setProperty`, which a strict CSP allows); corner, colour scheme
//! and direction are classes and attributes inside the shadow root.

mod autofill;
mod colour;
mod el;
mod live;
mod view;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use trickle_core::config::{Config, Placement, Question, Theme};
use trickle_core::i18n::{self, Strings};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CssStyleSheet, Document, HtmlElement, ShadowRoot, ShadowRootInit, ShadowRootMode};
use yew::{AppHandle, AttrValue, Callback};

use live::Live;
use view::{App, AppProps, Ctx};

/// The popup's stylesheet, adopted by its shadow root (a constructable sheet, never
/// a `<style>` or `style=`, so `style-src 'self'` allows it). Kept free of comments
/// because it ships in the wasm; the reasoning lives here:
/// - `:host { all: initial !important }`: inherited host styles stop at the host;
///   `!important` because for important declarations the inner (shadow) context
///   wins over the page's, even over the page's own `!important` rules on `div`.
///   (`all` spares custom properties, so the accent set on the host still arrives.)
/// - Sizes are px, so the host's root font size changes nothing.
/// - `.t` holds the colour variables; `.dark`, and `.auto` under
///   `prefers-color-scheme: dark`, override them. Every text/background pair is
///   checked for WCAG AA by `colour::tests`, read from this file.
/// - Corners use logical insets (`inset-inline-end` for "right"), so an rtl popup
///   mirrors along with its content.
/// - Under 480px wide it becomes a compact sheet across the bottom (or top) edge;
///   `prefers-reduced-motion` drops the entrance animation; `forced-colors` gets
///   system-colour borders and focus rings.
pub(crate) const STYLESHEET: &str = include_str!("trickle.css");

/// How the popup looks: fixed for the popup's lifetime.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    /// The corner it sits in (mirrored for right-to-left locales).
    pub placement: Placement,
    /// Accent colour and colour scheme.
    pub theme: Theme,
    /// BCP 47 locale: the control strings, the prompt translation and `dir`.
    pub locale: String,
}

impl Look {
    /// The look a config asks for.
    pub fn from_config(config: &Config) -> Look {
        Look {
            placement: config.placement,
            theme: config.theme.clone(),
            locale: config.locale.clone(),
        }
    }
}

/// What the popup shows.
// One Screen exists per popup at a time: boxing the question would add an
// allocation and code for no memory worth saving.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Nothing (the host element stays, empty).
    Hidden,
    /// One question.
    Question(QuestionView),
    /// The short thank-you after the last question of a login.
    Thanks,
}

/// A question as the popup shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionView {
    /// The question.
    pub question: Question,
    /// The stage it belongs to.
    pub stage: String,
    /// Its place in this login's questions, from 1 (the "2 of 3" hint).
    pub position: u32,
    /// How many questions this login shows; the hint is hidden when 1.
    pub total: u32,
    /// (v2) A value to confirm instead of asking ("Do you work at Northwind?"),
    /// decided by the core (`trickle_core::suggest::offer`).
    pub suggestion: Option<String>,
}

/// What the user did: the session's own input type (`trickle_core::session::
/// Response`), so the popup's report goes to the core unchanged. An `Answer` carries
/// a value `trickle_core::answer::check_value` accepted (the popup refuses an invalid
/// one in place); `Dismissed` means the thank-you has finished showing.
pub use trickle_core::session::Response as UiEvent;

/// Why the popup could not be mounted. Nothing is left in the page when it fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UiError {
    /// No window, document or body (not a browser page, or too early).
    #[error("no document body to mount the popup into")]
    NoDocument,
    /// The browser refused a DOM call.
    #[error("could not {step}: {message}")]
    Dom {
        /// What was being done.
        step: &'static str,
        /// The browser's exception message.
        message: String,
    },
}

/// Converts a JS exception at the boundary.
fn dom(step: &'static str) -> impl FnOnce(JsValue) -> UiError {
    move |e| {
        let message = match e.dyn_ref::<js_sys::Error>() {
            Some(err) => String::from(err.message()),
            None => e.as_string().unwrap_or_default(),
        };
        UiError::Dom { step, message }
    }
}

/// The mounted popup. Dropping it is the same as [`Popup::destroy`].
pub struct Popup {
    host: HtmlElement,
    shadow: ShadowRoot,
    ctx: Rc<Ctx>,
    app: RefCell<Option<AppHandle<App>>>,
    /// Where the Yew app goes, until [`Popup::start`] starts it there.
    root: Cell<Option<web_sys::Element>>,
    /// The screen shown. A `Cell`, not a `RefCell`: it is only swapped whole, and a
    /// `Cell` cannot panic on a borrow, so no borrow check or panic location stays
    /// in the wasm.
    current: Cell<Screen>,
    /// Where the draft of the first question is (see [`Popup::draft`]).
    draft: Cell<Draft>,
}

/// Where the first question's draft is (see [`Popup::draft`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Draft {
    None,
    Rendered,
    LaidOut,
}

impl fmt::Debug for Popup {
    // By hand: `Cell`'s Debug needs a `Copy` value, and a screen is not one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Popup")
            .field("host", &self.host)
            .field("shadow", &self.shadow)
            .field("ctx", &self.ctx)
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl Popup {
    /// Adds the host element to the page with its shadow root, stylesheet and live
    /// region; the (hidden) popup's Yew app starts with [`Popup::start`] or the
    /// first [`Popup::show`]. `on_event` receives what the user does; it is called
    /// from browser event handlers and timers, never from `show`.
    pub fn mount(look: Look, on_event: Rc<dyn Fn(UiEvent)>) -> Result<Popup, UiError> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or(UiError::NoDocument)?;
        let body = document.body().ok_or(UiError::NoDocument)?;

        // Everything fallible happens before the host joins the page, so a failure
        // leaves nothing behind.
        let host: HtmlElement = element(&document, "div")?
            .dyn_into()
            .map_err(|_| UiError::NoDocument)?;
        host.set_attribute("data-trickle-host", "")
            .map_err(dom("mark the host"))?;
        let shadow = host
            .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
            .map_err(dom("attach a shadow root"))?;
        let sheet = CssStyleSheet::new().map_err(dom("create a stylesheet"))?;
        sheet
            .replace_sync(STYLESHEET)
            .map_err(dom("fill the stylesheet"))?;
        shadow.set_adopted_style_sheets(&js_sys::Array::of1(&sheet));
        let (accent, on_accent) = colour::accent_pair(&look.theme.accent);
        let style = host.style();
        style
            .set_property("--trickle-accent", &accent)
            .map_err(dom("set the accent"))?;
        style
            .set_property("--trickle-on-accent", &on_accent)
            .map_err(dom("set the accent"))?;

        let region = element(&document, "div")?;
        for (name, value) in [
            ("role", "status"),
            ("aria-live", "polite"),
            ("aria-atomic", "true"),
            ("class", "sr"),
        ] {
            region
                .set_attribute(name, value)
                .map_err(dom("set up the live region"))?;
        }
        shadow
            .append_child(&region)
            .map_err(dom("add the live region"))?;
        let root = element(&document, "div")?;
        shadow
            .append_child(&root)
            .map_err(dom("add the popup root"))?;
        body.append_child(&host)
            .map_err(dom("add the host element"))?;

        let locale = look.locale;
        let ctx = Rc::new(Ctx {
            strings: i18n::strings(&locale),
            lang: i18n::is_valid_tag(&locale).then(|| AttrValue::from(locale.clone())),
            dir: i18n::direction(&locale),
            locale,
            placement: look.placement,
            scheme: look.theme.color_scheme,
            on_event: Callback::from(move |event| on_event(event)),
            live: Rc::new(Live::new(region)),
            return_to: Rc::default(),
        });
        Ok(Popup {
            host,
            shadow,
            ctx,
            app: RefCell::new(None),
            root: Cell::new(Some(root)),
            current: Cell::new(Screen::Hidden),
            draft: Cell::new(Draft::None),
        })
    }

    /// Starts the Yew app with nothing on screen (its first render runs on the
    /// next microtask), unless it has started; whether it started now. Apart from
    /// `mount` so that a caller can run it in a task of its own: on a slow phone,
    /// mounting, starting Yew and rendering the first screen in one task made a
    /// long task.
    pub fn start(&self) -> bool {
        let Some(root) = self.root.take() else {
            return false;
        };
        let props = AppProps {
            screen: Screen::Hidden,
            ctx: Rc::clone(&self.ctx),
            refocus: false,
            draft: false,
        };
        let app = yew::Renderer::<App>::with_root_and_props(root, props).render();
        if let Ok(mut slot) = self.app.try_borrow_mut() {
            *slot = Some(app);
        }
        true
    }

    /// Whether the Yew app has started (see [`Popup::start`]).
    pub fn is_started(&self) -> bool {
        let root = self.root.take();
        let started = root.is_none();
        self.root.set(root);
        started
    }

    /// Renders the first half of `screen` (rendered on the next microtask), if it is
    /// a question, and nothing is on screen or drafted: its dialog, header, prompt
    /// and "Why we ask", hidden and not announced; whether it did. Apart from
    /// `show`, which then renders the rest into the same nodes, so that a caller can
    /// run the two halves in tasks of their own: on a slow phone the popup's whole
    /// first render (Yew building it, and the wasm compiling its code on the first
    /// call) made a long task.
    pub fn draft(&self, screen: &Screen) -> bool {
        let shown = self.current.replace(Screen::Hidden);
        let first = matches!(shown, Screen::Hidden);
        self.current.set(shown);
        if !first || !matches!(screen, Screen::Question(_)) || self.draft.get() != Draft::None {
            return false;
        }
        self.draft.set(Draft::Rendered);
        self.render(screen.clone(), false, true);
        true
    }

    /// Lays out the rendered draft now, once; whether it did. The browser's first
    /// style and layout of the popup (its stylesheet's rules, and a font lookup for
    /// each size and weight of the frame's text, which on Linux asks the browser
    /// process) then runs in a task of its own, called between `draft` and `show`,
    /// instead of in the frame that shows the question: on a slow phone that frame
    /// was a long task. The draft is `visibility:hidden`: laid out, but not painted,
    /// focusable, clickable or in the accessibility tree.
    pub fn lay_out_draft(&self) -> bool {
        if self.draft.get() != Draft::Rendered {
            return false;
        }
        self.draft.set(Draft::LaidOut);
        // Reading a box's size makes the browser lay the page out now.
        if let Some(prompt) = self.shadow.get_element_by_id(view::PROMPT_ID) {
            if let Ok(prompt) = prompt.dyn_into::<HtmlElement>() {
                let _ = prompt.offset_width();
            }
        }
        true
    }

    /// Shows `screen` (rendered on the next microtask). Showing the screen already
    /// shown does nothing, so a half-typed answer survives a repeated call.
    pub fn show(&self, screen: Screen) {
        // Swapped in before the comparison: when they are equal, the stored screen
        // is an equal one, so nothing changed (unless a draft is on the page: even
        // hiding must then replace it).
        let drafted = self.draft.replace(Draft::None) != Draft::None;
        if self.current.replace(screen.clone()) == screen && !drafted {
            return;
        }
        // Whether focus is inside the popup now, before the old controls go: see
        // `view::App::rendered` for why focus follows only then.
        let refocus = self.shadow.active_element().is_some();
        let live = &self.ctx.live;
        match &screen {
            Screen::Hidden => {
                live.clear();
                // A keyboard user who closed the popup (or answered its last
                // question) goes back to where they were on the page, instead of
                // being dropped at the top of the document.
                let return_to = self.ctx.return_to.take();
                if let Some(el) = return_to.filter(|el| refocus && el.is_connected()) {
                    let _ = el.focus();
                }
            }
            Screen::Question(view) => {
                live.say(announcement(self.ctx.strings, view, &self.ctx.locale))
            }
            Screen::Thanks => live.say(self.ctx.strings.thanks.to_owned()),
        }
        self.start();
        self.render(screen, refocus, false);
    }

    /// Gives the Yew app new props, if it has started.
    fn render(&self, screen: Screen, refocus: bool, draft: bool) {
        // try_borrow: a re-entrant call (impossible today: Yew renders on a later
        // microtask) must not panic into the host page.
        if let Ok(mut app) = self.app.try_borrow_mut() {
            if let Some(app) = app.as_mut() {
                app.update(AppProps {
                    screen,
                    ctx: Rc::clone(&self.ctx),
                    refocus,
                    draft,
                });
            }
        }
    }

    /// Removes the host element, the Yew app, its listeners and timers.
    pub fn destroy(self) {
        drop(self);
    }
}

impl Drop for Popup {
    fn drop(&mut self) {
        self.ctx.live.clear();
        if let Some(app) = self.app.get_mut().take() {
            app.destroy();
        }
        self.host.remove();
    }
}

fn element(document: &Document, tag: &str) -> Result<web_sys::Element, UiError> {
    document
        .create_element(tag)
        .map_err(dom("create an element"))
}

/// What the live region says for a question: `"A quick question: <prompt>"`, or
/// for a suggestion, "A quick question: Do you work at Northwind?".
fn announcement(s: &Strings, view: &QuestionView, locale: &str) -> String {
    let confirm = view.suggestion.as_deref().map(|guess| s.confirm(guess));
    let prompt = confirm
        .as_deref()
        .unwrap_or_else(|| view.question.prompt.resolve(locale));
    let mut text = String::with_capacity(s.dialog_label.len() + 2 + prompt.len());
    text.push_str(s.dialog_label);
    text.push_str(": ");
    text.push_str(prompt);
    text
}

#[cfg(test)]
mod tests {
    // Run natively (`cargo test -p trickle --lib`) and in wasm.
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn view(prompt: serde_json::Value) -> QuestionView {
        let config = Config::from_value(json!({
            "endpoint": "/v1/answers",
            "stages": [{ "id": "s", "minLogins": 1, "questions": [
                { "id": "q", "field": "q", "kind": "text", "prompt": prompt }
            ]}]
        }))
        .unwrap();
        QuestionView {
            question: config.stages[0].questions[0].clone(),
            stage: "s".into(),
            position: 1,
            total: 1,
            suggestion: None,
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_question_is_announced_in_the_popup_locale() {
        let q = view(json!({ "en": "Your city?", "de": "Ihre Stadt?" }));
        assert_eq!(
            announcement(i18n::strings("en"), &q, "en"),
            "A quick question: Your city?"
        );
        assert_eq!(
            announcement(i18n::strings("de"), &q, "de"),
            "Eine kurze Frage: Ihre Stadt?"
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_suggestion_is_announced_as_the_confirm_question() {
        let mut q = view(json!("Which company?"));
        q.suggestion = Some("Northwind".into());
        assert_eq!(
            announcement(i18n::strings("en"), &q, "en"),
            "A quick question: Do you work at Northwind?"
        );
        assert_eq!(
            announcement(i18n::strings("de"), &q, "de"),
            "Eine kurze Frage: Arbeiten Sie bei Northwind?"
        );
    }
}
