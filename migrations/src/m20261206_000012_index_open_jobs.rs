//! A partial index over the jobs not yet finished, in id order: claiming the oldest due job
//! then reads only those, however many done and dead jobs the table keeps (done ones stay a
//! day). Without it, each claim stepped over every finished job with a lower id.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The same statement on SQLite and PostgreSQL; the predicate is the one the claim
        // query states, so both planners use the index.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_workflow_jobs_open ON workflow_jobs (id) \
                 WHERE status IN ('queued', 'retrying', 'running')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_workflow_jobs_open")
            .await?;
        Ok(())
    }
}
