//! Server settings (`Plugin.Workflow_enable`, `MISP.host_org_id`, …) as MISP names them.
//!
//! One row per setting that differs from its default; the value is JSON text so booleans,
//! numbers and strings keep their type.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .if_not_exists()
                    .col(string_len(Settings::Name, 191).primary_key())
                    .col(text(Settings::Value))
                    .col(big_integer(Settings::Modified))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Settings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Name,
    Value,
    Modified,
}
