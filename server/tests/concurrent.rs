//! Concurrent-task branches are durable jobs: queued by the run, run by the workers with the run
//! logged; a transient failure is retried with backoff, each delivery carrying the job's
//! idempotency key; after its attempts, or at once for a failure not worth retrying, the job is
//! dead with its error; a shutdown finishes or gives back running jobs.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::backend::jobs::{JobOptions, Workers};
use app::backend::store::jobs;
use common::{allow_loopback_webhooks, for_each_backend, install_workflow, ok, post, ADMIN_KEY};
use serde_json::{json, Value};

const UNAVAILABLE: axum::http::StatusCode = axum::http::StatusCode::SERVICE_UNAVAILABLE;

/// A sink that answers `failure` to the first `failures` calls at once, 200 after.
async fn sink(
    failures: usize,
    failure: axum::http::StatusCode,
) -> (u16, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let sink = common::hook_sink(Duration::ZERO, failures, failure).await;
    (sink.port, sink.calls, sink.keys)
}

/// event-publish → concurrent-task → webhook to the sink.
fn graph(port: u16) -> Value {
    common::chain(
        "event-publish",
        &[
            ("concurrent-task", "logic", json!({})),
            ("webhook", "action", common::webhook_to(port)),
        ],
    )
}

fn fast() -> JobOptions {
    JobOptions {
        workers: 2,
        poll: Duration::from_millis(50),
        backoff: Duration::from_millis(100),
        max_attempts: 3,
        ..JobOptions::default()
    }
}

/// Waits until the only job is in `status`; answers it.
async fn job_in(
    app: &common::TestApp,
    status: &str,
) -> app::backend::entities::workflow_job::Model {
    for _ in 0..200 {
        let all = jobs::list(&app.db, &[], 10).await.unwrap();
        if let [job] = all.as_slice() {
            if job.status == status {
                return job.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no job reached {status}: {:?}",
        jobs::list(&app.db, &[], 10).await.unwrap()
    );
}

#[tokio::test]
async fn a_failing_sink_is_retried_until_it_answers_and_one_that_never_does_is_dead() {
    for_each_backend(|mut app| async move {
        app.stop_workers().await;
        allow_loopback_webhooks(&app).await;
        let workers = Workers::start(app.state.clone(), fast());

        // Fails twice, then answers: the job is done on its third attempt.
        let (port, calls, keys) = sink(2, UNAVAILABLE).await;
        let id = install_workflow(&app, "event-publish", graph(port)).await;
        let run = ok(post(
            &app,
            &format!("/workflows/executeWorkflow/{id}"),
            ADMIN_KEY,
            json!({"Event": {"info": "x", "Attribute": []}}),
        )
        .await)
        .await;
        assert_eq!(run["success"], true, "{run}");
        let done = job_in(&app, jobs::DONE).await;
        assert_eq!(done.attempts, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Every attempt carried the same idempotency key: the job's, with the webhook node.
        let keys = keys.lock().unwrap().clone();
        assert_eq!(keys.len(), 3);
        assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
        assert!(
            keys[0].starts_with(&format!("{}:", done.idempotency_key)),
            "{keys:?}"
        );
        assert!(done.last_error.unwrap_or_default().contains("503"));
        let runs = ok(common::get(&app, "/workflows/logs.json?limit=10", ADMIN_KEY).await).await;
        let branch_runs: Vec<&Value> = runs["WorkflowRun"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "concurrent-task")
            .collect();
        assert_eq!(
            branch_runs.len(),
            3,
            "each attempt is in the run log: {runs}"
        );
        assert!(
            branch_runs.iter().all(|r| r["user_id"] == "0"),
            "run as SYSTEM"
        );
        let clean = branch_runs
            .iter()
            .filter(|r| r["errors"] == json!([]))
            .count();
        assert_eq!(clean, 1, "only the last attempt succeeded");
        assert!(jobs::discard(&app.db, done.id).await.unwrap());

        // Never answers: dead after three attempts, with its error.
        let (port, calls, _) = sink(usize::MAX, UNAVAILABLE).await;
        let id = install_workflow(&app, "event-publish", graph(port)).await;
        ok(post(
            &app,
            &format!("/workflows/executeWorkflow/{id}"),
            ADMIN_KEY,
            json!({"Event": {"info": "y", "Attribute": []}}),
        )
        .await)
        .await;
        let dead = job_in(&app, jobs::DEAD).await;
        assert_eq!((dead.attempts, calls.load(Ordering::SeqCst)), (3, 3));
        assert!(dead.last_error.unwrap_or_default().contains("503"));

        // The API shows it with its error; an admin retries it: it runs again (and fails
        // again, the sink is still down), then discards it.
        let listed =
            ok(common::get(&app, "/workflows/jobs.json?status=dead", ADMIN_KEY).await).await;
        let shown = &listed["Job"][0];
        assert_eq!(
            (shown["id"].as_str(), shown["status"].as_str()),
            (Some(dead.id.to_string().as_str()), Some("dead"))
        );
        assert!(shown["last_error"].as_str().unwrap().contains("503"));
        ok(post(
            &app,
            &format!("/workflows/jobs/retry/{}", dead.id),
            ADMIN_KEY,
            json!({}),
        )
        .await)
        .await;
        let again = job_in(&app, jobs::DEAD).await;
        assert_eq!((again.attempts, calls.load(Ordering::SeqCst)), (3, 6));
        let r = post(
            &app,
            &format!("/workflows/jobs/retry/{}", 999_999),
            ADMIN_KEY,
            json!({}),
        )
        .await;
        assert_eq!(r.status(), 404);
        ok(post(
            &app,
            &format!("/workflows/jobs/discard/{}", dead.id),
            ADMIN_KEY,
            json!({}),
        )
        .await)
        .await;
        assert!(jobs::list(&app.db, &[], 10).await.unwrap().is_empty());
        let r = common::get(&app, "/workflows/jobs.json?status=nonsense", ADMIN_KEY).await;
        assert_eq!(r.status(), 400);
        // Not for anyone but site admins.
        let user = common::user_key(
            &app,
            "jobs@user.test",
            app::backend::store::roles::ROLE_USER,
            None,
        )
        .await;
        assert_eq!(
            common::get(&app, "/workflows/jobs.json", &user)
                .await
                .status(),
            403
        );
        workers.shutdown().await;
    })
    .await;
}

/// One worker with grace period `grace`, stopped as soon as it runs a job.
async fn start_then_stop(app: &common::TestApp, grace: Duration) {
    let workers = Workers::start(
        app.state.clone(),
        JobOptions {
            workers: 1,
            grace,
            ..fast()
        },
    );
    for _ in 0..100 {
        if !jobs::list(&app.db, &[jobs::RUNNING], 10)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    workers.shutdown().await;
}

#[tokio::test]
async fn a_failure_not_worth_retrying_is_dead_at_once() {
    for_each_backend(|mut app| async move {
        app.stop_workers().await;
        allow_loopback_webhooks(&app).await;
        let workers = Workers::start(app.state.clone(), fast());
        // 400: the sink refuses what it was sent; sending it again would not help.
        let (port, calls, _) = sink(usize::MAX, axum::http::StatusCode::BAD_REQUEST).await;
        let id = install_workflow(&app, "event-publish", graph(port)).await;
        ok(post(
            &app,
            &format!("/workflows/executeWorkflow/{id}"),
            ADMIN_KEY,
            json!({"Event": {"info": "z", "Attribute": []}}),
        )
        .await)
        .await;
        let dead = job_in(&app, jobs::DEAD).await;
        assert_eq!((dead.attempts, calls.load(Ordering::SeqCst)), (1, 1));
        assert!(dead.last_error.unwrap_or_default().contains("400"));
        workers.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_shutdown_lets_running_jobs_finish_and_gives_back_the_others() {
    for_each_backend(|mut app| async move {
        app.stop_workers().await;
        allow_loopback_webhooks(&app).await;
        // A sink that takes a second to answer.
        let port = common::hook_sink(Duration::from_secs(1), 0, UNAVAILABLE)
            .await
            .port;
        let id = install_workflow(&app, "event-publish", graph(port)).await;
        for n in 0..3 {
            ok(post(
                &app,
                &format!("/workflows/executeWorkflow/{id}"),
                ADMIN_KEY,
                json!({"Event": {"info": format!("e{n}"), "Attribute": []}}),
            )
            .await)
            .await;
        }
        // One worker, a grace period shorter than a job: the running one is given back.
        start_then_stop(&app, Duration::from_millis(200)).await;
        let left = jobs::list(&app.db, &[], 10).await.unwrap();
        assert_eq!(left.len(), 3);
        assert!(
            left.iter()
                .all(|j| j.status == jobs::QUEUED && j.attempts == 0 && j.worker.is_none()),
            "{left:?}"
        );

        // A long enough grace period lets the running job end: done, the others untouched.
        start_then_stop(&app, Duration::from_secs(5)).await;
        let done = jobs::list(&app.db, &[jobs::DONE], 10).await.unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(
            jobs::list(&app.db, &[jobs::QUEUED], 10)
                .await
                .unwrap()
                .len(),
            2
        );
    })
    .await;
}
