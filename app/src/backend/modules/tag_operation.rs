//! `tag_operation` (Tag operation 0.2, spec §5.2): adds or removes tags on the event or on the
//! matching attributes (the node's filters, else every attribute), persists them, and reloads the
//! event into the roaming data so the next node sees the change.
use async_trait::async_trait;
use engine::{
    Module, ModuleConfig, ModuleContext, ModuleError, ParamDescriptor, ParamType, RoamingData,
};
use serde_json::{json, Value};

use super::{matching_attributes, picked, reload, uuid_of, RunContext};
use crate::backend::services::events;

pub struct TagOperation {
    config: ModuleConfig,
}

impl TagOperation {
    pub fn new() -> Self {
        let mut c = super::action_config(
            "tag_operation",
            "Tag operation",
            "Add or remove tags on Event or Attributes.",
            true,
            true,
        );
        c.version = "0.2".into();
        c.icon = "tags".into();
        c.params = vec![
            ParamDescriptor::new("scope", "Scope", ParamType::Select)
                .default(json!("event"))
                .options(json!({"event": "Event", "attribute": "Attributes"})),
            ParamDescriptor::new("action", "Action", ParamType::Select)
                .default(json!("add"))
                .options(json!({"add": "Add Tags", "remove": "Remove Tags"})),
            ParamDescriptor::new("locality", "Tag Locality", ParamType::Select)
                .default(json!("local"))
                .options(json!({"local": "Local", "global": "Global", "any": "Any"})),
            ParamDescriptor::new("tags", "Tags", ParamType::Picker)
                .multiple()
                .placeholder("Pick a tag"),
            ParamDescriptor::new("relationship_type", "Relationship Type", ParamType::Input)
                .display_on(json!({"action": "add"})),
        ];
        TagOperation { config: c }
    }
}

impl Default for TagOperation {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for TagOperation {
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
        let action = ctx.param_str("action", &view)?;
        let locality = ctx.param_str("locality", &view)?;
        let tags = picked(&ctx.param_raw("tags"));
        if tags.is_empty() {
            errors.push("No tag selected.".into());
            return Ok(false);
        }
        // Targets: each matching attribute, or the event when anything matches (or the node
        // has no filters), by uuid.
        let targets: Vec<String> = if scope == "attribute" {
            matching_attributes(ctx, &view)?
                .into_iter()
                .filter_map(uuid_of)
                .map(str::to_owned)
                .collect()
        } else {
            let matches = ctx.filtered(&view)?.is_none_or(|items| !items.is_empty());
            match view.pointer("/Event/uuid").and_then(Value::as_str) {
                Some(uuid) if matches => vec![uuid.to_owned()],
                _ => Vec::new(),
            }
        };
        let local = locality == "local";
        let mut done = 0usize;
        for target in &targets {
            for tag in &tags {
                let outcome = if action == "remove" {
                    let name = json!(tag);
                    let detach = events::remove_tag(&run.state, run.actor().await?, target, &name);
                    run.once(ctx, &format!("detach:{target}:{tag}"), detach)
                        .await
                } else {
                    let name = json!(tag);
                    let attach =
                        events::attach_tag(&run.state, run.actor().await?, target, &name, local);
                    run.once(ctx, &format!("attach:{target}:{tag}"), attach)
                        .await
                };
                match outcome {
                    Ok(_) => done += 1,
                    // Removing a tag that is not there is not a failure of the node.
                    Err(crate::error::AppError::NotFound(_)) if action == "remove" => {}
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
