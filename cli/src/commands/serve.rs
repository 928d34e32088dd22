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

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Args;
use serde_json::{Value, json};
use tdm_core::{
    LoadOptions, eval::evaluate_value, reload::LivePack, reload::ReloadOutcome,
    reload::WatchOptions,
};

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
    /// Seconds a request may take before it is answered 503.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
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

struct AppState {
    live: Arc<LivePack>,
    token: Option<String>,
    timeout: Duration,
    log_ids: bool,
    max_samples: usize,
    max_body: usize,
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
    runtime.block_on(serve(addr, state, args.max_body))?;
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

async fn serve(addr: SocketAddr, state: Arc<AppState>, max_body: usize) -> Result<(), CliError> {
    let listen = |error| CliError::Listen {
        addr: addr.to_string(),
        error,
    };
    let app = Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/pack", get(pack_info))
        .route("/healthz", get(health))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    let local = listener.local_addr().map_err(listen)?;
    let _ = state.local.set(local);
    // SIGHUP forces a reload, as for other daemons. The handler is in place
    // before the server says it is listening: a SIGHUP sent right after
    // start must reload, not end the process.
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
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
    // SIGTERM (what service managers and `kill` send) shuts down like
    // SIGINT, so that the pack, and a plugin's staged copy, are dropped.
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            match term {
                Some(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        })
        .await
        .map_err(listen)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
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
    // `/healthz` tells nothing and is what a load balancer asks.
    if let Some(token) = &state.token
        && path != "/healthz"
        && !super::serve_checks::authorised(request.headers(), token)
    {
        eprintln!("{method} {path} 401 (missing or wrong bearer token)");
        return error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
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

async fn evaluate(State(state): State<Arc<AppState>>, request: Request) -> Response {
    // The body must arrive within the request's time limit: a client that
    // sends half a body and stops holds nothing for longer.
    let read = axum::body::to_bytes(request.into_body(), state.max_body);
    let body: Bytes = match tokio::time::timeout(state.timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body could not be read within --max-body: {e}"),
            );
        }
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive within the time limit",
            );
        }
    };
    let count = super::serve_checks::array_len(&body, state.max_samples);
    if count > state.max_samples {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "at most {} samples per request (--max-samples); send the rest in further requests",
                state.max_samples
            ),
        );
    }
    let value: Value = match tdm_core::input::parse_json(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not JSON: {e}"),
            );
        }
    };
    // One pack for the whole request, even if a reload happens meanwhile.
    let pack = state.live.pack();
    let log_ids = state.log_ids;
    // Set when the request times out: the work stops at the next sample.
    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = cancelled.clone();
    let work = move || {
        let results: Vec<_> = match &value {
            Value::Array(items) => items
                .iter()
                .take_while(|_| !stop.load(std::sync::atomic::Ordering::Relaxed))
                .map(|s| evaluate_value(&pack, s))
                .collect(),
            single => vec![evaluate_value(&pack, single)],
        };
        if log_ids {
            let ids: Vec<&str> = results.iter().filter_map(|r| r.id.as_deref()).collect();
            eprintln!("evaluated ids: {}", crate::output::shown(&ids.join(", ")));
        }
        // Serialised from the types, so fields keep the contract's order.
        if value.is_array() {
            serde_json::to_vec(&results)
        } else {
            serde_json::to_vec(&results[0])
        }
    };
    match tokio::time::timeout(state.timeout, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(Ok(body))) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(Ok(Err(e))) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the results: {e}"),
        ),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("evaluation failed: {e}"),
        ),
        Err(_) => {
            cancelled.store(true, std::sync::atomic::Ordering::Relaxed);
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the evaluation took longer than the time limit",
            )
        }
    }
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
