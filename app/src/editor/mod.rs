//! The node editor's model, free of any web type: the graph as MISP stores it and the editing
//! operations on it ([`graph`]), and what a module offers the palette and the node forms
//! ([`modules`]). The page in `pages::editor` draws it and turns input into these operations.
pub mod graph;
pub mod modules;

pub use graph::{Edge, EditorGraph, History, Node};
pub use modules::{ModuleInfo, ParamInfo};
