use sea_orm::{ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryOrder, Set};

use crate::backend::entities::role;

pub async fn find_role(db: &impl ConnectionTrait, id: i32) -> Result<Option<role::Model>, DbErr> {
    role::Entity::find_by_id(id).one(db).await
}

pub async fn list_roles(db: &impl ConnectionTrait) -> Result<Vec<role::Model>, DbErr> {
    role::Entity::find()
        .order_by_asc(role::Column::Id)
        .all(db)
        .await
}

/// MISP's default role ids, fixed because clients and MISP's own docs refer to them.
pub const ROLE_SITE_ADMIN: i32 = 1;
pub const ROLE_ORG_ADMIN: i32 = 2;
pub const ROLE_USER: i32 = 3;
pub const ROLE_PUBLISHER: i32 = 4;
pub const ROLE_SYNC_USER: i32 = 5;
pub const ROLE_READ_ONLY: i32 = 6;

/// Inserts MISP's six default roles when the table is empty.
pub async fn insert_default_roles(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if role::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let roles = [
        default_role(ROLE_SITE_ADMIN, "admin", Perms::all()),
        default_role(ROLE_ORG_ADMIN, "Org Admin", Perms::org_admin()),
        default_role(ROLE_USER, "User", Perms::user()),
        default_role(ROLE_PUBLISHER, "Publisher", Perms::publisher()),
        default_role(ROLE_SYNC_USER, "Sync user", Perms::sync_user()),
        default_role(ROLE_READ_ONLY, "Read Only", Perms::read_only()),
    ];
    role::Entity::insert_many(roles).exec(db).await?;
    // Explicit ids leave PostgreSQL's serial sequence behind; move it past them so a role
    // added later gets a fresh id.
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('roles', 'id'), (SELECT MAX(id) FROM roles))",
        )
        .await?;
    }
    Ok(())
}

/// The permission flags of one default role, named as MISP names them.
#[derive(Default, Clone, Copy)]
struct Perms {
    add: bool,
    modify: bool,
    modify_org: bool,
    publish: bool,
    delegate: bool,
    sync: bool,
    admin: bool,
    audit: bool,
    auth: bool,
    site_admin: bool,
    regexp_access: bool,
    tagger: bool,
    template: bool,
    sharing_group: bool,
    tag_editor: bool,
    sighting: bool,
    object_template: bool,
    publish_zmq: bool,
    publish_kafka: bool,
    decaying: bool,
    galaxy_editor: bool,
    warninglist: bool,
    default_role: bool,
}

impl Perms {
    fn all() -> Self {
        Self {
            add: true,
            modify: true,
            modify_org: true,
            publish: true,
            delegate: true,
            sync: true,
            admin: true,
            audit: true,
            auth: true,
            site_admin: true,
            regexp_access: true,
            tagger: true,
            template: true,
            sharing_group: true,
            tag_editor: true,
            sighting: true,
            object_template: true,
            publish_zmq: true,
            publish_kafka: true,
            decaying: true,
            galaxy_editor: true,
            warninglist: true,
            default_role: false,
        }
    }
    fn read_only() -> Self {
        Self {
            audit: true,
            auth: true,
            ..Self::default()
        }
    }
    fn user() -> Self {
        Self {
            add: true,
            modify: true,
            modify_org: true,
            tagger: true,
            sighting: true,
            default_role: true,
            ..Self::read_only()
        }
    }
    fn publisher() -> Self {
        Self {
            publish: true,
            delegate: true,
            publish_zmq: true,
            publish_kafka: true,
            default_role: false,
            ..Self::user()
        }
    }
    fn org_admin() -> Self {
        Self {
            admin: true,
            template: true,
            sharing_group: true,
            tag_editor: true,
            ..Self::publisher()
        }
    }
    fn sync_user() -> Self {
        Self {
            sync: true,
            sharing_group: true,
            tag_editor: true,
            ..Self::publisher()
        }
    }
}

fn default_role(id: i32, name: &str, p: Perms) -> role::ActiveModel {
    role::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        perm_add: Set(p.add),
        perm_modify: Set(p.modify),
        perm_modify_org: Set(p.modify_org),
        perm_publish: Set(p.publish),
        perm_delegate: Set(p.delegate),
        perm_sync: Set(p.sync),
        perm_admin: Set(p.admin),
        perm_audit: Set(p.audit),
        perm_auth: Set(p.auth),
        perm_site_admin: Set(p.site_admin),
        perm_regexp_access: Set(p.regexp_access),
        perm_tagger: Set(p.tagger),
        perm_template: Set(p.template),
        perm_sharing_group: Set(p.sharing_group),
        perm_tag_editor: Set(p.tag_editor),
        perm_sighting: Set(p.sighting),
        perm_object_template: Set(p.object_template),
        perm_publish_zmq: Set(p.publish_zmq),
        perm_publish_kafka: Set(p.publish_kafka),
        perm_decaying: Set(p.decaying),
        perm_galaxy_editor: Set(p.galaxy_editor),
        perm_warninglist: Set(p.warninglist),
        default_role: Set(p.default_role),
        restricted_to_site_admin: Set(p.site_admin),
    }
}
