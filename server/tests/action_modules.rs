//! Modules from module servers (spec §5.3, §14): the example custom server of
//! `examples/custom-module/` (plugged in through Settings, no restart), a fake server for the
//! error paths, and a real misp-modules server with its `testaction` module (started from
//! `FLOWGATE_MISP_MODULES_BIN`, which `make test` installs and sets).
mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::routing::{get as get_route, post as post_route};
use axum::Json;
use common::{
    for_each_backend, get, install_workflow, ok, post, red_gate, run_module_on, TestApp, ADMIN_KEY,
};
use serde_json::{json, Value};

/// A child process killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `url` answers (up to `secs` seconds).
async fn wait_for(url: &str, secs: u64) {
    for _ in 0..secs * 10 {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not come up within {secs} s");
}

/// A module server that misbehaves: `refuses` answers an error, `crashes` a 500 without
/// JSON, `stalls` answers after 3 s.
async fn fake_server() -> u16 {
    let action = |name: &str| {
        json!({"name": name, "type": "action",
        "meta": {"module-type": ["action"], "config": {"params": {}}}})
    };
    let listing = json!([action("refuses"), action("crashes"), action("stalls"),
        {"name": "dns", "meta": {"module-type": ["expansion"]}}]);
    let app = axum::Router::new()
        .route(
            "/modules",
            get_route(move || {
                let l = listing.clone();
                async move { Json(l) }
            }),
        )
        .route(
            "/query",
            post_route(|Json(body): Json<Value>| async move {
                match body["module"].as_str() {
                    Some("refuses") => (
                        axum::http::StatusCode::OK,
                        json!({"error": "Upstream refused."}).to_string(),
                    ),
                    Some("stalls") => {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        (
                            axum::http::StatusCode::OK,
                            json!({"data": true}).to_string(),
                        )
                    }
                    _ => (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "Traceback (most recent call last)".to_owned(),
                    ),
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

async fn set(app: &TestApp, name: &str, value: Value) {
    ok(post(
        app,
        &format!("/servers/serverSettingsEdit/{name}"),
        ADMIN_KEY,
        json!({"value": value}),
    )
    .await)
    .await;
}

fn event(tag: &str) -> Value {
    json!({"Event": {"id": "7", "info": "Custom module test", "Tag": [{"name": tag}],
        "Attribute": [{"uuid": "a1", "type": "domain", "value": "evil.example", "Tag": []}]}})
}

#[tokio::test]
async fn custom_module_servers_plug_in_without_a_restart() {
    let port = free_port();
    let script = format!(
        "{}/../examples/custom-module/server.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let _custom = Server(
        Command::new("python3")
            .args([script.as_str(), "--port", &port.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 runs the example custom module server"),
    );
    wait_for(&format!("http://127.0.0.1:{port}/healthcheck"), 20).await;
    let fake = fake_server().await;
    let closed = free_port();
    for_each_backend(|app| async move {
        let none = ok(get(&app, "/workflows/moduleServers", ADMIN_KEY).await).await;
        assert_eq!(none["servers"], json!([]));
        set(&app, "Plugin.Action_services_extra",
            json!(format!("http://127.0.0.1:{port}\nhttp://127.0.0.1:{fake}, http://127.0.0.1:{closed}"))).await;

        // Each server's status; the one that is down is reported, not an error.
        let servers = ok(get(&app, "/workflows/moduleServers", ADMIN_KEY).await).await["servers"].clone();
        assert_eq!(servers[0]["reachable"], true, "{servers}");
        assert_eq!(servers[0]["source"], "custom");
        assert_eq!(servers[0]["modules"], json!(["note_to_ticket", "has_tag"]));
        assert_eq!(servers[1]["modules"], json!(["refuses", "crashes", "stalls"]), "only action modules");
        assert_eq!(servers[2]["reachable"], false);
        assert!(servers[2]["message"].as_str().unwrap().starts_with("unreachable"), "{servers}");
        let view = ok(get(&app, "/workflows/moduleView/note_to_ticket", ADMIN_KEY).await).await;
        assert!(view.to_string().contains("\"is_custom\":true"), "{view}");

        // The custom action runs for real (Jinja params rendered first).
        let run = run_module_on(&app, "event-publish", "note_to_ticket",
            json!({"message": "Look at {{ Event.info }}", "queue": "cti"}), event("tlp:green")).await;
        assert_eq!(run["outcome"], "success", "{run}");
        let notes: Value = reqwest::get(format!("http://127.0.0.1:{port}/notes")).await.unwrap().json().await.unwrap();
        assert_eq!(notes.as_array().unwrap().last().unwrap(),
            &json!({"queue": "cti", "event": "Custom module test", "message": "Look at Custom module test"}));
        let run = run_module_on(&app, "event-publish", "note_to_ticket", json!({"message": ""}), event("tlp:green")).await;
        assert!(run["errors"].to_string().contains("The note is empty."), "{run}");

        // The custom logic module routes: tlp:red ⇒ output 1 ⇒ stop-execution.
        let mut graph = red_gate("event-publish", "Event Publish", true);
        graph["2"]["data"]["id"] = json!("has_tag");
        graph["2"]["data"]["indexed_params"] = json!({"tag": "tlp:red"});
        let id = install_workflow(&app, "event-publish", graph).await;
        ok(post(&app, "/workflows/toggleModule/has_tag/1/0", ADMIN_KEY, json!({})).await).await;
        let red: Value = post(&app, &format!("/workflows/executeWorkflow/{id}"), ADMIN_KEY, event("tlp:red")).await.json().await.unwrap();
        assert_eq!(red["outcome"], "blocked", "{red}");
        let green: Value = post(&app, &format!("/workflows/executeWorkflow/{id}"), ADMIN_KEY, event("tlp:green")).await.json().await.unwrap();
        assert_eq!(green["outcome"], "success", "{green}");

        // Error paths: readable node errors, and the timeout holds.
        set(&app, "Plugin.Action_timeout", json!(1)).await;
        let run = run_module_on(&app, "event-publish", "refuses", json!({}), event("x")).await;
        assert!(run["errors"].to_string().contains("Upstream refused."), "{run}");
        let run = run_module_on(&app, "event-publish", "crashes", json!({}), event("x")).await;
        assert!(run["errors"].to_string().contains("without JSON"), "{run}");
        let started = std::time::Instant::now();
        let run = run_module_on(&app, "event-publish", "stalls", json!({}), event("x")).await;
        assert!(run["errors"].to_string().contains("timed out"), "{run}");
        assert!(started.elapsed() < Duration::from_millis(2900));

        // Removed from the settings: gone from the registry.
        set(&app, "Plugin.Action_services_extra", json!("")).await;
        let r = get(&app, "/workflows/moduleView/note_to_ticket", ADMIN_KEY).await;
        assert_eq!(r.status(), 404);
    })
    .await;
}

/// A real misp-modules server (PyPI `misp-modules`) and its `testaction` module.
#[tokio::test]
async fn misp_modules_testaction_runs_on_a_real_server() {
    let Ok(bin) = std::env::var("FLOWGATE_MISP_MODULES_BIN") else {
        eprintln!("FLOWGATE_MISP_MODULES_BIN is not set (make test sets it): real misp-modules test not run");
        return;
    };
    let port = free_port();
    let _server = Server(
        Command::new(&bin)
            .args(["-l", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("misp-modules starts"),
    );
    wait_for(&format!("http://127.0.0.1:{port}/modules"), 90).await;
    for_each_backend(|app| async move {
        set(&app, "Plugin.Action_services_port", json!(port)).await;
        set(&app, "Plugin.Action_services_enable", json!(true)).await;
        let refreshed =
            ok(post(&app, "/workflows/refreshModules", ADMIN_KEY, json!({})).await).await;
        let server = &refreshed["servers"][0];
        assert_eq!(
            (server["source"].as_str(), server["reachable"].as_bool()),
            (Some("misp-modules"), Some(true)),
            "{refreshed}"
        );
        assert!(
            server["modules"]
                .as_array()
                .unwrap()
                .contains(&json!("testaction")),
            "{refreshed}"
        );
        let view = ok(get(&app, "/workflows/moduleView/testaction", ADMIN_KEY).await).await;
        assert!(
            view.to_string().contains("\"is_misp_module\":true"),
            "{view}"
        );
        let run = run_module_on(
            &app,
            "event-publish",
            "testaction",
            json!({}),
            event("tlp:green"),
        )
        .await;
        assert_eq!(run["outcome"], "success", "{run}");
        assert_eq!(run["errors"], json!([]), "{run}");
    })
    .await;
}
