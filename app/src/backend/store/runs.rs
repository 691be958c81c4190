use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

use crate::backend::entities::{workflow_run, workflow_run_node};

/// One run as the run log keeps it.
pub struct NewRun {
    pub workflow_id: i32,
    pub trigger_id: String,
    pub started_at_us: i64,
    pub duration_us: i64,
    pub success: bool,
    pub outcome: String,
    pub outcome_text: String,
    pub user_id: i32,
    pub action: String,
    pub debug: bool,
    pub walk: String,
}

/// One executed node of a run.
pub struct NewRunNode {
    pub node_id: i32,
    pub module_id: String,
    pub status: String,
    pub duration_us: i64,
    pub errors: String,
    pub data: Option<String>,
}

/// Inserts a run and its nodes; call inside a transaction so a run is never half-logged.
pub async fn insert_run(
    db: &impl ConnectionTrait,
    run: NewRun,
    nodes: Vec<NewRunNode>,
) -> Result<i64, DbErr> {
    let row = workflow_run::ActiveModel {
        workflow_id: Set(run.workflow_id),
        trigger_id: Set(run.trigger_id),
        started_at: Set(run.started_at_us),
        duration_us: Set(run.duration_us),
        success: Set(run.success),
        outcome: Set(run.outcome),
        outcome_text: Set(run.outcome_text),
        user_id: Set(run.user_id),
        action: Set(run.action),
        debug: Set(run.debug),
        walk: Set(run.walk),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if !nodes.is_empty() {
        let rows = nodes
            .into_iter()
            .enumerate()
            .map(|(seq, n)| workflow_run_node::ActiveModel {
                run_id: Set(row.id),
                seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
                node_id: Set(n.node_id),
                module_id: Set(n.module_id),
                status: Set(n.status),
                duration_us: Set(n.duration_us),
                errors: Set(n.errors),
                data: Set(n.data),
                ..Default::default()
            });
        workflow_run_node::Entity::insert_many(rows)
            .exec(db)
            .await?;
    }
    Ok(row.id)
}
