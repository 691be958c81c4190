//! MISP's REST routes, with MISP's request and response shapes.
pub mod blueprints;
pub mod error;
pub mod extract;
pub mod negotiate;
pub mod servers;
pub mod users;
pub mod workflows;

use app::backend::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(servers::router())
        .merge(users::router())
        .merge(workflows::router())
        .merge(blueprints::router())
}
