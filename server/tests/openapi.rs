//! The OpenAPI document (`GET /openapi.json`, issue 4 item 10) cannot drift: it is built from
//! the same declarations as the router, it must equal the checked-in `server/openapi.json`
//! (`UPDATE_OPENAPI=1 cargo test -p server --test openapi` rewrites that file after an API
//! change), every documented operation must be served, and every MISP route Flowgate promises
//! must be documented.
mod common;

use std::collections::BTreeSet;

use common::spawn_sqlite;
use serde_json::Value;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

/// Every (method, path) of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn openapi_document_is_served_and_matches_the_checked_in_copy() {
    let app = spawn_sqlite().await;
    let r = app.api.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let served: Value = r.json().await.unwrap();
    assert_eq!(
        served,
        serde_json::to_value(server::api::openapi_document()).unwrap()
    );
    assert_eq!(served["openapi"], "3.1.0");

    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let checked_in = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        checked_in == pretty,
        "the REST API changed: review the difference, then refresh server/openapi.json with \
         `UPDATE_OPENAPI=1 cargo test -p server --test openapi`"
    );
}

/// Every route of MISP's workflow API (spec §15) that Flowgate serves is documented, and every
/// documented operation is routed: without an API key it answers MISP's 403, never the
/// router's 404 or 405.
#[tokio::test]
async fn every_documented_operation_is_served_and_every_route_documented() {
    let doc = serde_json::to_value(server::api::openapi_document()).unwrap();
    let ops = operations(&doc);
    let expected = [
        ("GET", "/workflows/index"),
        ("GET", "/workflows/view/{id}"),
        ("POST", "/workflows/add"),
        ("POST", "/workflows/edit/{id}"),
        ("PUT", "/workflows/edit/{id}"),
        ("POST", "/workflows/delete/{id}"),
        ("DELETE", "/workflows/delete/{id}"),
        ("GET", "/workflows/editor/{id}"),
        ("GET", "/workflows/triggers"),
        ("GET", "/workflows/adhoc"),
        ("GET", "/workflows/moduleIndex"),
        ("GET", "/workflows/moduleView/{module_id}"),
        (
            "POST",
            "/workflows/toggleModule/{module_id}/{enabled}/{is_trigger}",
        ),
        (
            "POST",
            "/workflows/massToggleField/enabled/{enabled}/{is_trigger}",
        ),
        ("POST", "/workflows/debugToggleField/{id}/{enabled}"),
        ("POST", "/workflows/executeWorkflow/{id}"),
        ("POST", "/workflows/checkGraph"),
        ("POST", "/workflows/moduleStatelessExecution/{module_id}"),
        ("GET", "/workflows/rebuildRedis"),
        ("POST", "/workflows/refreshModules"),
        ("GET", "/workflows/moduleServers"),
        ("GET", "/workflows/logs"),
        ("GET", "/workflows/logs/{run_id}"),
        ("GET", "/workflowBlueprints/index"),
        ("GET", "/workflowBlueprints/view/{id}"),
        ("POST", "/workflowBlueprints/add"),
        ("POST", "/workflowBlueprints/edit/{id}"),
        ("POST", "/workflowBlueprints/delete/{id}"),
        ("POST", "/workflowBlueprints/import"),
        ("GET", "/workflowBlueprints/export/{id}"),
        ("POST", "/workflowBlueprints/update"),
        ("POST", "/workflowBlueprints/update/{force}"),
        ("GET", "/servers/getVersion"),
        ("GET", "/servers/serverSettings"),
        ("POST", "/servers/serverSettingsEdit/{setting}"),
        ("GET", "/users/view/{id}"),
        ("POST", "/events/runWorkflow/{event_id}"),
        ("POST", "/events/add"),
        ("GET", "/events/view/{id}"),
        ("GET", "/events/index"),
        ("POST", "/events/edit/{id}"),
        ("POST", "/events/delete/{id}"),
        ("POST", "/events/publish/{id}"),
        ("POST", "/events/unpublish/{id}"),
        ("POST", "/attributes/add/{event_id}"),
        ("POST", "/attributes/edit/{id}"),
        ("POST", "/attributes/delete/{id}"),
        ("GET", "/attributes/describeTypes"),
        ("POST", "/objects/add/{event_id}"),
        ("POST", "/objects/edit/{id}"),
        ("POST", "/objects/delete/{id}"),
        ("GET", "/tags/index"),
        ("POST", "/tags/add"),
        ("POST", "/tags/attachTagToObject"),
        ("POST", "/tags/removeTagFromObject"),
        ("POST", "/admin/logs/index"),
        ("GET", "/eventBlocklists/index"),
        ("POST", "/eventBlocklists/add"),
        ("POST", "/eventBlocklists/edit/{id}"),
        ("POST", "/eventBlocklists/delete/{id}"),
        ("GET", "/warninglists/index"),
        ("GET", "/warninglists/view/{id}"),
        ("POST", "/warninglists/add"),
        ("POST", "/warninglists/edit/{id}"),
        ("POST", "/warninglists/toggleEnable"),
        ("POST", "/warninglists/checkValue"),
        ("POST", "/shadowAttributes/add/{event_id}"),
        ("POST", "/shadowAttributes/edit/{attribute_id}"),
        ("POST", "/shadowAttributes/delete/{attribute_id}"),
        ("POST", "/shadowAttributes/accept/{id}"),
        ("POST", "/shadowAttributes/discard/{id}"),
        ("GET", "/shadowAttributes/view/{id}"),
        ("GET", "/shadowAttributes/index/{event_id}"),
        ("POST", "/posts/add"),
        ("POST", "/posts/add/{target}/{id}"),
        ("GET", "/threads/view/{id}"),
        ("GET", "/threads/viewEvent/{event_id}"),
        ("GET", "/events/queryEnrichment/{attribute_id}/{module}"),
        ("GET", "/attributes/hoverEnrichment/{id}"),
        ("GET", "/sharing_groups/index"),
        ("GET", "/sharing_groups/view/{id}"),
        ("POST", "/sharing_groups/add"),
        ("POST", "/sharing_groups/edit/{id}"),
        ("POST", "/sharing_groups/delete/{id}"),
        ("POST", "/sharing_groups/addOrg/{id}/{org_id}"),
        ("POST", "/sharing_groups/removeOrg/{id}/{org_id}"),
    ];
    for (method, path) in expected {
        assert!(
            ops.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is not documented"
        );
    }
    let mut ids = BTreeSet::new();
    for op in doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|i| i.as_object().unwrap().values())
    {
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "untagged: {op}"
        );
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(
            ids.insert(id.to_owned()),
            "operationId `{id}` is not unique"
        );
        assert!(op["responses"].get("200").is_some() && op["responses"].get("403").is_some());
    }

    let app = spawn_sqlite().await;
    for (method, path) in &ops {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for suffix in ["", ".json"] {
            let r = app
                .api
                .request(method.clone(), app.url(&format!("{concrete}{suffix}")))
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{method} {concrete}{suffix}");
        }
    }
}
