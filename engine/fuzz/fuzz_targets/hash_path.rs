//! Arbitrary text as a CakePHP hash path: parse it, then `extract`, `visit`, `for_each_mut` and
//! `Hash::get` it on a fixed core-format event. The visitor must yield exactly what `extract`
//! returns, in the same order.
#![no_main]

use std::ops::ControlFlow;
use std::sync::OnceLock;

use engine::hashpath::{self, HashPath, PathCache};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn fixture() -> &'static Value {
    static EVENT: OnceLock<Value> = OnceLock::new();
    EVENT.get_or_init(|| {
        let text = include_str!(
            "../../tests/fixtures/events/workflow-roaming-data_core-format-sample.json"
        );
        serde_json::from_str(text).expect("fixture is JSON")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let event = fixture();
    let _ = hashpath::get(event, text);
    let Ok(path) = HashPath::parse(text) else {
        return;
    };
    let extracted = path.extract(event);
    let mut visited = Vec::new();
    let _ = path.visit(event, &mut |v| {
        visited.push(v);
        ControlFlow::Continue(())
    });
    assert_eq!(extracted.len(), visited.len(), "visit = extract");
    assert!(extracted
        .iter()
        .zip(&visited)
        .all(|(a, b)| std::ptr::eq(*a, *b)));
    let mut first = None;
    let _ = path.visit(event, &mut |v| {
        first = Some(v);
        ControlFlow::Break(())
    });
    assert_eq!(
        first.map(|v| v as *const Value),
        extracted.first().map(|v| *v as *const Value)
    );
    let mut copy = event.clone();
    path.for_each_mut(&mut copy, &mut |v| *v = Value::Null);
    let cache = PathCache::default();
    let _ = cache.get(text);
});
