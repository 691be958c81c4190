//! The durable job queue (spec §6.1, §6.5): non-blocking work that must survive a crash or a
//! restart, claimed by the workers of any server process. A job is `queued` (waiting for
//! `run_after`), `running` (claimed by `worker` until `lease_until`; a dead worker's job is
//! claimed again once the lease has passed), `retrying` (failed, waiting for its backoff), `done`
//! or `dead` (out of attempts; kept with its last error until an admin retries or discards it).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkflowJobs::Table)
                    .if_not_exists()
                    .col(big_pk_auto(WorkflowJobs::Id))
                    .col(string_len(WorkflowJobs::Kind, 32))
                    .col(text(WorkflowJobs::Payload))
                    // Carried by every outward delivery of the job, so a retried job can be
                    // recognised by its receivers.
                    .col(string_len(WorkflowJobs::IdempotencyKey, 64).unique_key())
                    .col(string_len(WorkflowJobs::Status, 16))
                    .col(integer(WorkflowJobs::Attempts).default(0))
                    .col(integer(WorkflowJobs::MaxAttempts))
                    // Microseconds since the Unix epoch, as the run log.
                    .col(big_integer(WorkflowJobs::RunAfter))
                    .col(big_integer_null(WorkflowJobs::LeaseUntil))
                    .col(string_len_null(WorkflowJobs::Worker, 64))
                    .col(text_null(WorkflowJobs::LastError))
                    .col(big_integer(WorkflowJobs::CreatedAt))
                    .col(big_integer(WorkflowJobs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_jobs_due")
                    .table(WorkflowJobs::Table)
                    .col(WorkflowJobs::Status)
                    .col(WorkflowJobs::RunAfter)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WorkflowJobs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WorkflowJobs {
    Table,
    Id,
    Kind,
    Payload,
    IdempotencyKey,
    Status,
    Attempts,
    MaxAttempts,
    RunAfter,
    LeaseUntil,
    Worker,
    LastError,
    CreatedAt,
    UpdatedAt,
}
