//! Server-only half of the app: state, store (SeaORM), services and authentication.
//!
//! It lives in `app` behind the `ssr` feature because server functions call it; the `server`
//! binary uses the same services for MISP's REST routes.
pub mod entities;
pub mod password;
pub mod principal;
pub mod runtime;
pub mod services;
pub mod session_store;
pub mod state;
pub mod store;

pub use principal::Principal;
pub use state::AppState;

use crate::error::AppError;

/// Current time in Unix seconds, the unit MISP stores.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}
