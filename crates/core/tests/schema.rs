//! The committed `config.schema.json` is generated from the config types and must
//! stay up to date. Run with `cargo test -p trickle-core --features schema`;
//! regenerate with `TRICKLE_UPDATE_SCHEMA=1 cargo test -p trickle-core --features schema --test schema`.
#![cfg(feature = "schema")]

use std::path::PathBuf;

use trickle_core::config::json_schema;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.schema.json")
}

fn generated() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap();
    text.push('\n');
    text
}

#[test]
fn committed_config_schema_matches_the_types() {
    let fresh = generated();
    if std::env::var_os("TRICKLE_UPDATE_SCHEMA").is_some() {
        std::fs::write(committed_path(), &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == fresh,
        "crates/core/config.schema.json is out of date; regenerate with \
         TRICKLE_UPDATE_SCHEMA=1 cargo test -p trickle-core --features schema --test schema"
    );
}

#[test]
fn schema_rejects_unknown_keys_and_lists_the_kinds() {
    let schema = json_schema();
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["required"],
        serde_json::json!(["endpoint", "stages"])
    );
    let text = schema.to_string();
    for kind in [
        "text",
        "email",
        "tel",
        "url",
        "number",
        "date",
        "choice",
        "multichoice",
    ] {
        assert!(text.contains(&format!("\"{kind}\"")), "{kind} missing");
    }
    assert!(text.contains("bottom-right") && text.contains("maxQuestionsPerLogin"));
}
