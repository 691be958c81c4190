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

/// One executed node of a run; without its `data`, also the form a run's row keeps its nodes in
/// (`workflow_runs.nodes`, a JSON array of these).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct NewRunNode {
    pub node_id: i32,
    pub module_id: String,
    pub status: String,
    pub duration_us: i64,
    #[serde(default)]
    pub errors: Vec<String>,
    /// What the node passed on, captured in debug mode (JSON text).
    #[serde(skip)]
    pub data: Option<String>,
}

/// A node's errors as `workflow_run_nodes.errors` keeps them: a JSON array.
fn errors_text(errors: &[String]) -> String {
    serde_json::to_string(errors).unwrap_or_else(|_| "[]".into())
}

/// The nodes of a run as its row keeps them: inline, as JSON, when none carries captured data
/// (every run outside debug mode), so that logging such a run writes one row; `None` when they
/// go to `workflow_run_nodes`.
fn inline_nodes(nodes: &[NewRunNode]) -> Option<String> {
    if nodes.iter().any(|n| n.data.is_some()) {
        return None;
    }
    serde_json::to_string(nodes).ok()
}

/// The nodes a run's row keeps inline, as the rows of `workflow_run_nodes` they stand for; an
/// unreadable array reads as no nodes (and is reported).
fn nodes_from_inline(run_id: i64, text: &str) -> Vec<workflow_run_node::Model> {
    let nodes: Vec<NewRunNode> = serde_json::from_str(text).unwrap_or_else(|e| {
        tracing::error!(run = run_id, error = %e, "unreadable nodes in the run log");
        Vec::new()
    });
    nodes
        .into_iter()
        .enumerate()
        .map(|(seq, n)| workflow_run_node::Model {
            id: 0,
            run_id,
            seq: i32::try_from(seq).unwrap_or(i32::MAX),
            node_id: n.node_id,
            module_id: n.module_id,
            status: n.status,
            duration_us: n.duration_us,
            errors: errors_text(&n.errors),
            data: None,
        })
        .collect()
}

/// Inserts a run and its nodes under a fresh id; call inside a transaction so a run is never
/// half-logged.
pub async fn insert_run(
    db: &impl ConnectionTrait,
    run: NewRun,
    nodes: Vec<NewRunNode>,
) -> Result<i64, DbErr> {
    let id = reserve_run_ids(db, 1)
        .await?
        .pop()
        .ok_or(DbErr::RecordNotInserted)?;
    insert_runs(db, vec![(id, run, nodes)]).await?;
    Ok(id)
}

/// Takes `n` run ids from the database's own id generator without inserting anything, so that a
/// run can be named (in a REST answer) before it is written. Ids are unique across every process
/// on the store: on PostgreSQL they come from the column's sequence; on SQLite from the table's
/// `AUTOINCREMENT` counter, raised in one statement (SQLite has one writer at a time). Ids taken
/// and never used leave gaps, as a rolled-back insert would.
pub async fn reserve_run_ids(db: &impl ConnectionTrait, n: u32) -> Result<Vec<i64>, DbErr> {
    use sea_orm::{DatabaseBackend, Statement};
    if n == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let mut ids = match backend {
        DatabaseBackend::Postgres => {
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT nextval(pg_get_serial_sequence('workflow_runs', 'id')) AS id \
                     FROM generate_series(1, $1)",
                    [i64::from(n).into()],
                ))
                .await?;
            rows.iter()
                .map(|r| r.try_get::<i64>("", "id"))
                .collect::<Result<Vec<_>, _>>()?
        }
        DatabaseBackend::Sqlite => {
            // The counter row appears with the table's first insert; until then, start it.
            db.execute_unprepared(
                "INSERT INTO sqlite_sequence (name, seq) SELECT 'workflow_runs', 0 \
                 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'workflow_runs')",
            )
            .await?;
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    "UPDATE sqlite_sequence \
                     SET seq = max(seq, (SELECT coalesce(max(id), 0) FROM workflow_runs)) + ? \
                     WHERE name = 'workflow_runs' RETURNING seq",
                    [i64::from(n).into()],
                ))
                .await?
                .ok_or(DbErr::RecordNotInserted)?;
            let last: i64 = row.try_get("", "seq")?;
            (last - i64::from(n) + 1..=last).collect()
        }
        other => {
            return Err(DbErr::Custom(format!(
                "run ids cannot be reserved on {other:?}"
            )))
        }
    };
    ids.sort_unstable();
    Ok(ids)
}

/// Node rows per `INSERT` statement (8 values each, well under SQLite's 32,766 parameters).
const NODE_ROWS_PER_INSERT: usize = 1_000;

/// Inserts several runs under ids from [`reserve_run_ids`] with their nodes, in one statement for
/// the runs and one for the nodes (per 1,000), so that a batch of runs costs a few round trips
/// instead of two per run; call inside a transaction. Nodes without captured data go inline in
/// their run's row ([`inline_nodes`]); only a debug run's nodes take rows of their own.
pub async fn insert_runs(
    db: &impl ConnectionTrait,
    runs: Vec<(i64, NewRun, Vec<NewRunNode>)>,
) -> Result<(), DbErr> {
    if runs.is_empty() {
        return Ok(());
    }
    let mut node_rows = Vec::new();
    let rows: Vec<workflow_run::ActiveModel> = runs
        .into_iter()
        .map(|(id, run, nodes)| {
            let inline = inline_nodes(&nodes);
            let nodes = if inline.is_some() { Vec::new() } else { nodes };
            node_rows.extend(nodes.into_iter().enumerate().map(|(seq, n)| {
                workflow_run_node::ActiveModel {
                    run_id: Set(id),
                    seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
                    node_id: Set(n.node_id),
                    module_id: Set(n.module_id),
                    status: Set(n.status),
                    duration_us: Set(n.duration_us),
                    errors: Set(errors_text(&n.errors)),
                    data: Set(n.data),
                    ..Default::default()
                }
            }));
            workflow_run::ActiveModel {
                id: Set(id),
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
                nodes: Set(inline),
            }
        })
        .collect();
    workflow_run::Entity::insert_many(rows).exec(db).await?;
    while !node_rows.is_empty() {
        let rest = node_rows.split_off(node_rows.len().min(NODE_ROWS_PER_INSERT));
        workflow_run_node::Entity::insert_many(node_rows)
            .exec(db)
            .await?;
        node_rows = rest;
    }
    Ok(())
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

/// Runs newest first, at most `limit`, without their inline nodes (`nodes` is `None`: a page
/// of the log does not read them; [`find_run`] does).
pub async fn list_runs(
    db: &impl ConnectionTrait,
    filter: &RunFilter,
    limit: u64,
) -> Result<Vec<workflow_run::Model>, DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, Condition, Iterable, QueryFilter, QueryOrder, QuerySelect};
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
        .select_only()
        .columns(workflow_run::Column::iter().filter(|c| !matches!(c, workflow_run::Column::Nodes)))
        .column_as(Expr::cust("CAST(NULL AS TEXT)"), "nodes")
        .filter(cond)
        .order_by_desc(workflow_run::Column::StartedAt)
        .order_by_desc(workflow_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A run and its nodes in execution order. Nodes kept inline in the run's row come back as the
/// rows they stand for, numbered by their place (`seq`) and without a row id (`id` 0).
pub async fn find_run(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(workflow_run::Model, Vec<workflow_run_node::Model>)>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let Some(run) = workflow_run::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    if let Some(text) = &run.nodes {
        let nodes = nodes_from_inline(id, text);
        return Ok(Some((run, nodes)));
    }
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
