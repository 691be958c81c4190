//! MISP events, attributes and tags (spec §3, §7; issue "MISP core objects"): MISP's JSON in,
//! permission checks, one transaction per request, MISP's JSON out.
//!
//! Access follows MISP: site admins see and edit everything; other users see their
//! organisation's events, events distributed beyond it (distribution 1–3), and events shared
//! with a sharing group their organisation belongs to (distribution 4); they edit their
//! organisation's events with `perm_modify_org`, or the events they created with `perm_modify`;
//! publishing also needs `perm_publish`. Read-only keys change nothing.
use std::collections::HashMap;

use sea_orm::{ActiveValue::NotSet, Set, TransactionTrait};
use serde_json::{json, Map, Value};

use super::audit::{self, diff, Entry};
use super::describe_types::{check_value, describe_types};
use super::hooks;
use super::input::{loose_bool, optional_uuid};
use crate::backend::entities::{attribute, event, object, organisation, tag};
use crate::backend::store::{events as store, orgs};
use crate::backend::{now, AppState, Principal};
use crate::error::AppError;

/// MISP's default distribution of a new event ("This community only").
const DEFAULT_EVENT_DISTRIBUTION: i16 = 1;
/// Attributes and objects inherit the event's distribution by default.
const INHERIT: i16 = 5;
/// Longest `info` / `comment` / `value` accepted (MISP's TEXT columns).
const MAX_TEXT: usize = 65_535;

pub(super) fn read_only(actor: &Principal) -> Result<(), AppError> {
    if actor.read_only {
        Err(AppError::Forbidden("This API key is read only.".into()))
    } else {
        Ok(())
    }
}

/// Whether `actor` may see `ev` at all.
pub fn can_see(actor: &Principal, ev: &event::Model) -> bool {
    actor.is_site_admin()
        || ev.org_id == actor.org.id
        || ev.orgc_id == actor.org.id
        || (1..=3).contains(&ev.distribution)
        || (ev.distribution == 4 && actor.sharing_groups.contains(&ev.sharing_group_id))
}

/// The SQL form of [`can_see`] on `events`; `None` for site admins (everything).
pub fn visible_events_condition(actor: &Principal) -> Option<sea_orm::Condition> {
    use sea_orm::ColumnTrait;
    if actor.is_site_admin() {
        return None;
    }
    Some(
        sea_orm::Condition::any()
            .add(event::Column::OrgId.eq(actor.org.id))
            .add(event::Column::OrgcId.eq(actor.org.id))
            .add(event::Column::Distribution.between(1, 3))
            .add(
                sea_orm::Condition::all()
                    .add(event::Column::Distribution.eq(4))
                    .add(event::Column::SharingGroupId.is_in(actor.sharing_groups.clone())),
            ),
    )
}

/// Whether `actor` may change `ev` (MISP's `canModifyEvent`).
pub fn can_edit(actor: &Principal, ev: &event::Model) -> bool {
    if actor.read_only {
        return false;
    }
    actor.is_site_admin()
        || (ev.orgc_id == actor.org.id
            && (actor.role.perm_modify_org
                || (actor.role.perm_modify && ev.user_id == actor.user.id)))
}

/// Whether an attribute, object or report with `distribution` (and `sharing_group_id`) is
/// visible to `actor` inside `ev`: organisation-only ones to the event's organisation, shared
/// ones to their sharing group too.
pub(super) fn child_visible(
    actor: &Principal,
    ev: &event::Model,
    distribution: i16,
    sharing_group_id: i32,
) -> bool {
    let owner = actor.is_site_admin() || ev.orgc_id == actor.org.id || ev.org_id == actor.org.id;
    match distribution {
        0 => owner,
        4 => owner || actor.sharing_groups.contains(&sharing_group_id),
        _ => true,
    }
}

/// A sharing group id for `distribution`: required (and positive) with distribution 4, 0
/// otherwise.
fn sharing_group_ref(
    obj: &Map<String, Value>,
    distribution: i16,
    errors: &mut Vec<String>,
    at: &str,
) -> i32 {
    if distribution != 4 {
        return 0;
    }
    match loose_int(obj.get("sharing_group_id")).and_then(|n| i32::try_from(n).ok()) {
        Some(id) if id > 0 => id,
        _ => {
            errors.push(format!(
                "{at}sharing_group_id: distribution 4 needs the id of a sharing group."
            ));
            0
        }
    }
}

/// The event for `id_or_uuid`, if `actor` may see it; MISP answers 404 "Invalid event" both
/// when it does not exist and when it is not visible.
pub async fn visible_event(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<event::Model, AppError> {
    match store::find_event(&state.db, id_or_uuid).await? {
        Some(ev) if can_see(actor, &ev) => Ok(ev),
        _ => Err(AppError::NotFound("Invalid event.".into())),
    }
}

/// The event for `id_or_uuid`, if `actor` may change it.
pub async fn editable_event(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<event::Model, AppError> {
    read_only(actor)?;
    let ev = visible_event(state, actor, id_or_uuid).await?;
    if can_edit(actor, &ev) {
        Ok(ev)
    } else {
        // MISP's wording; PyMISP's `add_attribute` reads it to fall back to a proposal.
        Err(AppError::Forbidden(
            "You do not have permission to do that.".into(),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Reading MISP's loose JSON
// ---------------------------------------------------------------------------------------------

/// A number given as a JSON number or numeric string.
fn loose_int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A small enumerated number within `range`, or the default; errors name the field.
fn ranged(
    obj: &Map<String, Value>,
    key: &str,
    range: std::ops::RangeInclusive<i64>,
    default: i16,
    errors: &mut Vec<String>,
    at: &str,
) -> i16 {
    match obj.get(key) {
        None | Some(Value::Null) => default,
        Some(v) => match loose_int(Some(v)) {
            Some(n) if range.contains(&n) => i16::try_from(n).unwrap_or(default),
            _ => {
                errors.push(format!(
                    "{at}{key}: expected a number from {} to {}.",
                    range.start(),
                    range.end()
                ));
                default
            }
        },
    }
}

fn checked_text(
    obj: &Map<String, Value>,
    key: &str,
    errors: &mut Vec<String>,
    at: &str,
) -> Option<String> {
    let value = text(obj.get(key))?;
    if value.len() > MAX_TEXT {
        errors.push(format!("{at}{key}: longer than {MAX_TEXT} bytes."));
        return None;
    }
    Some(value)
}

/// `YYYY-MM-DD` (a longer ISO date-time is cut to its date, as MISP does).
fn checked_date(value: &str) -> Option<String> {
    let date = value.get(..10)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(date, &format).ok()?;
    Some(date.to_owned())
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The model inside `{"Event": {...}}` (or the bare object).
fn unwrap_model(body: Value, model: &str) -> Result<Map<String, Value>, AppError> {
    let inner = match body {
        Value::Object(mut map) if map.contains_key(model) => {
            map.remove(model).unwrap_or(Value::Null)
        }
        other => other,
    };
    match inner {
        Value::Object(map) => Ok(map),
        _ => Err(AppError::Invalid(format!(
            "The request body must be a JSON object (`{{\"{model}\": {{…}}}}` or the {model} itself)."
        ))),
    }
}

fn list<'a>(obj: &'a Map<String, Value>, key: &str) -> Vec<&'a Map<String, Value>> {
    match obj.get(key) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsed input
// ---------------------------------------------------------------------------------------------

/// A tag reference: by name, with the `local` flag.
#[derive(Debug, Clone)]
pub(super) struct TagRef {
    name: String,
    local: bool,
}

fn tag_refs(obj: &Map<String, Value>, errors: &mut Vec<String>, at: &str) -> Vec<TagRef> {
    let mut out: Vec<TagRef> = Vec::new();
    let mut push = |t: &Map<String, Value>| match t.get("name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() && name.len() <= 255 => {
            let name = name.trim().to_owned();
            if !out.iter().any(|r| r.name == name) {
                out.push(TagRef {
                    name,
                    local: loose_bool(t.get("local")),
                });
            }
        }
        _ => errors.push(format!(
            "{at}Tag: every tag needs a `name` (at most 255 characters)."
        )),
    };
    for t in list(obj, "Tag") {
        push(t);
    }
    // MISP's database shape: `EventTag` / `AttributeTag` items holding a `Tag`.
    for key in ["EventTag", "AttributeTag"] {
        for link in list(obj, key) {
            if let Some(Value::Object(t)) = link.get("Tag") {
                let mut t = t.clone();
                if let Some(local) = link.get("local") {
                    t.insert("local".into(), local.clone());
                }
                push(&t);
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
pub(super) struct AttributeInput {
    pub(super) uuid: Option<String>,
    pub(super) kind: String,
    pub(super) category: String,
    pub(super) value: String,
    pub(super) to_ids: bool,
    pub(super) comment: String,
    pub(super) distribution: i16,
    pub(super) sharing_group_id: i32,
    pub(super) object_relation: Option<String>,
    pub(super) first_seen: Option<String>,
    pub(super) last_seen: Option<String>,
    pub(super) disable_correlation: bool,
    pub(super) deleted: bool,
    pub(super) tags: Vec<TagRef>,
}

/// Reads one attribute; pushes every problem to `errors` (prefixed with `at`).
pub(super) fn parse_attribute(
    obj: &Map<String, Value>,
    errors: &mut Vec<String>,
    at: &str,
) -> Option<AttributeInput> {
    let before = errors.len();
    let table = describe_types();
    let kind = text(obj.get("type")).unwrap_or_default();
    if kind.is_empty() {
        errors.push(format!("{at}type: an attribute needs a type."));
    } else if !table.is_type(&kind) {
        errors.push(format!(
            "{at}type: `{kind}` is not a valid MISP attribute type."
        ));
    }
    let (default_category, default_ids) = table.defaults(&kind).unwrap_or(("Other", false));
    let category = match text(obj.get("category")) {
        Some(c) if !c.is_empty() => c,
        _ => default_category.to_owned(),
    };
    if table.is_type(&kind) && !table.allows(&category, &kind) {
        if table.category_types.contains_key(&category) {
            errors.push(format!(
                "{at}category: type `{kind}` is not allowed in category `{category}`."
            ));
        } else {
            errors.push(format!(
                "{at}category: `{category}` is not a valid category."
            ));
        }
    }
    let value = match obj.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => if *b { "1" } else { "0" }.to_owned(),
        _ => String::new(),
    };
    let value = if value.len() > MAX_TEXT {
        errors.push(format!("{at}value: longer than {MAX_TEXT} bytes."));
        String::new()
    } else if table.is_type(&kind) {
        match check_value(&kind, &value) {
            Ok(v) => v,
            Err(reason) => {
                errors.push(format!("{at}value: {reason}"));
                String::new()
            }
        }
    } else {
        value
    };
    let uuid = match optional_uuid(obj.get("uuid").and_then(Value::as_str)) {
        Ok(u) => u,
        Err(e) => {
            errors.push(format!("{at}uuid: {e}"));
            None
        }
    };
    let distribution = ranged(obj, "distribution", 0..=5, INHERIT, errors, at);
    let sharing_group_id = sharing_group_ref(obj, distribution, errors, at);
    let comment = checked_text(obj, "comment", errors, at).unwrap_or_default();
    let seen = |key: &str, errors: &mut Vec<String>| match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s))
            if time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .is_ok()
                || checked_date(s).is_some() =>
        {
            Some(s.clone())
        }
        Some(_) => {
            errors.push(format!("{at}{key}: expected an ISO 8601 date-time."));
            None
        }
    };
    let first_seen = seen("first_seen", errors);
    let last_seen = seen("last_seen", errors);
    let tags = tag_refs(obj, errors, at);
    if errors.len() > before {
        return None;
    }
    Some(AttributeInput {
        uuid,
        to_ids: obj
            .get("to_ids")
            .map_or(default_ids, |v| loose_bool(Some(v))),
        kind,
        category,
        value,
        comment,
        distribution,
        sharing_group_id,
        object_relation: text(obj.get("object_relation")).filter(|s| !s.is_empty()),
        first_seen,
        last_seen,
        disable_correlation: loose_bool(obj.get("disable_correlation")),
        deleted: loose_bool(obj.get("deleted")),
        tags,
    })
}

#[derive(Debug)]
struct ObjectInput {
    uuid: Option<String>,
    name: String,
    meta_category: String,
    description: String,
    template_uuid: String,
    template_version: String,
    comment: String,
    distribution: i16,
    sharing_group_id: i32,
    first_seen: Option<String>,
    last_seen: Option<String>,
    attributes: Vec<AttributeInput>,
}

/// Reads one object; `require_attributes` is false for an edit that changes only its fields.
fn parse_object(
    obj: &Map<String, Value>,
    errors: &mut Vec<String>,
    at: &str,
    require_attributes: bool,
) -> Option<ObjectInput> {
    let before = errors.len();
    let name = text(obj.get("name")).unwrap_or_default();
    if name.trim().is_empty() || name.len() > 131 {
        errors.push(format!(
            "{at}name: an object needs a name (at most 131 characters)."
        ));
    }
    let uuid = match optional_uuid(obj.get("uuid").and_then(Value::as_str)) {
        Ok(u) => u,
        Err(e) => {
            errors.push(format!("{at}uuid: {e}"));
            None
        }
    };
    let distribution = ranged(obj, "distribution", 0..=5, INHERIT, errors, at);
    let sharing_group_id = sharing_group_ref(obj, distribution, errors, at);
    let mut attributes = Vec::new();
    let items = list(obj, "Attribute");
    if items.is_empty() && require_attributes {
        errors.push(format!(
            "{at}Attribute: an object needs at least one attribute."
        ));
    }
    for (i, a) in items.into_iter().enumerate() {
        let at = format!("{at}Attribute {}: ", i + 1);
        if let Some(a) = parse_attribute(a, errors, &at) {
            if a.object_relation.is_none() {
                errors.push(format!(
                    "{at}object_relation: an object's attribute needs one."
                ));
            }
            attributes.push(a);
        }
    }
    let comment = checked_text(obj, "comment", errors, at).unwrap_or_default();
    if errors.len() > before {
        return None;
    }
    Some(ObjectInput {
        uuid,
        name: name.trim().to_owned(),
        meta_category: text(obj.get("meta-category"))
            .or_else(|| text(obj.get("meta_category")))
            .unwrap_or_default(),
        description: text(obj.get("description")).unwrap_or_default(),
        template_uuid: text(obj.get("template_uuid")).unwrap_or_default(),
        template_version: text(obj.get("template_version")).unwrap_or_default(),
        comment,
        distribution,
        sharing_group_id,
        first_seen: text(obj.get("first_seen")).filter(|s| !s.is_empty()),
        last_seen: text(obj.get("last_seen")).filter(|s| !s.is_empty()),
        attributes,
    })
}

pub(super) fn reject(errors: Vec<String>, what: &str) -> AppError {
    AppError::Rejected {
        message: format!("{what} could not be saved: {}", errors.join(" ")),
        errors,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// MISP's colour for a new tag: derived from the name so the same tag looks the same everywhere.
fn tag_colour(name: &str) -> String {
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("#{:06x}", hash & 0x00ff_ffff)
}

/// The stored tag called `name`, created when missing if `actor` may create tags.
async fn resolve_tag(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Principal,
    name: &str,
) -> Result<tag::Model, AppError> {
    if let Some(t) = store::find_tag_by_name(db, name).await? {
        return Ok(t);
    }
    if !(actor.role.perm_tag_editor || actor.is_site_admin()) {
        return Err(AppError::Invalid(format!(
            "Tag `{name}` does not exist, and creating tags needs the tag editor permission."
        )));
    }
    let galaxy = name.starts_with("misp-galaxy:");
    Ok(store::insert_tag(
        db,
        tag::ActiveModel {
            name: Set(name.to_owned()),
            colour: Set(tag_colour(name)),
            exportable: Set(true),
            org_id: Set(0),
            user_id: Set(0),
            hide_tag: Set(false),
            numerical_value: Set(None),
            is_galaxy: Set(galaxy),
            is_custom_galaxy: Set(false),
            local_only: Set(false),
            ..Default::default()
        },
    )
    .await?)
}

fn require_tagger(actor: &Principal, tags: &[TagRef]) -> Result<(), AppError> {
    if !(tags.is_empty() || actor.role.perm_tagger || actor.is_site_admin()) {
        return Err(AppError::Forbidden(
            "Tagging needs the tagger permission.".into(),
        ));
    }
    Ok(())
}

pub(super) async fn insert_attribute(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Principal,
    event_id: i32,
    object_id: i32,
    a: &AttributeInput,
    ts: i64,
) -> Result<attribute::Model, AppError> {
    let uuid = a
        .uuid
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // The unique index on `uuid` refuses a known uuid (no lookup per attribute).
    let taken = format!("An attribute with uuid {uuid} already exists.");
    let saved = store::insert_attribute(
        db,
        attribute::ActiveModel {
            id: NotSet,
            uuid: Set(uuid),
            event_id: Set(event_id),
            object_id: Set(object_id),
            object_relation: Set(a.object_relation.clone()),
            category: Set(a.category.clone()),
            r#type: Set(a.kind.clone()),
            value: Set(a.value.clone()),
            to_ids: Set(a.to_ids),
            comment: Set(a.comment.clone()),
            distribution: Set(a.distribution),
            sharing_group_id: Set(a.sharing_group_id),
            timestamp: Set(ts),
            first_seen: Set(a.first_seen.clone()),
            last_seen: Set(a.last_seen.clone()),
            deleted: Set(a.deleted),
            disable_correlation: Set(a.disable_correlation),
        },
    )
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Invalid(taken),
        _ => AppError::from(e),
    })?;
    for t in &a.tags {
        let tag = resolve_tag(db, actor, &t.name).await?;
        // A new attribute has no links yet: insert without looking (tag names are deduplicated).
        store::insert_attribute_tag(db, event_id, saved.id, tag.id, t.local).await?;
    }
    Ok(saved)
}

/// `POST /events/add`: an event with its attributes, objects and tags, in one transaction.
/// Answers the stored event as `events/view` shows it.
pub async fn add_event(
    state: &AppState,
    actor: &Principal,
    body: Value,
) -> Result<Value, AppError> {
    read_only(actor)?;
    if !(actor.role.perm_add || actor.is_site_admin()) {
        return Err(AppError::Forbidden(
            "You do not have permission to create events.".into(),
        ));
    }
    let obj = unwrap_model(body, "Event")?;
    let mut errors = Vec::new();
    let info = checked_text(&obj, "info", &mut errors, "").unwrap_or_default();
    if info.trim().is_empty() {
        errors.push("info: an event needs an info (its title).".into());
    }
    let uuid = match optional_uuid(obj.get("uuid").and_then(Value::as_str)) {
        Ok(u) => u,
        Err(e) => {
            errors.push(format!("uuid: {e}"));
            None
        }
    };
    let date = match obj.get("date") {
        None | Some(Value::Null) => today(),
        Some(v) => match text(Some(v)).as_deref().and_then(checked_date) {
            Some(d) => d,
            None => {
                errors.push("date: expected YYYY-MM-DD.".into());
                today()
            }
        },
    };
    let threat_level_id = ranged(&obj, "threat_level_id", 1..=4, 4, &mut errors, "");
    let analysis = ranged(&obj, "analysis", 0..=2, 0, &mut errors, "");
    let distribution = ranged(
        &obj,
        "distribution",
        0..=4,
        DEFAULT_EVENT_DISTRIBUTION,
        &mut errors,
        "",
    );
    let sharing_group_id = sharing_group_ref(&obj, distribution, &mut errors, "");
    let tags = tag_refs(&obj, &mut errors, "");
    let mut attributes = Vec::new();
    for (i, a) in list(&obj, "Attribute").into_iter().enumerate() {
        if let Some(a) = parse_attribute(a, &mut errors, &format!("Attribute {}: ", i + 1)) {
            attributes.push(a);
        }
    }
    let mut objects = Vec::new();
    for (i, o) in list(&obj, "Object").into_iter().enumerate() {
        if let Some(o) = parse_object(o, &mut errors, &format!("Object {}: ", i + 1), true) {
            objects.push(o);
        }
    }
    if !errors.is_empty() {
        return Err(reject(errors, "The event"));
    }
    let all_tags: Vec<TagRef> = tags
        .iter()
        .chain(attributes.iter().flat_map(|a| &a.tags))
        .chain(
            objects
                .iter()
                .flat_map(|o| o.attributes.iter().flat_map(|a| &a.tags)),
        )
        .cloned()
        .collect();
    require_tagger(actor, &all_tags)?;
    let groups: Vec<i32> = std::iter::once(sharing_group_id)
        .chain(attributes.iter().map(|a| a.sharing_group_id))
        .chain(objects.iter().flat_map(|o| {
            std::iter::once(o.sharing_group_id)
                .chain(o.attributes.iter().map(|a| a.sharing_group_id))
        }))
        .collect();
    super::sharing_groups::check_usable(&state.db, actor, groups).await?;
    let publish = loose_bool(obj.get("published"));
    if publish && !(actor.role.perm_publish || actor.is_site_admin()) {
        return Err(AppError::Forbidden(
            "You do not have permission to publish events.".into(),
        ));
    }

    let ts = now();
    let uuid = uuid.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let row = event::Model {
        id: 0,
        uuid: uuid.clone(),
        org_id: actor.org.id,
        orgc_id: actor.org.id,
        user_id: actor.user.id,
        date,
        info,
        published: publish,
        analysis,
        attribute_count: 0,
        threat_level_id,
        distribution,
        sharing_group_id,
        proposal_email_lock: false,
        locked: loose_bool(obj.get("locked")),
        publish_timestamp: if publish { ts } else { 0 },
        timestamp: ts,
        disable_correlation: loose_bool(obj.get("disable_correlation")),
        extends_uuid: text(obj.get("extends_uuid")).unwrap_or_default(),
        protected: None,
    };
    before_event_save(state, actor, &row, &tags, "events/add").await?;
    let txn = state.db.begin().await?;
    if super::lists::is_blocked(&txn, &uuid).await? {
        return Err(AppError::Forbidden(
            "Event blocked by event blocklist.".into(),
        ));
    }
    if store::find_event(&txn, &uuid).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "Event already exists (uuid {uuid}); use events/edit to change it."
        )));
    }
    let mut active =
        sea_orm::ActiveModelTrait::reset_all(sea_orm::IntoActiveModel::into_active_model(row));
    active.id = NotSet;
    let ev = store::insert_event(&txn, active).await?;
    for t in &tags {
        let tag = resolve_tag(&txn, actor, &t.name).await?;
        store::attach_event_tag(&txn, ev.id, tag.id, t.local).await?;
    }
    let mut saved_attributes = Vec::with_capacity(attributes.len());
    for a in &attributes {
        saved_attributes.push(insert_attribute(&txn, actor, ev.id, 0, a, ts).await?.id);
    }
    let mut saved_objects = Vec::with_capacity(objects.len());
    for o in &objects {
        let (object, attribute_ids) = insert_object(&txn, actor, ev.id, o, ts).await?;
        saved_objects.push(object.id);
        saved_attributes.extend(attribute_ids);
    }
    store::refresh_attribute_count(&txn, ev.id).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Event", ev.id, "add", event_title(&ev)).change(format!(
            "{} attribute(s), {} object(s), {} tag(s)",
            attributes.len(),
            objects.len(),
            tags.len()
        )),
    )
    .await?;
    let action = format!("events/add/{}", ev.id);
    event_saved(&txn, state, actor, ev.id, &action).await?;
    let new_event = hooks::Subject::FullEvent { id: ev.id };
    hooks::fire(
        &txn,
        state,
        "event-after-save-new",
        action.clone(),
        actor,
        new_event,
    )
    .await?;
    attributes_saved(&txn, state, actor, saved_attributes, &action).await?;
    objects_saved(&txn, state, actor, saved_objects, &action).await?;
    txn.commit().await?;
    hooks::wake(state);
    view_event(state, actor, &ev.id.to_string()).await
}

/// The blocking `event-before-save` trigger on the event row about to be saved (with its tags);
/// a refusal leaves everything as it was.
async fn before_event_save(
    state: &AppState,
    actor: &Principal,
    row: &event::Model,
    tags: &[TagRef],
    action: &str,
) -> Result<(), AppError> {
    let refused = hooks::block(state, "event-before-save", action, actor, || async {
        let mut fields = event_fields(row);
        fields.insert("Orgc".into(), org_json(Some(&actor.org), row.orgc_id));
        fields.insert(
            "Tag".into(),
            Value::Array(
                tags.iter()
                    .map(|t| json!({"name": t.name, "local": t.local}))
                    .collect(),
            ),
        );
        Ok(json!({"Event": fields}))
    })
    .await?;
    match refused {
        Some(errors) => {
            let entry = Entry::new(
                "Event",
                row.id,
                if row.id == 0 { "add" } else { "edit" },
                event_title(row),
            );
            Err(hooks::refuse(state, actor, entry, "Saving the event", errors).await)
        }
        None => Ok(()),
    }
}

/// `event-after-save` (non-blocking): the event row with `Orgc` and tags. Queued in `txn`,
/// the action's transaction (see [`hooks::fire`]).
async fn event_saved(
    txn: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    actor: &Principal,
    event_id: i32,
    action: &str,
) -> Result<(), AppError> {
    let subject = hooks::Subject::Event { id: event_id };
    hooks::fire(
        txn,
        state,
        "event-after-save",
        action.to_owned(),
        actor,
        subject,
    )
    .await
}

/// `attribute-after-save` (non-blocking) on each of attributes `ids`: the attribute inside its
/// event (and object). Queued in `txn`, the action's transaction (see [`hooks::fire`]).
async fn attributes_saved(
    txn: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    actor: &Principal,
    ids: impl IntoIterator<Item = i32>,
    action: &str,
) -> Result<(), AppError> {
    let subjects = ids.into_iter().map(|id| hooks::Subject::Attribute { id });
    hooks::fire_each(txn, state, "attribute-after-save", action, actor, subjects).await
}

/// `attribute-after-save` (non-blocking) on attribute `id`, carried by the audit row its
/// change writes (see [`hooks::carry`]): the run to put on that row, if a workflow listens.
fn attribute_saved(
    state: &AppState,
    actor: &Principal,
    id: i32,
    action: &str,
) -> Result<Option<String>, AppError> {
    let subject = hooks::Subject::Attribute { id };
    hooks::carry(state, "attribute-after-save", action, actor, subject)
}

/// `object-after-save` (non-blocking) on each of objects `ids`: the object inside its event.
async fn objects_saved(
    txn: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    actor: &Principal,
    ids: impl IntoIterator<Item = i32>,
    action: &str,
) -> Result<(), AppError> {
    let subjects = ids.into_iter().map(|id| hooks::Subject::Object { id });
    hooks::fire_each(txn, state, "object-after-save", action, actor, subjects).await
}

async fn insert_object(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Principal,
    event_id: i32,
    o: &ObjectInput,
    ts: i64,
) -> Result<(object::Model, Vec<i32>), AppError> {
    let uuid = o
        .uuid
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if store::find_object_by_uuid(db, &uuid).await?.is_some() {
        return Err(AppError::Invalid(format!(
            "An object with uuid {uuid} already exists."
        )));
    }
    let saved = store::insert_object(
        db,
        object::ActiveModel {
            id: NotSet,
            uuid: Set(uuid),
            event_id: Set(event_id),
            name: Set(o.name.clone()),
            meta_category: Set(o.meta_category.clone()),
            description: Set(o.description.clone()),
            template_uuid: Set(o.template_uuid.clone()),
            template_version: Set(o.template_version.clone()),
            comment: Set(o.comment.clone()),
            distribution: Set(o.distribution),
            sharing_group_id: Set(o.sharing_group_id),
            timestamp: Set(ts),
            first_seen: Set(o.first_seen.clone()),
            last_seen: Set(o.last_seen.clone()),
            deleted: Set(false),
        },
    )
    .await?;
    let mut attribute_ids = Vec::with_capacity(o.attributes.len());
    for a in &o.attributes {
        attribute_ids.push(
            insert_attribute(db, actor, event_id, saved.id, a, ts)
                .await?
                .id,
        );
    }
    Ok((saved, attribute_ids))
}

// ---------------------------------------------------------------------------------------------
// MISP's JSON
// ---------------------------------------------------------------------------------------------

fn org_json(org: Option<&organisation::Model>, id: i32) -> Value {
    match org {
        Some(o) => {
            json!({"id": o.id.to_string(), "name": o.name, "uuid": o.uuid, "local": o.local})
        }
        None => json!({"id": id.to_string(), "name": "", "uuid": "", "local": true}),
    }
}

/// A tag as MISP lists it on an event or attribute.
pub fn tag_json(t: &tag::Model, local: bool) -> Value {
    json!({
        "id": t.id.to_string(),
        "name": t.name,
        "colour": t.colour,
        "exportable": t.exportable,
        "user_id": t.user_id.to_string(),
        "hide_tag": t.hide_tag,
        "numerical_value": t.numerical_value,
        "is_galaxy": t.is_galaxy,
        "is_custom_galaxy": t.is_custom_galaxy,
        "local_only": t.local_only,
        "local": i32::from(local),
        "relationship_type": null,
    })
}

/// An attribute as MISP shows it (`Tag` only when it has tags).
pub fn attribute_json(a: &attribute::Model, tags: &[(tag::Model, bool)]) -> Value {
    let mut out = json!({
        "id": a.id.to_string(),
        "type": a.r#type,
        "category": a.category,
        "to_ids": a.to_ids,
        "uuid": a.uuid,
        "event_id": a.event_id.to_string(),
        "distribution": a.distribution.to_string(),
        "timestamp": a.timestamp.to_string(),
        "comment": a.comment,
        "sharing_group_id": a.sharing_group_id.to_string(),
        "deleted": a.deleted,
        "disable_correlation": a.disable_correlation,
        "object_id": a.object_id.to_string(),
        "object_relation": a.object_relation,
        "first_seen": a.first_seen,
        "last_seen": a.last_seen,
        "value": a.value,
        "Galaxy": [],
        "ShadowAttribute": [],
    });
    if !tags.is_empty() {
        out["Tag"] = Value::Array(tags.iter().map(|(t, l)| tag_json(t, *l)).collect());
    }
    out
}

fn object_json(o: &object::Model, attributes: Vec<Value>) -> Value {
    json!({
        "id": o.id.to_string(),
        "name": o.name,
        "meta-category": o.meta_category,
        "description": o.description,
        "template_uuid": o.template_uuid,
        "template_version": o.template_version,
        "event_id": o.event_id.to_string(),
        "uuid": o.uuid,
        "timestamp": o.timestamp.to_string(),
        "distribution": o.distribution.to_string(),
        "sharing_group_id": o.sharing_group_id.to_string(),
        "comment": o.comment,
        "deleted": o.deleted,
        "first_seen": o.first_seen,
        "last_seen": o.last_seen,
        "ObjectReference": [],
        "Attribute": attributes,
    })
}

/// The event's own fields, as `events/index` and `events/view` start them.
fn event_fields(ev: &event::Model) -> Map<String, Value> {
    let v = json!({
        "id": ev.id.to_string(),
        "orgc_id": ev.orgc_id.to_string(),
        "org_id": ev.org_id.to_string(),
        "date": ev.date,
        "threat_level_id": ev.threat_level_id.to_string(),
        "info": ev.info,
        "published": ev.published,
        "uuid": ev.uuid,
        "attribute_count": ev.attribute_count.to_string(),
        "analysis": ev.analysis.to_string(),
        "timestamp": ev.timestamp.to_string(),
        "distribution": ev.distribution.to_string(),
        "proposal_email_lock": ev.proposal_email_lock,
        "locked": ev.locked,
        "publish_timestamp": ev.publish_timestamp.to_string(),
        "sharing_group_id": ev.sharing_group_id.to_string(),
        "disable_correlation": ev.disable_correlation,
        "extends_uuid": ev.extends_uuid,
        "protected": ev.protected,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `{"Event": {...}}`: the event row with `Orgc` and its tags, no attributes (the data of
/// `event-after-save` and `event-before-save`, spec §3).
pub(crate) async fn event_row_document(
    db: &impl sea_orm::ConnectionTrait,
    ev: &event::Model,
) -> Result<Value, AppError> {
    let mut out = event_fields(ev);
    let orgc = orgs::find_org(db, ev.orgc_id).await?;
    out.insert("Orgc".into(), org_json(orgc.as_ref(), ev.orgc_id));
    let tags = store::event_tags(db, ev.id).await?;
    out.insert(
        "Tag".into(),
        Value::Array(tags.iter().map(|(t, l)| tag_json(t, *l)).collect()),
    );
    Ok(json!({"Event": out}))
}

/// An attribute inside its event row (inside its object when it has one), with its tags and
/// sightings: the data of `attribute-after-save` and friends (spec §3).
pub(crate) async fn attribute_document(
    db: &impl sea_orm::ConnectionTrait,
    a: &attribute::Model,
) -> Result<Option<Value>, AppError> {
    let Some(ev) = store::find_event(db, &a.event_id.to_string()).await? else {
        return Ok(None);
    };
    let mut doc = event_row_document(db, &ev).await?;
    let tags = store::tags_of_attribute(db, a.id).await?;
    let mut rendered = attribute_json(a, &tags);
    let sightings = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        crate::backend::entities::sighting::Entity::find()
            .filter(crate::backend::entities::sighting::Column::AttributeId.eq(a.id))
            .all(db)
            .await?
    };
    if !sightings.is_empty() {
        rendered["Sighting"] = Value::Array(
            sightings
                .iter()
                .map(|s| super::reports::sighting_json(s, None))
                .collect(),
        );
    }
    if a.object_id == 0 {
        doc["Event"]["Attribute"] = json!([rendered]);
    } else if let Some(o) = store::find_object(db, &a.object_id.to_string()).await? {
        doc["Event"]["Object"] = json!([object_json(&o, vec![rendered])]);
    }
    Ok(Some(doc))
}

/// An object with its attributes inside its event row (`object-after-save`).
pub(super) async fn object_in_event_document(
    db: &impl sea_orm::ConnectionTrait,
    o: &object::Model,
) -> Result<Option<Value>, AppError> {
    let Some(ev) = store::find_event(db, &o.event_id.to_string()).await? else {
        return Ok(None);
    };
    let mut doc = event_row_document(db, &ev).await?;
    doc["Event"]["Object"] = json!([object_document(db, o).await?["Object"].take()]);
    Ok(Some(doc))
}

/// `{"Event": {...}}` with everything `actor` may see, as MISP's `events/view` answers.
pub async fn event_document(
    state: &AppState,
    actor: &Principal,
    ev: &event::Model,
) -> Result<Value, AppError> {
    let db = &state.db;
    let mut out = event_fields(ev);
    let creator = crate::backend::store::users::find_user(db, ev.user_id).await?;
    out.insert(
        "event_creator_email".into(),
        json!(creator.map(|u| u.email).unwrap_or_default()),
    );
    let org = orgs::find_org(db, ev.org_id).await?;
    let orgc = orgs::find_org(db, ev.orgc_id).await?;
    out.insert("Org".into(), org_json(org.as_ref(), ev.org_id));
    out.insert("Orgc".into(), org_json(orgc.as_ref(), ev.orgc_id));
    if ev.distribution == 4 {
        if let Some(group) = super::sharing_groups::embedded(db, ev.sharing_group_id).await? {
            out.insert("SharingGroup".into(), group);
        }
    }

    let mut tags_by_attribute = store::attribute_tags(db, ev.id).await?;
    let attributes = store::list_attributes(db, ev.id).await?;
    let objects: Vec<object::Model> = store::list_objects(db, ev.id)
        .await?
        .into_iter()
        .filter(|o| child_visible(actor, ev, o.distribution, o.sharing_group_id))
        .collect();
    let (new_proposals, mut proposals_by_attribute) =
        super::proposals::event_proposals(db, actor, ev).await?;
    let mut by_object: HashMap<i32, Vec<Value>> = HashMap::new();
    let mut top = Vec::new();
    for a in &attributes {
        if !child_visible(actor, ev, a.distribution, a.sharing_group_id) {
            continue;
        }
        let tags = tags_by_attribute.remove(&a.id).unwrap_or_default();
        let mut rendered = attribute_json(a, &tags);
        // MISP lists proposals against an attribute inside it.
        if let Some(proposals) = proposals_by_attribute.remove(&a.id) {
            rendered["ShadowAttribute"] = Value::Array(proposals);
        }
        if a.object_id == 0 {
            top.push(rendered);
        } else {
            by_object.entry(a.object_id).or_default().push(rendered);
        }
    }
    out.insert("Attribute".into(), Value::Array(top));
    out.insert("ShadowAttribute".into(), Value::Array(new_proposals));
    out.insert("RelatedEvent".into(), json!([]));
    out.insert("Galaxy".into(), json!([]));
    out.insert(
        "Object".into(),
        Value::Array(
            objects
                .iter()
                .map(|o| object_json(o, by_object.remove(&o.id).unwrap_or_default()))
                .collect(),
        ),
    );
    out.insert(
        "EventReport".into(),
        Value::Array(super::reports::event_reports(db, actor, ev).await?),
    );
    out.insert("CryptographicKey".into(), json!([]));
    let tags = store::event_tags(db, ev.id).await?;
    if !tags.is_empty() {
        out.insert(
            "Tag".into(),
            Value::Array(tags.iter().map(|(t, l)| tag_json(t, *l)).collect()),
        );
    }
    Ok(json!({"Event": out}))
}

/// `GET /events/view/<id|uuid>`.
pub async fn view_event(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<Value, AppError> {
    let ev = visible_event(state, actor, id_or_uuid).await?;
    event_document(state, actor, &ev).await
}

/// Filters of `events/index` as MISP's clients send them.
#[derive(Debug, Default, Clone)]
pub struct IndexFilter {
    pub eventid: Option<String>,
    pub uuid: Option<String>,
    pub org: Option<String>,
    pub published: Option<bool>,
    pub info: Option<String>,
    pub tag: Option<String>,
    pub timestamp: Option<i64>,
    pub page: u64,
    pub limit: u64,
}

/// `events/index`: MISP's list of event rows with `Org`, `Orgc` and `EventTag`.
pub async fn index_events(
    state: &AppState,
    actor: &Principal,
    filter: &IndexFilter,
) -> Result<Vec<Value>, AppError> {
    let db = &state.db;
    let mut f = store::EventFilter {
        visibility: visible_events_condition(actor),
        uuid: filter.uuid.clone(),
        published: filter.published,
        info: filter.info.clone(),
        timestamp_from: filter.timestamp,
        ..Default::default()
    };
    if let Some(ids) = &filter.eventid {
        f.ids = Some(
            ids.split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect(),
        );
    }
    if let Some(org) = &filter.org {
        let found = match org.parse::<i32>() {
            Ok(id) => orgs::find_org(db, id).await?,
            Err(_) => orgs::find_org_by_name(db, org).await?,
        };
        match found {
            Some(o) => f.org_id = Some(o.id),
            None => return Ok(Vec::new()),
        }
    }
    if let Some(tag) = &filter.tag {
        match store::find_tag_by_name(db, tag).await? {
            Some(t) => f.with_tag = Some(t.id),
            None => return Ok(Vec::new()),
        }
    }
    let events =
        store::list_events(db, &f, filter.page.max(1), filter.limit.clamp(1, 1000)).await?;
    let mut out = Vec::with_capacity(events.len());
    for ev in &events {
        let mut row = event_fields(ev);
        let org = orgs::find_org(db, ev.org_id).await?;
        let orgc = orgs::find_org(db, ev.orgc_id).await?;
        row.insert("Org".into(), org_json(org.as_ref(), ev.org_id));
        row.insert("Orgc".into(), org_json(orgc.as_ref(), ev.orgc_id));
        let tags = store::event_tags(db, ev.id).await?;
        row.insert(
            "EventTag".into(),
            Value::Array(
                tags.iter()
                    .map(|(t, local)| {
                        json!({"event_id": ev.id.to_string(), "tag_id": t.id.to_string(),
                               "local": local, "Tag": tag_json(t, *local)})
                    })
                    .collect(),
            ),
        );
        out.push(Value::Object(row));
    }
    Ok(out)
}

/// `POST /events/edit/<id>`: changes the event's own fields; attributes and objects in the body
/// are matched by uuid (updated) or added; tags in the body are attached. One transaction.
pub async fn edit_event(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    body: Value,
) -> Result<Value, AppError> {
    edit_event_with(state, actor, id_or_uuid, body, false).await
}

/// [`edit_event`]; with `freeze`, the event keeps its timestamp and published state (what the
/// `Module_event_distribution_operation` module's "Freeze timestamp and keep published state"
/// asks for), otherwise it is touched and unpublished as MISP does on every edit.
pub async fn edit_event_with(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    body: Value,
    freeze: bool,
) -> Result<Value, AppError> {
    let ev = editable_event(state, actor, id_or_uuid).await?;
    let obj = unwrap_model(body, "Event")?;
    let mut errors = Vec::new();
    let info = checked_text(&obj, "info", &mut errors, "");
    if info.as_deref().is_some_and(|i| i.trim().is_empty()) {
        errors.push("info: an event needs an info (its title).".into());
    }
    let date = match obj.get("date") {
        None | Some(Value::Null) => None,
        Some(v) => match text(Some(v)).as_deref().and_then(checked_date) {
            Some(d) => Some(d),
            None => {
                errors.push("date: expected YYYY-MM-DD.".into());
                None
            }
        },
    };
    let threat = obj.contains_key("threat_level_id").then(|| {
        ranged(
            &obj,
            "threat_level_id",
            1..=4,
            ev.threat_level_id,
            &mut errors,
            "",
        )
    });
    let analysis = obj
        .contains_key("analysis")
        .then(|| ranged(&obj, "analysis", 0..=2, ev.analysis, &mut errors, ""));
    let distribution = obj.contains_key("distribution").then(|| {
        ranged(
            &obj,
            "distribution",
            0..=4,
            ev.distribution,
            &mut errors,
            "",
        )
    });
    // The sharing group: given, or kept when the event already shares with one.
    let sharing_group_id = match distribution.unwrap_or(ev.distribution) {
        4 if !obj.contains_key("sharing_group_id") && ev.sharing_group_id > 0 => {
            ev.sharing_group_id
        }
        d => sharing_group_ref(&obj, d, &mut errors, ""),
    };
    let tags = tag_refs(&obj, &mut errors, "");
    let mut attributes = Vec::new();
    for (i, a) in list(&obj, "Attribute").into_iter().enumerate() {
        if let Some(a) = parse_attribute(a, &mut errors, &format!("Attribute {}: ", i + 1)) {
            attributes.push(a);
        }
    }
    let mut objects = Vec::new();
    for (i, o) in list(&obj, "Object").into_iter().enumerate() {
        if let Some(o) = parse_object(o, &mut errors, &format!("Object {}: ", i + 1), true) {
            objects.push(o);
        }
    }
    if !errors.is_empty() {
        return Err(reject(errors, "The event"));
    }
    require_tagger(actor, &tags)?;
    let groups: Vec<i32> = std::iter::once(sharing_group_id)
        .chain(attributes.iter().map(|a| a.sharing_group_id))
        .chain(objects.iter().flat_map(|o| {
            std::iter::once(o.sharing_group_id)
                .chain(o.attributes.iter().map(|a| a.sharing_group_id))
        }))
        .collect();
    super::sharing_groups::check_usable(&state.db, actor, groups).await?;

    let ts = now();
    let mut next = ev.clone();
    if let Some(info) = info {
        next.info = info;
    }
    if let Some(d) = date {
        next.date = d;
    }
    if let Some(t) = threat {
        next.threat_level_id = t;
    }
    if let Some(a) = analysis {
        next.analysis = a;
    }
    if let Some(d) = distribution {
        next.distribution = d;
    }
    next.sharing_group_id = sharing_group_id;
    if obj.contains_key("locked") {
        next.locked = loose_bool(obj.get("locked"));
    }
    // An edited event is no longer the published one (MISP unpublishes on edit).
    if !freeze {
        next.published = false;
        next.timestamp = ts;
    }
    let action = format!("events/edit/{}", ev.id);
    before_event_save(state, actor, &next, &tags, &action).await?;
    let txn = state.db.begin().await?;
    let active =
        sea_orm::ActiveModelTrait::reset_all(sea_orm::IntoActiveModel::into_active_model(next));
    let updated = store::update_event(&txn, active).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Event", ev.id, "edit", event_title(&updated)).change(event_diff(&ev, &updated)),
    )
    .await?;
    for t in &tags {
        let tag = resolve_tag(&txn, actor, &t.name).await?;
        store::attach_event_tag(&txn, ev.id, tag.id, t.local).await?;
    }
    let mut saved_attributes = Vec::new();
    for a in &attributes {
        let existing = match &a.uuid {
            Some(u) => store::find_attribute(&txn, u).await?,
            None => None,
        };
        let saved = match existing {
            Some(old) if old.event_id == ev.id => {
                update_attribute_row(&txn, actor, old, a, ts).await?
            }
            Some(_) => {
                return Err(AppError::Invalid(format!(
                    "Attribute {} belongs to another event.",
                    a.uuid.clone().unwrap_or_default()
                )))
            }
            None => insert_attribute(&txn, actor, ev.id, 0, a, ts).await?,
        };
        saved_attributes.push(saved.id);
    }
    let mut saved_objects = Vec::new();
    for o in &objects {
        let exists = match &o.uuid {
            Some(u) => store::find_object_by_uuid(&txn, u).await?.is_some(),
            None => false,
        };
        if !exists {
            let (object, attribute_ids) = insert_object(&txn, actor, ev.id, o, ts).await?;
            saved_objects.push(object.id);
            saved_attributes.extend(attribute_ids);
        }
    }
    store::refresh_attribute_count(&txn, ev.id).await?;
    event_saved(&txn, state, actor, ev.id, &action).await?;
    attributes_saved(&txn, state, actor, saved_attributes, &action).await?;
    objects_saved(&txn, state, actor, saved_objects, &action).await?;
    txn.commit().await?;
    hooks::wake(state);
    view_event(state, actor, &ev.id.to_string()).await
}

async fn update_attribute_row(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Principal,
    old: attribute::Model,
    a: &AttributeInput,
    ts: i64,
) -> Result<attribute::Model, AppError> {
    let (event_id, id) = (old.event_id, old.id);
    let mut active: attribute::ActiveModel = old.into();
    active.r#type = Set(a.kind.clone());
    active.category = Set(a.category.clone());
    active.value = Set(a.value.clone());
    active.to_ids = Set(a.to_ids);
    active.comment = Set(a.comment.clone());
    active.distribution = Set(a.distribution);
    active.sharing_group_id = Set(a.sharing_group_id);
    active.first_seen = Set(a.first_seen.clone());
    active.last_seen = Set(a.last_seen.clone());
    active.disable_correlation = Set(a.disable_correlation);
    active.deleted = Set(a.deleted);
    if a.object_relation.is_some() {
        active.object_relation = Set(a.object_relation.clone());
    }
    active.timestamp = Set(ts);
    let saved = store::update_attribute(db, active).await?;
    for t in &a.tags {
        let tag = resolve_tag(db, actor, &t.name).await?;
        store::attach_attribute_tag(db, event_id, id, tag.id, t.local).await?;
    }
    Ok(saved)
}

/// MISP's audit titles.
fn event_title(ev: &event::Model) -> String {
    format!("Event ({}): {}", ev.id, ev.info)
}

pub(super) fn attribute_title(a: &attribute::Model) -> String {
    format!(
        "Attribute ({}) from Event ({}): {}/{}",
        a.id, a.event_id, a.r#type, a.value
    )
}

fn object_title(o: &object::Model) -> String {
    format!("Object ({}) from Event ({}): {}", o.id, o.event_id, o.name)
}

fn event_diff(old: &event::Model, new: &event::Model) -> String {
    diff([
        ("info", old.info.clone(), new.info.clone()),
        ("date", old.date.clone(), new.date.clone()),
        (
            "threat_level_id",
            old.threat_level_id.to_string(),
            new.threat_level_id.to_string(),
        ),
        (
            "analysis",
            old.analysis.to_string(),
            new.analysis.to_string(),
        ),
        (
            "distribution",
            old.distribution.to_string(),
            new.distribution.to_string(),
        ),
        ("locked", old.locked.to_string(), new.locked.to_string()),
        (
            "published",
            old.published.to_string(),
            new.published.to_string(),
        ),
    ])
}

pub(super) fn attribute_diff(old: &attribute::Model, new: &attribute::Model) -> String {
    diff([
        ("type", old.r#type.clone(), new.r#type.clone()),
        ("category", old.category.clone(), new.category.clone()),
        ("value", old.value.clone(), new.value.clone()),
        ("to_ids", old.to_ids.to_string(), new.to_ids.to_string()),
        ("comment", old.comment.clone(), new.comment.clone()),
        (
            "distribution",
            old.distribution.to_string(),
            new.distribution.to_string(),
        ),
        (
            "first_seen",
            old.first_seen.clone().unwrap_or_default(),
            new.first_seen.clone().unwrap_or_default(),
        ),
        (
            "last_seen",
            old.last_seen.clone().unwrap_or_default(),
            new.last_seen.clone().unwrap_or_default(),
        ),
    ])
}

/// `POST /events/delete/<id>`.
pub async fn delete_event(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<i32, AppError> {
    let ev = editable_event(state, actor, id_or_uuid).await?;
    let action = format!("events/delete/{}", ev.id);
    let refused = hooks::block(state, "event-before-delete", &action, actor, || {
        hooks::full_event(state, actor, &ev)
    })
    .await?;
    if let Some(errors) = refused {
        let entry = Entry::new("Event", ev.id, "delete", event_title(&ev));
        return Err(hooks::refuse(state, actor, entry, "Deleting the event", errors).await);
    }
    let txn = state.db.begin().await?;
    store::delete_event(&txn, ev.id).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Event", ev.id, "delete", event_title(&ev)),
    )
    .await?;
    txn.commit().await?;
    Ok(ev.id)
}

/// `events/publish` (`publish = true`) and `events/unpublish`.
pub async fn set_published(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    publish: bool,
) -> Result<event::Model, AppError> {
    let ev = editable_event(state, actor, id_or_uuid).await?;
    if !(actor.role.perm_publish || actor.is_site_admin()) {
        return Err(AppError::Forbidden(
            "You do not have permission to publish events.".into(),
        ));
    }
    if publish {
        // The `event-publish` trigger (blocking): its workflow sees the full event as a site
        // admin would, and a `false` outcome leaves the event exactly as it was. Nothing is
        // built when no workflow listens.
        let action = format!("events/publish/{}", ev.id);
        let refused = hooks::block(state, "event-publish", &action, actor, || {
            hooks::full_event(state, actor, &ev)
        })
        .await?;
        if let Some(errors) = refused {
            let entry = Entry::new("Event", ev.id, "publish", event_title(&ev));
            return Err(hooks::refuse(state, actor, entry, "Publishing", errors).await);
        }
    }
    let mut active: event::ActiveModel = ev.clone().into();
    active.published = Set(publish);
    if publish {
        active.publish_timestamp = Set(now());
    }
    let txn = state.db.begin().await?;
    let updated = store::update_event(&txn, active).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "Event",
            ev.id,
            if publish { "publish" } else { "unpublish" },
            event_title(&ev),
        )
        .change(event_diff(&ev, &updated)),
    )
    .await?;
    let action = format!(
        "events/{}/{}",
        if publish { "publish" } else { "unpublish" },
        ev.id
    );
    event_saved(&txn, state, actor, ev.id, &action).await?;
    txn.commit().await?;
    hooks::wake(state);
    if publish {
        super::zmq::event_published(state, actor, &updated);
    }
    Ok(updated)
}

// ---------------------------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------------------------

/// `POST /attributes/add/<event_id>`: one attribute (answers `{"Attribute": {...}}`) or a list
/// (answers `{"Attribute": [...]}`); all or nothing.
pub async fn add_attributes(
    state: &AppState,
    actor: &Principal,
    event_id: &str,
    body: Value,
) -> Result<Value, AppError> {
    let ev = editable_event(state, actor, event_id).await?;
    let inner = match body {
        Value::Object(mut map) if map.contains_key("Attribute") => {
            map.remove("Attribute").unwrap_or(Value::Null)
        }
        other => other,
    };
    let (items, single): (Vec<Value>, bool) = match inner {
        Value::Array(items) => (items, false),
        one @ Value::Object(_) => (vec![one], true),
        _ => {
            return Err(AppError::Invalid(
                "The request body must be an attribute or a list of attributes.".into(),
            ))
        }
    };
    if items.is_empty() {
        return Err(AppError::Invalid("No attributes to add.".into()));
    }
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = if single {
            String::new()
        } else {
            format!("Attribute {}: ", i + 1)
        };
        match item.as_object() {
            Some(obj) => {
                if let Some(a) = parse_attribute(obj, &mut errors, &at) {
                    parsed.push(a);
                }
            }
            None => errors.push(format!("{at}expected an object.")),
        }
    }
    if !errors.is_empty() {
        return Err(reject(errors, "The attribute"));
    }
    let tags: Vec<TagRef> = parsed.iter().flat_map(|a| a.tags.clone()).collect();
    require_tagger(actor, &tags)?;
    let groups: Vec<i32> = parsed.iter().map(|a| a.sharing_group_id).collect();
    super::sharing_groups::check_usable(&state.db, actor, groups).await?;
    let ts = now();
    let action = format!("attributes/add/{}", ev.id);
    let txn = state.db.begin().await?;
    let mut saved = Vec::new();
    for a in &parsed {
        let row = insert_attribute(&txn, actor, ev.id, 0, a, ts).await?;
        let entry = Entry::new("Attribute", row.id, "add", attribute_title(&row))
            .carrying(attribute_saved(state, actor, row.id, &action)?);
        audit::record(&txn, Some(actor), entry).await?;
        saved.push(row);
    }
    let live = saved.iter().filter(|a| !a.deleted).count();
    count_in_and_touch(&txn, ev.id, live, ts).await?;
    let ids: Vec<i32> = saved.iter().map(|a| a.id).collect();
    txn.commit().await?;
    hooks::wake(state);
    let tags = store::tags_of_attributes(&state.db, ev.id, &ids).await?;
    let rendered: Vec<Value> = saved
        .iter()
        .map(|a| attribute_json(a, tags.get(&a.id).map_or(&[][..], Vec::as_slice)))
        .collect();
    Ok(if single {
        json!({"Attribute": rendered.into_iter().next().unwrap_or(Value::Null)})
    } else {
        json!({"Attribute": rendered})
    })
}

/// After `added` live attributes were added to event `event_id`: counts them in, unpublishes
/// and touches the event, in one statement. Counting in rather than counting the event's
/// attributes again reads no attribute row (on a 1,000-attribute event, the recount and its
/// extra statement took 0.2 ms of a 1.6 ms `attributes/add`), and on PostgreSQL two concurrent
/// additions cannot lose each other's count, as a recount taken before the other committed
/// would.
async fn count_in_and_touch(
    db: &impl sea_orm::ConnectionTrait,
    event_id: i32,
    added: usize,
    ts: i64,
) -> Result<(), AppError> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let added = i32::try_from(added).unwrap_or(i32::MAX);
    event::Entity::update_many()
        .col_expr(
            event::Column::AttributeCount,
            Expr::col(event::Column::AttributeCount).add(added),
        )
        .col_expr(event::Column::Timestamp, Expr::value(ts))
        .col_expr(event::Column::Published, Expr::value(false))
        .filter(event::Column::Id.eq(event_id))
        .exec(db)
        .await?;
    Ok(())
}

pub(super) async fn unpublish_and_touch(
    db: &impl sea_orm::ConnectionTrait,
    event_id: i32,
    ts: i64,
) -> Result<(), AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    event::Entity::update_many()
        .col_expr(
            event::Column::Timestamp,
            sea_orm::sea_query::Expr::value(ts),
        )
        .col_expr(
            event::Column::Published,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(event::Column::Id.eq(event_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A live (not deleted) attribute `actor` may see, with its event; `missing` is the 404 message
/// both when it does not exist and when it is hidden.
pub(super) async fn visible_attribute(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    missing: &str,
) -> Result<(attribute::Model, event::Model), AppError> {
    let invalid = || AppError::NotFound(missing.to_owned());
    let a = store::find_attribute(&state.db, id_or_uuid)
        .await?
        .filter(|a| !a.deleted)
        .ok_or_else(invalid)?;
    let ev = visible_event(state, actor, &a.event_id.to_string())
        .await
        .map_err(|_| invalid())?;
    if !child_visible(actor, &ev, a.distribution, a.sharing_group_id) {
        return Err(invalid());
    }
    Ok((a, ev))
}

/// An attribute `actor` may change, with its event.
async fn editable_attribute(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<(attribute::Model, event::Model), AppError> {
    read_only(actor)?;
    let Some(a) = store::find_attribute(&state.db, id_or_uuid).await? else {
        return Err(AppError::NotFound("Invalid attribute.".into()));
    };
    let ev = match store::find_event(&state.db, &a.event_id.to_string()).await? {
        Some(ev)
            if can_see(actor, &ev)
                && child_visible(actor, &ev, a.distribution, a.sharing_group_id) =>
        {
            ev
        }
        _ => return Err(AppError::NotFound("Invalid attribute.".into())),
    };
    if !can_edit(actor, &ev) {
        return Err(AppError::Forbidden(
            "You do not have permission to do that.".into(),
        ));
    }
    Ok((a, ev))
}

/// `POST /attributes/edit/<id>`: the fields given replace the stored ones.
pub async fn edit_attribute(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    body: Value,
) -> Result<Value, AppError> {
    let (old, ev) = editable_attribute(state, actor, id_or_uuid).await?;
    let obj = unwrap_model(body, "Attribute")?;
    // Start from the stored attribute so that omitted fields keep their values.
    let mut merged = match attribute_json(&old, &[]) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in obj {
        merged.insert(k, v);
    }
    merged.insert("uuid".into(), json!(old.uuid));
    let mut errors = Vec::new();
    let Some(input) = parse_attribute(&merged, &mut errors, "") else {
        return Err(reject(errors, "The attribute"));
    };
    require_tagger(actor, &input.tags)?;
    super::sharing_groups::check_usable(&state.db, actor, [input.sharing_group_id]).await?;
    let ts = now();
    let txn = state.db.begin().await?;
    let saved = update_attribute_row(&txn, actor, old.clone(), &input, ts).await?;
    let action = format!("attributes/edit/{}", saved.id);
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Attribute", saved.id, "edit", attribute_title(&saved))
            .change(attribute_diff(&old, &saved))
            .carrying(attribute_saved(state, actor, saved.id, &action)?),
    )
    .await?;
    store::refresh_attribute_count(&txn, ev.id).await?;
    unpublish_and_touch(&txn, ev.id, ts).await?;
    txn.commit().await?;
    hooks::wake(state);
    let tags = store::tags_of_attributes(&state.db, ev.id, &[saved.id]).await?;
    Ok(
        json!({"Attribute": attribute_json(&saved, tags.get(&saved.id).map_or(&[][..], Vec::as_slice))}),
    )
}

/// `POST /attributes/delete/<id>[/1]`: soft delete (MISP's default: `deleted` set), or hard.
pub async fn delete_attribute(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    hard: bool,
) -> Result<(), AppError> {
    let (a, ev) = editable_attribute(state, actor, id_or_uuid).await?;
    let ts = now();
    // A soft delete saves the attribute (MISP fires on it); a hard delete leaves nothing.
    let run = if hard {
        None
    } else {
        let action = format!("attributes/delete/{}", a.id);
        attribute_saved(state, actor, a.id, &action)?
    };
    let txn = state.db.begin().await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("Attribute", a.id, "delete", attribute_title(&a))
            .change(if hard {
                "hard delete"
            } else {
                "deleted (0) => (1)"
            })
            .carrying(run),
    )
    .await?;
    if hard {
        store::delete_attribute(&txn, a.id).await?;
    } else {
        let mut active: attribute::ActiveModel = a.into();
        active.deleted = Set(true);
        active.timestamp = Set(ts);
        store::update_attribute(&txn, active).await?;
    }
    store::refresh_attribute_count(&txn, ev.id).await?;
    unpublish_and_touch(&txn, ev.id, ts).await?;
    txn.commit().await?;
    hooks::wake(state);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------------

/// `{"Object": {...}}` with the object's attributes and their tags.
async fn object_document(
    db: &impl sea_orm::ConnectionTrait,
    o: &object::Model,
) -> Result<Value, AppError> {
    let attributes = store::object_attributes(db, o.id).await?;
    let ids: Vec<i32> = attributes.iter().map(|a| a.id).collect();
    let tags = store::tags_of_attributes(db, o.event_id, &ids).await?;
    let attributes = attributes
        .iter()
        .map(|a| attribute_json(a, tags.get(&a.id).map_or(&[][..], Vec::as_slice)))
        .collect();
    Ok(json!({"Object": object_json(o, attributes)}))
}

/// `POST /objects/add/<event_id>`: an object with its attributes (one transaction).
pub async fn add_object(
    state: &AppState,
    actor: &Principal,
    event_id: &str,
    body: Value,
) -> Result<Value, AppError> {
    let ev = editable_event(state, actor, event_id).await?;
    let obj = unwrap_model(body, "Object")?;
    let mut errors = Vec::new();
    let Some(input) = parse_object(&obj, &mut errors, "", true) else {
        return Err(reject(errors, "The object"));
    };
    let tags: Vec<TagRef> = input
        .attributes
        .iter()
        .flat_map(|a| a.tags.clone())
        .collect();
    require_tagger(actor, &tags)?;
    let groups: Vec<i32> = std::iter::once(input.sharing_group_id)
        .chain(input.attributes.iter().map(|a| a.sharing_group_id))
        .collect();
    super::sharing_groups::check_usable(&state.db, actor, groups).await?;
    let ts = now();
    let txn = state.db.begin().await?;
    let (saved, attribute_ids) = insert_object(&txn, actor, ev.id, &input, ts).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("MispObject", saved.id, "add", object_title(&saved))
            .change(format!("{} attribute(s)", input.attributes.len())),
    )
    .await?;
    store::refresh_attribute_count(&txn, ev.id).await?;
    unpublish_and_touch(&txn, ev.id, ts).await?;
    let out = object_document(&txn, &saved).await?;
    let action = format!("objects/add/{}", ev.id);
    objects_saved(&txn, state, actor, [saved.id], &action).await?;
    attributes_saved(&txn, state, actor, attribute_ids, &action).await?;
    txn.commit().await?;
    hooks::wake(state);
    Ok(out)
}

/// An object `actor` may change, with its event.
async fn editable_object(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<(object::Model, event::Model), AppError> {
    read_only(actor)?;
    let Some(o) = store::find_object(&state.db, id_or_uuid).await? else {
        return Err(AppError::NotFound("Invalid object.".into()));
    };
    let ev = match store::find_event(&state.db, &o.event_id.to_string()).await? {
        Some(ev)
            if can_see(actor, &ev)
                && child_visible(actor, &ev, o.distribution, o.sharing_group_id) =>
        {
            ev
        }
        _ => return Err(AppError::NotFound("Invalid object.".into())),
    };
    if !can_edit(actor, &ev) {
        return Err(AppError::Forbidden(
            "You do not have permission to do that.".into(),
        ));
    }
    Ok((o, ev))
}

/// `POST /objects/edit/<id>`: the object's own fields given replace the stored ones; its
/// attributes in the body are matched by uuid (updated) or added. One transaction.
pub async fn edit_object(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    body: Value,
) -> Result<Value, AppError> {
    let (old, ev) = editable_object(state, actor, id_or_uuid).await?;
    let obj = unwrap_model(body, "Object")?;
    let mut merged = match object_json(&old, Vec::new()) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let had_attributes = obj.contains_key("Attribute");
    for (k, v) in obj {
        merged.insert(k, v);
    }
    merged.insert("uuid".into(), json!(old.uuid));
    let mut errors = Vec::new();
    let Some(input) = parse_object(&merged, &mut errors, "", had_attributes) else {
        return Err(reject(errors, "The object"));
    };
    let attributes = input.attributes.clone();
    let tags: Vec<TagRef> = attributes.iter().flat_map(|a| a.tags.clone()).collect();
    require_tagger(actor, &tags)?;
    let groups: Vec<i32> = std::iter::once(input.sharing_group_id)
        .chain(attributes.iter().map(|a| a.sharing_group_id))
        .collect();
    super::sharing_groups::check_usable(&state.db, actor, groups).await?;
    let ts = now();
    let txn = state.db.begin().await?;
    let mut active: object::ActiveModel = old.clone().into();
    active.name = Set(input.name.clone());
    active.meta_category = Set(input.meta_category.clone());
    active.description = Set(input.description.clone());
    active.template_uuid = Set(input.template_uuid.clone());
    active.template_version = Set(input.template_version.clone());
    active.comment = Set(input.comment.clone());
    active.distribution = Set(input.distribution);
    active.sharing_group_id = Set(input.sharing_group_id);
    active.first_seen = Set(input.first_seen.clone());
    active.last_seen = Set(input.last_seen.clone());
    active.timestamp = Set(ts);
    let saved = store::update_object(&txn, active).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("MispObject", saved.id, "edit", object_title(&saved)).change(diff([
            ("name", old.name.clone(), saved.name.clone()),
            ("comment", old.comment.clone(), saved.comment.clone()),
            (
                "distribution",
                old.distribution.to_string(),
                saved.distribution.to_string(),
            ),
        ])),
    )
    .await?;
    for a in &attributes {
        let existing = match &a.uuid {
            Some(u) => store::find_attribute(&txn, u).await?,
            None => None,
        };
        match existing {
            Some(prev) if prev.object_id == saved.id => {
                update_attribute_row(&txn, actor, prev, a, ts).await?;
            }
            Some(_) => {
                return Err(AppError::Invalid(format!(
                    "Attribute {} belongs to another object.",
                    a.uuid.clone().unwrap_or_default()
                )))
            }
            None => {
                insert_attribute(&txn, actor, ev.id, saved.id, a, ts).await?;
            }
        }
    }
    store::refresh_attribute_count(&txn, ev.id).await?;
    unpublish_and_touch(&txn, ev.id, ts).await?;
    let out = object_document(&txn, &saved).await?;
    let action = format!("objects/save/{}", saved.id);
    objects_saved(&txn, state, actor, [saved.id], &action).await?;
    txn.commit().await?;
    hooks::wake(state);
    Ok(out)
}

/// `POST /objects/delete/<id>[/1]`: soft delete (object and its attributes marked deleted), or
/// hard.
pub async fn delete_object(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    hard: bool,
) -> Result<(), AppError> {
    let (o, ev) = editable_object(state, actor, id_or_uuid).await?;
    let ts = now();
    let txn = state.db.begin().await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("MispObject", o.id, "delete", object_title(&o)).change(if hard {
            "hard delete"
        } else {
            "deleted (0) => (1)"
        }),
    )
    .await?;
    if hard {
        store::delete_object(&txn, o.id).await?;
    } else {
        store::soft_delete_object(&txn, o.id, ts).await?;
    }
    store::refresh_attribute_count(&txn, ev.id).await?;
    unpublish_and_touch(&txn, ev.id, ts).await?;
    if !hard {
        let action = format!("objects/delete/{}", o.id);
        objects_saved(&txn, state, actor, [o.id], &action).await?;
    }
    txn.commit().await?;
    hooks::wake(state);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------

/// `GET /tags/index`: `{"Tag": [...]}` with each tag's usage counts.
pub async fn index_tags(
    state: &AppState,
    actor: &Principal,
    search: Option<&str>,
) -> Result<Value, AppError> {
    let _ = actor;
    let tags = store::list_tags(&state.db, search).await?;
    Ok(json!({"Tag": tags.iter().map(tag_index_json).collect::<Vec<_>>()}))
}

/// A tag as `tags/index` lists it (no `local`, with its owner org).
fn tag_index_json(t: &tag::Model) -> Value {
    let mut v = tag_json(t, false);
    if let Value::Object(m) = &mut v {
        m.remove("local");
        m.remove("relationship_type");
        m.insert("org_id".into(), json!(t.org_id.to_string()));
    }
    v
}

/// `POST /tags/add`: creates a tag (tag editors), answers `{"Tag": {...}}`.
pub async fn add_tag(state: &AppState, actor: &Principal, body: Value) -> Result<Value, AppError> {
    read_only(actor)?;
    if !(actor.role.perm_tag_editor || actor.is_site_admin()) {
        return Err(AppError::Forbidden(
            "You do not have permission to create tags.".into(),
        ));
    }
    let obj = unwrap_model(body, "Tag")?;
    let name = text(obj.get("name")).unwrap_or_default().trim().to_owned();
    if name.is_empty() || name.len() > 255 {
        return Err(AppError::Invalid(
            "A tag needs a name (at most 255 characters).".into(),
        ));
    }
    // MISP answers an existing name with the existing tag.
    if let Some(existing) = store::find_tag_by_name(&state.db, &name).await? {
        return Ok(json!({"Tag": tag_index_json(&existing)}));
    }
    let colour = match text(obj.get("colour")) {
        Some(c)
            if c.len() == 7
                && c.starts_with('#')
                && c[1..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            c
        }
        Some(c) if !c.is_empty() => {
            return Err(AppError::Invalid(format!("Colour `{c}` is not #rrggbb.")))
        }
        _ => tag_colour(&name),
    };
    let txn = state.db.begin().await?;
    let saved = store::insert_tag(
        &txn,
        tag::ActiveModel {
            name: Set(name.clone()),
            colour: Set(colour),
            exportable: Set(obj.get("exportable").is_none_or(|v| loose_bool(Some(v)))),
            org_id: Set(0),
            user_id: Set(0),
            hide_tag: Set(loose_bool(obj.get("hide_tag"))),
            numerical_value: Set(
                loose_int(obj.get("numerical_value")).and_then(|n| i32::try_from(n).ok())
            ),
            is_galaxy: Set(name.starts_with("misp-galaxy:")),
            is_custom_galaxy: Set(false),
            local_only: Set(loose_bool(obj.get("local_only"))),
            ..Default::default()
        },
    )
    .await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "Tag",
            saved.id,
            "add",
            format!("Tag ({}): {}", saved.id, saved.name),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(json!({"Tag": tag_index_json(&saved)}))
}

/// What `tags/attachTagToObject` and `removeTagFromObject` act on.
pub enum Tagged {
    Event(event::Model),
    Attribute(Box<attribute::Model>, event::Model),
}

impl Tagged {
    fn kind(&self) -> &'static str {
        match self {
            Tagged::Event(_) => "Event",
            Tagged::Attribute(..) => "Attribute",
        }
    }

    fn audit_ref(&self) -> (&'static str, i32) {
        match self {
            Tagged::Event(ev) => ("Event", ev.id),
            Tagged::Attribute(a, _) => ("Attribute", a.id),
        }
    }

    /// MISP's `Event(12)` / `Attribute(7)`.
    fn describe(&self) -> String {
        match self {
            Tagged::Event(ev) => format!("Event({})", ev.id),
            Tagged::Attribute(a, _) => format!("Attribute({})", a.id),
        }
    }
}

async fn tag_target(state: &AppState, actor: &Principal, uuid: &str) -> Result<Tagged, AppError> {
    read_only(actor)?;
    if let Some(ev) = store::find_event(&state.db, uuid).await? {
        if !can_see(actor, &ev) {
            return Err(AppError::NotFound("Invalid target.".into()));
        }
        if !can_edit(actor, &ev) || !(actor.role.perm_tagger || actor.is_site_admin()) {
            return Err(AppError::Forbidden(
                "You do not have permission to tag this event.".into(),
            ));
        }
        return Ok(Tagged::Event(ev));
    }
    let (a, ev) = editable_attribute(state, actor, uuid)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::NotFound("Invalid target.".into()),
            other => other,
        })?;
    if !(actor.role.perm_tagger || actor.is_site_admin()) {
        return Err(AppError::Forbidden(
            "You do not have permission to tag this attribute.".into(),
        ));
    }
    Ok(Tagged::Attribute(Box::new(a), ev))
}

/// A tag given by id, name, or `{"name": ...}`.
async fn tag_by_reference(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Principal,
    reference: &Value,
    create: bool,
) -> Result<tag::Model, AppError> {
    let name = match reference {
        Value::Number(n) => {
            let id = n.as_i64().and_then(|n| i32::try_from(n).ok()).unwrap_or(0);
            return store::find_tag(db, id)
                .await?
                .ok_or_else(|| AppError::NotFound("Invalid tag.".into()));
        }
        Value::String(s) if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() => {
            let id = s.parse().unwrap_or(0);
            return store::find_tag(db, id)
                .await?
                .ok_or_else(|| AppError::NotFound("Invalid tag.".into()));
        }
        Value::String(s) => s.trim().to_owned(),
        Value::Object(o) => text(o.get("name")).unwrap_or_default().trim().to_owned(),
        _ => String::new(),
    };
    if name.is_empty() {
        return Err(AppError::Invalid("A tag (id or name) is required.".into()));
    }
    if create {
        resolve_tag(db, actor, &name).await
    } else {
        store::find_tag_by_name(db, &name)
            .await?
            .ok_or_else(|| AppError::NotFound("Invalid tag.".into()))
    }
}

/// `POST /tags/attachTagToObject` with `{"uuid", "tag", "local"}`.
pub async fn attach_tag(
    state: &AppState,
    actor: &Principal,
    uuid: &str,
    tag_reference: &Value,
    local: bool,
) -> Result<String, AppError> {
    let target = tag_target(state, actor, uuid).await?;
    let ts = now();
    let txn = state.db.begin().await?;
    let tag = tag_by_reference(&txn, actor, tag_reference, true).await?;
    let changed = match &target {
        Tagged::Event(ev) => store::attach_event_tag(&txn, ev.id, tag.id, local).await?,
        Tagged::Attribute(a, ev) => {
            store::attach_attribute_tag(&txn, ev.id, a.id, tag.id, local).await?
        }
    };
    if changed && !local {
        let ev_id = match &target {
            Tagged::Event(ev) | Tagged::Attribute(_, ev) => ev.id,
        };
        unpublish_and_touch(&txn, ev_id, ts).await?;
    }
    if changed {
        let (model, id) = target.audit_ref();
        audit::record(
            &txn,
            Some(actor),
            Entry::new(
                model,
                id,
                "tag",
                format!(
                    "Attached {} tag {}({}) to {}",
                    if local { "local" } else { "global" },
                    tag.name,
                    tag.id,
                    target.describe()
                ),
            ),
        )
        .await?;
    }
    if changed {
        // `tag-attached-after-save`: the event (or the attribute in its event), with the raw
        // tag link the trigger's scope / locality / tag parameters are checked against.
        let (event_id, attribute_id) = match &target {
            Tagged::Event(ev) => (ev.id, None),
            Tagged::Attribute(a, ev) => (ev.id, Some(a.id)),
        };
        let mut link = json!({"id": tag.id.to_string(), "name": tag.name, "colour": tag.colour,
            "event_id": event_id.to_string(), "local": local});
        if let Some(a) = attribute_id {
            link["attribute_id"] = json!(a.to_string());
        }
        let action = format!("tags/attachTagToObject/{uuid}");
        let subject = hooks::Subject::TagLink {
            event_id,
            attribute_id,
            link,
        };
        hooks::fire(
            &txn,
            state,
            "tag-attached-after-save",
            action,
            actor,
            subject,
        )
        .await?;
    }
    txn.commit().await?;
    hooks::wake(state);
    let what = target.describe();
    let kind = if local { "Local" } else { "Global" };
    Ok(if changed {
        format!(
            "{kind} tag {}({}) successfully attached to {what}.",
            tag.name, tag.id
        )
    } else {
        format!(
            "{} already has the requested tag attached, no changes had to be made for tag {}.",
            target.kind(),
            tag.name
        )
    })
}

/// `POST /tags/removeTagFromObject` with `{"uuid", "tag"}`.
pub async fn remove_tag(
    state: &AppState,
    actor: &Principal,
    uuid: &str,
    tag_reference: &Value,
) -> Result<String, AppError> {
    let target = tag_target(state, actor, uuid).await?;
    let tag = tag_by_reference(&state.db, actor, tag_reference, false).await?;
    let txn = state.db.begin().await?;
    let removed = match &target {
        Tagged::Event(ev) => store::detach_event_tag(&txn, ev.id, tag.id).await?,
        Tagged::Attribute(a, _) => store::detach_attribute_tag(&txn, a.id, tag.id).await?,
    };
    if !removed {
        return Err(AppError::NotFound(format!(
            "Could not remove tag as it is not attached to the target {}",
            target.kind()
        )));
    }
    let ev_id = match &target {
        Tagged::Event(ev) | Tagged::Attribute(_, ev) => ev.id,
    };
    store::touch_event(&txn, ev_id, now()).await?;
    let (model, id) = target.audit_ref();
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            model,
            id,
            "removeTag",
            format!(
                "Removed tag {}({}) from {}",
                tag.name,
                tag.id,
                target.describe()
            ),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(format!(
        "Tag {}({}) successfully removed from {}.",
        tag.name,
        tag.id,
        target.describe()
    ))
}
