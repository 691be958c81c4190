//! Sightings and event reports (MISP core objects, second part).
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::{json, Map, Value};

use super::audit::{self, diff, Entry};
use super::events::{can_see, child_visible, editable_event, visible_event};
use super::input::{field_text as text, loose_bool, optional_uuid};
use crate::backend::entities::{attribute, event, event_report, organisation, sighting};
use crate::backend::{now, AppState, Principal};
use crate::error::AppError;

fn body_map(body: Value, model: &str) -> Result<Map<String, Value>, AppError> {
    let inner = match body {
        Value::Object(mut m) if m.contains_key(model) => m.remove(model).unwrap_or(Value::Null),
        other => other,
    };
    match inner {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => Err(AppError::Invalid(format!(
            "The request body must be a JSON object (`{{\"{model}\": {{…}}}}` or the {model} itself)."
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Sightings
// ---------------------------------------------------------------------------------------------

pub fn sighting_json(s: &sighting::Model, org: Option<&organisation::Model>) -> Value {
    json!({
        "id": s.id.to_string(),
        "attribute_id": s.attribute_id.to_string(),
        "event_id": s.event_id.to_string(),
        "org_id": s.org_id.to_string(),
        "date_sighting": s.date_sighting.to_string(),
        "uuid": s.uuid,
        "source": s.source,
        "type": s.r#type.to_string(),
        "Organisation": org.map(|o| json!({"id": o.id.to_string(), "uuid": o.uuid, "name": o.name})),
    })
}

/// `POST /sightings/add[/<attribute id|uuid>]`: sights one attribute (by path, `id` or `uuid`),
/// or every attribute `actor` can see whose value is `value`. `type` 0 sighting (default), 1
/// false positive, 2 expiration; `source`; `timestamp` (default now). Answers the sightings made.
pub async fn add_sighting(
    state: &AppState,
    actor: &Principal,
    attribute_ref: Option<&str>,
    body: Value,
) -> Result<Vec<Value>, AppError> {
    if actor.read_only || !(actor.role.perm_sighting || actor.is_site_admin()) {
        return Err(AppError::Forbidden(
            "You do not have permission to add sightings.".into(),
        ));
    }
    let m = body_map(body, "Sighting")?;
    let kind = match m.get("type").map(|v| text(&m, "type").unwrap_or_else(|| v.to_string())) {
        None => 0,
        Some(t) => match t.as_str() {
            "0" => 0,
            "1" => 1,
            "2" => 2,
            other => {
                return Err(AppError::Invalid(format!(
                    "Sighting type `{other}`: expected 0 (sighting), 1 (false positive) or 2 (expiration)."
                )))
            }
        },
    };
    let when = match m.get("timestamp").or_else(|| m.get("date_sighting")) {
        None | Some(Value::Null) => now(),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| AppError::Invalid("`timestamp` must be Unix seconds.".into()))?,
    };
    let source = text(&m, "source").unwrap_or_default();
    if source.len() > 255 {
        return Err(AppError::Invalid(
            "`source` is longer than 255 bytes.".into(),
        ));
    }
    let reference = attribute_ref
        .map(str::to_owned)
        .or_else(|| text(&m, "uuid"))
        .or_else(|| text(&m, "id"));
    let candidates: Vec<attribute::Model> = match (reference, text(&m, "value")) {
        (Some(r), _) => crate::backend::store::events::find_attribute(&state.db, &r)
            .await?
            .into_iter()
            .collect(),
        (None, Some(v)) if !v.is_empty() => {
            attribute::Entity::find()
                .filter(attribute::Column::Value.eq(v.trim()))
                .filter(attribute::Column::Deleted.eq(false))
                .order_by_asc(attribute::Column::Id)
                .all(&state.db)
                .await?
        }
        _ => {
            return Err(AppError::Invalid(
                "Give the attribute (path, `id` or `uuid`) or a `value` to sight.".into(),
            ))
        }
    };
    let mut targets = Vec::new();
    for a in candidates {
        let visible = match event::Entity::find_by_id(a.event_id).one(&state.db).await? {
            Some(ev) => {
                can_see(actor, &ev) && child_visible(actor, &ev, a.distribution, a.sharing_group_id)
            }
            None => false,
        };
        if visible {
            targets.push(a);
        }
    }
    if targets.is_empty() {
        return Err(AppError::NotFound("No attribute found to sight.".into()));
    }
    let txn = state.db.begin().await?;
    let mut saved = Vec::new();
    for a in &targets {
        saved.push(
            sighting::ActiveModel {
                id: NotSet,
                uuid: Set(optional_uuid(text(&m, "sighting_uuid").as_deref())?
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())),
                attribute_id: Set(a.id),
                event_id: Set(a.event_id),
                org_id: Set(actor.org.id),
                date_sighting: Set(when),
                source: Set(source.clone()),
                r#type: Set(kind),
            }
            .insert(&txn)
            .await?,
        );
    }
    for s in &saved {
        audit::record(
            &txn,
            Some(actor),
            Entry::new(
                "Sighting",
                s.id,
                "add",
                format!("Sighting ({}) of Attribute ({})", s.id, s.attribute_id),
            )
            .change(format!("type ({}) source ({})", s.r#type, s.source)),
        )
        .await?;
    }
    // `sighting-after-save`: the sighted attribute in its event.
    for s in &saved {
        let action = format!("sightings/add/{}", s.attribute_id);
        let subject = super::hooks::Subject::Attribute { id: s.attribute_id };
        super::hooks::fire(&txn, state, "sighting-after-save", action, actor, subject).await?;
    }
    txn.commit().await?;
    super::hooks::wake(state);
    Ok(saved
        .iter()
        .map(|s| sighting_json(s, Some(&actor.org)))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Event reports
// ---------------------------------------------------------------------------------------------

fn report_title(r: &event_report::Model) -> String {
    format!(
        "EventReport ({}) from Event ({}): {}",
        r.id, r.event_id, r.name
    )
}

pub fn report_json(r: &event_report::Model) -> Value {
    json!({
        "id": r.id.to_string(),
        "uuid": r.uuid,
        "event_id": r.event_id.to_string(),
        "name": r.name,
        "content": r.content,
        "distribution": r.distribution.to_string(),
        "sharing_group_id": r.sharing_group_id.to_string(),
        "timestamp": r.timestamp.to_string(),
        "deleted": r.deleted,
    })
}

/// The reports of an event `actor` may see (organisation-only reports only for the owners).
pub async fn event_reports(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Principal,
    ev: &event::Model,
) -> Result<Vec<Value>, AppError> {
    Ok(event_report::Entity::find()
        .filter(Condition::all().add(event_report::Column::EventId.eq(ev.id)))
        .order_by_asc(event_report::Column::Id)
        .all(db)
        .await?
        .iter()
        .filter(|r| child_visible(actor, ev, r.distribution, r.sharing_group_id))
        .map(report_json)
        .collect())
}

struct ReportInput {
    uuid: Option<String>,
    name: Option<String>,
    content: Option<String>,
    distribution: Option<i16>,
    sharing_group_id: Option<i32>,
}

fn parse_report(m: &Map<String, Value>) -> Result<ReportInput, AppError> {
    let name = text(m, "name").map(|n| n.trim().to_owned());
    if let Some(n) = &name {
        if n.is_empty() || n.len() > 255 {
            return Err(AppError::Invalid(
                "A report needs a name (at most 255 characters).".into(),
            ));
        }
    }
    let content = text(m, "content");
    if content.as_ref().is_some_and(|c| c.len() > 16 * 1024 * 1024) {
        return Err(AppError::Invalid(
            "The report content is longer than 16 MiB.".into(),
        ));
    }
    let distribution = match m.get("distribution") {
        None | Some(Value::Null) => None,
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(d @ 0..=5) => Some(d as i16),
            _ => return Err(AppError::Invalid("distribution: expected 0 to 5.".into())),
        },
    };
    let sharing_group_id = match distribution {
        Some(4) => match m
            .get("sharing_group_id")
            .and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .and_then(|n| i32::try_from(n).ok())
        {
            Some(id) if id > 0 => Some(id),
            _ => {
                return Err(AppError::Invalid(
                    "sharing_group_id: distribution 4 needs the id of a sharing group.".into(),
                ))
            }
        },
        Some(_) => Some(0),
        None => None,
    };
    Ok(ReportInput {
        uuid: optional_uuid(text(m, "uuid").as_deref())?,
        name,
        content,
        distribution,
        sharing_group_id,
    })
}

/// `POST /eventReports/add/<event_id>`: `name` (required), `content` (markdown),
/// `distribution` (default 5, inherit).
pub async fn add_report(
    state: &AppState,
    actor: &Principal,
    event_id: &str,
    body: Value,
) -> Result<Value, AppError> {
    let ev = editable_event(state, actor, event_id).await?;
    let input = parse_report(&body_map(body, "EventReport")?)?;
    super::sharing_groups::check_usable(&state.db, actor, input.sharing_group_id).await?;
    let Some(name) = input.name else {
        return Err(AppError::Invalid("A report needs a name.".into()));
    };
    let uuid = input
        .uuid
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let txn = state.db.begin().await?;
    if event_report::Entity::find()
        .filter(event_report::Column::Uuid.eq(uuid.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "A report with uuid {uuid} exists."
        )));
    }
    let ts = now();
    let saved = event_report::ActiveModel {
        id: NotSet,
        uuid: Set(uuid),
        event_id: Set(ev.id),
        name: Set(name),
        content: Set(input.content.unwrap_or_default()),
        distribution: Set(input.distribution.unwrap_or(5)),
        sharing_group_id: Set(input.sharing_group_id.unwrap_or(0)),
        timestamp: Set(ts),
        deleted: Set(false),
    }
    .insert(&txn)
    .await?;
    crate::backend::store::events::touch_event(&txn, ev.id, ts).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("EventReport", saved.id, "add", report_title(&saved)),
    )
    .await?;
    report_saved(&txn, state, actor, saved.id, "eventReports/save").await?;
    txn.commit().await?;
    super::hooks::wake(state);
    Ok(json!({"EventReport": report_json(&saved)}))
}

/// A report by id or uuid, with its event, if `actor` may see both.
async fn visible_report(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<(event_report::Model, event::Model), AppError> {
    let found = match id_or_uuid.parse::<i32>() {
        Ok(id) => event_report::Entity::find_by_id(id).one(&state.db).await?,
        Err(_) => {
            event_report::Entity::find()
                .filter(event_report::Column::Uuid.eq(id_or_uuid.to_lowercase()))
                .one(&state.db)
                .await?
        }
    };
    let invalid = || AppError::NotFound("Invalid Event Report.".into());
    let report = found.ok_or_else(invalid)?;
    let ev = visible_event(state, actor, &report.event_id.to_string())
        .await
        .map_err(|_| invalid())?;
    if !child_visible(actor, &ev, report.distribution, report.sharing_group_id) {
        return Err(invalid());
    }
    Ok((report, ev))
}

/// `GET /eventReports/view/<id>`.
pub async fn view_report(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
) -> Result<Value, AppError> {
    let (report, _) = visible_report(state, actor, id_or_uuid).await?;
    Ok(json!({"EventReport": report_json(&report)}))
}

/// `POST /eventReports/edit/<id>`: the fields given replace the stored ones.
pub async fn edit_report(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    body: Value,
) -> Result<Value, AppError> {
    let (report, ev) = visible_report(state, actor, id_or_uuid).await?;
    editable_event(state, actor, &ev.id.to_string()).await?;
    let input = parse_report(&body_map(body, "EventReport")?)?;
    super::sharing_groups::check_usable(&state.db, actor, input.sharing_group_id).await?;
    let ts = now();
    let txn = state.db.begin().await?;
    let mut active: event_report::ActiveModel = report.clone().into();
    if let Some(n) = input.name {
        active.name = Set(n);
    }
    if let Some(c) = input.content {
        active.content = Set(c);
    }
    if let Some(d) = input.distribution {
        active.distribution = Set(d);
    }
    if let Some(g) = input.sharing_group_id {
        active.sharing_group_id = Set(g);
    }
    active.timestamp = Set(ts);
    let saved = active.update(&txn).await?;
    crate::backend::store::events::touch_event(&txn, ev.id, ts).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("EventReport", saved.id, "edit", report_title(&saved)).change(diff([
            ("name", report.name.clone(), saved.name.clone()),
            ("content", report.content.clone(), saved.content.clone()),
            (
                "distribution",
                report.distribution.to_string(),
                saved.distribution.to_string(),
            ),
        ])),
    )
    .await?;
    report_saved(&txn, state, actor, saved.id, "eventReports/save").await?;
    txn.commit().await?;
    super::hooks::wake(state);
    Ok(json!({"EventReport": report_json(&saved)}))
}

/// `POST /eventReports/delete/<id>[/1]`: soft (`deleted` set) or hard.
pub async fn delete_report(
    state: &AppState,
    actor: &Principal,
    id_or_uuid: &str,
    hard: bool,
) -> Result<(), AppError> {
    let (report, ev) = visible_report(state, actor, id_or_uuid).await?;
    editable_event(state, actor, &ev.id.to_string()).await?;
    let ts = now();
    let report_id = report.id;
    let txn = state.db.begin().await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("EventReport", report.id, "delete", report_title(&report)).change(if hard {
            "hard delete"
        } else {
            "deleted (0) => (1)"
        }),
    )
    .await?;
    if hard {
        event_report::Entity::delete_by_id(report.id)
            .exec(&txn)
            .await?;
    } else {
        let mut active: event_report::ActiveModel = report.into();
        active.deleted = Set(true);
        active.timestamp = Set(ts);
        active.update(&txn).await?;
    }
    crate::backend::store::events::touch_event(&txn, ev.id, ts).await?;
    if !hard {
        report_saved(&txn, state, actor, report_id, "eventReports/delete").await?;
    }
    txn.commit().await?;
    super::hooks::wake(state);
    Ok(())
}

/// `event-report-after-save` (non-blocking), queued in `txn` (see [`super::hooks::fire`]).
async fn report_saved(
    txn: &impl sea_orm::ConnectionTrait,
    state: &AppState,
    actor: &Principal,
    report_id: i32,
    action: &str,
) -> Result<(), AppError> {
    let action = format!("{action}/{report_id}");
    let subject = super::hooks::Subject::Report { id: report_id };
    super::hooks::fire(
        txn,
        state,
        "event-report-after-save",
        action,
        actor,
        subject,
    )
    .await
}

/// The data of `event-report-after-save`: the event row with `EventReport` = [the report];
/// `None` when the report or its event is gone.
pub(super) async fn report_subject(
    db: &impl sea_orm::ConnectionTrait,
    report_id: i32,
) -> Result<Option<Value>, AppError> {
    let Some(r) = event_report::Entity::find_by_id(report_id).one(db).await? else {
        return Ok(None);
    };
    let Some(ev) = crate::backend::store::events::find_event(db, &r.event_id.to_string()).await?
    else {
        return Ok(None);
    };
    let mut doc = super::events::event_row_document(db, &ev).await?;
    doc["Event"]["EventReport"] = json!([report_json(&r)]);
    Ok(Some(doc))
}

/// Whether `hard` in a path means a hard delete.
pub fn hard_flag(value: &str) -> bool {
    loose_bool(Some(&Value::String(value.into())))
}
