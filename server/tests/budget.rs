//! The in-flight payload budget: large authenticated requests wait for their share and are
//! answered 503 when it does not come; anonymous and small requests are never held.
mod common;

use std::time::Duration;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use server::budget::{payload_budget, PayloadBudget};
use tower::ServiceExt;

fn request(len: usize) -> http::Request<Body> {
    http::Request::post("/x")
        .header(http::header::CONTENT_LENGTH, len)
        .header(http::header::ACCEPT, "application/json")
        .body(Body::from(vec![b' '; len]))
        .unwrap()
}

#[tokio::test]
async fn large_authenticated_requests_wait_for_the_budget() {
    let app = common::spawn_sqlite().await;
    let principal = app.principal(common::ADMIN_EMAIL).await;
    let budget = PayloadBudget::new(1024 * 1024).with_wait(Duration::from_millis(200));
    let router = |signed_in: bool| {
        let principal = principal.clone();
        Router::new()
            .route("/x", post(|| async { "ran" }))
            .layer(axum::middleware::from_fn_with_state(
                budget.clone(),
                payload_budget,
            ))
            .layer(axum::middleware::from_fn(
                server::api::error::render_misp_errors,
            ))
            .layer(axum::middleware::map_request(
                move |mut r: http::Request<Body>| {
                    let principal = principal.clone();
                    async move {
                        if signed_in {
                            r.extensions_mut().insert(principal);
                        }
                        r
                    }
                },
            ))
    };
    let big = 512 * 1024;

    // With the budget free, a large request runs.
    let r = router(true).oneshot(request(big)).await.unwrap();
    assert_eq!(r.status(), 200);

    // With all of it held by another request: the large one is answered 503 after the wait...
    let held = budget.hold(1024 * 1024).await.expect("permit");
    let r = router(true).oneshot(request(big)).await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()[http::header::RETRY_AFTER], "5");
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(json["message"].as_str().unwrap().contains("busy"), "{json}");
    // ...while small and anonymous requests go through.
    assert_eq!(
        router(true).oneshot(request(1000)).await.unwrap().status(),
        200
    );
    assert_eq!(
        router(false).oneshot(request(big)).await.unwrap().status(),
        200
    );

    // A waiting request runs as soon as the holder finishes.
    let waiting = tokio::spawn(router(true).oneshot(request(big)));
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(held);
    assert_eq!(waiting.await.unwrap().unwrap().status(), 200);
}
