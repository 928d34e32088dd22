//! The web pages of `tdm serve`, for the pharmacist and the committee: the
//! same binary, the same core and the same pack as the API. Pages are
//! rendered on the server with `maud`, which escapes every text and
//! attribute; they need no JavaScript (one small script only copies the
//! Markdown for the health record) and load nothing from elsewhere: one
//! stylesheet and that script, from this server, under a strict
//! Content-Security-Policy. Forms post back to the page that shows them.
//!
//! | page | what |
//! |---|---|
//! | `/ui` | evaluate a sample: a form built from the active pack |
//! | `/ui/course` | a patient's course from pasted or uploaded samples: the report |
//! | `/ui/pack` | the pack: drugs, targets, dose levels, sources, changelog, approvals |
//! | `/ui/review` | two pack versions: the semantic diff and whose advice changes |
//! | `/ui/login` | the bearer token, asked once when the server requires one |

mod answer;
mod course;
mod evaluate;
mod fields;
mod pack_page;
mod review;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};
use tdm_core::Pack;

use super::serve::AppState;

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("page.js");

/// The cookie that carries the bearer token of a browser.
pub(crate) const TOKEN_COOKIE: &str = "tdm_token";

/// Nothing from elsewhere, no inline script or style, no framing, forms
/// only to this server.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        // Browsers ask for it on every page; there is none.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/ui", get(evaluate::form).post(evaluate::submit))
        .route("/ui/course", get(course::form).post(course::submit))
        .route("/ui/pack", get(pack_page::show))
        .route("/ui/review", get(review::form).post(review::submit))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/assets/style.css", get(|| asset(STYLE, "text/css")))
        .route(
            "/ui/assets/page.js",
            get(|| asset(SCRIPT, "text/javascript")),
        )
}

/// The path is one of the pages (which a browser asks for: a missing
/// token sends it to the login page, not a JSON 401).
pub(crate) fn is_page(path: &str) -> bool {
    path == "/" || path == "/ui" || path.starts_with("/ui/")
}

/// Pages that need no token: the login page and what it is drawn with.
pub(crate) fn is_open_page(path: &str) -> bool {
    path == "/ui/login" || path.starts_with("/ui/assets/") || path == "/favicon.ico"
}

async fn asset(text: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        text,
    )
        .into_response()
}

/// Which page the navigation marks as the current one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Evaluate,
    Course,
    Pack,
    Review,
    Login,
}

/// A whole page: the header with the navigation and the pack in use, then
/// `body`; with the headers that keep it to itself.
pub(crate) fn page(title: &str, nav: Nav, pack: Option<&Pack>, body: Markup) -> Response {
    page_with_status(StatusCode::OK, title, nav, pack, body)
}

pub(crate) fn page_with_status(
    status: StatusCode,
    title: &str,
    nav: Nav,
    pack: Option<&Pack>,
    body: Markup,
) -> Response {
    let links = [
        (Nav::Evaluate, "/ui", "Evaluate a sample"),
        (Nav::Course, "/ui/course", "A patient's course"),
        (Nav::Pack, "/ui/pack", "The pack"),
        (Nav::Review, "/ui/review", "Committee review"),
    ];
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — tdm" }
                link rel="stylesheet" href="/ui/assets/style.css";
                script src="/ui/assets/page.js" defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to the content" }
                header {
                    p class="product" { "tdm — therapeutic drug monitoring of kinase inhibitors" }
                    nav aria-label="Pages" {
                        ul {
                            @for (which, href, label) in links {
                                li {
                                    @if which == nav {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some(pack) = pack {
                        p class="pack-in-use" {
                            "Pack " strong { (pack.id().name) " " (pack.id().version) }
                            " " code { (pack.id().digest) }
                            " · " (signatures(pack))
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    let mut response = (status, axum::response::Html(markup.into_string())).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// The pack to give advice with, or the page that says why there is none
/// (its approval stopped holding).
pub(crate) fn usable_pack(
    state: &AppState,
    title: &str,
    nav: Nav,
) -> Result<Arc<Pack>, Box<Response>> {
    state.live.usable_pack().map_err(|why| {
        let pack = state.live.pack();
        Box::new(page_with_status(
            StatusCode::SERVICE_UNAVAILABLE,
            title,
            nav,
            Some(&pack),
            alert(&why),
        ))
    })
}

/// `signed: 2 valid of 2 required`, or that signatures are not required.
pub(crate) fn signatures(pack: &Pack) -> String {
    match pack.signed_by() {
        Some(s) => format!(
            "signatures: {} valid of {} required",
            s.verdict.valid, s.verdict.required
        ),
        None => "signatures not required by this server".into(),
    }
}

/// A paragraph for a problem that is not a field's.
pub(crate) fn alert(message: &str) -> Markup {
    html! { p class="alert" role="alert" { (message) } }
}

async fn login_form(State(state): State<Arc<AppState>>) -> Response {
    login_page(&state, None)
}

fn login_page(state: &AppState, problem: Option<&str>) -> Response {
    let body = html! {
        @if state.tokens.is_empty() {
            p { "This server listens on loopback and needs no token. " a href="/ui" { "Evaluate a sample" } "." }
        } @else {
            p { "This server requires a bearer token, as its API does. It is kept in a cookie for this browser only." }
            form method="post" action="/ui/login" {
                div class="field" {
                    label for="token" { "Bearer token" }
                    @if let Some(p) = problem {
                        input id="token" name="token" type="password" autocomplete="current-password"
                            aria-invalid="true" aria-describedby="token-error" required;
                        p class="error" id="token-error" { (p) }
                    } @else {
                        input id="token" name="token" type="password" autocomplete="current-password" required;
                    }
                }
                button type="submit" { "Sign in" }
            }
        }
    };
    let status = if problem.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    page_with_status(status, "Sign in", Nav::Login, None, body)
}

#[derive(serde::Deserialize)]
struct Login {
    token: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    axum::Form(given): axum::Form<Login>,
) -> Response {
    let token = given.token.trim();
    let known = state.tokens.iter().any(|t| t.matches(token.as_bytes()));
    if !known {
        return login_page(&state, Some("This is not one of the server's tokens."));
    }
    // HttpOnly: no script reads it; SameSite=Strict: no other site's page
    // sends it; Secure when TLS ends at a proxy in front, which says so.
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let cookie = format!(
        "{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}",
        if https { "; Secure" } else { "" }
    );
    let mut response = Redirect::to("/ui").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
