//! A run whose nodes carry no captured data (every run outside debug mode) keeps its nodes in
//! its own row, as a JSON array in `workflow_runs.nodes`, instead of one `workflow_run_nodes` row
//! per node: one row, five index entries and no foreign-key checks per run instead of one more
//! row, two index entries and a parent lookup per node. A debug run's nodes, with their data,
//! stay in `workflow_run_nodes`, as do the nodes of runs logged before this migration (their
//! `nodes` is NULL). Rolling back drops the column, and with it the nodes of the runs logged
//! since (their runs stay in the log).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowRuns::Table)
                    .add_column(text_null(WorkflowRuns::Nodes))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkflowRuns::Table)
                    .drop_column(WorkflowRuns::Nodes)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum WorkflowRuns {
    Table,
    Nodes,
}
