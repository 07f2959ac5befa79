//! The profile read's `suggestions` (contract sections 5 and 6, v2), over HTTP: a
//! stored work email suggests the company for the configured text question that
//! takes a suggestion, until that field is known; free mail suggests nothing.

mod common;

use common::*;
use rstest::rstest;
use serde_json::{json, Value};
use trickle_collector::Settings;

const CONFIG: &str = r#"{
  "endpoint": "/v1/answers",
  "stages": [{ "id": "basics", "minLogins": 1, "questions": [
    { "id": "email", "field": "email", "kind": "email", "prompt": "Your email?" },
    { "id": "company", "field": "company.name", "kind": "text", "prompt": "Your company?",
      "suggest": "emailDomain" }
  ]}]
}"#;

fn answer(id: &str, question: &str, field: &str, value: Value) -> Value {
    json!({ "id": id, "questionId": question, "stage": "basics", "field": field,
        "status": "answered", "value": value, "answeredAt": "2026-12-01T10:00:00.000Z",
        "loginsCount": 1 })
}

async fn post(server: &Server, user: &str, answers: Vec<Value>) {
    let body = json!({ "userId": user, "answers": answers,
        "context": { "url": "https://app.example/", "locale": "en", "widget": "trickle/test" } });
    let response = client()
        .post(server.url("/v1/answers"))
        .json(&body)
        .send()
        .await
        .expect("post");
    assert!(response.status().is_success(), "{}", response.status());
}

async fn read(server: &Server, user: &str) -> Value {
    client()
        .get(server.url(&format!("/v1/profiles/{user}")))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

#[rstest]
#[tokio::test]
async fn a_stored_work_email_suggests_the_company_until_the_company_is_known(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let settings = Settings::new(trickle_collector::validate::load_config(CONFIG).unwrap());
    let server = Server::start(engine, settings).await;

    post(
        &server,
        "grace",
        vec![answer(
            "a1",
            "email",
            "email",
            json!("grace@mail.northwind.co.uk"),
        )],
    )
    .await;
    assert_eq!(
        read(&server, "grace").await["suggestions"],
        json!({ "company.name": "Northwind" })
    );

    // Confirmed with "Yes": stored like any answer, and nothing is suggested any more.
    let mut confirmed = answer("a2", "company", "company.name", json!("Northwind"));
    confirmed["suggested"] = json!(true);
    post(&server, "grace", vec![confirmed]).await;
    let body = read(&server, "grace").await;
    assert_eq!(body["profile"]["company"]["name"], json!("Northwind"));
    assert!(body.get("suggestions").is_none(), "{body}");

    post(
        &server,
        "ada",
        vec![answer("b1", "email", "email", json!("ada@gmail.com"))],
    )
    .await;
    assert!(
        read(&server, "ada").await.get("suggestions").is_none(),
        "free mail"
    );
    assert!(
        read(&server, "nobody").await.get("suggestions").is_none(),
        "nothing stored"
    );
    server.stop().await;
}

async fn read_status(server: &Server, path: &str) -> (u16, Value) {
    let response = client().get(server.url(path)).send().await.expect("get");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[rstest]
#[tokio::test]
async fn the_read_s_email_domain_hint_suggests_when_no_email_is_stored(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let settings = Settings::new(trickle_collector::validate::load_config(CONFIG).unwrap());
    let server = Server::start(engine, settings).await;
    let (status, body) = read_status(
        &server,
        "/v1/profiles/grace?emailDomain=Mail.Northwind.co.uk",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["suggestions"], json!({ "company.name": "Northwind" }));
    let (_, body) = read_status(&server, "/v1/profiles/grace?emailDomain=gmail.com").await;
    assert!(body.get("suggestions").is_none(), "free mail: {body}");
}

#[rstest]
#[tokio::test]
async fn a_read_whose_email_domain_is_not_a_domain_is_refused(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let settings = Settings::new(trickle_collector::validate::load_config(CONFIG).unwrap());
    let server = Server::start(engine, settings).await;
    for bad in [
        "grace%40northwind.example",
        "northwind",
        "north%20wind.example",
        "",
    ] {
        let (status, body) =
            read_status(&server, &format!("/v1/profiles/grace?emailDomain={bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_email_domain", "{bad}");
        assert_eq!(body["path"], "emailDomain");
    }
}
