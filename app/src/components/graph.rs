//! Drawing a graph of nodes (a run's workflow, a blueprint) without any JavaScript library.
use leptos::prelude::*;

use crate::model::GraphNodeView;

/// A workflow's (or blueprint's) graph as SVG: nodes where the editor placed them, each with
/// a class for its status (`success`, `blocked`, `not run`…), edges as bezier curves.
#[component]
pub fn GraphView(nodes: Vec<GraphNodeView>, edges: Vec<(u64, u64)>) -> impl IntoView {
    if nodes.is_empty() {
        return view! { <p class="empty">"The workflow's graph is not available."</p> }.into_any();
    }
    const W: f64 = 170.0;
    const H: f64 = 46.0;
    let min_x = nodes.iter().map(|n| n.x).fold(f64::INFINITY, f64::min);
    let min_y = nodes.iter().map(|n| n.y).fold(f64::INFINITY, f64::min);
    let at = |n: &GraphNodeView| (n.x - min_x + 10.0, n.y - min_y + 10.0);
    let width = nodes.iter().map(|n| at(n).0 + W + 10.0).fold(0.0, f64::max);
    let height = nodes.iter().map(|n| at(n).1 + H + 10.0).fold(0.0, f64::max);
    let lines = edges
        .iter()
        .filter_map(|(from, to)| {
            let a = nodes.iter().find(|n| n.id == *from)?;
            let b = nodes.iter().find(|n| n.id == *to)?;
            let ((ax, ay), (bx, by)) = (at(a), at(b));
            let (sx, sy, ex, ey) = (ax + W, ay + H / 2.0, bx, by + H / 2.0);
            let dx = ((ex - sx).abs() / 2.0).max(30.0);
            Some(format!(
                "M {sx} {sy} C {} {sy}, {} {ey}, {ex} {ey}",
                sx + dx,
                ex - dx
            ))
        })
        .map(|d| view! { <path d=d class="edge" /> })
        .collect_view();
    let boxes = nodes
        .iter()
        .map(|n| {
            let (x, y) = at(n);
            let class = format!("node {}", n.status.replace(' ', "-"));
            view! {
                <g class=class data-testid=format!("graph-node-{}", n.id)>
                    <title>{format!("{} ({})", n.label, n.status)}</title>
                    <rect x=x y=y width=W height=H rx="6" />
                    <text x=x + 8.0 y=y + 19.0>{n.label.chars().take(22).collect::<String>()}</text>
                    <text x=x + 8.0 y=y + 36.0 class="status">{n.status.clone()}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="run-graph" viewBox=format!("0 0 {width} {height}") width=width height=height role="img"
            aria-label="The graph of the workflow, nodes coloured by status">
            {lines}
            {boxes}
        </svg>
    }
    .into_any()
}
