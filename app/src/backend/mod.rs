//! Server-only half of the app: state, store (SeaORM), services and authentication.
//!
//! It lives in `app` behind the `ssr` feature because server functions call it; the `server`
//! binary uses the same services for MISP's REST routes.
pub mod cache;
pub mod entities;
pub mod jobs;
pub mod modules;
pub mod outbound;
pub mod password;
pub mod principal;
pub mod run_writer;
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

/// Unix seconds as MISP prints its `datetime` columns: `YYYY-MM-DD HH:MM:SS`, UTC.
pub fn misp_datetime(ts: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ts) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => String::new(),
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}
