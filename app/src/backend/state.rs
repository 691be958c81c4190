//! Shared state handed to every handler and server function.
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

/// Cheap to clone: every field is a handle.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub workflows: std::sync::Arc<super::runtime::WorkflowRuntime>,
    pub leptos_options: LeptosOptions,
    pub login_throttle: LoginThrottle,
    /// API-key principals recently loaded (see `services::auth::PrincipalCache`).
    pub principals: std::sync::Arc<crate::backend::services::auth::PrincipalCache>,
}

/// How failed logins are throttled: at most `max_failures` per e-mail address and per client
/// address within `window_secs`; further attempts are refused until the window ends.
#[derive(Clone, Copy, Debug)]
pub struct LoginThrottle {
    pub max_failures: i32,
    pub window_secs: i64,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window_secs: 15 * 60,
        }
    }
}
