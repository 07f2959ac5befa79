//! A real panic inside the wasm in a timer the widget set, seen from the page:
//! reported once, not left as an uncaught error of the host page, the widget stopped
//! for good.
//! Run with `--features test-panic` (scripts/test.sh does).
#![cfg(all(target_arch = "wasm32", feature = "test-panic"))]

mod panic_probe;

use panic_probe::{assert_reported_once_then_stopped, popup_on_page, seen, settle, Seen, Trickle};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_panic_in_a_timer_is_reported_once_and_not_left_uncaught() {
    let trickle = Trickle::start().await;
    assert!(
        popup_on_page(),
        "the first question is on screen before the panic"
    );
    trickle.track("trickle:test-panic-later");
    // The call itself does nothing visible; the timer panics later.
    assert_eq!(
        seen(),
        Seen {
            lines: vec![],
            errors: vec![],
            uncaught: vec![]
        }
    );
    settle().await;
    assert_reported_once_then_stopped(&trickle, "test panic in a timer").await;
}
