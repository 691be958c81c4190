//! MISP answers JSON when the path ends in `.json` or the client sends
//! `Accept: application/json`. The suffix is stripped before routing so every route exists once.
use axum::extract::Request;

/// Marker extension: the client asked for JSON through the `.json` suffix.
#[derive(Clone, Copy, Debug)]
pub struct JsonRequested;

/// CakePHP named parameters that PyMISP appends to a path (`/events/add/metadata:1`,
/// `/attributes/add/5/breakOnDuplicate:0`), taken off the path before routing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedParams(pub Vec<(String, String)>);

/// A trailing `key:value` path segment (key: letters, digits, `_`, starting with a letter).
fn named_param(segment: &str) -> Option<(String, String)> {
    let (key, value) = segment.split_once(':')?;
    let mut chars = key.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| (key.to_owned(), value.to_owned()))
}

/// Takes MISP's `.json` suffix and CakePHP's trailing `key:value` segments off the path before
/// routing, and remembers both as request extensions ([`JsonRequested`], [`NamedParams`]).
pub fn strip_json_suffix(request: Request) -> Request {
    controller_alias(strip_suffix(strip_named_params(request)))
}

/// CakePHP answers a controller under its camelCase and its underscored name alike, and PyMISP
/// uses both for sharing groups (`sharingGroups/add`, `sharing_groups/view/<id>`): the camelCase
/// form is routed as the underscored one.
const CONTROLLER_ALIASES: [(&str, &str); 1] = [("/sharingGroups/", "/sharing_groups/")];

fn controller_alias(mut request: Request) -> Request {
    let path = request.uri().path();
    let Some((from, to)) = CONTROLLER_ALIASES
        .iter()
        .find(|(from, _)| path.starts_with(from))
    else {
        return request;
    };
    let rewritten = format!("{to}{}", &path[from.len()..]);
    let new_pq = match request.uri().query() {
        Some(q) => format!("{rewritten}?{q}"),
        None => rewritten,
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = new_pq.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

fn strip_named_params(mut request: Request) -> Request {
    let path = request.uri().path();
    let mut end = path.len();
    let mut params = Vec::new();
    while let Some(slash) = path[..end].rfind('/') {
        match named_param(&path[slash + 1..end]) {
            Some(p) if slash > 0 => {
                params.push(p);
                end = slash;
            }
            _ => break,
        }
    }
    if params.is_empty() {
        return request;
    }
    params.reverse();
    let new_pq = match request.uri().query() {
        Some(q) => format!("{}?{q}", &path[..end]),
        None => path[..end].to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = new_pq.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
            request.extensions_mut().insert(NamedParams(params));
        }
    }
    request
}

fn strip_suffix(mut request: Request) -> Request {
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

/// A browser navigating to a page: HTML accepted and JSON not asked for (no `.json`, no
/// `application/json` in `Accept`). Routes MISP serves as both a page and JSON
/// (`workflows/editor/<id>`, `workflows/adhoc`) answer the page only then; API clients, also
/// those that send no `Accept` at all, keep getting JSON.
pub fn wants_html(request: &Request) -> bool {
    !wants_json(request)
        && request
            .headers()
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
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
    fn camel_case_controllers_route_as_underscored_ones() {
        let req = http::Request::builder()
            .uri("/sharingGroups/view/5.json?x=1")
            .body(Body::empty())
            .unwrap();
        let req = strip_json_suffix(req);
        assert_eq!(req.uri().path(), "/sharing_groups/view/5");
        assert_eq!(req.uri().query(), Some("x=1"));
        let req = http::Request::builder()
            .uri("/events/sharingGroups/1")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            strip_json_suffix(req).uri().path(),
            "/events/sharingGroups/1"
        );
    }

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
    fn named_params_are_taken_off_the_path() {
        let req = strip_json_suffix(
            http::Request::builder()
                .uri("/attributes/add/5/breakOnDuplicate:0/metadata:1?x=1")
                .body(Body::empty())
                .unwrap(),
        );
        assert_eq!(req.uri().path(), "/attributes/add/5");
        assert_eq!(req.uri().query(), Some("x=1"));
        assert_eq!(
            req.extensions().get::<NamedParams>(),
            Some(&NamedParams(vec![
                ("breakOnDuplicate".into(), "0".into()),
                ("metadata".into(), "1".into())
            ]))
        );
        let req = strip_json_suffix(
            http::Request::builder()
                .uri("/events/index.json/limit:5")
                .body(Body::empty())
                .unwrap(),
        );
        assert_eq!(req.uri().path(), "/events/index");
        assert!(wants_json(&req));
        // A value with a colon inside a segment that is not a named param stays.
        let req = strip_json_suffix(
            http::Request::builder()
                .uri("/events/view/1:2")
                .body(Body::empty())
                .unwrap(),
        );
        assert_eq!(req.uri().path(), "/events/view/1:2");
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
