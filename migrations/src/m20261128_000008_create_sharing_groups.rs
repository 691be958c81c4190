//! Sharing groups (MISP's distribution 4): a named set of organisations. `sharing_group_orgs`
//! lists the members; `extend` lets a member's admins add organisations. Server-level sharing
//! (`sharing_group_servers`, used by MISP's sync) is not modelled.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SharingGroups::Table)
                    .if_not_exists()
                    .col(pk_auto(SharingGroups::Id))
                    .col(string_len(SharingGroups::Uuid, 40).unique_key())
                    .col(string_len(SharingGroups::Name, 255).unique_key())
                    .col(text(SharingGroups::Releasability).default(""))
                    .col(text(SharingGroups::Description).default(""))
                    .col(string_len(SharingGroups::OrganisationUuid, 40))
                    // the creating organisation
                    .col(integer(SharingGroups::OrgId))
                    .col(boolean(SharingGroups::Active).default(true))
                    .col(boolean(SharingGroups::Local).default(true))
                    .col(boolean(SharingGroups::Roaming).default(false))
                    .col(big_integer(SharingGroups::Created))
                    .col(big_integer(SharingGroups::Modified))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SharingGroupOrgs::Table)
                    .if_not_exists()
                    .col(pk_auto(SharingGroupOrgs::Id))
                    .col(integer(SharingGroupOrgs::SharingGroupId))
                    .col(integer(SharingGroupOrgs::OrgId))
                    .col(boolean(SharingGroupOrgs::Extend).default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SharingGroupOrgs::Table, SharingGroupOrgs::SharingGroupId)
                            .to(SharingGroups::Table, SharingGroups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SharingGroupOrgs::Table, SharingGroupOrgs::OrgId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sharing_group_orgs_unique")
                    .table(SharingGroupOrgs::Table)
                    .col(SharingGroupOrgs::SharingGroupId)
                    .col(SharingGroupOrgs::OrgId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sharing_group_orgs_org")
                    .table(SharingGroupOrgs::Table)
                    .col(SharingGroupOrgs::OrgId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SharingGroupOrgs::Table.into_iden(),
            SharingGroups::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum SharingGroups {
    Table,
    Id,
    Uuid,
    Name,
    Releasability,
    Description,
    OrganisationUuid,
    OrgId,
    Active,
    Local,
    Roaming,
    Created,
    Modified,
}

#[derive(DeriveIden)]
enum SharingGroupOrgs {
    Table,
    Id,
    SharingGroupId,
    OrgId,
    Extend,
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}
