//! MISP core objects, first part: events, attributes, objects, tags and their links.
//!
//! Columns follow MISP's schema (`events`, `attributes`, `objects`, `tags`, `event_tags`,
//! `attribute_tags`) with two simplifications: an attribute's value is one text column (MISP
//! splits composite values into `value1|value2` columns only for its SQL searches), and
//! `first_seen` / `last_seen` keep the ISO 8601 text the client sent (MISP stores microseconds and
//! prints the same text back). Children reference their event with `ON DELETE CASCADE`, so deleting
//! an event is one statement.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .if_not_exists()
                    .col(pk_auto(Tags::Id))
                    .col(string_len(Tags::Name, 255).unique_key())
                    .col(string_len(Tags::Colour, 7))
                    .col(boolean(Tags::Exportable).default(true))
                    .col(integer(Tags::OrgId).default(0))
                    .col(integer(Tags::UserId).default(0))
                    .col(boolean(Tags::HideTag).default(false))
                    .col(integer_null(Tags::NumericalValue))
                    .col(boolean(Tags::IsGalaxy).default(false))
                    .col(boolean(Tags::IsCustomGalaxy).default(false))
                    .col(boolean(Tags::LocalOnly).default(false))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .if_not_exists()
                    .col(pk_auto(Events::Id))
                    .col(string_len(Events::Uuid, 40).unique_key())
                    .col(integer(Events::OrgId))
                    .col(integer(Events::OrgcId))
                    .col(integer(Events::UserId))
                    // YYYY-MM-DD
                    .col(string_len(Events::Date, 10))
                    .col(text(Events::Info))
                    .col(boolean(Events::Published).default(false))
                    .col(small_integer(Events::Analysis).default(0))
                    .col(integer(Events::AttributeCount).default(0))
                    .col(small_integer(Events::ThreatLevelId).default(4))
                    .col(small_integer(Events::Distribution).default(1))
                    .col(integer(Events::SharingGroupId).default(0))
                    .col(boolean(Events::ProposalEmailLock).default(false))
                    .col(boolean(Events::Locked).default(false))
                    .col(big_integer(Events::PublishTimestamp).default(0))
                    .col(big_integer(Events::Timestamp))
                    .col(boolean(Events::DisableCorrelation).default(false))
                    .col(string_len(Events::ExtendsUuid, 40).default(""))
                    .col(boolean_null(Events::Protected))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_events_orgc", Events::OrgcId),
            ("idx_events_org", Events::OrgId),
            ("idx_events_timestamp", Events::Timestamp),
            ("idx_events_publish_timestamp", Events::PublishTimestamp),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Events::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Objects::Table)
                    .if_not_exists()
                    .col(pk_auto(Objects::Id))
                    .col(string_len(Objects::Uuid, 40).unique_key())
                    .col(integer(Objects::EventId))
                    .col(string_len(Objects::Name, 131))
                    .col(string_len(Objects::MetaCategory, 255).default(""))
                    .col(text(Objects::Description).default(""))
                    .col(string_len(Objects::TemplateUuid, 40).default(""))
                    .col(string_len(Objects::TemplateVersion, 16).default(""))
                    .col(text(Objects::Comment).default(""))
                    .col(small_integer(Objects::Distribution).default(5))
                    .col(integer(Objects::SharingGroupId).default(0))
                    .col(big_integer(Objects::Timestamp))
                    .col(string_len_null(Objects::FirstSeen, 40))
                    .col(string_len_null(Objects::LastSeen, 40))
                    .col(boolean(Objects::Deleted).default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Objects::Table, Objects::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_objects_event")
                    .table(Objects::Table)
                    .col(Objects::EventId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Attributes::Table)
                    .if_not_exists()
                    .col(pk_auto(Attributes::Id))
                    .col(string_len(Attributes::Uuid, 40).unique_key())
                    .col(integer(Attributes::EventId))
                    // 0 when the attribute is not in an object.
                    .col(integer(Attributes::ObjectId).default(0))
                    .col(string_len_null(Attributes::ObjectRelation, 255))
                    .col(string_len(Attributes::Category, 255))
                    .col(string_len(Attributes::Type, 100))
                    .col(text(Attributes::Value))
                    .col(boolean(Attributes::ToIds).default(false))
                    .col(text(Attributes::Comment).default(""))
                    .col(small_integer(Attributes::Distribution).default(5))
                    .col(integer(Attributes::SharingGroupId).default(0))
                    .col(big_integer(Attributes::Timestamp))
                    .col(string_len_null(Attributes::FirstSeen, 40))
                    .col(string_len_null(Attributes::LastSeen, 40))
                    .col(boolean(Attributes::Deleted).default(false))
                    .col(boolean(Attributes::DisableCorrelation).default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attributes::Table, Attributes::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_attributes_event",
                vec![Attributes::EventId, Attributes::ObjectId],
            ),
            ("idx_attributes_type", vec![Attributes::Type]),
            ("idx_attributes_category", vec![Attributes::Category]),
            ("idx_attributes_timestamp", vec![Attributes::Timestamp]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Attributes::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(EventTags::Table)
                    .if_not_exists()
                    .col(pk_auto(EventTags::Id))
                    .col(integer(EventTags::EventId))
                    .col(integer(EventTags::TagId))
                    .col(boolean(EventTags::Local).default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EventTags::Table, EventTags::EventId)
                            .to(Events::Table, Events::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(EventTags::Table, EventTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_event_tags_unique")
                    .table(EventTags::Table)
                    .col(EventTags::EventId)
                    .col(EventTags::TagId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_event_tags_tag")
                    .table(EventTags::Table)
                    .col(EventTags::TagId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AttributeTags::Table)
                    .if_not_exists()
                    .col(pk_auto(AttributeTags::Id))
                    .col(integer(AttributeTags::AttributeId))
                    .col(integer(AttributeTags::EventId))
                    .col(integer(AttributeTags::TagId))
                    .col(boolean(AttributeTags::Local).default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AttributeTags::Table, AttributeTags::AttributeId)
                            .to(Attributes::Table, Attributes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AttributeTags::Table, AttributeTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attribute_tags_unique")
                    .table(AttributeTags::Table)
                    .col(AttributeTags::AttributeId)
                    .col(AttributeTags::TagId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attribute_tags_event")
                    .table(AttributeTags::Table)
                    .col(AttributeTags::EventId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attribute_tags_tag")
                    .table(AttributeTags::Table)
                    .col(AttributeTags::TagId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AttributeTags::Table.into_iden(),
            EventTags::Table.into_iden(),
            Attributes::Table.into_iden(),
            Objects::Table.into_iden(),
            Events::Table.into_iden(),
            Tags::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Tags {
    Table,
    Id,
    Name,
    Colour,
    Exportable,
    OrgId,
    UserId,
    HideTag,
    NumericalValue,
    IsGalaxy,
    IsCustomGalaxy,
    LocalOnly,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Uuid,
    OrgId,
    OrgcId,
    UserId,
    Date,
    Info,
    Published,
    Analysis,
    AttributeCount,
    ThreatLevelId,
    Distribution,
    SharingGroupId,
    ProposalEmailLock,
    Locked,
    PublishTimestamp,
    Timestamp,
    DisableCorrelation,
    ExtendsUuid,
    Protected,
}

#[derive(DeriveIden)]
enum Objects {
    Table,
    Id,
    Uuid,
    EventId,
    Name,
    MetaCategory,
    Description,
    TemplateUuid,
    TemplateVersion,
    Comment,
    Distribution,
    SharingGroupId,
    Timestamp,
    FirstSeen,
    LastSeen,
    Deleted,
}

#[derive(DeriveIden)]
enum Attributes {
    Table,
    Id,
    Uuid,
    EventId,
    ObjectId,
    ObjectRelation,
    Category,
    Type,
    Value,
    ToIds,
    Comment,
    Distribution,
    SharingGroupId,
    Timestamp,
    FirstSeen,
    LastSeen,
    Deleted,
    DisableCorrelation,
}

#[derive(DeriveIden)]
enum EventTags {
    Table,
    Id,
    EventId,
    TagId,
    Local,
}

#[derive(DeriveIden)]
enum AttributeTags {
    Table,
    Id,
    AttributeId,
    EventId,
    TagId,
    Local,
}
