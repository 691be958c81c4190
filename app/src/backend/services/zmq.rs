//! ZeroMQ publishing as MISP does it (`Plugin.ZeroMQ_enable`): the server binds one PUB socket
//! at `tcp://<Plugin.ZeroMQ_host>:<Plugin.ZeroMQ_port>` and sends `<topic> <json>` frames.
//! Published events go out on `misp_json`; the push-zmq module uses `misp_json_workflow`.
use serde_json::Value;

use super::settings::setting;
use crate::backend::entities::event;
use crate::backend::{AppState, Principal};
use crate::error::AppError;

/// The endpoint to publish on, or `None` while ZeroMQ is off.
pub async fn endpoint(state: &AppState) -> Result<Option<String>, AppError> {
    let on = setting(state, "Plugin.ZeroMQ_enable")
        .await?
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !on {
        return Ok(None);
    }
    let host = setting(state, "Plugin.ZeroMQ_host")
        .await?
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "127.0.0.1".into());
    let port = setting(state, "Plugin.ZeroMQ_port")
        .await?
        .and_then(|v| v.as_i64())
        .unwrap_or(50000);
    Ok(Some(endpoint_for(&host, port)))
}

/// `tcp://host:port` (IPv6 hosts in brackets).
pub fn endpoint_for(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("tcp://[{host}]:{port}")
    } else {
        format!("tcp://{host}:{port}")
    }
}

/// Binds the publisher at start-up when ZeroMQ is on, so subscribers can connect before the
/// first message; a failure is logged (publishing retries the bind).
pub async fn bind_if_enabled(state: &AppState) {
    match endpoint(state).await {
        Ok(Some(at)) => {
            if let Err(e) = state.workflows.zmq.bind(at.clone()).await {
                tracing::warn!(endpoint = %at, error = %e, "ZeroMQ publisher could not bind");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not read the ZeroMQ settings"),
    }
}

/// Publishes `payload` on `topic` when ZeroMQ is on; answers whether it was queued.
pub async fn publish(state: &AppState, topic: &str, payload: &Value) -> Result<bool, AppError> {
    match endpoint(state).await? {
        Some(at) => {
            state.workflows.zmq.publish(at, topic, payload);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// After `ev` was published: the full event on `misp_json`, as MISP's publish does, built in
/// the background so the publish request does not wait for it.
pub fn event_published(state: &AppState, actor: &Principal, ev: &event::Model) {
    let (state, actor, ev) = (state.clone(), actor.clone(), ev.clone());
    tokio::spawn(async move {
        let sent = async {
            if endpoint(&state).await?.is_none() {
                return Ok::<_, AppError>(());
            }
            let doc = super::hooks::full_event(&state, &actor, &ev).await?;
            publish(&state, "misp_json", &doc).await?;
            Ok(())
        };
        if let Err(e) = sent.await {
            tracing::warn!(event = ev.id, error = %e, "could not publish the event on ZeroMQ");
        }
    });
}
