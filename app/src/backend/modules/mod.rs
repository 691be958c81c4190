//! Action modules that act on Flowgate's own store (spec §5.2), registered beside the engine's
//! built-in catalogue. They reach the store through [`RunContext`], the extension every run
//! from the server carries; engine tests and benches run without it, and these modules then
//! fail with a clear error.
use std::sync::Arc;

use engine::{ModuleContext, ModuleError, Registry};

use crate::backend::{AppState, Principal};

mod curation;
mod edits;
mod flow;
mod tag_operation;

/// What a module acting on the store needs: the application and the user it acts as (MISP's
/// SYSTEM user of the host organisation, spec §6.7, one chain step deeper than the run).
pub struct RunContext {
    pub state: AppState,
    pub actor: Principal,
}

impl RunContext {
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
