//! MISP's settings routes (§16): the workflow settings with their defaults, validated saves
//! that change nothing when refused, site-admin only.
mod common;

use common::{for_each_backend, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

async fn settings(app: &TestApp) -> Vec<Value> {
    let body: Value = app
        .api
        .get(app.url("/servers/serverSettings.json"))
        .header("authorization", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["finalSettings"].as_array().unwrap().clone()
}

fn value_of(rows: &[Value], name: &str) -> Value {
    rows.iter()
        .find(|r| r["setting"] == name)
        .map(|r| r["value"].clone())
        .unwrap_or(Value::Null)
}

async fn edit(app: &TestApp, name: &str, value: Value) -> reqwest::Response {
    app.api
        .post(app.url(&format!("/servers/serverSettingsEdit/{name}.json")))
        .header("authorization", ADMIN_KEY)
        .json(&json!({"value": value}))
        .send()
        .await
        .unwrap()
}

/// Defaults are MISP's; per-trigger switches are listed; the host org points at the host org.
#[tokio::test]
async fn settings_list_defaults() {
    for_each_backend(|app| async move {
        let rows = settings(&app).await;
        assert_eq!(value_of(&rows, "Plugin.Workflow_enable"), json!(false));
        assert_eq!(
            value_of(&rows, "Plugin.Workflow_debug_url"),
            json!("http://127.0.0.1:27051")
        );
        assert_eq!(value_of(&rows, "Plugin.Action_services_port"), json!(6666));
        assert_eq!(value_of(&rows, "Plugin.Action_timeout"), json!(10));
        assert_eq!(
            value_of(&rows, "Security.rest_client_enable_arbitrary_urls"),
            json!(false)
        );
        assert_eq!(
            value_of(&rows, "Plugin.Workflow_triggers_event-publish"),
            json!(false)
        );
        let host = app.principal(common::ADMIN_EMAIL).await.org.id;
        assert_eq!(value_of(&rows, "MISP.host_org_id"), json!(host));
    })
    .await;
}

/// Valid values are stored (strings from MISP clients normalised); invalid ones answer 400 and
/// leave the setting as it was; unknown settings are 404.
#[tokio::test]
async fn settings_edits_are_validated() {
    for_each_backend(|app| async move {
        for (name, value, stored) in [
            ("Plugin.Workflow_enable", json!("1"), json!(true)),
            (
                "Plugin.Workflow_debug_url",
                json!("http://debug.example.org:8080/"),
                json!("http://debug.example.org:8080"),
            ),
            (
                "Plugin.Action_services_url",
                json!("https://modules.example.org/"),
                json!("https://modules.example.org"),
            ),
            ("Plugin.Action_timeout", json!("30"), json!(30)),
            (
                "Plugin.Workflow_debug_url",
                json!("https://debug.example.org/hooks/"),
                json!("https://debug.example.org/hooks"),
            ),
            (
                "Plugin.Workflow_triggers_event-publish",
                json!(true),
                json!(true),
            ),
        ] {
            let r = edit(&app, name, value).await;
            assert_eq!(r.status(), 200, "{name}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["saved"], true);
            assert_eq!(value_of(&settings(&app).await, name), stored, "{name}");
        }
        for (name, value) in [
            ("Plugin.Workflow_enable", json!("maybe")),
            ("Plugin.Workflow_debug_url", json!("ftp://x")),
            ("Plugin.Workflow_debug_url", json!("http://user:pw@host")),
            ("Plugin.Action_services_port", json!(70000)),
            ("Plugin.Action_timeout", json!("soon")),
            ("MISP.host_org_id", json!(9999)),
        ] {
            let before = value_of(&settings(&app).await, name);
            let r = edit(&app, name, value.clone()).await;
            assert_eq!(r.status(), 400, "{name} = {value}");
            let body: Value = r.json().await.unwrap();
            assert!(body["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid value for"));
            assert_eq!(
                value_of(&settings(&app).await, name),
                before,
                "{name} changed"
            );
        }
        assert_eq!(edit(&app, "Plugin.Nope", json!(1)).await.status(), 404);
        let no_value = app
            .api
            .post(app.url("/servers/serverSettingsEdit/Plugin.Workflow_enable.json"))
            .header("authorization", ADMIN_KEY)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(no_value.status(), 400);

        // The trigger switch set here is the one the trigger list reports.
        let triggers: Vec<Value> = app
            .api
            .get(app.url("/workflows/triggers.json?enabled=1"))
            .header("authorization", ADMIN_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(triggers.len(), 1);
        assert_eq!(triggers[0]["id"], "event-publish");
    })
    .await;
}

/// Settings are site-admin only.
#[tokio::test]
async fn settings_are_site_admin_only() {
    for_each_backend(|app| async move {
        app.create_user(
            "user@flowgate.test",
            "user-password-123",
            app::backend::store::roles::ROLE_ORG_ADMIN,
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
        let list = app
            .api
            .get(app.url("/servers/serverSettings.json"))
            .header("authorization", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), 403);
        let edit = app
            .api
            .post(app.url("/servers/serverSettingsEdit/Plugin.Workflow_enable.json"))
            .header("authorization", &key)
            .json(&json!({"value": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(edit.status(), 403);
        assert_eq!(
            value_of(&settings(&app).await, "Plugin.Workflow_enable"),
            json!(false)
        );
    })
    .await;
}
