//! Triggers fire from the real actions (spec §3): each action through the REST API, the data
//! its workflow received (read from the debug reports, `/init` carries the raw and the
//! core-format data), and, for blocking triggers, the action refused with nothing changed.
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post as post_route;
use axum::Json;
use common::{
    for_each_backend, get, install_workflow, ok, post, red_gate, TestApp, ADMIN_EMAIL, ADMIN_KEY,
};
use serde_json::{json, Value};

type Reports = Arc<Mutex<Vec<(String, Value)>>>;

/// A debug-report sink (MISP's webhook-listener): records every POST as (path, body).
async fn debug_sink() -> (u16, Reports) {
    let seen: Reports = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let app = axum::Router::new().fallback(post_route(
        move |uri: axum::http::Uri, Json(body): Json<Value>| {
            let record = Arc::clone(&record);
            async move {
                record.lock().unwrap().push((uri.path().to_owned(), body));
                "ok"
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
}

/// A workflow holding only its trigger node.
fn trigger_only(id: &str, blocking: bool) -> Value {
    let mut g = red_gate(id, id, blocking);
    g.as_object_mut().unwrap().retain(|k, _| k == "1");
    g["1"]["outputs"] = json!({"output_1": {"connections": []}});
    g
}

/// Installs a trigger-only workflow in debug mode on each trigger.
async fn listen(app: &TestApp, triggers: &[&str]) {
    for t in triggers {
        let id = install_workflow(app, t, trigger_only(t, false)).await;
        ok(post(
            app,
            &format!("/workflows/debugToggleField/{id}/1"),
            ADMIN_KEY,
            json!({}),
        )
        .await)
        .await;
    }
}

/// The raw data of the `n`-th run (0-based) of `trigger`, waiting up to 10 s for it.
async fn nth_run(seen: &Reports, trigger: &str, n: usize) -> Value {
    let prefix = format!("/{trigger}/init");
    for _ in 0..200 {
        let found: Vec<Value> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, _)| path.starts_with(&prefix))
            .map(|(_, body)| body["data"].clone())
            .collect();
        if let Some(data) = found.get(n) {
            return data.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no run {n} of {trigger}: {:?}",
        seen.lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect::<Vec<_>>()
    );
}

fn runs_of(seen: &Reports, trigger: &str) -> usize {
    let prefix = format!("/{trigger}/init");
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with(&prefix))
        .count()
}

#[tokio::test]
async fn non_blocking_triggers_fire_from_real_actions() {
    for_each_backend(|app| async move {
        let (port, seen) = debug_sink().await;
        ok(post(&app, "/servers/serverSettingsEdit/Plugin.Workflow_debug_url", ADMIN_KEY,
            json!({"value": format!("http://127.0.0.1:{port}")})).await).await;

        // Nothing listens yet: actions run no workflow.
        ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Before"})).await).await;
        listen(&app, &["event-after-save", "event-after-save-new", "attribute-after-save",
            "object-after-save", "event-report-after-save", "sighting-after-save",
            "tag-attached-after-save", "post-after-save", "shadow-attribute-after-save",
            "user-after-save"]).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(seen.lock().unwrap().is_empty(), "no run before anything listened");

        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Watched", "Tag": [{"name": "tlp:green"}],
            "Attribute": [{"type": "ip-dst", "value": "203.0.113.5"}],
            "Object": [{"name": "domain-ip", "Attribute": [{"type": "domain", "object_relation": "domain", "value": "watched.example"}]}]})).await).await;
        let ev_id = ev["Event"]["id"].as_str().unwrap().to_owned();

        // event-after-save: the row with Orgc and tags, no attributes.
        let row = nth_run(&seen, "event-after-save", 0).await;
        assert_eq!(row["original"]["Event"]["info"], "Watched");
        assert_eq!(row["original"]["Event"]["Tag"][0]["name"], "tlp:green");
        assert!(row["original"]["Event"]["Orgc"]["name"].is_string());
        assert!(row["original"]["Event"].get("Attribute").is_none(), "{row}");
        // event-after-save-new: the whole event.
        let full = nth_run(&seen, "event-after-save-new", 0).await;
        assert_eq!(full["original"]["Event"]["Attribute"][0]["value"], "203.0.113.5");
        assert_eq!(full["original"]["Event"]["Object"][0]["Attribute"][0]["value"], "watched.example");
        assert_eq!(full["normalized"]["Event"]["_AttributeFlattened"].as_array().unwrap().len(), 2, "core format");
        // attribute-after-save, once per attribute, inside its event (and object).
        let mut attrs = [nth_run(&seen, "attribute-after-save", 0).await, nth_run(&seen, "attribute-after-save", 1).await];
        attrs.sort_by_key(|a| a["original"]["Event"].get("Object").is_some());
        assert_eq!(attrs[0]["original"]["Event"]["Attribute"][0]["value"], "203.0.113.5");
        assert_eq!(attrs[1]["original"]["Event"]["Object"][0]["Attribute"][0]["value"], "watched.example");
        assert_eq!(attrs[0]["original"]["Event"]["Attribute"].as_array().unwrap().len(), 1);
        // object-after-save: the object in its event.
        let obj = nth_run(&seen, "object-after-save", 0).await;
        assert_eq!(obj["original"]["Event"]["Object"][0]["name"], "domain-ip");

        // attributes/add, then a sighting on it.
        let added = ok(post(&app, &format!("/attributes/add/{ev_id}"), ADMIN_KEY, json!({"type": "domain", "value": "new.example"})).await).await;
        let attr = nth_run(&seen, "attribute-after-save", 2).await;
        assert_eq!(attr["original"]["Event"]["Attribute"][0]["value"], "new.example");
        ok(post(&app, &format!("/sightings/add/{}", added["Attribute"]["id"].as_str().unwrap()), ADMIN_KEY, json!({"source": "sensor"})).await).await;
        let sighted = nth_run(&seen, "sighting-after-save", 0).await;
        assert_eq!(sighted["original"]["Event"]["Attribute"][0]["value"], "new.example");
        assert_eq!(sighted["original"]["Event"]["Attribute"][0]["Sighting"][0]["source"], "sensor");

        // A report, a tag, a post, a proposal, a user.
        ok(post(&app, &format!("/eventReports/add/{ev_id}"), ADMIN_KEY, json!({"name": "Findings", "content": "# x"})).await).await;
        let report = nth_run(&seen, "event-report-after-save", 0).await;
        assert_eq!(report["original"]["Event"]["EventReport"][0]["name"], "Findings");
        ok(post(&app, "/tags/attachTagToObject", ADMIN_KEY, json!({"uuid": ev["Event"]["uuid"], "tag": "PAP:GREEN", "local": true})).await).await;
        let tagged = nth_run(&seen, "tag-attached-after-save", 0).await;
        assert_eq!(tagged["original"]["Tag"]["name"], "PAP:GREEN");
        assert_eq!(tagged["original"]["Tag"]["local"], true);
        assert_eq!(tagged["original"]["Event"]["id"], ev_id.as_str());
        ok(post(&app, &format!("/posts/add/event/{ev_id}"), ADMIN_KEY, json!({"Post": {"message": "Look"}})).await).await;
        let posted = nth_run(&seen, "post-after-save", 0).await;
        assert_eq!(posted["original"]["Post"]["contents"], "Look");
        assert_eq!(posted["original"]["Thread"]["event_id"], ev_id.as_str());
        assert_eq!(posted["original"]["Event"]["info"], "Watched");
        ok(post(&app, &format!("/shadowAttributes/add/{ev_id}"), ADMIN_KEY, json!({"type": "ip-dst", "value": "198.51.100.9"})).await).await;
        let proposed = nth_run(&seen, "shadow-attribute-after-save", 0).await;
        assert_eq!(proposed["original"]["Event"]["ShadowAttribute"][0]["value"], "198.51.100.9");
        ok(post(&app, "/admin/users/add", ADMIN_KEY, json!({"User": {"email": "new@trigger.test", "org_id": ev["Event"]["orgc_id"], "role_id": 3, "password": "a-long-enough-password"}})).await).await;
        let user = nth_run(&seen, "user-after-save", 0).await;
        assert_eq!(user["original"]["email"], "new@trigger.test");
        assert!(user["original"].get("password").is_none(), "no password hash in workflow data");

        // Every run is in the run log with the action that fired it.
        let runs = ok(get(&app, "/workflows/logs?trigger_id=event-report-after-save", ADMIN_KEY).await).await;
        assert!(runs["WorkflowRun"][0]["action"].as_str().unwrap().starts_with("eventReports/save/"), "{runs}");
        assert_eq!(runs_of(&seen, "event-after-save-new"), 1, "edits are not new events");
    })
    .await;
}

#[tokio::test]
async fn blocking_triggers_refuse_with_nothing_changed() {
    for_each_backend(|app| async move {
        for (trigger, name) in [("event-before-save", "Event Before Save"), ("event-before-delete", "Event Before Delete"),
                                ("shadow-attribute-before-save", "Shadow Attribute Before Save")] {
            // Scope `event`: before-save data is the event row without attributes, and MISP's
            // `event_attribute` scope reads the attributes' `_allTags` only.
            let mut gate = red_gate(trigger, name, true);
            gate["2"]["data"]["indexed_params"]["scope"] = json!("event");
            install_workflow(&app, trigger, gate).await;
        }
        let events = |app: &TestApp| {
            let app_db = app.db.clone();
            async move {
                use sea_orm::{EntityTrait, PaginatorTrait};
                app::backend::entities::event::Entity::find().count(&app_db).await.unwrap()
            }
        };

        // event-before-save: a tlp:red event is not created, a green one is.
        let before = events(&app).await;
        let r = post(&app, "/events/add", ADMIN_KEY, json!({"info": "Red", "Tag": [{"name": "tlp:red"}]})).await;
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(message.starts_with("Saving the event stopped by a blocking workflow. Returned message: "), "{body}");
        assert!(message.ends_with("returned the following error: tlp:red data"), "{body}");
        assert_eq!(events(&app).await, before);
        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Green", "Tag": [{"name": "tlp:green"}],
            "Attribute": [{"type": "ip-dst", "value": "192.0.2.44"}]})).await).await;
        let ev_id = ev["Event"]["id"].as_str().unwrap().to_owned();
        // An edit that would make it red is refused and changes nothing.
        let view = ok(get(&app, &format!("/events/view/{ev_id}"), ADMIN_KEY).await).await;
        let r = post(&app, &format!("/events/edit/{ev_id}"), ADMIN_KEY, json!({"info": "Now red", "Tag": [{"name": "tlp:red"}]})).await;
        assert_eq!(r.status(), 400);
        assert_eq!(ok(get(&app, &format!("/events/view/{ev_id}"), ADMIN_KEY).await).await, view);

        // shadow-attribute-before-save: the proposal is not stored.
        let r = post(&app, &format!("/shadowAttributes/add/{ev_id}"), ADMIN_KEY, json!({"type": "ip-dst", "value": "192.0.2.45", "Tag": [{"name": "tlp:red"}]})).await;
        assert_eq!(r.status(), 200, "the gate looks at the event's tags, not the proposal's");
        ok(post(&app, "/tags/attachTagToObject", ADMIN_KEY, json!({"uuid": ev["Event"]["uuid"], "tag": "tlp:red"})).await).await;
        let proposals = ok(get(&app, &format!("/shadowAttributes/index/{ev_id}"), ADMIN_KEY).await).await.as_array().unwrap().len();
        let r = post(&app, &format!("/shadowAttributes/add/{ev_id}"), ADMIN_KEY, json!({"type": "ip-dst", "value": "192.0.2.46"})).await;
        assert_eq!(r.status(), 400);
        assert_eq!(ok(get(&app, &format!("/shadowAttributes/index/{ev_id}"), ADMIN_KEY).await).await.as_array().unwrap().len(), proposals);

        // event-before-delete: the now-red event stays.
        let view = ok(get(&app, &format!("/events/view/{ev_id}"), ADMIN_KEY).await).await;
        let r = post(&app, &format!("/events/delete/{ev_id}"), ADMIN_KEY, json!({})).await;
        assert_eq!(r.status(), 400);
        assert_eq!(ok(get(&app, &format!("/events/view/{ev_id}"), ADMIN_KEY).await).await, view);

        // user-before-save with a workflow that always stops: no account is made.
        let mut stop_all = red_gate("user-before-save", "User Before Save", true);
        stop_all["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "3", "output": "input_1"}]);
        stop_all["3"]["inputs"]["input_1"]["connections"] = json!([{"node": "1", "input": "output_1"}]);
        stop_all["3"]["data"]["indexed_params"]["message"] = json!("no new accounts");
        stop_all.as_object_mut().unwrap().remove("2");
        install_workflow(&app, "user-before-save", stop_all).await;
        let r = post(&app, "/admin/users/add", ADMIN_KEY, json!({"email": "blocked@trigger.test", "org_id": ev["Event"]["orgc_id"], "role_id": 3, "password": "a-long-enough-password"})).await;
        assert_eq!(r.status(), 400);
        let users = ok(get(&app, "/admin/users/index", ADMIN_KEY).await).await;
        assert!(!users.to_string().contains("blocked@trigger.test"));
        assert!(users.to_string().contains(ADMIN_EMAIL));

        // Each refusal is in the audit log.
        let refusals = ok(post(&app, "/admin/logs/index", ADMIN_KEY, json!({"change": "%stopped by a blocking workflow%"})).await).await;
        let models: Vec<&str> = refusals.as_array().unwrap().iter().map(|l| l["Log"]["model"].as_str().unwrap()).collect();
        assert_eq!(models, ["User", "Event", "ShadowAttribute", "Event", "Event"], "{refusals}");
    })
    .await;
}

/// tag-attached-after-save's parameters (scope, locality, tag) are checked on the raw tag link:
/// a link that does not match ends the run before the walk.
#[tokio::test]
async fn the_tag_trigger_checks_its_parameters() {
    for_each_backend(|app| async move {
        let mut graph = red_gate("tag-attached-after-save", "Tag Attached After Save", false);
        graph["1"]["data"]["indexed_params"] =
            json!({"scope": "event", "locality": "global", "tag": "tlp:amber"});
        install_workflow(&app, "tag-attached-after-save", graph).await;
        let ev = ok(post(
            &app,
            "/events/add",
            ADMIN_KEY,
            json!({"info": "Tags", "Attribute": [{"type": "ip-dst", "value": "192.0.2.7"}]}),
        )
        .await)
        .await;
        let uuid = ev["Event"]["uuid"].clone();
        for (target, tag, local) in [
            (uuid.clone(), "tlp:green", false),
            (uuid.clone(), "tlp:amber", true),
            (
                ev["Event"]["Attribute"][0]["uuid"].clone(),
                "tlp:amber",
                false,
            ),
            (uuid, "tlp:amber", false),
        ] {
            ok(post(
                &app,
                "/tags/attachTagToObject",
                ADMIN_KEY,
                json!({"uuid": target, "tag": tag, "local": local}),
            )
            .await)
            .await;
        }
        let mut outcomes = Vec::new();
        for _ in 0..200 {
            let runs = ok(get(
                &app,
                "/workflows/logs?trigger_id=tag-attached-after-save",
                ADMIN_KEY,
            )
            .await)
            .await;
            outcomes = runs["WorkflowRun"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["outcome"].as_str().unwrap().to_owned())
                .collect();
            if outcomes.len() == 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let matched = outcomes.iter().filter(|o| o.as_str() == "success").count();
        assert_eq!(outcomes.len(), 4, "{outcomes:?}");
        assert_eq!(
            matched, 1,
            "only the global tlp:amber on the event matches: {outcomes:?}"
        );
    })
    .await;
}

/// `log-after-save` follows committed audit-log rows: not the history before a workflow
/// listened, never rows about workflows or the log itself, and not rows written deeper in a
/// chain of runs than the loop guard allows.
#[tokio::test]
async fn log_after_save_follows_committed_log_rows() {
    use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, Set};
    for_each_backend(|app| async move {
        let (port, seen) = debug_sink().await;
        ok(post(
            &app,
            "/servers/serverSettingsEdit/Plugin.Workflow_debug_url",
            ADMIN_KEY,
            json!({"value": format!("http://127.0.0.1:{port}")}),
        )
        .await)
        .await;
        ok(post(
            &app,
            "/events/add",
            ADMIN_KEY,
            json!({"info": "Before listening"}),
        )
        .await)
        .await;
        listen(&app, &["log-after-save"]).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            runs_of(&seen, "log-after-save"),
            0,
            "history and workflow rows do not fire"
        );

        ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Logged"})).await).await;
        let first = nth_run(&seen, "log-after-save", 0).await;
        let row = &first["original"]["Log"];
        assert_eq!(
            (
                row["model"].as_str(),
                row["action"].as_str(),
                row["email"].as_str()
            ),
            (Some("Event"), Some("add"), Some(ADMIN_EMAIL))
        );
        assert!(row["title"].as_str().unwrap().ends_with("Logged"), "{row}");
        assert!(row.get("chain_depth").is_none(), "MISP's shape");

        let write = |model: &'static str, depth: i16| {
            let db = app.state.db.clone();
            async move {
                app::backend::entities::log::ActiveModel {
                    id: NotSet,
                    title: Set(format!("{model} at depth {depth}")),
                    created: Set(0),
                    model: Set(model.into()),
                    model_id: Set(1),
                    action: Set("edit".into()),
                    user_id: Set(0),
                    change: Set(String::new()),
                    email: Set("SYSTEM".into()),
                    org: Set("SYSTEM".into()),
                    description: Set(String::new()),
                    ip: Set(String::new()),
                    chain_depth: Set(depth),
                    carried_run: Set(None),
                }
                .insert(&db)
                .await
                .unwrap();
            }
        };
        write("Attribute", 4).await; // deeper than the default limit (3): skipped
        write("Workflow", 0).await;
        write("Log", 0).await;
        write("Tag", 3).await;
        let second = nth_run(&seen, "log-after-save", 1).await;
        assert_eq!(second["original"]["Log"]["title"], "Tag at depth 3");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(runs_of(&seen, "log-after-save"), 2);
    })
    .await;
}
