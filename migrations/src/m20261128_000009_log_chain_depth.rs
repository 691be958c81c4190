//! The audit log remembers how many workflow runs led to each change (`chain_depth`: 0 for a
//! person or API client). The `log-after-save` trigger reads it, so a workflow that changes data
//! from a log row cannot feed itself forever (the loop guard). MISP's own columns are unchanged.
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
                    .add_column(small_integer(Logs::ChainDepth).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Logs::Table)
                    .drop_column(Logs::ChainDepth)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Logs {
    Table,
    ChainDepth,
}
