//! What `tdm serve` checks of a request before evaluating it: the bearer
//! token (in constant time, the scheme in any case), that a loopback server
//! is addressed by its own name (a web page in the user's browser cannot
//! reach it by DNS rebinding), that a POST body is declared JSON or FHIR
//! JSON (a browser's "simple" cross-site POST is text/plain or form data).

use std::net::SocketAddr;

use axum::http::{HeaderMap, Uri, header};
use subtle::ConstantTimeEq;

/// A bearer token the service accepts, and the id the audit log and the
/// log name its caller by (`token:` and the first 8 hex digits of its
/// sha256: which client system asked, without the secret).
#[derive(Debug, Clone)]
pub(crate) struct Token {
    secret: String,
    pub(crate) id: String,
}

impl Token {
    pub(crate) fn new(secret: String) -> Token {
        let id = format!("token:{}", &crate::audit::sha256(secret.as_bytes())[7..15]);
        Token { secret, id }
    }

    /// `given` is this token, compared in constant time.
    pub(crate) fn matches(&self, given: &[u8]) -> bool {
        bool::from(given.ct_eq(self.secret.as_bytes()))
    }
}

/// The token of the `Authorization: Bearer <token>` header, when it is one
/// of `tokens` (each compared in constant time, the scheme in any case).
pub(crate) fn authorised<'a>(headers: &HeaderMap, tokens: &'a [Token]) -> Option<&'a Token> {
    let given = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = given.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let credentials = credentials.trim().as_bytes();
    tokens.iter().find(|t| t.matches(credentials))
}

/// The token of a browser's cookie (set by the login page), when it is one
/// of `tokens`.
pub(crate) fn authorised_cookie<'a>(headers: &HeaderMap, tokens: &'a [Token]) -> Option<&'a Token> {
    let prefix = format!("{}=", super::web::TOKEN_COOKIE);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(prefix.as_str()))
        .find_map(|given| tokens.iter().find(|t| t.matches(given.as_bytes())))
}

/// A form post comes from this server's own pages: the browser says so
/// (`Sec-Fetch-Site: same-origin`), or its `Origin` is this host. A request
/// without either is not from a browser, and forges nothing.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    match (text("origin"), text("host")) {
        (Some(origin), Some(host)) => {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        }
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// The body is a form: `application/x-www-form-urlencoded` or
/// `multipart/form-data`.
pub(crate) fn declared_form(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|t| {
        t.eq_ignore_ascii_case("application/x-www-form-urlencoded")
            || t.eq_ignore_ascii_case("multipart/form-data")
    })
}

/// The request names this server: origin-form URI, and on a loopback
/// address a `Host` of `localhost`, `127.0.0.1` or `[::1]` with its port.
pub(crate) fn addressed_to_us(
    uri: &Uri,
    headers: &HeaderMap,
    local: SocketAddr,
) -> Result<(), String> {
    if uri.scheme().is_some() || uri.authority().is_some() {
        return Err("absolute-form request targets are not served: send the path only".into());
    }
    if !local.ip().is_loopback() {
        return Ok(());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .ok_or("the Host header is required")?;
    let port = local.port();
    let ours = [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ];
    if ours.iter().any(|o| o.eq_ignore_ascii_case(host)) {
        Ok(())
    } else {
        Err(format!(
            "Host `{host}` is not this server's address ({}); requests from other origins are refused",
            ours.join(", ")
        ))
    }
}

/// The body is declared `application/json` or `application/fhir+json`
/// (parameters allowed).
pub(crate) fn declared_json(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|t| {
        t.eq_ignore_ascii_case("application/json") || t.eq_ignore_ascii_case(FHIR_JSON)
    })
}

/// FHIR's JSON media type (R4, http.html#mime-type).
pub(crate) const FHIR_JSON: &str = "application/fhir+json";

/// The body's media type, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
}
