//! Browser sessions (tower-sessions records) and failed-login throttling.
//!
//! Both live in the database rather than in memory so that sessions survive a restart and
//! several server processes on one PostgreSQL share them.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(string_len(Sessions::Id, 64).primary_key())
                    // The session's key/value map as JSON text.
                    .col(text(Sessions::Data))
                    .col(big_integer(Sessions::ExpiryDate))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_expiry_date")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiryDate)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .if_not_exists()
                    // "email:<address>" or "ip:<address>": both are throttled.
                    .col(string_len(LoginAttempts::Key, 320).primary_key())
                    .col(integer(LoginAttempts::Failures).default(0))
                    .col(big_integer(LoginAttempts::WindowStart))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginAttempts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    Data,
    ExpiryDate,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Key,
    Failures,
    WindowStart,
}
