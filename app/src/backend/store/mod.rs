//! SeaORM queries, one file per concern. Functions take `&impl ConnectionTrait` so callers can
//! pass the pool or a transaction, and return entity models or domain rows.
pub mod auth_keys;
pub mod blueprints;
pub mod login_attempts;
pub mod module_states;
pub mod orgs;
pub mod roles;
pub mod runs;
pub mod settings;
pub mod users;
pub mod workflows;
