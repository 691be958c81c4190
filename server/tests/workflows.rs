//! MISP's workflow administration routes: MISP's shapes, validation that never half-writes,
//! stale-save protection, module switches, graph checks and synchronous runs.
mod common;

use app::backend::store::roles::ROLE_ORG_ADMIN;
use common::{for_each_backend, get, post, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

/// The spec's §9 example: event-publish → IF :: Tag (tlp:red, event or attribute) → Stop.
fn publish_gate() -> Value {
    common::red_gate("event-publish", "Event Publish", true)
}

/// The gate with an edge 3 → 2 added: a cycle.
fn cyclic_gate() -> Value {
    let mut g = publish_gate();
    g["3"]["outputs"] = json!({"output_1": {"connections": [{"node": "2", "output": "input_1"}]}});
    g["2"]["inputs"]["input_1"]["connections"] =
        json!([{"node": "1", "input": "output_1"}, {"node": "3", "input": "output_1"}]);
    g
}

/// The gate with a second trigger node.
fn two_triggers() -> Value {
    let mut g = publish_gate();
    let mut t = g["1"].clone();
    t["id"] = json!(4);
    t["outputs"] = json!({"output_1": {"connections": []}});
    g["4"] = t;
    g
}

fn event(tag: &str) -> Value {
    json!({"Event": {"id": "1", "info": "gate test", "published": false, "distribution": "1",
        "Tag": [{"name": tag}],
        "Attribute": [{"id": "10", "type": "ip-src", "value": "8.8.8.8", "Tag": []}]}})
}

/// Adds the publish gate through the API, as MISP's clients do (graph as a JSON string).
async fn add_gate(app: &TestApp) -> Value {
    let r = post(
        app,
        "/workflows/add.json",
        ADMIN_KEY,
        json!({"Workflow": {"name": "Publish gate", "trigger_id": "event-publish", "data": publish_gate().to_string()}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The stored row, once every run answered so far is logged and counted.
async fn stored_row(app: &TestApp, id: i32) -> app::backend::entities::workflow::Model {
    app.state.workflows.runs.settle().await;
    app::backend::store::workflows::find_workflow(&app.db, id)
        .await
        .unwrap()
        .unwrap()
}

/// §15 add/view/index: MISP's `{"Workflow": {…}}` with string ids, the graph as JSON and the
/// listening trigger's config; view works by id and by UUID.
#[tokio::test]
async fn add_view_and_index_answer_misp_shapes() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let wf = &added["Workflow"];
        assert!(wf["id"].is_string());
        assert_eq!(wf["trigger_id"], "event-publish");
        assert_eq!(wf["enabled"], false);
        assert_eq!(wf["counter"], "0");
        assert_eq!(wf["data"]["2"]["data"]["id"], "tag-if");
        assert_eq!(wf["listening_triggers"][0]["id"], "event-publish");
        assert_eq!(wf["listening_triggers"][0]["disabled"], true);

        let id = wf["id"].as_str().unwrap();
        let uuid = wf["uuid"].as_str().unwrap();
        for key in [id, uuid] {
            let viewed: Value = get(&app, &format!("/workflows/view/{key}.json"), ADMIN_KEY)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(viewed["Workflow"]["uuid"], uuid);
            assert_eq!(viewed["Workflow"]["data"], wf["data"]);
        }
        let index: Value = get(&app, "/workflows/index.json", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(index.as_array().unwrap().len(), 1);
        let quick: Value = get(
            &app,
            "/workflows/index.json?quickFilter=nothing-like-this",
            ADMIN_KEY,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(quick, json!([]));
        // quickFilter is case-insensitive on every backend and takes `%`, `_` and `\` literally.
        for (filter, expected) in [
            ("publish", 1),
            ("PUBLISH%20GATE", 1),
            ("%25", 0),
            ("gate_", 0),
            ("%5C", 0),
        ] {
            let found: Value = get(
                &app,
                &format!("/workflows/index.json?quickFilter={filter}"),
                ADMIN_KEY,
            )
            .await
            .json()
            .await
            .unwrap();
            assert_eq!(
                found.as_array().unwrap().len(),
                expected,
                "quickFilter={filter}"
            );
        }
        let deep = get(
            &app,
            "/workflows/index.json?page=18446744073709551615&limit=1000",
            ADMIN_KEY,
        )
        .await;
        assert_eq!(deep.status(), 200);
        assert_eq!(deep.json::<Value>().await.unwrap(), json!([]));

        let second = post(
            &app,
            "/workflows/add.json",
            ADMIN_KEY,
            json!({"Workflow": {"trigger_id": "event-publish", "data": publish_gate()}}),
        )
        .await;
        assert_eq!(second.status(), 409, "two workflows on one trigger");
    })
    .await;
}

/// §10: a rejected save (cycle, two triggers, bad JSON, unknown trigger, wrong trigger node)
/// answers 400 with every reason and leaves the stored row byte-identical.
#[tokio::test]
async fn rejected_saves_change_nothing() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let id: i32 = added["Workflow"]["id"].as_str().unwrap().parse().unwrap();
        let before = stored_row(&app, id).await;
        let path = format!("/workflows/edit/{id}.json");
        let cases = [
            (
                json!({"Workflow": {"data": cyclic_gate().to_string()}}),
                "Cannot save a workflow containing a cycle",
            ),
            (
                json!({"Workflow": {"data": two_triggers().to_string()}}),
                "no or more than one trigger",
            ),
            (json!({"Workflow": {"data": "{not json"}}), "not valid JSON"),
            (json!({"Workflow": {"data": 42}}), "must be a graph"),
            (
                json!({"Workflow": {"data": publish_gate(), "name": "x".repeat(300)}}),
                "at most 191",
            ),
        ];
        for (body, expected) in cases {
            let r = post(&app, &path, ADMIN_KEY, body).await;
            assert_eq!(r.status(), 400, "{expected}");
            let err: Value = r.json().await.unwrap();
            assert!(
                err.to_string().contains(expected),
                "{expected} not in {err}"
            );
            assert_eq!(err["url"], path);
            assert_eq!(
                stored_row(&app, id).await,
                before,
                "a rejected save changed the row"
            );
        }
        let cyclic: Value = post(
            &app,
            &path,
            ADMIN_KEY,
            json!({"Workflow": {"data": cyclic_gate()}}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(
            cyclic["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{cyclic}"
        );

        let unknown = post(
            &app,
            "/workflows/add.json",
            ADMIN_KEY,
            json!({"Workflow": {"trigger_id": "no-such-trigger", "data": publish_gate()}}),
        )
        .await;
        assert_eq!(unknown.status(), 400);
        let mismatch = post(
            &app,
            "/workflows/add.json",
            ADMIN_KEY,
            json!({"Workflow": {"trigger_id": "event-after-save", "data": publish_gate()}}),
        )
        .await;
        assert_eq!(mismatch.status(), 400);
        let malformed = app
            .api
            .post(app.url("/workflows/add.json"))
            .header("authorization", ADMIN_KEY)
            .header("content-type", "application/json")
            .body("{\"Workflow\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(malformed.status(), 400);
        let body: Value = malformed.json().await.unwrap();
        assert!(body["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON"));
        assert_eq!(
            app::backend::store::workflows::count_workflows(&app.db)
                .await
                .unwrap(),
            1
        );
    })
    .await;
}

/// A save carrying the timestamp its client loaded is refused with 409 once someone else has
/// saved in between; the other save stays.
#[tokio::test]
async fn stale_saves_are_refused() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
        let seen = added["Workflow"]["timestamp"].clone();
        let path = format!("/workflows/edit/{id}.json");
        let first = post(
            &app,
            &path,
            ADMIN_KEY,
            json!({"Workflow": {"name": "First editor", "timestamp": seen}}),
        )
        .await;
        assert_eq!(first.status(), 200);
        let first: Value = first.json().await.unwrap();
        assert_ne!(first["Workflow"]["timestamp"], seen);
        let second = post(
            &app,
            &path,
            ADMIN_KEY,
            json!({"Workflow": {"name": "Second editor", "timestamp": seen}}),
        )
        .await;
        assert_eq!(second.status(), 409);
        let body: Value = second.json().await.unwrap();
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("changed by someone else"));
        let now: Value = get(&app, &format!("/workflows/view/{id}.json"), ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(now["Workflow"]["name"], "First editor");
    })
    .await;
}

/// Every workflow route answers 403 to a missing key, a bad key and a user who is not a site
/// admin (an org admin here), and changes nothing.
#[tokio::test]
async fn workflow_routes_are_site_admin_only() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
        app.create_user(
            "orgadmin@flowgate.test",
            "org-admin-password",
            ROLE_ORG_ADMIN,
        )
        .await;
        let org_admin = app::backend::services::auth::create_authkey(
            &app.db,
            app.principal("orgadmin@flowgate.test").await.user.id,
            "",
            false,
        )
        .await
        .unwrap()
        .authkey;
        let routes: Vec<(&str, String)> = vec![
            ("GET", "/workflows/index.json".into()),
            ("GET", format!("/workflows/view/{id}.json")),
            ("POST", "/workflows/add.json".into()),
            ("POST", format!("/workflows/edit/{id}.json")),
            ("POST", format!("/workflows/delete/{id}.json")),
            ("GET", "/workflows/triggers.json".into()),
            ("GET", "/workflows/moduleIndex.json".into()),
            ("GET", "/workflows/moduleView/tag-if.json".into()),
            ("POST", "/workflows/toggleModule/count-if/1/0.json".into()),
            ("POST", format!("/workflows/debugToggleField/{id}/1.json")),
            ("POST", "/workflows/checkGraph.json".into()),
            ("POST", format!("/workflows/executeWorkflow/{id}.json")),
            (
                "POST",
                "/workflows/moduleStatelessExecution/tag-if.json".into(),
            ),
            ("GET", "/workflows/adhoc.json".into()),
            ("GET", "/workflows/editor/event-publish.json".into()),
            ("POST", "/workflows/massToggleField/enabled/1/0.json".into()),
            ("GET", "/workflows/rebuildRedis.json".into()),
            ("GET", "/workflows/logs.json".into()),
            ("GET", "/workflows/logs/1.json".into()),
        ];
        for (method, path) in &routes {
            for key in [None, Some("0".repeat(40)), Some(org_admin.clone())] {
                let mut request = match *method {
                    "GET" => app.api.get(app.url(path)),
                    _ => app
                        .api
                        .post(app.url(path))
                        .json(&json!({"Workflow": {"data": publish_gate()}})),
                };
                if let Some(key) = &key {
                    request = request.header("authorization", key);
                }
                let r = request.send().await.unwrap();
                assert_eq!(
                    r.status(),
                    403,
                    "{method} {path} with {:?}",
                    key.as_deref().map(|k| &k[..4])
                );
            }
        }
        assert_eq!(
            app::backend::store::workflows::count_workflows(&app.db)
                .await
                .unwrap(),
            1
        );
        assert!(!stored_row(&app, id.parse().unwrap()).await.debug_enabled);
    })
    .await;
}

/// §15 triggers/moduleIndex/toggleModule: MISP's install defaults, toggles that persist, and
/// the trigger list carrying each trigger's workflow.
#[tokio::test]
async fn triggers_and_modules_toggle_and_persist() {
    for_each_backend(|app| async move {
        add_gate(&app).await;
        let triggers: Vec<Value> = get(&app, "/workflows/triggers.json", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        let publish = triggers
            .iter()
            .find(|t| t["id"] == "event-publish")
            .unwrap();
        assert_eq!(publish["blocking"], true);
        assert_eq!(publish["disabled"], true);
        assert_eq!(publish["Workflow"]["name"], "Publish gate");
        assert!(triggers
            .iter()
            .any(|t| t["id"] == "attribute-after-save" && t["Workflow"] == json!({})));

        let r = post(
            &app,
            "/workflows/toggleModule/event-publish/1/1.json",
            ADMIN_KEY,
            json!({}),
        )
        .await;
        assert_eq!(r.status(), 200);
        let saved: Value = r.json().await.unwrap();
        assert_eq!(saved["success"], true);
        let enabled: Vec<Value> = get(&app, "/workflows/triggers.json?enabled=1", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            enabled.iter().map(|t| t["id"].clone()).collect::<Vec<_>>(),
            [json!("event-publish")]
        );
        let blocking: Vec<Value> = get(
            &app,
            "/workflows/triggers.json?blocking=1&scope=event",
            ADMIN_KEY,
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(blocking
            .iter()
            .all(|t| t["blocking"] == true && t["scope"] == "event"));

        let logic: Vec<Value> = get(&app, "/workflows/moduleIndex.json?type=logic", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        let state = |mods: &[Value], id: &str| {
            mods.iter()
                .find(|m| m["id"] == id)
                .map(|m| m["disabled"].clone())
        };
        assert_eq!(
            state(&logic, "tag-if"),
            Some(json!(false)),
            "tag-if is enabled at install"
        );
        assert_eq!(
            state(&logic, "count-if"),
            Some(json!(true)),
            "count-if is disabled at install"
        );
        assert_eq!(
            post(
                &app,
                "/workflows/toggleModule/count-if/1/0.json",
                ADMIN_KEY,
                json!({})
            )
            .await
            .status(),
            200
        );
        assert_eq!(
            post(
                &app,
                "/workflows/toggleModule/tag-if/0/0.json",
                ADMIN_KEY,
                json!({})
            )
            .await
            .status(),
            200
        );
        // A second server process reads the switches from the database.
        let second = app.restart().await;
        let logic: Vec<Value> = app
            .api
            .get(format!(
                "http://{second}/workflows/moduleIndex.json?type=logic"
            ))
            .header("authorization", ADMIN_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(state(&logic, "count-if"), Some(json!(false)));
        assert_eq!(state(&logic, "tag-if"), Some(json!(true)));

        assert_eq!(
            post(
                &app,
                "/workflows/toggleModule/count-if/1/1.json",
                ADMIN_KEY,
                json!({})
            )
            .await
            .status(),
            400,
            "not a trigger"
        );
        assert_eq!(
            post(
                &app,
                "/workflows/toggleModule/nope/1/0.json",
                ADMIN_KEY,
                json!({})
            )
            .await
            .status(),
            404
        );
        let view: Value = get(&app, "/workflows/moduleView/event-publish.json", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(view["listening_workflows"].as_array().unwrap().len(), 1);
    })
    .await;
}

/// §10 checkGraph answers MISP's shape for a cyclic graph and for a clean one.
#[tokio::test]
async fn check_graph_reports_cycles() {
    for_each_backend(|app| async move {
        let bad: Value = post(
            &app,
            "/workflows/checkGraph.json",
            ADMIN_KEY,
            json!({"graph": cyclic_gate()}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(bad["is_acyclic"]["is_acyclic"], false);
        assert!(!bad["is_acyclic"]["cycles"].as_array().unwrap().is_empty());
        let good: Value = post(
            &app,
            "/workflows/checkGraph.json",
            ADMIN_KEY,
            json!({"graph": publish_gate().to_string()}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(good["is_acyclic"]["is_acyclic"], true);
        assert_eq!(
            good["multiple_output_connection"]["has_multiple_output_connection"],
            false
        );
    })
    .await;
}

/// §6 executeWorkflow: a tlp:red event is blocked by the stop node, a tlp:green one passes; both
/// body forms work; a data string that is not JSON answers "Invalid JSON"; every run counts and
/// is kept in the run log with its nodes.
#[tokio::test]
async fn execute_workflow_runs_and_logs() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
        let path = format!("/workflows/executeWorkflow/{id}.json");

        let red: Value = post(
            &app,
            &path,
            ADMIN_KEY,
            json!({"Workflow": {"data": event("tlp:red").to_string()}}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(red["success"], false, "{red}");
        assert_eq!(red["outcome"], "blocked");
        assert!(red["errors"].to_string().contains("tlp:red data"));

        let green: Value = post(&app, &path, ADMIN_KEY, event("tlp:green"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(green["success"], true, "{green}");
        assert_eq!(green["outcome"], "success");

        let invalid: Value = post(
            &app,
            &path,
            ADMIN_KEY,
            json!({"Workflow": {"data": "{nope"}}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(
            invalid,
            json!({"success": false, "outcome": "Invalid JSON"})
        );

        let row = stored_row(&app, id.parse().unwrap()).await;
        assert_eq!(row.counter, 2);
        use sea_orm::EntityTrait;
        let runs = app::backend::entities::workflow_run::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].outcome, "blocked");
        assert_eq!(runs[1].outcome, "success");
        assert!(runs
            .iter()
            .all(|r| r.action == "executeWorkflow" && r.workflow_id == row.id));
        let mut nodes = 0;
        for run in &runs {
            let (_, run_nodes) = app::backend::store::runs::find_run(&app.db, run.id)
                .await
                .unwrap()
                .unwrap();
            assert!(
                run.nodes.is_some(),
                "a run outside debug mode keeps its nodes inline"
            );
            nodes += run_nodes.len();
        }
        assert!(nodes >= 2, "node records missing");

        let missing = post(
            &app,
            "/workflows/executeWorkflow/999.json",
            ADMIN_KEY,
            json!({}),
        )
        .await;
        assert_eq!(missing.status(), 404);
    })
    .await;
}

/// Runs answered at the same time share run-log commits (group commit): each still gets its own
/// run id, which a reader of the log finds as soon as the answer arrives, and the counter counts
/// every run. A save
/// right after runs (the workflow cached for runs) takes effect on the next run.
#[tokio::test]
async fn concurrent_runs_are_each_logged_once_and_counted() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
        let path = format!("/workflows/executeWorkflow/{id}.json");
        let runs = (0..40).map(|i| {
            let app = &app;
            let path = path.clone();
            async move {
                let tag = if i % 2 == 0 { "tlp:red" } else { "tlp:green" };
                let r = post(app, &path, ADMIN_KEY, event(tag)).await;
                assert_eq!(r.status(), 200);
                let v: Value = r.json().await.unwrap();
                assert_eq!(v["success"], i % 2 == 1, "{v}");
                v["run_id"].as_i64().expect("run id")
            }
        });
        let ids = futures::future::join_all(runs).await;
        let distinct: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), 40, "every run has its own id");
        // The answer does not wait for the log, but a reader finds every run it names.
        for run_id in &ids {
            let r = get(&app, &format!("/workflows/logs/{run_id}"), ADMIN_KEY).await;
            assert_eq!(r.status(), 200, "run {run_id} is not in the log");
        }
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let logged = app::backend::entities::workflow_run::Entity::find()
            .filter(app::backend::entities::workflow_run::Column::Id.is_in(ids.clone()))
            .all(&app.db)
            .await
            .unwrap();
        assert_eq!(logged.len(), 40, "every answered run is in the log");
        assert_eq!(logged.iter().filter(|r| r.outcome == "blocked").count(), 20);
        assert_eq!(stored_row(&app, id.parse().unwrap()).await.counter, 40);

        // Saved without the stop node: the very next run passes the tlp:red event.
        let mut graph = publish_gate();
        graph.as_object_mut().unwrap().retain(|k, _| k == "1");
        graph["1"]["outputs"] = json!({"output_1": {"connections": []}});
        let saved = post(
            &app,
            &format!("/workflows/edit/{id}.json"),
            ADMIN_KEY,
            json!({"Workflow": {"data": graph}}),
        )
        .await;
        assert_eq!(saved.status(), 200);
        let after: Value = post(&app, &path, ADMIN_KEY, event("tlp:red"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(after["success"], true, "{after}");
    })
    .await;
}

/// §15 moduleStatelessExecution: one module on MISP's form fields (`input_data` as a JSON
/// string, `module_indexed_param`, `convert_data`); answers `{success, errors}` (plus the data);
/// unknown modules 404, triggers, bad params and bad JSON 400; nothing is counted or logged.
#[tokio::test]
async fn module_stateless_execution_runs_one_module() {
    for_each_backend(|app| async move {
        let path = "/workflows/moduleStatelessExecution/tag-if.json";
        let params = json!({"scope": "event", "condition": "in_or", "tags": ["tlp:red"]});
        let red = post(
            &app,
            path,
            ADMIN_KEY,
            json!({"input_data": event("tlp:red").to_string(), "module_indexed_param": params,
                   "convert_data": true}),
        )
        .await;
        assert_eq!(red.status(), 200);
        let red: Value = red.json().await.unwrap();
        assert_eq!(red["success"], true, "{red}");
        assert_eq!(red["errors"], json!([]));
        assert_eq!(
            red["data"]["Event"]["Attribute"][0]["_allTags"],
            json!([
                {"name": "tlp:red", "inherited": true}
            ]),
            "core format built: {red}"
        );

        let green: Value = post(
            &app,
            path,
            ADMIN_KEY,
            json!({"input_data": event("tlp:green"), "module_indexed_param": params,
                   "convert_data": "1"}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(green["success"], false, "{green}");

        // Without convert_data the data is used as given: `Event.Tag` is there, so the event scope
        // still answers.
        let raw: Value = post(
            &app,
            path,
            ADMIN_KEY,
            json!({"input_data": event("tlp:red").to_string(), "module_indexed_param": params}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(raw["success"], true, "{raw}");
        assert!(raw["data"]["Event"]["Attribute"][0]
            .get("_allTags")
            .is_none());

        for (path, body, status, needle) in [
            (
                "/workflows/moduleStatelessExecution/nope.json",
                json!({}),
                404,
                "Invalid module",
            ),
            (
                "/workflows/moduleStatelessExecution/event-publish.json",
                json!({}),
                400,
                "trigger",
            ),
            (path, json!({"input_data": "{nope"}), 400, "input_data"),
            (
                path,
                json!({"module_indexed_param": "x"}),
                400,
                "module_indexed_param",
            ),
            (
                path,
                json!({"input_data": "[1]", "convert_data": true}),
                400,
                "normalising",
            ),
        ] {
            let r = post(&app, path, ADMIN_KEY, body.clone()).await;
            assert_eq!(r.status(), status, "{path} {body}");
            let err: Value = r.json().await.unwrap();
            assert!(
                err["message"].as_str().unwrap_or_default().contains(needle),
                "{path} {body}: {err}"
            );
        }
        use sea_orm::{EntityTrait, PaginatorTrait};
        app.state.workflows.runs.settle().await;
        let runs = app::backend::entities::workflow_run::Entity::find()
            .count(&app.db)
            .await
            .unwrap();
        assert_eq!(runs, 0, "a stateless execution is not a workflow run");
    })
    .await;
}

/// debugToggleField and delete answer MISP's saved response and persist.
#[tokio::test]
async fn debug_toggle_and_delete() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
        let r: Value = post(
            &app,
            &format!("/workflows/debugToggleField/{id}/1.json"),
            ADMIN_KEY,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(r["saved"], true);
        assert!(stored_row(&app, id.parse().unwrap()).await.debug_enabled);
        assert_eq!(
            post(
                &app,
                &format!("/workflows/debugToggleField/{id}/2.json"),
                ADMIN_KEY,
                json!({})
            )
            .await
            .status(),
            400
        );

        let deleted: Value = post(
            &app,
            &format!("/workflows/delete/{id}.json"),
            ADMIN_KEY,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(deleted["message"], "Workflow deleted.");
        assert_eq!(
            get(&app, &format!("/workflows/view/{id}.json"), ADMIN_KEY)
                .await
                .status(),
            404
        );
        assert_eq!(
            post(
                &app,
                &format!("/workflows/delete/{id}.json"),
                ADMIN_KEY,
                json!({})
            )
            .await
            .status(),
            404
        );
    })
    .await;
}

/// §9 `view?format=dot|mermaid` renders the workflow graph as text.
#[tokio::test]
async fn workflow_view_renders_dot_and_mermaid() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
        let mermaid = get(
            &app,
            &format!("/workflows/view/{id}?format=mermaid"),
            ADMIN_KEY,
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(mermaid.starts_with("flowchart LR\n"));
        assert!(mermaid.contains("1{{"), "trigger as a hexagon: {mermaid}");
        assert!(
            mermaid.contains("2[/"),
            "logic as a parallelogram: {mermaid}"
        );
        let dot = get(&app, &format!("/workflows/view/{id}?format=dot"), ADMIN_KEY)
            .await
            .text()
            .await
            .unwrap();
        assert!(dot.contains("1 [label=") && dot.contains("shape=diamond"));
        assert!(dot.contains("2 -> 3 [label=\"output_1\"];"));
    })
    .await;
}

/// §12 run log: runs listed newest first, filtered by workflow, trigger and outcome, paged by
/// cursor; a run's page shows its nodes; bad filters are 400.
#[tokio::test]
async fn run_log_lists_filters_pages_and_details() {
    for_each_backend(|app| async move {
        let added = add_gate(&app).await;
        let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
        let path = format!("/workflows/executeWorkflow/{id}.json");
        for tag in ["tlp:red", "tlp:green", "tlp:green", "tlp:red", "tlp:green"] {
            let r = post(&app, &path, ADMIN_KEY, event(tag)).await;
            assert_eq!(r.status(), 200);
        }
        let all: Value = get(&app, "/workflows/logs.json", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        let runs = all["WorkflowRun"].as_array().unwrap();
        assert_eq!(runs.len(), 5);
        assert_eq!(runs[0]["outcome"], "success", "newest first");
        assert_eq!(runs[1]["outcome"], "blocked");
        assert!(all["next"].is_null());

        let blocked: Value = get(&app, "/workflows/logs.json?outcome=blocked", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(blocked["WorkflowRun"].as_array().unwrap().len(), 2);
        let by_trigger: Value = get(
            &app,
            "/workflows/logs.json?trigger_id=event-after-save",
            ADMIN_KEY,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(by_trigger["WorkflowRun"], json!([]));
        let by_workflow: Value = get(
            &app,
            &format!("/workflows/logs.json?workflow_id={id}&from=0"),
            ADMIN_KEY,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(by_workflow["WorkflowRun"].as_array().unwrap().len(), 5);

        let mut seen = Vec::new();
        let mut url = "/workflows/logs.json?limit=2".to_owned();
        loop {
            let page: Value = get(&app, &url, ADMIN_KEY).await.json().await.unwrap();
            seen.extend(
                page["WorkflowRun"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].clone()),
            );
            match page["next"].as_str() {
                Some(next) => url = format!("/workflows/logs.json?limit=2&before={next}"),
                None => break,
            }
        }
        let expected: Vec<Value> = runs.iter().map(|r| r["id"].clone()).collect();
        assert_eq!(seen, expected, "cursor paging lost or repeated runs");

        let run_id = runs[1]["id"].as_str().unwrap();
        let detail: Value = get(&app, &format!("/workflows/logs/{run_id}.json"), ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(detail["WorkflowRun"]["outcome"], "blocked");
        let nodes = detail["WorkflowRunNode"].as_array().unwrap();
        let stop = nodes
            .iter()
            .find(|n| n["module_id"] == "stop-execution")
            .expect("stop node in the trace");
        assert_eq!(stop["node_id"], 3);
        assert!(stop["errors"].to_string().contains("tlp:red data"));

        assert_eq!(
            get(&app, "/workflows/logs.json?outcome=maybe", ADMIN_KEY)
                .await
                .status(),
            400
        );
        assert_eq!(
            get(&app, "/workflows/logs.json?before=garbage", ADMIN_KEY)
                .await
                .status(),
            400
        );
        assert_eq!(
            get(&app, "/workflows/logs/999999.json", ADMIN_KEY)
                .await
                .status(),
            404
        );
        assert_eq!(
            get(&app, "/workflows/logs/abc.json", ADMIN_KEY)
                .await
                .status(),
            404
        );
    })
    .await;
}

/// massToggleField switches several modules at once; one unknown id changes nothing.
#[tokio::test]
async fn mass_toggle_switches_modules_all_or_nothing() {
    for_each_backend(|app| async move {
        let path = "/workflows/massToggleField/enabled/1/0.json";
        let r: Value = post(
            &app,
            path,
            ADMIN_KEY,
            json!({"Workflow": {"module_ids": "[\"count-if\", \"threat-level-if\"]"}}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(r["count"], 2);
        let logic: Vec<Value> = get(
            &app,
            "/workflows/moduleIndex.json?type=logic&enabled=1",
            ADMIN_KEY,
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(logic.iter().any(|m| m["id"] == "count-if"));
        assert!(logic.iter().any(|m| m["id"] == "threat-level-if"));

        let r = post(
            &app,
            "/workflows/massToggleField/enabled/0/0.json",
            ADMIN_KEY,
            json!({"Workflow": {"module_ids": ["count-if", "nope"]}}),
        )
        .await;
        assert_eq!(r.status(), 404);
        let logic: Vec<Value> = get(
            &app,
            "/workflows/moduleIndex.json?type=logic&enabled=1",
            ADMIN_KEY,
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(
            logic.iter().any(|m| m["id"] == "count-if"),
            "a refused mass toggle changed a module"
        );
        assert_eq!(
            post(&app, path, ADMIN_KEY, json!({"Workflow": {}}))
                .await
                .status(),
            400
        );
    })
    .await;
}

/// §11 debug mode: with debug on, the run's reports reach `<Plugin.Workflow_debug_url>/<trigger>`
/// in order — init, one per node, end — with MISP's paths and body shape; with debug off,
/// nothing is sent.
#[tokio::test]
async fn debug_mode_posts_reports_to_the_debug_url() {
    for_each_backend(|app| async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Value)>();
        let sink =
            axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::Json<Value>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((uri.to_string(), body.0));
                    "ok"
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink_addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, sink).await.unwrap() });

        let added = add_gate(&app).await;
        let id = added["Workflow"]["id"].as_str().unwrap().to_owned();
        let set = post(
            &app,
            "/servers/serverSettingsEdit/Plugin.Workflow_debug_url.json",
            ADMIN_KEY,
            json!({"value": format!("http://{sink_addr}")}),
        )
        .await;
        assert_eq!(set.status(), 200);

        // Debug off: a run sends nothing.
        post(
            &app,
            &format!("/workflows/executeWorkflow/{id}.json"),
            ADMIN_KEY,
            event("tlp:red"),
        )
        .await;
        post(
            &app,
            &format!("/workflows/debugToggleField/{id}/1.json"),
            ADMIN_KEY,
            json!({}),
        )
        .await;
        post(
            &app,
            &format!("/workflows/executeWorkflow/{id}.json"),
            ADMIN_KEY,
            event("tlp:red"),
        )
        .await;

        let mut reports = Vec::new();
        loop {
            let (path, body) = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
                .await
                .expect("debug reports did not arrive")
                .unwrap();
            let end = path.contains("/end?");
            reports.push((path, body));
            if end {
                break;
            }
        }
        let paths: Vec<&str> = reports.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths.first().copied(),
            Some("/event-publish/init?type=blocking"),
            "{paths:?}"
        );
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with("/event-publish/exec/tag-if?result=success")),
            "{paths:?}"
        );
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with("/event-publish/exec/stop-execution?result=")),
            "{paths:?}"
        );
        assert_eq!(
            paths.last().copied(),
            Some("/event-publish/end?outcome=blocked")
        );
        let (_, init) = &reports[0];
        assert!(init["data"].get("original").is_some() && init["data"].get("normalized").is_some());
        assert_eq!(init["source"]["node_id"], "");
        let stop = reports
            .iter()
            .find(|(p, _)| p.contains("stop-execution"))
            .unwrap();
        assert_eq!(stop.1["source"]["node_id"], 3);
        assert_eq!(stop.1["source"]["module_id"], "stop-execution");
        assert!(stop.1["timestamp"].is_string());
        assert!(
            rx.try_recv().is_err(),
            "reports from the run with debug off"
        );

        // The debug run keeps each node's output in the run log; the other run keeps none.
        let runs: Value = get(&app, "/workflows/logs.json", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        let debug_run = runs["WorkflowRun"][0]["id"].as_str().unwrap().to_owned();
        let plain_run = runs["WorkflowRun"][1]["id"].as_str().unwrap().to_owned();
        let detail: Value = get(
            &app,
            &format!("/workflows/logs/{debug_run}.json"),
            ADMIN_KEY,
        )
        .await
        .json()
        .await
        .unwrap();
        let nodes = detail["WorkflowRunNode"].as_array().unwrap();
        assert!(!nodes.is_empty());
        assert!(
            nodes
                .iter()
                .all(|n| n["data"]["Event"]["info"] == "gate test"),
            "{detail}"
        );
        let plain: Value = get(
            &app,
            &format!("/workflows/logs/{plain_run}.json"),
            ADMIN_KEY,
        )
        .await
        .json()
        .await
        .unwrap();
        let plain_nodes = plain["WorkflowRunNode"].as_array().unwrap();
        assert!(!plain_nodes.is_empty(), "{plain}");
        assert!(plain_nodes.iter().all(|n| n["data"].is_null()), "{plain}");
    })
    .await;
}

/// §6.6 ad-hoc workflows: empty data creates `adhoc_<max(id)+1>` holding only its trigger; it is
/// listed with its scope; a disabled ad-hoc trigger runs nothing; enabled, it runs on the passed
/// data; event-based scopes are refused clearly.
#[tokio::test]
async fn adhoc_workflows_are_created_listed_enabled_and_run() {
    for_each_backend(|app| async move {
        add_gate(&app).await;
        let added: Value = post(&app, "/workflows/add.json", ADMIN_KEY, json!({"Workflow": {"name": "Manual gate", "data": ""}})).await.json().await.unwrap();
        let wf = &added["Workflow"];
        let trigger_id = wf["trigger_id"].as_str().unwrap().to_owned();
        assert_eq!(trigger_id, "adhoc_2", "max(id)+1");
        assert_eq!(wf["data"]["1"]["data"]["id"], trigger_id);
        assert_eq!(wf["listening_triggers"][0]["is_adhoc"], true);
        let id = wf["id"].as_str().unwrap().to_owned();

        let listed: Vec<Value> = get(&app, "/workflows/adhoc.json", ADMIN_KEY).await.json().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["id"], trigger_id);
        assert_eq!(listed[0]["trigger_scope"], "passed_roaming_data");
        assert_eq!(listed[0]["disabled"], true);
        assert_eq!(listed[0]["Workflow"]["name"], "Manual gate");

        // Trigger → stop-execution, saved through edit.
        let mut graph = wf["data"].clone();
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        graph["2"] = json!({"id": 2, "name": "Stop execution", "class": "block-type-default", "typenode": false,
            "data": {"id": "stop-execution", "name": "Stop execution", "module_type": "action", "indexed_params": {"message": "manual stop"}},
            "inputs": {"input_1": {"connections": [{"node": "1", "input": "output_1"}]}}, "outputs": [], "pos_x": 300, "pos_y": 0});
        let edited = post(&app, &format!("/workflows/edit/{id}.json"), ADMIN_KEY, json!({"Workflow": {"data": graph}})).await;
        assert_eq!(edited.status(), 200);

        let path = format!("/workflows/executeWorkflow/{id}.json");
        let disabled: Value = post(&app, &path, ADMIN_KEY, json!({"x": 1})).await.json().await.unwrap();
        assert_eq!(disabled["success"], false);
        assert!(disabled["outcome"].as_str().unwrap().contains("disabled"));

        assert_eq!(post(&app, &format!("/workflows/toggleModule/{trigger_id}/1/1.json"), ADMIN_KEY, json!({})).await.status(), 200);
        // Ad-hoc triggers take MISP core format, like the event triggers.
        let ran: Value = post(&app, &path, ADMIN_KEY, event("tlp:green")).await.json().await.unwrap();
        assert_eq!(ran["outcome"], "blocked", "{ran}");

        let mut events_scope = graph.clone();
        events_scope["1"]["data"]["indexed_params"]["scope"] = json!("events");
        assert_eq!(post(&app, &format!("/workflows/edit/{id}.json"), ADMIN_KEY, json!({"Workflow": {"data": events_scope}})).await.status(), 200);
        // `events` scope with no stored event: nothing to run.
        let none: Value = post(&app, &path, ADMIN_KEY, json!({})).await.json().await.unwrap();
        assert_eq!(none["outcome"], "No data collected.", "{none}");

        let explicit = post(&app, "/workflows/add.json", ADMIN_KEY, json!({"Workflow": {"trigger_id": "adhoc_9", "data": ""}})).await;
        assert_eq!(explicit.status(), 400);
        let no_trigger = post(&app, "/workflows/add.json", ADMIN_KEY, json!({"Workflow": {"data": publish_gate()}})).await;
        assert_eq!(no_trigger.status(), 400);
    })
    .await;
}

/// §9 the editor creates a hook trigger's workflow on first open ("Workflow for trigger <id>",
/// the trigger node alone); later opens, by trigger, id or uuid, give the same workflow.
#[tokio::test]
async fn editor_creates_the_trigger_workflow_on_first_open() {
    for_each_backend(|app| async move {
        let opened: Value = get(&app, "/workflows/editor/event-publish.json", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        let wf = &opened["Workflow"];
        assert_eq!(wf["name"], "Workflow for trigger event-publish", "{opened}");
        assert_eq!(wf["trigger_id"], "event-publish");
        assert_eq!(wf["data"]["1"]["class"], "block-type-trigger");
        assert_eq!(wf["data"]["1"]["data"]["id"], "event-publish");
        assert_eq!(
            wf["data"]["1"]["outputs"],
            json!({"output_1": {"connections": []}})
        );
        let id = wf["id"].as_str().unwrap().to_owned();
        for path in [
            "/workflows/editor/event-publish.json".to_owned(),
            format!("/workflows/editor/{id}.json"),
            format!("/workflows/editor/{}.json", wf["uuid"].as_str().unwrap()),
        ] {
            let again: Value = get(&app, &path, ADMIN_KEY).await.json().await.unwrap();
            assert_eq!(again["Workflow"]["id"], wf["id"], "{path}");
        }
        assert_eq!(
            app::backend::store::workflows::count_workflows(&app.db)
                .await
                .unwrap(),
            1
        );
        // The stored graph is a valid trigger-only workflow: saving it back works.
        let saved = post(
            &app,
            &format!("/workflows/edit/{id}.json"),
            ADMIN_KEY,
            json!({"Workflow": {"data": wf["data"]}}),
        )
        .await;
        assert_eq!(saved.status(), 200);
        assert_eq!(
            get(&app, "/workflows/editor/no-such-trigger.json", ADMIN_KEY)
                .await
                .status(),
            404
        );
        assert_eq!(
            get(&app, "/workflows/editor/adhoc_7.json", ADMIN_KEY)
                .await
                .status(),
            404
        );
    })
    .await;
}
