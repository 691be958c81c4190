//! Site-admin management of users and organisations.
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set, TransactionTrait};

use crate::backend::store::{orgs, roles, users};
use crate::backend::{now, password, AppState, Principal};
use crate::error::AppError;
use crate::model::{AdminOverview, OrgRow, RoleRow, UserRow};

fn require_site_admin(actor: &Principal) -> Result<(), AppError> {
    if actor.is_site_admin() && !actor.read_only {
        Ok(())
    } else {
        Err(AppError::forbidden_site_admin())
    }
}

pub async fn overview(
    db: &DatabaseConnection,
    actor: &Principal,
) -> Result<AdminOverview, AppError> {
    require_site_admin(actor)?;
    Ok(AdminOverview {
        users: users::list_users(db).await?,
        orgs: orgs::list_orgs(db).await?,
        roles: roles::list_roles(db)
            .await?
            .into_iter()
            .map(|r| RoleRow {
                id: r.id,
                name: r.name,
                site_admin: r.perm_site_admin,
            })
            .collect(),
    })
}

/// A new account as an admin enters it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct UserInput {
    pub email: String,
    pub org_id: i32,
    pub role_id: i32,
    pub password: String,
}

/// Minimal syntactic check: one `@`, something on both sides, a dot in the domain, no spaces.
pub fn check_email(email: &str) -> Result<String, AppError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 255
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(AppError::Invalid(format!(
            "`{email}` is not a valid e-mail address."
        )))
    }
}

pub async fn add_user(
    state: &AppState,
    actor: &Principal,
    input: UserInput,
) -> Result<UserRow, AppError> {
    let db = &state.db;
    require_site_admin(actor)?;
    let email = check_email(&input.email)?;
    password::check_password_strength(&input.password)?;
    if orgs::find_org(db, input.org_id).await?.is_none() {
        return Err(AppError::Invalid("Invalid organisation.".into()));
    }
    if roles::find_role(db, input.role_id).await?.is_none() {
        return Err(AppError::Invalid("Invalid role.".into()));
    }
    if users::find_user_by_email(db, &email).await?.is_some() {
        return Err(AppError::Conflict(
            "An account with this e-mail address already exists.".into(),
        ));
    }
    before_user_save(
        state,
        actor,
        "admin/users/add",
        serde_json::json!({"email": email, "org_id": input.org_id.to_string(),
            "role_id": input.role_id.to_string(), "disabled": false, "change_pw": false,
            "invited_by": actor.user.id.to_string()}),
    )
    .await?;
    let password_hash = password::hash_password(input.password).await?;
    let txn = db.begin().await?;
    let user = users::insert_user(
        &txn,
        users::NewUser {
            email: &email,
            org_id: input.org_id,
            role_id: input.role_id,
            password_hash,
            invited_by: actor.user.id,
            change_pw: false,
        },
    )
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict("An account with this e-mail address already exists.".into())
        }
        _ => AppError::from(e),
    })?;
    super::audit::record(
        &txn,
        Some(actor),
        super::audit::Entry::new(
            "User",
            user.id,
            "add",
            format!("User ({}): {}", user.id, email),
        )
        .change(format!(
            "org_id ({}) role_id ({})",
            input.org_id, input.role_id
        )),
    )
    .await?;
    user_saved(&txn, state, actor, user.id, "admin/users/add").await?;
    txn.commit().await?;
    super::hooks::wake(state);
    find_row(db, user.id).await
}

/// Changes an admin may make to an existing account.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct UserEdit {
    pub org_id: i32,
    pub role_id: i32,
    pub disabled: bool,
    /// Empty keeps the current password.
    pub password: String,
}

pub async fn edit_user(
    state: &AppState,
    actor: &Principal,
    user_id: i32,
    edit: UserEdit,
) -> Result<UserRow, AppError> {
    let db = &state.db;
    require_site_admin(actor)?;
    let Some(user) = users::find_user(db, user_id).await? else {
        return Err(AppError::NotFound("Invalid user.".into()));
    };
    let Some(role) = roles::find_role(db, edit.role_id).await? else {
        return Err(AppError::Invalid("Invalid role.".into()));
    };
    if orgs::find_org(db, edit.org_id).await?.is_none() {
        return Err(AppError::Invalid("Invalid organisation.".into()));
    }
    let was_admin = roles::find_role(db, user.role_id)
        .await?
        .is_some_and(|r| r.perm_site_admin)
        && !user.disabled;
    let stays_admin = role.perm_site_admin && !edit.disabled;
    if was_admin && !stays_admin && users::count_enabled_site_admins(db).await? <= 1 {
        return Err(AppError::Conflict(
            "This is the last enabled site administrator: it cannot be disabled or demoted.".into(),
        ));
    }
    let action = format!("admin/users/edit/{user_id}");
    let mut preview = super::hooks::user_fields(&user);
    preview["org_id"] = serde_json::json!(edit.org_id.to_string());
    preview["role_id"] = serde_json::json!(edit.role_id.to_string());
    preview["disabled"] = serde_json::json!(edit.disabled);
    before_user_save(state, actor, &action, preview).await?;
    let new_hash = if edit.password.is_empty() {
        None
    } else {
        password::check_password_strength(&edit.password)?;
        Some(password::hash_password(edit.password).await?)
    };
    let txn = db.begin().await?;
    let mut change = super::audit::diff([
        ("org_id", user.org_id.to_string(), edit.org_id.to_string()),
        (
            "role_id",
            user.role_id.to_string(),
            edit.role_id.to_string(),
        ),
        (
            "disabled",
            user.disabled.to_string(),
            edit.disabled.to_string(),
        ),
    ]);
    if new_hash.is_some() {
        // Never the hash itself.
        change.push_str(if change.is_empty() {
            "password changed"
        } else {
            ", password changed"
        });
    }
    super::audit::record(
        &txn,
        Some(actor),
        super::audit::Entry::new(
            "User",
            user.id,
            "edit",
            format!("User ({}): {}", user.id, user.email),
        )
        .change(change),
    )
    .await?;
    let mut active: crate::backend::entities::user::ActiveModel = user.into();
    active.org_id = Set(edit.org_id);
    active.role_id = Set(edit.role_id);
    active.disabled = Set(edit.disabled);
    if let Some(hash) = new_hash {
        active.password = Set(hash);
        active.last_pw_change = Set(now());
    }
    active.date_modified = Set(now());
    active.update(&txn).await?;
    user_saved(&txn, state, actor, user_id, &action).await?;
    txn.commit().await?;
    super::auth::forget_principals();
    super::hooks::wake(state);
    find_row(db, user_id).await
}

/// The blocking `user-before-save` trigger on the user's fields as they are about to be saved
/// (flat, no password hash).
async fn before_user_save(
    state: &AppState,
    actor: &Principal,
    action: &str,
    fields: serde_json::Value,
) -> Result<(), AppError> {
    let data = fields.clone();
    let refused = super::hooks::block(state, "user-before-save", action, actor, || async {
        Ok(data)
    })
    .await?;
    match refused {
        Some(errors) => {
            let id = fields["id"]
                .as_str()
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            let title = format!(
                "User ({id}): {}",
                fields["email"].as_str().unwrap_or_default()
            );
            let entry =
                super::audit::Entry::new("User", id, if id == 0 { "add" } else { "edit" }, title);
            Err(super::hooks::refuse(state, actor, entry, "Saving the user", errors).await)
        }
        None => Ok(()),
    }
}

/// `user-after-save` (non-blocking): the saved user's fields, flat; queued in `txn`.
async fn user_saved(
    txn: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    actor: &Principal,
    user_id: i32,
    action: &str,
) -> Result<(), AppError> {
    let subject = super::hooks::Subject::User { id: user_id };
    super::hooks::fire(
        txn,
        state,
        "user-after-save",
        action.to_owned(),
        actor,
        subject,
    )
    .await
}

async fn find_row(db: &DatabaseConnection, user_id: i32) -> Result<UserRow, AppError> {
    users::list_users(db)
        .await?
        .into_iter()
        .find(|u| u.id == user_id)
        .ok_or(AppError::Internal)
}

pub async fn add_org(
    db: &DatabaseConnection,
    actor: &Principal,
    name: &str,
    description: &str,
) -> Result<OrgRow, AppError> {
    require_site_admin(actor)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AppError::Invalid(
            "The organisation name must be 1 to 255 characters long.".into(),
        ));
    }
    if orgs::find_org_by_name(db, name).await?.is_some() {
        return Err(AppError::Conflict(
            "An organisation with this name already exists.".into(),
        ));
    }
    let txn = db.begin().await?;
    let org = orgs::insert_org(
        &txn,
        orgs::NewOrg {
            name,
            description: description.trim(),
            local: true,
            created_by: actor.user.id,
        },
    )
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict("An organisation with this name already exists.".into())
        }
        _ => AppError::from(e),
    })?;
    super::audit::record(
        &txn,
        Some(actor),
        super::audit::Entry::new(
            "Organisation",
            org.id,
            "add",
            format!("Organisation ({}): {}", org.id, org.name),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(OrgRow {
        id: org.id,
        uuid: org.uuid,
        name: org.name,
        description: org.description,
        local: org.local,
        user_count: 0,
    })
}

/// `admin/users/delete/<id>`: removes an account with its API keys. Site admins cannot delete
/// themselves, and the last enabled site admin stays.
pub async fn delete_user(
    db: &DatabaseConnection,
    actor: &Principal,
    user_id: i32,
) -> Result<(), AppError> {
    use sea_orm::EntityTrait;
    require_site_admin(actor)?;
    let Some(user) = users::find_user(db, user_id).await? else {
        return Err(AppError::NotFound("Invalid user.".into()));
    };
    if user.id == actor.user.id {
        return Err(AppError::Invalid(
            "You cannot delete your own account.".into(),
        ));
    }
    let is_admin = roles::find_role(db, user.role_id)
        .await?
        .is_some_and(|r| r.perm_site_admin)
        && !user.disabled;
    let txn = db.begin().await?;
    if is_admin && users::count_enabled_site_admins(&txn).await? <= 1 {
        return Err(AppError::Conflict(
            "This is the last enabled site administrator: it cannot be deleted.".into(),
        ));
    }
    // API keys go with the account (ON DELETE CASCADE); its sessions stop resolving.
    crate::backend::entities::user::Entity::delete_by_id(user.id)
        .exec(&txn)
        .await?;
    super::audit::record(
        &txn,
        Some(actor),
        super::audit::Entry::new(
            "User",
            user.id,
            "delete",
            format!("User ({}): {}", user.id, user.email),
        ),
    )
    .await?;
    txn.commit().await?;
    super::auth::forget_principals();
    Ok(())
}

/// `admin/organisations/delete/<id>`: only an organisation without users or events (MISP refuses
/// the same), and never the host organisation.
pub async fn delete_org(
    db: &DatabaseConnection,
    actor: &Principal,
    org_id: i32,
) -> Result<(), AppError> {
    use crate::backend::entities::{event, organisation, user};
    use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};
    require_site_admin(actor)?;
    if orgs::find_org(db, org_id).await?.is_none() {
        return Err(AppError::NotFound("Invalid organisation.".into()));
    }
    let host = crate::backend::store::settings::find_setting(db, "MISP.host_org_id")
        .await?
        .and_then(|v| v.as_i64());
    if host == Some(i64::from(org_id)) {
        return Err(AppError::Conflict(
            "The host organisation (MISP.host_org_id) cannot be deleted.".into(),
        ));
    }
    let txn = db.begin().await?;
    let members = user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .count(&txn)
        .await?;
    let events = event::Entity::find()
        .filter(
            Condition::any()
                .add(event::Column::OrgId.eq(org_id))
                .add(event::Column::OrgcId.eq(org_id)),
        )
        .count(&txn)
        .await?;
    if members > 0 || events > 0 {
        return Err(AppError::Conflict(format!(
            "The organisation still has {members} user(s) and {events} event(s): it cannot be deleted."
        )));
    }
    organisation::Entity::delete_by_id(org_id)
        .exec(&txn)
        .await?;
    super::audit::record(
        &txn,
        Some(actor),
        super::audit::Entry::new(
            "Organisation",
            org_id,
            "delete",
            format!("Organisation ({org_id})"),
        ),
    )
    .await?;
    txn.commit().await?;
    super::auth::forget_principals();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_email;

    #[test]
    fn emails_are_checked_and_lowercased() {
        assert_eq!(
            check_email(" Admin@Example.ORG ").unwrap(),
            "admin@example.org"
        );
        for bad in [
            "",
            "no-at",
            "@x.org",
            "a@b",
            "a b@c.org",
            "a@.org",
            "a@b@c.org",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}
