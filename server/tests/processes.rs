//! Two server processes on one database: each keeps what runs need (the validated workflow,
//! module switches, API-key principals) in memory, yet a change made through one process takes
//! effect on the other within about a second (the caches' bound), on SQLite and PostgreSQL.
mod common;

use std::time::{Duration, Instant};

use common::{for_each_backend, ADMIN_KEY};
use serde_json::{json, Value};

/// A `server` process on `database_url`, stopped when dropped.
struct Process {
    _child: tokio::process::Child,
    base: String,
}

async fn start(database_url: &str, logs: &std::path::Path) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("FLOWGATE_DATABASE_URL", database_url)
        .env("FLOWGATE_ADDR", format!("127.0.0.1:{port}"))
        .env("FLOWGATE_LOG_DIR", logs)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("server binary");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
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
    Process {
        _child: child,
        base,
    }
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

        let opened = reqwest::Client::new()
            .get(format!("{}/workflows/editor/event-publish.json", a.base))
            .header("authorization", ADMIN_KEY)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
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
