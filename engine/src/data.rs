//! Roaming data (spec §1, §7): the one JSON document passed from node to node during a run.
//!
//! Representation: a `serde_json::Value` tree behind this type (see README "Roaming data" for the
//! measurements behind that choice). Modules read through [`RoamingData::view`], which applies
//! the active path filters (§8.4); they write through [`RoamingData::raw_mut`] /
//! [`RoamingData::set`]. Keeping the tree behind one type means a different representation can be
//! swapped in without touching modules' call sites.

use std::borrow::Cow;

use serde_json::Value;

use crate::filters;
use crate::hashpath::{PathCache, PathError};

/// The data a workflow run works on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoamingData {
    root: Value,
}

impl RoamingData {
    /// Wraps a JSON document.
    pub fn new(root: Value) -> Self {
        RoamingData { root }
    }

    /// The stored document, unfiltered, including `enabledFilters` / `_unfilteredData`.
    pub fn raw(&self) -> &Value {
        &self.root
    }

    /// Mutable access to the stored document.
    pub fn raw_mut(&mut self) -> &mut Value {
        &mut self.root
    }

    /// Replaces the document (MISP's `setData`).
    pub fn set(&mut self, root: Value) {
        self.root = root;
    }

    /// The document as modules see it: with every active path filter applied. Borrowed (no
    /// copy) when no filter is active.
    pub fn view(&self, cache: &PathCache) -> Result<Cow<'_, Value>, PathError> {
        if !filters::has_path_filters(&self.root) {
            return Ok(Cow::Borrowed(&self.root));
        }
        let mut copy = self.root.clone();
        filters::apply_path_filters(&mut copy, cache)?;
        Ok(Cow::Owned(copy))
    }

    /// Unwraps the document.
    pub fn into_value(self) -> Value {
        self.root
    }
}
