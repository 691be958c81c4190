//! Modules that enrich an event (spec §5.2): `attach-warninglist` and `attach-enrichment` add
//! what they find to the attributes in the roaming data, `enrich-event` adds the attributes an
//! enrichment module proposes to the stored event, `assign_country` tags the event or its
//! attributes with Country galaxy clusters named in the data, and
//! `Module_event_distribution_operation` sets the event's distribution.
use std::collections::BTreeMap;

use async_trait::async_trait;
use engine::{
    Module, ModuleConfig, ModuleContext, ModuleError, ParamDescriptor, ParamType, RoamingData,
};
use serde_json::{json, Value};

use super::{action_config, matching_attributes, picked, reload, uuid_of, RunContext};
use crate::backend::services::{enrichment, events, lists};

/// Applies `edit` to every copy of attribute `uuid` in the roaming data: in `Event.Attribute`,
/// in the objects' `Attribute` lists and in `Event._AttributeFlattened`.
fn edit_attribute_copies(data: &mut Value, uuid: &str, edit: &dyn Fn(&mut Value)) {
    let Some(event) = data.get_mut("Event") else {
        return;
    };
    let mut lists: Vec<&mut Value> = Vec::new();
    let (mut flat, mut direct, mut objects) = (None, None, None);
    if let Value::Object(m) = event {
        for (k, v) in m.iter_mut() {
            match k.as_str() {
                "_AttributeFlattened" => flat = Some(v),
                "Attribute" => direct = Some(v),
                "Object" => objects = Some(v),
                _ => {}
            }
        }
    }
    lists.extend(flat);
    lists.extend(direct);
    if let Some(Value::Array(objects)) = objects {
        for o in objects {
            if let Some(a) = o.get_mut("Attribute") {
                lists.push(a);
            }
        }
    }
    for list in lists {
        if let Value::Array(items) = list {
            for a in items
                .iter_mut()
                .filter(|a| a.get("uuid").and_then(Value::as_str) == Some(uuid))
            {
                edit(a);
            }
        }
    }
}

/// Appends `item` to the list under `key` of an attribute.
fn push_to(attribute: &mut Value, key: &str, item: &Value) {
    if let Value::Object(m) = attribute {
        match m.entry(key).or_insert_with(|| json!([])) {
            Value::Array(list) => list.push(item.clone()),
            other => *other = json!([item]),
        }
    }
}

/// `attach-warninglist`: adds each matching attribute's `warnings` from the selected enabled
/// warninglists (or all) and lists the lists that matched in `Event.warnings`.
pub struct AttachWarninglist {
    config: ModuleConfig,
}

impl AttachWarninglist {
    pub fn new() -> Self {
        let mut c = action_config(
            "attach-warninglist",
            "Attach warninglist",
            "Attach selected warninglist result.",
            true,
            true,
        );
        c.version = "0.2".into();
        c.icon = "exclamation-triangle".into();
        c.params = vec![
            ParamDescriptor::new("warninglists", "Warninglists", ParamType::Picker)
                .multiple()
                .default(json!("ALL"))
                .options(json!({"ALL": "ALL"})),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for AttachWarninglist {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let selected = picked(&ctx.param_raw("warninglists"));
        if selected.is_empty() {
            errors.push("No warninglist selected".into());
            return Ok(false);
        }
        let all = selected.iter().any(|s| s == "ALL");
        let lists: Vec<_> = lists::enabled_lists(&run.state)
            .await
            .map_err(|e| ModuleError::Failed(e.to_string()))?
            .into_iter()
            .filter(|(w, _)| all || selected.contains(&w.name))
            .collect();
        let view = ctx.view(data)?.into_owned();
        let mut event_warnings: BTreeMap<i32, Value> = BTreeMap::new();
        let mut found: Vec<(String, Vec<Value>)> = Vec::new();
        for a in matching_attributes(ctx, &view)? {
            let (Some(uuid), Some(kind), Some(value)) = (
                uuid_of(a),
                a.get("type").and_then(Value::as_str),
                a.get("value").and_then(Value::as_str),
            ) else {
                continue;
            };
            let warnings = lists::attribute_warnings(&lists, kind, value);
            if warnings.is_empty() {
                continue;
            }
            for (w, _) in lists.iter().filter(|(w, _)| {
                warnings
                    .iter()
                    .any(|x| x["warninglist_id"] == json!(w.id.to_string()))
            }) {
                event_warnings.insert(
                    w.id,
                    json!({"id": w.id.to_string(), "name": w.name, "category": w.category}),
                );
            }
            found.push((uuid.to_owned(), warnings));
        }
        let raw = data.raw_mut();
        for (uuid, warnings) in &found {
            edit_attribute_copies(raw, uuid, &|a: &mut Value| {
                for w in warnings {
                    push_to(a, "warnings", w);
                }
            });
        }
        if let Some(Value::Object(ev)) = raw.get_mut("Event") {
            ev.insert(
                "warnings".into(),
                Value::Array(event_warnings.into_values().collect()),
            );
        }
        Ok(true)
    }
}

/// `attach-enrichment`: queries the selected enrichment modules on each matching attribute they
/// take (each query runs `enrichment-before-query`) and appends each module's results to the
/// attribute's `enrichment` list in the roaming data.
pub struct AttachEnrichment {
    config: ModuleConfig,
}

impl AttachEnrichment {
    pub fn new() -> Self {
        let mut c = action_config(
            "attach-enrichment",
            "Attach enrichment",
            "Attach selected enrichment result to Attributes.",
            true,
            true,
        );
        c.version = "0.3".into();
        c.icon = "asterisk".into();
        c.params = vec![ParamDescriptor::new("modules", "Modules", ParamType::Picker).multiple()];
        Self { config: c }
    }
}

#[async_trait]
impl Module for AttachEnrichment {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let selected = picked(&ctx.param_raw("modules"));
        if selected.is_empty() {
            errors.push("No enrichmnent module selected".into());
            return Ok(false);
        }
        let Some(event_id) = RunContext::event_id(data.raw()) else {
            errors.push("No event to enrich (Event.id is missing).".into());
            return Ok(false);
        };
        let failed = |e: crate::error::AppError| ModuleError::Failed(e.to_string());
        let actor = run.actor().await?;
        let enricher = enrichment::Enricher::connect(&run.state)
            .await
            .map_err(failed)?;
        let ev = events::visible_event(&run.state, actor, &event_id)
            .await
            .map_err(failed)?;
        let view = ctx.view(data)?.into_owned();
        let mut attached: Vec<(String, Value)> = Vec::new();
        for a in matching_attributes(ctx, &view)? {
            let (Some(uuid), Some(kind)) = (uuid_of(a), a.get("type").and_then(Value::as_str))
            else {
                continue;
            };
            for name in &selected {
                let Some(module) = enricher.module(name) else {
                    errors.push(format!("Unknown enrichment module `{name}`."));
                    continue;
                };
                if !enrichment::takes(module, kind) {
                    continue;
                }
                // A module's failure is its result, as MISP attaches `{"error": …}`.
                let result = match enricher.query(&run.state, actor, &ev, module, a).await {
                    Ok(results) => results,
                    Err(crate::error::AppError::Rejected { message, .. }) => {
                        errors.push(message);
                        return Ok(false);
                    }
                    Err(e) => json!({"error": e.to_string()}),
                };
                attached.push((uuid.to_owned(), result));
            }
        }
        let raw = data.raw_mut();
        for (uuid, result) in &attached {
            edit_attribute_copies(raw, uuid, &|a: &mut Value| push_to(a, "enrichment", result));
        }
        Ok(true)
    }
}

/// `enrich-event`: enriches the event's attributes (those the node's filters pick, when it has
/// filters) with one module, adding what it proposes to the stored event, then reloads it; a
/// summary goes out on the `misp_json_workflow` ZeroMQ topic, as MISP sends it.
pub struct EnrichEvent {
    config: ModuleConfig,
}

impl EnrichEvent {
    pub fn new() -> Self {
        let mut c = action_config(
            "enrich-event",
            "Enrich Event",
            "Enrich all Attributes contained in the Event with the provided module.",
            true,
            true,
        );
        c.version = "0.2".into();
        c.icon = "asterisk".into();
        c.params = vec![ParamDescriptor::new(
            "modules",
            "Modules",
            ParamType::Select,
        )];
        Self { config: c }
    }
}

#[async_trait]
impl Module for EnrichEvent {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = ctx.view(data)?.into_owned();
        let module = ctx.param_str("modules", &view)?;
        if module.trim().is_empty() {
            errors.push("No enrichmnent module selected".into());
            return Ok(false);
        }
        let Some(event_id) = RunContext::event_id(data.raw()) else {
            errors.push("No event to enrich (Event.id is missing).".into());
            return Ok(false);
        };
        let only: Option<Vec<String>> = match ctx.filtered(&view)? {
            // Filters that match nothing: nothing to enrich.
            Some(items) if items.is_empty() => return Ok(true),
            Some(items) => Some(
                items
                    .into_iter()
                    .filter_map(uuid_of)
                    .map(str::to_owned)
                    .collect(),
            ),
            None => None,
        };
        let added = enrichment::enrich_event(
            &run.state,
            run.actor().await?,
            &event_id,
            module.trim(),
            only.as_deref(),
            errors,
        )
        .await;
        // MISP's summary on the workflow topic (when ZeroMQ is on).
        let summary = match &added {
            Ok(n) => json!({"Enriching event": event_id, "Attribute added": n}),
            Err(_) => {
                json!({"Warning": "Error while trying to reach enrichment service or no module available",
                "Attribute added": 0})
            }
        };
        if let Err(e) =
            crate::backend::services::zmq::publish(&run.state, "misp_json_workflow", &summary).await
        {
            tracing::warn!(error = %e, "could not publish the enrichment summary on ZeroMQ");
        }
        match added {
            Ok(n) => {
                tracing::info!(event = %event_id, module = %module, added = n, "event enriched by a workflow");
                if n > 0 {
                    reload(run, data).await?;
                }
                Ok(true)
            }
            Err(e) => {
                errors.push(e.to_string());
                Ok(false)
            }
        }
    }
}

/// The Country galaxy's cluster names (lowercase).
fn countries() -> &'static [&'static str] {
    static LIST: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../../../data/countries.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// The Country galaxy tags of the names in `found` that are countries (case-insensitive).
fn country_tags<'v>(found: impl IntoIterator<Item = &'v Value>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for v in found {
        let Some(name) = v.as_str() else { continue };
        let name = name.trim().to_lowercase();
        if let Some(c) = countries().iter().find(|c| **c == name) {
            let tag = format!("misp-galaxy:country=\"{c}\"");
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    tags
}

/// `assign_country`: reads country names at the hash path of the matching attributes (for
/// example what `attach-enrichment` attached) and tags the event, or each attribute, with the
/// Country galaxy clusters they name.
pub struct AssignCountry {
    config: ModuleConfig,
}

impl AssignCountry {
    pub fn new() -> Self {
        let mut c = action_config(
            "assign_country",
            "Assign country",
            "Add or remove country Galaxy Cluster based on provided data",
            true,
            true,
        );
        c.version = "0.2".into();
        c.icon = "globe".into();
        c.params = vec![
            ParamDescriptor::new("scope", "Scope", ParamType::Select)
                .default(json!("event"))
                .options(json!({"event": "Event", "attribute": "Attributes"})),
            ParamDescriptor::new("hash_path", "Country Hash path", ParamType::Hashpath)
                .default(json!("enrichment.{n}.{n}.values.0"))
                .placeholder("enrichment.{n}.{n}.values.0"),
            ParamDescriptor::new("locality", "Tag Locality", ParamType::Select)
                .default(json!("local"))
                .options(json!({"local": "Local", "global": "Global"})),
            ParamDescriptor::new("galaxy_name", "Galaxy Name", ParamType::Select)
                .options(json!({"country": "country"}))
                .placeholder("Pick a galaxy name"),
            ParamDescriptor::new("relationship_type", "Relationship Type", ParamType::Input)
                .display_on(json!({"action": "add"})),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for AssignCountry {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = ctx.view(data)?.into_owned();
        let scope = ctx.param_str("scope", &view)?;
        let local = ctx.param_str("locality", &view)? == "local";
        let path_text = ctx.param_str("hash_path", &view)?;
        let attributes = matching_attributes(ctx, &view)?;
        // (target uuid, tags)
        let mut targets: Vec<(String, Vec<String>)> = Vec::new();
        if scope == "attribute" {
            let path = ctx.path(&path_text)?;
            for a in &attributes {
                let tags = country_tags(path.extract(a));
                if let (Some(uuid), false) = (uuid_of(a), tags.is_empty()) {
                    targets.push((uuid.to_owned(), tags));
                }
            }
        } else {
            let prefixed = if path_text.starts_with("{n}.") {
                path_text
            } else {
                format!("{{n}}.{path_text}")
            };
            let list = Value::Array(attributes.iter().map(|a| (*a).clone()).collect());
            let tags = country_tags(ctx.path(&prefixed)?.extract(&list));
            if let (Some(uuid), false) = (
                view.pointer("/Event/uuid").and_then(Value::as_str),
                tags.is_empty(),
            ) {
                targets.push((uuid.to_owned(), tags));
            }
        }
        let mut done = 0usize;
        for (target, tags) in &targets {
            for tag in tags {
                let name = json!(tag);
                let attach =
                    events::attach_tag(&run.state, run.actor().await?, target, &name, local);
                match run
                    .once(ctx, &format!("attach:{target}:{tag}"), attach)
                    .await
                {
                    Ok(_) => done += 1,
                    Err(e) => errors.push(format!("{tag} on {target}: {e}")),
                }
            }
        }
        if done > 0 {
            reload(run, data).await?;
        }
        Ok(done > 0)
    }
}

/// `Module_event_distribution_operation`: sets the event's distribution (and sharing group);
/// unless asked to freeze, the event is touched and unpublished as any edit. An event without
/// attributes is left alone, as MISP does.
pub struct EventDistribution {
    config: ModuleConfig,
}

impl EventDistribution {
    pub fn new() -> Self {
        let mut c = action_config(
            "Module_event_distribution_operation",
            "Event distribution operation",
            "Set the Event's distribution to the selected level",
            true,
            false,
        );
        c.params = vec![
            ParamDescriptor::new(
                "freeze",
                "Preserve timestamp and published state",
                ParamType::Select,
            )
            .default(json!("modify"))
            .options(json!({"modify": "Modify timestamp and unpublish",
                "freeze": "Freeze timestamp and keep published state"})),
            ParamDescriptor::new("distribution", "Distribution", ParamType::Select)
                .default(json!("0"))
                .options(
                    json!({"0": "Your organisation only", "1": "This community only",
                    "2": "Connected communities", "3": "All communities", "4": "Sharing group"}),
                )
                .placeholder("Pick a distribution"),
            ParamDescriptor::new("sharing_group_id", "Sharing Groups", ParamType::Picker)
                .placeholder("Pick a sharing group")
                .display_on(json!({"distribution": "4"})),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for EventDistribution {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = ctx.view(data)?.into_owned();
        if matching_attributes(ctx, &view)?.is_empty() {
            return Ok(true);
        }
        let Some(event_id) = RunContext::event_id(data.raw()) else {
            errors.push("No event to edit (Event.id is missing).".into());
            return Ok(false);
        };
        let distribution = ctx.param_str("distribution", &view)?;
        let mut changes = json!({"distribution": distribution});
        if distribution == "4" {
            changes["sharing_group_id"] = json!(ctx.param_str("sharing_group_id", &view)?);
        }
        let freeze = ctx.param_str("freeze", &view)? == "freeze";
        let edit = events::edit_event_with(
            &run.state,
            run.actor().await?,
            &event_id,
            json!({"Event": changes}),
            freeze,
        );
        match run.once(ctx, &format!("edit-event:{event_id}"), edit).await {
            Ok(_) => {
                reload(run, data).await?;
                Ok(true)
            }
            Err(e) => {
                errors.push(e.to_string());
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_names_become_country_cluster_tags_once() {
        let found = [
            json!("France"),
            json!("france "),
            json!("Atlantis"),
            json!(3),
        ];
        assert_eq!(
            country_tags(found.iter()),
            ["misp-galaxy:country=\"france\""]
        );
    }

    #[test]
    fn every_copy_of_an_attribute_is_edited() {
        let mut data = json!({"Event": {
            "Attribute": [{"uuid": "a"}, {"uuid": "b"}],
            "Object": [{"Attribute": [{"uuid": "c"}]}],
            "_AttributeFlattened": [{"uuid": "a"}, {"uuid": "b"}, {"uuid": "c"}]}});
        for uuid in ["a", "c"] {
            edit_attribute_copies(&mut data, uuid, &|a: &mut Value| {
                push_to(a, "warnings", &json!(1))
            });
        }
        assert_eq!(data["Event"]["Attribute"][0]["warnings"], json!([1]));
        assert!(data["Event"]["Attribute"][1].get("warnings").is_none());
        assert_eq!(
            data["Event"]["Object"][0]["Attribute"][0]["warnings"],
            json!([1])
        );
        assert_eq!(
            data["Event"]["_AttributeFlattened"][2]["warnings"],
            json!([1])
        );
    }
}
