//! The durable job queue's table. Every state change is one statement guarded by the job's
//! current state and owner, so two workers (in one process or several) never both own a job:
//! claiming is `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` on PostgreSQL and the
//! same statement on SQLite, where the single writer makes it atomic.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

use crate::backend::entities::workflow_job::{self, Column, Entity, Model};

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const RETRYING: &str = "retrying";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

/// The longest wait between two attempts.
pub const MAX_BACKOFF_US: i64 = 3_600_000_000;

/// A job to queue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    pub idempotency_key: String,
    pub max_attempts: i32,
    /// Microseconds since the Unix epoch.
    pub run_after: i64,
}

/// Queues a job (call inside the transaction of the action that causes it, so both or neither
/// exist). Returns its id.
pub async fn enqueue(db: &impl ConnectionTrait, job: NewJob, now: i64) -> Result<i64, DbErr> {
    let row = queued_row(job, now).insert(db).await?;
    Ok(row.id)
}

fn queued_row(job: NewJob, now: i64) -> workflow_job::ActiveModel {
    workflow_job::ActiveModel {
        kind: Set(job.kind),
        payload: Set(job.payload),
        idempotency_key: Set(job.idempotency_key),
        status: Set(QUEUED.into()),
        attempts: Set(0),
        max_attempts: Set(job.max_attempts.max(1)),
        run_after: Set(job.run_after),
        lease_until: Set(None),
        worker: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Queues a job unless one with the same idempotency key exists (several processes may try to
/// queue the same job: the first wins). Answers whether this call queued it.
pub async fn enqueue_once(db: &impl ConnectionTrait, job: NewJob, now: i64) -> Result<bool, DbErr> {
    Ok(enqueue_many_once(db, vec![job], now).await? > 0)
}

/// Jobs queued by one statement at most (11 parameters each: within SQLite's and PostgreSQL's
/// limits on a statement's parameters).
const ENQUEUE_CHUNK: usize = 500;

/// [`enqueue_once`] for many jobs, a statement per [`ENQUEUE_CHUNK`] of them instead of one
/// each: an action that saves a thousand attributes queues their runs in two statements.
/// Answers how many were queued.
pub async fn enqueue_many_once(
    db: &impl ConnectionTrait,
    jobs: Vec<NewJob>,
    now: i64,
) -> Result<u64, DbErr> {
    let mut queued = 0;
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        let chunk: Vec<_> = jobs
            .by_ref()
            .take(ENQUEUE_CHUNK)
            .map(|job| queued_row(job, now))
            .collect();
        queued += Entity::insert_many(chunk)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(Column::IdempotencyKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(queued)
}

/// Claims up to `limit` due jobs for `worker` until `lease_until`: queued or retrying jobs whose
/// time has come, and running jobs whose lease has passed (their worker died). Each claim counts
/// as an attempt. Oldest first.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    limit: u64,
    lease_until: i64,
    now: i64,
) -> Result<Vec<Model>, DbErr> {
    let backend = db.get_database_backend();
    let mut n = 0;
    let mut p = || {
        n += 1;
        match backend {
            DatabaseBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        }
    };
    let (worker_p, lease_p, now_p, due_p, stale_p, limit_p) = (p(), p(), p(), p(), p(), p());
    let lock = if backend == DatabaseBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE workflow_jobs SET status = '{RUNNING}', worker = {worker_p}, \
         lease_until = {lease_p}, attempts = attempts + 1, updated_at = {now_p} \
         WHERE id IN (SELECT id FROM workflow_jobs \
           WHERE status IN ('{QUEUED}', '{RETRYING}', '{RUNNING}') \
             AND ((status IN ('{QUEUED}', '{RETRYING}') AND run_after <= {due_p}) \
              OR (status = '{RUNNING}' AND lease_until < {stale_p})) \
           ORDER BY id LIMIT {limit_p}{lock}) \
         RETURNING *"
    );
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [
            worker.into(),
            lease_until.into(),
            now.into(),
            now.into(),
            now.into(),
            (limit as i64).into(),
        ],
    );
    let mut jobs = Entity::find().from_raw_sql(statement).all(db).await?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Extends the lease of `worker`'s running jobs `ids`.
pub async fn heartbeat(
    db: &impl ConnectionTrait,
    worker: &str,
    ids: &[i64],
    lease_until: i64,
    now: i64,
) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::Worker.eq(worker))
        .filter(Column::Status.eq(RUNNING))
        .exec(db)
        .await?
        .rows_affected)
}

/// Marks `worker`'s running `job` done. False when this attempt is no longer running (its lease
/// passed and another worker, or another attempt, has the job).
pub async fn complete(
    db: &impl ConnectionTrait,
    job: &Model,
    worker: &str,
    now: i64,
) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::Status, Expr::value(DONE))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(job.id))
        .filter(Column::Worker.eq(worker))
        .filter(Column::Attempts.eq(job.attempts))
        .filter(Column::Status.eq(RUNNING))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// The wait before attempt `attempts + 1`: `base`, doubled after each attempt, at most an hour.
pub fn backoff(base_us: i64, attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base_us
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF_US)
}

/// Records a failed attempt of `worker`'s running `job`: `retrying` after its backoff, or `dead`
/// when it has had its attempts (or `retry` is false: the failure is not transient). Returns
/// the new state, or `None` when the job is no longer the worker's.
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &Model,
    worker: &str,
    error: &str,
    retry: bool,
    backoff_base_us: i64,
    now: i64,
) -> Result<Option<&'static str>, DbErr> {
    let status = if retry && job.attempts < job.max_attempts {
        RETRYING
    } else {
        DEAD
    };
    let changed = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(
            Column::RunAfter,
            Expr::value(now.saturating_add(backoff(backoff_base_us, job.attempts))),
        )
        .col_expr(Column::LastError, Expr::value(Some(error.to_owned())))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(job.id))
        .filter(Column::Worker.eq(worker))
        .filter(Column::Attempts.eq(job.attempts))
        .filter(Column::Status.eq(RUNNING))
        .exec(db)
        .await?
        .rows_affected;
    Ok((changed == 1).then_some(status))
}

/// Gives `worker`'s running jobs back to the queue (graceful shutdown): they run again at once
/// elsewhere, and the interrupted attempt does not count.
pub async fn release(db: &impl ConnectionTrait, worker: &str, now: i64) -> Result<u64, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::Status, Expr::value(QUEUED))
        .col_expr(Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(Column::Worker, Expr::value(Option::<String>::None))
        .col_expr(
            Column::Attempts,
            sea_orm::sea_query::ExprTrait::sub(Expr::col(Column::Attempts), 1),
        )
        .col_expr(Column::RunAfter, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Worker.eq(worker))
        .filter(Column::Status.eq(RUNNING))
        .exec(db)
        .await?
        .rows_affected)
}

/// Jobs in any of `statuses` (all when empty), newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    statuses: &[&str],
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().order_by_desc(Column::Id).limit(limit);
    if !statuses.is_empty() {
        query = query.filter(Column::Status.is_in(statuses.iter().copied()));
    }
    query.all(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// Puts a dead or retrying job back in the queue with its attempts reset. False when the job
/// is in no such state.
pub async fn retry(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<bool, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::Status, Expr::value(QUEUED))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::RunAfter, Expr::value(now))
        .col_expr(Column::Worker, Expr::value(Option::<String>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.is_in([DEAD, RETRYING]))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Removes a job that is not running. False when it is running or gone.
pub async fn discard(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::Status.ne(RUNNING))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// How an attempt of a claimed job ended, recorded in the same transaction as its run (so the
/// run log holds the run exactly when the job is no longer running).
#[derive(Clone, Debug)]
pub struct JobEnd {
    pub job: Model,
    pub worker: String,
    /// `None` when the attempt succeeded, else its error.
    pub error: Option<String>,
    /// Whether the failure is transient (worth another attempt).
    pub retry: bool,
    pub backoff_base_us: i64,
}

/// Records `end`: the job's new state, or `None` when the job is no longer the worker's (its
/// lease passed and another worker claimed it).
pub async fn end(
    db: &impl ConnectionTrait,
    end: &JobEnd,
    now: i64,
) -> Result<Option<&'static str>, DbErr> {
    match &end.error {
        None => Ok(complete(db, &end.job, &end.worker, now)
            .await?
            .then_some(DONE)),
        Some(error) => {
            fail(
                db,
                &end.job,
                &end.worker,
                error,
                end.retry,
                end.backoff_base_us,
                now,
            )
            .await
        }
    }
}

/// Notes that the job of `job_key` applied the store edit `scope` (call in the edit's
/// transaction). A second note of the same edit fails, so when two attempts of a job race (one
/// outlived its lease), the later edit's transaction rolls back instead of applying it twice.
pub async fn record_effect(
    db: &impl ConnectionTrait,
    job_key: &str,
    scope: &str,
    now: i64,
) -> Result<(), DbErr> {
    use crate::backend::entities::workflow_job_effect as effect;
    let row = effect::ActiveModel {
        job_key: Set(job_key.to_owned()),
        scope: Set(scope.to_owned()),
        created_at: Set(now),
    };
    effect::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Whether an earlier attempt of the job of `job_key` applied the store edit `scope`.
pub async fn effect_applied(
    db: &impl ConnectionTrait,
    job_key: &str,
    scope: &str,
) -> Result<bool, DbErr> {
    use crate::backend::entities::workflow_job_effect as effect;
    Ok(
        effect::Entity::find_by_id((job_key.to_owned(), scope.to_owned()))
            .one(db)
            .await?
            .is_some(),
    )
}

/// Deletes done jobs last changed before `before`, with their edit ledger (housekeeping; the
/// run log keeps the runs).
pub async fn purge_done(db: &impl ConnectionTrait, before: i64) -> Result<u64, DbErr> {
    use crate::backend::entities::workflow_job_effect as effect;
    use sea_orm::sea_query::Query;
    effect::Entity::delete_many()
        .filter(
            effect::Column::JobKey.in_subquery(
                Query::select()
                    .column(Column::IdempotencyKey)
                    .from(Entity)
                    .and_where(Column::Status.eq(DONE))
                    .and_where(Column::UpdatedAt.lt(before))
                    .to_owned(),
            ),
        )
        .exec(db)
        .await?;
    Ok(Entity::delete_many()
        .filter(Column::Status.eq(DONE))
        .filter(Column::UpdatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1_000_000, 1), 1_000_000);
        assert_eq!(backoff(1_000_000, 2), 2_000_000);
        assert_eq!(backoff(1_000_000, 4), 8_000_000);
        assert_eq!(backoff(1_000_000, 40), MAX_BACKOFF_US);
        assert_eq!(backoff(1_000_000, 0), 1_000_000);
    }
}
