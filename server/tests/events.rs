//! MISP core objects over MISP's routes: events, attributes, objects, tags; access by
//! organisation and distribution; bad input refused with nothing written; `events/runWorkflow`.
mod common;

use app::backend::store::roles::{ROLE_ORG_ADMIN, ROLE_READ_ONLY, ROLE_USER};
use common::{for_each_backend, get, ok, post, user_key, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

/// An event as PyMISP sends it: flat, numbers as strings.
fn pymisp_event() -> Value {
    json!({
        "uuid": "5e0bd2a6-8c3a-4d8c-a7b3-1f0a3c1e2d4f",
        "info": "Phishing campaign", "distribution": "1", "threat_level_id": "2", "analysis": "1",
        "date": "2026-11-20", "published": false,
        "Tag": [{"name": "tlp:green"}, {"name": "misp-galaxy:threat-actor=\"APT0\"", "local": true}],
        "Attribute": [
            {"uuid": "0c4b3e5a-9f37-4d1e-9c55-6a1b2c3d4e5f", "type": "ip-dst", "value": "8.8.8.8",
             "category": "Network activity", "to_ids": true, "comment": "C2",
             "Tag": [{"name": "PAP:AMBER"}]},
            {"type": "md5", "value": "D41D8CD98F00B204E9800998ECF8427E"},
            {"type": "domain", "value": "evil.example", "distribution": "0"}
        ],
        "Object": [{
            "name": "url", "meta-category": "network", "template_uuid": "60efb77b-40b5-4c46-871b-ed1ed999fce5",
            "template_version": "9", "description": "url object",
            "Attribute": [{"type": "url", "object_relation": "url", "value": "https://evil.example/login"}]
        }]
    })
}

async fn count(app: &TestApp) -> (u64, u64, u64) {
    use app::backend::entities::{attribute, event, tag};
    use sea_orm::{EntityTrait, PaginatorTrait};
    (
        event::Entity::find().count(&app.db).await.unwrap(),
        attribute::Entity::find().count(&app.db).await.unwrap(),
        tag::Entity::find().count(&app.db).await.unwrap(),
    )
}

/// events/add takes PyMISP's flat event with attributes, objects and tags, in one transaction,
/// and answers (and views back) MISP's event document.
#[tokio::test]
async fn add_and_view_an_event_in_misp_shape() {
    for_each_backend(|app| async move {
        let added = ok(post(&app, "/events/add.json", ADMIN_KEY, pymisp_event()).await).await;
        let ev = &added["Event"];
        assert_eq!(ev["info"], "Phishing campaign");
        assert_eq!(ev["uuid"], "5e0bd2a6-8c3a-4d8c-a7b3-1f0a3c1e2d4f");
        assert_eq!(ev["threat_level_id"], "2");
        assert_eq!(ev["analysis"], "1");
        assert_eq!(ev["distribution"], "1");
        assert_eq!(ev["date"], "2026-11-20");
        assert_eq!(ev["published"], false);
        assert_eq!(
            ev["attribute_count"], "4",
            "3 attributes + 1 object attribute"
        );
        assert_eq!(ev["Orgc"]["id"], ev["orgc_id"]);
        assert!(!ev["Orgc"]["name"].as_str().unwrap().is_empty());
        assert!(ev["id"].is_string() && ev["timestamp"].is_string());
        assert_eq!(ev["event_creator_email"], common::ADMIN_EMAIL);
        let attrs = ev["Attribute"].as_array().unwrap();
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[0]["value"], "8.8.8.8");
        assert_eq!(attrs[0]["to_ids"], true);
        assert_eq!(attrs[0]["Tag"][0]["name"], "PAP:AMBER");
        assert_eq!(
            attrs[1]["value"], "d41d8cd98f00b204e9800998ecf8427e",
            "hashes lowercased"
        );
        assert_eq!(
            attrs[1]["category"], "Payload delivery",
            "MISP's default category"
        );
        assert_eq!(attrs[1]["to_ids"], true, "MISP's default IDS flag for md5");
        assert_eq!(attrs[1]["distribution"], "5");
        assert!(attrs[1].get("Tag").is_none(), "no Tag key without tags");
        let obj = &ev["Object"][0];
        assert_eq!(obj["name"], "url");
        assert_eq!(obj["meta-category"], "network");
        assert_eq!(obj["Attribute"][0]["object_relation"], "url");
        assert_eq!(obj["Attribute"][0]["object_id"], obj["id"]);
        let tags: Vec<&str> = ev["Tag"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["tlp:green", "misp-galaxy:threat-actor=\"APT0\""]);
        assert_eq!(ev["Tag"][1]["local"], 1);
        assert_eq!(ev["Tag"][1]["is_galaxy"], true);

        let id = ev["id"].as_str().unwrap();
        let viewed = ok(get(&app, &format!("/events/view/{id}.json"), ADMIN_KEY).await).await;
        assert_eq!(viewed, added);
        let by_uuid = ok(get(
            &app,
            "/events/view/5e0bd2a6-8c3a-4d8c-a7b3-1f0a3c1e2d4f",
            ADMIN_KEY,
        )
        .await)
        .await;
        assert_eq!(by_uuid, added);

        // Same uuid again: refused, nothing added.
        let before = count(&app).await;
        let again = post(&app, "/events/add.json", ADMIN_KEY, pymisp_event()).await;
        assert_eq!(again.status(), 409);
        assert_eq!(count(&app).await, before);

        let index: Vec<Value> = ok(get(&app, "/events/index.json", ADMIN_KEY).await)
            .await
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(index.len(), 1);
        assert_eq!(index[0]["info"], "Phishing campaign");
        assert_eq!(index[0]["EventTag"][0]["Tag"]["name"], "tlp:green");
        let filtered = ok(post(
            &app,
            "/events/index.json",
            ADMIN_KEY,
            json!({"tag": "tlp:red"}),
        )
        .await)
        .await;
        assert_eq!(filtered, json!([]));
        let filtered =
            ok(get(&app, "/events/index.json?eventinfo=phishing", ADMIN_KEY).await).await;
        assert_eq!(
            filtered.as_array().unwrap().len(),
            1,
            "info filter is case-insensitive substring"
        );
    })
    .await;
}

/// Every fixture event loads through events/add and reads back with the same content.
#[tokio::test]
async fn fixture_events_round_trip() {
    for_each_backend(|app| async move {
        for name in [
            "pymisp_57c4445b-c548-4654-af0b-4be3950d210f.json",
            "workflow-roaming-data_core-format-sample.json",
        ] {
            let path = format!(
                "{}/../engine/tests/fixtures/events/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let fixture: Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let mut sent = fixture["Event"].clone();
            // Server-set and derived parts are not input.
            if let Some(m) = sent.as_object_mut() {
                m.remove("_AttributeFlattened");
            }
            let added =
                ok(post(&app, "/events/add.json", ADMIN_KEY, json!({"Event": sent})).await).await;
            let ev = &added["Event"];
            let src = &fixture["Event"];
            for key in ["uuid", "info", "date", "threat_level_id", "analysis"] {
                assert_eq!(ev[key], src[key], "{name}: {key}");
            }
            let want: Vec<(&Value, &Value, &Value, &Value)> = src["Attribute"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (&a["uuid"], &a["type"], &a["category"], &a["value"]))
                .collect();
            let got: Vec<(&Value, &Value, &Value, &Value)> = ev["Attribute"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (&a["uuid"], &a["type"], &a["category"], &a["value"]))
                .collect();
            assert_eq!(got, want, "{name}: attributes");
            let tag_names = |e: &Value| -> Vec<Value> {
                e["Tag"]
                    .as_array()
                    .map(|t| t.iter().map(|t| t["name"].clone()).collect())
                    .unwrap_or_default()
            };
            assert_eq!(tag_names(ev), tag_names(src), "{name}: event tags");
            for (got, want) in ev["Attribute"]
                .as_array()
                .unwrap()
                .iter()
                .zip(src["Attribute"].as_array().unwrap())
            {
                assert_eq!(tag_names(got), tag_names(want), "{name}: attribute tags");
            }
            let objects = |e: &Value| -> Vec<(Value, Vec<Value>)> {
                e["Object"]
                    .as_array()
                    .map(|o| {
                        o.iter()
                            .map(|o| {
                                (
                                    o["uuid"].clone(),
                                    o["Attribute"]
                                        .as_array()
                                        .unwrap()
                                        .iter()
                                        .map(|a| a["value"].clone())
                                        .collect(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            assert_eq!(objects(ev), objects(src), "{name}: objects");
        }
    })
    .await;
}

/// Bad input: 4xx with every reason, nothing written.
#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_written() {
    for_each_backend(|app| async move {
        let cases = [
            (json!({"distribution": "1"}), "info"),
            (json!({"info": "x", "Attribute": [{"type": "ip-dst", "value": "8.8.8.8"}, {"type": "no-such-type", "value": "x"}]}), "no-such-type"),
            (json!({"info": "x", "Attribute": [{"type": "ip-dst", "category": "Internal reference", "value": "8.8.8.8"}]}), "not allowed in category"),
            (json!({"info": "x", "Attribute": [{"type": "ip-dst", "value": "not-an-ip"}]}), "IP address"),
            (json!({"info": "x", "Attribute": [{"type": "md5", "value": "abc"}]}), "Checksum"),
            (json!({"info": "x", "Attribute": [{"type": "text", "value": ""}]}), "empty"),
            (json!({"info": "x", "threat_level_id": "9"}), "threat_level_id"),
            (json!({"info": "x", "date": "yesterday"}), "date"),
            (json!({"info": "x", "uuid": "not-a-uuid"}), "uuid"),
            (json!({"info": "x", "Object": [{"name": "url", "Attribute": [{"type": "url", "value": "https://x.example"}]}]}), "object_relation"),
            (json!({"info": "x", "Tag": [{"colour": "#ffffff"}]}), "name"),
            (json!([1, 2]), "JSON object"),
        ];
        for (body, needle) in cases {
            let r = post(&app, "/events/add.json", ADMIN_KEY, body.clone()).await;
            assert_eq!(r.status(), 400, "{body}");
            let err: Value = r.json().await.unwrap();
            assert!(err["message"].as_str().unwrap().contains(needle), "{body}: {err}");
            assert!(err["url"].as_str().unwrap().starts_with("/events/add"), "{err}");
        }
        let r = app.api.post(app.url("/events/add.json")).header("authorization", ADMIN_KEY)
            .header("content-type", "application/json").body("{\"info\": ").send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(count(&app).await, (0, 0, 0), "nothing half-written");

        // Oversized: 413 in MISP's shape, nothing written.
        let big = json!({"info": "big", "Attribute": [{"type": "text", "value": "x".repeat(common::TEST_MAX_BODY)}]});
        let r = post(&app, "/events/add.json", ADMIN_KEY, big).await;
        assert_eq!(r.status(), 413);
        let err: Value = r.json().await.unwrap();
        assert!(err["message"].is_string(), "{err}");
        assert_eq!(count(&app).await, (0, 0, 0));

        let r = get(&app, "/events/view/999.json", ADMIN_KEY).await;
        assert_eq!(r.status(), 404);
        let r = post(&app, "/attributes/add/999.json", ADMIN_KEY, json!({"type": "text", "value": "x"})).await;
        assert_eq!(r.status(), 404);
    })
    .await;
}

/// Edit, attributes, tags, publish and delete, as PyMISP drives them.
#[tokio::test]
async fn edit_attributes_tags_publish_and_delete() {
    for_each_backend(|app| async move {
        let added = ok(post(&app, "/events/add.json", ADMIN_KEY, pymisp_event()).await).await;
        let id = added["Event"]["id"].as_str().unwrap().to_owned();

        let published = ok(post(&app, &format!("/events/publish/{id}.json"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(published["message"], "Event published without alerts");
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(ev["Event"]["published"], true);
        assert_ne!(ev["Event"]["publish_timestamp"], "0");

        // Edit: info changes, an attribute is updated by uuid and one added; the edit unpublishes.
        let edited = ok(post(&app, &format!("/events/edit/{id}.json"), ADMIN_KEY, json!({"Event": {
            "info": "Phishing campaign (updated)",
            "Attribute": [
                {"uuid": "0c4b3e5a-9f37-4d1e-9c55-6a1b2c3d4e5f", "type": "ip-dst", "value": "9.9.9.9"},
                {"type": "hostname", "value": "mail.evil.example"}
            ]}})).await).await;
        let ev = &edited["Event"];
        assert_eq!(ev["info"], "Phishing campaign (updated)");
        assert_eq!(ev["published"], false);
        assert_eq!(ev["Attribute"][0]["value"], "9.9.9.9");
        assert_eq!(ev["Attribute"].as_array().unwrap().len(), 4);
        assert_eq!(ev["attribute_count"], "5");

        // attributes/add: single and list; edit; soft and hard delete.
        let one = ok(post(&app, &format!("/attributes/add/{id}.json"), ADMIN_KEY,
            json!({"type": "url", "value": "https://evil.example/x", "Tag": [{"name": "tlp:red"}]})).await).await;
        assert_eq!(one["Attribute"]["type"], "url");
        assert_eq!(one["Attribute"]["category"], "Network activity");
        assert_eq!(one["Attribute"]["Tag"][0]["name"], "tlp:red");
        let attr_id = one["Attribute"]["id"].as_str().unwrap().to_owned();
        let many = ok(post(&app, &format!("/attributes/add/{id}.json"), ADMIN_KEY,
            json!([{"type": "text", "value": "a"}, {"type": "text", "value": "b"}])).await).await;
        assert_eq!(many["Attribute"].as_array().unwrap().len(), 2);
        let bad = post(&app, &format!("/attributes/add/{id}.json"), ADMIN_KEY,
            json!([{"type": "text", "value": "c"}, {"type": "ip-src", "value": "x"}])).await;
        assert_eq!(bad.status(), 400, "all or nothing");
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(ev["Event"]["attribute_count"], "8", "additions counted in, the refused ones not");
        let changed = ok(post(&app, &format!("/attributes/edit/{attr_id}.json"), ADMIN_KEY,
            json!({"comment": "landing page", "to_ids": false})).await).await;
        assert_eq!(changed["Attribute"]["comment"], "landing page");
        assert_eq!(changed["Attribute"]["value"], "https://evil.example/x", "omitted fields kept");
        assert_eq!(changed["Attribute"]["to_ids"], false);
        assert_eq!(changed["Attribute"]["Tag"][0]["name"], "tlp:red", "the answer carries its tags");
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(ev["Event"]["attribute_count"], "8");
        let deleted = ok(post(&app, &format!("/attributes/delete/{attr_id}.json"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(deleted["message"], "Attribute deleted.");
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(ev["Event"]["attribute_count"], "7");
        let soft = ev["Event"]["Attribute"].as_array().unwrap().iter().find(|a| a["id"] == attr_id.as_str()).unwrap();
        assert_eq!(soft["deleted"], true);
        ok(post(&app, &format!("/attributes/delete/{attr_id}/1.json"), ADMIN_KEY, json!({})).await).await;
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert!(ev["Event"]["Attribute"].as_array().unwrap().iter().all(|a| a["id"] != attr_id.as_str()));

        // Tags: add, index, attach to the event and to an attribute, remove.
        let tag = ok(post(&app, "/tags/add.json", ADMIN_KEY, json!({"name": "kill-chain:delivery", "colour": "#123456"})).await).await;
        assert_eq!(tag["Tag"]["colour"], "#123456");
        let same = ok(post(&app, "/tags/add.json", ADMIN_KEY, json!({"name": "kill-chain:delivery"})).await).await;
        assert_eq!(same["Tag"]["id"], tag["Tag"]["id"], "an existing name answers the existing tag");
        let index = ok(get(&app, "/tags/index.json", ADMIN_KEY).await).await;
        assert!(index["Tag"].as_array().unwrap().iter().any(|t| t["name"] == "kill-chain:delivery"));
        let ev_uuid = "5e0bd2a6-8c3a-4d8c-a7b3-1f0a3c1e2d4f";
        let attached = ok(post(&app, "/tags/attachTagToObject.json", ADMIN_KEY,
            json!({"uuid": ev_uuid, "tag": "kill-chain:delivery", "local": false})).await).await;
        assert!(attached["message"].as_str().unwrap().contains("successfully attached to Event"), "{attached}");
        ok(post(&app, "/tags/attachTagToObject.json", ADMIN_KEY,
            json!({"uuid": "0c4b3e5a-9f37-4d1e-9c55-6a1b2c3d4e5f", "tag": "tlp:amber", "local": 1})).await).await;
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert!(ev["Event"]["Tag"].as_array().unwrap().iter().any(|t| t["name"] == "kill-chain:delivery"));
        let a0 = &ev["Event"]["Attribute"][0];
        assert!(a0["Tag"].as_array().unwrap().iter().any(|t| t["name"] == "tlp:amber" && t["local"] == 1));
        let removed = ok(post(&app, "/tags/removeTagFromObject.json", ADMIN_KEY,
            json!({"uuid": ev_uuid, "tag": "kill-chain:delivery"})).await).await;
        assert!(removed["message"].as_str().unwrap().contains("successfully removed"));
        let again = post(&app, "/tags/removeTagFromObject.json", ADMIN_KEY, json!({"uuid": ev_uuid, "tag": "kill-chain:delivery"})).await;
        assert_eq!(again.status(), 404);
        let missing = post(&app, "/tags/attachTagToObject.json", ADMIN_KEY, json!({"uuid": "no-such-uuid", "tag": "x"})).await;
        assert_eq!(missing.status(), 404);

        let unpub = ok(post(&app, &format!("/events/unpublish/{id}.json"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(unpub["message"], "Event unpublished.");
        let gone = ok(post(&app, &format!("/events/delete/{id}.json"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(gone["message"], "Event deleted.");
        assert_eq!(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await.status(), 404);
        let (events, attributes, _) = count(&app).await;
        assert_eq!((events, attributes), (0, 0), "children deleted with the event");
    })
    .await;
}

/// Access as MISP: distribution decides who sees; the creating org edits; read-only reads.
#[tokio::test]
async fn access_follows_organisation_and_distribution() {
    for_each_backend(|app| async move {
        let added = ok(post(&app, "/events/add.json", ADMIN_KEY, pymisp_event()).await).await;
        let id = added["Event"]["id"].as_str().unwrap().to_owned();
        let mut private = pymisp_event();
        private["uuid"] = json!("7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
        private["distribution"] = json!("0");
        private["Attribute"] = json!([]);
        private["Object"] = json!([]);
        let private = ok(post(&app, "/events/add.json", ADMIN_KEY, private).await).await;
        let private_id = private["Event"]["id"].as_str().unwrap().to_owned();

        let same_org_user = user_key(&app, "user@flowgate.test", ROLE_USER, None).await;
        let org_admin = user_key(&app, "orgadmin@flowgate.test", ROLE_ORG_ADMIN, None).await;
        let reader = user_key(&app, "reader@flowgate.test", ROLE_READ_ONLY, None).await;
        let outsider = user_key(
            &app,
            "outsider@other.test",
            ROLE_ORG_ADMIN,
            Some("Other org"),
        )
        .await;

        // Seeing.
        for key in [&same_org_user, &org_admin, &reader, &outsider] {
            assert_eq!(
                get(&app, &format!("/events/view/{id}"), key).await.status(),
                200
            );
        }
        assert_eq!(
            get(&app, &format!("/events/view/{private_id}"), &outsider)
                .await
                .status(),
            404
        );
        assert_eq!(
            get(&app, &format!("/events/view/{private_id}"), &reader)
                .await
                .status(),
            200
        );
        let listed = ok(get(&app, "/events/index.json", &outsider).await).await;
        assert_eq!(
            listed.as_array().unwrap().len(),
            1,
            "the private event is not listed"
        );
        // The outsider does not see the org-only attribute of the shared event.
        let seen = ok(get(&app, &format!("/events/view/{id}"), &outsider).await).await;
        assert!(seen["Event"]["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["value"] != "evil.example"));
        let seen = ok(get(&app, &format!("/events/view/{id}"), &reader).await).await;
        assert!(seen["Event"]["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["value"] == "evil.example"));

        // Editing.
        let change = json!({"Event": {"info": "changed"}});
        assert_eq!(
            post(
                &app,
                &format!("/events/edit/{id}"),
                &org_admin,
                change.clone()
            )
            .await
            .status(),
            200
        );
        // MISP's default User role has perm_modify_org: it edits its organisation's events.
        assert_eq!(
            post(
                &app,
                &format!("/events/edit/{id}"),
                &same_org_user,
                change.clone()
            )
            .await
            .status(),
            200
        );
        let denied = post(
            &app,
            &format!("/events/edit/{id}"),
            &outsider,
            change.clone(),
        )
        .await;
        assert_eq!(denied.status(), 403, "another organisation's event");
        let denied: Value = denied.json().await.unwrap();
        assert_eq!(denied["message"], "You do not have permission to do that.");
        assert_eq!(
            post(
                &app,
                &format!("/events/edit/{id}"),
                &outsider,
                change.clone()
            )
            .await
            .status(),
            403
        );
        assert_eq!(
            post(&app, &format!("/events/edit/{id}"), &reader, change.clone())
                .await
                .status(),
            403
        );
        assert_eq!(
            post(&app, "/events/add", &reader, json!({"info": "x"}))
                .await
                .status(),
            403
        );
        assert_eq!(
            post(
                &app,
                &format!("/events/publish/{id}"),
                &same_org_user,
                json!({})
            )
            .await
            .status(),
            403
        );
        assert_eq!(
            post(
                &app,
                &format!("/events/delete/{private_id}"),
                &outsider,
                json!({})
            )
            .await
            .status(),
            404
        );

        // A user edits what they created; without the tag editor right, unknown tags are refused.
        let own =
            ok(post(&app, "/events/add", &same_org_user, json!({"info": "mine"})).await).await;
        let own_id = own["Event"]["id"].as_str().unwrap();
        assert_eq!(
            post(
                &app,
                &format!("/events/edit/{own_id}"),
                &same_org_user,
                change.clone()
            )
            .await
            .status(),
            200
        );
        let r = post(
            &app,
            "/tags/attachTagToObject",
            &same_org_user,
            json!({"uuid": own["Event"]["uuid"], "tag": "brand-new-tag"}),
        )
        .await;
        assert_eq!(r.status(), 400, "unknown tag, no tag editor permission");
        assert_eq!(
            post(
                &app,
                "/tags/attachTagToObject",
                &same_org_user,
                json!({"uuid": own["Event"]["uuid"], "tag": "tlp:green"})
            )
            .await
            .status(),
            200
        );
        assert_eq!(
            post(&app, "/tags/add", &same_org_user, json!({"name": "x"}))
                .await
                .status(),
            403
        );
        let no_key = app
            .api
            .get(app.url("/events/index.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(no_key.status(), 403);
    })
    .await;
}

/// events/runWorkflow runs the selected ad-hoc workflows (scope `passed_event_ids`) on the event;
/// executeWorkflow with `{"eventid": [...]}` does the same for a site admin.
#[tokio::test]
async fn ad_hoc_workflows_run_on_stored_events() {
    for_each_backend(|app| async move {
        let added = ok(post(&app, "/events/add.json", ADMIN_KEY, pymisp_event()).await).await;
        let event_id = added["Event"]["id"].as_str().unwrap().to_owned();

        let wf = ok(post(&app, "/workflows/add.json", ADMIN_KEY, json!({"Workflow": {"name": "On events", "data": ""}})).await).await;
        let wf = &wf["Workflow"];
        let wf_id = wf["id"].as_str().unwrap().to_owned();
        let trigger_id = wf["trigger_id"].as_str().unwrap().to_owned();
        // Ad-hoc trigger (scope passed_event_ids) → IF tag tlp:green (event) → stop.
        let mut graph = wf["data"].clone();
        graph["1"]["data"]["indexed_params"] = json!({"scope": "passed_event_ids", "filters": "{}"});
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
        graph["2"] = json!({"id": 2, "name": "IF :: Tag", "data": {"id": "tag-if", "name": "IF :: Tag", "module_type": "logic",
                "indexed_params": {"scope": "event", "condition": "in_or", "tags": ["tlp:green"]}},
            "inputs": {"input_1": {"connections": [{"node": "1", "input": "output_1"}]}},
            "outputs": {"output_1": {"connections": [{"node": "3", "output": "input_1"}]}, "output_2": {"connections": []}}});
        graph["3"] = json!({"id": 3, "name": "Stop execution", "data": {"id": "stop-execution", "name": "Stop execution",
                "module_type": "action", "indexed_params": {"message": "green event"}},
            "inputs": {"input_1": {"connections": [{"node": "2", "input": "output_1"}]}}, "outputs": []});
        ok(post(&app, &format!("/workflows/edit/{wf_id}.json"), ADMIN_KEY, json!({"Workflow": {"data": graph}})).await).await;
        ok(post(&app, &format!("/workflows/toggleModule/{trigger_id}/1/1.json"), ADMIN_KEY, json!({})).await).await;

        let ran = ok(post(&app, &format!("/events/runWorkflow/{event_id}.json"), ADMIN_KEY,
            json!({"Event": {wf_id.clone(): "1"}})).await).await;
        assert_eq!(ran["results"][0]["result"]["outcome"], "blocked", "{ran}");
        let run_id = ran["results"][0]["result"]["run_id"].as_i64().unwrap();
        let run = ok(get(&app, &format!("/workflows/logs/{run_id}.json"), ADMIN_KEY).await).await;
        assert_eq!(run["WorkflowRun"]["action"], format!("events/runWorkflow/{event_id}"), "{run}");

        let via_execute = ok(post(&app, &format!("/workflows/executeWorkflow/{wf_id}.json"), ADMIN_KEY,
            json!({"eventid": [event_id.parse::<i64>().unwrap()]})).await).await;
        assert_eq!(via_execute["outcome"], "blocked");
        let nothing = ok(post(&app, &format!("/workflows/executeWorkflow/{wf_id}.json"), ADMIN_KEY,
            json!({"eventid": [999]})).await).await;
        assert_eq!(nothing["outcome"], "No data collected.");
        let bad = post(&app, &format!("/workflows/executeWorkflow/{wf_id}.json"), ADMIN_KEY, json!({"value": "x"})).await;
        assert_eq!(bad.status(), 400, "unsupported filter named");

        // A non-ad-hoc workflow cannot be run on an event; neither can someone who cannot edit it.
        let outsider = user_key(&app, "outsider@other.test", ROLE_ORG_ADMIN, Some("Other org")).await;
        let r = post(&app, &format!("/events/runWorkflow/{event_id}.json"), &outsider, json!({"Event": {wf_id.clone(): 1}})).await;
        assert_eq!(r.status(), 403);
        let r = post(&app, &format!("/events/runWorkflow/{event_id}.json"), ADMIN_KEY, json!({"Event": {}})).await;
        assert_eq!(r.status(), 400);
    })
    .await;
}

/// §3 `event-publish` (blocking): the official PAP:RED / tlp:red blueprint on the publish
/// trigger stops publishing a tlp:red event, with MISP's message, leaving the event exactly as it
/// was; a tlp:green event publishes. Nothing runs while workflows or the trigger are off.
#[tokio::test]
async fn a_blocking_publish_workflow_stops_publishing() {
    for_each_backend(|app| async move {
        let path = format!(
            "{}/../engine/tests/fixtures/blueprints/blueprint_pap_red-and-tlp_red-blocking_1661328258.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let bp: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let opened = ok(get(&app, "/workflows/editor/event-publish.json", ADMIN_KEY).await).await;
        let wf_id = opened["Workflow"]["id"].as_str().unwrap().to_owned();
        let mut graph = opened["Workflow"]["data"].clone();
        for node in bp["WorkflowBlueprint"]["data"].as_array().unwrap() {
            graph[node["id"].to_string()] = node.clone();
        }
        graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "53", "output": "input_1"}]);
        graph["53"]["inputs"] = json!({"input_1": {"connections": [{"node": "1", "input": "output_1"}]}});
        ok(post(&app, &format!("/workflows/edit/{wf_id}.json"), ADMIN_KEY, json!({"Workflow": {"data": graph}})).await).await;

        let mut red = pymisp_event();
        red["Tag"] = json!([{"name": "tlp:red"}]);
        let red = ok(post(&app, "/events/add.json", ADMIN_KEY, red).await).await;
        let red_id = red["Event"]["id"].as_str().unwrap().to_owned();
        let mut green = pymisp_event();
        green["uuid"] = json!("3f2e1d0c-4b5a-4c6d-8e7f-9a0b1c2d3e4f");
        green["Attribute"] = json!([]);
        green["Object"] = json!([]);
        let green = ok(post(&app, "/events/add.json", ADMIN_KEY, green).await).await;
        let green_id = green["Event"]["id"].as_str().unwrap().to_owned();

        // Workflows off (the default): publishing is not gated.
        ok(post(&app, &format!("/events/publish/{red_id}.json"), ADMIN_KEY, json!({})).await).await;
        ok(post(&app, &format!("/events/unpublish/{red_id}.json"), ADMIN_KEY, json!({})).await).await;

        for setting in ["Plugin.Workflow_enable", "Plugin.Workflow_triggers_event-publish"] {
            ok(post(&app, &format!("/servers/serverSettingsEdit/{setting}.json"), ADMIN_KEY, json!({"value": true})).await).await;
        }
        let before = ok(get(&app, &format!("/events/view/{red_id}.json"), ADMIN_KEY).await).await;
        let stopped = post(&app, &format!("/events/publish/{red_id}.json"), ADMIN_KEY, json!({})).await;
        assert_eq!(stopped.status(), 400);
        let stopped: Value = stopped.json().await.unwrap();
        assert!(stopped["message"].as_str().unwrap().starts_with("Publishing stopped by a blocking workflow."), "{stopped}");
        assert!(!stopped["errors"].as_array().unwrap().is_empty(), "{stopped}");
        let after = ok(get(&app, &format!("/events/view/{red_id}.json"), ADMIN_KEY).await).await;
        assert_eq!(after, before, "the event is exactly as before the attempt");

        let published = ok(post(&app, &format!("/events/publish/{green_id}.json"), ADMIN_KEY, json!({})).await).await;
        assert_eq!(published["message"], "Event published without alerts");
        let runs = ok(get(&app, "/workflows/logs.json?trigger_id=event-publish", ADMIN_KEY).await).await;
        let outcomes: Vec<&str> = runs["WorkflowRun"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes, ["success", "blocked"], "newest first");
        assert_eq!(runs["WorkflowRun"][1]["action"], format!("events/publish/{red_id}"));
    })
    .await;
}

/// objects/add, objects/edit and objects/delete (soft, then hard), as PyMISP's add_object,
/// update_object and delete_object drive them.
#[tokio::test]
async fn objects_are_added_edited_and_deleted() {
    for_each_backend(|app| async move {
        let added = ok(post(&app, "/events/add.json", ADMIN_KEY, json!({"info": "objects"})).await).await;
        let id = added["Event"]["id"].as_str().unwrap().to_owned();
        let obj = ok(post(&app, &format!("/objects/add/{id}.json"), ADMIN_KEY, json!({
            "name": "domain-ip", "meta-category": "network", "template_uuid": "43b3b146-77eb-4931-b4cc-b66c60f28734",
            "template_version": "10",
            "Attribute": [
                {"type": "domain", "object_relation": "domain", "value": "evil.example"},
                {"type": "ip-dst", "object_relation": "ip", "value": "10.0.0.1", "Tag": [{"name": "tlp:amber"}]}
            ]})).await).await;
        let o = &obj["Object"];
        assert_eq!(o["name"], "domain-ip");
        assert_eq!(o["event_id"], id.as_str());
        assert_eq!(o["Attribute"].as_array().unwrap().len(), 2);
        assert_eq!(o["Attribute"][1]["Tag"][0]["name"], "tlp:amber");
        let oid = o["id"].as_str().unwrap().to_owned();
        let ip_uuid = o["Attribute"][1]["uuid"].clone();

        // Fields only, then an attribute updated by uuid and one added.
        let edited = ok(post(&app, &format!("/objects/edit/{oid}.json"), ADMIN_KEY, json!({"comment": "seen in mail"})).await).await;
        assert_eq!(edited["Object"]["comment"], "seen in mail");
        assert_eq!(edited["Object"]["Attribute"].as_array().unwrap().len(), 2, "attributes untouched");
        let edited = ok(post(&app, &format!("/objects/edit/{oid}.json"), ADMIN_KEY, json!({"Object": {"Attribute": [
            {"uuid": ip_uuid, "type": "ip-dst", "object_relation": "ip", "value": "10.0.0.2"},
            {"type": "port", "object_relation": "port", "value": "443"}]}})).await).await;
        let values: Vec<&str> = edited["Object"]["Attribute"].as_array().unwrap().iter().map(|a| a["value"].as_str().unwrap()).collect();
        assert_eq!(values, ["evil.example", "10.0.0.2", "443"]);
        let bad = post(&app, &format!("/objects/edit/{oid}.json"), ADMIN_KEY, json!({"Attribute": [{"type": "ip-dst", "object_relation": "ip", "value": "nope"}]})).await;
        assert_eq!(bad.status(), 400);
        let bad = post(&app, &format!("/objects/add/{id}.json"), ADMIN_KEY, json!({"name": "x", "Attribute": []})).await;
        assert_eq!(bad.status(), 400);

        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(ev["Event"]["attribute_count"], "3");
        ok(post(&app, &format!("/objects/delete/{oid}.json"), ADMIN_KEY, json!({})).await).await;
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(ev["Event"]["Object"][0]["deleted"], true);
        assert!(ev["Event"]["Object"][0]["Attribute"].as_array().unwrap().iter().all(|a| a["deleted"] == true));
        assert_eq!(ev["Event"]["attribute_count"], "0");
        ok(post(&app, &format!("/objects/delete/{oid}/1.json"), ADMIN_KEY, json!({})).await).await;
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(ev["Event"]["Object"], json!([]));
        assert_eq!(count(&app).await.1, 0, "the object's attributes are gone too");
        assert_eq!(post(&app, &format!("/objects/delete/{oid}.json"), ADMIN_KEY, json!({})).await.status(), 404);
    })
    .await;
}

/// restSearch (events and attributes): value (exact and `%`), type, category, to_ids, tags with
/// `!`, eventid, org, published, timestamp / last, date range, paging, visibility; unknown
/// filters are refused by name.
#[tokio::test]
async fn rest_search_finds_events_and_attributes() {
    for_each_backend(|app| async move {
        let a = ok(post(&app, "/events/add.json", ADMIN_KEY, pymisp_event()).await).await;
        let a_id = a["Event"]["id"].as_str().unwrap().to_owned();
        let b = ok(post(&app, "/events/add.json", ADMIN_KEY, json!({
            "info": "second", "date": "2025-01-15", "distribution": "0", "Tag": [{"name": "tlp:red"}],
            "Attribute": [{"type": "ip-dst", "value": "1.2.3.4", "to_ids": false}, {"type": "text", "value": "note"}]})).await).await;
        let b_id = b["Event"]["id"].as_str().unwrap().to_owned();
        ok(post(&app, &format!("/events/publish/{b_id}"), ADMIN_KEY, json!({})).await).await;

        let ids = |r: &Value| -> Vec<String> {
            r["response"].as_array().unwrap().iter().map(|e| e["Event"]["id"].as_str().unwrap().to_owned()).collect()
        };
        let search = |body: Value| {
            let app = &app;
            async move { ok(post(app, "/events/restSearch", ADMIN_KEY, body).await).await }
        };
        assert_eq!(ids(&search(json!({"returnFormat": "json"})).await), [b_id.clone(), a_id.clone()]);
        assert_eq!(ids(&search(json!({"value": "8.8.8.8"})).await), vec![a_id.clone()]);
        assert_eq!(ids(&search(json!({"value": "%.EXAMPLE"})).await), vec![a_id.clone()], "wildcard, any case");
        assert_eq!(ids(&search(json!({"type": "text"})).await), vec![b_id.clone()]);
        assert_eq!(ids(&search(json!({"type": "ip-dst", "to_ids": 0})).await), vec![b_id.clone()]);
        assert_eq!(ids(&search(json!({"category": "Payload delivery"})).await), vec![a_id.clone()]);
        assert_eq!(ids(&search(json!({"tags": ["tlp:red"]})).await), vec![b_id.clone()]);
        assert_eq!(ids(&search(json!({"tags": "PAP:AMBER"})).await), vec![a_id.clone()], "attribute tag");
        assert_eq!(ids(&search(json!({"tags": ["!tlp:red"]})).await), vec![a_id.clone()]);
        assert_eq!(ids(&search(json!({"tags": {"NOT": ["tlp:green"]}})).await), vec![b_id.clone()]);
        assert_eq!(ids(&search(json!({"eventid": [a_id.clone()]})).await), vec![a_id.clone()]);
        assert_eq!(ids(&search(json!({"published": true})).await), vec![b_id.clone()]);
        assert_eq!(ids(&search(json!({"last": "1d"})).await), vec![b_id.clone()]);
        assert_eq!(ids(&search(json!({"date_from": "2026-01-01"})).await), vec![a_id.clone()]);
        assert_eq!(ids(&search(json!({"date_to": "2025-12-31"})).await), vec![b_id.clone()]);
        assert_eq!(ids(&search(json!({"timestamp": ["0", "1"]})).await), Vec::<String>::new());
        assert_eq!(ids(&search(json!({"limit": 1, "page": 2})).await), vec![a_id.clone()]);
        assert_eq!(ids(&search(json!({"org": "no-such-org"})).await), Vec::<String>::new());

        let bad = post(&app, "/events/restSearch", ADMIN_KEY, json!({"values": "x", "frobnicate": 1})).await;
        assert_eq!(bad.status(), 400);
        let bad: Value = bad.json().await.unwrap();
        assert!(bad["message"].as_str().unwrap().contains("frobnicate"), "{bad}");
        assert_eq!(post(&app, "/events/restSearch", ADMIN_KEY, json!({"returnFormat": "csv"})).await.status(), 400);

        let attrs = ok(post(&app, "/attributes/restSearch", ADMIN_KEY, json!({"type": "ip-dst"})).await).await;
        let values: Vec<&str> = attrs["response"]["Attribute"].as_array().unwrap().iter().map(|a| a["value"].as_str().unwrap()).collect();
        assert_eq!(values, ["8.8.8.8", "1.2.3.4"]);
        assert_eq!(attrs["response"]["Attribute"][0]["Event"]["id"], a_id.as_str());
        let inherited = ok(post(&app, "/attributes/restSearch", ADMIN_KEY, json!({"tags": "tlp:red"})).await).await;
        assert_eq!(inherited["response"]["Attribute"].as_array().unwrap().len(), 2, "event tags count for attributes");

        // Another organisation sees neither the org-only event nor org-only attributes.
        let outsider = user_key(&app, "outsider@other.test", ROLE_ORG_ADMIN, Some("Other org")).await;
        let seen = ok(post(&app, "/events/restSearch", &outsider, json!({})).await).await;
        assert_eq!(ids(&seen), vec![a_id.clone()]);
        let seen = ok(post(&app, "/attributes/restSearch", &outsider, json!({"type": "domain"})).await).await;
        assert_eq!(seen["response"]["Attribute"], json!([]), "the org-only domain attribute");
    })
    .await;
}

/// Sightings (by attribute, uuid or value; types; permission) and event reports (add, view,
/// edit, soft and hard delete; shown in the event).
#[tokio::test]
async fn sightings_and_event_reports() {
    for_each_backend(|app| async move {
        let added = ok(post(&app, "/events/add.json", ADMIN_KEY, pymisp_event()).await).await;
        let id = added["Event"]["id"].as_str().unwrap().to_owned();
        let attr_id = added["Event"]["Attribute"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let one = ok(post(
            &app,
            &format!("/sightings/add/{attr_id}.json"),
            ADMIN_KEY,
            json!({"source": "sensor-1"}),
        )
        .await)
        .await;
        assert_eq!(one["Sighting"]["attribute_id"], attr_id.as_str());
        assert_eq!(one["Sighting"]["event_id"], id.as_str());
        assert_eq!(one["Sighting"]["type"], "0");
        assert_eq!(one["Sighting"]["source"], "sensor-1");
        let by_value = ok(post(
            &app,
            "/sightings/add.json",
            ADMIN_KEY,
            json!({"value": "8.8.8.8", "type": "1"}),
        )
        .await)
        .await;
        assert_eq!(by_value["Sighting"]["type"], "1", "false positive");
        let by_uuid = ok(post(
            &app,
            "/sightings/add",
            ADMIN_KEY,
            json!({"uuid": "0c4b3e5a-9f37-4d1e-9c55-6a1b2c3d4e5f", "timestamp": 1700000000}),
        )
        .await)
        .await;
        assert_eq!(by_uuid["Sighting"]["date_sighting"], "1700000000");
        for (body, status) in [
            (json!({"value": "no-such-value"}), 404),
            (json!({"value": "8.8.8.8", "type": "7"}), 400),
            (json!({}), 400),
        ] {
            assert_eq!(
                post(&app, "/sightings/add", ADMIN_KEY, body.clone())
                    .await
                    .status(),
                status,
                "{body}"
            );
        }
        let reader = user_key(&app, "reader@flowgate.test", ROLE_READ_ONLY, None).await;
        assert_eq!(
            post(&app, "/sightings/add", &reader, json!({"value": "8.8.8.8"}))
                .await
                .status(),
            403
        );

        let report = ok(post(
            &app,
            &format!("/eventReports/add/{id}.json"),
            ADMIN_KEY,
            json!({"name": "Analysis", "content": "# Findings\nC2 at 8.8.8.8"}),
        )
        .await)
        .await;
        let report_id = report["EventReport"]["id"].as_str().unwrap().to_owned();
        assert_eq!(report["EventReport"]["event_id"], id.as_str());
        assert_eq!(report["EventReport"]["distribution"], "5");
        let viewed = ok(get(
            &app,
            &format!("/eventReports/view/{report_id}.json"),
            ADMIN_KEY,
        )
        .await)
        .await;
        assert_eq!(viewed, report);
        let edited = ok(post(
            &app,
            &format!("/eventReports/edit/{report_id}.json"),
            ADMIN_KEY,
            json!({"EventReport": {"content": "updated"}}),
        )
        .await)
        .await;
        assert_eq!(edited["EventReport"]["content"], "updated");
        assert_eq!(edited["EventReport"]["name"], "Analysis");
        let ev = ok(get(&app, &format!("/events/view/{id}"), ADMIN_KEY).await).await;
        assert_eq!(ev["Event"]["EventReport"][0]["name"], "Analysis");
        assert_eq!(
            post(
                &app,
                &format!("/eventReports/add/{id}"),
                ADMIN_KEY,
                json!({"content": "x"})
            )
            .await
            .status(),
            400
        );
        assert_eq!(
            post(
                &app,
                &format!("/eventReports/add/{id}"),
                &reader,
                json!({"name": "x"})
            )
            .await
            .status(),
            403
        );
        ok(post(
            &app,
            &format!("/eventReports/delete/{report_id}"),
            ADMIN_KEY,
            json!({}),
        )
        .await)
        .await;
        let viewed =
            ok(get(&app, &format!("/eventReports/view/{report_id}"), ADMIN_KEY).await).await;
        assert_eq!(viewed["EventReport"]["deleted"], true);
        ok(post(
            &app,
            &format!("/eventReports/delete/{report_id}/1"),
            ADMIN_KEY,
            json!({}),
        )
        .await)
        .await;
        assert_eq!(
            get(&app, &format!("/eventReports/view/{report_id}"), ADMIN_KEY)
                .await
                .status(),
            404
        );

        // Deleting the event takes its sightings and reports along.
        ok(post(&app, &format!("/events/delete/{id}"), ADMIN_KEY, json!({})).await).await;
        use sea_orm::{EntityTrait, PaginatorTrait};
        assert_eq!(
            app::backend::entities::sighting::Entity::find()
                .count(&app.db)
                .await
                .unwrap(),
            0
        );
    })
    .await;
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// With `Plugin.ZeroMQ_enable`, publishing sends the full event on the `misp_json` topic of the
/// server's PUB socket (read by a real SUB socket); a port in use is refused when the setting
/// changes, with nothing saved.
#[tokio::test]
async fn publishing_sends_the_event_on_zeromq() {
    use zeromq::{Socket, SocketRecv};
    for_each_backend(|app| async move {
        let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        let port = free_port();
        let set = |name: &'static str, value: Value| {
            let app = &app;
            async move {
                post(
                    app,
                    &format!("/servers/serverSettingsEdit/{name}"),
                    ADMIN_KEY,
                    json!({"value": value}),
                )
                .await
            }
        };
        ok(set("Plugin.ZeroMQ_port", json!(port)).await).await;
        ok(set("Plugin.ZeroMQ_enable", json!(true)).await).await;
        let refused = set("Plugin.ZeroMQ_port", json!(busy_port)).await;
        assert_eq!(refused.status(), 400);
        let message = refused.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains("Cannot bind the ZeroMQ publisher"),
            "{message}"
        );
        let settings = ok(get(&app, "/servers/serverSettings", ADMIN_KEY).await).await;
        let stored = settings["finalSettings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["setting"] == "Plugin.ZeroMQ_port")
            .unwrap()["value"]
            .clone();
        assert_eq!(stored, json!(port), "the refused port was not saved");

        let mut sub = zeromq::SubSocket::new();
        sub.connect(&format!("tcp://127.0.0.1:{port}"))
            .await
            .unwrap();
        sub.subscribe("misp_json").await.unwrap();
        let ev = ok(post(
            &app,
            "/events/add",
            ADMIN_KEY,
            json!({"info": "Shared on ZeroMQ",
            "Attribute": [{"type": "domain", "value": "zmq.example"}]}),
        )
        .await)
        .await;
        let id = ev["Event"]["id"].as_str().unwrap().to_owned();
        // A subscriber misses what is sent before its subscription reaches the publisher
        // (ZeroMQ's slow joiner): publish until a message arrives.
        let mut frame = None;
        for _ in 0..50 {
            ok(post(&app, &format!("/events/publish/{id}"), ADMIN_KEY, json!({})).await).await;
            if let Ok(Ok(m)) =
                tokio::time::timeout(std::time::Duration::from_millis(200), sub.recv()).await
            {
                frame = Some(String::from_utf8(m.get(0).unwrap().to_vec()).unwrap());
                break;
            }
            ok(post(
                &app,
                &format!("/events/unpublish/{id}"),
                ADMIN_KEY,
                json!({}),
            )
            .await)
            .await;
        }
        let frame = frame.expect("a misp_json message");
        let (topic, body) = frame.split_once(' ').unwrap();
        assert_eq!(topic, "misp_json");
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["Event"]["uuid"], ev["Event"]["uuid"]);
        assert_eq!(body["Event"]["Attribute"][0]["value"], "zmq.example");
        assert_eq!(body["Event"]["published"], true);
        drop(busy);
        // Off again: the socket is released for the next backend's run.
        ok(set("Plugin.ZeroMQ_enable", json!(false)).await).await;
    })
    .await;
}
