//! What `tdm serve` checks of a request before evaluating it: the bearer
//! token (in constant time, the scheme in any case), that a loopback server
//! is addressed by its own name (a web page in the user's browser cannot
//! reach it by DNS rebinding), that a POST body is declared JSON (a browser's
//! "simple" cross-site POST is text/plain or form data).

use std::net::SocketAddr;

use axum::http::{HeaderMap, Uri, header};
use subtle::ConstantTimeEq;

/// The `Authorization: Bearer <token>` header matches `token`.
pub(crate) fn authorised(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, credentials)) = given.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && bool::from(credentials.trim().as_bytes().ct_eq(token.as_bytes()))
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

/// The body is declared `application/json` (parameters allowed).
pub(crate) fn declared_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}
