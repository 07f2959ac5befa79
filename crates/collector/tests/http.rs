//! Every route and every refusal of the collector, over real HTTP on loopback,
//! each test on both stores (SQLite and PostgreSQL) unless it is about one.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use rstest::rstest;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trickle_collector::auth::{AdminToken, Secret};

async fn post(server: &Server, body: &Value) -> reqwest::Response {
    client()
        .post(server.url("/v1/answers"))
        .json(body)
        .send()
        .await
        .expect("post")
}

async fn profile(server: &Server, user: &str) -> reqwest::Response {
    client()
        .get(server.url(&format!("/v1/profiles/{}", encode(user))))
        .send()
        .await
        .expect("get")
}

// Percent-encodes a user id for a path segment (`auth0|x` has a `|`).
fn encode(user: &str) -> String {
    user.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json body")
}

#[rstest]
#[tokio::test]
async fn healthz_is_ok_while_the_store_answers(#[values(Sqlite, Postgres)] engine: Engine) {
    let server = Server::start(engine, settings()).await;
    let response = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await, json!({ "status": "ok" }));
    server.stop().await;
}

#[tokio::test]
async fn the_database_file_is_created_and_migrated_on_first_start() {
    let server = Server::start(Sqlite, settings()).await;
    let Location::Sqlite(path) = &server.db else {
        unreachable!("started on SQLite")
    };
    assert!(path.exists());
    let conn = rusqlite::Connection::open(path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn an_answer_is_stored_and_merged_into_the_profile_at_its_dot_path(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let body = envelope(
        "auth0|5f7c8ec7",
        vec![
            answered("a1", "role", json!("senior")),
            answered("a2", "name", json!("  Ada  ")),
            answered("a3", "size", json!(42)),
            answered("a4", "topics", json!(["api", "reports"])),
        ],
    );
    let response = post(&server, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_of(response).await,
        json!({ "stored": 4, "duplicates": 0 })
    );

    let response = profile(&server, "auth0|5f7c8ec7").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(response).await;
    assert_eq!(body["userId"], "auth0|5f7c8ec7");
    assert_eq!(
        body["profile"],
        json!({ "name": "Ada", "company": { "role": "senior", "size": 42 }, "interests": ["api", "reports"] })
    );
    assert_eq!(
        body["promptState"],
        json!({ "declined": [], "snoozed": [] })
    );
    let answers = body["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 4);
    assert_eq!(answers[0]["id"], "a1");
    assert_eq!(answers[0]["questionId"], "role");
    assert_eq!(answers[0]["status"], "answered");
    assert!(answers[0]["receivedAt"].as_str().unwrap().ends_with('Z'));
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_repeated_answer_id_with_the_same_content_is_accepted_and_ignored(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let first = envelope("u1", vec![answered("same-id", "name", json!("First"))]);
    assert_eq!(
        json_of(post(&server, &first).await).await,
        json!({ "stored": 1, "duplicates": 0 })
    );
    // A retry from another page: the context differs, the answer does not.
    let mut retry = envelope("u1", vec![answered("same-id", "name", json!("First"))]);
    retry["context"]["url"] = json!("https://app.example.com/elsewhere");
    let response = post(&server, &retry).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_of(response).await,
        json!({ "stored": 0, "duplicates": 1 })
    );
    assert_eq!(answer_rows(&server.db, "same-id").await, 1);
    let body = json_of(profile(&server, "u1").await).await;
    assert_eq!(body["profile"]["name"], "First");
    assert_eq!(body["answers"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_repeated_answer_id_with_other_content_is_a_409_naming_it_and_nothing_of_that_post_is_stored(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let first = envelope("u1", vec![answered("same-id", "role", json!("senior"))]);
    assert_eq!(post(&server, &first).await.status(), StatusCode::OK);

    // Each piece of content on its own makes a conflict.
    let changes: Vec<(&str, Value)> = vec![
        ("value", json!("junior")),
        ("answeredAt", json!("2026-11-30T15:00:01.000Z")),
        ("loginsCount", json!(4)),
        ("other", json!(true)),
    ];
    for (key, changed) in changes {
        let mut conflicting = answered("same-id", "role", json!("senior"));
        conflicting[key] = changed;
        // A fresh answer before it in the same post must not be stored either.
        let body = envelope(
            "u1",
            vec![answered("fresh-id", "name", json!("Ada")), conflicting],
        );
        let response = post(&server, &body).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{key}");
        let error = json_of(response).await;
        assert_eq!(error["error"], "id_conflict", "{key}");
        assert_eq!(error["path"], "answers[1].id", "{key}");
        assert_eq!(answer_rows(&server.db, "fresh-id").await, 0, "{key}");
    }
    // Another question under the same id is a conflict too.
    let other_question = envelope("u1", vec![answered("same-id", "name", json!("Ada"))]);
    let response = post(&server, &other_question).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(json_of(response).await["path"], "answers[0].id");

    let body = json_of(profile(&server, "u1").await).await;
    assert_eq!(body["profile"], json!({ "company": { "role": "senior" } }));
    assert_eq!(body["answers"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn the_same_id_twice_in_one_post_with_different_content_is_a_409_and_nothing_is_stored(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let body = envelope(
        "u1",
        vec![
            answered("dup", "name", json!("A")),
            answered("dup", "name", json!("B")),
        ],
    );
    let response = post(&server, &body).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(json_of(response).await["path"], "answers[1].id");
    assert_eq!(answer_rows(&server.db, "dup").await, 0);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn the_same_answer_id_posted_for_two_users_is_stored_for_each(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    for (user, name) in [("alice", "Alice"), ("bob", "Bob")] {
        let body = envelope(user, vec![answered("shared-id", "name", json!(name))]);
        let response = post(&server, &body).await;
        assert_eq!(response.status(), StatusCode::OK, "{user}");
        assert_eq!(
            json_of(response).await,
            json!({ "stored": 1, "duplicates": 0 }),
            "{user}"
        );
    }
    assert_eq!(answer_rows(&server.db, "shared-id").await, 2);
    for (user, name) in [("alice", "Alice"), ("bob", "Bob")] {
        let body = json_of(profile(&server, user).await).await;
        assert_eq!(body["profile"]["name"], name, "{user}");
        assert_eq!(body["answers"][0]["id"], "shared-id", "{user}");
    }
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn the_same_id_twice_in_one_post_is_stored_once(#[values(Sqlite, Postgres)] engine: Engine) {
    let server = Server::start(engine, settings()).await;
    let body = envelope(
        "u1",
        vec![
            answered("dup", "name", json!("A")),
            answered("dup", "name", json!("A")),
        ],
    );
    assert_eq!(
        json_of(post(&server, &body).await).await,
        json!({ "stored": 1, "duplicates": 1 })
    );
    assert_eq!(answer_rows(&server.db, "dup").await, 1);
    server.stop().await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_of_one_answer_id_from_many_clients_store_exactly_one_row(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let body = envelope("racer", vec![answered("raced-id", "role", json!("junior"))]);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        // A client each: separate connections, so the posts really race.
        let (url, body) = (server.url("/v1/answers"), body.clone());
        tasks.push(tokio::spawn(async move {
            let response = client().post(url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }));
    }
    let mut stored = 0;
    let mut duplicates = 0;
    for task in tasks {
        let result = task.await.unwrap();
        stored += result["stored"].as_u64().unwrap();
        duplicates += result["duplicates"].as_u64().unwrap();
    }
    assert_eq!((stored, duplicates), (1, 15));
    assert_eq!(answer_rows(&server.db, "raced-id").await, 1);
    let body = json_of(profile(&server, "racer").await).await;
    assert_eq!(body["answers"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn declines_and_snoozes_become_prompt_state_not_profile_values(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let body = envelope(
        "u2",
        vec![
            without_value("d1", "phone", "declined"),
            without_value("s1", "email", "snoozed"),
        ],
    );
    assert_eq!(post(&server, &body).await.status(), StatusCode::OK);
    let body = json_of(profile(&server, "u2").await).await;
    assert_eq!(body["profile"], json!({}));
    assert_eq!(body["promptState"]["declined"], json!(["contact.phone"]));
    // Snoozed at loginsCount 3; the fixture's cadence.snoozeLogins is the default 1.
    assert_eq!(
        body["promptState"]["snoozed"],
        json!([{ "stage": "contact", "untilLogins": 4 }])
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_snooze_holds_until_its_logins_count_plus_the_configured_snooze_logins(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    settings.config.cadence.snooze_logins = 3;
    let server = Server::start(engine, settings).await;
    let mut snooze = without_value("s1", "size", "snoozed");
    snooze["loginsCount"] = json!(7);
    let body = envelope("u2", vec![snooze]);
    assert_eq!(post(&server, &body).await.status(), StatusCode::OK);
    let body = json_of(profile(&server, "u2").await).await;
    assert_eq!(
        body["promptState"]["snoozed"],
        json!([{ "stage": "company", "untilLogins": 10 }])
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn an_answer_that_arrives_late_does_not_overwrite_a_newer_one(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let mut newer = answered("n", "name", json!("Newer"));
    newer["answeredAt"] = json!("2026-11-30T16:00:00.000Z");
    let mut older = answered("o", "name", json!("Older"));
    older["answeredAt"] = json!("2026-11-30T15:00:00.000Z");
    post(&server, &envelope("u3", vec![newer])).await;
    post(&server, &envelope("u3", vec![older])).await;
    let body = json_of(profile(&server, "u3").await).await;
    assert_eq!(body["profile"]["name"], "Newer");
    assert_eq!(
        body["answers"].as_array().unwrap().len(),
        2,
        "both answers are kept in the log"
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_far_future_answered_at_cannot_pin_a_field_and_a_later_real_answer_wins(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let mut pinned = answered("future", "name", json!("Pinned"));
    pinned["answeredAt"] = json!("9999-12-31T00:00:00.000Z");
    assert_eq!(
        post(&server, &envelope("u9", vec![pinned])).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        json_of(profile(&server, "u9").await).await["profile"]["name"],
        "Pinned"
    );
    // Answered after the collector received the far-future one.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut real = answered("real", "name", json!("Real"));
    real["answeredAt"] = json!(trickle_collector::timestamp::now_utc());
    assert_eq!(
        post(&server, &envelope("u9", vec![real])).await.status(),
        StatusCode::OK
    );
    let body = json_of(profile(&server, "u9").await).await;
    assert_eq!(body["profile"]["name"], "Real");
    // The far-future answeredAt is kept as sent.
    let future = body["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "future")
        .unwrap();
    assert_eq!(future["answeredAt"], "9999-12-31T00:00:00.000Z");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn answered_at_is_stored_as_utc_and_a_bad_timestamp_is_refused(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let mut offset = answered("t1", "name", json!("Ada"));
    offset["answeredAt"] = json!("2026-12-01T01:30:00+02:00");
    assert_eq!(
        post(&server, &envelope("ts", vec![offset])).await.status(),
        StatusCode::OK
    );
    let body = json_of(profile(&server, "ts").await).await;
    assert_eq!(body["answers"][0]["answeredAt"], "2026-11-30T23:30:00.000Z");

    let mut bad = answered("t2", "name", json!("Ada"));
    bad["answeredAt"] = json!("yesterday");
    let response = post(&server, &envelope("ts", vec![bad])).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(response).await["path"], "answers[0].answeredAt");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn json_sent_as_text_plain_by_a_beacon_is_accepted(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let body = envelope("beacon", vec![answered("b1", "name", json!("Bea"))]);
    let response = client()
        .post(server.url("/v1/answers"))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(answer_rows(&server.db, "b1").await, 1);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn an_unknown_field_is_refused_with_422_naming_its_path_and_nothing_is_stored(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let mut wrong = answered("w1", "name", json!("Ada"));
    wrong["field"] = json!("nickname");
    let body = envelope("u4", vec![answered("ok1", "role", json!("junior")), wrong]);
    let response = post(&server, &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json_of(response).await;
    assert_eq!(error["error"], "invalid_answer");
    assert_eq!(error["path"], "answers[1].field");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("answers[1].field: "),
        "{error}"
    );
    // The whole post is refused: the valid first answer is not stored either.
    assert_eq!(answer_rows(&server.db, "ok1").await, 0);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn an_unknown_question_and_an_unknown_option_are_refused_with_their_paths(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let mut unknown_question = answered("q1", "name", json!("Ada"));
    unknown_question["questionId"] = json!("nickname");
    let response = post(&server, &envelope("u5", vec![unknown_question])).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(response).await["path"], "answers[0].questionId");

    let response = post(
        &server,
        &envelope("u5", vec![answered("o1", "role", json!("intern"))]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json_of(response).await;
    assert_eq!(error["path"], "answers[0].value");
    assert!(
        error["message"].as_str().unwrap().contains("intern"),
        "{error}"
    );

    let response = post(
        &server,
        &envelope(
            "u5",
            vec![answered("o2", "topics", json!(["api", "gossip"]))],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(response).await["path"], "answers[0].value");
    assert!(all_answer_ids(&server.db).await.is_empty());
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn other_text_is_accepted_only_where_allow_other_is_set(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let mut other = answered("x1", "role", json!("Chief tinkerer"));
    other["other"] = json!(true);
    assert_eq!(
        post(&server, &envelope("u6", vec![other])).await.status(),
        StatusCode::OK
    );
    let body = json_of(profile(&server, "u6").await).await;
    assert_eq!(body["profile"]["company"]["role"], "Chief tinkerer");
    assert_eq!(body["answers"][0]["other"], true);
    // "interests" has no allowOther: "Other" text there is refused.
    let mut refused = answered("x2", "topics", json!(["api", "gossip"]));
    refused["other"] = json!(true);
    let response = post(&server, &envelope("u6", vec![refused])).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(response).await["path"], "answers[0].other");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_value_of_the_wrong_kind_is_refused(#[values(Sqlite, Postgres)] engine: Engine) {
    let server = Server::start(engine, settings()).await;
    for (id, question, value) in [
        ("k1", "size", json!("many")),
        ("k2", "email", json!("not-an-email")),
        ("k3", "founded", json!("30/11/2026")),
        ("k4", "name", json!(["a"])),
    ] {
        let response = post(
            &server,
            &envelope("u7", vec![answered(id, question, value)]),
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{question}"
        );
        assert_eq!(
            json_of(response).await["path"],
            "answers[0].value",
            "{question}"
        );
    }
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_body_that_is_not_an_envelope_gets_422_with_the_path_and_broken_json_400(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let mut body = envelope("u8", vec![answered("s1", "name", json!("Ada"))]);
    body["answers"][0]["status"] = json!("maybe");
    let response = post(&server, &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json_of(response).await;
    assert_eq!(error["error"], "invalid_envelope");
    assert_eq!(error["path"], "answers[0].status");

    let mut body = envelope("u8", vec![]);
    body["surprise"] = json!(1);
    let response = post(&server, &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = client()
        .post(server.url("/v1/answers"))
        .header("content-type", "application/json")
        .body("{\"userId\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(response).await["error"], "malformed_json");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_form_content_type_is_refused_with_415(#[values(Sqlite, Postgres)] engine: Engine) {
    let server = Server::start(engine, settings()).await;
    let response = client()
        .post(server.url("/v1/answers"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("userId=u")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json_of(response).await["error"], "unsupported_media_type");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_body_over_64_kib_gets_413_and_one_at_the_limit_does_not(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let base = envelope("big", vec![answered("big1", "name", json!("Ada"))]).to_string();
    // Pad with whitespace (valid JSON) to exactly the limit, then one byte over.
    let at_limit = format!("{base}{}", " ".repeat(64 * 1024 - base.len()));
    let response = client()
        .post(server.url("/v1/answers"))
        .header("content-type", "application/json")
        .body(at_limit.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let over = format!("{at_limit} ");
    let response = client()
        .post(server.url("/v1/answers"))
        .header("content-type", "application/json")
        .body(over)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json_of(response).await["error"], "body_too_large");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn more_answers_than_the_cap_in_one_post_get_413(#[values(Sqlite, Postgres)] engine: Engine) {
    let mut settings = settings();
    settings.max_answers_per_request = 3;
    let server = Server::start(engine, settings).await;
    let answers = (0..4)
        .map(|i| answered(&format!("c{i}"), "name", json!("Ada")))
        .collect();
    let response = post(&server, &envelope("capped", answers)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error = json_of(response).await;
    assert_eq!(error["error"], "too_many_answers");
    assert_eq!(error["path"], "answers");
    assert!(all_answer_ids(&server.db).await.is_empty());
    let answers = (0..3)
        .map(|i| answered(&format!("c{i}"), "name", json!("Ada")))
        .collect();
    assert_eq!(
        post(&server, &envelope("capped", answers)).await.status(),
        StatusCode::OK
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn with_a_secret_a_wrong_or_missing_user_hash_gets_401_and_nothing_is_stored(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    let secret = Secret::new("topsecret");
    settings.secret = Some(secret.clone());
    let server = Server::start(engine, settings).await;
    let user = "auth0|5f7c8ec7";
    let good = secret.sign(user);

    let unsigned = envelope(user, vec![answered("h1", "name", json!("Ada"))]);
    let response = post(&server, &unsigned).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(response).await["error"], "bad_user_hash");

    let forged = signed_envelope(
        user,
        &Secret::new("guess").sign(user),
        vec![answered("h2", "name", json!("Ada"))],
    );
    assert_eq!(
        post(&server, &forged).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Another user's valid hash does not work either.
    let borrowed = signed_envelope(
        user,
        &secret.sign("someone-else"),
        vec![answered("h3", "name", json!("Ada"))],
    );
    assert_eq!(
        post(&server, &borrowed).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // An unsigned post learns nothing about the config: 401 before 422.
    let unsigned_bad = envelope(user, vec![answered("h4", "role", json!("intern"))]);
    assert_eq!(
        post(&server, &unsigned_bad).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(all_answer_ids(&server.db).await.is_empty());

    let signed = signed_envelope(user, &good, vec![answered("h5", "name", json!("Ada"))]);
    assert_eq!(post(&server, &signed).await.status(), StatusCode::OK);
    assert_eq!(all_answer_ids(&server.db).await, vec!["h5".to_string()]);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn with_a_secret_a_profile_read_needs_the_hash_header(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    let secret = Secret::new("topsecret");
    settings.secret = Some(secret.clone());
    let server = Server::start(engine, settings).await;
    let user = "auth0|abc";
    let hash = secret.sign(user);
    post(
        &server,
        &signed_envelope(user, &hash, vec![answered("p1", "name", json!("Ada"))]),
    )
    .await;

    let url = server.url(&format!("/v1/profiles/{}", encode(user)));
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(response).await["error"], "bad_user_hash");
    let wrong = client()
        .get(&url)
        .header("X-Trickle-User-Hash", secret.sign("other"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let malformed = client()
        .get(&url)
        .header("X-Trickle-User-Hash", "zz")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::UNAUTHORIZED);
    let right = client()
        .get(&url)
        .header("X-Trickle-User-Hash", &hash)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert_eq!(json_of(right).await["profile"]["name"], "Ada");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn with_a_secret_a_profile_read_without_a_valid_hash_gets_401_and_none_of_the_stored_data(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    let secret = Secret::new("topsecret");
    settings.secret = Some(secret.clone());
    let server = Server::start(engine, settings).await;
    let user = "auth0|private";
    let hash = secret.sign(user);
    let mut role = answered("p1", "role", json!("Quartermaster Zebulon"));
    role["other"] = json!(true);
    let stored = post(
        &server,
        &signed_envelope(
            user,
            &hash,
            vec![role, without_value("p2", "phone", "declined")],
        ),
    )
    .await;
    assert_eq!(stored.status(), StatusCode::OK);

    let url = server.url(&format!("/v1/profiles/{}", encode(user)));
    let without = client().get(&url).send().await.unwrap();
    let wrong = client()
        .get(&url)
        .header("X-Trickle-User-Hash", secret.sign("auth0|someone-else"))
        .send()
        .await
        .unwrap();
    for (what, response) in [("no hash", without), ("a wrong hash", wrong)] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        let body = response.text().await.unwrap();
        for stored in [
            "Zebulon",
            "company",
            "role",
            "contact.phone",
            "p1",
            "profile",
            "answers",
        ] {
            assert!(
                !body.contains(stored),
                "{what}: the 401 body shows {stored:?}: {body}"
            );
        }
    }
    // With the right hash the same read shows it all.
    let right = client()
        .get(&url)
        .header("X-Trickle-User-Hash", &hash)
        .send()
        .await
        .unwrap();
    let body = right.text().await.unwrap();
    assert!(
        body.contains("Zebulon") && body.contains("contact.phone"),
        "{body}"
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_user_with_nothing_stored_reads_as_200_with_an_empty_profile(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let response = profile(&server, "auth0|nobody").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_of(response).await,
        json!({
            "userId": "auth0|nobody",
            "profile": {},
            "promptState": { "declined": [], "snoozed": [] },
            "answers": [],
            "updatedAt": null
        })
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn with_a_secret_a_user_with_nothing_stored_still_needs_the_hash(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    let secret = Secret::new("topsecret");
    settings.secret = Some(secret.clone());
    let server = Server::start(engine, settings).await;
    assert_eq!(
        profile(&server, "nobody").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = client()
        .get(server.url("/v1/profiles/nobody"))
        .header("X-Trickle-User-Hash", secret.sign("nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await["updatedAt"], Value::Null);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_known_user_reads_with_the_contract_shape(#[values(Sqlite, Postgres)] engine: Engine) {
    let server = Server::start(engine, settings()).await;
    let body = envelope(
        "auth0|shape",
        vec![
            answered("s1", "name", json!("Ada")),
            without_value("s2", "phone", "declined"),
            without_value("s3", "size", "snoozed"),
        ],
    );
    assert_eq!(post(&server, &body).await.status(), StatusCode::OK);
    let body = json_of(profile(&server, "auth0|shape").await).await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["answers", "profile", "promptState", "updatedAt", "userId"]
    );
    assert_eq!(body["profile"], json!({ "name": "Ada" }));
    assert_eq!(
        body["promptState"],
        json!({
            "declined": ["contact.phone"],
            "snoozed": [{ "stage": "company", "untilLogins": 4 }]
        })
    );
    let updated_at = body["updatedAt"].as_str().unwrap();
    assert_eq!(
        trickle_collector::timestamp::canonical_utc(updated_at).as_deref(),
        Some(updated_at)
    );
    assert_eq!(body["answers"].as_array().unwrap().len(), 3);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn unknown_routes_and_methods_get_json_404s_and_405s(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let response = client()
        .get(server.url("/v2/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(response).await["error"], "not_found");
    let response = client()
        .get(server.url("/v1/answers"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json_of(response).await["error"], "method_not_allowed");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn the_export_needs_the_admin_token(#[values(Sqlite, Postgres)] engine: Engine) {
    let mut settings = settings();
    settings.admin_token = Some(AdminToken::new("admin-123"));
    let server = Server::start(engine, settings).await;
    let url = server.url("/v1/export.csv");
    let none = client().get(&url).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    assert_eq!(json_of(none).await["error"], "bad_admin_token");
    let wrong = client()
        .get(&url)
        .bearer_auth("admin-124")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = client()
        .get(&url)
        .bearer_auth("admin-123")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn without_an_admin_token_the_export_is_disabled(#[values(Sqlite, Postgres)] engine: Engine) {
    let server = Server::start(engine, settings()).await;
    let response = client()
        .get(server.url("/v1/export.csv"))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_of(response).await["error"], "export_disabled");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn the_export_has_one_row_per_user_and_one_column_per_field_properly_quoted(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    settings.admin_token = Some(AdminToken::new("admin-123"));
    let server = Server::start(engine, settings).await;
    post(
        &server,
        &envelope(
            "auth0|b",
            vec![
                answered("e1", "name", json!("Ada, \"the\" Countess\nof Lovelace")),
                answered("e2", "topics", json!(["api", "billing"])),
                without_value("e3", "phone", "declined"),
            ],
        ),
    )
    .await;
    post(
        &server,
        &envelope(
            "auth0|a",
            vec![
                answered("e4", "size", json!(7)),
                answered("e5", "name", json!("=1+1")),
            ],
        ),
    )
    .await;

    let response = client()
        .get(server.url("/v1/export.csv"))
        .bearer_auth("admin-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "userId",
            "name",
            "company.role",
            "contact.email",
            "contact.phone",
            "company.size",
            "interests",
            "company.founded",
            "declined",
            "updatedAt"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "auth0|a");
    assert_eq!(&rows[0][1], "'=1+1", "a formula is defused");
    assert_eq!(&rows[0][5], "7");
    assert_eq!(&rows[1][0], "auth0|b");
    assert_eq!(&rows[1][1], "Ada, \"the\" Countess\nof Lovelace");
    assert_eq!(&rows[1][6], "api; billing");
    assert_eq!(&rows[1][8], "contact.phone");
    assert!(
        text.contains("\"Ada, \"\"the\"\" Countess\nof Lovelace\""),
        "quoted in the raw text: {text}"
    );
    server.stop().await;
}

fn cors_settings() -> trickle_collector::Settings {
    let mut settings = settings();
    settings.allowed_origins =
        trickle_collector::parse_origins("https://app.example.com, http://localhost:8080").unwrap();
    settings
}

#[rstest]
#[tokio::test]
async fn a_preflight_from_an_allowed_origin_allows_the_post_with_its_headers(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, cors_settings()).await;
    let response = client()
        .request(reqwest::Method::OPTIONS, server.url("/v1/answers"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-api-key")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("content-type") && allowed.contains("x-api-key"),
        "{allowed}"
    );
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn an_origin_not_in_the_list_gets_no_cors_headers(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, cors_settings()).await;
    let preflight = client()
        .request(reqwest::Method::OPTIONS, server.url("/v1/answers"))
        .header("origin", "https://evil.example.net")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let post = client()
        .post(server.url("/v1/answers"))
        .header("origin", "https://evil.example.net")
        .json(&envelope(
            "c1",
            vec![answered("cors1", "name", json!("Ada"))],
        ))
        .send()
        .await
        .unwrap();
    assert!(post.headers().get("access-control-allow-origin").is_none());
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn refusals_to_an_allowed_origin_carry_cors_headers_so_the_widget_can_read_the_status(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, cors_settings()).await;
    let response = client()
        .post(server.url("/v1/answers"))
        .header("origin", "http://localhost:8080")
        .json(&envelope(
            "c2",
            vec![answered("cors2", "role", json!("intern"))],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:8080"
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn without_configured_origins_no_cors_headers_are_sent(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let response = client()
        .get(server.url("/healthz"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    server.stop().await;
}

fn origins(list: &str) -> Vec<String> {
    trickle_collector::parse_origins(list)
        .unwrap_or_else(|e| panic!("{list}: {e}"))
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[test]
fn origins_are_normalised_as_browsers_send_them() {
    assert_eq!(
        origins(" HTTPS://App.Example.COM/ , http://LOCALHOST:8080"),
        ["https://app.example.com", "http://localhost:8080"]
    );
    // A default port is dropped, another one kept.
    assert_eq!(
        origins("https://a.example:443,http://b.example:80,https://c.example:8443"),
        [
            "https://a.example",
            "http://b.example",
            "https://c.example:8443"
        ]
    );
    assert_eq!(origins("http://127.0.0.1:5173/"), ["http://127.0.0.1:5173"]);
    assert_eq!(origins("http://[::1]:8080"), ["http://[::1]:8080"]);
    // One origin written twice is kept once.
    assert_eq!(
        origins("https://a.example,https://A.example/"),
        ["https://a.example"]
    );
    assert!(origins("").is_empty());
    assert!(origins(" , ").is_empty());
}

#[test]
fn an_origin_with_a_path_query_fragment_userinfo_or_another_scheme_is_refused_by_name() {
    for bad in [
        "https://a.example/path",
        "https://a.example//",
        "https://a.example/?",
        "https://a.example?x=1",
        "https://a.example#top",
        "https://user@a.example",
        "https://user:pw@a.example",
        "ftp://a.example",
        "file:///etc/passwd",
        "a.example",
        "https://",
        "*",
    ] {
        let list = format!("https://fine.example, {bad}");
        let error =
            trickle_collector::parse_origins(&list).expect_err(&format!("{bad} was accepted"));
        assert!(error.contains(&format!("{bad:?}")), "{bad}: {error}");
    }
}

#[rstest]
#[tokio::test]
async fn a_request_that_stalls_past_the_timeout_gets_a_json_408(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    settings.request_timeout = Duration::from_millis(300);
    let server = Server::start(engine, settings).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Promise 100 bytes of body and send 10: the handler waits for the rest.
    let head = format!(
        "POST /v1/answers HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"userId\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            response.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&response).contains("\"timeout\"") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no response within 5 s");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"error\":\"timeout\""), "{text}");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn stored_answers_survive_a_restart_on_the_same_database(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    post(
        &server,
        &envelope("keep", vec![answered("k1", "name", json!("Kept"))]),
    )
    .await;
    let db = server.db.clone();
    let dir = server.stop().await;
    let server = Server::start_at(db, settings(), dir).await;
    let body = json_of(profile(&server, "keep").await).await;
    assert_eq!(body["profile"]["name"], "Kept");
    // And a retry after the restart is still a duplicate.
    let response = post(
        &server,
        &envelope("keep", vec![answered("k1", "name", json!("Kept"))]),
    )
    .await;
    assert_eq!(
        json_of(response).await,
        json!({ "stored": 0, "duplicates": 1 })
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_closed_store_makes_health_and_posts_503_with_json_bodies(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open_store(engine, dir.path()).await;
    store.close();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = trickle_collector::AppState::new(settings(), store);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(trickle_collector::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let health = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_of(health).await["error"], "store_unavailable");
    let body = envelope("u", vec![answered("closed1", "name", json!("Ada"))]);
    let post = client()
        .post(format!("{base}/v1/answers"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        post.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "retryable: the widget keeps the answer"
    );
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[rstest]
#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_cannot_block_shutdown(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    settings.shutdown_grace = Duration::from_millis(300);
    let server = Server::start(engine, settings).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(b"POST /v1/answers HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Let the server start reading that request before the stop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(5), server.stop()).await;
    assert!(stopped.is_ok(), "shutdown waited on a stalled connection");
}

#[rstest]
#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected_after_the_idle_timeout(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    settings.idle_timeout = Duration::from_millis(300);
    let server = Server::start(engine, settings).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /v1/answers HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf)).await;
    assert!(read.is_ok(), "still connected after 5 s");
    // Closed (0 bytes, a reset) or told so with a 408: either way it is gone.
    if let Ok(Ok(n)) = read {
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "closed before the timeout"
    );
    server.stop().await;
}

/// Reads one HTTP/1.1 response with a Content-Length body from `stream`.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("a response within 5 s")
            .expect("read");
        assert!(n > 0, "closed before a whole response");
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .expect("content-length");
            if response.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

#[rstest]
#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    settings.idle_timeout = Duration::from_millis(400);
    let server = Server::start(engine, settings).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    for _ in 0..2 {
        // Two requests on one connection: it is kept alive between them.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
            .await
            .unwrap();
        let response = read_response(&mut stream).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(
            !response.to_ascii_lowercase().contains("connection: close"),
            "{response}"
        );
    }
    let idle_since = std::time::Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an idle keep-alive connection was still open after 5 s");
    assert!(
        matches!(read, Ok(0)),
        "expected EOF, got {read:?} {:?}",
        String::from_utf8_lossy(&buf)
    );
    let idle = idle_since.elapsed();
    assert!(
        idle >= Duration::from_millis(300),
        "closed after {idle:?}, before the idle timeout"
    );
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_keep_alive_connection_used_again_within_the_idle_timeout_stays_open(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let mut settings = settings();
    settings.idle_timeout = Duration::from_millis(600);
    let server = Server::start(engine, settings).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Four requests 300 ms apart: 1.2 s in all, twice the idle timeout.
    for _ in 0..4 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let response = read_response(&mut stream).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn a_503_carries_retry_after_and_cors_exposes_it_to_the_widget(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open_store(engine, dir.path()).await;
    store.close();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = trickle_collector::AppState::new(cors_settings(), store);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(trickle_collector::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let body = envelope("u", vec![answered("closed2", "name", json!("Ada"))]);
    let post = client()
        .post(format!("{base}/v1/answers"))
        .header("origin", "https://app.example.com")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::SERVICE_UNAVAILABLE);
    let headers = post.headers();
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let exposed = headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.split(',').any(|h| h.trim() == "retry-after"),
        "{exposed}"
    );
    let health = client()
        .get(format!("{base}/healthz"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.headers()["retry-after"], "5");
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
