use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::backend::entities::workflow;

pub async fn find_workflow(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<workflow::Model>, DbErr> {
    workflow::Entity::find_by_id(id).one(db).await
}

pub async fn find_workflow_by_uuid(
    db: &impl ConnectionTrait,
    uuid: &str,
) -> Result<Option<workflow::Model>, DbErr> {
    workflow::Entity::find()
        .filter(workflow::Column::Uuid.eq(uuid.to_lowercase()))
        .one(db)
        .await
}

pub async fn find_workflow_by_trigger(
    db: &impl ConnectionTrait,
    trigger_id: &str,
) -> Result<Option<workflow::Model>, DbErr> {
    workflow::Entity::find()
        .filter(workflow::Column::TriggerId.eq(trigger_id))
        .one(db)
        .await
}

/// Every workflow whose trigger is in `trigger_ids`, for the trigger list (one query).
pub async fn find_workflows_by_triggers(
    db: &impl ConnectionTrait,
    trigger_ids: Vec<String>,
) -> Result<Vec<workflow::Model>, DbErr> {
    workflow::Entity::find()
        .filter(workflow::Column::TriggerId.is_in(trigger_ids))
        .all(db)
        .await
}

/// Filters of `GET /workflows/index`: exact name/uuid, or a quick filter on name, description
/// and trigger.
#[derive(Debug, Default, Clone)]
pub struct WorkflowFilter {
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub quick: Option<String>,
    /// Only ad-hoc workflows (`adhoc_*` triggers) when true, only hook workflows when false.
    pub adhoc: Option<bool>,
}

pub async fn list_workflows(
    db: &impl ConnectionTrait,
    filter: &WorkflowFilter,
    page: u64,
    limit: u64,
) -> Result<Vec<workflow::Model>, DbErr> {
    let mut cond = Condition::all();
    if let Some(name) = &filter.name {
        cond = cond.add(workflow::Column::Name.eq(name.as_str()));
    }
    if let Some(uuid) = &filter.uuid {
        cond = cond.add(workflow::Column::Uuid.eq(uuid.to_lowercase()));
    }
    if let Some(quick) = filter.quick.as_deref().filter(|q| !q.is_empty()) {
        cond = cond.add(
            Condition::any()
                .add(super::contains_ignore_case(workflow::Column::Name, quick))
                .add(super::contains_ignore_case(
                    workflow::Column::Description,
                    quick,
                ))
                .add(super::contains_ignore_case(
                    workflow::Column::TriggerId,
                    quick,
                )),
        );
    }
    match filter.adhoc {
        Some(true) => cond = cond.add(workflow::Column::TriggerId.starts_with("adhoc_")),
        Some(false) => cond = cond.add(workflow::Column::TriggerId.starts_with("adhoc_").not()),
        None => {}
    }
    workflow::Entity::find()
        .filter(cond)
        .order_by_asc(workflow::Column::Id)
        .offset(Ord::min(
            page.saturating_sub(1).saturating_mul(limit),
            i64::MAX as u64,
        ))
        .limit(limit)
        .all(db)
        .await
}

/// The largest workflow id, for MISP's `adhoc_<max(id)+1>` trigger ids.
pub async fn max_workflow_id(db: &impl ConnectionTrait) -> Result<i32, DbErr> {
    Ok(workflow::Entity::find()
        .select_only()
        .column_as(workflow::Column::Id.max(), "m")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

pub async fn count_workflows(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    workflow::Entity::find().count(db).await
}

/// A workflow about to be inserted; the id comes from the database.
pub struct NewWorkflow {
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub timestamp: i64,
    pub trigger_id: String,
    pub debug_enabled: bool,
    pub data: String,
}

pub async fn insert_workflow(
    db: &impl ConnectionTrait,
    new: NewWorkflow,
) -> Result<workflow::Model, DbErr> {
    workflow::ActiveModel {
        uuid: Set(new.uuid),
        name: Set(new.name),
        description: Set(new.description),
        timestamp: Set(new.timestamp),
        enabled: Set(false),
        counter: Set(0),
        trigger_id: Set(new.trigger_id),
        debug_enabled: Set(new.debug_enabled),
        data: Set(new.data),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The editable part of a workflow.
pub struct WorkflowChanges {
    pub name: String,
    pub description: String,
    pub debug_enabled: bool,
    pub data: String,
    pub timestamp: i64,
}

/// Saves `changes` only if the stored timestamp is still `expected` (when given): the write
/// and the staleness check are one statement, so two editors cannot both win.
/// Returns false when nothing was written.
pub async fn update_workflow(
    db: &impl ConnectionTrait,
    id: i32,
    expected_timestamp: Option<i64>,
    changes: WorkflowChanges,
) -> Result<bool, DbErr> {
    let mut query = workflow::Entity::update_many()
        .col_expr(workflow::Column::Name, Expr::value(changes.name))
        .col_expr(
            workflow::Column::Description,
            Expr::value(changes.description),
        )
        .col_expr(
            workflow::Column::DebugEnabled,
            Expr::value(changes.debug_enabled),
        )
        .col_expr(workflow::Column::Data, Expr::value(changes.data))
        .col_expr(workflow::Column::Timestamp, Expr::value(changes.timestamp))
        .filter(workflow::Column::Id.eq(id));
    if let Some(expected) = expected_timestamp {
        query = query.filter(workflow::Column::Timestamp.eq(expected));
    }
    Ok(query.exec(db).await?.rows_affected > 0)
}

pub async fn update_debug_enabled(
    db: &impl ConnectionTrait,
    id: i32,
    enabled: bool,
) -> Result<bool, DbErr> {
    Ok(workflow::Entity::update_many()
        .col_expr(workflow::Column::DebugEnabled, Expr::value(enabled))
        .filter(workflow::Column::Id.eq(id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Adds `runs` to the run counter of workflow `id`, in place (no read-modify-write race
/// between processes).
pub async fn increment_counter_by(
    db: &impl ConnectionTrait,
    id: i32,
    runs: i64,
) -> Result<(), DbErr> {
    workflow::Entity::update_many()
        .col_expr(
            workflow::Column::Counter,
            Expr::col(workflow::Column::Counter).add(runs),
        )
        .filter(workflow::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_workflow(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    Ok(workflow::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}
