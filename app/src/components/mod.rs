//! Pieces shared by several pages.
pub mod format;
pub mod graph;
pub mod layout;
pub mod messages;
