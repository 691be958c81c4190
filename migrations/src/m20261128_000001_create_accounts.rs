//! Organisations, roles, users and API keys: the accounts every other table refers to.
//!
//! Times are Unix seconds in BIGINT columns, as MISP stores them, which also keeps SQLite and
//! PostgreSQL identical. Role permissions are one boolean column each because MISP's JSON
//! (`/users/view/me`) shows them that way and access checks read them one by one.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .if_not_exists()
                    .col(pk_auto(Organisations::Id))
                    .col(string_len(Organisations::Uuid, 40).unique_key())
                    .col(string_len(Organisations::Name, 255).unique_key())
                    .col(text(Organisations::Description).default(""))
                    .col(string_len(Organisations::Type, 255).default(""))
                    .col(string_len(Organisations::Nationality, 255).default(""))
                    .col(string_len(Organisations::Sector, 255).default(""))
                    .col(string_len(Organisations::Contacts, 255).default(""))
                    .col(boolean(Organisations::Local).default(true))
                    .col(integer(Organisations::CreatedBy).default(0))
                    .col(big_integer(Organisations::DateCreated))
                    .col(big_integer(Organisations::DateModified))
                    .to_owned(),
            )
            .await?;

        let mut roles = Table::create();
        roles
            .table(Roles::Table)
            .if_not_exists()
            .col(pk_auto(Roles::Id))
            .col(string_len(Roles::Name, 100).unique_key());
        for perm in Roles::PERMISSIONS {
            roles.col(boolean(perm).default(false));
        }
        roles
            .col(boolean(Roles::DefaultRole).default(false))
            .col(boolean(Roles::RestrictedToSiteAdmin).default(false));
        manager.create_table(roles.to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(pk_auto(Users::Id))
                    .col(integer(Users::OrgId))
                    .col(integer(Users::RoleId))
                    // Stored lower-cased: MISP treats e-mail addresses case-insensitively.
                    .col(string_len(Users::Email, 255).unique_key())
                    // argon2id PHC string; never serialised to clients.
                    .col(string_len(Users::Password, 255))
                    .col(boolean(Users::Disabled).default(false))
                    .col(boolean(Users::ChangePw).default(false))
                    .col(boolean(Users::Termsaccepted).default(false))
                    .col(boolean(Users::Autoalert).default(false))
                    .col(boolean(Users::Contactalert).default(false))
                    .col(integer(Users::InvitedBy).default(0))
                    .col(text(Users::Gpgkey).default(""))
                    .col(integer(Users::NidsSid).default(0))
                    .col(big_integer_null(Users::Expiration))
                    .col(big_integer(Users::CurrentLogin).default(0))
                    .col(big_integer(Users::LastLogin).default(0))
                    .col(big_integer(Users::LastApiAccess).default(0))
                    .col(big_integer(Users::LastPwChange).default(0))
                    .col(boolean(Users::ForceLogout).default(false))
                    .col(big_integer(Users::DateCreated))
                    .col(big_integer(Users::DateModified))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::OrgId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_org_id")
                    .table(Users::Table)
                    .col(Users::OrgId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuthKeys::Table)
                    .if_not_exists()
                    .col(pk_auto(AuthKeys::Id))
                    .col(string_len(AuthKeys::Uuid, 40).unique_key())
                    .col(integer(AuthKeys::UserId))
                    // SHA-256 of the 40-character key. Keys are 238 bits of randomness, so a fast
                    // hash is as safe as a slow one here and lets every API request find its key
                    // by an indexed equality lookup.
                    .col(string_len(AuthKeys::AuthkeyHash, 64).unique_key())
                    .col(string_len(AuthKeys::AuthkeyStart, 4))
                    .col(string_len(AuthKeys::AuthkeyEnd, 4))
                    .col(string_len(AuthKeys::Comment, 255).default(""))
                    .col(boolean(AuthKeys::ReadOnly).default(false))
                    .col(big_integer(AuthKeys::Created))
                    .col(big_integer(AuthKeys::Expiration).default(0))
                    .col(big_integer(AuthKeys::LastUsed).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AuthKeys::Table, AuthKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_auth_keys_user_id")
                    .table(AuthKeys::Table)
                    .col(AuthKeys::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Roles::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organisations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    Uuid,
    Name,
    Description,
    Type,
    Nationality,
    Sector,
    Contacts,
    Local,
    CreatedBy,
    DateCreated,
    DateModified,
}

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    Id,
    Name,
    PermAdd,
    PermModify,
    PermModifyOrg,
    PermPublish,
    PermDelegate,
    PermSync,
    PermAdmin,
    PermAudit,
    PermAuth,
    PermSiteAdmin,
    PermRegexpAccess,
    PermTagger,
    PermTemplate,
    PermSharingGroup,
    PermTagEditor,
    PermSighting,
    PermObjectTemplate,
    PermPublishZmq,
    PermPublishKafka,
    PermDecaying,
    PermGalaxyEditor,
    PermWarninglist,
    DefaultRole,
    RestrictedToSiteAdmin,
}

impl Roles {
    const PERMISSIONS: [Roles; 22] = [
        Roles::PermAdd,
        Roles::PermModify,
        Roles::PermModifyOrg,
        Roles::PermPublish,
        Roles::PermDelegate,
        Roles::PermSync,
        Roles::PermAdmin,
        Roles::PermAudit,
        Roles::PermAuth,
        Roles::PermSiteAdmin,
        Roles::PermRegexpAccess,
        Roles::PermTagger,
        Roles::PermTemplate,
        Roles::PermSharingGroup,
        Roles::PermTagEditor,
        Roles::PermSighting,
        Roles::PermObjectTemplate,
        Roles::PermPublishZmq,
        Roles::PermPublishKafka,
        Roles::PermDecaying,
        Roles::PermGalaxyEditor,
        Roles::PermWarninglist,
    ];
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    OrgId,
    RoleId,
    Email,
    Password,
    Disabled,
    ChangePw,
    Termsaccepted,
    Autoalert,
    Contactalert,
    InvitedBy,
    Gpgkey,
    NidsSid,
    Expiration,
    CurrentLogin,
    LastLogin,
    LastApiAccess,
    LastPwChange,
    ForceLogout,
    DateCreated,
    DateModified,
}

#[derive(DeriveIden)]
enum AuthKeys {
    Table,
    Id,
    Uuid,
    UserId,
    AuthkeyHash,
    AuthkeyStart,
    AuthkeyEnd,
    Comment,
    ReadOnly,
    Created,
    Expiration,
    LastUsed,
}
