//! Proposals (MISP's shadow attributes): users who may see an event but not change it propose a
//! new attribute, a change to an attribute, or its deletion; the event's editors accept (the change
//! is applied, the event unpublished) or discard them. Both leave the proposal in place, marked
//! `deleted`, as MISP does.
//!
//! Who sees a proposal: site admins, the event's organisation and the proposing organisation.
use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::{json, Map, Value};

use super::audit::{self, Entry};
use super::events::{
    attribute_diff, attribute_json, attribute_title, can_edit, insert_attribute, parse_attribute,
    read_only, reject, unpublish_and_touch, visible_attribute, visible_event,
};
use crate::backend::entities::{attribute, event, organisation, shadow_attribute};
use crate::backend::store::{events as store, orgs};
use crate::backend::{now, AppState, Principal};
use crate::error::AppError;

/// Fields a proposal may carry (MISP's optional proposal keys).
const PROPOSAL_FIELDS: [&str; 8] = [
    "type",
    "category",
    "value",
    "to_ids",
    "comment",
    "first_seen",
    "last_seen",
    "disable_correlation",
];

pub fn proposal_json(p: &shadow_attribute::Model) -> Value {
    json!({
        "id": p.id.to_string(),
        "old_id": p.old_id.to_string(),
        "event_id": p.event_id.to_string(),
        "type": p.r#type,
        "category": p.category,
        "value": p.value,
        "to_ids": p.to_ids,
        "uuid": p.uuid,
        "event_uuid": p.event_uuid,
        "event_org_id": p.event_org_id.to_string(),
        "org_id": p.org_id.to_string(),
        "email": p.email,
        "comment": p.comment,
        "deleted": p.deleted,
        "proposal_to_delete": p.proposal_to_delete,
        "disable_correlation": p.disable_correlation,
        "timestamp": p.timestamp.to_string(),
        "first_seen": p.first_seen,
        "last_seen": p.last_seen,
    })
}

fn may_see(actor: &Principal, p: &shadow_attribute::Model) -> bool {
    actor.is_site_admin() || p.event_org_id == actor.org.id || p.org_id == actor.org.id
}

fn may_propose(actor: &Principal) -> Result<(), AppError> {
    read_only(actor)?;
    if actor.role.perm_add || actor.is_site_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "You do not have permission to propose changes.".into(),
        ))
    }
}

/// The live proposals of `ev` that `actor` may see: new attributes, and changes keyed by the
/// attribute they target (for `events/view`).
pub async fn event_proposals(
    db: &impl ConnectionTrait,
    actor: &Principal,
    ev: &event::Model,
) -> Result<(Vec<Value>, HashMap<i32, Vec<Value>>), AppError> {
    let rows = shadow_attribute::Entity::find()
        .filter(shadow_attribute::Column::EventId.eq(ev.id))
        .filter(shadow_attribute::Column::Deleted.eq(false))
        .order_by_asc(shadow_attribute::Column::Id)
        .all(db)
        .await?;
    let mut new = Vec::new();
    let mut by_attribute: HashMap<i32, Vec<Value>> = HashMap::new();
    for p in rows.iter().filter(|p| may_see(actor, p)) {
        if p.old_id == 0 {
            new.push(proposal_json(p));
        } else {
            by_attribute
                .entry(p.old_id)
                .or_default()
                .push(proposal_json(p));
        }
    }
    Ok((new, by_attribute))
}

/// Only the proposal fields of `body` (wrapped as `ShadowAttribute`, `Attribute`, `Proposal`,
/// `request`, or bare).
fn proposal_body(body: Value) -> Result<Map<String, Value>, AppError> {
    let mut m = super::input::unwrap_body(
        body,
        &["ShadowAttribute", "Attribute", "Proposal", "request"],
    )?;
    m.retain(|k, _| PROPOSAL_FIELDS.contains(&k.as_str()));
    Ok(m)
}

fn new_row(
    actor: &Principal,
    ev: &event::Model,
    old_id: i32,
    uuid: String,
    a: &super::events::AttributeInput,
    to_delete: bool,
) -> shadow_attribute::Model {
    shadow_attribute::Model {
        id: 0,
        old_id,
        event_id: ev.id,
        event_uuid: ev.uuid.clone(),
        event_org_id: ev.orgc_id,
        r#type: a.kind.clone(),
        category: a.category.clone(),
        value: a.value.clone(),
        to_ids: a.to_ids,
        uuid,
        org_id: actor.org.id,
        email: actor.user.email.clone(),
        comment: a.comment.clone(),
        deleted: false,
        proposal_to_delete: to_delete,
        disable_correlation: a.disable_correlation,
        timestamp: now(),
        first_seen: a.first_seen.clone(),
        last_seen: a.last_seen.clone(),
    }
}

/// Writes a new proposal with its audit row.
async fn store_proposal(
    state: &AppState,
    actor: &Principal,
    row: shadow_attribute::Model,
) -> Result<shadow_attribute::Model, AppError> {
    let action = format!("shadowAttributes/add/{}", row.event_id);
    let refused = super::hooks::block(
        state,
        "shadow-attribute-before-save",
        &action,
        actor,
        || proposal_document(&state.db, &row),
    )
    .await?;
    if let Some(errors) = refused {
        let entry = Entry::new("ShadowAttribute", 0, "add", proposal_title(&row));
        return Err(super::hooks::refuse(state, actor, entry, "Saving the proposal", errors).await);
    }
    let mut active =
        sea_orm::ActiveModelTrait::reset_all(sea_orm::IntoActiveModel::into_active_model(row));
    active.id = NotSet;
    let txn = state.db.begin().await?;
    let saved = active.insert(&txn).await?;
    audit::record(
        &txn,
        Some(actor),
        Entry::new("ShadowAttribute", saved.id, "add", proposal_title(&saved)),
    )
    .await?;
    let subject = super::hooks::Subject::Proposal { id: saved.id };
    super::hooks::fire(
        &txn,
        state,
        "shadow-attribute-after-save",
        action,
        actor,
        subject,
    )
    .await?;
    txn.commit().await?;
    super::hooks::wake(state);
    Ok(saved)
}

/// The data of `shadow-attribute-after-save` for stored proposal `id`; `None` when it is gone.
pub(super) async fn proposal_subject(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<Value>, AppError> {
    match shadow_attribute::Entity::find_by_id(id).one(db).await? {
        Some(p) => Ok(Some(proposal_document(db, &p).await?)),
        None => Ok(None),
    }
}

/// The data of the proposal triggers (spec §3): a change or deletion sits in its target
/// attribute (`ShadowAttribute` = [p]) inside the event; a new attribute in
/// `Event.ShadowAttribute`.
async fn proposal_document(
    db: &impl ConnectionTrait,
    p: &shadow_attribute::Model,
) -> Result<Value, AppError> {
    let proposal = json!([proposal_json(p)]);
    if p.old_id != 0 {
        if let Some(a) = store::find_attribute(db, &p.old_id.to_string()).await? {
            if let Some(mut doc) = super::events::attribute_document(db, &a).await? {
                let target = if a.object_id == 0 {
                    doc.pointer_mut("/Event/Attribute/0")
                } else {
                    doc.pointer_mut("/Event/Object/0/Attribute/0")
                };
                if let Some(t) = target {
                    t["ShadowAttribute"] = proposal;
                }
                return Ok(doc);
            }
        }
    }
    let Some(ev) = store::find_event(db, &p.event_id.to_string()).await? else {
        return Ok(json!({"ShadowAttribute": proposal}));
    };
    let mut doc = super::events::event_row_document(db, &ev).await?;
    doc["Event"]["ShadowAttribute"] = proposal;
    Ok(doc)
}

fn proposal_title(p: &shadow_attribute::Model) -> String {
    let what = if p.proposal_to_delete {
        format!("deletion of Attribute ({})", p.old_id)
    } else if p.old_id != 0 {
        format!("change to Attribute ({})", p.old_id)
    } else {
        "new attribute".to_owned()
    };
    format!(
        "Proposal ({}) on Event ({}): {what} {}/{}",
        p.id, p.event_id, p.r#type, p.value
    )
}

/// `POST shadowAttributes/add/<event id|uuid>`: proposes a new attribute.
pub async fn add_proposal(
    state: &AppState,
    actor: &Principal,
    event_ref: &str,
    body: Value,
) -> Result<Value, AppError> {
    may_propose(actor)?;
    let ev = visible_event(state, actor, event_ref)
        .await
        .map_err(|_| AppError::NotFound("Invalid Event".into()))?;
    let m = proposal_body(body)?;
    let mut errors = Vec::new();
    let Some(input) = parse_attribute(&m, &mut errors, "") else {
        return Err(reject(errors, "The proposal"));
    };
    let saved = store_proposal(
        state,
        actor,
        new_row(
            actor,
            &ev,
            0,
            uuid::Uuid::new_v4().to_string(),
            &input,
            false,
        ),
    )
    .await?;
    Ok(json!({"ShadowAttribute": proposal_json(&saved)}))
}

/// `POST shadowAttributes/edit/<attribute id|uuid>`: proposes new values for an attribute.
pub async fn edit_proposal(
    state: &AppState,
    actor: &Principal,
    attribute_ref: &str,
    body: Value,
) -> Result<Value, AppError> {
    may_propose(actor)?;
    let (a, ev) = visible_attribute(state, actor, attribute_ref, "Invalid Attribute.").await?;
    let given = proposal_body(body)?;
    if given.is_empty() {
        return Err(AppError::Invalid(format!(
            "Invalid input: propose at least one of {}.",
            PROPOSAL_FIELDS.join(", ")
        )));
    }
    let mut merged = match attribute_json(&a, &[]) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    merged.retain(|k, _| PROPOSAL_FIELDS.contains(&k.as_str()));
    merged.extend(given);
    let mut errors = Vec::new();
    let Some(input) = parse_attribute(&merged, &mut errors, "") else {
        return Err(reject(errors, "The proposal"));
    };
    let saved = store_proposal(
        state,
        actor,
        new_row(actor, &ev, a.id, a.uuid.clone(), &input, false),
    )
    .await?;
    Ok(json!({"ShadowAttribute": proposal_json(&saved)}))
}

/// `POST shadowAttributes/delete/<attribute id|uuid>`: proposes deleting an attribute. MISP
/// answers 200 with `saved` in every case.
pub async fn delete_proposal(
    state: &AppState,
    actor: &Principal,
    attribute_ref: &str,
) -> Result<Value, AppError> {
    may_propose(actor)?;
    let (a, ev) = match visible_attribute(state, actor, attribute_ref, "Invalid Attribute.").await {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => {
            return Ok(json!({"false": true, "errors": "Invalid Attribute."}))
        }
        Err(e) => return Err(e),
    };
    let input = super::events::AttributeInput {
        uuid: Some(a.uuid.clone()),
        kind: a.r#type.clone(),
        category: a.category.clone(),
        value: a.value.clone(),
        to_ids: a.to_ids,
        comment: a.comment.clone(),
        distribution: a.distribution,
        sharing_group_id: a.sharing_group_id,
        object_relation: a.object_relation.clone(),
        first_seen: a.first_seen.clone(),
        last_seen: a.last_seen.clone(),
        disable_correlation: a.disable_correlation,
        deleted: false,
        tags: Vec::new(),
    };
    store_proposal(
        state,
        actor,
        new_row(actor, &ev, a.id, a.uuid.clone(), &input, true),
    )
    .await?;
    Ok(json!({"saved": true, "success": "The proposal to delete the attribute has been saved"}))
}

/// A live proposal `actor` may see, with its event.
async fn live_proposal(
    state: &AppState,
    actor: &Principal,
    id: &str,
    missing: &str,
) -> Result<(shadow_attribute::Model, event::Model), AppError> {
    let not_found = || AppError::NotFound(missing.to_owned());
    let id: i32 = id.parse().map_err(|_| not_found())?;
    let p = shadow_attribute::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|p| !p.deleted && may_see(actor, p))
        .ok_or_else(not_found)?;
    let ev = visible_event(state, actor, &p.event_id.to_string())
        .await
        .map_err(|_| not_found())?;
    Ok((p, ev))
}

fn done(action: &str, id: i32, message: &str) -> Value {
    json!({
        "name": message,
        "message": message,
        "url": format!("/shadow_attributes/{action}/{id}"),
    })
}

/// `POST shadowAttributes/accept/<id>`: applies the proposal (new attribute added, attribute
/// changed or deleted), marks it handled and unpublishes the event; event editors only.
pub async fn accept_proposal(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<Value, AppError> {
    read_only(actor)?;
    let refused = "Proposal not found or you are not authorised to accept it.";
    let (p, ev) = live_proposal(state, actor, id, refused).await?;
    if !can_edit(actor, &ev) {
        return Err(AppError::Forbidden(refused.into()));
    }
    let ts = now();
    let txn = state.db.begin().await?;
    let message = if p.old_id == 0 {
        let input = super::events::AttributeInput {
            uuid: Some(p.uuid.clone()),
            kind: p.r#type.clone(),
            category: p.category.clone(),
            value: p.value.clone(),
            to_ids: p.to_ids,
            comment: p.comment.clone(),
            distribution: 5,
            sharing_group_id: 0,
            object_relation: None,
            first_seen: p.first_seen.clone(),
            last_seen: p.last_seen.clone(),
            disable_correlation: p.disable_correlation,
            deleted: false,
            tags: Vec::new(),
        };
        let added = insert_attribute(&txn, actor, ev.id, 0, &input, ts).await?;
        audit::record(
            &txn,
            Some(actor),
            Entry::new("Attribute", added.id, "add", attribute_title(&added))
                .change(format!("accepted Proposal ({})", p.id)),
        )
        .await?;
        "Proposal accepted."
    } else {
        let Some(old) = attribute::Entity::find_by_id(p.old_id)
            .one(&txn)
            .await?
            .filter(|a| a.event_id == ev.id)
        else {
            return Err(AppError::NotFound(
                "The attribute this proposal targets no longer exists.".into(),
            ));
        };
        let mut active: attribute::ActiveModel = old.clone().into();
        if p.proposal_to_delete {
            active.deleted = Set(true);
        } else {
            active.r#type = Set(p.r#type.clone());
            active.category = Set(p.category.clone());
            active.value = Set(p.value.clone());
            active.to_ids = Set(p.to_ids);
            active.comment = Set(p.comment.clone());
            active.first_seen = Set(p.first_seen.clone());
            active.last_seen = Set(p.last_seen.clone());
            active.disable_correlation = Set(p.disable_correlation);
        }
        active.timestamp = Set(ts);
        let saved = store::update_attribute(&txn, active).await?;
        let (action, change) = if p.proposal_to_delete {
            ("delete", "deleted (0) => (1)".to_owned())
        } else {
            ("edit", attribute_diff(&old, &saved))
        };
        audit::record(
            &txn,
            Some(actor),
            Entry::new("Attribute", saved.id, action, attribute_title(&saved))
                .change(format!("{change} (accepted Proposal ({}))", p.id)),
        )
        .await?;
        "Proposed change accepted."
    };
    mark_handled(&txn, actor, &p, "accept").await?;
    store::refresh_attribute_count(&txn, ev.id).await?;
    unpublish_and_touch(&txn, ev.id, ts).await?;
    txn.commit().await?;
    Ok(done("accept", p.id, message))
}

async fn mark_handled(
    db: &impl ConnectionTrait,
    actor: &Principal,
    p: &shadow_attribute::Model,
    action: &'static str,
) -> Result<(), AppError> {
    let mut active: shadow_attribute::ActiveModel = p.clone().into();
    active.deleted = Set(true);
    active.update(db).await?;
    audit::record(
        db,
        Some(actor),
        Entry::new("ShadowAttribute", p.id, action, proposal_title(p)),
    )
    .await?;
    Ok(())
}

/// `POST shadowAttributes/discard/<id>`: the event's editors or the proposal's author.
pub async fn discard_proposal(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<Value, AppError> {
    read_only(actor)?;
    let (p, ev) = live_proposal(state, actor, id, "Invalid proposal.").await?;
    let author = p.org_id == actor.org.id && p.email == actor.user.email;
    if !(author || can_edit(actor, &ev)) {
        return Err(AppError::Forbidden(
            "You do not have permission to discard this proposal.".into(),
        ));
    }
    let txn = state.db.begin().await?;
    mark_handled(&txn, actor, &p, "discard").await?;
    txn.commit().await?;
    Ok(done("discard", p.id, "Proposal discarded."))
}

/// `GET shadowAttributes/view/<id>`.
pub async fn view_proposal(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> Result<Value, AppError> {
    let (p, _) = live_proposal(state, actor, id, "Invalid proposal.").await?;
    Ok(json!({"ShadowAttribute": proposal_json(&p)}))
}

/// `GET shadowAttributes/index[/<event id|uuid>]`: `[{"ShadowAttribute": {..., "Org"}}]`, newest
/// first. As in MISP, handled (`deleted`) proposals are listed unless `deleted` (0 or 1) says
/// otherwise; `all=0` keeps proposals on the caller's organisation's events only.
pub async fn index_proposals(
    state: &AppState,
    actor: &Principal,
    event_ref: Option<&str>,
    filters: &Map<String, Value>,
) -> Result<Value, AppError> {
    let mut cond = Condition::all();
    if let Some(r) = event_ref {
        let ev = visible_event(state, actor, r).await?;
        cond = cond.add(shadow_attribute::Column::EventId.eq(ev.id));
    }
    for (key, value) in filters {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => u8::from(*b).to_string(),
            _ => continue,
        };
        match key.as_str() {
            "deleted" => {
                cond = cond.add(shadow_attribute::Column::Deleted.eq(text == "1" || text == "true"))
            }
            "all" => {
                if text == "0" || text == "false" {
                    cond = cond.add(shadow_attribute::Column::EventOrgId.eq(actor.org.id));
                }
            }
            "timestamp" => {
                let ts: i64 = text
                    .parse()
                    .map_err(|_| AppError::Invalid("timestamp: expected Unix seconds.".into()))?;
                cond = cond.add(shadow_attribute::Column::Timestamp.gte(ts));
            }
            other => {
                return Err(AppError::Invalid(format!(
                    "Unknown filter `{other}`; known: deleted, all, timestamp."
                )))
            }
        }
    }
    if !actor.is_site_admin() {
        cond = cond.add(
            Condition::any()
                .add(shadow_attribute::Column::EventOrgId.eq(actor.org.id))
                .add(shadow_attribute::Column::OrgId.eq(actor.org.id)),
        );
    }
    let rows = shadow_attribute::Entity::find()
        .filter(cond)
        .order_by_desc(shadow_attribute::Column::Id)
        .all(&state.db)
        .await?;
    let mut org_cache: HashMap<i32, Option<organisation::Model>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for p in &rows {
        // Proposals on events the caller can no longer see stay hidden.
        let Some(ev) = store::find_event(&state.db, &p.event_id.to_string()).await? else {
            continue;
        };
        if !super::events::can_see(actor, &ev) {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = org_cache.entry(p.org_id) {
            slot.insert(orgs::find_org(&state.db, p.org_id).await?);
        }
        let org = org_cache.get(&p.org_id).cloned().flatten();
        let mut v = proposal_json(p);
        v["Org"] = json!({
            "name": org.as_ref().map(|o| o.name.clone()),
            "uuid": org.as_ref().map(|o| o.uuid.clone()),
        });
        out.push(json!({"ShadowAttribute": v}));
    }
    Ok(Value::Array(out))
}
