//! A real panic inside the wasm during an export call (`track`), seen from the page:
//! reported once, nothing thrown into the host, the widget stopped for good.
//! Run with `--features test-panic` (scripts/test.sh does).
#![cfg(all(target_arch = "wasm32", feature = "test-panic"))]

mod panic_probe;

use panic_probe::{assert_reported_once_then_stopped, popup_on_page, Trickle};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_panic_in_an_export_call_is_reported_once_and_stops_the_widget() {
    let trickle = Trickle::start().await;
    assert!(
        popup_on_page(),
        "the first question is on screen before the panic"
    );
    trickle.track("trickle:test-panic");
    assert_reported_once_then_stopped(&trickle, "test panic in track()").await;
}
