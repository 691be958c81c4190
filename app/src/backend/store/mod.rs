//! SeaORM queries, one file per concern. Functions take `&impl ConnectionTrait` so callers can
//! pass the pool or a transaction, and return entity models or domain rows.
pub mod auth_keys;
pub mod blueprints;
pub mod events;
pub mod jobs;
pub mod login_attempts;
pub mod module_states;
pub mod orgs;
pub mod roles;
pub mod runs;
pub mod settings;
pub mod users;
pub mod workflows;

/// `column` contains `needle`, ignoring case on both backends (PostgreSQL's LIKE is
/// case-sensitive, SQLite's is not), with `\`, `%` and `_` in the needle matched literally.
pub(crate) fn contains_ignore_case(
    column: impl sea_orm::sea_query::IntoColumnRef,
    needle: &str,
) -> impl sea_orm::sea_query::IntoCondition {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let escaped = needle
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column)))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}
