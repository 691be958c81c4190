//! The durable queue as admins see it: jobs waiting, running, retrying or dead, with their
//! errors, and the two things to do about a stuck one (retry it, discard it). Site admins only.
use serde_json::{json, Value};

use crate::backend::entities::workflow_job::Model;
use crate::backend::jobs::now_us;
use crate::backend::store::jobs;
use crate::backend::{AppState, Principal};
use crate::error::AppError;
use crate::model::JobRow;

const STATES: [&str; 5] = [
    jobs::QUEUED,
    jobs::RUNNING,
    jobs::RETRYING,
    jobs::DEAD,
    jobs::DONE,
];

fn statuses(status: &str) -> Result<Vec<&'static str>, AppError> {
    match status {
        // Unfinished business by default: what an admin may need to act on.
        "" => Ok(vec![
            jobs::QUEUED,
            jobs::RUNNING,
            jobs::RETRYING,
            jobs::DEAD,
        ]),
        "all" => Ok(Vec::new()),
        s => STATES
            .iter()
            .find(|x| **x == s)
            .map(|x| vec![*x])
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "Unknown job status `{s}` (queued, running, retrying, dead, done, all)."
                ))
            }),
    }
}

fn row(j: &Model) -> JobRow {
    JobRow {
        id: j.id.to_string(),
        kind: j.kind.clone(),
        status: j.status.clone(),
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        run_after: j.run_after / 1_000_000,
        updated_at: j.updated_at / 1_000_000,
        last_error: j.last_error.clone().unwrap_or_default(),
        idempotency_key: j.idempotency_key.clone(),
    }
}

/// Jobs in `status` (empty: every unfinished one; `all`), newest first.
pub async fn list(
    state: &AppState,
    actor: &Principal,
    status: &str,
    limit: u64,
) -> Result<Vec<JobRow>, AppError> {
    actor.require_site_admin()?;
    let wanted = statuses(status)?;
    Ok(jobs::list(&state.db, &wanted, limit.clamp(1, 1000))
        .await?
        .iter()
        .map(row)
        .collect())
}

/// The list as JSON for the REST route.
pub fn list_json(rows: &[JobRow]) -> Value {
    json!({"Job": rows})
}

fn parse_id(id: &str) -> Result<i64, AppError> {
    id.parse()
        .map_err(|_| AppError::NotFound("Invalid job.".into()))
}

/// Puts a dead or retrying job back in the queue, attempts reset.
pub async fn retry(state: &AppState, actor: &Principal, id: &str) -> Result<(), AppError> {
    actor.require_site_admin_writer()?;
    let id = parse_id(id)?;
    if jobs::retry(&state.db, id, now_us()).await? {
        state.workflows.job_wake.notify_waiters();
        return Ok(());
    }
    match jobs::find(&state.db, id).await? {
        None => Err(AppError::NotFound("Invalid job.".into())),
        Some(j) => Err(AppError::Conflict(format!(
            "Only a dead or retrying job can be retried; this one is {}.",
            j.status
        ))),
    }
}

/// Removes a job that is not running.
pub async fn discard(state: &AppState, actor: &Principal, id: &str) -> Result<(), AppError> {
    actor.require_site_admin_writer()?;
    let id = parse_id(id)?;
    if jobs::discard(&state.db, id).await? {
        return Ok(());
    }
    match jobs::find(&state.db, id).await? {
        None => Err(AppError::NotFound("Invalid job.".into())),
        Some(_) => Err(AppError::Conflict(
            "A running job cannot be discarded; wait for it to end.".into(),
        )),
    }
}
