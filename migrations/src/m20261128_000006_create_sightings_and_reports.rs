//! MISP core objects, second part: sightings and event reports. Both belong to an event and
//! go with it (`ON DELETE CASCADE`); a sighting also goes with its attribute.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sightings::Table)
                    .if_not_exists()
                    .col(pk_auto(Sightings::Id))
                    .col(string_len(Sightings::Uuid, 40).unique_key())
                    .col(integer(Sightings::AttributeId))
                    .col(integer(Sightings::EventId))
                    .col(integer(Sightings::OrgId))
                    .col(big_integer(Sightings::DateSighting))
                    .col(string_len(Sightings::Source, 255).default(""))
                    // 0 sighting, 1 false positive, 2 expiration
                    .col(small_integer(Sightings::Type).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sightings::Table, Sightings::AttributeId)
                            .to(Attributes::Table, Attributes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sightings::Table, Sightings::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_sightings_attribute", Sightings::AttributeId),
            ("idx_sightings_event", Sightings::EventId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Sightings::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(EventReports::Table)
                    .if_not_exists()
                    .col(pk_auto(EventReports::Id))
                    .col(string_len(EventReports::Uuid, 40).unique_key())
                    .col(integer(EventReports::EventId))
                    .col(string_len(EventReports::Name, 255))
                    .col(text(EventReports::Content).default(""))
                    .col(small_integer(EventReports::Distribution).default(5))
                    .col(integer(EventReports::SharingGroupId).default(0))
                    .col(big_integer(EventReports::Timestamp))
                    .col(boolean(EventReports::Deleted).default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EventReports::Table, EventReports::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_event_reports_event")
                    .table(EventReports::Table)
                    .col(EventReports::EventId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EventReports::Table.into_iden(),
            Sightings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sightings {
    Table,
    Id,
    Uuid,
    AttributeId,
    EventId,
    OrgId,
    DateSighting,
    Source,
    Type,
}

#[derive(DeriveIden)]
enum EventReports {
    Table,
    Id,
    Uuid,
    EventId,
    Name,
    Content,
    Distribution,
    SharingGroupId,
    Timestamp,
    Deleted,
}

#[derive(DeriveIden)]
enum Attributes {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
}
