//! The durable queue's table on SQLite and PostgreSQL: a job is owned by one worker at a time,
//! a dead worker's job is claimed again after its lease, failures back off then go dead, and an
//! admin can retry or discard what is left.
mod common;

use std::collections::HashSet;

use app::backend::store::jobs::{self, NewJob, DEAD, QUEUED, RETRYING, RUNNING};
use common::for_each_backend;

fn job(n: usize, max_attempts: i32) -> NewJob {
    NewJob {
        kind: "test".into(),
        payload: format!("{{\"n\": {n}}}"),
        idempotency_key: format!("key-{n}-{max_attempts}"),
        max_attempts,
        run_after: 0,
    }
}

const SECOND: i64 = 1_000_000;

#[tokio::test]
async fn jobs_are_claimed_once_released_retried_and_dead_lettered() {
    for_each_backend(|mut app| async move {
        // The store alone: no workers of the harness competing for the jobs.
        app.stop_workers().await;
        let db = &app.db;
        let now = 1_000 * SECOND;
        for n in 0..3 {
            jobs::enqueue(db, job(n, 2), now).await.unwrap();
        }
        let a = jobs::claim(db, "a", 2, now + 30 * SECOND, now)
            .await
            .unwrap();
        assert_eq!(a.len(), 2);
        assert!(a
            .iter()
            .all(|j| j.status == RUNNING && j.attempts == 1 && j.worker.as_deref() == Some("a")));
        let b = jobs::claim(db, "b", 10, now + 60 * SECOND, now)
            .await
            .unwrap();
        assert_eq!(b.len(), 1, "the third job only");
        assert!(jobs::claim(db, "c", 10, now + 30 * SECOND, now)
            .await
            .unwrap()
            .is_empty());

        // Worker a dies: once its lease has passed, its jobs go to whoever claims next.
        assert!(
            jobs::claim(db, "c", 10, now + 60 * SECOND, now + 29 * SECOND)
                .await
                .unwrap()
                .is_empty()
        );
        let c = jobs::claim(db, "c", 10, now + 90 * SECOND, now + 31 * SECOND)
            .await
            .unwrap();
        assert_eq!(
            c.iter().map(|j| j.id).collect::<Vec<_>>(),
            a.iter().map(|j| j.id).collect::<Vec<_>>()
        );
        assert!(c.iter().all(|j| j.attempts == 2));
        // Too late for a: its completion is refused, c's is taken.
        assert!(!jobs::complete(db, &a[0], "a", now + 32 * SECOND)
            .await
            .unwrap());
        assert!(jobs::complete(db, &c[0], "c", now + 32 * SECOND)
            .await
            .unwrap());

        // A failure on the last attempt is dead, whatever its kind.
        let dead = jobs::fail(
            db,
            &c[1],
            "c",
            "sink answered 503",
            true,
            SECOND,
            now + 33 * SECOND,
        )
        .await
        .unwrap();
        assert_eq!(dead, Some(DEAD));
        // b's job fails once: it waits for its backoff (1 s), then runs again.
        let t = now + 40 * SECOND;
        assert_eq!(
            jobs::fail(db, &b[0], "b", "connection refused", true, SECOND, t)
                .await
                .unwrap(),
            Some(RETRYING)
        );
        assert!(jobs::claim(db, "b", 10, t + 30 * SECOND, t + SECOND / 2)
            .await
            .unwrap()
            .is_empty());
        let again = jobs::claim(db, "b", 10, t + 30 * SECOND, t + SECOND)
            .await
            .unwrap();
        assert_eq!((again.len(), again[0].attempts), (1, 2));
        assert_eq!(again[0].last_error.as_deref(), Some("connection refused"));

        // Shutdown gives running jobs back, the interrupted attempt not counted.
        assert_eq!(jobs::release(db, "b", t + 2 * SECOND).await.unwrap(), 1);
        let released = jobs::find(db, again[0].id).await.unwrap().unwrap();
        assert_eq!(
            (released.status.as_str(), released.attempts, released.worker),
            (QUEUED, 1, None)
        );

        // The admin's hands: retry the dead one (attempts reset), discard, never a running job.
        let listed = jobs::list(db, &[DEAD], 10).await.unwrap();
        assert_eq!(
            listed.iter().map(|j| j.id).collect::<Vec<_>>(),
            vec![c[1].id]
        );
        assert!(jobs::retry(db, c[1].id, t).await.unwrap());
        assert!(
            !jobs::retry(db, c[1].id, t).await.unwrap(),
            "already queued"
        );
        let running = jobs::claim(db, "d", 1, t + 30 * SECOND, t + 3 * SECOND)
            .await
            .unwrap();
        assert!(!jobs::discard(db, running[0].id).await.unwrap());
        assert!(jobs::discard(db, c[0].id).await.unwrap(), "a done job");
        assert_eq!(jobs::purge_done(db, t).await.unwrap(), 0, "none left done");
    })
    .await;
}

#[tokio::test]
async fn workers_racing_for_jobs_each_get_distinct_ones() {
    for_each_backend(|mut app| async move {
        // The store alone: no workers of the harness competing for the jobs.
        app.stop_workers().await;
        let now = 5_000 * SECOND;
        for n in 0..200 {
            jobs::enqueue(&app.db, job(n, 3), now).await.unwrap();
        }
        let mut tasks = Vec::new();
        for w in 0..4 {
            let db = app.db.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = jobs::claim(&db, &format!("w{w}"), 7, now + 60 * SECOND, now)
                        .await
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    for j in got {
                        assert!(jobs::complete(&db, &j, &format!("w{w}"), now)
                            .await
                            .unwrap());
                        mine.push(j.id);
                    }
                }
            }));
        }
        let mut seen = HashSet::new();
        for t in tasks {
            for id in t.await.unwrap() {
                assert!(seen.insert(id), "job {id} claimed twice");
            }
        }
        assert_eq!(seen.len(), 200);
    })
    .await;
}

/// The end of an attempt never ends a later attempt of the same job, even one its own worker
/// (the same process) claimed again after a retry; and a job queued twice under one key is one
/// job.
#[tokio::test]
async fn a_stale_end_leaves_a_later_attempt_alone_and_a_key_is_queued_once() {
    for_each_backend(|mut app| async move {
        app.stop_workers().await;
        let db = &app.db;
        let now = 1_000 * SECOND;
        assert!(jobs::enqueue_once(db, job(0, 3), now).await.unwrap());
        assert!(!jobs::enqueue_once(db, job(0, 3), now).await.unwrap());
        let first = jobs::claim(db, "w", 5, now + 30 * SECOND, now)
            .await
            .unwrap();
        assert_eq!(first.len(), 1, "one job under the key");
        let first = &first[0];
        let retry = jobs::fail(db, first, "w", "503", true, 0, now)
            .await
            .unwrap();
        assert_eq!(retry, Some(RETRYING));
        let second = jobs::claim(db, "w", 5, now + 30 * SECOND, now)
            .await
            .unwrap();
        assert_eq!(second[0].attempts, 2);
        // The first attempt's late end changes nothing.
        assert!(!jobs::complete(db, first, "w", now).await.unwrap());
        let late = jobs::fail(db, first, "w", "late", true, 0, now)
            .await
            .unwrap();
        assert_eq!(late, None);
        assert!(jobs::complete(db, &second[0], "w", now).await.unwrap());
    })
    .await;
}

/// Saves a non-blocking `attribute-after-save` workflow and an event; answers the event's id.
async fn listened_event(app: &common::TestApp, info: &str) -> String {
    common::install_workflow(
        app,
        "attribute-after-save",
        common::red_gate("attribute-after-save", "Attribute After Save", false),
    )
    .await;
    let body = serde_json::json!({ "info": info });
    let event = common::ok(common::post(app, "/events/add", common::ADMIN_KEY, body).await).await;
    event["Event"]["id"].as_str().unwrap().to_owned()
}

/// A request that queues a run wakes this process's idle workers once it has answered: the run
/// ends long before the workers would next look for jobs on their own.
#[tokio::test]
async fn a_request_that_queues_a_run_wakes_the_idle_workers() {
    use std::time::Duration;

    let mut app = common::spawn_sqlite().await;
    app.stop_workers().await;
    let workers = app::backend::jobs::Workers::start(
        app.state.clone(),
        app::backend::jobs::JobOptions {
            poll: Duration::from_secs(120),
            ..common::test_workers()
        },
    );
    let id = listened_event(&app, "wake test").await;
    // Idle by now: the workers' first look found nothing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    common::ok(
        common::post(
            &app,
            &format!("/attributes/add/{id}"),
            common::ADMIN_KEY,
            serde_json::json!({"type": "ip-dst", "value": "192.0.2.1"}),
        )
        .await,
    )
    .await;
    // Well before the workers' own poll.
    common::wait_done(&app.db, 1, Duration::from_secs(20)).await;
    workers.shutdown().await;
}

/// An attribute's `attribute-after-save` run rides on the audit row of its save: the log
/// follower queues it once, keyed by the row, and clears it from the row; a row written while
/// no follower ran is queued when one starts.
#[tokio::test]
async fn runs_carried_by_audit_rows_are_queued_once_even_after_a_restart() {
    use app::backend::entities::{log, workflow_job};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    use std::time::Duration;

    for_each_backend(|mut app| async move {
        app.stop_workers().await;
        let id = listened_event(&app, "carried runs").await;
        async fn add(app: &common::TestApp, event_id: &str, value: &str) -> serde_json::Value {
            let path = format!("/attributes/add/{event_id}");
            let body = serde_json::json!({"type": "ip-dst", "value": value});
            common::ok(common::post(app, &path, common::ADMIN_KEY, body).await).await
        }
        add(&app, &id, "192.0.2.1").await;
        common::wait_queued(&app.db, 1).await;

        // No follower: the save is committed with its run on its audit row, nothing queued.
        app.stop_log_follower();
        let second = add(&app, &id, "192.0.2.2").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(common::job_counts(&app.db).await.values().sum::<u64>(), 1);
        let rows = log::Entity::find()
            .filter(log::Column::Model.eq("Attribute"))
            .filter(log::Column::Action.eq("add"))
            .order_by_asc(log::Column::Id)
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        let carried: serde_json::Value =
            serde_json::from_str(rows[1].carried_run.as_deref().unwrap()).unwrap();
        assert_eq!(carried["trigger"], "attribute-after-save");
        assert_eq!(carried["action"], format!("attributes/add/{id}"));
        assert_eq!(
            carried["id"].to_string(),
            second["Attribute"]["id"].as_str().unwrap()
        );

        // A follower that starts queues it, once, however often it looks.
        let follower = server::spawn_log_hook(app.state.clone(), Duration::from_millis(20));
        common::wait_queued(&app.db, 2).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let jobs = workflow_job::Entity::find()
            .order_by_asc(workflow_job::Column::Id)
            .all(&app.db)
            .await
            .unwrap();
        let keys: Vec<String> = jobs.iter().map(|j| j.idempotency_key.clone()).collect();
        let want: Vec<String> = rows
            .iter()
            .map(|r| format!("carried/{}/{}", r.id, r.created))
            .collect();
        assert_eq!(keys, want);
        assert_eq!(jobs[1].payload, rows[1].carried_run.clone().unwrap());
        // Queued means taken off the row: no later look (after the done jobs are purged, say)
        // can queue it again.
        let carrying = log::Entity::find()
            .filter(log::Column::CarriedRun.is_not_null())
            .all(&app.db)
            .await
            .unwrap();
        assert!(carrying.is_empty(), "{carrying:?}");
        follower.abort();
    })
    .await;
}

/// Many jobs queued together: every one queued, across the statement's chunks, and a key
/// already queued (or given twice) queued once.
#[tokio::test]
async fn many_jobs_queue_in_chunks_once_per_key() {
    for_each_backend(|mut app| async move {
        app.stop_workers().await;
        let db = &app.db;
        jobs::enqueue_once(db, job(7, 3), 0).await.unwrap();
        let mut many: Vec<NewJob> = (0..1_201).map(|n| job(n, 3)).collect();
        many.push(job(1_200, 3));
        assert_eq!(jobs::enqueue_many_once(db, many, 0).await.unwrap(), 1_200);
        assert_eq!(common::job_counts(db).await.get(QUEUED), Some(&1_201));
        assert_eq!(jobs::enqueue_many_once(db, Vec::new(), 0).await.unwrap(), 0);
    })
    .await;
}
