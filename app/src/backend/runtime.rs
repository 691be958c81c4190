//! The workflow engine as the server runs it: one registry and engine built at start-up,
//! module enable state cached in memory and persisted in the database, the run counter and
//! execution-log lines written through the engine's traits.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use engine::services::{LogLevel, LogRecord, SystemClock};
use engine::{Engine, ModuleSwitches, Registry, RunLog, Services};
use sea_orm::DatabaseConnection;

use crate::backend::cache::{FreshCache, Generation};
use crate::backend::store::module_states;
use crate::error::AppError;

/// Logic and action modules enabled on a fresh install, as in MISP.
pub const ENABLED_AT_INSTALL: [&str; 9] = [
    "generic-if",
    "distribution-if",
    "published-if",
    "organisation-if",
    "tag-if",
    "concurrent-task",
    "stop-execution",
    "webhook",
    "push-zmq",
];

/// Module enable state: the database is the truth, this cache answers the engine's per-node
/// question without a query.
#[derive(Default)]
pub struct ModuleStates {
    stored: RwLock<HashMap<String, bool>>,
    /// When `stored` was last read from the database.
    read_at: std::sync::Mutex<Option<std::time::Instant>>,
    /// Bumped whenever `stored` changes.
    version: std::sync::atomic::AtomicU64,
}

/// How stale the module switches may be when a run starts: switches flipped by this process are
/// in the cache at once ([`ModuleStates::remember`]); another process's within this time.
pub const MODULE_STATES_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(1);

impl ModuleStates {
    pub async fn load(db: &DatabaseConnection) -> Result<Self, AppError> {
        let stored = module_states::list_module_states(db)
            .await?
            .into_iter()
            .collect();
        Ok(Self {
            stored: RwLock::new(stored),
            read_at: std::sync::Mutex::new(Some(std::time::Instant::now())),
            version: Default::default(),
        })
    }

    /// Persists a switch, then updates the cache.
    /// Re-reads every switch (one query on a small table), so a switch flipped by another
    /// server process on the same database takes effect here too.
    pub async fn refresh(&self, db: &DatabaseConnection) -> Result<(), AppError> {
        let before = self.version();
        let fresh: HashMap<String, bool> = module_states::list_module_states(db)
            .await?
            .into_iter()
            .collect();
        if let Ok(mut stored) = self.stored.write() {
            // A switch remembered (or another refresh stored) while this one was reading is
            // newer than what it read: keep it, and let the next run read again.
            if self.version() != before {
                return Ok(());
            }
            if *stored != fresh {
                *stored = fresh;
                self.version
                    .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            }
        }
        if let Ok(mut at) = self.read_at.lock() {
            *at = Some(std::time::Instant::now());
        }
        Ok(())
    }

    /// [`ModuleStates::refresh`] when the switches were last read more than `max_age` ago (what
    /// a run does, so that runs do not cost a query each).
    pub async fn refresh_if_older(
        &self,
        db: &DatabaseConnection,
        max_age: std::time::Duration,
    ) -> Result<(), AppError> {
        let fresh = self
            .read_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < max_age);
        if fresh {
            return Ok(());
        }
        self.refresh(db).await
    }

    /// Records a switch already written to the database (after its transaction committed).
    pub fn remember(&self, module_id: &str, enabled: bool) {
        if let Ok(mut stored) = self.stored.write() {
            stored.insert(module_id.to_owned(), enabled);
            self.version
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
    }

    /// Changes whenever a switch does (what validation results cached against them depend on).
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl ModuleSwitches for ModuleStates {
    fn is_enabled(&self, module_id: &str) -> bool {
        let stored = self
            .stored
            .read()
            .ok()
            .and_then(|s| s.get(module_id).copied());
        stored.unwrap_or_else(|| ENABLED_AT_INSTALL.contains(&module_id))
    }
}

/// The HTTP client for calls out of Flowgate (debug sink; later webhooks and misp-modules):
/// HTTP and HTTPS (rustls, peers verified against the system's CA store), `timeout` per request.
pub fn outbound_client(timeout: std::time::Duration) -> reqwest::Client {
    let builder = || {
        reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("Flowgate/", env!("CARGO_PKG_VERSION")))
    };
    builder().build().unwrap_or_else(|e| {
        // Only an unreadable CA store gets here: keep HTTP working and say why HTTPS will not.
        tracing::error!(error = %e, "system CA certificates unusable: HTTPS peers cannot be verified");
        builder()
            .tls_built_in_root_certs(false)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    })
}

/// Debug mode (spec §11): each report is POSTed to `<Plugin.Workflow_debug_url>/<trigger_id><path>`
/// with a 5-second timeout. Reports go through a queue to one delivery task, so they arrive in
/// order and a slow or dead sink never delays a run; when the queue is full, reports are dropped
/// with a warning.
pub struct HttpDebugSink {
    queue: tokio::sync::mpsc::Sender<(String, String, serde_json::Value)>,
}

/// Reports waiting for delivery before new ones are dropped.
const DEBUG_QUEUE: usize = 1024;
/// MISP's timeout for a debug POST.
pub const DEBUG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl HttpDebugSink {
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, mut reports) =
            tokio::sync::mpsc::channel::<(String, String, serde_json::Value)>(DEBUG_QUEUE);
        let client = outbound_client(DEBUG_TIMEOUT);
        tokio::spawn(async move {
            while let Some((trigger_id, path, body)) = reports.recv().await {
                let base = match crate::backend::store::settings::find_setting(
                    &db,
                    "Plugin.Workflow_debug_url",
                )
                .await
                {
                    Ok(Some(serde_json::Value::String(url))) => url,
                    _ => "http://127.0.0.1:27051".to_owned(),
                };
                let url = format!("{}/{trigger_id}{path}", base.trim_end_matches('/'));
                if let Err(e) = client.post(&url).json(&body).send().await {
                    tracing::warn!(target: "workflow", %url, error = %e, "debug report not delivered");
                }
            }
        });
        Self { queue }
    }
}

#[async_trait::async_trait]
impl engine::DebugSink for HttpDebugSink {
    async fn post(&self, trigger_id: &str, path: &str, body: serde_json::Value) {
        if self
            .queue
            .try_send((trigger_id.to_owned(), path.to_owned(), body))
            .is_err()
        {
            tracing::warn!(target: "workflow", trigger_id, path, "debug report dropped: the debug sink is not keeping up");
        }
    }
}

/// Counter in the `workflows` row; log records as lines of MISP's `workflow-execution.log`
/// (spec §12), appended by one writer task, and in the `workflow` tracing target.
struct DbRunLog {
    runs: Arc<crate::backend::run_writer::RunWriter>,
    file: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

/// Appends lines to `path` (folder created if missing) from a channel, in order.
///
/// The writes are plain `write(2)` calls on the writer task's thread, not hops to tokio's
/// blocking pool: appending a few hundred bytes to a local file returns from the page cache in
/// microseconds, while a hop to the pool wakes a thread per batch (under load that hand-off cost
/// more than the write; see the README's performance section). Lines queued while a write ran go
/// out in the next one.
fn start_log_file(path: std::path::PathBuf) -> tokio::sync::mpsc::UnboundedSender<String> {
    use std::io::Write;
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        let mut file = match file {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "cannot open the workflow execution log");
                return;
            }
        };
        let (mut batch, mut text) = (Vec::new(), String::new());
        // Lines are gathered for a few milliseconds, so a busy server appends once per pause
        // rather than once per run (a line waits no longer than a run-log row).
        let linger = std::time::Duration::from_millis(2);
        while crate::backend::run_writer::gather(&mut lines, &mut batch, 1024, linger).await {
            text.clear();
            for line in batch.drain(..) {
                text.push_str(&line);
                text.push('\n');
            }
            if let Err(e) = file.write_all(text.as_bytes()) {
                tracing::error!(path = %path.display(), error = %e, "cannot write the workflow execution log");
            }
        }
    });
    tx
}

#[async_trait::async_trait]
impl RunLog for DbRunLog {
    async fn record(&self, record: LogRecord) {
        let line = record.file_line();
        match record.level {
            LogLevel::Debug => tracing::debug!(target: "workflow", "{line}"),
            // A stopped or failed run is an outcome, kept in the run log and the file: not a
            // server warning.
            LogLevel::Error => tracing::info!(target: "workflow", "{line}"),
        }
        if let Some(file) = &self.file {
            let _ = file.send(line);
        }
    }

    async fn increment_counter(&self, workflow_id: i64) {
        let Ok(id) = i32::try_from(workflow_id) else {
            return;
        };
        self.runs.count(id);
    }
}

/// How long a loaded, validated workflow is reused by runs without asking the database. Saves
/// made by this process take effect at once ([`forget_workflows`]); another process's within this
/// time.
pub const WORKFLOW_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Bumped after a change to a workflow row (see [`forget_workflows`]).
static WORKFLOWS: Generation = Generation::new();

/// Drops every cached workflow (of every runtime in the process): call after a change to a
/// workflow row commits.
pub fn forget_workflows() {
    WORKFLOWS.bump();
}

/// A workflow as runs need it: its row and its validated graph, with the module switches and
/// registry it was validated against (its node notifications depend on them; the registry is
/// held so that its address cannot be reused by a newer one).
#[derive(Clone)]
pub struct PreparedWorkflow {
    pub model: Arc<crate::backend::entities::workflow::Model>,
    pub prepared: Arc<engine::Prepared>,
    pub switches: u64,
    pub registry: Arc<Registry>,
}

/// Workflows by how runs ask for them (`id:5`, `uuid:…`, `trigger:event-publish`), so that a run
/// does not read, parse and validate the stored graph each time.
pub type PreparedCache = FreshCache<String, PreparedWorkflow>;

/// Where the runtime writes besides the database.
#[derive(Clone, Debug, Default)]
pub struct RuntimeOptions {
    /// MISP's `workflow-execution.log`; `None` writes no file.
    pub execution_log: Option<std::path::PathBuf>,
    /// The loop guard: how deep workflow runs may cause further runs (`None`: 3).
    pub max_chain_depth: Option<u8>,
    /// Attempts of a queued job before it is dead (`None`: 3).
    pub max_job_attempts: Option<i32>,
}

/// The default of [`RuntimeOptions::max_chain_depth`].
pub const DEFAULT_MAX_CHAIN_DEPTH: u8 = 3;

/// Which hook triggers have a workflow to run: workflows on (`Plugin.Workflow_enable`), the
/// trigger switched on, and a workflow saved for it. Kept in memory so that a hook nobody listens
/// to costs one read lock and a set lookup (no query, no payload built); refreshed after every
/// change this process makes and every second from the database (other processes' changes).
#[derive(Default)]
pub struct Listeners {
    listening: std::sync::RwLock<std::collections::HashSet<String>>,
}

/// How often the listener set is re-read from the database.
pub const LISTENER_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

impl Listeners {
    /// Whether a workflow listens on `trigger_id`.
    pub fn listens(&self, trigger_id: &str) -> bool {
        self.listening
            .read()
            .map(|l| l.contains(trigger_id))
            .unwrap_or(false)
    }

    /// Re-reads the switches and the workflows (two queries).
    pub async fn refresh(&self, db: &impl sea_orm::ConnectionTrait) -> Result<(), sea_orm::DbErr> {
        use sea_orm::{EntityTrait, QuerySelect};
        let on =
            |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_bool) == Some(true);
        let switches =
            crate::backend::store::settings::list_settings_with_prefix(db, "Plugin.Workflow_")
                .await?;
        let switches: HashMap<String, serde_json::Value> = switches.into_iter().collect();
        let mut listening = std::collections::HashSet::new();
        if on(switches.get("Plugin.Workflow_enable")) {
            let triggers: Vec<String> = crate::backend::entities::workflow::Entity::find()
                .select_only()
                .column(crate::backend::entities::workflow::Column::TriggerId)
                .into_tuple()
                .all(db)
                .await?;
            for t in triggers {
                if on(switches.get(&format!("Plugin.Workflow_triggers_{t}"))) {
                    listening.insert(t);
                }
            }
        }
        if let Ok(mut l) = self.listening.write() {
            *l = listening;
        }
        Ok(())
    }
}

pub struct WorkflowRuntime {
    /// The engine over the current registry; replaced when discovered modules change.
    engine: RwLock<Arc<Engine>>,
    pub modules: Arc<ModuleStates>,
    pub listeners: Arc<Listeners>,
    /// Runs caused by runs deeper than this are skipped (the loop guard).
    pub max_chain_depth: u8,
    /// The ZeroMQ publisher (`misp_json` for published events, `misp_json_workflow`).
    pub zmq: ZmqPublisher,
    /// The run log's writer (group commit of runs and run counters).
    pub runs: Arc<crate::backend::run_writer::RunWriter>,
    /// Workflows loaded and validated for runs.
    pub prepared: PreparedCache,
    /// HTTP clients for modules that call the outside world, with the outbound rules.
    pub outbound: crate::backend::outbound::Outbound,
    services: Services,
    /// Modules found on misp-modules servers, and what each server answered.
    pub discovered: RwLock<crate::backend::services::action_modules::Discovery>,
    /// Wakes this process's job workers when a job is queued here.
    pub job_wake: Arc<tokio::sync::Notify>,
    /// Wakes this process's log follower when an audit row carrying a run is committed here.
    pub log_wake: Arc<tokio::sync::Notify>,
    /// Attempts a queued job gets before it is dead.
    pub max_job_attempts: i32,
}

/// Messages waiting for the ZeroMQ socket; past this, new ones are dropped with a warning.
const ZMQ_QUEUE: usize = 10_000;

/// MISP's ZeroMQ publisher: one PUB socket, bound on first use at the endpoint the settings
/// name (re-bound when they change), sending `<topic> <json>` frames as MISP's pub server does.
/// Publishing never waits for the socket: messages go through a bounded queue to one task.
pub struct ZmqPublisher {
    queue: tokio::sync::mpsc::Sender<ZmqMessage>,
}

struct ZmqMessage {
    endpoint: String,
    frame: String,
    bound: Option<tokio::sync::oneshot::Sender<Result<(), String>>>,
}

impl ZmqPublisher {
    pub fn start() -> Self {
        use zeromq::{Socket, SocketSend};
        let (queue, mut rx) = tokio::sync::mpsc::channel::<ZmqMessage>(ZMQ_QUEUE);
        tokio::spawn(async move {
            let mut socket: Option<(String, zeromq::PubSocket)> = None;
            while let Some(m) = rx.recv().await {
                if socket.as_ref().is_none_or(|(at, _)| *at != m.endpoint) {
                    // The old socket stays bound until the new one is.
                    let mut fresh = zeromq::PubSocket::new();
                    match fresh.bind(&m.endpoint).await {
                        Ok(_) => {
                            tracing::info!(endpoint = %m.endpoint, "ZeroMQ publisher bound");
                            if let Some((_, old)) = socket.replace((m.endpoint.clone(), fresh)) {
                                drop(old.close().await);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(endpoint = %m.endpoint, error = %e, "ZeroMQ publisher could not bind");
                            if let Some(tx) = m.bound {
                                drop(tx.send(Err(e.to_string())));
                            }
                            continue;
                        }
                    }
                }
                if let Some(tx) = m.bound {
                    drop(tx.send(Ok(())));
                }
                if m.frame.is_empty() {
                    continue;
                }
                if let Some((_, s)) = socket.as_mut() {
                    // A PUB socket without subscribers drops the message, as ZeroMQ does.
                    if let Err(e) = s.send(zeromq::ZmqMessage::from(m.frame)).await {
                        tracing::warn!(error = %e, "ZeroMQ publish failed");
                    }
                }
            }
        });
        Self { queue }
    }

    /// Queues `<topic> <payload>` for the socket at `endpoint` (`tcp://host:port`).
    pub fn publish(&self, endpoint: String, topic: &str, payload: &serde_json::Value) {
        let frame = format!("{topic} {payload}");
        if self
            .queue
            .try_send(ZmqMessage {
                endpoint,
                frame,
                bound: None,
            })
            .is_err()
        {
            tracing::warn!(topic, "ZeroMQ queue full: message dropped");
        }
    }

    /// Binds the socket at `endpoint` now (without sending), answering whether it could.
    pub async fn bind(&self, endpoint: String) -> Result<(), String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue
            .send(ZmqMessage {
                endpoint,
                frame: String::new(),
                bound: Some(tx),
            })
            .await
            .map_err(|_| "the ZeroMQ publisher has stopped".to_owned())?;
        rx.await
            .map_err(|_| "the ZeroMQ publisher has stopped".to_owned())?
    }
}

/// Largest node output kept in the run log for a debug run; larger data is replaced by a note.
pub const MAX_NODE_DATA: usize = 64 * 1024;

/// One node's output as a debug run reported it.
#[derive(Debug, Clone)]
pub struct CapturedNode {
    pub node_id: u64,
    /// The roaming data after the node, as JSON text, capped at [`MAX_NODE_DATA`].
    pub data: String,
}

/// Forwards debug reports to the real sink and keeps each node's output (`/exec/…` reports)
/// for the run log.
pub struct CapturingDebugSink {
    inner: Arc<dyn engine::DebugSink>,
    nodes: std::sync::Mutex<Vec<CapturedNode>>,
}

impl CapturingDebugSink {
    /// The captured nodes, in execution order.
    pub fn take(&self) -> Vec<CapturedNode> {
        self.nodes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl engine::DebugSink for CapturingDebugSink {
    async fn post(&self, trigger_id: &str, path: &str, body: serde_json::Value) {
        if path.starts_with("/exec/") {
            if let Some(node_id) = body["source"]["node_id"].as_u64() {
                let text = body["data"].to_string();
                let data = if text.len() > MAX_NODE_DATA {
                    serde_json::json!({"_truncated": true, "bytes": text.len()}).to_string()
                } else {
                    text
                };
                if let Ok(mut nodes) = self.nodes.lock() {
                    nodes.push(CapturedNode { node_id, data });
                }
            }
        }
        self.inner.post(trigger_id, path, body).await;
    }
}

impl WorkflowRuntime {
    pub async fn start(db: &DatabaseConnection, options: RuntimeOptions) -> Result<Self, AppError> {
        let modules = Arc::new(ModuleStates::load(db).await?);
        let runs = Arc::new(crate::backend::run_writer::RunWriter::start(db.clone()));
        let job_wake = Arc::new(tokio::sync::Notify::new());
        let max_job_attempts = options.max_job_attempts.unwrap_or(3);
        let services = Services {
            debug: Arc::new(HttpDebugSink::start(db.clone())),
            log: Arc::new(DbRunLog {
                runs: runs.clone(),
                file: options.execution_log.map(start_log_file),
            }),
            // Concurrent-task branches are jobs in the database (see `backend::jobs`).
            queue: Arc::new(crate::backend::jobs::DbTaskQueue::new(
                db.clone(),
                job_wake.clone(),
                max_job_attempts,
            )),
            clock: Arc::new(SystemClock::default()),
            switches: modules.clone(),
        };
        let registry = Arc::new(Self::build_registry(Vec::new()));
        let listeners = Arc::new(Listeners::default());
        listeners.refresh(db).await?;
        let watched = Arc::downgrade(&listeners);
        let watch_db = db.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(LISTENER_REFRESH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // Stops with the runtime.
                let Some(listeners) = watched.upgrade() else {
                    break;
                };
                if let Err(e) = listeners.refresh(&watch_db).await {
                    tracing::warn!(error = %e, "could not refresh the workflow listeners");
                }
            }
        });
        Ok(Self {
            engine: RwLock::new(Arc::new(Engine::new(registry, services.clone()))),
            modules,
            listeners,
            max_chain_depth: options.max_chain_depth.unwrap_or(DEFAULT_MAX_CHAIN_DEPTH),
            zmq: ZmqPublisher::start(),
            runs,
            prepared: PreparedCache::new(&WORKFLOWS, WORKFLOW_CACHE_TTL, 4096),
            outbound: crate::backend::outbound::Outbound::new(),
            job_wake,
            log_wake: Arc::new(tokio::sync::Notify::new()),
            max_job_attempts,
            services,
            discovered: RwLock::new(Default::default()),
        })
    }

    /// What a request wakes once it answers (see [`crate::backend::jobs::wake_after`]).
    pub fn wakes(&self) -> crate::backend::jobs::Wakes {
        crate::backend::jobs::Wakes {
            jobs: self.job_wake.clone(),
            log: self.log_wake.clone(),
        }
    }

    /// Built-in and store-backed modules, then `extra` (modules from misp-modules servers;
    /// one whose id is taken is skipped with a log line).
    fn build_registry(extra: Vec<Arc<dyn engine::Module>>) -> Registry {
        let mut registry = Registry::builtin();
        crate::backend::modules::register(&mut registry);
        for m in extra {
            let id = m.config().id.clone();
            if registry.register(m).is_err() {
                tracing::warn!(module = %id, "a discovered module has the id of an existing one: skipped");
            }
        }
        registry
    }

    /// The engine (and registry) of this moment.
    pub fn engine(&self) -> Arc<Engine> {
        match self.engine.read() {
            Ok(e) => e.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The module registry of this moment.
    pub fn registry(&self) -> Arc<Registry> {
        self.engine().registry_arc()
    }

    /// Replaces the discovered modules: later runs use the new registry; running ones finish
    /// with the one they started with.
    pub fn install_discovered(&self, modules: Vec<Arc<dyn engine::Module>>) {
        let engine = Arc::new(Engine::new(
            Arc::new(Self::build_registry(modules)),
            self.services.clone(),
        ));
        match self.engine.write() {
            Ok(mut e) => *e = engine,
            Err(poisoned) => *poisoned.into_inner() = engine,
        }
    }

    /// An engine for one debug run: the same registry and services, with a debug sink that
    /// also keeps each node's output for the run log.
    pub fn capturing_engine(&self) -> (Engine, Arc<CapturingDebugSink>) {
        let sink = Arc::new(CapturingDebugSink {
            inner: self.services.debug.clone(),
            nodes: std::sync::Mutex::new(Vec::new()),
        });
        let mut services = self.services.clone();
        services.debug = sink.clone();
        (Engine::new(self.registry(), services), sink)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    /// HTTPS URLs get a TLS handshake (a debug sink or webhook at `https://` is reachable), not
    /// plain HTTP: the first record the peer sees is a TLS ClientHello.
    #[tokio::test]
    async fn outbound_client_speaks_tls_to_https_urls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 6];
            socket.read_exact(&mut head).await.unwrap();
            head
        });
        let client = super::outbound_client(std::time::Duration::from_secs(2));
        // The peer never answers the handshake, so the request itself fails.
        let sent = client.get(format!("https://127.0.0.1:{port}/")).send();
        let (head, sent) = tokio::join!(peer, sent);
        let head = head.unwrap();
        assert!(sent.is_err());
        assert_eq!(head[0], 0x16, "TLS handshake record");
        assert_eq!(head[5], 0x01, "ClientHello");
    }
}
