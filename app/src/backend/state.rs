//! Shared state handed to every handler and server function.
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

/// Cheap to clone: every field is a handle.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The store. On SQLite, its one connection, which every write goes through.
    pub db: DatabaseConnection,
    /// For reads that need no transaction and may run beside the writes of `db` (the data of
    /// queued trigger runs): on a SQLite file, read-only connections of their own; otherwise the
    /// same pool as `db`.
    #[from_ref(skip)]
    pub read_db: DatabaseConnection,
    pub workflows: std::sync::Arc<super::runtime::WorkflowRuntime>,
    /// Behind an `Arc`: the state is cloned for every request (by each layer that takes it), and
    /// the options are a dozen `Arc<str>` fields.
    pub leptos_options: std::sync::Arc<LeptosOptions>,
    pub login_throttle: LoginThrottle,
    /// Principals recently loaded, by API key and by user id (see
    /// `services::auth::PrincipalCache`).
    pub principals: std::sync::Arc<crate::backend::services::auth::PrincipalCache>,
}

/// What Leptos's handlers take from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos_options).clone()
    }
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
