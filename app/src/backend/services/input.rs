//! Parsing of loosely typed client input the way MISP clients send it: booleans and numbers as
//! strings, optional UUIDs, bounded text.
use serde_json::{Map, Value};

use crate::error::AppError;

/// MISP sends booleans as `true`, `1`, `"1"` or `"true"`.
pub fn loose_bool(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true" | "on" | "yes"),
        _ => false,
    }
}

/// A field given as text or as a number (MISP clients send both), as text.
pub fn field_text(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `field_text` of a JSON object's field, or `""` (booleans as `true` / `false`): for reading
/// MISP documents into page models.
pub fn value_text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Bool(b)) => b.to_string(),
        _ => v
            .as_object()
            .and_then(|m| field_text(m, key))
            .unwrap_or_default(),
    }
}

/// The ids of the nodes a Drawflow node's outputs connect to (`"node": "3"` or `3`).
pub fn connected_nodes(node: &Value) -> Vec<u64> {
    node.get("outputs")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|outputs| outputs.values())
        .flat_map(|output| output["connections"].as_array().into_iter().flatten())
        .filter_map(|c| {
            c["node"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .or_else(|| c["node"].as_u64())
        })
        .collect()
}

/// A request body as a map: the object under the first of `models` it is wrapped in
/// (`{"Warninglist": {...}}`), else the body itself; `null` is an empty body.
pub fn unwrap_body(body: Value, models: &[&str]) -> Result<Map<String, Value>, AppError> {
    let mut map = match body {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        _ => {
            return Err(AppError::Invalid(
                "The request body must be a JSON object.".into(),
            ))
        }
    };
    for model in models {
        if let Some(Value::Object(inner)) = map.remove(*model) {
            return Ok(inner);
        }
    }
    Ok(map)
}

/// A trimmed text of at most `max` characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(AppError::Invalid(format!(
            "The {field} must be at most {max} characters long."
        )));
    }
    Ok(value.to_owned())
}

/// An optional UUID, normalised to lower-case hyphenated form; empty counts as absent.
pub fn optional_uuid(value: Option<&str>) -> Result<Option<String>, AppError> {
    match value.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => uuid::Uuid::parse_str(u)
            .map(|u| Some(u.to_string()))
            .map_err(|_| AppError::Invalid(format!("`{u}` is not a valid UUID."))),
        None => Ok(None),
    }
}

/// An optional Unix time given as a number or a numeric string; null or empty counts as absent.
pub fn optional_unix_time(value: Option<&Value>) -> Result<Option<i64>, AppError> {
    let invalid = || AppError::Invalid("The timestamp must be a Unix time.".into());
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid()),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loose_values_parse_like_misp_sends_them() {
        assert!(loose_bool(Some(&json!("1"))) && loose_bool(Some(&json!(true))));
        assert!(!loose_bool(Some(&json!("0"))) && !loose_bool(None));
        assert_eq!(optional_unix_time(Some(&json!("17"))).unwrap(), Some(17));
        assert_eq!(optional_unix_time(Some(&json!(""))).unwrap(), None);
        assert!(optional_unix_time(Some(&json!("soon"))).is_err());
        assert_eq!(
            optional_uuid(Some(" 1B51BEF9-0000-4000-8000-000000000000 "))
                .unwrap()
                .as_deref(),
            Some("1b51bef9-0000-4000-8000-000000000000")
        );
        assert!(optional_uuid(Some("nope")).is_err());
        assert!(check_text("name", &"x".repeat(192), 191).is_err());
    }
}
