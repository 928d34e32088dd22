//! What every request passes before its route: that it is addressed to
//! this server, the bearer token (when configured), the declared body size
//! and type; then one log line per request, without sample values or
//! patient identifiers. The caller it establishes (a token's id, or
//! `loopback`) travels with the request to the audit log.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::serve::{AppState, error};
use super::serve_checks::{
    addressed_to_us, authorised, authorised_cookie, declared_form, declared_json, same_origin,
};
use super::serve_log::{self as log, RequestLine};
use super::web;

/// Who asked, as the logs name them.
#[derive(Clone, Debug)]
pub(crate) struct Caller(pub String);

/// The header that carries a decision's id in the answer.
pub(crate) const DECISION_ID: &str = "x-decision-id";

pub(crate) async fn guard(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = crate::output::shown(request.uri().path()).into_owned();
    let refuse = |status: StatusCode, why: &str, message: String| {
        log::request(&RequestLine {
            method: method.as_str(),
            path: &path,
            status: status.as_u16(),
            ms: None,
            why: Some(why),
            caller: None,
            decision_id: None,
        });
        error(status, message)
    };
    if let Some(local) = state.local.get()
        && let Err(why) = addressed_to_us(request.uri(), request.headers(), *local)
    {
        return refuse(StatusCode::BAD_REQUEST, "not addressed to this server", why);
    }
    // `/healthz` and `/readyz` tell nothing and are what a load balancer
    // and an orchestrator ask.
    let open = path == "/healthz" || path == "/readyz" || web::is_open_page(&path);
    let page = web::is_page(&path);
    let cookie = || {
        page.then(|| authorised_cookie(request.headers(), &state.tokens))
            .flatten()
    };
    let caller = if state.tokens.is_empty() {
        "loopback".to_owned()
    } else if let Some(token) = authorised(request.headers(), &state.tokens).or_else(cookie) {
        token.id.clone()
    } else if open {
        "anonymous".to_owned()
    } else if page {
        // A browser without the token is sent to the page that asks for it.
        log::request(&RequestLine {
            method: method.as_str(),
            path: &path,
            status: 303,
            ms: None,
            why: Some("a page without the token"),
            caller: None,
            decision_id: None,
        });
        return Redirect::to("/ui/login").into_response();
    } else {
        let mut refused = refuse(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token",
            "missing or wrong bearer token".into(),
        );
        // RFC 6750 §3: a 401 names the scheme the client must use.
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"tdm\""),
        );
        return refused;
    };
    // A declared length beyond the limit is refused at once, not waited for.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_body as u64) {
        let message = format!(
            "the body may be at most {} bytes (--max-body)",
            state.max_body
        );
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "declared body above --max-body",
            message,
        );
    }
    if method == Method::POST && page {
        // The pages' forms: only from the pages themselves, never from
        // another site's page in the same browser.
        if !declared_form(request.headers()) {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a page's post not declared a form",
                "a page's form is sent as application/x-www-form-urlencoded or multipart/form-data"
                    .into(),
            );
        }
        if !same_origin(request.headers()) {
            return refuse(
                StatusCode::FORBIDDEN,
                "a form posted from another site",
                "a form may be posted only from this server's own pages".into(),
            );
        }
    } else if method == Method::POST && !declared_json(request.headers()) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not declared application/json",
            "the body must be sent as Content-Type: application/json (or application/fhir+json)"
                .into(),
        );
    }
    request.extensions_mut().insert(Caller(caller.clone()));
    let response = next.run(request).await;
    let decision_id = response
        .headers()
        .get(DECISION_ID)
        .and_then(|v| v.to_str().ok());
    log::request(&RequestLine {
        method: method.as_str(),
        path: &path,
        status: response.status().as_u16(),
        ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        why: None,
        caller: Some(&caller),
        decision_id,
    });
    response
}
