//! The popup's one Yew component: one screen at a time (a question or the
//! thank-you), rendered into the shadow root. Purely presentational: which screen shows is
//! the runtime's decision; what the user does goes back as a [`UiEvent`].

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use trickle_core::answer::{check_value, Value};
use trickle_core::config::{ColorScheme, Kind, Placement};
use trickle_core::i18n::{Direction, Strings};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, Node};
use yew::html::{onchange, oninput, Scope};
use yew::prelude::*;
use yew::virtual_dom::listeners::Listeners;
use yew::virtual_dom::{AttributeOrProperty, Attributes, Key, Listener};

use super::autofill::input_attrs;
use super::el::{
    self, button, click, copy, el, fixed, fixed_el, input, keyed, list, maybe, text, Attrs,
};
use super::live::Live;
use super::{QuestionView, Screen, UiEvent};

/// How long the thank-you shows before the popup asks to be dismissed.
pub(crate) const THANKS_MS: u32 = 2500;

// Element ids. They only need to be unique inside the popup's own shadow root,
// which holds one screen at a time.
pub(crate) const PROMPT_ID: &str = "t-p";
const ERROR_ID: &str = "t-e";
const WHY_ID: &str = "t-y";
const OTHER_ID: &str = "t-o";

// Fixed attribute lists, in the order `html!` gave them (class last). An
// attribute that changes with the form (`aria-expanded`, `hidden`) picks one of two
// lists: one attribute set or removed when it changes, as before.
const HEADER: Attrs = &[("class", fixed("h"))];
const PROGRESS: Attrs = &[("class", fixed("n"))];
const HIDDEN: Attrs = &[("aria-hidden", fixed("true"))];
const PROMPT: Attrs = &[
    ("id", fixed(PROMPT_ID)),
    ("dir", fixed("auto")),
    ("class", fixed("q")),
];
const THANKS_PROMPT: Attrs = &[("id", fixed(PROMPT_ID)), ("class", fixed("q"))];
const WHY_CLOSED: Attrs = &[
    ("type", fixed("button")),
    ("aria-expanded", fixed("false")),
    ("aria-controls", fixed(WHY_ID)),
    ("class", fixed("w")),
];
const WHY_OPEN: Attrs = &[
    ("type", fixed("button")),
    ("aria-expanded", fixed("true")),
    ("aria-controls", fixed(WHY_ID)),
    ("class", fixed("w")),
];
const WHY_HIDDEN: Attrs = &[
    ("id", fixed(WHY_ID)),
    ("dir", fixed("auto")),
    ("hidden", fixed("hidden")),
    ("class", fixed("y")),
];
const WHY_SHOWN: Attrs = &[
    ("id", fixed(WHY_ID)),
    ("dir", fixed("auto")),
    ("class", fixed("y")),
];
const ANSWERS: Attrs = &[("class", fixed("a"))];
const CHOICE: Attrs = &[("type", fixed("button")), ("class", fixed("c"))];
const OPTION: Attrs = &[
    ("type", fixed("button")),
    ("dir", fixed("auto")),
    ("class", fixed("c")),
];
const OTHER_CLOSED: Attrs = &[
    ("type", fixed("button")),
    ("aria-expanded", fixed("false")),
    ("class", fixed("c")),
];
const OTHER_OPEN: Attrs = &[
    ("type", fixed("button")),
    ("aria-expanded", fixed("true")),
    ("class", fixed("c")),
];
const OTHER_LABEL: Attrs = &[("for", fixed(OTHER_ID)), ("class", fixed("l"))];
const GROUP: Attrs = &[
    ("role", fixed("group")),
    ("aria-labelledby", fixed(PROMPT_ID)),
];
const CHECK_LABEL: Attrs = &[("class", fixed("k"))];
const CHECKBOX: Attrs = &[("type", fixed("checkbox"))];
const OPTION_LABEL: Attrs = &[("dir", fixed("auto"))];
const ERROR: Attrs = &[("id", fixed(ERROR_ID)), ("class", fixed("e"))];
const SAVE: Attrs = &[("type", fixed("submit")), ("class", fixed("s"))];
const FOOTER: Attrs = &[("class", fixed("f"))];
const FOOT: Attrs = &[("type", fixed("button")), ("class", fixed("g"))];

/// What every screen needs, fixed for the popup's lifetime.
pub(crate) struct Ctx {
    pub(crate) strings: &'static Strings,
    /// The configured locale: picks the prompt's translation.
    pub(crate) locale: String,
    /// The `lang` attribute, when the locale is a well-formed tag.
    pub(crate) lang: Option<AttrValue>,
    pub(crate) dir: Direction,
    pub(crate) placement: Placement,
    pub(crate) scheme: ColorScheme,
    pub(crate) on_event: Callback<UiEvent>,
    pub(crate) live: Rc<Live>,
    /// The page element focus came from when it entered the popup: focus goes back
    /// there when the popup hides with focus inside it (see `Popup::show`).
    /// A `Cell`, not a `RefCell`: it is only swapped whole, and a `Cell` cannot panic
    /// on a borrow, so no borrow check or panic location stays in the wasm.
    pub(crate) return_to: Rc<Cell<Option<HtmlElement>>>,
}

impl fmt::Debug for Ctx {
    // By hand: `Cell`'s Debug needs a `Copy` value, and an element is not one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("strings", &self.strings)
            .field("locale", &self.locale)
            .field("lang", &self.lang)
            .field("dir", &self.dir)
            .field("placement", &self.placement)
            .field("scheme", &self.scheme)
            .field("on_event", &self.on_event)
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Ctx {
    // Identity: one popup has one context; comparing contents would be wasted work.
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

/// The root component's props: what to show, and whether focus may follow it.
#[derive(Debug, Clone, PartialEq, Properties)]
pub(crate) struct AppProps {
    pub(crate) screen: Screen,
    pub(crate) ctx: Rc<Ctx>,
    /// Focus was inside the popup when this screen was asked for.
    pub(crate) refocus: bool,
    /// Only a question's frame (its dialog, header, prompt and "Why we ask"),
    /// hidden: the first half of the popup's first render (see `Popup::draft`).
    pub(crate) draft: bool,
}

/// The popup's root: nothing, a question, or the thank-you.
///
/// One struct component for every screen, each screen drawn by a plain function
/// ([`App::ask`], [`App::thanks`]): a component type or hook instantiates Yew's
/// generic lifecycle code again, and a function component per screen with its
/// hooks (reducer, memo, effects, node refs) measured 4.1 KB of brotli'd wasm more
/// than this state held in one place. What a screen keeps (the form, the one-event latch, the refs, the
/// thank-you timer) is replaced when another screen starts, which is what a keyed
/// component per question gave: a new question starts with a fresh form.
#[derive(Debug)]
pub(crate) struct App {
    form: Form,
    /// Set once the screen has emitted its event (see [`once`]).
    sent: Rc<Cell<bool>>,
    /// The question's answer controls (focus moves to the first one).
    answers: NodeRef,
    /// The text box the submitted text is read from.
    typed: NodeRef,
    /// The thank-you's Close button.
    close: NodeRef,
    /// The thank-you's dismissal; dropping it (another screen, or the app
    /// destroyed) cancels it.
    timer: Option<Timeout>,
    /// `(form.other, form.refused)` at the last render: a change reveals a text box.
    revealed: (bool, bool),
    /// The screen has not been rendered yet: its first-render work is due.
    fresh: bool,
}

impl App {
    fn new() -> App {
        App {
            form: Form::default(),
            sent: Rc::default(),
            answers: NodeRef::default(),
            typed: NodeRef::default(),
            close: NodeRef::default(),
            timer: None,
            revealed: (false, false),
            fresh: true,
        }
    }
}

/// Whether showing `next` after `shown` keeps the screen's state: the same question
/// (say, with another progress hint) keeps what was typed; any other change starts
/// afresh.
fn continues(shown: &Screen, next: &Screen) -> bool {
    match (shown, next) {
        (Screen::Question(a), Screen::Question(b)) => a.question.id == b.question.id,
        (Screen::Thanks, Screen::Thanks) | (Screen::Hidden, Screen::Hidden) => true,
        _ => false,
    }
}

impl Component for App {
    type Message = Act;
    type Properties = AppProps;

    fn create(_: &Context<Self>) -> Self {
        App::new()
    }

    fn update(&mut self, _: &Context<Self>, act: Act) -> bool {
        // An unchanged form (typing without a refusal shown) skips the re-render.
        self.form.apply(act)
    }

    fn changed(&mut self, context: &Context<Self>, old: &AppProps) -> bool {
        if !continues(&old.screen, &context.props().screen) {
            *self = App::new();
        }
        true
    }

    fn view(&self, context: &Context<Self>) -> Html {
        let props = context.props();
        match &props.screen {
            Screen::Hidden => Html::default(),
            Screen::Question(view) => self.ask(context.link(), &props.ctx, view, props.draft),
            Screen::Thanks => self.thanks(&props.ctx),
        }
    }

    fn rendered(&mut self, context: &Context<Self>, _first_render: bool) {
        let props = context.props();
        // A draft is not on screen yet: its first-render work waits for the whole.
        if props.draft {
            return;
        }
        // Appearing never moves focus: someone reading or typing on the page keeps
        // their place. Only when focus was already inside the popup (they just
        // answered the previous question with the keyboard, or clicked in it) does
        // it move to the new screen's first control; otherwise it would fall back to
        // the page's body when the old control disappeared, and a keyboard user
        // would have to find the popup again.
        if std::mem::take(&mut self.fresh) {
            match &props.screen {
                Screen::Hidden => {}
                Screen::Question(_) if props.refocus => focus_first(&self.answers),
                Screen::Question(_) => {}
                Screen::Thanks => {
                    if props.refocus {
                        focus(&self.close);
                    }
                    let emit = once(&props.ctx.on_event, Rc::clone(&self.sent));
                    self.timer = Some(Timeout::new(THANKS_MS, move || {
                        emit.emit(UiEvent::Dismissed)
                    }));
                }
            }
        }
        // Revealing "Other", or the text box after "No" on a suggestion, is the
        // user's own action inside the popup: take them to the text box it revealed.
        if let Screen::Question(view) = &props.screen {
            let revealed = (self.form.other, self.form.refused);
            if revealed != self.revealed {
                self.revealed = revealed;
                let (other, refused) = revealed;
                if (other && view.question.kind == Kind::Choice) || refused {
                    focus(&self.typed);
                }
            }
        }
    }
}

/// The state of one question's form: a plain type, no Yew or browser inside.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Form {
    /// The refusal shown for the last submitted value.
    pub(crate) error: Option<&'static str>,
    /// "Other" is revealed (choice) or ticked (multichoice).
    pub(crate) other: bool,
    /// The "Why we ask" text is shown.
    pub(crate) why: bool,
    /// Indices of the ticked options (multichoice), ascending.
    pub(crate) picked: Vec<usize>,
    /// "No" was chosen on a suggestion: the question is asked as usual.
    pub(crate) refused: bool,
}

/// What can happen to a [`Form`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Act {
    /// The submitted value was refused with this message.
    Refuse(&'static str),
    /// The user changed the typed text: the old refusal no longer applies.
    Edited,
    /// "Other" was toggled.
    ToggleOther,
    /// "Why we ask" was toggled.
    ToggleWhy,
    /// Option `i` was ticked or unticked.
    Toggle(usize),
    /// "No" on a suggestion ("Do you work at Northwind?").
    RefuseGuess,
}

impl Form {
    /// Applies `act`; whether the form changed (if not, nothing re-renders).
    pub(crate) fn apply(&mut self, act: Act) -> bool {
        match act {
            Act::Refuse(message) => self.error.replace(message) != Some(message),
            Act::Edited => self.error.take().is_some(),
            Act::ToggleOther => {
                self.other = !self.other;
                self.error = None;
                true
            }
            Act::ToggleWhy => {
                self.why = !self.why;
                true
            }
            Act::RefuseGuess => !std::mem::replace(&mut self.refused, true),
            Act::Toggle(i) => {
                match self.picked.binary_search(&i) {
                    Ok(at) => {
                        self.picked.remove(at);
                    }
                    Err(at) => self.picked.insert(at, i),
                }
                self.error = None;
                true
            }
        }
    }
}

impl Form {
    /// What submitting the form answers, before the core checks it: the value, and
    /// whether it is free text typed under "Other". `text` is the text box's content
    /// (the answer box, or the "Other" box); `values` are the options' values.
    ///
    /// A choice question's form exists only for "Other", so its text is free text;
    /// a multichoice answers the ticked options in option order, then the "Other"
    /// text when ticked.
    pub(crate) fn submitted(&self, kind: Kind, values: &[String], text: String) -> (Value, bool) {
        match kind {
            Kind::Choice => (Value::Text(text), true),
            Kind::Multichoice => {
                let mut many: Vec<String> = self
                    .picked
                    .iter()
                    .filter_map(|&i| values.get(i).cloned())
                    .collect();
                if self.other {
                    many.push(text);
                }
                (Value::Many(many), self.other)
            }
            _ => (Value::Text(text), false),
        }
    }
}

/// The dialog element shared by every screen: corner, scheme, direction, language,
/// named by the element with id `t-p`, and Escape inside it.
fn dialog(
    ctx: &Ctx,
    key: Option<&str>,
    draft: bool,
    onkeydown: Callback<KeyboardEvent>,
    children: Html,
) -> Html {
    let corner = match ctx.placement {
        Placement::BottomRight => "br",
        Placement::BottomLeft => "bl",
        Placement::TopRight => "tr",
        Placement::TopLeft => "tl",
    };
    let scheme = match ctx.scheme {
        ColorScheme::Auto => "auto",
        ColorScheme::Light => "light",
        ColorScheme::Dark => "dark",
    };
    let return_to = Rc::clone(&ctx.return_to);
    let onfocusin = Callback::from(move |e: FocusEvent| {
        let from = e
            .related_target()
            .and_then(|t| t.dyn_into::<HtmlElement>().ok());
        let to = e.target().and_then(|t| t.dyn_into::<Node>().ok());
        if let (Some(from), Some(to)) = (from, to) {
            // Another root node than the focused control's: focus came in from the
            // page (or another component's shadow root), not from within the popup.
            if !from.get_root_node().is_same_node(Some(&to.get_root_node())) {
                return_to.set(Some(from));
            }
        }
    });
    let mut class = String::from("t ");
    class.push_str(corner);
    class.push(' ');
    class.push_str(scheme);
    if draft {
        class.push_str(" d");
    }
    // Not modal: no aria-modal and no focus trap, the page stays usable.
    //
    // What `html! { <div class={..} role="dialog" aria-labelledby={PROMPT_ID}
    // dir={..} lang={..} {onkeydown} {onfocusin}>{ children }</div> }` builds, by
    // hand: `html!` turns a computed `class` into yew's `Classes` (an IndexSet),
    // and that code was 1.4 KB of the brotli'd wasm for this one attribute.
    let attribute = |value: AttrValue| Some(AttributeOrProperty::Attribute(value));
    keyed(
        "div",
        key.map(Key::from),
        Attributes::Dynamic {
            keys: &["class", "role", "aria-labelledby", "dir", "lang"],
            values: Box::new([
                attribute(class.into()),
                attribute(AttrValue::Static("dialog")),
                attribute(AttrValue::Static(PROMPT_ID)),
                attribute(AttrValue::Static(ctx.dir.as_str())),
                ctx.lang.clone().and_then(attribute),
            ]),
        },
        Listeners::Pending(Box::new([
            Some(Rc::new(yew::html::onkeydown::Wrapper::new(onkeydown)) as Rc<dyn Listener>),
            Some(Rc::new(yew::html::onfocusin::Wrapper::new(onfocusin))),
        ])),
        NodeRef::default(),
        vec![children],
    )
}

/// Escape inside the popup emits `event()`. Only keydowns within the popup get here,
/// so the host page's own Escape handling is untouched; propagation stops so one
/// Escape does not also close, say, a host dialog behind the popup.
fn on_escape(emit: Callback<UiEvent>, event: fn() -> UiEvent) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        // During IME composition Escape cancels the composition, not the popup.
        if e.key() == "Escape" && !e.is_composing() {
            e.prevent_default();
            e.stop_propagation();
            emit.emit(event());
        }
    })
}

/// The header row: the progress hint and the Close button.
fn header(
    s: &Strings,
    progress: Option<String>,
    onclick: Callback<MouseEvent>,
    close: NodeRef,
) -> Html {
    let close = el(
        "button",
        Attributes::Dynamic {
            keys: &["type", "aria-label", "class"],
            values: Box::new([
                Some(fixed("button")),
                Some(fixed(s.close)),
                Some(fixed("x")),
            ]),
        },
        click(onclick),
        close,
        vec![fixed_el("span", HIDDEN, text("\u{d7}"))],
    );
    fixed_el(
        "div",
        HEADER,
        list(vec![
            fixed_el("p", PROGRESS, text(progress.unwrap_or_default())),
            close,
        ]),
    )
}

/// An emitter that lets one event through per screen: a double click or an
/// Enter held down must not answer twice before the next screen arrives.
fn once(on_event: &Callback<UiEvent>, sent: Rc<Cell<bool>>) -> Callback<UiEvent> {
    let on_event = on_event.clone();
    Callback::from(move |event| {
        if !sent.replace(true) {
            on_event.emit(event);
        }
    })
}

/// A click that emits `event()` (one closure type for every such button; a
/// function rather than a value to clone, as these events carry no data).
fn send(emit: &Callback<UiEvent>, event: fn() -> UiEvent) -> Callback<MouseEvent> {
    emit.reform(move |_: MouseEvent| event())
}

/// Focuses the element behind `node`, if it is rendered.
fn focus(node: &NodeRef) {
    if let Some(el) = node.cast::<HtmlElement>() {
        let _ = el.focus();
    }
}

/// Focuses the first control inside `container`, if it is rendered.
fn focus_first(container: &NodeRef) {
    let first = container
        .cast::<Element>()
        .and_then(|c| c.query_selector("button,input").ok().flatten());
    if let Some(el) = first.and_then(|el| el.dyn_into::<HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

impl App {
    /// One question: prompt, optional why, the answer controls of its kind, refusal
    /// message, and "Prefer not to say" / "Not now"; with `draft`, only its frame
    /// (see [`AppProps::draft`]).
    fn ask(&self, link: &Scope<App>, ctx: &Ctx, view: &QuestionView, draft: bool) -> Html {
        let q = &view.question;
        let s = ctx.strings;
        let form = &self.form;
        // Confirm instead of ask, until the user says "No".
        let guess = view.suggestion.as_deref().filter(|_| !form.refused);
        let emit = once(&ctx.on_event, Rc::clone(&self.sent));
        let locale = ctx.locale.as_str();
        let snooze = send(&emit, || UiEvent::Snooze);
        let escape = on_escape(emit.clone(), || UiEvent::Snooze);

        let progress = (view.total > 1).then(|| s.progress(view.position, view.total));
        let why = q.why.as_ref().map_or_else(Html::default, |why| {
            let text = why.resolve(locale);
            // A disclosure button (reachable by Tab, Enter or Space opens it); the text
            // it reveals is also said in the live region, because a screen reader does
            // not read out content that merely appears after the button.
            let onclick = {
                let link = link.clone();
                let live = ctx.live.clone();
                let open = form.why;
                let text = text.to_owned();
                Callback::from(move |_: MouseEvent| {
                    if !open {
                        live.say(text.clone());
                    }
                    link.send_message(Act::ToggleWhy);
                })
            };
            let (toggle, panel) = if form.why {
                (WHY_OPEN, WHY_SHOWN)
            } else {
                (WHY_CLOSED, WHY_HIDDEN)
            };
            list(vec![
                button(toggle, onclick, el::text(s.why_we_ask)),
                fixed_el("p", panel, copy(text)),
            ])
        });
        let prompt = match guess {
            Some(guess) => text(s.confirm(guess)),
            None => copy(q.prompt.resolve(locale)),
        };
        let header = header(s, progress, snooze.clone(), NodeRef::default());
        let prompt = fixed_el("p", PROMPT, prompt);
        if draft {
            // The answer controls and the footer come with the whole. Their places
            // hold empty children, so that Yew matches the children by place and
            // keeps these nodes when it renders the whole.
            let body = list(vec![header, prompt, why, Html::default(), Html::default()]);
            return dialog(ctx, Some(&q.id), true, escape, body);
        }

        // Validates through the core; a refused value stays in place with a message
        // (shown, linked with aria-describedby, and announced) and nothing is emitted.
        let deliver = {
            let q = q.clone();
            let emit = emit.clone();
            let link = link.clone();
            let live = ctx.live.clone();
            Callback::from(move |(value, other): (Value, bool)| {
                match check_value(&q, &value, other) {
                    Ok(value) => emit.emit(UiEvent::Answer { value, other }),
                    Err(err) => {
                        let message = err.message(s);
                        live.say(message.to_owned());
                        link.send_message(Act::Refuse(message));
                    }
                }
            })
        };
        let onsubmit = {
            let deliver = deliver.clone();
            let typed = self.typed.clone();
            let kind = q.kind;
            let values: Vec<String> = q.options.iter().map(|o| o.value.clone()).collect();
            let state = form.clone();
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                let text = typed
                    .cast::<HtmlInputElement>()
                    .map(|i| i.value())
                    .unwrap_or_default();
                deliver.emit(state.submitted(kind, &values, text));
            })
        };
        let edited = on(link, Act::Edited);
        let decline = send(&emit, || UiEvent::Decline);

        // Always one child node (an empty one without a refusal): Yew matches unkeyed
        // children from the end, so a child that comes and goes before the Save button
        // would make it rebuild the text box, losing what was typed and the focus.
        let error = form
            .error
            .map_or_else(Html::default, |message| fixed_el("p", ERROR, text(message)));
        let invalid = maybe(form.error.map(|_| "true"));
        let described = maybe(form.error.map(|_| ERROR_ID));
        let max_length = AttrValue::from(q.max_chars().to_string());
        let save = fixed_el("button", SAVE, text(s.save));
        // The free-text box under "Other", named by a visible label.
        let other_box = || {
            list(vec![
                fixed_el("label", OTHER_LABEL, text(s.other_label)),
                input(
                    Attributes::Dynamic {
                        keys: &[
                            "id",
                            "type",
                            "autocomplete",
                            "maxlength",
                            "aria-invalid",
                            "aria-describedby",
                            "class",
                        ],
                        values: Box::new([
                            Some(fixed(OTHER_ID)),
                            Some(fixed("text")),
                            Some(fixed("off")),
                            Some(AttributeOrProperty::Attribute(max_length.clone())),
                            invalid.clone(),
                            described.clone(),
                            Some(fixed("b")),
                        ]),
                    },
                    None,
                    Rc::new(oninput::Wrapper::new(edited.clone())),
                    self.typed.clone(),
                ),
            ])
        };

        let controls = match q.kind {
            // The only answer controls of a suggestion: "Yes" answers it, "No" asks as
            // usual (the session checks that a suggestion is on screen).
            _ if guess.is_some() => list(vec![
                button(CHOICE, send(&emit, || UiEvent::Confirm), text(s.yes)),
                button(CHOICE, on(link, Act::RefuseGuess), text(s.no)),
            ]),
            Kind::Choice => {
                let mut items: Vec<Html> = q
                    .options
                    .iter()
                    .map(|option| {
                        let deliver = deliver.clone();
                        let value = option.value.clone();
                        let onclick = Callback::from(move |_: MouseEvent| {
                            deliver.emit((Value::Text(value.clone()), false))
                        });
                        button(OPTION, onclick, copy(option.label.resolve(locale)))
                    })
                    .collect();
                items.push(if q.allow_other {
                    let toggle = if form.other { OTHER_OPEN } else { OTHER_CLOSED };
                    list(vec![
                        button(toggle, on(link, Act::ToggleOther), text(s.other)),
                        if form.other {
                            list(vec![el::form(onsubmit, vec![other_box(), error, save])])
                        } else {
                            Html::default()
                        },
                    ])
                } else {
                    Html::default()
                });
                list(items)
            }
            Kind::Multichoice => {
                let checkbox = |checked: bool, label: Html, dir: Attrs, act: Act| {
                    el(
                        "label",
                        Attributes::Static(CHECK_LABEL),
                        None,
                        NodeRef::default(),
                        vec![
                            input(
                                Attributes::Static(CHECKBOX),
                                Some(checked),
                                Rc::new(onchange::Wrapper::new(on(link, act))),
                                NodeRef::default(),
                            ),
                            fixed_el("span", dir, label),
                        ],
                    )
                };
                let mut items: Vec<Html> = q
                    .options
                    .iter()
                    .enumerate()
                    .map(|(i, option)| {
                        let checked = form.picked.binary_search(&i).is_ok();
                        let label = copy(option.label.resolve(locale));
                        checkbox(checked, label, OPTION_LABEL, Act::Toggle(i))
                    })
                    .collect();
                items.push(if q.allow_other {
                    list(vec![checkbox(
                        form.other,
                        text(s.other),
                        &[],
                        Act::ToggleOther,
                    )])
                } else {
                    Html::default()
                });
                el::form(
                    onsubmit,
                    vec![
                        fixed_el("div", GROUP, list(items)),
                        if form.other {
                            list(vec![other_box()])
                        } else {
                            Html::default()
                        },
                        error,
                        save,
                    ],
                )
            }
            Kind::Text | Kind::Email | Kind::Tel | Kind::Url | Kind::Number | Kind::Date => {
                let attrs = input_attrs(q.kind, &q.field);
                // A date picker has no length; every other box is capped like the core.
                let maxlength = (q.kind != Kind::Date).then_some(max_length);
                let typed = input(
                    Attributes::Dynamic {
                        keys: &[
                            "type",
                            "inputmode",
                            "autocomplete",
                            "name",
                            "maxlength",
                            "aria-labelledby",
                            "aria-invalid",
                            "aria-describedby",
                            "class",
                        ],
                        values: Box::new([
                            Some(fixed(attrs.kind)),
                            maybe(attrs.inputmode),
                            Some(fixed(attrs.autocomplete)),
                            Some(AttributeOrProperty::Attribute(q.field.clone().into())),
                            maxlength.map(AttributeOrProperty::Attribute),
                            Some(fixed(PROMPT_ID)),
                            invalid,
                            described,
                            Some(fixed("b")),
                        ]),
                    },
                    None,
                    Rc::new(oninput::Wrapper::new(edited)),
                    self.typed.clone(),
                );
                el::form(onsubmit, vec![typed, error, save])
            }
        };

        let body = list(vec![
            header,
            prompt,
            why,
            el(
                "div",
                Attributes::Static(ANSWERS),
                None,
                self.answers.clone(),
                vec![controls],
            ),
            fixed_el(
                "div",
                FOOTER,
                list(vec![
                    if q.declinable {
                        list(vec![button(FOOT, decline, text(s.prefer_not_to_say))])
                    } else {
                        Html::default()
                    },
                    button(FOOT, snooze, text(s.not_now)),
                ]),
            ),
        ]);
        // Keyed by question: another question replaces the dialog's elements, so no
        // typed text or focus carries over from the last one.
        dialog(ctx, Some(&q.id), false, escape, body)
    }

    /// The short thank-you after the last question; asks to be dismissed after
    /// [`THANKS_MS`] (the timer starts in `rendered`), or at once on Close or Escape.
    fn thanks(&self, ctx: &Ctx) -> Html {
        let emit = once(&ctx.on_event, Rc::clone(&self.sent));
        let dismiss = send(&emit, || UiEvent::Dismissed);
        let body = list(vec![
            header(ctx.strings, None, dismiss, self.close.clone()),
            fixed_el("p", THANKS_PROMPT, text(ctx.strings.thanks)),
        ]);
        dialog(
            ctx,
            None,
            false,
            on_escape(emit, || UiEvent::Dismissed),
            body,
        )
    }
}

/// A callback (for any event type) that applies `act` to the form.
fn on<E: 'static>(link: &Scope<App>, act: Act) -> Callback<E> {
    link.callback(move |_: E| act)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// The form after `act`, leaving `form` as it was.
    fn next(form: &Form, act: Act) -> Form {
        let mut next = form.clone();
        next.apply(act);
        next
    }

    fn run(acts: &[Act]) -> Form {
        acts.iter()
            .fold(Form::default(), |form, &act| next(&form, act))
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ticked_options_stay_in_option_order_and_untick() {
        assert_eq!(
            run(&[Act::Toggle(2), Act::Toggle(0), Act::Toggle(1)]).picked,
            vec![0, 1, 2]
        );
        assert_eq!(
            run(&[Act::Toggle(2), Act::Toggle(0), Act::Toggle(2)]).picked,
            vec![0]
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_refusal_lasts_until_the_answer_changes() {
        let refused = run(&[Act::Refuse("bad")]);
        assert_eq!(refused.error, Some("bad"));
        assert_eq!(
            next(&refused, Act::ToggleWhy).error,
            Some("bad"),
            "reading why changes no answer"
        );
        for change in [Act::Edited, Act::Toggle(0), Act::ToggleOther] {
            assert_eq!(next(&refused, change).error, None, "{change:?}");
        }
    }

    fn values() -> Vec<String> {
        ["dev", "ops", "pm"].map(String::from).to_vec()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_multichoice_answers_the_ticked_options_in_option_order_then_other() {
        let form = run(&[Act::Toggle(2), Act::Toggle(0)]);
        assert_eq!(
            form.submitted(Kind::Multichoice, &values(), String::new()),
            (Value::Many(vec!["dev".into(), "pm".into()]), false)
        );
        let with_other = next(&form, Act::ToggleOther);
        assert_eq!(
            with_other.submitted(Kind::Multichoice, &values(), "qa".into()),
            (
                Value::Many(vec!["dev".into(), "pm".into(), "qa".into()]),
                true
            )
        );
        // Text left in an unticked "Other" box is not answered.
        assert_eq!(
            run(&[Act::Toggle(1)]).submitted(Kind::Multichoice, &values(), "qa".into()),
            (Value::Many(vec!["ops".into()]), false)
        );
        // Nothing ticked is an empty answer, for the core to refuse.
        assert_eq!(
            Form::default().submitted(Kind::Multichoice, &values(), String::new()),
            (Value::Many(vec![]), false)
        );
        // An index past the options (a config changed under the form) is dropped.
        assert_eq!(
            run(&[Act::Toggle(7), Act::Toggle(1)]).submitted(
                Kind::Multichoice,
                &values(),
                String::new()
            ),
            (Value::Many(vec!["ops".into()]), false)
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_choice_form_answers_other_text_and_typed_kinds_answer_their_text() {
        let other = run(&[Act::ToggleOther]);
        assert_eq!(
            other.submitted(Kind::Choice, &values(), "qa".into()),
            (Value::Text("qa".into()), true)
        );
        for kind in [
            Kind::Text,
            Kind::Email,
            Kind::Tel,
            Kind::Url,
            Kind::Number,
            Kind::Date,
        ] {
            assert_eq!(
                Form::default().submitted(kind, &[], " 42 ".into()),
                (Value::Text(" 42 ".into()), false),
                "{kind:?}: the text goes to the core as typed"
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn no_on_a_suggestion_lasts_for_the_question() {
        let refused = run(&[Act::RefuseGuess]);
        assert!(refused.refused);
        for act in [Act::Edited, Act::ToggleWhy, Act::Refuse("bad")] {
            assert!(next(&refused, act).refused, "{act:?}");
        }
        assert!(!Form::default().refused, "a suggestion shows first");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn one_event_per_screen_gets_through() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let on_event = {
            let seen = Rc::clone(&seen);
            Callback::from(move |e: UiEvent| seen.borrow_mut().push(e))
        };
        let emit = once(&on_event, Rc::new(Cell::new(false)));
        emit.emit(UiEvent::Decline);
        emit.emit(UiEvent::Snooze);
        emit.emit(UiEvent::Decline);
        assert_eq!(*seen.borrow(), vec![UiEvent::Decline]);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn applying_an_act_reports_exactly_whether_the_form_changed() {
        // `App::update` re-renders only when `apply` says the form changed: typing
        // without a refusal shown changes nothing.
        let states = [
            Form::default(),
            run(&[Act::Refuse("bad")]),
            run(&[Act::Toggle(1), Act::ToggleOther, Act::ToggleWhy]),
            run(&[Act::RefuseGuess, Act::Refuse("other")]),
        ];
        let acts = [
            Act::Refuse("bad"),
            Act::Edited,
            Act::ToggleOther,
            Act::ToggleWhy,
            Act::Toggle(1),
            Act::RefuseGuess,
        ];
        for state in &states {
            for act in acts {
                let mut after = state.clone();
                let changed = after.apply(act);
                assert_eq!(changed, after != *state, "{act:?} on {state:?}");
            }
        }
        assert!(!Form::default().apply(Act::Edited));
    }
}
