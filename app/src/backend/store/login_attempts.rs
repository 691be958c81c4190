use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use crate::backend::entities::login_attempt;

pub async fn find_attempts(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<login_attempt::Model>, DbErr> {
    login_attempt::Entity::find_by_id(key.to_owned())
        .one(db)
        .await
}

pub async fn upsert_attempts(
    db: &impl ConnectionTrait,
    key: &str,
    failures: i32,
    window_start: i64,
) -> Result<(), DbErr> {
    login_attempt::Entity::insert(login_attempt::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(failures),
        window_start: Set(window_start),
    })
    .on_conflict(
        OnConflict::column(login_attempt::Column::Key)
            .update_columns([
                login_attempt::Column::Failures,
                login_attempt::Column::WindowStart,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

pub async fn delete_attempts(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    login_attempt::Entity::delete_by_id(key.to_owned())
        .exec(db)
        .await?;
    Ok(())
}
