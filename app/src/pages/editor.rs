//! `/workflows/editor/<id|uuid|trigger_id>`: the node editor. A palette of enabled modules and
//! blueprints, a canvas (HTML nodes, SVG bezier edges) with drag to add, connect and move,
//! box and shift selection, undo/redo, zoom/pan/fit, a minimap and auto-layout, and a side panel
//! with each node's form generated from its module's params. The graph is checked on the server
//! after every structural change (red cycles and extra connections, orange path warnings, node
//! notifications); the save sends the version it started from, so a stale save is refused.
//! Site admins only, like MISP's `workflows/editor`.
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde_json::{json, Value};

use crate::components::messages::ErrorPanel;
use crate::editor::graph::{node_height, HEADER_H, NODE_W, PORT_GAP};
use crate::editor::modules::{effective_values, value_list, value_text};
use crate::editor::{Edge, EditorGraph, History, ModuleInfo, ParamInfo};
use crate::error::AppError;
use crate::model::{BlueprintChoice, EditorCheck, EditorData, RunDetail};

#[server(endpoint = "editor/open")]
pub async fn open_workflow_editor(id: String) -> Result<EditorData, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::editor_pages::open(&state, &principal, &id).await
        }
        .await,
    )
}

#[server(endpoint = "editor/check")]
pub async fn check_workflow_graph(data: String) -> Result<EditorCheck, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::editor_pages::check(&state, &principal, &data).await
        }
        .await,
    )
}

/// Saves the graph; `timestamp` is the version the editor started from. Returns the new one.
#[server(endpoint = "editor/save")]
pub async fn save_workflow_graph(
    id: String,
    data: String,
    timestamp: i64,
) -> Result<i64, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::editor_pages::save(&state, &principal, &id, &data, timestamp)
                .await
        }
        .await,
    )
}

/// "Save selection as blueprint".
#[server(endpoint = "editor/blueprint")]
pub async fn save_selection_blueprint(
    name: String,
    description: String,
    data: String,
) -> Result<BlueprintChoice, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::editor_pages::save_blueprint(
                &state,
                &principal,
                &name,
                &description,
                &data,
            )
            .await
        }
        .await,
    )
}

/// Tag names containing `search`, for the tag pickers (20 at most; the list can be huge).
#[server(endpoint = "editor/tags")]
pub async fn suggest_tags(search: String, prefix: String) -> Result<Vec<String>, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::editor_pages::suggest_tags(
                &state, &principal, &search, &prefix,
            )
            .await
        }
        .await,
    )
}

/// Runs the saved workflow on `input` (JSON text); answers the logged run.
#[server(endpoint = "editor/run")]
pub async fn run_workflow_input(id: String, input: String) -> Result<RunDetail, AppError> {
    crate::session::respond(
        async move {
            let principal = crate::session::require_principal()?;
            let state = crate::session::app_state()?;
            crate::backend::services::editor_pages::run(&state, &principal, &id, &input).await
        }
        .await,
    )
}

#[component]
pub fn EditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let data = Resource::new(id, open_workflow_editor);
    view! {
        <Title text="Workflow editor" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <Editor data=d /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What a pointer drag is doing.
#[derive(Clone, Debug)]
enum Drag {
    /// Moving the selected nodes from where they were in `before`.
    Move {
        start: (f64, f64),
        before: EditorGraph,
        moved: bool,
    },
    /// Drawing a connection from an output port.
    Connect { from: u64, output: usize },
    /// Panning the canvas.
    Pan {
        start: (f64, f64),
        origin: (f64, f64),
    },
    /// Box selection from a canvas point.
    Select { start: (f64, f64), add: bool },
    /// Dragging a module from the palette.
    Place { module: String },
}

/// What is drawn while dragging.
#[derive(Clone, Debug, PartialEq)]
enum Ghost {
    Line { from: (f64, f64) },
    Rect { start: (f64, f64) },
    Module { name: String },
}

/// Pan (screen px) and zoom of the canvas.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Camera {
    x: f64,
    y: f64,
    zoom: f64,
}

/// What a node looks like, so moving one node re-renders only that node.
#[derive(Clone, Debug, PartialEq)]
struct Look {
    x: f64,
    y: f64,
    name: String,
    class: String,
    module_id: String,
    inputs: usize,
    outputs: usize,
    trigger: bool,
}

/// The editor's state, shared by every handler (all fields are `Copy` handles).
#[derive(Clone, Copy)]
struct Ed {
    workflow_id: StoredValue<String>,
    graph: RwSignal<EditorGraph>,
    saved: RwSignal<EditorGraph>,
    history: StoredValue<History>,
    /// Bumped on undo/redo/record so the buttons follow.
    history_version: RwSignal<u64>,
    selected: RwSignal<BTreeSet<u64>>,
    selected_edge: RwSignal<Option<Edge>>,
    camera: RwSignal<Camera>,
    drag: StoredValue<Option<Drag>>,
    ghost: RwSignal<Option<Ghost>>,
    pointer: RwSignal<(f64, f64)>,
    modules: StoredValue<Arc<HashMap<String, ModuleInfo>>>,
    blueprints: RwSignal<Vec<BlueprintChoice>>,
    check: RwSignal<EditorCheck>,
    timestamp: RwSignal<i64>,
    /// (is error, text) of the last action.
    status: RwSignal<Option<(bool, String)>>,
    saving: RwSignal<bool>,
    canvas: NodeRef<leptos::html::Div>,
    debug: RwSignal<bool>,
    last_run: RwSignal<Option<RunDetail>>,
}

const CLIPBOARD_KEY: &str = "flowgate.editor.clipboard";

impl Ed {
    /// Applies a change that undo can take back.
    fn change<R>(&self, f: impl FnOnce(&mut EditorGraph) -> R) -> R {
        let before = self.graph.get_untracked();
        let mut after = before.clone();
        let r = f(&mut after);
        if after != before {
            self.history.update_value(|h| h.record(before));
            self.graph.set(after);
            self.history_version.update(|v| *v += 1);
        }
        r
    }

    fn undo(&self) {
        let mut g = self.graph.get_untracked();
        if self.history.try_update_value(|h| h.undo(&mut g)) == Some(true) {
            self.forget_missing(&g);
            self.graph.set(g);
            self.history_version.update(|v| *v += 1);
        }
    }

    fn redo(&self) {
        let mut g = self.graph.get_untracked();
        if self.history.try_update_value(|h| h.redo(&mut g)) == Some(true) {
            self.forget_missing(&g);
            self.graph.set(g);
            self.history_version.update(|v| *v += 1);
        }
    }

    fn forget_missing(&self, g: &EditorGraph) {
        self.selected
            .update(|s| s.retain(|id| g.nodes.contains_key(id)));
        if self
            .selected_edge
            .get_untracked()
            .is_some_and(|e| !g.edges.contains(&e))
        {
            self.selected_edge.set(None);
        }
    }

    /// What node `id` did in the last run from the editor.
    fn node_run(&self, id: u64) -> Option<crate::model::RunNodeView> {
        self.last_run.with(|r| {
            r.as_ref()
                .and_then(|r| r.nodes.iter().find(|n| n.node_id == id).cloned())
        })
    }

    fn say(&self, error: bool, text: impl Into<String>) {
        self.status.set(Some((error, text.into())));
    }

    fn module(&self, id: &str) -> Option<ModuleInfo> {
        self.modules.with_value(|m| m.get(id).cloned())
    }

    /// The canvas element's top-left corner on screen and its size.
    fn canvas_rect(&self) -> (f64, f64, f64, f64) {
        self.canvas
            .get_untracked()
            .map(|c| {
                let r = c.get_bounding_client_rect();
                (r.left(), r.top(), r.width(), r.height())
            })
            .unwrap_or((0.0, 0.0, 800.0, 600.0))
    }

    /// Screen point → canvas coordinates.
    fn canvas_point(&self, client_x: f64, client_y: f64) -> (f64, f64) {
        let (left, top, ..) = self.canvas_rect();
        let c = self.camera.get_untracked();
        (
            (client_x - left - c.x) / c.zoom,
            (client_y - top - c.y) / c.zoom,
        )
    }

    fn inside_canvas(&self, client_x: f64, client_y: f64) -> bool {
        let (left, top, w, h) = self.canvas_rect();
        client_x >= left && client_x <= left + w && client_y >= top && client_y <= top + h
    }

    /// The middle of what the canvas shows, in canvas coordinates.
    fn view_center(&self) -> (f64, f64) {
        let (left, top, w, h) = self.canvas_rect();
        self.canvas_point(left + w / 2.0, top + h / 2.0)
    }

    /// Whether the last pointer position is on the part of the canvas in view.
    fn pointer_in_view(&self) -> bool {
        let (left, top, w, h) = self.canvas_rect();
        let (x0, y0) = self.canvas_point(left, top);
        let (x1, y1) = self.canvas_point(left + w, top + h);
        let (x, y) = self.pointer.get_untracked();
        x >= x0 && x <= x1 && y >= y0 && y <= y1
    }

    fn add_module(&self, module_id: &str, x: f64, y: f64) {
        let Some(m) = self.module(module_id) else {
            return;
        };
        let id = self.change(|g| g.add_node(&m, x.round(), y.round()));
        self.selected.set([id].into());
        self.selected_edge.set(None);
    }

    fn delete_selection(&self) {
        if let Some(e) = self.selected_edge.get_untracked() {
            self.change(|g| g.disconnect(&e));
            self.selected_edge.set(None);
            return;
        }
        let sel = self.selected.get_untracked();
        if sel.is_empty() {
            return;
        }
        let removed = self.change(|g| g.remove(&sel));
        if removed < sel.len() {
            self.say(
                false,
                "The trigger node stays: a workflow always starts with its trigger.",
            );
        }
        let g = self.graph.get_untracked();
        self.forget_missing(&g);
    }

    fn duplicate(&self) {
        let sel = self.selected.get_untracked();
        let added = self.change(|g| g.duplicate(&sel));
        if !added.is_empty() {
            self.selected.set(added.into_iter().collect());
        }
    }

    fn insert_nodes(&self, nodes: &[Value], at: (f64, f64)) {
        match self.change(|g| g.insert(nodes, at.0.round(), at.1.round())) {
            Ok(added) if added.is_empty() => {
                self.say(true, "Nothing to insert (trigger nodes are skipped).")
            }
            Ok(added) => {
                self.say(false, format!("Inserted {} node(s).", added.len()));
                self.selected.set(added.into_iter().collect());
            }
            Err(e) => self.say(true, format!("Could not insert: {e}")),
        }
    }

    fn copy(&self) {
        let sel = self.selected.get_untracked();
        let frag = self.graph.with_untracked(|g| g.fragment(&sel));
        if frag.is_empty() {
            return;
        }
        let n = frag.len();
        if let Some(storage) = window().local_storage().ok().flatten() {
            let _ = storage.set_item(CLIPBOARD_KEY, &Value::Array(frag).to_string());
            self.say(false, format!("Copied {n} node(s)."));
        }
    }

    fn paste(&self) {
        let Some(text) = window()
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(CLIPBOARD_KEY).ok().flatten())
        else {
            return;
        };
        if let Ok(Value::Array(nodes)) = serde_json::from_str::<Value>(&text) {
            let at = if self.pointer_in_view() {
                self.pointer.get_untracked()
            } else {
                self.view_center()
            };
            self.insert_nodes(&nodes, at);
        }
    }

    /// Zooms and pans so the whole graph shows.
    fn fit(&self) {
        let Some((x0, y0, x1, y1)) = self.graph.with_untracked(EditorGraph::bounds) else {
            return;
        };
        let (_, _, w, h) = self.canvas_rect();
        let zoom = ((w - 60.0) / (x1 - x0))
            .min((h - 60.0) / (y1 - y0))
            .clamp(0.2, 1.5);
        self.camera.set(Camera {
            x: (w - (x1 - x0) * zoom) / 2.0 - x0 * zoom,
            y: (h - (y1 - y0) * zoom) / 2.0 - y0 * zoom,
            zoom,
        });
    }

    fn zoom_at(&self, factor: f64, client: (f64, f64)) {
        let (left, top, ..) = self.canvas_rect();
        let (sx, sy) = (client.0 - left, client.1 - top);
        self.camera.update(|c| {
            let zoom = (c.zoom * factor).clamp(0.2, 2.5);
            let k = zoom / c.zoom;
            c.x = sx - (sx - c.x) * k;
            c.y = sy - (sy - c.y) * k;
            c.zoom = zoom;
        });
    }

    fn frame_selection(&self) {
        let sel = self.selected.get_untracked();
        if sel.is_empty() {
            self.say(true, "Select the nodes to frame first.");
            return;
        }
        let text = window()
            .prompt_with_message_and_default("Frame label", "Frame")
            .ok()
            .flatten();
        let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
            return;
        };
        // crypto.randomUUID exists in secure contexts only (HTTPS, localhost).
        let uuid = window()
            .is_secure_context()
            .then(|| window().crypto().ok().map(|c| c.random_uuid()))
            .flatten();
        let id = uuid.unwrap_or_else(|| {
            self.graph.with_untracked(|g| {
                let taken = |k: &str| {
                    g.frames
                        .as_ref()
                        .and_then(Value::as_object)
                        .is_some_and(|f| f.contains_key(k))
                };
                (1..)
                    .map(|n| format!("frame-{n}"))
                    .find(|k| !taken(k))
                    .unwrap_or_default()
            })
        });
        self.change(|g| {
            let mut frames = g
                .frames
                .clone()
                .and_then(|f| f.as_object().cloned())
                .unwrap_or_default();
            frames.insert(
                id.clone(),
                json!({"id": id, "text": text, "nodes": sel.iter().map(u64::to_string).collect::<Vec<_>>(), "class": ""}),
            );
            g.frames = Some(Value::Object(frames));
        });
    }

    fn save(&self) {
        if self.saving.get_untracked() {
            return;
        }
        // A field being typed in writes its value on `change`, which blurring fires now.
        if let Some(el) = document().active_element() {
            use leptos::wasm_bindgen::JsCast;
            if let Ok(el) = el.dyn_into::<leptos::web_sys::HtmlElement>() {
                let _ = el.blur();
            }
        }
        // The server decides (the live check may lag the last change by a request).
        let graph = self.graph.get_untracked();
        let data = graph.to_drawflow().to_string();
        let (id, timestamp, ed) = (
            self.workflow_id.get_value(),
            self.timestamp.get_untracked(),
            *self,
        );
        self.saving.set(true);
        leptos::task::spawn_local(async move {
            match save_workflow_graph(id, data, timestamp).await {
                Ok(t) => {
                    ed.timestamp.set(t);
                    ed.saved.set(graph);
                    ed.say(false, "Saved.");
                }
                Err(AppError::Conflict(m)) => ed.say(true, format!("Not saved: {m}")),
                Err(AppError::Rejected { message, errors }) => {
                    let more: Vec<String> = errors.into_iter().filter(|e| *e != message).collect();
                    ed.say(
                        true,
                        format!("Not saved: {message}. {}", more.join(" "))
                            .trim_end()
                            .to_owned(),
                    )
                }
                Err(e) => ed.say(true, format!("Not saved: {e}")),
            }
            ed.saving.set(false);
        });
    }

    fn on_key(&self, ev: &leptos::ev::KeyboardEvent) {
        use leptos::wasm_bindgen::JsCast;
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        // Copy and select-all act on nodes only when the key is not meant for text elsewhere
        // (a notice, the run data): the event targets the page itself or the canvas.
        let on_canvas = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .is_none_or(|e| {
                e.tag_name() == "BODY" || e.closest(".canvas").ok().flatten().is_some()
            });
        let ctrl = ev.ctrl_key() || ev.meta_key();
        let key = ev.key().to_lowercase();
        if ctrl && key == "s" {
            ev.prevent_default();
            self.save();
            return;
        }
        if typing {
            return;
        }
        let handled = match (ctrl, key.as_str()) {
            (true, "z") if ev.shift_key() => {
                self.redo();
                true
            }
            (true, "z") => {
                self.undo();
                true
            }
            (true, "y") => {
                self.redo();
                true
            }
            (true, "d") => {
                self.duplicate();
                true
            }
            (true, "c") if on_canvas => {
                self.copy();
                true
            }
            (true, "v") => {
                self.paste();
                true
            }
            (true, "a") if on_canvas => {
                self.selected.set(
                    self.graph
                        .with_untracked(|g| g.nodes.keys().copied().collect()),
                );
                true
            }
            (false, "delete") | (false, "backspace") => {
                self.delete_selection();
                true
            }
            (false, "c") => {
                self.fit();
                true
            }
            (false, "f") => {
                self.frame_selection();
                true
            }
            (false, "escape") => {
                self.selected.set(BTreeSet::new());
                self.selected_edge.set(None);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    }

    fn on_move(&self, client: (f64, f64)) {
        let p = self.canvas_point(client.0, client.1);
        self.pointer.set(p);
        // Borrowed, not cloned: a move's `before` is the whole graph.
        let moved = self.drag.with_value(|drag| match drag {
            Some(Drag::Move { start, before, .. }) => {
                let (dx, dy) = ((p.0 - start.0).round(), (p.1 - start.1).round());
                if dx == 0.0 && dy == 0.0 {
                    return false;
                }
                let sel = self.selected.get_untracked();
                self.graph.update(|g| {
                    for id in &sel {
                        if let (Some(n), Some(b)) = (g.nodes.get_mut(id), before.nodes.get(id)) {
                            n.x = b.x + dx;
                            n.y = b.y + dy;
                        }
                    }
                });
                true
            }
            Some(Drag::Pan { start, origin }) => {
                self.camera.update(|c| {
                    c.x = origin.0 + client.0 - start.0;
                    c.y = origin.1 + client.1 - start.1;
                });
                false
            }
            _ => false,
        });
        if moved {
            self.drag.update_value(|d| {
                if let Some(Drag::Move { moved, .. }) = d {
                    *moved = true;
                }
            });
        }
    }

    fn on_up(&self, client: (f64, f64), shift: bool) {
        let Some(drag) = self.drag.get_value() else {
            return;
        };
        self.drag.set_value(None);
        self.ghost.set(None);
        match drag {
            Drag::Move { before, moved, .. } => {
                // Dragged away and back: nothing to undo.
                if moved && self.graph.with_untracked(|g| *g != before) {
                    self.history.update_value(|h| h.record(before));
                    self.history_version.update(|v| *v += 1);
                }
            }
            Drag::Select { start, add } => {
                let p = self.canvas_point(client.0, client.1);
                let inside = self
                    .graph
                    .with_untracked(|g| g.nodes_in(start.0, start.1, p.0, p.1));
                self.selected.update(|s| {
                    if !(add || shift) {
                        s.clear();
                    }
                    s.extend(inside);
                });
            }
            Drag::Place { module } => {
                if self.inside_canvas(client.0, client.1) {
                    let p = self.canvas_point(client.0, client.1);
                    self.add_module(&module, p.0 - NODE_W / 2.0, p.1 - HEADER_H / 2.0);
                }
            }
            Drag::Connect { .. } | Drag::Pan { .. } => {}
        }
    }

    /// Ends a drag without dropping anything; a move done so far stays (and can be undone).
    fn cancel_drag(&self) {
        let Some(drag) = self.drag.get_value() else {
            return;
        };
        self.drag.set_value(None);
        self.ghost.set(None);
        if let Drag::Move {
            before,
            moved: true,
            ..
        } = drag
        {
            if self.graph.with_untracked(|g| *g != before) {
                self.history.update_value(|h| h.record(before));
                self.history_version.update(|v| *v += 1);
            }
        }
    }

    fn start_node_drag(&self, id: u64, ev: &leptos::ev::PointerEvent) {
        if ev.button() != 0 {
            return;
        }
        ev.stop_propagation();
        self.selected_edge.set(None);
        if ev.shift_key() {
            self.selected.update(|s| {
                if !s.remove(&id) {
                    s.insert(id);
                }
            });
        } else if !self.selected.with_untracked(|s| s.contains(&id)) {
            self.selected.set([id].into());
        }
        let start = self.canvas_point(ev.client_x() as f64, ev.client_y() as f64);
        self.drag.set_value(Some(Drag::Move {
            start,
            before: self.graph.get_untracked(),
            moved: false,
        }));
    }

    fn start_connect(&self, id: u64, output: usize, ev: &leptos::ev::PointerEvent) {
        ev.stop_propagation();
        ev.prevent_default();
        let from = self
            .graph
            .with_untracked(|g| g.nodes.get(&id).map(|n| n.output_at(output)));
        if let Some(from) = from {
            self.drag
                .set_value(Some(Drag::Connect { from: id, output }));
            self.pointer
                .set(self.canvas_point(ev.client_x() as f64, ev.client_y() as f64));
            self.ghost.set(Some(Ghost::Line { from }));
        }
    }

    fn drop_on_input(&self, id: u64, input: usize) {
        if let Some(Drag::Connect { from, output }) = self.drag.get_value() {
            self.drag.set_value(None);
            self.ghost.set(None);
            self.connect(Edge {
                from,
                output,
                to: id,
                input,
            });
        }
    }

    fn connect(&self, edge: Edge) {
        let mut refused = None;
        self.change(|g| {
            if let Err(e) = g.connect(edge) {
                refused = Some(e);
            }
        });
        match refused {
            Some(e) => self.say(true, e),
            None => self.status.set(None),
        }
    }
}

fn edge_path(a: (f64, f64), b: (f64, f64)) -> String {
    let dx = ((b.0 - a.0).abs() / 2.0).max(40.0);
    format!(
        "M {} {} C {} {}, {} {}, {} {}",
        a.0,
        a.1,
        a.0 + dx,
        a.1,
        b.0 - dx,
        b.1,
        b.0,
        b.1
    )
}

#[component]
fn Editor(data: EditorData) -> impl IntoView {
    let parsed = serde_json::from_str::<Value>(&data.data)
        .map_err(|e| e.to_string())
        .and_then(|v| EditorGraph::from_drawflow(&v));
    let graph = match parsed {
        Ok(g) => g,
        Err(e) => {
            return view! {
                <ErrorPanel error=AppError::Invalid(format!("The stored workflow cannot be opened: {e}")) />
            }
            .into_any()
        }
    };
    let modules: HashMap<String, ModuleInfo> = serde_json::from_str::<Vec<Value>>(&data.modules)
        .unwrap_or_default()
        .iter()
        .map(ModuleInfo::from_config)
        .map(|m| (m.id.clone(), m))
        .collect();
    let ed = Ed {
        workflow_id: StoredValue::new(data.workflow_id.clone()),
        graph: RwSignal::new(graph.clone()),
        saved: RwSignal::new(graph),
        history: StoredValue::new(History::default()),
        history_version: RwSignal::new(0),
        selected: RwSignal::new(BTreeSet::new()),
        selected_edge: RwSignal::new(None),
        camera: RwSignal::new(Camera {
            x: 40.0,
            y: 40.0,
            zoom: 1.0,
        }),
        drag: StoredValue::new(None),
        ghost: RwSignal::new(None),
        pointer: RwSignal::new((0.0, 0.0)),
        modules: StoredValue::new(Arc::new(modules)),
        blueprints: RwSignal::new(data.blueprints.clone()),
        check: RwSignal::new(EditorCheck::default()),
        timestamp: RwSignal::new(data.timestamp),
        status: RwSignal::new(None),
        saving: RwSignal::new(false),
        canvas: NodeRef::new(),
        debug: RwSignal::new(data.debug),
        last_run: RwSignal::new(None),
    };

    // Global pointer and key handling (client only).
    Effect::new(move |_| {
        let moves = window_event_listener(leptos::ev::pointermove, move |ev| {
            let client = (ev.client_x() as f64, ev.client_y() as f64);
            // The button was released where we did not see it (outside the window).
            if ev.buttons() == 0 && ed.drag.with_value(Option::is_some) {
                ed.on_up(client, false);
                return;
            }
            ed.on_move(client);
        });
        // Leaving the window (alt-tab) mid-drag ends the drag where it is.
        let blurs = window_event_listener(leptos::ev::blur, move |_| ed.cancel_drag());
        let ups = window_event_listener(leptos::ev::pointerup, move |ev| {
            ed.on_up((ev.client_x() as f64, ev.client_y() as f64), ev.shift_key());
        });
        let keys = window_event_listener(leptos::ev::keydown, move |ev| ed.on_key(&ev));
        on_cleanup(move || {
            blurs.remove();
            moves.remove();
            ups.remove();
            keys.remove();
        });
    });

    // Check the graph on the server whenever its structure changes (not on mere moves).
    // A fingerprint of what the check depends on (edges, nodes and their modules),
    // not positions: moving nodes does not re-check.
    let structure = Memo::new(move |_| {
        use std::hash::{Hash, Hasher};
        ed.graph.with(|g| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            let mut edges = g.edges.clone();
            edges.sort();
            edges.hash(&mut h);
            for n in g.nodes.values() {
                (n.id, n.module_id()).hash(&mut h);
            }
            h.finish()
        })
    });
    let check_seq = StoredValue::new(0u64);
    Effect::new(move |_| {
        // Read (not just track) the memo: a memo never read is never computed, so it would
        // not know its own sources.
        structure.with(|_| ());
        let data = ed.graph.with_untracked(|g| g.to_drawflow().to_string());
        check_seq.update_value(|s| *s += 1);
        let mine = check_seq.get_value();
        leptos::task::spawn_local(async move {
            let result = check_workflow_graph(data).await;
            // The page may be gone by now (`try_`: no panic on a disposed value).
            if check_seq.try_get_value() == Some(mine) {
                match result {
                    Ok(c) => ed.check.set(c),
                    Err(e) => ed.say(true, format!("The graph could not be checked: {e}")),
                }
            }
        });
    });

    let dirty = move || ed.graph.with(|g| ed.saved.with(|s| g != s));
    let can_undo = move || {
        ed.history_version.track();
        ed.history.with_value(History::can_undo)
    };
    let can_redo = move || {
        ed.history_version.track();
        ed.history.with_value(History::can_redo)
    };
    let title = format!("{} ({})", data.name, data.trigger_id);

    view! {
        <div class="editor" data-testid="editor">
            <header class="editor-bar">
                <h1 class="editor-title">{title}</h1>
                <span class="muted small">{format!("Workflow #{}", data.workflow_id)}</span>
                <div class="editor-actions" role="toolbar" aria-label="Editor actions">
                    <button type="button" class="primary" data-testid="editor-save"
                        on:click=move |_| ed.save() disabled=move || ed.saving.get()
                        title="Save (Ctrl+S)">{move || if ed.saving.get() { "Saving…" } else { "Save" }}</button>
                    <button type="button" on:click=move |_| ed.undo() disabled=move || !can_undo()
                        data-testid="editor-undo" title="Undo (Ctrl+Z)">"Undo"</button>
                    <button type="button" on:click=move |_| ed.redo() disabled=move || !can_redo()
                        data-testid="editor-redo" title="Redo (Ctrl+Shift+Z)">"Redo"</button>
                    <button type="button" on:click=move |_| ed.fit() title="Fit the graph (C)">"Fit"</button>
                    <button type="button" on:click=move |_| ed.zoom_at(1.2, center_of(ed)) title="Zoom in">"+"</button>
                    <button type="button" on:click=move |_| ed.zoom_at(1.0 / 1.2, center_of(ed)) title="Zoom out">"−"</button>
                    <button type="button" data-testid="editor-layout"
                        on:click=move |_| { ed.change(EditorGraph::auto_layout); ed.fit(); }>"Auto-layout"</button>
                    <button type="button" data-testid="editor-debug"
                        class=move || if ed.debug.get() { "toggle on" } else { "toggle" }
                        aria-pressed=move || ed.debug.get().to_string()
                        title="Debug mode: each node's data goes to the debug URL and is kept in the run log; the Run button needs it"
                        on:click=move |_| {
                            let (id, on) = (ed.workflow_id.get_value(), !ed.debug.get_untracked());
                            leptos::task::spawn_local(async move {
                                match crate::pages::triggers::toggle_debug(id, if on { "1" } else { "0" }.into()).await {
                                    Ok(()) => {
                                        ed.debug.set(on);
                                        ed.say(false, if on { "Debug mode on." } else { "Debug mode off." });
                                    }
                                    Err(e) => ed.say(true, format!("Debug mode not changed: {e}")),
                                }
                            });
                        }>{move || if ed.debug.get() { "Debug on" } else { "Debug off" }}</button>
                    <a href=format!("/workflows/view/{}.json", data.workflow_id)
                        download=format!("workflow-{}.json", data.workflow_id)>"Export saved JSON"</a>
                </div>
                <span class="editor-state" data-testid="editor-dirty">
                    {move || if dirty() { "Unsaved changes" } else { "All changes saved" }}
                </span>
            </header>
            <EditorStatus ed />
            <RunPanel ed dirty=Signal::derive(dirty) />
            <div class="editor-body">
                <Palette ed />
                <Canvas ed />
                <SidePanel ed />
            </div>
        </div>
    }
    .into_any()
}

fn center_of(ed: Ed) -> (f64, f64) {
    let (l, t, w, h) = ed.canvas_rect();
    (l + w / 2.0, t + h / 2.0)
}

#[component]
fn EditorStatus(ed: Ed) -> impl IntoView {
    view! {
        <div class="editor-status">
            {move || ed.status.get().map(|(error, text)| view! {
                <p class=if error { "flash error" } else { "flash success" }
                    role=if error { "alert" } else { "status" } data-testid="editor-message">{text}</p>
            })}
            {move || {
                let errors = ed.check.with(|c| c.errors.clone());
                (!errors.is_empty()).then(|| view! {
                    <p class="flash error" data-testid="editor-errors">
                        {format!("This graph cannot be saved: {}.", errors.join(", "))}
                    </p>
                })
            }}
        </div>
    }
}

#[component]
fn Palette(ed: Ed) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let matches = move |m: &ModuleInfo| {
        let q = search.with(|s| s.to_lowercase());
        q.is_empty() || m.name.to_lowercase().contains(&q) || m.id.to_lowercase().contains(&q)
    };
    let group = move |kind: &'static str| {
        let mut list: Vec<ModuleInfo> = ed.modules.with_value(|m| {
            m.values()
                .filter(|m| m.module_type == kind && !m.disabled)
                .filter(|m| matches(m))
                .cloned()
                .collect()
        });
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    };
    let item = move |m: ModuleInfo| {
        let id = m.id.clone();
        let drag_id = m.id.clone();
        let name = m.name.clone();
        view! {
            <li>
                <button type="button" class="palette-item" data-testid=format!("palette-{}", m.id)
                    title=m.description.clone()
                    on:pointerdown=move |ev| {
                        if ev.button() == 0 {
                            ev.prevent_default();
                            ed.drag.set_value(Some(Drag::Place { module: drag_id.clone() }));
                            ed.ghost.set(Some(Ghost::Module { name: name.clone() }));
                        }
                    }
                    on:click=move |_| {
                        let (x, y) = ed.view_center();
                        let offset = ed.graph.with_untracked(|g| g.nodes.len() as f64 * 12.0 % 120.0);
                        ed.add_module(&id, x - NODE_W / 2.0 + offset, y + offset);
                    }>
                    <span class="palette-name">{m.name.clone()}</span>
                    {m.blocking.then(|| view! { <span class="badge">"blocking"</span> })}
                </button>
            </li>
        }
    };
    let blueprint_item = move |b: BlueprintChoice| {
        let data = b.data.clone();
        view! {
            <li>
                <button type="button" class="palette-item" data-testid=format!("insert-blueprint-{}", b.id)
                    title=b.description.clone()
                    on:click=move |_| {
                        let nodes: Vec<Value> = serde_json::from_str(&data).unwrap_or_default();
                        let (x, y) = ed.view_center();
                        ed.insert_nodes(&nodes, (x - 100.0, y - 60.0));
                    }>
                    <span class="palette-name">{b.name.clone()}</span>
                </button>
            </li>
        }
    };
    view! {
        <aside class="palette" aria-label="Modules">
            <label class="palette-search">"Search"
                <input type="search" placeholder="Module or blueprint" data-testid="palette-search"
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev)) />
            </label>
            <p class="muted small">"Drag a module onto the canvas, or click it to add it."</p>
            <h2>"Logic"</h2>
            <ul class="palette-list">{move || group("logic").into_iter().map(item).collect_view()}</ul>
            <h2>"Actions"</h2>
            <ul class="palette-list">{move || group("action").into_iter().map(item).collect_view()}</ul>
            <h2>"Blueprints"</h2>
            <ul class="palette-list">
                {move || {
                    let q = search.with(|s| s.to_lowercase());
                    let list: Vec<BlueprintChoice> = ed.blueprints.with(|b| {
                        b.iter()
                            .filter(|b| q.is_empty() || b.name.to_lowercase().contains(&q))
                            .cloned()
                            .collect()
                    });
                    if list.is_empty() {
                        view! { <li class="empty">"No blueprint."</li> }.into_any()
                    } else {
                        list.into_iter().map(blueprint_item).collect_view().into_any()
                    }
                }}
            </ul>
        </aside>
    }
}

#[component]
fn Canvas(ed: Ed) -> impl IntoView {
    let node_ids = move || {
        ed.graph
            .with(|g| g.nodes.keys().copied().collect::<Vec<_>>())
    };
    let edges = move || ed.graph.with(|g| g.edges.clone());
    let world_style = move || {
        let c = ed.camera.get();
        format!(
            "transform: translate({}px, {}px) scale({})",
            c.x, c.y, c.zoom
        )
    };
    view! {
        <div class="canvas" node_ref=ed.canvas data-testid="canvas" tabindex="0"
            aria-label="Workflow canvas: drag the background to pan, shift-drag to select, wheel to zoom"
            on:pointerdown=move |ev| {
                if ev.button() != 0 {
                    return;
                }
                ev.prevent_default();
                ed.selected_edge.set(None);
                let client = (ev.client_x() as f64, ev.client_y() as f64);
                if ev.shift_key() {
                    let start = ed.canvas_point(client.0, client.1);
                    ed.pointer.set(start);
                    ed.drag.set_value(Some(Drag::Select { start, add: true }));
                    ed.ghost.set(Some(Ghost::Rect { start }));
                } else {
                    ed.selected.set(BTreeSet::new());
                    let c = ed.camera.get_untracked();
                    ed.drag.set_value(Some(Drag::Pan { start: client, origin: (c.x, c.y) }));
                }
            }
            on:wheel=move |ev| {
                ev.prevent_default();
                let factor = (-ev.delta_y() * 0.0015).exp();
                ed.zoom_at(factor, (ev.client_x() as f64, ev.client_y() as f64));
            }>
            <div class="world" style=world_style>
                <svg class="edges" width="1" height="1" overflow="visible">
                    <Frames ed />
                    <For each=edges key=|e| *e let:e>
                        <EdgeLine ed e />
                    </For>
                    {move || match ed.ghost.get() {
                        Some(Ghost::Line { from }) => {
                            let to = ed.pointer.get();
                            view! { <path class="edge ghost" d=edge_path(from, to) /> }.into_any()
                        }
                        Some(Ghost::Rect { start }) => {
                            let p = ed.pointer.get();
                            view! {
                                <rect class="box-select" x=start.0.min(p.0) y=start.1.min(p.1)
                                    width=(p.0 - start.0).abs() height=(p.1 - start.1).abs() />
                            }.into_any()
                        }
                        _ => ().into_any(),
                    }}
                </svg>
                <For each=node_ids key=|id| *id let:id>
                    <NodeBox ed id />
                </For>
            </div>
            {move || match ed.ghost.get() {
                Some(Ghost::Module { name }) => view! { <div class="place-hint">{format!("Drop to add {name}")}</div> }.into_any(),
                _ => ().into_any(),
            }}
            {move || ed.graph.with(|g| g.nodes.len() <= 1).then(|| view! {
                <p class="canvas-empty">"Drag modules from the palette to build the workflow after its trigger."</p>
            })}
            <Minimap ed />
        </div>
    }
}

#[component]
fn Frames(ed: Ed) -> impl IntoView {
    move || {
        ed.graph.with(|g| {
            let Some(Value::Object(frames)) = &g.frames else {
                return Vec::new();
            };
            frames
                .values()
                .filter_map(|f| {
                    let ids: BTreeSet<u64> = f["nodes"]
                        .as_array()?
                        .iter()
                        .filter_map(|n| value_text(n).parse().ok())
                        .collect();
                    let (x0, y0, x1, y1) = g.bounds_of(&ids)?;
                    Some((
                        value_text(&f["text"]),
                        x0 - 16.0,
                        y0 - 34.0,
                        x1 - x0 + 32.0,
                        y1 - y0 + 50.0,
                    ))
                })
                .map(|(text, x, y, w, h)| {
                    view! {
                        <g class="frame">
                            <rect x=x y=y width=w height=h rx="8" />
                            <text x=x + 10.0 y=y + 20.0>{text}</text>
                        </g>
                    }
                })
                .collect::<Vec<_>>()
        })
    }
}

#[component]
fn EdgeLine(ed: Ed, e: Edge) -> impl IntoView {
    let d = move || {
        ed.graph.with(|g| {
            let a = g.nodes.get(&e.from).map(|n| n.output_at(e.output))?;
            let b = g.nodes.get(&e.to).map(|n| n.input_at(e.input))?;
            Some(edge_path(a, b))
        })
    };
    let class = move || {
        let pair = (e.from, e.to);
        let colour = ed.check.with(|c| {
            if c.red_edges.contains(&pair) {
                " invalid"
            } else if c.orange_edges.contains(&pair) {
                " warning"
            } else {
                ""
            }
        });
        let selected = if ed.selected_edge.get() == Some(e) {
            " selected"
        } else {
            ""
        };
        format!("edge{colour}{selected}")
    };
    view! {
        <g class="edge-group" data-testid=format!("edge-{}-{}-{}-{}", e.from, e.output, e.to, e.input)>
            <path class="edge-hit" d=move || d().unwrap_or_default()
                on:pointerdown=move |ev| {
                    ev.stop_propagation();
                    ed.selected.set(BTreeSet::new());
                    ed.selected_edge.set(Some(e));
                } />
            <path class=class d=move || d().unwrap_or_default() />
        </g>
    }
}

#[component]
fn NodeBox(ed: Ed, id: u64) -> impl IntoView {
    let look = Memo::new(move |_| {
        ed.graph.with(|g| {
            g.nodes.get(&id).map(|n| Look {
                x: n.x,
                y: n.y,
                name: n.name.clone(),
                class: n.class.clone(),
                module_id: n.module_id().to_owned(),
                inputs: n.inputs,
                outputs: n.outputs,
                trigger: n.is_trigger(),
            })
        })
    });
    let notices = move || {
        ed.check.with(|c| {
            c.notices
                .iter()
                .filter(|n| n.node == id)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let selected = move || ed.selected.with(|s| s.contains(&id));
    let class = move || {
        let l = look.get();
        let severity = notices()
            .iter()
            .map(|n| if n.error { 2 } else { 1 })
            .max()
            .unwrap_or(0);
        let run = ed
            .node_run(id)
            .map(|n| format!(" run-{}", n.status.replace(' ', "-")))
            .unwrap_or_default();
        format!(
            "node {}{}{run}{}",
            l.map(|l| l.class).unwrap_or_default(),
            if selected() { " selected" } else { "" },
            match severity {
                2 => " has-error",
                1 => " has-warning",
                _ => "",
            }
        )
    };
    let style = move || {
        look.get()
            .map(|l| {
                let h = node_height(l.inputs, l.outputs);
                format!(
                    "left: {}px; top: {}px; width: {NODE_W}px; height: {h}px",
                    l.x, l.y
                )
            })
            .unwrap_or_default()
    };
    let module_info = move || look.get().and_then(|l| ed.module(&l.module_id));
    view! {
        <div class=class style=style data-testid=format!("node-{id}")
            data-module=move || look.get().map(|l| l.module_id).unwrap_or_default()
            tabindex="0" role="button" aria-pressed=move || selected().to_string()
            aria-label=move || look.get().map(|l| format!("Node {id}: {}", l.name)).unwrap_or_default()
            on:pointerdown=move |ev| ed.start_node_drag(id, &ev)
            on:keydown=move |ev| {
                if ev.key() == "Enter" || ev.key() == " " {
                    ev.prevent_default();
                    ed.selected.set([id].into());
                }
            }>
            <div class="node-title">
                <span class="node-name">{move || look.get().map(|l| l.name).unwrap_or_default()}</span>
                <span class="node-id">{format!("#{id}")}</span>
            </div>
            <div class="node-module">{move || look.get().map(|l| l.module_id).unwrap_or_default()}</div>
            {move || {
                let l = look.get()?;
                let module = module_info();
                let ins = (1..=l.inputs).map(move |i| view! {
                    <div class="port in" style=format!("top: {}px", HEADER_H + (i as f64 - 0.5) * PORT_GAP - 7.0)
                        data-testid=format!("in-{id}-{i}") title=format!("input_{i}")
                        on:pointerdown=move |ev| ev.stop_propagation()
                        on:pointerup=move |_| ed.drop_on_input(id, i)></div>
                });
                let outs = (1..=l.outputs).map(move |o| {
                    let label = module.as_ref().map(|m| m.output_label(o)).unwrap_or("");
                    view! {
                        <div class="port out" style=format!("top: {}px", HEADER_H + (o as f64 - 0.5) * PORT_GAP - 7.0)
                            data-testid=format!("out-{id}-{o}") title=format!("output_{o} {label}")
                            on:pointerdown=move |ev| ed.start_connect(id, o, &ev)>
                            <span class="port-label">{label}</span>
                        </div>
                    }
                });
                Some(view! { {ins.collect_view()} {outs.collect_view()} })
            }}
            {move || ed.node_run(id).map(|n| view! {
                <span class="node-run" data-testid=format!("node-run-{id}")>{n.status}</span>
            })}
            <ul class="node-notices">
                {move || notices().into_iter().map(|n| view! {
                    <li class=if n.error { "notice error" } else { "notice warning" } data-testid="node-notice">{n.text}</li>
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn Minimap(ed: Ed) -> impl IntoView {
    const W: f64 = 180.0;
    const H: f64 = 120.0;
    // The view rectangle needs the canvas's size, which only the browser knows: drawing it
    // after mount keeps the server's and the client's first render identical.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let frame = move || {
        let (x0, y0, x1, y1) = ed.graph.with(EditorGraph::bounds)?;
        let (x0, y0, x1, y1) = (x0 - 40.0, y0 - 40.0, x1 + 40.0, y1 + 40.0);
        let k = (W / (x1 - x0)).min(H / (y1 - y0));
        Some((x0, y0, k))
    };
    view! {
        <svg class="minimap" width=W height=H aria-hidden="true"
            on:pointerdown=move |ev| {
                ev.stop_propagation();
                let Some((x0, y0, k)) = frame() else { return };
                let (ox, oy) = (ev.offset_x() as f64, ev.offset_y() as f64);
                let (cx, cy) = (x0 + ox / k, y0 + oy / k);
                let (_, _, w, h) = ed.canvas_rect();
                ed.camera.update(|c| {
                    c.x = w / 2.0 - cx * c.zoom;
                    c.y = h / 2.0 - cy * c.zoom;
                });
            }>
            {move || {
                let (x0, y0, k) = frame()?;
                // One path for all nodes: a move updates one attribute, not 200 elements.
                let boxes = ed.graph.with(|g| {
                    use std::fmt::Write;
                    let mut d = String::with_capacity(g.nodes.len() * 40);
                    for n in g.nodes.values() {
                        let _ = write!(
                            d,
                            "M{:.1} {:.1}h{:.1}v{:.1}h{:.1}Z",
                            (n.x - x0) * k,
                            (n.y - y0) * k,
                            NODE_W * k,
                            n.height() * k,
                            -NODE_W * k
                        );
                    }
                    d
                });
                let c = ed.camera.get();
                let view_rect = mounted.get().then(|| {
                    let (_, _, w, h) = ed.canvas_rect();
                    let (vx, vy) = (-c.x / c.zoom, -c.y / c.zoom);
                    view! {
                        <rect class="mini-view" x=(vx - x0) * k y=(vy - y0) * k
                            width=w / c.zoom * k height=h / c.zoom * k />
                    }
                });
                Some(view! {
                    <path class="mini-node" d=boxes />
                    {view_rect}
                })
            }}
        </svg>
    }
}

#[component]
fn SidePanel(ed: Ed) -> impl IntoView {
    move || {
        let sel = ed.selected.get();
        match sel.len() {
            1 => {
                let id = *sel.iter().next().expect("one node");
                view! { <NodePanel ed id /> }.into_any()
            }
            0 => view! { <WorkflowPanel ed /> }.into_any(),
            n => view! { <SelectionPanel ed count=n /> }.into_any(),
        }
    }
}

#[component]
fn WorkflowPanel(ed: Ed) -> impl IntoView {
    let import = RwSignal::new(String::new());
    view! {
        <aside class="side-panel" aria-label="Workflow">
            <h2>"Workflow"</h2>
            <p class="muted small">
                {move || ed.graph.with(|g| format!("{} nodes, {} connections.", g.nodes.len(), g.edges.len()))}
            </p>
            <p class="muted small">
                "Keys: Del delete · Ctrl+Z undo · Ctrl+Shift+Z redo · Ctrl+D duplicate · Ctrl+C / Ctrl+V copy and paste (also between workflows) · Ctrl+A select all · C fit · F frame the selection · Ctrl+S save. Shift-click or shift-drag to select several nodes."
            </p>
            <h3>"Import JSON"</h3>
            <label>"A workflow export, or its graph (data), replaces the canvas (undo brings it back)"
                <textarea rows="4" data-testid="import-json" prop:value=move || import.get()
                    on:input=move |ev| import.set(event_target_value(&ev))></textarea>
            </label>
            <button type="button" on:click=move |_| {
                let parsed = serde_json::from_str::<Value>(&import.get_untracked())
                    .map_err(|e| e.to_string())
                    .and_then(|v| {
                        let data = v.pointer("/Workflow/data").cloned().unwrap_or(v);
                        let data = match data {
                            Value::String(s) => serde_json::from_str(&s).map_err(|e| e.to_string())?,
                            d => d,
                        };
                        EditorGraph::from_drawflow(&data)
                    });
                match parsed {
                    Ok(g) => {
                        ed.change(|current| *current = g);
                        ed.selected.set(BTreeSet::new());
                        ed.say(false, "Imported: check the graph and save.");
                        import.set(String::new());
                    }
                    Err(e) => ed.say(true, format!("Not imported: {e}")),
                }
            }>"Import"</button>
        </aside>
    }
}

#[component]
fn SelectionPanel(ed: Ed, count: usize) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let save_blueprint = move |_| {
        let sel = ed.selected.get_untracked();
        let frag = ed.graph.with_untracked(|g| {
            g.fragment(&sel)
                .into_iter()
                .filter(|n| n["data"]["module_type"] != "trigger")
                .collect::<Vec<_>>()
        });
        let (n, d) = (name.get_untracked(), description.get_untracked());
        if n.trim().is_empty() {
            ed.say(true, "Give the blueprint a name.");
            return;
        }
        leptos::task::spawn_local(async move {
            match save_selection_blueprint(n, d, Value::Array(frag).to_string()).await {
                Ok(b) => {
                    ed.say(false, format!("Blueprint “{}” saved.", b.name));
                    ed.blueprints.update(|list| list.push(b));
                }
                Err(e) => ed.say(true, format!("Blueprint not saved: {e}")),
            }
        });
    };
    view! {
        <aside class="side-panel" aria-label="Selection">
            <h2>{format!("{count} nodes selected")}</h2>
            <div class="button-row">
                <button type="button" on:click=move |_| ed.duplicate()>"Duplicate"</button>
                <button type="button" on:click=move |_| ed.copy()>"Copy"</button>
                <button type="button" on:click=move |_| ed.frame_selection()>"Frame"</button>
                <button type="button" class="danger" on:click=move |_| ed.delete_selection()>"Delete"</button>
            </div>
            <h3>"Save as blueprint"</h3>
            <label>"Name"
                <input type="text" data-testid="blueprint-name" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label>"Description"
                <input type="text" prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev)) />
            </label>
            <button type="button" data-testid="save-blueprint" on:click=save_blueprint>"Save blueprint"</button>
        </aside>
    }
}

#[component]
fn NodePanel(ed: Ed, id: u64) -> impl IntoView {
    let node = move || ed.graph.with(|g| g.nodes.get(&id).cloned());
    let Some(n) = node() else {
        return ().into_any();
    };
    let module = ed.module(n.module_id());
    let params = module
        .as_ref()
        .map(|m| m.params.clone())
        .unwrap_or_default();
    let support_filters = module.as_ref().is_some_and(|m| m.support_filters);
    let is_trigger = n.is_trigger();
    let outputs = n.outputs;
    let label = module
        .as_ref()
        .map(|m| m.name.clone())
        .unwrap_or_else(|| n.name.clone());
    let output_name = {
        let module = module.clone();
        move |o: usize| {
            let l = module.as_ref().map(|m| m.output_label(o)).unwrap_or("");
            if l.is_empty() {
                format!("output {o}")
            } else {
                format!("output {o} ({l})")
            }
        }
    };
    view! {
        <aside class="side-panel" aria-label="Node" data-testid="node-panel">
            <h2>{label}</h2>
            <p class="muted small"><code>{n.module_id().to_owned()}</code>{format!(" · node #{id}")}</p>
            {match &module {
                Some(m) => view! {
                    <p class="small">{m.description.clone()}</p>
                    <p class="badges">
                        {m.blocking.then(|| view! { <span class="badge">"blocking"</span> })}
                        {m.expects_core_format.then(|| view! { <span class="badge">"MISP core format"</span> })}
                        {m.disabled.then(|| view! { <span class="badge danger">"disabled"</span> })}
                        {(!m.config["version"].is_null()).then(|| view! { <span class="badge">{format!("v{}", value_text(&m.config["version"]))}</span> })}
                    </p>
                }.into_any(),
                None => view! { <p class="flash error">"This module is not known to this server: its params are kept as they are."</p> }.into_any(),
            }}
            {(!params.is_empty()).then(|| view! {
                <h3>"Parameters"</h3>
                <div class="param-form" data-testid="param-form">
                    {params.iter().cloned().map(|p| view! { <ParamField ed node=id param=p all=params.clone() /> }).collect_view()}
                </div>
            })}
            {(!is_trigger && support_filters).then(|| view! { <FilterForm ed node=id /> })}
            <NodeLastRun ed node=id />
            {(outputs > 0).then(|| view! {
                <h3>"Connections"</h3>
                {(1..=outputs).map(|o| view! { <OutputConnections ed node=id output=o name=output_name(o) /> }).collect_view()}
            })}
            <div class="button-row">
                {(!is_trigger).then(|| view! {
                    <button type="button" on:click=move |_| ed.duplicate()>"Duplicate"</button>
                    <button type="button" class="danger" data-testid="delete-node" on:click=move |_| ed.delete_selection()>"Delete"</button>
                })}
            </div>
        </aside>
    }
    .into_any()
}

/// One output's connections, with a keyboard way to add and remove them.
#[component]
fn OutputConnections(ed: Ed, node: u64, output: usize, name: String) -> impl IntoView {
    let target = RwSignal::new(String::new());
    let edges = move || {
        ed.graph.with(|g| {
            g.edges
                .iter()
                .filter(|e| e.from == node && e.output == output)
                .map(|e| {
                    (
                        *e,
                        g.nodes
                            .get(&e.to)
                            .map(|n| n.name.clone())
                            .unwrap_or_default(),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let candidates = move || {
        ed.graph.with(|g| {
            g.nodes
                .values()
                .filter(|n| n.id != node && n.inputs > 0)
                .map(|n| (n.id, format!("#{} {}", n.id, n.name)))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="connections">
            <p class="small"><strong>{name.clone()}</strong></p>
            <ul>
                {move || edges().into_iter().map(|(e, to)| view! {
                    <li>
                        {format!("→ #{} {to}", e.to)}
                        " "
                        <button type="button" class="link" on:click=move |_| { ed.change(|g| g.disconnect(&e)); }>"remove"</button>
                    </li>
                }).collect_view()}
            </ul>
            <label class="inline">{format!("Connect {name} to")}
                <select prop:value=move || target.get() on:change=move |ev| target.set(event_target_value(&ev))>
                    <option value="">"…"</option>
                    {move || candidates().into_iter().map(|(id, label)| view! { <option value=id.to_string()>{label}</option> }).collect_view()}
                </select>
            </label>
            <button type="button" on:click=move |_| {
                if let Ok(to) = target.get_untracked().parse::<u64>() {
                    ed.connect(Edge { from: node, output, to, input: 1 });
                    target.set(String::new());
                }
            }>"Connect"</button>
        </div>
    }
}

/// The hash-path quick picks of the editor (spec §8.1).
const HASHPATH_PICKS: [&str; 8] = [
    "Event._AttributeFlattened.{n}",
    "Event._AttributeFlattened.{n}.Tag.{n}.name",
    "Event.Tag.{n}.name",
    "Event.Attribute.{n}",
    "Event.Object.{n}",
    "Event._AttributeFlattened.{n}.type",
    "Event._AttributeFlattened.{n}.value",
    "Event.info",
];

#[component]
fn ParamField(ed: Ed, node: u64, param: ParamInfo, all: Vec<ParamInfo>) -> impl IntoView {
    let key = param.id.clone();
    // What the module runs with: the stored value, or else the default.
    let current = {
        let param = param.clone();
        move || {
            ed.graph.with(|g| {
                g.nodes
                    .get(&node)
                    .map(|n| param.value_in(&n.params()))
                    .filter(|v| !v.is_null())
            })
        }
    };
    let shown = {
        let param = param.clone();
        move || {
            ed.graph.with(|g| {
                g.nodes
                    .get(&node)
                    .is_some_and(|n| param.shown(&effective_values(&all, &n.params())))
            })
        }
    };
    let set = {
        let key = key.clone();
        move |v: Value| ed.change(|g| g.set_param(node, &key, v))
    };
    let input_id = format!("param-{node}-{key}");
    let label = format!(
        "{}{}",
        param.label,
        if param.jinja { " (Jinja)" } else { "" }
    );
    let field = match param.kind.as_str() {
        "textarea" => {
            let set = set.clone();
            let current = current.clone();
            view! {
                <textarea id=input_id.clone() rows="3" placeholder=param.placeholder.clone()
                    prop:value=move || current().map(|v| value_text(&v)).unwrap_or_default()
                    on:change=move |ev| set(json!(event_target_value(&ev)))></textarea>
            }
            .into_any()
        }
        "checkbox" => {
            let set = set.clone();
            let current = current.clone();
            view! {
                <input type="checkbox" id=input_id.clone()
                    prop:checked=move || current().is_some_and(|v| matches!(value_text(&v).as_str(), "1" | "true"))
                    on:change=move |ev| set(json!(event_target_checked(&ev))) />
            }
            .into_any()
        }
        "radio" => {
            let options = param.options.clone();
            let name = input_id.clone();
            view! {
                <span role="radiogroup" aria-label=label.clone()>
                    {options.into_iter().map(|(value, text)| {
                        let set = set.clone();
                        let current = current.clone();
                        let v2 = value.clone();
                        view! {
                            <label class="inline">
                                <input type="radio" name=name.clone() value=value.clone()
                                    prop:checked=move || current().map(|c| value_text(&c)) == Some(v2.clone())
                                    on:change=move |_| set(json!(value.clone())) />
                                {text}
                            </label>
                        }
                    }).collect_view()}
                </span>
            }
            .into_any()
        }
        "select" | "picker" if !param.multiple && !param.options.is_empty() => {
            let set = set.clone();
            let current = current.clone();
            let fallback = value_text(&param.default);
            view! {
                <select id=input_id.clone()
                    prop:value=move || current().map(|v| value_text(&v)).unwrap_or_else(|| fallback.clone())
                    on:change=move |ev| set(json!(event_target_value(&ev)))>
                    {param.options.iter().map(|(value, text)| view! {
                        <option value=value.clone()>{text.clone()}</option>
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        "select" | "picker" => {
            view! { <MultiPicker ed node param=param.clone() input_id=input_id.clone() /> }
                .into_any()
        }
        kind => {
            let set = set.clone();
            let current = current.clone();
            let list = (kind == "hashpath").then(|| format!("{input_id}-picks"));
            view! {
                <input type="text" id=input_id.clone() placeholder=param.placeholder.clone()
                    list=list.clone()
                    prop:value=move || current().map(|v| value_text(&v)).unwrap_or_default()
                    on:change=move |ev| set(json!(event_target_value(&ev))) />
                {list.map(|l| view! {
                    <datalist id=l>{HASHPATH_PICKS.iter().map(|p| view! { <option value=*p></option> }).collect_view()}</datalist>
                })}
            }
            .into_any()
        }
    };
    let is_group = param.kind == "radio";
    view! {
        <div class="field" data-testid=format!("param-{key}") style:display=move || if shown() { "" } else { "none" }>
            {if is_group {
                view! { <span class="field-label">{label.clone()}</span> }.into_any()
            } else {
                view! { <label for=input_id.clone() class="field-label">{label.clone()}</label> }.into_any()
            }}
            {field}
        </div>
    }
}

/// A list param: the chosen values as removable chips and a search box that suggests from the
/// module's options, or, for tag and cluster pickers, from the server as you type.
#[component]
fn MultiPicker(ed: Ed, node: u64, param: ParamInfo, input_id: String) -> impl IntoView {
    let key = param.id.clone();
    let values = {
        let key = key.clone();
        move || {
            ed.graph.with(|g| {
                g.nodes
                    .get(&node)
                    .and_then(|n| n.params().get(&key).map(value_list))
                    .unwrap_or_default()
            })
        }
    };
    let typed = RwSignal::new(String::new());
    // Tag and galaxy-cluster pickers list what the store has; MISP fills them the same way.
    let server_search =
        param.options.is_empty() && (key.contains("tag") || key.contains("cluster"));
    let suggestions = RwSignal::new(Vec::<String>::new());
    let prefix = if key.contains("cluster") {
        "misp-galaxy:"
    } else {
        ""
    };
    let list_id = format!("{input_id}-options");
    let add = {
        let key = key.clone();
        let options = param.options.clone();
        let values = values.clone();
        move |v: String| {
            let v = v.trim().to_owned();
            // A label typed from the list means its value.
            let v = options
                .iter()
                .find(|(value, label)| *label == v || *value == v)
                .map_or(v, |(value, _)| value.clone());
            if v.is_empty() {
                return;
            }
            let mut list = values();
            if !list.contains(&v) {
                list.push(v);
                ed.change(|g| g.set_param(node, &key, json!(list)));
            }
            typed.set(String::new());
        }
    };
    let remove = {
        let key = key.clone();
        let values = values.clone();
        move |v: String| {
            let list: Vec<String> = values().into_iter().filter(|x| *x != v).collect();
            ed.change(|g| g.set_param(node, &key, json!(list)));
        }
    };
    let seq = StoredValue::new(0u64);
    let options = param.options.clone();
    let add_on_enter = add.clone();
    view! {
        <div class="picker">
            <ul class="chips">
                {move || {
                    let remove = remove.clone();
                    values().into_iter().map(move |v| {
                        let remove = remove.clone();
                        let v2 = v.clone();
                        view! {
                            <li class="chip">{v.clone()}
                                <button type="button" class="link" aria-label=format!("Remove {v}")
                                    on:click=move |_| remove(v2.clone())>"×"</button>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
            <input type="text" id=input_id list=list_id.clone() placeholder=if param.placeholder.is_empty() { "Type to search, Enter to add".to_owned() } else { param.placeholder.clone() }
                prop:value=move || typed.get()
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    typed.set(text.clone());
                    if server_search && !text.is_empty() {
                        seq.update_value(|s| *s += 1);
                        let mine = seq.get_value();
                        leptos::task::spawn_local(async move {
                            if let Ok(found) = suggest_tags(text, prefix.to_owned()).await {
                                if seq.try_get_value() == Some(mine) {
                                    suggestions.set(found);
                                }
                            }
                        });
                    }
                }
                on:keydown=move |ev| {
                    if ev.key() == "Enter" {
                        ev.prevent_default();
                        add_on_enter(typed.get_untracked());
                    }
                }
                on:change=move |ev| {
                    // Picking from the list (not mere typing) adds at once.
                    let v = event_target_value(&ev);
                    let from_list = options.iter().any(|(value, label)| *value == v || *label == v)
                        || suggestions.with_untracked(|s| s.contains(&v));
                    if from_list {
                        add(v);
                    }
                } />
            <datalist id=list_id>
                {param.options.iter().map(|(value, text)| view! { <option value=value.clone()>{text.clone()}</option> }).collect_view()}
                {move || suggestions.get().into_iter().map(|s| view! { <option value=s.clone()></option> }).collect_view()}
            </datalist>
        </div>
    }
}

#[component]
fn FilterForm(ed: Ed, node: u64) -> impl IntoView {
    let field = move |key: &'static str, label: &'static str, placeholder: &'static str| {
        let current = move || {
            ed.graph.with(|g| {
                g.nodes
                    .get(&node)
                    .and_then(|n| n.filters().get(key).map(value_text))
                    .unwrap_or_default()
            })
        };
        let input_id = format!("filter-{node}-{key}");
        view! {
            <div class="field">
                <label for=input_id.clone() class="field-label">{label}</label>
                <input type="text" id=input_id placeholder=placeholder
                    prop:value=current
                    on:change=move |ev| ed.change(|g| g.set_filter(node, key, event_target_value(&ev))) />
            </div>
        }
    };
    view! {
        <h3>"Filtering conditions"</h3>
        <p class="muted small">"Only the data matching these conditions goes to this node and the ones after it."</p>
        {field("selector", "Selector (hash path)", "Event._AttributeFlattened.{n}")}
        {field("value", "Value", "tlp:white")}
        <div class="field">
            <label for=format!("filter-{node}-operator") class="field-label">"Operator"</label>
            <select id=format!("filter-{node}-operator")
                prop:value=move || ed.graph.with(|g| g.nodes.get(&node).and_then(|n| n.filters().get("operator").map(value_text)).unwrap_or_default())
                on:change=move |ev| ed.change(|g| g.set_filter(node, "operator", event_target_value(&ev)))>
                <option value="">"(none)"</option>
                {["in", "not_in", "equals", "not_equals"]
                    .into_iter().map(|o| view! { <option value=o>{o}</option> }).collect_view()}
            </select>
        </div>
        {field("path", "Path (hash path, relative to the selector)", "Tag.{n}.name")}
    }
}

/// What the node did in the editor's last run.
#[component]
fn NodeLastRun(ed: Ed, node: u64) -> impl IntoView {
    move || {
        let n = ed.node_run(node)?;
        Some(view! {
            <h3>"Last run"</h3>
            <p class="small">
                <span class=format!("outcome {}", n.status)>{n.status.clone()}</span>
                {format!(" in {:.2} ms", n.duration_ms)}
            </p>
            {(!n.errors.is_empty()).then(|| view! {
                <ul class="errors small">{n.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
            })}
            {(!n.data.is_empty()).then(|| view! {
                <details><summary>"Data after the node"</summary><pre class="run-data">{n.data.clone()}</pre></details>
            })}
        })
    }
}

/// "Run" with custom input: offered while debug mode is on, as in MISP; runs the saved
/// workflow, so it waits for unsaved changes to be saved.
#[component]
fn RunPanel(ed: Ed, dirty: Signal<bool>) -> impl IntoView {
    let input = RwSignal::new(String::from("{}"));
    let running = RwSignal::new(false);
    let run = move |_| {
        let (id, text) = (ed.workflow_id.get_value(), input.get_untracked());
        running.set(true);
        leptos::task::spawn_local(async move {
            match run_workflow_input(id, text).await {
                Ok(r) => {
                    ed.last_run.set(Some(r));
                    ed.status.set(None);
                }
                Err(e) => ed.say(true, format!("Not run: {e}")),
            }
            running.set(false);
        });
    };
    move || {
        ed.debug.get().then(|| view! {
            <details class="run-panel" data-testid="run-panel">
                <summary>"Run with custom input"</summary>
                <label>"Input (JSON, e.g. an event in MISP core format)"
                    <textarea rows="5" data-testid="run-input" prop:value=move || input.get()
                        on:input=move |ev| input.set(event_target_value(&ev))></textarea>
                </label>
                <button type="button" class="primary" data-testid="run-button" on:click=run
                    disabled=move || running.get() || dirty.get()>
                    {move || if running.get() { "Running…" } else { "Run the saved workflow" }}
                </button>
                {move || dirty.get().then(|| view! { <span class="muted small">" Save first: Run uses the saved workflow."</span> })}
                {move || ed.last_run.get().map(|r| view! {
                    <p data-testid="run-result">
                        <span class=format!("outcome {}", r.run.outcome)>{r.run.outcome.clone()}</span>
                        {format!(" in {:.2} ms. ", r.run.duration_ms)}
                        {r.run.errors.join(" ")}
                        " "
                        <a href=format!("/logs/{}", r.run.id)>"Open in Logs"</a>
                    </p>
                })}
            </details>
        })
    }
}
