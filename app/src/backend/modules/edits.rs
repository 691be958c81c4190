//! Action modules that change attributes and events on the store (spec §5.2):
//! `attribute_ids_flag_operation`, `Module_attribute_comment_operation`,
//! `attribute_distribution_operation`, `publish-event`, `reload-full-event`,
//! `add_eventblocklist_entry` and `add_to_warninglist`. Each goes through the same services as the REST routes (so the
//! changes are validated, audited, and fire their own triggers one chain step deeper), then
//! reloads the event into the roaming data so the next node sees the change.
use async_trait::async_trait;
use engine::{
    Module, ModuleConfig, ModuleContext, ModuleError, ParamDescriptor, ParamType, RoamingData,
};
use serde_json::{json, Value};

use super::{action_config, matching_attributes, reload, uuid_of, RunContext};
use crate::backend::services::{events, lists};

/// What an attribute edit module does to each matching attribute: the fields to save.
enum AttributeEdit {
    IdsFlag,
    Comment,
    Distribution,
}

pub struct AttributeEditModule {
    config: ModuleConfig,
    edit: AttributeEdit,
}

impl AttributeEditModule {
    pub fn ids_flag() -> Self {
        let mut c = action_config(
            "attribute_ids_flag_operation",
            "Attribute IDS Flag operation",
            "Toggle or remove the IDS flag on selected attributes.",
            true,
            true,
        );
        c.icon = "edit".into();
        c.params = vec![
            ParamDescriptor::new("action", "To IDS Flag", ParamType::Select)
                .default(json!("add"))
                .options(json!({"add": "Toggle IDS flag", "remove": "Remove IDS flag"})),
        ];
        Self {
            config: c,
            edit: AttributeEdit::IdsFlag,
        }
    }

    pub fn comment() -> Self {
        let mut c = action_config(
            "Module_attribute_comment_operation",
            "Attribute comment operation",
            "Set the Attribute's comment to the selected value.",
            true,
            true,
        );
        c.icon = "comment".into();
        c.params = vec![
            ParamDescriptor::new("comment", "Comment", ParamType::Textarea)
                .placeholder("Comment to be set")
                .jinja(),
        ];
        Self {
            config: c,
            edit: AttributeEdit::Comment,
        }
    }

    pub fn distribution() -> Self {
        let mut c = action_config(
            "attribute_distribution_operation",
            "Attribute distribution operation",
            "Set the Attribute's distribution to the selected level.",
            true,
            true,
        );
        c.icon = "edit".into();
        c.params = vec![
            ParamDescriptor::new("distribution", "Distribution", ParamType::Select)
                .default(json!("0"))
                .options(
                    json!({"0": "Your organisation only", "1": "This community only",
                    "2": "Connected communities", "3": "All communities", "4": "Sharing group",
                    "5": "Inherit event"}),
                ),
            ParamDescriptor::new("sharing_group_id", "Sharing Groups", ParamType::Picker)
                .placeholder("Pick a sharing group")
                .display_on(json!({"distribution": "4"})),
        ];
        Self {
            config: c,
            edit: AttributeEdit::Distribution,
        }
    }
}

#[async_trait]
impl Module for AttributeEditModule {
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
        let changes = match self.edit {
            AttributeEdit::IdsFlag => {
                json!({"to_ids": ctx.param_str("action", &view)? != "remove"})
            }
            AttributeEdit::Comment => json!({"comment": ctx.param_str("comment", &view)?}),
            AttributeEdit::Distribution => {
                let distribution = ctx.param_str("distribution", &view)?;
                let mut c = json!({"distribution": distribution});
                if distribution == "4" {
                    c["sharing_group_id"] = json!(ctx.param_str("sharing_group_id", &view)?);
                }
                c
            }
        };
        let mut saved = 0usize;
        for uuid in matching_attributes(ctx, &view)?
            .into_iter()
            .filter_map(uuid_of)
        {
            let edit =
                events::edit_attribute(&run.state, run.actor().await?, uuid, changes.clone());
            match run.once(ctx, &format!("edit:{uuid}"), edit).await {
                Ok(_) => saved += 1,
                Err(e) => errors.push(format!("Attribute {uuid}: {e}")),
            }
        }
        if saved > 0 {
            reload(run, data).await?;
        }
        Ok(saved > 0)
    }
}

/// `publish-event`: publishes `Event.id` (which runs the `event-publish` trigger).
pub struct PublishEvent {
    config: ModuleConfig,
}

impl PublishEvent {
    pub fn new() -> Self {
        let mut c = action_config(
            "publish-event",
            "Publish Event",
            "Publish an Event in the context of the workflow",
            false,
            false,
        );
        c.icon = "upload".into();
        Self { config: c }
    }
}

#[async_trait]
impl Module for PublishEvent {
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
        let Some(id) = RunContext::event_id(data.raw()) else {
            errors.push("No event to publish (Event.id is missing).".into());
            return Ok(false);
        };
        let publish = events::set_published(&run.state, run.actor().await?, &id, true);
        match run.once(ctx, &format!("publish:{id}"), publish).await {
            // Published now, or by an earlier attempt of the same job.
            Ok(None) => {
                reload(run, data).await?;
                Ok(true)
            }
            Ok(Some(ev)) if ev.published => {
                reload(run, data).await?;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(e) => {
                errors.push(e.to_string());
                Ok(false)
            }
        }
    }
}

/// `reload-full-event`: replaces the roaming data with the full stored event.
pub struct ReloadFullEvent {
    config: ModuleConfig,
}

impl ReloadFullEvent {
    pub fn new() -> Self {
        let mut c = action_config(
            "reload-full-event",
            "Reload full Event",
            "Reload the full Event from the database, with all its attributes and objects.",
            true,
            false,
        );
        c.icon = "sync".into();
        Self { config: c }
    }
}

#[async_trait]
impl Module for ReloadFullEvent {
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
        if RunContext::event_id(data.raw()).is_none() {
            errors.push("No event to reload (Event.id is missing).".into());
            return Ok(false);
        }
        reload(run, data).await?;
        Ok(true)
    }
}

/// `add_eventblocklist_entry`: blocklists the event found at the node's hash paths.
pub struct AddEventBlocklistEntry {
    config: ModuleConfig,
}

impl AddEventBlocklistEntry {
    pub fn new() -> Self {
        let mut c = action_config(
            "add_eventblocklist_entry",
            "Add Event Blocklist entry",
            "Create a new entry in the Event blocklist table",
            true,
            false,
        );
        c.icon = "ban".into();
        c.params = vec![
            ParamDescriptor::new(
                "uuid_hash_path",
                "Event UUID Hash path",
                ParamType::Hashpath,
            )
            .default(json!("Event.uuid"))
            .placeholder("Event.uuid"),
            ParamDescriptor::new(
                "eventinfo_hash_path",
                "Event Info Hash path",
                ParamType::Hashpath,
            )
            .default(json!("Event.info"))
            .placeholder("Event.info"),
            ParamDescriptor::new("block_comment", "Blocklist Comment", ParamType::Input)
                .default(json!("Blocked from workflow"))
                .placeholder("Blocked from workflow"),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for AddEventBlocklistEntry {
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
        let first = |param: &str| -> Result<String, ModuleError> {
            let path = ctx.path(&ctx.param_str(param, &view)?)?;
            Ok(path
                .extract(&view)
                .first()
                .and_then(|v| engine::php::to_php_string(v))
                .unwrap_or_default())
        };
        let uuid = first("uuid_hash_path")?;
        if uuid.is_empty() {
            errors.push("No event uuid at the UUID hash path.".into());
            return Ok(false);
        }
        let body = json!({
            "uuids": [uuid],
            "event_info": first("eventinfo_hash_path")?,
            "event_orgc": view.pointer("/Event/Orgc/name").and_then(Value::as_str).unwrap_or_default(),
            "comment": ctx.param_str("block_comment", &view)?,
        });
        let block = lists::add_blocklist(&run.state, run.actor().await?, body);
        match run.once(ctx, &format!("blocklist:{uuid}"), block).await {
            Ok(None) => Ok(true),
            Ok(Some(answer))
                if answer["result"]["successes"]
                    .as_array()
                    .is_some_and(|s| !s.is_empty()) =>
            {
                Ok(true)
            }
            Ok(_) => {
                errors.push(format!(
                    "Event {uuid} could not be blocklisted (already listed?)."
                ));
                Ok(false)
            }
            Err(e) => {
                errors.push(e.to_string());
                Ok(false)
            }
        }
    }
}

/// `add_to_warninglist`: appends the matching attributes' values to a custom warninglist.
pub struct AddToWarninglist {
    config: ModuleConfig,
}

impl AddToWarninglist {
    pub fn new() -> Self {
        let mut c = action_config(
            "add_to_warninglist",
            "Add to warninglist",
            "Append attributes to an allowed warninglist.",
            true,
            true,
        );
        c.icon = "exclamation-triangle".into();
        c.params = vec![
            ParamDescriptor::new("warninglist", "Warninglist", ParamType::Picker)
                .placeholder("Pick a warninglist"),
        ];
        Self { config: c }
    }
}

#[async_trait]
impl Module for AddToWarninglist {
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
        let Ok(list_id) = ctx.param_str("warninglist", &view)?.trim().parse::<i32>() else {
            errors.push("No warninglist selected".into());
            return Ok(false);
        };
        let values: Vec<String> = matching_attributes(ctx, &view)?
            .into_iter()
            .filter_map(|a| a.get("value").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let append = lists::append_entries(&run.state, run.actor().await?, list_id, &values);
        match run
            .once(ctx, &format!("warninglist:{list_id}"), append)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                errors.push(e.to_string());
                Ok(false)
            }
        }
    }
}
