use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use crate::backend::entities::{workflow_run, workflow_run_node};

/// One run as the run log keeps it.
#[derive(Clone, Debug)]
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
#[derive(Clone, Debug)]
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
    let ids = insert_runs(db, vec![(run, nodes)]).await?;
    ids.first().copied().ok_or(DbErr::RecordNotInserted)
}

/// Node rows per `INSERT` statement (8 values each, well under SQLite's 32,766 parameters).
const NODE_ROWS_PER_INSERT: usize = 1_000;

/// Inserts several runs and their nodes, in one statement for the runs and one for the nodes
/// (per 1,000), so that a batch of runs costs a few round trips instead of two per run; call
/// inside a transaction. Returns the runs' ids, in the order given.
///
/// The ids come back through `RETURNING`, whose row order neither SQLite nor PostgreSQL
/// promises; the ids themselves are handed out in the order the statement's rows are inserted
/// (SQLite's rowid is one more than the largest, under its single writer; a PostgreSQL sequence
/// only grows), so sorted they line up with the runs.
pub async fn insert_runs(
    db: &impl ConnectionTrait,
    runs: Vec<(NewRun, Vec<NewRunNode>)>,
) -> Result<Vec<i64>, DbErr> {
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let (rows, nodes): (Vec<_>, Vec<_>) = runs
        .into_iter()
        .map(|(run, nodes)| {
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
            };
            (row, nodes)
        })
        .unzip();
    let mut ids = workflow_run::Entity::insert_many(rows)
        .exec_with_returning_keys(db)
        .await?;
    if ids.len() != nodes.len() {
        return Err(DbErr::RecordNotInserted);
    }
    ids.sort_unstable();
    let mut node_rows: Vec<workflow_run_node::ActiveModel> = ids
        .iter()
        .zip(nodes)
        .flat_map(|(&run_id, nodes)| {
            nodes
                .into_iter()
                .enumerate()
                .map(move |(seq, n)| workflow_run_node::ActiveModel {
                    run_id: Set(run_id),
                    seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
                    node_id: Set(n.node_id),
                    module_id: Set(n.module_id),
                    status: Set(n.status),
                    duration_us: Set(n.duration_us),
                    errors: Set(n.errors),
                    data: Set(n.data),
                    ..Default::default()
                })
        })
        .collect();
    while !node_rows.is_empty() {
        let rest = node_rows.split_off(node_rows.len().min(NODE_ROWS_PER_INSERT));
        workflow_run_node::Entity::insert_many(node_rows)
            .exec(db)
            .await?;
        node_rows = rest;
    }
    Ok(ids)
}

/// Filters of the run log. `before` is a keyset cursor `(started_at, id)`: paging stays as fast
/// on page 10,000 as on page 1.
#[derive(Debug, Default, Clone)]
pub struct RunFilter {
    pub workflow_id: Option<i32>,
    pub trigger_id: Option<String>,
    pub outcome: Option<String>,
    pub from_us: Option<i64>,
    pub to_us: Option<i64>,
    pub before: Option<(i64, i64)>,
}

/// Runs newest first, at most `limit`.
pub async fn list_runs(
    db: &impl ConnectionTrait,
    filter: &RunFilter,
    limit: u64,
) -> Result<Vec<workflow_run::Model>, DbErr> {
    use sea_orm::{ColumnTrait, Condition, QueryFilter, QueryOrder, QuerySelect};
    let mut cond = Condition::all();
    if let Some(id) = filter.workflow_id {
        cond = cond.add(workflow_run::Column::WorkflowId.eq(id));
    }
    if let Some(trigger) = &filter.trigger_id {
        cond = cond.add(workflow_run::Column::TriggerId.eq(trigger.as_str()));
    }
    if let Some(outcome) = &filter.outcome {
        cond = cond.add(workflow_run::Column::Outcome.eq(outcome.as_str()));
    }
    if let Some(from) = filter.from_us {
        cond = cond.add(workflow_run::Column::StartedAt.gte(from));
    }
    if let Some(to) = filter.to_us {
        cond = cond.add(workflow_run::Column::StartedAt.lt(to));
    }
    if let Some((started, id)) = filter.before {
        cond = cond.add(
            Condition::any()
                .add(workflow_run::Column::StartedAt.lt(started))
                .add(
                    Condition::all()
                        .add(workflow_run::Column::StartedAt.eq(started))
                        .add(workflow_run::Column::Id.lt(id)),
                ),
        );
    }
    workflow_run::Entity::find()
        .filter(cond)
        .order_by_desc(workflow_run::Column::StartedAt)
        .order_by_desc(workflow_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A run and its nodes in execution order.
pub async fn find_run(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(workflow_run::Model, Vec<workflow_run_node::Model>)>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let Some(run) = workflow_run::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let nodes = workflow_run_node::Entity::find()
        .filter(workflow_run_node::Column::RunId.eq(id))
        .order_by_asc(workflow_run_node::Column::Seq)
        .all(db)
        .await?;
    Ok(Some((run, nodes)))
}

/// The start time of the `n`-th newest run (0-based), if there are more than `n` runs.
pub async fn nth_newest_started_at(
    db: &impl ConnectionTrait,
    n: u64,
) -> Result<Option<i64>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    workflow_run::Entity::find()
        .select_only()
        .column(workflow_run::Column::StartedAt)
        .order_by_desc(workflow_run::Column::StartedAt)
        .offset(n)
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await
}

/// Deletes runs that started before `started_at_us` (µs), with their nodes; returns how many runs.
pub async fn delete_runs_before(
    db: &impl ConnectionTrait,
    started_at_us: i64,
) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Query;
    use sea_orm::{ColumnTrait, QueryFilter};
    let old_runs = Query::select()
        .column(workflow_run::Column::Id)
        .from(workflow_run::Entity)
        .and_where(workflow_run::Column::StartedAt.lt(started_at_us))
        .to_owned();
    workflow_run_node::Entity::delete_many()
        .filter(workflow_run_node::Column::RunId.in_subquery(old_runs))
        .exec(db)
        .await?;
    Ok(workflow_run::Entity::delete_many()
        .filter(workflow_run::Column::StartedAt.lt(started_at_us))
        .exec(db)
        .await?
        .rows_affected)
}
