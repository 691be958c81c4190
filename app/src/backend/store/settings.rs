use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use crate::backend::entities::setting;

/// A stored setting's JSON value, or `None` when it still has its default.
pub async fn find_setting(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<serde_json::Value>, DbErr> {
    Ok(setting::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .and_then(|row| serde_json::from_str(&row.value).ok()))
}

pub async fn upsert_setting(
    db: &impl ConnectionTrait,
    name: &str,
    value: &serde_json::Value,
) -> Result<(), DbErr> {
    setting::Entity::insert(setting::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(value.to_string()),
        modified: Set(crate::backend::now()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Name)
            .update_columns([setting::Column::Value, setting::Column::Modified])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Every stored setting whose name starts with `prefix`, with its JSON value (one query).
pub async fn list_settings_with_prefix(
    db: &impl ConnectionTrait,
    prefix: &str,
) -> Result<Vec<(String, serde_json::Value)>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(setting::Entity::find()
        .filter(setting::Column::Name.starts_with(prefix))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| serde_json::from_str(&row.value).ok().map(|v| (row.name, v)))
        .collect())
}
