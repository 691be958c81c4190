//! First start: migrations, host organisation, first site admin, and `server user-key`.
mod common;

use common::{for_each_backend, ADMIN_EMAIL};
use serde_json::Value;

/// The first start creates MISP's six roles, the host organisation (recorded as
/// `MISP.host_org_id`) and one site admin; running it again changes nothing.
#[tokio::test]
async fn first_start_creates_roles_host_org_and_admin_once() {
    for_each_backend(|app| async move {
        let roles = app::backend::store::roles::list_roles(&app.db)
            .await
            .unwrap();
        let names: Vec<_> = roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "admin",
                "Org Admin",
                "User",
                "Publisher",
                "Sync user",
                "Read Only"
            ]
        );
        let admin = app.principal(ADMIN_EMAIL).await;
        assert!(admin.is_site_admin());
        assert!(admin.user.password.starts_with("$argon2id$"));
        let host = app::backend::store::settings::find_setting(&app.db, "MISP.host_org_id")
            .await
            .unwrap();
        assert_eq!(host, Some(serde_json::json!(admin.org.id)));

        let again =
            app::backend::services::bootstrap::ensure_initial_data(&app.db, &common::seed())
                .await
                .unwrap();
        assert!(again.admin_created.is_none());
        assert_eq!(
            app::backend::store::users::count_users(&app.db)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            app::backend::store::orgs::count_orgs(&app.db)
                .await
                .unwrap(),
            1
        );
    })
    .await;
}

/// Without `FLOWGATE_ADMIN_PASSWORD` a password is generated and reported once.
#[tokio::test]
async fn first_start_generates_a_password_when_none_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
    let db = server::db::connect_and_migrate(&url, Default::default())
        .await
        .unwrap();
    let mut seed = common::seed();
    seed.password = None;
    let created = app::backend::services::bootstrap::ensure_initial_data(&db, &seed)
        .await
        .unwrap();
    let password = created.generated_password.expect("no password generated");
    assert!(password.len() >= 16);
    let user = app::backend::store::users::find_user_by_email(&db, ADMIN_EMAIL)
        .await
        .unwrap()
        .unwrap();
    assert!(
        app::backend::password::verify_password(password, user.password)
            .await
            .unwrap()
    );
}

/// `server user-key <email>` prints a working 40-character key for an existing user, and fails
/// clearly for an unknown one.
#[tokio::test]
async fn user_key_subcommand_prints_a_working_key() {
    for_each_backend(|app| async move {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["user-key", ADMIN_EMAIL])
            .env("FLOWGATE_DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "error")
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let key = String::from_utf8(output.stdout).unwrap().trim().to_owned();
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
        assert_eq!(me["User"]["email"], ADMIN_EMAIL);

        let unknown = tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["user-key", "nobody@flowgate.test"])
            .env("FLOWGATE_DATABASE_URL", &app.database_url)
            .output()
            .await
            .unwrap();
        assert!(!unknown.status.success());
    })
    .await;
}

/// A database whose schema cannot be migrated stops start-up with an error.
#[tokio::test]
async fn failed_migration_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.db");
    std::fs::write(
        &path,
        b"this is not a sqlite database, it is a text file of some length",
    )
    .unwrap();
    let url = format!("sqlite://{}?mode=rwc", path.display());
    assert!(server::db::connect_and_migrate(&url, Default::default())
        .await
        .is_err());
}
