//! Durable background execution (spec §6.5): the engine's task queue on the database and the
//! workers every server process runs. A concurrent-task node queues a job row; any process's
//! workers claim it (see `store::jobs`), run the branch, keep the run in the run log, and mark
//! the job done, retrying later after a failure (exponential backoff) or dead once it has had its
//! attempts. A worker that dies loses its lease and the job runs again elsewhere (at least once);
//! a graceful shutdown stops claiming, lets running jobs finish within a grace period, and gives
//! the rest back to the queue.
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use engine::services::{ConcurrentJob, QueueError, TaskQueue};
use sea_orm::DatabaseConnection;
use serde_json::{json, Value};
use tokio::sync::{watch, Notify, Semaphore};

use crate::backend::store::jobs;
use crate::backend::AppState;

tokio::task_local! {
    /// The chain depth of the run being executed (the loop guard), so a concurrent-task job
    /// queued by it runs at the same depth.
    pub static CHAIN_DEPTH: u8;
    /// The job attempt being run, for the outward modules it calls.
    static ATTEMPT: Arc<Attempt>;
    /// Set inside a request (see [`wake_after`]): whether it queued a job ([`QUEUED_JOB`]) or
    /// wrote a log row carrying a run ([`CARRIED_RUN`]).
    static QUEUED_HERE: Arc<AtomicU8>;
}

/// A request queued a job: the workers are woken once it answers.
const QUEUED_JOB: u8 = 1;
/// A request wrote an audit row carrying a trigger's run: the log follower is woken once it
/// answers, to queue the run.
const CARRIED_RUN: u8 = 2;

/// What a request wakes once it answers: this process's job workers, its log follower.
#[derive(Clone)]
pub struct Wakes {
    pub jobs: Arc<Notify>,
    pub log: Arc<Notify>,
}

/// Runs `request` with job wakes held back until it has its answer, then wakes this process's
/// idle workers if it queued a job, and its log follower if it wrote a row carrying a run. The
/// workers' first queries (the claim, then the run's) then do not queue on the store ahead of
/// the request's own last ones, and a request that queued nothing wakes nobody. A request that
/// ends otherwise (its client went away, it panicked) still wakes them for what it committed.
pub async fn wake_after<F: std::future::Future>(wakes: &Wakes, request: F) -> F::Output {
    struct WakeWhenOver<'a> {
        wakes: &'a Wakes,
        queued: Arc<AtomicU8>,
    }
    impl Drop for WakeWhenOver<'_> {
        fn drop(&mut self) {
            let queued = self.queued.load(Ordering::Relaxed);
            if queued & QUEUED_JOB != 0 {
                self.wakes.jobs.notify_waiters();
            }
            if queued & CARRIED_RUN != 0 {
                // One follower, maybe busy: the wake waits for its next look.
                self.wakes.log.notify_one();
            }
        }
    }
    let over = WakeWhenOver {
        wakes,
        queued: Arc::default(),
    };
    QUEUED_HERE.scope(over.queued.clone(), request).await
}

fn note(what: u8) {
    let _ = QUEUED_HERE.try_with(|q| q.fetch_or(what, Ordering::Relaxed));
}

fn in_request() -> bool {
    QUEUED_HERE.try_with(|_| ()).is_ok()
}

/// Notes that a job was queued (in a transaction about to commit): inside a request, its
/// workers are woken once it answers; elsewhere [`wake_workers`] wakes them.
pub fn note_queued() {
    note(QUEUED_JOB);
}

/// Notes that an audit row carrying a run was written (in a transaction about to commit):
/// inside a request, the log follower is woken once it answers; elsewhere [`wake_follower`]
/// wakes it.
pub fn note_carried() {
    note(CARRIED_RUN);
}

/// Wakes this process's idle workers after a transaction that queued jobs committed; inside a
/// request, [`wake_after`] does it once the request answers.
pub fn wake_workers(wake: &Notify) {
    if !in_request() {
        wake.notify_waiters();
    }
}

/// Wakes this process's log follower after a transaction that wrote a row carrying a run
/// committed; inside a request, [`wake_after`] does it once the request answers.
pub fn wake_follower(log: &Notify) {
    if !in_request() {
        log.notify_one();
    }
}

/// One attempt of a job, as the code it runs sees it: the job's idempotency key (the same on
/// each attempt, so receivers and the edit ledger can tell a retry), whether a delivery failed
/// in a way worth trying again (unreachable, timed out, 408, 429, 5xx), and the attempt's end,
/// taken by the job's own run so that it is recorded in the run's transaction.
struct Attempt {
    key: String,
    transient: std::sync::atomic::AtomicBool,
    end: std::sync::Mutex<Option<jobs::JobEnd>>,
}

/// The idempotency key of the job being run, if the caller runs inside one.
pub fn idempotency_key() -> Option<String> {
    ATTEMPT.try_with(|a| a.key.clone()).ok()
}

/// The idempotency key of one outward delivery of the job being run: the job's key and
/// `scope` (the node, and which of its deliveries), so that each delivery has its own key,
/// the same on every attempt.
pub fn delivery_key(scope: &str) -> Option<String> {
    idempotency_key().map(|key| format!("{key}:{scope}"))
}

/// Records that a delivery of the running job failed transiently (its attempt is retried).
pub fn note_transient_failure() {
    let _ = ATTEMPT.try_with(|a| {
        a.transient
            .store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

/// Takes the end of the running job's attempt, for the run that records it: the first run of
/// an attempt to start is the job's own (runs it causes inline, such as a blocking trigger,
/// start later and find nothing).
pub fn take_attempt_end() -> Option<PendingEnd> {
    ATTEMPT
        .try_with(|a| a.end.lock().ok().and_then(|mut e| e.take()))
        .ok()
        .flatten()
        .map(PendingEnd)
}

/// The end of a job attempt, to be completed with the run's errors ([`PendingEnd::finish`]).
pub struct PendingEnd(jobs::JobEnd);

impl PendingEnd {
    /// The attempt's end once its run is over: done without errors, else failed (retried when a
    /// delivery failed transiently).
    pub fn finish(self, error: Option<String>) -> jobs::JobEnd {
        let mut end = self.0;
        end.retry = ATTEMPT
            .try_with(|a| a.transient.load(std::sync::atomic::Ordering::Relaxed))
            .unwrap_or(false);
        end.error = error;
        end
    }
}

/// Runs `edit` unless an earlier attempt of the running job already applied it (at-least-once
/// delivery must not apply a store edit twice). `scope` names the edit (node and target); the
/// edit's audit entry notes it in the ledger, in the edit's own transaction
/// ([`note_effect`]). Outside a job, `edit` just runs. Answers `None` when skipped.
pub async fn once<T, E, Fut>(
    db: &DatabaseConnection,
    scope: String,
    edit: Fut,
) -> Result<Option<T>, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
    E: From<sea_orm::DbErr>,
{
    let Some(key) = idempotency_key() else {
        return edit.await.map(Some);
    };
    if jobs::effect_applied(db, &key, &scope).await? {
        tracing::info!(
            job = key,
            scope,
            "store edit already applied by an earlier attempt"
        );
        return Ok(None);
    }
    let effect = Effect {
        key,
        scope,
        noted: Default::default(),
    };
    EFFECT.scope(Some(Arc::new(effect)), edit).await.map(Some)
}

/// The store edit being applied by a job ([`once`]).
struct Effect {
    key: String,
    scope: String,
    /// Whether the ledger row is written (an edit may write several audit entries).
    noted: std::sync::atomic::AtomicBool,
}

tokio::task_local! {
    static EFFECT: Option<Arc<Effect>>;
}

/// Runs `fut` (a write that is not the edit itself, such as the audit entry of a refused edit)
/// without noting anything in the ledger.
pub async fn not_an_edit<F: std::future::Future>(fut: F) -> F::Output {
    EFFECT.scope(None, fut).await
}

/// Notes the store edit being applied by a job in the ledger, on `db` (the edit's transaction);
/// nothing outside [`once`].
pub async fn note_effect(db: &impl sea_orm::ConnectionTrait) -> Result<(), sea_orm::DbErr> {
    let Ok(Some(effect)) = EFFECT.try_with(Clone::clone) else {
        return Ok(());
    };
    if effect.noted.load(Ordering::Acquire) {
        return Ok(());
    }
    jobs::record_effect(db, &effect.key, &effect.scope, now_us()).await?;
    effect.noted.store(true, Ordering::Release);
    Ok(())
}

/// Job kind of a concurrent-task branch.
pub const KIND_CONCURRENT: &str = "concurrent-task";
/// Job kind of a non-blocking trigger's run.
pub const KIND_TRIGGER: &str = "trigger";

/// How the queue and its workers behave.
#[derive(Clone, Debug)]
pub struct JobOptions {
    /// Jobs one process runs at once.
    pub workers: usize,
    /// How long a claimed job stays its worker's without a heartbeat.
    pub lease: Duration,
    /// How often idle workers look for due jobs (a job queued by this process wakes them at
    /// once).
    pub poll: Duration,
    /// Attempts before a job is dead.
    pub max_attempts: i32,
    /// Wait after the first failed attempt; doubled after each.
    pub backoff: Duration,
    /// How long a shutdown waits for running jobs.
    pub grace: Duration,
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions {
            workers: 2,
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            max_attempts: 3,
            backoff: Duration::from_secs(5),
            grace: Duration::from_secs(10),
        }
    }
}

/// A new job's idempotency key: a UUID whose leading bits are the time (version 7), so each
/// new key sorts after the ones before it and its entry is appended to the unique index's last
/// page, which is in cache, instead of landing on a random page of a large index (a random
/// page read and one more page written per queued job).
pub fn new_job_key() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn now_us() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000).unwrap_or(0)
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The engine's task queue: a job row per concurrent-task branch.
pub struct DbTaskQueue {
    db: DatabaseConnection,
    wake: Arc<Notify>,
    max_attempts: i32,
}

impl DbTaskQueue {
    pub fn new(db: DatabaseConnection, wake: Arc<Notify>, max_attempts: i32) -> Self {
        DbTaskQueue {
            db,
            wake,
            max_attempts,
        }
    }
}

#[async_trait]
impl TaskQueue for DbTaskQueue {
    async fn enqueue(&self, job: ConcurrentJob) -> Result<(), QueueError> {
        let depth = CHAIN_DEPTH.try_with(|d| *d).unwrap_or(0);
        let now = now_us();
        jobs::enqueue(
            &self.db,
            jobs::NewJob {
                kind: KIND_CONCURRENT.into(),
                payload: json!({"job": job, "depth": depth}).to_string(),
                idempotency_key: new_job_key(),
                max_attempts: self.max_attempts,
                run_after: now,
            },
            now,
        )
        .await
        .map_err(|e| QueueError(e.to_string()))?;
        self.wake.notify_waiters();
        Ok(())
    }
}

/// This process's workers; [`Workers::shutdown`] stops them gracefully.
pub struct Workers {
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
}

impl Workers {
    /// Starts claiming and running jobs as worker `<pid>-<random>`.
    pub fn start(state: AppState, options: JobOptions) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let name = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let done = tokio::spawn(claim_loop(state, options, name, stopped));
        Workers { stop, done }
    }

    /// Stops claiming, waits up to the grace period for running jobs, gives the others back.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }
}

async fn claim_loop(
    state: AppState,
    options: JobOptions,
    worker: String,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(options.workers.max(1)));
    let running: Arc<std::sync::Mutex<Vec<i64>>> = Arc::default();
    let wake = state.workflows.job_wake.clone();
    let heartbeat = tokio::spawn(heartbeats(
        state.db.clone(),
        worker.clone(),
        running.clone(),
        options.lease,
    ));
    loop {
        if *stopped.borrow() {
            break;
        }
        // Listen for wakes before claiming: a job queued while the claim runs is not missed.
        let waiting = wake.notified();
        tokio::pin!(waiting);
        waiting.as_mut().enable();
        let free = slots.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            let now = now_us();
            jobs::claim(
                &state.db,
                &worker,
                free as u64,
                now + micros(options.lease),
                now,
            )
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not claim jobs");
                Vec::new()
            })
        };
        // Fewer jobs than free workers: none other was due, so rest rather than ask again.
        let drained = claimed.len() < free;
        for job in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            if let Ok(mut r) = running.lock() {
                r.push(job.id);
            }
            let (state, worker, running, options) = (
                state.clone(),
                worker.clone(),
                running.clone(),
                options.clone(),
            );
            tokio::spawn(async move {
                let id = job.id;
                run_one(&state, &worker, job, &options).await;
                if let Ok(mut r) = running.lock() {
                    r.retain(|j| *j != id);
                }
                drop(permit);
            });
        }
        if drained {
            // Nothing more due: until a job is queued here, the next poll, or the stop.
            tokio::select! {
                () = waiting => {}
                () = tokio::time::sleep(options.poll) => {}
                _ = stopped.changed() => {}
            }
        } else if slots.available_permits() == 0 {
            // Every worker busy and maybe more due: claim again as soon as one is free.
            tokio::select! {
                freed = slots.clone().acquire_owned() => drop(freed),
                _ = stopped.changed() => {}
            }
        }
    }
    // Graceful shutdown: running jobs may finish within the grace period.
    let all = u32::try_from(options.workers.max(1)).unwrap_or(u32::MAX);
    let finished = tokio::time::timeout(options.grace, slots.acquire_many(all)).await;
    heartbeat.abort();
    if finished.is_err() {
        match jobs::release(&state.db, &worker, now_us()).await {
            Ok(n) => tracing::info!(jobs = n, "running jobs given back to the queue"),
            Err(e) => tracing::warn!(error = %e, "could not give running jobs back"),
        }
    }
}

/// Keeps the leases of this worker's running jobs alive.
async fn heartbeats(
    db: DatabaseConnection,
    worker: String,
    running: Arc<std::sync::Mutex<Vec<i64>>>,
    lease: Duration,
) {
    let mut tick = tokio::time::interval(lease / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let ids = running.lock().map(|r| r.clone()).unwrap_or_default();
        let now = now_us();
        if let Err(e) = jobs::heartbeat(&db, &worker, &ids, now + micros(lease), now).await {
            tracing::warn!(error = %e, "could not extend job leases");
        }
    }
}

async fn run_one(
    state: &AppState,
    worker: &str,
    job: crate::backend::entities::workflow_job::Model,
    options: &JobOptions,
) {
    let attempt = Arc::new(Attempt {
        key: job.idempotency_key.clone(),
        transient: std::sync::atomic::AtomicBool::new(false),
        end: std::sync::Mutex::new(Some(jobs::JobEnd {
            job: job.clone(),
            worker: worker.to_owned(),
            error: None,
            retry: false,
            backoff_base_us: micros(options.backoff),
        })),
    });
    let result = ATTEMPT
        .scope(attempt.clone(), async {
            match job.kind.as_str() {
                KIND_CONCURRENT => run_concurrent(state, &job.payload).await,
                KIND_TRIGGER => {
                    match crate::backend::services::hooks::run_trigger_job(state, &job.payload)
                        .await
                    {
                        Ok(outcome) => outcome,
                        // A store failure (logged where it happened) may pass.
                        Err(crate::error::AppError::Internal) => {
                            Err(format!("{TRANSIENT}{}", crate::error::AppError::Internal))
                        }
                        Err(e) => Err(e.to_string()),
                    }
                }
                other => Err(format!("unknown job kind `{other}`")),
            }
        })
        .await;
    // A run that recorded the end with itself is over (recording it again could end a later
    // attempt); otherwise (no run, or its record failed) the end is recorded here. Only
    // transient failures are tried again.
    let recorded = attempt.end.lock().map(|e| e.is_none()).unwrap_or(false);
    if recorded {
        return;
    }
    let end = jobs::JobEnd {
        job: job.clone(),
        worker: worker.to_owned(),
        error: result.as_ref().err().cloned(),
        retry: attempt.transient.load(std::sync::atomic::Ordering::Relaxed)
            || matches!(&result, Err(e) if e.starts_with(TRANSIENT)),
        backoff_base_us: micros(options.backoff),
    };
    match jobs::end(&state.db, &end, now_us()).await {
        Ok(Some(status)) if status != jobs::DONE => {
            tracing::warn!(job = job.id, attempt = job.attempts, status, error = ?end.error, "job failed");
        }
        Ok(Some(_)) => {}
        Ok(None) => tracing::warn!(job = job.id, "job finished after its lease passed"),
        Err(e) => tracing::warn!(job = job.id, error = %e, "could not record the job's end"),
    }
}

/// Prefix of a job error worth another attempt that no delivery noted (the database was
/// unavailable, say).
pub const TRANSIENT: &str = "transient: ";

async fn run_concurrent(state: &AppState, payload: &str) -> Result<(), String> {
    let payload: Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let job: ConcurrentJob =
        serde_json::from_value(payload["job"].clone()).map_err(|e| e.to_string())?;
    let depth = payload["depth"]
        .as_u64()
        .and_then(|d| u8::try_from(d).ok())
        .unwrap_or(0);
    crate::backend::services::workflows::run_concurrent_job(state, job, depth)
        .await
        .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Waker};

    /// Whether `wait` has been woken (polled once, without waiting).
    fn woken<F: Future>(wait: Pin<&mut F>) -> bool {
        wait.poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    }

    #[tokio::test]
    async fn a_request_wakes_the_workers_once_it_answers_and_only_if_it_queued_a_job() {
        let wakes = Wakes {
            jobs: Arc::new(Notify::new()),
            log: Arc::new(Notify::new()),
        };
        let wake = &*wakes.jobs;
        let waiting = wake.notified();
        tokio::pin!(waiting);
        waiting.as_mut().enable();
        let answer = wake_after(&wakes, async {
            note_queued();
            wake_workers(wake);
            // Not yet: the request has not answered.
            assert!(!woken(waiting.as_mut()));
            7
        })
        .await;
        assert_eq!(answer, 7);
        assert!(woken(waiting.as_mut()), "woken once it answered");

        let idle = wake.notified();
        tokio::pin!(idle);
        idle.as_mut().enable();
        wake_after(&wakes, async { wake_workers(wake) }).await;
        assert!(
            !woken(idle.as_mut()),
            "a request that queued nothing wakes nobody"
        );
        // Outside a request (a workflow module's action in a job, the log follower), at once.
        wake_workers(wake);
        assert!(woken(idle.as_mut()));

        // A request dropped after it queued (its client went away) still wakes them.
        let cancelled = wake.notified();
        tokio::pin!(cancelled);
        cancelled.as_mut().enable();
        {
            let request = wake_after(&wakes, async {
                note_queued();
                std::future::pending::<()>().await
            });
            tokio::pin!(request);
            assert!(!woken(request.as_mut()));
            assert!(!woken(cancelled.as_mut()));
        }
        assert!(
            woken(cancelled.as_mut()),
            "woken when the request was dropped"
        );
    }

    #[tokio::test]
    async fn a_request_that_carried_a_run_wakes_the_log_follower_once_it_answers() {
        let wakes = Wakes {
            jobs: Arc::new(Notify::new()),
            log: Arc::new(Notify::new()),
        };
        let jobs = wakes.jobs.notified();
        tokio::pin!(jobs);
        jobs.as_mut().enable();
        wake_after(&wakes, async {
            note_carried();
            wake_follower(&wakes.log);
            // Not yet: the follower's permit is given once the request answers.
            let early = wakes.log.notified();
            tokio::pin!(early);
            assert!(!woken(early.as_mut()));
        })
        .await;
        // The follower was busy: the wake waits for it (a permit), the workers were not woken.
        let follower = wakes.log.notified();
        tokio::pin!(follower);
        assert!(woken(follower.as_mut()), "the follower finds the wake");
        assert!(!woken(jobs.as_mut()), "a carried run wakes no worker");

        // Nothing carried: no permit left behind.
        wake_after(&wakes, async {}).await;
        let none = wakes.log.notified();
        tokio::pin!(none);
        assert!(!woken(none.as_mut()));
        // Outside a request, at once.
        wake_follower(&wakes.log);
        assert!(woken(none.as_mut()));
    }
}
