//! MISP core format (spec §7): the roaming data a core-format trigger hands to its nodes.
//!
//! Input is what the hook has: `{"Event": {...}}` (an event, in export or DB shape), or an
//! attribute / object with its event (`{"Attribute": {...}, "Event": {...}, "Object"?: {...}}`,
//! `{"Object": {...}, "Event": {...}}`). Output is `{"Event": {...}}` in MISP's export shape plus
//! the workflow extras: `Event._AttributeFlattened` and each attribute's `_allTags`. Ids,
//! timestamps and distribution become JSON strings as in MISP exports; top-level keys starting
//! with `_` are copied.

use serde_json::{Map, Value};

/// Why data could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreFormatError {
    /// Not a JSON object.
    #[error("data to convert must be a JSON object")]
    NotAnObject,
    /// No `Event` to build the core format from.
    #[error("no Event found in the data to convert")]
    NoEvent,
}

/// What the raw data is about (spec §7 scope guess).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A whole event.
    Event,
    /// One attribute inside its event.
    Attribute,
    /// One object inside its event.
    Object,
}

/// Guesses the scope: `Object` without `Attribute` ⇒ object; no `Attribute` ⇒ event;
/// `Attribute` without `Event` ⇒ attribute; else event when `RelatedEvent`/`Org`/`Orgc` are
/// present, else attribute.
pub fn guess_scope(raw: &Map<String, Value>) -> Scope {
    let has = |k: &str| raw.contains_key(k);
    if has("Object") && !has("Attribute") {
        Scope::Object
    } else if !has("Attribute") {
        Scope::Event
    } else if !has("Event") || !(has("RelatedEvent") || has("Org") || has("Orgc")) {
        Scope::Attribute
    } else {
        Scope::Event
    }
}

fn stringify_key(key: &str) -> bool {
    key == "id"
        || key.ends_with("_id")
        || matches!(
            key,
            "timestamp"
                | "publish_timestamp"
                | "distribution"
                | "analysis"
                | "attribute_count"
                | "template_version"
        )
}

/// Turns numeric ids, timestamps and distribution levels into strings, as MISP exports them.
fn stringify(m: &mut Map<String, Value>) {
    for (k, v) in m.iter_mut() {
        if let Value::Number(n) = v {
            if stringify_key(k) {
                *v = Value::String(n.to_string());
            }
        }
    }
}

/// Export shape of a tag list: `Tag: [...]`, or `EventTag/AttributeTag: [{Tag: {...}}]`.
fn take_tags(m: &mut Map<String, Value>, link_key: &str) -> Option<Vec<Value>> {
    let mut tags = match m.get_mut("Tag") {
        Some(Value::Array(t)) => Some(std::mem::take(t)),
        Some(Value::Object(t)) => Some(vec![Value::Object(std::mem::take(t))]),
        Some(_) | None => None,
    };
    if let Some(Value::Array(links)) = m.shift_remove(link_key) {
        let from_links = links.into_iter().filter_map(|l| match l {
            Value::Object(mut o) => o.shift_remove("Tag"),
            _ => None,
        });
        tags.get_or_insert_with(Vec::new).extend(from_links);
    }
    if let Some(t) = tags.as_mut() {
        for tag in t.iter_mut() {
            if let Value::Object(o) = tag {
                stringify(o);
            }
        }
    }
    tags
}

fn all_tags(event_tags: &[Value], own: Option<&Vec<Value>>) -> Value {
    let mark = |t: &Value, inherited: bool| {
        let mut t = t.clone();
        if let Value::Object(o) = &mut t {
            o.insert("inherited".into(), Value::Bool(inherited));
        }
        t
    };
    Value::Array(
        event_tags
            .iter()
            .map(|t| mark(t, true))
            .chain(own.into_iter().flatten().map(|t| mark(t, false)))
            .collect(),
    )
}

fn convert_attribute(attr: Value, event_tags: &[Value]) -> Value {
    let Value::Object(mut a) = attr else {
        return attr;
    };
    a.shift_remove("value1");
    a.shift_remove("value2");
    stringify(&mut a);
    let tags = take_tags(&mut a, "AttributeTag");
    let all = all_tags(event_tags, tags.as_ref());
    if let Some(t) = tags {
        a.insert("Tag".into(), Value::Array(t));
    }
    a.insert("_allTags".into(), all);
    Value::Object(a)
}

fn convert_object(obj: Value, event_tags: &[Value], flattened: &mut Vec<Value>) -> Value {
    let Value::Object(mut o) = obj else {
        return obj;
    };
    stringify(&mut o);
    if let Some(Value::Array(attrs)) = o.get_mut("Attribute") {
        let taken = std::mem::take(attrs);
        *attrs = taken
            .into_iter()
            .map(|a| convert_attribute(a, event_tags))
            .collect();
        flattened.extend(attrs.iter().cloned());
    }
    Value::Object(o)
}

/// Builds the core-format roaming data from raw hook data (spec §7).
pub fn convert(raw: Value) -> Result<Value, CoreFormatError> {
    let Value::Object(mut raw) = raw else {
        return Err(CoreFormatError::NotAnObject);
    };
    let scope = guess_scope(&raw);
    let mut event = match raw.shift_remove("Event") {
        Some(Value::Object(e)) => e,
        _ => return Err(CoreFormatError::NoEvent),
    };
    match scope {
        Scope::Event => {}
        Scope::Attribute => {
            let attribute = raw.shift_remove("Attribute").unwrap_or(Value::Null);
            let in_object = raw.contains_key("Object")
                || attribute.get("object_id").is_some_and(crate::php::truthy);
            event.shift_remove("Attribute");
            event.shift_remove("Object");
            match raw.shift_remove("Object") {
                Some(Value::Object(mut obj)) if in_object => {
                    obj.insert("Attribute".into(), Value::Array(vec![attribute]));
                    event.insert("Object".into(), Value::Array(vec![Value::Object(obj)]));
                }
                _ => {
                    event.insert("Attribute".into(), Value::Array(vec![attribute]));
                }
            }
        }
        Scope::Object => {
            let object = raw.shift_remove("Object").unwrap_or(Value::Null);
            event.shift_remove("Attribute");
            event.insert("Object".into(), Value::Array(vec![object]));
        }
    }
    event.shift_remove("user_id");
    event.shift_remove("_AttributeFlattened");
    stringify(&mut event);
    for key in ["Org", "Orgc"] {
        if let Some(Value::Object(o)) = event.get_mut(key) {
            stringify(o);
        }
    }
    let event_tags = take_tags(&mut event, "EventTag");
    let tag_list: &[Value] = event_tags.as_deref().unwrap_or(&[]);
    // `_AttributeFlattened` = the event's attributes, then every object's attributes.
    let mut flattened = Vec::new();
    if let Some(Value::Array(attrs)) = event.get_mut("Attribute") {
        let taken = std::mem::take(attrs);
        *attrs = taken
            .into_iter()
            .map(|a| convert_attribute(a, tag_list))
            .collect();
        flattened.extend(attrs.iter().cloned());
    }
    if let Some(Value::Array(objects)) = event.get_mut("Object") {
        let taken = std::mem::take(objects);
        *objects = taken
            .into_iter()
            .map(|o| convert_object(o, tag_list, &mut flattened))
            .collect();
    }
    if let Some(tags) = event_tags {
        event.insert("Tag".into(), Value::Array(tags));
    }
    event.insert("_AttributeFlattened".into(), Value::Array(flattened));
    let mut out = Map::new();
    out.insert("Event".into(), Value::Object(event));
    for (k, v) in raw {
        if k.starts_with('_') {
            out.insert(k, v);
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::fixture;
    use serde_json::json;

    fn strip_extras(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.shift_remove("_allTags");
                m.shift_remove("_AttributeFlattened");
                m.values_mut().for_each(strip_extras);
            }
            Value::Array(a) => a.iter_mut().for_each(strip_extras),
            _ => {}
        }
    }

    #[test]
    fn s7_core_format_sample_is_reproduced() {
        let expected = fixture("events/workflow-roaming-data_core-format-sample.json");
        let mut raw = expected.clone();
        strip_extras(&mut raw);
        let got = convert(raw).expect("convert");
        assert_eq!(got, expected);
    }

    #[test]
    fn s7_pymisp_event_gets_flattened_and_all_tags() {
        let raw = fixture("events/pymisp_57c4445b-c548-4654-af0b-4be3950d210f.json");
        let n_attrs = raw["Event"]["Attribute"].as_array().map_or(0, Vec::len);
        let got = convert(raw).expect("convert");
        let flat = got["Event"]["_AttributeFlattened"]
            .as_array()
            .expect("flattened");
        assert_eq!(flat.len(), n_attrs);
        let tags = flat[0]["_allTags"].as_array().expect("all tags");
        assert_eq!(tags.len(), 4);
        assert!(tags.iter().all(|t| t["inherited"] == json!(true)));
        assert_eq!(tags[0]["name"], json!("tlp:white"));
    }

    #[test]
    fn s7_db_shape_ids_and_private_keys() {
        let raw = json!({"_module": "hover", "Event": {"id": 64, "user_id": 3, "distribution": 1, "info": "x",
            "EventTag": [{"Tag": {"id": 5, "name": "tlp:green"}}],
            "Object": [{"id": 9, "Attribute": [{"id": 2, "value1": "a", "value": "a"}]}],
            "Attribute": [{"id": 1, "value": "b", "AttributeTag": [{"Tag": {"id": 6, "name": "PAP:AMBER"}}]}]}});
        let got = convert(raw).expect("convert");
        let e = &got["Event"];
        assert_eq!(got["_module"], json!("hover"));
        assert_eq!(e["id"], json!("64"));
        assert_eq!(e["distribution"], json!("1"));
        assert!(e.get("user_id").is_none());
        assert_eq!(e["Tag"], json!([{"id": "5", "name": "tlp:green"}]));
        let flat: Vec<&Value> = e["_AttributeFlattened"]
            .as_array()
            .expect("flat")
            .iter()
            .map(|a| &a["id"])
            .collect();
        assert_eq!(flat, vec![&json!("1"), &json!("2")]);
        assert_eq!(
            e["Attribute"][0]["_allTags"],
            json!([
            {"id": "5", "name": "tlp:green", "inherited": true}, {"id": "6", "name": "PAP:AMBER", "inherited": false}])
        );
        assert!(e["Object"][0]["Attribute"][0].get("value1").is_none());
    }

    #[test]
    fn s7_attribute_and_object_scopes() {
        let ev = json!({"id": "1", "Tag": [{"name": "t"}], "Attribute": [{"id": "99"}]});
        let got = convert(json!({"Attribute": {"id": "7", "object_id": "0"}, "Event": ev.clone()}))
            .expect("attr");
        assert_eq!(got["Event"]["Attribute"][0]["id"], json!("7"));
        assert_eq!(got["Event"]["Attribute"].as_array().map(Vec::len), Some(1));
        let got = convert(json!({"Attribute": {"id": "7", "object_id": "3"}, "Object": {"id": "3"}, "Event": ev.clone()})).expect("obj attr");
        assert_eq!(got["Event"]["Object"][0]["Attribute"][0]["id"], json!("7"));
        assert_eq!(
            got["Event"]["_AttributeFlattened"][0]["_allTags"][0]["inherited"],
            json!(true)
        );
        let got = convert(json!({"Object": {"id": "3", "Attribute": [{"id": "8"}]}, "Event": ev}))
            .expect("object");
        assert_eq!(got["Event"]["_AttributeFlattened"][0]["id"], json!("8"));
        assert_eq!(convert(json!([])), Err(CoreFormatError::NotAnObject));
        assert_eq!(convert(json!({"Log": {}})), Err(CoreFormatError::NoEvent));
    }
}
