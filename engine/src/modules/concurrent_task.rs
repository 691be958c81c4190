//! `concurrent-task` (Concurrent Task 0.1, spec §5.1, §6.5). The executor queues one job per
//! connection; the module itself only says yes.

use async_trait::async_trait;

use crate::data::RoamingData;
use crate::module::{Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, Routing};

/// Splits the walk: each connection continues in a background job.
pub struct ConcurrentTask {
    config: ModuleConfig,
}

impl ConcurrentTask {
    /// The module with MISP's config (1 output, many connections).
    pub fn new() -> Self {
        let mut c = ModuleConfig::new("concurrent-task", "Concurrent Task", ModuleKind::Logic);
        c.description = "Allow breaking the execution process and running concurrent tasks. You can connect multiple nodes the `concurrent` output.".into();
        c.icon = "random".into();
        c.outputs = 1;
        c.html_template = Some("concurrent".into());
        c.multiple_output_connection = true;
        c.routing = Routing::Concurrent;
        ConcurrentTask { config: c }
    }
}

impl Default for ConcurrentTask {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Module for ConcurrentTask {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        _ctx: &ModuleContext<'_>,
        _data: &mut RoamingData,
        _errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        Ok(true)
    }
}
