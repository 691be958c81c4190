//! The in-flight payload budget: at most `FLOWGATE_INFLIGHT_MB` of request bodies are being
//! handled at once; further requests wait (their bodies stay in the socket) until earlier ones
//! finish.
//!
//! A MISP event of 10,000 attributes is about 6 MB of JSON and several times that once parsed;
//! sixteen of them handled at once on two cores take no less time than four at a time, but hold
//! four times the memory. The budget bounds memory by the bytes in flight, not by a request
//! count, so small requests are never held up by the limit meant for large ones: each request
//! takes its `Content-Length` from the budget (a chunked body, whose size is unknown, 1 MiB), at
//! most the whole budget. Only authenticated requests are counted, so an anonymous client cannot
//! hold the budget; one that waits longer than a minute is answered 503 with `Retry-After`.
use std::sync::Arc;

use app::backend::Principal;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::api::error::ApiError;

/// Bodies at or under this size are not counted: they cost next to nothing.
const FREE_BYTES: u64 = 64 * 1024;
/// What a body of unknown size counts as.
const UNKNOWN_SIZE: u64 = 1024 * 1024;
/// How long a request waits for its share before it is answered 503.
const WAIT_AT_MOST: std::time::Duration = std::time::Duration::from_secs(60);

/// The budget, in KiB permits.
#[derive(Clone)]
pub struct PayloadBudget {
    permits: Arc<Semaphore>,
    total_kib: u32,
    wait: std::time::Duration,
}

impl PayloadBudget {
    pub fn new(bytes: usize) -> Self {
        let total_kib = u32::try_from(bytes / 1024).unwrap_or(u32::MAX).max(1);
        Self {
            permits: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
            wait: WAIT_AT_MOST,
        }
    }

    /// The same budget with requests answered 503 after waiting `wait` (default one minute).
    pub fn with_wait(mut self, wait: std::time::Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Takes `bytes` of the budget until the permit is dropped (what a large request holds).
    pub async fn hold(&self, bytes: u64) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.permits
            .clone()
            .acquire_many_owned(self.cost(Some(bytes)))
            .await
            .ok()
    }

    /// The permits a body of `len` bytes (or unknown) takes.
    fn cost(&self, len: Option<u64>) -> u32 {
        let len = len.unwrap_or(UNKNOWN_SIZE);
        if len <= FREE_BYTES {
            return 0;
        }
        u32::try_from(len.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .min(self.total_kib)
    }
}

pub async fn payload_budget(
    State(budget): State<PayloadBudget>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let len = match headers.get(http::header::CONTENT_LENGTH) {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0),
        ),
        None if headers.contains_key(http::header::TRANSFER_ENCODING) => None,
        None => Some(0),
    };
    // Only authenticated requests take from the budget: an anonymous client must not be able
    // to hold it (the routes open to them, login and the like, read small bodies).
    let cost = if request.extensions().get::<Principal>().is_some() {
        budget.cost(len)
    } else {
        0
    };
    if cost == 0 {
        return next.run(request).await;
    }
    match tokio::time::timeout(budget.wait, budget.permits.acquire_many(cost)).await {
        Ok(permit) => {
            // The semaphore is never closed; were it, the request would run unbudgeted.
            let _permit = permit.ok();
            next.run(request).await
        }
        Err(_) => {
            let mut response = ApiError::new(
                http::StatusCode::SERVICE_UNAVAILABLE,
                "The server is busy with other large requests: try again shortly.",
            )
            .into_response();
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("5"),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PayloadBudget;

    #[test]
    fn costs_are_sizes_in_kib_capped_by_the_budget() {
        let b = PayloadBudget::new(32 * 1024 * 1024);
        assert_eq!(b.cost(Some(0)), 0);
        assert_eq!(b.cost(Some(64 * 1024)), 0, "small bodies are free");
        assert_eq!(b.cost(Some(64 * 1024 + 1)), 65);
        assert_eq!(b.cost(Some(6_300_000)), 6153);
        assert_eq!(
            b.cost(Some(100 * 1024 * 1024)),
            32 * 1024,
            "at most the whole budget"
        );
        assert_eq!(b.cost(None), 1024, "unknown size");
    }
}
