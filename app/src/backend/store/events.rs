//! Events, their attributes, objects and tags (MISP core objects, first part).
use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::backend::entities::{attribute, attribute_tag, event, event_tag, object, tag};

/// An event by numeric id or uuid.
pub async fn find_event(
    db: &impl ConnectionTrait,
    id_or_uuid: &str,
) -> Result<Option<event::Model>, DbErr> {
    match id_or_uuid.parse::<i32>() {
        Ok(id) => event::Entity::find_by_id(id).one(db).await,
        Err(_) => {
            event::Entity::find()
                .filter(event::Column::Uuid.eq(id_or_uuid.to_lowercase()))
                .one(db)
                .await
        }
    }
}

/// Filters of `events/index`; `visibility` limits to what a non-admin may see (the services'
/// `visible_events_condition`).
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub visibility: Option<Condition>,
    pub ids: Option<Vec<i32>>,
    pub uuid: Option<String>,
    pub org_id: Option<i32>,
    pub published: Option<bool>,
    pub info: Option<String>,
    pub timestamp_from: Option<i64>,
    pub with_tag: Option<i32>,
}

pub async fn list_events(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    page: u64,
    limit: u64,
) -> Result<Vec<event::Model>, DbErr> {
    let mut cond = Condition::all();
    if let Some(visible) = &filter.visibility {
        cond = cond.add(visible.clone());
    }
    if let Some(ids) = &filter.ids {
        cond = cond.add(event::Column::Id.is_in(ids.clone()));
    }
    if let Some(uuid) = &filter.uuid {
        cond = cond.add(event::Column::Uuid.eq(uuid.to_lowercase()));
    }
    if let Some(org) = filter.org_id {
        cond = cond.add(event::Column::OrgcId.eq(org));
    }
    if let Some(p) = filter.published {
        cond = cond.add(event::Column::Published.eq(p));
    }
    if let Some(info) = &filter.info {
        cond = cond.add(super::contains_ignore_case(event::Column::Info, info));
    }
    if let Some(ts) = filter.timestamp_from {
        cond = cond.add(event::Column::Timestamp.gte(ts));
    }
    if let Some(tag_id) = filter.with_tag {
        let tagged: Vec<i32> = event_tag::Entity::find()
            .select_only()
            .column(event_tag::Column::EventId)
            .filter(event_tag::Column::TagId.eq(tag_id))
            .into_tuple()
            .all(db)
            .await?;
        cond = cond.add(event::Column::Id.is_in(tagged));
    }
    event::Entity::find()
        .filter(cond)
        .order_by_desc(event::Column::Timestamp)
        .order_by_desc(event::Column::Id)
        .paginate(db, limit.max(1))
        .fetch_page(page.saturating_sub(1))
        .await
}

pub async fn insert_event(
    db: &impl ConnectionTrait,
    model: event::ActiveModel,
) -> Result<event::Model, DbErr> {
    model.insert(db).await
}

pub async fn update_event(
    db: &impl ConnectionTrait,
    model: event::ActiveModel,
) -> Result<event::Model, DbErr> {
    model.update(db).await
}

pub async fn delete_event(db: &impl ConnectionTrait, id: i32) -> Result<u64, DbErr> {
    // Children go by ON DELETE CASCADE; attribute tags reference attributes.
    Ok(event::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected)
}

/// Recounts the event's live attributes (MISP's `attribute_count`).
pub async fn refresh_attribute_count(
    db: &impl ConnectionTrait,
    event_id: i32,
) -> Result<(), DbErr> {
    let count = attribute::Entity::find()
        .filter(attribute::Column::EventId.eq(event_id))
        .filter(attribute::Column::Deleted.eq(false))
        .count(db)
        .await?;
    event::Entity::update_many()
        .col_expr(
            event::Column::AttributeCount,
            sea_orm::sea_query::Expr::value(i32::try_from(count).unwrap_or(i32::MAX)),
        )
        .filter(event::Column::Id.eq(event_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn list_attributes(
    db: &impl ConnectionTrait,
    event_id: i32,
) -> Result<Vec<attribute::Model>, DbErr> {
    attribute::Entity::find()
        .filter(attribute::Column::EventId.eq(event_id))
        .order_by_asc(attribute::Column::Id)
        .all(db)
        .await
}

pub async fn find_attribute(
    db: &impl ConnectionTrait,
    id_or_uuid: &str,
) -> Result<Option<attribute::Model>, DbErr> {
    match id_or_uuid.parse::<i32>() {
        Ok(id) => attribute::Entity::find_by_id(id).one(db).await,
        Err(_) => {
            attribute::Entity::find()
                .filter(attribute::Column::Uuid.eq(id_or_uuid.to_lowercase()))
                .one(db)
                .await
        }
    }
}

pub async fn insert_attribute(
    db: &impl ConnectionTrait,
    model: attribute::ActiveModel,
) -> Result<attribute::Model, DbErr> {
    model.insert(db).await
}

pub async fn update_attribute(
    db: &impl ConnectionTrait,
    model: attribute::ActiveModel,
) -> Result<attribute::Model, DbErr> {
    model.update(db).await
}

pub async fn delete_attribute(db: &impl ConnectionTrait, id: i32) -> Result<u64, DbErr> {
    Ok(attribute::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn list_objects(
    db: &impl ConnectionTrait,
    event_id: i32,
) -> Result<Vec<object::Model>, DbErr> {
    object::Entity::find()
        .filter(object::Column::EventId.eq(event_id))
        .order_by_asc(object::Column::Id)
        .all(db)
        .await
}

pub async fn find_object_by_uuid(
    db: &impl ConnectionTrait,
    uuid: &str,
) -> Result<Option<object::Model>, DbErr> {
    object::Entity::find()
        .filter(object::Column::Uuid.eq(uuid.to_lowercase()))
        .one(db)
        .await
}

pub async fn find_object(
    db: &impl ConnectionTrait,
    id_or_uuid: &str,
) -> Result<Option<object::Model>, DbErr> {
    match id_or_uuid.parse::<i32>() {
        Ok(id) => object::Entity::find_by_id(id).one(db).await,
        Err(_) => find_object_by_uuid(db, id_or_uuid).await,
    }
}

pub async fn update_object(
    db: &impl ConnectionTrait,
    model: object::ActiveModel,
) -> Result<object::Model, DbErr> {
    model.update(db).await
}

/// Deletes an object and its attributes.
pub async fn delete_object(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    attribute::Entity::delete_many()
        .filter(attribute::Column::ObjectId.eq(id))
        .exec(db)
        .await?;
    object::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Marks an object and its attributes deleted.
pub async fn soft_delete_object(db: &impl ConnectionTrait, id: i32, now: i64) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    attribute::Entity::update_many()
        .col_expr(attribute::Column::Deleted, Expr::value(true))
        .col_expr(attribute::Column::Timestamp, Expr::value(now))
        .filter(attribute::Column::ObjectId.eq(id))
        .exec(db)
        .await?;
    object::Entity::update_many()
        .col_expr(object::Column::Deleted, Expr::value(true))
        .col_expr(object::Column::Timestamp, Expr::value(now))
        .filter(object::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn object_attributes(
    db: &impl ConnectionTrait,
    object_id: i32,
) -> Result<Vec<attribute::Model>, DbErr> {
    attribute::Entity::find()
        .filter(attribute::Column::ObjectId.eq(object_id))
        .order_by_asc(attribute::Column::Id)
        .all(db)
        .await
}

pub async fn insert_object(
    db: &impl ConnectionTrait,
    model: object::ActiveModel,
) -> Result<object::Model, DbErr> {
    model.insert(db).await
}

pub async fn find_tag_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<tag::Model>, DbErr> {
    tag::Entity::find()
        .filter(tag::Column::Name.eq(name))
        .one(db)
        .await
}

pub async fn find_tag(db: &impl ConnectionTrait, id: i32) -> Result<Option<tag::Model>, DbErr> {
    tag::Entity::find_by_id(id).one(db).await
}

pub async fn list_tags(
    db: &impl ConnectionTrait,
    search: Option<&str>,
) -> Result<Vec<tag::Model>, DbErr> {
    let mut query = tag::Entity::find().order_by_asc(tag::Column::Name);
    if let Some(s) = search {
        query = query.filter(super::contains_ignore_case(tag::Column::Name, s));
    }
    query.all(db).await
}

/// Up to `limit` tag names containing `search` (any case) and starting with `prefix`, in name
/// order.
pub async fn suggest_tag_names(
    db: &impl ConnectionTrait,
    search: &str,
    prefix: &str,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let mut query = tag::Entity::find()
        .filter(super::contains_ignore_case(tag::Column::Name, search))
        .order_by_asc(tag::Column::Name)
        .limit(limit);
    if !prefix.is_empty() {
        query = query.filter(tag::Column::Name.starts_with(prefix));
    }
    Ok(query.all(db).await?.into_iter().map(|t| t.name).collect())
}

pub async fn insert_tag(
    db: &impl ConnectionTrait,
    model: tag::ActiveModel,
) -> Result<tag::Model, DbErr> {
    model.insert(db).await
}

/// The tags on an event, with their `local` flag, in the order they were attached.
pub async fn event_tags(
    db: &impl ConnectionTrait,
    event_id: i32,
) -> Result<Vec<(tag::Model, bool)>, DbErr> {
    let links = event_tag::Entity::find()
        .filter(event_tag::Column::EventId.eq(event_id))
        .order_by_asc(event_tag::Column::Id)
        .all(db)
        .await?;
    with_tags(db, links.into_iter().map(|l| (l.tag_id, l.local, 0)))
        .await
        .map(|rows| rows.into_iter().map(|(t, local, _)| (t, local)).collect())
}

/// Every attribute tag of an event: attribute id → its tags with their `local` flag.
/// The tags of one attribute, with their `local` flag.
pub async fn tags_of_attribute(
    db: &impl ConnectionTrait,
    attribute_id: i32,
) -> Result<Vec<(tag::Model, bool)>, DbErr> {
    let links = attribute_tag::Entity::find()
        .filter(attribute_tag::Column::AttributeId.eq(attribute_id))
        .order_by_asc(attribute_tag::Column::Id)
        .all(db)
        .await?;
    Ok(with_tags(
        db,
        links
            .into_iter()
            .map(|l| (l.tag_id, l.local, l.attribute_id)),
    )
    .await?
    .into_iter()
    .map(|(t, local, _)| (t, local))
    .collect())
}

/// The tags of every attribute of event `event_id`, by attribute id.
pub async fn attribute_tags(
    db: &impl ConnectionTrait,
    event_id: i32,
) -> Result<HashMap<i32, Vec<(tag::Model, bool)>>, DbErr> {
    tags_by_attribute(db, attribute_tag::Column::EventId.eq(event_id)).await
}

/// Attributes whose tags [`tags_of_attributes`] reads by id; past this, it reads the event's.
const TAGS_BY_ID_MAX: usize = 500;

/// The tags of attributes `ids` of event `event_id`, by attribute id: what an answer about a
/// few attributes needs, without reading the tags of the whole event (a thousand-attribute
/// event's answer to `attributes/add` spent more on that than on the write). Many attributes
/// are read through the event, so that the statement's parameters stay few.
pub async fn tags_of_attributes(
    db: &impl ConnectionTrait,
    event_id: i32,
    ids: &[i32],
) -> Result<HashMap<i32, Vec<(tag::Model, bool)>>, DbErr> {
    if ids.len() > TAGS_BY_ID_MAX {
        return attribute_tags(db, event_id).await;
    }
    tags_by_attribute(
        db,
        attribute_tag::Column::AttributeId.is_in(ids.iter().copied()),
    )
    .await
}

async fn tags_by_attribute(
    db: &impl ConnectionTrait,
    which: impl sea_orm::sea_query::IntoCondition,
) -> Result<HashMap<i32, Vec<(tag::Model, bool)>>, DbErr> {
    let links = attribute_tag::Entity::find()
        .filter(which)
        .order_by_asc(attribute_tag::Column::Id)
        .all(db)
        .await?;
    let rows = with_tags(
        db,
        links
            .into_iter()
            .map(|l| (l.tag_id, l.local, l.attribute_id)),
    )
    .await?;
    let mut out: HashMap<i32, Vec<(tag::Model, bool)>> = HashMap::new();
    for (t, local, attribute_id) in rows {
        out.entry(attribute_id).or_default().push((t, local));
    }
    Ok(out)
}

async fn with_tags(
    db: &impl ConnectionTrait,
    links: impl Iterator<Item = (i32, bool, i32)>,
) -> Result<Vec<(tag::Model, bool, i32)>, DbErr> {
    let links: Vec<(i32, bool, i32)> = links.collect();
    let ids: Vec<i32> = links.iter().map(|(t, _, _)| *t).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let tags: HashMap<i32, tag::Model> = tag::Entity::find()
        .filter(tag::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(links
        .into_iter()
        .filter_map(|(tag_id, local, owner)| tags.get(&tag_id).map(|t| (t.clone(), local, owner)))
        .collect())
}

/// Attaches a tag to an event (or changes its `local` flag). Returns false when it was already
/// attached with the same flag.
pub async fn attach_event_tag(
    db: &impl ConnectionTrait,
    event_id: i32,
    tag_id: i32,
    local: bool,
) -> Result<bool, DbErr> {
    let existing = event_tag::Entity::find()
        .filter(event_tag::Column::EventId.eq(event_id))
        .filter(event_tag::Column::TagId.eq(tag_id))
        .one(db)
        .await?;
    match existing {
        Some(link) if link.local == local => Ok(false),
        Some(link) => {
            let mut active: event_tag::ActiveModel = link.into();
            active.local = Set(local);
            active.update(db).await?;
            Ok(true)
        }
        None => {
            event_tag::ActiveModel {
                event_id: Set(event_id),
                tag_id: Set(tag_id),
                local: Set(local),
                ..Default::default()
            }
            .insert(db)
            .await?;
            Ok(true)
        }
    }
}

/// Links a tag to an attribute known to have no link to it yet.
pub async fn insert_attribute_tag(
    db: &impl ConnectionTrait,
    event_id: i32,
    attribute_id: i32,
    tag_id: i32,
    local: bool,
) -> Result<(), DbErr> {
    attribute_tag::ActiveModel {
        attribute_id: Set(attribute_id),
        event_id: Set(event_id),
        tag_id: Set(tag_id),
        local: Set(local),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Attaches a tag to an attribute (or changes its `local` flag).
pub async fn attach_attribute_tag(
    db: &impl ConnectionTrait,
    event_id: i32,
    attribute_id: i32,
    tag_id: i32,
    local: bool,
) -> Result<bool, DbErr> {
    let existing = attribute_tag::Entity::find()
        .filter(attribute_tag::Column::AttributeId.eq(attribute_id))
        .filter(attribute_tag::Column::TagId.eq(tag_id))
        .one(db)
        .await?;
    match existing {
        Some(link) if link.local == local => Ok(false),
        Some(link) => {
            let mut active: attribute_tag::ActiveModel = link.into();
            active.local = Set(local);
            active.update(db).await?;
            Ok(true)
        }
        None => {
            attribute_tag::ActiveModel {
                attribute_id: Set(attribute_id),
                event_id: Set(event_id),
                tag_id: Set(tag_id),
                local: Set(local),
                ..Default::default()
            }
            .insert(db)
            .await?;
            Ok(true)
        }
    }
}

pub async fn detach_event_tag(
    db: &impl ConnectionTrait,
    event_id: i32,
    tag_id: i32,
) -> Result<bool, DbErr> {
    let r = event_tag::Entity::delete_many()
        .filter(event_tag::Column::EventId.eq(event_id))
        .filter(event_tag::Column::TagId.eq(tag_id))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

pub async fn detach_attribute_tag(
    db: &impl ConnectionTrait,
    attribute_id: i32,
    tag_id: i32,
) -> Result<bool, DbErr> {
    let r = attribute_tag::Entity::delete_many()
        .filter(attribute_tag::Column::AttributeId.eq(attribute_id))
        .filter(attribute_tag::Column::TagId.eq(tag_id))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

/// Sets an event's `timestamp` (every change to an event or its children bumps it, as in MISP).
pub async fn touch_event(db: &impl ConnectionTrait, event_id: i32, now: i64) -> Result<(), DbErr> {
    event::Entity::update_many()
        .col_expr(
            event::Column::Timestamp,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(event::Column::Id.eq(event_id))
        .exec(db)
        .await?;
    Ok(())
}
