//! The server functions behind the admin pages (Triggers, Settings): site admins only (403 for
//! anyone else, as the REST routes), and what they change is what the REST routes see.
mod common;

use app::backend::store::roles::{ROLE_ORG_ADMIN, ROLE_USER};
use common::{for_each_backend, get, ok, ADMIN_EMAIL, ADMIN_KEY, ADMIN_PASSWORD};
use serde_json::{json, Value};

const ENDPOINTS: [(&str, &[(&str, &str)]); 26] = [
    (
        "logs/list",
        &[
            ("workflow_id", ""),
            ("trigger_id", ""),
            ("outcome", ""),
            ("from", ""),
            ("to", ""),
            ("before", ""),
        ],
    ),
    ("logs/detail", &[("id", "1")]),
    (
        "modules/list",
        &[
            ("kind", ""),
            ("source", ""),
            ("blocking", ""),
            ("enabled", ""),
        ],
    ),
    ("modules/detail", &[("id", "tag-if")]),
    (
        "modules/toggle",
        &[("module_id", "webhook"), ("enable", "0")],
    ),
    (
        "triggers/list",
        &[("scope", ""), ("enabled", ""), ("blocking", "")],
    ),
    (
        "triggers/toggle",
        &[("trigger_id", "event-publish"), ("enable", "1")],
    ),
    ("triggers/debug", &[("workflow_id", "1"), ("enable", "1")]),
    ("settings/list", &[]),
    (
        "settings/save",
        &[("name", "Plugin.Workflow_enable"), ("value", "on")],
    ),
    ("blueprints/list", &[]),
    ("blueprints/detail", &[("id", "1")]),
    ("blueprints/import", &[("file", "{}")]),
    ("blueprints/delete", &[("id", "1")]),
    ("blueprints/update", &[]),
    ("editor/open", &[("id", "event-publish")]),
    ("editor/check", &[("data", "{}")]),
    (
        "editor/save",
        &[("id", "1"), ("data", "{}"), ("timestamp", "0")],
    ),
    (
        "editor/blueprint",
        &[("name", "x"), ("description", ""), ("data", "[]")],
    ),
    ("editor/tags", &[("search", "tlp"), ("prefix", "")]),
    ("editor/run", &[("id", "1"), ("input", "{}")]),
    ("adhoc/list", &[]),
    ("adhoc/create", &[("name", "x"), ("description", "")]),
    ("jobs/list", &[("status", "")]),
    ("jobs/retry", &[("id", "1")]),
    ("jobs/discard", &[("id", "1")]),
];

#[tokio::test]
async fn admin_page_functions_are_for_site_admins_only() {
    for_each_backend(|app| async move {
        for (email, role) in [
            ("user@pages.test", ROLE_USER),
            ("orgadmin@pages.test", ROLE_ORG_ADMIN),
        ] {
            common::user_key(&app, email, role, None).await;
            let browser = app.browser();
            app.login(&browser, email, "a-long-enough-password").await;
            for (endpoint, form) in ENDPOINTS {
                let r = app.server_fn(&browser, endpoint, form).await;
                assert_eq!(r.status(), 403, "{email} on {endpoint}");
            }
        }
        // A form the function cannot read is a 400 with a message, not a server error.
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let r = app
            .server_fn(&admin, "triggers/list", &[("scope", "")])
            .await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("could not be read"));
        let anonymous = app.browser();
        let r = app
            .server_fn(&anonymous, "triggers/list", ENDPOINTS[5].1)
            .await;
        assert_eq!(r.status(), 401);
        let settings = ok(get(&app, "/servers/serverSettings", ADMIN_KEY).await).await;
        let enable = settings["finalSettings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["setting"] == "Plugin.Workflow_enable")
            .unwrap()
            .clone();
        assert_eq!(enable["value"], false, "nothing changed");
    })
    .await;
}

#[tokio::test]
async fn triggers_and_settings_pages_change_what_the_api_sees() {
    for_each_backend(|app| async move {
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let rows: Value = app
            .server_fn(&admin, "triggers/list", ENDPOINTS[5].1)
            .await
            .json()
            .await
            .unwrap();
        let publish = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "event-publish")
            .unwrap()
            .clone();
        assert_eq!(
            (publish["blocking"].as_bool(), publish["enabled"].as_bool()),
            (Some(true), Some(false))
        );
        assert_eq!(publish["p50_ms"], Value::Null, "no runs yet");

        let r = app
            .server_fn(
                &admin,
                "triggers/toggle",
                &[("trigger_id", "event-publish"), ("enable", "1")],
            )
            .await;
        assert_eq!(r.status(), 200);
        let enabled: Vec<Value> = get(&app, "/workflows/triggers.json?enabled=1", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        assert!(enabled.iter().any(|t| t["id"] == "event-publish"));
        let blocking_only: Value = app
            .server_fn(
                &admin,
                "triggers/list",
                &[("scope", "event"), ("enabled", "1"), ("blocking", "1")],
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            blocking_only
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].clone())
                .collect::<Vec<_>>(),
            [json!("event-publish")]
        );

        // Settings: a checkbox, a refused value with the reason, a write-only secret.
        let r = app
            .server_fn(
                &admin,
                "settings/save",
                &[("name", "Plugin.Workflow_enable"), ("value", "on")],
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = app
            .server_fn(
                &admin,
                "settings/save",
                &[("name", "Plugin.Action_timeout"), ("value", "9999")],
            )
            .await;
        assert_eq!(r.status(), 400);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("expected a number from 1 to 300"));
        let r = app
            .server_fn(
                &admin,
                "settings/save",
                &[("name", "SMTP.password"), ("value", "s3cret-pass")],
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = app
            .server_fn(
                &admin,
                "settings/save",
                &[("name", "SMTP.password"), ("value", "")],
            )
            .await;
        assert!(r.text().await.unwrap().contains("unchanged"));
        let rows: Value = app
            .server_fn(&admin, "settings/list", &[])
            .await
            .json()
            .await
            .unwrap();
        let by_name = |n: &str| {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == n)
                .unwrap()
                .clone()
        };
        assert_eq!(by_name("Plugin.Workflow_enable")["value"], "true");
        assert_eq!(
            by_name("Plugin.Action_timeout")["value"],
            "10",
            "the refused value was not saved"
        );
        assert_eq!(
            (
                by_name("SMTP.password")["value"].as_str(),
                by_name("SMTP.password")["is_set"].as_bool()
            ),
            (Some(""), Some(true))
        );
        assert!(!rows.to_string().contains("s3cret-pass"));
        let r = app
            .server_fn(
                &admin,
                "settings/save",
                &[("name", "Plugin.Workflow_enable")],
            )
            .await;
        assert_eq!(r.status(), 200, "an unticked checkbox sends nothing: false");
        let rows: Value = app
            .server_fn(&admin, "settings/list", &[])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            rows.as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == "Plugin.Workflow_enable")
                .unwrap()["value"],
            "false"
        );
    })
    .await;
}

#[tokio::test]
async fn the_module_index_lists_sources_and_usage_and_toggles() {
    for_each_backend(|app| async move {
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        common::install_workflow(
            &app,
            "event-publish",
            common::red_gate("event-publish", "Event Publish", true),
        )
        .await;
        let all: Value = app
            .server_fn(&admin, "modules/list", ENDPOINTS[2].1)
            .await
            .json()
            .await
            .unwrap();
        let find = |rows: &Value, id: &str| {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == id)
                .cloned()
        };
        let tag_if = find(&all, "tag-if").unwrap();
        assert_eq!(
            (
                tag_if["kind"].as_str(),
                tag_if["source"].as_str(),
                tag_if["used_by"].as_u64()
            ),
            (Some("logic"), Some("built-in"), Some(1))
        );
        assert!(
            find(&all, "event-publish").is_none(),
            "triggers have their own page"
        );
        let stop = find(&all, "stop-execution").unwrap();
        assert_eq!(stop["blocking"], true);
        let blocking: Value = app
            .server_fn(
                &admin,
                "modules/list",
                &[
                    ("kind", "action"),
                    ("source", "built-in"),
                    ("blocking", "1"),
                    ("enabled", ""),
                ],
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            blocking
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].clone())
                .collect::<Vec<_>>(),
            [json!("stop-execution")]
        );

        assert_eq!(find(&all, "webhook").unwrap()["enabled"], true);
        let r = app
            .server_fn(
                &admin,
                "modules/toggle",
                &[("module_id", "webhook"), ("enable", "0")],
            )
            .await;
        assert_eq!(r.status(), 200);
        let disabled: Value = app
            .server_fn(
                &admin,
                "modules/list",
                &[
                    ("kind", ""),
                    ("source", ""),
                    ("blocking", ""),
                    ("enabled", "0"),
                ],
            )
            .await
            .json()
            .await
            .unwrap();
        assert!(find(&disabled, "webhook").is_some());
        let api: Vec<Value> = get(&app, "/workflows/moduleIndex.json?type=action", ADMIN_KEY)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            api.iter().find(|m| m["id"] == "webhook").unwrap()["disabled"],
            true,
            "the API sees it"
        );

        let detail: Value = app
            .server_fn(&admin, "modules/detail", &[("id", "tag-if")])
            .await
            .json()
            .await
            .unwrap();
        assert!(detail["params"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "tags"));
        assert_eq!(detail["workflows"][0]["trigger_id"], "event-publish");
        let r = app
            .server_fn(&admin, "modules/detail", &[("id", "nope")])
            .await;
        assert_eq!(r.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn logs_list_runs_and_show_the_blocking_node() {
    for_each_backend(|app| async move {
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let id = common::install_workflow(&app, "event-publish", common::red_gate("event-publish", "Event Publish", true)).await;
        let event = |tag: &str| json!({"Event": {"id": "1", "info": "x", "Tag": [{"name": tag}], "Attribute": [{"id": "10", "type": "ip-src", "value": "8.8.8.8", "Tag": []}]}});
        for tag in ["tlp:red", "tlp:green"] {
            ok(common::post(&app, &format!("/workflows/executeWorkflow/{id}"), ADMIN_KEY, event(tag)).await).await;
        }
        let all: Value = app.server_fn(&admin, "logs/list", ENDPOINTS[0].1).await.json().await.unwrap();
        assert_eq!(all["rows"].as_array().unwrap().len(), 2);
        let blocked: Value = app.server_fn(&admin, "logs/list", &[("workflow_id", &id), ("trigger_id", "event-publish"),
            ("outcome", "blocked"), ("from", "2000-01-01"), ("to", ""), ("before", "")]).await.json().await.unwrap();
        let rows = blocked["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{all} vs {blocked}");
        assert!(rows[0]["errors"].to_string().contains("tlp:red data"));
        let r = app.server_fn(&admin, "logs/list", &[("workflow_id", "x"), ("trigger_id", ""), ("outcome", ""), ("from", ""), ("to", ""), ("before", "")]).await;
        assert_eq!(r.status(), 400, "a bad filter is a clear error");

        let run_id = rows[0]["id"].as_str().unwrap().to_owned();
        let detail: Value = app.server_fn(&admin, "logs/detail", &[("id", &run_id)]).await.json().await.unwrap();
        let status = |id: u64| detail["graph"].as_array().unwrap().iter().find(|n| n["id"] == id).unwrap()["status"].clone();
        assert_eq!((status(1), status(2), status(3)), (json!("trigger"), json!("success"), json!("blocked")));
        assert_eq!(detail["edges"], json!([[1, 2], [2, 3]]));
        let r = app.server_fn(&admin, "logs/detail", &[("id", "999999")]).await;
        assert_eq!(r.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn blueprints_load_import_view_and_delete() {
    for_each_backend(|app| async move {
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let empty: Value = app
            .server_fn(&admin, "blueprints/list", &[])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(empty, json!([]));
        let loaded: Value = app
            .server_fn(&admin, "blueprints/update", &[])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            loaded,
            "Official blueprints: 13 added, 0 updated, 0 unchanged."
        );
        let rows: Value = app
            .server_fn(&admin, "blueprints/list", &[])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 13);
        let pap = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"].as_str().unwrap().contains("PAP:RED"))
            .unwrap()
            .clone();
        let detail: Value = app
            .server_fn(
                &admin,
                "blueprints/detail",
                &[("id", pap["id"].as_str().unwrap())],
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            detail["graph"].as_array().unwrap().len(),
            pap["nodes"].as_u64().unwrap() as usize
        );
        assert!(!detail["edges"].as_array().unwrap().is_empty());
        assert!(
            detail["mermaid"].as_str().unwrap().starts_with("flowchart"),
            "{detail}"
        );

        // Export through MISP's route, delete, import the file back.
        let exported = ok(get(
            &app,
            &format!("/workflowBlueprints/export/{}", pap["id"].as_str().unwrap()),
            ADMIN_KEY,
        )
        .await)
        .await;
        let r = app
            .server_fn(
                &admin,
                "blueprints/delete",
                &[("id", pap["id"].as_str().unwrap())],
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = app
            .server_fn(&admin, "blueprints/import", &[("file", "not json")])
            .await;
        assert_eq!(r.status(), 400);
        let r = app
            .server_fn(
                &admin,
                "blueprints/import",
                &[("file", &exported.to_string())],
            )
            .await;
        assert_eq!(r.status(), 200);
        let again = app
            .server_fn(
                &admin,
                "blueprints/import",
                &[("file", &exported.to_string())],
            )
            .await;
        assert_eq!(again.status(), 409, "the same uuid twice is a conflict");
        let rows: Value = app
            .server_fn(&admin, "blueprints/list", &[])
            .await
            .json()
            .await
            .unwrap();
        assert!(rows
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["uuid"] == pap["uuid"]));
    })
    .await;
}
