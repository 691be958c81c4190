use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use crate::backend::entities::workflow_module;

/// Every stored module switch (modules never toggled keep MISP's install default).
pub async fn list_module_states(db: &impl ConnectionTrait) -> Result<Vec<(String, bool)>, DbErr> {
    Ok(workflow_module::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.module_id, m.enabled))
        .collect())
}

pub async fn upsert_module_state(
    db: &impl ConnectionTrait,
    module_id: &str,
    enabled: bool,
) -> Result<(), DbErr> {
    workflow_module::Entity::insert(workflow_module::ActiveModel {
        module_id: Set(module_id.to_owned()),
        enabled: Set(enabled),
        modified: Set(crate::backend::now()),
    })
    .on_conflict(
        OnConflict::column(workflow_module::Column::ModuleId)
            .update_columns([
                workflow_module::Column::Enabled,
                workflow_module::Column::Modified,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
