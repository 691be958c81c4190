//! Organisations and users through MISP's admin routes, as PyMISP's add_organisation,
//! add_user, users, get_user, delete_user and delete_organisation use them.
mod common;

use common::{for_each_backend, TestApp, ADMIN_KEY};
use serde_json::{json, Value};

async fn call(app: &TestApp, method: &str, path: &str, key: &str, body: Value) -> (u16, Value) {
    let r = app
        .api
        .request(method.parse().unwrap(), app.url(path))
        .header("authorization", key)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn organisations_and_users_are_managed_through_misp_admin_routes() {
    for_each_backend(|app| async move {
        let (s, org) = call(
            &app,
            "POST",
            "/admin/organisations/add",
            ADMIN_KEY,
            json!({"name": "CERT-Test", "description": "a test CERT"}),
        )
        .await;
        assert_eq!(s, 200, "{org}");
        assert_eq!(org["Organisation"]["name"], "CERT-Test");
        let org_id = org["Organisation"]["id"].as_str().unwrap().to_owned();
        let (s, _) = call(
            &app,
            "POST",
            "/admin/organisations/add",
            ADMIN_KEY,
            json!({"Organisation": {"name": "CERT-Test"}}),
        )
        .await;
        assert_eq!(s, 409, "duplicate name");
        let (s, viewed) = call(
            &app,
            "GET",
            &format!("/organisations/view/{org_id}"),
            ADMIN_KEY,
            Value::Null,
        )
        .await;
        assert_eq!((s, &viewed["Organisation"]["id"]), (200, &json!(org_id)));
        let uuid = viewed["Organisation"]["uuid"].as_str().unwrap().to_owned();
        let (s, _) = call(
            &app,
            "GET",
            &format!("/organisations/view/{uuid}"),
            ADMIN_KEY,
            Value::Null,
        )
        .await;
        assert_eq!(s, 200);
        let (_, all) = call(&app, "GET", "/organisations/index", ADMIN_KEY, Value::Null).await;
        assert!(all
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["Organisation"]["name"] == "CERT-Test"));

        let (s, user) = call(
            &app,
            "POST",
            "/admin/users/add",
            ADMIN_KEY,
            json!({"email": "analyst@cert-test.example", "org_id": org_id, "role_id": "3"}),
        )
        .await;
        assert_eq!(s, 200, "{user}");
        assert_eq!(user["User"]["email"], "analyst@cert-test.example");
        assert_eq!(user["User"]["org_id"], org_id.as_str());
        assert!(
            user["User"].get("password").is_none(),
            "no password hash in answers"
        );
        let user_id = user["User"]["id"].as_str().unwrap().to_owned();
        for (body, status) in [
            (json!({"email": "not-an-email", "org_id": org_id}), 400),
            (json!({"email": "x@y.example", "org_id": "9999"}), 400),
            (json!({"email": "x@y.example", "role_id": "nope"}), 400),
            (
                json!({"email": "analyst@cert-test.example", "org_id": org_id}),
                409,
            ),
        ] {
            let (s, err) = call(&app, "POST", "/admin/users/add", ADMIN_KEY, body.clone()).await;
            assert_eq!(s, status, "{body}: {err}");
        }
        let (s, viewed) = call(
            &app,
            "GET",
            &format!("/users/view/{user_id}"),
            ADMIN_KEY,
            Value::Null,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(viewed["Role"]["name"], "User");
        assert_eq!(viewed["Organisation"]["name"], "CERT-Test");
        let (_, listed) = call(&app, "GET", "/admin/users/index", ADMIN_KEY, Value::Null).await;
        assert_eq!(listed.as_array().unwrap().len(), 2);

        // Not for others: a normal user cannot list or create users, nor view another account.
        let key = app::backend::services::auth::create_authkey(
            &app.db,
            user_id.parse().unwrap(),
            "",
            false,
        )
        .await
        .unwrap()
        .authkey;
        assert_eq!(
            call(&app, "GET", "/admin/users/index", &key, Value::Null)
                .await
                .0,
            403
        );
        assert_eq!(
            call(
                &app,
                "POST",
                "/admin/users/add",
                &key,
                json!({"email": "z@z.example"})
            )
            .await
            .0,
            403
        );
        assert_eq!(
            call(&app, "GET", "/users/view/1", &key, Value::Null)
                .await
                .0,
            404
        );
        assert_eq!(
            call(
                &app,
                "POST",
                "/admin/organisations/add",
                &key,
                json!({"name": "x"})
            )
            .await
            .0,
            403
        );
        assert_eq!(
            call(
                &app,
                "GET",
                &format!("/organisations/view/{org_id}"),
                &key,
                Value::Null
            )
            .await
            .0,
            200
        );

        // An organisation with users cannot go; the admin cannot delete themselves.
        let (s, err) = call(
            &app,
            "POST",
            &format!("/admin/organisations/delete/{org_id}"),
            ADMIN_KEY,
            Value::Null,
        )
        .await;
        assert_eq!(s, 409, "{err}");
        let me = app.principal(common::ADMIN_EMAIL).await.user.id;
        assert_eq!(
            call(
                &app,
                "POST",
                &format!("/admin/users/delete/{me}"),
                ADMIN_KEY,
                Value::Null
            )
            .await
            .0,
            400
        );
        let (s, gone) = call(
            &app,
            "POST",
            &format!("/admin/users/delete/{user_id}"),
            ADMIN_KEY,
            Value::Null,
        )
        .await;
        assert_eq!((s, gone["message"].as_str()), (200, Some("User deleted.")));
        assert_eq!(
            call(&app, "GET", "/users/view/me", &key, Value::Null)
                .await
                .0,
            403,
            "its keys went with it"
        );
        let (s, _) = call(
            &app,
            "POST",
            &format!("/admin/organisations/delete/{org_id}"),
            ADMIN_KEY,
            Value::Null,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(
            call(
                &app,
                "GET",
                &format!("/organisations/view/{org_id}"),
                ADMIN_KEY,
                Value::Null
            )
            .await
            .0,
            404
        );
        let host = app.principal(common::ADMIN_EMAIL).await.org.id;
        assert_eq!(
            call(
                &app,
                "POST",
                &format!("/admin/organisations/delete/{host}"),
                ADMIN_KEY,
                Value::Null
            )
            .await
            .0,
            409
        );
    })
    .await;
}
