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
mod enrich;
mod flow;
mod mail;
pub(crate) mod outward;
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

    /// Applies store edit `edit` of node `ctx` on `target` once per queued job: a job run again
    /// after its worker died skips the edits its earlier attempt committed (answering `None`).
    /// Outside a job, `edit` just runs.
    pub async fn once<T, Fut>(
        &self,
        ctx: &ModuleContext<'_>,
        target: &str,
        edit: Fut,
    ) -> Result<Option<T>, crate::error::AppError>
    where
        Fut: std::future::Future<Output = Result<T, crate::error::AppError>>,
    {
        let scope = format!("{}/{}/{target}", ctx.workflow.id, ctx.node.id);
        // The ledger's scope column holds 255 characters; a long one is kept as its digest.
        let scope = if scope.len() > 200 {
            use sha2::Digest;
            format!("sha256:{:x}", sha2::Sha256::digest(scope.as_bytes()))
        } else {
            scope
        };
        crate::backend::jobs::once(&self.state.db, scope, edit).await
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

/// The names a picker parameter holds (one string or a list), trimmed, without empty ones.
pub(super) fn picked(v: &Value) -> Vec<String> {
    let one = |v: &Value| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match v {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
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
    carry_annotations(data.raw(), &mut reloaded);
    data.set(reloaded);
    Ok(())
}

/// Keeps what earlier nodes added to the data and the store does not hold: top-level keys (path
/// filters, `_`-prefixed data), event keys (`warnings`) and attribute keys (`warnings`,
/// `enrichment`, matched by uuid) missing from the reloaded event.
fn carry_annotations(old: &Value, reloaded: &mut Value) {
    let Value::Object(new) = reloaded else { return };
    if let Value::Object(old) = old {
        for (k, v) in old {
            if k != "Event" && !new.contains_key(k) {
                new.insert(k.clone(), v.clone());
            }
        }
    }
    let Some(Value::Object(old_event)) = old.get("Event") else {
        return;
    };
    let Some(Value::Object(new_event)) = new.get_mut("Event") else {
        return;
    };
    for (k, v) in old_event {
        if !new_event.contains_key(k) {
            new_event.insert(k.clone(), v.clone());
        }
    }
    let old_attributes: std::collections::HashMap<&str, &serde_json::Map<String, Value>> =
        old_event
            .get("_AttributeFlattened")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| Some((uuid_of(a)?, a.as_object()?)))
            .collect();
    if old_attributes.is_empty() {
        return;
    }
    let carry = |list: &mut Value| {
        if let Value::Array(items) = list {
            for a in items {
                let Some(before) = uuid_of(a).and_then(|u| old_attributes.get(u)) else {
                    continue;
                };
                if let Value::Object(a) = a {
                    for (k, v) in before.iter() {
                        if !a.contains_key(k) {
                            a.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
    };
    for (k, v) in new_event.iter_mut() {
        match k.as_str() {
            "Attribute" | "_AttributeFlattened" => carry(v),
            "Object" => {
                if let Value::Array(objects) = v {
                    for o in objects {
                        if let Some(list) = o.get_mut("Attribute") {
                            carry(list);
                        }
                    }
                }
            }
            _ => {}
        }
    }
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
    let modules: [Arc<dyn engine::Module>; 25] = [
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
        Arc::new(enrich::AttachWarninglist::new()),
        Arc::new(enrich::AttachEnrichment::new()),
        Arc::new(enrich::EnrichEvent::new()),
        Arc::new(enrich::AssignCountry::new()),
        Arc::new(enrich::EventDistribution::new()),
        Arc::new(outward::Webhook::new()),
        Arc::new(outward::MsTeamsWebhook::new()),
        Arc::new(outward::TelegramSendAlert::new()),
        Arc::new(outward::SplunkHecExport::new()),
        Arc::new(outward::PushZmq::new()),
        Arc::new(mail::SendMail::mail()),
        Arc::new(mail::SendMail::log_mail()),
    ];
    for m in modules {
        if let Err(e) = registry.register(m) {
            tracing::error!(error = ?e, "a store-backed module clashes with a built-in one");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reload_keeps_what_earlier_nodes_attached() {
        let old = json!({"_path": 1, "Event": {"id": "1", "warnings": [{"id": "3"}],
            "Attribute": [{"uuid": "a", "value": "x", "enrichment": [1]}],
            "_AttributeFlattened": [{"uuid": "a", "value": "x", "enrichment": [1]},
                                    {"uuid": "b", "warnings": [2]}]}});
        let mut fresh = json!({"Event": {"id": "1", "Tag": [],
            "Attribute": [{"uuid": "a", "value": "y"}],
            "Object": [{"Attribute": [{"uuid": "b"}]}],
            "_AttributeFlattened": [{"uuid": "a", "value": "y"}, {"uuid": "b"}]}});
        carry_annotations(&old, &mut fresh);
        assert_eq!(fresh["_path"], 1);
        assert_eq!(fresh["Event"]["warnings"], json!([{"id": "3"}]));
        assert_eq!(
            fresh["Event"]["Attribute"][0],
            json!({"uuid": "a", "value": "y", "enrichment": [1]}),
            "stored fields win, annotations are kept"
        );
        assert_eq!(
            fresh["Event"]["Object"][0]["Attribute"][0]["warnings"],
            json!([2])
        );
        assert_eq!(
            fresh["Event"]["_AttributeFlattened"][1]["warnings"],
            json!([2])
        );
    }
}
