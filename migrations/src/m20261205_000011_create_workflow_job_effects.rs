//! The ledger of store edits made by queued jobs: one row per edit a job's workflow applied,
//! written in the edit's own transaction (beside its audit entry). A job run again after its
//! worker died (at-least-once delivery) finds the edits its earlier attempt committed and does
//! not apply them twice.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkflowJobEffects::Table)
                    .if_not_exists()
                    // The job's idempotency key.
                    .col(string_len(WorkflowJobEffects::JobKey, 64))
                    // `<workflow id>/<node id>/<target>`: which node changed what.
                    .col(string_len(WorkflowJobEffects::Scope, 255))
                    // Microseconds since the Unix epoch.
                    .col(big_integer(WorkflowJobEffects::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(WorkflowJobEffects::JobKey)
                            .col(WorkflowJobEffects::Scope),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WorkflowJobEffects::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WorkflowJobEffects {
    Table,
    JobKey,
    Scope,
    CreatedAt,
}
