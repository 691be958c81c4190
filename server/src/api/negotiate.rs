//! MISP answers JSON when the path ends in `.json` or the client sends
//! `Accept: application/json`. The suffix is stripped before routing so every route exists once.
use axum::extract::Request;

/// Marker extension: the client asked for JSON through the `.json` suffix.
#[derive(Clone, Copy, Debug)]
pub struct JsonRequested;

pub fn strip_json_suffix(mut request: Request) -> Request {
    let path = request.uri().path();
    if let Some(stripped) = path
        .strip_suffix(".json")
        .filter(|p| !p.is_empty() && !p.starts_with("/pkg/"))
    {
        let new_pq = match request.uri().query() {
            Some(q) => format!("{stripped}?{q}"),
            None => stripped.to_owned(),
        };
        let mut parts = request.uri().clone().into_parts();
        if let Ok(pq) = new_pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
                request.extensions_mut().insert(JsonRequested);
            }
        }
    }
    request
}

/// Whether a request wants a JSON answer (suffix or `Accept`).
pub fn wants_json(request: &Request) -> bool {
    request.extensions().get::<JsonRequested>().is_some()
        || request
            .headers()
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn json_suffix_is_stripped_and_remembered() {
        let req = http::Request::builder()
            .uri("/users/view/me.json?x=1")
            .body(Body::empty())
            .unwrap();
        let req = strip_json_suffix(req);
        assert_eq!(req.uri().path(), "/users/view/me");
        assert_eq!(req.uri().query(), Some("x=1"));
        assert!(wants_json(&req));
    }

    #[test]
    fn other_paths_are_untouched() {
        let req = strip_json_suffix(
            http::Request::builder()
                .uri("/users/view/me")
                .body(Body::empty())
                .unwrap(),
        );
        assert_eq!(req.uri().path(), "/users/view/me");
        assert!(!wants_json(&req));
    }
}
