//! The audit log (MISP's `logs` table): one row per change, written in the same transaction as
//! the change, so a rolled-back request leaves no log row and a committed one always has it.
//!
//! Site admins read it through MISP's `admin/logs/index` (PyMISP's `search_logs`).
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{json, Map, Value};

use crate::backend::entities::log;
use crate::backend::{misp_datetime, now, AppState, Principal};
use crate::error::AppError;

/// One change to record. `title` is MISP's human line (`Event (12): info`); `change` lists what
/// changed (`field (old) => (new)`), empty when the title says it all.
#[derive(Debug, Clone)]
pub struct Entry {
    pub model: &'static str,
    pub model_id: i32,
    pub action: &'static str,
    pub title: String,
    pub change: String,
    /// The run of a non-blocking trigger the change fired, queued by the log follower once the
    /// row is committed (see [`super::hooks::carry`]).
    pub carried_run: Option<String>,
}

impl Entry {
    pub fn new(model: &'static str, model_id: i32, action: &'static str, title: String) -> Self {
        Self {
            model,
            model_id,
            action,
            title,
            change: String::new(),
            carried_run: None,
        }
    }

    /// The row carries `run` (a trigger job from [`super::hooks::carry`]), when there is one.
    pub fn carrying(mut self, run: Option<String>) -> Self {
        self.carried_run = run;
        self
    }

    pub fn change(mut self, change: impl Into<String>) -> Self {
        self.change = change.into();
        self
    }
}

/// `field (old) => (new)` for each pair that differs, joined by `, ` as MISP writes them.
pub fn diff<'a>(pairs: impl IntoIterator<Item = (&'a str, String, String)>) -> String {
    pairs
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(field, old, new)| format!("{field} ({old}) => ({new})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Longest title or change kept; the rest is cut at a character boundary with `…`.
const MAX_FIELD: usize = 8 * 1024;

fn bounded(mut s: String) -> String {
    if s.len() > MAX_FIELD {
        let mut cut = MAX_FIELD;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Writes `entry` as done by `actor` (`None`: the system itself, MISP's `SYSTEM` user 0).
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<&Principal>,
    entry: Entry,
) -> Result<(), sea_orm::DbErr> {
    let (user_id, email, org, depth) = match actor {
        Some(p) => (
            p.user.id,
            p.user.email.clone(),
            p.org.name.clone(),
            i16::from(p.chain_depth),
        ),
        None => (0, "SYSTEM".to_owned(), "SYSTEM".to_owned(), 0),
    };
    log::ActiveModel {
        id: NotSet,
        title: Set(bounded(entry.title)),
        created: Set(now()),
        model: Set(entry.model.to_owned()),
        model_id: Set(entry.model_id),
        action: Set(entry.action.to_owned()),
        user_id: Set(user_id),
        change: Set(bounded(entry.change)),
        email: Set(email),
        org: Set(org),
        description: Set(String::new()),
        ip: Set(String::new()),
        chain_depth: Set(depth),
        carried_run: Set(entry.carried_run),
    }
    .insert(db)
    .await?;
    // A store edit made by a queued job is noted in its ledger, in the same transaction.
    crate::backend::jobs::note_effect(db).await
}

pub fn log_json(l: &log::Model) -> Value {
    json!({
        "id": l.id.to_string(),
        "title": l.title,
        "created": misp_datetime(l.created),
        "model": l.model,
        "model_id": l.model_id.to_string(),
        "action": l.action,
        "user_id": l.user_id.to_string(),
        "change": l.change,
        "email": l.email,
        "org": l.org,
        "description": l.description,
        "ip": l.ip,
    })
}

/// Text filters of `admin/logs/index`: exact, or a case-insensitive `LIKE` when the value holds
/// `%` (MISP: "to run substring queries simply append/prepend/encapsulate the search term with %").
const TEXT_FILTERS: [&str; 8] = [
    "title",
    "model",
    "action",
    "change",
    "email",
    "org",
    "description",
    "ip",
];
/// Numeric filters, exact.
const NUMBER_FILTERS: [&str; 3] = ["id", "model_id", "user_id"];

fn text_column(key: &str) -> log::Column {
    match key {
        "title" => log::Column::Title,
        "model" => log::Column::Model,
        "action" => log::Column::Action,
        "change" => log::Column::Change,
        "email" => log::Column::Email,
        "org" => log::Column::Org,
        "description" => log::Column::Description,
        _ => log::Column::Ip,
    }
}

fn filter_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A scalar or a list of scalars (MISP ORs a list); empty values are dropped.
fn filter_values(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(filter_text).collect(),
        other => filter_text(other).into_iter().collect(),
    }
}

fn text_condition(column: log::Column, value: &str) -> Condition {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    if value.contains('%') {
        Condition::all().add(Expr::expr(Func::lower(Expr::col(column))).like(value.to_lowercase()))
    } else {
        Condition::all().add(column.eq(value))
    }
}

/// `admin/logs/index`: newest first, `limit` (default 60, at most 1,000) per `page`. Filters
/// (a value or a list, ORed): `id`, `model_id`, `user_id` exact; `title`, `model`, `action`,
/// `change`, `email`, `org`, `description`, `ip` exact or `%` patterns; `created` Unix seconds
/// or a delta (`7d`, `12h`, `30m`) for "since", or `[from, to]`. Unknown filters are refused, so
/// a typo does not silently return everything.
pub async fn search(
    state: &AppState,
    actor: &Principal,
    filters: &Map<String, Value>,
) -> Result<Vec<Value>, AppError> {
    if !(actor.is_site_admin() || actor.role.perm_audit) {
        return Err(AppError::Forbidden(
            "You do not have permission to use this functionality.".into(),
        ));
    }
    let filters = match filters.get("Log") {
        Some(Value::Object(inner)) => inner,
        _ => filters,
    };
    let mut cond = Condition::all();
    let mut limit = 60u64;
    let mut page = 1u64;
    for (key, value) in filters {
        let values = filter_values(value);
        match key.as_str() {
            "limit" | "page" => {
                let Some(n) = values.first().and_then(|t| t.parse::<u64>().ok()) else {
                    if values.is_empty() {
                        continue;
                    }
                    return Err(AppError::Invalid(format!("{key}: expected a number.")));
                };
                if key == "limit" {
                    if !(1..=1000).contains(&n) {
                        return Err(AppError::Invalid("limit: expected 1 to 1000.".into()));
                    }
                    limit = n;
                } else {
                    page = n.max(1);
                }
            }
            "created" => {
                if !values.is_empty() {
                    cond = cond.add(created_filter(value)?);
                }
            }
            k if NUMBER_FILTERS.contains(&k) => {
                if values.is_empty() {
                    continue;
                }
                let mut any = Condition::any();
                for t in &values {
                    let n: i32 = t
                        .parse()
                        .map_err(|_| AppError::Invalid(format!("{k}: expected a number.")))?;
                    any = any.add(match k {
                        "id" => log::Column::Id.eq(n),
                        "model_id" => log::Column::ModelId.eq(n),
                        _ => log::Column::UserId.eq(n),
                    });
                }
                cond = cond.add(any);
            }
            k if TEXT_FILTERS.contains(&k) => {
                if values.is_empty() {
                    continue;
                }
                let mut any = Condition::any();
                for t in &values {
                    any = any.add(text_condition(text_column(k), t));
                }
                cond = cond.add(any);
            }
            other => {
                return Err(AppError::Invalid(format!(
                    "Unknown filter `{other}`; known: {}, {}, created, limit, page.",
                    NUMBER_FILTERS.join(", "),
                    TEXT_FILTERS.join(", ")
                )))
            }
        }
    }
    // MISP: site admins read everything, org admins their organisation's rows, other auditors
    // their own.
    if !actor.is_site_admin() {
        cond = cond.add(if actor.role.perm_admin {
            log::Column::Org.eq(actor.org.name.clone())
        } else {
            log::Column::UserId.eq(actor.user.id)
        });
    }
    let rows = log::Entity::find()
        .filter(cond)
        .order_by_desc(log::Column::Id)
        .offset(limit.saturating_mul(page - 1))
        .limit(limit)
        .all(&state.db)
        .await?;
    Ok(rows.iter().map(|l| json!({"Log": log_json(l)})).collect())
}

/// Unix seconds, or a delta back from now: `90s`, `30m`, `12h`, `7d`, `2w`.
fn point_in_time(text: &str) -> Option<i64> {
    if let Ok(n) = text.parse::<f64>() {
        return Some(n as i64);
    }
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = digits.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(now() - n.checked_mul(seconds)?)
}

/// `created`: since one point in time, or `[from, to]`.
fn created_filter(value: &Value) -> Result<Condition, AppError> {
    let bad = || {
        AppError::Invalid(
            "created: expected Unix seconds, a delta such as 7d, or [from, to].".into(),
        )
    };
    let point = |v: &Value| {
        filter_text(v)
            .as_deref()
            .and_then(point_in_time)
            .ok_or_else(bad)
    };
    match value {
        Value::Array(range) if range.len() == 2 => Ok(Condition::all()
            .add(log::Column::Created.gte(point(&range[0])?))
            .add(log::Column::Created.lte(point(&range[1])?))),
        Value::Array(_) => Err(bad()),
        one => Ok(Condition::all().add(log::Column::Created.gte(point(one)?))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_only_changed_fields_in_misp_form() {
        let d = diff([
            ("info", "old".to_owned(), "new".to_owned()),
            ("analysis", "0".to_owned(), "0".to_owned()),
            ("published", "1".to_owned(), "0".to_owned()),
        ]);
        assert_eq!(d, "info (old) => (new), published (1) => (0)");
    }

    #[test]
    fn created_takes_seconds_and_deltas() {
        assert_eq!(point_in_time("1700000000"), Some(1_700_000_000));
        assert_eq!(point_in_time("1700000000.5"), Some(1_700_000_000));
        let week = point_in_time("7d").unwrap();
        assert!((now() - 7 * 86_400 - week).abs() <= 1);
        assert_eq!(point_in_time("7y"), None);
        assert_eq!(point_in_time(""), None);
        assert!(created_filter(&json!(["1", "2", "3"])).is_err());
    }

    #[test]
    fn bounded_cuts_long_text_at_a_char_boundary() {
        let s = "é".repeat(MAX_FIELD);
        let b = bounded(s);
        assert!(b.len() <= MAX_FIELD + '…'.len_utf8());
        assert!(b.ends_with('…'));
        assert_eq!(bounded("short".into()), "short");
    }
}
