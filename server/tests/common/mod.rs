//! Test harness: boots the real router (`server::build_router`, as `main` does) on a fresh
//! database and a loopback port.
//!
//! `for_each_backend` runs a test body on a temporary SQLite file and, when
//! `FLOWGATE_TEST_POSTGRES_URL` is set, again on a fresh PostgreSQL database.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;

use app::backend::services::bootstrap::{self, AdminSeed};
use app::backend::state::LoginThrottle;
use app::backend::AppState;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;
use server::{build_router, RouterOptions};

pub const ADMIN_EMAIL: &str = "admin@flowgate.test";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// The request-body limit of the test servers (production default: 64 MiB).
pub const TEST_MAX_BODY: usize = 8 * 1024 * 1024;
pub const ADMIN_KEY: &str = "AdminKeyForTests0123456789abcdefghijklmn";

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: DatabaseConnection,
    /// The running server's state (services that need it, such as accounts with their hooks).
    pub state: AppState,
    pub database_url: String,
    /// No cookies, no redirects followed: what an API client sees.
    pub api: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    /// The job workers, as a server process runs them (see [`test_workers`]).
    workers: Option<app::backend::jobs::Workers>,
    /// The `log-after-save` follower, as a server process runs it.
    log_follower: Option<AbortOnDrop>,
    _tempdir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A browser-like client: keeps cookies, follows no redirects, and sends the `Origin` and
    /// `Sec-Fetch-Site` headers a browser sends on this site's own pages.
    pub fn browser(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("origin", self.url("").parse().unwrap());
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        headers.insert("accept", "text/html,application/xhtml+xml".parse().unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap()
    }

    /// Logs `client` in through the HTML form; panics unless the server redirects to `/`.
    pub async fn login(&self, client: &reqwest::Client, email: &str, password: &str) {
        let response = client
            .post(self.url("/users/login"))
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "login of {email} failed");
        assert_eq!(response.headers()["location"], "/");
    }

    /// Calls a server function the way a hydrated page does (URL-encoded form, JSON answer).
    pub async fn server_fn(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Creates a user through the admin service and returns its id.
    pub async fn create_user(&self, email: &str, password: &str, role_id: i32) -> i32 {
        let admin = self.principal(ADMIN_EMAIL).await;
        let org_id = admin.org.id;
        app::backend::services::accounts::add_user(
            &self.state,
            &admin,
            app::backend::services::accounts::UserInput {
                email: email.into(),
                org_id,
                role_id,
                password: password.into(),
            },
        )
        .await
        .unwrap()
        .id
    }

    pub async fn principal(&self, email: &str) -> app::backend::Principal {
        let user = app::backend::store::users::find_user_by_email(&self.db, email)
            .await
            .unwrap()
            .unwrap();
        app::backend::services::auth::load_principal(&self.db, user, false)
            .await
            .unwrap()
            .unwrap()
    }

    /// Stops the harness's job workers (for tests that run their own).
    pub async fn stop_workers(&mut self) {
        if let Some(w) = self.workers.take() {
            w.shutdown().await;
        }
    }

    /// Stops the harness's `log-after-save` follower (for tests that run their own processes).
    pub fn stop_log_follower(&mut self) {
        self.log_follower = None;
    }

    /// Serves a second router on the same database: a restarted (or second) server process.
    pub async fn restart(&self) -> SocketAddr {
        let (addr, handle, _, follower) = serve(
            self.db.clone(),
            self.state.read_db.clone(),
            RouterOptions {
                cookie_secure: false,
                max_body_bytes: TEST_MAX_BODY,
                inflight_bytes: server::DEFAULT_INFLIGHT_MB * 1024 * 1024,
            },
        )
        .await;
        // The second server's log follower runs as long as it does.
        tokio::spawn(async move {
            let _follower = follower;
            handle.await.ok();
        });
        addr
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn leptos_options() -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name("flowgate")
        .site_root("target/site")
        .build()
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves the router on a free loopback port; answers its address, the server task, the state
/// and the `log-after-save` follower (which stops when dropped).
async fn serve(
    db: DatabaseConnection,
    read_db: DatabaseConnection,
    options: RouterOptions,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<()>,
    AppState,
    AbortOnDrop,
) {
    let workflows = app::backend::runtime::WorkflowRuntime::start(&db, Default::default())
        .await
        .unwrap();
    let state = AppState {
        workflows: std::sync::Arc::new(workflows),
        db,
        read_db,
        leptos_options: std::sync::Arc::new(leptos_options()),
        login_throttle: LoginThrottle::default(),
        principals: Default::default(),
    };
    let log_hook = server::spawn_log_hook(state.clone(), std::time::Duration::from_millis(50));
    let router = build_router(state.clone(), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (addr, handle, state, AbortOnDrop(log_hook))
}

pub fn seed() -> AdminSeed {
    AdminSeed {
        email: ADMIN_EMAIL.into(),
        password: Some(ADMIN_PASSWORD.into()),
        api_key: Some(ADMIN_KEY.into()),
        host_org_name: "Flowgate Test Org".into(),
    }
}

/// A fresh SQLite file in a temporary folder, migrated and bootstrapped.
pub async fn spawn_sqlite() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("flowgate.db").display()
    );
    spawn_on(
        url,
        Some(dir),
        RouterOptions {
            cookie_secure: false,
            max_body_bytes: TEST_MAX_BODY,
            inflight_bytes: server::DEFAULT_INFLIGHT_MB * 1024 * 1024,
        },
    )
    .await
}

fn postgres_base() -> Option<String> {
    std::env::var("FLOWGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A fresh database on the PostgreSQL server of `FLOWGATE_TEST_POSTGRES_URL`, if set.
/// Returns the app and the database's name, for [`drop_postgres`].
pub async fn spawn_postgres() -> Option<(TestApp, String)> {
    let (url, name) = new_postgres_database().await?;
    let app = spawn_on(
        url,
        None,
        RouterOptions {
            cookie_secure: false,
            max_body_bytes: TEST_MAX_BODY,
            inflight_bytes: server::DEFAULT_INFLIGHT_MB * 1024 * 1024,
        },
    )
    .await;
    Some((app, name))
}

/// An empty database on the PostgreSQL server of `FLOWGATE_TEST_POSTGRES_URL`, if set: its URL
/// and name (for [`drop_postgres`]).
pub async fn new_postgres_database() -> Option<(String, String)> {
    let base = postgres_base()?;
    let admin = Database::connect(&base)
        .await
        .expect("FLOWGATE_TEST_POSTGRES_URL does not connect");
    let name = format!("flowgate_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await.ok();
    let url = match base.rsplit_once('/') {
        Some((prefix, _)) => format!("{prefix}/{name}"),
        None => panic!("FLOWGATE_TEST_POSTGRES_URL must end with /<database>"),
    };
    Some((url, name))
}

/// Drops a database made by [`spawn_postgres`] or [`new_postgres_database`], even if a test left connections open.
pub async fn drop_postgres(name: &str) {
    let Some(base) = postgres_base() else { return };
    if let Ok(admin) = Database::connect(&base).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        admin.close().await.ok();
    }
}

pub async fn spawn_on(
    url: String,
    dir: Option<tempfile::TempDir>,
    options: RouterOptions,
) -> TestApp {
    // Server logs (the causes behind 500s) go to the test's output; `RUST_LOG` filters them.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_test_writer()
        .try_init();
    let db = server::db::connect_and_migrate(&url, Default::default())
        .await
        .unwrap();
    bootstrap::ensure_initial_data(&db, &seed()).await.unwrap();
    let read_db = server::db::connect_readers(&url, &db, 4).await.unwrap();
    let (addr, server, state, log_follower) = serve(db.clone(), read_db, options).await;
    let workers = app::backend::jobs::Workers::start(state.clone(), test_workers());
    TestApp {
        addr,
        db,
        state,
        database_url: url,
        api: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        server,
        workers: Some(workers),
        log_follower: Some(log_follower),
        _tempdir: dir,
    }
}

/// The job workers of a test server: as in production, but quick to notice jobs and retries.
pub fn test_workers() -> app::backend::jobs::JobOptions {
    app::backend::jobs::JobOptions {
        workers: 4,
        poll: std::time::Duration::from_millis(50),
        backoff: std::time::Duration::from_millis(100),
        ..Default::default()
    }
}

/// Runs `test` on SQLite, then on PostgreSQL when configured.
pub async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    test(spawn_sqlite().await).await;
    if let Some((app, name)) = spawn_postgres().await {
        test(app).await;
        drop_postgres(&name).await;
    }
}

/// An API call as `key`, JSON body.
pub async fn post(app: &TestApp, path: &str, key: &str, body: Value) -> reqwest::Response {
    app.api
        .post(app.url(path))
        .header("authorization", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// An API GET as `key`, asking for JSON.
pub async fn get(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    app.api
        .get(app.url(path))
        .header("authorization", key)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
}

/// The JSON of a 200 answer; panics with the body otherwise.
pub async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// A user with `role` in the admin's organisation (or a new one named `other_org`), and a
/// fresh API key for them.
pub async fn user_key(app: &TestApp, email: &str, role: i32, other_org: Option<&str>) -> String {
    let admin = app.principal(ADMIN_EMAIL).await;
    let org_id = match other_org {
        Some(name) => {
            app::backend::services::accounts::add_org(&app.db, &admin, name, "")
                .await
                .unwrap()
                .id
        }
        None => admin.org.id,
    };
    app::backend::services::accounts::add_user(
        &app.state,
        &admin,
        app::backend::services::accounts::UserInput {
            email: email.into(),
            org_id,
            role_id: role,
            password: "a-long-enough-password".into(),
        },
    )
    .await
    .unwrap();
    let user = app.principal(email).await;
    app::backend::services::auth::create_authkey(&app.db, user.user.id, "", false)
        .await
        .unwrap()
        .authkey
}

/// A workflow for `trigger_id`: trigger → IF :: Tag (`tlp:red` on the event or an attribute) →
/// stop-execution "tlp:red data" (the spec's §9 example on any trigger).
pub fn red_gate(trigger_id: &str, trigger_name: &str, blocking: bool) -> Value {
    serde_json::json!({
        "1": {"id": 1, "name": trigger_name, "class": "block-type-trigger", "typenode": false,
              "data": {"id": trigger_id, "name": trigger_name, "module_type": "trigger",
                       "blocking": blocking, "misp_core_format": true, "indexed_params": []},
              "inputs": [], "outputs": {"output_1": {"connections": [{"node": "2", "output": "input_1"}]}},
              "pos_x": 0, "pos_y": 0},
        "2": {"id": 2, "name": "IF :: Tag", "class": "block-type-if block-type-logic", "typenode": false,
              "data": {"id": "tag-if", "name": "IF :: Tag", "module_type": "logic",
                       "indexed_params": {"scope": "event_attribute", "condition": "in_or", "tags": ["tlp:red"]},
                       "saved_filters": {"selector": "", "value": "", "operator": "", "path": ""}},
              "inputs": {"input_1": {"connections": [{"node": "1", "input": "output_1"}]}},
              "outputs": {"output_1": {"connections": [{"node": "3", "output": "input_1"}]},
                          "output_2": {"connections": []}},
              "pos_x": 300, "pos_y": 0},
        "3": {"id": 3, "name": "Stop execution", "class": "block-type-default", "typenode": false,
              "data": {"id": "stop-execution", "name": "Stop execution", "module_type": "action",
                       "indexed_params": {"message": "tlp:red data"},
                       "saved_filters": {"selector": "", "value": "", "operator": "", "path": ""}},
              "inputs": {"input_1": {"connections": [{"node": "2", "input": "output_1"}]}},
              "outputs": [], "pos_x": 600, "pos_y": 0}
    })
}

/// Saves `graph` as the workflow of `trigger_id` (created on first open, as MISP's editor does)
/// and switches workflows and that trigger on; answers the workflow id.
pub async fn install_workflow(app: &TestApp, trigger_id: &str, graph: Value) -> String {
    let opened = ok(get(app, &format!("/workflows/editor/{trigger_id}"), ADMIN_KEY).await).await;
    let id = opened["Workflow"]["id"].as_str().unwrap().to_owned();
    ok(post(
        app,
        &format!("/workflows/edit/{id}"),
        ADMIN_KEY,
        serde_json::json!({"Workflow": {"data": graph}}),
    )
    .await)
    .await;
    for setting in [
        "Plugin.Workflow_enable".to_owned(),
        format!("Plugin.Workflow_triggers_{trigger_id}"),
    ] {
        ok(post(
            app,
            &format!("/servers/serverSettingsEdit/{setting}"),
            ADMIN_KEY,
            serde_json::json!({"value": true}),
        )
        .await)
        .await;
    }
    id
}

/// Runs a workflow of one module (`module` with `params`, enabled first) on `trigger`'s
/// workflow, on `data`, through executeWorkflow; answers the run.
pub async fn run_module_on(
    app: &TestApp,
    trigger: &str,
    module: &str,
    params: Value,
    data: Value,
) -> Value {
    use serde_json::json;
    let mut graph = red_gate(trigger, trigger, false);
    graph.as_object_mut().unwrap().retain(|k, _| k == "1");
    graph["1"]["outputs"]["output_1"]["connections"] = json!([{"node": "2", "output": "input_1"}]);
    graph["2"] = json!({"id": 2, "name": module, "class": "block-type-default", "typenode": false,
        "data": {"id": module, "name": module, "module_type": "action", "indexed_params": params,
                 "saved_filters": {"selector": "", "value": "", "operator": "", "path": ""}},
        "inputs": {"input_1": {"connections": [{"node": "1", "input": "output_1"}]}},
        "outputs": {"output_1": {"connections": []}}, "pos_x": 300, "pos_y": 0});
    let id = install_workflow(app, trigger, graph).await;
    ok(post(
        app,
        &format!("/workflows/toggleModule/{module}/1/0"),
        ADMIN_KEY,
        json!({}),
    )
    .await)
    .await;
    post(
        app,
        &format!("/workflows/executeWorkflow/{id}"),
        ADMIN_KEY,
        data,
    )
    .await
    .json()
    .await
    .unwrap()
}

/// Lets workflows call webhooks on the loopback address (test sinks).
pub async fn allow_loopback_webhooks(app: &TestApp) {
    ok(post(
        app,
        "/servers/serverSettingsEdit/Security.rest_client_enable_arbitrary_urls",
        ADMIN_KEY,
        serde_json::json!({"value": true}),
    )
    .await)
    .await;
    ok(post(
        app,
        "/servers/serverSettingsEdit/Security.outbound_allowed_hosts",
        ADMIN_KEY,
        serde_json::json!({"value": "127.0.0.1"}),
    )
    .await)
    .await;
}

/// A workflow graph: the trigger `trigger_id`, then `modules` (module id, `module_type`,
/// `indexed_params`) in a chain, each one's first output wired to the next one's input.
pub fn chain(trigger_id: &str, modules: &[(&str, &str, Value)]) -> Value {
    use serde_json::json;
    let filters = json!({"selector": "", "value": "", "operator": "", "path": ""});
    let mut graph = serde_json::Map::new();
    graph.insert(
        "1".into(),
        json!({"id": 1, "name": trigger_id, "class": "block-type-trigger", "typenode": false,
               "data": {"id": trigger_id, "name": trigger_id, "module_type": "trigger", "indexed_params": []},
               "inputs": [], "outputs": {"output_1": {"connections": []}}, "pos_x": 0, "pos_y": 0}),
    );
    for (i, (module_id, module_type, params)) in modules.iter().enumerate() {
        let (n, prev) = (i + 2, (i + 1).to_string());
        graph[&prev]["outputs"]["output_1"]["connections"]
            .as_array_mut()
            .unwrap()
            .push(json!({"node": n.to_string(), "output": "input_1"}));
        let concurrent = *module_id == "concurrent-task";
        let class = match *module_type {
            _ if concurrent => "block-type-concurrent block-type-logic",
            "logic" => "block-type-if block-type-logic",
            _ => "block-type-default",
        };
        let mut data = json!({"id": module_id, "name": module_id, "module_type": module_type,
                              "indexed_params": params, "saved_filters": filters});
        if concurrent {
            data["multiple_output_connection"] = true.into();
        }
        graph.insert(
            n.to_string(),
            json!({"id": n, "name": module_id, "class": class, "typenode": false, "data": data,
                   "inputs": {"input_1": {"connections": [{"node": prev, "input": "output_1"}]}},
                   "outputs": {"output_1": {"connections": []}}, "pos_x": 300 * (n - 1), "pos_y": 0}),
        );
    }
    Value::Object(graph)
}

/// The `webhook` module's parameters: a JSON POST to `/hook` on the loopback `port`.
pub fn webhook_to(port: u16) -> Value {
    serde_json::json!({"url": format!("http://127.0.0.1:{port}/hook"), "content_type": "json",
                       "request_method": "post", "self_signed": "deny", "headers": "", "payload": ""})
}

/// A webhook sink on a free loopback port (see [`hook_sink`]).
pub struct HookSink {
    pub port: u16,
    /// Calls so far.
    pub calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// The `Idempotency-Key` of each call, in order.
    pub keys: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// A webhook sink on `/hook` that answers after `delay`: `failure` to the first `failures`
/// calls, 200 after.
pub async fn hook_sink(
    delay: std::time::Duration,
    failures: usize,
    failure: axum::http::StatusCode,
) -> HookSink {
    use std::sync::atomic::Ordering;
    let sink = HookSink {
        port: 0,
        calls: Default::default(),
        keys: Default::default(),
    };
    let (counted, seen) = (sink.calls.clone(), sink.keys.clone());
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let (counted, seen) = (counted.clone(), seen.clone());
            async move {
                tokio::time::sleep(delay).await;
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(key);
                if counted.fetch_add(1, Ordering::SeqCst) < failures {
                    failure
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    HookSink { port, ..sink }
}

/// Jobs by state.
pub async fn job_counts(
    db: &sea_orm::DatabaseConnection,
) -> std::collections::BTreeMap<String, u64> {
    use app::backend::entities::workflow_job;
    use sea_orm::{ColumnTrait, EntityTrait, QuerySelect};
    workflow_job::Entity::find()
        .select_only()
        .column(workflow_job::Column::Status)
        .column_as(workflow_job::Column::Id.count(), "n")
        .group_by(workflow_job::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|(s, n)| (s, n as u64))
        .collect()
}

pub async fn done_jobs(db: &sea_orm::DatabaseConnection) -> u64 {
    job_counts(db).await.get("done").copied().unwrap_or(0)
}

/// Waits until `want` jobs are done (at most `limit`).
pub async fn wait_done(db: &sea_orm::DatabaseConnection, want: u64, limit: std::time::Duration) {
    let started = std::time::Instant::now();
    while done_jobs(db).await < want {
        if started.elapsed() > limit {
            let dead = app::backend::store::jobs::list(db, &["dead", "retrying"], 1)
                .await
                .unwrap();
            panic!(
                "jobs not done after {limit:?}: {:?}; {:?}",
                job_counts(db).await,
                dead.first().map(|j| &j.last_error)
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits until `want` jobs are in the queue, whatever their state (runs carried by audit rows
/// are queued by the log follower shortly after their action answers).
pub async fn wait_queued(db: &sea_orm::DatabaseConnection, want: u64) {
    let started = std::time::Instant::now();
    loop {
        let counts = job_counts(db).await;
        if counts.values().sum::<u64>() >= want {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{want} jobs not queued after a minute: {counts:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Waits until no job is queued, retrying or running; answers how many were open at first.
pub async fn wait_no_open_jobs(db: &sea_orm::DatabaseConnection) -> u64 {
    use app::backend::store::jobs::{QUEUED, RETRYING, RUNNING};
    let open = || async {
        let counts = job_counts(db).await;
        [QUEUED, RETRYING, RUNNING]
            .iter()
            .filter_map(|s| counts.get(*s))
            .sum::<u64>()
    };
    let first = open().await;
    let mut left = first;
    while left > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        left = open().await;
    }
    first
}
