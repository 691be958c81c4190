//! Services: permission checks, validation and writes (one transaction each). Shared by the
//! REST routes and the server functions.
pub mod accounts;
pub mod action_modules;
pub mod audit;
pub mod auth;
pub mod blueprint_pages;
pub mod blueprints;
pub mod bootstrap;
pub mod describe_types;
pub mod discussion;
pub mod enrichment;
pub mod event_pages;
pub mod events;
pub mod hooks;
pub mod input;
pub mod lists;
pub mod module_pages;
pub mod proposals;
pub mod reports;
pub mod run_pages;
pub mod runs;
pub mod search;
pub mod settings;
pub mod sharing_groups;
pub mod trigger_pages;
pub mod workflows;
pub mod zmq;
