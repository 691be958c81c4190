//! Flowgate's schema, as one sea-orm-migration `Migrator` shared by SQLite and PostgreSQL.
//!
//! Each change is one file; migrations never import the app's entities, so they keep describing
//! the schema as it was when they were written.
pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_accounts;
mod m20261128_000002_create_sessions;
mod m20261128_000003_create_settings;
mod m20261128_000004_create_workflows;
mod m20261128_000005_create_events;
mod m20261128_000006_create_sightings_and_reports;
mod m20261128_000007_create_audit_lists_proposals_posts;
mod m20261128_000008_create_sharing_groups;
mod m20261128_000009_log_chain_depth;
mod m20261129_000010_create_workflow_jobs;
mod m20261205_000011_create_workflow_job_effects;
mod m20261206_000012_index_open_jobs;
mod m20261208_000013_log_carried_run;
mod m20261208_000014_run_nodes_inline;

/// Every migration in the order it runs.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_accounts::Migration),
            Box::new(m20261128_000002_create_sessions::Migration),
            Box::new(m20261128_000003_create_settings::Migration),
            Box::new(m20261128_000004_create_workflows::Migration),
            Box::new(m20261128_000005_create_events::Migration),
            Box::new(m20261128_000006_create_sightings_and_reports::Migration),
            Box::new(m20261128_000007_create_audit_lists_proposals_posts::Migration),
            Box::new(m20261128_000008_create_sharing_groups::Migration),
            Box::new(m20261128_000009_log_chain_depth::Migration),
            Box::new(m20261129_000010_create_workflow_jobs::Migration),
            Box::new(m20261205_000011_create_workflow_job_effects::Migration),
            Box::new(m20261206_000012_index_open_jobs::Migration),
            Box::new(m20261208_000013_log_carried_run::Migration),
            Box::new(m20261208_000014_run_nodes_inline::Migration),
        ]
    }
}
