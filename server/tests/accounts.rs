//! Browser login and logout, sessions, CSRF protection, API keys and the Administration page.
mod common;

use app::backend::store::roles::{ROLE_READ_ONLY, ROLE_USER};
use common::{for_each_backend, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::Value;

/// A logged-out browser asking for a page is sent to `/users/login`, which renders the form.
#[tokio::test]
async fn logged_out_pages_redirect_to_login() {
    for_each_backend(|app| async move {
        let browser = app.browser();
        let response = browser
            .get(app.url("/administration"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(
            response.headers()["location"],
            "/users/login?redirect=/administration"
        );
        let page = browser.get(app.url("/users/login")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"data-testid="login-form""#));
    })
    .await;
}

/// Login sets a session that survives a server restart; logout ends it.
#[tokio::test]
async fn login_session_survives_restart_and_logout_ends_it() {
    for_each_backend(|app| async move {
        let browser = app.browser();
        app.login(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let home = browser.get(app.url("/")).send().await.unwrap();
        assert_eq!(home.status(), 200);
        assert!(home.text().await.unwrap().contains(ADMIN_EMAIL));

        // The same cookie against a second server process on the same database.
        let second = app.restart().await;
        let home = browser
            .get(format!("http://{second}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(home.status(), 200, "session lost across processes");

        let out = browser.post(app.url("/users/logout")).send().await.unwrap();
        assert_eq!(out.status(), 303);
        assert_eq!(out.headers()["location"], "/users/login?logged_out=1");
        let after = browser.get(app.url("/")).send().await.unwrap();
        assert_eq!(after.status(), 303, "still logged in after logout");
    })
    .await;
}

/// A login rotates the session id (no session fixation) and the cookie has safe flags.
#[tokio::test]
async fn login_rotates_session_id_and_sets_safe_cookie_flags() {
    let app = common::spawn_on(
        format!(
            "sqlite://{}?mode=rwc",
            std::env::temp_dir()
                .join(format!("flowgate-{}.db", uuid::Uuid::new_v4().simple()))
                .display()
        ),
        None,
        server::RouterOptions {
            cookie_secure: true,
            ..Default::default()
        },
    )
    .await;
    let response = app
        .browser()
        .post(app.url("/users/login"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("flowgate_session="), "{cookie}");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing in {cookie}");
    }
}

/// Unknown address and wrong password give the very same answer.
#[tokio::test]
async fn login_errors_do_not_reveal_accounts() {
    for_each_backend(|app| async move {
        let browser = app.browser();
        let mut locations = Vec::new();
        for (email, password) in [
            (ADMIN_EMAIL, "wrong-password"),
            ("nobody@flowgate.test", "wrong-password"),
        ] {
            let response = browser
                .post(app.url("/users/login"))
                .form(&[("email", email), ("password", password)])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 303);
            assert!(
                response.headers().get("set-cookie").is_none()
                    || !browser_has_user(&app, &browser).await
            );
            locations.push(response.headers()["location"].to_str().unwrap().to_owned());
        }
        assert_eq!(locations[0], "/users/login?error=failed");
        assert_eq!(locations[0], locations[1]);
        let page = browser
            .get(app.url(&locations[0]))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Unknown e-mail address or wrong password."));
    })
    .await;
}

async fn browser_has_user(app: &common::TestApp, browser: &reqwest::Client) -> bool {
    browser.get(app.url("/")).send().await.unwrap().status() == 200
}

/// After five failures for one address, even the right password is refused for a while.
#[tokio::test]
async fn failed_logins_are_throttled() {
    for_each_backend(|app| async move {
        let browser = app.browser();
        for _ in 0..5 {
            let r = browser
                .post(app.url("/users/login"))
                .form(&[("email", ADMIN_EMAIL), ("password", "wrong-password")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["location"], "/users/login?error=failed");
        }
        let r = browser
            .post(app.url("/users/login"))
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/users/login?error=throttled");
    })
    .await;
}

/// State-changing browser requests from another site are refused: a forged login, a forged
/// server-function call carrying the victim's cookie, and a forged logout.
#[tokio::test]
async fn cross_site_requests_are_refused() {
    for_each_backend(|app| async move {
        let browser = app.browser();
        app.login(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let forged = browser
            .post(app.url("/api/my_keys/create"))
            .header("sec-fetch-site", "cross-site")
            .header("origin", "http://evil.test")
            .form(&[("comment", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        let keys = app
            .server_fn(&browser, "my_keys", &[])
            .await
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(
            keys.as_array().unwrap().len(),
            1,
            "a forged request created a key"
        );

        let forged_logout = browser
            .get(app.url("/users/logout"))
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_eq!(forged_logout.status(), 403);
        assert_eq!(
            browser.get(app.url("/")).send().await.unwrap().status(),
            200
        );

        // An old-style client with the cookie but neither Origin nor Sec-Fetch-Site.
        let bare = reqwest::Client::builder()
            .cookie_store(false)
            .build()
            .unwrap();
        let cookie = "flowgate_session=whatever";
        let r = bare
            .post(app.url("/api/my_keys/create"))
            .header("cookie", cookie)
            .form(&[("comment", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    })
    .await;
}

/// A key created in the UI works once shown, is stored only hashed, lists by its last four
/// characters, and stops working when revoked.
#[tokio::test]
async fn api_keys_lifecycle() {
    for_each_backend(|app| async move {
        app.create_user("user@flowgate.test", "user-password-123", ROLE_USER)
            .await;
        let browser = app.browser();
        app.login(&browser, "user@flowgate.test", "user-password-123")
            .await;
        let created: Value = app
            .server_fn(&browser, "my_keys/create", &[("comment", "pymisp")])
            .await
            .json()
            .await
            .unwrap();
        let key = created["authkey"].as_str().unwrap().to_owned();
        assert_eq!(key.len(), 40);

        let me: Value = app
            .api
            .get(app.url("/users/view/me.json"))
            .header("authorization", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["User"]["email"], "user@flowgate.test");

        let listed: Value = app
            .server_fn(&browser, "my_keys", &[])
            .await
            .json()
            .await
            .unwrap();
        let row = &listed.as_array().unwrap()[0];
        assert_eq!(row["authkey_end"], key[36..]);
        assert_eq!(row["comment"], "pymisp");
        assert!(!listed.to_string().contains(&key), "listing leaks the key");

        let stored = app::backend::store::auth_keys::list_keys_for_user(
            &app.db,
            app.principal("user@flowgate.test").await.user.id,
        )
        .await
        .unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].authkey_hash, key);
        assert_eq!(
            stored[0].authkey_hash,
            app::backend::services::auth::hash_authkey(&key)
        );

        let id = row["id"].to_string();
        let revoked = app
            .server_fn(&browser, "my_keys/revoke", &[("id", &id)])
            .await;
        assert_eq!(revoked.status(), 200);
        let after = app
            .api
            .get(app.url("/users/view/me.json"))
            .header("authorization", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), 403);
    })
    .await;
}

/// A user cannot revoke someone else's key.
#[tokio::test]
async fn keys_of_other_users_cannot_be_revoked() {
    for_each_backend(|app| async move {
        app.create_user("user@flowgate.test", "user-password-123", ROLE_USER)
            .await;
        let browser = app.browser();
        app.login(&browser, "user@flowgate.test", "user-password-123")
            .await;
        let admin_keys = app::backend::store::auth_keys::list_keys_for_user(
            &app.db,
            app.principal(ADMIN_EMAIL).await.user.id,
        )
        .await
        .unwrap();
        let id = admin_keys[0].id.to_string();
        let response = app
            .server_fn(&browser, "my_keys/revoke", &[("id", &id)])
            .await;
        assert_eq!(response.status(), 404);
        assert_eq!(
            app::backend::store::auth_keys::list_keys_for_user(
                &app.db,
                app.principal(ADMIN_EMAIL).await.user.id
            )
            .await
            .unwrap()
            .len(),
            1
        );
    })
    .await;
}

/// Site admins see and manage users on the Administration page; others get 403 for the page
/// and for every admin server function.
#[tokio::test]
async fn administration_is_site_admin_only() {
    for_each_backend(|app| async move {
        app.create_user("reader@flowgate.test", "reader-password-1", ROLE_READ_ONLY)
            .await;
        let reader = app.browser();
        app.login(&reader, "reader@flowgate.test", "reader-password-1")
            .await;
        let page = reader.get(app.url("/administration")).send().await.unwrap();
        assert_eq!(page.status(), 403);
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("only accessible to site administrators"));
        for (endpoint, form) in [
            ("admin/overview", vec![]),
            (
                "admin/users/add",
                vec![
                    ("email", "x@flowgate.test"),
                    ("org_id", "1"),
                    ("role_id", "1"),
                    ("password", "password-long-enough"),
                ],
            ),
            (
                "admin/orgs/add",
                vec![("name", "Evil"), ("description", "")],
            ),
        ] {
            let r = app.server_fn(&reader, endpoint, &form).await;
            assert_eq!(r.status(), 403, "{endpoint}");
        }

        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let page = admin.get(app.url("/administration")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("reader@flowgate.test"));
    })
    .await;
}

/// An admin adds an organisation and a user, the user logs in, the admin disables them, and
/// their session and keys stop working at once. The last site admin cannot be disabled.
#[tokio::test]
async fn admin_adds_and_disables_users() {
    for_each_backend(|app| async move {
        let admin = app.browser();
        app.login(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let org: Value = app
            .server_fn(
                &admin,
                "admin/orgs/add",
                &[("name", "CIRCL"), ("description", "CSIRT")],
            )
            .await
            .json()
            .await
            .unwrap();
        let org_id = org["id"].to_string();
        let dup = app
            .server_fn(
                &admin,
                "admin/orgs/add",
                &[("name", "CIRCL"), ("description", "")],
            )
            .await;
        assert_eq!(dup.status(), 409);

        let weak = app
            .server_fn(
                &admin,
                "admin/users/add",
                &[
                    ("email", "analyst@circl.test"),
                    ("org_id", &org_id),
                    ("role_id", "3"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(weak.status(), 400);
        let weak_body: Value = weak.json().await.unwrap();
        assert!(weak_body.to_string().contains("at least 12 characters"));

        let user: Value = app
            .server_fn(
                &admin,
                "admin/users/add",
                &[
                    ("email", "Analyst@CIRCL.test"),
                    ("org_id", &org_id),
                    ("role_id", "3"),
                    ("password", "analyst-password"),
                ],
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(user["email"], "analyst@circl.test");
        assert_eq!(user["org_name"], "CIRCL");
        let user_id = user["id"].to_string();

        let analyst = app.browser();
        app.login(&analyst, "analyst@circl.test", "analyst-password")
            .await;
        assert_eq!(
            analyst.get(app.url("/")).send().await.unwrap().status(),
            200
        );

        let edited = app
            .server_fn(
                &admin,
                "admin/users/edit",
                &[
                    ("user_id", &user_id),
                    ("org_id", &org_id),
                    ("role_id", "3"),
                    ("disabled", "on"),
                ],
            )
            .await;
        assert_eq!(edited.status(), 200);
        assert_eq!(
            analyst.get(app.url("/")).send().await.unwrap().status(),
            303,
            "disabled user still logged in"
        );
        let relogin = analyst
            .post(app.url("/users/login"))
            .form(&[
                ("email", "analyst@circl.test"),
                ("password", "analyst-password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(relogin.headers()["location"], "/users/login?error=failed");

        let admin_id = app.principal(ADMIN_EMAIL).await.user.id.to_string();
        let admin_org = app.principal(ADMIN_EMAIL).await.org.id.to_string();
        let last = app
            .server_fn(
                &admin,
                "admin/users/edit",
                &[
                    ("user_id", &admin_id),
                    ("org_id", &admin_org),
                    ("role_id", "1"),
                    ("disabled", "on"),
                ],
            )
            .await;
        assert_eq!(last.status(), 409);
    })
    .await;
}

/// A read-only API key can list keys but cannot mint one (it would be a full key) or revoke one.
#[tokio::test]
async fn read_only_keys_cannot_manage_keys() {
    for_each_backend(|app| async move {
        let admin = app.principal(ADMIN_EMAIL).await;
        let read_only =
            app::backend::services::auth::create_authkey(&app.db, admin.user.id, "ro", true)
                .await
                .unwrap();
        let call = |endpoint: &'static str, form: Vec<(&'static str, String)>| {
            let app = &app;
            let key = read_only.authkey.clone();
            async move {
                app.api
                    .post(app.url(&format!("/api/{endpoint}")))
                    .header("authorization", key)
                    .header("accept", "application/json")
                    .form(&form)
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(call("my_keys", vec![]).await.status(), 200);
        assert_eq!(
            call("my_keys/create", vec![("comment", "escalate".into())])
                .await
                .status(),
            403
        );
        let full_id = app::backend::store::auth_keys::list_keys_for_user(&app.db, admin.user.id)
            .await
            .unwrap()
            .into_iter()
            .find(|k| !k.read_only)
            .unwrap()
            .id;
        assert_eq!(
            call("my_keys/revoke", vec![("id", full_id.to_string())])
                .await
                .status(),
            403
        );
        assert_eq!(
            app::backend::store::auth_keys::list_keys_for_user(&app.db, admin.user.id)
                .await
                .unwrap()
                .len(),
            2
        );
    })
    .await;
}

/// Parallel wrong passwords cannot get past the throttle: attempts are counted atomically
/// before the password is checked.
#[tokio::test]
async fn parallel_failed_logins_are_throttled_too() {
    for_each_backend(|app| async move {
        let browser = app.browser();
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let browser = browser.clone();
                let url = app.url("/users/login");
                tokio::spawn(async move {
                    browser
                        .post(url)
                        .form(&[("email", ADMIN_EMAIL), ("password", "wrong-password")])
                        .send()
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut answers = Vec::new();
        for handle in handles {
            answers.push(handle.await.unwrap());
        }
        let checked = answers
            .iter()
            .filter(|r| r.headers()["location"] == "/users/login?error=failed")
            .count();
        assert!(
            checked <= 5,
            "{checked} passwords were checked, at most 5 may be"
        );
        let r = browser
            .post(app.url("/users/login"))
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/users/login?error=throttled");
    })
    .await;
}

/// After logging in, a redirect never leaves the site (tab/newline tricks) and never logs out.
#[tokio::test]
async fn login_redirects_stay_on_site() {
    for_each_backend(|app| async move {
        for (target, expected) in [
            ("/\t/evil.test", "/"),
            ("/users/logout", "/"),
            ("/users/keys", "/users/keys"),
        ] {
            let browser = app.browser();
            let r = browser
                .post(app.url("/users/login"))
                .form(&[
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                    ("redirect", target),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["location"], expected, "{target:?}");
        }
    })
    .await;
}
