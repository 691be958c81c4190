//! MISP core objects, third part: the audit log (`logs`), the event blocklist, custom
//! warninglists, proposals (`shadow_attributes`) and discussion threads with their posts.
//!
//! Times are Unix seconds (MISP's `datetime` columns are printed back as `Y-m-d H:i:s`).
//! Proposals and event threads go with their event (`ON DELETE CASCADE`); posts go with their
//! thread; warninglist entries go with their list.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn index<T: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: &[Alias],
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(c.clone());
    }
    manager.create_index(stmt.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Logs::Table)
                    .if_not_exists()
                    .col(pk_auto(Logs::Id))
                    .col(text(Logs::Title))
                    .col(big_integer(Logs::Created))
                    .col(string_len(Logs::Model, 80))
                    .col(integer(Logs::ModelId).default(0))
                    .col(string_len(Logs::Action, 20))
                    .col(integer(Logs::UserId).default(0))
                    .col(text(Logs::Change).default(""))
                    .col(string_len(Logs::Email, 255).default(""))
                    .col(string_len(Logs::Org, 255).default(""))
                    .col(text(Logs::Description).default(""))
                    .col(string_len(Logs::Ip, 45).default(""))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_logs_created",
            Logs::Table,
            &[Alias::new("created")],
        )
        .await?;
        index(
            manager,
            "idx_logs_model",
            Logs::Table,
            &[Alias::new("model"), Alias::new("model_id")],
        )
        .await?;
        index(
            manager,
            "idx_logs_user",
            Logs::Table,
            &[Alias::new("user_id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(EventBlocklists::Table)
                    .if_not_exists()
                    .col(pk_auto(EventBlocklists::Id))
                    .col(string_len(EventBlocklists::EventUuid, 40).unique_key())
                    .col(big_integer(EventBlocklists::Created))
                    .col(text(EventBlocklists::EventInfo).default(""))
                    .col(text(EventBlocklists::Comment).default(""))
                    .col(string_len(EventBlocklists::EventOrgc, 255).default(""))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Warninglists::Table)
                    .if_not_exists()
                    .col(pk_auto(Warninglists::Id))
                    .col(string_len(Warninglists::Name, 255).unique_key())
                    // string, substring, hostname, cidr, regex
                    .col(string_len(Warninglists::Type, 20))
                    .col(text(Warninglists::Description).default(""))
                    .col(integer(Warninglists::Version).default(1))
                    .col(boolean(Warninglists::Enabled).default(false))
                    .col(boolean(Warninglists::Default).default(false))
                    // false_positive or known_identifier
                    .col(string_len(Warninglists::Category, 20).default("false_positive"))
                    // JSON list of attribute types; empty means every type
                    .col(text(Warninglists::MatchingAttributes).default("[]"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WarninglistEntries::Table)
                    .if_not_exists()
                    .col(pk_auto(WarninglistEntries::Id))
                    .col(integer(WarninglistEntries::WarninglistId))
                    .col(text(WarninglistEntries::Value))
                    .col(text_null(WarninglistEntries::Comment))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WarninglistEntries::Table, WarninglistEntries::WarninglistId)
                            .to(Warninglists::Table, Warninglists::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_warninglist_entries_list",
            WarninglistEntries::Table,
            &[Alias::new("warninglist_id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ShadowAttributes::Table)
                    .if_not_exists()
                    .col(pk_auto(ShadowAttributes::Id))
                    // the attribute this proposes to change or delete; 0 for a new attribute
                    .col(integer(ShadowAttributes::OldId).default(0))
                    .col(integer(ShadowAttributes::EventId))
                    .col(string_len(ShadowAttributes::EventUuid, 40))
                    .col(integer(ShadowAttributes::EventOrgId))
                    .col(string_len(ShadowAttributes::Type, 100))
                    .col(string_len(ShadowAttributes::Category, 255))
                    .col(text(ShadowAttributes::Value))
                    .col(boolean(ShadowAttributes::ToIds).default(true))
                    // a new attribute's uuid, or the uuid of the attribute it proposes to
                    // change (several proposals may target one attribute, as in MISP)
                    .col(string_len(ShadowAttributes::Uuid, 40))
                    .col(integer(ShadowAttributes::OrgId))
                    .col(string_len(ShadowAttributes::Email, 255).default(""))
                    .col(text(ShadowAttributes::Comment).default(""))
                    .col(boolean(ShadowAttributes::Deleted).default(false))
                    .col(boolean(ShadowAttributes::ProposalToDelete).default(false))
                    .col(boolean(ShadowAttributes::DisableCorrelation).default(false))
                    .col(big_integer(ShadowAttributes::Timestamp))
                    .col(string_len_null(ShadowAttributes::FirstSeen, 40))
                    .col(string_len_null(ShadowAttributes::LastSeen, 40))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ShadowAttributes::Table, ShadowAttributes::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_shadow_attributes_event",
            ShadowAttributes::Table,
            &[Alias::new("event_id")],
        )
        .await?;
        index(
            manager,
            "idx_shadow_attributes_old",
            ShadowAttributes::Table,
            &[Alias::new("old_id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Threads::Table)
                    .if_not_exists()
                    .col(pk_auto(Threads::Id))
                    .col(big_integer(Threads::DateCreated))
                    .col(big_integer(Threads::DateModified))
                    .col(small_integer(Threads::Distribution).default(0))
                    .col(integer(Threads::UserId))
                    .col(integer(Threads::PostCount).default(0))
                    // 0 when the thread is not an event's discussion
                    .col(integer(Threads::EventId).default(0))
                    .col(string_len(Threads::Title, 255))
                    .col(integer(Threads::OrgId))
                    .col(integer(Threads::SharingGroupId).default(0))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_threads_event",
            Threads::Table,
            &[Alias::new("event_id")],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .if_not_exists()
                    .col(pk_auto(Posts::Id))
                    .col(big_integer(Posts::DateCreated))
                    .col(big_integer(Posts::DateModified))
                    .col(integer(Posts::UserId))
                    .col(text(Posts::Contents))
                    // the post this answers; 0 for none
                    .col(integer(Posts::PostId).default(0))
                    .col(integer(Posts::ThreadId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Posts::Table, Posts::ThreadId)
                            .to(Threads::Table, Threads::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_posts_thread",
            Posts::Table,
            &[Alias::new("thread_id")],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Posts::Table.into_iden(),
            Threads::Table.into_iden(),
            ShadowAttributes::Table.into_iden(),
            WarninglistEntries::Table.into_iden(),
            Warninglists::Table.into_iden(),
            EventBlocklists::Table.into_iden(),
            Logs::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Logs {
    Table,
    Id,
    Title,
    Created,
    Model,
    ModelId,
    Action,
    UserId,
    Change,
    Email,
    Org,
    Description,
    Ip,
}

#[derive(DeriveIden)]
enum EventBlocklists {
    Table,
    Id,
    EventUuid,
    Created,
    EventInfo,
    Comment,
    EventOrgc,
}

#[derive(DeriveIden, Clone, Copy)]
enum Warninglists {
    Table,
    Id,
    Name,
    Type,
    Description,
    Version,
    Enabled,
    Default,
    Category,
    MatchingAttributes,
}

#[derive(DeriveIden, Clone, Copy)]
enum WarninglistEntries {
    Table,
    Id,
    WarninglistId,
    Value,
    Comment,
}

#[derive(DeriveIden, Clone, Copy)]
enum ShadowAttributes {
    Table,
    Id,
    OldId,
    EventId,
    EventUuid,
    EventOrgId,
    Type,
    Category,
    Value,
    ToIds,
    Uuid,
    OrgId,
    Email,
    Comment,
    Deleted,
    ProposalToDelete,
    DisableCorrelation,
    Timestamp,
    FirstSeen,
    LastSeen,
}

#[derive(DeriveIden, Clone, Copy)]
enum Threads {
    Table,
    Id,
    DateCreated,
    DateModified,
    Distribution,
    UserId,
    PostCount,
    EventId,
    Title,
    OrgId,
    SharingGroupId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    DateCreated,
    DateModified,
    UserId,
    Contents,
    PostId,
    ThreadId,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
}
