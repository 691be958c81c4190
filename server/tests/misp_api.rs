//! The first MISP routes an API client touches, with MISP's shapes and error statuses.
mod common;

use common::{for_each_backend, ADMIN_EMAIL, ADMIN_KEY};
use serde_json::Value;

/// `GET /servers/getVersion` with an API key answers MISP's shape, whether JSON is asked for
/// by the `.json` suffix or by `Accept`.
#[tokio::test]
async fn get_version_answers_misp_shape_with_suffix_or_accept() {
    for_each_backend(|app| async move {
        for (path, accept) in [
            ("/servers/getVersion.json", "*/*"),
            ("/servers/getVersion", "application/json"),
        ] {
            let response = app
                .api
                .get(app.url(path))
                .header("authorization", ADMIN_KEY)
                .header("accept", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert!(response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["version"], "2.4.199");
            assert_eq!(body["perm_sync"], true);
            assert_eq!(body["perm_sighting"], true);
            assert!(body["filter_sightings"].is_boolean());
        }
    })
    .await;
}

/// `GET /users/view/me` answers `{User, Role, UserSetting, Organisation}` without secrets.
#[tokio::test]
async fn users_view_me_answers_user_role_and_organisation() {
    for_each_backend(|app| async move {
        let body: Value = app
            .api
            .get(app.url("/users/view/me.json"))
            .header("authorization", ADMIN_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["User"]["email"], ADMIN_EMAIL);
        assert_eq!(body["User"]["role_id"], "1");
        assert!(
            body["User"].get("password").is_none(),
            "password hash leaked"
        );
        assert_eq!(body["Role"]["perm_site_admin"], true);
        assert_eq!(body["Role"]["name"], "admin");
        assert_eq!(body["Organisation"]["name"], "Flowgate Test Org");
        assert_eq!(body["UserSetting"], serde_json::json!([]));
        assert_eq!(body["User"]["org_id"], body["Organisation"]["id"]);
    })
    .await;
}

/// A missing or wrong key gets MISP's 403 `{name, message, url}`; a disabled user's key stops
/// working at once.
#[tokio::test]
async fn bad_or_missing_keys_get_misp_403() {
    for_each_backend(|app| async move {
        for key in [None, Some("x".repeat(40)), Some("short".to_owned())] {
            let mut request = app.api.get(app.url("/users/view/me.json"));
            if let Some(key) = &key {
                request = request.header("authorization", key);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "{key:?}");
            let body: Value = response.json().await.unwrap();
            assert!(body["message"]
                .as_str()
                .unwrap()
                .starts_with("Authentication failed."));
            assert_eq!(body["name"], body["message"]);
            assert_eq!(body["url"], "/users/view/me.json");
        }
    })
    .await;
}

/// Another user's id under `/users/view/` is a MISP 404 for a normal user, not their data; a
/// site admin sees any account, as in MISP.
#[tokio::test]
async fn viewing_another_user_is_not_found() {
    for_each_backend(|app| async move {
        let other = app
            .create_user("someone@flowgate.test", "someone-password-1", 3)
            .await;
        let viewer = app
            .create_user("viewer@flowgate.test", "viewer-password-1", 3)
            .await;
        let key = app::backend::services::auth::create_authkey(&app.db, viewer, "", false)
            .await
            .unwrap()
            .authkey;
        let view = |key: String| {
            app.api
                .get(app.url(&format!("/users/view/{other}.json")))
                .header("authorization", key)
                .send()
        };
        let response = view(key).await.unwrap();
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["message"], "Invalid user");
        let response = view(ADMIN_KEY.to_owned()).await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["User"]["email"], "someone@flowgate.test");
    })
    .await;
}

/// A wrong method gets 405 with an `Allow` header and MISP's JSON error shape; an unknown JSON
/// path gets a JSON 404.
#[tokio::test]
async fn wrong_method_and_unknown_path_answer_misp_errors() {
    for_each_backend(|app| async move {
        let response = app
            .api
            .post(app.url("/servers/getVersion.json"))
            .header("authorization", ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert!(response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("GET"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["url"], "/servers/getVersion.json");
        assert_eq!(
            body["message"],
            "This endpoint does not accept POST requests."
        );

        let response = app
            .api
            .get(app.url("/nothing/here.json"))
            .header("authorization", ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["url"], "/nothing/here.json");
    })
    .await;
}

/// axum's own rejections (a query value of the wrong type) reach JSON clients in MISP's shape.
#[tokio::test]
async fn framework_rejections_use_misp_shape() {
    let app = common::spawn_sqlite().await;
    let response = app
        .api
        .get(app.url("/workflows/logs.json?workflow_id=abc"))
        .header("authorization", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["url"], "/workflows/logs.json");
    assert!(
        body["message"].as_str().unwrap().contains("workflow_id"),
        "{body}"
    );
}
