//! MISP's `restSearch` for events and attributes (JSON return format), with the filters MISP's
//! clients use most: `value` (exact, or `%` wildcards, case-insensitive), `type`, `category`,
//! `to_ids`, `tags` (with `!` negation), `eventid`, `uuid`, `org`, `published`, `eventinfo`,
//! `timestamp` / `publish_timestamp` / `last` (seconds or `5d`, `24h`, `30m`, `1w`; one value =
//! from, a pair = range), `date_from` / `date_to`, `deleted`, `limit` / `page`.
//! Values may be one value, a list, or PyMISP's `{"OR": [...], "NOT": [...]}`; a string
//! starting with `!` negates. Unknown filters are refused with their names, never ignored;
//! PyMISP's presentation options (`includeEventTags`, `excludeDecayed`, …) are accepted and do
//! not change the answer.
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{json, Map, Value};

use super::events::{attribute_json, can_see, event_document};
use crate::backend::entities::{attribute, attribute_tag, event, event_tag, organisation, tag};
use crate::backend::{now, AppState, Principal};
use crate::error::AppError;

/// Filters understood (others are refused). `returnFormat` must be `json`. `from` / `to` are
/// PyMISP's names for `date_from` / `date_to`.
const KNOWN: &[&str] = &[
    "returnFormat",
    "value",
    "type",
    "category",
    "to_ids",
    "tags",
    "eventid",
    "event_id",
    "uuid",
    "org",
    "published",
    "eventinfo",
    "timestamp",
    "publish_timestamp",
    "last",
    "date_from",
    "date_to",
    "from",
    "to",
    "deleted",
    "limit",
    "page",
    "object_name",
];

/// Presentation options PyMISP sends with every search; accepted and not applied (the JSON
/// answer always has the same shape).
const PRESENTATION: &[&str] = &[
    "metadata",
    "withAttachments",
    "includeEventUuid",
    "includeEventTags",
    "includeContext",
    "enforceWarninglist",
    "includeDecayScore",
    "includeSightings",
    "includeCorrelations",
    "headerless",
    "sgReferenceOnly",
    "excludeDecayed",
    "decayingModel",
    "modelOverrides",
    "includeFullModel",
];

/// Included (`OR`) and excluded (`NOT`) values of one filter.
#[derive(Debug, Default)]
struct Terms {
    any: Vec<String>,
    not: Vec<String>,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        _ => None,
    }
}

fn terms(v: &Value) -> Terms {
    let mut t = Terms::default();
    let mut add = |raw: String, negated: bool| {
        if let Some(rest) = raw.strip_prefix('!') {
            t.not.push(rest.to_owned());
        } else if negated {
            t.not.push(raw);
        } else if !raw.is_empty() {
            t.any.push(raw);
        }
    };
    match v {
        Value::Array(items) => items.iter().filter_map(scalar).for_each(|s| add(s, false)),
        Value::Object(m) => {
            for (key, negated) in [("OR", false), ("AND", false), ("NOT", true)] {
                match m.get(key) {
                    Some(Value::Array(items)) => items
                        .iter()
                        .filter_map(scalar)
                        .for_each(|s| add(s, negated)),
                    Some(one) => {
                        if let Some(s) = scalar(one) {
                            add(s, negated)
                        }
                    }
                    None => {}
                }
            }
        }
        other => {
            if let Some(s) = scalar(other) {
                add(s, false)
            }
        }
    }
    t
}

/// `5d`, `24h`, `30m`, `1w`, `90s` or plain seconds → a Unix time that far back; a plain
/// Unix time stays as it is.
fn time_point(text: &str, relative: bool) -> Option<i64> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = digits.parse().ok()?;
    let secs = match unit {
        "" if relative => n,
        "" => return Some(n),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        "w" => n * 7 * 86_400,
        _ => return None,
    };
    Some(now() - secs)
}

/// A time filter: one value = from, `[from, to]` = range.
fn time_range(
    v: &Value,
    relative: bool,
    name: &str,
) -> Result<(Option<i64>, Option<i64>), AppError> {
    let bad = || {
        AppError::Invalid(format!(
            "`{name}`: expected a Unix time or a duration like 5d."
        ))
    };
    match v {
        Value::Array(pair) if pair.len() == 2 => {
            let from = scalar(&pair[0])
                .map(|s| time_point(&s, relative).ok_or_else(bad))
                .transpose()?;
            let to = scalar(&pair[1])
                .map(|s| time_point(&s, relative).ok_or_else(bad))
                .transpose()?;
            Ok((from, to))
        }
        other => {
            let s = scalar(other).ok_or_else(bad)?;
            Ok((Some(time_point(&s, relative).ok_or_else(bad)?), None))
        }
    }
}

fn like_ignore_case(col: impl sea_orm::sea_query::IntoColumnRef, pattern: &str) -> SimpleExpr {
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.to_lowercase()))
}

/// Attribute conditions of a value filter: exact, or `LIKE` when it holds `%`.
fn value_condition(t: &Terms) -> Condition {
    let one = |v: &String| -> Condition {
        if v.contains('%') {
            Condition::all().add(like_ignore_case(attribute::Column::Value, v))
        } else {
            Condition::all().add(attribute::Column::Value.eq(v.as_str()))
        }
    };
    let mut cond = Condition::all();
    if !t.any.is_empty() {
        cond = cond.add(t.any.iter().fold(Condition::any(), |c, v| c.add(one(v))));
    }
    for v in &t.not {
        cond = cond.add(one(v).not());
    }
    cond
}

fn in_terms<C: ColumnTrait>(col: C, t: &Terms) -> Condition {
    let mut cond = Condition::all();
    if !t.any.is_empty() {
        cond = cond.add(col.is_in(t.any.clone()));
    }
    if !t.not.is_empty() {
        cond = cond.add(col.is_not_in(t.not.clone()));
    }
    cond
}

fn ids(values: &[String], name: &str) -> Result<Vec<i32>, AppError> {
    values
        .iter()
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| AppError::Invalid(format!("`{name}` must hold ids.")))
        })
        .collect()
}

/// The parsed request: conditions on events and on attributes, and paging.
struct Search {
    events: Condition,
    attributes: Condition,
    /// Attribute-level conditions were given (events must hold a matching attribute).
    attribute_filters: bool,
    limit: Option<u64>,
    page: u64,
}

async fn tag_ids(state: &AppState, names: &[String]) -> Result<Vec<i32>, AppError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut cond = Condition::any();
    for n in names {
        cond = cond.add(if n.contains('%') {
            like_ignore_case(tag::Column::Name, n)
        } else {
            tag::Column::Name.eq(n.as_str())
        });
    }
    Ok(tag::Entity::find()
        .filter(cond)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect())
}

async fn parse(
    state: &AppState,
    filters: &Value,
    for_attributes: bool,
) -> Result<Search, AppError> {
    let empty = Map::new();
    let map = match filters {
        Value::Object(m) => m.get("request").and_then(Value::as_object).unwrap_or(m),
        Value::Null => &empty,
        _ => {
            return Err(AppError::Invalid(
                "restSearch filters must be a JSON object.".into(),
            ))
        }
    };
    let unknown: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !KNOWN.contains(k) && !PRESENTATION.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::Invalid(format!(
            "restSearch filter(s) not supported: {}.",
            unknown.join(", ")
        )));
    }
    if let Some(f) = map.get("returnFormat").and_then(scalar) {
        if f != "json" {
            return Err(AppError::Invalid(format!(
                "returnFormat `{f}` is not supported (json)."
            )));
        }
    }
    let mut ev = Condition::all();
    let mut at = Condition::all();
    let mut attribute_filters = false;
    let get = |k: &str| map.get(k).filter(|v| !v.is_null() && *v != &json!(""));
    if let Some(v) = get("value") {
        at = at.add(value_condition(&terms(v)));
        attribute_filters = true;
    }
    if let Some(v) = get("type") {
        at = at.add(in_terms(attribute::Column::Type, &terms(v)));
        attribute_filters = true;
    }
    if let Some(v) = get("category") {
        at = at.add(in_terms(attribute::Column::Category, &terms(v)));
        attribute_filters = true;
    }
    if let Some(v) = get("to_ids") {
        at = at.add(attribute::Column::ToIds.eq(super::input::loose_bool(Some(v))));
        attribute_filters = true;
    }
    if let Some(v) = get("object_name") {
        let names = terms(v).any;
        let objects = Query::select()
            .column(crate::backend::entities::object::Column::Id)
            .from(crate::backend::entities::object::Entity)
            .and_where(crate::backend::entities::object::Column::Name.is_in(names))
            .to_owned();
        at = at.add(attribute::Column::ObjectId.in_subquery(objects));
        attribute_filters = true;
    }
    match get("deleted").map(|v| super::input::loose_bool(Some(v))) {
        Some(true) => at = at.add(attribute::Column::Deleted.eq(true)),
        _ => at = at.add(attribute::Column::Deleted.eq(false)),
    }
    for key in ["eventid", "event_id"] {
        if let Some(v) = get(key) {
            let t = terms(v);
            let (any, not) = (ids(&t.any, key)?, ids(&t.not, key)?);
            if !any.is_empty() {
                ev = ev.add(event::Column::Id.is_in(any));
            }
            if !not.is_empty() {
                ev = ev.add(event::Column::Id.is_not_in(not));
            }
        }
    }
    if let Some(v) = get("uuid") {
        let t = terms(v);
        let lower = |l: &[String]| l.iter().map(|u| u.to_lowercase()).collect::<Vec<_>>();
        let t = Terms {
            any: lower(&t.any),
            not: lower(&t.not),
        };
        if for_attributes {
            at = at.add(in_terms(attribute::Column::Uuid, &t));
        } else {
            ev = ev.add(in_terms(event::Column::Uuid, &t));
        }
    }
    if let Some(v) = get("org") {
        let t = terms(v);
        let mut resolve = Vec::new();
        for o in t.any.iter().chain(&t.not) {
            let found = match o.parse::<i32>() {
                Ok(id) => Some(id),
                Err(_) => organisation::Entity::find()
                    .filter(organisation::Column::Name.eq(o.as_str()))
                    .one(&state.db)
                    .await?
                    .map(|org| org.id),
            };
            resolve.push(found.unwrap_or(-1));
        }
        let (any, not) = resolve.split_at(t.any.len());
        if !any.is_empty() {
            ev = ev.add(event::Column::OrgcId.is_in(any.to_vec()));
        }
        if !not.is_empty() {
            ev = ev.add(event::Column::OrgcId.is_not_in(not.to_vec()));
        }
    }
    if let Some(v) = get("published") {
        ev = ev.add(event::Column::Published.eq(super::input::loose_bool(Some(v))));
    }
    if let Some(v) = get("eventinfo").and_then(scalar) {
        ev = ev.add(crate::backend::store::contains_ignore_case(
            event::Column::Info,
            &v,
        ));
    }
    if let Some(v) = get("timestamp") {
        let (from, to) = time_range(v, false, "timestamp")?;
        let col = if for_attributes {
            None
        } else {
            Some(event::Column::Timestamp)
        };
        match col {
            Some(c) => {
                if let Some(f) = from {
                    ev = ev.add(c.gte(f));
                }
                if let Some(t) = to {
                    ev = ev.add(c.lte(t));
                }
            }
            None => {
                if let Some(f) = from {
                    at = at.add(attribute::Column::Timestamp.gte(f));
                }
                if let Some(t) = to {
                    at = at.add(attribute::Column::Timestamp.lte(t));
                }
            }
        }
    }
    for key in ["publish_timestamp", "last"] {
        if let Some(v) = get(key) {
            let (from, to) = time_range(v, key == "last", key)?;
            if let Some(f) = from {
                ev = ev.add(event::Column::PublishTimestamp.gte(f));
            }
            if let Some(t) = to {
                ev = ev.add(event::Column::PublishTimestamp.lte(t));
            }
        }
    }
    for (key, gte) in [
        ("date_from", true),
        ("from", true),
        ("date_to", false),
        ("to", false),
    ] {
        if let Some(v) = get(key).and_then(scalar) {
            let d = v
                .get(..10)
                .filter(|d| d.len() == 10 && d.as_bytes()[4] == b'-')
                .ok_or_else(|| AppError::Invalid(format!("`{key}`: expected YYYY-MM-DD.")))?;
            ev = ev.add(if gte {
                event::Column::Date.gte(d)
            } else {
                event::Column::Date.lte(d)
            });
        }
    }
    if let Some(v) = get("tags") {
        let t = terms(v);
        let any = tag_ids(state, &t.any).await?;
        let not = tag_ids(state, &t.not).await?;
        if !t.any.is_empty() {
            if for_attributes {
                let own = Query::select()
                    .column(attribute_tag::Column::AttributeId)
                    .from(attribute_tag::Entity)
                    .and_where(attribute_tag::Column::TagId.is_in(any.clone()))
                    .to_owned();
                let inherited = Query::select()
                    .column(event_tag::Column::EventId)
                    .from(event_tag::Entity)
                    .and_where(event_tag::Column::TagId.is_in(any.clone()))
                    .to_owned();
                at = at.add(
                    Condition::any()
                        .add(attribute::Column::Id.in_subquery(own))
                        .add(attribute::Column::EventId.in_subquery(inherited)),
                );
            } else {
                let on_event = Query::select()
                    .column(event_tag::Column::EventId)
                    .from(event_tag::Entity)
                    .and_where(event_tag::Column::TagId.is_in(any.clone()))
                    .to_owned();
                let on_attribute = Query::select()
                    .column(attribute_tag::Column::EventId)
                    .from(attribute_tag::Entity)
                    .and_where(attribute_tag::Column::TagId.is_in(any.clone()))
                    .to_owned();
                ev = ev.add(
                    Condition::any()
                        .add(event::Column::Id.in_subquery(on_event))
                        .add(event::Column::Id.in_subquery(on_attribute)),
                );
            }
        }
        if !not.is_empty() {
            let on_event = Query::select()
                .column(event_tag::Column::EventId)
                .from(event_tag::Entity)
                .and_where(event_tag::Column::TagId.is_in(not.clone()))
                .to_owned();
            ev = ev.add(event::Column::Id.not_in_subquery(on_event));
            if for_attributes {
                let own = Query::select()
                    .column(attribute_tag::Column::AttributeId)
                    .from(attribute_tag::Entity)
                    .and_where(attribute_tag::Column::TagId.is_in(not))
                    .to_owned();
                at = at.add(attribute::Column::Id.not_in_subquery(own));
            }
        }
    }
    let limit = get("limit")
        .and_then(scalar)
        .map(|l| {
            l.parse::<u64>()
                .map_err(|_| AppError::Invalid("`limit` must be a number.".into()))
        })
        .transpose()?
        .filter(|l| *l > 0)
        .map(|l| Ord::min(l, 10_000));
    let page = Ord::max(
        get("page")
            .and_then(scalar)
            .and_then(|p| p.parse().ok())
            .unwrap_or(1u64),
        1,
    );
    Ok(Search {
        events: ev,
        attributes: at,
        attribute_filters,
        limit,
        page,
    })
}

/// The events condition plus what `actor` may see.
fn visible(actor: &Principal, cond: Condition) -> Condition {
    match super::events::visible_events_condition(actor) {
        Some(visible) => cond.add(visible),
        None => cond,
    }
}

/// `POST /events/restSearch`: `{"response": [{"Event": {...}}, ...]}`, newest first.
pub async fn search_events(
    state: &AppState,
    actor: &Principal,
    filters: &Value,
) -> Result<Value, AppError> {
    let s = parse(state, filters, false).await?;
    let mut cond = visible(actor, s.events);
    if s.attribute_filters {
        let matching = Query::select()
            .column(attribute::Column::EventId)
            .from(attribute::Entity)
            .cond_where(s.attributes)
            .to_owned();
        cond = cond.add(event::Column::Id.in_subquery(matching));
    }
    let mut query = event::Entity::find()
        .filter(cond)
        .order_by_desc(event::Column::Timestamp)
        .order_by_desc(event::Column::Id);
    if let Some(limit) = s.limit {
        query = query.limit(limit).offset((s.page - 1) * limit);
    }
    let events = query.all(&state.db).await?;
    let mut out = Vec::with_capacity(events.len());
    for ev in events.iter().filter(|e| can_see(actor, e)) {
        out.push(event_document(state, actor, ev).await?);
    }
    Ok(json!({"response": out}))
}

/// `POST /attributes/restSearch`: `{"response": {"Attribute": [...]}}`, each attribute with its
/// `Event` summary, in id order.
pub async fn search_attributes(
    state: &AppState,
    actor: &Principal,
    filters: &Value,
) -> Result<Value, AppError> {
    let s = parse(state, filters, true).await?;
    let events = Query::select()
        .column(event::Column::Id)
        .from(event::Entity)
        .cond_where(visible(actor, s.events))
        .to_owned();
    let mut cond = s
        .attributes
        .add(attribute::Column::EventId.in_subquery(events));
    if !actor.is_site_admin() {
        // Organisation-only attributes of other organisations' events stay hidden.
        let own_events = Query::select()
            .column(event::Column::Id)
            .from(event::Entity)
            .cond_where(
                Condition::any()
                    .add(event::Column::OrgId.eq(actor.org.id))
                    .add(event::Column::OrgcId.eq(actor.org.id)),
            )
            .to_owned();
        // Shared ones only with the sharing groups of the caller's organisation.
        cond = cond.add(
            Condition::any()
                .add(attribute::Column::Distribution.is_not_in([0, 4]))
                .add(
                    Condition::all()
                        .add(attribute::Column::Distribution.eq(4))
                        .add(attribute::Column::SharingGroupId.is_in(actor.sharing_groups.clone())),
                )
                .add(attribute::Column::EventId.in_subquery(own_events)),
        );
    }
    let mut query = attribute::Entity::find()
        .filter(cond)
        .order_by_asc(attribute::Column::Id);
    if let Some(limit) = s.limit {
        query = query.limit(limit).offset((s.page - 1) * limit);
    }
    let rows = query.all(&state.db).await?;
    let mut tags_by_event = std::collections::HashMap::new();
    let mut event_rows = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for a in &rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = tags_by_event.entry(a.event_id) {
            slot.insert(
                crate::backend::store::events::attribute_tags(&state.db, a.event_id).await?,
            );
            event_rows.insert(
                a.event_id,
                event::Entity::find_by_id(a.event_id).one(&state.db).await?,
            );
        }
        let tags = tags_by_event
            .get(&a.event_id)
            .and_then(|m| m.get(&a.id))
            .map_or(&[][..], Vec::as_slice);
        let mut item = attribute_json(a, tags);
        if let Some(Some(ev)) = event_rows.get(&a.event_id) {
            item["Event"] = json!({
                "org_id": ev.org_id.to_string(), "distribution": ev.distribution.to_string(),
                "id": ev.id.to_string(), "info": ev.info, "orgc_id": ev.orgc_id.to_string(),
                "uuid": ev.uuid,
            });
        }
        out.push(item);
    }
    Ok(json!({"response": {"Attribute": out}}))
}
