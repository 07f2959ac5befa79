//! Browser tests of the popup (`trickle::ui`): every question kind, refusal of
//! invalid input, Escape, decline, focus manners, text-not-markup, direction, the
//! live region, style isolation and the markup of every screen. Run with
//! `cargo test -p trickle --target wasm32-unknown-unknown --test ui`.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::future::sleep;
use serde_json::json;
use trickle::ui::{Look, Popup, QuestionView, Screen, UiEvent};
use trickle_core::answer::Value;
use trickle_core::config::{ColorScheme, Placement, Question, Theme};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{
    Document, Element, Event, EventInit, HtmlElement, HtmlInputElement, KeyboardEvent,
    KeyboardEventInit, ShadowRoot,
};

wasm_bindgen_test_configure!(run_in_browser);

// ---------------------------------------------------------------------------
// Harness

fn document() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A mounted popup and every event it emitted.
struct Harness {
    popup: Option<Popup>,
    events: Rc<RefCell<Vec<UiEvent>>>,
}

impl Harness {
    fn mount(look: Look) -> Harness {
        // A failed earlier test cannot unwind its popup away (wasm aborts), so clear
        // any leftover host first: every test starts from a clean page.
        let stale = document()
            .query_selector_all("[data-trickle-host]")
            .unwrap();
        for i in 0..stale.length() {
            stale
                .item(i)
                .unwrap()
                .dyn_into::<Element>()
                .unwrap()
                .remove();
        }
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&events);
        let popup = Popup::mount(look, Rc::new(move |e| sink.borrow_mut().push(e))).unwrap();
        Harness {
            popup: Some(popup),
            events,
        }
    }

    fn en() -> Harness {
        Harness::mount(look("en"))
    }

    async fn show(&self, screen: Screen) {
        self.popup.as_ref().unwrap().show(screen);
        yew::scheduler::flush().await;
    }

    async fn ask(&self, question: Question) {
        self.show(view(question, 1, 1)).await;
    }

    fn host(&self) -> HtmlElement {
        document()
            .query_selector("[data-trickle-host]")
            .unwrap()
            .unwrap()
            .dyn_into()
            .unwrap()
    }

    fn shadow(&self) -> ShadowRoot {
        self.host().shadow_root().unwrap()
    }

    fn find(&self, selector: &str) -> Option<Element> {
        self.shadow().query_selector(selector).unwrap()
    }

    fn all(&self, selector: &str) -> Vec<Element> {
        let list = self.shadow().query_selector_all(selector).unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().dyn_into().unwrap())
            .collect()
    }

    fn dialog(&self) -> Element {
        self.find("[role=dialog]").expect("a dialog is shown")
    }

    /// The button whose accessible name (aria-label, else text) is `name`.
    fn button(&self, name: &str) -> Option<HtmlElement> {
        self.all("button")
            .into_iter()
            .find(|b| accessible_name(b) == name)
            .map(|b| b.dyn_into().unwrap())
    }

    async fn click(&self, name: &str) {
        self.button(name)
            .unwrap_or_else(|| panic!("no button named {name:?}"))
            .click();
        yew::scheduler::flush().await;
    }

    /// The text box named `name` through aria-labelledby or a `<label for>`.
    fn textbox(&self, name: &str) -> Option<HtmlInputElement> {
        self.all("input:not([type=checkbox])")
            .into_iter()
            .find(|input| self.label_of(input).as_deref() == Some(name))
            .map(|i| i.dyn_into().unwrap())
    }

    fn label_of(&self, input: &Element) -> Option<String> {
        if let Some(ids) = input.get_attribute("aria-labelledby") {
            let text: Vec<String> = ids
                .split(' ')
                .filter_map(|id| self.shadow().get_element_by_id(id))
                .map(|el| text(&el))
                .collect();
            return Some(text.join(" "));
        }
        if let Some(label) = input.get_attribute("aria-label") {
            return Some(label);
        }
        if !input.id().is_empty() {
            if let Some(label) = self.find(&format!("label[for={}]", input.id())) {
                return Some(text(&label));
            }
        }
        input.closest("label").unwrap().map(|label| text(&label))
    }

    async fn type_into(&self, input: &HtmlInputElement, value: &str) {
        input.set_value(value);
        let init = EventInit::new();
        init.set_bubbles(true);
        input
            .dispatch_event(&Event::new_with_event_init_dict("input", &init).unwrap())
            .unwrap();
        yew::scheduler::flush().await;
    }

    fn events(&self) -> Vec<UiEvent> {
        self.events.borrow().clone()
    }

    fn destroy(&mut self) {
        self.popup.take().unwrap().destroy();
    }
}

fn look(locale: &str) -> Look {
    Look {
        placement: Placement::BottomRight,
        theme: Theme::default(),
        locale: locale.to_owned(),
    }
}

fn question(value: serde_json::Value) -> Question {
    let mut q = json!({ "id": "q", "field": "f", "prompt": "Your answer?" });
    q.as_object_mut()
        .unwrap()
        .extend(value.as_object().unwrap().clone());
    serde_json::from_value(q).unwrap()
}

fn view(question: Question, position: u32, total: u32) -> Screen {
    Screen::Question(QuestionView {
        question,
        stage: "basics".to_owned(),
        position,
        total,
        suggestion: None,
    })
}

fn role_choice() -> Question {
    question(json!({
        "id": "role", "field": "company.role", "kind": "choice",
        "prompt": "What best describes your role?",
        "options": [
            { "value": "junior", "label": "Junior employee" },
            { "value": "senior", "label": "Senior official" }
        ],
        "allowOther": true, "declinable": true,
        "why": "So we can show you the features that matter for your role."
    }))
}

fn text(el: &Element) -> String {
    el.text_content().unwrap_or_default().trim().to_owned()
}

fn accessible_name(el: &Element) -> String {
    el.get_attribute("aria-label").unwrap_or_else(|| text(el))
}

fn answer(value: Value, other: bool) -> UiEvent {
    UiEvent::Answer { value, other }
}

fn s(v: &str) -> Value {
    Value::Text(v.to_owned())
}

fn keydown(target: &Element, key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_cancelable(true);
    target
        .dispatch_event(
            &KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap(),
        )
        .unwrap();
}

fn computed(el: &Element, property: &str) -> String {
    let style = web_sys::window()
        .unwrap()
        .get_computed_style(el)
        .unwrap()
        .unwrap();
    style.get_property_value(property).unwrap()
}

// ---------------------------------------------------------------------------
// Mounting and starting

#[wasm_bindgen_test]
async fn a_mounted_popup_starts_once_and_renders_nothing_until_shown() {
    let mut h = Harness::en();
    let popup = h.popup.as_ref().unwrap();
    assert!(popup.start(), "started now");
    assert!(!popup.start(), "only once");
    yew::scheduler::flush().await;
    assert!(h.find("[role=dialog]").is_none());
    h.ask(role_choice()).await;
    assert!(h.button("Senior official").is_some());
    h.destroy();
}

#[wasm_bindgen_test]
async fn a_draft_renders_the_questions_frame_hidden_and_unannounced_and_show_completes_it_in_place()
{
    let mut h = Harness::en();
    let popup = h.popup.as_ref().unwrap();
    popup.start();
    assert!(!popup.lay_out_draft(), "no draft to lay out");
    let screen = view(role_choice(), 1, 1);
    assert!(popup.draft(&screen), "drafted now");
    assert!(!popup.draft(&screen), "only once");
    yew::scheduler::flush().await;
    assert!(popup.lay_out_draft(), "laid out now");
    assert!(!popup.lay_out_draft(), "laid out once");

    let draft = h.dialog();
    assert_eq!(computed(&draft, "visibility"), "hidden", "not on screen");
    assert_eq!(
        computed(&draft, "animation-name"),
        "none",
        "its entrance waits"
    );
    // Laid out, but out of reach: a hidden control cannot take focus.
    let close = h.button("Close").unwrap();
    close.focus().unwrap();
    assert!(
        h.shadow().active_element().is_none(),
        "the draft took focus"
    );
    assert_eq!(
        text(&h.find("#t-p").unwrap()),
        "What best describes your role?"
    );
    assert!(h.button("Close").is_some(), "the header is drafted");
    assert!(h.button("Senior official").is_none(), "the answers wait");
    assert!(h.button("Not now").is_none(), "the footer waits");
    sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        text(&h.find("[aria-live=polite]").unwrap()),
        "",
        "nothing said"
    );

    h.show(screen).await;
    let whole = h.dialog();
    assert!(
        whole.is_same_node(Some(&draft)),
        "the same dialog, completed"
    );
    assert_eq!(computed(&whole, "visibility"), "visible");
    assert_eq!(computed(&whole, "animation-name"), "t-in", "it enters now");
    assert!(h.button("Senior official").is_some());
    assert!(h.button("Not now").is_some());
    sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        text(&h.find("[aria-live=polite]").unwrap()),
        "A quick question: What best describes your role?"
    );
    assert!(
        !popup_of(&h).draft(&view(role_choice(), 1, 1)),
        "not over a shown screen"
    );
    h.destroy();
}

#[wasm_bindgen_test]
async fn hiding_a_draft_removes_it_and_only_questions_are_drafted() {
    let mut h = Harness::en();
    let popup = h.popup.as_ref().unwrap();
    popup.start();
    assert!(!popup.draft(&Screen::Thanks), "the thank-you renders whole");
    assert!(!popup.draft(&Screen::Hidden));
    assert!(popup.draft(&view(role_choice(), 1, 1)));
    yew::scheduler::flush().await;
    assert!(h.find("[role=dialog]").is_some());
    h.show(Screen::Hidden).await;
    assert!(
        h.find("[role=dialog]").is_none(),
        "hidden while nothing was shown"
    );
    h.destroy();
}

fn popup_of(h: &Harness) -> &Popup {
    h.popup.as_ref().unwrap()
}

// ---------------------------------------------------------------------------
// Kinds

#[wasm_bindgen_test]
async fn choice_shows_a_non_modal_dialog_named_by_the_prompt_and_options_answer_by_value() {
    let mut h = Harness::en();
    h.ask(role_choice()).await;

    let dialog = h.dialog();
    let name_id = dialog.get_attribute("aria-labelledby").unwrap();
    assert_eq!(
        text(&h.shadow().get_element_by_id(&name_id).unwrap()),
        "What best describes your role?"
    );
    assert_eq!(dialog.get_attribute("aria-modal"), None);
    for name in [
        "Junior employee",
        "Senior official",
        "Other",
        "Prefer not to say",
        "Not now",
        "Close",
        "Why we ask",
    ] {
        assert!(h.button(name).is_some(), "{name}");
    }

    h.click("Senior official").await;
    assert_eq!(h.events(), vec![answer(s("senior"), false)]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn other_reveals_a_labelled_text_box_whose_free_text_is_saved_as_other() {
    let mut h = Harness::en();
    h.ask(role_choice()).await;
    assert!(
        h.textbox("Your answer").is_none(),
        "hidden until Other is chosen"
    );

    h.click("Other").await;
    assert_eq!(
        h.button("Other")
            .unwrap()
            .get_attribute("aria-expanded")
            .as_deref(),
        Some("true")
    );
    let other = h
        .textbox("Your answer")
        .expect("Other reveals a text box named by its label");
    assert_eq!(
        h.shadow().active_element(),
        Some(other.clone().into()),
        "focus goes to the box the user revealed"
    );
    h.type_into(&other, "  Mayor ").await;
    h.click("Save").await;

    assert_eq!(h.events(), vec![answer(s("Mayor"), true)]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn multichoice_saves_the_ticked_options_and_other_text() {
    let mut h = Harness::en();
    h.ask(question(json!({
        "kind": "multichoice", "prompt": "Which tools do you use?", "allowOther": true,
        "options": [
            { "value": "a", "label": "Alpha" }, { "value": "b", "label": "Beta" }, { "value": "c", "label": "Gamma" }
        ]
    })))
    .await;

    let boxes = h.all("input[type=checkbox]");
    assert_eq!(boxes.len(), 4);
    let group = h.find("[role=group]").unwrap();
    assert_eq!(
        group.get_attribute("aria-labelledby"),
        h.dialog().get_attribute("aria-labelledby")
    );
    // Ticked out of order; the answer keeps the options' order.
    for i in [2, 0, 3] {
        boxes[i].clone().dyn_into::<HtmlElement>().unwrap().click();
        yew::scheduler::flush().await;
    }
    let other = h
        .textbox("Your answer")
        .expect("ticking Other reveals its text box");
    h.type_into(&other, "Delta").await;
    h.click("Save").await;

    let many = Value::Many(vec!["a".to_owned(), "c".to_owned(), "Delta".to_owned()]);
    assert_eq!(h.events(), vec![answer(many, true)]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn multichoice_with_nothing_ticked_is_refused() {
    let mut h = Harness::en();
    h.ask(question(
        json!({ "kind": "multichoice", "options": [{ "value": "a", "label": "Alpha" }] }),
    ))
    .await;
    h.click("Save").await;
    assert_eq!(h.events(), vec![]);
    assert_eq!(text(&h.find("#t-e").unwrap()), "Please enter an answer.");
    h.destroy();
}

#[wasm_bindgen_test]
async fn text_box_is_named_by_the_prompt_autofills_and_saves_trimmed_text() {
    let mut h = Harness::en();
    h.ask(question(
        json!({ "kind": "text", "field": "company.name", "prompt": "Where do you work?" }),
    ))
    .await;

    let input = h
        .textbox("Where do you work?")
        .expect("a text box named by the prompt");
    assert_eq!(
        input.get_attribute("autocomplete").as_deref(),
        Some("organization")
    );
    assert_eq!(input.get_attribute("maxlength").as_deref(), Some("200"));
    h.type_into(&input, "  Acme Ltd ").await;
    h.click("Save").await;

    assert_eq!(h.events(), vec![answer(s("Acme Ltd"), false)]);
    h.destroy();
}

/// One typed kind: its text box attributes, a value typed, the value answered.
struct TypedCase {
    kind: &'static str,
    field: &'static str,
    input_type: &'static str,
    inputmode: Option<&'static str>,
    autocomplete: &'static str,
    typed: &'static str,
    answered: Value,
}

#[wasm_bindgen_test]
async fn each_typed_kind_has_its_input_type_keyboard_and_autofill_token_and_saves() {
    let case = |kind, field, input_type, inputmode, autocomplete, typed, answered| TypedCase {
        kind,
        field,
        input_type,
        inputmode,
        autocomplete,
        typed,
        answered,
    };
    let cases = [
        case(
            "email",
            "contact.email",
            "email",
            Some("email"),
            "email",
            "ada@example.com",
            s("ada@example.com"),
        ),
        case(
            "tel",
            "contact.phone",
            "tel",
            Some("tel"),
            "tel",
            "+44 20 7946 0958",
            s("+44 20 7946 0958"),
        ),
        case(
            "url",
            "company.website",
            "url",
            Some("url"),
            "url",
            "example.com",
            s("https://example.com"),
        ),
        case(
            "number",
            "company.size",
            "text",
            Some("decimal"),
            "off",
            " 42 ",
            Value::Number(42.0),
        ),
        case(
            "date",
            "birthday",
            "date",
            None,
            "bday",
            "1990-12-10",
            s("1990-12-10"),
        ),
        case(
            "text",
            "first_name",
            "text",
            Some("text"),
            "given-name",
            "Ada",
            s("Ada"),
        ),
        case(
            "text",
            "company.title",
            "text",
            Some("text"),
            "organization-title",
            "CTO",
            s("CTO"),
        ),
    ];
    let mut h = Harness::en();
    for (i, c) in cases.into_iter().enumerate() {
        let kind = c.kind;
        h.events.borrow_mut().clear();
        let id = format!("q{i}");
        h.ask(question(
            json!({ "id": id, "kind": kind, "field": c.field, "prompt": kind }),
        ))
        .await;
        let input = h
            .textbox(kind)
            .unwrap_or_else(|| panic!("{kind}: text box"));
        assert_eq!(input.type_(), c.input_type, "{kind}");
        assert_eq!(
            input.get_attribute("inputmode").as_deref(),
            c.inputmode,
            "{kind}"
        );
        assert_eq!(
            input.get_attribute("autocomplete").as_deref(),
            Some(c.autocomplete),
            "{kind}"
        );
        assert_eq!(
            input.get_attribute("name").as_deref(),
            Some(c.field),
            "{kind}"
        );
        h.type_into(&input, c.typed).await;
        h.click("Save").await;
        assert_eq!(h.events(), vec![answer(c.answered, false)], "{kind}");
    }
    h.destroy();
}

// ---------------------------------------------------------------------------
// Refusal, decline, snooze, Escape

#[wasm_bindgen_test]
async fn invalid_typed_input_is_refused_in_place_with_a_linked_message_and_nothing_emitted() {
    let mut h = Harness::en();
    for (kind, typed, message) in [
        ("email", "ada@", "Please enter a valid email address."),
        ("number", "forty-two", "Please enter a number."),
        ("url", "not a url", "Please enter a valid web address."),
        ("text", "   ", "Please enter an answer."),
    ] {
        h.ask(question(
            json!({ "id": kind, "kind": kind, "prompt": "Tell us" }),
        ))
        .await;
        let input = h.textbox("Tell us").unwrap();
        h.type_into(&input, typed).await;
        input.focus().unwrap();
        h.click("Save").await;

        assert_eq!(h.events(), vec![], "{kind}: nothing is handed on");
        assert_eq!(
            input.get_attribute("aria-invalid").as_deref(),
            Some("true"),
            "{kind}"
        );
        let described = input
            .get_attribute("aria-describedby")
            .expect("the message is linked");
        assert_eq!(
            text(&h.shadow().get_element_by_id(&described).unwrap()),
            message,
            "{kind}"
        );
        assert!(input.is_connected(), "{kind}: the same text box stays");
        assert_eq!(
            h.shadow().active_element(),
            Some(input.clone().into()),
            "{kind}: and keeps focus"
        );
        assert_eq!(
            input.value(),
            typed,
            "{kind}: the typed value stays for correcting"
        );

        // Editing withdraws the refusal until the next Save.
        h.type_into(&input, "x").await;
        assert_eq!(input.get_attribute("aria-invalid"), None, "{kind}");
        assert_eq!(input.get_attribute("aria-describedby"), None, "{kind}");
    }
    h.destroy();
}

#[wasm_bindgen_test]
async fn too_long_other_text_is_refused() {
    let mut h = Harness::en();
    let mut q = role_choice();
    q.max_length = Some(5);
    h.ask(q).await;
    h.click("Other").await;
    let other = h.textbox("Your answer").unwrap();
    assert_eq!(other.get_attribute("maxlength").as_deref(), Some("5"));
    // maxlength only limits typing; a pasted or scripted value is still checked.
    h.type_into(&other, "Chief executive").await;
    h.click("Save").await;
    assert_eq!(h.events(), vec![]);
    assert_eq!(text(&h.find("#t-e").unwrap()), "That answer is too long.");
    h.destroy();
}

#[wasm_bindgen_test]
async fn prefer_not_to_say_declines_and_is_offered_only_when_declinable() {
    let mut h = Harness::en();
    h.ask(question(json!({ "kind": "text" }))).await;
    assert!(h.button("Prefer not to say").is_none());

    h.ask(role_choice()).await;
    h.click("Prefer not to say").await;
    assert_eq!(h.events(), vec![UiEvent::Decline]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn the_same_question_keeps_its_form_and_the_next_question_starts_afresh() {
    let mut h = Harness::en();
    let first = question(json!({ "id": "q1", "kind": "email", "prompt": "Your email?" }));
    h.show(view(first.clone(), 1, 2)).await;
    let input = h.textbox("Your email?").unwrap();
    h.type_into(&input, "not-an-email").await;
    h.click("Save").await;
    assert!(h.find(".e").is_some(), "refused in place");

    // The same question again (here with another progress hint): what was typed
    // and the refusal stay.
    h.show(view(first, 1, 3)).await;
    assert_eq!(h.textbox("Your email?").unwrap().value(), "not-an-email");
    assert!(h.find(".e").is_some());

    // The next question of the same kind: an empty box, no refusal, and its
    // answer gets through (one event per screen, not per popup).
    let second = question(json!({ "id": "q2", "kind": "email", "prompt": "Your work email?" }));
    h.show(view(second, 2, 3)).await;
    let input = h.textbox("Your work email?").unwrap();
    assert_eq!(input.value(), "");
    assert!(h.find(".e").is_none());
    assert!(!input.has_attribute("aria-invalid"));
    h.type_into(&input, "ada@example.com").await;
    h.click("Save").await;
    assert_eq!(h.events(), vec![answer(s("ada@example.com"), false)]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn not_now_and_close_snooze() {
    for name in ["Not now", "Close"] {
        let mut h = Harness::en();
        h.ask(role_choice()).await;
        h.click(name).await;
        assert_eq!(h.events(), vec![UiEvent::Snooze], "{name}");
        h.destroy();
    }
}

#[wasm_bindgen_test]
async fn a_second_click_before_the_next_screen_emits_nothing_more() {
    let mut h = Harness::en();
    h.ask(role_choice()).await;
    h.click("Junior employee").await;
    h.click("Not now").await;
    assert_eq!(h.events(), vec![answer(s("junior"), false)]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn escape_inside_the_popup_snoozes_without_reaching_the_page_and_page_escape_is_ignored() {
    let mut h = Harness::en();
    h.ask(question(json!({ "kind": "email" }))).await;
    let page_saw = Rc::new(RefCell::new(0));
    let seen = Rc::clone(&page_saw);
    let listener =
        gloo_events::EventListener::new(&document(), "keydown", move |_| *seen.borrow_mut() += 1);

    // On the page itself: not ours.
    keydown(&document().body().unwrap(), "Escape");
    yew::scheduler::flush().await;
    assert_eq!(h.events(), vec![]);
    assert_eq!(*page_saw.borrow(), 1);

    // Inside the popup (in its text box): snooze, and the page does not see it.
    keydown(&h.find("input").unwrap(), "Escape");
    yew::scheduler::flush().await;
    assert_eq!(h.events(), vec![UiEvent::Snooze]);
    assert_eq!(*page_saw.borrow(), 1);
    drop(listener);
    h.destroy();
}

#[wasm_bindgen_test]
async fn other_keys_inside_the_popup_do_nothing() {
    let mut h = Harness::en();
    h.ask(role_choice()).await;
    keydown(&h.dialog(), "Enter");
    keydown(&h.dialog(), "a");
    yew::scheduler::flush().await;
    assert_eq!(h.events(), vec![]);
    h.destroy();
}

// ---------------------------------------------------------------------------
// Focus, announcements, the thank-you

#[wasm_bindgen_test]
async fn appearing_never_moves_focus() {
    let page_input = document()
        .create_element("input")
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap();
    document()
        .body()
        .unwrap()
        .append_child(&page_input)
        .unwrap();
    page_input.focus().unwrap();

    let mut h = Harness::en();
    h.ask(role_choice()).await;
    h.show(view(question(json!({ "id": "q2", "kind": "text" })), 2, 2))
        .await;
    h.show(Screen::Thanks).await;

    assert_eq!(document().active_element(), Some(page_input.clone().into()));
    assert_eq!(h.shadow().active_element(), None);
    h.destroy();
    page_input.remove();
}

#[wasm_bindgen_test]
async fn after_answering_from_inside_focus_moves_to_the_next_questions_first_control() {
    let mut h = Harness::en();
    h.ask(role_choice()).await;
    let option = h.button("Junior employee").unwrap();
    option.focus().unwrap();
    option.click();
    // What the runtime does on the Answer: show the next question.
    h.show(view(
        question(json!({ "id": "q2", "kind": "tel", "prompt": "Your phone?" })),
        2,
        2,
    ))
    .await;

    let input = h.textbox("Your phone?").unwrap();
    assert_eq!(h.shadow().active_element(), Some(input.into()));
    h.destroy();
}

#[wasm_bindgen_test]
async fn closing_with_focus_inside_returns_focus_to_where_it_came_from_on_the_page() {
    let page_button = document()
        .create_element("button")
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap();
    document()
        .body()
        .unwrap()
        .append_child(&page_button)
        .unwrap();
    page_button.focus().unwrap();

    let mut h = Harness::en();
    h.ask(role_choice()).await;
    // The keyboard user moves into the popup and presses Escape; the runtime hides it.
    let option = h.button("Senior official").unwrap();
    option.focus().unwrap();
    keydown(&option, "Escape");
    h.show(Screen::Hidden).await;
    assert_eq!(h.events(), vec![UiEvent::Snooze]);
    assert_eq!(
        document().active_element(),
        Some(page_button.clone().into())
    );

    // Focus already elsewhere on the page when the popup hides: left alone.
    h.ask(role_choice()).await;
    h.button("Not now").unwrap().focus().unwrap();
    let other_place = document()
        .create_element("input")
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap();
    document()
        .body()
        .unwrap()
        .append_child(&other_place)
        .unwrap();
    other_place.focus().unwrap();
    h.show(Screen::Hidden).await;
    assert_eq!(
        document().active_element(),
        Some(other_place.clone().into())
    );

    h.destroy();
    page_button.remove();
    other_place.remove();
}

#[wasm_bindgen_test]
async fn a_polite_live_region_exists_empty_before_the_announcement_lands_in_it() {
    let mut h = Harness::en();
    let region = h.find("[aria-live=polite]").expect("live region at mount");
    assert_eq!(region.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(text(&region), "");
    assert!(
        region.closest("[role=dialog]").unwrap().is_none(),
        "outside the re-rendered dialog"
    );

    h.ask(role_choice()).await;
    assert_eq!(
        text(&region),
        "",
        "text lands only after the region was seen empty"
    );
    sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        text(&region),
        "A quick question: What best describes your role?"
    );
    assert!(h
        .find("[aria-live=polite]")
        .unwrap()
        .is_same_node(Some(&region)));

    h.show(Screen::Hidden).await;
    assert_eq!(text(&region), "");
    h.destroy();
}

#[wasm_bindgen_test]
async fn the_thank_you_shows_then_asks_to_be_dismissed() {
    let mut h = Harness::en();
    h.show(Screen::Thanks).await;
    let dialog = h.dialog();
    assert_eq!(
        text(
            &h.shadow()
                .get_element_by_id(&dialog.get_attribute("aria-labelledby").unwrap())
                .unwrap()
        ),
        "Thank you!"
    );
    sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(h.events(), vec![]);
    sleep(std::time::Duration::from_millis(1300)).await;
    assert_eq!(h.events(), vec![UiEvent::Dismissed]);

    h.show(Screen::Hidden).await;
    assert!(h.find("[role=dialog]").is_none());
    h.destroy();
}

#[wasm_bindgen_test]
async fn escape_or_close_on_the_thank_you_dismisses_it_at_once() {
    let mut h = Harness::en();
    h.show(Screen::Thanks).await;
    keydown(&h.dialog(), "Escape");
    yew::scheduler::flush().await;
    assert_eq!(h.events(), vec![UiEvent::Dismissed]);
    h.destroy();

    let mut h = Harness::en();
    h.show(Screen::Thanks).await;
    h.click("Close").await;
    assert_eq!(h.events(), vec![UiEvent::Dismissed]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn destroy_removes_the_host_and_cancels_the_thank_you_timer() {
    let mut h = Harness::en();
    h.show(Screen::Thanks).await;
    assert_eq!(
        document()
            .query_selector_all("[data-trickle-host]")
            .unwrap()
            .length(),
        1
    );
    h.destroy();
    assert_eq!(
        document()
            .query_selector_all("[data-trickle-host]")
            .unwrap()
            .length(),
        0
    );
    sleep(std::time::Duration::from_millis(2800)).await;
    assert_eq!(h.events(), vec![]);
}

// ---------------------------------------------------------------------------
// Content

#[wasm_bindgen_test]
async fn progress_hint_shows_only_for_several_questions_and_why_is_a_disclosure() {
    let mut h = Harness::en();
    h.show(view(role_choice(), 2, 3)).await;
    assert!(text(&h.dialog()).contains("2 of 3"));

    let why = h.button("Why we ask").unwrap();
    let panel = h
        .shadow()
        .get_element_by_id(&why.get_attribute("aria-controls").unwrap())
        .unwrap();
    assert_eq!(why.get_attribute("aria-expanded").as_deref(), Some("false"));
    assert!(panel.has_attribute("hidden"));
    h.click("Why we ask").await;
    assert_eq!(why.get_attribute("aria-expanded").as_deref(), Some("true"));
    assert!(!panel.has_attribute("hidden"));
    assert_eq!(
        text(&panel),
        "So we can show you the features that matter for your role."
    );

    h.show(view(question(json!({ "id": "q2", "kind": "text" })), 1, 1))
        .await;
    assert!(!text(&h.dialog()).contains(" of "));
    assert!(h.button("Why we ask").is_none());
    h.destroy();
}

fn company_with_suggestion() -> Screen {
    let question = question(json!({
        "id": "company", "field": "company.name", "kind": "text",
        "prompt": "Which company do you work for?", "suggest": "emailDomain",
        "why": "So we can set up your team's workspace."
    }));
    Screen::Question(QuestionView {
        question,
        stage: "company".to_owned(),
        position: 1,
        total: 1,
        suggestion: Some("Northwind".into()),
    })
}

#[wasm_bindgen_test]
async fn a_suggestion_asks_to_confirm_and_yes_confirms_it() {
    let mut h = Harness::en();
    h.show(company_with_suggestion()).await;
    let prompt = h
        .shadow()
        .get_element_by_id(&h.dialog().get_attribute("aria-labelledby").unwrap())
        .unwrap();
    assert_eq!(
        text(&prompt),
        "Do you work at Northwind?",
        "names the dialog"
    );
    assert!(
        h.textbox("Do you work at Northwind?").is_none(),
        "nothing to type"
    );
    assert!(h.button("Save").is_none());
    assert!(h.button("Not now").is_some(), "still snoozable");
    h.click("Yes").await;
    assert_eq!(h.events(), vec![UiEvent::Confirm]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn no_on_a_suggestion_reveals_the_usual_text_box_and_focuses_it() {
    let mut h = Harness::en();
    h.show(company_with_suggestion()).await;
    h.click("No").await;
    assert!(h.events().is_empty(), "No answers nothing");
    assert!(h.button("Yes").is_none());
    let input = h
        .textbox("Which company do you work for?")
        .expect("the usual text box, named by the prompt");
    let active = h
        .shadow()
        .active_element()
        .expect("focus moved into the popup");
    assert!(active.is_same_node(Some(&input)));
    h.type_into(&input, "Contoso").await;
    h.click("Save").await;
    assert_eq!(h.events(), vec![answer(s("Contoso"), false)]);
    h.destroy();
}

#[wasm_bindgen_test]
async fn a_suggestion_is_translated_and_announced() {
    let mut h = Harness::mount(look("de"));
    h.show(company_with_suggestion()).await;
    assert!(h.button("Ja").is_some() && h.button("Nein").is_some());
    sleep(std::time::Duration::from_millis(400)).await;
    let region = h.find("[aria-live=polite]").unwrap();
    assert_eq!(
        text(&region),
        "Eine kurze Frage: Arbeiten Sie bei Northwind?"
    );
    h.destroy();
}

#[wasm_bindgen_test]
async fn opening_why_we_ask_announces_its_text() {
    let mut h = Harness::en();
    h.show(company_with_suggestion()).await;
    let region = h.find("[aria-live=polite]").unwrap();
    sleep(std::time::Duration::from_millis(400)).await;
    h.click("Why we ask").await;
    sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(text(&region), "So we can set up your team's workspace.");
    h.destroy();
}

#[wasm_bindgen_test]
async fn markup_in_prompts_labels_and_why_renders_as_literal_text() {
    let mut h = Harness::en();
    let prompt = "<img src=x onerror=alert(1)> <b>bold</b>?";
    h.ask(question(json!({
        "kind": "choice", "prompt": prompt, "why": "<script>alert(2)</script>",
        "options": [{ "value": "v", "label": "<i>italic</i>" }]
    })))
    .await;
    h.click("Why we ask").await;

    assert!(
        h.all("img, b, i, script").is_empty(),
        "no element was made from the text"
    );
    let dialog = h.dialog();
    assert_eq!(
        text(
            &h.shadow()
                .get_element_by_id(&dialog.get_attribute("aria-labelledby").unwrap())
                .unwrap()
        ),
        prompt
    );
    assert!(h.button("<i>italic</i>").is_some());
    assert!(text(&dialog).contains("<script>alert(2)</script>"));
    h.destroy();
}

#[wasm_bindgen_test]
async fn translated_prompts_and_an_rtl_locale_give_arabic_strings_and_dir_rtl() {
    let mut h = Harness::mount(look("ar"));
    h.ask(question(json!({
        "kind": "text", "declinable": true,
        "prompt": { "en": "Your name?", "ar": "ما اسمك؟" }
    })))
    .await;
    let dialog = h.dialog();
    assert_eq!(dialog.get_attribute("dir").as_deref(), Some("rtl"));
    assert_eq!(dialog.get_attribute("lang").as_deref(), Some("ar"));
    assert_eq!(computed(&dialog, "direction"), "rtl");
    assert!(h.textbox("ما اسمك؟").is_some());
    for name in ["ليس الآن", "إغلاق", "أفضّل عدم الإجابة", "حفظ"] {
        assert!(h.button(name).is_some(), "{name}");
    }
    // Mirrored: "bottom-right" sits at the inline end, the left edge in rtl.
    let rect = dialog.get_bounding_client_rect();
    assert_eq!(rect.left(), 16.0);
    h.destroy();

    let mut h = Harness::en();
    h.ask(question(json!({ "kind": "text" }))).await;
    assert_eq!(h.dialog().get_attribute("dir").as_deref(), Some("ltr"));
    h.destroy();
}

#[wasm_bindgen_test]
async fn host_text_takes_its_own_direction_inside_an_rtl_popup() {
    // An untranslated English prompt in an Arabic popup must not have its trailing
    // "?" moved to the front by the rtl context: host-given text is dir="auto".
    let mut h = Harness::mount(look("ar"));
    h.ask(role_choice()).await;
    let root = h.shadow();
    let prompt = root.query_selector("[role=dialog] .q").unwrap().unwrap();
    assert_eq!(prompt.get_attribute("dir").as_deref(), Some("auto"));
    assert_eq!(computed(&prompt, "direction"), "ltr");
    let option = h.button("Junior employee").unwrap();
    assert_eq!(option.get_attribute("dir").as_deref(), Some("auto"));
    h.destroy();
}

#[wasm_bindgen_test]
async fn corner_and_dark_scheme_come_from_the_look() {
    let mut h = Harness::mount(Look {
        placement: Placement::TopLeft,
        theme: Theme {
            accent: "#2A5383".to_owned(),
            color_scheme: ColorScheme::Dark,
        },
        locale: "en".to_owned(),
    });
    h.ask(role_choice()).await;
    let dialog = h.dialog();
    // Computed, not measured: the entrance animation may still be moving it.
    assert_eq!(
        (computed(&dialog, "top"), computed(&dialog, "left")),
        ("16px".to_owned(), "16px".to_owned())
    );
    assert_eq!(computed(&dialog, "background-color"), "rgb(31, 31, 31)");
    assert_eq!(computed(&dialog, "color"), "rgb(241, 241, 241)");
    h.destroy();
}

#[wasm_bindgen_test]
async fn a_light_accent_gets_dark_text_through_custom_properties() {
    let mut h = Harness::mount(Look {
        placement: Placement::BottomRight,
        theme: Theme {
            accent: "#FFE066".to_owned(),
            color_scheme: ColorScheme::Light,
        },
        locale: "en".to_owned(),
    });
    h.ask(question(json!({ "kind": "text" }))).await;
    let style = h.host().style();
    assert_eq!(
        style.get_property_value("--trickle-accent").unwrap(),
        "#ffe066"
    );
    assert_eq!(
        style.get_property_value("--trickle-on-accent").unwrap(),
        "#000000"
    );
    let save = h.button("Save").unwrap();
    assert_eq!(computed(&save, "background-color"), "rgb(255, 224, 102)");
    assert_eq!(computed(&save, "color"), "rgb(0, 0, 0)");
    assert_eq!(
        h.host()
            .get_attribute("style")
            .map(|s| s.contains("--trickle-accent")),
        Some(true)
    );
    assert!(
        h.all("[style]").is_empty(),
        "no style attribute inside the shadow root"
    );
    h.destroy();
}

fn assert_at_least_44px(el: &Element, what: &str) {
    let rect = el.get_bounding_client_rect();
    assert!(
        rect.width() >= 44.0 && rect.height() >= 44.0,
        "{what}: {}x{}",
        rect.width(),
        rect.height()
    );
}

#[wasm_bindgen_test]
async fn ids_are_unique_controls_are_named_and_targets_are_at_least_44px() {
    let mut h = Harness::en();
    let multichoice = question(json!({
        "id": "m", "kind": "multichoice", "allowOther": true, "declinable": true,
        "options": [{ "value": "a", "label": "Alpha" }, { "value": "b", "label": "Beta" }]
    }));
    for (q, reveal) in [(role_choice(), "Other"), (multichoice, "")] {
        h.ask(q).await;
        if reveal.is_empty() {
            // Multichoice: tick "Other" (the last checkbox) to reveal its text box.
            let boxes = h.all("input[type=checkbox]");
            boxes
                .last()
                .unwrap()
                .clone()
                .dyn_into::<HtmlElement>()
                .unwrap()
                .click();
            yew::scheduler::flush().await;
        } else {
            h.click(reveal).await;
            h.click("Why we ask").await;
        }

        let ids: Vec<String> = h.all("[id]").iter().map(|e| e.id()).collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(ids.len(), unique.len(), "{ids:?}");
        for input in h.all("input") {
            let label = h.label_of(&input);
            assert!(
                label.as_deref().is_some_and(|l| !l.is_empty()),
                "{:?}",
                input.outer_html()
            );
            // A checkbox's target is its whole label row; a text box is itself.
            match input.closest("label").unwrap() {
                Some(row) => assert_at_least_44px(&row, &label.unwrap()),
                None => assert_at_least_44px(&input, &label.unwrap()),
            }
        }
        for button in h.all("button") {
            let name = accessible_name(&button);
            assert!(!name.is_empty());
            assert_at_least_44px(&button, &name);
        }
    }
    h.destroy();
}

// ---------------------------------------------------------------------------
// Isolation

#[wasm_bindgen_test]
async fn page_css_does_not_reach_in_and_popup_css_does_not_leak_out() {
    // A hostile page: big root font, styled buttons and divs, all !important.
    let page_css = document().create_element("style").unwrap();
    page_css.set_text_content(Some(
        "html{font-size:40px!important}
         button{font-size:3rem!important;color:rgb(255,0,0)!important;padding:0!important}
         div{font-family:serif!important;line-height:3!important;display:block;transform:rotate(3deg)!important;filter:invert(1)!important;opacity:0.3!important;width:2000px!important}
         p{margin:30px!important}",
    ));
    document().head().unwrap().append_child(&page_css).unwrap();
    let page_button = document().create_element("button").unwrap();
    page_button.set_text_content(Some("Host button"));
    document()
        .body()
        .unwrap()
        .append_child(&page_button)
        .unwrap();
    let page_p = document().create_element("p").unwrap();
    document().body().unwrap().append_child(&page_p).unwrap();
    let props = [
        "font-size",
        "color",
        "padding-top",
        "min-height",
        "border-top-width",
        "font-family",
        "margin-top",
        "box-sizing",
    ];
    let before: Vec<String> = props
        .iter()
        .map(|p| computed(&page_button, p))
        .chain(props.iter().map(|p| computed(&page_p, p)))
        .collect();
    let body_before: Vec<String> = props
        .iter()
        .map(|p| computed(&document().body().unwrap(), p))
        .collect();

    let mut h = Harness::en();
    h.ask(role_choice()).await;

    // Out: the page's own elements are exactly as before.
    let after: Vec<String> = props
        .iter()
        .map(|p| computed(&page_button, p))
        .chain(props.iter().map(|p| computed(&page_p, p)))
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        body_before,
        props
            .iter()
            .map(|p| computed(&document().body().unwrap(), p))
            .collect::<Vec<_>>()
    );
    // In: the popup keeps its px sizes and colours.
    let option = h.button("Junior employee").unwrap();
    assert_eq!(computed(&option, "font-size"), "15px");
    assert_eq!(computed(&option, "color"), "rgb(27, 27, 27)");
    assert_eq!(computed(&option, "padding-top"), "8px");
    let dialog = h.dialog();
    assert_eq!(computed(&dialog, "line-height"), "21px");
    assert_ne!(computed(&dialog, "font-family"), "serif");
    let prompt = h
        .shadow()
        .get_element_by_id(&dialog.get_attribute("aria-labelledby").unwrap())
        .unwrap();
    assert_eq!(computed(&prompt, "margin-top"), "0px");
    // The host element itself is reset and positioned by nothing from the page.
    let host = h.host();
    for (property, value) in [
        ("line-height", "normal"),
        ("opacity", "1"),
        ("transform", "none"),
        ("filter", "none"),
    ] {
        assert_eq!(computed(&host, property), value, "host {property}");
    }
    assert_eq!(computed(&dialog, "width"), "360px");

    h.destroy();
    page_css.remove();
    page_button.remove();
    page_p.remove();
}

#[wasm_bindgen_test]
async fn styles_come_from_one_adopted_stylesheet_and_no_style_element() {
    let head_before = document().head().unwrap().child_element_count();
    let mut h = Harness::en();
    h.ask(role_choice()).await;
    assert_eq!(
        document().head().unwrap().child_element_count(),
        head_before,
        "nothing added to <head>"
    );
    assert_eq!(h.shadow().adopted_style_sheets().length(), 1);
    assert!(h.all("style, link").is_empty());
    assert_eq!(
        document()
            .query_selector_all("[data-trickle-host]")
            .unwrap()
            .length(),
        1
    );
    h.destroy();
}

// ---------------------------------------------------------------------------
// Markup

/// Appends the popup's markup (the shadow root after the live region, whose
/// announcements land on a timer) under the heading `state`.
fn record(h: &Harness, markup: &mut String, state: &str) {
    let html = h.shadow().inner_html();
    let popup = html
        .split_once("</div><div>")
        .and_then(|(_, rest)| rest.strip_suffix("</div>"))
        .expect("the live region, then the popup's root");
    markup.push_str("== ");
    markup.push_str(state);
    markup.push('\n');
    markup.push_str(popup);
    markup.push('\n');
}

#[wasm_bindgen_test]
async fn every_screen_keeps_its_reviewed_markup() {
    // Elements, attributes and their order, classes and text of every kind of
    // screen and state, as reviewed in tests/ui-markup.txt (recorded from the
    // popup before its elements were built without html!).
    let mut markup = String::new();
    let mut h = Harness::en();
    record(&h, &mut markup, "hidden");
    h.show(view(role_choice(), 2, 3)).await;
    record(&h, &mut markup, "choice");
    h.click("Why we ask").await;
    record(&h, &mut markup, "why open");
    h.click("Other").await;
    record(&h, &mut markup, "other open");
    h.click("Save").await;
    record(&h, &mut markup, "other refused");
    h.click("Why we ask").await;
    h.click("Other").await;
    record(&h, &mut markup, "closed again");

    h.show(view(
        question(json!({
            "id": "m", "kind": "multichoice", "allowOther": true,
            "options": [{ "value": "a", "label": "A" }, { "value": "b", "label": "B" }]
        })),
        1,
        1,
    ))
    .await;
    record(&h, &mut markup, "multi");
    let boxes = h.all("input[type=checkbox]");
    for i in [1, 2] {
        boxes[i].clone().dyn_into::<HtmlElement>().unwrap().click();
        yew::scheduler::flush().await;
    }
    record(&h, &mut markup, "multi ticked");
    h.click("Save").await;
    record(&h, &mut markup, "multi refused");

    for (i, kind) in ["text", "email", "tel", "url", "number", "date"]
        .into_iter()
        .enumerate()
    {
        let q = question(json!({
            "id": format!("t{i}"), "field": "company.name", "kind": kind, "declinable": i % 2 == 0
        }));
        h.show(view(q, 1, 1)).await;
        record(&h, &mut markup, kind);
    }
    h.click("Save").await;
    record(&h, &mut markup, "date refused");

    h.show(Screen::Question(QuestionView {
        question: question(json!({
            "id": "c", "kind": "text", "suggest": "emailDomain", "why": "w"
        })),
        stage: "s".into(),
        position: 1,
        total: 2,
        suggestion: Some("Northwind".into()),
    }))
    .await;
    record(&h, &mut markup, "suggest");
    h.click("No").await;
    record(&h, &mut markup, "suggest no");
    h.show(Screen::Thanks).await;
    record(&h, &mut markup, "thanks");
    h.show(Screen::Hidden).await;
    record(&h, &mut markup, "hidden again");
    h.destroy();

    let mut h = Harness::mount(Look {
        placement: Placement::TopLeft,
        theme: Theme {
            accent: "#ffee00".into(),
            color_scheme: ColorScheme::Dark,
        },
        locale: "ar".into(),
    });
    h.show(view(role_choice(), 1, 1)).await;
    record(&h, &mut markup, "ar");
    h.destroy();

    let reviewed = include_str!("ui-markup.txt");
    for (now, then) in markup.lines().zip(reviewed.lines()) {
        assert_eq!(now, then);
    }
    assert_eq!(markup.lines().count(), reviewed.lines().count());
}
