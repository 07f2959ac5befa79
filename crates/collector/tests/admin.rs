//! `GET /admin` over HTTP: who may see it, the headers it is sent with, and that
//! the numbers in its tables are the ones that were posted.

mod common;

use std::collections::HashMap;

use common::{client, envelope, pg, settings, Engine, Location, Postgres, Server, Sqlite};
use rstest::rstest;
use scraper::{Html, Selector};
use serde_json::{json, Value};
use trickle_collector::auth::AdminToken;
use trickle_collector::Settings;

const TOKEN: &str = "admin-s3cret";

fn with_token() -> Settings {
    let mut s = settings();
    s.admin_token = Some(AdminToken::new(TOKEN));
    s
}

async fn get_admin(server: &Server, user: &str, password: Option<&str>) -> reqwest::Response {
    let request = client().get(server.url("/admin"));
    let request = match password {
        Some(password) => request.basic_auth(user, Some(password)),
        None => request,
    };
    request.send().await.expect("get /admin")
}

async fn page(server: &Server) -> Html {
    let response = get_admin(server, "marketing", Some(TOKEN)).await;
    assert_eq!(response.status(), 200);
    Html::parse_document(&response.text().await.expect("body"))
}

fn now() -> String {
    trickle_collector::timestamp::now_utc()
}

/// A response of `status` to `question` given now; `value` only when answered.
fn response(id: &str, question: &str, status: &str, value: Option<Value>, other: bool) -> Value {
    let (stage, field) = match question {
        "name" => ("basics", "name"),
        "role" => ("basics", "company.role"),
        "email" => ("contact", "contact.email"),
        "phone" => ("contact", "contact.phone"),
        "topics" => ("company", "interests"),
        other => panic!("no fixture question {other}"),
    };
    let mut answer = json!({
        "id": id, "questionId": question, "stage": stage, "field": field, "status": status,
        "other": other, "answeredAt": now(), "loginsCount": 3
    });
    if let Some(value) = value {
        answer["value"] = value;
    }
    answer
}

fn answered(id: &str, question: &str, value: Value) -> Value {
    response(id, question, "answered", Some(value), false)
}

async fn post(server: &Server, user: &str, answers: Vec<Value>) {
    let response = client()
        .post(server.url("/v1/answers"))
        .json(&envelope(user, answers))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// The rows of the table `#id`: each row's `data-key` and the text of its `td`s.
fn table(html: &Html, id: &str) -> HashMap<String, Vec<String>> {
    let rows = Selector::parse(&format!("table#{id} tbody tr")).expect("selector");
    let cells = Selector::parse("td").expect("selector");
    let mut out = HashMap::new();
    for row in html.select(&rows) {
        let key = row.value().attr("data-key").expect("data-key").to_owned();
        let texts = row
            .select(&cells)
            .map(|cell| cell.text().collect::<String>().trim().to_owned())
            .collect();
        out.insert(key, texts);
    }
    assert!(!out.is_empty(), "table #{id} has no rows");
    out
}

fn cells<'a>(table: &'a HashMap<String, Vec<String>>, key: &str) -> Vec<&'a str> {
    table
        .get(key)
        .unwrap_or_else(|| panic!("no row {key} in {table:?}"))
        .iter()
        .map(String::as_str)
        .collect()
}

#[rstest]
#[tokio::test]
async fn without_an_admin_token_the_page_and_its_stylesheet_do_not_exist(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, settings()).await;
    let response = get_admin(&server, "x", Some("anything")).await;
    assert_eq!(response.status(), 404);
    for asset in ["/admin/admin.css", "/admin/icon.svg"] {
        let response = client().get(server.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{asset}");
    }
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn without_credentials_or_with_a_wrong_password_the_page_is_401_asking_for_basic(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, with_token()).await;
    for password in [None, Some("wrong"), Some(""), Some("admin-s3cre")] {
        let response = get_admin(&server, "marketing", password).await;
        assert_eq!(response.status(), 401, "{password:?}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Basic realm="), "{challenge}");
        let body = response.text().await.unwrap();
        assert!(body.contains("bad_admin_token"), "{body}");
    }
    // The export's bearer scheme is not the page's.
    let bearer = client()
        .get(server.url("/admin"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 401);
    // A header that is not Basic at all.
    let garbage = client()
        .get(server.url("/admin"))
        .header("authorization", "Basic %%%not-base64")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn with_the_token_as_password_the_page_is_html_under_a_strict_csp_with_no_script_or_inline_style(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, with_token()).await;
    // Any user name will do, an empty one too.
    for user in ["marketing", ""] {
        let response = get_admin(&server, user, Some(TOKEN)).await;
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "style-src 'self'",
            "img-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers.contains_key("server-timing"));
        let body = response.text().await.unwrap();
        assert!(body.starts_with("<!DOCTYPE html>"));
        assert!(!body.contains("<script"), "no script on the page");
        assert!(
            !body.contains("style="),
            "no inline style: the CSP blocks it"
        );
        assert!(!body.contains("<style"), "no inline style sheet");
        assert!(body.contains(r#"<link rel="stylesheet" href="/admin/admin.css">"#));
        assert_eq!(
            body.matches("<svg").count(),
            4 + 2,
            "one chart per section and choice question: {body}"
        );
    }
    let css = client()
        .get(server.url("/admin/admin.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains(".swatch.answered"));
    let icon = client()
        .get(server.url("/admin/icon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn the_tables_hold_the_numbers_that_were_posted(#[values(Sqlite, Postgres)] engine: Engine) {
    let server = Server::start(engine, with_token()).await;
    // ann: both basics answered (role senior), email answered, phone declined.
    post(
        &server,
        "ann",
        vec![
            answered("a1", "name", json!("Ann")),
            answered("a2", "role", json!("senior")),
            answered("a3", "email", json!("ann@example.com")),
            response("a4", "phone", "declined", None, false),
        ],
    )
    .await;
    // bob: snoozed the name once, then answered it; role under "Other"; topics.
    post(
        &server,
        "bob",
        vec![
            response("b1", "name", "snoozed", None, false),
            answered("b2", "name", json!("Bob")),
            response("b3", "role", "answered", Some(json!("Founder")), true),
            answered("b4", "topics", json!(["api", "reports"])),
        ],
    )
    .await;
    // cid: put the name off; role senior; one topic.
    post(
        &server,
        "cid",
        vec![
            response("c1", "name", "snoozed", None, false),
            answered("c2", "role", json!("senior")),
            answered("c3", "topics", json!(["api"])),
        ],
    )
    .await;
    // dee: typed "Founder" under Other too.
    post(
        &server,
        "dee",
        vec![response(
            "d1",
            "role",
            "answered",
            Some(json!("Founder")),
            true,
        )],
    )
    .await;

    let html = page(&server).await;

    let fields = table(&html, "fields");
    assert_eq!(cells(&fields, "name")[1..], ["2", "50.0%"]);
    assert_eq!(cells(&fields, "company.role")[1..], ["4", "100.0%"]);
    assert_eq!(cells(&fields, "contact.email")[1..], ["1", "25.0%"]);
    // Declined is not a value.
    assert_eq!(cells(&fields, "contact.phone")[1..], ["0", "0.0%"]);
    assert_eq!(cells(&fields, "interests")[1..], ["2", "50.0%"]);

    // [from login, questions, reached, completed, completion]
    let stages = table(&html, "stages");
    assert_eq!(cells(&stages, "basics"), ["1", "2", "4", "2", "50.0%"]);
    assert_eq!(cells(&stages, "contact"), ["2", "2", "1", "1", "100.0%"]);
    assert_eq!(cells(&stages, "company"), ["3", "3", "2", "0", "0.0%"]);

    // [stage, answered, declined, snoozed, rate]
    let questions = table(&html, "questions");
    assert_eq!(
        cells(&questions, "name"),
        ["basics", "2", "0", "2", "50.0%"]
    );
    assert_eq!(
        cells(&questions, "role"),
        ["basics", "4", "0", "0", "100.0%"]
    );
    assert_eq!(
        cells(&questions, "phone"),
        ["contact", "0", "1", "0", "0.0%"]
    );
    assert_eq!(cells(&questions, "size"), ["company", "0", "0", "0", "–"]);

    let role = table(&html, "choice-role");
    assert_eq!(cells(&role, "Junior employee"), ["0", "0.0%"]);
    assert_eq!(cells(&role, "Senior official"), ["2", "50.0%"]);
    assert_eq!(cells(&role, "Other"), ["2", "50.0%"]);
    let other = Selector::parse("table#choice-role-other tbody tr").unwrap();
    let listed: Vec<String> = html
        .select(&other)
        .map(|row| row.text().collect::<Vec<_>>().join("|"))
        .collect();
    assert_eq!(listed, ["Founder|2"]);

    // Several may be picked: shares are over answers, not picks.
    let topics = table(&html, "choice-topics");
    assert_eq!(cells(&topics, "The API"), ["2", "100.0%"]);
    assert_eq!(cells(&topics, "Reports"), ["1", "50.0%"]);
    assert_eq!(cells(&topics, "Billing"), ["0", "0.0%"]);

    let today = &now()[..10];
    let days = table(&html, "days");
    assert_eq!(days.len(), 30);
    assert_eq!(cells(&days, today), ["9", "1", "2"]);

    let summary = Selector::parse(".summary").unwrap();
    let summary: String = html.select(&summary).next().unwrap().text().collect();
    assert!(summary.contains("4 known users, 12 responses"), "{summary}");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn an_answer_dated_in_the_future_counts_on_the_day_it_arrived(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, with_token()).await;
    let mut future = answered("f1", "name", json!("Flo"));
    future["answeredAt"] = json!("9999-12-31T00:00:00.000Z");
    let mut past = answered("p1", "email", json!("flo@example.com"));
    // Ten days ago: inside the chart's 30 days.
    let ten_days_ago = trickle_collector::store::unix_ms() - 10 * 86_400_000;
    let past_at = trickle_core::time::format_rfc3339_millis(ten_days_ago).unwrap();
    past["answeredAt"] = json!(past_at);
    let mut old = answered("o1", "phone", json!("+49 30 1234567"));
    old["answeredAt"] = json!("2020-01-01T00:00:00.000Z");
    post(&server, "flo", vec![future, past, old]).await;

    let html = page(&server).await;
    let days = table(&html, "days");
    assert_eq!(cells(&days, &now()[..10]), ["1", "0", "0"]);
    assert_eq!(cells(&days, &past_at[..10]), ["1", "0", "0"]);
    let total: u64 = days
        .values()
        .map(|row| row[0].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 2, "an answer from 2020 is outside the last 30 days");
    server.stop().await;
}

#[rstest]
#[tokio::test]
async fn free_text_answers_are_escaped_on_the_page(#[values(Sqlite, Postgres)] engine: Engine) {
    let server = Server::start(engine, with_token()).await;
    post(
        &server,
        "eve",
        vec![response(
            "e1",
            "role",
            "answered",
            Some(json!("<img src=x onerror=alert(1)>")),
            true,
        )],
    )
    .await;
    let response = get_admin(&server, "m", Some(TOKEN)).await;
    let body = response.text().await.unwrap();
    assert!(!body.contains("<img"), "{body}");
    assert!(body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    server.stop().await;
}

/// Runs `sql` (several statements) straight on the database.
async fn execute(db: &Location, sql: &str) {
    match db {
        Location::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(sql)
            .unwrap(),
        Location::Postgres(url) => pg::connect(url).await.batch_execute(sql).await.unwrap(),
    }
}

#[rstest]
#[tokio::test]
async fn a_database_from_before_the_report_gets_its_answers_dated_when_migrated(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let server = Server::start(engine, with_token()).await;
    let mut future = answered("g3", "email", json!("gus@example.com"));
    future["answeredAt"] = json!("9999-12-31T00:00:00.000Z");
    post(
        &server,
        "gus",
        vec![
            answered("g1", "name", json!("Gus")),
            response("g2", "phone", "snoozed", None, false),
            future,
        ],
    )
    .await;
    let db = server.db.clone();
    let dir = server.stop().await;
    // Back to the schema before the report: no at_ms column, no report indexes.
    let (downgrade, version_sql, version) = match engine {
        Sqlite => (
            "DROP INDEX answers_report; DROP INDEX answers_report_day;
             ALTER TABLE answers DROP COLUMN at_ms;
             PRAGMA user_version = 5;",
            "PRAGMA user_version",
            "6",
        ),
        Postgres => (
            "DROP INDEX answers_report_field; DROP INDEX answers_report_question;
             DROP INDEX answers_report_stage; DROP INDEX answers_report_day;
             ALTER TABLE answers DROP COLUMN at_ms;
             UPDATE schema_version SET version = 2;",
            "SELECT version FROM schema_version",
            "3",
        ),
    };
    execute(&db, downgrade).await;
    let server = Server::start_at(db, with_token(), dir).await;
    let html = page(&server).await;
    let days = table(&html, "days");
    // The far-future answer counts on the day it arrived, as a new one would.
    assert_eq!(cells(&days, &now()[..10]), ["2", "0", "1"]);
    assert_eq!(
        common::query_texts(&server.db, version_sql, &[]).await,
        [version]
    );
    server.stop().await;
}

#[tokio::test]
async fn every_sqlite_report_query_reads_one_of_the_two_report_indexes_and_no_table() {
    use trickle_collector::store::report::{
        choices_sql, stages_sql, DAYS_SQL, FIELDS_SQL, RESPONSES_SQL,
    };
    let server = Server::start(Sqlite, with_token()).await;
    post(&server, "ivy", vec![answered("i1", "name", json!("Ivy"))]).await;
    let dir = server.stop().await;
    let conn = rusqlite::Connection::open(dir.path().join("profiles.db")).unwrap();
    let plan = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(params, |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows.join("; ")
    };
    let (a, b) = ("name", "role");
    let cases = [
        ("answers_report", plan(FIELDS_SQL, &[])),
        ("answers_report", plan(RESPONSES_SQL, &[])),
        ("answers_report_day", plan(DAYS_SQL, &[&1, &2])),
        ("answers_report", plan(&stages_sql(2), &[&a, &b])),
        ("answers_report", plan(&choices_sql(1), &[&b])),
    ];
    for (index, plan) in cases {
        assert!(
            // The step names the index exactly (`answers_report` is also the
            // start of `answers_report_day`).
            plan.split("; ").any(|step| {
                let named = format!("USING COVERING INDEX {index}");
                step.ends_with(&named) || step.contains(&format!("{named} "))
            }),
            "{index}: {plan}"
        );
        assert!(
            !plan.contains("SCAN answers;") && !plan.ends_with("SCAN answers"),
            "{plan}"
        );
    }
}

#[tokio::test]
async fn every_postgres_report_query_can_read_its_index_only() {
    // With a few rows the planner scans the table whatever the indexes, so scans
    // are priced out here: what is checked is that each index fits its query
    // well enough that the table itself is not read (at 100,000 answers the
    // planner picks them on its own: see the collector README).
    use trickle_collector::store::report::{
        choices_sql, stages_sql, DAYS_SQL, FIELDS_SQL, RESPONSES_SQL,
    };
    let server = Server::start(Postgres, with_token()).await;
    post(&server, "ivy", vec![answered("i1", "name", json!("Ivy"))]).await;
    let db = server.db.clone();
    server.stop().await;
    let Location::Postgres(url) = db else {
        unreachable!("a PostgreSQL server")
    };
    let client = pg::connect(&url).await;
    // VACUUM sets the visibility map that lets a scan stay in the index.
    client
        .batch_execute("VACUUM ANALYZE answers")
        .await
        .unwrap();
    client
        .batch_execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
        .await
        .unwrap();
    let plan = |sql: String, params: Vec<Box<dyn tokio_postgres::types::ToSql + Sync>>| {
        let client = &client;
        async move {
            let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                params.iter().map(|p| p.as_ref()).collect();
            let rows = client
                .query(&format!("EXPLAIN {sql}"), &params)
                .await
                .unwrap();
            rows.iter()
                .map(|row| row.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let cases = [
        (
            "answers_report_field",
            plan(FIELDS_SQL.into(), vec![]).await,
        ),
        (
            "answers_report_question",
            plan(RESPONSES_SQL.into(), vec![]).await,
        ),
        (
            "answers_report_day",
            plan(DAYS_SQL.into(), vec![Box::new(1_i64), Box::new(2_i64)]).await,
        ),
        (
            "answers_report_stage",
            plan(stages_sql(2), vec![Box::new("name"), Box::new("role")]).await,
        ),
        (
            "answers_report_question",
            plan(choices_sql(1), vec![Box::new("role")]).await,
        ),
    ];
    for (index, plan) in cases {
        assert!(
            plan.contains(&format!("Index Only Scan using {index}")),
            "{index}: {plan}"
        );
        assert!(!plan.contains("Seq Scan on answers"), "{plan}");
    }
}
