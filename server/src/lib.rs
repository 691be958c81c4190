//! Flowgate's server: configuration, start-up, the router (MISP REST routes, Leptos pages,
//! sessions, authentication, CSRF protection).
//!
//! [`build_router`] is public so integration tests serve exactly what `main` serves.
pub mod api;
pub mod budget;
pub mod config;
pub mod csrf;
pub mod db;
pub mod login;
pub mod principal_layer;

use std::time::Duration;

use app::backend::session_store::DbSessionStore;
use app::backend::AppState;
use axum::extract::FromRef;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// How long a browser session lasts without activity.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(8);
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "flowgate_session";

/// Options of the router that are not part of the application state.
#[derive(Clone, Copy, Debug)]
pub struct RouterOptions {
    pub cookie_secure: bool,
    /// Largest request body accepted (MISP events can be large); bigger ones get 413.
    pub max_body_bytes: usize,
    /// Request bodies handled at once, in bytes (see [`budget`]).
    pub inflight_bytes: usize,
}

/// Default of `FLOWGATE_MAX_BODY_MB`.
pub const DEFAULT_MAX_BODY_MB: usize = 64;
/// Default of `FLOWGATE_INFLIGHT_MB`.
pub const DEFAULT_INFLIGHT_MB: usize = 16;

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            cookie_secure: true,
            max_body_bytes: DEFAULT_MAX_BODY_MB * 1024 * 1024,
            inflight_bytes: DEFAULT_INFLIGHT_MB * 1024 * 1024,
        }
    }
}

/// The whole application: MISP REST routes, login/logout, Leptos pages and server functions,
/// static files; wrapped in tracing, sessions, CSRF protection and principal resolution.
pub fn build_router(state: AppState, options: RouterOptions) -> Router {
    let leptos_options = LeptosOptions::from_ref(&state);
    // Pages that share their address with a MISP JSON route are served by that route's handler
    // (see `render_page`), so axum gets one route per path.
    let routes: Vec<_> = generate_route_list(app::App)
        .into_iter()
        .filter(|r| !is_shared_page(r.path()))
        .collect();
    let context_state = state.clone();
    let inner = Router::new()
        .merge(api::router())
        .merge(login::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            {
                let leptos_options = leptos_options.clone();
                move || app::shell(leptos_options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .with_state(state.clone())
        .layer(axum::extract::DefaultBodyLimit::max(options.max_body_bytes));

    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_secure(options.cookie_secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));

    // Layers run outermost first: trace → MISP error rendering → session → CSRF check →
    // principal → payload budget → job wakes. CSRF sits before the principal lookup so a forged
    // request never reaches a handler, and both need the session loaded.
    let inner = inner
        .layer(axum::middleware::from_fn_with_state(
            state.workflows.wakes(),
            wake_workers_after,
        ))
        .layer(axum::middleware::from_fn_with_state(
            budget::PayloadBudget::new(options.inflight_bytes),
            budget::payload_budget,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            principal_layer::resolve_principal,
        ))
        .layer(axum::middleware::from_fn(csrf::cross_origin_protection))
        .layer(sessions)
        .layer(axum::middleware::from_fn(api::error::render_misp_errors))
        .layer(axum::middleware::from_fn(api::error::server_fn_status));

    // MISP clients may add `.json` to any path; strip it before routing and remember it.
    Router::new()
        .fallback_service(tower::ServiceBuilder::new().map_request(api::negotiate::strip_json_suffix).service(inner))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &http::Request<_>| {
            tracing::info_span!("request", method = %request.method(), uri = %request.uri())
        }))
}

/// Wakes the job workers for the jobs a request queued, and the log follower for the runs its
/// audit rows carry, once it has its answer (see [`app::backend::jobs::wake_after`]).
async fn wake_workers_after(
    axum::extract::State(wakes): axum::extract::State<app::backend::jobs::Wakes>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    app::backend::jobs::wake_after(&wakes, next.run(request)).await
}

/// Page routes whose address is also a MISP JSON route: the ad-hoc list and the editor.
fn is_shared_page(path: &str) -> bool {
    path == "/workflows/adhoc" || path.starts_with("/workflows/editor/")
}

/// Renders the app's page for `request` (all resources loaded, as the page routes do), for a
/// JSON route that a browser opened.
pub(crate) async fn render_page(
    state: AppState,
    request: axum::extract::Request,
) -> axum::response::Response {
    let options = LeptosOptions::from_ref(&state);
    let handler = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(state.clone());
            provide_context(leptos_router::Method::Get);
        },
        move || app::shell(options.clone()),
    );
    handler(request).await
}

/// Deletes expired sessions every `period` until the token is cancelled.
pub fn spawn_session_cleanup(
    store: DbSessionStore,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    use tower_sessions::ExpiredDeletion;
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        loop {
            interval.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "expired-session cleanup failed");
            }
        }
    })
}

/// Runs the `log-after-save` trigger on new audit-log rows, looking every `period`.
pub fn spawn_log_hook(state: AppState, period: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(app::backend::services::hooks::follow_log(state, period))
}

/// Prunes the run log every `period` by the retention settings
/// (`Plugin.Workflow_log_retention_days`, `Plugin.Workflow_log_max_runs`), and the done jobs older than
/// a day.
pub fn spawn_run_log_prune(
    db: sea_orm::DatabaseConnection,
    period: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        loop {
            interval.tick().await;
            match app::backend::services::runs::prune_runs(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(runs = n, "pruned the workflow run log"),
                Err(e) => tracing::warn!(error = %e, "run-log pruning failed"),
            }
            // Done jobs are kept a day (the Logs page lists them), then go with their ledger.
            let day_ago = app::backend::jobs::now_us() - 86_400_000_000;
            match app::backend::store::jobs::purge_done(&db, day_ago).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "pruned done jobs"),
                Err(e) => tracing::warn!(error = %e, "job pruning failed"),
            }
        }
    })
}
