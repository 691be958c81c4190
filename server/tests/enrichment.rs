//! Enrichment through a misp-modules server (a stand-in started by the test): MISP's
//! `events/queryEnrichment` and `attributes/hoverEnrichment`, the `enrichment-before-query`
//! trigger, and what happens when enrichment is off or the module fails.
mod common;

use std::sync::{Arc, Mutex};

use axum::routing::{get as get_route, post as post_route};
use axum::Json;
use common::{for_each_backend, get, install_workflow, ok, post, red_gate, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

/// A misp-modules stand-in: `dns` (expansion + hover, hostname/domain), `passive`
/// (misp_standard, ip-dst) and `broken` (answers an error). Records every query.
async fn misp_modules() -> (u16, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let app = axum::Router::new()
        .route(
            "/modules",
            get_route(|| async {
                Json(json!([
                    {"name": "dns", "type": "expansion", "meta": {"module-type": ["expansion", "hover"]},
                     "mispattributes": {"input": ["hostname", "domain"], "output": ["ip-src", "ip-dst"]}},
                    {"name": "passive", "type": "expansion",
                     "mispattributes": {"input": ["ip-dst"], "format": "misp_standard"}},
                    {"name": "broken", "type": "expansion", "mispattributes": {"input": ["domain"]}},
                    {"name": "export_csv", "type": "export", "mispattributes": {"input": ["domain"]}}
                ]))
            }),
        )
        .route(
            "/query",
            post_route(move |Json(body): Json<Value>| {
                let record = Arc::clone(&record);
                async move {
                    record.lock().unwrap().push(body.clone());
                    Json(match body["module"].as_str() {
                        Some("dns") => json!({"results": [{"types": ["ip-dst"], "values": ["192.0.2.1"]}]}),
                        Some("passive") => json!({"results": {"Attribute": [{"type": "domain", "value": "seen.example"}], "Object": []}}),
                        _ => json!({"error": "upstream API key missing"}),
                    })
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
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

#[tokio::test]
async fn enrichment_queries_misp_modules_after_the_blocking_trigger() {
    for_each_backend(|app| async move {
        let (port, seen) = misp_modules().await;
        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Enrich me",
            "Attribute": [{"type": "domain", "value": "evil.example"}, {"type": "ip-dst", "value": "198.51.100.7"}]})).await).await;
        let domain = ev["Event"]["Attribute"][0]["id"].as_str().unwrap().to_owned();
        let ip = ev["Event"]["Attribute"][1]["id"].as_str().unwrap().to_owned();

        // Off by default.
        let r = get(&app, &format!("/events/queryEnrichment/{domain}/dns"), ADMIN_KEY).await;
        assert_eq!(r.status(), 403);
        set(&app, "Plugin.Enrichment_services_enable", json!(true)).await;
        set(&app, "Plugin.Enrichment_services_port", json!(port)).await;

        let answer = ok(get(&app, &format!("/events/queryEnrichment/{domain}/dns/Enrichment"), ADMIN_KEY).await).await;
        assert_eq!(answer, json!({"module": "dns", "results": [{"types": ["ip-dst"], "values": ["192.0.2.1"]}]}));
        let sent = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(sent["domain"], "evil.example", "{sent}");
        assert_eq!(sent["module"], "dns");
        // misp_standard modules get the whole attribute.
        let answer = ok(get(&app, &format!("/events/queryEnrichment/{ip}/passive"), ADMIN_KEY).await).await;
        assert_eq!(answer["results"]["Attribute"][0]["value"], "seen.example");
        assert_eq!(seen.lock().unwrap().last().unwrap()["attribute"]["value"], "198.51.100.7");

        // Refused before any query: unknown module, wrong type, not an enrichment module.
        let queries = seen.lock().unwrap().len();
        assert_eq!(get(&app, &format!("/events/queryEnrichment/{domain}/nothing"), ADMIN_KEY).await.status(), 404);
        assert_eq!(get(&app, &format!("/events/queryEnrichment/{ip}/dns"), ADMIN_KEY).await.status(), 400);
        assert_eq!(get(&app, &format!("/events/queryEnrichment/{domain}/export_csv"), ADMIN_KEY).await.status(), 400);
        assert_eq!(get(&app, "/events/queryEnrichment/999999/dns", ADMIN_KEY).await.status(), 404);
        assert_eq!(seen.lock().unwrap().len(), queries);
        // A module error is the upstream's: 502 with its message.
        let r = get(&app, &format!("/events/queryEnrichment/{domain}/broken"), ADMIN_KEY).await;
        assert_eq!(r.status(), 502);
        assert!(r.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("upstream API key missing"));

        let hover = ok(get(&app, &format!("/attributes/hoverEnrichment/{domain}"), ADMIN_KEY).await).await;
        assert_eq!(hover, json!({"dns": [{"types": ["ip-dst"], "values": ["192.0.2.1"]}]}));

        // enrichment-before-query (blocking): a tlp:red event is not sent out.
        install_workflow(&app, "enrichment-before-query", red_gate("enrichment-before-query", "Enrichment Before Query", true)).await;
        ok(get(&app, &format!("/events/queryEnrichment/{domain}/dns"), ADMIN_KEY).await).await;
        let ev_id = ev["Event"]["id"].as_str().unwrap();
        ok(post(&app, "/tags/attachTagToObject", ADMIN_KEY, json!({"uuid": ev["Event"]["uuid"], "tag": "tlp:red"})).await).await;
        let queries = seen.lock().unwrap().len();
        let r = post(&app, &format!("/events/queryEnrichment/{domain}/dns"), ADMIN_KEY, json!({})).await;
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().starts_with("Enrichment stopped by a blocking workflow."), "{body}");
        assert!(body["message"].as_str().unwrap().contains("tlp:red data"), "{body}");
        assert_eq!(seen.lock().unwrap().len(), queries, "nothing was sent to misp-modules");
        let runs = ok(get(&app, "/workflows/logs?trigger_id=enrichment-before-query", ADMIN_KEY).await).await;
        let outcomes: Vec<&str> = runs["WorkflowRun"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes, ["blocked", "success"]);
        assert_eq!(runs["WorkflowRun"][0]["action"], format!("events/queryEnrichment/{ev_id}"));
    })
    .await;
}
