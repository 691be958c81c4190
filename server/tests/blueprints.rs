//! MISP's blueprint routes (§13): the 13 official blueprints import and export unchanged, the
//! official set loads with MISP's uuid/timestamp/force rules, bad input stores nothing.
mod common;

use common::{for_each_backend, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

fn official_files() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/blueprints");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.api
        .post(app.url(path))
        .header("authorization", ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.api
        .get(app.url(path))
        .header("authorization", ADMIN_KEY)
        .send()
        .await
        .unwrap()
}

/// Each official blueprint imports through `import` (as the file itself, and in MISP's form
/// field for one of them) and `export` gives back an equal node list, in a file named as MISP
/// names it.
#[tokio::test]
async fn official_blueprints_import_and_export_unchanged() {
    for_each_backend(|app| async move {
        let files = official_files();
        assert_eq!(files.len(), 13);
        for (i, (name, file)) in files.iter().enumerate() {
            let body = if i == 0 {
                json!({"WorkflowBlueprint": {"json": file.to_string()}})
            } else {
                file.clone()
            };
            let r = post(&app, "/workflowBlueprints/import.json", body).await;
            assert_eq!(r.status(), 200, "{name}");
            let imported: Value = r.json().await.unwrap();
            let bp = &imported["WorkflowBlueprint"];
            assert_eq!(bp["uuid"], file["WorkflowBlueprint"]["uuid"], "{name}");
            assert_eq!(bp["default"], false, "import sets default=false");

            let export = get(
                &app,
                &format!("/workflowBlueprints/export/{}", bp["id"].as_str().unwrap()),
            )
            .await;
            assert_eq!(export.status(), 200);
            let disposition = export.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                disposition.starts_with("attachment; filename=\"blueprint_"),
                "{disposition}"
            );
            assert!(disposition.ends_with(".json\""));
            let exported: Value = export.json().await.unwrap();
            assert_eq!(
                exported["WorkflowBlueprint"]["data"], file["WorkflowBlueprint"]["data"],
                "{name}: graph changed"
            );
            assert_eq!(
                exported["WorkflowBlueprint"]["name"],
                file["WorkflowBlueprint"]["name"]
            );
            assert!(exported["WorkflowBlueprint"]["mermaid"]
                .as_str()
                .unwrap()
                .starts_with("flowchart LR"));
        }
        let again = post(&app, "/workflowBlueprints/import.json", files[1].1.clone()).await;
        assert_eq!(again.status(), 409, "same uuid imported twice");
        let index: Vec<Value> = get(&app, "/workflowBlueprints/index.json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(index.len(), 13);
    })
    .await;
}

/// `update` inserts the official set as default blueprints, leaves them alone the second time,
/// and overwrites them when forced; a local edit is overwritten only when forced.
#[tokio::test]
async fn update_loads_the_official_set_with_misp_rules() {
    for_each_backend(|app| async move {
        let first: Value = post(&app, "/workflowBlueprints/update.json", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            first["summary"],
            json!({"added": 13, "updated": 0, "unchanged": 0})
        );
        let index: Vec<Value> = get(&app, "/workflowBlueprints/index.json")
            .await
            .json()
            .await
            .unwrap();
        assert!(index
            .iter()
            .all(|b| b["WorkflowBlueprint"]["default"] == true));

        let id = index[0]["WorkflowBlueprint"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let edited: Value = post(
            &app,
            &format!("/workflowBlueprints/edit/{id}.json"),
            json!({"WorkflowBlueprint": {"description": "local change"}}),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(edited["WorkflowBlueprint"]["description"], "local change");

        let second: Value = post(&app, "/workflowBlueprints/update.json", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            second["summary"],
            json!({"added": 0, "updated": 0, "unchanged": 13}),
            "edit is newer than the file"
        );
        let forced: Value = post(&app, "/workflowBlueprints/update/1.json", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            forced["summary"],
            json!({"added": 0, "updated": 13, "unchanged": 0})
        );
        let view: Value = get(&app, &format!("/workflowBlueprints/view/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_ne!(view["WorkflowBlueprint"]["description"], "local change");
    })
    .await;
}

/// add/edit/delete with bad input answer 4xx and store nothing; views render DOT and Mermaid.
#[tokio::test]
async fn add_edit_delete_and_formats() {
    for_each_backend(|app| async move {
        let (_, file) = &official_files()[11];
        let mut bp = file["WorkflowBlueprint"].clone();
        bp.as_object_mut().unwrap().remove("uuid");
        bp["name"] = json!("My blueprint");
        let added: Value = post(
            &app,
            "/workflowBlueprints/add.json",
            json!({"WorkflowBlueprint": bp}),
        )
        .await
        .json()
        .await
        .unwrap();
        let id = added["WorkflowBlueprint"]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        for bad in [
            json!({"WorkflowBlueprint": {"name": "x", "data": "{nope"}}),
            json!({"WorkflowBlueprint": {"name": "x", "data": 5}}),
            json!({"WorkflowBlueprint": {"data": []}}),
            json!({"WorkflowBlueprint": {"name": "x", "data": [], "uuid": "not-a-uuid"}}),
        ] {
            let r = post(&app, "/workflowBlueprints/add.json", bad.clone()).await;
            assert_eq!(r.status(), 400, "{bad}");
        }
        let index: Vec<Value> = get(&app, "/workflowBlueprints/index.json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(index.len(), 1, "a rejected add stored something");

        let mermaid = get(
            &app,
            &format!("/workflowBlueprints/view/{id}?format=mermaid"),
        )
        .await;
        assert_eq!(mermaid.status(), 200);
        assert!(mermaid.text().await.unwrap().contains("-->"));
        let dot = get(&app, &format!("/workflowBlueprints/view/{id}?format=dot"))
            .await
            .text()
            .await
            .unwrap();
        assert!(dot.starts_with("digraph workflow {"));
        assert_eq!(
            get(&app, &format!("/workflowBlueprints/view/{id}?format=png"))
                .await
                .status(),
            400
        );

        let deleted = post(
            &app,
            &format!("/workflowBlueprints/delete/{id}.json"),
            json!({}),
        )
        .await;
        assert_eq!(deleted.status(), 200);
        assert_eq!(
            get(&app, &format!("/workflowBlueprints/view/{id}.json"))
                .await
                .status(),
            404
        );
    })
    .await;
}

/// Blueprint routes are site-admin only.
#[tokio::test]
async fn blueprint_routes_are_site_admin_only() {
    for_each_backend(|app| async move {
        app.create_user(
            "user@flowgate.test",
            "user-password-123",
            app::backend::store::roles::ROLE_USER,
        )
        .await;
        let key = app::backend::services::auth::create_authkey(
            &app.db,
            app.principal("user@flowgate.test").await.user.id,
            "",
            false,
        )
        .await
        .unwrap()
        .authkey;
        for (method, path) in [
            ("GET", "/workflowBlueprints/index.json"),
            ("GET", "/workflowBlueprints/view/1.json"),
            ("POST", "/workflowBlueprints/add.json"),
            ("POST", "/workflowBlueprints/import.json"),
            ("GET", "/workflowBlueprints/export/1"),
            ("POST", "/workflowBlueprints/update.json"),
            ("POST", "/workflowBlueprints/delete/1.json"),
        ] {
            let request = match method {
                "GET" => app.api.get(app.url(path)),
                _ => app.api.post(app.url(path)).json(&official_files()[0].1),
            };
            let r = request.header("authorization", &key).send().await.unwrap();
            assert_eq!(r.status(), 403, "{method} {path}");
        }
        let index: Vec<Value> = get(&app, "/workflowBlueprints/index.json")
            .await
            .json()
            .await
            .unwrap();
        assert!(index.is_empty());
    })
    .await;
}

/// §13 save selection as blueprint: `add` with a stored workflow and node ids saves those nodes
/// (trigger left out) with the edges between them; bad selections are refused, nothing saved.
#[tokio::test]
async fn a_selection_of_a_workflow_becomes_a_blueprint() {
    for_each_backend(|app| async move {
        // The official BGP-ranking blueprint inserted into an event-publish workflow.
        let (_, file) = &official_files()
            .into_iter()
            .find(|(name, _)| name.contains("bgp-ranking"))
            .unwrap();
        let nodes = file["WorkflowBlueprint"]["data"]
            .as_array()
            .unwrap()
            .clone();
        let graph: serde_json::Map<String, Value> = nodes
            .iter()
            .map(|n| (n["id"].to_string(), n.clone()))
            .collect();
        let wf: Value = post(
            &app,
            "/workflows/add.json",
            json!({"Workflow": {"name": "bgp", "trigger_id": "event-publish", "data": graph}}),
        )
        .await
        .json()
        .await
        .unwrap();
        let wf_id = wf["Workflow"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{wf}"))
            .to_owned();
        let ids: Vec<Value> = nodes.iter().map(|n| n["id"].clone()).collect();
        let saved: Value = post(
            &app,
            "/workflowBlueprints/add.json",
            json!({"WorkflowBlueprint": {
            "name": "From a selection", "workflow_id": wf_id, "node_ids": ids}}),
        )
        .await
        .json()
        .await
        .unwrap();
        let data = saved["WorkflowBlueprint"]["data"].as_array().unwrap();
        assert_eq!(
            data.len(),
            nodes.len() - 1,
            "the trigger is left out: {saved}"
        );
        assert!(data.iter().all(|n| n["data"]["module_type"] != "trigger"));

        for (body, status) in [
            (
                json!({"name": "x", "workflow_id": wf_id, "node_ids": [9999]}),
                400,
            ),
            (
                json!({"name": "x", "workflow_id": wf_id, "node_ids": []}),
                400,
            ),
            (
                json!({"name": "x", "workflow_id": wf_id, "node_ids": [1]}),
                400,
            ),
            (
                json!({"name": "x", "workflow_id": "999", "node_ids": [1]}),
                404,
            ),
        ] {
            let r = post(
                &app,
                "/workflowBlueprints/add.json",
                json!({"WorkflowBlueprint": body.clone()}),
            )
            .await;
            assert_eq!(r.status(), status, "{body}");
        }
        let index: Vec<Value> = get(&app, "/workflowBlueprints/index.json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(index.len(), 1, "only the good selection was saved");
    })
    .await;
}
