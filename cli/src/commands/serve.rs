//! `tdm serve`: evaluations over HTTP for laboratory systems, with the pack
//! reloaded when it changes (or on SIGHUP) and never served half-loaded.
//!
//! Safe defaults: loopback only unless a bearer token is configured, a body
//! limit, a time limit per request, and logs without sample values or
//! patient identifiers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Args;
use serde_json::json;
use tdm_core::{LoadOptions, reload::LivePack, reload::ReloadOutcome, reload::WatchOptions};

use crate::context::{self, CliError};
use crate::exit::Exit;

/// Arguments of `tdm serve`.
#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The pack directory.
    #[arg(long, value_name = "DIR")]
    pub pack: PathBuf,
    /// Address to listen on. A non-loopback address needs --token-file.
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub addr: String,
    /// File holding the bearer token every request must carry.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub max_body: usize,
    /// Seconds a request may take: its body must arrive in this time (else
    /// 408); one sample is answered 503 after it, and the samples of an
    /// array whose turn comes after it get `error_code: time_limit`.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Seconds a connection may wait for a request's headers, before its
    /// first request and between keep-alive requests; then it is closed.
    #[arg(long, default_value_t = 60)]
    pub idle_timeout: u64,
    /// Most samples in one request; a larger array is answered 413.
    #[arg(long, default_value_t = 10_000)]
    pub max_samples: usize,
    /// Poll every MS milliseconds instead of using file-system events.
    #[arg(long, value_name = "MS")]
    pub poll: Option<u64>,
    /// Log sample ids (never values or patients) with each request.
    #[arg(long)]
    pub log_ids: bool,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}

pub(crate) struct AppState {
    pub(crate) live: Arc<LivePack>,
    token: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) log_ids: bool,
    pub(crate) max_samples: usize,
    pub(crate) max_body: usize,
    idle: Duration,
    /// The address the server listens on, once bound.
    local: std::sync::OnceLock<SocketAddr>,
}

pub(crate) fn run(args: &ServeArgs) -> Result<Exit, CliError> {
    let addr: SocketAddr = args
        .addr
        .parse()
        .map_err(|e| CliError::Usage(format!("--addr `{}` is not an address: {e}", args.addr)))?;
    let token = match &args.token_file {
        None => None,
        Some(path) => Some(read_token(path)?),
    };
    if !addr.ip().is_loopback() && token.is_none() {
        return Err(CliError::Usage(format!(
            "refusing to listen on {addr} without a bearer token: give --token-file FILE, \
             or listen on a loopback address such as 127.0.0.1:7878"
        )));
    }
    let options = LoadOptions {
        plugins: context::plugins(args.allow_plugins),
    };
    let live = LivePack::load(&args.pack, options)?;
    let watch_options = WatchOptions {
        debounce: Duration::from_millis(100),
        poll: args.poll.map(Duration::from_millis),
    };
    let _watcher =
        tdm_core::reload::watch(live.clone(), watch_options, log_reload).map_err(|message| {
            CliError::Open {
                path: args.pack.display().to_string(),
                error: std::io::Error::other(message),
            }
        })?;
    let state = Arc::new(AppState {
        live,
        token,
        timeout: Duration::from_secs(args.timeout),
        log_ids: args.log_ids,
        max_samples: args.max_samples,
        max_body: args.max_body,
        idle: Duration::from_secs(args.idle_timeout),
        local: std::sync::OnceLock::new(),
    });
    let listen = |error| CliError::Listen {
        addr: args.addr.clone(),
        error,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(listen)?;
    runtime.block_on(serve(addr, state))?;
    Ok(Exit::Ok)
}

fn read_token(path: &Path) -> Result<String, CliError> {
    match std::fs::read_to_string(path).map(|t| t.trim().to_owned()) {
        Ok(t) if !t.is_empty() => Ok(t),
        Ok(_) => Err(CliError::Usage(format!(
            "the token file `{}` is empty",
            path.display()
        ))),
        Err(e) => Err(CliError::Usage(format!(
            "cannot read the token file `{}`: {e}",
            path.display()
        ))),
    }
}

fn log_reload(outcome: &ReloadOutcome) {
    match outcome {
        ReloadOutcome::Reloaded {
            old_digest,
            new_digest,
        } => eprintln!("reload: {old_digest} -> {new_digest}"),
        ReloadOutcome::Unchanged => eprintln!("reload: no change in content"),
        ReloadOutcome::Failed(message) => {
            eprintln!(
                "reload refused, the last good pack stays: {}",
                message.lines().next().unwrap_or("")
            );
        }
    }
}

async fn serve(addr: SocketAddr, state: Arc<AppState>) -> Result<(), CliError> {
    let listen = |error| CliError::Listen {
        addr: addr.to_string(),
        error,
    };
    let app = Router::new()
        .route("/v1/evaluate", post(super::serve_eval::evaluate))
        .route("/v1/pack", get(pack_info))
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.max_body))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    let local = listener.local_addr().map_err(listen)?;
    let _ = state.local.set(local);
    // SIGHUP forces a reload, as for other daemons. The handler is in place
    // before the server says it is listening: a SIGHUP sent right after
    // start must reload, not end the process.
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    // SIGTERM shuts down like SIGINT, so that the pack, and a plugin's
    // staged copy, are dropped.
    let stop = super::serve_http::stop_signal();
    println!("listening on http://{local}");
    eprintln!(
        "serving pack {} from {}",
        state.live.pack().id().digest,
        state.live.dir().display()
    );
    let live = state.live.clone();
    tokio::spawn(async move {
        if let Some(mut hup) = hangup {
            while hup.recv().await.is_some() {
                let live = live.clone();
                if let Ok(outcome) = tokio::task::spawn_blocking(move || live.reload()).await {
                    log_reload(&outcome);
                }
            }
        }
    });
    super::serve_http::serve(listener, app, state.idle, stop).await;
    Ok(())
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Bearer token (when configured) and one log line per request, without
/// sample values or patient identifiers.
async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let path = crate::output::shown(&path).into_owned();
    if let Some(local) = state.local.get()
        && let Err(why) =
            super::serve_checks::addressed_to_us(request.uri(), request.headers(), *local)
    {
        eprintln!("{method} {path} 400 (not addressed to this server)");
        return error(StatusCode::BAD_REQUEST, why);
    }
    // `/healthz` and `/readyz` tell nothing and are what a load balancer
    // and an orchestrator ask.
    if let Some(token) = &state.token
        && path != "/healthz"
        && path != "/readyz"
        && !super::serve_checks::authorised(request.headers(), token)
    {
        eprintln!("{method} {path} 401 (missing or wrong bearer token)");
        let mut refused = error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
        // RFC 6750 §3: a 401 names the scheme the client must use.
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"tdm\""),
        );
        return refused;
    }
    // A declared length beyond the limit is refused at once, not waited for.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_body as u64) {
        eprintln!("{method} {path} 413 (declared body above --max-body)");
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body may be at most {} bytes (--max-body)",
                state.max_body
            ),
        );
    }
    if method == axum::http::Method::POST && !super::serve_checks::declared_json(request.headers())
    {
        eprintln!("{method} {path} 415 (not declared application/json)");
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be sent as Content-Type: application/json",
        );
    }
    let response = next.run(request).await;
    eprintln!(
        "{method} {path} {} {:.1} ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

async fn pack_info(State(state): State<Arc<AppState>>) -> Response {
    let pack = state.live.pack();
    let status = state.live.status();
    Json(json!({
        "name": pack.id().name,
        "version": pack.id().version,
        "digest": pack.id().digest,
        "loaded_at": status.loaded_at,
        "last_reload_error": status.last_reload_error,
    }))
    .into_response()
}

async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Ready to answer: a valid pack is always active once the service listens
/// (it starts only with one, and a reload that fails keeps the last good
/// one); a pack refused for its signature will be the case to answer 503.
async fn ready() -> Response {
    Json(json!({ "status": "ready" })).into_response()
}

const ROUTES: &str = "POST /v1/evaluate, GET /v1/pack, GET /healthz, GET /readyz";

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no such route: {} (the API has {ROUTES})",
            crate::output::shown(request.uri().path())
        ),
    )
}

async fn method_not_allowed(request: Request) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {} (the API has {ROUTES})",
            request.method(),
            crate::output::shown(request.uri().path())
        ),
    )
}
