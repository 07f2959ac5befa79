//! The store on its own: jobs sharing one commit are isolated by savepoints, and
//! an unreadable profile is rebuilt from the answers.

mod common;

use common::*;
use trickle_collector::profile::StoredAnswer;
use trickle_collector::store::{NewAnswers, Store, StoreError};

fn batch(user: &str, id: &str, name: &str, at: &str) -> NewAnswers {
    NewAnswers {
        user_id: user.into(),
        answers: vec![StoredAnswer {
            id: id.into(),
            question_id: "name".into(),
            stage: "basics".into(),
            field: "name".into(),
            status: trickle_core::answer::Status::Answered,
            value: Some(serde_json::json!(name)),
            other: false,
            answered_at: at.into(),
            logins_count: 1,
        }],
        context: "{}".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_rolled_back_alone_and_the_others_in_its_commit_stand() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let store = Store::open(&db).unwrap();
    // Make one particular insert fail, behind the store's back, after the row of
    // an earlier answer of the same job would have been written.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER fail_job_10 AFTER INSERT ON profiles WHEN NEW.user_id = 'user-10'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();

    // Queue many jobs at once so several share a commit with the failing one.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .record(batch(
                    &format!("user-{i}"),
                    &format!("job-{i}"),
                    "Ada",
                    "2026-11-30T15:00:00.000Z",
                ))
                .await
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        if i == 10 {
            assert!(matches!(result, Err(StoreError::Sqlite(_))), "{result:?}");
        } else {
            assert_eq!(result.unwrap().stored, 1, "job {i}");
        }
    }
    store.close();
    let ids = all_answer_ids(&db);
    assert!(
        !ids.contains(&"job-10".to_string()),
        "the failing job's answer row was rolled back with it"
    );
    assert_eq!(ids.len(), 19, "{ids:?}");
}

#[tokio::test]
async fn an_unreadable_profile_is_rebuilt_from_the_stored_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let store = Store::open(&db).unwrap();
    store
        .record(batch("u", "a1", "Old", "2026-11-30T15:00:00.000Z"))
        .await
        .unwrap();
    store
        .record(batch("u", "a2", "Newest", "2026-11-30T17:00:00.000Z"))
        .await
        .unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE profiles SET doc = 'not json'", [])
        .unwrap();
    // Reading and exporting work before any write repairs it.
    let user = store.user("u".into()).await.unwrap().unwrap();
    assert_eq!(user.doc.get("name"), Some(&serde_json::json!("Newest")));
    let rows = store.export().await.unwrap();
    assert_eq!(rows[0].doc.get("name"), Some(&serde_json::json!("Newest")));

    // A late-arriving older answer: the rebuilt profile still holds the newest.
    let recorded = store
        .record(batch("u", "a3", "Middle", "2026-11-30T16:00:00.000Z"))
        .await
        .unwrap();
    assert_eq!(recorded.stored, 1);
    let user = store.user("u".into()).await.unwrap().unwrap();
    assert_eq!(user.doc.get("name"), Some(&serde_json::json!("Newest")));
    assert_eq!(user.answers.len(), 3);
    store.close();
}
