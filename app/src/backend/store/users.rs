use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use crate::backend::entities::{organisation, role, user};
use crate::model::UserRow;

pub async fn find_user(db: &impl ConnectionTrait, id: i32) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

/// Looks a user up by e-mail address, case-insensitively (addresses are stored lower-cased).
pub async fn find_user_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await
}

pub async fn count_users(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    user::Entity::find().count(db).await
}

/// Every user with organisation and role names (three queries, joined in memory).
pub async fn list_users(db: &impl ConnectionTrait) -> Result<Vec<UserRow>, DbErr> {
    let users = user::Entity::find()
        .order_by_asc(user::Column::Email)
        .all(db)
        .await?;
    let orgs: HashMap<i32, String> = organisation::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let roles: HashMap<i32, String> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    Ok(users
        .into_iter()
        .map(|u| UserRow {
            org_name: orgs.get(&u.org_id).cloned().unwrap_or_default(),
            role_name: roles.get(&u.role_id).cloned().unwrap_or_default(),
            id: u.id,
            email: u.email,
            org_id: u.org_id,
            role_id: u.role_id,
            disabled: u.disabled,
            last_login: u.last_login,
            date_created: u.date_created,
        })
        .collect())
}

/// What a new user needs; `password_hash` is already an argon2id PHC string.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub org_id: i32,
    pub role_id: i32,
    pub password_hash: String,
    pub invited_by: i32,
    pub change_pw: bool,
}

pub async fn insert_user(
    db: &impl ConnectionTrait,
    new: NewUser<'_>,
) -> Result<user::Model, DbErr> {
    let now = crate::backend::now();
    user::ActiveModel {
        org_id: Set(new.org_id),
        role_id: Set(new.role_id),
        email: Set(new.email.trim().to_lowercase()),
        password: Set(new.password_hash),
        disabled: Set(false),
        change_pw: Set(new.change_pw),
        termsaccepted: Set(false),
        autoalert: Set(false),
        contactalert: Set(false),
        invited_by: Set(new.invited_by),
        gpgkey: Set(String::new()),
        nids_sid: Set(0),
        expiration: Set(None),
        current_login: Set(0),
        last_login: Set(0),
        last_api_access: Set(0),
        last_pw_change: Set(now),
        force_logout: Set(false),
        date_created: Set(now),
        date_modified: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Records a successful login: MISP keeps the previous one in `last_login`.
pub async fn update_login_times(
    db: &impl ConnectionTrait,
    user: &user::Model,
) -> Result<(), DbErr> {
    let mut active: user::ActiveModel = user.clone().into();
    active.last_login = Set(user.current_login);
    active.current_login = Set(crate::backend::now());
    active.update(db).await?;
    Ok(())
}

pub async fn update_last_api_access(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::LastApiAccess,
            sea_orm::sea_query::Expr::value(crate::backend::now()),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Counts enabled site administrators, so the last one cannot be disabled or demoted.
pub async fn count_enabled_site_admins(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let admin_roles: Vec<i32> = role::Entity::find()
        .filter(role::Column::PermSiteAdmin.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    user::Entity::find()
        .filter(user::Column::RoleId.is_in(admin_roles))
        .filter(user::Column::Disabled.eq(false))
        .count(db)
        .await
}
