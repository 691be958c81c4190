use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use crate::backend::entities::auth_key;
use crate::model::AuthKeyRow;

pub fn to_row(key: auth_key::Model) -> AuthKeyRow {
    AuthKeyRow {
        id: key.id,
        uuid: key.uuid,
        authkey_start: key.authkey_start,
        authkey_end: key.authkey_end,
        comment: key.comment,
        read_only: key.read_only,
        created: key.created,
        expiration: key.expiration,
        last_used: key.last_used,
    }
}

pub async fn find_key_by_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<auth_key::Model>, DbErr> {
    auth_key::Entity::find()
        .filter(auth_key::Column::AuthkeyHash.eq(hash))
        .one(db)
        .await
}

pub async fn list_keys_for_user(
    db: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Vec<auth_key::Model>, DbErr> {
    auth_key::Entity::find()
        .filter(auth_key::Column::UserId.eq(user_id))
        .order_by_desc(auth_key::Column::Created)
        .order_by_desc(auth_key::Column::Id)
        .all(db)
        .await
}

/// What a new key row holds: its hash and the four characters at each end, never the key.
pub struct NewKey<'a> {
    pub user_id: i32,
    pub hash: String,
    pub start: &'a str,
    pub end: &'a str,
    pub comment: &'a str,
    pub read_only: bool,
    pub expiration: i64,
}

pub async fn insert_key(
    db: &impl ConnectionTrait,
    new: NewKey<'_>,
) -> Result<auth_key::Model, DbErr> {
    auth_key::ActiveModel {
        uuid: Set(uuid::Uuid::new_v4().to_string()),
        user_id: Set(new.user_id),
        authkey_hash: Set(new.hash),
        authkey_start: Set(new.start.to_owned()),
        authkey_end: Set(new.end.to_owned()),
        comment: Set(new.comment.to_owned()),
        read_only: Set(new.read_only),
        created: Set(crate::backend::now()),
        expiration: Set(new.expiration),
        last_used: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Deletes key `id` if it belongs to `user_id`; returns whether a row went.
pub async fn delete_key(db: &impl ConnectionTrait, user_id: i32, id: i32) -> Result<bool, DbErr> {
    let result = auth_key::Entity::delete_many()
        .filter(auth_key::Column::Id.eq(id))
        .filter(auth_key::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

pub async fn update_last_used(db: &impl ConnectionTrait, id: i32, now: i64) -> Result<(), DbErr> {
    auth_key::Entity::update_many()
        .col_expr(
            auth_key::Column::LastUsed,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(auth_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
