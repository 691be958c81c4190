//! Action modules that act on Flowgate's own store (spec §5.2), registered beside the engine's
//! built-in catalogue. They reach the store through [`RunContext`], the extension every run
//! from the server carries; engine tests and benches run without it, and these modules then
//! fail with a clear error.
use std::sync::Arc;

use engine::{ModuleContext, ModuleError, Registry, RoamingData};
use serde_json::Value;

use crate::backend::services::events;
use crate::backend::{AppState, Principal};

mod curation;
mod edits;
mod flow;
mod tag_operation;

/// What a module acting on the store needs: the application and the user it acts as (MISP's
/// SYSTEM user of the host organisation, spec §6.7, one chain step deeper than the run). The
/// user is loaded on first use, so runs whose modules never touch the store cost no query.
pub struct RunContext {
    pub state: AppState,
    /// The chain depth of the run (its cause's depth).
    depth: u8,
    actor: tokio::sync::OnceCell<Principal>,
}

impl RunContext {
    pub fn new(state: AppState, depth: u8) -> Self {
        Self {
            state,
            depth,
            actor: tokio::sync::OnceCell::new(),
        }
    }

    /// The SYSTEM user modules act as.
    pub async fn actor(&self) -> Result<&Principal, ModuleError> {
        self.actor
            .get_or_try_init(|| {
                crate::backend::services::hooks::system_principal(&self.state, self.depth)
            })
            .await
            .map_err(|e| ModuleError::Failed(e.to_string()))
    }

    /// The `Event.id` of `data` as text, if it holds an event.
    pub fn event_id(data: &Value) -> Option<String> {
        data.pointer("/Event/id").and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
    }

    /// The server context of a run, or the error a module reports without one.
    pub fn of<'a>(ctx: &'a ModuleContext<'_>) -> Result<&'a RunContext, ModuleError> {
        ctx.extension
            .and_then(|e| e.downcast_ref::<RunContext>())
            .ok_or_else(|| {
                ModuleError::Failed(format!(
                    "Module `{}` needs the server's store and cannot run here.",
                    ctx.config.id
                ))
            })
    }
}

/// The attributes a filtering module acts on (spec §5.2): the items the node's filters pick,
/// else every attribute of `Event._AttributeFlattened`.
pub(super) fn matching_attributes<'v>(
    ctx: &ModuleContext<'_>,
    view: &'v Value,
) -> Result<Vec<&'v Value>, ModuleError> {
    Ok(match ctx.filtered(view)? {
        Some(items) => items,
        None => view
            .pointer("/Event/_AttributeFlattened")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
    })
}

/// An attribute's uuid.
pub(super) fn uuid_of(a: &Value) -> Option<&str> {
    a.get("uuid").and_then(Value::as_str)
}

/// Replaces the roaming data with the stored event, in core format, keeping the keys the run
/// added at the top level (path filters, `_`-prefixed data).
pub(super) async fn reload(run: &RunContext, data: &mut RoamingData) -> Result<(), ModuleError> {
    let Some(id) = RunContext::event_id(data.raw()) else {
        return Ok(());
    };
    let fresh = events::view_event(&run.state, run.actor().await?, &id)
        .await
        .map_err(|e| ModuleError::Failed(format!("Could not reload the event: {e}")))?;
    let mut reloaded = RoamingData::core_format(fresh)
        .map_err(|e| ModuleError::Failed(format!("Could not reload the event: {e}")))?
        .into_value();
    if let (Value::Object(new), Value::Object(old)) = (&mut reloaded, data.raw()) {
        for (k, v) in old {
            if k != "Event" && !new.contains_key(k) {
                new.insert(k.clone(), v.clone());
            }
        }
    }
    data.set(reloaded);
    Ok(())
}

/// The config of an action module: `core` when it expects MISP core format, `filters` when it
/// honours the node's filtering conditions.
pub(super) fn action_config(
    id: &str,
    name: &str,
    description: &str,
    core: bool,
    filters: bool,
) -> engine::ModuleConfig {
    let mut c = engine::ModuleConfig::new(id, name, engine::ModuleKind::Action);
    c.description = description.into();
    c.icon = "edit".into();
    c.expect_misp_core_format = core;
    c.support_filters = filters;
    c
}

/// Adds the store-backed modules to `registry`.
pub fn register(registry: &mut Registry) {
    let modules: [Arc<dyn engine::Module>; 13] = [
        Arc::new(tag_operation::TagOperation::new()),
        Arc::new(edits::AttributeEditModule::ids_flag()),
        Arc::new(edits::AttributeEditModule::comment()),
        Arc::new(edits::AttributeEditModule::distribution()),
        Arc::new(edits::PublishEvent::new()),
        Arc::new(edits::ReloadFullEvent::new()),
        Arc::new(edits::AddEventBlocklistEntry::new()),
        Arc::new(edits::AddToWarninglist::new()),
        Arc::new(curation::TagReplacement::generic()),
        Arc::new(curation::TagReplacement::tlp()),
        Arc::new(curation::TagReplacement::pap()),
        Arc::new(curation::ProposalAction::new()),
        Arc::new(flow::RunWorkflow::new()),
    ];
    for m in modules {
        if let Err(e) = registry.register(m) {
            tracing::error!(error = ?e, "a store-backed module clashes with a built-in one");
        }
    }
}
