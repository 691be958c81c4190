//! Group commit for the run log and the run counters.
//!
//! Every workflow run writes a run row, its node rows and a counter increment. Written one
//! transaction per run, the commits serialise on the database (one connection on SQLite) and
//! cap a busy server at a few thousand runs per second whatever the engine does. One writer task
//! instead takes every write queued while the previous transaction was committing and commits
//! them together: a caller still waits until its run is durably in the log (the REST answer
//! carries the run id), but concurrent runs share one commit.
//!
//! Writes are applied in the order they were queued, so a counter increment queued when a run
//! starts is committed no later than that run's row. A batch that fails for a reason outside
//! its data is tried again once; if it still fails, its writes are tried one by one, so one bad
//! row only fails its own caller.

use std::collections::BTreeMap;

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use crate::backend::store::{jobs, runs, workflows};

/// Writes taken into one transaction at most (bounds a commit's latency under a burst).
const MAX_BATCH: usize = 256;
/// Pause before a failed batch is tried again.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(50);

/// The start of the answer for a run whose job was claimed by another worker meanwhile (its
/// lease passed, or a shutdown gave it back): the run is not logged.
pub const LOST_JOB: &str = "run not logged";

enum Write {
    Counter(i32),
    Run {
        run: runs::NewRun,
        nodes: Vec<runs::NewRunNode>,
        /// The end of the job attempt the run belongs to, recorded in the same transaction.
        end: Option<Box<jobs::JobEnd>>,
        done: oneshot::Sender<Result<i64, String>>,
    },
}

/// The queue in front of the writer task.
pub struct RunWriter {
    queue: mpsc::UnboundedSender<Write>,
}

impl RunWriter {
    /// Starts the writer task on `db`; it ends when the writer is dropped.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, mut rx) = mpsc::unbounded_channel::<Write>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(w) => batch.push(w),
                        Err(_) => break,
                    }
                }
                // In a task of its own, so that a panic fails only this batch's callers (their
                // answers are dropped: "the run-log writer has stopped") and the writer goes on.
                if let Err(e) = tokio::spawn(commit(db.clone(), batch)).await {
                    tracing::error!(error = %e, "a run-log batch panicked");
                }
            }
        });
        Self { queue }
    }

    /// Counts one run of workflow `workflow_id` (committed with the next batch).
    pub fn count(&self, workflow_id: i32) {
        let _ = self.queue.send(Write::Counter(workflow_id));
    }

    /// Logs a run with its nodes, and the end of the job attempt it belongs to if any (so the
    /// run log holds a job's run exactly when the job has left the running state; a job that
    /// is no longer this worker's is not logged: its new owner logs it). Answers the run's id
    /// once committed.
    pub async fn record(
        &self,
        run: runs::NewRun,
        nodes: Vec<runs::NewRunNode>,
        end: Option<jobs::JobEnd>,
    ) -> Result<i64, DbErr> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Write::Run {
                run,
                nodes,
                end: end.map(Box::new),
                done,
            })
            .map_err(|_| DbErr::Custom("the run-log writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the run-log writer has stopped".into()))?
            .map_err(DbErr::Custom)
    }
}

async fn commit(db: DatabaseConnection, batch: Vec<Write>) {
    let db = &db;
    let mut counters: BTreeMap<i32, i64> = BTreeMap::new();
    let mut pending = Vec::new();
    for w in batch {
        match w {
            Write::Counter(id) => *counters.entry(id).or_default() += 1,
            Write::Run {
                run,
                nodes,
                end,
                done,
            } => pending.push((run, nodes, end, done)),
        }
    }
    let together = || async {
        let txn = db.begin().await?;
        for (&id, &n) in &counters {
            workflows::increment_counter_by(&txn, id, n).await?;
        }
        let ids = insert(&txn, &pending).await?;
        txn.commit().await?;
        Ok::<_, DbErr>(ids)
    };
    // A failure that is not the data's (a lock held by another process, a dropped connection)
    // usually passes: the whole batch is tried once more before its writes are tried alone.
    let result = match together().await {
        Err(e) if e.sql_err().is_none() => {
            tracing::warn!(error = %e, "run-log batch failed: trying it again");
            tokio::time::sleep(RETRY_AFTER).await;
            together().await
        }
        other => other,
    };
    match result {
        Ok(ids) => {
            for ((_, _, _, done), id) in pending.into_iter().zip(ids) {
                let _ = done.send(id);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, writes = pending.len(), "run-log batch failed: retrying its writes one by one");
            for (&id, &n) in &counters {
                if let Err(e) = workflows::increment_counter_by(db, id, n).await {
                    tracing::error!(error = %e, workflow_id = id, "run counter update failed");
                }
            }
            for (run, nodes, end, done) in pending {
                let alone = async {
                    let txn = db.begin().await?;
                    let one = [(run, nodes, end, ())];
                    let id = insert(&txn, &one).await?.pop();
                    txn.commit().await?;
                    Ok::<_, DbErr>(id.unwrap_or_else(|| Err("run not inserted".into())))
                };
                let _ = done.send(alone.await.map_err(|e| e.to_string()).and_then(|id| id));
            }
        }
    }
}

/// A run waiting in a batch: its row, its node rows, the end of its job attempt, and `T` (the
/// caller's answer channel, or nothing when the run is written alone).
type Pending<T> = (
    runs::NewRun,
    Vec<runs::NewRunNode>,
    Option<Box<jobs::JobEnd>>,
    T,
);

/// Writes the runs of `pending` in `txn` (see [`runs::insert_runs`]), each after recording its
/// job attempt's end; the run of a job that is no longer its worker's is not logged (answered as
/// an error, inside the `Ok`, so the batch goes on). Answers in `pending`'s order.
async fn insert<T>(
    txn: &sea_orm::DatabaseTransaction,
    pending: &[Pending<T>],
) -> Result<Vec<Result<i64, String>>, DbErr> {
    let mut answers = Vec::with_capacity(pending.len());
    let mut logged = Vec::with_capacity(pending.len());
    let mut slots = Vec::with_capacity(pending.len());
    for (run, nodes, end, _) in pending {
        if let Some(end) = end {
            let now = crate::backend::jobs::now_us();
            if jobs::end(txn, end, now).await?.is_none() {
                answers.push(Err(format!(
                    "{LOST_JOB}: job {} is no longer this worker's (its new owner logs its run)",
                    end.job.id
                )));
                continue;
            }
        }
        slots.push(answers.len());
        answers.push(Ok(0));
        logged.push((run.clone(), nodes.clone()));
    }
    let ids = runs::insert_runs(txn, logged).await?;
    for (slot, id) in slots.into_iter().zip(ids) {
        answers[slot] = Ok(id);
    }
    Ok(answers)
}
