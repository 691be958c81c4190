//! One module per page.
pub mod adhoc;
pub mod admin;
pub mod api_keys;
pub mod blueprints;
pub mod editor;
pub mod events;
pub mod home;
pub mod login;
pub mod logs;
pub mod modules;
pub mod not_found;
pub mod settings;
pub mod triggers;
