//! Flowgate's workflow engine: MISP workflow graphs, validation, hash paths and execution.
//!
//! Web-free by design: no axum, leptos, sea-orm or tower. The server plugs the outside world in
//! through the traits of [`services`] and adds its action modules to the [`Registry`].
//!
//! Typical use: build one [`Engine`] at startup with [`Registry::builtin`] (plus the server's
//! modules) and [`Services`]; parse stored workflow data with [`Graph::from_value`]; check it
//! with [`validate::validate`] (or [`Engine::prepare`], which refuses an invalid graph); run it
//! with [`Engine::execute`]; run queued concurrent tasks with [`Engine::resume`].

pub mod core_format;
pub mod data;
pub mod exec;
pub mod export;
pub mod filters;
pub mod graph;
pub mod hashpath;
pub mod jinja;
pub mod module;
pub mod modules;
pub mod php;
pub mod registry;
pub mod services;
pub mod source;
pub mod validate;

pub use data::RoamingData;
pub use exec::{
    Engine, Limits, ModuleRun, NodeRun, NodeStatus, Outcome, PathType, Prepared, RunInput,
    RunReport, StatelessError, StopReason, WalkResult,
};
pub use graph::{Edge, Graph, GraphError, Node, NodeId};
pub use hashpath::{HashPath, PathError};
pub use module::{
    Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, ParamDescriptor, ParamType,
    Routing,
};
pub use registry::Registry;
pub use services::{
    Clock, ConcurrentJob, DebugSink, ModuleSwitches, RunLog, Services, TaskQueue, WorkflowInfo,
};
pub use source::EventSource;
pub use validate::{validate, Validation, ValidationError};

#[cfg(test)]
mod robustness_tests;
