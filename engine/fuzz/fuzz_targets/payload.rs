//! Arbitrary JSON as hook data: the MISP core format (eager `convert` and the lazy
//! `RoamingData::core_format` must agree), then the publish-gate workflow on it, once from raw
//! data and once from the eagerly built core format; both runs must end the same way.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use async_trait::async_trait;
use engine::graph::{KeyedValues, Port};
use engine::{
    core_format, Engine, Graph, Module, ModuleConfig, ModuleContext, ModuleError, ModuleKind, Node,
    NodeId, Prepared, Registry, RoamingData, RunInput, Services, WorkflowInfo,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Webhook stand-in that reads the whole document, as a real webhook serialising it would.
struct ReadAll {
    config: ModuleConfig,
}

#[async_trait]
impl Module for ReadAll {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }
    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        _: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        Ok(ctx.view(data)?.is_object())
    }
}

fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    struct W(std::thread::Thread);
    impl Wake for W {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(W(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

fn node(id: u64, module: &str, params: Value, reg: &Registry) -> Node {
    let mut n = Node::new(NodeId(id), module);
    n.params = KeyedValues::from_value(&params);
    if let Some(c) = reg.get(module).map(|m| m.config()) {
        n.module_type = Some(c.kind.as_str().into());
        for i in 1..=c.inputs {
            n.inputs.ports.push(Port {
                name: format!("input_{i}"),
                extra: Default::default(),
            });
        }
        for o in 1..=c.outputs {
            n.outputs.ports.push(Port {
                name: format!("output_{o}"),
                extra: Default::default(),
            });
        }
    }
    n
}

/// event-publish → IF::Tag tlp:red (event_attribute) → stop-execution; else → IF::Tag
/// tlp:white (attribute) → webhook; plus an IF::Tag on the event scope with `in_and`.
fn gate() -> &'static (Engine, Prepared) {
    static GATE: OnceLock<(Engine, Prepared)> = OnceLock::new();
    GATE.get_or_init(|| {
        let mut reg = Registry::builtin();
        let mut c = ModuleConfig::new("webhook", "Webhook", ModuleKind::Action);
        c.version = "0.7".into();
        reg.register(Arc::new(ReadAll { config: c }))
            .expect("unique id");
        let reg = Arc::new(reg);
        let mut g = Graph::default();
        let nodes = [
            node(1, "event-publish", json!([]), &reg),
            node(
                2,
                "tag-if",
                json!({"scope": "event_attribute", "condition": "in_or", "tags": ["tlp:red"]}),
                &reg,
            ),
            node(
                3,
                "stop-execution",
                json!({"message": "tlp:red data"}),
                &reg,
            ),
            node(
                4,
                "tag-if",
                json!({"scope": "attribute", "condition": "in_or", "tags": ["tlp:white"]}),
                &reg,
            ),
            node(
                5,
                "tag-if",
                json!({"scope": "event", "condition": "not_in_and", "tags": ["a", "1"]}),
                &reg,
            ),
            node(6, "webhook", json!({}), &reg),
        ];
        for n in nodes {
            g.add_node(n).expect("unique");
        }
        g.connect(NodeId(1), "output_1", NodeId(2), "input_1");
        g.connect(NodeId(2), "output_1", NodeId(3), "input_1");
        g.connect(NodeId(2), "output_2", NodeId(4), "input_1");
        g.connect(NodeId(4), "output_1", NodeId(5), "input_1");
        g.connect(NodeId(5), "output_1", NodeId(6), "input_1");
        let engine = Engine::new(reg, Services::noop());
        let wf = WorkflowInfo {
            id: 1,
            uuid: "u".into(),
            name: "gate".into(),
            trigger_id: "event-publish".into(),
            debug_enabled: false,
        };
        let prepared = engine.prepare(wf, g).expect("valid gate");
        (engine, prepared)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let eager = core_format::convert(raw.clone());
    let lazy = RoamingData::core_format(raw.clone());
    match (&eager, &lazy) {
        (Ok(e), Ok(l)) => assert_eq!(l.raw(), e, "lazy core format = convert"),
        (Err(e), Err(l)) => assert_eq!(e, l),
        _ => panic!("convert and RoamingData::core_format disagree"),
    }
    let (engine, prepared) = gate();
    let from_raw = block_on(engine.execute(prepared, RunInput::Raw(raw), None));
    if let Ok(built) = eager {
        let from_built = block_on(engine.execute(prepared, RunInput::Normalized(built), None));
        assert_eq!(from_raw.outcome, from_built.outcome);
        assert_eq!(from_raw.walk, from_built.walk);
        assert_eq!(from_raw.errors, from_built.errors);
        assert_eq!(from_raw.data, from_built.data);
    }
});
