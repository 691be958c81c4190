//! Group commit for the run log and the run counters.
//!
//! Every workflow run writes a run row (its nodes inline, or, for a debug run, as node rows) and a
//! counter increment. Written one transaction per run, the commits serialise on the database (one
//! connection on SQLite) and cap a busy server at a few thousand runs per second whatever the
//! engine does. One writer task instead takes every write queued while the previous transaction
//! was committing and commits them together.
//!
//! A run is named before it is written: its id is taken ahead from the database's own id
//! generator ([`runs::reserve_run_ids`], a block at a time), so the REST answer carries the id
//! without waiting for the commit, and an action gated by a workflow is not held up by the log.
//! The writer gathers writes for [`LINGER`] before each commit. Whoever reads the log or the
//! counters first calls [`RunWriter::settle`], which returns once everything queued before it is
//! committed: a client that reads the run named in an answer from this process finds it
//! (another process sharing the store sees it once the batch is committed, milliseconds later).
//! At most [`MAX_QUEUED`] runs wait to be written; past that, loggers wait for room. The run of
//! a queued job is the exception: it is committed together with the end of the job's attempt,
//! and its caller waits for that commit.
//!
//! Writes are applied in the order they were queued, so a counter increment queued when a run
//! starts is committed no later than that run's row. A batch that fails for a reason outside
//! its data is tried again once; if it still fails, its writes are tried one by one, so one bad
//! row only loses (and logs an error for) itself.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::backend::store::{jobs, runs, workflows};

/// Writes taken into one transaction at most (bounds a commit's latency under a burst).
const MAX_BATCH: usize = 256;
/// How long the writer gathers writes after the first one of a batch. Nobody waits on a logged
/// run, so a short pause costs nothing and, under load, turns one commit (and its thread
/// hand-offs) per few runs into one per pause. A reader's [`RunWriter::settle`] waits for it.
const LINGER: std::time::Duration = std::time::Duration::from_millis(2);
/// Runs queued and not yet committed at most: past this, loggers wait for the writer, so a store
/// slower than the runs holds the runs back instead of filling memory.
const MAX_QUEUED: usize = 4_096;
/// Pause before a failed batch is tried again.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(50);

/// The start of the answer for a run whose job was claimed by another worker meanwhile (its
/// lease passed, or a shutdown gave it back): the run is not logged.
pub const LOST_JOB: &str = "run not logged";

enum Write {
    Counter(i32),
    Run(Box<QueuedRun>),
    /// Told once every write queued before it is committed (or has failed).
    Settle(oneshot::Sender<()>),
}

struct QueuedRun {
    id: i64,
    run: runs::NewRun,
    nodes: Vec<runs::NewRunNode>,
    /// The end of the job attempt the run belongs to, recorded in the same transaction.
    end: Option<Box<jobs::JobEnd>>,
    /// Told when the run is committed, for a caller that waits.
    done: Answer,
    /// The run's place in the queue, given back once it is written.
    _place: OwnedSemaphorePermit,
}

/// Run ids taken ahead from the store, handed out one per run.
#[derive(Default)]
struct RunIds {
    free: std::sync::Mutex<VecDeque<i64>>,
    /// Held while a block is being taken, so concurrent callers take one block, not one each.
    refill: Arc<tokio::sync::Mutex<()>>,
}

/// Run ids taken from the store at a time.
const ID_BLOCK: u32 = 1024;
/// Ids left when the next block is taken in the background, so that runs seldom wait for one.
const ID_LOW: usize = 256;

impl RunIds {
    /// An id if one is left, and how many are left after it.
    fn pop(&self) -> Option<(i64, usize)> {
        let mut free = self.free.lock().ok()?;
        free.pop_front().map(|id| (id, free.len()))
    }

    async fn take_block(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let ids = runs::reserve_run_ids(db, ID_BLOCK).await?;
        self.free
            .lock()
            .map_err(|_| DbErr::Custom("the run id block is poisoned".into()))?
            .extend(ids);
        Ok(())
    }

    /// An id if one is left, without waiting; the next block is taken in the background when few
    /// are left.
    fn take_now(self: &Arc<Self>, db: &DatabaseConnection) -> Option<i64> {
        let (id, left) = self.pop()?;
        if left < ID_LOW {
            if let Ok(refilling) = self.refill.clone().try_lock_owned() {
                let (ids, db) = (self.clone(), db.clone());
                tokio::spawn(async move {
                    if ids.left() < ID_LOW {
                        if let Err(e) = ids.take_block(&db).await {
                            tracing::warn!(error = %e, "cannot take run ids ahead");
                        }
                    }
                    drop(refilling);
                });
            }
        }
        Some(id)
    }

    /// The next id, after taking a block if none is left.
    async fn next(self: &Arc<Self>, db: &DatabaseConnection) -> Result<i64, DbErr> {
        loop {
            if let Some(id) = self.take_now(db) {
                return Ok(id);
            }
            let _refilling = self.refill.lock().await;
            if self.left() == 0 {
                self.take_block(db).await?;
            }
        }
    }

    /// How many ids are left.
    fn left(&self) -> usize {
        self.free.lock().map(|f| f.len()).unwrap_or(0)
    }
}

/// Waits for a first item, then gathers what else arrives within `linger`, up to `max` in all;
/// `false` once the channel is closed and empty. For writers whose callers do not wait: under
/// load they wake once per `linger` instead of once per item.
pub(crate) async fn gather<T>(
    rx: &mut mpsc::UnboundedReceiver<T>,
    batch: &mut Vec<T>,
    max: usize,
    linger: std::time::Duration,
) -> bool {
    if rx.recv_many(batch, max).await == 0 {
        return false;
    }
    if batch.len() < max {
        tokio::time::sleep(linger).await;
        while batch.len() < max {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
    }
    true
}

fn stopped() -> DbErr {
    DbErr::Custom("the run-log writer has stopped".into())
}

/// The queue in front of the writer task (cheap to clone: every field is a handle).
#[derive(Clone)]
pub struct RunWriter {
    queue: mpsc::UnboundedSender<Write>,
    db: DatabaseConnection,
    ids: Arc<RunIds>,
    room: Arc<Semaphore>,
    /// Runs and counts queued and not yet through a commit (written or failed).
    unsettled: Arc<AtomicUsize>,
}

impl RunWriter {
    /// Starts the writer task on `db`; it ends when the writer is dropped.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, mut rx) = mpsc::unbounded_channel::<Write>();
        let writer_db = db.clone();
        let unsettled = Arc::new(AtomicUsize::new(0));
        let writer_unsettled = unsettled.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while gather(&mut rx, &mut batch, MAX_BATCH, LINGER).await {
                let writes = batch
                    .iter()
                    .filter(|w| !matches!(w, Write::Settle(_)))
                    .count();
                // In a task of its own, so that a panic fails only this batch's callers (their
                // answers are dropped: "the run-log writer has stopped") and the writer goes on.
                let taken = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
                if let Err(e) = tokio::spawn(commit(writer_db.clone(), taken)).await {
                    tracing::error!(error = %e, "a run-log batch panicked");
                }
                writer_unsettled.fetch_sub(writes, Ordering::AcqRel);
            }
        });
        Self {
            queue,
            db,
            ids: Arc::default(),
            room: Arc::new(Semaphore::new(MAX_QUEUED)),
            unsettled,
        }
    }

    fn send(&self, write: Write) -> Result<(), DbErr> {
        self.unsettled.fetch_add(1, Ordering::AcqRel);
        self.queue.send(write).map_err(|_| {
            self.unsettled.fetch_sub(1, Ordering::AcqRel);
            stopped()
        })
    }

    /// Counts one run of workflow `workflow_id` (committed with the next batch).
    pub fn count(&self, workflow_id: i32) {
        let _ = self.send(Write::Counter(workflow_id));
    }

    /// Logs a run with its nodes, committed with the next batch; answers the id it is logged
    /// under at once (see the module's notes).
    pub async fn log(&self, run: runs::NewRun, nodes: Vec<runs::NewRunNode>) -> Result<i64, DbErr> {
        self.enqueue(run, nodes, None, None).await
    }

    /// Logs the run of a queued job together with the end of its attempt, so the run log holds
    /// a job's run exactly when the job has left the running state; a job that is no longer this
    /// worker's is not logged (its new owner logs it). Answers the run's id once committed.
    pub async fn log_job_run(
        &self,
        run: runs::NewRun,
        nodes: Vec<runs::NewRunNode>,
        end: jobs::JobEnd,
    ) -> Result<i64, DbErr> {
        let (done, answer) = oneshot::channel();
        let id = self
            .enqueue(run, nodes, Some(Box::new(end)), Some(done))
            .await?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(DbErr::Custom)?;
        Ok(id)
    }

    /// Queues a run under a fresh id. While there is room in the queue and an id at hand (nearly
    /// always), in the same poll that called it; otherwise in a task of its own that waits for
    /// them, so that a caller dropped meanwhile (a client gone) still gets its finished run
    /// logged.
    async fn enqueue(
        &self,
        run: runs::NewRun,
        nodes: Vec<runs::NewRunNode>,
        end: Option<Box<jobs::JobEnd>>,
        done: Answer,
    ) -> Result<i64, DbErr> {
        let queued = |id, place| {
            Write::Run(Box::new(QueuedRun {
                id,
                run,
                nodes,
                end,
                done,
                _place: place,
            }))
        };
        let place = self.room.clone().try_acquire_owned().ok();
        if let Some(place) = place {
            if let Some(id) = self.ids.take_now(&self.db) {
                self.send(queued(id, place))?;
                return Ok(id);
            }
        }
        let writer = self.clone();
        tokio::spawn(async move {
            let place = writer
                .room
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| stopped())?;
            let id = writer.ids.next(&writer.db).await?;
            writer.send(queued(id, place))?;
            Ok(id)
        })
        .await
        .map_err(|e| DbErr::Custom(format!("queueing a run failed: {e}")))?
    }

    /// Returns once every run and counter queued before the call is committed (or has failed
    /// and been reported): what a reader of the run log or the counters calls first. At once
    /// when nothing is queued.
    pub async fn settle(&self) {
        if self.unsettled.load(Ordering::Acquire) == 0 {
            return;
        }
        let (done, answer) = oneshot::channel();
        if self.queue.send(Write::Settle(done)).is_ok() {
            let _ = answer.await;
        }
    }
}

/// Told when a run is committed, for a caller that waits.
type Answer = Option<oneshot::Sender<Result<(), String>>>;

async fn commit(db: DatabaseConnection, batch: Vec<Write>) {
    let mut counters: BTreeMap<i32, i64> = BTreeMap::new();
    // Each run keeps its place in the queue until this batch is done, written or not.
    let mut pending: Vec<QueuedRun> = Vec::new();
    let mut settled = Vec::new();
    for w in batch {
        match w {
            Write::Counter(id) => *counters.entry(id).or_default() += 1,
            Write::Run(run) => pending.push(*run),
            Write::Settle(done) => settled.push(done),
        }
    }
    if !counters.is_empty() || !pending.is_empty() {
        write(&db, &counters, pending).await;
    }
    for done in settled {
        let _ = done.send(());
    }
}

/// Writes a batch's counters and runs in one transaction, answering each waiting caller.
async fn write(db: &DatabaseConnection, counters: &BTreeMap<i32, i64>, pending: Vec<QueuedRun>) {
    let together = || async {
        let txn = db.begin().await?;
        for (&id, &n) in counters {
            workflows::increment_counter_by(&txn, id, n).await?;
        }
        let answers = insert(&txn, &pending).await?;
        txn.commit().await?;
        Ok::<_, DbErr>(answers)
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
        Ok(answers) => {
            for (queued, answer) in pending.into_iter().zip(answers) {
                answer_run(queued.done, answer);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, writes = pending.len(), "run-log batch failed: retrying its writes one by one");
            for (&id, &n) in counters {
                if let Err(e) = workflows::increment_counter_by(db, id, n).await {
                    tracing::error!(error = %e, workflow_id = id, "run counter update failed");
                }
            }
            for queued in pending {
                let alone = async {
                    let txn = db.begin().await?;
                    let answer = insert(&txn, std::slice::from_ref(&queued)).await?.pop();
                    txn.commit().await?;
                    Ok::<_, DbErr>(answer.unwrap_or_else(|| Err("run not inserted".into())))
                };
                let answer = alone.await.map_err(|e| e.to_string()).and_then(|a| a);
                if let Err(e) = &answer {
                    if !e.starts_with(LOST_JOB) {
                        tracing::error!(error = %e, run_id = queued.id, "a run could not be logged");
                    }
                }
                answer_run(queued.done, answer);
            }
        }
    }
}

fn answer_run(done: Answer, answer: Result<(), String>) {
    if let Some(done) = done {
        let _ = done.send(answer);
    }
}

/// Writes the runs of `pending` in `txn` (see [`runs::insert_runs`]), each after recording its
/// job attempt's end; the run of a job that is no longer its worker's is not logged (answered as
/// an error, inside the `Ok`, so the batch goes on). Answers in `pending`'s order.
async fn insert(
    txn: &sea_orm::DatabaseTransaction,
    pending: &[QueuedRun],
) -> Result<Vec<Result<(), String>>, DbErr> {
    let mut answers = Vec::with_capacity(pending.len());
    let mut logged = Vec::with_capacity(pending.len());
    for queued in pending {
        if let Some(end) = &queued.end {
            let now = crate::backend::jobs::now_us();
            if jobs::end(txn, end, now).await?.is_none() {
                answers.push(Err(format!(
                    "{LOST_JOB}: job {} is no longer this worker's (its new owner logs its run)",
                    end.job.id
                )));
                continue;
            }
        }
        answers.push(Ok(()));
        logged.push((queued.id, queued.run.clone(), queued.nodes.clone()));
    }
    runs::insert_runs(txn, logged).await?;
    Ok(answers)
}
