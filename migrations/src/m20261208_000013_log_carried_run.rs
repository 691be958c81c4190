//! An audit-log row can carry the queued run of a non-blocking trigger that its change fired
//! (`attribute-after-save` on an attribute's add, edit or soft delete): the serialized job,
//! committed with the change in the row the change writes anyway. The log follower moves it to
//! `workflow_jobs` and clears it, reading through a partial index of the rows that still carry
//! one. The action then pays no statement and no job-table pages for its trigger. MISP's own
//! columns are unchanged; the column is not in MISP's JSON.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Logs::Table)
                    .add_column(text_null(Logs::CarriedRun))
                    .to_owned(),
            )
            .await?;
        // The same statement on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_logs_carried_run ON logs (id) \
                 WHERE carried_run IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_logs_carried_run")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Logs::Table)
                    .drop_column(Logs::CarriedRun)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Logs {
    Table,
    CarriedRun,
}
