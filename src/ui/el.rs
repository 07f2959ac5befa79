//! The popup's elements, built by a few small functions instead of `html!`.
//!
//! `html!` expands every element inline where it is written: the attribute boxes,
//! the listener array, the children's vector and the conversions of each. The popup
//! writes about thirty elements, so that code came thirty times over; here it is
//! written once, and an element is one call with its attributes, usually a fixed
//! table. The trees are the ones `html!` built: the same elements, attributes in
//! the same order, and, where a part comes and goes, an empty placeholder keeping
//! its place in the list (Yew pairs the unkeyed children of a list from the end, so
//! a list that changed length would pair the wrong elements and lose typed text or
//! focus).

use std::rc::Rc;

use yew::html::{onclick, onsubmit};
use yew::virtual_dom::listeners::Listeners;
use yew::virtual_dom::{AttributeOrProperty, Attributes, Key, Listener, VList, VTag, VText};
use yew::{AttrValue, Callback, Html, MouseEvent, NodeRef, SubmitEvent};

/// A fixed attribute list, in the order the element gets the attributes.
pub(crate) type Attrs = &'static [(&'static str, AttributeOrProperty)];

/// A fixed attribute value, for [`Attrs`] tables.
pub(crate) const fn fixed(value: &'static str) -> AttributeOrProperty {
    AttributeOrProperty::Static(value)
}

/// An attribute value that may be left out (`None`: the attribute is absent).
pub(crate) fn maybe(value: Option<&'static str>) -> Option<AttributeOrProperty> {
    value.map(fixed)
}

/// `<name attrs..>children</name>`, with an optional listener and node ref.
pub(crate) fn el(
    name: &'static str,
    attrs: Attributes,
    listener: Option<Rc<dyn Listener>>,
    node_ref: NodeRef,
    children: Vec<Html>,
) -> Html {
    let listeners = match listener {
        Some(listener) => Listeners::Pending(Box::new([Some(listener)])),
        None => Listeners::None,
    };
    keyed(name, None, attrs, listeners, node_ref, children)
}

/// An element with every part given.
///
/// Built with `VTag::__new_other`, the constructor `html!` itself expands to (hidden
/// from Yew's docs, but the macro's output calls it from every crate, and Yew is
/// pinned): `VTag::new` and `add_children` would bring `to_vlist_mut` and the tag
/// name's lowercasing along.
pub(crate) fn keyed(
    name: &'static str,
    key: Option<Key>,
    attrs: Attributes,
    listeners: Listeners,
    node_ref: NodeRef,
    children: Vec<Html>,
) -> Html {
    VTag::__new_other(
        AttrValue::Static(name),
        node_ref,
        key,
        attrs,
        listeners,
        VList::with_children(children, None).into(),
    )
    .into()
}

/// An element with fixed attributes, no listener and one child.
pub(crate) fn fixed_el(name: &'static str, attrs: Attrs, child: Html) -> Html {
    el(
        name,
        Attributes::Static(attrs),
        None,
        NodeRef::default(),
        vec![child],
    )
}

/// A `<button>` with fixed attributes that runs `onclick`, labelled by `label`.
pub(crate) fn button(attrs: Attrs, onclick: Callback<MouseEvent>, label: Html) -> Html {
    el(
        "button",
        Attributes::Static(attrs),
        click(onclick),
        NodeRef::default(),
        vec![label],
    )
}

/// A `<form>` (`novalidate`, class `i`: the popup checks answers itself) that
/// runs `onsubmit`.
pub(crate) fn form(onsubmit: Callback<SubmitEvent>, children: Vec<Html>) -> Html {
    const FORM: Attrs = &[("novalidate", fixed("novalidate")), ("class", fixed("i"))];
    el(
        "form",
        Attributes::Static(FORM),
        Some(Rc::new(onsubmit::Wrapper::new(onsubmit))),
        NodeRef::default(),
        children,
    )
}

/// An `<input>` (it has no children); `checked` is managed when given.
pub(crate) fn input(
    attrs: Attributes,
    checked: Option<bool>,
    listener: Rc<dyn Listener>,
    node_ref: NodeRef,
) -> Html {
    VTag::__new_input(
        None,
        checked,
        node_ref,
        None,
        attrs,
        Listeners::Pending(Box::new([Some(listener)])),
    )
    .into()
}

/// A click listener.
pub(crate) fn click(onclick: Callback<MouseEvent>) -> Option<Rc<dyn Listener>> {
    Some(Rc::new(onclick::Wrapper::new(onclick)))
}

/// Text (never markup).
pub(crate) fn text(value: impl Into<AttrValue>) -> Html {
    VText::new(value).into()
}

/// Text borrowed from the config, copied once (not through a `String` first).
pub(crate) fn copy(value: &str) -> Html {
    VText::new(AttrValue::Rc(Rc::from(value))).into()
}

/// Children in one list, in order.
pub(crate) fn list(children: Vec<Html>) -> Html {
    VList::with_children(children, None).into()
}
