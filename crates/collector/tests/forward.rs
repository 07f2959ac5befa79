//! Forwarding (contract section 6) against fake sinks on 127.0.0.1: each answer
//! reaches each sink once per id under 503s and timeouts, in order per user; the
//! Auth0 token is reused and refreshed on 401, and `company` goes whole; Segment
//! gets `messageId`; marketing sinks skip GPC and no-consent answers; failed
//! deliveries are listed and requeued by the CLI. Each test runs on both stores.
//! The SIGKILL test is in `forward_binary.rs`.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::fakes::{Fake, Reply};
use common::*;
use hmac::{Hmac, Mac};
use rstest::rstest;
use serde_json::{json, Value};
use sha2::Sha256;
use trickle_collector::forward::{Forwarder, Timing};

const BIN: &str = env!("CARGO_BIN_EXE_trickle-collector");
/// The Standard Webhooks spec's example secret.
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn fast() -> Timing {
    Timing {
        first_retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(100),
        give_up_after: Duration::from_secs(120),
        request_timeout: Duration::from_millis(300),
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(20),
        max_in_flight: 16,
    }
}

async fn forwarding(engine: Engine, forward: Value, timing: Timing) -> Server {
    let mut settings = settings();
    let env = |name: &str| (name == "TEST_WRITE_KEY").then(|| "wk-from-env".to_owned());
    settings.forward = Some(Arc::new(
        Forwarder::from_json(&forward.to_string(), env, timing).expect("forward.json"),
    ));
    Server::start(engine, settings).await
}

async fn post(server: &Server, body: Value) {
    let response = client()
        .post(server.url("/v1/answers"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Checks a Standard Webhooks signature with a plain HMAC (the Node test checks
/// the same with the `standardwebhooks` package).
fn signature_ok(seen: &common::fakes::Seen) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(WHSEC.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        seen.headers["webhook-id"], seen.headers["webhook-timestamp"], seen.body
    );
    mac.update(signed.as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    seen.headers["webhook-signature"]
        .split(' ')
        .any(|s| s == expected)
}

fn body(seen: &common::fakes::Seen) -> Value {
    serde_json::from_str(&seen.body).unwrap()
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answer_reaches_a_webhook_once_per_id_under_503s_and_timeouts(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let fake = Fake::start().await;
    // Two 503s for every id, then a hang (longer than the 300 ms timeout) for
    // about a third of them, then 200.
    fake.set_plan(|_, key, attempt| match attempt {
        1 | 2 => Reply::Status(503, vec![]),
        3 if key.as_bytes().last().copied().unwrap_or(0) % 3 == 0 => {
            Reply::Hang(Duration::from_secs(3))
        }
        _ => Reply::Status(200, vec![]),
    });
    let server = forwarding(
        engine,
        json!({ "webhooks": [{ "url": format!("{}/hook", fake.base), "secret": WHSEC }] }),
        fast(),
    )
    .await;
    let mut expected = HashSet::new();
    for u in 0..10 {
        for n in 0..5 {
            let id = format!("u{u}-a{n}");
            expected.insert((format!("user-{u}"), id.clone()));
            post(
                &server,
                envelope(
                    &format!("user-{u}"),
                    vec![answered(&id, "name", json!(format!("N{n}")))],
                ),
            )
            .await;
        }
    }
    fake.wait_until("every answer accepted once", |f| {
        f.accepted("webhook").len() >= 50
    })
    .await;
    // Nothing left to send, nothing failed.
    for _ in 0..300 {
        if deliveries(&server.db, "pending").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(deliveries(&server.db, "pending").await, 0);
    assert_eq!(deliveries(&server.db, "failed").await, 0);

    let seen = fake.seen("webhook");
    let accepted = fake.accepted("webhook");
    let mut per_id: HashMap<String, Vec<&common::fakes::Seen>> = HashMap::new();
    for s in &seen {
        per_id.entry(s.key.clone()).or_default().push(s);
    }
    assert_eq!(per_id.len(), 50, "one webhook-id per answer");
    let mut got = HashSet::new();
    for (id, attempts) in &per_id {
        assert!(signature_ok(attempts[0]), "bad signature on {id}");
        let answer_ids: HashSet<String> = attempts
            .iter()
            .map(|s| {
                let b = body(s);
                assert_eq!(b["type"], "profile.updated");
                format!(
                    "{}/{}",
                    b["userId"].as_str().unwrap(),
                    b["answers"][0]["id"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            answer_ids.len(),
            1,
            "webhook-id {id} is stable across retries"
        );
        let ok = attempts.iter().filter(|s| s.status == 200).count();
        assert_eq!(ok, 1, "{id} accepted exactly once");
        assert!(
            attempts.iter().all(|s| signature_ok(s)),
            "every attempt is signed"
        );
    }
    for s in &accepted {
        let b = body(s);
        got.insert((
            b["userId"].as_str().unwrap().to_owned(),
            b["answers"][0]["id"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(got, expected);
    let hung = seen.iter().filter(|s| s.status == 0).count();
    let unavailable = seen.iter().filter(|s| s.status == 503).count();
    eprintln!(
        "FIGURES 503+timeouts: {} answers, {} requests ({} x 503, {} timed out), {} accepted, 0 lost, 0 accepted twice",
        expected.len(),
        seen.len(),
        unavailable,
        hung,
        accepted.len()
    );
    server.stop().await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_users_deliveries_to_one_sink_stay_in_order(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let fake = Fake::start().await;
    // Every other id fails twice (one of those a hang); the rest go through.
    fake.set_plan(|_, key, attempt| {
        let odd = key.as_bytes().last().copied().unwrap_or(0) % 2 == 1;
        match (odd, attempt) {
            (true, 1) => Reply::Status(503, vec![]),
            (true, 2) => Reply::Hang(Duration::from_secs(2)),
            _ => Reply::Status(200, vec![]),
        }
    });
    let server = forwarding(
        engine,
        json!({ "webhooks": [{ "url": format!("{}/hook", fake.base), "secret": WHSEC }] }),
        fast(),
    )
    .await;
    let users = 4;
    let per_user = 6;
    let mut posts = Vec::new();
    for u in 0..users {
        let url = server.url("/v1/answers");
        posts.push(tokio::spawn(async move {
            let client = client();
            for n in 0..per_user {
                let body = envelope(
                    &format!("user-{u}"),
                    vec![answered(
                        &format!("u{u}-{n}"),
                        "name",
                        json!(format!("N{n}")),
                    )],
                );
                let r = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for p in posts {
        p.await.unwrap();
    }
    fake.wait_until("all delivered", |f| {
        f.accepted("webhook").len() >= users * per_user
    })
    .await;
    let mut order: HashMap<String, Vec<String>> = HashMap::new();
    for s in fake.accepted("webhook") {
        let b = body(&s);
        order
            .entry(b["userId"].as_str().unwrap().to_owned())
            .or_default()
            .push(b["answers"][0]["value"].as_str().unwrap().to_owned());
    }
    let want: Vec<String> = (0..per_user).map(|n| format!("N{n}")).collect();
    for u in 0..users {
        assert_eq!(
            order[&format!("user-{u}")],
            want,
            "user-{u}'s deliveries in order"
        );
    }
    // Attempts too: no later answer of a user was even tried before an earlier
    // one was accepted.
    let mut last_ok: HashMap<String, usize> = HashMap::new();
    for s in fake.seen("webhook") {
        let b = body(&s);
        let user = b["userId"].as_str().unwrap().to_owned();
        let n: usize = b["answers"][0]["value"].as_str().unwrap()[1..]
            .parse()
            .unwrap();
        let done = last_ok.get(&user).copied().map_or(0, |d| d + 1);
        assert_eq!(
            n, done,
            "{user}: answer N{n} tried before N{done} was accepted"
        );
        if s.status == 200 {
            last_ok.insert(user, n);
        }
    }
    server.stop().await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketing_sinks_never_get_answers_under_gpc_or_without_consent(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let fake = Fake::start().await;
    let server = forwarding(
        engine,
        json!({ "webhooks": [
            { "url": format!("{}/hook", fake.base), "secret": WHSEC },
            { "url": format!("{}/hook2", fake.base), "secret": WHSEC, "marketing": true }
        ], "segment": { "writeKey": "wk", "url": format!("{}/v1/identify", fake.base), "marketing": true } }),
        fast(),
    )
    .await;
    let mut gpc = envelope("u-gpc", vec![answered("a-gpc", "name", json!("G"))]);
    gpc["context"]["gpc"] = json!(true);
    let mut no_consent = envelope("u-nc", vec![answered("a-nc", "name", json!("C"))]);
    no_consent["context"]["consent"] = json!({ "marketing": false });
    let mut consent = envelope("u-yes", vec![answered("a-yes", "name", json!("Y"))]);
    consent["context"]["consent"] = json!({ "marketing": true });
    let plain = envelope("u-plain", vec![answered("a-plain", "name", json!("P"))]);
    for body in [gpc, no_consent, consent, plain] {
        post(&server, body).await;
    }
    // The non-marketing sink gets all four; wait for the marketing ones' two.
    fake.wait_until("deliveries", |f| {
        f.accepted("webhook").len() >= 6 && f.accepted("segment").len() >= 2
    })
    .await;
    // Everything queued was sent: what the marketing sinks did not get was never queued.
    for _ in 0..300 {
        if deliveries(&server.db, "pending").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(deliveries(&server.db, "pending").await, 0);
    let users = |route: &str| -> HashSet<String> {
        fake.accepted(route)
            .iter()
            .map(|s| body(s)["userId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        users("segment"),
        HashSet::from(["u-yes".to_owned(), "u-plain".to_owned()])
    );
    let seen = fake.seen("webhook");
    let count = |user: &str| seen.iter().filter(|s| body(s)["userId"] == user).count();
    assert_eq!(count("u-gpc"), 1, "only the non-marketing webhook");
    assert_eq!(count("u-nc"), 1, "only the non-marketing webhook");
    assert_eq!(count("u-yes"), 2);
    assert_eq!(count("u-plain"), 2);
    server.stop().await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_errors_and_expired_retries_are_listed_and_requeued_by_the_cli(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let fake = Fake::start().await;
    // u-final's answer gets a final 400; u-slow's keeps getting 503 until it gives up.
    fake.set_plan(|_, _, _| Reply::Status(503, vec![]));
    let timing = Timing {
        give_up_after: Duration::from_millis(400),
        ..fast()
    };
    let server = forwarding(
        engine,
        json!({ "webhooks": [{ "url": format!("{}/hook", fake.base), "secret": WHSEC }],
                "segment": { "writeKey": "wk", "url": format!("{}/v1/identify", fake.base) } }),
        timing,
    )
    .await;
    fake.set_plan(|route, _, _| match route {
        "segment" => Reply::Status(400, vec![]),
        _ => Reply::Status(503, vec![]),
    });
    post(
        &server,
        envelope("u-1", vec![answered("a-1", "name", json!("Ada"))]),
    )
    .await;
    for _ in 0..500 {
        if deliveries(&server.db, "failed").await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(deliveries(&server.db, "failed").await, 2);
    assert_eq!(fake.seen("segment").len(), 1, "a 400 is final: not retried");
    assert!(
        fake.seen("webhook").len() >= 2,
        "503s retried until giving up"
    );

    let listing = std::process::Command::new(BIN)
        .args(["forward", "--failed", "--db"])
        .arg(server.db_arg())
        .output()
        .unwrap();
    assert!(listing.status.success());
    let text = String::from_utf8(listing.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("seq\tsink\tuserId\tanswerId"));
    assert!(
        text.contains("\tsegment\tu-1\ta-1\t1\t") && text.contains("HTTP 400"),
        "{text}"
    );
    assert!(
        text.contains(&format!("webhook:{}/hook\tu-1\ta-1", fake.base))
            && text.contains("gave up after"),
        "{text}"
    );

    // The receivers are fixed; --retry queues both again and they arrive.
    fake.set_plan(|_, _, _| Reply::Status(200, vec![]));
    let retry = std::process::Command::new(BIN)
        .args(["forward", "--retry", "--db"])
        .arg(server.db_arg())
        .output()
        .unwrap();
    assert!(retry.status.success());
    assert_eq!(
        String::from_utf8_lossy(&retry.stdout).trim(),
        "requeued 2 failed deliveries"
    );
    fake.wait_until("requeued deliveries", |f| {
        f.accepted("webhook").len() == 1 && f.accepted("segment").len() == 1
    })
    .await;
    for _ in 0..300 {
        if deliveries(&server.db, "pending").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        deliveries(&server.db, "failed").await + deliveries(&server.db, "pending").await,
        0
    );
    let missing = std::process::Command::new(BIN)
        .args(["forward", "--failed", "--db", "/nonexistent/x.db"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    server.stop().await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_token_is_reused_refreshed_once_on_401_and_company_goes_whole(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let fake = Fake::start().await;
    let server = forwarding(
        engine,
        json!({ "auth0": { "domain": fake.base, "clientId": "cid", "clientSecret": "csecret" } }),
        fast(),
    )
    .await;
    let user = "auth0|5f7c8ec7";
    post(
        &server,
        envelope(user, vec![answered("a-size", "size", json!(42))]),
    )
    .await;
    fake.wait_until("first patch", |f| f.accepted("auth0").len() == 1)
        .await;
    post(
        &server,
        envelope(user, vec![answered("a-role", "role", json!("senior"))]),
    )
    .await;
    fake.wait_until("second patch", |f| f.accepted("auth0").len() == 2)
        .await;
    // A decline changes no metadata: nothing is sent for it.
    post(
        &server,
        envelope(user, vec![without_value("a-phone", "phone", "declined")]),
    )
    .await;
    post(
        &server,
        envelope(user, vec![answered("a-name", "name", json!("Ada"))]),
    )
    .await;
    fake.wait_until("third patch", |f| f.accepted("auth0").len() == 3)
        .await;
    assert_eq!(
        fake.tokens.lock().unwrap().len(),
        1,
        "one token for three PATCHes"
    );
    let token_req: Value = serde_json::from_str(&fake.seen("token")[0].body).unwrap();
    assert_eq!(
        token_req,
        json!({ "grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret",
                "audience": format!("{}/api/v2/", fake.base) })
    );
    let patches = fake.accepted("auth0");
    assert!(patches.iter().all(|p| p.key == user));
    assert_eq!(
        body(&patches[0]),
        json!({ "user_metadata": { "company": { "size": 42 } } })
    );
    // company.role sent with company.size: Auth0 replaces top-level keys whole.
    assert_eq!(
        body(&patches[1]),
        json!({ "user_metadata": { "company": { "size": 42, "role": "senior" } } })
    );
    assert_eq!(
        body(&patches[2]),
        json!({ "user_metadata": { "name": "Ada" } })
    );

    // The token is revoked: the next PATCH gets 401, one new token, and succeeds.
    let first = fake.tokens.lock().unwrap()[0].clone();
    fake.revoked.lock().unwrap().push(first);
    post(
        &server,
        envelope(
            user,
            vec![answered("a-email", "email", json!("ada@example.com"))],
        ),
    )
    .await;
    fake.wait_until("patch after refresh", |f| f.accepted("auth0").len() == 4)
        .await;
    assert_eq!(fake.tokens.lock().unwrap().len(), 2, "refreshed once");
    let all = fake.seen("auth0");
    assert_eq!(all.iter().filter(|s| s.status == 401).count(), 1);
    assert_eq!(all.last().unwrap().headers["authorization"], "Bearer tok-2");
    assert_eq!(
        body(all.last().unwrap()),
        json!({ "user_metadata": { "contact": { "email": "ada@example.com" } } })
    );
    server.stop().await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_429_waits_until_x_ratelimit_reset(#[values(Sqlite, Postgres)] engine: Engine) {
    let fake = Fake::start().await;
    let reset = Arc::new(std::sync::Mutex::new(0i64));
    let reset_in_plan = Arc::clone(&reset);
    fake.set_plan(move |route, _, attempt| match (route, attempt) {
        ("auth0", 1) => {
            let at = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
                + 2;
            *reset_in_plan.lock().unwrap() = at;
            Reply::Status(429, vec![("x-ratelimit-reset", at.to_string())])
        }
        _ => Reply::Status(200, vec![]),
    });
    let server = forwarding(
        engine,
        json!({ "auth0": { "domain": fake.base, "clientId": "cid", "clientSecret": "cs" } }),
        fast(),
    )
    .await;
    post(
        &server,
        envelope("u-1", vec![answered("a-1", "name", json!("Ada"))]),
    )
    .await;
    fake.wait_until("patch after the reset", |f| f.accepted("auth0").len() == 1)
        .await;
    let seen = fake.seen("auth0");
    assert_eq!(seen.len(), 2);
    // Not a timing bound on us: the retry must not come before the reset second.
    let reset_ms = *reset.lock().unwrap() * 1000;
    assert!(
        seen[1].at_ms >= reset_ms - 5,
        "retried at {} before the reset {}",
        seen[1].at_ms,
        reset_ms
    );
    server.stop().await;
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_identify_carries_the_answer_id_as_message_id(
    #[values(Sqlite, Postgres)] engine: Engine,
) {
    let fake = Fake::start().await;
    fake.set_plan(|_, _, attempt| {
        if attempt == 1 {
            Reply::Status(500, vec![])
        } else {
            Reply::Status(200, vec![])
        }
    });
    let server = forwarding(
        engine,
        json!({ "segment": { "writeKey": "env:TEST_WRITE_KEY", "url": format!("{}/v1/identify", fake.base) } }),
        fast(),
    )
    .await;
    post(
        &server,
        envelope(
            "u-1",
            vec![
                answered("a-role", "role", json!("junior")),
                answered("a-size", "size", json!(7)),
            ],
        ),
    )
    .await;
    fake.wait_until("identify calls", |f| f.accepted("segment").len() == 2)
        .await;
    let seen = fake.seen("segment");
    assert_eq!(seen.len(), 4, "each retried once after a 500");
    let basic = base64::engine::general_purpose::STANDARD.encode("wk-from-env:");
    assert!(seen
        .iter()
        .all(|s| s.headers["authorization"] == format!("Basic {basic}")));
    let accepted = fake.accepted("segment");
    let ids: HashSet<&str> = accepted.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(ids, HashSet::from(["a-role", "a-size"]));
    let last = body(accepted.iter().find(|s| s.key == "a-size").unwrap());
    assert_eq!(last["userId"], "u-1");
    assert_eq!(last["messageId"], "a-size");
    assert_eq!(
        last["traits"],
        json!({ "company": { "role": "junior", "size": 7 } })
    );
    server.stop().await;
}
