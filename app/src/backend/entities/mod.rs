//! SeaORM entities: one file per table. Only the store uses them directly.
pub mod auth_key;
pub mod login_attempt;
pub mod organisation;
pub mod role;
pub mod session;
pub mod setting;
pub mod user;
pub mod workflow;
pub mod workflow_blueprint;
pub mod workflow_module;
pub mod workflow_run;
pub mod workflow_run_node;
