//! Modules that edit MISP data on the real store (spec §5.2), acting as the SYSTEM user of
//! the host organisation (§6.7), and the loop guard on the runs their changes cause.
mod common;

use std::time::Duration;

use common::{for_each_backend, get, install_workflow, ok, post, red_gate, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

fn tag_names(tags: &Value) -> Vec<String> {
    tags.as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The official `attach-tlp_clear-on-tlp_white` blueprint (two `tag_operation` nodes) on
/// `event-publish`: publishing adds `tlp:clear` to the event and to the attribute tagged
/// `tlp:white`, and nowhere else.
#[tokio::test]
async fn the_tlp_clear_blueprint_tags_where_it_should() {
    for_each_backend(|app| async move {
        let path = format!(
            "{}/../app/blueprints/blueprint_attach-tlp_clear-on-tlp_white_1661328256.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let bp: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut graph = red_gate("event-publish", "Event Publish", true);
        graph.as_object_mut().unwrap().retain(|k, _| k == "1");
        for node in bp["WorkflowBlueprint"]["data"].as_array().unwrap() {
            graph[node["id"].to_string()] = node.clone();
        }
        graph["1"]["outputs"]["output_1"]["connections"] =
            json!([{"node": "56", "output": "input_1"}]);
        graph["56"]["inputs"] =
            json!({"input_1": {"connections": [{"node": "1", "input": "output_1"}]}});
        install_workflow(&app, "event-publish", graph).await;
        enable_tag_operation(&app).await;

        let ev = ok(post(
            &app,
            "/events/add",
            ADMIN_KEY,
            json!({"info": "White", "Tag": [{"name": "tlp:white"}],
            "Attribute": [{"type": "ip-dst", "value": "192.0.2.1", "Tag": [{"name": "tlp:white"}]},
                          {"type": "ip-dst", "value": "192.0.2.2"}]}),
        )
        .await)
        .await;
        let id = ev["Event"]["id"].as_str().unwrap().to_owned();
        let published =
            ok(post(&app, &format!("/events/publish/{id}"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(
            published["message"], "Event published without alerts",
            "{published}"
        );

        let view = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        let e = &view["Event"];
        assert!(
            tag_names(&e["Tag"]).contains(&"tlp:clear".to_owned()),
            "{e}"
        );
        let clear = e["Tag"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "tlp:clear")
            .unwrap();
        assert_eq!(
            clear["local"], 1,
            "the blueprint's default locality (local tags print as 1, as in MISP)"
        );
        assert!(tag_names(&e["Attribute"][0]["Tag"]).contains(&"tlp:clear".to_owned()));
        assert!(!tag_names(&e["Attribute"][1]["Tag"]).contains(&"tlp:clear".to_owned()));
        assert_eq!(e["published"], true, "local tags do not unpublish");

        // The changes are audited as SYSTEM.
        let logs = ok(post(
            &app,
            "/admin/logs/index",
            ADMIN_KEY,
            json!({"action": "tag", "email": "SYSTEM"}),
        )
        .await)
        .await;
        assert_eq!(logs.as_array().unwrap().len(), 2, "{logs}");
    })
    .await;
}

/// `tag_operation` is off at install, as in MISP.
async fn enable_tag_operation(app: &TestApp) {
    ok(post(
        app,
        "/workflows/toggleModule/tag_operation/1/0",
        ADMIN_KEY,
        json!({}),
    )
    .await)
    .await;
}

async fn runs(app: &TestApp, trigger: &str) -> Vec<Value> {
    ok(get(
        app,
        &format!("/workflows/logs?trigger_id={trigger}"),
        ADMIN_KEY,
    )
    .await)
    .await["WorkflowRun"]
        .as_array()
        .unwrap()
        .clone()
}

/// A `tag-attached-after-save` workflow that removes and re-adds the tag that fired it causes
/// itself again; the chain stops at the default depth (3) instead of running forever.
#[tokio::test]
async fn the_loop_guard_stops_self_causing_workflows() {
    for_each_backend(|app| async move {
        let mut graph = red_gate("tag-attached-after-save", "Tag Attached After Save", false);
        graph["1"]["data"]["indexed_params"] = json!({"scope": "event", "locality": "any", "tag": "loop"});
        let op = |id: u64, action: &str, from: &str, to: Option<&str>| {
            json!({"id": id, "name": "Tag operation", "class": "block-type-default", "typenode": false,
                   "data": {"id": "tag_operation", "name": "Tag operation", "module_type": "action",
                            "indexed_params": {"scope": "event", "action": action, "locality": "global", "tags": ["loop"]},
                            "saved_filters": {"selector": "", "value": "", "operator": "", "path": ""}},
                   "inputs": {"input_1": {"connections": [{"node": from, "input": "output_1"}]}},
                   "outputs": {"output_1": {"connections": to.map_or(json!([]), |t| json!([{"node": t, "output": "input_1"}]))}},
                   "pos_x": 300 * id, "pos_y": 0})
        };
        graph["2"] = op(2, "remove", "1", Some("3"));
        graph["3"] = op(3, "add", "2", None);
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        install_workflow(&app, "tag-attached-after-save", graph).await;
        enable_tag_operation(&app).await;

        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Loop"})).await).await;
        ok(post(&app, "/tags/attachTagToObject", ADMIN_KEY, json!({"uuid": ev["Event"]["uuid"], "tag": "loop"})).await).await;
        // Runs at chain depth 0, 1, 2 and 3; the fifth is skipped.
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen = runs(&app, "tag-attached-after-save").await;
            if seen.len() >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let seen = if seen.len() >= 4 { runs(&app, "tag-attached-after-save").await } else { seen };
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert!(seen.iter().all(|r| r["outcome"] == "success"), "{seen:?}");
        let view = ok(get(&app, &format!("/events/view/{}", ev["Event"]["id"].as_str().unwrap()), ADMIN_KEY).await).await;
        assert_eq!(tag_names(&view["Event"]["Tag"]), ["loop"]);
    })
    .await;
}

fn action_node(id: u64, module: &str, params: Value, from: u64, to: Option<u64>) -> Value {
    json!({"id": id, "name": module, "class": "block-type-default", "typenode": false,
           "data": {"id": module, "name": module, "module_type": "action", "indexed_params": params,
                    "saved_filters": {"selector": "", "value": "", "operator": "", "path": ""}},
           "inputs": {"input_1": {"connections": [{"node": from.to_string(), "input": "output_1"}]}},
           "outputs": {"output_1": {"connections": to.map_or(json!([]), |t| json!([{"node": t.to_string(), "output": "input_1"}]))}},
           "pos_x": 300 * id, "pos_y": 0})
}

/// A chain of data-editing modules on `event-publish`: each change is stored, audited, and
/// seen by the next node (the comment template reads the distribution the node before set).
#[tokio::test]
async fn attribute_and_event_modules_edit_the_store() {
    for_each_backend(|app| async move {
        for m in ["attribute_ids_flag_operation", "Module_attribute_comment_operation",
                  "attribute_distribution_operation", "reload-full-event", "add_eventblocklist_entry", "publish-event"] {
            ok(post(&app, &format!("/workflows/toggleModule/{m}/1/0"), ADMIN_KEY, json!({})).await).await;
        }
        let mut graph = red_gate("event-publish", "Event Publish", true);
        graph.as_object_mut().unwrap().retain(|k, _| k == "1");
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        graph["2"] = action_node(2, "attribute_ids_flag_operation", json!({"action": "remove"}), 1, Some(3));
        // Only the attribute valued 192.0.2.2 (the node's filtering conditions).
        graph["2"]["data"]["saved_filters"] = json!({"selector": "Event._AttributeFlattened.{n}", "value": "192.0.2.2", "operator": "equals", "path": "value"});
        graph["3"] = action_node(3, "attribute_distribution_operation", json!({"distribution": "0"}), 2, Some(4));
        graph["4"] = action_node(4, "Module_attribute_comment_operation",
            json!({"comment": "distribution {{ Event.Attribute[0].distribution }}"}), 3, Some(5));
        graph["5"] = action_node(5, "reload-full-event", json!({}), 4, Some(6));
        graph["6"] = action_node(6, "add_eventblocklist_entry", json!({"block_comment": "seen by the gate"}), 5, None);
        install_workflow(&app, "event-publish", graph).await;

        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Edited by modules",
            "Attribute": [{"type": "ip-dst", "value": "192.0.2.1", "to_ids": true},
                          {"type": "ip-dst", "value": "192.0.2.2", "to_ids": true}]})).await).await;
        let id = ev["Event"]["id"].as_str().unwrap().to_owned();
        ok(post(&app, &format!("/events/publish/{id}"), ADMIN_KEY, json!({})).await).await;
        let runs = runs(&app, "event-publish").await;
        assert_eq!(runs[0]["walk_result"]["executed_nodes"], json!([2, 3, 4, 5, 6]), "{runs:?}");

        let view = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        let attrs = view["Event"]["Attribute"].as_array().unwrap();
        assert_eq!((attrs[0]["to_ids"].clone(), attrs[1]["to_ids"].clone()), (json!(true), json!(false)));
        for a in attrs {
            assert_eq!(a["distribution"], "0");
            assert_eq!(a["comment"], "distribution 0", "the node saw the previous node's change");
        }
        let blocked = ok(get(&app, "/eventBlocklists/index", ADMIN_KEY).await).await;
        assert_eq!(blocked[0]["event_uuid"], ev["Event"]["uuid"]);
        assert_eq!(blocked[0]["event_info"], "Edited by modules");
        assert_eq!(blocked[0]["comment"], "seen by the gate");
        let edits = ok(post(&app, "/admin/logs/index", ADMIN_KEY, json!({"model": "Attribute", "action": "edit", "email": "SYSTEM"})).await).await;
        assert_eq!(edits.as_array().unwrap().len(), 5, "1 flag + 2 distributions + 2 comments");

        // publish-event from a non-blocking workflow.
        let mut graph = red_gate("tag-attached-after-save", "Tag Attached After Save", false);
        graph.as_object_mut().unwrap().retain(|k, _| k == "1");
        graph["1"]["data"]["indexed_params"] = json!({"scope": "event", "locality": "any", "tag": "publish-me"});
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        graph["2"] = action_node(2, "publish-event", json!({}), 1, None);
        install_workflow(&app, "tag-attached-after-save", graph).await;
        let other = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Publish me"})).await).await;
        let other_id = other["Event"]["id"].as_str().unwrap().to_owned();
        ok(post(&app, "/tags/attachTagToObject", ADMIN_KEY, json!({"uuid": other["Event"]["uuid"], "tag": "publish-me"})).await).await;
        let mut published = false;
        for _ in 0..100 {
            let v = ok(get(&app, &format!("/events/view/{other_id}"), ADMIN_KEY).await).await;
            if v["Event"]["published"] == true {
                published = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(published, "publish-event published the event");
    })
    .await;
}

/// Tag normalisation (TLP and PAP spellings) and proposal acceptance, on `event-publish`.
#[tokio::test]
async fn curation_modules_normalise_tags_and_handle_proposals() {
    for_each_backend(|app| async move {
        for m in ["tag_replacement_tlp", "tag_replacement_pap", "proposal-action"] {
            ok(post(&app, &format!("/workflows/toggleModule/{m}/1/0"), ADMIN_KEY, json!({})).await).await;
        }
        let mut graph = red_gate("event-publish", "Event Publish", true);
        graph.as_object_mut().unwrap().retain(|k, _| k == "1");
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        graph["2"] = action_node(2, "tag_replacement_tlp", json!({"scope": "all", "remove_substituted": "1", "locality": "global"}), 1, Some(3));
        graph["3"] = action_node(3, "tag_replacement_pap", json!({"scope": "attribute", "remove_substituted": "0", "locality": "global"}), 2, Some(4));
        graph["4"] = action_node(4, "proposal-action", json!({"action": "accept", "proposal_type": "any"}), 3, None);
        install_workflow(&app, "event-publish", graph).await;

        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Messy tags", "Tag": [{"name": "TLP:AMBER"}],
            "Attribute": [{"type": "domain", "value": "messy.example", "Tag": [{"name": "pap=amber"}]}]})).await).await;
        let id = ev["Event"]["id"].as_str().unwrap().to_owned();
        let attribute = ev["Event"]["Attribute"][0]["id"].as_str().unwrap().to_owned();
        ok(post(&app, &format!("/shadowAttributes/add/{id}"), ADMIN_KEY, json!({"type": "domain", "value": "proposed.example"})).await).await;
        ok(post(&app, &format!("/shadowAttributes/edit/{attribute}"), ADMIN_KEY, json!({"comment": "proposed comment"})).await).await;
        ok(post(&app, &format!("/events/publish/{id}"), ADMIN_KEY, json!({})).await).await;
        let runs = runs(&app, "event-publish").await;
        assert_eq!(runs[0]["errors"], json!([]), "{runs:?}");

        let view = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        let e = &view["Event"];
        assert_eq!(tag_names(&e["Tag"]), ["tlp:amber"], "substituted and removed");
        let attrs = e["Attribute"].as_array().unwrap();
        assert_eq!(attrs.len(), 2, "the new-attribute proposal was accepted: {attrs:?}");
        let mut tags = tag_names(&attrs[0]["Tag"]);
        tags.sort();
        assert_eq!(tags, ["PAP:AMBER", "pap=amber"], "added, the old one kept (remove_substituted = 0)");
        assert_eq!(attrs[0]["comment"], "proposed comment", "the edit proposal was accepted");
        assert_eq!(attrs[1]["value"], "proposed.example");
        assert_eq!(e["published"], true);
    })
    .await;
}

/// `run-workflow` runs an ad-hoc workflow (scope `passed_event_ids`) on the event, whose own
/// `tag_operation` tags it; the calling run sees the tag after the node.
#[tokio::test]
async fn run_workflow_runs_ad_hoc_workflows_on_the_event() {
    for_each_backend(|app| async move {
        for m in ["run-workflow", "tag_operation"] {
            ok(post(&app, &format!("/workflows/toggleModule/{m}/1/0"), ADMIN_KEY, json!({})).await).await;
        }
        let added = ok(post(&app, "/workflows/add", ADMIN_KEY, json!({"Workflow": {"name": "Tagger", "data": ""}})).await).await;
        let wf = &added["Workflow"];
        let trigger = wf["trigger_id"].as_str().unwrap().to_owned();
        let mut adhoc = wf["data"].clone();
        adhoc["1"]["data"]["indexed_params"]["scope"] = json!("passed_event_ids");
        adhoc["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        adhoc["2"] = action_node(2, "tag_operation", json!({"scope": "event", "action": "add", "locality": "global", "tags": ["from-adhoc"]}), 1, None);
        ok(post(&app, &format!("/workflows/edit/{}", wf["id"].as_str().unwrap()), ADMIN_KEY, json!({"Workflow": {"data": adhoc}})).await).await;
        ok(post(&app, &format!("/workflows/toggleModule/{trigger}/1/1"), ADMIN_KEY, json!({})).await).await;

        let mut graph = red_gate("event-publish", "Event Publish", true);
        graph.as_object_mut().unwrap().retain(|k, _| k == "1");
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        graph["2"] = action_node(2, "run-workflow", json!({"workflows": [format!("{trigger} :: Tagger")], "input_data": "event_ids"}), 1, Some(3));
        // Stops the publish only if the tag is not in the data after run-workflow.
        graph["3"] = json!({"id": 3, "name": "IF :: Tag", "class": "block-type-if block-type-logic", "typenode": false,
            "data": {"id": "tag-if", "name": "IF :: Tag", "module_type": "logic",
                     "indexed_params": {"scope": "event", "condition": "in_or", "tags": ["from-adhoc"]},
                     "saved_filters": {"selector": "", "value": "", "operator": "", "path": ""}},
            "inputs": {"input_1": {"connections": [{"node": "2", "input": "output_1"}]}},
            "outputs": {"output_1": {"connections": []}, "output_2": {"connections": [{"node": "4", "output": "input_1"}]}},
            "pos_x": 900, "pos_y": 0});
        graph["4"] = json!({"id": 4, "name": "Stop execution", "class": "block-type-default", "typenode": false,
            "data": {"id": "stop-execution", "name": "Stop execution", "module_type": "action", "indexed_params": {"message": "tag not seen"}},
            "inputs": {"input_1": {"connections": [{"node": "3", "input": "output_2"}]}}, "outputs": [], "pos_x": 1200, "pos_y": 0});
        install_workflow(&app, "event-publish", graph).await;

        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Nested"})).await).await;
        let id = ev["Event"]["id"].as_str().unwrap().to_owned();
        ok(post(&app, &format!("/events/publish/{id}"), ADMIN_KEY, json!({})).await).await;
        let view = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(tag_names(&view["Event"]["Tag"]), ["from-adhoc"]);
        assert_eq!(view["Event"]["published"], true);
        let nested = ok(get(&app, &format!("/workflows/logs?trigger_id={trigger}"), ADMIN_KEY).await).await;
        assert_eq!(nested["WorkflowRun"][0]["outcome"], "success", "{nested}");
    })
    .await;
}

/// `add_to_warninglist` appends the matching attributes' values to a custom list.
#[tokio::test]
async fn add_to_warninglist_appends_matching_values() {
    for_each_backend(|app| async move {
        ok(post(&app, "/workflows/toggleModule/add_to_warninglist/1/0", ADMIN_KEY, json!({})).await).await;
        let list = ok(post(&app, "/warninglists/add", ADMIN_KEY, json!({"name": "Seen domains", "description": "d",
            "type": "string", "entries": "already.example"})).await).await;
        let list_id = list["Warninglist"]["id"].as_str().unwrap().to_owned();
        ok(post(&app, "/warninglists/toggleEnable", ADMIN_KEY, json!({"id": list_id, "enabled": true})).await).await;

        let mut graph = red_gate("event-publish", "Event Publish", true);
        graph.as_object_mut().unwrap().retain(|k, _| k == "1");
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        graph["2"] = action_node(2, "add_to_warninglist", json!({"warninglist": list_id}), 1, None);
        graph["2"]["data"]["saved_filters"] = json!({"selector": "Event._AttributeFlattened.{n}", "value": "domain", "operator": "equals", "path": "type"});
        install_workflow(&app, "event-publish", graph).await;

        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Domains",
            "Attribute": [{"type": "domain", "value": "new.example"}, {"type": "domain", "value": "already.example"},
                          {"type": "ip-dst", "value": "192.0.2.9"}]})).await).await;
        ok(post(&app, &format!("/events/publish/{}", ev["Event"]["id"].as_str().unwrap()), ADMIN_KEY, json!({})).await).await;
        let view = ok(get(&app, &format!("/warninglists/view/{list_id}"), ADMIN_KEY).await).await;
        let values: Vec<&str> = view["Warninglist"]["WarninglistEntry"].as_array().unwrap().iter().map(|e| e["value"].as_str().unwrap()).collect();
        assert_eq!(values, ["already.example", "new.example"], "only new domain values, once");
        let hits = ok(post(&app, "/warninglists/checkValue", ADMIN_KEY, json!(["new.example", "192.0.2.9"])).await).await;
        assert!(hits.get("new.example").is_some() && hits.get("192.0.2.9").is_none(), "{hits}");
    })
    .await;
}

/// A misp-modules stand-in for the enrichment modules: `geo` (ip-dst ⇒ a country name, legacy
/// shape) and `dns` (domain ⇒ an ip-dst). Records the module of each query.
async fn enrichment_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::routing::{get as get_route, post as post_route};
    use axum::Json;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new()
        .route("/modules", get_route(|| async {
            Json(json!([
                {"name": "geo", "type": "expansion", "mispattributes": {"input": ["ip-dst"], "output": ["text"]}},
                {"name": "dns", "type": "expansion", "mispattributes": {"input": ["domain"], "output": ["ip-dst"]}}
            ]))
        }))
        .route("/query", post_route(move |Json(body): Json<Value>| {
            let record = record.clone();
            async move {
                let module = body["module"].as_str().unwrap_or_default().to_owned();
                record.lock().unwrap().push(module.clone());
                Json(match module.as_str() {
                    "geo" => json!({"results": [{"types": ["text"], "values": ["France"]}]}),
                    _ => json!({"results": [{"types": ["ip-dst"], "values": ["192.0.2.1"], "comment": "resolved"}]}),
                })
            }
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
}

/// The enrichment family on `event-publish`, each node feeding the next: warnings attached from
/// the enabled warninglists (read by a comment template), a country from an enrichment module
/// turned into a Country galaxy tag, the event enriched with a module's proposals, and its
/// distribution set without touching its timestamp.
#[tokio::test]
async fn enrichment_modules_feed_the_next_nodes() {
    for_each_backend(|app| async move {
        let (port, seen) = enrichment_server().await;
        for (name, value) in [("Plugin.Enrichment_services_enable", json!(true)), ("Plugin.Enrichment_services_port", json!(port))] {
            ok(post(&app, &format!("/servers/serverSettingsEdit/{name}"), ADMIN_KEY, json!({"value": value})).await).await;
        }
        for m in ["attach-warninglist", "attach-enrichment", "assign_country", "Module_attribute_comment_operation",
                  "enrich-event", "Module_event_distribution_operation"] {
            ok(post(&app, &format!("/workflows/toggleModule/{m}/1/0"), ADMIN_KEY, json!({})).await).await;
        }
        let list = ok(post(&app, "/warninglists/add", ADMIN_KEY, json!({"name": "Documentation nets", "description": "RFC 5737",
            "type": "cidr", "entries": "198.51.100.0/24"})).await).await;
        ok(post(&app, "/warninglists/toggleEnable", ADMIN_KEY, json!({"id": list["Warninglist"]["id"], "enabled": true})).await).await;

        let mut graph = red_gate("event-publish", "Event Publish", true);
        graph.as_object_mut().unwrap().retain(|k, _| k == "1");
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        graph["2"] = action_node(2, "attach-warninglist", json!({"warninglists": ["ALL"]}), 1, Some(3));
        graph["3"] = action_node(3, "attach-enrichment", json!({"modules": ["geo"]}), 2, Some(4));
        graph["4"] = action_node(4, "assign_country", json!({"scope": "event", "locality": "global",
            "hash_path": "enrichment.{n}.{n}.values.0"}), 3, Some(5));
        graph["5"] = action_node(5, "Module_attribute_comment_operation",
            json!({"comment": "warned by {{ Event.warnings[0].name }}"}), 4, Some(6));
        graph["5"]["data"]["saved_filters"] = json!({"selector": "Event._AttributeFlattened.{n}", "value": "ip-dst", "operator": "equals", "path": "type"});
        graph["6"] = action_node(6, "enrich-event", json!({"modules": "dns"}), 5, Some(7));
        graph["7"] = action_node(7, "Module_event_distribution_operation", json!({"distribution": "1", "freeze": "freeze"}), 6, None);
        install_workflow(&app, "event-publish", graph).await;

        let ev = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Enriched by modules", "distribution": 0,
            "Attribute": [{"type": "ip-dst", "value": "198.51.100.7"}, {"type": "domain", "value": "evil.example"}]})).await).await;
        let id = ev["Event"]["id"].as_str().unwrap().to_owned();
        ok(post(&app, &format!("/events/publish/{id}"), ADMIN_KEY, json!({})).await).await;
        let run = &runs(&app, "event-publish").await[0];
        assert_eq!(run["walk_result"]["executed_nodes"], json!([2, 3, 4, 5, 6, 7]), "{run}");
        assert_eq!(run["outcome"], "success", "{run}");

        let view = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        let e = &view["Event"];
        assert_eq!(tag_names(&e["Tag"]), ["misp-galaxy:country=\"france\""]);
        assert_eq!(e["Tag"][0]["local"], json!(0), "global locality");
        let attrs = e["Attribute"].as_array().unwrap();
        let by_value = |v: &str| attrs.iter().find(|a| a["value"] == v).unwrap_or_else(|| panic!("no {v} in {attrs:?}"));
        assert_eq!(by_value("198.51.100.7")["comment"], "warned by Documentation nets");
        assert_eq!(by_value("evil.example")["comment"], "", "the comment node's filter kept it out");
        let added = by_value("192.0.2.1");
        assert_eq!((added["type"].as_str(), added["category"].as_str(), added["comment"].as_str()),
            (Some("ip-dst"), Some("Network activity"), Some("resolved")));
        assert_eq!(attrs.len(), 3);
        assert_eq!(e["distribution"], "1");
        assert_eq!(e["published"], true);
        assert_eq!(*seen.lock().unwrap(), ["geo", "dns"], "each module on the attributes it takes");

        // An event without attributes is left alone by the distribution module.
        let empty = ok(post(&app, "/events/add", ADMIN_KEY, json!({"info": "Empty", "distribution": 0})).await).await;
        let empty_id = empty["Event"]["id"].as_str().unwrap().to_owned();
        ok(post(&app, &format!("/events/publish/{empty_id}"), ADMIN_KEY, json!({})).await).await;
        let view = ok(get(&app, &format!("/events/view/{empty_id}"), ADMIN_KEY).await).await;
        assert_eq!(view["Event"]["distribution"], "0");
    })
    .await;
}
