//! First-start set-up: default roles, the host organisation and the first site admin.
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::backend::password;
use crate::backend::services::auth;
use crate::backend::store::{orgs, roles, settings, users};
use crate::error::AppError;

/// How the first site admin is created; all optional but the e-mail address.
#[derive(Clone)]
pub struct AdminSeed {
    pub email: String,
    pub password: Option<String>,
    pub api_key: Option<String>,
    pub host_org_name: String,
}

impl std::fmt::Debug for AdminSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSeed")
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("host_org_name", &self.host_org_name)
            .finish()
    }
}

/// What the first start created, so `main` can tell the operator how to log in.
#[derive(Debug, Default)]
pub struct Bootstrapped {
    pub admin_created: Option<String>,
    /// Set only when the password was generated: printed once, never stored in clear.
    pub generated_password: Option<String>,
}

/// Idempotent: each step happens only when its data is missing.
pub async fn ensure_initial_data(
    db: &DatabaseConnection,
    seed: &AdminSeed,
) -> Result<Bootstrapped, AppError> {
    roles::insert_default_roles(db).await?;
    let host_org = match orgs::find_org_by_name(db, &seed.host_org_name).await? {
        Some(org) => org,
        None if orgs::count_orgs(db).await? == 0 => {
            orgs::insert_org(
                db,
                orgs::NewOrg {
                    name: &seed.host_org_name,
                    description: "Host organisation, created at first start.",
                    local: true,
                    created_by: 0,
                },
            )
            .await?
        }
        None => return Ok(Bootstrapped::default()),
    };
    if settings::find_setting(db, "MISP.host_org_id")
        .await?
        .is_none()
    {
        settings::upsert_setting(db, "MISP.host_org_id", &serde_json::json!(host_org.id)).await?;
    }
    if users::count_users(db).await? > 0 {
        return Ok(Bootstrapped::default());
    }
    let email = crate::backend::services::accounts::check_email(&seed.email)?;
    let (password, generated) = match &seed.password {
        Some(p) => {
            password::check_password_strength(p)?;
            (p.clone(), None)
        }
        None => {
            let p = auth::random_token(20);
            (p.clone(), Some(p))
        }
    };
    if let Some(key) = &seed.api_key {
        auth::check_authkey_format(key)?;
    }
    let password_hash = password::hash_password(password).await?;
    // The admin and its key are created together: a failure leaves no half-made admin whose
    // generated password was never shown.
    let txn = db.begin().await?;
    let user = users::insert_user(
        &txn,
        users::NewUser {
            email: &email,
            org_id: host_org.id,
            role_id: roles::ROLE_SITE_ADMIN,
            password_hash,
            invited_by: 0,
            change_pw: false,
        },
    )
    .await?;
    if let Some(key) = &seed.api_key {
        auth::create_authkey_with_value(&txn, user.id, key, "FLOWGATE_ADMIN_API_KEY", false)
            .await?;
    }
    txn.commit().await?;
    Ok(Bootstrapped {
        admin_created: Some(email),
        generated_password: generated,
    })
}
