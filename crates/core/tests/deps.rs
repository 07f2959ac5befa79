//! The core ships inside the widget's wasm and runs natively in the collector:
//! no browser crate, and none of the heavy crates the size budget rules out, may
//! enter its (non-dev) dependency tree.

use std::process::Command;

#[test]
fn dependency_tree_has_no_browser_or_heavy_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "trickle-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        tree.contains("serde_json"),
        "unexpected tree output: {tree}"
    );
    let forbidden = [
        "yew",
        "web-sys",
        "js-sys",
        "wasm-bindgen",
        "gloo",
        "regex",
        "chrono",
        "url ",
        "idna",
        "schemars",
        // The RFC 3339 tests' oracle only; core parses timestamps itself.
        "time",
    ];
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        for bad in forbidden {
            assert!(
                !name.starts_with(bad.trim()),
                "{name} is in trickle-core's dependency tree"
            );
        }
    }
}
