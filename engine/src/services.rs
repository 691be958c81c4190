//! Side-effect seams (STYLE §1): everything the engine does to the outside world goes through
//! these small traits, held as `Arc<dyn Trait>` in [`Services`]. The server implements them
//! (HTTP debug sink, audit log + file log, job queue, wall clock, module enable state); tests use
//! in-memory fakes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::graph::NodeId;

/// ISO-8601 timestamp as PHP's `date('c')` writes it (`2024-11-28T10:00:00+00:00`).
pub fn iso8601(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The stored workflow a run belongs to (the parts the engine reports or logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowInfo {
    /// Database id.
    pub id: i64,
    /// UUID (lower case).
    pub uuid: String,
    /// Name, used in error messages.
    pub name: String,
    /// Trigger id the workflow listens to (`event-publish`, `adhoc_3`…).
    pub trigger_id: String,
    /// Debug mode (spec §11): debug POSTs and verbose logs.
    pub debug_enabled: bool,
}

/// Receives debug-mode reports (spec §11). `path` is MISP's path (`/init?type=blocking`,
/// `/exec/tag-if?result=success`, `/end?outcome=blocked`, `/debug/<module>`); the server POSTs
/// `body` to `<Plugin.Workflow_debug_url>/<trigger_id><path>`. Failures are the sink's business:
/// a debug report never changes a run's outcome.
#[async_trait]
pub trait DebugSink: Send + Sync {
    /// Delivers one report.
    async fn post(&self, trigger_id: &str, path: &str, body: Value);
}

/// Severity of a run-log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Verbose line written only for workflows in debug mode.
    Debug,
    /// Always written (failures, errors).
    Error,
}

/// One execution-log record (spec §12): an audit-log entry (`SYSTEM`, action `execute_workflow`,
/// model `Workflow`, model_id = workflow id) and a line of `workflow-execution.log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Workflow id (audit `model_id`).
    pub workflow_id: i64,
    /// Trigger id, for the file line.
    pub trigger_id: String,
    /// Debug-only or always.
    pub level: LogLevel,
    /// Audit action (`execute_workflow`).
    pub action: String,
    /// MISP's message text.
    pub message: String,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
}

impl LogRecord {
    /// The `workflow-execution.log` line: `[YYYY-MM-DD HH:MM:SS] Workflow(<trigger>:<id>). <message>`.
    pub fn file_line(&self) -> String {
        let t = self.timestamp;
        format!(
            "[{:04}-{:02}-{:02} {:02}:{:02}:{:02}] Workflow({}:{}). {}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            self.trigger_id,
            self.workflow_id,
            self.message
        )
    }
}

/// Receives execution-log records and the run counter (spec §6.2 step 2, §12).
#[async_trait]
pub trait RunLog: Send + Sync {
    /// Writes one record.
    async fn record(&self, record: LogRecord);
    /// Adds one to the workflow's `counter` (every run, even failed ones).
    async fn increment_counter(&self, workflow_id: i64);
}

/// A concurrent-task job (spec §6.5): walk from `start_node` as a non-blocking path on `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcurrentJob {
    /// Workflow to load again when the job runs.
    pub workflow_id: i64,
    /// The `concurrent-task` node that queued the job.
    pub from_node: NodeId,
    /// Node the walk starts at.
    pub start_node: NodeId,
    /// JSON snapshot of the roaming data when the job was queued.
    pub data: Value,
}

/// Why a job could not be queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not queue concurrent task: {0}")]
pub struct QueueError(pub String);

/// Background job queue for concurrent tasks (MISP queue `prio`, type `workflowParallelTask`).
#[async_trait]
pub trait TaskQueue: Send + Sync {
    /// Queues a job; the worker later calls [`crate::Engine::resume`].
    async fn enqueue(&self, job: ConcurrentJob) -> Result<(), QueueError>;
}

/// Time source: wall time for timestamps, monotonic time for durations and budgets.
pub trait Clock: Send + Sync {
    /// Current wall-clock time (UTC).
    fn now(&self) -> OffsetDateTime;
    /// Monotonic time since an arbitrary origin.
    fn monotonic(&self) -> Duration;
}

/// Module enable state (MISP's Redis set `workflow:modules_enabled`), owned by the server.
pub trait ModuleSwitches: Send + Sync {
    /// True when the logic/action module may run.
    fn is_enabled(&self, module_id: &str) -> bool;
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// Every module enabled.
#[derive(Debug, Default)]
pub struct AllEnabled;

impl ModuleSwitches for AllEnabled {
    fn is_enabled(&self, _module_id: &str) -> bool {
        true
    }
}

/// Discards debug reports and log records; for benches and callers without a sink.
#[derive(Debug, Default)]
pub struct NoopSinks;

#[async_trait]
impl DebugSink for NoopSinks {
    async fn post(&self, _trigger_id: &str, _path: &str, _body: Value) {}
}

#[async_trait]
impl RunLog for NoopSinks {
    async fn record(&self, _record: LogRecord) {}
    async fn increment_counter(&self, _workflow_id: i64) {}
}

#[async_trait]
impl TaskQueue for NoopSinks {
    async fn enqueue(&self, _job: ConcurrentJob) -> Result<(), QueueError> {
        Err(QueueError("no task queue configured".into()))
    }
}

/// The engine's handles on the outside world.
#[derive(Clone)]
pub struct Services {
    /// Debug-mode reports.
    pub debug: Arc<dyn DebugSink>,
    /// Execution log and run counter.
    pub log: Arc<dyn RunLog>,
    /// Concurrent-task jobs.
    pub queue: Arc<dyn TaskQueue>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Module enable state.
    pub switches: Arc<dyn ModuleSwitches>,
}

impl Services {
    /// Services that do nothing: no debug sink, no log, no queue, all modules enabled.
    pub fn noop() -> Self {
        let sinks = Arc::new(NoopSinks);
        Services {
            debug: sinks.clone(),
            log: sinks.clone(),
            queue: sinks,
            clock: Arc::new(SystemClock::default()),
            switches: Arc::new(AllEnabled),
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Services { .. }")
    }
}

#[cfg(test)]
pub(crate) mod fakes {
    //! In-memory fakes recording everything the engine sends out.
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct Recorder {
        pub debug: Mutex<Vec<(String, String, Value)>>,
        pub logs: Mutex<Vec<LogRecord>>,
        pub counter: Mutex<u32>,
        pub jobs: Mutex<Vec<ConcurrentJob>>,
        pub disabled: Mutex<HashSet<String>>,
    }

    #[async_trait]
    impl DebugSink for Recorder {
        async fn post(&self, trigger_id: &str, path: &str, body: Value) {
            if let Ok(mut d) = self.debug.lock() {
                d.push((trigger_id.to_owned(), path.to_owned(), body));
            }
        }
    }

    #[async_trait]
    impl RunLog for Recorder {
        async fn record(&self, record: LogRecord) {
            if let Ok(mut l) = self.logs.lock() {
                l.push(record);
            }
        }
        async fn increment_counter(&self, _workflow_id: i64) {
            if let Ok(mut c) = self.counter.lock() {
                *c += 1;
            }
        }
    }

    #[async_trait]
    impl TaskQueue for Recorder {
        async fn enqueue(&self, job: ConcurrentJob) -> Result<(), QueueError> {
            self.jobs
                .lock()
                .map_err(|_| QueueError("poisoned".into()))?
                .push(job);
            Ok(())
        }
    }

    impl ModuleSwitches for Recorder {
        fn is_enabled(&self, module_id: &str) -> bool {
            self.disabled
                .lock()
                .map(|d| !d.contains(module_id))
                .unwrap_or(true)
        }
    }

    /// A clock that moves `step` forward on every monotonic read.
    pub struct SteppingClock {
        pub step: Duration,
        pub now: Mutex<Duration>,
    }

    impl Clock for SteppingClock {
        fn now(&self) -> OffsetDateTime {
            OffsetDateTime::UNIX_EPOCH
        }
        fn monotonic(&self) -> Duration {
            match self.now.lock() {
                Ok(mut n) => {
                    *n += self.step;
                    *n
                }
                Err(_) => Duration::ZERO,
            }
        }
    }

    pub fn services(rec: &Arc<Recorder>) -> Services {
        Services {
            debug: rec.clone(),
            log: rec.clone(),
            queue: rec.clone(),
            clock: Arc::new(SystemClock::default()),
            switches: rec.clone(),
        }
    }

    /// Runs a future to completion on the current thread (no runtime needed by the engine).
    pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
        use std::task::{Context, Poll, Wake, Waker};
        struct ThreadWaker(std::thread::Thread);
        impl Wake for ThreadWaker {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn s12_file_line_format() {
        let r = LogRecord {
            workflow_id: 7,
            trigger_id: "event-publish".into(),
            level: LogLevel::Error,
            action: "execute_workflow".into(),
            message: "Execution stopped. x".into(),
            timestamp: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            r.file_line(),
            "[1970-01-01 00:00:00] Workflow(event-publish:7). Execution stopped. x"
        );
    }
}
