use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::backend::entities::workflow_blueprint;

pub async fn find_blueprint(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<workflow_blueprint::Model>, DbErr> {
    workflow_blueprint::Entity::find_by_id(id).one(db).await
}

pub async fn find_blueprint_by_uuid(
    db: &impl ConnectionTrait,
    uuid: &str,
) -> Result<Option<workflow_blueprint::Model>, DbErr> {
    workflow_blueprint::Entity::find()
        .filter(workflow_blueprint::Column::Uuid.eq(uuid.to_lowercase()))
        .one(db)
        .await
}

/// Filters of `GET /workflowBlueprints/index`.
#[derive(Debug, Default, Clone)]
pub struct BlueprintFilter {
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub timestamp: Option<i64>,
}

pub async fn list_blueprints(
    db: &impl ConnectionTrait,
    filter: &BlueprintFilter,
) -> Result<Vec<workflow_blueprint::Model>, DbErr> {
    let mut cond = Condition::all();
    if let Some(name) = &filter.name {
        cond = cond.add(workflow_blueprint::Column::Name.eq(name.as_str()));
    }
    if let Some(uuid) = &filter.uuid {
        cond = cond.add(workflow_blueprint::Column::Uuid.eq(uuid.to_lowercase()));
    }
    if let Some(ts) = filter.timestamp {
        cond = cond.add(workflow_blueprint::Column::Timestamp.gte(ts));
    }
    workflow_blueprint::Entity::find()
        .filter(cond)
        .order_by_asc(workflow_blueprint::Column::Name)
        .all(db)
        .await
}

/// A blueprint's stored fields; `data` is the JSON list of nodes.
pub struct BlueprintFields {
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub timestamp: i64,
    pub default: bool,
    pub data: String,
}

pub async fn insert_blueprint(
    db: &impl ConnectionTrait,
    f: BlueprintFields,
) -> Result<workflow_blueprint::Model, DbErr> {
    workflow_blueprint::ActiveModel {
        uuid: Set(f.uuid),
        name: Set(f.name),
        description: Set(f.description),
        timestamp: Set(f.timestamp),
        default: Set(f.default),
        data: Set(f.data),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn update_blueprint(
    db: &impl ConnectionTrait,
    current: workflow_blueprint::Model,
    f: BlueprintFields,
) -> Result<workflow_blueprint::Model, DbErr> {
    let mut active: workflow_blueprint::ActiveModel = current.into();
    active.name = Set(f.name);
    active.description = Set(f.description);
    active.timestamp = Set(f.timestamp);
    active.default = Set(f.default);
    active.data = Set(f.data);
    active.update(db).await
}

pub async fn delete_blueprint(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    Ok(workflow_blueprint::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}
