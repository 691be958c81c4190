//! The node editor's server functions and page: what it opens, checks and saves is what MISP's
//! `workflows/*` routes see; a refused or stale save leaves the stored workflow as it was; the
//! editor's address answers the page to a browser and JSON to API clients.
mod common;

use common::{for_each_backend, get, ok, red_gate, ADMIN_EMAIL, ADMIN_KEY, ADMIN_PASSWORD};
use serde_json::{json, Value};

async fn call(
    app: &common::TestApp,
    browser: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = app.server_fn(browser, endpoint, form).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn the_editor_opens_checks_and_saves_through_the_workflow_services() {
    for_each_backend(|app| async move {
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;

        // First open of a trigger creates its workflow, holding the trigger node only.
        let (status, opened) = call(&app, &admin, "editor/open", &[("id", "event-publish")]).await;
        assert_eq!(status, 200, "{opened}");
        let id = opened["workflow_id"].as_str().unwrap().to_owned();
        assert_eq!(opened["trigger_id"], "event-publish");
        let data: Value = serde_json::from_str(opened["data"].as_str().unwrap()).unwrap();
        assert_eq!(data["1"]["data"]["id"], "event-publish");
        let modules: Vec<Value> = serde_json::from_str(opened["modules"].as_str().unwrap()).unwrap();
        assert!(modules.iter().any(|m| m["id"] == "tag-if" && m["params"].is_array()));
        let timestamp = opened["timestamp"].as_i64().unwrap().to_string();

        // A cycle is reported live with its edge, and refused on save: nothing is stored.
        let mut cyclic = red_gate("event-publish", "Event Publish", true);
        cyclic["2"]["outputs"]["output_2"]["connections"] = json!([{"node": "4", "output": "input_1"}]);
        cyclic["4"] = json!({"id": 4, "name": "IF :: Published", "class": "block-type-if block-type-logic", "typenode": false,
            "data": {"id": "published-if", "name": "IF :: Published", "module_type": "logic", "indexed_params": {}},
            "inputs": {"input_1": {"connections": [{"node": "2", "input": "output_2"}]}},
            "outputs": {"output_1": {"connections": [{"node": "2", "output": "input_1"}]}, "output_2": {"connections": []}},
            "pos_x": 300, "pos_y": 200});
        cyclic["2"]["inputs"]["input_1"]["connections"] = json!([{"node": "1", "input": "output_1"}, {"node": "4", "input": "output_1"}]);
        let cyclic_text = cyclic.to_string();
        let (status, check) = call(&app, &admin, "editor/check", &[("data", &cyclic_text)]).await;
        assert_eq!(status, 200, "{check}");
        assert_eq!(check["errors"], json!(["Cannot save a workflow containing a cycle"]));
        assert!(!check["red_edges"].as_array().unwrap().is_empty());
        let (status, refused) = call(&app, &admin, "editor/save", &[("id", &id), ("data", &cyclic_text), ("timestamp", &timestamp)]).await;
        assert_eq!(status, 400, "{refused}");
        assert!(refused.to_string().contains("cycle"), "{refused}");
        let stored = ok(get(&app, &format!("/workflows/view/{id}.json"), ADMIN_KEY).await).await;
        assert_eq!(stored["Workflow"]["data"].as_object().unwrap().len(), 1, "unchanged");

        // A valid graph is saved and seen by the REST routes; a webhook node is flagged while
        // arbitrary URLs are off.
        let mut gate = red_gate("event-publish", "Event Publish", true);
        gate["2"]["outputs"]["output_2"]["connections"] = json!([{"node": "5", "output": "input_1"}]);
        gate["5"] = json!({"id": 5, "name": "Webhook", "class": "block-type-default", "typenode": false,
            "data": {"id": "webhook", "name": "Webhook", "module_type": "action", "indexed_params": {"url": "http://127.0.0.1:9/"}},
            "inputs": {"input_1": {"connections": [{"node": "2", "input": "output_2"}]}},
            "outputs": {"output_1": {"connections": []}}, "pos_x": 300, "pos_y": 200});
        let gate_text = gate.to_string();
        let (_, check) = call(&app, &admin, "editor/check", &[("data", &gate_text)]).await;
        assert_eq!(check["errors"], json!([]));
        assert!(check["notices"].as_array().unwrap().iter().any(|n| n["node"] == 5 && n["error"] == true
            && n["text"].as_str().unwrap().contains("rest_client_enable_arbitrary_urls")), "{check}");
        let (status, saved) = call(&app, &admin, "editor/save", &[("id", &id), ("data", &gate_text), ("timestamp", &timestamp)]).await;
        assert_eq!(status, 200, "{saved}");
        assert!(saved.as_i64().unwrap() > timestamp.parse::<i64>().unwrap());
        let stored = ok(get(&app, &format!("/workflows/view/{id}.json"), ADMIN_KEY).await).await;
        assert_eq!(stored["Workflow"]["data"]["5"]["data"]["id"], "webhook");
        assert_eq!(stored["Workflow"]["data"]["2"]["data"]["indexed_params"]["tags"], json!(["tlp:red"]));

        // A save from the version before is stale: refused, the stored graph stays.
        let (status, stale) = call(&app, &admin, "editor/save", &[("id", &id), ("data", &red_gate("event-publish", "Event Publish", true).to_string()), ("timestamp", &timestamp)]).await;
        assert_eq!(status, 409, "{stale}");
        assert!(stale.to_string().contains("changed by someone else"), "{stale}");
        let stored = ok(get(&app, &format!("/workflows/view/{id}.json"), ADMIN_KEY).await).await;
        assert_eq!(stored["Workflow"]["data"]["5"]["data"]["id"], "webhook", "unchanged");

        // Save selection as blueprint: the nodes (no trigger) become a blueprint.
        let selection = json!([gate["2"], gate["3"]]).to_string();
        let (status, blueprint) = call(&app, &admin, "editor/blueprint", &[("name", "Red stop"), ("description", "[event-publish] stop red"), ("data", &selection)]).await;
        assert_eq!(status, 200, "{blueprint}");
        let listed = ok(get(&app, "/workflowBlueprints/index.json", ADMIN_KEY).await).await;
        assert!(listed.to_string().contains("Red stop"));
        let (status, bad) = call(&app, &admin, "editor/blueprint", &[("name", "Broken"), ("description", ""), ("data", "not json")]).await;
        assert_eq!(status, 400, "{bad}");

        // Tag suggestions come from the store, 20 at most.
        for n in 0..25 {
            ok(common::post(&app, "/tags/add", ADMIN_KEY, json!({"Tag": {"name": format!("suggest:tag-{n:02}")}})).await).await;
        }
        let (status, tags) = call(&app, &admin, "editor/tags", &[("search", "SUGGEST:"), ("prefix", "")]).await;
        assert_eq!(status, 200, "{tags}");
        assert_eq!(tags.as_array().unwrap().len(), 20);
        assert_eq!(tags[0], "suggest:tag-00");
        let (_, none) = call(&app, &admin, "editor/tags", &[("search", "suggest"), ("prefix", "misp-galaxy:")]).await;
        assert_eq!(none, json!([]));
        // Cluster pickers get names without the prefix, as IF :: Tag stores them.
        ok(common::post(&app, "/tags/add", ADMIN_KEY, json!({"Tag": {"name": "misp-galaxy:threat-actor=\"Suggest Bear\""}})).await).await;
        let (_, clusters) = call(&app, &admin, "editor/tags", &[("search", "suggest bear"), ("prefix", "misp-galaxy:")]).await;
        assert_eq!(clusters, json!(["threat-actor=\"Suggest Bear\""]));
    })
    .await;
}

#[tokio::test]
async fn the_editor_address_answers_a_page_to_browsers_and_json_to_clients() {
    for_each_backend(|app| async move {
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let page = admin
            .get(app.url("/workflows/editor/event-publish"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = page.text().await.unwrap();
        assert!(html.contains("data-testid=\"editor\""), "{html}");
        assert!(html.contains("data-testid=\"node-1\""));

        // MISP clients: `.json`, `Accept: application/json`, or no Accept at all.
        let json = ok(get(&app, "/workflows/editor/event-publish", ADMIN_KEY).await).await;
        assert_eq!(json["Workflow"]["trigger_id"], "event-publish");
        let suffixed = admin
            .get(app.url("/workflows/editor/event-publish.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(suffixed.status(), 200);
        assert!(suffixed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let bare = app
            .api
            .get(app.url("/workflows/editor/event-publish"))
            .header("authorization", ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(bare.status(), 200);
        assert!(bare.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));

        // Without a session the page sends to the login form; the JSON route refuses.
        let anonymous = app.browser();
        let page = anonymous
            .get(app.url("/workflows/editor/event-publish"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 303);
        assert_eq!(
            page.headers()["location"],
            "/users/login?redirect=/workflows/editor/event-publish"
        );
        let r = app
            .api
            .get(app.url("/workflows/editor/event-publish.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            403,
            "MISP's answer to an API call without a key"
        );
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
    })
    .await;
}

#[tokio::test]
async fn ad_hoc_workflows_are_created_listed_and_opened_from_their_page() {
    for_each_backend(|app| async move {
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, id) = call(
            &app,
            &admin,
            "adhoc/create",
            &[("name", "By hand"), ("description", "triage")],
        )
        .await;
        assert_eq!(status, 200, "{id}");
        let id = id.as_str().unwrap().to_owned();
        let (status, rows) = call(&app, &admin, "adhoc/list", &[]).await;
        assert_eq!(status, 200, "{rows}");
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["workflow_id"] == id.as_str())
            .unwrap()
            .clone();
        assert_eq!(row["name"], "By hand");
        assert_eq!(row["scope"], "passed_roaming_data");
        assert_eq!(row["enabled"], false);
        let trigger = row["trigger_id"].as_str().unwrap().to_owned();
        assert!(trigger.starts_with("adhoc_"));

        // The editor knows the ad-hoc trigger (its params) and raises no notice on it.
        let (_, opened) = call(&app, &admin, "editor/open", &[("id", &id)]).await;
        let modules: Vec<Value> =
            serde_json::from_str(opened["modules"].as_str().unwrap()).unwrap();
        assert!(modules.iter().any(|m| m["id"] == trigger.as_str()
            && m["params"].as_array().is_some_and(|p| !p.is_empty())));
        let (_, check) = call(
            &app,
            &admin,
            "editor/check",
            &[("data", opened["data"].as_str().unwrap())],
        )
        .await;
        assert_eq!(check["notices"], json!([]), "{check}");
        assert_eq!(check["errors"], json!([]), "{check}");

        // The list's address: the page for a browser, MISP's JSON for clients.
        let page = admin.get(app.url("/workflows/adhoc")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("data-testid=\"adhoc-table\"") && html.contains("By hand"),
            "{html}"
        );
        let listed = ok(get(&app, "/workflows/adhoc", ADMIN_KEY).await).await;
        assert!(listed
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["Workflow"]["id"] == id.as_str()));
    })
    .await;
}
