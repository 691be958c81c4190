//! Two server processes on one database: each keeps what runs need (the validated workflow,
//! module switches, API-key principals) in memory, yet a change made through one process takes
//! effect on the other within about a second (the caches' bound), on SQLite and PostgreSQL.
mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{for_each_backend, ADMIN_KEY};
use serde_json::{json, Value};

/// A `server` process on `database_url`, stopped when dropped.
struct Process {
    child: tokio::process::Child,
    base: String,
}

impl Process {
    /// Kills the process with SIGKILL: no shutdown, no chance to give jobs back.
    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

async fn start(database_url: &str, logs: &std::path::Path) -> Process {
    start_with(database_url, logs, &[]).await
}

/// A `server` process with extra environment `env`.
async fn start_with(database_url: &str, logs: &std::path::Path, env: &[(&str, &str)]) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // `FLOWGATE_TEST_SERVER_BIN` runs another build (`make drain` runs the release one).
    let bin = std::env::var("FLOWGATE_TEST_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_server").to_owned());
    let mut child = tokio::process::Command::new(bin)
        .env("FLOWGATE_DATABASE_URL", database_url)
        .env("FLOWGATE_ADDR", format!("127.0.0.1:{port}"))
        .env("FLOWGATE_LOG_DIR", logs)
        .env(
            "RUST_LOG",
            std::env::var("FLOWGATE_TEST_CHILD_LOG").unwrap_or("error".into()),
        )
        // The server sets its allocator option itself unless given one (main.rs).
        .env_remove("MIMALLOC_PURGE_DECOMMITS")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        // `FLOWGATE_TEST_CHILD_LOG=warn` shows the processes' logs.
        .stderr(if std::env::var_os("FLOWGATE_TEST_CHILD_LOG").is_some() {
            std::process::Stdio::inherit()
        } else {
            std::process::Stdio::null()
        })
        .kill_on_drop(true)
        .spawn()
        .expect("server binary");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server process exited: {status}");
        }
        let up = client
            .get(format!("{base}/servers/getVersion.json"))
            .header("authorization", ADMIN_KEY)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server process did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Process { child, base }
}

async fn call(p: &Process, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", p.base))
        .header("authorization", ADMIN_KEY)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn get_json(p: &Process, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", p.base))
        .header("authorization", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Red on its attribute (the gate's `event_attribute` scope reads tags through the attributes).
fn red_event() -> Value {
    json!({"Event": {"info": "x", "Attribute": [
        {"type": "ip-dst", "value": "192.0.2.1", "Tag": [{"name": "tlp:red"}]}
    ]}})
}

#[tokio::test]
async fn a_save_on_one_process_reaches_the_other_within_a_second() {
    for_each_backend(|app| async move {
        let logs = tempfile::tempdir().unwrap();
        let a = start(&app.database_url, logs.path()).await;
        let b = start(&app.database_url, logs.path()).await;

        let opened = get_json(&a, "/workflows/editor/event-publish.json").await;
        let id = opened["Workflow"]["id"].as_str().unwrap().to_owned();
        let gate = common::red_gate("event-publish", "Event Publish", true);
        call(
            &a,
            &format!("/workflows/edit/{id}"),
            json!({"Workflow": {"data": gate}}),
        )
        .await;
        let run = format!("/workflows/executeWorkflow/{id}");

        // B loads (and caches) the gate: the red event is blocked there.
        let first = call(&b, &run, red_event()).await;
        assert_eq!(first["success"], false, "{first}");

        // A removes the stop node; within about a second B runs the new graph.
        let mut open = common::red_gate("event-publish", "Event Publish", true);
        open.as_object_mut().unwrap().retain(|k, _| k == "1");
        open["1"]["outputs"] = json!({"output_1": {"connections": []}});
        call(
            &a,
            &format!("/workflows/edit/{id}"),
            json!({"Workflow": {"data": open}}),
        )
        .await;
        let saved = Instant::now();
        loop {
            if call(&b, &run, red_event()).await["success"] == true {
                break;
            }
            assert!(
                saved.elapsed() < Duration::from_millis(2500),
                "the other process still runs the old workflow after {:?}",
                saved.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // And A, which made the change, ran the new graph at once.
        assert_eq!(call(&a, &run, red_event()).await["success"], true);
    })
    .await;
}

/// `attribute-after-save` → set the attribute's comment: one store edit per run.
fn comment_graph() -> Value {
    common::chain(
        "attribute-after-save",
        &[(
            "Module_attribute_comment_operation",
            "action",
            json!({"comment": "seen by the workflow"}),
        )],
    )
}

/// `trigger` → webhook to the sink on `port`.
fn webhook_graph(trigger: &str, port: u16) -> Value {
    common::chain(trigger, &[("webhook", "action", common::webhook_to(port))])
}

/// An event to hang attributes on; answers its id.
async fn new_event(app: &common::TestApp, info: &str) -> String {
    let ev = common::ok(
        common::post(
            app,
            "/events/add",
            ADMIN_KEY,
            json!({"Event": {"info": info}}),
        )
        .await,
    )
    .await;
    ev["Event"]["id"].as_str().unwrap().to_owned()
}

/// Saves `count` attributes numbered from `from` on event `event_id`, 1,000 a request: each
/// attribute's audit row carries one `attribute-after-save` run, which the log follower queues
/// (see `common::wait_queued`).
async fn add_attributes(app: &common::TestApp, event_id: &str, from: usize, count: usize) {
    for chunk in (from..from + count).collect::<Vec<_>>().chunks(1_000) {
        let attributes: Vec<Value> = chunk
            .iter()
            .map(|n| json!({"type": "text", "value": format!("value {n}")}))
            .collect();
        common::ok(
            common::post(
                app,
                &format!("/attributes/add/{event_id}"),
                ADMIN_KEY,
                json!(attributes),
            )
            .await,
        )
        .await;
    }
}

#[tokio::test]
async fn a_killed_process_loses_no_run_and_applies_no_edit_twice() {
    for_each_backend(|mut app| async move {
        use app::backend::entities::{attribute, log, workflow_run};
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        // The test's own server only takes the saves; the processes below run the jobs.
        app.stop_workers().await;
        common::install_workflow(&app, "attribute-after-save", comment_graph()).await;
        let enable = "/workflows/toggleModule/Module_attribute_comment_operation/1/0";
        common::ok(common::post(&app, enable, ADMIN_KEY, json!({})).await).await;
        // Ten attributes an event: each run reloads its event after the edit.
        for n in 0..100 {
            let event_id = new_event(&app, &format!("crash {n}")).await;
            add_attributes(&app, &event_id, n * 10, 10).await;
        }
        common::wait_queued(&app.db, 1_000).await;
        assert_eq!(
            common::job_counts(&app.db).await.get("queued"),
            Some(&1_000)
        );

        // Depth 0: the workflow's own edits cause no further runs, so each attribute is one
        // run and one edit. A short lease: the killed process's jobs run again soon.
        let env = [
            ("FLOWGATE_WORKERS", "4"),
            ("FLOWGATE_JOB_LEASE_SECS", "3"),
            ("FLOWGATE_WORKFLOW_MAX_DEPTH", "0"),
        ];
        let logs = tempfile::tempdir().unwrap();
        let first = start_with(&app.database_url, logs.path(), &env).await;
        common::wait_done(&app.db, 100, Duration::from_secs(120)).await;
        first.kill().await;
        let at_kill = common::job_counts(&app.db).await;
        assert!(
            at_kill.get("done").copied().unwrap_or(0) < 1_000,
            "the process finished before it was killed: {at_kill:?}"
        );

        let second = start_with(&app.database_url, logs.path(), &env).await;
        common::wait_done(&app.db, 1_000, Duration::from_secs(300)).await;
        let after = common::job_counts(&app.db).await;
        assert_eq!(after.get("done"), Some(&1_000), "{after:?}");
        assert_eq!(after.values().sum::<u64>(), 1_000, "{after:?}");
        // The kill caught jobs running: they ran again in the second process.
        let again = app::backend::entities::workflow_job::Entity::find()
            .filter(app::backend::entities::workflow_job::Column::Attempts.gt(1))
            .count(&app.db)
            .await
            .unwrap();
        assert!(
            again > 0,
            "no job was interrupted by the kill ({at_kill:?})"
        );

        // Each run once in the run log, each attribute edited once.
        let runs = workflow_run::Entity::find()
            .filter(workflow_run::Column::TriggerId.eq("attribute-after-save"))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(runs, 1_000, "runs in the log (killed with {at_kill:?})");
        let edits = log::Entity::find()
            .filter(log::Column::Model.eq("Attribute"))
            .filter(log::Column::Action.eq("edit"))
            .all(&app.db)
            .await
            .unwrap();
        let mut edited: Vec<i32> = edits.iter().map(|l| l.model_id).collect();
        edited.sort_unstable();
        edited.dedup();
        assert_eq!(
            (edits.len(), edited.len()),
            (1_000, 1_000),
            "audit rows of attribute edits (killed with {at_kill:?})"
        );
        let commented = attribute::Entity::find()
            .filter(attribute::Column::Comment.eq("seen by the workflow"))
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(commented, 1_000);
        drop(second);
    })
    .await;
}

/// Starts `processes` processes of `workers` workers each, waits until `total` jobs are done
/// (the last [`PHASE`] of them queued for this drain); answers jobs per second from the
/// processes' start.
async fn drain(
    app: &common::TestApp,
    processes: usize,
    workers: u64,
    total: u64,
    logs: &std::path::Path,
) -> f64 {
    let workers = workers.to_string();
    let env = [("FLOWGATE_WORKERS", workers.as_str())];
    let mut started = Vec::new();
    for _ in 0..processes {
        started.push(start_with(&app.database_url, logs, &env).await);
    }
    let clock = Instant::now();
    common::wait_done(&app.db, total, Duration::from_secs(900)).await;
    let rate = PHASE as f64 / clock.elapsed().as_secs_f64();
    drop(started);
    rate
}

/// Jobs queued for each drain.
const PHASE: u64 = 10_000;

/// A number from the environment, or `default`.
fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `FLOWGATE_TEST_SINK_MS` (the sink's answer time, default 5) and `FLOWGATE_TEST_DRAIN_WORKERS`
/// (workers a process, default 8) shape the drain; `make drain` sets them for the README's figures.
#[tokio::test]
async fn two_processes_drain_ten_thousand_jobs_each_once() {
    for_each_backend(|mut app| async move {
        app.stop_workers().await;
        common::allow_loopback_webhooks(&app).await;
        // Each delivery takes a while at the sink, as a remote receiver would.
        let sink_ms = knob("FLOWGATE_TEST_SINK_MS", 5);
        let workers = knob("FLOWGATE_TEST_DRAIN_WORKERS", 8);
        let sink = common::hook_sink(Duration::from_millis(sink_ms), 0, StatusCode::OK).await;
        let graph = webhook_graph("attribute-after-save", sink.port);
        common::install_workflow(&app, "attribute-after-save", graph).await;
        let event_id = new_event(&app, "drain").await;
        let logs = tempfile::tempdir().unwrap();

        add_attributes(&app, &event_id, 0, PHASE as usize).await;
        common::wait_queued(&app.db, PHASE).await;
        let one = drain(&app, 1, workers, PHASE, logs.path()).await;
        add_attributes(&app, &event_id, PHASE as usize, PHASE as usize).await;
        common::wait_queued(&app.db, 2 * PHASE).await;
        let two = drain(&app, 2, workers, 2 * PHASE, logs.path()).await;
        eprintln!(
            "drain of {PHASE} jobs on {} ({workers} workers a process, sink {sink_ms} ms): \
             one process {one:.0} jobs/s, two processes {two:.0} jobs/s ({:.2}x)",
            app.database_url.split(':').next().unwrap_or_default(),
            two / one
        );

        // Every job ran once: one delivery each, each with its own key.
        let keys = sink.keys.lock().unwrap().clone();
        let mut distinct = keys.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!((keys.len(), distinct.len()), (20_000, 20_000));
        assert_eq!(common::job_counts(&app.db).await.get("done"), Some(&20_000));
    })
    .await;
}

/// `log-after-save`: every process follows the audit log, yet each row is run once; a process
/// that starts after all were down picks up the rows written meanwhile.
#[tokio::test]
async fn log_rows_run_once_across_processes_and_after_a_restart() {
    for_each_backend(|mut app| async move {
        use app::backend::entities::log;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        app.stop_workers().await;
        app.stop_log_follower();
        common::allow_loopback_webhooks(&app).await;
        let sink = common::hook_sink(Duration::ZERO, 0, StatusCode::OK).await;
        common::install_workflow(
            &app,
            "log-after-save",
            webhook_graph("log-after-save", sink.port),
        )
        .await;
        let rows_after = |from: i32| {
            let db = app.db.clone();
            async move {
                log::Entity::find()
                    .filter(log::Column::Id.gt(from))
                    .filter(log::Column::Model.is_not_in(["Log", "Workflow"]))
                    .count(&db)
                    .await
                    .unwrap()
            }
        };
        let newest = || {
            let db = app.db.clone();
            async move {
                use sea_orm::QueryOrder;
                log::Entity::find()
                    .order_by_desc(log::Column::Id)
                    .one(&db)
                    .await
                    .unwrap()
                    .map_or(0, |l| l.id)
            }
        };

        // Where the followers got to, as a follower notes it. The writes below are made while
        // no process runs (on SQLite, a write racing another process's can fail).
        let from = newest().await;
        app::backend::store::settings::upsert_setting(
            &app.db,
            "Flowgate.log_follower_position",
            &json!(from),
        )
        .await
        .unwrap();
        for n in 0..10 {
            new_event(&app, &format!("logged {n}")).await;
        }
        let first = rows_after(from).await;
        assert!(first >= 10, "{first} log rows");

        // Two processes start: both followers resume there and see the same rows.
        let env = [("FLOWGATE_WORKERS", "2")];
        let logs = tempfile::tempdir().unwrap();
        let a = start_with(&app.database_url, logs.path(), &env).await;
        let b = start_with(&app.database_url, logs.path(), &env).await;
        common::wait_done(&app.db, first, Duration::from_secs(60)).await;

        // All down; rows written meanwhile run when a process starts again.
        a.kill().await;
        b.kill().await;
        for n in 0..5 {
            new_event(&app, &format!("while down {n}")).await;
        }
        let all = rows_after(from).await;
        let c = start_with(&app.database_url, logs.path(), &env).await;
        common::wait_done(&app.db, all, Duration::from_secs(60)).await;
        // A few more looks of the follower: nothing runs twice.
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let keys = sink.keys.lock().unwrap().clone();
        let mut distinct = keys.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!((keys.len(), distinct.len()), (all as usize, all as usize));
        assert_eq!(common::job_counts(&app.db).await.get("done"), Some(&all));
        drop(c);
    })
    .await;
}

/// Processes started together on a new database: one migrates and sets it up, the others wait
/// for it and find it done; all come up (SQLite file and PostgreSQL).
#[tokio::test]
async fn processes_started_together_on_a_new_database_all_come_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut stores = vec![(
        format!("sqlite://{}?mode=rwc", dir.path().join("new.db").display()),
        None,
    )];
    if let Some((url, name)) = common::new_postgres_database().await {
        stores.push((url, Some(name)));
    }
    for (url, name) in stores {
        let env = [("FLOWGATE_ADMIN_API_KEY", ADMIN_KEY)];
        let logs = tempfile::tempdir().unwrap();
        let (a, b, c) = tokio::join!(
            start_with(&url, logs.path(), &env),
            start_with(&url, logs.path(), &env),
            start_with(&url, logs.path(), &env),
        );
        // One site admin, one host organisation.
        let users = get_json(&b, "/admin/users/index.json").await;
        assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
        drop((a, b, c));
        if let Some(name) = name {
            common::drop_postgres(&name).await;
        }
    }
}

/// The server starts itself again, same pid, with its allocator option in the environment
/// (main.rs: freed pages are reset, not decommitted), and serves as usual (`start_with` starts
/// it without the option, whatever this process has).
#[tokio::test]
async fn the_server_runs_with_its_allocator_option() {
    const OPTION: &str = "MIMALLOC_PURGE_DECOMMITS";
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
    let logs = tempfile::tempdir().unwrap();
    let p = start_with(&url, logs.path(), &[("FLOWGATE_ADMIN_API_KEY", ADMIN_KEY)]).await;
    let pid = p.child.id().expect("running");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let entries: Vec<&[u8]> = environ.split(|b| *b == 0).collect();
    assert!(entries.contains(&format!("{OPTION}=0").as_bytes()));
    // Everything else it was given is still there.
    assert!(entries.contains(&format!("FLOWGATE_DATABASE_URL={url}").as_bytes()));
    let version = get_json(&p, "/servers/getVersion.json").await;
    assert!(version["version"].is_string(), "{version}");
}
