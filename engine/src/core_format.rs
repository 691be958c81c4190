//! MISP core format (spec §7): the roaming data a core-format trigger hands to its nodes.
//!
//! Input is what the hook has: `{"Event": {...}}` (an event, in export or DB shape), or an
//! attribute / object with its event (`{"Attribute": {...}, "Event": {...}, "Object"?: {...}}`,
//! `{"Object": {...}, "Event": {...}}`). Output is `{"Event": {...}}` in MISP's export shape plus
//! the workflow extras: `Event._AttributeFlattened` and each attribute's `_allTags`. Ids,
//! timestamps and distribution become JSON strings as in MISP exports; top-level keys starting
//! with `_` are copied.

use std::ops::ControlFlow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::hashpath::map_get;

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
    stringify_key_bytes(key.as_bytes())
}

/// Whether the value under `key` is turned from a number into a string (ids, timestamps,
/// distribution levels), on the key's bytes.
pub(crate) fn stringify_key_bytes(key: &[u8]) -> bool {
    key == b"id"
        || key.ends_with(b"_id")
        || matches!(
            key,
            b"timestamp"
                | b"publish_timestamp"
                | b"distribution"
                | b"analysis"
                | b"attribute_count"
                | b"template_version"
        )
}

/// Turns numeric ids, timestamps and distribution levels into strings, as MISP exports them.
fn stringify(m: &mut Map<String, Value>) {
    for (k, v) in m.iter_mut() {
        stringify_entry(k, v);
    }
}

fn stringify_entry(k: &str, v: &mut Value) {
    if let Value::Number(n) = v {
        if stringify_key(k) {
            *v = Value::String(n.to_string());
        }
    }
}

fn stringify_tag(tag: &mut Value) {
    if let Value::Object(o) = tag {
        stringify(o);
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
        t.iter_mut().for_each(stringify_tag);
    }
    tags
}

/// `_allTags` of one attribute: the event's tags marked `inherited: true` (`inherited` is that
/// list, already marked), then the attribute's own tags marked `inherited: false`.
fn all_tags(inherited: &[Value], own: Option<&Value>) -> Value {
    let mut all = Vec::with_capacity(inherited.len() + 2);
    all.extend_from_slice(inherited);
    if let Some(Value::Array(own)) = own {
        all.extend(own.iter().map(|t| {
            let mut t = t.clone();
            if let Value::Object(o) = &mut t {
                o.insert("inherited".into(), Value::Bool(false));
            }
            t
        }));
    }
    Value::Array(all)
}

/// The export-shape attribute, without `_allTags` (see [`add_extras`]).
fn convert_attribute(attr: Value) -> Value {
    let Value::Object(mut a) = attr else {
        return attr;
    };
    // One pass for the usual export-shape attribute (no `value1`/`value2`/`AttributeTag`): the
    // same edits as below, made in place without hashing a key.
    let mut db_shape = false;
    for (k, v) in a.iter_mut() {
        match k.as_str() {
            "value1" | "value2" | "AttributeTag" => db_shape = true,
            "Tag" => match v {
                Value::Array(tags) => tags.iter_mut().for_each(stringify_tag),
                Value::Object(tag) => {
                    let mut tag = Value::Object(std::mem::take(tag));
                    stringify_tag(&mut tag);
                    *v = Value::Array(vec![tag]);
                }
                _ => {}
            },
            _ => stringify_entry(k, v),
        }
    }
    if !db_shape {
        return Value::Object(a);
    }
    a.shift_remove("value1");
    a.shift_remove("value2");
    if let Some(t) = take_tags(&mut a, "AttributeTag") {
        a.insert("Tag".into(), Value::Array(t));
    }
    Value::Object(a)
}

fn convert_object(obj: Value) -> Value {
    let Value::Object(mut o) = obj else {
        return obj;
    };
    stringify(&mut o);
    if let Some(Value::Array(attrs)) = o.get_mut("Attribute") {
        for a in attrs.iter_mut() {
            *a = convert_attribute(std::mem::take(a));
        }
    }
    Value::Object(o)
}

/// Builds the core-format roaming data from raw hook data (spec §7).
pub fn convert(raw: Value) -> Result<Value, CoreFormatError> {
    let mut doc = convert_base(raw)?;
    add_extras(&mut doc);
    Ok(doc)
}

/// The core format without the workflow extras (`_allTags`, `_AttributeFlattened`): everything
/// else [`convert`] does. [`add_extras`] completes it; [`visit_flattened`] and
/// [`visit_all_tag_names`] read the extras without building them.
pub(crate) fn convert_base(raw: Value) -> Result<Value, CoreFormatError> {
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
    if let Some(Value::Array(attrs)) = event.get_mut("Attribute") {
        for a in attrs.iter_mut() {
            *a = convert_attribute(std::mem::take(a));
        }
    }
    if let Some(Value::Array(objects)) = event.get_mut("Object") {
        for o in objects.iter_mut() {
            *o = convert_object(std::mem::take(o));
        }
    }
    if let Some(tags) = event_tags {
        event.insert("Tag".into(), Value::Array(tags));
    }
    let mut out = Map::new();
    out.insert("Event".into(), Value::Object(event));
    for (k, v) in raw {
        if k.starts_with('_') {
            out.insert(k, v);
        }
    }
    Ok(Value::Object(out))
}

/// The event's tag list as [`convert_base`] left it (a list, or nothing).
fn event_tags(event: &Map<String, Value>) -> &[Value] {
    match event.get("Tag") {
        Some(Value::Array(t)) => t,
        _ => &[],
    }
}

/// Adds `_allTags` to every attribute and `Event._AttributeFlattened` to a document made by
/// [`convert_base`], giving exactly what [`convert`] returns.
pub(crate) fn add_extras(doc: &mut Value) {
    let Some(Value::Object(event)) = doc.get_mut("Event") else {
        return;
    };
    let inherited: Vec<Value> = event_tags(event)
        .iter()
        .map(|t| {
            let mut t = t.clone();
            if let Value::Object(o) = &mut t {
                o.insert("inherited".into(), Value::Bool(true));
            }
            t
        })
        .collect();
    let add = |attrs: &mut Vec<Value>, flattened: &mut Vec<Value>| {
        for attr in attrs.iter_mut() {
            if let Value::Object(a) = attr {
                let all = all_tags(&inherited, a.get("Tag"));
                a.insert("_allTags".into(), all);
            }
        }
        flattened.extend(attrs.iter().cloned());
    };
    let mut flattened = Vec::new();
    if let Some(Value::Array(attrs)) = event.get_mut("Attribute") {
        add(attrs, &mut flattened);
    }
    if let Some(Value::Array(objects)) = event.get_mut("Object") {
        for o in objects.iter_mut() {
            if let Some(Value::Array(attrs)) = o.get_mut("Attribute") {
                add(attrs, &mut flattened);
            }
        }
    }
    event.insert("_AttributeFlattened".into(), Value::Array(flattened));
}

/// Serialises a [`convert_base`] document as [`add_extras`] would complete it, without building
/// the extras: each attribute's `_allTags` and `Event._AttributeFlattened` are written from the
/// document as the serialiser reaches them. The output is what serialising the completed
/// document gives, key for key in the same order, at the cost of the serialisation alone rather
/// than of a deep copy of every attribute first.
pub(crate) struct WithExtras<'a>(pub(crate) &'a Value);

impl Serialize for WithExtras<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Value::Object(doc) = self.0 else {
            return self.0.serialize(s);
        };
        let Some(Value::Object(event)) = doc.get("Event") else {
            return self.0.serialize(s);
        };
        let mut m = s.serialize_map(Some(doc.len()))?;
        for (k, v) in doc {
            if k == "Event" {
                m.serialize_entry(k, &EventWithExtras(event))?;
            } else {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

struct EventWithExtras<'a>(&'a Map<String, Value>);

impl Serialize for EventWithExtras<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let event = self.0;
        let inherited = event_tags(event);
        let mut m = s.serialize_map(Some(event.len() + 1))?;
        for (k, v) in event {
            match (k.as_str(), v) {
                ("Attribute", Value::Array(attrs)) => {
                    m.serialize_entry(k, &Attributes { attrs, inherited })?;
                }
                ("Object", Value::Array(objects)) => {
                    let objects = objects.iter().map(|o| ObjectWithTags { o, inherited });
                    m.serialize_entry(k, &Seq(std::cell::Cell::new(Some(objects))))?;
                }
                _ => m.serialize_entry(k, v)?,
            }
        }
        m.serialize_entry("_AttributeFlattened", &Flattened { event, inherited })?;
        m.end()
    }
}

/// Serialises the items of an iterator once (the serialiser takes `&self`).
struct Seq<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = T>, T: Serialize> Serialize for Seq<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.take() {
            Some(items) => s.collect_seq(items),
            None => Err(serde::ser::Error::custom("sequence serialised twice")),
        }
    }
}

struct Attributes<'a> {
    attrs: &'a [Value],
    inherited: &'a [Value],
}

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.attrs.iter().map(|attr| AttributeWithTags {
            attr,
            inherited: self.inherited,
        }))
    }
}

struct ObjectWithTags<'a> {
    o: &'a Value,
    inherited: &'a [Value],
}

impl Serialize for ObjectWithTags<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Value::Object(o) = self.o else {
            return self.o.serialize(s);
        };
        let mut m = s.serialize_map(Some(o.len()))?;
        for (k, v) in o {
            match (k.as_str(), v) {
                ("Attribute", Value::Array(attrs)) => m.serialize_entry(
                    k,
                    &Attributes {
                        attrs,
                        inherited: self.inherited,
                    },
                )?,
                _ => m.serialize_entry(k, v)?,
            }
        }
        m.end()
    }
}

/// One attribute with its `_allTags` in place (or last); other values as they are.
struct AttributeWithTags<'a> {
    attr: &'a Value,
    inherited: &'a [Value],
}

impl Serialize for AttributeWithTags<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Value::Object(a) = self.attr else {
            return self.attr.serialize(s);
        };
        let own = match a.get("Tag") {
            Some(Value::Array(own)) => own.as_slice(),
            _ => &[],
        };
        let all = || {
            let tags = self
                .inherited
                .iter()
                .map(|t| Flagged(t, true))
                .chain(own.iter().map(|t| Flagged(t, false)));
            Seq(std::cell::Cell::new(Some(tags)))
        };
        let present = a.contains_key("_allTags");
        let mut m = s.serialize_map(Some(a.len() + usize::from(!present)))?;
        for (k, v) in a {
            if k == "_allTags" {
                m.serialize_entry(k, &all())?;
            } else {
                m.serialize_entry(k, v)?;
            }
        }
        if !present {
            m.serialize_entry("_allTags", &all())?;
        }
        m.end()
    }
}

/// A tag with `inherited` set (in place when the tag has one, else last).
struct Flagged<'a>(&'a Value, bool);

impl Serialize for Flagged<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Value::Object(t) = self.0 else {
            return self.0.serialize(s);
        };
        let present = t.contains_key("inherited");
        let mut m = s.serialize_map(Some(t.len() + usize::from(!present)))?;
        for (k, v) in t {
            if k == "inherited" {
                m.serialize_entry(k, &self.1)?;
            } else {
                m.serialize_entry(k, v)?;
            }
        }
        if !present {
            m.serialize_entry("inherited", &self.1)?;
        }
        m.end()
    }
}

/// `Event._AttributeFlattened`: the attributes, then each object's, with their `_allTags`.
struct Flattened<'a> {
    event: &'a Map<String, Value>,
    inherited: &'a [Value],
}

impl Serialize for Flattened<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let top = match self.event.get("Attribute") {
            Some(Value::Array(attrs)) => attrs.as_slice(),
            _ => &[],
        };
        let in_objects = match self.event.get("Object") {
            Some(Value::Array(objects)) => objects.as_slice(),
            _ => &[],
        }
        .iter()
        .flat_map(|o| match o.get("Attribute") {
            Some(Value::Array(attrs)) => attrs.as_slice(),
            _ => &[],
        });
        s.collect_seq(top.iter().chain(in_objects).map(|attr| AttributeWithTags {
            attr,
            inherited: self.inherited,
        }))
    }
}

/// Calls `f` on each item `Event._AttributeFlattened` will hold once [`add_extras`] ran on
/// `doc` (a [`convert_base`] document), in order, without `_allTags`; stops when `f` breaks.
pub(crate) fn visit_flattened<'a>(
    doc: &'a Value,
    f: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some(Value::Object(event)) = doc.get("Event") else {
        return ControlFlow::Continue(());
    };
    if let Some(Value::Array(attrs)) = event.get("Attribute") {
        attrs.iter().try_for_each(&mut *f)?;
    }
    if let Some(Value::Array(objects)) = event.get("Object") {
        for o in objects {
            let attrs = match o {
                Value::Object(o) => map_get(o, "Attribute"),
                _ => None,
            };
            if let Some(Value::Array(attrs)) = attrs {
                attrs.iter().try_for_each(&mut *f)?;
            }
        }
    }
    ControlFlow::Continue(())
}

/// What `Event._AttributeFlattened.{n}._allTags.{n}.name` extracts once [`add_extras`] ran on
/// `doc` (a [`convert_base`] document), visited in the same order without building anything.
pub(crate) fn visit_all_tag_names<'a>(
    doc: &'a Value,
    f: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
) -> ControlFlow<()> {
    visit_tag_names(doc, true, f)
}

/// The same set of values as [`visit_all_tag_names`], each event tag visited once instead of
/// once per attribute: for callers that only ask which values occur (the `in`/`not_in`
/// operators of §8.3), not in what order or how often.
pub(crate) fn visit_all_tag_name_set<'a>(
    doc: &'a Value,
    f: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
) -> ControlFlow<()> {
    visit_tag_names(doc, false, f)
}

fn visit_tag_names<'a>(
    doc: &'a Value,
    inherited_per_attribute: bool,
    f: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some(Value::Object(event)) = doc.get("Event") else {
        return ControlFlow::Continue(());
    };
    let inherited = event_tags(event);
    let names = |tags: &'a [Value], f: &mut dyn FnMut(&'a Value) -> ControlFlow<()>| {
        tags.iter()
            .filter_map(|t| match t {
                Value::Object(o) => map_get(o, "name"),
                _ => None,
            })
            .try_for_each(f)
    };
    let mut inherited_seen = false;
    visit_flattened(doc, &mut |attr| {
        let Value::Object(a) = attr else {
            return ControlFlow::Continue(());
        };
        if inherited_per_attribute || !inherited_seen {
            inherited_seen = true;
            names(inherited, f)?;
        }
        match map_get(a, "Tag") {
            Some(Value::Array(own)) => names(own, f),
            _ => ControlFlow::Continue(()),
        }
    })
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
