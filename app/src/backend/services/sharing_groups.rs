//! Sharing groups (MISP's distribution 4): named sets of organisations. An event, attribute,
//! object or report with distribution 4 is seen by the organisations of its sharing group (and
//! by its own organisation and site admins).
//!
//! Who manages them: users with `perm_sharing_group` create them (their organisation becomes the
//! owner and a member); the owner's users with that permission, and site admins, edit and delete
//! them; members marked `extend` may also add organisations. A group still used by events or
//! their contents cannot be deleted, so nothing silently becomes invisible.
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::{json, Map, Value};

use super::audit::{self, diff, Entry};
use super::input::{loose_bool, optional_uuid};
use crate::backend::entities::{
    attribute, event, event_report, object, organisation, sharing_group, sharing_group_org,
};
use crate::backend::{misp_datetime, now, AppState, Principal};
use crate::error::AppError;

/// The sharing groups organisation `org_id` belongs to (one query on every request, as the
/// principal is loaded). The owner is always a member: [`add_group`] adds it and
/// [`change_member`] never removes it, so membership alone answers.
pub async fn org_sharing_groups(
    db: &impl ConnectionTrait,
    org_id: i32,
) -> Result<Vec<i32>, sea_orm::DbErr> {
    use sea_orm::QuerySelect;
    sharing_group_org::Entity::find()
        .select_only()
        .column(sharing_group_org::Column::SharingGroupId)
        .filter(sharing_group_org::Column::OrgId.eq(org_id))
        .into_tuple()
        .all(db)
        .await
}

/// Checks that `actor` may share with each sharing group in `ids` (0 means none): a group their
/// organisation belongs to, or any existing group for site admins.
pub async fn check_usable(
    db: &impl ConnectionTrait,
    actor: &Principal,
    ids: impl IntoIterator<Item = i32>,
) -> Result<(), AppError> {
    let mut ids: Vec<i32> = ids.into_iter().filter(|id| *id != 0).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let usable = if actor.is_site_admin() {
            sharing_group::Entity::find_by_id(id)
                .one(db)
                .await?
                .is_some()
        } else {
            actor.sharing_groups.contains(&id)
        };
        if !usable {
            return Err(AppError::Invalid(format!(
                "sharing_group_id {id}: unknown sharing group, or not one your organisation belongs to."
            )));
        }
    }
    Ok(())
}

fn org_json(o: Option<&organisation::Model>, id: i32) -> Value {
    match o {
        Some(o) => {
            json!({"id": o.id.to_string(), "uuid": o.uuid, "name": o.name, "local": o.local})
        }
        None => json!({"id": id.to_string()}),
    }
}

fn group_fields(g: &sharing_group::Model) -> Value {
    json!({
        "id": g.id.to_string(),
        "uuid": g.uuid,
        "name": g.name,
        "releasability": g.releasability,
        "description": g.description,
        "organisation_uuid": g.organisation_uuid,
        "org_id": g.org_id.to_string(),
        "sync_user_id": "0",
        "active": g.active,
        "created": misp_datetime(g.created),
        "modified": misp_datetime(g.modified),
        "local": g.local,
        "roaming": g.roaming,
    })
}

/// A group as MISP lists it: `SharingGroup`, its owner `Organisation`, its `SharingGroupOrg`
/// members (each with `Organisation`) and `SharingGroupServer` (always empty here).
pub async fn group_document(
    db: &impl ConnectionTrait,
    g: &sharing_group::Model,
) -> Result<Map<String, Value>, sea_orm::DbErr> {
    let members = sharing_group_org::Entity::find()
        .filter(sharing_group_org::Column::SharingGroupId.eq(g.id))
        .order_by_asc(sharing_group_org::Column::Id)
        .all(db)
        .await?;
    let mut org_ids: Vec<i32> = members.iter().map(|m| m.org_id).collect();
    org_ids.push(g.org_id);
    let orgs: std::collections::HashMap<i32, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut out = Map::new();
    out.insert("SharingGroup".into(), group_fields(g));
    out.insert(
        "Organisation".into(),
        org_json(orgs.get(&g.org_id), g.org_id),
    );
    out.insert(
        "SharingGroupOrg".into(),
        Value::Array(
            members
                .iter()
                .map(|m| {
                    json!({
                        "id": m.id.to_string(),
                        "sharing_group_id": m.sharing_group_id.to_string(),
                        "org_id": m.org_id.to_string(),
                        "extend": m.extend,
                        "Organisation": org_json(orgs.get(&m.org_id), m.org_id),
                    })
                })
                .collect(),
        ),
    );
    out.insert("SharingGroupServer".into(), json!([]));
    Ok(out)
}

/// The `SharingGroup` object `events/view` embeds for a distribution-4 event: the group's
/// fields with `Organisation`, `SharingGroupOrg` and `SharingGroupServer` inside.
pub async fn embedded(db: &impl ConnectionTrait, id: i32) -> Result<Option<Value>, sea_orm::DbErr> {
    let Some(g) = sharing_group::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let mut doc = group_document(db, &g).await?;
    let mut fields = match doc.remove("SharingGroup") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    fields.extend(doc);
    Ok(Some(Value::Object(fields)))
}

fn may_manage(actor: &Principal, g: &sharing_group::Model) -> bool {
    !actor.read_only
        && (actor.is_site_admin() || (actor.role.perm_sharing_group && g.org_id == actor.org.id))
}

async fn visible_group(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<sharing_group::Model, AppError> {
    let found = match id_or_uuid.parse::<i32>() {
        Ok(id) => sharing_group::Entity::find_by_id(id).one(&state.db).await?,
        Err(_) => {
            sharing_group::Entity::find()
                .filter(sharing_group::Column::Uuid.eq(id_or_uuid.to_lowercase()))
                .one(&state.db)
                .await?
        }
    };
    match found {
        Some(g) if actor.in_sharing_group(g.id) => Ok(g),
        _ => Err(AppError::NotFound("Invalid sharing group.".into())),
    }
}

/// `GET sharing_groups/index`: `{"response": [...]}`, each with `editable` / `deletable`.
pub async fn index_groups(state: &AppState, actor: &Principal) -> Result<Value, AppError> {
    let mut query = sharing_group::Entity::find().order_by_asc(sharing_group::Column::Name);
    if !actor.is_site_admin() {
        query = query.filter(sharing_group::Column::Id.is_in(actor.sharing_groups.clone()));
    }
    let mut out = Vec::new();
    for g in query.all(&state.db).await? {
        let mut doc = group_document(&state.db, &g).await?;
        let manage = may_manage(actor, &g);
        doc.insert("editable".into(), json!(manage));
        doc.insert("deletable".into(), json!(manage));
        out.push(Value::Object(doc));
    }
    Ok(json!({"response": out}))
}

/// `GET sharing_groups/view/<id|uuid>`.
pub async fn view_group(state: &AppState, actor: &Principal, id: &str) -> Result<Value, AppError> {
    let g = visible_group(state, actor, id).await?;
    Ok(Value::Object(group_document(&state.db, &g).await?))
}

fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    super::input::field_text(m, key).map(|t| t.trim().to_owned())
}

fn body_map(body: Value) -> Result<Map<String, Value>, AppError> {
    match body {
        Value::Object(mut m) => match m.remove("SharingGroup") {
            Some(Value::Object(inner)) => {
                let mut inner = inner;
                // MISP also accepts the members beside the group.
                if let Some(orgs) = m.remove("SharingGroupOrg") {
                    inner.entry("SharingGroupOrg").or_insert(orgs);
                }
                Ok(inner)
            }
            _ => Ok(m),
        },
        Value::Null => Ok(Map::new()),
        _ => Err(AppError::Invalid(
            "The request body must be a JSON object.".into(),
        )),
    }
}

fn check_name(name: &str) -> Result<(), AppError> {
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AppError::Invalid(
            "A sharing group needs a name (at most 255 characters).".into(),
        ));
    }
    Ok(())
}

/// An organisation by id, uuid or name (MISP's `SharingGroupOrg` items carry any of them).
async fn find_org(
    db: &impl ConnectionTrait,
    reference: &Value,
) -> Result<Option<organisation::Model>, sea_orm::DbErr> {
    let m = match reference {
        Value::Object(m) => m
            .get("Organisation")
            .and_then(Value::as_object)
            .unwrap_or(m),
        _ => return Ok(None),
    };
    if let Some(id) = text(m, "org_id")
        .or_else(|| text(m, "id"))
        .and_then(|t| t.parse::<i32>().ok())
    {
        return organisation::Entity::find_by_id(id).one(db).await;
    }
    let cond = match (text(m, "uuid"), text(m, "name")) {
        (Some(u), _) => organisation::Column::Uuid.eq(u.to_lowercase()),
        (None, Some(n)) => organisation::Column::Name.eq(n),
        (None, None) => return Ok(None),
    };
    organisation::Entity::find().filter(cond).one(db).await
}

/// `POST sharing_groups/add`: `name` (required, unique), `releasability`, `description`,
/// `active`, `roaming`, `uuid`, and optionally `SharingGroupOrg` members. The caller's
/// organisation owns the group and is its first member (with `extend`).
pub async fn add_group(
    state: &AppState,
    actor: &Principal,
    body: Value,
) -> Result<Value, AppError> {
    if actor.read_only || !(actor.is_site_admin() || actor.role.perm_sharing_group) {
        return Err(AppError::Forbidden(
            "You do not have permission to create sharing groups.".into(),
        ));
    }
    let m = body_map(body)?;
    let name = text(&m, "name").unwrap_or_default();
    check_name(&name)?;
    let uuid = optional_uuid(text(&m, "uuid").as_deref())?
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut members = Vec::new();
    if let Some(Value::Array(items)) = m.get("SharingGroupOrg") {
        for item in items {
            let Some(org) = find_org(&state.db, item).await? else {
                return Err(AppError::Invalid(format!(
                    "SharingGroupOrg: unknown organisation {item}."
                )));
            };
            let extend = item
                .as_object()
                .is_some_and(|o| loose_bool(o.get("extend")));
            members.push((org.id, extend));
        }
    }
    let ts = now();
    let txn = state.db.begin().await?;
    if sharing_group::Entity::find()
        .filter(
            Condition::any()
                .add(sharing_group::Column::Name.eq(name.as_str()))
                .add(sharing_group::Column::Uuid.eq(uuid.as_str())),
        )
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(
            "A sharing group with this name or uuid already exists.".into(),
        ));
    }
    let g = sharing_group::ActiveModel {
        id: NotSet,
        uuid: Set(uuid),
        name: Set(name),
        releasability: Set(text(&m, "releasability").unwrap_or_default()),
        description: Set(text(&m, "description").unwrap_or_default()),
        organisation_uuid: Set(actor.org.uuid.clone()),
        org_id: Set(actor.org.id),
        active: Set(m.get("active").is_none_or(|v| loose_bool(Some(v)))),
        local: Set(true),
        roaming: Set(loose_bool(m.get("roaming"))),
        created: Set(ts),
        modified: Set(ts),
    }
    .insert(&txn)
    .await?;
    if !members.iter().any(|(id, _)| *id == actor.org.id) {
        members.insert(0, (actor.org.id, true));
    }
    for (org_id, extend) in members {
        upsert_member(&txn, g.id, org_id, extend).await?;
    }
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "SharingGroup",
            g.id,
            "add",
            format!("SharingGroup ({}): {}", g.id, g.name),
        ),
    )
    .await?;
    let doc = group_document(&txn, &g).await?;
    txn.commit().await?;
    super::auth::forget_principals();
    Ok(Value::Object(doc))
}

async fn upsert_member(
    db: &impl ConnectionTrait,
    group_id: i32,
    org_id: i32,
    extend: bool,
) -> Result<bool, sea_orm::DbErr> {
    let existing = sharing_group_org::Entity::find()
        .filter(sharing_group_org::Column::SharingGroupId.eq(group_id))
        .filter(sharing_group_org::Column::OrgId.eq(org_id))
        .one(db)
        .await?;
    match existing {
        Some(row) if row.extend == extend => Ok(false),
        Some(row) => {
            let mut active: sharing_group_org::ActiveModel = row.into();
            active.extend = Set(extend);
            active.update(db).await?;
            Ok(true)
        }
        None => {
            sharing_group_org::ActiveModel {
                id: NotSet,
                sharing_group_id: Set(group_id),
                org_id: Set(org_id),
                extend: Set(extend),
            }
            .insert(db)
            .await?;
            Ok(true)
        }
    }
}

/// `POST sharing_groups/edit/<id>`: the fields given replace the stored ones.
pub async fn edit_group(
    state: &AppState,
    actor: &Principal,
    id: &str,
    body: Value,
) -> Result<Value, AppError> {
    let g = visible_group(state, actor, id).await?;
    if !may_manage(actor, &g) {
        return Err(AppError::Forbidden(
            "You do not have permission to edit this sharing group.".into(),
        ));
    }
    let m = body_map(body)?;
    let mut active: sharing_group::ActiveModel = g.clone().into();
    if let Some(name) = text(&m, "name") {
        check_name(&name)?;
        active.name = Set(name);
    }
    if let Some(r) = text(&m, "releasability") {
        active.releasability = Set(r);
    }
    if let Some(d) = text(&m, "description") {
        active.description = Set(d);
    }
    if m.contains_key("active") {
        active.active = Set(loose_bool(m.get("active")));
    }
    if m.contains_key("roaming") {
        active.roaming = Set(loose_bool(m.get("roaming")));
    }
    active.modified = Set(now());
    let txn = state.db.begin().await?;
    let saved = active.update(&txn).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::Conflict("A sharing group with this name already exists.".into())
        }
        _ => AppError::from(e),
    })?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "SharingGroup",
            saved.id,
            "edit",
            format!("SharingGroup ({}): {}", saved.id, saved.name),
        )
        .change(diff([
            ("name", g.name.clone(), saved.name.clone()),
            (
                "releasability",
                g.releasability.clone(),
                saved.releasability.clone(),
            ),
            (
                "description",
                g.description.clone(),
                saved.description.clone(),
            ),
            ("active", g.active.to_string(), saved.active.to_string()),
            ("roaming", g.roaming.to_string(), saved.roaming.to_string()),
        ])),
    )
    .await?;
    let doc = group_document(&txn, &saved).await?;
    txn.commit().await?;
    super::auth::forget_principals();
    Ok(Value::Object(doc))
}

/// How many events, attributes, objects and reports share with group `id`.
async fn uses(db: &impl ConnectionTrait, id: i32) -> Result<u64, sea_orm::DbErr> {
    Ok(event::Entity::find()
        .filter(event::Column::SharingGroupId.eq(id))
        .count(db)
        .await?
        + attribute::Entity::find()
            .filter(attribute::Column::SharingGroupId.eq(id))
            .count(db)
            .await?
        + object::Entity::find()
            .filter(object::Column::SharingGroupId.eq(id))
            .count(db)
            .await?
        + event_report::Entity::find()
            .filter(event_report::Column::SharingGroupId.eq(id))
            .count(db)
            .await?)
}

/// `POST sharing_groups/delete/<id>`: only a group nothing shares with.
pub async fn delete_group(state: &AppState, actor: &Principal, id: &str) -> Result<i32, AppError> {
    let g = visible_group(state, actor, id).await?;
    if !may_manage(actor, &g) {
        return Err(AppError::Forbidden(
            "You do not have permission to delete this sharing group.".into(),
        ));
    }
    let txn = state.db.begin().await?;
    let n = uses(&txn, g.id).await?;
    if n > 0 {
        return Err(AppError::Conflict(format!(
            "The sharing group is used by {n} event(s), attribute(s), object(s) or report(s): change their distribution first."
        )));
    }
    sharing_group::Entity::delete_by_id(g.id).exec(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "SharingGroup",
            g.id,
            "delete",
            format!("SharingGroup ({}): {}", g.id, g.name),
        ),
    )
    .await?;
    txn.commit().await?;
    super::auth::forget_principals();
    Ok(g.id)
}

/// Whether `actor` may add or remove members of `g`: its managers, or a member organisation
/// marked `extend` (with `perm_sharing_group`).
async fn may_extend(
    db: &impl ConnectionTrait,
    actor: &Principal,
    g: &sharing_group::Model,
) -> Result<bool, sea_orm::DbErr> {
    if may_manage(actor, g) {
        return Ok(true);
    }
    if actor.read_only || !actor.role.perm_sharing_group {
        return Ok(false);
    }
    Ok(sharing_group_org::Entity::find()
        .filter(sharing_group_org::Column::SharingGroupId.eq(g.id))
        .filter(sharing_group_org::Column::OrgId.eq(actor.org.id))
        .filter(sharing_group_org::Column::Extend.eq(true))
        .one(db)
        .await?
        .is_some())
}

/// `POST sharing_groups/addOrg/<group>/<org>` (`extend` in the body) and `removeOrg`.
pub async fn change_member(
    state: &AppState,
    actor: &Principal,
    group: &str,
    org_ref: &str,
    add: Option<bool>,
) -> Result<String, AppError> {
    let g = visible_group(state, actor, group).await?;
    if !may_extend(&state.db, actor, &g).await? {
        return Err(AppError::Forbidden(
            "You do not have permission to change this sharing group's organisations.".into(),
        ));
    }
    // An id, a uuid, or the organisation's name (PyMISP accepts all three).
    let reference = match org_ref.parse::<i32>() {
        Ok(id) => json!({"id": id}),
        Err(_) if uuid::Uuid::parse_str(org_ref).is_ok() => json!({"uuid": org_ref}),
        Err(_) => json!({"name": org_ref}),
    };
    let Some(org) = find_org(&state.db, &reference).await? else {
        return Err(AppError::NotFound("Invalid organisation.".into()));
    };
    let txn = state.db.begin().await?;
    let message = match add {
        Some(extend) => {
            upsert_member(&txn, g.id, org.id, extend).await?;
            "Organisation added to the sharing group."
        }
        None => {
            if org.id == g.org_id {
                return Err(AppError::Invalid(
                    "The owning organisation cannot be removed from its sharing group.".into(),
                ));
            }
            let removed = sharing_group_org::Entity::delete_many()
                .filter(sharing_group_org::Column::SharingGroupId.eq(g.id))
                .filter(sharing_group_org::Column::OrgId.eq(org.id))
                .exec(&txn)
                .await?
                .rows_affected;
            if removed == 0 {
                return Err(AppError::NotFound(
                    "The organisation is not in this sharing group.".into(),
                ));
            }
            "Organisation removed from the sharing group."
        }
    };
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "SharingGroup",
            g.id,
            if add.is_some() { "addOrg" } else { "removeOrg" },
            format!("SharingGroup ({}): {}", g.id, g.name),
        )
        .change(format!("Organisation ({}): {}", org.id, org.name)),
    )
    .await?;
    txn.commit().await?;
    super::auth::forget_principals();
    Ok(message.to_owned())
}
