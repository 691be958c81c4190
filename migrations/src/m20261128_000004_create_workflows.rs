//! Workflows, blueprints, module enable state and the run log.
//!
//! Columns follow MISP's `workflows` / `workflow_blueprints` (DB update 90); `data` holds the
//! graph JSON exactly as MISP stores it. Unlike MISP, `trigger_id` is unique: MISP's convention
//! of one workflow per trigger is enforced by the schema. Module enable state lives here instead
//! of Redis. The run log is Flowgate's own: one row per run, one per executed node, indexed for
//! newest-first paging filtered by workflow, trigger or outcome.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workflows::Table)
                    .if_not_exists()
                    .col(pk_auto(Workflows::Id))
                    .col(string_len(Workflows::Uuid, 40).unique_key())
                    .col(string_len(Workflows::Name, 191))
                    .col(string_len(Workflows::Description, 191).default(""))
                    .col(big_integer(Workflows::Timestamp))
                    .col(boolean(Workflows::Enabled).default(false))
                    .col(big_integer(Workflows::Counter).default(0))
                    .col(string_len(Workflows::TriggerId, 191).unique_key())
                    .col(boolean(Workflows::DebugEnabled).default(false))
                    .col(text(Workflows::Data))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_workflows_name", Workflows::Name),
            ("idx_workflows_timestamp", Workflows::Timestamp),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Workflows::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(WorkflowBlueprints::Table)
                    .if_not_exists()
                    .col(pk_auto(WorkflowBlueprints::Id))
                    .col(string_len(WorkflowBlueprints::Uuid, 40).unique_key())
                    .col(string_len(WorkflowBlueprints::Name, 191))
                    .col(string_len(WorkflowBlueprints::Description, 191).default(""))
                    .col(big_integer(WorkflowBlueprints::Timestamp))
                    .col(boolean(WorkflowBlueprints::Default).default(false))
                    .col(text(WorkflowBlueprints::Data))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_blueprints_name")
                    .table(WorkflowBlueprints::Table)
                    .col(WorkflowBlueprints::Name)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkflowModules::Table)
                    .if_not_exists()
                    // Logic/action module ids and ad-hoc trigger ids; hook triggers are server
                    // settings (`Plugin.Workflow_triggers_<id>`) as in MISP.
                    .col(string_len(WorkflowModules::ModuleId, 191).primary_key())
                    .col(boolean(WorkflowModules::Enabled))
                    .col(big_integer(WorkflowModules::Modified))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkflowRuns::Table)
                    .if_not_exists()
                    .col(big_pk_auto(WorkflowRuns::Id))
                    .col(integer(WorkflowRuns::WorkflowId))
                    .col(string_len(WorkflowRuns::TriggerId, 191))
                    // Microseconds since the Unix epoch.
                    .col(big_integer(WorkflowRuns::StartedAt))
                    .col(big_integer(WorkflowRuns::DurationUs))
                    .col(boolean(WorkflowRuns::Success))
                    // success | failure | blocked
                    .col(string_len(WorkflowRuns::Outcome, 16))
                    .col(text(WorkflowRuns::OutcomeText).default(""))
                    .col(integer(WorkflowRuns::UserId).default(0))
                    // What fired the run: "executeWorkflow", "events/publish/12", …
                    .col(string_len(WorkflowRuns::Action, 255).default(""))
                    .col(boolean(WorkflowRuns::Debug).default(false))
                    // The walk result and errors as JSON.
                    .col(text(WorkflowRuns::Walk))
                    .to_owned(),
            )
            .await?;
        // Newest-first paging, alone or filtered by one column: each index ends in started_at.
        for (name, cols) in [
            ("idx_workflow_runs_started", vec![WorkflowRuns::StartedAt]),
            (
                "idx_workflow_runs_workflow",
                vec![WorkflowRuns::WorkflowId, WorkflowRuns::StartedAt],
            ),
            (
                "idx_workflow_runs_trigger",
                vec![WorkflowRuns::TriggerId, WorkflowRuns::StartedAt],
            ),
            (
                "idx_workflow_runs_outcome",
                vec![WorkflowRuns::Outcome, WorkflowRuns::StartedAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(WorkflowRuns::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(WorkflowRunNodes::Table)
                    .if_not_exists()
                    .col(big_pk_auto(WorkflowRunNodes::Id))
                    .col(big_integer(WorkflowRunNodes::RunId))
                    // Order of execution within the run.
                    .col(integer(WorkflowRunNodes::Seq))
                    .col(integer(WorkflowRunNodes::NodeId))
                    .col(string_len(WorkflowRunNodes::ModuleId, 191))
                    .col(string_len(WorkflowRunNodes::Status, 32))
                    .col(big_integer(WorkflowRunNodes::DurationUs))
                    .col(text(WorkflowRunNodes::Errors).default("[]"))
                    // The node's output data, only when debug is on; size-capped.
                    .col(text_null(WorkflowRunNodes::Data))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorkflowRunNodes::Table, WorkflowRunNodes::RunId)
                            .to(WorkflowRuns::Table, WorkflowRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_workflow_run_nodes_run")
                    .table(WorkflowRunNodes::Table)
                    .col(WorkflowRunNodes::RunId)
                    .col(WorkflowRunNodes::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WorkflowRunNodes::Table.into_iden(),
            WorkflowRuns::Table.into_iden(),
            WorkflowModules::Table.into_iden(),
            WorkflowBlueprints::Table.into_iden(),
            Workflows::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Workflows {
    Table,
    Id,
    Uuid,
    Name,
    Description,
    Timestamp,
    Enabled,
    Counter,
    TriggerId,
    DebugEnabled,
    Data,
}

#[derive(DeriveIden)]
enum WorkflowBlueprints {
    Table,
    Id,
    Uuid,
    Name,
    Description,
    Timestamp,
    Default,
    Data,
}

#[derive(DeriveIden)]
enum WorkflowModules {
    Table,
    ModuleId,
    Enabled,
    Modified,
}

#[derive(DeriveIden)]
enum WorkflowRuns {
    Table,
    Id,
    WorkflowId,
    TriggerId,
    StartedAt,
    DurationUs,
    Success,
    Outcome,
    OutcomeText,
    UserId,
    Action,
    Debug,
    Walk,
}

#[derive(DeriveIden)]
enum WorkflowRunNodes {
    Table,
    Id,
    RunId,
    Seq,
    NodeId,
    ModuleId,
    Status,
    DurationUs,
    Errors,
    Data,
}
