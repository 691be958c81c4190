//! Roaming data (spec §1, §7): the one JSON document passed from node to node during a run.
//!
//! Representation: a `serde_json::Value` tree behind this type (see README "Roaming data" for the
//! measurements behind that choice). Modules read through [`RoamingData::view`], which applies
//! the active path filters (§8.4); they write through [`RoamingData::raw_mut`] /
//! [`RoamingData::set`]. Keeping the tree behind one type means a different representation can be
//! swapped in without touching modules' call sites.
//!
//! Core-format data made by [`RoamingData::core_format`] starts without its workflow extras
//! (`_allTags` on each attribute, `Event._AttributeFlattened`): they are copies of what the
//! document already holds, and building them costs more than a whole publish-gate walk. They are
//! built the first time anything reads or writes the whole document ([`RoamingData::raw`],
//! [`RoamingData::view`], [`RoamingData::raw_mut`], serialisation, …), so every observer sees
//! exactly what [`crate::core_format::convert`] returns. Until then, the tag paths of `tag-if`
//! are answered from the document itself (`RoamingData::pending_core`).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::core_format::{self, CoreFormatError};
use crate::filters;
use crate::hashpath::{PathCache, PathError};
use crate::source::EventSource;

/// The data a workflow run works on.
#[derive(Clone, Default)]
pub struct RoamingData {
    /// The document (a core-format document without its extras while `pending`). Always set,
    /// except for data made from an [`EventSource`], where it is parsed from the source the first
    /// time something reads the tree.
    root: OnceLock<Value>,
    /// `Some` while `root` is a core-format document whose extras are not built yet; holds the
    /// complete document once a reader asked for it.
    pending: Option<OnceLock<Value>>,
    /// The bytes the document was received as, indexed (see [`crate::source`]), until anything
    /// changes the document.
    source: Option<Arc<EventSource>>,
}

impl RoamingData {
    /// Wraps a JSON document.
    pub fn new(root: Value) -> Self {
        RoamingData {
            root: OnceLock::from(root),
            pending: None,
            source: None,
        }
    }

    /// The MISP core format of raw hook data (spec §7), observably equal to
    /// `RoamingData::new(core_format::convert(raw)?)`, with `_allTags` and
    /// `_AttributeFlattened` built only when the whole document is first read or written.
    pub fn core_format(raw: Value) -> Result<Self, CoreFormatError> {
        Ok(RoamingData {
            root: OnceLock::from(core_format::convert_base(raw)?),
            pending: Some(OnceLock::new()),
            source: None,
        })
    }

    /// The MISP core format of an event received as bytes and indexed by
    /// [`EventSource::index`]: observably equal to `RoamingData::core_format` of the parsed
    /// bytes, but the tree is only parsed when something reads more than the tag names, and the
    /// complete document is serialised by copying the bytes ([`RoamingData::view_json`]).
    pub fn from_source(source: EventSource) -> Self {
        RoamingData {
            root: OnceLock::new(),
            pending: Some(OnceLock::new()),
            source: Some(Arc::new(source)),
        }
    }

    /// The base document, parsed from the source on first use.
    fn root(&self) -> &Value {
        self.root.get_or_init(|| match &self.source {
            // The source's document is its own core format without the extras.
            Some(src) => src.to_value(),
            None => Value::Null,
        })
    }

    /// The base document, mutably; the source no longer describes it.
    fn root_mut(&mut self) -> &mut Value {
        self.root();
        self.source = None;
        self.root.get_mut().expect("root initialised just above")
    }

    /// The stored document, unfiltered, including `enabledFilters` / `_unfilteredData`.
    pub fn raw(&self) -> &Value {
        match &self.pending {
            Some(full) => full.get_or_init(|| {
                let mut v = self.root().clone();
                core_format::add_extras(&mut v);
                v
            }),
            None => self.root(),
        }
    }

    /// Mutable access to the stored document.
    pub fn raw_mut(&mut self) -> &mut Value {
        self.complete();
        self.root_mut()
    }

    /// Replaces the document (MISP's `setData`).
    pub fn set(&mut self, root: Value) {
        self.root = OnceLock::from(root);
        self.pending = None;
        self.source = None;
    }

    /// The document as modules see it: with every active path filter applied. Borrowed (no
    /// copy) when no filter is active.
    pub fn view(&self, cache: &PathCache) -> Result<Cow<'_, Value>, PathError> {
        if !self.has_path_filters() {
            return Ok(Cow::Borrowed(self.raw()));
        }
        let mut copy = self.raw().clone();
        filters::apply_path_filters(&mut copy, cache)?;
        Ok(Cow::Owned(copy))
    }

    /// Unwraps the document.
    pub fn into_value(mut self) -> Value {
        self.complete();
        self.root();
        self.root.into_inner().unwrap_or_default()
    }

    /// The top-level value at `key` (`raw().get(key)`).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.raw().get(key)
    }

    /// The document when it is a JSON string (some ad-hoc payloads are), else `None`.
    pub fn text(&self) -> Option<&str> {
        match self.root.get() {
            Some(Value::String(s)) if self.pending.is_none() => Some(s),
            _ => None,
        }
    }

    /// [`RoamingData::view`] serialised as JSON, without building or copying what the
    /// serialisation does not need: with no path filter active the document is written as it is
    /// stored, a pending core format with its extras written on the fly (see
    /// [`core_format::WithExtras`]), data received as bytes by copying them
    /// ([`EventSource::write_complete`]).
    pub fn view_json(&self, cache: &PathCache) -> Result<Vec<u8>, PathError> {
        if let Some(src) = &self.source {
            let mut out = Vec::new();
            src.write_complete(&mut out);
            return Ok(out);
        }
        if self.has_path_filters() {
            return Ok(serde_json::to_vec(&*self.view(cache)?).unwrap_or_default());
        }
        Ok(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Whether a path filter (§8.4) is active, i.e. [`RoamingData::view`] filters a copy.
    pub fn has_path_filters(&self) -> bool {
        // An event source holds no filters (`enabledFilters` would be a top-level key).
        self.source.is_none() && filters::has_path_filters(self.root())
    }

    /// The core-format document without its extras, while they are pending and no path filter
    /// is active: what `view()` returns minus `_allTags` / `_AttributeFlattened`.
    pub(crate) fn pending_core(&self) -> Option<&Value> {
        (self.pending.is_some() && !self.has_path_filters()).then(|| self.root())
    }

    /// The indexed bytes this data still is, if it was received as an [`EventSource`] and
    /// nothing changed it since.
    pub(crate) fn source(&self) -> Option<&EventSource> {
        self.source.as_deref()
    }

    /// Builds the pending extras in place (moving the complete document in when a reader
    /// already built it).
    fn complete(&mut self) {
        if let Some(full) = self.pending.take() {
            match full.into_inner() {
                Some(v) => {
                    self.root = OnceLock::from(v);
                    self.source = None;
                }
                None => core_format::add_extras(self.root_mut()),
            }
        }
    }
}

impl From<Value> for RoamingData {
    fn from(v: Value) -> Self {
        RoamingData::new(v)
    }
}

impl std::fmt::Debug for RoamingData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RoamingData").field(self.raw()).finish()
    }
}

impl PartialEq for RoamingData {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw()
    }
}

impl PartialEq<Value> for RoamingData {
    fn eq(&self, other: &Value) -> bool {
        self.raw() == other
    }
}

impl std::ops::Index<&str> for RoamingData {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        &self.raw()[key]
    }
}

impl Serialize for RoamingData {
    /// Serialises the complete document; pending core-format extras are written as they are
    /// reached rather than built first.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.pending {
            Some(full) => match full.get() {
                Some(complete) => complete.serialize(s),
                None => core_format::WithExtras(self.root()).serialize(s),
            },
            None => self.root().serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RoamingData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(RoamingData::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::fixture;
    use serde_json::json;

    fn samples() -> Vec<Value> {
        vec![
            fixture("events/pymisp_57c4445b-c548-4654-af0b-4be3950d210f.json"),
            json!({"_module": "x", "Event": {"id": 1, "Tag": "odd", "EventTag": [{"Tag": {"id": 2, "name": "a"}}],
                "Attribute": [{"id": 3, "Tag": {"name": "b"}, "_allTags": 1}, 7, null, {"AttributeTag": "x"}],
                "Object": [{"Attribute": [{"Tag": [{"name": "c"}, "s"]}]}, {"Attribute": "no"}, 5]}}),
            json!({"Attribute": {"id": "7", "object_id": "3"}, "Object": {"id": "3"}, "Event": {"Tag": [{"name": "t"}]}}),
        ]
    }

    /// §7: serialising pending core-format data (extras written on the fly) gives the same
    /// bytes as serialising the completed document, whether or not a reader completed it.
    #[test]
    fn s7_serialising_pending_data_equals_the_complete_document() {
        let mut all = samples();
        all.push(
            json!({"Event": {"Tag": [{"name": "e", "inherited": "x"}, 3],
            "Attribute": [{"Tag": [{"name": "a", "inherited": 1}, "s"], "_allTags": 0, "z": 1}],
            "Object": [{"Attribute": []}, {"name": "o"}]}, "_x": 1}),
        );
        all.push(json!({"Event": {"id": 1}}));
        for raw in all {
            let eager =
                serde_json::to_vec(&core_format::convert(raw.clone()).expect("convert")).unwrap();
            let lazy = RoamingData::core_format(raw.clone()).expect("lazy");
            assert_eq!(serde_json::to_vec(&lazy).unwrap(), eager, "{raw}");
            let cache = PathCache::default();
            assert_eq!(lazy.view_json(&cache).unwrap(), eager);
            let _ = lazy.raw();
            assert_eq!(serde_json::to_vec(&lazy).unwrap(), eager);
        }
    }

    /// §7: the lazily completed core format is exactly `convert`'s, whichever way it is read.
    #[test]
    fn s7_lazy_core_format_equals_eager_convert() {
        for raw in samples() {
            let eager = core_format::convert(raw.clone()).expect("convert");
            let lazy = RoamingData::core_format(raw.clone()).expect("lazy");
            assert_eq!(lazy.raw(), &eager);
            assert_eq!(lazy.clone().into_value(), eager);
            let mut m = RoamingData::core_format(raw.clone()).expect("lazy");
            assert_eq!(m.raw_mut(), &eager);
            assert_eq!(
                RoamingData::core_format(raw).expect("lazy").into_value(),
                eager
            );
        }
    }

    /// §7/§8.1: the tag paths answered without building the extras give the same values, in
    /// the same order, as the paths on the complete document.
    #[test]
    fn s7_pending_tag_paths_match_complete_document() {
        let all =
            crate::hashpath::HashPath::parse("Event._AttributeFlattened.{n}._allTags.{n}.name")
                .expect("path");
        let flat = crate::hashpath::HashPath::parse("Event._AttributeFlattened.{n}").expect("path");
        for raw in samples() {
            let lazy = RoamingData::core_format(raw).expect("lazy");
            let base = lazy.pending_core().expect("pending").clone();
            let mut got = Vec::new();
            let _ = core_format::visit_all_tag_names(&base, &mut |v| {
                got.push(v.clone());
                std::ops::ControlFlow::Continue(())
            });
            let want: Vec<Value> = all.extract(lazy.raw()).into_iter().cloned().collect();
            assert_eq!(got, want);
            // The set form: the same values, each event tag once.
            let mut set = Vec::new();
            let _ = core_format::visit_all_tag_name_set(&base, &mut |v| {
                set.push(v.to_string());
                std::ops::ControlFlow::Continue(())
            });
            let mut want_set: Vec<String> = want.iter().map(Value::to_string).collect();
            want_set.sort();
            want_set.dedup();
            set.sort();
            set.dedup();
            assert_eq!(set, want_set);
            let mut items = 0;
            let _ = core_format::visit_flattened(&base, &mut |_| {
                items += 1;
                std::ops::ControlFlow::Continue(())
            });
            assert_eq!(items, flat.extract(lazy.raw()).len());
        }
    }
}
