//! The event blocklist and custom warninglists (MISP core objects, third part).
//!
//! Blocklist: events whose uuid is listed cannot be added (`events/add` answers 403 "Event
//! blocked by event blocklist."). Managed by site admins and by host-organisation users with
//! `perm_add`, as in MISP.
//!
//! Warninglists: lists of known values (false positives or known identifiers) that values are
//! checked against (`warninglists/checkValue`). Flowgate ships no default lists; admins add custom
//! ones (MISP's `warninglists/add`), enable and disable them.
use std::net::IpAddr;

use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::{json, Map, Value};

use super::audit::{self, diff, Entry};
use super::events::read_only;
use super::input::{field_text as text, optional_uuid, unwrap_body as unwrap};
use crate::backend::entities::{event_blocklist, warninglist, warninglist_entry};
use crate::backend::{misp_datetime, now, AppState, Principal};
use crate::error::AppError;

// ---------------------------------------------------------------------------------------------
// Event blocklist
// ---------------------------------------------------------------------------------------------

async fn require_blocklist_manager(state: &AppState, actor: &Principal) -> Result<(), AppError> {
    if actor.is_site_admin() {
        return Ok(());
    }
    let host = crate::backend::store::settings::find_setting(&state.db, "MISP.host_org_id")
        .await?
        .and_then(|v| v.as_i64());
    if actor.role.perm_add && host == Some(i64::from(actor.org.id)) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "You do not have permission to use this functionality.".into(),
        ))
    }
}

pub fn blocklist_json(b: &event_blocklist::Model) -> Value {
    json!({
        "id": b.id.to_string(),
        "event_uuid": b.event_uuid,
        "created": misp_datetime(b.created),
        "event_info": b.event_info,
        "comment": b.comment,
        "event_orgc": b.event_orgc,
    })
}

/// Whether events with `uuid` are refused.
pub async fn is_blocked(db: &impl ConnectionTrait, uuid: &str) -> Result<bool, sea_orm::DbErr> {
    Ok(event_blocklist::Entity::find()
        .filter(event_blocklist::Column::EventUuid.eq(uuid.to_lowercase()))
        .one(db)
        .await?
        .is_some())
}

/// `GET eventBlocklists/index`: a bare list of rows (MISP), oldest first; exact filters
/// `event_uuid`, `comment`, `event_info`, `event_orgc`, and `searchall` (substring of any).
pub async fn index_blocklist(
    state: &AppState,
    actor: &Principal,
    filters: &Map<String, Value>,
) -> Result<Value, AppError> {
    require_blocklist_manager(state, actor).await?;
    let mut cond = Condition::all();
    for (key, value) in filters {
        let Some(v) = value.as_str().filter(|v| !v.is_empty()) else {
            continue;
        };
        let column = match key.as_str() {
            "event_uuid" => event_blocklist::Column::EventUuid,
            "comment" => event_blocklist::Column::Comment,
            "event_info" => event_blocklist::Column::EventInfo,
            "event_orgc" => event_blocklist::Column::EventOrgc,
            "searchall" => {
                let mut any = Condition::any();
                for c in [
                    event_blocklist::Column::EventUuid,
                    event_blocklist::Column::Comment,
                    event_blocklist::Column::EventInfo,
                    event_blocklist::Column::EventOrgc,
                ] {
                    any = any.add(crate::backend::store::contains_ignore_case(c, v));
                }
                cond = cond.add(any);
                continue;
            }
            other => {
                return Err(AppError::Invalid(format!(
                    "Unknown filter `{other}`; known: event_uuid, comment, event_info, event_orgc, searchall."
                )))
            }
        };
        cond = cond.add(column.eq(v));
    }
    let rows = event_blocklist::Entity::find()
        .filter(cond)
        .order_by_asc(event_blocklist::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Value::Array(rows.iter().map(blocklist_json).collect()))
}

/// `POST eventBlocklists/add` with `{"uuids": [...] | "a\nb", "comment", "event_info",
/// "event_orgc"}`: each uuid is added or reported in `fails` (malformed or already listed).
pub async fn add_blocklist(
    state: &AppState,
    actor: &Principal,
    body: Value,
) -> Result<Value, AppError> {
    read_only(actor)?;
    require_blocklist_manager(state, actor).await?;
    let m = unwrap(body, &["EventBlocklist", "request"])?;
    let uuids: Vec<String> = match m.get("uuids") {
        Some(Value::Array(list)) => list
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect(),
        Some(Value::String(s)) => s.lines().map(str::to_owned).collect(),
        _ => {
            return Err(AppError::Invalid(
                "`uuids` (a list of event uuids, or one per line) is required.".into(),
            ))
        }
    };
    let uuids: Vec<String> = uuids
        .into_iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if uuids.is_empty() {
        return Err(AppError::Invalid("`uuids` is empty.".into()));
    }
    let field = |key: &str| text(&m, key).unwrap_or_default().trim().to_owned();
    let (comment, event_info, event_orgc) =
        (field("comment"), field("event_info"), field("event_orgc"));
    if event_orgc.chars().count() > 255 {
        return Err(AppError::Invalid(
            "`event_orgc` is longer than 255 characters.".into(),
        ));
    }
    let txn = state.db.begin().await?;
    let (mut successes, mut fails) = (Vec::new(), Vec::new());
    for raw in uuids {
        let Ok(Some(uuid)) = optional_uuid(Some(&raw)) else {
            fails.push(raw);
            continue;
        };
        if is_blocked(&txn, &uuid).await? {
            fails.push(raw);
            continue;
        }
        let row = event_blocklist::ActiveModel {
            id: NotSet,
            event_uuid: Set(uuid.clone()),
            created: Set(now()),
            event_info: Set(event_info.clone()),
            comment: Set(comment.clone()),
            event_orgc: Set(event_orgc.clone()),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            Some(actor),
            Entry::new(
                "EventBlocklist",
                row.id,
                "add",
                format!("Blocklisted event {uuid}"),
            )
            .change(comment.clone()),
        )
        .await?;
        successes.push(uuid);
    }
    txn.commit().await?;
    Ok(json!({
        "result": {"successes": successes, "fails": fails},
        "message": format!(
            "Done. Added {} new entries to the blocklist. {} entries could not be saved.",
            successes.len(),
            fails.len()
        ),
    }))
}

async fn find_blocklist_entry(
    db: &impl ConnectionTrait,
    id_or_uuid: &str,
) -> Result<Option<event_blocklist::Model>, sea_orm::DbErr> {
    match id_or_uuid.parse::<i32>() {
        Ok(id) => event_blocklist::Entity::find_by_id(id).one(db).await,
        Err(_) => {
            event_blocklist::Entity::find()
                .filter(event_blocklist::Column::EventUuid.eq(id_or_uuid.to_lowercase()))
                .one(db)
                .await
        }
    }
}

/// `POST eventBlocklists/edit/<id|event uuid>`: `comment`, `event_info`, `event_orgc`.
pub async fn edit_blocklist(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    body: Value,
) -> Result<Value, AppError> {
    read_only(actor)?;
    require_blocklist_manager(state, actor).await?;
    let m = unwrap(body, &["EventBlocklist", "request"])?;
    let txn = state.db.begin().await?;
    let Some(old) = find_blocklist_entry(&txn, id_or_uuid).await? else {
        return Err(AppError::NotFound("Blocklist item not found.".into()));
    };
    let mut active: event_blocklist::ActiveModel = old.clone().into();
    if let Some(c) = text(&m, "comment") {
        active.comment = Set(c.trim().to_owned());
    }
    if let Some(i) = text(&m, "event_info") {
        active.event_info = Set(i.trim().to_owned());
    }
    if let Some(o) = text(&m, "event_orgc") {
        if o.chars().count() > 255 {
            return Err(AppError::Invalid(
                "`event_orgc` is longer than 255 characters.".into(),
            ));
        }
        active.event_orgc = Set(o.trim().to_owned());
    }
    let saved = active.update(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "EventBlocklist",
            saved.id,
            "edit",
            format!("Blocklisted event {}", saved.event_uuid),
        )
        .change(diff([
            ("comment", old.comment, saved.comment.clone()),
            ("event_info", old.event_info, saved.event_info.clone()),
            ("event_orgc", old.event_orgc, saved.event_orgc.clone()),
        ])),
    )
    .await?;
    txn.commit().await?;
    Ok(json!({"EventBlocklist": blocklist_json(&saved)}))
}

/// `POST eventBlocklists/delete/<id|event uuid>`; answers the removed entry's id.
pub async fn delete_blocklist(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<i32, AppError> {
    read_only(actor)?;
    require_blocklist_manager(state, actor).await?;
    let txn = state.db.begin().await?;
    let Some(old) = find_blocklist_entry(&txn, id_or_uuid).await? else {
        return Err(AppError::NotFound("Invalid blocklist entry".into()));
    };
    event_blocklist::Entity::delete_by_id(old.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "EventBlocklist",
            old.id,
            "delete",
            format!("Blocklisted event {}", old.event_uuid),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(old.id)
}

// ---------------------------------------------------------------------------------------------
// Warninglists
// ---------------------------------------------------------------------------------------------

const LIST_TYPES: [&str; 5] = ["string", "substring", "hostname", "cidr", "regex"];
const CATEGORIES: [&str; 2] = ["false_positive", "known"];
/// Most entries one list may hold.
const MAX_ENTRIES: usize = 100_000;

fn require_warninglist_editor(actor: &Principal) -> Result<(), AppError> {
    read_only(actor)?;
    if actor.is_site_admin() || actor.role.perm_warninglist {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "You do not have permission to use this functionality.".into(),
        ))
    }
}

fn matching_attributes(w: &warninglist::Model) -> Vec<String> {
    serde_json::from_str(&w.matching_attributes).unwrap_or_default()
}

fn warninglist_fields(w: &warninglist::Model) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(w.id.to_string()));
    m.insert("name".into(), json!(w.name));
    m.insert("type".into(), json!(w.r#type));
    m.insert("description".into(), json!(w.description));
    m.insert("version".into(), json!(w.version.to_string()));
    m.insert("enabled".into(), json!(w.enabled));
    m.insert("default".into(), json!(w.default));
    m.insert("category".into(), json!(w.category));
    m
}

/// `GET warninglists/index`: `{"Warninglists": [{"Warninglist": {...}}]}` with entry counts
/// and `valid_attributes`; filters `value` (substring of name or description, or the type) and
/// `enabled`.
pub async fn index_warninglists(
    state: &AppState,
    filters: &Map<String, Value>,
) -> Result<Value, AppError> {
    let mut cond = Condition::all();
    for (key, value) in filters {
        match key.as_str() {
            "value" => {
                if let Some(v) = value.as_str().filter(|v| !v.is_empty()) {
                    cond = cond.add(
                        Condition::any()
                            .add(crate::backend::store::contains_ignore_case(
                                warninglist::Column::Name,
                                v,
                            ))
                            .add(crate::backend::store::contains_ignore_case(
                                warninglist::Column::Description,
                                v,
                            ))
                            .add(warninglist::Column::Type.eq(v)),
                    );
                }
            }
            "enabled" => {
                if !value.is_null() && value.as_str() != Some("") {
                    cond = cond.add(
                        warninglist::Column::Enabled.eq(super::input::loose_bool(Some(value))),
                    );
                }
            }
            other => {
                return Err(AppError::Invalid(format!(
                    "Unknown filter `{other}`; known: value, enabled."
                )))
            }
        }
    }
    let lists = warninglist::Entity::find()
        .filter(cond)
        .order_by_asc(warninglist::Column::Name)
        .all(&state.db)
        .await?;
    let counts = entry_counts(&state.db).await?;
    let out: Vec<Value> = lists
        .iter()
        .map(|w| {
            let mut m = warninglist_fields(w);
            m.insert(
                "warninglist_entry_count".into(),
                json!(counts.get(&w.id).copied().unwrap_or(0).to_string()),
            );
            m.insert(
                "valid_attributes".into(),
                json!(matching_attributes(w).join(", ")),
            );
            json!({"Warninglist": m})
        })
        .collect();
    Ok(json!({"Warninglists": out}))
}

async fn entry_counts(
    db: &impl ConnectionTrait,
) -> Result<std::collections::HashMap<i32, i64>, sea_orm::DbErr> {
    use sea_orm::QuerySelect;
    let rows: Vec<(i32, i64)> = warninglist_entry::Entity::find()
        .select_only()
        .column(warninglist_entry::Column::WarninglistId)
        .column_as(warninglist_entry::Column::Id.count(), "n")
        .group_by(warninglist_entry::Column::WarninglistId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

async fn entries(
    db: &impl ConnectionTrait,
    list_id: i32,
) -> Result<Vec<warninglist_entry::Model>, sea_orm::DbErr> {
    warninglist_entry::Entity::find()
        .filter(warninglist_entry::Column::WarninglistId.eq(list_id))
        .order_by_asc(warninglist_entry::Column::Id)
        .all(db)
        .await
}

async fn find_warninglist(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<warninglist::Model, AppError> {
    let Ok(id) = id.parse::<i32>() else {
        return Err(AppError::NotFound("Invalid ID.".into()));
    };
    warninglist::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("Warninglist not found.".into()))
}

/// `GET warninglists/view/<id>`: the list with `WarninglistEntry` and `WarninglistType`.
pub async fn view_warninglist(state: &AppState, id: &str) -> Result<Value, AppError> {
    let w = find_warninglist(&state.db, id).await?;
    warninglist_document(&state.db, &w).await
}

async fn warninglist_document(
    db: &impl ConnectionTrait,
    w: &warninglist::Model,
) -> Result<Value, AppError> {
    let mut m = warninglist_fields(w);
    m.insert(
        "WarninglistEntry".into(),
        Value::Array(
            entries(db, w.id)
                .await?
                .iter()
                .map(|e| {
                    json!({
                        "id": e.id.to_string(),
                        "value": e.value,
                        "warninglist_id": e.warninglist_id.to_string(),
                        "comment": e.comment,
                    })
                })
                .collect(),
        ),
    );
    m.insert(
        "WarninglistType".into(),
        Value::Array(
            matching_attributes(w)
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    json!({"id": (i + 1).to_string(), "type": t, "warninglist_id": w.id.to_string()})
                })
                .collect(),
        ),
    );
    Ok(json!({"Warninglist": m}))
}

/// A list as `add` / `edit` give it, validated.
struct ListInput {
    name: Option<String>,
    description: Option<String>,
    list_type: Option<String>,
    category: Option<String>,
    entries: Option<Vec<(String, Option<String>)>>,
    matching: Option<Vec<String>>,
}

/// `value # comment` lines (MISP's free text), or a list of strings / `{value, comment}`.
fn parse_entries(v: &Value, errors: &mut Vec<String>) -> Vec<(String, Option<String>)> {
    let split = |line: &str| -> Option<(String, Option<String>)> {
        let (value, comment) = match line.split_once('#') {
            Some((v, c)) => (
                v.trim(),
                Some(c.trim().to_owned()).filter(|c| !c.is_empty()),
            ),
            None => (line.trim(), None),
        };
        (!value.is_empty()).then(|| (value.to_owned(), comment))
    };
    match v {
        Value::String(s) => s.lines().filter_map(split).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|item| match item {
                Value::String(s) => split(s),
                Value::Object(o) => {
                    let value = text(o, "value").unwrap_or_default().trim().to_owned();
                    (!value.is_empty()).then(|| {
                        (
                            value,
                            text(o, "comment")
                                .map(|c| c.trim().to_owned())
                                .filter(|c| !c.is_empty()),
                        )
                    })
                }
                _ => {
                    errors.push(
                        "entries: each entry is a string or {\"value\", \"comment\"}.".into(),
                    );
                    None
                }
            })
            .collect(),
        _ => {
            errors.push("entries: expected `value # comment` lines or a list.".into());
            Vec::new()
        }
    }
}

fn parse_list(m: &Map<String, Value>, creating: bool) -> Result<ListInput, AppError> {
    let mut errors = Vec::new();
    let name = text(m, "name").map(|n| n.trim().to_owned());
    if (creating || name.is_some())
        && name
            .as_ref()
            .is_none_or(|n| n.is_empty() || n.chars().count() > 255)
    {
        errors.push("name: required, at most 255 characters.".into());
    }
    let description = text(m, "description").map(|d| d.trim().to_owned());
    if (creating || description.is_some()) && description.as_ref().is_none_or(String::is_empty) {
        errors.push("description: required.".into());
    }
    let list_type = text(m, "type").map(|t| t.trim().to_lowercase());
    match &list_type {
        Some(t) if LIST_TYPES.contains(&t.as_str()) => {}
        None if !creating => {}
        _ => errors.push(format!("type: expected one of {}.", LIST_TYPES.join(", "))),
    }
    let category = match text(m, "category").map(|c| c.trim().to_owned()) {
        None if creating => Some("false_positive".to_owned()),
        None => None,
        Some(c) if CATEGORIES.contains(&c.as_str()) => Some(c),
        Some(_) => {
            errors.push(format!(
                "category: expected one of {}.",
                CATEGORIES.join(", ")
            ));
            None
        }
    };
    let entries = match m.get("entries") {
        None | Some(Value::Null) if !creating => None,
        None | Some(Value::Null) => {
            errors.push("entries: required.".into());
            None
        }
        Some(v) => {
            let parsed = parse_entries(v, &mut errors);
            if parsed.is_empty() {
                errors.push("entries: at least one value is required.".into());
            } else if parsed.len() > MAX_ENTRIES {
                errors.push(format!("entries: at most {MAX_ENTRIES} values."));
            }
            Some(parsed)
        }
    };
    let matching = match m.get("matching_attributes") {
        None | Some(Value::Null) => creating.then(|| vec!["ALL".to_owned()]),
        Some(v) => {
            let list: Vec<String> = match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Value::String(s) => s
                    .split([',', '\n'])
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect(),
                _ => {
                    errors.push("matching_attributes: expected a list of attribute types.".into());
                    Vec::new()
                }
            };
            let types = super::describe_types::describe_types();
            for t in &list {
                if t != "ALL" && !types.is_type(t) {
                    errors.push(format!(
                        "matching_attributes: unknown attribute type `{t}`."
                    ));
                }
            }
            Some(if list.is_empty() {
                vec!["ALL".to_owned()]
            } else {
                list
            })
        }
    };
    // Entries must suit the list's type (checked when either is given).
    if let (Some(t), Some(entries)) = (&list_type, &entries) {
        for (value, _) in entries {
            if let Err(e) = check_entry(t, value) {
                errors.push(e);
                if errors.len() > 20 {
                    break;
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(format!(
            "Could not save the warninglist. {}",
            errors.join(" ")
        )));
    }
    Ok(ListInput {
        name,
        description,
        list_type,
        category,
        entries,
        matching,
    })
}

fn check_entry(list_type: &str, value: &str) -> Result<(), String> {
    match list_type {
        "cidr" => parse_cidr(value)
            .map(|_| ())
            .ok_or_else(|| format!("`{value}` is not valid CIDR.")),
        "regex" => regex::Regex::new(value)
            .map(|_| ())
            .map_err(|e| format!("`{value}` is not a valid regular expression: {e}")),
        _ => Ok(()),
    }
}

async fn replace_entries(
    db: &impl ConnectionTrait,
    list_id: i32,
    entries: &[(String, Option<String>)],
) -> Result<(), sea_orm::DbErr> {
    warninglist_entry::Entity::delete_many()
        .filter(warninglist_entry::Column::WarninglistId.eq(list_id))
        .exec(db)
        .await?;
    for chunk in entries.chunks(500) {
        warninglist_entry::Entity::insert_many(chunk.iter().map(|(value, comment)| {
            warninglist_entry::ActiveModel {
                id: NotSet,
                warninglist_id: Set(list_id),
                value: Set(value.clone()),
                comment: Set(comment.clone()),
            }
        }))
        .exec(db)
        .await?;
    }
    Ok(())
}

async fn name_taken(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<i32>,
) -> Result<bool, sea_orm::DbErr> {
    let mut q = warninglist::Entity::find().filter(warninglist::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(warninglist::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

/// `POST warninglists/add`: a custom list (`name`, `description`, `type`, `category`,
/// `entries`, `matching_attributes`), disabled until enabled; answers `{"Warninglist": {...}}`.
pub async fn add_warninglist(
    state: &AppState,
    actor: &Principal,
    body: Value,
) -> Result<Value, AppError> {
    require_warninglist_editor(actor)?;
    let input = parse_list(&unwrap(body, &["Warninglist"])?, true)?;
    let name = input.name.unwrap_or_default();
    let txn = state.db.begin().await?;
    if name_taken(&txn, &name, None).await? {
        return Err(AppError::Conflict(
            "Warninglist with same name already exists.".into(),
        ));
    }
    let saved = warninglist::ActiveModel {
        id: NotSet,
        name: Set(name),
        r#type: Set(input.list_type.unwrap_or_else(|| "string".into())),
        description: Set(input.description.unwrap_or_default()),
        version: Set(1),
        enabled: Set(false),
        default: Set(false),
        category: Set(input.category.unwrap_or_else(|| "false_positive".into())),
        matching_attributes: Set(json!(input.matching.unwrap_or_default()).to_string()),
    }
    .insert(&txn)
    .await?;
    let entries = input.entries.unwrap_or_default();
    replace_entries(&txn, saved.id, &entries).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "Warninglist",
            saved.id,
            "add",
            format!("Warninglist ({}): {}", saved.id, saved.name),
        )
        .change(format!("{} entries", entries.len())),
    )
    .await?;
    txn.commit().await?;
    Ok(json!({"Warninglist": warninglist_fields(&saved)}))
}

/// `POST warninglists/edit/<id>`: custom lists only; the fields given replace the stored ones
/// (`entries` replaces every entry) and the version goes up.
pub async fn edit_warninglist(
    state: &AppState,
    actor: &Principal,
    id: &str,
    body: Value,
) -> Result<Value, AppError> {
    require_warninglist_editor(actor)?;
    let txn = state.db.begin().await?;
    let old = find_warninglist(&txn, id).await?;
    if old.default {
        return Err(AppError::NotFound("Warninglist not found.".into()));
    }
    let mut input = parse_list(&unwrap(body, &["Warninglist"])?, false)?;
    // A new type must suit the stored entries too.
    if let (Some(t), None) = (&input.list_type, &input.entries) {
        for e in entries(&txn, old.id).await? {
            check_entry(t, &e.value)
                .map_err(|m| AppError::Invalid(format!("Could not save the warninglist. {m}")))?;
        }
    }
    if let (None, Some(list)) = (&input.list_type, &input.entries) {
        for (value, _) in list {
            check_entry(&old.r#type, value)
                .map_err(|m| AppError::Invalid(format!("Could not save the warninglist. {m}")))?;
        }
    }
    if let Some(n) = &input.name {
        if name_taken(&txn, n, Some(old.id)).await? {
            return Err(AppError::Conflict(
                "Warninglist with same name already exists.".into(),
            ));
        }
    }
    let mut active: warninglist::ActiveModel = old.clone().into();
    if let Some(n) = input.name.take() {
        active.name = Set(n);
    }
    if let Some(d) = input.description.take() {
        active.description = Set(d);
    }
    if let Some(t) = input.list_type.take() {
        active.r#type = Set(t);
    }
    if let Some(c) = input.category.take() {
        active.category = Set(c);
    }
    if let Some(m) = input.matching.take() {
        active.matching_attributes = Set(json!(m).to_string());
    }
    active.version = Set(old.version + 1);
    let saved = active.update(&txn).await?;
    if let Some(list) = &input.entries {
        replace_entries(&txn, saved.id, list).await?;
    }
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "Warninglist",
            saved.id,
            "edit",
            format!("Warninglist ({}): {}", saved.id, saved.name),
        )
        .change(diff([
            ("name", old.name.clone(), saved.name.clone()),
            ("type", old.r#type.clone(), saved.r#type.clone()),
            ("category", old.category.clone(), saved.category.clone()),
            (
                "matching_attributes",
                old.matching_attributes.clone(),
                saved.matching_attributes.clone(),
            ),
            (
                "version",
                old.version.to_string(),
                saved.version.to_string(),
            ),
        ])),
    )
    .await?;
    txn.commit().await?;
    Ok(json!({"Warninglist": warninglist_fields(&saved)}))
}

/// Adds `values` a custom list does not hold yet (the `add_to_warninglist` module); answers how
/// many were added. Values the list's type cannot hold (a bad CIDR, a bad regex) are refused.
pub async fn append_entries(
    state: &AppState,
    actor: &Principal,
    list_id: i32,
    values: &[String],
) -> Result<usize, AppError> {
    require_warninglist_editor(actor)?;
    let txn = state.db.begin().await?;
    let list = find_warninglist(&txn, &list_id.to_string()).await?;
    if list.default {
        return Err(AppError::Forbidden(
            "Only custom warninglists can be extended.".into(),
        ));
    }
    let known: std::collections::HashSet<String> = entries(&txn, list.id)
        .await?
        .into_iter()
        .map(|e| e.value)
        .collect();
    let mut fresh: Vec<(String, Option<String>)> = Vec::new();
    for v in values {
        let v = v.trim();
        if v.is_empty() || known.contains(v) || fresh.iter().any(|(f, _)| f == v) {
            continue;
        }
        check_entry(&list.r#type, v).map_err(AppError::Invalid)?;
        fresh.push((v.to_owned(), Some("Added from a workflow".to_owned())));
    }
    for chunk in fresh.chunks(500) {
        warninglist_entry::Entity::insert_many(chunk.iter().map(|(value, comment)| {
            warninglist_entry::ActiveModel {
                id: NotSet,
                warninglist_id: Set(list.id),
                value: Set(value.clone()),
                comment: Set(comment.clone()),
            }
        }))
        .exec(&txn)
        .await?;
    }
    if !fresh.is_empty() {
        audit::record(
            &txn,
            Some(actor),
            Entry::new(
                "Warninglist",
                list.id,
                "edit",
                format!("Warninglist ({}): {}", list.id, list.name),
            )
            .change(format!("{} entries added", fresh.len())),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(fresh.len())
}

/// `POST warninglists/delete/<id>`: removes a custom list with its entries.
pub async fn delete_warninglist(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<i32, AppError> {
    require_warninglist_editor(actor)?;
    let txn = state.db.begin().await?;
    let old = find_warninglist(&txn, id).await?;
    if old.default {
        return Err(AppError::Forbidden(
            "Default warninglists cannot be deleted; disable them instead.".into(),
        ));
    }
    warninglist::Entity::delete_by_id(old.id).exec(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new(
            "Warninglist",
            old.id,
            "delete",
            format!("Warninglist ({}): {}", old.id, old.name),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(old.id)
}

/// `POST warninglists/toggleEnable` with `id` and/or `name` (a value or a list; names match
/// case-insensitively, `%` as wildcard) and optional `enabled`. MISP answers 200 in every case,
/// with `saved` telling success from failure.
pub async fn toggle_warninglists(
    state: &AppState,
    actor: &Principal,
    body: Value,
) -> Result<Value, AppError> {
    require_warninglist_editor(actor)?;
    let m = unwrap(body, &["Warninglist"])?;
    let listed = |key: &str| -> Vec<String> {
        match m.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Number(n)) => vec![n.to_string()],
            _ => Vec::new(),
        }
    };
    let (ids, names) = (listed("id"), listed("name"));
    if ids.is_empty() && names.is_empty() {
        return Ok(json!({"saved": false, "errors": "Warninglist not found."}));
    }
    let mut cond = Condition::any();
    for id in &ids {
        match id.trim().parse::<i32>() {
            Ok(n) => cond = cond.add(warninglist::Column::Id.eq(n)),
            Err(_) => return Ok(json!({"saved": false, "errors": "Warninglist(s) not found."})),
        }
    }
    for name in &names {
        use sea_orm::sea_query::{Expr, ExprTrait, Func};
        cond = cond.add(
            Expr::expr(Func::lower(Expr::col(warninglist::Column::Name))).like(name.to_lowercase()),
        );
    }
    let txn = state.db.begin().await?;
    let lists = warninglist::Entity::find().filter(cond).all(&txn).await?;
    if lists.is_empty() {
        return Ok(json!({"saved": false, "errors": "Warninglist(s) not found."}));
    }
    let forced = match m.get("enabled") {
        None | Some(Value::Null) => None,
        v => Some(super::input::loose_bool(v)),
    };
    for w in &lists {
        let enabled = forced.unwrap_or(!w.enabled);
        if enabled == w.enabled {
            continue;
        }
        let mut active: warninglist::ActiveModel = w.clone().into();
        active.enabled = Set(enabled);
        active.update(&txn).await?;
        audit::record(
            &txn,
            Some(actor),
            Entry::new(
                "Warninglist",
                w.id,
                if enabled { "enable" } else { "disable" },
                format!("Warninglist ({}): {}", w.id, w.name),
            ),
        )
        .await?;
    }
    txn.commit().await?;
    let word = match forced {
        Some(true) => "enabled",
        Some(false) => "disabled",
        None if lists.len() == 1 => {
            if lists[0].enabled {
                "disabled"
            } else {
                "enabled"
            }
        }
        None => "toggled",
    };
    Ok(json!({"saved": true, "success": format!("{} warninglist(s) {word}", lists.len())}))
}

/// An IPv4/IPv6 network: address and prefix length.
fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (
            a.trim().parse::<IpAddr>().ok()?,
            Some(p.trim().parse::<u8>().ok()?),
        ),
        None => (text.trim().parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((addr, prefix))
}

fn in_network(ip: IpAddr, (net, prefix): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The host part of a URL, or the value itself.
fn host_of(value: &str) -> &str {
    let rest = value.split_once("://").map_or(value, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    }
}

/// The entry of a `list_type` list that `value` matches, if any (MISP's semantics: `string`
/// exact, `substring` contained, `hostname` the host or one of its parents, `cidr` an address
/// inside the network, `regex` a match).
pub fn matching_entry<'a>(
    list_type: &str,
    entries: &'a [warninglist_entry::Model],
    value: &str,
) -> Option<&'a str> {
    let value = value.trim();
    let found = match list_type {
        "string" => entries.iter().find(|e| e.value == value),
        "substring" => entries.iter().find(|e| value.contains(e.value.as_str())),
        "hostname" => {
            let host = host_of(value).trim_end_matches('.').to_lowercase();
            entries.iter().find(|e| {
                let entry = e.value.trim_end_matches('.').to_lowercase();
                host == entry || host.ends_with(&format!(".{entry}"))
            })
        }
        "cidr" => {
            let ip = parse_cidr(value.split('|').next().unwrap_or(value)).map(|(a, _)| a)?;
            entries
                .iter()
                .find(|e| parse_cidr(&e.value).is_some_and(|net| in_network(ip, net)))
        }
        "regex" => entries.iter().find(|e| {
            regex::Regex::new(&e.value)
                .map(|r| r.is_match(value))
                .unwrap_or(false)
        }),
        _ => None,
    };
    found.map(|e| e.value.as_str())
}

/// The enabled warninglists with their entries, by id.
pub async fn enabled_lists(
    state: &AppState,
) -> Result<Vec<(warninglist::Model, Vec<warninglist_entry::Model>)>, AppError> {
    let lists = warninglist::Entity::find()
        .filter(warninglist::Column::Enabled.eq(true))
        .order_by_asc(warninglist::Column::Id)
        .all(&state.db)
        .await?;
    let mut loaded = Vec::with_capacity(lists.len());
    for w in lists {
        let e = entries(&state.db, w.id).await?;
        loaded.push((w, e));
    }
    Ok(loaded)
}

/// The warnings MISP attaches to an attribute of `kind` with `value` (its `warnings` list):
/// one `{value, match, warninglist_id, warninglist_name, warninglist_category}` per list that
/// applies to the type and matches the value or, for composite values, one of its parts.
pub fn attribute_warnings(
    lists: &[(warninglist::Model, Vec<warninglist_entry::Model>)],
    kind: &str,
    value: &str,
) -> Vec<Value> {
    let parts: Vec<&str> = if kind.contains('|') {
        value.split('|').collect()
    } else {
        vec![value]
    };
    let mut out = Vec::new();
    for (w, e) in lists {
        let types = matching_attributes(w);
        if !types.is_empty() && !types.iter().any(|t| t == kind || t == "ALL") {
            continue;
        }
        if let Some((part, hit)) = parts
            .iter()
            .find_map(|p| matching_entry(&w.r#type, e, p).map(|m| (*p, m)))
        {
            out.push(json!({
                "value": part,
                "match": hit,
                "warninglist_id": w.id.to_string(),
                "warninglist_name": w.name,
                "warninglist_category": w.category,
            }));
        }
    }
    out
}

/// `POST warninglists/checkValue` with a list of values (or one): `{"<value>": [{"id", "name",
/// "matched"}]}` for the values an enabled list matches, `[]` when none does.
pub async fn check_values(state: &AppState, body: Value) -> Result<Value, AppError> {
    let values: Vec<String> = match body {
        Value::Object(mut m) => match m.remove("Warninglist") {
            Some(v) => values_of(v)?,
            None => {
                return Err(AppError::Invalid(
                    "Send a list of values (or {\"Warninglist\": [...]}).".into(),
                ))
            }
        },
        other => values_of(other)?,
    };
    let loaded = enabled_lists(state).await?;
    let mut out = Map::new();
    for value in values {
        let value = value.trim().to_owned();
        let hits: Vec<Value> = loaded
            .iter()
            .filter_map(|(w, e)| {
                matching_entry(&w.r#type, e, &value)
                    .map(|m| json!({"id": w.id.to_string(), "name": w.name, "matched": m}))
            })
            .collect();
        if !hits.is_empty() {
            out.insert(value, Value::Array(hits));
        }
    }
    Ok(if out.is_empty() {
        json!([])
    } else {
        Value::Object(out)
    })
}

fn values_of(v: Value) -> Result<Vec<String>, AppError> {
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) => Ok(items
            .into_iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect()),
        _ => Err(AppError::Invalid(
            "Send a list of values (or {\"Warninglist\": [...]}).".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(values: &[&str]) -> Vec<warninglist_entry::Model> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| warninglist_entry::Model {
                id: i as i32 + 1,
                warninglist_id: 1,
                value: (*v).to_owned(),
                comment: None,
            })
            .collect()
    }

    #[test]
    fn each_list_type_matches_as_misp_does() {
        let e = entries(&["8.8.8.8"]);
        assert_eq!(matching_entry("string", &e, " 8.8.8.8 "), Some("8.8.8.8"));
        assert_eq!(matching_entry("string", &e, "8.8.8.80"), None);

        let e = entries(&["google"]);
        assert_eq!(
            matching_entry("substring", &e, "www.google.com"),
            Some("google")
        );

        let e = entries(&["example.com"]);
        assert_eq!(
            matching_entry("hostname", &e, "a.b.Example.com"),
            Some("example.com")
        );
        assert_eq!(
            matching_entry("hostname", &e, "https://x.example.com:8443/p?q"),
            Some("example.com")
        );
        assert_eq!(matching_entry("hostname", &e, "badexample.com"), None);

        let e = entries(&["10.0.0.0/8", "2001:db8::/32"]);
        assert_eq!(
            matching_entry("cidr", &e, "10.20.30.40"),
            Some("10.0.0.0/8")
        );
        assert_eq!(matching_entry("cidr", &e, "11.0.0.1"), None);
        assert_eq!(
            matching_entry("cidr", &e, "2001:db8::1"),
            Some("2001:db8::/32")
        );
        assert_eq!(
            matching_entry("cidr", &e, "10.0.0.1|80"),
            Some("10.0.0.0/8")
        );
        assert_eq!(matching_entry("cidr", &e, "not an ip"), None);

        let e = entries(&["^evil[0-9]+\\.test$"]);
        assert!(matching_entry("regex", &e, "evil42.test").is_some());
        assert!(matching_entry("regex", &e, "evil.test").is_none());
    }

    #[test]
    fn cidr_edges() {
        assert!(parse_cidr("0.0.0.0/0").is_some_and(|n| in_network("1.2.3.4".parse().unwrap(), n)));
        assert!(parse_cidr("1.2.3.4/33").is_none());
        assert!(parse_cidr("1.2.3.4").is_some_and(|n| n.1 == 32));
        assert!(!in_network(
            "::1".parse().unwrap(),
            parse_cidr("0.0.0.0/0").unwrap()
        ));
    }

    #[test]
    fn free_text_entries_split_on_the_first_hash() {
        let mut errors = Vec::new();
        let parsed = parse_entries(
            &json!("1.1.1.1 # cloudflare\n\n  9.9.9.9\n# only a comment"),
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(
            parsed,
            vec![
                ("1.1.1.1".to_owned(), Some("cloudflare".to_owned())),
                ("9.9.9.9".to_owned(), None)
            ]
        );
        let parsed = parse_entries(&json!(["a", {"value": "b", "comment": "c"}]), &mut errors);
        assert_eq!(parsed[1], ("b".to_owned(), Some("c".to_owned())));
    }

    #[test]
    fn attribute_warnings_respect_the_lists_types_and_composite_values() {
        let list = |id: i32, kind: &str, types: &str, values: &[&str]| {
            (
                warninglist::Model {
                    id,
                    name: format!("list {id}"),
                    r#type: kind.into(),
                    description: String::new(),
                    version: 1,
                    enabled: true,
                    default: false,
                    category: "false_positive".into(),
                    matching_attributes: types.into(),
                },
                entries(values),
            )
        };
        let lists = [
            list(1, "cidr", r#"["ALL"]"#, &["198.51.100.0/24"]),
            list(2, "string", r#"["domain"]"#, &["198.51.100.7"]),
            list(3, "hostname", "[]", &["example.org"]),
        ];
        let w = attribute_warnings(&lists, "ip-dst", "198.51.100.7");
        assert_eq!(w.len(), 1, "list 2 is for domains only: {w:?}");
        assert_eq!(w[0]["warninglist_id"], "1");
        assert_eq!(w[0]["match"], "198.51.100.0/24");
        let w = attribute_warnings(&lists, "domain|ip", "www.example.org|192.0.2.1");
        assert_eq!(w.len(), 1);
        assert_eq!(
            (w[0]["warninglist_id"].as_str(), w[0]["value"].as_str()),
            (Some("3"), Some("www.example.org"))
        );
    }

    #[test]
    fn entries_are_checked_against_the_list_type() {
        assert!(check_entry("cidr", "10.0.0.0/8").is_ok());
        assert!(check_entry("cidr", "10.0.0.0/80").is_err());
        assert!(check_entry("regex", "(unclosed").is_err());
        assert!(check_entry("string", "(anything").is_ok());
    }
}
